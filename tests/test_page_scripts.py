"""The page scripts run without Streamlit's "magic" (.streamlit/config.toml turns it off): no page has a
bare expression that magic would have shown, so turning it off changes nothing on screen."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]
NOT_SHOWN = (ast.Call, ast.Await, ast.Yield, ast.YieldFrom)


def bare_expressions(source: str) -> list[int]:
    """Lines of the expression statements magic would write to the page: any but a call (or await,
    yield) and a module's or function's docstring."""
    found = []
    for node in ast.walk(ast.parse(source)):
        for field in ("body", "orelse", "finalbody"):
            statements = getattr(node, field, None)
            if not isinstance(statements, list):
                continue
            for i, statement in enumerate(statements):
                if not isinstance(statement, ast.Expr) or isinstance(statement.value, NOT_SHOWN):
                    continue
                docstring = (i == 0 and isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef)
                             and isinstance(statement.value, ast.Constant) and isinstance(statement.value.value, str))
                if not docstring:
                    found.append(statement.lineno)
    return found


def test_no_page_has_an_expression_magic_would_show():
    assert len(SCRIPTS) >= 7
    assert {script.name: bare_expressions(script.read_text()) for script in SCRIPTS} == {s.name: [] for s in SCRIPTS}


def test_what_magic_would_show_is_found():
    source = '"""A page."""\nimport streamlit as st\nst.title("x")\nx = 1\nx\nif x:\n    "words"\n    x + 1\n'
    assert bare_expressions(source) == [5, 7, 8]


def test_magic_is_off():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["magicEnabled"] is False
