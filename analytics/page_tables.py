"""What the pages compute on the report's tables before drawing them (no Streamlit): the columns that
hold the refunds' waiting times for a grouping and a starting point, the seller search, the selection's
last day, a tile's number format.

The pages only lay out; each small step between a report table and a widget is here, with a name."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import date, timedelta

import polars as pl

from analytics import drill, pipelines, report
from analytics.charts import latency_ecdf, plain
from analytics.filters import Filters

# --- Refunds --------------------------------------------------------------------------------------------

REFUND_GROUP_COLUMNS = {"payment_method": "payment_method", "channel": "refund_channel"}


@dataclass(frozen=True)
class RefundTimeColumns:
    """Where the refund tables keep the waiting times for one grouping and one starting point."""

    group: str  # the grouping column of report.refund_latency and report.refund_share_over
    p50: str    # report.refund_latency's median column
    p90: str    # ... and its 90th percentile
    days: str   # report.refund_latency_distribution's (and refund_days') column of the refunds' waiting time


def refund_time_columns(group: str, measure: str) -> RefundTimeColumns:
    """group: "payment_method" or "channel"; measure: "start" (from the refund's start) or "request"
    (from the buyer's request)."""
    prefix = "p50_from_request" if measure == "request" else "p50"
    return RefundTimeColumns(
        group=REFUND_GROUP_COLUMNS.get(group, "payment_method"),
        p50=f"{prefix}_business_days",
        p90=f"{prefix.replace('p50', 'p90')}_business_days",
        days=report.REFUND_DAYS["request" if measure == "request" else "start"][0],
    )


def refund_latency_shown(latency: pl.DataFrame, measure: str) -> list[str]:
    """The refund time table's columns the page shows: the group, then the count, mean, median and 90th
    percentile of the waiting time chosen ("start" or "request"), then the pending refunds (the download
    keeps both times)."""
    names = (["refunds", "mean_business_days", "p50_business_days", "p90_business_days"] if measure != "request"
             else ["refunds_from_request", "mean_from_request_business_days", "p50_from_request_business_days",
                   "p90_from_request_business_days"])
    group = [c for c in ("payment_method", "refund_channel") if c in latency.columns][:1]
    return [c for c in (*group, *names, "pending_refunds") if c in latency.columns]


def refund_quantiles(latency: pl.DataFrame, columns: RefundTimeColumns) -> pl.DataFrame | None:
    """The median and 90th percentile per group, as the latency chart wants them (group, p50, p90); None
    when the table has no such times (a data set with refund times but no request times)."""
    if columns.p50 not in latency.columns:
        return None
    return latency.select(columns.group, pl.col(columns.p50).alias("p50"), pl.col(columns.p90).alias("p90"))


def refund_days_counted(distribution: pl.DataFrame, columns: RefundTimeColumns) -> pl.DataFrame:
    """The refund time chart's figures as a table: per group (null: unknown) and number of business days,
    the refunds that took that long and the share of the group's refunds done within it. A few hundred
    rows where the distribution has one per refund (60,000 at 1M orders: 2 MB sent on every run).
    distribution: one row per refund, or report.refund_days' counts."""
    return (latency_ecdf(distribution, columns.group, columns.days)
            .filter(pl.col("refunds") > 0)
            .select(pl.col("key").alias(columns.group), pl.col("days").alias(columns.days),
                    pl.col("refunds").cast(pl.Int64), pl.col("done").alias("share_done")))


def refund_groups(refunds_by: pl.DataFrame, column: str) -> dict[str, drill.Group]:
    """report.refunds_by's rows as the groups of their orders (the label in the charts' words -> group),
    rows of an unknown label left out: a payment method's or a channel's refunds. The words are plain
    text from the data: the page escapes them."""
    field = "refund_channel" if column == "refund_channel" else "payment_method"
    return {plain(v): drill.Group(of="refunds", **{field: v}) for v in refunds_by[column].to_list() if v is not None}


def nothing_over_threshold(over: pl.DataFrame) -> bool:
    """report.refund_share_over has groups, but no refund in any of them took longer than the threshold."""
    return over.height > 0 and not over["over_threshold"].fill_null(0).sum()


# --- Sellers --------------------------------------------------------------------------------------------

def search_sellers(sellers: pl.DataFrame, query: str) -> pl.DataFrame:
    """The sellers whose id contains the text: a literal, case-insensitive match (the search box is text,
    not a pattern); all of them for an empty query."""
    text = query.strip().lower()
    if not text:
        return sellers
    return sellers.filter(sellers["seller_id"].str.to_lowercase().str.contains(text, literal=True))


def sellers_with_orders(sellers: pl.DataFrame, minimum: int) -> pl.DataFrame:
    """The sellers with at least `minimum` orders, ranked again from 1 in the table's order."""
    if minimum <= 1:
        return sellers
    kept = sellers.filter(pl.col("orders") >= minimum)
    return kept.with_columns(pl.int_range(1, kept.height + 1, dtype=pl.Int64).alias("rank"))


# The seller table's columns on the page, in order (the download keeps every column): narrow enough for a
# 1280 px window; the column the table is ranked by is added when it is not one of them.
SELLER_COLUMNS = ("rank", "seller_id", "orders", "acceptance_rate", "p50_response_hours", "cancelled_orders",
                  "cancellation_rate", "cancellation_rate_interval", "cancelled_gmv")


def sellers_shown(sellers: pl.DataFrame, sort: str) -> tuple[pl.DataFrame, list[str]]:
    """The seller table as the page shows it: its cancellation rate's 95% interval in one column of text
    ('9.5% – 17.3%', empty without orders), and the columns shown in order (SELLER_COLUMNS, then the
    ranking's own column when it is not among them)."""
    def pct(column: str) -> pl.Expr:
        return (pl.col(column) * 100).round(1).cast(pl.Utf8)

    shown = sellers.with_columns(
        pl.format("{}% – {}%", pct("cancellation_rate_low"), pct("cancellation_rate_high"))
        .alias("cancellation_rate_interval"))
    order = [c for c in SELLER_COLUMNS if c in shown.columns]
    if sort in shown.columns and sort not in order and sort != "cancellation_rate_low":
        order.append(sort)
    return shown, order


def selected_seller(sellers: pl.DataFrame, rows: list[int]) -> str | None:
    """The seller id of the table's selected row; None when no row is selected, the selection is past the
    table's end (the search changed it), or the row is the orders whose seller the export does not name."""
    if not rows or not 0 <= rows[0] < sellers.height:
        return None
    seller = sellers["seller_id"][rows[0]]
    return None if seller in (None, pipelines.UNKNOWN_SELLER) else seller


def seller_table_key(query: str, minimum: int, sort: str) -> str:
    """The Sellers table's widget key: one per list shown (search, minimum of orders, ranking)."""
    return "sl_table_" + hashlib.sha1(f"{query}\x00{minimum}\x00{sort}".encode()).hexdigest()[:10]


def seller_row(sellers: pl.DataFrame, seller: str | None) -> list[int]:
    """The row of `seller` in the table as shown (for ticking it when a link opens on it); [] when absent."""
    if not seller:
        return []
    found = sellers.with_row_index("_row").filter(pl.col("seller_id") == seller)["_row"]
    return [int(found[0])] if found.len() else []


# --- periods --------------------------------------------------------------------------------------------

def last_day(filters: Filters, data_end: date | None) -> date | None:
    """The selection's last day: the filters' end or the data set's last day, whichever comes first
    (periods after it are not drawn; a partial last one is dashed)."""
    days = [d for d in (data_end, filters.end) if d]
    return min(days) if days else None


def chart_days(filters: Filters, bounds: tuple[date | None, date | None]) -> dict:
    """The over-time charts' first and last days of the selection (`bounds`: the data set's first and last
    days), as their keywords."""
    return {"first_day": first_day(filters, bounds[0]), "last_day": last_day(filters, bounds[1])}


def note_days(filters: Filters, bounds: tuple[date | None, date | None]) -> dict:
    """charts.partial_note's keywords: chart_days, and whether the filters set them (not the data)."""
    return {**chart_days(filters, bounds), "selection_starts": selection_starts_late(filters, bounds[0]),
            "selection_ends": selection_ends_first(filters, bounds[1])}


def drawn_by(filters: Filters, anchor: str) -> Filters:
    """The filters as they bound a chart drawn by `anchor`'s dates (chart_days, note_days): the selection's
    last day bounds it only when the selection is of those dates. Orders placed by
    the selection's last day go on to make requests after it; a chart of requests by the day they were made
    draws them up to the data's last request, not up to the last order day."""
    if filters.anchor == anchor or filters.end is None:
        return filters
    return replace(filters, end=None)


def compared_keywords(win, drawn_to: date | None = None, dating: str | None = None) -> dict:
    """A compared chart's keywords from the comparison's window (analytics.compare.Window). `drawn_to`: the
    last day a chart drawn by another date than the selection's is drawn to (drawn_by ended no period): the
    compared orders' requests are drawn past the compared range's last day too, as far as the selection's
    are (to the day that falls on `drawn_to` once moved onto the selection's days, not past the chart's end).
    `dating`: what the ranges' days date when the chart is drawn by another date ('orders placed'), said
    in the legend and the tooltips, so that a compared request drawn after its range reads as one."""
    days = win.compared_days
    if drawn_to is not None and days is not None:
        days = (days[0], max(days[1], drawn_to - timedelta(days=win.shift_days)))
    selection_label, compared_label = win.legend_dating(dating) if dating else win.legend
    return {"shift_days": win.shift_days, "selection_label": selection_label, "compared_label": compared_label,
            "compared_days": days}


def first_day(filters: Filters, data_start: date | None) -> date | None:
    """The selection's first day: the filters' start or the data set's first day, whichever comes last (a
    first period that starts before it is partial, dashed)."""
    days = [d for d in (data_start, filters.start) if d]
    return max(days) if days else None


def selection_starts_late(filters: Filters, data_start: date | None) -> bool:
    """Whether first_day is the filters' start, after the data set's first day."""
    return filters.start is not None and data_start is not None and filters.start > data_start


def selection_ends_first(filters: Filters, data_end: date | None) -> bool:
    """Whether last_day is the filters' end, before the data set's last day (a partial last period is then
    short because the selection stops, not the data)."""
    return filters.end is not None and data_end is not None and filters.end < data_end
