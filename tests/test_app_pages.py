"""Every page renders without an exception or an error message: on the demo data set, on an empty
database, on an import with few fields (the canonical sample) and on the Olist sample."""

from __future__ import annotations

import app_support as s
import pytest


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "app.duckdb"
    return path, s.demo_db(path)


@pytest.fixture(scope="module")
def olist(tmp_path_factory):
    if not (s.OLIST / s.OLIST_FILES[0]).exists():
        pytest.skip(f"the Olist sample is not at {s.OLIST}: Olist page tests skipped")
    path = tmp_path_factory.mktemp("olist") / "app.duckdb"
    return path, s.import_db(path, [s.OLIST / f for f in s.OLIST_FILES], name="Olist sample")


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    path = tmp_path_factory.mktemp("sample") / "app.duckdb"
    return path, s.import_db(path, [s.SAMPLE])


@pytest.mark.parametrize("page", list(s.existing_pages()))
def test_every_page_renders_on_the_demo_data_set(page, demo, monkeypatch):
    path, dataset_id = demo
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(path))
    at = s.open_page(page)
    assert s.problems(at) == []
    assert at.query_params.get("dataset") == dataset_id  # the demo is chosen, and the link says so
    assert not at.warning, [w.value for w in at.warning]


@pytest.mark.parametrize("page", list(s.existing_pages()))
def test_every_page_renders_on_an_empty_database(page, tmp_path, monkeypatch):
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(tmp_path / "empty.duckdb"))
    at = s.open_page(page)
    assert s.problems(at) == []
    assert any("no data set" in i.value.lower() for i in at.info), [i.value for i in at.info]


@pytest.mark.parametrize("page", list(s.existing_pages()))
def test_every_page_renders_on_the_olist_sample(page, olist, monkeypatch):
    path, dataset_id = olist
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(path))
    at = s.open_page(page, {"dataset": dataset_id})
    assert s.problems(at) == []
    assert at.query_params.get("dataset") == dataset_id


@pytest.mark.parametrize("page", list(s.existing_pages()))
def test_every_page_renders_on_the_committed_sample(page, sample, monkeypatch):
    path, dataset_id = sample
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(path))
    at = s.open_page(page, {"dataset": dataset_id})
    assert s.problems(at) == []


def test_olist_says_what_it_cannot_show(olist, monkeypatch):
    path, dataset_id = olist
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(path))
    at = s.open_page("reasons", {"dataset": dataset_id})
    shown = " ".join(c.value for c in at.caption)
    assert "not available in this data set" in shown
    assert "reason" in shown
    overview = s.open_page("overview", {"dataset": dataset_id})
    tiles = {m.label: m.value for m in overview.metric}
    assert tiles["Cancellation rate"] != "n/a"
    assert tiles["Buyer's wait, median"] == "n/a"  # Olist has no refund times: never shown as 0
    # No chart to click, so no sentence saying to click one.
    refunds = s.open_page("refunds", {"dataset": dataset_id})
    assert not any(c.value.startswith("Click a ") for c in refunds.caption), [c.value for c in refunds.caption]


def test_overview_numbers_are_the_reports(sample, monkeypatch):
    from analytics import db, report

    path, dataset_id = sample
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(path))
    at = s.open_page("overview", {"dataset": dataset_id})
    con = db.connect(path, read_only=False)
    expected = report.report(con, dataset_id)
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["Cancellation requests"] == f"{expected['cancellation_requests']:,}"
    assert tiles["Refunds"] == f"{expected['refunds']:,}"
    assert tiles["Cancellation rate"] == f"{expected['cancellation_rate']:.1%}"
    assert tiles["Cancelled GMV"] == f"USD {expected['cancelled_gmv']:,.2f}"  # the sample's orders are in USD


def test_a_large_amount_fits_its_tile_and_its_help_says_it_exactly(demo, monkeypatch):
    """An amount from 1,000 up shows no cents on a tile, from 10 million up in millions: the exact amount
    is in the tile's help (a third of a 1280 px page holds about 13 characters of a tile's large type)."""
    from analytics import db, report
    from analytics.figures import change_text
    from analytics.text import md
    from ui.views import tile_text

    assert tile_text(117_043.25, "USD {:,.2f}") == ("USD 117,043", "USD 117,043.25")
    assert tile_text(999.5, "USD {:,.2f}") == ("USD 999.50", None)
    assert tile_text(23_408_612.4, "BRL {:,.2f}") == ("BRL 23.4M", "BRL 23,408,612.40")
    assert tile_text(-2_500.4, "{:,.2f}") == ("-2,500", "-2,500.40")
    # A half rounds up, as a spreadsheet rounds it (Python's formatting would write 2,012 and 12.2M).
    assert tile_text(2_012.5, "EUR {:,.2f}") == ("EUR 2,013", "EUR 2,012.50")
    # A negative amount's sign comes before its currency, as a change's does.
    assert tile_text(-2_012.5, "EUR {:,.2f}") == ("-EUR 2,013", "-EUR 2,012.50")
    assert tile_text(12_250_000.0, "EUR {:,.2f}")[0] == "EUR 12.3M"
    assert change_text(2_012.5, "EUR {:,.2f}", whole=True) == "+EUR 2,013"
    assert tile_text(12_345, "{:,}") == ("12,345", None) and tile_text(None, "USD {:,.2f}") == ("—", None)
    path, dataset_id = demo
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(path))
    at = s.open_page("overview", {"dataset": dataset_id})
    con = db.connect(path, read_only=False)
    gmv = report.report(con, dataset_id)["cancelled_gmv"]
    con.close()
    assert gmv >= 1_000
    tile = next(m for m in at.metric if m.label == "Cancelled GMV")
    assert tile.value == f"USD {gmv:,.0f}"
    assert f"Exactly {md(f'USD {gmv:,.2f}')}." in tile.proto.help   # Markdown, escaped as text


def test_a_change_is_written_to_its_tiles_precision():
    """A tile that writes its amount without cents writes its change without them too ('USD 33,095',
    '-USD 369'): '-USD 369.40' cut the words after it at 1280 px. A small amount keeps its cents; shares change
    in percentage points; a wait's change in days."""
    from analytics.figures import change_text

    assert change_text(-369.4, "USD {:,.2f}", whole=True) == "-USD 369"
    assert change_text(-369.4, "USD {:,.2f}") == "-USD 369.40"
    assert change_text(1234.6, "{:,.2f}", whole=True) == "+1,235"
    assert change_text(0.0123, "{:.1%}", whole=True) == "+1.2 pp"
    assert change_text(-0.46, "{:,.1f} days") == "-0.5 days"
    assert change_text(12, "{:,}") == "+12"
    # A change written as zero is "±0" wherever it shows, never "+0.0" beside another figure's "0", nor a bare
    # "0" that reads as a figure of nothing.
    assert change_text(0.04, "{:,.1f} days") == change_text(-0.0004, "{:.1%}") == change_text(0, "{:,}") == "±0"
    assert change_text(-0.3, "USD {:,.2f}", whole=True) == "±0"


def test_a_what_if_difference_that_rounds_to_nothing_is_written_as_the_tiles_write_it():
    """'Every figure' and the tiles write a difference alike: a share's in percentage points, and one that
    rounds to zero as "±0" (it read "+0.0" beside another row's "0")."""
    from analytics import whatif_tables as wt

    small = {"value": 0.03, "low": -0.4, "high": 0.46, "orders_low": -0.1, "orders_high": 0.16}
    assert wt.fmt_interval(small, "refund_wait_p50_business_days", signed=True) == (
        "±0 (next period like this one -0.4 – +0.5; these same orders -0.1 – +0.2)")
    share = {"value": 0.012, "low": 0.004, "high": 0.02, "orders_low": 0.01, "orders_high": 0.014}
    assert wt.fmt_interval(share, "cancellation_rate", signed=True).startswith("+1.2 pp (next period like this one +0.4 pp – +2.0 pp")
    none = {"value": 0, "low": 0, "high": 0, "orders_low": 0, "orders_high": 0}
    assert wt.fmt_interval(none, "cancelled_orders", signed=True) == "±0"


def test_an_overview_tile_says_a_fall_in_money_with_a_down_arrow():
    """The Overview's tile for cancelled GMV: a fall of '-USD 10,546' points down, in green (less lost is
    good news); Streamlit alone read its sign from the currency code and drew an up arrow in red."""
    from streamlit.proto.Metric_pb2 import Metric
    from streamlit.testing.v1 import AppTest

    def tiles():
        from analytics.headline import Headline
        from ui import views

        views.headline_tiles([
            Headline("cancelled_gmv", "Cancelled GMV", "help", "USD {:,.2f}", 33095.0, None, (1.0, 2.0), -10546.2),
            Headline("cancelled_orders", "Cancelled orders", "help", "{:,}", 120, None, (1.0, 2.0), 7),
            Headline("refunds", "Refunds", "help", "{:,}", 45, None, (1.0, 2.0), -17),
        ])

    at = AppTest.from_function(tiles).run()
    shown = {m.label: m.proto for m in at.metric}
    gmv = shown["Cancelled GMV"]
    assert gmv.delta == "-USD 10,546"
    assert (gmv.direction, gmv.color) == (Metric.MetricDirection.DOWN, Metric.MetricColor.GREEN)
    orders = shown["Cancelled orders"]
    assert (orders.delta, orders.direction, orders.color) == ("+7", Metric.MetricDirection.UP, Metric.MetricColor.RED)
    # Fewer refunds are neither good nor bad news: grey, pointing down.
    refunds = shown["Refunds"]
    assert (refunds.direction, refunds.color) == (Metric.MetricDirection.DOWN, Metric.MetricColor.GRAY)


def test_the_filters_sentence_reads_as_plain_words():
    """'Orders ordered from …' read oddly: an order is placed."""
    from datetime import date

    from analytics.filters import Filters
    from ui.views import filter_summary

    assert filter_summary(Filters(start=date(2026, 3, 2), end=date(2026, 3, 29))) == (
        "Orders placed from 2026-03-02 to 2026-03-29.")
    assert filter_summary(Filters(start=date(2026, 3, 14), end=date(2026, 3, 14))) == "Orders placed on 2026-03-14."
    # Dated by a refund (or a request), only orders with one are in: what a cancellation rate then means.
    assert filter_summary(Filters(start=date(2026, 3, 2), anchor="refund", payment_methods=("card",))) == (
        "Orders with a refund started from 2026-03-02 onwards; paid by Card. Only orders with a refund are "
        "in, and nearly all of them were cancelled: a cancellation rate here says little; choose the order "
        "date for it.")
    assert filter_summary(Filters(start=date(2026, 3, 2), anchor="request")).endswith(
        "Only orders with a cancellation request are in, so a cancellation rate is the share of them "
        "cancelled, not of all orders.")
    assert filter_summary(Filters(anchor="refund")) == "All orders of the data set."   # no dates: every order


@pytest.mark.parametrize(("refused", "warned", "named"), [
    ({"amount: negative": 2}, {}, "**Refused rows** in"),
    ({}, {"paid_at: before placed_at": 1}, "**Orders stored with a warning** in"),
    ({"amount: negative": 2}, {"paid_at: before placed_at": 1}, "**Refused rows** and **Orders stored with a warning**"),
    ({}, {}, None),
], ids=["refused only", "warned only", "both", "neither"])
def test_after_an_import_only_the_lists_it_has_rows_in_are_named(refused, warned, named):
    from streamlit.testing.v1 import AppTest

    def page(refused, warned):
        import streamlit as st

        from ui import data_panels

        st.session_state["data_last_result"] = {
            "dataset": {"id": "x" * 22, "name": "Shop"}, "stored": 5, "refused_by_reason": refused,
            "warned_by_reason": warned}
        data_panels.last_result()

    at = AppTest.from_function(page, args=(refused, warned), default_timeout=60).run()
    said = [c.value for c in at.caption if c.value.startswith("Why, and the rows")]
    assert said == ([] if named is None else [next(c for c in said if named in c)])


def _navigation(at) -> list[str]:
    return [link.label for link in at.sidebar.get("page_link")]


def test_a_page_that_shows_only_what_the_data_set_can_keeps_its_navigation(olist, monkeypatch):
    # The Reasons page stops early on Olist (no reasons recorded): the sidebar still links every page.
    path, dataset_id = olist
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(path))
    at = s.open_page("reasons", {"dataset": dataset_id})
    assert {"Overview", "What-if", "Data"} <= set(_navigation(at)), _navigation(at)
    assert at.query_params.get("dataset") == dataset_id


def test_a_page_with_no_data_set_keeps_its_navigation_and_says_a_linked_one_was_not_found(tmp_path, monkeypatch):
    from analytics import db
    from analytics.generate import generate

    path = tmp_path / "no-demo.duckdb"
    con = db.connect(path)
    generate(con, 300, 1, name="Someone's upload")   # not the demo: no tab sees it without its link
    con.close()
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(path))
    at = s.open_page("whatif", {"dataset": "doesnotexist123456"})
    assert s.problems(at) == []
    assert {"Overview", "What-if", "Data"} <= set(_navigation(at)), _navigation(at)
    warned = " ".join(w.value for w in at.warning)
    assert "data set was not found" in warned, warned
    assert "showing the default data set" not in warned   # there is none to show
