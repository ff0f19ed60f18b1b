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

from dataclasses import dataclass

import numpy as np
import polars as pl

from analytics.calibrate import US_PER_HOUR, Calibration, data_end_expr, normalise_orders, stage_expr
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


# --------------------------------------------------------------------------------------------------
# The orders as arrays


@dataclass(frozen=True, eq=False)
class ReplayData:
    """A data set's orders as NumPy arrays, prepared once and replayed many times.

    Per order (length n): times in microseconds (NEVER where absent), masks, codes. Per replayable
    request (length m, `r_idx` the orders they belong to): request time, stage, the seller's answer
    when seen, and the lower bound on it when not."""

    order_id: pl.Series
    key: np.ndarray
    amount: np.ndarray
    method: np.ndarray            # index into `methods`
    methods: tuple[str, ...]
    ship_method: np.ndarray       # 0 standard, 1 premium, -1 unknown
    paid: np.ndarray
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
    s_idx: np.ndarray             # paid, replayable orders with no shipment seen: their ship time is drawn
    s_lower_hours: np.ndarray     # ... beyond this many hours after payment
    r_idx: np.ndarray
    r_time: np.ndarray
    r_stage: np.ndarray
    r_reason: np.ndarray          # reason labels (object), for the acceptance rate by reason
    r_answered: np.ndarray        # the seller's answer is seen (time and label)
    r_response: np.ndarray        # microseconds from request to answer where seen
    r_lower_hours: np.ndarray     # where not seen: the answer came later than this
    r_accepted: np.ndarray
    data_end: int

    @property
    def n(self) -> int:
        return len(self.key)


def _us(col: str) -> pl.Expr:
    return pl.col(col).cast(pl.Datetime("us")).dt.epoch("us").fill_null(NEVER).alias(col)


def observed_outcome_expr() -> pl.Expr:
    """A request's outcome by outcomes.py's rules (the same as the import derives), null without a request."""
    stage = stage_expr()
    return_path = (
        (stage == "awaiting_shipment") & pl.col("shipped_at").is_not_null() & ~pl.col("is_cancelled")
        & (pl.col("responded_at").is_null() | (pl.col("shipped_at") < pl.col("responded_at")))
    )
    return (
        pl.when(~pl.col("has_request")).then(None)
        .when(stage == "before_payment").then(pl.lit("buyer_cancelled"))
        .when((stage == "after_shipment") | return_path).then(pl.lit("not_cancellable"))
        .when(pl.col("seller_response") == "accepted").then(pl.lit("accepted"))
        .when(pl.col("seller_response") == "rejected").then(pl.lit("rejected"))
        .when((pl.col("seller_response") == "none") & pl.col("is_cancelled")).then(pl.lit("auto_cancelled"))
        .when(pl.col("seller_response") == "none").then(pl.lit("lapsed"))
        .otherwise(pl.lit("unknown"))
    )


def _transit_days(shipped: np.ndarray, delivered: np.ndarray) -> np.ndarray:
    out = np.full(len(shipped), -1, dtype=np.int64)
    seen = np.flatnonzero((shipped != NEVER) & (delivered != NEVER) & (delivered >= shipped))
    out[seen] = np.busday_count(_days(shipped[seen]), _days(delivered[seen]))
    return out


def prepare(frame: pl.DataFrame) -> ReplayData:
    """Arrays for replaying a data set (the frame of calibrate.load_orders, or a hand-made one)."""
    frame = normalise_orders(frame)
    stage = stage_expr()
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
    )
    end = data_end_expr()
    silent_bound = pl.coalesce("cancelled_at", "shipped_at", end)
    cols = (
        frame.lazy()
        .with_columns(
            stage.alias("_stage"),
            fixed.alias("_fixed"),
            observed_outcome_expr().fill_null("none").alias("_outcome"),
            ((stage == "awaiting_shipment") & pl.col("shipped_at").is_not_null() & ~pl.col("is_cancelled")
             & (pl.col("responded_at").is_null() | (pl.col("shipped_at") < pl.col("responded_at"))))
            .fill_null(False).alias("_return_path"),
            (awaiting & answered).fill_null(False).alias("_answered"),
            ((silent_bound - pl.col("requested_at")).dt.total_microseconds() / US_PER_HOUR).alias("_r_lower"),
            (pl.coalesce(pl.col("cancelled_at"), end) - pl.col("paid_at")).dt.total_microseconds().alias("_s_lower"),
            end.dt.epoch("us").alias("_end"),
            pl.col("order_id").hash(seed=20260105).alias("_key"),
            (pl.col("refund_completed_at").dt.date()).alias("_done"),
        )
        .with_columns(
            _us("paid_at"), _us("shipped_at"), _us("delivered_at"), _us("cancelled_at"), _us("requested_at"),
            _us("responded_at"), _us("refund_initiated_at"),
        )
        .collect()
    )
    methods = tuple(sorted(set(cols["payment_method"].drop_nulls().unique().to_list()) | set(DEFAULT_REFUND_CHANNEL)))

    def codes(series: pl.Series, labels) -> np.ndarray:
        lookup = {label: i for i, label in enumerate(labels)}
        return series.replace_strict(lookup, default=-1, return_dtype=pl.Int16).to_numpy()

    def arr(name: str) -> np.ndarray:
        return cols[name].to_numpy()

    fixed_np = arr("_fixed")
    has_paid = cols["paid_at"].ne(NEVER).to_numpy()
    shipped = arr("shipped_at")
    is_cancelled = arr("is_cancelled")
    has_req = arr("has_request") & ~fixed_np
    r_idx = np.flatnonzero(has_req)
    stage_codes = codes(cols["_stage"], list(STAGE_CODES))
    s_idx = np.flatnonzero(has_paid & (shipped == NEVER) & ~fixed_np)
    requested = arr("requested_at")
    responded = arr("responded_at")
    r_answered = arr("_answered")[r_idx]
    return ReplayData(
        order_id=cols["order_id"],
        key=arr("_key").astype(np.uint64),
        amount=cols["amount"].fill_null(0.0).to_numpy(),
        method=codes(cols["payment_method"], methods),
        methods=methods,
        ship_method=codes(cols["shipping_method"], SHIPPING_METHODS),
        paid=arr("paid_at"),
        has_paid=has_paid,
        shipped=shipped,
        transit_days=_transit_days(arr("shipped_at"), arr("delivered_at")),
        fixed=fixed_np,
        cancelled_obs=is_cancelled,
        cancel_at_obs=arr("cancelled_at"),
        outcome_obs=codes(cols["_outcome"], OUTCOMES).astype(np.int8),
        return_path_obs=arr("_return_path"),
        has_refund=arr("has_refund"),
        refund_channel=codes(cols["refund_channel"], REFUND_CHANNELS),
        refund_amount=cols["refund_amount"].fill_null(cols["amount"]).fill_null(0.0).to_numpy(),
        refund_init=arr("refund_initiated_at"),
        refund_done=cols["_done"].to_numpy().astype("datetime64[D]"),
        s_idx=s_idx,
        s_lower_hours=np.maximum(cols["_s_lower"].to_numpy()[s_idx].astype(float) / US_PER_HOUR, 0.0),
        r_idx=r_idx,
        r_time=requested[r_idx],
        r_stage=stage_codes[r_idx],
        r_reason=cols["reason"].to_numpy()[r_idx],
        r_answered=r_answered,
        r_response=np.where(r_answered, responded[r_idx] - requested[r_idx], 0),
        r_lower_hours=np.nan_to_num(cols["_r_lower"].to_numpy()[r_idx].astype(float), nan=0.0),
        r_accepted=(cols["seller_response"] == "accepted").fill_null(False).to_numpy()[r_idx],
        data_end=int(cols["_end"][0]) if cols.height and cols["_end"][0] is not None else 0,
    )


# --------------------------------------------------------------------------------------------------
# Draws shared by every policy


@dataclass(frozen=True, eq=False)
class Latent:
    """One replicate's policy-free quantities: the would-be ship time of every order, and the seller's
    answer time and decision for every replayable request (seen, or drawn beyond what was seen)."""

    seed: int
    replicate: int
    ship: np.ndarray        # per order, microseconds; NEVER for orders never paid
    response: np.ndarray    # per request, microseconds after the request
    accept: np.ndarray      # per request


def _hours_to_us(hours: np.ndarray) -> np.ndarray:
    return np.rint(np.minimum(hours, 1e9) * US_PER_HOUR).astype(np.int64)


def latent(data: ReplayData, calibration: Calibration, seed: int, replicate: int) -> Latent:
    ship = data.shipped.copy()
    if len(data.s_idx):
        u = uniforms(data.key[data.s_idx], seed, replicate, STREAM_SHIP)
        lower = data.s_lower_hours
        hours = calibration.dispatch.quantile_above(lower, u)
        # Strictly after what was seen: the order had not shipped by then.
        ship[data.s_idx] = data.paid[data.s_idx] + np.maximum(_hours_to_us(hours), _hours_to_us(lower) + 1)
    seen = data.r_answered
    response = data.r_response.copy()
    accept = data.r_accepted.copy()
    unseen = np.flatnonzero(~seen & (data.r_stage == 1))
    if len(unseen):
        keys = data.key[data.r_idx[unseen]]
        lower = data.r_lower_hours[unseen]
        drawn = calibration.response.quantile_above(lower, uniforms(keys, seed, replicate, STREAM_RESPONSE))
        response[unseen] = np.maximum(_hours_to_us(drawn), _hours_to_us(lower) + 1)
        rates = _rates_by_reason(calibration, data.r_reason[unseen])
        accept[unseen] = uniforms(keys, seed, replicate, STREAM_ACCEPT) < rates
    return Latent(seed, replicate, ship, response, accept)


def _rates_by_reason(calibration: Calibration, reasons: np.ndarray) -> np.ndarray:
    labels, inverse = np.unique(reasons.astype(str), return_inverse=True)
    return np.array([calibration.acceptance_for(x) for x in labels])[inverse]


# --------------------------------------------------------------------------------------------------
# One policy applied


@dataclass(frozen=True, eq=False)
class Replayed:
    """What happened to each order under one policy (arrays of length n)."""

    policy: Policy
    cancelled: np.ndarray
    cancel_at: np.ndarray
    outcome: np.ndarray
    return_path: np.ndarray
    dispatch_cancelled: np.ndarray
    refunded: np.ndarray
    refund_channel: np.ndarray
    refund_amount: np.ndarray
    refund_done: np.ndarray          # datetime64[D], NaT when unknown
    wait_days: np.ndarray            # per request (r_idx order): business days from request to money back; -1 none
    shipped: np.ndarray              # shipped by the end of the data
    ship_method: np.ndarray
    transit_days: np.ndarray         # -1 where unknown


def _days(us: np.ndarray) -> np.ndarray:
    return np.floor_divide(us, US_PER_DAY).astype("datetime64[D]")


def replay(data: ReplayData, calibration: Calibration, policy: Policy, lat: Latent) -> Replayed:
    """Apply `policy` to every order, with this replicate's draws."""
    cancelled = data.cancelled_obs.copy()
    cancel_at = data.cancel_at_obs.copy()
    outcome = data.outcome_obs.copy()
    return_path = data.return_path_obs.copy()
    ship = lat.ship

    # 1. Requests: stage at request, consent, window, timeout action, the race with the parcel.
    r, t, stage = data.r_idx, data.r_time, data.r_stage
    o = np.where(stage == 0, CODE["buyer_cancelled"], CODE["not_cancellable"]).astype(np.int8)
    c = cancelled[r]
    ca = cancel_at[r]
    rp = np.zeros(len(r), dtype=bool)
    resolved = t.copy()  # when the request stopped being pending
    aw = stage == 1
    if not policy.seller_consent_required:
        o[aw] = CODE["cancelled_without_consent"]
        c[aw] = True
        ca[aw] = t[aw]
    else:
        window = np.int64(round(policy.seller_response_hours * US_PER_HOUR))
        response = lat.response
        ends = t + np.minimum(response, window)
        race = aw & (ship[r] < ends)          # the parcel left before the answer or the window's end
        answered = aw & ~race & (response <= window)
        timeout = aw & ~race & (response > window)
        accepted = answered & lat.accept
        rejected = answered & ~lat.accept
        resolved = np.where(aw, ends, t)
        o[race], rp[race], c[race] = CODE["not_cancellable"], True, False
        o[accepted], c[accepted], ca[accepted] = CODE["accepted"], True, (t + response)[accepted]
        o[rejected], c[rejected] = CODE["rejected"], False
        if policy.timeout_action == "auto_cancel":
            o[timeout], c[timeout], ca[timeout] = CODE["auto_cancelled"], True, t[timeout] + window
        else:
            o[timeout], c[timeout] = CODE["lapsed"], False
    outcome[r], cancelled[r], cancel_at[r], return_path[r] = o, c, np.where(c, ca, NEVER), rp

    # 2. The dispatch deadline: not shipped by the end of the D-th working day after the payment day.
    dispatch_cancelled = np.zeros(data.n, dtype=bool)
    touched = r
    if policy.late_dispatch_action == "auto_cancel":
        cand = np.flatnonzero(data.has_paid & ~data.fixed)
        due_day = np.busday_offset(_days(data.paid[cand]), policy.dispatch_deadline_days, roll="forward")
        deadline = (due_day.astype(np.int64) + 1) * US_PER_DAY
        late = ship[cand] >= deadline
        before = cancelled[cand] & (cancel_at[cand] <= deadline)
        hit_mask = late & ~before
        hit, at = cand[hit_mask], deadline[hit_mask]
        cancelled[hit], cancel_at[hit], dispatch_cancelled[hit] = True, at, True
        return_path[hit] = False
        # A request of such an order: never made if it came after, cut short if still pending.
        pos = np.searchsorted(r, hit)
        has = pos < len(r)
        has[has] = r[pos[has]] == hit[has]
        req_pos, req_at = pos[has], at[has]
        outcome[r[req_pos]] = np.where(t[req_pos] >= req_at, CODE["not_made"],
                                       np.where(resolved[req_pos] > req_at, CODE["dispatch_cancelled"],
                                                outcome[r[req_pos]]))
        touched = np.union1d(r, hit)

    # 3. Refunds: every cancelled, paid order; the channel by payment method; its time in business days.
    refunded = data.has_refund.copy()
    channel = data.refund_channel.copy()
    amount = data.refund_amount
    done = data.refund_done.copy()
    method_channel = np.array([
        REFUND_CHANNELS.index(policy.channel_for(m)) if policy.channel_for(m) else -1 for m in data.methods
    ])
    method_changed = np.array([policy.channel_changed(m) for m in data.methods] + [False])  # -1 -> False
    default_channel = np.array([REFUND_CHANNELS.index(DEFAULT_REFUND_CHANNEL.get(m, "original")) for m in data.methods]
                               + [0])
    fixed_days = {ch: policy.refund_days_for(ch) for ch in REFUND_CHANNELS}

    def channel_for(idx: np.ndarray) -> np.ndarray:
        m = data.method[idx]
        seen = data.has_refund[idx] & (data.refund_channel[idx] >= 0)
        out = np.where(seen, data.refund_channel[idx], default_channel[m])
        return np.where(method_changed[m], method_channel[m], out)

    def days_for(idx: np.ndarray, chans: np.ndarray, keep_seen: np.ndarray) -> np.ndarray:
        """Business days per refund: the order's own where kept, a fixed policy value, or a draw."""
        u = uniforms(data.key[idx], lat.seed, lat.replicate, STREAM_REFUND)
        k = np.zeros(len(idx), dtype=np.int64)
        for i, ch in enumerate(REFUND_CHANNELS):
            sel = chans == i
            if not sel.any():
                continue
            if fixed_days[ch] is not None:
                k[sel] = fixed_days[ch]
            else:
                k[sel] = calibration.refund_days_for(ch).quantile(u[sel])
                keep = np.flatnonzero(sel & keep_seen)
                k[keep] = np.busday_count(_days(data.refund_init[idx[keep]]), data.refund_done[idx[keep]])
        return k

    # Orders whose cancellation moved (time or state) under this policy get a new refund, or none.
    t_idx = touched[~data.fixed[touched]]
    moved = (cancelled[t_idx] != data.cancelled_obs[t_idx]) | (
        cancelled[t_idx] & (cancel_at[t_idx] != data.cancel_at_obs[t_idx]))
    moved_idx = t_idx[moved]
    gets = cancelled[moved_idx] & data.has_paid[moved_idx] & (data.paid[moved_idx] <= cancel_at[moved_idx])
    new_idx = moved_idx[gets]
    refunded[moved_idx] = gets
    if len(new_idx):
        chans = channel_for(new_idx)
        kept = (data.has_refund[new_idx] & (data.refund_channel[new_idx] == chans)
                & ~np.isnat(data.refund_done[new_idx]) & (data.refund_init[new_idx] != NEVER))
        k = days_for(new_idx, chans, kept)
        channel[new_idx] = chans
        done[new_idx] = np.busday_offset(_days(cancel_at[new_idx]), k, roll="forward")
    # Refunds that stay where they were but change channel or take a fixed time.
    if method_changed.any() or any(v is not None for v in fixed_days.values()):
        stay = np.ones(data.n, dtype=bool)
        stay[moved_idx] = False
        idx = np.flatnonzero(stay & data.has_refund & ~data.fixed & (data.refund_init != NEVER))
        chans = channel_for(idx)
        changed = (chans != data.refund_channel[idx]) | np.isin(
            chans, [i for i, ch in enumerate(REFUND_CHANNELS) if fixed_days[ch] is not None])
        idx, chans = idx[changed], chans[changed]
        if len(idx):
            k = days_for(idx, chans, np.zeros(len(idx), dtype=bool))
            channel[idx] = chans
            done[idx] = np.busday_offset(_days(data.refund_init[idx]), k, roll="forward")

    # The buyer's wait: business days from the request to the money back.
    made = (outcome[r] != CODE["not_made"]) & refunded[r] & ~np.isnat(done[r])
    wait = np.full(len(r), -1, dtype=np.int64)
    if made.any():
        wait[made] = np.busday_count(_days(t[made]), done[r][made])

    # 4. Shipping: what shipped (by the end of the data), by which method, how long in transit.
    shipped = ~cancelled & (ship <= data.data_end)
    ship_method = data.ship_method
    transit = data.transit_days
    default_share = 0.25
    switch = np.zeros(data.n, dtype=bool)
    if policy.premium_shipping_share != default_share and np.isfinite(calibration.premium_share.rate):
        p0, p1 = calibration.premium_share.rate, policy.premium_shipping_share
        u = uniforms(data.key, lat.seed, lat.replicate, STREAM_PREMIUM)
        if p1 > p0:
            switch = (ship_method == 0) & (u < (p1 - p0) / max(1.0 - p0, 1e-12))
        else:
            switch = (ship_method == 1) & (u < (p0 - p1) / max(p0, 1e-12))
        ship_method = np.where(switch, 1 - ship_method, ship_method)
    redraw = shipped & (ship_method >= 0) & (switch | (transit < 0) | (data.shipped == NEVER))
    if redraw.any():
        idx = np.flatnonzero(redraw)
        u = uniforms(data.key[idx], lat.seed, lat.replicate, STREAM_TRANSIT)
        transit = transit.copy()
        for i, m in enumerate(SHIPPING_METHODS):
            sel = ship_method[idx] == i
            transit[idx[sel]] = calibration.transit_days_for(m).quantile(u[sel])
    return Replayed(policy, cancelled, cancel_at, outcome, return_path, dispatch_cancelled, refunded, channel,
                    amount, done, wait, shipped, ship_method, transit)


# --------------------------------------------------------------------------------------------------
# Figures of one replay


def _percentile_from_counts(counts: np.ndarray, q: float) -> float:
    """The q-th percentile (linear interpolation, NumPy's default) of the values 0, 1, 2, ... repeated
    counts[i] times: exact, without expanding the values."""
    n = int(counts.sum())
    if n == 0:
        return float("nan")
    pos = q / 100.0 * (n - 1)
    lo = int(np.floor(pos))
    cum = np.cumsum(counts)
    v_lo = int(np.searchsorted(cum, lo + 1))
    v_hi = int(np.searchsorted(cum, min(lo + 2, n)))
    return v_lo + (pos - lo) * (v_hi - v_lo)


def summarise(data: ReplayData, rep: Replayed) -> dict[str, float]:
    """The outcome figures of one replay, flat: 'requests_accepted', 'refunds_by_channel.wallet',
    'refund_wait_by_payment_method.card.p50', ... (see simulate.OUTCOME_LABELS)."""
    r = data.r_idx
    counts = np.bincount(rep.outcome[r], minlength=len(OUTCOMES)) if len(r) else np.zeros(len(OUTCOMES), int)
    out: dict[str, float] = {
        "orders": float(data.n),
        "cancelled_orders": float(rep.cancelled.sum()),
        "cancelled_gmv": float(data.amount[rep.cancelled].sum()),
        "requests": float(len(r) - counts[CODE["not_made"]] + int((data.outcome_obs[data.fixed] != CODE["none"]).sum())),
    }
    fixed_counts = np.bincount(data.outcome_obs[data.fixed], minlength=len(OUTCOMES))
    for name in OUTCOMES[1:]:
        if name != "not_made":
            out[f"requests_{name}"] = float(counts[CODE[name]] + fixed_counts[CODE[name]])
    out["requests_not_made"] = float(counts[CODE["not_made"]])
    out["return_path_orders"] = float(rep.return_path.sum())
    out["dispatch_cancelled_orders"] = float(rep.dispatch_cancelled.sum())
    refunded = rep.refunded
    ch = rep.refund_channel[refunded]
    amt = rep.refund_amount[refunded]
    out["refunds"] = float(refunded.sum())
    for i, name in enumerate(REFUND_CHANNELS):
        sel = ch == i
        out[f"refunds_by_channel.{name}"] = float(sel.sum())
        out[f"refund_amount_by_channel.{name}"] = float(amt[sel].sum())
    on_platform = (ch == REFUND_CHANNELS.index("wallet")) | (ch == REFUND_CHANNELS.index("coupon"))
    out["refunds_on_platform"] = float(on_platform.sum())
    out["refund_amount_on_platform"] = float(amt[on_platform].sum())

    waits = rep.wait_days
    has = waits >= 0
    w = waits[has]
    top = int(w.max()) + 1 if len(w) else 1
    overall = np.bincount(w, minlength=top)
    out["refunds_after_request"] = float(len(w))
    out["refund_wait_p50_business_days"] = _percentile_from_counts(overall, 50)
    out["refund_wait_p90_business_days"] = _percentile_from_counts(overall, 90)
    methods = data.method[r][has]
    grid = np.bincount(methods.astype(np.int64) * top + w, minlength=len(data.methods) * top).reshape(-1, top) \
        if len(w) else np.zeros((len(data.methods), 1), dtype=np.int64)
    for i, m in enumerate(data.methods):
        out[f"refund_wait_by_payment_method.{m}.p50"] = _percentile_from_counts(grid[i], 50)
        out[f"refund_wait_by_payment_method.{m}.p90"] = _percentile_from_counts(grid[i], 90)

    shipped = rep.shipped & (rep.ship_method >= 0) & (rep.transit_days >= 0)
    out["shipped_orders"] = float(rep.shipped.sum())
    out["premium_orders"] = float((rep.shipped & (rep.ship_method == 1)).sum())
    transit = np.bincount(rep.transit_days[shipped]) if shipped.any() else np.zeros(1, dtype=np.int64)
    out["transit_p50_business_days"] = _percentile_from_counts(transit, 50)
    out["transit_p90_business_days"] = _percentile_from_counts(transit, 90)
    return out


def replay_frame(data: ReplayData, rep: Replayed) -> pl.DataFrame:
    """One row per order of one replay: what happened to it under the policy (for tests and drill-down)."""
    wait = np.full(data.n, -1, dtype=np.int64)
    wait[data.r_idx] = rep.wait_days

    def ts(us: np.ndarray, present: np.ndarray) -> pl.Series:
        return pl.Series(np.where(present, us, 0)).cast(pl.Datetime("us")).zip_with(
            pl.Series(present), pl.Series([None] * len(us), dtype=pl.Datetime("us")))

    channels = np.array([*REFUND_CHANNELS, None], dtype=object)
    return pl.DataFrame({
        "order_id": data.order_id,
        "outcome": pl.Series(np.array(OUTCOMES, dtype=object)[rep.outcome], dtype=pl.Utf8).replace("none", None),
        "cancelled": rep.cancelled,
        "cancelled_at": ts(rep.cancel_at, rep.cancelled & (rep.cancel_at != NEVER)),
        "return_path": rep.return_path,
        "dispatch_cancelled": rep.dispatch_cancelled,
        "refunded": rep.refunded,
        "refund_channel": pl.Series(np.where(rep.refunded, channels[rep.refund_channel], None), dtype=pl.Utf8),
        "refund_completed_on": pl.Series(np.where(rep.refunded, rep.refund_done, np.datetime64("NaT")),
                                         dtype=pl.Date),
        "refund_wait_business_days": pl.Series(wait).replace(-1, None),
        "shipped": rep.shipped,
    })
