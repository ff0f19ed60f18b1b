"""A new user's first session, in Chromium: upload the committed sample, see its numbers on the Overview,
change a what-if control and see the scenario change, copy the link and open it in a fresh browser to
see the same figures. Screenshots of every page go to artifacts/."""

from __future__ import annotations

import re

import browser_support as bs

from ui.setup import PAGES
from ui.views import tile_text

pytestmark = bs.browser_test
SAMPLE = bs.ROOT / "data" / "sample_orders.csv"


def _expected_overview(tmp_path) -> dict[str, str]:
    """The sample's headline numbers, from the analytics on a database of the test's own."""
    from analytics import db, importer, report

    con = db.connect(tmp_path / "expected.duckdb")
    dataset = importer.import_files(con, [SAMPLE]).dataset
    r = report.report(con, dataset.id)
    con.close()
    return {
        "Cancellation rate": f"{r['cancellation_rate']:.1%}",
        "Cancellation requests": f"{r['cancellation_requests']:,}",
        "Refunds": f"{r['refunds']:,}",
        "Cancelled GMV": tile_text(r["cancelled_gmv"], f"{r['currency']} {{:,.2f}}")[0],
    }


def _go(page, label: str) -> None:
    """Follow a sidebar link, as a person would."""
    page.locator('[data-testid="stSidebar"] [data-testid="stPageLink"] a', has_text=label).click()
    page.wait_for_function(f"() => document.querySelector('h1') && document.querySelector('h1').innerText === {label!r}")
    bs.wait_ready(page)


def _charts_fit(page) -> None:
    """No chart runs past the right edge of the page's content."""
    edge = page.evaluate("document.querySelector('[data-testid=\"stMainBlockContainer\"]').getBoundingClientRect().right")
    # The drawing itself (canvas or svg), which overflows its box when a chart is too wide.
    rights = page.evaluate("[...document.querySelectorAll('[data-testid=\"stMain\"] .vega-embed > :is(canvas, svg)')]"
                           ".map(e => e.getBoundingClientRect().right)")
    assert rights and max(rights) <= edge + 1, (rights, edge)


def test_new_user_uploads_sees_numbers_changes_a_policy_and_shares_the_link(tmp_path):
    bs.make_demo_db(tmp_path / "app.duckdb", orders=3_000)
    expected = _expected_overview(tmp_path)
    with bs.app_server(tmp_path / "app.duckdb", tmp_path / "app.log") as server, bs.chromium() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 2200})
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
        page = context.new_page()
        page.goto(server.url)
        bs.wait_ready(page)
        page.wait_for_selector('[data-testid="stMetricValue"]')
        assert page.locator("h1").first.inner_text() == "Overview"

        # Upload the sample on the Data page.
        _go(page, "Data")
        bs.choose_upload(page, SAMPLE)
        bs.wait_ready(page)
        page.get_by_role("button", name="Import").click()
        page.get_by_text("Stored sample_orders").wait_for(timeout=30_000)
        bs.wait_ready(page)
        dataset = re.search(r"dataset=([A-Za-z0-9_-]+)", page.url).group(1)
        # The new data set's link, to keep, with its copy button.
        page.get_by_text("Keep this link").wait_for()
        assert f"?dataset={dataset}" in page.locator('[data-testid="stCode"]').first.inner_text()
        assert page.get_by_test_id("copy-dataset-link-button").count() == 1
        bs.screenshot(page, "journey-data")

        # Its numbers on the Overview.
        _go(page, "Overview")
        page.wait_for_selector('[data-testid="stMetricValue"]')
        shown = bs.metrics(page)
        assert {k: shown[k] for k in expected} == expected
        assert f"dataset={dataset}" in page.url
        bs.screenshot(page, "journey-overview")
        for label in ("Reasons", "Refunds", "Sellers"):
            _go(page, label)
            assert not page.locator('[data-testid="stAlertContentError"]').count()
            bs.screenshot(page, f"journey-{label.lower()}")

        # A what-if control changes the scenario.
        _go(page, "What-if")
        page.wait_for_selector('[data-testid="stMetricValue"]')
        before = bs.metrics(page)
        consent = page.get_by_text("Seller's consent required")
        consent.click()
        page.wait_for_function("() => location.href.includes('seller_consent_required=false')")
        bs.wait_ready(page)
        after = bs.metrics(page)
        assert after != before
        assert after["Cancelled orders"] != before["Cancelled orders"]
        _charts_fit(page)
        bs.screenshot(page, "journey-whatif")

        # Copy the link; a fresh browser opens the same view with the same figures.
        page.get_by_test_id("copy-link-button").click()
        page.get_by_text("Link copied").wait_for()
        link = page.evaluate("navigator.clipboard.readText()")
        assert link == page.url
        assert f"dataset={dataset}" in link and "seller_consent_required=false" in link
        fresh = browser.new_context(viewport={"width": 1400, "height": 2200}).new_page()
        fresh.goto(link)
        bs.wait_ready(fresh)
        fresh.wait_for_selector('[data-testid="stMetricValue"]')
        assert fresh.locator("h1").first.inner_text() == "What-if"
        assert bs.metrics(fresh) == after
        assert bs.picker_value(fresh).startswith("sample_orders")
        bs.screenshot(fresh, "journey-whatif-opened-from-link")
        assert [p.label for p in PAGES if (bs.ROOT / p.path).exists()] == bs.sidebar_links(fresh)
        assert "Traceback" not in server.log_text()
