"""External sources: a data set's Parquet export registered as a data set of its own (kind external), read
where it is on an engine. From the command line (`register`, then `report --dataset` on it) and in the
dashboard: the Overview and the What-if page on the local engine and on Spark show the stored data set's
figures, digit for digit, with the engine and the directory named; a page that does not run on Spark
says so; removing the data set leaves the files. Spark runs for real, locally (local[2], one session for
the module); its tests are skipped, saying why, where pyspark or a Java runtime is missing."""

from __future__ import annotations

import json

import app_support as s
import pytest

from analytics import db, external, generate, source
from analytics import spark as spark_engine
from analytics.cli import main

WHY_NOT = spark_engine.available()
needs_spark = pytest.mark.skipif(WHY_NOT is not None, reason=f"Spark cannot run here: {WHY_NOT}")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A database with a generated data set, its export, and the export registered on the local engine
    (and on Spark where it can run): (path, {"stored": id, "local": id, "spark": id or None}, directory)."""
    base = tmp_path_factory.mktemp("external")
    path, directory = base / "lab.duckdb", base / "parquet"
    con = db.connect(path)
    try:
        stored = generate.generate(con, 2000, 5, name="Shop").dataset.id
        source.export(con, stored, directory)
        local = external.register(con, directory, "local").id
        on_spark = external.register(con, directory, "spark", name="Shop on Spark").id if WHY_NOT is None else None
    finally:
        con.close()
    return path, {"stored": stored, "local": local, "spark": on_spark}, directory


@pytest.fixture(scope="module")
def spark():
    """One local Spark for the module; the dashboard's session (getOrCreate) is this one."""
    if WHY_NOT is not None:
        pytest.skip(f"Spark cannot run here: {WHY_NOT}")
    session = spark_engine.session(master="local[2]")
    session.conf.set("spark.sql.shuffle.partitions", "4")
    yield session
    session.stop()


@pytest.fixture(autouse=True)
def _database(lab, monkeypatch):
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(lab[0]))


def _json(capsys, *args) -> tuple[int, dict | str]:
    capsys.readouterr()
    code = main([*args, "--json"])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else err)


# --- the command line ---------------------------------------------------------------------------------

def test_register_names_the_directory_and_the_engine(lab, capsys):
    path, _, directory = lab
    code, out = _json(capsys, "register", "--db", str(path), "--source", str(directory), "--name", "Again")
    assert code == 0
    assert out["dataset"]["source"] == "external" and out["dataset"]["name"] == "Again"
    assert out["dataset"]["orders"] == 2000
    assert out["external"] == {"parquet": str(directory.resolve()), "engine": "local", "spark_remote": None}
    con = db.connect(path)
    try:
        found = db.get_dataset(con, out["dataset"]["id"])
        assert external.of(found).directory == directory.resolve()
        db.delete_dataset(con, found.id)
    finally:
        con.close()


def test_a_directory_that_is_not_a_source_is_refused_saying_why(lab, tmp_path, capsys):
    path = lab[0]
    code, err = _json(capsys, "register", "--db", str(path), "--source", str(tmp_path / "absent"))
    assert code == 2 and f"no directory at {tmp_path / 'absent'}" in err
    (tmp_path / "empty").mkdir()
    code, err = _json(capsys, "register", "--db", str(path), "--source", str(tmp_path / "empty"))
    assert code == 2 and "holds no Parquet files under orders/" in err and "export --parquet" in err
    code, err = _json(capsys, "register", "--db", str(path), "--source", str(lab[2]), "--spark-remote", "sc://h:1")
    assert code == 2 and "goes with the spark engine" in err
    assert "Traceback" not in err


def test_the_report_of_a_registered_source_is_the_stored_data_sets(lab, capsys):
    path, ids, _ = lab
    _, stored = _json(capsys, "report", "--db", str(path), "--dataset", ids["stored"])
    _, local = _json(capsys, "report", "--db", str(path), "--dataset", ids["local"])
    assert local["dataset"]["id"] == ids["local"]
    assert local["orders"] == 2000
    assert {k: v for k, v in local.items() if k != "dataset"} == {k: v for k, v in stored.items() if k != "dataset"}


def test_the_orders_of_a_registered_source_are_the_stored_data_sets(lab, capsys):
    """`orders --dataset` of a registered source lists its files' orders, as many as its report counts."""
    path, ids, _ = lab
    _, report = _json(capsys, "report", "--db", str(path), "--dataset", ids["stored"])
    _, stored = _json(capsys, "orders", "--db", str(path), "--dataset", ids["stored"], "--group", "of=cancelled")
    for registered in filter(None, (ids["local"], ids["spark"])):
        code, listed = _json(capsys, "orders", "--db", str(path), "--dataset", registered, "--group", "of=cancelled")
        assert code == 0, listed
        assert listed["total"] == report["cancelled_orders"] > 0
        assert listed["orders"] == stored["orders"]


def test_the_frontier_of_a_registered_source_is_the_stored_data_sets(lab, capsys):
    """`frontier --dataset` of a registered source replays its files' orders, not none."""
    path, ids, _ = lab
    grid = ("--vary", "seller_response_hours=24,72", "--weigh", "cancelled_orders,cancelled_gmv", "--replicates", "2")
    code, stored = _json(capsys, "frontier", "--db", str(path), "--dataset", ids["stored"], *grid)
    assert code == 0, stored
    code, local = _json(capsys, "frontier", "--db", str(path), "--dataset", ids["local"], *grid)
    assert code == 0, local
    assert local["dataset"]["id"] == ids["local"]
    assert [e["figures"] for e in local["policies"]] == [e["figures"] for e in stored["policies"]]
    assert local["policies"][0]["figures"]["cancelled_orders"]["value"] > 0


@needs_spark
def test_the_report_of_a_registered_spark_source_on_spark_is_the_stored_data_sets(lab, spark, capsys):
    path, ids, _ = lab
    _, stored = _json(capsys, "report", "--db", str(path), "--dataset", ids["stored"])
    code, on_spark = _json(capsys, "report", "--db", str(path), "--dataset", ids["spark"], "--engine", "spark")
    assert code == 0, on_spark
    assert {k: v for k, v in on_spark.items() if k != "dataset"} == {k: v for k, v in stored.items() if k != "dataset"}
    code, err = _json(capsys, "report", "--db", str(path), "--dataset", ids["stored"], "--engine", "spark")
    assert code == 2 and "--engine spark reads a Parquet source" in err


def test_a_registered_source_is_not_exported_again(lab, tmp_path, capsys):
    path, ids, directory = lab
    code, err = _json(capsys, "export", "--db", str(path), "--dataset", ids["local"], "--parquet", str(tmp_path / "x"))
    assert code == 2 and f"its files are in {directory.resolve()}" in err
    assert not (tmp_path / "x").exists()


def test_removing_a_source_leaves_its_files(lab, capsys):
    path, _, directory = lab
    _, out = _json(capsys, "register", "--db", str(path), "--source", str(directory))
    files = sorted(directory.rglob("*"))
    code, _ = _json(capsys, "rename", out["dataset"]["id"], "Renamed", "--db", str(path))
    assert code == 0
    code, _ = _json(capsys, "delete", out["dataset"]["id"], "--db", str(path))
    assert code == 0
    assert sorted(directory.rglob("*")) == files and files


# --- the dashboard ------------------------------------------------------------------------------------

def _add_source(at, directory, engine: str = "local"):
    at.text_input(key="data_external_dir").set_value(str(directory))
    at.radio(key="data_external_engine").set_value(engine)
    next(b for b in at.button if b.label == "Add the source").click().run()
    return at


def test_the_data_page_registers_renames_and_removes_a_source(lab, tmp_path):
    path, ids, directory = lab
    at = _add_source(s.open_page("data", {"dataset": ids["stored"]}), tmp_path)
    # Not a source: said, with what one is; nothing registered.
    assert any("holds no Parquet files under orders/" in e.value.replace("\\", "") for e in at.error)
    assert at.query_params["dataset"] == ids["stored"]
    at = _add_source(at, directory)
    assert [e.value for e in at.exception] == [] and [e.value for e in at.error] == []
    new_id = at.query_params["dataset"]
    con = db.connect(path)
    try:
        added = db.get_dataset(con, new_id)
    finally:
        con.close()
    assert external.of(added) == external.External(directory.resolve(), "local")
    assert f"Engine: local (DuckDB and Polars) · Source: {directory.resolve()}" in " ".join(
        c.value for c in at.sidebar.caption).replace("\\", "")
    at.text_input(key="data_new_name").set_value("Lake copy")
    next(b for b in at.button if b.label == "Rename").click().run()
    at.button(key="data_delete").click().run()
    assert s.problems(at) == []
    con = db.connect(path)
    try:
        assert db.get_dataset(con, new_id) is None
    finally:
        con.close()
    assert (directory / "dataset.json").exists() and list((directory / "orders").rglob("*.parquet"))


def test_spark_is_offered_only_where_it_can_run(lab, monkeypatch):
    monkeypatch.setattr(spark_engine, "available", lambda: "no Java runtime (install a Java 17 runtime)")
    at = s.open_page("data", {"dataset": lab[1]["stored"]})
    assert s.problems(at) == []
    assert at.radio(key="data_external_engine").options == ["local (DuckDB and Polars)"]
    assert at.text_input(key="data_external_remote").disabled
    assert any("Spark is not offered: no Java runtime" in c.value.replace("\\", "") for c in at.caption)


def _tiles(at) -> dict[str, tuple[str, str | None]]:
    return {m.label: (m.value, m.delta) for m in at.metric}


def _tables(at) -> list:
    return [t.value for t in at.dataframe]


# A Spark job costs seconds (many more on a busy machine): the pages on Spark get minutes.
SPARK_TIMEOUT = 600


def _overview(dataset_id: str, **query):
    at = s.open_tables(s.open_page("overview", {"dataset": dataset_id, **query}, timeout=SPARK_TIMEOUT))
    assert s.problems(at) == []
    return at


def test_overview_on_the_local_engine_is_the_stored_data_sets(lab):
    ids, directory = lab[1], lab[2]
    stored, local = _overview(ids["stored"]), _overview(ids["local"])
    assert _tiles(local) == _tiles(stored)
    assert len(_tiles(local)) == 6 and _tiles(local)["Cancellation rate"][0] != "n/a"
    assert len(_tables(local)) == len(_tables(stored)) >= 4
    for mine, theirs in zip(_tables(local), _tables(stored), strict=True):
        assert mine.equals(theirs)
    captions = " ".join(c.value for c in local.caption)
    assert f"Engine: local (DuckDB and Polars) · Source: {directory.resolve()}" in captions.replace("\\", "")


def _later_half_by_one_method(lab) -> dict[str, str]:
    """Filters whose previous period holds orders (so the tiles show a change): the data set's second half,
    one payment method."""
    con = db.connect(lab[0])   # the dashboard's own connection to the file is open in this process
    try:
        first, last, method = con.execute(
            "SELECT min(placed_at)::DATE, max(placed_at)::DATE, min(payment_method) FROM orders WHERE dataset_id = ?",
            [lab[1]["stored"]]).fetchall()[0]
    finally:
        con.close()
    return {"from": str(first + (last - first) / 2), "to": str(last), "payment": method}


@needs_spark
def test_overview_on_spark_is_the_stored_data_sets(lab, spark):
    ids, directory = lab[1], lab[2]
    for query in ({}, _later_half_by_one_method(lab)):
        stored, on_spark = _overview(ids["stored"], **query), _overview(ids["spark"], **query)
        # The headline numbers and their change against the previous period: the same figures.
        assert _tiles(on_spark) == _tiles(stored)
        assert on_spark.metric[0].value != "n/a"
    assert any(delta for _, delta in _tiles(on_spark).values())
    captions = " ".join(c.value for c in on_spark.caption).replace("\\", "")
    assert f"Engine: Spark · Source: {directory.resolve()}" in captions
    # The life cycle, orders by status and how requests end: tallied on Spark, finished by the local
    # engine's code, the stored data set's tables.
    frames, theirs = _tables(on_spark), _tables(stored)
    assert len(frames) == 3 and len(theirs) == 4
    assert [f.columns[0] for f in frames] == ["step", "status", "outcome"]
    assert all(any(f.equals(t) for t in theirs) for f in frames)
    # The volume over time is not computed on Spark: said so, never a traceback.
    assert f"**Volume over time**: not available in this data set, because {external.NOT_ON_SPARK}" in captions


@needs_spark
def test_a_page_that_does_not_run_on_spark_says_so(lab, spark):
    at = s.open_page("reasons", {"dataset": lab[1]["spark"]})
    assert s.problems(at) == []
    assert any("does not run on Spark" in i.value for i in at.info)


def _whatif(dataset_id: str):
    at = s.open_page("whatif", {"dataset": dataset_id}, timeout=SPARK_TIMEOUT)
    assert s.problems(at) == []
    return at


def _every_figure(at):
    return [t.value for t in at.table]


def test_whatif_on_the_local_engine_is_the_stored_data_sets(lab):
    ids = lab[1]
    stored, local = _whatif(ids["stored"]), _whatif(ids["local"])
    assert _tiles(local) == _tiles(stored)
    assert _tiles(local)["Cancelled orders"][0] not in ("", "n/a")
    for mine, theirs in zip(_every_figure(local), _every_figure(stored), strict=True):
        assert mine.equals(theirs)


@needs_spark
def test_whatif_on_spark_is_the_stored_data_sets_and_fits_once(lab, spark, monkeypatch):
    from analytics import calibrate

    ids = lab[1]
    stored, on_spark = _whatif(ids["stored"]), _whatif(ids["spark"])
    assert _tiles(on_spark) == _tiles(stored)
    figures = _every_figure(on_spark)
    assert figures and all(mine.equals(theirs) for mine, theirs in zip(figures, _every_figure(stored), strict=True))
    assert any(external.WHATIF_ON_SPARK == i.value for i in on_spark.info)
    # A scenario replays on Spark; the calibration is not fitted again.
    fits = []
    real_fit = calibrate.fit
    monkeypatch.setattr(calibrate, "fit", lambda *a, **k: fits.append(1) or real_fit(*a, **k))
    on_spark.toggle(key="whatif_seller_consent_required").set_value(False).run(timeout=SPARK_TIMEOUT)
    stored.toggle(key="whatif_seller_consent_required").set_value(False).run()
    assert s.problems(on_spark) == []
    assert _tiles(on_spark) == _tiles(stored) != {}
    assert fits == []


def test_a_source_whose_files_are_gone_says_so(lab, tmp_path):
    import shutil

    path, _, directory = lab
    moved = tmp_path / "moved"
    shutil.copytree(directory, moved)
    con = db.connect(path)
    try:
        gone = external.register(con, moved, "local").id
    finally:
        con.close()
    shutil.rmtree(moved)
    at = s.open_page("overview", {"dataset": gone})
    assert [e.value for e in at.exception] == []
    assert any(f"no directory at {moved}" in e.value.replace("\\", "") for e in at.error)
