"""What tests compare the product against, kept out of the product: a hand-written wide table split into
the pipelines' three frames, the filters applied in Polars (report.py applies them in SQL), and the
what-if engine with its memory switched off.

Not a test module (no test_ prefix); tests import it.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import polars as pl

from analytics import pipelines as p


def split(wide: pl.DataFrame | pl.LazyFrame) -> p.Frames:
    """pipelines.Frames from a one-row-per-order table holding pipelines.COLUMNS (has_request /
    has_refund mark the rows that have a request / a refund). Every grain holds every column, as load
    gives them: an order's row carries its request's and refund's columns (at most one of each)."""
    lf = wide.lazy()
    return p.Frames(
        orders=lf,
        requests=lf.filter(pl.col("has_request")),
        refunds=lf.filter(pl.col("has_refund")),
    )


def filter_expr(filters) -> pl.Expr:
    """An analytics.filters.Filters as one boolean expression over a frame holding the columns it tests
    (null counts as not selected): the selection report.py pushes into SQL, written a second way."""
    cond = pl.lit(True)
    time_col = pl.col(p.ANCHOR_COLUMNS[filters.anchor])
    if filters.start is not None:
        cond = cond & (time_col >= pl.lit(filters.start).cast(pl.Datetime("us")))
    if filters.end is not None:
        cond = cond & (time_col < pl.lit(filters.end + timedelta(days=1)).cast(pl.Datetime("us")))
    for field, column in (("payment_methods", "payment_method"), ("shipping_methods", "shipping_method"),
                          ("sellers", "seller_id"), ("reasons", "reason")):
        values = getattr(filters, field)
        if values:
            cond = cond & pl.col(column).is_in(list(values))
    if filters.stages:
        cond = cond & pl.coalesce("request_stage", "cancel_stage").is_in(list(filters.stages))
    return cond.fill_null(False)


class _Forgetful(dict):
    """A memo that never remembers: every lookup misses."""

    def __setitem__(self, key, value) -> None:
        pass


def without_memo(prep):
    """The same simulate.Prepared whose replays are never remembered, with no shared draws kept yet: a
    baseline and a scenario of equal policies are then two replays, not one replay read twice."""
    from analytics.simulate import new_draws

    return dataclasses.replace(prep, memo=_Forgetful(), draws=new_draws())
