"""Every metric in the registry is complete: label, unit, format, description, the columns it reads, and
what it needs; every table's pipeline runs on the hand-made orders and yields the columns it promises."""

from __future__ import annotations

import polars as pl
import pytest
from oracles import split

from analytics import figures, metrics, report
from analytics import pipelines as p
from analytics.text import in_sentence

try:
    from test_metrics_handmade import wide_frame
except ImportError:  # tests collected as a package
    from tests.test_metrics_handmade import wide_frame


@pytest.mark.parametrize("name", list(metrics.REGISTRY))
def test_every_metric_has_label_unit_format_and_description(name):
    m = metrics.REGISTRY[name]
    assert m.name == name
    assert m.label.strip() and m.label[0].isupper(), "label"
    assert m.unit in metrics.UNITS, f"unit {m.unit!r}"
    assert len(m.description.split()) >= 4 and m.description.endswith("."), "description"
    assert m.format(1234.5) and m.format(None) == "n/a"
    assert set(m.needs) <= set(metrics.CAPABILITIES)
    assert m.reads and set(m.reads) <= set(p.GRAINS)
    for grain, columns in m.reads.items():
        assert set(columns) <= set(p.COLUMNS), f"{grain} reads unknown columns"
    assert (m.figure is None) != (m.pipeline is None), "a metric is a scalar or a table"
    if m.kind == "scalar":
        assert set(m.figure.partials) <= set(metrics.PARTIALS)


def test_labels_are_unique():
    labels = [m.label for m in metrics.REGISTRY.values()]
    assert len(labels) == len(set(labels))


@pytest.mark.parametrize("name", metrics.TABLES)
def test_every_table_runs_on_the_columns_it_declares(name):
    """Give each pipeline only the columns the metric declares it reads: a missing declaration fails here
    rather than as a database error on a page."""
    m = metrics.REGISTRY[name]
    full = split(wide_frame())
    frames = p.Frames(**{g: getattr(full, g).select(sorted(m.reads.get(g, ()))) if g in m.reads else None
                         for g in p.GRAINS})
    if name == "volume_over_time":
        out = m.pipeline(p.Frames(orders=frames.orders, requests=frames.requests)).collect()
    else:
        out = m.pipeline(frames).collect()
    assert out.height > 0
    assert set(m.column_needs) <= set(out.columns), "column_needs names columns the table does not have"


@pytest.mark.parametrize("name", metrics.SCALARS)
def test_every_scalar_runs_on_the_columns_it_declares(name):
    m = metrics.REGISTRY[name]
    full = split(wide_frame())
    frames = p.Frames(**{g: getattr(full, g).select(sorted(m.reads[g]) or ["order_id"]) if g in m.reads else None
                         for g in p.GRAINS})
    value = metrics.scalars_row(frames, [name])[name]
    assert value is None or isinstance(value, int | float)


def test_the_report_reads_the_registry():
    assert set(report._REPORT_SCALARS) <= set(metrics.SCALARS)


def test_scalar_values_compute_each_grain_in_one_pass():
    frames = split(wide_frame())
    lazies = metrics.scalar_values(frames, ["orders", "gmv", "refunds", "cancellation_requests"])
    assert [f.width for f in pl.collect_all(lazies)] == [2, 1, 1]  # orders, refunds, requests
    row = metrics.scalars_row(frames, ["orders", "gmv", "refunds", "cancellation_requests"])
    assert row == {"orders": 11, "gmv": 865.0, "refunds": 5, "cancellation_requests": 8}


def _as_named(text: str, label: str) -> str:
    """`text` as the label it names: the label itself, inside a sentence ('buyer's wait, median'), or with
    what its numbers are in after it ('Buyer's wait, median (business days)', 'Cancelled GMV (USD)');
    any other text is another name, returned as it is."""
    for named in (label, in_sentence(label)):
        if text == named or (text.startswith(f"{named} (") and text.endswith(")")):
            return label
    return text


def test_every_figure_has_one_name_wherever_it_is_shown(con):
    """A figure is called by its label on a tile, in a table's header (unless a shorter header's help says it
    in full), in the what-if page's rows, charts and downloads, and on the command line: the tiles once said
    "Buyers' wait, median" of the figure the tables call "Buyer's wait from the request, median"."""
    from analytics import headline, ingest
    from analytics import whatif_tables as wt
    from analytics.commands import whatif
    from analytics.commands.report import _with_unit
    from analytics.filters import Filters
    from ui import tables

    try:
        from test_metrics_handmade import canonical_frame
    except ImportError:  # tests collected as a package
        from tests.test_metrics_handmade import canonical_frame

    shown: dict[str, dict[str, str]] = {name: {} for name in figures.FIGURES}
    dataset = ingest.store_frame(con, canonical_frame(), name="eleven orders", source_kind="import",
                                 source={"test": "hand-worked"}).dataset.id
    bounds = report.date_bounds(con, dataset)
    tiles, _ = headline.compute(con, dataset, Filters(), bounds, tiles=tuple(n for n in metrics.SCALARS
                                                                              if n in figures.FIGURES))
    for tile in tiles:
        shown[tile.name]["tile"] = tile.label
    for name, figure in figures.FIGURES.items():
        if name in metrics.REGISTRY and name not in tables.LONG:   # a report table's column of that figure
            shown[name]["table header"] = tables.column_words(name)
        shown[name]["command line"] = _with_unit(name, None)[0]
        if figure.whatif:
            n = figure.whatif
            shown[name]["what-if"] = wt.label_in(n, "USD ")
            shown[name]["what-if chart"] = wt.comparison_frame({"Baseline": {}}, [n])["figure"][0]
            shown[name]["what-if download"] = wt.results_table({p: {} for p in ("baseline", "scenario", "delta")},
                                                               [n])["figure"][0]
            shown[name]["frontier download"] = wt.frontier_columns(n, "USD ")[0]
    for n, header in whatif.SWEEP_COLUMNS.items():
        shown[figures.get(n).name]["sweep"] = header
    several = {name: names for name, names in shown.items()
               if {_as_named(text, figures.FIGURES[name].label) for text in names.values()} != {figures.FIGURES[name].label}}
    assert not several, "\n".join(f"{name}: {names}" for name, names in several.items())
    assert shown["p50_refund_business_days_from_request"]["tile"] == "Buyer's wait, median"
