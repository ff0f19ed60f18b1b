"""The What-if page's policy controls, built from analytics.policy.PARAMETERS (a refund channel for each
payment method of the data set too), and the policy they describe.

The controls' values live in session state under `whatif_<parameter>` ('.' written '__'); a number whose
default is the data set's own has an "as in the data" switch beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import streamlit as st

from analytics import policy, simulate, whatif_notes
from analytics.policy import FITTED, Parameter, Policy, PolicyError
from analytics.text import listed, md
from ui.setup import PageContext

GROUPS = {
    "consent": "Seller's consent and response window",
    "dispatch": "Dispatch deadline",
    "shipping": "Shipping",
    "refunds": "Refund channels and times",
}


def parameters(prep: simulate.Prepared) -> tuple[Parameter, ...]:
    """The policy's parameters for this data set: a refund channel for each payment method it has."""
    return simulate.policy_parameters(prep)


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


def _control(ctx: PageContext, p: Parameter, prep: simulate.Prepared, idle: str | None = None) -> None:
    """One parameter's control; `idle`: why it can change nothing here (the control is then disabled)."""
    key = ctx.k(p.name)
    # A payment method's label comes from the data: that control's words are shown as text. Our own
    # labels are left as written, so the control's accessible name reads as its label.
    # A choice's options in the words the control offers them (the link's codes are no word on the page).
    allowed = (listed([p.choice_text(c) for c in p.choices], "or") if p.kind == "choice" and p.choice_words
               else p.range_text)
    help_text = f"{md(p.help)} Allowed: {md(allowed)}."
    if idle:
        help_text = f"Changes nothing here: {idle}. " + help_text
    off = idle is not None
    if p.name.startswith(policy.CHANNEL_PREFIX):
        p = replace(p, label=md(p.label), unit=md(p.unit))
    if p.kind == "number" and p.default is None:
        _data_number(ctx, p, prep, help_text, off)
        return
    if key not in st.session_state:
        st.session_state[key] = _to_widget(p, p.default)
    if p.kind == "bool":
        st.toggle(p.label, key=key, help=help_text, disabled=off)
    elif p.kind == "number" and p.maximum is not None and p.maximum <= 1:
        st.slider(p.label, min_value=float(p.minimum or 0), max_value=float(p.maximum), step=0.01, key=key,
                  format="percent", help=help_text, disabled=off)   # a share, as the scenario's sentence says it
    elif p.kind == "number":
        st.number_input(f"{p.label} ({p.unit})" if p.unit else p.label, min_value=_widget_min(p),
                        max_value=float(p.maximum), step=1.0, format="%.1f", key=key, help=help_text, disabled=off)
    elif p.kind == "integer":
        st.number_input(f"{p.label} ({p.unit})" if p.unit else p.label, min_value=int(_widget_min(p)),
                        max_value=int(p.maximum), step=1, key=key, help=help_text, disabled=off)
    elif p.kind == "choice":
        # Each option in words, as the scenario's sentence says it (scenarios.describe); the link keeps the code.
        st.selectbox(p.label, p.choices, key=key, help=help_text, disabled=off, format_func=p.choice_text)
    elif p.kind == "days_or_fitted":
        options = [FITTED, *range(int(p.minimum), int(p.maximum) + 1)]
        if st.session_state[key] not in options:
            st.session_state[key] = FITTED
        st.selectbox(p.label, options, key=key, help=help_text, disabled=off,
                     format_func=lambda v: "as the data shows (fitted)" if v == FITTED else f"{v} business days")


def _short(label: str) -> str:
    """A label short enough for a switch in the narrow controls column."""
    return label.replace("Premium shipping share", "Premium share")


def _data_number(ctx: PageContext, p: Parameter, prep: simulate.Prepared, help_text: str, off: bool) -> None:
    """A number whose default is the data set's own: a switch "as in the data" (saying the data's value),
    and the number to use instead when it is off."""
    observed = _observed(prep, p)
    data_key, key = _data_key(ctx, p), ctx.k(p.name)
    st.session_state.setdefault(data_key, True)
    if key not in st.session_state:
        st.session_state[key] = _to_widget(p, observed if observed is not None else 0.0)
    seen = ("its observed share is " + (f"{observed:.0%}" if observed is not None else "unknown: no order has a "
                                        "shipping method"))
    as_data = st.toggle(_short(p.label) + " as in the data", key=data_key, disabled=off,
                        help=f"{help_text} On: each order keeps the data set's own value ({seen}).")
    if as_data:
        st.caption(f"As in the data: {seen}.")
    else:
        st.slider(p.label, min_value=float(p.minimum or 0), max_value=float(p.maximum), step=0.01, key=key,
                  format="percent", help=help_text, disabled=off)   # a share, as the scenario's sentence says it


def controls(ctx: PageContext, params: Sequence[Parameter], prep: simulate.Prepared) -> None:
    """Every policy parameter of this data set as a control, grouped; refunds folded away (there are many).
    A control that can change nothing (the data set lacks what it acts on, or the other settings make it
    inert, as a window while consent is off) is disabled, with the reason in its help."""
    policy = current_policy(ctx, params)[0]
    under = whatif_notes.idle_under(prep, policy)
    lacking = whatif_notes.idle(prep, params)
    # A value the data set or the other settings make idle here (a refund channel where no refund is
    # recorded; a share of sellers who never answer, at a window the data shows) goes back to its default,
    # so that it names no scenario and no assumption it does not change (a link could carry one), and its
    # disabled control does not hold a value no one can clear.
    for p in params:
        why = lacking.get(p.name) or under.get(p.name)
        if why and p.default is not None and st.session_state.get(ctx.k(p.name), p.default) != p.default:
            st.session_state[ctx.k(p.name)] = _to_widget(p, p.default)
            st.caption(f"{md(p.label)}: set back to its default ({why}).")
    idle = {**under, **lacking, **policy.inert()}
    for group, title in GROUPS.items():
        group_params = [p for p in params if p.group == group]
        if not group_params:
            continue
        if group == "refunds":
            with st.expander(title):
                for p in group_params:
                    _control(ctx, p, prep, idle.get(p.name))
        else:
            st.markdown(f"**{title}**")
            for p in group_params:
                _control(ctx, p, prep, idle.get(p.name))
    # Parameters of a group this page does not know yet still get a control.
    for p in params:
        if p.group not in GROUPS:
            _control(ctx, p, prep, idle.get(p.name))


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
