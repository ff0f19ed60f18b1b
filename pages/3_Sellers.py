"""Sellers: the ranked seller table (response time, acceptance rate, cancellation rate with its 95%
interval, cancelled GMV), searchable; a selected row opens that seller's own view (its orders, its weeks),
which the link keeps (`shown`), so the link opens on that seller."""

from functools import partial

import streamlit as st

import ui
from analytics import charts, compare, page_tables, pipelines, report
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
TILES = ("cancelled_gmv", "cancelled_gmv_share", "return_path_orders")
PARAMS = (
    Param("sort", "choice", "cancelled_gmv", choices=pipelines.SELLER_SORT_COLUMNS, label="rank by"),
    Param("q", "str", "", max_len=64, label="search"),
    Param("min", "integer", 1, minimum=1, maximum=1_000_000, label="minimum orders"),
    Param("shown", "str", None, max_len=200, label="seller shown"),
)
RATE_HELP = ("Cancelled of the seller's orders, with its Wilson 95% interval: the fewer the orders, the wider "
             "the interval.")
# Short headers and set widths, so the table fits a 1280 px window; each header's help says it in full. The
# seller's column takes what the others leave (a fixed 120 px cut "unknown (not in the export)"), so the
# others are as narrow as their headers and widest values: "99.9% – 100.0%", "123.4 h", "123,456".
SELLER_MIN_PX = 120
COLUMNS = {
    "rank": st.column_config.NumberColumn("#", format="%d", width=45, help="Rank"),
    "seller_id": st.column_config.TextColumn("Seller", width=SELLER_MIN_PX),
    "orders": st.column_config.NumberColumn("Orders", format="%,d", width=62),
    "gmv": st.column_config.NumberColumn("GMV", format="%,.2f", width=100),
    "cancellation_requests": st.column_config.NumberColumn("Requests", format="%,d", width=80),
    "answered_requests": st.column_config.NumberColumn("Answered", format="%,d", width=80),
    "acceptance_rate": st.column_config.NumberColumn("Accepted", format="percent", width=72,
                                                     help="Acceptance rate: accepted of the requests the seller answered"),
    "p50_response_hours": st.column_config.NumberColumn("Answer", format="%,.1f h", width=64,
                                                        help="Median hours from a request to the seller's answer"),
    "cancelled_orders": st.column_config.NumberColumn("Cancelled", format="%,d", width=75),
    "cancellation_rate": st.column_config.NumberColumn("Rate", format="percent", width=60,
                                                       help="Cancellation rate. " + RATE_HELP),
    "cancellation_rate_interval": st.column_config.TextColumn("95% interval", width=108, help=RATE_HELP),
    "cancelled_gmv": st.column_config.NumberColumn("Cancelled GMV", format="%,.2f", width=103),
    "return_path_orders": st.column_config.NumberColumn("Return way", format="%,d", width=85,
                                                        help="Orders sent the return way: they shipped before the "
                                                             "seller answered the request"),
}



def seller_view(ctx, dataset_id: str, filters, seller: str) -> None:
    """The shown seller's own view: a link to its orders, and its orders and cancellation rate per week,
    under the filters; Close goes back to the table alone."""
    head, close = st.columns([5, 1], vertical_alignment="center")
    head.subheader(f"Seller {md(seller)} by week")
    close.button("Close", key="sl_close_seller", icon=":material/close:", on_click=_show, args=(ctx, None))
    group = Group(seller=seller)
    (n,) = drill.counts(dataset_id, filters, [group])
    drill.link(dataset_id, filters, group, f"{drill.see(n)} of seller {md(seller)}")
    bounds = filter_options(dataset_id).bounds_of(filters.anchor)
    days = page_tables.chart_days(filters, bounds)
    trend = cached.table(report.seller_trend, dataset_id, filters, seller=seller, period="week")
    if trend.available and not trend.frame.height:
        st.info("This seller has no orders under the filters.", icon=":material/search_off:")
        return
    # Beside it, as on the Overview: the seller's weeks on the compared days.
    win = compare.window(ctx.comparison, filters, bounds)
    compared = cached.compared_table(report.seller_trend, dataset_id, filters, win, seller=seller, period="week")
    chart = (partial(charts.volume_chart, period="week", **days) if compared is None else
             partial(charts.volume_compared_chart, compared=compared.frame, period="week", **days,
                     **page_tables.compared_keywords(win)))
    picked = views.table_result(trend, name=f"seller-{seller}-by-week", key="sl_trend", on_select="rerun",
                                chart=chart)
    # A week's point or bar opens the seller's orders (or cancelled orders) of that week, or of the compared week.
    of_seller = filters.replace(sellers=(seller,))
    drill.follow_mark(picked, "volume", dataset_id, of_seller, period="week",
                      compared=win.compared_filters(of_seller) if compared is not None else None)
    st.caption("Click a week on the rate line for the seller's cancelled orders of that week.")
    note = (charts.partial_note(trend.frame, "week", **page_tables.note_days(filters, bounds))
            if trend.available else None)
    if note:
        st.caption(note)


def _show(ctx, seller: str | None) -> None:
    st.session_state[ctx.k("shown")] = seller


with ui.page("sellers", "Sellers", PARAMS) as ctx:
    dataset = ctx.require_dataset()
    st.caption(f"**{md(dataset.name)}** · {views.filter_summary(ctx.filters)}")
    # A data set without seller ids has no table to search, rank or trim: the controls say why, greyed.
    no_sellers = cached.unavailable(dataset.id).get("sellers")
    why = f" Not available: {no_sellers}." if no_sellers else ""
    search_col, sort_col, min_col = st.columns([3, 2, 1])
    query = search_col.text_input("Search sellers", key=ctx.k("q"), placeholder="Part of a seller id",
                                  max_chars=64, icon=":material/search:", disabled=bool(no_sellers),
                                  help=("Sellers whose id contains this text." + why))
    sort = sort_col.selectbox("Rank by", pipelines.SELLER_SORT_COLUMNS, key=ctx.k("sort"), format_func=SORT_LABELS.get,
                              disabled=bool(no_sellers), help=("The figure the table ranks sellers by." + why))
    minimum = int(min_col.number_input("Minimum orders", min_value=1, max_value=1_000_000, step=1, key=ctx.k("min"),
                                       disabled=bool(no_sellers),
                                       help="Sellers with fewer orders in the selection are left out of the table." + why))

    # What sellers lose, as the Overview's tiles: with their trend and their change against the comparison.
    bounds = filter_options(dataset.id).bounds_of(ctx.filters.anchor)
    heads, _ = cached.headlines(dataset.id, ctx.filters, bounds, ctx.comparison, tiles=TILES)
    views.headline_tiles(heads, below=drill.tile_links(dataset.id, ctx.filters, heads))

    view = st.container()
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
        shown_frame, order = page_tables.sellers_shown(frame, sort)
        config = {k: v for k, v in COLUMNS.items() if k in shown_frame.columns}
        if len(money) == 1:
            # Amounts in the data set's currency: said in the headers' help, as the header has no room.
            config.update({k: st.column_config.NumberColumn(label, format="%,.2f", width=COLUMNS[k]["width"],
                                                            help=f"{label} in {money[0]}")
                           for k, label in (("gmv", "GMV"), ("cancelled_gmv", "Cancelled GMV")) if k in frame.columns})
        others = sum(config[c]["width"] for c in order if c != "seller_id")
        config["seller_id"] = st.column_config.TextColumn("Seller", width=tables.text_width(
            shown_frame["seller_id"], tables.PAGE_TABLE_PX - tables.SELECT_PX - others, SELLER_MIN_PX))
        # A link that opens on a seller ticks its row, as a click on it would have.
        # A table of its own for each search, minimum and ranking: a row's tick is a position, and kept over a
        # new list it opened another seller.
        picked = downloads.table(shown_frame, f"sellers-by-{sort}", key=page_tables.seller_table_key(query, minimum, sort),
                                 height=560, column_config=config,
                                 on_select="rerun", selection_mode="single-row", column_order=order,
                                 download=lambda: frame,
                                 selected_rows=page_tables.seller_row(frame, st.session_state.get(ctx.k("shown"))))
        picked_seller = page_tables.selected_seller(frame, picked.selection.rows)
        # A new selection shows its seller; the same selection, still there after Close, does not again.
        if picked_seller != st.session_state.get("sl_last_pick"):
            st.session_state["sl_last_pick"] = picked_seller
            if picked_seller is not None:
                _show(ctx, picked_seller)
        shown = st.session_state.get(ctx.k("shown"))
        if shown and shown not in set(result.frame["seller_id"].to_list()):
            ctx.notices.append(f"shown: the seller “{shown}” has no orders under these filters in this data set; "
                               "showing the table.")
            _show(ctx, None)
            shown = None
        if shown and not page_tables.seller_row(frame, shown):
            # The search or the minimum hides the seller's row: its view goes with it (and comes back with it).
            st.caption(f"Seller {md(shown)} is not among the sellers listed: its view is hidden.")
        elif shown:
            with view:
                seller_view(ctx, dataset.id, ctx.filters, shown)
        else:
            st.caption("Select a seller's row to see its own view: its orders and its weeks.")
        for column, why in result.notes.items():
            views.not_available(tables.column_words(column), why)
