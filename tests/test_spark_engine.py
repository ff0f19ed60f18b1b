"""The report on a Parquet source is the stored data set's report, to the last digit: `report --json` is
identical between --dataset (DuckDB), --source DIR --engine local and --source DIR --engine spark at 1, 3
and 8 Spark partitions, on a generated data set and on the shared Olist sample (with its sellers file);
and under filters. `simulate --json` with a fixed seed is the same on every engine and partitioning
(floats to 1e-9 relative: the partitions' tallies are added in another order), and so is `sweep --json`;
`calibrate --json` is identical on every engine, and a sample drawn by Spark (--sample) gives the fit one
machine gives on the same sample, at 1 and 8 partitions. Spark runs for real, locally (local[2], one session for the module); the tests are
skipped, saying why, where pyspark or a Java runtime is missing (.ci/run installs both)."""

from __future__ import annotations

import json
import os

import pytest

from analytics import slices, source
from analytics import spark as spark_engine
from analytics.cli import main
from tests.parquet_sources import differences, generated_export, json_of, olist_export, relaid

WHY_NOT = spark_engine.available()
pytestmark = [pytest.mark.spark, pytest.mark.skipif(WHY_NOT is not None, reason=f"Spark cannot run here: {WHY_NOT}")]

PARTITIONS = (1, 3, 8)


@pytest.fixture(scope="module")
def spark():
    os.environ.setdefault(spark_engine.MASTER_ENV, "local[2]")
    session = spark_engine.session(master="local[2]")
    session.conf.set("spark.sql.shuffle.partitions", "4")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    return generated_export(tmp_path_factory)


@pytest.fixture(scope="module")
def olist(tmp_path_factory):
    return olist_export(tmp_path_factory)


def _same_reports(capsys, data, *filters: str) -> dict:
    path, dataset_id, parquet = data
    stored = json_of(capsys, "report", "--db", str(path), "--dataset", dataset_id, *filters)
    assert json_of(capsys, "report", "--source", str(parquet), *filters) == stored
    for n in PARTITIONS:
        on_spark = json_of(capsys, "report", "--source", str(parquet), "--engine", "spark", "--partitions", str(n), *filters)
        assert on_spark == stored, f"{n} partitions"
    return stored


def test_export_writes_months_and_metadata(generated):
    _, dataset_id, parquet = generated
    months = sorted(p.name for p in (parquet / "orders").iterdir())
    assert months and all(m.startswith("month=20") and len(m) == len("month=2026-01") for m in months)
    meta = json.loads((parquet / "dataset.json").read_text())
    assert meta["dataset"]["id"] == dataset_id and meta["rows"]["orders"] == 3000
    assert meta["records"]["requests"] and meta["records"]["refunds"]
    # Every request and refund sits in its order's month.
    src = source.open_source(parquet)
    try:
        assert src.con.execute("SELECT count(*) FROM orders").fetchall()[0][0] == 3000
        assert src.dataset.id == dataset_id and src.dataset.name == "Spark check"
    finally:
        src.close()


def test_generated_report_identical_on_every_engine(spark, capsys, generated):
    stored = _same_reports(capsys, generated)
    assert stored["orders"] == 3000 and stored["refund_latency"] and stored["reasons"]


def test_generated_report_identical_under_filters(spark, capsys, generated):
    _same_reports(capsys, generated, "--payment-method", "card,wallet", "--stage", "awaiting_shipment,after_shipment")
    _same_reports(capsys, generated, "--from", "2026-02-01", "--to", "2026-04-30", "--anchor", "request")


def test_olist_report_identical_on_every_engine(spark, capsys, olist):
    stored = _same_reports(capsys, olist)
    assert stored["orders"] == 7999 and "refunds" in stored["unavailable"]


def test_spark_needs_a_source(capsys, generated):
    path, dataset_id, _ = generated
    assert main(["report", "--db", str(path), "--dataset", dataset_id, "--engine", "spark"]) == 2
    assert "--engine spark reads a Parquet source" in capsys.readouterr().err


POLICY = ("--set", "seller_response_hours=24", "--set", "late_dispatch_action=auto_cancel",
          "--set", "dispatch_deadline_days=3", "--replicates", "3", "--seed", "7")


def _same_simulations(capsys, data, *options: str) -> dict:
    path, dataset_id, parquet = data
    stored = json_of(capsys, "simulate", "--db", str(path), "--dataset", dataset_id, *options)
    assert differences(stored, json_of(capsys, "simulate", "--source", str(parquet), *options)) == []
    for n in PARTITIONS:
        on_spark = json_of(capsys, "simulate", "--source", str(parquet), "--engine", "spark", "--partitions", str(n),
                         *options)
        assert differences(stored, on_spark) == [], f"{n} partitions"
    return stored


def test_generated_simulation_identical_on_every_engine(spark, capsys, generated):
    stored = _same_simulations(capsys, generated, *POLICY)
    assert stored["replicates"] == 3 and stored["delta"]["cancelled_orders"]["value"] != 0


def test_olist_simulation_identical_on_every_engine(spark, capsys, olist):
    _same_simulations(capsys, olist, "--set", "late_dispatch_action=auto_cancel", "--set",
                      "dispatch_deadline_days=5", "--replicates", "2", "--seed", "3")


def test_calibration_identical_on_every_engine_and_a_sample_drawn_by_spark_fits_as_one_machine(spark, capsys,
                                                                                                 generated):
    path, dataset_id, parquet = generated
    stored = json_of(capsys, "calibrate", "--db", str(path), "--dataset", dataset_id, "--refit")
    assert json_of(capsys, "calibrate", "--source", str(parquet)) == stored
    assert json_of(capsys, "calibrate", "--source", str(parquet), "--engine", "spark") == stored
    sampled = ("--sample", "0.2", "--seed", "9")
    local = json_of(capsys, "calibrate", "--db", str(path), "--dataset", dataset_id, *sampled)
    assert local["sample"]["orders"] == 600 and local["fitted"]["counts"]["orders"] == 600
    for n in (1, 8):
        on_spark = json_of(capsys, "calibrate", "--source", str(parquet), "--engine", "spark", "--partitions", str(n),
                         *sampled)
        assert on_spark == local, f"{n} partitions"
    assert local["fitted"] != stored["fitted"]


def test_a_source_too_large_to_read_whole_is_fitted_on_the_same_default_sample_on_both_engines(
        spark, capsys, generated, monkeypatch):
    """Above chunked.CHUNK_ORDERS orders, neither engine fits every order when no sample is asked: both fit
    chunked.DEFAULT_SAMPLE orders (here 2,000 above 1,000 orders, drawn for seed 0), the same sample."""
    from analytics import chunked

    _, _, parquet = generated
    monkeypatch.setattr(chunked, "CHUNK_ORDERS", 1000)
    monkeypatch.setattr(chunked, "DEFAULT_SAMPLE", 2000)
    local = json_of(capsys, "calibrate", "--source", str(parquet))
    assert local["sample"]["orders"] == 2000 and local["fitted"]["counts"]["orders"] == 2000
    assert json_of(capsys, "calibrate", "--source", str(parquet), "--engine", "spark") == local


def test_sweep_identical_on_every_engine(spark, capsys, generated):
    path, dataset_id, parquet = generated
    options = ("--param", "dispatch_deadline_days", "--values", "2,5", "--set", "late_dispatch_action=auto_cancel",
               "--replicates", "2", "--seed", "4")
    stored = json_of(capsys, "sweep", "--db", str(path), "--dataset", dataset_id, *options)
    assert differences(stored, json_of(capsys, "sweep", "--source", str(parquet), *options)) == []
    on_spark = json_of(capsys, "sweep", "--source", str(parquet), "--engine", "spark", "--partitions", "3", *options)
    assert differences(stored, on_spark) == []
    points = stored["points"]
    assert [p["value"] for p in points] == [2, 5]
    assert points[0]["scenario"]["cancelled_orders"]["value"] > points[1]["scenario"]["cancelled_orders"]["value"]


def test_simulation_calibrated_on_a_sample_identical_on_every_engine(spark, capsys, generated):
    """--calibration-sample: the calibration `calibrate --sample` fits, on every engine; the replay under it
    gives the same figures on DuckDB, the local engine over Parquet and Spark, and not those of the fit on
    every order."""
    path, dataset_id, parquet = generated
    sampled = _same_simulations(capsys, generated, *POLICY, "--calibration-sample", "600", "--calibration-seed", "9")
    fit = json_of(capsys, "calibrate", "--db", str(path), "--dataset", dataset_id, "--sample", "600", "--seed", "9")
    assert sampled["calibration"] == {"sample": fit["sample"], "sampling_effect": fit["sampling_effect"]}
    assert sampled["calibration"]["sample"]["orders"] == 600 and sampled["calibration"]["sample"]["of_orders"] == 3000
    every = json_of(capsys, "simulate", "--db", str(path), "--dataset", dataset_id, *POLICY)
    assert "calibration" not in every
    assert {k: v for k, v in sampled.items() if k != "calibration"} != every
    assert sampled["scenario"] != every["scenario"]
    text = capsys.readouterr() and main(["simulate", "--source", str(parquet), *POLICY, "--calibration-sample", "600",
                                         "--calibration-seed", "9"])
    assert text == 0 and "fitted on a sample of 600 of 3,000 orders (20.00%, seed 9" in capsys.readouterr().out
    options = ("--param", "dispatch_deadline_days", "--values", "2,5", "--set", "late_dispatch_action=auto_cancel",
               "--replicates", "2", "--seed", "4", "--calibration-sample", "0.2", "--calibration-seed", "9")
    stored = json_of(capsys, "sweep", "--db", str(path), "--dataset", dataset_id, *options)
    on_spark = json_of(capsys, "sweep", "--source", str(parquet), "--engine", "spark", "--partitions", "3", *options)
    assert differences(stored, on_spark) == [] and stored["calibration"] == sampled["calibration"]


@pytest.mark.parametrize("by_month", [True, False], ids=["by month", "not partitioned"])
def test_a_source_written_by_someone_else_gives_the_same_figures_on_spark(spark, capsys, generated, tmp_path,
                                                                           monkeypatch, by_month):
    """A layout not bucketed by order id (by month only, or one flat directory) is cut by the driver into
    slices by order id hash, each read and joined in its own task: with tasks of at most 700 orders (a month
    of about 430 whole, a flat 3,000 in five slices), the report and a replay are the stored data set's."""
    path, dataset_id, parquet = generated
    other = relaid(parquet, tmp_path / "other", by_month)
    monkeypatch.setattr(spark_engine, "TASK_ORDERS", 700)
    src = source.open_source(other)
    try:
        chunks = slices.tasks(src, None, spark_engine.TASK_ORDERS)
    finally:
        src.close()
    assert len(chunks) >= 5 and all(c.parts == 1 for c in chunks) == by_month
    stored = json_of(capsys, "report", "--db", str(path), "--dataset", dataset_id)
    assert json_of(capsys, "report", "--source", str(other), "--engine", "spark") == stored
    simulated = json_of(capsys, "simulate", "--db", str(path), "--dataset", dataset_id, *POLICY)
    on_spark = json_of(capsys, "simulate", "--source", str(other), "--engine", "spark", *POLICY)
    assert differences(simulated, on_spark) == []


def test_calibration_sample_refused_when_not_a_size(capsys, generated):
    path, dataset_id, _ = generated
    assert main(["simulate", "--db", str(path), "--dataset", dataset_id, "--calibration-sample", "0"]) == 2
    assert "--calibration-sample must be a whole number of orders" in capsys.readouterr().err


@pytest.fixture(scope="module")
def connect_server(tmp_path_factory):
    """A Spark Connect server on this machine (the one pyspark ships, local[2]), on a free port, with
    Spark's default settings (the client sets its session's time zone); its Python workers find this
    package only through what the client ships (spark._ship_package)."""
    import signal
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    import pyspark

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    home = Path(pyspark.__file__).parent
    log = tmp_path_factory.mktemp("connect") / "server.log"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SPARK_REMOTE")}
    env.update(SPARK_HOME=str(home), PYSPARK_PYTHON=sys.executable, SPARK_LOCAL_IP="127.0.0.1")
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [str(home / "bin" / "spark-submit"), "--class", "org.apache.spark.sql.connect.service.SparkConnectServer",
             "--master", "local[2]", "--conf", f"spark.connect.grpc.binding.port={port}",
             "--conf", "spark.connect.grpc.binding.address=127.0.0.1", "--conf", "spark.ui.enabled=false",
             "--conf", "spark.sql.shuffle.partitions=4", "spark-internal"],
            stdout=out, stderr=subprocess.STDOUT, env=env, cwd=log.parent, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while "Spark Connect server started" not in log.read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the Spark Connect server did not start:\n{log.read_text()[-3000:]}")
            time.sleep(1)
        yield f"sc://127.0.0.1:{port}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture
def remote_only(connect_server):
    """No local Spark session while a remote one runs (pyspark refuses both in one process): the module's
    local session is stopped first (a later test's command starts another), the remote one after, and
    the variables pyspark sets for Spark Connect are put back."""
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        active.stop()
    saved = {k: os.environ.get(k) for k in ("SPARK_REMOTE", "SPARK_CONNECT_MODE_ENABLED", "SPARK_LOCAL_REMOTE")}
    yield connect_server
    spark_engine.session(connect_server).stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def test_spark_connect_gives_the_same_figures(remote_only, capsys, generated, monkeypatch):
    connect_server = remote_only
    path, dataset_id, parquet = generated
    stored = json_of(capsys, "report", "--db", str(path), "--dataset", dataset_id)
    remote = ("--source", str(parquet), "--engine", "spark", "--spark-remote", connect_server)
    assert json_of(capsys, "report", *remote, "--partitions", "3") == stored
    # The standard variable says the same as the option.
    monkeypatch.setenv("SPARK_REMOTE", connect_server)
    options = ("--set", "seller_response_hours=24", "--replicates", "2", "--seed", "3")
    simulated = json_of(capsys, "simulate", "--db", str(path), "--dataset", dataset_id, *options)
    assert differences(simulated, json_of(capsys, "simulate", "--source", str(parquet), "--engine", "spark", *options)) == []
    sampled = ("--sample", "700", "--seed", "2")
    assert (json_of(capsys, "calibrate", "--source", str(parquet), "--engine", "spark", *sampled)
            == json_of(capsys, "calibrate", "--db", str(path), "--dataset", dataset_id, *sampled))


def test_a_spark_connect_address_with_no_server_is_one_line_at_once(capsys, generated):
    """With nothing listening at the address, pyspark's client retried for ten minutes, printed half an error
    and hung; the command now says so at once, in one line, and exits 2."""
    import socket
    import time

    _, _, parquet = generated
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]     # free again once closed: nothing listens there
    for address, why in ((f"sc://127.0.0.1:{port}", f"no Spark Connect server answers at 127.0.0.1:{port}"),
                         ("http://127.0.0.1:15002", "is not a Spark Connect address")):
        capsys.readouterr()
        started = time.monotonic()
        code = main(["report", "--source", str(parquet), "--engine", "spark", "--spark-remote", address, "--json"])
        err = capsys.readouterr().err
        assert code == 2 and why in err and len(err.strip().splitlines()) == 1, err
        assert time.monotonic() - started < 30
