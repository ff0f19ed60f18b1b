"""bench.spark: the source written in chunks is one data set (every order once, each chunk's ids apart),
read by the local engine as a whole; its section in BENCHMARKS.md shows what a run measured."""

from __future__ import annotations

import json

from analytics import source
from analytics.report import report
from bench import spark as bench_spark


def test_a_source_written_in_chunks_holds_every_order_once(tmp_path):
    written = bench_spark.write_source(tmp_path / "pq", 1200, 500, seed=3)
    # 500 + 500 + 200 orders, in three chunks of files under the month directories.
    assert written["rows"]["orders"] == 1200
    names = {p.name.split("_")[0] for p in (tmp_path / "pq" / "orders").rglob("*.parquet")}
    assert names == {"chunk0", "chunk1", "chunk2"}
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
        "steps": {"local:report": {"seconds": 0.5, "wall_seconds": 1.2, "python_peak_rss_mb": 300},
                  "spark:report": {**step, "partials_rows": 1234, "partials_bytes": 250_000}}}}))
    text = "\n".join(bench_spark.section(path))
    assert "1,000,000 orders (50 MB of Parquet)" in text and "load average (1 min) 1.0 before, 2.0 after" in text
    assert "| report | local | 0.5 | 1.2 | 300 |  |  |  |  |" in text
    assert "| report | spark | 2.5 | 9.0 | 800 | 512 | 900 | 4.1 | 7.2 |" in text
    assert "1,234 rows, 0.25 MB" in text
    assert "Not measured yet" in "\n".join(bench_spark.section(tmp_path / "absent.json"))
