"""The set-up every page runs first: page config, the database, the link state, the sidebar.

Pages come from Streamlit's legacy discovery (app.py is the first page, the rest under pages/), and
every page opens with

    with ui.page("reasons", "Reasons", params=REASONS_PARAMS) as ctx:
        ...

so a fresh server whose first request is a deep link (`/Reasons?dataset=...`) runs exactly the same
set-up as a warm one. (With st.navigation in app.py, Streamlit 1.67 serves that first request from
the auto-discovered page and skips app.py.) The sidebar's own links (st.page_link) carry the state.

The URL is the state. When a page is opened (a new session, a sidebar link, a pasted link), its
query parameters are parsed (analytics.links, analytics.filters) and seed the widgets; after that the
widgets are the truth, and the end of every run writes their canonical values back to the URL.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import RerunException

from analytics import compare, db, external, links
from analytics.filters import QUERY_KEYS, Filters
from analytics.links import Param
from analytics.params import notices as link_notices
from analytics.text import md
from ui import filters as ui_filters
from ui import notices as ui_notices
from ui import picker, server_stats
from ui.copy_link import copy_link_button

log = logging.getLogger("cancellation_lab.ui")


@dataclass(frozen=True)
class PageInfo:
    key: str
    path: str  # relative to app.py, as st.page_link wants it
    label: str
    icon: str


# Sidebar order. File names fix the URL paths (/Reasons, /What-if, ...): changing one breaks links.
PAGES = (
    PageInfo("overview", "app.py", "Overview", ":material/monitoring:"),
    PageInfo("reasons", "pages/1_Reasons.py", "Reasons", ":material/help_center:"),
    PageInfo("refunds", "pages/2_Refunds.py", "Refunds", ":material/payments:"),
    PageInfo("sellers", "pages/3_Sellers.py", "Sellers", ":material/storefront:"),
    PageInfo("orders", "pages/6_Orders.py", "Orders", ":material/list_alt:"),
    PageInfo("whatif", "pages/5_What-if.py", "What-if", ":material/science:"),
    PageInfo("data", "pages/4_Data.py", "Data", ":material/database:"),
)
PAGE_BY_KEY = {p.key: p for p in PAGES}

DATASET_PARAM = Param("dataset", "token", None, min_len=8, max_len=64, label="data set")
# The filters' link parameters and the comparison's: shared by every page that has the filters.
FILTER_KEYS = frozenset({*QUERY_KEYS.values(), compare.PARAM.name})
APP_DIR = Path(__file__).resolve().parent.parent
# Our own file, served by the app: a Material icon as page_icon is fetched from fonts.gstatic.com, which
# tells a third party who opened the page and fails on a network with no outside access.
FAVICON = Path(__file__).resolve().parent / "favicon.png"


@dataclass
class PageContext:
    """What a page gets from the set-up."""

    key: str
    title: str
    dataset: db.Dataset | None
    filters: Filters
    values: dict[str, Any]  # this page's own link parameters, as the run started (session state holds them)
    params: Sequence[Param]
    notices: list[str] = field(default_factory=list)
    arriving: bool = False  # this run opened the page from its link (seed state from `raw`)
    raw: dict[str, list[str]] = field(default_factory=dict)  # the link's query parameters, as given
    extra_query: dict[str, str] = field(default_factory=dict)  # state the page writes to the link itself
    uses_filters: bool = True
    comparison: compare.Comparison = compare.PREVIOUS  # what the date range is compared with (the sidebar's)

    def k(self, name: str) -> str:
        """The session-state key of this page's widget for link parameter `name`."""
        return widget_key(self.key, name)

    def require_dataset(self, *, on_spark: bool = False) -> db.Dataset:
        """The chosen data set; without one, an explanation of what to do, and the page stops here. An
        external source on Spark: its engine and directory are named, and a page that does not run on Spark
        (`on_spark` False) says so and stops."""
        if self.dataset is None:
            ui_notices.empty_database()
            stop_page()
        ext = external.of(self.dataset)
        if ext is not None:
            st.caption(md(ext.describe()))
            if ext.on_spark and not on_spark:
                st.info(f"The {self.title} page does not run on Spark: of an external source on Spark, the "
                        "Overview and the What-if page are computed there. Register the same directory with the "
                        "local engine (Data page) to see this page.", icon=":material/info:")
                stop_page()
        return self.dataset


class PageStopped(Exception):
    """Ends a page's body early (stop_page). Not st.stop(): after it Streamlit draws nothing more, and the
    set-up still has the link's notices, the navigation and the URL to write."""


def stop_page() -> None:
    raise PageStopped


def widget_key(page_key: str, name: str) -> str:
    return f"{page_key}_{name.replace('.', '__')}"


def _raw_query() -> dict[str, list[str]]:
    return {k: st.query_params.get_all(k) for k in st.query_params.keys()}


def _flat(params: dict[str, str]) -> dict[str, list[str]]:
    return {k: [v] for k, v in params.items()}


def _seed(page_key: str, params: Sequence[Param], values: dict[str, Any]) -> None:
    for p in params:
        value = values[p.name]
        st.session_state[widget_key(page_key, p.name)] = list(value) if p.kind == "labels" else value


@contextlib.contextmanager
def page(key: str, title: str, params: Sequence[Param] = (), *, filters: bool = True,
         own_keys: frozenset[str] = frozenset()) -> Iterator[PageContext]:
    """Set up the page `key` and run its body inside; see the module docstring.

    params are parsed here; own_keys are link parameters the page parses itself (from ctx.raw when
    ctx.arriving) and writes back through ctx.extra_query, such as the what-if policy.

    An exception escaping the body is shown as a short error, never a traceback, and logged.
    """
    st.set_page_config(page_title=f"{title} · Cancellation Lab", page_icon=str(FAVICON),
                       layout="wide")
    server_stats.register()
    state = st.session_state
    raw = _raw_query()
    # Opening a page, or a URL that is not the one we wrote (a link pasted into the address bar):
    # the link is the state. Otherwise the widgets are. A rerun the page asked for itself (st.rerun)
    # still carries the URL from before its last write, so it is no arrival.
    app_rerun = state.pop("_app_rerun", False)
    arriving = state.get("_page") != key or (raw != state.get("_written") and not app_rerun)
    notice_box = st.container()
    notices: list[str] = []
    if arriving:
        parsed = links.parse(raw, [DATASET_PARAM, *params], ignore=FILTER_KEYS | own_keys)
        notices += parsed.notices
        _seed(key, params, parsed.values)
        state[f"_{key}_given"] = parsed.given
    ctx = PageContext(key=key, title=title, dataset=None, filters=Filters(), values={}, params=params,
                      arriving=arriving, raw=raw, uses_filters=filters)
    nav_box = st.sidebar.container()
    try:
        with st.sidebar:
            url_id = raw.get("dataset", [None])[-1] if arriving else None
            ctx.dataset, more = picker.dataset_picker(url_id, arriving=arriving)
            notices += more
            if filters and ctx.dataset is not None:
                ctx.filters, more = ui_filters.shared_filters(ctx.dataset, raw if arriving else None)
                ctx.comparison = ui_filters.comparison()
                notices += more
            elif filters and arriving:
                # No data set to filter: keep the link's filters for when there is one.
                ctx.filters, problems = Filters.from_query(raw)
                notices += link_notices(problems)
            elif arriving:
                # A page without the filters (What-if, Data) keeps the link's filters and period comparison
                # for the other pages' links and its own, so a visit here loses none of them.
                state["_shared_link"], problems = _shared_from_link(raw)
                notices += link_notices(problems)
        if arriving:
            state[f"_{key}_notices"] = notices
        ctx.notices = state.get(f"_{key}_notices", [])
        ctx.values = {p.name: _current(key, p) for p in params}
        st.title(title)
    except Exception as e:  # noqa: BLE001 - the set-up failed: say so, keep the navigation, stop
        log.exception("set-up of page %s failed", key)
        st.error(ui_notices.readable_error(e), icon=":material/error:")
        _finish(ctx, notice_box, nav_box)
        st.stop()
    try:
        yield ctx
    except PageStopped:
        pass
    except Exception as e:  # noqa: BLE001 - a page shows a readable message, the log keeps the detail
        log.exception("page %s failed", key)
        st.error(ui_notices.readable_error(e), icon=":material/error:")
    finally:
        # Runs on st.stop() and st.rerun() too, so the URL always matches the widgets.
        if isinstance(sys.exc_info()[1], RerunException):
            state["_app_rerun"] = True
        _finish(ctx, notice_box, nav_box)
        # A fragment of the page reruns later with this same context: that run opens nothing from the link.
        ctx.arriving = False


def switch_page(path: str, query_params: dict[str, str]) -> None:
    """Open another page on the view a link gives (`query_params`), as a click on that link would; the
    page being left keeps its hands off the URL, which now holds the other page's state."""
    st.session_state["_switching"] = True
    st.switch_page(path, query_params=query_params)


def _finish(ctx: PageContext, notice_box, nav_box) -> None:
    st.session_state["_page"] = ctx.key
    with notice_box:
        ui_notices.show_link_notices(ctx.notices)
    if not st.session_state.pop("_switching", False):
        _write_url(ctx)
    with nav_box:
        _navigation(ctx.key)


def _shared_from_link(raw: dict[str, list[str]]) -> tuple[dict[str, str], list]:
    """The filters' and the period comparison's link parameters, as the pages that use them write them, and
    the problems of those it cannot read: a value no page could use is left out, and reported here as the
    pages that use it report it (the link is written again without it, so they would not see it)."""
    filters, problems = Filters.from_query(raw)
    comparison, problem = compare.Comparison.from_query(raw)
    return {**filters.to_query(), **comparison.to_query()}, [*problems, *([problem] if problem else [])]


def _current(page_key: str, p: Param) -> Any:
    value = st.session_state.get(widget_key(page_key, p.name), p.default)
    if p.kind == "labels":
        return tuple(value or ())
    return value


def link_state(ctx: PageContext) -> dict[str, str]:
    """The query parameters that reproduce this view."""
    out: dict[str, str] = {}
    if ctx.dataset is not None:
        out["dataset"] = ctx.dataset.id
    out.update(ctx.filters.to_query())
    if ctx.uses_filters and ctx.dataset is not None:
        out.update(ctx.comparison.to_query())
    elif not ctx.uses_filters:
        # Not this page's, but the view's: the other pages' filters and comparison stay in its link.
        out.update({k: v for k, v in st.session_state.get("_shared_link", {}).items() if k in FILTER_KEYS})
    values = {p.name: _current(ctx.key, p) for p in ctx.params}
    out.update(links.serialise(values, ctx.params))
    out.update(ctx.extra_query)
    return out


def sync_url(ctx: PageContext) -> None:
    """Write the view's state to the URL now: for a fragment's rerun, which does not reach the end of
    the page where this normally happens."""
    _write_url(ctx)


def _write_url(ctx: PageContext) -> None:
    state = st.session_state
    try:
        wanted = link_state(ctx)
    except Exception:  # noqa: BLE001 - a page that failed half-way keeps the URL it had
        log.exception("link state of %s", ctx.key)
        return
    shared = {k: v for k, v in wanted.items() if k == "dataset" or k in FILTER_KEYS}
    own = {k: v for k, v in wanted.items() if k not in shared}
    state["_shared_link"] = shared
    state.setdefault("_page_links", {})[ctx.key] = own
    if _raw_query() != _flat(wanted):
        st.query_params.from_dict(wanted)
    state["_written"] = _flat(wanted)


def _navigation(current: str) -> None:
    st.markdown("### Cancellation Lab")
    shared = st.session_state.get("_shared_link", {})
    own = st.session_state.get("_page_links", {})
    for p in PAGES:
        if not (APP_DIR / p.path).exists():
            continue
        st.page_link(p.path, label=p.label, icon=p.icon, query_params={**shared, **own.get(p.key, {})})
    copy_link_button()
    st.divider()
