"""The what-if intervals' contract, the extrapolation list, the never-answer lever and the independent
zero-delta check, on data the generator makes with known behaviour."""

import math
from functools import lru_cache

import numpy as np
import pytest

from analytics.generate import GeneratorParams, generate_frame
from analytics.policy import Policy
from analytics.replay_data import observed_figures
from analytics.simulate import _interval, prepare_frame, self_check, simulate

RENAME = {"cancel_requested_at": "requested_at", "cancel_reason": "reason", "seller_responded_at": "responded_at"}
KEYS = {"value", "low", "high", "orders_low", "orders_high"}


@lru_cache(maxsize=4)
def _prepared(never: float = 0.0, n: int = 6_000, seed: int = 21):
    params = GeneratorParams(never_answer_share=never, request_probability=0.3, weeks=6)
    return prepare_frame(generate_frame(n, seed, params).rename(RENAME))


def _leaves(node, prefix=""):
    for k, v in node.items():
        if isinstance(v, dict) and "value" not in v:
            yield from _leaves(v, f"{prefix}{k}.")
        else:
            yield f"{prefix}{k}", v


def test_the_intervals_are_t_prediction_intervals_worked_by_hand():
    # Three replicates of these orders: 10, 12, 14 -> mean 12, variance (4 + 0 + 4) / 2 = 4.
    # t(0.975, 2 df) = 4.302653; with the mean's own error, sqrt((1 + 1/3) * 4) = 2.309401:
    # half-width 9.936 -> these orders 2.064 .. 21.936.
    # Resampled: 11, 12, 16 -> bootstrap deviations 1, 0, 2 (variance 1), counted twice (the new period's
    # sampling and the estimate's): sqrt(2 * 1 + 5.333333) = 2.708013 -> half-width 11.652 -> 0.348 .. 23.652.
    fig = _interval(np.array([10.0, 12.0, 14.0]), np.array([11.0, 12.0, 16.0]))
    assert fig["value"] == 12
    assert fig["orders_low"] == pytest.approx(2.0635, abs=1e-3) and fig["orders_high"] == pytest.approx(21.9365, abs=1e-3)
    assert fig["low"] == pytest.approx(0.3484, abs=1e-3) and fig["high"] == pytest.approx(23.6516, abs=1e-3)
    # A count never goes below 0; a difference may.
    assert _interval(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0]))["orders_low"] == 0
    assert _interval(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0]), signed=True)["orders_low"] < 0
    # Nothing random: exact, all four bounds equal the value.
    assert _interval(np.array([5.0, 5.0]), np.array([5.0, 5.0])) == dict.fromkeys(KEYS, 5)


def test_every_figure_carries_both_intervals_and_a_no_change_policy_has_zero_width():
    prep = _prepared()
    result = simulate(prep, policy=Policy(seller_response_hours=36, timeout_action="lapse"), replicates=6, seed=3)
    for part in ("baseline", "scenario", "delta"):
        for name, fig in _leaves(result[part]):
            assert set(fig) == KEYS, (part, name)
            if fig["value"] is not None and fig["low"] is not None:
                assert fig["low"] <= fig["value"] <= fig["high"], (part, name)
                assert fig["orders_low"] <= fig["value"] <= fig["orders_high"], (part, name)
    # The baseline replays what this fully observed data shows: for these orders, exactly the data...
    observed = observed_figures(prep.data)
    base = result["baseline"]["cancelled_orders"]
    assert base["value"] == base["orders_low"] == base["orders_high"] == observed["cancelled_orders"]
    # ... while a new period of as many orders would differ by its own sampling (about sqrt(count)
    # counted twice: at least +-1.96 * sqrt(2 * count) * a bit for the bootstrap's noise).
    assert base["high"] - base["low"] > 2 * 1.5 * math.sqrt(2 * observed["cancelled_orders"])
    # The number of orders is the data set's own in any period: exact.
    assert result["baseline"]["orders"] == dict.fromkeys(KEYS, prep.data.n)
    same = simulate(prep, policy=Policy(), replicates=6, seed=3)
    assert all(all(v in (0, None) for v in fig.values()) for _, fig in _leaves(same["delta"]))


def test_a_new_period_interval_is_wider_than_the_these_orders_one():
    prep = _prepared()
    result = simulate(prep, policy=Policy(seller_response_hours=168), replicates=8, seed=1)
    fig = result["delta"]["requests_auto_cancelled"]
    assert fig["value"] < 0
    assert fig["low"] < fig["orders_low"] < fig["value"] < fig["orders_high"] < fig["high"]


def test_a_window_longer_than_the_data_shows_is_listed_as_extrapolated():
    prep = _prepared()
    # The data's window is 72 h: nothing is seen answered or timed out later.
    assert prep.calibration.longest_answer_hours == pytest.approx(72.0)
    assert simulate(prep, policy=Policy(seller_response_hours=24), replicates=2)["extrapolated"] == []
    assert simulate(prep, policy=Policy(seller_response_hours=72), replicates=2)["extrapolated"] == []
    long = simulate(prep, policy=Policy(seller_response_hours=168), replicates=2)
    assert long["extrapolated"] == ["seller_response_hours"]
    assert "72 hours" in long["assumptions"]["seller_response_hours"]
    # With consent off the window does nothing: nothing rests on it.
    assert simulate(prep, policy=Policy(seller_response_hours=168, seller_consent_required=False),
                    replicates=2)["extrapolated"] == []


def test_a_dispatch_deadline_beyond_the_longest_dispatch_and_an_unused_refund_channel_are_listed():
    prep = _prepared()
    longest = prep.calibration.longest_dispatch_workdays
    assert 3 <= longest < 60
    inside = Policy(late_dispatch_action="auto_cancel", dispatch_deadline_days=longest)
    beyond = Policy(late_dispatch_action="auto_cancel", dispatch_deadline_days=longest + 1)
    assert simulate(prep, policy=inside, replicates=2)["extrapolated"] == []
    assert simulate(prep, policy=beyond, replicates=2)["extrapolated"] == ["dispatch_deadline_days"]
    # Without auto-cancel the deadline changes nothing.
    assert simulate(prep, policy=Policy(dispatch_deadline_days=longest + 1), replicates=2)["extrapolated"] == []
    # Cash refunds go to the wallet in this data: to the original method is new; cards' to the original is not.
    moved = simulate(prep, policy=Policy(refund_channel=(("cash", "original"), ("card", "original"))), replicates=2)
    assert moved["extrapolated"] == ["refund_channel.cash"]
    assert "cash refund through the original payment method" in moved["assumptions"]["refund_channel.cash"]


def test_the_never_answer_lever_moves_long_windows_only_and_brings_them_nearer_the_truth():
    params = GeneratorParams(never_answer_share=0.25, request_probability=0.3, weeks=6)
    prep = _prepared(never=0.25)
    truth: dict = {}
    generate_frame(6_000, 21, params, Policy(seller_response_hours=168), truth=truth)
    assumed_none = simulate(prep, policy=Policy(seller_response_hours=168), replicates=6)
    lever = simulate(prep, policy=Policy(seller_response_hours=168, never_answer_share=0.25), replicates=6)
    auto = "requests_auto_cancelled"
    off = abs(assumed_none["scenario"][auto]["value"] - truth[auto])
    on = abs(lever["scenario"][auto]["value"] - truth[auto])
    # A quarter of the sellers never answer: at 168 h the engine assuming none does misses about half
    # of the auto-cancellations (63 in truth here); with the lever at the true share it comes near.
    assert assumed_none["scenario"][auto]["value"] < truth[auto]
    assert on < off / 2
    assert "never_answer_share" in lever["assumptions"]
    # Inside the data's own window the lever changes nothing: a silent seller times out either way.
    for hours in (24, 72):
        a = simulate(prep, policy=Policy(seller_response_hours=hours), replicates=3)["scenario"]
        b = simulate(prep, policy=Policy(seller_response_hours=hours, never_answer_share=0.25), replicates=3)["scenario"]
        assert a[auto] == b[auto] and a["cancelled_orders"] == b["cancelled_orders"]


def test_the_never_answer_lever_is_a_policy_parameter_for_the_command_line_and_links():
    policy = Policy.from_settings(["never_answer_share=0.1", "seller_response_hours=168"])
    assert policy.never_answer_share == 0.1
    assert policy.to_query() == {"seller_response_hours": "168", "never_answer_share": "0.1"}
    again, notices = Policy.from_query(policy.to_query())
    assert again == policy and notices == []
    bad, problems = Policy.from_query({"never_answer_share": "1.5"})
    assert bad.never_answer_share == 0
    assert (problems[0].field, problems[0].value, problems[0].reason) == ("never_answer_share", "1.5", "out_of_range")


def test_self_check_replays_the_baseline_independently_of_the_memo():
    prep = prepare_frame(_prepared().frame)   # a Prepared of its own: its memo is ours to spoil
    assert self_check(prep)["zero_delta"] == {"passed": True, "nonzero": []}
    # Spoil what simulate remembers of the baseline: an independent replay must disagree.
    for key, (orders, fresh) in list(prep.memo.items()):
        if key[0] == Policy():
            prep.memo[key] = ({**orders, "cancelled_orders": orders["cancelled_orders"] + 1}, fresh)
    check = self_check(prep)
    assert not check["passed"] and check["zero_delta"]["nonzero"] == ["cancelled_orders"]


def test_the_generator_lives_the_same_orders_under_a_policy_as_the_rules_say():
    params = GeneratorParams(request_probability=0.3, weeks=6)
    base: dict = {}
    frame = generate_frame(4_000, 8, params, truth=base)
    # Under the baseline, what truly happened is what the data shows.
    assert base == pytest.approx(observed_figures(prepare_frame(frame.rename(RENAME)).data), nan_ok=True)
    off: dict = {}
    generate_frame(4_000, 8, params, Policy(seller_consent_required=False), truth=off)
    assert off["requests_accepted"] == off["requests_rejected"] == off["requests_auto_cancelled"] == 0
    # Every request made while awaiting shipment cancels at once: the awaiting ones of the baseline,
    # except those the parcel beat (which were still awaiting when asked).
    awaiting = sum(base[f"requests_{o}"] for o in ("accepted", "rejected", "auto_cancelled"))
    assert off["requests_cancelled_without_consent"] >= awaiting
    late: dict = {}
    generate_frame(4_000, 8, params, Policy(late_dispatch_action="auto_cancel", dispatch_deadline_days=2), truth=late)
    assert late["dispatch_cancelled_orders"] > 0 and late["requests_not_made"] > 0
    assert late["cancelled_orders"] > base["cancelled_orders"]


def test_the_intervals_in_words():
    from analytics import whatif_tables as wt

    fig = {"value": 3912.4, "low": 3801.2, "high": 4049.6, "orders_low": 3899.5, "orders_high": 3960.2}
    assert wt.in_words(fig, "cancelled_orders") == {"next period like this one": "3,801 – 4,050",
                                                    "these same orders": "3,900 – 3,960"}
    assert wt.fmt_interval(fig, "cancelled_orders") == (
        "3,912 (next period like this one 3,801 – 4,050; these same orders 3,900 – 3,960)")
    change = {"value": -40, "low": -95.5, "high": 15.2, "orders_low": -40, "orders_high": -40}
    assert wt.in_words(change, "cancelled_orders", signed=True) == {"next period like this one": "-96 – +15",
                                                                     "these same orders": "exactly -40"}
    exact = dict.fromkeys(KEYS, 3000)
    assert wt.fmt_interval(exact, "orders") == "3,000 (exact)"
    assert wt.in_words(exact, "orders")["these same orders"] == "3,000 (exact)"
    assert wt.fmt_interval(dict.fromkeys(KEYS, 0), "cancelled_orders", signed=True) == "±0"
    assert wt.in_words(None, "cancelled_orders") == {"next period like this one": "—", "these same orders": "—"}


def test_the_answering_sellers_curve_is_recovered_when_a_share_never_answers():
    from analytics.distributions import fit_lognormal_censored, fit_lognormal_cure

    rng = np.random.default_rng(1)
    times = rng.lognormal(math.log(30.0), 1.0, 20_000)
    times[rng.random(20_000) < 0.25] = np.inf        # a quarter never answer
    seen = times <= 72.0
    silent = np.full(int((~seen).sum()), 72.0)
    cured = fit_lognormal_cure(times[seen], silent, 0.25)
    assert cured.median == pytest.approx(30.0, rel=0.05) and cured.sigma == pytest.approx(1.0, rel=0.05)
    # Without the assumption the silent quarter passes for slow answerers: a slower, wider curve.
    naive = fit_lognormal_censored(times[seen], silent)
    assert naive.median > 40 and naive.sigma > 1.15


def test_the_command_line_lists_what_a_scenario_extrapolates(tmp_path, capsys):
    import json

    from analytics import db
    from analytics.cli import main
    from analytics.generate import generate

    path = tmp_path / "cli.duckdb"
    con = db.connect(path)
    generate(con, 2_000, 4, params=GeneratorParams(request_probability=0.3, weeks=4))
    con.close()
    capsys.readouterr()
    args = ["simulate", "--set", "seller_response_hours=168", "--set", "never_answer_share=0.1", "--replicates", "3"]
    assert main([*args, "--json", "--db", str(path)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["policy"] == {"seller_response_hours": 168.0, "never_answer_share": 0.1}
    assert result["extrapolated"] == ["seller_response_hours"]
    assert set(result["scenario"]["cancelled_orders"]) == KEYS
    assert main([*args, "--db", str(path)]) == 0
    text = capsys.readouterr().out
    assert "extrapolated: seller_response_hours" in text and "10% of sellers are assumed never to answer" in text
    assert main(["simulate", "--set", "never_answer_share=2", "--db", str(path)]) != 0
    assert "never_answer_share: “2” is out of range; expected a number >= 0 and <= 1" in capsys.readouterr().err


def test_the_generator_command_sets_behaviour_and_lives_the_orders_under_a_policy(tmp_path, capsys):
    import json

    from analytics import db
    from analytics.cli import main

    path = str(tmp_path / "g.duckdb")
    args = ["generate", "--orders", "2000", "--seed", "3", "--behaviour", "never_answer_share=0.2",
            "--behaviour", "acceptance_by_reason.wrong_item=0.9", "--set", "seller_consent_required=false",
            "--json", "--db", path]
    capsys.readouterr()
    assert main(args) == 0
    made = json.loads(capsys.readouterr().out)
    con = db.connect(path)
    found = db.get_dataset(con, made["dataset"]["id"])
    assert found.true_params["never_answer_share"] == 0.2
    assert found.true_params["acceptance_by_reason"] == {"wrong_item": 0.9}
    # Consent off: no seller was asked, so no request of the data set carries an answer.
    answered = con.sql("SELECT count(*) FROM cancellation_requests WHERE dataset_id = ? AND seller_response "
                       "IN ('accepted', 'rejected')", params=[found.id]).fetchall()[0][0]
    con.close()
    assert answered == 0
    for bad, says in ((["--behaviour", "never_answer_share=2"], "must be between 0 and 1"),
                      (["--behaviour", "nope=1"], "unknown parameter 'nope'"),
                      (["--set", "never_answer_share=0.2"], "--behaviour never_answer_share")):
        assert main(["generate", "--orders", "10", *bad, "--db", path]) != 0
        assert says in capsys.readouterr().err
