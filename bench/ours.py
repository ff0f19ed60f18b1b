"""The product's own calls the benchmark times, in one place: when an API moves, only this file follows."""

from __future__ import annotations

import argparse
import importlib.util

REPORT_MODULE = "analytics.report"
WHATIF_MODULE = "analytics.simulate"


def has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def commands() -> set[str]:
    """The subcommands `python -m analytics` offers."""
    from analytics.cli import build_parser

    parser = build_parser()
    return {name for action in parser._actions if isinstance(action, argparse._SubParsersAction)
            for name in action.choices}


def missing() -> dict[str, str]:
    """Product pieces the benchmark needs that are not there yet: step -> why it is skipped."""
    gaps = {}
    offered = commands()
    if not has(REPORT_MODULE):
        gaps["report_warm"] = f"{REPORT_MODULE} does not exist yet"
    if "report" not in offered:
        gaps["report_cold"] = "`python -m analytics report` does not exist yet"
    if not has(WHATIF_MODULE):
        gaps["whatif"] = f"{WHATIF_MODULE} does not exist yet"
    if "simulate" not in offered:
        gaps["simulate_cold"] = "`python -m analytics simulate` does not exist yet"
    return gaps


def report(con, dataset_id: str) -> dict:
    """The headline report for one data set, as `python -m analytics report --json` prints it."""
    from analytics.report import report as run

    return run(con, dataset_id)
