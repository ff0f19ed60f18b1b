"""A replay's replicates run on threads at once for a large data set (simulate._each): the figures and
intervals are those of the replicates run one after another, to the last digit."""

import dataclasses

import pytest

from analytics import db, simulate
from analytics.generate import generate
from analytics.policy import Policy


@pytest.fixture(scope="module")
def prep(tmp_path_factory):
    con = db.connect(tmp_path_factory.mktemp("threads") / "t.duckdb")
    return simulate.prepare_dataset(con, generate(con, 4_000, 5).dataset.id)


def _fresh(prep):
    return dataclasses.replace(prep, memo=simulate.new_memo(), draws=simulate.new_draws())


def test_replicates_on_threads_give_the_figures_of_replicates_one_by_one(prep, monkeypatch):
    policy = Policy(seller_response_hours=30, dispatch_deadline_days=2)
    monkeypatch.setattr(simulate, "THREADED_FROM", 10**12)
    alone = simulate.simulate(_fresh(prep), policy=policy, seed=3)
    monkeypatch.setattr(simulate, "THREADED_FROM", 0)
    threaded = simulate.simulate(_fresh(prep), policy=policy, seed=3)
    assert threaded == alone


def test_the_threads_run_each_replicate_once_in_order(monkeypatch):
    monkeypatch.setattr(simulate, "THREADED_FROM", 0)
    seen = []
    assert simulate._each(lambda k: seen.append(k) or k * k, range(6), orders=10) == [0, 1, 4, 9, 16, 25]
    assert sorted(seen) == list(range(6))
