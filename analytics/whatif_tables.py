"""The what-if results as tables and chart frames, from analytics.simulate's dicts. No Streamlit here.

Every figure in a simulate result is {"value", "low", "high", "orders_low", "orders_high"}: the estimate
for these orders, a 95% interval for a new period like this one, and one for these same orders lived
again; names are dotted for nested figures (refunds_by_channel.wallet,
refund_wait_by_payment_method.card.p50).
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from analytics import figures as fig
from analytics.figures import NO_CHANGE, figure_path

# The figures the page shows, in order; the first ones are the tiles.
TILES = ("cancelled_orders", "refund_wait_p50_business_days", "refund_wait_p90_business_days", "cancelled_gmv")
FIGURES = (
    "cancelled_orders", "cancelled_gmv", "requests_accepted", "requests_rejected", "requests_auto_cancelled",
    "requests_lapsed", "requests_not_cancellable", "requests_cancelled_without_consent",
    "requests_dispatch_cancelled", "return_path_orders", "dispatch_cancelled_orders", "refunds",
    "refunds_on_platform", "refund_amount_on_platform", "refund_wait_p50_business_days",
    "refund_wait_p90_business_days", "transit_p50_business_days",
)
# Sweepable figures, for the sweep's picker: every scalar figure.
SWEEP_FIGURES = FIGURES


def better(name: str) -> str | None:
    """Which way is good news (figures.LOWER or HIGHER; None: neither), from the figure's definition."""
    return fig.get(name).better


# The buyer's wait by payment method's headers: short, so the table fits a 1280 px page ("Baseline, 90th
# pct" was cut there), and each one's help in full ("Change": the scenario's minus the baseline's).
_WAIT_PARTS = (("baseline", "Baseline"), ("scenario", "Scenario"), ("delta", "Change"))
_WAIT_QUANTILES = {"p50": ("median", "Median"), "p90": ("p90", "90th percentile of")}
WAIT_LABELS = {f"{part}_{q}": f"{word}, {_WAIT_QUANTILES[q][0]}" for part, word in _WAIT_PARTS for q in _WAIT_QUANTILES}
WAIT_HELP = {
    f"{part}_{q}": (f"{_WAIT_QUANTILES[q][1]} business days from the buyer's request to the money back, "
                    f"{'under the ' + part if part != 'delta' else 'the scenario minus the baseline'}")
    for part, _ in _WAIT_PARTS for q in _WAIT_QUANTILES}


def measured(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows with a value (a figure the data set cannot measure comes back empty or NaN)."""
    return frame.filter(pl.col("value").is_not_null() & pl.col("value").is_not_nan())


label = fig.label


def unmeasured_why(result: Mapping, name: str) -> str:
    """Why a what-if figure has no value: what the data set does not record (simulate's `unavailable`),
    else that no order of the scenario counts toward it."""
    why = (result.get("unavailable") or {}).get(figure_path(name)[0])
    return why or "no order of this data set counts toward it under this policy"


def unmeasured_by_why(result: Mapping, names) -> dict[str, list[str]]:
    """Why -> the labels of the figures among `names` that neither baseline nor scenario measures (a '—' in
    the tables), in order."""
    out: dict[str, list[str]] = {}
    for name in names:
        if all(fmt_value((get(result[part], name) or {}).get("value"), name) == "—" for part in ("baseline", "scenario")):
            out.setdefault(unmeasured_why(result, name), []).append(label(name))
    return out


def unit(name: str) -> str:
    return fig.get(name).unit


def fmt_value(value, name: str) -> str:
    if value is None or value != value:
        return "—"
    return fig.written(value, fig.UNITS[unit(name)].estimate)


# The two intervals in a manager's words: the one a policy decision rests on (what the next period would
# bring) first.
NEXT_PERIOD = "next period like this one"
SAME_ORDERS = "these same orders"


def _text(value, name: str, signed: bool) -> str:
    """A value, or with `signed` a difference (figures.change_text: '+1.2 pp', '±0'), as the tables write it."""
    pattern = fig.UNITS[unit(name)].estimate
    return fig.change_text(value, pattern) if signed else fig.written(value, pattern)


def is_exact(fig: Mapping) -> bool:
    """Nothing random moves the figure: both intervals are the value itself."""
    v = fig.get("value")
    return v is not None and fig.get("low") == fig.get("high") == v and fig.get("orders_low", v) == fig.get(
        "orders_high", v) == v


def fmt_range(low, high, name: str, signed: bool = False) -> str:
    """'3,800 – 4,050'; 'exactly 3,900' when the range is a point."""
    if low is None or high is None:
        return "—"
    low_text, high_text = _text(low, name, signed), _text(high, name, signed)
    if low_text == high_text:
        return f"exactly {low_text}"
    return f"{low_text} – {high_text}"


def in_words(fig: Mapping | None, name: str, signed: bool = False) -> dict[str, str]:
    """Both intervals as a person reads them: {NEXT_PERIOD: '3,800 – 4,050', SAME_ORDERS: '3,900 – 3,960'};
    'exact' for a figure nothing random touches, '—' for one that cannot be measured."""
    if not fig or fig.get("value") is None or fig["value"] != fig["value"]:
        return {NEXT_PERIOD: "—", SAME_ORDERS: "—"}
    if is_exact(fig):
        value = _text(fig["value"], name, signed)
        return {NEXT_PERIOD: f"{value} (exact)", SAME_ORDERS: f"{value} (exact)"}
    return {NEXT_PERIOD: fmt_range(fig.get("low"), fig.get("high"), name, signed),
            SAME_ORDERS: fmt_range(fig.get("orders_low"), fig.get("orders_high"), name, signed)}


def fmt_interval(fig: Mapping | None, name: str, signed: bool = False) -> str:
    """'1,234 (next period like this one 1,200 – 1,260; these same orders 1,230 – 1,240)'; 'exact' when
    nothing random moves it; a figure with no interval shows its value alone."""
    if not fig or fig.get("value") is None or fig["value"] != fig["value"]:  # None or NaN: not measurable
        return "—"
    if signed and fig["value"] == 0 and all(fig.get(k) in (0, None) for k in ("low", "high", "orders_low",
                                                                              "orders_high")):
        return NO_CHANGE  # no change at all, as figures.change_text writes one
    value = _text(fig["value"], name, signed)
    if fig.get("low") is None or fig.get("high") is None:
        return value
    if is_exact(fig):
        return f"{value} (exact)"
    if "orders_low" not in fig:
        return f"{value} ({fmt_range(fig['low'], fig['high'], name, signed)})"
    words = in_words(fig, name, signed)
    return f"{value} ({NEXT_PERIOD} {words[NEXT_PERIOD]}; {SAME_ORDERS} {words[SAME_ORDERS]})"


def could_be_no_change(delta: Mapping | None) -> bool:
    """A difference whose 95% interval for a next period like this one holds 0: the data cannot say which
    way the policy moves the figure, so a page does not colour it as better or worse."""
    if not delta or delta.get("low") is None or delta.get("high") is None or not delta.get("value"):
        return False
    return delta["low"] <= 0 <= delta["high"]


def currency_of(name: str, currency: str = "") -> str | None:
    """The currency code the figure's values are in ('USD', from the data set's money prefix 'USD '); None
    for a figure that is not an amount, or a data set that records no currency."""
    return currency.strip() or None if unit(name) == "currency" else None


def shown_unit(name: str, currency: str = "") -> str:
    """What a chart's axis says a figure is in: its currency's code for an amount ('USD'), else its unit
    ('Orders', 'Business days'); 'Currency' only where the data set records none."""
    code = currency_of(name, currency)
    return code or unit(name)[:1].upper() + unit(name)[1:].replace("_", " ")


def label_in(name: str, currency: str = "") -> str:
    """The figure's label with what its numbers are in, where a bare number would not say it: an amount's
    currency ('Cancelled GMV (USD)', where the data set records one) and business days ('Transit, median
    (business days)'). A table of intervals, and the command line, write bare numbers."""
    text = label(name)
    what = currency_of(name, currency) or ("business days" if unit(name) == "business days" else None)
    return f"{text} ({what})" if what else text


def how_sure(result: Mapping, names=TILES, currency: str = "") -> pl.DataFrame:
    """The headline figures' two intervals in words, the change first (what a decision rests on); amounts
    in `currency` (the data set's code), said in their figure's label."""
    rows = []
    for name in names:
        delta = in_words(get(result["delta"], name), name, signed=True)
        scen = in_words(get(result["scenario"], name), name)
        rows.append({"Figure": label_in(name, currency),
                     f"Change, {NEXT_PERIOD}": delta[NEXT_PERIOD], f"Change, {SAME_ORDERS}": delta[SAME_ORDERS],
                     f"Scenario, {NEXT_PERIOD}": scen[NEXT_PERIOD], f"Scenario, {SAME_ORDERS}": scen[SAME_ORDERS]})
    return pl.DataFrame(rows, schema={"Figure": pl.Utf8, **{f"{part}, {kind}": pl.Utf8 for part in ("Change", "Scenario")
                                                           for kind in (NEXT_PERIOD, SAME_ORDERS)}})


def get(part: Mapping, name: str) -> Mapping | None:
    """A figure of a baseline/scenario/delta dict by dotted name."""
    node = part
    for key in figure_path(name):
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node if isinstance(node, Mapping) and "value" in node else None


def results_table(result: Mapping, names=FIGURES) -> pl.DataFrame:
    """One row per figure: label, unit, then value/low/high for baseline, scenario and delta."""
    rows = []
    for name in names:
        row = {"figure": label(name), "name": name, "unit": unit(name)}
        for part in ("baseline", "scenario", "delta"):
            fig = get(result[part], name) or {}
            for key in ("value", "low", "high", "orders_low", "orders_high"):
                row[f"{part}_{key}" if key != "value" else part] = fig.get(key)
        rows.append(row)
    schema = {"figure": pl.Utf8, "name": pl.Utf8, "unit": pl.Utf8}
    schema.update({f"{part}{suffix}": pl.Float64 for part in ("baseline", "scenario", "delta")
                   for suffix in ("", "_low", "_high", "_orders_low", "_orders_high")})
    return pl.DataFrame(rows, schema=schema)


def shown_table(result: Mapping, names=FIGURES, currency: str = "") -> pl.DataFrame:
    """The same, as text a person reads: each cell the estimate with both intervals in words (amounts in
    `currency`, said in the label). The scenario and difference columns say "extrapolated" when the policy
    reaches beyond the data."""
    mark = " (extrapolated)" if result.get("extrapolated") else ""
    return pl.DataFrame({
        "Figure": [label_in(n, currency) for n in names],
        "Baseline": [fmt_interval(get(result["baseline"], n), n) for n in names],
        f"Scenario{mark}": [fmt_interval(get(result["scenario"], n), n) for n in names],
        f"Difference{mark}": [fmt_interval(get(result["delta"], n), n, signed=True) for n in names],
    })


def wait_by_method(result: Mapping) -> pl.DataFrame:
    """The buyer's wait by payment method: one row per method, p50 and p90 for baseline, scenario and delta."""
    methods = sorted((result["baseline"].get("refund_wait_by_payment_method") or {}).keys())
    rows = []
    for method in methods:
        row = {"payment_method": method}
        for part in ("baseline", "scenario", "delta"):
            for q in ("p50", "p90"):
                fig = get(result[part], f"refund_wait_by_payment_method.{method}.{q}") or {}
                row[f"{part}_{q}"] = fig.get("value")
        rows.append(row)
    schema = {"payment_method": pl.Utf8, **{f"{p}_{q}": pl.Float64 for p in ("baseline", "scenario", "delta")
                                            for q in ("p50", "p90")}}
    return pl.DataFrame(rows, schema=schema)


WAIT_CHANGES = ("delta_p50", "delta_p90")


def wait_shown(wait: pl.DataFrame) -> pl.DataFrame:
    """wait_by_method as the page shows it: each change written as every change is (figures.change_text:
    '+1.5', '-0.5', NO_CHANGE '±0' where it is written as zero, not '0.0'); a change with nothing to measure
    stays empty. The download keeps the numbers."""
    name = "refund_wait_p50_business_days"
    return wait.with_columns(pl.col(c).map_elements(lambda v: _text(v, name, signed=True), return_dtype=pl.Utf8)
                             for c in WAIT_CHANGES)


def comparison_frame(variants: Mapping[str, Mapping], names, currency: str = "") -> pl.DataFrame:
    """Figures of several variants side by side, for charts.comparison_chart: one row per (figure, by
    its label, as a small chart's title; variant) with value, low, high and the unit (an amount's:
    `currency`, the data set's code, where it records one). variants maps a variant's name to a
    baseline/scenario dict."""
    rows = []
    for name in names:
        for variant, part in variants.items():
            fig = get(part, name) or {}
            rows.append({"figure": label(name), "variant": variant, "value": fig.get("value"),
                         "low": fig.get("low"), "high": fig.get("high"), "unit": shown_unit(name, currency)})
    return pl.DataFrame(rows, schema={"figure": pl.Utf8, "variant": pl.Utf8, "value": pl.Float64,
                                      "low": pl.Float64, "high": pl.Float64, "unit": pl.Utf8})


def comparison_table(variants: Mapping[str, Mapping], names=FIGURES, currency: str = "") -> pl.DataFrame:
    """Text table: one row per figure (amounts' labels with their currency), one column per variant, cells
    'value (low – high)' with the interval for a next period like this one: side by side, both intervals
    made each cell too long to read at 1280 px."""
    data = {"Figure": [label_in(n, currency) for n in names]}
    for variant, part in variants.items():
        data[variant] = [next_period(get(part, n), n) for n in names]
    return pl.DataFrame(data)


def next_period(fig: Mapping | None, name: str) -> str:
    """'1,234 (1,200 – 1,260)': the value with its interval for a next period like this one."""
    return fmt_interval({k: fig[k] for k in ("value", "low", "high") if k in fig} if fig else fig, name)


def sweep_series(frame: pl.DataFrame, figure: str, series: str = "scenario") -> pl.DataFrame:
    """One figure along a sweep (simulate.sweep_frame's long form) as parameter, value, low, high."""
    return (
        frame.filter((pl.col("outcome") == figure) & (pl.col("series") == series))
        .select(pl.col("param_number").alias("parameter"), "value", "low", "high")
        .drop_nulls("parameter")
        .sort("parameter")
    )


def frontier_frame(points: list[Mapping], weigh: list[str], best: int | None = None) -> pl.DataFrame:
    """The frontier's policies as a chart's and a table's rows (analytics.frontier's `policies`, or the
    points replayed so far): index, the policy in words, each weighed figure's value and 95% interval
    (a, a_low, a_high, b, b_low, b_high), on_frontier (None while it is not known), extrapolated, and
    `mark`: the current policy, the data set's own, the best under the limits."""
    a, b = weigh
    rows = []
    for i, p in enumerate(points):
        fa, fb = p["figures"].get(a) or {}, p["figures"].get(b) or {}
        marks = [w for w, on in (("best", i == best), ("current", p.get("current")),
                                 ("data's own", p.get("data_policy"))) if on]
        rows.append({"index": i, "policy": p["label"], "a": fa.get("value"), "a_low": fa.get("low"),
                     "a_high": fa.get("high"), "b": fb.get("value"), "b_low": fb.get("low"), "b_high": fb.get("high"),
                     "on_frontier": p.get("on_frontier"), "extrapolated": ", ".join(p.get("extrapolated") or []),
                     "mark": ", ".join(marks)})
    return pl.DataFrame(rows, schema={"index": pl.Int64, "policy": pl.Utf8, "a": pl.Float64, "a_low": pl.Float64,
                                      "a_high": pl.Float64, "b": pl.Float64, "b_low": pl.Float64,
                                      "b_high": pl.Float64, "on_frontier": pl.Boolean, "extrapolated": pl.Utf8,
                                      "mark": pl.Utf8})


def frontier_columns(name: str, currency: str = "") -> tuple[str, str, str]:
    """A weighed figure's three columns in the frontier's download, by its label with its unit: the
    estimate, and its interval's ends."""
    head = label_in(name, currency)
    return head, f"{head}: 95% from", f"{head}: 95% to"


def frontier_table(result: Mapping, currency: str = "") -> pl.DataFrame:
    """The frontier's policies as a table to download: every number in a column of its own."""
    a, b = result["weigh"]
    frame = frontier_frame(result["policies"], [a, b], result.get("best"))
    return frame.select(
        pl.col("policy").alias("Policy"),
        *(pl.col(f"{side}{end}").alias(column) for side, name in (("a", a), ("b", b))
          for end, column in zip(("", "_low", "_high"), frontier_columns(name, currency), strict=True)),
        pl.col("on_frontier").alias("On the frontier"), pl.col("extrapolated").alias("Extrapolated"),
        pl.col("mark").alias("Marked"))


def frontier_shown(result: Mapping, currency: str = "") -> pl.DataFrame:
    """The frontier's table as the page shows it, in text that wraps to a 1280 px page (with every number
    in a column of its own it was twice as wide): each weighed figure's estimate and 95% interval in one
    cell (next_period), and the policy's marks in words: on the frontier, best, current, the data's own,
    extrapolated. frontier_table is its download."""
    a, b = result["weigh"]
    frame = frontier_frame(result["policies"], [a, b], result.get("best"))

    def cells(side: str, name: str) -> list[str]:
        return [next_period({"value": r[side], "low": r[f"{side}_low"], "high": r[f"{side}_high"]}, name)
                for r in frame.iter_rows(named=True)]
    marks = [", ".join(filter(None, ["on the frontier" if on else "", mark, "extrapolated" if extrapolated else ""]))
             for on, mark, extrapolated in zip(frame["on_frontier"], frame["mark"], frame["extrapolated"], strict=True)]
    return pl.DataFrame({"Policy": frame["policy"], label_in(a, currency): cells("a", a),
                         label_in(b, currency): cells("b", b), "Marks": marks})
