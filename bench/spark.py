"""The Spark engine against the local engine on the same Parquet source: time, driver peak memory, bytes
shuffled, and the size of the partials that cross the network.

    .venv/bin/python -m bench.spark [--orders 10000000] [--chunk 1000000] [--dir data/bench/parquet-N]

Writes the orders as Parquet in chunks (the generator makes one chunk at a time into an in-memory DuckDB,
which writes it under the source's month directories; order ids get the chunk's prefix, so they stay
unique): never all of them in memory. Then each step runs in its own process:

- local: `report --source DIR` and `simulate --source DIR` (DuckDB and Polars reading the Parquet);
- spark: the same through a local Spark (local[*]), and `calibrate --sample` drawn by Spark; the step's
  process starts Spark with its status API on, and reads from it (`/api/v1/applications/...`) the bytes
  shuffled, the executors' run time, and the JVM's peak heap (the driver is also the executor in local
  mode). Peak RSS is the Python process's own (os.wait4); the JVM's is beside it.

Writes bench/spark.json, which `python -m bench` (and `--render-only`) shows in BENCHMARKS.md. Prints
figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "spark.json"
POLICY = ["--set", "seller_response_hours=24", "--set", "late_dispatch_action=auto_cancel",
          "--set", "dispatch_deadline_days=5"]
REPLICATES = "10"


# ---------------------------------------------------------------------------------------------------
# Writing the source in chunks

def write_source(directory: Path, orders: int, chunk: int, seed: int = 1) -> dict:
    """Generate `orders` orders as a Parquet source at `directory`, `chunk` orders at a time."""
    from analytics import capabilities, db, generate, source

    directory.mkdir(parents=True, exist_ok=False)
    rows = dict.fromkeys(source.TABLES, 0)
    codes: set[str] = set()
    records: dict[str, bool] = {}
    start = time.perf_counter()
    for i, first in enumerate(range(0, orders, chunk)):
        n = min(chunk, orders - first)
        con = db.connect(":memory:")
        try:
            ds = generate.generate(con, n, seed + i, name=f"chunk {i}").dataset
            con.execute("SET TimeZone = 'UTC'")
            for table in source.TABLES:
                cols = [c for c, _ in source._columns(con, table)]
                select = ", ".join(f"'c{i}-' || t.order_id AS order_id" if c == "order_id" else f"t.{c}" for c in cols)
                sql = (f"SELECT {select}, strftime(o.placed_at, '%Y-%m') AS month FROM {table} t "
                       f"JOIN orders o ON o.dataset_id = t.dataset_id AND o.order_id = t.order_id")
                count = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
                rows[table] += count
                if count:
                    con.execute(f"COPY ({sql}) TO '{directory / table}' (FORMAT parquet, PARTITION_BY (month), "
                                f"APPEND true, FILENAME_PATTERN 'chunk{i}_{{uuid}}')")
            codes.update(c for (c,) in con.execute(
                "SELECT DISTINCT upper(trim(currency)) FROM orders WHERE currency IS NOT NULL").fetchall())
            missing = capabilities.missing(con, ds.id)
            records = {k: records.get(k, False) or k not in missing for k in capabilities.CAPABILITIES}
        finally:
            con.close()
        print(f"  wrote chunk {i}: {first + n:,} of {orders:,} orders, {time.perf_counter() - start:.0f} s", flush=True)
    meta = {"format": source.FORMAT, "version": source.VERSION,
            "dataset": {"id": f"bench-{orders}", "name": f"generated {orders:,} orders in chunks of {chunk:,}",
                        "source_kind": "generated", "orders": orders},
            "currencies": sorted(codes), "records": records, "rows": rows}
    (directory / source.METADATA).write_text(json.dumps(meta, indent=2), encoding="utf-8")
    size = sum(p.stat().st_size for p in directory.rglob("*.parquet"))
    return {"seconds": round(time.perf_counter() - start, 1), "bytes": size, "rows": rows}


# ---------------------------------------------------------------------------------------------------
# One step, in its own process

def _rest(url: str):
    from urllib.request import urlopen

    with urlopen(url, timeout=30) as r:  # noqa: S310 (the local Spark's own status API)
        return json.loads(r.read())


def spark_step(name: str, directory: Path) -> dict:
    """Run one Spark step in this process with the status API on; what it cost, from Spark's own figures."""
    import socket

    from analytics import source, spark
    from analytics.filters import NO_FILTERS
    from analytics.policy import Policy

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    session = spark.session(config={"spark.ui.enabled": "true", "spark.ui.port": str(port),
                                    "spark.executor.processTreeMetrics.enabled": "true",
                                    "spark.executor.metrics.pollingInterval": "1s"})
    src = source.open_source(directory)
    stats: dict = {}
    clock = time.perf_counter()
    if name == "report":
        spark.report(session, src, NO_FILTERS)
    elif name == "simulate":
        policy = Policy.from_settings(POLICY[1::2])
        spark.simulate(session, src, lambda prep: policy, replicates=int(REPLICATES), seed=1)
    elif name == "calibrate_sample":
        spark.calibrate(session, src, size=1_000_000, seed=1)
    seconds = time.perf_counter() - clock
    base = f"http://127.0.0.1:{port}/api/v1/applications"
    app = _rest(base)[0]["id"]
    stages = _rest(f"{base}/{app}/stages")
    if name == "report":
        # The partials the driver collects, once more, untimed: what Spark's adding gives it.
        from analytics.report import report_specs

        added = spark.tally(session, directory, report_specs(len(src.currencies) > 1))
        stats["partials_rows"] = added.height
        stats["partials_bytes"] = int(added.estimated_size())
    stats["stages"] = [{"name": st.get("name", "")[:60], "tasks": st.get("numCompleteTasks", 0),
                        "shuffle_write_bytes": st.get("shuffleWriteBytes", 0),
                        "run_seconds": round(st.get("executorRunTime", 0) / 1000, 1)} for st in stages]
    executors = _rest(f"{base}/{app}/allexecutors")
    peak = max((e.get("peakMemoryMetrics") or {}).get("JVMHeapMemory", 0) for e in executors)
    rss = max((e.get("peakMemoryMetrics") or {}).get("ProcessTreeJVMRSSMemory", 0) for e in executors)
    src.close()
    session.stop()
    return {"seconds": round(seconds, 2),
            "shuffle_write_bytes": sum(s.get("shuffleWriteBytes", 0) for s in stages),
            "shuffle_read_bytes": sum(s.get("shuffleReadBytes", 0) for s in stages),
            "input_bytes": sum(s.get("inputBytes", 0) for s in stages),
            "tasks": sum(s.get("numCompleteTasks", 0) for s in stages),
            "executor_run_seconds": round(sum(s.get("executorRunTime", 0) for s in stages) / 1000, 1),
            "jvm_peak_heap_mb": round(peak / 2**20), "jvm_peak_rss_mb": round(rss / 2**20) if rss else None,
            **stats}


def local_step(name: str, directory: Path) -> dict:
    from analytics.cli import main

    argv = {"report": ["report", "--source", str(directory), "--json"],
            "simulate": ["simulate", "--source", str(directory), *POLICY, "--replicates", REPLICATES, "--seed", "1",
                         "--json"],
            "calibrate_sample": ["calibrate", "--source", str(directory), "--sample", "1000000", "--seed", "1",
                                 "--json"]}[name]
    clock = time.perf_counter()
    with open(os.devnull, "w") as sink:
        stdout, sys.stdout = sys.stdout, sink
        try:
            code = main(argv)
        finally:
            sys.stdout = stdout
    if code:
        raise SystemExit(code)
    return {"seconds": round(time.perf_counter() - clock, 2)}


# ---------------------------------------------------------------------------------------------------

STEPS = (("local", "report"), ("spark", "report"), ("local", "simulate"), ("spark", "simulate"),
         ("local", "calibrate_sample"), ("spark", "calibrate_sample"))
WORDS = {"report": "report", "simulate": f"simulate, {REPLICATES} replicates with intervals",
         "calibrate_sample": "calibrate on a sample of 1,000,000 orders"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.spark", description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000_000)
    parser.add_argument("--chunk", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=None, help="the Parquet source (written when absent)")
    parser.add_argument("--steps", default=None,
                        help="comma-separated engine:step (default all; 'none' only writes the source)")
    parser.add_argument("--step", nargs=2, metavar=("ENGINE", "STEP"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    directory = args.dir or ROOT / "data" / "bench" / f"parquet-{args.orders}"
    if args.step:
        engine, name = args.step
        print(json.dumps((spark_step if engine == "spark" else local_step)(name, directory)))
        return 0
    from bench.child import run_child

    load_before = os.getloadavg()[0]
    written = None
    if not directory.exists():
        print(f"writing {args.orders:,} orders as Parquet to {directory}", flush=True)
        written = write_source(directory, args.orders, args.chunk)
    results = json.loads(OUT.read_text()) if OUT.exists() else {}
    entry = results.get(str(args.orders), {})
    if written:
        entry["written"] = written
    steps = entry.setdefault("steps", {})
    wanted = (STEPS if not args.steps else [] if args.steps == "none"
              else [tuple(s.split(":")) for s in args.steps.split(",")])
    for engine, name in wanted:
        code, out, err, wall, rss = run_child([sys.executable, "-m", "bench.spark", "--orders", str(args.orders),
                                               "--dir", str(directory), "--step", engine, name])
        if code:
            print(f"{engine} {name} failed ({code}):\n{err[-2000:]}", flush=True)
            continue
        figures = json.loads(out.strip().splitlines()[-1])
        figures.update(wall_seconds=round(wall, 1), python_peak_rss_mb=round(rss))
        steps[f"{engine}:{name}"] = figures
        print(f"{engine:5} {WORDS[name]}: {figures}", flush=True)
        _save(results, args.orders, entry, directory, load_before)
    _save(results, args.orders, entry, directory, load_before)
    return 0


def _save(results: dict, orders: int, entry: dict, directory: Path, load_before: float) -> None:
    entry.update(measured_at=f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC", cores=os.cpu_count(),
                 load_average=[round(load_before, 1), round(os.getloadavg()[0], 1)],
                 bytes=sum(p.stat().st_size for p in directory.rglob("*.parquet")))
    results[str(orders)] = entry
    OUT.write_text(json.dumps(results, indent=1) + "\n")


def _mb(n: float | None) -> str:
    return "" if n is None else f"{n / 1e6:,.1f}"


def section(path: Path = OUT) -> list[str]:
    """The Spark section of BENCHMARKS.md, from bench/spark.json."""
    out = ["## Spark against the local engine, on the same Parquet", "",
           "`make bench-spark` (`.venv/bin/python -m bench.spark --orders N`) writes N generated orders as Parquet in",
           "chunks of 1,000,000 (never all in memory), then runs each step in its own process on that source: the",
           "local engine (DuckDB and Polars reading the Parquet) and a local Spark (`local[*]`, Python workers",
           "through `mapInArrow`). Peak RSS: the largest single process of the step's tree as the OS reports it",
           "(os.wait4: for Spark, the driver's Python or a Python worker); the JVM's peak heap and RSS, the bytes",
           "shuffled and the executors' run time: Spark's status API. Seconds in process: the step's call; whole",
           "process: with the interpreter's and Spark's start (and, for Spark's report, a second, untimed pass",
           "that measures the partials). How the work splits and a plan for a cluster: DISTRIBUTED.md.", ""]
    if not path.exists():
        return out + ["Not measured yet: `.venv/bin/python -m bench.spark --orders 10000000`.", ""]
    for orders, m in sorted(json.loads(path.read_text()).items(), key=lambda kv: int(kv[0])):
        out += [f"{int(orders):,} orders ({m['bytes'] / 1e6:,.0f} MB of Parquet), measured {m['measured_at']}, "
                f"{m['cores']} cores; load average (1 min) {m['load_average'][0]:.1f} before, "
                f"{m['load_average'][1]:.1f} after the last run, on a machine shared with other work (a step run "
                "again with --steps replaces its row; DISTRIBUTED.md gives each run's load).", "",
                "| step | engine | seconds (in process) | seconds (whole process) | peak RSS MB "
                "| JVM peak heap MB | JVM peak RSS MB | shuffled MB | executors' run s |",
                "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for key, s in m["steps"].items():
            engine, name = key.split(":")
            jvm = (f"{s['jvm_peak_heap_mb']:,}", f"{s['jvm_peak_rss_mb']:,}" if s.get("jvm_peak_rss_mb") else "",
                   _mb(s["shuffle_write_bytes"]), f"{s['executor_run_seconds']:,.1f}") if engine == "spark" else ("",) * 4
            out.append(f"| {WORDS[name]} | {engine} | {s['seconds']:,.1f} | {s['wall_seconds']:,.1f} | "
                       f"{s['python_peak_rss_mb']:,} | {' | '.join(jvm)} |")
        report = m["steps"].get("spark:report", {})
        if "partials_bytes" in report:
            out += ["", f"The report's added partials, as the driver collects them: {report['partials_rows']:,} rows, "
                        f"{report['partials_bytes'] / 1e6:,.2f} MB."]
        out.append("")
    return out


if __name__ == "__main__":
    raise SystemExit(main())
