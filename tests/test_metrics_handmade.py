"""Every metric on eleven orders worked out by hand.

The orders (January-February 2026; 2026-01-05 is a Monday). Times are UTC.

  id   pay            amount ship     seller placed        paid          shipped   request (reason, stage)          seller answer          ends as                 refund
  O1   card           100    standard S1     Mon 01-05 10  01-05 10:05   -         Tue 01-06 09 wrong_item, awaiting    accepted Tue 01-06 21  cancelled 01-06 21       original 100, Fri 01-09 10 -> Tue 01-13 15 (weekend inside)
  O2   cash            50    standard S1     Mon 01-05 12  never         -         Mon 01-05 13 changed_mind, before pay -                      cancelled before payment none (nothing was paid)
  O3   card            80    premium  S2     Mon 01-05 09  01-05 09:01   Wed 01-07 Thu 01-08 10 shipping_delay, after  -                      not cancellable         none
  O4   wallet          40    standard S2     Wed 01-07 10  01-07 10:02   -         Wed 01-07 12 wrong_item, awaiting    none (72 h ran out)    auto-cancelled Sat 01-10 original 40, Sat 01-10 12 -> Sat 01-10 18 (same day)
  O5   cod             60    standard S3     Thu 01-08 10  01-08 10:03   Thu 01-08 15 Thu 01-08 11 changed_mind, awaiting none (parcel left first) not cancellable, return path  none
  O6   card           200    premium  S3     Fri 01-09 10  01-09 10:01   Mon 01-12 Fri 01-09 12 seller_unresponsive, awaiting rejected Sat 01-10 12 delivered          none
  O7   bank_transfer   30    standard S1     Mon 01-12 10  01-12 20:00   -         Tue 01-13 10 wrong_item, awaiting    accepted Tue 01-13 16  cancelled 01-13 16       wallet 30, Tue 01-13 16 -> Mon 01-19 09
  O8   card           120    standard S2     Mon 01-12 11  01-12 11:01   Wed 01-14 -                                 -                      delivered               none
  O9   card            70    standard S1     Tue 02-03 10  02-03 10:01   -         - (cancelled by status only)      -                      cancelled 02-04 10       original 70, Wed 02-04 10 -> Tue 03-10 10
  O10  card            90    standard S4     Wed 02-04 10  02-04 10:01   Thu 02-05 -                                 -                      delivered               none
  O11  cash            25    standard S4     Mon 02-02 10  02-02 18:00   -         Tue 02-03 09 other, awaiting         accepted Tue 02-03 10  cancelled 02-03 10       wallet 25, started 02-03 10, still pending

Worked out by hand (the numbers the tests assert):
  orders 11; GMV 100+50+80+40+60+200+30+120+70+90+25 = 865
  requests 8 (all but O8, O9, O10); cancelled 6 (O1 O2 O4 O7 O9 O11); rate 6/11; cancelled GMV 100+50+40+30+70+25 = 315
  requests by stage: before_payment 1 (O2), awaiting_shipment 6 (O1 O4 O5 O6 O7 O11), after_shipment 1 (O3)
  cancellations by stage: before_payment 1 (50), awaiting_shipment 5 (O1 O4 O7 O9 O11: 265), after_shipment 0
  outcomes: buyer_cancelled 1, accepted 3 (O1 O7 O11), rejected 1 (O6), auto_cancelled 1 (O4), lapsed 0,
            not_cancellable 2 (O3, O5), unknown 0; acceptance rate 3 / (3 + 1) = 0.75
  response hours: O11 1, O7 6, O1 12, O6 24 -> mean 43/4 = 10.75; median (6+12)/2 = 9;
            p90 at rank 0.9*3 = 2.7: 12 + 0.7*(24-12) = 20.4
  return path: O5, 1 order, GMV 60
  reasons: wrong_item 3 (3/8), changed_mind 2 (2/8), other 1, seller_unresponsive 1, shipping_delay 1 (1/8 each)
  reason share of cancelled GMV (of 315): wrong_item 100+40+30 = 170; changed_mind 50 (O5 was not cancelled);
            other 25; seller_unresponsive 0; shipping_delay 0 (O9's 70 has no request)
  refunds 5 (O1 O4 O7 O9 O11), amount 265; by channel original 3 (210), wallet 2 (55)
  refund business days from the start = busday_count(start day, end day):
            O1 Fri 01-09 -> Tue 01-13: Fri, Mon = 2 (Sat and Sun skipped)
            O4 Sat 01-10 -> Sat 01-10: 0 (same day)
            O7 Tue 01-13 -> Mon 01-19: Tue Wed Thu Fri = 4
            O9 Wed 02-04 -> Tue 03-10: 3 + 5 + 5 + 5 + 5 + 1 = 24
            O11 pending: not measured
  from the request: O1 Tue 01-06 -> Tue 01-13 = 5; O4 Wed 01-07 -> Sat 01-10 = 3 (Wed Thu Fri); O7 = 4;
            O9 has no request
  by payment method: card [2, 24]: mean 13, p50 13, p90 2 + 0.9*22 = 21.8; from request [5]: 5, 5
                     wallet [0]: 0; from request 3.  bank_transfer [4]; from request 4.
                     cash: 0 measured, 1 pending, statistics null
  by channel: original [0, 2, 24]: mean 26/3, p50 2, p90 at rank 1.8: 2 + 0.8*22 = 19.6;
                     from request [3, 5]: p50 4, p90 3 + 0.9*2 = 4.8
              wallet [4], 1 pending
  overall [0, 2, 4, 24]: mean 7.5, p50 3, p90 at rank 2.7: 4 + 0.7*20 = 18; over 20 days: 1 of 4 = 0.25
  sellers, ranked by cancelled GMV:
      S1 O1 O2 O7 O9: orders 4, GMV 250, requests 3, answered 2, acceptance 1.0, median 9 h, cancelled 4 (250)
      S2 O3 O4 O8:    orders 3, GMV 240, requests 2, answered 0, acceptance null, median null, cancelled 1 (40)
      S4 O10 O11:     orders 2, GMV 115, requests 1, answered 1, acceptance 1.0, median 1 h, cancelled 1 (25)
      S3 O5 O6:       orders 2, GMV 260, requests 2, answered 1, acceptance 0.0, median 24 h, cancelled 0, return path 1
  weeks (by order date): 01-05: O1-O6: 6 orders, GMV 530, 6 requests, 3 cancelled (O1 O2 O4), rate 0.5, 190
                         01-12: O7 O8: 2, 150, 1, 1, 0.5, 30;  01-19 and 01-26: nothing (zeros, rate null)
                         02-02: O9 O10 O11: 3, 185, 1, 2, 2/3, 95
  life cycle: placed 11, paid 10 (not O2), shipped 5 (O3 O5 O6 O8 O10), delivered 5;
              cancelled after placed 1, after paid 5, after shipped 0
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import polars as pl
import pytest
from oracles import split
from polars.testing import assert_frame_equal

from analytics import metrics
from analytics import pipelines as p
from analytics.outcomes import OUTCOMES


def t(text: str) -> datetime:
    return datetime.fromisoformat(text)


# The canonical export, as a shop would send it (store_frame's input).
CANONICAL = [
    dict(order_id="O1", placed_at="2026-01-05 10:00", payment_method="card", amount=100.0, seller_id="S1",
         shipping_method="standard", paid_at="2026-01-05 10:05", status="cancelled",
         cancel_requested_at="2026-01-06 09:00", cancel_reason="wrong_item", seller_response="accepted",
         seller_responded_at="2026-01-06 21:00", cancelled_at="2026-01-06 21:00", refund_channel="original",
         refund_amount=100.0, refund_initiated_at="2026-01-09 10:00", refund_completed_at="2026-01-13 15:00"),
    dict(order_id="O2", placed_at="2026-01-05 12:00", payment_method="cash", amount=50.0, seller_id="S1",
         shipping_method="standard", status="cancelled", cancel_requested_at="2026-01-05 13:00",
         cancel_reason="changed_mind", cancelled_at="2026-01-05 13:00"),
    dict(order_id="O3", placed_at="2026-01-05 09:00", payment_method="card", amount=80.0, seller_id="S2",
         shipping_method="premium", paid_at="2026-01-05 09:01", shipped_at="2026-01-07 08:00",
         delivered_at="2026-01-14 10:00", status="delivered", cancel_requested_at="2026-01-08 10:00",
         cancel_reason="shipping_delay"),
    dict(order_id="O4", placed_at="2026-01-07 10:00", payment_method="wallet", amount=40.0, seller_id="S2",
         shipping_method="standard", paid_at="2026-01-07 10:02", status="cancelled",
         cancel_requested_at="2026-01-07 12:00", cancel_reason="wrong_item", seller_response="none",
         cancelled_at="2026-01-10 12:00", refund_channel="original", refund_amount=40.0,
         refund_initiated_at="2026-01-10 12:00", refund_completed_at="2026-01-10 18:00"),
    dict(order_id="O5", placed_at="2026-01-08 10:00", payment_method="cod", amount=60.0, seller_id="S3",
         shipping_method="standard", paid_at="2026-01-08 10:03", shipped_at="2026-01-08 15:00",
         delivered_at="2026-01-20 10:00", status="delivered", cancel_requested_at="2026-01-08 11:00",
         cancel_reason="changed_mind", seller_response="none"),
    dict(order_id="O6", placed_at="2026-01-09 10:00", payment_method="card", amount=200.0, seller_id="S3",
         shipping_method="premium", paid_at="2026-01-09 10:01", shipped_at="2026-01-12 10:00",
         delivered_at="2026-01-20 10:00", status="delivered", cancel_requested_at="2026-01-09 12:00",
         cancel_reason="seller_unresponsive", seller_response="rejected", seller_responded_at="2026-01-10 12:00"),
    dict(order_id="O7", placed_at="2026-01-12 10:00", payment_method="bank_transfer", amount=30.0, seller_id="S1",
         shipping_method="standard", paid_at="2026-01-12 20:00", status="cancelled",
         cancel_requested_at="2026-01-13 10:00", cancel_reason="wrong_item", seller_response="accepted",
         seller_responded_at="2026-01-13 16:00", cancelled_at="2026-01-13 16:00", refund_channel="wallet",
         refund_amount=30.0, refund_initiated_at="2026-01-13 16:00", refund_completed_at="2026-01-19 09:00"),
    dict(order_id="O8", placed_at="2026-01-12 11:00", payment_method="card", amount=120.0, seller_id="S2",
         shipping_method="standard", paid_at="2026-01-12 11:01", shipped_at="2026-01-14 10:00",
         delivered_at="2026-01-28 10:00", status="delivered"),
    dict(order_id="O9", placed_at="2026-02-03 10:00", payment_method="card", amount=70.0, seller_id="S1",
         shipping_method="standard", paid_at="2026-02-03 10:01", status="cancelled",
         cancelled_at="2026-02-04 10:00", refund_channel="original", refund_amount=70.0,
         refund_initiated_at="2026-02-04 10:00", refund_completed_at="2026-03-10 10:00"),
    dict(order_id="O10", placed_at="2026-02-04 10:00", payment_method="card", amount=90.0, seller_id="S4",
         shipping_method="standard", paid_at="2026-02-04 10:01", shipped_at="2026-02-05 10:00",
         delivered_at="2026-02-20 10:00", status="delivered"),
    dict(order_id="O11", placed_at="2026-02-02 10:00", payment_method="cash", amount=25.0, seller_id="S4",
         shipping_method="standard", paid_at="2026-02-02 18:00", status="cancelled",
         cancel_requested_at="2026-02-03 09:00", cancel_reason="other", seller_response="accepted",
         seller_responded_at="2026-02-03 10:00", cancelled_at="2026-02-03 10:00", refund_channel="wallet",
         refund_amount=25.0, refund_initiated_at="2026-02-03 10:00"),
]

# What analytics/outcomes.py derives for each order, worked out by hand:
# (is_cancelled, cancel_stage, request stage, outcome, return_path)
DERIVED = {
    "O1": (True, "awaiting_shipment", "awaiting_shipment", "accepted", False),
    "O2": (True, "before_payment", "before_payment", "buyer_cancelled", False),
    "O3": (False, None, "after_shipment", "not_cancellable", False),
    "O4": (True, "awaiting_shipment", "awaiting_shipment", "auto_cancelled", False),
    "O5": (False, None, "awaiting_shipment", "not_cancellable", True),
    "O6": (False, None, "awaiting_shipment", "rejected", False),
    "O7": (True, "awaiting_shipment", "awaiting_shipment", "accepted", False),
    "O8": (False, None, None, None, None),
    "O9": (True, "awaiting_shipment", None, None, None),
    "O10": (False, None, None, None, None),
    "O11": (True, "awaiting_shipment", "awaiting_shipment", "accepted", False),
}

_TIME_FIELDS = ("placed_at", "paid_at", "shipped_at", "delivered_at", "cancel_requested_at", "seller_responded_at",
                "cancelled_at", "refund_initiated_at", "refund_completed_at")


def canonical_frame() -> pl.DataFrame:
    """The export as store_frame takes it: canonical columns, timestamps as naive UTC datetimes."""
    columns = ("order_id", "placed_at", "payment_method", "amount", "currency", "seller_id", "shipping_method",
               "paid_at", "shipped_at", "delivered_at", "status", "cancel_requested_at", "cancel_reason",
               "seller_response", "seller_responded_at", "cancelled_at", "refund_channel", "refund_amount",
               "refund_initiated_at", "refund_completed_at")
    schema = {c: (pl.Datetime("us") if c in _TIME_FIELDS else pl.Float64 if c.endswith("amount") else pl.String)
              for c in columns}
    rows = [{c: (t(r[c]) if c in _TIME_FIELDS and r.get(c) else r.get(c)) for c in columns} | {"currency": "USD"}
            for r in CANONICAL]
    return pl.DataFrame(rows, schema=schema)


def wide_frame() -> pl.DataFrame:
    """The same orders, one row per order with request and refund columns (pipelines.COLUMNS), the
    derived columns written by hand; oracles.split makes the three grains' frames of it."""
    rows = []
    for r in CANONICAL:
        is_cancelled, cancel_stage, stage, outcome, return_path = DERIVED[r["order_id"]]
        has_request = stage is not None
        has_refund = "refund_initiated_at" in r
        rows.append({
            "order_id": r["order_id"], "placed_at": t(r["placed_at"]), "payment_method": r["payment_method"],
            "amount": r["amount"], "shipping_method": r["shipping_method"], "seller_id": r["seller_id"],
            **{c: t(r[c]) if r.get(c) else None for c in ("paid_at", "shipped_at", "delivered_at", "cancelled_at")},
            "is_cancelled": is_cancelled, "cancel_stage": cancel_stage,
            "has_request": has_request,
            "requested_at": t(r["cancel_requested_at"]) if has_request else None,
            "reason": r.get("cancel_reason"), "request_stage": stage,
            "seller_response": r.get("seller_response"),
            "responded_at": t(r["seller_responded_at"]) if r.get("seller_responded_at") else None,
            "outcome": outcome, "return_path": return_path,
            "has_refund": has_refund, "refund_channel": r.get("refund_channel"), "refund_amount": r.get("refund_amount"),
            "refund_initiated_at": t(r["refund_initiated_at"]) if has_refund else None,
            "refund_completed_at": t(r["refund_completed_at"]) if r.get("refund_completed_at") else None,
        })
    return pl.DataFrame(rows, schema=p.COLUMNS)


EXPECTED_SCALARS = {
    "orders": 11, "gmv": 865.0, "cancellation_requests": 8, "cancelled_orders": 6,
    "cancellation_rate": 6 / 11, "cancelled_gmv": 315.0, "cancelled_gmv_share": 315.0 / 865.0,
    "acceptance_rate": 0.75, "answered_requests": 4,
    "p50_response_hours": 9.0, "p90_response_hours": 20.4, "return_path_orders": 1, "return_path_gmv": 60.0,
    "refunds": 5, "refund_amount": 265.0, "pending_refunds": 1,
    "mean_refund_business_days_from_start": 7.5, "p50_refund_business_days_from_start": 3.0, "p90_refund_business_days_from_start": 18.0,
    # The buyer's wait: O1 5, O4 3, O7 4 business days (O9 has no request, O11 is pending).
    "refunds_after_request": 3,
    "p50_refund_business_days_from_request": 4.0, "p90_refund_business_days_from_request": 4.8,
    "requests_before_payment": 1, "requests_awaiting_shipment": 6, "requests_after_shipment": 1,
    "cancelled_before_payment": 1, "cancelled_awaiting_shipment": 5, "cancelled_after_shipment": 0,
    "outcome_buyer_cancelled": 1, "outcome_accepted": 3, "outcome_rejected": 1, "outcome_auto_cancelled": 1,
    "outcome_lapsed": 0, "outcome_not_cancellable": 2, "outcome_unknown": 0,
}


@pytest.fixture
def frames() -> p.Frames:
    return split(wide_frame())


def test_every_scalar_metric_matches_the_hand_worked_value(frames):
    assert set(EXPECTED_SCALARS) == set(metrics.SCALARS), "a scalar metric has no hand-worked value"
    got = metrics.scalars_row(frames)
    for name, expected in EXPECTED_SCALARS.items():
        assert got[name] == pytest.approx(expected), name


def test_business_days_follow_numpy_busday_count(frames):
    frame = frames.refunds.select(
        "order_id", "requested_at", "refund_initiated_at", "refund_completed_at",
        p.refund_business_days().alias("days"), p.refund_business_days_from_request().alias("from_request"),
    ).collect()
    by_id = {r["order_id"]: (r["days"], r["from_request"]) for r in frame.to_dicts()}
    assert by_id["O1"] == (2, 5)  # Fri -> Tue: the weekend does not count
    assert by_id["O4"] == (0, 3)  # refund started and finished on the same Saturday
    assert by_id["O7"] == (4, 4)
    assert by_id["O9"] == (24, None)  # no request: no wait from a request
    assert by_id["O11"] == (None, None)  # still pending
    assert set(by_id) == {"O1", "O4", "O7", "O9", "O11"}
    measured = frame.filter(pl.col("days").is_not_null())
    expected = np.busday_count(measured["refund_initiated_at"].dt.date().to_numpy(),
                               measured["refund_completed_at"].dt.date().to_numpy())
    assert measured["days"].to_list() == expected.tolist()


def test_volume_over_time_by_week_fills_empty_weeks(frames):
    got = p.volume_over_time(frames, "week").collect()
    expected = pl.DataFrame({
        "period": [datetime(2026, 1, 5).date(), datetime(2026, 1, 12).date(), datetime(2026, 1, 19).date(),
                   datetime(2026, 1, 26).date(), datetime(2026, 2, 2).date()],
        "orders": [6, 2, 0, 0, 3],
        "gmv": [530.0, 150.0, 0.0, 0.0, 185.0],
        "cancellation_requests": [6, 1, 0, 0, 1],
        "cancelled_orders": [3, 1, 0, 0, 2],
        "cancellation_rate": [0.5, 0.5, None, None, 2 / 3],
        "cancelled_gmv": [190.0, 30.0, 0.0, 0.0, 95.0],
    })
    assert_frame_equal(got, expected, check_dtypes=False)


def test_volume_over_time_by_month_and_by_request_date(frames):
    months = p.volume_over_time(frames, "month").collect()
    assert months["orders"].to_list() == [8, 3]
    assert months["cancelled_orders"].to_list() == [4, 2]
    # Anchored on the request date, only requested orders are in the series: O2 O3 O1 O4 O5 O6 by day.
    days = p.volume_over_time(frames, "day", anchor="request").collect()
    assert days["period"][0] == datetime(2026, 1, 5).date()
    assert days["cancellation_requests"].to_list() == days["orders"].to_list()
    by_refund = p.volume_over_time(frames, "month", anchor="refund").collect()
    # Refunds started in January: O1 O4 O7 (all requested); in February: O9 (no request) and O11.
    assert by_refund["orders"].to_list() == [3, 2] and by_refund["cancellation_requests"].to_list() == [3, 1]
    assert by_refund["cancelled_gmv"].to_list() == [170.0, 95.0]
    assert dict(zip(days["period"].cast(pl.String), days["orders"], strict=True)) == {
        "2026-01-05": 1, "2026-01-06": 1, "2026-01-07": 1, "2026-01-08": 2, "2026-01-09": 1, **{
            f"2026-01-{d:02d}": 0 for d in (10, 11, 12)}, "2026-01-13": 1,
        **{f"2026-01-{d:02d}": 0 for d in range(14, 32)}, "2026-02-01": 0, "2026-02-02": 0, "2026-02-03": 1}


def test_volume_by_payment_method(frames):
    got = p.volume_by(frames, "payment_method").collect()
    rows = {r["payment_method"]: r for r in got.to_dicts()}
    assert got["payment_method"].to_list()[0] == "card"  # most orders first
    # card: O1 O3 O6 O8 O9 O10, GMV 100+80+200+120+70+90 = 660; requests O1 O3 O6; cancelled O1 O9 (170)
    assert rows["card"] == {"payment_method": "card", "orders": 6, "gmv": 660.0, "cancellation_requests": 3,
                            "cancelled_orders": 2, "cancellation_rate": 2 / 6, "cancelled_gmv": 170.0}
    assert rows["cash"]["cancelled_orders"] == 2 and rows["cash"]["cancellation_rate"] == 1.0
    assert rows["cod"]["cancelled_orders"] == 0


def test_stages_and_lifecycle(frames):
    stages = p.stage_counts(frames).collect()
    assert stages.to_dicts() == [
        {"stage": "before_payment", "requests": 1, "cancelled_orders": 1, "cancelled_gmv": 50.0},
        {"stage": "awaiting_shipment", "requests": 6, "cancelled_orders": 5, "cancelled_gmv": 265.0},
        {"stage": "after_shipment", "requests": 1, "cancelled_orders": 0, "cancelled_gmv": 0.0},
    ]
    life = p.lifecycle(frames.orders).collect()
    # left: reached this step but not the next (11 - 10, 10 - 5, 5 - 5), as a share of those who reached it.
    assert life.to_dicts() == [
        {"step": "placed", "reached": 11, "left": 1, "left_share": 1 / 11, "cancelled_after": 1},
        {"step": "paid", "reached": 10, "left": 5, "left_share": 0.5, "cancelled_after": 5},
        {"step": "shipped", "reached": 5, "left": 0, "left_share": 0.0, "cancelled_after": 0},
        {"step": "delivered", "reached": 5, "left": None, "left_share": None, "cancelled_after": None},
    ]


def test_reasons_overall_by_stage_by_method_and_over_time(frames):
    got = p.reasons(frames.requests).collect()
    assert got.to_dicts() == [
        {"reason": "wrong_item", "requests": 3, "share": 3 / 8},
        {"reason": "changed_mind", "requests": 2, "share": 2 / 8},
        {"reason": "other", "requests": 1, "share": 1 / 8},
        {"reason": "seller_unresponsive", "requests": 1, "share": 1 / 8},
        {"reason": "shipping_delay", "requests": 1, "share": 1 / 8},
    ]
    by_stage = p.reasons_by(frames.requests, "request_stage").collect()
    assert by_stage.filter(pl.col("request_stage") == "awaiting_shipment").select("reason", "requests", "share").to_dicts() == [
        {"reason": "wrong_item", "requests": 3, "share": 3 / 6},
        {"reason": "changed_mind", "requests": 1, "share": 1 / 6},
        {"reason": "other", "requests": 1, "share": 1 / 6},
        {"reason": "seller_unresponsive", "requests": 1, "share": 1 / 6},
    ]
    assert by_stage.filter(pl.col("request_stage") == "before_payment")["reason"].to_list() == ["changed_mind"]
    by_method = p.reasons_by(frames.requests, "payment_method").collect()
    card = by_method.filter(pl.col("payment_method") == "card")
    assert card.select("reason", "requests", "share").to_dicts() == [
        {"reason": "seller_unresponsive", "requests": 1, "share": 1 / 3},
        {"reason": "shipping_delay", "requests": 1, "share": 1 / 3},
        {"reason": "wrong_item", "requests": 1, "share": 1 / 3},
    ]
    by_week = p.reasons_by(frames.requests, "period", period="week", anchor="request").collect()
    # Week of 01-05: O1 O2 O3 O4 O5 O6 asked; week of 01-12: O7; weeks of 01-19 and 01-26: none; 02-02: O11.
    assert by_week.group_by("period").agg(pl.col("requests").sum()).sort("period")["requests"].to_list() == [6, 1, 0, 0, 1]
    first = by_week.filter(pl.col("period") == datetime(2026, 1, 5).date())
    assert dict(zip(first["reason"], first["requests"], strict=True)) == {
        "changed_mind": 2, "wrong_item": 2, "seller_unresponsive": 1, "shipping_delay": 1, "other": 0}


def test_reason_share_of_cancelled_gmv(frames):
    got = p.reason_cancelled_gmv(frames).collect()
    assert got.to_dicts() == [
        {"reason": "wrong_item", "cancelled_orders": 3, "cancelled_gmv": 170.0, "share_of_cancelled_gmv": 170 / 315},
        {"reason": "changed_mind", "cancelled_orders": 1, "cancelled_gmv": 50.0, "share_of_cancelled_gmv": 50 / 315},
        {"reason": "other", "cancelled_orders": 1, "cancelled_gmv": 25.0, "share_of_cancelled_gmv": 25 / 315},
        {"reason": "seller_unresponsive", "cancelled_orders": 0, "cancelled_gmv": 0.0, "share_of_cancelled_gmv": 0.0},
        {"reason": "shipping_delay", "cancelled_orders": 0, "cancelled_gmv": 0.0, "share_of_cancelled_gmv": 0.0},
    ]


def test_outcomes_and_response_time(frames):
    got = p.outcomes(frames.requests).collect()
    assert got["outcome"].to_list() == list(OUTCOMES)
    assert dict(zip(got["outcome"], got["requests"], strict=True)) == {
        "buyer_cancelled": 1, "accepted": 3, "rejected": 1, "auto_cancelled": 1, "lapsed": 0,
        "not_cancellable": 2, "unknown": 0}
    assert got["share"].sum() == pytest.approx(1.0)
    overall = p.response_time(frames.requests).collect().row(0, named=True)
    assert overall == pytest.approx({"answered_requests": 4, "mean_response_hours": 10.75,
                                     "p50_response_hours": 9.0, "p90_response_hours": 20.4})
    by_method = {r["payment_method"]: r for r in p.response_time(frames.requests, by="payment_method").collect().to_dicts()}
    assert by_method["card"]["answered_requests"] == 2  # O1 12 h, O6 24 h
    assert by_method["card"]["p50_response_hours"] == pytest.approx(18.0)
    assert by_method["wallet"]["answered_requests"] == 0 and by_method["wallet"]["p50_response_hours"] is None
    assert "bank_transfer" in by_method and "card" in by_method


def test_refunds_by_method_and_channel(frames):
    by_channel = p.refunds_by(frames.refunds, "refund_channel").collect()
    assert by_channel.to_dicts() == [
        {"refund_channel": "original", "refunds": 3, "refund_amount": 210.0, "share": pytest.approx(3 / 5)},
        {"refund_channel": "wallet", "refunds": 2, "refund_amount": 55.0, "share": pytest.approx(2 / 5)},
    ]
    by_method = {r["payment_method"]: (r["refunds"], r["refund_amount"])
                 for r in p.refunds_by(frames.refunds, "payment_method").collect().to_dicts()}
    assert by_method == {"card": (2, 170.0), "wallet": (1, 40.0), "bank_transfer": (1, 30.0), "cash": (1, 25.0)}


def test_refund_latency_by_payment_method(frames):
    rows = {r["payment_method"]: r for r in p.refund_latency(frames.refunds, "payment_method").collect().to_dicts()}
    assert rows["card"] == pytest.approx({
        "payment_method": "card", "refunds": 2, "mean_business_days": 13.0, "p50_business_days": 13.0,
        "p90_business_days": 21.8, "refunds_from_request": 1, "mean_from_request_business_days": 5.0,
        "p50_from_request_business_days": 5.0, "p90_from_request_business_days": 5.0, "pending_refunds": 0})
    assert rows["wallet"]["p50_business_days"] == 0.0 and rows["wallet"]["p50_from_request_business_days"] == 3.0
    assert rows["bank_transfer"]["p90_business_days"] == 4.0
    # Cash: one refund, still pending, so nothing is measured: null, not 0.
    assert rows["cash"]["refunds"] == 0 and rows["cash"]["pending_refunds"] == 1
    assert rows["cash"]["p50_business_days"] is None and rows["cash"]["mean_business_days"] is None


def test_refund_latency_by_channel_and_overall(frames):
    rows = {r["refund_channel"]: r for r in p.refund_latency(frames.refunds, "refund_channel").collect().to_dicts()}
    assert rows["original"] == pytest.approx({
        "refund_channel": "original", "refunds": 3, "mean_business_days": 26 / 3, "p50_business_days": 2.0,
        "p90_business_days": 19.6, "refunds_from_request": 2, "mean_from_request_business_days": 4.0,
        "p50_from_request_business_days": 4.0, "p90_from_request_business_days": 4.8, "pending_refunds": 0})
    assert rows["wallet"]["refunds"] == 1 and rows["wallet"]["pending_refunds"] == 1
    overall = p.refund_latency(frames.refunds, None).collect().row(0, named=True)
    assert overall["mean_business_days"] == 7.5 and overall["p50_business_days"] == 3.0
    assert overall["p90_business_days"] == pytest.approx(18.0)


def test_refund_distribution_and_share_over_threshold(frames):
    refunds = frames.refunds
    dist = p.refund_latency_distribution(refunds).collect().sort("business_days")
    assert dist["business_days"].to_list() == [0, 2, 4, 24]
    assert dist["business_days_from_request"].to_list() == [3, 5, 4, None]
    over = p.refund_share_over(refunds, 20, by=None).collect().row(0, named=True)
    assert over == {"refunds": 4, "over_threshold": 1, "share_over_threshold": 0.25}
    # Strictly more than the threshold: O9's 24 days is over 23 but not over 24.
    assert p.refund_share_over(refunds, 24, by=None).collect()["over_threshold"].item() == 0
    by_method = {r["payment_method"]: r for r in p.refund_share_over(refunds, 20).collect().to_dicts()}
    assert by_method["card"]["share_over_threshold"] == 0.5
    assert by_method["cash"]["refunds"] == 0 and by_method["cash"]["share_over_threshold"] is None
    from_request = p.refund_share_over(refunds, 4, by=None, from_request=True).collect().row(0, named=True)
    assert from_request == {"refunds": 3, "over_threshold": 1, "share_over_threshold": 1 / 3}


def _wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """The Wilson 95% interval of k cancelled out of n orders, as the textbook writes it."""
    centre, half = (k + z * z / 2) / (n + z * z), z * ((k * (n - k) / n + z * z / 4) ** 0.5) / (n + z * z)
    return centre - half, centre + half


def test_seller_table_ranked_by_cancelled_gmv(frames):
    got = p.sellers(frames).collect()
    # The cancellation rate with its Wilson interval: S1 4 of 4 (low 4 / (4 + z^2) = 0.510), S2 1 of 3,
    # S4 1 of 2, S3 0 of 2 (high z^2 / (2 + z^2) = 0.658).
    rates = got.select("seller_id", "cancellation_rate", "cancellation_rate_low", "cancellation_rate_high").rows()
    for (seller, rate, low, high), (k, n) in zip(rates, [(4, 4), (1, 3), (1, 2), (0, 2)], strict=True):
        assert (rate, low, high) == pytest.approx((k / n, *_wilson(k, n)), abs=1e-6), seller
    assert rates[0][2] == pytest.approx(0.5101, abs=1e-4) and rates[3][3] == pytest.approx(0.6576, abs=1e-4)
    got = got.drop("cancellation_rate", "cancellation_rate_low", "cancellation_rate_high")
    assert got.to_dicts() == [
        {"rank": 1, "seller_id": "S1", "orders": 4, "gmv": 250.0, "cancellation_requests": 3, "answered_requests": 2,
         "acceptance_rate": 1.0, "p50_response_hours": 9.0, "cancelled_orders": 4, "cancelled_gmv": 250.0,
         "return_path_orders": 0},
        {"rank": 2, "seller_id": "S2", "orders": 3, "gmv": 240.0, "cancellation_requests": 2, "answered_requests": 0,
         "acceptance_rate": None, "p50_response_hours": None, "cancelled_orders": 1, "cancelled_gmv": 40.0,
         "return_path_orders": 0},
        {"rank": 3, "seller_id": "S4", "orders": 2, "gmv": 115.0, "cancellation_requests": 1, "answered_requests": 1,
         "acceptance_rate": 1.0, "p50_response_hours": 1.0, "cancelled_orders": 1, "cancelled_gmv": 25.0,
         "return_path_orders": 0},
        {"rank": 4, "seller_id": "S3", "orders": 2, "gmv": 260.0, "cancellation_requests": 2, "answered_requests": 1,
         "acceptance_rate": 0.0, "p50_response_hours": 24.0, "cancelled_orders": 0, "cancelled_gmv": 0.0,
         "return_path_orders": 1},
    ]
    assert p.sellers(frames, sort_by="gmv").collect()["seller_id"].to_list() == ["S3", "S1", "S2", "S4"]
    # Ties (S3 and S4 both have 2 orders) are broken by seller id.
    assert p.sellers(frames, sort_by="orders").collect()["seller_id"].to_list() == ["S1", "S2", "S3", "S4"]
    # Acceptance rate: S1 and S4 tie at 1.0; S2, which answered nothing, ranks last, not as 0.
    assert p.sellers(frames, sort_by="acceptance_rate").collect()["seller_id"].to_list() == ["S1", "S4", "S3", "S2"]


def test_seller_losses(frames):
    assert p.seller_losses(frames).collect().row(0, named=True) == pytest.approx({
        "cancelled_orders": 6, "cancelled_gmv": 315.0, "cancelled_gmv_share": 315 / 865,
        "return_path_orders": 1, "return_path_gmv": 60.0})


def test_empty_selection_gives_zero_counts_and_null_ratios(frames):
    empty = p.Frames(*(f.filter(pl.lit(False)) for f in frames))
    got = metrics.scalars_row(empty)
    assert got["orders"] == 0 and got["cancelled_orders"] == 0 and got["gmv"] == 0
    assert got["cancellation_rate"] is None and got["acceptance_rate"] is None
    assert got["p50_refund_business_days_from_start"] is None
    assert p.volume_over_time(empty, "week").collect().height == 0
    assert p.reasons(empty.requests).collect().height == 0
    assert p.outcomes(empty.requests).collect()["share"].null_count() == len(OUTCOMES)
    assert p.sellers(empty).collect().height == 0


def test_reasons_over_time_count_a_week_without_a_reason_as_zero():
    """Requests on Mon 5 Jan (changed_mind, wrong_item) and Tue 20 Jan (changed_mind): the week of 12 Jan has
    none, and wrong_item none after the first week: zeros on their lines, never gaps."""
    requests = pl.LazyFrame({"requested_at": [datetime(2026, 1, 5, 9), datetime(2026, 1, 6, 9), datetime(2026, 1, 20, 9)],
                             "reason": ["changed_mind", "wrong_item", "changed_mind"]})
    got = p.reasons_by(requests, "period", "week").collect()
    assert got.select("period", "reason", "requests").rows() == [
        (date(2026, 1, 5), "changed_mind", 1), (date(2026, 1, 5), "wrong_item", 1),
        (date(2026, 1, 12), "changed_mind", 0), (date(2026, 1, 12), "wrong_item", 0),
        (date(2026, 1, 19), "changed_mind", 1), (date(2026, 1, 19), "wrong_item", 0),
    ]
    assert got["share"].to_list() == [0.5, 0.5, None, None, 1.0, 0.0]


def test_a_period_starts_on_its_day_its_monday_or_the_first_of_its_month():
    from datetime import date, datetime

    import polars as pl

    from analytics.pipelines import period_start

    # Sunday 2026-03-01 23:59, Monday 2026-03-02 00:00, Tuesday 2026-03-31 12:00, and a missing time.
    frame = pl.DataFrame({"t": [datetime(2026, 3, 1, 23, 59), datetime(2026, 3, 2), datetime(2026, 3, 31, 12), None]},
                         schema={"t": pl.Datetime("us")})
    assert frame.select(period_start("t", "day")).to_series().to_list() == [
        date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 31), None]
    assert frame.select(period_start("t", "week")).to_series().to_list() == [
        date(2026, 2, 23), date(2026, 3, 2), date(2026, 3, 30), None]
    assert frame.select(period_start("t", "month")).to_series().to_list() == [
        date(2026, 3, 1), date(2026, 3, 1), date(2026, 3, 1), None]
