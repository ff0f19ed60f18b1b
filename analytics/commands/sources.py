"""`python -m analytics export`: a data set as Parquet; and the options that read a Parquet source
(`--source DIR`) on an engine (`--engine local|spark`) instead of a stored data set."""

from __future__ import annotations

import contextlib
import os

from analytics import db
from analytics.cli import UserError, add_common, emit
from analytics.external import ENGINES


def register(sub) -> None:
    p = sub.add_parser("export", help="write a data set's orders, requests and refunds as Parquet, by month and bucket of order ids")
    add_common(p, dataset=True)
    p.add_argument("--parquet", required=True, metavar="DIR",
                   help="a new (or empty) directory: DIR/orders/month=YYYY-MM/bucket=N/*.parquet, ..., DIR/dataset.json")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("register", help="add a Parquet directory (export's layout) as an external data set, "
                                        "read where it is on an engine")
    add_common(p)
    p.add_argument("--source", required=True, metavar="DIR", help="a directory written by `export` (or in its layout)")
    p.add_argument("--engine", choices=ENGINES, default="local",
                   help="what computes its figures: local (DuckDB and Polars, the default) or spark")
    p.add_argument("--spark-remote", metavar="sc://HOST:PORT",
                   help="a Spark Connect server for --engine spark (default: a local Spark)")
    p.add_argument("--name", help="the data set's name (default: the export's, with the engine)")
    p.set_defaults(func=cmd_register)


def cmd_export(args) -> int:
    from analytics import external, source

    path = db.db_path(args.db)
    if not path.exists():
        raise UserError(f"no database at {path}: run `python -m analytics generate` or import a file first")
    con = db.connect(path, read_only=True)
    try:
        found = db.resolve_dataset(con, args.dataset)
        ext = external.of(found)
        if ext is not None:
            raise UserError(f"{found.name} is a registered Parquet source already: its files are in {ext.directory}")
        written = source.export(con, found, args.parquet)
    except source.SourceError as e:
        raise UserError(str(e)) from None
    finally:
        con.close()
    emit(args, written, _render_export)
    return 0


def cmd_register(args) -> int:
    from analytics import external

    con = db.connect(args.db)
    try:
        added = external.register(con, args.source, args.engine, name=args.name, spark_remote=args.spark_remote)
    except external.RegisterError as e:
        raise UserError(str(e)) from None
    finally:
        con.close()
    emit(args, {"dataset": added.as_json(), "external": added.source}, _render_register)
    return 0


def _render_register(r: dict) -> str:
    d, ext = r["dataset"], r["external"]
    return (f"Registered {d['name']} (id {d['id']}): {d['orders']:,} orders in {ext['parquet']}, read on "
            f"{ext['engine']}{' at ' + ext['spark_remote'] if ext['spark_remote'] else ''}. In the dashboard, "
            f"open any page with ?dataset={d['id']}.")


def _render_export(r: dict) -> str:
    rows = ", ".join(f"{n:,} {t.replace('_', ' ')}" for t, n in r["rows"].items() if n or t != "order_sellers")
    return f"Wrote {r['dataset']['name']} (id {r['dataset']['id']}) to {r['directory']}: {rows}"


def add_source(p) -> None:
    """--source, --engine, --spark-remote, --partitions on a command that also takes --dataset."""
    g = p.add_argument_group("a Parquet source instead of a stored data set")
    g.add_argument("--source", metavar="DIR",
                   help="a directory written by `export` (or in its layout), read instead of --dataset")
    g.add_argument("--engine", choices=ENGINES, default="local",
                   help="local (DuckDB and Polars, the default) or spark (needs --source, or --dataset of a registered source)")
    g.add_argument("--spark-remote", metavar="sc://HOST:PORT",
                   help="a Spark Connect server (default: $SPARK_REMOTE, else a local Spark)")
    g.add_argument("--partitions", type=int, metavar="N",
                   help="spread the orders over N Spark partitions (default: as Spark reads the files)")
    g.add_argument("--chunk-orders", type=int, metavar="N",
                   help="the local engine reads a source of more orders than N a chunk of at most N orders "
                        "at a time, with the same figures (default 10,000,000; the calibration is then fitted "
                        "on a sample: --calibration-sample, default 1,000,000)")


def check_source(args) -> None:
    if args.source and args.dataset:
        raise UserError("give --dataset or --source, not both")
    if args.partitions is not None and args.partitions < 1:
        raise UserError(f"--partitions must be 1 or more, got {args.partitions}")
    if getattr(args, "chunk_orders", None) is not None and args.chunk_orders < 1:
        raise UserError(f"--chunk-orders must be 1 or more, got {args.chunk_orders}")


def chunks_of(args, source):
    """The chunks the local engine reads a Parquet source in (chunked.plan), or None: read it whole (a
    small source, a stored data set, or the Spark engine)."""
    if source is None or args.engine != "local":
        return None
    from analytics import chunked

    return chunked.plan(source, args.chunk_orders or chunked.CHUNK_ORDERS)


@contextlib.contextmanager
def opened(args, read_only: bool = True):
    """(connection, data set, source) for a command: the Parquet source's in-memory database, its data set
    id and the source; or, for --dataset, the database file and --dataset as given (source None), unless
    that data set is an external source (`register`): then its Parquet, as for --source."""
    from analytics import external, source

    check_source(args)
    if args.source:
        with _kept_open(lambda: source.open_source(args.source)) as src:
            yield src.con, src.dataset.id, src
        return
    path = db.db_path(args.db)
    if read_only and not path.exists():
        raise UserError(f"no database at {path}: run `python -m analytics generate` or import a file first")
    con = db.connect(path, read_only=read_only)
    try:
        found = db.resolve_dataset(con, args.dataset)
        if external.of(found) is None:
            if args.engine == "spark":
                raise UserError("--engine spark reads a Parquet source: give --source DIR, or --dataset of a "
                                "registered one (write one with `python -m analytics export --parquet DIR`)")
            yield con, args.dataset, None
            return
    finally:
        con.close()
    # An external data set: its Parquet, read as the registered data set.
    with _kept_open(lambda: external.open_source(found)) as src:
        yield src.con, src.dataset.id, src


@contextlib.contextmanager
def _kept_open(open_source):
    """A Parquet source opened by `open_source()` (a refusal: the user's error), closed after use."""
    from analytics import source

    try:
        src = open_source()
    except source.SourceError as e:
        raise UserError(str(e)) from None
    try:
        yield src
    finally:
        src.close()


def spark_session(args):
    from analytics import spark

    try:
        return spark.session(args.spark_remote or os.environ.get("SPARK_REMOTE"))
    except spark.SparkUnavailable as e:
        raise UserError(f"--engine spark: {e}") from None
