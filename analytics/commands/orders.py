"""`python -m analytics orders`: the orders behind a figure (analytics/drill.py), as the dashboard's Orders
page lists them: the report's filters plus a group (--group KEY=VALUE), searched, sorted, as a text table,
JSON or CSV. Its total is the figure it came from: `--group of=cancelled` counts the report's
cancelled_orders, `--group reason=wrong_item --group of=requests` that reason's requests."""

from __future__ import annotations

import sys

from analytics import capabilities, drill, exports
from analytics.cli import UserError, add_common, emit
from analytics.commands.report import add_filters, check_in_data, filters_from_args, table, with_dataset_note
from analytics.commands.sources import opened
from analytics.filters import Filters
from analytics.load import resolve
from analytics.params import problem_text

TEXT_ROWS = 50  # the text table's rows when --limit is not given (JSON and CSV list every order)
TEXT_COLUMNS = ("order_id", "placed_at", "payment_method", "amount", "seller_id", "reason", "outcome",
                "cancelled_at", "refund_channel", "refund_completed_at")


def register(sub) -> None:
    p = sub.add_parser("orders", help="the orders behind a figure: the filters plus a group, as a list")
    add_common(p, dataset=True)
    p.add_argument("--csv", action="store_true", help="print the orders as CSV (cells a spreadsheet would run "
                                                      "as a formula get a leading ')")
    add_filters(p)
    p.add_argument("--group", action="append", default=[], metavar="KEY=VALUE",
                   help=f"the clicked group, repeatable: {', '.join(drill.GROUP_KEYS)}; "
                        f"of= one of {', '.join(drill.OF)}")
    p.add_argument("--search", metavar="TEXT", help="orders whose id or seller id contains the text")
    p.add_argument("--sort", default=drill.DEFAULT_SORT, metavar="COLUMN",
                   help=f"sort by one of {', '.join(drill.SORTS)} (default {drill.DEFAULT_SORT})")
    p.add_argument("--descending", action="store_true", help="largest (latest) first")
    p.add_argument("--limit", type=int, metavar="N", help=f"at most N orders (text: {TEXT_ROWS} unless given)")
    p.add_argument("--offset", type=int, default=0, metavar="N", help="skip the first N orders")
    # No --source: a registered Parquet source (`register`) is listed from its files, as `report` reads it.
    p.set_defaults(func=cmd_orders, source=None, engine="local", partitions=None)


# The group's link key -> how the command line names it, for its errors.
GROUP_OPTIONS = {prm.name: f"--group {prm.name[len(drill.PREFIX):]}" for prm in drill.GROUP_PARAMS}


def group_from_args(args) -> drill.Group:
    group, problems = drill.Group.from_pairs(args.group)
    if problems:
        raise UserError("; ".join(_group_problem(p) for p in problems))
    return group


def _group_problem(problem) -> str:
    if problem.field in GROUP_OPTIONS or problem.reason != "unknown_key":
        text = problem_text(problem, GROUP_OPTIONS)
        return text if problem.field else f"--group: {text}"
    return f"--group: unknown key {problem.field!r}; expected {problem.expected}"


# The group keys that act as the filters of those names: a value the data set does not have is refused as
# the filter refuses it (it listed no order, silently).
GROUP_AS_FILTER = {"payment": "--group payment_method", "shipping": "--group shipping_method",
                   "reason": "--group reason", "seller": "--group seller"}


def _as_filters(group: drill.Group) -> Filters:
    def one(value):
        return (value,) if value is not None else ()

    return Filters(payment_methods=one(group.payment_method), shipping_methods=one(group.shipping_method),
                   reasons=one(group.reason), sellers=one(group.seller))


def cmd_orders(args) -> int:
    filters = filters_from_args(args)
    group = group_from_args(args)
    if args.sort not in drill.SORTS:
        raise UserError(f"--sort: {args.sort!r} is not a column of the list; expected one of {', '.join(drill.SORTS)}")
    if args.limit is not None and args.limit < 0:
        raise UserError(f"--limit must be 0 or more, got {args.limit}")
    if args.offset < 0:
        raise UserError(f"--offset must be 0 or more, got {args.offset}")
    if args.json and args.csv:
        raise UserError("--json and --csv: choose one")
    limit = args.limit if args.limit is not None or args.json or args.csv else TEXT_ROWS
    with opened(args) as (con, dataset, _):
        ds = resolve(con, dataset)
        check_in_data(con, ds, filters)
        check_in_data(con, ds, _as_filters(group), GROUP_AS_FILTER)
        frame, total = drill.orders(con, ds, filters, group, search=args.search, sort=args.sort,
                                    descending=args.descending, offset=args.offset, limit=limit)
        why_none = drill.unrecorded(group, capabilities.missing(con, ds.id))
    if args.csv:
        sys.stdout.write(exports.to_csv_bytes(frame).decode("utf-8"))
        if why_none:
            print(f"note: not available in this data set: {why_none}", file=sys.stderr)
        return 0
    payload = {"dataset": {"id": ds.id, "name": ds.name}, "filters": filters.to_query(), "group": group.items(),
               "search": args.search or None, "sort": args.sort, "descending": args.descending,
               "offset": args.offset, "total": total, "orders": frame.to_dicts(), "not_available": why_none}
    emit(args, payload, with_dataset_note(args, render))
    return 0


def render(r: dict) -> str:
    out = [f"Data set: {r['dataset']['name']} (id {r['dataset']['id']})"]
    if r["filters"]:
        out.append("Filters: " + ", ".join(f"{k}={v}" for k, v in r["filters"].items()))
    if r["group"]:
        out.append("Group: " + ", ".join(f"{k}={v}" for k, v in r["group"].items()))
    if r["search"]:
        out.append(f"Search: {r['search']}")
    shown = r["orders"]
    first = r["offset"] + 1
    span = f"{first:,} to {r['offset'] + len(shown):,} of " if shown and (len(shown) < r["total"] or r["offset"]) else ""
    out.append(f"Orders: {span}{r['total']:,}")
    if r.get("not_available"):
        out.append(f"Not available in this data set: {r['not_available']}")
    if shown:
        rows = [[_text(row[c]) for c in TEXT_COLUMNS] for row in shown]
        out += ["", table([c.replace("_", " ") for c in TEXT_COLUMNS], rows)]
    if r["offset"] + len(shown) < r["total"]:
        out.append(f"\n{r['total'] - r['offset'] - len(shown):,} more: --offset, --limit, or --csv for every one")
    return "\n".join(out)


def _text(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)
