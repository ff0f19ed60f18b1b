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

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from analytics.calibrate import Calibration
from analytics.distributions import Lognormal, fit_lognormal_cure
from analytics.draws import (
    STREAM_ACCEPT,
    STREAM_NEVER,
    STREAM_PREMIUM,
    STREAM_REFUND,
    STREAM_RESPONSE,
    STREAM_SHIP,
    STREAM_SHIP_TOD,
    STREAM_TRANSIT,
    bootstrap_weights,
    uniforms,
)
from analytics.orders import US_PER_HOUR
from analytics.outcomes import REFUND_CHANNELS, SHIPPING_METHODS
from analytics.policy import Policy
from analytics.replay_data import (
    NEVER,
    NEVER_ANSWER_HOURS,
    STAGE_CODES,
    US_PER_DAY,
    ReplayData,
    Resample,
    View,
    _days,
    _hours_to_us,
    _observed_wait,
    figures,
    observed_tally,
)
from analytics.tally import CODE, OUTCOMES, Tally, tallies_of

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
    if data.whole is not None:
        return answering_sellers(data.whole, share)
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


@dataclass(eq=False)
class _Orders:
    """The replayed orders' state (arrays in view.idx order), changed in place by each rule in turn."""

    cancelled: np.ndarray
    cancel_at: np.ndarray
    outcome: np.ndarray
    return_path: np.ndarray
    ship: np.ndarray                 # ship time, drawn where the data cannot show it
    resolved: np.ndarray | None = None   # per request: when it stopped being pending (set by _requests)
    dispatch: np.ndarray | None = None   # cancelled by the dispatch deadline (set by _dispatch_deadline)


def replay(data: ReplayData, calibration: Calibration, policy: Policy, lat: Latent,
           all_orders: bool = False) -> Replayed:
    """Apply `policy` to every order, with this replicate's draws: the rules in the order they bite
    (requests, the dispatch deadline, refunds, shipping).

    Only the orders the policy can change are recomputed; `all_orders` recomputes every replayable
    order instead (the same figures, slower: a check on that shortcut)."""
    premium = _premium_target(policy, calibration)
    view = _view(data, policy, premium, lat) if not all_orders else _everything(data)
    idx = view.idx
    ship = data.shipped[idx]
    ship[view.s_pos] = lat.ship
    st = _Orders(data.cancelled_obs[idx], data.cancel_at_obs[idx], data.outcome_obs[idx], data.return_path_obs[idx],
                 ship)
    _requests(data, policy, lat, view, st)
    _dispatch_deadline(data, policy, view, st)
    refunded, channel, done = _refunds(data, calibration, policy, lat, view, st)
    wait = _buyers_wait(data, view, st, refunded, done)
    shipped, ship_method, transit = _shipping(data, calibration, premium, lat, view, st)
    return Replayed(policy, view, st.cancelled, st.cancel_at, st.outcome, st.return_path, st.dispatch, refunded,
                    channel, done, wait, shipped, ship_method, transit)


def window_us(policy: Policy) -> np.int64:
    """The seller's response window in microseconds, as the request rule counts it."""
    return np.int64(round(policy.seller_response_hours * US_PER_HOUR))


def _requests(data: ReplayData, policy: Policy, lat: Latent, view: View, st: _Orders) -> None:
    """Stage at request, consent, window, timeout action, the race with the parcel."""
    rp, t, stage = view.r_pos, data.r_time, data.r_stage
    o = np.where(stage == 0, CODE["buyer_cancelled"], CODE["not_cancellable"]).astype(np.int8)
    c = st.cancelled[rp]
    ca = st.cancel_at[rp]
    rpath = np.zeros(len(rp), dtype=bool)
    st.resolved = t.copy()
    aw = stage == STAGE_CODES["awaiting_shipment"]
    if not policy.seller_consent_required:
        o[aw] = CODE["cancelled_without_consent"]
        c[aw] = True
        ca[aw] = t[aw]
    else:
        window = window_us(policy)
        response = lat.response
        if policy.never_answer_share > 0 and len(lat.unseen):
            response = _with_never_answers(data, policy.never_answer_share, lat)
        ends = t + np.minimum(response, window)
        race = aw & (st.ship[rp] < ends)          # the parcel left before the answer or the window's end
        answered = aw & ~race & (response <= window)
        timeout = aw & ~race & (response > window)
        accepted = answered & lat.accept
        rejected = answered & ~lat.accept
        st.resolved = np.where(aw, ends, t)
        o[race], rpath[race], c[race] = CODE["not_cancellable"], True, False
        o[accepted], c[accepted], ca[accepted] = CODE["accepted"], True, (t + response)[accepted]
        o[rejected], c[rejected] = CODE["rejected"], False
        if policy.timeout_action == "auto_cancel":
            o[timeout], c[timeout], ca[timeout] = CODE["auto_cancelled"], True, t[timeout] + window
        else:
            o[timeout], c[timeout] = CODE["lapsed"], False
    st.outcome[rp], st.cancelled[rp], st.cancel_at[rp], st.return_path[rp] = o, c, np.where(c, ca, NEVER), rpath


def _dispatch_deadline(data: ReplayData, policy: Policy, view: View, st: _Orders) -> None:
    """Not shipped by the end of the D-th working day after the payment day: cancelled, with auto-cancel."""
    idx, rp, t = view.idx, view.r_pos, data.r_time
    st.dispatch = np.zeros(len(idx), dtype=bool)
    if policy.late_dispatch_action != "auto_cancel":
        return
    cand = np.flatnonzero(data.has_paid[idx])
    due = np.busday_offset(data.paid_day[idx[cand]], policy.dispatch_deadline_days, roll="forward")
    deadline = (due.astype(np.int64) + 1) * US_PER_DAY
    late = st.ship[cand] >= deadline
    first = st.cancelled[cand] & (st.cancel_at[cand] <= deadline)   # cancelled anyway, before the deadline
    hit_mask = late & ~first
    hit, at = cand[hit_mask], deadline[hit_mask]
    st.cancelled[hit], st.cancel_at[hit], st.dispatch[hit], st.return_path[hit] = True, at, True, False
    # A request of such an order: never made if it came after, cut short if still pending then.
    hit_at = np.full(len(idx), NEVER)
    hit_at[hit] = at
    d_r = hit_at[rp]
    h = d_r != NEVER
    o = st.outcome[rp]
    st.outcome[rp[h]] = np.where(t[h] >= d_r[h], CODE["not_made"],
                                 np.where(st.resolved[h] > d_r[h], CODE["dispatch_cancelled"], o[h]))


def _refunds(data: ReplayData, calibration: Calibration, policy: Policy, lat: Latent, view: View,
             st: _Orders) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every cancelled, paid order is refunded; the channel by payment method; its time in business days.
    Returns (refunded, channel, completion day) per replayed order."""
    idx = view.idx
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
    moved = np.flatnonzero((st.cancelled != data.cancelled_obs[idx])
                           | (st.cancelled & (st.cancel_at != data.cancel_at_obs[idx])))
    gets = st.cancelled[moved] & data.has_paid[idx[moved]] & (data.paid[idx[moved]] <= st.cancel_at[moved])
    refunded[moved] = gets
    new = moved[gets]
    if len(new):
        orders = idx[new]
        chans = channel_for(orders)
        kept = (data.has_refund[orders] & (data.refund_channel[orders] == chans)
                & ~np.isnat(data.refund_done[orders]) & (data.refund_init[orders] != NEVER))
        channel[new] = chans
        done[new] = np.busday_offset(_days(st.cancel_at[new]), days_for(orders, chans, kept), roll="forward")
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
    return refunded, channel, done


def _buyers_wait(data: ReplayData, view: View, st: _Orders, refunded: np.ndarray, done: np.ndarray) -> np.ndarray:
    """Per request: business days from the request to the money back, -1 where no refund followed."""
    rp, t = view.r_pos, data.r_time
    made = (st.outcome[rp] != CODE["not_made"]) & refunded[rp] & ~np.isnat(done[rp])
    wait = np.full(len(rp), -1, dtype=np.int64)
    if made.any():
        wait[made] = np.busday_count(_days(t[made]), done[rp][made])
    return wait


def _shipping(data: ReplayData, calibration: Calibration, premium: tuple[float, float] | None, lat: Latent,
              view: View, st: _Orders) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What shipped by the end of the data, by which method, how long in transit."""
    idx = view.idx
    shipped = ~st.cancelled & (st.ship <= data.data_end)
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
    return shipped, ship_method, transit


def _tallies(data: ReplayData, rep: Replayed, boot: Resample | None) -> list[Tally]:
    """The replay's tally over every order (the replayed ones plus the rest as observed), and with `boot`
    a second one where every order counts its bootstrap weight of that replicate."""
    return [a + b for a, b in zip(tallies_in(data, rep, boot)[0], _rests(data, rep, boot), strict=True)]


def tallies_in(data: ReplayData, rep: Replayed, boot: Resample | None,
               selections: list[np.ndarray | None] | None = None) -> list[list[Tally]]:
    """_tallies' of some of the replayed orders alone (no order the replay left as observed), for each
    selection (positions or a mask in the view's idx; None: every replayed order)."""
    columns = tally_columns(data, rep, boot)
    return [tallies_chosen(len(data.methods), columns, keep) for keep in selections or [None]]


TallyColumns = tuple[dict[str, np.ndarray], tuple[np.ndarray | None, ...]]   # (tallies_of's columns, weightings)


def tally_columns(data: ReplayData, rep: Replayed, boot: Resample | None) -> TallyColumns:
    """What tallies_of reads of each order the replay recomputed (in the view's order), and the weightings:
    each order once, and with `boot` its bootstrap weight."""
    idx = rep.view.idx
    wait_days = np.full(len(idx), -1, dtype=np.int64)
    wait_days[rep.view.r_pos] = rep.wait_days
    if boot is None:
        weightings = (None,)
    elif rep.view is data.small and boot.small is not None:
        weightings = (None, boot.small)
    else:
        weightings = (None, bootstrap_weights(data.key[idx], boot.seed, boot.replicate))
    columns = dict(
        cancelled=rep.cancelled, amount=data.amount[idx], outcome=rep.outcome,
        return_path=rep.return_path, dispatch=rep.dispatch_cancelled, refunded=rep.refunded,
        channel=rep.refund_channel, refund_amount=data.refund_amount[idx], wait_method=data.method[idx],
        wait_days=wait_days, shipped=rep.shipped, ship_method=rep.ship_method, transit=rep.transit_days,
    )
    return columns, weightings


def chosen_columns(columns: TallyColumns, keep: np.ndarray) -> TallyColumns:
    """The columns of the orders at `keep` (positions or a mask)."""
    return {name: values[keep] for name, values in columns[0].items()}, tuple(
        None if w is None else w[keep] for w in columns[1])


def tallies_chosen(n_methods: int, columns: TallyColumns, keep: np.ndarray | None = None) -> list[Tally]:
    """The tallies (one per weighting) of the orders at `keep` of tally_columns' columns (None: all)."""
    chosen, weightings = columns if keep is None else chosen_columns(columns, keep)
    return tallies_of(n_methods, **chosen, weightings=weightings)


def _rests(data: ReplayData, rep: Replayed, boot: Resample | None) -> list[Tally]:
    """The tallies of the orders the replay left as observed: as they are, and weighted by `boot`."""
    out = [rep.view.rest]
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
    return [*out, rest]


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
    return figures_both(data, _tallies(data, rep, boot), boot)


def figures_both(data: ReplayData, tallies: list[Tally], boot: Resample | None) -> tuple[dict[str, float], ...]:
    """The figures of _tallies' tallies over every order: these orders', then (with `boot`) the resampled
    period's, scaled to as many orders as the data set has."""
    first = figures(data, tallies[0])
    if boot is None:
        return (first,)
    return first, figures(data, tallies[1], data.n / boot.total if boot.total > 0 else 1.0)


# --------------------------------------------------------------------------------------------------
# A part of the orders replayed alone

# The parameters only the request rule reads (_requests): two policies that differ in these alone replay
# every order without a request made awaiting shipment alike.
REQUEST_RULE = ("seller_consent_required", "seller_response_hours", "timeout_action", "never_answer_share")

_PER_ORDER = ("key", "amount", "method", "ship_method", "paid", "paid_day", "has_paid", "shipped", "transit_days",
              "fixed", "cancelled_obs", "cancel_at_obs", "outcome_obs", "return_path_obs", "has_refund",
              "refund_channel", "refund_amount", "refund_init", "refund_done", "request_day")
_PER_REQUEST = ("r_time", "r_stage", "r_reason", "r_answered", "r_response", "r_lower_hours", "r_accepted")
_PER_SHIP = ("s_lower_hours", "s_lower_days")
_CUT_ELSEWHERE = ("order_id", "r_idx", "s_idx", "small", "quiet", "quiet_workdays", "views", "whole")
_WHOLE = ("methods", "method_orders", "method_channel", "method_refunds", "reasons", "data_end")


def request_free(policy: Policy) -> Policy:
    """`policy` with the request rule's parameters as the baseline's: it replays every order outside
    awaiting_orders(data) exactly as `policy` does."""
    base = Policy()
    return dataclasses.replace(policy, **{name: getattr(base, name) for name in REQUEST_RULE})


def awaiting_orders(data: ReplayData) -> np.ndarray:
    """The orders with a replayable request made awaiting shipment (sorted): the only orders the request
    rule's parameters change."""
    return data.r_idx[data.r_stage == STAGE_CODES["awaiting_shipment"]]


_BASE_WINDOW = window_us(Policy())


def settled_within(policy: Policy) -> np.int64 | None:
    """The window (microseconds) within which the policy settles a request as its request-free twin does:
    the shorter of its window and the baseline's, when it asks for consent and every seller answers in
    the end (else None: its requests are not settled alike)."""
    if not policy.seller_consent_required or policy.never_answer_share > 0:
        return None
    return min(window_us(policy), _BASE_WINDOW)


def settled(data: ReplayData, lat: Latent, within: np.int64) -> np.ndarray:
    """Per request: settled alike by every window of at least `within` microseconds (with consent, and
    the replicate's answer times): a request made awaiting shipment that the seller answered within it, or
    whose parcel left before the answer and before it ends. Its order comes out the same under every
    policy that differs from another in such a window and the timeout action alone: the answer (or the
    race) is the same, and so is all that follows from it."""
    ship = data.shipped.copy()
    ship[data.s_idx] = lat.ship
    response = lat.response
    return (data.r_stage == STAGE_CODES["awaiting_shipment"]) & (
        (response <= within) | (ship[data.r_idx] < data.r_time + np.minimum(response, within)))


@dataclass(frozen=True, eq=False)
class Part:
    """Some orders of a data set replayed alone. Each comes out as in a replay of every order (every draw
    is keyed by the order, every fit is the whole's), so their tally and the other orders' add up to the
    whole's. data: their ReplayData (its small view is all of them; its rest tallies nothing);
    requests / ships: where their requests and drawn ship times sit in the whole's arrays."""

    data: ReplayData
    requests: np.ndarray
    ships: np.ndarray
    cut_from: int   # requests in the data cut from (the whole, or a part of it)

    def latent(self, lat: Latent) -> Latent:
        """The draws of a replicate of the data this part was cut from, cut to these orders."""
        mine = np.zeros(self.cut_from, dtype=bool)
        mine[self.requests] = True
        kept = mine[lat.unseen]
        return Latent(lat.seed, lat.replicate, lat.ship[self.ships], lat.response[self.requests],
                      lat.accept[self.requests], np.searchsorted(self.requests, lat.unseen[kept]), lat.never_u[kept])

    def resample(self, seed: int, replicate: int) -> Resample:
        """A bootstrap replicate of these orders alone (no other order to weigh; the whole's total weight
        scales the figures)."""
        return Resample(seed, replicate, self.data.small.rest, 0.0,
                        small=bootstrap_weights(self.data.key, seed, replicate))


def part(data: ReplayData, orders: np.ndarray) -> Part:
    """The part of `data` (a whole data set, or a part of one) made of `orders` (positions in it, sorted,
    of orders the replay recomputes: none kept as observed)."""
    orders = np.asarray(orders, dtype=np.int64)
    if data.fixed[orders].any() or (np.diff(orders) <= 0).any():
        raise ValueError("a part is cut from sorted orders that the replay recomputes")
    mine = np.zeros(data.n, dtype=bool)
    mine[orders] = True
    requests, ships = np.flatnonzero(mine[data.r_idx]), np.flatnonzero(mine[data.s_idx])
    cut = {name: getattr(data, name)[orders] for name in _PER_ORDER}
    cut |= {name: getattr(data, name)[requests] for name in _PER_REQUEST}
    cut |= {name: getattr(data, name)[ships] for name in _PER_SHIP}
    r_idx, s_idx = np.searchsorted(orders, data.r_idx[requests]), np.searchsorted(orders, data.s_idx[ships])
    empty = orders[:0]
    small = View(np.arange(len(orders)), r_idx, s_idx, observed_tally(data, empty))
    # No order ids: a part is tallied, never listed, and cutting it stays NumPy only (a forked worker
    # cuts parts; Polars' thread pool does not survive a fork).
    cut_data = dataclasses.replace(data, **cut, order_id=None, r_idx=r_idx, s_idx=s_idx,
                                   small=small, quiet=empty, quiet_workdays=empty, views={},
                                   whole=data if data.whole is None else data.whole)
    return Part(cut_data, requests, ships, len(data.r_idx))


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
