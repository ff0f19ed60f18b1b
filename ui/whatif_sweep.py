"""The What-if page's sweep of one parameter, the others held at the current controls: the parameter, its
values and the figures to draw, and a chart per figure. On a large data set it is drawn on demand."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import partial

import streamlit as st

from analytics import charts, simulate
from analytics import whatif_tables as wt
from analytics.policy import PARAMETERS_BY_NAME, Parameter, Policy
from analytics.sweep_choices import (
    MAX_SWEEP_POINTS,
    SWEEP_GRIDS,
    SWEEPABLE,
    axis_range,
    axis_title,
    default_sweep,
    parse_values,
)
from analytics.text import in_sentence, listed, md
from ui import cached, downloads, views
from ui.setup import PageContext
from ui.whatif_engine import swept

# Above this many orders a sweep (several replays per point) is drawn on a click, not on every change.
SWEEP_AUTO_MAX_ORDERS = 200_000


def sweep_defaults(ctx: PageContext, prep: simulate.Prepared) -> None:
    """The sweep's parameter and figures start at the data set's defaults (default_sweep), which the link
    then leaves out as it leaves out every default."""
    sweep, figures = default_sweep(prep)
    ctx.params = tuple(replace(p, default=sweep) if p.name == "sweep" else
                       replace(p, default=figures) if p.name == "sweep_figures" else p for p in ctx.params)
    if not st.session_state.get(ctx.k("sweep")):
        st.session_state[ctx.k("sweep")] = sweep
    if ctx.arriving and not st.session_state.get(ctx.k("sweep_figures")):
        st.session_state[ctx.k("sweep_figures")] = list(figures)


def widget_keys(ctx: PageContext) -> list[str]:
    """The session-state keys of the sweep's controls (kept while the sweep is not drawn)."""
    return [ctx.k("sweep"), ctx.k("sweep_figures"),
            *(k for k in st.session_state if isinstance(k, str) and k.startswith(VALUES_KEY))]


VALUES_KEY = "whatif_sweep_values_"   # and the parameter's name: the values typed for it


def sweep_section(ctx: PageContext, dataset_id: str, policy: Policy, params: Sequence[Parameter],
                  prep: simulate.Prepared, replicates: int, seed: int) -> None:
    """A sweep of one parameter, the others held at the current controls (it reruns with them). On a large
    data set it is drawn on demand, still from the current controls."""
    orders = prep.calibration.summary().get("counts", {}).get("orders", 0)
    on_demand = orders > SWEEP_AUTO_MAX_ORDERS
    st.caption("The other parameters stay as the policy controls above set them now; the dashed line marks "
               "the current value of the swept one."
               + (f" On {orders:,} orders a sweep takes a few seconds, so it is drawn when you ask, for the "
                  "controls as they are then." if on_demand else ""))
    by_name = {p.name: p for p in params}
    left, right = st.columns([1, 2])
    with left:
        param = st.selectbox("Parameter", SWEEPABLE, key=ctx.k("sweep"),
                             format_func=lambda n: by_name[n].label if n in by_name else n)
        spec = by_name[param]
        values_key = VALUES_KEY + param.replace(".", "__")
        st.session_state.setdefault(values_key, ", ".join(f"{v:g}" for v in SWEEP_GRIDS[param]))
        text = st.text_input(f"Values: {axis_range(spec)}", key=values_key,
                             help=f"Up to {MAX_SWEEP_POINTS} values, separated by commas. The other parameters "
                                  "stay as the controls above set them.")
        values, bad = parse_values(spec, text)
        if bad:
            st.warning(f"Left out: {', '.join(md(b) for b in bad[:5])} (allowed: {axis_range(spec)}).")
    with right:
        # Full width of the results column: the figures' names are long and must be readable.
        figures = st.multiselect("Figures", wt.SWEEP_FIGURES, key=ctx.k("sweep_figures"), format_func=wt.label,
                                 max_selections=3)
        if not values or not figures:
            st.info("Choose values and at least one figure to draw the sweep.")
            return
        request = (param, values, policy, int(replicates), int(seed))
        if on_demand:
            if st.button("Draw the sweep for the current controls", key="whatif_sweep_draw",
                         icon=":material/show_chart:"):
                st.session_state["whatif_sweep_drawn"] = request
            if st.session_state.get("whatif_sweep_drawn") != request:
                st.info("The sweep is drawn on demand on a data set this large: click the button above (it uses the "
                        "controls as they are now).", icon=":material/info:")
                return
        if param == "dispatch_deadline_days" and policy.get("late_dispatch_action") == "none":
            late = PARAMETERS_BY_NAME["late_dispatch_action"]
            st.caption(f"The deadline cancels an order only when “{late.label}” is “{late.choice_text('auto_cancel')}”; "
                       f"it is “{late.choice_text('none')}” now, so this sweep is flat until you change it.")
        frame = swept(dataset_id, param, values, policy, replicates, seed)
        # Points beyond what the data shows rest on the fitted curves, as an extrapolated scenario does.
        beyond = [v for v in values if param in simulate.extrapolated(prep, policy.with_values({param: v}, params))]
        if beyond:
            st.caption("Extrapolated (beyond anything this data set shows, so resting on assumptions): "
                       f"{listed(f'{v:,g}' for v in beyond)}{' ' + spec.unit if spec.unit else ''}.")
        views.room_for_toolbar()   # the first chart's toolbar covered the figures box's buttons
        current = policy.get(param, params)
        if current is None and param == "premium_shipping_share":
            current = simulate.observed_premium_share(prep)
        current = float(current) if isinstance(current, int | float) and not isinstance(current, bool) else None
        currency = cached.money_format(dataset_id, "")   # an amount's axis says its currency ('USD ')
        for figure in figures:
            series = wt.measured(wt.sweep_series(frame, figure))
            if not series.height:
                st.info(f"{wt.label(figure)}: not measurable on this data set.", icon=":material/info:")
                continue
            if series["value"].n_unique() == 1 and series["low"].n_unique() == 1:
                st.caption(f"{spec.label} does not change {in_sentence(wt.label(figure))} on this data set under the "
                           "current controls.")
            downloads.chart(partial(charts.sweep_chart, series, axis_title(spec), wt.shown_unit(figure, currency),
                                    current=current, title=wt.label(figure)),
                            f"sweep-{param}-{figure}", key=f"wi_sweep_{figure}")
        downloads.table_buttons(frame, f"sweep-{param}", key="wi_sweep_table")
