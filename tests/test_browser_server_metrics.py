"""An operator reads what the dashboard's caches hold from the server's metrics (GET /_stcore/metrics):
each of ours by name, in bytes, beside Streamlit's own."""

from __future__ import annotations

import re
import time
import urllib.request

import browser_support as bs

pytestmark = bs.browser_test
OURS = re.compile(r'^cache_memory_bytes\{cache_type="cancellation_lab",cache="([^"]+)"\} (\d+)$', re.MULTILINE)


def _ours(url: str) -> dict[str, int]:
    with urllib.request.urlopen(f"{url}/_stcore/metrics", timeout=30) as response:
        text = response.read().decode("utf-8")
    return {name: int(size) for name, size in OURS.findall(text)}


def test_the_metrics_list_each_cache_of_the_dashboard_with_the_bytes_it_holds(tmp_path):
    dataset = bs.make_demo_db(tmp_path / "app.duckdb", orders=3_000)
    with bs.chromium() as browser, bs.app_server(tmp_path / "app.duckdb", tmp_path / "server.log") as server:
        page = browser.new_page(viewport={"width": 1300, "height": 1400})
        page.goto(f"{server.url}/?dataset={dataset}")
        bs.wait_ready(page, timeout=120_000)
        page.wait_for_selector('[data-testid="stMetricValue"]', timeout=60_000)
        after_overview = _ours(server.url)
        page.goto(f"{server.url}/What-if?dataset={dataset}")
        bs.wait_ready(page, timeout=120_000)
        page.wait_for_selector('[data-testid="stMetricValue"]', timeout=120_000)
        # The baseline comes from the data set's store; a new policy is replayed on the engine, loaded now.
        window = page.get_by_role("spinbutton", name="Seller's response window (hours)")
        window.fill("48")
        window.press("Enter")
        page.wait_for_function("() => new URL(location.href).searchParams.get('seller_response_hours') !== null",
                               timeout=60_000)
        bs.wait_ready(page, timeout=120_000)
        # The server computes these figures at most every 5 seconds (Streamlit's own limit).
        deadline = time.monotonic() + 30
        while (after_whatif := _ours(server.url))["what-if engine"] == 0 and time.monotonic() < deadline:
            time.sleep(1)
    assert set(after_overview) == {"what-if engine", "orders kept in memory", "results handed out again",
                                   "chart specs"}
    # The Overview kept the data set's orders, its tables and its charts' specs; no what-if engine yet.
    assert after_overview["orders kept in memory"] > 3_000 * 8
    assert after_overview["results handed out again"] > 0 and after_overview["chart specs"] > 0
    assert after_overview["what-if engine"] == 0
    assert after_whatif["what-if engine"] > 3_000 * 8, after_whatif
    assert after_whatif["results handed out again"] >= after_overview["results handed out again"]
