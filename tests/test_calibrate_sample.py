"""calibrate --sample: the fit on a uniform random sample of orders (the N smallest md5('SEED:ORDER_ID')),
its size stated, with what the sampling does to it: the fit's standard errors and the sample's share
figures against the whole data set's, worked out here by hand from the sampled orders. The same sample
drawn by Spark gives the same fit: tests/test_spark_engine.py."""

from __future__ import annotations

import hashlib
import math

import pytest

from analytics import calibrate as cal
from analytics import db, generate, sampling
from analytics.cli import main
from analytics.orders import data_end_expr, load_orders
from tests.parquet_sources import json_of


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    path = tmp_path_factory.mktemp("sample") / "lab.duckdb"
    con = db.connect(path)
    try:
        dataset_id = generate.generate(con, 2000, 5, name="Sample check").dataset.id
    finally:
        con.close()
    return path, dataset_id


def _by_hand(con, dataset_id: str, n: int, seed: int) -> list[str]:
    ids = [r[0] for r in con.execute("SELECT order_id FROM orders WHERE dataset_id = ?", [dataset_id]).fetchall()]
    return sorted(ids, key=lambda i: (hashlib.md5(f"{seed}:{i}".encode()).hexdigest(), i))[:n]


def test_the_sample_is_the_smallest_md5_keys_and_its_size_is_as_asked(stored):
    path, dataset_id = stored
    con = db.connect(path, read_only=True)
    try:
        assert sorted(sampling.sample_ids(con, dataset_id, 300, 4).to_list()) == sorted(_by_hand(con, dataset_id, 300, 4))
        # Another seed, another sample.
        assert set(sampling.sample_ids(con, dataset_id, 300, 5).to_list()) != set(_by_hand(con, dataset_id, 300, 4))
    finally:
        con.close()
    assert sampling.size_of(sampling.parse_size("0.25"), 2000) == 500
    assert sampling.size_of(sampling.parse_size("600"), 2000) == 600
    assert sampling.size_of(sampling.parse_size("5000"), 2000) == 2000


def test_calibrate_sample_states_its_size_and_compares_with_the_whole(stored, capsys):
    path, dataset_id = stored
    out = json_of(capsys, "calibrate", "--db", str(path), "--dataset", dataset_id, "--sample", "0.25", "--seed", "4")
    assert {k: out["sample"][k] for k in ("orders", "of_orders", "share", "seed")} == {
        "orders": 500, "of_orders": 2000, "share": 0.25, "seed": 4}
    con = db.connect(path, read_only=True)
    try:
        picked = set(_by_hand(con, dataset_id, 500, 4))
        frame = load_orders(con, dataset_id)
        whole_rate = json_of(capsys, "report", "--db", str(path), "--dataset", dataset_id)["cancellation_rate"]
    finally:
        con.close()
    sample = frame.filter(frame["order_id"].is_in(list(picked)))
    cancelled = int(sample["is_cancelled"].sum())
    p = cancelled / 500
    rate = out["sampling_effect"]["sample_vs_all"]["cancellation_rate"]
    assert rate["sample"] == round(p, 6) and rate["all"] == round(whole_rate, 6)
    assert rate["sample_count"] == 500 and rate["all_count"] == 2000
    assert rate["sample_standard_error"] == round(math.sqrt(p * (1 - p) / 500), 6)
    assert rate["difference"] == round(p - whole_rate, 6)
    # Only shares of counted orders or requests are compared in standard errors: the share of GMV cancelled,
    # a ratio of money, was put in 'standard errors' of a count of its currency units (-7.51 of them).
    assert set(out["sampling_effect"]["sample_vs_all"]) == {"cancellation_rate", "acceptance_rate"}
    # The fit saw the sampled orders only: its Premium share is theirs.
    known = sample.filter(sample["shipping_method"].is_in(["standard", "premium"]))
    premium = int((known["shipping_method"] == "premium").sum())
    fitted = out["fitted"]["premium_shipping_share"]
    assert fitted == {"share": round(premium / known.height, 4), "orders": known.height}
    share_se = out["sampling_effect"]["standard_errors"]["premium_shipping_share"]
    assert share_se == round(math.sqrt(premium / known.height * (1 - premium / known.height) / known.height), 6)
    errors = out["sampling_effect"]["standard_errors"]
    assert errors["seller_response.median_hours"] > 0 and errors["seller_response.sigma"] > 0


def test_a_sample_fit_censors_at_the_whole_data_sets_end_and_is_not_stored(stored):
    path, dataset_id = stored
    con = db.connect(path)
    try:
        fitted, extra = sampling.calibrate_local(con, dataset_id, 200, 1)
        frame = load_orders(con, dataset_id)
        end = frame.select(data_end_expr().dt.epoch("us")).item()
        sample = frame.filter(frame["order_id"].is_in(_by_hand(con, dataset_id, 200, 1)))
        assert fitted.data_end_us == end > sample.select(data_end_expr().dt.epoch("us")).item()
        assert fitted == cal.fit(sample, data_end_us=end)
        assert extra["sample"]["orders"] == 200 and dict(fitted.counts)["orders"] == 200
        assert cal.load_calibration(con, dataset_id) is None
    finally:
        con.close()


@pytest.mark.parametrize("value", ["abc", "0", "1.5", "-3"])
def test_a_bad_sample_size_is_a_one_line_error(stored, capsys, value):
    path, dataset_id = stored
    assert main(["calibrate", "--db", str(path), "--dataset", dataset_id, "--sample", value]) == 2
    err = capsys.readouterr().err
    assert "--sample" in err and value in err and "Traceback" not in err
