"""Per-seller cancellation rates with their 95% intervals, ranked so that noise does not put a small seller
first; orders by the status the export gave them, beside the product's stage; the life cycle's drop-off.
Every figure worked out by hand in the comments."""

from __future__ import annotations

import polars as pl
import pytest

from analytics import page_tables
from analytics import pipelines as p


def _orders(rows: list[tuple]) -> pl.LazyFrame:
    """(order_id, seller_id, is_cancelled, cancel_stage, status) rows as an orders frame."""
    return pl.LazyFrame(rows, schema={"order_id": pl.String, "seller_id": pl.String, "is_cancelled": pl.Boolean,
                                      "cancel_stage": pl.String, "status": pl.String}, orient="row").with_columns(
        pl.lit(10.0).alias("amount"))


NO_REQUESTS = pl.LazyFrame(schema={"order_id": pl.String, "seller_id": pl.String, "outcome": pl.String,
                                   "requested_at": pl.Datetime("us"), "responded_at": pl.Datetime("us"),
                                   "return_path": pl.Boolean, "request_stage": pl.String})


def test_wilson_interval_by_hand():
    # 1 of 2: p = 0.5, z^2 = 3.8415; centre = (0.5 + 3.8415/4) / (1 + 3.8415/2) = 0.5;
    # half = 1.96 / 2.9207 * sqrt(0.25/2 + 3.8415/16) = 0.67106 * 0.60415 = 0.40542 -> [0.0946, 0.9054].
    # 0 of 0: nothing to measure, null.
    low, high = p.wilson_interval(pl.col("k"), pl.col("n"))
    got = pl.DataFrame({"k": [1, 0], "n": [2, 0]}).select(low.alias("low"), high.alias("high"))
    assert got["low"].to_list()[0] == pytest.approx(0.09453, abs=1e-5)
    assert got["high"].to_list()[0] == pytest.approx(0.90547, abs=1e-5)
    assert got.row(1) == (None, None)


def test_a_small_seller_does_not_rank_above_a_large_one_by_noise():
    # big: 150 cancelled of 1,000 (15%, Wilson 95% from 12.9%); tiny: 1 of 2 (50%, from 9.5%);
    # none: 0 of 40 (0%, from 0). Ranked by the interval's low end: big, tiny, none, though tiny's rate is highest.
    rows = ([(f"b{i}", "big", i < 150, "awaiting_shipment" if i < 150 else None, "x") for i in range(1000)]
            + [("t0", "tiny", True, "before_payment", "x"), ("t1", "tiny", False, None, "x")]
            + [(f"n{i}", "none", False, None, "x") for i in range(40)]
            + [(f"h{i}", "half", i < 10, "before_payment" if i < 10 else None, "x") for i in range(20)])
    table = p.sellers(p.Frames(orders=_orders(rows), requests=NO_REQUESTS), "cancellation_rate_low").collect()
    # half: 10 of 20 (50%, from 29.9%) ranks first. tiny, 1 of 2, from 9.5%, would rank before none (0 of 40,
    # from 0), but has fewer than RATE_MIN_ORDERS = 20 orders: it comes last.
    assert table.select("rank", "seller_id", "orders", "cancelled_orders").rows() == [
        (1, "half", 20, 10), (2, "big", 1000, 150), (3, "none", 40, 0), (4, "tiny", 2, 1)]
    assert table["cancellation_rate"].to_list() == [0.5, 0.15, 0.0, 0.5]
    assert table["cancellation_rate_low"].to_list() == pytest.approx([0.29929, 0.12921, 0.0, 0.09453], abs=1e-5)
    # 0 of 40: low 0; high = z^2/n / (1 + z^2/n) = 0.09604 / 1.09604 = 0.08762.
    assert table["cancellation_rate_high"].to_list() == pytest.approx([0.70071, 0.17347, 0.08762, 0.90547], abs=1e-5)
    # A minimum volume leaves the smaller sellers out and ranks again from 1.
    kept = page_tables.sellers_with_orders(table, 40)
    assert kept.select("rank", "seller_id").rows() == [(1, "big"), (2, "none")]
    # Ranked by another column, the minimum plays no part: tiny's 1 cancelled order ranks it above none.
    by_count = p.sellers(p.Frames(orders=_orders(rows), requests=NO_REQUESTS), "cancelled_orders").collect()
    assert by_count["seller_id"].to_list() == ["big", "half", "tiny", "none"]


def test_orders_by_status_as_exported_beside_the_stage():
    # Five orders: two delivered (one had a request, rejected, awaiting shipment), two 'canceled' (one
    # before payment by status alone, one awaiting shipment after a request), one with no status.
    orders = _orders([("a", "s", False, None, "delivered"), ("b", "s", False, None, "delivered"),
                      ("c", "s", True, "before_payment", "canceled"), ("d", "s", True, "awaiting_shipment", "canceled"),
                      ("e", "s", False, None, None)])
    # Each order's row carries its request's stage (an order has at most one request): b's and d's.
    orders = orders.with_columns(request_stage=pl.when(pl.col("order_id").is_in(["b", "d"]))
                                 .then(pl.lit("awaiting_shipment")))
    table = p.orders_by_status(p.Frames(orders=orders, requests=NO_REQUESTS)).collect()
    assert table.rows() == [
        ("canceled", "before_payment", 1, 1, 0.2), ("canceled", "awaiting_shipment", 1, 1, 0.2),
        ("delivered", "awaiting_shipment", 1, 0, 0.2), ("delivered", None, 1, 0, 0.2),
        (None, None, 1, 0, 0.2)]


def test_a_cancellation_of_unknown_stage_is_not_counted_as_no_request_or_cancellation():
    # Five orders of an export with no payment or shipment times, so no cancellation's stage is known: a
    # and b 'refunded', a cancelled by its status's time (no request), b never cancelled; c 'cancelled',
    # its request of unknown stage; d 'delivered', its request of unknown stage, not cancelled; e
    # 'delivered', neither. refunded: a, stage unknown (1 order, 1 cancelled), b, none (1, 0);
    # delivered: d, unknown (1, 0), e, none (1, 0); cancelled: c, unknown (1, 1). Each a fifth.
    orders = _orders([("a", "s", True, None, "refunded"), ("b", "s", False, None, "refunded"),
                      ("c", "s", True, None, "cancelled"), ("d", "s", False, None, "delivered"),
                      ("e", "s", False, None, "delivered")])
    orders = orders.with_columns(request_stage=pl.when(pl.col("order_id").is_in(["c", "d"])).then(pl.lit("unknown")))
    table = p.orders_by_status(p.Frames(orders=orders, requests=NO_REQUESTS)).collect()
    assert sorted(table.rows(), key=str) == sorted([
        ("refunded", "unknown", 1, 1, 0.2), ("refunded", None, 1, 0, 0.2),
        ("delivered", "unknown", 1, 0, 0.2), ("delivered", None, 1, 0, 0.2),
        ("cancelled", "unknown", 1, 1, 0.2)], key=str)


UNKNOWN_STAGE_EXPORT = """order_id,placed_at,payment_method,amount,status,cancelled_at,cancel_requested_at,cancel_reason
A,2026-03-02 09:00,card,10,refunded,2026-03-03 09:00,,
B,2026-03-02 09:00,card,10,refunded,,,
C,2026-03-02 09:00,card,10,cancelled,2026-03-03 09:00,2026-03-02 10:00,wrong item
D,2026-03-02 09:00,card,10,delivered,,2026-03-02 10:00,changed mind
E,2026-03-02 09:00,card,10,delivered,,,
F,2026-03-02 09:00,card,10,refunded,,,
"""


def test_orders_by_status_of_an_import_tells_a_cancellation_of_unknown_stage_from_none(con, tmp_path):
    """The same orders imported, and F, refunded and never cancelled. The export has no payment or
    shipment times. refunded: A cancelled (stage unknown), B and F neither: (unknown, 1, 1), (none, 2, 0);
    delivered: D's request (unknown, 1, 0), E (none, 1, 0); cancelled: C (unknown, 1, 1). Every path to the
    table says so (the report's partials, the page's table, its chart) and a part leads to its orders."""
    from analytics import charts, drill, importer, load, report, rollup
    from analytics.filters import Filters
    from tests.test_resident import resident

    path = tmp_path / "orders.csv"
    path.write_text(UNKNOWN_STAGE_EXPORT)
    dataset = importer.import_files(con, [path]).dataset.id
    expected = {("refunded", "unknown", 1, 1), ("refunded", None, 2, 0), ("delivered", "unknown", 1, 0),
                ("delivered", None, 1, 0), ("cancelled", "unknown", 1, 1)}
    rows = report.report(con, dataset)["orders_by_status"]
    assert {(r["status"], r["stage"], r["orders"], r["cancelled_orders"]) for r in rows} == expected
    table = report.orders_by_status(con, dataset).frame
    assert set(table.select("status", "stage", "orders", "cancelled_orders").rows()) == expected
    with resident():      # the orders kept in memory: the table from their rollup
        assert report.orders_by_status(con, dataset).frame.to_dicts() == table.to_dicts()
        assert rollup.kept_for(load.resident(con, dataset))
    chart = charts.status_chart(table).to_dict()["datasets"]
    marks = {(r["status"], r["stage_words"], r["orders"]) for r in next(iter(chart.values()))}
    assert ("refunded", charts.STAGE_WORDS["unknown"], 1) in marks and ("refunded", charts.NO_STAGE, 2) in marks
    for stage, ids in (("unknown", ["A"]), ("none", ["B", "F"])):
        found = drill.for_mark("status", {"status_key": "refunded", "stage_key": stage}, Filters())
        assert found is not None
        listed, total = drill.orders(con, dataset, *found)
        assert (sorted(listed["order_id"].to_list()), total) == (ids, len(ids))
    # The list of orders says so too: A and C were cancelled at a stage the export cannot tell (C's request
    # came before its cancellation, but the export says nothing of payment or shipment); the others were not.
    listed, _ = drill.orders(con, dataset, Filters(), drill.EVERY_ORDER)
    assert dict(listed.select("order_id", "cancel_stage").rows()) == {
        "A": "unknown", "B": None, "C": "unknown", "D": None, "E": None, "F": None}


def test_the_life_cycle_says_how_many_left_after_each_step():
    # 4 placed, 3 paid, 1 shipped, 1 delivered: 1 of 4 left before payment (25%), 2 of 3 before shipping.
    orders = pl.LazyFrame({"paid_at": [1, 1, 1, None], "shipped_at": [1, None, None, None],
                           "delivered_at": [1, None, None, None], "is_cancelled": [False, True, True, True],
                           "cancel_stage": [None, "awaiting_shipment", "awaiting_shipment", "before_payment"]})
    table = p.lifecycle(orders).collect()
    assert table.rows() == [("placed", 4, 1, 0.25, 1), ("paid", 3, 2, 2 / 3, 2), ("shipped", 1, 0, 0.0, 0),
                            ("delivered", 1, None, None, None)]


def test_the_seller_table_shows_the_rates_interval_in_one_column_and_fits_its_columns():
    """1 cancelled of 2 orders: 50.0%, its Wilson 95% interval 9.5% to 90.5% (symmetric about a half);
    the table ranked by GMV shows that column after the others, ranked by the interval's low end it does not
    add one (the interval is shown)."""
    frame = pl.DataFrame({"rank": [1], "seller_id": ["S1"], "orders": [2], "gmv": [10.0], "cancelled_orders": [1],
                          "cancellation_rate": [0.5], "cancellation_rate_low": [0.0945312],
                          "cancellation_rate_high": [0.9054688], "cancelled_gmv": [5.0]})
    shown, order = page_tables.sellers_shown(frame, "gmv")
    assert shown["cancellation_rate_interval"].to_list() == ["9.5% – 90.5%"]
    assert order == ["rank", "seller_id", "orders", "cancelled_orders", "cancellation_rate",
                     "cancellation_rate_interval", "cancelled_gmv", "gmv"]
    assert page_tables.sellers_shown(frame, "cancellation_rate_low")[1][-1] == "cancelled_gmv"
