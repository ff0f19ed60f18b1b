"""The policy frontier as a new user meets it, in Chromium: two levers and two figures chosen on the demo,
the frontier drawn, a point clicked, its policy opened as the scenario with the same figures, the link
copied and opened fresh, with the same frontier drawn."""

from __future__ import annotations

import re

import browser_support as bs

pytestmark = bs.browser_test

POINT = "Seller's response window = 24 hours, When the window runs out = let the request lapse"


def _number(text: str) -> float:
    return float(re.sub(r"[^0-9.\-]", "", text))


def test_a_frontier_point_opens_as_the_scenario_and_its_link(tmp_path):
    dataset = bs.make_demo_db(tmp_path / "app.duckdb", orders=3_000)
    with bs.app_server(tmp_path / "app.duckdb", tmp_path / "app.log") as server, bs.chromium() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 2600})
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
        page = context.new_page()
        page.goto(f"{server.url}/What-if?dataset={dataset}")
        bs.wait_ready(page, timeout=120_000)
        page.wait_for_selector('[data-testid="stMetricValue"]')

        # Two levers (the response window with three values, the timeout action) and two figures.
        # The frontier's tab: the tabs under the figures draw only the open one.
        page.get_by_role("tab", name="Policy frontier").click()
        bs.wait_ready(page)
        values = page.get_by_role("textbox", name=re.compile("^Seller's response window: "))
        values.fill("24, 72, 168")
        values.press("Enter")
        bs.wait_ready(page)
        for label, figure in (("Weigh", "Buyer's wait, 90th percentile"), ("against", "Cancelled GMV")):
            box = page.locator('[data-testid="stSelectbox"]').filter(has=page.get_by_text(label, exact=True))
            box.click()
            page.get_by_role("option", name=figure, exact=True).click()
            bs.wait_ready(page)
        page.get_by_role("button", name=re.compile(r"Draw the frontier \(6 policies\)")).click()
        page.get_by_text("policies on the frontier").wait_for(timeout=60_000)
        bs.wait_ready(page)
        on_frontier = page.get_by_text(re.compile(r"\d+ of 6 policies on the frontier")).inner_text()

        # The point, named by its hover, with its two figures; a click opens it.
        chart = page.locator('[data-testid="stVegaLiteChart"]').filter(has_text="Cancelled GMV")
        point = chart.locator(f'path[role="graphics-symbol"][aria-label*="{POINT}"]').first
        label = point.get_attribute("aria-label")
        wait = _number(re.search(r"Buyer's wait, 90th percentile \(business days\): ([^;]+)", label)[1])
        gmv = _number(re.search(r"Cancelled GMV \(USD\): ([^;]+)", label)[1])   # the data set's currency
        point.click()
        page.wait_for_function("() => location.href.includes('seller_response_hours=24') "
                               "&& location.href.includes('timeout_action=lapse')", timeout=30_000)
        bs.wait_ready(page)
        assert page.get_by_role("spinbutton", name="Seller's response window (hours)").input_value() == "24.0"
        shown = bs.metrics(page)
        # The tile writes an amount from a thousand up without cents (its help has it exactly).
        assert abs(_number(shown["Cancelled GMV"]) - gmv) <= (0.5 if gmv >= 1000 else 0.01)
        p90 = next(v for k, v in shown.items() if "90th" in k)
        assert abs(_number(p90) - wait) < 0.06
        bs.screenshot(page, "whatif-frontier-point-opened")

        # The copied link opens the same scenario in a fresh browser.
        page.get_by_test_id("copy-link-button").click()
        page.get_by_text("Link copied").wait_for()
        link = page.evaluate("navigator.clipboard.readText()")
        assert "seller_response_hours=24" in link and "timeout_action=lapse" in link
        # The frontier's settings ride along: the levers' values, the figures weighed, and that it is drawn.
        assert "frontier_values_seller_response_hours=24%2C+72%2C+168" in link and "frontier=true" in link
        assert "frontier_b=cancelled_gmv" in link or "frontier_b" not in link
        fresh = browser.new_context(viewport={"width": 1400, "height": 2600}).new_page()
        fresh.goto(link)
        bs.wait_ready(fresh, timeout=120_000)
        fresh.wait_for_selector('[data-testid="stMetricValue"]')
        assert bs.metrics(fresh) == shown
        # The same frontier, drawn on opening: the same values and figures, the same policies on it.
        fresh.get_by_text("policies on the frontier").wait_for(timeout=60_000)
        bs.wait_ready(fresh)
        assert fresh.get_by_text(re.compile(r"\d+ of 6 policies on the frontier")).inner_text() == on_frontier
        assert fresh.get_by_role("textbox", name=re.compile("^Seller's response window: ")).input_value() == \
            "24, 72, 168"
        chart = fresh.locator('[data-testid="stVegaLiteChart"]').filter(has_text="Cancelled GMV")
        assert chart.locator(f'path[role="graphics-symbol"][aria-label*="{POINT}"]').count() >= 1
        bs.screenshot(fresh, "whatif-frontier-link-reopened")
        assert "Traceback" not in server.log_text()
