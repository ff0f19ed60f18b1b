"""The metrics registry: every number and table the pages and the command line show, defined once.

A `Metric` is either a scalar (an aggregate Polars expression over one grain's frame: orders, requests
or refunds, see pipelines.py) or a table (a pipeline over `pipelines.Frames`). Each carries its label,
unit, display format and description; `reads`, the columns it needs from each grain's frame (report.py
loads only those); and `needs`, the capabilities it stands on: what a data set must record for the
number to mean anything. When a data set lacks one, the metric is "not available in this data set",
with the reason from CAPABILITIES, never 0. A table may also lose only some columns (`column_needs`):
cancellations by stage stay available for an export with no request rows; requests by stage do not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial

import polars as pl

from analytics import pipelines as p
from analytics.outcomes import OUTCOMES, STAGES

# What a data set must record, and why a metric is unavailable when it does not. Checked over the whole
# data set (not the filtered orders): a filter that matches nothing gives zeros, not "unavailable".
CAPABILITIES: dict[str, str] = {
    "requests": "this data set records no cancellation requests (cancelled orders are known by their status only)",
    "reasons": "no cancellation request in this data set carries a reason",
    "request_times": "no cancellation request in this data set has a request time",
    "seller_responses": "no cancellation request in this data set records the seller's response",
    "response_times": "no cancellation request in this data set has both a request time and a seller's answer time",
    "refunds": "this data set records no refunds",
    "refund_times": "no refund in this data set has both a start and a completion time",
    "refund_channels": "no refund in this data set records the channel it went to",
    "refund_amounts": "no refund in this data set records its amount",
    "sellers": "orders in this data set carry no seller id",
    "payment_methods": "the export has no payment method (every order is stored as 'unknown')",
    "single_currency": "the orders are in several currencies: money is shown per currency (Money by currency), "
                       "never added up",
    "cancel_stages": "the export records no payment or shipment times, so the stage of its cancellations is unknown",
    "shipping_methods": "orders in this data set carry no shipping method",
    "payment_times": "no order in this data set has a payment time",
    "ship_times": "no order in this data set has a shipping time",
}

UNITS = ("orders", "requests", "refunds", "currency", "share", "hours", "business days")


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    unit: str
    fmt: str
    description: str
    reads: Mapping[str, tuple[str, ...]]          # grain -> columns of that frame
    needs: tuple[str, ...] = ()
    expr: Callable[[], pl.Expr] | None = None     # scalars: an aggregate over the frame of `grain`
    grain: str | None = None
    pipeline: Callable[..., pl.LazyFrame] | None = None   # tables: Frames (or one frame) -> LazyFrame
    column_needs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return "scalar" if self.expr is not None else "table"

    def format(self, value) -> str:
        """The value as the pages and the text report show it; None (nothing to measure) shows as 'n/a'."""
        return "n/a" if value is None else self.fmt.format(value)

    def unavailable(self, missing: Mapping[str, str]) -> str | None:
        """Why this metric cannot be computed on a data set, given its missing capabilities; None if it can."""
        return next((missing[n] for n in self.needs if n in missing), None)

    def unavailable_columns(self, missing: Mapping[str, str]) -> dict[str, str]:
        """Columns of this table the data set cannot support, each with the reason."""
        out = {}
        for column, needs in self.column_needs.items():
            why = next((missing[n] for n in needs if n in missing), None)
            if why:
                out[column] = why
        return out


COUNT, MONEY, SHARE, DECIMAL = "{:,}", "{:,.2f}", "{:.1%}", "{:,.1f}"


def _scalar(name, label, unit, fmt, description, grain, columns, expr, needs=()) -> Metric:
    return Metric(name, label, unit, fmt, description, {grain: tuple(columns)}, tuple(needs), expr, grain)


_RESPONSE = ("requested_at", "responded_at")
_LATENCY = ("refund_initiated_at", "refund_completed_at")
_LATENCY_FROM_REQUEST = ("requested_at", "refund_completed_at")


def _scalars() -> list[Metric]:
    req, ref = ("requests",), ("refunds",)
    out = [
        _scalar("orders", "Orders", "orders", COUNT, "Orders placed in the selection.",
                "orders", ("amount",), p.row_count),
        _scalar("gmv", "GMV", "currency", MONEY,
                "Gross merchandise value: the sum of the selected orders' amounts, cancelled ones included.",
                "orders", ("amount",), p.gmv),
        _scalar("cancelled_orders", "Cancelled orders", "orders", COUNT,
                "Orders that ended cancelled: a cancelled status or a cancellation time.",
                "orders", ("is_cancelled",), p.cancelled_count),
        _scalar("cancellation_rate", "Cancellation rate", "share", SHARE, "Cancelled orders divided by orders.",
                "orders", ("is_cancelled",), p.cancellation_rate),
        _scalar("cancelled_gmv", "Cancelled GMV", "currency", MONEY,
                "The amounts of the cancelled orders: sales the sellers lost.",
                "orders", ("amount", "is_cancelled"), p.cancelled_gmv),
        _scalar("cancellation_requests", "Cancellation requests", "requests", COUNT,
                "Orders whose buyer asked to cancel (a recorded request, at any stage).",
                "requests", (), p.row_count, req),
        _scalar("acceptance_rate", "Seller acceptance rate", "share", SHARE,
                "Of the requests a seller answered (accepted or rejected), the share accepted.",
                "requests", ("outcome",), p.acceptance_rate, ("requests", "seller_responses")),
        _scalar("answered_requests", "Answered requests", "requests", COUNT,
                "Requests with both a request time and the seller's answer time: the sample behind the "
                "response-time figures.", "requests", _RESPONSE,
                lambda: p.response_hours().count().cast(pl.Int64), ("requests", "response_times")),
        _scalar("p50_response_hours", "Seller response time, median", "hours", DECIMAL,
                "Median hours from a cancellation request to the seller's answer, over answered requests.",
                "requests", _RESPONSE, lambda: p.quantile(p.response_hours(), 0.5), ("requests", "response_times")),
        _scalar("p90_response_hours", "Seller response time, 90th percentile", "hours", DECIMAL,
                "90th percentile of hours from a cancellation request to the seller's answer.",
                "requests", _RESPONSE, lambda: p.quantile(p.response_hours(), 0.9), ("requests", "response_times")),
        _scalar("return_path_orders", "Orders sent the return way", "orders", COUNT,
                "Requests the parcel overtook: it shipped before the seller answered, so the buyer must "
                "refuse or return it.", "requests", ("return_path",), p.return_path_count, req),
        _scalar("return_path_gmv", "GMV sent the return way", "currency", MONEY,
                "The amounts of the orders sent the return way.",
                "requests", ("amount", "return_path"), p.return_path_gmv, req),
        _scalar("refunds", "Refunds", "refunds", COUNT, "Refunds recorded for the selected orders.",
                "refunds", (), p.row_count, ref),
        _scalar("refund_amount", "Refunded amount", "currency", MONEY, "The sum of the refunds' recorded amounts.",
                "refunds", ("refund_amount",), p.refund_amount, ("refunds", "refund_amounts")),
        _scalar("pending_refunds", "Pending refunds", "refunds", COUNT, "Refunds with no completion time yet.",
                "refunds", ("refund_completed_at",), p.pending_refund_count, ("refunds", "refund_times")),
        _scalar("mean_refund_business_days_from_start", "Refund time from the refund's start, mean", "business days", DECIMAL,
                "Mean business days from a refund's start to its completion.",
                "refunds", _LATENCY, lambda: p.refund_business_days().mean(), ("refunds", "refund_times")),
        _scalar("p50_refund_business_days_from_start", "Refund time from the refund's start, median", "business days", DECIMAL,
                "Median business days from a refund's start to its completion.",
                "refunds", _LATENCY, lambda: p.quantile(p.refund_business_days(), 0.5), ("refunds", "refund_times")),
        _scalar("p90_refund_business_days_from_start", "Refund time from the refund's start, 90th percentile", "business days", DECIMAL,
                "90th percentile of business days from a refund's start to its completion.",
                "refunds", _LATENCY, lambda: p.quantile(p.refund_business_days(), 0.9), ("refunds", "refund_times")),
        _scalar("p50_refund_business_days_from_request", "Buyer's wait from the request, median", "business days",
                DECIMAL, "Median business days from the buyer's cancellation request to the refund's completion.",
                "refunds", _LATENCY_FROM_REQUEST, lambda: p.quantile(p.refund_business_days_from_request(), 0.5),
                ("refunds", "refund_times", "requests", "request_times")),
        _scalar("p90_refund_business_days_from_request", "Buyer's wait from the request, 90th percentile",
                "business days", DECIMAL,
                "90th percentile of business days from the buyer's cancellation request to the refund's completion.",
                "refunds", _LATENCY_FROM_REQUEST, lambda: p.quantile(p.refund_business_days_from_request(), 0.9),
                ("refunds", "refund_times", "requests", "request_times")),
    ]
    for stage in STAGES:
        words = stage.replace("_", " ")
        out.append(_scalar(f"requests_{stage}", f"Requests {words}", "requests", COUNT,
                           f"Cancellation requests made {words} (the order's state when the buyer asked).",
                           "requests", ("request_stage",), partial(p.requests_at_stage, stage), req))
        out.append(_scalar(f"cancelled_{stage}", f"Cancelled {words}", "orders", COUNT,
                           f"Orders cancelled {words}, including orders cancelled by status alone "
                           "(their stage inferred from the order's timestamps).",
                           "orders", ("is_cancelled", "cancel_stage"), partial(p.cancelled_at_stage, stage)))
    for outcome in OUTCOMES:
        words = outcome.replace("_", " ")
        out.append(_scalar(f"outcome_{outcome}", f"Requests {words}", "requests", COUNT,
                           f"Cancellation requests whose outcome was '{outcome}' (see analytics/outcomes.py).",
                           "requests", ("outcome",), partial(p.outcome_count, outcome), req))
    return out


_VOLUME_COLUMN_NEEDS = {"cancellation_requests": ("requests",)}
_SELLER_COLUMN_NEEDS = {
    "cancellation_requests": ("requests",),
    "answered_requests": ("requests", "seller_responses"),
    "acceptance_rate": ("requests", "seller_responses"),
    "p50_response_hours": ("requests", "response_times"),
    "return_path_orders": ("requests",),
}
_FROM_REQUEST_NEEDS = {
    c: ("requests", "request_times")
    for c in ("refunds_from_request", "mean_from_request_business_days",
              "p50_from_request_business_days", "p90_from_request_business_days")
}
_REFUND_READS = ("payment_method", "refund_channel", "refund_amount", "refund_initiated_at",
                 "refund_completed_at", "requested_at")
_VOLUME_ORDER_READS = ("amount", "is_cancelled")


def _table(name, label, unit, fmt, description, reads, pipeline, needs=(), column_needs=None) -> Metric:
    return Metric(name, label, unit, fmt, description, {g: tuple(c) for g, c in reads.items()}, tuple(needs),
                  pipeline=pipeline, column_needs=column_needs or {})


def _tables() -> list[Metric]:
    reason_reads = {"requests": ("reason", "request_stage")}
    return [
        _table("volume_over_time", "Volume over time", "orders", COUNT,
               "Per day, week or month (by the date anchor's time): orders, GMV, cancellation requests, "
               "cancelled orders, cancellation rate, cancelled GMV.",
               {"orders": (*_VOLUME_ORDER_READS, "placed_at"),
                "requests": (*_VOLUME_ORDER_READS, "placed_at", "requested_at"),
                "refunds": (*_VOLUME_ORDER_READS, "refund_initiated_at", "has_request")},
               p.volume_over_time, column_needs=_VOLUME_COLUMN_NEEDS),
        _table("volume_by_payment_method", "Cancellations by payment method", "orders", COUNT,
               "Per payment method: orders, GMV, cancellation requests, cancelled orders and rate, cancelled GMV.",
               {"orders": (*_VOLUME_ORDER_READS, "payment_method"), "requests": ("payment_method",)},
               partial(p.volume_by, by="payment_method"), ("payment_methods",), _VOLUME_COLUMN_NEEDS),
        _table("money_by_currency", "Money by currency", "currency", MONEY,
               "Per currency: orders, GMV, cancelled orders and rate, cancelled GMV; amounts in different "
               "currencies are never added up.",
               {"orders": (*_VOLUME_ORDER_READS, "currency")}, partial(p.volume_by, by="currency")),
        _table("volume_by_shipping_method", "Cancellations by shipping method", "orders", COUNT,
               "Per shipping method: orders, GMV, cancellation requests, cancelled orders and rate, cancelled GMV.",
               {"orders": (*_VOLUME_ORDER_READS, "shipping_method"), "requests": ("shipping_method",)},
               partial(p.volume_by, by="shipping_method"), ("shipping_methods",), _VOLUME_COLUMN_NEEDS),
        _table("stages", "Requests and cancellations by stage", "orders", COUNT,
               "Per stage (before payment, awaiting shipment, after shipment): requests made at that stage, "
               "orders cancelled at that stage and their GMV.",
               {"orders": ("amount", "is_cancelled", "cancel_stage"), "requests": ("request_stage",)},
               p.stage_counts, column_needs={"requests": ("requests",)}),
        _table("lifecycle", "Order life cycle", "orders", COUNT,
               "Orders reaching each step (placed, paid, shipped, delivered) and the orders cancelled "
               "after each step.",
               {"orders": ("paid_at", "shipped_at", "delivered_at", "is_cancelled", "cancel_stage")},
               lambda f: p.lifecycle(f.orders), ("payment_times", "ship_times")),
        _table("reasons", "Cancellation reasons", "requests", COUNT,
               "Requests per reason and each reason's share of all requests.", reason_reads,
               lambda f: p.reasons(f.requests), ("requests", "reasons")),
        _table("reasons_by_stage", "Reasons by stage", "requests", COUNT,
               "Requests per stage and reason, with the reason's share of the stage's requests.", reason_reads,
               lambda f: p.reasons_by(f.requests, "request_stage"), ("requests", "reasons")),
        _table("reasons_by_payment_method", "Reasons by payment method", "requests", COUNT,
               "Requests per payment method and reason, with the reason's share of the method's requests.",
               {"requests": ("reason", "payment_method")},
               lambda f: p.reasons_by(f.requests, "payment_method"), ("requests", "reasons", "payment_methods")),
        _table("reasons_over_time", "Reasons over time", "requests", COUNT,
               "Requests per period (by the request date, or the refund date when the filters are anchored "
               "on it) and reason, with the reason's share of the period's requests.",
               {"requests": ("reason", "requested_at", "refund_initiated_at")},
               lambda f, period="week", anchor="request": p.reasons_by(f.requests, "period", period, anchor),
               ("requests", "reasons", "request_times")),
        _table("reason_cancelled_gmv", "Reasons' share of cancelled GMV", "share", SHARE,
               "Per reason: cancelled orders, their GMV and its share of all cancelled GMV in the selection.",
               {"orders": ("amount", "is_cancelled"), "requests": ("reason", "amount", "is_cancelled")},
               p.reason_cancelled_gmv, ("requests", "reasons")),
        _table("outcomes", "How requests end", "requests", COUNT,
               "Requests per outcome: buyer-cancelled, accepted, rejected, auto-cancelled on the seller's "
               "timeout, lapsed, not cancellable (after shipment), unknown.",
               {"requests": ("outcome",)}, lambda f: p.outcomes(f.requests), ("requests",)),
        _table("response_time", "Seller response time", "hours", DECIMAL,
               "Hours from the request to the seller's answer over answered requests: count, mean, median, "
               "90th percentile.", {"requests": _RESPONSE},
               lambda f, by=None: p.response_time(f.requests, by), ("requests", "response_times")),
        _table("refunds_by_payment_method", "Refunds by payment method", "refunds", COUNT,
               "Per payment method: refunds, refunded amount and share of refunds.",
               {"refunds": ("payment_method", "refund_amount")},
               lambda f: p.refunds_by(f.refunds, "payment_method"), ("refunds", "payment_methods"),
               {"refund_amount": ("refund_amounts",)}),
        _table("refunds_by_channel", "Refunds by channel", "refunds", COUNT,
               "Per refund channel (original method, wallet, coupon): refunds, refunded amount, share.",
               {"refunds": ("refund_channel", "refund_amount")},
               lambda f: p.refunds_by(f.refunds, "refund_channel"), ("refunds", "refund_channels"),
               {"refund_amount": ("refund_amounts",)}),
        _table("refund_latency_by_payment_method", "Refund time by payment method", "business days", DECIMAL,
               "Per payment method: completed refunds, mean, median and 90th percentile business days from "
               "the refund's start and from the buyer's request; pending refunds.",
               {"refunds": _REFUND_READS}, lambda f: p.refund_latency(f.refunds, "payment_method"),
               ("refunds", "refund_times", "payment_methods"), _FROM_REQUEST_NEEDS),
        _table("refund_latency_by_channel", "Refund time by channel", "business days", DECIMAL,
               "Per refund channel: completed refunds, mean, median and 90th percentile business days from "
               "the refund's start and from the buyer's request; pending refunds.",
               {"refunds": _REFUND_READS}, lambda f: p.refund_latency(f.refunds, "refund_channel"),
               ("refunds", "refund_times", "refund_channels"), _FROM_REQUEST_NEEDS),
        _table("refund_latency_distribution", "Refund time distribution", "business days", DECIMAL,
               "One row per completed refund: business days from its start and from the buyer's request.",
               {"refunds": _REFUND_READS}, lambda f: p.refund_latency_distribution(f.refunds),
               ("refunds", "refund_times"), {"business_days_from_request": ("requests", "request_times")}),
        _table("refund_share_over_threshold", "Refunds over the threshold", "share", SHARE,
               "The share of completed refunds that took more business days than the threshold (strictly "
               "more), overall or per payment method or channel.", {"refunds": _REFUND_READS},
               lambda f, threshold_days=20, by="payment_method", from_request=False:
               p.refund_share_over(f.refunds, threshold_days, by, from_request),
               ("refunds", "refund_times")),
        _table("sellers", "Sellers", "orders", COUNT,
               "One row per seller, ranked by cancelled GMV: orders, GMV, requests, acceptance rate, median "
               "response hours, cancelled orders and GMV, orders sent the return way.",
               {"orders": ("seller_id", "amount", "is_cancelled"),
                "requests": ("seller_id", "outcome", "requested_at", "responded_at", "return_path")},
               p.sellers, ("sellers",), _SELLER_COLUMN_NEEDS),
        _table("seller_losses", "What sellers lose", "currency", MONEY,
               "Cancelled orders and GMV (and its share of GMV); orders that shipped before the request "
               "was answered and went the return way, and their GMV.",
               {"orders": ("amount", "is_cancelled"), "requests": ("amount", "return_path")},
               p.seller_losses, column_needs={"return_path_orders": ("requests",), "return_path_gmv": ("requests",)}),
    ]


# Money columns of tables: added up only where the data set has one currency (report._table drops
# those a table has when the data set has several).
MONEY_COLUMNS = ("gmv", "cancelled_gmv", "refund_amount", "return_path_gmv", "cancelled_gmv_share",
                 "share_of_cancelled_gmv")


def _one_currency(metric: Metric) -> Metric:
    """A money figure needs one currency: amounts in several are never added up."""
    if metric.unit == "currency" and metric.name != "money_by_currency":
        return replace(metric, needs=(*metric.needs, "single_currency"))
    return metric


REGISTRY: dict[str, Metric] = {m.name: _one_currency(m) for m in (*_scalars(), *_tables())}
SCALARS: tuple[str, ...] = tuple(n for n, m in REGISTRY.items() if m.kind == "scalar")
TABLES: tuple[str, ...] = tuple(n for n, m in REGISTRY.items() if m.kind == "table")


def get(name: str) -> Metric:
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"no metric named {name!r}") from None


def reads(names) -> dict[str, tuple[str, ...]]:
    """grain -> the columns the named metrics read from it together (sorted, for a stable query)."""
    out: dict[str, set[str]] = {}
    for name in names:
        for grain, columns in get(name).reads.items():
            out.setdefault(grain, set()).update(columns)
    return {g: tuple(sorted(c)) for g, c in out.items()}


def scalar_values(frames: p.Frames, names=SCALARS) -> list[pl.LazyFrame]:
    """One single-row LazyFrame per grain that the named scalars use, one column per metric: every
    number of a grain computed in one pass over its frame. Collect them together (pl.collect_all)."""
    by_grain: dict[str, list[pl.Expr]] = {}
    for name in names:
        metric = get(name)
        by_grain.setdefault(metric.grain, []).append(metric.expr().alias(name))
    return [getattr(frames, grain).select(exprs) for grain, exprs in by_grain.items()]


def scalars_row(frames: p.Frames, names=SCALARS) -> dict:
    """The named scalars as one dict (collects)."""
    out: dict = {}
    for frame in pl.collect_all(scalar_values(frames, names)):
        out.update(frame.row(0, named=True))
    return out
