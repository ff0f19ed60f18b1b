"""The What-if page's parts: policy controls built from analytics.policy.PARAMETERS, the cached engine
calls, results, sweep, saved scenarios and the calibration.

The controls' values live in session state under `whatif_<parameter>` ('.' written '__'); the policy in
the link is `Policy.to_query()` (only what differs from the baseline), written by the page.
"""

from __future__ import annotations

import streamlit as st

from analytics import charts, simulate
from analytics.policy import FITTED, PARAMETERS, PARAMETERS_BY_NAME, Parameter, Policy, PolicyError
from ui import downloads, scenarios
from ui import whatif_tables as wt
from ui.setup import PageContext, connection, cursor, db_key, sync_url

GROUPS = {
    "consent": "Seller's consent and response window",
    "dispatch": "Dispatch deadline",
    "shipping": "Shipping",
    "refunds": "Refund channels and times",
}
CHANNEL_WORDS = {"original": "original method", "wallet": "platform wallet", "coupon": "coupon"}
# Values a sweep starts with, per parameter (the user may type others).
SWEEP_GRIDS = {
    "seller_response_hours": (12, 24, 48, 72, 96, 168, 336),
    "dispatch_deadline_days": (2, 3, 5, 7, 10, 15, 20),
    "premium_shipping_share": (0.0, 0.1, 0.25, 0.5, 0.75, 1.0),
    **{p.name: (0, 1, 3, 5, 10, 15, 20) for p in PARAMETERS if p.kind == "days_or_fitted"},
}
SWEEPABLE = tuple(SWEEP_GRIDS)
POLICY_KEYS = frozenset(PARAMETERS_BY_NAME)
MAX_SWEEP_POINTS = 12


# --- engine calls, cached ----------------------------------------------------------------------------

@st.cache_resource(max_entries=4, show_spinner=False)
def _prepared(database: str, dataset_id: str) -> simulate.Prepared:
    with cursor() as cur:
        return simulate.prepare_dataset(cur, dataset_id)


def prepared(dataset_id: str) -> simulate.Prepared:
    """The data set loaded and calibrated, once per process (the engine keeps its own memo of replays)."""
    return _prepared(db_key(), dataset_id)


@st.cache_data(max_entries=256, ttl=3600, show_spinner=False)
def _simulated(database: str, dataset_id: str, policy: Policy, replicates: int, seed: int) -> dict:
    return simulate.simulate(prepared(dataset_id), policy=policy, replicates=replicates, seed=seed)


def simulated(dataset_id: str, policy: Policy, replicates: int, seed: int) -> dict:
    return _simulated(db_key(), dataset_id, policy, int(replicates), int(seed))


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def _swept(database: str, dataset_id: str, param: str, values: tuple, policy: Policy, replicates: int, seed: int):
    result = simulate.sweep(prepared(dataset_id), param, list(values), policy=policy, replicates=replicates, seed=seed)
    return simulate.sweep_frame(result)


@st.cache_data(max_entries=16, ttl=3600, show_spinner=False)
def _self_check(database: str, dataset_id: str) -> dict:
    return simulate.self_check(prepared(dataset_id))


# --- controls ----------------------------------------------------------------------------------------

def _widget_min(p: Parameter) -> float | None:
    if p.minimum is None:
        return None
    if p.minimum_exclusive:
        return p.minimum + (1 if p.kind == "integer" else 0.5)
    return p.minimum


def _to_widget(p: Parameter, value):
    """A policy value as its control holds it (numbers clamped into the control's range)."""
    if p.kind == "number":
        value = float(value)
        low = _widget_min(p)
        return max(low, value) if low is not None else value
    if p.kind == "integer":
        return int(value)
    return value


def seed_controls(ctx: PageContext, policy: Policy) -> None:
    for p in PARAMETERS:
        st.session_state[ctx.k(p.name)] = _to_widget(p, policy.get(p.name))


def policy_from_link(ctx: PageContext, saved: list[scenarios.Scenario]) -> None:
    """On opening the page: the link's policy (or its scenario's, when it names only a scenario) into the
    controls, with a notice for anything refused."""
    given = {k: v for k, v in ctx.raw.items() if k in POLICY_KEYS}
    policy, notices = Policy.from_query(given)
    ctx.notices.extend(f"Link parameter {n}" for n in notices)
    scenario_id = ctx.values.get("scenario")
    if scenario_id:
        found = next((s for s in saved if s.id == scenario_id), None)
        if found is None:
            ctx.notices.append("The link's saved scenario was not found for this data set; showing the policy "
                               "the link describes.")
            st.session_state[ctx.k("scenario")] = None
        elif not given:
            policy = found.policy
    seed_controls(ctx, policy)


def _control(ctx: PageContext, p: Parameter) -> None:
    key = ctx.k(p.name)
    help_text = f"{p.help} Allowed: {p.range_text}."
    if key not in st.session_state:
        st.session_state[key] = _to_widget(p, p.default)
    if p.kind == "bool":
        st.toggle(p.label, key=key, help=help_text)
    elif p.kind == "number" and p.maximum is not None and p.maximum <= 1:
        st.slider(p.label, min_value=float(p.minimum or 0), max_value=float(p.maximum), step=0.01, key=key,
                  help=help_text)
    elif p.kind == "number":
        st.number_input(f"{p.label} ({p.unit})" if p.unit else p.label, min_value=_widget_min(p),
                        max_value=float(p.maximum), step=1.0, format="%.1f", key=key, help=help_text)
    elif p.kind == "integer":
        st.number_input(f"{p.label} ({p.unit})" if p.unit else p.label, min_value=int(_widget_min(p)),
                        max_value=int(p.maximum), step=1, key=key, help=help_text)
    elif p.kind == "choice":
        words = CHANNEL_WORDS if p.name.startswith("refund_channel.") else {}
        st.selectbox(p.label, p.choices, key=key, help=help_text,
                     format_func=lambda c: words.get(c, c.replace("_", " ")))
    elif p.kind == "days_or_fitted":
        options = [FITTED, *range(int(p.minimum), int(p.maximum) + 1)]
        if st.session_state[key] not in options:
            st.session_state[key] = FITTED
        st.selectbox(p.label, options, key=key, help=help_text,
                     format_func=lambda v: "as the data shows (fitted)" if v == FITTED else f"{v} business days")


def controls(ctx: PageContext) -> None:
    """Every policy parameter as a control, grouped; refunds folded away (there are many)."""
    for group, title in GROUPS.items():
        params = [p for p in PARAMETERS if p.group == group]
        if not params:
            continue
        if group == "refunds":
            with st.expander(title):
                for p in params:
                    _control(ctx, p)
        else:
            st.markdown(f"**{title}**")
            for p in params:
                _control(ctx, p)
    # Parameters of a group this page does not know yet still get a control.
    for p in PARAMETERS:
        if p.group not in GROUPS:
            _control(ctx, p)


def current_policy(ctx: PageContext) -> tuple[Policy, str | None]:
    """The policy the controls describe, or the baseline and the reason when it is not valid."""
    values = {}
    for p in PARAMETERS:
        key = ctx.k(p.name)
        if key in st.session_state:
            values[p.name] = st.session_state[key]
    try:
        return Policy().with_values(values), None
    except PolicyError as e:
        return Policy(), str(e)


def reset_controls(ctx: PageContext) -> None:
    seed_controls(ctx, Policy())
    st.session_state[ctx.k("scenario")] = None


# --- results -----------------------------------------------------------------------------------------

def result_tiles(result: dict) -> None:
    columns = [c for _ in range(0, len(wt.TILES), 2) for c in st.columns(2)]
    for column, name in zip(columns, wt.TILES, strict=False):
        scen = wt.get(result["scenario"], name) or {}
        base = wt.get(result["baseline"], name) or {}
        delta = wt.get(result["delta"], name) or {}
        spread = (f"95% interval {wt.fmt_interval(delta, name, signed=True)}" if delta.get("low") != delta.get("high")
                  else "the same in every replicate")
        column.metric(
            wt.label(name),
            wt.fmt_value(scen.get("value"), name),
            delta=None if delta.get("value") is None else wt.fmt_interval({"value": delta["value"]}, name, signed=True),
            delta_color="inverse" if name in wt.LOWER_IS_BETTER else "normal",
            delta_description="vs baseline",
            help=f"Scenario {wt.fmt_interval(scen, name)}; baseline {wt.fmt_interval(base, name)}; "
                 f"difference {spread}.",
            border=True,
        )


def results(result: dict) -> None:
    """Baseline, scenario and difference, each with its 95% interval: tiles, a chart, the full table."""
    result_tiles(result)
    chart = charts.comparison_chart(
        wt.comparison_frame({"baseline": result["baseline"], "scenario": result["scenario"]}, wt.TILES), "Value")
    downloads.chart(chart, "what-if-baseline-vs-scenario", key="wi_compare_chart")
    st.markdown("**Every figure** (mean over the replicates, 95% interval in brackets)")
    st.dataframe(wt.shown_table(result), hide_index=True, width="stretch")
    downloads.table_buttons(wt.results_table(result), "what-if-results", key="wi_results")
    with st.expander("Buyers' wait by payment method"):
        downloads.table(wt.wait_by_method(result), "what-if-wait-by-payment-method", key="wi_wait")


# --- saved scenarios -----------------------------------------------------------------------------------

def saved_scenarios(dataset_id: str) -> list[scenarios.Scenario]:
    with cursor() as cur:
        return scenarios.list_for(cur, dataset_id)


def save_form(ctx: PageContext, dataset_id: str, policy: Policy) -> None:
    with st.form("whatif_save", border=False):
        name = st.text_input("Save this scenario as", max_chars=scenarios.MAX_NAME, key="whatif_save_name",
                             placeholder="e.g. 48-hour window, lapse")
        if st.form_submit_button("Save scenario", icon=":material/bookmark_add:"):
            try:
                saved = scenarios.save(connection(db_key()), dataset_id, name, policy)
            except ValueError as e:
                st.error(str(e).capitalize() + ".")
            else:
                st.session_state[ctx.k("scenario")] = saved.id
                st.session_state["whatif_saved_message"] = f"Saved “{saved.name}”."
                st.rerun()  # the whole page: the saved list and the comparison below change too


def open_scenario(ctx: PageContext, found: scenarios.Scenario) -> None:
    seed_controls(ctx, found.policy)
    st.session_state[ctx.k("scenario")] = found.id


def scenarios_section(ctx: PageContext, dataset_id: str, replicates: int, seed: int) -> None:
    saved = saved_scenarios(dataset_id)
    message = st.session_state.pop("whatif_saved_message", None)
    if message:
        st.success(message, icon=":material/bookmark_added:")
    if not saved:
        st.caption("No saved scenario yet: set the controls above and save them under a name.")
        return
    by_id = {s.id: s for s in saved}
    table = [{"name": s.name, "changes": s.describe(), "saved": s.created_at.strftime("%Y-%m-%d %H:%M")} for s in saved]
    import polars as pl

    downloads.table(pl.DataFrame(table), "saved-scenarios", key="wi_saved")
    pick, open_col, delete_col = st.columns([3, 1, 1], vertical_alignment="bottom")
    if st.session_state.get("whatif_pick") not in by_id:
        # The scenario it showed was replaced or deleted: start from the newest.
        st.session_state["whatif_pick"] = saved[-1].id
    chosen = pick.selectbox("Saved scenario", list(by_id), format_func=lambda i: by_id[i].name, key="whatif_pick")
    open_col.button("Open", key="whatif_open", on_click=open_scenario, args=(ctx, by_id[chosen]),
                    icon=":material/open_in_browser:", help="Set the controls to this scenario's policy.")
    if delete_col.button("Delete", key="whatif_delete", icon=":material/delete:"):
        with cursor() as cur:
            scenarios.delete(cur, dataset_id, chosen)
        if st.session_state.get(ctx.k("scenario")) == chosen:
            st.session_state[ctx.k("scenario")] = None
        st.rerun()

    st.markdown("**Compare** saved scenarios side by side with the baseline")
    key = ctx.k("compare")
    st.session_state[key] = [i for i in st.session_state.get(key) or [] if i in by_id]
    compared = st.multiselect("Scenarios to compare", list(by_id), format_func=lambda i: by_id[i].name, key=key,
                              max_selections=6, placeholder="Choose two or more")
    if not compared:
        return
    variants = {"Baseline": simulated(dataset_id, Policy(), replicates, seed)["baseline"]}
    for scenario_id in compared:
        found = by_id[scenario_id]
        variants[found.name] = simulated(dataset_id, found.policy, replicates, seed)["scenario"]
    downloads.chart(charts.comparison_chart(wt.comparison_frame(variants, wt.TILES), "Value"),
                    "saved-scenarios-compared", key="wi_cmp_chart")
    downloads.table(wt.comparison_table(variants), "saved-scenarios-compared", key="wi_cmp_table")


# --- sweep -------------------------------------------------------------------------------------------

def _parse_values(p: Parameter, text: str) -> tuple[tuple, list[str]]:
    values, bad = [], []
    for part in text.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            values.append(p.parse(part))
        except PolicyError:
            bad.append(part)
    return tuple(dict.fromkeys(values))[:MAX_SWEEP_POINTS], bad


def sweep_section(ctx: PageContext, dataset_id: str, policy: Policy, replicates: int, seed: int) -> None:
    st.caption("The other parameters stay as the policy controls set them when the page last refreshed (a "
               "change above updates its panel only; the dashed line marks the policy's own value).")
    left, right = st.columns([1, 2])
    with left:
        param = st.selectbox("Parameter", SWEEPABLE, key=ctx.k("sweep"), format_func=lambda n: PARAMETERS_BY_NAME[n].label)
        spec = PARAMETERS_BY_NAME[param]
        values_key = f"whatif_sweep_values_{param.replace('.', '__')}"
        st.session_state.setdefault(values_key, ", ".join(f"{v:g}" for v in SWEEP_GRIDS[param]))
        text = st.text_input(f"Values ({spec.range_text})", key=values_key,
                             help=f"Up to {MAX_SWEEP_POINTS} values, separated by commas. The other parameters "
                                  "stay as the controls above set them.")
        values, bad = _parse_values(spec, text)
        if bad:
            st.warning(f"Left out: {', '.join(bad[:5])} (allowed: {spec.range_text}).")
        figures = st.multiselect("Figures", wt.SWEEP_FIGURES, key=ctx.k("sweep_figures"), format_func=wt.label,
                                 max_selections=3)
    with right:
        if not values or not figures:
            st.info("Choose values and at least one figure to draw the sweep.")
            return
        frame = _swept(db_key(), dataset_id, param, values, policy, int(replicates), int(seed))
        current = policy.get(param)
        current = float(current) if isinstance(current, int | float) and not isinstance(current, bool) else None
        for figure in figures:
            series = wt.sweep_series(frame, figure)
            downloads.chart(charts.sweep_chart(series, spec.label, wt.label(figure), current=current),
                            f"sweep-{param}-{figure}", key=f"wi_sweep_{figure}")
        downloads.table_buttons(frame, f"sweep-{param}", key="wi_sweep_table")


# --- calibration -------------------------------------------------------------------------------------

def calibration_section(dataset, prep: simulate.Prepared) -> None:
    import polars as pl

    summary = prep.calibration.summary()
    counts = summary.get("counts", {})
    st.caption(f"Fitted on {counts.get('orders', 0):,} orders, {counts.get('requests', 0):,} requests "
               f"({counts.get('awaiting_shipment_requests', 0):,} awaiting shipment), "
               f"{counts.get('refunds', 0):,} refunds. Where the data has nothing to fit, the domain's figures "
               "are assumed and marked so.")
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
    table = pl.DataFrame(rows, schema={"figure": pl.Utf8, "fitted": pl.Float64, "true (generated data)": pl.Float64,
                                       "sample": pl.Utf8}, orient="row")
    if not truth:
        table = table.drop("true (generated data)")
    downloads.table(table, "calibration", key="wi_cal_table")
    curves = simulate.fit_vs_data(prep)
    left, right = st.columns(2)
    for column, name, title in ((left, "seller_response", "Seller's response time"),
                                (right, "payment_to_shipment", "Payment to shipment")):
        frame = curves.get(name)
        if frame is not None and frame.height:
            with column:
                st.markdown(f"**{title}**: fitted against the data")
                downloads.chart(charts.fit_chart(frame, "Hours"), f"fit-{name}", key=f"wi_fit_{name}")
    for name, title, group in (("refund_days", "Refund time by channel (business days)", "channel"),
                               ("transit_days", "Transit by shipping method (business days)", "shipping_method")):
        frame = curves.get(name)
        if frame is not None and frame.height:
            st.markdown(f"**{title}**")
            downloads.chart(charts.distribution_chart(frame, group), f"fit-{name}", key=f"wi_fit_{name}")
    if st.toggle("Check the engine on this data set", key="whatif_self_check",
                 help="Replays the data set under its own policy: fully observed orders must come out as observed, "
                      "and a scenario equal to the baseline must differ by exactly zero."):
        check = _self_check(db_key(), dataset.id)
        if check.get("passed"):
            st.success(f"Passed: {check.get('fully_observed', 0):,} fully observed orders come out as observed; "
                       "an unchanged policy differs by exactly zero.", icon=":material/verified:")
        else:
            st.warning("The replay does not reproduce every observed order: "
                       f"{check.get('mismatches')}", icon=":material/report:")
        st.json(check.get("observed_vs_replayed", {}), expanded=False)


def sync(ctx: PageContext, policy: Policy) -> None:
    """The policy into the link (from a fragment's rerun too)."""
    ctx.extra_query = policy.to_query()
    sync_url(ctx)
