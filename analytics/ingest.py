"""The one way rows enter the database: checks, derivations and the transaction.

A CSV import (importer.py) and the synthetic generator (generate.py) both end here, so nothing
downstream knows where a data set came from. The input is a *staged* view: the canonical fields,
typed, plus `source_line`, `_errors` (parse problems found upstream) and `_raw` (the row as read).
Everything runs as SQL inside DuckDB: no Python loop over rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import duckdb
import polars as pl

from analytics import db, rules
from analytics.outcomes import CANCELLED_STATUSES, UNKNOWN_STAGE
from analytics.text import count

# The payment method is not required: an export without one stores every order with method 'unknown'.
REQUIRED_FIELDS = ("order_id", "placed_at", "amount")
UNKNOWN_METHOD = "unknown"
TIMESTAMP_FIELDS = (
    "placed_at", "paid_at", "shipped_at", "delivered_at", "cancel_requested_at", "seller_responded_at",
    "cancelled_at", "refund_initiated_at", "refund_completed_at",
)
NUMBER_FIELDS = ("amount", "refund_amount")
LABEL_FIELDS = ("payment_method", "shipping_method", "status", "cancel_reason", "seller_response", "refund_channel")
CANONICAL_FIELDS = (
    "order_id", "placed_at", "payment_method", "amount", "currency", "buyer_id", "seller_id",
    "shipping_method", "paid_at", "shipped_at", "delivered_at", "status", "cancel_requested_at",
    "cancel_reason", "seller_response", "seller_responded_at", "cancelled_at", "refund_channel",
    "refund_amount", "refund_initiated_at", "refund_completed_at",
)
ERROR_TYPE = "STRUCT(field VARCHAR, reason VARCHAR, message VARCHAR)[]"
BAD_RECORD_REASON = "row: wrong number of fields"
# Dates outside these bounds are stored with a warning: real, but likely a typing or export slip.
EARLIEST_PLAUSIBLE = "2000-01-01"
FUTURE_SLACK_DAYS = 2

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class ImportResult:
    """What an import did. `rows_read` counts the file's records; `line_items` the rows grouped into an
    order beyond its first; `stored` orders include the `warned` ones; `refused` counts refused orders
    and records (a refused order of several line items counts once)."""
    dataset: db.Dataset
    stored: int
    refused: int
    refused_by_reason: dict[str, int] = field(default_factory=dict)
    rows_read: int = 0
    line_items: int = 0
    warned: int = 0
    warned_by_reason: dict[str, int] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "dataset": {"id": self.dataset.id, "name": self.dataset.name},
            "rows_read": self.rows_read,
            "line_items": self.line_items,
            "orders": self.stored + self.refused - self.bad_records,
            "stored": self.stored,
            "refused": self.refused,
            "refused_by_reason": self.refused_by_reason,
            "warned": self.warned,
            "warned_by_reason": self.warned_by_reason,
            "notices": self.notices,
        }

    def summary(self) -> str:
        """What the import did, in words a shop owner uses (the command line and the Data page say this)."""
        orders = self.stored + self.refused - self.bad_records
        text = f"{count(self.rows_read, 'row')} read"
        if self.line_items:
            text += (f", grouped into {count(orders, 'order')} ({count(self.line_items, 'row')} "
                     f"{'was a further line item' if self.line_items == 1 else 'were further line items'} of an order)")
        text += f". {count(self.stored, 'order')} stored"
        if self.warned:
            text += f", {self.warned:,} of them with a warning"
        refused_orders = self.refused - self.bad_records
        if refused_orders:
            text += f"; {count(refused_orders, 'order')} refused"
        if self.bad_records:
            text += (f"; {count(self.bad_records, 'row')} refused for a wrong number of fields")
        return text + "."

    @property
    def bad_records(self) -> int:
        """Records refused before grouping (a wrong number of fields): not orders."""
        return self.refused_by_reason.get(BAD_RECORD_REASON, 0)


def sql_type(name: str) -> str:
    if name in TIMESTAMP_FIELDS:
        return "TIMESTAMP"
    if name in NUMBER_FIELDS:
        return "DOUBLE"
    return "VARCHAR"


def normalise_label_sql(expr: str) -> str:
    """Trimmed, lower case, runs of spaces and hyphens as one underscore; empty means unknown.

    Nearly every label is already one ('card', 'bank_transfer'): such a cell is kept as it is, and only
    the others are trimmed, lowered and rewritten (the same result, for a third of the work)."""
    rewritten = f"nullif(regexp_replace(lower(trim({expr})), '[\\s\\-]+', '_', 'g'), '')"
    return f"(CASE WHEN regexp_full_match({expr}, '[a-z0-9_]+') THEN {expr} ELSE {rewritten} END)"


def check(condition: str, fld: str, reason: str, message_sql: str) -> tuple[str, str]:
    """(the condition, the problem it names when it holds, as SQL)."""
    return condition, (
        f"CASE WHEN {condition} THEN {{'field': '{fld}', 'reason': '{reason}', 'message': {message_sql}}} END"
    )


def _ts(name: str) -> str:
    return f"strftime({name}, '%Y-%m-%d %H:%M:%S')"


def problems_sql(checks: list[tuple[str, str]], guard: str | None = None, after: str | None = None) -> str:
    """The failing checks of a row as a list. Nearly every row passes them all: the list is built only for
    a row where one of the conditions holds (building and filtering it for every row costs more than
    the checks). `guard`, if given, holds wherever a check may fail, and is cheaper than all of them.
    `after`, if given, is the list of problems found before: the result is that list followed by these,
    and a row that passes every check keeps it as it is."""
    conditions = guard or " OR ".join(f"({condition})" for condition, _ in checks)
    problems = ", ".join(problem for _, problem in checks)
    found = f"list_filter([{problems}], lambda x: x IS NOT NULL)"
    if after:
        return f"(CASE WHEN {conditions} THEN list_concat({after}, {found}) ELSE {after} END)"
    return f"(CASE WHEN {conditions} THEN {found} ELSE [] END)"


def _row_checks() -> list[tuple[str, str]]:
    """Each check: the condition that refuses a row, the field it names, a reason and a message with the value.

    Refusals are for rows the product cannot store honestly; odd values of a real order are warnings.
    """
    checks = []
    for f in REQUIRED_FIELDS:
        checks.append(
            check(
                f"{f} IS NULL AND NOT list_contains(list_transform(_errors, lambda e: e.field), '{f}')",
                f, f"{f}: missing (required)", f"'{f}: missing (required)'",
            )
        )
    checks += [
        check("isnan(amount) OR isinf(amount)", "amount", "amount: not a number",
               "'amount: not a number (' || amount::VARCHAR || ')'"),
        check("amount < 0", "amount", "amount: negative", "'amount: negative (' || amount::VARCHAR || ')'"),
        check("isnan(refund_amount) OR isinf(refund_amount)", "refund_amount", "refund_amount: not a number",
               "'refund_amount: not a number (' || refund_amount::VARCHAR || ')'"),
        check("refund_amount < 0", "refund_amount", "refund_amount: negative",
               "'refund_amount: negative (' || refund_amount::VARCHAR || ')'"),
        check("_dup_rank > 1", "order_id", "order_id: seen earlier in the file",
               "'order_id: ' || order_id || ' seen earlier in the file (line ' || _first_line::VARCHAR || ')'"),
        check("refund_completed_at < refund_initiated_at", "refund_completed_at",
               "refund_completed_at: before refund_initiated_at",
               f"'refund_completed_at: ' || {_ts('refund_completed_at')} || ' is before refund_initiated_at ' || {_ts('refund_initiated_at')}"),
        # Half a cent of slack: exports round amounts and refunds separately.
        # (A negative amount is refused above: its refund is not measured against it.)
        check("refund_amount > amount + 0.005 AND amount >= 0", "refund_amount", "refund_amount: larger than the order",
               "'refund_amount: ' || refund_amount::VARCHAR || ' is larger than the order amount ' || amount::VARCHAR"),
    ]
    return checks


def _far_bounds() -> tuple[str, str]:
    latest = (datetime.now(UTC) + timedelta(days=FUTURE_SLACK_DAYS)).strftime("%Y-%m-%d %H:%M:%S")
    return f"TIMESTAMP '{EARLIEST_PLAUSIBLE}'", f"TIMESTAMP '{latest}'"


def _times_out_of_order() -> list[tuple[str, str]]:
    return [
        check("paid_at < placed_at", "paid_at", "paid_at: before placed_at",
              f"'paid_at: ' || {_ts('paid_at')} || ' is before placed_at ' || {_ts('placed_at')}"),
        check("shipped_at < paid_at", "shipped_at", "shipped_at: before paid_at",
              f"'shipped_at: ' || {_ts('shipped_at')} || ' is before paid_at ' || {_ts('paid_at')}"),
        check("delivered_at < shipped_at", "delivered_at", "delivered_at: before shipped_at",
              f"'delivered_at: ' || {_ts('delivered_at')} || ' is before shipped_at ' || {_ts('shipped_at')}"),
        check("cancel_requested_at < placed_at", "cancel_requested_at", "cancel_requested_at: before placed_at",
              f"'cancel_requested_at: ' || {_ts('cancel_requested_at')} || ' is before placed_at ' || {_ts('placed_at')}"),
    ]


def _far_dates() -> list[tuple[str, str]]:
    earliest, latest = _far_bounds()
    return [check(f"{f} < {earliest} OR {f} > {latest}", f, f"{f}: far in the past or the future",
                  f"'{f}: ' || {_ts(f)} || ' is far in the past or the future'") for f in TIMESTAMP_FIELDS]


def _order_warnings() -> list[tuple[str, str]]:
    """Odd values of a real order: the order is stored, listed with the warning, and the figures that
    rest on the odd value leave it out (a negative time from payment to shipment fits no distribution)."""
    return [*_times_out_of_order(), *_far_dates()]


def _order_warnings_guard() -> str:
    """Holds wherever an order warning may: the far dates tested once over all the times of a row."""
    earliest, latest = _far_bounds()
    times = ", ".join(TIMESTAMP_FIELDS)
    order = " OR ".join(f"({condition})" for condition, _ in _times_out_of_order())
    return f"({order} OR least({times}) < {earliest} OR greatest({times}) > {latest})"


# An order is cancelled when it has a cancellation time or a cancelled status.
IS_CANCELLED_SQL = ("(cancelled_at IS NOT NULL OR coalesce(status IN ("
                    + ", ".join(f"'{s}'" for s in CANCELLED_STATUSES) + "), false))")


def store_rows(cur: duckdb.DuckDBPyConnection, good: str, dataset_id: str, *, stage_times=rules.STAGE_TIMES,
               progress: Progress | None = None) -> None:
    """Store the rows of `good` (`FROM ... WHERE ...` over rows of the canonical fields, `source_line` and
    `_is_cancelled`) as data set `dataset_id`'s orders, cancellation requests and refunds, with what the
    rules derive from them (stage, outcome, return path). The rows are stored as they are: checking them
    is the caller's (store_staged refuses rows before; the benchmark's floor stores a file unchecked)."""
    progress = progress or (lambda fraction, text: None)
    progress(0.7, "storing orders")
    # No ORDER BY: checked rows come out of a window in hash order, and sorting a whole file back into
    # line order costs more than the rest of the store; readers order what they show.
    cur.execute(
        f"""INSERT INTO orders
        SELECT ?, order_id, source_line, placed_at, coalesce(payment_method, '{UNKNOWN_METHOD}'), amount,
               currency, buyer_id, seller_id, shipping_method, paid_at, shipped_at, delivered_at, status,
               cancelled_at, _is_cancelled,
               CASE WHEN _is_cancelled THEN {rules.stage_sql('coalesce(cancel_requested_at, cancelled_at)', known=stage_times)} END
        {good}""",
        [dataset_id],
    )
    progress(0.8, "storing cancellation requests")
    # Without payment and shipment times the stage is unknown: the outcome then rests on the seller's
    # answer alone (never 'buyer_cancelled' from a stage made up from times the export does not have).
    stage = rules.stage_sql("coalesce(cancel_requested_at, cancelled_at)", known=stage_times)
    return_path = rules.return_path_sql("_stage", cancelled="_is_cancelled", responded="seller_responded_at")
    cur.execute(
        f"""INSERT INTO cancellation_requests
        WITH s AS (
            SELECT *, {stage} AS _stage
            {good} AND (cancel_requested_at IS NOT NULL OR cancel_reason IS NOT NULL)
        ), r AS (SELECT *, {return_path} AS _return_path FROM s)
        SELECT ?, order_id, cancel_requested_at, coalesce(cancel_reason, 'unknown'), coalesce(_stage, '{UNKNOWN_STAGE}'),
               seller_response, seller_responded_at,
               {rules.outcome_sql("_stage", "_return_path", cancelled="_is_cancelled")},
               _return_path
        FROM r""",
        [dataset_id],
    )
    progress(0.9, "storing refunds")
    cur.execute(
        f"""INSERT INTO refunds
        SELECT ?, order_id, refund_channel, refund_amount, refund_initiated_at, refund_completed_at
        -- A refunded amount of 0 (Shopify writes 0.00 on every order) is no refund.
        {good} AND coalesce(refund_amount > 0, refund_channel IS NOT NULL OR refund_initiated_at IS NOT NULL
                                             OR refund_completed_at IS NOT NULL)""",
        [dataset_id],
    )


def store_staged(
    cur: duckdb.DuckDBPyConnection,
    staged: str,
    *,
    name: str,
    source_kind: str,
    source: dict,
    source_file: str | None = None,
    true_params: dict | None = None,
    is_demo: bool = False,
    progress: Progress | None = None,
    raw_lookup: tuple[str, str, str] | None = None,
    extra_refused: str | None = None,
    rows_read: int | None = None,
    stage_times=rules.STAGE_TIMES,
    notices: list[str] | None = None,
    order_sellers: str | None = None,
) -> ImportResult:
    """Check, derive and store the staged table `staged` as a new data set, in one transaction.

    The staged table has `source_line`, the canonical fields, `_errors` and `_warnings` (problems found
    upstream), `_raw` (the row as read, or NULL) and `_rows` (source rows grouped into the order).
    `raw_lookup` = (the raw table, a JSON expression over its alias `r`, the SQL of a raw row's line)
    gives refused and warned rows their values as read, so that JSON is built for those rows only.
    `extra_refused` names a table of records refused before staging (source_line, field, reason,
    message, raw), stored with the rest. `order_sellers` names a table of (order_id, seller_id, share)
    for orders with several sellers; the pairs of stored orders are kept. `stage_times`: which of the
    payment and shipment times the export records (rules.stage_sql: what they cannot tell is unknown).

    The staged rows are read several times (checked, then stored in each table): a view over them must be
    cheap to read again (a typed file's rows, a frame), else the caller keeps them as a table.

    The caller has staged the rows (on the same cursor); the transaction is opened and closed here,
    so a failure at any point leaves the database as it was.
    """
    progress = progress or (lambda fraction, text: None)
    dataset_id = db.new_id()
    checked = f"_checked_{dataset_id.replace('-', '_')}"
    cur.execute("BEGIN TRANSACTION")
    try:
        progress(0.5, "checking rows")
        errors = problems_sql(_row_checks(), after="_errors")
        warnings = problems_sql(_order_warnings(), _order_warnings_guard(), after="_warnings")
        may_fail = " OR ".join(f"({condition})" for condition, _ in _row_checks())
        # Only the rows with a problem are kept apart (nearly none): the rows stored are read from the staged
        # table itself, less the refused lines, rather than from a checked copy of every row.
        cur.execute(
            f"""
            CREATE TEMP TABLE {checked} AS
            WITH repeated AS (
                -- Usually empty: the ids seen more than once, with the line that keeps them.
                SELECT order_id, min(source_line) AS _first_line FROM {staged}
                WHERE order_id IS NOT NULL GROUP BY order_id HAVING count(*) > 1
            ), ranked AS (
                -- Only the columns the checks read are read: the query keeps no other.
                SELECT s.*, d._first_line,
                       CASE WHEN s.source_line > d._first_line THEN 2 ELSE 1 END AS _dup_rank
                FROM {staged} s LEFT JOIN repeated d ON s.order_id = d.order_id
            )
            SELECT source_line, _raw, {errors} AS _errors, {warnings} AS _warnings
            FROM ranked
            WHERE len(_errors) > 0 OR len(_warnings) > 0 OR {may_fail} OR {_order_warnings_guard()}
            """
        )
        refused = cur.execute(f"SELECT count(*) FROM {checked} WHERE len(_errors) > 0").fetchall()[0][0]
        # Where no row is refused (the usual case), the rows are stored straight from the staged table: the
        # join that leaves the refused ones out would also make DuckDB store the orders on one thread.
        kept = (f"{staged} s ANTI JOIN (SELECT source_line FROM {checked} WHERE len(_errors) > 0) r "
                "ON s.source_line = r.source_line") if refused else f"{staged} s"
        good = f"FROM (SELECT s.*, {IS_CANCELLED_SQL} AS _is_cancelled FROM {kept}) WHERE true"
        store_rows(cur, good, dataset_id, stage_times=stage_times, progress=progress)
        raw_sql, raw_join = "c._raw", ""
        if raw_lookup:
            raw_sql = f"coalesce(c._raw, {raw_lookup[1]})"
            raw_join = f"LEFT JOIN {raw_lookup[0]} r ON {raw_lookup[2]} = c.source_line"
        for table, problems, where in (("refused_rows", "_errors", "len(c._errors) > 0"),
                                       ("warned_rows", "_warnings", "len(c._errors) = 0 AND len(c._warnings) > 0")):
            cur.execute(
                f"""INSERT INTO {table}
                SELECT ?, ?, c.source_line, c.{problems}[1].field, c.{problems}[1].reason,
                       array_to_string(list_transform(c.{problems}, lambda e: e.message), '; '), {raw_sql}
                FROM {checked} c {raw_join} WHERE {where} ORDER BY c.source_line""",
                [dataset_id, source_file],
            )
        if order_sellers:
            cur.execute(f"""INSERT INTO order_sellers
                SELECT ?, s.order_id, s.seller_id, s.share FROM {order_sellers} s
                SEMI JOIN (SELECT order_id {good}) g ON g.order_id = s.order_id""", [dataset_id])
        if extra_refused:
            cur.execute(f"INSERT INTO refused_rows SELECT ?, ?, source_line, field, reason, message, raw "
                        f"FROM {extra_refused}", [dataset_id, source_file])
        counts = cur.execute(
            """SELECT (SELECT count(*) FROM orders WHERE dataset_id = $1),
                      (SELECT count(*) FROM cancellation_requests WHERE dataset_id = $1),
                      (SELECT count(*) FROM refunds WHERE dataset_id = $1),
                      (SELECT count(*) FROM refused_rows WHERE dataset_id = $1),
                      (SELECT count(*) FROM warned_rows WHERE dataset_id = $1)""",
            [dataset_id],
        ).fetchall()[0]
        grouped, orders_rows = cur.execute(f"SELECT count(*), coalesce(sum(_rows), 0) FROM {staged}").fetchall()[0]
        line_items = int(orders_rows) - int(grouped)
        if rows_read is None:
            rows_read = int(orders_rows)

        def by_reason(table: str) -> dict[str, int]:
            return dict(cur.execute(
                f"SELECT reason, count(*) FROM {table} WHERE dataset_id = ? GROUP BY reason ORDER BY 2 DESC, 1",
                [dataset_id]).fetchall())

        refused_by, warned_by = by_reason("refused_rows"), by_reason("warned_rows")
        source = {**source, "rows_read": rows_read, "line_items": line_items}
        cur.execute(
            """INSERT INTO datasets (id, name, source_kind, source, true_params, created_at, orders,
                                     cancellation_requests, refunds, refused_rows, warned_rows, is_demo)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [dataset_id, name, source_kind, json.dumps(source), json.dumps(true_params) if true_params else None,
             datetime.now(UTC).replace(tzinfo=None), *counts, is_demo],
        )
        cur.execute(f"DROP TABLE {checked}")
        cur.execute("COMMIT")
    except BaseException:
        cur.execute("ROLLBACK")
        raise
    progress(1.0, "done")
    return ImportResult(db.get_dataset(cur, dataset_id), counts[0], counts[3], refused_by, rows_read=rows_read,
                        line_items=line_items, warned=counts[4], warned_by_reason=warned_by,
                        notices=list(notices or []))


def store_frame(
    con: duckdb.DuckDBPyConnection,
    frame: pl.DataFrame,
    *,
    name: str,
    source_kind: str,
    source: dict,
    true_params: dict | None = None,
    is_demo: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Store a frame of canonical, typed columns (timestamps naive UTC) as a new data set.

    Labels are normalised here as for an import; absent optional columns mean unknown.
    """
    missing = [f for f in REQUIRED_FIELDS if f not in frame.columns]
    if missing:
        raise ValueError(f"the frame lacks required field(s): {', '.join(missing)}")
    cur = con.cursor()
    view = f"_frame_{db.new_id().replace('-', '_')}"
    cur.register(view, frame.to_arrow())
    staged = f"_staged_{db.new_id().replace('-', '_')}"
    columns = []
    for f in CANONICAL_FIELDS:
        if f not in frame.columns:
            columns.append(f"CAST(NULL AS {sql_type(f)}) AS {f}")
        elif f in LABEL_FIELDS:
            columns.append(f"{normalise_label_sql(db.sql_name(f) + '::VARCHAR')} AS {f}")
        else:
            columns.append(f"CAST({db.sql_name(f)} AS {sql_type(f)}) AS {f}")
    line = "CAST(source_line AS BIGINT)" if "source_line" in frame.columns else "CAST(row_number() OVER () + 1 AS BIGINT)"
    try:
        cur.execute(
            f"""CREATE TEMP VIEW {staged} AS
                SELECT {line} AS source_line, {", ".join(columns)},
                       CAST([] AS {ERROR_TYPE}) AS _errors, CAST([] AS {ERROR_TYPE}) AS _warnings,
                       CAST(NULL AS JSON) AS _raw, 1 AS _rows
                FROM {view}"""
        )
        return store_staged(cur, staged, name=name, source_kind=source_kind, source=source,
                            true_params=true_params, is_demo=is_demo, progress=progress)
    finally:
        cur.execute(f"DROP VIEW IF EXISTS {staged}")
        cur.unregister(view)
        cur.close()
