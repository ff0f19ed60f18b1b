"""Orders: the orders behind a figure (the filters plus the group clicked on another page), searchable,
sortable, paged, downloadable, with the columns shown chosen; the link restores the list."""

import streamlit as st

import ui
from analytics import drill
from analytics.links import Param
from analytics.text import md
from ui import drill as orders_list
from ui import views

PARAMS = (
    *drill.GROUP_PARAMS,
    Param("q", "str", "", max_len=drill.MAX_SEARCH, label="search"),
    Param("sort", "choice", drill.DEFAULT_SORT, choices=drill.SORTS, label="sort by"),
    Param("desc", "bool", False, label="largest first"),
    Param("page", "integer", 1, minimum=1, maximum=10_000_000, label="page"),
    Param("cols", "labels", drill.SHOWN, choices=drill.COLUMNS, max_items=len(drill.COLUMNS), label="columns shown"),
)

with ui.page("orders", "Orders", PARAMS) as ctx:
    dataset = ctx.require_dataset()
    group = orders_list.group_of(ctx)
    st.caption(f"**{md(dataset.name)}** · {views.filter_summary(ctx.filters)} Each order with its life-cycle "
               "times, its cancellation request and how it ended, and its refund; the downloads hold every "
               "order listed, not only this page.")
    orders_list.what_is_listed(ctx, group)
    search, sort, descending, columns = orders_list.controls(ctx)
    orders_list.order_list(ctx, dataset.id, group, search, sort, descending, columns)
