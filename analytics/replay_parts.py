"""A replay run in parts: Spark's partitions (spark.py), or the chunks of months the local engine reads
from a Parquet source too large to hold at once (chunked.py).

Each part replays its own orders with the whole data set's Wide (replay_data.Wide: its last moment,
payment methods and refund channels) and calibration, and gives one Tally per (policy, replicate) and
one bootstrap-weighted Tally with its total weight. The draws and the bootstrap weights are keyed by
(seed, replicate, order), so an order draws the same in whichever part it lands, and the parts' tallies
add up to the whole's; summaries_of turns the sums into the replicates' figures, from which
simulate.simulate computes the figures and intervals exactly as on one machine.

    replay_part(frame, wide, calibration, policies, replicates, seed) -> [Part]
    summaries_of(parts, policies, replicates, orders, methods) -> what simulate's `summaries` returns
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import polars as pl

from analytics.tally import Tally, figures_of

# ((policy index, replicate, bootstrap-weighted?), its tally, the bootstrap's total weight or 0.0)
Part = tuple[tuple[int, int, bool], Tally, float]


def replay_part(frame: pl.DataFrame, wide, calibration, policies, replicates: int, seed: int) -> list[Part]:
    """One part's orders (orders.ORDER_COLUMNS, any order) replayed under every policy and replicate."""
    from analytics.orders import ORDER_COLUMNS
    from analytics.replay import _tallies, draw_base, latent, replay
    from analytics.replay_data import prepare, resample

    data = prepare(frame.select(list(ORDER_COLUMNS)).sort("order_id"), wide)
    del frame
    out: list[Part] = []
    for k in range(replicates):
        drawn = calibration.drawn(seed, k)
        base = draw_base(data, drawn)
        boot = resample(data, seed, k)
        for i, policy in enumerate(policies):
            rep = replay(data, drawn, policy, latent(data, drawn, seed, k, base))
            plain, weighted = _tallies(data, rep, boot)
            out.append(((i, k, False), plain, 0.0))
            out.append(((i, k, True), weighted, float(boot.total)))
    return out


def summaries_of(parts: Iterable[Part], policies: int, replicates: int, orders: int, methods) -> list:
    """The parts' tallies added up: per policy, (plain, bootstrap-weighted) figure name -> the replicates'
    values, as simulate's own replay gives them."""
    sums: dict = {}
    totals: dict = {}
    for key, tally, total in parts:
        sums[key] = tally if key not in sums else sums[key] + tally
        if key[2]:
            totals[key[:2]] = totals.get(key[:2], 0.0) + total
    out = []
    for i in range(policies):
        per = []
        for k in range(replicates):
            total = totals.get((i, k), 0.0)
            per.append((figures_of(sums[(i, k, False)], orders, methods),
                        figures_of(sums[(i, k, True)], orders, methods, orders / total if total > 0 else 1.0)))
        names = list(per[0][0])
        out.append(tuple({name: np.array([r[part][name] for r in per]) for name in names} for part in (0, 1)))
    return out
