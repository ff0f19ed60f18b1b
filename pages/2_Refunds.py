"""Refunds: how long buyers wait for their money, by payment method and by channel, from the refund's
start and from the buyer's request; the share slower than a threshold; where refunds go."""

import polars as pl
import streamlit as st

import ui
from analytics import charts, metrics
from analytics.links import Param
from analytics.text import md
from ui import cached, downloads, views

# The tiles at the top: registry scalars, with their short labels.
TILES = {"refunds": "Refunds", "refund_amount": "Refunded amount",
         "p50_refund_business_days_from_start": "Median refund time"}
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

    values = cached.scalars(dataset.id, ctx.filters, tuple(TILES))
    why = cached.unavailable(dataset.id)
    for column, (name, label) in zip(st.columns(len(TILES)), TILES.items(), strict=True):
        metric = metrics.get(name)
        pattern = {"currency": cached.money_format(dataset.id, metric.fmt),
                   "business days": f"{metric.fmt} business days"}.get(metric.unit, metric.fmt)
        # As the Overview's tiles: what the data set cannot support is 'n/a' with the reason, never 0.
        shown = "n/a" if name in why else views.fmt(values[name], pattern)
        help_text = f"Not available in this data set: {why[name]}." if name in why else metric.description
        column.metric(label, shown, border=True, help=help_text)

    group_col, measure_col, threshold_col = st.columns([2, 2, 1], vertical_alignment="bottom")
    group = group_col.segmented_control("Group by", list(GROUPS), key=ctx.k("group"), format_func=GROUPS.get) \
        or "payment_method"
    measure = measure_col.segmented_control("Waiting time", list(MEASURES), key=ctx.k("measure"),
                                            format_func=MEASURES.get) or "start"
    threshold = threshold_col.number_input("Threshold (business days)", min_value=0, max_value=250, step=1,
                                           key=ctx.k("threshold"), help="The share of refunds slower than this "
                                           "(strictly more business days) is shown below.")

    column = "refund_channel" if group == "channel" else "payment_method"
    prefix = "p50_from_request" if measure == "request" else "p50"
    days = "business_days_from_request" if measure == "request" else "business_days"

    st.subheader(f"How long refunds take, by {GROUPS[group].lower()}")
    latency = cached.table(dataset.id, "refund_latency", ctx.filters, by=group)
    distribution = cached.table(dataset.id, "refund_latency_distribution", ctx.filters)
    p50, p90 = f"{prefix}_business_days", f"{prefix.replace('p50', 'p90')}_business_days"
    if not latency.available:
        views.table_result(latency, name="refund-latency", key="rf_latency")
    elif p50 not in latency.frame.columns:
        # The data set has refund times but no request times: only "from the refund's start" exists.
        views.table_result(latency, name="refund-latency", key="rf_latency")
    else:
        quantiles = latency.frame.select(column, pl.col(p50).alias("p50"), pl.col(p90).alias("p90"))
        if distribution.available:
            views.table_result(
                distribution, name="refund-latency-distribution", key="rf_dist", show_table=False,
                chart=lambda f: charts.latency_chart(f, quantiles, column, days, GROUPS[group],
                                                     f"Business days {MEASURES[measure].lower()}"),
            )
        views.table_result(latency, name="refund-latency", key="rf_latency")
        if distribution.available:
            with st.expander("Every refund with its waiting times"):
                downloads.table(distribution.frame, "refund-latency-distribution", key="rf_dist_table", height=300)

    left, right = st.columns(2)
    with left:
        threshold = int(threshold)
        st.subheader(f"Share over {threshold} business days")
        over = cached.table(dataset.id, "refund_share_over", ctx.filters, threshold_days=float(threshold), by=group,
                            from_request=measure == "request")
        if over.available and over.frame.height and not over.frame["over_threshold"].fill_null(0).sum():
            # Nothing over the threshold: a sentence says it better than a chart of empty bars.
            st.info(f"No refund took more than {threshold} business days.", icon=":material/check_circle:")
            views.table_result(over, name="refunds-over-threshold", key="rf_over", expanded=False)
        else:
            views.table_result(over, name="refunds-over-threshold", key="rf_over",
                               chart=lambda f: charts.share_over_chart(f, column, GROUPS[group], threshold))
    with right:
        st.subheader("Refunds by channel")
        views.table_result(cached.table(dataset.id, "refunds_by", ctx.filters, by="channel"), name="refunds-by-channel",
                           key="rf_channel", chart=lambda f: charts.refunds_by_chart(f, "refund_channel", "Channel"))
    st.subheader("Refunds by payment method")
    views.table_result(cached.table(dataset.id, "refunds_by", ctx.filters, by="payment_method"),
                       name="refunds-by-payment-method", key="rf_method",
                       chart=lambda f: charts.refunds_by_chart(f, "payment_method", "Payment method"))
