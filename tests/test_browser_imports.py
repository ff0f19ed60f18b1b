"""Two people import at the same moment on one running app: both imports succeed, and neither sees the
other's data set in the picker (only the demo data set and their own)."""

from __future__ import annotations

import browser_support as bs

pytestmark = bs.browser_test


def _export(path, seed: int, orders: int = 20_000) -> None:
    """A canonical orders export big enough that two imports overlap in time."""
    from analytics.generate import generate_frame

    frame = generate_frame(orders, seed)
    frame.write_csv(path, datetime_format="%Y-%m-%d %H:%M:%S")


def _picker_options(page) -> list[str]:
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
    options = [o.inner_text().strip() for o in page.query_selector_all('[role="option"]')]
    page.keyboard.press("Escape")
    return options


def test_two_sessions_import_at_once(tmp_path):
    bs.make_demo_db(tmp_path / "app.duckdb", orders=2_000)
    files = {"alpha_orders": tmp_path / "alpha_orders.csv", "beta_orders": tmp_path / "beta_orders.csv"}
    for seed, path in enumerate(files.values(), start=1):
        _export(path, seed)
    with bs.app_server(tmp_path / "app.duckdb", tmp_path / "app.log") as server, bs.chromium() as browser:
        pages = {}
        for name, path in files.items():
            page = browser.new_context(viewport={"width": 1300, "height": 1000}).new_page()
            page.goto(f"{server.url}/Data")
            bs.wait_ready(page)
            bs.choose_upload(page, path)
            bs.wait_ready(page)
            pages[name] = page
        # Both clicks within a few milliseconds: dispatching does not wait for the app, so the two
        # sessions' imports run side by side on the server.
        for page in pages.values():
            page.get_by_role("button", name="Import").dispatch_event("click")
        for name, page in pages.items():
            page.get_by_text(f"Stored {name}").wait_for(timeout=60_000)
            bs.wait_ready(page)
        for name, page in pages.items():
            other = next(n for n in files if n != name)
            options = _picker_options(page)
            assert any(o.startswith(name) for o in options), options
            assert not any(o.startswith(other) for o in options), f"{name} sees {other}: {options}"
            assert any(o.startswith("Demo marketplace") for o in options), options
            bs.screenshot(page, f"imports-{name}")
        log = server.log_text()
        assert "locked" not in log.lower(), log
        assert "Traceback" not in log, log


def test_a_renamed_data_set_stays_chosen(tmp_path):
    """Rename with Enter, then with the button: the page stays on the renamed data set, and the picker says
    its new name (the picker's words changed, which made it a new box at its first option: the demo)."""
    import app_support as s

    path = tmp_path / "app.duckdb"
    bs.make_demo_db(path, orders=2_000)
    csv = tmp_path / "shop.csv"
    _export(csv, seed=3, orders=300)
    dataset = s.import_db(path, [csv], name="Valid shop")
    with bs.app_server(path, tmp_path / "app.log") as server, bs.chromium() as browser:
        page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
        page.goto(f"{server.url}/Data?dataset={dataset}")
        bs.wait_ready(page)
        box = page.get_by_label("Name", exact=True)
        box.fill("Renamed shop")
        box.press("Enter")
        bs.wait_ready(page)
        page.get_by_role("button", name="Rename").click()
        bs.wait_ready(page)
        assert f"dataset={dataset}" in page.url, page.url
        sidebar = page.locator('[data-testid="stSidebar"]').inner_text()   # the whole name is said under the box
        assert "Renamed shop · 300 orders" in sidebar and "Valid shop" not in sidebar, sidebar
        options = _picker_options(page)
        assert any(o.startswith("Renamed shop") for o in options) and not any(o.startswith("Valid shop") for o in options)
        bs.screenshot(page, "renamed-data-set")
        assert "Traceback" not in server.log_text()
