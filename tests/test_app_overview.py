"""The Overview's tiles compare the selection with the chosen comparison, on the same days, only with enough
orders on each side, and say so."""

from __future__ import annotations

import app_support as s
import pytest

from analytics import db, headline, report
from analytics.compare import Comparison
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


def _second_half(con, dataset_id) -> Filters:
    first, last = _bounds(con, dataset_id)
    return Filters(start=first + (last - first) / 2)


def test_a_change_needs_enough_orders_on_both_sides(both):
    path, small, demo = both
    con = db.connect(path)
    try:
        # The whole data against the period before it: nothing is dated before, so no change, and why.
        heads, _ = headline.compute(con, demo, Filters(), _bounds(con, demo))
        assert all(h.change is None for h in heads)
        assert heads[0].note.startswith("No comparison: the previous period is")
        # The sample's second half against its first: too few orders for a change.
        heads, _ = headline.compute(con, small, _second_half(con, small), _bounds(con, small))
        assert all(h.change is None for h in heads)
        assert heads[0].note.startswith("No change shown: the days compared have")
        filters = _second_half(con, demo)
        heads, _ = headline.compute(con, demo, filters, _bounds(con, demo))
        rate = heads[0]
        assert rate.change is not None and min(rate.counts) >= headline.MIN_ORDERS
        # The change is the report's own figures on the two ranges.
        before = report.scalars(con, demo, rate.window.compared_filters(filters), ("cancellation_rate",))
        now = report.scalars(con, demo, rate.window.selection_filters(filters), ("cancellation_rate",))
        assert rate.change == pytest.approx(now["cancellation_rate"] - before["cancellation_rate"])
        assert rate.window.compared_days[1] < filters.start
        # No comparison: no change, no note.
        heads, _ = headline.compute(con, demo, filters, _bounds(con, demo), Comparison("none"))
        assert all(h.change is None and h.note is None for h in heads)
    finally:
        con.close()


def test_the_overview_says_why_no_change_is_shown(both, monkeypatch):
    path, small, demo = both
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(path))
    at = s.open_page("overview", {"dataset": small})
    assert s.problems(at) == []
    assert all(m.delta in (None, "") for m in at.metric)
    assert any("No comparison" in c.value for c in at.caption)
    con = db.connect(path)
    try:
        start = _second_half(con, demo).start.isoformat()
    finally:
        con.close()
    at = s.open_page("overview", {"dataset": demo, "from": start})
    rate = next(m for m in at.metric if m.label == "Cancellation rate")
    assert rate.delta and "orders)" in rate.help and "The change compares" in rate.help
    # Another comparison, from the link: the tiles follow it.
    at = s.open_page("overview", {"dataset": demo, "from": start, "compare": "none"})
    assert all(m.delta in (None, "") for m in at.metric)


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
    con = db.connect(path)
    try:
        start = _second_half(con, demo).start.isoformat()
    finally:
        con.close()
    at = s.open_page("overview", {"dataset": demo, "from": start})
    assert s.problems(at) == []
    tile = next(m for m in at.metric if m.label == "Cancellation requests")
    assert tile.delta == "±0"
    assert tile.proto.color == tile.proto.MetricColor.Value("GRAY")
    rate = next(m for m in at.metric if m.label == "Cancellation rate")
    assert rate.proto.color != rate.proto.MetricColor.Value("GRAY")


def test_one_order_is_singular():
    assert headline._orders(1) == "1 order" and headline._orders(529) == "529 orders"


def test_the_notes_name_what_ends_and_an_empty_selection_is_said_plainly(both, monkeypatch):
    import json
    from datetime import timedelta

    path, _, demo = both
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(path))
    con = db.connect(path)
    try:
        first, last = _bounds(con, demo)
    finally:
        con.close()
    # A selection that ends on a Wednesday, weeks before the data does: its last week is short because the
    # selection stops there, not the data.
    start = first + timedelta(days=7)
    end = start + timedelta(days=70)
    while end.weekday() != 2:
        end += timedelta(days=1)
    assert end < last
    at = s.open_page("overview", {"dataset": demo, "from": start.isoformat(), "to": end.isoformat()})
    assert s.problems(at) == []
    captions = [c.value for c in at.caption]
    assert f"The selection ends on {end:%Y-%m-%d}: the last week is partial" in " ".join(captions)
    assert not any("The data ends on" in c for c in captions)
    # The chart's legend names the whole selection its line is drawn over.
    def layers(spec):
        yield spec
        for layer in spec.get("layer", []):
            yield from layers(layer)

    domains = [layer["encoding"]["strokeDash"]["scale"]["domain"]
               for c in at.get("vega_lite_chart") for layer in layers(json.loads(c.proto.spec))
               if "strokeDash" in layer.get("encoding", {})]
    assert domains and domains[0][0] == f"This selection: {start:%Y-%m-%d} to {end:%Y-%m-%d}", domains
    # A selection that ends before the data starts: no comparison, said without a range that runs backwards.
    at = s.open_page("overview", {"dataset": demo, "to": (first - timedelta(days=4)).isoformat()})
    assert s.problems(at) == []
    captions = " ".join(c.value for c in at.caption)
    assert (f"No comparison: the selection has no day with data: it ends on {first - timedelta(days=4):%Y-%m-%d} "
            f"and the data starts on {first:%Y-%m-%d}.") in captions
    assert "-3 days" not in captions
    # Its tiles count nothing: no link to an empty list of orders, a word instead.
    links = [link.proto.label for link in at.get("page_link")]
    assert links and not any(label.startswith("See the 0 ") for label in links), links
    assert "No cancelled orders behind this figure." in captions


def test_a_wait_tile_says_its_unit(both, monkeypatch):
    path, _, demo = both
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(path))
    at = s.open_page("overview", {"dataset": demo})
    waits = [m for m in at.metric if m.label.startswith("Buyer's wait")]
    assert len(waits) == 2
    for tile in waits:
        number, _, unit = tile.value.partition(" ")
        assert unit == "days" and float(number) >= 0 and "business days" in tile.help, tile.value


def test_a_range_ending_past_the_data_is_kept_and_compared_as_the_command_line_compares_it(both, monkeypatch):
    """The last month, to a day beyond the data's last: the page keeps the end chosen (in its sentence and
    link), and compares the same days as `report --compare previous` with the same note (it compared
    the days with data against the days just before them, a different change and no note)."""
    from datetime import timedelta

    from analytics import compare

    path, _, demo = both
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(path))
    con = db.connect(path)
    try:
        _, last = _bounds(con, demo)
        start, end = last - timedelta(days=9), last + timedelta(days=20)
        block = report.report(con, demo, Filters(start=start, end=end), compare=compare.PREVIOUS)["compare"]
    finally:
        con.close()
    assert block["range"] == [(start - timedelta(days=30)).isoformat(), (start - timedelta(days=21)).isoformat()]
    at = s.open_page("overview", {"dataset": demo, "from": start.isoformat(), "to": end.isoformat()})
    assert s.problems(at) == []
    assert f"to {end.isoformat()}" in " ".join(c.value for c in at.caption)
    assert at.query_params["to"] in (end.isoformat(), [end.isoformat()])
    rate = next(m for m in at.metric if m.label == "Cancellation rate")
    assert block["range"][0] in rate.help and block["range"][1] in rate.help
    assert any(block["note"] in c.value for c in at.caption), block["note"]


def test_a_day_with_no_orders_keeps_its_place_in_a_count_s_trend(tmp_path, monkeypatch):
    """Orders on 2, 3, 10, 24, 30 and 31 March, one cancelled (10.00 on 2 March): a month of days, drawn by
    day. The cancelled GMV's line has a point for each of the 30 complete days, at 0 on the days with no
    order; the cancellation rate's has a point for each day with orders only (a day with none has no rate,
    and a line of gaps would draw nothing): 1 of 1, then 0 on each of the five other days with orders."""
    days = ["2026-03-02", "2026-03-03", "2026-03-10", "2026-03-24", "2026-03-30", "2026-03-31"]
    export = tmp_path / "shop.csv"
    export.write_text("order_id,placed_at,payment_method,amount,status,cancelled_at\n" + "".join(
        f"O{i},{d} 10:00,card,10.00,{'cancelled' if i == 0 else 'delivered'},{d + ' 12:00' if i == 0 else ''}\n"
        for i, d in enumerate(days)))
    path = tmp_path / "shop.duckdb"
    ds = s.import_db(path, [export])
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(path))
    at = s.open_page("overview", {"dataset": ds})
    assert not at.exception
    lines = {m.label: list(m.proto.chart_data) for m in at.metric}
    assert lines["Cancelled GMV"] == [10.0] + [0.0] * 29
    assert lines["Cancellation rate"] == [1.0, 0.0, 0.0, 0.0, 0.0, 0.0]
