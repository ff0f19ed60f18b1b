"""A Parquet source cut into chunks that each join on their own, and what each chunk gives: the work
both engines share, whether the chunks are read one after another (chunked.py, on this machine) or as
Spark's tasks (spark.py, one task per chunk).

A chunk (source.Chunk) is some of the source's partition directories (a month, or a bucket of order ids
within it), or a slice by order id hash of one too large to hold: an order's request, refund and sellers
are always in its chunk, so a chunk is read and joined alone (DuckDB over its files, as a stored data set
is read) and gives partials that add up with the other chunks' to the whole's. Nothing but partials
leaves a chunk: the report's tallies, the replay's tallies, the Wide and the checks, and the calibration
sample's candidates (orders, but only those the sample may keep: about its size in all).

    plan(directory, size) -> [Chunk]                      consecutive partitions together up to `size` orders
    tasks(src, count, size) -> [Chunk]                    at least `count` chunks of at most `size` orders
    partials(directory, dataset_id, chunk, specs, filters) -> the chunk's added partials (grouped.add)
    survey(directory, dataset_id, chunk, seed, bound) -> Survey   Wide, checks, sample candidates
    calibrated(surveys, size, seed, total) -> (Wide, orders, calibration, its blocks) | None
    replayed(directory, dataset_id, chunk, wide, calibration, policies, replicates, seed) -> [Part]
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass

import polars as pl

from analytics import grouped, load, sampling, source
from analytics.filters import NO_FILTERS, Filters


def plan(directory, size: int) -> list[source.Chunk]:
    """The chunks to read a source in: consecutive partition directories together up to `size` orders,
    one with more in equal slices by order id hash (a source not partitioned is one such directory)."""
    chunks: list[source.Chunk] = []
    held: list[str] = []
    rows = 0
    for rel, n in source.partitions(directory):
        if held and rows + n > size:
            chunks.append(source.Chunk(tuple(held)))
            held, rows = [], 0
        if n > size:
            parts = math.ceil(n / size)
            chunks += [source.Chunk((rel,), parts, i) for i in range(parts)]
        else:
            held.append(rel)
            rows += n
    if held:
        chunks.append(source.Chunk(tuple(held)))
    return chunks or [source.Chunk()]


def tasks(src: source.Source, count: int | None, size: int) -> list[source.Chunk]:
    """Chunks of at most `size` orders, and at least `count` of them when asked (slicing partitions by
    order id when there are fewer): Spark's tasks."""
    total = src.dataset.orders
    if count:
        size = min(size, max(1, math.ceil(total / int(count))))
    return plan(src.directory, max(1, size))


@contextlib.contextmanager
def opened(directory, dataset_id: str, chunk: source.Chunk) -> Iterator[source.Source]:
    """The chunk opened as (part of) the data set `dataset_id`, closed after use."""
    part = source.open_source(directory, dataset_id=dataset_id, chunk=chunk)
    try:
        yield part
    finally:
        part.close()


def orders_of(part: source.Source) -> pl.DataFrame:
    """The chunk's orders, one row each with its request and refund (orders.ORDER_COLUMNS)."""
    from analytics.orders import load_orders

    return load_orders(part.con, part.dataset.id)


def partials(directory, dataset_id: str, chunk: source.Chunk, specs: list[grouped.Grouped],
             filters: Filters = NO_FILTERS) -> pl.DataFrame:
    """The specs' partials over the chunk's orders under the filters, added up (grouped.add)."""
    with opened(directory, dataset_id, chunk) as part:
        return grouped.add(grouped.tally(load.load(part.con, dataset_id, filters, grouped.reads(specs), coded=True), specs))


# ---------------------------------------------------------------------------------------------------
# The survey: one pass that gives the replay and the calibration what they need of the whole data set

@dataclass(frozen=True, eq=False)
class Survey:
    """A chunk's share of what the replay and the calibration need of the whole: its orders' Wide, the
    sampling checks' partials, and its candidates for the calibration's sample (its orders whose key is
    below the bound, with the key as `_key`; every order when there is no bound)."""

    orders: int
    wide: object
    checks: pl.DataFrame
    candidates: pl.DataFrame


def key_bound(n: int, total: int) -> str | None:
    """The candidates' bound for a sample of n of `total` orders: the sample's keys (uniform hex) are, but
    for a chance of about 1e-9, below the share n/total plus 6 standard deviations, so only orders below
    it (a few more than n) leave their chunk. As 8 hex digits, which a key compares with as text as its
    first 8 digits do as a number; None when every order is a candidate."""
    share = n / total if total else 1.0
    bound = share + 6 * math.sqrt(share * (1 - share) / max(total, 1)) + 1e-9
    return None if bound >= 1.0 else f"{min(int(bound * 16**8) + 1, 16**8 - 1):08x}"


def survey(directory, dataset_id: str, chunk: source.Chunk, seed: int, bound: str | None) -> Survey:
    """The chunk's Survey: candidates keyed as sampling.key_sql keys them for `seed`, below `bound`."""
    from analytics.replay_data import Wide

    with opened(directory, dataset_id, chunk) as part:
        frame = orders_of(part)
        below = f" WHERE {sampling.key_sql(seed)} < '{bound}'" if bound else ""
        keys = part.con.sql(f"SELECT order_id, {sampling.key_sql(seed)} AS _key FROM orders{below}").pl()
    candidates = frame.join(keys, on="order_id", how="inner")
    return Survey(frame.height, Wide.of(frame), sampling.check_partials(frame), candidates)


def calibrated(surveys: list[Survey], size: int | float | None, seed: int, total: int):
    """The chunks' surveys put together: (the data set's Wide, its orders, the calibration, its blocks).
    With `size`, the calibration is fitted on the sample of that many orders (or that share) for `seed`
    (the candidates with the smallest keys, order id breaking a tie: the sample DuckDB's sampling.sample_ids
    draws) and the blocks say so; without, on every order (the surveys' candidates, drawn with no bound)
    and the blocks are {}. None when the candidates are fewer than the sample (a chance of about 1e-9:
    survey again with no bound)."""
    from analytics import calibrate as cal
    from analytics.orders import ORDER_COLUMNS, normalise_orders
    from analytics.replay_data import Wide

    wide = Wide.merged([s.wide for s in surveys])
    orders = sum(s.orders for s in surveys)
    found = [s.candidates for s in surveys if s.candidates.height]
    candidates = pl.concat(found) if found else pl.DataFrame(schema={**ORDER_COLUMNS, "_key": pl.String})
    if size is None:
        everything = normalise_orders(candidates.drop("_key").sort("order_id"))
        return wide, orders, cal.fit(everything), {}
    n = sampling.size_of(size, total)
    if candidates.height < n:
        return None
    picked = normalise_orders(candidates.sort("_key", "order_id").head(n).drop("_key").sort("order_id"))
    checks = grouped.add(pl.concat([s.checks for s in surveys]))
    fitted, extra = sampling.fit_reported(picked, wide.data_end or None, checks, orders, seed)
    return wide, orders, fitted, extra


def surveyed(run_surveys, size: int | float | None, seed: int, total: int):
    """calibrated() over the surveys `run_surveys(bound)` gives, surveyed again with no bound in the rare
    case the first candidates fall short of the sample."""
    bound = None if size is None else key_bound(sampling.size_of(size, total), total)
    out = calibrated(run_surveys(bound), size, seed, total)
    if out is None:
        out = calibrated(run_surveys(None), size, seed, total)
    return out


def replayed(directory, dataset_id: str, chunk: source.Chunk, wide, calibration, policies, replicates: int,
             seed: int) -> list:
    """The chunk's orders replayed under every policy and replicate (replay_parts.replay_part)."""
    from analytics.replay_parts import replay_part

    with opened(directory, dataset_id, chunk) as part:
        frame = orders_of(part)
    return replay_part(frame, wide, calibration, list(policies), replicates, seed)
