"""Several colleagues open a shared link at the same moment, just after the server started: every one of
them sees the page drawn, with no error box, and the server logs no exception. (A fresh server used to
let one session's chart use a module another session's thread was still importing.)"""

from __future__ import annotations

import re

import browser_support as bs

pytestmark = bs.browser_test
SESSIONS = 6
# What an uncaught or caught exception leaves in the server's log (the pages log theirs with a traceback).
LOG_ERROR = re.compile(r"Traceback|Exception|Error:|partially initialized", re.IGNORECASE)


def test_six_sessions_opening_a_fresh_server_at_once_see_no_error(tmp_path):
    dataset = bs.make_demo_db(tmp_path / "app.duckdb", orders=3_000)
    with bs.chromium() as browser, bs.app_server(tmp_path / "app.duckdb", tmp_path / "server.log") as server:
        pages = [browser.new_context(viewport={"width": 1300, "height": 1400}).new_page() for _ in range(SESSIONS)]
        # Only the navigation is awaited here, so all six sessions' first runs overlap on the server.
        for page in pages:
            page.goto(f"{server.url}/?dataset={dataset}", wait_until="commit")
        seen = []
        for i, page in enumerate(pages):
            bs.wait_ready(page, timeout=120_000)
            page.wait_for_selector('[data-testid="stMetricValue"]', timeout=60_000)
            errors = page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]')
            seen.append({"errors": errors.all_inner_texts(), "charts": page.locator(".vega-embed").count(),
                         "metrics": bs.metrics(page)})
            bs.screenshot(page, f"concurrent-start-{i}")
        log = server.log_text()
    assert [s["errors"] for s in seen] == [[]] * SESSIONS
    assert not LOG_ERROR.search(log), log
    # Every session drew the whole Overview: its charts and the same headline numbers.
    assert all(s["charts"] >= 3 for s in seen), [s["charts"] for s in seen]
    assert all(s["metrics"] == seen[0]["metrics"] for s in seen) and "Cancellation rate" in seen[0]["metrics"]
