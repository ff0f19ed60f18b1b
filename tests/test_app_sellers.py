"""The Sellers page ranks by the cancellation rate's 95% interval and by a minimum volume, saying so; the
Overview shows orders by their exported status, and a life cycle whose delivery is unknown says so."""

from __future__ import annotations

import app_support as s
import pytest

from analytics import charts


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("sellers") / "app.duckdb"
    return path, s.demo_db(path, orders=3_000)


def test_sellers_ranked_by_the_rates_low_end_with_a_minimum_volume(demo, monkeypatch):
    from analytics import db, page_tables, report

    path, dataset_id = demo
    con = db.connect(path)
    try:
        table = report.sellers(con, dataset_id, sort_by="cancellation_rate_low").frame
    finally:
        con.close()
    kept = page_tables.sellers_with_orders(table, 20)
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(path))
    at = s.open_page("sellers", {"sort": "cancellation_rate_low", "min": "20"})
    assert s.problems(at) == []
    captions = [c.value for c in at.caption]
    assert f"{kept.height:,} of {table.height:,} sellers with at least 20 orders, ranked by Cancellation rate " \
           "(low end of its 95% interval)." in captions
    assert any("low end of each seller's 95% interval" in c for c in captions)
    shown = at.dataframe[0].value
    assert list(shown["seller_id"])[:5] == kept["seller_id"].to_list()[:5]
    assert list(shown["rank"])[:3] == [1, 2, 3]
    assert {"cancellation_rate", "cancellation_rate_low", "cancellation_rate_high"} <= set(shown.columns)


def test_overview_shows_orders_by_status_and_delivery_unknown(monkeypatch, tmp_path):
    path = tmp_path / "app.duckdb"
    # The committed sample has delivery times; a Shopify-like export without them reads 'unknown'.
    csv = tmp_path / "no_delivery.csv"
    csv.write_text("order_id,placed_at,payment_method,amount,status,paid_at,shipped_at\n"
                   "A,2026-03-02 10:00,card,10,fulfilled,2026-03-02 10:01,2026-03-03 10:00\n"
                   "B,2026-03-02 11:00,card,20,cancelled,,\n")
    dataset_id = s.import_db(path, [csv], name="No delivery")
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(path))
    at = s.open_page("overview", {"dataset": dataset_id})
    assert s.problems(at) == []
    assert "Orders by status" in [h.value for h in at.subheader]
    texts = " ".join(str(m.value) for m in (*at.markdown, *at.caption, *at.info, *at.warning))
    assert "delivery time" in texts
    # An order with no request nor cancellation reads as the chart says it, not as an empty cell; the
    # download keeps the data's empty value.
    at = s.open_table(at, "ov_status")
    status = next(d for d in at.dataframe if d.key == "ov_status_table_df").value
    stages = dict(zip(status["status"], status["stage"], strict=True))
    assert stages["fulfilled"] == charts.NO_STAGE and stages["cancelled"] not in (None, "", charts.NO_STAGE), stages


def test_the_life_cycle_of_an_export_without_shipping_times_is_drawn_with_its_unknown_steps(monkeypatch, tmp_path):
    """Payment times but no shipping times (as WooCommerce exports): the funnel is drawn, placed 2 and paid 1,
    its shipped and delivered steps unknown with why, rather than the whole life cycle not available."""
    path = tmp_path / "app.duckdb"
    csv = tmp_path / "paid_only.csv"
    csv.write_text("order_id,placed_at,payment_method,amount,status,paid_at\n"
                   "A,2026-03-02 10:00,card,10,completed,2026-03-02 10:01\n"
                   "B,2026-03-02 11:00,card,20,cancelled,\n")
    dataset_id = s.import_db(path, [csv], name="Paid only")
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(path))
    at = s.open_page("overview", {"dataset": dataset_id})
    assert s.problems(at) == []
    texts = " ".join(str(m.value) for m in (*at.markdown, *at.caption, *at.info, *at.warning))
    assert "Order life cycle: not available" not in texts.replace("\\", "")
    assert "shipping time" in texts
    at = s.open_table(at, "ov_lifecycle")
    steps = next(d for d in at.dataframe if d.key == "ov_lifecycle_table_df").value
    reached = dict(zip(steps["step"], steps["reached"], strict=True))
    assert reached["Placed"] == 2 and reached["Paid"] == 1, reached
    assert all(v != v or v is None for k, v in reached.items() if k in ("Shipped", "Delivered")), reached


def test_the_status_caption_says_how_the_shown_status_was_read_from_the_export(monkeypatch, tmp_path):
    """WooCommerce writes 'wc-cancelled', a shop 'On Hold': the import keeps them as labels, so the table
    shows wc_cancelled and on_hold. The caption says so, rather than that they are as the export wrote them."""
    from analytics.params import LABEL_READING, normalise_label
    from analytics.text import plain

    path = tmp_path / "app.duckdb"
    csv = tmp_path / "shop.csv"
    csv.write_text("order_id,placed_at,payment_method,amount,status\n"
                   "A,2026-03-02 10:00,card,10,wc-cancelled\nB,2026-03-02 11:00,card,20,On Hold\n")
    dataset_id = s.import_db(path, [csv], name="Woo shop")
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(path))
    at = s.open_table(s.open_page("overview", {"dataset": dataset_id}), "ov_status")
    assert s.problems(at) == []
    shown = set(next(d for d in at.dataframe if d.key == "ov_status_table_df").value["status"])
    assert shown == {"wc_cancelled", "on_hold"} == {normalise_label(w) for w in ("wc-cancelled", "On Hold")}
    caption = next(plain(c.value) for c in at.caption if "Click a bar's part" in c.value)
    assert LABEL_READING in caption and "wc-cancelled` reads `wc_cancelled`" in caption
    assert "as the export wrote it" not in caption


def test_a_data_set_without_seller_ids_greys_the_sellers_controls_and_says_why(monkeypatch, tmp_path):
    """Search, ranking and minimum orders do nothing without seller ids: disabled, with the reason in their
    help; the demo's stay live."""
    path = tmp_path / "app.duckdb"
    csv = tmp_path / "shop.csv"
    csv.write_text("order_id,placed_at,payment_method,amount,status\n"
                   "A,2026-03-02 10:00,card,10,fulfilled\nB,2026-03-02 11:00,card,20,cancelled\n")
    dataset_id = s.import_db(path, [csv], name="One shop")
    s.demo_db(path, orders=300)
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(path))

    def controls(at):
        return [at.text_input(key="sellers_q"), at.selectbox(key="sellers_sort"), at.number_input(key="sellers_min")]

    at = s.open_page("sellers", {"dataset": dataset_id})
    assert s.problems(at) == []
    assert all(w.disabled for w in controls(at))
    assert all("orders in this data set carry no seller id" in w.help for w in controls(at))
    assert not any(w.disabled for w in controls(s.open_page("sellers")))
