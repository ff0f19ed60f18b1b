"""Everything the pages import, imported once in the server process before any page runs.

Streamlit runs each session's script on its own thread. On a fresh server the first sessions used to
import pandas, Altair, pyarrow and our modules at the same moment, and Altair reads pandas from
`sys.modules` without waiting for its import to finish: a chart drawn then failed with "partially
initialized module 'pandas' has no attribute 'Timestamp'". `serve.py` calls `load()` before the
server starts; `ui/__init__` imports this module too, so a plain `streamlit run app.py` has the first
session load everything while the others wait on the `ui` package's import.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from datetime import date
from pathlib import Path

# Libraries the pages reach, directly or through Streamlit, Altair and Polars (some only lazily, at the
# first chart, table or download), in the order that imports them without a cycle.
LIBRARIES = ("numpy", "pyarrow", "pandas", "narwhals", "polars", "duckdb", "scipy.optimize", "scipy.special",
             "altair", "vl_convert", "streamlit.dataframe_util", "streamlit.elements.vega_charts")
ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("analytics", "ui")

_loaded = False


def _own_modules() -> list[str]:
    """Every module of analytics/ and ui/ (found on disk, so a new module is never forgotten)."""
    names = []
    for package in PACKAGES:
        names += [f"{package}.{m.name}" for m in pkgutil.iter_modules([str(ROOT / package)])
                  if m.name not in ("__main__", "preload")]
    return names


def _warm_up() -> None:
    """Run once what a first page run runs lazily: a chart to its spec, a frame to Arrow bytes."""
    import altair as alt
    import polars as pl
    from streamlit import dataframe_util

    frame = pl.DataFrame({"day": [date(2026, 1, 1)], "n": [1]})
    alt.Chart(frame).mark_bar().encode(x="day:T", y="n:Q").to_dict()
    dataframe_util.convert_anything_to_arrow_bytes(frame)
    dataframe_util.convert_anything_to_pandas_df(frame)


def load() -> None:
    """Import the libraries and every module of ours, then warm the lazy paths. Idempotent."""
    global _loaded
    if _loaded:
        return
    for name in LIBRARIES:
        importlib.import_module(name)
    # Before the server starts, each @st.cache_data decorator logs that it found no runtime; the caches
    # themselves are made at their first call, inside the runtime, so the warning does not apply.
    quiet = logging.getLogger("streamlit.runtime.caching.cache_data_api")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        for name in _own_modules():
            importlib.import_module(name)
    finally:
        quiet.setLevel(level)
    _warm_up()
    _loaded = True
