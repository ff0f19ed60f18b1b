"""Every table downloadable as CSV (formula-neutralised) and Parquet, every chart as PNG or SVG.

The files are made only when a button is clicked (deferred data), so drawing a page costs nothing.
"""

from __future__ import annotations

import re

import altair as alt
import polars as pl
import streamlit as st

from analytics import exports
from ui import tables


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "table"


def table_buttons(frame: pl.DataFrame, name: str, *, key: str) -> None:
    """CSV and Parquet download buttons for `frame`."""
    slug = _slug(name)
    with st.container(horizontal=True, gap="small"):
        st.download_button("CSV", lambda: exports.to_csv_bytes(frame), file_name=f"{slug}.csv", mime="text/csv",
                           key=f"{key}_csv", on_click="ignore", icon=":material/download:", type="tertiary")
        st.download_button("Parquet", lambda: exports.to_parquet_bytes(frame), file_name=f"{slug}.parquet",
                           mime="application/vnd.apache.parquet", key=f"{key}_parquet", on_click="ignore",
                           icon=":material/download:", type="tertiary")


def table(frame: pl.DataFrame, name: str, *, key: str, height: int | str = "auto", column_config=None) -> None:
    """The table shown for reading (labels, percentages, dates, separators; empty cells blank), then its
    download buttons, which keep the raw values."""
    config = {**tables.column_config(frame), **(column_config or {})}
    st.dataframe(frame, hide_index=True, width="stretch", height=height, column_config=config, placeholder="",
                 key=f"{key}_df")
    table_buttons(frame, name, key=key)


def chart_buttons(chart: alt.TopLevelMixin, name: str, *, key: str) -> None:
    """PNG and SVG download buttons for `chart`."""
    slug = _slug(name)
    with st.container(horizontal=True, gap="small"):
        st.download_button("PNG", lambda: exports.chart_to_png(chart), file_name=f"{slug}.png", mime="image/png",
                           key=f"{key}_png", on_click="ignore", icon=":material/download:", type="tertiary")
        st.download_button("SVG", lambda: exports.chart_to_svg(chart), file_name=f"{slug}.svg", mime="image/svg+xml",
                           key=f"{key}_svg", on_click="ignore", icon=":material/download:", type="tertiary")


def chart(chart: alt.TopLevelMixin, name: str, *, key: str, on_select="ignore", selection_mode=None):
    """The chart, then its download buttons. With on_select, returns the selection state."""
    if on_select == "ignore":
        st.altair_chart(chart, width="stretch")
        state = None
    else:
        state = st.altair_chart(chart, width="stretch", key=key, on_select=on_select, selection_mode=selection_mode)
    chart_buttons(chart, name, key=key)
    return state
