"""What the AppTest tests share: databases to run the pages on, and a runner that opens a page the way
a link does (legacy discovery: app.py is the entry point, the other pages are switched to)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.conftest import OLIST_DIR, ROOT, SAMPLE_CSV

OLIST, SAMPLE = OLIST_DIR, SAMPLE_CSV  # the names the page tests use

OLIST_FILES = ["olist_orders_dataset.csv", "olist_order_payments_dataset.csv", "olist_order_items_dataset.csv"]
PAGES = {
    "overview": "app.py",
    "reasons": "pages/1_Reasons.py",
    "refunds": "pages/2_Refunds.py",
    "sellers": "pages/3_Sellers.py",
    "data": "pages/4_Data.py",
    "whatif": "pages/5_What-if.py",
    "orders": "pages/6_Orders.py",
}


def existing_pages() -> dict[str, str]:
    return {k: v for k, v in PAGES.items() if (ROOT / v).exists()}


def demo_db(path: Path, orders: int = 3_000, seed: int = 7) -> str:
    from analytics import db
    from analytics.generate import generate

    con = db.connect(path)
    try:
        return generate(con, orders, seed, name="Demo marketplace (synthetic)", is_demo=True).dataset.id
    finally:
        con.close()


def import_db(path: Path, files: list[Path], name: str | None = None) -> str:
    from analytics import db, importer

    con = db.connect(path)
    try:
        return importer.import_files(con, files, name=name).dataset.id
    finally:
        con.close()


def open_page(page: str, query: dict[str, str] | None = None, timeout: float = 60) -> AppTest:
    """Run `page` (a key of PAGES) as a new browser session would, with `query` as its link's parameters."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    if PAGES[page] != "app.py":
        at.switch_page(PAGES[page])
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


def problems(at: AppTest) -> list[str]:
    """Uncaught exceptions and error messages on the page: a page must show neither."""
    return [e.value for e in at.exception] + [e.value for e in at.error]


def open_table(at: AppTest, key: str) -> AppTest:
    """Open the table under the chart `key` of views.table_result, as a click on its expander does (the
    table is drawn only when open)."""
    from ui.views import table_open_key

    at.session_state[table_open_key(key)] = True
    return at.run()


def open_tables(at: AppTest) -> AppTest:
    """Open every chart's table on the page (open_table for each closed one), in one run."""
    from ui.views import table_open_key

    closed = [e.key for e in at.expander if e.key and e.key.endswith(table_open_key("")) and not at.session_state[e.key]]
    for key in closed:
        at.session_state[key] = True
    return at.run() if closed else at
