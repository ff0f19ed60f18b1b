"""`python -m analytics ...`: the scripting interface. Every command is a module with `register(subparsers)`;
each registered handler takes the parsed args and returns (exit code, payload) where payload is printed as
JSON with --json, or as text by the command's own `render` otherwise."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import select
import sys
from pathlib import Path

import duckdb

from analytics import db

# One module per command group; each defines register(subparsers).
COMMAND_MODULES = [
    "analytics.commands.data",      # generate, import, datasets
    "analytics.commands.report",    # report
    "analytics.commands.whatif",    # calibrate, simulate, sweep
    "analytics.commands.frontier",  # frontier
    "analytics.commands.sources",   # export (Parquet)
    "analytics.commands.orders",    # orders
]


class UserError(Exception):
    """A problem the user can fix: printed as one line, exit code 2, never a traceback."""


class Parser(argparse.ArgumentParser):
    """argparse's parser, with a usage mistake said in one line (and where to read the usage)."""

    def error(self, message: str):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m analytics", description=DESCRIPTION)
    # Also before the command (`python -m analytics --db x.duckdb datasets`), as many tools take it; a
    # --db after the command wins.
    parser.add_argument("--db", metavar="PATH", dest="db_before", help=DB_HELP)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


# What --help says first: the product's, for the person running it (this module's docstring is for its readers).
DESCRIPTION = ("Cancellation Lab's command line: order cancellations and refunds, what is happening and what if "
               "the policy changed. Every command takes --db PATH and --json; COMMAND --help lists its options.")
DB_HELP = "database file (default: $CANCELLATION_LAB_DB or data/cancellation_lab.duckdb)"


def add_common(p: argparse.ArgumentParser, dataset: bool = False) -> None:
    """Options every command shares."""
    p.add_argument("--db", metavar="PATH", help=DB_HELP)
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    if dataset:
        p.add_argument("--dataset", metavar="ID_OR_NAME", help="data set id or name (default: the most recent)")


def emit(args, payload: dict, render) -> None:
    if getattr(args, "json", False):
        print(json.dumps(payload, indent=2, default=str))
    else:
        print(render(payload))


# DuckDB names the process that holds a file's lock: 'Conflicting lock is held in /usr/bin/python3
# (PID 4242) by user ann.'
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)(?: by user (?P<user>\S+?))?\.?(?:\s|$)")


def lock_message(error_text: str, path: object) -> str:
    """What to say when the database file is locked by another writer: the holder when DuckDB names it."""
    found = _LOCK_HOLDER.search(error_text)
    if found:
        who = f"process {found['pid']} ({found['program']}"
        who += f", user {found['user']})" if found["user"] else ")"
    else:
        who = "another process"
    return f"{path} is open in {who}, and DuckDB lets one process write a file at a time; stop it, or use another file with --db"


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def _os_error(e: OSError, database: Path) -> str:
    """An operating-system error as one sentence naming the file, and whether it was the database's."""
    why = (e.strerror or _first_line(e)).lower()
    name = Path(e.filename) if e.filename else None
    if name is not None and (name == database or name in database.parents):
        return f"cannot open or create the database {database}: {name}: {why}"
    return f"{e.filename}: {why}" if e.filename else why


def _reader_gone() -> bool:
    """Whether standard output is a pipe whose reader has closed it (`| head` that has its lines)."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (OSError, ValueError, AttributeError):
        return False


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "db", None) is None:
        args.db = args.db_before
    database = db.db_path(args.db)
    try:
        code = args.func(args) or 0
        sys.stdout.flush()   # a reader that has gone (`| head`) is found here, not as the process exits
        return code
    except BrokenPipeError as e:
        if not _reader_gone():
            print(f"error: {args.command} failed: {_first_line(e)}", file=sys.stderr)
            return 2
        # The reader took what it wanted and went: nothing went wrong, nothing to say. Python's own exit
        # code on a closed pipe (1); what is left to flush goes nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
    except LookupError as e:  # an unknown data set and the like
        print(f"error: {e.args[0] if e.args else e}", file=sys.stderr)
    except duckdb.IOException as e:
        if "lock" in str(e).lower():
            print(f"error: {lock_message(str(e), database)}", file=sys.stderr)
        else:
            print(f"error: cannot open the database {database}: {_first_line(e)}", file=sys.stderr)
    except OSError as e:
        print(f"error: {_os_error(e, database)}", file=sys.stderr)
    except MemoryError:
        print("error: not enough memory for this command; try a smaller data set or fewer replicates", file=sys.stderr)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
    except Exception as e:  # noqa: BLE001 - the command line never shows a traceback; one line says what failed
        print(f"error: {args.command} failed: {type(e).__name__}: {_first_line(e)}", file=sys.stderr)
    return 2
