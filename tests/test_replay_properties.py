"""Properties of the replay that hold for any data the generator can make and any policy.

Data sets come from the synthetic generator (small, with behaviour parameters drawn by hypothesis), so
they follow the life-cycle model the replay applies; policies are drawn from the parameters' ranges."""

import math
from functools import lru_cache

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracles import without_memo

from analytics.generate import GeneratorParams, generate_frame
from analytics.policy import Policy
from analytics.replay import latent, replay, summarise
from analytics.simulate import prepare_frame, self_check, simulate

# The canonical export's names -> the orders view's (calibrate.ORDER_COLUMNS).
RENAME = {"cancel_requested_at": "requested_at", "cancel_reason": "reason", "seller_responded_at": "responded_at"}

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@lru_cache(maxsize=64)
def _prepared(seed: int, n: int, median: float, sigma: float, acceptance: float, dispatch: float):
    params = GeneratorParams(request_probability=0.5, response_median_hours=median, response_sigma=sigma,
                             acceptance_rate=acceptance, dispatch_median_days=dispatch, weeks=4)
    return prepare_frame(generate_frame(n, seed, params).rename(RENAME))


datasets = st.builds(
    _prepared,
    seed=st.integers(0, 10_000),
    n=st.integers(60, 300),
    median=st.sampled_from([4.0, 30.0, 90.0]),
    sigma=st.sampled_from([0.4, 1.0, 1.8]),
    acceptance=st.sampled_from([0.0, 0.4, 0.75, 1.0]),
    dispatch=st.sampled_from([1.0, 3.0, 8.0]),
)

windows = st.floats(min_value=0.5, max_value=2160.0, allow_nan=False)

policies = st.builds(
    lambda consent, hours, timeout, days, late, cod, days_original, share: Policy().with_values({
        "seller_consent_required": consent, "seller_response_hours": hours, "timeout_action": timeout,
        "dispatch_deadline_days": days, "late_dispatch_action": late, "refund_channel.cod": cod,
        "refund_days.original": days_original, "premium_shipping_share": share}),
    st.booleans(), windows, st.sampled_from(["auto_cancel", "lapse"]), st.integers(1, 60),
    st.sampled_from(["none", "auto_cancel"]), st.sampled_from(["original", "wallet", "coupon"]),
    st.sampled_from(["fitted", 0, 3, 20]), st.sampled_from([0.0, 0.25, 0.6, 1.0]),
)


def _figures(prep, policy: Policy, seed: int, replicate: int = 0) -> dict[str, float]:
    lat = latent(prep.data, prep.calibration, seed, replicate)
    return summarise(prep.data, replay(prep.data, prep.calibration, policy, lat))


@SETTINGS
@given(prep=datasets)
def test_the_baseline_replay_reproduces_the_generated_orders_exactly(prep):
    check = self_check(prep)
    assert check["passed"], (check["mismatches"], check["examples"], check["zero_delta"])
    assert check["fully_observed"] == prep.data.n


@SETTINGS
@given(prep=datasets, policy=policies, seed=st.integers(0, 2**31))
def test_an_identical_policy_gives_a_difference_of_exactly_zero(prep, policy, seed):
    # Without the memo both sides are replayed (on the draws they share), so a replay that depended on
    # anything but (policy, seed, replicate), or spoiled the shared draws, would leave a difference.
    result = simulate(without_memo(prep), policy=policy, baseline=policy, replicates=2, seed=seed)

    def leaves(node):
        for v in node.values():
            if "value" in v:
                yield v
            else:
                yield from leaves(v)

    assert all(fig["value"] in (0, None) and fig["low"] in (0, None) for fig in leaves(result["delta"]))


@SETTINGS
@given(prep=datasets, policy=policies, w1=windows, w2=windows, seed=st.integers(0, 2**31))
def test_a_shorter_window_never_lowers_auto_cancellations(prep, policy, w1, w2, seed):
    short, long_ = sorted([w1, w2])
    base = policy.with_values({"seller_consent_required": True, "timeout_action": "auto_cancel"})
    for replicate in range(2):
        a = _figures(prep, base.with_value("seller_response_hours", short), seed, replicate)
        b = _figures(prep, base.with_value("seller_response_hours", long_), seed, replicate)
        assert a["requests_auto_cancelled"] >= b["requests_auto_cancelled"]


@SETTINGS
@given(prep=datasets, policy=policies, seed=st.integers(0, 2**31))
def test_recomputing_only_the_orders_a_policy_can_change_gives_the_same_figures(prep, policy, seed):
    lat = latent(prep.data, prep.calibration, seed, 0)
    fast = summarise(prep.data, replay(prep.data, prep.calibration, policy, lat))
    slow = summarise(prep.data, replay(prep.data, prep.calibration, policy, lat, all_orders=True))
    assert fast.keys() == slow.keys()
    assert all(math.isclose(fast[k], slow[k], rel_tol=1e-9, abs_tol=1e-9)
               or (np.isnan(fast[k]) and np.isnan(slow[k])) for k in fast), \
        {k: (fast[k], slow[k]) for k in fast if fast[k] != slow[k]}


@SETTINGS
@given(prep=datasets, policy=policies, seed=st.integers(0, 2**31))
def test_lapse_gives_no_auto_cancellations(prep, policy, seed):
    got = _figures(prep, policy.with_value("timeout_action", "lapse"), seed)
    assert got["requests_auto_cancelled"] == 0


@SETTINGS
@given(prep=datasets, policy=policies, seed=st.integers(0, 2**31))
def test_consent_off_gives_no_rejections(prep, policy, seed):
    got = _figures(prep, policy.with_value("seller_consent_required", False), seed)
    assert got["requests_rejected"] == 0
    assert got["requests_accepted"] == 0 and got["requests_auto_cancelled"] == 0


@SETTINGS
@given(prep=datasets, policy=policies, seed=st.integers(0, 2**31))
def test_every_request_ends_in_exactly_one_outcome(prep, policy, seed):
    got = _figures(prep, policy, seed)
    outcomes = [k for k in got if k.startswith("requests_") and k != "requests_not_made"]
    assert sum(got[k] for k in outcomes) == got["requests"]
    assert got["requests"] + got["requests_not_made"] == len(prep.data.r_idx)
    assert got["refunds"] == sum(got[f"refunds_by_channel.{c}"] for c in ("original", "wallet", "coupon"))


def test_draws_belong_to_the_order_not_to_its_row():
    """Common random numbers: shuffling the rows changes no figure."""
    frame = generate_frame(400, 5, GeneratorParams(request_probability=0.5)).rename(RENAME)
    a = prepare_frame(frame)
    b = prepare_frame(frame.sample(fraction=1.0, shuffle=True, seed=1), calibration=a.calibration)
    policy = Policy(seller_response_hours=300, timeout_action="lapse")
    fa, fb = _figures(a, policy, 3), _figures(b, policy, 3)
    # Amounts are sums of floats in another order: equal to rounding.
    assert all(math.isclose(fa[k], fb[k], rel_tol=1e-12) or (np.isnan(fa[k]) and np.isnan(fb[k])) for k in fa)
    # ... and a different replicate draws differently.
    lat0, lat1 = latent(a.data, a.calibration, 3, 0), latent(a.data, a.calibration, 3, 1)
    assert not np.array_equal(lat0.ship, lat1.ship)
