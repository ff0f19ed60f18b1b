"""Partials per order day, payment method and stage, tallied once from the orders kept in memory and added
up for the selection a page asks for.

The dashboard's commonest selections are the whole data set, a range of order dates, a few payment
methods or stages. Each used to tally every order again (0.6 s at 10M orders with no filter, 0.55 s
under a stage). The orders' partials add up (grouped.py), so they are tallied once per cell of the
dimensions, as Rill's rollups are, and a selection adds up the rows of its cells: the same partials,
hence the same figures, as tallying the selected orders (tests/test_rollup.py).

A stage selects an order by its request's stage, else by its cancellation's (load's filters), and a
request by its own stage: so both stages are dimensions. Cells are few beside the orders (an order
without a request has no request stage): at 10M orders the rolled-up partials of the report and the
pages' tables hold 1.5M rows (150 MB, beside the 1.4 GB of orders; counted with them against the limit
of orders kept in memory), tallied on the first visit: the report's in 2.1 s (1.7 s by day and method
alone), the pages' tables' in 1.1 s more.

A filter on anything else (sellers, reasons, shipping methods, a request's or a refund's date) selects
orders the dimensions cannot tell apart: those selections are tallied from the orders as before. (The
requests' reason as a dimension too made a reason's selection 0.33 -> 0.18 s at 10M orders, but made
1.6 times the rows at 10M and 2.6 times at 1M, where the rollup then held a row per order.)

    answers(filters) -> bool                          the selection is days of order, payment methods, stages
    added(wide, specs, filters) -> pl.DataFrame|None  grouped.add's partials of the specs, from the rollup
    selected(wide, specs, filters)                    the rollup's rows of the selected cells, per cell
    per_period(rows, partials, period) -> pl.DataFrame  those rows' partials per period (a trend, a series)
    trend(wide, filters, partials, period)            the selection's scalar partials per period of the order date
"""

from __future__ import annotations

import threading
from datetime import timedelta

import polars as pl

from analytics import grouped, load
from analytics import metrics as m
from analytics import pipelines as p
from analytics.filters import Filters

DAY, METHOD = "_order_day", "payment_method"
REQUEST_STAGE, CANCEL_STAGE = "request_stage", "cancel_stage"
DIMS = (DAY, METHOD, REQUEST_STAGE, CANCEL_STAGE)
_ANSWERED = {"start", "end", "anchor", "payment_methods", "stages"}
# Every registry scalar's partials, whole-frame per grain: one rollup for whichever scalars a page asks for
# (report.scalars) and for their trend per period (headline.py).
EVERY_SCALAR = tuple(grouped.scalar_specs(m.SCALARS))

_LOCK = threading.Lock()


def answers(filters: Filters) -> bool:
    """Whether the filters select whole cells of the dimensions: dates only on the order anchor, payment
    methods, stages, nothing else."""
    if filters.anchor != "order" and (filters.start is not None or filters.end is not None):
        return False
    return all(name in _ANSWERED or not getattr(filters, name) for name in filters.__dataclass_fields__)


def rolled(wide: pl.DataFrame, specs: tuple[grouped.Grouped, ...]) -> pl.DataFrame:
    """The specs' partials per cell of the dimensions (grouped.tally's long frame with DIMS). A
    spec is tallied the first time any caller asks for it (those asked for together, together) and kept
    while the frame lives, so the report's tables and a page's own share theirs. Sessions asking at once
    wait for the one tally."""
    with _LOCK:
        kept = kept_for(wide)
        missing = [s for s in specs if s not in kept]
        if missing:
            # A frame without stages (no request, no cancellation known) has them all null.
            orders = wide.lazy().with_columns(pl.col("placed_at").dt.date().alias(DAY),
                                              *(pl.lit(None, pl.String).alias(c)
                                                for c in (REQUEST_STAGE, CANCEL_STAGE) if c not in wide.columns))
            long = grouped.tally(load.frames_of(orders), missing, DIMS)
            for spec in missing:
                kept[spec] = long.filter(pl.col("spec") == spec.name).rechunk()
        if not specs:
            return grouped.tally(p.Frames(), (), DIMS)
        return pl.concat([kept[s] for s in specs], how="vertical")


def kept_for(wide: pl.DataFrame) -> dict[grouped.Grouped, pl.DataFrame]:
    """spec -> its rolled-up partials, for the frame: kept with it and counted in its bytes (load.derived)."""
    return load.derived(wide).setdefault("rollup", {})


def _selecting(filters: Filters, specs) -> list[pl.Expr]:
    """The conditions on the rollup's rows of the selected days, methods and stages, as load's filters
    select orders: placed on or after the first day and before the day after the last; of a stage as
    load.stage_selects has it, a row of a spec of the requests grain being a request's."""
    conds = []
    day = pl.col(grouped.dim_column(DAY))
    if filters.start is not None:
        conds.append(day >= filters.start)
    if filters.end is not None:
        conds.append(day < filters.end + timedelta(days=1))
    if filters.payment_methods:
        conds.append(p.one_of(pl.col(grouped.dim_column(METHOD)), filters.payment_methods))
    if filters.stages:
        of_requests = pl.col("spec").is_in([s.name for s in specs if s.grain == "requests"])
        conds.append(load.stage_selects(filters.stages, pl.col(grouped.dim_column(REQUEST_STAGE)),
                                        pl.col(grouped.dim_column(CANCEL_STAGE)), by_cancellation=~of_requests))
    return [c.fill_null(False) for c in conds]


def selected(wide: pl.DataFrame | None, specs, filters: Filters, partials=None) -> pl.DataFrame | None:
    """The rollup's rows of the specs in the cells the filters select (only those of the
    named `partials`, if given), not yet added up: the dimensions in their columns (grouped.dim_column).
    None when the orders are not in memory or the filters select within a cell."""
    if wide is None or not answers(filters):
        return None
    specs = tuple(specs)
    conds = _selecting(filters, specs)
    if partials is not None:
        conds.append(pl.col("partial").is_in(list(partials)))
    rows = rolled(wide, specs)
    # No condition: the rows as they are (a frame filtered by a literal true is refused by Polars when
    # it is in several chunks).
    return rows.filter(*conds) if conds else rows


def added(wide: pl.DataFrame | None, specs, filters: Filters, partials=None) -> pl.DataFrame | None:
    """The specs' partials over the orders the filters select, added up (as grouped.add of grouped.tally
    of those orders), read from the rollup; None where `selected` is. With `partials`, only those: a
    scalar needs a few, and a distribution of response times holds a row per answered request."""
    rows = selected(wide, specs, filters, partials)
    return None if rows is None else grouped.add(rows.drop([grouped.dim_column(d) for d in DIMS]))


def per_period(rows: pl.DataFrame, partials, period: str) -> pl.DataFrame:
    """The named partials per period of the order day (headline.per_period's frame on the order anchor:
    one row per period with orders, oldest first; a count or an exact sum per column, a distribution as
    its list of {n, v}) from `selected`'s rows of specs holding them (as EVERY_SCALAR does, each partial
    in one spec): each day's partials added into its period's."""
    partials = list(partials)
    day = grouped.dim_column(DAY)
    added = (rows.filter(pl.col("partial").is_in(partials))
             .group_by(p.period_start(day, period).alias("period"), "partial", "v")
             .agg(pl.col("n").sum(), pl.col("s").sum()))
    columns = []
    for name in partials:
        mine = added.filter(pl.col("partial") == name)
        kind = m.PARTIALS[name].kind
        if kind == "distribution":
            columns.append(mine.sort("v").group_by("period", maintain_order=True).agg(pl.struct("n", "v").alias(name)))
        else:
            columns.append(mine.select("period", pl.col("s" if kind == "sum" else "n").alias(name)))
    out = columns[0]
    for column in columns[1:]:
        out = out.join(column, on="period", how="full", coalesce=True)
    return out.sort("period")


def trend(wide: pl.DataFrame | None, filters: Filters, partials, period: str) -> pl.DataFrame | None:
    """The named partials of EVERY_SCALAR per period of the order date over the selection (per_period's
    frame); None when the orders are not in memory, the rollup cannot answer the filters, or the filters
    date orders by a request or a refund (whose periods are not the order's day's)."""
    if filters.anchor != "order":
        return None
    partials = list(partials)
    rows = selected(wide, EVERY_SCALAR, filters, partials)
    return None if rows is None else per_period(rows, partials, period)
