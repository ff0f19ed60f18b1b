"""Controls that can change nothing are disabled with the reason, and the words of a scenario leave out
what the other settings make inert."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import app_support as s
import polars as pl
import pytest

from analytics import scenarios, whatif_notes
from analytics.filters import Filters, anchors_offered, restrict_to_options
from analytics.policy import Policy
from analytics.simulate import policy_parameters, prepare_frame


def test_consent_off_makes_the_window_its_action_and_the_never_answer_share_inert():
    assert Policy().inert() == {"dispatch_deadline_days": Policy().inert()["dispatch_deadline_days"]}
    off = Policy(seller_consent_required=False)
    assert set(off.inert()) == {"seller_response_hours", "timeout_action", "never_answer_share",
                                "dispatch_deadline_days"}
    assert "consent is off" in off.inert()["seller_response_hours"]
    assert "dispatch_deadline_days" not in Policy(late_dispatch_action="auto_cancel").inert()


def test_a_scenario_s_words_leave_out_an_inert_window():
    changes = Policy(seller_consent_required=False, seller_response_hours=24).changes()
    words = scenarios.describe(changes)
    assert "window" not in words.lower() and "24" not in words
    assert "consent" in words.lower()
    # A deadline without auto-cancel changes nothing: alone, it is the baseline.
    assert scenarios.describe({"dispatch_deadline_days": 3}) == "the baseline policy"
    assert "3 working days" in scenarios.describe({"dispatch_deadline_days": 3, "late_dispatch_action": "auto_cancel"})


def _orders(requests: bool, refunds: bool) -> pl.DataFrame:
    t0 = datetime(2026, 3, 2, 9)
    rows = []
    for i, oid in enumerate("ABCD"):
        rows.append({"order_id": oid, "placed_at": t0, "paid_at": t0 + timedelta(minutes=10), "payment_method": "card",
                     "amount": 10.0 + i, "shipped_at": t0 + timedelta(days=1)})
    rows[3].update(shipped_at=None, cancelled_at=t0 + timedelta(hours=5))
    if requests:
        rows[3].update(requested_at=t0 + timedelta(hours=2), reason="changed_mind", seller_response="accepted",
                       responded_at=t0 + timedelta(hours=5))
    if refunds:
        rows[3].update(refund_channel="original", refund_amount=13.0, refund_initiated_at=t0 + timedelta(hours=6),
                       refund_completed_at=t0 + timedelta(days=4))
    return pl.DataFrame(rows)


def test_without_requests_the_request_rules_are_idle_and_without_refunds_the_refund_rules():
    prep = prepare_frame(_orders(requests=False, refunds=False))
    params = policy_parameters(prep)
    idle = whatif_notes.idle(prep, params)
    consent = {p.name for p in params if p.group == "consent"}
    refunds = {p.name for p in params if p.group == "refunds"}
    assert consent | refunds | {"premium_shipping_share"} == set(idle)
    assert all("no cancellation requests" in idle[n] for n in consent)
    assert all("no refunds" in idle[n] for n in refunds)
    # A data set that records both leaves every rule live (it has no shipping methods: the mix is idle).
    prep = prepare_frame(_orders(requests=True, refunds=True))
    assert set(whatif_notes.idle(prep, policy_parameters(prep))) == {"premium_shipping_share"}


def test_a_date_anchor_the_data_set_has_no_date_for_is_not_offered():
    bounds = {"order": (date(2026, 1, 1), date(2026, 2, 1)), "request": (None, None), "refund": None}
    offered, missing = anchors_offered(bounds)
    assert offered == ("order",)
    assert set(missing) == {"request", "refund"} and "request time" in missing["request"]
    kept, problems = restrict_to_options(Filters(anchor="request"), {}, bounds)
    assert kept.anchor == "order"
    assert [(p.field, p.value, p.reason) for p in problems] == [("anchor", "request", "not_in_data")]
    both = {**bounds, "request": (date(2026, 1, 2), date(2026, 1, 30))}
    assert anchors_offered(both)[0] == ("order", "request")


@pytest.fixture(scope="module")
def olist_like(tmp_path_factory):
    """A stored data set with orders only (cancelled by status, no request, no refund, no shipping method)."""
    from analytics import db
    from analytics.ingest import store_frame

    path = tmp_path_factory.mktemp("idle") / "app.duckdb"
    con = db.connect(path)
    t0 = datetime(2026, 3, 2, 9)
    frame = pl.DataFrame([{"order_id": f"O{i}", "placed_at": t0 + timedelta(days=i), "payment_method": "card",
                           "amount": 10.0 + i, "paid_at": t0 + timedelta(days=i, hours=1),
                           "status": "canceled" if i % 5 == 0 else "delivered"} for i in range(60)])
    dataset = store_frame(con, frame, name="orders only", source_kind="test", source={}).dataset
    con.close()
    return path, dataset.id


def test_the_what_if_page_disables_the_idle_controls_with_the_reason(olist_like, monkeypatch):
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(olist_like[0]))
    at = s.open_page("whatif", {"dataset": olist_like[1]})
    assert s.problems(at) == []
    consent = at.toggle(key="whatif_seller_consent_required")
    assert consent.disabled and "no cancellation requests" in consent.help
    window = at.number_input(key="whatif_seller_response_hours")
    assert window.disabled
    deadline = at.number_input(key="whatif_dispatch_deadline_days")
    assert deadline.disabled and "nothing happens when the dispatch deadline passes" in deadline.help
    at.selectbox(key="whatif_late_dispatch_action").set_value("auto_cancel").run()
    assert not at.number_input(key="whatif_dispatch_deadline_days").disabled


def test_the_overview_offers_only_the_order_date_when_nothing_else_is_dated(olist_like, monkeypatch):
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(olist_like[0]))
    at = s.open_page("overview", {"dataset": olist_like[1], "anchor": "request"})
    # The link's anchor is refused by name, as text.
    assert any("anchor\\: “request” is not in this data set\\; using the order date" in w.value for w in at.warning)
    control = next(c for c in at.get("button_group") if c.label == "Dates by")
    assert list(control.options) == ["Order date"]
    assert "Request date is not offered: no cancellation request in this data set has a request time" in control.help
    assert "Refund date is not offered" in control.help
