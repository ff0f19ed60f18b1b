"""The dashboard's database: one DuckDB connection per process, a cursor per query, the cache key.

The bottom of ui/: every other helper that reads the database imports this module, which imports none
of theirs."""

from __future__ import annotations

import duckdb
import streamlit as st

from analytics import db, external, source


@st.cache_resource(max_entries=4, show_spinner=False)
def connection(path: str) -> duckdb.DuckDBPyConnection:
    """One DuckDB connection per process and database file. Never query it directly from a page:
    take `cursor()`, because Streamlit runs each session on its own thread."""
    return db.connect(path)


def cursor() -> duckdb.DuckDBPyConnection:
    """A cursor of the process's connection (its own transaction), for one query or one thread."""
    return connection(str(db.db_path())).cursor()


def db_key() -> str:
    """The database file, as part of every cache key (tests run several databases in one process)."""
    return str(db.db_path())


# --- external sources (analytics.external): their Parquet opened once per process ------------------------

def dataset(dataset_id: str) -> db.Dataset | None:
    with cursor() as cur:
        return db.get_dataset(cur, dataset_id)


@st.cache_resource(max_entries=8, show_spinner=False)
def _opened(database: str, dataset_id: str, directory: str, name: str, _dataset: db.Dataset) -> source.Source:
    return external.open_source(_dataset)


def source_of(dataset_id: str) -> source.Source | None:
    """An external data set's Parquet opened as that data set (kept for the process: its DuckDB views, and
    the calibration fitted on it); None for a stored data set."""
    found = dataset(dataset_id)
    ext = external.of(found)
    if ext is None:
        return None
    return _opened(db_key(), found.id, str(ext.directory), found.name, found)


def data_cursor(dataset_id: str) -> duckdb.DuckDBPyConnection:
    """A cursor on the connection that holds the data set's rows: the database's for a stored data set,
    its Parquet views' for an external one (the same queries read both)."""
    src = source_of(dataset_id)
    return src.con.cursor() if src is not None else cursor()


@st.cache_resource(max_entries=2, show_spinner=False)
def spark_session(remote: str | None):
    """The process's Spark session (local, or Spark Connect at `remote`)."""
    from analytics import spark

    return spark.session(remote)


def on_spark(dataset_id: str) -> tuple[object, source.Source] | None:
    """(Spark session, source) for an external data set on the spark engine; None otherwise."""
    found = dataset(dataset_id)
    ext = external.of(found)
    if ext is None or not ext.on_spark:
        return None
    return spark_session(ext.spark_remote), source_of(dataset_id)
