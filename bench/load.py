"""Many analysts at once: N browser sessions through the same script of clicks against one server.

    .venv/bin/python -m bench.load [--sizes demo,1000000] [--sessions 1,4,8] [--rounds 3]
    .venv/bin/python -m bench.load --sizes demo --sessions 4 --soak-minutes 20     # memory over time
    .venv/bin/python -m bench.load --sessions 1 --note "A/B pair 1: after"          # kept beside the others

For each size it starts the dashboard (serve.py, as `make run`) on its own database (generated once
under data/bench/), then opens N browser contexts of one headless Chromium at the same moment. Each
session goes through the script below `rounds` times (a soak: again and again until the time is up):

    open          the Overview from a link (a new page load and session run)
    page          the sidebar link to Reasons
    filter        a payment method picked in the sidebar's filter (the session's own pick each round)
    whatif_page   the sidebar link to What-if
    whatif_change a new seller's response window typed in (a value no other step used: a new replay)

A step's time runs from the click (or the page load) to the page showing its result with the script
run over. One unmeasured pass of the script goes first, so the figures are those of a server that has
loaded the data set once. Recorded: each step's p50 and p95 over the sessions and rounds, the errors
(an error box on the page, a step that did not finish in time, an exception in the server's log), the
server process's CPU seconds (utime + stime from /proc/<pid>/stat) per step, and its peak RSS
(VmHWM). With one session the CPU is also split by step. The browsers run on the same machine as the
server, so the times depend on the cores they share; server CPU per step does not.

Writes bench/load_results.json and the "Many analysts at once" section of BENCHMARKS.md (the harness
keeps that section when it rewrites the file).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]   # run as a script: the repository's packages

from bench import browser as bs  # noqa: E402
from bench.browser import TICK, cpu_seconds, cpu_ticks  # noqa: E402
from bench.browser_whatif import database  # noqa: E402

RESULTS = ROOT / "bench" / "load_results.json"
OUT = ROOT / "BENCHMARKS.md"
SECTION = "## Many analysts at once"
STEPS = {
    "open": "open the Overview from a link",
    "page": "sidebar link to Reasons",
    "filter": "pick a payment method in the filter",
    "whatif_page": "sidebar link to What-if",
    "whatif_change": "type a new response window",
}
STEP_TIMEOUT_MS = 180_000
ERROR_BOX = '[data-testid="stException"], [data-testid="stAlertContentError"]'
LOG_ERROR = re.compile(r"Traceback|partially initialized", re.IGNORECASE)


# --- the server process, from /proc ----------------------------------------------------------------------

def browser_cpu_seconds() -> float:
    """CPU seconds used so far by every Chromium process on the machine (browser, renderers, GPU and
    utility processes), counting those already gone through their parents' cutime and cstime. The
    benchmark's browsers are the only Chromium running while it runs; this is the browsers' share of
    the two cores, beside the server's (cpu_seconds)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            if "chromium" not in (stat.parent / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace"):
                continue
        except OSError:
            continue
        total += cpu_ticks(text, children=True)
    return total / TICK


def memory_mb(pid: int) -> dict[str, float]:
    """The process's resident memory now (VmRSS) and at its highest (VmHWM), in MB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return out


CACHE_BYTES = re.compile(r'^cache_memory_bytes\{cache_type="([^"]*)",cache="([^"]*)"\} (\d+)$', re.MULTILINE)


def caches_mb(url: str) -> float | None:
    """MB held by the server's caches, from its metrics (GET /_stcore/metrics: Streamlit's caches and the
    dashboard's own, ui/server_stats.py), or None when they cannot be read."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/metrics", timeout=10) as response:
            text = response.read().decode("utf-8")
    except OSError:
        return None
    return sum(int(size) for _, _, size in CACHE_BYTES.findall(text)) / 1024 / 1024


class Sampler:
    """The server's RSS every `every` seconds, in a thread, for a curve of memory over time; with `url`,
    also what its caches hold (caches_mb)."""

    def __init__(self, pid: int, every: float, url: str | None = None):
        self.pid, self.every, self.url, self.points = pid, every, url, []
        self._stop = threading.Event()
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            point = (time.monotonic() - self._started, memory_mb(self.pid)["VmRSS"])
            self.points.append((*point, caches_mb(self.url)) if self.url else point)
            self._stop.wait(self.every)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


# --- one session's script ---------------------------------------------------------------------------

async def _done(page, condition: str, arg=None) -> float:
    """The moment `condition` held with the script run over, and still did a moment later (the last
    deltas land just after a run ends): bs.settled_at_async."""
    return await bs.settled_at_async(page, condition, arg, STEP_TIMEOUT_MS)


def _title_is(label: str) -> str:
    return f"document.querySelector('h1') && document.querySelector('h1').innerText === {json.dumps(label)}"


class Recorder:
    def __init__(self, pid: int, split_cpu: bool):
        self.pid, self.split_cpu = pid, split_cpu
        self.times: dict[str, list[float]] = {k: [] for k in STEPS}
        self.errors: dict[str, list[str]] = {k: [] for k in STEPS}
        self.cpu: dict[str, list[float]] = {k: [] for k in STEPS}
        self.browser_cpu: dict[str, list[float]] = {k: [] for k in STEPS}
        self.when: list[tuple[float, str, float]] = []   # (seconds since start, step, time): for a soak
        self.started = time.monotonic()

    async def step(self, name: str, page, action, condition: str, arg=None) -> bool:
        cpu, browser_cpu = cpu_seconds(self.pid), browser_cpu_seconds() if self.split_cpu else 0.0
        started = time.perf_counter()
        try:
            await action()
            took = await _done(page, condition, arg) - started
        except Exception as e:  # noqa: BLE001 - a step that fails is counted, and the session goes on
            self.errors[name].append(f"{type(e).__name__}: {str(e).splitlines()[0][:160]}")
            return False
        if self.split_cpu:
            self.cpu[name].append(cpu_seconds(self.pid) - cpu)
            self.browser_cpu[name].append(browser_cpu_seconds() - browser_cpu)
        self.times[name].append(took)
        self.when.append((time.monotonic() - self.started, name, took))
        shown = await page.locator(ERROR_BOX).all_inner_texts()
        self.errors[name] += [f"error box: {t[:160]}" for t in shown]
        return True


async def run_script(page, base: str, dataset: str, session: int, rnd: int, rec: Recorder) -> None:
    """The script of steps, once. `session` and `rnd` choose this pass's filter pick and window value."""
    async def open_link():
        await page.goto(f"{base}/?dataset={dataset}", wait_until="commit")

    def link(label: str):
        async def click():
            await page.locator('[data-testid="stSidebar"] [data-testid="stPageLink"] a', has_text=label).click()
        return click

    async def pick_method():
        box = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').first
        await box.click()
        for _ in range((session + rnd) % 4):
            await page.keyboard.press("ArrowDown")
        await page.keyboard.press("Enter")
        await page.keyboard.press("Escape")

    hours = 100 + 20 * session + rnd   # new to the server: its replay is not cached
    box = page.get_by_role("spinbutton", name="Seller's response window")

    async def type_window():
        await box.fill(str(hours))
        await box.press("Enter")

    if not await rec.step("open", page, open_link, "document.querySelector('[data-testid=\"stMetricValue\"]')"):
        return
    if not await rec.step("page", page, link("Reasons"), _title_is("Reasons")):
        return
    await rec.step("filter", page, pick_method, "location.search.includes('payment=')")
    if not await rec.step("whatif_page", page, link("What-if"), _title_is("What-if")):
        return
    await rec.step("whatif_change", page, type_window,
                   "new RegExp('[?&]seller_response_hours=' + arg + '(&|$)').test(location.search)", str(hours))


async def _sessions(base: str, dataset: str, n: int, rounds: int, until: float | None, rec: Recorder) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(bs.CHROMIUM), args=bs.CHROMIUM_ARGS)
        try:
            warm = Recorder(rec.pid, False)
            page = await (await browser.new_context(viewport={"width": 1300, "height": 1400})).new_page()
            await run_script(page, base, dataset, session=99, rnd=0, rec=warm)   # unmeasured first pass
            await page.context.close()
            if any(warm.errors.values()):
                rec.errors["open"].append(f"the unmeasured first pass failed: {warm.errors}")
            rec.cpu_start, rec.browser_cpu_start = cpu_seconds(rec.pid), browser_cpu_seconds()
            rec.started = time.monotonic()

            async def one(i: int):
                context = await browser.new_context(viewport={"width": 1300, "height": 1400})
                page = await context.new_page()
                r = 0
                while r < rounds if until is None else time.monotonic() < until:
                    await run_script(page, base, dataset, i, r, rec)
                    r += 1
                return context

            contexts = await asyncio.gather(*(one(i) for i in range(n)))
            # Read before the contexts close: a closed context's renderer goes, and its CPU with it.
            rec.cpu_end, rec.browser_cpu_end = cpu_seconds(rec.pid), browser_cpu_seconds()
            for context in contexts:
                await context.close()
        finally:
            await browser.close()


# --- measuring -----------------------------------------------------------------------------------------

def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def measure(orders: int, seed: int, sessions: int, rounds: int, soak_minutes: float | None, log_dir: Path) -> dict:
    path, dataset = database(orders, seed)
    log = log_dir / f"load_{orders}_{sessions}.log"
    with bs.app_server(path, log) as server:
        pid = server.proc.pid
        rss_start = memory_mb(pid)["VmRSS"]
        rec = Recorder(pid, split_cpu=sessions == 1)
        until = time.monotonic() + soak_minutes * 60 if soak_minutes else None
        with Sampler(pid, every=10 if soak_minutes else 1, url=server.url if soak_minutes else None) as sampler:
            wall = time.perf_counter()
            asyncio.run(_sessions(server.url, dataset, sessions, rounds, until, rec))
            wall = time.perf_counter() - wall
        mem = memory_mb(pid)
        log_errors = [line for line in server.log_text().splitlines() if LOG_ERROR.search(line)]
    done = sum(len(t) for t in rec.times.values())
    steps = {}
    for name in STEPS:
        t = rec.times[name]
        steps[name] = {"n": len(t), "p50": _pct(t, 50), "p95": _pct(t, 95), "max": max(t) if t else None,
                       "errors": len(rec.errors[name]), "error_examples": rec.errors[name][:3],
                       "cpu_s": statistics.mean(rec.cpu[name]) if rec.cpu[name] else None,
                       "browser_cpu_s": (statistics.mean(rec.browser_cpu[name])
                                         if rec.browser_cpu[name] else None)}
    return {
        "orders": orders, "sessions": sessions, "rounds": rounds, "soak_minutes": soak_minutes,
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "commit": _commit(),
        "steps": steps, "steps_done": done, "errors": sum(len(e) for e in rec.errors.values()) + len(log_errors),
        "log_errors": log_errors[:5], "wall_s": wall,
        "server_cpu_s": rec.cpu_end - rec.cpu_start,
        "cpu_per_step": (rec.cpu_end - rec.cpu_start) / done if done else None,
        "browser_cpu_per_step": (rec.browser_cpu_end - rec.browser_cpu_start) / done if done else None,
        "rss_start_mb": rss_start, "rss_end_mb": mem["VmRSS"], "peak_rss_mb": mem["VmHWM"],
        "rss_curve": [(round(t, 1), round(mb, 1)) for t, mb, *_ in sampler.points],
        "cache_curve": [(round(t, 1), round(c[0], 1)) for t, _, *c in sampler.points if c and c[0] is not None],
        "step_times": [(round(t, 1), name, round(took, 3)) for t, name, took in rec.when] if soak_minutes else [],
        "load_average": os.getloadavg()[0],
    }


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# --- BENCHMARKS.md ---------------------------------------------------------------------------------------

def _s(x: float | None, digits: int = 2) -> str:
    return "" if x is None else f"{x:.{digits}f}"


def markdown(results: dict) -> list[str]:
    """The section of BENCHMARKS.md for these results (lines)."""
    runs = [r for r in results.values() if not r.get("soak_minutes")]
    soaks = [r for r in results.values() if r.get("soak_minutes")]
    out = [
        SECTION, "",
        "Written by `python -m bench.load` (see its docstring for the script of steps). N browser contexts",
        "of one headless Chromium open the app at the same moment and each goes through the script; one",
        "unmeasured pass goes first. The browsers share the machine's 2 cores with the server (and with",
        "other work), so step times grow with N for that reason too; the server's CPU seconds per step do",
        "not depend on it (though a loaded machine inflates it somewhat: the load average at the end of each",
        "run is given). Errors count error boxes, steps that did not finish, and exceptions in the server's log.",
        "",
        "The browsers' CPU seconds (every Chromium process: renderers, GPU, network and the browser itself)",
        "are counted as the server's are, from /proc. They are most of the work of a step; their own part",
        "does not depend on the server, and the two cores are shared by both.",
        "",
        "| orders | sessions | steps | errors | server CPU-s per step | browsers' CPU-s per step | peak RSS MB "
        "| wall s | load avg | measured |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in sorted(runs, key=lambda r: (r["orders"], r["sessions"], r.get("note", ""))):
        out.append(f"| {r['orders']:,} | {r['sessions']} | {r['steps_done']} | {r['errors']} | "
                   f"{_s(r['cpu_per_step'], 3)} | {_s(r.get('browser_cpu_per_step'), 3)} | {r['peak_rss_mb']:,.0f} | {r['wall_s']:.0f} | "
                   f"{r.get('load_average', 0):.1f} | {r['measured_at']}, {r['commit']}"
                   + (f"; {r['note']}" if r.get("note") else "") + " |")
    out += ["", "Per step: p50 / p95 seconds from the click to the result on screen (with one session, in "
                "brackets: the step's CPU seconds, the server's / the browser's).", "",
            "| orders | sessions | " + " | ".join(STEPS) + " |",
            "| ---: | ---: | " + " | ".join("---" for _ in STEPS) + " |"]
    for r in sorted(runs, key=lambda r: (r["orders"], r["sessions"], r.get("note", ""))):
        cells = []
        for name in STEPS:
            s = r["steps"][name]
            cell = f"{_s(s['p50'])} / {_s(s['p95'])}"
            if s["cpu_s"] is not None:
                browser = s.get("browser_cpu_s")
                cell += f" ({s['cpu_s']:.2f})" if browser is None else f" ({s['cpu_s']:.2f} / {browser:.2f})"
            if s["errors"]:
                cell += f", {s['errors']} errors"
            cells.append(cell)
        note = f" ({r['note']})" if r.get("note") else ""
        out.append(f"| {r['orders']:,}{note} | {r['sessions']} | " + " | ".join(cells) + " |")
    out += ["", *targets(runs)]
    if not any(r["soak_minutes"] >= 60 for r in soaks):
        out += ["", "No soak of 60 minutes or more has been run (`--soak-minutes 60`)."]
    for r in soaks:
        out += ["", f"### Soak: {r['sessions']} sessions for {r['soak_minutes']:g} minutes, {r['orders']:,} orders", "",
                f"Measured {r['measured_at']}, commit {r['commit']}: {r['steps_done']} steps, {r['errors']} errors, "
                f"server CPU {_s(r['cpu_per_step'], 3)} s per step; RSS {r['rss_start_mb']:,.0f} MB at the "
                f"start, {r['rss_end_mb']:,.0f} MB at the end, {r['peak_rss_mb']:,.0f} MB at the highest.", "",
                *_cache_words(r),
                "| minute | RSS MB | caches MB | RSS less caches MB | steps in the minute before | p95 s of those |",
                "| ---: | ---: | ---: | ---: | ---: | ---: |"]
        curve, caches = r["rss_curve"], dict(r.get("cache_curve", []))
        for minute in range(0, int(r["soak_minutes"]) + 1):
            near = [(t, mb) for t, mb in curve if abs(t - minute * 60) <= 6]
            if not near:
                continue
            t, mb = near[0]
            held = caches.get(t)
            times = [took for t, _, took in r["step_times"] if minute * 60 - 60 <= t < minute * 60]
            out.append(f"| {minute} | {mb:,.0f} | {_s(held, 0)} | {_s(None if held is None else mb - held, 0)} | "
                       f"{len(times)} | {_s(_pct(times, 95))} |")
    return out + [""]


def _cache_words(r: dict) -> list[str]:
    """What the caches column is, and how the process's memory apart from them moved after minute 5."""
    if not r.get("cache_curve"):
        return ["(This soak did not read the caches' sizes.)", ""]
    caches = dict(r["cache_curve"])
    rest = [(t, mb - caches[t]) for t, mb in r["rss_curve"] if t in caches]
    words = ["Caches: what the server's caches held (its metrics, `/_stcore/metrics`: Streamlit's cached "
             "results and the dashboard's own, each bounded in bytes; README, \"Serving a team\"). They grow "
             "while new results arrive until their limits, then drop the least recently used; since commit "
             "b3addc4 they also drop a result nobody asked for in 10 minutes, and the what-if engine's "
             "remembered replays are among them."]
    later = [v for t, v in rest if t >= 300]
    if later:
        words[0] += (f" RSS less caches: {later[0]:,.0f} MB at minute 5, {later[-1]:,.0f} MB at the end "
                     f"({min(later):,.0f} to {max(later):,.0f} MB in between).")
    settled = [mb for t, mb in r["rss_curve"] if t >= 600]
    if settled:
        words[0] += f" RSS from minute 10 to the end: {min(settled):,.0f} to {max(settled):,.0f} MB."
    return [*words, ""]


TARGETS = ((50_000, "server CPU-s per step", 0.1), (1_000_000, "server CPU-s per step", 0.15))
P95_TARGET = (50_000, 4, 2.0)


def targets(runs: list[dict]) -> list[str]:
    """Each target against the latest plain run (no note) that measures it: met or missed, by how much."""
    plain = sorted((r for r in runs if not r.get("note")), key=lambda r: r["measured_at"])
    lines = ["Targets (latest run of each size without a note):", ""]
    for orders, what, goal in TARGETS:
        found = [r for r in plain if r["orders"] == orders and r["cpu_per_step"] is not None]
        if found:
            value = found[-1]["cpu_per_step"]
            verdict = "met" if value <= goal else f"missed by {value / goal:.1f}x"
            lines.append(f"- {orders:,} orders, {what} <= {goal:g}: {value:.3f} ({found[-1]['sessions']} sessions), {verdict}.")
    orders, sessions, goal = P95_TARGET
    found = [r for r in plain if r["orders"] == orders and r["sessions"] == sessions]
    if found:
        worst = max(s["p95"] for s in found[-1]["steps"].values() if s["p95"] is not None)
        verdict = "met" if worst <= goal else f"missed by {worst / goal:.1f}x"
        lines.append(f"- {orders:,} orders, {sessions} sessions, every step's p95 < {goal:g} s: worst {worst:.2f} s, "
                     f"{verdict} (with the browsers on the same 2 cores, load average {found[-1]['load_average']:.0f}).")
        lines += floor_words(plain, orders, sessions)
    return lines


def floor_words(plain: list[dict], orders: int, sessions: int) -> list[str]:
    """How soon a step can end at all when `sessions` take it at the same moment: the CPU seconds the
    server and one browser spend on it (from the latest one-session run that split them) times the
    sessions, over the machine's cores. The last session to finish cannot finish before that."""
    alone = [r for r in plain if r["orders"] == orders and r["sessions"] == 1
             and all(s.get("browser_cpu_s") is not None for s in r["steps"].values())]
    if not alone:
        return []
    cores = os.cpu_count() or 1
    steps = alone[-1]["steps"]
    floors = {name: sessions * (s["cpu_s"] + s["browser_cpu_s"]) / cores for name, s in steps.items()}
    worst = max(floors, key=floors.get)
    share = steps[worst]["browser_cpu_s"] / (steps[worst]["cpu_s"] + steps[worst]["browser_cpu_s"])
    return [f"  The CPU alone puts a floor under that on this machine: {sessions} sessions x the CPU one session's "
            f"step costs, over {cores} cores. " + ", ".join(f"{n} {v:.2f} s" for n, v in floors.items())
            + f". The {worst} step's floor, {floors[worst]:.2f} s, is {share:.0%} the browsers' own work."]


def write_section(results: dict, out: Path) -> None:
    """Replace (or add) the section in `out`, leaving the rest of the file as it is."""
    text = out.read_text() if out.exists() else "# Benchmarks\n\n"
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line == SECTION), None)
    if start is None:
        lines += [""] if lines and lines[-1] else []
        start = end = len(lines)
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    lines[start:end] = markdown(results)
    out.write_text("\n".join(lines).rstrip("\n") + "\n")


def stored_section(results_path: Path = RESULTS) -> list[str]:
    """The section from the stored results, for the harness to keep when it rewrites BENCHMARKS.md."""
    if not results_path.exists():
        return []
    return markdown(json.loads(results_path.read_text()))


def main(argv: list[str] | None = None) -> int:
    from analytics.demo import DEMO_ORDERS, DEMO_SEED

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="demo", help="comma-separated order counts; 'demo' = the demo's size")
    parser.add_argument("--sessions", default="1,4,8", help="comma-separated numbers of concurrent sessions")
    parser.add_argument("--rounds", type=int, default=3, help="passes of the script per session (default 3)")
    parser.add_argument("--soak-minutes", type=float, help="instead of rounds: keep going this long")
    parser.add_argument("--seed", type=int, default=DEMO_SEED)
    parser.add_argument("--note", help="a note beside the run's rows (an A/B pair's side, say); a run with a note "
                                       "is kept beside the plain runs, not in their place")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    if not bs.CHROMIUM.exists():
        print(f"Chromium is not installed at {bs.CHROMIUM}: nothing measured (apt-get install chromium).")
        return 0
    sizes = [DEMO_ORDERS if s.strip() == "demo" else int(s) for s in args.sizes.split(",") if s.strip()]
    counts = [int(n) for n in args.sessions.split(",") if n.strip()]
    results = json.loads(args.results.read_text()) if args.results.exists() else {}
    log_dir = ROOT / "data" / "bench"
    log_dir.mkdir(parents=True, exist_ok=True)
    for orders in sizes:
        for n in counts:
            print(f"{orders:,} orders, {n} sessions ...", flush=True)
            r = measure(orders, args.seed, n, args.rounds, args.soak_minutes, log_dir)
            key = f"{orders}x{n}" + (f"-soak{args.soak_minutes:g}" if args.soak_minutes else "")
            if args.note:
                r["note"] = args.note
                key += "-" + re.sub(r"[^a-z0-9]+", "-", args.note.lower()).strip("-")
            results[key] = r
            print(f"  {r['steps_done']} steps, {r['errors']} errors, server CPU {_s(r['cpu_per_step'], 3)} s per step, "
                  f"browsers' CPU {_s(r['browser_cpu_per_step'], 3)} s per step, peak RSS {r['peak_rss_mb']:,.0f} MB, {r['wall_s']:.0f} s")
            for name, s in r["steps"].items():
                cpu = (f", CPU {s['cpu_s']:.3f} s (browsers {s['browser_cpu_s']:.3f} s)"
                       if s["cpu_s"] is not None else "")
                print(f"    {name:14} p50 {_s(s['p50'])} s  p95 {_s(s['p95'])} s  n={s['n']}  "
                      f"errors={s['errors']}{cpu} {s['error_examples'][:1] or ''}")
            args.results.write_text(json.dumps(results, indent=1) + "\n")
            write_section(results, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
