"""A seller's own view on the Sellers page, on the eleven hand-worked orders (test_metrics_handmade.py):
opened by its link (`shown`), or by selecting the seller's row, which puts it in the link; Close leaves it.

Seller S1's orders: O1 (placed 01-05, cancelled), O2 (01-05, cancelled), O7 (01-12, cancelled), O9 (02-03,
cancelled by status). By week (Monday starts): 01-05 2 orders, 2 cancelled; 01-12 1, 1; 01-19 and 01-26
none; 02-02 1, 1. Its link: "See the 4 orders of seller S1"."""

from __future__ import annotations

from datetime import date

import app_support as s
import pytest

from analytics import db, ingest, page_tables

try:
    from test_metrics_handmade import canonical_frame
except ImportError:  # tests collected as a package
    from tests.test_metrics_handmade import canonical_frame


@pytest.fixture(scope="module")
def eleven(tmp_path_factory):
    path = tmp_path_factory.mktemp("seller_view") / "eleven.duckdb"
    con = db.connect(path)
    dataset = ingest.store_frame(con, canonical_frame(), name="eleven orders", source_kind="import",
                                 source={"test": "hand-worked"}).dataset
    con.close()
    return path, dataset.id


@pytest.fixture(autouse=True)
def _database(eleven, monkeypatch):
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(eleven[0]))


# The seller table's widget (its selection) for the whole list, ranked by cancelled GMV.
TABLE = page_tables.seller_table_key("", 1, "cancelled_gmv") + "_df"


def _view(at) -> list[str]:
    return [h.value for h in at.subheader if h.value.startswith("Seller ")]


def _weeks(at) -> list[tuple[date, int, int]]:
    frame = next(d.value for d in at.dataframe if "period" in d.value.columns)
    # A date column reaches the page as Arrow's date: read back as a date (a timestamp has its .date()).
    return [(p.date() if hasattr(p, "date") else p, o, c)
            for p, o, c in zip(frame["period"], frame["orders"], frame["cancelled_orders"], strict=True)]


def _orders_link(at):
    return [e for e in at.get("page_link") if "seller" in e.proto.label]


def test_a_link_opens_the_sellers_own_view(eleven):
    at = s.open_page("sellers", {"dataset": eleven[1], "shown": "S1"})
    assert s.problems(at) == [] and not at.warning
    assert _view(at) == ["Seller S1 by week"]
    s.open_table(at, "sl_trend")
    assert _weeks(at) == [(date(2026, 1, 5), 2, 2), (date(2026, 1, 12), 1, 1), (date(2026, 1, 19), 0, 0),
                          (date(2026, 1, 26), 0, 0), (date(2026, 2, 2), 1, 1)]
    (link,) = _orders_link(at)
    assert link.proto.label == "See the 4 orders of seller S1"
    assert link.proto.query_string == f"dataset={eleven[1]}&g.seller=S1"
    assert at.query_params["shown"] == "S1"


def test_selecting_a_row_shows_its_seller_and_puts_it_in_the_link_and_close_leaves_it(eleven):
    at = s.open_page("sellers", {"dataset": eleven[1]})
    assert _view(at) == []
    table = at.dataframe[0].value
    row = list(table["seller_id"]).index("S4")
    at.session_state[TABLE] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    at.run()
    assert s.problems(at) == []
    assert _view(at) == ["Seller S4 by week"]
    assert at.query_params["shown"] == "S4"
    at.button(key="sl_close_seller").click().run()
    assert _view(at) == [] and "shown" not in at.query_params
    at.run()  # the row is still selected: the view stays closed until another row is chosen
    assert _view(at) == []


def test_a_seller_the_data_set_does_not_have_is_a_notice(eleven):
    at = s.open_page("sellers", {"dataset": eleven[1], "shown": "<b>S9</b>"})
    assert s.problems(at) == [] and _view(at) == []
    assert "the seller “<b>S9</b>” has no orders" in at.warning[0].value.replace("\\", "")
    assert "shown" not in at.query_params


def test_a_link_ticks_the_shown_sellers_row_and_a_search_that_hides_it_hides_its_view(eleven):
    at = s.open_page("sellers", {"dataset": eleven[1], "shown": "S1"})
    assert s.problems(at) == []
    table = at.dataframe[0]
    row = list(table.value["seller_id"]).index("S1")
    # The row is ticked, as a click on it would have ticked it: Streamlit's selection state says so.
    assert at.session_state[TABLE]["selection"]["rows"] == [row]
    assert _view(at) == ["Seller S1 by week"]
    # A search that lists no seller hides the view (the seller is no longer in the table); clearing the
    # search brings it back, still in the link.
    at.text_input(key="sellers_q").set_value("zzz").run()
    assert s.problems(at) == [] and _view(at) == []
    assert any("Seller S1 is not among the sellers listed" in c.value for c in at.caption)
    at.text_input(key="sellers_q").set_value("").run()
    assert _view(at) == ["Seller S1 by week"] and at.query_params["shown"] == "S1"
    # A search that lists other sellers: S1's tick did not move onto the seller now in its row's place.
    at.text_input(key="sellers_q").set_value("S4").run()
    assert s.problems(at) == [] and _view(at) == [] and at.query_params["shown"] == "S1"
    assert list(at.dataframe[0].value["seller_id"]) == ["S4"]
