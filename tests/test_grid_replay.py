"""Many policies replayed together (simulate.GridReplay, the frontier's engine) give each policy the
figures it gets replayed alone (simulate.replicate_figures on a fresh Prepared, nothing shared): the
request rule's policies share their request-free twin's replay of the orders that rule cannot change,
and a part of the orders replayed alone is that part of a replay of every order."""

import dataclasses
import math

import numpy as np
import pytest

from analytics import simulate
from analytics.generate import generate
from analytics.policy import Policy
from analytics.replay import (
    _CUT_ELSEWHERE,
    _PER_ORDER,
    _PER_REQUEST,
    _PER_SHIP,
    _WHOLE,
    awaiting_orders,
    latent,
    part,
    replay,
    request_free,
    settled,
)
from analytics.replay_data import ReplayData

SEED = 4


@pytest.fixture(scope="module")
def frame(tmp_path_factory):
    from analytics import db

    con = db.connect(tmp_path_factory.mktemp("grid") / "grid.duckdb")
    prep = simulate.prepare_dataset(con, generate(con, 6_000, 3).dataset.id)
    return prep.frame, prep.calibration


def _fresh(frame):
    return simulate.prepare_frame(frame[0], "grid", frame[1])


POLICIES = [
    Policy(),
    *(Policy(seller_response_hours=h, timeout_action=t) for h in (24, 120) for t in ("auto_cancel", "lapse")),
    *(Policy(seller_response_hours=h, dispatch_deadline_days=d, late_dispatch_action="auto_cancel")
      for h in (12, 72, 200) for d in (3, 9)),
    Policy(seller_consent_required=False, dispatch_deadline_days=3, late_dispatch_action="auto_cancel"),
    Policy(never_answer_share=0.2, seller_response_hours=300),
    Policy(never_answer_share=0.2, seller_response_hours=300, timeout_action="lapse"),
    *(Policy(seller_response_hours=h, premium_shipping_share=0.6) for h in (48, 96)),
    *(Policy(timeout_action=t).with_values({"refund_channel.cash": "original", "refund_days.wallet": 2})
      for t in ("auto_cancel", "lapse")),
]


def _close(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def test_every_policy_s_figures_are_its_own_replay_s(frame):
    shared = _fresh(frame)
    engine = simulate.GridReplay(shared, POLICIES, SEED)
    # Most policies share a twin with another; the twins of the grid are replayed over every order.
    assert len(engine.twin) >= 14 and engine.part is not None
    alone = _fresh(frame)
    for k in range(3):
        together = engine.replicate(POLICIES, k)
        for policy, got in zip(POLICIES, together, strict=True):
            want = simulate.replicate_figures(alone, policy, SEED, k, memo=False)
            for mine, theirs in zip(got, want, strict=True):
                assert mine.keys() == theirs.keys()
                moved = [n for n in theirs if not _close(mine[n], theirs[n])]
                assert not moved, (policy.changes(), k, {n: (mine[n], theirs[n]) for n in moved[:5]})
    # Remembered on the Prepared as replicate_figures remembers them: asking again replays nothing.
    assert all((p, SEED, 2) in shared.memo for p in POLICIES)


# As the What-if page's controls move: windows on both sides of the baseline's, each asked once, with
# and without a dispatch deadline, lapsing, consent off, a never-answer share, a refund channel moved.
PAGE_STEPS = [
    Policy(seller_response_hours=48),
    Policy(seller_response_hours=18),
    Policy(seller_response_hours=150),
    Policy(seller_response_hours=36, timeout_action="lapse"),
    Policy(seller_response_hours=48, dispatch_deadline_days=4, late_dispatch_action="auto_cancel"),
    Policy(seller_response_hours=20, dispatch_deadline_days=4, late_dispatch_action="auto_cancel"),
    Policy(seller_consent_required=False),
    Policy(never_answer_share=0.2, seller_response_hours=30),
    Policy(seller_response_hours=30).with_values({"refund_channel.cash": "original"}),
    Policy(seller_response_hours=18),   # asked before: remembered
]


def test_the_page_s_policies_share_their_twin_and_get_their_own_replay_s_figures(frame):
    """simulate's replicates of a request-rule policy go through the Prepared's open-ended grid, which
    learns each window as it is asked for; every policy's figures are still its own replay's."""
    shared = _fresh(frame)
    alone = _fresh(frame)
    for policy in PAGE_STEPS:
        assert simulate.shares_twins(shared, [Policy(), policy], 3)
        summaries = simulate._summaries(shared, [Policy(), policy], 3, SEED, share_twins=True)
        for k in range(3):
            want = simulate.replicate_figures(alone, policy, SEED, k, memo=False)
            for part_of, theirs in zip(summaries[1], want, strict=True):
                moved = [n for n in theirs if not _close(float(part_of[n][k]), theirs[n])]
                assert not moved, (policy.changes(), k, {n: (float(part_of[n][k]), theirs[n]) for n in moved[:5]})
    grid = shared.grids[SEED]
    assert grid.open_ended and grid.part is not None
    # The baseline's twin was replayed over every order once per replicate, its tallies kept with the
    # windows asked for since; the dispatch deadline's twin alike.
    kept = {twin for twin, _ in grid.others.keys()}
    assert kept == {Policy(), Policy(dispatch_deadline_days=4, late_dispatch_action="auto_cancel"),
                    Policy().with_values({"refund_channel.cash": "original"})}
    windows = {within for _, _, within in grid.windows.keys()}
    assert len(windows) >= 4   # each kept apart from its twin's group, which is never changed once made
    # A window's tallies are made from the orders it settles where they are fewer than half the part, else
    # from every order of the part less those it does not settle: the steps above took both ways.
    cut = grid._cut(0, simulate._shared(shared, SEED, 0)[3])
    shares = {float(settled(cut[0].data, cut[1], w).mean()) for w in windows}
    assert min(shares) < 0.5 < max(shares), shares
    assert set(grid.others.get((Policy(), 0), pytest.fail)) == {"rest", "awaiting", "columns"}
    # What it keeps is counted (the pages' cache of Prepared data sets weighs it: ui.cached.prepared_bytes).
    columns = len(awaiting_orders(shared.data)) * 15 * 3   # 15 arrays of the part's orders, 3 twins
    assert columns <= grid.total_bytes() <= simulate.OPEN_GRID_BYTES * 1.25


def test_the_warm_up_makes_the_baseline_s_tallies_the_first_change_then_uses(frame, monkeypatch):
    """What-if's first open starts simulate.warm_up: once per data set, seed and replicates, a thread makes
    each replicate's draws and the baseline twin's tallies, so the first move of the response window
    replays only its requests; its figures are the same."""
    prep = _fresh(frame)
    thread = simulate.warm_up(prep, SEED, 3, delay=0)
    assert thread is not None
    thread.join(60)
    assert simulate.warm_up(prep, SEED, 3, delay=0) is None   # once
    grid = prep.grids[SEED]
    assert sorted(grid.others.keys(), key=lambda key: key[1]) == [(Policy(), k) for k in range(3)]
    simulate._summaries(prep, [Policy()], 3, SEED)   # the baseline, as the page's first open shows it
    replayed = []
    monkeypatch.setattr(simulate, "replay", lambda data, *a, **k: replayed.append(data.n) or replay(data, *a, **k))
    policy = Policy(seller_response_hours=40)
    summaries = simulate._summaries(prep, [Policy(), policy], 3, SEED, share_twins=True)
    assert replayed and max(replayed) < prep.data.n / 4   # the requests alone, never every order
    alone = _fresh(frame)
    for k in range(3):
        want = simulate.replicate_figures(alone, policy, SEED, k, memo=False)
        for part_of, theirs in zip(summaries[1], want, strict=True):
            assert all(_close(float(part_of[n][k]), theirs[n]) for n in theirs)


def test_two_sessions_moving_the_window_at_once_get_the_same_figures(frame):
    """The What-if pages of two sessions share a data set's open-ended grid: moving the window at the same
    moment, each gets its own figures (what one makes the other takes, nothing kept is changed)."""
    from concurrent.futures import ThreadPoolExecutor

    prep = _fresh(frame)
    windows = [18, 30, 44, 60, 100, 18, 44]
    with ThreadPoolExecutor(4) as pool:
        runs = list(pool.map(lambda h: simulate._summaries(prep, [Policy(), Policy(seller_response_hours=h)], 4, SEED, share_twins=True)[1],
                             windows * 2))
    alone = _fresh(frame)
    for h, got in zip(windows * 2, runs, strict=True):
        want = simulate.replicate_figures(alone, Policy(seller_response_hours=h), SEED, 3, memo=False)
        for part_of, theirs in zip(got, want, strict=True):
            assert all(_close(float(part_of[n][3]), theirs[n]) for n in theirs), h


def test_a_one_off_simulate_replays_its_policy_alone(frame):
    """The command line's simulate asks for one policy: making its twin's tallies would cost more than they
    save, so only the page (share_twins) goes through the open-ended grid."""
    prep = _fresh(frame)
    simulate.simulate(prep, policy=Policy(seller_response_hours=24), replicates=3, seed=SEED)
    assert not prep.grids
    simulate.simulate(prep, policy=Policy(seller_response_hours=30), replicates=3, seed=SEED, share_twins=True)
    assert prep.grids[SEED].others.keys()


def test_a_grid_too_large_for_its_bytes_replays_each_policy_alone(frame, monkeypatch):
    """The open-ended grid keeps the part's columns of every replicate; when they would not fit its bytes,
    each policy is replayed alone (the twin's columns made again at every change would cost more)."""
    prep = _fresh(frame)
    policies = [Policy(), Policy(seller_response_hours=24)]
    assert simulate.shares_twins(prep, policies, 10)
    assert not simulate.shares_twins(prep, [Policy(), Policy(dispatch_deadline_days=4)], 10)   # no twin to share
    monkeypatch.setattr(simulate, "OPEN_GRID_BYTES", len(awaiting_orders(prep.data)) * simulate._COLUMN_BYTES * 9)
    assert not simulate.shares_twins(prep, policies, 10)
    simulate._summaries(prep, policies, 10, SEED, share_twins=True)
    assert not prep.grids


def test_the_policies_do_differ(frame):
    """The check above compares figures that move: the window and the timeout action change them."""
    prep = _fresh(frame)
    figures = simulate.GridReplay(prep, POLICIES, SEED).replicate(POLICIES[1:5], 0)
    lapsed = [f[0]["requests_lapsed"] for f in figures]
    cancelled = [f[0]["cancelled_orders"] for f in figures]
    # 24 h then 120 h, each auto-cancelling then lapsing: a longer window leaves fewer requests to lapse.
    assert lapsed[0] == lapsed[2] == 0 and lapsed[1] > lapsed[3] > 0
    assert cancelled[0] > cancelled[1] and len(set(cancelled)) == 4


def test_a_part_replayed_alone_is_that_part_of_the_whole_replay(frame):
    prep = _fresh(frame)
    data = prep.data
    orders = awaiting_orders(data)
    cut = part(data, orders)
    calibration = prep.calibration.drawn(SEED, 1)
    lat = latent(data, calibration, SEED, 1)
    policy = Policy(seller_response_hours=30, timeout_action="lapse", never_answer_share=0.1,
                    dispatch_deadline_days=4, late_dispatch_action="auto_cancel")
    whole = replay(data, calibration, policy, lat, all_orders=True)
    alone = replay(cut.data, calibration, policy, cut.latent(lat))
    at = np.searchsorted(whole.view.idx, orders)
    for name in ("cancelled", "cancel_at", "outcome", "return_path", "dispatch_cancelled", "refunded",
                 "refund_channel", "shipped", "ship_method", "transit_days"):
        assert np.array_equal(getattr(alone, name), getattr(whole, name)[at]), name
    assert np.array_equal(alone.refund_done, whole.refund_done[at], equal_nan=True)
    mine = np.isin(data.r_idx, orders)
    assert np.array_equal(alone.wait_days, whole.wait_days[mine])
    assert (alone.outcome == 5).sum() > 0 and alone.dispatch_cancelled.any()   # the rules did bite


def test_request_free_keeps_every_other_parameter():
    p = Policy(seller_response_hours=10, timeout_action="lapse", seller_consent_required=False, never_answer_share=0.3,
               dispatch_deadline_days=4, late_dispatch_action="auto_cancel", premium_shipping_share=0.5)
    assert request_free(p) == Policy(dispatch_deadline_days=4, late_dispatch_action="auto_cancel",
                                     premium_shipping_share=0.5)


def test_every_field_of_the_replay_data_is_cut_or_kept():
    """A new field of ReplayData must say how a part takes it (replay.part)."""
    named = set(_PER_ORDER) | set(_PER_REQUEST) | set(_PER_SHIP) | set(_CUT_ELSEWHERE) | set(_WHOLE)
    assert named == {f.name for f in dataclasses.fields(ReplayData)}
