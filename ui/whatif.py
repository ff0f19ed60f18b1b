"""The What-if page's parts: policy controls built from analytics.policy.PARAMETERS, the cached engine
calls, results, sweep, saved scenarios and the calibration.

The controls' values live in session state under `whatif_<parameter>` ('.' written '__'); the policy in
the link is `Policy.to_query()` (only what differs from the baseline), written by the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import polars as pl
import streamlit as st

from analytics import calibrate, charts, policy, simulate
from analytics.params import notices as link_notices
from analytics.policy import DATA, FITTED, PARAMETERS, PARAMETERS_BY_NAME, Parameter, Policy, PolicyError
from analytics.text import md
from ui import cached, downloads, scenarios
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
# Above this many orders a sweep (several replays per point) is drawn on a click, not on every change.
SWEEP_AUTO_MAX_ORDERS = 200_000


# --- engine calls, cached ----------------------------------------------------------------------------

def prepared(dataset_id: str) -> simulate.Prepared:
    """The data set loaded and calibrated, kept within the process's limits (ui.cached.prepared)."""
    return cached.prepared(dataset_id)


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

def parameters(prep: simulate.Prepared) -> tuple[Parameter, ...]:
    """The policy's parameters for this data set: a refund channel for each payment method it has."""
    return simulate.policy_parameters(prep)


def own_keys() -> frozenset[str]:
    """The link parameters this page parses itself: the policy's, including a refund channel for a payment
    method of the data set's own (checked against the data set once it is loaded)."""
    return POLICY_KEYS | {k for k in st.query_params if k.startswith("refund_channel.")}


def _data_key(ctx: PageContext, p: Parameter) -> str:
    """The key of the "as in the data" switch of a number whose default is the data's own."""
    return ctx.k(f"{p.name}_as_data")


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


def _observed(prep: simulate.Prepared | None, p: Parameter) -> float | None:
    if prep is not None and p.name == "premium_shipping_share":
        return simulate.observed_premium_share(prep)
    return None


def seed_controls(ctx: PageContext, policy: Policy, params: Sequence[Parameter],
                  prep: simulate.Prepared | None = None) -> None:
    for p in params:
        value = policy.get(p.name, params)
        if p.kind == "number" and p.default is None:
            st.session_state[_data_key(ctx, p)] = value is None
            shown = value if value is not None else (_observed(prep, p) or 0.0)
            st.session_state[ctx.k(p.name)] = _to_widget(p, shown)
        elif value is not None:
            st.session_state[ctx.k(p.name)] = _to_widget(p, value)


def policy_from_link(ctx: PageContext, dataset_id: str, params: Sequence[Parameter],
                     prep: simulate.Prepared) -> None:
    """On opening the page: the link's policy (or its scenario's, when it names only a scenario) into the
    controls, with a notice for anything refused (a payment method the data set does not have too)."""
    given = {k: v for k, v in ctx.raw.items() if k in POLICY_KEYS or k.startswith("refund_channel.")}
    policy, problems = Policy.from_query(given, parameters=params)
    ctx.notices.extend(link_notices(problems))
    scenario_id = ctx.values.get("scenario")
    # A link's scenario (and those it compares) join this session's list: the unguessable id is the key.
    for linked in [scenario_id, *(ctx.values.get("compare") or ())]:
        if linked:
            with cursor() as cur:
                if scenarios.get(cur, dataset_id, linked) is not None:
                    remember_scenario(linked)
    if scenario_id:
        with cursor() as cur:
            found = scenarios.get(cur, dataset_id, scenario_id)
        if found is None:
            ctx.notices.append("The link's saved scenario was not found for this data set; showing the policy "
                               "the link describes.")
            st.session_state[ctx.k("scenario")] = None
        elif not given:
            policy = found.policy
    seed_controls(ctx, policy, params, prep)


def _control(ctx: PageContext, p: Parameter, prep: simulate.Prepared) -> None:
    key = ctx.k(p.name)
    # A payment method's label comes from the data: that control's words are shown as text. Our own
    # labels are left as written, so the control's accessible name reads as its label.
    help_text = f"{md(p.help)} Allowed: {md(p.range_text)}."
    if p.name.startswith(policy.CHANNEL_PREFIX):
        p = replace(p, label=md(p.label), unit=md(p.unit))
    if p.kind == "number" and p.default is None:
        _data_number(ctx, p, prep, help_text)
        return
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


def _short(label: str) -> str:
    """A label short enough for a switch in the narrow controls column."""
    return label.replace("Premium shipping share", "Premium share")


def _data_number(ctx: PageContext, p: Parameter, prep: simulate.Prepared, help_text: str) -> None:
    """A number whose default is the data set's own: a switch "as in the data" (saying the data's value),
    and the number to use instead when it is off."""
    observed = _observed(prep, p)
    data_key, key = _data_key(ctx, p), ctx.k(p.name)
    st.session_state.setdefault(data_key, True)
    if key not in st.session_state:
        st.session_state[key] = _to_widget(p, observed if observed is not None else 0.0)
    seen = ("its observed share is " + (f"{observed:.0%}" if observed is not None else "unknown: no order has a "
                                        "shipping method"))
    as_data = st.toggle(_short(p.label) + " as in the data", key=data_key,
                        help=f"{help_text} On: each order keeps the data set's own value ({seen}).")
    if as_data:
        st.caption(f"As in the data: {seen}.")
    else:
        st.slider(p.label, min_value=float(p.minimum or 0), max_value=float(p.maximum), step=0.01, key=key,
                  help=help_text)


def controls(ctx: PageContext, params: Sequence[Parameter], prep: simulate.Prepared) -> None:
    """Every policy parameter of this data set as a control, grouped; refunds folded away (there are many)."""
    for group, title in GROUPS.items():
        group_params = [p for p in params if p.group == group]
        if not group_params:
            continue
        if group == "refunds":
            with st.expander(title):
                for p in group_params:
                    _control(ctx, p, prep)
        else:
            st.markdown(f"**{title}**")
            for p in group_params:
                _control(ctx, p, prep)
    # Parameters of a group this page does not know yet still get a control.
    for p in params:
        if p.group not in GROUPS:
            _control(ctx, p, prep)


def current_policy(ctx: PageContext, params: Sequence[Parameter]) -> tuple[Policy, str | None]:
    """The policy the controls describe, or the baseline and the reason when it is not valid."""
    values = {}
    for p in params:
        if p.kind == "number" and p.default is None and st.session_state.get(_data_key(ctx, p), True):
            values[p.name] = None
            continue
        key = ctx.k(p.name)
        if key in st.session_state:
            values[p.name] = st.session_state[key]
    try:
        return Policy().with_values(values, params), None
    except PolicyError as e:
        return Policy(), str(e)


def reset_controls(ctx: PageContext, params: Sequence[Parameter], prep: simulate.Prepared) -> None:
    seed_controls(ctx, Policy(), params, prep)
    st.session_state[ctx.k("scenario")] = None
    st.session_state.pop("whatif_opened_name", None)


def applies(prep: simulate.Prepared) -> str | None:
    """What the policy can change on this data set, when the data leaves some rules with nothing to act on."""
    counts = prep.calibration.summary().get("counts", {})
    no_requests, no_refunds = not counts.get("requests"), not counts.get("refunds")
    if not (no_requests or no_refunds):
        return None
    idle, live = [], []
    requests = "the rules about requests (consent, the response window and what its running out does)"
    refunds = "refund routing and refund times"
    (idle if no_requests else live).append(requests)
    (idle if no_refunds else live).append(refunds)
    live.append("the dispatch deadline (once “When the dispatch deadline passes” is auto cancel)")
    if simulate.observed_premium_share(prep) is not None:
        live.append("the shipping mix (transit times)")
    missing = " and ".join(w for w, gone in (("no cancellation requests (its cancellations are known by their "
                                              "status only)", no_requests), ("no refunds", no_refunds)) if gone)
    still = live[0] if len(live) == 1 else f"{', '.join(live[:-1])} and {live[-1]}"
    return f"This data set records {missing}, so {' and '.join(idle)} change nothing here. What still applies: {still}."


def sweep_defaults(ctx: PageContext, prep: simulate.Prepared) -> None:
    """The sweep's parameter and figures start at the data set's defaults (default_sweep), which the link
    then leaves out as it leaves out every default."""
    sweep, figures = default_sweep(prep)
    ctx.params = tuple(replace(p, default=sweep) if p.name == "sweep" else
                       replace(p, default=figures) if p.name == "sweep_figures" else p for p in ctx.params)
    if not st.session_state.get(ctx.k("sweep")):
        st.session_state[ctx.k("sweep")] = sweep
    if ctx.arriving and not st.session_state.get(ctx.k("sweep_figures")):
        st.session_state[ctx.k("sweep_figures")] = list(figures)


def default_sweep(prep: simulate.Prepared) -> tuple[str, tuple[str, ...]]:
    """The parameter a sweep starts with, and its figures: ones that change something on this data set."""
    counts = prep.calibration.summary().get("counts", {})
    figures = ("refund_wait_p90_business_days", "cancelled_gmv") if counts.get("refunds") else \
        ("cancelled_orders", "cancelled_gmv")
    if counts.get("requests"):
        return "seller_response_hours", figures
    # No request to answer, so the response window changes nothing: the dispatch deadline can still cancel.
    return "dispatch_deadline_days", ("cancelled_orders", "cancelled_gmv")


# --- results -----------------------------------------------------------------------------------------

def result_tiles(result: dict) -> None:
    columns = [c for _ in range(0, len(wt.TILES), 2) for c in st.columns(2)]
    for column, name in zip(columns, wt.TILES, strict=False):
        scen = wt.get(result["scenario"], name) or {}
        base = wt.get(result["baseline"], name) or {}
        delta = wt.get(result["delta"], name) or {}
        spread = wt.fmt_interval(delta, name, signed=True)
        change = delta.get("value")
        # No change is no news: no arrow, no colour.
        unchanged = change is not None and change == 0
        column.metric(
            wt.label(name),
            wt.fmt_value(scen.get("value"), name),
            delta=None if change is None else "0" if unchanged else wt.fmt_interval({"value": change}, name, signed=True),
            delta_color="off" if unchanged else "inverse" if name in wt.LOWER_IS_BETTER else "normal",
            delta_arrow="off" if unchanged else "auto",
            delta_description="vs baseline" + (" · extrapolated" if result.get("extrapolated") else ""),
            help=f"Scenario {wt.fmt_interval(scen, name)}; baseline {wt.fmt_interval(base, name)}; "
                 f"difference {spread}. 95% intervals.",
            border=True,
        )


def _parameter_words(name: str) -> str:
    """A parameter in words; a refund channel names its payment method's label as the data writes it."""
    if name in PARAMETERS_BY_NAME:
        return PARAMETERS_BY_NAME[name].label.lower()
    if name.startswith(policy.CHANNEL_PREFIX):
        return f"where {policy.method_from_key(name.removeprefix(policy.CHANNEL_PREFIX))} refunds go"
    return name.replace("_", " ")


def extrapolation_notice(result: dict) -> None:
    """Say so when the scenario reaches beyond what the data observed, and what its figures assume."""
    assumed = result.get("assumptions") or {}
    if result.get("extrapolated"):
        # Parameter names and assumptions may carry a payment method's label from the data: shown as text.
        st.warning("**Extrapolated**: this scenario sets " + md(", ".join(
            _parameter_words(n) for n in result["extrapolated"]))
                   + " beyond anything this data set shows, so its figures rest on assumptions. "
                   # The window's note already says what share is assumed never to answer.
                   + md(" ".join(v for k, v in assumed.items()
                                 if k != "never_answer_share" or "seller_response_hours" not in assumed)),
                   icon=":material/warning:")
    elif "never_answer_share" in assumed:
        st.info(md(assumed["never_answer_share"] + " Within the data's own window this changes nothing."),
                icon=":material/info:")


def how_sure(result: dict) -> None:
    """The headline figures' two intervals in words: the change first, for a new period first."""
    st.markdown("**How sure**: 95% intervals. *Next period like this one*: what to expect if the policy runs "
                "for a new period with as many orders and the same buyers' and sellers' behaviour, which is "
                "what a decision rests on. *These same orders*: what these very orders would have done under "
                "it (narrower: the orders are known). *Exact*: nothing uncertain moves the figure.")
    # A static table: four short rows that must read at a glance (and be readable text on the page).
    st.table(wt.how_sure(result), hide_index=True)


def results(result: dict) -> None:
    """Baseline, scenario and difference: tiles and a chart of them (for the narrow column)."""
    extrapolation_notice(result)
    result_tiles(result)
    how_sure(result)
    frame = wt.comparison_frame({"baseline": result["baseline"], "scenario": result["scenario"]}, wt.TILES)
    missing = wt.unmeasured(frame)
    if missing:
        st.caption(f"Not measurable on this data set: {', '.join(missing)}.")
    if wt.measured(frame).height:
        downloads.chart(charts.comparison_chart(frame, "Value"), "what-if-baseline-vs-scenario", key="wi_compare_chart")


def every_figure(result: dict) -> None:
    """The full table (full width, so the intervals are not cut) and the wait by payment method."""
    st.markdown("**Every figure**: the estimate for these orders, then its 95% intervals in parentheses: for "
                "the next period like this one, and for these same orders")
    shown = wt.shown_table(result)
    # Every row at once: the table is short, and a scroll bar hid half of it.
    st.dataframe(shown, hide_index=True, width="stretch", placeholder="", height=35 * (shown.height + 1) + 3,
                 column_config={"Figure": st.column_config.TextColumn(width="medium")})
    downloads.table_buttons(wt.results_table(result), "what-if-results", key="wi_results")
    with st.expander("Buyers' wait by payment method"):
        wait = wt.wait_by_method(result)
        if wait.select(pl.exclude("payment_method")).null_count().sum_horizontal().item() == wait.height * (wait.width - 1):
            st.info("No refund to wait for on this data set.", icon=":material/info:")
        downloads.table(wait, "what-if-wait-by-payment-method", key="wi_wait", column_config={
            k: st.column_config.NumberColumn(v, format="%,.1f") for k, v in wt.WAIT_LABELS.items()})


# --- saved scenarios -----------------------------------------------------------------------------------

KNOWN_SCENARIOS = "known_scenarios"  # session: scenario ids this session saved or opened by link


def remember_scenario(scenario_id: str) -> None:
    """Make a scenario visible (and replaceable, deletable) in this browser session."""
    known = st.session_state.setdefault(KNOWN_SCENARIOS, [])
    if scenario_id not in known:
        known.append(scenario_id)


def saved_scenarios(dataset_id: str) -> list[scenarios.Scenario]:
    """This session's scenarios of the data set, oldest first: never everyone's, as on a shared demo data
    set anyone could otherwise replace or delete them."""
    with cursor() as cur:
        return scenarios.list_for(cur, dataset_id, list(st.session_state.get(KNOWN_SCENARIOS, [])))


def save_form(ctx: PageContext, dataset_id: str, policy: Policy) -> None:
    with st.form("whatif_save", border=False):
        name = st.text_input("Save this scenario as", max_chars=scenarios.MAX_NAME, key="whatif_save_name",
                             placeholder="e.g. 48-hour window, lapse")
        replace = st.checkbox("Replace a saved scenario of the same name", key="whatif_save_replace", value=False)
        if st.form_submit_button("Save scenario", icon=":material/bookmark_add:"):
            clean = " ".join(name.split())
            same = next((s for s in saved_scenarios(dataset_id) if s.name == clean), None)
            if same is not None and not replace:
                # Saving over a scenario loses it: only when asked.
                st.error(f"A scenario named “{md(clean)}” is already saved ({md(same.describe())}). Choose another name, "
                         "or tick “Replace a saved scenario of the same name” to overwrite it.",
                         icon=":material/error:")
                return
            try:
                saved = scenarios.save(connection(db_key()), dataset_id, name, policy,
                                       replace=same.id if same is not None else None)
            except ValueError as e:
                st.error(md(str(e).capitalize()) + ".")
            else:
                remember_scenario(saved.id)
                st.session_state[ctx.k("scenario")] = saved.id
                st.session_state["whatif_saved_message"] = (f"Replaced “{md(saved.name)}”." if same is not None
                                                            else f"Saved “{md(saved.name)}”.")
                st.rerun()  # the whole page: the saved list and the comparison below change too


def open_scenario(ctx: PageContext, found: scenarios.Scenario, params: Sequence[Parameter],
                  prep: simulate.Prepared) -> None:
    seed_controls(ctx, found.policy, params, prep)
    st.session_state[ctx.k("scenario")] = found.id


def scenarios_section(ctx: PageContext, dataset_id: str, policy: Policy, params: Sequence[Parameter],
                      prep: simulate.Prepared, replicates: int, seed: int) -> None:
    saved = saved_scenarios(dataset_id)
    message = st.session_state.pop("whatif_saved_message", None)
    if message:
        st.success(message, icon=":material/bookmark_added:")
    if not saved:
        st.caption("No saved scenario yet: set the controls above and save them under a name.")
        return
    by_id = {s.id: s for s in saved}
    table = [{"name": s.name, "changes": s.describe(), "saved": s.created_at.strftime("%Y-%m-%d %H:%M")} for s in saved]
    downloads.table(pl.DataFrame(table), "saved-scenarios", key="wi_saved")
    pick, open_col, delete_col = st.columns([3, 1, 1], vertical_alignment="bottom")
    if st.session_state.get("whatif_pick") not in by_id:
        # The scenario it showed was replaced or deleted: start from the newest.
        st.session_state["whatif_pick"] = saved[-1].id
    chosen = pick.selectbox("Saved scenario", list(by_id), format_func=lambda i: by_id[i].name, key="whatif_pick")
    open_col.button("Open", key="whatif_open", on_click=open_scenario, args=(ctx, by_id[chosen], params, prep),
                    icon=":material/open_in_browser:", help="Set the controls to this scenario's policy.")
    if delete_col.button("Delete", key="whatif_delete", icon=":material/delete:"):
        with cursor() as cur:
            scenarios.delete(cur, dataset_id, chosen)
        if st.session_state.get(ctx.k("scenario")) == chosen:
            st.session_state[ctx.k("scenario")] = None
        st.rerun()

    st.markdown("**Compare** saved scenarios side by side with the baseline (and the current controls, when "
                "they differ from every scenario compared)")
    key = ctx.k("compare")
    st.session_state[key] = [i for i in st.session_state.get(key) or [] if i in by_id]
    compared = st.multiselect("Scenarios to compare", list(by_id), format_func=lambda i: by_id[i].name, key=key,
                              max_selections=6, placeholder="Choose two or more")
    if not compared:
        return
    variants = {"Baseline": simulated(dataset_id, Policy(), replicates, seed)["baseline"]}
    policies = [by_id[i].policy for i in compared]
    if policy.changes() and policy not in policies:
        variants["Current controls"] = simulated(dataset_id, policy, replicates, seed)["scenario"]
    for scenario_id, scenario_policy in zip(compared, policies, strict=True):
        variants[by_id[scenario_id].name] = simulated(dataset_id, scenario_policy, replicates, seed)["scenario"]
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


def _axis_range(p: Parameter) -> str:
    """The values a sweep takes, in words with no nested brackets: 'more than 0 and at most 2,160 hours'."""
    if p.kind in ("number", "integer") and p.minimum is not None and p.maximum is not None:
        low = ("more than " if p.minimum_exclusive else "at least ") + _num(p.minimum)
        unit = f" {p.unit}" if p.unit else ""
        whole = "whole numbers, " if p.kind == "integer" else ""
        return f"{whole}{low} and at most {_num(p.maximum)}{unit}"
    return p.range_text.removeprefix(f"'{DATA}' (as the data set shows) or ")


def _axis_title(p: Parameter) -> str:
    """A swept parameter's axis title with its unit: "Seller's response window (hours)"."""
    return f"{p.label} ({p.unit})" if p.unit else p.label


def sweep_section(ctx: PageContext, dataset_id: str, policy: Policy, params: Sequence[Parameter],
                  prep: simulate.Prepared, replicates: int, seed: int) -> None:
    """A sweep of one parameter, the others held at the current controls (it reruns with them). On a large
    data set it is drawn on demand, still from the current controls."""
    orders = prep.calibration.summary().get("counts", {}).get("orders", 0)
    on_demand = orders > SWEEP_AUTO_MAX_ORDERS
    st.caption("The other parameters stay as the policy controls above set them now; the dashed line marks "
               "the current value of the swept one."
               + (f" On {orders:,} orders a sweep takes a few seconds, so it is drawn when you ask, for the "
                  "controls as they are then." if on_demand else ""))
    by_name = {p.name: p for p in params}
    left, right = st.columns([1, 2])
    with left:
        param = st.selectbox("Parameter", SWEEPABLE, key=ctx.k("sweep"),
                             format_func=lambda n: by_name[n].label if n in by_name else n)
        spec = by_name[param]
        values_key = f"whatif_sweep_values_{param.replace('.', '__')}"
        st.session_state.setdefault(values_key, ", ".join(f"{v:g}" for v in SWEEP_GRIDS[param]))
        text = st.text_input(f"Values: {_axis_range(spec)}", key=values_key,
                             help=f"Up to {MAX_SWEEP_POINTS} values, separated by commas. The other parameters "
                                  "stay as the controls above set them.")
        values, bad = _parse_values(spec, text)
        if bad:
            st.warning(f"Left out: {', '.join(md(b) for b in bad[:5])} (allowed: {_axis_range(spec)}).")
    with right:
        # Full width of the results column: the figures' names are long and must be readable.
        figures = st.multiselect("Figures", wt.SWEEP_FIGURES, key=ctx.k("sweep_figures"), format_func=wt.label,
                                 max_selections=3)
        if not values or not figures:
            st.info("Choose values and at least one figure to draw the sweep.")
            return
        request = (param, values, policy, int(replicates), int(seed))
        if on_demand:
            if st.button("Draw the sweep for the current controls", key="whatif_sweep_draw",
                         icon=":material/show_chart:"):
                st.session_state["whatif_sweep_drawn"] = request
            if st.session_state.get("whatif_sweep_drawn") != request:
                st.info("The sweep is drawn on demand on a data set this large: click the button above (it uses the "
                        "controls as they are now).", icon=":material/info:")
                return
        if param == "dispatch_deadline_days" and policy.get("late_dispatch_action") == "none":
            st.caption("The deadline cancels an order only when “When the dispatch deadline passes” is auto "
                       "cancel; it is none now, so this sweep is flat until you change it.")
        frame = _swept(db_key(), dataset_id, param, values, policy, int(replicates), int(seed))
        current = policy.get(param, params)
        if current is None and param == "premium_shipping_share":
            current = simulate.observed_premium_share(prep)
        current = float(current) if isinstance(current, int | float) and not isinstance(current, bool) else None
        for figure in figures:
            series = wt.measured(wt.sweep_series(frame, figure))
            if not series.height:
                st.info(f"{wt.label(figure)}: not measurable on this data set.", icon=":material/info:")
                continue
            if series["value"].n_unique() == 1 and series["low"].n_unique() == 1:
                st.caption(f"{spec.label} does not change {wt.label(figure).lower()} on this data set under the "
                           "current controls.")
            unit = wt.unit(figure)
            downloads.chart(charts.sweep_chart(series, _axis_title(spec), unit[:1].upper() + unit[1:] or "Value",
                                               current=current, title=wt.label(figure)),
                            f"sweep-{param}-{figure}", key=f"wi_sweep_{figure}")
        downloads.table_buttons(frame, f"sweep-{param}", key="wi_sweep_table")


# --- calibration -------------------------------------------------------------------------------------

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


def opened_scenario(ctx: PageContext, dataset_id: str, policy: Policy) -> str | None:
    """The caption's words for the opened scenario: "“name”", "modified from “name”" or None. Once the
    controls differ from the opened scenario's policy, the link stops naming it (it would reopen the old
    policy, not what is on screen)."""
    key = ctx.k("scenario")
    scenario_id = st.session_state.get(key)
    if scenario_id:
        with cursor() as cur:
            found = scenarios.get(cur, dataset_id, scenario_id)
        if found is not None and found.policy == policy:
            st.session_state["whatif_opened_name"] = found.name
            return f"“{found.name}”"
        st.session_state[key] = None
        if found is None:
            st.session_state.pop("whatif_opened_name", None)
    name = st.session_state.get("whatif_opened_name")
    return f"modified from “{name}”" if name else None


def sync(ctx: PageContext, policy: Policy) -> None:
    """The policy into the link (from a fragment's rerun too)."""
    ctx.extra_query = policy.to_query()
    sync_url(ctx)
