"""Every figure the product shows, declared once: its name, words, unit, format, which way is better,
what a data set must record for it, and how it is finalised from partials (partials.py).

The report (metrics.py, report.py), the Overview tiles, the what-if engine (replay.py, simulate.py),
its tables and sweep, the charts and the command line all read names, labels, units, formats and
directions from here and nowhere else.

A figure the what-if engine also replays carries `whatif`, its name in the engine's figures and in
`simulate --json` (kept as the engine has always called it): `requests` there is `cancellation_requests`
here, one figure with one label. A family (refunds by channel, the wait by payment method) is one
figure whose value is a mapping, flattened by the engine to dotted names
("refunds_by_channel.wallet", "refund_wait_by_payment_method.card.p50").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal

from analytics import partials as pt
from analytics.outcomes import OUTCOMES, REFUND_CHANNELS, STAGES

# --------------------------------------------------------------------------------------------------
# Units and their formats: exact values (a count of orders), estimates (a mean over replicates: a
# count with no decimals shown) and table columns (Streamlit's printf-style formats).


@dataclass(frozen=True)
class Unit:
    exact: str
    estimate: str
    column: str
    # What a tile writes after the figure: a bare "7.0" says nothing of what is counted, and "business days"
    # in full is cut at 1280 px (the tile's help says business days).
    tile_suffix: str = ""

    @property
    def estimate_column(self) -> str:
        """A table column of estimates (means over replicates): a count with no decimals, but a float."""
        return "%,.0f" if self.column == "%,d" else self.column


UNITS: dict[str, Unit] = {
    "orders": Unit("{:,}", "{:,.0f}", "%,d"),
    "requests": Unit("{:,}", "{:,.0f}", "%,d"),
    "refunds": Unit("{:,}", "{:,.0f}", "%,d"),
    "currency": Unit("{:,.2f}", "{:,.2f}", "%,.2f"),
    "share": Unit("{:.1%}", "{:.1%}", "percent"),
    "hours": Unit("{:,.1f}", "{:,.1f}", "%,.1f"),
    "business days": Unit("{:,.1f}", "{:,.1f}", "%,.1f", tile_suffix=" days"),
}

LOWER, HIGHER = "lower", "higher"

# The words for each request outcome: the domain's (outcomes.py) and those only a policy can produce.
OUTCOME_LABELS: dict[str, str] = {
    "buyer_cancelled": "Buyer cancelled (unpaid)",
    "accepted": "Accepted by seller",
    "rejected": "Rejected by seller",
    "auto_cancelled": "Auto-cancelled (no answer)",
    "lapsed": "Lapsed (no answer)",
    "not_cancellable": "Not cancellable (shipped)",
    "unknown": "Unknown",
    "cancelled_without_consent": "Cancelled without consent",
    "dispatch_cancelled": "Cut short by the dispatch deadline",
    "not_made": "Not made",
}
OUTCOME_MEANINGS: dict[str, str] = {
    "buyer_cancelled": "the buyer cancelled an unpaid order",
    "accepted": "the seller agreed inside the window",
    "rejected": "the seller refused inside the window",
    "auto_cancelled": "the window ran out and the platform cancelled",
    "lapsed": "the window ran out and the order went on",
    "not_cancellable": "asked after shipment, or the parcel left before the answer",
    "unknown": "a seller answer the data labels outside the domain",
    "cancelled_without_consent": "consent off: cancelled the moment it was asked",
    "dispatch_cancelled": "still pending when the late order was cancelled",
    "not_made": "the order was already cancelled for late dispatch",
}
POLICY_OUTCOMES = ("cancelled_without_consent", "dispatch_cancelled", "not_made")
STAGE_LABELS = {"before_payment": "Before payment", "awaiting_shipment": "Awaiting shipment",
                "after_shipment": "After shipment"}


@dataclass(frozen=True)
class Figure:
    name: str
    # Its one name, everywhere it is shown: tiles, tables and their downloads, charts, the command line.
    # Short enough for a tile at a third of a 1280 px page; the description says the rest.
    label: str
    unit: str
    description: str
    value: pt.Finaliser = field(repr=False, compare=False)
    better: str | None = None          # LOWER or HIGHER: which way is good news; None: neither
    needs: tuple[str, ...] = ()        # capabilities (metrics.CAPABILITIES) the data set must have
    whatif: str | None = None          # its name among the what-if engine's figures

    @property
    def fmt(self) -> str:
        return UNITS[self.unit].exact

    @property
    def partials(self) -> tuple[str, ...]:
        return self.value.partials


_REQ, _REF = ("requests",), ("refunds",)
# The wait runs from a request: with neither requests nor refunds, the missing requests say why.
_WAIT_NEEDS = ("requests", "request_times", "refunds", "refund_times")
_START_NEEDS = ("refunds", "refund_times")
_RESPONSE_NEEDS = ("requests", "response_times")
# The parcel overtook the request: only an export with shipment times can tell (and stages, from them).
_RETURN_NEEDS = ("requests", "ship_times")
# Transit and Premium are tallied by shipping method (standard or premium): none known, none counted.
_SHIPPING_NEEDS = ("shipping_methods",)


def _declare() -> list[Figure]:
    F = Figure
    out = [
        F("orders", "Orders", "orders", "Orders placed in the selection (the same under every policy).",
          pt.count("orders"), whatif="orders"),
        F("gmv", "GMV", "currency",
          "Gross merchandise value: the sum of the selected orders' amounts, cancelled ones included.",
          pt.count("gmv")),
        F("cancelled_orders", "Cancelled orders", "orders",
          "Orders that ended cancelled, for any reason: a cancelled status or a cancellation time.",
          pt.count("cancelled_orders"), better=LOWER, whatif="cancelled_orders"),
        F("cancellation_rate", "Cancellation rate", "share", "Cancelled orders divided by orders.",
          pt.ratio("cancelled_orders", "orders"), better=LOWER),
        F("cancelled_gmv", "Cancelled GMV", "currency",
          "The amounts of the cancelled orders: sales the sellers lost.",
          pt.count("cancelled_gmv"), better=LOWER, whatif="cancelled_gmv"),
        F("cancelled_gmv_share", "Share of GMV cancelled", "share",
          "Cancelled GMV divided by GMV: the share of the sales that the sellers lost.",
          pt.ratio("cancelled_gmv", "gmv"), better=LOWER, needs=("single_currency",)),
        F("cancellation_requests", "Cancellation requests", "requests",
          "Orders whose buyer asked to cancel (a recorded request, at any stage).",
          pt.count("requests"), better=LOWER, needs=_REQ, whatif="requests"),
        F("acceptance_rate", "Seller acceptance rate", "share",
          "Of the requests a seller answered (accepted or rejected), the share accepted.",
          pt.ratio("outcome.accepted", "outcome.accepted", "outcome.rejected"),
          needs=("requests", "seller_responses")),
        F("answered_requests", "Answered requests", "requests",
          "Requests with both a request time and the seller's answer time: the sample behind the "
          "response-time figures.", pt.total("response_hours"), needs=_RESPONSE_NEEDS),
        F("p50_response_hours", "Seller response time, median", "hours",
          "Median hours from a cancellation request to the seller's answer, over answered requests.",
          pt.percentile("response_hours", 0.5), better=LOWER, needs=_RESPONSE_NEEDS),
        F("p90_response_hours", "Seller response time, 90th percentile", "hours",
          "90th percentile of hours from a cancellation request to the seller's answer.",
          pt.percentile("response_hours", 0.9), better=LOWER, needs=_RESPONSE_NEEDS),
        F("return_path_orders", "Orders sent the return way", "orders",
          "Requests the parcel overtook: it shipped before the seller answered, so the buyer must "
          "refuse or return it.", pt.count("return_path_orders"), better=LOWER, needs=_RETURN_NEEDS,
          whatif="return_path_orders"),
        F("return_path_gmv", "GMV sent the return way", "currency", "The amounts of the orders sent the return way.",
          pt.count("return_path_gmv"), better=LOWER, needs=_RETURN_NEEDS),
        F("dispatch_cancelled_orders", "Cancelled for late dispatch", "orders",
          "Orders not shipped by the dispatch deadline, cancelled by it.", pt.count("dispatch_cancelled_orders"),
          better=LOWER, whatif="dispatch_cancelled_orders"),
        F("refunds", "Refunds", "refunds", "Refunds of the selected orders (cancelled, paid orders).",
          pt.count("refunds"), needs=_REF, whatif="refunds"),
        F("refund_amount", "Refunded amount", "currency", "The sum of the refunds' recorded amounts.",
          pt.count("refund_amount"), needs=("refunds", "refund_amounts")),
        F("pending_refunds", "Pending refunds", "refunds", "Refunds with no completion time yet.",
          pt.count("pending_refunds"), better=LOWER, needs=_START_NEEDS),
        F("refunds_by_channel", "Refunds by channel", "refunds", "Refunds per refund channel.",
          _by_channel("refunds_by_channel"), needs=_REF, whatif="refunds_by_channel"),
        F("refund_amount_by_channel", "Refunded amount by channel", "currency", "Refunded amount per refund channel.",
          _by_channel("refund_amount_by_channel"), needs=_REF, whatif="refund_amount_by_channel"),
        F("refunds_on_platform", "Refunds kept on the platform", "refunds", "Refunds as wallet credit or coupons.",
          _on_platform("refunds_by_channel"), better=LOWER, needs=_REF, whatif="refunds_on_platform"),
        F("refund_amount_on_platform", "Amount kept on the platform", "currency",
          "The amount refunded as wallet credit or coupons.", _on_platform("refund_amount_by_channel"),
          better=LOWER, needs=_REF, whatif="refund_amount_on_platform"),
        F("mean_refund_business_days_from_start", "Refund time, mean", "business days",
          "Mean business days from a refund's start to its completion.", pt.mean("refund_days_from_start"),
          better=LOWER, needs=_START_NEEDS),
        F("p50_refund_business_days_from_start", "Refund time, median", "business days",
          "Median business days from a refund's start to its completion.",
          pt.percentile("refund_days_from_start", 0.5), better=LOWER, needs=_START_NEEDS),
        F("p90_refund_business_days_from_start", "Refund time, 90th percentile",
          "business days", "90th percentile of business days from a refund's start to its completion.",
          pt.percentile("refund_days_from_start", 0.9), better=LOWER, needs=_START_NEEDS),
        F("refunds_after_request", "Refunds after a request", "refunds",
          "Completed refunds whose order has a request time: the refunds the buyer's wait measures.",
          pt.total("wait_days"), needs=_WAIT_NEEDS, whatif="refunds_after_request"),
        F("p50_refund_business_days_from_request", "Buyer's wait, median", "business days",
          "Median business days from the buyer's cancellation request to the money back.",
          pt.percentile("wait_days", 0.5), better=LOWER, needs=_WAIT_NEEDS,
          whatif="refund_wait_p50_business_days"),
        F("p90_refund_business_days_from_request", "Buyer's wait, 90th percentile",
          "business days",
          "90th percentile of business days from the buyer's cancellation request to the money back.",
          pt.percentile("wait_days", 0.9), better=LOWER, needs=_WAIT_NEEDS,
          whatif="refund_wait_p90_business_days"),
        F("refund_wait_by_payment_method", "Buyer's wait by payment method", "business days",
          "Median and 90th percentile per payment method, from the buyer's request to the money back.",
          _wait_by_method, better=LOWER, needs=_WAIT_NEEDS, whatif="refund_wait_by_payment_method"),
        F("shipped_orders", "Shipped orders", "orders", "Orders shipped by the end of the data.",
          pt.count("shipped_orders"), whatif="shipped_orders"),
        F("premium_orders", "Shipped by Premium", "orders", "Shipped orders sent by Premium.",
          pt.count("premium_orders"), needs=_SHIPPING_NEEDS, whatif="premium_orders"),
        F("transit_p50_business_days", "Transit, median", "business days",
          "Median business days from shipment to delivery.", pt.percentile("transit_days", 0.5),
          better=LOWER, needs=_SHIPPING_NEEDS, whatif="transit_p50_business_days"),
        F("transit_p90_business_days", "Transit, 90th percentile", "business days",
          "90th percentile of business days from shipment to delivery.", pt.percentile("transit_days", 0.9),
          better=LOWER, needs=_SHIPPING_NEEDS, whatif="transit_p90_business_days"),
    ]
    for stage in STAGES:
        words = STAGE_LABELS[stage].lower()
        out.append(F(f"requests_{stage}", f"Requests {words}", "requests",
                     f"Cancellation requests made {words} (the order's state when the buyer asked).",
                     pt.count(f"requests_at.{stage}"), needs=_REQ))
        out.append(F(f"cancelled_{stage}", f"Cancelled {words}", "orders",
                     f"Orders cancelled {words}, including orders cancelled by status alone "
                     "(their stage inferred from the order's timestamps).",
                     pt.count(f"cancelled_at.{stage}"), better=LOWER))
    worse = {"rejected", "auto_cancelled", "lapsed", "not_cancellable"}
    for outcome in (*OUTCOMES, *POLICY_OUTCOMES):
        out.append(F(f"outcome_{outcome}", f"Requests: {OUTCOME_LABELS[outcome].lower()}", "requests",
                     f"Cancellation requests where {OUTCOME_MEANINGS[outcome]}.", pt.count(f"outcome.{outcome}"),
                     better=LOWER if outcome in worse else None, needs=_REQ,
                     whatif=f"requests_{outcome}"))
    return out


def _by_channel(name: str) -> pt.Finaliser:
    def value(parts: pt.Partials):
        return dict(zip(REFUND_CHANNELS, map(float, parts[name]), strict=True))
    value.partials = (name,)
    return value


_PLATFORM = [REFUND_CHANNELS.index("wallet"), REFUND_CHANNELS.index("coupon")]


def _on_platform(name: str) -> pt.Finaliser:
    """Refunds (or their amount) kept on the platform: as wallet credit or coupons."""
    def value(parts: pt.Partials):
        return float(parts[name][_PLATFORM].sum())
    value.partials = (name,)
    return value


def _wait_by_method(parts: pt.Partials) -> dict:
    return {m: {"p50": d.percentile(0.5), "p90": d.percentile(0.9)} for m, d in parts["wait_days_by_method"].items()}


_wait_by_method.partials = ("wait_days_by_method",)

def _one_currency(figure: Figure) -> Figure:
    """Money needs one currency: amounts in several are never added up."""
    if figure.unit == "currency" and "single_currency" not in figure.needs:
        return replace(figure, needs=(*figure.needs, "single_currency"))
    return figure


FIGURES: dict[str, Figure] = {f.name: _one_currency(f) for f in _declare()}
# The what-if engine's figures, by its names, in the order simulate returns them.
WHATIF: dict[str, Figure] = {f.whatif: f for f in FIGURES.values() if f.whatif}
WHATIF_ORDER = (
    "orders", "cancelled_orders", "cancelled_gmv", "requests", *(f"requests_{o}" for o in (*OUTCOMES, *POLICY_OUTCOMES)),
    "return_path_orders", "dispatch_cancelled_orders", "refunds", "refunds_by_channel", "refund_amount_by_channel",
    "refunds_on_platform", "refund_amount_on_platform", "refunds_after_request", "refund_wait_p50_business_days",
    "refund_wait_p90_business_days", "refund_wait_by_payment_method", "shipped_orders", "premium_orders",
    "transit_p50_business_days", "transit_p90_business_days",
)
assert set(WHATIF_ORDER) == set(WHATIF)
WHATIF = {n: WHATIF[n] for n in WHATIF_ORDER}


def get(name: str) -> Figure:
    """A figure by its name, or by its name among the what-if figures (also dotted: 'refunds_by_channel.wallet')."""
    head = name.split(".")[0]
    found = FIGURES.get(name) or WHATIF.get(name) or FIGURES.get(head) or WHATIF.get(head)
    if found is None:
        raise KeyError(f"no figure named {name!r}")
    return found


def finalise(parts: pt.Partials, figures: Mapping[str, Figure]) -> dict[str, object]:
    """Each figure's value from the partials, by the mapping's names."""
    return {name: f.value(parts) for name, f in figures.items()}


def flat(values: Mapping[str, object], prefix: str = "") -> dict[str, object]:
    """Nested values flattened to dotted names: {'a': {'b': 1}} -> {'a.b': 1}."""
    out: dict[str, object] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flat(value, name + "."))
        else:
            out[name] = value
    return out


def figure_path(name: str) -> tuple[str, ...]:
    """A flat figure name's parts: 'orders' -> ('orders',); 'refunds_by_channel.wallet' -> (figure, key);
    'refund_wait_by_payment_method.<method>.p50' -> (figure, method, quantile), where the method's label
    may hold dots itself."""
    head, dot, rest = name.partition(".")
    if not dot:
        return (head,)
    middle, dot, leaf = rest.rpartition(".")
    return (head, middle, leaf) if dot else (head, leaf)


def label(name: str) -> str:
    """A figure's label; for a part of a family, with the part: 'Refunds by channel (wallet)'. A method's
    label may hold dots, so the name is split by figure_path."""
    head, *rest = figure_path(name)
    return get(head).label + (f" ({', '.join(rest)})" if rest else "")


def format_value(name: str, value, *, estimate: bool = False) -> str:
    """A value as the pages and the text output show it; None (nothing to measure) as 'n/a'."""
    if value is None or value != value:
        return "n/a"
    unit = UNITS[get(name).unit]
    return written(value, unit.estimate if estimate else unit.exact)


def around(number: str, before: str = "", after: str = "") -> str:
    """A number already written ('-202.00', '+12') between the words of its pattern, its sign first:
    '-USD 202.00', '+USD 12', never 'USD -202.00' (a minus after the code read as a hyphen, and Streamlit
    reads a change's direction from its first character)."""
    sign = number[:1] if number[:1] in "+-" else ""
    return sign + before + number[len(sign):] + after


def written(value, pattern: str, *, signed: bool = False) -> str:
    """`value` in `pattern` ('USD {:,.2f}', '{:,.1f} days', '{:.1%}'): every amount, tile, table cell and
    line of the command line is written so, its sign before the currency ('-USD 202.00'). `signed`: a '+'
    before a rise too, as a change is written."""
    start, end = pattern.find("{"), pattern.rfind("}")
    if start < 0:
        return pattern
    spec = pattern[start + 1:end].partition(":")[2]
    return around(format(value, ("+" if signed else "") + spec), pattern[:start], pattern[end + 1:])


# A change that would be written as zero ('+0', '-0.0 days', '+0.0 pp', '-USD 0'): every page, table and the
# command line write it so, with no unit, sign or arrow. A bare '0' beside '+12' and '-3' read as a figure of
# nothing rather than no change.
NO_CHANGE = "±0"


def shows_no_change(text: str) -> bool:
    """A change written as zero ("+0", "-0.0 days", "+0.0 pp", NO_CHANGE) is no change."""
    return not any(c.isdigit() and c != "0" for c in text)


def half_up(value: float, places: int = 0) -> Decimal:
    """`value` rounded to `places` decimals half away from zero, as a spreadsheet or an accountant rounds
    (2,012.50 is 2,013): Python's own formatting rounds an exact half to even (2,012). Format the result
    with the same pattern ('{:,.0f}')."""
    return Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


# An amount that is read rather than added up (a tile, a sentence) shows no cents from WHOLE_AMOUNT up: a
# tile has room for about 13 characters of its large type at a third of a 1280 px page, and writes amounts
# from MILLIONS up in millions. The exact amount is said beside it (a tile's help).
WHOLE_AMOUNT = 1_000
MILLIONS = 10_000_000


def rounded_amount(value: float, pattern: str, *, millions: bool = False) -> str | None:
    """`value` in the money `pattern` (report.money_format's: 'USD {:,.2f}', or '{:,.2f}' with no currency)
    as an amount that is read: whole (half up) from WHOLE_AMOUNT up, and with `millions` (a tile) in
    millions from MILLIONS up ('USD 23.4M'). None where the pattern is not money's or the amount keeps its
    cents (below WHOLE_AMOUNT): then the pattern writes it as it is."""
    money = UNITS["currency"].exact
    if money not in pattern or not isinstance(value, int | float) or not abs(value) >= WHOLE_AMOUNT:
        return None
    body = f"{half_up(value / 1e6, 1):,.1f}M" if millions and abs(value) >= MILLIONS else f"{half_up(value):,.0f}"
    before, _, after = pattern.partition(money)
    return around(body, before, after)


def change_text(change: float, pattern: str, whole: bool = False) -> str:
    """A change (between periods, or a scenario's from its baseline) in its figure's `pattern`, with its
    sign: shares change in percentage points ('+1.2 pp'); a money pattern writes the change's
    sign before its currency ('+BRL 12.50', '-BRL 3.00', as `written`). A change that would be written as zero
    is NO_CHANGE ('±0'), with no unit, as every page and the command line write it. `whole`: the figure is
    written without cents beside it, so its change has none either."""
    if "%" in pattern:
        text = f"{change * 100:+.1f} pp"
    else:
        start, end = pattern.find("{"), pattern.rfind("}")
        if whole and pattern[start + 1:end].lstrip(":"):
            pattern, change = pattern[:start] + "{:,.0f}" + pattern[end + 1:], half_up(change)
        text = written(change, pattern, signed=True)
    return NO_CHANGE if shows_no_change(text) else text
