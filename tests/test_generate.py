"""The synthetic generator: deterministic per seed, lands near its own parameters, stores cleanly."""

from __future__ import annotations

import dataclasses
import json
from statistics import NormalDist

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from analytics import db
from analytics.generate import DEFAULT_PARAMS, GeneratorParams, generate, generate_frame
from analytics.ingest import CANONICAL_FIELDS
from analytics.outcomes import REASONS

N = 20_000


@pytest.fixture(scope="module")
def frame() -> pl.DataFrame:
    return generate_frame(N, seed=11)


def requests_of(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per request, with the outcome the generator meant (outcomes.py's vocabulary)."""
    stage = (
        pl.when(pl.col("paid_at").is_null() | (pl.col("paid_at") > pl.col("cancel_requested_at")))
        .then(pl.lit("before_payment"))
        .when(pl.col("shipped_at").is_null() | (pl.col("shipped_at") > pl.col("cancel_requested_at")))
        .then(pl.lit("awaiting_shipment"))
        .otherwise(pl.lit("after_shipment"))
    )
    cancelled = pl.col("cancelled_at").is_not_null()
    outcome = (
        pl.when(pl.col("stage") == "before_payment").then(pl.lit("buyer_cancelled"))
        .when(pl.col("stage") == "after_shipment").then(pl.lit("not_cancellable"))
        .when(pl.col("seller_response").is_in(["accepted", "rejected"])).then(pl.col("seller_response"))
        .when(cancelled).then(pl.lit("auto_cancelled"))
        .otherwise(pl.lit("not_cancellable"))  # shipped before any answer: the return way
    )
    return (
        frame.lazy()
        .filter(pl.col("cancel_requested_at").is_not_null())
        .with_columns(stage.alias("stage"))
        .with_columns(outcome.alias("outcome"), pl.col("refund_initiated_at").is_not_null().alias("refunded"))
        .collect()
    )


def test_columns_are_canonical_and_typed(frame):
    assert frame.columns == list(CANONICAL_FIELDS)
    assert frame.height == N
    for name, dtype in frame.schema.items():
        if name.endswith("_at"):
            assert dtype == pl.Datetime("us"), name
        elif name in ("amount", "refund_amount"):
            assert dtype == pl.Float64, name
        else:
            assert dtype == pl.Utf8, name
    assert frame["order_id"].n_unique() == N
    assert sum(frame[c].null_count() for c in ("order_id", "placed_at", "payment_method", "amount")) == 0


def test_same_seed_same_frame_other_seed_differs(frame):
    assert_frame_equal(generate_frame(N, seed=11), frame)
    other = generate_frame(N, seed=12)
    assert not other.equals(frame)
    assert other["amount"].to_list() != frame["amount"].to_list()


def test_zero_orders_gives_an_empty_frame_with_the_columns():
    empty = generate_frame(0, seed=1)
    assert empty.height == 0 and empty.columns == list(CANONICAL_FIELDS)


def test_every_timestamp_is_in_order(frame):
    def broken(earlier: str, later: str) -> int:
        return frame.filter(pl.col(later) < pl.col(earlier)).height

    assert broken("placed_at", "paid_at") == 0
    assert broken("paid_at", "shipped_at") == 0
    assert broken("shipped_at", "delivered_at") == 0
    assert broken("placed_at", "cancel_requested_at") == 0
    assert broken("cancel_requested_at", "seller_responded_at") == 0
    assert broken("cancel_requested_at", "cancelled_at") == 0
    assert broken("refund_initiated_at", "refund_completed_at") == 0
    # A refund starts when the order is cancelled, for the order's full amount.
    refunds = frame.filter(pl.col("refund_initiated_at").is_not_null())
    assert (refunds["refund_initiated_at"] == refunds["cancelled_at"]).all()
    assert (refunds["refund_amount"] == refunds["amount"]).all()


def test_cancelled_orders_never_ship_and_carry_the_status(frame):
    cancelled = frame.filter(pl.col("cancelled_at").is_not_null())
    assert cancelled.height > 0
    assert cancelled["shipped_at"].null_count() == cancelled.height
    assert cancelled["delivered_at"].null_count() == cancelled.height
    assert set(cancelled["status"].unique()) == {"cancelled"}
    assert set(frame.filter(pl.col("cancelled_at").is_null())["status"].unique()) == {"delivered"}
    # Only paid orders get a refund; an order cancelled before paying was never paid.
    unpaid = cancelled.filter(pl.col("paid_at").is_null())
    assert unpaid.height > 0 and unpaid["refund_channel"].null_count() == unpaid.height
    assert cancelled.filter(pl.col("paid_at").is_not_null())["refund_channel"].null_count() == 0


def test_request_rate_stage_shares_and_reasons_are_plausible(frame):
    requests = requests_of(frame)
    assert requests.height / N == pytest.approx(DEFAULT_PARAMS.request_probability, abs=0.01)
    shares = dict(requests["stage"].value_counts(normalize=True).iter_rows())
    assert 0.02 < shares["before_payment"] < 0.15
    assert 0.55 < shares["awaiting_shipment"] < 0.85
    assert 0.10 < shares["after_shipment"] < 0.35
    # domain.md: the wrong item is the reason most buyers pick.
    counts = requests["cancel_reason"].value_counts(sort=True)
    assert counts["cancel_reason"][0] == "wrong_item"
    assert set(counts["cancel_reason"]) <= set(REASONS)


def test_handled_requests_mostly_end_in_a_refund(frame):
    awaiting = requests_of(frame).filter(pl.col("stage") == "awaiting_shipment")
    answered = awaiting.filter(pl.col("seller_response").is_in(["accepted", "rejected"]))
    acceptance = (answered["seller_response"] == "accepted").mean()
    assert acceptance == pytest.approx(DEFAULT_PARAMS.acceptance_rate, abs=0.04)
    # Handled: the seller answered or the window ran out before the parcel left (domain.md: about 80%).
    handled = awaiting.filter(pl.col("outcome") != "not_cancellable")
    assert handled["refunded"].mean() == pytest.approx(0.8, abs=0.05)


def test_share_refunded_follows_acceptance_and_window():
    # Slow dispatch: the parcel never wins the race, so every awaiting-shipment request is handled and
    # the share refunded is acceptance * P(answer inside the window) + P(timeout).
    params = dataclasses.replace(DEFAULT_PARAMS, dispatch_median_days=60.0, request_probability=0.3)
    awaiting = requests_of(generate_frame(N, seed=5, params=params)).filter(pl.col("stage") == "awaiting_shipment")
    in_window = NormalDist().cdf(
        np.log(params.seller_response_hours / params.response_median_hours) / params.response_sigma
    )
    expected = params.acceptance_rate * in_window + (1 - in_window)
    assert expected == pytest.approx(0.8, abs=0.02)
    assert awaiting["refunded"].mean() == pytest.approx(expected, abs=0.03)
    timed_out = awaiting.filter(pl.col("outcome") == "auto_cancelled").height / awaiting.height
    assert timed_out == pytest.approx(1 - in_window, abs=0.03)
    # Auto-cancel lands exactly at the window's end.
    auto = awaiting.filter(pl.col("outcome") == "auto_cancelled")
    waited = (auto["cancelled_at"] - auto["cancel_requested_at"]).dt.total_seconds()
    assert (waited == params.seller_response_hours * 3600).all()


def test_refund_latency_in_business_days_follows_the_channel(frame):
    refunds = frame.filter(pl.col("refund_initiated_at").is_not_null())
    days = np.busday_count(
        refunds["refund_initiated_at"].dt.date().to_numpy(), refunds["refund_completed_at"].dt.date().to_numpy()
    )
    channel = refunds["refund_channel"].to_numpy()
    original = days[channel == "original"]
    assert original.size > 100
    assert original.min() >= 3 and original.max() <= 20  # domain.md: 3 to 20 business days
    assert np.median(original) == pytest.approx(DEFAULT_PARAMS.refund_original_median_days, abs=1)
    assert set(np.unique(days[channel == "wallet"])) <= {0, 1}
    assert set(np.unique(days[channel == "coupon"])) == {0}
    # The money arrives at the same time of day it was sent, so business days are whole.
    assert (refunds["refund_completed_at"].dt.time() == refunds["refund_initiated_at"].dt.time()).all()
    # Routing follows the payment method (domain.md "Refunds").
    routes = set(refunds.select("payment_method", "refund_channel").unique().iter_rows())
    assert routes == set(DEFAULT_PARAMS.refund_channel.items())


def test_parameters_out_of_range_are_refused():
    with pytest.raises(ValueError, match="acceptance_rate"):
        generate_frame(10, seed=1, params=GeneratorParams(acceptance_rate=1.5))
    with pytest.raises(ValueError, match="refund_channel"):
        generate_frame(10, seed=1, params=GeneratorParams(payment_mix={"crypto": 1.0}))


def test_generate_stores_every_order_with_the_outcomes_it_meant(tmp_path):
    con = db.connect(tmp_path / "t.duckdb")
    result = generate(con, N, seed=3, name="gen")
    assert (result.stored, result.refused, result.refused_by_reason) == (N, 0, {})
    ds = result.dataset
    assert ds.name == "gen" and ds.source_kind == "generated" and ds.orders == N
    assert ds.source["orders"] == N and ds.source["seed"] == 3
    assert ds.true_params == json.loads(json.dumps(dataclasses.asdict(DEFAULT_PARAMS)))

    meant = requests_of(generate_frame(N, seed=3)).select(
        "order_id", "stage", "outcome", return_path=(pl.col("outcome") == "not_cancellable")
        & (pl.col("stage") == "awaiting_shipment"),
    )
    stored = con.sql(
        "SELECT order_id, stage, outcome, return_path FROM cancellation_requests WHERE dataset_id = ?",
        params=[ds.id],
    ).pl()
    assert_frame_equal(stored.sort("order_id"), meant.sort("order_id"))
    assert ds.cancellation_requests == meant.height
    # Every outcome of the baseline policy occurs (lapsed needs a 'lapse' policy, unknown odd labels).
    assert set(stored["outcome"]) == {"buyer_cancelled", "accepted", "rejected", "auto_cancelled", "not_cancellable"}
    refunds = con.execute("SELECT count(*) FROM refunds WHERE dataset_id = ?", [ds.id]).fetchone()[0]
    assert refunds == ds.refunds == meant.filter(pl.col("outcome").is_in(["accepted", "auto_cancelled"])).height


def test_ids_are_zero_padded_and_follow_the_order_time(frame):
    assert frame["order_id"].str.len_chars().n_unique() == 1
    assert frame["order_id"].to_list() == sorted(frame["order_id"].to_list())
    assert frame["placed_at"].is_sorted()
    many = generate_frame(2_000, seed=1, params=GeneratorParams(sellers=200_000, seller_skew=0.0))
    assert set(many["seller_id"].str.len_chars()) == {7}  # 'S' and six digits: 200000 needs them
    assert many["seller_id"].n_unique() > 1_900
