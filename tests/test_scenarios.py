"""Saved what-if scenarios: stored per data set with only their changes, replaced by name, listed,
opened and deleted."""

import json

import pytest

from analytics import db, scenarios
from analytics.policy import Policy


@pytest.fixture
def con(tmp_path):
    c = db.connect(tmp_path / "s.duckdb")
    yield c
    c.close()


def test_save_list_get_delete(con):
    policy = Policy().with_values({"seller_response_hours": 48, "timeout_action": "lapse"})
    saved = scenarios.save(con, "ds1", "  Shorter   window ", policy)
    assert saved.name == "Shorter window"
    assert saved.changes == {"seller_response_hours": 48.0, "timeout_action": "lapse"}
    stored = con.execute("SELECT CAST(policy AS VARCHAR) FROM scenarios WHERE id = ?", [saved.id]).fetchone()[0]
    assert json.loads(stored) == {"seller_response_hours": 48.0, "timeout_action": "lapse"}
    scenarios.save(con, "ds2", "Other data set", Policy())
    assert [s.name for s in scenarios.list_for(con, "ds1")] == ["Shorter window"]
    opened = scenarios.get(con, "ds1", saved.id)
    assert opened.policy == policy
    assert opened.describe() == "Seller's response window = 48 hours, When the window runs out = let the request lapse"
    assert scenarios.get(con, "ds2", saved.id) is None  # a scenario belongs to its data set
    scenarios.delete(con, "ds1", saved.id)
    assert scenarios.list_for(con, "ds1") == []


def test_saving_replaces_only_the_scenario_named_by_id(con):
    mine = scenarios.save(con, "ds1", "A", Policy().with_values({"seller_response_hours": 24}))
    theirs = scenarios.save(con, "ds1", "A", Policy().with_values({"seller_response_hours": 48}))
    second = scenarios.save(con, "ds1", "A", Policy().with_values({"seller_response_hours": 96}), replace=mine.id)
    found = scenarios.list_for(con, "ds1")
    assert {s.id for s in found} == {theirs.id, second.id}  # someone else's "A" is untouched
    assert scenarios.get(con, "ds1", second.id).policy.seller_response_hours == 96.0


def test_listing_only_some_ids(con):
    a = scenarios.save(con, "ds1", "A", Policy())
    scenarios.save(con, "ds1", "B", Policy())
    assert [s.id for s in scenarios.list_for(con, "ds1", [a.id, "unknown"])] == [a.id]
    assert scenarios.list_for(con, "ds1", []) == []


def test_a_baseline_scenario_stores_no_changes(con):
    saved = scenarios.save(con, "ds1", "Baseline copy", Policy())
    assert saved.changes == {} and saved.describe() == "the baseline policy"


@pytest.mark.parametrize("name", ["", "   ", "x" * 81])
def test_names_are_checked(con, name):
    with pytest.raises(ValueError):
        scenarios.save(con, "ds1", name, Policy())


def test_a_stored_value_that_no_longer_validates_is_left_at_its_default(con):
    con.execute("INSERT INTO scenarios VALUES ('sid', 'ds1', 'Old', ?, now())",
                [json.dumps({"seller_response_hours": -5, "timeout_action": "lapse", "gone": 1})])
    old = scenarios.get(con, "ds1", "sid")
    assert old.policy == Policy().with_values({"timeout_action": "lapse"})
