"""The DuckDB file: where it lives, its schema, and the data-set catalogue.

One connection per process (DuckDB allows one writing process per file); threads take their own
`con.cursor()`, which DuckDB runs as separate, isolated transactions.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import weakref
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path

import duckdb

DEFAULT_DB = Path(__file__).resolve().parent.parent / "data" / "cancellation_lab.duckdb"
ENV_VAR = "CANCELLATION_LAB_DB"
SCHEMA_VERSION = 1

# Tables whose rows belong to a data set; deleting a data set deletes from each.
DATASET_TABLES = ("orders", "order_sellers", "cancellation_requests", "refunds", "refused_rows", "warned_rows",
                  "scenarios", "calibrations")


class DatasetNotFound(LookupError):
    pass


def db_path(path: str | os.PathLike | None = None) -> Path:
    """The database file: an explicit path, else $CANCELLATION_LAB_DB, else data/cancellation_lab.duckdb."""
    if path:
        return Path(path)
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    return DEFAULT_DB


def connect(path: str | os.PathLike | None = None, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the database and make sure its schema is current."""
    p = db_path(path)
    if str(p) != ":memory:":
        p.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(p), read_only=read_only)
    # Naive timestamps in exports are UTC, and every stored timestamp is UTC.
    con.execute("SET TimeZone = 'UTC'")
    if not read_only:
        ensure_schema(con)
    location(con)   # known before any thread shares the connection (cursor below never asks it)
    return con


# DuckDB 2: a result must be fetched to its end before its connection does other work, so single rows
# here are read with fetchall().
def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create what is missing: tables, and columns that a database written by an older version lacks.

    The expected columns are read from schema.sql itself (built in memory), so adding a column to the
    schema is the whole migration; existing rows get the column's default (or NULL).
    """
    sql = resources.files("analytics").joinpath("schema.sql").read_text(encoding="utf-8")
    con.execute(sql)
    expected = duckdb.connect()
    try:
        expected.execute(sql)
        wanted = expected.execute(
            "SELECT table_name, column_name, data_type, column_default FROM information_schema.columns "
            "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position"
        ).fetchall()
    finally:
        expected.close()
    have = set(con.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main'"
    ).fetchall())
    for table, column, data_type, default in wanted:
        if (table, column) not in have:
            default_sql = f" DEFAULT {default}" if default is not None else ""
            con.execute(f'ALTER TABLE "{table}" ADD COLUMN "{column}" {data_type}{default_sql}')
    if con.execute("SELECT count(*) FROM schema_info").fetchall()[0][0] == 0:
        con.execute("INSERT INTO schema_info VALUES (?)", [SCHEMA_VERSION])
    else:
        con.execute("UPDATE schema_info SET version = ?", [SCHEMA_VERSION])


def store_dir(con: duckdb.DuckDBPyConnection) -> Path | None:
    """Where files kept beside the database live (the what-if engine's arrays, replay_store.py):
    `NAME.whatif/` next to `NAME.duckdb`; None for a database in memory."""
    path, _ = location(con)
    return Path(path).with_suffix(".whatif") if path else None


def location(con: duckdb.DuckDBPyConnection) -> tuple[str | None, bool]:
    """The file `con` is connected to (None: in memory) and whether it is read-only: what opening the same
    database again takes (connect(path, read_only)), after `con` itself may be closed. In one process
    DuckDB shares the open file between the connections."""
    found = _LOCATIONS.get(con)
    if found is None:
        path, read_only = con.execute(
            "SELECT path, readonly FROM duckdb_databases() WHERE database_name = current_database()").fetchall()[0]
        found = _LOCATIONS[con] = (path or None), bool(read_only)
    return found


# A connection's file never changes: asked at every load and drill count of a page (a few dozen times a
# run, half a millisecond each), it is read once per connection.
_LOCATIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """`con.cursor()` (its own transaction) that already knows con's file: the dashboard takes a cursor
    per query, and asking DuckDB each new cursor's location cost about 2 ms a table (7% of a page's run).
    Where con's file is not known yet, the new cursor is asked, never con: con is shared by the sessions'
    threads, and DuckDB refuses a query on a connection busy with another thread's (or answers it empty)."""
    cur = con.cursor()
    found = _LOCATIONS.get(con)
    if found is None:
        _LOCATIONS[con] = location(cur)
    else:
        _LOCATIONS[cur] = found
    return cur


def sql_name(name: str) -> str:
    """A column or table name as SQL writes it, quoted (a header may hold spaces, quotes, anything)."""
    return '"' + name.replace('"', '""') + '"'


def sql_text(value: str) -> str:
    """A text as an SQL string literal, its quotes doubled (for what a statement cannot bind)."""
    return "'" + value.replace("'", "''") + "'"


def new_id() -> str:
    """128 random bits, URL-safe: a data set is reachable only by someone who was given its id.

    Never starting with '-', which a command line would read as an option (`--dataset -x...`).
    """
    while True:
        token = secrets.token_urlsafe(16)
        if not token.startswith("-"):
            return token


@dataclass(frozen=True)
class Dataset:
    id: str
    name: str
    source_kind: str
    source: dict
    true_params: dict | None
    created_at: datetime
    orders: int
    cancellation_requests: int
    refunds: int
    refused_rows: int
    is_demo: bool
    warned_rows: int = 0

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "source": self.source_kind,
            "created_at": self.created_at.isoformat(sep=" ", timespec="seconds"),
            "orders": self.orders,
            "cancellation_requests": self.cancellation_requests,
            "refunds": self.refunds,
            "refused_rows": self.refused_rows,
            "warned_rows": self.warned_rows,
        }


_DATASET_COLUMNS = (
    "id, name, source_kind, source, true_params, created_at, orders, cancellation_requests, refunds, "
    "refused_rows, is_demo, warned_rows"
)


def _row_to_dataset(row) -> Dataset:
    values = list(row)
    values[3] = json.loads(values[3]) if values[3] else {}
    values[4] = json.loads(values[4]) if values[4] else None
    return Dataset(*values)


def list_datasets(con: duckdb.DuckDBPyConnection) -> list[Dataset]:
    """Every data set, newest first."""
    rows = con.execute(f"SELECT {_DATASET_COLUMNS} FROM datasets ORDER BY created_at DESC, name").fetchall()
    return [_row_to_dataset(r) for r in rows]


def get_dataset(con: duckdb.DuckDBPyConnection, dataset_id: str) -> Dataset | None:
    row = con.execute(f"SELECT {_DATASET_COLUMNS} FROM datasets WHERE id = ?", [dataset_id]).fetchall()
    row = row[0] if row else None
    return _row_to_dataset(row) if row else None


def resolve_dataset(con: duckdb.DuckDBPyConnection, id_or_name: str | None = None) -> Dataset:
    """A data set by id, else by exact name (the newest of that name); None means the newest data set."""
    if id_or_name is None:
        rows = list_datasets(con)
        if not rows:
            raise DatasetNotFound("the database has no data set yet: run `python -m analytics generate` or import a file")
        return rows[0]
    found = get_dataset(con, id_or_name)
    if found:
        return found
    rows = con.execute(
        f"SELECT {_DATASET_COLUMNS} FROM datasets WHERE name = ? ORDER BY created_at DESC LIMIT 1", [id_or_name]
    ).fetchall()
    if rows:
        return _row_to_dataset(rows[0])
    raise DatasetNotFound(f"no data set with id or name {id_or_name!r}")


def rename_dataset(con: duckdb.DuckDBPyConnection, dataset_id: str, name: str) -> None:
    name = name.strip()
    if not name:
        raise ValueError("a data set's name cannot be empty")
    con.execute("UPDATE datasets SET name = ? WHERE id = ?", [name, dataset_id])


def delete_dataset(con: duckdb.DuckDBPyConnection, dataset_id: str) -> None:
    """Remove a data set and every row that belongs to it, in one transaction."""
    cur = con.cursor()
    cur.execute("BEGIN TRANSACTION")
    try:
        for table in DATASET_TABLES:
            cur.execute(f"DELETE FROM {table} WHERE dataset_id = ?", [dataset_id])
        cur.execute("DELETE FROM datasets WHERE id = ?", [dataset_id])
        cur.execute("COMMIT")
    except BaseException:
        cur.execute("ROLLBACK")
        raise
    root = store_dir(con)
    if root is not None:
        shutil.rmtree(root / dataset_id, ignore_errors=True)
