"""Reasons: why buyers cancel, and a breakdown of them (by stage, by payment method, over time, how the
requests end) in tabs. Clicking a reason in a chart narrows the rest of the page to it, and leaves under
the chart a link to the orders of the part clicked."""

from functools import partial

import streamlit as st

import ui
from analytics import charts, compare, page_tables, report
from analytics.links import Param
from analytics.text import md
from ui import cached, drill, views
from ui.options import filter_options
from ui.reasons import BREAKDOWN, breakdown_tabs, clicked_link, focus_from_chart, focus_notice

PERIOD = Param("period", "choice", "week", choices=("day", "week", "month"), label="period")
PARAMS = (
    Param("focus", "labels", (), max_items=1, label="reason in focus"),
    BREAKDOWN,
    PERIOD,
)

with ui.page("reasons", "Reasons", PARAMS) as ctx:
    dataset = ctx.require_dataset()
    options = filter_options(dataset.id)
    focus = focus_notice(ctx, options.values.get("reasons", []))
    st.caption(f"**{md(dataset.name)}** · {views.filter_summary(ctx.filters)} Click a reason in a chart to narrow "
               "the rest of the page to it (a link under the chart then opens the orders of the part clicked); "
               "click it again elsewhere, or Clear, to see them all.")
    narrowed = ctx.filters.replace(reasons=(focus,)) if focus else ctx.filters
    reasons = cached.table(report.reasons, dataset.id, ctx.filters)
    if not reasons.available:
        views.table_result(reasons, name="reasons", key="rs_reasons", orders_of=(dataset.id, ctx.filters))
        st.subheader("What this data set can show: cancellations by stage and by payment method")
        views.table_result(cached.table(report.stages, dataset.id, ctx.filters), name="cancellations-by-stage",
                           key="rs_stages", orders_of=(dataset.id, ctx.filters), chart=charts.stages_chart)
        views.table_result(cached.table(report.volume_by, dataset.id, ctx.filters, by="payment_method"),
                           name="cancellations-by-payment-method", key="rs_by_method",
                           orders_of=(dataset.id, ctx.filters))
        ui.stop_page()

    left, right = st.columns([3, 2])
    tables_below = st.container()  # the two charts' tables, at the page's full width
    with left:
        views.subheader_over_chart("Requests by reason")   # as the one beside it, so the two charts stay level
        views.table_result(reasons, name="reasons", key="rs_reasons", orders_of=(dataset.id, ctx.filters),
                           chart=partial(charts.reasons_chart, selected=focus),
                           on_select=focus_from_chart(ctx, "rs_reasons_chart"), table_box=tables_below)
    with right:
        views.subheader_over_chart("Share of cancelled GMV")
        gmv = cached.table(report.reason_cancelled_gmv, dataset.id, ctx.filters)
        picked = views.table_result(gmv, name="reasons-cancelled-gmv", key="rs_gmv",
                                    orders_of=(dataset.id, ctx.filters), on_select="rerun", table_box=tables_below,
                                    chart=partial(charts.reason_gmv_chart, selected=focus))
        drill.follow_mark(picked, "reason_gmv", dataset.id, ctx.filters)
        if gmv.available:
            st.caption("Click a bar for its cancelled orders.")

    scope = f" · {md(charts.plain(focus))}" if focus else ""
    # One breakdown at a time, in tabs: only the open one is computed and drawn (with all four on the page,
    # its first view drew seven charts and a table).
    shown, tab = breakdown_tabs(ctx, controls={"over_time": (PERIOD.name,)})
    with tab:
        if shown == "stage":
            st.subheader(f"Reasons by stage{scope}")
            views.table_result(cached.table(report.reasons, dataset.id, narrowed, by="stage"), name="reasons-by-stage",
                               key="rs_stage", orders_of=(dataset.id, narrowed),
                               chart=partial(charts.reasons_share_chart, by="request_stage", title="Stage",
                                             selected=focus, normalize=not focus),
                               on_select=focus_from_chart(ctx, "rs_stage_chart", "reasons_by_stage"))
            clicked_link("reasons_by_stage", dataset.id, narrowed)

        elif shown == "payment_method":
            st.subheader(f"Reasons by payment method{scope}")
            views.table_result(cached.table(report.reasons, dataset.id, narrowed, by="payment_method"),
                               name="reasons-by-payment-method", key="rs_method", orders_of=(dataset.id, narrowed),
                               chart=partial(charts.reasons_share_chart, by="payment_method", title="Payment method",
                                             selected=focus, normalize=not focus),
                               on_select=focus_from_chart(ctx, "rs_method_chart", "reasons_by_payment_method"))
            clicked_link("reasons_by_payment_method", dataset.id, narrowed)

        elif shown == "over_time":
            # The period's choice beside the heading, at the left: the chart's hover toolbar takes the right end above it.
            with st.container(horizontal=True, vertical_alignment="center", gap="medium"):
                st.subheader(f"Requests by reason over time{scope}", width="content")
                st.segmented_control("Period", list(PERIOD.choices), key=ctx.k(PERIOD.name),
                                     label_visibility="collapsed")
            period = st.session_state.get(ctx.k(PERIOD.name)) or PERIOD.default
            # The selection's first and last days: periods after it are not drawn, a partial first or last
            # one is dashed. Requests are drawn by their own date: a selection of order dates ends no period.
            drawn_by = report.reasons_anchor(ctx.filters)
            bounds = options.bounds_of(drawn_by)
            bounding = page_tables.drawn_by(ctx.filters, drawn_by)
            days = page_tables.chart_days(bounding, bounds)
            over_time = cached.table(report.reasons, dataset.id, narrowed, by="period", period=period)
            win = compare.window(ctx.comparison, ctx.filters, options.bounds_of(ctx.filters.anchor))
            compared = cached.compared_table(report.reasons, dataset.id, narrowed, win, by="period", period=period)
            views.table_result(over_time, name="reasons-over-time", key="rs_time",
                               chart=partial(charts.reasons_over_time_chart, period=period, selected=focus, **days)
                               if compared is None else
                               partial(charts.reasons_over_time_compared_chart, compared=compared.frame, period=period,
                                       selected=focus, **days, **page_tables.compared_keywords(
                                           win, drawn_to=days["last_day"] if bounding.end != ctx.filters.end else None,
                                           dating=None if drawn_by == ctx.filters.anchor else
                                           f"orders {views.ANCHOR_WORDS[ctx.filters.anchor]}")),
                               on_select=focus_from_chart(ctx, "rs_time_chart", "reasons_over_time", period=period))
            clicked_link("reasons_over_time", dataset.id, narrowed, period=period,
                         compared=win.compared_filters(narrowed) if compared is not None else None)
            note = (charts.partial_note(over_time.frame, period, **page_tables.note_days(bounding, bounds))
                    if over_time.available else None)
            if bounding.end != ctx.filters.end and over_time.available:
                st.caption(f"Requests of the orders {views.ANCHOR_WORDS[ctx.filters.anchor]} up to "
                           f"{ctx.filters.end:%Y-%m-%d}, drawn by the day each request was made: some came after it.")
            if note:
                st.caption(note)
            if win is not None and win.note:
                st.caption(win.note)

        else:  # outcomes
            left, right = st.columns(2)
            with left:
                st.subheader(f"How these requests end{scope}")
                picked = views.table_result(cached.table(report.outcomes, dataset.id, narrowed), name="request-outcomes",
                                            key="rs_outcomes", orders_of=(dataset.id, narrowed), chart=charts.outcomes_chart,
                                            on_select="rerun")
                drill.follow_mark(picked, "outcomes", dataset.id, narrowed)
            with right:
                st.subheader("Seller response time by reason")
                # The median and 90th percentile: room for them in half the page (the download has the mean too).
                views.table_result(cached.table(report.response_time, dataset.id, narrowed, by="reason"),
                                   name="response-time-by-reason", key="rs_response", chart=None,
                                   column_order=["reason", "answered_requests", "p50_response_hours",
                                                 "p90_response_hours"])
