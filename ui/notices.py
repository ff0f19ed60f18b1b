"""Messages a page shows: link problems, empty states, and errors as sentences, never tracebacks."""

from __future__ import annotations

import duckdb
import streamlit as st

from analytics import db
from analytics.text import md


def show_link_notices(notices: list[str]) -> None:
    """One warning listing what the link carried that could not be used (and what was used instead).
    A notice is plain text, often quoting the link: it is shown as text."""
    if not notices:
        return
    lines = "\n".join(f"- {md(n)}" for n in notices)
    st.warning(f"Some of this link's settings could not be used:\n{lines}", icon=":material/link_off:")


def empty_database() -> None:
    """What to do when there is no data set to show."""
    st.info(
        "There is no data set to show yet. Generate a synthetic one or upload an orders export on the "
        "Data page; a data set someone shared with you opens from their link.",
        icon=":material/info:",
    )
    st.page_link("pages/4_Data.py", label="Go to the Data page", icon=":material/database:")


def not_available(what: str, why: str) -> None:
    """A metric the data set cannot support: said, never drawn as zero."""
    st.caption(f":material/block: {not_available_text(what, why)}")


def not_available_text(what: str, why: str) -> str:
    """'**What**: not available in this data set, because why.' One sentence, its brackets balanced; `what`
    and `why` are plain text (they may name the data's columns and labels)."""
    why = why.strip().rstrip(".")
    return f"**{md(what)}**: not available in this data set" + (f", because {md(why)}." if why else ".")


def readable_error(e: BaseException) -> str:
    """A short sentence (Markdown, the exception's own text escaped) for an exception a page did not expect."""
    if isinstance(e, db.DatasetNotFound):
        return f"The data set could not be found: {md(e.args[0] if e.args else e)}."
    if isinstance(e, duckdb.IOException):
        return "The database could not be read just now (it may be busy or moved). Try again in a moment."
    if isinstance(e, MemoryError):
        return "This view needs more memory than the server has. Narrow the filters and try again."
    text = str(e).strip().splitlines()[0] if str(e).strip() else ""
    if len(text) > 200:
        text = text[:200] + "…"
    return (
        "Something went wrong while drawing this part of the page"
        + (f": {md(text)}" if text else f" ({type(e).__name__})")
        + ". Other parts are unaffected; changing a setting or reloading may help."
    )
