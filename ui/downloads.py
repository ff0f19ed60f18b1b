"""Every table downloadable as CSV (formula-neutralised) and Parquet, every chart as PNG or SVG.

The files are made only when a button is clicked (deferred data), so drawing a page costs nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import polars as pl
import streamlit as st

from analytics import charts, exports
from ui import chart_specs, recent, tables


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "table"


def table_buttons(frame: pl.DataFrame | Callable[[], pl.DataFrame], name: str, *, key: str) -> None:
    """CSV and Parquet download buttons for `frame` (or for the frame a function makes when its button is
    clicked: a list longer than the page shows)."""
    slug = _slug(name)

    def made() -> pl.DataFrame:
        return frame() if callable(frame) else frame

    with st.container(horizontal=True, gap="small"):
        st.download_button("CSV", lambda: exports.to_csv_bytes(made()), file_name=f"{slug}.csv", mime="text/csv",
                           key=f"{key}_csv", on_click="ignore", icon=":material/download:", type="tertiary")
        st.download_button("Parquet", lambda: exports.to_parquet_bytes(made()), file_name=f"{slug}.parquet",
                           mime="application/vnd.apache.parquet", key=f"{key}_parquet", on_click="ignore",
                           icon=":material/download:", type="tertiary")


# Streamlit's rows are 35 px high; a table of fewer rows than this is shown whole, never scrolled inside.
ROW_PX, WHOLE_BELOW = 35, 25


def display(frame: pl.DataFrame, config: dict) -> tuple[pl.DataFrame, dict]:
    """The frame as read on the page, with its column config: codes (reasons, payment methods, channels…)
    in plain words, and shares as percentages with one decimal (Streamlit's "percent" shows two, so the
    share is scaled to 100 and printed with "%.1f%%"). Downloads keep the raw frame."""
    shown, config = frame, dict(config)
    for column in frame.columns:
        if column in CODE_COLUMNS and frame.schema[column] == pl.Utf8:
            shown = charts.plain_column(shown, column)
        if column in EMPTY_WORDS and frame.schema[column] == pl.Utf8:
            shown = shown.with_columns(pl.col(column).fill_null(EMPTY_WORDS[column]))
        type_config = (config.get(column) or {}).get("type_config") or {}
        if type_config.get("format") == "percent" and frame.schema[column].is_numeric():
            shown = shown.with_columns(pl.col(column) * 100)
            config[column] = {**config[column], "type_config": {**type_config, "format": "%.1f%%"}}
    return shown, config


# What an empty cell of these columns means, in the words the charts use for it: an order's stage (of its
# request, else of its cancellation) and its status as the export gave it.
EMPTY_WORDS = {"stage": charts.NO_STAGE, "status": charts.NO_STATUS_WORDS}

CODE_COLUMNS = frozenset({"reason", "payment_method", "refund_channel", "channel", "shipping_method",
                          "request_stage", "stage", "cancel_stage", "outcome", "seller_response", "timeout_action",
                          "step"})


def _shown(frame: pl.DataFrame, column_config: dict | None, fit: bool = False):
    """The frame as the table shows it (display) and its column config (with `fit`, each column as wide as
    its header and longest value: tables.fitted_widths); as Arrow: a Polars frame would go through pandas
    first (a fifth of a page's rerun, on a filter change)."""
    shown, config = display(frame, {**tables.column_config(frame), **(column_config or {})})
    if fit:
        widths = tables.fitted_widths(shown)
        config = {c: {**v, "width": widths[c]} if c in widths and not v.get("width") else v   # a width given stays
                  for c, v in config.items()}
    return shown.to_arrow(), config


def table(frame: pl.DataFrame, name: str, *, key: str, height: int | str = "auto", column_config=None,
          download: Callable[[], pl.DataFrame] | None = None, on_select="ignore", selection_mode="single-row",
          column_order=None, fit: bool = False, selected_rows: list[int] | None = None):
    """The table shown for reading (labels, percentages, dates, separators; empty cells blank; a small
    table whole, at the page's full width), then its download buttons, which keep the raw values (of
    `download()`'s frame when given: every page of a paged list). With on_select, returns the selection.
    `fit`: every column without a width given as wide as its header and longest value (the table may then
    scroll sideways). `selected_rows`: the rows ticked when the table is first drawn (a link's)."""
    shown, config = recent.PER_FRAME.get(frame, ("table", repr(column_config), fit),
                                         lambda: _shown(frame, column_config, fit))
    if frame.height < WHOLE_BELOW and (height == "auto" or isinstance(height, int)):
        # An empty table has room for its "empty" line: a header's height alone put it under the buttons.
        height = ROW_PX * (max(frame.height, 1) + 1) + 3
    selecting = {} if on_select == "ignore" else {"on_select": on_select, "selection_mode": selection_mode}
    if selecting and selected_rows:
        selecting["selection_default"] = {"selection": {"rows": list(selected_rows)}}
    config = {c: dict(v) if isinstance(v, dict) else v for c, v in config.items()}   # kept: Streamlit's to change
    event = st.dataframe(shown, hide_index=True, width="stretch", height=height, column_config=config,
                         placeholder="", key=f"{key}_df", column_order=column_order, **selecting)
    table_buttons(download or frame, name, key=key)
    return event if selecting else None


def chart_buttons(chart: chart_specs.Chart | chart_specs.Recipe, name: str, *, key: str) -> None:
    """PNG and SVG download buttons for `chart` (a recipe's chart is made when a button is clicked)."""
    slug = _slug(name)

    def made() -> chart_specs.Chart:
        return chart if chart_specs.is_chart(chart) else chart()

    with st.container(horizontal=True, gap="small"):
        st.download_button("PNG", lambda: exports.chart_to_png(made()), file_name=f"{slug}.png", mime="image/png",
                           key=f"{key}_png", on_click="ignore", icon=":material/download:", type="tertiary")
        st.download_button("SVG", lambda: exports.chart_to_svg(made()), file_name=f"{slug}.svg", mime="image/svg+xml",
                           key=f"{key}_svg", on_click="ignore", icon=":material/download:", type="tertiary")


def _selects(spec: dict) -> bool:
    """Whether the chart's spec (or one of its layers) declares a selection: a chart saying there is nothing
    to draw has none, and Streamlit refuses on_select for it."""
    if spec.get("params"):
        return True
    return any(_selects(layer) for layer in spec.get("layer") or ())


def chart(chart: chart_specs.Chart | chart_specs.Recipe, name: str, *, key: str, on_select="ignore",
          selection_mode=None):
    """The chart, then its download buttons. `chart` is a chart, or its recipe `partial(builder, frame, ...)`,
    whose spec is made once for all runs (ui.chart_specs). With on_select, returns the selection state (None
    for a chart with nothing to select)."""
    spec = chart_specs.spec(chart)
    if on_select == "ignore" or not _selects(spec):
        st.vega_lite_chart(spec, width="stretch")
        state = None
    else:
        state = st.vega_lite_chart(spec, width="stretch", key=key, on_select=on_select, selection_mode=selection_mode)
    chart_buttons(chart, name, key=key)
    return state
