"""The rules that derive what an observed order means (outcomes.py states them in words), written once
as SQL: the import applies them to every stored order (ingest.py), and an orders frame held only in
memory gets them the same way (orders.normalise_orders, through DuckDB). The what-if engine reads the
stored stage, outcome and return path; it never derives them again.

Each function returns a SQL expression over an order's columns, whose names the caller gives (the
import's staged fields and the loaded frame's columns differ).
"""

from __future__ import annotations

# The times a stage is read from; an export may record both, one or neither.
STAGE_TIMES = ("paid_at", "shipped_at")


def stage_sql(t: str, paid: str = "paid_at", shipped: str = "shipped_at", known=STAGE_TIMES) -> str:
    """Stage at time t; with t unknown, from which timestamps the order has. `known`: which of STAGE_TIMES
    the export records. A time it does not record is not a time that did not happen, so what it cannot
    tell is NULL (unknown): with neither time, every stage; with the payment time alone, whether a paid
    order had shipped; with the shipment time alone, whether an unshipped order had been paid."""
    has_paid, has_shipped = "paid_at" in known, "shipped_at" in known
    if has_paid and has_shipped:
        return f"""CASE
        WHEN {t} IS NULL THEN CASE WHEN {paid} IS NULL THEN 'before_payment'
                                   WHEN {shipped} IS NULL THEN 'awaiting_shipment'
                                   ELSE 'after_shipment' END
        WHEN {paid} IS NULL OR {paid} > {t} THEN 'before_payment'
        WHEN {shipped} IS NULL OR {shipped} > {t} THEN 'awaiting_shipment'
        ELSE 'after_shipment' END"""
    if has_paid:
        return f"(CASE WHEN {paid} IS NULL OR {paid} > {t} THEN 'before_payment' END)"
    if has_shipped:
        return f"(CASE WHEN {shipped} IS NOT NULL AND ({t} IS NULL OR {shipped} <= {t}) THEN 'after_shipment' END)"
    return "CAST(NULL AS VARCHAR)"


def return_path_sql(stage: str, shipped: str = "shipped_at", cancelled: str = "is_cancelled",
                    responded: str = "responded_at") -> str:
    """The parcel overtook the request: asked awaiting shipment, shipped before any answer, not cancelled."""
    return (f"coalesce({stage} = 'awaiting_shipment' AND {shipped} IS NOT NULL AND NOT {cancelled} "
            f"AND ({responded} IS NULL OR {shipped} < {responded}), false)")


def outcome_sql(stage: str, return_path: str, response: str = "seller_response",
                cancelled: str = "is_cancelled") -> str:
    """How a request ended (outcomes.py)."""
    return f"""CASE WHEN {stage} = 'before_payment' THEN 'buyer_cancelled'
                    WHEN {stage} = 'after_shipment' OR {return_path} THEN 'not_cancellable'
                    WHEN {response} = 'accepted' THEN 'accepted'
                    WHEN {response} = 'rejected' THEN 'rejected'
                    WHEN {response} = 'none' AND {cancelled} THEN 'auto_cancelled'
                    WHEN {response} = 'none' THEN 'lapsed'
                    ELSE 'unknown' END"""
