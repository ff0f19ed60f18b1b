"""What the browser tests share: a real `streamlit run` on a free loopback port with its own database,
Debian's Chromium driven by Playwright, and small waits that read what Streamlit draws.

Not a test module (no test_ prefix); test_browser_*.py import it. The server and the browser themselves
come from bench/browser.py, which the browser benchmarks share.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench.browser import (  # noqa: F401 (the browser tests reach these through this module)
    CHROMIUM,
    CHROMIUM_ARGS,
    AppServer,
    app_server,
    chromium,
    free_port,
    wait_ready,
)

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts"

requires_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="browser tests skipped: Chromium is not installed at /usr/bin/chromium "
           "(apt-get install chromium chromium-driver; .ci/run does it)",
)
browser_test = [pytest.mark.browser, requires_chromium]


def make_demo_db(path: Path, orders: int = 5_000, seed: int = 7) -> str:
    """A database file holding one small demo data set; returns its id. The connection is closed again
    so the app's process can open the file."""
    from analytics import db
    from analytics.generate import generate

    con = db.connect(path)
    try:
        return generate(con, orders, seed, name="Demo marketplace (synthetic)", is_demo=True).dataset.id
    finally:
        con.close()


# --- reading what Streamlit drew ------------------------------------------------------------------------

def choose_upload(page, path) -> None:
    """On the Data page: the upload tab, the file chosen, its column matches shown (not yet imported)."""
    page.get_by_role("tab", name="Upload an export").click()
    page.set_input_files('[data-testid="stFileUploaderDropzoneInput"]', str(path))
    page.get_by_text("Matched columns").wait_for()


def metrics(page) -> dict[str, str]:
    """Every st.metric on the page: label -> shown value."""
    out = {}
    for m in page.query_selector_all('[data-testid="stMetric"]'):
        label = m.query_selector('[data-testid="stMetricLabel"]')
        value = m.query_selector('[data-testid="stMetricValue"]')
        if label and value:
            out[label.inner_text().strip()] = value.inner_text().strip()
    return out


def sidebar_links(page) -> list[str]:
    """The sidebar's page links, by label (the icon's ligature text left out)."""
    links = page.query_selector_all('[data-testid="stSidebar"] [data-testid="stPageLink"] a')
    return [a.inner_text().strip().split("\n")[-1] for a in links]


def picker_value(page) -> str:
    """The data set chosen in the sidebar's picker, as it reads."""
    return page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"] input').first.input_value()


def query_of(url: str) -> str:
    return url.split("?", 1)[1] if "?" in url else ""


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
