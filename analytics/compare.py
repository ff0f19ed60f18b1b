"""Comparisons: which days a selection's figures are compared with, and the change of each figure.

A comparison is one of

    previous   the range of equal length ending the day before the selection's first day
    year       the same calendar dates one year earlier (29 February becomes 28 February)
    custom     a range FROM..TO as given
    none       no comparison

A selection with an open end uses the data set's first or last day for the filters' date anchor (the
order's, the request's or the refund's date), so "all the data" compared with `previous` is compared with
as many days before the data's first day: nothing, and the comparison says so.

Fairness. Both sides are compared on the same number of days, aligned by their offset from each side's
first day (day 1 with day 1, day 2 with day 2, ...). The days compared are those both sides have:

- a selection that runs past the data's last day (a part-period: this month, the data ending on the 20th)
  is compared on its days with data only, and the compared range on as many of its first days;
- a compared range that starts before the data's first day is compared on the days it has, and the
  selection on the same offsets;
- a custom range longer or shorter than the selection is compared on the shorter's number of days.

Whenever the days compared are not both whole ranges, `Window.note` says so in words. When no day is
left, there is no comparison, and `Window.note` says why.

The compared figures are the report's own (`report.report` under the same filters with the compared range
as their dates), so a compared value is what the report prints for those dates. A change is the
selection's value on the days compared minus the compared range's: a rate's in points of its share
(0.05 is 5 points) with no relative change; a count's, an amount's and a time's also relative to the
compared value (`change_share`, null when the compared value is 0 or unknown). The Overview's tiles and
over-time charts and `report --json --compare` all read this module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from analytics import figures
from analytics.filters import Filters
from analytics.params import Param, Problem, parse
from analytics.text import count

MODES = ("previous", "year", "custom", "none")
MODE_WORDS = {"previous": "the previous period", "year": "the same period a year earlier",
              "custom": "a custom range", "none": "nothing"}
# The link's and the command line's parameter: `compare=previous`, `compare=2025-01-01..2025-01-31`.
# Its default is the dashboard's; the command line compares only when asked (--compare).
PARAM = Param("compare", "choice_or_range", "previous", label="compared with",
              choices=("previous", "year", "none"))

# The report's figures a comparison covers, with where the report keeps each (key, part of the key).
FIGURES: dict[str, tuple[str, str | None]] = {
    "orders": ("orders", None),
    "gmv": ("gmv", None),
    "cancellation_requests": ("cancellation_requests", None),
    "cancelled_orders": ("cancelled_orders", None),
    "cancellation_rate": ("cancellation_rate", None),
    "cancelled_gmv": ("cancelled_gmv", None),
    "refunds": ("refunds", None),
    "refund_amount": ("refund_amount", None),
    "acceptance_rate": ("acceptance_rate", None),
    "p50_response_hours": ("seller_response_hours", "p50"),
    "p90_response_hours": ("seller_response_hours", "p90"),
    "p50_refund_business_days_from_request": ("refund_wait_from_request", "p50_business_days"),
    "p90_refund_business_days_from_request": ("refund_wait_from_request", "p90_business_days"),
    "p50_refund_business_days_from_start": ("refund_wait_from_start", "p50_business_days"),
    "p90_refund_business_days_from_start": ("refund_wait_from_start", "p90_business_days"),
}


@dataclass(frozen=True)
class Comparison:
    """What a selection is compared with: a mode and, for `custom`, its first and last day."""

    mode: str = "previous"
    start: date | None = None
    end: date | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"comparison must be one of {', '.join(MODES)}, not {self.mode!r}")
        if (self.mode == "custom") != (self.start is not None and self.end is not None):
            raise ValueError("a custom comparison has a first and a last day, and only it has them")
        if self.mode == "custom" and self.start > self.end:
            raise ValueError(f"the compared range's first day {self.start} is after its last {self.end}")

    @property
    def active(self) -> bool:
        return self.mode != "none"

    @classmethod
    def from_value(cls, value: str | tuple[date, date] | None) -> Comparison:
        """From PARAM's parsed value: a mode's name, or a (first, last) tuple for a custom range."""
        if isinstance(value, tuple):
            return cls("custom", value[0], value[1])
        return cls(value or "none")

    @classmethod
    def from_query(cls, raw: Mapping[str, Sequence[str]]) -> tuple[Comparison, Problem | None]:
        """A link's comparison (its last `compare` value; the default without one), and the problem that
        made it fall back to the default, if any. Never raises on `raw`."""
        value, problem = parse(PARAM, (raw.get(PARAM.name) or [PARAM.default])[-1])
        return cls.from_value(value), problem

    @property
    def value(self) -> str | tuple[date, date]:
        """PARAM's value for this comparison (what a link writes)."""
        return (self.start, self.end) if self.mode == "custom" else self.mode

    def to_query(self) -> dict[str, str]:
        """The link parameter, left out when it is the dashboard's default."""
        from analytics.params import serialise_value

        return {} if self.value == PARAM.default else {PARAM.name: serialise_value(PARAM, self.value)}


NO_COMPARISON = Comparison("none")
PREVIOUS = Comparison("previous")  # the dashboard's default


def year_earlier(day: date) -> date:
    """The same calendar date one year earlier; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


@dataclass(frozen=True)
class Window:
    """The days a selection is compared on. `selection`, `compared`: the ranges as the comparison defines
    them; `selection_days`, `compared_days`: the days actually compared (the same number on each side,
    aligned by offset), None when no day is left; `note`: in words, why the days compared are not both
    whole ranges, or why there is no comparison."""

    comparison: Comparison
    selection: tuple[date, date]
    compared: tuple[date, date]
    selection_days: tuple[date, date] | None
    compared_days: tuple[date, date] | None
    note: str | None = None
    # Whether the days compared hold every day of the selection with data, so that the selection's own
    # figures are the ones compared (False: a compared range shorter than the selection).
    whole_selection: bool = True

    @property
    def possible(self) -> bool:
        return self.compared_days is not None

    @property
    def days(self) -> int:
        return 0 if self.compared_days is None else (self.compared_days[1] - self.compared_days[0]).days + 1

    @property
    def shift_days(self) -> int:
        """Days from a compared day to the selection's day it is compared with (for drawing them together)."""
        return (self.selection[0] - self.compared[0]).days

    @property
    def trimmed(self) -> bool:
        return self.possible and (self.selection_days != self.selection or self.compared_days != self.compared)

    def compared_filters(self, filters: Filters) -> Filters | None:
        """The selection's filters with the compared days as their date range."""
        if self.compared_days is None:
            return None
        return filters.replace(start=self.compared_days[0], end=self.compared_days[1])

    def selection_filters(self, filters: Filters) -> Filters | None:
        """The selection's filters on the days compared (the filters themselves when none was trimmed)."""
        if self.selection_days is None:
            return None
        if self.selection_days == self.selection:
            return filters
        return filters.replace(start=self.selection_days[0], end=self.selection_days[1])

    @property
    def label(self) -> str:
        """The compared days as a legend or a tile says them: '2026-01-05 to 2026-01-11'."""
        return _dates(*(self.compared_days or self.compared))

    @property
    def short(self) -> str:
        """What a tile's change is against, short enough for a narrow tile (the dates are in its help)."""
        if self.comparison.mode == "year":
            return "a year earlier"
        if self.comparison.mode == "previous" and self.compared_days == self.compared:
            # Once trimmed, the days compared are not the ones just before: their dates say which they are.
            return f"the {count(self.days, 'day')} before"
        return _compact(*(self.compared_days or self.compared), with_year=True)

    @property
    def against(self) -> str:
        """What a tile's change is said to be against: 'vs ' and `short`; when it is the change of some of
        the selection's days only (a compared range shorter than the selection), those days first, since
        the tile's value is the whole selection's, in as few characters as a tile shows whole at 1280 px
        ('2–15 Mar vs 9–22 Feb'; a year only where the two differ; the dates in full are in its help)."""
        if self.whole_selection or self.selection_days is None:
            return f"vs {self.short}"
        first, last = self.selection_days
        if self.comparison.mode == "year":
            return f"{_compact(first, last)} vs a year earlier"
        c0, c1 = self.compared_days
        return f"{_compact(first, last)} vs {_compact(c0, c1, with_year=(c0.year, c1.year) != (first.year, last.year))}"

    @property
    def legend(self) -> tuple[str, str]:
        """What a chart's legend calls the two ranges drawn: the selection's line runs over the whole
        selection, the compared line over the days compared only."""
        return f"This selection: {_dates(*self.selection)}", f"Compared: {self.label}"

    def legend_dating(self, what: str) -> tuple[str, str]:
        """`legend` with what the ranges' days date ('orders placed'), for a chart drawn by another date (the
        requests of the orders placed in a range, each drawn on its own day, some after the range)."""
        return f"This selection: {what} {_dates(*self.selection)}", f"Compared: {what} {self.label}"

    @property
    def selection_label(self) -> str:
        return _dates(*(self.selection_days or self.selection))


def _compact(first: date, last: date, with_year: bool = False) -> str:
    """A range of days in the fewest characters: '2–15 Mar', '28 Feb–13 Mar', '9–22 Feb 2025' (with_year);
    a range over a year's end has its years."""
    year = f" {last.year}" if with_year or first.year != last.year else ""
    if first == last:
        return f"{first.day} {first:%b}{year}"
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{last.day} {last:%b}{year}"
    head = f"{first.day} {first:%b}" + (f" {first.year}" if first.year != last.year else "")
    return f"{head}–{last.day} {last:%b}{year}"


def _dates(first: date, last: date) -> str:
    """A range of days as the notes and legends write it: '2026-01-05 to 2026-01-11'."""
    return f"{first:%Y-%m-%d} to {last:%Y-%m-%d}"


def _span(first: date, last: date) -> str:
    return f"{_dates(first, last)} ({count((last - first).days + 1, 'day')})"


def window(comparison: Comparison, filters: Filters, bounds: tuple[date | None, date | None]) -> Window | None:
    """The days `filters`' selection is compared on under `comparison`; None for no comparison.
    bounds: the data set's first and last day for the filters' anchor (None, None: it has no such date)."""
    if not comparison.active:
        return None
    first_data, last_data = bounds
    s0, s1 = filters.start or first_data, filters.end or last_data
    if s0 is None or s1 is None:
        return None
    if s1 < s0:
        # One end of the selection lies beyond the data, and the data's own day stands for the other end.
        if first_data is not None and s1 < first_data:
            why = f"it ends on {s1:%Y-%m-%d} and the data starts on {first_data:%Y-%m-%d}"
        elif last_data is not None and s0 > last_data:
            why = f"it starts on {s0:%Y-%m-%d} and the data ends on {last_data:%Y-%m-%d}"
        else:
            why = f"it ends on {s1:%Y-%m-%d}, before it starts on {s0:%Y-%m-%d}"
        return Window(comparison, (s0, s1), (s0, s1), None, None,
                      f"No comparison: the selection has no day with data: {why}.")
    length = (s1 - s0).days + 1
    if comparison.mode == "previous":
        c0, c1 = s0 - timedelta(days=length), s0 - timedelta(days=1)
    elif comparison.mode == "year":
        c0, c1 = year_earlier(s0), year_earlier(s1)
    else:
        c0, c1 = comparison.start, comparison.end
    selection, compared = (s0, s1), (c0, c1)
    if first_data is None or last_data is None:
        return Window(comparison, selection, compared, None, None,
                      "No comparison: this data set has no dates for the chosen anchor.")
    # Offsets (days from each side's first day) each side has data for; the days compared are both's.
    def have(start: date, end: date) -> tuple[int, int]:
        return (max(start, first_data) - start).days, (min(end, last_data) - start).days

    sel_lo, sel_hi = have(s0, s1)
    cmp_lo, cmp_hi = have(c0, c1)
    lo, hi = max(sel_lo, cmp_lo), min(sel_hi, cmp_hi)
    if hi < lo:
        if c1 < first_data:
            why = f"nothing is dated before {first_data:%Y-%m-%d}, the data's first day"
        elif c0 > last_data:
            why = f"nothing is dated after {last_data:%Y-%m-%d}, the data's last day"
        elif sel_hi < sel_lo:
            why = "the selection has no day with data"
        else:
            why = "the two ranges have no day with data at the same offset from their start"
        return Window(comparison, selection, compared, None, None,
                      f"No comparison: {MODE_WORDS[comparison.mode]} is {_span(c0, c1)}, and {why}.")
    sel_days = (s0 + timedelta(days=lo), s0 + timedelta(days=hi))
    cmp_days = (c0 + timedelta(days=lo), c0 + timedelta(days=hi))
    reasons = []
    if sel_hi < length - 1:
        reasons.append(f"the data ends on {last_data:%Y-%m-%d}, {sel_hi + 1} of the selection's {length} days")
    if sel_lo > 0:
        reasons.append(f"the data starts on {first_data:%Y-%m-%d}, {count(sel_lo, 'day')} into the selection")
    if cmp_lo > 0:
        reasons.append(f"the data starts on {first_data:%Y-%m-%d}, {count(cmp_lo, 'day')} into the compared range")
    if cmp_hi < (c1 - c0).days and c1 > last_data:
        reasons.append(f"the data ends on {last_data:%Y-%m-%d}, inside the compared range")
    if (c1 - c0).days + 1 != length:
        reasons.append(f"the compared range has {(c1 - c0).days + 1} days and the selection {length}")
    note = None
    if sel_days != selection or cmp_days != compared:
        days = hi - lo + 1
        note = (f"Compared on the same {count(days, 'day')} on each side, "
                f"{sel_days[0]:%Y-%m-%d} to {sel_days[1]:%Y-%m-%d} against {cmp_days[0]:%Y-%m-%d} to "
                f"{cmp_days[1]:%Y-%m-%d}: {'; '.join(reasons) or 'the ranges differ'}.")
    with_data = (s0 + timedelta(days=sel_lo), s0 + timedelta(days=sel_hi))
    return Window(comparison, selection, compared, sel_days, cmp_days, note, whole_selection=sel_days == with_data)


def change(name: str, current, compared) -> tuple[float | None, float | None]:
    """(change, change_share) of a figure from its compared value to its current one: a rate's change in
    points of its share, with no relative change; anything else's also relative to the compared value."""
    if current is None or compared is None:
        return None, None
    delta = current - compared
    if figures.get(name).unit == "share":
        return delta, None
    return delta, (delta / compared if compared else None)


def figure_values(report_dict: Mapping) -> dict[str, float | int | None]:
    """The compared figures' values in a report (report.report's dict)."""
    out = {}
    for name, (key, part) in FIGURES.items():
        value = report_dict.get(key)
        out[name] = value.get(part) if part is not None and isinstance(value, Mapping) else \
            (None if part is not None else value)
    return out


def report_block(report_of: Callable[[Filters], dict], filters: Filters, selection_report: dict,
                 win: Window | None, comparison: Comparison) -> dict:
    """The `compare` block of `report --json --compare`: the compared range, its days, the note, and per
    figure the compared value (`value`), the selection's value on the days compared (`current`: the
    report's own figure unless the days were trimmed) and the change. `report_of(filters)` is the report
    under other filters (the same engine as the selection's report)."""
    block: dict = {"mode": comparison.mode, "range": None, "days": 0, "selection_range": None,
                   "note": None if win is not None else
                   "No comparison: this data set has no dates for the chosen anchor.",
                   "figures": {}, "unavailable": {}}
    currents: dict = dict.fromkeys(FIGURES)
    compared: dict = dict.fromkeys(FIGURES)
    if win is not None:
        block.update(note=win.note)
        if win.possible:
            block.update(range=[win.compared_days[0].isoformat(), win.compared_days[1].isoformat()],
                         days=win.days,
                         selection_range=[win.selection_days[0].isoformat(), win.selection_days[1].isoformat()])
            selected = win.selection_filters(filters)
            currents = figure_values(selection_report if selected == filters else report_of(selected))
            compared = figure_values(report_of(win.compared_filters(filters)))
        elif win.selection[0] <= win.selection[1]:   # an empty selection has no range to compare with
            block["range"] = [win.compared[0].isoformat(), win.compared[1].isoformat()]
    why_not = selection_report.get("unavailable", {})
    for name, (key, _part) in FIGURES.items():
        delta, share = change(name, currents[name], compared[name])
        block["figures"][name] = {"value": compared[name], "current": currents[name], "change": delta,
                                  "change_share": share}
        if key in why_not:
            block["unavailable"][name] = why_not[key]
    return block
