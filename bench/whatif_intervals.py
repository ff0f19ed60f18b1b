"""What the what-if intervals cost: simulate on a prepared data set, the first call and then a control
change (the baseline remembered, the scenario replayed), at several replicate counts.

    .venv/bin/python -m bench.whatif_intervals [--orders 1000000] [--replicates 10,20] [--db PATH]

Writes bench/whatif_intervals.json, which `python -m bench` (and `--render-only`) shows in BENCHMARKS.md.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from analytics import db
from analytics import simulate as whatif
from analytics.generate import generate
from analytics.policy import Policy

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "whatif_intervals.json"
CHANGES = (Policy(seller_response_hours=96), Policy(seller_response_hours=24), Policy(seller_response_hours=168),
           Policy(seller_consent_required=False), Policy(timeout_action="lapse"))
DISPATCH = Policy(late_dispatch_action="auto_cancel", dispatch_deadline_days=5)


def measure(prep: whatif.Prepared, replicates: int, seed: int) -> dict:
    clock = time.perf_counter()
    whatif.simulate(prep, policy=Policy(seller_response_hours=48), replicates=replicates, seed=seed, share_twins=True)
    first = time.perf_counter() - clock
    changes = []
    for policy in CHANGES:
        clock = time.perf_counter()
        whatif.simulate(prep, policy=policy, replicates=replicates, seed=seed, share_twins=True)
        changes.append(time.perf_counter() - clock)
    clock = time.perf_counter()
    whatif.simulate(prep, policy=DISPATCH, replicates=replicates, seed=seed, share_twins=True)
    dispatch = time.perf_counter() - clock
    return {"replicates": replicates, "first_s": round(first, 3), "change_median_s": round(statistics.median(changes), 3),
            "change_max_s": round(max(changes), 3), "dispatch_change_s": round(dispatch, 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.whatif_intervals", description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--replicates", default="10,20")
    parser.add_argument("--db", type=Path, default=None, help="a database holding the data set (default: generate)")
    args = parser.parse_args(argv)
    path = args.db or ROOT / "data" / "bench" / f"intervals-{args.orders}.duckdb"
    path.parent.mkdir(parents=True, exist_ok=True)
    con = db.connect(path)
    if not db.list_datasets(con):
        generate(con, args.orders, 1)
    prep = whatif.prepare_dataset(con)
    load = os.getloadavg()[0]
    rows = [measure(prep, int(r), seed=i + 1) for i, r in enumerate(args.replicates.split(","))]
    entry = {"measured_at": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC", "orders": prep.data.n,
             "load_average": [round(load, 1), round(os.getloadavg()[0], 1)], "cores": os.cpu_count(), "rows": rows}
    OUT.write_text(json.dumps(entry, indent=1) + "\n")
    for r in rows:
        print(f"{prep.data.n:,} orders, {r['replicates']} replicates: first simulate {r['first_s']} s; a control change "
              f"{r['change_median_s']} s (max {r['change_max_s']} s); a dispatch-deadline change {r['dispatch_change_s']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
