"""The Overview's headline numbers and their trend, from the metrics registry. No Streamlit here.

Each headline number is a registry scalar computed over the filtered orders; its trend is the same
registry expression computed per period (day, week or month, by the selection's span), bucketed by the
filters' date anchor. The change shown beside a number follows the chosen comparison (analytics/compare.py:
the previous period, the same period a year earlier, a custom range, or none): the selection's figure on
the days compared minus the same figure, under the same filters, on the compared days; both sides on the
same number of days (a part-period is compared on as many days, and the note says so). A change is shown
only when each side has at least MIN_ORDERS orders: a change between a handful of orders is noise, so the
tile then shows no change and says why; as it does when no comparison is possible (nothing dated before).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import polars as pl

from analytics import figures, metrics, pipelines, report, rollup
from analytics.compare import PREVIOUS, Comparison, Window, window
from analytics.filters import Filters
from analytics.load import load, resident, resolve
from analytics.text import count

HEADLINE = (
    "cancellation_rate",
    "cancellation_requests",
    "refunds",
    "p50_refund_business_days_from_request",
    "p90_refund_business_days_from_request",
    "cancelled_gmv",
)
# Fewer orders than this in either compared period: no change is shown.
MIN_ORDERS = 30
VOLUME = "orders"


@dataclass(frozen=True)
class Headline:
    name: str
    label: str                         # the figure's label; `help` is its description
    help: str
    fmt: str
    value: float | int | None          # None: nothing to measure in this selection
    unavailable: str | None            # why the data set cannot support it at all
    series: tuple[float | None, ...]   # one value per period, oldest first (complete periods only)
    change: float | None               # the selection's value on the days compared minus the compared days'
    window: Window | None = None       # the days compared (None: no comparison chosen)
    counts: tuple[int, int] | None = None  # orders on the days compared: the selection's, the compared days'
    note: str | None = None            # why no change is shown, or how the days compared were trimmed

    @property
    def better(self) -> str | None:
        """Which way is good news (figures.LOWER or HIGHER; None: neither), from the figure's definition."""
        return metrics.get(self.name).figure.better


def period_for(first: date | None, last: date | None) -> str:
    """Days for a short span, weeks up to about half a year, months beyond."""
    if first is None or last is None:
        return "week"
    span = (last - first).days
    return "day" if span <= 31 else "week" if span <= 200 else "month"


def _next_start(period: str) -> pl.Expr:
    return pl.col("period").dt.offset_by(pipelines.PERIODS[period])


def per_period(frames: pipelines.Frames, names: tuple[str, ...], time_col: str, period: str) -> pl.DataFrame:
    """The named metrics' partials per `period` (its first day), each computed on its own grain's frame,
    exact (a sum as a decimal), one row per period that has data, oldest first, and one with no period
    for rows without the anchor's date: the rows add up to the selection's own partials (whole)."""
    by_grain = metrics.partial_exprs(metrics.partials_of(names), exact=True)
    parts = [getattr(frames, grain).group_by(pipelines.period_start(time_col, period).alias("period")).agg(exprs)
             for grain, exprs in by_grain.items()]
    out = parts[0]
    for part in parts[1:]:
        out = out.join(part, on="period", how="full", coalesce=True, nulls_equal=True)
    return out.sort("period", nulls_last=True).collect()


def complete(partials: pl.DataFrame, period: str, last_day: date | None, first_day: date | None = None) -> pl.DataFrame:
    """per_period's rows of complete periods: a period that runs past `last_day` (the data's or the
    selection's last day) or starts before `first_day` is incomplete and left out, as are undated rows."""
    out = partials.filter(pl.col("period").is_not_null())
    if last_day is not None:
        out = out.filter(_next_start(period) <= pl.lit(last_day + timedelta(days=1)))
    if first_day is not None:
        out = out.filter(pl.col("period") >= pl.lit(first_day))
    return _with_empty_periods(out, period)


def _with_empty_periods(partials: pl.DataFrame, period: str) -> pl.DataFrame:
    """The rows with a row of nothing (no orders: counts and sums 0, distributions empty) for each period
    between the first and the last that has none, so a trend keeps its periods apart: a shop's week with no
    orders is a week at 0, not left out."""
    if partials.height < 2:
        return partials
    every = pipelines.every_period(partials.lazy(), period).collect()
    if every.height == partials.height:
        return partials
    filled = every.join(partials, on="period", how="left")
    return filled.with_columns(
        pl.col(name).fill_null(pl.lit([], dtype=dtype) if isinstance(dtype, pl.List) else pl.lit(0).cast(dtype))
        for name, dtype in partials.schema.items() if name != "period")


def whole(partials: pl.DataFrame) -> pl.DataFrame:
    """per_period's rows added up into the selection's one row of partials: counts and sums added, a
    distribution's counts added value by value (the selection's own, without another pass over its rows)."""
    columns = []
    for name in partials.columns:
        if name == "period":
            continue
        if metrics.PARTIALS[name].distribution:
            runs = partials.select(pl.col(name).explode()).unnest(name).drop_nulls("n")
            columns.append(runs.group_by("v").agg(pl.col("n").sum()).sort("v")
                           .select(pl.struct("n", "v").implode().alias(name)))
        else:
            columns.append(partials.select(pl.col(name).sum()))
    return pl.concat(columns, how="horizontal")


def finalise(partials: pl.DataFrame, names: tuple[str, ...]) -> pl.DataFrame:
    """`per_period`'s partials finalised: one column per metric, one row per period (few rows)."""
    rows = [{"period": partials["period"][i], **metrics.finalise_row(partials, names, i)} for i in range(partials.height)]
    if not rows:
        return pl.DataFrame(schema={"period": partials.schema["period"], **{n: pl.Float64 for n in names}})
    return pl.DataFrame(rows, infer_schema_length=None)


def _counts_note(counts: tuple[int, int], win: Window) -> str | None:
    """Why no change is shown when a side has too few orders, else None."""
    if min(counts) >= MIN_ORDERS:
        return None
    return (f"No change shown: the days compared have {_orders(counts[0])} in the selection "
            f"({win.selection_label}) and {counts[1]:,} in {win.label}; a change needs at least {MIN_ORDERS} in each.")


def _orders(n: int) -> str:
    """'1 order', '529 orders'."""
    return count(n, "order")


def compute(con: duckdb.DuckDBPyConnection, dataset_id: str, filters: Filters,
            bounds: tuple[date | None, date | None],
            comparison: Comparison = PREVIOUS, *, scalars=None,
            tiles: tuple[str, ...] = HEADLINE) -> tuple[list[Headline], str]:
    """The headline numbers of a data set under filters (`tiles`: the figures' names, the Overview's by
    default), with their per-period series and their change against `comparison`; and the period used. bounds: the data set's first and last day for the filters'
    anchor. `scalars(filters, names)`: where the numbers are computed instead of `con`'s orders (an
    external source on Spark: external.scalars), with no per-period series."""
    dataset = resolve(con, dataset_id)   # looked up once, not by each call below
    unavailable = report.unavailable(con, dataset)
    codes = report.currencies(con, dataset)
    names = tuple(n for n in tiles if n not in unavailable)
    time_col = pipelines.ANCHOR_COLUMNS[filters.anchor]
    first = filters.start or bounds[0]
    last = filters.end or bounds[1]
    period = period_for(first, last)
    total_row: dict = {}
    series = pl.DataFrame()
    per = tuple(dict.fromkeys((*names, VOLUME)))
    if names and scalars is not None:
        total_row = scalars(filters, per)
    elif names:
        reads: dict[str, set[str]] = {}
        for name in per:
            for grain, columns in metrics.get(name).reads.items():
                reads.setdefault(grain, {time_col}).update(columns)
        partials = rollup.trend(resident(con, dataset), filters, metrics.partials_of(per), period)
        if partials is None:
            partials = per_period(load(con, dataset, filters, reads), per, time_col, period)
        total_row = metrics.finalise_row(whole(partials), per)
        series = finalise(complete(partials, period, last, first), per)
    win = window(comparison, filters, bounds)
    current: dict = {}
    before: dict = {}
    counts = None
    note = win.note if win is not None else None
    if win is not None and win.possible and names:
        selected = win.selection_filters(filters)
        scalars = scalars or (lambda f, n: report.scalars(con, dataset, f, n))
        current = total_row if selected == filters else scalars(selected, per)
        before = scalars(win.compared_filters(filters), per)
        counts = (int(current.get(VOLUME) or 0), int(before.get(VOLUME) or 0))
        note = _counts_note(counts, win) or win.note
    show = counts is not None and min(counts) >= MIN_ORDERS
    out = []
    for name in tiles:
        metric = metrics.get(name)
        fmt = report.money_format(codes, metric.fmt) if metric.unit == "currency" else metric.fmt
        fmt += figures.UNITS[metric.unit].tile_suffix
        if name in unavailable:
            out.append(Headline(name, metric.figure.label, metric.description, fmt, None, unavailable[name], (), None))
            continue
        values = tuple(series[name].to_list()) if series.height else ()
        change = None
        if show and current.get(name) is not None and before.get(name) is not None:
            change = current[name] - before[name]
        out.append(Headline(name, metric.figure.label, metric.description, fmt, total_row.get(name),
                            None, values, change, win, counts, note))
    return out, period
