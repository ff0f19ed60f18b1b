"""`python serve.py` (what `make run` starts) asks no outside service anything: Streamlit alone looks up
the machine's public address at checkip.amazonaws.com when no address is set."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

from bench.browser import ROOT, free_port


def test_serve_starts_without_looking_up_its_public_address(tmp_path):
    from tests.browser_support import make_demo_db

    make_demo_db(tmp_path / "app.duckdb", orders=200)
    port = free_port()
    log = tmp_path / "serve.log"
    env = {**os.environ, "CANCELLATION_LAB_DB": str(tmp_path / "app.duckdb"), "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as out:
        # No --server.address: the case in which Streamlit looks the address up (it binds every interface).
        proc = subprocess.Popen([sys.executable, "serve.py", "--server.port", str(port), "--server.headless", "true",
                                 "--server.fileWatcherType", "none"], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                    if r.read().decode().strip() == "ok":
                        break
            except OSError:
                time.sleep(0.3)
        time.sleep(1.5)     # the banner is printed as the server starts listening
        text = log.read_text(errors="replace")
        assert "Local URL" in text, text
        # Without the dashboard's guard: "Did not auto detect external IP." (no outside access here), or an
        # External URL where there is.
        assert "external IP" not in text and "External URL" not in text, text
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
