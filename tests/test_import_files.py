"""Whole files: refused with one message and nothing stored; encodings, delimiters and the samples."""

import csv
import subprocess
import sys
import textwrap
from collections import Counter

import pytest

from analytics import db, importer, report
from tests.conftest import SAMPLE_CSV


def _snapshot(con):
    return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("datasets", *db.DATASET_TABLES)}


@pytest.fixture
def stored(con):
    """A database that already holds one data set, to show a failed import leaves it as it was."""
    importer.import_files(con, [SAMPLE_CSV], name="already there")
    return _snapshot(con)


@pytest.mark.parametrize(("content", "message"), [
    (b"", "the file is empty"),
    (b"\xef\xbb\xbf\n\n", "the file is empty"),
    (b"PK\x03\x04\x00\x00[Content_Types].xml", r"bad.csv is a spreadsheet workbook .* save it as CSV"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00", r"spreadsheet workbook .* save it as CSV"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", r"not a text \(CSV\) file"),
    (b"A1,2026-06-01 10:00,card,10\nA2,2026-06-01 11:00,card,12\n", "no header row"),
    (b"order_id,placed_at,payment_method\nA1,2026-06-01 10:00,card\n", "no column for the required field amount"),
    (b"order_id,placed_at,payment_method,amount\n", "a header but no rows"),
], ids=["empty", "blank lines", "xlsx", "xls", "binary", "no header", "required field unmapped", "header only"])
def test_a_whole_file_problem_stores_nothing(con, stored, tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(importer.ImportError_, match=message):
        importer.import_files(con, [path])
    assert _snapshot(con) == stored


def test_semicolons_tabs_bom_and_latin1_import(con, tmp_path):
    rows = "order_id{d}placed_at{d}payment_method{d}amount{d}buyer_id\nA{d}2026-06-01 10:00{d}card{d}10{d}José\n"
    cases = {
        "semicolon.csv": rows.format(d=";").encode("utf-8"),
        "tab.tsv": rows.format(d="\t").encode("utf-8"),
        "bom.csv": b"\xef\xbb\xbf" + rows.format(d=",").encode("utf-8"),
        "latin1.csv": rows.format(d=",").encode("latin-1"),
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        result = importer.import_files(con, [tmp_path / name])
        assert (result.stored, result.refused) == (1, 0), name
        buyer = con.execute("SELECT buyer_id FROM orders WHERE dataset_id = ?", [result.dataset.id]).fetchone()[0]
        assert buyer == "José", name


def test_columns_match_by_synonym_and_map_overrides(con, tmp_path):
    path = tmp_path / "shop.csv"
    path.write_text("Name,Created at,Paid at,Payment Method,Total,Refunded Amount,Cancelled at,Order Status,Note\n"
                    "#1001,2026-06-01 10:00,2026-06-01 10:01,Card,20,20,2026-06-01 12:00,Cancelled,gift\n")
    plan = importer.plan_import([path])
    assert plan.mapping["order_id"] == "Name"
    assert plan.mapping["placed_at"] == "Created at"
    assert plan.mapping["paid_at"] == "Paid at"
    assert plan.mapping["payment_method"] == "Payment Method"
    assert plan.mapping["amount"] == "Total"
    assert plan.mapping["refund_amount"] == "Refunded Amount"
    assert plan.mapping["cancelled_at"] == "Cancelled at"
    assert plan.mapping["status"] == "Order Status"
    assert plan.unmatched_columns == ["Note"]
    result = importer.import_files(con, [path], mapping={"buyer_id": "Note"})
    assert con.execute("SELECT order_id, buyer_id, is_cancelled FROM orders WHERE dataset_id = ?",
                       [result.dataset.id]).fetchone() == ("#1001", "gift", True)
    assert result.dataset.source["mapping"]["buyer_id"] == "Note"
    with pytest.raises(importer.ImportError_, match="has no column 'Nope'"):
        importer.plan_import([path], mapping={"buyer_id": "Nope"})
    with pytest.raises(importer.ImportError_, match="'colour' is not a field"):
        importer.plan_import([path], mapping={"colour": "Note"})


def test_a_woocommerce_order_export_s_headers_match_with_no_mapping(con, tmp_path):
    """WooCommerce's order export, in German number format: every field matched by its header; by hand,
    3 orders, 1 cancelled (wc-cancelled, paid), 1 refund of 19,90."""
    path = tmp_path / "woo.csv"
    path.write_text("Order Number;Order Status;Order Date;Paid Date;Payment Method Title;Order Currency;"
                    "Order Total Amount;Order Refund Amount\n"
                    "W-1;wc-completed;2026-06-01 10:00;2026-06-01 10:02;PayPal;EUR;1.234,50;0,00\n"
                    "W-2;wc-cancelled;2026-06-02 11:00;2026-06-02 11:01;Kreditkarte;EUR;19,90;19,90\n"
                    "W-3;wc-processing;2026-06-03 12:00;;Rechnung;EUR;45,00;\n", encoding="utf-8")
    plan = importer.plan_import([path])
    assert {f: plan.mapping[f] for f in ("order_id", "status", "placed_at", "paid_at", "payment_method", "currency",
                                         "amount", "refund_amount")} == {
        "order_id": "Order Number", "status": "Order Status", "placed_at": "Order Date", "paid_at": "Paid Date",
        "payment_method": "Payment Method Title", "currency": "Order Currency", "amount": "Order Total Amount",
        "refund_amount": "Order Refund Amount"}
    assert plan.unmatched_columns == []
    plan.close()
    result = importer.import_files(con, [path])
    got = report.report(con, result.dataset.id)
    assert (got["orders"], got["cancelled_orders"], got["refunds"], got["refund_amount"]) == (3, 1, 1, 19.9)
    assert got["gmv"] == 1299.4


def test_a_woocommerce_export_s_gateway_titles_are_the_product_s_payment_methods(con, tmp_path):
    """The titles WooCommerce writes for its gateways are read as the product's methods, as Shopify's are (so
    the What-if page's refund routing applies to them); its shipping method's title is the shipping method.
    By hand: card 2 orders (Stripe, WooCommerce Payments), wallet 1, cod 1 (cancelled), bank transfer 1;
    'Check payments' kept as the shop wrote it."""
    path = tmp_path / "woo.csv"
    path.write_text(
        '"Order Number","Order Status","Order Date","Paid Date","Payment Method Title","Order Total",'
        '"Order Currency","Shipping Method Title"\n'
        '"501","wc-completed","2026-03-10 14:22:10","2026-03-10 14:23:00","Credit Card (Stripe)","120.00","USD","Flat rate"\n'
        '"502","wc-cancelled","2026-03-10 15:00:00","","Cash on delivery","45.50","USD","Flat rate"\n'
        '"503","wc-completed","2026-03-11 09:00:00","2026-03-11 09:01:00","PayPal","80.00","USD","Free shipping"\n'
        '"504","wc-processing","2026-03-11 10:00:00","","Direct bank transfer","30.00","USD","Flat rate"\n'
        '"505","wc-completed","2026-03-12 10:00:00","2026-03-12 10:00:30","WooCommerce Payments","10.00","USD","Flat rate"\n'
        '"506","wc-on-hold","2026-03-12 11:00:00","","Check payments","5.00","USD","Flat rate"\n',
        encoding="utf-8")
    plan = importer.plan_import([path])
    assert plan.layout is not None and plan.layout.name == "WooCommerce orders export"
    assert plan.mapping["shipping_method"] == "Shipping Method Title"
    plan.close()
    result = importer.import_files(con, [path])
    methods = dict(con.execute("SELECT payment_method, count(*) FROM orders WHERE dataset_id = ? GROUP BY 1",
                               [result.dataset.id]).fetchall())
    assert methods == {"card": 2, "wallet": 1, "cod": 1, "bank_transfer": 1, "Check payments": 1}
    got = report.report(con, result.dataset.id)
    assert (got["orders"], got["cancelled_orders"]) == (6, 1)


def test_the_committed_sample_imports_with_hand_counted_figures(con):
    result = importer.import_files(con, [SAMPLE_CSV])
    # 20 orders, all valid; 13 carry a request, 9 are cancelled, 7 have a refund (counted in the file).
    assert (result.stored, result.refused) == (20, 0)
    d = result.dataset
    assert (d.orders, d.cancellation_requests, d.refunds) == (20, 13, 7)
    outcomes = dict(con.execute("SELECT outcome, count(*) FROM cancellation_requests GROUP BY 1").fetchall())
    assert outcomes == {"buyer_cancelled": 2, "accepted": 5, "rejected": 2, "auto_cancelled": 2, "not_cancellable": 2}
    assert con.execute("SELECT order_id FROM cancellation_requests WHERE return_path").fetchall() == [("S-1008",)]
    stages = dict(con.execute("SELECT cancel_stage, count(*) FROM orders WHERE is_cancelled GROUP BY 1").fetchall())
    assert stages == {"before_payment": 2, "awaiting_shipment": 7}


def test_olist_orders_and_payments_import_as_they_are(con, olist_dir):
    orders_csv = olist_dir / "olist_orders_dataset.csv"
    payments_csv = olist_dir / "olist_order_payments_dataset.csv"
    result = importer.import_files(con, [orders_csv, payments_csv], name="Olist")

    # Expected figures worked out from the files with the csv module, independently of the importer.
    with orders_csv.open(newline="") as fh:
        orders = list(csv.DictReader(fh))
    with payments_csv.open(newline="") as fh:
        payments = list(csv.DictReader(fh))
    paid = {p["order_id"] for p in payments}
    no_payment = [o for o in orders if o["order_id"] not in paid]
    shipped_before_paid = [o for o in orders if o["order_id"] in paid and o["order_approved_at"]
                           and o["order_delivered_carrier_date"]
                           and o["order_delivered_carrier_date"] < o["order_approved_at"]]
    assert len(orders) == 8000 and len(no_payment) == 1
    # The order with no payment row has no amount: refused. A carrier hand-over stamped before the payment
    # approval is a known quirk of this export, on real delivered orders: stored, with a warning.
    assert result.refused_by_reason == {"amount: no payment in olist_order_payments_dataset.csv": 1}
    assert result.warned_by_reason == {"shipped_at: before paid_at": len(shipped_before_paid)}
    assert len(shipped_before_paid) == 111
    assert result.stored == 8000 - 1 == 7999
    cancelled_in_file = Counter(o["order_status"] for o in orders if o["order_status"] in ("canceled", "unavailable"))
    assert cancelled_in_file == {"canceled": 60, "unavailable": 47}
    assert con.execute("SELECT count(*) FROM orders WHERE is_cancelled").fetchone()[0] == 107

    # An order paid several ways takes the payment type with the largest total over its payments (several
    # vouchers add up), ties to the type paid first.
    totals, first_seq = Counter(), {}
    for p in payments:
        key = (p["order_id"], p["payment_type"])
        totals[key] += float(p["payment_value"])
        first_seq[key] = min(first_seq.get(key, 10**9), int(p["payment_sequential"]))
    by_order = {}
    for (oid, kind), total in totals.items():
        rank = (-total, first_seq[(oid, kind)])
        if oid not in by_order or rank < by_order[oid][0]:
            by_order[oid] = (rank, kind)
    sums = Counter()
    for p in payments:
        sums[p["order_id"]] += float(p["payment_value"])
    single_largest = {}
    for p in payments:
        key = (-float(p["payment_value"]), int(p["payment_sequential"]))
        if p["order_id"] not in single_largest or key < single_largest[p["order_id"]][0]:
            single_largest[p["order_id"]] = (key, p["payment_type"])
    # The two rules differ on real orders of the sample (paid with several vouchers and one card).
    assert any(by_order[o][1] != single_largest[o][1] for o in by_order)
    stored = {oid: (m, a) for oid, m, a in con.execute("SELECT order_id, payment_method, amount FROM orders").fetchall()}
    for oid, (method, amount) in stored.items():
        assert method == by_order[oid][1]
        assert amount == pytest.approx(sums[oid])
    assert result.dataset.cancellation_requests == 0  # Olist records no requests, only statuses


def test_an_import_killed_part_way_leaves_the_database_as_it_was(db_file, tmp_path):
    con = db.connect(db_file)
    importer.import_files(con, [SAMPLE_CSV], name="before")
    before = _snapshot(con)
    con.close()
    # A child process stores part of a data set, then dies inside the transaction (no rollback runs).
    script = textwrap.dedent(f"""
        import os
        from analytics import db, importer

        def die_while_storing_refunds(fraction, text):
            # Orders and requests are written by now, inside the import's transaction.
            if text == "storing refunds":
                os._exit(9)

        con = db.connect({str(db_file)!r})
        importer.import_files(con, [{str(SAMPLE_CSV)!r}], name="killed", progress=die_while_storing_refunds)
    """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=str(SAMPLE_CSV.parent.parent), capture_output=True)
    assert proc.returncode == 9, proc.stderr.decode()
    con = db.connect(db_file)
    assert _snapshot(con) == before
    assert [d.name for d in db.list_datasets(con)] == ["before"]


def test_an_order_the_payments_file_has_no_row_for_is_refused_naming_that_file(con, tmp_path):
    """Olist's amounts come from its payments file: an order with no payment row there is refused for that,
    not as if the orders file had left its amount empty."""
    orders = tmp_path / "olist_orders_dataset.csv"
    orders.write_text(
        "order_id,customer_id,order_status,order_purchase_timestamp,order_approved_at,"
        "order_delivered_carrier_date,order_delivered_customer_date,order_estimated_delivery_date\n"
        "o1,c1,delivered,2018-01-02 10:00:00,2018-01-02 11:00:00,2018-01-03 10:00:00,2018-01-08 10:00:00,2018-01-20 00:00:00\n"
        "o2,c2,canceled,2018-01-03 10:00:00,,,,2018-01-20 00:00:00\n", encoding="utf-8")
    payments = tmp_path / "olist_order_payments_dataset.csv"
    payments.write_text("order_id,payment_sequential,payment_type,payment_installments,payment_value\n"
                        "o1,1,credit_card,1,110.0\n", encoding="utf-8")
    result = importer.import_files(con, [orders, payments], name="Olist")
    assert result.stored == 1
    assert result.refused_by_reason == {"amount: no payment in olist_order_payments_dataset.csv": 1}
    refused = importer.refused_rows(con, result.dataset.id)
    assert refused["line_number"].to_list() == [3]
    assert refused["message"].to_list() == ["amount: no payment in olist_order_payments_dataset.csv "
                                            "(the order has no row there)"]
