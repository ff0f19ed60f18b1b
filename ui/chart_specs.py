"""A chart's Vega-Lite spec, made once for the same chart and shared by every run and session.

`st.altair_chart` converts its chart to a spec on every run: the chart is built again, its spec
validated against the Vega-Lite JSON schema and its data serialised to Arrow; on a page of a dozen
charts that was most of a click's work. Here a chart is given as its recipe, `partial(builder, frame,
...)` (a builder of analytics.charts and its arguments), and the spec is kept by a key made of the
builder's name and the arguments' contents (a frame by a digest of its rows). A page that draws
the same chart again, in any session, finds the spec; a changed argument makes a new one.

The spec is the one Streamlit makes (its data as Arrow bytes under the names Streamlit gives them,
with its theme), so the browser receives the same element as from `st.altair_chart`. Altair's schema
validation is skipped: the builders are ours and their tests validate every spec they make.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Callable, Hashable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import altair as alt
import polars as pl
from streamlit.elements import vega_charts

from analytics import charts, memory
from ui import recent

# All the kept specs together (their data included), and how long an unused one stays.
MAX_BYTES = 64 * 1024 * 1024
IDLE_SECONDS = memory.RESULTS_IDLE_SECONDS

# A chart: Altair's, or one written as its Vega-Lite spec (analytics.charts.Spec).
Chart = alt.TopLevelMixin | charts.Spec
Recipe = Callable[[], Chart]


@dataclass(frozen=True)
class _Kept:
    spec: dict
    nbytes: int


_SPECS = memory.SizedCache(MAX_BYTES, IDLE_SECONDS, sizer=lambda kept: kept.nbytes)


class _NoKey(Exception):
    """An argument whose contents give no key (an object of unknown kind): the chart is made each time."""


def total_bytes() -> int:
    """The kept specs' bytes, their data included."""
    return _SPECS.total_bytes()


def _token(value: Any) -> Hashable:
    if value is None or isinstance(value, bool | int | float | str | bytes | dt.date | dt.datetime | dt.time):
        return (type(value).__name__, value)
    if isinstance(value, pl.DataFrame):
        return ("frame", recent.PER_FRAME.get(value, "digest", lambda: frame_digest(value)))
    if isinstance(value, tuple | list):
        return (type(value).__name__, tuple(_token(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple((_token(k), _token(v)) for k, v in value.items()))
    raise _NoKey(type(value).__name__)


def frame_digest(frame: pl.DataFrame) -> str:
    """A digest of the frame's columns, types and values: of its rows' hashes (Polars' own, 64 bits a
    row, six times cheaper than its Arrow IPC bytes, which a frame of a kind it cannot hash falls back to)."""
    digest = hashlib.blake2b(repr(frame.schema).encode(), digest_size=16)
    try:
        digest.update(frame.hash_rows().to_numpy().tobytes())
    except pl.exceptions.PolarsError:
        digest.update(frame.write_ipc(None).getvalue())
    return digest.hexdigest()


def recipe_key(recipe: Recipe) -> Hashable | None:
    """The key of a recipe `partial(builder, *args, **kwargs)`: the builder's module and name and the
    arguments' contents. None when it has none: not a partial, a builder that is not a module's own
    function (a lambda, a nested function), or an argument of a kind not keyed here."""
    if not isinstance(recipe, functools.partial):
        return None
    func = recipe.func
    name = getattr(func, "__qualname__", "<")
    if "<" in name or not hasattr(func, "__module__"):
        return None
    try:
        return (func.__module__, name, _token(recipe.args), _token(dict(sorted(recipe.keywords.items()))))
    except _NoKey:
        return None


def to_spec(chart: Chart) -> dict:
    """The chart's Vega-Lite spec as `st.altair_chart` makes it (Streamlit's data transformer: each data
    frame as Arrow bytes in `datasets`, named by their hash; no theme of Altair's), without validation."""
    datasets: dict[str, Any] = {}
    alt.data_transformers.register("to_arrow_dataset", vega_charts._to_arrow_dataset)
    # Altair's theme and transformer are process-wide: Streamlit changes them under this lock of its own.
    with vega_charts._altair_globals_lock:
        theme = alt.theme.enable("none") if alt.theme.active == "default" else nullcontext()
        with theme, alt.data_transformers.enable("to_arrow_dataset", datasets=datasets):
            spec = chart.to_dict(validate=False)
    existing = spec.get("datasets")
    spec["datasets"] = {**existing, **datasets} if isinstance(existing, dict) else datasets
    return spec


def is_chart(chart) -> bool:
    """Whether `chart` is a chart already made (rather than its recipe)."""
    return isinstance(chart, alt.TopLevelMixin | charts.Spec)


def spec(chart: Chart | Recipe) -> dict:
    """The spec of a chart, or of a recipe's chart (kept by its key; made each time when it has none).
    The caller must not change the dict returned: it is shared."""
    if is_chart(chart):
        return to_spec(chart)
    key = recipe_key(chart)
    if key is None:
        return to_spec(chart())

    def make() -> _Kept:
        made = to_spec(chart())
        return _Kept(made, memory.size_of(made))

    return _SPECS.get(key, make).spec


def _remember_altair_class_tables() -> None:
    """Altair makes a table of its ~600 schema classes by a hash of each one's schema (a JSON dump of
    it) every time it turns a dict into a class (`_FromDict`): at every encoding channel given as a
    string or a dict, a third of the cost of making a chart. The classes do not change while the
    process runs, so the table is made once for each set of them and shared. (Skipped, leaving Altair
    as it is, in a release without that class.)"""
    from altair.utils import schemapi

    cls = getattr(schemapi, "_FromDict", None)
    if cls is None or getattr(cls, "_tables_remembered", False):
        return
    make_table = cls.__init__
    tables: dict[tuple, Any] = {}

    def __init__(self, wrapper_classes, /) -> None:
        key = tuple(wrapper_classes)
        table = tables.get(key)
        if table is None:
            make_table(self, key)
            tables[key] = self.class_dict
        else:
            self.class_dict = table

    cls.__init__ = __init__
    cls._tables_remembered = True


_remember_altair_class_tables()


def _copy_schema_objects_faster() -> None:
    """Altair copies a chart in depth each time it layers it (several times per layer: to lift its data,
    its selections and its size), and each of its schema objects holds every property the schema allows,
    nearly all of them unset: nine in ten of the values copied are Altair's `Undefined`, which a copy
    returns as it is. On a layered chart over time that copying was 60% of making its spec. The copy
    here returns the same objects as Altair's own (`schemapi._deep_copy`, which it replaces), with the
    values that cannot change (unset, text, numbers) returned at once rather than through its general
    path. (Skipped, leaving Altair as it is, in a release whose copy is not the one this was written for.)"""
    from altair.utils import schemapi

    original = getattr(schemapi, "_deep_copy", None)
    if original is None or getattr(original, "_faster", False) or not hasattr(schemapi, "debug_mode"):
        return
    undefined, base, debug = schemapi.Undefined, schemapi.SchemaBase, schemapi.debug_mode
    atoms = (str, int, float, bool, type(None))

    def _deep_copy(obj, by_ref):
        if obj is undefined or isinstance(obj, atoms):
            return obj
        if isinstance(obj, base):
            if copier := getattr(obj, "__deepcopy__", None):
                with debug(False):
                    return copier(obj)
            args = [_deep_copy(arg, by_ref) for arg in obj._args]
            kwds = {k: (v if v is undefined or k in by_ref else _deep_copy(v, by_ref)) for k, v in obj._kwds.items()}
            if schemapi.DEBUG_MODE:
                with debug(False):
                    return obj.__class__(*args, **kwds)
            return obj.__class__(*args, **kwds)
        if isinstance(obj, list):
            return [_deep_copy(v, by_ref) for v in obj]
        if isinstance(obj, dict):
            return {k: (v if k in by_ref else _deep_copy(v, by_ref)) for k, v in obj.items()}
        return obj

    _deep_copy._faster, _deep_copy.__wrapped__ = True, original
    schemapi._deep_copy = _deep_copy


_copy_schema_objects_faster()


def _compare_selections_unvalidated() -> None:
    """To keep one copy of a selection shared by layers, Altair compares the selections of each layer as
    dicts, and makes each dict validating it against the Vega-Lite schema: a third of the cost of layering
    a chart with a selection. The selections are ours, validated with the whole spec by the builders'
    tests; the dicts compared are the same. (Skipped in a release without that function.)"""
    from altair.vegalite.v6 import api

    original = getattr(api, "_viewless_dict", None)
    if not callable(original) or hasattr(original, "__wrapped__"):
        return

    def _viewless_dict(param) -> dict:
        d = param.to_dict(validate=False)
        d.pop("views", None)
        return d

    _viewless_dict.__wrapped__ = original
    api._viewless_dict = _viewless_dict


_compare_selections_unvalidated()


def _skip_validation_at_creation() -> None:
    """Altair validates every chart it creates against the Vega-Lite schema (its "debug mode", on by
    default: for clearer tracebacks while writing a chart), a third of the cost of building a page's
    charts. The builders are ours, and their tests validate every spec they make (to_dict validates)."""
    from altair.utils import schemapi

    if hasattr(schemapi, "disable_debug_mode"):
        schemapi.disable_debug_mode()


_skip_validation_at_creation()


def clear() -> None:
    """Forget every kept spec."""
    _SPECS.clear()
