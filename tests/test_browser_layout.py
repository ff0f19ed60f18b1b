"""Nothing cut at common widths, in Chromium: every page at 1280 and 1440 px, its expanders opened, each
chart no wider than its column, no table that scrolls sideways (the Orders list too: it shows a few columns
unless others are chosen, and cuts long order ids), no cell of a static table, tile label or value, segmented control's option or data set name cut
short, no table's header or text cell cut (the Sellers table's "unknown (not in the export)" beside every other
column, the What-if page's buyer's wait by payment method); a screenshot of each (artifacts/layout-*.png). The
Refunds page's table of refunds over the threshold is under its own chart. The Sellers page's selected seller
opens its weeks, and its link opens on them.
A hovered chart's or table's toolbar covers no text or control on the Overview, Reasons, Refunds, Sellers, Orders and
Data pages. Six saved scenarios compared side by side on the What-if page fit at 1280 px."""

from __future__ import annotations

import json

import browser_support as bs
import pytest

from analytics.policy import Policy

pytestmark = bs.browser_test

LONG_NAME = "Demo marketplace (synthetic): spring season, every region, payment method and shipping method"
PAGES = {"overview": "", "reasons": "Reasons", "refunds": "Refunds", "sellers": "Sellers", "orders": "Orders",
         "whatif": "What-if", "data": "Data"}
# The Refunds page with refunds over its threshold: a chart of them, its table under it.
SLOW_REFUNDS = "Refunds?measure=request&threshold=5"

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


# Table columns, by header, whose cells may be cut, and why: a name a person gave, up to 120 characters (the
# data sets' list gives it 230 px; the chosen data set's name is whole in its heading, and in the sidebar).
_CUT_ON_PURPOSE = ("Name",)
# Charts that are wider than the column they stand in, and text cut with an ellipsis (or by overflow): a tile's
# label or value, a static table's cell, a table's header or text cell.
_CUT = """() => {
  const onPurpose = @ON_PURPOSE@;
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
  // A table is drawn on a canvas: its headers and cells are in the canvas's table for screen readers, and its
  // columns' edges are the grid's border colour along the top of the header row, where no text is drawn. A
  // header or a text cell is cut when its text, in the grid's font, and the cell's padding are wider than its
  // column (a number's cell holds its raw value there, not the text shown: those are left out).
  const measure = document.createElement('canvas').getContext('2d');
  for (const grid of document.querySelectorAll('[data-testid="stDataFrame"]')) {
    const canvas = grid.querySelector('canvas[data-testid="data-grid-canvas"]');
    if (!canvas || !canvas.width || !canvas.checkVisibility()) continue;
    const holder = grid.closest('[data-testid="stElementContainer"]');
    const heads = [...canvas.querySelectorAll('th')];
    const key = [...(holder ? holder.classList : [])].find(c => c.startsWith('st-key-'))
                || `the table of ${heads.slice(0, 3).map(h => h.innerText.trim()).join(', ')}`;
    const style = getComputedStyle(grid.querySelector('.stDataFrameGlideDataEditor'));
    const css = (name) => style.getPropertyValue(name).trim();
    const pad = parseFloat(css('--gdg-cell-horizontal-padding'));
    const rgb = [1, 3, 5].map(i => parseInt(css('--gdg-border-color').slice(i, i + 2), 16));
    const scale = canvas.width / canvas.clientWidth;
    const top = canvas.getContext('2d').getImageData(0, Math.round(3 * scale), canvas.width, 1).data;
    const edges = [];
    for (let x = 0; x < canvas.width; x++) {
      const off = Math.abs(top[4 * x] - rgb[0]) + Math.abs(top[4 * x + 1] - rgb[1]) + Math.abs(top[4 * x + 2] - rgb[2]);
      if (off < 12 && !(edges.length && x / scale - edges[edges.length - 1] < 3)) edges.push(x / scale);
    }
    const bounds = [0, ...edges, canvas.clientWidth];
    const spans = [];
    for (let i = 1; i < bounds.length; i++) if (bounds[i] - bounds[i - 1] > 4) spans.push(bounds[i] - bounds[i - 1]);
    const widths = spans.slice(spans.length - heads.length);   // the row selection's column has no header
    const cut = (text, font, width) => {
      measure.font = `${font} ${css('--gdg-font-family')}`;
      return width !== undefined && measure.measureText(text).width + 2 * pad > width + 1;
    };
    heads.forEach((h, i) => {
      if (cut(h.innerText.trim(), css('--gdg-header-font-style'), widths[i]))
        out.push(`table header cut: ${key} "${h.innerText.trim()}" in ${Math.round(widths[i])} px`);
    });
    for (const td of canvas.querySelectorAll('td')) {
      const text = td.innerText.trim(), i = Number(td.getAttribute('aria-colindex')) - 1;
      if (!text || /^-?[0-9.,]+(e[-+]?[0-9]+)?$/i.test(text) || onPurpose.includes(heads[i]?.innerText.trim())) continue;
      if (cut(text, css('--gdg-base-font-style'), widths[i]))
        out.push(`table cell cut: ${key} "${text.slice(0, 60)}" in ${Math.round(widths[i])} px`);
    }
  }
  return out;
}""".replace("@ON_PURPOSE@", json.dumps(_CUT_ON_PURPOSE))


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
        # The orders of the seller that loses most, as an export that does not name their seller: the Sellers
        # table's first row is "unknown (not in the export)", beside every other column.
        first = report.sellers(con, dataset).frame["seller_id"][0]
        con.execute("UPDATE orders SET seller_id = NULL WHERE dataset_id = ? AND seller_id = ?", [dataset, first])
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
        for name, path in {**PAGES, "refunds, slow ones": SLOW_REFUNDS}.items():
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{server.url}/{path}{'&' if '?' in path else '?'}dataset={dataset}")
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
        # A scenario beyond what the data shows (a one-week window) is marked so, after its name as typed.
        assert [h.removesuffix(" (extrapolated)") for h in headers] == [
            "Figure", "Baseline", "Current controls", *saved.values()], headers
        assert "One week window for sellers who answer late (extrapolated)" in headers, headers
        # Every column's right edge inside the page's main column.
        main = page.locator('[data-testid="stMainBlockContainer"]').bounding_box()
        last = table.locator("th").last.bounding_box()
        assert last["x"] + last["width"] <= main["x"] + main["width"] + 1, (last, main)
    finally:
        context.close()


_IN_ITS_COLUMN = """(heading) => {
  const column = heading.closest('[data-testid="stColumn"]');
  const table = [...document.querySelectorAll('[data-testid="stExpander"]')]
    .find(e => e.querySelector('summary').innerText.includes('Refunds over the threshold'));
  return Boolean(column && table && column.contains(table));
}"""


@pytest.mark.parametrize("path", ["Refunds", SLOW_REFUNDS], ids=["none over the threshold", "some over it"])
def test_the_refunds_over_the_threshold_table_is_under_its_own_chart(served, path):
    """In the column of "Share over N business days", under its chart (or its sentence when no refund is
    over): below the row of charts, it opened under the channel chart."""
    server, browser, dataset, *_ = served
    context = browser.new_context(viewport={"width": 1280, "height": 1600})
    try:
        page = context.new_page()
        page.goto(f"{server.url}/{path}{'&' if '?' in path else '?'}dataset={dataset}")
        _settle(page)
        heading = page.locator('[data-testid="stHeading"]').filter(has_text="Share over").first
        assert heading.evaluate(_IN_ITS_COLUMN)
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
