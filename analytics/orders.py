"""A data set's orders as the what-if engine reads them: one row per order, with its cancellation request
and its refund joined on, and the stage, outcome and return path the import derived (rules.py).

    load_orders(con, dataset_id) -> pl.DataFrame       ORDER_COLUMNS, sorted by order id
    normalise_orders(frame) -> pl.DataFrame            any frame in that shape: every column, typed; a
                                                       hand-made frame without the derived columns gets
                                                       them by the import's own rules
Times are naive UTC; US_PER_HOUR converts their microseconds.
"""

from __future__ import annotations

import duckdb
import polars as pl

from analytics import rules

US_PER_HOUR = 3_600_000_000

# One row per order: the order, its cancellation request (if any) and its refund (if any).
ORDER_COLUMNS: dict[str, pl.DataType] = {
    "order_id": pl.Utf8,
    "placed_at": pl.Datetime("us"),
    "payment_method": pl.Utf8,
    "amount": pl.Float64,
    "shipping_method": pl.Utf8,
    "paid_at": pl.Datetime("us"),
    "shipped_at": pl.Datetime("us"),
    "delivered_at": pl.Datetime("us"),
    "cancelled_at": pl.Datetime("us"),
    "is_cancelled": pl.Boolean,
    "has_request": pl.Boolean,
    "requested_at": pl.Datetime("us"),
    "reason": pl.Utf8,
    "stage": pl.Utf8,
    "seller_response": pl.Utf8,
    "responded_at": pl.Datetime("us"),
    "outcome": pl.Utf8,
    "return_path": pl.Boolean,
    "has_refund": pl.Boolean,
    "refund_channel": pl.Utf8,
    "refund_amount": pl.Float64,
    "refund_initiated_at": pl.Datetime("us"),
    "refund_completed_at": pl.Datetime("us"),
}

_ORDERS_SQL = """
SELECT o.order_id, o.placed_at, o.payment_method, o.amount, o.shipping_method, o.paid_at, o.shipped_at,
       o.delivered_at, o.cancelled_at, o.is_cancelled,
       r.order_id IS NOT NULL AS has_request, r.requested_at, r.reason, r.stage, r.seller_response,
       r.responded_at, r.outcome, r.return_path,
       f.order_id IS NOT NULL AS has_refund, f.channel AS refund_channel, f.amount AS refund_amount,
       f.initiated_at AS refund_initiated_at, f.completed_at AS refund_completed_at
FROM orders o
LEFT JOIN cancellation_requests r ON r.dataset_id = o.dataset_id AND r.order_id = o.order_id
LEFT JOIN refunds f ON f.dataset_id = o.dataset_id AND f.order_id = o.order_id
WHERE o.dataset_id = ?
"""


def load_orders(con, dataset_id: str) -> pl.DataFrame:
    """One row per order of the data set, with its request and refund columns (ORDER_COLUMNS)."""
    cur = con.cursor()
    try:
        frame = cur.sql(_ORDERS_SQL, params=[dataset_id]).pl()
    finally:
        cur.close()
    # Sorted here rather than in SQL (DuckDB's ORDER BY holds the whole result twice): a join returns
    # rows in no fixed order, and sums of amounts should not change from one load to the next.
    return normalise_orders(_sorted_by_id(frame))


def _sorted_by_id(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame in order_id order, moved one column at a time: sorting the whole frame at once holds
    it twice (the biggest single cost of loading a large data set)."""
    order = frame["order_id"].arg_sort()
    columns = []
    for name in frame.columns:
        column = frame.drop_in_place(name)
        columns.append(column.gather(order))
        del column
    return pl.DataFrame(columns)


def normalise_orders(frame: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """The frame with every ORDER_COLUMNS column, typed; absent optional columns become null.

    has_request / has_refund, when absent, are derived from the request and refund columns, so a
    hand-made frame needs only what it means to say; so are the stage, outcome and return path, by the
    import's rules. A frame already in that shape (load_orders') comes back as it is, with no copy."""
    if isinstance(frame, pl.DataFrame) and frame.schema == pl.Schema(ORDER_COLUMNS):
        return frame
    lf = frame.lazy()
    present = set(lf.collect_schema().names())
    derived = {
        "has_request": pl.col("requested_at").is_not_null() | pl.col("reason").is_not_null(),
        "has_refund": pl.any_horizontal(
            pl.col(c).is_not_null()
            for c in ("refund_channel", "refund_amount", "refund_initiated_at", "refund_completed_at")
        ),
        "is_cancelled": pl.col("cancelled_at").is_not_null(),
    }
    first = [pl.lit(None, dtype=t).alias(c) for c, t in ORDER_COLUMNS.items() if c not in present and c not in derived]
    second = [derived[c].alias(c) for c in derived if c not in present]
    out = (
        lf.with_columns(first)
        .with_columns(second)
        .select([pl.col(c).cast(t) for c, t in ORDER_COLUMNS.items()])
        .collect()
    )
    if not set(_DERIVED) <= present:
        out = _derive_rules(out).select([pl.col(c).cast(t) for c, t in ORDER_COLUMNS.items()])
    return out


_DERIVED = ("stage", "outcome", "return_path")


def _derive_rules(frame: pl.DataFrame) -> pl.DataFrame:
    """The stage, outcome and return path of each request, by the import's rules (rules.py), for a frame
    that does not carry them (orders built in memory rather than loaded from a data set)."""
    stage = rules.stage_sql("coalesce(requested_at, cancelled_at)")
    con = duckdb.connect()
    try:
        con.register("f", frame.drop([c for c in _DERIVED if c in frame.columns]).to_arrow())
        derived = con.sql(f"""
            WITH s AS (SELECT *, CASE WHEN has_request THEN {stage} END AS stage FROM f),
                 r AS (SELECT *, has_request AND {rules.return_path_sql("stage")} AS return_path FROM s)
            SELECT * REPLACE (CASE WHEN has_request THEN {rules.outcome_sql("stage", "return_path")} END AS outcome)
            FROM (SELECT *, CAST(NULL AS VARCHAR) AS outcome FROM r)""").pl()
    finally:
        con.close()
    return derived.with_columns(pl.col("return_path").fill_null(False))


def data_end_expr() -> pl.Expr:
    """The last moment the data set shows: what is still open was open at least until then."""
    cols = ["placed_at", "paid_at", "shipped_at", "delivered_at", "cancelled_at", "requested_at",
            "responded_at", "refund_initiated_at", "refund_completed_at"]
    return pl.max_horizontal([pl.col(c).max() for c in cols])
