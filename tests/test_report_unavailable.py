"""What a data set does not record is reported as not available, with the reason, and never as 0."""

from __future__ import annotations

import re
from datetime import datetime

import polars as pl
import pytest

from analytics import ingest, metrics, report
from analytics.filters import Filters


def t(text):
    return datetime.fromisoformat(text) if text else None


def _store(con, rows: list[dict], name: str):
    columns = sorted({k for r in rows for k in r})
    schema = {c: (pl.Datetime("us") if c.endswith("_at") else pl.Float64 if c.endswith("amount") else pl.String)
              for c in columns}
    frame = pl.DataFrame([{c: (t(r.get(c)) if c.endswith("_at") else r.get(c)) for c in columns} for r in rows],
                         schema=schema)
    result = ingest.store_frame(con, frame, name=name, source_kind="import", source={})
    assert result.refused == 0, result.refused_by_reason
    return result.dataset


@pytest.fixture
def status_only(con):
    """Three orders; two cancelled by status alone (one never paid, one paid): no request, no refund rows.
    Worked out: orders 3, cancelled 2 (card: 1 of 2, cod: 1 of 1); stages: before_payment 1 (B),
    awaiting_shipment 1 (C)."""
    return _store(con, [
        dict(order_id="A", placed_at="2026-03-02 10:00", payment_method="card", amount=10.0, status="delivered",
             paid_at="2026-03-02 10:01", shipped_at="2026-03-03 10:00"),
        dict(order_id="B", placed_at="2026-03-02 11:00", payment_method="cod", amount=20.0, status="canceled"),
        dict(order_id="C", placed_at="2026-03-03 11:00", payment_method="card", amount=30.0, status="canceled",
             paid_at="2026-03-03 11:05"),
    ], "status only")


def test_without_shipping_times_the_shipped_and_delivered_steps_are_unknown_not_zero(con):
    """A WooCommerce-like export: payment times, no shipping or delivery time. A placed, paid; B placed,
    cancelled unpaid; C placed, paid, cancelled. Placed 3, of which 1 left before payment (B, cancelled
    then); paid 2; what became of the paid two after payment (shipped, left, cancelled after payment or
    after shipment) the export cannot tell: unknown, never 0."""
    dataset = _store(con, [
        dict(order_id="A", placed_at="2026-03-02 10:00", payment_method="card", amount=10.0, status="completed",
             paid_at="2026-03-02 10:01"),
        dict(order_id="B", placed_at="2026-03-02 11:00", payment_method="cod", amount=20.0, status="cancelled"),
        dict(order_id="C", placed_at="2026-03-03 11:00", payment_method="card", amount=30.0, status="cancelled",
             paid_at="2026-03-03 11:05"),
    ], "paid only")
    table = report.lifecycle(con, dataset)
    assert table.available
    assert table.frame.select("step", "reached", "left", "cancelled_after").rows() == [
        ("placed", 3, 1, 1), ("paid", 2, None, None), ("shipped", None, None, None), ("delivered", None, None, None)]
    assert "shipping time" in table.notes["shipped"]


def test_status_only_export_reports_what_it_can_and_says_why_not_the_rest(con, status_only):
    got = report.report(con, status_only)
    assert (got["orders"], got["cancelled_orders"], got["cancelled_gmv"]) == (3, 2, 50.0)
    assert got["cancellations_by_stage"] == {"before_payment": 1, "awaiting_shipment": 1, "after_shipment": 0}
    by_method = {r["payment_method"]: (r["orders"], r["cancelled_orders"]) for r in got["cancelled_by_payment_method"]}
    assert by_method == {"card": (2, 1), "cod": (1, 1)}
    for key in ("cancellation_requests", "requests_by_stage", "request_outcomes", "reasons", "acceptance_rate",
                "seller_response_hours", "refunds", "refund_amount", "refund_latency", "refunds_over_threshold",
                "refund_wait_from_request", "refund_wait_from_start"):
        assert got[key] is None, f"{key} shown as {got[key]!r} instead of not available"
        assert got["unavailable"][key], key
    assert "no cancellation requests" in got["unavailable"]["reasons"]
    assert "no refunds" in got["unavailable"]["refund_latency"]
    assert got["seller_losses"] == {"cancelled_gmv": 50.0, "return_path_orders": None}


def test_status_only_tables(con, status_only):
    for table in (report.reasons(con, status_only), report.outcomes(con, status_only),
                  report.refund_latency(con, status_only), report.refund_latency_distribution(con, status_only),
                  report.response_time(con, status_only), report.sellers(con, status_only)):
        assert not table.available and table.frame is None and table.unavailable, table.metric
    stages = report.stages(con, status_only)
    assert stages.available and "requests" not in stages.frame.columns and "requests" in stages.notes
    assert stages.frame["cancelled_orders"].to_list() == [1, 1, 0]
    by_method = report.volume_by(con, status_only, by="payment_method")
    assert "cancellation_requests" not in by_method.frame.columns
    losses = report.seller_losses(con, status_only)
    assert losses.frame.columns == ["cancelled_orders", "cancelled_gmv", "cancelled_gmv_share"]
    assert set(losses.notes) == {"return_path_orders", "return_path_gmv"}
    unavailable = report.unavailable(con, status_only)
    assert {"reasons", "outcomes", "refund_latency_by_payment_method", "sellers",
            "p50_refund_business_days_from_start", "cancellation_requests"} <= set(unavailable)
    assert {"orders", "cancelled_orders", "stages", "volume_by_payment_method"}.isdisjoint(unavailable)


def test_requests_without_reasons_and_refunds_without_times(con):
    """Requests recorded with times but no reason; refunds with a channel and amount but no times."""
    ds = _store(con, [
        dict(order_id="A", placed_at="2026-03-02 10:00", payment_method="card", amount=10.0,
             paid_at="2026-03-02 10:01", cancel_requested_at="2026-03-02 12:00", seller_response="accepted",
             seller_responded_at="2026-03-02 14:00", cancelled_at="2026-03-02 14:00", refund_channel="original",
             refund_amount=10.0),
        dict(order_id="B", placed_at="2026-03-02 11:00", payment_method="card", amount=20.0,
             paid_at="2026-03-02 11:01", shipped_at="2026-03-04 11:00"),
    ], "no reasons, no refund times")
    got = report.report(con, ds)
    assert got["cancellation_requests"] == 1 and got["request_outcomes"]["accepted"] == 1
    assert got["seller_response_hours"]["p50"] == 2.0
    assert got["refunds"] == 1 and got["refund_amount"] == 10.0
    assert got["reasons"] is None and "reason" in got["unavailable"]["reasons"]
    assert got["refund_latency"] is None and "completion time" in got["unavailable"]["refund_latency"]
    assert report.refunds_by(con, ds, by="channel").frame["refunds"].to_list() == [1]
    assert not report.reasons(con, ds, by="stage").available


def test_without_shipment_times_the_sellers_table_has_no_return_way_column(con):
    """Requests but no shipment time anywhere: no order can be seen to go the return way, so the sellers'
    table (and its download) leaves the column out with the reason, as the figure says n/a, never 0."""
    ds = _store(con, [
        dict(order_id="A", placed_at="2026-03-02 10:00", payment_method="card", amount=10.0, seller_id="S1",
             paid_at="2026-03-02 10:01", cancel_requested_at="2026-03-02 12:00", seller_response="accepted",
             seller_responded_at="2026-03-02 14:00", cancelled_at="2026-03-02 14:00"),
        dict(order_id="B", placed_at="2026-03-02 11:00", payment_method="card", amount=20.0, seller_id="S2",
             paid_at="2026-03-02 11:01"),
    ], "no shipment times")
    assert report.report(con, ds)["seller_losses"]["return_path_orders"] is None
    sellers = report.sellers(con, ds)
    assert sellers.available and "return_path_orders" not in sellers.frame.columns
    assert "shipping time" in sellers.notes["return_path_orders"]
    assert sellers.frame["cancellation_requests"].to_list() == [1, 0]


def test_a_filter_matching_nothing_is_zero_not_unavailable(con, status_only):
    got = report.report(con, status_only, Filters(payment_methods=("wallet",)))
    assert got["orders"] == 0 and got["cancelled_orders"] == 0 and got["cancellation_rate"] is None
    # Still unavailable for the data set's reasons, not because of the filter.
    assert set(got["unavailable"]) == set(report.report(con, status_only)["unavailable"])


def test_every_capability_a_metric_needs_has_a_reason():
    used = {n for m in metrics.REGISTRY.values() for n in (*m.needs, *(x for v in m.column_needs.values() for x in v))}
    assert used <= set(metrics.CAPABILITIES)
    assert all(why.strip() for why in metrics.CAPABILITIES.values())


def test_delivered_is_unknown_not_zero_when_no_order_has_a_delivery_time(con, status_only):
    # A: placed, paid, shipped; no delivery time anywhere in the data set. B left before payment (cancelled
    # before payment), C paid but not shipped (cancelled awaiting shipment).
    table = report.lifecycle(con, status_only)
    assert table.frame.select("step", "reached", "left", "cancelled_after").rows() == [
        ("placed", 3, 1, 1), ("paid", 2, 1, 1), ("shipped", 1, None, 0), ("delivered", None, None, None)]
    assert "delivery time" in table.notes["delivered"]
    # The status the export gave each order, beside the stage each cancellation was at.
    status = report.orders_by_status(con, status_only).frame
    assert status.select("status", "stage", "orders", "cancelled_orders").rows() == [
        ("canceled", "before_payment", 1, 1), ("canceled", "awaiting_shipment", 1, 1), ("delivered", None, 1, 0)]


# A shop's own export with cancellations and answers but no payment or shipment times, semicolons and
# decimal commas, as a European spreadsheet writes it.
NO_STAGE_EXPORT = """order_id;placed_at;payment_method;amount;currency;status;cancelled_at;cancel_reason;seller_response;refund_amount
EU-1;02.03.2026 09:00;card;1.234,56;EUR;delivered;;;;
EU-2;02.03.2026 10:30;paypal;19,99;EUR;cancelled;02.03.2026 12:00;wrong item;accepted;19,99
EU-3;13.03.2026 11:00;card;250,00;EUR;cancelled;14.03.2026 08:00;Changed mind;;250,00
EU-4;04.03.2026 15:45;card;2.000,00;EUR;shipped;;;;
"""


def test_an_export_without_payment_or_shipment_times_never_makes_up_a_stage(tmp_path, capsys):
    """Worked out: 4 orders, GMV 3,504.55; 2 cancelled (EU-2, EU-3: 269.99), each with a request. Nothing
    says whether either was paid or shipped, so no stage: not 'before payment', and so not 'buyer
    cancelled (unpaid)' for a refunded order. EU-2's request ends as the seller answered it (accepted);
    EU-3's, with no answer recorded, is unknown. Whether a parcel overtook a request is unknown too."""
    from analytics import charts, db, drill, importer
    from analytics.cli import main

    path = tmp_path / "orders.csv"
    path.write_text(NO_STAGE_EXPORT)
    database = tmp_path / "app.duckdb"
    con = db.connect(database)
    try:
        dataset = importer.import_files(con, [path], name="EU").dataset.id
        stored = con.execute("SELECT order_id, stage, outcome FROM cancellation_requests WHERE dataset_id = ? "
                             "ORDER BY order_id", [dataset]).fetchall()
        assert stored == [("EU-2", "unknown", "accepted"), ("EU-3", "unknown", "unknown")]
        got = report.report(con, dataset)
        # Orders by status say the stage is unknown, in words, and a click on that part lists its orders.
        status = report.orders_by_status(con, dataset).frame
        assert {(r["status"], r["stage"], r["orders"]) for r in status.to_dicts()} == {
            ("delivered", None, 1), ("shipped", None, 1), ("cancelled", "unknown", 2)}
        assert "Stage unknown" in charts.status_chart(status).to_json()
        _, total = drill.orders(con, dataset, Filters(), drill.Group(stage="unknown"))
        _, requests = drill.orders(con, dataset, Filters(), drill.Group(of="requests", request_stage="unknown"))
        assert total == requests == 2
    finally:
        con.close()
    assert (got["orders"], got["cancelled_orders"], got["cancellation_requests"]) == (4, 2, 2)
    assert round(got["gmv"], 2) == 3504.55 and round(got["cancelled_gmv"], 2) == 269.99
    assert got["request_outcomes"]["accepted"] == 1 and got["request_outcomes"]["unknown"] == 1
    assert not got["request_outcomes"].get("buyer_cancelled")
    for key in ("cancellations_by_stage", "requests_by_stage"):
        assert got[key] is None and "stage of its cancellations is unknown" in got["unavailable"][key]
    assert got["seller_losses"]["return_path_orders"] is None
    # The command line's text says the same, and says why, where it stopped with a TypeError.
    capsys.readouterr()
    assert main(["report", "--dataset", "EU", "--db", str(database)]) == 0
    out = capsys.readouterr().out
    assert "By stage" not in out and "Requests by stage: the export records no payment or shipment times" in out
    assert re.search(r"^buyer cancelled +0$", out, re.M) and re.search(r"^accepted +1$", out, re.M)
