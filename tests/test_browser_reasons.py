"""Clicking a reason in a chart narrows the rest of the Reasons page to it (and the link says so);
another click moves the focus, Clear removes it. The breakdowns are tabs: the open one is in the link."""

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


def _open_tab(page, name: str, value: str) -> None:
    """Open a breakdown's tab; the link names it (the first, the default, by no `breakdown` at all)."""
    page.get_by_role("tab", name=name).click()
    named = f"location.href.includes('breakdown={value}')" if value != "stage" else "!location.href.includes('breakdown=')"
    page.wait_for_function(f"() => {named}", timeout=15_000)
    bs.wait_ready(page)


def _charts(page) -> int:
    return page.locator('[data-testid="stVegaLiteChart"]').count()


def test_a_click_on_a_reason_filters_the_rest_of_the_page(tmp_path):
    dataset = bs.make_demo_db(tmp_path / "app.duckdb", orders=3_000)
    with bs.app_server(tmp_path / "app.duckdb", tmp_path / "app.log") as server, bs.chromium() as browser:
        page = browser.new_context(viewport={"width": 1400, "height": 2600}).new_page()
        page.goto(f"{server.url}/Reasons?dataset={dataset}")
        bs.wait_ready(page)
        # Two charts and the open tab's: by stage, the first.
        assert "Reasons by stage" in _headings(page) and _charts(page) == 3
        _click_reason(page, "changed_mind")
        assert "Reasons by stage · Changed mind" in _headings(page)
        _open_tab(page, "How requests end", "outcomes")
        assert "How these requests end · Changed mind" in _headings(page)
        assert "Reasons by stage · Changed mind" not in _headings(page)   # a closed tab draws nothing
        bs.screenshot(page, "reasons-focus-changed_mind")
        _open_tab(page, "By payment method", "payment_method")
        _click_reason(page, "wrong_item")
        assert "Reasons by payment method · Wrong item" in _headings(page)
        page.get_by_role("button", name="Clear", exact=True).click()
        page.wait_for_function("() => !location.href.includes('focus=')")
        bs.wait_ready(page)
        assert "Reasons by payment method" in _headings(page)
        # The focus and the open tab travel in the link; the period chosen in a tab is kept while another is open.
        _open_tab(page, "Over time", "over_time")
        page.locator('[data-testid="stMain"] [data-testid="stButtonGroup"] button', has_text="month").click()
        page.wait_for_function("() => location.href.includes('period=month')", timeout=15_000)
        bs.wait_ready(page)
        _open_tab(page, "By stage", "stage")
        assert "period=month" in page.url
        fresh = browser.new_context(viewport={"width": 1400, "height": 2600}).new_page()
        fresh.goto(f"{server.url}/Reasons?dataset={dataset}&focus=shipping_delay&breakdown=over_time&period=month")
        bs.wait_ready(fresh)
        assert "Requests by reason over time · Shipping delay" in _headings(fresh)
        assert fresh.get_by_role("tab", name="Over time").get_attribute("aria-selected") == "true"
