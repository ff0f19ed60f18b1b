"""Typed parameters: the one definition of what a link, a page's controls and the command line may set.

Filters, a page's own state (period, threshold, the data set, ...) and the policy are all declared as
`Param`s. Each kind has one parser, and a refused value is a `Problem` (field, value, reason, with what
the parameter expects and what was used instead), never an exception: the pages show problems as
notices (`notices`), the command line prints them as its one-line errors (`problem_text`, naming its
own options). Text a person or a link gave stays text: a problem quotes it, cut short, and never reads it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from analytics.text import quoted

KINDS = ("str", "token", "integer", "number", "bool", "choice", "labels", "date", "days_or_fitted",
         "choice_or_range")

# The value of a parameter whose default is "as the data set shows" (None in Python), as text.
DATA = "data"
# A days_or_fitted parameter's value for "drawn from the data set's own refunds".
FITTED = "fitted"

MAX_VALUE_CHARS = 4000          # one value's text; a list is bounded by its items instead
MAX_ITEM_PROBLEMS = 5           # refused items of one list reported; the rest are dropped silently
MAX_NOTICES = 8
ECHO_CHARS = 40
EARLIEST, LATEST = date(1970, 1, 1), date(2200, 12, 31)

# Why a value was refused. Programs compare these; people read `problem_text`.
NOT_TEXT = "not_text"
TOO_LONG = "too_long"
CONTROL_CHARACTERS = "control_characters"
NOT_AN_ID = "not_an_id"
NOT_A_NUMBER = "not_a_number"
NOT_A_WHOLE_NUMBER = "not_a_whole_number"
NOT_FINITE = "not_finite"
OUT_OF_RANGE = "out_of_range"
NOT_TRUE_OR_FALSE = "not_true_or_false"
UNKNOWN_CHOICE = "unknown_choice"
NOT_A_DATE = "not_a_date"
NOT_A_LABEL = "not_a_label"
NOT_IN_DATA = "not_in_data"       # a valid value that this data set does not have
TOO_MANY = "too_many"             # a list, or a link, with more items than read
UNKNOWN_KEY = "unknown_key"
MALFORMED = "malformed"           # not `name=value`
AFTER_END = "after_end"           # a range's start after its end (`related` names the end)
BACKWARDS = "backwards"           # a FROM..TO range whose first day is after its last

_WORDS = {
    NOT_TEXT: "is not text",
    TOO_LONG: "is too long",
    CONTROL_CHARACTERS: "holds control characters",
    NOT_AN_ID: "is not a valid id",
    NOT_A_NUMBER: "is not a number",
    NOT_A_WHOLE_NUMBER: "is not a whole number",
    NOT_FINITE: "is not a finite number",
    OUT_OF_RANGE: "is out of range",
    NOT_TRUE_OR_FALSE: "is not true or false",
    UNKNOWN_CHOICE: "is unknown",
    NOT_A_DATE: "is not a valid date",
    NOT_A_LABEL: "is not a valid label",
    NOT_IN_DATA: "is not in this data set",
    MALFORMED: "is malformed",
    BACKWARDS: "runs backwards (its first day is after its last)",
}

_TOKEN = re.compile(r"[A-Za-z0-9_-]+")
# Labels are normalised like imported labels (trimmed, lower case, runs of spaces/hyphens -> "_").
_LABEL = re.compile(r"[a-z0-9_]+")
# Identifiers such as scenario ids: printable, no separators that would break a comma list.
_IDENT = re.compile(r"[A-Za-z0-9_.:@-]+")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_RANGE = re.compile(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})")
RANGE_SEPARATOR = ".."
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class Problem:
    """A value refused: which parameter (`field`, as the link or the command line named it), the text
    given (`value`, as given: render it with `problem_text`, which quotes and cuts it), why (`reason`,
    one of the constants above), what the parameter takes in words (`expected`) and what was used
    instead (`used`, e.g. "the default (72)"; empty: the value was left out)."""

    field: str
    value: str
    reason: str
    expected: str = ""
    used: str = ""
    related: str = ""  # AFTER_END: the field holding the range's end


class ParameterError(ValueError):
    """A value a person typed (the command line, a control) that a parameter refuses. `problem` says
    which, what and why; the message is its `problem_text`."""

    def __init__(self, problem: Problem | str):
        self.problem = problem if isinstance(problem, Problem) else None
        super().__init__(problem_text(problem) if isinstance(problem, Problem) else problem)


@dataclass(frozen=True)
class Param:
    """One parameter: its name (in links, on the command line, as a control's key), kind, default,
    the words a control shows, and bounds.

    kind: str (free text up to max_len), token (an id of letters, digits, '_' and '-', min_len..max_len),
    integer and number (minimum..maximum, minimum excluded when minimum_exclusive), bool, choice (one of
    `choices`), choice_or_range (one of `choices`, or a range of days FROM..TO written
    YYYY-MM-DD..YYYY-MM-DD, both ends included, parsed as a (first, last) tuple of dates), labels (a comma list or repeated parameter of labels; at most max_items; restricted to
    `choices` when given), date (YYYY-MM-DD), days_or_fitted ('fitted' or a whole number of days).
    labels: `identifiers` keeps each item's case (ids); `any_text` lets an item hold any character
    (labels from the data: a comma in one is written %2C, a '%' %25), else an item is a normalised label
    or id. accepts_data: None is a value, written 'data' (as the data set shows). choice_words: each
    choice's words, in the order of `choices`, as its control offers it and a sentence says it (a link
    and the command line keep the code).
    """

    name: str
    kind: str
    default: Any = None
    label: str = ""
    help: str = ""
    choices: tuple[str, ...] = ()
    choice_words: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    minimum_exclusive: bool = False
    unit: str = ""
    group: str = ""
    min_len: int = 1
    max_len: int = 200
    max_items: int = 50
    identifiers: bool = False
    any_text: bool = False
    accepts_data: bool = False

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown parameter kind {self.kind!r}")
        if self.choice_words and len(self.choice_words) != len(self.choices):
            raise ValueError(f"{self.name}: one choice word for each choice")

    @property
    def title(self) -> str:
        return self.label or self.name

    def choice_text(self, value) -> str:
        """A choice in words ('auto_cancel' -> 'cancel the order'): its entry in choice_words, else the code
        with spaces for underscores."""
        if value in self.choices and self.choice_words:
            return self.choice_words[self.choices.index(value)]
        return str(value).replace("_", " ")

    @property
    def range_text(self) -> str:
        """What the parameter takes, in words: 'a number > 0 and <= 2160 (hours)'."""
        text = _range_text(self)
        return f"'{DATA}' (as the data set shows) or {text}" if self.accepts_data else text

    def parse(self, raw: object) -> Any:
        """The typed value of `raw` (text, or a Python value from a control); raises ParameterError."""
        value, problem = parse(self, raw)
        if problem is not None:
            raise ParameterError(problem)
        return value


# How the import reads a label (a status, a payment method, a reason…), in words for the pages that show one.
LABEL_READING = "in lower case, with spaces and hyphens as underscores"


def normalise_label(text: str) -> str:
    """Trimmed, lower case, runs of spaces and hyphens made one underscore (as the import does: LABEL_READING)."""
    return re.sub(r"[\s\-]+", "_", text.strip().lower())


def _fmt(x: float | None) -> str:
    return "" if x is None else (str(int(x)) if float(x).is_integer() else str(float(x)))


def _bounds(p: Param) -> str:
    low = f"{'>' if p.minimum_exclusive else '>='} {_fmt(p.minimum)}" if p.minimum is not None else ""
    high = f"<= {_fmt(p.maximum)}" if p.maximum is not None else ""
    return " and ".join(x for x in (low, high) if x)


def _range_text(p: Param) -> str:
    unit = f" ({p.unit})" if p.unit else ""
    bounds = _bounds(p)
    if p.kind == "number":
        return f"a number {bounds}".rstrip() + unit
    if p.kind == "integer":
        return f"a whole number {bounds}".rstrip() + unit
    if p.kind == "days_or_fitted":
        return f"'{FITTED}' or a whole number of business days {bounds}".rstrip()
    if p.kind == "bool":
        return "true or false"
    if p.kind == "choice":
        return "one of " + ", ".join(p.choices)
    if p.kind == "date":
        return f"a date written YYYY-MM-DD from {EARLIEST} to {LATEST}"
    if p.kind == "choice_or_range":
        return ("one of " + ", ".join(p.choices) + f", or a range of days FROM..TO written "
                f"YYYY-MM-DD..YYYY-MM-DD from {EARLIEST} to {LATEST}")
    if p.kind == "token":
        return f"an id of {p.min_len} to {p.max_len} letters, digits, _ or -"
    if p.kind == "str":
        return f"text of at most {p.max_len} characters, without control characters"
    return _item_text(p)


def _item_text(p: Param) -> str:
    """What one item of a labels parameter may be."""
    if p.choices:
        return "one of " + ", ".join(p.choices)
    if p.any_text:
        return f"values of at most {p.max_len} characters"
    if p.identifiers:
        return f"ids of at most {p.max_len} letters, digits, _ . : @ or -"
    return f"labels of at most {p.max_len} letters, digits and _"


def default_value(p: Param) -> Any:
    """The parameter's default, as parsing gives it (a tuple for labels)."""
    return tuple(p.default or ()) if p.kind == "labels" else p.default


def value_text(value: object) -> str:
    """A value as a link and the command line write it: 48 not 48.0, true/false, `data` for None."""
    if value is None:
        return DATA
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, date) for v in value):
        return f"{value[0].isoformat()}{RANGE_SEPARATOR}{value[1].isoformat()}"
    return str(value)


def serialise_value(p: Param, value: Any) -> str:
    """The canonical text of one value of `p` (a list's items joined by commas, each escaped)."""
    if p.kind == "labels":
        return ",".join(v.replace("%", "%25").replace(",", "%2C") for v in value)
    return value_text(value)


class _Refused(Exception):
    def __init__(self, reason: str):
        self.reason = reason


def parse(p: Param, raw: object) -> tuple[Any, Problem | None]:
    """The typed value of `raw` (text from a link or the command line, or a Python value from a control)
    and None; or p's default and the Problem saying why `raw` was refused. Never raises on `raw`.
    A blank value means None where the default is None. labels: use `parse_list`."""
    if p.kind == "labels":
        items, problems = parse_list(p, [raw] if isinstance(raw, str) else raw or ())
        return items, (problems[0] if problems else None)
    try:
        return _value(p, raw), None
    except _Refused as e:
        text = raw if isinstance(raw, str) else ("" if raw is None else str(raw))
        shown = "none" if p.default is None and not p.accepts_data else value_text(p.default) or "none"
        return default_value(p), Problem(p.name, text[:MAX_VALUE_CHARS], e.reason, p.range_text,
                                         used=f"the default ({shown})")


def _value(p: Param, raw: object) -> Any:
    if p.kind == "bool" and isinstance(raw, bool):
        return raw
    if p.kind in ("integer", "number", "days_or_fitted") and isinstance(raw, int | float) \
            and not isinstance(raw, bool):
        return _number(p, raw)
    if p.kind == "date" and isinstance(raw, date) and not isinstance(raw, datetime):
        return _day(raw)
    if p.kind == "choice_or_range" and isinstance(raw, tuple):
        raw = value_text(raw)
    if raw is not None and not isinstance(raw, str | int | float):
        raise _Refused(NOT_TEXT)
    text = "" if raw is None else str(raw)
    if len(text) > MAX_VALUE_CHARS:
        raise _Refused(TOO_LONG)
    text = text.strip()
    if p.default is None and (not text or (p.accepts_data and text.lower() == DATA)):
        return None
    if p.kind == "str":
        if len(text) > p.max_len:
            raise _Refused(TOO_LONG)
        if any(ord(c) < 32 or ord(c) == 127 for c in text):
            raise _Refused(CONTROL_CHARACTERS)
        return text
    if p.kind == "token":
        if not (p.min_len <= len(text) <= p.max_len) or not _TOKEN.fullmatch(text):
            raise _Refused(NOT_AN_ID)
        return text
    if p.kind in ("integer", "number", "days_or_fitted"):
        if p.kind == "days_or_fitted" and text.lower() in (FITTED, ""):
            return FITTED
        try:
            number = int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                raise _Refused(NOT_A_NUMBER) from None
        return _number(p, number)
    if p.kind == "bool":
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise _Refused(NOT_TRUE_OR_FALSE)
    if p.kind == "choice":
        value = normalise_label(text)
        if value not in p.choices:
            raise _Refused(UNKNOWN_CHOICE)
        return value
    if p.kind == "choice_or_range":
        if normalise_label(text) in p.choices:
            return normalise_label(text)
        found = _RANGE.fullmatch(text.replace(" ", ""))
        if not found:
            raise _Refused(NOT_A_DATE if RANGE_SEPARATOR in text else UNKNOWN_CHOICE)
        try:
            first, last = (_day(date.fromisoformat(d)) for d in found.groups())
        except ValueError:
            raise _Refused(NOT_A_DATE) from None
        if first > last:
            raise _Refused(BACKWARDS)
        return first, last
    # date
    if not _DATE.fullmatch(text):
        raise _Refused(NOT_A_DATE)
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise _Refused(NOT_A_DATE) from None
    return _day(day)


def _number(p: Param, number: float) -> float | int:
    if isinstance(number, float) and not math.isfinite(number):
        raise _Refused(NOT_FINITE)
    whole = p.kind != "number"
    if whole and number != int(number):
        raise _Refused(NOT_A_WHOLE_NUMBER)
    if (p.minimum is not None and (number < p.minimum or (p.minimum_exclusive and number == p.minimum))) \
            or (p.maximum is not None and number > p.maximum):
        raise _Refused(OUT_OF_RANGE)
    return int(number) if whole else float(number)


def _day(day: date) -> date:
    if not EARLIEST <= day <= LATEST:
        raise _Refused(OUT_OF_RANGE)
    return day


def parse_list(p: Param, texts: Iterable[object]) -> tuple[tuple[str, ...], list[Problem]]:
    """A labels parameter's items from its texts (each a comma list): the valid ones, deduplicated in
    order, at most p.max_items; a Problem per refused item (the first few) and one when some were cut.
    Items that are not text are skipped. Never raises."""
    items: list[str] = []
    problems: list[Problem] = []
    refused = 0
    pattern = None if p.any_text else (_IDENT if p.identifiers else _LABEL)
    for text in texts:
        if not isinstance(text, str):
            continue
        for part in text.split(","):
            raw = part.replace("%2C", ",").replace("%25", "%").strip()
            if not raw:
                continue
            item = raw if p.identifiers else normalise_label(raw)
            reason = None
            if len(item) > p.max_len:
                reason = TOO_LONG
            elif p.choices and item not in p.choices:
                reason = UNKNOWN_CHOICE
            elif pattern is not None and not pattern.fullmatch(item):
                reason = NOT_AN_ID if p.identifiers else NOT_A_LABEL
            if reason is not None:
                refused += 1
                if refused <= MAX_ITEM_PROBLEMS:
                    problems.append(Problem(p.name, raw[:MAX_VALUE_CHARS], reason, _item_text(p)))
            elif item not in items:
                items.append(item)
    if len(items) > p.max_items:
        problems.append(Problem(p.name, str(len(items)), TOO_MANY, f"at most {p.max_items}",
                                used=f"the first {p.max_items}"))
        items = items[: p.max_items]
    return tuple(items), problems


def parse_values(raw: Mapping[str, object], params: Sequence[Param]) -> tuple[dict[str, Any], list[Problem], set[str]]:
    """Each parameter's value from `raw` (name -> text, or a list of texts when the name repeats: the last
    counts, except for labels, which take them all): (values, problems, the names set to a valid value).
    Names in `raw` that are not among `params` are not looked at. Never raises on `raw`."""
    values = {p.name: default_value(p) for p in params}
    problems: list[Problem] = []
    given: set[str] = set()
    for p in params:
        if p.name not in raw:
            continue
        value = raw[p.name]
        if isinstance(value, str):
            texts = [value]
        elif isinstance(value, list | tuple):
            texts = [t for t in value if isinstance(t, str)]
        else:
            problems.append(Problem(p.name, "" if value is None else str(value)[:ECHO_CHARS], NOT_TEXT,
                                    p.range_text))
            continue
        if not texts:
            continue
        if p.kind == "labels":
            values[p.name], found = parse_list(p, texts)
        else:
            values[p.name], problem = parse(p, texts[-1])
            found = [problem] if problem else []
        problems += found
        if p.kind == "labels" or not found:
            given.add(p.name)
    return values, problems, given


def problem_text(problem: Problem, names: Mapping[str, str] | None = None) -> str:
    """The one line that says what is wrong and what is expected, e.g.
    'hours: “abc” is not a number; expected a number >= 1 and <= 720'. `names` maps a field to what the
    reader calls it (the command line's options); the refused text is quoted and cut short."""
    names = names or {}
    name = names.get(problem.field, problem.field)
    shown = quoted(problem.value, ECHO_CHARS)
    expected = f"; expected {problem.expected}" if problem.expected else ""
    if problem.reason == UNKNOWN_KEY:
        return f"unknown parameter {quoted(problem.field, ECHO_CHARS)}{expected}"
    if problem.reason == TOO_MANY:
        return f"{name or 'the link'}: {problem.value} given{expected}"
    if problem.reason == AFTER_END:
        return f"{name}: {shown} is after {names.get(problem.related, problem.related)}{expected}"
    words = _WORDS.get(problem.reason, "is refused")
    return f"{name}: {shown} {words}{expected}" if name else f"{shown} {words}{expected}"


def notice_text(problem: Problem) -> str:
    """A problem as a page shows it: what is wrong, and what the page used instead."""
    return f"{problem_text(problem)}; {'using ' + problem.used if problem.used else 'ignored'}."


def notices(problems: Sequence[Problem]) -> list[str]:
    """The notices a page shows for a link's problems: one a problem, the unknown names the link carried
    in one line, at most MAX_NOTICES in all."""
    unknown = [p.field for p in problems if p.reason == UNKNOWN_KEY and not p.expected]
    out = [notice_text(p) for p in problems if not (p.reason == UNKNOWN_KEY and not p.expected)]
    if unknown:
        listed = ", ".join(quoted(n, ECHO_CHARS) for n in unknown[:5])
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        out.append(f"Unknown link parameter{'s' if len(unknown) > 1 else ''} {listed}{more} ignored.")
    if len(out) > MAX_NOTICES:
        out = out[: MAX_NOTICES - 1] + [f"… and {len(out) - MAX_NOTICES + 1} more problems with the link."]
    return out
