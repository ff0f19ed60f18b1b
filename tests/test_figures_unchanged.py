"""Every figure is the same as when the snapshot was taken: the report, the registry's scalars and tables,
what-if simulations and a sweep, the engine's self-check and calibration, and the command line's JSON,
for the demo data set, the 20-order sample (data/sample_orders.csv) and the shared Olist sample.

The snapshot (tests/snapshots/figures.json) was written by this module's own code before the metrics
layer was restructured; a restructuring that keeps every figure keeps this test green. Floats are
compared with a relative tolerance of 1e-9 (and an absolute one of 1e-12, for sums that should be 0);
ints, strings, booleans and None exactly, and an int that became a float (12 -> 12.0) is a change.

Words are kept apart from figures: labels of metrics, what-if figures and policy parameters, the reasons
given for what a data set cannot support, the assumptions of a what-if, and the command line's text
output are compared by test_labels_unchanged alone, so a deliberate relabelling fails that one test
(listing every change) and leaves the figures' test to say whether any number moved.

A change to the snapshot must be deliberate, and its commit says which figures changed and why.
Regenerate it (after reading the failure and deciding the new values are right) with either of

    UPDATE_SNAPSHOT=1 .venv/bin/python -m pytest tests/test_figures_unchanged.py -q
    .venv/bin/python -m tests.test_figures_unchanged --write

and review `git diff tests/snapshots/figures.json` before committing. When the Olist sample is absent
(../shared/data/olist-sample), regeneration keeps the snapshot's Olist section as it was.

To keep the file small, nothing is held twice: a what-if figure that nothing random moves (value, low,
high, orders_low and orders_high all equal) is kept as its one value; every simulation's and the sweep's
baseline as its differences from the default policy's; the command line's JSON (`report --json`, with
and without filters, and `simulate --json`, run in process) as its differences from the same call made
in process. [] there means "the same", and a difference shows up as a changed figure.

The Olist sample's licence keeps its rows out of the repository: its section holds aggregate figures
only. A table with one row per seller or per refund is kept for it as a fingerprint (row count and
per-column sums, extremes and an order-sensitive checksum), never as rows; for the generated data
sets, such a table's first rows are kept beside its fingerprint.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import io
import json
import math
import os
import sys
import tempfile
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = ROOT / "tests" / "snapshots" / "figures.json"
SAMPLE_CSV = ROOT / "data" / "sample_orders.csv"
OLIST_DIR = ROOT.parent / "shared" / "data" / "olist-sample"
OLIST_FILES = ("olist_orders_dataset.csv", "olist_order_payments_dataset.csv", "olist_order_items_dataset.csv")
DATASETS = ("demo", "sample", "olist")

REL_TOL, ABS_TOL = 1e-9, 1e-12
SEED, REPLICATES = 0, 3
MAX_ROWS = 100    # a longer table is kept as a fingerprint and its first HEAD_ROWS rows
HEAD_ROWS = 10
PER_ENTITY = ("sellers", "refund_latency_distribution")   # one row per seller / refund: Olist's rows

# Each data set's filter combinations: none, a date range, a payment method, a stage, and several at once.
FILTERS = {
    "demo": {
        "dates": {"start": date(2026, 3, 1), "end": date(2026, 4, 30)},
        "payment": {"payment_methods": ("card",)},
        "stage": {"stages": ("awaiting_shipment",)},
        "combined": {"start": date(2026, 2, 1), "end": date(2026, 5, 31), "anchor": "request",
                     "payment_methods": ("cod", "wallet"), "stages": ("awaiting_shipment", "after_shipment")},
    },
    "sample": {
        "dates": {"start": date(2026, 6, 3), "end": date(2026, 6, 12)},
        "payment": {"payment_methods": ("card",)},
        "stage": {"stages": ("awaiting_shipment",)},
        "combined": {"start": date(2026, 6, 1), "end": date(2026, 6, 16), "anchor": "refund",
                     "payment_methods": ("card", "cod", "wallet"), "stages": ("awaiting_shipment", "after_shipment")},
    },
    "olist": {
        "dates": {"start": date(2017, 6, 1), "end": date(2017, 12, 31)},
        "payment": {"payment_methods": ("boleto",)},
        "stage": {"stages": ("before_payment",)},
        "combined": {"start": date(2017, 1, 1), "end": date(2018, 3, 31),
                     "payment_methods": ("credit_card", "voucher"), "stages": ("awaiting_shipment", "after_shipment")},
    },
}
TABLE_FILTERS = ("none", "combined")   # the tables are kept under these two

# What-if: the default policy and changed ones, as the command line's --set writes them.
POLICIES = {
    "default": [],
    "window_24h": ["seller_response_hours=24"],
    "consent_off": ["seller_consent_required=false"],
    "late_dispatch_3d": ["late_dispatch_action=auto_cancel", "dispatch_deadline_days=3"],
    "lapse_336h_never_answer": ["seller_response_hours=336", "timeout_action=lapse", "never_answer_share=0.2"],
}
SWEEP = ("seller_response_hours", ["24", "168"])
CLI_POLICY = "window_24h"   # the command line's simulate runs this one


# ---------------------------------------------------------------------------------------------------
# Plain values: what JSON holds, with dates as ISO text and NaN/inf spelled out.

def plain(value):
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else repr(float(value))   # 'nan', 'inf'
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return f"timedelta:{value.total_seconds()}"
    if hasattr(value, "item"):   # a NumPy scalar
        return plain(value.item())
    raise TypeError(f"no plain form for {type(value).__name__}: {value!r}")


def _words(found: dict | None, labels: dict, path: str) -> list[str] | None:
    """A {key: why} map: its keys stay with the figures, its sentences go to the labels."""
    if found is None:
        return None
    for key, why in found.items():
        labels[f"{path}.{key}"] = why
    return sorted(found)


# ---------------------------------------------------------------------------------------------------
# Tables: rows, or a fingerprint when long (or one row per seller or refund of Olist).

def _column_fingerprint(values: list) -> dict:
    present = [v for v in values if v is not None]
    out: dict = {"nulls": len(values) - len(present)}
    numbers = [v for v in present if isinstance(v, int | float) and not isinstance(v, bool)]
    if present and len(numbers) == len(present):
        finite = [float(v) for v in numbers if math.isfinite(v)]
        out.update({
            "sum": math.fsum(finite), "sum_of_squares": math.fsum(v * v for v in finite),
            # order-sensitive: the same values in another order give another weighted sum
            "weighted_sum": math.fsum((i + 1) * float(v) for i, v in enumerate(values)
                                      if v is not None and math.isfinite(v)),
            "min": min(numbers), "max": max(numbers), "non_finite": len(numbers) - len(finite),
        })
    else:
        text = "\x1f".join("\x00" if v is None else repr(plain(v)) for v in values)
        out.update({"distinct": len({repr(plain(v)) for v in present}),
                    "checksum": hashlib.sha256(text.encode()).hexdigest()[:16]})
        if present and all(isinstance(v, bool) for v in present):
            out["true"] = sum(present)
    return out


def _table(table, keep_rows: bool, labels: dict, path: str) -> dict:
    out: dict = {"metric": table.metric, "available": table.available,
                 "notes": _words(table.notes, labels, f"{path}.notes")}
    if not table.available:
        labels[f"{path}.unavailable"] = table.unavailable
        return out
    frame = table.frame
    out["columns"] = frame.columns
    out["row_count"] = frame.height
    rows = plain(frame.to_dicts())
    if frame.height > MAX_ROWS or not keep_rows:
        out["fingerprint"] = {c: _column_fingerprint(frame[c].to_list()) for c in frame.columns}
        if keep_rows:
            out["head"] = rows[:HEAD_ROWS]
    else:
        out["rows"] = rows
    return out


def _table_calls(report) -> list[tuple[str, Callable, dict]]:
    """Every registry table through report.py's functions, with the options the pages use."""
    return [
        ("volume_over_time", report.volume_over_time, {}),
        ("volume_over_time?period=month", report.volume_over_time, {"period": "month"}),
        ("volume_by_payment_method", report.volume_by, {"by": "payment_method"}),
        ("volume_by_shipping_method", report.volume_by, {"by": "shipping_method"}),
        ("money_by_currency", report.money_by_currency, {}),
        ("stages", report.stages, {}),
        ("lifecycle", report.lifecycle, {}),
        ("orders_by_status", report.orders_by_status, {}),
        ("reasons", report.reasons, {}),
        ("reasons_by_stage", report.reasons, {"by": "stage"}),
        ("reasons_by_payment_method", report.reasons, {"by": "payment_method"}),
        ("reasons_over_time", report.reasons, {"by": "period"}),
        ("reasons_over_time?period=month", report.reasons, {"by": "period", "period": "month"}),
        ("reason_cancelled_gmv", report.reason_cancelled_gmv, {}),
        ("outcomes", report.outcomes, {}),
        ("response_time", report.response_time, {}),
        ("response_time?by=stage", report.response_time, {"by": "stage"}),
        ("response_time?by=reason", report.response_time, {"by": "reason"}),
        ("response_time?by=payment_method", report.response_time, {"by": "payment_method"}),
        ("refunds_by_payment_method", report.refunds_by, {"by": "payment_method"}),
        ("refunds_by_channel", report.refunds_by, {"by": "channel"}),
        ("refund_latency_by_payment_method", report.refund_latency, {"by": "payment_method"}),
        ("refund_latency_by_channel", report.refund_latency, {"by": "channel"}),
        ("refund_latency_distribution", report.refund_latency_distribution, {}),
        ("refund_share_over_threshold", report.refund_share_over, {}),
        ("refund_share_over_threshold?by=channel&threshold_days=10", report.refund_share_over,
         {"by": "channel", "threshold_days": 10}),
        ("refund_share_over_threshold?by=none&from_request=true", report.refund_share_over,
         {"by": None, "from_request": True}),
        ("sellers", report.sellers, {}),
        ("sellers?sort_by=acceptance_rate", report.sellers, {"sort_by": "acceptance_rate"}),
        ("sellers?sort_by=cancellation_rate_low", report.sellers, {"sort_by": "cancellation_rate_low"}),
        ("seller_losses", report.seller_losses, {}),
    ]


# ---------------------------------------------------------------------------------------------------
# Everything, for one data set.

def _exact(node):
    """A what-if figure that nothing random moves ({"value": v, "low": v, ...} all equal, or all None)
    as its one value; the others as they are."""
    if isinstance(node, dict):
        if set(node) == {"value", "low", "high", "orders_low", "orders_high"}:
            values = list(node.values())
            same = all(type(v) is type(values[0]) and v == values[0] for v in values)
            return values[0] if same else node
        return {k: _exact(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_exact(v) for v in node]
    return node


def _what_if(result: dict, labels: dict, path: str) -> dict:
    result = _exact(result)
    out = dict(result)
    out["dataset"] = result["dataset"]["name"]
    out["unavailable"] = _words(result["unavailable"], labels, f"{path}.unavailable")
    if "assumptions" in out:
        out["assumptions"] = _words(result["assumptions"], labels, f"{path}.assumptions")
    return plain(out)


def _cli(argv: list[str]) -> str:
    from analytics.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    assert code == 0, f"python -m analytics {' '.join(argv)} failed: {err.getvalue()}"
    return out.getvalue()


REPORT_PARTS = ("report", "scalars", "unavailable_metrics", "tables")


def report_figures(con, name: str, dataset, labels: dict) -> dict:
    """The report's part of a data set's figures (REPORT_PARTS): the report, the scalars and every
    registry table under each filter combination."""
    from analytics import metrics as m
    from analytics import report
    from analytics.filters import Filters

    filters = {"none": Filters(), **{k: Filters(**v) for k, v in FILTERS[name].items()}}
    figures: dict = {}

    figures["report"] = {}
    figures["scalars"] = {}
    for key, f in filters.items():
        got = report.report(con, dataset, f)
        assert got["dataset"]["id"] == dataset.id
        got["dataset"] = got["dataset"]["name"]
        got["unavailable"] = _words(got["unavailable"], labels, f"report.{key}.unavailable")
        figures["report"][key] = plain(got)
        figures["scalars"][key] = plain(report.scalars(con, dataset, f, m.SCALARS))
    figures["unavailable_metrics"] = _words(report.unavailable(con, dataset), labels, "unavailable_metrics")

    keep_rows = name != "olist"
    figures["tables"] = {}
    for key in TABLE_FILTERS:
        out = figures["tables"][key] = {}
        for call, fn, options in _table_calls(report):
            entity = call.split("?")[0] in PER_ENTITY
            out[call] = _table(fn(con, dataset, filters[key], **options), keep_rows or not entity, labels,
                               f"tables.{key}.{call}")
    return figures


def figures_of(con, name: str, dataset) -> tuple[dict, dict]:
    """(figures, labels) of one stored data set, computed in process."""
    from analytics import simulate as whatif
    from analytics.policy import Policy

    labels: dict = {}
    figures: dict = {"dataset": dataset.name, "orders": dataset.orders, **report_figures(con, name, dataset, labels)}
    prep = whatif.prepare_dataset(con, dataset.id)
    figures["calibration"] = plain(prep.calibration.summary())
    check = whatif.self_check(prep)
    check["examples"] = {k: len(v) for k, v in check["examples"].items()}   # order ids: counts only
    figures["self_check"] = plain(check)
    figures["simulate"] = {
        key: _what_if(whatif.simulate(prep, policy=Policy.from_settings(settings), replicates=REPLICATES,
                                      seed=SEED), labels, f"simulate.{key}")
        for key, settings in POLICIES.items()}
    param, values = SWEEP
    sweep = whatif.sweep(prep, param, values, replicates=REPLICATES, seed=SEED)
    sweep["dataset"] = sweep["dataset"]["name"]
    sweep["unavailable"] = _words(sweep["unavailable"], labels, "sweep.unavailable")
    figures["sweep"] = plain(_exact(sweep))
    return figures, labels


def command_line(db_path: Path, name: str, dataset, figures: dict) -> tuple[dict, dict]:
    """(figures, labels) of the command line run in process on the database file (no other connection
    open: the command opens the file its own way). Its JSON is kept as its differences from the same
    figures computed in process (so the snapshot does not hold them twice; [] = the same), its text as
    words."""
    labels: dict = {}
    common = ["--db", str(db_path), "--dataset", dataset.id]
    combined = FILTERS[name]["combined"]
    report_filters = ["--from", combined["start"].isoformat(), "--to", combined["end"].isoformat(),
                      "--anchor", combined.get("anchor", "order"),
                      *(a for pm in combined["payment_methods"] for a in ("--payment-method", pm)),
                      *(a for st in combined["stages"] for a in ("--stage", st))]
    simulate_args = ["simulate", *(a for s in POLICIES[CLI_POLICY] for a in ("--set", s)),
                     "--replicates", str(REPLICATES), "--seed", str(SEED)]
    twins = {"report": (["report"], figures["report"]["none"]),
             "report_filtered": (["report", *report_filters], figures["report"]["combined"]),
             "simulate": (simulate_args, figures["simulate"][CLI_POLICY])}
    cli: dict = {}
    for key, (argv, twin) in twins.items():
        got = _exact(json.loads(_cli([*argv, "--json", *common])))
        assert got["dataset"]["id"] == dataset.id
        got["dataset"] = got["dataset"]["name"]
        got["unavailable"] = _words(got["unavailable"], labels, f"cli.{key}.unavailable")
        if "assumptions" in got:
            got["assumptions"] = _words(got["assumptions"], labels, f"cli.{key}.assumptions")
        cli[f"{key}_vs_in_process"] = plain(differences(twin, got))
    for key, argv in (("report", ["report"]), ("simulate", simulate_args)):
        labels[f"cli_text.{key}"] = _cli([*argv, *common]).replace(dataset.id, "<dataset id>")
    return cli, labels


def common_labels() -> dict:
    """The words every data set shares: the registry's, the what-if figures' and the policy's."""
    from analytics import figures
    from analytics import metrics as m
    from analytics.policy import PARAMETERS

    return plain({
        "metrics": {n: {"label": x.label, "unit": x.unit, "format": x.fmt, "description": x.description}
                    for n, x in m.REGISTRY.items()},
        "what_if": {n: {"label": f.label, "unit": f.unit, "counts": f.description}
                    for n, f in figures.WHATIF.items()},
        "policy": {p.name: {"label": p.label, "help": p.help, "unit": p.unit, "range": p.range_text}
                   for p in PARAMETERS},
    })


def olist_present() -> bool:
    return all((OLIST_DIR / f).exists() for f in OLIST_FILES)


def compute(folder: Path) -> dict:
    """{"figures": {data set: ...}, "labels": {"common": ..., data set: ...}} for every data set at hand,
    stored in a fresh database under `folder`."""
    from analytics import db, importer
    from analytics.commands.data import ensure_demo

    path = folder / "figures.duckdb"
    con = db.connect(path)
    try:
        stored = {"demo": ensure_demo(con),
                  "sample": importer.import_files(con, [SAMPLE_CSV], name="Sample shop").dataset}
        if olist_present():
            stored["olist"] = importer.import_files(con, [OLIST_DIR / f for f in OLIST_FILES], name="Olist").dataset
        out: dict = {"figures": {}, "labels": {"common": common_labels()}}
        for name, dataset in stored.items():
            out["figures"][name], out["labels"][name] = figures_of(con, name, dataset)
    finally:
        con.close()
    for name, dataset in stored.items():
        out["figures"][name]["cli"], labels = command_line(path, name, dataset, out["figures"][name])
        out["labels"][name].update(labels)
        out["labels"][name] = _grouped(out["labels"][name])
        _one_baseline(out["figures"][name])
    return out


def _one_baseline(figures: dict) -> None:
    """Every run shares the default policy's baseline (same seed and replicates): kept once, the others
    as their differences from it ([] = the same)."""
    baseline = figures["simulate"]["default"]["baseline"]
    for result in (*(v for k, v in figures["simulate"].items() if k != "default"), figures["sweep"]):
        result["baseline_vs_default"] = plain(differences(baseline, result.pop("baseline")))


def _grouped(labels: dict) -> dict:
    """The command line's texts by name; every other sentence once, with the paths that give it."""
    texts = {k.removeprefix("cli_text."): v for k, v in labels.items() if k.startswith("cli_text.")}
    by_text: dict[str, list[str]] = {}
    for path, text in labels.items():
        if not path.startswith("cli_text."):
            by_text.setdefault(text, []).append(path)
    return {"cli_text": texts, "reasons": {t: sorted(p) for t, p in sorted(by_text.items())}}


# ---------------------------------------------------------------------------------------------------
# Comparing.

def differences(old, new, path: str = "") -> list[tuple[str, object, object]]:
    """(path, old, new) for each value that changed; a missing key or list item is '(absent)'."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in [*old, *(k for k in new if k not in old)]:
            where = f"{path}.{key}" if path else str(key)
            if key not in new:
                out.append((where, old[key], "(absent)"))
            elif key not in old:
                out.append((where, "(absent)", new[key]))
            else:
                out += differences(old[key], new[key], where)
        return out
    if isinstance(old, list) and isinstance(new, list):
        out = []
        for i in range(max(len(old), len(new))):
            where = f"{path}[{i}]"
            if i >= len(new):
                out.append((where, old[i], "(absent)"))
            elif i >= len(old):
                out.append((where, "(absent)", new[i]))
            else:
                out += differences(old[i], new[i], where)
        return out
    numbers = (int, float)
    if (isinstance(old, numbers) and isinstance(new, numbers) and not isinstance(old, bool)
            and not isinstance(new, bool)):
        if type(old) is not type(new):
            return [(f"{path} ({type(old).__name__} -> {type(new).__name__})", old, new)]
        if isinstance(old, float) and math.isclose(old, new, rel_tol=REL_TOL, abs_tol=ABS_TOL):
            return []
        return [] if old == new else [(path, old, new)]
    return [] if type(old) is type(new) and old == new else [(path, old, new)]


def _short(value, limit: int = 160) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) or value == "(absent)" else repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def explain(dataset: str, found: list, what: str, shown: int = 60) -> str:
    where = "the words every data set shares" if dataset == "common" else f"data set {dataset!r}"
    lines = [f"{len(found)} {what} changed in {where} since the snapshot ({SNAPSHOT.name}):"]
    for path, old, new in found[:shown]:
        if isinstance(old, str) and isinstance(new, str) and "\n" in old + new:
            diff = difflib.unified_diff(old.splitlines(), new.splitlines(), "before", "now", lineterm="", n=1)
            lines.append(f"  {dataset}: {path}:\n    " + "\n    ".join(diff))
        else:
            lines.append(f"  {dataset}: {path}: was {_short(old)}, now {_short(new)}")
    if len(found) > shown:
        lines.append(f"  ... and {len(found) - shown} more")
    lines.append("If the change is meant, regenerate the snapshot (see this module's docstring) and say why "
                 "in the commit.")
    return "\n".join(lines)


def load_snapshot() -> dict:
    return json.loads(SNAPSHOT.read_text(encoding="utf-8"))


def _dump(value, depth: int = 0, width: int = 200) -> str:
    """JSON with one line per small dict or list (a figure's value/low/high, a table's row), so the file
    stays small and a changed figure is one changed line in its diff."""
    flat = json.dumps(value, ensure_ascii=False)
    if not isinstance(value, dict | list) or not value or len(flat) + depth <= width:
        return flat
    pad = " " * (depth + 1)
    if isinstance(value, dict):
        items = [f"{pad}{json.dumps(k, ensure_ascii=False)}: {_dump(v, depth + 1, width)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * depth + "}"
    items = [pad + _dump(v, depth + 1, width) for v in value]
    return "[\n" + ",\n".join(items) + "\n" + " " * depth + "]"


def write_snapshot(current: dict) -> dict:
    """Write the snapshot from `current`; a data set missing from it (Olist absent) keeps its old section."""
    old = load_snapshot() if SNAPSHOT.exists() else {"figures": {}, "labels": {}}
    for name in DATASETS:
        if name not in current["figures"] and name in old["figures"]:
            print(f"{name}: not at hand, its section of the snapshot is kept as it was", file=sys.stderr)
            current["figures"][name] = old["figures"][name]
            current["labels"][name] = old["labels"].get(name, {})
    snapshot = {
        "about": "Figures before the metrics restructuring; see tests/test_figures_unchanged.py. A change here "
                 "must be deliberate and explained in its commit.",
        "figures": current["figures"],
        "labels": current["labels"],
    }
    SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
    SNAPSHOT.write_text(_dump(snapshot) + "\n", encoding="utf-8")
    return snapshot


# ---------------------------------------------------------------------------------------------------
# The tests.

@pytest.fixture(scope="module")
def current(tmp_path_factory) -> dict:
    found = compute(tmp_path_factory.mktemp("figures"))
    if os.environ.get("UPDATE_SNAPSHOT") == "1":
        write_snapshot(json.loads(json.dumps(found)))
    return json.loads(json.dumps(found))   # as the snapshot reads back: tuples are lists


@pytest.fixture(scope="module")
def snapshot(current) -> dict:
    if not SNAPSHOT.exists():
        pytest.fail(f"{SNAPSHOT} is missing; write it with UPDATE_SNAPSHOT=1 (see the module docstring)")
    return load_snapshot()


def _needs(name: str) -> None:
    if name == "olist" and not olist_present():
        pytest.skip(f"the Olist sample is absent: expected {', '.join(OLIST_FILES)} in {OLIST_DIR}")


@pytest.mark.parametrize("name", DATASETS)
def test_figures_unchanged(name, current, snapshot):
    _needs(name)
    assert name in snapshot["figures"], f"the snapshot has no figures of {name!r}; regenerate it"
    found = differences(snapshot["figures"][name], current["figures"][name])
    assert not found, explain(name, found, "figures")


def test_labels_unchanged(current, snapshot):
    """Words only: a deliberate relabelling fails here, listing each change, and nowhere else."""
    failures = []
    for name in ("common", *DATASETS):
        if name == "olist" and not olist_present():
            continue
        found = differences(snapshot["labels"].get(name, {}), current["labels"][name])
        if found:
            failures.append(explain(name, found, "labels and texts"))
    assert not failures, "\n\n".join(failures)


def test_every_registry_table_is_in_the_snapshot(snapshot):
    from analytics import metrics as m

    kept = {t["metric"] for t in snapshot["figures"]["demo"]["tables"]["none"].values()}
    assert kept == set(m.TABLES)
    assert set(snapshot["figures"]["demo"]["scalars"]["none"]) == set(m.SCALARS)


def test_the_comparison_names_what_changed():
    old = {"a": 1, "b": [1.0, 2.0], "c": "x", "d": 3}
    new = {"a": 1.0, "b": [1.0 + 1e-12, 2.1], "c": "y", "e": None}
    assert differences(old, new) == [("a (int -> float)", 1, 1.0), ("b[1]", 2.0, 2.1), ("c", "x", "y"),
                                     ("d", 3, "(absent)"), ("e", "(absent)", None)]
    assert differences(0.0, 1e-13) == [] and differences(True, 1) == [("", True, 1)]
    text = explain("demo", differences(old, new), "figures")
    assert "demo: b[1]: was 2.0, now 2.1" in text


def main(argv: list[str]) -> int:
    if argv != ["--write"]:
        print(__doc__)
        return 2
    with tempfile.TemporaryDirectory() as folder:
        snapshot = write_snapshot(compute(Path(folder)))
    print(f"wrote {SNAPSHOT} ({SNAPSHOT.stat().st_size:,} bytes; data sets: {', '.join(snapshot['figures'])})")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main(sys.argv[1:]))
