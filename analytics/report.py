"""The analytics a page or the command line asks for: a data set's frames loaded from DuckDB (filters
pushed into the SQL), run through the registry's pipelines.

Public API, stable: the dashboard pages call these. Everywhere, `con` is a DuckDB connection (each call
takes its own cursor, so one connection may serve several threads); `dataset` is a db.Dataset, an id,
a name, or None for the most recent data set; `filters` is an analytics.filters.Filters (default: all
orders), hashable, so (dataset id, filters, options) makes a cache key.

    report(con, dataset=None, filters=Filters(), *, threshold_days=20) -> dict
        Everything `python -m analytics report --json` prints (shape below).
    filter_options(con, dataset=None) -> dict
        The values each filter can take in the data set: payment_methods, shipping_methods, sellers,
        reasons, stages (sorted lists) and dates {"order" | "request" | "refund": [first, last] or None}.
        filters.restrict_to_options(filters, options) drops values a data set does not have.
    unavailable(con, dataset=None) -> dict[str, str]
        Registry metric name -> why the data set cannot support it.
    load(con, dataset, filters=Filters(), reads=None) -> pipelines.Frames
    load_frame(con, dataset, grain, filters=Filters(), columns=None) -> pl.DataFrame
        The frames the pipelines read (orders, requests, refunds grains), for a page that runs
        pipelines itself.

Frame-returning functions, each -> Table(metric, frame, unavailable, notes). When the data set cannot
support the metric, `frame` is None and `unavailable` says why; `notes` maps columns left out of
`frame` (the data set cannot support them) to why. Columns and grain: analytics/pipelines.py.
    volume_over_time(con, dataset, filters, period="week")      one row per day | week | month
    volume_by(con, dataset, filters, by="payment_method")       by payment_method | shipping_method
    stages(con, dataset, filters)                               one row per stage
    lifecycle(con, dataset, filters)                            one row per step: placed, paid, shipped, delivered
    orders_by_status(con, dataset, filters)                     one row per (status as exported, stage)
    reasons(con, dataset, filters, by=None, period="week")      by None | "stage" | "payment_method" | "period"
    reason_cancelled_gmv(con, dataset, filters)                 one row per reason
    outcomes(con, dataset, filters)                             one row per outcome
    response_time(con, dataset, filters, by=None)               by None | "stage" | "reason" | "payment_method"
    refunds_by(con, dataset, filters, by="payment_method")      by payment_method | channel
    refund_latency(con, dataset, filters, by="payment_method")  by payment_method | channel
    refund_latency_distribution(con, dataset, filters)          one row per completed refund (histogram)
    refund_days(con, dataset, filters, by, measure)              that distribution counted per group and day
    refund_share_over(con, dataset, filters, threshold_days=20, by="payment_method", from_request=False)
                                                                by payment_method | channel | None
    sellers(con, dataset, filters, sort_by="cancelled_gmv")     one row per seller, ranked
    seller_trend(con, dataset, filters, seller, period="week")  volume_over_time of one seller's orders
    seller_losses(con, dataset, filters)                        one row

The report dict:
    {"dataset": {"id", "name"}, "filters": {query parameters, see Filters.to_query},
     "orders": int, "gmv": float, "cancellation_requests": int, "cancelled_orders": int,
     "cancellation_rate": float, "cancelled_gmv": float,
     "requests_by_stage": {stage: int}, "cancellations_by_stage": {stage: int},
     "cancelled_by_payment_method": [{"payment_method", "orders", "cancelled_orders", "cancellation_rate",
                                      "cancelled_gmv"}, ...],
     "request_outcomes": {outcome: int, every outcome in outcomes.OUTCOMES},
     "acceptance_rate": float, "seller_response_hours": {"answered_requests", "p50", "p90"},
     "reasons": [{"reason", "requests", "share"}, ...],
     "refunds": int, "refund_amount": float,
     "refund_latency": [{"payment_method", "refunds", "mean_business_days", "p50_business_days",
                         "p90_business_days", "refunds_from_request", "mean_from_request_business_days",
                         "p50_from_request_business_days", "p90_from_request_business_days",
                         "pending_refunds"}, ...],
     "refund_wait_from_request": {"refunds", "p50_business_days", "p90_business_days"},
     "refund_wait_from_start": {"refunds", "p50_business_days", "p90_business_days"},
        (the buyer's wait over every payment method together, in business days: from the buyer's request
        to the money back, over the completed refunds whose order has a request time, as the Overview's
        tiles p50/p90_refund_business_days_from_request; and from the refund's start to the money back,
        as metrics p50/p90_refund_business_days_from_start. "refunds": how many each one measures)
     "refunds_over_threshold": {"threshold_business_days", "refunds", "over_threshold", "share"},
     "seller_losses": {"cancelled_gmv", "return_path_orders"},
     "orders_by_status": [{"status", "stage", "orders", "cancelled_orders", "share"}, ...] (the Overview's
                         table: the status as the export gave it, read as a label, null when it gave none; the
                         stage of the order's request, else of its cancellation, unknown for a cancellation the
                         export cannot place, null with neither; share of all orders),
     "currency": the one currency of the orders, or null (none recorded, or several),
     "money_by_currency": null, or with several currencies [{"currency", "orders", "gmv", "cancelled_orders",
                          "cancelled_gmv"}, ...] (the money figures above are then null: never added up),
     "unavailable": {key: why},
     "compare": only when asked (report(..., compare=Comparison(...)), `report --compare`): {"mode",
        "range": [first, last] compared, "days": how many, "selection_range": [first, last] of the
        selection's days compared (trimmed like the range: analytics/compare.py), "note": why the days
        compared are not both whole ranges, or why there is no comparison (null otherwise),
        "figures": {name: {"value": compared value, "current": the selection's on the days compared,
                           "change", "change_share"}} for compare.FIGURES,
        "unavailable": {figure name: why}}}
A key the data set cannot support is null and listed in "unavailable" with the reason, never 0; a
part of a key gets a dotted name ("refund_latency.from_request"). A ratio or a percentile with
nothing to measure under the filters (no orders, no answered request) is null too, but is not
"unavailable": the data set has such data, the selection does not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import partial

import duckdb
import polars as pl

from analytics import capabilities, figures, grouped, rollup
from analytics import compare as cmp
from analytics import metrics as m
from analytics import pipelines as p
from analytics.compare import Comparison
from analytics.filters import NO_FILTERS, Filters
from analytics.load import dataset_id as _dataset_id
from analytics.load import load, load_frame, resident  # noqa: F401 (load_frame: public API, see above)
from analytics.load import resolve as _resolve
from analytics.outcomes import OUTCOMES, STAGES

# ---------------------------------------------------------------------------------------------------
# What a data set records (over all its rows, not the filtered ones), cached per data set: a stored
# data set never changes after its import's transaction.

def missing_capabilities(con: duckdb.DuckDBPyConnection, dataset) -> dict[str, str]:
    """Capability name (capabilities.CAPABILITIES) -> why, for each thing the data set does not record."""
    return capabilities.missing(con, _dataset_id(con, dataset))


def currencies(con: duckdb.DuckDBPyConnection, dataset=None) -> list[str]:
    """The currency codes of a data set's orders (as exported, upper case), sorted; [] when it records none."""
    dataset_id = _dataset_id(con, dataset)

    def make() -> list[str]:
        cur = con.cursor()
        try:
            return [c for (c,) in cur.execute(
                "SELECT DISTINCT upper(trim(currency)) AS c FROM orders WHERE dataset_id = ? AND currency IS NOT NULL "
                "ORDER BY c", [dataset_id]).fetchall()]
        finally:
            cur.close()
    return list(capabilities.recorded("currencies", dataset_id, make))


def money_format(codes: list[str], fmt: str = m.MONEY) -> str:
    """A money format with the data set's currency ('BRL {:,.2f}'); plain where it records none."""
    return f"{codes[0]} {fmt}" if len(codes) == 1 else fmt


def unavailable(con: duckdb.DuckDBPyConnection, dataset=None) -> dict[str, str]:
    """Registry metric name -> why the data set cannot support it (whole tables and scalars only; a
    table missing some columns is still available, see Table.notes)."""
    missing = missing_capabilities(con, dataset)
    out = {}
    for name, metric in m.REGISTRY.items():
        why = metric.unavailable(missing)
        if why:
            out[name] = why
    return out


def scalars(con: duckdb.DuckDBPyConnection, dataset=None, filters: Filters = NO_FILTERS,
            names: Iterable[str] = ()) -> dict:
    """The named registry scalars of a data set under filters, in one load; a scalar the data set cannot
    support is None (unavailable() says why)."""
    names = tuple(names)
    missing = missing_capabilities(con, dataset)
    available = [n for n in names if not m.get(n).unavailable(missing)]
    row = _rolled_up_scalars(con, dataset, filters, available) if available else {}
    if row is None:
        row = m.scalars_row(load(con, dataset, filters, m.reads(available)), available)
    return {n: row.get(n) for n in names}


def _rolled_up_scalars(con, dataset, filters: Filters, names: list[str]) -> dict | None:
    """The named scalars from the rollup of the orders kept in memory (rollup.py); None where it cannot
    answer the filters."""
    added = rollup.added(resident(con, dataset), rollup.EVERY_SCALAR, filters, m.partials_of(names))
    if added is None:
        return None
    parts: dict = {}
    for spec in rollup.EVERY_SCALAR:
        parts.update(grouped.read(added, spec)[None])
    return m.finalise(parts, names)


def filter_options(con: duckdb.DuckDBPyConnection, dataset=None) -> dict:
    """The values each filter can take in this data set, sorted: payment_methods, shipping_methods,
    sellers, reasons, stages; and dates: per anchor, [first date, last date] or None when the data set
    has no such time. Null labels are left out (a filter cannot select 'unknown method')."""
    dataset_id = _dataset_id(con, dataset)
    cur = con.cursor()

    def distinct(table: str, column: str) -> list[str]:
        rows = cur.execute(
            f"SELECT DISTINCT {column} FROM {table} WHERE dataset_id = ? AND {column} IS NOT NULL ORDER BY 1",
            [dataset_id]).fetchall()
        return [r[0] for r in rows]

    def bounds(table: str, column: str):
        lo, hi = cur.execute(f"SELECT min({column})::DATE, max({column})::DATE FROM {table} WHERE dataset_id = ?",
                             [dataset_id]).fetchone()
        return None if lo is None else [lo, hi]

    stages_present = set(distinct("cancellation_requests", "stage")) | set(distinct("orders", "cancel_stage"))
    return {
        "payment_methods": distinct("orders", "payment_method"),
        "shipping_methods": distinct("orders", "shipping_method"),
        "sellers": sorted({*distinct("orders", "seller_id"), *distinct("order_sellers", "seller_id")}),
        "reasons": distinct("cancellation_requests", "reason"),
        "stages": [s for s in STAGES if s in stages_present],
        "dates": {
            "order": bounds("orders", "placed_at"),
            "request": bounds("cancellation_requests", "requested_at"),
            "refund": bounds("refunds", "initiated_at"),
        },
    }


# ---------------------------------------------------------------------------------------------------
# Tables

@dataclass(frozen=True)
class Table:
    """A table metric's result. `frame` is None when the data set cannot support the metric at all, and
    `unavailable` says why; `notes` names the columns left out of `frame` for the same reason."""

    metric: str
    frame: pl.DataFrame | None
    unavailable: str | None = None
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def available(self) -> bool:
        return self.unavailable is None

    @property
    def label(self) -> str:
        return m.get(self.metric).label


def _table(con, dataset, filters: Filters, name: str, *, reads: dict | None = None,
           extra_needs: tuple[str, ...] = (), expand=None, **options) -> Table:
    """Run registry table `name` on the data set: unavailable (with why) when the data set lacks what it
    needs, else its frame without the columns the data set cannot support (listed in notes)."""
    metric = m.get(name)
    # Looked up once: the capabilities and each grain's load would each look the data set up again.
    dataset = _resolve(con, dataset)

    def computed() -> pl.DataFrame:
        frames = load(con, dataset, filters, metric.reads if reads is None else reads)
        if expand is not None:
            frames = expand(con, dataset, frames)
        return metric.pipeline(frames, **options).collect()

    return table_of(name, missing_capabilities(con, dataset), computed, extra_needs)


def table_of(name: str, missing: dict[str, str], computed, extra_needs: tuple[str, ...] = ()) -> Table:
    """Registry table `name` of a data set lacking `missing` (capability -> why): unavailable (with why),
    else `computed()`'s frame without the columns the data set cannot support (listed in notes). Every
    engine's tables are finished here."""
    metric = m.get(name)
    why = metric.unavailable(missing) or next((missing[n] for n in extra_needs if n in missing), None)
    if why:
        return Table(name, None, why)
    frame = computed()
    notes = metric.unavailable_columns(missing)
    if "single_currency" in missing and name != "money_by_currency":
        notes.update({c: missing["single_currency"] for c in m.MONEY_COLUMNS if c in frame.columns})
    return Table(name, frame.drop([c for c in notes if c in frame.columns]), None, notes)


# The volume over time's counts per period: the registry scalars of the same names, each a count or sum of one partial.
_VOLUME_COUNTS = ("orders", "gmv", "cancelled_orders", "cancelled_gmv", "cancellation_requests")


def volume_over_time(con, dataset=None, filters: Filters = NO_FILTERS, period: str = "week") -> Table:
    p.period_start("placed_at", period)  # refuse a bad period before touching the database
    ds = _resolve(con, dataset)
    partial = {name: m.get(name).figure.partials[0] for name in _VOLUME_COUNTS}
    counts = rollup.trend(resident(con, ds), filters, partial.values(), period)
    if counts is not None:
        return table_of("volume_over_time", missing_capabilities(con, ds),
                        lambda: _volume_rolled_up(counts, partial, period))
    reads = m.get("volume_over_time").reads
    # Anchored on the order date the series reads orders and requests; otherwise the one grain whose
    # rows are the orders with that event.
    grains = {"order": ("orders", "requests"), "request": ("requests",), "refund": ("refunds",)}[filters.anchor]
    return _table(con, dataset, filters, "volume_over_time", reads={g: reads[g] for g in grains},
                  period=period, anchor=filters.anchor)


def _volume_rolled_up(rows: pl.DataFrame, partial: dict[str, str], period: str) -> pl.DataFrame:
    """volume_over_time on the order anchor from the rollup of the orders kept in memory: each count's
    partial per period (`rows`: rollup.trend; `partial`: column -> its partial), finished by the
    pipeline's own volume_table."""
    counted = rows.select("period", *(
        pl.col(part).cast(pl.Float64 if m.PARTIALS[part].kind == "sum" else pl.Int64).alias(name)
        for name, part in partial.items()))
    return p.volume_table(counted.lazy(), period).collect()


def volume_by(con, dataset=None, filters: Filters = NO_FILTERS, by: str = "payment_method") -> Table:
    if by not in ("payment_method", "shipping_method"):
        raise ValueError("by must be 'payment_method' or 'shipping_method'")
    return _table(con, dataset, filters, f"volume_by_{by}")


def stages(con, dataset=None, filters: Filters = NO_FILTERS) -> Table:
    return _table(con, dataset, filters, "stages")


def lifecycle(con, dataset=None, filters: Filters = NO_FILTERS) -> Table:
    """The funnel; a step the data set does not record (no shipping or no delivery times) is unknown, not 0:
    its reached, and what it would give, are null, with why in notes (steps_unknown)."""
    return steps_unknown(_from_partials(con, dataset, filters, "lifecycle"), missing_capabilities(con, dataset))


# Each step the times may not record: the capability it needs, and the steps unknown without it (with the
# step before them, whose `left` they give). A cancellation's stage after such a step is unknown too.
_UNRECORDED_STEPS = (("ship_times", ("shipped", "delivered"), "paid"),
                     ("delivery_times", ("delivered",), "shipped"))


def steps_unknown(table: Table, missing: dict[str, str]) -> Table:
    """The life cycle's table of a data set lacking `missing`: without shipping times the shipped and
    delivered steps, without delivery times the delivered step, read unknown (reached null; the step
    before's left and share null; without shipping times, the orders cancelled after payment and after
    shipment null: the stage of such a cancellation is unknown), with why in notes[step]."""
    if not table.available:
        return table
    frame, notes = table.frame, dict(table.notes)
    for capability, steps, before in _UNRECORDED_STEPS:
        why = missing.get(capability)
        if why is None:
            continue
        gives = pl.col("step").is_in([before, *steps])
        stage_unknown = gives if capability == "ship_times" else pl.lit(False)
        frame = frame.with_columns(
            pl.when(pl.col("step").is_in(steps)).then(None).otherwise(pl.col("reached")).alias("reached"),
            pl.when(gives).then(None).otherwise(pl.col("left")).alias("left"),
            pl.when(gives).then(None).otherwise(pl.col("left_share")).alias("left_share"),
            pl.when(stage_unknown).then(None).otherwise(pl.col("cancelled_after"))
            .alias("cancelled_after"))
        notes.setdefault(steps[0], why)
    return Table(table.metric, frame, None, notes)


def orders_by_status(con, dataset=None, filters: Filters = NO_FILTERS) -> Table:
    return _from_partials(con, dataset, filters, "orders_by_status")


_REASON_TABLES = {None: "reasons", "stage": "reasons_by_stage", "payment_method": "reasons_by_payment_method",
                  "period": "reasons_over_time"}


def reasons(con, dataset=None, filters: Filters = NO_FILTERS, by: str | None = None, period: str = "week") -> Table:
    if by not in _REASON_TABLES:
        raise ValueError("by must be None, 'stage', 'payment_method' or 'period'")
    if by != "period":
        return _table(con, dataset, filters, _REASON_TABLES[by])
    p.period_start("requested_at", period)
    return _table(con, dataset, filters, "reasons_over_time", period=period, anchor=reasons_anchor(filters))


def reasons_anchor(filters: Filters) -> str:
    """The date requests are drawn by over time: the request date, or the refund date when the user
    anchored on it."""
    return "refund" if filters.anchor == "refund" else "request"


def reason_cancelled_gmv(con, dataset=None, filters: Filters = NO_FILTERS) -> Table:
    return _table(con, dataset, filters, "reason_cancelled_gmv")


def outcomes(con, dataset=None, filters: Filters = NO_FILTERS) -> Table:
    return _from_partials(con, dataset, filters, "outcomes")


_RESPONSE_BY = {None: None, "stage": "request_stage", "reason": "reason", "payment_method": "payment_method"}


def response_time(con, dataset=None, filters: Filters = NO_FILTERS, by: str | None = None) -> Table:
    if by not in _RESPONSE_BY:
        raise ValueError("by must be None, 'stage', 'reason' or 'payment_method'")
    column = _RESPONSE_BY[by]
    reads = {"requests": (*m.get("response_time").reads["requests"], *([column] if column else []))}
    return _table(con, dataset, filters, "response_time", reads=reads,
                  extra_needs=("reasons",) if by == "reason" else (), by=column)


def _refund_by(by: str) -> str:
    if by not in ("payment_method", "channel"):
        raise ValueError("by must be 'payment_method' or 'channel'")
    return "refund_channel" if by == "channel" else by


def refunds_by(con, dataset=None, filters: Filters = NO_FILTERS, by: str = "payment_method") -> Table:
    spec = _refunds_spec(_refund_by(by))
    return _rolled_up(con, dataset, filters, f"refunds_by_{by}", spec, partial(_refunds_by_frame, spec=spec)) \
        or _table(con, dataset, filters, f"refunds_by_{by}")


def refund_latency(con, dataset=None, filters: Filters = NO_FILTERS, by: str = "payment_method") -> Table:
    spec = _latency_spec(_refund_by(by))
    return _rolled_up(con, dataset, filters, f"refund_latency_by_{by}", spec, partial(_latency_frame, spec=spec)) \
        or _table(con, dataset, filters, f"refund_latency_by_{by}")


def refund_latency_distribution(con, dataset=None, filters: Filters = NO_FILTERS) -> Table:
    return _table(con, dataset, filters, "refund_latency_distribution")


# A refund's waiting time by where it is measured from: refund_latency_distribution's column of it, and the
# partial that counts it (its distribution in business days).
REFUND_DAYS = {"start": ("business_days", "refund_days_from_start"),
               "request": ("business_days_from_request", "wait_days")}


def refund_days(con, dataset=None, filters: Filters = NO_FILTERS, by: str = "payment_method",
                measure: str = "start") -> Table:
    """refund_latency_distribution counted: per group (the payment method or the refund channel, in its
    column; null: unknown) and number of business days (in the measure's column of that table), the
    refunds that took that long; by group, then days. What the refund time chart and its table read: a
    few hundred rows where the distribution has one per refund (478,000 at 10M orders). Unavailable as
    that table is, or when the data set has no such time."""
    column = _refund_by(by)
    days, part = REFUND_DAYS[measure]
    schema = {column: pl.String, days: pl.Int32, "refunds": pl.Int64}
    spec = _latency_spec(column)

    def from_partials(added: pl.DataFrame) -> pl.DataFrame:
        rows = [(key, int(v), int(round(n))) for key, parts in grouped.read(added, spec).items()
                for v, n in zip(parts[part].values, parts[part].counts, strict=True)]
        return pl.DataFrame(rows, schema=schema, orient="row").sort(column, days, nulls_last=True)

    table = _rolled_up(con, dataset, filters, "refund_latency_distribution", spec, from_partials)
    if table is None:
        table = refund_latency_distribution(con, dataset, filters)
        if table.available and days in table.frame.columns:
            counted = (table.frame.drop_nulls(days).group_by(column, days).len("refunds")
                       .select(column, days, pl.col("refunds").cast(pl.Int64)).sort(column, days, nulls_last=True))
            table = replace(table, frame=counted)
    if table.available and days in table.notes:
        return Table(table.metric, None, table.notes[days])
    return table


def refund_share_over(con, dataset=None, filters: Filters = NO_FILTERS, threshold_days: float = 20,
                      by: str | None = "payment_method", from_request: bool = False) -> Table:
    column = None if by is None else _refund_by(by)
    extra = (("refund_channels",) if column == "refund_channel" else ()) + (
        ("requests", "request_times") if from_request else ())
    spec = _latency_spec(column)
    return _rolled_up(con, dataset, filters, "refund_share_over_threshold", spec,
                      partial(_share_over_frame, spec=spec, threshold_days=threshold_days, from_request=from_request),
                      extra_needs=extra) \
        or _table(con, dataset, filters, "refund_share_over_threshold", extra_needs=extra,
                  threshold_days=threshold_days, by=column, from_request=from_request)


def sellers(con, dataset=None, filters: Filters = NO_FILTERS, sort_by: str = "cancelled_gmv") -> Table:
    if sort_by not in p.SELLER_SORT_COLUMNS:
        raise ValueError(f"sort_by must be one of {', '.join(p.SELLER_SORT_COLUMNS)}")
    return _table(con, dataset, filters, "sellers", reads=_SELLER_READS, expand=partial(_every_seller, filters=filters),
                  sort_by=sort_by)


def seller_trend(con, dataset=None, filters: Filters = NO_FILTERS, seller: str = "", period: str = "week") -> Table:
    """One seller's orders over time (volume_over_time under the filters narrowed to the seller): orders,
    cancelled orders and the cancellation rate per period."""
    return volume_over_time(con, dataset, replace(filters, sellers=(seller,)), period)


_SELLER_READS = {g: (*cols, "order_id") for g, cols in m.get("sellers").reads.items()}


def _every_seller(con, dataset, frames: p.Frames, filters: Filters = NO_FILTERS) -> p.Frames:
    """An order with several sellers (order_sellers) counts for each of them, with its share of the amount:
    one row per (order, seller), so no seller is missing from the seller table and GMV is not doubled.
    Under a filter on sellers, the frames' amounts are already those sellers' part (load.seller_amount_sql):
    each of them gets its share of that part, and the order's other sellers none."""
    cur = con.cursor()
    try:
        pairs = cur.sql("SELECT order_id, seller_id AS _seller, share AS _share FROM order_sellers "
                        "WHERE dataset_id = ?", params=[_dataset_id(con, dataset)]).pl()
    finally:
        cur.close()
    if filters.sellers:
        # (Their part of an order is 0 when their items cost nothing: then none of it is anybody's.)
        part = pl.col("_share").sum().over("order_id")
        pairs = (pairs.filter(pl.col("_seller").is_in(list(filters.sellers)))
                 .with_columns(pl.when(part > 0).then(pl.col("_share") / part).otherwise(0.0).alias("_share")))
    if pairs.is_empty():
        return frames
    pairs = pairs.lazy()
    orders = (frames.orders.join(pairs, on="order_id", how="left")
              .with_columns(pl.coalesce("_seller", "seller_id").alias("seller_id"),
                            (pl.col("amount") * pl.col("_share").fill_null(1.0)).alias("amount"))
              .drop("_seller", "_share"))
    requests = frames.requests
    if requests is not None:
        requests = (requests.join(pairs.drop("_share"), on="order_id", how="left")
                    .with_columns(pl.coalesce("_seller", "seller_id").alias("seller_id")).drop("_seller"))
    return p.Frames(orders=orders, requests=requests, refunds=frames.refunds)


def money_by_currency(con, dataset=None, filters: Filters = NO_FILTERS) -> Table:
    return _table(con, dataset, filters, "money_by_currency")


def seller_losses(con, dataset=None, filters: Filters = NO_FILTERS) -> Table:
    return _table(con, dataset, filters, "seller_losses")


# ---------------------------------------------------------------------------------------------------
# The report: headline numbers and small tables from one load per grain, collected together.

_REPORT_SCALARS = (
    "orders", "gmv", "cancellation_requests", "cancelled_orders", "cancellation_rate", "cancelled_gmv",
    "acceptance_rate", "answered_requests", "p50_response_hours", "p90_response_hours", "refunds",
    "refund_amount", "return_path_orders",
    *(f"requests_{s}" for s in STAGES), *(f"cancelled_{s}" for s in STAGES), *(f"outcome_{o}" for o in OUTCOMES),
)
# The report's tables as partials per group (grouped.py): added up over any split of the orders, then
# finalised here, on one machine and on Spark alike.
_VOLUME_PARTIALS = ("orders", "gmv", "cancelled_orders", "cancelled_gmv")
_LATENCY_PARTIALS = ("refund_days_from_start", "wait_days", "pending_refunds")
_TABLE_SPECS = (
    grouped.Grouped("by_payment_method", "orders", "payment_method", _VOLUME_PARTIALS),
    grouped.Grouped("by_reason", "requests", "reason", ("requests",)),
    grouped.Grouped("latency_by_payment_method", "refunds", "payment_method", _LATENCY_PARTIALS),
    grouped.Grouped("latency", "refunds", None, _LATENCY_PARTIALS),
)
_CURRENCY_SPEC = grouped.Grouped("by_currency", "orders", "currency", _VOLUME_PARTIALS)
_CURRENCY_REFUNDS_SPEC = grouped.Grouped("refunds_by_currency", "refunds", "currency", ("refunds", "refund_amount"))
# Orders by status: counts per pipelines.STATUS_KEYS, finished by the Overview's own pipelines.status_table.
STATUS_SPEC = grouped.Grouped("by_status", "orders", p.STATUS_KEYS, ("orders", "cancelled_orders"))
# A group's key is text (grouped.py): whether its orders were cancelled is read back from it.
_STATUS_SCHEMA = {**{k: pl.String for k in p.STATUS_KEYS}, "orders": pl.Int64, "cancelled_orders": pl.Int64}


def report_specs(several_currencies: bool = False) -> list[grouped.Grouped]:
    """The partials `report` finalises: its headline scalars and its tables' groups (money by currency
    only where the data set has several currencies)."""
    return [*grouped.scalar_specs(_REPORT_SCALARS), *_TABLE_SPECS, STATUS_SPEC,
            *([_CURRENCY_SPEC, _CURRENCY_REFUNDS_SPEC] if several_currencies else [])]


# Report key -> the capabilities it stands on. A key the data set cannot support is null, with its reason
# in "unavailable"; it is never shown as 0.
_REPORT_NEEDS = {
    "cancellation_requests": ("requests",),
    "cancellations_by_stage": ("cancel_stages",),
    "cancelled_by_payment_method": ("payment_methods",),
    "requests_by_stage": ("requests", "cancel_stages"),
    "request_outcomes": ("requests",),
    "acceptance_rate": ("requests", "seller_responses"),
    "seller_response_hours": ("requests", "response_times"),
    "reasons": ("requests", "reasons"),
    "refunds": ("refunds",),
    "refund_amount": ("refunds", "refund_amounts", "single_currency"),
    "gmv": ("single_currency",),
    "cancelled_gmv": ("single_currency",),
    "refund_latency": ("refunds", "refund_times", "payment_methods"),
    "refund_wait_from_start": ("refunds", "refund_times"),
    "refund_wait_from_request": ("refunds", "refund_times", "requests", "request_times"),
    "refunds_over_threshold": ("refunds", "refund_times"),
    "orders_by_status": ("statuses",),
}
_FROM_REQUEST_KEYS = ("refunds_from_request", "mean_from_request_business_days", "p50_from_request_business_days",
                      "p90_from_request_business_days")


def report(con: duckdb.DuckDBPyConnection, dataset=None, filters: Filters = NO_FILTERS, *,
           threshold_days: float = 20, compare: Comparison | None = None) -> dict:
    """The headline report of one data set under filters, in the command line's JSON shape (see the
    module docstring): one load per grain, its partials tallied in one go (grouped.py), then finalised.
    With an active `compare`, a "compare" block (compare.report_block) computed by this same function
    under the compared dates; without one, no such key."""
    ds = _resolve(con, dataset)
    missing = missing_capabilities(con, ds)
    codes = currencies(con, ds)
    specs = report_specs(len(codes) > 1)
    added = rollup.added(resident(con, ds), specs, filters)
    if added is None:
        added = grouped.add(grouped.tally(load(con, ds, filters, grouped.reads(specs), coded=True), specs))
    out = finalise_report(ds, filters, threshold_days, missing, codes, added)
    if compare is not None and compare.active:
        out["compare"] = with_comparison(con, ds, filters, out, compare,
                                         lambda f: report(con, ds, f, threshold_days=threshold_days))
    return out


_ANCHOR_DATES = {"order": ("orders", "placed_at"), "request": ("cancellation_requests", "requested_at"),
                 "refund": ("refunds", "initiated_at")}


def date_bounds(con: duckdb.DuckDBPyConnection, dataset, anchor: str = "order") -> tuple:
    """The data set's first and last day for a date anchor ((None, None): it has no such date)."""
    table, column = _ANCHOR_DATES[anchor]
    cur = con.cursor()
    try:
        return tuple(cur.execute(f"SELECT min({column})::DATE, max({column})::DATE FROM {table} "
                                 "WHERE dataset_id = ?", [_dataset_id(con, dataset)]).fetchone())
    finally:
        cur.close()


def with_comparison(con, dataset, filters: Filters, selection_report: dict, comparison: Comparison,
                    report_of) -> dict:
    """The report's "compare" block: the days compared (compare.window, on the data set's dates for the
    filters' anchor) and each figure's compared value and change, `report_of(filters)` giving the report
    under the compared dates (this engine's report)."""
    win = cmp.window(comparison, filters, date_bounds(con, dataset, filters.anchor))
    return cmp.report_block(report_of, filters, selection_report, win, comparison)


def _volume_rows(added: pl.DataFrame, spec: grouped.Grouped) -> list[dict]:
    rows = [{spec.by: key, **m.finalise(parts, (*_VOLUME_PARTIALS, "cancellation_rate"))}
            for key, parts in grouped.read(added, spec).items()]
    return grouped.ranked(rows, "orders", spec.by)


def status_frame(added: pl.DataFrame) -> pl.DataFrame:
    """Orders by status (the orders_by_status table) from the added partials of STATUS_SPEC."""
    counted = pl.DataFrame([{**STATUS_SPEC.values(key), **parts} for key, parts in grouped.read(added, STATUS_SPEC).items()],
                           schema=_STATUS_SCHEMA)
    return p.status_table(counted.lazy().with_columns(pl.col("is_cancelled") == "true")).collect()


def _status_rows(added: pl.DataFrame) -> list[dict]:
    return status_frame(added).to_dicts()


# Tables finished from added partials, by the functions that finish their pipelines: the Overview's life
# cycle, orders by status and how requests end. Spark tallies their specs with the scalars (external.py);
# the orders kept in memory add them up from their rollup (rollup.py).
OUTCOME_SPEC = grouped.Grouped("by_outcome", "requests", "outcome", ("requests",))
LIFECYCLE_SPEC = grouped.Grouped("lifecycle", "orders", None, (
    "orders", *(f"reached.{step}" for step in p.LIFECYCLE_TIMES), *(f"left.{step}" for step in p.LIFECYCLE_STEPS[:-1]),
    *(f"cancelled_at.{s}" for s in STAGES)))


def _lifecycle_frame(added: pl.DataFrame) -> pl.DataFrame:
    parts = grouped.read(added, LIFECYCLE_SPEC)[None]
    counts = {"placed": parts["orders"], **{step: parts[f"reached.{step}"] for step in p.LIFECYCLE_TIMES},
              **{f"left.{step}": parts[f"left.{step}"] for step in p.LIFECYCLE_STEPS[:-1]},
              **{f"cancelled_at.{s}": parts[f"cancelled_at.{s}"] for s in STAGES}}
    return p.lifecycle_table(pl.LazyFrame([counts], schema=dict.fromkeys(counts, pl.Int64))).collect()


def _outcomes_frame(added: pl.DataFrame) -> pl.DataFrame:
    counted = [{"outcome": key, "requests": parts["requests"]} for key, parts in grouped.read(added, OUTCOME_SPEC).items()]
    return p.outcomes_table(pl.LazyFrame(counted, schema={"outcome": pl.String, "requests": pl.Int64})).collect()


FROM_PARTIALS: dict[str, tuple[grouped.Grouped, Callable[[pl.DataFrame], pl.DataFrame]]] = {
    "lifecycle": (LIFECYCLE_SPEC, _lifecycle_frame),
    "orders_by_status": (STATUS_SPEC, status_frame),
    "outcomes": (OUTCOME_SPEC, _outcomes_frame),
}


def _from_partials(con, dataset, filters: Filters, name: str) -> Table:
    """Table `name` of FROM_PARTIALS: from the rollup of the orders kept in memory where it answers the
    filters, else by the registry's pipeline."""
    spec, finish = FROM_PARTIALS[name]
    return _rolled_up(con, dataset, filters, name, spec, finish) or _table(con, dataset, filters, name)


def _rolled_up(con, dataset, filters: Filters, name: str, spec: grouped.Grouped,
               finish: Callable[[pl.DataFrame], pl.DataFrame], extra_needs: tuple[str, ...] = ()) -> Table | None:
    """Registry table `name` finished by `finish` from the spec's partials added up from the rollup of the
    orders kept in memory (rollup.py); None when the orders are not kept or the rollup cannot answer the
    filters (the caller runs the table's pipeline)."""
    ds = _resolve(con, dataset)
    wide = resident(con, ds)
    if wide is None or not rollup.answers(filters):
        return None
    return table_of(name, missing_capabilities(con, ds), lambda: finish(rollup.added(wide, (spec,), filters)),
                    extra_needs)


# The Refunds page's tables from their partials per payment method or refund channel (or the whole
# selection), finished as their pipelines finish them: the same columns, rows in the same order.
_LATENCY_COLUMNS = {"refunds": pl.Int64, "mean_business_days": pl.Float64, "p50_business_days": pl.Float64,
                    "p90_business_days": pl.Float64, "refunds_from_request": pl.Int64,
                    "mean_from_request_business_days": pl.Float64, "p50_from_request_business_days": pl.Float64,
                    "p90_from_request_business_days": pl.Float64, "pending_refunds": pl.Int64}


def _latency_spec(by: str | None) -> grouped.Grouped:
    """The latency's partials per `by` (a refund column, None: the whole selection); the report's own for
    the payment method and the whole, so they share their rollup."""
    _, _, by_method, whole = _TABLE_SPECS
    if by is None:
        return whole
    return by_method if by == "payment_method" else grouped.Grouped(f"latency_by_{by}", "refunds", by, _LATENCY_PARTIALS)


def _refunds_spec(by: str) -> grouped.Grouped:
    return grouped.Grouped(f"refunds_by_{by}", "refunds", by, ("refunds", "refund_amount"))


def _keyed(spec: grouped.Grouped, key) -> dict:
    return {} if spec.by is None else {spec.by: key}


def _latency_frame(added: pl.DataFrame, spec: grouped.Grouped) -> pl.DataFrame:
    """pipelines.refund_latency's table: one row per group, by its key, nulls last."""
    rows = [{**_keyed(spec, key), **_latency_row(parts)} for key, parts in grouped.read(added, spec).items()]
    return pl.DataFrame(grouped.by_key(rows, spec.by), schema={spec.by: pl.String, **_LATENCY_COLUMNS})


def _share_over_frame(added: pl.DataFrame, spec: grouped.Grouped, threshold_days: float,
                      from_request: bool) -> pl.DataFrame:
    """pipelines.refund_share_over's table: per group (or one row), the measured refunds, those over the
    threshold (strictly) and their share."""
    rows = []
    for key, parts in grouped.read(added, spec).items():
        days = parts[REFUND_DAYS["request" if from_request else "start"][1]]
        measured, slow = grouped.whole(days), grouped.over(days, threshold_days)
        rows.append({**_keyed(spec, key), "refunds": measured, "over_threshold": slow,
                     "share_over_threshold": slow / measured if measured else None})
    schema = {**({spec.by: pl.String} if spec.by else {}), "refunds": pl.Int64, "over_threshold": pl.Int64,
              "share_over_threshold": pl.Float64}
    return pl.DataFrame(grouped.by_key(rows, spec.by) if spec.by else rows, schema=schema)


def _refunds_by_frame(added: pl.DataFrame, spec: grouped.Grouped) -> pl.DataFrame:
    """pipelines.refunds_by's table: refunds, their known amounts and their share, most refunds first."""
    rows = [{spec.by: key, "refunds": parts["refunds"], "refund_amount": parts["refund_amount"]}
            for key, parts in grouped.read(added, spec).items()]
    total = sum(row["refunds"] for row in rows)
    for row in rows:
        row["share"] = row["refunds"] / total if total else None
    return pl.DataFrame(grouped.ranked(rows, "refunds", spec.by),
                        schema={spec.by: pl.String, "refunds": pl.Int64, "refund_amount": pl.Float64, "share": pl.Float64})


def _latency_row(parts: dict) -> dict:
    start, wait = parts["refund_days_from_start"], parts["wait_days"]
    return {
        "refunds": grouped.whole(start), "mean_business_days": start.mean(),
        "p50_business_days": start.percentile(0.5), "p90_business_days": start.percentile(0.9),
        "refunds_from_request": grouped.whole(wait), "mean_from_request_business_days": wait.mean(),
        "p50_from_request_business_days": wait.percentile(0.5),
        "p90_from_request_business_days": wait.percentile(0.9),
        "pending_refunds": parts["pending_refunds"],
    }


def finalise_report(ds, filters: Filters, threshold_days: float, missing: dict[str, str], codes: list[str],
                    added: pl.DataFrame) -> dict:
    """The report from its added partials (grouped.add over the chunks of `report_specs`), what the data
    set records (`missing`: capability -> why) and its currencies: the same for every engine."""
    scalar_parts: dict = {}
    for spec in grouped.scalar_specs(_REPORT_SCALARS):
        scalar_parts.update(grouped.read(added, spec)[None])
    s = m.finalise(scalar_parts, _REPORT_SCALARS)
    by_method, by_reason, latency_by_method, latency = _TABLE_SPECS
    requests = {key: parts["requests"] for key, parts in grouped.read(added, by_reason).items()}
    total_requests = sum(requests.values())
    reason_rows = grouped.ranked(
        [{"reason": key, "requests": n, "share": float(n / total_requests) if total_requests else None}
         for key, n in requests.items()], "requests", "reason", nulls_last=False)
    latency_rows = grouped.by_key([{"payment_method": key, **_latency_row(parts)}
                                   for key, parts in grouped.read(added, latency_by_method).items()],
                                  "payment_method")
    overall = grouped.read(added, latency)[None]
    wait = _latency_row(overall)
    start = overall["refund_days_from_start"]
    measured, slow = grouped.whole(start), grouped.over(start, threshold_days)

    out: dict = {
        "dataset": {"id": ds.id, "name": ds.name},
        "filters": filters.to_query(),
        "orders": s["orders"],
        "gmv": s["gmv"],
        "cancellation_requests": s["cancellation_requests"],
        "cancelled_orders": s["cancelled_orders"],
        "cancellation_rate": s["cancellation_rate"],
        "cancelled_gmv": s["cancelled_gmv"],
        "requests_by_stage": {st: s[f"requests_{st}"] for st in STAGES},
        "cancellations_by_stage": {st: s[f"cancelled_{st}"] for st in STAGES},
        "cancelled_by_payment_method": [
            {k: row[k] for k in ("payment_method", "orders", "cancelled_orders", "cancellation_rate", "cancelled_gmv")}
            for row in _volume_rows(added, by_method)],
        "request_outcomes": {o: s[f"outcome_{o}"] for o in OUTCOMES},
        "acceptance_rate": s["acceptance_rate"],
        "seller_response_hours": {"answered_requests": s["answered_requests"], "p50": s["p50_response_hours"],
                                  "p90": s["p90_response_hours"]},
        "reasons": reason_rows,
        "refunds": s["refunds"],
        "refund_amount": s["refund_amount"],
        "refund_latency": latency_rows,
        "refund_wait_from_request": {"refunds": wait["refunds_from_request"],
                                     "p50_business_days": wait["p50_from_request_business_days"],
                                     "p90_business_days": wait["p90_from_request_business_days"]},
        "refund_wait_from_start": {"refunds": wait["refunds"], "p50_business_days": wait["p50_business_days"],
                                   "p90_business_days": wait["p90_business_days"]},
        "refunds_over_threshold": {"threshold_business_days": threshold_days, "refunds": measured,
                                   "over_threshold": slow,
                                   "share": float(slow / measured) if measured else None},
        "seller_losses": {"cancelled_gmv": s["cancelled_gmv"], "return_path_orders": s["return_path_orders"]},
        "orders_by_status": _status_rows(added),
    }
    why_not: dict[str, str] = {}
    for key, needs in _REPORT_NEEDS.items():
        why = next((missing[n] for n in needs if n in missing), None)
        if why:
            out[key] = None
            why_not[key] = why
    # Parts of otherwise available keys.
    why = next((missing[n] for n in ("requests", "request_times") if n in missing), None)
    if why and out["refund_latency"] is not None:
        for row in out["refund_latency"]:
            row.update(dict.fromkeys(_FROM_REQUEST_KEYS))
        why_not["refund_latency.from_request"] = why
    why = next((missing[n] for n in figures.get("return_path_orders").needs if n in missing), None)
    if why:
        out["seller_losses"]["return_path_orders"] = None
        why_not["seller_losses.return_path"] = why
    if "single_currency" in missing:
        out["seller_losses"]["cancelled_gmv"] = None
        why_not["seller_losses.cancelled_gmv"] = missing["single_currency"]
        for row in out["cancelled_by_payment_method"] or []:
            row["cancelled_gmv"] = None
    out["currency"] = codes[0] if len(codes) == 1 else None
    out["money_by_currency"] = None
    if len(codes) > 1:
        # Each currency's refunds beside its orders (None where the data set records no refunds).
        refunded = {key: m.finalise(parts, ("refunds", "refund_amount"))
                    for key, parts in grouped.read(added, _CURRENCY_REFUNDS_SPEC).items()}
        none = dict.fromkeys(("refunds", "refund_amount"), None if "refunds" in missing else 0)
        out["money_by_currency"] = [{**{k: row[k] for k in ("currency", *_VOLUME_PARTIALS)},
                                     **(none if "refunds" in missing else refunded.get(row["currency"], none))}
                                    for row in _volume_rows(added, _CURRENCY_SPEC)]
    out["unavailable"] = why_not
    return out
