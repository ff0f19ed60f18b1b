"""A data set's orders as NumPy arrays for the replay, prepared once and replayed many times; the tally
of orders as the data shows them; and the bootstrap's weighted tally of the orders no policy recomputes.

Times are int64 microseconds since the epoch (naive UTC), NEVER where absent; days are datetime64[D].
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from analytics.draws import bootstrap_weights
from analytics.orders import US_PER_HOUR, data_end_expr, normalise_orders
from analytics.outcomes import DEFAULT_REFUND_CHANNEL, REFUND_CHANNELS, SHIPPING_METHODS
from analytics.tally import OUTCOMES, SCALARS, Tally, figures_of, tally_of

US_PER_DAY = 24 * US_PER_HOUR
NEVER = np.int64(2**62)  # "has not happened": later than any real time, and safe to add hours to

STAGE_CODES = {"before_payment": 0, "awaiting_shipment": 1, "after_shipment": 2}

# A seller who never answers: an answer time later than any window (hours), so the window always runs out.
NEVER_ANSWER_HOURS = 1e6

def _hours_to_us(hours: np.ndarray) -> np.ndarray:
    return np.rint(np.minimum(hours, 1e9) * US_PER_HOUR).astype(np.int64)


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

    order_id: pl.Series | None    # None in a part of a data set (replay.part)
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
    method_refunds: np.ndarray | None = None   # per method: refunds whose channel is known
    whole: ReplayData | None = None   # the data set a part of it was cut from (replay.part): fits come from it

    @property
    def n(self) -> int:
        return len(self.key)


@dataclass(frozen=True, eq=False)
class Wide:
    """What `prepare` reads from the whole data set rather than from the orders it is given: the last
    moment the data shows, the payment methods (the data's and the domain's, sorted), orders per method,
    and per method its refunds by channel (REFUND_CHANNELS; those with a known channel). A chunk of the
    orders (a Spark partition) prepared with its data set's Wide replays as the whole would."""

    data_end: int                  # microseconds since the epoch (naive UTC); 0 for no time at all
    methods: tuple[str, ...]
    method_orders: np.ndarray
    channel_counts: np.ndarray     # (method, channel) -> refunds

    @staticmethod
    def of(frame: pl.DataFrame) -> Wide:
        """The Wide of a frame of orders (orders.ORDER_COLUMNS)."""
        frame = normalise_orders(frame)
        end = frame.select(data_end_expr().dt.epoch("us")).item() if frame.height else None
        methods = tuple(sorted(set(frame["payment_method"].drop_nulls().unique().to_list()) | set(DEFAULT_REFUND_CHANNEL)))
        lookup = {label: i for i, label in enumerate(methods)}
        method = frame["payment_method"].replace_strict(lookup, default=-1, return_dtype=pl.Int16).to_numpy()
        channel = frame["refund_channel"].replace_strict({c: i for i, c in enumerate(REFUND_CHANNELS)}, default=-1,
                                                         return_dtype=pl.Int16).to_numpy()
        return Wide(0 if end is None else int(end), methods,
                    np.bincount(method[method >= 0], minlength=len(methods)),
                    _channel_counts(methods, method, frame["has_refund"].to_numpy(), channel))

    @staticmethod
    def merged(parts: list[Wide]) -> Wide:
        """The Wide of a data set from its parts' (chunks of its orders, each Wide.of its own): the last
        moment is the latest, orders and refunds per method and channel add up."""
        methods = tuple(sorted({m for w in parts for m in w.methods} | set(DEFAULT_REFUND_CHANNEL)))
        orders = np.zeros(len(methods), dtype=np.int64)
        counts = np.zeros((len(methods), len(REFUND_CHANNELS)), dtype=np.int64)
        for w in parts:
            at = [methods.index(m) for m in w.methods]
            orders[at] += w.method_orders
            counts[at] += w.channel_counts
        return Wide(max((w.data_end for w in parts), default=0), methods, orders, counts)


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
    small: np.ndarray | None = None   # the weights of the small view's orders (its idx order)


def resample(data: ReplayData, seed: int, replicate: int) -> Resample:
    """The bootstrap weights of (seed, replicate) applied to the orders no policy of the small view
    recomputes. One pass over the orders; every policy of the replicate reuses it."""
    weights = bootstrap_weights(data.key, seed, replicate)
    outside = np.ones(data.n, dtype=bool)
    outside[data.small.idx] = False
    rest = np.flatnonzero(outside)
    return Resample(seed, replicate, observed_tally(data, rest, weights[rest]), float(weights.sum()),
                    small=weights[data.small.idx])


def prepare(frame: pl.DataFrame, wide: Wide | None = None) -> ReplayData:
    """Arrays for replaying a data set (the frame of orders.load_orders, or a hand-made one); `wide`: what
    the whole data set shows when `frame` is a chunk of it (default: the frame's own)."""
    frame = normalise_orders(frame)
    wide = Wide.of(frame) if wide is None else wide
    # The stage, outcome and return path as the import derived them (rules.py): never derived here.
    stage = pl.col("request_stage")
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
        # An export without payment and shipment times: the request's stage, hence its race, is unknown.
        | (pl.col("has_request") & ~stage.is_in(list(STAGE_CODES)))
    ).fill_null(True)
    end = pl.lit(wide.data_end).cast(pl.Datetime("us"))
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
    methods = wide.methods
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
        method_orders=wide.method_orders,
        method_channel=_method_channels(methods, wide.channel_counts),
        method_refunds=wide.channel_counts.sum(axis=1),
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
        data_end=wide.data_end,
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


def _channel_counts(methods: tuple[str, ...], method: np.ndarray, has_refund: np.ndarray,
                    channel: np.ndarray) -> np.ndarray:
    """(payment method, refund channel) -> refunds with both known."""
    seen = has_refund & (channel >= 0) & (method >= 0)
    k = len(REFUND_CHANNELS)
    pair = method[seen].astype(np.int64) * k + channel[seen]
    return np.bincount(pair, minlength=len(methods) * k).reshape(len(methods), k)


def _method_channels(methods: tuple[str, ...], counts: np.ndarray) -> np.ndarray:
    """Per payment method, its default refund channel: the domain's for a domain method; otherwise the
    channel most of its refunds show (ties: the first in REFUND_CHANNELS), 'original' with none seen."""
    out = np.where(counts.any(axis=1), counts.argmax(axis=1), REFUND_CHANNELS.index("original"))
    for i, m in enumerate(methods):
        if m in DEFAULT_REFUND_CHANNEL:
            out[i] = REFUND_CHANNELS.index(DEFAULT_REFUND_CHANNEL[m])
    return out


def figures(data: ReplayData, tally: Tally, scale: float = 1.0) -> dict[str, float]:
    """The flat figures of a tally, by the what-if engine's names (figures.WHATIF): 'cancelled_orders',
    'requests_accepted', 'refunds_by_channel.wallet', 'refund_wait_by_payment_method.card.p50', ...

    `scale` multiplies the counts and amounts (not the percentiles): a bootstrap tally scaled by
    orders / total weight stands for a period with as many orders as the data set."""
    return figures_of(tally, data.n, data.methods, scale)


def observed_figures(data: ReplayData) -> dict[str, float]:
    """The same figures as the data shows them."""
    return figures(data, observed_tally(data, np.arange(data.n)))
