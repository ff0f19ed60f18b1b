"""The hand-worked orders of test_metrics_handmade.py, end to end: stored through ingest.store_frame,
loaded back from DuckDB with the filters in SQL, reported, and printed by the command line."""

from __future__ import annotations

import json
from datetime import date

import polars as pl
import pytest
from oracles import filter_expr, split
from polars.testing import assert_frame_equal

from analytics import cli, db, ingest, report
from analytics import pipelines as p
from analytics.filters import Filters
from analytics.load import load_frame

try:
    from test_metrics_handmade import DERIVED, EXPECTED_SCALARS, canonical_frame, wide_frame
except ImportError:  # tests collected as a package
    from tests.test_metrics_handmade import DERIVED, EXPECTED_SCALARS, canonical_frame, wide_frame


def _store(con):
    result = ingest.store_frame(con, canonical_frame(), name="eleven orders", source_kind="import",
                                source={"test": "hand-worked"})
    assert result.stored == 11 and result.refused == 0, result.refused_by_reason
    return result.dataset


@pytest.fixture
def stored(con):
    return _store(con)


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One stored copy for the read-only tests, so the module stays fast."""
    connection = db.connect(tmp_path_factory.mktemp("handmade") / "shared.duckdb")
    yield connection, _store(connection)
    connection.close()


def test_the_import_derives_what_was_worked_out_by_hand(con, stored):
    rows = con.execute(
        """SELECT o.order_id, o.is_cancelled, o.cancel_stage, r.stage, r.outcome, r.return_path
           FROM orders o LEFT JOIN cancellation_requests r USING (dataset_id, order_id)
           WHERE o.dataset_id = ?""", [stored.id]).fetchall()
    assert {r[0]: tuple(r[1:]) for r in rows} == DERIVED


def test_report_numbers_match_the_hand_worked_values(con, stored):
    got = report.report(con, stored.id)
    assert got["dataset"] == {"id": stored.id, "name": "eleven orders"}
    for key in ("orders", "gmv", "cancellation_requests", "cancelled_orders", "cancellation_rate",
                "cancelled_gmv", "acceptance_rate", "refunds", "refund_amount", "return_path_orders"):
        value = got["seller_losses"][key] if key == "return_path_orders" else got[key]
        assert value == pytest.approx(EXPECTED_SCALARS[key]), key
    assert got["requests_by_stage"] == {"before_payment": 1, "awaiting_shipment": 6, "after_shipment": 1}
    assert got["cancellations_by_stage"] == {"before_payment": 1, "awaiting_shipment": 5, "after_shipment": 0}
    assert got["request_outcomes"] == {"buyer_cancelled": 1, "accepted": 3, "rejected": 1, "auto_cancelled": 1,
                                       "lapsed": 0, "not_cancellable": 2, "unknown": 0}
    assert got["seller_response_hours"] == pytest.approx({"answered_requests": 4, "p50": 9.0, "p90": 20.4})
    assert [(r["reason"], r["requests"]) for r in got["reasons"]] == [
        ("wrong_item", 3), ("changed_mind", 2), ("other", 1), ("seller_unresponsive", 1), ("shipping_delay", 1)]
    card = next(r for r in got["refund_latency"] if r["payment_method"] == "card")
    assert card["refunds"] == 2 and card["p50_business_days"] == 13 and card["p90_business_days"] == pytest.approx(21.8)
    assert card["p50_from_request_business_days"] == 5
    cash = next(r for r in got["refund_latency"] if r["payment_method"] == "cash")
    assert cash["refunds"] == 0 and cash["p50_business_days"] is None and cash["pending_refunds"] == 1
    # The buyer's wait over every method, on each clock: the same numbers as the registry's metrics.
    assert got["refund_wait_from_request"] == pytest.approx({"refunds": 3, "p50_business_days": 4.0,
                                                             "p90_business_days": 4.8})
    assert got["refund_wait_from_start"] == pytest.approx({"refunds": 4, "p50_business_days": 3.0,
                                                           "p90_business_days": 18.0})
    for clock in ("from_request", "from_start"):
        for q in ("p50", "p90"):
            assert got[f"refund_wait_{clock}"][f"{q}_business_days"] == pytest.approx(
                EXPECTED_SCALARS[f"{q}_refund_business_days_{clock}"])
    assert got["refunds_over_threshold"] == {"threshold_business_days": 20, "refunds": 4, "over_threshold": 1,
                                             "share": 0.25}
    by_method = {r["payment_method"]: r["cancelled_orders"] for r in got["cancelled_by_payment_method"]}
    assert by_method == {"card": 2, "cash": 2, "wallet": 1, "bank_transfer": 1, "cod": 0}
    assert got["unavailable"] == {}
    json.dumps(got)  # the command line prints it as it is


# Each frame-returning function, from the database, against its pipeline on the hand-made frames.
TABLE_CALLS = [
    (lambda c, d: report.volume_over_time(c, d, period="week"), lambda f: p.volume_over_time(f, "week")),
    (lambda c, d: report.volume_over_time(c, d, period="day"), lambda f: p.volume_over_time(f, "day")),
    (lambda c, d: report.volume_by(c, d, by="shipping_method"), lambda f: p.volume_by(f, "shipping_method")),
    (report.stages, p.stage_counts),
    (report.lifecycle, lambda f: p.lifecycle(f.orders)),
    (report.reasons, lambda f: p.reasons(f.requests)),
    (lambda c, d: report.reasons(c, d, by="stage"), lambda f: p.reasons_by(f.requests, "request_stage")),
    (lambda c, d: report.reasons(c, d, by="payment_method"), lambda f: p.reasons_by(f.requests, "payment_method")),
    (lambda c, d: report.reasons(c, d, by="period", period="month"),
     lambda f: p.reasons_by(f.requests, "period", "month", "request")),
    (report.reason_cancelled_gmv, p.reason_cancelled_gmv),
    (report.outcomes, lambda f: p.outcomes(f.requests)),
    (lambda c, d: report.response_time(c, d, by="stage"), lambda f: p.response_time(f.requests, "request_stage")),
    (lambda c, d: report.refunds_by(c, d, by="channel"), lambda f: p.refunds_by(f.refunds, "refund_channel")),
    (lambda c, d: report.refund_latency(c, d, by="channel"), lambda f: p.refund_latency(f.refunds, "refund_channel")),
    (report.refund_latency_distribution, lambda f: p.refund_latency_distribution(f.refunds)),
    (lambda c, d: report.refund_share_over(c, d, threshold_days=3, by=None),
     lambda f: p.refund_share_over(f.refunds, 3, None)),
    (report.sellers, p.sellers),
    (report.seller_losses, p.seller_losses),
]


@pytest.mark.parametrize("call, pipeline", TABLE_CALLS)
def test_tables_from_the_database_equal_the_pipelines_on_the_hand_made_frames(shared, call, pipeline):
    table = call(*shared)
    assert table.available and table.notes == {}
    expected = pipeline(split(wide_frame())).collect()
    assert_frame_equal(table.frame, expected, check_row_order=False, check_dtypes=False)


def _wide_where(filters: Filters) -> pl.DataFrame:
    return wide_frame().filter(filter_expr(filters))


FILTERS = [
    Filters(reasons=("wrong_item",)),
    Filters(payment_methods=("card",)),
    Filters(payment_methods=("card", "cash"), shipping_methods=("standard",)),
    Filters(sellers=("S1", "S3")),
    Filters(stages=("awaiting_shipment",)),
    Filters(stages=("before_payment", "after_shipment")),
    Filters(start=date(2026, 2, 1)),
    Filters(end=date(2026, 1, 7)),
    Filters(anchor="request", start=date(2026, 1, 6),
            end=date(2026, 1, 8)),
    Filters(anchor="refund", start=date(2026, 1, 9),
            end=date(2026, 1, 10)),
    Filters(reasons=("nothing_like_this",)),
]


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: json.dumps(f.to_query()))
def test_filters_in_sql_select_the_same_orders_as_in_polars(shared, filters):
    con, stored = shared
    expected = _wide_where(filters)
    for grain, frame in zip(p.GRAINS, split(expected), strict=True):
        got = load_frame(con, stored, grain, filters, ["order_id"])
        assert sorted(got["order_id"]) == sorted(frame.collect()["order_id"]), grain


def test_filters_change_exactly_what_they_should(con, stored):
    def ids(filters):
        return sorted(load_frame(con, stored, "orders", filters, ["order_id"])["order_id"],
                      key=lambda s: int(s[1:]))

    # A reason keeps the orders whose request carries it, and nothing else, in every metric.
    assert ids(Filters(reasons=("wrong_item",))) == ["O1", "O4", "O7"]
    got = report.report(con, stored, Filters(reasons=("wrong_item",)))
    assert [r["reason"] for r in got["reasons"]] == ["wrong_item"]
    assert (got["orders"], got["gmv"], got["cancellation_requests"], got["cancelled_orders"]) == (3, 170.0, 3, 3)
    assert got["refunds"] == 3 and got["refund_amount"] == 170.0
    assert got["requests_by_stage"] == {"before_payment": 0, "awaiting_shipment": 3, "after_shipment": 0}
    assert {r["payment_method"] for r in got["refund_latency"]} == {"card", "wallet", "bank_transfer"}
    sellers = report.sellers(con, stored, Filters(reasons=("wrong_item",))).frame
    assert dict(zip(sellers["seller_id"], sellers["orders"], strict=True)) == {"S1": 2, "S2": 1}

    assert ids(Filters(payment_methods=("card",))) == ["O1", "O3", "O6", "O8", "O9", "O10"]
    assert ids(Filters(sellers=("S3",))) == ["O5", "O6"]
    # Stage: the request's, else the cancellation's (O9 was cancelled by status while awaiting shipment).
    assert ids(Filters(stages=("awaiting_shipment",))) == ["O1", "O4", "O5", "O6", "O7", "O9", "O11"]
    assert ids(Filters(start=date(2026, 2, 1))) == ["O9", "O10", "O11"]
    assert ids(Filters(end=date(2026, 1, 7))) == ["O1", "O2", "O3", "O4"]  # the end day is included
    assert ids(Filters(anchor="request", start=date(2026, 1, 6), end=date(2026, 1, 8))) == ["O1", "O3", "O4", "O5"]
    assert ids(Filters(anchor="refund", start=date(2026, 1, 9), end=date(2026, 1, 10))) == ["O1", "O4"]
    # A filter that matches nothing: zeros and nulls, and still nothing "unavailable".
    none = report.report(con, stored, Filters(reasons=("nothing_like_this",)))
    assert none["orders"] == 0 and none["cancellation_rate"] is None and none["reasons"] == []
    assert none["unavailable"] == {}


def test_volume_over_time_follows_the_date_anchor(con, stored):
    by_request = report.volume_over_time(con, stored, Filters(anchor="request"), period="month").frame
    # Orders with a request, by the request's month: January O1-O7, February O11.
    assert by_request["orders"].to_list() == [7, 1]
    assert by_request["cancellation_requests"].to_list() == [7, 1]
    by_refund = report.volume_over_time(con, stored, Filters(anchor="refund"), period="month").frame
    # Refunds started in January: O1 O4 O7; in February: O9 O11. Requests among them: all but O9.
    assert by_refund["period"].to_list() == [date(2026, 1, 1), date(2026, 2, 1)]
    assert by_refund["orders"].to_list() == [3, 2] and by_refund["cancellation_requests"].to_list() == [3, 1]


def test_filter_options(con, stored):
    options = report.filter_options(con, stored.id)
    assert options["payment_methods"] == ["bank_transfer", "card", "cash", "cod", "wallet"]
    assert options["shipping_methods"] == ["premium", "standard"]
    assert options["sellers"] == ["S1", "S2", "S3", "S4"]
    assert options["reasons"] == ["changed_mind", "other", "seller_unresponsive", "shipping_delay", "wrong_item"]
    assert options["stages"] == ["before_payment", "awaiting_shipment", "after_shipment"]
    assert options["dates"] == {"order": [date(2026, 1, 5), date(2026, 2, 4)],
                                "request": [date(2026, 1, 5), date(2026, 2, 3)],
                                "refund": [date(2026, 1, 9), date(2026, 2, 4)]}


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_report_json_and_text(con, stored, db_file, capsys):
    con.close()  # the command line opens the file itself
    code, out, _ = run_cli(capsys, "report", "--db", str(db_file), "--json")
    assert code == 0
    got = json.loads(out)
    assert got["dataset"]["id"] == stored.id and got["orders"] == 11 and got["cancelled_orders"] == 6
    assert got["request_outcomes"]["auto_cancelled"] == 1 and got["unavailable"] == {}

    code, out, _ = run_cli(capsys, "report", "--db", str(db_file), "--dataset", "eleven orders",
                           "--reason", "wrong_item", "--payment-method", "card,wallet", "--json")
    got = json.loads(out)
    assert got["orders"] == 2 and got["filters"] == {"payment": "card,wallet", "reason": "wrong_item"}

    code, out, _ = run_cli(capsys, "report", "--db", str(db_file))
    assert code == 0
    for text in ("Data set: eleven orders", "Cancellation rate", "54.5%", "Reasons", "wrong_item",
                 "Refund time by payment method", "awaiting shipment",
                 "Buyer's wait, median (business days)",
                 "Refund time, 90th percentile (business days)", "median from start"):
        assert text in out, text


def test_report_json_has_orders_by_status_worked_out_by_hand(con, stored, db_file, capsys):
    """Orders by status (the Overview's table), by the stage of the request, else of the cancellation:
    cancelled x before payment O2; cancelled x awaiting shipment O1 O4 O7 O11 (requests) and O9 (by status
    alone); delivered x awaiting shipment O5 O6; x after shipment O3; x none O8 O10. Shares of 11; the status
    with more orders first (cancelled 6, delivered 5), stages in life-cycle order, none last.
    Paid by card (O1 O3 O6 O8 O9 O10): delivered 4 (awaiting O6, after O3, none O8 O10), cancelled 2 (O1 O9)."""
    con.close()
    code, out, _ = run_cli(capsys, "report", "--db", str(db_file), "--json")
    assert code == 0
    got = json.loads(out)["orders_by_status"]
    assert got == [
        {"status": "cancelled", "stage": "before_payment", "orders": 1, "cancelled_orders": 1, "share": pytest.approx(1 / 11)},
        {"status": "cancelled", "stage": "awaiting_shipment", "orders": 5, "cancelled_orders": 5, "share": pytest.approx(5 / 11)},
        {"status": "delivered", "stage": "awaiting_shipment", "orders": 2, "cancelled_orders": 0, "share": pytest.approx(2 / 11)},
        {"status": "delivered", "stage": "after_shipment", "orders": 1, "cancelled_orders": 0, "share": pytest.approx(1 / 11)},
        {"status": "delivered", "stage": None, "orders": 2, "cancelled_orders": 0, "share": pytest.approx(2 / 11)},
    ]
    code, out, _ = run_cli(capsys, "report", "--db", str(db_file), "--payment-method", "card", "--json")
    card = [(r["status"], r["stage"], r["orders"], r["cancelled_orders"]) for r in json.loads(out)["orders_by_status"]]
    assert card == [("delivered", "awaiting_shipment", 1, 0), ("delivered", "after_shipment", 1, 0),
                    ("delivered", None, 2, 0), ("cancelled", "awaiting_shipment", 2, 2)]
    code, out, _ = run_cli(capsys, "report", "--db", str(db_file))
    lines = out[out.index("Orders by status"):].splitlines()
    assert lines[3].split() == ["cancelled", "before", "payment", "1", "1", "9.1%"]
    assert lines[7].split() == ["delivered", "none", "2", "0", "18.2%"]
    # The Overview's table is the same one.
    again = db.connect(db_file, read_only=True)
    try:
        assert report.orders_by_status(again, stored.id).frame.to_dicts() == got
    finally:
        again.close()


def test_cli_report_refuses_bad_input_with_one_line(stored, con, db_file, capsys, tmp_path):
    con.close()
    code, out, err = run_cli(capsys, "report", "--db", str(db_file), "--stage", "shipped_already")
    assert code == 2 and "stage" in err and "Traceback" not in err
    code, _, err = run_cli(capsys, "report", "--db", str(db_file), "--from", "2026-13-01")
    assert code == 2
    assert err == ("error: --from: “2026-13-01” is not a valid date; expected a date written YYYY-MM-DD from "
                   "1970-01-01 to 2200-12-31\n")
    assert "ignored" not in err
    code, _, err = run_cli(capsys, "report", "--db", str(db_file), "--from", "2026-03-01", "--to", "2026-01-01")
    assert code == 2 and err == "error: --from: “2026-03-01” is after --to; expected a day on or before 2026-01-01\n"
    code, _, err = run_cli(capsys, "report", "--db", str(db_file), "--stage", "shipped")
    assert code == 2 and err == ("error: --stage: “shipped” is unknown; expected one of before_payment, "
                                 "awaiting_shipment, after_shipment\n")
    code, _, err = run_cli(capsys, "report", "--db", str(db_file), "--dataset", "no such data set")
    assert code == 2 and "no such data set" in err
    code, _, err = run_cli(capsys, "report", "--db", str(tmp_path / "absent.duckdb"))
    assert code == 2 and "no database" in err
