"""Downloads: CSV cells that a spreadsheet would run are neutralised; Parquet keeps types; charts draw."""

import io
from datetime import datetime

import altair as alt
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from analytics import exports


@pytest.mark.parametrize(
    ("cell", "written"),
    [("=1+1", "'=1+1"), ("+SUM(A1)", "'+SUM(A1)"), ("-2+3", "'-2+3"), ("@cmd", "'@cmd"),
     ("\t=x", "'\t=x"), ("plain", "plain"), ("a=b", "a=b"), ("", ""), (None, None)],
)
def test_neutralise_cell(cell, written):
    assert exports.neutralise_cell(cell) == written


# Every way a cell can still start a formula: each starter, after leading spaces and non-breaking spaces,
# and the full-width forms.
HIDDEN_STARTS = [
    "=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1",
    " =1+1", "   +1", " -1", " @x", "\u00a0=1+1", "\u00a0 \u00a0@x", "\u202f-1", "\u3000=1",
    "\uff1d1+1", "\uff0bcmd", "\uff0d1", "\uff20x", " \uff1dcmd", "\u00a0\uff20x", " \t=1",
]
HARMLESS = ["plain", "a=b", " spaced", "\u00a0text", "", "   ", "x@y", "1-2", "\uff41"]


@pytest.mark.parametrize("cell", HIDDEN_STARTS)
def test_a_formula_behind_blanks_or_in_full_width_is_neutralised(cell):
    assert exports.neutralise_cell(cell) == "'" + cell
    text = exports.to_csv_bytes(pl.DataFrame({"cell": [cell]})).decode("utf-8")
    back = pl.read_csv(io.StringIO(text), infer_schema=False)
    assert back["cell"][0] == "'" + cell


@pytest.mark.parametrize("cell", HARMLESS)
def test_harmless_text_is_written_as_it_is(cell):
    assert exports.neutralise_cell(cell) == cell
    frame = exports.neutralised(pl.DataFrame({"cell": [cell]}))
    assert frame["cell"][0] == cell


def test_csv_neutralises_text_and_keeps_numbers():
    frame = pl.DataFrame({
        "reason": ["=HYPERLINK(\"http://x\")", "wrong_item", None, "-cmd"],
        "delta": [-1.5, 2.0, None, -3.0],
        "when": [datetime(2026, 1, 2, 3, 4, 5)] * 3 + [datetime(2026, 1, 2, 3, 4, 5, 250000)],
        "tags": [["=a"], ["b"], None, []],
    })
    text = exports.to_csv_bytes(frame).decode("utf-8")
    back = pl.read_csv(io.StringIO(text), infer_schema=False)
    assert back["reason"].to_list() == ["'=HYPERLINK(\"http://x\")", "wrong_item", None, "'-cmd"]
    assert back["delta"].to_list() == ["-1.5", "2.0", None, "-3.0"]  # numbers are not formulas
    # Times as the pages write them; a fraction of a second only where there is one.
    assert back["when"].to_list() == ["2026-01-02 03:04:05"] * 3 + ["2026-01-02 03:04:05.250"]
    # Every written cell: none starts a formula unless it is a plain number.
    for column in back.columns:
        for cell in back[column].drop_nulls():
            assert not cell.startswith(("=", "+", "@")) and (not cell.startswith("-") or column == "delta")


def test_parquet_round_trips_the_frame_unchanged():
    frame = pl.DataFrame({"reason": ["=1+1", "x"], "n": [1, 2], "share": [0.5, 0.25]})
    back = pl.read_parquet(io.BytesIO(exports.to_parquet_bytes(frame)))
    assert_frame_equal(back, frame)


def test_charts_draw_as_png_and_svg():
    chart = alt.Chart(pl.DataFrame({"a": ["x", "y"], "b": [1, 2]})).mark_bar().encode(x="a:N", y="b:Q")
    png = exports.chart_to_png(chart)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    svg = exports.chart_to_svg(chart)
    assert svg.lstrip().startswith(b"<svg") and b"</svg>" in svg
