"""The What-if page: the controls change the scenario's figures (and the link); the link's policy opens
the same scenario; named scenarios are saved, reopened and compared; the calibration shows on demand."""

from __future__ import annotations

import re

import app_support as s
import pytest

from analytics import db, simulate
from analytics import whatif_tables as wt
from analytics.policy import Policy
from analytics.text import plain


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("whatif") / "app.duckdb"
    return path, s.demo_db(path, orders=3_000)


@pytest.fixture(autouse=True)
def _database(demo, monkeypatch):
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(demo[0]))


def _tiles(at) -> dict[str, tuple[str, str | None]]:
    return {m.label: (m.value, m.delta) for m in at.metric}


def test_the_baseline_has_no_difference(demo):
    at = s.open_page("whatif")
    assert s.problems(at) == []
    tiles = _tiles(at)
    assert tiles["Cancelled orders"][1] == "±0"
    assert at.query_params == {"dataset": demo[1]}


def test_a_control_changes_the_scenario_and_the_link(demo):
    at = s.open_page("whatif")
    before = _tiles(at)
    at.toggle(key="whatif_seller_consent_required").set_value(False).run()
    assert s.problems(at) == []
    after = _tiles(at)
    assert after["Cancelled orders"] != before["Cancelled orders"]
    assert at.query_params["seller_consent_required"] == "false"
    # The figures are the engine's for that policy.
    con = db.connect(demo[0])
    expected = simulate.simulate(con, demo[1], Policy(seller_consent_required=False),
                                 replicates=simulate.DEFAULT_REPLICATES, seed=0)
    assert after["Cancelled orders"][0] == f"{expected['scenario']['cancelled_orders']['value']:,.0f}"
    # With consent off no window runs: its control is disabled, saying why.
    window = at.number_input(key="whatif_seller_response_hours")
    assert window.disabled and "consent is off" in window.help
    at.toggle(key="whatif_seller_consent_required").set_value(True).run()
    at.number_input(key="whatif_seller_response_hours").set_value(24.0).run()
    assert at.query_params["seller_response_hours"] == "24"
    at.button(key="whatif_reset").click().run()
    assert at.query_params == {"dataset": demo[1]}


def test_the_link_opens_the_same_scenario(demo):
    query = {"dataset": demo[1], "seller_response_hours": "24", "timeout_action": "lapse", "refund_channel.cod": "wallet"}
    at = s.open_page("whatif", query)
    assert s.problems(at) == []
    # No notice about the link; the only warning: cash-on-delivery refunds never went to the wallet in this
    # data, so that scenario is extrapolated, and the page says what it assumes.
    assert [w.value.startswith("**Extrapolated**") and "cod refund through the platform wallet" in plain(w.value)
            for w in at.warning] == [True]
    assert at.query_params == query
    assert at.number_input(key="whatif_seller_response_hours").value == 24.0
    assert at.selectbox(key="whatif_refund_channel__cod").value == "wallet"
    again = s.open_page("whatif", query)
    assert _tiles(again) == _tiles(at)


def test_invalid_policy_parameters_give_notices_and_defaults(demo):
    at = s.open_page("whatif", {"seller_response_hours": "-1", "timeout_action": "explode", "no_such": "1",
                                "replicates": "100000", "scenario": "not-a-saved-scenario"})
    assert s.problems(at) == []
    notices = " ".join(plain(w.value) for w in at.warning)
    for name in ("seller_response_hours", "timeout_action", "no_such", "replicates", "saved scenario"):
        assert name in notices, (name, notices)
    assert at.query_params == {"dataset": demo[1]}
    assert at.number_input(key="whatif_seller_response_hours").value == 72.0


def test_save_reopen_and_compare_scenarios(demo):
    at = s.open_page("whatif")
    at.number_input(key="whatif_seller_response_hours").set_value(24.0).run()
    at.text_input(key="whatif_save_name").set_value("One day")
    next(b for b in at.button if b.label == "Save scenario").click().run()
    assert s.problems(at) == []
    assert "scenario" in at.query_params
    at.toggle(key="whatif_seller_consent_required").set_value(False).run()
    at.text_input(key="whatif_save_name").set_value("No consent")
    next(b for b in at.button if b.label == "Save scenario").click().run()
    # A reload (a new session on the page's link) lists both, not only the one the link opens.
    reloaded = s.open_page("whatif", dict(at.query_params))
    assert s.problems(reloaded) == []
    assert sorted(reloaded.selectbox(key="whatif_pick").options) == ["No consent", "One day"]
    # Back to the baseline, then reopen the first scenario: the controls take its policy.
    at.button(key="whatif_reset").click().run()
    pick = at.selectbox(key="whatif_pick")
    first = next(o for o in pick.options if o == "One day")
    pick.select_index(pick.options.index(first)).run()
    at.button(key="whatif_open").click().run()
    assert at.number_input(key="whatif_seller_response_hours").value == 24.0
    assert at.toggle(key="whatif_seller_consent_required").value is True
    # Compare both with the baseline.
    from analytics import scenarios as store

    con = db.connect(demo[0])
    saved = {sc.name: sc.id for sc in store.list_for(con, demo[1])}
    at.multiselect(key="whatif_scenarios").set_value([saved["One day"], saved["No consent"]]).run()
    assert s.problems(at) == []
    # A static table whose cells wrap (a grid cut its last columns at 1280 px), its Markdown escaped.
    table = next(t.value for t in at.table if "No consent" in t.value.columns).map(plain)
    assert list(table.columns) == ["Figure", "Baseline", "One day", "No consent"]
    # An amount says its currency, as the intervals' table does; a cell holds the estimate over its next
    # period's interval only (both intervals made the cells too long to read side by side).
    gmv = table[table["Figure"] == "Cancelled GMV (USD)"]
    assert len(gmv) == 1 and re.fullmatch(r"[\d,.]+  \n\([\d,.]+ – [\d,.]+\)", gmv["One day"].iloc[0]), gmv
    assert set(at.query_params["scenarios"].split(",")) == {saved["One day"], saved["No consent"]}
    assert "compare" not in at.query_params   # the sidebar's comparison of periods, at its default
    # The comparison is in the link too.
    linked = s.open_page("whatif", dict(at.query_params))
    assert s.problems(linked) == []
    assert any("No consent" in t.value.columns for t in linked.table)
    # Beside the sidebar's comparison of periods (the link's compare=), on this page and on the Overview.
    both = {**dict(at.query_params), "compare": "year"}
    opened = s.open_page("whatif", both)
    assert s.problems(opened) == [] and not opened.warning, [w.value for w in opened.warning]
    assert any("No consent" in t.value.columns for t in opened.table)
    # The Overview takes the period comparison from it (What-if's own settings are not its).
    opened = s.open_page("overview", both)
    assert not any("compare" in w.value for w in opened.warning), [w.value for w in opened.warning]
    assert opened.selectbox(key="flt_compare").value == "year"


def test_the_calibration_shows_on_demand(demo):
    at = s.open_page("whatif")
    at.toggle(key="whatif_calibration_shown").set_value(True).run()
    assert s.problems(at) == []
    table = next(df for df in at.dataframe if "fitted" in df.value.columns)
    rows = {r["figure"]: r for r in table.value.to_dict("records")}
    # A generated data set shows what it was made with; a rate reads in percent, as the controls say it.
    assert table.proto.columns and "True (generated data)" in table.proto.columns
    assert rows["Acceptance rate"]["fitted"].endswith("%") and rows["Acceptance rate"]["true_value"].endswith("%")
    assert not rows["Seller's response time, median (hours)"]["fitted"].endswith("%")


def test_the_engine_s_self_check_says_observed_and_replayed_by_figure_name(demo):
    """The check's observed and replayed figures were an unlabelled '{...}' whose keys were codes
    (refund_wait_p50_business_days): they are a table of the figures' names."""
    at = s.open_page("whatif")
    at.toggle(key="whatif_calibration_shown").set_value(True).run()
    at.toggle(key="whatif_self_check").set_value(True).run()
    assert s.problems(at) == []
    assert not at.json
    table = next(t.value for t in at.table if "Replayed" in t.value.columns)
    assert list(table.columns) == ["Figure", "Observed", "Replayed"]
    figures = table["Figure"].tolist()
    assert "Cancelled orders" in figures and "Buyer's wait, median" in figures
    assert not [f for f in figures if "_" in f], figures
    # The baseline replays the data set as observed: each figure twice the same.
    assert (table["Observed"] == table["Replayed"]).all()


def _wait_tables(at) -> list:
    return [d.value for d in at.dataframe if "scenario_p50" in d.value.columns]


def test_the_wait_by_payment_method_is_drawn_when_opened_and_follows_the_controls(demo):
    at = s.open_page("whatif")
    assert _wait_tables(at) == []   # closed: not sent again at each control's change
    at = s.open_table(at, "wi_wait")
    assert s.problems(at) == []
    assert len(_wait_tables(at)) == 1
    at.toggle(key="whatif_seller_consent_required").set_value(False).run()
    (wait,) = _wait_tables(at)   # still open after the change, with the new scenario's figures
    con = db.connect(demo[0])
    expected = wt.wait_by_method(simulate.simulate(con, demo[1], Policy(seller_consent_required=False),
                                                   replicates=simulate.DEFAULT_REPLICATES, seed=0))
    con.close()
    assert len(wait) == expected.height   # one row per method, in the same order, shown with its label
    assert wait["scenario_p50"].tolist() == pytest.approx(expected["scenario_p50"].to_list(), nan_ok=True)


def test_the_wait_by_payment_method_writes_a_zero_change_as_every_change_is(demo):
    """The baseline against itself: each method's change in the buyer's wait is no change, written "±0"
    as on the tiles and in 'Every figure' (it read "0.0"); a real change keeps its sign ('+0.5', '-1.0').
    The download keeps the numbers."""
    at = s.open_table(s.open_page("whatif"), "wi_wait")
    assert s.problems(at) == []
    (wait,) = _wait_tables(at)
    measured = wait[wait["baseline_p50"].notna()]
    assert len(measured) > 0
    assert set(measured["delta_p50"]) == set(measured["delta_p90"]) == {"±0"}
    at.toggle(key="whatif_seller_consent_required").set_value(False).run()
    (wait,) = _wait_tables(at)
    changes = [c for c in wait["delta_p50"].tolist() + wait["delta_p90"].tolist() if c]
    assert changes and all(c == "±0" or re.fullmatch(r"[+-][\d,]+\.\d", c) for c in changes), changes


def _save(at, name: str, replace: bool = False):
    at.text_input(key="whatif_save_name").set_value(name)
    at.checkbox(key="whatif_save_replace").set_value(replace)
    next(b for b in at.button if b.label == "Save scenario").click()
    return at.run()


def test_a_compared_scenario_beyond_the_data_is_marked_extrapolated(demo):
    """Compared side by side, a 168-hour window (the data shows no answer after 72 hours) read like the
    others, though on its own its tiles and table say it is extrapolated."""
    at = s.open_page("whatif")
    at.number_input(key="whatif_seller_response_hours").set_value(168.0).run()
    _save(at, "Two weeks, compared")
    at.number_input(key="whatif_seller_response_hours").set_value(24.0).run()
    _save(at, "One day, compared")
    at.button(key="whatif_reset").click().run()
    from analytics import scenarios as store

    con = db.connect(demo[0])
    saved = {sc.name: sc.id for sc in store.list_for(con, demo[1])}
    con.close()
    at.multiselect(key="whatif_scenarios").set_value([saved["Two weeks, compared"], saved["One day, compared"]]).run()
    assert s.problems(at) == []
    table = next(t.value for t in at.table if "Baseline" in t.value.columns)
    assert [plain(c) for c in table.columns] == ["Figure", "Baseline", "Two weeks, compared (extrapolated)",
                                                 "One day, compared"]


def test_saving_under_an_existing_name_is_refused_unless_replacing(demo):
    from analytics import scenarios as store

    at = s.open_page("whatif")
    at.number_input(key="whatif_seller_response_hours").set_value(48.0).run()
    _save(at, "Two days")
    at.number_input(key="whatif_seller_response_hours").set_value(96.0).run()
    _save(at, "Two days")
    assert any("already saved" in e.value and "Replace a saved scenario" in e.value for e in at.error)
    con = db.connect(demo[0])
    try:
        kept = next(sc for sc in store.list_for(con, demo[1]) if sc.name == "Two days")
        assert kept.changes == {"seller_response_hours": 48.0}
    finally:
        con.close()
    _save(at, "Two days", replace=True)
    assert not at.error
    assert any("Replaced “Two days”" in m.value for m in at.success)
    con = db.connect(demo[0])
    try:
        kept = [sc for sc in store.list_for(con, demo[1]) if sc.name == "Two days"]
        assert len(kept) == 1 and kept[0].changes == {"seller_response_hours": 96.0}
    finally:
        con.close()


def test_saved_scenarios_are_listed_whole_and_their_names_as_text(demo):
    """The saved scenarios' table wraps its cells (a grid cut the changes at 1280 px); its cells are Markdown,
    so a name is escaped and shows as typed, never as a link."""
    from analytics.text import md

    at = s.open_page("whatif")
    at.number_input(key="whatif_seller_response_hours").set_value(36.0).run()
    name = "**Fast** [answers](http://127.0.0.1:9/x)"
    _save(at, name)
    assert s.problems(at) == []
    table = next(t.value for t in at.table if "Changes" in t.value.columns)
    row = table[table["Name"] == md(name)]
    assert len(row) == 1, list(table["Name"])
    assert "36" in row.iloc[0]["Changes"]


def test_the_sweep_follows_the_current_controls(demo, monkeypatch):
    from analytics import simulate

    seen = []
    real = simulate.sweep

    def recording(prep, param, values, policy=None, **kw):
        seen.append(policy)
        return real(prep, param, values, policy=policy, **kw)

    monkeypatch.setattr(simulate, "sweep", recording)
    at = s.open_page("whatif", {"dataset": demo[1], "seed": "3", "section": "sweep"})
    at.toggle(key="whatif_seller_consent_required").set_value(False).run()
    assert s.problems(at) == []
    assert seen and seen[-1] == Policy(seller_consent_required=False)


def test_the_sweep_says_which_of_its_values_are_extrapolated(demo):
    """The window's sweep (12 to 336 hours) drew 96, 168 and 336 hours like the others, though the data
    shows no answer later than the 72-hour window: those points rest on the fitted tail, and the sweep
    says so, as the tiles say it of such a scenario."""
    at = s.open_page("whatif", {"dataset": demo[1], "section": "sweep", "sweep": "seller_response_hours"})
    assert s.problems(at) == []
    said = " ".join(plain(c.value) for c in at.caption)
    assert "Extrapolated (beyond anything this data set shows, so resting on assumptions): 96, 168 and 336 " \
           "hours." in said, said
    # A sweep within the data says nothing of the kind.
    at = s.open_page("whatif", {"dataset": demo[1], "section": "sweep", "sweep": "premium_shipping_share"})
    assert not any("Extrapolated" in c.value for c in at.caption)


def test_a_zero_difference_has_no_arrow_and_reads_as_no_change(demo):
    """The baseline against itself: every change is "±0", grey, with no arrow, on the tiles and in the tables
    (a bare "0" read as a figure of nothing)."""
    at = s.open_page("whatif")
    tile = next(m for m in at.metric if m.label == "Cancelled orders")
    assert tile.delta == "±0"
    every = next(t.value for t in at.table if any(c.startswith("Difference") for c in t.value.columns))
    assert every[every["Figure"] == "Cancelled orders"].iloc[0, -1] == "±0"
    sure = next(t.value for t in at.table if "Change, next period like this one" in t.value.columns)
    assert sure[sure["Figure"] == "Cancelled orders"].iloc[0]["Change, next period like this one"] == "±0 (exact)"
    assert tile.proto.color == tile.proto.MetricColor.Value("GRAY")


@pytest.fixture(scope="module")
def olist(tmp_path_factory):
    if not (s.OLIST / s.OLIST_FILES[0]).exists():
        pytest.skip(f"the Olist sample is not at {s.OLIST}")
    path = tmp_path_factory.mktemp("olist") / "app.duckdb"
    return path, s.import_db(path, [s.OLIST / f for f in s.OLIST_FILES], name="Olist sample")


def test_olist_says_what_applies_and_offers_its_own_payment_methods(olist, monkeypatch):
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(olist[0]))
    at = s.open_page("whatif", {"dataset": olist[1], "section": "sweep"})
    assert s.problems(at) == []
    banner = " ".join(i.value for i in at.info)
    assert "no cancellation requests" in banner and "What still applies" in banner
    assert "refund routing and shipping mix still apply" not in banner
    # The sweep starts with a parameter that changes something here.
    assert at.selectbox(key="whatif_sweep").value == "dispatch_deadline_days"
    assert any("“cancel the order”" in c.value and "flat" in c.value for c in at.caption)
    keys = {w.key for w in at.selectbox if w.key and w.key.startswith("whatif_refund_channel__")}
    assert "whatif_refund_channel__credit_card" in keys and "whatif_refund_channel__boleto" in keys
    assert "whatif_refund_channel__card" not in keys
    # Olist records no refunds: where a method's refunds go changes nothing here, and its control says so.
    boleto = at.selectbox(key="whatif_refund_channel__boleto")
    assert boleto.disabled and "records no refunds" in boleto.help
    assert at.toggle(key="whatif_seller_consent_required").disabled
    # A link that sets it still opens; the setting, which changes nothing here, goes back to its default.
    again = s.open_page("whatif", {"dataset": olist[1], "refund_channel.boleto": "wallet"})
    assert s.problems(again) == []
    assert again.selectbox(key="whatif_refund_channel__boleto").value == "original"
    assert any("set back to its default (this data set records no refunds" in c.value for c in again.caption)


def test_olist_s_tiles_say_n_a_and_why_for_the_wait_it_cannot_measure(olist, monkeypatch):
    """Olist records no cancellation requests and no refunds: the buyer's wait is not measurable, and its
    tiles say "n/a" with why in their help, as the Overview's do; no dash with "vs baseline" and nothing
    to compare beside it."""
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(olist[0]))
    at = s.open_page("whatif", {"dataset": olist[1]})
    assert s.problems(at) == []
    tiles = {m.label: m for m in at.metric}
    for name in ("refund_wait_p50_business_days", "refund_wait_p90_business_days"):
        tile = tiles[wt.label(name)]
        assert (tile.value, tile.delta, tile.proto.delta_description) == ("n/a", "", ""), tile
        assert plain(tile.help) == ("Not available: this data set records no cancellation requests (cancelled "
                                    "orders are known by their status only).")
    # The figures it measures keep their value and their change against the baseline.
    assert tiles["Cancelled orders"].value != "n/a" and tiles["Cancelled orders"].proto.delta_description == "vs baseline"


def test_premium_shipping_share_is_the_datas_own_until_set(demo):
    at = s.open_page("whatif")
    assert at.toggle(key="whatif_premium_shipping_share_as_data").value is True
    assert "premium_shipping_share" not in at.query_params
    at.toggle(key="whatif_premium_shipping_share_as_data").set_value(False).run()
    at.slider(key="whatif_premium_shipping_share").set_value(0.5).run()
    assert s.problems(at) == []
    assert at.query_params["premium_shipping_share"] == "0.5"
    again = s.open_page("whatif", dict(at.query_params))
    assert again.toggle(key="whatif_premium_shipping_share_as_data").value is False
    assert again.slider(key="whatif_premium_shipping_share").value == 0.5


def test_on_a_large_data_set_the_sweep_is_drawn_on_demand_for_the_current_controls(demo, monkeypatch):
    from analytics import simulate
    from ui import whatif_sweep

    monkeypatch.setattr(whatif_sweep, "SWEEP_AUTO_MAX_ORDERS", 100)  # the demo's 3,000 orders count as large
    seen = []
    real = simulate.sweep
    monkeypatch.setattr(simulate, "sweep",
                        lambda prep, param, values, policy=None, **kw: seen.append(policy) or
                        real(prep, param, values, policy=policy, **kw))
    at = s.open_page("whatif", {"dataset": demo[1], "seed": "5", "section": "sweep"})
    assert any("drawn on demand" in i.value for i in at.info) and not seen
    at.button(key="whatif_sweep_draw").click().run()
    assert seen == [Policy()]
    assert not any("drawn on demand" in i.value for i in at.info)
    # A control changes: the old sweep is not shown as if it were the new policy's.
    at.number_input(key="whatif_seller_response_hours").set_value(24.0).run()
    assert any("drawn on demand" in i.value for i in at.info)
    at.button(key="whatif_sweep_draw").click().run()
    assert seen[-1] == Policy(seller_response_hours=24.0)


def test_saved_scenarios_are_private_to_the_session_that_saved_or_was_linked_to_them(demo):
    from analytics import scenarios as store

    alice = s.open_page("whatif")
    alice.number_input(key="whatif_seller_response_hours").set_value(36.0).run()
    _save(alice, "Private plan")
    alice_id = alice.query_params["scenario"]
    assert len(alice_id) >= 20  # an unguessable id
    # Another browser session does not see it, and saving the same name neither replaces nor clashes.
    bob = s.open_page("whatif")
    assert not any("Private plan" in df.value.get_column("name").to_list()
                   for df in bob.dataframe if "name" in df.value.columns)
    assert all(sb.key != "whatif_pick" for sb in bob.selectbox)
    bob.number_input(key="whatif_seller_response_hours").set_value(12.0).run()
    _save(bob, "Private plan")
    assert not bob.error
    con = db.connect(demo[0])
    try:
        mine = store.get(con, demo[1], alice_id)
        assert mine is not None and mine.changes == {"seller_response_hours": 36.0}
    finally:
        con.close()
    # Bob's list holds only his own; he cannot delete Alice's.
    assert bob.selectbox(key="whatif_pick").options == ["Private plan"]
    assert bob.selectbox(key="whatif_pick").value != alice_id
    # A link naming Alice's scenario opens it and adds it to the list of the session that follows it.
    carol = s.open_page("whatif", {"dataset": demo[1], "scenario": alice_id})
    assert s.problems(carol) == [] and not carol.warning
    assert carol.number_input(key="whatif_seller_response_hours").value == 36.0
    assert carol.selectbox(key="whatif_pick").options == ["Private plan"]
    assert carol.selectbox(key="whatif_pick").value == alice_id


def test_the_link_forgets_the_scenario_once_a_control_differs(demo):
    at = s.open_page("whatif")
    at.number_input(key="whatif_seller_response_hours").set_value(30.0).run()
    _save(at, "Thirty hours")
    assert "scenario" in at.query_params
    assert any("(“Thirty hours”)" in plain(c.value) and "Seller's response window = 30 hours" in plain(c.value)
               for c in at.caption)
    at.number_input(key="whatif_seller_response_hours").set_value(20.0).run()
    assert "scenario" not in at.query_params
    assert at.query_params["seller_response_hours"] == "20"
    assert any("modified from “Thirty hours”" in plain(c.value) for c in at.caption)
    # A scenario saved on the data set's own payment methods stays in the link until a control changes.
    _save(at, "Boleto to wallet")
    assert s.problems(at) == []
    assert "scenario" in at.query_params
    assert any("(“Boleto to wallet”)" in plain(c.value) for c in at.caption)


def test_both_intervals_are_shown_in_words_the_next_period_first(demo):
    at = s.open_page("whatif", {"dataset": demo[1], "seller_response_hours": "48"})
    assert s.problems(at) == [] and not at.warning   # 48 h: inside what the data shows
    sure = next(t.value for t in at.table if "Change, next period like this one" in t.value.columns)
    assert list(sure.columns) == ["Figure", "Change, next period like this one", "Change, these same orders",
                                  "Scenario, next period like this one", "Scenario, these same orders"]

    con = db.connect(demo[0])
    expected = simulate.simulate(con, demo[1], Policy(seller_response_hours=48),
                                 replicates=simulate.DEFAULT_REPLICATES, seed=0)
    con.close()
    row = sure.iloc[0]
    assert row["Figure"] == "Cancelled orders"
    change = expected["delta"]["cancelled_orders"]
    assert row["Change, next period like this one"] == f"{change['low']:+,.0f} – {change['high']:+,.0f}"
    # Every order of the demo data is fully observed: a 48-hour window is no draw for these same orders.
    assert change["orders_low"] == change["orders_high"] == change["value"]
    assert row["Change, these same orders"] == f"exactly {change['value']:+,.0f}"
    # The number of orders is the same in any period under any policy: the full table says "exact".
    every = next(t.value for t in at.table if "Baseline" in t.value.columns)
    assert "(exact)" in " ".join(every["Baseline"].astype(str))
    # Amounts are bare numbers in these tables: their label says the currency, as a tile writes it.
    assert "Cancelled GMV (USD)" in list(sure["Figure"]) and "Cancelled GMV (USD)" in list(every["Figure"])
    assert "Cancelled orders" in list(every["Figure"])


def test_an_extrapolated_window_is_marked_and_the_never_answer_lever_travels_in_the_link(demo):
    at = s.open_page("whatif")
    # Within the data's own window no answer is drawn: who never answers changes nothing, and its control
    # says so, disabled, until a longer window is set.
    never = at.slider(key="whatif_never_answer_share")
    assert never.disabled and "set a longer window first" in never.help and "72-hour window" in never.help
    at.number_input(key="whatif_seller_response_hours").set_value(168.0).run()
    assert not at.slider(key="whatif_never_answer_share").disabled
    assert s.problems(at) == []
    assert any(w.value.startswith("**Extrapolated**") and "72 hours" in plain(w.value) for w in at.warning)
    assert all(m.proto.delta_description == "extrapolated" for m in at.metric)
    at.slider(key="whatif_never_answer_share").set_value(0.25).run()
    assert at.query_params["never_answer_share"] == "0.25"
    assert any("25% of sellers are assumed never to answer" in plain(w.value) for w in at.warning)
    again = s.open_page("whatif", dict(at.query_params))
    assert s.problems(again) == []
    assert again.slider(key="whatif_never_answer_share").value == 0.25
    assert again.number_input(key="whatif_seller_response_hours").value == 168.0


def test_a_links_never_answer_share_at_a_window_the_data_shows_names_no_scenario(demo):
    """At the data's own 72-hour window who never answers changes nothing: a link's share is set back to its
    default (said so), so it is in neither the scenario's name, its assumptions nor the link, and the
    disabled control holds no value no one can clear."""
    at = s.open_page("whatif", {"timeout_action": "lapse", "never_answer_share": "0.3"})
    assert s.problems(at) == []
    never = at.slider(key="whatif_never_answer_share")
    assert never.disabled and never.value == 0.0
    assert "never_answer_share" not in at.query_params and at.query_params["timeout_action"] == "lapse"
    shown = " ".join([*(c.value for c in at.caption), *(w.value for w in at.warning), *(i.value for i in at.info)])
    assert "set back to its default (a 72-hour window is one the data shows" in shown
    assert "30%" not in shown and "never answer (assumption) =" not in shown
    plain_lapse = s.open_page("whatif", {"timeout_action": "lapse"})
    assert [m.value for m in at.metric] == [m.value for m in plain_lapse.metric]


def test_with_no_scenario_saved_in_the_view_the_page_says_saved_ones_come_back_with_their_link(demo):
    """A new tab lists no scenario (each view lists its own): the page says how one saved earlier comes back,
    and a save says to keep the link, rather than "no saved scenario yet" as if none had ever been saved."""
    at = s.open_page("whatif", {"section": "scenarios"})
    words = " ".join(c.value for c in at.caption)
    assert "No scenario saved in this view" in words and "keep it (Copy link, in the sidebar)" in words
    assert "No saved scenario yet" not in words
    _save(at, "Kept by its link", replace=True)
    assert any("Saved “Kept by its link”" in m.value and "keep it (Copy link" in m.value for m in at.success)
    again = s.open_page("whatif", dict(at.query_params))
    saved = next(t.value for t in again.table if "Changes" in t.value.columns)
    assert "Kept by its link" in " ".join(str(v) for v in saved.iloc[:, 0])


def test_a_save_empties_the_form_so_a_second_press_saves_nothing_twice(demo):
    """Enter in the name saves the scenario; the name and the Replace box are then emptied, so pressing
    "Save scenario" afterwards does not try the same name again and report it as already saved."""
    at = s.open_page("whatif")
    at.number_input(key="whatif_seller_response_hours").set_value(60.0).run()
    _save(at, "Sixty hours", replace=True)
    assert any("“Sixty hours”" in m.value for m in at.success)
    assert at.text_input(key="whatif_save_name").value == ""
    assert at.checkbox(key="whatif_save_replace").value is False
    next(b for b in at.button if b.label == "Save scenario").click().run()   # the name box is empty
    assert not at.error, [e.value for e in at.error]   # neither "already saved" nor "needs a name"
    assert any("Saved as “Sixty hours”" in m.value for m in at.success)
    # With the policy changed since, an empty name is an error again.
    at.number_input(key="whatif_seller_response_hours").set_value(72.0).run()
    next(b for b in at.button if b.label == "Save scenario").click().run()
    assert any("needs a name" in e.value for e in at.error)
    # A refused name stays in the box, to be changed.
    _save(at, "Sixty hours")
    assert any("already saved" in e.value for e in at.error)
    assert at.text_input(key="whatif_save_name").value == "Sixty hours"


def test_amounts_are_in_the_data_sets_currency(demo):
    """As on the Overview: the generated data set records USD, so its cancelled GMV reads 'USD 117,044' (no
    cents from a thousand up, so that it fits the tile; the help has it exactly), its change '+USD 1,234'."""
    at = s.open_page("whatif")
    at.toggle(key="whatif_seller_consent_required").set_value(False).run()
    assert s.problems(at) == []
    gmv = next(m for m in at.metric if m.label == wt.label("cancelled_gmv"))
    assert gmv.value.startswith("USD ") and float(gmv.value[4:].replace(",", "")) > 0, gmv.value
    assert gmv.proto.delta.startswith(("+USD ", "-USD ")), gmv.proto.delta
    if float(gmv.value[4:].replace(",", "")) >= 1000:
        assert "." not in gmv.value and "Exactly USD " in gmv.help
    others = [m for m in at.metric if m.label != gmv.label]
    assert others and not any("USD" in m.value for m in others)


def test_wait_tiles_say_days(demo):
    """The buyer's wait tiles read '7.0 days', as the Overview's: a bare '7.0' says nothing of what is counted."""
    at = s.open_page("whatif")
    assert s.problems(at) == []
    waits = [m for m in at.metric if m.label in (wt.label("refund_wait_p50_business_days"),
                                                  wt.label("refund_wait_p90_business_days"))]
    assert len(waits) == 2
    for tile in waits:
        number, unit = tile.value.split(" ")
        assert unit == "days" and float(number) > 0, tile.value
    assert not any(m.value.endswith("days") for m in at.metric if m not in waits)


def _tiles_with_changes(demo, changes: dict[str, float | tuple[float, float, float]]) -> dict:
    """The What-if tiles of a baseline replay whose changes are set to `changes` (figure -> value, or
    (value, low, high) of its interval; a value alone is exact), drawn alone; their protos by label."""
    import copy

    from streamlit.testing.v1 import AppTest

    def tiles():
        import streamlit as st

        from ui import whatif_results

        whatif_results.result_tiles(st.session_state["result"], "USD ")

    con = db.connect(demo[0])
    try:
        result = simulate.simulate(simulate.prepare_dataset(con, demo[1]), policy=Policy(), replicates=2, seed=0)
    finally:
        con.close()
    result = copy.deepcopy(result)
    for name, value in changes.items():
        value, low, high = value if isinstance(value, tuple) else (value, value, value)
        wt.get(result["delta"], name).update(value=value, low=low, high=high, orders_low=low, orders_high=high)
    at = AppTest.from_function(tiles)
    at.session_state["result"] = result
    at.run()
    return {m.label: m.proto for m in at.metric}


def test_a_change_too_small_to_show_is_no_change(demo):
    """A change that rounds to nothing ('-0.0 days', '-0') is shown as '±0', neutral, with no arrow (as the
    Overview's tiles do); a change that shows stays as it is."""
    shown = _tiles_with_changes(demo, {"refund_wait_p90_business_days": -0.01, "cancelled_orders": -0.3,
                                       "refund_wait_p50_business_days": 0.26})
    for name in ("refund_wait_p90_business_days", "cancelled_orders"):
        assert shown[wt.label(name)].delta == "±0", shown   # not "-0.0 days", "-0", nor a bare "0"
    assert shown[wt.label("refund_wait_p50_business_days")].delta == "+0.3 days", shown


def test_a_fall_in_money_points_down_in_its_own_colour(demo):
    """'USD -10,546' (as a fall was written) started with its currency, so Streamlit read it as a rise: a fall in cancelled GMV showed an
    up arrow in red. The arrow and colour come from the number: down and green for a fall in a figure whose
    rise is bad news, up and red for a rise; a fall in a figure whose rise is good news is red."""
    from streamlit.proto.Metric_pb2 import Metric

    shown = _tiles_with_changes(demo, {"cancelled_gmv": -10546.2, "cancelled_orders": 41})
    gmv = shown[wt.label("cancelled_gmv")]
    assert gmv.delta.startswith("-USD 10,5"), gmv.delta
    assert (gmv.direction, gmv.color) == (Metric.MetricDirection.DOWN, Metric.MetricColor.GREEN)
    orders = shown[wt.label("cancelled_orders")]
    assert (orders.direction, orders.color) == (Metric.MetricDirection.UP, Metric.MetricColor.RED)


def test_a_change_whose_interval_holds_no_change_is_neither_good_nor_bad_news(demo):
    """A fall of 1.0 day in the median wait, with a 95% interval from -2.7 to +0.7, was green: the data
    cannot say the policy shortens the wait. Such a tile is grey, its arrow still says the estimate's way,
    and its help says why; a change whose interval is all below 0 keeps its colour."""
    from streamlit.proto.Metric_pb2 import Metric

    shown = _tiles_with_changes(demo, {"refund_wait_p50_business_days": (-1.0, -2.7, 0.7),
                                       "cancelled_orders": (-40, -60, -20)})
    wait = shown[wt.label("refund_wait_p50_business_days")]
    assert (wait.direction, wait.color) == (Metric.MetricDirection.DOWN, Metric.MetricColor.GRAY)
    assert "interval holds no change" in wait.help
    orders = shown[wt.label("cancelled_orders")]
    assert (orders.direction, orders.color) == (Metric.MetricDirection.DOWN, Metric.MetricColor.GREEN)
    assert "interval holds no change" not in orders.help


def test_delta_style_reads_the_sign_from_the_number():
    from analytics.figures import HIGHER, LOWER
    from ui.views import delta_style

    assert delta_style(-5.0, "-BRL 5", better=HIGHER) == {
        "delta": "-BRL 5", "delta_color": "red", "delta_arrow": "down"}
    assert delta_style(5.0, "+BRL 5", better=HIGHER)["delta_color"] == "green"
    assert delta_style(-5.0, "-BRL 5", better=LOWER)["delta_color"] == "green"
    # Neither way is good news (refunds): grey, the arrow still says which way.
    assert delta_style(-17, "-17", better=None) == {"delta": "-17", "delta_color": "gray", "delta_arrow": "down"}
    assert delta_style(-0.01, "-0.0 days", better=LOWER) == {
        "delta": "±0", "delta_color": "off", "delta_arrow": "off"}
    assert delta_style(None, None, better=LOWER)["delta"] is None


def test_a_swept_amount_is_drawn_on_an_axis_in_its_currency(demo):
    """The sweep's money axis says 'USD', as the comparison charts' do; it said 'Currency'."""
    import json

    at = s.open_page("whatif", {"dataset": demo[1], "sweep_figures": "cancelled_gmv,cancelled_orders",
                                "section": "sweep"})
    assert s.problems(at) == []
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    titles = {}
    for spec in specs:
        if spec.get("title", {}).get("text") in (wt.label("cancelled_gmv"), wt.label("cancelled_orders")):
            titles[spec["title"]["text"]] = spec["layer"][1]["encoding"]["y"]["title"]
    assert titles == {wt.label("cancelled_gmv"): "USD", wt.label("cancelled_orders"): "Orders"}, titles


def test_only_the_open_tab_under_the_figures_is_drawn_and_the_link_keeps_it(demo):
    """Every figure, the sweep, the frontier and the saved scenarios are tabs: only the open one is drawn (a
    control's change redrew all four), the link's `section` is the open one, and a tab's settings are kept
    while another is open."""
    at = s.open_page("whatif")
    keys = {w.key for w in [*at.selectbox, *at.multiselect, *at.text_input]}
    assert "whatif_sweep" not in keys and "whatif_frontier_levers" not in keys
    assert any("Every figure" in m.value for m in at.markdown)
    assert "section" not in at.query_params   # the default tab
    at.session_state["whatif_section_tab"] = "Sweep one parameter"   # a click on the tab (no AppTest setter)
    at.run()
    assert s.problems(at) == [] and at.query_params["section"] == "sweep"
    assert not any("Every figure" in m.value for m in at.markdown)
    at.selectbox(key="whatif_sweep").set_value("dispatch_deadline_days").run()
    at.session_state["whatif_section_tab"] = "Policy frontier"
    at.run()
    assert at.query_params["section"] == "frontier" and at.query_params["sweep"] == "dispatch_deadline_days"
    assert at.multiselect(key="whatif_frontier_levers") is not None
    at.session_state["whatif_section_tab"] = "Sweep one parameter"
    at.run()
    assert at.selectbox(key="whatif_sweep").value == "dispatch_deadline_days"
    # The link opens the same tab.
    again = s.open_page("whatif", dict(at.query_params))
    assert again.selectbox(key="whatif_sweep").value == "dispatch_deadline_days"


def test_a_link_that_names_no_tab_opens_the_frontier_it_says_is_drawn(demo):
    """Links made before the tabs: one whose frontier is drawn opens on the frontier, drawn."""
    at = s.open_page("whatif", {"dataset": demo[1], "frontier": "true"})
    assert s.problems(at) == []
    assert at.session_state["whatif_section"] == "frontier"
    assert at.multiselect(key="whatif_frontier_levers") is not None


def test_choice_controls_offer_words_and_the_scenario_says_the_same_words(demo):
    """'When the seller does not answer in time', the dispatch deadline's action and the refund channels
    offered their codes ('auto cancel', 'none'); each option is now its words, and the scenario's sentence
    above the figures says the option chosen in the same words."""
    at = s.open_page("whatif")
    assert s.problems(at) == []
    timeout = at.selectbox(key="whatif_timeout_action")
    assert timeout.options == ["cancel the order", "let the request lapse"]
    late = at.selectbox(key="whatif_late_dispatch_action")
    assert late.options == ["wait for the seller", "cancel the order"]
    card = at.selectbox(key="whatif_refund_channel__card")
    assert card.options == ["original payment method", "platform wallet", "coupon"]
    timeout.set_value("lapse").run()
    at.selectbox(key="whatif_late_dispatch_action").set_value("auto_cancel").run()
    at.selectbox(key="whatif_refund_channel__card").set_value("wallet").run()
    assert s.problems(at) == []
    scenario = next(c.value for c in at.caption if c.value.startswith("Scenario"))
    said = plain(scenario)
    assert "When the window runs out = let the request lapse" in said, said
    assert "When the dispatch deadline passes = cancel the order" in said, said
    assert "Card refunds = platform wallet" in said, said
    # The link keeps the codes.
    assert at.query_params["timeout_action"] == "lapse" and at.query_params["late_dispatch_action"] == "auto_cancel"


def test_choice_controls_help_says_their_options_in_the_words_offered(demo):
    """The controls offered words ('let the request lapse') while their help explained the codes the page
    never shows ('auto_cancel: ... lapse: ... Default: auto_cancel. Allowed: one of auto_cancel, lapse')."""
    at = s.open_page("whatif")
    assert s.problems(at) == []
    codes = re.compile(r"auto_cancel|(?<!request )\blapse\b|\bnone\b|Default: (original(?! payment)|wallet)\b|one of ")
    for key in ("whatif_timeout_action", "whatif_late_dispatch_action", "whatif_refund_channel__card",
                "whatif_refund_channel__cash"):
        box = at.selectbox(key=key)
        said = plain(box.help)
        assert not codes.search(said), (key, said)
        for option in box.options:
            assert option in said.lower(), (key, option, said)
    assert "Default: cancel the order." in plain(at.selectbox(key="whatif_timeout_action").help)
    assert "Default: platform wallet" in plain(at.selectbox(key="whatif_refund_channel__cash").help)


def test_refund_times_name_their_channel_in_the_words_of_the_channel_controls(demo):
    """The refund channel controls offer 'original payment method' and 'platform wallet', but the refund time
    controls (and so the scenario's sentence) said 'Time to refund: original', 'Time to refund: wallet'."""
    at = s.open_page("whatif")
    labels = {w.key: plain(w.label) for w in at.selectbox if w.key and w.key.startswith("whatif_refund_days__")}
    assert labels == {"whatif_refund_days__original": "Time to refund: original payment method",
                      "whatif_refund_days__wallet": "Time to refund: platform wallet",
                      "whatif_refund_days__coupon": "Time to refund: coupon"}, labels
    at.selectbox(key="whatif_refund_days__wallet").set_value(5).run()
    scenario = plain(next(c.value for c in at.caption if c.value.startswith("Scenario")))
    assert "Time to refund: platform wallet = 5 business days" in scenario, scenario


def test_a_share_is_set_in_percent_as_the_scenario_says_it(demo):
    at = s.open_page("whatif", {"premium_shipping_share": "0.25"})
    share = next(w for w in at.slider if w.label == "Premium shipping share")
    assert share.value == 0.25 and share.proto.format == "percent"
    assert all(w.proto.format == "percent" for w in at.slider)   # every slider of the page is a share


def test_olist_s_figures_it_cannot_measure_say_why_under_the_tables(olist, monkeypatch):
    """A '—' in the tables is explained under them, grouped by why (the tiles' help alone said it): on Olist,
    the request figures for want of requests, the refund figures for want of refunds, transit for want of
    a shipping method."""
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(olist[0]))
    at = s.open_page("whatif", {"dataset": olist[1]})
    assert s.problems(at) == []
    said = [plain(c.value).removeprefix(":material/block: ").replace("**", "") for c in at.caption]
    assert ("Buyer's wait, median; Buyer's wait, 90th percentile: not available in this data set, because this "
            "data set records no cancellation requests (cancelled orders are known by their status only).") in said
    assert "Transit, median: not available in this data set, because orders in this data set carry no shipping " \
           "method." in said
    refunds = next(c for c in said if "because this data set records no refunds" in c)
    assert refunds.startswith("Refunds; Refunds kept on the platform; Amount kept on the platform:")
    assert not any(c.startswith("Not measurable on this data set") for c in said)   # the old list, without why


def test_a_linked_value_the_data_set_makes_idle_goes_back_to_its_default(olist, monkeypatch):
    """On Olist (no refunds recorded), a link setting card refunds to coupons named a change that changes
    nothing, and marked the whole scenario extrapolated; the value now goes back to its default, saying why,
    and the scenario is the baseline."""
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(olist[0]))
    at = s.open_page("whatif", {"dataset": olist[1], "refund_channel.credit_card": "coupon"})
    assert s.problems(at) == []
    captions = [c.value for c in at.caption]
    assert any(c.startswith("Credit card refunds: set back to its default (this data set records no refunds")
               for c in captions), captions
    assert any(c.startswith("Scenario: the baseline policy") for c in captions), captions
    assert not any("Extrapolated" in w.value for w in at.warning)
