"""The dashboard keeps each data set's orders in memory and selects under the filters in Polars
(load.keep_resident); every figure must be the one the SQL path gives. The report, the scalars and every
registry table, under each snapshot filter combination, equal the snapshot of tests/test_figures_unchanged;
and filters the snapshot does not cover (sellers of an order with several, reasons, shipping methods, a
date range on each anchor) give the same tables both ways."""

from __future__ import annotations

import contextlib
import json
from datetime import date, datetime

import pytest

from analytics import db, importer, load, memory, report
from analytics.commands.data import ensure_demo
from analytics.filters import Filters
from tests import test_figures_unchanged as snap


@contextlib.contextmanager
def resident():
    load.keep_resident(memory.Limits(1 << 30, 600))
    try:
        yield
    finally:
        load.keep_resident(None)


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    path = tmp_path_factory.mktemp("resident") / "lab.duckdb"
    con = db.connect(path)
    found = {"demo": ensure_demo(con),
             "sample": importer.import_files(con, [snap.SAMPLE_CSV], name="Sample shop").dataset}
    if snap.olist_present():
        found["olist"] = importer.import_files(con, [snap.OLIST_DIR / f for f in snap.OLIST_FILES], name="Olist").dataset
    yield con, found
    con.close()


@pytest.mark.parametrize("name", snap.DATASETS)
def test_every_report_figure_is_the_snapshots_from_memory(name, stored):
    snap._needs(name)
    con, found = stored
    with resident():
        figures = json.loads(json.dumps(snap.report_figures(con, name, found[name], {})))
        assert load.resident_bytes() > 0     # the figures did come from the kept orders
    expected = snap.load_snapshot()["figures"][name]
    differences = snap.differences({k: expected[k] for k in snap.REPORT_PARTS}, figures)
    assert not differences, snap.explain(name, differences, "figures")


def _tables(con, dataset, filters: Filters) -> str:
    out = {"report": report.report(con, dataset, filters)}
    for call, fn, options in snap._table_calls(report):
        table = fn(con, dataset, filters, **options)
        out[call] = None if table.frame is None else table.frame.to_dicts()
    return json.dumps(out, default=str, sort_keys=True)


def _both_ways(con, dataset, filters: Filters) -> tuple[str, str]:
    sql = _tables(con, dataset, filters)
    with resident():
        kept = _tables(con, dataset, filters)
    return sql, kept


def test_filters_beyond_the_snapshot_select_the_same_orders(stored):
    con, found = stored
    demo = found["demo"]
    reasons = con.execute("SELECT DISTINCT reason FROM cancellation_requests WHERE dataset_id = ? ORDER BY 1 LIMIT 2",
                          [demo.id]).fetchall()
    seller = con.execute("SELECT seller_id FROM orders WHERE dataset_id = ? AND seller_id IS NOT NULL LIMIT 1",
                         [demo.id]).fetchall()[0][0]
    cases = [Filters(reasons=tuple(r for (r,) in reasons)), Filters(shipping_methods=("premium",)),
             Filters(sellers=(seller,)), Filters(start=date(2026, 3, 1), end=date(2026, 3, 31), anchor="refund"),
             Filters(start=date(2026, 2, 1), end=date(2026, 2, 28), anchor="request", stages=("before_payment",))]
    for filters in cases:
        sql, kept = _both_ways(con, demo, filters)
        # Sums may differ in their last bits (added in another order): compared as the snapshot is.
        assert not snap.differences(json.loads(sql), json.loads(kept)), filters


def test_a_seller_of_an_order_with_several_sellers_selects_it_from_memory_too(stored):
    snap._needs("olist")
    con, found = stored
    olist = found["olist"]
    # A seller that is never an order's first seller: only order_sellers names it.
    rows = con.execute(
        "SELECT s.seller_id FROM order_sellers s WHERE s.dataset_id = ? AND s.seller_id NOT IN "
        "(SELECT seller_id FROM orders WHERE dataset_id = ? AND seller_id IS NOT NULL) LIMIT 1",
        [olist.id, olist.id]).fetchall()
    if not rows:
        pytest.skip("every seller of the sample is some order's first seller")
    filters = Filters(sellers=(rows[0][0],))
    sql, kept = _both_ways(con, olist, filters)
    assert json.loads(sql)["report"]["orders"] >= 1
    assert not snap.differences(json.loads(sql), json.loads(kept))


def test_the_orders_behind_each_figure_count_the_same_from_memory(stored):
    """drill.counts reads the orders kept in memory (the same SQL, no table joined) when they are kept:
    every kind of group, under filters of every kind, counts what the tables count."""
    from analytics import drill
    from analytics.outcomes import OUTCOMES, STAGES

    con, found = stored
    demo = found["demo"]
    statuses = [s for (s,) in con.execute("SELECT DISTINCT status FROM orders WHERE dataset_id = ?", [demo.id])
                .fetchall() if s is not None]
    groups = [drill.Group(of=of) for of in drill.OF]
    groups += [drill.Group(of="requests", request_stage=s) for s in STAGES]
    groups += [drill.Group(of="cancelled", cancel_stage=s) for s in STAGES]
    groups += [drill.Group(of="requests", outcome=o) for o in OUTCOMES]
    groups += [drill.Group(reached=s) for s in ("placed", "paid", "shipped", "delivered")]
    groups += [drill.Group(left_after=s) for s in ("placed", "paid", "shipped")]
    groups += [drill.Group(status=s, stage=st) for s in [*statuses, drill.NO_STATUS] for st in (*STAGES, "none")]
    groups += [drill.Group(of="refunds", refund_channel=c) for c in ("original", "wallet", "coupon")]
    groups += [drill.Group(payment_method="card", reason="changed_mind"), drill.Group(shipping_method="premium")]
    groups += [drill.Group(of="requests", requested_from=date(2026, 2, 2), requested_to=date(2026, 2, 8)),
               drill.Group(of="refund_times", slower_than=3), drill.Group(of="refund_waits", slower_than=5)]
    cases = [Filters(), Filters(payment_methods=("card", "pix")), Filters(stages=("awaiting_shipment",)),
             Filters(start=date(2026, 2, 1), end=date(2026, 2, 28), anchor="request"),
             Filters(start=date(2026, 3, 1), end=date(2026, 3, 31), anchor="refund")]
    read_by_polars = 0
    for filters in cases:
        tables = drill.counts(con, demo, filters, groups)
        with resident():
            kept = drill.counts(con, demo, filters, groups)
            # Counted from memory indeed: the same query over the kept orders answers.
            assert load.one_row_resident(con, demo, ["count(*)"], [], []) == (demo.orders,)
            # And the filters' rows are their mask, found once: the count of the selected orders.
            own = load.frames_of(load.resident(con, demo).lazy(), filters, ["orders"]).orders
            assert load.one_row_selected(con, demo, ["count(*)"], [], filters) == (own.collect().height,)
            # Group by group, Polars' SQL (where it reads the query) counts what DuckDB over the same
            # frame counts: a text with a quote in it, dates and times written into the query.
            for group in [*groups, drill.Group(reason="it's late"), drill.Group(payment_method="x' OR 'a'='a")]:
                in_polars, in_duckdb = _counted_both_ways(con, demo, filters, group)
                assert in_polars in (None, in_duckdb), (filters, group)
                read_by_polars += in_polars is not None
        assert kept == tables, filters
        assert sum(tables) > 0
    assert read_by_polars >= len(cases) * (len(groups) - 3)   # all but the business-day groups


def _counted_both_ways(con, demo, filters, group) -> tuple[tuple | None, tuple]:
    """A group's count from memory by Polars' SQL (None where it does not read the query) and by DuckDB."""
    import polars as pl

    from analytics import drill

    conds, params = drill._conditions(filters, group)
    sql = load.over_wide(f"SELECT count(*) AS c0 FROM wide_orders WHERE {' AND '.join(conds) or 'true'}")
    wide = load.resident(con, demo)
    inlined = load._inlined(sql, params)
    try:
        in_polars = pl.SQLContext(wide_orders=wide).execute(inlined, eager=True).row(0)
    except (pl.exceptions.PolarsError, ValueError, TypeError):
        in_polars = None
    cur = con.cursor()
    cur.register("wide_orders", wide.to_arrow())
    in_duckdb = cur.execute(sql, params).fetchall()[0]
    cur.close()
    return in_polars, in_duckdb


def test_the_rows_a_selection_keeps_are_found_once_per_frame_and_go_with_it(monkeypatch):
    """load.selected remembers each (filters, grain)'s rows of a frame kept in memory: a page's tables and
    the next page's select them once; a bounded number per frame, forgotten with the frame."""
    import gc

    import polars as pl

    made = []
    real = load._filter_expr
    monkeypatch.setattr(load, "_filter_expr", lambda *a: made.append(a[:2]) or real(*a))
    wide = pl.DataFrame({"payment_method": ["card", "pix", None, "card"], "has_request": [True, False, True, False],
                         "placed_at": [None] * 4}, schema_overrides={"placed_at": pl.Datetime("us")})
    card = Filters(payment_methods=("card",))
    assert load.selected(wide, card, "orders").to_list() == [True, False, False, True]
    assert load.selected(wide, card, "requests").to_list() == [True, False, False, False]
    assert load.selected(wide, card, "orders").to_list() == [True, False, False, True]
    assert made == [(card, "orders")]   # the requests' rows are the orders' with a request; orders found once
    for k in range(load._SELECTED_KEPT + 5):
        load.selected(wide, Filters(payment_methods=(f"m{k}",)), "orders")
    assert len(load._SELECTED[id(wide)]) == load._SELECTED_KEPT
    key = id(wide)
    del wide
    gc.collect()
    assert key not in load._SELECTED


def test_the_requests_and_refunds_selected_are_the_filters_own_tests_under_every_kind_of_filter():
    """The requests' and refunds' rows, found from the selected orders', are the rows the filters' own tests
    pick for those grains (frames_of), stages included: an order whose request has no stage but whose
    cancellation has one is selected, its request not."""
    import polars as pl

    wide = pl.DataFrame({
        "payment_method": ["card", "card", "pix", "card", "card", None],
        "request_stage": ["awaiting_shipment", None, "after_shipment", None, "before_payment", None],
        "cancel_stage": [None, "awaiting_shipment", "after_shipment", None, "awaiting_shipment", "awaiting_shipment"],
        "has_request": [True, True, True, False, True, False],
        "has_refund": [True, False, True, True, None, False],
        "placed_at": [datetime(2026, 3, d) for d in (1, 2, 3, 4, 5, 6)],
    }, schema_overrides={"placed_at": pl.Datetime("us")})
    cases = [Filters(), Filters(payment_methods=("card",)), Filters(stages=("awaiting_shipment",)),
             Filters(payment_methods=("card",), stages=("awaiting_shipment", "after_shipment"),
                     start=date(2026, 3, 2), end=date(2026, 3, 5))]
    for filters in cases:
        for grain in ("requests", "refunds"):
            own = wide.select(load._filter_expr(filters, grain, set(wide.columns))).to_series().to_list()
            assert load.selected(wide, filters, grain).to_list() == own, (filters, grain)
    # By hand: under "awaiting shipment", order 2 (its request without a stage, its cancellation awaiting
    # shipment) is selected; its request is not.
    stage = Filters(stages=("awaiting_shipment",))
    assert load.selected(wide, stage, "orders").to_list() == [True, True, False, False, False, True]
    assert load.selected(wide, stage, "requests").to_list() == [True, False, False, False, False, False]


def test_a_grain_whose_every_row_is_selected_is_read_as_it_is_and_the_others_through_their_mask():
    import polars as pl

    wide = pl.DataFrame({"payment_method": ["card", "pix", "card"], "has_request": [True, False, True],
                         "has_refund": [True, True, True], "amount": [10.0, 20.0, 30.0]})
    every = load._rows(wide, Filters(), "orders")
    assert "FILTER" not in every.explain() and every.collect().equals(wide)
    refunds = load._rows(wide, Filters(), "refunds")   # every order has a refund: all of them too
    assert "FILTER" not in refunds.explain()
    requests = load._rows(wide, Filters(), "requests")
    assert "FILTER" in requests.explain() and requests.collect()["amount"].to_list() == [10.0, 30.0]
    cards = load._rows(wide, Filters(payment_methods=("card",)), "orders")
    assert cards.collect()["amount"].to_list() == [10.0, 30.0]
