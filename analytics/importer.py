"""CSV exports into the database: recognise the layout, match the columns, parse, group, store.

`plan_import` reads only the head of each file (for the Data page's matching and preview);
`import_files` streams whole files through DuckDB's CSV reader (csvfile.py: no Python object per row)
into a table of text, parses it in SQL (formats.py), groups line items into orders, and hands the
result to `ingest.store_staged`, which checks and stores it in one transaction.

Layouts recognised by their headers, besides the canonical one and its synonyms:
- Shopify's Orders export: one row per line item, the order's own fields on its first row; its
  payment gateways mapped to the product's methods.
- Line-item exports with credit notes (the Online Retail layout: an invoice number beginning with C
  is a credit note, stored as a cancelled order with its own id and the absolute amount).
- Olist's orders file with its payments file (the method with the largest total over the order's
  payments, ties to the lowest payment_sequential; the sum of the payments as amount) and, optionally,
  its items file (the seller of the first item).
An export whose order key repeats because it has one row per line item (it has a quantity or a unit
price column) is grouped into orders; a repeated key in an export of orders is refused as a repeat.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from analytics import csvfile, db, formats
from analytics.csvfile import CsvError, CsvFile, header_key
from analytics.formats import FormatUndecided, Readings
from analytics.ingest import (
    CANONICAL_FIELDS,
    ERROR_TYPE,
    LABEL_FIELDS,
    NUMBER_FIELDS,
    REQUIRED_FIELDS,
    TIMESTAMP_FIELDS,
    ImportResult,
    Progress,
    check,
    normalise_label_sql,
    problems_sql,
    sql_type,
    store_staged,
)
from analytics.outcomes import SHIPPING_METHODS
from analytics.rules import STAGE_TIMES
from analytics.text import listed


class ImportError_(ValueError):
    """A whole-file problem: one clear message, nothing stored."""


class ImportNeedsChoice(ImportError_):
    """The values cannot decide how to read a column: `choice` is 'decimal' or 'date_format'."""

    def __init__(self, message: str, choice: str):
        super().__init__(message)
        self.choice = choice


# Per line item, not per order: with either, rows of one order are grouped, and without an order
# total the amount is the sum of quantity x unit price.
LINE_FIELDS = ("quantity", "unit_price")
# On a credit note of a line-item export: the order it cancels. The order is then cancelled and refunded
# by the credit note, which is not another order.
LINK_FIELDS = ("credit_note_for",)
FIELDS = (*CANONICAL_FIELDS, *LINE_FIELDS, *LINK_FIELDS)

# Header synonyms, compared after `header_key` (lower case, non-alphanumerics as one underscore).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "order_id": ("order_id", "order", "order_number", "order_no", "id", "name", "order_name", "orderid",
                 "invoiceno", "invoice_no", "invoice", "invoice_number"),
    "placed_at": ("placed_at", "created_at", "order_date", "order_created_at", "order_purchase_timestamp", "date_created",
                  "purchase_date", "ordered_at", "order_time", "invoicedate", "invoice_date", "date"),
    "payment_method": ("payment_method", "payment_type", "payment", "payment_gateway", "payment_gateway_names",
                       "pay_method", "payment_method_name", "payment_method_title"),
    "amount": ("amount", "total", "order_total", "total_price", "grand_total", "order_amount", "payment_value",
               "gmv", "price", "order_total_amount"),
    "currency": ("currency", "currency_code", "order_currency"),
    "buyer_id": ("buyer_id", "customer_id", "customerid", "customer", "buyer", "email", "customer_email"),
    "seller_id": ("seller_id", "seller", "store_id", "shop_id", "vendor", "vendor_id", "merchant_id"),
    "shipping_method": ("shipping_method", "shipping", "shipping_service", "shipping_type", "delivery_method",
                        "shipping_method_title"),
    "paid_at": ("paid_at", "payment_date", "order_approved_at", "approved_at", "payment_time", "paid_time",
                "paid_date", "date_paid"),
    "shipped_at": ("shipped_at", "fulfilled_at", "order_delivered_carrier_date", "ship_date", "dispatched_at",
                   "shipping_date", "shipped_time"),
    "delivered_at": ("delivered_at", "order_delivered_customer_date", "delivery_date", "delivered_time"),
    "status": ("status", "order_status", "financial_status", "state", "order_state"),
    "cancel_requested_at": ("cancel_requested_at", "cancellation_requested_at", "cancel_request_date",
                            "cancellation_request_time", "requested_at"),
    "cancel_reason": ("cancel_reason", "cancellation_reason", "cancelled_reason", "reason"),
    "seller_response": ("seller_response", "seller_decision", "response"),
    "seller_responded_at": ("seller_responded_at", "responded_at", "seller_response_time", "response_date"),
    "cancelled_at": ("cancelled_at", "canceled_at", "cancellation_date", "cancel_date", "cancelled_time"),
    "refund_channel": ("refund_channel", "refund_method", "refund_destination", "refund_to"),
    "refund_amount": ("refund_amount", "refunded_amount", "refund_total", "amount_refunded", "refund_value",
                      "order_refund_amount"),
    "refund_initiated_at": ("refund_initiated_at", "refund_started_at", "refund_date", "refunded_at",
                            "refund_created_at", "refund_time"),
    "refund_completed_at": ("refund_completed_at", "refund_received_at", "refund_settled_at", "refund_finished_at"),
    "quantity": ("quantity", "qty", "lineitem_quantity", "item_quantity", "quantity_ordered"),
    "unit_price": ("unit_price", "unitprice", "lineitem_price", "item_price", "price_each", "price_per_unit"),
    "credit_note_for": ("credit_note_for", "cancels", "cancels_invoice", "original_invoice", "original_invoice_no",
                        "original_invoiceno", "original_order", "original_order_id", "credited_invoice"),
}


@dataclass(frozen=True)
class Layout:
    """An export layout recognised by its headers, with the matches its maker documents."""
    name: str
    signature: frozenset[str]                 # header keys that all appear in this layout
    mapping: dict[str, str | None]            # field -> header key (None: the layout has no such field)
    gateways: bool = False                    # payment gateways to the product's methods
    credit_note_prefix: str | None = None     # an order id with this prefix is a credit note


LAYOUTS = (
    Layout(
        "Shopify orders export",
        frozenset({"name", "financial_status", "created_at", "lineitem_quantity", "lineitem_price", "total"}),
        {"order_id": "name", "placed_at": "created_at", "paid_at": "paid_at", "shipped_at": "fulfilled_at",
         "cancelled_at": "cancelled_at", "amount": "total", "currency": "currency",
         "payment_method": "payment_method", "refund_amount": "refunded_amount", "buyer_id": "email",
         "shipping_method": "shipping_method", "status": "financial_status", "quantity": "lineitem_quantity",
         "unit_price": "lineitem_price", "seller_id": None, "delivered_at": None},
        gateways=True,
    ),
    Layout(
        # Its payment method is the gateway's title as the shop shows it ('Credit Card (Stripe)', 'PayPal',
        # 'Cash on delivery', 'Direct bank transfer'): read as Shopify's gateways are.
        "WooCommerce orders export",
        frozenset({"order_number", "order_status", "payment_method_title"}),
        {"payment_method": "payment_method_title"},
        gateways=True,
    ),
    Layout(
        "line items with credit notes (Online Retail layout)",
        frozenset({"invoiceno", "stockcode", "quantity", "invoicedate", "unitprice"}),
        {"order_id": "invoiceno", "placed_at": "invoicedate", "quantity": "quantity", "unit_price": "unitprice",
         "buyer_id": "customerid", "amount": None},
        credit_note_prefix="C",
    ),
)

# Payment gateways (as Shopify and others name them, compared after `header_key`) -> the product's methods.
# Any other gateway is kept as the shop wrote it.
GATEWAYS: dict[str, tuple[str, ...]] = {
    "card": ("shopify_payments", "stripe", "credit_card", "card", "debit_card", "braintree", "authorize_net",
             "adyen", "checkout_com", "visa", "mastercard", "american_express", "amex", "credit_card_stripe",
             "stripe_credit_card", "credit_debit_card", "woocommerce_payments"),
    "wallet": ("paypal", "paypal_express_checkout", "paypal_express", "paypal_checkout", "paypal_standard",
               "paypal_payments"),
    "cod": ("cash_on_delivery_cod", "cash_on_delivery", "cod"),
    "bank_transfer": ("bank_deposit", "bank_transfer", "wire_transfer", "bank_wire", "direct_bank_transfer", "bacs"),
}

# Words of a shipping method's name (as shops name them: 'Express', 'Standard Shipping', 'SEDEX', 'Next day
# delivery') -> the product's methods (outcomes.SHIPPING_METHODS), so that a shop's express orders count as
# Premium in the calibration's share and transit times and the What-if's shipping share. A name with neither
# ('Free shipping', 'Local pickup') is kept as the shop wrote it.
SHIPPING_WORDS: dict[str, tuple[str, ...]] = {
    "premium": ("premium", "express", "expedited", "priority", "overnight", "next_day", "same_day", "sedex"),
    "standard": ("standard", "economy", "regular", "ground", "pac"),
}

PREVIEW_ROWS = 20


@dataclass
class SourceFile:
    path: Path
    kind: str                  # 'orders' | 'payments' | 'items'
    csv: CsvFile
    preview: pl.DataFrame      # the first rows, as text, without those the import refuses for their width
    left_out: list[csvfile.BadRecord] = field(default_factory=list)   # the first of those (csvfile.Preview)
    left_out_count: int = 0

    @property
    def preview_note(self) -> str | None:
        """Which lines among the preview's rows it leaves out, and why: the import refuses them, in its words."""
        if not self.left_out_count:
            return None
        width = len(self.columns)
        named = [f"line {b.line} ({csvfile.width_problem(b.fields, width)})" for b in self.left_out]
        more = self.left_out_count - len(named)
        if more:
            named.append(f"{more:,} more line{'s' if more > 1 else ''} of the wrong width")
        them = "it" if self.left_out_count == 1 else "them"
        return f"not in the preview, as the import will refuse {them}: {listed(named)}"

    @property
    def encoding(self) -> str:
        """As the file was written: 'utf-16' for Excel's "Unicode text" (read as a UTF-8 copy)."""
        return "utf-16" if self.csv.temporary else self.csv.encoding

    @property
    def delimiter(self) -> str:
        return self.csv.delimiter

    @property
    def columns(self) -> list[str]:
        return self.csv.columns


@dataclass
class ImportPlan:
    """What an import of these files will do: which column feeds which field, and a preview."""
    files: list[SourceFile]
    mapping: dict[str, str | None]            # field -> header of the orders file (None: no column)
    derived: dict[str, str] = field(default_factory=dict)   # field -> where it comes from (Olist joins)
    problems: list[str] = field(default_factory=list)       # whole-file problems: importing is refused
    layout: Layout | None = None
    notices: list[str] = field(default_factory=list)

    @property
    def orders_file(self) -> SourceFile:
        return next(f for f in self.files if f.kind == "orders")

    @property
    def line_items(self) -> bool:
        """One row per line item: rows sharing an order key are one order."""
        return any(self.mapping.get(f) for f in LINE_FIELDS)

    @property
    def unmatched_columns(self) -> list[str]:
        used = set(v for v in self.mapping.values() if v)
        return [c for c, h in zip(self.orders_file.columns, self.orders_file.csv.headers, strict=False)
                if c not in used and h]

    def close(self) -> None:
        for f in self.files:
            f.csv.close()

    def as_json(self) -> dict:
        return {
            "files": [{"path": str(f.path), "kind": f.kind, "encoding": f.encoding, "delimiter": f.delimiter,
                       "columns": f.columns} for f in self.files],
            "layout": self.layout.name if self.layout else None,
            "mapping": self.mapping, "derived": self.derived, "problems": self.problems, "notices": self.notices,
        }


def _kind(headers: list[str]) -> str:
    keys = {header_key(h) for h in headers}
    if {"order_id", "payment_sequential", "payment_type", "payment_value"} <= keys:
        return "payments"
    if {"order_id", "order_item_id", "seller_id"} <= keys:
        return "items"
    return "orders"


def _layout(headers: list[str]) -> Layout | None:
    keys = {header_key(h) for h in headers}
    return next((lay for lay in LAYOUTS if lay.signature <= keys), None)


def _looks_like_data(headers: list[str]) -> bool:
    """A header row made of values (dates, numbers) means the file has no header."""
    pattern = re.compile(r"^(\d{4}-\d{2}-\d{2}.*|-?\d+([.,]\d+)?)$")
    return sum(bool(pattern.match(h.strip())) for h in headers) >= max(1, len(headers) // 3)


def _match(columns: list[str], layout: Layout | None) -> dict[str, str | None]:
    by_key: dict[str, str] = {}
    for h in columns:
        by_key.setdefault(header_key(h), h)
    mapping: dict[str, str | None] = {}
    taken: set[str] = set()
    if layout:
        for f, key in layout.mapping.items():
            mapping[f] = by_key.get(key) if key else None
            if mapping[f]:
                taken.add(mapping[f])
    # Exact field names first, then synonyms in order of preference, so 'amount' beats 'price'.
    for f in FIELDS:
        if f not in mapping and f in by_key and by_key[f] not in taken:
            mapping[f] = by_key[f]
            taken.add(by_key[f])
    has_lines = any(k in by_key for k in SYNONYMS["quantity"])
    for f in FIELDS:
        if f in mapping:
            continue
        mapping[f] = None
        for syn in SYNONYMS.get(f, ()):
            # Beside a quantity, a bare 'price' is a unit price, not the order's amount.
            if f == "amount" and syn == "price" and has_lines:
                continue
            h = by_key.get(syn)
            if h and h not in taken:
                mapping[f] = h
                taken.add(h)
                break
    if has_lines and mapping.get("unit_price") is None and "price" in by_key and by_key["price"] not in taken:
        mapping["unit_price"] = by_key["price"]
    return mapping


def _open(path: Path, shown: str) -> CsvFile:
    try:
        return csvfile.open_csv(path, shown)
    except CsvError as e:
        raise ImportError_(str(e)) from None


def plan_import(paths, mapping: dict[str, str] | None = None,
                display_names: dict[str, str] | None = None) -> ImportPlan:
    """Read each file's head, recognise its kind and layout, and match the orders file's columns to fields.

    `mapping` (field -> exact header) sets or overrides matches. Raises ImportError_ for a file
    that cannot be imported at all; `problems` lists what would refuse the whole import.
    """
    display_names = display_names or {}
    files: list[SourceFile] = []
    try:
        for p in [Path(p) for p in paths]:
            shown = display_names.get(str(p), p.name)
            f = _open(p, shown)
            try:
                head = csvfile.preview(f, PREVIEW_ROWS)
            except CsvError as e:
                f.close()
                raise ImportError_(str(e)) from None
            frame = pl.DataFrame([list(r[: len(f.columns)]) for r in head.rows],
                                 schema={n: pl.String for n in f.columns}, orient="row")
            files.append(SourceFile(p, _kind(f.headers), f, frame, head.left_out, head.left_out_count))
        return _plan(files, mapping)
    except BaseException:
        # A UTF-16 file's UTF-8 copy goes with a plan that is not made.
        for f in files:
            f.csv.close()
        raise


def _plan(files: list[SourceFile], mapping: dict[str, str] | None) -> ImportPlan:
    orders = [f for f in files if f.kind == "orders"]
    if len(orders) != 1:
        kinds = ", ".join(f"{f.path.name} ({f.kind})" for f in files)
        raise ImportError_(f"an import needs exactly one orders file; got {kinds}")
    of = orders[0]
    layout = _layout(of.csv.headers)
    problems: list[str] = []
    auto = _match(of.columns, layout)
    derived: dict[str, str] = {}
    payments = next((f for f in files if f.kind == "payments"), None)
    items = next((f for f in files if f.kind == "items"), None)
    if payments:
        derived["payment_method"] = f"{payments.path.name}: the payment type with the largest total"
        derived["amount"] = f"{payments.path.name}: sum of payment_value"
        auto["payment_method"] = auto["amount"] = None
    if items:
        derived["seller_id"] = f"{items.path.name}: seller_id of the first item"
        auto["seller_id"] = None
    for fld, column in (mapping or {}).items():
        if fld not in FIELDS:
            raise ImportError_(f"--map {fld}={column}: {fld!r} is not a field (fields: {', '.join(FIELDS)})")
        if column in (None, ""):
            auto[fld] = None
            continue
        if column not in of.columns:
            raise ImportError_(f"--map {fld}={column}: {of.path.name} has no column {column!r} "
                               f"(columns: {', '.join(of.columns)})")
        # A column feeds one field: an explicit match takes it from any automatic one.
        for other, col in auto.items():
            if col == column and other != fld:
                auto[other] = None
        auto[fld] = column
        derived.pop(fld, None)
    plan = ImportPlan(files, auto, derived, problems, layout, list(of.csv.notices))
    missing = [f for f in REQUIRED_FIELDS if auto.get(f) is None and f not in derived
               and not (f == "amount" and auto.get("unit_price"))]
    if missing:
        if _looks_like_data(of.csv.headers):
            problems.append(f"{of.path.name}: no header row (the first line looks like data: "
                            f"{', '.join(of.columns[:4])}...)")
        else:
            problems += [f"{of.path.name}: no column for the required field {f} "
                         f"(columns: {', '.join(of.columns)}; set one with --map {f}=COLUMN)" for f in missing]
    if not auto.get("payment_method") and "payment_method" not in derived:
        plan.notices.append("the export has no payment method: every order is stored with method 'unknown'")
    return plan


@dataclass(frozen=True)
class ReadPreview:
    """The preview's rows as the import will store them, and what they leave for the user to decide."""
    frame: pl.DataFrame            # one column per matched field of the orders file, under the field's name
    questions: tuple[str, ...]     # what the rows cannot decide, in the import's words ('choose the decimal…')


def read_preview(plan: ImportPlan, readings: Readings | None = None) -> ReadPreview:
    """The preview's rows as the import reads and stores them, each matched field of the orders file by the
    import's own parsing (_decide, _parse_sql): amounts as numbers (their decimal separator decided by the
    values or the user's `readings`), labels normalised, times on the shop's clock. A field its rows cannot decide
    and the user has not is shown as written, named '<field> (as written)', with its question. Fields from
    other files (Olist's payments and items) are not in the preview: they are matched when imported."""
    readings = readings or Readings()
    sources = {f: db.sql_name(plan.mapping[f]) for f in FIELDS if plan.mapping.get(f)}
    con = duckdb.connect()
    questions: list[str] = []
    try:
        con.register("_preview", plan.orders_file.preview.to_arrow())
        numbers = {f: sources[f] for f in (*NUMBER_FIELDS, *LINE_FIELDS) if f in sources}
        undecided: set[str] = set()
        try:
            decimals = {f: r.separator for f, r in formats.decide_decimals(con, "_preview", numbers, readings).items()}
        except FormatUndecided as e:
            questions.append(str(e))
            decimals = e.decided
            undecided = set(numbers) - set(decimals)
        dates = {f: sources[f] for f in TIMESTAMP_FIELDS if f in sources}
        try:
            date_format = formats.decide_date_format(con, "_preview", dates, readings)
        except FormatUndecided as e:
            questions.append(str(e))
            undecided |= set(dates)
            date_format = {}
        columns = [f"nullif(trim({src}), '') AS {db.sql_name(fld + ' (as written)')}" if fld in undecided
                   else f"{_parse_sql(fld, src, decimals, date_format, plan.layout)[0]} AS {fld}"
                   for fld, src in sources.items()]
        frame = con.sql(f"SELECT {', '.join(columns)} FROM _preview").pl() if sources else None
    except duckdb.Error:
        frame = None
    finally:
        con.close()
    if frame is None:   # nothing matched, or rows the reading cannot take: the file's text, said to be so
        frame = plan.orders_file.preview.rename(lambda c: f"{c} (as written)")
    return ReadPreview(frame, tuple(questions))


def _gateway_sql(src: str) -> str:
    """A gateway as the product's method (GATEWAYS), else as the shop wrote it; 'A + B' takes A."""
    first = f"trim(split_part(nullif(trim({src}), ''), '+', 1))"
    key = f"trim(regexp_replace(lower({first}), '[^0-9a-z]+', '_', 'g'), '_')"
    cases = " ".join(
        f"WHEN {key} IN ({', '.join(repr(k) for k in keys)}) THEN '{method}'" for method, keys in GATEWAYS.items()
    )
    return f"(CASE {cases} ELSE nullif({first}, '') END)"


def _shipping_sql(src: str) -> str:
    """A shipping method's name as the product's method (SHIPPING_WORDS: a word of its name), else as the
    shop wrote it (a label). Names already the product's are kept without a test (nearly every row)."""
    label = normalise_label_sql(src)
    cases = " ".join(
        f"WHEN regexp_matches({label}, '(^|[^a-z0-9])({'|'.join(words)})([^a-z0-9]|$)') THEN '{method}'"
        for method, words in SHIPPING_WORDS.items())
    known = ", ".join(f"'{m}'" for m in SHIPPING_METHODS)
    return f"(CASE WHEN {label} IS NULL OR {label} IN ({known}) THEN {label} {cases} ELSE {label} END)"


def import_files(
    con: duckdb.DuckDBPyConnection,
    paths,
    *,
    name: str | None = None,
    mapping: dict[str, str] | None = None,
    progress: Progress | None = None,
    display_names: dict[str, str] | None = None,
    readings: Readings | None = None,
) -> ImportResult:
    """Import one export (one orders file, or Olist's orders + payments [+ items]) as a new data set.

    Raises ImportError_ for whole-file problems, before anything is stored (ImportNeedsChoice where the
    values cannot decide a column's reading: pass `readings`).
    `display_names` maps a path to the name the user knows it by (an upload's original file name).
    """
    progress = progress or (lambda fraction, text: None)
    readings = readings or Readings()
    display_names = display_names or {}
    plan = plan_import(paths, mapping, display_names)
    try:
        if plan.problems:
            raise ImportError_("; ".join(plan.problems))
        return _import(con, plan, name, progress, display_names, readings)
    finally:
        plan.close()


def _import(con, plan: ImportPlan, name, progress, display_names, readings) -> ImportResult:
    shown = {str(f.path): display_names.get(str(f.path), f.path.name) for f in plan.files}
    of = plan.orders_file
    of_name = shown[str(of.path)]
    cur = con.cursor()
    tag = db.new_id().replace("-", "_")
    raw, parsed, staged, bad = f"_raw_{tag}", f"_parsed_{tag}", f"_staged_{tag}", f"_bad_{tag}"
    temp = [raw, parsed, staged, bad]
    order_sellers = None
    try:
        progress(0.05, f"reading {of_name}")
        loaded = _load(cur, raw, of.csv, of_name, _plain_time_columns(plan))
        rows_read = loaded.rows + len(loaded.bad_records)
        if rows_read == 0:
            raise ImportError_(f"{of_name}: the file has a header but no rows")
        joins, extra_cols = [], {}
        payments = next((f for f in plan.files if f.kind == "payments"), None)
        items = next((f for f in plan.files if f.kind == "items"), None)
        oid = db.sql_name(plan.mapping["order_id"] or of.columns[0])
        if payments:
            progress(0.2, f"reading {shown[str(payments.path)]}")
            pay_raw, pay = f"_rawpay_{tag}", f"_pay_{tag}"
            temp += [pay_raw, pay]
            _load(cur, pay_raw, payments.csv, shown[str(payments.path)])
            # The method with the largest total over the order's payments (several vouchers add up),
            # ties to the method paid first.
            cur.execute(
                f"""CREATE TEMP TABLE {pay} AS
                WITH by_type AS (
                    SELECT order_id, payment_type, sum(try_cast(payment_value AS DOUBLE)) AS total,
                           min(try_cast(payment_sequential AS DOUBLE)) AS first_seq
                    FROM {pay_raw} GROUP BY order_id, payment_type
                )
                SELECT order_id AS _oid, arg_max(payment_type, [total, -first_seq]) AS _payment_type,
                       sum(total) AS _payment_sum
                FROM by_type GROUP BY order_id"""
            )
            joins.append(f"LEFT JOIN {pay} ON {pay}._oid = r.{oid}")
            extra_cols["payment_method"] = f"{pay}._payment_type"
            extra_cols["amount"] = f"CAST({pay}._payment_sum AS VARCHAR)"
        if items:
            progress(0.3, f"reading {shown[str(items.path)]}")
            it_raw, it = f"_rawitems_{tag}", f"_items_{tag}"
            temp += [it_raw, it]
            _load(cur, it_raw, items.csv, shown[str(items.path)])
            cur.execute(
                f"""CREATE TEMP TABLE {it} AS
                SELECT order_id AS _oid, arg_min(seller_id, try_cast(order_item_id AS INTEGER)) AS _seller
                FROM {it_raw} GROUP BY order_id"""
            )
            joins.append(f"LEFT JOIN {it} ON {it}._oid = r.{oid}")
            extra_cols["seller_id"] = f"{it}._seller"
            # Orders with several sellers keep them all, each with its share of the items' value.
            shares = f"_shares_{tag}"
            temp.append(shares)
            cur.execute(
                f"""CREATE TEMP TABLE {shares} AS
                WITH per_seller AS (
                    SELECT order_id, seller_id,
                           sum(coalesce(try_cast(price AS DOUBLE), 0) + coalesce(try_cast(freight_value AS DOUBLE), 0))
                               AS value, count(*) AS items
                    FROM {it_raw} WHERE seller_id IS NOT NULL GROUP BY order_id, seller_id
                ), several AS (
                    SELECT *, sum(value) OVER (PARTITION BY order_id) AS total,
                           sum(items) OVER (PARTITION BY order_id) AS all_items,
                           count(*) OVER (PARTITION BY order_id) AS sellers
                    FROM per_seller
                )
                SELECT order_id, seller_id,
                       CASE WHEN total > 0 THEN value / total ELSE items / all_items END AS share
                FROM several WHERE sellers > 1"""
            )
            order_sellers = shares
        progress(0.35, "deciding how to read amounts and dates")
        sources: dict[str, str] = {}
        for fld in FIELDS:
            if fld in extra_cols and plan.mapping.get(fld) is None:
                sources[fld] = extra_cols[fld]
            elif plan.mapping.get(fld):
                sources[fld] = f"r.{db.sql_name(plan.mapping[fld])}"
        notices = list(plan.notices)
        decimals, date_format = _decide(cur, raw, plan, readings, notices, loaded)
        progress(0.4, "parsing")
        inner, errors = [], []
        for fld, src in sources.items():
            typed, err = ((src, None) if plan.mapping.get(fld) in loaded.times and fld in TIMESTAMP_FIELDS
                          else _parse_sql(fld, src, decimals, date_format, plan.layout))
            inner.append(f"{typed} AS {fld}")
            if err:
                # The cell as written, trimmed only where it was not read (a cell that was read is filled).
                inner.append(f"{src} AS _cell_{fld}")
                text = f"nullif(trim(_cell_{fld}), '')"
                condition = f"(CASE WHEN {fld} IS NULL THEN {text} IS NOT NULL ELSE false END)"
                errors.append((condition, f"CASE WHEN {condition} THEN {{'field': '{fld}', 'reason': {err}, "
                                          f"'message': {err} || ' (' || chr(39) || {text} || chr(39) || ')'}} END"))
        if payments and plan.mapping.get("amount") is None:
            # An order the payments file has no row for has no amount: said so, rather than 'missing' as if the
            # orders file had left a cell empty.
            reason = db.sql_text(f"amount: no payment in {shown[str(payments.path)]}")
            inner.append(f"{pay}._oid IS NULL AS _no_payment")
            errors.append(("_no_payment", f"CASE WHEN _no_payment THEN {{'field': 'amount', 'reason': {reason}, "
                                          f"'message': {reason} || ' (the order has no row there)'}} END"))
        warnings = []
        if plan.layout and plan.layout.gateways and "payment_method" in sources:
            inner.append(f"contains({sources['payment_method']}, '+') AS _combined_gateway")
            warnings.append(check("_combined_gateway", "payment_method",
                                     "payment_method: several gateways, the first is used",
                                     "'payment_method: several gateways, the first is used (' || _text_payment "
                                     "|| ')'"))
            inner.append(f"nullif(trim({sources['payment_method']}), '') AS _text_payment")
        err_list = problems_sql(errors) if errors else "[]"
        warn_list = problems_sql(warnings) if warnings else "[]"
        fields = [f for f in FIELDS if f in sources]
        cur.execute(
            f"""CREATE TEMP VIEW {parsed} AS
            SELECT source_line, {", ".join(fields)},
                   CAST({err_list} AS {ERROR_TYPE}) AS _errors, CAST({warn_list} AS {ERROR_TYPE}) AS _warnings
            FROM (SELECT {loaded.line_sql} AS source_line, {", ".join(inner)} FROM {raw} r {" ".join(joins)})"""
        )
        if plan.line_items:
            progress(0.45, "grouping line items into orders")
            _group_line_items(cur, parsed, staged, fields, plan)
        else:
            outer = [f if f in sources else f"CAST(NULL AS {sql_type(f)}) AS {f}" for f in CANONICAL_FIELDS]
            cur.execute(f"""CREATE TEMP VIEW {staged} AS
                SELECT source_line, {", ".join(outer)}, _errors, _warnings, CAST(NULL AS JSON) AS _raw,
                       1 AS _rows
                FROM {parsed}""")
        # The row as read is kept only for refused and warned rows: built from the raw table when stored.
        raw_json = "to_json(struct_pack(" + ", ".join(
            f"{db.sql_name(c)} := r.{db.sql_name(c)}" for c, h in zip(of.columns, of.csv.headers, strict=False) if h) + "))"
        cur.execute(f"CREATE TEMP TABLE {bad} (source_line BIGINT, field VARCHAR, reason VARCHAR, "
                    "message VARCHAR, raw JSON)")
        if loaded.bad_records:
            cur.executemany(
                f"INSERT INTO {bad} VALUES (?, NULL, 'row: wrong number of fields', ?, to_json(?::VARCHAR))",
                [[b.line, csvfile.width_problem(b.fields, loaded.expected_fields), b.text]
                 for b in loaded.bad_records],
            )
        source = {
            "files": list(shown.values()),
            "layout": plan.layout.name if plan.layout else None,
            "mapping": {k: v for k, v in plan.mapping.items() if v},
            "derived": plan.derived,
            "encoding": of.encoding,
            "delimiter": of.delimiter,
            "decimal": decimals,
            "date_format": date_format,
            "notices": notices,
        }
        return store_staged(
            cur, staged, name=name or Path(of_name).stem, source_kind="import",
            source=source, source_file=of_name, progress=progress,
            raw_lookup=(raw, raw_json, loaded.line_sql), extra_refused=bad, rows_read=rows_read,
            stage_times=tuple(t for t in STAGE_TIMES if t in sources), notices=notices,
            order_sellers=order_sellers,
        )
    except CsvError as e:
        raise ImportError_(str(e)) from None
    except duckdb.Error as e:
        raise ImportError_(f"{of_name}: cannot be imported ({csvfile.short(e)})") from None
    finally:
        for t in temp:
            for kind in ("VIEW", "TABLE"):
                try:
                    cur.execute(f"DROP {kind} IF EXISTS {t}")
                except duckdb.Error:
                    pass
        cur.close()


def _plain_time_columns(plan: ImportPlan) -> set[str]:
    """The orders file's time columns that its first rows show written as `formats.PLAIN_TIME`, for the
    reader to read as timestamps. A column empty in those rows goes with the others when they all are
    (one program wrote the file); a cell further down written otherwise makes the reader read the file
    again as text (`csvfile.load`), so a wrong guess costs time, never a value."""
    preview = plan.orders_file.preview
    cells = {c: [v for v in preview[c] if v] for f in TIMESTAMP_FIELDS if (c := plan.mapping.get(f))}
    plain = {c for c, v in cells.items() if v and all(_PLAIN_TIME_CELL.fullmatch(x) for x in v)}
    if plain and all(not v or c in plain for c, v in cells.items()):
        return set(cells)
    return plain


_PLAIN_TIME_CELL = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


def _load(cur, table: str, f: CsvFile, shown: str, times=()) -> csvfile.Loaded:
    try:
        return csvfile.load(cur, table, f, shown, times)
    except CsvError as e:
        raise ImportError_(str(e)) from None


def _decide(cur, raw: str, plan: ImportPlan, readings: Readings, notices: list[str],
            loaded: csvfile.Loaded) -> tuple[dict, dict]:
    """The decimal separator of each number column and the order of day and month of each date column
    (but those the reader read as timestamps already: `loaded.times`). What the reading of a column leaves
    in doubt is added to `notices`."""
    try:
        numbers = {f: plan.mapping[f] for f in (*NUMBER_FIELDS, *LINE_FIELDS) if plan.mapping.get(f)}
        names = {f: db.sql_name(c) for f, c in numbers.items()}
        readings_of = formats.decide_decimals(cur, raw, names, readings)
        decimals = {f: r.separator for f, r in readings_of.items()}
        for fld, column in numbers.items():
            label = f"{fld} ({column})"
            if decimals[fld] == ",":
                notices.append(f"{label} read with a decimal comma")
            if note := formats.thousands_notice(cur, raw, names[fld], label, readings_of[fld], loaded.line_sql):
                notices.append(note)
        dates = {f: db.sql_name(plan.mapping[f]) for f in TIMESTAMP_FIELDS
                 if plan.mapping.get(f) and plan.mapping[f] not in loaded.times}
        date_format = formats.decide_date_format(cur, raw, dates, readings)
        if note := formats.offsets_notice(cur, raw, list(dates.values())):
            notices.append(note)
    except FormatUndecided as e:
        raise ImportNeedsChoice(str(e), e.choice) from None
    return decimals, date_format


def _parse_sql(fld: str, src: str, decimals: dict[str, str], date_format: dict[str, str],
               layout: Layout | None) -> tuple[str, str | None]:
    """(typed expression, parse-error reason) for one field read from text column `src`."""
    if fld in TIMESTAMP_FIELDS:
        return formats.timestamp_sql(src, date_format.get(fld, "day-first")), f"'{fld}: not a timestamp'"
    if fld in (*NUMBER_FIELDS, *LINE_FIELDS):
        return formats.number_sql(src, decimals.get(fld, ".")), f"'{fld}: not a number'"
    if fld == "payment_method" and layout and layout.gateways:
        return _gateway_sql(src), None
    if fld == "shipping_method":
        return _shipping_sql(src), None
    if fld in LABEL_FIELDS:
        return normalise_label_sql(src), None
    return formats.text_sql(src), None


def _group_line_items(cur, parsed: str, staged: str, fields: list[str], plan: ImportPlan) -> None:
    """One row per order from one row per line item.

    An order field comes from the rows where it is filled; two rows of one order that disagree refuse
    the order, naming the field and both values. The amount is the order total where the export has
    one, else the sum of quantity x unit price. A credit note (the layout's prefix, or a row naming the
    order it cancels) is a cancelled order with the absolute amount, cancelled when it was issued; where
    it names an order of the file, that order is cancelled and refunded by it instead.
    """
    order_fields = [f for f in fields if f in CANONICAL_FIELDS and f != "order_id"]
    has_total = "amount" in fields
    line_amount = "coalesce(quantity, 1) * unit_price" if "unit_price" in fields else "NULL"
    # The amount is aggregated on its own below (the order's total, or the sum of its lines).
    aggs = [f"any_value({f}) AS {f}" for f in order_fields if f != "amount"]
    conflicts = []
    for f in order_fields:
        if f in TIMESTAMP_FIELDS:
            shown = "strftime({v}, '%Y-%m-%d %H:%M:%S')"
        else:
            shown = "CAST({v} AS VARCHAR)"
        lo = shown.format(v=f"min({f})")
        hi = shown.format(v=f"max({f})")
        conflicts.append(
            f"CASE WHEN count(DISTINCT {f}) > 1 THEN {{'field': '{f}', 'reason': '{f}: differs between the order''s rows', "
            f"'message': '{f}: ' || {lo} || ' (line ' || arg_min(source_line, {f})::VARCHAR || ') and ' || {hi} || "
            f"' (line ' || arg_max(source_line, {f})::VARCHAR || ') differ between the order''s rows'}} END"
        )
    amount = "any_value(amount)" if has_total else f"sum({line_amount})"
    credit = "false"
    if plan.layout and plan.layout.credit_note_prefix:
        credit = f"starts_with(upper(order_id), '{plan.layout.credit_note_prefix}')"
    cancels = "any_value(credit_note_for)" if "credit_note_for" in fields else "CAST(NULL AS VARCHAR)"
    canonical = []
    for f in CANONICAL_FIELDS:
        own = f if f in fields else f"CAST(NULL AS {sql_type(f)})"
        if f == "amount":
            canonical.append("CASE WHEN _credit THEN abs(_amount) ELSE _amount END AS amount")
        elif f == "status":
            canonical.append(f"CASE WHEN _credit OR _credited IS NOT NULL THEN 'cancelled' ELSE {own} END AS status")
        elif f == "cancelled_at":
            canonical.append(f"CASE WHEN _credit THEN placed_at ELSE coalesce({own}, _credited_at) END AS cancelled_at")
        elif f == "refund_amount":
            canonical.append(f"coalesce({own}, _credited) AS refund_amount")
        else:
            canonical.append(f"{own} AS {f}" if f not in fields else f)
    conflict_list = f"list_filter([{', '.join(conflicts)}], lambda x: x IS NOT NULL)" if conflicts else "[]"
    # A table, not a view: the rows are read several times when stored (ingest.store_staged), and grouping
    # the line items each time would cost more than keeping the orders once.
    cur.execute(
        f"""CREATE TEMP TABLE {staged} AS
        WITH grouped AS (
            SELECT min(source_line) AS source_line, any_value(order_id) AS order_id,
                   {", ".join(aggs)},
                   {amount} AS _amount, count(*) AS _rows, {cancels} AS _cancels,
                   flatten(list(_errors)) AS _row_errors, flatten(list(_warnings)) AS _row_warnings,
                   {conflict_list} AS _conflicts
            FROM {parsed}
            -- A row without an order key is its own (refused) order, never grouped with another.
            GROUP BY coalesce(order_id, '\\x00line ' || source_line::VARCHAR)
        ), notes AS (
            SELECT *, ({credit} OR _cancels IS NOT NULL) AS _credit FROM grouped
        ), links AS (
            -- Credit notes naming an order of the file: that order is cancelled and refunded by them.
            SELECT _cancels AS _target, min(placed_at) AS _credited_at, sum(abs(_amount)) AS _credited,
                   sum(_rows) AS _credit_rows
            FROM notes WHERE _credit AND _cancels IN (SELECT order_id FROM notes WHERE NOT _credit)
            GROUP BY _cancels
        )
        SELECT source_line, {", ".join(canonical)},
               CAST(list_concat(_row_errors, _conflicts) AS {ERROR_TYPE}) AS _errors,
               CAST(_row_warnings AS {ERROR_TYPE}) AS _warnings, CAST(NULL AS JSON) AS _raw,
               _rows + coalesce(_credit_rows, 0) AS _rows
        FROM notes LEFT JOIN links ON links._target = notes.order_id
        WHERE NOT (_credit AND _cancels IS NOT NULL AND _cancels IN (SELECT _target FROM links))"""
    )


def refused_rows(con: duckdb.DuckDBPyConnection, dataset_id: str) -> pl.DataFrame:
    """The rows an import refused: one row per refused source row, in file order. `raw`: the values read, as
    JSON text; for a record of the wrong width (no values could be read), its line as the file has it."""
    return _problem_rows(con, "refused_rows", dataset_id)


def warned_rows(con: duckdb.DuckDBPyConnection, dataset_id: str) -> pl.DataFrame:
    """The orders stored with a warning: one row per order, its first line, in file order."""
    return _problem_rows(con, "warned_rows", dataset_id)


def _problem_rows(con, table: str, dataset_id: str) -> pl.DataFrame:
    # A record of the wrong width is stored as a JSON string of its text: shown as that text, not as JSON
    # (which would add quotes around it and a backslash before each of its own quotes).
    return con.sql(
        "SELECT line_number, field, reason, message, "
        "CASE WHEN json_type(raw) = 'VARCHAR' THEN raw ->> '$' ELSE CAST(raw AS VARCHAR) END AS raw "
        f"FROM {table} WHERE dataset_id = ? ORDER BY line_number",
        params=[dataset_id],
    ).pl()


def mapping_from_args(pairs: list[str] | None) -> dict[str, str]:
    """`--map field=column` pairs as a dict; the column is the exact header."""
    out = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise ImportError_(f"--map {pair}: expected field=column")
        k, v = pair.split("=", 1)
        out[k.strip()] = v
    return out
