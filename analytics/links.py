"""Shareable links: a view's state as URL query parameters, parsed, bounded and written back.

Query parameters are untrusted input. `parse` never raises on what a URL carries: each value is
parsed by its `Param` (analytics.params: kind, range, length, allowed labels); a bad or unknown one
becomes a `Problem` and the parameter keeps its default. The page shows the problems as notices.
`serialise` writes the canonical form back, leaving out values equal to their default, so a link
stays short and `parse(serialise(v)) == v` for every value `parse` can return.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from analytics.params import (
    TOO_MANY,
    UNKNOWN_KEY,
    Param,
    Problem,
    default_value,
    notices,
    parse_values,
    serialise_value,
)

# Hard limit on what a URL may make us read: beyond it the rest is ignored with one problem.
MAX_PARAMS = 80

__all__ = ["MAX_PARAMS", "Param", "Parsed", "parse", "serialise"]


@dataclass
class Parsed:
    """What `parse` gives back: a value for every known parameter, and the problems found."""

    values: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)
    # Names the URL set to a valid value (the rest hold their defaults).
    given: set[str] = field(default_factory=set)

    @property
    def notices(self) -> list[str]:
        """The problems as the page shows them."""
        return notices(self.problems)


def parse(
    raw: Mapping[str, str | Sequence[str]],
    params: Sequence[Param],
    *,
    ignore: Collection[str] = (),
) -> Parsed:
    """Every parameter's value from a URL's query parameters, and the problems found.

    raw maps a name to its value, or to every value when the name repeats (the last one counts,
    except for labels, which take them all). Names in `ignore` are known elsewhere and pass silently;
    any other unknown name is a problem. Never raises on the content of `raw`.
    """
    problems: list[Problem] = []
    names = list(raw.keys())
    if len(names) > MAX_PARAMS:
        problems.append(Problem("", str(len(names)), TOO_MANY, f"at most {MAX_PARAMS} parameters",
                                used=f"the first {MAX_PARAMS}"))
        names = names[:MAX_PARAMS]
    known = {p.name for p in params}
    values, found, given = parse_values({n: raw[n] for n in names if n in known}, params)
    problems += found
    problems += [Problem(str(n), _text(raw[n]), UNKNOWN_KEY) for n in names if n not in known and n not in ignore]
    return Parsed(values=values, problems=problems, given=given)


def _text(value: object) -> str:
    if isinstance(value, list | tuple):
        value = value[-1] if value else ""
    return value if isinstance(value, str) else str(value)


def serialise(values: Mapping[str, Any], params: Sequence[Param]) -> dict[str, str]:
    """The query parameters for `values`: known names only, defaults and empty values left out."""
    out: dict[str, str] = {}
    for p in params:
        if p.name not in values:
            continue
        value = values[p.name]
        if p.kind == "labels":
            value = tuple(value or ())
        if value is None or value == default_value(p) or (p.kind == "labels" and not value):
            continue
        out[p.name] = serialise_value(p, value)
    return out
