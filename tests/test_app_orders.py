"""The Orders page: opened from a link it lists exactly the orders the link names (filters, group, search,
sort, page) and keeps them in the URL; it pages, searches and clears the group; the other pages link to it
with the figure's group and the same filters."""

from __future__ import annotations

from urllib.parse import parse_qsl

import app_support as s
import pytest

from analytics import db, drill, report
from analytics.charts import NO_STAGE, NO_STATUS_WORDS, plain
from analytics.filters import Filters
from analytics.text import md


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("orders") / "app.duckdb"
    return path, s.demo_db(path)


@pytest.fixture(autouse=True)
def _database(demo, monkeypatch):
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(demo[0]))


def _total(at) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("**") and "order" in m.value)


def _expected(demo, filters: Filters, group: drill.Group, **kw):
    con = db.connect(demo[0])
    try:
        return drill.orders(con, demo[1], filters, group, **kw)
    finally:
        con.close()


def test_a_link_restores_the_list(demo):
    query = {"dataset": demo[1], "payment": "card", "g.of": "cancelled", "sort": "amount", "desc": "true", "page": "2"}
    at = s.open_page("orders", query)
    assert s.problems(at) == [] and not at.warning
    filters = Filters(payment_methods=("card",))
    frame, total = _expected(demo, filters, drill.Group(of="cancelled"), sort="amount", descending=True,
                             offset=50, limit=50)
    con = db.connect(demo[0])
    try:
        assert total == report.report(con, demo[1], filters)["cancelled_orders"]
    finally:
        con.close()
    assert _total(at).startswith(f"**{total:,} orders** · showing 51 to ")
    assert at.query_params == query
    assert at.number_input(key="orders_page").value == 2
    assert at.dataframe[0].value["order_id"].tolist() == frame["order_id"].to_list()
    assert "cancelled orders" in at.info[0].value


def test_paging_searching_and_clearing_the_group(demo):
    at = s.open_page("orders", {"dataset": demo[1], "g.of": "requests"})
    first = at.dataframe[0].value["order_id"].tolist()
    assert len(first) == 50
    at.number_input(key="orders_page").increment().run()
    assert at.query_params["page"] == "2"
    second = at.dataframe[0].value["order_id"].tolist()
    assert second and not set(first) & set(second)

    wanted = second[0]
    at.text_input(key="orders_q").input(wanted.lower()).run()
    assert "page" not in at.query_params and at.query_params["q"] == wanted.lower()
    assert wanted in at.dataframe[0].value["order_id"].tolist()
    assert _total(at) == f"**{_expected(demo, Filters(), drill.Group(of='requests'), search=wanted)[1]:,} order" + \
        ("**" if _total(at).endswith("order**") else "s**")

    at.button(key="orders_clear_group").click().run()
    assert "g.of" not in at.query_params and not at.info


def test_a_bad_group_in_a_link_gives_a_notice_and_every_order(demo):
    at = s.open_page("orders", {"dataset": demo[1], "g.of": "everything", "g.outcome": "won", "page": "-4"})
    assert s.problems(at) == []
    notices = " ".join(w.value for w in at.warning)
    assert "g\\.of" in notices and "g\\.outcome" in notices and "page" in notices  # Markdown-escaped
    assert at.query_params == {"dataset": demo[1]}


def _links(at) -> list[tuple[str, dict[str, str]]]:
    return [(link.label, dict(parse_qsl(link.proto.query_string))) for link in at.main.get("page_link")]


def test_the_pages_link_to_the_orders_behind_their_figures(demo):
    at = s.open_page("overview", {"dataset": demo[1], "payment": "card"})
    tiles = {m.label: m.value for m in at.metric}
    links = _links(at)
    assert (f"See the {tiles['Cancellation requests']} orders",
            {"dataset": demo[1], "payment": "card", "g.of": "requests"}) in links
    assert (f"See the {tiles['Refunds']} orders", {"dataset": demo[1], "payment": "card", "g.of": "refunds"}) in links

    reasons = s.open_page("reasons", {"dataset": demo[1], "focus": "wrong_item"})
    label, query = next((k, v) for k, v in _links(reasons) if "with the reason" in k)
    assert query == {"dataset": demo[1], "g.of": "requests", "g.reason": "wrong_item"}
    con = db.connect(demo[0])
    try:
        rows = report.reasons(con, demo[1]).frame
    finally:
        con.close()
    n = rows.filter(rows["reason"] == "wrong_item")["requests"][0]
    assert label.startswith(f"See the {n:,} orders")

    refunds = s.open_page("refunds", {"dataset": demo[1]})
    assert any(q.get("g.payment_method") == "card" and q.get("g.of") == "refunds" for _, q in _links(refunds))


def test_every_outcome_and_every_stage_of_cancellation_leads_to_its_orders(demo):
    """Under "How requests end" and the life cycle: one link per outcome and per stage, counting what the
    report counts."""
    at = s.open_page("overview", {"dataset": demo[1]})
    assert s.problems(at) == []
    links = dict((label, query) for label, query in _links(at))
    con = db.connect(demo[0])
    try:
        outcomes = report.outcomes(con, demo[1]).frame
        stages = report.stages(con, demo[1]).frame
    finally:
        con.close()
    accepted = outcomes.filter(outcomes["outcome"] == "accepted")["requests"][0]
    assert links[f"Accepted by seller: {accepted:,} requests"] == {"dataset": demo[1], "g.of": "requests",
                                                                  "g.outcome": "accepted"}
    awaiting = stages.filter(stages["stage"] == "awaiting_shipment")["cancelled_orders"][0]
    assert links[f"Cancelled awaiting shipment: {awaiting:,} orders"] == {
        "dataset": demo[1], "g.of": "cancelled", "g.cancel_stage": "awaiting_shipment"}


def test_the_list_sorts_by_a_time_it_works_out(demo):
    query = {"dataset": demo[1], "g.of": "refunds", "sort": "refund_business_days", "desc": "true"}
    at = s.open_page("orders", query)
    assert s.problems(at) == [] and not at.warning
    frame, _ = _expected(demo, Filters(), drill.Group(of="refunds"), sort="refund_business_days", descending=True,
                         limit=50)
    shown = at.dataframe[0].value
    assert shown["order_id"].tolist() == frame["order_id"].to_list()
    days = shown["refund_business_days"].dropna().tolist()
    assert days and days == sorted(days, reverse=True)
    sort = at.selectbox(key="orders_sort")
    assert sort.value == "refund_business_days"
    # The column sorted by is shown though not among the columns shown by default.
    assert "refund_business_days" not in drill.SHOWN and "refund_business_days" in _shown(at)
    assert sort.format_func("refund_business_days") == "Refund time (days)"
    at.toggle(key="orders_desc").set_value(False).run()
    at.selectbox(key="orders_sort").set_value("dispatch_business_days").run()
    assert at.query_params["sort"] == "dispatch_business_days"
    at.button(key="orders_clear_group").click().run()  # every order: the shipped ones have a time to ship
    ship = at.dataframe[0].value["dispatch_business_days"].dropna().tolist()
    first, _ = _expected(demo, Filters(), drill.Group(), sort="dispatch_business_days", limit=50)
    assert len(ship) == 50 and ship == first["dispatch_business_days"].to_list()
    assert ship[0] == _expected(demo, Filters(), drill.Group())[0]["dispatch_business_days"].min()


def _shown(at) -> list[str]:
    return list(at.dataframe[0].proto.column_order)


def test_the_list_shows_a_few_columns_and_the_others_when_chosen(demo):
    at = s.open_page("orders", {"dataset": demo[1], "g.of": "refunds"})
    assert s.problems(at) == []
    assert _shown(at) == ["order_id", "placed_at", "cancel_stage", "reason", "outcome", "refund_amount"]
    # The table holds every column (the downloads too); the choice only shows them.
    assert list(at.dataframe[0].value.columns) == list(drill.COLUMNS)
    at.multiselect(key="orders_cols").set_value(["refund_channel", "amount", "placed_at"]).run()
    assert _shown(at) == ["order_id", "placed_at", "amount", "refund_channel"]
    assert at.query_params["cols"] == "refund_channel,amount,placed_at"
    reopened = s.open_page("orders", dict(at.query_params))
    assert s.problems(reopened) == [] and not reopened.warning
    assert _shown(reopened) == ["order_id", "placed_at", "amount", "refund_channel"]
    # A column the list does not have is refused with a notice; the known ones stay chosen.
    bad = s.open_page("orders", {"dataset": demo[1], "cols": "outcome,password"})
    assert "cols" in " ".join(w.value for w in bad.warning)
    assert _shown(bad) == ["order_id", "placed_at", "outcome"]   # placed_at: the column sorted by
    # The column sorted by comes right after the order id, chosen or not: at the list's far right it was
    # beyond a 1280 px page, and the list looked unsorted.
    far = drill.SORTS[-1] if drill.SORTS[-1] != "placed_at" else drill.SORTS[-2]
    assert drill.COLUMNS.index(far) > drill.COLUMNS.index("refund_amount")
    at.selectbox(key="orders_sort").set_value(far).run()
    assert s.problems(at) == []
    assert _shown(at) == ["order_id", far, "placed_at", "amount", "refund_channel"]


def test_the_drill_down_names_its_groups_in_the_charts_words(demo):
    """The Refunds page's links to each payment method's and channel's refunds, and the Orders page's note on
    what it lists, name the group as the charts do ('Cash on delivery', 'Awaiting shipment', 'Paid'), never
    by its code; a label from the data stays the text it is."""
    refunds = s.open_page("refunds", {"dataset": demo[1]})
    assert s.problems(refunds) == []
    named = {(field, q[field]): label for label, q in _links(refunds) if q.get("g.of") == "refunds"
             for field in ("g.payment_method", "g.refund_channel") if field in q}
    assert {code for _, code in named} >= {"cod", "bank_transfer", "card", "coupon", "original"}
    for (_, code), label in named.items():
        assert label.split(": ")[0] == md(plain(code)), label   # 'Cash on delivery: 32 refunds'

    at = s.open_page("orders", {"dataset": demo[1], "g.of": "cancelled", "g.cancel_stage": "awaiting_shipment",
                                "g.payment_method": "cod"})
    assert s.problems(at) == []
    listed = at.info[0].value
    assert "cancelled at stage Awaiting shipment" in listed and "paid by Cash on delivery" in listed, listed
    assert "awaiting_shipment" not in listed and "cod" not in listed
    at = s.open_page("orders", {"dataset": demo[1], "g.reached": "paid", "g.left_after": "paid",
                                "g.stage": "none", "g.status": drill.NO_STATUS})
    listed = at.info[0].value
    for words in ("reached step Paid", "left after step Paid", f"stage {NO_STAGE}", f"status {md(NO_STATUS_WORDS)}"):
        assert words in listed, listed

    hostile = "**pmbold** [pl](http://evil.example/pl) <b>x</b>"
    at = s.open_page("orders", {"dataset": demo[1], "g.payment_method": hostile})
    assert s.problems(at) == []
    listed = at.info[0].value
    assert f"paid by {md(plain(drill.Group(payment_method=hostile).payment_method))}" in listed
    assert "**pmbold**" not in listed and "](http" not in listed and "<b>" not in listed


def test_each_column_of_the_list_is_as_wide_as_its_longest_value_and_the_order_stays_in_view(demo):
    import json
    import math

    from ui.tables import CELL_PX, CHAR_PX

    at = s.open_page("orders", {"dataset": demo[1], "g.of": "refunds"})
    assert s.problems(at) == []
    config = json.loads(at.dataframe[0].proto.columns)
    shown = at.dataframe[0].value
    # The longest outcome in words on the page (e.g. "Not cancellable (shipped)", 25 characters) fits.
    longest = max(len(v) for v in shown["outcome"].dropna())
    assert config["outcome"]["width"] == math.ceil(max(longest, len("Outcome")) * CHAR_PX) + CELL_PX
    assert config["placed_at"]["width"] == math.ceil(len("YYYY-MM-DD HH:mm") * CHAR_PX) + CELL_PX
    assert config["order_id"]["pinned"] is True


def test_fitted_widths_hold_the_header_and_the_longest_value_by_hand():
    import polars as pl

    from ui.tables import fitted_widths

    frame = pl.DataFrame({"outcome": ["Rejected by seller", None, "Not cancellable (shipped)"],
                          "refund_amount": [1234.5, None, -3.0], "reason": [None, None, None]}).with_columns(
        pl.col("reason").cast(pl.String))
    # 25 characters x 6.5 px (rounded up) + 24 px of padding; "-1,234.50" would be 9 characters, the largest with a sign
    # 9; the header "Refunded amount" (15) is longer; an empty column is as wide as its header "Reason".
    assert fitted_widths(frame) == {"outcome": 187, "refund_amount": 122, "reason": 63}
