"""Label columns cross from DuckDB to a tally as codes (load.load(..., coded=True)): the same values as
the text load_frame reads, and the same report, whatever the labels hold."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from analytics import grouped, ingest, load, report
from analytics import pipelines as p

try:
    from test_metrics_handmade import EXPECTED_SCALARS, canonical_frame
except ImportError:  # tests collected as a package
    from tests.test_metrics_handmade import EXPECTED_SCALARS, canonical_frame


@pytest.fixture(autouse=True)
def _codes_from_any_size(monkeypatch):
    monkeypatch.setattr(load, "CODED_FROM", 0)   # the hand-made data sets are small


def _store(con, frame: pl.DataFrame):
    result = ingest.store_frame(con, frame, name="eleven orders", source_kind="import", source={"test": "codes"})
    assert result.refused == 0, result.refused_by_reason
    return result.dataset


def _awkward(frame: pl.DataFrame) -> pl.DataFrame:
    """The hand-worked orders with labels SQL could misread: a quote, a comma and parentheses, a label
    that reads as SQL, and text outside ASCII."""
    swap = {"card": "carte d'achat", "wallet": "wallet, (mobile)"}
    return frame.with_columns(
        pl.col("payment_method").replace(swap),
        pl.when(pl.col("cancel_reason").is_not_null())
        .then(pl.col("cancel_reason") + pl.lit("'); DROP TABLE orders; --"))
        .otherwise(None).alias("cancel_reason"),
        pl.col("status").replace({"delivered": "entregue ✓"}),
    )


@pytest.mark.parametrize("awkward", [False, True], ids=["as worked by hand", "awkward labels"])
def test_coded_frames_hold_the_same_values_as_the_text_read(con, awkward):
    frame = canonical_frame()
    ds = _store(con, _awkward(frame) if awkward else frame)
    coded = load.load(con, ds.id, coded=True)
    for grain in p.GRAINS:
        got = getattr(coded, grain).collect()
        labels = [c for c in got.columns if c in p.LABEL_COLUMNS and got[c].null_count() < got.height]
        assert labels and all(got.schema[c] == pl.Categorical for c in labels), (grain, got.schema)
        assert_frame_equal(got.cast({c: pl.String for c in labels}), load.load_frame(con, ds.id, grain))


def test_the_report_read_as_codes_equals_the_report_read_as_text(con):
    ds = _store(con, _awkward(canonical_frame()))
    specs = report.report_specs(False)

    def added(coded: bool) -> pl.DataFrame:
        return grouped.add(grouped.tally(load.load(con, ds.id, reads=grouped.reads(specs), coded=coded), specs))

    assert_frame_equal(added(True), added(False))
    got = report.report(con, ds.id)
    assert got["orders"] == EXPECTED_SCALARS["orders"]
    assert got["cancellation_requests"] == EXPECTED_SCALARS["cancellation_requests"]
    assert "carte_d'achat" in {row["payment_method"] for row in got["cancelled_by_payment_method"]}


def test_a_label_of_too_many_values_crosses_as_text(con, monkeypatch):
    ds = _store(con, canonical_frame())
    monkeypatch.setattr(load, "MAX_CODED_LABELS", 1)
    orders = load.load(con, ds.id, reads={"orders": ("payment_method", "currency")}, coded=True).orders.collect()
    # Several payment methods: text; one currency (USD): its code.
    assert orders.schema["payment_method"] == pl.String
    assert orders.schema["currency"] == pl.Categorical
    assert orders["currency"].cast(pl.String).unique().to_list() == ["USD"]


def test_a_data_set_of_fewer_orders_than_coded_from_reads_its_labels_as_text(con, monkeypatch):
    ds = _store(con, canonical_frame())
    monkeypatch.setattr(load, "CODED_FROM", ds.orders + 1)
    orders = load.load(con, ds.id, reads={"orders": ("payment_method",)}, coded=True).orders.collect()
    assert orders.schema["payment_method"] == pl.String
    monkeypatch.setattr(load, "CODED_FROM", ds.orders)
    orders = load.load(con, ds.id, reads={"orders": ("payment_method",)}, coded=True).orders.collect()
    assert orders.schema["payment_method"] == pl.Categorical
