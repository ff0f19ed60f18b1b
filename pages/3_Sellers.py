"""Sellers: the ranked seller table (response time, acceptance rate, cancelled GMV), searchable; a selected
row leads to that seller's orders."""

import streamlit as st

import ui
from analytics import figures, page_tables, pipelines, report
from analytics.drill import Group
from analytics.links import Param
from analytics.text import md
from ui import cached, downloads, drill, tables, views

SORT_LABELS = {
    "cancelled_gmv": "Cancelled GMV",
    "orders": "Orders",
    "gmv": "GMV",
    "cancellation_requests": "Cancellation requests",
    "acceptance_rate": "Acceptance rate",
    "p50_response_hours": "Median response time",
    "cancelled_orders": "Cancelled orders",
    "return_path_orders": "Orders sent the return way",
}
PARAMS = (
    Param("sort", "choice", "cancelled_gmv", choices=pipelines.SELLER_SORT_COLUMNS, label="rank by"),
    Param("q", "str", "", max_len=64, label="search"),
)
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
    "cancelled_gmv": st.column_config.NumberColumn("Cancelled GMV", format="%,.2f"),
    "return_path_orders": st.column_config.NumberColumn("Sent the return way", format="%,d",
                                                        help="Orders that shipped before the seller answered the request"),
}

with ui.page("sellers", "Sellers", PARAMS) as ctx:
    dataset = ctx.require_dataset()
    st.caption(f"**{md(dataset.name)}** · {views.filter_summary(ctx.filters)}")
    search_col, sort_col = st.columns([3, 2])
    query = search_col.text_input("Search sellers", key=ctx.k("q"), placeholder="Part of a seller id",
                                  max_chars=64, icon=":material/search:")
    sort = sort_col.selectbox("Rank by", pipelines.SELLER_SORT_COLUMNS, key=ctx.k("sort"), format_func=SORT_LABELS.get)

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
        frame = page_tables.search_sellers(result.frame, query)
        st.caption(f"{frame.height:,} of {result.frame.height:,} sellers, ranked by {SORT_LABELS[sort]}.")
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
        for column, why in result.notes.items():
            views.not_available(tables.column_words(column), why)
