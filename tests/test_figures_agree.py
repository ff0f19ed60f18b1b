"""The report and the what-if engine agree on every figure they share.

The what-if engine starts from the data set as it is: its tally of the observed orders, finalised by the
same catalogue (figures.py) as the report's. Every figure the two share must have the same value on the
same data set, or be unavailable in both for the same reason: on the demo, the 20-order sample, the
shared Olist sample and a generated set whose sellers answer under another policy.
"""

import math

import pytest

from analytics import db, figures, importer, metrics, report
from analytics.cli import main
from analytics.generate import generate
from analytics.policy import Policy
from analytics.replay_data import observed_figures
from analytics.simulate import prepare_dataset, simulate, unavailable
from tests.conftest import SAMPLE_CSV

# The catalogue's figures that both the report (a registry scalar) and the what-if engine compute.
SHARED = {name: f.whatif for name, f in figures.FIGURES.items() if f.whatif and name in metrics.SCALARS}


def test_the_shared_figures_are_the_ones_that_matter():
    assert {"orders", "cancelled_orders", "cancelled_gmv", "cancellation_requests", "return_path_orders",
            "refunds", "refunds_after_request", "p50_refund_business_days_from_request",
            "p90_refund_business_days_from_request", "outcome_accepted", "outcome_auto_cancelled"} <= set(SHARED)


def _same(a, b) -> bool:
    if a is None or b is None or (isinstance(b, float) and math.isnan(b)):
        return (a is None or a != a) and (b is None or b != b)
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)


def _check(con, dataset: db.Dataset) -> None:
    prep = prepare_dataset(con, dataset.id)
    observed = observed_figures(prep.data)
    values = report.scalars(con, dataset.id, names=SHARED)
    why_report = report.unavailable(con, dataset.id)
    why_whatif = unavailable(prep)
    for name, whatif_name in SHARED.items():
        assert why_report.get(name) == why_whatif.get(whatif_name), (dataset.name, name)
        if name in why_report:
            continue
        assert _same(values[name], observed[whatif_name]), (dataset.name, name, values[name], observed[whatif_name])
    # The wait per payment method: the report's table against the engine's family.
    table = report.refund_latency(con, dataset.id, by="payment_method")
    if table.frame is not None and "refund_wait_by_payment_method" not in why_whatif:
        for row in table.frame.iter_rows(named=True):
            for q in ("p50", "p90"):
                mine = observed.get(f"refund_wait_by_payment_method.{row['payment_method']}.{q}")
                assert _same(row[f"{q}_from_request_business_days"], mine), (dataset.name, row["payment_method"], q)
    # And simulate says the same about what it cannot measure.
    result = simulate(prep, replicates=1)
    for name, whatif_name in SHARED.items():
        if name in why_report:
            assert result["unavailable"][whatif_name] == why_report[name]
            assert result["baseline"][whatif_name]["value"] is None


def test_the_demo(tmp_path):
    path = tmp_path / "demo.duckdb"
    assert main(["demo", "--db", str(path)]) == 0
    con = db.connect(path)
    try:
        _check(con, db.resolve_dataset(con, None))
    finally:
        con.close()


def test_the_sample(con):
    importer.import_files(con, [SAMPLE_CSV], name="Sample shop")
    _check(con, db.resolve_dataset(con, "Sample shop"))


def test_olist(con, olist_dir):
    importer.import_files(con, [olist_dir / "olist_orders_dataset.csv",
                                olist_dir / "olist_order_payments_dataset.csv"], name="Olist")
    dataset = db.resolve_dataset(con, "Olist")
    _check(con, dataset)
    # Olist records no requests and no refunds: those figures are unavailable, never 0, in both.
    assert "cancellation_requests" in report.unavailable(con, dataset.id)


@pytest.mark.parametrize("policy", [Policy(seller_consent_required=False),
                                    Policy(seller_response_hours=24, timeout_action="lapse")])
def test_a_generated_set_under_another_policy(con, policy):
    dataset = generate(con, 4_000, seed=17, name="generated", policy=policy).dataset
    _check(con, dataset)
