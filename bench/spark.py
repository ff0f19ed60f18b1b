"""The Spark engine against the local engine on the same Parquet source: time, driver peak memory, bytes
shuffled, and the size of the partials that cross the network.

    .venv/bin/python -m bench.spark [--orders 10000000] [--chunk 1000000] [--dir data/bench/parquet-N]

Writes the orders as Parquet in chunks (the generator makes one chunk at a time into an in-memory DuckDB,
which writes it under the source's month and bucket directories, as `export` would; order ids get the chunk's prefix, so they stay
unique): never all of them in memory. Then each step runs in its own process:

- local: `report --source DIR` and `simulate --source DIR` (DuckDB and Polars reading the Parquet; above
  chunked.CHUNK_ORDERS orders, a chunk at a time: the table says in how many);
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
import math
import os
import re
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
    """Generate `orders` orders as a Parquet source at `directory`, `chunk` orders at a time: each chunk
    to a file of its own beside the source, then each table partitioned in one pass over those files (so
    a partition directory holds a few files, not one per chunk: at 100M orders, 126 directories a table
    written by 100 chunks would hold 12,600 files of about 8,000 orders, and reading them costs more than
    their rows)."""
    import shutil

    import duckdb

    from analytics import capabilities, db, generate, source

    directory.mkdir(parents=True, exist_ok=False)
    staging = directory.with_name(directory.name + ".chunks")
    shutil.rmtree(staging, ignore_errors=True)
    for table in source.TABLES:
        (staging / table).mkdir(parents=True)
    rows = dict.fromkeys(source.TABLES, 0)
    codes: set[str] = set()
    records: dict[str, bool] = {}
    start = time.perf_counter()
    buckets = 1
    for i, first in enumerate(range(0, orders, chunk)):
        n = min(chunk, orders - first)
        con = db.connect(":memory:")
        try:
            ds = generate.generate(con, n, seed + i, name=f"chunk {i}").dataset
            con.execute("SET TimeZone = 'UTC'")
            if i == 0:
                # Every chunk spans the same months: the largest month of the whole is about the first
                # chunk's times the chunks, and sets the buckets per month as export would.
                largest = con.execute("SELECT max(n) FROM (SELECT count(*) AS n FROM orders "
                                      "GROUP BY strftime(placed_at, '%Y-%m'))").fetchall()[0][0]
                buckets = source.buckets_for(largest * math.ceil(orders / chunk))
            order_id = f"'c{i}-' || t.order_id"
            for table in source.TABLES:
                cols = [c for c, _ in source._columns(con, table)]
                select = ", ".join(f"{order_id} AS order_id" if c == "order_id" else f"t.{c}" for c in cols)
                sql = (f"SELECT {select}, {source.partition_sql(order_id, 'o.placed_at', buckets)} FROM {table} t "
                       f"JOIN orders o ON o.dataset_id = t.dataset_id AND o.order_id = t.order_id")
                count = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
                rows[table] += count
                if count:
                    con.execute(f"COPY ({sql}) TO '{staging / table / f'chunk{i}.parquet'}' (FORMAT parquet)")
            codes.update(c for (c,) in con.execute(
                "SELECT DISTINCT upper(trim(currency)) FROM orders WHERE currency IS NOT NULL").fetchall())
            missing = capabilities.missing(con, ds.id)
            records = {k: records.get(k, False) or k not in missing for k in capabilities.CAPABILITIES}
        finally:
            con.close()
        print(f"  wrote chunk {i}: {first + n:,} of {orders:,} orders, {time.perf_counter() - start:.0f} s", flush=True)
    generated = time.perf_counter() - start
    con = duckdb.connect()
    try:
        con.execute("SET preserve_insertion_order = false")
        for table in source.TABLES:
            if rows[table]:
                con.execute(f"COPY (SELECT * FROM read_parquet('{staging / table}/*.parquet')) TO '{directory / table}' "
                            "(FORMAT parquet, PARTITION_BY (month, bucket))")
            print(f"  partitioned {table}, {time.perf_counter() - start:.0f} s", flush=True)
    finally:
        con.close()
    shutil.rmtree(staging)
    meta = {"format": source.FORMAT, "version": source.VERSION,
            "dataset": {"id": f"bench-{orders}", "name": f"generated {orders:,} orders in chunks of {chunk:,}",
                        "source_kind": "generated", "orders": orders},
            "currencies": sorted(codes), "records": records, "rows": rows, "buckets": buckets}
    (directory / source.METADATA).write_text(json.dumps(meta, indent=2), encoding="utf-8")
    size = sum(p.stat().st_size for p in directory.rglob("*.parquet"))
    return {"seconds": round(time.perf_counter() - start, 1), "generate_seconds": round(generated, 1), "bytes": size,
            "rows": rows, "buckets": buckets}


# ---------------------------------------------------------------------------------------------------
# One step, in its own process

def _rest(url: str):
    from urllib.request import urlopen

    with urlopen(url, timeout=30) as r:  # noqa: S310 (the local Spark's own status API)
        return json.loads(r.read())


PROGRESS_ENV = "BENCH_SPARK_PROGRESS"


def _stage(st: dict) -> dict:
    """One stage's figures from Spark's status API: its tasks (done of all), the executors' run time, the
    rows it read (from the Parquet files and from a shuffle), what it shuffled and spilled."""
    return {"name": re.sub(r"\S*/(analytics/\S+)", r"\1", st.get("name", ""))[:60], "status": st.get("status"), "tasks": st.get("numCompleteTasks", 0),
            "of_tasks": st.get("numTasks", 0), "shuffle_write_bytes": st.get("shuffleWriteBytes", 0),
            "run_seconds": round(st.get("executorRunTime", 0) / 1000, 1),
            "cpu_seconds": round(st.get("executorCpuTime", 0) / 1e9, 1),
            "input_records": st.get("inputRecords", 0), "shuffle_read_records": st.get("shuffleReadRecords", 0),
            "spilled_bytes": st.get("diskBytesSpilled", 0)}


def _watch(base: str, path: Path, clock: float) -> None:
    """Every 20 s, the running application's stages as Spark reports them, written to `path`: what a step
    stopped before its end leaves (bench.spark's --stop-after)."""
    import threading

    def loop():
        while True:
            time.sleep(20)
            try:
                app = _rest(base)[0]["id"]
                stages = [_stage(st) for st in _rest(f"{base}/{app}/stages")]
                path.write_text(json.dumps({"seconds": round(time.perf_counter() - clock, 1), "stages": stages}))
            except OSError:
                pass
    threading.Thread(target=loop, daemon=True).start()


def _cpu_seconds() -> float:
    """The CPU time (user and system) of this process and of every process it started that still runs
    (Spark's JVM and its Python workers), from /proc: on a shared machine, what a step itself cost."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
            cpu[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    mine = {os.getpid()}
    grown = True
    while grown:
        found = {pid for pid, parent in parents.items() if parent in mine} - mine
        grown = bool(found)
        mine |= found
    times = os.times()
    return sum(cpu.get(pid, 0.0) for pid in mine - {os.getpid()}) + times.user + times.system


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
    base = f"http://127.0.0.1:{port}/api/v1/applications"
    cpu_before = _cpu_seconds()
    clock = time.perf_counter()
    if os.environ.get(PROGRESS_ENV):
        _watch(base, Path(os.environ[PROGRESS_ENV]), clock)
    kept: dict = {}
    if name == "report":
        # The added partials spark.report collects, kept on their way to the finaliser (their size below):
        # no second pass over the orders to measure them.
        tally = spark.tally
        spark.tally = lambda *a, **k: kept.setdefault("added", tally(*a, **k))
        try:
            spark.report(session, src, NO_FILTERS)
        finally:
            spark.tally = tally
    elif name in ("simulate", "replay"):
        policy = Policy.from_settings(POLICY[1::2])
        sample = _calibration_sample()
        spark.simulate(session, src, lambda prep: policy, replicates=int(REPLICATES if name == "simulate" else 1),
                       seed=1, calibration_sample=sample, calibration_seed=1)
        stats["calibration_sample"] = sample
    elif name == "calibrate_sample":
        spark.calibrate(session, src, size=1_000_000, seed=1)
    seconds = time.perf_counter() - clock
    stats["cpu_seconds"] = round(_cpu_seconds() - cpu_before, 1)
    app = _rest(base)[0]["id"]
    stages = _rest(f"{base}/{app}/stages")
    if name == "report":
        added = kept["added"]
        stats["partials_rows"] = added.height
        stats["partials_bytes"] = int(added.estimated_size())
    stats["stages"] = [_stage(st) for st in stages]
    executors = _rest(f"{base}/{app}/allexecutors")
    stats["gc_seconds"] = round(sum(e.get("totalGCTime", 0) for e in executors) / 1000, 1)
    stats["spilled_bytes"] = sum(st.get("diskBytesSpilled", 0) for st in stages)
    stats["spark_memory"] = os.environ.get(spark.MEMORY_ENV, "1g")
    stats["shuffle_partitions"] = int(session.conf.get("spark.sql.shuffle.partitions"))
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


CALIBRATION_SAMPLE_ENV = "BENCH_CALIBRATION_SAMPLE"


def _calibration_sample() -> int | None:
    """The simulate steps' --calibration-sample (bench.spark's option, passed to each step's process)."""
    return int(os.environ[CALIBRATION_SAMPLE_ENV]) if os.environ.get(CALIBRATION_SAMPLE_ENV) else None


def local_step(name: str, directory: Path) -> dict:
    from analytics import chunked, source
    from analytics.cli import main

    src = source.open_source(directory)
    try:
        chunks = chunked.plan(src)   # as the command will read it: whole, or a chunk at a time
    finally:
        src.close()

    sample = _calibration_sample()
    sampled = ["--calibration-sample", str(sample), "--calibration-seed", "1"] if sample else []
    argv = {"report": ["report", "--source", str(directory), "--json"],
            "simulate": ["simulate", "--source", str(directory), *POLICY, "--replicates", REPLICATES, "--seed", "1",
                         *sampled, "--json"],
            "replay": ["simulate", "--source", str(directory), *POLICY, "--replicates", "1", "--seed", "1",
                       *sampled, "--json"],
            "calibrate_sample": ["calibrate", "--source", str(directory), "--sample", "1000000", "--seed", "1",
                                 "--json"]}[name]
    cpu_before = _cpu_seconds()
    clock = time.perf_counter()
    with open(os.devnull, "w") as sink:
        stdout, sys.stdout = sys.stdout, sink
        try:
            code = main(argv)
        finally:
            sys.stdout = stdout
    if code:
        raise SystemExit(code)
    return {"seconds": round(time.perf_counter() - clock, 2), "cpu_seconds": round(_cpu_seconds() - cpu_before, 1),
            **({"calibration_sample": sample} if sample and name in ("simulate", "replay") else {}),
            **({"chunks": len(chunks)} if chunks else {})}


# ---------------------------------------------------------------------------------------------------

STEPS = (("local", "report"), ("spark", "report"), ("local", "replay"), ("spark", "replay"),
         ("local", "simulate"), ("spark", "simulate"), ("local", "calibrate_sample"), ("spark", "calibrate_sample"))
WORDS = {"report": "report", "replay": "one replay (simulate with 1 replicate: baseline and scenario once each)",
         "simulate": f"simulate, {REPLICATES} replicates with intervals",
         "calibrate_sample": "calibrate on a sample of 1,000,000 orders"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.spark", description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000_000)
    parser.add_argument("--chunk", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=None, help="the Parquet source (written when absent)")
    parser.add_argument("--steps", default=None,
                        help="comma-separated engine:step (default all; 'none' only writes the source)")
    parser.add_argument("--spark-memory", default="4g",
                        help="the local Spark's memory (its driver is its executor; default 4g; the orders are "
                             "read and joined by the Python workers, outside the JVM's heap)")
    parser.add_argument("--calibration-sample", type=int, default=None, metavar="N",
                        help="simulate with the calibration fitted on a sample of N orders (seed 1), on both engines")
    parser.add_argument("--stop-after", type=float, default=None, metavar="SECONDS",
                        help="stop a step that runs longer, recording how far Spark got (its stages' tasks done)")
    parser.add_argument("--step", nargs=2, metavar=("ENGINE", "STEP"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    directory = args.dir or ROOT / "data" / "bench" / f"parquet-{args.orders}"
    if args.step:
        engine, name = args.step
        print(json.dumps((spark_step if engine == "spark" else local_step)(name, directory)))
        return 0
    import tempfile

    from analytics.spark import MEMORY_ENV
    from bench.child import run_child

    os.environ[MEMORY_ENV] = args.spark_memory
    if args.calibration_sample:
        os.environ[CALIBRATION_SAMPLE_ENV] = str(args.calibration_sample)
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
        progress = Path(tempfile.mkdtemp()) / "progress.json"
        os.environ[PROGRESS_ENV] = str(progress)
        load = os.getloadavg()[0]
        code, out, err, wall, rss = run_child([sys.executable, "-m", "bench.spark", "--orders", str(args.orders),
                                               "--dir", str(directory), "--step", engine, name], timeout=args.stop_after)
        if code and args.stop_after and wall > args.stop_after:
            # Stopped: what Spark had done by then (its stages' tasks), from the last look at its status API.
            seen = json.loads(progress.read_text()) if progress.exists() else {}
            steps[f"{engine}:{name}"] = {"stopped_after_seconds": round(wall, 1), "python_peak_rss_mb": round(rss),
                                         "load_average": [round(load, 1), round(os.getloadavg()[0], 1)],
                                         "progress": seen, "calibration_sample": _calibration_sample()
                                         if name in ("simulate", "replay") else None}
            print(f"{engine} {name} stopped after {wall:.0f} s: {seen}", flush=True)
            _save(results, args.orders, entry, directory, load_before)
            continue
        if code:
            print(f"{engine} {name} failed ({code}):\n{err[-2000:]}", flush=True)
            continue
        figures = json.loads(out.strip().splitlines()[-1])
        figures.update(wall_seconds=round(wall, 1), python_peak_rss_mb=round(rss),
                       load_average=[round(load, 1), round(os.getloadavg()[0], 1)])
        steps[f"{engine}:{name}"] = figures
        print(f"{engine:5} {WORDS[name]}: {figures}", flush=True)
        _save(results, args.orders, entry, directory, load_before)
    _save(results, args.orders, entry, directory, load_before)
    return 0


def _save(results: dict, orders: int, entry: dict, directory: Path, load_before: float) -> None:
    entry.update(measured_at=f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC", cores=os.cpu_count(),
                 memory_bytes=os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"),
                 load_average=[round(load_before, 1), round(os.getloadavg()[0], 1)],
                 bytes=sum(p.stat().st_size for p in directory.rglob("*.parquet")))
    # Read again: another size's run may have saved its own entry since this one started.
    results.update(json.loads(OUT.read_text()) if OUT.exists() else {})
    results[str(orders)] = entry
    OUT.write_text(json.dumps(results, indent=1) + "\n")


def _mb(n: float | None) -> str:
    return "" if n is None else f"{n / 1e6:,.1f}"


def section(path: Path = OUT) -> list[str]:
    """The Spark section of BENCHMARKS.md, from bench/spark.json."""
    from analytics.chunked import CHUNK_ORDERS

    out = ["## Spark against the local engine, on the same Parquet", "",
           "`make bench-spark` (`.venv/bin/python -m bench.spark --orders N`) writes N generated orders as Parquet in",
           "chunks of 1,000,000 (never all in memory), then runs each step in its own process on that source: the",
           f"local engine (DuckDB and Polars reading the Parquet, a chunk of about {CHUNK_ORDERS:,} orders at a time",
           "above that: `--chunk-orders`) and a local Spark (`local[*]`, Python workers",
           "through `mapInArrow`). Peak RSS: the largest single process of the step's tree as the OS reports it",
           "(os.wait4, read by a small launcher: bench/child.py; for Spark, the driver's Python or a Python worker); the JVM's peak heap and RSS, the bytes",
           "shuffled and the executors' run time: Spark's status API. Seconds in process: the step's call; whole",
           "process: with the interpreter's and Spark's start (and, in a Spark report's row without CPU seconds, a",
           "second, untimed pass that measured the partials). CPU seconds: user and system time of the step's call",
           "in its process and (for Spark) the JVM and the Python workers it started, from /proc: on a machine",
           "shared with other work, what the step itself cost, where its seconds also count the wait for a core.",
           "How the work splits and a plan for a cluster: DISTRIBUTED.md.", ""]
    if not path.exists():
        return out + ["Not measured yet: `.venv/bin/python -m bench.spark --orders 10000000`.", ""]
    measured = sorted(json.loads(path.read_text()).items(), key=lambda kv: int(kv[0]))
    for orders, m in measured:
        written = m.get("written", {}).get("seconds")
        by = f", written by the generator in {written:,.0f} s" if written is not None else ""
        out += [f"{int(orders):,} orders ({m['bytes'] / 1e6:,.0f} MB of Parquet{by}), measured {m['measured_at']}, "
                f"{m['cores']} cores; load average (1 min) {m['load_average'][0]:.1f} before, "
                f"{m['load_average'][1]:.1f} after the last run, on a machine shared with other work (a step run "
                "again with --steps replaces its row; its own load average, where recorded, in the last column).", "",
                "| step | engine | seconds (in process) | CPU seconds (in process) | seconds (whole process) "
                "| peak RSS MB | JVM peak heap MB | JVM peak RSS MB | shuffled MB | executors' run s | load average |",
                "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
        notes = []
        for key, s in m["steps"].items():
            engine, name = key.split(":")
            if "stopped_after_seconds" in s:
                out.append(f"| {_words(name, s)} | {engine} | stopped | | {s['stopped_after_seconds']:,.1f} | "
                           f"{_rss(s)} | | | | | {_load(s)} |")
                notes.append(_stopped(engine, name, s))
                continue
            jvm = (f"{s['jvm_peak_heap_mb']:,}", f"{s['jvm_peak_rss_mb']:,}" if s.get("jvm_peak_rss_mb") else "",
                   _mb(s["shuffle_write_bytes"]), f"{s['executor_run_seconds']:,.1f}") if engine == "spark" else ("",) * 4
            cpu = f"{s['cpu_seconds']:,.1f}" if "cpu_seconds" in s else ""
            how = f"{engine}, in {s['chunks']} chunks" if s.get("chunks") else engine
            out.append(f"| {_words(name, s)} | {how} | {s['seconds']:,.1f} | {cpu} | {s['wall_seconds']:,.1f} | "
                       f"{_rss(s)} | {' | '.join(jvm)} | {_load(s)} |")
            if engine == "spark" and s.get("stages"):
                notes.append(_busiest(name, s, int(orders)))
        notes += _not_run(orders, m, measured)
        report = m["steps"].get("spark:report", {})
        if "partials_bytes" in report:
            notes.append(f"The report's added partials, as the driver collects them: {report['partials_rows']:,} rows, "
                         f"{report['partials_bytes'] / 1e6:,.2f} MB.")
        out += [line for note in notes for line in ("", note)]
        out.append("")
    out += _growth(measured)
    return out


def _load(s: dict) -> str:
    """The step's load average (1 min) before and after it, when it was recorded per step."""
    return " to ".join(f"{x:.1f}" for x in s["load_average"]) if "load_average" in s else ""


def _words(name: str, s: dict) -> str:
    sample = s.get("calibration_sample")
    return WORDS[name] + (f", calibrated on a sample of {sample:,} orders" if sample else "")


def _rss(s: dict) -> str:
    """A step's peak RSS, blank where it was not measured (runs before bench/child.py's launcher recorded
    the benchmark's own peak, which its children inherited: their figures were dropped)."""
    return f"{s['python_peak_rss_mb']:,}" if s.get("python_peak_rss_mb") is not None else ""


def _rate(stage: dict) -> str:
    rows = stage.get("input_records", 0) + stage.get("shuffle_read_records", 0)
    per = rows / stage["tasks"] if stage.get("tasks") else 0
    speed = f", {rows / stage['run_seconds']:,.0f} rows per task-second" if stage.get("run_seconds") and rows else ""
    read = f", {rows:,} rows read ({per:,.0f} a task){speed}" if rows else ""
    return (f"{stage['tasks']:,} of {stage.get('of_tasks', stage['tasks']):,} tasks done, {stage['run_seconds']:,.1f} s "
            f"of executors' time{read}")


def _busiest(name: str, s: dict, orders: int) -> str:
    """The stage that took most of a Spark step's executors' time, with its rate per task (partition).
    A stage of tasks that each read their own chunk of the source (one input row a task: spark._tasks)
    is rated by the source's orders."""
    stage = max(s["stages"], key=lambda st: st["run_seconds"])
    if stage.get("tasks") and stage.get("input_records") == stage.get("of_tasks") and not stage.get("shuffle_read_records"):
        stage = {**stage, "input_records": orders}
    spilled = f"; {s['spilled_bytes'] / 1e6:,.0f} MB spilled to disk" if s.get("spilled_bytes") else ""
    gc = f"; the JVM's garbage collection {s['gc_seconds']:,.1f} s" if "gc_seconds" in s else ""
    memory = f" (Spark memory {s['spark_memory']})" if s.get("spark_memory") else ""
    where = re.sub(r"\S*/(analytics/\S+)", r"\1", stage["name"])
    return f"Spark {WORDS[name]}{memory}: its busiest stage ({where}): {_rate(stage)}{spilled}{gc}."


def _stopped(engine: str, name: str, s: dict) -> str:
    """What a step stopped before its end had done: each stage with tasks done, from Spark's status API."""
    seen = s.get("progress") or {}
    stages = [st for st in seen.get("stages", []) if st.get("tasks") or st.get("status") == "ACTIVE"]
    done = "; ".join(f"{st['name']} ({st.get('status', '').lower()}): {_rate(st)}" for st in stages[::-1])
    return (f"{engine.capitalize()} {_words(name, s)} was stopped after {s['stopped_after_seconds']:,.0f} s (to finish "
            f"in the time the machine was free); at {seen.get('seconds', 0):,.0f} s Spark had done: {done or 'nothing'}.")


def _not_run(orders: str, m: dict, measured: list) -> list[str]:
    """The steps measured at a smaller size but not at this one (the local engine reads a source larger
    than memory a chunk at a time, so memory rules none out: they were not asked for)."""
    out = []
    for key in dict.fromkeys(k for o, other in measured if int(o) < int(orders) for k in other["steps"]):
        engine, name = key.split(":")
        if key not in m["steps"]:
            out.append(f"Not run on {'Spark' if engine == 'spark' else 'the local engine'} at {int(orders):,} orders: "
                       f"{WORDS[name]} (bench.spark ran only the steps in the table at this size).")
    return out


def _growth(measured: list) -> list[str]:
    """How each step's time grows from one measured size to the next, for both engines."""
    lines = []
    for (small, a), (large, b) in zip(measured, measured[1:], strict=False):
        parts = []
        for key, s in b["steps"].items():
            before = a["steps"].get(key, {})
            if "seconds" not in before or before.get("calibration_sample") != s.get("calibration_sample"):
                continue   # not measured at the smaller size, or with another calibration: not the same step
            engine, name = key.split(":")
            if "seconds" in s:
                parts.append(f"{engine} {_words(name, s)}: {before['seconds']:,.1f} s to {s['seconds']:,.1f} s "
                             f"({s['seconds'] / before['seconds']:,.1f}×)")
            elif "stopped_after_seconds" in s:
                parts.append(f"{engine} {_words(name, s)}: {before['seconds']:,.1f} s to more than "
                             f"{s['stopped_after_seconds']:,.0f} s (stopped; more than "
                             f"{s['stopped_after_seconds'] / before['seconds']:,.1f}×)")
        if parts:
            lines += [f"How time grows from {int(small):,} to {int(large):,} orders ({int(large) / int(small):,.0f}× the "
                      f"orders; each size's load average above): " + "; ".join(parts) + ".", ""]
    return lines


if __name__ == "__main__":
    raise SystemExit(main())
