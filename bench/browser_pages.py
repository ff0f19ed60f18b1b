"""What a user feels in a real browser: each page's first render, a page switch, a filter change.

    .venv/bin/python bench/browser_pages.py [--sizes demo,1000000] [--runs 3] [--out bench/browser_pages.json]

For each size it starts the dashboard (serve.py, as `make run`) on its own database (generated once under
data/bench/ and stored as an import stores it: its what-if arrays built), and warms the server with one
visit of the Overview under a filter (card payments only): the pages' imports are done at start, the
browser has the app's scripts, and the data set's orders are in the server's memory (load.keep_resident).
The warm-up's time is reported too (the first visit of a data set since the server started). Then:

    first render   each page opened by its link in a new tab (a new session): the server has never
                   computed that page's figures for this view. The What-if row is the page's first open
                   from a server that has never opened the data set's engine (its first run only).
    page switch    the sidebar link from the Overview to Reasons, Refunds, Sellers (figures not cached)
    filter change  a payment method picked in the Overview's sidebar filter (a new set of figures), from
                   the pick in the opened list
    floor          a bare Streamlit page (bench/bare_page.py: a title and one tile) opened the same way, once
                   per invocation: the part of any first render that is Streamlit's and this machine's, so a
                   page's figure can be read against the machine it was measured on

Each is measured --runs times, every run on a view of its own so that no figure is cached: the first
run with no filter, the others from a later first day (a week apart; nearly every order still in).
A figure is the median of its runs; the runs are kept in --out beside it, since one run in a browser
sharing 2 cores with the server moves by a few tenths of a second.

A time runs from the page load (or the click) until the moment the page shows its title and main content
with its script run over, and still does a moment later (bench.browser.settled_at). Prints figures and
writes them to --out (BENCHMARKS.md reads bench/browser_pages.json); asserts nothing.

Each step's time is also split by the page's messages with the server (bench.browser.Wire): for a page
opened, the app's scripts loaded, its first message out, the server's answer to its last message in, and
the browser's drawing after that; for a click, the server's answer and the browser's own work around it.
Beside them, the server process's CPU seconds in the step. Chromium takes a socket's messages only as
fast as the page handles them, so the answer's span is the browser's as much as the server's: the CPU
says what the server itself did.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]   # run as a script: the repository's packages

from bench import browser as bs  # noqa: E402
from bench.browser_whatif import database  # noqa: E402

RESULT = ROOT / "bench" / "browser_pages.json"
# (title, path, what shows the page's main content)
PAGES = (
    ("Overview", "", '[data-testid="stMetricValue"]'),
    ("Reasons", "Reasons", '[data-testid="stVegaLiteChart"], [data-testid="stAlert"]'),
    ("Refunds", "Refunds", '[data-testid="stVegaLiteChart"], [data-testid="stAlert"]'),
    ("Sellers", "Sellers", '[data-testid="stDataFrame"], [data-testid="stAlert"]'),
    ("Orders", "Orders", '[data-testid="stDataFrame"], [data-testid="stAlert"]'),
    ("What-if", "What-if", '[data-testid="stMetricValue"]'),
)
SWITCHES = ("Reasons", "Refunds", "Sellers")
TIMEOUT_MS = 600_000
TARGETS = {"first render": 1.5, "page switch": 0.5, "filter change": 0.5, "What-if first open": 2.0}

def _ready(page, title: str, content: str) -> float:
    """The moment the page showed its title and main content with its run over (bs.settled_at)."""
    return bs.settled_at(page, "document.querySelector('h1') && document.querySelector('h1').innerText === arg[0]"
                               " && document.querySelector(arg[1])", [title, content], TIMEOUT_MS)


def _timed(action, page, title: str, content: str) -> float:
    started = time.perf_counter()
    action()
    return _ready(page, title, content) - started


def _sidebar_link(page, title: str) -> None:
    page.locator('[data-testid="stSidebar"] [data-testid="stPageLink"] a', has_text=title).click()


def floor(log_dir: Path, runs: int = 3) -> list[float]:
    """The first render of a bare Streamlit page (bench/bare_page.py) in a new tab, `runs` times, on a server
    warmed by one visit, as each page's first render is timed: {"runs": times, "where": their splits}."""
    content = '[data-testid="stMetricValue"]'
    log_dir.mkdir(parents=True, exist_ok=True)
    with bs.app_server(log_dir / "bare.duckdb", log_dir / "browser_pages_bare.log",   # (a database it never opens)
                       script="bench/bare_page.py") as server, bs.chromium() as browser:
        context = browser.new_context(viewport={"width": 1440, "height": 1000})
        times, where = [], []
        for run in range(runs + 1):
            page = context.new_page()
            wire, cpu = bs.Wire(context, page), bs.cpu_seconds(server.proc.pid)
            url = f"{server.url}/?run={run}"
            took = _timed(lambda p=page, u=url: p.goto(u, wait_until="commit"), page, "Overview", content)
            if run:   # the first visit warms the server
                times.append(took)
                _kept(where, wire.split(0, took, page), "bare", server, cpu)
            page.close()
        context.close()
    return {"runs": times, "where": where}


def _kept(where: list[dict], split: dict | None, title: str, server, cpu_before: float) -> None:
    """A step's split (bs.Wire.split) kept with the page it was measured on, and the server process's CPU
    seconds since `cpu_before` (bench.browser.cpu_seconds: its script run, its messages, anything else it did)."""
    if split is not None:
        where.append({"page": title, **split, "server_cpu": bs.cpu_seconds(server.proc.pid) - cpu_before})


def _first_day(path: Path, dataset: str) -> date:
    """The data set's first order day (read before the server opens the database)."""
    from analytics import db, report

    con = db.connect(path, read_only=True)
    try:
        return report.date_bounds(con, dataset, "order")[0]
    finally:
        con.close()


def measure(orders: int, seed: int, log_dir: Path, runs: int = 3) -> dict:
    path, dataset = database(orders, seed)
    first = _first_day(path, dataset)

    def view(run: int, offset: int = 0) -> str:
        """Run `run`'s view, `offset` days apart for each kind of step: never one computed before."""
        days = 7 * run + offset
        return f"dataset={dataset}" + (f"&from={first + timedelta(days=days)}" if days else "")

    seen: dict[str, dict[str, list[float]]] = {"first_render": {}, "switch": {}}
    filters: list[float] = []
    where: dict[str, list[dict]] = {"first_render": [], "switch": [], "filter": []}   # each step's split
    out: dict = {"orders": orders, "runs": runs, "warm_up": None}
    with bs.app_server(path, log_dir / f"browser_pages_{orders}.log") as server, bs.chromium() as browser:
        context = browser.new_context(viewport={"width": 1440, "height": 1000})
        warm = context.new_page()
        out["warm_up"] = _timed(lambda: warm.goto(f"{server.url}/?dataset={dataset}&payment=card", wait_until="commit"),
                                warm, "Overview", '[data-testid="stMetricValue"]')
        warm.close()
        for run in range(runs):
            for title, route, content in PAGES:
                if title == "What-if" and run:
                    continue   # its first open is the first run's: the engine is open from then on
                page = context.new_page()
                wire, cpu = bs.Wire(context, page), bs.cpu_seconds(server.proc.pid)
                url = f"{server.url}/{route}?{view(run)}"
                took = _timed(lambda p=page, u=url: p.goto(u, wait_until="commit"), page, title, content)
                seen["first_render"].setdefault(title, []).append(took)
                _kept(where["first_render"], wire.split(0, took, page), title, server, cpu)
                page.close()
            # Page switches, from a new session on the Overview.
            page = context.new_page()
            wire = bs.Wire(context, page)
            page.goto(f"{server.url}/?{view(run, 3)}", wait_until="commit")
            _ready(page, "Overview", '[data-testid="stMetricValue"]')
            for title in SWITCHES:
                since, cpu = wire.mark(), bs.cpu_seconds(server.proc.pid)
                took = _timed(partial(_sidebar_link, page, title), page, title, dict((p[0], p[2]) for p in PAGES)[title])
                seen["switch"].setdefault(title, []).append(took)
                _kept(where["switch"], wire.split(since, took), title, server, cpu)
                _timed(partial(_sidebar_link, page, "Overview"), page, "Overview", '[data-testid="stMetricValue"]')
            page.close()
            # A filter change, from the choice: the list of methods opened, the run's method picked.
            page = context.new_page()
            wire = bs.Wire(context, page)
            page.goto(f"{server.url}/?{view(run, 5)}", wait_until="commit")
            _ready(page, "Overview", '[data-testid="stMetricValue"]')
            page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').first.click()
            options = page.get_by_role("option")
            options.first.wait_for(timeout=TIMEOUT_MS)
            for _ in range(run % options.count()):
                page.keyboard.press("ArrowDown")
            since, cpu, started = wire.mark(), bs.cpu_seconds(server.proc.pid), time.perf_counter()
            page.keyboard.press("Enter")
            page.keyboard.press("Escape")
            page.wait_for_function("() => location.search.includes('payment=')", timeout=TIMEOUT_MS, polling=50)
            filters.append(_ready(page, "Overview", '[data-testid="stMetricValue"]') - started)
            _kept(where["filter"], wire.split(since, filters[-1]), "Overview", server, cpu)
            page.close()
        context.close()
    for kind, found in seen.items():
        out[kind] = {k: statistics.median(v) for k, v in found.items()}
        out[f"{kind}_runs"] = found
    out["filter"], out["filter_runs"] = statistics.median(filters), filters
    out["where"] = where
    return out


# The parts of a step's time (bs.Wire.split and the server's CPU), in the order they happen, and their words.
PARTS = {"scripts": "the app's scripts loaded and run by {:.2f} s",
         "connected": "its first message out at {:.2f} s",
         "server": "the server's answer, from that message to its last message in, {:.2f} s",
         "server_cpu": "the server's CPU in the whole step {:.2f} s",
         "after": "the browser drawing after the last message {:.2f} s",
         "browser": "the browser's own work around the answer (the click, drawing) {:.2f} s"}


def where_text(splits: list[dict], page: str | None = None) -> str | None:
    """Where the time of these steps (of `page`'s only, when given) goes: each part's median, in words."""
    splits = [w for w in splits if page is None or w["page"] == page]
    if not splits:
        return None
    parts = [k for k in PARTS if all(k in w for w in splits)]
    return "; ".join(PARTS[k].format(statistics.median(w[k] for w in splits)) for k in parts)


def where_lines(rows: list[dict], bare: dict | None = None) -> list[str]:
    """For each size, where a first render's, a page switch's and a filter change's time goes (medians of
    every page's runs), and a bare page's, whose parts are Streamlit's and this machine's."""
    lines = []
    for r in rows:
        where = r.get("where") or {}
        for kind, words in (("first_render", "a page's first render"), ("switch", "a page switch"),
                            ("filter", "a filter change")):
            text = where_text(where.get(kind) or [])
            if text:
                lines.append(f"- {r['orders']:,} orders, {words}: {text}.")
            if kind == "first_render" and text:
                firsts = {k: v for k, v in r["first_render"].items() if k != "What-if"}
                slowest = max(firsts, key=firsts.get)
                for page in (slowest, "What-if"):
                    text = where_text(where[kind], page)
                    if text:
                        lines.append(f"- {r['orders']:,} orders, the {page} page's first render: {text}.")
    text = where_text((bare or {}).get("where") or [])
    if text:
        lines.append(f"- The bare page's first render: {text}.")
    return lines


def _spread(row: dict, kind: str, key: str | None = None) -> str:
    """' (min-max of n runs)' for a figure measured more than once, else ''."""
    runs = row.get(f"{kind}_runs")
    runs = runs.get(key) if isinstance(runs, dict) else runs
    if not runs or len(runs) < 2:
        return ""
    return f" ({min(runs):.2f}-{max(runs):.2f}, {len(runs)} runs)"


def summary(rows: list[dict]) -> list[str]:
    """Lines comparing each row with its targets: up to 1,000,000 orders a page's first render at most
    1.5 s, a switch or a filter change 0.5 s, the What-if page's first open 2 s; at 10,000,000 orders a
    filter change on the Overview under 1 s and the What-if page's first open 5 s."""
    lines = []
    for r in rows:
        firsts = {k: v for k, v in r["first_render"].items() if k != "What-if"}
        worst = max(firsts, key=firsts.get)
        switched = max(r["switch"], key=r["switch"].get)
        if r["orders"] <= 1_000_000:
            checks = [("slowest first render (" + worst + ")", firsts[worst], TARGETS["first render"],
                       _spread(r, "first_render", worst)),
                      ("slowest page switch (" + switched + ")", r["switch"][switched], TARGETS["page switch"],
                       _spread(r, "switch", switched)),
                      ("filter change", r["filter"], TARGETS["filter change"], _spread(r, "filter")),
                      ("What-if first open", r["first_render"]["What-if"], TARGETS["What-if first open"], "")]
        else:
            checks = [("filter change", r["filter"], 1.0, _spread(r, "filter")),
                      ("What-if first open", r["first_render"]["What-if"], 5.0, "")]
        for name, value, target, spread in checks:
            verdict = "met" if value <= target else f"MISSED by {value / target:.1f}x"
            lines.append(f"{r['orders']:>12,}  {name:<40} <= {target:g}s  {value:6.2f}s  {verdict}{spread}")
    return lines


def _rounded(value):
    """Times to the hundredth, in any nesting of dicts and lists."""
    if isinstance(value, float):
        return round(value, 2)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    bs.add_arguments(parser, RESULT)
    parser.add_argument("--runs", type=int, default=3, help="runs of each step, each on a view of its own "
                                                              "(default 3); a figure is their median")
    args = parser.parse_args(argv)
    if bs.chromium_missing():
        return 0
    sizes = bs.sizes(args.sizes)
    load_before = os.getloadavg()[0]
    rows = []
    for orders in sizes:
        print(f"{orders:,} orders ...", flush=True)
        r = measure(orders, args.seed, ROOT / "data" / "bench", args.runs)
        rows.append(r)
        print("  first render: " + ", ".join(f"{k} {v:.2f} s" for k, v in r["first_render"].items()))
        print("  page switch:  " + ", ".join(f"{k} {v:.2f} s" for k, v in r["switch"].items()))
        print(f"  filter change: {r['filter']:.2f} s; the warm-up (the data set's first visit): {r['warm_up']:.2f} s"
              f" (medians of {r['runs']} runs)")
    bare = floor(ROOT / "data" / "bench", args.runs)
    print(f"a bare Streamlit page's first render (the floor): {statistics.median(bare['runs']):.2f} s "
          f"(median of {len(bare['runs'])} runs)")
    print()
    print("\n".join(summary(rows)))
    print("Where the time goes (medians):")
    print("\n".join(where_lines(rows, bare)))
    args.out.write_text(json.dumps({
        "measured_at": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "load_average": [round(load_before, 1), round(os.getloadavg()[0], 1)],
        "floor": {"median": round(statistics.median(bare["runs"]), 2), "runs": _rounded(bare["runs"]),
                  "where": _rounded(bare["where"])},
        "rows": [{**_rounded(r), "median_first_render": round(statistics.median(r["first_render"].values()), 2)}
                 for r in rows],
    }, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
