"""How long a what-if change takes in a real browser: from changing a control to the new figure on screen.

    .venv/bin/python bench/browser_whatif.py [--sizes demo,1000000] [--changes 6] [--replicates 10]

For each size it starts the dashboard (serve.py) on its own database (cached under data/bench/, keyed
by size and seed), opens the What-if page in Debian's Chromium, and then, several times, types a new
seller's response window and presses Enter. The time runs from the key press to the moment the page
shows the scenario for that value and the run is over (the figures drawn). Each value is new, so the
engine replays it (nothing cached); a last change back to an earlier value shows the cached case.
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

from analytics import db  # noqa: E402
from analytics.generate import generate  # noqa: E402
from analytics.simulate import store_dataset  # noqa: E402
from bench import browser as bs  # noqa: E402

CACHE = ROOT / "data" / "bench"
RESULT = ROOT / "bench" / "browser_whatif.json"
WINDOWS = (24, 48, 96, 36, 120, 60, 30, 144, 18, 200)


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
        store_dataset(con, dataset.id)   # at once when it is there already
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
        box.fill(str(WINDOWS[0]))
        started = time.perf_counter()
        box.press("Enter")
        _settled(page, f"Seller's response window = {WINDOWS[0]:g} hours", timeout=120_000)
        cached = time.perf_counter() - started
    return {"orders": orders, "first_open": first_open, "changes": timings, "cached": cached, "where": where}


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
        print(f"  a value seen before (cached): {result['cached']:.2f} s")
        if result["where"]:
            print("  where a new value's time goes (medians): the server's answer "
                  f"{statistics.median(w['server'] for w in result['where']):.2f} s (its CPU "
                  f"{statistics.median(w['server_cpu'] for w in result['where']):.2f} s), the browser's own work "
                  f"{statistics.median(w['browser'] for w in result['where']):.2f} s")
    print()
    print(f"{'orders':>12} | {'first open':>10} | {'change median':>13} | {'min':>6} | {'max':>6} | {'cached':>6}")
    for r in rows:
        t = r["changes"]
        print(f"{r['orders']:>12,} | {r['first_open']:>9.2f}s | {statistics.median(t):>12.2f}s | "
              f"{min(t):>5.2f}s | {max(t):>5.2f}s | {r['cached']:>5.2f}s")
    # Kept for BENCHMARKS.md (`python -m bench --render-only` shows it beside the in-process figures).
    args.out.write_text(json.dumps({
        "measured_at": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC", "replicates": args.replicates,
        "load_average": round(os.getloadavg()[0], 1),
        "rows": [{"orders": r["orders"], "first_open_s": round(r["first_open"], 2),
                  "change_median_s": round(statistics.median(r["changes"]), 2),
                  "change_max_s": round(max(r["changes"]), 2), "cached_s": round(r["cached"], 2),
                  # Where a new value's time goes (medians of the changes; bench.browser.Wire): the server's
                  # answer (its CPU: the replay's threads, the page's run) and the browser's own work.
                  "where": {k: round(statistics.median(w[k] for w in r["where"]), 2)
                            for k in ("server", "server_cpu", "browser")} if r["where"] else None}
                 for r in rows],
    }, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
