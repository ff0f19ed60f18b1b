"""The What-if page's results: baseline and scenario as tiles and a chart, how sure they are, every figure,
and a notice when the scenario reaches beyond the data."""

from __future__ import annotations

from functools import partial

import polars as pl
import streamlit as st

from analytics import charts
from analytics import figures as fig
from analytics import whatif_tables as wt
from analytics.text import md
from analytics.whatif_notes import parameter_words
from ui import downloads, notices, views


def result_tiles(result: dict, currency: str = "") -> None:
    """`currency`: the data set's currency code and a space ('USD '), written before an amount as the
    Overview's tiles write it; empty where the data set records none."""
    columns = [c for _ in range(0, len(wt.TILES), 2) for c in st.columns(2)]
    for column, name in zip(columns, wt.TILES, strict=False):
        scen = wt.get(result["scenario"], name) or {}
        base = wt.get(result["baseline"], name) or {}
        delta = wt.get(result["delta"], name) or {}
        if wt.fmt_value(scen.get("value"), name) == "—":
            # Nothing to measure (Olist records no refunds: no buyer's wait): said, with why, as the Overview's
            # tile says it.
            with column:
                views.unavailable_tile(wt.label(name), wt.unmeasured_why(result, name))
            continue
        spread = wt.fmt_interval(delta, name, signed=True)
        change = delta.get("value")
        # As the Overview's tile writes it: "7.0 days"; an amount in the currency, no cents from a thousand up
        # (exactly in the help), so that it fits the tile, and its change to the same precision.
        unit = fig.UNITS[wt.unit(name)]
        pattern = (currency + unit.exact if wt.unit(name) == "currency" else unit.estimate) + unit.tile_suffix
        value, exact = views.tile_text(scen["value"], pattern)
        delta_text = None if change is None else fig.change_text(change, pattern, exact is not None)
        unsettled = wt.could_be_no_change(delta)   # its interval holds no change: neither better nor worse
        column.metric(
            # The figure's one name, as its row below, the downloads and the command line say it.
            wt.label(name),
            value,
            # Grey, not green or red, where the change's interval holds no change at all.
            **views.delta_style(change, delta_text, None if unsettled else wt.better(name)),
            # "vs baseline · extrapolated" was cut at 1280 px: an extrapolated tile says so alone (the notice
            # above it and the tile's help say what against).
            delta_description=None if delta_text is None else "extrapolated" if result.get("extrapolated")
            else "vs baseline",
            help=f"{wt.label(name)}. Scenario {wt.fmt_interval(scen, name)}; baseline {wt.fmt_interval(base, name)}; "
                 f"difference {spread}. 95% intervals."
                 + (" The difference's interval holds no change: shown grey, as neither better nor worse."
                    if unsettled else "") + views.exactly(exact),
            border=True,
        )


def extrapolation_notice(result: dict) -> None:
    """Say so when the scenario reaches beyond what the data observed, and what its figures assume."""
    assumed = result.get("assumptions") or {}
    if result.get("extrapolated"):
        # Parameter names and assumptions may carry a payment method's label from the data: shown as text.
        st.warning("**Extrapolated**: this scenario sets " + md(", ".join(
            parameter_words(n) for n in result["extrapolated"]))
                   + " beyond anything this data set shows, so its figures rest on assumptions. "
                   # The window's note already says what share is assumed never to answer.
                   + md(" ".join(v for k, v in assumed.items()
                                 if k != "never_answer_share" or "seller_response_hours" not in assumed)),
                   icon=":material/warning:")
    elif "never_answer_share" in assumed:
        st.info(md(assumed["never_answer_share"] + " Within the data's own window this changes nothing."),
                icon=":material/info:")


def how_sure(result: dict, currency: str = "") -> None:
    """The headline figures' two intervals in words: the change first, for a new period first."""
    st.markdown("**How sure**: 95% intervals. *Next period like this one*: what to expect if the policy runs "
                "for a new period with as many orders and the same buyers' and sellers' behaviour, which is "
                "what a decision rests on. *These same orders*: what these very orders would have done under "
                "it (narrower: the orders are known). *Exact*: nothing uncertain moves the figure.")
    # A static table: four short rows that must read at a glance (and be readable text on the page).
    st.table(wt.how_sure(result, currency=currency), hide_index=True)


def results(result: dict, currency: str = "") -> None:
    """Baseline, scenario and difference: tiles (amounts in `currency`, as result_tiles) and a chart of them
    (for the narrow column)."""
    extrapolation_notice(result)
    result_tiles(result, currency)
    how_sure(result, currency)
    frame = wt.comparison_frame({"baseline": result["baseline"], "scenario": result["scenario"]}, wt.TILES, currency)
    unmeasured(result, wt.TILES)
    if wt.measured(frame).height:
        views.room_for_toolbar()   # the chart's toolbar covered the end of the table above
        downloads.chart(partial(charts.comparison_chart, frame, "Value"), "what-if-baseline-vs-scenario", key="wi_compare_chart")


def unmeasured(result: dict, names) -> None:
    """Why each '—' of a table: the figures it cannot measure, grouped by why, as every page says it."""
    for why, labels in wt.unmeasured_by_why(result, names).items():
        notices.not_available("; ".join(labels), why)


def every_figure(result: dict, currency: str = "") -> None:
    """The full table (full width, so the intervals are not cut) and the wait by payment method."""
    st.markdown("**Every figure**: the estimate for these orders, then its 95% intervals in parentheses: for "
                "the next period like this one, and for these same orders")
    # A static table: every row at once (a scroll bar hid half of it), and its cells wrap, so a figure's
    # name and its intervals are read whole at any width (a grid's cells cut them at 1280 px).
    st.table(wt.shown_table(result, currency=currency), hide_index=True)
    unmeasured(result, wt.FIGURES)
    downloads.table_buttons(wt.results_table(result), "what-if-results", key="wi_results")
    # Drawn only when opened: a closed expander's grid was sent and laid out again at every control's change.
    box = views.lazy_expander(wt.label("refund_wait_by_payment_method"), key="wi_wait")
    if box is None:
        return
    with box:
        wait = wt.wait_by_method(result)
        if wait.select(pl.exclude("payment_method")).null_count().sum_horizontal().item() == wait.height * (wait.width - 1):
            st.info("No refund to wait for on this data set.", icon=":material/info:")
        # The changes as text, as every change is written ('±0', not '0.0'); the download keeps the numbers.
        downloads.table(wt.wait_shown(wait), "what-if-wait-by-payment-method", key="wi_wait", download=lambda: wait,
                        column_config={
            "payment_method": st.column_config.TextColumn("Payment method", width=115),
            **{k: (st.column_config.TextColumn(v, width=120 if k.endswith("p50") else 100, help=wt.WAIT_HELP[k],
                                               alignment="right") if k in wt.WAIT_CHANGES else
                   st.column_config.NumberColumn(v, format="%,.1f", width=120 if k.endswith("p50") else 100,
                                                 help=wt.WAIT_HELP[k]))
               for k, v in wt.WAIT_LABELS.items()}})
