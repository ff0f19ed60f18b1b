"""Each row check refuses the row it should, names the field and value, and keeps the good rows beside it;
odd values of a real order store it with a warning instead."""

import pytest

from analytics import importer

HEADER = "order_id,placed_at,payment_method,amount,paid_at,shipped_at,delivered_at,cancel_requested_at,refund_amount,refund_initiated_at,refund_completed_at\n"
GOOD = "G1,2026-06-01 10:00,card,10,2026-06-01 10:05,2026-06-02 10:00,2026-06-10 10:00,,,,\n"


def _import(con, tmp_path, bad_row, good_after=True):
    path = tmp_path / "export.csv"
    path.write_text(HEADER + GOOD + bad_row + ("G2,2026-06-01 11:00,card,5,,,,,,,\n" if good_after else ""))
    return importer.import_files(con, [path])


CASES = [
    ("B,,card,10,,,,,,,\n", "placed_at: missing (required)", "placed_at: missing"),
    (",2026-06-01 10:00,card,10,,,,,,,\n", "order_id: missing (required)", "order_id: missing"),
    ("B,2026-06-01 10:00,card,,,,,,,,\n", "amount: missing (required)", "amount: missing"),
    ("B,2026-06-31 10:00,card,10,,,,,,,\n", "placed_at: not a timestamp", "'2026-06-31 10:00'"),
    ("B,2026-06-01 10:00,card,ten,,,,,,,\n", "amount: not a number", "'ten'"),
    ("B,2026-06-01 10:00,card,-3,,,,,,,\n", "amount: negative", "-3"),
    ("G1,2026-06-01 10:00,card,10,,,,,,,\n", "order_id: seen earlier in the file", "line 2"),
    ("B,2026-06-01 10:00,card,NaN,,,,,,,\n", "amount: not a number", "'NaN'"),
    ("B,2026-06-01 10:00,card,inf,,,,,,,\n", "amount: not a number", "'inf'"),
    ("B,2026-06-01 10:00,card,10,,,,,10,2026-06-05 10:00,2026-06-04 10:00\n",
     "refund_completed_at: before refund_initiated_at", "2026-06-04 10:00:00"),
    ("B,2026-06-01 10:00,card,10,,,,,12.5,,\n", "refund_amount: larger than the order", "12.5"),
]


@pytest.mark.parametrize(("row", "reason", "value"), CASES, ids=[c[1] for c in CASES])
def test_a_bad_row_is_refused_with_its_reason_and_the_good_rows_are_stored(con, tmp_path, row, reason, value):
    result = _import(con, tmp_path, row)
    assert result.stored == 2
    assert result.refused == 1
    assert result.refused_by_reason == {reason: 1}
    line, field, stored_reason, message, raw = con.execute(
        "SELECT line_number, field, reason, message, raw FROM refused_rows WHERE dataset_id = ?",
        [result.dataset.id]).fetchone()
    assert line == 3  # header is line 1, the good row line 2
    assert field == reason.split(":")[0]
    assert stored_reason == reason
    assert value in message
    assert '"order_id"' in raw
    ids = {r[0] for r in con.execute("SELECT order_id FROM orders WHERE dataset_id = ?", [result.dataset.id]).fetchall()}
    assert ids == {"G1", "G2"}


WARNINGS = [
    ("B,2026-06-01 10:00,card,10,2026-06-01 09:00,,,,,,\n", "paid_at: before placed_at", "2026-06-01 09:00:00"),
    ("B,2026-06-01 10:00,card,10,2026-06-01 11:00,2026-06-01 10:30,,,,,\n", "shipped_at: before paid_at", "2026-06-01 10:30:00"),
    ("B,2026-06-01 10:00,card,10,2026-06-01 11:00,2026-06-02 10:30,2026-06-02 09:00,,,,\n",
     "delivered_at: before shipped_at", "2026-06-02 09:00:00"),
    ("B,2026-06-01 10:00,card,10,,,,2026-05-31 10:00,,,\n", "cancel_requested_at: before placed_at", "2026-05-31"),
    ("B,1970-01-01 00:00,card,10,,,,,,,\n", "placed_at: far in the past or the future", "1970-01-01 00:00:00"),
]


@pytest.mark.parametrize(("row", "reason", "value"), WARNINGS, ids=[c[1] for c in WARNINGS])
def test_odd_values_of_a_real_order_store_it_with_a_warning(con, tmp_path, row, reason, value):
    result = _import(con, tmp_path, row)
    assert (result.stored, result.refused, result.warned) == (3, 0, 1)
    assert result.warned_by_reason == {reason: 1}
    line, stored_reason, message = con.execute(
        "SELECT line_number, reason, message FROM warned_rows WHERE dataset_id = ?", [result.dataset.id]).fetchall()[0]
    assert (line, stored_reason) == (3, reason)
    assert value in message
    assert importer.warned_rows(con, result.dataset.id)["line_number"].to_list() == [3]


def test_an_export_without_a_payment_method_stores_every_order_as_unknown(con, tmp_path):
    path = tmp_path / "nopay.csv"
    path.write_text("order_id,placed_at,amount\nA,2026-06-01 10:00,10\nB,2026-06-01 11:00,5\n")
    result = importer.import_files(con, [path])
    assert (result.stored, result.refused) == (2, 0)
    assert any("no payment method" in n for n in result.notices)
    assert con.execute("SELECT DISTINCT payment_method FROM orders").fetchall() == [("unknown",)]


def test_a_row_with_several_problems_lists_every_one(con, tmp_path):
    result = _import(con, tmp_path, "B,not a date,card,-1,,,,,,,\n")
    assert result.refused_by_reason == {"placed_at: not a timestamp": 1}
    message = con.execute("SELECT message FROM refused_rows").fetchone()[0]
    assert "placed_at: not a timestamp ('not a date')" in message
    assert "amount: negative (-1.0)" in message


def test_a_negative_amount_is_refused_for_that_alone_beside_a_refund_of_zero(con, tmp_path):
    """Shopify writes a refunded amount of 0.00 on every order: beside a negative amount it is no refund
    larger than the order, and the message names only what is wrong."""
    result = _import(con, tmp_path, "B,2026-06-01 10:00,card,-50,,,,,0.00,,\n")
    assert result.refused_by_reason == {"amount: negative": 1}
    assert con.execute("SELECT message FROM refused_rows").fetchone()[0] == "amount: negative (-50.0)"


def test_a_formula_cell_is_stored_as_the_text_it_is(con, tmp_path):
    path = tmp_path / "formula.csv"
    path.write_text("order_id,placed_at,payment_method,amount,buyer_id\n=1+1,2026-06-01 10:00,card,10,@SUM(A1)\n")
    result = importer.import_files(con, [path])
    assert result.stored == 1
    assert con.execute("SELECT order_id, buyer_id FROM orders").fetchone() == ("=1+1", "@SUM(A1)")


def test_labels_are_normalised_and_unknown_labels_kept(con, tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text(
        "order_id,placed_at,payment_method,amount,shipping_method,cancel_requested_at,cancel_reason\n"
        "A,2026-06-01 10:00,  Western - Union ,10,Premium,2026-06-01 10:01,Wrong   Item\n"
        "B,2026-06-01 10:00,Crypto Coin,10,SEA-FREIGHT,2026-06-01 10:01,Found it cheaper\n"
    )
    importer.import_files(con, [path])
    rows = con.execute("SELECT o.payment_method, o.shipping_method, r.reason FROM orders o "
                       "JOIN cancellation_requests r USING (dataset_id, order_id) ORDER BY o.order_id").fetchall()
    assert rows == [("western_union", "premium", "wrong_item"), ("crypto_coin", "sea_freight", "found_it_cheaper")]


def test_timestamps_with_offsets_are_read_on_the_shops_clock(con, tmp_path):
    """A time is read as written, its offset dropped: the shop's own clock, so its days are the shop's
    (22:30 at -03:00 is an order of its own day, not of the next at 01:30 UTC). Every offset form reads."""
    path = tmp_path / "tz.csv"
    path.write_text(
        "order_id,placed_at,payment_method,amount,paid_at\n"
        "A,2026-06-01 10:00:00 +0000,card,1,2026-06-01T12:30+02:00\n"
        "B,2026-06-01T22:30:00-0300,card,1,2026-06-01 23:00:00-03:00\n"
        "C,2026-06-01 10:00,card,1,2026-06-01\n"
        "D,2026-06-01 09:00:00.250Z,card,1,2026-06-01 09:30:00 +05:30\n"
    )
    result = importer.import_files(con, [path])
    assert result.warned_by_reason == {"paid_at: before placed_at": 1}  # C: a bare date is its midnight
    rows = con.execute("SELECT order_id, strftime(placed_at, '%Y-%m-%d %H:%M'), strftime(paid_at, '%H:%M') "
                       "FROM orders ORDER BY 1").fetchall()
    assert rows == [("A", "2026-06-01 10:00", "12:30"), ("B", "2026-06-01 22:30", "23:00"),
                    ("C", "2026-06-01 10:00", "00:00"), ("D", "2026-06-01 09:00", "09:30")]
    # The import says so, naming the offsets other than UTC's ('Z' and +0000 are UTC's).
    assert result.as_json()["notices"] == [
        "times carry the UTC offsets +02:00, +05:30 and -03:00 and are read on the shop's clock, as written: an "
        "order counts on its own day, and a wait across a change of offset (summer time) is an hour off"]


def test_a_shop_in_one_zone_is_told_its_times_are_read_on_its_clock(con, tmp_path):
    path = tmp_path / "orders_export.csv"
    path.write_text("order_id,placed_at,payment_method,amount\n"
                    "A,2025-10-02 22:30:00 -0300,card,1\nB,2025-10-03 09:00:00 -0300,card,1\n")
    result = importer.import_files(con, [path])
    assert result.as_json()["notices"] == [
        "times carry the UTC offset -03:00 and are read on the shop's clock, as written: an order placed at "
        "23:30 -03:00 counts on its own day"]
    days = con.execute("SELECT strftime(placed_at, '%Y-%m-%d'), count(*) FROM orders GROUP BY 1 ORDER BY 1").fetchall()
    assert days == [("2025-10-02", 1), ("2025-10-03", 1)]


def test_decimal_commas_and_currency_signs(con, tmp_path):
    comma = tmp_path / "semi.csv"
    comma.write_text("order_id;placed_at;payment_method;amount\nA;2026-06-01 10:00;card;12,50\nB;2026-06-01 10:00;card;R$ 1.234,50\n")
    importer.import_files(con, [comma])
    point = tmp_path / "point.csv"
    point.write_text("order_id,placed_at,payment_method,amount\nC,2026-06-01 10:00,card,12.50\nD,2026-06-01 10:00,card,\"$1,234.50\"\n")
    importer.import_files(con, [point])
    assert con.execute("SELECT amount FROM orders ORDER BY order_id").fetchall() == [(12.5,), (1234.5,), (12.5,), (1234.5,)]


@pytest.mark.parametrize("text, line", [
    # The quote opens the first row's first value and never closes: the whole rest of the file is one value.
    ('order_id,placed_at,amount\n"X-1,2026-01-01 10:00,5.00\nX-2,2026-01-02 10:00,6.00\n', 2),
    # A multi-line note closes properly on line 3; the quote on line 5 never does.
    ('order_id,placed_at,amount,note\nX-1,2026-01-01 10:00,5.00,\nX-2,2026-01-02 10:00,6.00,"two\nlines"\n'
     'X-3,2026-01-03 10:00,7.00,"open\nX-4,2026-01-04 10:00,8.00,fine\n', 5),
])
def test_a_quote_that_never_closes_is_named_at_its_line_before_anything_is_stored(con, tmp_path, text, line):
    from analytics import db

    path = tmp_path / "export.csv"
    path.write_text(text)
    before = len(db.list_datasets(con))
    # Checked as the Data page checks an upload (the head of the file, for its preview), then imported.
    for step in (lambda: importer.plan_import([path]).close(), lambda: importer.import_files(con, [path])):
        with pytest.raises(importer.ImportError_) as refused:
            step()
        assert f"export.csv: cannot be read as CSV: line {line}: value with unterminated quote found" in str(refused.value)
    assert len(db.list_datasets(con)) == before


def test_a_lines_number_counts_every_kind_of_line_break(tmp_path):
    from analytics.csvfile import line_at

    path = tmp_path / "breaks.csv"
    path.write_bytes(b"a\r\nb\rc\nd\r\ne")
    assert [line_at(path, i) for i in (0, 3, 5, 7, 10)] == [1, 2, 3, 4, 5]


def test_woocommerce_s_cancelled_slug_counts_the_order_as_cancelled(con, tmp_path):
    """An export that writes WooCommerce's status slugs: 'wc-cancelled' is a cancelled order (no
    cancellation time needed), 'wc-completed' and 'wc-refunded' are not; 1 of 3 by hand."""
    path = tmp_path / "woo.csv"
    path.write_text("order_id,placed_at,payment_method,amount,status\n"
                    "W1,2026-06-01 10:00,card,10,wc-completed\n"
                    "W2,2026-06-02 10:00,card,20,wc-cancelled\n"
                    "W3,2026-06-03 10:00,card,30,wc-refunded\n")
    result = importer.import_files(con, [path])
    cancelled = con.execute("SELECT order_id FROM orders WHERE dataset_id = ? AND is_cancelled",
                            [result.dataset.id]).fetchall()
    assert cancelled == [("W2",)]


@pytest.mark.parametrize(("columns", "rows", "expected"), [
    # The payment time alone (WooCommerce's "Paid Date"): an unpaid cancelled order is before payment; a
    # paid one may or may not have shipped.
    ("paid_at", ["A,,2026-06-01 12:00", "B,2026-06-01 10:30,2026-06-01 12:00",
                 "C,2026-06-01 13:00,2026-06-01 12:00"],
     {"A": "before_payment", "B": None, "C": "before_payment"}),
    # The shipment time alone: a shipped order is after shipment; an unshipped one may or may not be paid.
    ("shipped_at", ["A,,2026-06-01 12:00", "B,2026-06-01 10:30,2026-06-01 12:00"],
     {"A": None, "B": "after_shipment"}),
], ids=["payment time alone", "shipment time alone"])
def test_a_stage_the_export_s_times_cannot_tell_is_unknown(con, tmp_path, columns, rows, expected):
    path = tmp_path / "partial.csv"
    path.write_text(f"order_id,placed_at,payment_method,amount,{columns},cancelled_at\n"
                    + "".join(f"{o},2026-06-01 10:00,card,10,{t},{c}\n" for o, t, c in (r.split(",") for r in rows)))
    result = importer.import_files(con, [path])
    stages = dict(con.execute("SELECT order_id, cancel_stage FROM orders WHERE dataset_id = ?",
                              [result.dataset.id]).fetchall())
    assert stages == expected
