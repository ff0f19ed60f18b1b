"""What an analyst would write instead: the headline report metrics in plain pandas.

Same definitions as analytics/pipelines.py (domain.md): business days = numpy.busday_count over the
dates, percentiles by linear interpolation, a refund's latency counted when it has both a start and a
completion. The benchmark runs this on the same data set as `python -m analytics report` and checks the
numbers agree before it compares the times.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analytics.outcomes import OUTCOMES, STAGES

# The report's outcome block lists these (issue 3); buyer_cancelled and unknown are counted elsewhere.
REPORT_OUTCOMES = ("accepted", "rejected", "auto_cancelled", "lapsed", "not_cancellable")


def load(con, dataset_id: str) -> dict[str, pd.DataFrame]:
    """The data set's three tables as pandas frames (one row per order, request, refund)."""
    def table(sql: str) -> pd.DataFrame:
        return con.sql(sql, params=[dataset_id]).df()

    return {
        "orders": table(
            "SELECT order_id, payment_method, amount, is_cancelled, cancel_stage FROM orders WHERE dataset_id = ?"
        ),
        "requests": table(
            "SELECT order_id, requested_at, stage, outcome FROM cancellation_requests WHERE dataset_id = ?"
        ),
        "refunds": table(
            "SELECT order_id, channel, initiated_at, completed_at FROM refunds WHERE dataset_id = ?"
        ),
    }


def _busdays(start: pd.Series, end: pd.Series) -> pd.Series:
    """Weekdays in [start day, end day); NaN where either time is missing."""
    known = start.notna() & end.notna()
    days = np.full(len(start), np.nan)
    days[known.to_numpy()] = np.busday_count(
        start[known].to_numpy().astype("datetime64[D]"), end[known].to_numpy().astype("datetime64[D]")
    )
    return pd.Series(days, index=start.index)


def report(frames: dict[str, pd.DataFrame]) -> dict:
    """The headline metrics, shaped like `python -m analytics report --json`."""
    orders, requests, refunds = frames["orders"], frames["requests"], frames["refunds"]
    n_orders = len(orders)
    cancelled = int(orders["is_cancelled"].sum())
    by_stage = requests["stage"].value_counts()
    by_outcome = requests["outcome"].value_counts()

    r = refunds.merge(orders[["order_id", "payment_method"]], on="order_id", how="left")
    r = r.merge(requests[["order_id", "requested_at"]], on="order_id", how="left")
    r["days"] = _busdays(r["initiated_at"], r["completed_at"])
    r["days_from_request"] = _busdays(r["requested_at"], r["completed_at"])
    grouped = r.groupby("payment_method", sort=True)
    latency = pd.DataFrame({
        "refunds": grouped["days"].count(),
        "mean_business_days": grouped["days"].mean(),
        "p50_business_days": grouped["days"].quantile(0.5),
        "p90_business_days": grouped["days"].quantile(0.9),
        "p50_from_request_business_days": grouped["days_from_request"].quantile(0.5),
        "p90_from_request_business_days": grouped["days_from_request"].quantile(0.9),
    })
    return {
        "orders": n_orders,
        "gmv": float(orders["amount"].sum()),
        "cancellation_requests": len(requests),
        "cancelled_orders": cancelled,
        "cancellation_rate": cancelled / n_orders if n_orders else None,
        "requests_by_stage": {s: int(by_stage.get(s, 0)) for s in STAGES},
        "request_outcomes": {o: int(by_outcome.get(o, 0)) for o in OUTCOMES if o in REPORT_OUTCOMES},
        "refund_latency": [
            {"payment_method": method, **{k: _plain(v) for k, v in row.items()}}
            for method, row in latency.iterrows()  # one row per payment method: a handful
        ],
    }


def _plain(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    return value


HEADLINE = ("orders", "gmv", "cancellation_requests", "cancelled_orders", "requests_by_stage", "request_outcomes")
LATENCY = ("refunds", "p50_business_days", "p90_business_days", "p50_from_request_business_days",
           "p90_from_request_business_days")


def compare(ours: dict, theirs: dict, rel: float = 1e-9) -> list[str]:
    """The headline metrics on which two reports differ (empty when they agree), one line each."""
    diffs = []

    def same(a, b) -> bool:
        if isinstance(a, float) or isinstance(b, float):
            return a is not None and b is not None and math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)
        return a == b

    for key in HEADLINE:
        a, b = ours.get(key), theirs.get(key)
        if isinstance(b, dict):
            a = {k: (a or {}).get(k, 0) for k in b}
            bad = [k for k in b if not same(a[k], b[k])]
            diffs += [f"{key}.{k}: ours {a[k]} pandas {b[k]}" for k in bad]
        elif not same(a, b):
            diffs.append(f"{key}: ours {a} pandas {b}")
    ours_latency = {row.get("payment_method"): row for row in ours.get("refund_latency") or []}
    for row in theirs["refund_latency"]:
        mine = ours_latency.get(row["payment_method"])
        if mine is None:
            diffs.append(f"refund_latency[{row['payment_method']}]: missing from ours")
            continue
        diffs += [
            f"refund_latency[{row['payment_method']}].{k}: ours {mine.get(k)} pandas {row[k]}"
            for k in LATENCY if k in mine and not same(mine.get(k), row[k])
        ]
    return diffs
