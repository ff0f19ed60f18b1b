"""A shared link opened on a freshly started server (its very first request: a page other than the first,
with query parameters) shows the same view, navigation and numbers as on a server that has already
served the app. Pages come from legacy discovery, each running the shared set-up itself (see
ui/setup.py); this test keeps that design honest."""

from __future__ import annotations

import browser_support as bs

from ui.setup import PAGES

pytestmark = bs.browser_test


def _view(page) -> dict:
    """What a person sees: title, navigation, chosen data set, filters, numbers, captions, and the URL."""
    bs.wait_ready(page)
    page.wait_for_selector('[data-testid="stMetricValue"]')
    page.wait_for_selector('[data-testid="stSidebar"] [data-testid="stPageLink"]')
    sidebar = page.locator('[data-testid="stSidebar"]')
    return {
        "title": page.locator("h1").first.inner_text(),
        "navigation": bs.sidebar_links(page),
        "data set": bs.picker_value(page),
        "filters": sidebar.locator('[data-testid="stMultiSelect"]').all_inner_texts(),
        "metrics": bs.metrics(page),
        "captions": page.locator('[data-testid="stCaptionContainer"]').all_inner_texts(),
        "query": bs.query_of(page.url),
        "warnings": page.locator('[data-testid="stAlertContentWarning"]').all_inner_texts(),
    }


def test_first_request_deep_link_matches_a_warm_server(tmp_path):
    dataset = bs.make_demo_db(tmp_path / "app.duckdb", orders=3_000)
    link = f"/Sellers?dataset={dataset}&payment=card&sort=orders&q=S000"
    with bs.chromium() as browser:
        with bs.app_server(tmp_path / "app.duckdb", tmp_path / "cold.log") as cold:
            page = browser.new_context(viewport={"width": 1300, "height": 1600}).new_page()
            page.goto(cold.url + link)  # nothing has been served before this
            first = _view(page)
            bs.screenshot(page, "deeplink-fresh-server")
        with bs.app_server(tmp_path / "app.duckdb", tmp_path / "warm.log") as warm:
            home = browser.new_context().new_page()
            home.goto(warm.url + "/")
            bs.wait_ready(home)
            home.wait_for_selector('[data-testid="stMetricValue"]')
            page = browser.new_context(viewport={"width": 1300, "height": 1600}).new_page()
            page.goto(warm.url + link)
            second = _view(page)
            bs.screenshot(page, "deeplink-warm-server")
    assert first == second
    assert first["title"] == "Sellers"
    assert first["navigation"] == [p.label for p in PAGES if (bs.ROOT / p.path).exists()]
    assert first["warnings"] == []
    assert sorted(first["query"].split("&")) == sorted(link.split("?", 1)[1].split("&"))
    assert "Card" in " ".join(first["filters"])   # the method in words
    assert first["data set"].startswith("Demo marketplace")
    assert set(first["metrics"]) == {"Cancelled GMV", "Share of GMV cancelled", "Orders sent the return way"}


def test_copy_link_right_after_a_change_copies_the_view_on_screen(tmp_path):
    """A filter picked and Copy link clicked at once: the link is of the new view (the run the pick started
    ends before the address is read), not of the one before."""
    dataset = bs.make_demo_db(tmp_path / "app.duckdb", orders=3_000)
    with bs.chromium() as browser, bs.app_server(tmp_path / "app.duckdb", tmp_path / "copy.log") as server:
        context = browser.new_context(viewport={"width": 1300, "height": 1200})
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
        page = context.new_page()
        page.goto(f"{server.url}/?dataset={dataset}")
        bs.wait_ready(page)
        page.wait_for_selector('[data-testid="stMetricValue"]')
        page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').first.click()
        page.get_by_role("option").first.wait_for()
        page.keyboard.press("Enter")      # the first payment method: a run starts
        # Clicked at once, with none of the waits of a pointer's click: that run goes on.
        page.get_by_test_id("copy-link-button").dispatch_event("click")
        page.get_by_text("Link copied").wait_for()
        link = page.evaluate("navigator.clipboard.readText()")
        bs.wait_ready(page)
        assert "payment=" in page.url
        assert link == page.url
