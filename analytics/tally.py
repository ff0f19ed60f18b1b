"""A replay's tally: the partials of a set of orders (partials.py) as NumPy arrays, fast to add up and
to weight, and the what-if figures finalised from them by the catalogue (figures.py), with the same
finalisers as the report's. Two disjoint sets' tallies add up to their union's: the orders a policy
recomputes are tallied afresh and added to the kept tally of the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analytics import figures as fig
from analytics import partials as pt
from analytics.outcomes import REFUND_CHANNELS

# Outcome of each order's request in a replay: the domain's outcomes (outcomes.py) plus what a policy
# can add. 'none' = the order has no request.
OUTCOMES = (
    "none", "buyer_cancelled", "accepted", "rejected", "auto_cancelled", "lapsed", "not_cancellable", "unknown",
    "cancelled_without_consent",  # consent off: cancelled the moment it was asked
    "dispatch_cancelled",         # pending when the dispatch deadline cancelled the order
    "not_made",                   # the order was already cancelled for late dispatch when the buyer would have asked
)
CODE = {name: np.int8(i) for i, name in enumerate(OUTCOMES)}

SCALARS = ("cancelled_orders", "cancelled_gmv", "return_path_orders", "dispatch_cancelled_orders", "refunds",
           "shipped_orders", "premium_orders")


@dataclass(frozen=True, eq=False)
class Tally:
    """Additive figures of a set of orders: two disjoint sets' tallies add up to their union's.
    Percentiles are read from the histograms at the end, so they need no pass over the orders."""

    scalars: np.ndarray          # by SCALARS
    outcomes: np.ndarray         # requests by outcome code
    channel_counts: np.ndarray   # refunds by REFUND_CHANNELS
    channel_amounts: np.ndarray
    wait: np.ndarray             # (payment method, business days) -> refunds after a request
    transit: np.ndarray          # business days -> shipped orders

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.scalars + other.scalars, self.outcomes + other.outcomes,
                     self.channel_counts + other.channel_counts, self.channel_amounts + other.channel_amounts,
                     _pad_add(self.wait, other.wait), _pad_add(self.transit, other.transit))

    def __neg__(self) -> Tally:
        return Tally(-self.scalars, -self.outcomes, -self.channel_counts, -self.channel_amounts, -self.wait,
                     -self.transit)


def _pad_add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a + b, the shorter one padded with zeros on its last axis (histograms of different lengths)."""
    if a.shape == b.shape:
        return a + b
    if a.shape[-1] < b.shape[-1]:
        a, b = b, a
    out = a.astype(np.result_type(a, b), copy=True)
    out[..., :b.shape[-1]] += b
    return out


def tally_of(n_methods: int, *, weights: np.ndarray | None = None, **orders) -> Tally:
    """The tally of these orders; with `weights`, each order counts that many times (a bootstrap).
    The orders' columns as in tallies_of."""
    return tallies_of(n_methods, weightings=(weights,), **orders)[0]


def tallies_of(n_methods: int, *, cancelled, amount, outcome, return_path, dispatch, refunded, channel, refund_amount,
               wait_method, wait_days, shipped, ship_method, transit,
               weightings: tuple[np.ndarray | None, ...]) -> list[Tally]:
    """The tally of these orders once per weighting (None: each order once), sharing the selections."""
    premium = shipped & (ship_method == 1)
    known = refunded & (channel >= 0)
    ch = channel[known].astype(np.int64)
    has = wait_days >= 0
    w = wait_days[has]
    top = int(w.max()) + 1 if len(w) else 1
    wait_code = wait_method[has].astype(np.int64) * top + w
    sel = shipped & (ship_method >= 0) & (transit >= 0)
    tr = transit[sel]
    gmv, paid_back = amount[cancelled], refund_amount[known]
    # The counting masks as the bits of one code per order: one pass counts (or weighs) them all.
    masks = (cancelled, return_path, dispatch, refunded, shipped, premium)
    code = np.zeros(len(cancelled), dtype=np.uint8)
    for bit, mask in enumerate(masks):
        code |= mask.view(np.uint8) << np.uint8(bit)
    out = []
    for wt in weightings:
        by_code = np.bincount(code, weights=wt, minlength=1 << len(masks)).astype(np.float64)
        counted = by_code @ _BITS
        if wt is None:
            amounts_cancelled = gmv.sum()
            by_known = by_has = by_sel = None
        else:
            amounts_cancelled = (gmv * wt[cancelled]).sum()
            by_known, by_has, by_sel = wt[known], wt[has], wt[sel]
        scalars = [counted[0], amounts_cancelled, *counted[1:]]
        outcomes = np.bincount(outcome, weights=wt, minlength=len(OUTCOMES)).astype(np.float64)
        counts = np.bincount(ch, weights=by_known, minlength=len(REFUND_CHANNELS)).astype(np.float64)
        amounts = np.bincount(ch, weights=paid_back if wt is None else paid_back * by_known,
                              minlength=len(REFUND_CHANNELS))
        wait = np.bincount(wait_code, weights=by_has, minlength=n_methods * top).reshape(n_methods, top)
        transit_hist = np.bincount(tr, weights=by_sel).astype(np.float64) if len(tr) else np.zeros(1)
        out.append(Tally(np.array(scalars, dtype=np.float64), outcomes, counts, amounts, wait.astype(np.float64),
                         transit_hist))
    return out


# Which of tallies_of's six counting masks each code (0..63) has.
_BITS = ((np.arange(64)[:, None] >> np.arange(6)) & 1).astype(np.float64)


def partials_of(tally: Tally, n: int, methods: tuple[str, ...], scale: float = 1.0) -> dict[str, object]:
    """The tally as the named partials the catalogue's figures are finalised from (partials.py), the
    same names as the report's partials of observed orders. `scale` multiplies the counts and amounts,
    not the distributions' shapes."""
    oc = tally.outcomes * scale
    wait = tally.wait
    out: dict[str, object] = {"orders": float(n)}
    out.update(zip(SCALARS, (float(v) * scale for v in tally.scalars), strict=True))
    out["requests"] = float(oc.sum() - oc[CODE["none"]] - oc[CODE["not_made"]])
    out.update({f"outcome.{name}": float(oc[CODE[name]]) for name in OUTCOMES[1:]})
    out["refunds_by_channel"] = tally.channel_counts * scale
    out["refund_amount_by_channel"] = tally.channel_amounts * scale
    out["wait_days"] = pt.Distribution.dense(wait.sum(axis=0)).scaled(scale)
    out["wait_days_by_method"] = {m: pt.Distribution.dense(wait[i]) for i, m in enumerate(methods)}
    out["transit_days"] = pt.Distribution.dense(tally.transit)
    return out


def figures_of(tally: Tally, n: int, methods: tuple[str, ...], scale: float = 1.0) -> dict[str, float]:
    """`figures` for a tally of `n` orders whose wait histogram has one row per method of `methods`;
    a figure with nothing to measure is NaN."""
    values = fig.flat(fig.finalise(partials_of(tally, n, methods, scale), fig.WHATIF))
    return {k: float("nan") if v is None else float(v) for k, v in values.items()}
