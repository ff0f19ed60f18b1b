"""The What-if page's frontier: levers and figures chosen, the grid drawn on demand with the engine's own
result, the best policy under a limit in words (a click on a point opening its policy:
tests/test_browser_frontier.py)."""

from __future__ import annotations

import app_support as s
import pytest

from analytics import db, simulate
from analytics import frontier as fr
from analytics import whatif_tables as wt
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
    at = s.open_page("whatif", {"section": "frontier"})
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
    table = next(t.value for t in at.table if "Marks" in t.value.columns)
    assert len(table) == len(expected["policies"])
    assert sum("on the frontier" in marks for marks in table["Marks"]) == on


def _best_under_a_limit(at) -> str:
    """The p90 wait weighed against cancelled GMV at most USD 1,000,000,000, drawn: the page's sentences."""
    at.selectbox(key="whatif_frontier_a").set_value("refund_wait_p90_business_days")
    at.selectbox(key="whatif_frontier_b").set_value("cancelled_gmv").run()
    at.text_input(key="whatif_frontier_limit_cancelled_gmv").set_value("1000000000").run()
    at.button(key="whatif_frontier_draw").click().run()
    assert s.problems(at) == []
    return " ".join(plain(x.value) for x in [*at.info, *at.warning])


def test_a_limit_names_the_best_policy_in_words(demo):
    words = _best_under_a_limit(s.open_page("whatif", {"section": "frontier"}))
    # In the data set's currency, as the page writes every amount.
    assert "Best with cancelled GMV at most USD 1,000,000,000:" in words


def _settings(at) -> dict:
    return {"levers": at.multiselect(key="whatif_frontier_levers").value,
            "window": at.text_input(key="whatif_frontier_values_seller_response_hours").value,
            "deadline": at.text_input(key="whatif_frontier_values_dispatch_deadline_days").value
            if "dispatch_deadline_days" in at.multiselect(key="whatif_frontier_levers").value else None,
            "a": at.selectbox(key="whatif_frontier_a").value, "b": at.selectbox(key="whatif_frontier_b").value,
            "limit": at.text_input(key="whatif_frontier_limit_cancelled_orders").value}


def test_the_frontier_s_settings_are_in_the_link_and_a_copied_link_reopens_the_same_frontier(demo):
    at = s.open_page("whatif", {"dataset": demo[1], "section": "frontier"})
    # The defaults leave the link alone.
    assert not any(k.startswith("frontier") for k in at.query_params), at.query_params
    at.multiselect(key="whatif_frontier_levers").set_value(["seller_response_hours", "dispatch_deadline_days"]).run()
    at.text_input(key="whatif_frontier_values_seller_response_hours").set_value("24, 96").run()
    at.text_input(key="whatif_frontier_values_dispatch_deadline_days").set_value("3, 7").run()
    at.selectbox(key="whatif_frontier_a").set_value("requests_lapsed")
    at.selectbox(key="whatif_frontier_b").set_value("cancelled_orders").run()
    at.text_input(key="whatif_frontier_limit_cancelled_orders").set_value("400").run()
    query = dict(at.query_params)
    assert query["frontier_levers"] == "seller_response_hours,dispatch_deadline_days"
    assert query["frontier_values_seller_response_hours"] == "24, 96"
    assert query["frontier_a"] == "requests_lapsed" and query["frontier_limit_cancelled_orders"] == "400"
    assert "frontier" not in query          # not drawn yet
    at.button(key="whatif_frontier_draw").click().run()
    assert s.problems(at) == []
    drawn = _markdown(at)
    assert "of 5 policies on the frontier (the grid's 4, and the baseline)." in drawn
    query = dict(at.query_params)
    assert query["frontier"] == "true", query
    words = " ".join(plain(x.value) for x in [*at.info, *at.warning])
    assert "Best with cancelled orders at most 400" in words

    # The link opened in a new session: the same settings, and the same frontier drawn without a click.
    fresh = s.open_page("whatif", query)
    assert s.problems(fresh) == []
    assert _settings(fresh) == _settings(at)
    assert "of 5 policies on the frontier (the grid's 4, and the baseline)." in _markdown(fresh)
    again = " ".join(plain(x.value) for x in [*fresh.info, *fresh.warning])
    assert words.split("Best with")[1] in again
    assert dict(fresh.query_params) == query

    # Changing a setting: the frontier waits for the button again, and the link says it is not drawn.
    fresh.text_input(key="whatif_frontier_values_dispatch_deadline_days").set_value("3, 10").run()
    assert "policies on the frontier" not in _markdown(fresh)
    assert "frontier" not in fresh.query_params


def test_a_link_s_refused_frontier_settings_become_notices_and_defaults(demo):
    at = s.open_page("whatif", {"dataset": demo[1], "section": "frontier", "frontier_levers": "seller_response_hours,bogus",
                                "frontier_values_seller_response_hours": "24, abc",
                                "frontier_a": "<b>nope</b>", "frontier_limit_cancelled_gmv": "lots",
                                "frontier": "maybe"})
    assert s.problems(at) == []
    shown = " ".join(plain(w.value) for w in at.warning)
    assert "frontier_values_seller_response_hours: “24, abc” is not a number" in shown
    assert "using the default (24, 48, 72, 120, 168)" in shown
    assert "frontier_limit_cancelled_gmv: “lots” is not a number; expected a number; using no limit" in shown
    assert "frontier_levers: “bogus” is unknown" in shown
    assert "frontier_a: “<b>nope</b>” is unknown" in shown
    assert at.multiselect(key="whatif_frontier_levers").value == ["seller_response_hours"]
    assert at.text_input(key="whatif_frontier_values_seller_response_hours").value == "24, 48, 72, 120, 168"
    assert at.selectbox(key="whatif_frontier_a").value == "refund_wait_p90_business_days"
    assert at.text_input(key="whatif_frontier_limit_cancelled_gmv").value == ""
    assert "policies on the frontier" not in _markdown(at)


def test_the_page_s_frontier_shared_out_between_processes_is_the_same(demo, monkeypatch):
    """On a large data set the page's frontier forks workers (here made to on the demo): the same result."""
    import os

    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one core: the frontier is replayed in one process")
    monkeypatch.setattr(fr, "PARALLEL_WORK", 0)
    at = s.open_page("whatif", {"dataset": demo[1], "section": "frontier", "frontier_values_seller_response_hours": "24, 96",
                                "frontier_a": "requests_lapsed", "frontier_b": "cancelled_orders", "frontier": "true"})
    assert s.problems(at) == []
    expected = fr.frontier(simulate.prepare_dataset(db.connect(demo[0]), demo[1]),
                           {"seller_response_hours": [24, 96], "timeout_action": ["auto_cancel", "lapse"]},
                           ["requests_lapsed", "cancelled_orders"], replicates=simulate.DEFAULT_REPLICATES, workers=1)
    on = sum(p["on_frontier"] for p in expected["policies"])
    assert f"{on} of {len(expected['policies'])} policies on the frontier (the grid's 4, and the baseline)." in \
        _markdown(at)
    table = next(t.value for t in at.table if "Marks" in t.value.columns)
    # Each cell the estimate with its interval, as the page writes a next period's.
    shown = sorted(table[wt.label_in("requests_lapsed")].tolist())
    assert shown == sorted(wt.next_period(p["figures"]["requests_lapsed"], "requests_lapsed") for p in expected["policies"])
    assert list(table.columns) == ["Policy", "Requests: lapsed (no answer)", "Cancelled orders", "Marks"]


def test_the_same_figure_weighed_against_itself_is_refused_in_words(demo):
    """Weigh and against on one figure (picked, or from a link): one limit box, a sentence saying to choose
    two figures, and the rest of the page drawn (its two limit boxes once shared a key: an error box)."""
    at = s.open_page("whatif", {"dataset": demo[1], "section": "frontier", "frontier_a": "cancelled_gmv", "frontier_b": "cancelled_gmv",
                                "frontier_levers": "seller_response_hours"})
    assert s.problems(at) == []
    assert "Choose two different figures to weigh." in [i.value for i in at.info]
    assert [t.key for t in at.text_input if t.key.startswith("whatif_frontier_limit_")] == [
        "whatif_frontier_limit_cancelled_gmv"]
    at.selectbox(key="whatif_frontier_b").set_value("refund_wait_p90_business_days").run()
    assert s.problems(at) == []
    assert "Choose two different figures to weigh." not in [i.value for i in at.info]


def test_a_lever_of_options_offers_them_in_words_and_the_link_keeps_codes(demo):
    """'When the window runs out' as a lever was a text box of codes ('auto_cancel, lapse', 'one of auto_cancel,
    lapse') while its control above and the frontier's points say 'cancel the order', 'let the request lapse'.
    It is picked from the options in those words; the link still carries the codes, and opens them again."""
    at = s.open_page("whatif", {"section": "frontier"})
    assert s.problems(at) == []
    assert not any(t.key == "whatif_frontier_values_timeout_action" for t in at.text_input)
    pick = at.button_group(key="whatif_frontier_pick_timeout_action")
    assert pick.formatted_values == ["cancel the order", "let the request lapse"]
    assert pick.value == ["auto_cancel", "lapse"]
    assert not any("auto_cancel" in plain(w.label) for w in [*at.text_input, *at.multiselect])
    pick.set_value(["lapse"]).run()
    assert s.problems(at) == []
    assert at.query_params["frontier_values_timeout_action"] == "lapse"
    at.button(key="whatif_frontier_draw").click().run()
    assert s.problems(at) == []
    assert "policies on the frontier" in _markdown(at)
    # The link opens the same pick, in a fresh session.
    fresh = s.open_page("whatif", {"section": "frontier", "frontier_values_timeout_action": "lapse",
                                   "frontier_levers": "seller_response_hours,timeout_action"})
    assert fresh.button_group(key="whatif_frontier_pick_timeout_action").value == ["lapse"]
    # A lever of yes or no (the seller's consent) is picked the same way.
    fresh.multiselect(key="whatif_frontier_levers").set_value(["seller_consent_required", "timeout_action"]).run()
    consent = fresh.button_group(key="whatif_frontier_pick_seller_consent_required")
    assert consent.formatted_values == ["yes", "no"] and consent.value == [True, False]
    assert s.problems(fresh) == []


def test_an_extrapolated_best_policy_names_its_parameters_in_words(demo):
    """The best policy's sentence said 'It is extrapolated (seller_response_hours beyond what the data
    observed)', a code in the middle of the page's words."""
    at = s.open_page("whatif", {"section": "frontier"})
    at.text_input(key="whatif_frontier_values_seller_response_hours").set_value("168, 336").run()
    words = _best_under_a_limit(at)
    assert "It is extrapolated (seller's response window beyond what the data observed)" in words, words
    assert "seller_response_hours" not in words
