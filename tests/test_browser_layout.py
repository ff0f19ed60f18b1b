"""Nothing cut at common widths, in Chromium: every page at 1280 and 1440 px, its expanders opened, each
chart no wider than its column, no table that scrolls sideways (the Orders list too: it shows a few columns
unless others are chosen, and cuts long order ids), no cell of a static table, tile label or value, segmented control's option or data set name cut
short; a screenshot of each (artifacts/layout-*.png). The Sellers page's selected seller opens its weeks, and its link opens on them.
A hovered chart's or table's toolbar covers no text or control on the Overview, Reasons, Refunds, Sellers, Orders and
Data pages. Six saved scenarios compared side by side on the What-if page fit at 1280 px."""

from __future__ import annotations

import browser_support as bs
import pytest

from analytics.policy import Policy

pytestmark = bs.browser_test

LONG_NAME = "Demo marketplace (synthetic): spring season, every region, payment method and shipping method"
PAGES = {"overview": "", "reasons": "Reasons", "refunds": "Refunds", "sellers": "Sellers", "orders": "Orders",
         "whatif": "What-if", "data": "Data"}

# Six saved scenarios, the most the page compares at once: with the baseline and the current controls, eight
# variants side by side. One name is Markdown, which the table shows as typed.
COMPARED = {
    "48-hour window, lapse": Policy(seller_response_hours=48, timeout_action="lapse"),
    "No consent needed": Policy(seller_consent_required=False),
    "One week window for sellers who answer late": Policy(seller_response_hours=168),
    "Strict dispatch deadline, auto cancel": Policy(dispatch_deadline_days=3, late_dispatch_action="auto_cancel"),
    "Premium shipping for half of the orders": Policy(premium_shipping_share=0.5),
    "**Fast** answers: a one-day window": Policy(seller_response_hours=24),
}

# Charts that are wider than the column they stand in, and text cut with an ellipsis (or by overflow).
_CUT = """() => {
  const out = [];
  for (const chart of document.querySelectorAll('[data-testid="stVegaLiteChart"]')) {
    const column = chart.closest('[data-testid="stElementContainer"]') || chart.parentElement;
    const room = column.getBoundingClientRect();
    for (const g of chart.querySelectorAll(':scope canvas, :scope svg.marks')) {
      const r = g.getBoundingClientRect();
      if (r.width > room.width + 1 || r.right > room.right + 1 || r.left < room.left - 1)
        out.push(`chart ${Math.round(r.width)} px in a ${Math.round(room.width)} px column`);
    }
    if (chart.scrollWidth > chart.clientWidth + 1) out.push(`chart scrolls: ${chart.scrollWidth}/${chart.clientWidth}`);
  }
  for (const grid of document.querySelectorAll('[data-testid="stDataFrame"]')) {
    const holder = grid.closest('[data-testid="stElementContainer"]');
    const s = grid.querySelector('.dvn-scroller');
    if (s && s.scrollWidth > s.clientWidth + 1)
      out.push(`table scrolls sideways: ${[...(holder ? holder.classList : [])].find(c => c.startsWith('st-key-')) || ''} ${s.scrollWidth}/${s.clientWidth}`);
  }
  for (const t of document.querySelectorAll('[data-testid="stTable"]'))
    if (t.scrollWidth > t.clientWidth + 1) out.push(`static table scrolls sideways: ${t.scrollWidth}/${t.clientWidth}`);
  const texts = [...document.querySelectorAll('[data-testid="stMetricLabel"], [data-testid="stMetricValue"]')];
  texts.push(...document.querySelectorAll('[data-testid="stTable"] td, [data-testid="stTable"] th'));
  texts.push(...document.querySelectorAll('[data-testid="stMain"] [data-testid="stButtonGroup"] button'));
  texts.push(...document.querySelectorAll('[data-testid="stSidebar"] [data-testid="stCaption"]'));
  for (const t of texts)
    for (const e of [t, ...t.querySelectorAll('*')])
      if (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflow !== 'visible')
        out.push(`text cut: "${(t.innerText || '').trim().slice(0, 60)}" ${e.scrollWidth}/${e.clientWidth}`);
  return out;
}"""


_CHARTS_DRAWN = """() => [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')]
                        .every(c => c.querySelector('canvas, svg'))"""


def _settle(page) -> None:
    bs.wait_ready(page, timeout=90_000)
    page.wait_for_function(_CHARTS_DRAWN, timeout=30_000)
    page.wait_for_timeout(500)


def _open_expanders(page) -> None:
    """Open every closed expander of the page, so the tables inside are drawn and checked too."""
    closed = page.locator('[data-testid="stMain"] [data-testid="stExpander"] details:not([open]) > summary')
    for _ in range(40):
        if not closed.count():
            break
        closed.first.click()
        page.wait_for_timeout(150)
    page.wait_for_timeout(800)


# What a hovered chart's or table's toolbar (Streamlit's download / search / full screen buttons, drawn over
# the 44 px above the element's right end) covers: visible text and controls of the page outside the element.
_COVERED = """(element) => {
  const own = element.closest('[data-testid="stElementContainer"]');
  const box = own.querySelector('[data-testid="stElementToolbar"]').getBoundingClientRect();
  const hit = (r) => r.width > 0 && r.height > 0 && r.left < box.right && r.right > box.left
                     && r.top < box.bottom && r.bottom > box.top;
  const shown = (e) => e.checkVisibility({visibilityProperty: true, opacityProperty: true})
                       && !e.closest('[data-testid="stElementToolbar"]');
  const out = [];
  const texts = document.createTreeWalker(document.querySelector('[data-testid="stMain"]'), NodeFilter.SHOW_TEXT);
  for (let n = texts.nextNode(); n; n = texts.nextNode()) {
    if (!n.textContent.trim() || own.contains(n) || !shown(n.parentElement)) continue;
    const range = document.createRange();
    range.selectNodeContents(n);
    if ([...range.getClientRects()].some(hit)) out.push(`text "${n.textContent.trim().slice(0, 60)}"`);
  }
  for (const c of document.querySelectorAll('[data-testid="stMain"] button, [data-testid="stMain"] input'))
    if (!own.contains(c) && shown(c) && hit(c.getBoundingClientRect()))
      out.push(`control "${(c.getAttribute('aria-label') || c.innerText || c.tagName).trim().slice(0, 60)}"`);
  return out;
}"""


_SHOWN = """(element) => {
  const own = element.closest('[data-testid="stElementContainer"]');
  const toolbar = own.querySelector('[data-testid="stElementToolbar"]');
  return toolbar && getComputedStyle(toolbar).opacity === '1'
         && toolbar.getBoundingClientRect().bottom <= own.getBoundingClientRect().top + 0.5;
}"""


def _covered_by_toolbars(page) -> tuple[int, list[str]]:
    """Hover each chart and table of the page (those shown: not in a closed expander); how many there were,
    and what their toolbars cover."""
    found = []
    elements = page.locator('[data-testid="stMain"] [data-testid="stVegaLiteChart"]:visible, '
                            '[data-testid="stMain"] [data-testid="stDataFrame"]:visible')
    for i in range(elements.count()):
        element = elements.nth(i)
        element.scroll_into_view_if_needed()
        element.hover(position={"x": 5, "y": 5})
        # Shown on hover: it fades in, and moves up to its place above the element.
        page.wait_for_function(_SHOWN, arg=element.element_handle(), timeout=5_000)
        found += [f"the toolbar of element {i} covers {what}" for what in element.evaluate(_COVERED)]
    return elements.count(), found


def _whole_page_shot(page, name: str, width: int) -> list[str]:
    """Streamlit scrolls its main block, not the document: the viewport grows to the page's height first."""
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": width, "height": min(max(900, height + 40), 12_000)})
    page.wait_for_timeout(700)
    page.wait_for_function(_CHARTS_DRAWN, timeout=30_000)
    bs.screenshot(page, name)
    return [f"{name}, the whole page: {problem}" for problem in page.evaluate(_CUT)]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from analytics import db, report, scenarios
    from analytics.generate import generate

    folder = tmp_path_factory.mktemp("layout")
    path = folder / "app.duckdb"
    con = db.connect(path)
    try:
        dataset = generate(con, 50_000, 7, name=LONG_NAME, is_demo=True).dataset.id   # the demo's size: its amounts
        # The seller ranked first by the low end of its cancellation rate's interval, and its weeks.
        top = report.sellers(con, dataset, sort_by="cancellation_rate_low").frame["seller_id"][0]
        weeks = report.seller_trend(con, dataset, seller=top).frame
        saved = {scenarios.save(con, dataset, name, policy).id: name for name, policy in COMPARED.items()}
    finally:
        con.close()
    with bs.app_server(path, folder / "app.log") as server, bs.chromium() as browser:
        yield server, browser, dataset, (top, weeks), saved


@pytest.mark.parametrize("width", [1280, 1440])
def test_every_page_at_common_widths_has_nothing_cut(served, width):
    server, browser, dataset, *_ = served
    context = browser.new_context(viewport={"width": width, "height": 900})
    found: list[str] = []
    try:
        page = context.new_page()
        for name, path in PAGES.items():
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{server.url}/{path}?dataset={dataset}")
            _settle(page)
            _open_expanders(page)
            _settle(page)
            found += [f"{name} at {width} px: {problem}" for problem in page.evaluate(_CUT)]
            # The data set's whole name is readable under the picker, whatever the box has room for.
            sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
            assert LONG_NAME in " ".join(sidebar.split()), name
            found += _whole_page_shot(page, f"layout-{name}-{width}", width)
    finally:
        context.close()
    assert found == [], "\n".join(found)


def test_the_saved_scenarios_compared_fit_a_1280_px_page(served):
    """Six saved scenarios compared with the baseline and the current controls, eight variants, fit a 1280 px
    page whole: no column cut and nothing scrolled sideways (a grid cut the table after its third variant),
    each name shown as typed; a screenshot (artifacts/layout-whatif-compared-1280.png)."""
    server, browser, dataset, _, saved = served
    ids = ",".join(saved)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(f"{server.url}/What-if?dataset={dataset}&seller_response_hours=36&saved={ids}&scenarios={ids}")
        bs.wait_ready(page, timeout=300_000)
        page.get_by_text("Each cell: the estimate").wait_for(timeout=300_000)
        _settle(page)
        found = [f"compared at 1280 px: {problem}" for problem in page.evaluate(_CUT)]
        found += _whole_page_shot(page, "layout-whatif-compared-1280", 1280)
        assert found == [], "\n".join(found)
        table = page.locator('[data-testid="stTable"]').filter(has_text="Current controls")
        headers = [" ".join(h.split()) for h in table.locator("th").all_inner_texts()]
        assert headers == ["Figure", "Baseline", "Current controls", *saved.values()], headers
        # Every column's right edge inside the page's main column.
        main = page.locator('[data-testid="stMainBlockContainer"]').bounding_box()
        last = table.locator("th").last.bounding_box()
        assert last["x"] + last["width"] <= main["x"] + main["width"] + 1, (last, main)
    finally:
        context.close()


def test_a_selected_seller_opens_its_weeks(served):
    server, browser, dataset, (top, weeks), _ = served
    context = browser.new_context(viewport={"width": 1280, "height": 1600})
    try:
        page = context.new_page()
        page.goto(f"{server.url}/Sellers?dataset={dataset}&sort=cancellation_rate_low")
        _settle(page)
        box = page.locator('[data-testid="stDataFrame"]').first.bounding_box()
        page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)  # the first row's selection box
        heading = page.locator('[data-testid="stHeading"]').filter(has_text="by week").first
        heading.wait_for(timeout=20_000)
        _settle(page)
        assert heading.inner_text().strip() == f"Seller {top} by week"
        # Its weekly chart: a point per week with orders, the rate's line and the orders' area.
        chart = page.locator('[data-testid="stVegaLiteChart"]').last
        assert chart.locator("canvas, svg").count() >= 1
        assert weeks["orders"].sum() >= 1
        assert page.evaluate(_CUT) == []
        bs.screenshot(page, "layout-seller-weeks-1280")
        # The seller's view is in the link: a fresh browser opens on it, with the link to its orders.
        page.wait_for_function(f"() => location.href.includes('shown={top}')", timeout=15_000)
        fresh = browser.new_context(viewport={"width": 1280, "height": 1600}).new_page()
        fresh.goto(page.url)
        _settle(fresh)
        view = fresh.locator('[data-testid="stHeading"]').filter(has_text="by week").first
        view.wait_for(timeout=20_000)
        assert view.inner_text().strip() == f"Seller {top} by week"
        assert fresh.locator(f'[data-testid="stPageLink"] a[href*="g.seller={top}"]').count() == 1
        fresh.context.close()
    finally:
        context.close()


@pytest.mark.parametrize("width", [1280, 1440])
def test_a_hovered_chart_or_table_covers_no_heading_or_control_with_its_toolbar(served, width):
    """A chart's or table's hover toolbar covers no text or control: not the Orders pager's buttons, not a
    Reasons heading ("Share of cancelled GMV" fills its column) or the period's choice, not the Overview's
    caption of the chart by status, not the What-if page's table of how sure it is or its sweep's figures."""
    server, browser, dataset, *_ = served
    context = browser.new_context(viewport={"width": width, "height": 900})
    found: list[str] = []
    try:
        page = context.new_page()
        for name in ("overview", "reasons", "refunds", "sellers", "orders", "whatif", "data"):
            group = "g.of=cancelled&g.cancel_stage=awaiting_shipment&" if name == "orders" else ""
            page.goto(f"{server.url}/{PAGES[name]}?{group}dataset={dataset}")
            _settle(page)
            hovered, covered = _covered_by_toolbars(page)
            assert hovered, f"{name}: no chart or table to hover"
            found += [f"{name} at {width} px: {problem}" for problem in covered]
            bs.screenshot(page, f"layout-toolbars-{name}-{width}")
    finally:
        context.close()
    assert found == [], "\n".join(found)
