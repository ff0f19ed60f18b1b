"""Known answers: a few hand-made orders replayed under each rule, worked out by hand.

The calibration is hand-made too, with one-value refund and transit distributions, so that every drawn
figure these tests read is known."""

import math
from datetime import date, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from analytics.calibrate import Calibration, Rate
from analytics.distributions import Empirical, Lognormal, Survival
from analytics.policy import Policy, PolicyError
from analytics.replay import latent
from analytics.replay_data import prepare
from analytics.simulate import (
    observed_premium_share,
    policy_parameters,
    prepare_frame,
    replay_orders,
    self_check,
    simulate,
    sweep,
)

T0 = datetime(2026, 3, 2, 9, 0)  # a Monday
H = timedelta(hours=1)


def _order(order_id, method="card", ship="standard", paid=T0 + timedelta(minutes=10), **kw):
    row = {"order_id": order_id, "placed_at": T0, "payment_method": method, "amount": 10.0,
           "shipping_method": ship, "paid_at": paid}
    row.update(kw)
    return row


def _bd(start: datetime, days: int) -> datetime:
    """`days` business days after start's day, at the same time of day (how refunds complete)."""
    day = np.busday_offset(np.datetime64(start.date()), days, roll="forward").astype(date)
    return datetime.combine(day, start.time())


def _refund(channel, at, days, amount=10.0):
    return {"refund_channel": channel, "refund_amount": amount, "refund_initiated_at": at,
            "refund_completed_at": _bd(at, days)}


def _orders() -> pl.DataFrame:
    req = T0 + H
    rows = [
        # A: the seller accepted after 48 hours; cancelled then; refunded to the card in 5 business days.
        _order("A", requested_at=req, reason="wrong_item", seller_response="accepted", responded_at=req + 48 * H,
               cancelled_at=req + 48 * H, **_refund("original", req + 48 * H, 5)),
        # B: rejected after 30 hours; shipped at 100 hours.
        _order("B", requested_at=req, reason="changed_mind", seller_response="rejected", responded_at=req + 30 * H,
               shipped_at=T0 + 100 * H, delivered_at=T0 + 40 * 24 * H),
        # C: no answer in 72 hours: auto-cancelled at the window's end (paid by wallet: refund to the original).
        _order("C", method="wallet", requested_at=req, reason="shipping_delay", seller_response="none",
               cancelled_at=req + 72 * H, **_refund("original", req + 72 * H, 5)),
        # D: the parcel left 20 hours after the request, before any answer: the return way (paid in cash).
        _order("D", method="cash", requested_at=req, reason="wrong_item", seller_response="none",
               shipped_at=req + 20 * H, delivered_at=T0 + 30 * 24 * H),
        # E: asked before paying: cancelled freely, never paid.
        _order("E", paid=None, requested_at=T0 + timedelta(minutes=5), reason="changed_mind",
               cancelled_at=T0 + timedelta(minutes=5)),
        # F: asked after shipment: not cancellable.
        _order("F", shipped_at=T0 + 30 * H, requested_at=T0 + 50 * H, reason="other",
               delivered_at=T0 + 30 * 24 * H),
        # G: no request, shipped after 40 hours.
        _order("G", shipped_at=T0 + 40 * H, delivered_at=T0 + 30 * 24 * H),
        # H: no request, shipped 10 working days after the payment day (late for a 7-day deadline).
        _order("H", shipped_at=datetime(2026, 3, 16, 12), delivered_at=datetime(2026, 4, 20, 12)),
        # I: late too; its buyer asked after the 7-day deadline had passed; the seller refused.
        _order("I", shipped_at=datetime(2026, 3, 16, 12), delivered_at=datetime(2026, 4, 20, 12),
               requested_at=datetime(2026, 3, 13, 10), reason="shipping_delay", seller_response="rejected",
               responded_at=datetime(2026, 3, 13, 12)),
    ]
    schema = {"order_id": pl.Utf8, "placed_at": pl.Datetime("us"), "payment_method": pl.Utf8, "amount": pl.Float64,
              "shipping_method": pl.Utf8, "paid_at": pl.Datetime("us"), "shipped_at": pl.Datetime("us"),
              "delivered_at": pl.Datetime("us"), "cancelled_at": pl.Datetime("us"), "requested_at": pl.Datetime("us"),
              "reason": pl.Utf8, "seller_response": pl.Utf8, "responded_at": pl.Datetime("us"),
              "refund_channel": pl.Utf8, "refund_amount": pl.Float64, "refund_initiated_at": pl.Datetime("us"),
              "refund_completed_at": pl.Datetime("us")}
    return pl.DataFrame(rows, schema=schema)


def _calibration() -> Calibration:
    return Calibration(
        response=Lognormal(math.log(30.0), 1.0, 100, 20),
        acceptance=Rate(0.75, 100),
        acceptance_by_reason=(),
        dispatch=Survival(tuple(np.linspace(0.0, 1.0, 11)), tuple(np.linspace(24.0, 264.0, 11)),
                          Lognormal(math.log(100.0), 0.5, 10, 0), 10, 0),
        refund_days=(("original", Empirical((5,), (1,))), ("wallet", Empirical((1,), (1,))),
                     ("coupon", Empirical((0,), (1,)))),
        transit_days=(("standard", Empirical((20,), (1,))), ("premium", Empirical((10,), (1,)))),
        premium_share=Rate(0.25, 8),
        observed_window_hours=Rate(72.0, 1),
        data_end_us=0,
    )


@pytest.fixture(scope="module")
def prep():
    return prepare_frame(_orders(), calibration=_calibration())


def _run(prep, **settings) -> dict[str, dict]:
    frame = replay_orders(prep, Policy().with_values(settings))
    return {row["order_id"]: row for row in frame.iter_rows(named=True)}


def test_the_baseline_gives_back_every_order_as_observed(prep):
    check = self_check(prep)
    assert check["passed"], check
    assert check["fully_observed"] == 9 and check["kept_as_observed"] == 0
    got = _run(prep)
    assert {k: v["outcome"] for k, v in got.items()} == {
        "A": "accepted", "B": "rejected", "C": "auto_cancelled", "D": "not_cancellable", "E": "buyer_cancelled",
        "F": "not_cancellable", "G": None, "H": None, "I": "rejected"}
    assert got["D"]["return_path"] and not got["D"]["cancelled"]
    # The buyer's wait, request to money back: A asked on Monday, got it 5 business days after Wednesday.
    assert got["A"]["refund_wait_business_days"] == 7
    assert got["C"]["refund_wait_business_days"] == 3 + 5


def test_consent_off_every_awaiting_shipment_request_cancels_at_once(prep):
    got = _run(prep, seller_consent_required=False)
    req = T0 + H
    for oid in "ABCD":
        assert got[oid]["outcome"] == "cancelled_without_consent"
        assert got[oid]["cancelled"] and got[oid]["cancelled_at"] == req
        assert got[oid]["refunded"] and not got[oid]["return_path"]
    # Refunds start at the request: A keeps its own 5 days; D (cash) goes to the wallet in 1 day.
    assert got["A"]["refund_completed_on"] == date(2026, 3, 9)
    assert (got["D"]["refund_channel"], got["D"]["refund_completed_on"]) == ("wallet", date(2026, 3, 3))
    assert got["B"]["refund_channel"] == "original" and got["B"]["refund_completed_on"] == date(2026, 3, 9)
    # Before payment and after shipment nothing changes; I asked while awaiting shipment, so it cancels too.
    assert got["E"]["outcome"] == "buyer_cancelled" and got["F"]["outcome"] == "not_cancellable"
    assert got["I"]["outcome"] == "cancelled_without_consent"
    assert not got["G"]["cancelled"] and not got["H"]["cancelled"]


def test_a_window_shorter_than_the_answer_auto_cancels_at_the_windows_end(prep):
    got = _run(prep, seller_response_hours=24)
    req = T0 + H
    for oid in "ABC":  # answers at 48 h, 30 h and after 72 h: all later than 24 h
        assert got[oid]["outcome"] == "auto_cancelled"
        assert got[oid]["cancelled_at"] == req + 24 * H
    # B was rejected in the data; now it is refunded: to the card, 5 business days from Tuesday.
    assert got["B"]["refunded"] and got["B"]["refund_completed_on"] == date(2026, 3, 10)
    # D's parcel left at 20 h, before the 24-hour window ended: still the return way.
    assert got["D"]["outcome"] == "not_cancellable" and got["D"]["return_path"]


def test_lapse_lets_the_order_go_on(prep):
    got = _run(prep, timeout_action="lapse")
    assert got["C"]["outcome"] == "lapsed"
    assert not got["C"]["cancelled"] and not got["C"]["refunded"]
    assert got["C"]["refund_wait_business_days"] is None
    assert [got[o]["outcome"] for o in "ABD"] == ["accepted", "rejected", "not_cancellable"]


def test_a_parcel_that_left_before_the_answer_sends_the_buyer_the_return_way(prep):
    for hours in (72, 336):
        got = _run(prep, seller_response_hours=hours)
        assert got["D"]["return_path"] and got["D"]["outcome"] == "not_cancellable" and not got["D"]["cancelled"]
    # With a 12-hour window the window ends before the parcel leaves (20 h): auto-cancelled at 12 h.
    got = _run(prep, seller_response_hours=12)
    assert got["D"]["outcome"] == "auto_cancelled" and got["D"]["cancelled_at"] == T0 + H + 12 * H
    assert not got["D"]["return_path"]
    assert (got["D"]["refund_channel"], got["D"]["refund_completed_on"]) == ("wallet", date(2026, 3, 3))


def test_late_dispatch_auto_cancel_cancels_at_the_deadline_and_a_later_request_is_never_made(prep):
    got = _run(prep, late_dispatch_action="auto_cancel")
    # Paid Monday 2 March: the 7th working day after is Wednesday 11 March; late from its end.
    deadline = datetime(2026, 3, 12)
    for oid in "HI":
        assert got[oid]["cancelled"] and got[oid]["dispatch_cancelled"] and got[oid]["cancelled_at"] == deadline
        assert got[oid]["refund_completed_on"] == date(2026, 3, 19)
    assert got["I"]["outcome"] == "not_made"
    assert not got["G"]["cancelled"] and got["B"]["outcome"] == "rejected" and not got["B"]["cancelled"]
    # With 10 working days both ship in time.
    got = _run(prep, late_dispatch_action="auto_cancel", dispatch_deadline_days=10)
    assert not got["H"]["cancelled"] and got["I"]["outcome"] == "rejected"


def test_refund_channel_and_fixed_refund_days(prep):
    got = _run(prep, **{"refund_channel.card": "wallet"})
    assert (got["A"]["refund_channel"], got["A"]["refund_completed_on"]) == ("wallet", date(2026, 3, 5))
    assert got["C"]["refund_channel"] == "original"  # paid by wallet: refunds still go to the original
    got = _run(prep, **{"refund_days.original": 2})
    assert got["A"]["refund_completed_on"] == date(2026, 3, 6)
    assert got["C"]["refund_completed_on"] == date(2026, 3, 9)


def _olist_like() -> pl.DataFrame:
    """The same orders paid by methods outside the domain table (Olist's labels); C's voucher refund
    went back as a coupon."""
    frame = _orders().with_columns(pl.col("payment_method").replace(
        {"card": "credit_card", "wallet": "voucher", "cash": "boleto"}))
    return frame.with_columns(pl.when(pl.col("order_id") == "C").then(pl.lit("coupon"))
                              .otherwise(pl.col("refund_channel")).alias("refund_channel"))


def test_a_data_sets_own_payment_methods_get_refund_channels():
    prep = prepare_frame(_olist_like(), calibration=_calibration())
    params = {p.name: p for p in policy_parameters(prep)}
    assert [n for n in params if n.startswith("refund_channel.")] == [
        "refund_channel.boleto", "refund_channel.credit_card", "refund_channel.voucher"]
    # Defaults: the channel the method's refunds show, else original (boleto has no refund).
    assert {n: params[f"refund_channel.{n}"].default for n in ("boleto", "credit_card", "voucher")} == {
        "boleto": "original", "credit_card": "original", "voucher": "coupon"}
    assert self_check(prep)["passed"]
    # Moving credit card refunds to the wallet: A is refunded through it, in the wallet's 1 business day.
    policy = Policy.from_settings(["refund_channel.credit_card=wallet"], parameters=list(params.values()))
    got = {r["order_id"]: r for r in replay_orders(prep, policy).iter_rows(named=True)}
    assert (got["A"]["refund_channel"], got["A"]["refund_completed_on"]) == ("wallet", date(2026, 3, 5))
    assert got["C"]["refund_channel"] == "coupon"
    # Consent off cancels D (boleto) at its request: a new refund through boleto's default, original.
    got = {r["order_id"]: r for r in replay_orders(prep, Policy(seller_consent_required=False)).iter_rows(named=True)}
    assert got["D"]["refund_channel"] == "original"
    # A method set to its own default is no change, however the policy was built.
    for same in (Policy.from_settings(["refund_channel.voucher=coupon"]),
                 Policy.from_settings(["refund_channel.voucher=coupon"], parameters=list(params.values()))):
        result = simulate(prep, policy=same, replicates=2)
        assert all(v["value"] == 0 for v in result["delta"].values() if "value" in v)
    # A method the data set does not have is refused, naming the ones it has.
    with pytest.raises(PolicyError, match="payment method of this data set: boleto, credit_card, voucher"):
        simulate(prep, policy=Policy.from_settings(["refund_channel.cod=wallet"]), replicates=2)
    with pytest.raises(PolicyError, match="payment method of this data set: boleto, credit_card, voucher"):
        sweep(prep, "refund_channel.card", ["original", "wallet"], replicates=2)
    swept = sweep(prep, "refund_channel.credit_card", ["original", "wallet"], replicates=2)
    assert [p["policy"] for p in swept["points"]] == [{}, {"refund_channel.credit_card": "wallet"}]


def test_a_silent_sellers_answer_is_drawn_beyond_what_was_seen(prep):
    data = prep.data
    c = data.r_idx.tolist().index(2)  # order C: silent for the 72-hour window
    d = data.r_idx.tolist().index(3)  # order D: silent until its parcel left at 20 h
    for replicate in range(200):
        lat = latent(data, prep.calibration, seed=11, replicate=replicate)
        assert lat.response[c] > 72 * 3_600_000_000
        assert lat.response[d] > 20 * 3_600_000_000
    # A longer window: C is answered (after 72 h) or runs out; it is never answered inside 72 h.
    for seed in range(30):
        row = replay_orders(prep, Policy(seller_response_hours=336), seed=seed).row(2, named=True)
        if row["outcome"] == "accepted":
            assert row["cancelled_at"] > T0 + H + 72 * H


def test_premium_share_moves_orders_to_premium_with_its_transit():
    prep = prepare_frame(_orders(), calibration=_calibration())
    result = simulate(prep, policy=Policy(premium_shipping_share=1.0), replicates=3)
    base, scen = result["baseline"], result["scenario"]
    shipped = base["shipped_orders"]["value"]
    assert scen["premium_orders"]["value"] == shipped == 6   # B D F G H I
    assert scen["transit_p50_business_days"]["value"] == 10


def test_a_premium_share_equal_to_the_observed_one_moves_nothing_and_the_default_keeps_the_data():
    prep = prepare_frame(_orders(), calibration=_calibration())   # observed share 0.25
    assert observed_premium_share(prep) == 0.25
    same = simulate(prep, policy=Policy(premium_shipping_share=0.25), replicates=3)
    assert same["observed"] == {"premium_shipping_share": 0.25}
    assert same["policy"] == {"premium_shipping_share": 0.25}
    assert all(v["value"] == 0 for k, v in same["delta"].items() if "value" in v), same["delta"]
    # 0.25 is a share like any other: none by Premium is a change, and it moves the Premium orders off.
    none = simulate(prep, policy=Policy(premium_shipping_share=0.0), replicates=3)
    assert none["scenario"]["premium_orders"]["value"] == 0
    assert none["baseline"]["premium_orders"]["value"] == simulate(prep, replicates=3)["scenario"]["premium_orders"]["value"]


def test_prepare_reads_a_frame_with_only_the_required_columns():
    frame = pl.DataFrame({"order_id": ["x"], "placed_at": [T0], "payment_method": ["card"], "amount": [5.0]})
    data = prepare(frame)
    assert data.n == 1 and len(data.r_idx) == 0


def test_a_ship_time_is_drawn_in_working_days_from_the_payment_day_after_what_was_seen():
    from dataclasses import replace

    from analytics.distributions import WorkdayDispatch

    # Every parcel leaves on the 4th working day after the payment day, at 14:00.
    four = WorkdayDispatch(deaths=(0.0, 0.0, 0.0, 0.0, 10.0), at_risk=(10.0,) * 5,
                           tail=Lognormal(math.log(5.0), 0.3, 0, 0), tod_hours=(14.0,) * 101, n_observed=10,
                           n_censored=0)
    prep = prepare_frame(_orders(), calibration=replace(_calibration(), dispatch_days=four))
    # A was paid Monday 2 March 09:10 and cancelled Wednesday 4 March 10:00 (working day 2): under a
    # 24-hour window with lapse the seller's answer at 48 hours comes too late, the request lapses, and
    # the order ships on working day 4, Friday 6 March at 14:00.
    got = {r["order_id"]: r for r in replay_orders(prep, Policy(seller_response_hours=24, timeout_action="lapse"))
           .iter_rows(named=True)}
    assert got["A"]["outcome"] == "lapsed" and got["A"]["shipped"] and not got["A"]["cancelled"]
    # A 3-day deadline ends with Thursday 5 March: the Friday parcel is late, cancelled at midnight.
    late = Policy(seller_response_hours=24, timeout_action="lapse", late_dispatch_action="auto_cancel",
                  dispatch_deadline_days=3)
    got = {r["order_id"]: r for r in replay_orders(prep, late).iter_rows(named=True)}
    assert got["A"]["dispatch_cancelled"] and got["A"]["cancelled_at"] == datetime(2026, 3, 6)
    # With 4 days it ships in time.
    got = {r["order_id"]: r for r in replay_orders(prep, replace(late, dispatch_deadline_days=4)).iter_rows(named=True)}
    assert not got["A"]["cancelled"] and got["A"]["shipped"]
