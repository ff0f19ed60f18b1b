"""External sources: a Parquet directory (source.py's layout) registered in the database as a data set of
kind 'external', with the engine that computes its figures. No orders are copied into the database: its
row in `datasets` holds where the files are and which engine reads them, in `source`:

    {"parquet": "/abs/dir", "engine": "local" | "spark", "spark_remote": "sc://HOST:PORT" | null}

Engine local: the pages read the source's DuckDB views over the Parquet (source.open_source, as the
registered data set), through the same code as a stored data set. Engine spark: the figures' partials are
tallied on Spark (spark.tally, with the page's specs and filters) and finalised by the same code; the
What-if replays run on Spark (spark.simulate's path), with the calibration fitted once per source.

    register(con, directory, engine="local", name=None, spark_remote=None) -> db.Dataset
    of(dataset) -> External | None          where and on what an external data set runs (None: stored)
    open_source(dataset) -> source.Source    its Parquet opened as the registered data set
    tally(spark, source, filters) -> added partials     one Spark job: every scalar's and SPARK_TABLES' partials
    scalars(source, added, names) -> dict               registry scalars from them (as report.scalars)
    table(source, added, name) -> report.Table          the tables that run on Spark (SPARK_TABLES)
    SparkWhatIf(spark, source)              the What-if engine of a source on Spark: .prep, .simulate()
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from analytics import db, grouped, source
from analytics import metrics as m
from analytics import report as rp
from analytics.filters import NO_FILTERS, Filters

KIND = "external"
ENGINES = ("local", "spark")
ENGINE_LABELS = {"local": "local (DuckDB and Polars)", "spark": "Spark"}


class RegisterError(ValueError):
    """A directory or an engine that cannot be registered: the message says why."""


@dataclass(frozen=True)
class External:
    directory: Path
    engine: str
    spark_remote: str | None = None

    @property
    def on_spark(self) -> bool:
        return self.engine == "spark"

    def describe(self) -> str:
        """'Engine: Spark (sc://host:15002) · Source: /data/orders-parquet': plain text, for the pages."""
        where = f" ({self.spark_remote})" if self.spark_remote else ""
        return f"Engine: {ENGINE_LABELS[self.engine]}{where} · Source: {self.directory}"


def of(dataset: db.Dataset | None) -> External | None:
    """Where an external data set's files are and which engine reads them; None for a stored data set."""
    if dataset is None or dataset.source_kind != KIND:
        return None
    s = dataset.source or {}
    return External(Path(s["parquet"]), s.get("engine", "local"), s.get("spark_remote") or None)


def on_spark(dataset: db.Dataset | None) -> bool:
    ext = of(dataset)
    return ext is not None and ext.on_spark


def check_engine(engine: str) -> None:
    """Refuse an unknown engine, or spark where it cannot run (why: spark.available)."""
    if engine not in ENGINES:
        raise RegisterError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    if engine == "spark":
        from analytics import spark

        why = spark.available()
        if why:
            raise RegisterError(f"Spark cannot run here: {why}")


def register(con, directory: str | Path, engine: str = "local", name: str | None = None,
             spark_remote: str | None = None) -> db.Dataset:
    """Check that `directory` is a Parquet source (source.py's layout) and that `engine` can run, then add
    it to the catalogue as an external data set (a new id; the files are read where they are)."""
    check_engine(engine)
    if spark_remote and engine != "spark":
        raise RegisterError("a Spark Connect address goes with the spark engine")
    if spark_remote and not spark_remote.startswith("sc://"):
        raise RegisterError(f"a Spark Connect address looks like sc://HOST:PORT, not {spark_remote!r}")
    path = Path(str(directory).strip()).expanduser()
    if not str(directory).strip():
        raise RegisterError("give the Parquet directory's path")
    try:
        src = source.open_source(path)
    except source.SourceError as e:
        raise RegisterError(f"{e} (a source is what `python -m analytics export --parquet DIR` writes: "
                            "DIR/orders/month=YYYY-MM/bucket=N/*.parquet, ...)") from None
    except Exception as e:  # noqa: BLE001 - unreadable files: say which directory, in one line
        raise RegisterError(f"{path} could not be read as Parquet: {str(e).splitlines()[0]}") from None
    try:
        found = src.dataset
    finally:
        src.close()
    name = (name or "").strip() or f"{found.name} (Parquet, {engine})"
    new = db.new_id()
    con.execute(
        "INSERT INTO datasets (id, name, source_kind, source, true_params, created_at, orders, "
        "cancellation_requests, refunds, refused_rows, is_demo, warned_rows) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, false, 0)",
        [new, name, KIND, json.dumps({"parquet": str(path.resolve()), "engine": engine, "spark_remote": spark_remote}),
         json.dumps(found.true_params) if found.true_params else None, datetime.now(UTC).replace(tzinfo=None),
         found.orders, found.cancellation_requests, found.refunds])
    return db.get_dataset(con, new)


def open_source(dataset: db.Dataset) -> source.Source:
    """An external data set's Parquet, opened as that data set (its id and name)."""
    ext = of(dataset)
    if ext is None:
        raise ValueError(f"{dataset.name} is a stored data set, not an external source")
    try:
        return source.open_source(ext.directory, dataset_id=dataset.id, name=dataset.name)
    except source.SourceError as e:
        raise source.SourceError(f"the source of {dataset.name} cannot be read: {e}") from None


# ---------------------------------------------------------------------------------------------------
# The pages' figures on Spark: one Spark job per filters tallies the partials of every registry scalar the
# data set supports and of the tables that run there (SPARK_TABLES: the Overview's life cycle, orders by
# status and request outcomes); the scalars and the tables are read from those added partials and
# finalised by the same functions as one machine's. The headline tiles' per-period trend and the volume
# over time are not tallied on Spark.

# The tables that run on Spark: those the local engine finishes from added partials too (report.FROM_PARTIALS).
SPARK_TABLES = {name: finish for name, (_, finish) in rp.FROM_PARTIALS.items()}
NOT_ON_SPARK = "it is not computed on Spark (register the source with the local engine to see it)"
WHATIF_ON_SPARK = ("On Spark this page replays the baseline and your scenario. The sweep, the policy frontier, the "
                   "comparison of saved scenarios and the calibration's charts run on the local engine only: "
                   "register the same directory with the local engine (Data page) to see them.")


def _supported(src: source.Source) -> list[str]:
    missing = src.missing
    return [n for n in m.SCALARS if not m.get(n).unavailable(missing)]


def tally(spark_session, src: source.Source, filters: Filters = NO_FILTERS) -> pl.DataFrame:
    """The added partials (grouped.add's long frame) of every scalar the data set supports and of the
    SPARK_TABLES, under filters, tallied on Spark in one job."""
    from analytics import spark

    specs = [*grouped.scalar_specs(_supported(src)), *(spec for spec, _ in rp.FROM_PARTIALS.values())]
    return spark.tally(spark_session, src, specs, filters)


def scalars(src: source.Source, added: pl.DataFrame, names=()) -> dict:
    """report.scalars from `tally`'s partials: the named registry scalars (None where the data set cannot
    support one)."""
    names = tuple(names)
    supported = set(_supported(src))
    available = [n for n in names if n in supported]
    parts: dict = {}
    for spec in grouped.scalar_specs(_supported(src)):
        parts.update(grouped.read(added, spec)[None])
    row = m.finalise(parts, available)
    return {n: row.get(n) for n in names}


def table(src: source.Source, added: pl.DataFrame, name: str) -> rp.Table:
    """A registry table from `tally`'s partials: those of SPARK_TABLES, finished by the local engine's own
    function; any other is unavailable, saying so."""
    if name not in SPARK_TABLES:
        return rp.Table(name, None, NOT_ON_SPARK)
    table = rp.table_of(name, src.missing, lambda: SPARK_TABLES[name](added))
    return rp.steps_unknown(table, src.missing) if name == "lifecycle" else table


# ---------------------------------------------------------------------------------------------------
# The What-if engine on Spark

class SparkWhatIf:
    """A source's replays on Spark: `prep` (its calibration, fitted once on the driver, and the data set's
    Wide: simulate.Prepared without orders) and simulate(), whose replays run on the executors."""

    def __init__(self, spark_session, src: source.Source, partitions: int | None = None):
        from analytics import spark

        self.src = src
        self.prep, _, self._summaries = spark.prepared(spark_session, src, partitions, None, 0)  # fitted on every order

    def simulate(self, policy, replicates: int, seed: int = 0) -> dict:
        from analytics import simulate as sim

        return sim.simulate(self.prep, policy=policy, replicates=replicates, seed=seed, summaries=self._summaries)
