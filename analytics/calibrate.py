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

import dataclasses
import json
import math
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

import duckdb
import numpy as np
import polars as pl
from scipy import optimize, special

from analytics.orders import US_PER_HOUR, data_end_expr, load_orders, normalise_orders
from analytics.outcomes import REFUND_CHANNELS, SHIPPING_METHODS

VERSION = 3
MIN_REASON_ANSWERS = 30  # below this a reason's acceptance rate is too noisy to replace the overall one

def _hours(later: str | pl.Expr, earlier: str | pl.Expr) -> pl.Expr:
    later = pl.col(later) if isinstance(later, str) else later
    earlier = pl.col(earlier) if isinstance(earlier, str) else earlier
    return (later - earlier).dt.total_microseconds().cast(pl.Float64) / US_PER_HOUR


# --------------------------------------------------------------------------------------------------
# Distributions


@dataclass(frozen=True)
class Lognormal:
    """A lognormal in hours, fitted with censoring: n_observed exact times, n_censored lower bounds."""

    mu: float
    sigma: float
    n_observed: int
    n_censored: int
    # Covariance of the estimates (mu, log sigma) from the inverse of the likelihood's Hessian at the
    # fit, as (var mu, cov, var log sigma); () when nothing was fitted (an assumed lognormal).
    cov: tuple[float, ...] = ()

    @property
    def median(self) -> float:
        return math.exp(self.mu)

    def drawn(self, rng: np.random.Generator) -> Lognormal:
        """The lognormal with its (mu, log sigma) drawn from their sampling distribution (normal, with
        the fit's covariance): one plausible truth given the data."""
        if len(self.cov) != 3:
            return self
        v_mu, c, v_ls = self.cov
        mu, log_s = rng.multivariate_normal([self.mu, math.log(self.sigma)], [[v_mu, c], [c, v_ls]],
                                            method="cholesky")
        return Lognormal(float(mu), float(math.exp(log_s)), self.n_observed, self.n_censored, self.cov)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        with np.errstate(divide="ignore"):
            z = (np.log(np.maximum(x, 0.0)) - self.mu) / self.sigma
        return special.ndtr(z)

    def quantile_above(self, lower: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Inverse CDF of the distribution truncated to (lower, inf): a draw beyond `lower` for each uniform.

        Works in the survival function so that a bound far in the tail keeps its precision."""
        lower = np.asarray(lower, dtype=float)
        with np.errstate(divide="ignore"):
            zc = (np.log(np.maximum(lower, 1e-12)) - self.mu) / self.sigma
        sf = special.ndtr(-zc)
        z = -special.ndtri(np.clip((1.0 - u) * sf, 1e-300, 1.0))
        return np.maximum(np.exp(self.mu + self.sigma * z), lower)


# With no time at all to fit (a data set without such events), an assumed lognormal keeps draws finite;
# it is reported with zero observations. Median one day, sigma 1.
ASSUMED_LOGNORMAL = Lognormal(math.log(24.0), 1.0, 0, 0)
# With no answered request, nothing says how often sellers agree: even odds.
ASSUMED_ACCEPTANCE = 0.5


def fit_lognormal_censored(observed: np.ndarray, censored: np.ndarray) -> Lognormal:
    """Maximum likelihood lognormal from exact times and right-censored lower bounds (hours, > 0)."""
    x = np.log(np.asarray(observed, dtype=float))
    c = np.log(np.asarray(censored, dtype=float))
    if len(x) == 0 and len(c) == 0:
        return ASSUMED_LOGNORMAL
    pooled = np.concatenate([x, c])
    start = np.array([np.mean(pooled), np.log(max(np.std(pooled), 0.1))])

    def nll(theta: np.ndarray) -> tuple[float, np.ndarray]:
        mu, log_s = theta
        s = math.exp(log_s)
        z = (x - mu) / s
        zc = (c - mu) / s
        log_sf = special.log_ndtr(-zc)
        hazard = np.exp(-0.5 * zc**2 - 0.5 * math.log(2 * math.pi) - log_sf)
        value = len(x) * log_s + 0.5 * np.sum(z**2) - np.sum(log_sf)
        d_mu = -np.sum(z) / s - np.sum(hazard) / s
        d_log_s = len(x) - np.sum(z**2) - np.sum(hazard * zc)
        return float(value), np.array([d_mu, d_log_s])

    if len(x) == 0:  # only lower bounds: the likelihood has no maximum; keep the naive start
        return Lognormal(float(start[0]), float(math.exp(start[1])), 0, int(len(c)))
    result = optimize.minimize(nll, start, jac=True, method="L-BFGS-B",
                               bounds=[(None, None), (math.log(1e-3), math.log(50.0))])
    mu, log_s = result.x
    return Lognormal(float(mu), float(math.exp(log_s)), int(len(x)), int(len(c)),
                     _covariance(lambda th: nll(th)[1], np.array([mu, log_s])))


def fit_lognormal_cure(observed: np.ndarray, censored: np.ndarray, share: float) -> Lognormal:
    """The answer times of the sellers who do answer, when a known `share` of all never do: maximum
    likelihood with an answer at x weighing (1 - share) f(x) and a silence past c weighing share +
    (1 - share) S(c). With share 0 this is fit_lognormal_censored."""
    if share <= 0:
        return fit_lognormal_censored(observed, censored)
    x = np.log(np.asarray(observed, dtype=float))
    c = np.log(np.asarray(censored, dtype=float))
    if len(x) == 0:
        return fit_lognormal_censored(observed, censored)
    keep = math.log(max(1.0 - share, 1e-12))

    def nll(theta: np.ndarray) -> float:
        mu, log_s = theta
        s = math.exp(log_s)
        z = (x - mu) / s
        silent = np.logaddexp(math.log(share), keep + special.log_ndtr(-(c - mu) / s)) if share < 1 else np.zeros(len(c))
        return float(len(x) * (log_s - keep) + 0.5 * np.sum(z**2) - np.sum(silent))

    start = fit_lognormal_censored(observed, censored)
    result = optimize.minimize(nll, np.array([start.mu, math.log(start.sigma)]), method="L-BFGS-B",
                               bounds=[(None, None), (math.log(1e-3), math.log(50.0))])
    mu, log_s = result.x

    def gradient(theta: np.ndarray) -> np.ndarray:
        h = 1e-5
        return np.array([(nll(theta + e) - nll(theta - e)) / (2 * h) for e in (np.array([h, 0]), np.array([0, h]))])

    return Lognormal(float(mu), float(math.exp(log_s)), int(len(x)), int(len(c)),
                     _covariance(gradient, np.array([mu, log_s])))


def _covariance(gradient, theta: np.ndarray) -> tuple[float, ...]:
    """The inverse of the Hessian (central differences of the analytic gradient) at the estimate: the
    estimates' asymptotic covariance. () when it is not positive definite (a degenerate fit)."""
    h = 1e-5
    hess = np.empty((2, 2))
    for i in range(2):
        step = np.zeros(2)
        step[i] = h
        hess[:, i] = (gradient(theta + step) - gradient(theta - step)) / (2 * h)
    hess = (hess + hess.T) / 2
    try:
        cov = np.linalg.inv(hess)
        np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        return ()
    return (float(cov[0, 0]), float(cov[0, 1]), float(cov[1, 1]))


def kaplan_meier(times: np.ndarray, events: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier: the distinct event times and the CDF (1 - survival) just after each."""
    times = np.asarray(times, dtype=float)
    events = np.asarray(events, dtype=bool)
    if len(times) == 0:
        return np.array([]), np.array([])
    uniq, inverse = np.unique(times, return_inverse=True)
    deaths = np.bincount(inverse, weights=events, minlength=len(uniq))
    leaving = np.bincount(inverse, minlength=len(uniq))
    at_risk = len(times) - np.concatenate([[0], np.cumsum(leaving)[:-1]])
    survival = np.cumprod(1.0 - deaths / at_risk)
    keep = deaths > 0
    return uniq[keep], 1.0 - survival[keep]


@dataclass(frozen=True)
class Survival:
    """A time in hours known from Kaplan-Meier (as a quantile table) plus a lognormal beyond its range."""

    probs: tuple[float, ...]
    hours: tuple[float, ...]
    tail: Lognormal
    n_observed: int
    n_censored: int

    @property
    def median(self) -> float:
        return float(np.interp(0.5, self.probs, self.hours)) if self.probs and self.probs[-1] >= 0.5 else self.tail.median

    def cdf(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        if not self.probs:
            return self.tail.cdf(x)
        p, h = np.asarray(self.probs), np.asarray(self.hours)
        inside = np.interp(x, h, p, left=0.0, right=p[-1])
        return np.where(x > h[-1], np.maximum(self.tail.cdf(x), p[-1]), inside)

    def quantile_above(self, lower: np.ndarray, u: np.ndarray) -> np.ndarray:
        """A draw beyond `lower` for each uniform: inverse of the CDF truncated to (lower, inf)."""
        lower = np.asarray(lower, dtype=float)
        return self.quantile_from(lower, self.cdf(lower), u)

    def quantile_from(self, lower: np.ndarray, f_lower: np.ndarray, u: np.ndarray) -> np.ndarray:
        """quantile_above with the CDF at the bounds already known (it does not change between replicates)."""
        if not self.probs:
            return self.tail.quantile_above(lower, u)
        p, h = np.asarray(self.probs), np.asarray(self.hours)
        target = f_lower + u * (1.0 - f_lower)
        # The table's probabilities are evenly spaced: its inverse is arithmetic, not a search.
        top = p[-1]
        pos = np.clip(target / top, 0.0, 1.0) * (len(p) - 1) if top > 0 else np.zeros_like(target)
        j = np.minimum(pos.astype(np.int64), len(p) - 2) if len(p) > 1 else np.zeros(len(pos), dtype=np.int64)
        out = h[j] + (pos - j) * (h[np.minimum(j + 1, len(p) - 1)] - h[j])
        # Beyond the table's last probability the tail takes over, drawn beyond the larger bound.
        beyond = target > top
        if beyond.any():
            span = (target[beyond] - top) / max(1.0 - top, 1e-12)
            out[beyond] = self.tail.quantile_above(np.maximum(lower[beyond], h[-1]), np.clip(span, 0.0, 1.0))
        return np.maximum(out, lower)


def fit_survival(times: np.ndarray, events: np.ndarray, points: int = 1001) -> Survival:
    events = np.asarray(events, dtype=bool)
    times = np.asarray(times, dtype=float)
    tail = fit_lognormal_censored(times[events & (times > 0)], times[~events & (times > 0)])
    t, cdf = kaplan_meier(times, events)
    if len(t) == 0:
        return Survival((), (), tail, int(events.sum()), int((~events).sum()))
    # A quantile table over the probabilities the data reaches, evenly spaced (inverted by arithmetic):
    # monotone, and small enough for JSON.
    probs = np.linspace(0.0, cdf[-1], points)
    idx = np.minimum(np.searchsorted(cdf, probs, side="left"), len(t) - 1)
    hours = t[idx]
    hours[0] = min(hours[0], float(times.min()))
    return Survival(tuple(map(float, probs)), tuple(map(float, hours)), tail, int(events.sum()), int((~events).sum()))


@dataclass(frozen=True)
class WorkdayDispatch:
    """Dispatch as the rules count it: whole working days from the payment day to the ship day (0 = the
    first working day on or after the payment day), by Kaplan-Meier over days (an order cancelled or still
    open before shipping is censored: it was at risk on every earlier day), a censored lognormal of
    days + 1 for days beyond the table, and the time of day parcels leave (101 quantiles, hours)."""

    deaths: tuple[float, ...]     # per working day 0..K-1: orders seen shipping on it
    at_risk: tuple[float, ...]    # per day: orders not shipped before it, known to be at risk on it
    tail: Lognormal               # of days + 1, beyond the table
    tod_hours: tuple[float, ...]  # quantiles 0, 0.01, ..., 1 of the hour of the day a parcel leaves
    n_observed: int
    n_censored: int

    def cdf(self) -> np.ndarray:
        """P(days <= d) for d = 0..K-1."""
        if not self.deaths:
            return np.zeros(0)
        hazard = np.asarray(self.deaths) / np.maximum(np.asarray(self.at_risk), 1e-12)
        return 1.0 - np.cumprod(1.0 - np.clip(hazard, 0.0, 1.0))

    def below(self, lower: np.ndarray) -> np.ndarray:
        """P(days < lower) per order (lower: the working days it is known to have waited unshipped)."""
        table = np.concatenate([[0.0], self.cdf()])
        lower = np.asarray(lower, dtype=np.int64)
        inside = np.clip(lower, 0, len(table) - 1)
        out = table[inside]
        beyond = lower >= len(table)
        if beyond.any():
            out = out.copy()
            out[beyond] = np.maximum(self.tail.cdf(lower[beyond] + 0.5), table[-1])
        return out

    def draw_days(self, lower: np.ndarray, f_lower: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Working days for each uniform, at least `lower` (f_lower = below(lower))."""
        table = self.cdf()
        top = table[-1] if len(table) else 0.0
        target = f_lower + u * (1.0 - f_lower)
        days = np.searchsorted(table, target, side="left").astype(np.int64)
        beyond = (target > top) | (lower >= len(table))
        if beyond.any():
            start = np.maximum(lower[beyond], len(table))
            f_start = self.tail.cdf(start + 0.5)
            span = np.clip((target[beyond] - np.maximum(f_start, top)) / np.maximum(1.0 - np.maximum(f_start, top),
                                                                                       1e-12), 0.0, 1.0)
            x = self.tail.quantile_above(start + 0.5, span)
            days[beyond] = np.maximum(np.rint(x - 1.0).astype(np.int64), start)
        return np.maximum(days, lower)

    def tod_below(self, hours: np.ndarray) -> np.ndarray:
        """The share of parcels that leave before this hour of the day."""
        q = np.asarray(self.tod_hours) if self.tod_hours else np.array([12.0, 12.0])
        return np.interp(hours, q, np.linspace(0.0, 1.0, len(q)), left=0.0, right=1.0)

    def tod(self, u: np.ndarray, above: np.ndarray | None = None) -> np.ndarray:
        """An hour of the day for each uniform (after `above`, where given: the same day, later)."""
        q = np.asarray(self.tod_hours) if self.tod_hours else np.array([12.0, 12.0])
        probs = np.linspace(0.0, 1.0, len(q))
        if above is not None:
            f = np.interp(above, q, probs, left=0.0, right=1.0)
            u = f + u * (1.0 - f)
        return np.interp(u, probs, q)

    def drawn(self, rng: np.random.Generator) -> WorkdayDispatch:
        """Each day's hazard from its Beta posterior (Jeffreys prior), the tail's estimates from their
        covariance: one plausible truth given the data."""
        if not self.deaths:
            return self
        d, n = np.asarray(self.deaths), np.asarray(self.at_risk)
        hazard = rng.beta(d + 0.5, np.maximum(n - d, 0.0) + 0.5)
        hazard[d >= n] = 1.0   # every order at risk shipped that day: nothing says otherwise
        return dataclasses.replace(self, deaths=tuple(float(h) * float(k) for h, k in zip(hazard, n, strict=True)),
                                   tail=self.tail.drawn(rng))


def fit_workday_dispatch(days: np.ndarray, observed: np.ndarray, tod_hours: np.ndarray) -> WorkdayDispatch:
    """From per paid order: working days to the ship day (observed) or the days it is known to have waited
    (censored: not shipped before that day), and the hour of the day of each observed shipment."""
    days = np.asarray(days, dtype=np.int64)
    observed = np.asarray(observed, dtype=bool)
    seen, cens = days[observed], days[~observed]
    tail = fit_lognormal_censored(seen + 1.0, cens[cens >= 0] + 0.5)
    if len(seen) == 0:
        return WorkdayDispatch((), (), tail, (), 0, int(len(cens)))
    k = int(seen.max()) + 1
    deaths = np.bincount(seen, minlength=k)[:k].astype(float)
    leave_seen = np.bincount(seen, minlength=k + 1)[: k + 1]
    # A censored order waited unshipped through day c - 1: at risk on days 0..c-1.
    c = np.clip(cens, 0, k)
    leave_cens = np.bincount(c, minlength=k + 1)[: k + 1]
    total = len(seen) + len(cens)
    gone_before = np.concatenate([[0], np.cumsum(leave_seen[:k] + leave_cens[:k])[:-1]]) if k else np.zeros(0)
    # On day d the censored orders with c == d are no longer counted as at risk.
    at_risk = total - gone_before - leave_cens[:k]
    tod = np.quantile(np.asarray(tod_hours, dtype=float), np.linspace(0, 1, 101)) if len(tod_hours) else np.array([])
    return WorkdayDispatch(tuple(map(float, deaths)), tuple(map(float, at_risk)), tail, tuple(map(float, tod)),
                           int(len(seen)), int(len(cens)))


@dataclass(frozen=True)
class Empirical:
    """A whole-number distribution (business days) as seen in the data; `assumed` when the data had none."""

    values: tuple[int, ...]
    counts: tuple[int, ...]
    assumed: bool = False

    @property
    def n(self) -> int:
        return 0 if self.assumed else int(sum(self.counts))

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """Inverse CDF: the value for each uniform in [0, 1)."""
        cdf = np.cumsum(self.counts, dtype=float)
        idx = np.searchsorted(cdf / cdf[-1], np.asarray(u), side="right")
        return np.asarray(self.values, dtype=np.int64)[np.minimum(idx, len(self.values) - 1)]

    def percentile(self, q: float) -> float:
        expanded = np.repeat(np.asarray(self.values, dtype=float), np.asarray(self.counts, dtype=np.int64))
        return float(np.percentile(expanded, q)) if len(expanded) else float("nan")


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
        """The fitted figures with their sample sizes, for the command line and the page."""
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


def fit_tables(frame: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """What the fit reads, as small tables (only the censored times are per order):

    - response: one row per awaiting-shipment request with a time: hours, observed (else a lower bound)
    - dispatch: one row per paid order: hours from payment to shipment, observed (else a lower bound)
    - answers: per reason, answered and accepted requests
    - refund_days / transit_days: per channel / shipping method and business days, the count
    - totals: one row of counts, the Premium share's parts, the timeouts' median, the data's end."""
    lf = normalise_orders(frame).lazy()
    end = data_end_expr()
    awaiting = pl.col("stage") == "awaiting_shipment"   # stored by the import (rules.py)
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


def fit(frame: pl.DataFrame) -> Calibration:
    """Fit the calibration from one data set's orders (the frame of `load_orders`)."""
    t = fit_tables(frame)
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
