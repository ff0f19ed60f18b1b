"""From a figure to the orders behind it, in Chromium: an Overview tile's link, a Reasons bar and a Sellers
row each open the Orders page on a list whose count is the figure's, with its downloads; the page's URL,
opened in a fresh browser, shows the same list."""

from __future__ import annotations

import re
from datetime import timedelta

import browser_support as bs

pytestmark = bs.browser_test

TOTAL = re.compile(r"^[\d,]+ orders?$")


def _total(page) -> int:
    text = page.locator('[data-testid="stMarkdown"] strong').filter(has_text=TOTAL).first.inner_text()
    return int(text.split()[0].replace(",", ""))


def _follow(page, href_part: str) -> None:
    page.locator(f'[data-testid="stPageLink"] a[href*="{href_part}"]').first.click()
    page.wait_for_url(re.compile(r"/Orders\?"), timeout=20_000)
    bs.wait_ready(page)


def _check_list(browser, page, expected: int, name: str) -> None:
    assert _total(page) == expected, name
    assert page.locator('[data-testid="stDownloadButton"]').filter(has_text="CSV").count() >= 1
    assert page.locator('[data-testid="stDownloadButton"]').filter(has_text="Parquet").count() >= 1
    bs.screenshot(page, f"orders-from-{name}")
    fresh = browser.new_context(viewport={"width": 1400, "height": 1400}).new_page()
    try:
        fresh.goto(page.url)
        bs.wait_ready(fresh)
        assert _total(fresh) == expected, f"{name}, reopened"
        assert bs.query_of(fresh.url) == bs.query_of(page.url)
    finally:
        fresh.context.close()


def test_from_a_tile_a_bar_and_a_row_to_their_orders(tmp_path):
    from analytics import db, report

    path = tmp_path / "app.duckdb"
    dataset = bs.make_demo_db(path, orders=3_000)
    con = db.connect(path)
    try:
        requests = report.report(con, dataset)["cancellation_requests"]
        reasons = report.reasons(con, dataset).frame
        changed_mind = reasons.filter(reasons["reason"] == "changed_mind")["requests"][0]
        top = report.sellers(con, dataset).frame.row(0, named=True)
    finally:
        con.close()

    with bs.app_server(path, tmp_path / "app.log") as server, bs.chromium() as browser:
        page = browser.new_context(viewport={"width": 1400, "height": 2200}).new_page()
        page.goto(f"{server.url}/?dataset={dataset}")
        bs.wait_ready(page)
        assert bs.metrics(page)["Cancellation requests"] == f"{requests:,}"
        _follow(page, "g.of=requests")
        _check_list(browser, page, requests, "overview-tile")

        page.goto(f"{server.url}/Reasons?dataset={dataset}")
        bs.wait_ready(page)
        chart = page.locator('[data-testid="stVegaLiteChart"]').first
        chart.locator('path[role="graphics-symbol"][aria-label*="reason: changed_mind;"]').click()
        page.wait_for_function("() => location.href.includes('focus=changed_mind')", timeout=15_000)
        bs.wait_ready(page)
        _follow(page, "g.reason=changed_mind")
        _check_list(browser, page, changed_mind, "reasons-bar")

        page.goto(f"{server.url}/Sellers?dataset={dataset}")
        bs.wait_ready(page)
        grid = page.locator('[data-testid="stDataFrame"]').first
        box = grid.bounding_box()
        # The first row's selection box, at the left of the grid's first row (under the 35 px header).
        page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)
        page.locator(f'[data-testid="stPageLink"] a[href*="g.seller={top["seller_id"]}"]').wait_for(timeout=15_000)
        bs.wait_ready(page)
        _follow(page, f"g.seller={top['seller_id']}")
        _check_list(browser, page, top["orders"], "sellers-row")


def _click_mark(page, chart: int, aria: str) -> None:
    """Click the mark of the page's chart number `chart` whose accessible label holds `aria`, and wait for
    the Orders page."""
    marks = page.locator('[data-testid="stVegaLiteChart"]').nth(chart).locator(f'[role="graphics-symbol"][aria-label*="{aria}"]')
    marks.last.click()  # a line's points come after the line itself
    page.wait_for_url(re.compile(r"/Orders\?"), timeout=20_000)
    bs.wait_ready(page)


def test_a_click_on_a_chart_mark_lists_its_orders(tmp_path):
    from analytics import db, report

    path = tmp_path / "app.duckdb"
    dataset = bs.make_demo_db(path, orders=3_000)
    con = db.connect(path)
    try:
        outcomes = report.outcomes(con, dataset).frame
        accepted = outcomes.filter(outcomes["outcome"] == "accepted")["requests"][0]
        weeks = report.volume_over_time(con, dataset, period="week").frame
        week = weeks.row(1, named=True)  # the second week: a whole one
    finally:
        con.close()
    first, last = week["period"], week["period"] + timedelta(days=6)

    with bs.app_server(path, tmp_path / "app.log") as server, bs.chromium() as browser:
        page = browser.new_context(viewport={"width": 1400, "height": 2600}).new_page()
        page.goto(f"{server.url}/?dataset={dataset}")
        bs.wait_ready(page)
        # The Overview's charts: the life cycle, orders by status, request outcomes, the rate by week.
        _click_mark(page, 2, "label: Accepted by seller;")
        assert "g.of=requests" in page.url and "g.outcome=accepted" in page.url
        _check_list(browser, page, accepted, "outcomes-bar")

        page.goto(f"{server.url}/?dataset={dataset}")
        bs.wait_ready(page)
        _click_mark(page, 3, f"what: Cancellation rate; Week: {first:%b %d, %Y};")
        assert f"from={first}" in page.url and f"to={last}" in page.url and "g.of=cancelled" in page.url
        _check_list(browser, page, week["cancelled_orders"], "rate-week-point")
