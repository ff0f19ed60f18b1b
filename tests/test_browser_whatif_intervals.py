"""The What-if page's intervals and extrapolation as a new user meets them, in Chromium: both intervals in
words, a window longer than the data's marked as extrapolated with what it assumes, and the never-answer
lever carried by a copied link into a fresh browser."""

from __future__ import annotations

import browser_support as bs

pytestmark = bs.browser_test


def _text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def test_intervals_in_words_extrapolation_marked_and_the_lever_in_the_link(tmp_path):
    dataset = bs.make_demo_db(tmp_path / "app.duckdb", orders=3_000)
    with bs.app_server(tmp_path / "app.duckdb", tmp_path / "app.log") as server, bs.chromium() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 2400})
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
        page = context.new_page()
        page.goto(f"{server.url}/What-if?dataset={dataset}")
        # The first run loads and calibrates the data set: on a busy machine that takes a while.
        bs.wait_ready(page, timeout=120_000)
        page.wait_for_selector('[data-testid="stMetricValue"]')

        # Both intervals, in words, the next period first; nothing extrapolated at the baseline.
        table = page.locator('[data-testid="stTable"]').filter(has_text="Change, next period like this one")
        headers = [h.strip() for h in table.locator("th").all_inner_texts() if h.strip()]
        assert headers[:3] == ["Figure", "Change, next period like this one", "Change, these same orders"]
        assert "Extrapolated" not in _text(page)

        # A one-week window: longer than any answer the data shows.
        window = page.get_by_role("spinbutton", name="Seller's response window (hours)")
        window.fill("168")
        window.press("Enter")
        page.wait_for_function("() => location.href.includes('seller_response_hours=168')")
        bs.wait_ready(page)
        warning = page.locator('[data-testid="stAlertContentWarning"]').filter(has_text="Extrapolated")
        warning.wait_for()
        assert "72 hours" in warning.inner_text() and "0% of sellers are assumed never to answer" in warning.inner_text()
        assert all(d.endswith("extrapolated") for d in
                   page.locator('[data-testid="stMetricDeltaDescription"]').all_inner_texts()) or \
            "vs baseline · extrapolated" in _text(page)
        rows = table.locator("tbody tr").all_inner_texts()
        assert rows[0].startswith("Cancelled orders") and " – " in rows[0]

        # The never-answer lever: a quarter of sellers never answer.
        thumb = page.locator('[data-testid="stSlider"]').filter(has_text="Sellers who never answer").get_by_role("slider")
        thumb.focus()
        for _ in range(25):
            thumb.press("ArrowRight")
        page.wait_for_function("() => location.href.includes('never_answer_share=0.25')", timeout=30_000)
        bs.wait_ready(page)
        assert "25% of sellers are assumed never to answer" in warning.inner_text()
        shown = bs.metrics(page)
        bs.screenshot(page, "whatif-extrapolated-never-answer")

        # The copied link opens the same view, lever included, in a fresh browser.
        page.get_by_test_id("copy-link-button").click()
        page.get_by_text("Link copied").wait_for()
        link = page.evaluate("navigator.clipboard.readText()")
        assert "never_answer_share=0.25" in link and "seller_response_hours=168" in link
        fresh = browser.new_context(viewport={"width": 1400, "height": 2400}).new_page()
        fresh.goto(link)
        bs.wait_ready(fresh)
        fresh.wait_for_selector('[data-testid="stMetricValue"]')
        lever = fresh.locator('[data-testid="stSlider"]').filter(has_text="Sellers who never answer")
        assert lever.get_by_test_id("stSliderThumbValue").inner_text() == "25%"   # a share, in percent
        assert bs.metrics(fresh) == shown
        assert "25% of sellers are assumed never to answer" in _text(fresh)
        bs.screenshot(fresh, "whatif-extrapolated-opened-from-link")
        assert "Traceback" not in server.log_text()
