"""A Streamlit page with one number input in a fragment and a caption that says its value, nothing of the
dashboard: what bench/browser_whatif.py changes to measure the floor under a What-if control's change
(Streamlit's own round trip and this machine's), typed and waited for as the What-if page is."""

import streamlit as st


@st.fragment
def panel() -> None:
    hours = st.number_input("Seller's response window (hours)", value=72.0, step=1.0)
    st.caption(f"Scenario: Seller's response window = {hours:g} hours")


st.title("What-if")
panel()
