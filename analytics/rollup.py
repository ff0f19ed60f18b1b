"""Partials per order day and payment method, tallied once from the orders kept in memory and added up
for the selection a page asks for.

The dashboard's commonest selections are the whole data set, a range of order dates and a few payment
methods. Each used to tally every order again (0.6 s at 10M orders with no filter). The orders' partials
add up (grouped.py), so they are tallied once per (day the order was placed, payment method), as Rill's
rollups are, and a selection of days and methods adds up its rows: the same partials, hence the same
figures, as tallying the selected orders (tests/test_rollup.py). At 10M orders the rolled-up partials
of the report hold about 0.7M rows (50 MB, beside the 1.4 GB of orders) and take one tally to make
(0.8 s).

A filter on anything else (sellers, reasons, stages, shipping methods, a request's or a refund's date)
selects orders the dimensions cannot tell apart: those selections are tallied from the orders as before.

    answers(filters) -> bool                          the selection is days of order and payment methods
    added(wide, specs, filters) -> pl.DataFrame|None  grouped.add's partials of the specs, from the rollup
"""

from __future__ import annotations

import threading
import weakref
from datetime import timedelta

import polars as pl

from analytics import grouped
from analytics import pipelines as p
from analytics.filters import Filters
from analytics.load import frames_of

DAY, METHOD = "_order_day", "payment_method"
DIMS = (DAY, METHOD)
_ANSWERED = {"start", "end", "anchor", "payment_methods"}

# id of a wide frame (frames are not hashable) -> spec -> its rolled-up long partials; gone with the frame.
_ROLLED: dict[int, dict[grouped.Grouped, pl.DataFrame]] = {}
_LOCK = threading.Lock()


def answers(filters: Filters) -> bool:
    """Whether the filters select whole (order day, payment method) cells: dates only on the order
    anchor, payment methods, nothing else."""
    if filters.anchor != "order" and (filters.start is not None or filters.end is not None):
        return False
    return all(name in _ANSWERED or not getattr(filters, name) for name in filters.__dataclass_fields__)


def rolled(wide: pl.DataFrame, specs: tuple[grouped.Grouped, ...]) -> pl.DataFrame:
    """The specs' partials per order day and payment method (grouped.tally's long frame with DIMS). A
    spec is tallied the first time any caller asks for it (those asked for together, together) and kept
    while the frame lives, so the report's tables and a page's own share theirs. Sessions asking at once
    wait for the one tally."""
    with _LOCK:
        kept = _ROLLED.get(id(wide))
        if kept is None:
            kept = _ROLLED[id(wide)] = {}
            weakref.finalize(wide, _ROLLED.pop, id(wide), None)
        missing = [s for s in specs if s not in kept]
        if missing:
            orders = wide.lazy().with_columns(pl.col("placed_at").dt.date().alias(DAY))
            long = grouped.tally(frames_of(orders), missing, DIMS)
            for spec in missing:
                kept[spec] = long.filter(pl.col("spec") == spec.name)
        if not specs:
            return grouped.tally(p.Frames(), (), DIMS)
        return pl.concat([kept[s] for s in specs], how="vertical")


def _selecting(filters: Filters) -> pl.Expr:
    """The rollup's rows of the selected days and methods, as load's filters select orders: placed on or
    after the first day and before the day after the last."""
    conds = [pl.lit(True)]
    day = pl.col(grouped.dim_column(DAY))
    if filters.start is not None:
        conds.append(day >= filters.start)
    if filters.end is not None:
        conds.append(day < filters.end + timedelta(days=1))
    if filters.payment_methods:
        conds.append(p.one_of(pl.col(grouped.dim_column(METHOD)), filters.payment_methods))
    return pl.all_horizontal([c.fill_null(False) for c in conds])


def added(wide: pl.DataFrame | None, specs, filters: Filters) -> pl.DataFrame | None:
    """The specs' partials over the orders the filters select, added up (as grouped.add of grouped.tally
    of those orders), read from the rollup; None when the orders are not in memory or the filters select
    within a (day, method) cell."""
    if wide is None or not answers(filters):
        return None
    long = rolled(wide, tuple(specs))
    kept = long.filter(_selecting(filters)).drop([grouped.dim_column(d) for d in DIMS])
    return grouped.add(kept)
