"""A click on a chart's mark lists the orders behind it, on the eleven hand-worked orders of
test_metrics_handmade.py: the mark's selection (as the browser sends it) becomes the filters and a group
(drill.for_mark), and the Orders page opened from it counts what the mark showed.

Worked out by hand (see test_metrics_handmade.py's table):
  request outcomes: accepted 3 (O1 O7 O11), not cancellable 2 (O3 O5)
  life cycle: reached paid 10 (all but O2); reached shipped 5 (O3 O5 O6 O8 O10); left after placed 1 (O2);
              left after paid 5 (paid, never shipped: O1 O4 O7 O9 O11)
  cancellation rate by week (order date): week of 01-05 cancelled 3 (O1 O2 O4), 01-12 1 (O7), 02-02 2 (O9 O11);
              the week of 01-05 within a range from 01-07: O4 O5 O6 placed, O4 cancelled: 1
              the month of January: O1 O2 O4 O7 cancelled: 4; the day 01-07 (a range from 01-07 is drawn
              by day): O4 placed and cancelled: 1
  orders by status x stage (the request's stage, else the cancellation's): cancelled x awaiting shipment 5
              (O1 O4 O7 O11 by request, O9 by its cancellation); cancelled x before payment 1 (O2);
              delivered x awaiting shipment 2 (O5 O6); delivered x after shipment 1 (O3); delivered x none 2 (O8 O10)
  reasons' cancelled GMV: wrong_item 3 cancelled orders (O1 O4 O7); changed_mind 1 (O2; O5 was not cancelled)
  refunds by channel: original 3 (O1 O4 O9), wallet 2 (O7 O11); by payment method card 2 (O1 O9), cash 1 (O11)
"""

from __future__ import annotations

from datetime import date

import app_support as s
import polars as pl
import pytest

from analytics import db, drill, ingest, report
from analytics.filters import Filters

try:
    from test_metrics_handmade import canonical_frame
except ImportError:  # tests collected as a package
    from tests.test_metrics_handmade import canonical_frame

NONE = Filters()
RATE = "Cancellation rate"
# chart, the selected point as the browser sends it, the filters, the period, the orders worked out by hand
CASES = [
    ("outcomes", {"outcome": "accepted"}, NONE, "week", 3),
    ("outcomes", {"outcome": "not_cancellable"}, NONE, "week", 2),
    ("lifecycle", {"step": "paid", "part": "reached"}, NONE, "week", 10),
    ("lifecycle", {"step": "shipped", "part": "reached"}, NONE, "week", 5),
    ("lifecycle", {"step": "placed", "part": "left"}, NONE, "week", 1),
    ("lifecycle", {"step": "paid", "part": "left"}, NONE, "week", 5),
    ("volume", {"period_key": "2026-01-05", "what": RATE}, NONE, "week", 3),
    ("volume", {"period_key": "2026-01-12", "what": RATE}, NONE, "week", 1),
    ("volume", {"period_key": "2026-02-02", "what": RATE}, NONE, "week", 2),
    ("volume", {"period_key": "2026-01-05", "what": RATE}, Filters(start=date(2026, 1, 7)), "week", 1),
    ("volume", {"period_key": "2026-01-01", "what": RATE}, NONE, "month", 4),
    ("volume", {"period_key": "2026-01-07", "what": RATE}, Filters(start=date(2026, 1, 7)), "day", 1),
    ("status", {"status_key": "cancelled", "stage_key": "awaiting_shipment"}, NONE, "week", 5),
    ("status", {"status_key": "cancelled", "stage_key": "before_payment"}, NONE, "week", 1),
    ("status", {"status_key": "delivered", "stage_key": "awaiting_shipment"}, NONE, "week", 2),
    ("status", {"status_key": "delivered", "stage_key": "after_shipment"}, NONE, "week", 1),
    ("status", {"status_key": "delivered", "stage_key": "none"}, NONE, "week", 2),
    ("reason_gmv", {"reason": "wrong_item"}, NONE, "week", 3),
    ("reason_gmv", {"reason": "changed_mind"}, NONE, "week", 1),
    ("refunds_by_channel", {"key": "original"}, NONE, "week", 3),
    ("refunds_by_channel", {"key": "wallet"}, NONE, "week", 2),
    ("refunds_by_payment_method", {"key": "card"}, NONE, "week", 2),
    ("refunds_by_payment_method", {"key": "cash"}, NONE, "week", 1),
]
IDS = [f"{c}-{'-'.join(map(str, p.values()))}-{'from' if f.start else ''}{per}" for c, p, f, per, _ in CASES]


@pytest.fixture(scope="module")
def eleven(tmp_path_factory):
    path = tmp_path_factory.mktemp("marks") / "eleven.duckdb"
    con = db.connect(path)
    dataset = ingest.store_frame(con, canonical_frame(), name="eleven orders", source_kind="import",
                                 source={"test": "hand-worked"}).dataset
    con.close()
    return path, dataset.id


def _count(path, dataset_id: str, filters: Filters, group: drill.Group) -> int:
    con = db.connect(path, read_only=True)
    try:
        return drill.counts(con, dataset_id, filters, [group])[0]
    finally:
        con.close()


@pytest.mark.parametrize(("chart", "point", "filters", "period", "expected"), CASES, ids=IDS)
def test_a_mark_leads_to_the_hand_worked_orders(eleven, chart, point, filters, period, expected):
    found = drill.for_mark(chart, point, filters, period=period)
    assert found is not None
    assert _count(eleven[0], eleven[1], *found) == expected


def _figure(con, dataset_id: str, chart: str, point: dict, filters: Filters, period: str) -> int:
    """The figure the mark shows, read off the table the chart draws."""
    if chart == "outcomes":
        frame = report.outcomes(con, dataset_id, filters).frame
        return frame.filter(frame["outcome"] == point["outcome"])["requests"][0]
    if chart == "lifecycle":
        row = report.lifecycle(con, dataset_id, filters).frame.filter(pl.col("step") == point["step"]).row(0, named=True)
        return row["reached"] if point["part"] == "reached" else row["left"]
    if chart == "volume":
        frame = report.volume_over_time(con, dataset_id, filters, period=period).frame
        return frame.filter(frame["period"].cast(str) == point["period_key"])["cancelled_orders"][0]
    if chart == "status":
        frame = report.orders_by_status(con, dataset_id, filters).frame
        stage = None if point["stage_key"] == "none" else point["stage_key"]
        rows = frame.filter(frame["status"] == point["status_key"]).to_dicts()
        return next(r["orders"] for r in rows if r["stage"] == stage)
    if chart == "reason_gmv":
        frame = report.reason_cancelled_gmv(con, dataset_id, filters).frame
        return frame.filter(frame["reason"] == point["reason"])["cancelled_orders"][0]
    by = "channel" if chart == "refunds_by_channel" else "payment_method"
    frame = report.refunds_by(con, dataset_id, filters, by=by).frame
    return frame.filter(frame[frame.columns[0]] == point["key"])["refunds"][0]


@pytest.mark.parametrize(("chart", "point", "filters", "period", "expected"), CASES, ids=IDS)
def test_the_count_is_the_figure_the_mark_shows(eleven, chart, point, filters, period, expected):
    con = db.connect(eleven[0], read_only=True)
    try:
        assert _figure(con, eleven[1], chart, point, filters, period) == expected
    finally:
        con.close()


@pytest.mark.parametrize("point", [
    {}, {"outcome": "nonsense"}, {"outcome": 3}, {"outcome": "x" * 5000}, {"step": "delivered", "part": "left"},
    {"step": "paid"}, {"period_key": "not a date", "what": RATE}, {"period_key": None},
    {"status_key": "cancelled", "stage_key": "elsewhere"}, {"key": None},
])
@pytest.mark.parametrize("chart", drill.MARK_CHARTS)
def test_a_point_that_names_no_group_leads_nowhere(chart, point):
    assert drill.for_mark(chart, point, NONE) is None


def test_a_period_outside_the_range_leads_nowhere_and_a_month_ends_on_its_last_day():
    inside = Filters(start=date(2026, 2, 1), end=date(2026, 2, 10))
    assert drill.for_mark("volume", {"period_key": "2026-01-05", "what": RATE}, inside) is None
    filters, _ = drill.for_mark("volume", {"period_key": "2026-02-01", "what": RATE}, NONE, period="month")
    assert (filters.start, filters.end) == (date(2026, 2, 1), date(2026, 2, 28))
    filters, _ = drill.for_mark("volume", {"period_key": "2025-12-01", "what": RATE}, NONE, period="month")
    assert (filters.start, filters.end) == (date(2025, 12, 1), date(2025, 12, 31))
    with pytest.raises(ValueError):
        drill.for_mark("nonsense", {}, NONE)


def test_a_status_the_export_did_not_write_is_its_own_group():
    group = drill.Group(status=drill.NO_STATUS, stage="none")
    parsed, problems = drill.Group.from_query(group.to_query())
    assert (parsed, problems) == (group, [])
    assert drill.Group(status="Shipped Out").status == "shipped_out"


# --- in the app: the click on the page, the Orders page it opens ---------------------------------------

PAGE_OF = {"outcomes": ("overview", "ov_outcomes_chart"), "lifecycle": ("overview", "ov_lifecycle_chart"),
           "volume": ("overview", "ov_volume_chart"), "status": ("overview", "ov_status_chart"),
           "reason_gmv": ("reasons", "rs_gmv_chart"), "refunds_by_channel": ("refunds", "rf_channel_chart"),
           "refunds_by_payment_method": ("refunds", "rf_method_chart")}
# One click per chart (the Overview draws weeks for the whole data set, days for a range from 01-07).
APP_CASES = [CASES[0], CASES[5], CASES[7], CASES[11], CASES[12], CASES[17], CASES[19], CASES[21]]


@pytest.mark.parametrize(("chart", "point", "filters", "period", "expected"), APP_CASES,
                         ids=[f"{c[0]}-{c[4]}" for c in APP_CASES])
def test_a_click_in_the_page_opens_the_orders_it_counts(eleven, monkeypatch, chart, point, filters, period, expected):
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(eleven[0]))
    page, key = PAGE_OF[chart]
    at = s.open_page(page, {"dataset": eleven[1], **filters.to_query()})
    assert s.problems(at) == []
    at.session_state[key] = {"selection": {"drill": [point]}}
    at.run()
    assert s.problems(at) == []
    assert at.title[0].value == "Orders"
    found = drill.for_mark(chart, point, filters, period=period)
    assert found is not None
    link = {"dataset": eleven[1], **found[0].to_query(), **found[1].to_query()}
    # The group is in the URL. (AppTest sends the page it left's date widget along with the switch, which a
    # browser does not, so the dates are read from a fresh opening of the link: test_browser_drill.py
    # clicks a week in Chromium and checks the dates the URL carries.)
    assert {k: v for k, v in at.query_params.items() if k.startswith("g.")} == found[1].to_query()
    opened = s.open_page("orders", link)
    assert s.problems(opened) == []
    assert _listed(opened).startswith(f"**{expected:,} order")
    assert dict(opened.query_params) == link


def _listed(at) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("**") and " order" in m.value)


def test_a_click_on_a_mark_that_names_no_group_stays_on_the_page(eleven, monkeypatch):
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(eleven[0]))
    at = s.open_page("overview", {"dataset": eleven[1]})
    at.session_state["ov_outcomes_chart"] = {"selection": {"drill": [{"outcome": "<script>"}]}}
    at.run()
    assert s.problems(at) == []
    assert at.title[0].value == "Overview"
    assert "g.outcome" not in at.query_params
