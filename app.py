"""Overview: the chosen data set's headline numbers with their trend, and where orders leave the life cycle.

The first page of the dashboard (`streamlit run app.py`); the other pages are under pages/.
"""

from functools import partial

import streamlit as st

import ui
from analytics import charts, compare, page_tables, report
from analytics.params import LABEL_READING
from analytics.text import md
from ui import cached, drill, views
from ui.options import filter_options

with ui.page("overview", "Overview") as ctx:
    dataset = ctx.require_dataset(on_spark=True)
    st.caption(f"**{md(dataset.name)}** · {views.filter_summary(ctx.filters)}")

    bounds = filter_options(dataset.id).bounds_of(ctx.filters.anchor)
    heads, period = cached.headlines(dataset.id, ctx.filters, bounds, ctx.comparison)
    win = compare.window(ctx.comparison, ctx.filters, bounds)
    views.headline_tiles(heads, below=drill.tile_links(dataset.id, ctx.filters, heads))

    if len(cached.currencies(dataset.id)) > 1:
        st.subheader("Money by currency")
        st.caption("The orders are in several currencies: amounts are shown per currency, never added up.")
        views.table_result(cached.table(report.money_by_currency, dataset.id, ctx.filters),
                           name="money-by-currency", key="ov_currency")

    st.subheader("Where orders leave the life cycle")
    lifecycle = cached.table(report.lifecycle, dataset.id, ctx.filters)
    if lifecycle.available:
        picked = views.table_result(lifecycle, name="order-life-cycle", key="ov_lifecycle",
                                    orders_of=(dataset.id, ctx.filters),
                                    chart=charts.lifecycle_chart, on_select="rerun")
        drill.follow_mark(picked, "lifecycle", dataset.id, ctx.filters)
        st.caption("Each bar: the orders that reached the step; its red end and the words under it: those that "
                   "did not reach the next step. Click a bar, or its red end, for those orders.")
        drill.stage_links(dataset.id, ctx.filters)
    else:
        # Without payment or shipping times the steps are unknown, but the stages of cancellations are not.
        views.table_result(lifecycle, name="order-life-cycle", key="ov_lifecycle",
                           orders_of=(dataset.id, ctx.filters))
        views.table_result(cached.table(report.stages, dataset.id, ctx.filters), name="cancellations-by-stage",
                           key="ov_stages", orders_of=(dataset.id, ctx.filters), chart=charts.stages_chart)
    st.subheader("Orders by status")
    picked = views.table_result(cached.table(report.orders_by_status, dataset.id, ctx.filters),
                                name="orders-by-status", key="ov_status",
                                orders_of=(dataset.id, ctx.filters), chart=charts.status_chart, on_select="rerun")
    drill.follow_mark(picked, "status", dataset.id, ctx.filters)
    # Under the chart, as the life cycle's: above it, the chart's hover toolbar covered its first line's end.
    # The import keeps a status as a label, not as written: said, rather than shown as the export's own text.
    st.caption(f"The status the export gave each order, {LABEL_READING} (`wc-cancelled` reads `wc_cancelled`), each "
               "split by the stage of the order's cancellation request, else of its cancellation. Click a bar's part "
               "for its orders.")

    left, right = st.columns(2)
    tables_below = st.container()  # the two charts' tables, at the page's full width
    with left:
        views.subheader_over_chart("How requests end")   # as the one beside it, so the two charts stay level
        outcomes = cached.table(report.outcomes, dataset.id, ctx.filters)
        picked = views.table_result(outcomes, name="request-outcomes", key="ov_outcomes",
                                    orders_of=(dataset.id, ctx.filters), chart=charts.outcomes_chart,
                                    on_select="rerun", table_box=tables_below)
        drill.follow_mark(picked, "outcomes", dataset.id, ctx.filters)
        if outcomes.available:
            drill.outcome_links(dataset.id, ctx.filters)
    with right:
        views.subheader_over_chart(f"Cancellation rate by {period}")   # one line at 1280 px, level with its neighbour
        # The selection's first and last days: periods after it are not drawn, a partial first or last one is dashed.
        days = page_tables.chart_days(ctx.filters, bounds)
        volume = cached.table(report.volume_over_time, dataset.id, ctx.filters, period=period)
        compared = cached.compared_table(report.volume_over_time, dataset.id, ctx.filters, win, period=period)
        picked = views.table_result(
            volume, name="volume-over-time", key="ov_volume", on_select="rerun", table_box=tables_below,
            chart=partial(charts.volume_chart, period=period, **days) if compared is None else
            partial(charts.volume_compared_chart, compared=compared.frame, period=period, **days,
                    **page_tables.compared_keywords(win)))
        drill.follow_mark(picked, "volume", dataset.id, ctx.filters, period=period,
                          compared=win.compared_filters(ctx.filters) if compared is not None else None)
        note = (charts.partial_note(volume.frame, period, **page_tables.note_days(ctx.filters, bounds))
                if volume.available else None)
        if note:
            st.caption(note)
