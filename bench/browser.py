"""The dashboard served on a free loopback port with its own database, and Debian's Chromium under
Playwright: what the browser benchmarks drive (the browser tests use the same, through
tests/browser_support.py).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


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


TICK = os.sysconf("SC_CLK_TCK")


def cpu_ticks(stat: str, children: bool = False) -> int:
    """utime + stime (fields 14 and 15 of /proc/<pid>/stat), with children: + cutime + cstime (16, 17),
    the CPU of the process's children it has waited for."""
    fields = stat.rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15 if children else 13])


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process (a server's: AppServer.proc.pid) has used, all its threads."""
    return cpu_ticks(Path(f"/proc/{pid}/stat").read_text()) / TICK


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


# --- what the browser benchmarks share ---------------------------------------------------------------------

def add_arguments(parser, result: Path) -> None:
    """--sizes, --seed and --out, as every browser benchmark takes them."""
    from analytics.demo import DEMO_SEED

    parser.add_argument("--sizes", default="demo,1000000",
                        help="comma-separated order counts; 'demo' is the demo data set's size (default: demo,1000000)")
    parser.add_argument("--seed", type=int, default=DEMO_SEED)
    parser.add_argument("--out", type=Path, default=result, help=f"where the figures go (default {result})")


def sizes(text: str) -> list[int]:
    """The order counts of --sizes ('demo': the demo data set's)."""
    from analytics.demo import DEMO_ORDERS

    return [DEMO_ORDERS if s.strip() == "demo" else int(s) for s in text.split(",") if s.strip()]


def chromium_missing() -> bool:
    """Say so and return True where Chromium is not installed (a benchmark then measures nothing)."""
    if CHROMIUM.exists():
        return False
    print(f"Chromium is not installed at {CHROMIUM}: nothing measured (apt-get install chromium).")
    return True


# --- where a step's time goes -----------------------------------------------------------------------------

class Wire:
    """The page's messages with the server as Chromium's DevTools protocol reports them, to split a step's
    time: the server's answer (from the step's first message out to its last message in; Chromium takes
    them only as fast as the page handles them, so this span holds the browser's work too) and the
    browser's own work around it (the app's scripts and connecting, for a page opened; drawing after the
    last message). The protocol's clock is not the benchmark's, so only differences of its times are
    used, beside the step's total measured as any other."""

    def __init__(self, context, page):
        self.events: list[tuple[float, str]] = []   # (protocol time in s, "document" | "sent" | "received")
        self._cdp = context.new_cdp_session(page)
        self._cdp.on("Network.webSocketFrameSent", lambda e: self.events.append((e["timestamp"], "sent")))
        self._cdp.on("Network.webSocketFrameReceived", lambda e: self.events.append((e["timestamp"], "received")))
        self._cdp.on("Network.requestWillBeSent",
                      lambda e: self.events.append((e["timestamp"], "document")) if e.get("type") == "Document" else None)
        self._cdp.send("Network.enable")

    def mark(self) -> int:
        """Where a step starts in the events (call before its action)."""
        return len(self.events)

    def split(self, since: int, total: float, page=None) -> dict[str, float] | None:
        """The step's `total` seconds, split (None when it exchanged no message). A page opened (`page`
        given, its document requested since the mark): `scripts`, the app's scripts loaded and run
        (DOMContentLoaded); `connected`, its first message out; `server`, from there to the last message
        in; `after`, the browser's drawing after that. A step on an open page: `server`, and `browser`,
        the rest (handling the click, drawing after the last message)."""
        events = self.events[since:]
        sent = next((t for t, kind in events if kind == "sent"), None)
        received = [t for t, kind in events if kind == "received" and sent is not None and t >= sent]
        if sent is None or not received:
            return None
        server = max(received) - sent
        opened = next((t for t, kind in events if kind == "document"), None)
        if page is None or opened is None:
            return {"server": server, "browser": max(0.0, total - server)}
        loaded = page.evaluate("performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd") / 1000
        return {"scripts": loaded, "connected": sent - opened, "server": server,
                "after": max(0.0, total - (max(received) - opened))}


# --- reading what Streamlit drew ------------------------------------------------------------------------

# The app connected, its script run over and no element still a placeholder.
IDLE = """() => { const a = document.querySelector('[data-testid="stApp"]');
                  return a && a.dataset.testScriptState === 'notRunning'
                         && a.dataset.testConnectionState === 'CONNECTED'
                         && !document.querySelector('[data-testid="stSkeleton"]'); }"""
# How long a page must stay as it is for its time to count: the last deltas land just after a run ends,
# and a rerun can start just after an interaction.
SETTLE_MS = 100
POLL_MS = 20


def wait_ready(page, timeout: float = 30_000) -> None:
    """Wait until the app is connected, its script run has finished and the page has settled."""
    page.wait_for_function(IDLE, timeout=timeout)
    # A rerun can start just after an interaction; the last deltas land just after the run ends.
    page.wait_for_timeout(400)
    page.wait_for_function(IDLE, timeout=timeout)


def _settled_js(condition: str) -> str:
    return f"(arg) => !!(({condition}) && ({IDLE})())"


def _left(deadline: float) -> float:
    """Milliseconds left before a deadline (time.monotonic): a page that never stays settled times out."""
    return max(1.0, (deadline - time.monotonic()) * 1000)


def settled_at(page, condition: str, arg=None, timeout: float = 600_000) -> float:
    """The moment (time.perf_counter) from which `condition` (a JavaScript expression of `arg`) held with
    the run over, and still held SETTLE_MS later: what a step's time runs to. Not the moment of that
    second look, which would add SETTLE_MS to every figure."""
    js, deadline = _settled_js(condition), time.monotonic() + timeout / 1000
    while True:
        page.wait_for_function(js, arg=arg, timeout=_left(deadline), polling=POLL_MS)
        at = time.perf_counter()
        page.wait_for_timeout(SETTLE_MS)
        if page.evaluate(js, arg):
            return at


async def settled_at_async(page, condition: str, arg=None, timeout: float = 600_000) -> float:
    """settled_at for Playwright's asynchronous API."""
    js, deadline = _settled_js(condition), time.monotonic() + timeout / 1000
    while True:
        await page.wait_for_function(js, arg=arg, timeout=_left(deadline), polling=POLL_MS)
        at = time.perf_counter()
        await page.wait_for_timeout(SETTLE_MS)
        if await page.evaluate(js, arg):
            return at
