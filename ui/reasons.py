"""The Reasons page's click-to-filter: the reason in focus lives in session state (and the link as
`focus`); a click on any reason chart sets it, a click on empty space or the Clear button clears it."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from analytics.charts import REASON_SELECTION, plain
from analytics.drill import Group
from analytics.text import md
from ui import drill
from ui.setup import PageContext


def _set(ctx_key: str, reason: str | None) -> None:
    st.session_state[ctx_key] = [reason] if reason else []


def focus_from_chart(ctx: PageContext, chart_key: str):
    """An on_select callback for a reason chart whose Streamlit key is `chart_key`."""

    def on_select() -> None:
        state = st.session_state.get(chart_key)
        points = (state or {}).get("selection", {}).get(REASON_SELECTION) or []
        reason = next((p.get("reason") for p in points if p.get("reason")), None)
        _set(ctx.k("focus"), reason)

    return on_select


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
