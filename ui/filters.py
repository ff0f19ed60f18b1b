"""The filters every page shares, in the sidebar: date range with its anchor, what the range is compared
with, payment methods, shipping methods, sellers (and, folded away, reasons and stages). They build one
`analytics.filters.Filters`, the cache key of every number on the page, and one
`analytics.compare.Comparison`, which every tile's change and over-time chart follow."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import streamlit as st

from analytics import compare, db, params
from analytics.charts import plain
from analytics.compare import Comparison
from analytics.filters import Filters, anchors_offered, restrict_to_options
from analytics.formats import SHOP_CLOCK
from ui import options as data_options

ANCHOR_LABELS = {"order": "Order date", "request": "Request date", "refund": "Refund date"}
LIST_WIDGETS = {  # Filters field -> (widget key, label)
    "payment_methods": ("flt_payment", "Payment methods"),
    "shipping_methods": ("flt_shipping", "Shipping methods"),
    "sellers": ("flt_sellers", "Sellers"),
    "reasons": ("flt_reasons", "Reasons"),
    "stages": ("flt_stages", "Stages"),
}
MAX_SELLER_OPTIONS = 2000
COMPARE_LABELS = {"previous": "Previous period", "year": "Same period a year earlier", "custom": "Custom range",
                  "none": "No comparison"}


def _seed(filters: Filters, bounds: Mapping[str, tuple[date | None, date | None]]) -> None:
    state = st.session_state
    state["flt_anchor"] = filters.anchor
    low, high = bounds.get(filters.anchor, (None, None))
    start, end = filters.start or low, filters.end or high
    state["flt_dates"] = tuple(d for d in (start, end) if d is not None)
    state["flt_dates_anchor"] = filters.anchor
    for name, (key, _) in LIST_WIDGETS.items():
        state[key] = list(getattr(filters, name))


def _seed_comparison(comparison: Comparison) -> None:
    state = st.session_state
    state["flt_compare"] = comparison.mode
    if comparison.mode == "custom":
        state["flt_compare_dates"] = (comparison.start, comparison.end)


def comparison() -> Comparison:
    """The comparison the sidebar holds (drawn by `shared_filters`)."""
    return st.session_state.get("_flt_comparison", compare.PREVIOUS)


def _comparison_control(low: date | None, high: date | None, selection: Filters) -> Comparison:
    """What the date range is compared with: a choice, and for a custom range its days, at first the
    previous period's (the whole data set's days compared the selection with itself or more)."""
    state = st.session_state
    state.setdefault("flt_compare", compare.PREVIOUS.mode)
    mode = st.selectbox("Compared with", list(COMPARE_LABELS), key="flt_compare", format_func=COMPARE_LABELS.get,
                        help="What every tile's change and every chart over time compare the date range with: the "
                             "period of equal length just before it, the same dates a year earlier, or a range you "
                             "choose. Both sides are compared on the same number of days, day by day from their "
                             "start; when the data covers fewer days on one side, the days compared are trimmed and "
                             "the page says so.") or "previous"
    if mode != "custom":
        return Comparison(mode)
    if not state.get("flt_compare_dates") and low is not None:
        previous = compare.window(compare.PREVIOUS, selection, (low, high))
        state["flt_compare_dates"] = previous.compared if previous is not None else (low, high)
    picked = st.date_input("Compared range", key="flt_compare_dates", format="YYYY-MM-DD",
                           help=f"Both ends included, days {SHOP_CLOCK}.")
    days = [d for d in (picked if isinstance(picked, tuple | list) else (picked,)) if d]
    if not days:
        return compare.NO_COMPARISON
    return Comparison("custom", min(days), max(days))


def shared_filters(dataset: db.Dataset, raw: Mapping[str, Sequence[str]] | None) -> tuple[Filters, list[str]]:
    """Draw the filters (seeded from the link `raw` when the page was just opened) and return them with
    notices about the link's filter values this data set cannot use. The comparison drawn with them is
    `comparison()`."""
    opts = data_options.filter_options(dataset.id)
    notices: list[str] = []
    if raw is not None:
        linked, problem = Comparison.from_query(raw)
        if problem is not None:
            notices += params.notices([problem])
        _seed_comparison(linked)
        wanted, problems = Filters.from_query(raw)
        wanted, more = restrict_to_options(wanted, opts.values, opts.bounds)
        notices += params.notices([*problems, *more])
        _seed(wanted, opts.bounds)
        st.session_state["flt_dataset"] = dataset.id
    state = st.session_state
    if state.get("flt_dataset") != dataset.id:
        # Another data set was picked: its dates are its own, so the range starts over at its first and
        # last day (a range carried over would filter the new data set without anyone asking).
        for key in ("flt_dates", "flt_dates_anchor", "flt_compare_dates"):
            state.pop(key, None)
        state["flt_dataset"] = dataset.id
    offered, missing = anchors_offered(opts.bounds)
    if state.get("flt_anchor") not in offered:
        state["flt_anchor"] = "order"
    # Only the dates this data set has are offered; the help says why the others are not.
    why_not = "".join(f" {ANCHOR_LABELS[a]} is not offered: {reason}." for a, reason in missing.items())
    anchor = st.segmented_control("Dates by", offered, key="flt_anchor", format_func=ANCHOR_LABELS.get,
                                  help="Which date the range tests: when the order was placed, when the buyer "
                                       "asked to cancel, or when the refund started." + why_not) or "order"
    low, high = opts.bounds_of(anchor)
    if "flt_dates" not in state:
        state["flt_dates"] = tuple(d for d in (low, high) if d is not None)
        state["flt_dates_anchor"] = anchor
    elif state.get("flt_dates_anchor") != anchor:
        # Another date is tested now: an end left open (the old date's first or last day) stays open,
        # at the new date's first or last day; a chosen end is kept.
        old_low, old_high = opts.bounds.get(state.get("flt_dates_anchor"), (None, None))
        start, end = _range(state["flt_dates"], old_low, old_high)
        state["flt_dates"] = tuple(d for d in (start or low, end or high) if d is not None)
        state["flt_dates_anchor"] = anchor
    picked = st.date_input("Date range", key="flt_dates", format="YYYY-MM-DD",
                           help=f"Both ends included, days {SHOP_CLOCK}. This data set: {low} to {high}."
                           if low else None)
    start, end = _range(picked, low, high)
    state["_flt_comparison"] = _comparison_control(low, high, Filters(start=start, end=end))
    chosen: dict[str, tuple[str, ...]] = {}
    for name, (key, label) in LIST_WIDGETS.items():
        if name in ("reasons", "stages"):
            continue
        chosen[name] = _multiselect(name, key, label, opts.values.get(name, ()))
    with st.expander("Reasons and stages", expanded=bool(state.get("flt_reasons") or state.get("flt_stages"))):
        for name in ("reasons", "stages"):
            key, label = LIST_WIDGETS[name]
            chosen[name] = _multiselect(name, key, label, opts.values.get(name, ()))
    # A callback: it runs before the next run draws the widgets, the only time their state may be set.
    st.button("Clear filters", key="flt_clear", type="tertiary", icon=":material/filter_alt_off:",
              on_click=_seed, args=(Filters(anchor=anchor), opts.bounds))
    return Filters(start=start, end=end, anchor=anchor, **chosen), notices


def _range(picked, low: date | None, high: date | None) -> tuple[date | None, date | None]:
    """The picked range as filter bounds; the data set's own first or last day means open. A day beyond
    the data is kept: the range chosen (a whole month the data ends in) is the one compared and linked,
    as on the command line, not the days that happen to have data."""
    if not isinstance(picked, tuple | list):
        picked = (picked,) if picked else ()
    start = picked[0] if len(picked) > 0 else None
    end = picked[1] if len(picked) > 1 else None
    if start is not None and low is not None and start == low:
        start = None
    if end is not None and high is not None and end == high:
        end = None
    if start and end and start > end:
        start, end = end, start
    return start, end


def _multiselect(name: str, key: str, label: str, options: Sequence[str]) -> tuple[str, ...]:
    state = st.session_state
    current = [v for v in state.get(key, []) if v in set(options)]
    if name == "sellers" and len(options) > MAX_SELLER_OPTIONS:
        options = list(dict.fromkeys([*current, *options[:MAX_SELLER_OPTIONS]]))
    state[key] = current  # values the data set does not have are dropped, never an error
    if not options:
        return ()
    help_text = None
    if name == "sellers":
        help_text = "Type to search. Sellers with the most orders come first."
    # Codes in words ('western_union' -> 'Western Union'); seller ids as they are.
    words = (lambda v: v) if name == "sellers" else plain
    return tuple(st.multiselect(label, options, key=key, placeholder="All", help=help_text, format_func=words))
