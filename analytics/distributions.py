"""The distributions the what-if engine draws from, and their fits (no data set, no storage here):

- Lognormal: hours, fitted by maximum likelihood with right-censoring (`fit_lognormal_censored`), or with
  a share of subjects who never answer (`fit_lognormal_cure`); drawn conditioned on a lower bound;
- Survival: a Kaplan-Meier curve (`kaplan_meier`, `fit_survival`) with a lognormal tail;
- WorkdayDispatch: working days from payment to shipment, with the time of day (`fit_workday_dispatch`);
- Empirical: whole business days with their counts.
calibrate.py fits them to a data set and stores them; replay.py draws from them.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special


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
