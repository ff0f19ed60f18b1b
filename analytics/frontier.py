"""The policy frontier: which policies are worth choosing, and what each trades away.

Two or three levers (policy parameters) each take a few values; every combination is a policy of the
grid, the other parameters held as the given policy sets them. Every policy is replayed with the same
replicates (common random numbers: the same fitted parameters, draws and bootstrap weights for every
policy of a replicate, simulate.replicate_figures), and two figures are weighed against each other,
each with its better direction from its definition (figures.py `better`; a figure without one needs
the caller to say which way is better).

The rules, exactly (tested in tests/test_frontier.py):
- P beats Q on a figure when the 95% interval of the paired difference P - Q for a new period like
  this one (simulate's `low`-`high` of a difference: the same replicates of both policies, t on R - 1
  degrees of freedom; a percentile's difference the policies move is at least +- 0.5 business day
  wide, as simulate's) lies wholly on the figure's better side of 0: high < 0 for a figure where lower
  is better, low > 0 where higher is. A difference with no interval (one replicate, a figure neither
  policy can measure) beats nothing.
- P dominates Q when P beats Q on at least one weighed figure and Q beats P on neither.
- The frontier: the policies no other policy dominates. So a policy beaten on both figures by another
  is never on it, and a policy that beats every other policy on one figure always is.
- Limits (`cancelled_gmv<=50000`, `refund_wait_p90_business_days<=5`, `>=` too, on any figure, weighed
  or not) are met or not by the policy's estimate (its `value`; a figure it cannot measure does not
  meet one). With at least one limit, the best policy is chosen among those meeting every limit:
  the frontier of those policies (dominance among them alone); of it, the ones no other beats on the
  figure to make best; of those, the best estimate on the other weighed figure, then on the figure to
  make best, then the first in the grid. The figure to make best is the first weighed figure with no
  limit on it (the first weighed figure when both have one). Without a limit there is no best: the
  frontier is the answer. An extrapolated best policy (a parameter beyond what the data observed) is
  named as extrapolated, with the best one within the data beside it when there is one.
- The trade-off in words compares the best policy with the current one (the policy given, whose
  parameters the grid holds) by the same paired intervals: what it gains (beats the current), what it
  gives up (the current beats it), and what does not clearly differ.

The current policy and the data set's own policy (the baseline, Policy()) are replayed too and take
part like any policy; when the grid does not hold them they are added after it (`in_grid` false).

    frontier(source, vary, weigh, limits=(), policy=None, dataset=None, replicates=DEFAULT_REPLICATES,
             seed=0, better=None, progress=None, workers=None, currency="") -> dict
        source: a Prepared, a DuckDB connection (with `dataset`) or an orders frame. vary: {parameter:
        [values]} (1 to 3 parameters, at most MAX_POLICIES combinations); weigh: two figure names as
        simulate --json names them (dotted for a family's part); limits: Limit or 'FIGURE<=X' text;
        better: {figure: 'lower'|'higher'} for a weighed figure with no direction of its own.
        progress(fraction, text, points): called as the policies are replayed, with the points done so
        far (each a policy's entry below, without on_frontier), so a page can draw them as they come.
        workers: processes sharing the replicates out (None: one per core for a large grid, see
        PARALLEL_WORK); the result is the same whatever their number. currency: the data set's money
        prefix ('USD ', report.money_format's), which the trade-off's words write amounts in.
        Returns {"dataset", "weigh", "better", "vary", "limits", "replicates", "seed", "unavailable",
        "policies": [{"policy": changes from the baseline, "figures": {name: {value, low, high,
        orders_low, orders_high}} (weighed and limited figures), "on_frontier", "extrapolated",
        "in_grid", "current", "data_policy", "meets_limits", "label"}], "frontier": [indices along the
        first weighed figure], "best", "best_within_data", "current", "data_policy", "tradeoff": words}.
    parse_vary / parse_weigh / parse_limit / parse_better: the command line's texts, with one-line
        errors (PolicyError) naming what is wrong and what is expected.
    paired(orders, fresh, percentile) -> (value, low, high): every pair's difference and its interval,
        vectorised over pairs; beats(...), dominated(...), on_frontier(...), choose_best(...): the rules.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import math
import multiprocessing
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from analytics import figures as fig
from analytics import scenarios, simulate, whatif_notes
from analytics.params import MALFORMED, NOT_A_NUMBER, OUT_OF_RANGE, UNKNOWN_CHOICE, Param, Problem, value_text
from analytics.policy import Parameter, Policy, PolicyError, find_parameter
from analytics.replay import request_free
from analytics.text import in_sentence

MAX_LEVERS = 3
MAX_POLICIES = 200
FIRST_CHUNK = 4
CHUNK = 48   # policies replayed replicate by replicate together, at most
# Orders x policies x replicates from which a grid is shared out between processes (forked: the data is
# shared copy-on-write), one per core up to MAX_WORKERS; below it, starting them costs more than it saves.
PARALLEL_WORK = 50_000_000
MAX_WORKERS = 4
log = logging.getLogger(__name__)
DIRECTIONS = (fig.LOWER, fig.HIGHER)
# The figures a page offers to weigh: the what-if engine's scalar figures with a direction.
WEIGHABLE = tuple(n for n, f in fig.WHATIF.items()
                  if f.better is not None and n not in ("refund_wait_by_payment_method",))

# The levers a page offers, with the values a grid starts with (any parameter can be varied from the
# command line).
LEVER_VALUES: dict[str, tuple] = {
    "seller_response_hours": (24, 48, 72, 120, 168),
    "timeout_action": ("auto_cancel", "lapse"),
    "seller_consent_required": (True, False),
    "dispatch_deadline_days": (3, 5, 7, 10, 15),
    "late_dispatch_action": ("none", "auto_cancel"),
    "premium_shipping_share": (0.0, 0.25, 0.5),
    "never_answer_share": (0.0, 0.1, 0.25),
}
DEFAULT_LEVERS = ("seller_response_hours", "timeout_action")

Progress = Callable[[float, str, list], None]


# ------------------------------------------------------------------------------------------------
# The page's frontier settings in its link (analytics.links): the levers, each lever's values as typed,
# the two weighed figures (the page sets their defaults per data set), a limit on each figure as typed,
# and whether the frontier is drawn (a link that says so draws it on opening).

def values_text(values: Iterable[object]) -> str:
    """A lever's values as the page shows them: '24, 48, 72'."""
    return ", ".join(value_text(v) for v in values)


LINK_LEVERS = Param("frontier_levers", "labels", DEFAULT_LEVERS, label="frontier levers",
                    choices=tuple(LEVER_VALUES), max_items=MAX_LEVERS)
LINK_WEIGH = (Param("frontier_a", "choice", None, label="frontier figure weighed", choices=WEIGHABLE),
              Param("frontier_b", "choice", None, label="frontier figure weighed against", choices=WEIGHABLE))
LINK_DRAWN = Param("frontier", "bool", False, label="frontier drawn")


def link_values_name(lever: str) -> str:
    return f"frontier_values_{lever}"


def link_limit_name(figure: str) -> str:
    return f"frontier_limit_{figure}"


LINK_PARAMS: tuple[Param, ...] = (
    LINK_LEVERS,
    *(Param(link_values_name(n), "str", values_text(v), label=f"frontier values of {n}", max_len=400)
      for n, v in LEVER_VALUES.items()),
    *LINK_WEIGH,
    *(Param(link_limit_name(n), "str", "", label=f"frontier limit on {n}", max_len=40) for n in WEIGHABLE),
    LINK_DRAWN,
)


def limit_bound(text: str) -> float:
    """A limit's bound as typed ('1,000', '5'); PolicyError when it is not a finite number."""
    return parse_limit(f"{WEIGHABLE[0]}<={text}").bound


def check_link(values: Mapping[str, object], given: Iterable[str], parameters: Sequence[Parameter]
               ) -> tuple[dict[str, object], list[Problem]]:
    """The link's lever values and limits checked as the page reads them (the link's parser has checked
    their kind and length): a lever's values each parsed by the lever, a limit a number. Each one the link
    gave that is refused goes back to its default, with a Problem saying why."""
    out = dict(values)
    problems = []
    by_name = {p.name: p for p in parameters}
    defaults = {p.name: p.default for p in LINK_PARAMS}
    for name in given:
        text = str(values.get(name) or "")
        lever = name.removeprefix("frontier_values_")
        if lever != name and lever in by_name:
            try:
                _values(by_name[lever], [v for v in text.split(",") if v.strip()])
            except PolicyError as e:
                why = e.problem.reason if e.problem is not None else MALFORMED
                problems.append(Problem(name, text, why, f"{by_name[lever].range_text}, separated by commas",
                                        used=f"the default ({defaults[name]})"))
                out[name] = defaults[name]
        elif name.startswith("frontier_limit_") and text.strip():
            try:
                limit_bound(text)
            except PolicyError:
                problems.append(Problem(name, text, NOT_A_NUMBER, "a number", used="no limit"))
                out[name] = ""
    return out, problems


@dataclass(frozen=True)
class Limit:
    """A figure's estimate at most (`<=`) or at least (`>=`) a bound."""

    figure: str
    op: str
    bound: float

    def met(self, value: float | None) -> bool:
        if value is None or not math.isfinite(value):
            return False
        return value <= self.bound if self.op == "<=" else value >= self.bound

    def text(self) -> str:
        return f"{self.figure}{self.op}{self.bound:g}"

    def words(self, currency: str = "") -> str:
        """'cancelled GMV at most USD 150,000': the bound as the product writes an amount in a sentence."""
        # As typed, with separators: a whole bound with no decimals, an amount's with its cents.
        money = fig.get(self.figure).unit == "currency"
        number = (f"{self.bound:,.0f}" if float(self.bound).is_integer()
                  else f"{self.bound:,.2f}" if money else f"{self.bound:,}")
        bound = _said(self.figure, number, currency)
        return f"{_closed_label(self.figure)} {'at most' if self.op == '<=' else 'at least'} {bound}"


# ------------------------------------------------------------------------------------------------
# What the command line (and the page) give, checked.

def check_figure(name: str, option: str = "--weigh") -> str:
    """A figure name as simulate --json names it (dotted for a family's part); PolicyError otherwise."""
    name = name.strip()
    try:
        found = fig.get(name)
    except KeyError:
        found = None
    if found is None or found.whatif is None or name.split(".")[0] != found.whatif:
        raise PolicyError(Problem(option, name, UNKNOWN_CHOICE,
                                  "a figure as simulate --json names it, e.g. " + ", ".join(WEIGHABLE[:6])))
    return name


def parse_better(texts: Iterable[str]) -> dict[str, str]:
    """--better FIGURE=lower|higher, for a weighed figure whose definition has no direction."""
    out = {}
    for text in texts:
        name, sep, way = text.rpartition("=")
        if not sep or way.strip().lower() not in DIRECTIONS:
            raise PolicyError(Problem("--better", text, MALFORMED, "FIGURE=lower or FIGURE=higher"))
        out[check_figure(name, "--better")] = way.strip().lower()
    return out


def direction(name: str, better: Mapping[str, str] | None = None) -> str:
    """Which way is better for a weighed figure: the caller's word, else the figure's definition."""
    given = (better or {}).get(name)
    if given is not None:
        return given
    own = fig.get(name).better
    if own is None:
        with_one = ", ".join(WEIGHABLE)
        raise PolicyError(
            f"--weigh: {name} has no better direction (more is neither good nor bad news by its definition); "
            f"say which way is better with --better {name}=lower or --better {name}=higher, or weigh a figure "
            f"that has one: {with_one}")
    return own


def parse_weigh(text: str | Sequence[str], better: Mapping[str, str] | None = None) -> tuple[tuple[str, str], ...]:
    """'A,B' -> ((A, its better direction), (B, its better direction))."""
    names = [n.strip() for n in (text.split(",") if isinstance(text, str) else text) if n.strip()]
    if len(names) != 2 or names[0] == names[1]:
        shown = text if isinstance(text, str) else ",".join(text)
        raise PolicyError(Problem("--weigh", shown, MALFORMED, "two different figures, FIGURE_A,FIGURE_B"))
    return tuple((check_figure(n), direction(n, better)) for n in names)


_LIMIT = re.compile(r"^\s*(?P<figure>[^<>=]+?)\s*(?P<op><=|>=)\s*(?P<bound>.+?)\s*$")


def parse_limit(text: str | Limit) -> Limit:
    """'FIGURE<=X' or 'FIGURE>=X' -> Limit."""
    if isinstance(text, Limit):
        return text
    found = _LIMIT.match(text)
    if not found:
        raise PolicyError(Problem("--limit", text, MALFORMED, "FIGURE<=X or FIGURE>=X"))
    try:
        bound = float(found["bound"].replace(",", "").replace("_", ""))
    except ValueError:
        raise PolicyError(Problem("--limit", text, MALFORMED, "FIGURE<=X or FIGURE>=X with X a number")) from None
    if not math.isfinite(bound):
        raise PolicyError(Problem("--limit", text, OUT_OF_RANGE, "a finite number"))
    return Limit(check_figure(found["figure"], "--limit"), found["op"], bound)


def parse_vary(text: str, parameters=None) -> tuple[str, tuple]:
    """'NAME=V1,V2,...' -> (the parameter's name, its values parsed by the parameter, each once)."""
    name, sep, values = text.partition("=")
    if not sep or not name.strip():
        raise PolicyError(Problem("--vary", text, MALFORMED, "NAME=V1,V2,..."))
    spec = find_parameter(name.strip(), parameters)
    return spec.name, _values(spec, [v for v in values.split(",") if v.strip()])


def _values(spec, values: Iterable[object]) -> tuple:
    parsed = tuple(dict.fromkeys(spec.parse(v.strip() if isinstance(v, str) else v) for v in values))
    if not parsed:
        raise PolicyError(Problem(spec.name, "", MALFORMED, f"at least one value: {spec.range_text}"))
    return parsed


def check_vary(vary: Mapping[str, Iterable[object]], parameters=None) -> dict[str, tuple]:
    """The levers and their values, parsed; 1 to MAX_LEVERS levers, at most MAX_POLICIES combinations."""
    out: dict[str, tuple] = {}
    for name, values in vary.items():
        spec = find_parameter(name, parameters)
        out[spec.name] = _values(spec, values)
    if not 1 <= len(out) <= MAX_LEVERS:
        raise PolicyError(Problem("--vary", f"{len(out)} parameters", OUT_OF_RANGE,
                                  f"1 to {MAX_LEVERS} parameters to vary, each once"))
    size = math.prod(len(v) for v in out.values())
    if size > MAX_POLICIES:
        raise PolicyError(Problem("--vary", f"{size:,} combinations", OUT_OF_RANGE,
                                  f"at most {MAX_POLICIES} policies (the values' counts multiplied)"))
    return out


def grid(base: Policy, vary: Mapping[str, tuple], parameters=None) -> list[Policy]:
    """Every combination of the levers' values, the other parameters as `base` sets them; each policy once."""
    names = list(vary)
    policies = [base.with_values(dict(zip(names, combo, strict=True)), parameters)
                for combo in itertools.product(*(vary[n] for n in names))]
    return list(dict.fromkeys(policies))


# ------------------------------------------------------------------------------------------------
# The rules, on arrays: policies x replicates.

def _t(df: np.ndarray) -> np.ndarray:
    out = np.full(df.shape, np.nan)
    ok = df >= 1
    out[ok] = stats.t.ppf(0.975, df[ok])
    return out


def paired(orders: np.ndarray, fresh: np.ndarray, percentile: bool = False
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair's difference, policy i minus policy j, as simulate gives a difference: the estimate
    (mean over replicates of these orders) and the 95% interval for a new period like this one.
    orders, fresh: policies x replicates (NaN where a replicate cannot measure the figure). Returns
    (value, low, high), each policies x policies; NaN where there is no interval."""
    d = orders[:, None, :] - orders[None, :, :]
    boot = (fresh[:, None, :] - fresh[None, :, :]) - d
    fin = np.isfinite(d)
    both = fin & np.isfinite(boot)
    n, nb = fin.sum(-1), both.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(fin, d, 0.0).sum(-1) / n

        def var(x: np.ndarray, mask: np.ndarray, count: np.ndarray) -> np.ndarray:
            mean = np.where(mask, x, 0.0).sum(-1) / count
            dev = np.where(mask, x - mean[..., None], 0.0)
            out = (dev ** 2).sum(-1) / (count - 1)
            spread = np.where(mask, x, -np.inf).max(-1) - np.where(mask, x, np.inf).min(-1)
            return np.where((count > 1) & (spread > 0), out, 0.0)

        v_orders = var(d, fin, n)
        v_boot = var(boot, both, nb)
        spread = (1.0 + 1.0 / n) * v_orders
        half = _t(nb - 1.0) * np.sqrt(2.0 * v_boot + spread)
    half = np.where((nb > 1) & (n > 1), half, np.nan)
    moved = np.abs(np.where(fin, d, 0.0)).max(-1) > 0
    boot_moves = np.abs(np.where(both, boot, 0.0)).max(-1) > 0
    exact = (n > 0) & ~moved & ~boot_moves
    half = np.where(exact, 0.0, half)
    half = np.where(n == 0, np.nan, half)
    if percentile:  # whole business days move in half-day steps: at least +- 0.5 when the policies move it
        half = np.where(moved & np.isfinite(half), np.maximum(half, 0.5), half)
    return value, value - half, value + half


def beats(low: np.ndarray, high: np.ndarray, better: str) -> np.ndarray:
    """beats[i, j]: policy i beats policy j on the figure (the interval of i - j on the better side of 0)."""
    with np.errstate(invalid="ignore"):
        out = high < 0 if better == fig.LOWER else low > 0
    out = np.asarray(out & np.isfinite(low) & np.isfinite(high))
    np.fill_diagonal(out, False)
    return out


def dominated(beats_a: np.ndarray, beats_b: np.ndarray) -> np.ndarray:
    """dominates[i, j]: i beats j on at least one figure and j beats i on neither."""
    out = (beats_a | beats_b) & ~beats_a.T & ~beats_b.T
    np.fill_diagonal(out, False)
    return out


def on_frontier(beats_a: np.ndarray, beats_b: np.ndarray, among: np.ndarray | None = None) -> np.ndarray:
    """The policies no other (of `among`, a mask; all by default) dominates."""
    dom = dominated(beats_a, beats_b)
    if among is not None:
        dom = dom & among[:, None] & among[None, :]
    return ~dom.any(axis=0) if among is None else among & ~dom.any(axis=0)


def choose_best(values: Sequence[np.ndarray], wins: Sequence[np.ndarray], directions: Sequence[str],
                feasible: np.ndarray, target: int) -> int | None:
    """The best policy among the feasible (the rules above): their frontier; of it, those no other beats
    on figure `target`; of those, the best estimate on the other figure, then on the target, then the
    first. None when no policy is feasible."""
    if not feasible.any():
        return None
    front = on_frontier(wins[0], wins[1], feasible)
    if not front.any():   # intervals that disagree can make a cycle: then every feasible policy is a candidate
        front = feasible.copy()
    beaten = (wins[target] & front[:, None]).any(axis=0)
    tied = front & ~beaten
    if not tied.any():
        tied = front
    other = 1 - target

    def score(i: int, k: int) -> float:
        v = values[k][i]
        if not math.isfinite(v):
            return math.inf
        return v if directions[k] == fig.LOWER else -v

    return min(np.flatnonzero(tied), key=lambda i: (score(i, other), score(i, target), i))


# ------------------------------------------------------------------------------------------------
# The engine.

def _workers(prep: simulate.Prepared, policies: int, replicates: int, workers: int | None) -> int:
    """How many processes replay the grid: `workers` when given; else one per core (up to MAX_WORKERS)
    when the work is large enough to pay for starting them and the system can fork, else one."""
    if workers is not None:
        return max(1, min(int(workers), replicates))
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if prep.data.n * policies * replicates < PARALLEL_WORK:
        return 1
    return max(1, min(cores, MAX_WORKERS, replicates))


def _chunks(count: int) -> list[tuple[int, int]]:
    """The policies' chunks: a small first one, so the first points come soon on a large data set, then
    each twice the one before up to CHUNK (fewer chunks: less work set up again for each)."""
    bounds, size = [0], FIRST_CHUNK
    while bounds[-1] < count:
        bounds.append(min(count, bounds[-1] + size))
        size = min(CHUNK, size * 2)
    return list(itertools.pairwise(bounds))


def _serve(engine: simulate.GridReplay, policies: list[Policy], replicates: range, conn) -> None:
    """A forked worker: its replicates of every chunk, sent chunk by chunk ({replicate: figures per policy})."""
    try:
        for start, stop in _chunks(len(policies)):
            conn.send({k: engine.replicate(policies[start:stop], k) for k in replicates})
    except BaseException as e:  # noqa: BLE001 - whatever stops the worker, the parent replays its share itself
        with contextlib.suppress(Exception):
            conn.send(f"{type(e).__name__}: {e}")
    finally:
        conn.close()


def _replay_all(prep: simulate.Prepared, policies: list[Policy], replicates: int, seed: int,
                names: Sequence[str], on_chunk: Callable[[int, dict, dict], None] | None = None,
                workers: int | None = None) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Each named figure over the replicates, policies x replicates, for these orders and a resampled
    period. Policies go in chunks, replicate by replicate (simulate.GridReplay: each replicate's draws
    made once for the grid, the request rule's policies sharing their twin's replay); a (policy, seed,
    replicate) the Prepared remembers is not replayed. With several workers, the replicates are shared
    out between this process and forked ones (the data shared copy-on-write), each worker keeping its
    replicates for the whole grid; the figures are the same, being functions of (policy, seed,
    replicate). on_chunk(policies done, orders, fresh) after each chunk (the rows done so far filled)."""
    orders = {n: np.full((len(policies), replicates), np.nan) for n in names}
    fresh = {n: np.full((len(policies), replicates), np.nan) for n in names}
    engine = simulate.GridReplay(prep, policies, seed)
    count = _workers(prep, len(policies), replicates, workers)
    shares = [range(w, replicates, count) for w in range(count)]
    helpers = []   # (process, connection, its replicates)
    if count > 1:
        fork = multiprocessing.get_context("fork")
        for share in shares[1:]:
            mine, theirs = fork.Pipe(duplex=False)
            process = fork.Process(target=_serve, args=(engine, policies, share, theirs), daemon=True)
            process.start()
            theirs.close()
            helpers.append((process, mine, share))

    def fill(start: int, stop: int, k: int, found: list) -> None:
        for i, (these, period) in zip(range(start, stop), found, strict=True):
            for n in names:
                orders[n][i, k] = these[n]
                fresh[n][i, k] = period[n]

    try:
        for start, stop in _chunks(len(policies)):
            own = list(shares[0])
            for _process, conn, share in helpers:
                if conn is None:   # a worker that stopped: its replicates are replayed here
                    own += list(share)
            for k in own:
                fill(start, stop, k, engine.replicate(policies[start:stop], k))
            for j, (process, conn, share) in enumerate(helpers):
                if conn is None:
                    continue
                try:
                    sent = conn.recv()
                except (EOFError, OSError):
                    sent = "the worker ended"
                if isinstance(sent, str):
                    log.warning("a frontier worker stopped (%s); replaying its replicates here", sent)
                    conn.close()
                    helpers[j] = (process, None, share)
                    for k in share:
                        fill(start, stop, k, engine.replicate(policies[start:stop], k))
                    continue
                for k, found in sent.items():
                    fill(start, stop, k, found)
                    for p, figures in zip(policies[start:stop], found, strict=True):
                        simulate.remember(prep, (p, seed, k), figures)
            if on_chunk is not None:
                on_chunk(stop, orders, fresh)
    finally:
        for process, conn, _ in helpers:
            if conn is not None:
                conn.close()
            if process.is_alive():
                process.terminate()
            process.join()
    return orders, fresh


def _entry_figures(orders, fresh, base_orders, base_fresh, i: int, names, missing) -> dict:
    """Policy i's figures as simulate gives a scenario's (moved: its paired difference from the baseline)."""
    summaries = ({n: orders[n][i] for n in names}, {n: fresh[n][i] for n in names})
    base = ({n: base_orders[n] for n in names}, {n: base_fresh[n] for n in names})
    nested = simulate._figures(summaries, missing, moved=simulate._difference(summaries, base))
    return simulate._flatten(nested)


def frontier(source, vary: Mapping[str, Iterable[object]], weigh: Sequence[str], limits: Iterable = (),
             policy: Policy | None = None, dataset: str | None = None,
             replicates: int = simulate.DEFAULT_REPLICATES, seed: int = 0,
             better: Mapping[str, str] | None = None, progress: Progress | None = None,
             workers: int | None = None, currency: str = "") -> dict:
    """The grid replayed, its frontier, and the best policy under the limits (see the module's rules)."""
    weighed = parse_weigh(weigh, better)
    limits = [parse_limit(x) for x in limits]
    replicates = simulate.check_replicates(replicates)
    if replicates < 2:
        raise PolicyError(f"the frontier needs at least 2 replicates to tell policies apart; got {replicates}")
    prep = simulate._source(source, dataset)
    params = simulate.policy_parameters(prep)
    levers = check_vary(vary, params)
    current = (policy or Policy())
    simulate._check_methods(prep, current)
    current = current.with_values({}, params)
    missing = simulate.unavailable(prep)
    names = list(dict.fromkeys([w for w, _ in weighed] + [x.figure for x in limits]))
    known = set(simulate.replicate_figures(prep, Policy(), seed, 0)[0])
    for n in names:
        head = n.split(".")[0]
        if head in missing:
            raise PolicyError(f"{fig.label(n)} ({n}) is not available on this data set: {missing[head]}")
        if n not in known:
            family = sorted(k for k in known if k.startswith(head + "."))
            raise PolicyError(Problem("--weigh", n, UNKNOWN_CHOICE, "one of this data set's figures: "
                                      + (", ".join(family[:12]) or ", ".join(WEIGHABLE))))
    policies = grid(current, levers, params)
    in_grid = len(policies)
    for extra in (current, Policy()):
        if extra not in policies:
            policies.append(extra)
    baseline_at = policies.index(Policy())

    def entry(p: Policy, index: int, figures: dict) -> dict:
        return {"policy": p.changes(), "label": scenarios.describe(p.changes()), "figures": figures,
                "extrapolated": simulate.extrapolated(prep, p), "in_grid": index < in_grid,
                "current": p == current, "data_policy": p == Policy()}

    # The baseline first (every scenario's figures are measured against it), then the rest in order, those
    # that share a request-free twin together (the first chunks then replay few twins: the first points
    # come sooner).
    group = {request_free(Policy()): -1}
    for i, p in enumerate(policies):
        group.setdefault(request_free(p), i)
    order = [baseline_at, *sorted((i for i in range(len(policies)) if i != baseline_at),
                                  key=lambda i: group[request_free(policies[i])])]
    ordered = [policies[i] for i in order]

    def on_chunk(count: int, o: dict, f: dict) -> None:
        base_o, base_f = {n: o[n][0] for n in names}, {n: f[n][0] for n in names}
        points = [entry(ordered[j], order[j], _entry_figures(o, f, base_o, base_f, j, names, missing))
                  for j in range(count)]
        progress(count / len(ordered), f"{count:,} of {len(ordered):,} policies replayed", points)

    o_rep, f_rep = _replay_all(prep, ordered, replicates, seed, names, on_chunk if progress else None, workers)
    back = np.argsort(order)   # back to the policies' own order
    orders = {n: o_rep[n][back] for n in names}
    fresh = {n: f_rep[n][back] for n in names}
    base_o = {n: orders[n][baseline_at] for n in names}
    base_f = {n: fresh[n][baseline_at] for n in names}
    entries = [entry(p, i, _entry_figures(orders, fresh, base_o, base_f, i, names, missing))
               for i, p in enumerate(policies)]

    pairs = [paired(orders[n], fresh[n], simulate._is_percentile(n)) for n, _ in weighed]
    directions = [d for _, d in weighed]
    wins = [beats(low, high, d) for (_, low, high), d in zip(pairs, directions, strict=True)]
    front = on_frontier(wins[0], wins[1])
    values = [np.array([_value(e["figures"][n]) for e in entries]) for n, _ in weighed]
    feasible = np.array([all(x.met(_value(e["figures"][x.figure])) for x in limits) for e in entries])
    for e, on, ok in zip(entries, front, feasible, strict=True):
        e["on_frontier"] = bool(on)
        e["meets_limits"] = bool(ok)

    best = within = None
    if limits:
        limited = {x.figure for x in limits}
        target = next((k for k, (n, _) in enumerate(weighed) if n not in limited), 0)
        best = choose_best(values, wins, directions, feasible, target)
        if best is not None and entries[best]["extrapolated"]:
            inside = feasible & np.array([not e["extrapolated"] for e in entries])
            within = choose_best(values, wins, directions, inside, target)
        elif best is not None:
            within = best
    line = sorted(np.flatnonzero(front).tolist(), key=lambda i: (
        values[0][i] if math.isfinite(values[0][i]) else math.inf, i))
    current_at = policies.index(current)
    return {
        "dataset": {"id": prep.dataset_id, "name": prep.name},
        "weigh": [n for n, _ in weighed],
        "better": {n: d for n, d in weighed},
        "vary": {k: list(v) for k, v in levers.items()},
        "held": current.changes(),
        "limits": [x.text() for x in limits],
        "replicates": replicates,
        "seed": seed,
        "unavailable": missing,
        "policies": entries,
        "frontier": line,
        "best": None if best is None else int(best),
        "best_within_data": None if within is None else int(within),
        "current": current_at,
        "data_policy": baseline_at,
        "tradeoff": tradeoff_words(entries, weighed, pairs, wins, limits, best, within, current_at, currency),
    }


def _value(figure: Mapping | None) -> float:
    v = None if figure is None else figure.get("value")
    return math.nan if v is None else float(v)


# ------------------------------------------------------------------------------------------------
# In words.

# Units a sentence names after the number ('4.0 business days'); a count's label says what it counts.
_SAID_UNITS = ("business days", "hours")


def _closed_label(name: str) -> str:
    """A figure's label inside a sentence, before more words about it: one with a comma of its own is closed
    by another ("buyer's wait, 90th percentile, by 4.0 business days")."""
    label = in_sentence(fig.label(name))
    return label + "," if "," in label else label


def _said(name: str, number: str, currency: str = "") -> str:
    """A number of the figure's unit as a sentence says it: an amount with the data set's currency (the money
    prefix report.money_format gives, 'USD '), days and hours with their unit, a count as it is."""
    unit = fig.get(name).unit
    if unit == "currency":
        return fig.around(number, currency)
    return f"{number} {unit}" if unit in _SAID_UNITS else number


def _number(name: str, value: float) -> str:
    """An estimate's number: an amount whole from figures.WHOLE_AMOUNT up, as a tile writes it; a count (a
    mean over replicates) whole; days to a tenth."""
    pattern = fig.UNITS[fig.get(name).unit].estimate
    return fig.rounded_amount(value, pattern) or fig.written(value, pattern)


def amount_words(name: str, value: float, currency: str = "") -> str:
    """An estimate of a figure inside a sentence: 'USD 127,286', '4.0 business days', '412'."""
    return _said(name, _number(name, value), currency)


def _difference_words(name: str, value: float, low: float, high: float, currency: str = "") -> str:
    """'lowers cancelled GMV by USD 127,286 (95%: USD 120,100 to USD 134,500)': a paired difference as a
    verb, the figure, and its size with the interval's ends (said only when both lie on the same side)."""
    verb = "lowers" if value < 0 else "raises"
    label = _closed_label(name)
    ends = [_number(name, x) for x in sorted((abs(low), abs(high)))]
    # An interval across 0 has no one size to say; one whose ends read alike says no more than the value.
    # An amount's ends each say the currency; days say their unit once ('4.7 to 5.3 business days').
    money = fig.get(name).unit == "currency"
    said = (f"{_said(name, ends[0], currency)} to {_said(name, ends[1], currency)}" if money
            else _said(name, f"{ends[0]} to {ends[1]}"))
    interval = f" (95%: {said})" if (low < 0) == (high < 0) and ends[0] != ends[1] else ""
    return f"{verb} {label} by {amount_words(name, abs(value), currency)}{interval}"


def tradeoff_words(entries, weighed, pairs, wins, limits, best, within, current, currency: str = "") -> str:
    """The best policy under the limits and what it trades against the current one, in words; amounts in
    `currency` (the data set's money prefix, 'USD ': amount_words)."""
    if not limits:
        return ""
    under = " and ".join(x.words(currency) for x in limits)
    if best is None:
        return f"No policy of the grid keeps {under}."
    def name(i: int) -> str:
        return "the data set's own policy" if entries[i]["data_policy"] and not entries[i]["policy"] \
            else entries[i]["label"]
    parts = [f"Best with {under}: {name(best)}."]
    if entries[best]["extrapolated"]:
        # The parameters in words, as the What-if page's notice says them ('where card refunds go'), not codes.
        said = ", ".join(whatif_notes.parameter_words(n) for n in entries[best]["extrapolated"])
        parts.append(f"It is extrapolated ({said} beyond what the data observed): "
                     "its figures rest on the fitted curves' assumptions.")
        if within is not None:
            parts.append(f"Within what the data observed, the best is {name(within)}.")
        else:
            parts.append("No policy within what the data observed keeps these limits.")
    if best == current:
        parts.append("It is the current policy.")
        return " ".join(parts)
    gains, costs, same = [], [], []
    for k, (n, _) in enumerate(weighed):
        value, low, high = (a[best, current] for a in pairs[k])
        if wins[k][best, current]:
            gains.append(_difference_words(n, value, low, high, currency))
        elif wins[k][current, best]:
            costs.append(_difference_words(n, value, low, high, currency))
        else:
            same.append(in_sentence(fig.label(n)))
    # What it gains first, then what it gives up for it: "it lowers A by 4.0 business days (95%: ...); in
    # exchange it raises B by USD 1,200 (95%: ...)".
    said = [" and ".join(gains)] if gains else []
    if costs:
        said.append(("in exchange it " if gains else "") + " and ".join(costs))
    if said:
        parts.append(f"Against the current policy it {'; '.join(said)}.")
    if same:
        parts.append(f"No clear difference from the current policy in {' or '.join(same)} (95% intervals of "
                     "the paired difference include 0).")
    return " ".join(parts)


__all__ = ["Limit", "MAX_LEVERS", "MAX_POLICIES", "WEIGHABLE", "beats", "check_vary", "choose_best",
           "dominated", "frontier", "grid", "on_frontier", "paired", "parse_better", "parse_limit",
           "parse_vary", "parse_weigh", "tradeoff_words"]
