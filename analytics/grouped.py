"""Partials per group, tallied chunk by chunk and added up.

A table of the report (volume by payment method, reasons, refund time by payment method, money by
currency) and its headline numbers are partials per group: counts, exact sums and distributions
(partials.py) of the metrics registry's own aggregates (metrics.PARTIALS), one set per value of a
column (a payment method, a reason) or one set for the whole selection. Any chunk of the orders (the
whole selection on one machine, one Arrow batch of a Spark partition) is tallied by the same function
into one long frame; chunks' frames add up by concatenation and one group_by, whatever the split; the
added partials are read back per group and finalised by the catalogue (figures.py). So one machine
and many give the same figures: a count is an integer, a sum an exact decimal, a distribution its
values with their counts.

    Grouped(name, grain, by, partials)   one table of partials: one group per value of `by` (None: one;
                                          several columns: per combination, its key their values as JSON)
    tally(frames, specs) -> pl.DataFrame  a chunk's partials, long (LONG_SCHEMA): spec, key, partial, v, n, s
                                          (with `dims`, per value of those columns too: rollup.py)
    add(long) -> pl.DataFrame             chunks' partials added up (adding an added frame changes nothing)
    read(added, spec) -> {key: Partials}  one spec's added partials per group, as numbers and Distributions
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from analytics import metrics as m
from analytics import partials as pt
from analytics import pipelines as p

# One row per (spec, group key, partial) and, for a distribution, per distinct value: a count in n, a
# sum in s (exact decimal), a distribution as its values v with their counts n.
LONG_SCHEMA: dict[str, pl.DataType] = {
    "spec": pl.String, "key": pl.String, "partial": pl.String, "v": pl.Float64, "n": pl.Int64, "s": p.EXACT,
}
_GROUP = ["spec", "key", "partial", "v"]


@dataclass(frozen=True)
class Grouped:
    """The named partials of one grain's frame, per value of the column `by` (None: the whole frame; a
    tuple of columns: per combination of their values, read back with `values`)."""

    name: str
    grain: str
    by: str | tuple[str, ...] | None
    partials: tuple[str, ...]

    def __post_init__(self):
        wrong = [n for n in self.partials if m.PARTIALS[n].grain != self.grain]
        if wrong:
            raise ValueError(f"partials {wrong} are not of the {self.grain} grain")

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns of the grain's frame this spec reads."""
        cols = {c for n in self.partials for c in m.PARTIALS[n].columns}
        by = {self.by} if isinstance(self.by, str) else set(self.by or ())
        return tuple(sorted(cols | by))

    def values(self, key: str) -> dict[str, object]:
        """A group key of a spec by several columns as those columns' values."""
        return dict(zip(self.by, json.loads(key).values(), strict=True))


def scalar_specs(names: Iterable[str]) -> list[Grouped]:
    """One whole-frame spec per grain holding the partials the named registry scalars are finalised from."""
    by_grain: dict[str, list[str]] = {}
    for name in m.partials_of(names):
        by_grain.setdefault(m.PARTIALS[name].grain, []).append(name)
    return [Grouped(f"scalars.{g}", g, None, tuple(ps)) for g, ps in by_grain.items()]


def reads(specs: Iterable[Grouped]) -> dict[str, tuple[str, ...]]:
    """grain -> the columns the specs read from it (for load.load)."""
    out: dict[str, set[str]] = {}
    for spec in specs:
        out.setdefault(spec.grain, set()).update(spec.columns)
    return {g: tuple(sorted(c)) for g, c in out.items()}


def dim_column(dim: str) -> str:
    """The long frame's column holding the value of a dimension tallied apart (tally's `dims`)."""
    return f"dim:{dim}"


def _aggregate(frame: pl.LazyFrame, spec: Grouped, dims: tuple[str, ...] = ()) -> pl.LazyFrame:
    exprs = [m.partial_expr(n, exact=True) for n in spec.partials]
    kept = [pl.col(d).alias(dim_column(d)) for d in dims]
    if spec.by is None:
        if not dims:
            return frame.select(pl.lit(None, pl.String).alias("key"), *exprs)
        return frame.group_by(*dims).agg(exprs).select(*kept, pl.lit(None, pl.String).alias("key"), *spec.partials)
    # The groups are found on the columns as they are and only the groups' keys made text: a key made
    # for every row (a cast, even of text to text, or an encoding) costs as much as the grouping again.
    by = spec.by if isinstance(spec.by, tuple) else (spec.by,)
    groups = frame.group_by(*dict.fromkeys((*dims, *by))).agg(exprs)
    # Several columns: nulls stay nulls in the key's JSON, so a key never confuses a missing value with a label.
    key = (pl.struct(*(pl.col(c).cast(pl.String) for c in by)).struct.json_encode() if isinstance(spec.by, tuple)
           else pl.col(spec.by).cast(pl.String))
    return groups.select(*kept, key.alias("key"), *(pl.col(n) for n in spec.partials))


def _long(agg: pl.DataFrame, spec: Grouped, dims: tuple[str, ...] = ()) -> list[pl.DataFrame]:
    out = []
    kept = [dim_column(d) for d in dims]
    for name in spec.partials:
        kind = m.PARTIALS[name].kind
        head = [*kept, pl.lit(spec.name).alias("spec"), pl.col("key"), pl.lit(name).alias("partial")]
        if kind == "distribution":
            rows = (agg.select(*kept, "key", pl.col(name)).explode(name).unnest(name)
                    .filter(pl.col("n").is_not_null())
                    .select(*head, pl.col("v").cast(pl.Float64), pl.col("n").cast(pl.Int64),
                            pl.lit(None, p.EXACT).alias("s")))
        elif kind == "sum":
            rows = agg.select(*head, pl.lit(None, pl.Float64).alias("v"), pl.lit(None, pl.Int64).alias("n"),
                              pl.col(name).cast(p.EXACT).alias("s"))
        else:
            rows = agg.select(*head, pl.lit(None, pl.Float64).alias("v"), pl.col(name).cast(pl.Int64).alias("n"),
                              pl.lit(None, p.EXACT).alias("s"))
        out.append(rows)
    return out


def empty() -> pl.DataFrame:
    return pl.DataFrame(schema=LONG_SCHEMA)


def tally(frames: p.Frames, specs: Iterable[Grouped], dims: tuple[str, ...] = ()) -> pl.DataFrame:
    """One chunk's partials, long: every spec's aggregate over its grain's frame, collected together. A
    whole-frame spec's partial that a spec by groups of the same grain also tallies is not aggregated
    again: its rows are that spec's groups' rows, under the whole's name and no key, which add up
    (add) to the whole's, a distribution value by value (every row is in one group, nulls in theirs).
    With `dims` (columns of every grain's frame), each spec's partials are tallied per value of those
    columns too, kept in columns of their own (dim_column): rows of a selection of their values, the
    dimension columns dropped, add up to that selection's partials."""
    specs = list(specs)
    taken = _taken_from_groups(specs)
    own = [s if s.name not in taken else Grouped(s.name, s.grain, s.by, tuple(n for n in s.partials if n not in taken[s.name][1]))
           for s in specs]
    own = [s for s in own if s.partials]
    aggs = pl.collect_all([_aggregate(getattr(frames, s.grain), s, dims) for s in own])
    long = {(spec.name, name): rows for agg, spec in zip(aggs, own, strict=True)
            for name, rows in zip(spec.partials, _long(agg, spec, dims), strict=True)}
    for whole, (source, partials) in taken.items():
        for name in partials:
            long[whole, name] = long[source, name].with_columns(pl.lit(whole).alias("spec"),
                                                                pl.lit(None, pl.String).alias("key"))
    if not long:
        return empty() if not dims else empty().select(*(pl.lit(None).alias(dim_column(d)) for d in dims), pl.all())
    return pl.concat(list(long.values()), how="vertical")


def _taken_from_groups(specs: list[Grouped]) -> dict[str, tuple[str, set[str]]]:
    """Whole-frame spec name -> (the spec by groups of its grain sharing most of its partials, those
    partials)."""
    out: dict[str, tuple[str, set[str]]] = {}
    for whole in (s for s in specs if s.by is None):
        for by in (s for s in specs if s.by is not None and s.grain == whole.grain):
            shared = set(whole.partials) & set(by.partials)
            if len(shared) > len(out.get(whole.name, ("", set()))[1]):
                out[whole.name] = (by.name, shared)
    return out


def add(long: pl.DataFrame | Iterable[pl.DataFrame]) -> pl.DataFrame:
    """Chunks' partials added up: counts and sums added, a distribution's counts added value by value."""
    frame = long if isinstance(long, pl.DataFrame) else pl.concat([empty(), *long], how="vertical")
    # One lazy plan: at 10M orders under a stage, ~200,000 rows (a seller's response times) are added in
    # 0.05 s, where the eager group_by and then sort took 0.13 s, most of it the sort.
    return (frame.lazy().group_by(_GROUP).agg(pl.col("n").sum(), pl.col("s").sum())
            .sort(_GROUP, nulls_last=False).collect())


_NONE = pl.DataFrame(schema=LONG_SCHEMA)   # no row of a partial


def read(added: pl.DataFrame, spec: Grouped) -> dict[str | None, dict[str, object]]:
    """Per group key (None for a whole-frame spec), the spec's partials: a count as an int, a sum as a
    float (the exact decimal rounded once), a distribution as a partials.Distribution. A group with no
    value of a distribution gets an empty one. A whole-frame spec always has its one group."""
    rows = added.filter(pl.col("spec") == spec.name)
    keys = list(dict.fromkeys(rows["key"].to_list()))
    if spec.by is None and not keys:
        keys = [None]
    # One pass into (key, partial) parts, rather than a filter for each (a page's tiles read ~80 of them).
    found = rows.partition_by("key", "partial", as_dict=True, maintain_order=True) if rows.height else {}
    out: dict[str | None, dict[str, object]] = {}
    for key in keys:
        parts: dict[str, object] = {}
        for name in spec.partials:
            these = found.get((key, name), _NONE)
            kind = m.PARTIALS[name].kind
            if kind == "distribution":
                parts[name] = pt.Distribution.of(these["v"].to_numpy(), these["n"].cast(pl.Float64).to_numpy())
            elif kind == "sum":
                parts[name] = float(these["s"][0]) if these.height and these["s"][0] is not None else 0.0
            else:
                parts[name] = int(these["n"][0]) if these.height and these["n"][0] is not None else 0
        out[key] = parts
    return out


def over(dist: pt.Distribution, threshold: float) -> int:
    """How many values of a distribution are strictly above the threshold."""
    return int(round(float(dist.counts[dist.values > threshold].sum()))) if len(dist.values) else 0


def whole(dist: pt.Distribution) -> int:
    """A distribution's count of values, as an int."""
    return int(round(dist.total))


def ranked(rows: list[dict], count: str, key: str, nulls_last: bool = True) -> list[dict]:
    """Rows by `count` descending, then `key` ascending (None last, or first), as the pipelines sort."""
    def sort_key(row):
        k = row[key]
        return (-row[count], (k is None) == nulls_last, "" if k is None else k)
    return sorted(rows, key=sort_key)


def by_key(rows: list[dict], key: str) -> list[dict]:
    """Rows by `key` ascending, None last."""
    return sorted(rows, key=lambda row: (row[key] is None, "" if row[key] is None else row[key]))

