"""A shop owner uploads Shopify's orders export (line items, notes spanning lines) in Chromium: the import
says what it did in words, and the Overview, Refunds and Sellers pages show the shop's own figures, worked
out by hand in tests/test_import_layouts.py, in its currency."""

from __future__ import annotations

import browser_support as bs

from tests.test_import_layouts import shopify_export

pytestmark = bs.browser_test


def _go(page, label: str) -> None:
    page.locator('[data-testid="stSidebar"] [data-testid="stPageLink"] a', has_text=label).click()
    page.wait_for_function(f"() => document.querySelector('h1') && document.querySelector('h1').innerText === {label!r}")
    bs.wait_ready(page)
    page.wait_for_selector('[data-testid="stMetricValue"]')


def test_a_shopify_export_uploads_and_shows_the_shops_figures(tmp_path):
    bs.make_demo_db(tmp_path / "app.duckdb", orders=2_000)
    export = tmp_path / "orders_export_1.csv"
    export.write_bytes(shopify_export())
    with bs.app_server(tmp_path / "app.duckdb", tmp_path / "app.log") as server, bs.chromium() as browser:
        page = browser.new_context(viewport={"width": 1400, "height": 2000}).new_page()
        page.goto(f"{server.url}/Data")
        bs.wait_ready(page)
        bs.choose_upload(page, export)
        bs.wait_ready(page)
        assert page.get_by_text("Recognised as Shopify orders export").count() == 1
        page.get_by_role("button", name="Import").click()
        page.get_by_text("Stored orders_export_1").wait_for(timeout=60_000)
        bs.wait_ready(page)
        said = page.locator('[data-testid="stAlertContentSuccess"]').first.inner_text()
        assert ("10 rows read, grouped into 6 orders (4 rows were further line items of an order). "
                "6 orders stored, 1 of them with a warning.") in said
        bs.screenshot(page, "shopify-import")

        _go(page, "Overview")
        tiles = bs.metrics(page)
        # 2 of 6 orders cancelled (#1002, 69.90; #1003, 89.90); 2 refunds (#1003, #1004).
        assert tiles["Cancellation rate"] == "33.3%"
        assert tiles["Refunds"] == "2"
        assert tiles["Cancelled GMV"] == "BRL 159.80"
        bs.screenshot(page, "shopify-overview")

        _go(page, "Refunds")
        tiles = bs.metrics(page)
        assert tiles["Refunds"] == "2" and tiles["Refunded amount"] == "BRL 99.90"
        assert tiles["Refund time, median"] == "n/a"   # the export has no refund dates: never a zero
        bs.screenshot(page, "shopify-refunds")

        _go(page, "Sellers")
        tiles = bs.metrics(page)
        # 159.80 of 534.80 GMV cancelled.
        assert tiles["Cancelled GMV"] == "BRL 159.80" and tiles["Share of GMV cancelled"] == "29.9%"
        assert not page.locator('[data-testid="stAlertContentError"]').count()
        bs.screenshot(page, "shopify-sellers")
        assert "Traceback" not in server.log_text()
