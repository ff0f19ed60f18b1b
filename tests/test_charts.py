"""Charts: each draws (compiles to SVG) from a small hand-made frame of its analytics table, encodes the
columns it should, and says so when there is nothing to draw."""

from datetime import date, timedelta

import altair as alt
import polars as pl
import pytest

from analytics import charts, exports


def _draws(chart) -> dict:
    svg = exports.chart_to_svg(chart)
    assert svg.lstrip().startswith(b"<svg")
    return chart.to_dict()


def _all_fields(spec) -> set[str]:
    found = set()
    if isinstance(spec, dict):
        if "field" in spec and isinstance(spec["field"], str):
            found.add(spec["field"])
        for v in spec.values():
            found |= _all_fields(v)
    elif isinstance(spec, list):
        for v in spec:
            found |= _all_fields(v)
    return found


LIFECYCLE = pl.DataFrame({"step": ["placed", "paid", "shipped", "delivered"], "reached": [100, 90, 80, 70],
                          "left": [10, 10, 10, None], "left_share": [0.1, 10 / 90, 0.125, None],
                          "cancelled_after": [10, 8, 2, None]})


def test_lifecycle_is_a_funnel_with_what_leaves_each_step_in_numbers_and_words():
    spec = _draws(charts.lifecycle_chart(LIFECYCLE))
    rows = next(v for v in spec["datasets"].values() if v and "left_words" in v[0])
    # Each step's bar, labelled with its count; its red end runs from the orders that went on to it.
    assert [(r["label"], r["reached"], r["stays"]) for r in rows] == [
        ("Placed · 100", 100, 90), ("Paid · 90", 90, 80), ("Shipped · 80", 80, 70), ("Delivered · 70", 70, None)]
    # 10 of 100 = 10.0%; 10 of 90 = 11.1%; 10 of 80 = 12.5%; of them cancelled at the stage that follows.
    assert [r["left_words"] for r in rows] == [
        "10 (10.0%) did not reach Paid; 10 cancelled before payment",
        "10 (11.1%) did not reach Shipped; 8 cancelled awaiting shipment",
        "10 (12.5%) did not reach Delivered; 2 cancelled after shipment",
        ""]
    reached, leaving, words = spec["layer"]
    assert (reached["encoding"]["x"]["field"], leaving["encoding"]["x"]["field"], leaving["encoding"]["x2"]["field"]) == (
        "reached", "stays", "reached")
    assert (reached["mark"]["color"], leaving["mark"]["color"]) == (charts.COLORS["reached"], charts.COLORS["left"])
    assert reached["encoding"]["y"]["sort"] == [r["label"] for r in rows]  # the life cycle's order, not by size
    assert words["encoding"]["text"]["field"] == "left_words"


def test_a_step_the_data_set_does_not_record_reads_unknown_not_zero():
    unknown = LIFECYCLE.with_columns(
        pl.when(pl.col("step") == "delivered").then(None).otherwise(pl.col("reached")).alias("reached"),
        pl.when(pl.col("step").is_in(["shipped", "delivered"])).then(None).otherwise(pl.col("left")).alias("left"))
    rows = charts.lifecycle_words(unknown).to_dicts()
    assert [r["label"] for r in rows][2:] == ["Shipped · 80", "Delivered · unknown"]
    assert [r["left_words"] for r in rows][2:] == [
        "How many reached Delivered is unknown; 2 cancelled after shipment", "Not recorded in this data set"]
    spec = _draws(charts.lifecycle_chart(unknown))
    data = next(v for v in spec["datasets"].values() if v and "left_words" in v[0])
    assert data[3]["reached"] is None  # no bar, not a bar of 0



def test_the_funnels_tooltip_says_what_left_in_words_never_null():
    # Shipped · 80 is followed by Delivered, which the data set does not record: its tooltip says so in
    # words ("How many reached Delivered is unknown"), where a count and a share would read null.
    unknown = LIFECYCLE.with_columns(
        pl.when(pl.col("step") == "delivered").then(None).otherwise(pl.col("reached")).alias("reached"),
        pl.when(pl.col("step").is_in(["shipped", "delivered"])).then(None).otherwise(pl.col("left")).alias("left"),
        pl.when(pl.col("step").is_in(["shipped", "delivered"])).then(None).otherwise(pl.col("left_share"))
        .alias("left_share"))
    spec = charts.lifecycle_chart(unknown).to_dict()
    rows = next(v for v in spec["datasets"].values() if v and "left_words" in v[0])
    for layer in spec["layer"][:2]:
        fields = [t["field"] for t in layer["encoding"]["tooltip"]]
        shown = [{f: r[f] for f in fields} for r in rows if r["reached"] is not None]
        assert all(v is not None for row in shown for v in row.values()), shown
    shipped = next(r for r in rows if r["step"] == "shipped")
    assert shipped["left_words"].startswith("How many reached Delivered is unknown")

def test_empty_selection_says_so():
    empty = LIFECYCLE.with_columns(pl.lit(0).alias("reached"))
    spec = _draws(charts.lifecycle_chart(empty))
    assert spec["mark"]["type"] == "text"
    assert "No orders" in str(spec["datasets"])


REASONS = pl.DataFrame({"reason": ["wrong_item", "changed_mind"], "requests": [6, 4], "share": [0.6, 0.4]})


def test_reasons_chart_is_clickable_and_marks_the_chosen_reason():
    spec = _draws(charts.reasons_chart(REASONS, selected="wrong_item"))
    param = spec["params"][0]
    assert param["name"] == charts.REASON_SELECTION
    assert param["select"]["fields"] == ["reason"]
    assert param["value"] == [{"reason": "wrong_item"}]
    assert "condition" in spec["encoding"]["opacity"]
    plain = _draws(charts.reasons_chart(REASONS))
    assert "value" not in plain["params"][0]


def test_reason_share_charts_stack_to_one_and_name_stages():
    frame = pl.DataFrame({"request_stage": ["before_payment", "awaiting_shipment", "awaiting_shipment"],
                          "reason": ["wrong_item", "wrong_item", "changed_mind"], "requests": [2, 3, 1],
                          "share": [1.0, 0.75, 0.25]})
    spec = _draws(charts.reasons_share_chart(frame, "request_stage", "Stage"))
    assert spec["encoding"]["x"]["stack"] == "normalize"
    assert spec["encoding"]["y"]["sort"] == ["Before payment", "Awaiting shipment", "After shipment"]


def test_reasons_over_time():
    frame = pl.DataFrame({"period": [date(2026, 6, 1), date(2026, 6, 8)], "reason": ["wrong_item"] * 2,
                          "requests": [1, 3], "share": [1.0, 1.0]})
    spec = _draws(charts.reasons_over_time_chart(frame, "week"))
    # One line per reason, and a point per week at its requests, in the reason's fixed colour.
    line, points = spec["layer"]
    enc = line["encoding"]
    assert (enc["x"]["field"], enc["x"]["title"], enc["y"]["field"]) == ("period", "Week starting", "requests")
    assert enc["color"]["scale"] == {"domain": ["wrong_item"], "range": ["#f58518"]}
    rows = spec["datasets"][points["data"]["name"]]
    assert [(r["period"][:10], r["requests"]) for r in rows] == [("2026-06-01", 1), ("2026-06-08", 3)]
    # A line is one mark: it holds no period key, so a click on it names no week (it named the first one);
    # a point names its own.
    assert "period_key" not in spec["datasets"][line["data"]["name"]][0]
    assert [r["period_key"] for r in rows] == ["2026-06-01", "2026-06-08"]
    # The time scale reaches past the first and last weeks: their points were half cut at the plot's edges.
    assert enc["x"]["scale"]["domain"][0] == {"year": 2026, "month": 5, "date": 30, "hours": 12, "utc": True}


def test_latency_chart_draws_each_groups_cumulative_curve_and_marks_the_given_quantiles():
    dist = pl.DataFrame({"payment_method": ["card"] * 4 + ["cod"] * 2 + [None],
                         "business_days": [1, 2, 2, 10, 0, 0, 3]})
    quantiles = pl.DataFrame({"payment_method": ["card", "cod"], "p50": [2.0, 0.0], "p90": [7.6, 0.0]})
    spec = _draws(charts.latency_chart(dist, quantiles, "payment_method", "business_days", "Method", "Days"))
    datasets = list(spec["datasets"].values())
    curve = next(d for d in datasets if "refunds" in d[0])
    marks = next(d for d in datasets if "kind" in d[0])
    # card: 1 of 4 done in 1 day, 3 of 4 in 2, all 4 in 10; each curve starts at 0 at its shortest time.
    assert [(r["group"], r["days"], r["done"]) for r in curve] == [
        ("card", 1, 0.0), ("card", 1, 0.25), ("card", 2, 0.75), ("card", 10, 1.0),
        ("cod", 0, 0.0), ("cod", 0, 1.0), ("unknown", 3, 0.0), ("unknown", 3, 1.0)]
    # The marks are the analytics' quantiles (7.6, not a day the curve steps on), at 50% and 90%.
    assert {(r["group"], r["kind"]): (r["value"], r["done"]) for r in marks} == {
        ("card", "median"): (2.0, 0.5), ("card", "90th percentile"): (7.6, 0.9),
        ("cod", "median"): (0.0, 0.5), ("cod", "90th percentile"): (0.0, 0.9)}
    guides, lines, points = spec["layer"]
    assert lines["mark"]["interpolate"] == "step-after"
    assert (lines["encoding"]["x"]["field"], lines["encoding"]["y"]["field"]) == ("days", "done")
    assert lines["encoding"]["y"]["scale"]["domain"] == [0, 1]
    assert points["encoding"]["shape"]["scale"]["domain"] == ["median", "90th percentile"]
    assert [r["done"] for r in next(d for d in datasets if list(d[0]) == ["done"])] == [0.5, 0.9]
    # A day no refund took is part of the x scale (no gap between days, as on an ordinal axis).
    assert lines["encoding"]["x"]["type"] == "quantitative"


def test_latency_chart_gives_the_first_days_room_and_names_the_same_day_curves():
    """Same-day methods rise within the first business day, where their curves lie on top of each other: a
    square-root scale gives days 0 to 1 as much room as days 1 to 4 (sqrt 4 - sqrt 1 = 1), with a tick on
    each of the first days, and the note says in words what each of those curves reaches."""
    # card: 3, 7 and 20 days; cod: both on the day; bank transfer: 2 of 3 on the day (67%), the third the
    # next day; cash: 1 of 2 (50%) on the day; wallet: its only refund the next day.
    dist = pl.DataFrame({"payment_method": ["card"] * 3 + ["cod"] * 2 + ["bank_transfer"] * 3 + ["cash"] * 2 + ["wallet"],
                         "business_days": [3, 7, 20, 0, 0, 0, 0, 1, 0, 1, 1]})
    quantiles = pl.DataFrame({"payment_method": ["card", "cod", "bank_transfer", "cash", "wallet"],
                              "p50": [7.0, 0.0, 0.0, 0.5, 1.0], "p90": [17.4, 0.0, 0.8, 0.9, 1.0]})
    spec = _draws(charts.latency_chart(dist, quantiles, "payment_method", "business_days", "Method", "Days"))
    _, lines, points = spec["layer"]
    x = lines["encoding"]["x"]
    assert x["type"] == "quantitative" and x["scale"]["type"] == "sqrt"
    assert x["axis"]["values"] == [0, 1, 2, 3, 5, 7, 10, 15, 20]
    assert "square-root" in x["title"]
    # In the legend's order; card, slower than a day, is left out.
    assert charts.same_day_note(dist, "payment_method", "business_days") == (
        "Done within a business day, their curves on top of each other at the left (the share done on the day, "
        "the rest the next): Wallet 0%, Cash 50%, Bank transfer 67%, Cash on delivery 100%.")
    assert charts.same_day_note(dist.filter(pl.col("payment_method") == "card"), "payment_method",
                                "business_days") is None
    # A refund before its start (a negative time) is no same-day refund, and the scale takes it in.
    early = pl.DataFrame({"payment_method": ["cod", "cod", "card"], "business_days": [-2, 0, 4]})
    assert charts.same_day_note(early, "payment_method", "business_days") is None
    spec = _draws(charts.latency_chart(early, quantiles.head(2), "payment_method", "business_days", "Method", "Days"))
    assert spec["layer"][1]["encoding"]["x"]["axis"]["values"] == [-2, -1, 0, 1, 2, 3]


def test_refund_charts():
    share = pl.DataFrame({"payment_method": ["card", None], "refunds": [10, 2], "over_threshold": [1, 0],
                          "share_over_threshold": [0.1, 0.0]})
    spec = _draws(charts.share_over_chart(share, "payment_method", "Method", 20))
    assert "20" in spec["encoding"]["x"]["title"]
    by = pl.DataFrame({"refund_channel": ["original", "wallet"], "refunds": [3, 1], "refund_amount": [30.0, 5.0],
                       "share": [0.75, 0.25]})
    spec = _draws(charts.refunds_by_chart(by, "refund_channel", "Channel"))
    # One bar per channel, as tall as its refunds, tallest first, each channel in its fixed colour.
    assert [(r["refund_channel"], r["refunds"]) for r in next(iter(spec["datasets"].values()))] == [
        ("original", 3), ("wallet", 1)]
    enc = spec["encoding"]
    assert (enc["x"]["field"], enc["x"]["sort"], enc["y"]["field"]) == ("refund_channel", "-y", "refunds")
    assert enc["color"]["scale"] == {"domain": ["original", "wallet"], "range": ["#4c78a8", "#72b7b2"]}


def test_other_overview_charts():
    spec = _draws(charts.stages_chart(pl.DataFrame({"stage": ["after_shipment", "before_payment", "awaiting_shipment"],
                                                    "requests": [0, 1, 2], "cancelled_orders": [5, 1, 2],
                                                    "cancelled_gmv": [0.0, 1.0, 2.0]})))
    # Cancelled orders per stage, named in words and in the order an order goes through them.
    rows = next(iter(spec["datasets"].values()))
    assert {r["label"]: r["cancelled_orders"] for r in rows} == {
        "After shipment": 5, "Before payment": 1, "Awaiting shipment": 2}
    assert spec["encoding"]["x"]["sort"] == ["Before payment", "Awaiting shipment", "After shipment"]
    assert (spec["encoding"]["y"]["field"], spec["mark"]["color"]) == ("cancelled_orders", "#e45756")
    spec = _draws(charts.volume_chart(pl.DataFrame({"period": [date(2026, 6, 1), date(2026, 6, 8)], "orders": [3, 8],
                                                    "cancelled_orders": [1, 2], "cancellation_rate": [1 / 3, 0.25]})))
    # The rate as a line on the left axis, the orders as an area on the right one, on scales of their own;
    # over them each week's column (a click there lists its orders: an area is one mark, so a click on it
    # listed the first week's); the rate's points last (a click there lists the week's cancelled orders).
    area, rates, columns, points = spec["layer"]
    (line,) = rates["layer"]
    assert columns["mark"]["type"] == "rect" and columns["encoding"]["x2"]["field"] == "column_end"
    assert "y" not in columns["encoding"]   # full height
    assert [c["as"] for c in columns["transform"]] == ["column_start", "column_end"]
    assert "utcOffset('hours', toDate(datum.period), -84)" in columns["transform"][0]["calculate"]
    assert points["mark"]["type"] == "point" and points["encoding"]["y"]["field"] == "cancellation_rate"
    rows = spec["datasets"][(line.get("data") or rates["data"])["name"]]
    assert [(r["period"][:10], r["cancellation_rate"]) for r in rows] == [("2026-06-01", 1 / 3), ("2026-06-08", 0.25)]
    assert (line["mark"]["type"], line["encoding"]["y"]["field"], line["encoding"]["y"]["axis"]["format"]) == (
        "line", "cancellation_rate", "%")
    assert (area["mark"]["type"], area["encoding"]["y"]["field"], area["encoding"]["y"]["axis"]["orient"]) == (
        "area", "orders", "right")
    assert [r["orders"] for r in spec["datasets"][area["data"]["name"]]] == [3, 8]
    assert spec["resolve"]["scale"]["y"] == "independent"
    assert line["encoding"]["color"]["scale"] == {"domain": ["Cancellation rate", "Orders"],
                                                 "range": ["#e45756", "#c6dbef"]}
    spec = _draws(charts.outcomes_chart(pl.DataFrame({"outcome": ["accepted", "lapsed"], "requests": [2, 0],
                                                      "share": [1.0, 0.0]})))
    rows = next(iter(spec["datasets"].values()))
    assert [r["label"] for r in rows] == ["Accepted by seller"]  # outcomes with no request are left out


def test_a_compared_range_is_drawn_on_the_rate_and_orders_axes_and_one_period_shows():
    from datetime import timedelta

    def weeks(first: date, n: int, cancelled: int = 5) -> pl.DataFrame:
        return pl.DataFrame({"period": [first + timedelta(weeks=i) for i in range(n)], "orders": [100 + i for i in range(n)],
                             "cancelled_orders": [cancelled] * n}).with_columns(
            (pl.col("cancelled_orders") / pl.col("orders")).alias("cancellation_rate"))

    for n in (1, 4):
        # The compared weeks cancelled more: the rate's scale reaches their rate.
        frame, compared = weeks(date(2026, 3, 2), n), weeks(date(2026, 3, 2) - timedelta(weeks=n), n, cancelled=9)
        spec = _draws(charts.volume_compared_chart(frame, compared, "week", frame["period"].max() + timedelta(days=6),
                                                   7 * n, "This selection", "Compared"))
        # Two axes: the orders right, the rate left (its one layer: one scale); the compared orders on a scale
        # of the orders' own domain and the compared rate on the rate's, with no axis of their own, over the
        # rate's line; the rate's points last, on the rate's scale: where a compared point meets this
        # selection's rate point, a click takes this selection's.
        assert spec["resolve"]["scale"]["y"] == "independent" and len(spec["layer"]) == 6
        orders, rates, columns, compared_orders, compared_rate, points = spec["layer"]
        assert columns["mark"]["type"] == "rect"
        top_rate = max(frame["cancellation_rate"].max(), compared["cancellation_rate"].max())
        assert points["mark"]["type"] == "point" and points["encoding"]["y"]["axis"] is None
        # A layer whose x axis is None took the chart's time axis away (the compared chart had no dates).
        assert all("axis" not in layer["encoding"]["x"] for layer in (compared_orders, compared_rate, points))
        assert points["encoding"]["y"]["scale"] == rates["layer"][0]["encoding"]["y"]["scale"] == \
            compared_rate["encoding"]["y"]["scale"] == {"domain": [0, top_rate]}
        assert all(not layer["mark"].get("point") for layer in rates["layer"])
        assert [layer["encoding"]["y"]["field"] for layer in (orders, compared_orders, compared_rate)] == [
            "orders", "orders", "cancellation_rate"]
        assert orders["encoding"]["y"]["axis"]["orient"] == "right"
        assert compared_orders["encoding"]["y"]["axis"] is None and compared_rate["encoding"]["y"]["axis"] is None
        top = max(frame["orders"].max(), compared["orders"].max())
        assert orders["encoding"]["y"]["scale"] == compared_orders["encoding"]["y"]["scale"] == {"domain": [0, top]}
        assert [layer["encoding"]["y"]["field"] for layer in rates["layer"]] == ["cancellation_rate"]
        # The compared rate in the rate's colour, dashed; its values are the compared weeks' own rates.
        assert compared_rate["encoding"]["color"]["scale"] == rates["layer"][0]["encoding"]["color"]["scale"]
        assert compared_rate["encoding"]["strokeDash"]["scale"]["domain"] == ["This selection", "Compared"]
        drawn = spec["datasets"][compared_rate["data"]["name"]]
        assert sorted(r["cancellation_rate"] for r in drawn) == sorted(compared["cancellation_rate"].to_list())
        # One period: the orders as a bar (an area of one point draws nothing), its day the axis' one tick.
        # The ticks are the weeks' Mondays (Vega's own week ticks fall on Sundays, a day before each point).
        assert orders["mark"]["type"] == ("bar" if n == 1 else "area")
        ticks = orders["encoding"]["x"]["axis"].get("values")
        assert ticks == [{"year": 2026, "month": 3, "date": 2 + 7 * i} for i in range(n)]


def test_what_if_charts():
    comparison = pl.DataFrame({"figure": ["Cancelled orders"] * 2, "variant": ["baseline", "scenario"],
                               "value": [10.0, 12.0], "low": [9.0, 11.0], "high": [11.0, 13.0]})
    spec = _draws(charts.comparison_chart(comparison, "Value"))
    # A bar per variant at its value, with an error bar from low to high.
    assert [(r["variant"], r["value"], r["low"], r["high"]) for r in spec["datasets"][spec["data"]["name"]]] == [
        ("baseline", 10.0, 9.0, 11.0), ("scenario", 12.0, 11.0, 13.0)]
    bar, error = spec["concat"][0]["layer"]
    assert (bar["mark"]["type"], bar["encoding"]["y"]["field"]) == ("bar", "value")
    assert (error["mark"]["type"], error["encoding"]["y"]["field"], error["encoding"]["y2"]["field"]) == (
        "errorbar", "low", "high")
    sweep = pl.DataFrame({"parameter": [24.0, 72.0], "value": [5.0, 3.0], "low": [4.0, 2.5], "high": [6.0, 3.5]})
    spec = _draws(charts.sweep_chart(sweep, "Window (hours)", "Cancelled orders", current=72))
    assert len(spec["layer"]) == 3


@pytest.mark.parametrize("fn", [charts.reasons_chart, charts.outcomes_chart])
def test_no_requests_gives_a_message_chart(fn):
    frame = pl.DataFrame({"reason": [], "outcome": [], "requests": [], "share": []},
                         schema={"reason": pl.String, "outcome": pl.String, "requests": pl.Int64, "share": pl.Float64})
    chart = fn(frame)
    assert isinstance(chart, alt.Chart)
    assert chart.to_dict()["mark"]["type"] == "text"


def test_reason_gmv_chart():
    frame = pl.DataFrame({"reason": ["wrong_item", "other"], "cancelled_orders": [3, 1], "cancelled_gmv": [30.0, 5.0],
                          "share_of_cancelled_gmv": [0.6, 0.1]})
    spec = _draws(charts.reason_gmv_chart(frame, "other"))
    assert spec["encoding"]["x"]["field"] == "share_of_cancelled_gmv"


def test_the_share_of_cancelled_gmv_axis_ends_on_a_labelled_tick_past_the_longest_bar():
    """The longest bar (34.3%) ran to the chart's edge at 35%, whose label was dropped for room: the axis
    now ends on a labelled tick."""
    import re

    frame = pl.DataFrame({"reason": ["wrong_item", "changed_mind", "shipping_delay", "other"],
                          "cancelled_orders": [4, 3, 2, 1], "cancelled_gmv": [34.3, 29.4, 15.3, 21.0],
                          "share_of_cancelled_gmv": [0.343, 0.294, 0.153, 0.21]})
    svg = exports.chart_to_svg(charts.reason_gmv_chart(frame).properties(width=300)).decode()
    labels = re.findall(r">([0-9]+%)<", svg)
    assert labels[-1] == "40%" and "30%" in labels, labels


def test_figures_a_data_set_cannot_measure_are_left_out():
    comparison = pl.DataFrame({"figure": ["Wait", "Wait", "Cancelled"], "variant": ["baseline", "scenario", "baseline"],
                               "value": [None, None, 3.0], "low": [None, None, 3.0], "high": [None, None, 3.0]},
                              schema_overrides={"value": pl.Float64, "low": pl.Float64, "high": pl.Float64})
    spec = _draws(charts.comparison_chart(comparison, "Value"))
    rows = next(iter(spec["datasets"].values()))
    assert [r["figure"] for r in rows] == ["Cancelled"]
    sweep = pl.DataFrame({"parameter": [1.0], "value": [None], "low": [None], "high": [None]},
                         schema_overrides={"value": pl.Float64, "low": pl.Float64, "high": pl.Float64})
    assert charts.sweep_chart(sweep, "p", "f").to_dict()["mark"]["type"] == "text"


def _color_of(spec: dict, label: str) -> str:
    """The colour a chart's colour scale gives a label (searching layers and facets)."""
    def scales(node):
        if isinstance(node, dict):
            color = node.get("encoding", {}).get("color", {}) if isinstance(node.get("encoding"), dict) else {}
            if isinstance(color, dict) and "scale" in color:
                yield color["scale"]
            for v in node.values():
                yield from scales(v)
        elif isinstance(node, list):
            for v in node:
                yield from scales(v)
    for scale in scales(spec):
        if label in scale.get("domain", []):
            return scale["range"][scale["domain"].index(label)]
    raise AssertionError(f"{label} has no colour")


def test_a_reason_keeps_its_colour_focused_or_not_and_in_every_reason_chart():
    all_reasons = pl.DataFrame({"reason": ["changed_mind", "wrong_item", "other"], "requests": [5, 3, 1],
                                "share": [5 / 9, 3 / 9, 1 / 9]})
    alone = all_reasons.filter(pl.col("reason") == "wrong_item")
    colour = _color_of(charts.reasons_chart(all_reasons).to_dict(), "wrong_item")
    assert _color_of(charts.reasons_chart(alone, selected="wrong_item").to_dict(), "wrong_item") == colour
    by_stage = pl.DataFrame({"request_stage": ["awaiting_shipment"], "reason": ["wrong_item"], "requests": [3],
                             "share": [1.0]})
    assert _color_of(charts.reasons_share_chart(by_stage, "request_stage", "Stage").to_dict(), "wrong_item") == colour
    # The reasons' fixed colours: wrong_item is orange, never the red of cancellations.
    assert colour == "#f58518" != "#e45756"


def test_cancellations_are_one_colour_and_payment_methods_and_channels_fixed():
    volume = pl.DataFrame({"period": [date(2024, 1, 1)], "orders": [10], "cancelled_orders": [2],
                           "cancellation_rate": [0.2]})
    assert _color_of(charts.volume_chart(volume).to_dict(), "Cancellation rate") == "#e45756"
    by_method = pl.DataFrame({"payment_method": ["cod", "card"], "refunds": [1, 2], "refund_amount": [1.0, 2.0],
                              "share": [1 / 3, 2 / 3]})
    only_card = by_method.filter(pl.col("payment_method") == "card")
    assert _color_of(charts.refunds_by_chart(by_method, "payment_method", "Method").to_dict(), "card") == "#4c78a8"
    assert _color_of(charts.refunds_by_chart(only_card, "payment_method", "Method").to_dict(), "card") == "#4c78a8"
    channels = pl.DataFrame({"refund_channel": ["coupon"], "refunds": [1], "refund_amount": [1.0], "share": [1.0]})
    assert _color_of(charts.refunds_by_chart(channels, "refund_channel", "Channel").to_dict(), "coupon") == "#f58518"
    # An export's own label gets a palette colour chosen by its name alone, in whatever company:
    # crc32(b"pix") = 1,095,866,530 = 12 x 91,322,210 + 10, so the 11th of the 12 palette colours.
    pix = pl.DataFrame({"payment_method": ["pix"], "refunds": [1], "refund_amount": [1.0], "share": [1.0]})
    with_card = pl.concat([pix, only_card])
    for frame in (pix, with_card):
        assert _color_of(charts.refunds_by_chart(frame, "payment_method", "Method").to_dict(), "pix") == "#d67195"


def test_comparison_charts_keep_the_tiles_order_and_title_each_axis_with_its_unit():
    from analytics import whatif_tables as wt

    part = {"cancelled_orders": {"value": 3.0, "low": 2.0, "high": 4.0}, "cancelled_gmv": {"value": 5.0},
            "refund_wait_p50_business_days": {"value": 1.0}, "refund_wait_p90_business_days": {"value": 2.0}}
    frame = wt.comparison_frame({"Baseline": part, "Scenario": part}, wt.TILES)
    spec = charts.comparison_chart(frame).to_dict()
    panels = spec["concat"]
    # Short labels, each title at its plot's left edge, every plot the same width with a y axis as wide.
    assert [p["title"]["text"] for p in panels] == [
        "Cancelled orders", "Buyer's wait, median", "Buyer's wait, 90th percentile", "Cancelled GMV"]
    assert {(p["title"]["anchor"], p["title"]["frame"], p["width"]) for p in panels} == {("start", "group", 150)}
    assert {p["layer"][0]["encoding"]["y"]["axis"]["minExtent"] for p in panels} == {48}
    assert [p["layer"][0]["encoding"]["y"]["title"] for p in panels] == \
        ["Orders", "Business days", "Business days", "Currency"]
    # With the data set's currency, an amount's axis says it.
    spec = charts.comparison_chart(wt.comparison_frame({"Baseline": part}, wt.TILES, "USD ")).to_dict()
    assert spec["concat"][-1]["layer"][0]["encoding"]["y"]["title"] == "USD"


def test_periods_after_the_data_are_left_out_and_a_partial_last_one_is_marked():
    frame = pl.DataFrame({"period": [date(2018, 7, 1), date(2018, 8, 1), date(2018, 9, 1), date(2018, 10, 1)],
                          "orders": [100, 90, 4, 0], "cancelled_orders": [5, 4, 1, 0]})
    marked = charts.complete_periods(frame, "month", date(2018, 9, 3))
    assert marked["period"].to_list() == [date(2018, 7, 1), date(2018, 8, 1), date(2018, 9, 1)]
    assert marked["partial"].to_list() == [False, False, True]
    assert charts.complete_periods(frame, "month", date(2018, 8, 31))["partial"].to_list() == [False, False]
    assert charts.partial_note(frame, "month", date(2018, 9, 3)).startswith(
        "The data ends on 2018-09-03: the last month is partial")
    # Where the filters end the selection before the data's last day, the note says so.
    assert charts.partial_note(frame, "month", date(2018, 9, 3), selection_ends=True) == (
        "The selection ends on 2018-09-03: the last month is partial, drawn dashed (its count is short because "
        "the selection stops, not because activity fell).")
    assert charts.partial_note(frame, "month", date(2018, 8, 31)) is None
    frame = frame.with_columns((pl.col("cancelled_orders") / pl.col("orders")).alias("cancellation_rate"))
    spec = _draws(charts.volume_chart(frame, "month", date(2018, 9, 3)))
    # The dashed piece is drawn in the solid line's layer, on its scale (the rate's), not on one of its own.
    assert spec["resolve"]["scale"]["y"] == "independent" and len(spec["layer"]) == 4
    solid, dashed = spec["layer"][1]["layer"]
    assert "resolve" not in spec["layer"][1] and dashed["mark"]["strokeDash"] == [4, 4]
    assert solid["encoding"]["y"]["field"] == dashed["encoding"]["y"]["field"] == "cancellation_rate"
    spec = _draws(charts.reasons_over_time_chart(
        pl.DataFrame({"period": [date(2016, 10, 1), date(2018, 9, 1)], "reason": ["wrong_item", "other"],
                      "requests": [3, 1]}), "month", last_day=date(2018, 9, 30)))
    assert spec["layer"][0]["encoding"]["x"]["axis"]["format"] == "%b %Y"  # spans years: years shown


def test_a_single_partial_period_is_said_to_be_the_only_one_not_the_last_drawn_dashed():
    """A seller with one week of orders, the data ending on its Wednesday: that week is drawn as a point, so
    the note says it is the only week and partial, not the last one drawn dashed."""
    frame = pl.DataFrame({"period": [date(2026, 3, 30)], "orders": [4], "cancelled_orders": [1]})
    assert charts.partial_note(frame, "week", date(2026, 4, 1)) == (
        "The data ends on 2026-04-01: the only week is partial (its count is short because the data stops, not "
        "because activity fell).")


def test_a_partial_first_period_is_marked_and_drawn_dashed_as_the_last():
    """A selection from Wednesday 1 Apr 2026: its first week (from Monday 30 Mar) holds five of its seven
    days, short because the selection starts within it. It is dashed and said, as a partial last week is."""
    weeks = [date(2026, 3, 30) + timedelta(weeks=i) for i in range(4)]
    frame = pl.DataFrame({"period": weeks, "orders": [60, 100, 100, 40], "cancelled_orders": [3, 6, 5, 2]}).with_columns(
        (pl.col("cancelled_orders") / pl.col("orders")).alias("cancellation_rate"))
    first, last = date(2026, 4, 1), date(2026, 4, 22)   # the last week (from 20 Apr) ends on a Sunday, 26 Apr
    marked = charts.complete_periods(frame, "week", last, first)
    assert marked["partial"].to_list() == [True, False, False, True]
    assert charts.complete_periods(frame, "week", date(2026, 4, 26), date(2026, 3, 30))["partial"].to_list() == [False] * 4
    assert charts.partial_note(frame, "week", last, selection_ends=True, first_day=first, selection_starts=True) == (
        "The selection starts on 2026-04-01: the first week is partial, drawn dashed (its count is short because "
        "the selection starts within it, not because activity was low). The selection ends on 2026-04-22: the "
        "last week is partial, drawn dashed (its count is short because the selection stops, not because "
        "activity fell).")
    assert charts.partial_note(frame, "week", date(2026, 4, 26), first_day=first).startswith(
        "The data starts on 2026-04-01: the first week is partial")
    spec = _draws(charts.volume_chart(frame, "week", last, first))
    solid, dashed = spec["layer"][1]["layer"]
    assert sorted(r["period"][:10] for r in spec["datasets"][solid["data"]["name"]]) == ["2026-04-06", "2026-04-13"]
    # Two dashed pieces, kept apart: the partial first week to the first whole one, the last whole to the last.
    pieces = {}
    for r in spec["datasets"][dashed["data"]["name"]]:
        pieces.setdefault(r["piece"], []).append(r["period"][:10])
    assert {k: sorted(v) for k, v in pieces.items()} == {"first": ["2026-03-30", "2026-04-06"],
                                                         "last": ["2026-04-13", "2026-04-20"]}
    assert dashed["encoding"]["detail"]["field"] == "piece"
    # With a compared range too: the chart is drawn (its layers' heights agree), the compared range's short
    # first and last weeks left out.
    requests = frame.select("period", pl.lit("wrong_item").alias("reason"), pl.col("orders").alias("requests"))
    spec = _draws(charts.reasons_over_time_compared_chart(
        requests, requests.with_columns(pl.col("period") - timedelta(weeks=4)), "week", None, last, 28,
        "This selection", "Compared", compared_days=(first - timedelta(weeks=4), last - timedelta(weeks=4)),
        first_day=first))
    lines = spec["layer"][-1]
    assert sorted(r["compared_key"] for r in spec["datasets"][lines["data"]["name"]]) == ["2026-03-09", "2026-03-16"]


def test_compared_weeks_and_months_stand_over_the_selections_own():
    """The previous period of a 62-day selection from Tuesday 5 May 2026 starts on Wednesday 4 March: its weeks
    move by whole weeks onto the selection's (9 weeks: the week of 2 March onto that of 4 May), not by 62
    days, which put each compared point on a Thursday, between the selection's points. Months move by
    whole months."""
    weeks = pl.DataFrame({"period": [date(2026, 3, 2) + timedelta(weeks=i) for i in range(9)], "requests": [1] * 9})
    moved = charts._shifted(weeks, 62, (date(2026, 3, 4), date(2026, 5, 4)), "week")
    assert all(d.weekday() == 0 for d in moved["period"])
    # The partial first week (from 2 March; compared from 4 March) is left out; the week of 9 March stands
    # over the week of 11 May.
    assert moved.row(0, named=True)["compared_key"] == "2026-03-09" and moved["period"][0] == date(2026, 5, 11)
    months = pl.DataFrame({"period": [date(2025, 1, 1), date(2025, 2, 1)], "requests": [1, 1]})
    moved = charts._shifted(months, 365, (date(2025, 1, 1), date(2025, 2, 28)), "month")
    assert moved["period"].to_list() == [date(2026, 1, 1), date(2026, 2, 1)]


def test_sweep_charts_have_a_title_and_axis_titles_in_words():
    from analytics import sweep_choices
    from analytics.policy import PARAMETERS_BY_NAME

    p = PARAMETERS_BY_NAME["seller_response_hours"]
    assert sweep_choices.axis_range(p) == "more than 0 and at most 2,160 hours"
    assert sweep_choices.axis_title(p) == "Seller's response window (hours)"
    sweep = pl.DataFrame({"parameter": [24.0, 72.0], "value": [5.0, 3.0], "low": [4.0, 2.5], "high": [6.0, 3.5]})
    spec = _draws(charts.sweep_chart(sweep, sweep_choices.axis_title(p), "Orders", title="Cancelled orders"))
    assert spec["title"]["text"] == "Cancelled orders"
    assert spec["layer"][0]["encoding"]["x"]["title"] == "Seller's response window (hours)"


def test_codes_are_shown_in_plain_words():
    assert charts.plain("wrong_item") == "Wrong item"
    assert charts.plain("western_union") == "Western Union"
    assert charts.plain("before_payment") == "Before payment"
    spec = _draws(charts.reasons_chart(pl.DataFrame({"reason": ["wrong_item"], "requests": [2], "share": [1.0]})))
    assert '"Wrong item"' in spec["encoding"]["y"]["axis"]["labelExpr"]
    assert '"Western Union"' in spec["encoding"]["y"]["axis"]["labelExpr"]


def _tooltip_lines(spec) -> list[tuple[str, str | None, list]]:
    """Every tooltip line of a chart's layers: (field, title, the values that line shows)."""
    out = []
    for layer in spec.get("layer", [spec]):
        rows = spec["datasets"].get(layer.get("data", spec.get("data", {})).get("name"), [])
        for t in layer.get("encoding", {}).get("tooltip", []):
            out.append((t["field"], t.get("title"), [r.get(t["field"]) for r in rows]))
    return out


def test_a_charts_tooltip_says_its_codes_and_columns_in_words():
    """Pointing at a bar showed 'reason wrong_item; cancelled_gmv 41,556.54; share_of_cancelled_gmv 35.5%'
    beside an axis reading 'Wrong item': every tooltip line has a title in words, and a code shows as the
    axes write it."""
    by_stage = pl.DataFrame({"payment_method": ["western_union", "card"], "reason": ["wrong_item", "changed_mind"],
                             "requests": [2, 1], "share": [1.0, 1.0]})
    refunds = pl.DataFrame({"refund_channel": ["original", None], "refunds": [3, 1], "refund_amount": [30.0, 5.0],
                            "share": [0.75, 0.25], "over_threshold": [1, 0], "share_over_threshold": [1 / 3, 0.0]})
    drawn = {
        "reasons": charts.reasons_chart(REASONS),
        "reason_gmv": charts.reason_gmv_chart(pl.DataFrame({
            "reason": ["wrong_item"], "cancelled_orders": [3], "cancelled_gmv": [30.0], "share_of_cancelled_gmv": [1.0]})),
        "reasons_by": charts.reasons_share_chart(by_stage, "payment_method", "Payment method"),
        "reasons_over_time": charts.reasons_over_time_chart(pl.DataFrame({
            "period": [date(2026, 6, 1)], "reason": ["shipping_delay"], "requests": [1], "share": [1.0]}), "week"),
        "latency": charts.latency_chart(
            pl.DataFrame({"payment_method": ["western_union", "card"], "business_days": [1, 2]}),
            pl.DataFrame({"payment_method": ["western_union", "card"], "p50": [1.0, 2.0], "p90": [1.0, 2.0]}),
            "payment_method", "business_days", "Payment method", "Days"),
        "refunds_by": charts.refunds_by_chart(refunds, "refund_channel", "Channel"),
        "share_over": charts.share_over_chart(refunds, "refund_channel", "Channel", 20),
        "stages": charts.stages_chart(pl.DataFrame({"stage": ["before_payment"], "cancelled_orders": [2]})),
        "outcomes": charts.outcomes_chart(pl.DataFrame({"outcome": ["accepted"], "requests": [2], "share": [1.0]})),
    }
    codes = {"wrong_item", "changed_mind", "shipping_delay", "western_union", "card", "original", "unknown"}
    for name, chart in drawn.items():
        lines = _tooltip_lines(_draws(chart))
        assert lines, name
        for field, title, values in lines:
            assert title and title[0].isupper() and "_" not in title, (name, field, title)
            assert not codes & {v for v in values if isinstance(v, str)}, (name, field, values)
    words = {v for _, _, values in _tooltip_lines(_draws(drawn["reason_gmv"])) for v in values}
    assert "Wrong item" in words
    words = {v for _, _, values in _tooltip_lines(_draws(drawn["latency"])) for v in values}
    assert "Western Union" in words


def test_an_exports_own_reasons_read_in_plain_words_on_the_charts_as_in_the_orders_list():
    """A reason the domain does not know, from an export, reads as the Orders page writes it ('Found it
    cheaper elsewhere', not 'found_it_cheaper_elsewhere'); a quote or a backslash in it cannot break the
    chart's expression (JSON strings, as Vega reads them)."""
    import json

    codes = ["found_it_cheaper_elsewhere", "it's \\ odd \"one\""]
    frame = pl.DataFrame({"reason": codes, "requests": [2, 1], "share": [2 / 3, 1 / 3]})
    for chart in (charts.reasons_chart(frame), charts.reasons_share_chart(
            frame.with_columns(pl.lit("awaiting_shipment").alias("request_stage")), "request_stage", "Stage")):
        spec = _draws(chart)
        text = json.dumps(spec)
        assert "Found it cheaper elsewhere" in text
    expr = charts.legend_words(codes)
    for code in codes:
        assert f"datum.label == {json.dumps(code)} ? {json.dumps(charts.plain(code))}" in expr


def test_a_distribution_shows_every_day_even_one_no_refund_took():
    frame = pl.DataFrame({"channel": ["wallet", "wallet", "coupon"], "days": [1, 3, 4], "share": [0.5, 0.5, 1.0],
                          "count": [1, 1, 2], "assumed": [False, False, True]})
    spec = _draws(charts.distribution_chart(frame, "channel"))
    rows = next(iter(spec["datasets"].values()))
    wallet = {r["days"]: r["share"] for r in rows if r["channel"] == "wallet"}
    assert wallet == {1: 0.5, 2: 0.0, 3: 0.5, 4: 0.0}
    assert {r["basis"] for r in rows if r["channel"] == "coupon"} == {"assumed"}


def test_each_outcome_keeps_its_colour_whatever_the_selection_holds():
    """With and without auto-cancelled requests, 'Not cancellable' is drawn in the same colour."""
    from analytics.charts import OUTCOME_COLORS, outcomes_chart

    full = pl.DataFrame({"outcome": ["accepted", "auto_cancelled", "not_cancellable"], "requests": [5, 2, 3],
                         "share": [0.5, 0.2, 0.3]})
    for frame in (full, full.filter(pl.col("outcome") != "auto_cancelled")):
        scale = outcomes_chart(frame).to_dict()["encoding"]["color"]["scale"]
        colour = dict(zip(scale["domain"], scale["range"], strict=True))
        assert colour["Not cancellable (shipped)"] == OUTCOME_COLORS["not_cancellable"] == "#b279a2"
        assert colour["Accepted by seller"] == "#54a24b"


def _axis_dates(chart) -> list[str]:
    """The date labels drawn on a chart's time axis, read from its SVG."""
    import re

    svg = exports.chart_to_svg(chart).decode()
    return re.findall(r">((?:\d\d )?(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)(?: \d{4})?)</text>", svg)


@pytest.mark.parametrize(("first", "weeks"), [(date(2024, 12, 2), 16), (date(2024, 12, 16), 5), (date(2024, 3, 4), 60)])
def test_a_time_axis_never_repeats_a_date(first, weeks):
    from datetime import timedelta

    periods = [first + timedelta(weeks=i) for i in range(weeks)]
    frame = pl.DataFrame({"period": periods, "orders": [100] * weeks, "cancelled_orders": [5] * weeks,
                          "cancellation_rate": [0.05] * weeks})
    labels = _axis_dates(charts.volume_chart(frame, "week").properties(width=700))
    assert len(labels) >= 2
    assert len(labels) == len(set(labels)), labels
    # Across a new year, the year is said.
    assert any("2025" in label for label in labels)


ORDERS_BY_STATUS = pl.DataFrame({
    "status": ["delivered", "delivered", "canceled", "canceled", None],
    "stage": [None, "awaiting_shipment", "before_payment", "awaiting_shipment", None],
    "orders": [80, 5, 4, 6, 5], "cancelled_orders": [0, 0, 4, 6, 0], "share": [0.8, 0.05, 0.04, 0.06, 0.05]})


def test_orders_by_status_keep_the_exports_words_split_by_the_products_stage():
    spec = _draws(charts.status_chart(ORDERS_BY_STATUS))
    rows = next(iter(spec["datasets"].values()))
    # The status as exported ('canceled', not 'Cancelled'); a missing one said to be unknown.
    assert [(r["status"], r["stage_words"], r["orders"]) for r in rows] == [
        ("delivered", "No request or cancellation", 80), ("delivered", "Awaiting shipment", 5),
        ("canceled", "Before payment", 4), ("canceled", "Awaiting shipment", 6),
        ("Unknown (no status)", "No request or cancellation", 5)]
    enc = spec["encoding"]
    assert enc["y"]["sort"] == ["delivered", "canceled", "Unknown (no status)"]
    assert enc["color"]["scale"]["domain"] == ["Before payment", "Awaiting shipment", "After shipment",
                                               "No request or cancellation"]
    assert enc["color"]["scale"]["range"][1] == charts.COLORS["left"]


def test_a_count_axis_of_a_few_orders_never_repeats_a_number():
    import re

    outcomes = pl.DataFrame({"outcome": ["accepted", "rejected"], "requests": [1, 2], "share": [1 / 3, 2 / 3]})
    stages = pl.DataFrame({"stage": ["awaiting_shipment", "before_payment"], "cancelled_orders": [2, 1]})
    # A shop's first days, by day: one order a day, as a small Shopify export has (its PNG read "0 1 1").
    days = pl.DataFrame({"period": [date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)], "orders": [1, 1, 1],
                         "cancelled_orders": [0, 1, 0], "cancellation_rate": [0.0, 1.0, 0.0]})
    for chart in (charts.outcomes_chart(outcomes), charts.stages_chart(stages), charts.status_chart(
            ORDERS_BY_STATUS.with_columns(pl.col("orders") // 20, pl.col("cancelled_orders") // 3)),
            charts.volume_chart(days, "day", date(2026, 3, 4))):
        svg = exports.chart_to_svg(chart.properties(width=400)).decode()
        numbers = re.findall(r">(\d+)</text>", svg)
        assert numbers and len(numbers) == len(set(numbers)), numbers


def test_the_frontiers_points_are_filled_in_their_own_colours():
    """A point's fill is on its outline's scale: 'not on the frontier' grey, the frontier's blue (a fill on a
    scale of its own took Vega's palette, and both read blue)."""
    frame = pl.DataFrame({"index": [0, 1, 2], "policy": ["a", "b", "c"], "a": [1.0, 2.0, 3.0], "a_low": [0.5, 1.5, 2.5],
                          "a_high": [1.5, 2.5, 3.5], "b": [3.0, 2.0, 2.5], "b_low": [2.5, 1.5, 2.0],
                          "b_high": [3.5, 2.5, 3.0], "on_frontier": [True, True, False], "extrapolated": ["", "", ""],
                          "mark": ["", "", ""]})
    spec = _draws(charts.frontier_chart(frame, "A", "B"))
    points = next(layer for layer in spec["layer"] if "fill" in layer.get("encoding", {}))
    scales = [points["encoding"]["color"]["scale"], points["encoding"]["fill"].get("scale")]
    assert scales[0] == scales[1], scales
    assert dict(zip(scales[0]["domain"], scales[0]["range"], strict=True))["not on the frontier"] == "#9a9ca3"


def test_a_step_no_order_reached_claims_nothing_about_the_next():
    """With the refund date as anchor, a selection can hold orders none of which shipped: 'Shipped · 0'
    said 'All reached Delivered'."""
    none_shipped = pl.DataFrame({"step": ["placed", "paid", "shipped", "delivered"], "reached": [5, 5, 0, 0],
                                 "left": [0, 5, 0, None], "left_share": [0.0, 1.0, None, None],
                                 "cancelled_after": [0, 5, 0, None]})
    words = [r["left_words"] for r in charts.lifecycle_words(none_shipped).to_dicts()]
    assert words == ["All reached Paid", "5 (100.0%) did not reach Shipped; 5 cancelled awaiting shipment", "", ""]
