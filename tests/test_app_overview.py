"""The Overview's trends compare only complete periods with enough orders in each, and say so."""

from __future__ import annotations

import app_support as s
import pytest

from analytics import db, headline
from analytics.filters import Filters


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    path = tmp_path_factory.mktemp("overview") / "app.duckdb"
    small = s.import_db(path, [s.SAMPLE])
    demo = s.demo_db(path, orders=3_000)
    return path, small, demo


def _bounds(con, dataset_id):
    return con.execute("SELECT min(placed_at)::DATE, max(placed_at)::DATE FROM orders WHERE dataset_id = ?",
                       [dataset_id]).fetchone()


def test_a_change_needs_enough_orders_in_both_periods(both):
    path, small, demo = both
    con = db.connect(path)
    try:
        heads, period = headline.compute(con, small, Filters(), _bounds(con, small))
        assert all(h.change is None for h in heads)
        assert heads[0].note.startswith(f"No change shown: the last complete {period} has")
        heads, period = headline.compute(con, demo, Filters(), _bounds(con, demo))
        rate = heads[0]
        assert rate.note is None and rate.change is not None
        (before, n_before), (last, n_last) = rate.compared
        assert min(n_before, n_last) >= headline.MIN_ORDERS and before < last
        # Complete periods only: the first compared period starts on or after the data's first day.
        assert before >= _bounds(con, demo)[0]
    finally:
        con.close()


def test_the_overview_says_why_no_change_is_shown(both, monkeypatch):
    path, small, demo = both
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(path))
    at = s.open_page("overview", {"dataset": small})
    assert s.problems(at) == []
    assert all(m.delta in (None, "") for m in at.metric)
    assert any("No change shown" in c.value for c in at.caption)
    at = s.open_page("overview", {"dataset": demo})
    rate = next(m for m in at.metric if m.label == "Cancellation rate")
    assert rate.delta and "orders)" in rate.help


def test_a_zero_change_is_neutral_with_no_arrow(both, monkeypatch):
    from dataclasses import replace

    from ui import cached

    path, small, demo = both
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(path))
    real = cached.headlines

    def zero_requests(*args, **kwargs):
        heads, period = real(*args, **kwargs)
        return [replace(h, change=0) if h.label == "Cancellation requests" else h for h in heads], period

    monkeypatch.setattr(cached, "headlines", zero_requests)
    at = s.open_page("overview", {"dataset": demo})
    assert s.problems(at) == []
    tile = next(m for m in at.metric if m.label == "Cancellation requests")
    assert tile.delta == "0"
    assert tile.proto.color == tile.proto.MetricColor.Value("GRAY")
    rate = next(m for m in at.metric if m.label == "Cancellation rate")
    assert rate.proto.color != rate.proto.MetricColor.Value("GRAY")


def test_one_order_is_singular():
    assert headline._orders(1) == "1 order" and headline._orders(529) == "529 orders"
