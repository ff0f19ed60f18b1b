"""The filters every analytics view shares, as one small frozen value.

`Filters` selects a set of orders; every metric is then computed over that set and only that set, so a
filter on a reason leaves the other reasons out of every number, not only out of the reasons chart.

    start, end        a date range, both ends inclusive (whole days on the shop's clock); None means open
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

Links carry filters as query parameters (`to_query` / `from_query`), declared as `PARAMS` (analytics.params).
Those are untrusted: `from_query` parses and bounds them and returns the filters plus the problems it
found, never raising; the command line gives the same parameters as options and prints the problems.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date

from analytics.outcomes import STAGES
from analytics.params import (
    AFTER_END,
    NOT_IN_DATA,
    Param,
    Problem,
    normalise_label,
    parse_values,
    serialise_value,
)

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


def _list(key: str, label: str, **kw) -> Param:
    return Param(key, "labels", (), label=label, max_items=MAX_VALUES, max_len=MAX_VALUE_LENGTH, any_text=True, **kw)


# The filters as link parameters, in QUERY_KEYS' order. Labels come from the data, so an item may hold
# any character; seller ids keep their case.
PARAMS = (
    Param("from", "date", None, label="first day"),
    Param("to", "date", None, label="last day"),
    Param("anchor", "choice", "order", label="dates by", choices=ANCHORS),
    _list("payment", "payment methods"),
    _list("shipping", "shipping methods"),
    _list("seller", "sellers", identifiers=True),
    _list("reason", "reasons"),
    _list("stage", "stages", choices=STAGES),
)
_PARAM_OF = dict(zip(QUERY_KEYS, PARAMS, strict=True))

_LIST_FIELDS = ("payment_methods", "shipping_methods", "sellers", "reasons", "stages")
# Fields holding labels the import normalised; seller ids are kept as they are (trimmed only).
_LABEL_FIELDS = ("payment_methods", "shipping_methods", "reasons", "stages")


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
        return {_PARAM_OF[f.name].name: serialise_value(_PARAM_OF[f.name], getattr(self, f.name))
                for f in fields(self) if getattr(self, f.name) != f.default}

    @classmethod
    def from_query(cls, params: Mapping[str, str | Sequence[str]]) -> tuple[Filters, list[Problem]]:
        """Filters from query parameters, plus one Problem per value refused (and replaced by its
        default). Keys that are not filters are ignored: the link carries other state too.
        A value may be a string (comma-separated for lists) or a list of strings (repeated keys)."""
        values, problems, _ = parse_values(params, PARAMS)
        kwargs = {name: values[key] for name, key in QUERY_KEYS.items()}
        start, end = kwargs["start"], kwargs["end"]
        if start and end and start > end:
            problems.append(Problem("from", start.isoformat(), AFTER_END, f"a day on or before {end}",
                                    used="no date range", related="to"))
            kwargs["start"] = kwargs["end"] = None
        return cls(**kwargs), problems


NO_FILTERS = Filters()  # every order


# Why a date anchor is not offered for a data set that has no such date at all.
ANCHOR_MISSING = {
    "request": "no cancellation request in this data set has a request time",
    "refund": "no refund in this data set has a start time",
}


def anchors_offered(bounds: Mapping[str, object]) -> tuple[tuple[str, ...], dict[str, str]]:
    """The date anchors a data set can filter on (`bounds`: anchor -> its first and last day, or nothing
    when it has no such date), and why each other one is not offered."""
    offered = tuple(a for a in ANCHORS if a == "order" or any(bounds.get(a) or ()))
    return offered, {a: ANCHOR_MISSING[a] for a in ANCHORS if a not in offered}


def restrict_to_options(filters: Filters, options: Mapping[str, Sequence],
                        bounds: Mapping[str, object] | None = None) -> tuple[Filters, list[Problem]]:
    """Drop filter values that a data set does not have (from `report.filter_options`), with a Problem
    for each: a link made on one data set and opened on another still opens. With `bounds` (anchor ->
    first and last day), a date anchor the data set has no date for goes back to the order date."""
    problems: list[Problem] = []
    changes: dict = {}
    if bounds is not None and filters.anchor not in anchors_offered(bounds)[0]:
        problems.append(Problem(QUERY_KEYS["anchor"], filters.anchor, NOT_IN_DATA, used="the order date"))
        changes["anchor"] = "order"
    for name in _LIST_FIELDS:
        chosen = getattr(filters, name)
        if not chosen or name not in options:
            continue
        known = set(options[name])
        kept = tuple(v for v in chosen if v in known)
        if len(kept) != len(chosen):
            problems += [Problem(QUERY_KEYS[name], v, NOT_IN_DATA) for v in chosen if v not in known]
            changes[name] = kept
    return (filters.replace(**changes) if changes else filters), problems
