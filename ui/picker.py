"""The data-set picker. It lists the demo data set(s) and the data sets this browser session created
or opened by link, never everyone's uploads: an upload is reachable only by its unguessable id."""

from __future__ import annotations

from collections import Counter

import streamlit as st

from analytics import db, external
from analytics.text import md
from ui.database import cursor, datasets

KNOWN = "known_datasets"   # session: ids this session created or opened by link, oldest first
PICK = "dataset_pick"      # the picker's widget key
# session: the data set chosen, by the box or by the app. The box's own value does not last: a renamed
# data set changes the box's words, which makes it a new box, at its first option (the demo's).
CHOSEN = "dataset_chosen"


def remember(dataset_id: str, *, select: bool = True) -> None:
    """Make a data set visible to this session (it created it, or a link named it)."""
    known = st.session_state.setdefault(KNOWN, [])
    if dataset_id not in known:
        known.append(dataset_id)
    if select:
        st.session_state["_pick_next"] = dataset_id


def forget(dataset_id: str) -> None:
    known = st.session_state.setdefault(KNOWN, [])
    if dataset_id in known:
        known.remove(dataset_id)


def visible_datasets() -> list[db.Dataset]:
    """Demo data sets first (newest first), then this session's, newest first."""
    known = set(st.session_state.get(KNOWN, []))
    rows = datasets()
    demo = [d for d in rows if d.is_demo]
    own = [d for d in rows if d.id in known and not d.is_demo]
    return demo + own


def _chosen() -> None:
    """The box changed: its value is the data set chosen."""
    st.session_state[CHOSEN] = st.session_state[PICK]


def _label(d: db.Dataset, names: Counter) -> str:
    """A data set's name; with its size where another listed data set has the same name. The size always
    is said under the box: in the box it cut the demo's name at the sidebar's width."""
    return f"{d.name} · {d.orders:,} orders" if names[d.name] > 1 else d.name


def dataset_picker(url_id: str | None, *, arriving: bool) -> tuple[db.Dataset | None, list[str]]:
    """The chosen data set (None when there is none to show) and notices about the link's id."""
    notices: list[str] = []
    state = st.session_state
    missing = False
    if url_id is not None and arriving:
        with cursor() as cur:
            found = db.get_dataset(cur, url_id) if 8 <= len(url_id) <= 64 else None
        missing = found is None
        if found is not None:
            remember(found.id)
    datasets = visible_datasets()
    if missing:
        notices.append("The link's data set was not found (it may have been deleted, or the link is "
                       "incomplete)" + ("; showing the default data set instead." if datasets else "."))
    if not datasets:
        st.caption("No data set yet.")
        state.pop(PICK, None)
        return None, notices
    ids = [d.id for d in datasets]
    wanted = state.pop("_pick_next", None)
    if wanted in ids:
        state[CHOSEN] = wanted
    elif state.get(CHOSEN) not in ids:
        state[CHOSEN] = state.get(PICK) if state.get(PICK) in ids else ids[0]
    state[PICK] = state[CHOSEN]
    by_id = {d.id: d for d in datasets}
    names = Counter(d.name for d in datasets)
    chosen = st.selectbox("Data set", ids, key=PICK, format_func=lambda i: _label(by_id[i], names), on_change=_chosen,
                          help="The demo data set, and the data sets you created or opened by link in this "
                               "browser tab. Others' uploads are private to them.")
    # The box shows as much of the name as its width allows; the whole name, wrapped, is said under it.
    st.caption(f"{md(by_id[chosen].name)} · {by_id[chosen].orders:,} orders")
    ext = external.of(by_id[chosen])
    if ext is not None:
        st.caption(md(ext.describe()))
    return by_id[chosen], notices
