"""The orders behind a figure: the same filters plus the group that was clicked, as one row per order with
its life-cycle times, its request, how it ended and its refund; searched, sorted and paged in SQL.

    orders(con, dataset, filters, group=None, *, search=None, sort=None, descending=False, offset=0,
           limit=None) -> (frame, total)
        One page of the orders (`limit` rows from `offset`; all of them with limit None), in the columns
        of LIST_COLUMNS, and how many orders there are in all.
    counts(con, dataset, filters, groups) -> list[int]
        How many orders each group holds, in one query (the links under the tiles say it).
    for_figure(name) -> Group | None
        The group whose orders a catalogue figure counts (or measures): "cancelled_awaiting_shipment" ->
        the cancelled orders whose cancellation came at that stage.

A `Group` is a small typed value declared with the typed parameters (analytics/params.py), so a link and
the command line give it the same way and a bad value is a Problem, never an exception:
    of           which orders a figure counts: orders (all), cancelled, requests (with a cancellation
                 request), refunds, refund_times (completed refunds with a start time: what the refund time
                 measures), refund_waits (completed refunds of orders with a request time: the buyer's
                 wait), pending_refunds, return_path (requests the parcel overtook)
    seller, payment_method, shipping_method, reason
                 the clicked bar's or row's label, with the same meaning as the filter of that name (an order
                 with several sellers is each of its sellers' order), and added to the filters, never
                 replacing them. A seller's orders (the group's seller, else the filters' sellers) are listed
                 under that seller with its share of each amount, so the list adds up to the seller's GMV
    request_stage, cancel_stage, outcome, refund_channel
                 the request's stage, the stage the order was cancelled at (cancelled orders only), the
                 request's outcome, the refund's channel
    reached, left_after
                 a step of the life cycle (placed, paid, shipped, delivered) the order reached; a step it
                 reached without reaching the next one (a funnel bar, its red end)
    status, stage
                 the status as the export gave it, read as a label (NO_STATUS: none given), and the stage
                 of the order's request, else of its cancellation ("none": neither), as orders by status
                 splits them
    requested_from, requested_to
                 the first and last day of the request (a period of requests over time, which are bucketed
                 by the request date whatever the filters' dates are anchored on)
    slower_than  a refund that took more than so many business days (strictly more), from the buyer's
                 request when `of` is refund_waits, else from the refund's start (refunds over a threshold)
A chart's clicked mark becomes filters and a group with `for_mark` (below).
The filters' and the group's conditions go into the one WHERE clause that analytics/load.py builds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, timedelta

import duckdb
import polars as pl

from analytics import pipelines as p
from analytics.filters import Filters
from analytics.load import (
    COLUMN_SQL,
    one_row_resident,
    one_row_selected,
    query,
    resolve,
    seller_amount_sql,
    seller_id_sql,
    where,
)
from analytics.outcomes import OUTCOMES, REQUEST_STAGES, STAGES, UNKNOWN_STAGE
from analytics.params import (
    MALFORMED,
    MAX_VALUE_CHARS,
    UNKNOWN_KEY,
    Param,
    Problem,
    normalise_label,
    parse_values,
    serialise_value,
)

# Which orders a figure counts, each as SQL conditions over the aliases o (orders), r (its request) and f
# (its refund): the same rows the figure's partials count (analytics/metrics.py).
OF = {
    "orders": (),
    "cancelled": ("o.is_cancelled",),
    "requests": ("r.order_id IS NOT NULL",),
    "refunds": ("f.order_id IS NOT NULL",),
    "refund_times": ("f.initiated_at IS NOT NULL", "f.completed_at IS NOT NULL"),
    "refund_waits": ("r.requested_at IS NOT NULL", "f.completed_at IS NOT NULL"),
    "pending_refunds": ("f.order_id IS NOT NULL", "f.completed_at IS NULL"),
    "return_path": ("coalesce(r.return_path, false)",),
}
OF_WORDS = {
    "orders": "orders", "cancelled": "cancelled orders", "requests": "orders with a cancellation request",
    "refunds": "orders with a refund", "refund_times": "orders with a completed refund",
    "refund_waits": "orders whose refund completed after a request", "pending_refunds": "orders with a pending refund",
    "return_path": "orders sent the return way",
}
# What each group reads that a data set may not record (analytics.capabilities): without it, the group is empty
# because the export cannot say, not because no order is in it.
OF_NEEDS = {"requests": ("requests",), "return_path": ("requests",), "refund_waits": ("requests", "refunds"),
            "refunds": ("refunds",), "refund_times": ("refunds",), "pending_refunds": ("refunds",)}


def unrecorded(group: Group, missing: dict[str, str]) -> str | None:
    """Why the data set cannot list the group's orders (`missing`: capabilities.missing), or None."""
    return "; ".join(missing[k] for k in OF_NEEDS.get(group.of, ()) if k in missing) or None

# Link parameter of each group field (the command line's --group KEY=VALUE names the field itself).
PREFIX = "g."
_LABEL = {"max_len": 200}
GROUP_PARAMS = (
    Param(f"{PREFIX}of", "choice", "orders", label="which orders", choices=tuple(OF)),
    Param(f"{PREFIX}seller", "str", None, label="seller", **_LABEL),
    Param(f"{PREFIX}payment_method", "str", None, label="payment method", **_LABEL),
    Param(f"{PREFIX}shipping_method", "str", None, label="shipping method", **_LABEL),
    Param(f"{PREFIX}reason", "str", None, label="reason", **_LABEL),
    Param(f"{PREFIX}request_stage", "choice", None, label="request stage", choices=REQUEST_STAGES),
    Param(f"{PREFIX}cancel_stage", "choice", None, label="cancelled at stage", choices=STAGES),
    Param(f"{PREFIX}outcome", "choice", None, label="outcome", choices=OUTCOMES),
    Param(f"{PREFIX}refund_channel", "str", None, label="refund channel", **_LABEL),
    Param(f"{PREFIX}reached", "choice", None, label="reached step", choices=p.LIFECYCLE_STEPS),
    Param(f"{PREFIX}left_after", "choice", None, label="left after step", choices=p.LIFECYCLE_STEPS[:-1]),
    Param(f"{PREFIX}status", "str", None, label="status", **_LABEL),
    Param(f"{PREFIX}stage", "choice", None, label="stage", choices=(*REQUEST_STAGES, "none")),
    Param(f"{PREFIX}requested_from", "date", None, label="requested from"),
    Param(f"{PREFIX}requested_to", "date", None, label="requested to"),
    Param(f"{PREFIX}slower_than", "integer", None, label="refund slower than (business days)", minimum=0,
          maximum=10_000),
)
GROUP_KEYS = tuple(prm.name[len(PREFIX):] for prm in GROUP_PARAMS)
# The stage orders by status splits by (pipelines.order_stage) over an order `o` and its request `r`: the
# request's, else the cancellation's, unknown for a cancellation the export cannot place.
STAGE_SQL = f"coalesce(r.stage, o.cancel_stage, CASE WHEN o.is_cancelled THEN '{UNKNOWN_STAGE}' END)"
# The status of an order whose export wrote none. Stored statuses are normalised labels, which never hold
# a space, so this cannot be one of them.
NO_STATUS = "no status"
# The SQL of each life-cycle step's "reached": the time of the step recorded (every order was placed).
STEP_SQL = {"placed": "true", "paid": "o.paid_at IS NOT NULL", "shipped": "o.shipped_at IS NOT NULL",
            "delivered": "o.delivered_at IS NOT NULL"}
_LABEL_FIELDS = ("payment_method", "shipping_method", "reason", "refund_channel")


@dataclass(frozen=True)
class Group:
    """The clicked group; every field None (and `of` "orders") means every order the filters select.
    Hashable: a cache key with the filters."""

    of: str = "orders"
    seller: str | None = None
    payment_method: str | None = None
    shipping_method: str | None = None
    reason: str | None = None
    request_stage: str | None = None
    cancel_stage: str | None = None
    outcome: str | None = None
    refund_channel: str | None = None
    reached: str | None = None
    left_after: str | None = None
    status: str | None = None
    stage: str | None = None
    requested_from: date | None = None
    requested_to: date | None = None
    slower_than: int | None = None

    def __post_init__(self) -> None:
        if self.of not in OF:
            raise ValueError(f"of must be one of {', '.join(OF)}, not {self.of!r}")
        for name in _LABEL_FIELDS:
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, normalise_label(value) or None)
        if self.seller is not None:
            object.__setattr__(self, "seller", self.seller.strip() or None)
        if self.status is not None and self.status != NO_STATUS:
            object.__setattr__(self, "status", normalise_label(self.status) or None)
        for name, allowed in (("request_stage", REQUEST_STAGES), ("cancel_stage", STAGES), ("outcome", OUTCOMES),
                              ("reached", p.LIFECYCLE_STEPS), ("left_after", p.LIFECYCLE_STEPS[:-1]),
                              ("stage", (*REQUEST_STAGES, "none"))):
            value = getattr(self, name)
            if value is not None and value not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")

    def items(self) -> dict[str, str]:
        """The fields that differ from every order, by name (as the command line and JSON give them)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) != f.default}

    def to_query(self) -> dict[str, str]:
        """Link parameters: only the fields set."""
        by_name = {prm.name: prm for prm in GROUP_PARAMS}
        return {PREFIX + k: serialise_value(by_name[PREFIX + k], v) for k, v in self.items().items()}

    @classmethod
    def from_query(cls, raw: Mapping[str, str | Sequence[str]]) -> tuple[Group, list[Problem]]:
        """The group a link carries, with a Problem per value refused (that field is left out). Keys that
        are not the group's are ignored."""
        values, problems, _ = parse_values(raw, GROUP_PARAMS)
        return cls(**{k: values[PREFIX + k] for k in GROUP_KEYS}), problems

    @classmethod
    def from_pairs(cls, pairs: Iterable[str]) -> tuple[Group, list[Problem]]:
        """The group from the command line's KEY=VALUE pairs, with a Problem per pair refused."""
        raw: dict[str, str] = {}
        problems: list[Problem] = []
        for pair in pairs:
            key, sep, value = pair.partition("=")
            key = key.strip()
            if not sep:
                problems.append(Problem("", pair[:MAX_VALUE_CHARS], MALFORMED, "KEY=VALUE"))
            elif key not in GROUP_KEYS:
                problems.append(Problem(key[:MAX_VALUE_CHARS], value, UNKNOWN_KEY, "one of " + ", ".join(GROUP_KEYS)))
            else:
                raw[PREFIX + key] = value
        group, found = cls.from_query(raw)
        return group, [*problems, *found]

    def words(self) -> str:
        """The group in words, for a page's caption: 'cancelled orders · reason Wrong item · cancelled at stage
        Awaiting shipment', each code in the charts' words (as the filters' summary says them). Text from the
        data is left as it is: the caller makes it safe for where it goes."""
        # The charts' words for the same values (charts does not import this module).
        from analytics.charts import NO_STAGE, NO_STATUS_WORDS, STAGE_WORDS, STEP_LABELS, plain

        # A seller id and a date are shown as they are; a missing status or stage as the charts say it.
        said = {"seller": str, "requested_from": str, "requested_to": str,
                "reached": STEP_LABELS.get, "left_after": STEP_LABELS.get,
                # A status as the chart and the list write it (the export's, read as a label: wc_completed).
                "status": lambda v: NO_STATUS_WORDS if v == NO_STATUS else v,
                "stage": lambda v: NO_STAGE if v == "none" else STAGE_WORDS.get(v, plain(v))}
        parts = [OF_WORDS[self.of]]
        for name, label in (("seller", "seller"), ("payment_method", "paid by"), ("shipping_method", "shipped"),
                            ("reason", "reason"), ("request_stage", "requested at stage"),
                            ("cancel_stage", "cancelled at stage"), ("outcome", "outcome"),
                            ("refund_channel", "refunded to"), ("reached", "reached step"),
                            ("left_after", "left after step"), ("status", "status"), ("stage", "stage"),
                            ("requested_from", "requested from"), ("requested_to", "requested to")):
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{label} {said.get(name, plain)(value)}")
        if self.slower_than is not None:
            parts.append(f"refund slower than {self.slower_than:,} business days "
                         f"{'from the request' if self.of == 'refund_waits' else 'from its start'}")
        return " · ".join(parts)


EVERY_ORDER = Group()


def group_label(group: Group) -> str:
    """What was clicked, in the charts' plain words: 'Wrong item · Awaiting shipment', 'Changed mind ·
    requested 5 Jan 2026 to 11 Jan 2026', 'Card · slower than 20 business days'. Text from the data is left
    as it is: the caller makes it safe for where it goes."""
    from analytics.charts import plain  # the one labelling function (charts does not import this module)

    parts = [plain(v) for v in (group.reason, group.request_stage, group.payment_method, group.refund_channel)
             if v is not None]
    if group.requested_from is not None or group.requested_to is not None:
        first, last = group.requested_from, group.requested_to
        parts.append(f"requested on {first:%-d %b %Y}" if first == last else
                     "requested " + " ".join(x for x in (f"from {first:%-d %b %Y}" if first else "",
                                                         f"to {last:%-d %b %Y}" if last else "") if x))
    if group.slower_than is not None:
        parts.append(f"slower than {group.slower_than:,} business days")
    return " · ".join(parts) or OF_WORDS[group.of]


def _conditions(filters: Filters, group: Group) -> tuple[list[str], list]:
    """The WHERE conditions (and their parameters) of the filters and the group together."""
    conds, params = where(filters, "orders")
    # The group's labels mean what the filters of those names mean: load.where writes them.
    like = Filters(sellers=(group.seller,) if group.seller else (),
                   payment_methods=(group.payment_method,) if group.payment_method else (),
                   shipping_methods=(group.shipping_method,) if group.shipping_method else (),
                   reasons=(group.reason,) if group.reason else ())
    more, more_params = where(like, "orders")
    conds += [*OF[group.of], *more]
    params += more_params
    for column, value in (("r.stage", group.request_stage), ("r.outcome", group.outcome),
                          ("f.channel", group.refund_channel)):
        if value is not None:
            conds.append(f"{column} = ?")
            params.append(value)
    if group.cancel_stage is not None:
        conds.append("o.is_cancelled AND o.cancel_stage = ?")
        params.append(group.cancel_stage)
    if group.reached is not None:
        conds.append(STEP_SQL[group.reached])
    if group.left_after is not None:
        following = p.LIFECYCLE_STEPS[p.LIFECYCLE_STEPS.index(group.left_after) + 1]
        conds.append(f"{STEP_SQL[group.left_after]} AND NOT ({STEP_SQL[following]})")
    if group.status == NO_STATUS:
        conds.append("o.status IS NULL")
    elif group.status is not None:
        conds.append("o.status = ?")
        params.append(group.status)
    if group.stage == "none":
        conds.append(f"{STAGE_SQL} IS NULL")
    elif group.stage is not None:
        conds.append(f"{STAGE_SQL} = ?")
        params.append(group.stage)
    if group.requested_from is not None:
        conds.append("r.requested_at >= ?")
        params.append(group.requested_from)
    if group.requested_to is not None:
        conds.append("r.requested_at < ?")  # whole days, as the filters' end
        params.append(group.requested_to + timedelta(days=1))
    if group.slower_than is not None:
        days = "refund_business_days_from_request" if group.of == "refund_waits" else "refund_business_days"
        conds.append(f"{DERIVED_SQL[days]} > ?")
        params.append(group.slower_than)
    return conds, params


# ---------------------------------------------------------------------------------------------------
# The list

# The columns of the list, in order: the order, its life cycle, its request, its refund (pipelines.COLUMNS'
# names), then times worked out from them.
LIST_COLUMNS = (
    "order_id", "placed_at", "paid_at", "shipped_at", "delivered_at", "cancelled_at", "is_cancelled",
    "cancel_stage", "status", "payment_method", "amount", "currency", "shipping_method", "seller_id",
    "requested_at", "reason", "request_stage", "seller_response", "responded_at", "outcome", "return_path",
    "refund_channel", "refund_amount", "refund_initiated_at", "refund_completed_at",
)
DERIVED = {
    "dispatch_business_days": p.dispatch_business_days,
    "transit_business_days": p.transit_business_days,
    "response_hours": p.response_hours,
    "refund_business_days": p.refund_business_days,
    "refund_business_days_from_request": p.refund_business_days_from_request,
}


def _business_days_sql(start: str, end: str) -> str:
    """SQL of numpy.busday_count(start day, end day) (pipelines' business days: the weekdays in [start day,
    end day); when the end comes first, minus the weekdays in (end day, start day]): 5 a whole week, then the weekdays among the rest, counted
    from the start's weekday (0 Monday to 6 Sunday) within its week and into the next."""
    def forward(a: str, b: str) -> str:
        days, weekday = f"(({b}) - ({a}))", f"(isodow({a}) - 1)"
        rest = f"({days} % 7)"
        return (f"(5 * ({days} // 7) + greatest(0, least({weekday} + {rest}, 5) - least({weekday}, 5)) "
                f"+ least(greatest({weekday} + {rest} - 7, 0), 5))")
    a, b = f"CAST({start} AS DATE)", f"CAST({end} AS DATE)"
    # End first: numpy counts the weekdays in (end day, start day], negated.
    return f"CASE WHEN {b} >= {a} THEN {forward(a, b)} ELSE -{forward(f'({b} + 1)', f'({a} + 1)')} END"


# The worked-out times in SQL, so the list sorts by them before it is paged (DERIVED computes them shown).
DERIVED_SQL = {
    "dispatch_business_days": _business_days_sql("o.paid_at", "o.shipped_at"),
    "transit_business_days": _business_days_sql("o.shipped_at", "o.delivered_at"),
    "response_hours": "(epoch_us(r.responded_at) - epoch_us(r.requested_at)) / 3600000000",
    "refund_business_days": _business_days_sql("f.initiated_at", "f.completed_at"),
    "refund_business_days_from_request": _business_days_sql("r.requested_at", "f.completed_at"),
}
assert set(DERIVED_SQL) == set(DERIVED)
# The list's columns in SQL: as stored, but a cancelled order's stage that the export cannot tell reads unknown,
# as the report, the Overview and the stage filter say it (a blank read as not cancelled).
LIST_SQL = {**COLUMN_SQL,
            "cancel_stage": f"CASE WHEN o.is_cancelled THEN coalesce(o.cancel_stage, '{UNKNOWN_STAGE}') END"}
SORT_SQL = {**{c: LIST_SQL[c] for c in LIST_COLUMNS if c not in ("is_cancelled", "return_path")}, **DERIVED_SQL}
# What the list may be sorted by: its stored columns and the times worked out from them.
SORTS = tuple(SORT_SQL)
DEFAULT_SORT = "placed_at"
MAX_SEARCH = 100
# Every column of the list, in its order, and those shown unless others are chosen: an order at a glance,
# narrow enough for a 1280 px page (the order id always first; the downloads hold every column).
COLUMNS = (*LIST_COLUMNS, *DERIVED)
SHOWN = ("order_id", "placed_at", "cancel_stage", "reason", "outcome", "refund_amount")
# An order id longer than this is shown cut to the width of one this long (the downloads and the search have
# it whole): Olist's 32-character ids would otherwise take a quarter of the list.
SHORT_ID = 16


def shown_columns(chosen: Iterable[str], sort: str | None = None) -> list[str]:
    """The columns to show for a choice: the known ones, in the list's order, the order id always first;
    `sort`, the column sorted by, shown right after it (at a list's far right, beyond a 1280 px page, the
    list looked unsorted)."""
    wanted = set(chosen) | {"order_id"} | ({sort} if sort in COLUMNS else set())
    first = ["order_id", *([sort] if sort in COLUMNS and sort != "order_id" else [])]
    return first + [c for c in COLUMNS if c in wanted and c not in first]


def _search(text: str | None) -> tuple[list[str], list]:
    """A literal, case-insensitive search of the order id and the seller ids (an order's other sellers too)."""
    text = (text or "").strip().lower()[:MAX_SEARCH]
    if not text:
        return [], []
    return ["(strpos(lower(o.order_id), ?) > 0 OR strpos(lower(coalesce(o.seller_id, '')), ?) > 0 "
            "OR EXISTS (SELECT 1 FROM order_sellers s WHERE s.dataset_id = o.dataset_id "
            "AND s.order_id = o.order_id AND strpos(lower(s.seller_id), ?) > 0))"], [text, text, text]


def orders(con: duckdb.DuckDBPyConnection, dataset, filters: Filters, group: Group | None = None, *,
           search: str | None = None, sort: str | None = None, descending: bool = False, offset: int = 0,
           limit: int | None = None) -> tuple[pl.DataFrame, int]:
    """One page of the orders the filters and the group select (see the module docstring): a frame of
    LIST_COLUMNS plus DERIVED, one row per order, sorted by `sort` (one of SORTS; ties and the default by
    the order id), and the number of orders in all, searched or not."""
    sort = sort or DEFAULT_SORT
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {', '.join(SORTS)}, not {sort!r}")
    if offset < 0 or (limit is not None and limit < 0):
        raise ValueError("offset and limit must be 0 or more")
    ds = resolve(con, dataset)
    group = group or EVERY_ORDER
    conds, params = _conditions(filters, group)
    found, found_params = _search(search)
    conds, params = conds + found, params + found_params
    direction = "DESC" if descending else "ASC"
    count_sql, count_params = query(ds.id, "orders", ["count(*)"], conds, params)
    own = _sellers_own(filters, group)
    select, select_params = [], []
    for c in LIST_COLUMNS:
        column, column_params = own.get(c, (LIST_SQL[c], []))
        select.append(f"{column} AS {c}")
        select_params += column_params
    sql, sql_params = query(ds.id, "orders", select, conds, params, select_params)
    order_by, order_params = own.get(sort, (SORT_SQL[sort], []))
    sql += f"\nORDER BY {order_by} {direction} NULLS LAST, o.order_id {direction}"
    sql_params += order_params
    if limit is not None:
        sql += "\nLIMIT ? OFFSET ?"
        sql_params += [int(limit), int(offset)]
    elif offset:
        sql += "\nOFFSET ?"
        sql_params.append(int(offset))
    total = _one_row(con, count_sql, count_params)[0]
    cur = con.cursor()
    try:
        frame = cur.sql(sql, params=sql_params).pl()
    finally:
        cur.close()
    frame = frame.cast({c: p.COLUMNS[c] for c in LIST_COLUMNS})
    return frame.with_columns(make().alias(name) for name, make in DERIVED.items()), int(total)


def _sellers_own(filters: Filters, group: Group) -> dict[str, tuple[str, list]]:
    """The list's amount and seller id when it lists sellers' orders (a seller's group, else the filters'
    sellers): each order under its seller among them, with their part of its amount, so that the list adds
    up to the sellers' GMV as the seller table and the report count it (load.seller_amount_sql). SQL and
    parameters by column; none when no seller is chosen."""
    sellers = (group.seller,) if group.seller else filters.sellers
    if not sellers:
        return {}
    return {"amount": seller_amount_sql(sellers), "seller_id": seller_id_sql(sellers)}


def counts(con: duckdb.DuckDBPyConnection, dataset, filters: Filters, groups: Sequence[Group]) -> list[int]:
    """How many orders each group holds under the filters, in one pass over the data set."""
    if not groups:
        return []
    ds = resolve(con, dataset)
    base, base_params = where(filters, "orders")
    select: list[str] = []
    select_params: list = []
    for group in groups:
        conds, params = _conditions(Filters(), group)
        select.append(f"count(*) FILTER (WHERE {' AND '.join(conds) or 'true'})")
        select_params += params
    # Over the orders in memory, the filters' rows are their mask, as every figure of the page reads them.
    row = one_row_selected(con, ds, select, select_params, filters)
    if row is None:
        # The FILTER clauses' parameters come first in the text (SELECT), then the joins' and the WHERE's.
        row = one_row_resident(con, ds, select, base, [*select_params, *base_params])
    if row is None:
        sql, params = query(ds.id, "orders", select, base, base_params)
        joins = params[:-(len(base_params) + 1)]
        row = _one_row(con, sql, [*select_params, *joins, ds.id, *base_params])
    return [int(n) for n in row]


def _one_row(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> tuple:
    cur = con.cursor()  # its own cursor: the caller's connection may serve other threads
    try:
        return cur.execute(sql, params).fetchall()[0]
    finally:
        cur.close()


# ---------------------------------------------------------------------------------------------------
# From a figure to its group

def _figure_groups() -> dict[str, Group]:
    out = {
        "orders": Group(), "gmv": Group(),
        "cancelled_orders": Group(of="cancelled"), "cancellation_rate": Group(of="cancelled"),
        "cancelled_gmv": Group(of="cancelled"), "cancelled_gmv_share": Group(of="cancelled"),
        "cancellation_requests": Group(of="requests"),
        "refunds": Group(of="refunds"), "refund_amount": Group(of="refunds"),
        "pending_refunds": Group(of="pending_refunds"),
        "refunds_after_request": Group(of="refund_waits"),
        "return_path_orders": Group(of="return_path"), "return_path_gmv": Group(of="return_path"),
    }
    for q in ("mean", "p50", "p90"):
        out[f"{q}_refund_business_days_from_start"] = Group(of="refund_times")
        out[f"{q}_refund_business_days_from_request"] = Group(of="refund_waits")
    for stage in STAGES:
        out[f"cancelled_{stage}"] = Group(of="cancelled", cancel_stage=stage)
        out[f"requests_{stage}"] = Group(of="requests", request_stage=stage)
    for outcome in OUTCOMES:
        out[f"outcome_{outcome}"] = Group(of="requests", outcome=outcome)
    return out


FIGURE_GROUPS = _figure_groups()


def for_figure(name: str) -> Group | None:
    """The orders a figure of the catalogue counts or measures, as a group; None for a figure with none."""
    return FIGURE_GROUPS.get(name)


# ---------------------------------------------------------------------------------------------------
# From a row of a report's table to its orders

# The tables whose rows lead to their orders, by the name the pages give them (their download's name):
# for each count the row shows, the orders it counts (`of`), the column holding it, and the row's columns
# that name the group (column -> Group field). A row with two counts ("requests at this stage", "orders
# cancelled at this stage") leads to both lists.
ROW_TABLES: dict[str, tuple[tuple[str, str, dict[str, str]], ...]] = {
    "order-life-cycle": (("orders", "reached", {"step": "reached"}), ("orders", "left", {"step": "left_after"})),
    "cancellations-by-stage": (("requests", "requests", {"stage": "request_stage"}),
                               ("cancelled", "cancelled_orders", {"stage": "cancel_stage"})),
    "orders-by-status": (("orders", "orders", {"status": "status", "stage": "stage"}),
                         ("cancelled", "cancelled_orders", {"status": "status", "stage": "stage"})),
    "cancellations-by-payment-method": (("orders", "orders", {"payment_method": "payment_method"}),
                                        ("requests", "cancellation_requests", {"payment_method": "payment_method"}),
                                        ("cancelled", "cancelled_orders", {"payment_method": "payment_method"})),
    "request-outcomes": (("requests", "requests", {"outcome": "outcome"}),),
    "reasons": (("requests", "requests", {"reason": "reason"}),),
    "reasons-cancelled-gmv": (("cancelled", "cancelled_orders", {"reason": "reason"}),),
    "reasons-by-stage": (("requests", "requests", {"request_stage": "request_stage", "reason": "reason"}),),
    "reasons-by-payment-method": (("requests", "requests", {"payment_method": "payment_method", "reason": "reason"}),),
    "refunds-by-channel": (("refunds", "refunds", {"refund_channel": "refund_channel"}),),
    "refunds-by-payment-method": (("refunds", "refunds", {"payment_method": "payment_method"}),),
}
# A missing value in these columns is a group of its own (orders whose export wrote no status, orders
# with no request or cancellation); in any other it names no group.
_ROW_MISSING = {"status": NO_STATUS, "stage": "none"}


def for_row(table: str, row: Mapping) -> list[tuple[Group, str]]:
    """The groups of orders a row of `table` (one of ROW_TABLES) counts, each with the column holding its
    count; a count the row does not have (unknown, as delivery without delivery times) or a label the
    group refuses leads nowhere."""
    found = []
    for of, column, labels in ROW_TABLES[table]:
        if row.get(column) is None:
            continue
        values = {field: row.get(name) if row.get(name) is not None else _ROW_MISSING.get(field)
                  for name, field in labels.items()}
        if any(v is None or not isinstance(v, str) for v in values.values()):
            continue
        try:
            found.append((Group(of=of, **values), column))
        except ValueError:
            continue
    return found


# ---------------------------------------------------------------------------------------------------
# From a chart's clicked mark to its orders

# The charts whose marks lead to their orders (analytics/charts.py draws them with the selection
# charts.DRILL_SELECTION over the fields named here), and the period a time chart buckets by.
MARK_CHARTS = ("outcomes", "lifecycle", "volume", "status", "reason_gmv", "refunds_by_channel",
               "refunds_by_payment_method", "reasons_by_stage", "reasons_by_payment_method", "reasons_over_time",
               "refund_latency", "share_over")
_PERIOD_DAYS = {"day": 1, "week": 7}
# How the Refunds page groups and measures its refunds: the group's field, and which refunds a time counts.
REFUND_FIELDS = {"payment_method": "payment_method", "channel": "refund_channel", "refund_channel": "refund_channel"}
MEASURED = {"start": "refund_times", "request": "refund_waits"}


def period_days(period: str, first: date) -> tuple[date, date]:
    """The first and last day of the day, Monday-started week or month starting on `first`."""
    if period == "month":
        following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        return first, following - timedelta(days=1)
    if period not in _PERIOD_DAYS:
        raise ValueError(f"period must be one of day, week, month, not {period!r}")
    return first, first + timedelta(days=_PERIOD_DAYS[period] - 1)


def _within(filters: Filters, first: date, last: date) -> tuple[date, date] | None:
    """The days of [first, last] that the filters' date range keeps; None when none is."""
    start = max(first, filters.start) if filters.start else first
    end = min(last, filters.end) if filters.end else last
    return (start, end) if start <= end else None


def for_mark(chart: str, point: Mapping, filters: Filters, *, period: str = "week", compared: Filters | None = None,
             by: str = "payment_method", measure: str = "start", threshold: int | None = None
             ) -> tuple[Filters, Group] | None:
    """The orders behind a clicked mark of `chart` (one of MARK_CHARTS), as the filters (the page's,
    narrowed to a clicked period) and the group; None when the point does not name a group of orders
    (an unknown label, a mark with no orders behind it). `point` holds the selection's fields as the
    chart's data wrote them; it comes from the browser, so every value is checked, never trusted.

    Over-time charts: a mark of the selection's series names its period (`period_key`); a mark of the
    compared series (`compared_key`, its own period's first day) leads to that period within `compared`,
    the filters on the compared days (None: no comparison drawn, and such a mark leads nowhere).
    The Refunds page's charts: `by` is how it groups (payment_method or channel), `measure` which time it
    shows (start, request), `threshold` the business days a refund over it took more than."""
    def text(name: str) -> str | None:
        value = point.get(name)
        return value if isinstance(value, str) and value and len(value) <= _LABEL["max_len"] else None

    def clicked_period() -> tuple[Filters, date, date] | None:
        """The filters the clicked period is read under, and its days within their range."""
        base, key = (compared, text("compared_key")) if text("compared_key") else (filters, text("period_key"))
        if base is None or key is None:
            return None
        days = _within(base, *period_days(period, date.fromisoformat(key)))
        return None if days is None else (base, *days)

    try:
        if chart == "outcomes":
            outcome = text("outcome")
            return (filters, Group(of="requests", outcome=outcome)) if outcome in OUTCOMES else None
        if chart == "lifecycle":
            step, part = text("step"), text("part")
            if part == "left" and step in p.LIFECYCLE_STEPS[:-1]:
                return filters, Group(left_after=step)
            return (filters, Group(reached=step)) if part == "reached" and step in p.LIFECYCLE_STEPS else None
        if chart == "volume":
            found = clicked_period()
            if found is None:
                return None
            base, start, end = found
            cancelled = text("what") in ("Cancellation rate", "Cancelled orders")
            return base.replace(start=start, end=end), FIGURE_GROUPS["cancellation_rate"] if cancelled else EVERY_ORDER
        if chart == "status":
            status, stage = text("status_key"), text("stage_key")
            if status is None or stage not in (*REQUEST_STAGES, "none"):
                return None
            return filters, Group(status=status, stage=stage)
        if chart == "reason_gmv":
            reason = text("reason")
            return (filters, Group(of="cancelled", reason=reason)) if reason else None
        if chart in ("refunds_by_channel", "refunds_by_payment_method"):
            field = "refund_channel" if chart == "refunds_by_channel" else "payment_method"
            label = text("key")
            return (filters, Group(of="refunds", **{field: label})) if label else None
        if chart in ("reasons_by_stage", "reasons_by_payment_method"):
            reason, key = text("reason"), text("key")
            if reason is None or key is None:
                return None
            if chart == "reasons_by_stage":
                return (filters, Group(of="requests", reason=reason, request_stage=key)) if key in STAGES else None
            return filters, Group(of="requests", reason=reason, payment_method=key)
        if chart == "reasons_over_time":
            reason, found = text("reason"), clicked_period()
            if reason is None or found is None:
                return None
            base, start, end = found
            # Requests over time are bucketed by the request date, or by the refund date when the filters
            # are anchored on it (report.reasons): that date is the filters' own then.
            if base.anchor == "refund":
                return base.replace(start=start, end=end), Group(of="requests", reason=reason)
            return base, Group(of="requests", reason=reason, requested_from=start, requested_to=end)
        if chart in ("refund_latency", "share_over"):
            label = text("key")
            if label is None or by not in REFUND_FIELDS or measure not in MEASURED:
                return None
            if chart == "share_over" and (threshold is None or threshold < 0):
                return None
            return filters, Group(of=MEASURED[measure], **{REFUND_FIELDS[by]: label},
                                  slower_than=int(threshold) if chart == "share_over" else None)
    except ValueError:  # a date or a label the group refuses: no group
        return None
    raise ValueError(f"chart must be one of {', '.join(MARK_CHARTS)}, not {chart!r}")
