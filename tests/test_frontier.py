"""The policy frontier: the dominance rules on figure arrays made by hand, the best policy under limits
worked out by hand, a hand-made data set end to end, and the command line's contract."""

import json
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from analytics import frontier as fr
from analytics import simulate
from analytics.policy import Policy, PolicyError

ROOT = Path(__file__).resolve().parents[1]
LOWER, HIGHER = "lower", "higher"


def _exact(values, replicates=5):
    """Policies x replicates with no spread: every difference is exact."""
    orders = np.repeat(np.asarray(values, float)[:, None], replicates, axis=1)
    return orders, orders.copy()


def _wins(columns, directions=(LOWER, LOWER), noise=None):
    out = []
    for values, d in zip(columns, directions, strict=True):
        orders, fresh = _exact(values) if noise is None else noise(values)
        _, low, high = fr.paired(orders, fresh)
        out.append(fr.beats(low, high, d))
    return out


# ------------------------------------------------------------------------------------------------
# The rules on arrays.

def test_paired_differences_are_simulate_s_differences():
    """The pairwise intervals, vectorised, are the ones simulate gives a difference (same replicates)."""
    rng = np.random.default_rng(3)
    orders = rng.normal(100, 5, (4, 10))
    fresh = orders + rng.normal(0, 3, (4, 10))
    orders[2, 3] = np.nan          # a replicate that cannot measure the figure
    for percentile in (False, True):
        value, low, high = fr.paired(orders, fresh, percentile)
        name = "refund_wait_p90_business_days" if percentile else "cancelled_orders"
        for i in range(4):
            for j in range(4):
                if i == j:
                    continue
                change = simulate._difference(({name: orders[i]}, {name: fresh[i]}), ({name: orders[j]}, {name: fresh[j]}))
                expected = simulate._figures(change, signed=True, moved=change)[name]
                assert value[i, j] == pytest.approx(expected["value"], abs=1e-6)
                assert low[i, j] == pytest.approx(expected["low"], abs=1e-6)
                assert high[i, j] == pytest.approx(expected["high"], abs=1e-6)


def test_beating_needs_the_whole_interval_on_the_better_side():
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 1, 10)
    orders = np.array([10 + noise, 10.3 + noise * 1.5, 14 + noise])   # 0 vs 1: within the spread
    fresh = orders + rng.normal(0, 0.5, (3, 10))
    _, low, high = fr.paired(orders, fresh)
    lower = fr.beats(low, high, LOWER)
    assert not lower[0, 1] and not lower[1, 0]
    assert lower[0, 2] and lower[1, 2] and not lower[2, 0]
    higher = fr.beats(low, high, HIGHER)
    assert higher[2, 0] and not higher[0, 2]


def test_a_policy_beaten_on_both_figures_is_never_on_the_frontier():
    # P2 is beaten by P0 on both figures; P0 and P1 trade one against the other.
    wins = _wins([[1, 5, 3], [5, 1, 7]])
    front = fr.on_frontier(*wins)
    assert front.tolist() == [True, True, False]
    assert fr.dominated(*wins)[0, 2] and not fr.dominated(*wins)[0, 1]


def test_better_on_one_figure_and_tied_on_the_other_dominates():
    rng = np.random.default_rng(1)

    def noisy(values):
        orders = np.asarray(values, float)[:, None] + rng.normal(0, 1, (len(values), 10))
        return orders, orders + rng.normal(0, 0.3, orders.shape)

    # On B, P0 (50) and P1 (50.2) are tied within their intervals; on A, P0 beats P1 clearly.
    wins = _wins([[10, 20], [50, 50.2]], noise=noisy)
    assert wins[0][0, 1] and not wins[1][0, 1] and not wins[1][1, 0]
    assert fr.on_frontier(*wins).tolist() == [True, False]


@pytest.mark.parametrize("trial", range(30))
def test_random_grids_keep_the_frontier_s_promises(trial):
    """On random grids: every policy beaten on both figures by another is off the frontier; a policy that
    beats every other on one figure is on it; every policy off it is dominated by one."""
    rng = np.random.default_rng(trial)
    p, r = 12, 8
    columns = []
    for _ in range(2):
        centre = rng.normal(0, 3, p)
        orders = centre[:, None] + rng.normal(0, 1, (p, r))
        columns.append((orders, orders + rng.normal(0, 0.5, (p, r))))
    directions = (LOWER, HIGHER)
    wins = []
    for (orders, fresh), d in zip(columns, directions, strict=True):
        _, low, high = fr.paired(orders, fresh)
        wins.append(fr.beats(low, high, d))
    front = fr.on_frontier(*wins)
    both = wins[0] & wins[1]
    for j in range(p):
        if both[:, j].any():
            assert not front[j]
        for k in range(2):
            if all(wins[k][j, i] for i in range(p) if i != j):
                assert front[j]
        if not front[j]:
            assert fr.dominated(*wins)[:, j].any()


# ------------------------------------------------------------------------------------------------
# The best policy under limits, worked out by hand.
#   P0 (current): wait 10, GMV 100    P1: wait 8, GMV 120    P2: wait 6, GMV 150
#   P3: wait 5, GMV 200               P4: wait 9, GMV 130 (P1 beats it on both: off the frontier)
WAIT = [10, 8, 6, 5, 9]
GMV = [100, 120, 150, 200, 130]


def _best(limits: dict, target: int):
    wins = _wins([WAIT, GMV])
    ok = np.ones(5, bool)
    for k, bound in limits.items():
        ok &= np.array([WAIT, GMV][k]) <= bound
    return fr.choose_best([np.array(WAIT, float), np.array(GMV, float)], wins, (LOWER, LOWER), ok, target)


def test_best_under_a_limit_on_gmv_is_the_shortest_wait_that_keeps_it():
    # GMV <= 150: P0, P1, P2, P4 keep it; P4 is dominated; of P0, P1, P2 the shortest wait is P2's.
    assert _best({1: 150}, target=0) == 2
    # GMV <= 125: P0 and P1 keep it (P4 does not): P1.
    assert _best({1: 125}, target=0) == 1
    # GMV <= 99: none.
    assert _best({1: 99}, target=0) is None


def test_best_under_a_limit_on_the_wait_is_the_least_gmv_that_keeps_it():
    # wait <= 9: P1, P2, P3, P4; the least GMV is P1's (120).
    assert _best({0: 9}, target=1) == 1


def test_a_tie_on_the_figure_to_make_best_goes_to_the_better_other_figure():
    rng = np.random.default_rng(5)
    spread = rng.normal(0, 1, (2, 10))
    wait = np.array([[6.0], [6.2]]) + spread
    gmv = np.array([[150.0], [110.0]]) + 0 * spread
    wins = []
    for orders, d in ((wait, LOWER), (gmv, LOWER)):
        _, low, high = fr.paired(orders, orders + rng.normal(0, 0.2, orders.shape))
        wins.append(fr.beats(low, high, d))
    assert not wins[0].any()   # the waits are tied within their intervals
    best = fr.choose_best([wait.mean(1), gmv.mean(1)], wins, (LOWER, LOWER), np.ones(2, bool), 0)
    assert best == 1           # a slightly longer estimated wait, but far less GMV


def test_the_trade_off_in_words_names_what_is_gained_and_what_is_given_up():
    wins = _wins([WAIT, GMV])
    pairs = [fr.paired(*_exact(WAIT)), fr.paired(*_exact(GMV))]
    entries = [{"label": f"P{i}", "policy": {"x": i}, "extrapolated": [], "data_policy": False} for i in range(5)]
    weighed = (("refund_wait_p90_business_days", LOWER), ("cancelled_gmv", LOWER))
    limit = fr.parse_limit("cancelled_gmv<=150")
    text = fr.tradeoff_words(entries, weighed, pairs, wins, [limit], 2, 2, 0)
    assert text.startswith("Best with cancelled GMV at most 150: P2.")
    assert ("Against the current policy it lowers buyer's wait, 90th percentile, by 4.0 business "
            "days; in exchange it raises cancelled GMV by 50.00.") in text
    entries[2]["extrapolated"] = ["seller_response_hours"]
    text = fr.tradeoff_words(entries, weighed, pairs, wins, [limit], 2, 1, 0)
    assert "It is extrapolated (seller's response window" in text and "Within what the data observed, the best is P1." in text


def test_the_trade_off_writes_money_in_the_currency_as_the_product_does_in_sentences_that_read():
    """Amounts in the data set's currency, whole from a thousand up as a tile writes them (cents on an
    estimate over replicates were false precision); each difference a verb with its size and its interval
    ('lowers ... by ...'), never '... 127,286.04 lower'. A limit's bound is written as typed, with its
    currency. P3 against P0: the wait 5 against 10 (5 lower), GMV 200,000.49 against 100,000.37."""
    rng = np.random.default_rng(8)
    wait = np.array(WAIT, float)[:, None] + rng.normal(0, 0.1, (5, 20))
    gmv = np.array([g * 1000 for g in GMV], float)[:, None] + rng.normal(0, 300, (5, 20))
    gmv[0] += 0.37
    gmv[3] += 0.49
    pairs = [fr.paired(wait, wait.copy()), fr.paired(gmv, gmv.copy())]
    wins = [fr.beats(low, high, LOWER) for _, low, high in pairs]
    entries = [{"label": f"P{i}", "policy": {"x": i}, "extrapolated": [], "data_policy": False} for i in range(5)]
    weighed = (("refund_wait_p90_business_days", LOWER), ("cancelled_gmv", LOWER))
    limit = fr.parse_limit("refund_wait_p90_business_days<=5.5")
    text = fr.tradeoff_words(entries, weighed, pairs, wins, [limit], 3, 3, 0, currency="BRL ")
    value, low, high = (a[3, 0] for a in pairs[1])
    assert 95_000 < low < value < high < 105_000
    gmv_words = (f"raises cancelled GMV by BRL {value:,.0f} (95%: BRL {low:,.0f} to BRL {high:,.0f})")
    assert text.startswith("Best with buyer's wait, 90th percentile, at most 5.5 business days: P3.")
    wait_words = re.search(r"Against the current policy it lowers buyer's wait, 90th percentile, "
                           r"by 5\.0 business days \(95%: (\d\.\d) to (\d\.\d) business days\)", text)
    assert wait_words and float(wait_words[1]) < 5 < float(wait_words[2]), text
    assert f"; in exchange it {gmv_words}." in text, text
    assert not re.search(r"\b(lower|higher)\b", text) and not re.search(r"\d,\d{3}\.\d", text)
    money = fr.parse_limit("cancelled_gmv<=150000.5")
    assert money.words("BRL ") == "cancelled GMV at most BRL 150,000.50"
    assert fr.parse_limit("cancelled_gmv<=1e9").words("USD ") == "cancelled GMV at most USD 1,000,000,000"


# ------------------------------------------------------------------------------------------------
# A hand-made data set end to end.

T0 = datetime(2026, 3, 2, 9, 0)  # a Monday
H = timedelta(hours=1)


def _frame() -> pl.DataFrame:
    """40 paid orders whose seller never answered a request (72 hours, then the parcel left on day 5),
    40 quiet orders shipped 10 working days after payment, 40 quiet orders shipped the next day."""
    rows = []
    for i in range(40):
        rows.append({"order_id": f"silent{i}", "placed_at": T0, "payment_method": "card", "amount": 10.0,
                     "paid_at": T0 + 10 * 60 * timedelta(seconds=1), "requested_at": T0 + H,
                     "reason": "shipping_delay", "seller_response": "none",
                     "shipped_at": T0 + 120 * H, "delivered_at": T0 + 30 * 24 * H})
        rows.append({"order_id": f"late{i}", "placed_at": T0, "payment_method": "card", "amount": 10.0,
                     "paid_at": T0 + 10 * 60 * timedelta(seconds=1), "shipped_at": datetime(2026, 3, 16, 12),
                     "delivered_at": datetime(2026, 4, 20, 12)})
        rows.append({"order_id": f"quick{i}", "placed_at": T0, "payment_method": "card", "amount": 10.0,
                     "paid_at": T0 + 10 * 60 * timedelta(seconds=1), "shipped_at": T0 + 24 * H,
                     "delivered_at": T0 + 20 * 24 * H})
    return pl.DataFrame(rows)


@pytest.fixture(scope="module")
def hand_made():
    return simulate.prepare_frame(_frame(), "hand")


def test_hand_made_frontier_is_known_by_construction(hand_made):
    """Auto-cancel on timeout cancels the 40 silent orders; lapse leaves their requests lapsed: a trade
    between cancelled orders and lapsed requests, both on the frontier. Auto-cancel on late dispatch with
    a 2-day deadline cancels every order not shipped within 2 working days, the 40 silent (shipped on day
    5) and the 40 late ones, whatever the timeout does: 80 cancelled, none lapsed, beaten on cancelled
    orders and tied on lapsed requests by auto-cancel on timeout alone, so off the frontier."""
    result = fr.frontier(hand_made, {"timeout_action": ["auto_cancel", "lapse"],
                                     "late_dispatch_action": ["none", "auto_cancel"]},
                         ["cancelled_orders", "requests_lapsed"], policy=Policy().with_values({"dispatch_deadline_days": 2}),
                         replicates=5)
    by = {(e["policy"].get("timeout_action", "auto_cancel"), e["policy"].get("late_dispatch_action", "none")): e
          for e in result["policies"] if e["in_grid"]}
    cancelled = {k: e["figures"]["cancelled_orders"]["value"] for k, e in by.items()}
    lapsed = {k: e["figures"]["requests_lapsed"]["value"] for k, e in by.items()}
    assert cancelled == {("auto_cancel", "none"): 40, ("lapse", "none"): 0, ("auto_cancel", "auto_cancel"): 80,
                         ("lapse", "auto_cancel"): 80}
    assert lapsed == {("auto_cancel", "none"): 0, ("lapse", "none"): 40, ("auto_cancel", "auto_cancel"): 0,
                      ("lapse", "auto_cancel"): 0}
    on = {k for k, e in by.items() if e["on_frontier"]}
    assert on == {("auto_cancel", "none"), ("lapse", "none")}
    assert result["best"] is None and result["tradeoff"] == ""
    # The current policy (deadline 2, no auto-cancel) is in the grid; the data set's own (deadline 7) is added.
    assert result["policies"][result["current"]]["current"]
    assert not result["policies"][result["data_policy"]]["in_grid"]
    assert len(result["policies"]) == 5
    # A limit on a figure not weighed: no more than 40 cancelled orders, and the fewest lapsed requests.
    limited = fr.frontier(hand_made, {"timeout_action": ["auto_cancel", "lapse"]},
                          ["requests_lapsed", "cancelled_orders"], ["cancelled_gmv<=400"], replicates=5)
    best = limited["policies"][limited["best"]]
    assert best["policy"] == {} and best["meets_limits"]


def test_frontier_figures_are_the_scenario_s_figures(hand_made):
    """A point's figures are the ones the What-if page shows for that policy as a scenario."""
    result = fr.frontier(hand_made, {"timeout_action": ["lapse"]}, ["cancelled_orders", "requests_lapsed"],
                         replicates=4, seed=3)
    point = next(e for e in result["policies"] if e["policy"] == {"timeout_action": "lapse"})
    scenario = simulate.simulate(hand_made, policy=Policy().with_values({"timeout_action": "lapse"}),
                                 replicates=4, seed=3)["scenario"]
    for name in ("cancelled_orders", "requests_lapsed"):
        assert point["figures"][name] == scenario[name]


def test_the_frontier_is_deterministic_given_the_seed_and_reports_progress(hand_made):
    seen = []
    args = (hand_made, {"seller_response_hours": [24, 48, 96]}, ["cancelled_orders", "requests_lapsed"])
    one = fr.frontier(*args, replicates=3, seed=9, progress=lambda f, t, pts: seen.append((f, len(pts))))
    fresh = simulate.prepare_frame(_frame(), "hand")
    two = fr.frontier(fresh, *args[1:], replicates=3, seed=9)
    assert json.dumps(one, default=str) == json.dumps(two, default=str)
    assert seen[-1] == (1.0, len(one["policies"]))


def test_refusals_are_one_line_problems(hand_made):
    with pytest.raises(PolicyError, match="seller_response_hours: “abc” is not a number"):
        fr.parse_vary("seller_response_hours=abc")
    with pytest.raises(PolicyError, match="unknown parameter"):
        fr.parse_vary("window=1")
    with pytest.raises(PolicyError, match="at most 200 policies"):
        fr.check_vary({"seller_response_hours": range(1, 30), "dispatch_deadline_days": range(1, 10)})
    with pytest.raises(PolicyError, match="1 to 3 parameters"):
        fr.check_vary({"seller_response_hours": [1], "dispatch_deadline_days": [2], "timeout_action": ["lapse"],
                       "late_dispatch_action": ["none"]})
    with pytest.raises(PolicyError, match="has no better direction"):
        fr.parse_weigh("cancelled_gmv,refunds")
    assert fr.parse_weigh("cancelled_gmv,refunds", {"refunds": "higher"})[1] == ("refunds", "higher")
    with pytest.raises(PolicyError, match="“nope” is unknown"):
        fr.parse_weigh("cancelled_gmv,nope")
    with pytest.raises(PolicyError, match="at least 2 replicates"):
        fr.frontier(hand_made, {"timeout_action": ["lapse"]}, ["cancelled_orders", "requests_lapsed"], replicates=1)
    assert fr.parse_limit("refund_wait_p90_business_days <= 5").op == "<="
    assert fr.parse_limit("cancelled_gmv>=1,000").bound == 1000


# ------------------------------------------------------------------------------------------------
# The command line.

def _cli(*args):
    return subprocess.run([sys.executable, "-m", "analytics", *args], cwd=ROOT, capture_output=True, text=True)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    from analytics import db
    from analytics.generate import generate

    path = tmp_path_factory.mktemp("frontier") / "f.duckdb"
    con = db.connect(path)
    generate(con, 5_000, 2)
    con.close()
    return str(path)


def test_cli_json_contract(demo_db):
    proc = _cli("frontier", "--db", demo_db, "--vary", "seller_response_hours=24,48", "--vary",
                "timeout_action=auto_cancel,lapse", "--weigh", "refund_wait_p90_business_days,cancelled_gmv",
                "--limit", "cancelled_orders<=100000", "--replicates", "3", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert {"dataset", "weigh", "policies", "best"} <= set(out)
    assert out["weigh"] == ["refund_wait_p90_business_days", "cancelled_gmv"]
    assert len(out["policies"]) == 5   # the grid of 4 and the data set's own policy
    for p in out["policies"]:
        assert set(p["figures"]) == {"refund_wait_p90_business_days", "cancelled_gmv", "cancelled_orders"}
        assert {"value", "low", "high", "orders_low", "orders_high"} <= set(p["figures"]["cancelled_gmv"])
        assert isinstance(p["on_frontier"], bool) and isinstance(p["extrapolated"], list)
    assert isinstance(out["best"], int) and out["policies"][out["best"]]["meets_limits"]
    assert any(p["on_frontier"] for p in out["policies"])


def test_cli_table(demo_db):
    proc = _cli("frontier", "--db", demo_db, "--vary", "seller_response_hours=24,48", "--weigh",
                "cancelled_orders,requests_lapsed", "--replicates", "3", "--limit", "cancelled_gmv<=1e9")
    assert proc.returncode == 0, proc.stderr
    assert "seller_response_hours" in proc.stdout and "frontier" in proc.stdout
    assert "the frontier, along Cancelled orders: #" in proc.stdout
    assert "Best with cancelled GMV at most" in proc.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["--vary", "seller_response_hours=abc"], "error: seller_response_hours: “abc” is not a number"),
    (["--vary", "seller_response_hours=24", "--weigh", "cancelled_gmv,nope"], "error: --weigh: “nope” is unknown"),
    (["--vary", "seller_response_hours=24", "--weigh", "cancelled_gmv,refunds"], "has no better direction"),
    (["--vary", "seller_response_hours=24", "--limit", "cancelled_gmv<x"], "error: --limit:"),
])
def test_cli_errors_are_one_line(demo_db, args, message):
    if "--weigh" not in args:
        args = [*args, "--weigh", "cancelled_gmv,cancelled_orders"]
    proc = _cli("frontier", "--db", demo_db, *args)
    assert proc.returncode == 2
    assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_the_frontier_is_the_same_replayed_by_several_processes(hand_made):
    """Shared out between forked workers (each its own replicates), the grid gives the same JSON, and the
    workers' figures are remembered here as this process's own are."""
    args = (hand_made, {"seller_response_hours": [24, 96], "late_dispatch_action": ["none", "auto_cancel"]},
            ["cancelled_orders", "requests_lapsed"], ["cancelled_orders<=60"])
    seen = []
    alone = fr.frontier(*args, replicates=5, seed=11, workers=1)
    fresh = simulate.prepare_frame(_frame(), "hand")
    shared = fr.frontier(fresh, *args[1:], replicates=5, seed=11, workers=3,
                         progress=lambda f, t, pts: seen.append((f, len(pts))))
    assert json.dumps(alone, default=str) == json.dumps(shared, default=str)
    assert seen[-1] == (1.0, len(shared["policies"]))
    assert all((Policy(seller_response_hours=96), 11, k) in fresh.memo for k in range(5))


def test_a_worker_that_fails_has_its_replicates_replayed_here(hand_made, monkeypatch, caplog):
    """A forked worker that stops (here: every replay in it raises) costs time, never figures: this
    process replays its replicates, and says so in the log."""
    parent = os.getpid()
    replicate = simulate.GridReplay.replicate

    def failing_in_a_worker(self, policies, k):
        if os.getpid() != parent:
            raise RuntimeError("a worker stopped")
        return replicate(self, policies, k)

    args = (hand_made, {"seller_response_hours": [24, 96]}, ["cancelled_orders", "requests_lapsed"])
    alone = fr.frontier(*args, replicates=4, seed=12, workers=1)
    monkeypatch.setattr(simulate.GridReplay, "replicate", failing_in_a_worker)
    fresh = simulate.prepare_frame(_frame(), "hand")
    shared = fr.frontier(fresh, *args[1:], replicates=4, seed=12, workers=2)
    assert json.dumps(alone, default=str) == json.dumps(shared, default=str)
    assert "a frontier worker stopped (RuntimeError: a worker stopped)" in caplog.text
