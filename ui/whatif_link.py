"""The What-if page and its link: the policy in the link is `Policy.to_query()` (only what differs from the
baseline), written by the page; a link's policy, or its saved scenario, seeds the controls on opening."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from analytics import scenarios, simulate
from analytics.params import notices as link_notices
from analytics.policy import PARAMETERS_BY_NAME, Parameter, Policy
from ui.database import cursor
from ui.setup import PageContext, sync_url
from ui.whatif_controls import seed_controls
from ui.whatif_scenarios import link_known, remember_scenario

POLICY_KEYS = frozenset(PARAMETERS_BY_NAME)


def own_keys() -> frozenset[str]:
    """The link parameters this page parses itself: the policy's, including a refund channel for a payment
    method of the data set's own (checked against the data set once it is loaded)."""
    return POLICY_KEYS | {k for k in st.query_params if k.startswith("refund_channel.")}


def policy_from_link(ctx: PageContext, dataset_id: str, params: Sequence[Parameter],
                     prep: simulate.Prepared) -> None:
    """On opening the page: the link's policy (or its scenario's, when it names only a scenario) into the
    controls, with a notice for anything refused (a payment method the data set does not have too)."""
    given = {k: v for k, v in ctx.raw.items() if k in POLICY_KEYS or k.startswith("refund_channel.")}
    policy, problems = Policy.from_query(given, parameters=params)
    ctx.notices.extend(link_notices(problems))
    scenario_id = ctx.values.get("scenario")
    # A link's scenario, those it compares and those its session had saved join this session's list: the
    # unguessable id is the key.
    for linked in [scenario_id, *(ctx.values.get("scenarios") or ()), *(ctx.values.get("saved") or ())]:
        if linked:
            with cursor() as cur:
                if scenarios.get(cur, dataset_id, linked) is not None:
                    remember_scenario(linked)
    link_known()
    if scenario_id:
        with cursor() as cur:
            found = scenarios.get(cur, dataset_id, scenario_id)
        if found is None:
            ctx.notices.append("The link's saved scenario was not found for this data set; showing the policy "
                               "the link describes.")
            st.session_state[ctx.k("scenario")] = None
        elif not given:
            policy = found.policy
    seed_controls(ctx, policy, params, prep)


def sync(ctx: PageContext, policy: Policy) -> None:
    """The policy into the link (from a fragment's rerun too)."""
    ctx.extra_query = policy.to_query()
    sync_url(ctx)
