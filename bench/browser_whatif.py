"""How long a what-if change takes in a real browser: from changing a control to the new figure on screen.

    .venv/bin/python bench/browser_whatif.py [--sizes demo,1000000] [--changes 6] [--replicates 10]

For each size it starts the dashboard (serve.py) on its own database (cached under data/bench/, keyed
by size and seed), opens the What-if page in Debian's Chromium, and then, several times, types a new
seller's response window and presses Enter. The time runs from the key press to the moment the page
shows the scenario for that value and the run is over (the figures drawn). Each value is new, so the
engine replays it (nothing cached). Beside it, the parts of that time:
    a value seen before   changes back and forth between two values already replayed: the page's run and
                          the browser's drawing, with no replay (the median of CACHED_RUNS changes)
    the engine alone      the same new values replayed in this process as the page replays them
                          (simulate.simulate with its twins shared, the data set's arrays and the
                          baseline's warm-up made first), without Streamlit or a browser
    the floor             the same change typed on a bare Streamlit page (bench/bare_whatif.py: a number
                          input in a fragment and a caption), Streamlit's round trip and this machine's
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]   # run as a script: the repository's packages

from analytics import db, simulate  # noqa: E402
from analytics.generate import generate  # noqa: E402
from analytics.policy import Policy  # noqa: E402
from bench import browser as bs  # noqa: E402

CACHE = ROOT / "data" / "bench"
RESULT = ROOT / "bench" / "browser_whatif.json"
WINDOWS = (24, 48, 96, 36, 120, 60, 30, 144, 18, 200)
# Changes between two values already replayed (the cached case), and changes typed on the bare page.
CACHED_RUNS = 6
FLOOR_RUNS = 10


def database(orders: int, seed: int) -> tuple[Path, str]:
    """A database holding one generated data set of `orders` orders, stored as the product stores one
    (its calibration and what-if arrays built: simulate.store_dataset); made once, then reused."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"browser_whatif_{orders}_{seed}.duckdb"
    con = db.connect(path)
    try:
        found = db.list_datasets(con)
        if found:
            dataset = found[0]
        else:
            started = time.perf_counter()
            dataset = generate(con, orders, seed, name=f"Bench {orders:,} orders", is_demo=True).dataset
            print(f"  generated {orders:,} orders in {time.perf_counter() - started:.1f} s", flush=True)
        simulate.store_dataset(con, dataset.id)   # at once when it is there already
        return path, dataset.id
    finally:
        con.close()


def _settled(page, expected: str, timeout: float) -> None:
    """Wait until the scenario caption names `expected` and the run that drew it is over."""
    page.wait_for_function(
        """(text) => {
            const app = document.querySelector('[data-testid="stApp"]');
            const caption = [...document.querySelectorAll('[data-testid="stCaptionContainer"]')]
                .some(c => c.innerText.includes(text));
            return caption && app.dataset.testScriptState === 'notRunning';
        }""",
        arg=expected, timeout=timeout, polling="raf",
    )


def measure(orders: int, seed: int, changes: int, replicates: int, log_dir: Path) -> dict:
    path, dataset_id = database(orders, seed)
    with bs.app_server(path, log_dir / f"browser_whatif_{orders}.log") as server, bs.chromium() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 1600})
        page = context.new_page()
        wire = bs.Wire(context, page)
        started = time.perf_counter()
        page.goto(f"{server.url}/What-if?dataset={dataset_id}&replicates={replicates}")
        first_open = bs.settled_at(page, "document.querySelector('[data-testid=\"stMetricValue\"]')") - started
        box = page.get_by_role("spinbutton", name="Seller's response window")
        timings, where = [], []
        for hours in WINDOWS[:changes]:
            box.fill(str(hours))
            since, cpu, started = wire.mark(), bs.cpu_seconds(server.proc.pid), time.perf_counter()
            box.press("Enter")
            _settled(page, f"Seller's response window = {hours:g} hours", timeout=120_000)
            timings.append(time.perf_counter() - started)
            split = wire.split(since, timings[-1])
            if split is not None:
                where.append({**split, "server_cpu": bs.cpu_seconds(server.proc.pid) - cpu})
        cached = _typed(page, box, [WINDOWS[i % 2] for i in range(CACHED_RUNS)])
    return {"orders": orders, "first_open": first_open, "changes": timings, "cached": cached, "where": where,
            "engine": engine_alone(path, dataset_id, WINDOWS[:changes], replicates)}


def _typed(page, box, values: list[float]) -> list[float]:
    """Seconds from Enter to the scenario of each value on screen, the run over."""
    times = []
    for hours in values:
        box.fill(str(hours))
        started = time.perf_counter()
        box.press("Enter")
        _settled(page, f"Seller's response window = {hours:g} hours", timeout=120_000)
        times.append(time.perf_counter() - started)
    return times


def engine_alone(path: Path, dataset_id: str, windows, replicates: int) -> list[float]:
    """Seconds to replay each window in this process as the page does (the data set prepared, its baseline
    replayed and the warm-up of the request rule's twins made first, as the page's first open leaves them)."""
    con = db.connect(path, read_only=True)
    try:
        prep = simulate.prepare_dataset(con, dataset_id)
    finally:
        con.close()
    simulate.simulate(prep, policy=Policy(), replicates=replicates, seed=0, share_twins=True)
    warming = simulate.warm_up(prep, 0, replicates, delay=0)
    if warming is not None:
        warming.join()
    times = []
    for hours in windows:
        started = time.perf_counter()
        simulate.simulate(prep, policy=Policy(seller_response_hours=float(hours)), replicates=replicates, seed=0,
                          share_twins=True)
        times.append(time.perf_counter() - started)
    return times


def floor(log_dir: Path, runs: int = FLOOR_RUNS) -> list[float]:
    """The same change typed on a bare page (bench/bare_whatif.py), `runs` times after two unmeasured."""
    with bs.app_server(log_dir / "bare.duckdb", log_dir / "browser_whatif_bare.log",   # (a database it never opens)
                       script="bench/bare_whatif.py") as server, bs.chromium() as browser:
        page = browser.new_context(viewport={"width": 1400, "height": 1600}).new_page()
        page.goto(server.url)
        bs.wait_ready(page)
        box = page.get_by_role("spinbutton", name="Seller's response window")
        return _typed(page, box, [WINDOWS[i % 2] for i in range(runs + 2)])[2:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    bs.add_arguments(parser, RESULT)
    parser.add_argument("--changes", type=int, default=6, help="new values to try per size (default 6, at most 10)")
    parser.add_argument("--replicates", type=int, default=10, help="replicates per replay, as the page's default (10)")
    args = parser.parse_args(argv)
    if bs.chromium_missing():
        return 0
    sizes = bs.sizes(args.sizes)
    log_dir = CACHE
    print("What-if in the browser: from a control's change to the new figure on screen")
    rows = []
    for orders in sizes:
        print(f"{orders:,} orders ...", flush=True)
        result = measure(orders, args.seed, min(args.changes, len(WINDOWS)), args.replicates, log_dir)
        rows.append(result)
        t = result["changes"]
        print(f"  first open of the page (load, calibrate, first replay): {result['first_open']:.2f} s")
        print(f"  a new window value ({len(t)} changes): median {statistics.median(t):.2f} s, "
              f"min {min(t):.2f} s, max {max(t):.2f} s")
        print("  a value seen before (the page and the browser, no replay): "
              f"median {statistics.median(result['cached']):.2f} s")
        e = result["engine"]
        print(f"  the engine alone, the same values in process: median {statistics.median(e):.2f} s, "
              f"min {min(e):.2f} s, max {max(e):.2f} s")
        if result["where"]:
            print("  where a new value's time goes (medians): the server's answer "
                  f"{statistics.median(w['server'] for w in result['where']):.2f} s (its CPU "
                  f"{statistics.median(w['server_cpu'] for w in result['where']):.2f} s), the browser's own work "
                  f"{statistics.median(w['browser'] for w in result['where']):.2f} s")
    bare = floor(log_dir)
    print(f"the floor, the same change on a bare Streamlit page: median {statistics.median(bare):.2f} s "
          f"(min {min(bare):.2f} s, max {max(bare):.2f} s)")
    print()
    print(f"{'orders':>12} | {'first open':>10} | {'change median':>13} | {'min':>6} | {'max':>6} | {'cached':>6}")
    for r in rows:
        t = r["changes"]
        print(f"{r['orders']:>12,} | {r['first_open']:>9.2f}s | {statistics.median(t):>12.2f}s | "
              f"{min(t):>5.2f}s | {max(t):>5.2f}s | {statistics.median(r['cached']):>5.2f}s")
    # Kept for BENCHMARKS.md (`python -m bench --render-only` shows it beside the in-process figures).
    args.out.write_text(json.dumps({
        "measured_at": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC", "replicates": args.replicates,
        "load_average": round(os.getloadavg()[0], 1),
        "floor_s": round(statistics.median(bare), 2), "floor_runs": [round(x, 3) for x in bare],
        "rows": [{"orders": r["orders"], "first_open_s": round(r["first_open"], 2),
                  "change_median_s": round(statistics.median(r["changes"]), 2),
                  "change_max_s": round(max(r["changes"]), 2), "change_runs": [round(x, 3) for x in r["changes"]],
                  "cached_s": round(statistics.median(r["cached"]), 2),
                  "engine_median_s": round(statistics.median(r["engine"]), 2),
                  "engine_max_s": round(max(r["engine"]), 2), "engine_runs": [round(x, 3) for x in r["engine"]],
                  # Where a new value's time goes (medians of the changes; bench.browser.Wire): the server's
                  # answer (its CPU: the replay's threads, the page's run) and the browser's own work.
                  "where": {k: round(statistics.median(w[k] for w in r["where"]), 2)
                            for k in ("server", "server_cpu", "browser")} if r["where"] else None}
                 for r in rows],
    }, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
