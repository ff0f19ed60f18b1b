"""The metrics registry: every number and table the pages and the command line show, defined once.

A `Metric` is either a scalar or a table. A scalar is a figure of the catalogue (figures.py: its label,
unit, format, direction and definition), finalised from partials of the observed orders that this
module declares as Polars aggregates over one grain's frame (orders, requests or refunds, see
pipelines.py): counts, sums and distributions that add up over groups and chunks (partials.py). A table
is a pipeline over `pipelines.Frames`. Each carries `reads`, the columns it needs from each grain's frame
(report.py loads only those); and `needs`, the capabilities it stands on: what a data set must record
for the number to mean anything. When a data set lacks one, the metric is "not available in this data
set", with the reason from CAPABILITIES, never 0. A table may also lose only some columns
(`column_needs`): cancellations by stage stay available for an export with no request rows; requests by
stage do not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial

import polars as pl

from analytics import capabilities
from analytics import figures as fig
from analytics import partials as pt
from analytics import pipelines as p
from analytics.outcomes import OUTCOMES, STAGES
from analytics.params import LABEL_READING

CAPABILITIES = capabilities.CAPABILITIES

UNITS = tuple(fig.UNITS)


@dataclass(frozen=True)
class Metric:
    """A report figure (a scalar, finalised from partials: `figure`) or a table (a pipeline)."""

    name: str
    label: str
    unit: str
    fmt: str
    description: str
    reads: Mapping[str, tuple[str, ...]]          # grain -> columns of that frame
    needs: tuple[str, ...] = ()
    figure: fig.Figure | None = None              # scalars: the catalogue's figure
    pipeline: Callable[..., pl.LazyFrame] | None = None   # tables: Frames (or one frame) -> LazyFrame
    column_needs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return "scalar" if self.figure is not None else "table"

    def format(self, value) -> str:
        """The value as the pages and the text report show it; None (nothing to measure) shows as 'n/a'."""
        return "n/a" if value is None else fig.written(value, self.fmt)

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


COUNT, MONEY, SHARE, DECIMAL = (fig.UNITS[u].exact for u in ("orders", "currency", "share", "hours"))

# ---------------------------------------------------------------------------------------------------
# Partials of the observed orders (partials.py): each an aggregate over one grain's frame, named as the
# replay names the same partial of replayed orders. A figure's partials are computed in one pass per
# grain, over the whole selection or per group (a period), then finalised by the catalogue.


@dataclass(frozen=True)
class Partial:
    """One partial: a count (expr aggregates to a whole number), a sum (expr gives the values summed:
    they are added exactly, as decimals, so a sum is the same however the orders are split into chunks
    or partitions) or a distribution (expr gives the values; their {v, n} list)."""

    grain: str
    columns: tuple[str, ...]
    expr: Callable[[], pl.Expr]
    kind: str = "count"

    @property
    def distribution(self) -> bool:
        return self.kind == "distribution"


_RESPONSE = ("requested_at", "responded_at")
_LATENCY = ("refund_initiated_at", "refund_completed_at")
_LATENCY_FROM_REQUEST = ("requested_at", "refund_completed_at")


def _partials() -> dict[str, Partial]:
    P = Partial
    out = {
        "orders": P("orders", ("amount",), p.row_count),
        "gmv": P("orders", ("amount",), lambda: pl.col("amount"), "sum"),
        "cancelled_orders": P("orders", ("is_cancelled",), p.cancelled_count),
        "cancelled_gmv": P("orders", ("amount", "is_cancelled"), lambda: p.amount_where(pl.col("is_cancelled")), "sum"),
        "requests": P("requests", (), p.row_count),
        "response_hours": P("requests", _RESPONSE, p.response_hours, "distribution"),
        "return_path_orders": P("requests", ("return_path",), p.return_path_count),
        "return_path_gmv": P("requests", ("amount", "return_path"),
                             lambda: p.amount_where(pl.col("return_path").fill_null(False)), "sum"),
        "refunds": P("refunds", (), p.row_count),
        "refund_amount": P("refunds", ("refund_amount",), lambda: pl.col("refund_amount"), "sum"),
        "pending_refunds": P("refunds", ("refund_completed_at",), p.pending_refund_count),
        "refund_days_from_start": P("refunds", _LATENCY, p.refund_business_days, "distribution"),
        "wait_days": P("refunds", _LATENCY_FROM_REQUEST, p.refund_business_days_from_request, "distribution"),
    }
    for step, column in p.LIFECYCLE_TIMES.items():
        # Orders that reached a step of the life cycle (the funnel's counts, finished by p.lifecycle_table).
        out[f"reached.{step}"] = P("orders", (column,), lambda column=column: pl.col(column).is_not_null().sum())
    for step in p.LIFECYCLE_STEPS[:-1]:
        # Orders that reached a step but not the next one (the funnel's red ends, as their lists count them).
        out[f"left.{step}"] = P("orders", tuple(p.LIFECYCLE_TIMES.values()), partial(p.left_after, step))
    for stage in STAGES:
        out[f"requests_at.{stage}"] = P("requests", ("request_stage",), partial(p.requests_at_stage, stage))
        out[f"cancelled_at.{stage}"] = P("orders", ("is_cancelled", "cancel_stage"),
                                         partial(p.cancelled_at_stage, stage))
    for outcome in OUTCOMES:
        out[f"outcome.{outcome}"] = P("requests", ("outcome",), partial(p.outcome_count, outcome))
    return out


PARTIALS: dict[str, Partial] = _partials()


def partial_expr(name: str, exact: bool = False) -> pl.Expr:
    """The aggregate of one partial over its grain's frame, aliased by its name. A sum is exact (a
    decimal) with `exact`, for chunks whose partials are added later; else read as a float."""
    part = PARTIALS[name]
    expr = part.expr()
    if part.kind == "distribution":
        expr = pt.distribution_expr(expr)
    elif part.kind == "sum":
        expr = p.exact_sum(expr) if exact else p.money_sum(expr)
    return expr.alias(name)


def partial_exprs(names, exact: bool = False) -> dict[str, list[pl.Expr]]:
    """grain -> the aggregates of the named partials over that grain's frame, each aliased by its name."""
    out: dict[str, list[pl.Expr]] = {}
    for name in dict.fromkeys(names):
        out.setdefault(PARTIALS[name].grain, []).append(partial_expr(name, exact))
    return out


def finalise(parts: pt.Partials, names) -> dict:
    """The named scalars from their partials (name -> number or Distribution)."""
    return {name: get(name).figure.value(parts) for name in names}


def finalise_row(partials: pl.DataFrame, names, row: int = 0) -> dict:
    """The named scalars from one row of a frame of partials (a whole selection's, or one group's). A
    distribution's cell is read as a Series, never as Python objects."""
    parts = {}
    for name in partials.columns:
        if name not in PARTIALS:
            continue
        value = partials[name][row]
        if PARTIALS[name].distribution:
            parts[name] = pt.Distribution.from_polars(value)
        elif PARTIALS[name].kind == "sum":
            parts[name] = float(value) if value is not None else 0.0
        else:
            parts[name] = value if value is not None else 0
    return finalise(parts, names)


def _scalar(figure: fig.Figure) -> Metric:
    reads: dict[str, set[str]] = {}
    for name in figure.partials:
        part = PARTIALS[name]
        reads.setdefault(part.grain, set()).update(part.columns)
    return Metric(figure.name, figure.label, figure.unit, figure.fmt, figure.description,
                  {g: tuple(c) for g, c in reads.items()}, figure.needs, figure)


def _scalars() -> list[Metric]:
    """Every catalogue figure the observed partials can finalise."""
    return [_scalar(f) for f in fig.FIGURES.values() if set(f.partials) <= set(PARTIALS)]


_VOLUME_COLUMN_NEEDS = {"cancellation_requests": ("requests",)}
_SELLER_COLUMN_NEEDS = {
    "cancellation_requests": ("requests",),
    "answered_requests": ("requests", "seller_responses"),
    "acceptance_rate": ("requests", "seller_responses"),
    "p50_response_hours": ("requests", "response_times"),
    # The figure's own needs (without shipment times no order can be seen to go the return way: unknown, not 0).
    "return_path_orders": fig.get("return_path_orders").needs,
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
               "Per currency: orders, GMV, cancelled orders and rate, cancelled GMV, refunds and the amount "
               "refunded; amounts in different currencies are never added up.",
               {"orders": (*_VOLUME_ORDER_READS, "currency"), "refunds": ("currency", "refund_amount")},
               p.money_by_currency, column_needs={"refunds": ("refunds",), "refund_amount": ("refunds",)}),
        _table("volume_by_shipping_method", "Cancellations by shipping method", "orders", COUNT,
               "Per shipping method: orders, GMV, cancellation requests, cancelled orders and rate, cancelled GMV.",
               {"orders": (*_VOLUME_ORDER_READS, "shipping_method"), "requests": ("shipping_method",)},
               partial(p.volume_by, by="shipping_method"), ("shipping_methods",), _VOLUME_COLUMN_NEEDS),
        _table("stages", "Requests and cancellations by stage", "orders", COUNT,
               "Per stage (before payment, awaiting shipment, after shipment): requests made at that stage, "
               "orders cancelled at that stage and their GMV.",
               {"orders": ("amount", "is_cancelled", "cancel_stage"), "requests": ("request_stage",)},
               p.stage_counts, ("cancel_stages",), column_needs={"requests": ("requests",)}),
        _table("lifecycle", "Order life cycle", "orders", COUNT,
               "Orders reaching each step (placed, paid, shipped, delivered), the orders that reached a step "
               "but not the next (count and share), and the orders cancelled after each step. A step the "
               "data set does not record (without shipping times: shipped and delivered; without delivery "
               "times: delivered) is unknown, not 0.",
               {"orders": ("paid_at", "shipped_at", "delivered_at", "is_cancelled", "cancel_stage")},
               lambda f: p.lifecycle(f.orders), ("payment_times",)),
        _table("orders_by_status", "Orders by status", "orders", COUNT,
               f"Per order status (the export's, {LABEL_READING}) and the stage of the order's cancellation "
               "request or cancellation: orders, cancelled orders and their share of the selected orders.",
               {"orders": ("status", "is_cancelled", "cancel_stage", "request_stage")},
               p.orders_by_status, ("statuses",)),
        _table("reasons", "Cancellation reasons", "requests", COUNT,
               "Requests per reason and each reason's share of all requests.", reason_reads,
               lambda f: p.reasons(f.requests), ("requests", "reasons")),
        _table("reasons_by_stage", "Reasons by stage", "requests", COUNT,
               "Requests per stage and reason, with the reason's share of the stage's requests.", reason_reads,
               lambda f: p.reasons_by(f.requests, "request_stage"), ("requests", "reasons", "cancel_stages")),
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
               "response hours, cancelled orders, the cancellation rate with its Wilson 95% interval, "
               "cancelled GMV, orders sent the return way.",
               {"orders": ("seller_id", "amount", "is_cancelled"),
                "requests": ("seller_id", "outcome", "requested_at", "responded_at", "return_path")},
               p.sellers, ("sellers",), _SELLER_COLUMN_NEEDS),
        _table("seller_losses", "What sellers lose", "currency", MONEY,
               "Cancelled orders and GMV (and its share of GMV); orders that shipped before the request "
               "was answered and went the return way, and their GMV.",
               {"orders": ("amount", "is_cancelled"), "requests": ("amount", "return_path")},
               p.seller_losses, column_needs={n: fig.get(n).needs for n in ("return_path_orders", "return_path_gmv")}),
    ]


# Money columns of tables: added up only where the data set has one currency (report._table drops
# those a table has when the data set has several).
MONEY_COLUMNS = ("gmv", "cancelled_gmv", "refund_amount", "return_path_gmv", "cancelled_gmv_share",
                 "share_of_cancelled_gmv")


def _one_currency(metric: Metric) -> Metric:
    """A money figure needs one currency: amounts in several are never added up."""
    if metric.unit == "currency" and metric.name != "money_by_currency" and "single_currency" not in metric.needs:
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


def partials_of(names) -> tuple[str, ...]:
    """The partials the named registry metrics are finalised from, each once, in the order named."""
    return tuple(dict.fromkeys(n for name in names for n in get(name).figure.partials))


def reads(names) -> dict[str, tuple[str, ...]]:
    """grain -> the columns the named metrics read from it together (sorted, for a stable query)."""
    out: dict[str, set[str]] = {}
    for name in names:
        for grain, columns in get(name).reads.items():
            out.setdefault(grain, set()).update(columns)
    return {g: tuple(sorted(c)) for g, c in out.items()}


def scalar_values(frames: p.Frames, names=SCALARS) -> list[pl.LazyFrame]:
    """One single-row LazyFrame per grain that the named scalars use, one column per partial: every
    partial of a grain computed in one pass over its frame. Collect them together (pl.collect_all), put
    them side by side and finalise with `finalise_row`."""
    by_grain = partial_exprs(partials_of(names))
    return [getattr(frames, grain).select(exprs) for grain, exprs in by_grain.items()]


def scalars_row(frames: p.Frames, names=SCALARS) -> dict:
    """The named scalars as one dict (collects)."""
    return finalise_row(pl.concat(pl.collect_all(scalar_values(frames, names)), how="horizontal"), names)
