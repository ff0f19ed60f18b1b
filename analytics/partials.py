"""Partials: the counts, sums and distributions every figure is finalised from, and that add up.

A figure (figures.py) is never computed from orders directly. Orders are first tallied into partials,
named quantities that add up over disjoint sets of orders:
    a count or a sum          a number (float or int); two sets' add up to their union's
    a vector                  one count or sum per label (refunds by channel); added label by label
    a Distribution            a multiset of values (business days, hours) as its distinct values and how
                              often each occurs; merged by adding the counts of equal values
Then each figure's finaliser reads the partials it needs: a ratio of two counts, a percentile of a
distribution. The report tallies the observed orders with Polars (metrics.py); the replay tallies
replayed orders with NumPy (replay.py); both end in the same finalisers, so a figure they share has
one definition. Because partials add up, the same figures can be computed in chunks, per group (a day,
a seller), or on many machines, and added before finalising; a bootstrap weights orders in the tally.

Percentiles use linear interpolation between the two nearest values (NumPy's default, and what the
pipelines ask Polars for): exact from a distribution, with no order expanded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import polars as pl


@dataclass(frozen=True, eq=False)
class Distribution:
    """Values (sorted, distinct) and how many times each occurs (weights may be non-integer counts of a
    scaled or weighted tally; the values' order statistics use their rounded total). `scale` multiplies
    the total only: a scaled tally stands for more orders of the same shape, so its percentiles stay."""

    values: np.ndarray
    counts: np.ndarray
    scale: float = 1.0

    @staticmethod
    def of(values, counts=None) -> Distribution:
        """From values (any order, repeats allowed) and optionally their counts; nulls and NaN left out."""
        v = np.asarray(values, dtype=np.float64)
        c = np.ones(len(v)) if counts is None else np.asarray(counts, dtype=np.float64)
        keep = ~np.isnan(v) & (c != 0)
        v, c = v[keep], c[keep]
        if len(v) == 0:
            return EMPTY
        uniq, inverse = np.unique(v, return_inverse=True)
        return Distribution(uniq, np.bincount(inverse, weights=c, minlength=len(uniq)))

    @staticmethod
    def dense(counts: np.ndarray) -> Distribution:
        """From a histogram of whole numbers: counts[k] = how many times k occurs."""
        counts = np.asarray(counts, dtype=np.float64)
        seen = np.flatnonzero(counts)
        return Distribution(seen.astype(np.float64), counts[seen])

    @staticmethod
    def from_polars(cell) -> Distribution:
        """From the list of {v, n} structs (value, count) that `distribution_expr` aggregates to (None: empty)."""
        if cell is None or len(cell) == 0:
            return EMPTY
        series = cell if isinstance(cell, pl.Series) else pl.Series(cell)
        return Distribution.of(series.struct.field("v").cast(pl.Float64).to_numpy(),
                               series.struct.field("n").cast(pl.Float64).to_numpy())

    def __add__(self, other: Distribution) -> Distribution:
        if not len(other.values):
            return self
        if not len(self.values):
            return other
        return Distribution.of(np.concatenate([self.values, other.values]),
                               np.concatenate([self.counts * self.scale, other.counts * other.scale]))

    def scaled(self, factor: float) -> Distribution:
        return Distribution(self.values, self.counts, self.scale * factor)

    @property
    def total(self) -> float:
        return float(self.counts.sum()) * self.scale

    def percentile(self, q: float) -> float | None:
        """The q-quantile (0 <= q <= 1), linear interpolation between order statistics; None when empty."""
        n = int(round(self.counts.sum()))
        if n == 0:
            return None
        pos = q * (n - 1)
        lo = int(np.floor(pos))
        cum = np.cumsum(self.counts)
        v_lo = self.values[int(np.searchsorted(cum, lo + 1 - 0.5))]
        v_hi = self.values[int(np.searchsorted(cum, min(lo + 2, n) - 0.5))]
        return float(v_lo + (pos - lo) * (v_hi - v_lo))

    def mean(self) -> float | None:
        n = self.counts.sum()
        return None if n == 0 else float((self.values * self.counts).sum() / n)


EMPTY = Distribution(np.zeros(0), np.zeros(0))


def distribution_expr(values: pl.Expr) -> pl.Expr:
    """A Polars aggregate: the distribution of `values` (nulls left out) as one list of structs, each a
    value `v` and its count `n` (read them by name), in ascending order of value; over a whole frame or
    inside a group_by.

    Counted run by run over the sorted values rather than by hashing each: the same values and counts
    as value_counts (NaN with NaN), about five times as fast where nearly every value differs (a
    seller's response time, to the microsecond: at 10M orders the largest part of the report's work)
    and as fast where few do (whole business days)."""
    return values.drop_nulls().sort().rle().struct.rename_fields(["n", "v"]).implode()


Partials = Mapping[str, object]   # name -> number, vector (np.ndarray) or Distribution


# --------------------------------------------------------------------------------------------------
# Finalisers: a figure's value from the partials. Each is a small function of the partials mapping;
# a value with nothing to measure (a ratio over 0, a percentile of nothing) is None, never 0 or NaN.

Finaliser = Callable[[Partials], object]


def count(name: str) -> Finaliser:
    def value(parts: Partials):
        return parts[name]
    value.partials = (name,)
    return value


def ratio(numerator: str, *denominator: str) -> Finaliser:
    """numerator / (sum of the denominators), None when that is 0."""
    def value(parts: Partials):
        den = sum(parts[d] for d in denominator)
        return None if not den else float(parts[numerator] / den)
    value.partials = (numerator, *denominator)
    return value


def percentile(name: str, q: float) -> Finaliser:
    def value(parts: Partials):
        return parts[name].percentile(q)
    value.partials = (name,)
    return value


def mean(name: str) -> Finaliser:
    def value(parts: Partials):
        return parts[name].mean()
    value.partials = (name,)
    return value


def total(name: str) -> Finaliser:
    """How many values a distribution holds (as a whole number where it is one)."""
    def value(parts: Partials):
        t = parts[name].total
        return int(t) if float(t).is_integer() else t
    value.partials = (name,)
    return value
