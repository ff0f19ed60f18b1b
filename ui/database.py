"""The dashboard's database: one DuckDB connection per process, a cursor per query, the cache key.

The bottom of ui/: every other helper that reads the database imports this module, which imports none
of theirs (but ui.recent, the memo it keeps the list of data sets in)."""

from __future__ import annotations

import duckdb
import streamlit as st

from analytics import db, external, source
from ui.recent import Recent


@st.cache_resource(max_entries=4, show_spinner=False)
def connection(path: str) -> duckdb.DuckDBPyConnection:
    """One DuckDB connection per process and database file. Never query it directly from a page:
    take `cursor()`, because Streamlit runs each session on its own thread."""
    return db.connect(path)


def cursor() -> duckdb.DuckDBPyConnection:
    """A cursor of the process's connection (its own transaction), for one query or one thread."""
    return db.cursor(connection(str(db.db_path())))


def db_key() -> str:
    """The database file, as part of every cache key (tests run several databases in one process)."""
    return str(db.db_path())


def written() -> tuple:
    """When the database was last written, as its file's and its write-ahead log's modification times
    and sizes: every commit changes one of them, so a result read under this stamp is still current."""
    path = db.db_path()
    stamp = []
    for file in (path, path.with_name(path.name + ".wal")):
        try:
            st_ = file.stat()
        except OSError:
            stamp.append(None)
        else:
            stamp.append((st_.st_mtime_ns, st_.st_size))
    return tuple(stamp)


_LISTED = Recent(max_entries=8, ttl=3600)


def datasets() -> list[db.Dataset]:
    """Every data set (db.list_datasets), read again only once the database has been written since."""
    def read() -> list[db.Dataset]:
        with cursor() as cur:
            return db.list_datasets(cur)
    return _LISTED.get(("datasets", db_key(), written()), read)


def dataset(dataset_id: str) -> db.Dataset | None:
    """A data set by id, as the list above has it (looked up in the database when the list has not it)."""
    found = next((d for d in datasets() if d.id == dataset_id), None)
    if found is None:
        with cursor() as cur:
            found = db.get_dataset(cur, dataset_id)
    return found


# --- external sources (analytics.external): their Parquet opened once per process ------------------------

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
    return db.cursor(src.con) if src is not None else cursor()


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
