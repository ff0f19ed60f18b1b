"""Shareable links: a view's state as URL query parameters, parsed, bounded and written back.

Query parameters are untrusted input. `parse` never raises on what a URL carries: each value is
checked against its `Param` (kind, range, length, allowed labels); a bad or unknown one becomes a
notice (a short sentence of plain text, shown by
the page as text) and the parameter keeps its default.
`serialise` writes the canonical form back, leaving out values equal to their default, so a link
stays short and `parse(serialise(v)) == v` for every value `parse` can return.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from analytics.text import quoted

# Hard limits on what a URL may make us read: beyond them the rest is ignored with one notice.
MAX_PARAMS = 80
MAX_VALUE_CHARS = 4000
MAX_NOTICES = 8
ECHO_CHARS = 40

KINDS = ("str", "token", "int", "float", "bool", "choice", "labels", "date")

_TOKEN = re.compile(r"^[A-Za-z0-9_-]+$")
# Labels are normalised like imported labels (trimmed, lower case, runs of spaces/hyphens -> "_").
_LABEL = re.compile(r"^[a-z0-9_]+$")
# Identifiers such as seller ids: printable, no separators that would break a comma list.
_IDENT = re.compile(r"^[A-Za-z0-9_.:@-]+$")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_EARLIEST = date(1990, 1, 1)
_LATEST = date(2100, 12, 31)


@dataclass(frozen=True)
class Param:
    """One query parameter: its name in the URL, kind, default and bounds.

    kind: str (free text up to max_len), token (URL-safe id, min_len..max_len), int and float
    (low..high inclusive), bool, choice (one of `choices`), labels (a comma list of normalised
    labels or identifiers, at most max_items; restricted to `choices` when given), date (YYYY-MM-DD).
    """

    name: str
    kind: str
    default: Any = None
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    min_len: int = 1
    max_len: int = 200
    max_items: int = 50
    label: str = ""
    identifiers: bool = False  # labels kind: keep case and allow . : @ (seller ids)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown parameter kind {self.kind!r}")

    @property
    def title(self) -> str:
        return self.label or self.name


@dataclass
class Parsed:
    """What `parse` gives back: a value for every known parameter, and the notices to show."""

    values: dict[str, Any]
    notices: list[str] = field(default_factory=list)
    # Names the URL set to a valid value (the rest hold their defaults).
    given: set[str] = field(default_factory=set)


def _echo(text: str) -> str:
    return quoted(text, ECHO_CHARS)


def normalise_label(text: str) -> str:
    """Trimmed, lower case, runs of spaces and hyphens made one underscore (as the import does)."""
    return re.sub(r"[\s\-]+", "_", text.strip().lower())


def _bound_text(p: Param) -> str:
    if p.low is not None and p.high is not None:
        return f"between {_fmt_number(p.low)} and {_fmt_number(p.high)}"
    if p.low is not None:
        return f"at least {_fmt_number(p.low)}"
    if p.high is not None:
        return f"at most {_fmt_number(p.high)}"
    return "a number"


def _fmt_number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def parse_value(p: Param, text: str) -> Any:
    """One value from its URL text; raises ValueError with a sentence that says what is allowed."""
    if len(text) > MAX_VALUE_CHARS:
        raise ValueError(f"is longer than {MAX_VALUE_CHARS} characters")
    text = text.strip()
    if p.kind == "str":
        if len(text) > p.max_len:
            raise ValueError(f"is longer than {p.max_len} characters")
        if any(ord(c) < 32 for c in text):
            raise ValueError("holds control characters")
        return text
    if p.kind == "token":
        if not (p.min_len <= len(text) <= p.max_len) or not _TOKEN.match(text):
            raise ValueError("is not a valid id")
        return text
    if p.kind in ("int", "float"):
        try:
            number = float(text) if p.kind == "float" else int(text)
        except ValueError:
            raise ValueError(f"should be {'a whole number' if p.kind == 'int' else 'a number'}") from None
        if isinstance(number, float) and not math.isfinite(number):
            raise ValueError("should be a finite number")
        if (p.low is not None and number < p.low) or (p.high is not None and number > p.high):
            raise ValueError(f"should be {_bound_text(p)}")
        return number
    if p.kind == "bool":
        low = text.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ValueError("should be true or false")
    if p.kind == "choice":
        value = normalise_label(text)
        if value not in p.choices:
            raise ValueError(f"should be one of {', '.join(p.choices)}")
        return value
    if p.kind == "date":
        try:
            value = date.fromisoformat(text)
        except ValueError:
            raise ValueError("should be a date written YYYY-MM-DD") from None
        if not (_EARLIEST <= value <= _LATEST):
            raise ValueError(f"should be between {_EARLIEST} and {_LATEST}")
        return value
    # labels: handled item by item in parse_labels
    raise ValueError("is a list")  # pragma: no cover - parse routes lists elsewhere


def parse_labels(p: Param, texts: Iterable[str]) -> tuple[tuple[str, ...], list[str]]:
    """A comma list (or repeated parameter) of labels: the valid items, deduplicated in order, and
    one problem sentence per kind of bad item. Never raises."""
    items: list[str] = []
    bad: list[str] = []
    for text in texts:
        if len(text) > MAX_VALUE_CHARS:
            bad.append(text)
            continue
        for raw in text.split(","):
            raw = raw.strip()
            if not raw:
                continue
            item = raw if p.identifiers else normalise_label(raw)
            pattern = _IDENT if p.identifiers else _LABEL
            if len(item) > p.max_len or not pattern.match(item) or (p.choices and item not in p.choices):
                bad.append(raw)
            elif item not in items:
                items.append(item)
    problems = []
    if bad:
        allowed = f"one of {', '.join(p.choices)}" if p.choices else "a label of letters, digits and _"
        problems.append(f"ignored {', '.join(_echo(b) for b in bad[:3])}{' …' if len(bad) > 3 else ''}: each item should be {allowed}")
    if len(items) > p.max_items:
        problems.append(f"keeps its first {p.max_items} items of {len(items)}")
        items = items[: p.max_items]
    return tuple(items), problems


def _default(p: Param) -> Any:
    if p.kind == "labels":
        return tuple(p.default or ())
    return p.default


def parse(
    raw: Mapping[str, str | Sequence[str]],
    params: Sequence[Param],
    *,
    ignore: Collection[str] = (),
) -> Parsed:
    """Every parameter's value from a URL's query parameters, and the notices to show.

    raw maps a name to its value, or to every value when the name repeats (the last one counts,
    except for labels, which take them all). Names in `ignore` are known elsewhere and pass silently;
    any other unknown name is reported. Never raises on the content of `raw`.
    """
    by_name = {p.name: p for p in params}
    values = {p.name: _default(p) for p in params}
    notices: list[str] = []
    given: set[str] = set()
    names = list(raw.keys())
    if len(names) > MAX_PARAMS:
        notices.append(f"The link has {len(names)} parameters; only the first {MAX_PARAMS} were read.")
        names = names[:MAX_PARAMS]
    unknown = []
    for name in names:
        value = raw[name]
        texts = [value] if isinstance(value, str) else [str(v) for v in value]
        p = by_name.get(name)
        if p is None:
            if name not in ignore:
                unknown.append(name)
            continue
        if not texts:
            continue
        if p.kind == "labels":
            items, problems = parse_labels(p, texts)
            for problem in problems:
                notices.append(f"Link parameter {p.name} {problem}.")
            values[p.name] = items
            given.add(p.name)
            continue
        text = texts[-1]
        try:
            values[p.name] = parse_value(p, text)
            given.add(p.name)
        except ValueError as e:
            shown = _default(p)
            default = "none" if shown in (None, "") else serialise_value(p, shown)
            notices.append(f"Link parameter {p.name} = {_echo(text)} {e}; using the default ({default}).")
    if unknown:
        listed = ", ".join(_echo(n) for n in unknown[:5])
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        notices.append(f"Unknown link parameter{'s' if len(unknown) > 1 else ''} {listed}{more} ignored.")
    if len(notices) > MAX_NOTICES:
        extra = len(notices) - MAX_NOTICES + 1
        notices = notices[: MAX_NOTICES - 1] + [f"… and {extra} more problems with the link."]
    return Parsed(values=values, notices=notices, given=given)


def serialise_value(p: Param, value: Any) -> str:
    """The canonical URL text of one value."""
    if p.kind == "labels":
        return ",".join(value)
    if p.kind == "bool":
        return "true" if value else "false"
    if p.kind == "date":
        return value.isoformat()
    if p.kind == "float":
        return _fmt_number(float(value))
    return str(value)


def serialise(values: Mapping[str, Any], params: Sequence[Param]) -> dict[str, str]:
    """The query parameters for `values`: known names only, defaults and empty values left out."""
    out: dict[str, str] = {}
    for p in params:
        if p.name not in values:
            continue
        value = values[p.name]
        if p.kind == "labels":
            value = tuple(value or ())
        if value is None or value == _default(p) or (p.kind == "labels" and not value):
            continue
        out[p.name] = serialise_value(p, value)
    return out
