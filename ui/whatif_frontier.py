"""The What-if page's frontier: two or three levers with their values, two figures weighed against each
other, limits; the policies replayed with a progress bar and their points drawn as they come; the
frontier chart, whose click opens a policy as the scenario (controls and link); the best policy under
the limits in words. The engine is analytics.frontier, the same function as `python -m analytics frontier`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import partial

import polars as pl
import streamlit as st

from analytics import charts, figures, simulate
from analytics import frontier as fr
from analytics import whatif_tables as wt
from analytics.params import notices
from analytics.policy import Parameter, Policy, PolicyError
from analytics.sweep_choices import axis_range, default_sweep
from analytics.text import in_sentence, md
from ui import cached, downloads
from ui.setup import PageContext
from ui.whatif_controls import seed_controls
from ui.whatif_engine import prepared

CHART_KEY = "wi_frontier_chart"
DRAWN = "whatif_frontier_drawn"
FROM_LINK = "whatif_frontier_from_link"   # the link said the frontier is drawn: draw it on this run


def frontier_defaults(ctx: PageContext, prep: simulate.Prepared, params: Sequence[Parameter]) -> None:
    """The weighed figures start at the data set's defaults (default_sweep's), which the link leaves out.
    On opening the page from a link: its lever values and limits checked (a refused one back to its
    default, with a notice), and a frontier the link says is drawn drawn again."""
    a_default, b_default = default_sweep(prep)[1]
    if b_default == a_default:
        b_default = next(n for n in fr.WEIGHABLE if n != a_default)
    defaults = {"frontier_a": a_default, "frontier_b": b_default}
    ctx.params = tuple(replace(p, default=defaults[p.name]) if p.name in defaults else p for p in ctx.params)
    for name, value in defaults.items():
        if not st.session_state.get(ctx.k(name)):
            st.session_state[ctx.k(name)] = value
    if not ctx.arriving:
        return
    names = [p.name for p in fr.LINK_PARAMS]
    given = st.session_state.get(f"_{ctx.key}_given", set())
    values, problems = fr.check_link({n: st.session_state.get(ctx.k(n)) for n in names},
                                     [n for n in names if n in given], params)
    for name in names:
        st.session_state[ctx.k(name)] = values[name]
    ctx.notices.extend(notices(problems))
    st.session_state[FROM_LINK] = bool(st.session_state.get(ctx.k(fr.LINK_DRAWN.name)))


def widget_keys(ctx: PageContext) -> list[str]:
    """The session-state keys of the frontier's controls (kept while the frontier is not drawn)."""
    # Not the options picked in words (_picked_values): their link text is kept, and picks them again.
    return [ctx.k(p.name) for p in fr.LINK_PARAMS]


# A lever of a few options (when the window runs out, consent) is picked from them in the words its control
# and the scenario's sentence use; the link keeps its codes as typed values ('auto_cancel, lapse').
PICKED_KINDS = ("choice", "bool")
PICKED = "whatif_frontier_pick_"


def _option_words(spec: Parameter, value) -> str:
    if spec.kind == "bool":
        return "yes" if value else "no"
    return spec.choice_text(value)


def _picked_values(ctx: PageContext, spec: Parameter) -> list:
    """The options of a lever picked in words; the link's text of them (codes) follows the pick."""
    text_key, key = ctx.k(fr.link_values_name(spec.name)), PICKED + spec.name.replace(".", "__")
    options = [True, False] if spec.kind == "bool" else list(spec.choices)
    if ctx.arriving or key not in st.session_state:
        picked = []
        for part in str(st.session_state.get(text_key) or "").split(","):
            try:
                value = spec.parse(part.strip()) if part.strip() else None
            except PolicyError:
                continue
            if value in options and value not in picked:
                picked.append(value)
        st.session_state[key] = picked
    # Pills, not a multiselect: in this third of the section a multiselect cut its second option's words.
    chosen = st.pills(spec.label, options, selection_mode="multi", key=key, format_func=partial(_option_words, spec),
                      wrap=True, help="The options to replay: each one chosen is replayed with every value of the "
                                      "other levers.")
    chosen = [v for v in options if v in (chosen or [])]
    st.session_state[text_key] = fr.values_text(chosen)
    return chosen


def _base(policy: Policy, levers: Sequence[str], params: Sequence[Parameter]) -> Policy:
    """The held parameters: the policy with the varied levers at their defaults, so opening a point of
    the grid (which moves only the levers) keeps the same frontier."""
    defaults = {p.name: p.default for p in params if p.name in levers}
    return policy.with_values(defaults, params)


def _open_point(ctx: PageContext, result: dict, params: Sequence[Parameter]) -> None:
    """A click on a point: its policy into the controls (and so the scenario and the link)."""
    state = st.session_state.get(CHART_KEY)
    chosen = (state or {}).get("selection", {}).get(charts.FRONTIER_SELECTION) or []
    if not chosen:
        return
    index = chosen[0].get("index")
    if index is None or not 0 <= int(index) < len(result["policies"]):
        return
    point = result["policies"][int(index)]
    policy = Policy().with_values(point["policy"], params)
    seed_controls(ctx, policy, params, prepared(result["dataset"]["id"]))
    st.session_state[ctx.k("scenario")] = None
    st.session_state["whatif_frontier_opened"] = point["label"]


def frontier_section(ctx: PageContext, dataset_id: str, policy: Policy, params: Sequence[Parameter],
                     prep: simulate.Prepared, replicates: int, seed: int) -> None:
    by_name = {p.name: p for p in params}
    currency = cached.money_format(dataset_id, "")   # an amount's label and limit say its currency ('USD ')
    offered = [n for n in fr.LEVER_VALUES if n in by_name]
    st.caption("Choose two or three levers with their values and two figures to weigh: every combination is "
               "replayed with the same draws, and the policies no other beats on both figures (beyond the 95% "
               "interval of their paired difference) form the frontier. The other parameters stay as the controls "
               "set them. Click a point to open that policy as the scenario above.")
    drawn_key = ctx.k(fr.LINK_DRAWN.name)
    st.session_state[drawn_key] = False   # until the frontier of these settings is drawn below
    # The levers across the section: in a third of it, a chosen lever's name was cut to its first letter.
    levers = st.multiselect("Levers", offered, key=ctx.k(fr.LINK_LEVERS.name), max_selections=fr.MAX_LEVERS,
                            format_func=lambda n: by_name[n].label)
    left, right = st.columns([1, 2])
    with left:
        vary: dict[str, tuple] = {}
        refused = []
        for name in levers:
            spec = by_name[name]
            if spec.kind in PICKED_KINDS:
                picked = _picked_values(ctx, spec)
                if picked:
                    vary[name] = tuple(picked)
                else:
                    refused.append(f"{spec.label}: choose at least one option")
                continue
            text = st.text_input(f"{spec.label}: {axis_range(spec)}",
                                 key=ctx.k(fr.link_values_name(name)), help="Values separated by commas.")
            try:
                vary[name] = fr._values(spec, [v for v in text.split(",") if v.strip()])
            except PolicyError as e:
                refused.append(str(e))
    with right:
        names = list(fr.WEIGHABLE)
        one, two = st.columns(2)
        # Short labels, whole in a box half as wide as the column (the limit's help says each in full).
        a = one.selectbox("Weigh", names, key=ctx.k("frontier_a"), format_func=wt.label)
        b = two.selectbox("against", names, key=ctx.k("frontier_b"), format_func=wt.label)
        limits = []
        # One limit per figure: the same figure twice has one box (two would share a key), and is refused below.
        for column, name in ((one, a), (two, b)) if a != b else ((one, a),):
            words = "at most" if figures.get(name).better == figures.LOWER else "at least"
            text = column.text_input(f"Limit: {words} (optional)", key=ctx.k(fr.link_limit_name(name)),
                                     placeholder="no limit",
                                     help=f"The best policy must keep {in_sentence(wt.label(name))} {words} this "
                                          f"({wt.currency_of(name, currency) or wt.unit(name)}).")
            if text.strip():
                try:
                    limits.append(fr.parse_limit(f"{name}{'<=' if words == 'at most' else '>='}{text.strip()}"))
                except PolicyError:
                    refused.append(f"the limit {md(text)} is not a number")
    for why in refused:
        st.warning(md(why), icon=":material/warning:")
    if a == b:
        st.info("Choose two different figures to weigh.", icon=":material/info:")
        return
    if not vary:
        st.info("Choose at least one lever with its values.", icon=":material/info:")
        return
    try:
        fr.check_vary(vary, params)
    except PolicyError as e:
        st.warning(md(str(e)), icon=":material/warning:")
        return
    base = _base(policy, levers, params)
    request = (tuple((k, v) for k, v in vary.items()), a, b, tuple(limits), base, replicates, seed)
    size = 1
    for v in vary.values():
        size *= len(v)
    if st.session_state.pop(FROM_LINK, False):
        st.session_state[DRAWN] = request
    if st.button(f"Draw the frontier ({size} policies)", key="whatif_frontier_draw", icon=":material/scatter_plot:"):
        st.session_state[DRAWN] = request
    if st.session_state.get(DRAWN) != request:
        st.caption("The frontier is drawn when you ask (it replays every policy of the grid), for the levers, "
                   "figures and controls as they are then.")
        return
    titles = [wt.label_in(n, currency) for n in (a, b)]
    bar = st.progress(0.0, text="Replaying the policies…")
    slot = st.empty()

    def progress(fraction: float, text: str, points: list) -> None:
        bar.progress(min(1.0, fraction), text=text)
        if points and fraction < 1:
            slot.altair_chart(charts.frontier_chart(wt.frontier_frame(points, [a, b]), *titles), width="stretch")

    try:
        result = fr.frontier(prep, dict(vary), [a, b], limits, policy=policy, replicates=replicates, seed=seed,
                             progress=progress, currency=currency)
    except PolicyError as e:
        bar.empty()
        st.warning(md(str(e)), icon=":material/warning:")
        return
    bar.empty()
    slot.empty()
    st.session_state[drawn_key] = True
    opened = st.session_state.pop("whatif_frontier_opened", None)
    if opened:
        st.success(f"Opened {md(opened)} as the scenario above.", icon=":material/open_in_browser:")
    on = sum(p["on_frontier"] for p in result["policies"])
    # The grid's policies, and beside them the baseline and the current policy when the grid lacks them (the
    # button counted the grid's alone).
    beside = [("the baseline" if p["data_policy"] else "the current policy")
              for p in result["policies"] if not p["in_grid"]]
    grid = len(result["policies"]) - len(beside)
    besides = f" (the grid's {grid}, and {' and '.join(beside)})" if beside else ""
    st.markdown(f"**{on} of {len(result['policies'])} policies on the frontier{besides}.** "
                f"{wt.label(a)}: {figures.get(a).better} is better; {wt.label(b)}: {figures.get(b).better} is better. "
                "Hollow triangles are extrapolated (beyond what the data observed).")
    if result["tradeoff"]:
        (st.warning if result["best"] is not None and result["policies"][result["best"]]["extrapolated"]
         else st.info)(md(result["tradeoff"]), icon=":material/balance:")
    chart = partial(charts.frontier_chart, wt.frontier_frame(result["policies"], [a, b], result["best"]), *titles)
    downloads.chart(chart, "frontier", key=CHART_KEY, on_select=lambda: _open_point(ctx, result, params),
                    selection_mode=charts.FRONTIER_SELECTION)
    # Text that wraps to the page: each cell an estimate with its interval; the download has every number apart.
    shown = wt.frontier_shown(result, currency)
    st.table(shown.with_columns(pl.col("Policy").map_elements(md, return_dtype=pl.Utf8)), hide_index=True)
    downloads.table_buttons(partial(wt.frontier_table, result, currency), "frontier", key="wi_frontier_table")
