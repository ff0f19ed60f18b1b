"""The dashboard's database: one DuckDB connection per process, a cursor per query, the cache key.

The bottom of ui/: every other helper that reads the database imports this module, which imports none
of theirs."""

from __future__ import annotations

import duckdb
import streamlit as st

from analytics import db


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

