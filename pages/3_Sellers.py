"""Sellers: the ranked seller table (response time, acceptance rate, cancellation rate with its 95%
interval, cancelled GMV), searchable; a selected row leads to that seller's orders and shows its trend."""

from functools import partial

import streamlit as st

import ui
from analytics import charts, figures, page_tables, pipelines, report
from analytics.drill import Group
from analytics.links import Param
from analytics.text import md
from ui import cached, downloads, drill, tables, views
from ui.options import filter_options

SORT_LABELS = {
    "cancelled_gmv": "Cancelled GMV",
    "orders": "Orders",
    "gmv": "GMV",
    "cancellation_requests": "Cancellation requests",
    "acceptance_rate": "Acceptance rate",
    "p50_response_hours": "Median response time",
    "cancelled_orders": "Cancelled orders",
    "cancellation_rate_low": "Cancellation rate (low end of its 95% interval)",
    "return_path_orders": "Orders sent the return way",
}
PARAMS = (
    Param("sort", "choice", "cancelled_gmv", choices=pipelines.SELLER_SORT_COLUMNS, label="rank by"),
    Param("q", "str", "", max_len=64, label="search"),
    Param("min", "integer", 1, minimum=1, maximum=1_000_000, label="minimum orders"),
)
RATE_HELP = ("Cancelled of the seller's orders, with its Wilson 95% interval: the fewer the orders, the wider "
             "the interval.")
COLUMNS = {
    "rank": st.column_config.NumberColumn("Rank", format="%d"),
    "seller_id": st.column_config.TextColumn("Seller"),
    "orders": st.column_config.NumberColumn("Orders", format="%,d"),
    "gmv": st.column_config.NumberColumn("GMV", format="%,.2f"),
    "cancellation_requests": st.column_config.NumberColumn("Requests", format="%,d"),
    "answered_requests": st.column_config.NumberColumn("Answered", format="%,d"),
    "acceptance_rate": st.column_config.NumberColumn("Acceptance rate", format="percent",
                                                     help="Accepted of the requests the seller answered"),
    "p50_response_hours": st.column_config.NumberColumn("Median response (h)", format="%,.1f"),
    "cancelled_orders": st.column_config.NumberColumn("Cancelled", format="%,d"),
    "cancellation_rate": st.column_config.NumberColumn("Cancellation rate", format="percent", help=RATE_HELP),
    "cancellation_rate_low": st.column_config.NumberColumn("Rate: 95% from", format="percent", help=RATE_HELP),
    "cancellation_rate_high": st.column_config.NumberColumn("Rate: 95% to", format="percent", help=RATE_HELP),
    "cancelled_gmv": st.column_config.NumberColumn("Cancelled GMV", format="%,.2f"),
    "return_path_orders": st.column_config.NumberColumn("Sent the return way", format="%,d",
                                                        help="Orders that shipped before the seller answered the request"),
}



def seller_trend(dataset_id: str, filters, seller: str) -> None:
    """The selected seller's own view: its orders and cancellation rate per week, under the filters."""
    st.subheader(f"Seller {md(seller)} by week")
    bounds = filter_options(dataset_id).bounds.get(filters.anchor, (None, None))
    last_day = page_tables.last_day(filters, bounds[1])
    trend = cached.table(report.seller_trend, dataset_id, filters, seller=seller, period="week")
    views.table_result(trend, name=f"seller-{seller}-by-week", key="sl_trend",
                       chart=partial(charts.volume_chart, period="week", last_day=last_day))
    note = charts.partial_note(trend.frame, "week", last_day) if trend.available else None
    if note:
        st.caption(note)


with ui.page("sellers", "Sellers", PARAMS) as ctx:
    dataset = ctx.require_dataset()
    st.caption(f"**{md(dataset.name)}** · {views.filter_summary(ctx.filters)}")
    search_col, sort_col, min_col = st.columns([3, 2, 1])
    query = search_col.text_input("Search sellers", key=ctx.k("q"), placeholder="Part of a seller id",
                                  max_chars=64, icon=":material/search:")
    sort = sort_col.selectbox("Rank by", pipelines.SELLER_SORT_COLUMNS, key=ctx.k("sort"), format_func=SORT_LABELS.get)
    minimum = int(min_col.number_input("Minimum orders", min_value=1, max_value=1_000_000, step=1, key=ctx.k("min"),
                                       help="Sellers with fewer orders in the selection are left out of the table."))

    losses = cached.table(report.seller_losses, dataset.id, ctx.filters)
    if losses.available and losses.frame.height:
        row = losses.frame.row(0, named=True)
        a, b, c = st.columns(3)
        gmv, returned = figures.FIGURES["cancelled_gmv"], figures.FIGURES["return_path_orders"]
        a.metric(gmv.label, views.fmt(row.get("cancelled_gmv"), cached.money_format(dataset.id)), border=True,
                 help=gmv.description)
        b.metric("Share of GMV cancelled", views.fmt(row.get("cancelled_gmv_share"), "{:.1%}"), border=True)
        if "return_path_orders" in row:
            c.metric(returned.label, views.fmt(row.get("return_path_orders"), returned.fmt), border=True,
                     help=returned.description)
        for column, why in losses.notes.items():
            views.not_available(tables.column_words(column), why)

    result = cached.table(report.sellers, dataset.id, ctx.filters, sort_by=sort)
    if not result.available:
        views.table_result(result, name="sellers", key="sl_table")
    else:
        frame = page_tables.search_sellers(page_tables.sellers_with_orders(result.frame, minimum), query)
        fewest = f" with at least {minimum:,} orders" if minimum > 1 else ""
        st.caption(f"{frame.height:,} of {result.frame.height:,} sellers{fewest}, ranked by {SORT_LABELS[sort]}.")
        if sort == "cancellation_rate_low":
            st.caption("Ranked by the low end of each seller's 95% interval for its cancellation rate: a seller "
                       "with few orders ranks high only when its rate is high beyond its noise (1 cancelled of 2 "
                       "orders, 50%, is at least 9.5%; 150 of 1,000, 15%, at least 12.9%, and ranks first). "
                       f"Sellers with fewer than {pipelines.RATE_MIN_ORDERS} orders come after the others.")
        if frame.is_empty():
            st.info("No seller id contains that text.", icon=":material/search_off:")
        money = cached.currencies(dataset.id)
        config = {k: v for k, v in COLUMNS.items() if k in frame.columns}
        if len(money) == 1:
            # Amounts in the data set's currency: said in the headers, as a spreadsheet would.
            config.update({k: st.column_config.NumberColumn(f"{label} ({money[0]})", format="%,.2f")
                           for k, label in (("gmv", "GMV"), ("cancelled_gmv", "Cancelled GMV")) if k in frame.columns})
        picked = downloads.table(frame, f"sellers-by-{sort}", key="sl_table", height=560, column_config=config,
                                 on_select="rerun", selection_mode="single-row")
        seller = page_tables.selected_seller(frame, picked.selection.rows)
        if seller is None:
            st.caption("Select a seller's row to list its orders.")
        else:
            group = Group(seller=seller)
            (n,) = drill.counts(dataset.id, ctx.filters, [group])
            drill.link(dataset.id, ctx.filters, group, f"{drill.see(n)} of seller {md(seller)}")
            seller_trend(dataset.id, ctx.filters, seller)
        for column, why in result.notes.items():
            views.not_available(tables.column_words(column), why)
