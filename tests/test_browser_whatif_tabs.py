"""The What-if page's tabs keep what was typed or chosen in them, in Chromium: the sweep's values, the
frontier's levers' values and options, and the saved scenarios compared, each set, another tab opened and
this one again, and a policy control moved after it (the browser's copy of a tab's widget came back at its
default, showed it, and sent it back with the next change: the sweep's values typed were emptied)."""

from __future__ import annotations

import re

import browser_support as bs

pytestmark = bs.browser_test


def _tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()
    bs.wait_ready(page)


def _roundtrip(page, name: str) -> None:
    _tab(page, "Every figure")
    _tab(page, name)


def _picked(page, label: str) -> list[str]:
    """The options picked (pressed) of a lever's pills, by their words."""
    group = page.locator('[data-testid="stButtonGroup"]').filter(
        has=page.locator('[data-testid="stWidgetLabel"]', has_text=label))
    return [b.inner_text().strip() for b in group.locator('button[data-variant="pills"]').all()
            if b.get_attribute("aria-pressed") == "true"]


def test_a_tab_keeps_its_values_when_opened_again_and_after_a_control_moves(tmp_path):
    dataset = bs.make_demo_db(tmp_path / "app.duckdb", orders=3_000)
    with bs.app_server(tmp_path / "app.duckdb", tmp_path / "app.log") as server, bs.chromium() as browser:
        page = browser.new_context(viewport={"width": 1280, "height": 2600}).new_page()
        page.goto(f"{server.url}/What-if?dataset={dataset}")
        bs.wait_ready(page, timeout=120_000)
        page.wait_for_selector('[data-testid="stMetricValue"]')
        window = page.get_by_role("spinbutton", name="Seller's response window (hours)")

        # The sweep's values, typed.
        _tab(page, "Sweep one parameter")
        values = page.get_by_role("textbox", name=re.compile("^Values: "))
        values.fill("12, 500")
        values.press("Enter")
        bs.wait_ready(page)
        _roundtrip(page, "Sweep one parameter")
        assert values.input_value() == "12, 500"
        window.fill("48")
        window.press("Enter")
        bs.wait_ready(page)
        assert values.input_value() == "12, 500"

        # The frontier's window values typed and its timeout's options picked, in words.
        _tab(page, "Policy frontier")
        levers = page.get_by_role("textbox", name=re.compile("^Seller's response window: "))
        levers.fill("24, 96")
        levers.press("Enter")
        bs.wait_ready(page)
        timeout = "When the window runs out"
        assert _picked(page, timeout) == ["cancel the order", "let the request lapse"]
        page.get_by_role("toolbar", name=timeout).get_by_role("button", name="cancel the order").click()
        bs.wait_ready(page)
        _roundtrip(page, "Policy frontier")
        assert levers.input_value() == "24, 96"
        assert _picked(page, timeout) == ["let the request lapse"]
        window.fill("72")
        window.press("Enter")
        bs.wait_ready(page)
        assert levers.input_value() == "24, 96"
        assert _picked(page, timeout) == ["let the request lapse"]
        page.wait_for_function("() => location.href.includes('frontier_values_timeout_action=lapse')")
        page.get_by_role("button", name=re.compile(r"Draw the frontier \(2 policies\)")).wait_for()
        bs.screenshot(page, "whatif-tabs-kept")
