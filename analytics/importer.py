"""CSV exports into the database: find the columns, parse, then store through ingest.py.

`plan_import` reads only the head of each file (for the Data page's matching and preview);
`import_files` streams whole files through DuckDB's CSV reader (no Python objects per row) into a
staged table, parses it in SQL and hands it to `ingest.store_staged`, which stores it in one transaction.

Olist's public export is recognised by its headers: an orders file, a payments file (an order paid
several ways takes the method of its largest payment, ties to the lowest payment_sequential, and the
sum of its payments as amount) and, optionally, an items file (the seller of the first item).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from analytics import db
from analytics.ingest import (
    CANONICAL_FIELDS,
    ERROR_TYPE,
    LABEL_FIELDS,
    NUMBER_FIELDS,
    REQUIRED_FIELDS,
    TIMESTAMP_FIELDS,
    ImportResult,
    Progress,
    normalise_label_sql,
    sql_type,
    store_staged,
)


class ImportError_(ValueError):
    """A whole-file problem: one clear message, nothing stored."""


# Header synonyms, compared after `header_key` (lower case, non-alphanumerics as one underscore).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "order_id": ("order_id", "order", "order_number", "order_no", "id", "name", "order_name", "orderid"),
    "placed_at": ("placed_at", "created_at", "order_date", "order_created_at", "order_purchase_timestamp",
                  "purchase_date", "ordered_at", "order_time", "date"),
    "payment_method": ("payment_method", "payment_type", "payment", "payment_gateway", "payment_gateway_names",
                       "pay_method", "payment_method_name"),
    "amount": ("amount", "total", "order_total", "total_price", "grand_total", "order_amount", "payment_value",
               "gmv", "price"),
    "currency": ("currency", "currency_code"),
    "buyer_id": ("buyer_id", "customer_id", "customer", "buyer", "email", "customer_email"),
    "seller_id": ("seller_id", "seller", "store_id", "shop_id", "vendor", "vendor_id", "merchant_id"),
    "shipping_method": ("shipping_method", "shipping", "shipping_service", "shipping_type", "delivery_method"),
    "paid_at": ("paid_at", "payment_date", "order_approved_at", "approved_at", "payment_time", "paid_time"),
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
    "refund_amount": ("refund_amount", "refunded_amount", "refund_total", "amount_refunded", "refund_value"),
    "refund_initiated_at": ("refund_initiated_at", "refund_started_at", "refund_date", "refunded_at",
                            "refund_created_at", "refund_time"),
    "refund_completed_at": ("refund_completed_at", "refund_received_at", "refund_settled_at", "refund_finished_at"),
}

PREVIEW_ROWS = 20
_SNIFF_BYTES = 1 << 20


def header_key(header: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", header.strip().lower()).strip("_")


@dataclass
class SourceFile:
    path: Path
    kind: str                  # 'orders' | 'payments' | 'items'
    encoding: str              # DuckDB's name: 'utf-8' or 'latin-1'
    delimiter: str
    columns: list[str]
    preview: pl.DataFrame      # the first rows, as text


@dataclass
class ImportPlan:
    """What an import of these files will do: which column feeds which field, and a preview."""
    files: list[SourceFile]
    mapping: dict[str, str | None]            # field -> header of the orders file (None: no column)
    derived: dict[str, str] = field(default_factory=dict)   # field -> where it comes from (Olist joins)
    problems: list[str] = field(default_factory=list)       # whole-file problems: importing is refused

    @property
    def orders_file(self) -> SourceFile:
        return next(f for f in self.files if f.kind == "orders")

    @property
    def unmatched_columns(self) -> list[str]:
        used = set(v for v in self.mapping.values() if v)
        return [c for c in self.orders_file.columns if c not in used]

    def as_json(self) -> dict:
        return {
            "files": [{"path": str(f.path), "kind": f.kind, "encoding": f.encoding, "delimiter": f.delimiter,
                       "columns": f.columns} for f in self.files],
            "mapping": self.mapping, "derived": self.derived, "problems": self.problems,
        }


def _sniff(path: Path) -> tuple[str, bytes]:
    """The file's encoding, refusing empty and binary files before DuckDB sees them."""
    if not path.exists():
        raise ImportError_(f"{path.name}: no such file")
    with path.open("rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    if not head.strip(b"\xef\xbb\xbf \t\r\n"):
        raise ImportError_(f"{path.name}: the file is empty")
    if b"\x00" in head:
        raise ImportError_(f"{path.name}: this is not a text (CSV) file")
    try:
        # A multi-byte character may be cut at the end of the head: ignore that one.
        head.decode("utf-8")
        return "utf-8", head
    except UnicodeDecodeError as e:
        if len(head) == _SNIFF_BYTES and e.start >= len(head) - 4:
            return "utf-8", head
        return "latin-1", head


def _detect_delimiter(head: bytes, encoding: str) -> str:
    first = head.decode(encoding, errors="ignore").lstrip("\ufeff").splitlines()[0] if head else ""
    counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


def _read_csv_sql(path: Path, encoding: str, delimiter: str) -> tuple[str, list]:
    """A read_csv call that keeps every cell as text, so parsing (and refusing) happens in our SQL."""
    return (
        "read_csv(?, all_varchar = true, header = true, delim = ?, quote = '\"', escape = '\"', "
        "encoding = ?, null_padding = true, auto_detect = false, columns = ?)"
    ), [str(path), delimiter, encoding]


def _header(path: Path, encoding: str, delimiter: str) -> list[str]:
    con = duckdb.connect()
    try:
        rel = con.execute(
            "SELECT * FROM read_csv(?, all_varchar = true, header = false, delim = ?, encoding = ?, "
            "null_padding = true, max_line_size = 10000000) LIMIT 1",
            [str(path), delimiter, encoding],
        )
        row = rel.fetchone()
    except duckdb.Error as e:
        raise ImportError_(f"{path.name}: cannot be read as CSV ({_short(e)})") from None
    finally:
        con.close()
    if not row:
        raise ImportError_(f"{path.name}: the file is empty")
    headers = [(h or "").strip().lstrip("\ufeff") for h in row]
    # Strip trailing empty headers produced by a trailing delimiter.
    while headers and headers[-1] == "":
        headers.pop()
    return headers


def _short(e: Exception) -> str:
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return text[:300]


def _kind(headers: list[str]) -> str:
    keys = {header_key(h) for h in headers}
    if {"order_id", "payment_sequential", "payment_type", "payment_value"} <= keys:
        return "payments"
    if {"order_id", "order_item_id", "seller_id"} <= keys:
        return "items"
    return "orders"


def _looks_like_data(headers: list[str]) -> bool:
    """A header row made of values (dates, numbers) means the file has no header."""
    pattern = re.compile(r"^(\d{4}-\d{2}-\d{2}.*|-?\d+([.,]\d+)?)$")
    return sum(bool(pattern.match(h.strip())) for h in headers) >= max(1, len(headers) // 3)


def _match(headers: list[str]) -> dict[str, str | None]:
    by_key: dict[str, str] = {}
    for h in headers:
        by_key.setdefault(header_key(h), h)
    mapping: dict[str, str | None] = {}
    taken: set[str] = set()
    # Exact field names first, then synonyms in order of preference, so 'amount' beats 'price'.
    for f in CANONICAL_FIELDS:
        if f in by_key:
            mapping[f] = by_key[f]
            taken.add(by_key[f])
    for f in CANONICAL_FIELDS:
        if f in mapping:
            continue
        mapping[f] = None
        for syn in SYNONYMS.get(f, ()):
            h = by_key.get(syn)
            if h and h not in taken:
                mapping[f] = h
                taken.add(h)
                break
    return mapping


def _read_preview(path: Path, encoding: str, delimiter: str, headers: list[str]) -> pl.DataFrame:
    con = duckdb.connect()
    try:
        sql, params = _read_csv_sql(path, encoding, delimiter)
        cols = {f"c{i}": "VARCHAR" for i in range(len(headers))}
        rows = con.execute(f"SELECT * FROM {sql} LIMIT {PREVIEW_ROWS}", [*params, cols]).fetchall()
    except duckdb.Error as e:
        raise ImportError_(f"{path.name}: cannot be read as CSV ({_short(e)})") from None
    finally:
        con.close()
    names = _unique_names(headers)
    return pl.DataFrame([list(r[: len(names)]) for r in rows], schema={n: pl.String for n in names}, orient="row")


def _unique_names(headers: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, h in enumerate(headers):
        name = h or f"column_{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 1
        out.append(name)
    return out


def plan_import(paths, mapping: dict[str, str] | None = None) -> ImportPlan:
    """Read each file's head, recognise its kind, and match the orders file's columns to fields.

    `mapping` (field -> exact header) sets or overrides matches. Raises ImportError_ for a file
    that cannot be imported at all; `problems` lists what would refuse the whole import.
    """
    files = []
    for p in [Path(p) for p in paths]:
        encoding, head = _sniff(p)
        delimiter = _detect_delimiter(head, encoding)
        headers = _header(p, encoding, delimiter)
        if not any(headers):
            raise ImportError_(f"{p.name}: no header row")
        files.append(SourceFile(p, _kind(headers), encoding, delimiter, _unique_names(headers),
                                _read_preview(p, encoding, delimiter, headers)))
    orders = [f for f in files if f.kind == "orders"]
    if len(orders) != 1:
        kinds = ", ".join(f"{f.path.name} ({f.kind})" for f in files)
        raise ImportError_(f"an import needs exactly one orders file; got {kinds}")
    of = orders[0]
    problems: list[str] = []
    auto = _match(of.columns)
    derived: dict[str, str] = {}
    payments = next((f for f in files if f.kind == "payments"), None)
    items = next((f for f in files if f.kind == "items"), None)
    if payments:
        derived["payment_method"] = f"{payments.path.name}: payment_type of the largest payment"
        derived["amount"] = f"{payments.path.name}: sum of payment_value"
        auto["payment_method"] = auto["amount"] = None
    if items:
        derived["seller_id"] = f"{items.path.name}: seller_id of the first item"
        auto["seller_id"] = None
    for fld, column in (mapping or {}).items():
        if fld not in CANONICAL_FIELDS:
            raise ImportError_(f"--map {fld}={column}: {fld!r} is not a field (fields: {', '.join(CANONICAL_FIELDS)})")
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
    missing = [f for f in REQUIRED_FIELDS if auto.get(f) is None and f not in derived]
    if missing:
        if _looks_like_data(of.columns):
            problems.append(f"{of.path.name}: no header row (the first line looks like data: "
                            f"{', '.join(of.columns[:4])}...)")
        else:
            problems += [f"{of.path.name}: no column for the required field {f} "
                         f"(columns: {', '.join(of.columns)}; set one with --map {f}=COLUMN)" for f in missing]
    return ImportPlan(files, auto, derived, problems)


def _parse_sql(fld: str, src: str) -> tuple[str, str | None]:
    """(typed expression, parse-error check) for one field read from text column `src`."""
    text = f"nullif(trim({src}), '')"
    if fld in TIMESTAMP_FIELDS:
        # Most exports carry naive times, which cast directly. An offset (a '+', a trailing 'Z', or a '-'
        # after the date) takes the slower path: shops write '2026-06-01 10:00:00 +0000', and DuckDB
        # wants the offset attached and with a colon before it converts to UTC.
        has_offset = (f"(contains({text}, '+') OR suffix({text}, 'Z') OR suffix({text}, 'z') "
                      f"OR contains(substr({text}, 11), '-'))")
        fixed = f"regexp_replace({text}, '\\s*([+-]\\d{{2}}):?(\\d{{2}})$', '\\1:\\2')"
        with_offset = f"CAST(try_cast({fixed} AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS TIMESTAMP)"
        typed = f"(CASE WHEN {has_offset} THEN {with_offset} ELSE try_cast({text} AS TIMESTAMP) END)"
        return typed, f"'{fld}: not a timestamp'"
    if fld in NUMBER_FIELDS:
        cleaned = f"regexp_replace({text}, '[\\s$€£R]', '', 'g')"
        # '12,50' is a decimal comma; '1,234.50' has a thousands separator.
        number = (f"CASE WHEN {cleaned} ~ '^-?\\d+,\\d+$' THEN replace({cleaned}, ',', '.') "
                  f"ELSE replace({cleaned}, ',', '') END")
        return f"try_cast({number} AS DOUBLE)", f"'{fld}: not a number'"
    if fld in LABEL_FIELDS:
        return normalise_label_sql(src), None
    return text, None


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def import_files(
    con: duckdb.DuckDBPyConnection,
    paths,
    *,
    name: str | None = None,
    mapping: dict[str, str] | None = None,
    progress: Progress | None = None,
    display_names: dict[str, str] | None = None,
) -> ImportResult:
    """Import one export (one orders file, or Olist's orders + payments [+ items]) as a new data set.

    Raises ImportError_ for whole-file problems, before anything is stored.
    `display_names` maps a path to the name the user knows it by (an upload's original file name).
    """
    progress = progress or (lambda fraction, text: None)
    plan = plan_import(paths, mapping)
    if plan.problems:
        raise ImportError_("; ".join(plan.problems))
    display_names = display_names or {}
    shown = [display_names.get(str(f.path), f.path.name) for f in plan.files]
    of = plan.orders_file
    cur = con.cursor()
    tag = db.new_id().replace("-", "_")
    raw, staged = f"_raw_{tag}", f"_staged_{tag}"
    temp = [raw, staged]
    try:
        progress(0.05, f"reading {shown[plan.files.index(of)]}")
        _load_raw(cur, raw, of)
        if cur.execute(f"SELECT count(*) FROM {raw}").fetchall()[0][0] == 0:
            raise ImportError_(f"{shown[plan.files.index(of)]}: the file has a header but no rows")
        joins, extra_cols = [], {}
        payments = next((f for f in plan.files if f.kind == "payments"), None)
        items = next((f for f in plan.files if f.kind == "items"), None)
        oid = _q(plan.mapping["order_id"] or of.columns[0])
        if payments:
            progress(0.2, f"reading {payments.path.name}")
            pay_raw, pay = f"_rawpay_{tag}", f"_pay_{tag}"
            temp += [pay_raw, pay]
            _load_raw(cur, pay_raw, payments)
            cur.execute(
                f"""CREATE TEMP TABLE {pay} AS
                SELECT order_id AS _oid,
                       arg_max(payment_type, [try_cast(payment_value AS DOUBLE),
                                              -try_cast(payment_sequential AS DOUBLE)]) AS _payment_type,
                       sum(try_cast(payment_value AS DOUBLE)) AS _payment_sum
                FROM {pay_raw} GROUP BY order_id"""
            )
            joins.append(f"LEFT JOIN {pay} ON {pay}._oid = r.{oid}")
            extra_cols["payment_method"] = f"{pay}._payment_type"
            extra_cols["amount"] = f"CAST({pay}._payment_sum AS VARCHAR)"
        if items:
            progress(0.3, f"reading {items.path.name}")
            it_raw, it = f"_rawitems_{tag}", f"_items_{tag}"
            temp += [it_raw, it]
            _load_raw(cur, it_raw, items)
            cur.execute(
                f"""CREATE TEMP TABLE {it} AS
                SELECT order_id AS _oid, arg_min(seller_id, try_cast(order_item_id AS INTEGER)) AS _seller
                FROM {it_raw} GROUP BY order_id"""
            )
            joins.append(f"LEFT JOIN {it} ON {it}._oid = r.{oid}")
            extra_cols["seller_id"] = f"{it}._seller"
        progress(0.4, "parsing")
        # Inner query: each field parsed once, beside its text; outer query: the parse errors.
        inner, outer, errors = [], [], []
        for fld in CANONICAL_FIELDS:
            if fld in extra_cols and plan.mapping.get(fld) is None:
                src = extra_cols[fld]
            elif plan.mapping.get(fld):
                src = f"r.{_q(plan.mapping[fld])}"
            else:
                outer.append(f"CAST(NULL AS {sql_type(fld)}) AS {fld}")
                continue
            typed, err = _parse_sql(fld, src)
            inner.append(f"{typed} AS {fld}")
            outer.append(fld)
            if err:
                inner.append(f"nullif(trim({src}), '') AS _text_{fld}")
                errors.append(
                    f"CASE WHEN _text_{fld} IS NOT NULL AND {fld} IS NULL THEN "
                    f"{{'field': '{fld}', 'reason': {err}, "
                    f"'message': {err} || ' (' || chr(39) || _text_{fld} || chr(39) || ')'}} END"
                )
        err_list = f"list_filter([{', '.join(errors)}], lambda x: x IS NOT NULL)" if errors else "[]"
        cur.execute(
            f"""CREATE TEMP VIEW {staged} AS
            SELECT source_line, {", ".join(outer)},
                   CAST({err_list} AS {ERROR_TYPE}) AS _errors, CAST(NULL AS JSON) AS _raw
            FROM (SELECT r.rowid + 2 AS source_line, {", ".join(inner)} FROM {raw} r {" ".join(joins)})"""
        )
        # The row as read is kept only for refused rows: built from the raw table at refusal time.
        raw_json = "to_json(struct_pack(" + ", ".join(f"{_q(c)} := r.{_q(c)}" for c in of.columns) + "))"
        source = {
            "files": shown,
            "mapping": {k: v for k, v in plan.mapping.items() if v},
            "derived": plan.derived,
            "encoding": of.encoding,
            "delimiter": of.delimiter,
        }
        return store_staged(
            cur, staged, name=name or Path(shown[plan.files.index(of)]).stem, source_kind="import",
            source=source, source_file=shown[plan.files.index(of)], progress=progress,
            raw_lookup=(raw, raw_json),
        )
    except duckdb.Error as e:
        raise ImportError_(f"{of.path.name}: cannot be imported ({_short(e)})") from None
    finally:
        for t in temp:
            try:
                cur.execute(f"DROP {'VIEW' if t == staged else 'TABLE'} IF EXISTS {t}")
            except duckdb.Error:
                pass
        cur.close()


def _load_raw(cur: duckdb.DuckDBPyConnection, table: str, f: SourceFile) -> None:
    """The whole file as text columns named by its headers; rowid + 2 is the physical line (header = 1).

    Insertion order is preserved, so rowid follows the file. A quoted cell spanning lines shifts the
    count; exports of orders rarely have them.
    """
    sql, params = _read_csv_sql(f.path, f.encoding, f.delimiter)
    cols = {c: "VARCHAR" for c in f.columns}
    cur.execute(f"CREATE TEMP TABLE {table} AS SELECT * FROM {sql}", [*params, cols])


def refused_rows(con: duckdb.DuckDBPyConnection, dataset_id: str) -> pl.DataFrame:
    """The rows an import refused: one row per refused source row, in file order, raw values as JSON text."""
    return con.sql(
        "SELECT line_number, field, reason, message, CAST(raw AS VARCHAR) AS raw FROM refused_rows "
        "WHERE dataset_id = ? ORDER BY line_number",
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

