"""The load benchmark runs end to end at a small size: two sessions at once through the whole script,
every step measured, no error, and the server's CPU and memory read from /proc."""

from __future__ import annotations

import json

import browser_support as bs

from bench import load

pytestmark = bs.browser_test


def test_two_sessions_go_through_the_script_and_the_figures_are_written(tmp_path):
    results, out = tmp_path / "load.json", tmp_path / "BENCHMARKS.md"
    out.write_text("# Benchmarks\n\n## 100 orders\n\nkept as it is\n")
    assert load.main(["--sizes", "2000", "--sessions", "2", "--rounds", "1",
                      "--results", str(results), "--out", str(out)]) == 0
    r = json.loads(results.read_text())["2000x2"]
    assert r["errors"] == 0, r
    # 2 sessions x 1 round x 5 steps, each timed.
    assert r["steps_done"] == 10
    for name, step in r["steps"].items():
        assert step["n"] == 2 and 0 < step["p50"] <= step["p95"] <= step["max"], name
    assert r["server_cpu_s"] > 0 and r["cpu_per_step"] == r["server_cpu_s"] / 10
    # The browsers draw every page: their CPU is counted too, and is more than the server's.
    assert r["browser_cpu_per_step"] > r["cpu_per_step"], r
    assert 50 < r["rss_start_mb"] <= r["peak_rss_mb"] and r["rss_curve"]
    text = out.read_text()
    assert "kept as it is" in text and text.count(load.SECTION) == 1
    assert "| 2,000 | 2 | 10 | 0 |" in text


def test_the_floor_under_a_step_is_the_cpu_of_all_sessions_over_the_cores(monkeypatch):
    monkeypatch.setattr(load.os, "cpu_count", lambda: 2)
    steps = {"open": {"cpu_s": 0.1, "browser_cpu_s": 2.9}, "page": {"cpu_s": 0.05, "browser_cpu_s": 0.7}}
    alone = {"orders": 50_000, "sessions": 1, "steps": steps}
    (words,) = load.floor_words([alone], 50_000, 4)
    # 4 x (0.1 + 2.9) / 2 = 6.00; 4 x (0.05 + 0.7) / 2 = 1.50; the browser's share of open: 2.9 / 3.0.
    assert "open 6.00 s, page 1.50 s" in words and "open step's floor, 6.00 s, is 97% the browsers'" in words
    # A one-session run from before the browsers' CPU was counted gives no floor.
    old = {"orders": 50_000, "sessions": 1, "steps": {"open": {"cpu_s": 0.1, "browser_cpu_s": None}}}
    assert load.floor_words([old], 50_000, 4) == []


def test_proc_readings_of_this_process():
    import os
    import time

    pid = os.getpid()
    before = load.cpu_seconds(pid)
    end = time.process_time() + 0.3
    while time.process_time() < end:   # 0.3 s of CPU, by this process's own clock
        pass
    used = load.cpu_seconds(pid) - before
    assert 0.2 <= used <= 1.0, used
    mem = load.memory_mb(pid)
    assert 10 < mem["VmRSS"] <= mem["VmHWM"]


def test_a_short_soak_reads_what_the_caches_hold_beside_the_memory(tmp_path):
    results, out = tmp_path / "load.json", tmp_path / "BENCHMARKS.md"
    out.write_text("# Benchmarks\n")
    assert load.main(["--sizes", "2000", "--sessions", "1", "--soak-minutes", "0.4",
                      "--results", str(results), "--out", str(out)]) == 0
    r = json.loads(results.read_text())["2000x1-soak0.4"]
    assert r["errors"] == 0 and r["steps_done"] >= 5, r
    # Sampled every 10 s: the RSS and the caches' megabytes at the same moments, the caches filled by then.
    assert len(r["cache_curve"]) >= 2 and [t for t, _ in r["cache_curve"]] == [t for t, _ in r["rss_curve"]]
    assert 0 < r["cache_curve"][-1][1] < r["rss_curve"][-1][1]
    text = out.read_text()
    assert "| minute | RSS MB | caches MB | RSS less caches MB |" in text
