"""What the browser tests share: a real `streamlit run` on a free loopback port with its own database,
Debian's Chromium driven by Playwright, and small waits that read what Streamlit draws.

Not a test module (no test_ prefix); test_browser_*.py import it.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

requires_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="browser tests skipped: Chromium is not installed at /usr/bin/chromium "
           "(apt-get install chromium chromium-driver; .ci/run does it)",
)
browser_test = [pytest.mark.browser, requires_chromium]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    """The dashboard in its own process group, on 127.0.0.1:<free port>, with its own database: serve.py
    (as `make run`: the pages' imports done before the first session, responses that forbid framing), or
    `streamlit run SCRIPT` for another script (`script="app.py"`: the plain app)."""

    def __init__(self, db_path: Path, log_path: Path, script: str = "serve.py"):
        self.db_path = db_path
        self.script = script
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> AppServer:
        env = {**os.environ, "CANCELLATION_LAB_DB": str(self.db_path), "PYTHONUNBUFFERED": "1"}
        self._log = self.log_path.open("wb")
        streamlit = Path(sys.executable).parent / "streamlit"
        command = [sys.executable, "serve.py"] if self.script == "serve.py" else [str(streamlit), "run", self.script]
        self.proc = subprocess.Popen(
            [*command, "--server.headless", "true", "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none"],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the app exited early; see {self.log_path}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.read().decode().strip() == "ok":
                        return self
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the app did not answer on {self.url} within {timeout} s; see {self.log_path}")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # our own process group only
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._log.close()
        self.proc = None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@contextlib.contextmanager
def app_server(db_path: Path, log_path: Path, script: str = "serve.py") -> Iterator[AppServer]:
    server = AppServer(db_path, log_path, script)
    try:
        yield server.start()
    finally:
        server.stop()


@contextlib.contextmanager
def chromium() -> Iterator:
    """A headless Chromium (Debian's binary) under Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


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

def wait_ready(page, timeout: float = 30_000) -> None:
    """Wait until the app is connected, its script run has finished and the page has settled."""
    idle = """() => { const a = document.querySelector('[data-testid="stApp"]');
                      return a && a.dataset.testScriptState === 'notRunning'
                             && a.dataset.testConnectionState === 'CONNECTED'
                             && !document.querySelector('[data-testid="stSkeleton"]'); }"""
    page.wait_for_function(idle, timeout=timeout)
    # A rerun can start just after an interaction; the last deltas land just after the run ends.
    page.wait_for_timeout(400)
    page.wait_for_function(idle, timeout=timeout)


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
