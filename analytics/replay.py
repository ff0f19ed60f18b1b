"""The replay: a data set's orders lived again under a policy, vectorised over orders (no loop per order).

Per order, what was observed is kept; what the policy needs and the data cannot show is drawn from the
calibration, conditioned on what is known (a seller silent for 72 hours answers after 72 hours; an
order cancelled before shipping would have shipped after its cancellation). Then the rules of
notes/model.md are applied: stage at request, consent, response window and timeout action, the race
between the seller's answer and the parcel leaving, the dispatch deadline, the refund channel and its
time, the shipping-method mix.

Common random numbers: every draw is a function of (seed, replicate, order id, what is drawn) only, so a
baseline and a scenario replayed with the same (seed, replicate) share every draw, and a difference
between them is the policy's effect. `latent()` makes the policy-free draws once per replicate;
`replay()` applies one policy to them.

Times are int64 microseconds since the epoch (naive UTC); days are datetime64[D].
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from analytics import figures as fig
from analytics import partials as pt
from analytics.calibrate import Calibration, Lognormal, fit_lognormal_cure
from analytics.orders import US_PER_HOUR, data_end_expr, normalise_orders
from analytics.outcomes import DEFAULT_REFUND_CHANNEL, REFUND_CHANNELS, SHIPPING_METHODS
from analytics.policy import Policy

US_PER_DAY = 24 * US_PER_HOUR
NEVER = np.int64(2**62)  # "has not happened": later than any real time, and safe to add hours to

# Outcome of each order's request in a replay: the domain's outcomes (outcomes.py) plus what a policy
# can add. 'none' = the order has no request.
OUTCOMES = (
    "none", "buyer_cancelled", "accepted", "rejected", "auto_cancelled", "lapsed", "not_cancellable", "unknown",
    "cancelled_without_consent",  # consent off: cancelled the moment it was asked
    "dispatch_cancelled",         # pending when the dispatch deadline cancelled the order
    "not_made",                   # the order was already cancelled for late dispatch when the buyer would have asked
)
CODE = {name: np.int8(i) for i, name in enumerate(OUTCOMES)}
STAGE_CODES = {"before_payment": 0, "awaiting_shipment": 1, "after_shipment": 2}

# Random streams: one per kind of draw, so adding a draw of one kind never moves another.
STREAM_SHIP, STREAM_RESPONSE, STREAM_ACCEPT, STREAM_REFUND, STREAM_PREMIUM, STREAM_TRANSIT = range(1, 7)
STREAM_WEIGHT, STREAM_NEVER, STREAM_SHIP_TOD = 7, 8, 9

# A seller who never answers: an answer time later than any window (hours), so the window always runs out.
NEVER_ANSWER_HOURS = 1e6

_M64 = (1 << 64) - 1


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser on uint64 (wrapping arithmetic): a well-spread 64-bit hash."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _salt(seed: int, replicate: int, stream: int) -> np.uint64:
    # In Python integers: NumPy scalars warn on the overflow that the hash relies on.
    x = (int(seed) * 0x9E3779B97F4A7C15 + int(replicate) * 0xD1B54A32D192ED03 + stream * 0xABC98388FB8FAC03) & _M64
    for shift, mult in ((30, 0xBF58476D1CE4E5B9), (27, 0x94D049BB133111EB)):
        x = ((x ^ (x >> shift)) * mult) & _M64
    return np.uint64(x ^ (x >> 31))


def uniforms(keys: np.ndarray, seed: int, replicate: int, stream: int) -> np.ndarray:
    """One uniform in [0, 1) per order key, a function of (seed, replicate, stream, key) only."""
    bits = _mix(keys ^ _salt(seed, replicate, stream))
    return (bits >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


# Poisson(1)'s CDF at 0, 1, 2, ...: a bootstrap weight from a uniform by inverse CDF (beyond 20 the
# remaining probability is below 1e-19).
_POISSON1_CDF = np.cumsum([np.exp(-1.0) / float(np.prod(np.arange(1, k + 1))) for k in range(21)])


def bootstrap_weights(keys: np.ndarray, seed: int, replicate: int) -> np.ndarray:
    """One Poisson(1) weight per order key, a function of (seed, replicate, key) only: how many times
    the order appears in a resampled period (the Poisson bootstrap). Every policy replayed with this
    (seed, replicate) weighs each order alike, so a difference stays paired."""
    u = uniforms(keys, seed, replicate, STREAM_WEIGHT)
    return np.searchsorted(_POISSON1_CDF, u, side="right").astype(np.float64)


# --------------------------------------------------------------------------------------------------
# Figures that add up


SCALARS = ("cancelled_orders", "cancelled_gmv", "return_path_orders", "dispatch_cancelled_orders", "refunds",
           "shipped_orders", "premium_orders")


@dataclass(frozen=True, eq=False)
class Tally:
    """Additive figures of a set of orders: two disjoint sets' tallies add up to their union's.
    Percentiles are read from the histograms at the end, so they need no pass over the orders."""

    scalars: np.ndarray          # by SCALARS
    outcomes: np.ndarray         # requests by outcome code
    channel_counts: np.ndarray   # refunds by REFUND_CHANNELS
    channel_amounts: np.ndarray
    wait: np.ndarray             # (payment method, business days) -> refunds after a request
    transit: np.ndarray          # business days -> shipped orders

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.scalars + other.scalars, self.outcomes + other.outcomes,
                     self.channel_counts + other.channel_counts, self.channel_amounts + other.channel_amounts,
                     _pad_add(self.wait, other.wait), _pad_add(self.transit, other.transit))

    def __neg__(self) -> Tally:
        return Tally(-self.scalars, -self.outcomes, -self.channel_counts, -self.channel_amounts, -self.wait,
                     -self.transit)


def _pad_add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    width = max(a.shape[-1], b.shape[-1])

    def pad(x: np.ndarray) -> np.ndarray:
        return np.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, width - x.shape[-1])])

    return pad(a) + pad(b)


def tally_of(n_methods: int, *, weights: np.ndarray | None = None, **orders) -> Tally:
    """The tally of these orders; with `weights`, each order counts that many times (a bootstrap).
    The orders' columns as in tallies_of."""
    return tallies_of(n_methods, weightings=(weights,), **orders)[0]


def tallies_of(n_methods: int, *, cancelled, amount, outcome, return_path, dispatch, refunded, channel, refund_amount,
               wait_method, wait_days, shipped, ship_method, transit,
               weightings: tuple[np.ndarray | None, ...]) -> list[Tally]:
    """The tally of these orders once per weighting (None: each order once), sharing the selections."""
    premium = shipped & (ship_method == 1)
    known = refunded & (channel >= 0)
    ch = channel[known].astype(np.int64)
    has = wait_days >= 0
    w = wait_days[has]
    top = int(w.max()) + 1 if len(w) else 1
    wait_code = wait_method[has].astype(np.int64) * top + w
    sel = shipped & (ship_method >= 0) & (transit >= 0)
    tr = transit[sel]
    gmv, paid_back = amount[cancelled], refund_amount[known]
    out = []
    for wt in weightings:
        if wt is None:
            scalars = [cancelled.sum(), gmv.sum(), return_path.sum(), dispatch.sum(), refunded.sum(), shipped.sum(),
                       premium.sum()]
            by_known = by_has = by_sel = None
        else:
            scalars = [wt[cancelled].sum(), (gmv * wt[cancelled]).sum(), wt[return_path].sum(), wt[dispatch].sum(),
                       wt[refunded].sum(), wt[shipped].sum(), wt[premium].sum()]
            by_known, by_has, by_sel = wt[known], wt[has], wt[sel]
        outcomes = np.bincount(outcome, weights=wt, minlength=len(OUTCOMES)).astype(np.float64)
        counts = np.bincount(ch, weights=by_known, minlength=len(REFUND_CHANNELS)).astype(np.float64)
        amounts = np.bincount(ch, weights=paid_back if wt is None else paid_back * by_known,
                              minlength=len(REFUND_CHANNELS))
        wait = np.bincount(wait_code, weights=by_has, minlength=n_methods * top).reshape(n_methods, top)
        transit_hist = np.bincount(tr, weights=by_sel).astype(np.float64) if len(tr) else np.zeros(1)
        out.append(Tally(np.array(scalars, dtype=np.float64), outcomes, counts, amounts, wait.astype(np.float64),
                         transit_hist))
    return out


def partials_of(tally: Tally, n: int, methods: tuple[str, ...], scale: float = 1.0) -> dict[str, object]:
    """The tally as the named partials the catalogue's figures are finalised from (partials.py), the
    same names as the report's partials of observed orders. `scale` multiplies the counts and amounts,
    not the distributions' shapes."""
    oc = tally.outcomes * scale
    wait = tally.wait
    out: dict[str, object] = {"orders": float(n)}
    out.update(zip(SCALARS, (float(v) * scale for v in tally.scalars), strict=True))
    out["requests"] = float(oc.sum() - oc[CODE["none"]] - oc[CODE["not_made"]])
    out.update({f"outcome.{name}": float(oc[CODE[name]]) for name in OUTCOMES[1:]})
    out["refunds_by_channel"] = tally.channel_counts * scale
    out["refund_amount_by_channel"] = tally.channel_amounts * scale
    out["wait_days"] = pt.Distribution.dense(wait.sum(axis=0)).scaled(scale)
    out["wait_days_by_method"] = {m: pt.Distribution.dense(wait[i]) for i, m in enumerate(methods)}
    out["transit_days"] = pt.Distribution.dense(tally.transit)
    return out


def figures(data: ReplayData, tally: Tally, scale: float = 1.0) -> dict[str, float]:
    """The flat figures of a tally, by the what-if engine's names (figures.WHATIF): 'cancelled_orders',
    'requests_accepted', 'refunds_by_channel.wallet', 'refund_wait_by_payment_method.card.p50', ...

    `scale` multiplies the counts and amounts (not the percentiles): a bootstrap tally scaled by
    orders / total weight stands for a period with as many orders as the data set."""
    return figures_of(tally, data.n, data.methods, scale)


def figures_of(tally: Tally, n: int, methods: tuple[str, ...], scale: float = 1.0) -> dict[str, float]:
    """`figures` for a tally of `n` orders whose wait histogram has one row per method of `methods`;
    a figure with nothing to measure is NaN."""
    values = fig.flat(fig.finalise(partials_of(tally, n, methods, scale), fig.WHATIF))
    return {k: float("nan") if v is None else float(v) for k, v in values.items()}


# --------------------------------------------------------------------------------------------------
# The orders as arrays


@dataclass(frozen=True, eq=False)
class View:
    """The orders a replay recomputes (`idx`, sorted) and the tally of all the others, which every policy
    of this kind leaves as observed. r_pos / s_pos: where each request / drawn ship time sits in idx."""

    idx: np.ndarray
    r_pos: np.ndarray
    s_pos: np.ndarray
    rest: Tally
    more: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))   # quiet orders added to the small view


@dataclass(frozen=True, eq=False)
class ReplayData:
    """A data set's orders as NumPy arrays, prepared once and replayed many times.

    Per order (length n): times in microseconds (NEVER where absent), masks, codes. Per replayable
    request (length m, `r_idx` the orders they belong to): request time, stage, the seller's answer
    when seen, and the lower bound on it when not. Per order whose ship time is drawn (`s_idx`): the
    hours after payment it is known to exceed."""

    order_id: pl.Series
    key: np.ndarray
    amount: np.ndarray
    method: np.ndarray            # index into `methods`
    methods: tuple[str, ...]      # the data's payment methods and the domain's (sorted)
    method_orders: np.ndarray     # per method: orders paid by it in the data (0: a domain method it lacks)
    method_channel: np.ndarray    # per method: the refund channel (REFUND_CHANNELS index) it defaults to:
                                  # the domain's, else the one most of its refunds show, else original
    ship_method: np.ndarray       # 0 standard, 1 premium, -1 unknown
    paid: np.ndarray
    paid_day: np.ndarray          # datetime64[D]
    has_paid: np.ndarray
    shipped: np.ndarray           # observed shipment, NEVER if none
    transit_days: np.ndarray      # business days shipped -> delivered where both are seen, else -1
    fixed: np.ndarray             # kept as observed under every policy (the data cannot be replayed)
    cancelled_obs: np.ndarray
    cancel_at_obs: np.ndarray
    outcome_obs: np.ndarray
    return_path_obs: np.ndarray
    has_refund: np.ndarray
    refund_channel: np.ndarray    # index into REFUND_CHANNELS, -1 unknown or another label
    refund_amount: np.ndarray
    refund_init: np.ndarray
    refund_done: np.ndarray       # completion day (datetime64[D]); NaT when unknown
    request_day: np.ndarray       # datetime64[D]; NaT without a request time
    s_idx: np.ndarray             # paid, replayable orders with no shipment seen: their ship time is drawn
    s_lower_hours: np.ndarray     # ... beyond this many hours after payment
    s_lower_days: np.ndarray      # ... on a working day at least this many after the payment day
    r_idx: np.ndarray
    r_time: np.ndarray
    r_stage: np.ndarray
    r_reason: np.ndarray          # index into `reasons`
    reasons: tuple[str, ...]
    r_answered: np.ndarray        # the seller's answer is seen (time and label)
    r_response: np.ndarray        # microseconds from request to answer where seen
    r_lower_hours: np.ndarray     # where not seen: the answer came later than this
    r_accepted: np.ndarray
    data_end: int
    small: View                   # the orders any policy can change, and the tally of all the others
    quiet: np.ndarray             # the others that are not kept as observed: no request, refund or drawn shipment
    quiet_workdays: np.ndarray    # per quiet order: working days from the payment day to the ship day, else -1
    views: dict = field(default_factory=dict, repr=False)   # deadline days -> its view (no draw in it)

    @property
    def n(self) -> int:
        return len(self.key)


def _us(col: str) -> pl.Expr:
    return pl.col(col).cast(pl.Datetime("us")).dt.epoch("us").fill_null(NEVER).alias(col)


def _days(us: np.ndarray) -> np.ndarray:
    return np.floor_divide(us, US_PER_DAY).astype("datetime64[D]")


def _transit(shipped: np.ndarray, delivered: np.ndarray) -> np.ndarray:
    out = np.full(len(shipped), -1, dtype=np.int64)
    seen = np.flatnonzero((shipped != NEVER) & (delivered != NEVER) & (delivered >= shipped))
    out[seen] = np.busday_count(_days(shipped[seen]), _days(delivered[seen]))
    return out


def _observed_wait(idx: np.ndarray, request_day: np.ndarray, done: np.ndarray, has_refund: np.ndarray) -> np.ndarray:
    out = np.full(len(idx), -1, dtype=np.int64)
    seen = ~np.isnat(request_day[idx]) & ~np.isnat(done[idx]) & has_refund[idx]
    out[seen] = np.busday_count(request_day[idx][seen], done[idx][seen])
    return out


def observed_tally(data: ReplayData, idx: np.ndarray, weights: np.ndarray | None = None) -> Tally:
    """The tally of these orders as the data shows them (each counted `weights` times, when given)."""
    return tally_of(
        len(data.methods), cancelled=data.cancelled_obs[idx], amount=data.amount[idx], outcome=data.outcome_obs[idx],
        return_path=data.return_path_obs[idx], dispatch=np.zeros(len(idx), dtype=bool),
        refunded=data.has_refund[idx], channel=data.refund_channel[idx], refund_amount=data.refund_amount[idx],
        wait_method=data.method[idx], wait_days=_observed_wait(idx, data.request_day, data.refund_done, data.has_refund),
        shipped=data.shipped[idx] != NEVER, ship_method=data.ship_method[idx], transit=data.transit_days[idx],
        weights=weights,
    )


@dataclass(frozen=True, eq=False)
class Resample:
    """One bootstrap replicate's weights, in the part every policy shares: the weighted tally of the
    orders outside the small view (kept as observed, or quiet) and the total weight of all orders."""

    seed: int
    replicate: int
    rest: Tally
    total: float
    widened: dict = field(default_factory=dict, repr=False)   # a widened view -> its weighted rest


def resample(data: ReplayData, seed: int, replicate: int) -> Resample:
    """The bootstrap weights of (seed, replicate) applied to the orders no policy of the small view
    recomputes. One pass over the orders; every policy of the replicate reuses it."""
    weights = bootstrap_weights(data.key, seed, replicate)
    outside = np.ones(data.n, dtype=bool)
    outside[data.small.idx] = False
    rest = np.flatnonzero(outside)
    return Resample(seed, replicate, observed_tally(data, rest, weights[rest]), float(weights.sum()))


def prepare(frame: pl.DataFrame) -> ReplayData:
    """Arrays for replaying a data set (the frame of orders.load_orders, or a hand-made one)."""
    frame = normalise_orders(frame)
    # The stage, outcome and return path as the import derived them (rules.py): never derived here.
    stage = pl.col("stage")
    awaiting = stage == "awaiting_shipment"
    answered = pl.col("seller_response").is_in(["accepted", "rejected"]) & pl.col("responded_at").is_not_null()
    silent = pl.col("seller_response") == "none"
    # What the replay cannot re-derive stays as observed: a request without a time, an answer without
    # its time or with a label outside the domain, a cancellation with no request or no time.
    fixed = (
        (pl.col("has_request") & pl.col("requested_at").is_null())
        | (pl.col("has_request") & awaiting & ~answered & ~silent)
        | (pl.col("is_cancelled") & pl.col("cancelled_at").is_null())
        | (~pl.col("has_request") & pl.col("is_cancelled"))
    ).fill_null(True)
    end = data_end_expr()
    silent_bound = pl.coalesce("cancelled_at", "shipped_at", end)
    cols = (
        frame.lazy()
        .with_columns(
            stage.alias("_stage"),
            fixed.alias("_fixed"),
            pl.col("outcome").fill_null("none").alias("_outcome"),
            pl.col("return_path").fill_null(False).alias("_return_path"),
            (awaiting & answered).fill_null(False).alias("_answered"),
            ((silent_bound - pl.col("requested_at")).dt.total_microseconds() / US_PER_HOUR).alias("_r_lower"),
            (pl.coalesce(pl.col("cancelled_at"), end) - pl.col("paid_at")).dt.total_microseconds().alias("_s_lower"),
            end.dt.epoch("us").alias("_end"),
            pl.col("order_id").hash(seed=20260105).alias("_key"),
            pl.col("refund_completed_at").dt.date().alias("_done"),
            pl.col("requested_at").dt.date().alias("_request_day"),
            pl.col("paid_at").dt.date().alias("_paid_day"),
        )
        .with_columns(
            _us("paid_at"), _us("shipped_at"), _us("delivered_at"), _us("cancelled_at"), _us("requested_at"),
            _us("responded_at"), _us("refund_initiated_at"),
        )
        .collect()
    )
    methods = tuple(sorted(set(cols["payment_method"].drop_nulls().unique().to_list()) | set(DEFAULT_REFUND_CHANNEL)))
    reasons = tuple(sorted(cols["reason"].drop_nulls().unique().to_list()))

    def codes(series: pl.Series, labels) -> np.ndarray:
        lookup = {label: i for i, label in enumerate(labels)}
        return series.replace_strict(lookup, default=-1, return_dtype=pl.Int16).to_numpy()

    def arr(name: str) -> np.ndarray:
        return cols[name].to_numpy()

    def take(name: str) -> np.ndarray:
        # The lazy engine hands derived columns back in several chunks, so to_numpy copies them: taking
        # the column out of the frame frees the chunked original at once instead of at the end.
        return cols.drop_in_place(name).to_numpy()

    def days(name: str) -> np.ndarray:
        return cols[name].to_numpy().astype("datetime64[D]", copy=False)

    fixed_np = arr("_fixed")
    paid = take("paid_at")
    has_paid = paid != NEVER
    shipped = take("shipped_at")
    r_idx = np.flatnonzero(arr("has_request") & ~fixed_np)
    s_idx = np.flatnonzero(has_paid & (shipped == NEVER) & ~fixed_np)
    requested = take("requested_at")
    responded = take("responded_at")
    r_answered = arr("_answered")[r_idx]
    method = codes(cols["payment_method"], methods)
    refund_channel = codes(cols["refund_channel"], REFUND_CHANNELS)
    base = dict(
        order_id=cols["order_id"],
        key=take("_key").astype(np.uint64, copy=False),
        amount=cols["amount"].fill_null(0.0).to_numpy(),
        method=method,
        methods=methods,
        method_orders=np.bincount(method[method >= 0], minlength=len(methods)),
        method_channel=_method_channels(methods, method, arr("has_refund"), refund_channel),
        ship_method=codes(cols["shipping_method"], SHIPPING_METHODS),
        paid=paid,
        paid_day=days("_paid_day"),
        has_paid=has_paid,
        shipped=shipped,
        transit_days=_transit(shipped, take("delivered_at")),
        fixed=fixed_np,
        cancelled_obs=arr("is_cancelled"),
        cancel_at_obs=take("cancelled_at"),
        outcome_obs=codes(cols["_outcome"], OUTCOMES).astype(np.int8),
        return_path_obs=arr("_return_path"),
        has_refund=arr("has_refund"),
        refund_channel=refund_channel,
        refund_amount=cols["refund_amount"].fill_null(cols["amount"]).fill_null(0.0).to_numpy(),
        refund_init=take("refund_initiated_at"),
        refund_done=days("_done"),
        request_day=days("_request_day"),
        s_idx=s_idx,
        s_lower_hours=(s_lower_hours := np.maximum(np.nan_to_num(take("_s_lower")[s_idx].astype(float))
                                                   / US_PER_HOUR, 0.0)),
        s_lower_days=np.busday_count(days("_paid_day")[s_idx], _days(paid[s_idx] + _hours_to_us(s_lower_hours))),
        r_idx=r_idx,
        r_time=requested[r_idx],
        r_stage=codes(cols["_stage"], list(STAGE_CODES))[r_idx],
        r_reason=codes(cols["reason"], reasons)[r_idx],
        reasons=reasons,
        r_answered=r_answered,
        r_response=np.where(r_answered, responded[r_idx] - requested[r_idx], 0),
        r_lower_hours=np.maximum(np.nan_to_num(take("_r_lower")[r_idx].astype(float)), 0.0),
        r_accepted=(cols["seller_response"] == "accepted").fill_null(False).to_numpy()[r_idx],
        data_end=int(cols["_end"][0]) if cols.height and cols["_end"][0] is not None else 0,
    )
    # Views: which orders a policy can change. Requests, refunds and unshipped paid orders for most
    # policies; every replayable order when the dispatch deadline or the shipping mix is in play.
    empty = View(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64),
                 Tally(np.zeros(len(SCALARS)), np.zeros(len(OUTCOMES)), np.zeros(len(REFUND_CHANNELS)),
                       np.zeros(len(REFUND_CHANNELS)), np.zeros((len(methods), 1)), np.zeros(1)))
    partial = ReplayData(**base, small=empty, quiet=empty.idx, quiet_workdays=empty.idx)
    small = base["has_refund"] & ~fixed_np
    small[r_idx] = True
    small[s_idx] = True
    small_idx = np.flatnonzero(small)
    quiet = np.flatnonzero(~small & ~fixed_np)
    fixed_tally = observed_tally(partial, np.flatnonzero(fixed_np))

    def view(idx: np.ndarray, rest: Tally) -> View:
        return View(idx, np.searchsorted(idx, r_idx), np.searchsorted(idx, s_idx), rest)

    # Only the dispatch deadline (late orders) and the shipping mix (switched orders) reach quiet orders.
    workdays = np.full(len(quiet), -1, dtype=np.int64)
    sent = np.flatnonzero(has_paid[quiet] & (shipped[quiet] != NEVER))
    workdays[sent] = np.busday_count(base["paid_day"][quiet[sent]], _days(shipped[quiet[sent]]))
    return ReplayData(**base, small=view(small_idx, fixed_tally + observed_tally(partial, quiet)), quiet=quiet,
                      quiet_workdays=workdays)


def _method_channels(methods: tuple[str, ...], method: np.ndarray, has_refund: np.ndarray,
                     channel: np.ndarray) -> np.ndarray:
    """Per payment method, its default refund channel: the domain's for a domain method; otherwise the
    channel most of its refunds show (ties: the first in REFUND_CHANNELS), 'original' with none seen."""
    seen = has_refund & (channel >= 0) & (method >= 0)
    k = len(REFUND_CHANNELS)
    pair = method[seen].astype(np.int64) * k + channel[seen]
    counts = np.bincount(pair, minlength=len(methods) * k).reshape(len(methods), k)
    out = np.where(counts.any(axis=1), counts.argmax(axis=1), REFUND_CHANNELS.index("original"))
    for i, m in enumerate(methods):
        if m in DEFAULT_REFUND_CHANNEL:
            out[i] = REFUND_CHANNELS.index(DEFAULT_REFUND_CHANNEL[m])
    return out


# --------------------------------------------------------------------------------------------------
# Draws shared by every policy


@dataclass(frozen=True, eq=False)
class Latent:
    """One replicate's policy-free quantities: the would-be ship time of each order in s_idx, and the
    seller's answer time and decision for every replayable request (seen, or drawn beyond what was seen)."""

    seed: int
    replicate: int
    ship: np.ndarray        # per s_idx order, microseconds
    response: np.ndarray    # per request, microseconds after the request
    accept: np.ndarray      # per request
    unseen: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))   # requests drawn
    never_u: np.ndarray = field(default_factory=lambda: np.zeros(0))    # per unseen: a uniform for never answering


def _hours_to_us(hours: np.ndarray) -> np.ndarray:
    return np.rint(np.minimum(hours, 1e9) * US_PER_HOUR).astype(np.int64)


@dataclass(frozen=True, eq=False)
class DrawBase:
    """What every replicate's conditional draws share: the fitted CDF at each known lower bound."""

    ship_f_lower: np.ndarray      # per s_idx order: P(dispatch working days < its lower bound), or of hours
    unseen: np.ndarray            # positions (in r_idx) of requests whose answer is drawn
    response_lower: np.ndarray    # hours, per unseen request
    accept_rate: np.ndarray       # per unseen request, by its reason


def draw_base(data: ReplayData, calibration: Calibration) -> DrawBase:
    unseen = np.flatnonzero(~data.r_answered & (data.r_stage == STAGE_CODES["awaiting_shipment"]))
    rates = np.array([calibration.acceptance_for(r) for r in data.reasons] + [calibration.acceptance_for(None)])
    lower = data.r_lower_hours[unseen]
    return DrawBase(
        calibration.dispatch_days.below(data.s_lower_days) if calibration.dispatch_days is not None
        else calibration.dispatch.cdf(data.s_lower_hours), unseen, lower, rates[data.r_reason[unseen]],
    )


def _ship_times(data: ReplayData, calibration: Calibration, f_lower: np.ndarray, seed: int,
                replicate: int) -> np.ndarray:
    """The would-be ship time of each s_idx order: its working day drawn from the payment day as the
    rules count it (at least the days it is known to have waited), at a time of day parcels leave; on the
    day its wait was seen, later than that moment."""
    model = calibration.dispatch_days
    keys = data.key[data.s_idx]
    if model is None:
        # A calibration made without the working-day model (a hand-made one): hours since payment.
        lower = data.s_lower_hours
        hours = calibration.dispatch.quantile_from(lower, f_lower, uniforms(keys, seed, replicate, STREAM_SHIP))
        return data.paid[data.s_idx] + np.maximum(_hours_to_us(hours), _hours_to_us(lower) + 1)
    lower = data.s_lower_days
    bound = data.paid[data.s_idx] + _hours_to_us(data.s_lower_hours)
    bound_day = _days(bound)
    # The wait was seen up to a moment on working day `lower` (when that day is a working day): the parcel
    # leaves that same day only later than that moment. So that day weighs its chance times the chance of
    # a later time of day; the days after weigh theirs in full.
    before, upto = f_lower, model.below(lower + 1)   # f_lower: draw_base's model.below(lower)
    same_day = np.is_busday(bound_day)
    after_hours = (bound - bound_day.astype(np.int64) * US_PER_DAY) / US_PER_HOUR
    later = np.where(same_day, 1.0 - model.tod_below(after_hours), 1.0)
    w_day = (upto - before) * later
    w_after = 1.0 - upto
    total = w_day + w_after
    u = uniforms(keys, seed, replicate, STREAM_SHIP)
    on_day = (u * total < w_day) & (total > 0)
    u_after = np.clip(np.where(w_after > 0, (u * total - w_day) / np.maximum(w_after, 1e-300), u), 0.0, 1.0)
    days = np.where(on_day, lower, model.draw_days(lower + 1, upto, u_after))
    ship_day = np.busday_offset(data.paid_day[data.s_idx], days, roll="forward")
    start = ship_day.astype(np.int64) * US_PER_DAY
    u_tod = uniforms(keys, seed, replicate, STREAM_SHIP_TOD)
    tod = model.tod(u_tod)
    cond = on_day & same_day
    tod[cond] = model.tod(u_tod[cond], above=after_hours[cond])
    # Strictly after what was seen (a bound later than any parcel's time of day ends up just after it).
    ship = np.maximum(start + _hours_to_us(tod), bound + 1)
    return ship


def latent(data: ReplayData, calibration: Calibration, seed: int, replicate: int,
           base: DrawBase | None = None) -> Latent:
    """One replicate's draws (pass `base` from draw_base to share the work between replicates)."""
    base = base or draw_base(data, calibration)
    ship = _ship_times(data, calibration, base.ship_f_lower, seed, replicate)
    response = data.r_response.copy()
    accept = data.r_accepted.copy()
    unseen = base.unseen
    never_u = np.zeros(0)
    if len(unseen):
        keys = data.key[data.r_idx[unseen]]
        lower = base.response_lower
        drawn = calibration.response.quantile_above(lower, uniforms(keys, seed, replicate, STREAM_RESPONSE))
        response[unseen] = np.maximum(_hours_to_us(drawn), _hours_to_us(lower) + 1)
        accept[unseen] = uniforms(keys, seed, replicate, STREAM_ACCEPT) < base.accept_rate
        never_u = uniforms(keys, seed, replicate, STREAM_NEVER)
    return Latent(seed, replicate, ship, response, accept, unseen, never_u)


def never_answer_probability(share: float, sf_at_bound: np.ndarray) -> np.ndarray:
    """The chance that a seller still silent at a bound never answers, when a `share` of all sellers never
    do and the others answer with P(later than the bound) = sf_at_bound (Bayes)."""
    if share <= 0:
        return np.zeros(len(sf_at_bound))
    return share / (share + (1.0 - share) * np.asarray(sf_at_bound))


def answering_sellers(data: ReplayData, share: float) -> Lognormal:
    """The answer times of the sellers who answer at all, refitted from this data set's requests (answers
    seen, silences as lower bounds) when `share` of sellers are assumed never to answer: the fit without
    that assumption mistakes the never-answering sellers for slow ones. Kept per share."""
    key = ("answering", float(share))
    found = data.views.get(key)
    if found is None:
        awaiting = data.r_stage == STAGE_CODES["awaiting_shipment"]
        seen = data.r_response[awaiting & data.r_answered] / US_PER_HOUR
        silent = data.r_lower_hours[awaiting & ~data.r_answered]
        found = fit_lognormal_cure(seen[seen > 0], silent[silent > 0], share)
        data.views[key] = found
    return found


def _with_never_answers(data: ReplayData, share: float, lat: Latent) -> np.ndarray:
    """The replicate's answer times with a `share` of sellers who never answer: of the requests whose
    answer was not seen, each is a never-answering seller's with the chance Bayes gives at its bound;
    the others answer after the bound by the answering sellers' curve (its estimates drawn per replicate)."""
    curve = answering_sellers(data, share).drawn(np.random.default_rng([int(lat.seed) & 0xFFFFFFFF, lat.replicate,
                                                                         0xA115]))
    lower = data.r_lower_hours[lat.unseen]
    never = lat.never_u < never_answer_probability(share, 1.0 - curve.cdf(lower))
    keys = data.key[data.r_idx[lat.unseen]]
    drawn = curve.quantile_above(lower, uniforms(keys, lat.seed, lat.replicate, STREAM_RESPONSE))
    response = lat.response.copy()
    response[lat.unseen] = np.where(never, _hours_to_us(np.full(len(lower), NEVER_ANSWER_HOURS)),
                                    np.maximum(_hours_to_us(drawn), _hours_to_us(lower) + 1))
    return response


# --------------------------------------------------------------------------------------------------
# One policy applied


@dataclass(frozen=True, eq=False)
class Replayed:
    """What happened under one policy to the orders of `view.idx` (arrays in that order); every other
    order is as observed. wait_days is per request (r_idx order), -1 where no refund followed."""

    policy: Policy
    view: View
    cancelled: np.ndarray
    cancel_at: np.ndarray
    outcome: np.ndarray
    return_path: np.ndarray
    dispatch_cancelled: np.ndarray
    refunded: np.ndarray
    refund_channel: np.ndarray
    refund_done: np.ndarray
    wait_days: np.ndarray
    shipped: np.ndarray
    ship_method: np.ndarray
    transit_days: np.ndarray


def _premium_target(policy: Policy, calibration: Calibration) -> tuple[float, float] | None:
    """(observed share, policy share) when the policy sets a share, else None (the data's own methods).

    A share equal to the observed one moves no order (the switch probability is 0)."""
    if policy.premium_shipping_share is None:
        return None
    if not np.isfinite(calibration.premium_share.rate):
        return None
    return calibration.premium_share.rate, policy.premium_shipping_share


def _switch_probability(ship_method: np.ndarray, premium: tuple[float, float]) -> np.ndarray:
    """Per order, the chance its method flips so that the Premium share moves from p0 to p1 (0 if it stays)."""
    p0, p1 = premium
    if p1 > p0:
        return np.where(ship_method == 0, (p1 - p0) / max(1.0 - p0, 1e-12), 0.0)
    return np.where(ship_method == 1, (p0 - p1) / max(p0, 1e-12), 0.0)


def _view(data: ReplayData, policy: Policy, premium: tuple[float, float] | None, lat: Latent) -> View:
    """The orders this policy can change: the small view, plus the quiet orders that ship late for the
    deadline or change shipping method. The tally of those quiet orders leaves the rest (it holds only
    counts, so taking it away is exact)."""
    late = policy.late_dispatch_action == "auto_cancel"
    if late and premium is None:
        # Which quiet orders ship late depends on the deadline only: the same view for every replicate.
        key = ("late", policy.dispatch_deadline_days)
        if key not in data.views:
            if len(data.views) > 64:
                data.views.clear()
            touched = data.quiet_workdays > policy.dispatch_deadline_days
            data.views[key] = _widened(data, data.quiet[touched]) if touched.any() else data.small
        return data.views[key]
    touched = np.zeros(len(data.quiet), dtype=bool)
    if late:
        touched |= data.quiet_workdays > policy.dispatch_deadline_days
    if premium is not None:
        u = uniforms(data.key[data.quiet], lat.seed, lat.replicate, STREAM_PREMIUM)
        touched |= u < _switch_probability(data.ship_method[data.quiet], premium)
    if not touched.any():
        return data.small
    return _widened(data, data.quiet[touched])


def _widened(data: ReplayData, more: np.ndarray) -> View:
    """The small view plus some quiet orders (disjoint from it), their observed tally taken from the rest."""
    mask = np.zeros(data.n, dtype=bool)   # a mask, not a set union: sorted and linear in n
    mask[data.small.idx] = True
    mask[more] = True
    idx = np.flatnonzero(mask)
    return View(idx, np.searchsorted(idx, data.r_idx), np.searchsorted(idx, data.s_idx),
                data.small.rest + -observed_tally(data, more), more)


def _everything(data: ReplayData) -> View:
    return _widened(data, data.quiet)


def replay(data: ReplayData, calibration: Calibration, policy: Policy, lat: Latent,
           all_orders: bool = False) -> Replayed:
    """Apply `policy` to every order, with this replicate's draws.

    Only the orders the policy can change are recomputed; `all_orders` recomputes every replayable
    order instead (the same figures, slower: a check on that shortcut)."""
    premium = _premium_target(policy, calibration)
    view = _view(data, policy, premium, lat) if not all_orders else _everything(data)
    idx = view.idx
    cancelled = data.cancelled_obs[idx]
    cancel_at = data.cancel_at_obs[idx]
    outcome = data.outcome_obs[idx]
    return_path = data.return_path_obs[idx]
    ship = data.shipped[idx]
    ship[view.s_pos] = lat.ship

    # 1. Requests: stage at request, consent, window, timeout action, the race with the parcel.
    rp, t, stage = view.r_pos, data.r_time, data.r_stage
    o = np.where(stage == 0, CODE["buyer_cancelled"], CODE["not_cancellable"]).astype(np.int8)
    c = cancelled[rp]
    ca = cancel_at[rp]
    rpath = np.zeros(len(rp), dtype=bool)
    resolved = t.copy()  # when the request stopped being pending
    aw = stage == STAGE_CODES["awaiting_shipment"]
    if not policy.seller_consent_required:
        o[aw] = CODE["cancelled_without_consent"]
        c[aw] = True
        ca[aw] = t[aw]
    else:
        window = np.int64(round(policy.seller_response_hours * US_PER_HOUR))
        response = lat.response
        if policy.never_answer_share > 0 and len(lat.unseen):
            response = _with_never_answers(data, policy.never_answer_share, lat)
        ends = t + np.minimum(response, window)
        race = aw & (ship[rp] < ends)          # the parcel left before the answer or the window's end
        answered = aw & ~race & (response <= window)
        timeout = aw & ~race & (response > window)
        accepted = answered & lat.accept
        rejected = answered & ~lat.accept
        resolved = np.where(aw, ends, t)
        o[race], rpath[race], c[race] = CODE["not_cancellable"], True, False
        o[accepted], c[accepted], ca[accepted] = CODE["accepted"], True, (t + response)[accepted]
        o[rejected], c[rejected] = CODE["rejected"], False
        if policy.timeout_action == "auto_cancel":
            o[timeout], c[timeout], ca[timeout] = CODE["auto_cancelled"], True, t[timeout] + window
        else:
            o[timeout], c[timeout] = CODE["lapsed"], False
    outcome[rp], cancelled[rp], cancel_at[rp], return_path[rp] = o, c, np.where(c, ca, NEVER), rpath

    # 2. The dispatch deadline: not shipped by the end of the D-th working day after the payment day.
    dispatch = np.zeros(len(idx), dtype=bool)
    if policy.late_dispatch_action == "auto_cancel":
        cand = np.flatnonzero(data.has_paid[idx])
        due = np.busday_offset(data.paid_day[idx[cand]], policy.dispatch_deadline_days, roll="forward")
        deadline = (due.astype(np.int64) + 1) * US_PER_DAY
        late = ship[cand] >= deadline
        first = cancelled[cand] & (cancel_at[cand] <= deadline)   # cancelled anyway, before the deadline
        hit_mask = late & ~first
        hit, at = cand[hit_mask], deadline[hit_mask]
        cancelled[hit], cancel_at[hit], dispatch[hit], return_path[hit] = True, at, True, False
        # A request of such an order: never made if it came after, cut short if still pending then.
        hit_at = np.full(len(idx), NEVER)
        hit_at[hit] = at
        d_r = hit_at[rp]
        h = d_r != NEVER
        outcome[rp[h]] = np.where(t[h] >= d_r[h], CODE["not_made"],
                                  np.where(resolved[h] > d_r[h], CODE["dispatch_cancelled"], o[h]))

    # 3. Refunds: every cancelled, paid order; the channel by payment method; its time in business days.
    refunded = data.has_refund[idx]
    channel = data.refund_channel[idx]
    done = data.refund_done[idx]
    fixed_days = {ch: policy.refund_days_for(ch) for ch in REFUND_CHANNELS}
    # A method's channel moves when the policy names one other than its default (the domain's, or for
    # another method the one its refunds show): a default set explicitly is no change.
    default_channel = data.method_channel
    policy_channel = np.array([REFUND_CHANNELS.index(policy.channel_for(m)) if policy.channel_for(m) else d
                               for m, d in zip(data.methods, default_channel, strict=True)], dtype=np.int64)
    changed_methods = policy_channel != default_channel

    def channel_for(orders: np.ndarray) -> np.ndarray:
        """A changed method's channel from the policy; otherwise the channel the data shows, else the default."""
        m = data.method[orders]
        seen = data.has_refund[orders] & (data.refund_channel[orders] >= 0)
        out = np.where(seen, data.refund_channel[orders], default_channel[m])
        return np.where(changed_methods[m], policy_channel[m], out)

    def days_for(orders: np.ndarray, chans: np.ndarray, keep_seen: np.ndarray) -> np.ndarray:
        """Business days per refund: the order's own where kept, the policy's fixed value, or a draw."""
        u = uniforms(data.key[orders], lat.seed, lat.replicate, STREAM_REFUND)
        k = np.zeros(len(orders), dtype=np.int64)
        for i, ch in enumerate(REFUND_CHANNELS):
            sel = chans == i
            if not sel.any():
                continue
            if fixed_days[ch] is not None:
                k[sel] = fixed_days[ch]
                continue
            k[sel] = calibration.refund_days_for(ch).quantile(u[sel])
            keep = np.flatnonzero(sel & keep_seen)
            k[keep] = np.busday_count(_days(data.refund_init[orders[keep]]), data.refund_done[orders[keep]])
        return k

    # An order whose cancellation moved (state or time) gets a new refund, or loses its refund.
    moved = np.flatnonzero((cancelled != data.cancelled_obs[idx])
                           | (cancelled & (cancel_at != data.cancel_at_obs[idx])))
    gets = cancelled[moved] & data.has_paid[idx[moved]] & (data.paid[idx[moved]] <= cancel_at[moved])
    refunded[moved] = gets
    new = moved[gets]
    if len(new):
        orders = idx[new]
        chans = channel_for(orders)
        kept = (data.has_refund[orders] & (data.refund_channel[orders] == chans)
                & ~np.isnat(data.refund_done[orders]) & (data.refund_init[orders] != NEVER))
        channel[new] = chans
        done[new] = np.busday_offset(_days(cancel_at[new]), days_for(orders, chans, kept), roll="forward")
    # A refund that stays but changes channel or takes the policy's fixed time.
    fixed_channels = [i for i, ch in enumerate(REFUND_CHANNELS) if fixed_days[ch] is not None]
    if changed_methods.any() or fixed_channels:
        stay = np.ones(len(idx), dtype=bool)
        stay[moved] = False
        pos = np.flatnonzero(stay & data.has_refund[idx] & (data.refund_init[idx] != NEVER))
        orders = idx[pos]
        chans = channel_for(orders)
        change = (chans != data.refund_channel[orders]) | np.isin(chans, fixed_channels)
        pos, orders, chans = pos[change], orders[change], chans[change]
        if len(pos):
            channel[pos] = chans
            k = days_for(orders, chans, np.zeros(len(pos), dtype=bool))
            done[pos] = np.busday_offset(_days(data.refund_init[orders]), k, roll="forward")

    # The buyer's wait: business days from the request to the money back.
    made = (outcome[rp] != CODE["not_made"]) & refunded[rp] & ~np.isnat(done[rp])
    wait = np.full(len(rp), -1, dtype=np.int64)
    if made.any():
        wait[made] = np.busday_count(_days(t[made]), done[rp][made])

    # 4. Shipping: what shipped by the end of the data, by which method, how long in transit.
    shipped = ~cancelled & (ship <= data.data_end)
    ship_method = data.ship_method[idx]
    transit = data.transit_days[idx]
    switch = np.zeros(len(idx), dtype=bool)
    if premium is not None:
        u = uniforms(data.key[idx], lat.seed, lat.replicate, STREAM_PREMIUM)
        switch = u < _switch_probability(ship_method, premium)
        ship_method = np.where(switch, 1 - ship_method, ship_method)
    # A switched method, or an order that ships only in the replay, takes a transit time drawn for its method.
    redraw = np.flatnonzero(shipped & (ship_method >= 0) & (switch | (data.shipped[idx] == NEVER)))
    if len(redraw):
        u = uniforms(data.key[idx[redraw]], lat.seed, lat.replicate, STREAM_TRANSIT)
        for i, m in enumerate(SHIPPING_METHODS):
            sel = ship_method[redraw] == i
            transit[redraw[sel]] = calibration.transit_days_for(m).quantile(u[sel])
    return Replayed(policy, view, cancelled, cancel_at, outcome, return_path, dispatch, refunded, channel, done,
                    wait, shipped, ship_method, transit)


def _tallies(data: ReplayData, rep: Replayed, boot: Resample | None) -> list[Tally]:
    """The replay's tally over every order (the replayed ones plus the rest as observed), and with `boot`
    a second one where every order counts its bootstrap weight of that replicate."""
    idx = rep.view.idx
    wait_days = np.full(len(idx), -1, dtype=np.int64)
    wait_days[rep.view.r_pos] = rep.wait_days
    weightings = (None,) if boot is None else (None, bootstrap_weights(data.key[idx], boot.seed, boot.replicate))
    mine = tallies_of(
        len(data.methods), cancelled=rep.cancelled, amount=data.amount[idx], outcome=rep.outcome,
        return_path=rep.return_path, dispatch=rep.dispatch_cancelled, refunded=rep.refunded,
        channel=rep.refund_channel, refund_amount=data.refund_amount[idx], wait_method=data.method[idx],
        wait_days=wait_days, shipped=rep.shipped, ship_method=rep.ship_method, transit=rep.transit_days,
        weightings=weightings,
    )
    out = [mine[0] + rep.view.rest]
    if boot is None:
        return out
    rest = boot.rest
    more = rep.view.more
    if len(more):
        # The dispatch deadline's views are the same in every replicate: their weighted rest is kept.
        rest = boot.widened.get(rep.view)
        if rest is None:
            weights = bootstrap_weights(data.key[more], boot.seed, boot.replicate)
            rest = boot.rest + -observed_tally(data, more, weights)
            if len(boot.widened) > 16:
                boot.widened.clear()
            boot.widened[rep.view] = rest
    return [*out, mine[1] + rest]


def tally(data: ReplayData, rep: Replayed, boot: Resample | None = None) -> Tally:
    """The replay's tally over every order: the replayed ones plus the rest as observed. With `boot`,
    every order counts its bootstrap weight of that replicate."""
    return _tallies(data, rep, boot)[-1]


def summarise(data: ReplayData, rep: Replayed, boot: Resample | None = None) -> dict[str, float]:
    """The outcome figures of one replay, flat (see `figures`); with `boot`, those of the resampled
    period, scaled to as many orders as the data set has."""
    return summarise_both(data, rep, boot)[-1]


def summarise_both(data: ReplayData, rep: Replayed, boot: Resample) -> tuple[dict[str, float], ...]:
    """(the figures of these orders, the figures of the resampled period) from one replay, in one pass;
    only the first without `boot`."""
    tallies = _tallies(data, rep, boot)
    first = figures(data, tallies[0])
    if boot is None:
        return (first,)
    return first, figures(data, tallies[1], data.n / boot.total if boot.total > 0 else 1.0)


def observed_figures(data: ReplayData) -> dict[str, float]:
    """The same figures as the data shows them."""
    return figures(data, observed_tally(data, np.arange(data.n)))


def expand(data: ReplayData, rep: Replayed) -> dict[str, np.ndarray]:
    """Per order (length n): the replay's state, with the orders it did not recompute as observed."""
    idx = rep.view.idx
    wait = np.full(data.n, -1, dtype=np.int64)
    wait[data.r_idx] = rep.wait_days
    fixed_wait_idx = np.flatnonzero(data.fixed)
    wait[fixed_wait_idx] = _observed_wait(fixed_wait_idx, data.request_day, data.refund_done, data.has_refund)
    out = {
        "cancelled": data.cancelled_obs.copy(), "cancel_at": data.cancel_at_obs.copy(),
        "outcome": data.outcome_obs.copy(), "return_path": data.return_path_obs.copy(),
        "dispatch_cancelled": np.zeros(data.n, dtype=bool), "refunded": data.has_refund.copy(),
        "refund_channel": data.refund_channel.copy(), "refund_done": data.refund_done.copy(),
        "shipped": data.shipped != NEVER, "wait_days": wait,
    }
    for name, values in (("cancelled", rep.cancelled), ("cancel_at", rep.cancel_at), ("outcome", rep.outcome),
                         ("return_path", rep.return_path), ("dispatch_cancelled", rep.dispatch_cancelled),
                         ("refunded", rep.refunded), ("refund_channel", rep.refund_channel),
                         ("refund_done", rep.refund_done), ("shipped", rep.shipped)):
        out[name][idx] = values
    return out


def replay_frame(data: ReplayData, rep: Replayed) -> pl.DataFrame:
    """One row per order of one replay: what happened to it under the policy (for tests and drill-down)."""
    s = expand(data, rep)
    when = s["cancelled"] & (s["cancel_at"] != NEVER)
    channels = np.array([*REFUND_CHANNELS, None], dtype=object)
    return pl.DataFrame({
        "order_id": data.order_id,
        "outcome": pl.Series(np.array(OUTCOMES, dtype=object)[s["outcome"]], dtype=pl.Utf8).replace("none", None),
        "cancelled": s["cancelled"],
        "cancelled_at": pl.Series(np.where(when, s["cancel_at"], 0)).cast(pl.Datetime("us"))
        .zip_with(pl.Series(when), pl.Series([None] * data.n, dtype=pl.Datetime("us"))),
        "return_path": s["return_path"],
        "dispatch_cancelled": s["dispatch_cancelled"],
        "refunded": s["refunded"],
        # As a list: an object array of nothing but None (no refund at all) does not cast to text.
        "refund_channel": pl.Series(np.where(s["refunded"], channels[s["refund_channel"]], None).tolist(),
                                    dtype=pl.Utf8),
        "refund_completed_on": pl.Series(np.where(s["refunded"], s["refund_done"], np.datetime64("NaT")),
                                         dtype=pl.Date),
        "refund_wait_business_days": pl.Series(s["wait_days"]).replace(-1, None),
        "shipped": s["shipped"],
    })
