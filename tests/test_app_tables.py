"""Tables shown on the pages read as figures (labels, percentages, dates, separators, blank empty cells)
while their downloads keep the raw values; the Refunds page says so when no refund is over the threshold,
and says in words how fast the same-day methods refund, whose curves overlap."""

from __future__ import annotations

from datetime import date, datetime

import app_support as s
import polars as pl
import pytest

from analytics import formats
from analytics.text import plain
from ui import tables


def test_columns_get_readable_labels_and_formats():
    frame = pl.DataFrame({"period": [date(2024, 1, 1)], "orders": [1200], "cancellation_rate": [0.1],
                          "p50_business_days": [1.5], "cancelled_gmv": [2.0], "reason": ["x"], "share": [0.5]})
    specs = tables.column_specs(frame)
    assert specs["period"] == {"label": "Period starting", "kind": "date", "format": "YYYY-MM-DD"}
    assert specs["orders"]["format"] == "%,d" and specs["orders"]["label"] == "Orders"
    # The registry's label and unit where a metric of that name exists.
    assert specs["cancellation_rate"] == {"label": "Cancellation rate", "kind": "number", "format": "percent"}
    assert specs["cancelled_gmv"]["format"] == "%,.2f"
    assert specs["p50_business_days"]["format"] == "%,.1f"
    assert specs["share"]["format"] == "percent"
    assert specs["reason"]["kind"] == "text"
    # An order's times say their clock (the shop's, as the export writes them); its business days are whole.
    orders = pl.DataFrame({"placed_at": [datetime(2026, 3, 10, 20, 0)], "refund_business_days": [20.0],
                           "refund_business_days_from_request": [23.0], "p50_from_request_business_days": [2.5]})
    specs = tables.column_specs(orders)
    assert specs["placed_at"]["label"] == "Placed at" and specs["placed_at"]["kind"] == "datetime"
    assert specs["placed_at"]["help"] == "Placed at, " + formats.SHOP_CLOCK + "."
    assert specs["refund_business_days"]["format"] == "%,.0f"
    assert specs["refund_business_days_from_request"]["format"] == "%,.0f"
    assert specs["p50_from_request_business_days"]["format"] == "%,.1f"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("tables") / "app.duckdb"
    return path, s.demo_db(path)


def test_shown_tables_leave_empty_cells_blank_and_rename_columns(demo, monkeypatch):
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(demo[0]))
    at = s.open_table(s.open_page("overview"), "ov_lifecycle")
    assert s.problems(at) == []
    shown = at.dataframe[0].proto
    assert shown.placeholder == ""
    assert '"label": "Orders reaching it"' in shown.columns and '"format": "%,d"' in shown.columns


def test_no_refund_over_the_threshold_is_a_sentence_not_an_empty_chart(demo, monkeypatch):
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(demo[0]))
    at = s.open_page("refunds", {"dataset": demo[1], "threshold": "250"})
    assert s.problems(at) == []
    assert "No refund took more than 250 business days." in [i.value for i in at.info]
    assert at.number_input(key="refunds_threshold").value == 250
    assert isinstance(at.number_input(key="refunds_threshold").value, int)


def test_the_refund_times_say_in_words_what_the_same_day_curves_reach(demo, monkeypatch):
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(demo[0]))
    at = s.open_page("refunds", {"dataset": demo[1]})
    assert s.problems(at) == []
    notes = [c.value for c in at.caption if c.value.startswith("Done within a business day")]
    # The demo refunds cash on delivery with a coupon, on the day; cash, Western Union and bank transfers to
    # the wallet, on the day or the next.
    assert len(notes) == 1 and "Cash on delivery 100%" in plain(notes[0]), notes
    assert "Card" not in notes[0]
    # From the buyer's request no method is done within a day: no note.
    at = s.open_page("refunds", {"dataset": demo[1], "measure": "request"})
    assert not [c.value for c in at.caption if c.value.startswith("Done within a business day")]


def test_tables_show_codes_in_words_and_shares_with_one_decimal():
    import polars as pl

    from ui import downloads, tables

    frame = pl.DataFrame({"payment_method": ["western_union", "cod", None], "reason": ["wrong_item", "other", "x_y"],
                          "share": [0.1234, 0.5, None]})
    shown, config = downloads.display(frame, tables.column_config(frame))
    assert shown["payment_method"].to_list() == ["Western Union", "Cash on delivery", None]
    assert shown["reason"].to_list() == ["Wrong item", "Other", "X y"]
    assert shown["share"].to_list()[:2] == pytest.approx([12.34, 50.0])
    assert config["share"]["type_config"]["format"] == "%.1f%%"
    assert frame["share"].to_list()[0] == 0.1234  # the download keeps the raw value


def test_latency_headers_are_short_with_the_full_meaning_in_help():
    frame = pl.DataFrame({"payment_method": ["card"], "refunds": [3], "mean_business_days": [1.0],
                          "p90_from_request_business_days": [2.0]})
    config = tables.column_config(frame)
    assert config["mean_business_days"]["label"] == "Mean (days)"
    assert "refund's start" in config["mean_business_days"]["help"]
    assert all(len(c["label"]) <= 22 for c in config.values())


def test_the_refund_curves_table_counts_refunds_by_business_day_by_hand():
    from analytics.page_tables import refund_days_counted, refund_time_columns

    # Card: 2, 2, 5 business days; wallet: 0; a refund of unknown method: 1; one with no time: left out.
    distribution = pl.DataFrame({
        "payment_method": ["card", "card", "card", "wallet", None, "card"],
        "refund_channel": ["original"] * 6,
        "business_days": [2.0, 2.0, 5.0, 0.0, 1.0, None],
        "business_days_from_request": [3.0, 4.0, 6.0, 1.0, 2.0, 1.0],
    })
    counted = refund_days_counted(distribution, refund_time_columns("payment_method", "start"))
    assert counted.columns == ["payment_method", "business_days", "refunds", "share_done"]
    assert sorted(counted.rows(), key=lambda r: (r[0] or "", r[1])) == [
        (None, 1.0, 1, 1.0), ("card", 2.0, 2, pytest.approx(2 / 3)), ("card", 5.0, 1, 1.0), ("wallet", 0.0, 1, 1.0)]
    by_request = refund_days_counted(distribution, refund_time_columns("payment_method", "request"))
    assert by_request.filter(pl.col("payment_method") == "card")["refunds"].sum() == 4


def test_the_refunds_page_sends_the_curves_counts_not_a_row_per_refund(demo, monkeypatch):
    from analytics import db, report

    monkeypatch.setenv("CANCELLATION_LAB_DB", str(demo[0]))
    at = s.open_page("refunds", {"dataset": demo[1]})
    assert s.problems(at) == []
    # Drawn only when its expander is opened.
    assert not [d for d in at.dataframe if "share_done" in d.value.columns]
    at = s.open_table(at, "rf_dist")
    assert s.problems(at) == []
    con = db.connect(demo[0])   # as the page's own connection
    try:
        refunds = report.refund_latency_distribution(con, demo[1]).frame.height
    finally:
        con.close()
    shown = [d.value for d in at.dataframe if "share_done" in d.value.columns]
    assert len(shown) == 1 and shown[0]["refunds"].sum() == refunds and len(shown[0]) < refunds / 4
    assert "The downloads hold every refund with both of its waiting times." in [c.value for c in at.caption]


def test_a_charts_table_is_drawn_only_when_its_expander_is_opened(demo, monkeypatch):
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(demo[0]))
    at = s.open_page("reasons", {"dataset": demo[1]})
    assert s.problems(at) == []
    keys = [d.key for d in at.dataframe]
    assert "rs_reasons_table_df" not in keys and "rs_reasons_open" in at.session_state
    at = s.open_table(at, "rs_reasons")
    assert s.problems(at) == []
    (table,) = [d.value for d in at.dataframe if d.key == "rs_reasons_table_df"]
    assert table["requests"].sum() > 0
