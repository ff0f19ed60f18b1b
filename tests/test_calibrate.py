"""Calibration: censored fits that recover what they are given, stored per data set, shown against the data."""

import json
import math
from datetime import datetime

import numpy as np
import polars as pl
import pytest

from analytics import calibrate as cal
from analytics import distributions as dist
from analytics.generate import GeneratorParams, generate
from analytics.orders import load_orders


def test_censored_lognormal_recovers_its_parameters_where_ignoring_censoring_would_not():
    rng = np.random.default_rng(1)
    times = rng.lognormal(math.log(30.0), 1.0, 20_000)
    # Censored at a 72-hour window, and at random moments (a parcel leaving) for a third of them.
    bound = np.where(rng.random(len(times)) < 0.33, rng.uniform(1, 200, len(times)), 72.0)
    seen = times <= bound
    fit = dist.fit_lognormal_censored(times[seen], bound[~seen])
    assert fit.median == pytest.approx(30.0, rel=0.04)
    assert fit.sigma == pytest.approx(1.0, rel=0.04)
    assert (fit.n_observed, fit.n_censored) == (int(seen.sum()), int((~seen).sum()))
    naive = float(np.median(times[seen]))
    assert naive < 0.8 * 30.0  # what dropping the censored answers would have said


def test_conditional_draws_stay_beyond_the_bound_and_follow_the_truncated_distribution():
    fit = dist.Lognormal(math.log(30.0), 1.0, 1, 0)
    u = (np.arange(10_000) + 0.5) / 10_000
    drawn = fit.quantile_above(np.full(len(u), 72.0), u)
    assert (drawn > 72.0).all()
    # Half of the mass beyond 72 h lies beyond the conditional median: F(m) = F(72) + (1 - F(72)) / 2.
    f72 = fit.cdf(np.array([72.0]))[0]
    median = float(np.median(drawn))
    assert fit.cdf(np.array([median]))[0] == pytest.approx(f72 + (1 - f72) / 2, abs=1e-3)
    # Far in the tail the survival function keeps its precision.
    assert np.isfinite(fit.quantile_above(np.array([5_000.0]), np.array([0.5]))).all()


def test_kaplan_meier_by_hand():
    # times 1 2 2 3 4, events 1 1 0 1 0: S(1) = 4/5, S(2) = 4/5 * 3/4, S(3) = 0.6 * 1/2.
    t, cdf = dist.kaplan_meier(np.array([1, 2, 2, 3, 4.0]), np.array([1, 1, 0, 1, 0], dtype=bool))
    assert t.tolist() == [1.0, 2.0, 3.0]
    assert cdf == pytest.approx([0.2, 0.4, 0.7])


def test_survival_table_draws_beyond_the_bound_and_uses_the_tail_past_the_data():
    times = np.array([10, 20, 30, 40, 50, 60.0])
    events = np.array([1, 1, 1, 1, 1, 0], dtype=bool)  # the last one censored: the table stops at 5/6
    fit = dist.fit_survival(times, events, points=101)
    assert fit.probs[-1] == pytest.approx(5 / 6)
    u = np.linspace(0, 0.999, 500)
    draws = fit.quantile_above(np.full(len(u), 35.0), u)
    assert (draws >= 35.0).all() and (draws > 60.0).any()  # some mass only the tail can place
    assert fit.median == pytest.approx(30.0)


def test_empirical_distribution_inverse_and_percentiles():
    e = dist.Empirical((3, 5, 7), (1, 2, 1))
    assert e.quantile(np.array([0.0, 0.24, 0.25, 0.74, 0.75, 0.999])).tolist() == [3, 3, 5, 5, 7, 7]
    assert e.percentile(50) == 5.0 and e.percentile(90) == pytest.approx(float(np.percentile([3, 5, 5, 7], 90)))
    assert e.n == 4


def test_calibration_is_stored_per_data_set_and_read_back(con):
    dataset = generate(con, 3_000, 4).dataset
    assert cal.load_calibration(con, dataset.id) is None
    fitted = cal.calibrate(con, dataset.id)
    stored = cal.load_calibration(con, dataset.id)
    assert stored == fitted
    assert cal.Calibration.from_json(json.loads(json.dumps(fitted.to_json()))) == fitted
    cur = con.cursor()
    version, created = cur.execute("SELECT version, created_at FROM calibrations WHERE dataset_id = ?",
                                   [dataset.id]).fetchall()[0]
    assert version == cal.VERSION
    # Asked again, the stored one comes back; refit replaces it.
    assert cal.calibrate(con, dataset.id) == fitted
    cal.calibrate(con, dataset.id, refit=True)
    assert cur.execute("SELECT count(*) FROM calibrations").fetchall()[0][0] == 1
    # A stored fit of another version is not used.
    cur.execute("UPDATE calibrations SET version = version + 1")
    assert cal.load_calibration(con, dataset.id) is None


def test_a_read_only_connection_still_gets_a_calibration(db_file):
    from analytics import db
    con = db.connect(db_file)
    dataset = generate(con, 1_000, 3).dataset
    con.close()
    ro = db.connect(db_file, read_only=True)
    try:
        assert cal.calibrate(ro, dataset.id).counts[0] == ("orders", 1_000)
        assert cal.load_calibration(ro, dataset.id) is None
    finally:
        ro.close()


def test_summary_and_fit_against_data_frames(con):
    dataset = generate(con, 5_000, 2).dataset
    frame = load_orders(con, dataset.id)
    fitted = cal.fit(frame)
    summary = fitted.summary()
    assert summary["seller_response"]["answered"] > 0 and summary["seller_response"]["censored"] > 0
    assert summary["acceptance_rate"]["answered"] == summary["seller_response"]["answered"]
    assert set(summary["refund_business_days"]) == {"original", "wallet", "coupon"}
    assert summary["counts"]["orders"] == 5_000
    # Made once, and each caller's copy is its own: changing one changes no later summary.
    summary["counts"]["orders"] = -1
    assert fitted.summary()["counts"]["orders"] == 5_000 and fitted.summary() == fitted.summary()
    assert cal.Calibration.from_json(fitted.to_json()) == fitted   # the summary kept is no field of it
    frames = cal.fit_vs_data(frame, fitted)
    assert set(frames) == {"seller_response", "payment_to_shipment", "refund_days", "transit_days",
                           "acceptance_by_reason"}
    curve = frames["seller_response"]
    assert set(curve["source"].unique()) == {"data (Kaplan-Meier)", "fitted"}
    assert curve["cdf"].min() >= 0 and curve["cdf"].max() <= 1
    shares = frames["refund_days"].group_by("channel").agg(s=pl.col("share").sum())
    assert shares["s"].to_list() == pytest.approx([1.0] * shares.height)
    acc = frames["acceptance_by_reason"]
    assert ((acc["low"] <= acc["rate"]) & (acc["rate"] <= acc["high"])).all()


def test_a_data_set_with_nothing_to_fit_gets_assumed_finite_fits():
    frame = pl.DataFrame({"order_id": ["a"], "placed_at": [datetime(2026, 1, 5)],
                          "payment_method": ["card"], "amount": [3.0]})
    fitted = cal.fit(frame)
    assert math.isfinite(fitted.response.median) and fitted.summary()["seller_response"]["assumed"]
    assert fitted.acceptance_for("wrong_item") == cal.ASSUMED_ACCEPTANCE
    assert all(e.assumed for _, e in fitted.refund_days)


@pytest.mark.slow
def test_calibration_recovers_the_generators_truth_on_200k_orders(con):
    truth = GeneratorParams()
    dataset = generate(con, 200_000, 11).dataset
    fitted = cal.calibrate(con, dataset.id)
    true = dataset.true_params
    assert abs(fitted.acceptance.rate - true["acceptance_rate"]) <= 0.03
    assert fitted.response.median == pytest.approx(true["response_median_hours"], rel=0.10)
    assert fitted.response.sigma == pytest.approx(truth.response_sigma, rel=0.10)
    assert fitted.premium_share.rate == pytest.approx(true["premium_shipping_share"], abs=0.01)
    assert fitted.observed_window_hours.rate == true["seller_response_hours"]
