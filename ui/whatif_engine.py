"""The what-if engine's calls, cached: the data set loaded and calibrated, a replay under a policy, a
sweep, the engine's self-check. Keys are small values (the database, the data set id, a Policy, a few
numbers)."""

from __future__ import annotations

import streamlit as st

from analytics import simulate
from analytics.policy import Policy
from ui import cached
from ui.database import db_key, on_spark


def prepared(dataset_id: str) -> simulate.Prepared:
    """The data set loaded and calibrated, kept within the process's limits (ui.cached.prepared)."""
    return cached.prepared(dataset_id)


@st.cache_data(max_entries=256, ttl=cached.TTL, show_spinner=False)
def _simulated(database: str, dataset_id: str, policy: Policy, replicates: int, seed: int) -> dict:
    if on_spark(dataset_id):
        return cached.spark_whatif(dataset_id).simulate(policy, replicates, seed)
    # share_twins: on this page policy after policy follows, each move of the request rule's controls cheaper.
    return simulate.simulate(prepared(dataset_id), policy=policy, replicates=replicates, seed=seed, share_twins=True)


def simulated(dataset_id: str, policy: Policy, replicates: int, seed: int) -> dict:
    result = _simulated(db_key(), dataset_id, policy, int(replicates), int(seed))
    if not on_spark(dataset_id):   # the first move of the request rule's controls, made ready meanwhile
        simulate.warm_up(prepared(dataset_id), int(seed), int(replicates))
    return result


@st.cache_data(max_entries=64, ttl=cached.TTL, show_spinner=False)
def _swept(database: str, dataset_id: str, param: str, values: tuple, policy: Policy, replicates: int, seed: int):
    result = simulate.sweep(prepared(dataset_id), param, list(values), policy=policy, replicates=replicates, seed=seed,
                            share_twins=True)
    return simulate.sweep_frame(result)


def swept(dataset_id: str, param: str, values: tuple, policy: Policy, replicates: int, seed: int):
    """simulate.sweep of one parameter over values, the others as in policy, as a frame (sweep_frame)."""
    return _swept(db_key(), dataset_id, param, tuple(values), policy, int(replicates), int(seed))


@st.cache_data(max_entries=16, ttl=cached.TTL, show_spinner=False)
def _self_check(database: str, dataset_id: str) -> dict:
    return simulate.self_check(prepared(dataset_id))


def self_check(dataset_id: str) -> dict:
    """simulate.self_check: the data set replayed under its own policy."""
    return _self_check(db_key(), dataset_id)
