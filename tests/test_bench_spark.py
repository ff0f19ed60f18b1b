"""bench.spark: the source written in chunks is one data set (every order once, each chunk's ids apart),
read by the local engine as a whole; its section in BENCHMARKS.md shows what a run measured."""

from __future__ import annotations

import json
from pathlib import Path

from analytics import source
from analytics.report import report
from bench import spark as bench_spark


def test_a_source_written_in_chunks_holds_every_order_once(tmp_path):
    written = bench_spark.write_source(tmp_path / "pq", 1200, 500, seed=3)
    # 500 + 500 + 200 orders, written a chunk at a time and then partitioned in one pass: each partition
    # directory holds one file of its orders from every chunk, and the chunks' staging files are gone.
    assert written["rows"]["orders"] == 1200
    files = list((tmp_path / "pq" / "orders").rglob("*.parquet"))
    assert len(files) == len({f.parent for f in files})
    assert not (tmp_path / "pq.chunks").exists()
    src = source.open_source(tmp_path / "pq")
    try:
        ids = src.con.execute("SELECT count(*), count(DISTINCT order_id), min(order_id) FROM orders").fetchall()[0]
        assert ids[:2] == (1200, 1200) and ids[2].startswith("c0-")
        requests = src.con.execute("SELECT count(*) FROM cancellation_requests").fetchall()[0][0]
        assert requests == written["rows"]["cancellation_requests"] > 0
        result = report(src.con, src.dataset.id)
        assert result["orders"] == 1200 and result["cancellation_requests"] == requests
        assert "requests" not in result["unavailable"]
    finally:
        src.close()


def test_the_section_shows_each_step_measured(tmp_path):
    path = tmp_path / "spark.json"
    step = {"seconds": 2.5, "wall_seconds": 9.0, "python_peak_rss_mb": 800, "jvm_peak_heap_mb": 512,
            "jvm_peak_rss_mb": 900, "shuffle_write_bytes": 4_100_000, "executor_run_seconds": 7.25}
    path.write_text(json.dumps({"1000000": {
        "measured_at": "2026-12-02 12:00 UTC", "cores": 2, "load_average": [1.0, 2.0], "bytes": 50_000_000,
        "written": {"seconds": 12.4},
        "steps": {"local:report": {"seconds": 0.5, "wall_seconds": 1.2, "python_peak_rss_mb": 300},
                  "spark:report": {**step, "partials_rows": 1234, "partials_bytes": 250_000},
                  "local:replay": {"seconds": 30.0, "wall_seconds": 31.5, "python_peak_rss_mb": 2000, "chunks": 14,
                                   "calibration_sample": 1_000_000}}}}))
    text = "\n".join(bench_spark.section(path))
    assert "1,000,000 orders (50 MB of Parquet, written by the generator in 12 s)" in text
    assert "load average (1 min) 1.0 before, 2.0 after" in text
    assert "| report | local | 0.5 |  | 1.2 | 300 |  |  |  |  |  |" in text
    assert "| report | spark | 2.5 |  | 9.0 | 800 | 512 | 900 | 4.1 | 7.2 |  |" in text
    assert "1,234 rows, 0.25 MB" in text
    # The local engine read that source a chunk at a time: how many, on its row.
    assert ("| one replay (simulate with 1 replicate: baseline and scenario once each), calibrated on a sample of "
            "1,000,000 orders | local, in 14 chunks | 30.0 |  | 31.5 | 2,000 |") in text
    assert "Not measured yet" in "\n".join(bench_spark.section(tmp_path / "absent.json"))


def test_the_section_shows_a_stopped_step_a_step_not_run_and_how_time_grows(tmp_path):
    path = tmp_path / "spark.json"
    small = {"seconds": 2.5, "cpu_seconds": 4.0, "wall_seconds": 9.0, "python_peak_rss_mb": 800,
             "jvm_peak_heap_mb": 512, "jvm_peak_rss_mb": 900, "shuffle_write_bytes": 4_100_000,
             "executor_run_seconds": 7.25, "load_average": [3.0, 4.0], "spark_memory": "4g", "shuffle_partitions": 8,
             "gc_seconds": 0.5, "stages": [
                 {"name": "scan at /x/y/analytics/spark.py:1", "tasks": 6, "of_tasks": 6, "run_seconds": 2.0,
                  "input_records": 1_000_000},
                 {"name": "tally", "tasks": 4, "of_tasks": 4, "run_seconds": 5.0, "shuffle_read_records": 1_000_000}]}
    stopped = {"stopped_after_seconds": 100.0, "python_peak_rss_mb": 400, "load_average": [5.0, 6.0], "progress": {
        "seconds": 90, "stages": [{"name": "tally", "status": "ACTIVE", "tasks": 10, "of_tasks": 80, "run_seconds": 40.0,
                                   "shuffle_read_records": 2_000_000},
                                  {"name": "scan", "status": "COMPLETE", "tasks": 58, "of_tasks": 58,
                                   "run_seconds": 50.0, "input_records": 10_000_000}]}}
    entry = {"cores": 2, "load_average": [1.0, 2.0], "memory_bytes": 24 * 2**30}
    path.write_text(json.dumps({
        "1000000": {**entry, "measured_at": "2026-12-02 12:00 UTC", "bytes": 50_000_000, "steps": {
            "local:report": {"seconds": 0.5, "cpu_seconds": 0.8, "wall_seconds": 1.2, "python_peak_rss_mb": 300},
            "local:simulate": {"seconds": 9.0, "wall_seconds": 9.5, "python_peak_rss_mb": 500},
            "spark:report": small}},
        "10000000": {**entry, "measured_at": "2026-12-02 13:00 UTC", "bytes": 500_000_000, "steps": {
            "spark:report": stopped,
            "local:simulate": {"seconds": 50.0, "wall_seconds": 51.0, "python_peak_rss_mb": 900,
                               "calibration_sample": 1000}}}}))
    text = "\n".join(bench_spark.section(path))
    assert "| report | local | 0.5 | 0.8 | 1.2 | 300 |  |  |  |  |  |" in text
    assert "| report | spark | 2.5 | 4.0 | 9.0 | 800 | 512 | 900 | 4.1 | 7.2 | 3.0 to 4.0 |" in text
    # The busiest stage: 1,000,000 rows read by 4 tasks in 5 s of executors' time.
    assert ("Spark report (Spark memory 4g): its busiest stage (tally): 4 of 4 tasks done, "
            "5.0 s of executors' time, 1,000,000 rows read (250,000 a task), 200,000 rows per task-second; "
            "the JVM's garbage collection 0.5 s.") in text
    assert "| report | spark | stopped | | 100.0 | 400 | | | | | 5.0 to 6.0 |" in text
    assert ("at 90 s Spark had done: scan (complete): 58 of 58 tasks done, 50.0 s of executors' time, 10,000,000 rows "
            "read (172,414 a task), 200,000 rows per task-second; tally (active): 10 of 80 tasks done") in text
    assert ("Not run on the local engine at 10,000,000 orders: report (bench.spark ran only the steps in the table "
            "at this size).") in text
    # The smaller size's simulate fitted on every order, the larger's on a sample: not compared.
    assert ("How time grows from 1,000,000 to 10,000,000 orders (10× the orders; each size's load average above): "
            "spark report: 2.5 s to more than 100 s (stopped; more than 40.0×).") in text


def test_a_step_past_its_time_is_stopped_with_what_it_started():
    import os
    import sys
    import time

    from bench.child import run_child

    code = ("import subprocess, sys, time; p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
            "print(p.pid, flush=True); time.sleep(60)")
    exit_code, out, _, wall, _ = run_child([sys.executable, "-c", code], timeout=1)
    assert exit_code == -15 and wall < 30
    grandchild = int(out.split()[0])
    time.sleep(0.5)
    try:
        os.kill(grandchild, 0)
        stat = Path(f"/proc/{grandchild}/stat")
        alive = stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except ProcessLookupError:
        alive = False
    assert not alive


def test_a_stage_of_tasks_that_each_read_a_chunk_is_rated_by_the_sources_orders():
    # Spark sees one input row a task (the chunk's number); each task read and joined its chunk's files.
    step = {"stages": [{"name": "mapInArrow at analytics/spark.py:9", "tasks": 4, "of_tasks": 4,
                        "run_seconds": 20.0, "input_records": 4}]}
    assert bench_spark._busiest("report", step, 2_000_000) == (
        "Spark report: its busiest stage (mapInArrow at analytics/spark.py:9): 4 of 4 tasks done, 20.0 s of "
        "executors' time, 2,000,000 rows read (500,000 a task), 100,000 rows per task-second.")


def test_a_steps_peak_memory_is_its_own_not_the_benchmarks_that_started_it():
    import sys

    from bench.child import run_child

    held = bytearray(1024 * 2**20)   # the benchmark's process holds 1 GB, every page touched
    held[::4096] = b"\1" * len(held[::4096])
    code = "x = bytearray(200 * 2**20); x[::4096] = b'1' * len(x[::4096])"
    exit_code, _, _, _, rss = run_child([sys.executable, "-c", code])
    assert exit_code == 0 and 200 < rss < 400
    del held
