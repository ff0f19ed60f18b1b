"""The benchmark harness: run each step in its own process, several times, and write BENCHMARKS.md.

Per size: generate into DuckDB; write a canonical CSV; import it beside DuckDB's raw read_csv of the same
file; report cold (a new `python -m analytics report --json` process) and warm (in-process, repeated);
the pandas reference of the same metrics, checked against ours. Generated databases and CSV files are
cached under data/bench/ keyed by size, seed and generator parameters, so later steps and later runs
reuse them. Results accumulate in bench/results.json (one entry per size, replaced when that size is
measured again) and BENCHMARKS.md is rewritten from it.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from bench import ours
from bench.child import run_child
from bench.pandas_reference import compare, compare_replay

ROOT = Path(__file__).resolve().parent.parent
SIZES = (100_000, 1_000_000, 10_000_000)
DEFAULT_CACHE = ROOT / "data" / "bench"
DEFAULT_OUT = ROOT / "BENCHMARKS.md"
DEFAULT_RESULTS = ROOT / "bench" / "results.json"

LABELS = {
    "generate": "generate N orders into DuckDB",
    "csv_write": "write the canonical CSV",
    "import_csv": "import the CSV (product)",
    "raw_read_csv": "DuckDB raw read_csv, same file",
    "store_floor": "floor: the file stored unchecked in the product's tables",
    "report_cold": "report, cold (new process)",
    "report_warm": "report, warm (in process)",
    "report_resident": "report, orders kept in memory (the dashboard)",
    "pandas_report": "pandas reference: report",
    "pandas_report_compute": "pandas reference: report, data in memory",
    "whatif_prepare": "what-if: build the store (at import)",
    "whatif_open": "what-if: open from the store, first figures",
    "whatif_replay": "what-if: one replay",
    "whatif_replay_stored": "what-if: one replay, a new process on the store",
    "whatif_simulate": "what-if: simulate with intervals",
    "simulate_cold": "simulate, cold (new process)",
    "whatif_sweep": "what-if: 10-point sweep",
    "pandas_replay": "pandas reference: one replay",
}
# The scenario every what-if step replays, and the sweep: a shorter window, and the window from 12 hours
# to 14 days (issue 4's example).
SCENARIO = {"seller_response_hours": 48}
SWEEP_PARAM, SWEEP_VALUES = "seller_response_hours", [12, 24, 36, 48, 72, 96, 144, 192, 264, 336]
# The largest step's peak memory per million orders, measured at 1,000,000 (generate: 1.6 GB, the pandas
# replay 1.3 GB), with room: a size that needs more than the machine has free is refused up front.
GB_PER_MILLION_ORDERS = 1.8
# A sweep is 11 policies x 20 replicates: at the largest sizes one run is all the shared machine can spare.
SWEEP_ONE_RUN_FROM = 5_000_000
GB = 1024


class StepFailed(RuntimeError):
    pass


# ---------------------------------------------------------------------------------------------------
# Running a step

def _tail(text: str, lines: int = 6) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def run_step(name: str, args: dict) -> tuple[dict, float]:
    """One step in a fresh process: its JSON payload and its peak RSS (MB)."""
    code, out, err, _, rss = run_child([sys.executable, "-m", "bench.steps", name, json.dumps(args)])
    if code != 0:
        raise StepFailed(f"{name} exited with {code}:\n{_tail(err)}")
    return json.loads(out.strip().splitlines()[-1]), rss


def summary(runs: list[float]) -> dict:
    return {"runs": [round(r, 4) for r in runs], "median": statistics.median(runs), "min": min(runs), "max": max(runs)}


# ---------------------------------------------------------------------------------------------------
# One size

def cache_key(size: int, seed: int) -> str:
    """Size, seed and a digest of the generator's parameters: new defaults mean a new cache entry."""
    from analytics.generate import DEFAULT_PARAMS

    params = json.dumps(dataclasses.asdict(DEFAULT_PARAMS), sort_keys=True).encode()
    return f"{size}-seed{seed}-{hashlib.sha256(params).hexdigest()[:8]}"


def _remove_db(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)


def bench_size(size: int, seed: int, runs: int, cache: Path, log=print) -> dict:
    """Measure every step at one size; returns the size's entry for results.json."""
    load_before = os.getloadavg()[0]
    cache.mkdir(parents=True, exist_ok=True)
    scratch = cache / "scratch"
    scratch.mkdir(exist_ok=True)
    key = cache_key(size, seed)
    cached_db, sidecar, csv = cache / f"generated-{key}.duckdb", cache / f"generated-{key}.json", cache / f"orders-{key}.csv"
    steps: dict[str, dict] = {}
    checks: list[str] = []
    gaps = ours.missing()

    def record(name: str, times: list[float], rss: float, **extra) -> dict:
        entry = {"label": LABELS[name], **summary(times), "peak_rss_mb": round(rss, 1), **extra}
        if "bytes" in entry:
            entry["mb_per_s"] = entry["bytes"] / 1e6 / entry["median"]
        if "rows" in entry:
            entry["rows_per_s"] = entry["rows"] / entry["median"]
        steps[name] = entry
        rate = f", {entry['mb_per_s']:.0f} MB/s" if "mb_per_s" in entry else ""
        log(f"  {LABELS[name]:<42} {entry['median']:9.3f} s (min {entry['min']:.3f}, max {entry['max']:.3f}, "
            f"{len(times)} runs{rate}), peak RSS {rss:,.0f} MB")
        return entry

    def skip(name: str, why: str) -> None:
        steps[name] = {"label": LABELS[name], "skipped": why}
        log(f"  {LABELS[name]:<42} skipped: {why}")

    # 1. Generate, keeping one result as the cached data set the later steps read.
    if not (cached_db.exists() and sidecar.exists()):
        _remove_db(cached_db)
    times, peak, phases = [], 0.0, []
    for i in range(runs):
        target = scratch / f"generate-{i}.duckdb"
        _remove_db(target)
        payload, rss = run_step("generate", {"db": str(target), "size": size, "seed": seed})
        times.append(payload["seconds"])
        phases.append(payload["phases"])
        peak = max(peak, rss)
        if payload["rows"] != size or payload["refused"]:
            checks.append(f"generate stored {payload['rows']} of {size} orders, refused {payload['refused']}")
        if not cached_db.exists():
            target.rename(cached_db)
            sidecar.write_text(json.dumps({"dataset_id": payload["dataset_id"], "size": size, "seed": seed}))
        else:
            _remove_db(target)
    record("generate", times, peak, rows=size, phases=_median_run(times, phases))
    dataset_id = json.loads(sidecar.read_text())["dataset_id"]

    # 2. The canonical CSV, written from the cached data set (the last write stays as the cached file).
    times, peak = [], 0.0
    for _ in range(runs):
        tmp = csv.with_suffix(".csv.part")
        payload, rss = run_step("csv_write", {"db": str(cached_db), "dataset_id": dataset_id, "csv": str(tmp),
                                              "size": size})
        tmp.replace(csv)
        times.append(payload["seconds"])
        peak = max(peak, rss)
    record("csv_write", times, peak, rows=size, bytes=payload["bytes"])

    # 3. Import that CSV, DuckDB's raw read of it, and the floor under any import that checks it (the rows
    # stored in the product's tables unchecked), each into a fresh file. They alternate, so that other work
    # on a shared machine disturbs them alike and their ratios stay fair.
    taken = ("import_csv", "raw_read_csv", "store_floor")
    times, peak, phases, size_bytes = ({n: [] for n in taken}, dict.fromkeys(taken, 0.0), {n: [] for n in taken}, 0)
    for _ in range(runs):
        for name in taken:
            target = scratch / f"{name}.duckdb"
            _remove_db(target)
            payload, rss = run_step(name, {"db": str(target), "csv": str(csv)})
            _remove_db(target)
            times[name].append(payload["seconds"])
            phases[name].append(payload.get("phases"))
            peak[name] = max(peak[name], rss)
            size_bytes = payload["bytes"]
            if payload["rows"] != size or payload.get("refused"):
                checks.append(f"{name} read {payload['rows']} of {size} rows, refused {payload.get('refused', 0)}")
    for name in taken:
        extra = {"phases": _median_run(times[name], phases[name])} if phases[name][0] else {}
        record(name, times[name], peak[name], rows=size, bytes=size_bytes, **extra)

    # 4. The report: cold, warm, and the pandas reference checked against it.
    ours_result = None
    if "report_cold" in gaps:
        skip("report_cold", gaps["report_cold"])
    else:
        times, peak = [], 0.0
        for _ in range(runs):
            code, out, err, wall, rss = run_child([sys.executable, "-m", "analytics", "report", "--json",
                                                   "--db", str(cached_db), "--dataset", dataset_id])
            if code != 0:
                raise StepFailed(f"python -m analytics report exited with {code}:\n{_tail(err)}")
            times.append(wall)
            peak = max(peak, rss)
        record("report_cold", times, peak)
    if "report_warm" in gaps:
        skip("report_warm", gaps["report_warm"])
    else:
        payload, rss = run_step("report_warm", {"db": str(cached_db), "dataset_id": dataset_id, "runs": runs})
        ours_result = payload["result"]
        record("report_warm", payload["runs"], rss, profile=payload["profile"])
        payload, rss = run_step("report_resident", {"db": str(cached_db), "dataset_id": dataset_id, "runs": runs})
        record("report_resident", payload["runs"], rss, profile=payload["profile"],
               check="same numbers" if payload["same"] else "DIFFERENT from the report read through SQL",
               note=f"{payload['filters']} filter combinations the pages offer, slowest {payload['slowest']:.3f} s; "
                    f"loading the orders and tallying their rollup first: {payload['load_seconds']:.2f} s")
        if not payload["same"]:
            checks.append("the report from orders kept in memory differs from the report read through SQL")
    payload, rss = run_step("pandas_report", {"db": str(cached_db), "dataset_id": dataset_id, "runs": runs})
    if ours_result is None:
        agreement = "not checked: our report is not available"
    else:
        diffs = compare(ours_result, payload["result"])
        agreement = "same numbers" if not diffs else "DIFFERENT: " + "; ".join(diffs[:5])
        if diffs:
            checks.append("pandas report differs from ours: " + "; ".join(diffs[:5]))
    record("pandas_report", payload["runs"], rss, check=agreement)
    record("pandas_report_compute", payload["compute_runs"], rss)
    log(f"  {'pandas vs ours':<42} {agreement}")

    # 5. The what-if engine: prepare, one replay, simulate with intervals, a sweep; the pandas replay.
    whatif = {"db": str(cached_db), "dataset_id": dataset_id, "policy": SCENARIO}
    names = ("whatif_prepare", "whatif_open", "whatif_replay", "whatif_replay_stored", "whatif_simulate", "whatif_sweep",
             "pandas_replay")
    if "whatif" in gaps:
        for name in (*names, "simulate_cold"):
            skip(name, gaps["whatif"])
    else:
        payload, rss = run_step("whatif_replay", {**whatif, "runs": runs})
        record("whatif_prepare", [payload["prepare_seconds"]], rss,
               note="one run: load the orders, fit the calibration, build and write the arrays and the "
                    "baseline's replays (simulate.store_dataset)")
        record("whatif_replay", payload["runs"], rss, profile=payload["profile"],
               note=f"policy {json.dumps(SCENARIO)}, one replicate: draws, rules, figures")
        ours_replay = payload["result"]
        payload, rss = run_step("whatif_replay_stored", whatif)
        record("whatif_replay_stored", [payload["seconds"]], rss,
               note="one run: the stored arrays mapped, one replicate replayed (its peak memory is the replay's "
                    "in the targets: the store is built at import)")
        payload, rss = run_step("whatif_simulate", {**whatif, "runs": runs})
        record("whatif_open", [payload["open_seconds"]], rss,
               note="one run, a new process: the stored arrays mapped, the baseline's figures with intervals")
        record("whatif_simulate", payload["runs"], rss, note=f"{payload['replicates']} replicates")
        if "simulate_cold" in gaps:
            skip("simulate_cold", gaps["simulate_cold"])
        else:
            times, peak = [], 0.0
            sets = [a for k, v in SCENARIO.items() for a in ("--set", f"{k}={v}")]
            for _ in range(runs):
                code, out, err, wall, rss = run_child([sys.executable, "-m", "analytics", "simulate", "--json",
                                                       "--db", str(cached_db), "--dataset", dataset_id, *sets])
                if code != 0:
                    raise StepFailed(f"python -m analytics simulate exited with {code}:\n{_tail(err)}")
                times.append(wall)
                peak = max(peak, rss)
            record("simulate_cold", times, peak)
        sweep_runs = 1 if size >= SWEEP_ONE_RUN_FROM else runs
        payload, rss = run_step("whatif_sweep", {**whatif, "runs": sweep_runs, "param": SWEEP_PARAM,
                                                 "values": SWEEP_VALUES})
        record("whatif_sweep", payload["runs"], rss,
               note=f"{SWEEP_PARAM} over {len(SWEEP_VALUES)} values, {payload['replicates']} replicates each")
        payload, rss = run_step("pandas_replay", {**whatif, "runs": runs})
        diffs = compare_replay(ours_replay, payload["result"])
        agreement = "same numbers" if not diffs else "DIFFERENT: " + "; ".join(diffs[:5])
        if diffs:
            checks.append("pandas replay differs from ours: " + "; ".join(diffs[:5]))
        record("pandas_replay", payload["runs"], rss, check=agreement,
               note="rules and figures only, given our draws")
        log(f"  {'pandas replay vs ours':<42} {agreement}")

    shutil.rmtree(scratch, ignore_errors=True)
    return {
        "size": size, "seed": seed, "runs": runs, "measured_at": _now(), "machine": machine(),
        "versions": versions(), "steps": steps, "ratios": ratios(steps), "problems": checks,
        # The machine is shared: the load around the run says how much the figures may be disturbed.
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


def _median_run(times: list[float], phases: list[dict]) -> dict:
    """The phase breakdown of the run whose time is the median."""
    order = sorted(range(len(times)), key=times.__getitem__)
    return {k: round(v, 4) for k, v in phases[order[len(order) // 2]].items()}


def ratios(steps: dict) -> dict:
    def median(name):
        s = steps.get(name, {})
        return None if "skipped" in s or "median" not in s else s["median"]

    def div(a, b):
        return None if a is None or b is None or b == 0 else a / b

    return {
        # Import throughput as a share of DuckDB's raw read of the same bytes (target >= 0.6).
        "import_vs_raw": div(median("raw_read_csv"), median("import_csv")),
        # The most any import that checks its rows could reach: the same rows stored unchecked.
        "floor_vs_raw": div(median("raw_read_csv"), median("store_floor")),
        # How many times faster than the pandas reference (target >= 3 at 10M): like for like (both read
        # the data set from DuckDB on each call), and against pandas with its frames already in memory.
        "pandas_vs_ours_report": div(median("pandas_report"), median("report_warm")),
        "pandas_in_memory_vs_ours_report": div(median("pandas_report_compute"), median("report_warm")),
        # ... and both with their frames in memory (the dashboard keeps a data set's orders).
        "pandas_in_memory_vs_ours_resident": div(median("pandas_report_compute"), median("report_resident")),
        "pandas_vs_ours_replay": div(median("pandas_replay"), median("whatif_replay")),
    }


# ---------------------------------------------------------------------------------------------------
# Where and with what

def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def available_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return None


def machine() -> dict:
    mem_kb = 0
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cores": os.cpu_count(), "memory_gb": round(mem_kb / 1024 / 1024, 1), "cpu": cpu,
            "os": f"{platform.system()} {platform.release()}"}


def versions() -> dict:
    found = {"python": platform.python_version()}
    for package in ("polars", "duckdb", "numpy", "pandas", "pyarrow"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "absent"
    try:
        found["commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                         text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        found["commit"] = "unknown"
    return found


# ---------------------------------------------------------------------------------------------------
# Targets (issue 6): measured against, never asserted

TARGETS = (
    # (size, what, measure, limit, direction)
    (1_000_000, "report warm", ("step", "report_warm"), 0.3, "below"),
    (1_000_000, "one replay", ("step", "whatif_replay"), 0.3, "below"),
    (1_000_000, "simulate with intervals", ("step", "whatif_simulate"), 2.0, "below"),
    (10_000_000, "report warm", ("step", "report_warm"), 2.0, "below"),
    (10_000_000, "one replay", ("step", "whatif_replay"), 2.0, "below"),
    (10_000_000, "generate", ("step", "generate"), 60.0, "below"),
    # A replay's memory is that of a process replaying on the store the import built (whatif_replay's process
    # also builds the store: its peak is the import's, in the "build the store" row).
    (10_000_000, "peak RSS report + replay (GB, summed)", ("memory", ("report_warm", "whatif_replay_stored")), 8.0,
     "below"),
    (None, "import throughput / DuckDB raw read_csv", ("ratio", "import_vs_raw"), 0.6, "above"),
    (10_000_000, "pandas time / ours, report", ("ratio", "pandas_vs_ours_report"), 3.0, "above"),
    (10_000_000, "pandas in memory / ours, report", ("ratio", "pandas_in_memory_vs_ours_report"), 3.0, "above"),
    (10_000_000, "pandas time / ours, replay", ("ratio", "pandas_vs_ours_replay"), 3.0, "above"),
    # The later, harder targets: ten million orders at the speed of thought.
    (10_000_000, "report, orders in memory, slowest page filter (later target)", ("slowest", "report_resident"),
     0.5, "below"),
    (10_000_000, "pandas in memory / ours in memory, report (later target)",
     ("ratio", "pandas_in_memory_vs_ours_resident"), 5.0, "above"),
    (1_000_000, "what-if first open, engine", ("step", "whatif_open"), 2.0, "below"),
    (10_000_000, "what-if first open, engine", ("step", "whatif_open"), 5.0, "below"),
    (10_000_000, "peak RSS report + replay (GB, summed; later target)",
     ("memory", ("report_warm", "whatif_replay_stored")), 3.0, "below"),
    (None, "import throughput / DuckDB raw read_csv (later target)", ("ratio", "import_vs_raw"), 0.8, "above"),
)


# The steps whose breakdown explains a target's figure.
EXPLAINED_BY = {"import_vs_raw": ("import_csv",), "generate": ("generate",), "report_warm": ("report_warm",),
                "whatif_replay": ("whatif_replay",), "whatif_simulate": ("whatif_replay",), "whatif_open": (),
                "pandas_vs_ours_report": ("report_warm",), "pandas_in_memory_vs_ours_report": ("report_warm",),
                "report_resident": ("report_resident",), "pandas_in_memory_vs_ours_resident": ("report_resident",),
                "pandas_vs_ours_replay": ("whatif_replay",)}


def target_rows(results: dict) -> list[dict]:
    """One row per target and size: the measured value, and whether it was met (None: not measured)."""
    rows = []
    for size, what, (kind, name), limit, direction in TARGETS:
        sizes = [size] if size else sorted(int(s) for s in results)
        for n in sizes:
            entry = results.get(str(n))
            unit = {"step": "s", "slowest": "s", "ratio": "x", "memory": "GB"}[kind]
            row = {"size": n, "what": what, "name": name if isinstance(name, str) else "+".join(name),
                   "goal": f"{'<' if direction == 'below' else '>='} {limit:g}{unit}", "unit": unit,
                   "limit": limit, "value": None, "met": None, "gap": None, "why": "not measured"}
            if entry is not None:
                if kind in ("step", "slowest"):
                    step = entry["steps"].get(name, {})
                    value, why = step.get("median" if kind == "step" else "max"), step.get("skipped")
                elif kind == "memory":
                    parts = [entry["steps"].get(n_, {}) for n_ in name]
                    missing = [p.get("skipped", "not run") for p in parts if "peak_rss_mb" not in p]
                    value = None if missing else sum(p["peak_rss_mb"] for p in parts) / GB
                    why = missing[0] if missing else None
                else:
                    value = entry["ratios"].get(name)
                    why = "a step it needs was skipped" if value is None else None
                if value is not None:
                    met = value < limit if direction == "below" else value >= limit
                    row.update(value=value, met=met, why=None,
                               gap=value / limit if direction == "below" else limit / value)
                else:
                    row["why"] = f"not measured ({why})"
            rows.append(row)
    return rows


def headline(results: dict) -> list[str]:
    """One line per target: the measured value, met or missed and by how much."""
    lines = []
    for r in target_rows(results):
        head = f"{r['size']:>12,}  {r['what']:<40} {r['goal']:<8}"
        if r["value"] is None:
            lines.append(f"{head} {r['why']}")
        else:
            verdict = "met" if r["met"] else f"MISSED by {r['gap']:.1f}x"
            lines.append(f"{head} {r['value']:9.3f}{r['unit']}  {verdict}")
    return lines


def missed_notes(results: dict) -> list[str]:
    """For each missed target, where the time goes: the phases or profile of the step behind it."""
    notes = []
    for r in target_rows(results):
        if r["met"] is not False:
            continue
        entry = results[str(r["size"])]
        parts = []
        for step_name in EXPLAINED_BY.get(r["name"], ()):
            step = entry["steps"].get(step_name, {})
            if step.get("phases"):
                total = sum(step["phases"].values()) or 1
                top = sorted(step["phases"].items(), key=lambda kv: kv[1], reverse=True)[:3]
                parts.append(f"{step['label']}: " + ", ".join(f"{k} {v / total:.0%}" for k, v in top))
            elif step.get("profile"):
                top = list(step["profile"].items())[:3]
                parts.append(f"{step['label']}: " + ", ".join(f"`{k}` {v:.2f} s" for k, v in top))
        if r["unit"] == "GB":   # a sum of steps' peaks: each step's share
            steps = [entry["steps"][n] for n in r["name"].split("+")]
            where, what = "; ".join(f"{st['label']} {st['peak_rss_mb'] / GB:.2f} GB" for st in steps), "memory"
        else:
            where, what = "; ".join(parts) or "see the step's row above", "time"
        floor = entry.get("ratios", {}).get("floor_vs_raw") if r["name"] == "import_vs_raw" else None
        if floor is not None:
            where += f". {_floor_note(floor, r['limit'])}"
        notes.append(f"- {r['what']} at {r['size']:,} orders: {r['value']:.3f}{r['unit']} against {r['goal']}, "
                     f"missed by {r['gap']:.1f}x. Where the {what} goes: {where}.")
    return notes


def _floor_note(floor: float, limit: float) -> str:
    """What the floor (the rows stored unchecked, at `floor` times the raw read's throughput) leaves the
    checks of an import that is to reach `limit`: at most 1 - limit / floor of its time."""
    said = f"The floor under it: the same rows stored unchecked in the product's tables reach {floor:.3f}x"
    if floor <= limit:
        return f"{said}, so no import that checks its rows can reach {limit:g}x here"
    return f"{said}, so to reach {limit:g}x checking every row would have to take under {1 - limit / floor:.0%} of the import"


# ---------------------------------------------------------------------------------------------------
# BENCHMARKS.md

def _fmt_s(x: float) -> str:
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


INTERVALS = ROOT / "bench" / "whatif_intervals.json"


def intervals_section(path: Path = INTERVALS) -> list[str]:
    """What the what-if intervals cost (bench/whatif_intervals.py writes the figures), and why they are
    made the way they are."""
    out = [
        "## What-if intervals: how they are made and what they cost",
        "",
        "Each figure carries two 95% intervals: a new period like this one (the orders resampled by Poisson",
        "bootstrap weights, the fitted parameters drawn from their uncertainty, the replay's draws) and these",
        "same orders (parameters and draws only). They are normal prediction intervals from the replicates'",
        "standard deviations with Student's t on R - 1 degrees of freedom, not percentiles of the replicates:",
        "the figures are sums over many orders, hence near normal, and the 2.5-97.5 percentiles of 10",
        "replicates are nearly their min and max. The t factor pays for the few replicates (2.26 at 10, 2.09",
        "at 20: intervals about 8% wider at 10), so the default stays at 10 replicates, which costs half the",
        "time of 20 on a control change. The bootstrap adds one weighted tally per replicate, made in the same",
        "pass as the plain one; the weights of the orders no policy changes are tallied once per replicate and",
        "kept. VALIDATION.md shows the coverage at 10 replicates. The load average below says how busy the",
        "shared machine was: times grow with it.",
        "",
    ]
    if not path.exists():
        return out + ["Not measured yet: `.venv/bin/python -m bench.whatif_intervals`.", ""]
    m = json.loads(path.read_text())
    out += [
        f"Measured {m['measured_at']} by `.venv/bin/python -m bench.whatif_intervals` on {m['orders']:,} orders, "
        f"{m['cores']} cores; load average (1 min) {m['load_average'][0]:.1f} before, {m['load_average'][1]:.1f} "
        "after, on a machine shared with other work. A control change: simulate with the baseline remembered "
        "(the page's case), median of five policies; the dispatch deadline widens the replay to every order.",
        "",
        "| replicates | first simulate s | a control change s (median) | slowest change s | dispatch-deadline change s |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    out += [f"| {r['replicates']} | {r['first_s']:.3f} | {r['change_median_s']:.3f} | {r['change_max_s']:.3f} | "
            f"{r['dispatch_change_s']:.3f} |" for r in m["rows"]]
    return out + whatif_browser_lines(path.parent / "browser_whatif.json") + [""]


def whatif_browser_lines(browser: Path) -> list[str]:
    """A What-if control's change in Chromium (bench/browser_whatif.py), and the parts of its time."""
    out: list[str] = []
    if browser.exists():
        b = json.loads(browser.read_text())
        out += ["", f"In Chromium (`.venv/bin/python bench/browser_whatif.py`, measured {b['measured_at']}, "
                    f"{b['replicates']} replicates, load average {b['load_average']:.1f}): from typing a new seller's "
                    "response window to its figures on screen, both intervals included; beside it, a value seen "
                    "before (the page's run and the browser's drawing, no replay) and the engine alone (the same "
                    "values replayed in process as the page replays them).", "",
                "| orders | first open s | a new value s (median) | slowest s | a value seen before s | "
                "the engine alone s (median) | its slowest s |",
                "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        out += [f"| {r['orders']:,} | {r['first_open_s']:.2f} | {r['change_median_s']:.2f} | {r['change_max_s']:.2f} | "
                f"{r['cached_s']:.2f} | {_or_dash(r.get('engine_median_s'))} | {_or_dash(r.get('engine_max_s'))} |"
                for r in b["rows"]]
        split = [r for r in b["rows"] if r.get("where")]
        if split:
            out += ["", "Where a new value's time goes (medians; as for the pages below): "
                    + "; ".join(f"{r['orders']:,} orders: the server's answer, from the page's message out to its "
                                f"last message in, {r['where']['server']:.2f} s (the server's CPU in the step "
                                f"{r['where']['server_cpu']:.2f} s: the replicates' replays run on both cores), the "
                                f"browser's own work around it {r['where']['browser']:.2f} s" for r in split) + "."]
        if b.get("floor_s") is not None:
            out += ["", f"The floor under every change, in the same run: the same value typed on a bare Streamlit "
                        f"page (a number input in a fragment and a caption, `bench/bare_whatif.py`) took "
                        f"{b['floor_s']:.2f} s (median of {len(b['floor_runs'])} changes, "
                        f"{min(b['floor_runs']):.2f} to {max(b['floor_runs']):.2f} s)."]
        out += _whatif_change_target(b)
    return out


# A What-if control's change at 1M orders, new figures on screen in Chromium (issue 16's target).
WHATIF_CHANGE_TARGET = (1_000_000, 0.3)


def _whatif_change_target(b: dict) -> list[str]:
    """The target's verdict, and, when missed, what its parts add up to (the page with no replay, the engine
    alone, the floor), measured in the same run."""
    orders, limit = WHATIF_CHANGE_TARGET
    row = next((r for r in b["rows"] if r["orders"] == orders), None)
    if row is None:
        return []
    value = row["change_median_s"]
    line = (f"Target: a new value at {orders:,} orders on screen in under {limit:g} s: "
            + ("met" if value < limit else f"missed ({value:.2f} s, by {value / limit:.1f}x)") + ".")
    if value >= limit and row.get("engine_median_s") is not None and b.get("floor_s") is not None:
        line += (f" Its parts, measured apart: the page's run and the browser's drawing with nothing to replay "
                 f"{row['cached_s']:.2f} s (of which a bare page's round trip {b['floor_s']:.2f} s), and the engine "
                 f"alone {row['engine_median_s']:.2f} s on both cores; they add up to "
                 f"{row['cached_s'] + row['engine_median_s']:.2f} s before the two share the machine's 2 cores "
                 "(the browser draws the controls while the replicates replay).")
    return ["", line]


def _or_dash(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds:.2f}"


PAGES = ROOT / "bench" / "browser_pages.json"


def pages_section(path: Path = PAGES) -> list[str]:
    """Each page's first render, a page switch and a filter change in Chromium (bench/browser_pages.py)."""
    from bench import browser_pages

    out = ["## In the browser: a page's first render, a switch, a filter", "",
           "Written by `.venv/bin/python bench/browser_pages.py` (its docstring says what each time covers): a",
           "server started and warmed by one visit of the Overview under a filter (the data set's orders are then",
           "in its memory; that first visit's time is the warm-up column), then each page opened by its link in",
           "a new tab (no filter in the first run, a later first day in the others), so the server computes its",
           "figures for the first time; the What-if page's first open is that of a server that never opened the",
           "data set's engine (the data set stored as an import stores it; measured once). The browser and the",
           "server share the machine's 2 cores. Each time is the median of its runs, every run on a view of its",
           "own (no figure cached); the targets give the runs' range.", ""]
    if not path.exists():
        return out + ["Not measured yet.", ""]
    m = json.loads(path.read_text())
    titles = [t for t, _, _ in browser_pages.PAGES]
    runs = {r.get("runs", 1) for r in m["rows"]}
    out += [f"Measured {m['measured_at']}; load average (1 min) {m['load_average'][0]:.1f} before, "
            f"{m['load_average'][1]:.1f} after; {'/'.join(map(str, sorted(runs)))} run(s) of each step.", "",
            "| orders | warm-up s | " + " | ".join(f"{t} first s" for t in titles) + " | " +
            " | ".join(f"switch to {t} s" for t in browser_pages.SWITCHES) + " | filter s |",
            "| ---: " * (2 + len(titles) + len(browser_pages.SWITCHES) + 1) + "|"]
    for r in m["rows"]:
        out.append(f"| {r['orders']:,} | {r['warm_up']:.2f} | " + " | ".join(f"{r['first_render'][t]:.2f}" for t in titles) + " | "
                   + " | ".join(f"{r['switch'][t]:.2f}" for t in browser_pages.SWITCHES) + f" | {r['filter']:.2f} |")
    if "floor" in m:
        f = m["floor"]
        out += ["", f"The floor under every first render, in the same run: a bare Streamlit page (a title and one "
                    f"tile, `bench/bare_page.py`) opened the same way took {f['median']:.2f} s (median of "
                    f"{len(f['runs'])} runs, {min(f['runs']):.2f}-{max(f['runs']):.2f}). It is Streamlit's own "
                    f"work and this machine's, the same on every page."]
    where = browser_pages.where_lines(m["rows"], m.get("floor"))
    if where:
        out += ["", "Where the time goes, from the page's messages with the server (Chromium's DevTools protocol) "
                    "and the server process's CPU seconds (medians of every page's runs). The server's answer runs "
                    "from the step's first message out to its last message in. Chromium takes a socket's messages "
                    "only as fast as the page handles them, so that span is the browser's as much as the server's; "
                    "the server's CPU says what the server itself did. The browser draws while the messages arrive "
                    "and goes on after the last.", "",
                *where]
    out += ["", "Targets (with the server warm):", "", "```", *browser_pages.summary(m["rows"]), "```", ""]
    return out


FRONTIER = ROOT / "bench" / "frontier.json"


def frontier_section(path: Path = FRONTIER) -> list[str]:
    """Grid size against time for the policy frontier (bench/frontier.py writes the figures)."""
    out = [
        "## Policy frontier: grid size against time",
        "",
        "`python -m analytics frontier` and the What-if page's frontier replay every policy of a grid with the",
        "default 10 replicates, with common random numbers (each replicate's draws, fitted parameters and",
        "bootstrap weights made once and shared by every policy). Policies that differ only in the request",
        "rule (consent, response window, timeout action, never-answer share) share the replay of everything",
        "that rule cannot change: their request-free twin is replayed over every order once per replicate, and",
        "each of them only over the orders with a request made awaiting shipment that it does not settle as",
        "the twin does (answered, or shipped, within both windows); the tallies add up. On a large grid the",
        "replicates are shared out between forked processes, one per core. The figures are the ones each",
        "policy gets replayed alone (tests/test_grid_replay.py).",
        "",
        "The grids vary 3 levers: the response window (12 to 168 hours), what its running out does, and the",
        "dispatch deadline (2 to 15 working days) with auto-cancel on late dispatch held (the dearer case: the",
        "deadline widens the replay to the orders it makes late); the current and the data set's own policies",
        "are replayed too. Target (issue 15): 200 policies at 1,000,000 orders within 60 s. CPU s: this",
        "process's and its workers' CPU time, which the load of the shared machine moves far less than the",
        "wall time. First points: when the page draws its first points. Before the replays were shared",
        "(measured 2026-12-02 08:56 UTC, one process, load average 2.8 before and 8.3 after), 200 policies at",
        "1,000,000 orders took 397.5 s.",
        "",
    ]
    if not path.exists():
        return out + ["Not measured yet: `.venv/bin/python -m bench.frontier`.", ""]
    for orders, m in sorted(json.loads(path.read_text()).items(), key=lambda kv: int(kv[0])):
        out += [f"{int(orders):,} orders, measured {m['measured_at']} by `.venv/bin/python -m bench.frontier "
                f"--orders {int(orders)}`, {m['cores']} cores; load average (1 min) {m['load_average'][0]:.1f} before, "
                f"{m['load_average'][1]:.1f} after, on a machine shared with other work (loading and fitting the "
                f"data set first: {m['prepare_s']:.1f} s).", "",
                "| policies in the grid | policies replayed | replicates | processes | seconds | CPU s "
                "| s per policy | first points (s) | target |",
                "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"]
        for r in m["rows"]:
            target = ""
            if int(orders) == 1_000_000 and r["grid"] == 200:
                target = "met" if r["seconds"] <= 60 else f"MISSED by {r['seconds'] / 60:.1f}x"
            cpu = f"{r['cpu_s']:.1f}" if "cpu_s" in r else ""
            out.append(f"| {r['grid']} | {r['policies']} | {r['replicates']} | {r.get('workers', 1)} | "
                       f"{r['seconds']:.1f} | {cpu} | {r['seconds'] / r['policies']:.2f} | "
                       f"{r['first_points']} after {r['first_points_s']:.1f} | {target} |")
        out.append("")
    if "10000000" not in json.loads(path.read_text()):
        out += ["Not measured at 10,000,000 orders yet (`.venv/bin/python -m bench.frontier --orders 10000000`).", ""]
    return out


def markdown(results: dict) -> str:
    out = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m bench`); edit the harness, not this file. Each step runs in its",
        "own process; times are the median of the runs with min and max, and count the work only (a cold",
        "report counts the whole new process). Peak RSS is the step's process at its highest. Throughput",
        "divides the CSV's bytes and rows by the median time.",
        "",
    ]
    for size in sorted(results, key=int):
        entry = results[size]
        m, v = entry["machine"], entry["versions"]
        out += [
            f"## {int(size):,} orders",
            "",
            f"Measured {entry['measured_at']}, seed {entry['seed']}, {entry['runs']} runs per step; "
            f"{m['cores']} cores, {m['memory_gb']} GB memory ({m['cpu']}, {m['os']}); "
            f"Python {v['python']}, Polars {v['polars']}, DuckDB {v['duckdb']}, NumPy {v['numpy']}, "
            f"pandas {v['pandas']}; commit {v['commit']}."
            + (f" Load average (1 min) {entry['load_average'][0]:.1f} before, {entry['load_average'][1]:.1f} after "
               "on a machine shared with other work." if "load_average" in entry else ""),
            "",
            "| step | median s | min s | max s | throughput | peak RSS MB | note |",
            "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        for name, s in entry["steps"].items():
            if "skipped" in s:
                out.append(f"| {s['label']} | | | | | | skipped: {s['skipped']} |")
                continue
            rate = ""
            if "mb_per_s" in s:
                rate = f"{s['mb_per_s']:.0f} MB/s, {s['rows_per_s'] / 1e6:.2f} M rows/s"
            elif "rows_per_s" in s:
                rate = f"{s['rows_per_s'] / 1e6:.2f} M rows/s"
            note = []
            if "bytes" in s and name == "csv_write":
                note.append(f"{s['bytes'] / 1e6:,.1f} MB file")
            if "note" in s:
                note.append(s["note"])
            if "check" in s:
                note.append(s["check"])
            out.append(f"| {s['label']} | {_fmt_s(s['median'])} | {_fmt_s(s['min'])} | {_fmt_s(s['max'])} | "
                       f"{rate} | {s['peak_rss_mb']:,.0f} | {'; '.join(note)} |")
        r = entry["ratios"]
        for s in entry["steps"].values():
            if s.get("phases"):
                total = sum(s["phases"].values()) or 1
                shown = ", ".join(f"{k} {v:.2f} s ({v / total:.0%})" for k, v in s["phases"].items())
                out += ["", f"Where the time goes, {s['label']} (median run): {shown}."]
            if s.get("profile"):
                shown = ", ".join(f"`{k}` {v:.3f} s" for k, v in s["profile"].items())
                out += ["", f"Profile of one more call, {s['label']} (cProfile, most self time first): {shown}."]
        out.append("")
        parts = []
        if r.get("import_vs_raw") is not None:
            parts.append(f"import throughput is {r['import_vs_raw']:.0%} of DuckDB's raw read_csv")
        if r.get("floor_vs_raw") is not None:
            parts.append(f"the same rows stored unchecked in the product's tables (the floor under any import) "
                         f"reach {r['floor_vs_raw']:.0%} of it")
        if r.get("pandas_vs_ours_report") is not None:
            parts.append(f"pandas takes {r['pandas_vs_ours_report']:.2f}x our warm report's time reading from "
                         "DuckDB as ours does")
        if r.get("pandas_in_memory_vs_ours_report") is not None:
            parts.append(f"{r['pandas_in_memory_vs_ours_report']:.2f}x with its frames already in memory")
        if r.get("pandas_vs_ours_replay") is not None:
            parts.append(f"the pandas replay takes {r['pandas_vs_ours_replay']:.2f}x our replay's time")
        if parts:
            out.append("Ratios: " + "; ".join(parts) + ".")
        if entry.get("problems"):
            out.append("")
            out += [f"- PROBLEM: {p}" for p in entry["problems"]]
        out.append("")
    out += intervals_section()
    out += pages_section()
    out += frontier_section()
    from bench import spark  # its own section, from its own results file (`python -m bench.spark`)

    out += spark.section()
    out += ["## Targets (issue 6)", "", "```", *headline(results), "```", ""]
    notes = missed_notes(results)
    if notes:
        out += ["Missed targets:", "", *notes, ""]
    from bench import load  # its own section, from its own results file (`python -m bench.load`)

    out += load.stored_section()
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------------
# The command

def parse_sizes(text: str) -> list[int]:
    sizes = [int(s.replace("_", "")) for s in text.split(",") if s.strip()]
    if not sizes or any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError("sizes are positive numbers of orders, comma separated")
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=parse_sizes, default=list(SIZES),
                        help="comma-separated numbers of orders (default 100000,1000000,10000000)")
    parser.add_argument("--runs", type=int, default=3, help="runs per step; the median is reported (default 3)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="generated data cache (default data/bench)")
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS, help="accumulated results (JSON)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the Markdown report (default BENCHMARKS.md)")
    parser.add_argument("--force", action="store_true", help="run a size even when free memory looks too small")
    parser.add_argument("--render-only", action="store_true",
                        help="rewrite the report from the stored results without measuring")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    results = json.loads(args.results.read_text()) if args.results.exists() else {}
    if args.render_only:
        args.out.write_text(markdown(results))
        print(f"wrote {args.out}")
        return 0
    problems = []
    for size in args.sizes:
        need, free = 0.5 + GB_PER_MILLION_ORDERS * size / 1e6, available_gb()
        if free is not None and free < need and not args.force:
            print(f"{size:,} orders: skipped, it needs about {need:.1f} GB and {free:.1f} GB is free "
                  "(--force runs it anyway)", file=sys.stderr)
            problems.append(f"{size:,}: not run, too little free memory")
            continue
        print(f"{size:,} orders (seed {args.seed}, {args.runs} runs per step)", flush=True)
        try:
            entry = bench_size(size, args.seed, args.runs, args.cache, log=lambda line: print(line, flush=True))
        except StepFailed as e:
            print(f"  FAILED: {e}", file=sys.stderr)
            return 1
        results[str(size)] = entry
        problems += [f"{size:,}: {p}" for p in entry["problems"]]
        args.results.parent.mkdir(parents=True, exist_ok=True)
        args.results.write_text(json.dumps(results, indent=1) + "\n")
        args.out.write_text(markdown(results))
    print(f"\nwrote {args.out} and {args.results}")
    for p in problems:
        print(f"PROBLEM {p}")
    print("\nHeadline (targets from issue 6, measured on this machine):")
    for line in headline(results):
        print(line)
    return 1 if problems else 0
