"""The what-if engine's arrays of a data set, built once and kept on disk next to the database.

Loading a data set's orders and turning them into the replay's arrays takes seconds at a million orders
(about 2 s here, 20 at ten million), and every new server process would pay it again at its first
What-if page. A data set never changes once stored (an import makes a new one), so its arrays are built
once, when it is imported or generated (or, for one stored before, the first time the engine opens it),
and written as NumPy files; a later process maps them into memory (`np.load(mmap_mode="r")`: the pages
are read as the replay touches them, and shared by every process that maps them).

With the arrays go the bootstrap's tallies of the replicates the pages ask for by default (seed 0,
simulate.DEFAULT_REPLICATES of them): one weighted pass over every order each, the same for every policy,
so a first replay needs none of them. And the baseline's replicates under the data set's calibration
(`replays.json`, what the What-if page shows first), kept for that calibration only: a refit makes them
stale.

Layout: DIR/<data set id>/ (DIR: db.store_dir) holds `manifest.json` (the format, the code it was built
by, the data set's creation time, the fields and what each is), one `.npy` per array, and
`order_id.arrow`. A store built by other code (any change to the modules that shape the arrays) or for
another data set of the same id is ignored and rebuilt. Writing goes to a temporary directory renamed
into place, so a reader never sees half a store, and two processes building at once keep one of them.

    load(con, dataset) -> Stored | None     the arrays and kept tallies, or None when absent or stale
    save(con, dataset, data, resamples)      write them (best effort: a read-only place is left alone)
    resamples(data, seed, replicates)        the bootstrap tallies to keep with the arrays
    load_replays(con, dataset, calibration) / save_replays(con, dataset, calibration, replays)
                                             replicates' figures, {(seed, replicate): (these orders,
                                             a resampled period)}, of the baseline under `calibration`
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from analytics import db
from analytics.replay_data import ReplayData, Resample, View, resample
from analytics.tally import Tally

FORMAT = 1
# The modules whose code decides what the arrays and the kept tallies hold: a change to any of them
# makes every store stale (rebuilt at the next open), so a store can never disagree with the code.
_SHAPERS = ("replay_data.py", "orders.py", "rules.py", "tally.py", "draws.py", "outcomes.py", "load.py",
            "replay_store.py")


def _code_fingerprint(modules: tuple[str, ...]) -> str:
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for name in modules:
        digest.update(name.encode())
        digest.update((here / name).read_bytes())
    return digest.hexdigest()[:16]


CODE = _code_fingerprint(_SHAPERS)
# ... and those whose code decides a replay's figures from the arrays.
REPLAY_CODE = _code_fingerprint((*_SHAPERS, "replay.py", "calibrate.py", "policy.py", "figures.py", "partials.py",
                                 "distributions.py", "simulate.py"))


@dataclass(frozen=True)
class Stored:
    data: ReplayData
    resamples: dict   # (seed, replicate) -> Resample


def resamples(data: ReplayData, seed: int, replicates: int) -> dict:
    """The bootstrap's weighted tallies of replicates 0..replicates-1 of `seed` (replay_data.resample)."""
    return {(seed, k): resample(data, seed, k) for k in range(replicates)}


def _where(con, dataset: db.Dataset) -> Path | None:
    root = db.store_dir(con)
    return None if root is None else root / dataset.id


def _stamp(dataset: db.Dataset) -> dict:
    return {"format": FORMAT, "code": CODE, "dataset": dataset.id, "created_at": dataset.created_at.isoformat(),
            "orders": dataset.orders}


# --- writing ------------------------------------------------------------------------------------------

def _flatten(obj, prefix: str, arrays: dict, plain: dict) -> None:
    """A dataclass's fields as arrays (`arrays`, by dotted name) and JSON values (`plain`); nested Views
    and Tallies by their dotted names. Caches (dict fields) are not kept: they fill again on use."""
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        name = f"{prefix}{f.name}"
        if isinstance(value, np.ndarray):
            arrays[name] = value
        elif isinstance(value, View | Tally):
            plain[name] = {"kind": type(value).__name__}
            _flatten(value, f"{name}.", arrays, plain)
        elif isinstance(value, pl.Series):
            plain[name] = {"kind": "series"}
        elif isinstance(value, dict):
            continue
        elif isinstance(value, tuple):
            plain[name] = {"kind": "tuple", "value": list(value)}
        elif value is None or isinstance(value, int | float | str):
            plain[name] = {"kind": "value", "value": value}
        else:  # a new kind of field must be taught here, not silently dropped
            raise TypeError(f"cannot store {name} of type {type(value).__name__}")


def save(con, dataset: db.Dataset, data: ReplayData, kept: dict) -> Path | None:
    """Write the store of `dataset`; None (and nothing written) where the database has no directory of its
    own (in memory) or the directory cannot be written."""
    target = _where(con, dataset)
    if target is None:
        return None
    arrays: dict[str, np.ndarray] = {}
    plain: dict[str, dict] = {}
    _flatten(data, "", arrays, plain)
    boots = []
    for i, ((seed, k), boot) in enumerate(sorted(kept.items())):
        _flatten(boot.rest, f"boot{i}.", arrays, {})
        if boot.small is not None:   # the small view's weights, which every replay of the replicate reads
            arrays[f"boot{i}.small"] = boot.small
        boots.append({"seed": seed, "replicate": k, "total": boot.total, "prefix": f"boot{i}."})
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{dataset.id}-", dir=target.parent))
        try:
            for name, array in arrays.items():
                np.save(tmp / f"{name}.npy", np.ascontiguousarray(array), allow_pickle=False)
            data.order_id.to_frame().write_ipc(tmp / "order_id.arrow")
            manifest = {**_stamp(dataset), "fields": plain, "arrays": sorted(arrays), "resamples": boots}
            (tmp / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
            if target.exists():
                shutil.rmtree(target, ignore_errors=True)   # a stale store of the same data set
            os.rename(tmp, target)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
            if target.exists():   # another process put its (identical) store there first
                return target
            raise
    except OSError:
        return None
    return target


# --- reading ------------------------------------------------------------------------------------------

def _build(cls, prefix: str, plain: dict, arrays: dict, order_id: pl.Series | None):
    values = {}
    for f in dataclasses.fields(cls):
        name = f"{prefix}{f.name}"
        if name in arrays:
            values[f.name] = arrays[name]
        elif name in plain:
            kind = plain[name]["kind"]
            if kind in ("View", "Tally"):
                values[f.name] = _build(View if kind == "View" else Tally, f"{name}.", plain, arrays, None)
            elif kind == "series":
                values[f.name] = order_id
            elif kind == "tuple":
                values[f.name] = tuple(plain[name]["value"])
            else:
                values[f.name] = plain[name]["value"]
    return cls(**values)


def load(con, dataset: db.Dataset) -> Stored | None:
    """The stored arrays of `dataset`, memory-mapped, with its kept bootstrap tallies; None when there is
    no store, or it was built by other code or for another data set (the caller rebuilds it)."""
    where = _where(con, dataset)
    if where is None or not (where / "manifest.json").is_file():
        return None
    try:
        manifest = json.loads((where / "manifest.json").read_text(encoding="utf-8"))
        if any(manifest.get(k) != v for k, v in _stamp(dataset).items()):
            return None
        # Plain arrays over the mapped files: np.memmap's own indexing costs more than the replay's work.
        arrays = {name: np.asarray(np.load(where / f"{name}.npy", mmap_mode="r", allow_pickle=False))
                  for name in manifest["arrays"]}
        order_id = pl.read_ipc(where / "order_id.arrow").to_series()
        data = _build(ReplayData, "", manifest["fields"], arrays, order_id)
        # The weights in memory: np.bincount copies a read-only (mapped) weights array at every call,
        # which costs a replay more than the count itself.
        kept = {(b["seed"], b["replicate"]): Resample(b["seed"], b["replicate"],
                                                      _build(Tally, b["prefix"], {}, arrays, None), b["total"],
                                                      small=_in_memory(arrays.get(f"{b['prefix']}small")))
                for b in manifest["resamples"]}
    except (OSError, ValueError, KeyError):
        return None   # unreadable or from an older layout: rebuilt like a missing one
    return Stored(data, kept)


def _in_memory(array: np.ndarray | None) -> np.ndarray | None:
    return None if array is None else np.array(array)


# --- the baseline's replays ---------------------------------------------------------------------------

def _calibration_key(calibration) -> str:
    text = json.dumps(calibration.to_json(), sort_keys=True, default=str)
    return hashlib.sha256(f"{REPLAY_CODE}:{text}".encode()).hexdigest()[:24]


def save_replays(con, dataset: db.Dataset, calibration, replays: dict) -> None:
    """Keep replicates' figures of the baseline under `calibration` beside the arrays (best effort)."""
    where = _where(con, dataset)
    if where is None or not (where / "manifest.json").is_file():
        return
    rows = [{"seed": seed, "replicate": k, "orders": a, "period": b} for (seed, k), (a, b) in sorted(replays.items())]
    try:
        tmp = where / f".replays-{os.getpid()}.json"
        tmp.write_text(json.dumps({"calibration": _calibration_key(calibration), "rows": rows}), encoding="utf-8")
        os.replace(tmp, where / "replays.json")
    except OSError:
        return


def load_replays(con, dataset: db.Dataset, calibration) -> dict | None:
    """The kept replicates' figures of the baseline, if kept for this calibration by this code."""
    where = _where(con, dataset)
    if where is None:
        return None
    try:
        kept = json.loads((where / "replays.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if kept.get("calibration") != _calibration_key(calibration):
        return None
    return {(r["seed"], r["replicate"]): (r["orders"], r["period"]) for r in kept["rows"]}
