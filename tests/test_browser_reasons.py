"""Clicking a reason in a chart narrows the rest of the Reasons page to it (and the link says so);
another click moves the focus, Clear removes it."""

from __future__ import annotations

import browser_support as bs

pytestmark = bs.browser_test


def _click_reason(page, reason: str) -> None:
    chart = page.locator('[data-testid="stVegaLiteChart"]').first
    chart.locator(f'path[role="graphics-symbol"][aria-label*="reason: {reason};"]').click()
    page.wait_for_function(f"() => location.href.includes('focus={reason}')", timeout=15_000)
    bs.wait_ready(page)


def _headings(page) -> list[str]:
    return [h.strip() for h in page.locator("h3").all_inner_texts()]


def test_a_click_on_a_reason_filters_the_rest_of_the_page(tmp_path):
    dataset = bs.make_demo_db(tmp_path / "app.duckdb", orders=3_000)
    with bs.app_server(tmp_path / "app.duckdb", tmp_path / "app.log") as server, bs.chromium() as browser:
        page = browser.new_context(viewport={"width": 1400, "height": 2600}).new_page()
        page.goto(f"{server.url}/Reasons?dataset={dataset}")
        bs.wait_ready(page)
        assert "By stage" in _headings(page)
        _click_reason(page, "changed_mind")
        assert "By stage · Changed mind" in _headings(page)
        assert "How these requests end · Changed mind" in _headings(page)
        bs.screenshot(page, "reasons-focus-changed_mind")
        _click_reason(page, "wrong_item")
        assert "By payment method · Wrong item" in _headings(page)
        page.get_by_role("button", name="Clear", exact=True).click()
        page.wait_for_function("() => !location.href.includes('focus=')")
        bs.wait_ready(page)
        assert "By stage" in _headings(page)
        # The focus travels in the link.
        fresh = browser.new_context(viewport={"width": 1400, "height": 2600}).new_page()
        fresh.goto(f"{server.url}/Reasons?dataset={dataset}&focus=shipping_delay")
        bs.wait_ready(fresh)
        assert "By stage · Shipping delay" in _headings(fresh)
