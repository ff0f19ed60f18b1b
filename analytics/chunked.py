"""The local engine over a Parquet source too large to hold in memory at once: its orders read a chunk
at a time, each chunk's partials tallied as a Spark task tallies them (slices.py), and added up.

Read whole, the report holds about 110 bytes per order and the what-if engine about 500 (at 100,000,000
orders: 11 and 50 GB). Read in chunks (source.Chunk: some of its partitions (months, or buckets of order
ids within a month), or a slice by order id hash of one too large, about `size` orders at most), each
step holds one chunk at a time:

    plan(src, size) -> [Chunk] | None      None: the source fits in one piece
    report(src, filters, threshold_days, chunks) -> report.report's JSON
    calibrate(src, chunks, size, seed) -> (calibration, its sample's blocks)
    simulate(src, chunks, policy_for, ...) / sweep(src, chunks, param, values, policy_for, ...)

The figures are those of the source read whole, to the last digit: the report's partials add up
(grouped.py), and the replay's draws are keyed by order (replay_parts.py), as on Spark. The calibration
needs every censored time of the orders it fits in one place, so a chunked source is fitted on a uniform
sample of its orders (sampling.py: the one DuckDB draws for the seed, drawn a chunk at a time), DEFAULT_SAMPLE unless asked
otherwise, and the result says so, as Spark's runs do.
"""

from __future__ import annotations

import polars as pl

from analytics import grouped, slices, source
from analytics.filters import NO_FILTERS, Filters

# A source of more orders than this is read in chunks of about this many (a month with more is sliced
# by order id). Read whole, 10,000,000 orders cost 1.1 GB for the report and 5 GB for simulate (measured:
# BENCHMARKS.md), which a machine of 16 GB or more holds; up to there a source's figures (and its
# calibration, fitted on every order) are those of the data set stored in DuckDB, with no sample.
CHUNK_ORDERS = 10_000_000
# The calibration's sample on a chunked source when none is asked for: 1,000,000 orders fit every
# parameter with standard errors well under the intervals' width (sampling_effect in the result).
DEFAULT_SAMPLE = 1_000_000


def calibration_sample(src: source.Source, size: int | float | None) -> int | float | None:
    """The sample a source's calibration is fitted on, on either engine: `size` when asked; else
    DEFAULT_SAMPLE for a source too large to read whole, None (every order) for one that is not."""
    if size is not None:
        return size
    return DEFAULT_SAMPLE if src.dataset.orders > CHUNK_ORDERS else None


def plan(src: source.Source, size: int = CHUNK_ORDERS) -> list[source.Chunk] | None:
    """The chunks to read a source in (slices.plan: its partitions together up to `size` orders, one
    with more in slices), or None when it holds `size` orders or fewer."""
    if src.dataset.orders <= size:
        return None
    return slices.plan(src.directory, size)


def report(src: source.Source, filters: Filters = NO_FILTERS, *, threshold_days: float = 20,
           chunks: list[source.Chunk]) -> dict:
    """report.report's JSON for the source, its partials tallied a chunk at a time and added up."""
    from analytics import report as rp

    codes = src.currencies
    specs = rp.report_specs(len(codes) > 1)
    parts = [slices.partials(src.directory, src.dataset.id, chunk, specs, filters) for chunk in chunks]
    added = grouped.add(pl.concat(parts)) if parts else grouped.empty()
    return rp.finalise_report(src.dataset, filters, threshold_days, src.missing, codes, added)


def _surveyed(src: source.Source, chunks: list[source.Chunk], size: int | float | None, seed: int):
    """One pass over the chunks (slices.survey): the data set's Wide, its orders, the calibration fitted
    on the sample (DEFAULT_SAMPLE when `size` is None) and the sample's blocks."""
    def run(bound):
        return [slices.survey(src.directory, src.dataset.id, chunk, seed, bound) for chunk in chunks]

    return slices.surveyed(run, DEFAULT_SAMPLE if size is None else size, seed, src.dataset.orders)


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
    from analytics.replay_parts import summaries_of

    wide, orders, fitted, extra = _surveyed(src, chunks, sample, sample_seed)
    empty = pl.DataFrame(schema=ORDER_COLUMNS)
    prep = sim.Prepared(src.dataset.id, src.dataset.name, empty, prepare(empty, wide), fitted, src.missing)

    def summaries(prep, policies, replicates, seed):
        parts = (p for chunk in chunks
                 for p in slices.replayed(src.directory, src.dataset.id, chunk, wide, prep.calibration, policies,
                                          replicates, seed))
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
