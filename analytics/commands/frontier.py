"""The frontier command: a grid of policies replayed, the ones worth choosing, the best under limits."""

from __future__ import annotations

import functools
import sys

from analytics.cli import UserError, add_common, emit
from analytics.commands.report import with_dataset_note
from analytics.commands.sources import opened
from analytics.commands.whatif import REPLICATES_HELP_DEFAULT, _fmt, _policy, _replicates, money_prefix
from analytics.policy import PARAMETERS, PolicyError
from analytics.whatif_tables import label_in


def register(sub) -> None:
    names = ", ".join(x.name for x in PARAMETERS)
    p = sub.add_parser("frontier", help="replay a grid of policies: the ones worth choosing, and the best under limits")
    p.add_argument("--vary", action="append", default=[], required=True, metavar="NAME=V1,V2,...",
                   help=f"a policy parameter and its values (1 to 3 of them): {names}")
    p.add_argument("--weigh", required=True, metavar="FIGURE_A,FIGURE_B",
                   help="two figures to weigh against each other, as simulate --json names them")
    p.add_argument("--better", action="append", default=[], metavar="FIGURE=lower|higher",
                   help="which way is better, for a weighed figure whose definition has no direction")
    p.add_argument("--limit", action="append", default=[], metavar="FIGURE<=X",
                   help="a limit the best policy must keep (FIGURE<=X or FIGURE>=X; repeatable)")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="the current policy: the parameters the grid holds (repeatable)")
    p.add_argument("--replicates", type=int, default=None, metavar="K",
                   help=f"replicates, for the 95%% intervals (default {REPLICATES_HELP_DEFAULT})")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
    add_common(p, dataset=True)
    # No --source: a registered Parquet source (`register`) is replayed from its files, as `simulate` does.
    p.set_defaults(func=cmd_frontier, source=None, engine="local", partitions=None)


def _progress(fraction: float, text: str, points: list) -> None:
    print(f"\r{fraction:6.1%} {text}", end="" if fraction < 1 else "\n", file=sys.stderr, flush=True)


def cmd_frontier(args) -> int:
    from analytics import frontier, simulate

    current = _policy(args)
    try:  # what needs no data first, so a typo fails before the data set loads
        better = frontier.parse_better(args.better)
        frontier.parse_weigh(args.weigh, better)
        limits = [frontier.parse_limit(x) for x in args.limit]
        vary = dict(frontier.parse_vary(x) for x in args.vary)
        frontier.check_vary(vary)
        raw = {}
        for text in args.vary:
            name, _, values = text.partition("=")
            raw[name.strip()] = [v.strip() for v in values.split(",") if v.strip()]
    except PolicyError as e:
        raise UserError(str(e)) from None
    with opened(args, read_only=False) as (con, dataset, source):
        prep = simulate.prepare_dataset(con, dataset)
        currency = money_prefix(con, prep.dataset_id, source)
        current = _policy(args, prep)
        try:
            result = frontier.frontier(prep, raw, args.weigh.split(","), limits, policy=current,
                                       replicates=_replicates(args), seed=args.seed, better=better,
                                       progress=_progress if sys.stderr.isatty() and not args.json else None,
                                       currency=currency)
        except PolicyError as e:
            raise UserError(str(e)) from None
    emit(args, result, with_dataset_note(args, functools.partial(render, currency=currency)))
    return 0


def render(r: dict, currency: str = "") -> str:
    from analytics.commands.report import table

    a, b = r["weigh"]
    levers = list(r["vary"])
    rows = []
    for i, e in enumerate(r["policies"]):
        marks = [m for m, on in (("frontier", e["on_frontier"]), ("best", i == r["best"]),
                                 ("current", e["current"]), ("data's own", e["data_policy"])) if on]
        if r["limits"] and not e["meets_limits"]:
            marks.append("over a limit")
        if e["extrapolated"]:
            marks.append("extrapolated")
        shown = {**r["held"], **e["policy"]}
        rows.append([str(i), *(_value(shown, lever) for lever in levers),
                     _fmt(e["figures"][a], a), _fmt(e["figures"][b], b), ", ".join(marks)])
    held = ", ".join(f"{k}={v}" for k, v in r["held"].items()) or "the baseline"
    lines = [
        f"{r['dataset']['name']!r}: {len(r['policies'])} policies ({', '.join(levers)} varied; the rest as "
        f"{held}); {r['replicates']} replicates, seed {r['seed']}",
        f"weighing {label_in(a, currency)} ({r['better'][a]} is better) against {label_in(b, currency)} "
        f"({r['better'][b]} is better); "
        "estimate [95%: a new period like this one] (95%: these same orders)",
        "frontier: the policies no other beats on one figure (beyond the 95% interval of the paired difference) "
        "without being beaten on the other",
        "",
        table(["#", *levers, label_in(a, currency), label_in(b, currency), "marks"], rows),
        "",
        "the frontier, along " + label_in(a, currency) + ": " + ", ".join(f"#{i}" for i in r["frontier"]),
    ]
    if r["limits"]:
        lines.append(r["tradeoff"])
    return "\n".join(lines)


def _value(shown: dict, lever: str) -> str:
    from analytics.policy import DATA, Policy, value_text

    if lever in shown:
        return value_text(shown[lever])
    value = Policy().as_dict().get(lever)
    return DATA if value is None else value_text(value)

