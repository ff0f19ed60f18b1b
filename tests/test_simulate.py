"""The what-if engine end to end: a stored data set simulated, swept and checked on itself, and the
command line's JSON."""

import json

import polars as pl
import pytest
from oracles import without_memo

from analytics import figures
from analytics.generate import generate
from analytics.orders import load_orders, normalise_orders
from analytics.policy import Policy, PolicyError
from analytics.replay_data import observed_figures
from analytics.simulate import (
    fit_vs_data,
    prepare_dataset,
    self_check,
    simulate,
    sweep,
    sweep_frame,
)

REQUIRED = ("cancelled_orders", "requests_accepted", "requests_rejected", "requests_auto_cancelled",
            "requests_lapsed", "requests_not_cancellable", "return_path_orders", "cancelled_gmv",
            "refund_wait_p50_business_days", "refund_wait_p90_business_days", "refund_wait_by_payment_method")


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    from analytics import db
    path = tmp_path_factory.mktemp("whatif") / "w.duckdb"
    con = db.connect(path)
    dataset = generate(con, 20_000, 8).dataset
    yield path, con, dataset
    con.close()


def _leaves(node, prefix=""):
    for k, v in node.items():
        if isinstance(v, dict) and "value" not in v:
            yield from _leaves(v, f"{prefix}{k}.")
        else:
            yield f"{prefix}{k}", v


def test_orders_built_in_memory_get_the_import_s_own_rules(stored):
    """A frame without the stored stage, outcome and return path gets them by the same rules (rules.py)."""
    _, con, dataset = stored
    frame = load_orders(con, dataset.id)
    derived = normalise_orders(frame.drop("request_stage", "outcome", "return_path"))
    assert frame["outcome"].null_count() < frame.height
    for column in ("request_stage", "outcome", "return_path"):
        assert derived[column].equals(frame[column].fill_null(False) if column == "return_path" else frame[column]), column


def test_replayed_under_its_own_policy_the_data_set_comes_back_exactly(stored):
    _, con, dataset = stored
    check = self_check(con, dataset.id)
    assert check["passed"], check
    assert check["fully_observed"] == 20_000
    assert all(v == 0 for v in check["mismatches"].values())
    assert all(v["observed"] == v["replayed"] for v in check["observed_vs_replayed"].values())


def test_simulate_returns_every_figure_with_its_interval(stored):
    _, con, dataset = stored
    result = simulate(con, dataset.id, Policy(seller_response_hours=96, timeout_action="lapse"), replicates=8)
    assert result["policy"] == {"seller_response_hours": 96.0, "timeout_action": "lapse"}
    for part in ("baseline", "scenario", "delta"):
        for name in REQUIRED:
            assert name in result[part]
        for name, fig in _leaves(result[part]):
            assert set(fig) == {"value", "low", "high", "orders_low", "orders_high"}, name
            if fig["value"] is not None:
                assert fig["low"] <= fig["value"] + 1e-9 and fig["value"] <= fig["high"] + 1e-9, name
                assert fig["orders_low"] <= fig["value"] + 1e-9 and fig["value"] <= fig["orders_high"] + 1e-9, name
    by_method = result["scenario"]["refund_wait_by_payment_method"]
    assert set(by_method) >= {"card", "cod", "wallet"} and set(by_method["card"]) == {"p50", "p90"}
    # A 4-day window with lapse: no auto-cancellations, fewer cancelled orders, and draws make an interval.
    s, d = result["scenario"], result["delta"]
    assert s["requests_auto_cancelled"]["value"] == 0 and s["requests_lapsed"]["value"] > 0
    assert d["cancelled_orders"]["high"] < 0
    assert d["requests_accepted"]["low"] < d["requests_accepted"]["high"]
    # The baseline of a fully observed data set needs no draw: for these orders the same in every
    # replicate; a new period of as many orders still varies with the orders it gets.
    base = result["baseline"]["cancelled_orders"]
    assert base["orders_low"] == base["orders_high"] == base["value"]
    assert base["low"] < base["value"] < base["high"]
    # The number of orders is the data set's own in every resampled period too: exact.
    assert result["baseline"]["orders"] == dict.fromkeys(("value", "low", "high", "orders_low", "orders_high"), 20_000)


def test_a_scenario_equal_to_the_baseline_differs_by_exactly_zero(stored):
    _, con, dataset = stored
    # Without the memo the scenario is replayed again, not read back from the baseline's replay.
    prep = without_memo(prepare_dataset(con, dataset.id))
    result = simulate(prep, policy=Policy.from_settings(["seller_response_hours=72"]), replicates=3, seed=9)
    assert result["policy"] == {}
    assert all(all(v in (0, None) for v in fig.values()) for _, fig in _leaves(result["delta"]))


def test_every_figure_is_described(stored):
    _, con, dataset = stored
    names = {name.split(".")[0] for name in observed_figures(prepare_dataset(con, dataset.id).data)}
    assert names == set(figures.WHATIF)
    assert all(f.label and f.unit in figures.UNITS and f.description for f in figures.WHATIF.values())


def test_sweep_returns_each_point_and_a_frame_to_chart(stored):
    _, con, dataset = stored
    prep = without_memo(prepare_dataset(con, dataset.id))   # the 72 h point replayed, not the baseline reread
    result = sweep(prep, "seller_response_hours", ["12", "72", "336"], replicates=3)
    assert result["values"] == [12.0, 72.0, 336.0]
    autos = [p["scenario"]["requests_auto_cancelled"]["value"] for p in result["points"]]
    assert autos[0] >= autos[1] >= autos[2]
    assert result["points"][1]["delta"]["cancelled_orders"]["value"] == 0   # 72 h is the baseline
    frame = sweep_frame(result)
    assert frame.columns == ["param", "param_value", "param_number", "outcome", "series", "value", "low", "high"]
    assert frame.filter(pl.col("outcome") == "cancelled_orders").height == 6
    with pytest.raises(PolicyError, match="seller_response_hours: “-1” is out of range"):
        sweep(prep, "seller_response_hours", ["-1"])
    with pytest.raises(PolicyError, match="unknown parameter “window”"):
        sweep(prep, "window", ["1"])
    with pytest.raises(PolicyError, match="replicates"):
        simulate(prep, replicates=0)
    assert set(fit_vs_data(prep)) >= {"seller_response", "refund_days"}


def _cli(capsys, *args, db):
    """The command line in this process (a subprocess per call costs seconds of imports)."""
    from analytics.cli import main

    capsys.readouterr()
    code = main([*args, "--db", str(db)])
    out, err = capsys.readouterr()
    return code, out, err


def test_command_line_calibrate_simulate_sweep(tmp_path, capsys):
    path = tmp_path / "cli.duckdb"
    code, out, err = _cli(capsys, "generate", "--orders", "3000", "--seed", "4", "--json", db=path)
    assert code == 0, err
    dataset_id = json.loads(out)["dataset"]["id"]
    # --dataset=ID: a random id can start with "-", which argparse would take for an option.
    code, out, err = _cli(capsys, "simulate", f"--dataset={dataset_id}", "--set", "seller_consent_required=false",
                          "--replicates", "3", "--seed", "2", "--json", db=path)
    assert code == 0, err
    result = json.loads(out)
    assert {"policy", "baseline", "scenario", "delta"} <= set(result)
    assert result["policy"] == {"seller_consent_required": False}
    assert result["scenario"]["requests_rejected"] == dict.fromkeys(("value", "low", "high", "orders_low", "orders_high"), 0)
    for name in REQUIRED:
        assert name in result["delta"]

    code, out, err = _cli(capsys, "sweep", "--param", "timeout_action", "--values", "auto_cancel,lapse",
                          "--replicates", "2", "--json", db=path)
    assert code == 0, err
    points = json.loads(out)["points"]
    assert [p["value"] for p in points] == ["auto_cancel", "lapse"]
    assert points[1]["scenario"]["requests_auto_cancelled"]["value"] == 0

    code, out, err = _cli(capsys, "calibrate", "--json", db=path)
    assert code == 0, err
    fitted = json.loads(out)
    assert fitted["fitted_vs_true"]["acceptance_rate"]["true"] == 0.75
    assert fitted["fitted"]["seller_response"]["answered"] > 0
    code, out, err = _cli(capsys, "calibrate", db=path)
    assert code == 0 and "acceptance rate" in out

    code, out, err = _cli(capsys, "simulate", "--set", "seller_response_hours=0", db=path)
    assert code == 2 and not out
    assert "seller_response_hours: “0” is out of range; expected a number > 0 and <= 2160" in err
    code, _, err = _cli(capsys, "simulate", "--set", "window=3", db=path)
    assert code == 2 and "unknown parameter “window”" in err
    code, _, err = _cli(capsys, "simulate", "--replicates", "0", db=path)
    assert code == 2 and "replicates" in err
    code, out, _ = _cli(capsys, "sweep", "--param", "seller_response_hours", "--values", "24,72",
                        "--replicates", "2", db=path)
    assert code == 0 and "seller_response_hours" in out
    # A payment method the data set does not have is refused, naming the ones it has.
    code, out, err = _cli(capsys, "simulate", "--set", "refund_channel.credit_card=wallet", "--replicates", "2",
                          db=path)
    assert code == 2 and not out
    assert ("unknown parameter “refund_channel.credit_card”; expected refund_channel.<method> for a payment "
            "method of this data set: card, wallet, cash, western_union, bank_transfer, cod") in err
    # The shipping mix: absent or 'data' is the data's own (and says so), a number is that share.
    code, out, _ = _cli(capsys, "simulate", "--replicates", "2", db=path)
    assert code == 0 and "premium_shipping_share=data (the data set's own shipping methods, observed share 0." in out
    assert "calibration's sample" not in out
    # Calibrated on a sample, the share said is the sample's, and the line says so.
    code, out, _ = _cli(capsys, "simulate", "--replicates", "2", "--calibration-sample", "100", db=path)
    assert code == 0 and "in the calibration's sample of 100 orders)" in out, out
    code, out, _ = _cli(capsys, "sweep", "--param", "premium_shipping_share", "--values", "data,0.25",
                        "--replicates", "2", "--json", db=path)
    swept = json.loads(out)
    assert code == 0 and swept["values"] == [None, 0.25]
    assert swept["points"][0]["policy"] == {} and swept["points"][1]["policy"] == {"premium_shipping_share": 0.25}
    assert 0 < swept["observed"]["premium_shipping_share"] < 1


def test_one_default_for_replicates_in_the_engine_and_the_command_line(tmp_path, capsys):
    from analytics import db
    from analytics.cli import build_parser
    from analytics.commands import whatif
    from analytics.simulate import DEFAULT_REPLICATES

    assert DEFAULT_REPLICATES == whatif.REPLICATES_HELP_DEFAULT == 10
    for command in ("simulate", "sweep"):
        sub = next(a for a in build_parser()._subparsers._group_actions[0].choices[command]._actions
                   if a.dest == "replicates")
        assert f"default {DEFAULT_REPLICATES}" in sub.help
    path = tmp_path / "r.duckdb"
    code, out, err = _cli(capsys, "generate", "--orders", "1500", "--seed", "3", "--json", db=path)
    assert code == 0, err
    code, out, err = _cli(capsys, "simulate", "--set", "timeout_action=lapse", "--json", db=path)
    assert code == 0, err
    result = json.loads(out)
    assert result["replicates"] == DEFAULT_REPLICATES
    con = db.connect(path)
    expected = simulate(con, None, Policy(timeout_action="lapse"))
    con.close()
    assert result["scenario"] == json.loads(json.dumps(expected["scenario"]))


def test_text_output_is_aligned_readable_and_never_minus_zero():
    from analytics.commands import whatif
    from analytics.simulate import _num

    assert _num(-4e-7) == 0 and str(_num(-4e-7)) == "0" and _num(-0.0) == 0
    # Counts whole, amounts to the cent, business days to one decimal: the same in every cell.
    assert [whatif._number(x) for x in (-0.0, -0.001, 0.0, 1234567.0, -2.6, 12.0)] == [
        "0", "0", "0", "1,234,567", "-3", "12"]
    assert [whatif._number(x, "currency") for x in (-0.001, 124963.0, 7919.321)] == ["0.00", "124,963.00", "7,919.32"]
    assert whatif._number(5.25, "business days") == "5.2" and whatif._number(-0.01, "business days") == "0.0"
    assert whatif._fmt({"value": -0.0, "low": -0.001, "high": 1.5}, "cancelled_gmv") == "0.00 [0.00, 1.50]"
    assert whatif._fmt({"value": 12.4, "low": 11.6, "high": 13}, "cancelled_orders") == "12 [12, 13]"
    assert whatif._fmt({"value": 12.4, "low": 9.6, "high": 15.2, "orders_low": 12, "orders_high": 12.8},
                       "cancelled_orders") == "12 [10, 15] (12, 13)"
    assert whatif._fmt({"value": 3, "low": 3, "high": 3, "orders_low": 3, "orders_high": 3}) == "3 exact"
    assert whatif._fmt({"value": None, "low": None, "high": None}) == "n/a"

    def fig(v, lo, hi):
        return {"value": v, "low": lo, "high": hi, "orders_low": lo, "orders_high": hi}

    figures = {n: fig(1234567.25, 1200000.5, 1300000.75) for n in whatif.HEADLINE}
    result = {"dataset": {"id": "x", "name": "big"}, "policy": {"seller_response_hours": 48.0}, "replicates": 10,
              "seed": 0, "observed": {"premium_shipping_share": 0.25},
              "baseline": figures, "scenario": figures, "delta": {n: fig(-0.0, -0.0, 0.0) for n in whatif.HEADLINE}}
    text = whatif._render_simulation(result)
    assert "seller_response_hours=48;" in text and "premium_shipping_share=data" in text
    table = text.split("\n\n", 1)[1].splitlines()
    assert len({len(line) for line in table}) == 1          # aligned: every line as wide as the header
    assert "1,234,567.25 [1,200,000.50, 1,300,000.75]" in text and "-0" not in text   # cancelled GMV
    assert "1,234,567 [1,200,000, 1,300,001]" in text                                 # a count: whole
    assert "Buyer's wait, median (business days)" in text
    # The sweep: the figures' names whole, the swept values as --set takes them.
    sweep_result = {"dataset": {"id": "x", "name": "big"}, "param": "premium_shipping_share", "values": [None, 0.5],
                    "replicates": 2, "seed": 0, "policy": {}, "observed": {"premium_shipping_share": 0.25},
                    "points": [{"value": v, "scenario": figures} for v in (None, 0.5)]}
    text = whatif._render_sweep(sweep_result)
    lines = text.split("\n\n", 1)[1].splitlines()
    assert all(h in lines[0] for h in whatif.SWEEP_COLUMNS.values())
    assert "buyer's wait, median" in lines[0] and len({len(line) for line in lines}) == 1
    assert lines[2].startswith("data ") and lines[3].startswith("0.5 ")


# --------------------------------------------------------------------------------------------------
# Figures the data cannot support: unknown (null, with the reason), never 0


def _orders_only(requests: bool) -> pl.DataFrame:
    """Four paid orders, one cancelled; with `requests`, B and C carry a cancellation request; never a refund."""
    from datetime import datetime, timedelta

    t0 = datetime(2026, 3, 2, 9)
    rows = []
    for i, oid in enumerate("ABCD"):
        row = {"order_id": oid, "placed_at": t0, "paid_at": t0 + timedelta(minutes=10), "payment_method": "card",
               "amount": 10.0 + i, "shipping_method": "standard",
               "shipped_at": t0 + timedelta(days=1), "delivered_at": t0 + timedelta(days=3)}
        rows.append(row)
    rows[3].update(shipped_at=None, delivered_at=None, cancelled_at=t0 + timedelta(hours=5))
    if requests:
        rows[1].update(requested_at=t0 + timedelta(hours=20), reason="changed_mind", seller_response="rejected",
                       responded_at=t0 + timedelta(hours=21))
        rows[3].update(requested_at=t0 + timedelta(hours=2), reason="changed_mind", seller_response="accepted",
                       responded_at=t0 + timedelta(hours=5))
    return pl.DataFrame(rows)


def _figure(part, name):
    node = part
    for key in name.split("."):
        node = node[key]
    return node


NULL = {"value": None, "low": None, "high": None, "orders_low": None, "orders_high": None}


def test_no_requests_and_no_refunds_make_those_figures_unavailable_not_zero():
    from analytics.capabilities import CAPABILITIES
    from analytics.simulate import prepare_frame, unavailable

    NO_REQUESTS, NO_REFUNDS = CAPABILITIES["requests"], CAPABILITIES["refunds"]

    prep = prepare_frame(_orders_only(requests=False))
    result = simulate(prep, policy=Policy(seller_consent_required=False), replicates=2)
    missing = result["unavailable"]
    assert missing == unavailable(prep)
    for name in ("requests", "requests_accepted", "requests_rejected", "requests_auto_cancelled",
                 "requests_not_cancellable", "return_path_orders", "refund_wait_p50_business_days"):
        assert missing[name] == NO_REQUESTS
    for name in ("refunds", "refunds_on_platform", "refund_amount_on_platform", "refunds_by_channel",
                 "refund_amount_by_channel"):
        assert missing[name] == NO_REFUNDS
    for part in ("baseline", "scenario", "delta"):
        for name, fig in _leaves(result[part]):
            if name.split(".")[0] in missing:
                assert fig == NULL, (part, name)
    # What the orders themselves record stays measured: one cancelled order of 13.00.
    assert result["baseline"]["cancelled_orders"]["value"] == 1
    assert result["baseline"]["cancelled_gmv"]["value"] == 13.0
    assert result["baseline"]["orders"]["value"] == 4
    swept = sweep(prep, "seller_response_hours", [24, 48], replicates=2)
    assert swept["unavailable"] == missing
    assert swept["baseline"]["refunds_on_platform"] == NULL
    assert all(p["scenario"]["requests_accepted"] == NULL and p["delta"]["refunds"] == NULL for p in swept["points"])
    frame = sweep_frame(swept).filter(pl.col("outcome") == "requests_accepted")
    assert frame["value"].null_count() == frame.height > 0


def test_requests_without_refunds_leave_only_the_refund_figures_unavailable():
    from analytics.capabilities import CAPABILITIES
    from analytics.simulate import prepare_frame

    NO_REFUNDS = CAPABILITIES["refunds"]

    result = simulate(prepare_frame(_orders_only(requests=True)), replicates=2)
    assert set(result["unavailable"].values()) == {NO_REFUNDS}
    assert {"refunds", "refunds_on_platform", "refund_amount_on_platform"} <= set(result["unavailable"])
    assert result["baseline"]["refunds"] == NULL and result["delta"]["refund_amount_on_platform"] == NULL
    # The requests are measured: D accepted (cancelled), B rejected.
    assert result["baseline"]["requests_accepted"]["value"] == 1
    assert result["baseline"]["requests_rejected"]["value"] == 1
    assert result["baseline"]["return_path_orders"]["value"] == 0


def test_a_generated_data_set_keeps_every_figure_available(stored):
    _, con, dataset = stored
    result = simulate(con, dataset.id, Policy(seller_response_hours=48), replicates=2)
    assert result["unavailable"] == {}
    for part in ("baseline", "scenario", "delta"):
        for name in REQUIRED[:-1] + ("refunds", "refunds_on_platform", "refund_amount_on_platform", "requests"):
            assert _figure(result[part], name)["value"] is not None, (part, name)
    assert sweep(con, "seller_response_hours", [48], dataset=dataset.id, replicates=1)["unavailable"] == {}


def test_olist_simulation_says_requests_and_refunds_are_unknown(tmp_path, olist_dir, capsys):
    from analytics import db, importer
    from analytics.cli import main

    path = tmp_path / "olist.duckdb"
    con = db.connect(path)
    importer.import_files(con, [olist_dir / "olist_orders_dataset.csv", olist_dir / "olist_order_payments_dataset.csv"])
    result = simulate(con, None, replicates=2)
    con.close()
    for name in ("requests_accepted", "requests_rejected", "requests_auto_cancelled", "requests_not_cancellable",
                 "return_path_orders", "refunds", "refunds_on_platform", "refund_amount_on_platform"):
        assert name in result["unavailable"] and result["baseline"][name] == NULL
    assert result["baseline"]["cancelled_orders"]["value"] > 0
    capsys.readouterr()
    assert main(["simulate", "--db", str(path), "--replicates", "2"]) == 0
    out = capsys.readouterr().out
    rows = {line.split("  ")[0]: line for line in out.splitlines()}
    for label in ("Requests: accepted by seller", "Requests: rejected by seller",
                  "Requests: auto-cancelled (no answer)", "Requests: not cancellable (shipped)",
                  "Orders sent the return way", "Refunds kept on the platform"):
        assert rows[label].split()[-3:] == ["n/a", "n/a", "n/a"], rows[label]
    assert "n/a: this data set records no refunds" in out


def test_olist_transit_and_premium_say_they_need_a_shipping_method(tmp_path, olist_dir):
    # Olist's orders carry no shipping method: transit is tallied by method, so it is never measured, and
    # the result says why (the page showed a bare '—').
    from analytics import db, importer
    from analytics.capabilities import CAPABILITIES

    con = db.connect(tmp_path / "olist.duckdb")
    importer.import_files(con, [olist_dir / "olist_orders_dataset.csv", olist_dir / "olist_order_payments_dataset.csv"])
    result = simulate(con, None, replicates=2)
    con.close()
    for name in ("transit_p50_business_days", "transit_p90_business_days", "premium_orders"):
        assert result["unavailable"].get(name) == CAPABILITIES["shipping_methods"], name
        assert result["baseline"][name] == NULL
