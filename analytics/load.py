"""A data set's frames loaded from DuckDB, one query per grain (orders, requests, refunds: pipelines.py),
with the filters pushed into the SQL as bound parameters and only the columns asked for. The report, the
Overview and the what-if engine all load through here.

    load_frame(con, dataset, grain, filters=NO_FILTERS, columns=None) -> pl.DataFrame
    load(con, dataset, filters=NO_FILTERS, reads=None, coded=False) -> pipelines.Frames (lazy over the loaded frames)
        under a filter on sellers, an order's amount is those sellers' part of it (seller_amount_sql)
    resolve(con, dataset) -> db.Dataset;  dataset_id(con, dataset) -> str
    where(filters, grain) -> (conditions, parameters);  query(dataset_id, grain, select, conditions, parameters)
        the WHERE clause of a Filters and the query around it, for a caller that adds conditions of its own
        (analytics/drill.py: the orders behind a figure, paged and sorted in SQL)
    keep_resident(limits)   the dashboard's choice: keep each data set's orders in memory once loaded
    resident(con, dataset) -> pl.DataFrame | None   those orders (one row per order), None when not kept
    derived(wide) -> dict   what is made from those orders and kept with them (rollup.py), counted in their bytes
    frames_of(wide, filters, grains) -> pipelines.Frames   the same selection from one row per order in memory
    one_row_resident(con, dataset, select, conditions, parameters)   a query's one row from the orders kept
        in memory (the SQL above, its o/r/f columns read from the one row per order), or None
    one_row_selected(con, dataset, select, parameters, filters)   the same over the orders the filters
        select (their mask, found once), or None

Kept in memory (keep_resident): handing a million rows from DuckDB to Polars is most of a report's time,
and the dashboard asks for the same data set's rows again at every page, filter and chart. With it on,
`load` reads a data set's orders once (one row per order, with its request, refund and sellers: every
column of pipelines.COLUMNS), keeps them within the limits (memory.SizedCache: bytes, idle time), and
selects each grain under the filters in Polars (frames_of: the same conditions as the SQL, condition for
condition; tests/test_resident.py checks every figure is the same both ways). The command line, which
reports once per process, reads per query with the filters in the SQL.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

import duckdb
import polars as pl

from analytics import db, memory
from analytics import pipelines as p
from analytics.filters import NO_FILTERS, Filters

# ---------------------------------------------------------------------------------------------------
# Loading: one query per grain, the other tables joined on only when a column or a filter reads them,
# and the filters in the WHERE clause. Aliases: o = orders, r = cancellation_requests, f = refunds.

COLUMN_SQL = {
    "order_id": "o.order_id",
    "placed_at": "o.placed_at",
    "payment_method": "o.payment_method",
    "amount": "o.amount",
    "shipping_method": "o.shipping_method",
    "seller_id": "o.seller_id",
    "currency": "upper(trim(o.currency))",
    "paid_at": "o.paid_at",
    "shipped_at": "o.shipped_at",
    "delivered_at": "o.delivered_at",
    "cancelled_at": "o.cancelled_at",
    "is_cancelled": "o.is_cancelled",
    "cancel_stage": "o.cancel_stage",
    "status": "o.status",
    "has_request": "r.order_id IS NOT NULL",
    "requested_at": "r.requested_at",
    "reason": "r.reason",
    "request_stage": "r.stage",
    "seller_response": "r.seller_response",
    "responded_at": "r.responded_at",
    "outcome": "r.outcome",
    "return_path": "r.return_path",
    "has_refund": "f.order_id IS NOT NULL",
    "refund_channel": "f.channel",
    "refund_amount": "f.amount",
    "refund_initiated_at": "f.initiated_at",
    "refund_completed_at": "f.completed_at",
}
assert set(COLUMN_SQL) == set(p.COLUMNS)

_TABLES = {"o": "orders", "r": "cancellation_requests", "f": "refunds"}
_BASE = {"orders": "o", "requests": "r", "refunds": "f"}
_ANCHOR_SQL = {"order": "o.placed_at", "request": "r.requested_at", "refund": "f.initiated_at"}
_ALIAS = re.compile(r"\b([orf])\.")


def where(filters: Filters, grain: str = "orders") -> tuple[list[str], list]:
    """SQL conditions and their parameters for a Filters (aliases o, r, f)."""
    conds: list[str] = []
    params: list = []
    anchor = _ANCHOR_SQL[filters.anchor]
    if filters.start is not None:
        conds.append(f"{anchor} >= ?")
        params.append(filters.start)
    if filters.end is not None:
        # Whole days: the end date counts up to its midnight.
        conds.append(f"{anchor} < ?")
        params.append(filters.end + timedelta(days=1))
    for name, column in (("payment_methods", "o.payment_method"), ("shipping_methods", "o.shipping_method"),
                         ("reasons", "r.reason")):
        values = getattr(filters, name)
        if values:
            conds.append(f"{column} IN ({', '.join('?' for _ in values)})")
            params.extend(values)
    if filters.sellers:
        # An order with several sellers is any of its sellers' order.
        marks = ", ".join("?" for _ in filters.sellers)
        conds.append(f"(o.seller_id IN ({marks}) OR o.order_id IN (SELECT s.order_id FROM order_sellers s "
                     f"WHERE s.dataset_id = o.dataset_id AND s.seller_id IN ({marks})))")
        params.extend([*filters.sellers, *filters.sellers])
    if filters.stages:
        # A request's stage, else the cancellation's (an order cancelled by status alone). On the requests
        # grain every row has a request, so the orders table need not be joined for this.
        stage = "r.stage" if grain == "requests" else "coalesce(r.stage, o.cancel_stage)"
        conds.append(f"{stage} IN ({', '.join('?' for _ in filters.stages)})")
        params.extend(filters.stages)
    return conds, params


def resolve(con, dataset) -> db.Dataset:
    if isinstance(dataset, db.Dataset):
        return dataset
    cur = con.cursor()  # a cursor of its own: the caller's connection may serve other threads
    try:
        return db.resolve_dataset(cur, dataset)
    finally:
        cur.close()


def dataset_id(con, dataset) -> str:
    return resolve(con, dataset).id


def query(dataset_id: str, grain: str, select: Sequence[str], conditions: Sequence[str] = (),
          parameters: Sequence = (), select_parameters: Sequence = ()) -> tuple[str, list]:
    """The SQL (and its bound parameters) selecting `select` (SQL expressions over the aliases o, r, f;
    `select_parameters` are theirs) from one grain's rows of a data set that meet every condition; the
    other tables are joined on only when an expression or a condition names their alias."""
    base = _BASE[grain]
    used = set(_ALIAS.findall(" ".join([*select, *conditions]))) - {base}
    sql = [f"SELECT {', '.join(select)} FROM {_TABLES[base]} {base}"]
    params: list = []
    for alias in "orf":
        if alias in used:
            # Every request and refund has its order, so joining orders on loses no row; a request or
            # a refund may be missing, so those are left joins.
            kind = "JOIN" if alias == "o" else "LEFT JOIN"
            sql.append(f"{kind} (SELECT * FROM {_TABLES[alias]} WHERE dataset_id = ?) {alias} "
                       f"ON {alias}.order_id = {base}.order_id")
            params.append(dataset_id)
    sql.append("WHERE " + " AND ".join([f"{base}.dataset_id = ?", *conditions]))
    return "\n".join(sql), [*select_parameters, *params, dataset_id, *parameters]


# ---------------------------------------------------------------------------------------------------
# A seller's part of an order. An order with several sellers (order_sellers) is each of its sellers'
# order, with that seller's share of its amount: under a filter on sellers (or a seller's group of orders),
# an order's amount is the chosen sellers' part of it, as the seller table credits each seller, so a
# seller's GMV is the same on every page, in the report and in its list of orders.

def _pairs_sql(sellers: Sequence[str], what: str) -> str:
    marks = ", ".join("?" for _ in sellers)
    return (f"(SELECT {what} FROM order_sellers s WHERE s.dataset_id = o.dataset_id AND s.order_id = o.order_id "
            f"AND s.seller_id IN ({marks}))")


def seller_amount_sql(sellers: Sequence[str]) -> tuple[str, list]:
    """SQL of an order's amount (alias o) that is the `sellers`' (none: the whole amount): the sum of their
    shares of an order with several sellers, else all of it; and its parameters."""
    if not sellers:
        return COLUMN_SQL["amount"], []
    return f"(o.amount * coalesce({_pairs_sql(sellers, 'sum(s.share)')}, 1.0))", list(sellers)


def seller_id_sql(sellers: Sequence[str]) -> tuple[str, list]:
    """SQL of the seller an order (alias o) is listed under among `sellers` (none: its first seller, as
    stored): its first seller when that is one of them, else the first of them that sells in it."""
    if not sellers:
        return COLUMN_SQL["seller_id"], []
    marks = ", ".join("?" for _ in sellers)
    return (f"coalesce(CASE WHEN o.seller_id IN ({marks}) THEN o.seller_id END, "
            f"{_pairs_sql(sellers, 'min(s.seller_id)')})", [*sellers, *sellers])


def _seller_shares(con, dataset_id: str, sellers: Sequence[str]) -> pl.DataFrame:
    """Per order with several sellers of which some are `sellers`: their part of it (`_share`)."""
    marks = ", ".join("?" for _ in sellers)
    cur = con.cursor()
    try:
        return cur.sql(f"SELECT order_id, sum(share) AS _share FROM order_sellers WHERE dataset_id = ? "
                       f"AND seller_id IN ({marks}) GROUP BY order_id", params=[dataset_id, *sellers]).pl()
    finally:
        cur.close()


def _sellers_part(frame: pl.LazyFrame, shares: pl.DataFrame) -> pl.LazyFrame:
    """The frame's amounts cut to the sellers' part of each order (`shares`: _seller_shares; an order not
    in it is all theirs), as seller_amount_sql reads them."""
    return (frame.join(shares.lazy(), on="order_id", how="left", maintain_order="left")
            .with_columns((pl.col("amount") * pl.col("_share").fill_null(1.0)).alias("amount"))
            .drop("_share"))


def load_frame(con: duckdb.DuckDBPyConnection, dataset, grain: str, filters: Filters = NO_FILTERS,
               columns: Iterable[str] | None = None) -> pl.DataFrame:
    """One grain's frame of a data set under filters: one row per order ('orders'), per cancellation
    request ('requests') or per refund ('refunds') of the selected orders, with the columns asked for
    (default: all of pipelines.COLUMNS) in that vocabulary's types. The result crosses from DuckDB to
    Polars as Arrow, column by column; nothing is copied row by row."""
    return _read(con, dataset, grain, filters, columns)


# A label column with more distinct values than this in a data set crosses as text.
MAX_CODED_LABELS = 1000
# Data sets of fewer orders read their labels as text: finding the codes and casting to them costs a
# query per table and a lookup per row, which at 1M orders was as much as the text's transfer saved
# (0.29-0.37 s a report either way), for 115 MB less. At 10M orders the codes halve the report's memory.
CODED_FROM = 2_000_000


def _label_codes(cur, dataset_id: str, wanted: Sequence[str]) -> dict[str, list[str]]:
    """For the label columns among `wanted` (pipelines.LABEL_COLUMNS), the data set's distinct values
    (at most MAX_CODED_LABELS of them), one scan per table."""
    by_alias: dict[str, list[str]] = {}
    for c in wanted:
        if c in p.LABEL_COLUMNS:
            by_alias.setdefault(_ALIAS.findall(COLUMN_SQL[c])[0], []).append(c)
    out = {}
    for alias, cols in by_alias.items():
        picks = ", ".join(f"CASE WHEN count(DISTINCT {COLUMN_SQL[c]}) <= {MAX_CODED_LABELS} "
                          f"THEN list(DISTINCT {COLUMN_SQL[c]}) END" for c in cols)
        row = cur.execute(f"SELECT {picks} FROM {_TABLES[alias]} {alias} WHERE {alias}.dataset_id = ?",
                          [dataset_id]).fetchall()[0]
        for c, values in zip(cols, row, strict=True):
            found = [v for v in values or () if v is not None]
            if found:
                out[c] = found
    return out


def _codes_for(con, dataset, reads: dict[str, Iterable[str] | None]) -> dict[str, list[str]]:
    """_label_codes of every label column the grains in `reads` ask for, found once for them all."""
    asked = set().union(*(set(p.COLUMNS) if cols is None else set(cols) for cols in reads.values()))
    cur = con.cursor()
    try:
        return _label_codes(cur, resolve(con, dataset).id, [c for c in p.COLUMNS if c in asked])
    finally:
        cur.close()


def _coded(sql: str, values: list[str]) -> str:
    """A label's SQL read as an ENUM of its values: it crosses to Polars as its codes (a Categorical), 4
    bytes a row rather than the text; at 10M orders the orders grain's read peaks at 0.6 GB, not 1.4 GB."""
    members = ", ".join(db.sql_text(v) for v in values)
    return f"CAST({sql} AS ENUM({members}))"


def _read(con, dataset, grain: str, filters: Filters, columns: Iterable[str] | None,
          codes: dict[str, list[str]] | None = None) -> pl.DataFrame:
    """load_frame; the label columns in `codes` (_label_codes) read as Categoricals, for a tally."""
    if grain not in _BASE:
        raise ValueError(f"grain must be one of {', '.join(_BASE)}, not {grain!r}")
    dataset_id = resolve(con, dataset).id
    asked = set(p.COLUMNS) if columns is None else set(columns)
    unknown = asked - set(p.COLUMNS)
    if unknown:
        raise ValueError(f"unknown columns: {sorted(unknown)}")
    wanted = [c for c in p.COLUMNS if c in asked]
    conds, where_params = where(filters, grain)
    cur = con.cursor()
    try:
        codes = codes or {}
        column_sql = {**COLUMN_SQL}
        select_params: list = []
        if "amount" in wanted and filters.sellers:
            column_sql["amount"], select_params = seller_amount_sql(filters.sellers)
        select = [f"{_coded(column_sql[c], codes[c]) if c in codes else column_sql[c]} AS {c}"
                  for c in wanted] or ["NULL AS _"]
        sql, params = query(dataset_id, grain, select, conds, where_params, select_params)
        frame = cur.sql(sql, params=params).pl()
    finally:
        cur.close()
    if not wanted:
        return frame  # one all-null column "_": the rows still count
    return frame.cast({c: p.COLUMNS[c] for c in wanted if c not in codes})


def load(con: duckdb.DuckDBPyConnection, dataset, filters: Filters = NO_FILTERS,
         reads: dict[str, Iterable[str]] | None = None, *, coded: bool = False) -> p.Frames:
    """pipelines.Frames for a data set under filters: for each grain in `reads` (grain -> columns; the
    default loads every grain with every column) that grain's frame, lazy over the loaded data. With
    `coded` (for a tally, grouped.tally, which makes only its groups' keys text), a label column read
    from DuckDB may be a Categorical (pipelines.LABEL_COLUMNS), on a data set of CODED_FROM orders or more."""
    reads = {g: None for g in p.GRAINS} if reads is None else reads
    wide = resident(con, dataset)
    if wide is None:
        ds = resolve(con, dataset)   # once: each read below would look it up again
        codes = _codes_for(con, ds, reads) if coded and ds.orders >= CODED_FROM else None
        return p.Frames(**{g: _read(con, ds, g, filters, cols, codes).lazy() for g, cols in reads.items()})
    grains = p.Frames(**{g: _rows(wide, filters, g) for g in reads})
    shares = None
    out = {}
    for g, cols in reads.items():
        asked = set(p.COLUMNS) if cols is None else set(cols)
        wanted = [c for c in p.COLUMNS if c in asked]
        frame = getattr(grains, g)
        if "amount" in wanted and filters.sellers:
            if shares is None:
                shares = _seller_shares(con, resolve(con, dataset).id, filters.sellers)
            frame = _sellers_part(frame, shares)
        # No column asked: the rows still count (as load_frame's one all-null column "_").
        out[g] = frame.select(wanted) if wanted else frame.with_columns(pl.lit(None).alias("_")).select("_")
    return p.Frames(**out)


# ---------------------------------------------------------------------------------------------------
# Kept in memory: a data set's orders, one row per order, for the dashboard (see the module docstring).

_RESIDENT: memory.SizedCache | None = None


def keep_resident(limits: memory.Limits | None) -> None:
    """Keep each data set's orders in memory once loaded, within `limits` (None: stop keeping them). What
    is made from them and kept with them (`derived`) counts in their bytes."""
    global _RESIDENT
    _RESIDENT = None if limits is None else memory.SizedCache(limits.max_bytes, limits.idle_seconds,
                                                              sizer=_with_derived)


# What is made from a frame kept in memory and lives as long as it does (the rollup of its partials):
# id of the frame (a frame is not hashable) -> name -> value; counted in the frame's bytes.
_DERIVED: dict[int, dict] = {}
_DERIVED_LOCK = threading.Lock()


def derived(wide: pl.DataFrame) -> dict:
    """The values made from a frame kept in memory, by name: kept while the frame is, dropped with it,
    and counted in its bytes by the cache that keeps it."""
    with _DERIVED_LOCK:
        found = _DERIVED.get(id(wide))
        if found is None:
            found = _DERIVED[id(wide)] = {}
            weakref.finalize(wide, _DERIVED.pop, id(wide), None)   # gone with the frame
    return found


def _with_derived(wide: pl.DataFrame) -> int:
    return memory.size_of(wide) + memory.size_of(_DERIVED.get(id(wide), {}))


def resident_bytes() -> int:
    return 0 if _RESIDENT is None else _RESIDENT.total_bytes()


def resident(con, dataset) -> pl.DataFrame | None:
    """The data set's orders kept in memory, one row per order (wide_frame), loaded now if not yet; None
    when orders are not kept (the command line) or the database is in memory."""
    cache = _RESIDENT
    if cache is None:
        return None
    path, _ = db.location(con)
    if path is None:   # a database in memory (a Parquet source's views): read per query
        return None
    ds = resolve(con, dataset)
    return cache.get((path, ds.id), lambda: wide_frame(con, ds.id))


# The SQL above over the orders kept in memory: one row per order (wide_frame) already holds its request's
# and refund's columns, so no table is joined. Each aliased column maps to the wide frame's own (COLUMN_SQL
# read backwards); a request's or refund's order id is the order's when it has one.
_WIDE_COLUMNS = {sql: name for name, sql in COLUMN_SQL.items() if re.fullmatch(r"[orf]\.\w+", sql)} | {
    "o.currency": "currency",   # kept upper-cased and trimmed, as COLUMN_SQL reads it
    "r.order_id": "(CASE WHEN has_request THEN order_id END)",
    "f.order_id": "(CASE WHEN has_refund THEN order_id END)",
}
_ALIASED = re.compile(r"\b[orf]\.\w+\b")
# Whether an order has a request or a refund, read from its flag rather than from an order id made up
# for the test (a column of text built for 10M orders, to test each for null).
_HAS = {"r.order_id IS NOT NULL": "has_request", "f.order_id IS NOT NULL": "has_refund"}


def over_wide(sql: str) -> str | None:
    """SQL over the aliases o, r, f rewritten over the wide frame's columns; None when it reads something
    the wide frame does not hold (the data set's id, another table)."""
    unknown = [m for m in _ALIASED.findall(sql) if m not in _WIDE_COLUMNS]
    if unknown:
        return None
    for test, flag in _HAS.items():
        sql = sql.replace(test, flag)
    return _ALIASED.sub(lambda m: _WIDE_COLUMNS[m.group(0)], sql)


def _wide_sql(select: Sequence[str], conditions: Sequence[str]) -> str | None:
    """`SELECT select WHERE conditions` over the wide frame `wide_orders` (over_wide), or None."""
    # Each column named: Polars' SQL refuses two columns of one name (count, count, ...).
    named = [f"{expr} AS c{i}" for i, expr in enumerate(select)]
    return over_wide(f"SELECT {', '.join(named)} FROM wide_orders WHERE {' AND '.join(conditions) or 'true'}")


def _polars_row(frame: pl.DataFrame | pl.LazyFrame, sql: str, parameters: Sequence) -> tuple | None:
    """The query's one row by Polars' SQL over `frame` as wide_orders, or None where it does not read it."""
    inlined = _inlined(sql, parameters)
    if inlined is None:
        return None
    try:
        return pl.SQLContext(wide_orders=frame).execute(inlined, eager=True).row(0)
    except (pl.exceptions.PolarsError, ValueError, TypeError):
        return None


def one_row_resident(con, dataset, select: Sequence[str], conditions: Sequence[str], parameters: Sequence):
    """The one row of `SELECT select WHERE conditions` (aliases o, r, f; the parameters in the text's
    order) over the data set's orders kept in memory, without joining a table; None when they are not
    kept or the SQL reads what they do not hold (the caller then queries the tables)."""
    wide = resident(con, dataset)
    sql = None if wide is None else _wide_sql(select, conditions)
    if sql is None:
        return None
    # Polars' SQL over the frame where it reads the query (about 20x faster than DuckDB scanning the
    # frame's Arrow view: 10 ms against 0.2 s a count at 10M orders); DuckDB for what it does not read.
    row = _polars_row(wide, sql, parameters)
    if row is not None:
        return row
    cur = con.cursor()
    try:
        # Polars' own string layout, handed over without a copy (DuckDB reads Arrow's string views).
        cur.register("wide_orders", wide.to_arrow(compat_level=pl.CompatLevel.newest()))
        return cur.execute(sql, list(parameters)).fetchall()[0]
    finally:
        cur.close()


def one_row_selected(con, dataset, select: Sequence[str], parameters: Sequence, filters: Filters):
    """The one row of `SELECT select` (aliases o, r, f; the parameters in the text's order) over the
    orders the filters select, from the orders kept in memory: the filters' rows are their mask, found
    once for every figure and link of a page (selected), not their tests on every order again. None when
    the orders are not kept, or the SQL reads what they do not hold or Polars' SQL does not read (the
    caller then asks one_row_resident or the tables)."""
    wide = resident(con, dataset)
    sql = None if wide is None else _wide_sql(select, [])
    return None if sql is None else _polars_row(_rows(wide, filters, "orders"), sql, parameters)


def _literal(value) -> str | None:
    """A parameter as an SQL literal (a text's quotes doubled), or None for a kind not written here."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float) and value == value and abs(value) != float("inf"):
        return repr(value)
    if isinstance(value, str):
        return db.sql_text(value)
    if isinstance(value, datetime):
        return f"CAST('{value.isoformat(sep=' ')}' AS TIMESTAMP)"
    if isinstance(value, date):   # a day compared with a time: its midnight, as DuckDB compares them
        return f"CAST('{value.isoformat()} 00:00:00' AS TIMESTAMP)"
    return None


def _inlined(sql: str, parameters: Sequence) -> str | None:
    """The query with its parameters written in (Polars' SQL binds none); None when one cannot be. The
    text's `?` are its placeholders: the conditions are ours, and a value from the data is a parameter."""
    pieces = sql.split("?")
    literals = [_literal(v) for v in parameters]
    if len(pieces) != len(literals) + 1 or None in literals:
        return None
    return "".join(piece + literal for piece, literal in zip(pieces, [*literals, ""], strict=True))


def wide_frame(con, dataset) -> pl.DataFrame:
    """One row per order of a data set, with every column of pipelines.COLUMNS and the list of its sellers
    when it has several (SELLERS_COLUMN, else null): what frames_of selects the grains from."""
    dataset_id = resolve(con, dataset).id
    wanted = list(p.COLUMNS)
    base, params = query(dataset_id, "orders", [f"{COLUMN_SQL[c]} AS {c}" for c in wanted])
    # The sellers of orders with several, grouped once and joined (a subquery per order costs 5x more).
    sql = (f"WITH base AS ({base}), s AS (SELECT order_id, list(seller_id ORDER BY seller_id) AS {SELLERS_COLUMN} "
           f"FROM order_sellers WHERE dataset_id = ? GROUP BY order_id) "
           f"SELECT base.*, s.{SELLERS_COLUMN} FROM base LEFT JOIN s ON s.order_id = base.order_id")
    cur = con.cursor()
    try:
        frame = cur.sql(sql, params=[*params, dataset_id]).pl()
    finally:
        cur.close()
    return frame.cast({c: p.COLUMNS[c] for c in wanted}).rechunk()


# ---------------------------------------------------------------------------------------------------
# The same selection from frames already in memory: one row per order with its request and refund
# columns (an Arrow batch of a Spark partition, say), cut into the three grains under the same filters
# as the SQL above, condition for condition.

_ANCHOR_COLUMN = {"order": "placed_at", "request": "requested_at", "refund": "refund_initiated_at"}
SELLERS_COLUMN = "order_sellers"   # optional list column of a wide frame: every seller of the order


def filter_columns(filters: Filters) -> set[str]:
    """The wide frame's columns the filters read."""
    cols = set()
    if filters.start is not None or filters.end is not None:
        cols.add(_ANCHOR_COLUMN[filters.anchor])
    for name, column in (("payment_methods", "payment_method"), ("shipping_methods", "shipping_method"),
                         ("reasons", "reason"), ("sellers", "seller_id")):
        if getattr(filters, name):
            cols.add(column)
    if filters.stages:
        cols.update(("request_stage", "cancel_stage"))
    return cols


def _filter_expr(filters: Filters, grain: str, columns: set[str]) -> pl.Expr:
    conds = [pl.lit(True)] if grain == "orders" else [pl.col("has_request" if grain == "requests" else "has_refund")]
    anchor = pl.col(_ANCHOR_COLUMN[filters.anchor])
    if filters.start is not None:
        conds.append(anchor >= pl.lit(filters.start).cast(pl.Datetime("us")))
    if filters.end is not None:
        conds.append(anchor < pl.lit(filters.end + timedelta(days=1)).cast(pl.Datetime("us")))
    for name, column in (("payment_methods", "payment_method"), ("shipping_methods", "shipping_method"),
                         ("reasons", "reason")):
        values = getattr(filters, name)
        if values:
            conds.append(p.one_of(pl.col(column), values))
    if filters.sellers:
        sellers = list(filters.sellers)
        cond = p.one_of(pl.col("seller_id"), sellers)
        if SELLERS_COLUMN in columns:
            cond = cond | pl.col(SELLERS_COLUMN).list.eval(p.one_of(pl.element(), sellers)).list.any()
        conds.append(cond)
    if filters.stages:
        conds.append(stage_selects(filters.stages, pl.col("request_stage"), pl.col("cancel_stage"),
                                   by_cancellation=grain != "requests"))
    return pl.all_horizontal([c.fill_null(False) for c in conds])


def stage_selects(stages, request: pl.Expr, cancel: pl.Expr, by_cancellation: pl.Expr | bool = True) -> pl.Expr:
    """Whether a row is of one of the stages: a request by its own stage (`request`); an order or a refund
    by its request's stage, else, with no request stage, by its cancellation's (`cancel`). The rows
    `by_cancellation` marks (True: every row, False: none, a requests' grain) may be selected by the
    latter. Tested column by column, not on a coalesced column of text made for every order; null where a
    test meets a null (callers take it as not selected)."""
    requested = p.one_of(request, stages)
    if by_cancellation is False:
        return requested
    cancelled = request.is_null() & p.one_of(cancel, stages)
    return requested | (cancelled if by_cancellation is True else by_cancellation & cancelled)


# The rows each (filters, grain) selects of an orders frame kept in memory, remembered per frame: a page's
# tables and tiles, and the next page's, select the same rows; a mask is a bit per order (1.25 MB at 10M),
# read in milliseconds, where the filters' tests on text columns take 0.1 s a time at 10M orders.
_SELECTED: dict[int, dict] = {}   # id of the frame (a frame is not hashable) -> (filters, grain) -> (mask, all)
_SELECTED_KEPT = 32
_SELECTED_LOCK = threading.Lock()


def selected(wide: pl.DataFrame, filters: Filters, grain: str) -> pl.Series:
    """The mask of the rows of `wide` (one row per order) in the grain's frame under the filters, as
    frames_of selects them."""
    return _selection(wide, filters, grain)[0]


def _selection(wide: pl.DataFrame, filters: Filters, grain: str) -> tuple[pl.Series, bool]:
    """selected's mask, and whether it selects every row."""
    key = (filters, grain)
    with _SELECTED_LOCK:
        kept = _SELECTED.get(id(wide))
        if kept is None:
            kept = _SELECTED[id(wide)] = {}
            weakref.finalize(wide, _SELECTED.pop, id(wide), None)   # gone with the frame
        found = kept.get(key)
    if found is None:
        if grain == "orders":
            found = wide.select(_filter_expr(filters, grain, set(wide.columns)).alias("selected")).to_series()
        else:
            found = _of_selected_orders(wide, filters, grain)
        found = (found, bool(found.fill_null(False).all()))
        with _SELECTED_LOCK:
            if len(kept) >= _SELECTED_KEPT:
                kept.pop(next(iter(kept)))   # the oldest
            kept[key] = found
    return found


def _rows(wide: pl.DataFrame, filters: Filters, grain: str) -> pl.LazyFrame:
    """The grain's rows of `wide` under the filters. Every order selected (no filter on the orders): the
    frame as it is, since filtering by a mask of all true still copies each column read (0.1 s a
    table at 10M orders)."""
    mask, every = _selection(wide, filters, grain)
    return wide.lazy() if every else wide.lazy().filter(mask)


def _of_selected_orders(wide: pl.DataFrame, filters: Filters, grain: str) -> pl.Series:
    """The requests' or refunds' rows under the filters from the selected orders' (found once): a request or
    a refund is selected with its order, so its mask is the orders' and its flag, rather than the filters'
    tests on every row again (0.2 s each at 10M orders under a stage). One difference: under stages, an
    order without a request stage is tested on its cancellation's stage, a request only on its own."""
    found = selected(wide, filters, "orders") & wide["has_request" if grain == "requests" else "has_refund"].fill_null(False)
    if grain == "requests" and filters.stages:
        found = found & wide["request_stage"].is_not_null()
    return found.alias("selected")


def frames_of(wide: pl.LazyFrame, filters: Filters = NO_FILTERS, grains=p.GRAINS) -> p.Frames:
    """pipelines.Frames from one row per order (has_request, has_refund and the columns the metrics and
    the filters read): the orders, requests and refunds grains of the selected orders, as load() gives
    them from DuckDB."""
    columns = set(wide.collect_schema().names())
    return p.Frames(**{g: wide.filter(_filter_expr(filters, g, columns)) for g in grains})
