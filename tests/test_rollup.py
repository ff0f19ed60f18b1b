"""The rollup (analytics/rollup.py): partials tallied once per order day, payment method and stages, added
up for a selection of them, are the partials of the selected orders tallied directly;
so the report from memory gives the same figures through it as the report read through SQL. Filters the
dimensions cannot tell apart are not answered from it."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from analytics import charts, compare, db, generate, grouped, headline, load, memory, rollup
from analytics import metrics as m
from analytics import pipelines as p
from analytics import report as r
from analytics.filters import Filters
from tests.test_resident import resident


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    con = db.connect(tmp_path_factory.mktemp("rollup") / "lab.duckdb")
    dataset = generate.generate(con, 3_000, 11, name="rolled").dataset.id
    first, last = r.date_bounds(con, dataset)
    yield con, dataset, first, last
    con.close()


def _selections(first: date, last: date) -> list[Filters]:
    middle = first + (last - first) / 2
    return [Filters(), Filters(start=middle), Filters(end=middle), Filters(start=middle, end=middle + timedelta(days=29)),
            Filters(start=middle, end=middle),                           # one day
            Filters(start=last + timedelta(days=1)),                     # no order at all
            Filters(payment_methods=("card",)), Filters(payment_methods=("card", "boleto", "pix")),
            Filters(start=first, end=middle, payment_methods=("wallet",)),
            Filters(anchor="request", payment_methods=("card",)),        # an anchor without dates: no date test
            # A stage selects an order by its request's stage, else its cancellation's; a request by its own.
            Filters(stages=("awaiting_shipment",)), Filters(stages=("before_payment",)),
            Filters(start=middle, stages=("before_payment", "after_shipment"), payment_methods=("card", "pix"))]


def _nonzero(added: pl.DataFrame) -> pl.DataFrame:
    """Partials without their zeros: a whole-frame spec over no orders is tallied as zero counts and sums,
    where the rollup has no row, and read (grouped.read) gives zero either way."""
    return added.filter((pl.col("n") != 0).fill_null(True) & (pl.col("s") != 0).fill_null(True))


def test_a_selection_of_days_and_methods_adds_up_to_its_orders_tallied(stored):
    con, dataset, first, last = stored
    specs = r.report_specs()
    with resident():
        wide = load.resident(con, dataset)
        for filters in _selections(first, last):
            assert rollup.answers(filters), filters
            direct = grouped.add(grouped.tally(load.frames_of(wide.lazy(), filters), specs))
            assert _nonzero(rollup.added(wide, specs, filters)).equals(_nonzero(direct)), filters
        assert set(rollup.kept_for(wide)) == set(specs)    # each spec tallied once, for every selection


def test_the_report_scalars_and_tables_from_memory_through_the_rollup_are_those_through_sql(stored):
    con, dataset, first, last = stored
    selections = _selections(first, last)
    def figures(f: Filters) -> str:
        tables = {name: getattr(r, name)(con, dataset, f).frame.to_dicts() for name in r.FROM_PARTIALS}
        return json.dumps({"report": r.report(con, dataset, f), "scalars": r.scalars(con, dataset, f, m.SCALARS),
                           **tables}, sort_keys=True, default=str)

    from_sql = [figures(f) for f in selections]
    with resident():
        from_memory = [figures(f) for f in selections]
        kept = rollup.kept_for(load.resident(con, dataset))    # answered from the rollup
        assert {spec for spec, _ in r.FROM_PARTIALS.values()} <= set(kept)
    assert from_memory == from_sql
    # The volume over time's money: the rollup's exact sum read as a float, the pipeline's a float sum;
    # they agree to the last digits.
    for f in selections:
        for period in ("day", "week", "month"):
            sql = r.volume_over_time(con, dataset, f, period).frame
            with resident():
                rolled = r.volume_over_time(con, dataset, f, period).frame
            assert_frame_equal(rolled, sql, rel_tol=1e-12, abs_tol=1e-9)
    assert json.loads(from_sql[0])["report"]["orders"] == json.loads(from_sql[0])["scalars"]["orders"] == 3_000


@pytest.mark.parametrize("filters, answered", [
    (Filters(sellers=("S00001",)), False), (Filters(reasons=("changed_mind",)), False),
    (Filters(stages=("awaiting_shipment",)), True), (Filters(shipping_methods=("express",)), False),
    (Filters(start=date(2025, 3, 1), anchor="request"), False), (Filters(end=date(2025, 3, 1), anchor="refund"), False),
    (Filters(start=date(2025, 3, 1), payment_methods=("card",)), True), (Filters(anchor="refund"), True),
], ids=["seller", "reason", "stage", "shipping", "request dates", "refund dates", "order dates and method",
        "refund anchor, no dates"])
def test_only_days_of_order_and_payment_methods_are_answered(filters, answered):
    assert rollup.answers(filters) is answered
    wide = pl.DataFrame({"placed_at": [datetime(2025, 3, 1)], "payment_method": ["card"]})
    assert (rollup.added(wide, [], filters) is not None) is answered
    assert rollup.added(None, [], Filters()) is None     # orders not kept in memory


SPECS = [grouped.Grouped("whole", "orders", None, ("orders", "gmv")),
         grouped.Grouped("by_method", "orders", "payment_method", ("orders", "gmv"))]


def test_an_order_counts_in_the_day_it_was_placed_to_the_last_microsecond():
    wide = pl.DataFrame({
        "placed_at": [datetime(2025, 3, 3, 23, 59, 59, 999_999), datetime(2025, 3, 4), datetime(2025, 3, 4, 12),
                      datetime(2025, 3, 5, 0, 0, 1)],
        "payment_method": ["card", "card", "pix", "card"],
        "amount": [10.10, 20.20, 5.05, 1.00],
        "has_request": [False] * 4, "has_refund": [False] * 4,
    }).cast({"placed_at": p.COLUMNS["placed_at"], "amount": p.COLUMNS["amount"]})

    def figures(filters: Filters) -> tuple[int, float, dict]:
        added = rollup.added(wide, SPECS, filters)
        whole = grouped.read(added, SPECS[0])[None]
        by_method = {k: v["orders"] for k, v in grouped.read(added, SPECS[1]).items()}
        return whole["orders"], round(whole["gmv"], 2), by_method

    assert figures(Filters()) == (4, 36.35, {"card": 3, "pix": 1})
    assert figures(Filters(end=date(2025, 3, 3))) == (1, 10.10, {"card": 1})          # 23:59:59.999999 is the 3rd
    assert figures(Filters(start=date(2025, 3, 4), end=date(2025, 3, 4))) == (2, 25.25, {"card": 1, "pix": 1})
    assert figures(Filters(start=date(2025, 3, 4), payment_methods=("card",))) == (2, 21.20, {"card": 2})
    assert figures(Filters(start=date(2025, 3, 6))) == (0, 0.0, {})


def test_a_stage_selects_an_order_by_its_request_s_stage_else_its_cancellation_s_and_a_request_by_its_own():
    wide = pl.DataFrame({
        "placed_at": [datetime(2025, 3, 3)] * 5,
        "payment_method": ["card", "card", "card", "pix", "pix"],
        "amount": [1.0] * 5,
        # 1: cancelled on its request awaiting shipment; 2: a request whose stage is unknown, the order
        # cancelled awaiting shipment; 3: a request after shipment, refused; 4: cancelled before payment
        # without a request; 5: neither.
        "request_stage": ["awaiting_shipment", None, "after_shipment", None, None],
        "cancel_stage": ["awaiting_shipment", "awaiting_shipment", None, "before_payment", None],
        "has_request": [True, True, True, False, False], "has_refund": [False] * 5,
    }).cast({"placed_at": p.COLUMNS["placed_at"]})
    specs = [grouped.Grouped("orders", "orders", None, ("orders",)),
             grouped.Grouped("requests", "requests", None, ("requests",))]

    def counts(filters: Filters, added: pl.DataFrame) -> tuple[int, int]:
        return grouped.read(added, specs[0])[None]["orders"], grouped.read(added, specs[1])[None]["requests"]

    for stages, expected in [(("awaiting_shipment",), (2, 1)), (("before_payment",), (1, 0)),
                             (("after_shipment",), (1, 1)), (("before_payment", "awaiting_shipment"), (3, 1))]:
        filters = Filters(stages=stages)
        direct = grouped.add(grouped.tally(load.frames_of(wide.lazy(), filters), specs))
        assert counts(filters, rollup.added(wide, specs, filters)) == counts(filters, direct) == expected, stages


@pytest.mark.parametrize("period", ["day", "week", "month"])
def test_a_trend_per_period_from_the_rollup_is_the_trend_from_the_orders(stored, period):
    con, dataset, first, last = stored
    names = (*headline.HEADLINE, headline.VOLUME)
    with resident():
        wide = load.resident(con, dataset)
        for filters in _selections(first, last)[:-1]:     # the order anchor's
            direct = headline.per_period(load.frames_of(wide.lazy(), filters), names, "placed_at", period)
            rolled = rollup.per_period(rollup.selected(wide, rollup.EVERY_SCALAR, filters), m.partials_of(names), period)
            assert rolled["period"].to_list() == direct["period"].to_list(), filters
            assert headline.finalise(rolled, names).equals(headline.finalise(direct, names)), filters
            assert m.finalise_row(headline.whole(rolled), names) == m.finalise_row(headline.whole(direct), names)


def test_the_headlines_from_memory_are_those_through_sql(stored):
    con, dataset, first, last = stored
    bounds = (first, last)
    cases = [(f, c) for f in _selections(first, last) for c in (compare.PREVIOUS, compare.Comparison("year"))]
    from_sql = [headline.compute(con, dataset, f, bounds, c) for f, c in cases]
    with resident():
        from_memory = [headline.compute(con, dataset, f, bounds, c) for f, c in cases]
    assert from_memory == from_sql
    assert {period for _, period in from_sql} == {"day", "week"}     # the selections' spans give both


def test_the_rollup_counts_in_the_bytes_of_the_orders_kept_in_memory(stored):
    con, dataset, _, _ = stored
    with resident():
        wide = load.resident(con, dataset)
        alone = load.resident_bytes()
        r.report(con, dataset)
        load.resident(con, dataset)        # each use measures the orders kept again
        rolled = memory.size_of(rollup.kept_for(wide))
        assert rolled > 0
        assert load.resident_bytes() >= alone + rolled


def _refund_tables(con, dataset, filters: Filters) -> dict[str, r.Table]:
    out = {}
    for by in ("payment_method", "channel"):
        out[f"refunds_by.{by}"] = r.refunds_by(con, dataset, filters, by=by)
        out[f"refund_latency.{by}"] = r.refund_latency(con, dataset, filters, by=by)
    for by in ("payment_method", "channel", None):
        for from_request in (False, True):
            for threshold in (0.0, 3.0, 20.0):
                out[f"share_over.{by}.{from_request}.{threshold}"] = r.refund_share_over(
                    con, dataset, filters, threshold_days=threshold, by=by, from_request=from_request)
    return out


def test_the_refunds_tables_from_memory_through_the_rollup_are_those_through_sql(stored):
    con, dataset, first, last = stored
    refunds = []
    for filters in _selections(first, last):
        from_sql = _refund_tables(con, dataset, filters)
        refunds.append(from_sql["refunds_by.channel"].frame["refunds"].sum())
        with resident():
            from_memory = _refund_tables(con, dataset, filters)
            wide = load.resident(con, dataset)
            assert r._latency_spec("refund_channel") in rollup.kept_for(wide)     # answered from the rollup
        for name, table in from_sql.items():
            assert (from_memory[name].unavailable, from_memory[name].notes) == (table.unavailable, table.notes)
            # A mean read from a distribution and Polars' mean of the values agree to the last digits.
            assert_frame_equal(from_memory[name].frame, table.frame, rel_tol=1e-12, abs_tol=1e-12)
    assert refunds[0] > 0 and refunds[-3] > 0      # the whole data set's, and those of orders cancelled awaiting shipment


def test_a_large_rollup_selected_whole_is_its_every_row():
    # 40,000 sellers' rows of one spec: Polars refuses a large frame filtered by a literal true, so the
    # whole selection is taken as it is.
    n = 40_000
    wide = pl.DataFrame({
        "placed_at": [datetime(2025, 1, 1) + timedelta(days=i % 300) for i in range(n)],
        "payment_method": [("card", "pix", "boleto")[i % 3] for i in range(n)],
        "seller_id": [f"S{i:05d}" for i in range(n)],
        "amount": [1.0] * n, "has_request": [False] * n, "has_refund": [False] * n,
    }).cast({"placed_at": p.COLUMNS["placed_at"]})
    spec = grouped.Grouped("by_seller", "orders", "seller_id", ("orders",))
    assert rollup.selected(wide, [spec], Filters()).height == n
    added = rollup.added(wide, [spec], Filters())
    assert added.height == n and added["n"].sum() == n
    assert rollup.added(wide, [spec], Filters(payment_methods=("pix",)))["n"].sum() == n // 3


def test_the_refund_days_counted_from_memory_are_the_distributions_counts(stored):
    con, dataset, first, last = stored
    for filters in _selections(first, last):
        for by in ("payment_method", "channel"):
            for measure in ("start", "request"):
                from_sql = r.refund_days(con, dataset, filters, by=by, measure=measure)
                with resident():
                    from_memory = r.refund_days(con, dataset, filters, by=by, measure=measure)
                assert from_memory.frame.equals(from_sql.frame), (filters, by, measure)
                # The counts are the distribution's rows with that time, and draw the same curves.
                rows = r.refund_latency_distribution(con, dataset, filters).frame
                days = r.REFUND_DAYS[measure][0]
                assert from_sql.frame["refunds"].sum() == rows[days].count()
                group = "refund_channel" if by == "channel" else by
                assert charts.latency_ecdf(from_memory.frame, group, days).equals(charts.latency_ecdf(rows, group, days))
