"""Refunds: how long buyers wait for their money, by payment method and by channel, from the refund's
start and from the buyer's request; the share slower than a threshold; where refunds go."""

from functools import partial

import streamlit as st

import ui
from analytics import charts, page_tables, report
from analytics.links import Param
from analytics.text import md
from ui import cached, downloads, drill, recent, views
from ui.options import filter_options

# The tiles at the top: registry scalars; the median follows the waiting time chosen below.
TILES = ("refunds", "refund_amount")
MEDIAN = {"start": "p50_refund_business_days_from_start", "request": "p50_refund_business_days_from_request"}
GROUPS = {"payment_method": "Payment method", "channel": "Refund channel"}
MEASURES = {"start": "From the refund's start", "request": "From the buyer's request"}
PARAMS = (
    Param("group", "choice", "payment_method", choices=tuple(GROUPS), label="group by"),
    Param("measure", "choice", "start", choices=tuple(MEASURES), label="measured from"),
    Param("threshold", "integer", 20, minimum=0, maximum=250, label="threshold in business days"),
)

with ui.page("refunds", "Refunds", PARAMS) as ctx:
    dataset = ctx.require_dataset()
    st.caption(f"**{md(dataset.name)}** · {views.filter_summary(ctx.filters)} Times are business days (Monday to "
               "Friday) between the two dates; percentiles interpolate linearly.")

    tiles = st.container()

    # Wide enough for "From the buyer's request" at 1280 px; the threshold below them.
    group_col, measure_col = st.columns([2, 3], vertical_alignment="bottom")
    threshold_col = st.columns(3)[0]
    group = group_col.segmented_control("Group by", list(GROUPS), key=ctx.k("group"), format_func=GROUPS.get) \
        or "payment_method"
    measure = measure_col.segmented_control("Waiting time", list(MEASURES), key=ctx.k("measure"),
                                            format_func=MEASURES.get) or "start"
    threshold = threshold_col.number_input("Threshold (business days)", min_value=0, max_value=250, step=1,
                                           key=ctx.k("threshold"), help="The share of refunds slower than this "
                                           "(strictly more business days) is shown below.")

    shown = (*TILES, MEDIAN[measure])
    with tiles:
        # As the Overview's tiles: with their trend and their change against the comparison.
        bounds = filter_options(dataset.id).bounds_of(ctx.filters.anchor)
        heads, _ = cached.headlines(dataset.id, ctx.filters, bounds, ctx.comparison, tiles=shown)
        views.headline_tiles(heads, below=drill.tile_links(dataset.id, ctx.filters, heads))

    times = page_tables.refund_time_columns(group, measure)
    st.subheader(f"How long refunds take, by {GROUPS[group].lower()}")
    latency = cached.table(report.refund_latency, dataset.id, ctx.filters, by=group)
    # The refunds counted per group and day: what the curves and their table show.
    distribution = cached.table(report.refund_days, dataset.id, ctx.filters, by=group, measure=measure)
    # None: no refunds, or refund times but no request times (only "from the refund's start" exists).
    quantiles = page_tables.refund_quantiles(latency.frame, times) if latency.available else None
    if quantiles is not None and distribution.available:
        picked = views.table_result(
            distribution, name="refund-latency-distribution", key="rf_dist", show_table=False, on_select="rerun",
            chart=partial(charts.latency_chart, quantiles=quantiles, group=times.group, days=times.days,
                          group_title=GROUPS[group], days_title=f"Business days {MEASURES[measure].lower()}"),
        )
        drill.follow_mark(picked, "refund_latency", dataset.id, ctx.filters, by=group, measure=measure)
        # The same-day curves lie on top of each other: said in words (worked out once per frame, not per run).
        same_day = recent.PER_FRAME.get(distribution.frame, ("same_day_note", times.group, times.days),
                                        partial(charts.same_day_note, distribution.frame, times.group, times.days))
        if same_day:
            st.caption(md(same_day))
        st.caption("Click a curve, or its marks, for the orders of its refunds.")
    views.table_result(latency, name="refund-latency", key="rf_latency",
                       column_order=page_tables.refund_latency_shown(latency.frame, measure) if latency.available
                       else None)
    box = views.lazy_expander("The curves' figures: refunds by business days", "rf_dist") \
        if quantiles is not None and distribution.available else None
    if box is not None:
        with box:
            # The counts the curves are drawn from; every refund's row would be megabytes sent on each run.
            counted = recent.PER_FRAME.get(distribution.frame, ("refund_days_counted", times),
                                           partial(page_tables.refund_days_counted, distribution.frame, times))
            st.caption("The downloads hold every refund with both of its waiting times.")
            downloads.table(counted, "refund-latency-distribution", key="rf_dist_table", height=300,
                            download=lambda: cached.table(report.refund_latency_distribution, dataset.id,
                                                          ctx.filters).frame)

    left, right = st.columns(2)
    tables_below = st.container()  # the channel chart's table, at the page's full width
    with left:
        threshold = int(threshold)
        st.subheader(f"Share over {threshold} business days")
        over = cached.table(report.refund_share_over, dataset.id, ctx.filters, threshold_days=float(threshold),
                            by=group, from_request=measure == "request")
        # Its table under its chart (or its sentence), in this column: its short headers fit half the page,
        # and below the row of charts it opened under the channel chart.
        if over.available and page_tables.nothing_over_threshold(over.frame):
            # Nothing over the threshold: a sentence says it better than a chart of empty bars.
            st.info(f"No refund took more than {threshold} business days.", icon=":material/check_circle:")
            views.table_result(over, name="refunds-over-threshold", key="rf_over", expanded=False)
        else:
            picked = views.table_result(over, name="refunds-over-threshold", key="rf_over",
                                        on_select="rerun",
                                        chart=partial(charts.share_over_chart, by=times.group, title=GROUPS[group],
                                                      threshold=threshold))
            drill.follow_mark(picked, "share_over", dataset.id, ctx.filters, by=group, measure=measure,
                              threshold=threshold)
            if over.available:   # (no bar to click under a chart the data set cannot draw)
                st.caption("Click a bar for the orders of its refunds over the threshold.")
    with right:
        st.subheader("Refunds by channel")
        by_channel = cached.table(report.refunds_by, dataset.id, ctx.filters, by="channel")
        picked = views.table_result(by_channel, name="refunds-by-channel", key="rf_channel",
                                    orders_of=(dataset.id, ctx.filters), on_select="rerun",
                                    table_box=tables_below,
                                    chart=partial(charts.refunds_by_chart, by="refund_channel", title="Channel"))
        drill.follow_mark(picked, "refunds_by_channel", dataset.id, ctx.filters)
        if by_channel.available:
            drill.group_links(dataset.id, ctx.filters, page_tables.refund_groups(by_channel.frame, "refund_channel"),
                              "refund")
    st.subheader("Refunds by payment method")
    by_method = cached.table(report.refunds_by, dataset.id, ctx.filters, by="payment_method")
    picked = views.table_result(by_method, name="refunds-by-payment-method", key="rf_method",
                                orders_of=(dataset.id, ctx.filters), on_select="rerun",
                                chart=partial(charts.refunds_by_chart, by="payment_method", title="Payment method"))
    drill.follow_mark(picked, "refunds_by_payment_method", dataset.id, ctx.filters)
    if by_method.available:
        st.caption("The orders behind each payment method's refunds:")
        drill.group_links(dataset.id, ctx.filters, page_tables.refund_groups(by_method.frame, "payment_method"),
                          "refund")
