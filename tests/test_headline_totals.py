"""The Overview's headline numbers are added up from their per-period partials (headline.whole), not
computed over the selection's rows again: they must equal the report's own scalars under the same filters
for every anchor, including rows the anchor's date leaves undated (an order without a refund under the
refund date), which belong to no period but to the whole."""

from datetime import timedelta

import pytest

from analytics import db, headline, report
from analytics.filters import Filters
from analytics.generate import generate


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    con = db.connect(tmp_path_factory.mktemp("headline") / "h.duckdb")
    ds = generate(con, 3_000, 11).dataset
    return con, ds.id


def _filters(con, ds) -> dict[str, Filters]:
    first, last = report.date_bounds(con, ds, "order")
    method = con.execute("SELECT payment_method FROM orders WHERE dataset_id = ? GROUP BY 1 ORDER BY count(*) DESC "
                         "LIMIT 1", [ds]).fetchone()[0]
    return {
        "none": Filters(),
        "a payment method": Filters(payment_methods=(method,)),
        "last 30 days": Filters(start=last - timedelta(days=29), end=last),
        "refund date, no range": Filters(anchor="refund"),
        "request date, a range": Filters(anchor="request", start=first + timedelta(days=20), end=last),
        "a stage": Filters(stages=("awaiting_shipment",)),
    }


def test_the_headline_numbers_are_the_reports_under_every_anchor(dataset):
    con, ds = dataset
    for label, filters in _filters(con, ds).items():
        bounds = report.date_bounds(con, ds, filters.anchor)
        heads, _ = headline.compute(con, ds, filters, bounds)
        expected = report.scalars(con, ds, filters, [h.name for h in heads])
        for h in heads:
            assert h.value == pytest.approx(expected[h.name], rel=1e-12, nan_ok=True), (label, h.name)


def test_undated_rows_count_in_the_whole_and_in_no_period(dataset):
    con, ds = dataset
    filters = Filters(anchor="refund")
    frames = headline.load(con, ds, filters, {"orders": {"refund_initiated_at", "amount", "is_cancelled"}})
    partials = headline.per_period(frames, ("cancelled_gmv", "orders"), "refund_initiated_at", "month")
    orders, refunded = con.execute(
        "SELECT count(*), count(f.order_id) FROM orders o LEFT JOIN refunds f USING (dataset_id, order_id) "
        "WHERE o.dataset_id = ?", [ds]).fetchone()
    assert orders > refunded > 0
    undated = partials.filter(partials["period"].is_null())
    assert undated["orders"].to_list() == [orders - refunded]
    assert headline.whole(partials)["orders"].item() == orders


def test_a_week_with_no_orders_is_a_week_at_zero_in_the_trend(tmp_path):
    """Five weeks, the third with no order: each tile's trend has five points, cancelled GMV 10, 0, 0, 0, 0
    (worked out from the file), and the cancellation rate none for the empty week (no order to divide by)."""
    from analytics import importer

    days = ["2026-03-02", "2026-03-03", "2026-03-10", "2026-03-24", "2026-03-30", "2026-03-31"]
    export = tmp_path / "shop.csv"
    export.write_text("order_id,placed_at,payment_method,amount,status,cancelled_at\n" + "".join(
        f"O{i},{d} 10:00,card,10.00,{'cancelled' if i == 0 else 'delivered'},{d + ' 12:00' if i == 0 else ''}\n"
        for i, d in enumerate(days)))
    con = db.connect(tmp_path / "shop.duckdb")
    ds = importer.import_files(con, [export]).dataset.id
    # The last day ends the data: its week (30 March) is complete only through the 5th of April, so the
    # selection is taken through that Sunday.
    bounds = (report.date_bounds(con, ds, "order")[0], report.date_bounds(con, ds, "order")[1] + timedelta(days=5))
    heads, period = headline.compute(con, ds, Filters(), bounds, tiles=("cancellation_rate", "cancelled_gmv"))
    by_name = {h.name: h for h in heads}
    assert period == "week"
    assert [float(v) for v in by_name["cancelled_gmv"].series] == [10.0, 0.0, 0.0, 0.0, 0.0]
    rate = by_name["cancellation_rate"].series
    assert len(rate) == 5 and rate[0] == pytest.approx(0.5) and rate[1] == 0 and rate[2] is None
