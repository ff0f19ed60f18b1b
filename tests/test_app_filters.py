"""The shared filters: "Clear filters" clears them (and the link), and another data set starts with its own
dates, not the last one's; codes read as words in the filters and the sentence that sums them up."""

from __future__ import annotations

import app_support as s
import pytest

from analytics import db, importer
from tests.conftest import SAMPLE_CSV


@pytest.fixture(scope="module")
def two(tmp_path_factory):
    path = tmp_path_factory.mktemp("filters") / "app.duckdb"
    demo = s.demo_db(path, orders=2_000)
    con = db.connect(path)
    try:
        sample = importer.import_files(con, [SAMPLE_CSV], name="Sample shop").dataset.id
    finally:
        con.close()
    return path, demo, sample


@pytest.fixture(autouse=True)
def _database(two, monkeypatch):
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(two[0]))


@pytest.mark.parametrize("page", ["overview", "reasons"])
def test_clear_filters_clears_them_and_the_link(two, page):
    at = s.open_page(page, {"dataset": two[1], "from": "2026-03-01", "to": "2026-03-31", "payment": "western_union"})
    assert at.query_params["payment"] == "western_union"
    at.button(key="flt_clear").click().run()
    assert s.problems(at) == []
    assert at.multiselect(key="flt_payment").value == []
    assert {"from", "to", "payment"}.isdisjoint(at.query_params)


def test_another_data_set_starts_with_its_own_dates(two):
    at = s.open_page("overview", {"dataset": two[2]})   # the 20-order sample, its own few days
    assert s.problems(at) == []
    sample_range = at.date_input(key="flt_dates").value
    at.selectbox(key="dataset_pick").set_value(two[1]).run()
    assert s.problems(at) == []
    demo_range = at.date_input(key="flt_dates").value
    assert demo_range != sample_range
    assert {"from", "to"}.isdisjoint(at.query_params), at.query_params   # the whole of the demo, no filter


def test_codes_read_as_words_in_the_filters(two):
    at = s.open_page("overview", {"dataset": two[1], "payment": "western_union"})
    pay = at.multiselect(key="flt_payment")
    assert "Western Union" in pay.format_func("western_union")
    assert any("paid by Western Union" in c.value for c in at.caption)
