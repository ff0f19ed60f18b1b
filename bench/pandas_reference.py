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


# ---------------------------------------------------------------------------------------------------
# The what-if replay's rules in pandas (notes on the rules: analytics/replay.py and model.md).
#
# The reference gets the same inputs as our replay: the observed orders plus one replicate's draws (the
# would-be ship time, the seller's answer time and decision, the refund days a new refund would take),
# and applies the rules itself: stage at request, consent, the response window and its timeout action,
# the race between the answer and the parcel, and the refund of every cancellation that moved. It covers
# policies that change those rules; the dispatch deadline and refund routing it leaves to our engine.

REPLAY_KEYS = (
    "cancelled_orders", "cancelled_gmv", "requests_buyer_cancelled", "requests_accepted", "requests_rejected",
    "requests_auto_cancelled", "requests_lapsed", "requests_not_cancellable", "requests_cancelled_without_consent",
    "return_path_orders", "refunds", "refunds_after_request", "refund_wait_p50_business_days",
    "refund_wait_p90_business_days",
)
_REPLAY_OUTCOMES = ("buyer_cancelled", "accepted", "rejected", "auto_cancelled", "lapsed", "not_cancellable",
                    "cancelled_without_consent")


def replay_inputs(prepared, seed: int = 0, replicate: int = 0) -> pd.DataFrame:
    """One row per order: the observed columns and one replicate's draws, taken from our engine so both
    sides replay the same random numbers (common random numbers, as the engine itself does)."""
    from analytics.draws import STREAM_REFUND, uniforms
    from analytics.outcomes import DEFAULT_REFUND_CHANNEL, REFUND_CHANNELS
    from analytics.replay import latent
    from analytics.replay_data import NEVER

    data, calibration = prepared.data, prepared.calibration
    lat = latent(data, calibration, seed, replicate)
    frame = prepared.frame.to_pandas()
    n = len(frame)
    ship = data.shipped.copy()  # the observed shipment, and a drawn one where none was seen
    ship[data.s_idx] = lat.ship
    frame["would_ship_at"] = pd.to_datetime(np.where(ship == NEVER, np.iinfo(np.int64).min, ship), unit="us")
    response = np.full(n, np.iinfo(np.int64).min)  # NaT where the order has no replayable request
    response[data.r_idx] = lat.response
    frame["response_time"] = pd.to_timedelta(response, unit="us")
    accepts = np.zeros(n, dtype=bool)
    accepts[data.r_idx] = lat.accept
    frame["accepts"] = accepts
    # The channel a new refund takes under the baseline routing, and the days a draw gives it.
    seen = frame["has_refund"] & frame["refund_channel"].isin(REFUND_CHANNELS)
    default = frame["payment_method"].map(lambda m: DEFAULT_REFUND_CHANNEL.get(m, "original"))
    channel = np.where(seen, frame["refund_channel"], default)
    u = uniforms(data.key, seed, replicate, STREAM_REFUND)
    days = np.zeros(n, dtype=np.int64)
    for name in REFUND_CHANNELS:
        sel = channel == name
        days[sel] = calibration.refund_days_for(name).quantile(u[sel])
    frame["new_refund_channel"] = channel
    frame["drawn_refund_days"] = days
    return frame


def _day(ts: pd.Series) -> np.ndarray:
    return ts.to_numpy().astype("datetime64[D]")


def replay(frame: pd.DataFrame, policy) -> dict:
    """Our replay's headline figures (simulate's names) for one policy over replay_inputs' frame."""
    if policy.late_dispatch_action != "none" or any(policy.channel_changed(m) for m in frame["payment_method"].unique()) \
            or any(policy.refund_days_for(c) is not None for c in ("original", "wallet", "coupon")):
        raise NotImplementedError("the pandas reference replays consent, window and timeout rules only")
    df = frame
    t, paid, shipped = df["requested_at"], df["paid_at"], df["shipped_at"]
    stage = np.select(
        [paid.isna() | (paid > t), shipped.isna() | (shipped > t)], ["before_payment", "awaiting_shipment"],
        "after_shipment",
    )
    has_request, is_cancelled = df["has_request"], df["is_cancelled"]
    answered = df["seller_response"].isin(["accepted", "rejected"]) & df["responded_at"].notna()
    silent = df["seller_response"] == "none"
    # What the replay cannot re-derive stays as observed.
    fixed = (
        (has_request & t.isna())
        | (has_request & (stage == "awaiting_shipment") & ~answered & ~silent)
        | (is_cancelled & df["cancelled_at"].isna())
        | (~has_request & is_cancelled)
    )
    replayable = has_request & ~fixed
    aw = replayable & (stage == "awaiting_shipment")

    outcome = pd.Series(np.where(has_request, df["outcome"], "none"), index=df.index, dtype=object)
    outcome[replayable] = np.where(stage[replayable] == "before_payment", "buyer_cancelled", "not_cancellable")
    cancelled = is_cancelled.copy()
    cancel_at = df["cancelled_at"].where(is_cancelled)
    return_path = df["return_path"].eq(True)
    return_path[replayable] = False

    if not policy.seller_consent_required:
        outcome[aw] = "cancelled_without_consent"
        cancelled[aw] = True
        cancel_at[aw] = t[aw]
    else:
        window = pd.to_timedelta(round(policy.seller_response_hours * 3_600_000_000), unit="us")
        response = df["response_time"]
        ends = t + response.where(response < window, window)
        race = aw & (df["would_ship_at"] < ends)
        answered_now = aw & ~race & (response <= window)
        timeout = aw & ~race & (response > window)
        accepted = answered_now & df["accepts"]
        rejected = answered_now & ~df["accepts"]
        outcome[race], return_path[race], cancelled[race] = "not_cancellable", True, False
        outcome[accepted], cancelled[accepted] = "accepted", True
        cancel_at[accepted] = (t + response)[accepted]
        outcome[rejected], cancelled[rejected] = "rejected", False
        if policy.timeout_action == "auto_cancel":
            outcome[timeout], cancelled[timeout] = "auto_cancelled", True
            cancel_at[timeout] = t[timeout] + window
        else:
            outcome[timeout], cancelled[timeout] = "lapsed", False
    cancel_at = cancel_at.where(cancelled)

    # Refunds: a cancellation that moved (in state or time) gets a new refund if the order was paid.
    observed_at = df["cancelled_at"].where(is_cancelled)
    moved = replayable & ((cancelled != is_cancelled) | (cancelled & (cancel_at != observed_at)))
    gets = moved & cancelled & paid.notna() & (paid <= cancel_at)
    refunded = df["has_refund"].copy()
    refunded[moved] = gets[moved]
    done = pd.Series(_day(df["refund_completed_at"]), index=df.index)
    new = gets
    if new.any():
        r = df[new]
        kept = (r["has_refund"] & (r["refund_channel"] == r["new_refund_channel"])
                & r["refund_completed_at"].notna() & r["refund_initiated_at"].notna())
        days = r["drawn_refund_days"].to_numpy().copy()
        k = kept.to_numpy()
        days[k] = np.busday_count(_day(r["refund_initiated_at"][kept]), _day(r["refund_completed_at"][kept]))
        done[new] = np.busday_offset(_day(cancel_at[new]), days, roll="forward")

    # The buyer's wait, over the requests replayed: business days from the request to the money back.
    made = replayable & refunded & done.notna()
    wait = pd.Series(np.busday_count(_day(t[made]), done[made].to_numpy().astype("datetime64[D]")),
                     index=df.index[made])
    counts = outcome[outcome != "none"].value_counts()
    out = {
        "orders": len(df),
        "cancelled_orders": int(cancelled.sum()),
        "cancelled_gmv": float(df["amount"][cancelled].sum()),
        **{f"requests_{o}": int(counts.get(o, 0)) for o in _REPLAY_OUTCOMES},
        "return_path_orders": int(return_path.sum()),
        "refunds": int(refunded.sum()),
        "refunds_after_request": len(wait),
        "refund_wait_p50_business_days": _plain(wait.quantile(0.5)),
        "refund_wait_p90_business_days": _plain(wait.quantile(0.9)),
    }
    by_method = wait.groupby(df["payment_method"][made]).quantile([0.5, 0.9])
    for (method, q), value in by_method.items():
        out[f"refund_wait_by_payment_method.{method}.p{int(round(q * 100))}"] = _plain(value)
    return out


def compare_replay(ours: dict, theirs: dict, rel: float = 1e-9) -> list[str]:
    """The figures on which our replay (summarise's flat names) and the pandas one differ."""
    diffs = []
    keys = [k for k in theirs if k in REPLAY_KEYS or k.startswith("refund_wait_by_payment_method.")]
    for key in keys:
        a, b = ours.get(key), theirs[key]
        a = None if isinstance(a, float) and math.isnan(a) else a
        if a is None or b is None:
            same = a is None and b is None
        else:
            same = math.isclose(float(a), float(b), rel_tol=rel, abs_tol=1e-9)
        if not same:
            diffs.append(f"{key}: ours {a} pandas {b}")
    return diffs
