"""Data-set commands: generate, demo, import, datasets, refused, warnings, rename, delete."""

from __future__ import annotations

import sys

from analytics import db
from analytics.cli import UserError, add_common, emit
from analytics.demo import ensure_demo


def register(sub) -> None:
    p = sub.add_parser("generate", help="simulate a synthetic data set under the baseline policy")
    p.add_argument("--orders", type=int, default=100_000, metavar="N", help="number of orders (default 100000)")
    p.add_argument("--seed", type=int, default=1, metavar="S", help="random seed (default 1)")
    p.add_argument("--name", help="data set name (default: Generated N orders (seed S))")
    p.add_argument("--behaviour", action="append", default=[], metavar="NAME=VALUE",
                   help="a behaviour parameter of the generator (repeatable): " + ", ".join(BEHAVIOUR)
                        + ", or acceptance_by_reason.<reason>")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="live the orders under this policy instead of the baseline (the what-if engine's names)")
    add_common(p)
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("demo", help="create the demo data set unless the database already has one")
    add_common(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("import", help="import an orders export (CSV), or Olist's orders + payments files")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--name", help="data set name (default: the orders file's name)")
    p.add_argument("--map", action="append", metavar="FIELD=COLUMN",
                   help="match FIELD to the column with this exact header (repeatable)")
    p.add_argument("--decimal", choices=[".", ","],
                   help="the amounts' decimal separator, where the values cannot tell (1,234)")
    p.add_argument("--date-format", choices=["day-first", "month-first"],
                   help="the order of day and month in dates like 05/01/2026, where the values cannot tell")
    add_common(p)
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("datasets", help="list the data sets")
    add_common(p)
    p.set_defaults(func=cmd_datasets)

    p = sub.add_parser("refused", help="the rows an import refused, with their reasons, as CSV")
    p.add_argument("--warnings", action="store_true",
                   help="the orders stored with a warning instead (as the warnings command)")
    add_common(p, dataset=True)
    p.set_defaults(func=cmd_refused)

    p = sub.add_parser("warnings", help="the orders an import stored with a warning, with the reasons, as CSV")
    add_common(p, dataset=True)
    p.set_defaults(func=cmd_refused, warnings=True)

    p = sub.add_parser("rename", help="rename a data set")
    p.add_argument("dataset", metavar="ID_OR_NAME")
    p.add_argument("name")
    add_common(p)
    p.set_defaults(func=cmd_rename)

    p = sub.add_parser("delete", help="delete a data set and all its rows")
    p.add_argument("dataset", metavar="ID_OR_NAME")
    add_common(p)
    p.set_defaults(func=cmd_delete)


def _positive(n: int, what: str) -> int:
    if n <= 0:
        raise UserError(f"{what} must be a positive number, got {n}")
    return n


# The generator's behaviour a user may set from the command line (GeneratorParams' numbers).
BEHAVIOUR = ("response_median_hours", "response_sigma", "never_answer_share", "acceptance_rate",
             "dispatch_median_days", "dispatch_sigma", "request_probability", "request_median_hours")


def _behaviour(items: list[str]):
    """GeneratorParams with the --behaviour settings; UserError naming a bad one."""
    from dataclasses import replace

    from analytics.generate import DEFAULT_PARAMS
    from analytics.outcomes import REASONS

    values: dict = {}
    by_reason: dict[str, float] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        name = name.strip()
        try:
            number = float(raw)
        except ValueError:
            number = float("nan")
        if not sep or number != number:
            raise UserError(f"--behaviour expects NAME=NUMBER, got {item!r}")
        if name.startswith("acceptance_by_reason."):
            reason = name.split(".", 1)[1]
            if reason not in REASONS:
                raise UserError(f"--behaviour {name}: the reasons are {', '.join(REASONS)}")
            by_reason[reason] = number
        elif name in BEHAVIOUR:
            values[name] = number
        else:
            raise UserError(f"--behaviour: unknown parameter {name!r}; known: {', '.join(BEHAVIOUR)}, "
                            "acceptance_by_reason.<reason>")
    params = replace(DEFAULT_PARAMS, **values, acceptance_by_reason=by_reason)
    try:
        params.check()
    except ValueError as e:
        raise UserError(f"--behaviour {e}") from None
    return params


def cmd_generate(args) -> int:
    from analytics.generate import generate
    from analytics.policy import Policy, PolicyError
    from analytics.simulate import store_dataset

    n = _positive(args.orders, "--orders")
    params = _behaviour(args.behaviour)
    try:
        policy = Policy.from_settings(args.set) if args.set else None
    except PolicyError as e:
        raise UserError(str(e)) from None
    if policy is not None and policy.never_answer_share:
        raise UserError("never_answer_share is the sellers' behaviour when generating: set it with "
                        "--behaviour never_answer_share=VALUE")
    con = db.connect(args.db)
    result = generate(con, n, args.seed, name=args.name, params=params, policy=policy)
    store_dataset(con, result.dataset.id)
    emit(args, result.as_json(), lambda r: f"generated {r['stored']:,} orders as {r['dataset']['name']!r} "
                                           f"(id {r['dataset']['id']})")
    return 0


def cmd_demo(args) -> int:
    con = db.connect(args.db)
    d = ensure_demo(con)
    emit(args, {"dataset": {"id": d.id, "name": d.name}, "orders": d.orders},
         lambda r: f"demo data set {r['dataset']['name']!r}: {r['orders']:,} orders (id {r['dataset']['id']})")
    return 0


def _check_readable(files: list[str]) -> None:
    """Each FILE is a file this process can read, before the database is opened; else one line saying
    which is not, and why."""
    from analytics.csvfile import CsvError, readable

    for name in files:
        try:
            readable(name, name)
        except CsvError as e:
            raise UserError(str(e)) from None


def cmd_import(args) -> int:
    from analytics.formats import Readings
    from analytics.importer import ImportError_, ImportNeedsChoice, import_files, mapping_from_args
    from analytics.simulate import store_dataset

    _check_readable(args.files)
    con = db.connect(args.db)
    try:
        result = import_files(con, args.files, name=args.name, mapping=mapping_from_args(args.map),
                              readings=Readings(decimal=args.decimal, date_format=args.date_format))
    except ImportNeedsChoice as e:
        flag = "--decimal . or --decimal ," if e.choice == "decimal" else "--date-format day-first|month-first"
        raise UserError(f"{e} ({flag})") from None
    except ImportError_ as e:
        raise UserError(str(e)) from None
    store_dataset(con, result.dataset.id)

    def render(r):
        lines = [f"imported {r['dataset']['name']!r} (id {r['dataset']['id']}): {result.summary()}"]
        lines += [f"note: {n}" for n in r["notices"]]
        if r["refused"]:
            lines.append("refused:")
            lines += [f"  {n:>8,}  {reason}" for reason, n in r["refused_by_reason"].items()]
            lines.append(f"see them with: python -m analytics refused --dataset={r['dataset']['id']}")
        if r["warned"]:
            lines.append("stored with a warning:")
            lines += [f"  {n:>8,}  {reason}" for reason, n in r["warned_by_reason"].items()]
            lines.append(f"see them with: python -m analytics warnings --dataset={r['dataset']['id']}")
        return "\n".join(lines)

    emit(args, result.as_json(), render)
    return 0


def cmd_datasets(args) -> int:
    con = db.connect(args.db)
    rows = [d.as_json() for d in db.list_datasets(con)]

    def render(r):
        if not r["datasets"]:
            return "no data sets yet: python -m analytics generate, or python -m analytics import FILE"
        # The name column is as wide as the longest name, up to 60; a longer name ends in an ellipsis.
        width = min(max(len("name"), *(len(d["name"]) for d in r["datasets"])), 60)

        def name(text: str) -> str:
            return text if len(text) <= width else text[:width - 1] + "…"

        head = (f"{'id':<24} {'name':<{width}} {'source':<10} {'created (UTC)':<20} {'orders':>10} {'requests':>9} "
                f"{'refunds':>8} {'refused':>8} {'warned':>8}")
        lines = [head]
        for d in r["datasets"]:
            lines.append(f"{d['id']:<24} {name(d['name']):<{width}} {d['source']:<10} {d['created_at']:<20} "
                         f"{d['orders']:>10,} {d['cancellation_requests']:>9,} {d['refunds']:>8,} {d['refused_rows']:>8,} "
                         f"{d['warned_rows']:>8,}")
        return "\n".join(lines)

    emit(args, {"datasets": rows}, render)
    return 0


def cmd_refused(args) -> int:
    from analytics.importer import refused_rows, warned_rows

    con = db.connect(args.db)
    d = db.resolve_dataset(con, args.dataset)
    key = "warnings" if args.warnings else "refused"
    frame = (warned_rows if args.warnings else refused_rows)(con, d.id)
    if args.json:
        emit(args, {"dataset": {"id": d.id, "name": d.name}, key: frame.to_dicts()}, str)
    else:
        sys.stdout.write(frame.write_csv())
    return 0


def cmd_rename(args) -> int:
    con = db.connect(args.db)
    d = db.resolve_dataset(con, args.dataset)
    try:
        db.rename_dataset(con, d.id, args.name)
    except ValueError as e:
        raise UserError(str(e)) from None
    emit(args, {"dataset": {"id": d.id, "name": args.name.strip()}}, lambda r: f"renamed to {r['dataset']['name']!r}")
    return 0


def cmd_delete(args) -> int:
    con = db.connect(args.db)
    d = db.resolve_dataset(con, args.dataset)
    db.delete_dataset(con, d.id)
    emit(args, {"deleted": {"id": d.id, "name": d.name}}, lambda r: f"deleted {r['deleted']['name']!r}")
    return 0
