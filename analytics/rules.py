"""The rules that derive what an observed order means (outcomes.py states them in words), written once
as SQL: the import applies them to every stored order (ingest.py), and an orders frame held only in
memory gets them the same way (orders.normalise_orders, through DuckDB). The what-if engine reads the
stored stage, outcome and return path; it never derives them again.

Each function returns a SQL expression over an order's columns, whose names the caller gives (the
import's staged fields and the loaded frame's columns differ).
"""

from __future__ import annotations


def stage_sql(t: str, paid: str = "paid_at", shipped: str = "shipped_at", known: bool = True) -> str:
    """Stage at time t; with t unknown, from which timestamps the order has. `known` False: an export
    with neither payment nor shipment times cannot tell the stage: NULL (unknown)."""
    if not known:
        return "CAST(NULL AS VARCHAR)"
    return f"""CASE
        WHEN {t} IS NULL THEN CASE WHEN {paid} IS NULL THEN 'before_payment'
                                   WHEN {shipped} IS NULL THEN 'awaiting_shipment'
                                   ELSE 'after_shipment' END
        WHEN {paid} IS NULL OR {paid} > {t} THEN 'before_payment'
        WHEN {shipped} IS NULL OR {shipped} > {t} THEN 'awaiting_shipment'
        ELSE 'after_shipment' END"""


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
