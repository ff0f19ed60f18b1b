"""Parquet as the interchange: a data set's tables written as Parquet, and a Parquet directory read as a
data set.

The layout (what `export` writes, and what a directory written by anyone must follow):

    DIR/dataset.json                                           name, id, currencies, what the data set records
    DIR/orders/month=YYYY-MM/bucket=N/*.parquet                one row per order, columns as the `orders` table
    DIR/cancellation_requests/month=YYYY-MM/bucket=N/*.parquet one row per request, with its stage, outcome, return_path
    DIR/refunds/month=YYYY-MM/bucket=N/*.parquet               one row per refund
    DIR/order_sellers/month=YYYY-MM/bucket=N/*.parquet         (optional) orders with several sellers

Every table is partitioned (hive-style) by the month its order was placed and, within the month, by a
bucket of order ids (`export` writes buckets of about BUCKET_ORDERS orders), so an order's request,
refund and sellers sit in its order's partition directory. A partition directory of the four tables
is then a slice of the data set that joins on its own: the unit the engines read (chunked.py on one
machine, spark.py one Spark task per slice), with nothing moved between slices but partials. A
directory written by anyone may stop at the month (month=YYYY-MM/*.parquet) or not be partitioned at
all: it is then sliced by order id hash when read, at the cost of reading a month once per slice.
Columns are those of schema.sql without `dataset_id`; a column a directory lacks is read as null
(unknown), and types are cast to the schema's.

`open_source(DIR)` gives a DuckDB connection (in memory) whose `orders`, `cancellation_requests`,
`refunds` and `order_sellers` are views over the Parquet files, with the data set's row in `datasets`:
load.py, capabilities.py, report.py, orders.py and calibrate.py read it exactly as a stored data set
(the calibration fitted on it is kept in that in-memory database only).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from analytics import capabilities, db

FORMAT = "cancellation-lab-parquet"
VERSION = 1
METADATA = "dataset.json"
# Tables written, in the schema's column order; the month is that of the order's placed_at.
TABLES = ("orders", "cancellation_requests", "refunds", "order_sellers")
REQUIRED = ("orders",)
# Orders per bucket of a month, at most about: a slice a Spark task or a Python worker holds with ease
# (the replay's arrays of 1,000,000 orders are about half a gigabyte).
BUCKET_ORDERS = 1_000_000


def buckets_for(orders_in_largest_month: int, bucket_orders: int = BUCKET_ORDERS) -> int:
    """How many buckets each month is written in, for a data set whose largest month holds that many orders."""
    return max(1, math.ceil(orders_in_largest_month / bucket_orders))


def partition_sql(order_id: str, placed_at: str, buckets: int) -> str:
    """The partition columns of a row (its order's month and bucket) as DuckDB SQL, for COPY ... PARTITION_BY
    (month, bucket): what `export` and the benchmark's chunked writer both write."""
    return (f"strftime({placed_at}, '%Y-%m') AS month, "
            f"CAST(hash({order_id}) % {int(buckets)} AS INTEGER) AS bucket")


class SourceError(ValueError):
    """A directory that is not a Parquet source (or cannot be written as one)."""


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    """(column, type) of a schema table, without dataset_id."""
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'main' "
        "AND table_name = ? ORDER BY ordinal_position", [table]).fetchall()
    return [(c, t) for c, t in rows if c != "dataset_id"]


def _quote(path: Path) -> str:
    return db.sql_text(str(path))


def export(con: duckdb.DuckDBPyConnection, dataset, directory: str | Path, *, bucket_orders: int = BUCKET_ORDERS) -> dict:
    """Write a stored data set (a db.Dataset, an id or a name) as Parquet under `directory` (created;
    it must be empty or absent), each month in buckets of about `bucket_orders` orders. Returns what was
    written: the data set, each table's rows and the buckets per month."""
    ds = dataset if isinstance(dataset, db.Dataset) else db.resolve_dataset(con, dataset)
    out = Path(directory)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise SourceError(f"{out} exists and is not an empty directory: choose a new one")
    out.mkdir(parents=True, exist_ok=True)
    cur = con.cursor()
    written: dict[str, int] = {}
    try:
        cur.execute("SET TimeZone = 'UTC'")
        largest = cur.execute("SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM orders WHERE dataset_id = ? "
                              "GROUP BY strftime(placed_at, '%Y-%m'))", [ds.id]).fetchall()[0][0]
        buckets = buckets_for(largest, bucket_orders)
        partition = partition_sql("o.order_id", "o.placed_at", buckets)
        for table in TABLES:
            cols = ", ".join(f"t.{c}" for c, _ in _columns(cur, table))
            if table == "orders":
                select = f"SELECT {cols}, {partition} FROM orders t JOIN orders o USING (dataset_id, order_id)"
            else:
                select = (f"SELECT {cols}, {partition} FROM {table} t "
                          f"JOIN orders o ON o.dataset_id = t.dataset_id AND o.order_id = t.order_id")
            sql = f"{select} WHERE t.dataset_id = ? ORDER BY t.order_id"
            n = cur.execute(f"SELECT count(*) FROM {table} WHERE dataset_id = ?", [ds.id]).fetchall()[0][0]
            written[table] = n
            if n:
                cur.execute(f"COPY ({sql}) TO {_quote(out / table)} (FORMAT parquet, PARTITION_BY (month, bucket))",
                            [ds.id])
        codes = [c for (c,) in cur.execute(
            "SELECT DISTINCT upper(trim(currency)) AS c FROM orders WHERE dataset_id = ? AND currency IS NOT NULL "
            "ORDER BY c", [ds.id]).fetchall()]
    finally:
        cur.close()
    missing = capabilities.missing(con, ds.id)
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "dataset": {
            "id": ds.id, "name": ds.name, "source_kind": ds.source_kind, "source": ds.source,
            "true_params": ds.true_params, "created_at": ds.created_at.isoformat(),
            "orders": ds.orders, "cancellation_requests": ds.cancellation_requests, "refunds": ds.refunds,
            "refused_rows": ds.refused_rows, "warned_rows": ds.warned_rows, "is_demo": ds.is_demo,
        },
        "currencies": codes,
        "records": {name: name not in missing for name in capabilities.CAPABILITIES},
        "rows": written,
        "buckets": buckets,
    }
    (out / METADATA).write_text(json.dumps(meta, indent=2, default=str), encoding="utf-8")
    return {"dataset": {"id": ds.id, "name": ds.name}, "directory": str(out), "rows": written, "buckets": buckets}


@dataclass(frozen=True)
class Source:
    """A Parquet directory opened as a data set: `con` (DuckDB, in memory, views over the files),
    `dataset` (its row of the catalogue) and the metadata file's content ({} when there is none)."""

    directory: Path
    con: duckdb.DuckDBPyConnection
    dataset: db.Dataset
    meta: dict

    def files(self, table: str) -> list[Path]:
        return table_files(self.directory, table)

    @property
    def missing(self) -> dict[str, str]:
        """Capability -> why the data set lacks it: from the metadata when it says, else read from the files."""
        records = self.meta.get("records")
        if isinstance(records, dict) and set(records) >= set(capabilities.CAPABILITIES):
            return {k: why for k, why in capabilities.CAPABILITIES.items() if not records[k]}
        return capabilities.missing(self.con, self.dataset.id)

    @property
    def currencies(self) -> list[str]:
        if isinstance(self.meta.get("currencies"), list):
            return list(self.meta["currencies"])
        return [c for (c,) in self.con.execute(
            "SELECT DISTINCT upper(trim(currency)) AS c FROM orders WHERE currency IS NOT NULL ORDER BY c").fetchall()]

    def close(self) -> None:
        self.con.close()


def table_files(directory: Path, table: str) -> list[Path]:
    return sorted((Path(directory) / table).glob("**/*.parquet"))


def partitions(directory: str | Path) -> list[tuple[str, int]]:
    """The source's partition directories (relative to orders/: "month=2025-01/bucket=3", "month=2025-01",
    or "." for files not partitioned) with their orders, in order, from the Parquet files' footers."""
    files = table_files(Path(directory), "orders")
    if not files:
        return []
    con = duckdb.connect()
    try:
        rows = con.execute("SELECT file_name, num_rows FROM parquet_file_metadata(?)", [[str(f) for f in files]]).fetchall()
    finally:
        con.close()
    base = Path(directory) / "orders"
    counts: dict[str, int] = {}
    for name, n in rows:
        rel = Path(name).parent.relative_to(base).as_posix()
        counts[rel] = counts.get(rel, 0) + int(n)
    return sorted(counts.items())


@dataclass(frozen=True)
class Chunk:
    """Part of a source's orders (chunked.py reads a large source a chunk at a time; spark.py runs a task
    per chunk): those in the partition directories `dirs` (relative to each table's directory, as
    `partitions` names them; none: every file) whose order id hashes to `index` of `parts`. An order's
    request, refund and sellers are in its order's partition directory and hash as it does, so they fall
    in its chunk."""

    dirs: tuple[str, ...] = ()
    parts: int = 1
    index: int = 0


def _view(con: duckdb.DuckDBPyConnection, directory: Path, table: str, dataset_id: str,
          chunk: Chunk | None = None) -> None:
    """Replace the schema's table by a view over the table's Parquet files (those of `chunk` only, when
    given), in the table's shape."""
    if chunk is None or not chunk.dirs:
        files = table_files(directory, table)
        globs = [str(directory / table) + "/**/*.parquet"] if files else []
    else:
        globs = [str(directory / table / d) + ("/*.parquet" if d == "." else "/**/*.parquet") for d in chunk.dirs
                 if (directory / table / d).is_dir()]
    if not globs:
        if table in REQUIRED and chunk is None:
            raise SourceError(f"{directory} holds no Parquet files under {table}/: not a data set's export")
        return  # the empty table stays: the data set (or this chunk of it) has no such rows
    wanted = _columns(con, table)
    scan = f"read_parquet([{', '.join(_quote(Path(g)) for g in globs)}], hive_partitioning = true, union_by_name = true)"
    present = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()}
    select = ", ".join(f"CAST({c} AS {t}) AS {c}" if c in present else f"CAST(NULL AS {t}) AS {c}" for c, t in wanted)
    where = f" WHERE hash(order_id) % {int(chunk.parts)} = {int(chunk.index)}" if chunk and chunk.parts > 1 else ""
    con.execute(f"DROP TABLE {table}")
    con.execute(f"CREATE VIEW {table} AS SELECT CAST({db.sql_text(dataset_id)} AS VARCHAR) AS dataset_id, {select} FROM {scan}{where}")


def open_source(directory: str | Path, *, dataset_id: str | None = None, name: str | None = None,
                chunk: Chunk | None = None) -> Source:
    """A Parquet directory (see the module's docstring) as a data set in an in-memory DuckDB; with
    `dataset_id` and `name`, as that data set (a registered source: external.py) rather than the export's;
    with `chunk`, only that chunk of its orders (chunked.py)."""
    path = Path(directory)
    if not path.is_dir():
        raise SourceError(f"no directory at {path}")
    meta: dict = {}
    if (path / METADATA).exists():
        try:
            meta = json.loads((path / METADATA).read_text(encoding="utf-8"))
        except ValueError as e:
            raise SourceError(f"{path / METADATA} is not JSON: {e}") from None
    info = meta.get("dataset") or {}
    dataset_id = dataset_id or str(info.get("id") or "parquet-" + hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16])
    con = db.connect(":memory:")
    try:
        for table in TABLES:
            _view(con, path, table, dataset_id, chunk)
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
                  for t in ("orders", "cancellation_requests", "refunds")}
        created = info.get("created_at")
        con.execute(
            "INSERT INTO datasets (id, name, source_kind, source, true_params, created_at, orders, "
            "cancellation_requests, refunds, refused_rows, is_demo, warned_rows) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [dataset_id, name or str(info.get("name") or path.name), str(info.get("source_kind") or "parquet"),
             json.dumps(info.get("source") or {"parquet": str(path)}),
             json.dumps(info["true_params"]) if info.get("true_params") else None,
             datetime.fromisoformat(created) if created else datetime(2000, 1, 1),
             counts["orders"], counts["cancellation_requests"], counts["refunds"],
             int(info.get("refused_rows") or 0), bool(info.get("is_demo")), int(info.get("warned_rows") or 0)])
        dataset = db.get_dataset(con, dataset_id)
    except BaseException:
        con.close()
        raise
    return Source(path, con, dataset, meta)
