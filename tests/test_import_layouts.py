"""Real exports as their tools write them: Shopify's orders export, a line-item export with credit notes,
and line items in general. Every figure is worked out by hand from the file in the test."""

import csv
import io
from datetime import date

import polars as pl
import pytest

from analytics import drill, importer, report
from analytics.filters import Filters

# Shopify's Orders export header, in Shopify's order (columns after "Payment References" omitted).
SHOPIFY_HEADER = [
    "Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Fulfilled at", "Accepts Marketing",
    "Currency", "Subtotal", "Shipping", "Taxes", "Total", "Discount Code", "Discount Amount", "Shipping Method",
    "Created at", "Lineitem quantity", "Lineitem name", "Lineitem price", "Lineitem compare at price",
    "Lineitem sku", "Lineitem requires shipping", "Lineitem taxable", "Lineitem fulfillment status",
    "Billing Name", "Billing Street", "Billing City", "Billing Zip", "Billing Country", "Shipping Name",
    "Shipping Street", "Shipping City", "Shipping Zip", "Shipping Country", "Notes", "Note Attributes",
    "Cancelled at", "Payment Method", "Payment Reference", "Refunded Amount", "Vendor", "Id", "Tags",
    "Risk Level", "Source", "Lineitem discount", "Phone", "Receipt Number", "Payment References",
]


def _shopify_row(name, email, created, line, order=None):
    """One line item; `order` (the order's own fields) is given on an order's first row only, as Shopify does."""
    qty, item, price = line
    row = dict.fromkeys(SHOPIFY_HEADER, "")
    row.update({"Name": name, "Email": email, "Created at": created, "Lineitem quantity": str(qty),
                "Lineitem name": item, "Lineitem price": price, "Lineitem requires shipping": "true",
                "Lineitem taxable": "true", "Lineitem fulfillment status": "pending", "Vendor": "Loja Sol",
                "Lineitem discount": "0.00"})
    if order:
        row.update({"Accepts Marketing": "no", "Currency": "BRL", "Taxes": "0.00", "Discount Amount": "0.00",
                    "Shipping Method": "Standard", "Billing Country": "BR", "Shipping Country": "BR",
                    "Risk Level": "Low", "Source": "web", "Id": order.pop("Id")})
        row.update(order)
    return [row[h] for h in SHOPIFY_HEADER]


def shopify_export() -> bytes:
    """Six orders, ten rows. Times carry Brazil's -0300 offset; notes span lines (LF and CRLF)."""
    rows = [
        # #1001: paid, fulfilled, two lines (2 x 45.00 + 1 x 30.00 = 120.00, free shipping); a two-line note.
        _shopify_row("#1001", "ana@example.com", "2025-10-02 17:09:34 -0300", (2, "Caneca", "45.00"), {
            "Id": "5001", "Financial Status": "paid", "Paid at": "2025-10-02 17:10:01 -0300",
            "Fulfillment Status": "fulfilled", "Fulfilled at": "2025-10-03 09:00:00 -0300", "Subtotal": "120.00",
            "Shipping": "0.00", "Total": "120.00", "Notes": "Deixar na portaria\nTocar duas vezes",
            "Payment Method": "Shopify Payments", "Refunded Amount": "0.00"}),
        _shopify_row("#1001", "ana@example.com", "2025-10-02 17:09:34 -0300", (1, "Prato", "30.00")),
        # #1002: cash on delivery, never paid, cancelled; placed at 22:30 -0300 (01:30 UTC the next day).
        _shopify_row("#1002", "bia@example.com", "2025-10-02 22:30:00 -0300", (1, "Vaso", "59.90"), {
            "Id": "5002", "Financial Status": "voided", "Subtotal": "59.90", "Shipping": "10.00",
            "Total": "69.90", "Cancelled at": "2025-10-03 08:00:00 -0300",
            "Payment Method": "Cash on Delivery (COD)", "Refunded Amount": "0.00"}),
        # #1003: PayPal, paid, cancelled before fulfilment and refunded in full; three lines; a CRLF note.
        _shopify_row("#1003", "caio@example.com", "2025-10-04 10:00:00 -0300", (1, "Jarra", "39.90"), {
            "Id": "5003", "Financial Status": "refunded", "Paid at": "2025-10-04 10:01:00 -0300",
            "Subtotal": "89.90", "Shipping": "0.00", "Total": "89.90", "Notes": "Presente\r\nSem nota fiscal",
            "Cancelled at": "2025-10-05 12:00:00 -0300", "Payment Method": "PayPal Express Checkout",
            "Refunded Amount": "89.90"}),
        _shopify_row("#1003", "caio@example.com", "2025-10-04 10:00:00 -0300", (1, "Copo", "25.00")),
        _shopify_row("#1003", "caio@example.com", "2025-10-04 10:00:00 -0300", (1, "Pires", "25.00")),
        # #1004: bank deposit, paid, fulfilled, 10.00 refunded (a partial refund).
        _shopify_row("#1004", "davi@example.com", "2025-10-06 09:00:00 -0300", (3, "Tigela", "20.00"), {
            "Id": "5004", "Financial Status": "partially_refunded", "Paid at": "2025-10-06 15:00:00 -0300",
            "Fulfillment Status": "fulfilled", "Fulfilled at": "2025-10-07 10:00:00 -0300",
            "Subtotal": "60.00", "Shipping": "15.00", "Total": "75.00", "Payment Method": "Bank Deposit",
            "Refunded Amount": "10.00"}),
        # #1005: a gateway the product does not know: kept as the shop wrote it.
        _shopify_row("#1005", "eva@example.com", "2025-10-06 11:00:00 -0300", (1, "Bule", "150.00"), {
            "Id": "5005", "Financial Status": "paid", "Paid at": "2025-10-06 11:02:00 -0300",
            "Subtotal": "150.00", "Shipping": "0.00", "Total": "150.00",
            "Payment Method": "Mercado Pago Checkout Pro", "Refunded Amount": "0.00"}),
        # #1006: two gateways: the first is used, with a warning.
        _shopify_row("#1006", "fabi@example.com", "2025-10-07 16:00:00 -0300", (2, "Xicara", "12.50"), {
            "Id": "5006", "Financial Status": "paid", "Paid at": "2025-10-07 16:01:00 -0300",
            "Subtotal": "25.00", "Shipping": "5.00", "Total": "30.00",
            "Payment Method": "Shopify Payments + Gift Card", "Refunded Amount": "0.00"}),
        _shopify_row("#1006", "fabi@example.com", "2025-10-07 16:00:00 -0300", (1, "Colher", "0.00")),
    ]
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SHOPIFY_HEADER)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def test_a_shopify_export_with_line_items_and_multi_line_notes_imports_with_hand_counted_figures(con, tmp_path):
    path = tmp_path / "orders_export_1.csv"
    path.write_bytes(shopify_export())
    result = importer.import_files(con, [path], name="Loja Sol")
    r = result.as_json()
    # 10 rows of line items; 6 orders; the 4 rows beyond each order's first are line items, not refusals.
    assert (r["rows_read"], r["line_items"], r["orders"], r["stored"], r["refused"]) == (10, 4, 6, 6, 0)
    assert r["warned_by_reason"] == {"payment_method: several gateways, the first is used": 1}
    assert result.dataset.source["layout"] == "Shopify orders export"

    rows = dict(con.execute("SELECT order_id, payment_method FROM orders").fetchall())
    assert rows == {"#1001": "card", "#1002": "cod", "#1003": "wallet", "#1004": "bank_transfer",
                    "#1005": "Mercado Pago Checkout Pro", "#1006": "card"}
    assert {c for (c,) in con.execute("SELECT DISTINCT currency FROM orders").fetchall()} == {"BRL"}

    rep = report.report(con, result.dataset.id)
    # GMV = the Total column: 120.00 + 69.90 + 89.90 + 75.00 + 150.00 + 30.00 = 534.80.
    assert rep["orders"] == 6
    assert rep["gmv"] == pytest.approx(534.80)
    # Cancelled: #1002 (69.90, never paid: before payment) and #1003 (89.90, paid, not fulfilled).
    assert rep["cancelled_orders"] == 2
    assert rep["cancelled_gmv"] == pytest.approx(159.80)
    assert rep["cancellations_by_stage"] == {"before_payment": 1, "awaiting_shipment": 1, "after_shipment": 0}
    by_method = {row["payment_method"]: row["cancelled_orders"] for row in rep["cancelled_by_payment_method"]}
    assert by_method["cod"] == 1 and by_method["wallet"] == 1 and by_method["card"] == 0
    # Refunds only where Refunded Amount > 0: #1003 (89.90) and #1004 (10.00); 0.00 is no refund.
    assert rep["refunds"] == 2
    assert rep["refund_amount"] == pytest.approx(99.90)
    # The export has no refund dates: refund times are not available, never zero.
    assert rep["refund_wait_from_start"] is None and "refund_wait_from_start" in rep["unavailable"]

    # Orders per day on the shop's clock, as its owner counts them: #1002, placed at 22:30 -0300 on 2
    # October, is an order of 2 October (01:30 UTC on 3 October, which would move it to the next day).
    days = dict(con.execute("SELECT strftime(placed_at, '%Y-%m-%d'), count(*) FROM orders GROUP BY 1").fetchall())
    assert days == {"2025-10-02": 2, "2025-10-04": 1, "2025-10-06": 2, "2025-10-07": 1}
    placed = con.execute("SELECT strftime(placed_at, '%Y-%m-%d %H:%M:%S') FROM orders WHERE order_id = '#1001'")
    assert placed.fetchall() == [("2025-10-02 17:09:34",)]
    # And so does the volume by day: 2 October holds #1001 (120.00) and #1002 (69.90, cancelled).
    by_day = report.volume_over_time(con, result.dataset.id, period="day").frame
    oct_2 = by_day.filter(pl.col("period") == date(2025, 10, 2)).row(0, named=True)
    assert (oct_2["orders"], oct_2["cancelled_orders"]) == (2, 1)
    assert oct_2["gmv"] == pytest.approx(189.90) and oct_2["cancelled_gmv"] == pytest.approx(69.90)
    assert by_day.filter(pl.col("period") == date(2025, 10, 3))["orders"].to_list() == [0]
    # The order's source line is its first row's physical line: #1002 starts on line 5, after #1001's two
    # rows, one of which spans two lines with its note.
    lines = dict(con.execute("SELECT order_id, source_line FROM orders").fetchall())
    assert lines["#1001"] == 2 and lines["#1002"] == 5 and lines["#1003"] == 6 and lines["#1004"] == 10


def test_rows_of_one_order_that_disagree_refuse_the_order_naming_both_values(con, tmp_path):
    path = tmp_path / "lines.csv"
    path.write_text(
        "order_id,placed_at,payment_method,quantity,unit_price\n"
        "A,2026-06-01 10:00,card,2,5.00\n"
        "A,2026-06-01 10:00,,1,3.50\n"          # the method is filled on A's first row only: no conflict
        "B,2026-06-02 10:00,card,1,10\n"
        "B,2026-06-02 11:00,card,1,10\n"        # B's rows disagree on when it was placed
        ",2026-06-03 10:00,card,1,1\n"
    )
    result = importer.import_files(con, [path])
    r = result.as_json()
    assert (r["rows_read"], r["line_items"], r["stored"], r["refused"]) == (5, 2, 1, 2)
    # A's amount is the sum of quantity x unit price: 2 x 5.00 + 1 x 3.50 = 13.50.
    assert con.execute("SELECT order_id, amount FROM orders").fetchall() == [("A", 13.5)]
    refused = importer.refused_rows(con, result.dataset.id).to_dicts()
    assert [(x["line_number"], x["reason"]) for x in refused] == [
        (4, "placed_at: differs between the order's rows"), (6, "order_id: missing (required)")]
    assert "2026-06-02 10:00:00 (line 4) and 2026-06-02 11:00:00 (line 5)" in refused[0]["message"]


def online_retail_export() -> bytes:
    """The Online Retail layout: one row per invoice line, dates month first, credit notes prefixed C."""
    return (
        b"InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\r\n"
        b"536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850,United Kingdom\r\n"
        b"536365,71053,WHITE METAL LANTERN,6,12/1/2010 8:26,3.39,17850,United Kingdom\r\n"
        b"536366,22633,HAND WARMER UNION JACK,6,12/1/2010 8:28,1.85,17850,United Kingdom\r\n"
        b"536367,84879,ASSORTED COLOUR BIRD ORNAMENT,32,12/13/2010 8:34,1.69,13047,United Kingdom\r\n"
        b"C536379,D,Discount,-1,12/14/2010 9:41,27.50,14527,United Kingdom\r\n"
        b"C536383,35004C,SET OF 3 COLOURED  FLYING DUCKS,-1,12/14/2010 9:49,4.65,15311,United Kingdom\r\n"
        b"C536383,22556,PLASTERS IN TIN CIRCUS PARADE,-2,12/14/2010 9:49,1.65,15311,United Kingdom\r\n"
    )


def test_credit_notes_are_cancelled_orders_with_their_absolute_amount(con, tmp_path):
    path = tmp_path / "Online Retail.csv"
    path.write_bytes(online_retail_export())
    result = importer.import_files(con, [path], name="Online Retail")
    r = result.as_json()
    # 7 rows, 5 invoices (2 of them credit notes), 2 rows grouped as further line items.
    assert (r["rows_read"], r["line_items"], r["orders"], r["stored"], r["refused"]) == (7, 2, 5, 5, 0)
    assert any("no payment method" in n for n in r["notices"])
    amounts = dict(con.execute("SELECT order_id, round(amount, 2) FROM orders").fetchall())
    # 536365: 6 x 2.55 + 6 x 3.39 = 35.64; 536366: 6 x 1.85 = 11.10; 536367: 32 x 1.69 = 54.08;
    # C536379: |-1 x 27.50| = 27.50; C536383: |-1 x 4.65 - 2 x 1.65| = 7.95.
    assert amounts == {"536365": 35.64, "536366": 11.10, "536367": 54.08, "C536379": 27.50, "C536383": 7.95}
    rep = report.report(con, result.dataset.id)
    assert rep["orders"] == 5 and rep["cancelled_orders"] == 2
    assert rep["gmv"] == pytest.approx(136.27)
    assert rep["cancelled_gmv"] == pytest.approx(35.45)
    assert rep["cancellation_rate"] == pytest.approx(0.4)
    # Month first: 12/13/2010 can only be 13 December, so 12/1/2010 is 1 December.
    placed = dict(con.execute("SELECT order_id, strftime(placed_at, '%Y-%m-%d %H:%M') FROM orders").fetchall())
    assert placed["536365"] == "2010-12-01 08:26" and placed["536367"] == "2010-12-13 08:34"
    # No payment method and no payment or shipment times: those figures say why, never zeros.
    assert rep["cancelled_by_payment_method"] is None and "payment method" in rep["unavailable"]["cancelled_by_payment_method"]
    assert rep["cancellations_by_stage"] is None and "stage" in rep["unavailable"]["cancellations_by_stage"]
    assert report.volume_by(con, result.dataset.id, Filters(), by="payment_method").frame is None


def test_an_export_of_orders_with_a_repeated_id_still_refuses_the_repeat(con, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text("order_id,placed_at,payment_method,amount\nA,2026-06-01 10:00,card,10\nA,2026-06-01 10:00,card,10\n")
    result = importer.import_files(con, [path])
    assert (result.stored, result.refused_by_reason) == (1, {"order_id: seen earlier in the file": 1})


def test_several_currencies_are_shown_per_currency_never_added_up(con, tmp_path):
    path = tmp_path / "two_currencies.csv"
    path.write_text("order_id,placed_at,payment_method,amount,currency,cancelled_at,refund_amount\n"
                    "A,2026-06-01 10:00,card,100.00,BRL,,\n"
                    "B,2026-06-01 11:00,card,40.00,BRL,2026-06-01 12:00,40.00\n"
                    "C,2026-06-01 12:00,card,25.00,usd,,\n"
                    "D,2026-06-01 13:00,card,5.00,USD,2026-06-01 14:00,\n")
    result = importer.import_files(con, [path])
    rep = report.report(con, result.dataset.id)
    assert rep["orders"] == 4 and rep["cancelled_orders"] == 2
    assert rep["gmv"] is None and rep["cancelled_gmv"] is None and "several currencies" in rep["unavailable"]["gmv"]
    assert rep["refund_amount"] is None and rep["refunds"] == 1
    assert rep["currency"] is None
    # By hand: BRL refunded B's 40.00; USD refunded nothing.
    assert rep["money_by_currency"] == [
        {"currency": "BRL", "orders": 2, "gmv": 140.0, "cancelled_orders": 1, "cancelled_gmv": 40.0,
         "refunds": 1, "refund_amount": 40.0},
        {"currency": "USD", "orders": 2, "gmv": 30.0, "cancelled_orders": 1, "cancelled_gmv": 5.0,
         "refunds": 0, "refund_amount": 0}]
    # The table the pages show holds the same, refunds included.
    table = report.money_by_currency(con, result.dataset.id)
    assert table.frame.select("currency", "refunds", "refund_amount").rows() == [("BRL", 1, 40.0), ("USD", 0, 0.0)]
    assert report.sellers(con, result.dataset.id).frame is None or "gmv" not in report.sellers(con, result.dataset.id).frame.columns
    one = tmp_path / "one.csv"
    one.write_text("order_id,placed_at,payment_method,amount,currency\nA,2026-06-01 10:00,card,10,BRL\n")
    single = report.report(con, importer.import_files(con, [one]).dataset.id)
    assert (single["currency"], single["gmv"], single["money_by_currency"]) == ("BRL", 10.0, None)
    assert report.money_format(["BRL"]).format(1234.5) == "BRL 1,234.50"


def test_a_credit_note_naming_its_invoice_cancels_and_refunds_that_order(con, tmp_path):
    path = tmp_path / "invoices.csv"
    path.write_text(
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country,Original Invoice\n"
        "1001,A1,Mug,2,2026-06-01 10:00,5.00,C1,PT,\n"
        "1001,A2,Plate,1,2026-06-01 10:00,8.00,C1,PT,\n"
        "1002,A1,Mug,1,2026-06-02 10:00,5.00,C2,PT,\n"
        "C2001,A2,Plate,-1,2026-06-03 09:00,8.00,C1,PT,1001\n"     # credits 1001's plate
        "C2002,A1,Mug,-1,2026-06-04 09:00,5.00,C3,PT,\n"          # names no invoice: its own cancelled order
    )
    result = importer.import_files(con, [path])
    r = result.as_json()
    # 5 rows; 3 orders stored (1001, 1002, C2002); C2001's row belongs to 1001 as its credit note.
    assert (r["rows_read"], r["stored"], r["line_items"], r["refused"]) == (5, 3, 2, 0)
    rows = {o: (c, a, s) for o, c, a, s in con.execute(
        "SELECT order_id, is_cancelled, amount, strftime(cancelled_at, '%Y-%m-%d') FROM orders").fetchall()}
    # 1001: 2 x 5.00 + 1 x 8.00 = 18.00, cancelled on 3 June by the credit note, which refunds 8.00.
    assert rows == {"1001": (True, 18.0, "2026-06-03"), "1002": (False, 5.0, None), "C2002": (True, 5.0, "2026-06-04")}
    assert con.execute("SELECT order_id, amount FROM refunds").fetchall() == [("1001", 8.0)]


def test_a_cash_on_delivery_order_shipped_unpaid_leaves_the_funnels_counts_as_their_lists_show(con, tmp_path):
    # #3001 paid and still waiting to ship; #3002 paid and shipped; #3003 cash on delivery, shipped, not
    # yet paid (the export gives it no Paid at).
    rows = [
        _shopify_row("#3001", "a@example.com", "2026-03-30 10:00:00 +0200", (1, "Tasse", "20.00"), {
            "Id": "9001", "Financial Status": "paid", "Paid at": "2026-03-30 10:01:00 +0200", "Subtotal": "20.00",
            "Shipping": "0.00", "Total": "20.00", "Payment Method": "Shopify Payments", "Refunded Amount": "0.00"}),
        _shopify_row("#3002", "b@example.com", "2026-03-30 11:00:00 +0200", (1, "Vase", "30.00"), {
            "Id": "9002", "Financial Status": "paid", "Paid at": "2026-03-30 11:01:00 +0200",
            "Fulfillment Status": "fulfilled", "Fulfilled at": "2026-03-31 09:00:00 +0200", "Subtotal": "30.00",
            "Shipping": "0.00", "Total": "30.00", "Payment Method": "PayPal Express Checkout", "Refunded Amount": "0.00"}),
        _shopify_row("#3003", "c@example.com", "2026-03-30 12:00:00 +0200", (1, "Glas", "10.00"), {
            "Id": "9003", "Financial Status": "pending", "Fulfillment Status": "fulfilled",
            "Fulfilled at": "2026-03-31 10:00:00 +0200", "Subtotal": "10.00", "Shipping": "0.00", "Total": "10.00",
            "Payment Method": "Cash on Delivery (COD)", "Refunded Amount": "0.00"}),
    ]
    path = tmp_path / "orders_export.csv"
    with path.open("w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(SHOPIFY_HEADER)
        writer.writerows(rows)
    dataset_id = importer.import_files(con, [path], name="Laden").dataset.id
    life = {r["step"]: r for r in report.lifecycle(con, dataset_id).frame.to_dicts()}
    # Placed 3, Paid 2 (#3001, #3002), Shipped 2 (#3002, #3003). Did not reach Paid: #3003 (1 of 3). Did not
    # reach Shipped of the paid: #3001 (1 of 2), though as many orders shipped as were paid.
    assert [life[s]["reached"] for s in ("placed", "paid", "shipped")] == [3, 2, 2]
    assert (life["placed"]["left"], life["paid"]["left"]) == (1, 1)
    assert life["paid"]["left_share"] == pytest.approx(0.5)
    # And the orders behind each red end are as many.
    groups = [drill.Group(left_after="placed"), drill.Group(left_after="paid")]
    assert drill.counts(con, dataset_id, Filters(), groups) == [1, 1]
