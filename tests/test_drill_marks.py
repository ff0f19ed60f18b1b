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


# --- marks whose group needs the page's context: the Reasons charts' parts, compared lines, refund times ---
# Worked out by hand on the same eleven orders:
#   requests by (stage, reason): awaiting shipment x wrong item 3 (O1 O4 O7); before payment x changed mind 1 (O2)
#   requests by (payment method, reason): card x wrong item 1 (O1); cod x changed mind 1 (O5)
#   requests by request week and reason: 01-05 wrong item 2 (O1 on 01-06, O4 on 01-07), changed mind 2 (O2 O5);
#       by refund week (the filters anchored on the refund date): 01-05 wrong item 2 (O1 O4);
#       01-12 wrong item 1 (O7); January wrong item 3; of the orders placed from 01-07, 01-05 wrong item 1 (O4)
#   compared days 01-05 to 01-11 (orders placed then): the week of 01-05, wrong item 2 (O1 O4); by day, 01-05:
#       orders 3 (O1 O2 O3), cancelled 2 (O1 O2); 01-07: orders 1 (O4)
#   compared days 01-12 to 02-08, by week: 02-02 cancelled 2 (O9 O11); 01-12 orders 2 (O7 O8)
#   refund times by payment method, from the start: card 2 (O1 2 days, O9 24), wallet 1 (O4); by channel
#       original 3 (O1 O4 O9), from the request 2 (O1 5 days, O4 3; O9 has no request)
#   over a threshold: card over 20 days 1 (O9), over 1 day 2 (O1 O9); original over 1 day 2 (O1 O9, not O4's
#       0); from the request over 3 days 1 (O1: O4 took 3, not more)
FIRST_WEEK = Filters(start=date(2026, 1, 5), end=date(2026, 1, 11))
LATER = Filters(start=date(2026, 1, 12), end=date(2026, 2, 8))
WI, CM = "wrong_item", "changed_mind"
# chart, the point as the browser sends it, the filters, for_mark's keywords, the orders worked out by hand
CONTEXT_CASES = [
    ("reasons_by_stage", {"reason": WI, "key": "awaiting_shipment"}, NONE, {}, 3),
    ("reasons_by_stage", {"reason": CM, "key": "before_payment"}, NONE, {}, 1),
    ("reasons_by_payment_method", {"reason": WI, "key": "card"}, NONE, {}, 1),
    ("reasons_by_payment_method", {"reason": CM, "key": "cod"}, NONE, {}, 1),
    ("reasons_over_time", {"reason": WI, "period_key": "2026-01-05"}, NONE, {"period": "week"}, 2),
    ("reasons_over_time", {"reason": CM, "period_key": "2026-01-05"}, NONE, {"period": "week"}, 2),
    ("reasons_over_time", {"reason": WI, "period_key": "2026-01-12"}, NONE, {"period": "week"}, 1),
    ("reasons_over_time", {"reason": WI, "period_key": "2026-01-01"}, NONE, {"period": "month"}, 3),
    ("reasons_over_time", {"reason": WI, "period_key": "2026-01-05"}, Filters(start=date(2026, 1, 7)),
     {"period": "week"}, 1),
    ("reasons_over_time", {"reason": WI, "compared_key": "2026-01-05"}, LATER,
     {"period": "week", "compared": FIRST_WEEK}, 2),
    # Anchored on the refund date, requests go by their refund's start: O1 (01-09) and O4 (01-10); O7's is 01-13.
    ("reasons_over_time", {"reason": WI, "period_key": "2026-01-05"}, Filters(anchor="refund"), {"period": "week"}, 2),
    ("volume", {"compared_key": "2026-01-05", "what": "Cancelled orders"}, LATER,
     {"period": "day", "compared": FIRST_WEEK}, 2),
    ("volume", {"compared_key": "2026-01-07", "what": "Orders"}, LATER, {"period": "day", "compared": FIRST_WEEK}, 1),
    ("volume", {"compared_key": "2026-02-02", "what": "Cancelled orders"}, FIRST_WEEK,
     {"period": "week", "compared": LATER}, 2),
    ("volume", {"compared_key": "2026-01-12", "what": "Orders"}, FIRST_WEEK, {"period": "week", "compared": LATER}, 2),
    ("refund_latency", {"key": "card"}, NONE, {"by": "payment_method", "measure": "start"}, 2),
    ("refund_latency", {"key": "wallet"}, NONE, {"by": "payment_method", "measure": "start"}, 1),
    ("refund_latency", {"key": "original"}, NONE, {"by": "channel", "measure": "start"}, 3),
    ("refund_latency", {"key": "original"}, NONE, {"by": "channel", "measure": "request"}, 2),
    ("share_over", {"key": "card"}, NONE, {"by": "payment_method", "measure": "start", "threshold": 20}, 1),
    ("share_over", {"key": "card"}, NONE, {"by": "payment_method", "measure": "start", "threshold": 1}, 2),
    ("share_over", {"key": "original"}, NONE, {"by": "channel", "measure": "start", "threshold": 1}, 2),
    ("share_over", {"key": "original"}, NONE, {"by": "channel", "measure": "request", "threshold": 3}, 1),
]
CONTEXT_IDS = [f"{c}-{'-'.join(map(str, p.values()))}-{'-'.join(str(v) for k, v in x.items() if k != 'compared')}"
               f"{'-compared' if 'compared' in x else ''}{'-from' if f.start else ''}{'-refund' if f.anchor == 'refund' else ''}"
               for c, p, f, x, _ in CONTEXT_CASES]


@pytest.mark.parametrize(("chart", "point", "filters", "context", "expected"), CONTEXT_CASES, ids=CONTEXT_IDS)
def test_a_part_a_compared_mark_or_a_refund_time_leads_to_the_hand_worked_orders(eleven, chart, point, filters,
                                                                                  context, expected):
    found = drill.for_mark(chart, point, filters, **context)
    assert found is not None
    assert _count(eleven[0], eleven[1], *found) == expected


def _context_figure(con, dataset_id: str, chart: str, point: dict, filters: Filters, context: dict) -> int:
    """The figure the mark shows, read off the table the chart draws (a compared mark: the table under the
    compared days' filters)."""
    period = context.get("period", "week")
    if chart in ("reasons_by_stage", "reasons_by_payment_method"):
        by, column = ("stage", "request_stage") if chart == "reasons_by_stage" else ("payment_method", "payment_method")
        frame = report.reasons(con, dataset_id, filters, by=by).frame
        return frame.filter((pl.col(column) == point["key"]) & (pl.col("reason") == point["reason"]))["requests"][0]
    compared = "compared_key" in point
    base, key = (context["compared"], point["compared_key"]) if compared else (filters, point.get("period_key"))
    if chart == "reasons_over_time":
        frame = report.reasons(con, dataset_id, base, by="period", period=period).frame
        row = frame.filter((pl.col("period").cast(str) == key) & (pl.col("reason") == point["reason"]))
        return row["requests"][0]
    if chart == "volume":
        frame = report.volume_over_time(con, dataset_id, base, period=period).frame
        row = frame.filter(pl.col("period").cast(str) == key)
        return row["orders" if point["what"] == "Orders" else "cancelled_orders"][0]
    column = "refund_channel" if context["by"] == "channel" else "payment_method"
    if chart == "refund_latency":
        frame = report.refund_latency(con, dataset_id, filters, by=context["by"]).frame
        counted = "refunds_from_request" if context["measure"] == "request" else "refunds"
        return frame.filter(pl.col(column) == point["key"])[counted][0]
    frame = report.refund_share_over(con, dataset_id, filters, threshold_days=float(context["threshold"]),
                                     by=context["by"], from_request=context["measure"] == "request").frame
    return frame.filter(pl.col(column) == point["key"])["over_threshold"][0]


@pytest.mark.parametrize(("chart", "point", "filters", "context", "expected"), CONTEXT_CASES, ids=CONTEXT_IDS)
def test_the_count_is_the_figure_the_part_shows(eleven, chart, point, filters, context, expected):
    con = db.connect(eleven[0], read_only=True)
    try:
        assert _context_figure(con, eleven[1], chart, point, filters, context) == expected
    finally:
        con.close()


def test_a_compared_mark_without_the_compared_days_or_a_refund_mark_without_its_threshold_leads_nowhere():
    assert drill.for_mark("volume", {"compared_key": "2026-01-05", "what": "Orders"}, NONE) is None
    assert drill.for_mark("reasons_over_time", {"reason": WI, "compared_key": "2026-01-05"}, NONE) is None
    # A compared week outside the compared days.
    assert drill.for_mark("volume", {"compared_key": "2026-03-02", "what": "Orders"}, NONE, compared=LATER) is None
    assert drill.for_mark("share_over", {"key": "card"}, NONE) is None
    assert drill.for_mark("refund_latency", {"key": "card"}, NONE, measure="sideways") is None
    assert drill.for_mark("reasons_by_stage", {"reason": WI, "key": "in_space"}, NONE) is None


def test_a_status_group_in_words_writes_the_status_as_the_chart_and_the_list_do():
    assert drill.Group(status="wc_completed", stage="none").words() == (
        "orders · status wc_completed · stage No request or cancellation")


def test_a_slower_refund_group_and_a_request_period_travel_in_a_link_and_in_words():
    group = drill.Group(of="refund_waits", refund_channel="original", slower_than=3,
                        requested_from=date(2026, 1, 5), requested_to=date(2026, 1, 11))
    parsed, problems = drill.Group.from_query(group.to_query())
    assert (parsed, problems) == (group, [])
    assert group.to_query()["g.slower_than"] == "3" and group.to_query()["g.requested_to"] == "2026-01-11"
    assert drill.group_label(group) == "Original · requested from 5 Jan 2026 to 11 Jan 2026 · slower than 3 business days"
    assert "slower than 3 business days from the request" in group.words()
    _, problems = drill.Group.from_query({"g.slower_than": "-1", "g.requested_from": "yesterday"})
    assert {p.field for p in problems} == {"g.slower_than", "g.requested_from"}


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


# --- in the app: the Refunds page's clicks and the Overview's compared line open the Orders page; a click on a
# Reasons chart's part (kept by the chart's callback as ui.reasons.CLICKED) leaves a link under that chart ---

JAN_12_TO_25 = {"from": "2026-01-12", "to": "2026-01-25", "compare": "previous"}  # by day; compared 01-05..01-11
# page, its query, the chart's key, the point, the filters and for_mark's keywords it stands for, the orders
FOLLOW_CASES = [
    ("refunds", {}, "rf_dist_chart", {"key": "card"}, NONE, {"by": "payment_method", "measure": "start"}, 2),
    ("refunds", {"group": "channel", "measure": "request"}, "rf_dist_chart", {"key": "original"}, NONE,
     {"by": "channel", "measure": "request"}, 2),
    ("refunds", {"threshold": "1"}, "rf_over_chart", {"key": "card"}, NONE,
     {"by": "payment_method", "measure": "start", "threshold": 1}, 2),
    ("overview", JAN_12_TO_25, "ov_volume_chart", {"compared_key": "2026-01-05", "what": "Cancelled orders"},
     Filters(start=date(2026, 1, 12), end=date(2026, 1, 25)), {"period": "day", "compared": FIRST_WEEK}, 2),
]


@pytest.mark.parametrize(("page", "query", "key", "point", "filters", "context", "expected"), FOLLOW_CASES,
                         ids=["latency-card", "latency-original-from-request", "over-1-day-card", "compared-day"])
def test_a_click_on_a_refund_time_or_a_compared_mark_opens_its_orders(eleven, monkeypatch, page, query, key, point,
                                                                      filters, context, expected):
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(eleven[0]))
    at = s.open_page(page, {"dataset": eleven[1], **query})
    assert s.problems(at) == []
    at.session_state[key] = {"selection": {"drill": [point]}}
    at.run()
    assert s.problems(at) == []
    assert at.title[0].value == "Orders"
    found = drill.for_mark(key.startswith("ov") and "volume" or ("refund_latency" if "dist" in key else "share_over"),
                           point, filters, **context)
    assert found is not None
    assert {k: v for k, v in at.query_params.items() if k.startswith("g.")} == found[1].to_query()
    link = {"dataset": eleven[1], **found[0].to_query(), **found[1].to_query()}
    opened = s.open_page("orders", link)
    assert s.problems(opened) == []
    assert _listed(opened).startswith(f"**{expected:,} order")


LATE = {"from": "2026-01-12", "to": "2026-02-08", "compare": "2026-01-05..2026-02-01"}  # compared 01-05..01-28
# the Reasons page's query (its tab open on the chart clicked), the chart clicked, the point, the drawing's
# context, the filters it stands for
CLICKED_CASES = [
    ({"focus": WI}, "reasons_by_stage", {"reason": WI, "key": "awaiting_shipment"}, {}, Filters(reasons=(WI,)), {}, 3),
    ({"focus": CM, "breakdown": "payment_method"}, "reasons_by_payment_method", {"reason": CM, "key": "cod"}, {}, Filters(reasons=(CM,)), {}, 1),
    ({"focus": WI, "breakdown": "over_time"}, "reasons_over_time", {"reason": WI, "period_key": "2026-01-05"}, {"period": "week"},
     Filters(reasons=(WI,)), {}, 2),
    ({**LATE, "focus": WI, "breakdown": "over_time"}, "reasons_over_time", {"reason": WI, "compared_key": "2026-01-05"}, {"period": "week"},
     Filters(start=date(2026, 1, 12), end=date(2026, 2, 8), reasons=(WI,)),
     {"compared": Filters(start=date(2026, 1, 5), end=date(2026, 1, 28), reasons=(WI,))}, 2),
]


@pytest.mark.parametrize(("query", "chart", "point", "context", "filters", "more", "expected"), CLICKED_CASES,
                         ids=["stage", "payment-method", "week", "compared-week"])
def test_a_click_on_a_reason_charts_part_links_to_its_orders(eleven, monkeypatch, query, chart, point, context,
                                                             filters, more, expected):
    from ui.reasons import CLICKED

    monkeypatch.setenv("CANCELLATION_LAB_DB", str(eleven[0]))
    at = s.open_page("reasons", {"dataset": eleven[1], **query})
    assert s.problems(at) == []
    assert not [label for label, _ in _links(at) if "part clicked" in label]
    at.session_state[CLICKED] = {"chart": chart, "point": point, "context": context}
    at.run()
    assert s.problems(at) == []
    found = drill.for_mark(chart, point, filters, **context, **more)
    assert found is not None
    label, link = next((label, q) for label, q in _links(at) if "part clicked" in label)
    assert link == {"dataset": eleven[1], **found[0].to_query(), **found[1].to_query()}
    assert label.startswith(f"See the {expected:,} order")
    opened = s.open_page("orders", link)
    assert s.problems(opened) == []
    assert _listed(opened).startswith(f"**{expected:,} order")
    # Drawn by another period, the chart's click no longer names a part: no link.
    if context:
        at.session_state["reasons_period"] = "month"
        at.run()
        assert not [label for label, _ in _links(at) if "part clicked" in label]


def _links(at) -> list[tuple[str, dict[str, str]]]:
    from urllib.parse import parse_qsl

    return [(link.label, dict(parse_qsl(link.proto.query_string))) for link in at.main.get("page_link")]
