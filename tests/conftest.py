"""Shared fixtures: a fresh database file per test, and the paths of the committed and public samples."""

from pathlib import Path

import pytest

from analytics import db, load

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_CSV = ROOT / "data" / "sample_orders.csv"
OLIST_DIR = ROOT.parent / "shared" / "data" / "olist-sample"


@pytest.fixture
def db_file(tmp_path):
    return tmp_path / "test.duckdb"


@pytest.fixture
def con(db_file):
    connection = db.connect(db_file)
    yield connection
    connection.close()


@pytest.fixture
def olist_dir():
    """The Olist sample lives beside the repository (its licence keeps it out of git)."""
    if not (OLIST_DIR / "olist_orders_dataset.csv").exists():
        pytest.skip(f"the Olist sample is absent: expected it in {OLIST_DIR}")
    return OLIST_DIR


@pytest.fixture(autouse=True)
def _orders_read_through_sql(request):
    """Outside the pages' tests, a data set's orders are read through SQL, as the command line reads them,
    unless a test keeps them in memory itself (test_resident.py). The first page test imports ui.cached,
    which keeps them in memory for the rest of the process, as the dashboard does: without this, every
    test after it would read from memory."""
    runs_pages = any(getattr(v, "__name__", "").endswith("app_support") for v in vars(request.module).values())
    if runs_pages:
        yield
        return
    kept = load._RESIDENT
    load._RESIDENT = None
    try:
        yield
    finally:
        load._RESIDENT = kept
