"""The What-if page's saved scenarios: save the current policy under a name, open or delete one, compare
several side by side with the baseline; the opened scenario's name in the caption. This browser session
sees only the scenarios it saved or opened by link (analytics.scenarios stores them)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import polars as pl
import streamlit as st

from analytics import charts, scenarios, simulate
from analytics import whatif_tables as wt
from analytics.policy import Parameter, Policy
from analytics.text import md
from ui import cached, downloads
from ui.database import connection, cursor, db_key
from ui.setup import PageContext, widget_key
from ui.whatif_controls import seed_controls
from ui.whatif_engine import simulated

KNOWN_SCENARIOS = "known_scenarios"  # session: scenario ids this session saved or opened by link
# The link's copy of them (the page's "saved" parameter), the newest LINKED_MAX: a reload of the page, or its
# link kept, lists them again (a session's list lived only as long as the session).
LINKED = widget_key("whatif", "saved")
LINKED_MAX = 30
KEEP_LINK = ("Saved scenarios are listed by the page's link: keep it (Copy link, in the sidebar) to find them "
             "again in another tab or another day; a new tab without it lists none.")


def remember_scenario(scenario_id: str) -> None:
    """Make a scenario visible (and replaceable, deletable) in this browser session, and in its link."""
    known = st.session_state.setdefault(KNOWN_SCENARIOS, [])
    if scenario_id not in known:
        known.append(scenario_id)
    link_known()


def forget_scenario(scenario_id: str) -> None:
    """A deleted scenario out of this session's list and its link."""
    st.session_state[KNOWN_SCENARIOS] = [i for i in st.session_state.get(KNOWN_SCENARIOS, []) if i != scenario_id]
    link_known()


def link_known() -> None:
    """This session's list into the page's link (opening the page seeds the link's own, maybe none)."""
    st.session_state[LINKED] = list(st.session_state.get(KNOWN_SCENARIOS, []))[-LINKED_MAX:]


def saved_scenarios(dataset_id: str) -> list[scenarios.Scenario]:
    """This session's scenarios of the data set, oldest first: never everyone's, as on a shared demo data
    set anyone could otherwise replace or delete them."""
    with cursor() as cur:
        return scenarios.list_for(cur, dataset_id, list(st.session_state.get(KNOWN_SCENARIOS, [])))


SAVED = "whatif_save_done"  # session: a save just succeeded, so the form starts empty again
SAVED_MESSAGE = "whatif_saved_message"  # session: what the save did, said in the saved scenarios' tab


def save_form(ctx: PageContext, dataset_id: str, policy: Policy) -> None:
    if st.session_state.pop(SAVED, False):
        # Emptied after a save (Enter in the name saves too): a second press of "Save scenario" must not
        # try the same name again. Set here, before the widgets are drawn, as Streamlit requires.
        st.session_state["whatif_save_name"] = ""
        st.session_state["whatif_save_replace"] = False
    with st.form("whatif_save", border=False):
        name = st.text_input("Save this scenario as", max_chars=scenarios.MAX_NAME, key="whatif_save_name",
                             placeholder="e.g. 48-hour window, lapse")
        replace = st.checkbox("Replace a saved scenario of the same name", key="whatif_save_replace", value=False)
        if st.form_submit_button("Save scenario", icon=":material/bookmark_add:"):
            clean = " ".join(name.split())
            listed = saved_scenarios(dataset_id)
            opened = st.session_state.get(ctx.k("scenario"))
            shown = next((s for s in listed if s.id == opened and s.policy == policy), None) if not clean else None
            if shown is not None:
                # Enter in the name saved it (and opened it) and emptied the box: a press of the button just
                # after is no second save, and no "needs a name" error in place of the message that it was saved.
                st.success(f"Saved as “{md(shown.name)}”.", icon=":material/bookmark_added:")
                return
            same = next((s for s in listed if s.name == clean), None)
            if same is not None and not replace:
                # Saving over a scenario loses it: only when asked.
                st.error(f"A scenario named “{md(clean)}” is already saved ({md(same.describe())}). Choose another name, "
                         "or tick “Replace a saved scenario of the same name” to overwrite it.",
                         icon=":material/error:")
                return
            try:
                saved = scenarios.save(connection(db_key()), dataset_id, name, policy,
                                       replace=same.id if same is not None else None)
            except ValueError as e:
                st.error(md(str(e).capitalize()) + ".")
            else:
                remember_scenario(saved.id)
                st.session_state[ctx.k("scenario")] = saved.id
                st.session_state[SAVED] = True
                st.session_state[SAVED_MESSAGE] = (f"Replaced “{md(saved.name)}”." if same is not None
                                                            else f"Saved “{md(saved.name)}”.") + " " + KEEP_LINK
                st.rerun()  # the whole page: the saved list and the comparison below change too


def open_scenario(ctx: PageContext, found: scenarios.Scenario, params: Sequence[Parameter],
                  prep: simulate.Prepared) -> None:
    seed_controls(ctx, found.policy, params, prep)
    st.session_state[ctx.k("scenario")] = found.id


def widget_keys(ctx: PageContext) -> list[str]:
    """The session-state keys of the saved scenarios' controls (kept while the section is not drawn)."""
    return [ctx.k("scenarios"), "whatif_pick"]


def scenarios_section(ctx: PageContext, dataset_id: str, policy: Policy, params: Sequence[Parameter],
                      prep: simulate.Prepared, replicates: int, seed: int) -> None:
    saved = saved_scenarios(dataset_id)
    message = st.session_state.pop(SAVED_MESSAGE, None)
    if message:
        st.success(message, icon=":material/bookmark_added:")
    if not saved:
        # Each session lists only its own scenarios (on a shared data set anyone could otherwise replace or
        # delete them): one saved in another session comes back with that page's link.
        st.caption(f"No scenario saved in this view: set the controls above and save them under a name. {KEEP_LINK}")
        return
    by_id = {s.id: s for s in saved}
    table = pl.DataFrame([{"name": s.name, "changes": s.describe(), "saved": s.created_at.strftime("%Y-%m-%d %H:%M")}
                          for s in saved])
    # A static table whose cells wrap: a grid cut a scenario's changes at 1280 px. Its cells are Markdown, so
    # the names and changes (a user's text) are escaped; the download keeps them as typed.
    st.table(table.select(pl.col("name").map_elements(md, return_dtype=pl.Utf8).alias("Name"),
                          pl.col("changes").map_elements(md, return_dtype=pl.Utf8).alias("Changes"),
                          pl.col("saved").alias("Saved")), hide_index=True)
    downloads.table_buttons(table, "saved-scenarios", key="wi_saved")
    pick, open_col, delete_col = st.columns([3, 1, 1], vertical_alignment="bottom")
    if st.session_state.get("whatif_pick") not in by_id:
        # The scenario it showed was replaced or deleted: start from the newest.
        st.session_state["whatif_pick"] = saved[-1].id
    chosen = pick.selectbox("Saved scenario", list(by_id), format_func=lambda i: by_id[i].name, key="whatif_pick")
    open_col.button("Open", key="whatif_open", on_click=open_scenario, args=(ctx, by_id[chosen], params, prep),
                    icon=":material/open_in_browser:", help="Set the controls to this scenario's policy.")
    if delete_col.button("Delete", key="whatif_delete", icon=":material/delete:"):
        with cursor() as cur:
            scenarios.delete(cur, dataset_id, chosen)
        forget_scenario(chosen)
        if st.session_state.get(ctx.k("scenario")) == chosen:
            st.session_state[ctx.k("scenario")] = None
        st.rerun()

    st.markdown("**Compare** saved scenarios side by side with the baseline (and the current controls, when "
                "they differ from every scenario compared)")
    key = ctx.k("scenarios")
    st.session_state[key] = [i for i in st.session_state.get(key) or [] if i in by_id]
    compared = st.multiselect("Scenarios to compare", list(by_id), format_func=lambda i: by_id[i].name, key=key,
                              max_selections=6, placeholder="Choose two or more")
    if not compared:
        return
    variants = {"Baseline": simulated(dataset_id, Policy(), replicates, seed)["baseline"]}
    policies = [by_id[i].policy for i in compared]

    def add(name: str, variant_policy: Policy) -> None:
        # Marked as the scenario's own table marks it: beyond the data, its figures rest on assumptions.
        result = simulated(dataset_id, variant_policy, replicates, seed)
        variants[name + (" (extrapolated)" if result.get("extrapolated") else "")] = result["scenario"]

    if policy.changes() and policy not in policies:
        add("Current controls", policy)
    for scenario_id, scenario_policy in zip(compared, policies, strict=True):
        add(by_id[scenario_id].name, scenario_policy)
    currency = cached.money_format(dataset_id, "")
    downloads.chart(partial(charts.comparison_chart, wt.comparison_frame(variants, wt.TILES, currency), "Value"),
                    "saved-scenarios-compared", key="wi_cmp_chart")
    st.caption(f"Each cell: the estimate and, under it, its 95% interval for a {wt.NEXT_PERIOD}.")
    side_by_side = wt.comparison_table(variants, currency=currency)
    st.table(compared_shown(side_by_side), hide_index=True)
    downloads.table_buttons(side_by_side, "saved-scenarios-compared", key="wi_cmp_table")


def _estimate_over_interval(cell: str) -> str:
    """'3,153 (2,943 – 3,363)' as Markdown on two lines, the estimate over its interval, each escaped."""
    value, bracket, interval = cell.partition(" (")
    return md(value) + (f"  \n{md(bracket.strip() + interval)}" if bracket else "")


def compared_shown(compared: pl.DataFrame) -> pl.DataFrame:
    """The saved scenarios compared, as a static table whose cells wrap: with up to eight variants (six
    scenarios, the baseline and the current controls) a grid cut its last columns at 1280 px. Each variant's
    cell holds the estimate over its interval; every header and cell is escaped Markdown, as a scenario's
    name is a user's text (the download keeps the text as it is)."""
    return compared.select(
        pl.col(c).map_elements(md if c == "Figure" else _estimate_over_interval, return_dtype=pl.Utf8).alias(md(c))
        for c in compared.columns)


def opened_scenario(ctx: PageContext, dataset_id: str, policy: Policy) -> str | None:
    """The caption's words for the opened scenario: "“name”", "modified from “name”" or None. Once the
    controls differ from the opened scenario's policy, the link stops naming it (it would reopen the old
    policy, not what is on screen)."""
    key = ctx.k("scenario")
    scenario_id = st.session_state.get(key)
    if scenario_id:
        with cursor() as cur:
            found = scenarios.get(cur, dataset_id, scenario_id)
        if found is not None and found.policy == policy:
            st.session_state["whatif_opened_name"] = found.name
            return f"“{found.name}”"
        st.session_state[key] = None
        if found is None:
            st.session_state.pop("whatif_opened_name", None)
    name = st.session_state.get("whatif_opened_name")
    return f"modified from “{name}”" if name else None
