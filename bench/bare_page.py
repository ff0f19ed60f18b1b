"""A Streamlit page with a title and one tile, nothing of the dashboard: what bench/browser_pages.py opens
to measure the floor under every page's first render (Streamlit's own work and this machine's)."""

import streamlit as st

st.title("Overview")
st.metric("Orders", "1,000")
