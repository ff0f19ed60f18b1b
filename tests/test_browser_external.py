"""A new user's external source, in Chromium: the demo data set exported to Parquet, registered on the
Data page as an external Spark source, then the Overview and the What-if page opened on it show the
stored data set's figures, with the engine and the directory named. Spark runs for real in the app's
process (local[2]); the test is skipped, saying why, where pyspark or a Java runtime is missing."""

from __future__ import annotations

import browser_support as bs
import pytest

from analytics import spark as spark_engine
from ui.views import tile_text

WHY_NOT = spark_engine.available()
pytestmark = [*bs.browser_test, pytest.mark.spark,
              pytest.mark.skipif(WHY_NOT is not None, reason=f"Spark cannot run here: {WHY_NOT}")]
# A Spark job costs seconds, many more on a busy machine: the pages on Spark get minutes.
SLOW = 600_000


def _expected(path, dataset_id: str) -> tuple[dict[str, str], dict[str, str]]:
    """The stored data set's Overview tiles and What-if baseline tiles, from the analytics, as shown."""
    from analytics import db, report, simulate

    con = db.connect(path)
    try:
        r = report.report(con, dataset_id)
        sim = simulate.simulate(con, dataset_id, replicates=simulate.DEFAULT_REPLICATES, seed=0)
    finally:
        con.close()
    overview = {"Cancellation rate": f"{r['cancellation_rate']:.1%}",
                "Cancellation requests": f"{r['cancellation_requests']:,}", "Refunds": f"{r['refunds']:,}",
                "Cancelled GMV": tile_text(r["cancelled_gmv"], f"{r['currency']} {{:,.2f}}")[0]}
    whatif = {"Cancelled orders": f"{sim['baseline']['cancelled_orders']['value']:,.0f}"}
    return overview, whatif


def _go(page, label: str) -> None:
    page.locator('[data-testid="stSidebar"] [data-testid="stPageLink"] a', has_text=label).click()
    page.wait_for_function(f"() => document.querySelector('h1') && document.querySelector('h1').innerText === {label!r}")
    bs.wait_ready(page, timeout=SLOW)


def test_register_a_parquet_export_as_a_spark_source_and_open_overview_and_whatif(tmp_path, monkeypatch):
    from analytics import db, source

    monkeypatch.setenv(spark_engine.MASTER_ENV, "local[2]")
    path, directory = tmp_path / "app.duckdb", tmp_path / "demo-parquet"
    demo = bs.make_demo_db(path, orders=2_000)
    con = db.connect(path)
    try:
        source.export(con, demo, directory)
    finally:
        con.close()
    overview, whatif = _expected(path, demo)
    with bs.app_server(path, tmp_path / "app.log") as server, bs.chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 2000})
        page.goto(f"{server.url}/Data")
        bs.wait_ready(page)
        page.get_by_role("tab", name="Add an external source").click()
        page.get_by_role("textbox", name="Parquet directory").fill(str(directory))
        page.get_by_text("Spark", exact=True).click()
        page.get_by_role("button", name="Add the source").click()
        page.get_by_text("read from the Parquet files on Spark").wait_for(timeout=SLOW)
        bs.wait_ready(page)
        assert "(Parquet, spark)" in bs.picker_value(page)
        named = f"Engine: Spark · Source: {directory}"
        assert named in page.locator('[data-testid="stSidebar"]').inner_text()

        _go(page, "Overview")
        page.wait_for_selector('[data-testid="stMetricValue"]', timeout=SLOW)
        shown = bs.metrics(page)
        assert {k: shown.get(k) for k in overview} == overview
        assert named in page.locator('[data-testid="stMain"]').inner_text()
        bs.screenshot(page, "external-spark-overview")

        _go(page, "What-if")
        page.get_by_text("Baseline and scenario", exact=True).wait_for(timeout=SLOW)
        page.wait_for_selector('[data-testid="stMetricValue"]', timeout=SLOW)
        bs.wait_ready(page, timeout=SLOW)
        shown = bs.metrics(page)
        assert {k: shown.get(k) for k in whatif} == whatif
        main = page.locator('[data-testid="stMain"]').inner_text()
        assert named in main and "On Spark this page replays the baseline and your scenario" in main
        assert "Traceback" not in main
        bs.screenshot(page, "external-spark-whatif")
