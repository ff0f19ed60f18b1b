"""A seller's list of orders adds up to the seller's GMV. An order with several sellers (Olist's items name
them) is each seller's order with that seller's share of its amount: the seller table, the report under a
filter on the seller, the Orders page's list and the command line's all credit the same part, under the
seller's own id.

Four orders, Olist's three files, worked out by hand:
  o1  paid 110.00; its items: sa 50 + 10 freight = 60, sb 30 + 10 = 40, of 100 -> shares 0.6 and 0.4:
      sa's part 0.6 x 110 = 66.00, sb's 0.4 x 110 = 44.00. Its first item is sa's: stored as sa's order.
  o2  paid 50.00, sb's alone.
  o3  paid 30.00, sa's alone, cancelled.
  o4  paid 20.00, no items: its seller is unknown.
  sa: orders o1 o3, GMV 66 + 30 = 96.00, cancelled GMV 30.00.
  sb: orders o1 o2, GMV 44 + 50 = 94.00 (the whole of o1 would make it 160.00), cancelled GMV 0.
  sa and sb together: o1 whole (66 + 44 = 110), o2, o3: 190.00.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from analytics import db, drill, importer, load, memory, report
from analytics.filters import NO_FILTERS, Filters
from tests.conftest import ROOT

G = drill.Group
HEAD = {
    "orders": "order_id,customer_id,order_status,order_purchase_timestamp,order_approved_at,"
              "order_delivered_carrier_date,order_delivered_customer_date,order_estimated_delivery_date",
    "order_payments": "order_id,payment_sequential,payment_type,payment_installments,payment_value",
    "order_items": "order_id,order_item_id,product_id,seller_id,shipping_limit_date,price,freight_value",
}
ROWS = {
    "orders": [
        "o1,c1,delivered,2018-01-02 10:00:00,2018-01-02 11:00:00,2018-01-03 10:00:00,2018-01-08 10:00:00,2018-01-20 00:00:00",
        "o2,c2,delivered,2018-01-03 10:00:00,2018-01-03 11:00:00,2018-01-04 10:00:00,2018-01-09 10:00:00,2018-01-20 00:00:00",
        "o3,c3,canceled,2018-01-04 10:00:00,2018-01-04 11:00:00,,,2018-01-20 00:00:00",
        "o4,c4,canceled,2018-01-05 10:00:00,,,,2018-01-20 00:00:00",
    ],
    "order_payments": ["o1,1,credit_card,1,110.0", "o2,1,credit_card,1,50.0", "o3,1,boleto,1,30.0",
                       "o4,1,credit_card,1,20.0"],
    "order_items": ["o1,1,p1,sa,2018-01-05 10:00:00,50.0,10.0", "o1,2,p2,sb,2018-01-05 10:00:00,30.0,10.0",
                    "o2,1,p3,sb,2018-01-05 10:00:00,45.0,5.0", "o3,1,p4,sa,2018-01-06 10:00:00,25.0,5.0"],
}
GMV = {"sa": 96.0, "sb": 94.0}


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shares")
    files = []
    for name, rows in ROWS.items():
        path = folder / f"olist_{name}_dataset.csv"
        path.write_text("\n".join([HEAD[name], *rows]) + "\n", encoding="utf-8")
        files.append(path)
    path = folder / "lab.duckdb"
    con = db.connect(path)
    dataset = importer.import_files(con, files).dataset
    con.close()
    con = db.connect(path, read_only=True)   # the command line's processes open the file beside it
    yield path, con, dataset
    con.close()


def listed(con, dataset, filters=NO_FILTERS, group=None, **kw) -> list[tuple[str, str, float]]:
    frame, total = drill.orders(con, dataset.id, filters, group, **kw)
    assert total == frame.height
    return [(r["order_id"], r["seller_id"], round(r["amount"], 2)) for r in frame.iter_rows(named=True)]


def test_the_seller_table_credits_each_seller_its_share(stored):
    _, con, dataset = stored
    table = report.sellers(con, dataset.id).frame
    assert {r["seller_id"]: round(r["gmv"], 2) for r in table.iter_rows(named=True)} == {
        "sa": 96.0, "sb": 94.0, "unknown (not in the export)": 20.0}


def test_a_sellers_list_shows_its_own_share_under_its_own_id(stored):
    _, con, dataset = stored
    # From the seller's row (a group) and under the filter on the seller alike; o1 is stored as sa's order.
    for filters, group in ((Filters(), G(seller="sb")), (Filters(sellers=("sb",)), None)):
        assert listed(con, dataset, filters, group) == [("o1", "sb", 44.0), ("o2", "sb", 50.0)]
    assert listed(con, dataset, group=G(seller="sa")) == [("o1", "sa", 66.0), ("o3", "sa", 30.0)]
    # Sorted by the amount shown: sb's 44.00 of o1 before o2's 50.00 (o1's whole 110.00 would come last).
    assert listed(con, dataset, group=G(seller="sb"), sort="amount") == [("o1", "sb", 44.0), ("o2", "sb", 50.0)]
    # The seller's group within a filter on another seller: the orders of both, the group's seller's part.
    assert listed(con, dataset, Filters(sellers=("sa",)), G(seller="sb")) == [("o1", "sb", 44.0)]
    # Both sellers chosen: o1 whole (66 + 44), under its first seller.
    assert listed(con, dataset, Filters(sellers=("sa", "sb"))) == [
        ("o1", "sa", 110.0), ("o2", "sb", 50.0), ("o3", "sa", 30.0)]
    # The cancelled orders behind sa's cancelled GMV.
    assert listed(con, dataset, group=G(of="cancelled", seller="sa")) == [("o3", "sa", 30.0)]


@pytest.mark.parametrize("kept", [False, True], ids=["sql", "in memory"])
def test_the_list_adds_up_to_the_sellers_gmv_in_the_report_and_the_seller_table(stored, kept):
    _, con, dataset = stored
    if kept:
        load.keep_resident(memory.Limits(1 << 30, 600))
    try:
        for seller, gmv in GMV.items():
            filters = Filters(sellers=(seller,))
            frame, _ = drill.orders(con, dataset.id, Filters(), G(seller=seller))
            got = report.report(con, dataset.id, filters)
            row = report.sellers(con, dataset.id, filters).frame
            assert row["seller_id"].to_list() == [seller]   # the filter's seller alone: the others' part is not selected
            assert frame["amount"].sum() == pytest.approx(gmv)
            assert got["gmv"] == pytest.approx(gmv) and row["gmv"][0] == pytest.approx(gmv)
        sa = report.report(con, dataset.id, Filters(sellers=("sa",)))
        assert sa["cancelled_gmv"] == pytest.approx(30.0) and sa["orders"] == 2
        assert report.report(con, dataset.id, Filters(sellers=("sa", "sb")))["gmv"] == pytest.approx(190.0)
        assert report.report(con, dataset.id)["gmv"] == pytest.approx(210.0)   # every order whole, o4 too
        if kept:
            assert load.resident_bytes() > 0
    finally:
        load.keep_resident(None)


def _cli(path, *args) -> dict:
    done = subprocess.run([sys.executable, "-m", "analytics", "--db", str(path), *args, "--json"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_command_line_lists_the_sellers_share_and_reports_the_same_gmv(stored):
    path, _, _ = stored
    orders = _cli(path, "orders", "--seller", "sb")["orders"]
    assert [(o["order_id"], o["seller_id"], round(o["amount"], 2)) for o in orders] == [("o1", "sb", 44.0), ("o2", "sb", 50.0)]
    assert _cli(path, "report", "--seller", "sb")["gmv"] == pytest.approx(94.0) == sum(o["amount"] for o in orders)
