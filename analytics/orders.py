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

from analytics import pipelines as p
from analytics import rules
from analytics.load import load_frame

US_PER_HOUR = 3_600_000_000

# One row per order: the order, its cancellation request (if any) and its refund (if any), in the
# pipelines' vocabulary (pipelines.COLUMNS: the same names and types the report loads).
ORDER_COLUMNS: dict[str, pl.DataType] = {c: p.COLUMNS[c] for c in (
    "order_id", "placed_at", "payment_method", "amount", "shipping_method", "paid_at", "shipped_at", "delivered_at",
    "cancelled_at", "is_cancelled", "has_request", "requested_at", "reason", "request_stage", "seller_response",
    "responded_at", "outcome", "return_path", "has_refund", "refund_channel", "refund_amount", "refund_initiated_at",
    "refund_completed_at")}


def load_orders(con, dataset_id: str) -> pl.DataFrame:
    """One row per order of the data set, with its request and refund columns (ORDER_COLUMNS), loaded as
    the report loads the orders grain (load.py)."""
    frame = load_frame(con, dataset_id, "orders", columns=ORDER_COLUMNS)
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


_DERIVED = ("request_stage", "outcome", "return_path")


def _derive_rules(frame: pl.DataFrame) -> pl.DataFrame:
    """The stage, outcome and return path of each request, by the import's rules (rules.py), for a frame
    that does not carry them (orders built in memory rather than loaded from a data set)."""
    stage = rules.stage_sql("coalesce(requested_at, cancelled_at)")
    con = duckdb.connect()
    try:
        con.register("f", frame.drop([c for c in _DERIVED if c in frame.columns]).to_arrow())
        derived = con.sql(f"""
            WITH s AS (SELECT *, CASE WHEN has_request THEN {stage} END AS request_stage FROM f),
                 r AS (SELECT *, has_request AND {rules.return_path_sql("request_stage")} AS return_path FROM s)
            SELECT * REPLACE (CASE WHEN has_request THEN {rules.outcome_sql("request_stage", "return_path")} END
                              AS outcome)
            FROM (SELECT *, CAST(NULL AS VARCHAR) AS outcome FROM r)""").pl()
    finally:
        con.close()
    return derived.with_columns(pl.col("return_path").fill_null(False))


def data_end_expr() -> pl.Expr:
    """The last moment the data set shows: what is still open was open at least until then."""
    cols = ["placed_at", "paid_at", "shipped_at", "delivered_at", "cancelled_at", "requested_at",
            "responded_at", "refund_initiated_at", "refund_completed_at"]
    return pl.max_horizontal([pl.col(c).max() for c in cols])
