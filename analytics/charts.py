"""Altair charts for the pages, as pure functions: a Polars frame in (the grain and columns of the
analytics table it draws, see analytics/pipelines.py), an `alt.Chart` out. No Streamlit here, so each
chart is tested, and exported to PNG/SVG, without a page.

The data keep their codes (normalised labels such as `wrong_item`, which a click's selection returns);
axes and legends show them in plain words through `plain` / `legend_words` ('Wrong item'), the one
labelling function of the product, which tables use too (ui/downloads.display).
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

import altair as alt
import polars as pl

from analytics.figures import OUTCOME_LABELS, STAGE_LABELS
from analytics.outcomes import (
    OUTCOMES,
    PAYMENT_METHODS,
    REASONS,
    REFUND_CHANNELS,
    SHIPPING_METHODS,
    STAGES,
    UNKNOWN_STAGE,
)
from analytics.text import in_sentence
from analytics.words import CODE_WORDS, plain

__all__ = ["plain"]  # the labelling function, in analytics.words, is read from here by most modules

STEP_LABELS = {"placed": "Placed", "paid": "Paid", "shipped": "Shipped", "delivered": "Delivered"}
# Which stage an order leaves the life cycle in, after each step (pipelines.lifecycle's cancelled_after).
LEAVES_AFTER = {"placed": "before_payment", "paid": "awaiting_shipment", "shipped": "after_shipment"}


def legend_words(found: Iterable[str | None] = ()) -> str:
    """A Vega labelExpr showing codes in plain words (as `plain`) on an axis or legend, while the data,
    and so a click's selection, keeps the codes: the domain's codes and those `found` in the data (an
    export's own reasons: the Orders page writes them in plain words, so the charts do too). Both sides
    are JSON strings, which Vega's expressions read as written, whatever the data holds."""
    codes = [*REASONS, *PAYMENT_METHODS, *REFUND_CHANNELS, *SHIPPING_METHODS, *CODE_WORDS,
             *(str(c) for c in found if c is not None)]
    expr = "datum.label"
    for code in dict.fromkeys(codes):
        expr = f"datum.label == {json.dumps(code)} ? {json.dumps(plain(code))} : " + expr
    return expr


def plain_column(frame: pl.DataFrame, column: str, alias: str | None = None) -> pl.DataFrame:
    """`frame` with `column` (or a new `alias` column) in plain words; a dict over the column's few
    distinct codes, not a Python call per row."""
    codes = frame.get_column(column).unique().to_list()
    mapping = {c: plain(c) for c in codes if c is not None}
    words = pl.col(column).cast(pl.Utf8).replace_strict(mapping, default=None, return_dtype=pl.Utf8)
    return frame.with_columns(words.alias(alias or column))


def with_words(frame: pl.DataFrame, *columns: str) -> pl.DataFrame:
    """`frame` with each code column's plain words beside it (`<column>_words`), for a tooltip to show as
    the axes and legends do (`words_tip`); the codes stay, for a click's selection."""
    for column in columns:
        frame = plain_column(frame, column, f"{column}_words")
    return frame


def words_tip(column: str, title: str) -> alt.Tooltip:
    """A tooltip line showing a code column in plain words (the frame drawn went through `with_words`)."""
    return alt.Tooltip(f"{column}_words:N", title=title)


REASON_SELECTION = "reason_pick"
# The selection of a chart whose marks lead to their orders: a click selects one mark, by the fields that
# analytics.drill.for_mark reads for that chart.
DRILL_SELECTION = "drill"


def drill_selection(*fields: str) -> alt.Parameter:
    """A click on a mark selects it (one at a time) by `fields`; its orders are then listed."""
    return alt.selection_point(name=DRILL_SELECTION, fields=list(fields), on="click", toggle=False)


# A layered chart is given its height as it is made (alt.layer(..., height=...)): .properties() would copy
# its layers in depth once more and check the value against the schema (a third of building one).
HEIGHT = 280
# "left" is the colour of cancellations wherever they are drawn; no category scale below uses it.
COLORS = {"reached": "#4c78a8", "left": "#e45756", "baseline": "#9ecae9", "scenario": "#4c78a8"}

# One colour per category, the same in every chart and whatever a filter leaves in the frame: a label
# keeps its colour when it is focused, filtered alone or drawn beside others. Labels not listed (an
# export's own payment methods) get a colour from their name, so they too keep it from chart to chart.
_PALETTE = ("#4c78a8", "#f58518", "#54a24b", "#b279a2", "#eeca3b", "#9d755d", "#72b7b2", "#ff9da6",
            "#bab0ac", "#439894", "#d67195", "#83bcb6")
UNKNOWN_COLOR = "#bab0ac"
REASON_COLORS = {"changed_mind": "#4c78a8", "wrong_item": "#f58518", "shipping_delay": "#54a24b",
                 "seller_unresponsive": "#b279a2", "other": "#9d755d"}
PAYMENT_METHOD_COLORS = {"card": "#4c78a8", "wallet": "#72b7b2", "cash": "#54a24b", "western_union": "#eeca3b",
                         "bank_transfer": "#b279a2", "cod": "#f58518",
                         # Olist's labels
                         "credit_card": "#4c78a8", "debit_card": "#439894", "boleto": "#9d755d",
                         "voucher": "#d67195"}
CHANNEL_COLORS = {"original": "#4c78a8", "wallet": "#72b7b2", "coupon": "#f58518"}
SHIPPING_COLORS = {"standard": "#4c78a8", "premium": "#b279a2"}
# Each request outcome in one colour, whatever else the selection holds.
OUTCOME_COLORS = {"buyer_cancelled": "#4c78a8", "accepted": "#54a24b", "rejected": "#e45756", "auto_cancelled": "#f58518",
                  "lapsed": "#9d755d", "not_cancellable": "#b279a2", "unknown": UNKNOWN_COLOR}
CATEGORY_COLORS = {"reason": REASON_COLORS, "payment_method": PAYMENT_METHOD_COLORS, "refund_channel": CHANNEL_COLORS,
                   "channel": CHANNEL_COLORS, "shipping_method": SHIPPING_COLORS}
_ORDER = {"reason": REASONS, "payment_method": PAYMENT_METHODS, "refund_channel": REFUND_CHANNELS,
          "channel": REFUND_CHANNELS, "shipping_method": SHIPPING_METHODS}


def category_color(kind: str, label: str | None) -> str:
    """The colour of one label of a category (reason, payment_method, refund_channel/channel, shipping_method)."""
    if label is None or label == "unknown":
        return UNKNOWN_COLOR
    known = CATEGORY_COLORS.get(kind, {})
    if label in known:
        return known[label]
    return _PALETTE[zlib.crc32(label.encode()) % len(_PALETTE)]


def category_scale(kind: str, labels: Iterable[str | None]) -> alt.Scale:
    """A colour scale for the labels present (domain in the vocabulary's order, then the others sorted),
    each label in its fixed colour."""
    present = {("unknown" if x is None else x) for x in labels}
    order = [x for x in _ORDER.get(kind, ()) if x in present]
    order += sorted(present - set(order))
    return alt.Scale(domain=order, range=[category_color(kind, x) for x in order])


def count_axis(top: float | None = None, **kw) -> alt.Axis:
    """An axis of counts, with whole-number ticks only, so that a few orders do not read "0 0 1 1 1 2" from
    ticks at halves rounded. `top`: the largest count drawn (a stacked bar's total); up to 10, one tick per
    count is asked for outright, as not every Vega that draws the chart keeps to tickMinStep."""
    few = top is not None and 0 < top <= 10
    return alt.Axis(format=",.0f", tickMinStep=1, **({"tickCount": math.ceil(top)} if few else {}), **kw)


def _rows_height(rows: int, legend: bool = False) -> int:
    """Total height for a chart with one band per row: pages draw charts fitted to their height, axis
    and legend included, so the bands need room beyond the rows themselves."""
    return 60 + 32 * max(rows, 1) + (70 if legend else 0)


def _empty(message: str) -> alt.Chart:
    """A chart that says there is nothing to draw (an empty selection), rather than an empty frame."""
    return (
        alt.Chart(pl.DataFrame({"text": [message]}))
        .mark_text(size=14, color="#808495")
        .encode(text="text:N")
        .properties(height=80)
    )


def _count(n) -> str:
    return "unknown" if n is None else f"{n:,}"


def lifecycle_words(frame: pl.DataFrame) -> pl.DataFrame:
    """The funnel's rows in words, one per step (pipelines.lifecycle, a handful of rows): label ('Paid ·
    4,947', 'Delivered · unknown'), and what happened between the step and the next (left words):
    '294 (5.9%) did not reach Shipped; 294 cancelled awaiting shipment'."""
    rows = frame.to_dicts()
    labels, words = [], []
    for i, row in enumerate(rows):
        name = STEP_LABELS.get(row["step"], plain(row["step"]))
        labels.append(f"{name} · {_count(row['reached'])}")
        following = STEP_LABELS.get(rows[i + 1]["step"]) if i + 1 < len(rows) else None
        left, share, cancelled = row.get("left"), row.get("left_share"), row.get("cancelled_after")
        if following is None:
            text = "" if row["reached"] is not None else "Not recorded in this data set"
        elif rows[i + 1]["reached"] is None:
            text = f"How many reached {following} is unknown"
        elif not row["reached"]:
            text = ""      # nothing reached this step: "all reached the next" would claim something
        elif not left:
            text = f"All reached {following}"
        else:
            text = f"{left:,} ({share:.1%}) did not reach {following}"
        if cancelled and row["step"] in LEAVES_AFTER:
            text += f"; {cancelled:,} cancelled {STAGE_LABELS[LEAVES_AFTER[row['step']]].lower()}"
        words.append(text)
    return frame.with_columns(pl.Series("label", labels), pl.Series("left_words", words, dtype=pl.Utf8))


BAR = 24  # the funnel's bar thickness: the words under each bar sit in the gap below it


def lifecycle_chart(frame: pl.DataFrame) -> alt.LayerChart | alt.Chart:
    """The order life cycle as a funnel. frame: one row per step (placed, paid, shipped, delivered) with
    reached, left, left_share and cancelled_after (pipelines.lifecycle; reached null: unknown). One bar
    per step as long as the orders that reached it, its last part red: the orders that left before the
    next step; under each bar, in words, how many left (count and share) and how many were cancelled
    there. A step the data set does not record reads 'unknown', never a bar of 0."""
    if frame.is_empty() or not frame["reached"].fill_null(0).sum():
        return _empty("No orders in this selection")
    data = lifecycle_words(frame.with_columns(
        *(pl.lit(None, pl.Int64).alias(c) for c in ("left", "cancelled_after") if c not in frame.columns),
        *(pl.lit(None, pl.Float64).alias(c) for c in ("left_share",) if c not in frame.columns)))
    data = data.with_columns(
        pl.when(pl.col("left") > 0).then(pl.col("reached") - pl.col("left")).alias("stays"),
        pl.lit("reached").alias("part"))
    y = alt.Y("label:N", sort=data["label"].to_list(), title=None, scale=alt.Scale(paddingOuter=0.1),
              axis=alt.Axis(labelFontSize=12, labelLimit=220, labelPadding=8, ticks=False, domain=False))
    x = alt.X("reached:Q", title="Orders", axis=count_axis(data["reached"].max(), grid=False))
    # What left after a step, in the words under its bar: a next step the data set does not record reads
    # unknown there, where its count, share and cancellations would show null.
    tooltip = [alt.Tooltip("label:N", title="Step"), alt.Tooltip("reached:Q", title="Reached", format=","),
               alt.Tooltip("left_words:N", title="Before the next step")]
    base = alt.Chart(data)
    # A click on a bar lists the orders that reached the step; on its red end, those that left after it.
    reached = base.mark_bar(color=COLORS["reached"], height=BAR, cursor="pointer").encode(
        x=x, y=y, tooltip=tooltip).add_params(drill_selection("step", "part"))
    leaving = alt.Chart(data.filter(pl.col("stays").is_not_null()).with_columns(pl.lit("left").alias("part"))).mark_bar(
        color=COLORS["left"], height=BAR, cursor="pointer").encode(x="stays:Q", x2="reached:Q", y=y, tooltip=tooltip)
    words = base.mark_text(align="left", baseline="top", dy=BAR / 2 + 4, fontSize=12, color="#31333f").encode(
        x=alt.datum(0), y=y, text="left_words:N")
    return alt.layer(reached, leaving, words, height=64 * data.height + 20)


def stages_chart(frame: pl.DataFrame) -> alt.Chart:
    """Cancellations by stage. frame: one row per stage with cancelled_orders (pipelines.stage_counts)."""
    if frame.is_empty() or (frame["cancelled_orders"].fill_null(0).sum() == 0):
        return _empty("No cancellations in this selection")
    data = frame.with_columns(pl.col("stage").replace_strict(STAGE_LABELS, default=pl.col("stage")).alias("label"))
    return (
        alt.Chart(data)
        .mark_bar(color=COLORS["left"])
        .encode(
            x=alt.X("label:N", sort=[STAGE_LABELS[s] for s in STAGES], title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("cancelled_orders:Q", title="Cancelled orders", axis=count_axis(data["cancelled_orders"].max())),
            tooltip=[alt.Tooltip("label:N", title="Stage"),
                     alt.Tooltip("cancelled_orders:Q", title="Cancelled orders", format=",")],
        )
        .properties(height=HEIGHT)
    )


_PERIOD_STEP = {"day": "1d", "week": "1w", "month": "1mo"}
_HALF_PERIOD_HOURS = {"day": 12, "week": 84, "month": 365}   # a month: half of an average one


def complete_periods(frame: pl.DataFrame, period: str, last_day: date | None,
                     first_day: date | None = None) -> pl.DataFrame:
    """`frame` (one row per period start, maybe per group too) without the periods that start after
    `last_day` (the data's last day: such a period is empty, not a collapse), with a `partial` column:
    true for the period that holds `last_day` but does not end on it, and for the one that holds
    `first_day` (the selection's first day) but does not start on it (their counts are short, not falling)."""
    start = pl.col("period").cast(pl.Date)
    short_start = (start < first_day) if first_day is not None else pl.lit(False)
    if last_day is None or frame.is_empty():
        return frame.with_columns(short_start.alias("partial"))
    end = start.dt.offset_by(_PERIOD_STEP.get(period, "1w"))  # the day after the period's last day
    return (frame.filter(start <= last_day)
            .with_columns(((end > last_day + timedelta(days=1)) | short_start).alias("partial")))


def partial_note(frame: pl.DataFrame, period: str, last_day: date | None, selection_ends: bool = False,
                 first_day: date | None = None, selection_starts: bool = False) -> str | None:
    """A caption for the partial first or last period complete_periods marked, or None. `selection_ends`:
    `last_day` is where the filters end the selection, before the data's own last day; `selection_starts`:
    `first_day` is where they start it, after the data's first day."""
    if last_day is None or frame.is_empty():
        return None
    marked = complete_periods(frame, period, last_day)   # without first_day: only its last period is partial
    if marked.is_empty():
        return None
    out = []
    # One period is drawn as a point, not a dashed line: it is the only one, not the first or the last.
    which, drawn = ("only", "") if marked.height == 1 else ("first", ", drawn dashed")
    if first_day is not None and marked["period"].cast(pl.Date).min() < first_day:
        what = "selection" if selection_starts else "data"
        out.append(f"The {what} starts on {first_day:%Y-%m-%d}: the {which} {period} is partial{drawn} "
                   f"(its count is short because the {what} starts within it, not because activity was low).")
    if marked["partial"].any():
        what = "selection" if selection_ends else "data"
        which = "only" if marked.height == 1 else "last"
        out.append(f"The {what} ends on {last_day:%Y-%m-%d}: the {which} {period} is partial{drawn} "
                   f"(its count is short because the {what} stops, not because activity fell).")
    return " ".join(out) or None


def _time_axis(frame: pl.DataFrame, period: str) -> alt.Axis:
    """A time axis whose labels never repeat: ticks on month starts labelled by month (with the year when
    the periods span more than one) once the series is longer than a few months or is monthly, else
    ticks on days or on the weeks' Mondays, labelled by the day."""
    days = frame["period"].cast(pl.Date)
    if not len(days):
        return alt.Axis(labelOverlap=True)
    first, last = days.min(), days.max()
    if first == last:   # one period: no tick interval falls in a domain of one instant, so its day is the tick
        return alt.Axis(format="%d %b %Y", values=[alt.DateTime(year=first.year, month=first.month, date=first.day)])
    years = first.year != last.year
    if period == "month" or (last - first).days > 92:
        months = (last.year - first.year) * 12 + last.month - first.month
        return alt.Axis(format="%b %Y" if years else "%b", labelOverlap=True,
                        tickCount={"interval": "month", "step": max(1, -(-months // 12))})
    if period == "week":
        # A week starts on Monday (the periods' days); Vega's week ticks fall on Sundays, a day before
        # each point: the ticks are the weeks' own days.
        return alt.Axis(format="%d %b %Y" if years else "%d %b", labelOverlap=True,
                        values=[alt.DateTime(year=d.year, month=d.month, date=d.day) for d in days.unique().sort()])
    return alt.Axis(format="%d %b %Y" if years else "%d %b", labelOverlap=True,
                    tickCount={"interval": "day", "step": 1})


_ROOM_HOURS = {"day": 12, "week": 36, "month": 120}


def _room_at_the_ends(data: pl.DataFrame, period: str) -> alt.Scale:
    """A time scale reaching a little before the first period and after the last: their points sat on the
    plot's edges, half cut (Vega's padding does not apply to a time scale)."""
    margin = _ROOM_HOURS.get(period, 36)
    first = datetime.combine(data["period"].cast(pl.Date).min(), datetime.min.time()) - timedelta(hours=margin)
    last = datetime.combine(data["period"].cast(pl.Date).max(), datetime.min.time()) + timedelta(hours=margin)
    return alt.Scale(domain=[alt.DateTime(year=d.year, month=d.month, date=d.day, hours=d.hour, utc=True)
                             for d in (first, last)])


def _time_lines(data: pl.DataFrame, period: str, y: alt.Y, color: alt.Color, tooltip: list,
                series: str, point: bool = True, room: bool = False, **marks) -> alt.Chart | alt.LayerChart:
    """Lines over time, solid across complete periods and dashed into a partial first or last one
    (`partial`); with `point`, a point on each period; with `room`, the time scale reaches a little past
    the first and last periods (a chart whose marks do not already)."""
    x = alt.X("period:T", title=f"{period.capitalize()} starting", axis=_time_axis(data, period),
              scale=_room_at_the_ends(data, period) if room else alt.Undefined)
    complete = data.filter(~pl.col("partial"))
    base = alt.Chart(complete).mark_line(point=point, **marks).encode(x=x, y=y, color=color, tooltip=tooltip)
    if not data["partial"].any():
        return base
    # The dashed pieces: each series' first complete period joined to a partial one before it, its last
    # complete period to a partial one after it (`piece` keeps the two apart); a series with no complete
    # period, its partial ones joined.
    ends = complete.group_by(series).agg(pl.col("period").min().alias("_first"), pl.col("period").max().alias("_last"))
    marked = data.join(ends, on=series, how="left")
    head = marked.filter((pl.col("period") <= pl.col("_first")) & (pl.col("partial") | (pl.col("period") == pl.col("_first"))))
    tail = marked.filter(pl.col("_last").is_null() | ((pl.col("period") >= pl.col("_last")) &
                                                      (pl.col("partial") | (pl.col("period") == pl.col("_last")))))
    pieces = pl.concat([
        head.filter(pl.col("partial").any().over(series)).with_columns(pl.lit("first").alias("piece")),
        tail.filter(pl.col("partial").any().over(series)).with_columns(pl.lit("last").alias("piece")),
    ]).drop("_first", "_last")
    dashed = alt.Chart(pieces).mark_line(point=point, strokeDash=[4, 4], **marks).encode(
        x=x, y=y, color=color, tooltip=tooltip, detail=alt.Detail("piece:N"))
    return alt.layer(base, dashed)


def volume_chart(frame: pl.DataFrame, period: str = "week", last_day: date | None = None,
                 first_day: date | None = None) -> alt.LayerChart | alt.Chart:
    """Cancellations over time as a rate, with the volume beside it. frame: one row per period with
    orders, cancelled_orders and cancellation_rate (pipelines.volume_over_time). The cancellation rate is
    a line on the left axis; the orders, a shaded area on the right axis, so a rate read off a thin week
    is seen to be one. Periods after `last_day` (the data's last day) are left out; a partial first period
    (the selection starts on `first_day`, within it) or last period
    is dashed."""
    return _volume(frame, period, last_day, first_day=first_day)


def _volume(frame: pl.DataFrame, period: str, last_day: date | None, compared: pl.DataFrame | None = None,
            labels: tuple[str, str] = ("", ""), first_day: date | None = None) -> alt.LayerChart | alt.Chart:
    """volume_chart; with `compared` (the compared range's orders and cancellation rate per period, moved onto
    the selection's days by `_shifted`, `labels` naming the two ranges), its rate dashed on the rate's axis
    and its orders dashed on the orders' axis: the two ranges' rates read side by side.

    Each layer of a chart whose y scales are independent has its own scale: the rate's solid and dashed
    pieces are one layer, so one scale; each compared line is a layer of its own, on a scale made the
    rate's or the orders' own (the same domain) with no axis. A click takes the mark on top, so with compared lines the
    rate's points are a layer of their own, drawn last, on a scale made the rate lines' own: where a
    compared point meets one of this selection's rate points, the click is this selection's (it listed the
    compared week's orders), and the compared points are drawn over the rate's line, which would hide them
    from a click."""
    if frame.is_empty():
        return _empty("No orders in this selection")
    data = complete_periods(frame.select("period", "orders", "cancelled_orders", "cancellation_rate"), period,
                            last_day, first_day).with_columns(pl.col("period").cast(pl.Date).cast(pl.Utf8).alias("period_key"))
    if data.is_empty():
        return _empty("No orders in this selection")
    names = ["Cancellation rate", "Orders"]
    color = alt.Color("what:N", title=None, scale=alt.Scale(domain=names, range=[COLORS["left"], "#c6dbef"]),
                      legend=alt.Legend(orient="top"))
    tooltip = [alt.Tooltip("period:T", title=period.capitalize()), alt.Tooltip("orders:Q", title="Orders", format=","),
               alt.Tooltip("cancelled_orders:Q", title="Cancelled orders", format=","),
               alt.Tooltip("cancellation_rate:Q", title="Cancellation rate", format=".1%")]
    # An area needs two periods to show: a single period's orders are a bar.
    orders = alt.Chart(data.with_columns(pl.lit("Orders").alias("what")))
    top = max(data["orders"].max() or 0, (compared["orders"].max() or 0) if compared is not None else 0)
    counts = alt.Undefined if compared is None else alt.Scale(domain=[0, max(top, 1)])
    orders = (orders.mark_area(opacity=0.7) if data.height > 1 else orders.mark_bar(opacity=0.7, size=48)).encode(
        x=alt.X("period:T", title=f"{period.capitalize()} starting", axis=_time_axis(data, period)),
        # On the right of the rate's axis; whole numbers only, in any renderer (count_axis).
        y=alt.Y("orders:Q", title="Orders", axis=count_axis(top, orient="right", grid=False), scale=counts),
        color=color, tooltip=tooltip)
    rated = data.with_columns(pl.lit("Cancellation rate").alias("what"))
    rate_scale = alt.Scale(
        domain=[0, max(data["cancellation_rate"].max() or 0,
                       (compared["cancellation_rate"].max() or 0) if compared is not None else 0, 0.01)])
    rate = _time_lines(
        rated, period, y=alt.Y("cancellation_rate:Q", title="Cancellation rate", axis=alt.Axis(format="%"), scale=rate_scale),
        color=color, tooltip=tooltip, series="what", point=False, strokeWidth=2.5)
    rates = list(rate.layer) if isinstance(rate, alt.LayerChart) else [rate]
    # A click on a period's rate point lists that period's cancelled orders; on a compared line's point, its
    # compared period's; anywhere else in a period's column, that period's orders (a click anywhere in the
    # chart selects here, the mark on top).
    rates[0] = rates[0].add_params(drill_selection("period_key", "what", "compared_key"))
    # The periods' columns, full height, centred on their points and all but transparent, over the area and
    # the rate's line: an area or a line is one mark, and a click on it took its first period's orders
    # whatever the week clicked. Their ends are worked out in the browser from the period's parsed date (a
    # date and a date-time in the data are read in different time zones).
    half = _HALF_PERIOD_HOURS.get(period, 84)
    columns = (alt.Chart(data.with_columns(pl.lit("Orders").alias("what"))).mark_rect(opacity=0.001, cursor="pointer")
               .transform_calculate(column_start=f"utcOffset('hours', toDate(datum.period), -{half})",
                                    column_end=f"utcOffset('hours', toDate(datum.period), {half})")
               .encode(x=alt.X("column_start:T"), x2="column_end:T", color=alt.value(COLORS["reached"]), tooltip=tooltip))
    layers = [orders, alt.layer(*rates), columns]
    if compared is not None:
        # The compared orders in a darker blue than the area they cross (a line of its pale blue would not show).
        layers.append(_compared_lines(
            compared.with_columns(pl.lit("Orders").alias("what")), period=period,
            y=alt.Y("orders:Q", title="Orders", axis=None, scale=counts), color=alt.value(COLORS["reached"]),
            series="what", value="orders", selection_label=labels[0], compared_label=labels[1]))
        layers.append(_compared_lines(
            compared.with_columns(pl.lit("Cancellation rate").alias("what")), period=period,
            y=alt.Y("cancellation_rate:Q", title="Cancellation rate", axis=None, scale=rate_scale), color=color,
            series="what", value="cancellation_rate", fmt=".1%", selection_label=labels[0], compared_label=labels[1]))
    layers.append(alt.Chart(rated).mark_point(filled=True, opacity=1, cursor="pointer").encode(
        x=alt.X("period:T"), y=alt.Y("cancellation_rate:Q", axis=None, scale=rate_scale),
        color=color, tooltip=tooltip))
    height = HEIGHT if compared is None else HEIGHT + COMPARED_LEGEND_HEIGHT
    return alt.layer(*layers, height=height).resolve_scale(y="independent")


NO_STAGE = "No request or cancellation"
# A request's stage in words, an unknown one too (an export without payment or shipment times).
STAGE_WORDS = {**STAGE_LABELS, UNKNOWN_STAGE: "Stage unknown"}
NO_STATUS_KEY = "no status"  # analytics.drill.NO_STATUS: the export wrote none
NO_STATUS_WORDS = "Unknown (no status)"


def status_chart(frame: pl.DataFrame) -> alt.Chart:
    """Orders by status as the export gave it, read as a label (a missing status reads 'Unknown (no
    status)'), each bar split by the product's stage of the order's cancellation request or cancellation.
    frame: one row per (status, stage) with orders and cancelled_orders (pipelines.orders_by_status)."""
    if frame.is_empty():
        return _empty("No orders in this selection")
    data = frame.with_columns(
        pl.col("status").fill_null(NO_STATUS_KEY).alias("status_key"),
        pl.col("stage").fill_null("none").alias("stage_key"),
        pl.col("status").fill_null(NO_STATUS_WORDS),
        pl.col("stage").replace_strict(STAGE_WORDS, default=pl.col("stage")).fill_null(NO_STAGE).alias("stage_words"),
    )
    statuses = data["status"].unique(maintain_order=True).to_list()
    stages = [*(STAGE_LABELS[s] for s in STAGES), NO_STAGE]
    stages += sorted(set(data["stage_words"].to_list()) - set(stages))
    palette = ["#f58518", COLORS["left"], "#b279a2", "#c6dbef"]
    return (
        alt.Chart(data)
        .mark_bar(cursor="pointer")
        .encode(
            y=alt.Y("status:N", sort=statuses, title="Status in the export", axis=alt.Axis(labelLimit=200)),
            x=alt.X("orders:Q", title="Orders", axis=count_axis(data.group_by("status")
                     .agg(pl.col("orders").sum())["orders"].max())),
            color=alt.Color("stage_words:N", title="Stage", sort=stages,
                            scale=alt.Scale(domain=stages, range=[*palette, *_PALETTE][:len(stages)]),
                            legend=alt.Legend(orient="top", columns=2)),
            order=alt.Order("stage_rank:Q"),
            tooltip=[alt.Tooltip("status:N", title="Status"), alt.Tooltip("stage_words:N", title="Stage"),
                     alt.Tooltip("orders:Q", title="Orders", format=","),
                     alt.Tooltip("cancelled_orders:Q", title="Cancelled", format=","),
                     alt.Tooltip("share:Q", title="Share of orders", format=".1%")],
        )
        .transform_calculate(stage_rank=f"indexof({stages!r}, datum.stage_words)")
        .add_params(drill_selection("status_key", "stage_key"))
        .properties(height=_rows_height(len(statuses), legend=True) + 40)
    )


def outcomes_chart(frame: pl.DataFrame) -> alt.Chart:
    """How requests end. frame: one row per outcome with requests and share (pipelines.outcomes)."""
    data = frame.filter(pl.col("requests") > 0)
    if data.is_empty():
        return _empty("No cancellation requests in this selection")
    data = data.with_columns(pl.col("outcome").replace_strict(OUTCOME_LABELS, default=pl.col("outcome")).alias("label"))
    order = [OUTCOME_LABELS[o] for o in OUTCOMES]
    return (
        alt.Chart(data)
        .mark_bar(cursor="pointer")
        .encode(
            y=alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=240)),
            x=alt.X("requests:Q", title="Requests", axis=count_axis(data["requests"].max())),
            color=alt.Color("label:N", legend=None,
                            scale=alt.Scale(domain=order, range=[OUTCOME_COLORS[o] for o in OUTCOMES])),
            tooltip=[alt.Tooltip("label:N", title="Outcome"), alt.Tooltip("requests:Q", title="Requests", format=","),
                     alt.Tooltip("share:Q", title="Share of requests", format=".1%")],
        )
        .add_params(drill_selection("outcome"))
        .properties(height=_rows_height(data.height))
    )


# --- reasons ---------------------------------------------------------------------------------------

def reason_selection(selected: str | None = None) -> alt.Parameter:
    """The click-to-filter selection shared by the reason charts: one reason at a time."""
    value = [{"reason": selected}] if selected else alt.Undefined
    return alt.selection_point(name=REASON_SELECTION, fields=["reason"], value=value, toggle=False,
                               clear="dblclick")


def reasons_chart(frame: pl.DataFrame, selected: str | None = None) -> alt.Chart:
    """Requests by reason, clickable. frame: one row per reason with requests and share (pipelines.reasons).
    The chosen reason is drawn solid, the others faded."""
    if frame.is_empty():
        return _empty("No cancellation requests in this selection")
    pick = reason_selection(selected)
    return (
        alt.Chart(with_words(frame, "reason"))
        .mark_bar(cursor="pointer")
        .encode(
            y=alt.Y("reason:N", sort="-x", title=None, axis=alt.Axis(labelExpr=legend_words(frame["reason"].unique()))),
            x=alt.X("requests:Q", title="Requests", axis=count_axis(frame["requests"].max())),
            color=alt.Color("reason:N", legend=None, scale=category_scale("reason", frame["reason"])),
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.3)) if selected else alt.value(1.0),
            tooltip=[words_tip("reason", "Reason"), alt.Tooltip("requests:Q", title="Requests", format=","),
                     alt.Tooltip("share:Q", title="Share of requests", format=".1%")],
        )
        .add_params(pick)
        .properties(height=_rows_height(frame.height))
    )


def reason_gmv_chart(frame: pl.DataFrame, selected: str | None = None) -> alt.Chart:
    """Each reason's share of the cancelled GMV. frame: pipelines.reason_cancelled_gmv."""
    if frame.is_empty():
        return _empty("No cancelled orders with a reason in this selection")
    return (
        alt.Chart(with_words(frame, "reason"))
        .mark_bar(cursor="pointer")
        .encode(
            y=alt.Y("reason:N", sort="-x", title=None, axis=alt.Axis(labelExpr=legend_words(frame["reason"].unique()))),
            # The domain made nice for the ticks drawn: niced for twice as many, it ended at the longest bar
            # (35%) with its label left out, every other label being dropped for room.
            x=alt.X("share_of_cancelled_gmv:Q", title="Share of cancelled GMV", scale=alt.Scale(nice=4),
                    axis=alt.Axis(format="%", tickCount=4)),
            color=alt.Color("reason:N", legend=None, scale=category_scale("reason", frame["reason"])),
            opacity=alt.condition(alt.datum.reason == selected, alt.value(1.0), alt.value(0.3)) if selected else alt.value(1.0),
            tooltip=[words_tip("reason", "Reason"),
                     alt.Tooltip("cancelled_orders:Q", title="Cancelled orders", format=","),
                     alt.Tooltip("cancelled_gmv:Q", title="Cancelled GMV", format=",.2f"),
                     alt.Tooltip("share_of_cancelled_gmv:Q", title="Share of cancelled GMV", format=".1%")],
        )
        .add_params(drill_selection("reason"))
        .properties(height=_rows_height(frame.height))
    )


def reasons_share_chart(frame: pl.DataFrame, by: str, title: str, selected: str | None = None,
                        sort: Sequence[str] | None = None, normalize: bool = True) -> alt.Chart:
    """Each group's requests split by reason, as shares (stacked to 100%; with normalize=False, as counts),
    clickable like reasons_chart. frame: one row per (by, reason) with requests and share
    (pipelines.reasons_by)."""
    if frame.is_empty():
        return _empty("No cancellation requests in this selection")
    # `key`: the group as the data holds it (a stage's code, not its words), which a click's selection returns.
    data = frame.with_columns(pl.col(by).alias("key"))
    if by == "request_stage":
        data = data.with_columns(pl.col(by).replace_strict(STAGE_LABELS, default=pl.col(by)))
        sort = [STAGE_LABELS[s] for s in STAGES]
    data = with_words(data, by, "reason")
    pick = reason_selection(selected)
    return (
        alt.Chart(data)
        .mark_bar(cursor="pointer")
        .encode(
            y=alt.Y(f"{by}:N", title=title, sort=list(sort) if sort else "ascending",
                      axis=alt.Axis(labelExpr=legend_words(data[by].unique()))),
            x=(alt.X("requests:Q", stack="normalize", title="Share of requests", axis=alt.Axis(format="%"))
               if normalize else alt.X("requests:Q", title="Requests", axis=count_axis(
                   data.group_by(by).agg(pl.col("requests").sum())["requests"].max()))),
            color=alt.Color("reason:N", title="Reason", legend=alt.Legend(orient="top",
                            labelExpr=legend_words(data["reason"].unique())), scale=category_scale("reason", data["reason"])),
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.3)) if selected else alt.value(1.0),
            tooltip=[words_tip(by, title), words_tip("reason", "Reason"),
                     alt.Tooltip("requests:Q", title="Requests", format=","),
                     alt.Tooltip("share:Q", title=f"Share of the {in_sentence(title)}'s requests", format=".1%")],
        )
        # A click focuses the page on the reason (pick) and names the bar's part, whose orders are linked.
        .add_params(pick, drill_selection("reason", "key"))
        .properties(height=_rows_height(data[by].n_unique(), legend=True))
    )


def reasons_over_time_chart(frame: pl.DataFrame, period: str = "week", selected: str | None = None,
                            last_day: date | None = None, first_day: date | None = None) -> alt.Chart | alt.LayerChart:
    """Requests by reason over time. frame: one row per (period, reason) with requests. Periods after
    `last_day` (the data's last day) are left out; a partial first (from `first_day`) or last period is dashed."""
    if frame.is_empty():
        return _empty("No cancellation requests with a date in this selection")
    data = with_words(complete_periods(frame, period, last_day, first_day).with_columns(
        pl.col("period").cast(pl.Date).cast(pl.Utf8).alias("period_key")), "reason")
    if data.is_empty():
        return _empty("No cancellation requests with a date in this selection")
    pick = reason_selection(selected)
    y = alt.Y("requests:Q", title="Requests", axis=count_axis(data["requests"].max()))
    color = alt.Color("reason:N", title="Reason", legend=alt.Legend(orient="top",
                      labelExpr=legend_words(frame["reason"].unique())), scale=category_scale("reason", frame["reason"]))
    tooltip = [alt.Tooltip("period:T", title=period.capitalize()), words_tip("reason", "Reason"),
               alt.Tooltip("requests:Q", title="Requests", format=",")]
    # The lines without their periods' keys, the points with them: a line is one mark, and a click on it
    # named its first period, whatever the week clicked; now it only focuses the reason.
    chart = _time_lines(data.drop("period_key"), period, y=y, color=color, tooltip=tooltip, series="reason",
                        point=False, cursor="pointer", room=True)
    layers = list(chart.layer) if isinstance(chart, alt.LayerChart) else [chart]
    layers.append(alt.Chart(data).mark_point(filled=True, opacity=1, cursor="pointer").encode(
        x=alt.X("period:T"), y=y, color=color, tooltip=tooltip))
    layers = [layer.encode(opacity=alt.condition(pick, alt.value(1.0), alt.value(0.25)) if selected
                           else alt.value(1.0)) for layer in layers]
    # A click focuses the page on the reason (pick) and names the period, or the compared line's period
    # (reasons_over_time_compared_chart), whose orders are linked.
    layers[0] = layers[0].add_params(pick, drill_selection("reason", "period_key", "compared_key"))
    return alt.layer(*layers, height=HEIGHT) if len(layers) > 1 else layers[0].properties(height=HEIGHT)


# --- refunds ---------------------------------------------------------------------------------------

def latency_ecdf(distribution: pl.DataFrame, group: str, days: str) -> pl.DataFrame:
    """The empirical cumulative distribution per group: one row per (group, business day a refund
    took) with refunds (that took that many days) and done (the share of the group's refunds done
    within that many days), plus a first row per group at its shortest time with done 0, where the
    curve starts. distribution: one row per refund (pipelines.refund_latency_distribution), or per group
    and day with its count of `refunds` (report.refund_days)."""
    refunds = pl.col("refunds") if "refunds" in distribution.columns else pl.lit(1)   # a row per refund: 1 each
    counted = (
        distribution.select(pl.col(group).fill_null("unknown").alias("group"), pl.col(days).alias("days"),
                            refunds.alias("refunds"))
        .drop_nulls("days")
        .group_by("group", "days").agg(pl.col("refunds").sum().cast(pl.UInt32))
        .sort("group", "days")
        .with_columns((pl.col("refunds").cum_sum().over("group") / pl.col("refunds").sum().over("group")).alias("done"))
    )
    starts = counted.group_by("group").agg(pl.col("days").min()).with_columns(
        pl.lit(0, pl.UInt32).alias("refunds"), pl.lit(0.0).alias("done"))
    # `key`: the group as the data holds it (null for unknown), which a click's selection returns.
    keys = distribution.select(pl.col(group).fill_null("unknown").alias("group"), pl.col(group).alias("key")).unique("group")
    counted = counted.join(keys, on="group", how="left")
    starts = starts.join(keys, on="group", how="left")
    return pl.concat([starts.select(counted.columns), counted], how="vertical_relaxed").sort("group", "days", "done")


def _day_ticks(low: float, high: float) -> list[int]:
    """Whole days to mark on a square-root axis from `low` to `high`: each of the first days, then steps
    that widen as the scale narrows (10, 15, 20, 30, 50, 70, 100, ...)."""
    marks, tens = [0, 1, 2, 3, 5, 7], 10
    while marks[-1] < max(high, -low):
        marks += [int(tens * m) for m in (1, 1.5, 2, 3, 5, 7)]
        tens *= 10
    return sorted({-m for m in marks if -m >= low} | {m for m in marks if m <= high})


def same_day_note(distribution: pl.DataFrame, group: str, days: str) -> str | None:
    """A caption naming the groups whose refunds were all done on the day or the next (their curves lie on
    top of each other at the left of latency_chart) with the share done on the day, in the legend's order;
    None when there are none. Plain text: labels come from the data."""
    curves = latency_ecdf(distribution, group, days)
    if curves.is_empty():
        return None
    span = curves.group_by("group").agg(pl.col("days").min().alias("first"), pl.col("days").max().alias("last"),
                                        pl.col("done").filter(pl.col("days") == 0).max().fill_null(0.0).alias("on_day"))
    fast = {r["group"]: r["on_day"] for r in span.iter_rows(named=True) if r["first"] >= 0 and r["last"] <= 1}
    if not fast:
        return None

    def percent(share: float) -> str:
        # Never 0% or 100% for a share that is neither.
        return f"{share:.0%}" if share in (0, 1) else f"{min(max(round(share * 100), 1), 99)}%"

    order = [g for g in category_scale(group, curves["group"]).domain if g in fast]
    return ("Done within a business day, their curves on top of each other at the left (the share done on the "
            "day, the rest the next): " + ", ".join(f"{plain(g)} {percent(fast[g])}" for g in order) + ".")


def latency_chart(distribution: pl.DataFrame, quantiles: pl.DataFrame, group: str, days: str,
                  group_title: str, days_title: str) -> alt.LayerChart | alt.Chart:
    """Refund latency in business days as one cumulative curve per group (the share of the group's
    refunds done within so many days), so the shape of each distribution shows: a steep rise is a
    predictable wait, a long slope a spread one. The median and the 90th percentile are marked on each
    curve (a circle at 50%, a triangle at 90%), at the values the analytics computed (linear
    interpolation), never recomputed by the chart; dotted guides run across at 50% and 90%. The days are on
    a square-root scale (same_day_note says what the same-day curves reach).

    distribution: one row per refund with `group` and `days` (pipelines.refund_latency_distribution).
    quantiles: one row per group with `p50` and `p90`."""
    curves = latency_ecdf(distribution, group, days)
    if curves.is_empty():
        return _empty("No completed refunds with a measurable time in this selection")
    curves = with_words(curves, "group")
    marks = (
        quantiles.select(pl.col(group).fill_null("unknown").alias("group"), pl.col(group).alias("key"), "p50", "p90")
        .unpivot(index=["group", "key"], variable_name="kind", value_name="value")
        .drop_nulls("value")
        .with_columns(pl.col("kind").replace_strict({"p50": "median", "p90": "90th percentile"}),
                      pl.col("kind").replace_strict({"p50": 0.5, "p90": 0.9}, return_dtype=pl.Float64).alias("done"))
        .filter(pl.col("group").is_in(curves["group"].unique().implode()))
        .pipe(with_words, "group")
    )
    color = alt.Color("group:N", title=group_title, scale=category_scale(group, curves["group"]),
                      legend=alt.Legend(orient="top", labelExpr=legend_words()))
    # A square-root scale: on a linear one, methods refunded on the day or the next (cash on delivery, bank
    # transfers) rose within a sliver at the left of weeks-long card refunds; days 0 to 1 now get as much room
    # as days 1 to 4. A few pixels of padding keep a curve at day 0 off the axis line.
    days_title = f"{days_title} (square-root scale)"
    x = alt.X("days:Q", title=days_title,
              scale=alt.Scale(type="sqrt", zero=True, nice=False, padding=6),
              axis=alt.Axis(values=_day_ticks(float(curves["days"].min()), float(curves["days"].max()))))
    y = alt.Y("done:Q", title="Share of refunds done", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1]))
    # A click on a curve (or its marks: a click anywhere in the chart selects here) lists its refunds' orders.
    lines = alt.Chart(curves).mark_line(interpolate="step-after", strokeWidth=2, cursor="pointer").encode(
        x=x, y=y, color=color,
        tooltip=[words_tip("group", group_title), alt.Tooltip("days:Q", title="Business days"),
                 alt.Tooltip("refunds:Q", title="Refunds that took this long", format=","),
                 alt.Tooltip("done:Q", title="Done within this many days", format=".1%")]
    ).add_params(drill_selection("key"))
    guides = alt.Chart(pl.DataFrame({"done": [0.5, 0.9]})).mark_rule(strokeDash=[2, 3], color="#9a9ca3").encode(
        y="done:Q")
    points = alt.Chart(marks).mark_point(size=90, filled=True, stroke="white", strokeWidth=1, cursor="pointer").encode(
        x=alt.X("value:Q", title=days_title), y=y, color=color,
        shape=alt.Shape("kind:N", title="Marked", scale=alt.Scale(domain=["median", "90th percentile"],
                                                                  range=["circle", "triangle-up"]),
                        legend=alt.Legend(orient="bottom", symbolSize=90, symbolFillColor="#808495",
                                          symbolStrokeColor="#808495")),
        tooltip=[words_tip("group", group_title), alt.Tooltip("kind:N", title="Mark"),
                 alt.Tooltip("value:Q", title="Business days", format=",.1f")])
    return alt.layer(guides, lines, points, height=HEIGHT + 120)  # two legends besides the plot


def share_over_chart(frame: pl.DataFrame, by: str, title: str, threshold: float) -> alt.Chart:
    """Share of refunds slower than the threshold, per group. frame: pipelines.refund_share_over. A click
    on a bar lists the orders of its refunds over the threshold."""
    # `key`: the label as the data holds it (null for unknown), which a click's selection returns.
    data = with_words(frame.with_columns(pl.col(by).alias("key"), pl.col(by).fill_null("unknown")), by)
    if data.is_empty():
        return _empty("No completed refunds in this selection")
    return (
        alt.Chart(data)
        .mark_bar(cursor="pointer")
        .encode(
            y=alt.Y(f"{by}:N", title=title, axis=alt.Axis(labelExpr=legend_words(data[by].unique()))),
            color=alt.Color(f"{by}:N", legend=None, scale=category_scale(by, data[by])),
            x=alt.X("share_over_threshold:Q", title=f"Share over {threshold:g} business days",
                    axis=alt.Axis(format="%"),
                    # An all-zero selection still gets a readable axis.
                    scale=alt.Scale(domain=[0, max(0.05, float(data["share_over_threshold"].max() or 0))])),
            tooltip=[words_tip(by, title), alt.Tooltip("refunds:Q", title="Refunds", format=","),
                     alt.Tooltip("over_threshold:Q", title=f"Over {threshold:g} business days", format=","),
                     alt.Tooltip("share_over_threshold:Q", title=f"Share over {threshold:g} business days",
                                 format=".1%")],
        )
        .add_params(drill_selection("key"))
        .properties(height=_rows_height(data.height))
    )


def refunds_by_chart(frame: pl.DataFrame, by: str, title: str) -> alt.Chart:
    """Refunds per channel (or payment method). frame: pipelines.refunds_by."""
    # `key`: the label as the data holds it (null for unknown), which a click's selection returns.
    data = with_words(frame.with_columns(pl.col(by).alias("key"), pl.col(by).fill_null("unknown")), by)
    if data.is_empty():
        return _empty("No refunds in this selection")
    return (
        alt.Chart(data)
        .mark_bar(cursor="pointer")
        .encode(
            x=alt.X(f"{by}:N", title=title, sort="-y", axis=alt.Axis(labelAngle=0, labelExpr=legend_words(data[by].unique()))),
            y=alt.Y("refunds:Q", title="Refunds", axis=count_axis(data["refunds"].max())),
            color=alt.Color(f"{by}:N", legend=None, scale=category_scale(by, data[by])),
            tooltip=[words_tip(by, title), alt.Tooltip("refunds:Q", title="Refunds", format=","),
                     alt.Tooltip("refund_amount:Q", title="Refunded amount", format=",.2f"),
                     alt.Tooltip("share:Q", title="Share of refunds", format=".1%")],
        )
        .add_params(drill_selection("key"))
        .properties(height=HEIGHT)
    )


# --- what-if ---------------------------------------------------------------------------------------

class Spec:
    """A chart written as its Vega-Lite spec rather than built with Altair, where Altair is slow to build
    it: a grid of small layered charts, whose every layer and concatenation Altair copies in depth (four
    panels cost 0.06 s to build and 0.03 s to convert, on every What-if change; the dict, a millisecond).
    It answers what the rest of the code asks of a chart (ui.chart_specs, exports): to_dict and to_json."""

    def __init__(self, spec: dict):
        self._spec = spec

    @classmethod
    def of(cls, **parts) -> Spec:
        """A top-level spec of these parts, with what Altair writes at the top of its own: the schema
        and the default view size."""
        return cls({"$schema": alt.SCHEMA_URL, "config": {"view": {"continuousWidth": 300, "continuousHeight": 300}},
                    **parts})

    def to_dict(self, validate: bool = False, **_) -> dict:
        return json.loads(json.dumps(self._spec))   # a copy the caller may change

    def to_json(self, **_) -> str:
        return json.dumps(self._spec)


LEGEND_LABEL_PX = 180


def comparison_chart(frame: pl.DataFrame, title: str = "Value") -> Spec | alt.Chart:
    """Figures side by side with their 95% intervals, one small chart per figure in the frame's order
    (the tiles' order), each titled with its figure and its y axis with the figure's unit (the frame's
    `unit` column when it has one, else `title`). frame: one row per (figure, variant) with value, low,
    high; variant is e.g. 'baseline', 'scenario' or a saved scenario's name. Figures the data set cannot
    measure (null or NaN values) are left out. Two figures a row, so four fit a narrow column."""
    frame = frame.filter(pl.col("value").is_not_null() & pl.col("value").is_not_nan())
    if frame.is_empty():
        return _empty("Nothing to compare")
    variants = frame["variant"].unique(maintain_order=True).to_list()
    width = max(150, 28 * len(variants))
    x = {"field": "variant", "type": "nominal", "sort": variants}
    # Up to three names a row: eight saved scenarios' names in one row made the chart twice a 1280 px page's
    # column wide; a long name is cut at LEGEND_LABEL_PX (its tooltip and the table under the chart say it whole).
    color = {"field": "variant", "type": "nominal", "title": None, "sort": variants,
             "legend": {"orient": "top", "columns": min(3, len(variants)), "labelLimit": LEGEND_LABEL_PX}}
    tooltip = [{"field": "figure", "type": "nominal", "title": "Figure"},
               {"field": "variant", "type": "nominal", "title": "Variant"},
               *({"field": f, "type": "quantitative", "format": ",.2f"} for f in ("value", "low", "high"))]
    units = dict(frame.select("figure", "unit").unique("figure", keep="first").iter_rows()) if "unit" in frame.columns else {}
    panels = []
    for figure in frame["figure"].unique(maintain_order=True).to_list():
        unit = units.get(figure) or title
        y_title = unit[:1].upper() + unit[1:]
        bars = {"mark": {"type": "bar"}, "encoding": {
            "x": {**x, "title": None, "axis": {"labels": False, "ticks": False}},
            "y": {"field": "value", "type": "quantitative", "title": y_title, "axis": {"minExtent": 48, "maxExtent": 48}},
            "color": color, "tooltip": tooltip}}
        errors = {"mark": {"type": "errorbar", "ticks": True}, "encoding": {
            "x": x, "y": {"field": "low", "type": "quantitative", "title": y_title}, "y2": {"field": "high"}}}
        # Every panel the same size with its title at the plot's left edge and a y axis of the same
        # width, so titles and plots line up across the grid whatever the numbers' lengths.
        panels.append({"layer": [bars, errors], "transform": [{"filter": {"field": "figure", "equal": figure}}],
                       "width": width, "height": 160,
                       "title": {"text": figure, "anchor": "start", "fontSize": 12, "fontWeight": "bold",
                                 "frame": "group", "limit": width + 50}})
    rows = frame.select("figure", "variant", "value", "low", "high").to_dicts()
    return Spec.of(data={"name": "comparison"}, datasets={"comparison": rows}, concat=panels, columns=2,
                   resolve={"scale": {"y": "independent"}})


def sweep_chart(frame: pl.DataFrame, parameter_title: str, figure_title: str, current: float | None = None,
                title: str | None = None) -> Spec | alt.Chart:
    """One figure along a swept parameter, with its 95% band. frame: one row per parameter value with
    value, low, high (and optionally `figure` when several figures are drawn, one colour each).
    parameter_title: the x axis (with its unit); figure_title: the y axis; title: the chart's own.
    Written as its spec (Spec): drawn again at every What-if change, Altair's layering was most of it."""
    frame = frame.filter(pl.col("value").is_not_null() & pl.col("value").is_not_nan())
    if frame.is_empty():
        return _empty("Not measurable on this data set")
    has_figure = "figure" in frame.columns
    color = ({"field": "figure", "type": "nominal", "title": None, "legend": {"orient": "top"}} if has_figure
             else {"value": COLORS["scenario"]})
    x = {"field": "parameter", "type": "quantitative", "title": parameter_title}
    band = {"data": {"name": "sweep"}, "mark": {"type": "area", "opacity": 0.2}, "encoding": {
        "x": x, "y": {"field": "low", "type": "quantitative", "title": figure_title}, "y2": {"field": "high"},
        "color": color}}
    line = {"data": {"name": "sweep"}, "mark": {"type": "line", "point": True}, "encoding": {
        "x": x, "y": {"field": "value", "type": "quantitative", "title": figure_title}, "color": color,
        "tooltip": [{"field": "parameter", "type": "quantitative", "title": parameter_title},
                    {"field": "value", "type": "quantitative", "title": title or figure_title, "format": ",.2f"},
                    {"field": "low", "type": "quantitative", "title": "95% interval from", "format": ",.2f"},
                    {"field": "high", "type": "quantitative", "title": "95% interval to", "format": ",.2f"}]}}
    datasets = {"sweep": frame.select("parameter", "value", "low", "high", *(["figure"] if has_figure else []))
                .to_dicts()}
    layers = [band, line]
    if current is not None:
        datasets["current"] = [{"parameter": float(current)}]
        layers.append({"data": {"name": "current"}, "mark": {"type": "rule", "color": "#808495", "strokeDash": [4, 4]},
                       "encoding": {"x": {"field": "parameter", "type": "quantitative"}}})
    titled = {"title": {"text": title, "anchor": "start"}} if title else {}
    return Spec.of(layer=layers, height=HEIGHT, datasets=datasets, **titled)


def fit_chart(frame: pl.DataFrame, x_title: str) -> alt.Chart:
    """A fitted distribution against the data's own, as cumulative curves. frame: one row per (point,
    source) with hours, cdf and source (simulate.fit_vs_data's seller_response or payment_to_shipment)."""
    if frame.is_empty():
        return _empty("Nothing was fitted")
    return (
        alt.Chart(frame)
        .mark_line()
        .encode(
            x=alt.X("hours:Q", title=x_title),
            y=alt.Y("cdf:Q", title="Share done by then", axis=alt.Axis(format="%")),
            color=alt.Color("source:N", title=None, legend=alt.Legend(orient="top")),
            strokeDash=alt.StrokeDash("source:N", legend=None),
            tooltip=[alt.Tooltip("source:N"), alt.Tooltip("hours:Q", format=",.1f"), alt.Tooltip("cdf:Q", format=".1%")],
        )
        .properties(height=HEIGHT)
    )


def distribution_chart(frame: pl.DataFrame, group: str) -> alt.Chart:
    """An empirical distribution per group as bars of shares, assumed ones (no data to fit) faded.
    frame: one row per (group, days) with share and assumed (simulate.fit_vs_data's refund_days or
    transit_days)."""
    if frame.is_empty():
        return _empty("Nothing was fitted")
    # Every day from the first to the last, a day no group reaches drawn as 0: an ordinal axis would
    # otherwise skip it, and 1, 3, 4 would read as consecutive days.
    days = pl.DataFrame({"days": list(range(int(frame["days"].min()), int(frame["days"].max()) + 1))},
                        schema={"days": frame.schema["days"]})
    groups = frame.group_by(group).agg(pl.col("assumed").first())
    full = (groups.join(days, how="cross")
            .join(frame.drop("assumed"), on=[group, "days"], how="left")
            .with_columns(pl.col("share").fill_null(0.0),
                          *([pl.col("count").fill_null(0)] if "count" in frame.columns else []))
            .sort(group, "days"))
    data = full.with_columns(pl.when(pl.col("assumed")).then(pl.lit("assumed")).otherwise(pl.lit("fitted")).alias("basis"))
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("days:O", title="Business days", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("share:Q", title="Share", axis=alt.Axis(format="%")),
            color=alt.Color(f"{group}:N", title=None, legend=alt.Legend(orient="top", labelExpr=legend_words()),
                            scale=category_scale(group, data[group])),
            xOffset=alt.XOffset(f"{group}:N"),
            opacity=alt.condition(alt.datum.basis == "assumed", alt.value(0.35), alt.value(1.0)),
            tooltip=[alt.Tooltip(f"{group}:N"), alt.Tooltip("days:O"), alt.Tooltip("share:Q", format=".1%"),
                     alt.Tooltip("count:Q", format=","), alt.Tooltip("basis:N")],
        )
        .properties(height=HEIGHT)
    )


FRONTIER_SELECTION = "policy"


def frontier_chart(frame: pl.DataFrame, x_title: str, y_title: str, format_x: str = ",.2f",
                   format_y: str = ",.2f") -> alt.LayerChart | alt.Chart:
    """Every policy as a point with its 95% intervals on both figures (whiskers), the frontier as a line
    through its policies, extrapolated policies hollow triangles, the current policy, the data set's own
    and the best under the limits named beside their points. frame: whatif_tables.frontier_frame.
    A click selects a point (the selection `policy`, field `index`)."""
    frame = frame.filter(pl.col("a").is_not_null() & pl.col("b").is_not_null()
                         & pl.col("a").is_not_nan() & pl.col("b").is_not_nan())
    if frame.is_empty():
        return _empty("Not measurable on this data set")
    frame = frame.with_columns(
        pl.when(pl.col("on_frontier").is_null()).then(pl.lit("replayed"))
        .when(pl.col("on_frontier")).then(pl.lit("on the frontier")).otherwise(pl.lit("not on the frontier"))
        .alias("status"),
        pl.when(pl.col("extrapolated") != "").then(pl.lit("extrapolated")).otherwise(pl.lit("within the data"))
        .alias("reach"))
    x = alt.X("a:Q", title=x_title, scale=alt.Scale(zero=False))
    y = alt.Y("b:Q", title=y_title, scale=alt.Scale(zero=False))
    base = alt.Chart(frame)
    pick = alt.selection_point(name=FRONTIER_SELECTION, fields=["index"], on="click", toggle=False)
    whisker = {"color": "#b0b3bb", "strokeWidth": 1}
    x_err = base.mark_rule(**whisker).encode(x="a_low:Q", x2="a_high:Q", y=y)
    y_err = base.mark_rule(**whisker).encode(x=x, y="b_low:Q", y2="b_high:Q")
    line = alt.Chart(frame.filter(pl.col("status") == "on the frontier").sort("a", "b")).mark_line(
        color=COLORS["scenario"], strokeWidth=2).encode(x=x, y=y, order="a:Q")
    # One scale for the points' outline and fill: a fill on a scale of its own took Vega's palette, so
    # "not on the frontier" was filled blue like the frontier's points.
    statuses = alt.Scale(domain=["on the frontier", "not on the frontier", "replayed"],
                         range=[COLORS["scenario"], "#9a9ca3", "#9ecae9"])
    points = base.mark_point(size=110, strokeWidth=2).encode(
        x=x, y=y,
        color=alt.Color("status:N", title=None, legend=alt.Legend(orient="top"), scale=statuses),
        shape=alt.Shape("reach:N", title=None, legend=alt.Legend(orient="top"),
                        scale=alt.Scale(domain=["within the data", "extrapolated"], range=["circle", "triangle-up"])),
        fill=alt.condition("datum.reach == 'extrapolated'", alt.value("transparent"),
                           alt.Color("status:N", legend=None, scale=statuses)),
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.85)),
        tooltip=[alt.Tooltip("policy:N", title="Policy"),
                 alt.Tooltip("a:Q", title=x_title, format=format_x),
                 alt.Tooltip("a_low:Q", title="95% from", format=format_x),
                 alt.Tooltip("a_high:Q", title="95% to", format=format_x),
                 alt.Tooltip("b:Q", title=y_title, format=format_y),
                 alt.Tooltip("b_low:Q", title="95% from", format=format_y),
                 alt.Tooltip("b_high:Q", title="95% to", format=format_y),
                 alt.Tooltip("extrapolated:N", title="Extrapolated"),
                 alt.Tooltip("mark:N", title="Marked")],
    ).add_params(pick)
    marked = frame.filter(pl.col("mark") != "")
    labels = alt.Chart(marked).mark_text(align="left", dx=9, dy=-9, fontSize=12, fontWeight="bold",
                                         color="#31333f").encode(x=x, y=y, text="mark:N")
    rings = alt.Chart(marked).mark_point(size=420, shape="circle", color="#31333f", strokeWidth=1.5).encode(x=x, y=y)
    return alt.layer(x_err, y_err, line, rings, points, labels, height=360)


# --- comparisons -----------------------------------------------------------------------------------
# The compared range's series drawn beside the selection's, dashed, each compared period moved forward by
# the days between the two ranges' first days (analytics.compare.Window.shift_days), so day 1 sits on day 1.

COMPARED_DASH = [6, 3]
# A compared chart is this much taller: Streamlit fits the whole chart, legends included, in its height,
# and the legend of the two ranges under the axis took the room from the plot (90 px of 280 were left).
COMPARED_LEGEND_HEIGHT = 70


def _shifted(frame: pl.DataFrame, days: int, compared_days: tuple[date, date] | None, period: str) -> pl.DataFrame:
    """A compared frame's whole periods within `compared_days` (the first and last days compared), moved
    forward by `days` onto the selection's; `compared_period` keeps the compared period's own first day."""
    if compared_days is not None:
        # A compared period that starts before the first day compared or runs past the last is short, not
        # falling: left out.
        frame = (complete_periods(frame, period, compared_days[1], compared_days[0])
                 .filter(~pl.col("partial")).drop("partial"))
    dtype = frame.schema["period"]
    start = pl.col("period").cast(pl.Date)
    anchor = compared_days[0] if compared_days is not None else frame["period"].cast(pl.Date).min()
    if period in ("week", "month") and anchor is not None:
        # A period moves onto the selection's period that holds its first compared day moved by `days`:
        # by whole weeks or months, so the two ranges' points stand one over the other (moved by the days
        # themselves they sat mid-week).
        moved = anchor + timedelta(days=days)
        if period == "week":
            weeks = ((moved - timedelta(days=moved.weekday())) - (anchor - timedelta(days=anchor.weekday()))).days // 7
            shifted = start + pl.duration(weeks=weeks)
        else:
            shifted = start.dt.offset_by(f"{(moved.year - anchor.year) * 12 + moved.month - anchor.month}mo")
    else:
        shifted = start + pl.duration(days=days)
    return frame.with_columns(
        pl.col("period").alias("compared_period"),
        start.cast(pl.Utf8).alias("compared_key"),  # what a click on it selects
        shifted.cast(dtype).alias("period"))


def _compared_lines(compared: pl.DataFrame, *, period: str, y: alt.Y, color: alt.Color, series: str, value: str,
                    selection_label: str, compared_label: str, fmt: str = ",",
                    series_title: str | None = None) -> alt.Chart:
    """`compared` (lines over time of `value` per `series`, already moved onto the selection's days by
    `_shifted`) drawn dashed; a legend says which range each line style is. `series_title`: the series'
    line in the tooltip (none when the value's own title says which line it is)."""
    data = compared.with_columns(pl.lit(compared_label).alias("range"))
    if series_title:
        data = with_words(data, series)
    # (Wide enough for "This selection: orders placed 2026-01-19 to 2026-02-15" whole.)
    dash = alt.StrokeDash("range:N", title=None, legend=alt.Legend(orient="bottom", columns=1, labelLimit=420),
                          scale=alt.Scale(domain=[selection_label, compared_label], range=[[1, 0], COMPARED_DASH]))
    return alt.Chart(data).mark_line(point=alt.OverlayMarkDef(size=12, cursor="pointer"), opacity=0.65).encode(
        x=alt.X("period:T"), y=y, color=color, strokeDash=dash,
        tooltip=[alt.Tooltip("compared_period:T", title=f"Compared {period}"),
                 *([words_tip(series, series_title)] if series_title else []),
                 alt.Tooltip(f"{value}:Q", title=plain(value), format=fmt), alt.Tooltip("range:N", title="Range")])


def volume_compared_chart(frame: pl.DataFrame, compared: pl.DataFrame | None, period: str, last_day: date | None,
                          shift_days: int, selection_label: str, compared_label: str,
                          compared_days: tuple[date, date] | None = None, first_day: date | None = None):
    """volume_chart with the compared range's cancellation rate and orders dashed beside, each on its own axis
    (compared: the same table, pipelines.volume_over_time, on `compared_days`, the first and last days compared)."""
    if compared is None or compared.is_empty() or frame.is_empty():
        return volume_chart(frame, period, last_day, first_day)
    shifted = _shifted(compared.select("period", "orders", "cancelled_orders", "cancellation_rate"), shift_days,
                       compared_days, period)
    return _volume(frame, period, last_day, shifted, (selection_label, compared_label), first_day)


def reasons_over_time_compared_chart(frame: pl.DataFrame, compared: pl.DataFrame | None, period: str,
                                     selected: str | None, last_day: date | None, shift_days: int,
                                     selection_label: str, compared_label: str,
                                     compared_days: tuple[date, date] | None = None, first_day: date | None = None):
    """reasons_over_time_chart with the compared range's requests by reason dashed beside."""
    chart = reasons_over_time_chart(frame, period, selected, last_day, first_day)
    if compared is None or compared.is_empty() or frame.is_empty():
        return chart
    long = _shifted(compared.select("period", "reason", "requests"), shift_days, compared_days, period)
    # Not past the selection's last period: the time scale ends there (its requests, dated by order, stop
    # with the data), and a compared line went on off the chart, right of its axis.
    long = long.filter(pl.col("period") <= frame["period"].max())
    lines = _compared_lines(
        long, period=period, y=alt.Y("requests:Q", title="Requests", axis=count_axis()),
        color=alt.Color("reason:N", title="Reason", legend=alt.Legend(
                            orient="top", labelExpr=legend_words(pl.concat([frame["reason"], compared["reason"]]).unique())),
                        scale=category_scale("reason", pl.concat([frame["reason"], compared["reason"]]))),
        series="reason", value="requests", selection_label=selection_label, compared_label=compared_label,
        series_title="Reason")
    height = HEIGHT + COMPARED_LEGEND_HEIGHT
    return alt.layer(chart.properties(height=height), lines, height=height)
