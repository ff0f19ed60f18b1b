"""The synthetic generator: orders simulated forward through their life cycle under the baseline policy.

Every order is drawn at once with NumPy (no loop per order) from a `numpy.random.Generator(seed)`, so a
seed always gives the same data set. The rules are the ones analytics/outcomes.py derives outcomes from:
stage at request, the seller's consent inside a 72-hour window with auto-cancel on timeout, the race
between the seller's answer and the parcel leaving, refund routing by payment method. The behaviour
parameters (`GeneratorParams`) are stored with the data set as its true parameters, so the what-if
engine's calibration can be checked against what the data was made with.

Times are worked in whole seconds since the epoch (naive UTC) and turned into timestamps at the end.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from analytics.outcomes import DEFAULT_REFUND_CHANNEL, REASONS, REFUND_CHANNELS, STAGES
from analytics.policy import Policy
from analytics.tally import CODE, figures_of, tally_of

DAY = 86_400
HOUR = 3_600
MINUTE = 60
NEVER_SECONDS = 10**11  # the answer time of a seller who never answers: later than any window


def _default_payment_mix() -> dict[str, float]:
    # Assumption: the guide gives no shares. Card first, then cash on delivery and the wallet, the slow
    # offline methods last, as on a cross-border marketplace.
    return {"card": 0.55, "cod": 0.15, "wallet": 0.12, "bank_transfer": 0.08, "cash": 0.06, "western_union": 0.04}


def _default_reason_weights() -> dict[str, dict[str, float]]:
    # domain.md "Why buyers cancel": the wrong item is the reason most buyers pick. Second thoughts come
    # early (before paying), complaints about delay and silence once the buyer has waited.
    return {
        "before_payment": {"changed_mind": 0.40, "wrong_item": 0.40, "shipping_delay": 0.05,
                           "seller_unresponsive": 0.05, "other": 0.10},
        "awaiting_shipment": {"changed_mind": 0.25, "wrong_item": 0.35, "shipping_delay": 0.20,
                              "seller_unresponsive": 0.12, "other": 0.08},
        "after_shipment": {"changed_mind": 0.20, "wrong_item": 0.30, "shipping_delay": 0.35,
                           "seller_unresponsive": 0.07, "other": 0.08},
    }


@dataclass(frozen=True)
class GeneratorParams:
    """The behaviour and the policy a generated data set is made with (stored as its true parameters)."""

    # --- orders (assumptions: the guide gives no volumes) ---
    start_date: str = "2026-01-05"        # a Monday; orders spread over `weeks` from here
    weeks: int = 26                       # half a year: enough for weekly trends
    amount_median: float = 25.0           # lognormal order value, USD: cheap cross-border goods
    amount_sigma: float = 0.9
    sellers: int = 3_000                  # a few thousand sellers ...
    seller_skew: float = 1.1              # ... with Zipf-like weights: a few big sellers, a long tail
    buyers_per_order: float = 0.6         # distinct buyers per order: some buyers order several times

    # --- payment (domain.md: "payment verification usually takes minutes") ---
    payment_mix: dict = field(default_factory=_default_payment_mix)
    payment_fast_mean_minutes: float = 10.0     # card, wallet, cod: exponential, minutes
    slow_payment_methods: tuple = ("cash", "western_union", "bank_transfer")
    payment_slow_median_hours: float = 20.0     # offline methods take hours (assumption: about a day)
    payment_slow_sigma: float = 0.8

    # --- shipping (domain.md "Dispatch" and transit times) ---
    dispatch_median_days: float = 3.0     # working days paid -> shipped, well inside the 7-day deadline
    dispatch_sigma: float = 0.6
    dispatch_deadline_days: int = 7       # domain.md: drop-shippers get 7 working days (no action when missed)
    premium_shipping_share: float = 0.25  # baseline policy's Standard/Premium mix (model.md)
    standard_transit_days: tuple = (15, 45)   # domain.md: Standard 15-45 working days
    premium_transit_days: tuple = (7, 15)     # domain.md: Premium 7-15 working days

    # --- cancellation requests (assumptions, tuned so the handled share refunded lands near 80%) ---
    request_probability: float = 0.12     # about one order in eight gets a request
    request_median_hours: float = 30.0    # lognormal hours after placing the order
    request_sigma: float = 1.5
    reason_weights: dict = field(default_factory=_default_reason_weights)

    # --- the seller's answer (domain.md: consent needed, 72-hour window, auto-cancel on timeout) ---
    seller_response_hours: float = 72.0   # domain.md: the window in the guide
    response_median_hours: float = 30.0   # lognormal: P(answer inside 72 h) = Phi(ln(72/30)/1.0) ~ 0.81
    response_sigma: float = 1.0
    acceptance_rate: float = 0.75         # 0.75 * 0.81 + 0.19 timeouts ~ 0.80 refunded (domain.md's 80%)
    acceptance_by_reason: dict = field(default_factory=dict)   # reason -> rate, in place of acceptance_rate
    never_answer_share: float = 0.0       # requests whose seller would never answer, however long the window

    # --- refunds (domain.md "Refunds") ---
    refund_channel: dict = field(default_factory=lambda: dict(DEFAULT_REFUND_CHANNEL))
    refund_original_median_days: float = 7.0   # business days to the original method, clipped to 3..20
    refund_original_sigma: float = 0.45        # so that few hit the clip ends (domain.md: 3 to 20 days)
    refund_original_days: tuple = (3, 20)
    refund_wallet_next_day_share: float = 0.5  # wallet credit lands the same or the next business day
    # coupons are issued at once: 0 business days

    def check(self) -> None:
        """Raise ValueError naming the first parameter out of its range."""
        def bad(name: str, why: str) -> None:
            raise ValueError(f"{name}: {why}")

        for name in ("request_probability", "acceptance_rate", "premium_shipping_share",
                     "refund_wallet_next_day_share", "never_answer_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                bad(name, "must be between 0 and 1")
        for reason, rate in self.acceptance_by_reason.items():
            if reason not in REASONS or not 0.0 <= rate <= 1.0:
                bad("acceptance_by_reason", f"{reason!r} needs a reason of {', '.join(REASONS)} and a rate 0..1")
        for name in ("amount_median", "request_median_hours", "response_median_hours", "dispatch_median_days",
                     "seller_response_hours", "payment_fast_mean_minutes", "payment_slow_median_hours",
                     "refund_original_median_days", "buyers_per_order"):
            if not getattr(self, name) > 0:
                bad(name, "must be greater than 0")
        if self.weeks < 1 or self.sellers < 1:
            bad("weeks" if self.weeks < 1 else "sellers", "must be at least 1")
        if not self.payment_mix or any(w < 0 for w in self.payment_mix.values()) or sum(self.payment_mix.values()) <= 0:
            bad("payment_mix", "needs at least one method and non-negative weights")
        for method in self.payment_mix:
            if self.refund_channel.get(method) not in REFUND_CHANNELS:
                bad("refund_channel", f"{method!r} needs one of {', '.join(REFUND_CHANNELS)}")
        for stage in STAGES:
            weights = self.reason_weights.get(stage)
            if not weights or sum(weights.values()) <= 0:
                bad("reason_weights", f"{stage!r} needs positive weights")
        for name in ("standard_transit_days", "premium_transit_days", "refund_original_days"):
            lo, hi = getattr(self, name)
            if not 0 <= lo <= hi:
                bad(name, "must be (low, high) with 0 <= low <= high")


DEFAULT_PARAMS = GeneratorParams()


def _pick(rng: np.random.Generator, weights, n: int) -> np.ndarray:
    """n indices into `weights`, drawn with probability proportional to them."""
    cdf = np.cumsum(np.asarray(weights, dtype=float))
    idx = np.searchsorted(cdf / cdf[-1], rng.random(n), side="right")
    return np.minimum(idx, len(cdf) - 1)


def _lognormal_seconds(rng: np.random.Generator, median_seconds: float, sigma: float, n: int) -> np.ndarray:
    return np.rint(rng.lognormal(np.log(median_seconds), sigma, n)).astype(np.int64)


def _day(seconds: np.ndarray) -> np.ndarray:
    return (seconds // DAY).astype("datetime64[D]")


def _seconds(day: np.ndarray) -> np.ndarray:
    return day.astype(np.int64) * DAY


def _timestamps(seconds: np.ndarray, present: np.ndarray | None = None) -> pl.Series:
    """Naive UTC timestamps (microseconds) from seconds since the epoch; null where not `present`."""
    micros = seconds * 1_000_000
    values = micros if present is None else np.ma.masked_array(micros, mask=~present)
    return pl.Series(values, dtype=pl.Int64).cast(pl.Datetime("us"))


def _labels(codes: np.ndarray, labels, present: np.ndarray | None = None) -> pl.Series:
    """Text labels by index; null where not `present`."""
    out = pl.Series(list(labels), dtype=pl.Utf8).gather(codes)
    if present is not None:
        out = out.zip_with(pl.Series(present), pl.repeat(None, len(out), dtype=pl.Utf8, eager=True))
    return out


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pl.Series:
    """prefix + the number zero-padded to `width` digits (numbers below 10**width)."""
    # 10**width + number, minus its leading 1: the padding without a slower zfill.
    return prefix + (pl.Series(numbers, dtype=pl.Int64) + 10**width).cast(pl.Utf8).str.slice(1)


def generate_frame(n_orders: int, seed: int, params: GeneratorParams = DEFAULT_PARAMS, policy: Policy | None = None,
                   truth: dict | None = None) -> pl.DataFrame:
    """One row per order in the canonical export's columns (analytics.ingest.CANONICAL_FIELDS), typed:
    timestamps naive UTC Datetime, amount and refund_amount Float64, the rest Utf8. Same seed, same frame.

    `policy`: the orders live under that policy (the engine's rules: consent, window and timeout action,
    dispatch deadline with auto-cancel, refund channels and fixed refund times, Premium share) instead
    of the baseline of `params`. The same seed under two policies gives the same orders, buyers and
    sellers behaving alike: what they would have done under each. `truth`, a dict, receives the
    figures the what-if engine reports (tally.figures_of's names), counted from what truly happened."""
    if n_orders < 0:
        raise ValueError("n_orders must be 0 or more")
    params.check()
    p, n = params, int(n_orders)
    rng = np.random.default_rng(seed)
    # Every draw is made for every order, in a fixed order, so a parameter change moves outcomes but
    # never reshuffles the random stream behind the other columns.

    # 1. The order: when, how much, who.
    start = np.datetime64(p.start_date, "s").astype(np.int64)
    placed = start + np.sort(rng.integers(0, p.weeks * 7 * DAY, n))
    amount = np.maximum(np.round(rng.lognormal(np.log(p.amount_median), p.amount_sigma, n), 2), 0.01)
    seller = _pick(rng, 1.0 / np.arange(1, p.sellers + 1) ** p.seller_skew, n) + 1
    buyer = rng.integers(1, max(1, round(n * p.buyers_per_order)) + 1, n)

    # 2. Payment: minutes online, hours for offline methods.
    methods = tuple(p.payment_mix)
    method = _pick(rng, [p.payment_mix[m] for m in methods], n)
    slow = np.isin(method, [i for i, m in enumerate(methods) if m in p.slow_payment_methods])
    fast_delay = np.rint(rng.exponential(p.payment_fast_mean_minutes * MINUTE, n)).astype(np.int64)
    slow_delay = _lognormal_seconds(rng, p.payment_slow_median_hours * HOUR, p.payment_slow_sigma, n)
    paid = placed + np.where(slow, slow_delay, fast_delay)
    del slow, fast_delay, slow_delay  # 10M orders: each transient array is 80 MB

    # 3. Would-be shipping: a whole number (>= 1) of working days after the payment day, in working
    # hours, so it is always after the payment; then transit in working days.
    dispatch_days = np.maximum(1, np.rint(rng.lognormal(np.log(p.dispatch_median_days), p.dispatch_sigma, n)))
    ship_day = np.busday_offset(_day(paid), dispatch_days.astype(np.int64), roll="forward")
    shipped = _seconds(ship_day) + rng.integers(8 * HOUR, 18 * HOUR, n)
    share = p.premium_shipping_share
    if policy is not None and policy.premium_shipping_share is not None:
        share = policy.premium_shipping_share
    premium = rng.random(n) < share
    u_transit = rng.random(n)
    lo = np.where(premium, p.premium_transit_days[0], p.standard_transit_days[0])
    hi = np.where(premium, p.premium_transit_days[1], p.standard_transit_days[1])
    transit_days = lo + np.minimum(np.floor(u_transit * (hi - lo + 1)), hi - lo).astype(np.int64)
    delivered_day = np.busday_offset(ship_day, transit_days, roll="forward")
    delivered = _seconds(delivered_day) + rng.integers(8 * HOUR, 20 * HOUR, n)
    del dispatch_days, ship_day, u_transit, lo, hi, transit_days, delivered_day

    # 4. The buyer's request and the seller's answer.
    has_request = rng.random(n) < p.request_probability
    requested = placed + _lognormal_seconds(rng, p.request_median_hours * HOUR, p.request_sigma, n)
    # A buyer whose parcel has arrived starts a return, not a cancellation request: the lognormal's
    # long tail would otherwise put requests months after delivery.
    has_request &= requested < delivered
    response = _lognormal_seconds(rng, p.response_median_hours * HOUR, p.response_sigma, n)
    u_accept = rng.random(n)
    u_reason = rng.random(n)
    # Draws the baseline data never needed come from a stream of their own, so adding them moved no
    # earlier data set: which sellers never answer.
    extra = np.random.default_rng([int(seed), 0xBE4A])
    never = extra.random(n) < p.never_answer_share
    response = np.where(never, NEVER_SECONDS, response)
    window = int(round((p.seller_response_hours if policy is None else policy.seller_response_hours) * HOUR))
    consent = True if policy is None else policy.seller_consent_required
    lapse = policy is not None and policy.timeout_action == "lapse"

    # The reason: the stage's cumulative weights searched with the order's uniform, stage by stage.
    # Stage at the request (outcomes.py): unpaid -> before_payment; shipped -> after_shipment.
    before = has_request & (requested < paid)
    after = has_request & ~before & (shipped <= requested)
    awaiting = has_request & ~before & ~after
    reason = np.zeros(n, dtype=np.int64)
    for code, mask in enumerate((before, awaiting, after)):
        cdf = np.cumsum([p.reason_weights[STAGES[code]].get(r, 0.0) for r in REASONS])
        reason[mask] = np.searchsorted(cdf / cdf[-1], u_reason[mask], side="right")
    reason = np.minimum(reason, len(REASONS) - 1)
    rate = np.array([p.acceptance_by_reason.get(r, p.acceptance_rate) for r in REASONS])[reason]

    answered_at = requested + response
    if consent:
        # The parcel leaves before the answer (or the window's end) comes: the buyer goes the return way.
        raced = awaiting & (shipped < requested + np.minimum(response, window))
        in_window = awaiting & ~raced & (response <= window)
        accepted = in_window & (u_accept < rate)
        rejected = in_window & ~accepted
        timeout = awaiting & ~raced & (response > window)
        resolved = np.where(raced, shipped, requested + np.minimum(response, window))
    else:
        raced = in_window = accepted = rejected = timeout = np.zeros(n, dtype=bool)
        resolved = requested
    without_consent = awaiting if not consent else np.zeros(n, dtype=bool)
    auto = timeout if not lapse else np.zeros(n, dtype=bool)
    cancelled = before | accepted | auto | without_consent
    cancelled_at = np.where(before | without_consent, requested,
                            np.where(accepted, answered_at, requested + window))
    outcome = np.select(
        [before, after | raced, accepted, rejected, auto, timeout, without_consent],
        [CODE["buyer_cancelled"], CODE["not_cancellable"], CODE["accepted"], CODE["rejected"],
         CODE["auto_cancelled"], CODE["lapsed"], CODE["cancelled_without_consent"]],
        CODE["none"]).astype(np.int8)
    made = has_request.copy()

    # The dispatch deadline (a policy's): an order paid and not shipped by the end of the D-th working
    # day after its payment day is cancelled then, unless cancelled before; a request after that is
    # never made, one still pending then is cut short.
    dispatch_cut = np.zeros(n, dtype=bool)
    if policy is not None and policy.late_dispatch_action == "auto_cancel":
        due = np.busday_offset(_day(paid), policy.dispatch_deadline_days, roll="forward")
        deadline = _seconds(due) + DAY
        dispatch_cut = ~before & (shipped >= deadline) & ~(cancelled & (cancelled_at <= deadline))
        not_made = dispatch_cut & has_request & (requested >= deadline)
        pending = dispatch_cut & has_request & ~not_made & (resolved > deadline)
        outcome = np.where(not_made, CODE["not_made"], np.where(pending, CODE["dispatch_cancelled"], outcome))
        outcome = outcome.astype(np.int8)
        made &= ~not_made
        accepted, rejected, in_window = accepted & ~pending, rejected & ~pending, in_window & ~pending
        cancelled = cancelled | dispatch_cut
        cancelled_at = np.where(dispatch_cut, deadline, cancelled_at)
        raced = raced & ~dispatch_cut
    response_label = np.where(accepted, 0, np.where(rejected, 1, 2))  # accepted / rejected / none

    # 5. Refunds: channel by payment method; whole business days from the start, same time of day.
    def channel_of(m: str) -> str:
        if policy is not None and policy.channel_changed(m):
            return policy.channel_for(m)
        return p.refund_channel[m]

    channel = np.array([REFUND_CHANNELS.index(channel_of(m)) for m in methods])[method]
    original_days = np.clip(
        np.rint(rng.lognormal(np.log(p.refund_original_median_days), p.refund_original_sigma, n)),
        *p.refund_original_days,
    ).astype(np.int64)
    wallet_days = (rng.random(n) < p.refund_wallet_next_day_share).astype(np.int64)
    refund_days = np.select([channel == 0, channel == 1], [original_days, wallet_days], 0)
    if policy is not None:
        for i, ch in enumerate(REFUND_CHANNELS):
            if policy.refund_days_for(ch) is not None:
                refund_days = np.where(channel == i, policy.refund_days_for(ch), refund_days)
    refunded = cancelled & ~before  # every cancelled, paid order
    completed_day = np.busday_offset(_day(cancelled_at), refund_days, roll="forward")
    refund_completed = _seconds(completed_day) + cancelled_at % DAY

    goes_on = ~cancelled
    if truth is not None:
        truth.update(_truth(
            n, methods, amount=amount, method=method, premium=premium, shipped=shipped, delivered=delivered,
            cancelled=cancelled, outcome=outcome, raced=raced, dispatch_cut=dispatch_cut, refunded=refunded,
            channel=channel, made=made, requested=requested, completed_day=completed_day,
            ends=[placed, paid, shipped, delivered, cancelled_at, requested, answered_at, refund_completed],
            present=[None, ~before, goes_on, goes_on, cancelled, made, in_window, refunded]))
    width = max(7, len(str(n)), len(str(int(buyer.max(initial=0)))))
    return pl.DataFrame({
        "order_id": _ids("O", np.arange(1, n + 1), width),
        "placed_at": _timestamps(placed),
        "payment_method": _labels(method, methods),
        "amount": pl.Series(amount, dtype=pl.Float64),
        "currency": pl.repeat("USD", n, dtype=pl.Utf8, eager=True),
        "buyer_id": _ids("B", buyer, width),
        "seller_id": _ids("S", seller, max(5, len(str(p.sellers)))),
        "shipping_method": _labels(premium.astype(np.int64), ("standard", "premium")),
        "paid_at": _timestamps(paid, ~before),
        "shipped_at": _timestamps(shipped, goes_on),
        "delivered_at": _timestamps(delivered, goes_on),
        "status": _labels(cancelled.astype(np.int64), ("delivered", "cancelled")),
        "cancel_requested_at": _timestamps(requested, made),
        "cancel_reason": _labels(reason, REASONS, made),
        "seller_response": _labels(response_label, ("accepted", "rejected", "none"), awaiting & made & bool(consent)),
        "seller_responded_at": _timestamps(answered_at, in_window),
        "cancelled_at": _timestamps(cancelled_at, cancelled),
        "refund_channel": _labels(channel, REFUND_CHANNELS, refunded),
        "refund_amount": pl.Series(np.where(refunded, amount, np.nan), dtype=pl.Float64).fill_nan(None),
        "refund_initiated_at": _timestamps(cancelled_at, refunded),
        "refund_completed_at": _timestamps(refund_completed, refunded),
    })


def _truth(n: int, methods: tuple[str, ...], *, amount, method, premium, shipped, delivered, cancelled, outcome,
           raced, dispatch_cut, refunded, channel, made, requested, completed_day, ends, present) -> dict[str, float]:
    """The engine's figures of orders as they truly lived, by the replay's own tally and finaliser."""
    all_methods = tuple(sorted(set(methods) | set(DEFAULT_REFUND_CHANNEL)))
    wait_method = np.array([all_methods.index(m) for m in methods], dtype=np.int64)[method]
    data_end = max(int(v.max()) if mask is None else int(v[mask].max(initial=0)) for v, mask in zip(ends, present, strict=True))
    wait = np.full(n, -1, dtype=np.int64)
    sel = made & refunded
    wait[sel] = np.busday_count(_day(requested[sel]), completed_day[sel])
    tally = tally_of(
        len(all_methods), cancelled=cancelled, amount=amount, outcome=outcome, return_path=raced & ~cancelled,
        dispatch=dispatch_cut, refunded=refunded, channel=channel, refund_amount=amount, wait_method=wait_method,
        wait_days=wait, shipped=~cancelled & (shipped <= data_end), ship_method=premium.astype(np.int8),
        transit=np.busday_count(_day(shipped), _day(delivered)),
    )
    return figures_of(tally, n, all_methods)


def generate(con, n_orders: int, seed: int, name: str | None = None, params: GeneratorParams = DEFAULT_PARAMS,
             is_demo: bool = False, progress=None, policy: Policy | None = None):
    """Generate `n_orders` orders and store them as a new data set through the import's checks.
    Returns the store's ImportResult (data set, stored, refused, refused_by_reason). `progress`, if
    given, is called as progress(fraction, text) as for an import."""
    from analytics.ingest import store_frame  # the storage layer imports nothing from here

    if progress:
        progress(0.0, "simulating orders")
    frame = generate_frame(n_orders, seed, params, policy)
    if progress:
        progress(0.4, "staging rows")
    values = dataclasses.asdict(params)
    return store_frame(
        con,
        frame,
        name=name or f"Generated {n_orders:,} orders (seed {seed})",
        source_kind="generated",
        source={"orders": int(n_orders), "seed": int(seed), "params": values,
                **({"policy": policy.changes()} if policy is not None else {})},
        true_params=values,
        is_demo=is_demo,
        progress=progress,
    )
