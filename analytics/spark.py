"""The report (and the replay: see `simulate`) on Apache Spark, with the same figures as one machine.

How the work splits. Spark reads a Parquet source (source.py) and joins each order with its request and
its refund (one row per order, in the pipelines' vocabulary). Each partition hands its rows to Python as
Arrow batches (`mapInArrow`, no pandas); each batch is cut into the three grains under the filters
(load.frames_of, the same conditions as the SQL of a stored data set) and tallied by the local engine's
own function (grouped.tally: counts, exact decimal sums, distributions as {value, count}), one long
frame of partials per batch. Spark adds them up (a group-by that sums the counts, the sums and each
distinct value's count); the driver collects the added partials (a few rows per group, never orders)
and finalises them with the local engine's finaliser (report.finalise_report). A count is an integer, a
sum an exact decimal and a distribution its values with their counts, so the JSON is the local engine's
to the last digit, however the orders are partitioned.

    session(remote=None) -> SparkSession      local[*] (CANCELLATION_LAB_SPARK_MASTER), or Spark Connect
                                              at `remote` / $SPARK_REMOTE (sc://HOST:PORT)
    orders_frame(spark, directory, columns)   one row per order of a Parquet source, the asked columns
    report(spark, source, filters, threshold_days=20, partitions=None) -> dict
    simulate(spark, source, policy_for, replicates, seed, partitions=None, baseline=None,
             calibration_sample=None, calibration_seed=0) -> dict   calibrated on every order or a sample
    sweep(spark, source, param, values, policy_for, replicates, seed, partitions=None, ...) -> dict
    calibrate(spark, source, size=None, seed=0, partitions=None) -> (Calibration, extra)   every order, or a sample drawn by Spark

pyspark is imported only when a function here runs (the rest of the product never needs it).
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path

import polars as pl
import pyarrow as pa

from analytics import grouped, load
from analytics import pipelines as p
from analytics.filters import NO_FILTERS, Filters

ROOT = Path(__file__).resolve().parent.parent
MASTER_ENV = "CANCELLATION_LAB_SPARK_MASTER"
MEMORY_ENV = "CANCELLATION_LAB_SPARK_MEMORY"

# The Parquet tables' columns -> the pipelines' names (load._COLUMN_SQL says the same for DuckDB).
_ORDER_COLUMNS = ("order_id", "placed_at", "payment_method", "amount", "shipping_method", "seller_id", "currency",
                  "paid_at", "shipped_at", "delivered_at", "cancelled_at", "is_cancelled", "cancel_stage", "status")
_REQUEST_COLUMNS = {"requested_at": "requested_at", "reason": "reason", "request_stage": "stage",
                    "seller_response": "seller_response", "responded_at": "responded_at", "outcome": "outcome",
                    "return_path": "return_path"}
_REFUND_COLUMNS = {"refund_channel": "channel", "refund_amount": "amount", "refund_initiated_at": "initiated_at",
                   "refund_completed_at": "completed_at"}


@contextlib.contextmanager
def _quiet():
    """pyspark warns, at every Arrow function, that it does not yet support pandas 3: no pandas is used here."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
        yield


class SparkUnavailable(RuntimeError):
    """pyspark or a Java runtime is missing."""


def available() -> str | None:
    """Why Spark cannot run here (None when it can): pyspark and a Java runtime are needed."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install -r requirements.txt)"
    import shutil

    if not os.environ.get("JAVA_HOME") and not shutil.which("java"):
        return "no Java runtime (install a Java 17 runtime, e.g. apt-get install openjdk-17-jre-headless)"
    return None


def session(remote: str | None = None, master: str | None = None, config: dict[str, str] | None = None):
    """A SparkSession: Spark Connect at `remote` (or $SPARK_REMOTE), else a local Spark
    ($CANCELLATION_LAB_SPARK_MASTER, default local[*]) with its UI off and a modest driver memory
    ($CANCELLATION_LAB_SPARK_MEMORY, default 1g), `config` over those settings (the benchmark turns the
    status API on). The executors run this Python and this package."""
    why = available()
    if why:
        raise SparkUnavailable(why)
    with _quiet():
        from pyspark.sql import SparkSession

    remote = remote or os.environ.get("SPARK_REMOTE")
    if remote:
        with _quiet():
            spark = SparkSession.builder.remote(remote).getOrCreate()
        # The server's session reads and writes times as the local Spark does: naive, in UTC.
        for key, value in _SESSION_SQL.items():
            spark.conf.set(key, value)
        _ship_package(spark)
        return spark
    # Python workers start from this interpreter and find this package (local mode); everything stays
    # on this machine's loopback.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    paths = [str(ROOT), *[x for x in os.environ.get("PYTHONPATH", "").split(os.pathsep) if x]]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    builder = (SparkSession.builder.appName("cancellation-lab")
               .master(master or os.environ.get(MASTER_ENV, "local[*]"))
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.driver.memory", os.environ.get(MEMORY_ENV, "1g"))
               .config("spark.sql.shuffle.partitions", "8")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.executorEnv.PYTHONPATH", os.environ["PYTHONPATH"]))
    for key, value in {**_SESSION_SQL, **(config or {})}.items():
        builder = builder.config(key, value)
    with _quiet():
        spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


# Settings of a session's SQL (set on a Spark Connect server's session too): times in UTC, Parquet
# timestamps without a zone read as such, and Arrow batches of 200,000 orders to the Python workers (a
# tally costs a few fixed milliseconds whatever its batch: on 400,000 orders, batches of 10,000 rows,
# Spark's default, took ten times as long as batches of 200,000).
_SESSION_SQL = {"spark.sql.session.timeZone": "UTC", "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
                "spark.sql.execution.arrow.maxRecordsPerBatch": "200000"}
_SHIPPED: set[str] = set()


def _ship_package(spark) -> None:
    """Send this package to a Spark Connect cluster's executors (a zip of analytics/), once a session."""
    import tempfile
    import zipfile

    if spark.session_id in _SHIPPED:
        return

    target = Path(tempfile.mkdtemp()) / "analytics.zip"
    with zipfile.ZipFile(target, "w") as z:
        for path in (ROOT / "analytics").rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                z.write(path, path.relative_to(ROOT))
    spark.addArtifacts(str(target), pyfile=True)
    _SHIPPED.add(spark.session_id)


# ---------------------------------------------------------------------------------------------------
# One row per order, from the Parquet source

def _table(spark, directory: Path, table: str):
    from analytics.source import table_files

    if not table_files(directory, table):
        return None
    return spark.read.option("mergeSchema", "true").parquet(str(directory / table)).drop("month")


def orders_frame(spark, directory: str | Path, columns: Iterable[str]):
    """A Spark DataFrame, one row per order of the Parquet source at `directory`, with the asked columns
    of pipelines.COLUMNS (plus has_request and has_refund): each order joined with its request and its
    refund; the list of an order's sellers (load.SELLERS_COLUMN) when asked and the source has one."""
    from pyspark.sql import functions as F

    directory = Path(directory)
    wanted = set(columns) | {"order_id", "has_request", "has_refund"}
    orders = _table(spark, directory, "orders")
    if orders is None:
        raise FileNotFoundError(f"{directory} holds no Parquet files under orders/")
    cols = [F.upper(F.trim(F.col(c))).alias(c) if c == "currency" else F.col(c)
            for c in _ORDER_COLUMNS if c in wanted and c in orders.columns]
    cols += [F.lit(None).cast(_spark_type(c)).alias(c) for c in _ORDER_COLUMNS if c in wanted and c not in orders.columns]
    out = orders.select(*cols)
    for flag, table, mapping in (("has_request", "cancellation_requests", _REQUEST_COLUMNS),
                                 ("has_refund", "refunds", _REFUND_COLUMNS)):
        frame = _table(spark, directory, table)
        asked = [c for c in mapping if c in wanted]
        if frame is None:
            out = out.select("*", F.lit(False).alias(flag),
                             *(F.lit(None).cast(_spark_type(c)).alias(c) for c in asked))
            continue
        picked = frame.select(F.col("order_id"), F.lit(True).alias(flag),
                              *(F.col(mapping[c]).alias(c) if mapping[c] in frame.columns
                                else F.lit(None).cast(_spark_type(c)).alias(c) for c in asked))
        out = out.join(picked, "order_id", "left").withColumn(flag, F.coalesce(F.col(flag), F.lit(False)))
    if load.SELLERS_COLUMN in wanted:
        sellers = _table(spark, directory, "order_sellers")
        if sellers is not None:
            lists = sellers.groupBy("order_id").agg(F.collect_list("seller_id").alias(load.SELLERS_COLUMN))
            out = out.join(lists, "order_id", "left")
    keep = [c for c in (*p.COLUMNS, load.SELLERS_COLUMN) if c in wanted and c in out.columns]
    return out.select(*keep)


def _spark_type(column: str) -> str:
    dtype = p.COLUMNS[column]
    if dtype == pl.String:
        return "string"
    if dtype == pl.Float64:
        return "double"
    if dtype == pl.Boolean:
        return "boolean"
    return "timestamp_ntz"


def _polars(batch: pa.RecordBatch) -> pl.DataFrame:
    """An Arrow batch as a Polars frame in the pipelines' types (timestamps naive UTC)."""
    frame = pl.from_arrow(batch)
    casts = {}
    for name, dtype in frame.schema.items():
        if name in p.COLUMNS:
            if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
                frame = frame.with_columns(pl.col(name).dt.convert_time_zone("UTC").dt.replace_time_zone(None))
            casts[name] = p.COLUMNS[name]
    return frame.cast(casts)


# ---------------------------------------------------------------------------------------------------
# The report

_LONG_ARROW = pa.schema([("spec", pa.string()), ("key", pa.string()), ("partial", pa.string()),
                         ("v", pa.float64()), ("n", pa.int64()), ("s", pa.decimal128(38, 9))])
LONG_DDL = "spec string, key string, partial string, v double, n long, s decimal(38,9)"


def _tally_batches(specs: list[grouped.Grouped], filters: Filters):
    """The function every partition runs: each Arrow batch of orders -> its partials (long, Arrow)."""
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            frames = load.frames_of(_polars(batch).lazy(), filters)
            yield from grouped.tally(frames, specs).to_arrow().cast(_LONG_ARROW).to_batches()
    return run


def tally(spark, directory: str | Path, specs: list[grouped.Grouped], filters: Filters = NO_FILTERS,
          partitions: int | None = None) -> pl.DataFrame:
    """The specs' partials over a Parquet source, tallied per partition and added up by Spark: the long
    frame of grouped.add (what one machine's grouped.add(grouped.tally(...)) gives)."""
    from pyspark.sql import functions as F

    columns = {c for cols in grouped.reads(specs).values() for c in cols} | load.filter_columns(filters)
    if filters.sellers:
        columns.add(load.SELLERS_COLUMN)
    orders = orders_frame(spark, directory, columns)
    if partitions:
        orders = orders.repartition(int(partitions), "order_id")
    with _quiet():
        added = (orders.mapInArrow(_tally_batches(list(specs), filters), LONG_DDL)
                 .groupBy("spec", "key", "partial", "v")
                 .agg(F.sum("n").alias("n"), F.sum("s").alias("s")))
        table = added.toArrow()
    frame = pl.from_arrow(table) if table.num_rows else grouped.empty()
    return grouped.add(frame.cast(grouped.LONG_SCHEMA))


def report(spark, source, filters: Filters = NO_FILTERS, *, threshold_days: float = 20,
           partitions: int | None = None) -> dict:
    """report.report's JSON for a Parquet source (source.Source), computed on Spark."""
    from analytics import report as rp

    codes = source.currencies
    specs = rp.report_specs(len(codes) > 1)
    added = tally(spark, source.directory, specs, filters, partitions)
    return rp.finalise_report(source.dataset, filters, threshold_days, source.missing, codes, added)


# ---------------------------------------------------------------------------------------------------
# The replay (simulate)
#
# The calibration (fitted once, on the driver) and the data set's Wide (replay_data.Wide: its last
# moment, payment methods and their refund channels, computed once by Spark) travel with the task to
# every partition; each partition prepares its orders with them and replays them under every policy and
# replicate with the local engine's NumPy code. The common random numbers and the bootstrap weights are
# keyed by (seed, replicate, order), so an order draws the same wherever it lands. Each partition returns
# one Tally per (policy, replicate) and one bootstrap-weighted Tally with its total weight; the driver
# adds them and computes the figures and intervals exactly as on one machine (simulate.simulate).

_TALLY_FIELDS = ("scalars", "outcomes", "channel_counts", "channel_amounts", "wait", "transit")
_TALLY_ARROW = pa.schema([("policy", pa.int32()), ("replicate", pa.int32()), ("boot", pa.bool_()),
                          ("total", pa.float64()), ("wait_width", pa.int32()),
                          *((name, pa.list_(pa.float64())) for name in _TALLY_FIELDS)])
TALLY_DDL = ("policy int, replicate int, boot boolean, total double, wait_width int, "
             + ", ".join(f"{name} array<double>" for name in _TALLY_FIELDS))
_TIMES = ("placed_at", "paid_at", "shipped_at", "delivered_at", "cancelled_at", "requested_at", "responded_at",
          "refund_initiated_at", "refund_completed_at")


# Orders a Python worker replays at once: a partition's orders are replayed in chunks of about this many
# (whole Arrow batches), each chunk's tallies added up like the partitions' (the draws are keyed by order,
# so a chunk's orders replay as they would in one piece). A worker's memory then stays that of one chunk
# (about half a gigabyte for 1,000,000 orders) however large its partition: at 100,000,000 orders in 8
# partitions, a partition in one piece would need some 6 GB per worker.
REPLAY_CHUNK = 1_000_000


def _chunks(batches: Iterator[pa.RecordBatch], size: int) -> Iterator[pl.DataFrame]:
    """A partition's Arrow batches as frames of `size` orders or a little more (whole batches)."""
    held: list[pl.DataFrame] = []
    rows = 0
    for batch in batches:
        if batch.num_rows:
            held.append(_polars(batch))
            rows += batch.num_rows
        if rows >= size:
            yield pl.concat(held)
            held, rows = [], 0
    if held:
        yield pl.concat(held)


def _replay_batches(wide, calibration, policies, replicates: int, seed: int):
    """The function every partition runs: its orders replayed under each policy and replicate, a chunk
    of REPLAY_CHUNK orders at a time (as the driver reads it), one Arrow batch of tallies per chunk."""
    chunk = REPLAY_CHUNK

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for frame in _chunks(batches, chunk):
            yield _replay_chunk(frame, wide, calibration, policies, replicates, seed)
    return run


def _replay_chunk(frame: pl.DataFrame, wide, calibration, policies, replicates: int, seed: int) -> pa.RecordBatch:
    """One chunk of a partition's orders replayed (replay_parts.replay_part) as Arrow: a row per (policy,
    replicate, plain or bootstrap)."""
    from analytics.replay_parts import replay_part

    rows = [{"policy": i, "replicate": k, "boot": is_boot, "total": total, "wait_width": int(t.wait.shape[1]),
             **{name: getattr(t, name).ravel().tolist() for name in _TALLY_FIELDS}}
            for (i, k, is_boot), t, total in replay_part(frame, wide, calibration, policies, replicates, seed)]
    return pa.RecordBatch.from_pylist(rows, schema=_TALLY_ARROW)


def _epoch_us(value) -> int:
    from datetime import datetime, timedelta

    return 0 if value is None else (value - datetime(1970, 1, 1)) // timedelta(microseconds=1)


def wide_of(orders) -> tuple[int, object]:
    """(orders, replay_data.Wide) of a Spark frame of orders (orders_frame), from one aggregate: orders,
    refunds and the last moment per (payment method, refund channel). One pass over the orders and their
    join, where three separate aggregates would join them three times (at 100M orders, minutes each)."""
    import numpy as np
    from pyspark.sql import functions as F

    from analytics.outcomes import DEFAULT_REFUND_CHANNEL, REFUND_CHANNELS
    from analytics.replay_data import Wide

    channel = F.when(F.col("has_refund"), F.col("refund_channel")).alias("channel")
    rows = (orders.groupBy("payment_method", channel)
            .agg(F.count(F.lit(1)).alias("n"), F.sum(F.col("has_refund").cast("long")).alias("refunds"),
                 F.greatest(*(F.max(c) for c in _TIMES)).alias("end"))
            .collect())
    per_method: dict = {}
    for r in rows:
        per_method[r["payment_method"]] = per_method.get(r["payment_method"], 0) + r["n"]
    methods = tuple(sorted({m for m in per_method if m is not None} | set(DEFAULT_REFUND_CHANNEL)))
    counts = np.zeros((len(methods), len(REFUND_CHANNELS)), dtype=np.int64)
    for r in rows:
        if r["refunds"] and r["payment_method"] in methods and r["channel"] in REFUND_CHANNELS:
            counts[methods.index(r["payment_method"]), REFUND_CHANNELS.index(r["channel"])] += r["refunds"]
    ends = [r["end"] for r in rows if r["end"] is not None]
    method_orders = np.array([per_method.get(m, 0) for m in methods], dtype=np.int64)
    return sum(r["n"] for r in rows), Wide(_epoch_us(max(ends) if ends else None), methods, method_orders, counts)


def _tally_of(row: dict, n_methods: int):
    import numpy as np

    from analytics.tally import Tally

    arrays = {name: np.asarray(row[name], dtype=np.float64) for name in _TALLY_FIELDS}
    arrays["wait"] = arrays["wait"].reshape(n_methods, row["wait_width"])
    return Tally(**arrays)


def _replayed(spark, source, partitions: int | None):
    """What simulate and sweep share on Spark: (Wide, the summaries function that replays the policies'
    replicates on the executors and adds their tallies on the driver, the number of orders)."""
    from analytics.orders import ORDER_COLUMNS
    from analytics.replay_parts import summaries_of

    orders = orders_frame(spark, source.directory, ORDER_COLUMNS)
    with _quiet():
        n, wide = wide_of(orders)
    spread = orders.repartition(int(partitions), "order_id") if partitions else orders

    def summaries(prep, policies, replicates, seed):
        with _quiet():
            table = spread.mapInArrow(_replay_batches(wide, prep.calibration, list(policies), replicates, seed),
                                      TALLY_DDL).toArrow()
        parts = (((r["policy"], r["replicate"], r["boot"]), _tally_of(r, len(wide.methods)), r["total"])
                 for r in table.to_pylist())
        return summaries_of(parts, len(policies), replicates, n, wide.methods)

    return wide, summaries, n


def _prepared(spark, source, wide, partitions: int | None, sample: int | float | None, sample_seed: int,
              orders: int | None = None):
    """(simulate.Prepared, the sample's blocks or None) for a source whose orders stay on Spark: its Wide
    and its calibration, fitted on the driver either on the whole data set as one machine fits it
    (calibrate.calibrate over the source: every order in the driver's memory) or, with `sample`, on a
    uniform sample of that many orders (or that fraction) drawn by Spark for `sample_seed` (calibrate
    below: only the sample reaches the driver). `orders`: their number when the caller counted them
    (_replayed), which with the Wide's last moment spares the sample a pass over the orders."""
    from analytics import calibrate as cal
    from analytics import simulate as sim
    from analytics.orders import ORDER_COLUMNS
    from analytics.replay_data import prepare

    ds = source.dataset
    empty = pl.DataFrame(schema=ORDER_COLUMNS)
    extra = None
    if sample is None:
        fitted = cal.calibrate(source.con, ds.id)
    else:
        fitted, extra = calibrate(spark, source, size=sample, seed=sample_seed, partitions=partitions,
                                  known=None if orders is None else (orders, wide.data_end or None))
    return sim.Prepared(ds.id, ds.name, empty, prepare(empty, wide), fitted, source.missing), extra


def simulate(spark, source, policy_for, *, replicates: int, seed: int = 0, partitions: int | None = None,
             baseline=None, calibration_sample: int | float | None = None, calibration_seed: int = 0) -> dict:
    """simulate.simulate's JSON for a Parquet source (source.Source), the replays run on Spark.
    `policy_for(prepared)`: the scenario's Policy, checked against the data set's own parameters (its
    payment methods) once they are known. `calibration_sample`: fit the calibration on a sample of that
    many orders (or that fraction), drawn for `calibration_seed` (the JSON's "calibration" says so)."""
    from analytics import simulate as sim

    wide, summaries, n = _replayed(spark, source, partitions)
    prep, extra = _prepared(spark, source, wide, partitions, calibration_sample, calibration_seed, n)
    return sim.simulate(prep, policy=policy_for(prep), replicates=replicates, seed=seed, baseline=baseline,
                        summaries=summaries, fitted_on=extra)


def sweep(spark, source, param: str, values, policy_for, *, replicates: int, seed: int = 0,
          partitions: int | None = None, calibration_sample: int | float | None = None,
          calibration_seed: int = 0) -> dict:
    """simulate.sweep's JSON for a Parquet source, every point's replays run on Spark (in one pass);
    the calibration as for simulate."""
    from analytics import simulate as sim

    wide, summaries, n = _replayed(spark, source, partitions)
    prep, extra = _prepared(spark, source, wide, partitions, calibration_sample, calibration_seed, n)
    return sim.sweep(prep, param, values, policy=policy_for(prep), replicates=replicates, seed=seed,
                     summaries=summaries, fitted_on=extra)


# ---------------------------------------------------------------------------------------------------
# The calibration
#
# The fit needs every censored time of the orders it fits (a lognormal by maximum likelihood, Kaplan-Meier
# tables), so it runs on the driver with the local engine's code (calibrate.fit) over the orders Spark
# hands it: all of them, or a uniform random sample drawn by Spark (sampling.py: the orders with the
# smallest md5('SEED:ORDER_ID'): Spark keeps the candidates below a bound on the key, a few more than N,
# and the driver the N smallest of them; never the data set). The sample is
# the one DuckDB draws for the same seed, so the fit is one machine's on that sample, to the last digit.

def _collected(frame) -> pl.DataFrame:
    """A Spark frame of orders (ORDER_COLUMNS) on the driver, in order id order, in the fit's types."""
    from analytics.orders import ORDER_COLUMNS, normalise_orders

    with _quiet():
        table = frame.toArrow()
    if not table.num_rows:
        return normalise_orders(pl.DataFrame(schema=ORDER_COLUMNS))
    return normalise_orders(pl.concat([_polars(b) for b in table.to_batches()]).sort("order_id"))


def calibrate(spark, source, *, size: int | float | None = None, seed: int = 0, partitions: int | None = None,
              known: tuple[int, int] | None = None):
    """The calibration of a Parquet source with its orders read by Spark: fitted on every order (the
    same as calibrate.fit on one machine), or on a sample of `size` orders (a count or a fraction) drawn
    by Spark. Returns (calibration, extra): extra is {} for a full fit, else sampling.fit_reported's
    blocks (the sample's size, the fit's standard errors, the sample's figures against the whole's).
    `known`: (orders, last moment in epoch microseconds) when the caller has counted them (wide_of),
    which spares a pass over the orders."""
    from pyspark.sql import functions as F

    from analytics import calibrate as cal
    from analytics import sampling
    from analytics.orders import ORDER_COLUMNS

    orders = orders_frame(spark, source.directory, ORDER_COLUMNS)
    if partitions:
        orders = orders.repartition(int(partitions), "order_id")
    if size is None:
        return cal.fit(_collected(orders)), {}
    whole = tally(spark, source.directory, sampling.check_specs(), partitions=partitions)
    if known is None:
        with _quiet():
            total, last = orders.agg(F.count(F.lit(1)), F.greatest(*(F.max(c) for c in _TIMES))).collect()[0]
        known = (int(total), _epoch_us(last) if last is not None else None)
    total, end_us = known
    n = sampling.size_of(size, total)
    keyed = orders.withColumn("_key", F.md5(F.concat(F.lit(f"{int(seed)}:"), F.col("order_id"))))
    # The keys are uniform: the N smallest are, but for a chance of about 1e-9, among those whose first 8
    # hex digits fall below the share N/total plus 6 standard deviations. Those candidates (a few more
    # than N) go to the driver, which keeps the N smallest as DuckDB's ORDER BY key, order_id LIMIT N does:
    # no executor holds more than its own candidates, and no order but a candidate moves.
    share = n / total if total else 1.0
    bound = min(1.0, share + 6 * math.sqrt(share * (1 - share) / max(total, 1)) + 1e-9)
    picked = None
    if bound < 1.0:
        prefix = F.conv(F.substring("_key", 1, 8), 16, 10).cast("long")
        picked = _smallest(keyed.filter(prefix < int(bound * 16**8) + 1), n)
    if picked is None:
        picked = _smallest(keyed, n)
    return sampling.fit_reported(picked, end_us, whole, int(total), seed)


def _smallest(keyed, n: int) -> pl.DataFrame | None:
    """The n orders with the smallest keys among a Spark frame's (order id breaking a tie), on the driver;
    None when it holds fewer than n."""
    from analytics.orders import ORDER_COLUMNS, normalise_orders

    with _quiet():
        table = keyed.toArrow()
    if table.num_rows < n:
        return None
    if not table.num_rows:
        return normalise_orders(pl.DataFrame(schema=ORDER_COLUMNS))
    frame = pl.concat([_polars(b) for b in table.to_batches()]).sort("_key", "order_id").head(n)
    return normalise_orders(frame.drop("_key").sort("order_id"))
