"""What the policy frontier costs: grids of 3 levers of growing size replayed on a prepared data set,
every policy with the default replicates, nothing remembered from an earlier grid (a new seed each).

    .venv/bin/python -m bench.frontier [--orders 1000000] [--sizes 20,50,100,200] [--db PATH]

The levers: the seller's response window, what its running out does, and the dispatch deadline with
auto-cancel on late dispatch held (the deadline then widens the replay to the orders it makes late: the
dearer case). Each grid is timed as the page runs it (with progress), in wall time and in CPU time of
this process and the workers it forks. Writes bench/frontier.json (one entry per number of orders), which `python -m bench` (and
`--render-only`) shows in BENCHMARKS.md. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

from analytics import db, frontier
from analytics import simulate as whatif
from analytics.generate import generate
from analytics.policy import Policy

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "frontier.json"
WINDOWS = (12, 24, 36, 48, 60, 72, 96, 120, 144, 168)
DEADLINES = (2, 3, 4, 5, 6, 7, 8, 10, 12, 15)
HELD = Policy(late_dispatch_action="auto_cancel")
WEIGH = ("refund_wait_p90_business_days", "cancelled_gmv")


def grid_for(size: int) -> dict[str, tuple]:
    """A 3-lever grid of `size` policies: windows x 2 timeout actions x deadlines."""
    per = {20: (2, 5), 50: (5, 5), 100: (5, 10), 200: (10, 10)}.get(size)
    if per is None:
        raise SystemExit(f"size {size}: one of 20, 50, 100, 200")
    return {"seller_response_hours": WINDOWS[:per[0]], "timeout_action": ("auto_cancel", "lapse"),
            "dispatch_deadline_days": DEADLINES[:per[1]]}


def measure(prep: whatif.Prepared, size: int, seed: int) -> dict:
    first = []

    def progress(fraction: float, text: str, points: list) -> None:
        if not first:
            first.append((time.perf_counter() - clock, len(points)))

    vary = grid_for(size)
    before = os.times()
    clock = time.perf_counter()
    result = frontier.frontier(prep, vary, WEIGH, ["cancelled_gmv<=1e12"], policy=HELD, seed=seed,
                               progress=progress)
    total = time.perf_counter() - clock
    after = os.times()
    # CPU time of this process and of the workers it forked (ended and waited for): what the grid costs
    # whatever else the machine is doing, where the wall time grows with the load.
    cpu = sum(getattr(after, f) - getattr(before, f) for f in ("user", "system", "children_user", "children_system"))
    workers = frontier._workers(prep, len(result["policies"]), result["replicates"], None)
    return {"policies": len(result["policies"]), "grid": size, "replicates": result["replicates"],
            "seconds": round(total, 2), "cpu_s": round(cpu, 1), "workers": workers,
            "first_points_s": round(first[0][0], 2), "first_points": first[0][1],
            "on_frontier": sum(p["on_frontier"] for p in result["policies"])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.frontier", description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--sizes", default="20,50,100,200")
    parser.add_argument("--db", type=Path, default=None, help="a database holding the data set (default: generate)")
    args = parser.parse_args(argv)
    path = args.db or ROOT / "data" / "bench" / f"frontier-{args.orders}.duckdb"
    path.parent.mkdir(parents=True, exist_ok=True)
    con = db.connect(path)
    if not db.list_datasets(con):
        generate(con, args.orders, 1)
    clock = time.perf_counter()
    prep = whatif.prepare_dataset(con)
    prepare_s = time.perf_counter() - clock
    load = os.getloadavg()[0]
    rows = []
    for i, size in enumerate(int(s) for s in args.sizes.split(",")):
        rows.append(measure(prep, size, seed=100 + i))
        r = rows[-1]
        print(f"{prep.data.n:,} orders: {r['policies']} policies ({r['grid']} in the grid), {r['replicates']} "
              f"replicates, {r['workers']} processes: {r['seconds']} s ({r['cpu_s']} s of CPU); first "
              f"{r['first_points']} points after {r['first_points_s']} s; load average {os.getloadavg()[0]:.1f}",
              flush=True)
        # Written after each grid, so a long run stopped part-way keeps what it measured.
        entries = json.loads(OUT.read_text()) if OUT.exists() else {}
        entries[str(prep.data.n)] = {"measured_at": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC", "orders": prep.data.n,
                                     "prepare_s": round(prepare_s, 2), "cores": os.cpu_count(),
                                     "load_average": [round(load, 1), round(os.getloadavg()[0], 1)], "rows": rows}
        OUT.write_text(json.dumps(entries, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
