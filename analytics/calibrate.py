"""Calibration: what a replay needs but the data cannot show, fitted from the data set itself.

From one data set (one row per order, orders joined with their request and refund):
- the seller's response time: a lognormal fitted by maximum likelihood with right-censoring. A request
  that got no answer before the window ran out, or whose parcel left first, tells us only that the
  answer would have come later than that; it enters the fit as censored, not as missing;
- the acceptance rate among answered requests, overall and by reason (only awaiting-shipment requests
  are answered, so "by stage" has one stage);
- the time from payment to shipment: Kaplan-Meier on hours (censored where the order was cancelled
  before it shipped), with a censored lognormal for the tail beyond the last shipment seen;
- refund latency per channel and transit per shipping method: their empirical distributions in
  business days;
- the share of Premium shipping, and the window the data's own timeouts show.
Every figure carries its sample size. The fit is stored in `calibrations` as JSON, one row per data set.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

import duckdb
import numpy as np
import polars as pl

from analytics.distributions import (
    Empirical,
    Lognormal,
    Survival,
    WorkdayDispatch,
    fit_lognormal_censored,
    fit_survival,
    fit_workday_dispatch,
    kaplan_meier,
)
from analytics.orders import US_PER_HOUR, data_end_expr, load_orders, normalise_orders
from analytics.outcomes import REFUND_CHANNELS, SHIPPING_METHODS

VERSION = 3
MIN_REASON_ANSWERS = 30  # below this a reason's acceptance rate is too noisy to replace the overall one

def _hours(later: str | pl.Expr, earlier: str | pl.Expr) -> pl.Expr:
    later = pl.col(later) if isinstance(later, str) else later
    earlier = pl.col(earlier) if isinstance(earlier, str) else earlier
    return (later - earlier).dt.total_microseconds().cast(pl.Float64) / US_PER_HOUR


# With no answered request, nothing says how often sellers agree: even odds.
ASSUMED_ACCEPTANCE = 0.5

# Where the data has no refunds through a channel (or no deliveries by a method), what domain.md says:
# original 3-20 business days; wallet credit the same or the next day; coupons at once; transit times.
ASSUMED_REFUND_DAYS = {"original": (3, 20), "wallet": (0, 1), "coupon": (0, 0)}
ASSUMED_TRANSIT_DAYS = {"standard": (15, 45), "premium": (7, 15)}


# --------------------------------------------------------------------------------------------------
# The calibration


@dataclass(frozen=True)
class Rate:
    rate: float
    n: int


@dataclass(frozen=True)
class Calibration:
    """Everything fitted from one data set; hashable (a cache key) and JSON round-trippable."""

    response: Lognormal
    acceptance: Rate
    acceptance_by_reason: tuple[tuple[str, Rate], ...]
    dispatch: Survival
    refund_days: tuple[tuple[str, Empirical], ...]
    transit_days: tuple[tuple[str, Empirical], ...]
    premium_share: Rate
    observed_window_hours: Rate       # median time from request to auto-cancel; rate = hours
    data_end_us: int                  # the last timestamp in the data, microseconds since the epoch
    counts: tuple[tuple[str, int], ...] = field(default=())
    # How far the data reaches, for telling a policy inside it from an extrapolation: the longest wait
    # for a seller's answer the data shows (hours from request to answer or to a timeout cancellation);
    # the longest dispatch (working days from the payment day to the ship day); per payment method, the
    # refund channels its refunds used.
    dispatch_days: WorkdayDispatch | None = None
    longest_answer_hours: float = float("nan")
    longest_dispatch_workdays: int = -1
    channels_by_method: tuple[tuple[str, tuple[str, ...]], ...] = field(default=())
    version: int = VERSION

    def acceptance_for(self, reason: str | None) -> float:
        by = dict(self.acceptance_by_reason)
        r = by.get(reason)
        if r is not None and r.n >= MIN_REASON_ANSWERS:
            return r.rate
        return self.acceptance.rate if self.acceptance.n else ASSUMED_ACCEPTANCE

    def refund_days_for(self, channel: str) -> Empirical:
        found = dict(self.refund_days).get(channel)
        if found is None:
            lo, hi = ASSUMED_REFUND_DAYS.get(channel, ASSUMED_REFUND_DAYS["original"])
            return Empirical(tuple(range(lo, hi + 1)), tuple([1] * (hi - lo + 1)), assumed=True)
        return found

    def transit_days_for(self, method: str) -> Empirical:
        return dict(self.transit_days)[method]

    def _dispatch_days_summary(self) -> dict:
        d = self.dispatch_days
        if d is None or not d.deaths:
            return {"model": "none fitted", "median": None, "shipped": 0, "censored": 0}
        cdf = d.cdf()
        median = int(np.searchsorted(cdf, 0.5)) if cdf[-1] >= 0.5 else None
        return {"model": "Kaplan-Meier on working days from the payment day, censored where cancelled or open; "
                         "time of day as seen", "median": median, "shipped": d.n_observed, "censored": d.n_censored}

    def drawn(self, seed: int, replicate: int) -> Calibration:
        """One plausible truth given the data, a function of (seed, replicate) only: each fitted
        lognormal's (mu, log sigma) from the fit's covariance, each rate from its Beta posterior (Jeffreys
        prior), each empirical distribution by a Poisson bootstrap of its counts, each working day's
        dispatch hazard from its Beta posterior. The hours' Kaplan-Meier table (for charts) is kept. The Premium share is the data's own
        (a fact of these orders, which a policy's share moves from), not drawn."""
        rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, int(replicate), 0xCA11])

        def rate(r: Rate) -> Rate:
            if r.n <= 0 or not math.isfinite(r.rate):
                return r
            a = r.rate * r.n
            return Rate(float(rng.beta(a + 0.5, r.n - a + 0.5)), r.n)

        def emp(e: Empirical) -> Empirical:
            if e.assumed:
                return e
            counts = rng.poisson(np.asarray(e.counts, dtype=float))
            if counts.sum() == 0:
                return e
            return Empirical(e.values, tuple(int(c) for c in counts), False)

        d = self.dispatch
        return dataclasses.replace(
            self,
            response=self.response.drawn(rng),
            acceptance=rate(self.acceptance),
            acceptance_by_reason=tuple((k, rate(v)) for k, v in self.acceptance_by_reason),
            dispatch=Survival(d.probs, d.hours, d.tail.drawn(rng), d.n_observed, d.n_censored),
            dispatch_days=self.dispatch_days.drawn(rng) if self.dispatch_days is not None else None,
            refund_days=tuple((k, emp(v)) for k, v in self.refund_days),
            transit_days=tuple((k, emp(v)) for k, v in self.transit_days),
        )

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Calibration:
        def rate(d):
            return Rate(float(d["rate"]), int(d["n"]))

        def emp(d):
            return Empirical(tuple(d["values"]), tuple(d["counts"]), bool(d["assumed"]))

        def logn(d):
            return Lognormal(float(d["mu"]), float(d["sigma"]), int(d["n_observed"]), int(d["n_censored"]),
                             tuple(float(v) for v in d.get("cov", ())))

        dispatch = data["dispatch"]
        return cls(
            response=logn(data["response"]),
            acceptance=rate(data["acceptance"]),
            acceptance_by_reason=tuple((k, rate(v)) for k, v in data["acceptance_by_reason"]),
            dispatch=Survival(tuple(dispatch["probs"]), tuple(dispatch["hours"]), logn(dispatch["tail"]),
                              int(dispatch["n_observed"]), int(dispatch["n_censored"])),
            refund_days=tuple((k, emp(v)) for k, v in data["refund_days"]),
            transit_days=tuple((k, emp(v)) for k, v in data["transit_days"]),
            premium_share=rate(data["premium_share"]),
            observed_window_hours=rate(data["observed_window_hours"]),
            data_end_us=int(data["data_end_us"]),
            counts=tuple((k, int(v)) for k, v in data["counts"]),
            dispatch_days=WorkdayDispatch(
                tuple(data["dispatch_days"]["deaths"]), tuple(data["dispatch_days"]["at_risk"]),
                logn(data["dispatch_days"]["tail"]), tuple(data["dispatch_days"]["tod_hours"]),
                int(data["dispatch_days"]["n_observed"]), int(data["dispatch_days"]["n_censored"]))
            if data.get("dispatch_days") else None,
            longest_answer_hours=float(data["longest_answer_hours"]) if data["longest_answer_hours"] is not None
            else float("nan"),
            longest_dispatch_workdays=int(data["longest_dispatch_workdays"]),
            channels_by_method=tuple((m, tuple(c)) for m, c in data["channels_by_method"]),
            version=int(data["version"]),
        )

    def summary(self) -> dict:
        """The fitted figures with their sample sizes, for the command line and the page. Made once per
        calibration (the What-if page reads it at every change): each caller gets its own copy."""
        made = self.__dict__.get("_summary")
        if made is None:
            made = self._summary_made()
            object.__setattr__(self, "_summary", made)   # (frozen: set past the dataclass's guard)
        return copy.deepcopy(made)

    def _summary_made(self) -> dict:
        return {
            "seller_response": {
                "model": "lognormal, right-censored at the window or at the parcel leaving",
                "median_hours": _r(self.response.median), "sigma": _r(self.response.sigma),
                "answered": self.response.n_observed, "censored": self.response.n_censored,
                "assumed": self.response.n_observed + self.response.n_censored == 0,
                "p_answer_within_72h": _r(float(self.response.cdf(np.array([72.0]))[0])),
            },
            "acceptance_rate": {"rate": _r(self.acceptance.rate), "answered": self.acceptance.n,
                                "by_reason": {k: {"rate": _r(v.rate), "answered": v.n}
                                              for k, v in self.acceptance_by_reason}},
            "payment_to_shipment": {
                "model": "Kaplan-Meier on hours, censored where cancelled before shipping; lognormal tail",
                "median_hours": _r(self.dispatch.median), "shipped": self.dispatch.n_observed,
                "censored": self.dispatch.n_censored,
                "tail_lognormal": {"median_hours": _r(self.dispatch.tail.median), "sigma": _r(self.dispatch.tail.sigma)},
            },
            "refund_business_days": {
                ch: {"n": e.n, "p50": _r(e.percentile(50)), "p90": _r(e.percentile(90)),
                     "min": min(e.values), "max": max(e.values), "assumed": e.assumed}
                for ch, e in self.refund_days},
            "transit_business_days": {
                m: {"n": e.n, "p50": _r(e.percentile(50)), "p90": _r(e.percentile(90)),
                    "min": min(e.values), "max": max(e.values), "assumed": e.assumed}
                for m, e in self.transit_days},
            "dispatch_working_days": self._dispatch_days_summary(),
            "observed_extent": {
                "longest_answer_hours": _r(self.longest_answer_hours),
                "longest_dispatch_working_days": self.longest_dispatch_workdays
                if self.longest_dispatch_workdays >= 0 else None,
                "refund_channels_by_method": {m: list(c) for m, c in self.channels_by_method},
            },
            "premium_shipping_share": {"share": _r(self.premium_share.rate), "orders": self.premium_share.n},
            "observed_window_hours": {"median_hours": _r(self.observed_window_hours.rate),
                                      "auto_cancelled": self.observed_window_hours.n},
            "counts": dict(self.counts),
        }


def left_out(summary: dict) -> dict[str, int]:
    """From a calibration's summary: the orders a fit left out because their times are out of order
    (stored with a warning), in words -> how many."""
    counts = summary.get("counts", {})
    return {"orders shipped before they were paid, of the dispatch fit":
            counts.get("left_out_of_dispatch_shipped_before_paid", 0),
            "orders delivered before they shipped, of the transit fit":
            counts.get("left_out_of_transit_delivered_before_shipped", 0)}


def _r(x: float, digits: int = 4) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), digits)


def fit_tables(frame: pl.DataFrame, data_end_us: int | None = None) -> dict[str, pl.DataFrame]:
    """What the fit reads, as small tables (only the censored times are per order):

    - response: one row per awaiting-shipment request with a time: hours, observed (else a lower bound)
    - dispatch: one row per paid order: hours from payment to shipment, observed (else a lower bound)
    - answers: per reason, answered and accepted requests
    - refund_days / transit_days: per channel / shipping method and business days, the count
    - totals: one row of counts, the Premium share's parts, the timeouts' median, the data's end.

    `data_end_us`: the data set's last moment when the frame is a sample of it (what is still open was
    open until then, not until the sample's own last moment); default: the frame's."""
    lf = normalise_orders(frame).lazy()
    end = data_end_expr() if data_end_us is None else pl.lit(int(data_end_us)).cast(pl.Datetime("us"))
    awaiting = pl.col("request_stage") == "awaiting_shipment"   # stored by the import (rules.py)
    requested = pl.col("has_request") & pl.col("requested_at").is_not_null()
    answered = awaiting & pl.col("seller_response").is_in(["accepted", "rejected"])
    no_answer = pl.col("seller_response").is_null() | (pl.col("seller_response") == "none")
    # What is known of a silent seller: the answer had not come by the cancellation, by the parcel
    # leaving, or by the end of the data.
    silent_bound = pl.coalesce(pl.col("cancelled_at"), pl.col("shipped_at"), end)
    response_observed = answered & pl.col("responded_at").is_not_null()
    response_hours = (
        pl.when(response_observed & requested).then(_hours("responded_at", "requested_at"))
        .when(awaiting & requested & no_answer).then(_hours(silent_bound, pl.col("requested_at")))
    )
    dispatch_hours = (
        pl.when(pl.col("paid_at").is_null()).then(None)
        .when(pl.col("shipped_at").is_not_null()).then(_hours("shipped_at", "paid_at"))
        .when(pl.col("cancelled_at").is_not_null()).then(_hours("cancelled_at", "paid_at"))
        .when(~pl.col("is_cancelled")).then(_hours(end, pl.col("paid_at")))
    )
    timed_out = awaiting & requested & no_answer & pl.col("cancelled_at").is_not_null() & pl.col("shipped_at").is_null()

    def days(start: str, stop: str) -> pl.Expr:
        return pl.business_day_count(pl.col(start).dt.date(), pl.col(stop).dt.date()).alias("days")

    queries = {
        "response": lf.select(response_hours.alias("hours"), response_observed.fill_null(False).alias("observed"))
        .filter(pl.col("hours").is_not_null() & (pl.col("hours") > 0)),
        "dispatch": lf.select(dispatch_hours.alias("hours"), pl.col("shipped_at").is_not_null().alias("observed"))
        .filter(pl.col("hours").is_not_null() & (pl.col("hours") >= 0)),
        "dispatch_days": lf.filter(pl.col("paid_at").is_not_null()).select(
            pl.business_day_count(pl.col("paid_at").dt.date(),
                                  pl.coalesce(pl.col("shipped_at"), pl.col("cancelled_at"),
                                              pl.when(~pl.col("is_cancelled")).then(end)).dt.date()).alias("days"),
            pl.col("shipped_at").is_not_null().alias("observed"),
            ((pl.col("shipped_at") - pl.col("shipped_at").dt.truncate("1d")).dt.total_microseconds()
             / US_PER_HOUR).alias("tod"),
        ).filter(pl.col("days").is_not_null() & (pl.col("days") >= 0)),
        "answers": lf.filter(answered).group_by("reason")
        .agg(pl.len().alias("answered"), (pl.col("seller_response") == "accepted").sum().alias("accepted"))
        .sort("reason", nulls_last=True),
        "refund_days": lf.filter(pl.col("refund_channel").is_not_null())
        .select("refund_channel", days("refund_initiated_at", "refund_completed_at"))
        .drop_nulls().group_by("refund_channel", "days").len().sort("refund_channel", "days"),
        # An order delivered before it shipped (stored with a warning) tells nothing of transit: left out.
        "transit_days": lf.filter(pl.col("shipping_method").is_not_null())
        .select("shipping_method", days("shipped_at", "delivered_at"))
        .drop_nulls().filter(pl.col("days") >= 0)
        .group_by("shipping_method", "days").len().sort("shipping_method", "days"),
        "totals": lf.select(
            pl.len().alias("orders"),
            # Orders whose times are out of order (stored with a warning): the dispatch and transit fits
            # leave them out, and the summary says how many.
            (pl.col("shipped_at") < pl.col("paid_at")).sum().alias("shipped_before_paid"),
            (pl.col("delivered_at") < pl.col("shipped_at")).sum().alias("delivered_before_shipped"),
            pl.col("has_request").sum().alias("requests"),
            pl.col("has_refund").sum().alias("refunds"),
            pl.col("shipping_method").is_in(list(SHIPPING_METHODS)).sum().alias("known_method"),
            (pl.col("shipping_method") == "premium").sum().alias("premium"),
            _hours("cancelled_at", "requested_at").filter(timed_out).median().alias("timeout_hours"),
            timed_out.sum().alias("timeouts"),
            end.dt.epoch("us").alias("data_end_us"),
            pl.max_horizontal(
                _hours("responded_at", "requested_at").filter(response_observed & requested).max(),
                _hours("cancelled_at", "requested_at").filter(timed_out).max(),
            ).alias("longest_answer_hours"),
            pl.business_day_count(pl.col("paid_at").dt.date(), pl.col("shipped_at").dt.date())
            .filter(pl.col("paid_at").is_not_null() & pl.col("shipped_at").is_not_null()).max()
            .alias("longest_dispatch_workdays"),
        ),
        "method_channels": lf.filter(pl.col("has_refund") & pl.col("refund_channel").is_not_null()
                                     & pl.col("payment_method").is_not_null())
        .select("payment_method", "refund_channel").unique().sort("payment_method", "refund_channel"),
    }
    return dict(zip(queries, pl.collect_all(list(queries.values())), strict=True))


def _empirical_from(counts: pl.DataFrame, group: str, key: str, fallback: tuple[int, int]) -> Empirical:
    rows = counts.filter(pl.col(group) == key)
    if rows.height == 0:
        lo, hi = fallback
        return Empirical(tuple(range(lo, hi + 1)), tuple([1] * (hi - lo + 1)), assumed=True)
    return Empirical(tuple(int(v) for v in rows["days"]), tuple(int(c) for c in rows["len"]))


def fit(frame: pl.DataFrame, data_end_us: int | None = None) -> Calibration:
    """Fit the calibration from one data set's orders (the frame of `load_orders`), or from a sample of
    them with the data set's last moment (`data_end_us`, see fit_tables)."""
    t = fit_tables(frame, data_end_us)
    resp = t["response"]
    obs = resp["observed"].to_numpy()
    hours = resp["hours"].to_numpy()
    response = fit_lognormal_censored(hours[obs], hours[~obs])

    answers = t["answers"]
    answered, accepted = int(answers["answered"].sum()), int(answers["accepted"].sum())
    overall = Rate(accepted / answered if answered else float("nan"), answered)
    acceptance_by_reason = tuple(
        (str(r), Rate(a / n, int(n))) for r, n, a in answers.select("reason", "answered", "accepted").iter_rows()
    )

    disp = t["dispatch"]
    dispatch = fit_survival(disp["hours"].to_numpy(), disp["observed"].to_numpy())
    dd = t["dispatch_days"]
    shipped_tod = dd.filter(pl.col("observed"))["tod"].drop_nulls().to_numpy()
    dispatch_days = fit_workday_dispatch(dd["days"].to_numpy(), dd["observed"].to_numpy(), shipped_tod)
    refunds = tuple(
        (ch, _empirical_from(t["refund_days"], "refund_channel", ch, ASSUMED_REFUND_DAYS[ch])) for ch in REFUND_CHANNELS
    )
    transit = tuple(
        (m, _empirical_from(t["transit_days"], "shipping_method", m, ASSUMED_TRANSIT_DAYS[m])) for m in SHIPPING_METHODS
    )
    tot = t["totals"].row(0, named=True)
    known = int(tot["known_method"])
    premium = Rate(tot["premium"] / known if known else float("nan"), known)
    timeouts = int(tot["timeouts"])
    window = Rate(float(tot["timeout_hours"]) if timeouts else float("nan"), timeouts)
    counts = (
        ("orders", int(tot["orders"])),
        ("requests", int(tot["requests"] or 0)),
        ("awaiting_shipment_requests", int(resp.height)),
        ("refunds", int(tot["refunds"] or 0)),
        ("left_out_of_dispatch_shipped_before_paid", int(tot["shipped_before_paid"] or 0)),
        ("left_out_of_transit_delivered_before_shipped", int(tot["delivered_before_shipped"] or 0)),
    )
    longest = tot["longest_answer_hours"]
    channels_by_method = tuple(
        (str(m), tuple(str(c) for c in g["refund_channel"]))
        for (m,), g in t["method_channels"].group_by("payment_method", maintain_order=True)
    )
    return Calibration(response, overall, acceptance_by_reason, dispatch, refunds, transit, premium, window,
                       int(tot["data_end_us"] or 0), counts, dispatch_days=dispatch_days,
                       longest_answer_hours=float(longest) if longest is not None else float("nan"),
                       longest_dispatch_workdays=int(tot["longest_dispatch_workdays"])
                       if tot["longest_dispatch_workdays"] is not None else -1,
                       channels_by_method=channels_by_method)


# --------------------------------------------------------------------------------------------------
# Storage


def load_calibration(con, dataset_id: str) -> Calibration | None:
    """The stored calibration of a data set, or None when it has none (or one from an older version)."""
    cur = con.cursor()
    try:
        row = cur.execute("SELECT version, fitted FROM calibrations WHERE dataset_id = ?", [dataset_id]).fetchall()
    finally:
        cur.close()
    if not row or row[0][0] != VERSION:
        return None
    return Calibration.from_json(json.loads(row[0][1]))


def save_calibration(con, dataset_id: str, calibration: Calibration) -> None:
    cur = con.cursor()
    try:
        cur.execute(
            "INSERT OR REPLACE INTO calibrations (dataset_id, version, fitted, created_at) VALUES (?, ?, ?, ?)",
            [dataset_id, calibration.version, json.dumps(calibration.to_json()),
             datetime.now(UTC).replace(tzinfo=None)],
        )
    finally:
        cur.close()


def calibrate(con, dataset_id: str, *, refit: bool = False, frame: pl.DataFrame | None = None) -> Calibration:
    """The data set's calibration: the stored one, else fitted now and stored."""
    if not refit:
        stored = load_calibration(con, dataset_id)
        if stored is not None:
            return stored
    calibration = fit(frame if frame is not None else load_orders(con, dataset_id))
    try:
        save_calibration(con, dataset_id, calibration)
    except duckdb.Error:
        # A read-only connection cannot keep the fit; it is still good for this process.
        pass
    return calibration


# --------------------------------------------------------------------------------------------------
# Showing the fit


def fit_vs_data(frame: pl.DataFrame, calibration: Calibration, points: int = 120) -> dict[str, pl.DataFrame]:
    """Frames for charting each fitted curve against the data's own distribution.

    - 'seller_response' and 'payment_to_shipment': one row per (hours, source) with the CDF; source is
      'data (Kaplan-Meier)' or 'fitted'. The data's curve stops where the data stops showing answers.
    - 'refund_days' (per channel) and 'transit_days' (per shipping method): one row per (group, days)
      with the data's share; the replay draws from exactly this distribution.
    - 'acceptance_by_reason': rate, answered, and a 95% Wilson interval per reason.
    """
    t = fit_tables(frame)

    def curves(hours: np.ndarray, observed: np.ndarray, fitted_cdf, top: float) -> pl.DataFrame:
        grid = np.linspace(0.0, top, points)
        t, cdf = kaplan_meier(hours, observed)
        data = np.interp(grid, t, cdf, left=0.0) if len(t) else np.full(points, np.nan)
        if len(t):
            data = np.where(grid <= t[-1], data, np.nan)
        return pl.concat([
            pl.DataFrame({"hours": grid, "cdf": data, "source": "data (Kaplan-Meier)"}),
            pl.DataFrame({"hours": grid, "cdf": fitted_cdf(grid), "source": "fitted"}),
        ]).drop_nans()

    r_hours, r_obs = t["response"]["hours"].to_numpy(), t["response"]["observed"].to_numpy()
    top = float(np.nanmax(r_hours[r_obs])) * 1.5 if r_obs.any() else 240.0
    d_hours, d_obs = t["dispatch"]["hours"].to_numpy(), t["dispatch"]["observed"].to_numpy()
    d_top = float(np.percentile(d_hours[d_obs], 99.5)) if d_obs.any() else 240.0
    d_curve = curves(d_hours, d_obs, calibration.dispatch.tail.cdf, d_top)

    def shares(column: str, groups: str, dists) -> pl.DataFrame:
        frames = [
            pl.DataFrame({groups: g, "days": list(e.values), "count": list(e.counts)},
                         schema={groups: pl.Utf8, "days": pl.Int64, "count": pl.Int64})
            .with_columns((pl.col("count") / pl.col("count").sum()).alias("share"), pl.lit(e.assumed).alias("assumed"))
            for g, e in dists
        ]
        return pl.concat(frames)

    z = 1.959963984540054
    acc = pl.DataFrame(
        [{"reason": k, "rate": v.rate, "answered": v.n} for k, v in calibration.acceptance_by_reason]
        + [{"reason": "all", "rate": calibration.acceptance.rate, "answered": calibration.acceptance.n}],
        schema={"reason": pl.Utf8, "rate": pl.Float64, "answered": pl.Int64},
    ).with_columns(
        ((pl.col("rate") + z**2 / (2 * pl.col("answered"))
          - z * (pl.col("rate") * (1 - pl.col("rate")) / pl.col("answered") + z**2 / (4 * pl.col("answered") ** 2)).sqrt())
         / (1 + z**2 / pl.col("answered"))).alias("low"),
        ((pl.col("rate") + z**2 / (2 * pl.col("answered"))
          + z * (pl.col("rate") * (1 - pl.col("rate")) / pl.col("answered") + z**2 / (4 * pl.col("answered") ** 2)).sqrt())
         / (1 + z**2 / pl.col("answered"))).alias("high"),
    )
    return {
        "seller_response": curves(r_hours, r_obs, calibration.response.cdf, top),
        "payment_to_shipment": d_curve.with_columns(
            pl.when(pl.col("source") == "fitted").then(pl.lit("fitted lognormal (tail)")).otherwise("source")
            .alias("source")),
        "refund_days": shares("refund_days", "channel", calibration.refund_days),
        "transit_days": shares("transit_days", "shipping_method", calibration.transit_days),
        "acceptance_by_reason": acc,
    }
