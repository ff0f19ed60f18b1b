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


def _downloaded(page, label: str, folder):
    """Click the list's download button `label` and return the path of the file the browser saved."""
    with page.expect_download(timeout=30_000) as started:
        page.locator('[data-testid="stDownloadButton"]').filter(has_text=label).first.click()
    path = folder / started.value.suggested_filename
    started.value.save_as(path)
    return path


def _check_list(browser, page, expected: int, name: str, folder=None) -> None:
    """The list's count is the figure's; its downloads are offered (and, given a folder, saved and read: each
    holds every order listed, one row an order, not only the page shown); its link reopens it."""
    assert _total(page) == expected, name
    assert page.locator('[data-testid="stDownloadButton"]').filter(has_text="CSV").count() >= 1
    assert page.locator('[data-testid="stDownloadButton"]').filter(has_text="Parquet").count() >= 1
    if folder is not None:
        import csv

        import polars as pl

        with _downloaded(page, "CSV", folder).open(newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
        assert len(rows) == expected and len({r["order_id"] for r in rows}) == expected, name
        parquet = pl.read_parquet(_downloaded(page, "Parquet", folder))
        assert parquet.height == expected and parquet["order_id"].n_unique() == expected, name
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
        # More orders than a page of the list shows: the downloads hold them all.
        _check_list(browser, page, requests, "overview-tile", folder=tmp_path)

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
        later = weeks.row(weeks.height // 2, named=True)  # a week in the middle
        seller = report.sellers(con, dataset).frame.row(0, named=True)["seller_id"]
        seller_weeks = report.seller_trend(con, dataset, seller=seller, period="week").frame
        seller_week = seller_weeks.filter(seller_weeks["cancelled_orders"] > 0).row(0, named=True)
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

        # Anywhere else in a week's column (here low in the orders' area, away from the rate's line): that
        # week's orders. An area is one mark: a click on it listed the first week's orders, whatever the week.
        page.goto(f"{server.url}/?dataset={dataset}")
        bs.wait_ready(page)
        column = page.locator('[data-testid="stVegaLiteChart"]').nth(3).locator(
            f'[role="graphics-symbol"][aria-label*="column_start"][aria-label*="Week: {later["period"]:%b %d, %Y};"]')
        box = column.bounding_box()
        column.click(position={"x": box["width"] / 2, "y": box["height"] - 4})
        page.wait_for_url(re.compile(r"/Orders\?"), timeout=20_000)
        bs.wait_ready(page)
        assert f"from={later['period']}" in page.url and f"to={later['period'] + timedelta(days=6)}" in page.url
        assert "g.of=" not in page.url
        _check_list(browser, page, later["orders"], "orders-week-column")

        # A seller's own view: a week on its rate line lists the seller's cancelled orders of that week.
        page.goto(f"{server.url}/Sellers?dataset={dataset}&shown={seller}")
        bs.wait_ready(page)
        _click_mark(page, 0, f"what: Cancellation rate; Week: {seller_week['period']:%b %d, %Y};")
        assert re.search(rf"[?&]seller={re.escape(seller)}(&|$)", page.url) and "g.of=cancelled" in page.url
        _check_list(browser, page, seller_week["cancelled_orders"], "seller-week-point")


def _follow_part(page) -> int:
    """Wait for the link to the orders of the part clicked, read its count, and follow it."""
    link = page.locator('[data-testid="stPageLink"] a').filter(has_text="of the part clicked").first
    link.wait_for(timeout=20_000)
    n = int(re.search(r"See the ([\d,]+) orders? of the part clicked", link.inner_text()).group(1).replace(",", ""))
    link.click()
    page.wait_for_url(re.compile(r"/Orders\?"), timeout=20_000)
    bs.wait_ready(page)
    return n


def test_a_click_on_a_reason_part_a_compared_point_or_a_refund_time_lists_its_orders(tmp_path):
    """The Reasons charts by stage and over time (its compared line too): a click narrows the page to the
    reason and leaves a link to the part's orders; the Overview's compared line, the Refunds page's latency
    curves and its share over the threshold open their orders straight away. Each count is the figure's."""
    from datetime import date

    import polars as pl

    from analytics import db, report
    from analytics.filters import Filters

    path = tmp_path / "app.duckdb"
    dataset = bs.make_demo_db(path, orders=3_000)
    selection = Filters(start=date(2026, 2, 2), end=date(2026, 3, 1))
    compared = Filters(start=date(2026, 1, 5), end=date(2026, 2, 1))  # the previous 28 days
    con = db.connect(path)
    try:
        by_stage = report.reasons(con, dataset, selection, by="stage").frame
        stage_wrong = by_stage.filter((pl.col("request_stage") == "awaiting_shipment")
                                      & (pl.col("reason") == "wrong_item"))["requests"][0]
        weeks = report.reasons(con, dataset, compared, by="period", period="week").frame
        week_wrong = weeks.filter((pl.col("period") == date(2026, 1, 12)) & (pl.col("reason") == "wrong_item"))
        days = report.volume_over_time(con, dataset, compared, period="day").frame
        day_cancelled = days.filter(pl.col("period") == date(2026, 1, 12))["cancelled_orders"][0]
        # The selection's own day with the most cancelled orders (a compared day is drawn on each day).
        own_day = report.volume_over_time(con, dataset, selection, period="day").frame.sort(
            "cancelled_orders", "period", descending=[True, False]).row(0, named=True)
        own_cancelled = own_day["cancelled_orders"]
        latency = report.refund_latency(con, dataset, by="payment_method").frame
        card_refunds = latency.filter(pl.col("payment_method") == "card")["refunds"][0]
        over = report.refund_share_over(con, dataset, threshold_days=3, by="payment_method").frame
        wallet_over = over.filter(pl.col("payment_method") == "wallet")["over_threshold"][0]
    finally:
        con.close()
    assert stage_wrong and week_wrong["requests"][0] and day_cancelled and own_cancelled and card_refunds and wallet_over
    query = f"dataset={dataset}&from=2026-02-02&to=2026-03-01"

    with bs.app_server(path, tmp_path / "app.log") as server, bs.chromium() as browser:
        page = browser.new_context(viewport={"width": 1400, "height": 2600}).new_page()
        # Reasons: the charts by stage and over time (each its tab's: the page's third chart, after requests
        # by reason and cancelled GMV).
        page.goto(f"{server.url}/Reasons?{query}")
        bs.wait_ready(page, timeout=90_000)
        chart = page.locator('[data-testid="stVegaLiteChart"]').nth(2)
        chart.locator('[role="graphics-symbol"][aria-label*="Stage: Awaiting shipment; Reason: wrong_item;"]').first.click()
        page.wait_for_function("() => location.href.includes('focus=wrong_item')", timeout=15_000)
        bs.wait_ready(page, timeout=90_000)
        bs.screenshot(page, "reasons-part-clicked")
        assert _follow_part(page) == stage_wrong
        assert "g.request_stage=awaiting_shipment" in page.url and "g.reason=wrong_item" in page.url
        _check_list(browser, page, stage_wrong, "reasons-stage-part")

        page.goto(f"{server.url}/Reasons?{query}")
        bs.wait_ready(page, timeout=90_000)
        page.get_by_role("tab", name="Over time").click()
        page.wait_for_function("() => location.href.includes('breakdown=over_time')", timeout=15_000)
        bs.wait_ready(page, timeout=90_000)
        chart = page.locator('[data-testid="stVegaLiteChart"]').nth(2)
        chart.locator('[role="graphics-symbol"][aria-label*="Reason: wrong_item; range: Compared"]'
                      '[aria-label*="Compared week: Jan 12, 2026;"]').last.click()
        page.wait_for_function("() => location.href.includes('focus=wrong_item')", timeout=15_000)
        bs.wait_ready(page, timeout=90_000)
        assert _follow_part(page) == week_wrong["requests"][0]
        # The compared days' filters (from the data's first day, 2026-01-05, so no `from`) and the request week.
        assert "to=2026-02-01" in page.url and "g.requested_from=2026-01-12" in page.url
        _check_list(browser, page, week_wrong["requests"][0], "reasons-compared-week")

        # The Overview's rate by day with the compared days' rate dashed: a compared day's cancelled orders.
        page.goto(f"{server.url}/?{query}")
        bs.wait_ready(page, timeout=90_000)
        _click_mark(page, 3, "what: Cancellation rate; range: Compared: 2026-01-05 to 2026-02-01; Compared day: Jan 12, 2026;")
        assert "from=2026-01-12" in page.url and "to=2026-01-12" in page.url and "g.of=cancelled" in page.url
        _check_list(browser, page, day_cancelled, "compared-day-point")
        # This selection's rate point on that same day: its own cancelled orders (the compared lines are drawn
        # under the rate, so where a compared point meets it the click is still this selection's).
        page.goto(f"{server.url}/?{query}")
        bs.wait_ready(page, timeout=90_000)
        _click_mark(page, 3, f"what: Cancellation rate; Day: {own_day['period']:%b %d, %Y};")
        assert f"from={own_day['period']}" in page.url and f"to={own_day['period']}" in page.url
        assert "g.of=cancelled" in page.url
        _check_list(browser, page, own_cancelled, "own-day-point-compared-on")

        # Refunds: a payment method's median mark on its curve; a bar of the share over 3 business days.
        page.goto(f"{server.url}/Refunds?dataset={dataset}&threshold=3")
        bs.wait_ready(page, timeout=90_000)
        _click_mark(page, 0, "Payment method: card; Marked: median;")
        assert "g.of=refund_times" in page.url and "g.payment_method=card" in page.url
        _check_list(browser, page, card_refunds, "latency-curve")

        page.goto(f"{server.url}/Refunds?dataset={dataset}&threshold=3")
        bs.wait_ready(page, timeout=90_000)
        _click_mark(page, 1, "Payment method: wallet;")
        assert "g.slower_than=3" in page.url and "g.payment_method=wallet" in page.url
        _check_list(browser, page, wallet_over, "share-over-threshold")
