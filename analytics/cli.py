"""`python -m analytics ...`: the scripting interface. Every command is a module with `register(subparsers)`;
each registered handler takes the parsed args and returns (exit code, payload) where payload is printed as
JSON with --json, or as text by the command's own `render` otherwise."""

from __future__ import annotations

import argparse
import importlib
import json
import sys

import duckdb

from analytics import db

# One module per command group; each defines register(subparsers).
COMMAND_MODULES = [
    "analytics.commands.data",      # generate, import, datasets
    "analytics.commands.report",    # report
    "analytics.commands.whatif",    # calibrate, simulate, sweep
]


class UserError(Exception):
    """A problem the user can fix: printed as one line, exit code 2, never a traceback."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m analytics", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def add_common(p: argparse.ArgumentParser, dataset: bool = False) -> None:
    """Options every command shares."""
    p.add_argument("--db", metavar="PATH", help="database file (default: $CANCELLATION_LAB_DB or data/cancellation_lab.duckdb)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    if dataset:
        p.add_argument("--dataset", metavar="ID_OR_NAME", help="data set id or name (default: the most recent)")


def emit(args, payload: dict, render) -> None:
    if getattr(args, "json", False):
        print(json.dumps(payload, indent=2, default=str))
    else:
        print(render(payload))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except LookupError as e:  # an unknown data set and the like
        print(f"error: {e.args[0] if e.args else e}", file=sys.stderr)
        return 2
    except duckdb.IOException as e:
        # DuckDB lets one process write a file: most often the dashboard holds it.
        if "lock" in str(e).lower():
            print(f"error: another process (the running dashboard?) has {db.db_path(getattr(args, 'db', None))} "
                  "open; stop it, or use another file with --db", file=sys.stderr)
        else:
            print(f"error: cannot open the database: {str(e).splitlines()[0]}", file=sys.stderr)
        return 2
