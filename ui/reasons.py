"""The Reasons page's click-to-filter: the reason in focus lives in session state (and the link as
`focus`); a click on any reason chart sets it, a click on empty space or the Clear button clears it.
A click on a reason chart's part (a stage's or a payment method's share, a period's point) also leaves,
under that chart, the link to the orders of the part clicked. The breakdowns under the first two charts
are tabs, the open one in the link as `breakdown`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import streamlit as st

from analytics.charts import REASON_SELECTION, plain
from analytics.drill import Group
from analytics.filters import Filters
from analytics.params import Param
from analytics.text import md
from ui import drill, views
from ui.setup import PageContext

# The last clicked part of a reason chart: {"chart": drill.MARK_CHARTS name, "point": the selection's point,
# "context": the drawing's period}; None when the last click named none.
CLICKED = "rs_clicked"


# The breakdowns under the two charts, each a tab (its link value -> its tab's label).
BREAKDOWNS = {"stage": "By stage", "payment_method": "By payment method", "over_time": "Over time",
              "outcomes": "How requests end"}
BREAKDOWN = Param("breakdown", "choice", "stage", choices=tuple(BREAKDOWNS), label="breakdown shown")


def breakdown_tabs(ctx: PageContext, controls: Mapping[str, Sequence[str]] | None = None,
                   ) -> tuple[str, st.delta_generator.DeltaGenerator]:
    """The breakdowns' tabs, the one the link or the last click chose open: (its link value, its tab)
    (views.link_tabs). `controls`: a tab's controls (by their page parameters' names), whose values are
    kept while another tab is open, for the return to it."""
    kept = {code: [ctx.k(name) for name in names] for code, names in (controls or {}).items()}
    return views.link_tabs(ctx, BREAKDOWN, BREAKDOWNS, kept=kept)


def _set(ctx_key: str, reason: str | None) -> None:
    st.session_state[ctx_key] = [reason] if reason else []
    if not reason:
        st.session_state[CLICKED] = None


def focus_from_chart(ctx: PageContext, chart_key: str, chart: str | None = None, **context):
    """An on_select callback for a reason chart whose Streamlit key is `chart_key`: the clicked reason is
    put in focus; with `chart` (its drill.for_mark name), the clicked part is kept for `clicked_link`,
    with `context` (the period it was drawn by) so a redrawing by another period does not misread it."""

    def on_select() -> None:
        state = st.session_state.get(chart_key)
        points = (state or {}).get("selection", {}).get(REASON_SELECTION) or []
        reason = next((p.get("reason") for p in points if isinstance(p, dict) and p.get("reason")), None)
        _set(ctx.k("focus"), reason)
        point = drill.clicked(state) if chart and reason else None
        st.session_state[CLICKED] = {"chart": chart, "point": point, "context": context} if point else None

    return on_select


def clicked_link(chart: str, dataset_id: str, filters: Filters, *, compared: Filters | None = None,
                 **context) -> None:
    """Under a reason chart: the link to the orders of its part clicked last, when it was this chart's
    (drawn by the same `context`). `compared`: the filters on the compared days, for a compared line."""
    mark = st.session_state.get(CLICKED)
    if not mark or mark.get("chart") != chart or mark.get("context") != context:
        return
    drill.mark_link(chart, mark["point"], dataset_id, filters, compared=compared, **context)


def focus_notice(ctx: PageContext, reasons: Sequence[str]) -> str | None:
    """The reason in focus (None for all), after checking it against the data set; shows what is in focus
    with a Clear button."""
    key = ctx.k("focus")
    chosen = list(st.session_state.get(key) or [])
    focus = chosen[0] if chosen else None
    if focus is not None and focus not in reasons:
        ctx.notices.append(f"focus: the reason “{focus}” is not in this data set; showing every reason.")
        _set(key, None)
        focus = None
    if focus:
        text, button = st.columns([5, 1], vertical_alignment="center")
        text.info(f"Showing requests with the reason **{md(plain(focus))}** below the first chart.", icon=":material/filter_alt:")
        button.button("Clear", key="reasons_clear_focus", on_click=_set, args=(key, None), icon=":material/close:")
        if ctx.dataset is not None:
            group = Group(of="requests", reason=focus)
            (n,) = drill.counts(ctx.dataset.id, ctx.filters, [group])
            drill.link(ctx.dataset.id, ctx.filters, group, f"{drill.see(n)} with the reason {md(plain(focus))}")
    return focus
