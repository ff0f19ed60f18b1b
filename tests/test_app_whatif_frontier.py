"""The What-if page's frontier: levers and figures chosen, the grid drawn on demand with the engine's own
result, the best policy under a limit in words (a click on a point opening its policy:
tests/test_browser_frontier.py)."""

from __future__ import annotations

import app_support as s
import pytest

from analytics import db, simulate
from analytics import frontier as fr
from analytics.text import plain


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("frontier") / "app.duckdb"
    return path, s.demo_db(path, orders=3_000)


@pytest.fixture(autouse=True)
def _database(demo, monkeypatch):
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(demo[0]))


def _markdown(at) -> str:
    return " ".join(m.value for m in at.markdown)


def test_the_frontier_is_drawn_on_demand_with_the_engine_s_result(demo):
    at = s.open_page("whatif")
    assert at.multiselect(key="whatif_frontier_levers").value == list(fr.DEFAULT_LEVERS)
    at.text_input(key="whatif_frontier_values_seller_response_hours").set_value("24, 48, 72").run()
    at.selectbox(key="whatif_frontier_a").set_value("refund_wait_p90_business_days")
    at.selectbox(key="whatif_frontier_b").set_value("cancelled_gmv").run()
    assert "policies on the frontier" not in _markdown(at)
    at.button(key="whatif_frontier_draw").click().run()
    assert s.problems(at) == []
    expected = fr.frontier(simulate.prepare_dataset(db.connect(demo[0]), demo[1]),
                           {"seller_response_hours": [24, 48, 72], "timeout_action": ["auto_cancel", "lapse"]},
                           ["refund_wait_p90_business_days", "cancelled_gmv"],
                           replicates=simulate.DEFAULT_REPLICATES)
    on = sum(p["on_frontier"] for p in expected["policies"])
    assert f"{on} of {len(expected['policies'])} policies on the frontier." in _markdown(at)
    table = next(df.value for df in at.dataframe if "On the frontier" in df.value.columns)
    assert len(table) == len(expected["policies"])


def test_a_limit_names_the_best_policy_in_words(demo):
    at = s.open_page("whatif")
    at.selectbox(key="whatif_frontier_a").set_value("refund_wait_p90_business_days")
    at.selectbox(key="whatif_frontier_b").set_value("cancelled_gmv").run()
    at.text_input(key="whatif_frontier_limit_cancelled_gmv").set_value("1000000000").run()
    at.button(key="whatif_frontier_draw").click().run()
    assert s.problems(at) == []
    words = " ".join(plain(x.value) for x in [*at.info, *at.warning])
    assert "Best with cancelled GMV at most 1,000,000,000.00:" in words
