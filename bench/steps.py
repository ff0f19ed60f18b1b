"""One benchmark step per process, so each step's peak memory is its own.

`python -m bench.steps STEP '{"json": "arguments"}'` runs STEP and prints one JSON line: `seconds` (the
timed work only, not the interpreter start) or `runs` (several timed calls inside one warm process),
plus what the step wants to report (rows, bytes, a result to check).
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from pathlib import Path

CANONICAL_CSV_SQL = """
SELECT o.order_id, o.placed_at, o.payment_method, o.amount, o.currency, o.buyer_id, o.seller_id,
       o.shipping_method, o.paid_at, o.shipped_at, o.delivered_at, o.status,
       r.requested_at AS cancel_requested_at, r.reason AS cancel_reason, r.seller_response,
       r.responded_at AS seller_responded_at, o.cancelled_at,
       f.channel AS refund_channel, f.amount AS refund_amount,
       f.initiated_at AS refund_initiated_at, f.completed_at AS refund_completed_at
FROM orders o
LEFT JOIN cancellation_requests r ON r.dataset_id = o.dataset_id AND r.order_id = o.order_id
LEFT JOIN refunds f ON f.dataset_id = o.dataset_id AND f.order_id = o.order_id
WHERE o.dataset_id = ?
ORDER BY o.source_line
"""


def profile(call, top: int = 6) -> dict[str, float]:
    """Where one call spends its time: the functions with the most self time (cProfile), in seconds."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.runcall(call)
    stats = pstats.Stats(profiler).stats
    rows = sorted(stats.items(), key=lambda item: item[1][2], reverse=True)[:top]
    out = {}
    for (filename, line, func), (_, _, self_time, _, _) in rows:
        where = Path(filename).name if filename != "~" else ""
        out[f"{where}:{line} {func}" if where else func] = round(self_time, 4)
    return out


def has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def _clock():
    start = time.perf_counter()
    return lambda: time.perf_counter() - start


class Phases:
    """A progress callback that remembers when each phase began: where an import's time goes."""

    def __init__(self):
        self.marks: list[tuple[float, str]] = []

    def __call__(self, fraction: float, text: str) -> None:
        # "reading <file name>": one label whatever the file is called
        self.marks.append((time.perf_counter(), "reading the file" if text.startswith("reading ") else text))

    def seconds(self) -> dict[str, float]:
        """Phase -> seconds, each phase running from its mark to the next (the last mark ends them)."""
        out: dict[str, float] = {}
        for (start, text), (end, _) in zip(self.marks, self.marks[1:], strict=False):
            out[text] = out.get(text, 0.0) + end - start
        return out


def generate(a: dict) -> dict:
    """Generate `size` orders into a new DuckDB file."""
    from analytics import db
    from analytics.generate import generate as run

    con = db.connect(a["db"])
    phases = Phases()
    elapsed = _clock()
    result = run(con, a["size"], a["seed"], name=f"bench {a['size']} seed {a['seed']}", progress=phases)
    seconds = elapsed()
    con.close()
    return {"seconds": seconds, "rows": result.stored, "refused": result.refused, "dataset_id": result.dataset.id,
            "phases": phases.seconds()}


def csv_write(a: dict) -> dict:
    """Write the data set as a canonical CSV export (one row per order)."""
    from analytics import db

    con = db.connect(a["db"], read_only=True)
    elapsed = _clock()
    con.sql(CANONICAL_CSV_SQL, params=[a["dataset_id"]]).write_csv(a["csv"])
    seconds = elapsed()
    con.close()
    return {"seconds": seconds, "bytes": Path(a["csv"]).stat().st_size, "rows": a["size"]}


def import_csv(a: dict) -> dict:
    """Import the canonical CSV into a new DuckDB file through the product's importer."""
    from analytics import db
    from analytics.importer import import_files

    con = db.connect(a["db"])
    phases = Phases()
    phases(0.0, "planning (header, delimiter, column match)")
    elapsed = _clock()
    result = import_files(con, [a["csv"]], name="bench import", progress=phases)
    seconds = elapsed()
    con.close()
    return {"seconds": seconds, "bytes": Path(a["csv"]).stat().st_size, "rows": result.stored,
            "refused": result.refused, "phases": phases.seconds()}


def raw_read_csv(a: dict) -> dict:
    """DuckDB's own read_csv of the same file into a plain table: the floor an import is measured against."""
    import duckdb

    con = duckdb.connect(a["db"])
    elapsed = _clock()
    con.execute("CREATE TABLE raw AS SELECT * FROM read_csv(?)", [a["csv"]])
    seconds = elapsed()
    rows = con.execute("SELECT count(*) FROM raw").fetchone()[0]
    con.close()
    return {"seconds": seconds, "bytes": Path(a["csv"]).stat().st_size, "rows": rows}


def store_floor(a: dict) -> dict:
    """The floor under any import of the file: its rows read once as the types they hold, and stored in the
    product's three tables with what the rules derive (ingest.store_rows), with no check, no reading of
    formats and no line kept for a refused row. An import that checks every row cannot be faster."""
    from analytics import db
    from analytics.csvfile import open_csv
    from analytics.formats import PLAIN_TIME
    from analytics.ingest import IS_CANCELLED_SQL, sql_type, store_rows

    con = db.connect(a["db"])
    csv = open_csv(a["csv"])
    columns = {c: sql_type(c) for c in csv.columns}
    csv.close()
    elapsed = _clock()
    # Read before the transaction, as the import reads: a row's id is then its position in the file.
    con.execute("CREATE TEMP TABLE typed AS SELECT * FROM read_csv(?, header = true, auto_detect = false, "
                f"columns = ?, timestampformat = '{PLAIN_TIME}')", [a["csv"], columns])
    con.execute("BEGIN TRANSACTION")
    store_rows(con, f"FROM (SELECT *, rowid + 2 AS source_line, {IS_CANCELLED_SQL} AS _is_cancelled FROM typed) "
                    "WHERE true", "floor")
    con.execute("COMMIT")
    seconds = elapsed()
    rows = con.execute("SELECT count(*) FROM orders WHERE dataset_id = 'floor'").fetchone()[0]
    con.close()
    return {"seconds": seconds, "bytes": Path(a["csv"]).stat().st_size, "rows": rows}


def report_warm(a: dict) -> dict:
    """The report function called `runs` + 1 times in one process; the first call warms up."""
    from analytics import db
    from bench import ours

    con = db.connect(a["db"], read_only=True)
    ours.report(con, a["dataset_id"])
    runs = []
    for _ in range(a["runs"]):
        elapsed = _clock()
        result = ours.report(con, a["dataset_id"])
        runs.append(elapsed())
    top = profile(lambda: ours.report(con, a["dataset_id"]))
    con.close()
    return {"runs": runs, "result": result, "profile": top}


def _page_filters(con, dataset_id: str) -> list:
    """Filter combinations the pages offer, from the data set's own values: none, a payment method, the
    last 30 days on each date anchor, a seller, a stage, two reasons, and several at once."""
    from datetime import timedelta

    from analytics.filters import Filters
    from analytics.report import date_bounds

    def one(sql: str):
        row = con.execute(sql, [dataset_id]).fetchall()
        return row[0][0] if row else None

    method = one("SELECT payment_method FROM orders WHERE dataset_id = ? GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
    seller = one("SELECT seller_id FROM orders WHERE dataset_id = ? AND seller_id IS NOT NULL "
                 "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
    reasons = [r for (r,) in con.execute("SELECT reason FROM cancellation_requests WHERE dataset_id = ? "
                                         "GROUP BY 1 ORDER BY count(*) DESC LIMIT 2", [dataset_id]).fetchall()]
    out = [Filters()]
    for anchor in ("order", "request", "refund"):
        first, last = date_bounds(con, dataset_id, anchor)
        if last is not None:
            out.append(Filters(start=last - timedelta(days=29), end=last, anchor=anchor))
    out += [Filters(payment_methods=(method,)) if method else Filters(),
            Filters(sellers=(seller,)) if seller else Filters(),
            Filters(stages=("awaiting_shipment",)), Filters(reasons=tuple(reasons)),
            Filters(payment_methods=(method,) if method else (), stages=("awaiting_shipment", "after_shipment"),
                    start=out[1].start if len(out) > 1 else None, end=out[1].end if len(out) > 1 else None)]
    return out


def report_resident(a: dict) -> dict:
    """The report as the dashboard computes it, the data set's orders kept in memory (load.keep_resident):
    the first call loads them and tallies their rollup (rollup.py; load_seconds); then every filter
    combination of _page_filters `runs` times (those of order days, payment methods and stages read from
    the rollup, a seller's and reasons' from the orders). Its unfiltered result is checked against the report read
    through SQL."""
    from analytics import db, load, memory
    from analytics.report import report

    con = db.connect(a["db"], read_only=True)
    plain = report(con, a["dataset_id"])
    load.keep_resident(memory.Limits(64 << 30, 3600))
    elapsed = _clock()
    kept = report(con, a["dataset_id"])
    load_seconds = elapsed()
    combos = _page_filters(con, a["dataset_id"])
    runs = []
    for _ in range(a["runs"]):
        for f in combos:
            elapsed = _clock()
            report(con, a["dataset_id"], f)
            runs.append(elapsed())
    top = profile(lambda: report(con, a["dataset_id"], combos[-1]))
    con.close()
    return {"runs": runs, "load_seconds": load_seconds, "filters": len(combos), "slowest": max(runs),
            "same": _same(plain, kept), "profile": top}


def _same(a, b, rel: float = 1e-9) -> bool:
    """Two reports equal, floats to a relative 1e-9 (sums added in another order)."""
    import math

    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k], rel) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y, rel) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12) or (math.isnan(a) and math.isnan(b))
    return a == b


def pandas_report(a: dict) -> dict:
    """The pandas reference, like ours warm: each run loads the tables from DuckDB and computes; the
    first run warms up. `compute_runs` times the computation alone, frames already in memory."""
    from analytics import db
    from bench import pandas_reference

    con = db.connect(a["db"], read_only=True)
    runs, compute_runs = [], []
    for _ in range(a["runs"] + 1):
        elapsed = _clock()
        frames = pandas_reference.load(con, a["dataset_id"])
        loaded = elapsed()
        result = pandas_reference.report(frames)
        runs.append(elapsed())
        compute_runs.append(runs[-1] - loaded)
        del frames
    con.close()
    return {"runs": runs[1:], "compute_runs": compute_runs[1:], "result": result}


def _prepared(a: dict, refit: bool = False):
    """The data set loaded and calibrated for the what-if engine, and the scenario's policy."""
    from analytics import db
    from analytics import simulate as whatif
    from analytics.policy import Policy

    con = db.connect(a["db"])  # writable: the calibration is stored beside the data set
    elapsed = _clock()
    prepared = whatif.prepare_dataset(con, a["dataset_id"], refit=refit)
    seconds = elapsed()
    con.close()
    return prepared, Policy().with_values(a["policy"]), seconds


def replay_once(prepared, policy, seed: int = 0, replicate: int = 0) -> dict:
    """One replay as the engine runs it for one replicate: the draws, the rules, the figures."""
    from analytics.replay import latent, replay, summarise

    lat = latent(prepared.data, prepared.calibration, seed, replicate)
    return summarise(prepared.data, replay(prepared.data, prepared.calibration, policy, lat))


def _drop_store(a: dict) -> None:
    """Delete the data set's what-if store, so the next prepare builds it as an import does."""
    import shutil

    from analytics import db

    con = db.connect(a["db"])
    root = db.store_dir(con)
    con.close()
    if root is not None:
        shutil.rmtree(root / a["dataset_id"], ignore_errors=True)


def whatif_replay(a: dict) -> dict:
    """Build the data set's what-if store as an import does (load the orders, fit and store the
    calibration, the arrays, the default replicates' bootstrap tallies and the baseline's replays), then
    one replay `runs` times."""
    _drop_store(a)
    prepared, policy, prepare_seconds = _prepared(a, refit=True)
    result = replay_once(prepared, policy)  # seed 0: the draws the pandas reference replays too
    runs = []
    for i in range(a["runs"]):
        elapsed = _clock()
        replay_once(prepared, policy, seed=i + 1)
        runs.append(elapsed())
    top = profile(lambda: replay_once(prepared, policy, seed=a["runs"] + 1))
    return {"runs": runs, "prepare_seconds": prepare_seconds, "result": result, "profile": top}


def whatif_replay_stored(a: dict) -> dict:
    """One replay in a new process on the data set's stored what-if arrays (built at import): what a
    replay costs in memory once the store exists, its arrays mapped from disk rather than built. Its
    time includes opening the store."""
    elapsed = _clock()
    prepared, policy, _ = _prepared(a)
    replay_once(prepared, policy, seed=1)
    return {"seconds": elapsed()}


def whatif_simulate(a: dict) -> dict:
    """simulate() with its default replicates (95% intervals), on a prepared data set, after one
    warm-up call."""
    from analytics import simulate as whatif
    from analytics.policy import Policy

    # A new process opening a stored data set: what the What-if page's first open asks of the engine.
    elapsed = _clock()
    prepared, policy, _ = _prepared(a)
    whatif.simulate(prepared, policy=Policy(), seed=0)
    open_seconds = elapsed()
    # The engine remembers replays it has run on a Prepared: a new seed per run makes each run compute.
    whatif.simulate(prepared, policy=policy, seed=0)
    runs = []
    for i in range(a["runs"]):
        elapsed = _clock()
        result = whatif.simulate(prepared, policy=policy, seed=i + 1)
        runs.append(elapsed())
    return {"runs": runs, "replicates": result["replicates"], "open_seconds": open_seconds}


def whatif_sweep(a: dict) -> dict:
    """sweep() of one parameter over its values, default replicates, on a prepared data set."""
    from analytics import simulate as whatif

    prepared, _, _ = _prepared(a)
    runs = []
    for i in range(a["runs"]):
        elapsed = _clock()
        result = whatif.sweep(prepared, a["param"], a["values"], seed=i + 1)  # a new seed: computed afresh
        runs.append(elapsed())
    return {"runs": runs, "points": len(result["points"]), "replicates": result["replicates"]}


def pandas_replay(a: dict) -> dict:
    """The pandas reference of the replay's rules, on the same orders and the same draws."""
    from bench import pandas_reference

    prepared, policy, _ = _prepared(a)
    frame = pandas_reference.replay_inputs(prepared)
    ours = replay_once(prepared, policy)
    runs = []
    for _ in range(a["runs"] + 1):
        elapsed = _clock()
        result = pandas_reference.replay(frame, policy)
        runs.append(elapsed())
    return {"runs": runs[1:], "result": result, "ours": ours}


STEPS = {f.__name__: f for f in (generate, csv_write, import_csv, raw_read_csv, store_floor, report_warm, report_resident,
                                 pandas_report,
                                 whatif_replay, whatif_replay_stored, whatif_simulate, whatif_sweep, pandas_replay)}


def _plain(value):
    """JSON for NumPy scalars; anything else as text."""
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def main(argv: list[str]) -> int:
    name, args = argv[0], json.loads(argv[1])
    print(json.dumps(STEPS[name](args), default=_plain))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
