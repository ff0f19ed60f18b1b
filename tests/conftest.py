"""Shared fixtures: a fresh database file per test, and the paths of the committed and public samples."""

from pathlib import Path

import pytest

from analytics import db

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
