"""The what-if engine checked against known truth, written to VALIDATION.md.

Per seed: the generator makes a baseline data set with known behaviour; the engine calibrates on it and
predicts each policy's figures. Each prediction is compared with two truths the generator knows:
(a) a fresh sample: other orders (another seed) made by the same behaviour, lived under the policy;
(b) the same orders lived under the policy (the generator's same draws, the policy's rules).
The "new period" interval (low-high) should hold (a) 95% of the time, the "these orders" interval
(orders_low-orders_high) should hold (b). A policy outside what the data observed (a window longer than
any answer the data shows) is extrapolated: its figures are reported apart.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from analytics.generate import GeneratorParams, generate_frame
from analytics.policy import Policy
from analytics.simulate import DEFAULT_REPLICATES, prepare_frame, simulate

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "VALIDATION.md"

# The canonical export's names -> the orders view's (calibrate.ORDER_COLUMNS).
RENAME = {"cancel_requested_at": "requested_at", "cancel_reason": "reason", "seller_responded_at": "responded_at"}

POLICIES: dict[str, Policy] = {
    "window 24 h": Policy(seller_response_hours=24),
    "window 168 h": Policy(seller_response_hours=168),
    "consent off": Policy(seller_consent_required=False),
    "lapse on timeout": Policy(timeout_action="lapse"),
    "window 48 h + lapse": Policy(seller_response_hours=48, timeout_action="lapse"),
    "dispatch 3 days + auto-cancel + window 48 h": Policy(
        dispatch_deadline_days=3, late_dispatch_action="auto_cancel", seller_response_hours=48),
    "dispatch 5 days + auto-cancel + refunds re-routed": Policy(
        dispatch_deadline_days=5, late_dispatch_action="auto_cancel",
        refund_channel=(("cash", "original"), ("cod", "wallet"))),
    "lapse + dispatch 4 days + auto-cancel": Policy(timeout_action="lapse", dispatch_deadline_days=4,
                                                    late_dispatch_action="auto_cancel"),
    "window 120 h + dispatch 5 days + auto-cancel": Policy(seller_response_hours=120, dispatch_deadline_days=5,
                                                           late_dispatch_action="auto_cancel"),
    "refunds: wallet in 2 days, card to wallet": Policy(refund_days=(("wallet", 2),),
                                                        refund_channel=(("card", "wallet"),)),
}

# The figures compared: the engine's main outcome figures (scenario and difference).
FIGURES = (
    "cancelled_orders", "cancelled_gmv", "requests_accepted", "requests_rejected", "requests_auto_cancelled",
    "requests_lapsed", "requests_not_cancellable", "requests_cancelled_without_consent",
    "requests_dispatch_cancelled", "requests_not_made", "return_path_orders", "dispatch_cancelled_orders",
    "refunds", "refunds_on_platform", "refund_amount_on_platform", "refund_wait_p50_business_days",
    "refund_wait_p90_business_days", "shipped_orders",
)


@dataclass(frozen=True)
class Config:
    orders: int = 50_000
    seeds: int = 20
    replicates: int = DEFAULT_REPLICATES
    params: GeneratorParams = GeneratorParams()
    policies: tuple[str, ...] = tuple(POLICIES)


@dataclass(frozen=True)
class Row:
    """One policy, figure, series (scenario or delta) and seed: the truths and the prediction."""

    policy: str
    figure: str
    series: str
    seed: int
    extrapolated: bool
    fresh: float        # (a) another sample made by the same behaviour, under the policy
    same: float         # (b) these orders under the policy
    value: float | None
    low: float | None
    high: float | None
    orders_low: float | None
    orders_high: float | None


def _inside(x: float, lo: float | None, hi: float | None) -> bool | None:
    if lo is None or hi is None or x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    return lo - 1e-9 <= x <= hi + 1e-9


def collect(config: Config, progress=None) -> list[Row]:
    """Every comparison, seed by seed."""
    rows: list[Row] = []
    base_policy = Policy()
    for s in range(config.seeds):
        seed = 1000 + s
        fresh_seed = 500_000 + s
        truth_base: dict = {}
        frame = generate_frame(config.orders, seed, config.params, base_policy, truth=truth_base)
        fresh_base: dict = {}
        generate_frame(config.orders, fresh_seed, config.params, base_policy, truth=fresh_base)
        prep = prepare_frame(frame.rename(RENAME), dataset_id=f"seed {seed}")
        for name in config.policies:
            policy = POLICIES[name]
            same: dict = {}
            generate_frame(config.orders, seed, config.params, policy, truth=same)
            fresh: dict = {}
            generate_frame(config.orders, fresh_seed, config.params, policy, truth=fresh)
            result = simulate(prep, policy=policy, replicates=config.replicates, seed=s)
            extra = bool(result["extrapolated"])
            for series, truth_fresh, truth_same in (
                ("scenario", fresh, same),
                ("difference", {k: fresh[k] - fresh_base[k] for k in fresh}, {k: same[k] - truth_base[k] for k in same}),
            ):
                part = result["scenario" if series == "scenario" else "delta"]
                for fig in FIGURES:
                    f = part[fig]
                    rows.append(Row(name, fig, series, seed, extra, truth_fresh[fig], truth_same[fig], f["value"],
                                    f["low"], f["high"], f["orders_low"], f["orders_high"]))
        if progress:
            progress(s + 1, config.seeds)
    return rows


def _median(values: list[float]) -> float | None:
    values = [v for v in values if v is not None and not math.isnan(v)]
    return statistics.median(values) if values else None


def _share(flags: list[bool | None]) -> tuple[float | None, int]:
    known = [f for f in flags if f is not None]
    return (sum(known) / len(known) if known else None), len(known)


def _structural(rows: list[Row]) -> bool:
    """A figure that is 0 in every truth and every prediction (nothing to cover: no such outcome)."""
    return all(r.fresh == 0 and r.same == 0 and (r.value in (0, None)) for r in rows)


@dataclass(frozen=True)
class Summary:
    policy: str
    figure: str
    series: str
    extrapolated: bool
    n: int
    same: float | None
    fresh: float | None
    value: float | None
    low: float | None
    high: float | None
    orders_low: float | None
    orders_high: float | None
    rel_error: float | None        # median |prediction - same| / |same|
    abs_error: float | None        # median |prediction - same|
    orders_half_width: float | None
    new_coverage: float | None
    orders_coverage: float | None


def summarise(rows: list[Row]) -> list[Summary]:
    groups: dict[tuple[str, str, str], list[Row]] = {}
    for r in rows:
        groups.setdefault((r.policy, r.figure, r.series), []).append(r)
    out = []
    for (policy, figure, series), rs in groups.items():
        if _structural(rs):
            continue
        rel = [abs(r.value - r.same) / abs(r.same) for r in rs if r.value is not None and r.same not in (0, None)
               and not math.isnan(r.same)]
        absolute = [abs(r.value - r.same) for r in rs if r.value is not None and not math.isnan(r.same)]
        half = [(r.orders_high - r.orders_low) / 2 for r in rs if r.orders_high is not None]
        new_cov, _ = _share([_inside(r.fresh, r.low, r.high) for r in rs])
        orders_cov, _ = _share([_inside(r.same, r.orders_low, r.orders_high) for r in rs])
        out.append(Summary(
            policy, figure, series, rs[0].extrapolated, len(rs), _median([r.same for r in rs]),
            _median([r.fresh for r in rs]), _median([r.value for r in rs]), _median([r.low for r in rs]),
            _median([r.high for r in rs]), _median([r.orders_low for r in rs]), _median([r.orders_high for r in rs]),
            _median(rel), _median(absolute), _median(half), new_cov, orders_cov))
    return out


def coverage(rows: list[Row], *, extrapolated: bool, series: str | None = None) -> dict[str, tuple[float | None, int]]:
    """Coverage of each interval kind over every (policy, figure, seed) comparison of that kind, leaving
    out figures that are 0 everywhere."""
    groups: dict[tuple[str, str, str], list[Row]] = {}
    for r in rows:
        if r.extrapolated == extrapolated and (series is None or r.series == series):
            groups.setdefault((r.policy, r.figure, r.series), []).append(r)
    kept = [r for rs in groups.values() if not _structural(rs) for r in rs]
    return {
        "new period (low-high) vs a fresh sample": _share([_inside(r.fresh, r.low, r.high) for r in kept]),
        "these orders (orders_low-orders_high) vs the same orders": _share(
            [_inside(r.same, r.orders_low, r.orders_high) for r in kept]),
        "these orders, where the interval has a width (not exact)": _share(
            [_inside(r.same, r.orders_low, r.orders_high) for r in kept
             if r.orders_low is not None and r.orders_low != r.orders_high]),
    }


def _f(x: float | None, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:,.{digits}f}"


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.0%}" if x in (0, 1) else f"{x:.1%}"


def render(config: Config, rows: list[Row], seconds: float, command: str) -> str:
    summaries = summarise(rows)
    p = config.params
    lines = [
        "# Validation: the what-if engine against known truth",
        "",
        f"Written by `{command}` (`python -m validate`); edit validate/run.py, not this file.",
        "",
        "How it is made. For each seed, the generator (analytics/generate.py) makes a baseline data set of "
        f"{config.orders:,} orders with known behaviour (seller answers lognormal, median "
        f"{p.response_median_hours:g} h, sigma {p.response_sigma:g}; acceptance {p.acceptance_rate:g}; dispatch "
        f"in working days, median {p.dispatch_median_days:g}; never-answer share {p.never_answer_share:g}) under "
        "the baseline policy (72 h window, auto-cancel). The engine calibrates on that data alone and "
        f"simulates each policy with {config.replicates} replicates. Each prediction is compared with:",
        "- (a) **a fresh sample**: another seed's orders, same behaviour, lived under the policy: what the "
        "\"next period like this one\" interval (`low`-`high`) should hold 95% of the time;",
        "- (b) **the same orders** lived under the policy by the generator (its own draws, the policy's rules): "
        "what the \"these same orders\" interval (`orders_low`-`orders_high`) should hold.",
        "",
        f"{config.seeds} seeds x {len(config.policies)} policies x {len(FIGURES)} figures, as the scenario's "
        "figure and as its difference from the baseline. Figures that are 0 in every truth and prediction "
        "(an outcome the policy cannot produce) are left out. A policy with a parameter outside what the "
        "data observed is extrapolated and reported apart. Where the engine replays what the data "
        "fully shows, the these-orders interval is exact (no width) and must equal the truth; its "
        "coverage where it has a width is given apart.",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC in {seconds / 60:.1f} minutes.",
        "",
        "## Coverage (target 0.90-0.99)",
        "",
        "| figures | interval | coverage | comparisons |",
        "| --- | --- | ---: | ---: |",
    ]
    for label, extra in (("inside the data", False), ("extrapolated", True)):
        for series in ("scenario", "difference"):
            for kind, (share, n) in coverage(rows, extrapolated=extra, series=series).items():
                lines.append(f"| {label}, {series} | {kind} | {_pct(share)} | {n:,} |")
    lines += ["", "## Coverage by policy (scenario and difference together)", "",
              "| policy | extrapolated | new period | these orders | median relative error (same orders) |",
              "| --- | --- | ---: | ---: | ---: |"]
    for name in config.policies:
        mine = [r for r in rows if r.policy == name]
        cov = coverage(mine, extrapolated=bool(mine and mine[0].extrapolated))
        (new, _), (orders, _), _ = cov.values()
        rel = _median([s.rel_error for s in summaries if s.policy == name and s.series == "scenario"])
        lines.append(f"| {name} | {'yes' if mine and mine[0].extrapolated else 'no'} | {_pct(new)} | "
                     f"{_pct(orders)} | {_pct(rel)} |")
    lines += [
        "", "## Per policy and figure", "",
        "Medians over the seeds. truth (b): the same orders under the policy; truth (a): a fresh sample; "
        "prediction: the engine's value; new period: `low`-`high`; these orders: `orders_low`-`orders_high`; "
        "error: median |prediction - truth (b)| relative to truth (b), with the median half-width of the "
        "these-orders interval beside it (the noise the engine itself states).",
    ]
    for name in config.policies:
        for series in ("scenario", "difference"):
            mine = [s for s in summaries if s.policy == name and s.series == series]
            if not mine:
                continue
            flag = " (extrapolated)" if mine[0].extrapolated else ""
            lines += ["", f"### {name}{flag}: {series}", "",
                      "| figure | truth (b) | truth (a) | prediction | new period | these orders | error | "
                      "abs error / half-width | coverage new | coverage orders |",
                      "| --- | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: |"]
            for s in mine:
                lines.append(
                    f"| {s.figure} | {_f(s.same)} | {_f(s.fresh)} | {_f(s.value)} | {_f(s.low)} - {_f(s.high)} | "
                    f"{_f(s.orders_low)} - {_f(s.orders_high)} | {_pct(s.rel_error)} | "
                    f"{_f(s.abs_error)} / {_f(s.orders_half_width)} | {_pct(s.new_coverage)} | "
                    f"{_pct(s.orders_coverage)} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m validate", description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=Config.orders)
    parser.add_argument("--seeds", type=int, default=Config.seeds)
    parser.add_argument("--replicates", type=int, default=Config.replicates)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if args.orders < 100 or args.seeds < 1:
        parser.error("--orders must be at least 100 and --seeds at least 1")
    config = Config(orders=args.orders, seeds=args.seeds, replicates=args.replicates)
    started = time.perf_counter()
    rows = collect(config, progress=lambda i, n: print(f"seed {i}/{n}", file=sys.stderr, flush=True))
    seconds = time.perf_counter() - started
    command = "make validate" if (args.orders, args.seeds) == (Config.orders, Config.seeds) else \
        f"python -m validate --orders {args.orders} --seeds {args.seeds}"
    args.out.write_text(render(config, rows, seconds, command))
    print(f"wrote {args.out} in {seconds / 60:.1f} min", file=sys.stderr)
    return 0
