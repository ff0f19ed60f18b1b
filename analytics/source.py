"""Parquet as the interchange: a data set's tables written as Parquet, and a Parquet directory read as a
data set.

The layout (what `export` writes, and what a directory written by anyone must follow):

    DIR/dataset.json                                  name, id, currencies, what the data set records
    DIR/orders/month=YYYY-MM/*.parquet                one row per order, columns as the `orders` table
    DIR/cancellation_requests/month=YYYY-MM/*.parquet one row per request, with its stage, outcome, return_path
    DIR/refunds/month=YYYY-MM/*.parquet               one row per refund
    DIR/order_sellers/month=YYYY-MM/*.parquet         (optional) orders with several sellers

Every table is partitioned (hive-style) by the month its order was placed, so an order's request and
refund sit in the same month as the order. Columns are those of schema.sql without `dataset_id`; a
column a directory lacks is read as null (unknown), and types are cast to the schema's.

`open_source(DIR)` gives a DuckDB connection (in memory) whose `orders`, `cancellation_requests`,
`refunds` and `order_sellers` are views over the Parquet files, with the data set's row in `datasets`:
load.py, capabilities.py, report.py, orders.py and calibrate.py read it exactly as a stored data set
(the calibration fitted on it is kept in that in-memory database only).
"""

from __future__ import annotations

import hashlib
import json
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


class SourceError(ValueError):
    """A directory that is not a Parquet source (or cannot be written as one)."""


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    """(column, type) of a schema table, without dataset_id."""
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'main' "
        "AND table_name = ? ORDER BY ordinal_position", [table]).fetchall()
    return [(c, t) for c, t in rows if c != "dataset_id"]


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def export(con: duckdb.DuckDBPyConnection, dataset, directory: str | Path) -> dict:
    """Write a stored data set (a db.Dataset, an id or a name) as Parquet under `directory` (created;
    it must be empty or absent). Returns what was written: the data set and each table's rows."""
    ds = dataset if isinstance(dataset, db.Dataset) else db.resolve_dataset(con, dataset)
    out = Path(directory)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise SourceError(f"{out} exists and is not an empty directory: choose a new one")
    out.mkdir(parents=True, exist_ok=True)
    cur = con.cursor()
    written: dict[str, int] = {}
    try:
        cur.execute("SET TimeZone = 'UTC'")
        for table in TABLES:
            cols = ", ".join(f"t.{c}" for c, _ in _columns(cur, table))
            month = "strftime(o.placed_at, '%Y-%m') AS month"
            if table == "orders":
                select = f"SELECT {cols}, {month} FROM orders t JOIN orders o USING (dataset_id, order_id)"
            else:
                select = (f"SELECT {cols}, {month} FROM {table} t "
                          f"JOIN orders o ON o.dataset_id = t.dataset_id AND o.order_id = t.order_id")
            sql = f"{select} WHERE t.dataset_id = ? ORDER BY t.order_id"
            n = cur.execute(f"SELECT count(*) FROM {table} WHERE dataset_id = ?", [ds.id]).fetchall()[0][0]
            written[table] = n
            if n:
                cur.execute(f"COPY ({sql}) TO {_quote(out / table)} (FORMAT parquet, PARTITION_BY (month))", [ds.id])
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
    }
    (out / METADATA).write_text(json.dumps(meta, indent=2, default=str), encoding="utf-8")
    return {"dataset": {"id": ds.id, "name": ds.name}, "directory": str(out), "rows": written}


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


@dataclass(frozen=True)
class Chunk:
    """Part of a source's orders (chunked.py reads a large source a chunk at a time): those placed in
    `months` (its month=YYYY-MM directories; none: every file, for a source not split by month) whose
    order id hashes to `index` of `parts`. An order's request, refund and sellers are in its month and
    hash as it does, so they fall in its chunk."""

    months: tuple[str, ...] = ()
    parts: int = 1
    index: int = 0


def _view(con: duckdb.DuckDBPyConnection, directory: Path, table: str, dataset_id: str,
          chunk: Chunk | None = None) -> None:
    """Replace the schema's table by a view over the table's Parquet files (those of `chunk` only, when
    given), in the table's shape."""
    if chunk is None or not chunk.months:
        files = table_files(directory, table)
        globs = [str(directory / table) + "/**/*.parquet"] if files else []
    else:
        globs = [str(directory / table / f"month={m}") + "/*.parquet" for m in chunk.months
                 if (directory / table / f"month={m}").is_dir()]
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
    literal = "'" + dataset_id.replace("'", "''") + "'"
    con.execute(f"CREATE VIEW {table} AS SELECT CAST({literal} AS VARCHAR) AS dataset_id, {select} FROM {scan}{where}")


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
