"""A chart's spec is made once per recipe: the same spec Streamlit's `st.altair_chart` makes, kept by
the builder and its arguments' contents, and made again when any of them changes."""

from __future__ import annotations

import json
from datetime import date
from functools import partial

import polars as pl
import pytest
from streamlit.elements import vega_charts

from analytics import charts
from ui import chart_specs

REASONS = pl.DataFrame({"reason": ["changed_mind", "found_cheaper", "late_delivery"], "requests": [50, 30, 20],
                        "share": [0.5, 0.3, 0.2]})
BY_STAGE = pl.DataFrame({"request_stage": ["before_payment", "before_payment", "after_shipment"],
                         "reason": ["changed_mind", "found_cheaper", "changed_mind"], "requests": [6, 2, 4],
                         "share": [0.75, 0.25, 1.0]})
LIFECYCLE = pl.DataFrame({"step": ["placed", "paid", "shipped", "delivered"], "reached": [100, 90, 80, 70],
                          "left": [10, 10, 10, None], "left_share": [0.1, 10 / 90, 0.125, None],
                          "cancelled_after": [10, 8, 2, None]})
WEEKS = pl.DataFrame({"period": [date(2026, 1, 5), date(2026, 1, 12), date(2026, 1, 19)], "orders": [100, 120, 90],
                      "cancelled_orders": [10, 6, 9], "cancellation_rate": [0.1, 0.05, 0.1]})
REASONS_BY_WEEK = pl.DataFrame({"period": [date(2026, 1, 5), date(2026, 1, 5), date(2026, 1, 12)],
                                "reason": ["changed_mind", "found_cheaper", "changed_mind"], "requests": [3, 1, 2]})


def _comparable(spec: dict) -> tuple[str, dict]:
    """A spec as the browser receives it: Altair's counted names made stable (as Streamlit does), and the
    data sets (Arrow bytes by name) apart."""
    spec = dict(spec)
    datasets = spec.pop("datasets")
    return vega_charts._stabilize_vega_json_spec(json.dumps(spec, sort_keys=True)), datasets


@pytest.mark.parametrize("chart", [
    charts.reasons_chart(REASONS, "found_cheaper"),           # a selection with a value
    charts.reasons_share_chart(BY_STAGE, "request_stage", "Stage"),
    charts.lifecycle_chart(LIFECYCLE),                        # layers
    charts.volume_chart(WEEKS, "week", date(2026, 1, 21)),   # a partial last period, dashed
    charts.reasons_over_time_chart(REASONS_BY_WEEK, "week", "changed_mind", date(2026, 1, 14)),
], ids=["reasons", "share", "lifecycle", "volume", "over time"])
def test_the_spec_is_the_one_streamlit_makes(chart):
    ours = chart_specs.to_spec(chart)
    theirs = vega_charts._convert_altair_to_vega_lite_spec(chart)
    assert _comparable(ours) == _comparable(theirs)
    assert ours["datasets"] and all(isinstance(b, bytes) for b in ours["datasets"].values())


def test_a_recipe_is_keyed_by_its_builder_and_the_contents_of_its_arguments():
    key = chart_specs.recipe_key(partial(charts.reasons_chart, REASONS, selected="found_cheaper"))
    # The same contents in another frame object: the same key.
    assert chart_specs.recipe_key(partial(charts.reasons_chart, REASONS.clone(), selected="found_cheaper")) == key
    # Any change makes another: a value, an option, the builder.
    changed = REASONS.with_columns(pl.when(pl.col("reason") == "late_delivery").then(21)
                                   .otherwise(pl.col("requests")).alias("requests"))
    others = {chart_specs.recipe_key(partial(charts.reasons_chart, changed, selected="found_cheaper")),
              chart_specs.recipe_key(partial(charts.reasons_chart, REASONS, selected="changed_mind")),
              chart_specs.recipe_key(partial(charts.reasons_chart, REASONS)),
              chart_specs.recipe_key(partial(charts.reason_gmv_chart, REASONS, selected="found_cheaper"))}
    assert key not in others and len(others) == 4 and None not in others
    # A column's type is part of the contents: 50 and 50.0 are two frames.
    as_float = REASONS.with_columns(pl.col("requests").cast(pl.Float64))
    assert chart_specs.recipe_key(partial(charts.reasons_chart, as_float, selected="found_cheaper")) != key


def test_what_gives_no_key_is_drawn_each_time():
    assert chart_specs.recipe_key(lambda: charts.reasons_chart(REASONS)) is None
    assert chart_specs.recipe_key(partial(lambda f: charts.reasons_chart(f), REASONS)) is None
    assert chart_specs.recipe_key(partial(charts.reasons_chart, REASONS, selected=object())) is None


BUILT: list[str] = []


def counted_reasons_chart(frame: pl.DataFrame, selected: str | None = None):
    BUILT.append(selected)
    return charts.reasons_chart(frame, selected)


def test_the_same_recipe_is_built_once_and_a_changed_one_again():
    chart_specs.clear()
    BUILT.clear()
    first = chart_specs.spec(partial(counted_reasons_chart, REASONS, selected="found_cheaper"))
    again = chart_specs.spec(partial(counted_reasons_chart, REASONS.clone(), selected="found_cheaper"))
    assert again is first and BUILT == ["found_cheaper"]
    other = chart_specs.spec(partial(counted_reasons_chart, REASONS, selected="changed_mind"))
    assert BUILT == ["found_cheaper", "changed_mind"]
    assert _comparable(other) != _comparable(first)
    # Without a key (a lambda), the chart is built on every call.
    chart_specs.spec(partial(lambda f: counted_reasons_chart(f, "late_delivery"), REASONS))
    chart_specs.spec(partial(lambda f: counted_reasons_chart(f, "late_delivery"), REASONS))
    assert BUILT[2:] == ["late_delivery", "late_delivery"]


def test_altairs_table_of_schema_classes_is_made_once_and_is_the_one_altair_makes():
    from altair.utils import schemapi

    classes = list(schemapi.SchemaBase._default_wrapper_classes())
    first, second = schemapi._FromDict(classes), schemapi._FromDict(iter(classes))
    assert second.class_dict is first.class_dict
    made = {}
    for tp in classes:
        if tp._schema is not None:
            made.setdefault(schemapi._FromDict.hash_schema(tp._schema), []).append(tp)
    # Lookups of schemas no class has leave empty lists behind (a defaultdict): the same classes otherwise.
    assert {k: v for k, v in first.class_dict.items() if v} == made and len(made) > 100


LAYERED = {   # charts whose layers Altair copies, with selections it lifts and compares
    "lifecycle": lambda: charts.lifecycle_chart(LIFECYCLE),
    "volume": lambda: charts.volume_chart(WEEKS, "week", date(2026, 1, 21)),
    "volume compared": lambda: charts.volume_compared_chart(WEEKS, WEEKS, "week", date(2026, 1, 21), 0,
                                                            "this range", "the range before"),
    "over time": lambda: charts.reasons_over_time_chart(REASONS_BY_WEEK, "week", "changed_mind", date(2026, 1, 14)),
}


@pytest.mark.parametrize("name", list(LAYERED))
def test_charts_layered_with_the_faster_copy_are_the_ones_altairs_own_makes(name, monkeypatch):
    from altair.utils import schemapi
    from altair.vegalite.v6 import api

    assert getattr(schemapi._deep_copy, "_faster", False), "the faster copy is in place"
    ours = chart_specs.to_spec(LAYERED[name]())
    # Altair's own copy and comparison of selections, as its release has them.
    monkeypatch.setattr(schemapi, "_deep_copy", schemapi._deep_copy.__wrapped__)
    monkeypatch.setattr(api, "_viewless_dict", api._viewless_dict.__wrapped__)
    theirs = chart_specs.to_spec(LAYERED[name]())
    assert _comparable(ours) == _comparable(theirs)



def test_a_copy_made_faster_is_a_copy_in_depth():
    chart = LAYERED["volume"]()
    before = _comparable(chart_specs.to_spec(chart))
    copied = chart.copy()
    copied.layer[0].mark = "tick"
    copied.layer[1].layer[0].encoding.y.title = "changed"
    assert _comparable(chart_specs.to_spec(chart)) == before
    assert _comparable(chart_specs.to_spec(copied)) != before
