"""Cached analytics results. Keys are small values: the database file, the data set id, a Filters, a
Policy, a few numbers; never a frame. A stored data set never changes after its import, so results can
live for an hour; each cache is bounded by max_entries, and all of them together by the byte budget
`server.maxCacheDataSize` in .streamlit/config.toml.

The what-if engine's loaded data sets (each with the replays it remembers) are the big values: they are
kept in one SizedCache for the process, bounded in bytes and dropped when idle (analytics.memory's
limits, from the environment; see the README)."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from datetime import date
from types import FunctionType

import streamlit as st

from analytics import external, headline, load, memory, report, simulate
from analytics.compare import PREVIOUS, Comparison, Window
from analytics.filters import Filters
from ui import database
from ui.database import data_cursor, db_key, on_spark
from ui.recent import Recent

TTL = memory.RESULTS_IDLE_SECONDS
# The results handed out lately, as they are (ui.recent): no hashing, no unpickled copy. They are the
# unpickled copies of what Streamlit's caches hold pickled, so they are bounded in bytes as those are.
RECENT_MAX_BYTES = 256 * 1024 * 1024
RECENT = Recent(max_entries=512, ttl=TTL, max_bytes=RECENT_MAX_BYTES)


def _qualified_name(function: Callable) -> str:
    """A table function as a cache key: the same function in every run and session (its object is not hashable)."""
    return f"{function.__module__}.{function.__qualname__}"


@st.cache_data(max_entries=256, ttl=TTL, show_spinner=False, hash_funcs={FunctionType: _qualified_name})
def _table(database: str, dataset_id: str, compute: Callable[..., report.Table], filters: Filters,
           kwargs: tuple) -> report.Table:
    spark = on_spark(dataset_id)
    if spark:
        return external.table(spark[1], spark_tally(dataset_id, filters), compute.__name__)
    with data_cursor(dataset_id) as cur:
        return compute(cur, known(dataset_id), filters, **dict(kwargs))


def table(compute: Callable[..., report.Table], dataset_id: str, filters: Filters, **kwargs) -> report.Table:
    """compute(con, dataset_id, filters, **kwargs), cached: compute is one of report's table functions
    (report.reasons, report.refund_latency, ...)."""
    args = (db_key(), dataset_id, compute, filters, tuple(sorted(kwargs.items())))
    return RECENT.get(("table", _qualified_name(compute), *args[:2], *args[3:]), lambda: _table(*args))


def compared_table(compute: Callable[..., report.Table], dataset_id: str, filters: Filters, win: Window | None,
                   **kwargs) -> report.Table | None:
    """`table` under the filters with the compared days as their dates; None without a comparison."""
    if win is None or not win.possible:
        return None
    result = table(compute, dataset_id, win.compared_filters(filters), **kwargs)
    return result if result.available else None


@st.cache_data(max_entries=64, ttl=TTL, show_spinner=False)
def _spark_tally(database: str, dataset_id: str, filters: Filters):
    session, src = on_spark(dataset_id)
    return external.tally(session, src, filters)


def spark_tally(dataset_id: str, filters: Filters):
    """external.tally, cached: an external source's partials under filters, tallied on Spark in one job
    that every figure of the page reads."""
    return _spark_tally(db_key(), dataset_id, filters)


def known(dataset_id: str):
    """A stored data set as the database's list has it (so a computation need not look it up again); else
    the id itself (an external source's, looked up on its own connection; an unknown one, refused where
    it is used)."""
    found = database.dataset(dataset_id)
    return found if found is not None and external.of(found) is None else dataset_id



@st.cache_data(max_entries=64, ttl=TTL, show_spinner=False)
def _currencies(database: str, dataset_id: str) -> list[str]:
    with data_cursor(dataset_id) as cur:
        return report.currencies(cur, dataset_id)


def currencies(dataset_id: str) -> list[str]:
    """The data set's currency codes (report.currencies), cached."""
    args = (db_key(), dataset_id)
    return RECENT.get(("currencies", *args), lambda: _currencies(*args))


def money_format(dataset_id: str, fmt: str = "{:,.2f}") -> str:
    """How the pages write an amount of this data set: with its currency where it records one."""
    return report.money_format(currencies(dataset_id), fmt)


@st.cache_data(max_entries=64, ttl=TTL, show_spinner=False)
def _report(database: str, dataset_id: str, filters: Filters, threshold_days: float) -> dict:
    spark = on_spark(dataset_id)
    if spark:
        from analytics import spark as on

        return on.report(*spark, filters, threshold_days=threshold_days)
    with data_cursor(dataset_id) as cur:
        return report.report(cur, known(dataset_id), filters, threshold_days=threshold_days)


def full_report(dataset_id: str, filters: Filters, threshold_days: float = 20) -> dict:
    return _report(db_key(), dataset_id, filters, float(threshold_days))


@st.cache_data(max_entries=64, ttl=TTL, show_spinner=False)
def _headline(database: str, dataset_id: str, filters: Filters, bounds: tuple[date | None, date | None],
              comparison: Comparison, tiles: tuple[str, ...]):
    spark = on_spark(dataset_id)
    scalars = None if spark is None else (lambda f, names: external.scalars(spark[1], spark_tally(dataset_id, f), names))
    with data_cursor(dataset_id) as cur:
        return headline.compute(cur, known(dataset_id), filters, bounds, comparison, scalars=scalars, tiles=tiles)


def headlines(dataset_id: str, filters: Filters, bounds: tuple[date | None, date | None],
              comparison: Comparison = PREVIOUS, tiles: tuple[str, ...] = headline.HEADLINE):
    """The tiles' figures (the Overview's by default) with their trend and their change, cached."""
    args = (db_key(), dataset_id, filters, tuple(bounds), comparison, tuple(tiles))
    return RECENT.get(("headlines", *args), lambda: _headline(*args))


@st.cache_data(max_entries=32, ttl=TTL, show_spinner=False)
def _unavailable(database: str, dataset_id: str) -> dict[str, str]:
    with data_cursor(dataset_id) as cur:
        return report.unavailable(cur, dataset_id)


def unavailable(dataset_id: str) -> dict[str, str]:
    args = (db_key(), dataset_id)
    return RECENT.get(("unavailable", *args), lambda: _unavailable(*args))


# --- the what-if engine's loaded data sets ---------------------------------------------------------------

def prepared_bytes(prep: simulate.Prepared) -> int:
    """Bytes a Prepared holds: its frame (once loaded), arrays and calibration (measured once), its replicates'
    shared draws (as measured when kept), its memo of replays (each entry measured when kept) and its
    open-ended grids (simulate.open_grid)."""
    frame = prep.loaded_frame()   # counted once it is loaded (the calibration's charts load it)
    base, counted = _base_bytes.get(prep, (None, None))
    if base is None or counted is not frame:
        base = memory.size_of((frame, prep.data, prep.calibration))
        _base_bytes[prep] = (base, frame)
    base += prep.draws.total_bytes() + sum(grid.total_bytes() for grid in list(prep.grids.values()))
    return base + prep.memo.total_bytes()


_base_bytes: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# The pages' figures read each data set's orders from memory once loaded (load.keep_resident).
load.keep_resident(memory.resident_limits())

LIMITS = memory.whatif_limits()
WHATIF = memory.SizedCache(LIMITS.max_bytes, LIMITS.idle_seconds, sizer=prepared_bytes)


def prepared(dataset_id: str) -> simulate.Prepared:
    """The data set loaded and calibrated for the what-if engine, kept while it fits the limits (the
    engine remembers its replays on it). Two sessions asking for the same data set load it once."""
    WHATIF.sweep_every(min(60.0, LIMITS.idle_seconds / 4))
    return WHATIF.get((db_key(), dataset_id), lambda: _load_prepared(dataset_id))


def _load_prepared(dataset_id: str) -> simulate.Prepared:
    if on_spark(dataset_id):
        return spark_whatif(dataset_id).prep
    with data_cursor(dataset_id) as cur:
        return simulate.prepare_dataset(cur, dataset_id)


@st.cache_resource(max_entries=4, show_spinner=False)
def _spark_whatif(database: str, dataset_id: str, directory: str) -> external.SparkWhatIf:
    return external.SparkWhatIf(*on_spark(dataset_id))


def spark_whatif(dataset_id: str) -> external.SparkWhatIf:
    """The What-if engine of an external source on Spark: its calibration fitted once and kept for the
    process, its replays run on Spark."""
    _, src = on_spark(dataset_id)
    return _spark_whatif(db_key(), dataset_id, str(src.directory))
