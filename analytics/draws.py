"""Common random numbers: every draw of the what-if engine is a function of (seed, replicate, order key,
what is drawn) only, so a baseline and a scenario replayed with the same (seed, replicate) share every
draw, and a difference between them is the policy's effect; the same holds however the orders are split
into chunks or partitions.

    uniforms(keys, seed, replicate, stream)     one uniform in [0, 1) per order key
    bootstrap_weights(keys, seed, replicate)    one Poisson(1) weight per order key (the Poisson bootstrap)
"""

from __future__ import annotations

import numpy as np

# Random streams: one per kind of draw, so adding a draw of one kind never moves another.
STREAM_SHIP, STREAM_RESPONSE, STREAM_ACCEPT, STREAM_REFUND, STREAM_PREMIUM, STREAM_TRANSIT = range(1, 7)
STREAM_WEIGHT, STREAM_NEVER, STREAM_SHIP_TOD = 7, 8, 9

_M64 = (1 << 64) - 1


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser on uint64 (wrapping arithmetic): a well-spread 64-bit hash."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _salt(seed: int, replicate: int, stream: int) -> np.uint64:
    # In Python integers: NumPy scalars warn on the overflow that the hash relies on.
    x = (int(seed) * 0x9E3779B97F4A7C15 + int(replicate) * 0xD1B54A32D192ED03 + stream * 0xABC98388FB8FAC03) & _M64
    for shift, mult in ((30, 0xBF58476D1CE4E5B9), (27, 0x94D049BB133111EB)):
        x = ((x ^ (x >> shift)) * mult) & _M64
    return np.uint64(x ^ (x >> 31))


def uniforms(keys: np.ndarray, seed: int, replicate: int, stream: int) -> np.ndarray:
    """One uniform in [0, 1) per order key, a function of (seed, replicate, stream, key) only."""
    bits = _mix(keys ^ _salt(seed, replicate, stream))
    return (bits >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


# Poisson(1)'s CDF at 0, 1, 2, ...: a bootstrap weight from a uniform by inverse CDF (beyond 20 the
# remaining probability is below 1e-19).
_POISSON1_CDF = np.cumsum([np.exp(-1.0) / float(np.prod(np.arange(1, k + 1))) for k in range(21)])


def bootstrap_weights(keys: np.ndarray, seed: int, replicate: int) -> np.ndarray:
    """One Poisson(1) weight per order key, a function of (seed, replicate, key) only: how many times
    the order appears in a resampled period (the Poisson bootstrap). Every policy replayed with this
    (seed, replicate) weighs each order alike, so a difference stays paired."""
    u = uniforms(keys, seed, replicate, STREAM_WEIGHT)
    return np.searchsorted(_POISSON1_CDF, u, side="right").astype(np.float64)
