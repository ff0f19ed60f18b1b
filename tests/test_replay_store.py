"""The what-if engine's arrays kept beside the database (replay_store.py): built when a data set is
stored, opened by a later process without reading the orders, giving the very figures the orders give,
rebuilt when stale, gone with their data set."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import polars as pl
import pytest

from analytics import db, replay_store, simulate
from analytics.generate import generate
from analytics.orders import load_orders
from analytics.policy import Policy

POLICIES = [Policy(), Policy(seller_response_hours=24), Policy(dispatch_deadline_days=5, late_dispatch_action="auto_cancel")]


@pytest.fixture()
def stored(tmp_path):
    path = tmp_path / "lab.duckdb"
    con = db.connect(path)
    dataset = generate(con, 2_000, 11, name="stored").dataset
    simulate.store_dataset(con, dataset.id)
    con.close()
    return path, dataset


def _figures(result: dict) -> str:
    return json.dumps({k: v for k, v in result.items() if k != "dataset"}, sort_keys=True, default=str)


def test_the_store_is_written_when_the_data_set_is_stored(stored):
    path, dataset = stored
    where = path.with_suffix(".whatif") / dataset.id
    manifest = json.loads((where / "manifest.json").read_text())
    assert manifest["dataset"] == dataset.id and manifest["orders"] == 2_000
    # the default replicates' bootstrap tallies are kept with the arrays
    assert [(b["seed"], b["replicate"]) for b in manifest["resamples"]] == [
        (0, k) for k in range(simulate.DEFAULT_REPLICATES)]
    assert np.load(where / "key.npy").shape == (2_000,)


def test_a_new_process_replays_from_the_store_without_reading_the_orders(stored):
    path, dataset = stored
    con = db.connect(path)
    prep = simulate.prepare_dataset(con, dataset.id)
    assert prep.loaded_frame() is None             # the arrays came from the store
    # ... and the baseline's default replicates, which the What-if page shows first, were kept too
    assert {key for key in prep.memo} == {(Policy(), 0, k) for k in range(simulate.DEFAULT_REPLICATES)}
    frame = load_orders(con, dataset.id)
    fresh = simulate.prepare_frame(frame, dataset.id, calibration=prep.calibration)
    for policy in POLICIES:
        ours = simulate.simulate(prep, policy=policy)
        theirs = simulate.simulate(fresh, policy=policy)
        assert _figures(ours) == _figures(theirs), policy
    # the orders frame is there when asked for (the calibration's charts), and it is the data set's
    assert prep.frame.equals(frame)
    assert prep.loaded_frame() is not None


def test_the_kept_bootstrap_weights_are_in_memory_not_mapped(stored):
    """np.bincount copies a read-only weights array at each call (a mapped file's is read-only): the
    weights every replay of a replicate counts with are loaded into memory."""
    path, dataset = stored
    con = db.connect(path)
    prep = simulate.prepare_dataset(con, dataset.id)
    weights = [boot.small for boot in prep.kept.values()]
    assert len(weights) == simulate.DEFAULT_REPLICATES
    assert all(w is not None and w.flags.writeable and w.flags.owndata for w in weights)


def test_a_policy_change_replays_with_the_replicates_draws_made_once(stored, monkeypatch):
    """The replicates' policy-free draws (replay.latent) are made at the first replay and kept on the
    data set: later policies only apply their rules to them, with the figures a fresh draw gives."""
    path, dataset = stored
    con = db.connect(path)
    prep = simulate.prepare_dataset(con, dataset.id)
    calls = []
    real = simulate.latent
    monkeypatch.setattr(simulate, "latent", lambda *a, **k: calls.append(a[3]) or real(*a, **k))
    first = simulate.simulate(prep, policy=POLICIES[1])
    assert sorted(calls) == list(range(simulate.DEFAULT_REPLICATES))
    second = simulate.simulate(prep, policy=POLICIES[2])
    assert len(calls) == simulate.DEFAULT_REPLICATES   # none drawn again
    assert prep.draws.total_bytes() > 0
    fresh = dataclasses.replace(prep, memo=simulate.new_memo(), draws=simulate.new_draws())
    assert _figures(simulate.simulate(fresh, policy=POLICIES[1])) == _figures(first)
    assert _figures(simulate.simulate(fresh, policy=POLICIES[2])) == _figures(second)


def test_a_full_store_of_draws_still_draws_each_replicate_once_per_simulation(stored, monkeypatch):
    """When the data set's store of draws is full, a simulation's baseline and scenario still share each
    replicate's draws (replicate by replicate), drawn once, not once per policy."""
    path, dataset = stored
    con = db.connect(path)
    monkeypatch.setattr(simulate, "DRAW_BYTES", 1)   # nothing fits: every replicate is drawn at each ask
    prep = dataclasses.replace(simulate.prepare_dataset(con, dataset.id), memo=simulate.new_memo(), draws=simulate.new_draws())
    calls = []
    real = simulate.latent
    monkeypatch.setattr(simulate, "latent", lambda *a, **k: calls.append(a[3]) or real(*a, **k))
    result = simulate.simulate(prep, policy=POLICIES[1])
    assert sorted(calls) == list(range(simulate.DEFAULT_REPLICATES)) and prep.draws.total_bytes() == 0
    fresh = dataclasses.replace(prep, memo=simulate.new_memo(), draws=simulate.new_draws())
    monkeypatch.setattr(simulate, "DRAW_BYTES", 512 * 2**20)
    assert _figures(simulate.simulate(fresh, policy=POLICIES[1])) == _figures(result)


def test_a_stale_store_is_rebuilt(stored):
    path, dataset = stored
    manifest_path = path.with_suffix(".whatif") / dataset.id / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["code"] = "built-by-other-code"
    manifest_path.write_text(json.dumps(manifest))
    con = db.connect(path)
    assert replay_store.load(con, dataset) is None
    prep = simulate.prepare_dataset(con, dataset.id)
    assert prep.loaded_frame() is not None          # built from the orders ...
    assert json.loads(manifest_path.read_text())["code"] == replay_store.CODE   # ... and stored again
    assert replay_store.load(con, dataset) is not None


def test_a_store_of_another_data_set_of_the_same_id_is_not_used(stored):
    path, dataset = stored
    con = db.connect(path)
    other = db.Dataset(**{**dataset.__dict__, "orders": dataset.orders + 1})
    assert replay_store.load(con, other) is None


def test_deleting_the_data_set_deletes_its_store(stored):
    path, dataset = stored
    con = db.connect(path)
    db.delete_dataset(con, dataset.id)
    assert not (path.with_suffix(".whatif") / dataset.id).exists()


def test_a_database_in_memory_has_no_store():
    con = db.connect(":memory:")
    dataset = generate(con, 500, 3, name="in memory").dataset
    simulate.store_dataset(con, dataset.id)
    assert db.store_dir(con) is None
    prep = simulate.prepare_dataset(con, dataset.id)
    assert prep.loaded_frame() is not None
    assert simulate.simulate(prep, policy=Policy(seller_response_hours=24))["scenario"]["orders"]["value"] == 500


def test_the_cli_import_and_generate_build_the_store(tmp_path):
    from analytics.cli import main

    path = tmp_path / "cli.duckdb"
    assert main(["generate", "--db", str(path), "--orders", "800", "--seed", "2", "--name", "cli"]) == 0
    con = db.connect(path)
    dataset = db.resolve_dataset(con, "cli")
    assert replay_store.load(con, dataset) is not None
    con.close()
    csv = tmp_path / "orders.csv"
    pl.DataFrame({"order_id": ["A1", "A2"], "placed_at": ["2025-01-02 10:00:00", "2025-01-03 11:00:00"],
                  "payment_method": ["card", "card"], "amount": [10.0, 20.0]}).write_csv(csv)
    assert main(["import", "--db", str(path), str(csv), "--name", "two orders"]) == 0
    con = db.connect(path)
    assert replay_store.load(con, db.resolve_dataset(con, "two orders")) is not None


def test_the_kept_baseline_replays_are_for_one_calibration_only(stored):
    path, dataset = stored
    con = db.connect(path)
    prep = simulate.prepare_dataset(con, dataset.id)
    assert replay_store.load_replays(con, dataset, prep.calibration) is not None
    other = dataclasses.replace(prep.calibration, version=prep.calibration.version + 1)
    assert replay_store.load_replays(con, dataset, other) is None
    # a refit replays the baseline under the new fit (here the same fit: kept again, and the same figures)
    before = simulate.simulate(prep, policy=Policy())
    again = simulate.prepare_dataset(con, dataset.id, refit=True)
    assert len(again.memo) == simulate.DEFAULT_REPLICATES
    assert _figures(simulate.simulate(again, policy=Policy())) == _figures(before)
