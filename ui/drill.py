"""The drill-down's widgets: a link from a figure (a tile, a bar, a row) to the orders behind it, and the
Orders page's parts (what is listed, the search and sort, the page of orders, the downloads).

The link carries the data set, the filters and the group (analytics.drill.Group) as query parameters, so
the Orders page opens on exactly those orders, and so does anyone who opens the link later."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import polars as pl
import streamlit as st

from analytics import drill
from analytics.charts import DRILL_SELECTION
from analytics.figures import OUTCOME_LABELS, STAGE_LABELS
from analytics.filters import Filters
from analytics.headline import Headline
from analytics.outcomes import OUTCOMES, STAGES
from analytics.text import count, md
from ui import cached, downloads, tables
from ui.cached import TTL
from ui.database import data_cursor, db_key, on_spark
from ui.setup import PageContext, switch_page

ORDERS_PAGE = "pages/6_Orders.py"
PAGE_ROWS = 50
ICON = ":material/list_alt:"


@st.cache_data(max_entries=256, ttl=TTL, show_spinner=False)
def _counts(database: str, dataset_id: str, filters: Filters, groups: tuple[drill.Group, ...]) -> list[int]:
    with data_cursor(dataset_id) as cur:
        return drill.counts(cur, cached.known(dataset_id), filters, groups)


def counts(dataset_id: str, filters: Filters, groups: Sequence[drill.Group]) -> list[int]:
    """drill.counts, cached: how many orders each group holds under the filters."""
    return _counts(db_key(), dataset_id, filters, tuple(groups))


@st.cache_data(max_entries=128, ttl=TTL, show_spinner=False)
def _orders(database: str, dataset_id: str, filters: Filters, group: drill.Group, search: str, sort: str,
            descending: bool, offset: int, limit: int | None) -> tuple[pl.DataFrame, int]:
    with data_cursor(dataset_id) as cur:
        return drill.orders(cur, cached.known(dataset_id), filters, group, search=search, sort=sort, descending=descending,
                            offset=offset, limit=limit)


def orders(dataset_id: str, filters: Filters, group: drill.Group, *, search: str = "", sort: str = drill.DEFAULT_SORT,
           descending: bool = False, offset: int = 0, limit: int | None = None) -> tuple[pl.DataFrame, int]:
    """drill.orders, cached."""
    return _orders(db_key(), dataset_id, filters, group, search, sort, descending, offset, limit)


def link_params(dataset_id: str, filters: Filters, group: drill.Group) -> dict[str, str]:
    return {"dataset": dataset_id, **filters.to_query(), **group.to_query()}


def link(dataset_id: str, filters: Filters, group: drill.Group, label: str, *, help: str | None = None) -> None:
    """A link to the Orders page listing the group's orders under the filters (`label` is Markdown: escape
    text from the data with md())."""
    st.page_link(ORDERS_PAGE, label=label, icon=ICON, query_params=link_params(dataset_id, filters, group),
                 help=help)


def see(n: int, noun: str = "order") -> str:
    """'See the 1 order', 'See the 2,716 orders'."""
    return f"See the {count(n, noun)}"


# --- entry points -----------------------------------------------------------------------------------

def clicked(state) -> dict | None:
    """The mark a chart's selection state (charts.DRILL_SELECTION) holds, as the browser sent it; None for none."""
    points = ((state or {}).get("selection") or {}).get(DRILL_SELECTION) or []
    return points[0] if points and isinstance(points[0], dict) else None


def follow_mark(state, chart: str, dataset_id: str, filters: Filters, **context) -> None:
    """After a chart drawn with on_select="rerun" (its selection charts.DRILL_SELECTION): a click on a mark
    opens the Orders page on the mark's orders, the filters and its group in the URL, as its link would.
    `context`: drill.for_mark's keywords (the period, the compared days' filters, the Refunds page's grouping)."""
    point = clicked(state)
    found = drill.for_mark(chart, point, filters, **context) if point is not None else None
    if found is not None:
        switch_page(ORDERS_PAGE, link_params(dataset_id, *found))


def mark_link(chart: str, point: Mapping | None, dataset_id: str, filters: Filters, **context) -> None:
    """Under a chart whose click does something else on the page (the Reasons page's focus): the link to
    the orders of its clicked mark, with how many they are and what was clicked in words."""
    found = drill.for_mark(chart, point, filters, **context) if point is not None else None
    if found is None:
        return
    (n,) = counts(dataset_id, found[0], [found[1]])
    within = "the page's filters" if found[0] == filters else "the filters on the days it covers"
    link(dataset_id, *found, f"{see(n)} of the part clicked: {md(drill.group_label(found[1]))}",
         help=f"The {md(found[1].words())}, within {within}.")


def row_links(dataset_id: str, filters: Filters, table: str, row: Mapping) -> None:
    """Under a table (one of drill.ROW_TABLES) whose row was selected: a link per count the row shows, to
    the orders behind it, with how many they are."""
    from analytics.charts import NO_STAGE, NO_STATUS_WORDS, plain  # the charts' words for the same values

    found = drill.for_row(table, row)
    if not found:
        return
    missing = {"status": NO_STATUS_WORDS, "stage": NO_STAGE}
    named = " · ".join(dict.fromkeys(plain(row[c]) if row.get(c) is not None else missing.get(c, plain(None))
                                     for _, _, labels in drill.ROW_TABLES[table] for c in labels))
    numbers = counts(dataset_id, filters, [g for g, _ in found])
    for (group, column), n in zip(found, numbers, strict=True):
        if not n:   # a count of 0 ("0 cancelled orders") has no list to open
            continue
        link(dataset_id, filters, group, f"{see(n)}: {md(named)}, {md(tables.column_words(column).lower())}",
             help=f"The {md(group.words())}, within the page's filters.")


def tile_links(dataset_id: str, filters: Filters, heads: Sequence[Headline]) -> Callable[[Headline], None]:
    """For the Overview's tiles: a function drawing, under a tile, the link to the orders its figure
    counts (or measures), with how many they are. None on Spark: the Orders page does not run there."""
    if on_spark(dataset_id):
        return lambda h: None
    groups = {h.name: drill.for_figure(h.name) for h in heads if not h.unavailable}
    groups = {name: g for name, g in groups.items() if g is not None}
    # Two figures of the same orders (the cancellation rate and cancelled GMV) share one count.
    distinct = list(dict.fromkeys(groups.values()))
    counted = dict(zip(distinct, counts(dataset_id, filters, distinct), strict=True))
    numbers = {name: counted[g] for name, g in groups.items()}

    def below(h: Headline) -> None:
        if h.name not in groups:
            return
        if not numbers[h.name]:   # a link to an empty list leads nowhere
            st.caption(f"No {drill.OF_WORDS[groups[h.name].of]} behind this figure.")
            return
        link(dataset_id, filters, groups[h.name], see(numbers[h.name]),
             help=f"The {drill.OF_WORDS[groups[h.name].of]} behind this figure, as a list.")

    return below


def group_links(dataset_id: str, filters: Filters, groups: dict[str, drill.Group], noun: str) -> None:
    """One link a group in a row ('card: 2 refunds'), each to its orders; labels from the data, escaped.
    None on Spark: the Orders page does not run there."""
    if on_spark(dataset_id):
        return
    numbers = counts(dataset_id, filters, list(groups.values()))
    with st.container(horizontal=True, gap="small"):
        for (label, group), n in zip(groups.items(), numbers, strict=True):
            if n:
                link(dataset_id, filters, group, f"{md(label)}: {count(n, noun)}")


def outcome_links(dataset_id: str, filters: Filters) -> None:
    """Under "How requests end": each outcome's requests as a list of their orders."""
    group_links(dataset_id, filters, {OUTCOME_LABELS[o]: drill.Group(of="requests", outcome=o) for o in OUTCOMES},
                "request")


def stage_links(dataset_id: str, filters: Filters) -> None:
    """Under the life cycle: the orders cancelled at each stage, as a list."""
    group_links(dataset_id, filters, {f"Cancelled {STAGE_LABELS[s].lower()}": drill.Group(of="cancelled", cancel_stage=s)
                                      for s in STAGES}, "order")


# --- the Orders page --------------------------------------------------------------------------------

def group_of(ctx: PageContext) -> drill.Group:
    """The group this run lists (from the link, or as the page kept it)."""
    return drill.Group(**{k: ctx.values[drill.PREFIX + k] for k in drill.GROUP_KEYS})


def what_is_listed(ctx: PageContext, group: drill.Group) -> None:
    """What the list holds, in words, with a button back to every order when a group is chosen."""
    if group == drill.EVERY_ORDER:
        return
    text, button = st.columns([5, 1], vertical_alignment="center")
    text.info(f"Listing the **{md(group.words())}**, within the filters.", icon=":material/filter_alt:")
    if button.button("Every order", key="orders_clear_group", icon=":material/close:"):
        for k in drill.GROUP_KEYS:
            st.session_state[ctx.k(drill.PREFIX + k)] = "orders" if k == "of" else None
        st.session_state[ctx.k("page")] = 1
        st.rerun()


SORT_WORDS = {"order_id": "Order id", "placed_at": "Placed", "paid_at": "Paid", "shipped_at": "Shipped",
              "delivered_at": "Delivered", "cancelled_at": "Cancelled", "requested_at": "Request time",
              "responded_at": "Seller's answer", "refund_initiated_at": "Refund started",
              "refund_completed_at": "Refund completed", "seller_id": "Seller"}


def controls(ctx: PageContext) -> tuple[str, str, bool, list[str]]:
    """The search box, the sort column and its direction (a change goes back to the first page), and the
    columns shown."""

    def first_page() -> None:
        st.session_state[ctx.k("page")] = 1

    search_col, sort_col, desc_col, chooser = st.columns([4, 3, 2, 2], vertical_alignment="bottom")
    search = search_col.text_input("Search orders", key=ctx.k("q"), placeholder="Part of an order id or a seller id",
                                   max_chars=drill.MAX_SEARCH, icon=":material/search:", on_change=first_page)
    sort = sort_col.selectbox("Sort by", drill.SORTS, key=ctx.k("sort"), on_change=first_page,
                              format_func=lambda c: SORT_WORDS.get(c) or tables.column_words(c))
    descending = desc_col.toggle("Largest first", key=ctx.k("desc"), on_change=first_page)
    sort = sort or drill.DEFAULT_SORT
    with chooser:
        # The column sorted by is shown, chosen or not, next to the order id: a list sorted by a column out of
        # sight looks unsorted.
        columns = drill.shown_columns(column_chooser(ctx), sort)
    return search or "", sort, bool(descending), columns


def column_chooser(ctx: PageContext) -> list[str]:
    """The Columns button: which of the list's columns are shown (drill.SHOWN unless others are chosen)."""
    with st.popover("Columns", icon=":material/view_column:", width="stretch"):
        chosen = st.multiselect("Columns shown", drill.COLUMNS, key=ctx.k("cols"), format_func=tables.column_words,
                                help="The downloads hold every column, shown or not.")
    return drill.shown_columns(chosen)


def order_list(ctx: PageContext, dataset_id: str, group: drill.Group, search: str, sort: str, descending: bool,
               columns: list[str]) -> int:
    """The total, one page of the orders (in `columns`), the downloads of every order listed (every column)
    and the pager; returns the total."""
    key = ctx.k("page")
    _, total = orders(dataset_id, ctx.filters, group, search=search, sort=sort, descending=descending,
                          offset=0, limit=0)
    pages = max(1, math.ceil(total / PAGE_ROWS))
    st.session_state[key] = min(max(1, int(st.session_state.get(key) or 1)), pages)
    number = st.session_state[key]
    frame, _ = orders(dataset_id, ctx.filters, group, search=search, sort=sort, descending=descending,
                      offset=(number - 1) * PAGE_ROWS, limit=PAGE_ROWS)
    # Only text, left-aligned, right above the table: its hover toolbar (download, search, full screen) takes
    # the 44 px above the table's right end, where it covered the pager's buttons at 1280 px.
    shown = f"{(number - 1) * PAGE_ROWS + 1:,} to {(number - 1) * PAGE_ROWS + frame.height:,} of " if total else ""
    st.markdown(f"**{count(total, 'order')}**" + (f" · showing {shown}{total:,}" if pages > 1 else ""))
    if not total:
        st.info("No order here: the filters, the group or the search leave none.", icon=":material/search_off:")

    def every_order() -> pl.DataFrame:
        return orders(dataset_id, ctx.filters, group, search=search, sort=sort, descending=descending)[0]

    long_ids = bool(frame.height) and (frame["order_id"].str.len_chars().max() or 0) > drill.SHORT_ID
    # The order id stays in view when the columns chosen scroll sideways; each column is as wide as its
    # longest value, so no cell is cut, but a long id, cut to the width of a short one.
    config = {"order_id": st.column_config.Column(tables.column_words("order_id"), pinned=True, **(
        {"width": 9 * drill.SHORT_ID + 16, "help": "Cut to fit: the search and the downloads have it whole."}
        if long_ids else {}))}
    with st.container(key="orders_list"):
        downloads.table(frame, "orders", key="orders_list", height=600, download=every_order, column_order=columns,
                        column_config=config, fit=True)
    # The pager under the list, where one reads to the end of a page before turning it.
    st.columns(5)[0].number_input(f"Page (of {pages:,})", min_value=1, max_value=pages, step=1, key=key)
    return total
