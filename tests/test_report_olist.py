"""Olist's public export (8,000-order sample): cancelled orders by payment method and by stage, worked out
here from the CSV files with the csv module alone, against the report; and the metrics the export cannot
support (reasons, refund times) reported as not available, never as 0."""

from __future__ import annotations

import csv
import re
from collections import Counter

import pytest

from analytics import importer, report
from analytics.load import load_frame

CANCELLED = {"canceled", "unavailable"}


def _label(text: str) -> str:
    return re.sub(r"[\s\-]+", "_", text.strip().lower())


def expected_from_files(folder) -> dict:
    """Cancelled orders by payment method (the method of the order's largest payment; ties: the lowest
    payment_sequential) and by stage (not approved: before payment; approved, not handed to the carrier:
    awaiting shipment; handed over: after shipment), straight from the CSV files."""
    payments: dict[str, list[tuple[float, int, str]]] = {}
    with open(folder / "olist_order_payments_dataset.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            payments.setdefault(row["order_id"], []).append(
                (float(row["payment_value"]), int(row["payment_sequential"]), row["payment_type"]))
    by_method, by_stage, gmv = Counter(), Counter(), 0.0
    out_of_order = 0
    with open(folder / "olist_orders_dataset.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["order_status"] not in CANCELLED or row["order_id"] not in payments:
                continue
            paid, shipped = row["order_approved_at"], row["order_delivered_carrier_date"]
            if paid and shipped and shipped < paid:
                out_of_order += 1
            rows = payments[row["order_id"]]
            best = max(rows, key=lambda r: (r[0], -r[1]))
            by_method[_label(best[2])] += 1
            by_stage["before_payment" if not paid else "awaiting_shipment" if not shipped else "after_shipment"] += 1
            gmv += sum(r[0] for r in rows)
    # Import refuses orders whose times are out of order; none of the cancelled ones is, so the counts
    # below do not depend on those checks.
    assert out_of_order == 0
    return {"by_method": dict(by_method), "by_stage": dict(by_stage), "gmv": gmv}


@pytest.fixture
def olist(con, olist_dir):
    result = importer.import_files(con, [olist_dir / "olist_orders_dataset.csv",
                                         olist_dir / "olist_order_payments_dataset.csv"])
    return result.dataset


def test_olist_cancelled_orders_by_payment_method_and_stage(con, olist, olist_dir):
    expected = expected_from_files(olist_dir)
    # Counted by hand in the sample's README: 60 canceled + 47 unavailable.
    assert sum(expected["by_method"].values()) == 107
    got = report.report(con, olist)
    assert got["cancelled_orders"] == 107
    assert got["cancelled_gmv"] == pytest.approx(expected["gmv"])
    assert {r["payment_method"]: r["cancelled_orders"] for r in got["cancelled_by_payment_method"]
            if r["cancelled_orders"]} == expected["by_method"]
    assert {k: v for k, v in got["cancellations_by_stage"].items() if v} == expected["by_stage"]
    stages = report.stages(con, olist)
    assert dict(zip(stages.frame["stage"], stages.frame["cancelled_orders"], strict=True)) == {
        s: expected["by_stage"].get(s, 0) for s in ("before_payment", "awaiting_shipment", "after_shipment")}


def test_olist_reasons_and_refund_latency_are_not_available(con, olist):
    got = report.report(con, olist)
    for key in ("reasons", "refund_latency", "cancellation_requests", "requests_by_stage", "request_outcomes"):
        assert got[key] is None
        assert key in got["unavailable"]
    assert "no cancellation requests" in got["unavailable"]["reasons"]
    assert "no refunds" in got["unavailable"]["refund_latency"]
    reasons = report.reasons(con, olist)
    assert not reasons.available and reasons.frame is None
    assert not report.refund_latency(con, olist).available
    by_method = report.volume_by(con, olist, by="payment_method")
    assert by_method.available and "cancellation_requests" in by_method.notes


def test_an_order_with_several_sellers_counts_for_each_with_its_share(con, olist_dir):
    """Olist orders whose items come from several sellers: every seller is in the seller table, each
    credited with its share of the order's items (price + freight), so GMV is split, never doubled."""
    from collections import defaultdict

    files = [olist_dir / f"olist_{n}_dataset.csv" for n in ("orders", "order_payments", "order_items")]
    dataset = importer.import_files(con, files).dataset
    with files[2].open(newline="") as fh:
        items = list(csv.DictReader(fh))
    value = defaultdict(lambda: defaultdict(float))
    for it in items:
        value[it["order_id"]][it["seller_id"]] += float(it["price"]) + float(it["freight_value"])
    several = {o: v for o, v in value.items() if len(v) > 1}
    assert len(several) == 77
    stored = dict(con.execute("SELECT order_id, amount FROM orders WHERE dataset_id = ?", [dataset.id]).fetchall())
    order, by_seller = next((o, v) for o, v in sorted(several.items()) if o in stored)
    sellers = report.sellers(con, dataset.id).frame
    for seller in by_seller:
        # Filtering on either seller finds the order; the seller's row holds its share of the amount.
        alone = report.sellers(con, dataset.id, report.Filters(sellers=(seller,))).frame
        assert seller in alone["seller_id"].to_list()
        part = load_frame(con, dataset.id, "orders", report.Filters(sellers=(seller,)), ("order_id",))
        assert order in part["order_id"].to_list()
    every_seller = {s for v in value.values() for s in v}
    assert every_seller <= set(sellers["seller_id"].to_list())
    # The seller table's GMV adds up to the GMV of the orders with a seller: split, not doubled.
    with_seller = sum(a for o, a in stored.items() if o in value)
    assert sellers.filter(sellers["seller_id"] != "unknown (not in the export)")["gmv"].sum() == \
        pytest.approx(with_seller)


def test_orders_shipped_before_paid_are_left_out_of_the_dispatch_fit_and_counted(con, olist_dir):
    """Olist's 111 orders with a carrier hand-over stamped before the payment approval are stored (with a
    warning) and counted by every figure, but the dispatch fit, which needs the time from payment to
    shipment, leaves them out and says how many."""
    from analytics import calibrate

    files = [olist_dir / f"olist_{n}_dataset.csv" for n in ("orders", "order_payments")]
    dataset = importer.import_files(con, files).dataset
    assert report.report(con, dataset.id)["orders"] == 7999
    summary = calibrate.calibrate(con, dataset.id).summary()
    assert summary["counts"]["left_out_of_dispatch_shipped_before_paid"] == 111
    shipped = con.execute("SELECT count(*) FROM orders WHERE dataset_id = ? AND shipped_at IS NOT NULL "
                          "AND paid_at IS NOT NULL AND shipped_at >= paid_at", [dataset.id]).fetchall()[0][0]
    assert summary["payment_to_shipment"]["shipped"] == shipped
