"""Small drawing helpers the analysis pages share: metric tiles, a table result with its chart and
downloads, the "not available in this data set" notes, a line that says what the filters select."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial

import altair as alt
import streamlit as st

from analytics import report
from analytics.charts import plain
from analytics.drill import ROW_TABLES
from analytics.figures import LOWER, NO_CHANGE, change_text, rounded_amount, shows_no_change, written
from analytics.filters import Filters
from analytics.headline import MIN_ORDERS, Headline
from analytics.params import Param
from analytics.text import md
from ui import downloads, drill, tables
from ui.database import on_spark
from ui.notices import not_available

__all__ = ["fmt", "filter_summary", "headline_tiles", "not_available", "table_result",
           "exactly", "tile_text", "link_tabs", "unavailable_tile", "room_for_toolbar", "subheader_over_chart"]

ANCHOR_WORDS = {"order": "placed", "request": "with a cancellation request", "refund": "with a refund started"}
# What a rate of cancellation means when the dates select orders by a request's or a refund's date: only
# orders with that event are in (a seller's rate read 100% by refund date, ranking nothing).
SELECTED_BY_EVENT = {
    "request": "Only orders with a cancellation request are in, so a cancellation rate is the share of them "
               "cancelled, not of all orders.",
    "refund": "Only orders with a refund are in, and nearly all of them were cancelled: a cancellation rate "
              "here says little; choose the order date for it.",
}


def fmt(value, pattern: str) -> str:
    """A registry value in the registry's format; '—' for nothing to measure."""
    if value is None:
        return "—"
    try:
        return written(value, pattern)
    except (ValueError, TypeError):
        return str(value)


def tile_text(value, pattern: str) -> tuple[str, str | None]:
    """A tile's value in `pattern`, and its exact text when the tile rounds it (else None): an amount as
    figures.rounded_amount writes it for a tile, in millions from figures.MILLIONS up."""
    exact = fmt(value, pattern)
    rounded = rounded_amount(value, pattern, millions=True)
    return (exact, None) if rounded is None else (rounded, exact)


def unavailable_tile(label: str, why: str) -> None:
    """The tile of a figure the data set cannot measure: 'n/a' and why in its help, no change beside it (never
    a zero, nor a dash with 'vs baseline' after it and nothing to compare)."""
    st.metric(label, "n/a", help=f"Not available: {md(why.strip().rstrip('.'))}.", border=True)


def exactly(exact: str | None) -> str:
    """The words a tile's help adds for a rounded value (Markdown: the currency code comes from the data)."""
    return "" if exact is None else f"\n\nExactly {md(exact)}."


def delta_style(change: float | None, text: str | None, better: str | None) -> dict:
    """st.metric's delta, colour and arrow for a change, from its number: Streamlit reads the sign from the
    text's first character, and 'USD -10,546' starts with the currency, so a fall showed an up arrow in the
    colour of a rise. `better`: which way is good news (figures.LOWER or HIGHER); a figure with neither (as
    refunds: more of them is not better or worse) is grey either way. No change (or one too small to show)
    is NO_CHANGE ('±0'), grey, with no arrow."""
    if change is None or text is None:
        return {"delta": None, "delta_color": "off", "delta_arrow": "off"}
    if shows_no_change(text):
        return {"delta": NO_CHANGE, "delta_color": "off", "delta_arrow": "off"}
    fall = change < 0
    if better is None:
        color = "gray"
    else:
        color = "green" if fall == (better == LOWER) else "red"
    return {"delta": text, "delta_color": color, "delta_arrow": "down" if fall else "up"}


def filter_summary(filters: Filters) -> str:
    """One sentence saying which orders the numbers cover (Markdown: the labels in it are escaped)."""
    parts = []
    if filters.start or filters.end:
        if filters.start and filters.start == filters.end:
            when = f"on {filters.start}"
        else:
            when = f"from {filters.start}" if filters.start else ""
            when += f" to {filters.end}" if filters.end else " onwards"
        parts.append(f"{ANCHOR_WORDS[filters.anchor]} {when.strip()}")
    for name, label in (("payment_methods", "paid by"), ("shipping_methods", "shipped"), ("reasons", "reason"),
                        ("stages", "stage")):
        values = getattr(filters, name)
        if values:
            parts.append(f"{label} {', '.join(md(plain(v)) for v in values)}")
    if filters.sellers:
        parts.append(f"{len(filters.sellers)} seller{'s' if len(filters.sellers) > 1 else ''}")
    if not parts:
        return "All orders of the data set."
    dated = (filters.start or filters.end) and filters.anchor != "order"
    return "Orders " + "; ".join(parts) + "." + (f" {SELECTED_BY_EVENT[filters.anchor]}" if dated else "")



def room_for_toolbar() -> None:
    """Room above a chart or table for its hover toolbar, which Streamlit draws over the 44 px above the
    element's right end: with the gap between elements, what stands above is no longer under it."""
    st.space(16)


def subheader_over_chart(text: str) -> None:
    """A subheading right above a chart, in a column its text may fill, with room under it for the chart's
    hover toolbar ("Share of cancelled GMV" ran under it in two fifths of a 1280 px page)."""
    st.subheader(text)
    room_for_toolbar()  # with the gap and the heading's own margin under its text: 46 px from the text to the chart


def headline_tiles(heads: list[Headline], per_row: int = 3,
                   below: Callable[[Headline], None] | None = None) -> None:
    """The headline numbers as tiles with their trend; `below(h)` draws under each available tile (the link
    to the orders behind it)."""
    columns = []
    for _ in range(0, len(heads), per_row):
        columns += st.columns(per_row)
    for column, h in zip(columns, heads, strict=False):
        with column:
            if h.unavailable:
                unavailable_tile(h.label, h.unavailable)
                continue
            series = [v for v in h.series if v is not None]
            help_text = h.help
            if h.window is not None and h.counts is not None:
                help_text += (f"\n\nThe change compares {h.window.selection_label} ({h.counts[0]:,} orders) with "
                              f"{h.window.label} ({h.counts[1]:,} orders), under the same filters; a change needs "
                              f"at least {MIN_ORDERS} orders on each side.")
            value, exact = tile_text(h.value, h.fmt)
            change = None if h.change is None else change_text(h.change, h.fmt, whole=exact is not None)
            st.metric(
                h.label,
                value,
                **delta_style(h.change, change, h.better),
                delta_description=h.window.against if h.change is not None and h.window else None,
                help=help_text + exactly(exact),
                border=True,
                chart_data=series if len(series) >= 2 else None,
                chart_type="line",
            )
            if below is not None:
                below(h)
    note = next((h.note for h in heads if h.note and not h.unavailable), None)
    if note:
        st.caption(note)


def table_open_key(key: str) -> str:
    """The session state's key of whether table_result's table (or a lazy_expander) under `key` is open."""
    return f"{key}_open"


def lazy_expander(label: str, key: str, expanded: bool = False):
    """An expander whose body is drawn only when it is open (opening it reruns the page): the expander to
    draw in, or None when closed. A closed expander's body was computed, sent and laid out by the browser
    on every run, for nothing."""
    box = st.expander(label, expanded=expanded, key=table_open_key(key), on_change="rerun")
    return box if box.open else None


def link_tabs(ctx, param: Param, labels: Mapping[str, str], *, kept: Mapping[str, Sequence[str]] | None = None,
              opened: str | None = None) -> tuple[str, st.delta_generator.DeltaGenerator]:
    """Tabs of which only the open one is drawn in (a closed one's body would be computed, sent and laid out
    by the browser on every run, for nothing): (the open tab's code, the tab to draw in). `labels`: each
    tab's code (the values of the page's link parameter `param`) and its label. The open tab is the link's,
    then the last clicked; `opened` opens one (before the tabs are drawn). `kept`: the session-state keys of
    each tab's widgets, whose values are kept while another tab is open, for the return to it (and its link)."""
    state = st.session_state
    chosen_key, tab_key = ctx.k(param.name), ctx.k(f"{param.name}_tab")
    if opened is not None:
        state[tab_key] = labels[opened]
    elif ctx.arriving or tab_key not in state:
        state[tab_key] = labels.get(state.get(chosen_key), labels[param.default])
    tabs = dict(zip(labels, st.tabs(list(labels.values()), key=tab_key, on_change="rerun"), strict=True))
    shown = next((code for code, tab in tabs.items() if tab.open), param.default)
    state[chosen_key] = shown
    drawn_key = f"{tab_key}_drawn"
    reopened, state[drawn_key] = state.get(drawn_key) != shown, shown
    # A widget not drawn in a run loses its state (Streamlit forgets unseen widgets): set again, kept. On the
    # run its tab opens again it is set once more before it is drawn, so the browser's new copy of it shows
    # the kept value (else it showed its default, a sweep's typed values emptied, and sent that back).
    for code, keys in (kept or {}).items():
        for key in keys if code != shown or reopened else ():
            if key in state:
                state[key] = state[key]
    return shown, tabs[shown]


def table_result(result: report.Table, *, name: str, key: str, chart: Callable[..., alt.TopLevelMixin] | None = None,
                 show_table: bool = True, on_select=None, expanded: bool | None = None, column_order=None,
                 table_box=None, orders_of: tuple[str, Filters] | None = None):
    """A report table: its chart (when given) and the table (its columns in `column_order` when given: the
    download keeps them all), each downloadable; or why the data set cannot show it. `chart(frame)` makes
    the chart: a builder of analytics.charts, or `partial(builder, option=...)` (by keyword: the frame comes
    first), so its spec is made once (ui.chart_specs). Returns the chart's selection state when on_select
    is set. `table_box`: where the table goes (a full-width container under a row of charts, so a chart's
    half-page column does not squeeze its table), else under the chart. `orders_of`: (data set id, the
    filters the table was read under); given, and for a table whose rows count orders (drill.ROW_TABLES),
    a selected row shows the links to its orders."""
    if not result.available:
        not_available(result.label, result.unavailable)
        return None
    state = None
    if chart is not None:
        # The chart as its recipe: a builder given as `partial(charts.x, option=...)` has its spec made once.
        figure = partial(chart, result.frame)
        if on_select:
            state = downloads.chart(figure, name, key=f"{key}_chart", on_select=on_select, selection_mode=None)
        else:
            downloads.chart(figure, name, key=f"{key}_chart")
    if show_table:
        with table_box or st.container():
            # A closed table was a sixth of the Reasons page's work in the browser.
            box = lazy_expander(f"{result.label}: the table", key,
                                expanded=chart is None if expanded is None else expanded)
            if box is not None:
                with box:
                    rows = orders_of is not None and name in ROW_TABLES and not on_spark(orders_of[0])
                    picked = downloads.table(result.frame, name, key=f"{key}_table", column_order=column_order,
                                             on_select="rerun" if rows else "ignore")
                    selected = picked.selection.rows if picked is not None else []
                    if selected and selected[0] < result.frame.height:
                        drill.row_links(*orders_of, name, result.frame.row(selected[0], named=True))
    for column, why in result.notes.items():
        not_available(f"{result.label}, {tables.column_words(column).lower()}", why)
    return state
