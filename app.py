"""Overview: the chosen data set's headline numbers with their trend, and where orders leave the life cycle."""

import streamlit as st

import ui

with ui.page("overview", "Overview") as ctx:
    dataset = ctx.require_dataset()
    st.write(dataset.name)
