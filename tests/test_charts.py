"""Charts: each draws (compiles to SVG) from a small hand-made frame of its analytics table, encodes the
columns it should, and says so when there is nothing to draw."""

from datetime import date

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
                          "cancelled_after": [10, 8, 2, None]})


def test_lifecycle_shows_reached_and_leaving_by_stage():
    spec = _draws(charts.lifecycle_chart(LIFECYCLE))
    leaving = spec["hconcat"][1]
    data = spec["datasets"]
    rows = next(v for v in data.values() if v and "cancelled" in v[0])
    assert [(r["stage"], r["cancelled"]) for r in rows] == [
        ("Before payment", 10), ("Awaiting shipment", 8), ("After shipment", 2)]
    assert rows[0]["share"] == pytest.approx(0.1)
    assert "stage" in _all_fields(leaving)


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
    # One line per reason: a point per week at its requests, in the reason's fixed colour.
    enc = spec["encoding"]
    assert (enc["x"]["field"], enc["x"]["title"], enc["y"]["field"]) == ("period", "Week starting", "requests")
    assert enc["color"]["scale"] == {"domain": ["wrong_item"], "range": ["#f58518"]}
    rows = next(iter(spec["datasets"].values()))
    assert [(r["period"][:10], r["requests"]) for r in rows] == [("2026-06-01", 1), ("2026-06-08", 3)]


def test_latency_chart_marks_the_given_quantiles_not_its_own():
    dist = pl.DataFrame({"payment_method": ["card"] * 4 + ["cod"] * 2,
                         "business_days": [1, 2, 2, 10, 0, 0]})
    quantiles = pl.DataFrame({"payment_method": ["card", "cod"], "p50": [2.0, 0.0], "p90": [7.6, 0.0]})
    spec = _draws(charts.latency_chart(dist, quantiles, "payment_method", "business_days", "Method", "Days"))
    datasets = list(spec["datasets"].values())
    cells = next(d for d in datasets if "share" in d[0])
    marks = next(d for d in datasets if "kind" in d[0])
    assert {(r["group"], r["kind"]): r["value"] for r in marks} == {
        ("card", "median"): 2.0, ("card", "90th percentile"): 7.6, ("cod", "median"): 0.0, ("cod", "90th percentile"): 0.0}
    assert {(r["group"], r["days"]): (r["refunds"], r["share"]) for r in cells} == {
        ("card", 1): (1, 0.25), ("card", 2): (2, 0.5), ("card", 10): (1, 0.25), ("cod", 0): (2, 1.0)}
    # Day d spans [d - 0.5, d + 0.5], so a mark at an integer sits on its day.
    assert all(r["to"] - r["from"] == 1 and r["from"] == r["days"] - 0.5 for r in cells)


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
    spec = _draws(charts.volume_chart(pl.DataFrame({"period": [date(2026, 6, 1), date(2026, 6, 8)], "orders": [3, 7],
                                                    "cancelled_orders": [1, 0]})))
    # Long form: one point per (week, series), orders in blue and cancelled orders in red.
    rows = next(iter(spec["datasets"].values()))
    assert sorted((r["period"][:10], r["what"], r["count"]) for r in rows) == [
        ("2026-06-01", "Cancelled orders", 1), ("2026-06-01", "Orders", 3),
        ("2026-06-08", "Cancelled orders", 0), ("2026-06-08", "Orders", 7)]
    assert spec["encoding"]["color"]["scale"] == {"domain": ["Orders", "Cancelled orders"],
                                                 "range": ["#4c78a8", "#e45756"]}
    spec = _draws(charts.outcomes_chart(pl.DataFrame({"outcome": ["accepted", "lapsed"], "requests": [2, 0],
                                                      "share": [1.0, 0.0]})))
    rows = next(iter(spec["datasets"].values()))
    assert [r["label"] for r in rows] == ["Accepted by seller"]  # outcomes with no request are left out


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
    volume = pl.DataFrame({"period": [date(2024, 1, 1)], "orders": [10], "cancelled_orders": [2]})
    assert _color_of(charts.volume_chart(volume).to_dict(), "Cancelled orders") == "#e45756"
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
    assert [p["title"]["text"] for p in panels] == [
        "Cancelled orders", "Buyer's wait from the request, median", "Buyer's wait from the request, 90th percentile",
        "Cancelled GMV"]
    assert [p["layer"][0]["encoding"]["y"]["title"] for p in panels] == \
        ["Orders", "Business days", "Business days", "Currency"]


def test_periods_after_the_data_are_left_out_and_a_partial_last_one_is_marked():
    frame = pl.DataFrame({"period": [date(2018, 7, 1), date(2018, 8, 1), date(2018, 9, 1), date(2018, 10, 1)],
                          "orders": [100, 90, 4, 0], "cancelled_orders": [5, 4, 1, 0]})
    marked = charts.complete_periods(frame, "month", date(2018, 9, 3))
    assert marked["period"].to_list() == [date(2018, 7, 1), date(2018, 8, 1), date(2018, 9, 1)]
    assert marked["partial"].to_list() == [False, False, True]
    assert charts.complete_periods(frame, "month", date(2018, 8, 31))["partial"].to_list() == [False, False]
    assert "partial" in charts.partial_note(frame, "month", date(2018, 9, 3))
    assert charts.partial_note(frame, "month", date(2018, 8, 31)) is None
    spec = _draws(charts.volume_chart(frame, "month", date(2018, 9, 3)))
    assert spec["layer"][1]["mark"]["strokeDash"] == [4, 4]
    spec = _draws(charts.reasons_over_time_chart(
        pl.DataFrame({"period": [date(2016, 10, 1), date(2018, 9, 1)], "reason": ["wrong_item", "other"],
                      "requests": [3, 1]}), "month", last_day=date(2018, 9, 30)))
    assert spec["encoding"]["x"]["axis"]["format"] == "%b %Y"  # spans years: years shown


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
    assert "'Wrong item'" in spec["encoding"]["y"]["axis"]["labelExpr"]
    assert "'Western Union'" in spec["encoding"]["y"]["axis"]["labelExpr"]


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
