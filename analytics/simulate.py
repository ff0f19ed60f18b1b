"""The what-if engine's public API: replay a data set's orders under another policy, with intervals.

    from analytics.policy import Policy, PARAMETERS, PolicyError
    from analytics import simulate as whatif

Policy (analytics/policy.py): a frozen, hashable value; defaults are the baseline of domain.md.
    seller_consent_required   bool   True         a paid, unshipped order needs the seller's consent
    seller_response_hours     number 72           (0, 2160] hours: the seller's window to answer
    timeout_action            choice auto_cancel  auto_cancel | lapse: what the window running out does
    never_answer_share        number 0            0..1: an assumption, not a rule: the share of sellers who
                                                  would never answer however long the window (data censored
                                                  at its window cannot tell); 0 = all answer in the end
    dispatch_deadline_days    int    7            1..60 working days after the payment day
    late_dispatch_action      choice none         none | auto_cancel: an order not shipped by the deadline
    refund_channel.<method>   choice as domain.md original | wallet | coupon, per payment method: any method
                                                  the data set has (Olist: credit_card, boleto, voucher,
                                                  debit_card), not only the domain's six. A method outside
                                                  the domain table defaults to the channel its refunds show
                                                  in the data, else original. policy_parameters(prepared)
                                                  gives the controls for one data set (below).
    refund_days.<channel>     'fitted' or 0..60   business days a channel takes; 'fitted' = the data's own
    premium_shipping_share    number None         None (written 'data' in links, --set and text output) =
                                                  the data set's own shipping method, order by order; a
                                                  number 0..1 always means that share (0.25 = 25% Premium).
                                                  The data's observed share: observed_premium_share(prepared)
                                                  (also Calibration.summary()["premium_shipping_share"]).
  Policy.from_settings(["name=value", ...]) and policy.with_values({...}) raise PolicyError, whose
  `problem` names the parameter, the value and why; Policy.from_query(params, other_keys=...) never
  raises and returns (policy, problems) for untrusted URL parameters (analytics.params.Problem); policy.changes() / policy.to_query() give only the
  non-default parameters. PARAMETERS: one Parameter per name (name, kind, default, label, help,
  choices, minimum, maximum, unit, group, range_text) for building controls: the domain's payment
  methods. Parameter.default None means "as the data set shows" (written 'data'); parse('data') -> None.

  For one data set, build the controls from policy_parameters(prepared) instead of PARAMETERS, and pass
  the same list as `parameters=` to Policy.from_query / from_settings / with_values / get:
    policy_parameters(prepared) -> tuple[Parameter, ...]
        PARAMETERS with one refund_channel.<method> per payment method the data set has (domain methods
        first in the domain's order, then the others by name), each with the data set's default. With
        it, a method the data set does not have is refused (PolicyError, or a problem from from_query)
        naming the methods it has; a method outside the domain table set to its default is stored as
        unset, so the link stays clean; policy.get(name, parameters) reads an unset method as its default.
  Without `parameters`, any well-formed refund_channel.<label> parses (unset = None = as the data shows);
  simulate and sweep then refuse a changed channel for a method the data set does not have.

Data and calibration:
    prepare_dataset(con, dataset=None, *, refit=False) -> Prepared
        Load a data set once (orders + requests + refunds) and its calibration (stored, else fitted and
        stored); a Prepared can be cached by the page (key: dataset id) and passed to everything below.
        The replay's arrays come from the store beside the database (replay_store.py), built when
        missing; the orders frame (`Prepared.frame`) is then loaded only when asked for.
    store_dataset(con, dataset)   fit the calibration and build the stored arrays (after an import)
    prepare_frame(frame, dataset_id="frame", calibration=None) -> Prepared   the same from a frame in
        memory (orders.load_orders' columns; absent optional columns mean unknown); fitted if not given
    recalibrated(prepared, calibration) -> Prepared   the same orders with another calibration (one fitted
        on a sample: sampling.py), nothing replayed under the first one kept
    calibrate.calibrate(con, dataset_id, refit=False) -> Calibration;  calibrate.load_calibration(con, id)
    Calibration.summary() -> dict                      fitted figures with their sample sizes
    fit_vs_data(prepared) -> dict[str, pl.DataFrame]   fitted curve against the data's own distribution
    observed_premium_share(prepared) -> float | None   share of the orders with a known shipping method
        sent by Premium (None when the data set has no shipping methods: a share set then changes nothing)

Simulation (every figure is {"value", "low", "high", "orders_low", "orders_high"}):
    value: the estimate for these orders (the mean over replicates of these orders lived again).
    low-high: a 95% interval for a new period like this one (as many orders, the same behaviour): the
        orders resampled (Poisson bootstrap weights on each order, scaled to the data set's count), the
        fitted parameters drawn from their uncertainty (Calibration.drawn) and the replay's draws.
    orders_low-orders_high: a 95% interval for these very orders lived again under the policy
        (parameters uncertain, draws random, orders fixed).
    Both are normal prediction intervals from the replicates' SDs with Student's t (see _interval); a
    figure nothing random moves has all four equal to its value ("exact"). A difference's intervals come
    from the same paired replicates (same parameters, draws and weights), so a policy that changes
    nothing has a difference of 0 with zero width.
    simulate(source, dataset=None, policy=None, replicates=DEFAULT_REPLICATES, seed=0, *, baseline=None) -> dict
        source: a DuckDB connection (with `dataset` an id or name, default the newest), a Prepared, or
        an orders frame. Returns {"dataset", "policy", "observed", "replicates", "seed", "unavailable",
        "extrapolated", "assumptions", "baseline", "scenario", "delta"}; "observed" = {"premium_shipping_share":
        the data's share or None}; "extrapolated" = [parameter names set outside what the data observed]
        (extrapolated(prepared, policy)); "assumptions" = {parameter: what the figures assume there, in
        words} for those and for a never-answer share above 0;
        baseline/scenario/delta hold the figures of figures.WHATIF, by name (nested for
        refunds_by_channel.<channel>, refund_wait_by_payment_method.<method>.p50/p90, ...).
        "unavailable" = {figure: why} for the figures the data set cannot support (top-level figures.WHATIF
        names): each figure's first need (figures.py) the data set lacks, with the report's reason
        (capabilities.py): with no cancellation request at all, the request outcomes and the buyer's wait
        from the request; with no refund at all, every refund figure; with several currencies, the
        money figures. Each such figure (and every nested figure under it)
        has every key None in baseline, scenario and delta, never 0: show it as "n/a" with its reason. A
        figure can also be None without being listed (a percentile with no refund to measure under that
        policy).
        unavailable(prep) -> dict[str, str]   the same map without simulating
    sweep(source, param, values, dataset=None, policy=None, replicates=DEFAULT_REPLICATES, seed=0) -> dict
        {"param", "values", "policy", "observed", "unavailable", "baseline",
         "points": [{"value", "policy", "extrapolated", "scenario", "delta"}]}; unavailable figures as in simulate
    sweep_frame(result) -> pl.DataFrame     long form (value, outcome, series, value/low/high) to chart
    self_check(source, dataset=None, seed=0) -> dict
        The engine checked on itself: replayed under the data set's own policy, every fully observed
        order comes out as observed; the baseline as simulate replays it (remembered, the small view)
        equals a separately built baseline policy replayed independently over every order (no memo).
        {"passed", "orders", "fully_observed", "kept_as_observed", "mismatches": {field: n},
         "examples": {field: [order ids]}, "zero_delta", "observed_vs_replayed": {figure: {observed, replayed}}}
    replay_orders(source, policy=None, dataset=None, seed=0, replicate=0) -> pl.DataFrame
        one row per order: its outcome, cancellation, refund and wait under the policy (drill-down)
    figures.WHATIF: figure name -> its Figure (label, unit, format, direction), for every figure simulate returns.
    DEFAULT_REPLICATES = 10: the default of simulate, sweep, the command line's --replicates and the page
    (use it rather than a number of your own, so the page and the CLI agree); replicates must be 1..500
    (PolicyError otherwise); with 1 the intervals are None (no spread to measure).

Outcomes beyond the domain's (analytics/outcomes.py) that a policy can produce: requests
cancelled_without_consent (consent off), dispatch_cancelled (pending when the dispatch deadline
cancelled the order), not_made (the order was already cancelled for late dispatch). Orders the data
cannot replay (a request with no time, a seller answer with no time or an unknown label, a
cancellation with no request or no time) are kept as observed under every policy.

Common random numbers: draws, drawn parameters and bootstrap weights depend only on (seed, replicate,
order id), so baseline and scenario share them and the delta is the policy's effect. A Prepared
remembers the figures of each (policy, seed, replicate) it has replayed, and each replicate's drawn
calibration and bootstrap tally, so a page that changes one control replays only the scenario (and
moving it back replays nothing). BENCHMARKS.md has the timings.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import numpy as np
import polars as pl
from scipy import stats

from analytics import calibrate as cal
from analytics import capabilities, db, memory, replay_store
from analytics import figures as fig
from analytics.figures import figure_path
from analytics.orders import load_orders, normalise_orders
from analytics.outcomes import REFUND_CHANNELS
from analytics.policy import DATA, Parameter, Policy, PolicyError, parameters_for
from analytics.replay import (
    _rests,
    _tallies,
    awaiting_orders,
    chosen_columns,
    draw_base,
    expand,
    figures_both,
    latent,
    part,
    replay,
    replay_frame,
    request_free,
    settled,
    settled_within,
    summarise,
    summarise_both,
    tallies_chosen,
    tally_columns,
)
from analytics.replay_data import ReplayData, observed_figures, prepare, resample
from analytics.text import count

DEFAULT_REPLICATES = 10  # the one default: the pages, the command line and the API all use it
MAX_REPLICATES = 500
# Replays remembered per data set (about 10 KB a replicate's figures), so moving a control back is free;
# past the bytes the least recently used go, and one nobody asked for again in the idle time goes.
MEMO_BYTES = 32 * 2**20
MEMO_IDLE_SECONDS = memory.RESULTS_IDLE_SECONDS

@dataclass(frozen=True, eq=False)
class Prepared:
    """A data set ready to replay: its arrays and its calibration (cache it per data set id)."""

    dataset_id: str
    name: str
    # The orders frame, or how to load it when first asked: a data set opened from its stored arrays
    # (replay_store.py) needs the frame only to chart its calibration against the data.
    orders: pl.DataFrame | Callable[[], pl.DataFrame]
    data: ReplayData
    calibration: cal.Calibration
    missing: dict = field(default_factory=dict)           # capability -> why the data set lacks it
    memo: memory.Memo = field(default_factory=lambda: new_memo(), repr=False)   # (policy, seed, replicate) -> figures
    draws: memory.SizedCache = field(default_factory=lambda: new_draws(), repr=False)  # (seed, replicate) -> _shared
    kept: dict = field(default_factory=dict, repr=False)   # (seed, replicate) -> Resample kept in the store
    grids: dict = field(default_factory=dict, repr=False)  # seed -> open-ended GridReplay (open_grid)

    @property
    def frame(self) -> pl.DataFrame:
        with _FRAME_LOCK:
            if callable(self.orders):
                object.__setattr__(self, "orders", self.orders())
        return self.orders

    def loaded_frame(self) -> pl.DataFrame | None:
        """The frame if it is in memory, without loading it."""
        return None if callable(self.orders) else self.orders

    @functools.cached_property
    def awaiting(self) -> int:
        """Orders with a request made awaiting shipment (replay.awaiting_orders): what the request rule's
        controls can change, worked out once (every What-if run asks whether its grid fits)."""
        return len(awaiting_orders(self.data))


_FRAME_LOCK = threading.Lock()


def prepare_dataset(con, dataset: str | None = None, *, refit: bool = False) -> Prepared:
    """Load a data set (id or name; None = the newest) and its calibration, stored or fitted now. Its
    replay arrays come from the store beside the database when they are there (replay_store.py), else
    they are built from the orders and stored for the next process."""
    found = db.resolve_dataset(con, dataset)
    missing = capabilities.missing(con, found.id)
    stored = replay_store.load(con, found)
    if stored is None:
        frame = load_orders(con, found.id)
        calibration = cal.calibrate(con, found.id, refit=refit, frame=frame)
        data = prepare(frame)
        kept = replay_store.resamples(data, 0, DEFAULT_REPLICATES)
        stored_now = replay_store.save(con, found, data, kept) is not None
        prep = Prepared(found.id, found.name, frame, data, calibration, missing, kept=kept)
    else:
        stored_now = True
        prep = Prepared(found.id, found.name, _orders_loader(con, found.id), stored.data,
                        cal.calibrate(con, found.id, refit=refit), missing, kept=stored.resamples)
    if stored_now:
        _baseline_replays(con, found, prep)
    return prep


def _baseline_replays(con, found: db.Dataset, prep: Prepared) -> None:
    """The baseline's default replicates, which the What-if page shows first: read from the store, else
    replayed now and kept there (for this calibration)."""
    baseline = Policy()
    replays = replay_store.load_replays(con, found, prep.calibration)
    if replays is not None:
        prep.memo.update({(baseline, seed, k): figures for (seed, k), figures in replays.items()})
        return
    replays = {(0, k): replicate_figures(prep, baseline, 0, k) for k in range(DEFAULT_REPLICATES)}
    replay_store.save_replays(con, found, prep.calibration, replays)


def store_dataset(con, dataset: str) -> None:
    """Fit a newly stored data set's calibration and build its replay arrays now (an import or a
    generation calls it), so the first What-if page of any process opens them ready. A data set with
    no orders has nothing to prepare."""
    if db.resolve_dataset(con, dataset).orders:
        prepare_dataset(con, dataset)


def _orders_loader(con, dataset_id: str) -> Callable[[], pl.DataFrame]:
    # The database's place, read now: `con` may be closed (or a cursor gone) by the time it is needed.
    path, read_only = db.location(con)

    def load() -> pl.DataFrame:
        again = db.connect(path, read_only=read_only)
        try:
            return load_orders(again, dataset_id)
        finally:
            again.close()
    return load


def prepare_frame(frame: pl.DataFrame, dataset_id: str = "frame", calibration: cal.Calibration | None = None) -> Prepared:
    """A Prepared from an in-memory orders frame (load_orders' shape; missing optional columns are null)."""
    frame = normalise_orders(frame)
    has = frame.select(pl.col("has_request").any(), pl.col("has_refund").any()).row(0)
    return Prepared(dataset_id, dataset_id, frame, prepare(frame), calibration or cal.fit(frame),
                    capabilities.of_frame(*has))


def recalibrated(prep: Prepared, calibration: cal.Calibration) -> Prepared:
    """`prep` replayed with another calibration: the same orders and arrays (and bootstrap resamples,
    which the calibration does not touch); the memo and the draws, made with the first one, start empty."""
    return replace(prep, calibration=calibration, memo=new_memo(), draws=new_draws())


def policy_parameters(prep: Prepared) -> tuple[Parameter, ...]:
    """The policy's parameters for this data set: PARAMETERS with one refund_channel.<method> per payment
    method it has. A method outside the domain table defaults to the channel most of its refunds show,
    else 'original'."""
    data = prep.data
    with_channel = data.method_refunds
    present = [m for m, n in zip(data.methods, data.method_orders, strict=True) if n > 0]
    observed = {m: REFUND_CHANNELS[c] for m, c, k in zip(data.methods, data.method_channel, with_channel, strict=True)
                if k > 0}
    return parameters_for(present, observed)


def _check_methods(prep: Prepared, policy: Policy) -> None:
    """Refuse a refund channel changed for a payment method the data set does not have."""
    moved = {k: v for k, v in policy.changes().items() if k.startswith("refund_channel.")}
    if moved:
        Policy().with_values(moved, policy_parameters(prep))


def observed_premium_share(prep: Prepared) -> float | None:
    """The share of the data set's orders with a known shipping method that went by Premium; None when
    none has one. What premium_shipping_share=None (the default) keeps, order by order."""
    rate = prep.calibration.premium_share.rate
    return round(float(rate), 4) if math.isfinite(rate) else None


def _observed(prep: Prepared) -> dict:
    return {"premium_shipping_share": observed_premium_share(prep)}


def _source(source, dataset: str | None) -> Prepared:
    if isinstance(source, Prepared):
        return source
    if isinstance(source, pl.DataFrame | pl.LazyFrame):
        return prepare_frame(source.lazy().collect())
    return prepare_dataset(source, dataset)


def check_replicates(replicates: int, name: str = "replicates") -> int:
    """The number of replicates, or PolicyError naming it as `name` (the command line: '--replicates')."""
    if not 1 <= int(replicates) <= MAX_REPLICATES:
        raise PolicyError(f"{name} must be a whole number >= 1 and <= {MAX_REPLICATES}; got {replicates!r}")
    return int(replicates)


@functools.lru_cache(maxsize=256)
def _t(replicates: int) -> float:
    """Student's t at 0.975 with R - 1 degrees of freedom: the SDs below are estimated from R replicates.
    Remembered: a replay's intervals ask for the same few values thousands of times."""
    return float(stats.t.ppf(0.975, replicates - 1))


def _interval(orders: np.ndarray, fresh: np.ndarray, signed: bool = False) -> dict[str, float | None]:
    """A figure from its replicates: `orders`, these orders lived again (fitted parameters drawn, draws
    random); `fresh`, the same replicates with the orders resampled (Poisson bootstrap weights).

    value: the mean of `orders`, the estimate for these orders. Both intervals are 95% prediction
    intervals, normal with the SDs estimated from the replicates (t with R - 1 degrees of freedom; the
    figures are sums over many orders, so near normal, and an interval from SDs needs far fewer
    replicates than one from percentiles, which at 10 replicates are nearly the min and max):
    - orders_low-orders_high, these same orders lived again: value +- t * sqrt(1 + 1/R) * SD(orders);
      sqrt(1 + 1/R) adds the error of the value itself, a mean of R replicates.
    - low-high, a new period with as many orders: it differs from the value by its own sampling of
      orders and by the value's (both about the bootstrap's variance, SD(fresh - orders)^2 each) and by
      the parameters' and draws' spread: value +- t * sqrt(2 * SD(fresh - orders)^2 + (1 + 1/R) * SD(orders)^2).
    A figure no replicate moves has all four equal to the value (exact). Counts, amounts and days never
    go below 0 (`signed`: a difference may)."""
    both = np.isfinite(orders) & np.isfinite(fresh)
    o = orders[np.isfinite(orders)]
    if len(o) == 0:
        return _NOT_AVAILABLE.copy()
    value = float(o.mean())
    boot = fresh[both] - orders[both]
    if np.ptp(o) == 0 and (len(boot) == 0 or not boot.any()):
        value = float(o[0])
        return dict.fromkeys(("value", "low", "high", "orders_low", "orders_high"), _num(value))
    r = len(o)

    def var(x: np.ndarray) -> float:
        return float(x.var(ddof=1)) if len(x) > 1 and np.ptp(x) > 0 else 0.0

    def bounds(half: float | None) -> tuple[float | None, float | None]:
        if half is None:
            return None, None
        lo, hi = value - half, value + half
        return _num(lo if signed else max(lo, 0.0)), _num(hi)

    spread = (1.0 + 1.0 / r) * var(o)
    orders_half = _t(r) * math.sqrt(spread) if r > 1 else None
    new_half = _t(len(boot)) * math.sqrt(2.0 * var(boot) + spread) if len(boot) > 1 and r > 1 else None
    low, high = bounds(new_half)
    orders_low, orders_high = bounds(orders_half)
    return {"value": _num(value), "low": low, "high": high, "orders_low": orders_low, "orders_high": orders_high}


def _intervals(orders: Mapping[str, np.ndarray], fresh: Mapping[str, np.ndarray], names: list[str],
               signed: bool = False) -> dict[str, dict[str, float | None]]:
    """_interval of each named figure, the same numbers, with the figures whose replicates are all finite
    (nearly every one) computed together, a row each of one array: a sweep asks for thousands."""
    out: dict[str, dict[str, float | None]] = {}
    rows = [n for n in names if len(orders[n]) > 1 and len(fresh[n]) == len(orders[n])]
    if rows:
        o = np.stack([np.asarray(orders[n], dtype=np.float64) for n in rows])
        boot = np.stack([np.asarray(fresh[n], dtype=np.float64) for n in rows]) - o
        finite = np.isfinite(o).all(axis=1) & np.isfinite(boot).all(axis=1)
        o, boot, rows = o[finite], boot[finite], [n for n, ok in zip(rows, finite, strict=True) if ok]
    if rows:
        r = o.shape[1]
        value = o.mean(axis=1)
        o_moves, b_moves = np.ptp(o, axis=1) > 0, np.ptp(boot, axis=1) > 0
        exact = ~o_moves & ~boot.any(axis=1)
        spread = (1.0 + 1.0 / r) * np.where(o_moves, o.var(axis=1, ddof=1), 0.0)
        orders_half = _t(r) * np.sqrt(spread)
        new_half = _t(r) * np.sqrt(2.0 * np.where(b_moves, boot.var(axis=1, ddof=1), 0.0) + spread)
        for n, is_exact, first, v, new, old in zip(rows, exact.tolist(), o[:, 0].tolist(), value.tolist(),
                                                   new_half.tolist(), orders_half.tolist(), strict=True):
            if is_exact:
                out[n] = dict.fromkeys(("value", "low", "high", "orders_low", "orders_high"), _num(first))
                continue
            lo, hi, olo, ohi = v - new, v + new, v - old, v + old
            out[n] = {"value": _num(v), "low": _num(lo if signed else max(lo, 0.0)), "high": _num(hi),
                      "orders_low": _num(olo if signed else max(olo, 0.0)), "orders_high": _num(ohi)}
    for n in names:
        if n not in out:
            out[n] = _interval(orders[n], fresh[n], signed)
    return out


def _num(x: float) -> float | int | None:
    if not math.isfinite(x):
        return None
    x = round(float(x), 6) + 0.0   # + 0.0: a -0.0 (a tiny negative rounded) becomes 0
    return int(x) if x.is_integer() and abs(x) < 2**53 else x


def _nest(flat: Mapping[str, dict]) -> dict:
    """{'a.b.c': v} -> {'a': {'b': {'c': v}}}, split by figure_path."""
    out: dict = {}
    for key, value in flat.items():
        node = out
        *parents, leaf = figure_path(key)
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return out


Summaries = tuple[dict[str, np.ndarray], dict[str, np.ndarray]]   # (these orders, a resampled period)
# Bytes of replicates' shared draws kept per data set (about 4 MB a replicate at 1M orders): the pages'
# replicates are drawn once and every later policy change replays them; a long run's replicates beyond
# this are drawn again at each ask.
DRAW_BYTES = 512 * 2**20


def new_memo() -> memory.Memo:
    """An empty memo of replays (MEMO_BYTES, MEMO_IDLE_SECONDS)."""
    return memory.Memo(MEMO_BYTES, MEMO_IDLE_SECONDS, sizer=_replay_bytes)


def _replay_bytes(entry: tuple) -> int:
    """What one remembered replay adds: its key's tuple, and its figures' two dicts and their numbers.
    The policy and the figures' names are shared by every replicate (and walking them with
    memory.size_of would cost more than the replay of a small data set)."""
    key, figures = entry
    return sys.getsizeof(key) + sys.getsizeof(figures) + sum(
        sys.getsizeof(part) + sum(sys.getsizeof(x) for x in part.values()) for part in figures)


def new_draws() -> memory.SizedCache:
    """An empty store of replicates' shared draws (_shared), bounded by DRAW_BYTES. Replicates are asked
    for in turn, 0, 1, 2...: a full store keeps the ones it holds rather than dropping each just before
    it is asked for again."""
    return memory.SizedCache(DRAW_BYTES, float("inf"), full="refuse")


def _shared(prep: Prepared, seed: int, k: int):
    """Replicate k's part every policy shares: its drawn calibration, the draws' base, the bootstrap
    weights' tally of the orders outside the small view, and its policy-free draws (replay.latent). Kept
    per (seed, replicate) on the Prepared."""
    def make():
        calibration = prep.calibration.drawn(seed, k)
        base = draw_base(prep.data, calibration)
        boot = prep.kept.get((seed, k)) or resample(prep.data, seed, k)
        return calibration, base, boot, latent(prep.data, calibration, seed, k, base)

    return prep.draws.get((seed, k), make)


def replicate_figures(prep: Prepared, policy: Policy, seed: int, k: int, *, memo: bool = True,
                      shared=None) -> tuple[dict[str, float], dict[str, float]]:
    """One replicate of one policy: (figures of these orders, figures of the resampled period). The
    replicate's fitted parameters, draws and bootstrap weights are functions of (seed, k) alone, so
    every policy replayed with them is paired. `memo=False` replays even if this Prepared has done it.
    `shared`: the replicate's _shared, when the caller holds it."""
    key = (policy, seed, k)
    found = prep.memo.get(key) if memo else None
    if found is None:
        calibration, _, boot, lat = shared or _shared(prep, seed, k)
        rep = replay(prep.data, calibration, policy, lat)
        found = summarise_both(prep.data, rep, boot)
        if memo:
            remember(prep, key, found)
    return found


def remember(prep: Prepared, key: tuple, found: tuple) -> None:
    """Keep one replicate's figures of a policy (key: (policy, seed, replicate)) for the next ask."""
    prep.memo[key] = found


class GridReplay:
    """Many policies replayed on one Prepared, replicate by replicate, each policy's figures those
    replicate_figures gives (remembered on the Prepared alike). Policies that differ in the request
    rule's parameters alone (replay.REQUEST_RULE) share the work their request-free twin
    (replay.request_free) does: the twin is replayed over every order once per replicate; each of the
    others over the orders with a request made awaiting shipment only (a replay.Part), and of those only
    the ones it does not settle as the twin does (replay.settled: answered, or shipped, within both
    windows), whose tally is the twin's. Tallies of disjoint orders add up exactly (counts; amounts to
    the last bits of a float sum), so the figures are replicate_figures'.

    A grid knows its policies at the start (the frontier's). An open-ended one (`open_ended=True`, one
    per Prepared and seed: open_grid) takes any policy as it comes, as the What-if page's controls move:
    every policy of the request rule shares its twin's replay, and a window the twin was not grouped
    for is tallied from the part's columns kept with the twin's group (GridReplay._window). It keeps no
    replicate's draws itself (the Prepared's bounded store does), and its twins' groups, windows and
    cuts of the part within bytes (OPEN_GRID_BYTES)."""

    def __init__(self, prep: Prepared, policies: Iterable[Policy], seed: int, *, open_ended: bool = False):
        self.prep, self.seed, self.open_ended = prep, seed, open_ended
        twins = [(p, request_free(p)) for p in policies]
        count: dict[Policy, int] = {}
        for _, twin in twins:
            count[twin] = count.get(twin, 0) + 1
        self.twin = {p: twin for p, twin in twins if count[twin] > 1 and p != twin}
        self.twins = set(self.twin.values())
        self.within: dict[Policy, set] = {}   # twin -> the windows its policies settle within
        for p, twin in self.twin.items():
            if settled_within(p) is not None:
                self.within.setdefault(twin, set()).add(settled_within(p))
        self.part = self.inside = None
        if self.twin or open_ended:
            awaiting = awaiting_orders(prep.data)
            self.part = part(prep.data, awaiting)
            self.inside = np.zeros(prep.data.n, dtype=bool)
            self.inside[awaiting] = True
        self.draws: dict[int, list] = {}   # replicate -> [_shared's, the part's draws and weights]
        # (twin, replicate) -> the twin's tallies; open-ended, with the part's columns (tally_columns), by
        # bytes, and each replicate's cut of the part.
        self.others: dict[tuple[Policy, int], dict] | memory.SizedCache = (
            memory.SizedCache(OPEN_GRID_BYTES, MEMO_IDLE_SECONDS) if open_ended else {})
        self.cuts = memory.SizedCache(OPEN_GRID_BYTES // 4, MEMO_IDLE_SECONDS, full="refuse",
                                      sizer=lambda cut: memory.size_of(cut[1:])) if open_ended else None
        # Open-ended: (twin, replicate, window) -> the twin's tallies of the part's orders settled within it,
        # kept apart from the twin's group, which is never changed once made (a cache measures what it holds,
        # and another session may be reading it).
        self.windows = memory.SizedCache(OPEN_GRID_BYTES // 8, MEMO_IDLE_SECONDS) if open_ended else None
        self.warmed: set[int] = set()   # replicates whose baseline tallies warm_up has made (or is making)

    def total_bytes(self) -> int:
        """Bytes an open-ended grid keeps (its twins' tallies and columns, their windows, its cuts of the
        part); a closed one lives as long as its grid's replay and is not counted."""
        if not self.open_ended:
            return 0
        return self.others.total_bytes() + self.cuts.total_bytes() + self.windows.total_bytes()

    def twin_of(self, policy: Policy) -> Policy | None:
        """The request-free twin whose replay `policy` shares (None: replayed on its own)."""
        if not self.open_ended:
            return self.twin.get(policy)
        twin = request_free(policy)
        return None if twin == policy else twin

    def _draws(self, k: int) -> tuple:
        """(_shared's, the part's cut: the part, its draws and its weights) of replicate k; a closed grid
        keeps them for its next chunk of policies (even when the Prepared's store is full)."""
        if not self.open_ended:
            if k not in self.draws:
                self.draws[k] = [_shared(self.prep, self.seed, k), None]
            return self.draws[k]
        return [_shared(self.prep, self.seed, k), None]

    def _cut(self, k: int, lat) -> tuple:
        """Replicate k's cut of the part: the part, its draws and its bootstrap weights."""
        def make() -> tuple:
            return self.part, self.part.latent(lat), self.part.resample(self.seed, k)
        return self.cuts.get(k, make) if self.open_ended else make()

    def replicate(self, policies: list[Policy], k: int) -> list[tuple[dict[str, float], dict[str, float]]]:
        """Replicate k of each policy: (figures of these orders, figures of the resampled period)."""
        prep, seed = self.prep, self.seed
        out: list = [prep.memo.get((p, seed, k)) for p in policies]
        if all(found is not None for found in out):
            return out
        draws = self._draws(k)
        (calibration, _, boot, lat), cut = draws
        unsettled: dict = {}   # window -> (the part of the orders not settled within it, its draws, weights)
        for i, p in enumerate(policies):
            if out[i] is not None:
                continue
            twin = self.twin_of(p)
            if twin is None and (self.open_ended or p not in self.twins):
                out[i] = replicate_figures(prep, p, seed, k, shared=draws[0])
                continue
            if cut is None:
                cut = draws[1] = self._cut(k, lat)
            if twin is None:   # a twin that is a policy of the grid too
                group = self._group(p, k, calibration, lat, boot, cut)
                tallies = [group["rest"], group["awaiting"]]
            else:
                group = self._group(twin, k, calibration, lat, boot, cut)
                within = settled_within(p)
                tallies = [group["rest"]]
                mine = cut
                if within is not None:
                    if within not in unsettled:
                        data = self.part.data
                        settles = settled(data, cut[1], within)
                        still = part(data, data.r_idx[~settles])
                        unsettled[within] = still, still.latent(cut[1]), still.resample(seed, k), settles
                    mine = unsettled[within]
                    tallies.append(group[within] if within in group
                                   else self._window(group, twin, k, cut, within, mine[3]))
                if mine[0].data.n:   # (every order settled: nothing of its own to replay)
                    tallies.append(_tallies(mine[0].data, replay(mine[0].data, calibration, p, mine[1]), mine[2]))
            out[i] = figures_both(prep.data, [sum(t[1:], t[0]) for t in zip(*tallies, strict=True)], boot)
            remember(prep, (p, seed, k), out[i])
        return out

    def _group(self, twin: Policy, k: int, calibration, lat, boot, cut) -> dict:
        """The twin's tallies, from one replay of every order: "rest", of the orders outside the part (with
        those it leaves as observed); "awaiting", of the part's orders; and for each window its
        policies settle within, of the part's orders settled within it. Open-ended, "columns" too: the
        part's orders' columns, from which a window's tallies are made when first asked (_window: from
        "awaiting" less the orders not settled, when most are)."""
        def make() -> dict:
            data = self.prep.data
            rep = replay(data, calibration, twin, lat)
            inside = self.inside[rep.view.idx]
            at = np.flatnonzero(inside)   # where the part's orders (in their order) sit in the view
            windows = sorted(self.within.get(twin, ()))
            settles = [at[cut[0].data.r_idx[settled(cut[0].data, cut[1], w)]] for w in windows]
            columns, n_methods = tally_columns(data, rep, boot), len(data.methods)
            each = [tallies_chosen(n_methods, columns, keep) for keep in settles]
            kept = chosen_columns(columns, at)
            # Every replayed order's tally less the part's (fewer orders to pick out than the others).
            every, awaiting = tallies_chosen(n_methods, columns), tallies_chosen(n_methods, kept)
            group = {"rest": [a + b + -c for a, b, c in zip(every, _rests(data, rep, boot), awaiting, strict=True)],
                     "awaiting": awaiting, **dict(zip(windows, each, strict=True))}
            if self.open_ended:
                group["columns"] = kept
            return group

        if self.open_ended:
            return self.others.get((twin, k), make)
        found = self.others.get((twin, k))
        if found is None:
            found = self.others[(twin, k)] = make()
        return found

    def _window(self, group: dict, twin: Policy, k: int, cut, within, settles: np.ndarray) -> list:
        """The twin's tallies of the part's orders settled within `within` (`settles`, per request of the
        part), for a window the group was not made with (open-ended), from the part's columns; kept for
        the next ask."""
        data = cut[0].data

        def make() -> list:
            n_methods = len(data.methods)
            inside = np.zeros(data.n, dtype=bool)
            inside[data.r_idx[settles]] = True
            if 2 * int(settles.sum()) <= data.n:
                return tallies_chosen(n_methods, group["columns"], np.flatnonzero(inside))
            # Most of the part settled: every order of it less the few that did not (tallies add up,
            # and a window of a day or more settles most requests), for a fraction of the work.
            others = tallies_chosen(n_methods, group["columns"], np.flatnonzero(~inside))
            return [a + -b for a, b in zip(group["awaiting"], others, strict=True)]
        return self.windows.get((twin, k, within), make)


# Bytes of an open-ended grid's twins' tallies and part's columns (about 6 MB a replicate at 1M orders:
# the orders with a request made awaiting shipment); a quarter of it more for the replicates' cuts of the part.
OPEN_GRID_BYTES = 256 * 2**20
# Bytes of the part's columns an order takes in an open-ended grid (tally_columns' 13 and 2 weightings).
_COLUMN_BYTES = 72


def shares_twins(prep: Prepared, policies: Iterable[Policy], replicates: int) -> bool:
    """Whether the page's replicates of these policies go through open_grid: one of them is the request
    rule's (it has a request-free twin) and the twin's columns of every replicate fit the grid's bytes
    (else each would be made again at every change, at more than a replay's cost)."""
    return any(request_free(p) != p for p in policies) and _grid_fits(prep, replicates)


def _grid_fits(prep: Prepared, replicates: int) -> bool:
    return prep.awaiting * _COLUMN_BYTES * replicates <= OPEN_GRID_BYTES


# Seconds the warm-up waits before it starts: the What-if page's first open is still being drawn (about
# 1.6 s in Chromium at 1M orders), and the warm-up beside it made that 0.6 to 1 s slower on 2 cores.
WARM_UP_DELAY = 2.0


def warm_up(prep: Prepared, seed: int, replicates: int, delay: float = WARM_UP_DELAY) -> threading.Thread | None:
    """Start making, on a thread of the lowest priority and after `delay` seconds, what the first change of
    a request-rule control (the response window, the timeout action, consent) needs: each replicate's draws
    and the baseline's tallies in the open-ended grid, while the page's reader looks at the baseline. A
    change asked for meanwhile makes them itself (what one has made, the other takes). Once per Prepared,
    seed and replicates; None when it is made or being made, or would not be kept (shares_twins)."""
    found = prep.grids.get(seed)
    if (found is not None and replicates in found.warmed) or not _grid_fits(prep, replicates):
        return None
    grid = open_grid(prep, seed)
    with _GRIDS_LOCK:
        if replicates in grid.warmed:
            return None
        grid.warmed.add(replicates)

    def run() -> None:
        time.sleep(delay)
        with contextlib.suppress(OSError):   # (a system that does not let a thread lower its priority)
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        try:
            for k in range(replicates):
                draws = grid._draws(k)
                calibration, _, boot, lat = draws[0]
                grid._group(Policy(), k, calibration, lat, boot, grid._cut(k, lat))
        except Exception:  # noqa: BLE001 - only a head start: the change itself makes (and reports) what this could not
            return

    thread = threading.Thread(target=run, name="what-if warm-up", daemon=True)
    thread.start()
    return thread


def open_grid(prep: Prepared, seed: int) -> GridReplay:
    """The Prepared's open-ended GridReplay for `seed`, made on first use."""
    with _GRIDS_LOCK:
        found = prep.grids.get(seed)
        if found is None:
            found = prep.grids[seed] = GridReplay(prep, (), seed, open_ended=True)
        return found


_GRIDS_LOCK = threading.Lock()


def _summaries(prep: Prepared, policies: list[Policy], replicates: int, seed: int, *,
               share_twins: bool = False) -> list[Summaries]:
    """Per policy, each figure over the replicates, for these orders and for a resampled period. Every
    policy of a replicate shares its draws, and a (policy, seed, replicate) already replayed on this
    Prepared is not replayed again. `share_twins` (the What-if page, where policy after policy follows on
    the same data set): a policy of the request rule shares its request-free twin's replay (open_grid), so
    moving the response window replays only the requests it can settle otherwise; the twin's tallies cost
    a third more than a replay the first time, so a one-off call replays each policy alone."""
    if share_twins and shares_twins(prep, policies, replicates):
        grid = open_grid(prep, seed)
        per_k = _each(lambda k: grid.replicate(policies, k), range(replicates), prep.data.n)
        return _by_policy(policies, per_k)

    def one(k: int) -> list:
        # Replicate by replicate: its shared part made once for every policy, even when the store of
        # shared parts is full (new_draws).
        missing = any((p, seed, k) not in prep.memo for p in policies)
        shared = _shared(prep, seed, k) if missing else None
        return [replicate_figures(prep, p, seed, k, shared=shared) for p in policies]

    return _by_policy(policies, _each(one, range(replicates), prep.data.n))


def _by_policy(policies: list[Policy], per_k: list[list]) -> list[Summaries]:
    """Replicates' figures (per replicate, per policy) as each policy's Summaries."""
    rows = [[found[i] for found in per_k] for i in range(len(policies))]
    names = list(rows[0][0][0])
    return [tuple({n: np.array([r[part][n] for r in per]) for n in names} for part in (0, 1)) for per in rows]


# Orders from which a replay's replicates run on threads at once (their arrays' work lets go of
# Python's lock); below, the threads cost more than they give.
THREADED_FROM = 200_000
_POOL: tuple[int, ThreadPoolExecutor] | None = None


def _each(fn: Callable, ks: Iterable[int], orders: int) -> list:
    """[fn(k) for k in ks], on the process's threads (one per core) when the data set is large."""
    global _POOL
    ks = list(ks)
    workers = min(len(ks), os.cpu_count() or 1)
    if orders < THREADED_FROM or workers < 2:
        return [fn(k) for k in ks]
    if _POOL is None or _POOL[0] != os.getpid():   # a forked child makes its own (the parent's threads are not in it)
        _POOL = (os.getpid(), ThreadPoolExecutor(max_workers=os.cpu_count(), thread_name_prefix="replicates"))
    return list(_POOL[1].map(fn, ks))


def _difference(scen: Summaries, base: Summaries) -> Summaries:
    return tuple({n: s[n] - b[n] for n in b} for s, b in zip(scen, base, strict=True))


_NOT_AVAILABLE = {"value": None, "low": None, "high": None, "orders_low": None, "orders_high": None}


def unavailable(prep: Prepared) -> dict[str, str]:
    """Figure name (top level of figures.WHATIF) -> why this data set cannot support it: the first of the
    figure's needs the data set lacks, with the same reason the report gives (a replay would count 0
    for a thing never recorded). Empty for a data set that records what every figure needs."""
    out = {}
    for name, figure in fig.WHATIF.items():
        why = next((prep.missing[n] for n in figure.needs if n in prep.missing), None)
        if why:
            out[name] = why
    return out


def extrapolated(prep: Prepared, policy: Policy) -> list[str]:
    """The policy's parameters set outside what the data observed, by name: a response window longer
    than the longest wait for an answer the data shows (its answers and timeouts); with auto-cancel on
    late dispatch, a deadline beyond the longest dispatch it shows (working days from the payment day);
    a refund channel that the data never used for that payment method. Figures under such a policy rest
    on the fitted curves beyond the data (see `assumptions`)."""
    cal = prep.calibration
    out: list[str] = []
    awaiting = dict(cal.counts).get("awaiting_shipment_requests", 0)
    longest = cal.longest_answer_hours
    if policy.seller_consent_required and awaiting and (
            not math.isfinite(longest) or policy.seller_response_hours > longest + 1e-9):
        out.append("seller_response_hours")
    if (policy.late_dispatch_action == "auto_cancel"
            and policy.dispatch_deadline_days > max(cal.longest_dispatch_workdays, 0)):
        out.append("dispatch_deadline_days")
    used = dict(cal.channels_by_method)
    params = policy_parameters(prep)
    for p in params:
        if p.name.startswith("refund_channel."):
            method = p.name.split(".", 1)[1]
            channel = policy.get(p.name, params)
            if channel != p.default and channel not in used.get(method, ()):
                out.append(p.name)
    return out


def assumptions(prep: Prepared, policy: Policy) -> dict[str, str]:
    """For each parameter in `extrapolated`, and for a never-answer share above 0: what the figures
    assume there, in words."""
    cal = prep.calibration
    out: dict[str, str] = {}
    for name in extrapolated(prep, policy):
        if name == "seller_response_hours":
            longest = cal.longest_answer_hours
            seen = (f"no seller answering (or timing out) later than {count(round(longest), 'hour')} after a request"
                    if math.isfinite(longest) else "no seller's answer at all")
            out[name] = (f"The data shows {seen}. Under a {policy.seller_response_hours:g}-hour window, when the "
                         "silent sellers would have answered comes from the fitted response curve's tail, and "
                         f"{policy.never_answer_share:.0%} of sellers are assumed never to answer "
                         "(the never-answer lever).")
        elif name == "dispatch_deadline_days":
            out[name] = (f"The data shows no order shipped later than {max(cal.longest_dispatch_workdays, 0)} "
                         f"working days after its payment day; which orders would miss a "
                         f"{policy.dispatch_deadline_days}-day deadline comes from the fitted dispatch tail.")
        elif name.startswith("refund_channel."):
            method = name.split(".", 1)[1]
            params = policy_parameters(prep)
            channel = policy.get(name, params)
            # The channel in the words its control offers ('platform wallet'), not the link's code.
            spec = next((p for p in params if p.name == name), None)
            said = spec.choice_text(channel) if spec is not None else str(channel)
            out[name] = (f"The data has no {method.replace('_', ' ')} refund through the {said}; those refunds take "
                         f"as long as the data's other {said} refunds (the usual time for {said} refunds when it "
                         "has none).")
    if policy.never_answer_share > 0:
        out["never_answer_share"] = (f"Assumed: {policy.never_answer_share:.0%} of sellers never answer, however "
                                     "long the window (the data cannot tell them from late answerers).")
    return out


def _is_percentile(name: str) -> bool:
    return name.endswith(("_p50_business_days", "_p90_business_days", ".p50", ".p90"))


def _figures(values: Summaries, missing: Mapping[str, str] = {}, signed: bool = False,  # noqa: B006 (read only)
             moved: Summaries | None = None) -> dict:
    """The figures with their intervals. A percentile of whole business days moves in steps of half a
    day, so replicates that all land on the same step do not make it exact: a new period's is at least
    +- 0.5 business day wide, and so is these orders' when the policy moves it (`moved`: the paired
    difference from the baseline; the refunds it moved take drawn times). A difference the policy does
    not move stays exactly 0."""
    orders, fresh = values
    out = {}
    figs = _intervals(orders, fresh, [n for n in orders if n.split(".")[0] not in missing], signed)
    for n in orders:
        if n.split(".")[0] in missing:
            out[n] = _NOT_AVAILABLE.copy()
            continue
        fig = figs[n]
        if _is_percentile(n) and fig["value"] is not None:
            change = moved[0][n] if moved is not None else np.full(1, np.nan)
            policy_moves = bool(np.isfinite(change).any() and np.nanmax(np.abs(change)) > 0)
            pairs = [("low", "high")] if not signed or policy_moves else []
            if policy_moves:
                pairs.append(("orders_low", "orders_high"))
            for lo, hi in pairs:
                if fig[lo] is not None:
                    floor = fig["value"] - 0.5 if signed else max(0.0, fig["value"] - 0.5)
                    fig[lo], fig[hi] = _num(min(fig[lo], floor)), _num(max(fig[hi], fig["value"] + 0.5))
        out[n] = fig
    return _nest(out)


def simulate(source, dataset: str | None = None, policy: Policy | None = None, replicates: int = DEFAULT_REPLICATES,
             seed: int = 0, *, baseline: Policy | None = None, summaries=None, fitted_on: dict | None = None,
             share_twins: bool = False) -> dict:
    """Baseline, scenario and their difference, each figure with its 95% interval over replicates.
    `summaries(prep, policies, replicates, seed)`: where the replicates' figures come from (default:
    replayed here, sharing twins as _summaries says with `share_twins`; spark.py replays them on a
    cluster). `fitted_on`: when the calibration was fitted on a sample, sampling.fit_reported's blocks,
    shown as the result's "calibration" (absent: every order)."""
    prep = _source(source, dataset)
    policy = policy or Policy()
    baseline = baseline or Policy()
    replicates = check_replicates(replicates)
    _check_methods(prep, policy)
    _check_methods(prep, baseline)
    base, scen = (summaries or functools.partial(_summaries, share_twins=share_twins))(
        prep, [baseline, policy], replicates, seed)
    missing = unavailable(prep)
    return {
        "dataset": {"id": prep.dataset_id, "name": prep.name},
        **_fitted_on(fitted_on),
        "policy": policy.changes(),
        "observed": _observed(prep),
        "replicates": replicates,
        "seed": seed,
        "unavailable": missing,
        "extrapolated": extrapolated(prep, policy),
        "assumptions": assumptions(prep, policy),
        "baseline": _figures(base, missing),
        "scenario": _figures(scen, missing, moved=(change := _difference(scen, base))),
        "delta": _figures(change, missing, signed=True, moved=change),
    }


def sweep(source, param: str, values: Iterable[object], dataset: str | None = None, policy: Policy | None = None,
          replicates: int = DEFAULT_REPLICATES, seed: int = 0, *, summaries=None, fitted_on: dict | None = None,
          share_twins: bool = False) -> dict:
    """One parameter over a range (the rest of `policy` held): each point's scenario and delta.
    `summaries`, `fitted_on` and `share_twins`: as for simulate."""
    prep = _source(source, dataset)
    params = policy_parameters(prep)
    spec = next((p for p in params if p.name == param), None)
    if spec is None:
        Policy().with_values({param: None}, params)   # raises, naming what the data set has
        raise PolicyError(f"unknown policy parameter {param!r}")
    parsed = [spec.parse(v) for v in values]
    if not parsed:
        raise PolicyError(f"--values needs at least one value for {param} ({spec.range_text})")
    policy = policy or Policy()
    _check_methods(prep, policy)
    replicates = check_replicates(replicates)
    policies = [policy.with_values({param: v}, params) for v in parsed]
    base, *scens = (summaries or functools.partial(_summaries, share_twins=share_twins))(
        prep, [Policy(), *policies], replicates, seed)
    missing = unavailable(prep)
    points = [
        {"value": v, "policy": p.changes(), "extrapolated": extrapolated(prep, p),
         "scenario": _figures(s, missing, moved=_difference(s, base)),
         "delta": _figures(_difference(s, base), missing, signed=True, moved=_difference(s, base))}
        for v, p, s in zip(parsed, policies, scens, strict=True)
    ]
    return {
        "dataset": {"id": prep.dataset_id, "name": prep.name},
        **_fitted_on(fitted_on),
        "param": param,
        "values": parsed,
        "policy": policy.changes(),
        "observed": _observed(prep),
        "replicates": replicates,
        "seed": seed,
        "unavailable": missing,
        "baseline": _figures(base, missing),
        "points": points,
    }


def _fitted_on(extra: dict | None) -> dict:
    """The result's "calibration" block: the sample the calibration was fitted on and what the sampling
    does to the fit (sampling.fit_reported's blocks); nothing when it was fitted on every order."""
    return {"calibration": extra} if extra else {}


def _flatten(nested: Mapping, prefix: str = "") -> dict[str, dict]:
    out: dict[str, dict] = {}
    for k, v in nested.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping) and "value" not in v:
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def sweep_frame(result: dict) -> pl.DataFrame:
    """A sweep in long form for a chart: one row per (value, outcome, series) with value/low/high;
    series is 'scenario' or 'delta' (the baseline is the same at every point)."""
    rows = []
    for point in result["points"]:
        for series in ("scenario", "delta"):
            for outcome, figure in _flatten(point[series]).items():
                rows.append({"param": result["param"],
                             "param_value": DATA if point["value"] is None else str(point["value"]),
                             "param_number": float(point["value"]) if isinstance(point["value"], int | float) else None,
                             "outcome": outcome, "series": series,
                             "value": figure["value"], "low": figure["low"], "high": figure["high"]})
    return pl.DataFrame(rows, schema={"param": pl.Utf8, "param_value": pl.Utf8, "param_number": pl.Float64,
                                      "outcome": pl.Utf8, "series": pl.Utf8, "value": pl.Float64,
                                      "low": pl.Float64, "high": pl.Float64})


def fit_vs_data(prep: Prepared) -> dict[str, pl.DataFrame]:
    """Each fitted distribution against the data's own (see calibrate.fit_vs_data)."""
    return cal.fit_vs_data(prep.frame, prep.calibration)


def self_check(source, dataset: str | None = None, seed: int = 0, examples: int = 5) -> dict:
    """Replay under the data set's own policy and compare with what was observed.

    Fully observed orders (everything the replay re-derives is in the data, and a refund's completion
    is known) must come out exactly as observed: cancelled or not, when, the request's outcome, the
    return way, the refund's channel and completion day. Also: a scenario equal to the baseline gives a
    difference of exactly 0 for every figure. Returns {"passed", "fully_observed", "kept_as_observed",
    "mismatches": {field: count}, "examples": {field: [order ids]}, "zero_delta", "observed_vs_replayed"}."""
    prep = _source(source, dataset)
    data = prep.data
    lat = latent(data, prep.calibration, seed, 0)
    rep = replay(data, prep.calibration, Policy(), lat)
    got = expand(data, rep)
    full = ~data.fixed & ~(data.has_refund & np.isnat(data.refund_done))
    refunded_both = full & got["refunded"] & data.has_refund
    checks = {
        "cancelled": full & (got["cancelled"] != data.cancelled_obs),
        "cancelled_at": full & got["cancelled"] & data.cancelled_obs & (got["cancel_at"] != data.cancel_at_obs),
        "outcome": full & (got["outcome"] != data.outcome_obs),
        "return_path": full & (got["return_path"] != data.return_path_obs),
        "refunded": full & (got["refunded"] != data.has_refund),
        "refund_channel": refunded_both & (got["refund_channel"] != data.refund_channel),
        "refund_completed_on": refunded_both & (got["refund_done"] != data.refund_done),
    }
    mismatches = {k: int(v.sum()) for k, v in checks.items()}
    ids = data.order_id
    found = {k: ids.gather(np.flatnonzero(v)[:examples]).to_list() for k, v in checks.items() if v.any()}
    nonzero = _zero_delta(prep, seed)
    observed = observed_figures(data)
    replayed = summarise(data, rep)
    return {
        "passed": not any(mismatches.values()) and not nonzero,
        "orders": data.n,
        "fully_observed": int(full.sum()),
        "kept_as_observed": int(data.fixed.sum()),
        "mismatches": mismatches,
        "examples": found,
        "zero_delta": {"passed": not nonzero, "nonzero": nonzero},
        "observed_vs_replayed": {k: {"observed": _num(observed[k]), "replayed": _num(replayed[k])}
                                 for k in SELF_CHECK_FIGURES},
    }


def _zero_delta(prep: Prepared, seed: int, replicates: int = 2) -> list[str]:
    """Figures whose difference between the baseline and the same policy replayed independently is not
    0: the baseline as simulate replays it (memoised, the small view), against a fresh replay of a
    separately built baseline policy over every replayable order with its own draws and weights (no
    memo, no shared state), for these orders and for the resampled period."""
    found: set[str] = set()
    for k in range(replicates):
        base = replicate_figures(prep, Policy(), seed, k)
        again = Policy.from_settings([])
        calibration = prep.calibration.drawn(seed, k)
        lat = latent(prep.data, calibration, seed, k, draw_base(prep.data, calibration))
        rep = replay(prep.data, calibration, again, lat, all_orders=True)
        fresh = (summarise(prep.data, rep), summarise(prep.data, rep, resample(prep.data, seed, k)))
        for mine, theirs in zip(base, fresh, strict=True):
            for name, v in mine.items():
                w = theirs[name]
                if not (math.isnan(v) and math.isnan(w)) and not math.isclose(v, w, rel_tol=1e-9, abs_tol=1e-6):
                    found.add(name)
    return sorted(found)


SELF_CHECK_FIGURES = (
    "cancelled_orders", "cancelled_gmv", "requests_buyer_cancelled", "requests_accepted", "requests_rejected",
    "requests_auto_cancelled", "requests_lapsed", "requests_not_cancellable", "return_path_orders", "refunds",
    "refund_wait_p50_business_days", "refund_wait_p90_business_days",
)


def replay_orders(source, policy: Policy | None = None, dataset: str | None = None, seed: int = 0,
                  replicate: int = 0) -> pl.DataFrame:
    """One row per order: what happened to it in one replicate under `policy` (drill-down and tests)."""
    prep = _source(source, dataset)
    lat = latent(prep.data, prep.calibration, seed, replicate)
    return replay_frame(prep.data, replay(prep.data, prep.calibration, policy or Policy(), lat))


__all__ = [
    "DEFAULT_REPLICATES", "Prepared", "fit_vs_data", "observed_premium_share", "policy_parameters",
    "prepare_dataset", "prepare_frame", "store_dataset",
    "replay_orders", "unavailable", "self_check", "simulate", "sweep", "sweep_frame",
]
