"""The Reasons page's requests over time: every request of the orders selected is drawn. Requests are drawn
by the day they were made, so a selection of order dates does not end the chart: orders placed by its last
day made requests after it."""

from __future__ import annotations

from datetime import date, timedelta

import app_support as s
import polars as pl
import pyarrow as pa
import pytest

from analytics import db, report
from analytics.filters import Filters


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("reasons_time") / "app.duckdb"
    return path, s.demo_db(path)


@pytest.fixture(autouse=True)
def _database(demo, monkeypatch):
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(demo[0]))


def _compared_drawn(at) -> int:
    """The requests the over-time chart draws for the compared range (its dashed lines' rows)."""
    chart = at.get("vega_lite_chart")[-1]
    return sum(r["requests"] for named in chart.proto.datasets
               for r in pa.ipc.open_stream(named.data.data).read_all().to_pylist() if "compared_period" in r)


def _compared_periods(at) -> list[date]:
    """The days the compared lines' points are drawn at (moved onto the selection's)."""
    chart = at.get("vega_lite_chart")[-1]
    return [r["period"].date() if hasattr(r["period"], "date") else r["period"] for named in chart.proto.datasets
            for r in pa.ipc.open_stream(named.data.data).read_all().to_pylist() if "compared_period" in r]


def _drawn(at) -> dict[str, int]:
    """The over-time chart's requests per period start, as drawn (its points' rows, keyed by period)."""
    chart = at.get("vega_lite_chart")[-1]
    drawn: dict[str, int] = {}
    for named in chart.proto.datasets:
        frame = pa.ipc.open_stream(named.data.data).read_all().to_pylist()
        for r in frame:
            if "requests" in r and "period_key" in r:
                drawn[r["period_key"]] = drawn.get(r["period_key"], 0) + r["requests"]
    return drawn


def test_requests_of_orders_placed_in_the_range_are_drawn_after_its_last_day(demo):
    path, dataset = demo
    con = db.connect(path)
    try:
        first, last = report.date_bounds(con, dataset, "order")
        start = first + timedelta(days=14)
        end = start + timedelta(days=27)
        filters = Filters(start=start, end=end)
        total = report.reasons(con, dataset, filters).frame["requests"].sum()
        by_week = report.reasons(con, dataset, filters, by="period", period="week").frame
    finally:
        con.close()
    later = by_week.filter(by_week["period"].cast(date) > end)["requests"].sum()
    assert later > 0, "the data set has no request after the range's last day: the test shows nothing"
    at = s.open_page("reasons", {"dataset": dataset, "breakdown": "over_time", "period": "week",
                                 "from": start.isoformat(), "to": end.isoformat()})
    assert s.problems(at) == []
    drawn = _drawn(at)
    # Every request of the selected orders, those made after the range's last day too.
    assert sum(drawn.values()) == total == by_week["requests"].sum()
    assert any(date.fromisoformat(k) > end for k in drawn)
    assert any("drawn by the day each request was made" in c.value for c in at.caption)
    # The previous four weeks, compared (the default): their orders' requests after its last day are drawn
    # too, moved four weeks on, as far as the chart's last week (not past its axis).
    con = db.connect(path)
    try:
        compared = report.reasons(con, dataset, Filters(start=start - timedelta(days=28), end=start - timedelta(days=1)),
                                  by="period", period="week").frame
    finally:
        con.close()
    last_drawn = max(date.fromisoformat(k) for k in drawn)
    moved = compared["period"].cast(pl.Date) + timedelta(days=28)
    assert compared.filter(moved > last_drawn)["requests"].sum() > 0, "no compared request past the chart's end"
    assert _compared_drawn(at) == compared.filter(moved <= last_drawn)["requests"].sum()
    assert max(_compared_periods(at)) <= last_drawn
    # The legend and the tooltips say the ranges date orders: a compared week after the compared range's last
    # day reads as its orders' later requests, not as a day outside the range.
    spec = at.get("vega_lite_chart")[-1].proto.spec
    assert f"This selection: orders placed {start:%Y-%m-%d} to {end:%Y-%m-%d}" in spec
    # (The compared days start where the data set does, if later than four weeks before.)
    compared_from = max(first, start - timedelta(days=28))
    assert f"Compared: orders placed {compared_from:%Y-%m-%d} to {start - timedelta(days=1):%Y-%m-%d}" in spec


def test_a_range_of_request_dates_ends_the_chart_at_its_last_day(demo):
    path, dataset = demo
    con = db.connect(path)
    try:
        first, _ = report.date_bounds(con, dataset, "request")
    finally:
        con.close()
    start, end = first + timedelta(days=14), first + timedelta(days=41)
    at = s.open_page("reasons", {"dataset": dataset, "breakdown": "over_time", "period": "week", "anchor": "request",
                                 "from": start.isoformat(), "to": end.isoformat()})
    assert s.problems(at) == []
    assert all(date.fromisoformat(k) <= end for k in _drawn(at))
    assert not any("drawn by the day each request was made" in c.value for c in at.caption)
    assert "orders placed" not in at.get("vega_lite_chart")[-1].proto.spec
