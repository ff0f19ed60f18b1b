"""Pure Polars pipelines: LazyFrames in, a LazyFrame out, nothing collected here.

The input is `Frames`, three frames of one filtered data set, one per grain:
    orders    one row per order
    requests  one row per cancellation request (an order carries at most one), with its order's columns
    refunds   one row per refund (at most one per order), with its order's and its request's columns
All three draw their columns from one vocabulary, `COLUMNS` (name -> type): a requests frame is what a
one-row-per-order table with the request and refund joined on would be, keeping the rows that have a
request (tests/oracles.py splits a hand-written wide table into the three frames); report.py loads
each from DuckDB with only the columns a metric reads, so a million orders never carry their
mostly-empty request and refund columns across.

Definitions (domain.md, "Definitions that every number uses"):
- business days between two timestamps = numpy.busday_count(start.date(), end.date()): the weekdays in
  [start day, end day); Polars' business_day_count gives the same (the tests check it against NumPy).
- percentiles use linear interpolation, asked for explicitly (Polars' own default is 'nearest').
- a ratio whose denominator is 0 is null, never 0 or NaN.
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

import polars as pl

from analytics.outcomes import OUTCOMES, STAGES, UNKNOWN_STAGE

UNKNOWN_SELLER = "unknown (not in the export)"

ORDER_COLUMNS: dict[str, pl.DataType] = {
    "order_id": pl.String,
    "placed_at": pl.Datetime("us"),
    "payment_method": pl.String,
    "amount": pl.Float64,
    "shipping_method": pl.String,
    "seller_id": pl.String,
    "currency": pl.String,
    "paid_at": pl.Datetime("us"),
    "shipped_at": pl.Datetime("us"),
    "delivered_at": pl.Datetime("us"),
    "cancelled_at": pl.Datetime("us"),
    "is_cancelled": pl.Boolean,
    "cancel_stage": pl.String,          # cancelled orders: the stage they were cancelled at
    "status": pl.String,                # the order's status as the export gave it, read as a label (null: none given)
}
REQUEST_COLUMNS: dict[str, pl.DataType] = {
    "has_request": pl.Boolean,
    "requested_at": pl.Datetime("us"),
    "reason": pl.String,
    "request_stage": pl.String,
    "seller_response": pl.String,
    "responded_at": pl.Datetime("us"),
    "outcome": pl.String,
    "return_path": pl.Boolean,
}
REFUND_COLUMNS: dict[str, pl.DataType] = {
    "has_refund": pl.Boolean,
    "refund_channel": pl.String,
    "refund_amount": pl.Float64,
    "refund_initiated_at": pl.Datetime("us"),
    "refund_completed_at": pl.Datetime("us"),
}
COLUMNS: dict[str, pl.DataType] = {**ORDER_COLUMNS, **REQUEST_COLUMNS, **REFUND_COLUMNS}
# Text columns of few distinct values: a frame a pipeline reads may carry them as Categoricals, which
# compare with text, group and filter as text does (load.load, for the report's tallies).
LABEL_COLUMNS = frozenset({"payment_method", "shipping_method", "currency", "cancel_stage", "status", "reason",
                           "request_stage", "seller_response", "outcome", "refund_channel"})
GRAINS = ("orders", "requests", "refunds")


class Frames(NamedTuple):
    """One filtered data set at its three grains; a frame a pipeline does not read may be None."""

    orders: pl.LazyFrame | None = None
    requests: pl.LazyFrame | None = None
    refunds: pl.LazyFrame | None = None


PERIODS = {"day": "1d", "week": "1w", "month": "1mo"}  # weeks start on Monday
# The timestamp each date anchor tests, and buckets by in the over-time views.
ANCHOR_COLUMNS = {"order": "placed_at", "request": "requested_at", "refund": "refund_initiated_at"}
QUANTILE = "linear"


# ---------------------------------------------------------------------------------------------------
# Expressions: the pieces metrics are made of. Each works over a whole frame or inside a group_by, on
# the grain named in its docstring.

# Up to this many values, `one_of` tests each in turn.
ONE_OF_TESTS = 8


def one_of(expr: pl.Expr, values) -> pl.Expr:
    """`expr` is one of `values` (null where expr is null and no value matches, as is_in). A few values
    are tested one by one: Polars' is_in hashes every row, about 10x slower on a text column of 10M rows
    for one value (0.15 s against 0.015 s)."""
    values = list(values)
    if len(values) > ONE_OF_TESTS:
        return expr.is_in(values)
    if not values:
        return expr.is_in([])
    return pl.any_horizontal([expr == v for v in values])


def ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """numerator / denominator, null when the denominator is 0."""
    return pl.when(denominator > 0).then(numerator / denominator).otherwise(None).cast(pl.Float64)


def row_count() -> pl.Expr:
    """Rows: orders on the orders frame, requests on the requests frame, refunds on the refunds frame."""
    return pl.len().cast(pl.Int64)


# Money is added as decimals with 9 places, exact whatever the order of addition, then read as a float:
# the same figure however the orders are split into chunks, days or groups and added up (metrics.py's
# partials, the rollup), and whichever engine reads them.
EXACT = pl.Decimal(38, 9)


def exact_sum(values: pl.Expr) -> pl.Expr:
    """The sum of `values` (nulls left out) as an exact decimal: chunks' sums add up to the whole's."""
    return values.cast(EXACT).sum()


def money_sum(values: pl.Expr) -> pl.Expr:
    """The exact sum of amounts, read as a float (rounded once)."""
    return exact_sum(values).cast(pl.Float64)


def amount_where(condition: pl.Expr) -> pl.Expr:
    """The order's amount where `condition` holds, else null: some orders' amounts to sum. A group_by sums
    it as fast as every amount, where a filter inside the group_by costs half as much again."""
    return pl.when(condition).then(pl.col("amount"))


def gmv() -> pl.Expr:
    return money_sum(pl.col("amount"))


def cancelled_count() -> pl.Expr:
    return pl.col("is_cancelled").sum().cast(pl.Int64)


def cancellation_rate() -> pl.Expr:
    """Orders frame (or any frame of distinct orders): cancelled / rows."""
    return ratio(cancelled_count(), row_count())


def wilson_interval(successes: pl.Expr, trials: pl.Expr, z: float = 1.959964) -> tuple[pl.Expr, pl.Expr]:
    """The Wilson score interval (95% by default) of the proportion successes / trials: (low, high), null
    when there are no trials. Unlike the plain p +- z*sqrt(p(1-p)/n) it stays inside [0, 1] and is wide
    for a handful of trials, so 1 of 2 is not read as surely as 500 of 1,000."""
    n = trials.cast(pl.Float64)
    share = successes.cast(pl.Float64) / n
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * (share * (1 - share) / n + z * z / (4 * n * n)).sqrt()
    low = pl.when(trials > 0).then((centre - half).clip(0.0, 1.0))
    high = pl.when(trials > 0).then((centre + half).clip(0.0, 1.0))
    return low, high


def cancelled_gmv() -> pl.Expr:
    return money_sum(amount_where(pl.col("is_cancelled")))


def cancelled_at_stage(stage: str) -> pl.Expr:
    """Orders frame: orders cancelled at `stage`."""
    return (pl.col("is_cancelled") & (pl.col("cancel_stage") == stage)).sum().cast(pl.Int64)


def requests_at_stage(stage: str) -> pl.Expr:
    """Requests frame: requests made at `stage`."""
    return (pl.col("request_stage") == stage).sum().cast(pl.Int64)


def outcome_count(outcome: str) -> pl.Expr:
    """Requests frame."""
    return (pl.col("outcome") == outcome).sum().cast(pl.Int64)


def answered_count() -> pl.Expr:
    """Requests frame: requests the seller answered (accepted or rejected), the acceptance rate's base."""
    return one_of(pl.col("outcome"), ["accepted", "rejected"]).fill_null(False).sum().cast(pl.Int64)


def acceptance_rate() -> pl.Expr:
    return ratio(outcome_count("accepted"), answered_count())


def return_path_count() -> pl.Expr:
    """Requests frame: requests the parcel overtook (it shipped before the answer; the buyer must return it)."""
    return pl.col("return_path").fill_null(False).sum().cast(pl.Int64)


def return_path_gmv() -> pl.Expr:
    return money_sum(amount_where(pl.col("return_path").fill_null(False)))


def response_hours() -> pl.Expr:
    """Requests frame: hours from the request to the seller's answer; null when either time is missing."""
    return (pl.col("responded_at") - pl.col("requested_at")).dt.total_microseconds() / 3_600_000_000


def refund_business_days() -> pl.Expr:
    """Refunds frame: business days from the refund's start to its completion; null while pending."""
    return pl.business_day_count(pl.col("refund_initiated_at").dt.date(), pl.col("refund_completed_at").dt.date())


def refund_business_days_from_request() -> pl.Expr:
    """Refunds frame: business days from the buyer's cancellation request to the refund's completion."""
    return pl.business_day_count(pl.col("requested_at").dt.date(), pl.col("refund_completed_at").dt.date())


def dispatch_business_days() -> pl.Expr:
    """Orders frame: business days from the payment to the parcel leaving (the dispatch deadline's measure);
    null while unpaid or unshipped."""
    return pl.business_day_count(pl.col("paid_at").dt.date(), pl.col("shipped_at").dt.date())


def transit_business_days() -> pl.Expr:
    """Orders frame: business days from shipping to delivery (transit); null while either is unknown."""
    return pl.business_day_count(pl.col("shipped_at").dt.date(), pl.col("delivered_at").dt.date())


def refund_amount() -> pl.Expr:
    return money_sum(pl.col("refund_amount"))


def pending_refund_count() -> pl.Expr:
    """Refunds frame: refunds with no completion time yet."""
    return pl.col("refund_completed_at").is_null().sum().cast(pl.Int64)


def quantile(expr: pl.Expr, q: float) -> pl.Expr:
    return expr.quantile(q, interpolation=QUANTILE)


def period_start(column: str, period: str) -> pl.Expr:
    """The first day of the day, Monday-started week or month that a timestamp falls in."""
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}, not {period!r}")
    # The day first, then its period: truncating 10M timestamps to weeks costs 3x truncating their days.
    day = pl.col(column).dt.date()
    return day if period == "day" else day.dt.truncate(PERIODS[period])


# ---------------------------------------------------------------------------------------------------
# Volume

def _order_volume() -> list[pl.Expr]:
    return [row_count().alias("orders"), gmv().alias("gmv"), cancelled_count().alias("cancelled_orders"),
            cancelled_gmv().alias("cancelled_gmv")]


_VOLUME_ORDER = ("orders", "gmv", "cancellation_requests", "cancelled_orders", "cancellation_rate", "cancelled_gmv")


def _finish_volume(lf: pl.LazyFrame, key: str) -> pl.LazyFrame:
    return lf.with_columns(
        pl.col("orders", "cancellation_requests", "cancelled_orders").fill_null(0),
        pl.col("gmv", "cancelled_gmv").fill_null(0.0),
    ).with_columns(ratio(pl.col("cancelled_orders"), pl.col("orders")).alias("cancellation_rate")
                   ).select(key, *_VOLUME_ORDER)


def volume_over_time(frames: Frames, period: str = "week", anchor: str = "order") -> pl.LazyFrame:
    """One row per period (day, week or month), from the first to the last with data, empty periods
    included as zeros: orders, gmv, cancellation_requests, cancelled_orders, cancellation_rate,
    cancelled_gmv. Orders are bucketed by their anchor's time: anchored on the order date, by when they
    were placed (and their requests with them); on the request or refund date, the series holds only
    the orders with that event, bucketed by it. Reads frames.orders and .requests (anchor 'order'),
    .requests ('request') or .refunds ('refund')."""
    key = period_start(ANCHOR_COLUMNS[anchor], period).alias("period")
    if anchor == "order":
        counted = frames.orders.group_by(key).agg(_order_volume()).join(
            frames.requests.group_by(key).agg(row_count().alias("cancellation_requests")),
            on="period", how="full", coalesce=True)
    else:
        # Request and refund frames hold one row per order that had the event: the orders of the series.
        frame = frames.requests if anchor == "request" else frames.refunds
        requests = row_count() if anchor == "request" else pl.col("has_request").sum().cast(pl.Int64)
        counted = frame.filter(pl.col(ANCHOR_COLUMNS[anchor]).is_not_null()).group_by(key).agg(
            *_order_volume(), requests.alias("cancellation_requests"))
    return volume_table(counted, period)


def volume_table(counted: pl.LazyFrame, period: str) -> pl.LazyFrame:
    """volume_over_time from orders, gmv, cancelled_orders, cancelled_gmv and cancellation_requests
    counted per period (its first day, in `period`; a period may lack a count): counts that add up, so
    the orders kept in memory add them up from their rollup per day (rollup.py) and finish here."""
    return _finish_volume(every_period(counted, period).join(counted, on="period", how="left"), "period").sort("period")


def every_period(counted: pl.LazyFrame, period: str) -> pl.LazyFrame:
    """Every period (its first day, a `period` apart) from the first to the last of `counted`'s `period`
    column, those without a row of theirs too: a series over time shows a period with nothing as one, not
    as a gap its line draws straight across. No period where `counted` has none."""
    # A stand-in date keeps date_range valid on an empty frame; the row it makes is dropped by _periods > 0.
    stand_in = pl.lit(date(2000, 1, 1))
    return counted.select(
        pl.date_range(pl.col("period").min().fill_null(stand_in), pl.col("period").max().fill_null(stand_in),
                      PERIODS[period]).alias("period"),
        pl.len().alias("_periods"),
    ).filter(pl.col("_periods") > 0).drop("_periods")


def volume_by(frames: Frames, by: str = "payment_method") -> pl.LazyFrame:
    """One row per value of an order column `by` (payment_method, shipping_method, seller_id), most
    orders first: orders, gmv, cancellation_requests, cancelled_orders, cancellation_rate, cancelled_gmv.
    Reads frames.orders and frames.requests (without it, no cancellation_requests column)."""
    orders = frames.orders.group_by(by).agg(_order_volume())
    if frames.requests is None:
        # Without a requests frame (a data set with no request rows, or a caller that does not need
        # them) the column is left out rather than shown as 0.
        joined = orders.with_columns(pl.lit(0, pl.Int64).alias("cancellation_requests"))
        return _finish_volume(joined, by).drop("cancellation_requests").sort(
            ["orders", by], descending=[True, False], nulls_last=True)
    joined = orders.join(frames.requests.group_by(by).agg(row_count().alias("cancellation_requests")),
                         on=by, how="left", nulls_equal=True)
    return _finish_volume(joined, by).sort(["orders", by], descending=[True, False], nulls_last=True)


def money_by_currency(frames: Frames) -> pl.LazyFrame:
    """volume_by currency, with each currency's refunds and refund_amount: a data set in several currencies
    adds no amounts across them, so this table is where its refunds' amounts are shown. Reads
    frames.orders, .requests and .refunds (without it, no refund columns)."""
    volume = volume_by(frames, by="currency")
    if frames.refunds is None:
        return volume
    refunds = frames.refunds.group_by("currency").agg(row_count().alias("refunds"),
                                                      refund_amount().alias("refund_amount"))
    return volume.join(refunds, on="currency", how="left", nulls_equal=True, maintain_order="left").with_columns(
        pl.col("refunds").fill_null(0), pl.col("refund_amount").fill_null(0.0))


# ---------------------------------------------------------------------------------------------------
# Stages and the life cycle

def _per_stage(frame: pl.LazyFrame, exprs: dict[str, callable]) -> pl.LazyFrame:
    """One row per stage in life-cycle order, one column per name in `exprs` (stage -> aggregate)."""
    return frame.select(
        pl.lit(list(STAGES)).alias("stage"),
        *(pl.concat_list([make(s) for s in STAGES]).alias(name) for name, make in exprs.items()),
    ).explode(["stage", *exprs])


def stage_counts(frames: Frames) -> pl.LazyFrame:
    """One row per stage (before_payment, awaiting_shipment, after_shipment): requests made at that
    stage, cancelled_orders and cancelled_gmv cancelled at it (orders cancelled by status alone
    included). Reads frames.orders and frames.requests."""
    requests = _per_stage(frames.requests, {"requests": requests_at_stage})
    cancelled = _per_stage(frames.orders, {
        "cancelled_orders": cancelled_at_stage,
        "cancelled_gmv": lambda s: money_sum(amount_where(pl.col("is_cancelled") & (pl.col("cancel_stage") == s))),
    })
    return requests.join(cancelled, on="stage", how="left", maintain_order="left")


LIFECYCLE_STEPS = ("placed", "paid", "shipped", "delivered")


def lifecycle(orders: pl.LazyFrame) -> pl.LazyFrame:
    """Where orders leave the life cycle, as a funnel. One row per step (placed, paid, shipped,
    delivered): reached (orders with that step's time; every order is placed); left (orders that
    reached the step but not the next one, the orders its red end lists; not reached minus the next
    step's reached: a cash-on-delivery order shipped unpaid reaches Shipped without Paid; null after
    'delivered'); left_share (left / reached); cancelled_after (orders cancelled at the stage that
    follows the step: before payment after 'placed', awaiting shipment after 'paid', after shipment
    after 'shipped'; null after 'delivered'). Reads the orders frame."""
    return lifecycle_table(orders.select(
        row_count().alias("placed"),
        *(pl.col(column).is_not_null().sum().cast(pl.Int64).alias(step) for step, column in LIFECYCLE_TIMES.items()),
        *(left_after(step).alias(f"left.{step}") for step in LIFECYCLE_STEPS[:-1]),
        *(cancelled_at_stage(s).alias(f"cancelled_at.{s}") for s in STAGES)))


def left_after(step: str) -> pl.Expr:
    """The orders that reached `step` but not the next one (drill.STEP_SQL is the same in SQL)."""
    reached = {"placed": pl.lit(True), **{s: pl.col(c).is_not_null() for s, c in LIFECYCLE_TIMES.items()}}
    following = LIFECYCLE_STEPS[LIFECYCLE_STEPS.index(step) + 1]
    return (reached[step] & ~reached[following]).sum().cast(pl.Int64)


# The steps after placing an order, by the time that marks them.
LIFECYCLE_TIMES = {"paid": "paid_at", "shipped": "shipped_at", "delivered": "delivered_at"}


def lifecycle_table(counts: pl.LazyFrame) -> pl.LazyFrame:
    """The funnel (see lifecycle) from one row of counts: orders placed, paid, shipped and delivered (one
    column per step), those that left after each step but the last (left.STEP) and cancelled at each stage
    (cancelled_at.STAGE): counts that add up, so Spark's tally adds them over chunks of orders and finishes
    here."""
    reached = counts.select(
        pl.lit(list(LIFECYCLE_STEPS)).alias("step"),
        pl.concat_list([pl.col(step).cast(pl.Int64) for step in LIFECYCLE_STEPS]).alias("reached"),
        pl.concat_list([*(pl.col(f"cancelled_at.{s}").cast(pl.Int64) for s in STAGES),
                        pl.lit(None, pl.Int64)]).alias("cancelled_after"),
        pl.concat_list([*(pl.col(f"left.{s}").cast(pl.Int64) for s in LIFECYCLE_STEPS[:-1]),
                        pl.lit(None, pl.Int64)]).alias("left"),
    ).explode(["step", "reached", "cancelled_after", "left"])
    left = pl.when(pl.col("reached").shift(-1).is_not_null()).then(pl.col("left"))
    return reached.with_columns(left.alias("left"), ratio(left, pl.col("reached")).alias("left_share")).select(
        "step", "reached", "left", "left_share", "cancelled_after")


def orders_by_status(frames: Frames) -> pl.LazyFrame:
    """One row per (status, stage): the order's status as the export gave it, read as a label (null: the
    export gives none), beside the stage of its request or cancellation (order_stage). Columns: status,
    stage, orders, cancelled_orders, share (of all the selected orders). Statuses with most orders first,
    stages in life-cycle order. Reads frames.orders, whose rows carry their request's stage (an order has
    at most one request)."""
    return status_table(frames.orders.group_by(*STATUS_KEYS).agg(row_count().alias("orders"),
                                                                 cancelled_count().alias("cancelled_orders")))


# What orders by status counts orders by: the export's status, the request's stage, the cancellation's,
# and whether the order was cancelled (a cancellation whose stage the export cannot tell has none).
STATUS_KEYS = ("status", "request_stage", "cancel_stage", "is_cancelled")


def order_stage() -> pl.Expr:
    """Per order (or per group of STATUS_KEYS), the stage orders by status splits by: its request's stage,
    else the stage it was cancelled at (an order cancelled by its status alone); UNKNOWN_STAGE for a
    cancellation whose stage the export cannot tell (it records no payment or shipment times); null for
    an order with neither a request nor a cancellation. drill.STAGE_SQL is the same in SQL."""
    unknown = pl.when(pl.col("is_cancelled")).then(pl.lit(UNKNOWN_STAGE))
    return pl.coalesce("request_stage", "cancel_stage", unknown).alias("stage")


def status_table(counted: pl.LazyFrame) -> pl.LazyFrame:
    """Orders by status (see orders_by_status) from orders and cancelled_orders counted per STATUS_KEYS:
    counts that add up, so the report adds them over chunks of orders and finishes here."""
    # Stages in life-cycle order, then an unknown one, then none (whatever type the stage columns come in).
    order = {s: i for i, s in enumerate((*STAGES, UNKNOWN_STAGE))}
    rank = (pl.when(pl.col("stage").is_null()).then(len(order) + 1)
            .otherwise(pl.col("stage").cast(pl.String).replace_strict(order, default=len(order), return_dtype=pl.Int64)))
    return (
        counted.group_by("status", order_stage()).agg(pl.col("orders").sum().cast(pl.Int64),
                                                      pl.col("cancelled_orders").sum().cast(pl.Int64))
        .with_columns(ratio(pl.col("orders"), pl.col("orders").sum()).alias("share"),
                      pl.col("orders").sum().over("status").alias("_status_orders"),
                      rank.alias("_stage"))
        .sort(["_status_orders", "status", "_stage"], descending=[True, False, False], nulls_last=True)
        .drop("_status_orders", "_stage")
    )


# ---------------------------------------------------------------------------------------------------
# Reasons (requests frame)

def reasons(requests: pl.LazyFrame) -> pl.LazyFrame:
    """One row per reason, most requested first: requests, share (of all requests)."""
    return (
        requests.group_by("reason").agg(row_count().alias("requests"))
        .with_columns(ratio(pl.col("requests"), pl.col("requests").sum()).alias("share"))
        .sort(["requests", "reason"], descending=[True, False])
    )


def reasons_by(requests: pl.LazyFrame, by: str, period: str = "week", anchor: str = "request") -> pl.LazyFrame:
    """One row per (group, reason): requests, share (of the group's requests). `by` is a column of the
    requests frame (request_stage, payment_method, shipping_method, seller_id) or 'period': requests
    bucketed by their anchor's time (the request date unless asked otherwise)."""
    frame = requests
    if by == "period":
        time_col = ANCHOR_COLUMNS[anchor]
        frame = frame.filter(pl.col(time_col).is_not_null()).with_columns(period_start(time_col, period).alias("period"))
    counted = frame.group_by(by, "reason").agg(row_count().alias("requests"))
    if by == "period":
        # Every period from the first to the last and every reason: a period without a reason's requests
        # is a 0 on its line, not a gap that the line would draw straight across.
        grid = every_period(counted, period).join(counted.select("reason").unique(), how="cross")
        counted = (grid.join(counted, on=["period", "reason"], how="left", nulls_equal=True)
                   .with_columns(pl.col("requests").fill_null(0)))
    return (
        counted
        .with_columns(ratio(pl.col("requests"), pl.col("requests").sum().over(by)).alias("share"))
        .sort([by, "requests", "reason"], descending=[False, True, False], nulls_last=True)
    )


def reason_cancelled_gmv(frames: Frames) -> pl.LazyFrame:
    """One row per reason: cancelled_orders, cancelled_gmv, and share_of_cancelled_gmv, the reason's part
    of the cancelled GMV of every selected order. Orders cancelled with no recorded request are in that
    denominator but carry no reason, so the shares may add up to less than 1. Reads orders and requests."""
    total = frames.orders.select(cancelled_gmv().alias("_all"))
    return (
        frames.requests.group_by("reason")
        .agg(cancelled_count().alias("cancelled_orders"), cancelled_gmv().alias("cancelled_gmv"))
        .join(total, how="cross")
        .with_columns(ratio(pl.col("cancelled_gmv"), pl.col("_all")).alias("share_of_cancelled_gmv"))
        .drop("_all")
        .sort(["cancelled_gmv", "reason"], descending=[True, False])
    )


# ---------------------------------------------------------------------------------------------------
# Outcomes and the seller's answer (requests frame)

def outcomes(requests: pl.LazyFrame) -> pl.LazyFrame:
    """One row per outcome in outcomes.OUTCOMES order (zeros included): requests, share."""
    return outcomes_table(requests.group_by("outcome").agg(row_count().alias("requests")))


def outcomes_table(counted: pl.LazyFrame) -> pl.LazyFrame:
    """How requests end (see outcomes) from requests counted per outcome: counts that add up, so Spark's
    tally adds them over chunks of requests and finishes here."""
    return (
        pl.LazyFrame({"outcome": list(OUTCOMES)})
        .join(counted, on="outcome", how="left", maintain_order="left")
        .with_columns(pl.col("requests").fill_null(0))
        .with_columns(ratio(pl.col("requests"), pl.col("requests").sum()).alias("share"))
    )


def response_time_columns() -> list[pl.Expr]:
    hours = response_hours()
    return [
        hours.count().cast(pl.Int64).alias("answered_requests"),
        hours.mean().alias("mean_response_hours"),
        quantile(hours, 0.5).alias("p50_response_hours"),
        quantile(hours, 0.9).alias("p90_response_hours"),
    ]


def response_time(requests: pl.LazyFrame, by: str | None = None) -> pl.LazyFrame:
    """The seller's response time in hours over requests with a request and an answer time:
    answered_requests, mean, p50, p90. One row, or one row per value of `by`."""
    if by is None:
        return requests.select(response_time_columns())
    return requests.group_by(by).agg(response_time_columns()).sort(by, nulls_last=True)


# ---------------------------------------------------------------------------------------------------
# Refunds (refunds frame)

def refunds_by(refunds: pl.LazyFrame, by: str = "payment_method") -> pl.LazyFrame:
    """One row per payment_method or refund_channel, most refunds first: refunds, refund_amount (sum of
    the known amounts), share (of refunds)."""
    return (
        refunds.group_by(by).agg(row_count().alias("refunds"), refund_amount().alias("refund_amount"))
        .with_columns(ratio(pl.col("refunds"), pl.col("refunds").sum()).alias("share"))
        .sort(["refunds", by], descending=[True, False], nulls_last=True)
    )


def refund_latency_columns() -> list[pl.Expr]:
    start, request = refund_business_days(), refund_business_days_from_request()
    return [
        start.count().cast(pl.Int64).alias("refunds"),
        start.mean().alias("mean_business_days"),
        quantile(start, 0.5).alias("p50_business_days"),
        quantile(start, 0.9).alias("p90_business_days"),
        request.count().cast(pl.Int64).alias("refunds_from_request"),
        request.mean().alias("mean_from_request_business_days"),
        quantile(request, 0.5).alias("p50_from_request_business_days"),
        quantile(request, 0.9).alias("p90_from_request_business_days"),
        pending_refund_count().alias("pending_refunds"),
    ]


def refund_latency(refunds: pl.LazyFrame, by: str | None = "payment_method") -> pl.LazyFrame:
    """Refund latency in business days, one row per payment_method or refund_channel (one row with
    by=None): refunds (completed, with a start time: the sample behind mean/p50/p90),
    refunds_from_request (those whose order has a request time, behind the from-request figures),
    pending_refunds (no completion yet)."""
    if by is None:
        return refunds.select(refund_latency_columns())
    return refunds.group_by(by).agg(refund_latency_columns()).sort(by, nulls_last=True)


def refund_latency_distribution(refunds: pl.LazyFrame) -> pl.LazyFrame:
    """One row per completed refund with a measurable latency, for a histogram: payment_method,
    refund_channel, business_days (from the refund's start) and business_days_from_request. Sorted by
    every column, so the rows come in one order however the refunds were read."""
    columns = ["payment_method", "refund_channel", "business_days", "business_days_from_request"]
    return refunds.select(
        "payment_method", "refund_channel",
        refund_business_days().alias("business_days"),
        refund_business_days_from_request().alias("business_days_from_request"),
    ).filter(pl.col("business_days").is_not_null() | pl.col("business_days_from_request").is_not_null()
             ).sort(columns, nulls_last=True)


def refund_share_over(refunds: pl.LazyFrame, threshold_days: float = 20, by: str | None = "payment_method",
                      from_request: bool = False) -> pl.LazyFrame:
    """The share of measured refunds that took more than `threshold_days` business days (strictly more),
    from the refund's start or, with from_request, from the buyer's request. Columns: refunds,
    over_threshold, share_over_threshold; one row, or one row per value of `by`."""
    days = refund_business_days_from_request() if from_request else refund_business_days()
    columns = [days.count().cast(pl.Int64).alias("refunds"),
               (days > threshold_days).sum().cast(pl.Int64).alias("over_threshold")]
    out = refunds.select(columns) if by is None else refunds.group_by(by).agg(columns).sort(by, nulls_last=True)
    return out.with_columns(ratio(pl.col("over_threshold"), pl.col("refunds")).alias("share_over_threshold"))


# ---------------------------------------------------------------------------------------------------
# Sellers

SELLER_SORT_COLUMNS = ("cancelled_gmv", "orders", "gmv", "cancellation_requests", "acceptance_rate",
                       "p50_response_hours", "cancelled_orders", "cancellation_rate_low", "return_path_orders")


# Ranked by their cancellation rate, sellers with fewer orders come last: a handful of orders gives an
# interval too wide to rank on (its low end is 20.7% for 1 cancelled of 1, 6.9% for 2 of 20).
RATE_MIN_ORDERS = 20


def sellers(frames: Frames, sort_by: str = "cancelled_gmv") -> pl.LazyFrame:
    """One row per seller, ranked (rank 1 = largest `sort_by`, ties by seller id, nulls last): orders,
    gmv, cancellation_requests, answered_requests, acceptance_rate (accepted / answered),
    p50_response_hours, cancelled_orders, cancellation_rate (cancelled / orders) with its Wilson 95%
    interval cancellation_rate_low and cancellation_rate_high, cancelled_gmv, return_path_orders.
    Ranked by cancellation_rate_low, a small seller stands above a large one only when its rate is high
    enough to stand above its noise: 1 cancelled of 2 orders (50%, low 9.5%) ranks below 150 of 1,000
    (15%, low 12.9%); and a seller with fewer than RATE_MIN_ORDERS orders comes after every seller with
    more (1 of 1 is still 'at least 20.7%'). Reads orders and requests."""
    if sort_by not in SELLER_SORT_COLUMNS:
        raise ValueError(f"sort_by must be one of {', '.join(SELLER_SORT_COLUMNS)}")
    requests = frames.requests.group_by("seller_id").agg(
        row_count().alias("cancellation_requests"),
        answered_count().alias("answered_requests"),
        acceptance_rate().alias("acceptance_rate"),
        quantile(response_hours(), 0.5).alias("p50_response_hours"),
        return_path_count().alias("return_path_orders"),
    )
    return (
        frames.orders.group_by("seller_id").agg(_order_volume())
        .join(requests, on="seller_id", how="left", nulls_equal=True)
        .with_columns(pl.col("cancellation_requests", "answered_requests", "return_path_orders").fill_null(0))
        .with_columns(ratio(pl.col("cancelled_orders"), pl.col("orders")).alias("cancellation_rate"),
                      *(bound.alias(name) for bound, name in zip(
            wilson_interval(pl.col("cancelled_orders"), pl.col("orders")),
            ("cancellation_rate_low", "cancellation_rate_high"), strict=True)))
        .select("seller_id", "orders", "gmv", "cancellation_requests", "answered_requests", "acceptance_rate",
                "p50_response_hours", "cancelled_orders", "cancellation_rate", "cancellation_rate_low",
                "cancellation_rate_high", "cancelled_gmv", "return_path_orders")
        .sort([(pl.col("orders") >= RATE_MIN_ORDERS) if sort_by == "cancellation_rate_low" else pl.lit(True),
               sort_by, "seller_id"], descending=[True, True, False], nulls_last=True)
        # Orders whose seller the export does not name are one row, said in words.
        .with_columns(pl.col("seller_id").fill_null(UNKNOWN_SELLER))
        .with_row_index("rank", offset=1)
        .with_columns(pl.col("rank").cast(pl.Int64))
    )


def seller_losses(frames: Frames) -> pl.LazyFrame:
    """What sellers lose, one row: cancelled_orders, cancelled_gmv, cancelled_gmv_share (of gmv),
    return_path_orders (orders that shipped before the request was answered and went the return way)
    and return_path_gmv. Reads orders and requests."""
    return frames.orders.select(
        cancelled_count().alias("cancelled_orders"),
        cancelled_gmv().alias("cancelled_gmv"),
        ratio(cancelled_gmv(), gmv()).alias("cancelled_gmv_share"),
    ).join(frames.requests.select(return_path_count().alias("return_path_orders"),
                                  return_path_gmv().alias("return_path_gmv")), how="cross")
