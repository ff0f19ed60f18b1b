"""The comparison in Chromium: changing "Compared with" in the sidebar moves every Overview tile's change
and the over-time charts' compared line (its dates in the legend), on the Overview and on the Reasons
page, and the link carries it."""

from __future__ import annotations

import re

import browser_support as bs

pytestmark = bs.browser_test


def _deltas(page) -> dict[str, str]:
    """Each tile's change as shown ('' when none)."""
    out = {}
    for m in page.query_selector_all('[data-testid="stMetric"]'):
        label = m.query_selector('[data-testid="stMetricLabel"]')
        delta = m.query_selector('[data-testid="stMetricDelta"]')
        if label:
            out[label.inner_text().strip()] = delta.inner_text().strip() if delta else ""
    return out


def _choose(page, option: str) -> None:
    box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(
        has=page.get_by_text("Compared with", exact=True))
    box.click()
    page.get_by_role("option", name=option, exact=True).click()
    bs.wait_ready(page)


def _chart(page, text: str):
    return page.locator('[data-testid="stVegaLiteChart"]').filter(has_text=text)


def test_a_comparison_change_moves_every_tile_and_chart(tmp_path):
    from analytics import db, headline, report
    from analytics.compare import Comparison, window
    from analytics.filters import Filters

    path = tmp_path / "app.duckdb"
    dataset = bs.make_demo_db(path, orders=3_000)
    con = db.connect(path)
    try:
        first, last = report.date_bounds(con, dataset)
        filters = Filters(start=first + (last - first) * 2 / 3)  # its last third
        previous = window(Comparison("previous"), filters, (first, last))
        custom = window(Comparison("custom", first, last), filters, (first, last))
        heads, _ = headline.compute(con, dataset, filters, (first, last), Comparison("previous"))
    finally:
        con.close()
    assert previous.label != custom.label
    tiles = [h.label for h in heads if not h.unavailable]

    with bs.app_server(path, tmp_path / "app.log") as server, bs.chromium() as browser:
        page = browser.new_context(viewport={"width": 1440, "height": 2400}).new_page()
        page.goto(f"{server.url}/?dataset={dataset}&from={filters.start}")
        bs.wait_ready(page)
        # The previous period (the default): every tile has a change, the chart draws the previous days.
        by_previous = _deltas(page)
        assert all(by_previous[t] for t in tiles), by_previous
        assert _chart(page, f"Compared: {previous.label}").count() == 1
        bs.screenshot(page, "compare-previous")

        # A custom range starts at the previous period's days: nothing moves until a range is chosen.
        _choose(page, "Custom range")
        assert _deltas(page) == by_previous
        assert "compare=" in bs.query_of(page.url)
        # A custom range chosen (the whole data, compared on as many days from its start, its first third
        # against the previous period's middle third), as a link carries it: every change moves.
        page.goto(f"{server.url}/?dataset={dataset}&from={filters.start}&compare={first}..{last}")
        bs.wait_ready(page)
        _chart(page, f"Compared: {custom.label}").wait_for(timeout=20_000)
        by_custom = _deltas(page)
        assert all(by_custom[t] for t in tiles), by_custom
        assert sum(by_custom[t] != by_previous[t] for t in tiles) >= len(tiles) - 1, (by_previous, by_custom)
        assert _chart(page, f"Compared: {custom.label}").count() == 1
        assert _chart(page, f"Compared: {previous.label}").count() == 0
        assert "compare=" in bs.query_of(page.url)

        # No comparison: no change on any tile, no compared line.
        _choose(page, "No comparison")
        assert not any(_deltas(page)[t] for t in tiles)
        assert _chart(page, "Compared:").count() == 0
        assert "compare=none" in bs.query_of(page.url)

        # Back to the previous period, then to the Reasons page by the sidebar: its chart over time (in its
        # tab) follows.
        _choose(page, "Previous period")
        assert _deltas(page) == by_previous
        page.locator('[data-testid="stSidebar"] [data-testid="stPageLink"] a[href*="Reasons"]').click()
        page.wait_for_url(re.compile(r"/Reasons\?"), timeout=20_000)
        bs.wait_ready(page)
        page.get_by_role("tab", name="Over time").click()
        page.wait_for_function("() => location.href.includes('breakdown=over_time')", timeout=15_000)
        bs.wait_ready(page)
        # Its requests are drawn by their own day, its ranges dated by order: its legend says so.
        assert _chart(page, f"Compared: orders placed {previous.label}").count() == 1
        _choose(page, "No comparison")
        assert _chart(page, "Compared:").count() == 0
        bs.screenshot(page, "compare-reasons-none")


def test_the_refunds_and_sellers_tiles_and_a_sellers_weeks_follow_the_comparison(tmp_path):
    """The Refunds and Sellers pages' tiles have a change against the days compared, and a seller's weekly
    chart draws the compared weeks; with no comparison, neither."""
    from analytics import db, headline, report
    from analytics.compare import Comparison
    from analytics.filters import Filters

    path = tmp_path / "app.duckdb"
    dataset = bs.make_demo_db(path, orders=3_000)
    con = db.connect(path)
    try:
        first, last = report.date_bounds(con, dataset)
        filters = Filters(start=first + (last - first) / 2)  # its second half, compared with its first
        seller = report.sellers(con, dataset, filters).frame["seller_id"][0]
        expected = {}
        for tiles in (("refunds", "refund_amount", "p50_refund_business_days_from_start"),
                      ("cancelled_gmv", "cancelled_gmv_share", "return_path_orders")):
            heads, _ = headline.compute(con, dataset, filters, (first, last), Comparison("previous"), tiles=tiles)
            expected.update({h.label: h for h in heads if not h.unavailable})
    finally:
        con.close()
    assert all(h.change is not None for h in expected.values()), expected

    with bs.app_server(path, tmp_path / "app.log") as server, bs.chromium() as browser:
        page = browser.new_context(viewport={"width": 1280, "height": 2000}).new_page()
        for name in ("Refunds", "Sellers"):
            page.goto(f"{server.url}/{name}?dataset={dataset}&from={filters.start}&shown={seller}")
            bs.wait_ready(page)
            shown = _deltas(page)
            tiles = [label for label in expected if label in shown]
            assert len(tiles) == 3, (name, shown)
            assert all(shown[t] and shown[t] != "±0" for t in tiles), shown
            if name == "Sellers":
                assert _chart(page, "Compared:").count() == 1   # the seller's weeks, with the compared weeks
            bs.screenshot(page, f"compare-{name.lower()}")
            _choose(page, "No comparison")
            assert not any(_deltas(page)[t] for t in tiles)
            assert _chart(page, "Compared:").count() == 0
            _choose(page, "Previous period")
