"""The report, the replay and the calibration on Apache Spark, with the same figures as one machine.

How the work splits. The driver cuts the Parquet source into chunks (slices.py: its partition
directories, a month or a bucket of order ids within it, together up to TASK_ORDERS orders, or slices of
one too large) and Spark runs one task per chunk. A task reads its chunk's files and joins each order
with its request, refund and sellers in DuckDB, as the local engine reads a chunk (an order's rows all sit
in its partition directory, so no join crosses tasks), and gives back only partials as Arrow batches
(`mapInArrow`, no pandas): the report's tallies (grouped.tally: counts, exact decimal sums, distributions
as {value, count}), the replay's tallies per policy and replicate, or the survey (the Wide, the sampling
checks and the calibration sample's candidates). Spark adds the report's partials up (a group-by over a
few rows per group and task); the driver adds the rest and finalises them with the local engine's code
(report.finalise_report, simulate.simulate). A count is an integer, a sum an exact decimal and a
distribution its values with their counts, so the JSON is the local engine's to the last digit, however
the orders are cut. No order crosses the network: the only shuffle is the report's partials, and the
tasks' results go to the driver.

The executors read the source's files themselves, so the directory must be at the same path on every
executor (a shared file system, as in local mode); Spark schedules the tasks, retries a failed one and
spreads them over the cluster.

    session(remote=None) -> SparkSession      local[*] (CANCELLATION_LAB_SPARK_MASTER), or Spark Connect
                                              at `remote` / $SPARK_REMOTE (sc://HOST:PORT)
    tally(spark, source, specs, filters, partitions=None) -> added partials
    report(spark, source, filters, threshold_days=20, partitions=None) -> dict
    simulate(spark, source, policy_for, replicates, seed, partitions=None, baseline=None,
             calibration_sample=None, calibration_seed=0) -> dict   calibrated on every order or a sample
    sweep(spark, source, param, values, policy_for, replicates, seed, partitions=None, ...) -> dict
    calibrate(spark, source, size=None, seed=0, partitions=None) -> (Calibration, extra)   every order, or a sample
    prepared(spark, source, partitions, sample, sample_seed) -> (Prepared, extra, summaries)

`partitions`: the number of tasks at least (the source's chunks sliced further when it has fewer).
pyspark is imported only when a function here runs (the rest of the product never needs it).
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import urllib.parse
import warnings
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pyarrow as pa

from analytics import grouped, source
from analytics.filters import NO_FILTERS, Filters

ROOT = Path(__file__).resolve().parent.parent
MASTER_ENV = "CANCELLATION_LAB_SPARK_MASTER"
MEMORY_ENV = "CANCELLATION_LAB_SPARK_MEMORY"


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


CONNECT_PORT = 15002          # Spark Connect's port when the address names none
REACH_TIMEOUT_S = 5.0


def reachable(remote: str) -> None:
    """SparkUnavailable unless something answers at the Spark Connect address `remote` (sc://HOST[:PORT]/...).
    Without this, a client with no server behind the address retries for ten minutes, then hangs."""
    parsed = urllib.parse.urlsplit(remote)
    if parsed.scheme != "sc" or not parsed.hostname:
        raise SparkUnavailable(f"{remote!r} is not a Spark Connect address (sc://HOST:PORT)")
    try:
        port = parsed.port or CONNECT_PORT
    except ValueError:
        raise SparkUnavailable(f"{remote!r} is not a Spark Connect address (sc://HOST:PORT)") from None
    try:
        socket.create_connection((parsed.hostname, port), timeout=REACH_TIMEOUT_S).close()
    except OSError as e:
        raise SparkUnavailable(f"no Spark Connect server answers at {parsed.hostname}:{port} "
                               f"({e.strerror or type(e).__name__}); start it, or check the address") from None


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
        reachable(remote)
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
# One task per chunk

# Orders a task reads at most: a bucket as export writes it, so each bucket is one task. A task's Python
# worker holds its chunk's orders and, for the replay, their arrays: about half a gigabyte for 1,000,000
# orders, however many orders the source holds.
TASK_ORDERS = source.BUCKET_ORDERS


def _tasks(spark, src, partitions: int | None, work, ddl: str):
    """A Spark frame of what `work(chunk)` (an iterator of Arrow batches) gives for each of the source's
    chunks, one task per chunk (spark.range: one id per partition, no shuffle)."""
    from analytics import slices

    chunks = slices.tasks(src, partitions, TASK_ORDERS)

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for i in batch.column(0).to_pylist():
                yield from work(chunks[i])

    return spark.range(len(chunks), numPartitions=len(chunks)).mapInArrow(run, ddl)


# ---------------------------------------------------------------------------------------------------
# The report

_LONG_ARROW = pa.schema([("spec", pa.string()), ("key", pa.string()), ("partial", pa.string()),
                         ("v", pa.float64()), ("n", pa.int64()), ("s", pa.decimal128(38, 9))])
LONG_DDL = "spec string, key string, partial string, v double, n long, s decimal(38,9)"


def tally(spark, src, specs: list[grouped.Grouped], filters: Filters = NO_FILTERS,
          partitions: int | None = None) -> pl.DataFrame:
    """The specs' partials over a Parquet source (source.Source), tallied per chunk and added up by
    Spark: the long frame of grouped.add (what one machine's grouped.add(grouped.tally(...)) gives)."""
    from pyspark.sql import functions as F

    from analytics import slices

    directory, dataset_id, specs = str(src.directory), src.dataset.id, list(specs)

    def work(chunk):
        yield from slices.partials(directory, dataset_id, chunk, specs, filters).to_arrow().cast(_LONG_ARROW).to_batches()

    with _quiet():
        added = (_tasks(spark, src, partitions, work, LONG_DDL)
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
    added = tally(spark, source, specs, filters, partitions)
    return rp.finalise_report(source.dataset, filters, threshold_days, source.missing, codes, added)


# ---------------------------------------------------------------------------------------------------
# The calibration and the data set's Wide: one pass (the survey)
#
# The fit needs every censored time of the orders it fits (a lognormal by maximum likelihood, Kaplan-Meier
# tables), so it runs on the driver with the local engine's code over the orders it is handed: every
# order, or a uniform random sample (sampling.py: the orders with the smallest md5('SEED:ORDER_ID')).
# Each task sends only its candidates (the orders below a bound on the key: a few more than the sample
# in all, slices.key_bound), with its chunk's Wide and checks; the driver keeps the N smallest, the
# sample DuckDB draws for the same seed, so the fit is one machine's on that sample, to the last digit.

_BLOB_DDL = "blob binary"


def _surveys(spark, src, partitions: int | None, seed: int):
    """run(bound) -> every chunk's slices.Survey, computed by Spark's tasks."""
    import pickle

    from analytics import slices

    directory, dataset_id = str(src.directory), src.dataset.id

    def run(bound):
        def work(chunk):
            blob = pickle.dumps(slices.survey(directory, dataset_id, chunk, seed, bound))
            yield pa.RecordBatch.from_pydict({"blob": [blob]}, schema=pa.schema([("blob", pa.binary())]))

        with _quiet():
            table = _tasks(spark, src, partitions, work, _BLOB_DDL).toArrow()
        return [pickle.loads(b) for b in table.column("blob").to_pylist()]  # noqa: S301 (our own tasks' results)

    return run


def calibrate(spark, source, *, size: int | float | None = None, seed: int = 0, partitions: int | None = None):
    """The calibration of a Parquet source with its orders read by Spark: fitted on every order (the
    same as calibrate.fit on one machine), or on a sample of `size` orders (a count or a fraction) drawn
    by Spark (a source of more than chunked.CHUNK_ORDERS orders is fitted on chunked.DEFAULT_SAMPLE when
    no size is asked, as the local engine fits it). Returns (calibration, extra): extra is {} for a full fit, else sampling.fit_reported's
    blocks (the sample's size, the fit's standard errors, the sample's figures against the whole's)."""
    from analytics import chunked, slices

    size = chunked.calibration_sample(source, size)
    _, _, fitted, extra = slices.surveyed(_surveys(spark, source, partitions, seed), size, seed, source.dataset.orders)
    return fitted, extra


# ---------------------------------------------------------------------------------------------------
# The replay (simulate)
#
# The calibration (fitted once, on the driver) and the data set's Wide (its last moment, payment methods
# and their refund channels, from the survey) travel with the task to every chunk; each task replays its
# chunk's orders under every policy and replicate with the local engine's NumPy code. The common random
# numbers and the bootstrap weights are keyed by (seed, replicate, order), so an order draws the same
# wherever it lands. Each task returns one Tally per (policy, replicate) and one bootstrap-weighted Tally
# with its total weight; the driver adds them and computes the figures and intervals exactly as on one
# machine (simulate.simulate).

_TALLY_FIELDS = ("scalars", "outcomes", "channel_counts", "channel_amounts", "wait", "transit")
_TALLY_ARROW = pa.schema([("policy", pa.int32()), ("replicate", pa.int32()), ("boot", pa.bool_()),
                          ("total", pa.float64()), ("wait_width", pa.int32()),
                          *((name, pa.list_(pa.float64())) for name in _TALLY_FIELDS)])
TALLY_DDL = ("policy int, replicate int, boot boolean, total double, wait_width int, "
             + ", ".join(f"{name} array<double>" for name in _TALLY_FIELDS))


def _tally_of(row: dict, n_methods: int):
    import numpy as np

    from analytics.tally import Tally

    arrays = {name: np.asarray(row[name], dtype=np.float64) for name in _TALLY_FIELDS}
    arrays["wait"] = arrays["wait"].reshape(n_methods, row["wait_width"])
    return Tally(**arrays)


def prepared(spark, source, partitions: int | None, sample: int | float | None, sample_seed: int):
    """(simulate.Prepared without orders, the sample's blocks or {}, the summaries function that replays
    the policies' replicates on the executors and adds their tallies on the driver) for a source whose
    orders stay on Spark: its Wide and its calibration from one survey, fitted on every order as one machine
    fits it (or, above chunked.CHUNK_ORDERS orders, on chunked.DEFAULT_SAMPLE as the local engine), or with `sample` on a uniform sample of that many orders (or that fraction) for `sample_seed`."""
    from analytics import chunked, slices
    from analytics import simulate as sim
    from analytics.orders import ORDER_COLUMNS
    from analytics.replay_data import prepare
    from analytics.replay_parts import summaries_of

    sample = chunked.calibration_sample(source, sample)
    wide, orders, fitted, extra = slices.surveyed(_surveys(spark, source, partitions, sample_seed), sample,
                                                  sample_seed, source.dataset.orders)
    empty = pl.DataFrame(schema=ORDER_COLUMNS)
    prep = sim.Prepared(source.dataset.id, source.dataset.name, empty, prepare(empty, wide), fitted, source.missing)
    directory, dataset_id = str(source.directory), source.dataset.id

    def summaries(prep, policies, replicates, seed):
        calibration, policies = prep.calibration, list(policies)

        def work(chunk):
            parts = slices.replayed(directory, dataset_id, chunk, wide, calibration, policies, replicates, seed)
            rows = [{"policy": i, "replicate": k, "boot": is_boot, "total": total,
                     "wait_width": int(t.wait.shape[1]),
                     **{name: getattr(t, name).ravel().tolist() for name in _TALLY_FIELDS}}
                    for (i, k, is_boot), t, total in parts]
            yield pa.RecordBatch.from_pylist(rows, schema=_TALLY_ARROW)

        with _quiet():
            table = _tasks(spark, source, partitions, work, TALLY_DDL).toArrow()
        parts = (((r["policy"], r["replicate"], r["boot"]), _tally_of(r, len(wide.methods)), r["total"])
                 for r in table.to_pylist())
        return summaries_of(parts, len(policies), replicates, orders, wide.methods)

    return prep, extra, summaries


def simulate(spark, source, policy_for, *, replicates: int, seed: int = 0, partitions: int | None = None,
             baseline=None, calibration_sample: int | float | None = None, calibration_seed: int = 0) -> dict:
    """simulate.simulate's JSON for a Parquet source (source.Source), the replays run on Spark.
    `policy_for(prepared)`: the scenario's Policy, checked against the data set's own parameters (its
    payment methods) once they are known. `calibration_sample`: fit the calibration on a sample of that
    many orders (or that fraction), drawn for `calibration_seed` (the JSON's "calibration" says so)."""
    from analytics import simulate as sim

    prep, extra, summaries = prepared(spark, source, partitions, calibration_sample, calibration_seed)
    return sim.simulate(prep, policy=policy_for(prep), replicates=replicates, seed=seed, baseline=baseline,
                        summaries=summaries, fitted_on=extra)


def sweep(spark, source, param: str, values, policy_for, *, replicates: int, seed: int = 0,
          partitions: int | None = None, calibration_sample: int | float | None = None,
          calibration_seed: int = 0) -> dict:
    """simulate.sweep's JSON for a Parquet source, every point's replays run on Spark (in one pass);
    the calibration as for simulate."""
    from analytics import simulate as sim

    prep, extra, summaries = prepared(spark, source, partitions, calibration_sample, calibration_seed)
    return sim.sweep(prep, param, values, policy=policy_for(prep), replicates=replicates, seed=seed,
                     summaries=summaries, fitted_on=extra)
