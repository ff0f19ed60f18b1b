"""The filters every analytics view shares, as one small frozen value.

`Filters` selects a set of orders; every metric is then computed over that set and only that set, so a
filter on a reason leaves the other reasons out of every number, not only out of the reasons chart.

    start, end        a date range, both ends inclusive (whole days, UTC); None means open
    anchor            which date the range tests: 'order' (placed_at), 'request' (the cancellation
                      request's requested_at) or 'refund' (the refund's initiated_at). With 'request' or
                      'refund' and a range set, orders without that event (or without its time) are out.
    payment_methods, shipping_methods, sellers
                      the order's own labels
    reasons           the reason of the order's cancellation request (orders without a request are out)
    stages            the stage of the order's cancellation request, or of its cancellation when no request
                      was recorded (an order cancelled by status alone); orders with neither are out
Every tuple empty means "all". Values are kept sorted and without duplicates, so two equal selections
hash equal: a Filters is a cache key.

Links carry filters as query parameters (`to_query` / `from_query`). Those are untrusted: `from_query`
parses and bounds them and returns the filters plus a list of notices for what it refused, never raising.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date

from analytics.outcomes import STAGES
from analytics.text import quoted

ANCHORS = ("order", "request", "refund")

# Query-parameter name for each field. Names are short because they end up in links people paste.
QUERY_KEYS = {
    "start": "from",
    "end": "to",
    "anchor": "anchor",
    "payment_methods": "payment",
    "shipping_methods": "shipping",
    "sellers": "seller",
    "reasons": "reason",
    "stages": "stage",
}

# Bounds on untrusted input: a link is typed or pasted by a person, so anything larger is not one.
MAX_VALUES = 500
MAX_VALUE_LENGTH = 200
MIN_YEAR, MAX_YEAR = 1970, 2200

_LIST_FIELDS = ("payment_methods", "shipping_methods", "sellers", "reasons", "stages")
# Fields holding labels the import normalised; seller ids are kept as they are (trimmed only).
_LABEL_FIELDS = ("payment_methods", "shipping_methods", "reasons", "stages")


def normalise_label(value: str) -> str:
    """The import's label rule: trimmed, lower case, runs of spaces and hyphens become one underscore."""
    return re.sub(r"[\s\-]+", "_", value.strip().lower())


def _as_tuple(values: Iterable[str] | str | None, *, label: bool) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        values = (values,)
    cleaned = (normalise_label(v) if label else v.strip() for v in values)
    return tuple(sorted({v for v in cleaned if v}))


@dataclass(frozen=True)
class Filters:
    """A selection of orders. Construct directly with trusted values (a bad value raises ValueError);
    build from a link with `Filters.from_query`, which never raises."""

    start: date | None = None
    end: date | None = None
    anchor: str = "order"
    payment_methods: tuple[str, ...] = ()
    shipping_methods: tuple[str, ...] = ()
    sellers: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Lists, sets and unsorted tuples become sorted tuples so that equal selections are equal values.
        for name in _LIST_FIELDS:
            object.__setattr__(self, name, _as_tuple(getattr(self, name), label=name in _LABEL_FIELDS))
        if self.anchor not in ANCHORS:
            raise ValueError(f"anchor must be one of {', '.join(ANCHORS)}, not {self.anchor!r}")
        for name in ("start", "end"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, date) or hasattr(value, "hour")):
                raise ValueError(f"{name} must be a date, not {value!r}")
        if self.start and self.end and self.start > self.end:
            raise ValueError(f"start {self.start} is after end {self.end}")
        unknown = [s for s in self.stages if s not in STAGES]
        if unknown:
            raise ValueError(f"unknown stage {unknown[0]!r}: stages are {', '.join(STAGES)}")

    @property
    def is_empty(self) -> bool:
        """True when the filters select every order."""
        return self == Filters(anchor=self.anchor)

    @property
    def has_date_range(self) -> bool:
        return self.start is not None or self.end is not None

    def replace(self, **changes) -> Filters:
        return replace(self, **changes)

    def to_query(self) -> dict[str, str]:
        """Query parameters for a link: only the fields that differ from the default; lists joined with
        commas (a comma or '%' inside a value is escaped as %2C / %25 so it survives the split)."""
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value == f.default:
                continue
            key = QUERY_KEYS[f.name]
            if isinstance(value, tuple):
                out[key] = ",".join(v.replace("%", "%25").replace(",", "%2C") for v in value)
            elif isinstance(value, date):
                out[key] = value.isoformat()
            else:
                out[key] = str(value)
        return out

    @classmethod
    def from_query(cls, params: Mapping[str, str | Sequence[str]]) -> tuple[Filters, list[str]]:
        """Filters from query parameters, plus one notice per value refused (and replaced by its
        default). Keys that are not filters are ignored: the link carries other state too.
        A value may be a string (comma-separated for lists) or a list of strings (repeated keys)."""
        notices: list[str] = []
        kwargs: dict = {}
        for name, key in QUERY_KEYS.items():
            if key not in params:
                continue
            raw = params[key]
            if isinstance(raw, str):
                strings = [raw]
            elif isinstance(raw, list | tuple):
                strings = [s for s in raw if isinstance(s, str)]
            else:
                notices.append(f"{key}: not text; ignored")
                continue
            if name in ("start", "end"):
                parsed = _parse_date(key, strings[-1] if strings else "", notices)
                if parsed is not None:
                    kwargs[name] = parsed
            elif name == "anchor":
                value = normalise_label(strings[-1][:MAX_VALUE_LENGTH]) if strings else ""
                if value in ANCHORS:
                    kwargs[name] = value
                else:
                    notices.append(f"{key}: {_show(value)} is not one of {', '.join(ANCHORS)}; using 'order'")
            else:
                kwargs[name] = _parse_list(key, strings, notices, label=name in _LABEL_FIELDS)
        if "stages" in kwargs:
            bad = [s for s in kwargs["stages"] if s not in STAGES]
            if bad:
                notices.append(f"stage: {', '.join(_show(b) for b in bad)} ignored: stages are {', '.join(STAGES)}")
                kwargs["stages"] = tuple(s for s in kwargs["stages"] if s in STAGES)
        if kwargs.get("start") and kwargs.get("end") and kwargs["start"] > kwargs["end"]:
            notices.append(f"from {kwargs['start']} is after to {kwargs['end']}: date range ignored")
            kwargs.pop("start")
            kwargs.pop("end")
        return cls(**kwargs), notices


NO_FILTERS = Filters()  # every order


def _show(value: str) -> str:
    """A refused value, quoted and cut short so a hostile link cannot flood the page."""
    return quoted(value, 40)


def _parse_date(key: str, text: str, notices: list[str]) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        if len(text) != 10:
            raise ValueError
        value = date.fromisoformat(text)
    except ValueError:
        notices.append(f"{key}: {_show(text)} is not a date (YYYY-MM-DD); ignored")
        return None
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        notices.append(f"{key}: {value} is outside {MIN_YEAR}–{MAX_YEAR}; ignored")
        return None
    return value


def _parse_list(key: str, strings: list[str], notices: list[str], *, label: bool) -> tuple[str, ...]:
    values: list[str] = []
    for s in strings:
        values.extend(part.replace("%2C", ",").replace("%25", "%") for part in s.split(","))
    values = [v.strip() for v in values if v.strip()]
    too_long = [v for v in values if len(v) > MAX_VALUE_LENGTH]
    if too_long:
        notices.append(f"{key}: {len(too_long)} value(s) longer than {MAX_VALUE_LENGTH} characters ignored")
        values = [v for v in values if len(v) <= MAX_VALUE_LENGTH]
    if len(values) > MAX_VALUES:
        notices.append(f"{key}: more than {MAX_VALUES} values; only the first {MAX_VALUES} kept")
        values = values[:MAX_VALUES]
    return _as_tuple(values, label=label)


def restrict_to_options(filters: Filters, options: Mapping[str, Sequence]) -> tuple[Filters, list[str]]:
    """Drop filter values that a data set does not have (from `report.filter_options`), with a notice for
    each field that lost some: a link made on one data set and opened on another still opens."""
    notices: list[str] = []
    changes: dict = {}
    for name in _LIST_FIELDS:
        chosen = getattr(filters, name)
        if not chosen or name not in options:
            continue
        known = set(options[name])
        kept = tuple(v for v in chosen if v in known)
        if len(kept) != len(chosen):
            dropped = [v for v in chosen if v not in known]
            shown = ", ".join(_show(v) for v in dropped[:5]) + (" …" if len(dropped) > 5 else "")
            notices.append(f"{QUERY_KEYS[name]}: not in this data set, ignored: {shown}")
            changes[name] = kept
    return (filters.replace(**changes) if changes else filters), notices
