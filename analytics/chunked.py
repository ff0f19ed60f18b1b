"""The local engine over a Parquet source too large to hold in memory at once: its orders read a chunk
at a time, each chunk's partials tallied as a Spark partition tallies them, and added up.

Read whole, the report holds about 180 bytes per order and the what-if engine about 500 (at 100,000,000
orders: 18 and 50 GB). Read in chunks (source.Chunk: some months, or a slice of one month's orders by
order id hash, about `size` orders at most), each step holds one chunk at a time:

    plan(src, size) -> [Chunk] | None      None: the source fits in one piece
    report(src, filters, threshold_days, chunks) -> report.report's JSON
    calibrate(src, chunks, size, seed) -> (calibration, its sample's blocks)
    simulate(src, chunks, policy_for, ...) / sweep(src, chunks, param, values, policy_for, ...)

The figures are those of the source read whole, to the last digit: the report's partials add up
(grouped.py), and the replay's draws are keyed by order (replay_parts.py), as on Spark. The calibration
needs every censored time of the orders it fits in one place, so a chunked source is fitted on a uniform
sample of its orders (sampling.py: the one DuckDB draws for the seed), DEFAULT_SAMPLE unless asked
otherwise, and the result says so, as Spark's runs do.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import polars as pl

from analytics import grouped, load, sampling, source
from analytics.filters import NO_FILTERS, Filters

# A source of more orders than this is read in chunks of about this many (a month with more is sliced
# by order id). Read whole, 10,000,000 orders cost 1.8 GB for the report and 5 GB for simulate (measured:
# BENCHMARKS.md), which a machine of 16 GB or more holds; up to there a source's figures (and its
# calibration, fitted on every order) are those of the data set stored in DuckDB, with no sample.
CHUNK_ORDERS = 10_000_000
# The calibration's sample on a chunked source when none is asked for: 1,000,000 orders fit every
# parameter with standard errors well under the intervals' width (sampling_effect in the result).
DEFAULT_SAMPLE = 1_000_000


def plan(src: source.Source, size: int = CHUNK_ORDERS) -> list[source.Chunk] | None:
    """The chunks to read a source in (consecutive months together up to `size` orders, a month with
    more in equal slices; a source not split by month, all of it in equal slices), or None when it holds
    `size` orders or fewer."""
    total = src.dataset.orders
    if total <= size:
        return None
    con = src.con.cursor()
    try:
        scan = f"read_parquet({source._quote(src.directory / 'orders')} || '/**/*.parquet', hive_partitioning = true)"
        if "month" not in {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()}:
            parts = math.ceil(total / size)
            return [source.Chunk((), parts, i) for i in range(parts)]
        months = con.execute(f"SELECT CAST(month AS VARCHAR), count(*) FROM {scan} GROUP BY 1 ORDER BY 1").fetchall()
    finally:
        con.close()
    chunks: list[source.Chunk] = []
    held: list[str] = []
    rows = 0
    for month, n in months:
        if held and rows + n > size:
            chunks.append(source.Chunk(tuple(held)))
            held, rows = [], 0
        if n > size:
            parts = math.ceil(n / size)
            chunks += [source.Chunk((month,), parts, i) for i in range(parts)]
        else:
            held.append(month)
            rows += n
    if held:
        chunks.append(source.Chunk(tuple(held)))
    return chunks


def _each(src: source.Source, chunks: list[source.Chunk]) -> Iterator[source.Source]:
    """Each chunk of the source opened in turn (as the same data set), closed before the next."""
    for chunk in chunks:
        part = source.open_source(src.directory, dataset_id=src.dataset.id, name=src.dataset.name, chunk=chunk)
        try:
            yield part
        finally:
            part.close()


def _orders(part: source.Source) -> pl.DataFrame:
    from analytics.orders import load_orders

    return load_orders(part.con, part.dataset.id)


def report(src: source.Source, filters: Filters = NO_FILTERS, *, threshold_days: float = 20,
           chunks: list[source.Chunk]) -> dict:
    """report.report's JSON for the source, its partials tallied a chunk at a time and added up."""
    from analytics import report as rp

    codes = src.currencies
    specs = rp.report_specs(len(codes) > 1)
    reads = grouped.reads(specs)
    parts = [grouped.add(grouped.tally(load.load(part.con, part.dataset.id, filters, reads), specs))
             for part in _each(src, chunks)]
    added = grouped.add(pl.concat(parts)) if parts else grouped.empty()
    return rp.finalise_report(src.dataset, filters, threshold_days, src.missing, codes, added)


def _surveyed(src: source.Source, chunks: list[source.Chunk], size: int | float | None, seed: int):
    """One pass over the chunks: the data set's Wide, its orders, the calibration's sample (its orders'
    ids drawn by DuckDB over the whole source) and the checks' partials over every order. Returns
    (Wide, orders, calibration, the sample's blocks)."""
    from analytics.replay_data import Wide

    total = src.dataset.orders
    n = sampling.size_of(DEFAULT_SAMPLE if size is None else size, total)
    ids = sampling.sample_ids(src.con, src.dataset.id, n, seed).implode()
    wides, wholes, picked = [], [], []
    orders = 0
    for part in _each(src, chunks):
        frame = _orders(part)
        orders += frame.height
        wides.append(Wide.of(frame))
        wholes.append(sampling.check_partials(frame))
        picked.append(frame.filter(pl.col("order_id").is_in(ids)))
        del frame
    wide = Wide.merged(wides)
    sample = pl.concat(picked).sort("order_id")
    fitted, extra = sampling.fit_reported(sample, wide.data_end or None, grouped.add(pl.concat(wholes)), orders, seed)
    return wide, orders, fitted, extra


def calibrate(src: source.Source, chunks: list[source.Chunk], size: int | float | None = None, seed: int = 0):
    """The calibration fitted on a sample of the source's orders (DEFAULT_SAMPLE when `size` is None):
    (calibration, sampling.fit_reported's blocks)."""
    _, _, fitted, extra = _surveyed(src, chunks, size, seed)
    return fitted, extra


def _prepared(src: source.Source, chunks: list[source.Chunk], sample: int | float | None, sample_seed: int):
    """(simulate.Prepared without orders, the sample's blocks, the summaries that replay the chunks)."""
    from analytics import simulate as sim
    from analytics.orders import ORDER_COLUMNS
    from analytics.replay_data import prepare
    from analytics.replay_parts import replay_part, summaries_of

    wide, orders, fitted, extra = _surveyed(src, chunks, sample, sample_seed)
    empty = pl.DataFrame(schema=ORDER_COLUMNS)
    prep = sim.Prepared(src.dataset.id, src.dataset.name, empty, prepare(empty, wide), fitted, src.missing)

    def summaries(prep, policies, replicates, seed):
        parts = (p for part in _each(src, chunks)
                 for p in replay_part(_orders(part), wide, prep.calibration, list(policies), replicates, seed))
        return summaries_of(parts, len(policies), replicates, orders, wide.methods)

    return prep, extra, summaries


def simulate(src: source.Source, chunks: list[source.Chunk], policy_for, *, replicates: int, seed: int = 0,
             baseline=None, calibration_sample: int | float | None = None, calibration_seed: int = 0) -> dict:
    """simulate.simulate's JSON for the source, replayed a chunk at a time. `policy_for(prepared)`: the
    scenario's Policy, checked against the data set's payment methods once they are known."""
    from analytics import simulate as sim

    prep, extra, summaries = _prepared(src, chunks, calibration_sample, calibration_seed)
    return sim.simulate(prep, policy=policy_for(prep), replicates=replicates, seed=seed, baseline=baseline,
                        summaries=summaries, fitted_on=extra)


def sweep(src: source.Source, chunks: list[source.Chunk], param: str, values, policy_for, *, replicates: int,
          seed: int = 0, calibration_sample: int | float | None = None, calibration_seed: int = 0) -> dict:
    """simulate.sweep's JSON for the source, every point's replays in one pass over the chunks."""
    from analytics import simulate as sim

    prep, extra, summaries = _prepared(src, chunks, calibration_sample, calibration_seed)
    return sim.sweep(prep, param, values, policy=policy_for(prep), replicates=replicates, seed=seed,
                     summaries=summaries, fitted_on=extra)
