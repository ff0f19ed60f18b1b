"""What a sweep of one what-if parameter can be (no Streamlit): the parameters offered with the values
a sweep starts with, the values typed (checked), the axis in words, and the parameter and figures a
data set's sweep starts with."""

from __future__ import annotations

from analytics import simulate
from analytics.policy import DATA, PARAMETERS, Parameter, PolicyError

# Values a sweep starts with, per parameter (the user may type others).
SWEEP_GRIDS = {
    "seller_response_hours": (12, 24, 48, 72, 96, 168, 336),
    "dispatch_deadline_days": (2, 3, 5, 7, 10, 15, 20),
    "premium_shipping_share": (0.0, 0.1, 0.25, 0.5, 0.75, 1.0),
    **{p.name: (0, 1, 3, 5, 10, 15, 20) for p in PARAMETERS if p.kind == "days_or_fitted"},
}
SWEEPABLE = tuple(SWEEP_GRIDS)
MAX_SWEEP_POINTS = 12


def default_sweep(prep: simulate.Prepared) -> tuple[str, tuple[str, ...]]:
    """The parameter a sweep starts with, and its figures: ones that change something on this data set."""
    counts = prep.calibration.summary().get("counts", {})
    figures = ("refund_wait_p90_business_days", "cancelled_gmv") if counts.get("refunds") else \
        ("cancelled_orders", "cancelled_gmv")
    if counts.get("requests"):
        return "seller_response_hours", figures
    # No request to answer, so the response window changes nothing: the dispatch deadline can still cancel.
    return "dispatch_deadline_days", ("cancelled_orders", "cancelled_gmv")


def parse_values(p: Parameter, text: str) -> tuple[tuple, list[str]]:
    """The values typed for a sweep (at most MAX_SWEEP_POINTS, each once) and the parts refused."""
    values, bad = [], []
    for part in text.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            value = p.parse(part)
        except PolicyError:
            bad.append(part)
            continue
        if value is None:  # 'data' is not a point on an axis
            bad.append(part)
        else:
            values.append(value)
    return tuple(dict.fromkeys(values))[:MAX_SWEEP_POINTS], bad


def _num(x) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:g}"


def axis_range(p: Parameter) -> str:
    """The values a sweep takes, in words with no nested brackets: 'more than 0 and at most 2,160 hours'."""
    if p.kind in ("number", "integer") and p.minimum is not None and p.maximum is not None:
        low = ("more than " if p.minimum_exclusive else "at least ") + _num(p.minimum)
        unit = f" {p.unit}" if p.unit else ""
        whole = "whole numbers, " if p.kind == "integer" else ""
        return f"{whole}{low} and at most {_num(p.maximum)}{unit}"
    return p.range_text.removeprefix(f"'{DATA}' (as the data set shows) or ")


def axis_title(p: Parameter) -> str:
    """A swept parameter's axis title with its unit: "Seller's response window (hours)"."""
    return f"{p.label} ({p.unit})" if p.unit else p.label
