"""What-if: replay the data set's orders under another policy. Baseline and scenario side by side, with
their differences and 95% intervals (for a next period like this one, and for these same orders); a sweep of one parameter; the
policy frontier of a grid of policies; saved scenarios, compared; and the
calibration behind the numbers."""

import streamlit as st

import ui
from analytics import external, frontier, scenarios, simulate, sweep_choices, whatif_notes
from analytics import whatif_tables as wt
from analytics.links import Param
from analytics.text import md
from ui import (
    cached,
    views,
    whatif_calibration,
    whatif_controls,
    whatif_engine,
    whatif_frontier,
    whatif_link,
    whatif_results,
    whatif_scenarios,
    whatif_sweep,
)

# The tabs under the figures (the link's `section`): the open one is the only one drawn.
SECTIONS = {"figures": "Every figure", "sweep": "Sweep one parameter", "frontier": "Policy frontier",
            "scenarios": "Saved scenarios"}
SECTION = Param("section", "choice", "figures", choices=tuple(SECTIONS), label="section shown")
PARAMS = (
    SECTION,
    Param("scenario", "token", None, min_len=8, max_len=64, label="saved scenario"),
    # Not "compare": the sidebar's comparison of periods is linked under that name on every page.
    Param("scenarios", "labels", (), identifiers=True, max_items=6, label="scenarios compared"),
    # The scenarios this session saved or opened, so a reload (or the link kept) lists them again.
    Param("saved", "labels", (), identifiers=True, max_items=whatif_scenarios.LINKED_MAX, label="saved scenarios"),
    Param("replicates", "integer", simulate.DEFAULT_REPLICATES, minimum=2, maximum=100, label="replicates"),
    Param("seed", "integer", 0, minimum=0, maximum=1_000_000_000, label="seed"),
    # No fixed default: the sweep starts with a parameter that changes something on the data set.
    Param("sweep", "choice", None, choices=sweep_choices.SWEEPABLE, label="swept parameter"),
    Param("sweep_figures", "labels", (), choices=wt.SWEEP_FIGURES, max_items=3, label="swept figures"),
    *frontier.LINK_PARAMS,
)

def opened_section(ctx) -> str | None:
    """The tab a run opens itself: the saved scenarios after a save (its message is there); on opening a
    link that names no tab (one made before the tabs), the frontier it says is drawn, or the saved scenarios
    when it opens or compares one."""
    if whatif_scenarios.SAVED_MESSAGE in st.session_state:
        return "scenarios"
    if ctx.arriving and SECTION.name not in st.session_state.get(f"_{ctx.key}_given", set()):
        if ctx.values.get(frontier.LINK_DRAWN.name):
            return "frontier"
        if st.session_state.get(ctx.k("scenario")) or ctx.values.get("scenarios"):   # (one found: whatif_link)
            return "scenarios"
    return None


with ui.page("whatif", "What-if", PARAMS, filters=False, own_keys=whatif_link.own_keys()) as ctx:
    dataset = ctx.require_dataset(on_spark=True)
    spark = external.on_spark(dataset)
    st.caption(
        f"**{md(dataset.name)}**: every order of the data set replayed under the policy you set. What the data "
        "cannot show (an answer after the old window, a ship time for an order cancelled first, a refund through "
        "another channel) is drawn from distributions fitted to this data set; baseline and scenario share the "
        "same draws, so a difference is the policy's effect. Page filters do not apply here."
    )
    with st.spinner("Reading the source on Spark and fitting its calibration…" if spark else
                    "Loading the data set and fitting its calibration…"):
        prep = whatif_engine.prepared(dataset.id)
    params = whatif_controls.parameters(prep)
    if ctx.arriving:
        whatif_link.policy_from_link(ctx, dataset.id, params, prep)
    whatif_sweep.sweep_defaults(ctx, prep)
    whatif_frontier.frontier_defaults(ctx, prep, params)
    applies = whatif_notes.applies(prep)
    if applies:
        st.info(applies, icon=":material/info:")

    with st.expander("Engine settings"):
        left, right = st.columns(2)
        replicates = left.number_input("Replicates", min_value=2, max_value=100, step=1, key=ctx.k("replicates"),
                                       help="Replays, each with its own draws, fitted parameters and resampled orders; the "
                                            "95% intervals come from their spread. More replicates: steadier "
                                            f"intervals, slower answers. Default: "
                                            f"{simulate.DEFAULT_REPLICATES}.")
        seed = right.number_input("Seed", min_value=0, max_value=1_000_000_000, step=1, key=ctx.k("seed"),
                                  help="The same seed gives the same draws, hence the same figures.")

    @st.fragment
    def policy_panel() -> None:
        # Moving a control reruns this panel only; everything that depends on the policy is inside it, so
        # the tiles, the sweep and the comparison always describe the same, current policy.
        controls_col, results_col = st.columns([1, 2], gap="large")
        with controls_col:
            st.subheader("Policy")
            whatif_controls.controls(ctx, params, prep)
            st.button("Back to the baseline", key="whatif_reset", on_click=whatif_controls.reset_controls,
                      args=(ctx, params, prep), icon=":material/restart_alt:")
        policy, problem = whatif_controls.current_policy(ctx, params)
        with results_col:
            st.subheader("Baseline and scenario")
            if problem:
                st.error(f"This policy cannot be replayed: {md(problem)}. Showing the baseline.", icon=":material/error:")
            changes = policy.changes()
            opened = whatif_scenarios.opened_scenario(ctx, dataset.id, policy)
            st.caption("Scenario" + (f" ({md(opened)})" if opened else "") + ": "
                       + (md(scenarios.describe(changes)) if changes
                          else "the baseline policy (change a control on the left)."))
            result = whatif_engine.simulated(dataset.id, policy, int(replicates), int(seed))
            # Amounts in the data set's currency, as the Overview writes them: the money format's code ('USD ').
            currency = cached.money_format(dataset.id, "")
            whatif_results.results(result, currency)
        whatif_scenarios.save_form(ctx, dataset.id, policy)
        if spark:
            whatif_results.every_figure(result, currency)
            st.info(external.WHATIF_ON_SPARK, icon=":material/info:")
            whatif_link.sync(ctx, policy)
            return

        # The deeper tools in tabs, only the open one computed and drawn: moving a control redraws the figures
        # and the open tab, not the sweep's, the frontier's and the saved scenarios' controls every time.
        shown, tab = views.link_tabs(ctx, SECTION, SECTIONS, opened=opened_section(ctx), kept={
            "sweep": whatif_sweep.widget_keys(ctx), "frontier": whatif_frontier.widget_keys(ctx),
            "scenarios": whatif_scenarios.widget_keys(ctx)})
        with tab:
            if shown == "figures":
                whatif_results.every_figure(result, currency)
            elif shown == "sweep":
                whatif_sweep.sweep_section(ctx, dataset.id, policy, params, prep, int(replicates), int(seed))
            elif shown == "frontier":
                whatif_frontier.frontier_section(ctx, dataset.id, policy, params, prep, int(replicates), int(seed))
            else:
                whatif_scenarios.scenarios_section(ctx, dataset.id, policy, params, prep, int(replicates), int(seed))
        whatif_link.sync(ctx, policy)

    policy_panel()
    policy, _ = whatif_controls.current_policy(ctx, params)
    ctx.extra_query = policy.to_query()

    with st.expander("The calibration behind the numbers"):
        if spark:
            st.caption("Not drawn on Spark: the calibration's charts plot every order on one machine.")
        elif st.toggle("Show the calibration", key=ctx.k("calibration_shown")):
            whatif_calibration.calibration_section(dataset, prep)
