"""Data: generate a synthetic data set, upload an export, check the column matches, import; rename or
delete a data set; register a Parquet directory as an external source; the rows an import refused, with their reasons."""

import streamlit as st

import ui
from ui import data_panels

with ui.page("data", "Data", filters=False) as ctx:
    st.caption(
        "A data set is one import or one generation. Yours are private: they appear in this browser tab's "
        "picker, and anyone else needs the link (its id) to open them."
    )
    data_panels.last_result()
    current, generate_tab, upload_tab, external_tab = st.tabs(
        ["Data sets", "Generate", "Upload an export", "Add an external source"])
    with current:
        data_panels.current_dataset(ctx.dataset)
    with generate_tab:
        data_panels.generate_form()
    with upload_tab:
        data_panels.upload_panel()
    with external_tab:
        data_panels.external_panel()
