"""Links are the state: a page opened from a link shows what the link says; an invalid or unknown
parameter gives a visible notice and its default, never an exception."""

from __future__ import annotations

import app_support as s
import pytest


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("links") / "app.duckdb"
    return path, s.demo_db(path)


@pytest.fixture(autouse=True)
def _database(demo, monkeypatch):
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(demo[0]))


BAD = {
    "overview": {"from": "2026-02-30", "to": "yesterday", "anchor": "ship", "payment": "card,<script>",
                 "stage": "nowhere", "nonsense": "1"},
    "reasons": {"focus": "no_such_reason", "period": "fortnight", "breakdown": "everything"},
    "refunds": {"threshold": "-3", "group": "everything", "measure": "1e9"},
    "sellers": {"sort": "drop table", "q": "x" * 500},
    "data": {"dataset": "../../etc/passwd"},
}


@pytest.mark.parametrize("page", [p for p in BAD if p in s.existing_pages()])
def test_invalid_parameters_give_a_notice_and_the_defaults(page, demo):
    at = s.open_page(page, BAD[page])
    assert s.problems(at) == []
    notices = " ".join(w.value for w in at.warning)
    assert "could not be used" in notices
    # The URL is rewritten to what is shown: the bad values are gone, the good ones stay.
    kept = {"payment": "card"} if page == "overview" else {}
    assert at.query_params == {"dataset": demo[1], **kept}, at.query_params


def test_unknown_data_set_falls_back_to_the_demo_with_a_notice(demo):
    at = s.open_page("overview", {"dataset": "A" * 22})
    assert s.problems(at) == []
    assert "data set was not found" in " ".join(w.value for w in at.warning)
    assert at.query_params["dataset"] == demo[1]


def test_a_link_sets_the_filters_and_the_page_state(demo):
    from analytics import db, report
    from analytics.filters import Filters

    query = {"dataset": demo[1], "payment": "card", "from": "2026-02-01", "to": "2026-03-31"}
    at = s.open_page("overview", query)
    assert s.problems(at) == [] and not at.warning
    assert at.query_params == query
    assert at.sidebar.multiselect(key="flt_payment").value == ["card"]
    con = db.connect(demo[0])
    expected = report.report(con, demo[1], Filters.from_query(query)[0])
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["Cancellation requests"] == f"{expected['cancellation_requests']:,}"

    refunds = s.open_page("refunds", {"dataset": demo[1], "group": "channel", "threshold": "7"})
    assert refunds.query_params == {"dataset": demo[1], "group": "channel", "threshold": "7"}
    assert [x.value for x in refunds.subheader][:2] == ["How long refunds take, by refund channel",
                                                        "Share over 7 business days"]


def test_changing_a_filter_rewrites_the_link(demo):
    at = s.open_page("overview")
    at.sidebar.multiselect(key="flt_payment").set_value(["cod", "card"]).run()
    assert at.query_params["payment"] == "card,cod"
    at.sidebar.button(key="flt_clear").click().run()
    assert "payment" not in at.query_params


def test_sidebar_links_carry_the_shared_state(demo):
    at = s.open_page("overview", {"dataset": demo[1], "payment": "card"})
    links = {link.label: link for link in at.sidebar.get("page_link")}
    assert set(links) >= {"Overview", "Reasons", "Refunds", "Sellers", "Data"}
    reasons = links["Reasons"].proto
    assert "payment=card" in reasons.query_string and f"dataset={demo[1]}" in reasons.query_string


def test_a_visit_to_a_page_without_the_filters_keeps_them_in_the_links(demo):
    """The What-if and Data pages use neither the filters nor the period comparison, but a link that goes
    through them keeps both: in their own link (a reload, a copied link) and in the sidebar's link to the
    Overview, which opens on the same year's comparison, not the previous period's."""
    from urllib.parse import parse_qsl

    query = {"dataset": demo[1], "compare": "year", "payment": "card"}
    for page in ("whatif", "data"):
        at = s.open_page(page, query)
        assert s.problems(at) == [] and not at.warning, [w.value for w in at.warning]
        assert at.query_params["compare"] == "year" and at.query_params["payment"] == "card", at.query_params
        links = {link.label: dict(parse_qsl(link.proto.query_string)) for link in at.sidebar.get("page_link")}
        assert links["Overview"] == query, (page, links["Overview"])
    # A change on the What-if page keeps them too.
    at = s.open_page("whatif", query)
    at.number_input(key="whatif_seller_response_hours").set_value(24.0).run()
    assert at.query_params == {**query, "seller_response_hours": "24"}
    overview = s.open_page("overview", links["Overview"])
    assert s.problems(overview) == []
    assert overview.selectbox(key="flt_compare").value == "year"
    assert overview.sidebar.multiselect(key="flt_payment").value == ["card"]
    # What no page could use is not carried on, and said so here as the Overview says it (the link is written
    # again without it: the Overview would not see it).
    for page in ("whatif", "data"):
        odd = s.open_page(page, {"dataset": demo[1], "compare": "fortnight", "from": "2026-02-30", "payment": "card"})
        assert s.problems(odd) == []
        assert "compare" not in odd.query_params and "from" not in odd.query_params
        assert odd.query_params["payment"] == "card"
        notices = " ".join(w.value for w in odd.warning).replace("\\", "")   # as read: without the escapes
        assert "could not be used" in notices and "2026-02-30" in notices and "fortnight" in notices, notices


def test_switching_the_date_anchor_keeps_an_open_range_open(demo):
    at = s.open_page("overview")
    at.sidebar.get("button_group")[0].set_value("request").run()  # the "Dates by" control
    assert s.problems(at) == []
    assert at.query_params.get("anchor") == "request"
    assert "from" not in at.query_params and "to" not in at.query_params
    # A chosen end is kept when the anchor changes.
    at = s.open_page("overview", {"from": "2026-02-02"})
    at.sidebar.get("button_group")[0].set_value("refund").run()
    assert at.query_params.get("from") == "2026-02-02" and "to" not in at.query_params


def test_the_reasons_breakdown_open_is_the_links_and_only_it_is_drawn(demo):
    """Each breakdown of the Reasons page is a tab, the link's `breakdown` the open one: only its charts
    are drawn (with the two above the tabs). A tab opened by a click is written to the link; the period
    chosen in "Over time" stays in the link while another tab is open, and is back with its tab."""
    shown = {"stage": ["Reasons by stage"], "payment_method": ["Reasons by payment method"],
             "over_time": ["Requests by reason over time"],
             "outcomes": ["How these requests end", "Seller response time by reason"]}
    for breakdown, headings in shown.items():
        query = {"dataset": demo[1]} | ({"breakdown": breakdown} if breakdown != "stage" else {})
        at = s.open_page("reasons", query)
        assert s.problems(at) == [] and not at.warning
        assert [h.value for h in at.subheader] == ["Requests by reason", "Share of cancelled GMV", *headings]
        assert len(at.get("vega_lite_chart")) == 3
        assert at.query_params == query
    def period(at):
        return next(b for b in at.get("button_group") if b.key == "reasons_period")

    at = s.open_page("reasons", {"dataset": demo[1], "period": "month"})
    at.session_state["reasons_breakdown_tab"] = "Over time"   # a click on the tab (tabs have no AppTest setter)
    at.run()
    assert at.query_params == {"dataset": demo[1], "breakdown": "over_time", "period": "month"}
    assert period(at).value == "month"
    period(at).set_value("day").run()
    at.session_state["reasons_breakdown_tab"] = "By stage"
    at.run()
    assert at.query_params == {"dataset": demo[1], "period": "day"}
    at.session_state["reasons_breakdown_tab"] = "Over time"
    at.run()
    assert period(at).value == "day"
