"""The What-if page's calibration: what the engine fitted on the data set (against the true values of
generated data), the fitted curves against the data, and the engine's self-check."""

from __future__ import annotations

from functools import partial

import polars as pl
import streamlit as st

from analytics import calibrate, charts, simulate
from analytics import whatif_tables as wt
from ui import downloads
from ui.whatif_engine import self_check


def _in_unit(share: bool, value: float | None) -> str:
    """A fitted or true value as the table reads it: a share in percent, any other number with two decimals."""
    if value is None or value != value:   # (NaN: nothing to fit)
        return ""
    return f"{value:.0%}" if share else f"{value:,.2f}"


def calibration_section(dataset, prep: simulate.Prepared) -> None:
    summary = prep.calibration.summary()
    counts = summary.get("counts", {})
    st.caption(f"Fitted on {counts.get('orders', 0):,} orders, {counts.get('requests', 0):,} requests "
               f"({counts.get('awaiting_shipment_requests', 0):,} awaiting shipment), "
               f"{counts.get('refunds', 0):,} refunds. Where the data has nothing to fit, the domain's figures "
               "are assumed and marked so." + "".join(
                   f" Left out: {n:,} {what} (times out of order, stored with a warning)."
                   for what, n in calibrate.left_out(summary).items() if n))
    truth = dataset.true_params or {}
    response = summary.get("seller_response", {})
    rows = [
        ("Seller's response time, median (hours)", response.get("median_hours"), truth.get("response_median_hours"),
         f"{response.get('answered', 0):,} answered, {response.get('censored', 0):,} censored"),
        ("Seller's response time, spread (sigma)", response.get("sigma"), truth.get("response_sigma"), ""),
        ("Acceptance rate", summary.get("acceptance_rate", {}).get("rate"), truth.get("acceptance_rate"),
         f"{summary.get('acceptance_rate', {}).get('answered', 0):,} answered"),
        ("Payment to shipment, median (hours)", summary.get("payment_to_shipment", {}).get("median_hours"), None,
         f"{summary.get('payment_to_shipment', {}).get('shipped', 0):,} shipped, "
         f"{summary.get('payment_to_shipment', {}).get('censored', 0):,} censored"),
        ("Premium shipping share", summary.get("premium_shipping_share", {}).get("share"),
         truth.get("premium_shipping_share"), ""),
    ]
    table = pl.DataFrame(rows, schema={"figure": pl.Utf8, "fitted": pl.Float64, "true_value": pl.Float64,
                                       "sample": pl.Utf8}, orient="row")
    # Read in each row's own unit (a rate as 76%, hours with one decimal); the download keeps the numbers.
    shares = ("Acceptance rate", "Premium shipping share")
    shown = table.with_columns(
        pl.struct("figure", c).map_elements(lambda r, c=c: _in_unit(r["figure"] in shares, r[c]), return_dtype=pl.Utf8)
        .alias(c) for c in ("fitted", "true_value"))
    if not truth:
        table, shown = table.drop("true_value"), shown.drop("true_value")
    downloads.table(shown, "calibration", key="wi_cal_table", download=lambda: table, column_config={
        c: st.column_config.TextColumn(label) for c, label in (
            ("figure", "Figure"), ("fitted", "Fitted"), ("true_value", "True (generated data)"), ("sample", "Sample"))
        if c in shown.columns})
    curves = simulate.fit_vs_data(prep)
    left, right = st.columns(2)
    for column, name, title in ((left, "seller_response", "Seller's response time"),
                                (right, "payment_to_shipment", "Payment to shipment")):
        frame = curves.get(name)
        if frame is not None and frame.height:
            with column:
                st.markdown(f"**{title}**: fitted against the data")
                downloads.chart(partial(charts.fit_chart, frame, "Hours"), f"fit-{name}", key=f"wi_fit_{name}")
    for name, title, group in (("refund_days", "Refund time by channel (business days)", "channel"),
                               ("transit_days", "Transit by shipping method (business days)", "shipping_method")):
        frame = curves.get(name)
        if frame is not None and frame.height:
            st.markdown(f"**{title}**")
            downloads.chart(partial(charts.distribution_chart, frame, group), f"fit-{name}", key=f"wi_fit_{name}")
    if st.toggle("Check the engine on this data set", key="whatif_self_check",
                 help="Replays the data set under its own policy: fully observed orders must come out as observed, "
                      "and a scenario equal to the baseline must differ by exactly zero."):
        check = self_check(dataset.id)
        if check.get("passed"):
            st.success(f"Passed: {check.get('fully_observed', 0):,} fully observed orders come out as observed; "
                       "an unchanged policy differs by exactly zero.", icon=":material/verified:")
        else:
            st.warning("The replay does not reproduce every observed order: "
                       f"{check.get('mismatches')}", icon=":material/report:")
        # Each figure by its name, as the figures above write it.
        compared = check.get("observed_vs_replayed", {})
        st.table(pl.DataFrame({"Figure": [wt.label(n) for n in compared],
                               "Observed": [wt.fmt_value(v.get("observed"), n) for n, v in compared.items()],
                               "Replayed": [wt.fmt_value(v.get("replayed"), n) for n, v in compared.items()]},
                              schema={"Figure": pl.Utf8, "Observed": pl.Utf8, "Replayed": pl.Utf8}),
                 hide_index=True)
