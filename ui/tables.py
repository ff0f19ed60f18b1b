"""How a table is shown on a page: readable column labels, shares as percentages, periods as dates,
counts and amounts with thousands separators. Only the display changes; downloads keep the raw frame.

column_specs() is plain data (tested without a page); column_config() turns it into Streamlit's.
"""

from __future__ import annotations

import math

import polars as pl
import streamlit as st

from analytics import figures, metrics
from analytics.formats import SHOP_CLOCK

# Columns the registry has no metric for, in words.
WORDS = {
    "period": "Period starting", "step": "Step", "stage": "Stage", "request_stage": "Stage",
    "reason": "Reason", "outcome": "Outcome", "payment_method": "Payment method", "refund_channel": "Refund channel",
    "channel": "Refund channel", "shipping_method": "Shipping method", "seller_id": "Seller", "reached": "Orders reaching it",
    "cancelled_after": "Cancelled after it", "requests": "Requests", "share": "Share", "rows": "Rows",
    "over_threshold": "Over threshold", "share_over_threshold": "Share over",
    "business_days": "Business days", "business_days_from_request": "Days from request",
    "share_done": "Done within so many days",
    # Short headers, so that a table fits its column; the header's tooltip (LONG) says it in full.
    "mean_business_days": "Mean (days)", "p50_business_days": "Median (days)", "p90_business_days": "90th pct (days)",
    "refunds_from_request": "With request", "mean_from_request_business_days": "Mean from request",
    "p50_from_request_business_days": "Median from request", "p90_from_request_business_days": "90th pct from request",
    "answered_requests": "Answered", "mean_response_hours": "Mean (h)", "p50_response_hours": "Median (h)",
    "p90_response_hours": "90th pct (h)",
    "share_of_cancelled_gmv": "Share of cancelled GMV", "order_id": "Order", "name": "Name",
    # The times an order's list works out (analytics.drill.DERIVED).
    "dispatch_business_days": "Days to ship", "transit_business_days": "Days in transit",
    "response_hours": "Seller's answer (h)", "refund_business_days": "Refund time (days)",
    "refund_business_days_from_request": "Buyer's wait (days)",
}
# What a short header means, in full (business days: Monday to Friday between the two dates).
LONG = {
    "mean_business_days": "Mean business days from the refund's start",
    "p50_business_days": "Median business days from the refund's start",
    "p90_business_days": "90th percentile of business days from the refund's start",
    "refunds_from_request": "Refunds whose cancellation request is known",
    "mean_from_request_business_days": "Mean business days from the buyer's request",
    "p50_from_request_business_days": "Median business days from the buyer's request",
    "p90_from_request_business_days": "90th percentile of business days from the buyer's request",
    "over_threshold": "Refunds that took more business days than the threshold",
    "share_over_threshold": "Share of the refunds that took more business days than the threshold",
    "answered_requests": "Requests the seller answered",
    "mean_response_hours": "Mean seller response time, hours",
    "p50_response_hours": "Median seller response time, hours",
    "p90_response_hours": "90th percentile of the seller response time, hours",
    "dispatch_business_days": "Business days from the payment to the parcel leaving",
    "transit_business_days": "Business days from shipping to delivery",
    "response_hours": "Hours from the cancellation request to the seller's answer",
    "refund_business_days": "Business days from the refund's start to the money back",
    "refund_business_days_from_request": "Business days from the buyer's request to the money back",
    "amount": "The order's amount; a seller's orders show that seller's share of an order it shares with others",
}

def _label(column: str) -> str:
    if column in WORDS:
        return WORDS[column]
    metric = metrics.REGISTRY.get(column)
    if metric is not None:
        return metric.label
    if " " in column or column != column.lower():
        return column   # already in words ('Cancelled GMV (USD)'): capitalize() would write 'Cancelled gmv (usd)'
    return column.replace("_", " ").capitalize()


def column_words(column: str) -> str:
    """A column's name in words, as its table header shows it."""
    return _label(column)


def _number_format(column: str, dtype: pl.DataType) -> str:
    metric = metrics.REGISTRY.get(column)
    if metric is not None and metric.unit in figures.UNITS:
        fmt = figures.UNITS[metric.unit].column
    elif "share" in column or column.endswith("_rate"):
        fmt = "percent"
    elif "gmv" in column or "amount" in column:
        fmt = "%,.2f"
    elif "business_days" in column and not column.startswith(("mean_", "p50_", "p90_")):
        fmt = "%,.0f"   # one order's (or a histogram's) business days: whole days, not "20.0"
    elif "days" in column or "hours" in column:
        fmt = "%,.1f"
    else:
        fmt = "%,d" if dtype.is_integer() else "%,.2f"
    if fmt == "%,d" and not dtype.is_integer():
        fmt = "%,.0f"
    return fmt


def column_specs(frame: pl.DataFrame) -> dict[str, dict]:
    """Per column: {"kind": "number" | "date" | "datetime" | "text", "label", "format"}."""
    specs = {}
    for column, dtype in frame.schema.items():
        spec = {"label": _label(column), "kind": "text", "format": None}
        if dtype == pl.Date:
            spec.update(kind="date", format="YYYY-MM-DD")
        elif dtype == pl.Datetime or isinstance(dtype, pl.Datetime):
            # A period's start is a day; other times keep their minutes.
            # A time says which clock it is on (formats.SHOP_CLOCK), in its column's help.
            spec.update(kind="date", format="YYYY-MM-DD") if column == "period" else \
                spec.update(kind="datetime", format="YYYY-MM-DD HH:mm", help=f"{spec['label']}, {SHOP_CLOCK}.")
        elif dtype.is_numeric():
            spec.update(kind="number", format=_number_format(column, dtype))
        specs[column] = spec
    return specs


def column_config(frame: pl.DataFrame) -> dict:
    out = {}
    for column, spec in column_specs(frame).items():
        if spec["kind"] == "number":
            out[column] = st.column_config.NumberColumn(spec["label"], format=spec["format"], help=LONG.get(column))
        elif spec["kind"] == "date":
            out[column] = st.column_config.DateColumn(spec["label"], format=spec["format"])
        elif spec["kind"] == "datetime":
            out[column] = st.column_config.DatetimeColumn(spec["label"], format=spec["format"], help=spec.get("help"))
        else:
            out[column] = st.column_config.Column(spec["label"])
    return out


# What a cell of Streamlit's table needs: its font's characters (14 px Source Sans: about 7 px a character at
# most for digits, 6.5 on average for words) and its padding.
CHAR_PX, CELL_PX, WIDEST_PX = 6.5, 24, 320
DIGIT_PX = 7
# A table at the page's full width in a 1280 px window (the sidebar open), and its row selection's column.
PAGE_TABLE_PX, SELECT_PX = 818, 44


def text_width(values: pl.Series, room: int, least: int) -> int:
    """A text column's width that holds its longest value (`values` as shown; ids of digits and letters run
    to DIGIT_PX a character) within `room`, the pixels the table's other columns leave, and at least `least`:
    a fixed width cut the Sellers table's "unknown (not in the export)" at 1280 px, with room to spare."""
    longest = values.cast(pl.String).str.len_chars().max() or 0
    return max(least, min(math.ceil(longest * DIGIT_PX) + CELL_PX, room))


def fitted_widths(shown: pl.DataFrame) -> dict[str, int]:
    """Pixel widths that hold each column's header and its longest value as the table shows it (`shown`:
    codes already in words, downloads.display). Streamlit sizes a column from a few rows and caps it, which
    cut "Not cancellable (shipped)" to "Not cancellable (sh…" in the orders list at 1280 px."""
    widths = {}
    for column, spec in column_specs(shown).items():
        values = shown[column]
        if spec["kind"] in ("date", "datetime"):
            chars = len(spec["format"])   # "YYYY-MM-DD HH:mm" is as long as what it writes
        elif spec["kind"] == "number":
            largest = values.abs().max()
            chars = len(f"{largest:,.2f}") + 1 if largest is not None else 0   # with a sign
        else:
            chars = values.cast(pl.String).str.len_chars().max() or 0
        chars = max(chars, len(spec["label"]))
        widths[column] = min(math.ceil(chars * CHAR_PX) + CELL_PX, WIDEST_PX)
    return widths
