"""The CSV itself: quoted cells spanning lines, rows of the wrong width, near-duplicate headers, huge
cells, UTF-16, and line numbers as an editor shows them; amounts and dates in local formats."""

import io
import json

import polars as pl
import pytest

from analytics import importer, simulate
from analytics.formats import Readings

HEADER = "order_id,placed_at,payment_method,amount,buyer_id"


def _import(con, tmp_path, content: bytes, **kwargs):
    path = tmp_path / "export.csv"
    path.write_bytes(content)
    return importer.import_files(con, [path], **kwargs)


def _lines(con, dataset_id):
    return dict(con.execute("SELECT order_id, source_line FROM orders WHERE dataset_id = ?", [dataset_id]).fetchall())


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_quoted_cells_spanning_lines_import_with_physical_line_numbers(con, tmp_path, newline):
    rows = [HEADER,
            'A,2026-06-01 10:00,card,10,"first line' + newline + 'second line"',
            "",                                                  # a blank line
            "B,2026-06-01 11:00,card,oops,b",                    # refused: line 4
            'C,2026-06-01 12:00,card,12,"one' + newline + "two" + newline + 'three"',
            "D,2026-06-01 13:00,card,13,d"]
    result = _import(con, tmp_path, newline.join(rows).encode() + newline.encode())
    assert (result.stored, result.refused) == (3, 1)
    # Physical lines: A 2 (to 3), blank 4, B 5, C 6 (to 8), D 9.
    assert _lines(con, result.dataset.id) == {"A": 2, "C": 6, "D": 9}
    refused = importer.refused_rows(con, result.dataset.id).to_dicts()
    assert [(r["line_number"], r["reason"]) for r in refused] == [(5, "amount: not a number")]
    note = con.execute("SELECT buyer_id FROM orders WHERE order_id = 'C'").fetchall()[0][0]
    assert note == f"one{newline}two{newline}three"


def test_a_row_of_the_wrong_width_is_refused_alone_and_the_rest_imports(con, tmp_path, ):
    content = (f"{HEADER}\n"
               "A,2026-06-01 10:00,card,10,a\n"
               "B,2026-06-01 10:00,card,10,b,surplus,more\n"       # 7 fields
               "C,2026-06-01 10:00,card\n"                          # 3 fields
               "D,2026-06-01 10:00,card,10,d\n").encode()
    result = _import(con, tmp_path, content)
    assert (result.stored, result.refused) == (2, 2)
    assert result.refused_by_reason == {"row: wrong number of fields": 2}
    refused = importer.refused_rows(con, result.dataset.id).to_dicts()
    assert [(r["line_number"], r["message"]) for r in refused] == [
        (3, "row: 7 fields where the header has 5"), (4, "row: 3 fields where the header has 5")]
    assert "surplus" in refused[0]["raw"]
    assert _lines(con, result.dataset.id) == {"A": 2, "D": 5}
    assert result.as_json()["rows_read"] == 4


@pytest.mark.parametrize("shape", ["every line a record", "a record of 8 fields too", "a cell spanning lines"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["LF", "CRLF"])
def test_a_row_with_one_field_more_the_last_empty_is_refused_not_shifted(con, tmp_path, newline, shape):
    """An unquoted comma in a product's name, on a line whose last field is empty: DuckDB's reader drops
    a trailing empty field, so without a check B's amount would read ' 3', its payment method 'Mug 2'
    and its buyer '45.00'. A (its buyer empty, its line ending with the delimiter too) is right as it is.
    Found on the reader's fast path (every line a record) and where records are numbered from the bytes."""
    header = "order_id,placed_at,item,payment_method,amount,buyer_id"
    spanning = shape == "a cell spanning lines"
    rows = [header,
            "A,2026-06-01 10:00,Mug,card,10.00,",
            "B,2026-06-02 10:00,Mug 2, 3,card,45.00,",                  # 7 fields, the last empty
            'C,2026-06-03 10:00,"Cup, large",card,30.00,c',
            'D,2026-06-04 10:00,"Bowl,' + (newline if spanning else " ") + 'blue",wallet,40.00,d']
    if shape == "a record of 8 fields too":
        rows.append('E,2026-06-05 10:00,"Plate, small",Tray, 2,card,5.00,')   # DuckDB refuses it itself
    result = _import(con, tmp_path, newline.join(rows).encode() + newline.encode())
    # Kept by hand: A 10.00, C 30.00 and D 40.00, 80.00 in all; B (line 3) refused, and E (line 6).
    refused_lines = [(3, "row: 7 fields where the header has 6")]
    if shape == "a record of 8 fields too":
        refused_lines.append((6, "row: 8 fields where the header has 6"))
    assert (result.stored, result.refused) == (3, len(refused_lines))
    assert con.execute("SELECT sum(amount) FROM orders").fetchall() == [(80.0,)]
    assert con.execute("SELECT buyer_id FROM orders WHERE order_id = 'A'").fetchall() == [(None,)]
    refused = importer.refused_rows(con, result.dataset.id).to_dicts()
    assert [(r["line_number"], r["message"]) for r in refused] == refused_lines
    assert "Mug 2, 3" in refused[0]["raw"]
    assert _lines(con, result.dataset.id) == {"A": 2, "C": 4, "D": 5}
    assert result.as_json()["rows_read"] == 3 + len(refused_lines)


@pytest.mark.parametrize("quote", ["none", "past the head"])
def test_a_row_with_one_field_more_is_found_where_no_quote_is_seen_first(con, tmp_path, quote):
    """Without a quote in the file's head, the lines of one field more are not looked for while the file is
    read; the delimiters counted say there is one (B, line 3), here or after a quoted cell further down."""
    header = "order_id,placed_at,item,payment_method,amount,buyer_id"
    filler = [f"F{i},2026-06-01 10:00,Mug,card,1.00,f" for i in range(30_000)]     # over a megabyte
    last = 'Z,2026-06-09 10:00,"Cup, large",card,2.00,z' if quote == "past the head" else "Z,2026-06-09 10:00,Cup,card,2.00,z"
    rows = [header,
            "A,2026-06-01 10:00,Mug,card,10.00,",
            "B,2026-06-02 10:00,Mug 2, 3,card,45.00,",                  # 7 fields, the last empty
            *filler, last]
    result = _import(con, tmp_path, ("\n".join(rows) + "\n").encode())
    assert (result.stored, result.refused) == (30_002, 1)
    refused = importer.refused_rows(con, result.dataset.id).to_dicts()
    assert [(r["line_number"], r["message"]) for r in refused] == [(3, "row: 7 fields where the header has 6")]
    # Kept by hand: A 10.00, 30,000 fillers of 1.00, Z 2.00.
    assert con.execute("SELECT sum(amount) FROM orders").fetchall() == [(30_012.0,)]
    lines = _lines(con, result.dataset.id)
    assert (lines["A"], lines["F0"], lines["Z"]) == (2, 4, 30_004)


@pytest.mark.parametrize("shape", ["every line a record", "no record of 8 fields", "a cell spanning lines",
                                   "a cell of millions"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["LF", "CRLF"])
def test_the_preview_leaves_out_the_rows_the_import_refuses_for_their_width_and_names_them(
        con, tmp_path, newline, shape):
    """The reader takes B (one field more, the last empty) as a row of the header's width: shown, B's
    payment method read ' 3' and its amount 'card'. The preview shows A, C, D and F; the note names B's
    line 3 and E's line 5 (8 fields, which the reader skips) in the words the import refuses them with.
    Without E, the reader's first, strict read takes every row, B among them."""
    header = "order_id,placed_at,item,payment_method,amount,buyer_id"
    d_item = {"every line a record": "Bowl", "no record of 8 fields": "Bowl", "a cell spanning lines": f'"Bowl,{newline}blue"',
              "a cell of millions": '"' + "x" * 2_000_000 + '"'}[shape]
    rows = [header,
            "A,2026-06-01 10:00,Mug,card,10.00,",
            "B,2026-06-02 10:00,Mug 2, 3,card,45.00,",                          # line 3: 7 fields, the last empty
            'C,2026-06-03 10:00,"Cup, large",card,30.00,c',
            'E,2026-06-05 10:00,"Plate, small",Tray, 2,card,5.00,',             # line 5: 8 fields
            f"D,2026-06-04 10:00,{d_item},wallet,40.00,d",
            "F,2026-06-06 10:00,Jug,card,6.00,f"]
    expected = [(3, "row: 7 fields where the header has 6"), (5, "row: 8 fields where the header has 6")]
    if shape == "no record of 8 fields":
        rows.pop(4)
        expected.pop()
    path = tmp_path / "export.csv"
    path.write_bytes(newline.join(rows).encode() + newline.encode())
    plan = importer.plan_import([path])
    try:
        shown = plan.orders_file.preview
        note = plan.orders_file.preview_note
    finally:
        plan.close()
    assert shown["order_id"].to_list() == ["A", "C", "D", "F"]
    assert shown["payment_method"].to_list() == ["card", "card", "wallet", "card"]
    result = importer.import_files(con, [path])
    refused = [(r["line_number"], r["message"]) for r in importer.refused_rows(con, result.dataset.id).to_dicts()]
    assert refused == expected
    named = " and ".join(f"line {line} ({message})" for line, message in expected)
    assert note == f"not in the preview, as the import will refuse {'them' if len(expected) > 1 else 'it'}: {named}"


def test_the_preview_note_counts_the_lines_it_does_not_name(tmp_path):
    """Seven rows of 6 fields under a header of 5, then one good row: the first five lines are named, the
    other two counted; a file whose every row is refused has nothing else to preview."""
    path = tmp_path / "export.csv"
    bad = "".join(f"B{i},2026-06-01 10:00,card,10,b,extra\n" for i in range(7))
    path.write_text(f"{HEADER}\n{bad}G,2026-06-01 10:00,card,10,g\n")
    plan = importer.plan_import([path])
    try:
        assert plan.orders_file.preview["order_id"].to_list() == ["G"]
        assert plan.orders_file.preview_note == (
            "not in the preview, as the import will refuse them: line 2 (row: 6 fields where the header has 5), "
            "line 3 (row: 6 fields where the header has 5), line 4 (row: 6 fields where the header has 5), "
            "line 5 (row: 6 fields where the header has 5), line 6 (row: 6 fields where the header has 5) and "
            "2 more lines of the wrong width")
    finally:
        plan.close()


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["LF", "CRLF"])
def test_a_row_refused_for_its_width_is_listed_as_the_file_has_it(con, tmp_path, newline):
    """The refused rows' list (and its CSV) gives such a row's line as written: no quotes around it, none
    doubled or escaped inside it. A row refused for a value keeps its values read, as JSON."""
    line = 'E,2026-06-05 10:00,"Plate, small",Tray, 2,card,5.00,'
    rows = ["order_id,placed_at,item,payment_method,amount,buyer_id",
            "A,2026-06-01 10:00,Mug,card,10.00,a", line, "B,2026-06-01 10:00,Mug,card,oops,b"]
    result = _import(con, tmp_path, newline.join(rows).encode() + newline.encode())
    refused = importer.refused_rows(con, result.dataset.id)
    assert refused["line_number"].to_list() == [3, 4]
    assert refused["raw"][0] == line
    assert json.loads(refused["raw"][1])["amount"] == "oops"
    assert pl.read_csv(io.StringIO(refused.write_csv()), infer_schema=False)["raw"][0] == line


def test_headers_that_differ_only_in_case_or_spaces_use_the_first_and_say_so(con, tmp_path):
    content = (b"order_id,placed_at,payment_method,Amount,amount , AMOUNT\n"
               b"A,2026-06-01 10:00,card,10,99,98\n")
    result = _import(con, tmp_path, content)
    assert con.execute("SELECT amount FROM orders").fetchall() == [(10.0,)]
    assert any("'Amount' and 'amount' differ only in case or spaces" in n for n in result.notices)
    assert any("'AMOUNT'" in n for n in result.notices)


def test_a_cell_of_millions_of_characters_is_read(con, tmp_path):
    huge = "x" * 2_000_000
    content = f'{HEADER}\nA,2026-06-01 10:00,card,10,"{huge}"\nB,2026-06-01 10:00,card,11,b\n'.encode()
    result = _import(con, tmp_path, content)
    assert (result.stored, result.refused) == (2, 0)
    assert con.execute("SELECT length(buyer_id) FROM orders WHERE order_id = 'A'").fetchall() == [(2_000_000,)]


def test_the_preview_shows_a_row_with_a_cell_of_millions_of_characters(tmp_path):
    """The preview reads with room for such a cell only when a first, strict read stops at a record."""
    path = tmp_path / "export.csv"
    rows = "".join(f"R{i},2026-06-01 10:00,card,10,b\n" for i in range(30))
    path.write_text(f'{HEADER}\nA,2026-06-01 10:00,card,10,"{"x" * 2_000_000}"\n{rows}')
    plan = importer.plan_import([path])
    try:
        preview = plan.orders_file.preview
        assert preview.height == importer.PREVIEW_ROWS
        assert preview.row(0)[0] == "A" and len(preview.row(0)[-1]) == 2_000_000
    finally:
        plan.close()


def test_utf16_text_from_excel_is_read(con, tmp_path):
    text = "order_id\tplaced_at\tpayment_method\tamount\tbuyer_id\r\nA\t2026-06-01 10:00\tcard\t10\tJosé\r\n"
    result = _import(con, tmp_path, text.encode("utf-16"))
    assert result.stored == 1
    assert con.execute("SELECT buyer_id FROM orders").fetchall() == [("José",)]
    # Named as it was written (the Data page's caption and the data set's source), not as it is read.
    assert result.dataset.source["encoding"] == "utf-16"
    plan = importer.plan_import([tmp_path / "export.csv"])
    try:
        assert plan.as_json()["files"][0]["encoding"] == "utf-16"
    finally:
        plan.close()


@pytest.mark.parametrize(("values", "expected"), [
    (["R$ 1.234,56", "12,50", "1 234,56"], [1234.56, 12.5, 1234.56]),
    (["$1,234.50", "12.50", "(12.00)"], [1234.5, 12.5, None]),       # (12.00) is -12: refused as negative
    (["1.234,56", "1,234"], [1234.56, 1.234]),                       # the column's decimal comma decides 1,234
], ids=["decimal comma", "decimal point", "decided by the column"])
def test_amounts_in_local_formats_are_read_one_way_per_column(con, tmp_path, values, expected):
    rows = "".join(f'O{i},2026-06-01 10:00,card,"{v}",b\n' for i, v in enumerate(values))
    result = _import(con, tmp_path, f"{HEADER}\n{rows}".encode())
    stored = dict(con.execute("SELECT order_id, amount FROM orders").fetchall())
    got = [stored.get(f"O{i}") for i in range(len(values))]
    assert [g is None for g in got] == [e is None for e in expected]
    assert [g for g in got if g is not None] == pytest.approx([e for e in expected if e is not None])
    if None in expected:
        assert result.refused_by_reason == {"amount: negative": 1}


def test_an_amount_that_cannot_decide_is_asked_not_guessed(con, tmp_path):
    content = f'{HEADER}\nA,2026-06-01 10:00,card,"1,234",a\nB,2026-06-01 10:00,card,5,b\n'.encode()
    with pytest.raises(importer.ImportNeedsChoice, match="choose the decimal separator") as asked:
        _import(con, tmp_path, content)
    assert asked.value.choice == "decimal"
    assert con.execute("SELECT count(*) FROM datasets").fetchall() == [(0,)]
    _import(con, tmp_path, content, readings=Readings(decimal=","))
    _import(con, tmp_path, content, readings=Readings(decimal="."))
    assert sorted(a for (a,) in con.execute("SELECT amount FROM orders WHERE order_id = 'A'").fetchall()) == [1.234, 1234.0]


@pytest.mark.parametrize(("values", "expected"), [
    # '2.500' reads either way; '0.125' cannot be a thousands group (no group starts with 0): a point.
    (["0.125", "2.500"], [0.125, 2.5]),
    # Nor can four digits before the separator: a comma.
    (["1234,567", "2,500"], [1234.567, 2.5]),
    # A separator with no digit before it holds decimals: a point, so '1,500' has a thousands separator.
    ([".125", "1,500"], [0.125, 1500.0]),
], ids=["leading zero", "four digits", "no digit before"])
def test_a_value_no_thousands_separator_can_have_written_decides_the_column(con, tmp_path, values, expected):
    rows = "".join(f'O{i},2026-06-01 10:00,card,"{v}",b\n' for i, v in enumerate(values))
    _import(con, tmp_path, f"{HEADER}\n{rows}".encode())
    stored = dict(con.execute("SELECT order_id, amount FROM orders").fetchall())
    assert [stored[f"O{i}"] for i in range(len(values))] == pytest.approx(expected)


def test_the_question_names_every_number_column_nothing_decides(con, tmp_path):
    """A shop's whole amounts ('1.228' order total, '1.050' refunded, '1.199' a line's price) can each be read
    with a decimal point or a decimal comma: one question names the three columns, not only the first, in a
    sentence whose first word is no column's name (the page wrote it 'Refund_amount: values such as ...')."""
    content = (b"order_id,placed_at,amount,refund_amount,unit_price,quantity\n"
               b"A,2026-06-01 10:00,1.228,1.050,1.199,1\nA,,,,29,1\nB,2026-06-02 10:00,45,0,45,1\n")
    with pytest.raises(importer.ImportNeedsChoice) as asked:
        _import(con, tmp_path, content)
    assert str(asked.value).startswith("the values of amount, refund_amount and unit_price, such as '1.228', can be "
                                       "read with a decimal point or a decimal comma")
    assert asked.value.choice == "decimal"
    result = _import(con, tmp_path, content, readings=Readings(decimal=","))
    assert con.execute("SELECT amount FROM orders WHERE order_id = 'A' AND dataset_id = ?",
                       [result.dataset.id]).fetchall() == [(1228.0,)]


def test_an_amount_written_the_other_way_is_refused_not_misread(con, tmp_path):
    content = (f"{HEADER}\n"
               "A,2026-06-01 10:00,card,\"1.234,56\",a\n"
               "B,2026-06-01 10:00,card,\"2.000,00\",b\n"
               "C,2026-06-01 10:00,card,\"1,234.50\",c\n").encode()     # a decimal point in a comma column
    result = _import(con, tmp_path, content)
    assert result.refused_by_reason == {"amount: not a number": 1}
    assert sorted(a for (a,) in con.execute("SELECT amount FROM orders").fetchall()) == [1234.56, 2000.0]


@pytest.mark.parametrize(("dates", "expected"), [
    (["05/01/2026", "25/01/2026 14:30"], ["2026-01-05 00:00", "2026-01-25 14:30"]),    # 25 decides: day first
    (["05/01/2026", "01/25/2026"], ["2026-05-01 00:00", "2026-01-25 00:00"]),          # 25 decides: month first
    (["5 Jan 2026", "2026-01-05T10:00:00Z"], ["2026-01-05 00:00", "2026-01-05 10:00"]),
], ids=["day first", "month first", "month names and ISO"])
def test_dates_beyond_iso_are_read_one_way_per_file(con, tmp_path, dates, expected):
    rows = "".join(f"O{i},{d},card,1,b\n" for i, d in enumerate(dates))
    result = _import(con, tmp_path, f"{HEADER}\n{rows}".encode())
    assert result.refused == 0
    stored = dict(con.execute("SELECT order_id, strftime(placed_at, '%Y-%m-%d %H:%M') FROM orders").fetchall())
    assert [stored[f"O{i}"] for i in range(len(dates))] == expected


def test_dates_that_cannot_decide_are_asked(con, tmp_path):
    content = f"{HEADER}\nA,05/01/2026,card,1,a\nB,06/02/2026,card,1,b\n".encode()
    with pytest.raises(importer.ImportNeedsChoice, match="choose the order of day and month") as asked:
        _import(con, tmp_path, content)
    assert asked.value.choice == "date_format"
    result = _import(con, tmp_path, content, readings=Readings(date_format="month-first"))
    assert con.execute("SELECT strftime(placed_at, '%Y-%m-%d') FROM orders WHERE order_id = 'A' AND dataset_id = ?",
                       [result.dataset.id]).fetchall() == [("2026-05-01",)]


def test_the_question_names_every_date_column_nothing_decides(con, tmp_path):
    """placed_at and paid_at both read 05/01 and 06/02 (either way round) and no date decides: the question
    names both columns, not only the first, in a sentence whose first word is no column's name."""
    content = (b"order_id,placed_at,payment_method,amount,paid_at\n"
               b"A,05/01/2026,card,1,06/02/2026\nB,06/02/2026,card,1,05/01/2026\n")
    with pytest.raises(importer.ImportNeedsChoice) as asked:
        _import(con, tmp_path, content)
    assert str(asked.value).startswith("the dates of paid_at and placed_at, such as '")
    assert "choose the order of day and month" in str(asked.value)


def test_each_date_column_is_read_its_own_way(con, tmp_path):
    # placed_at shows day first (25/01, 26/01), paid_at month first (01/26). delivered_at alone cannot
    # tell (02/03): it takes what the file's dates show most, day first (2 values against 1): 2 March.
    content = (b"order_id,placed_at,payment_method,amount,paid_at,delivered_at\n"
               b"A,25/01/2026,card,1,01/26/2026,02/03/2026\n"
               b"B,26/01/2026,card,1,,\n")
    result = _import(con, tmp_path, content)
    assert result.refused == 0
    rows = con.execute("SELECT order_id, strftime(placed_at, '%Y-%m-%d'), strftime(paid_at, '%Y-%m-%d'), "
                       "strftime(delivered_at, '%Y-%m-%d') FROM orders ORDER BY 1").fetchall()
    assert rows == [("A", "2026-01-25", "2026-01-26", "2026-03-02"), ("B", "2026-01-26", None, None)]


def test_a_shops_express_shipping_counts_as_premium(con, tmp_path):
    """Shops name their shipping methods ('Express', 'Standard Shipping', SEDEX in Brazil): a word of the
    name reads it as the product's Premium or Standard, so the calibration's Premium share (the What-if
    page's "as in the data") is the shop's express share; a name with neither word is kept as written."""
    result = _import(con, tmp_path, (
        b"order_id,placed_at,payment_method,amount,shipping_method\n"
        b"A,2026-06-01 10:00,card,10,Express\n"
        b"B,2026-06-01 11:00,card,10,Standard Shipping\n"
        b"C,2026-06-01 12:00,card,10,SEDEX\n"
        b"D,2026-06-01 13:00,card,10,Free shipping\n"
        b"E,2026-06-01 14:00,card,10,standard\n"
        b"F,2026-06-01 15:00,card,10,\n"))
    assert (result.stored, result.refused) == (6, 0)
    stored = dict(con.execute("SELECT order_id, shipping_method FROM orders").fetchall())
    assert stored == {"A": "premium", "B": "standard", "C": "premium", "D": "free_shipping", "E": "standard",
                      "F": None}
    # Premium among the orders whose method is Standard or Premium: A and C of A, B, C and E.
    prep = simulate.prepare_dataset(con, result.dataset.id)
    assert simulate.observed_premium_share(prep) == pytest.approx(2 / 4)
