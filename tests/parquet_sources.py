"""What the tests of Parquet sources share (test_spark_engine.py, test_chunked.py): a data set stored and
exported as Parquet, a command's JSON, and where two JSON results differ beyond rounding."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

from analytics import db, generate, importer, source
from analytics.cli import main


def json_of(capsys, *args) -> dict:
    """The command's --json output (it must succeed)."""
    capsys.readouterr()
    code = main([*args, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def exported(tmp_path_factory, name: str, fill, bucket_orders: int = source.BUCKET_ORDERS) -> tuple:
    """(database path, data set id, Parquet directory): `fill(con)` stores a data set, then it is exported
    in buckets of about `bucket_orders` orders."""
    base = tmp_path_factory.mktemp(name)
    path = base / "lab.duckdb"
    con = db.connect(path)
    try:
        dataset_id = fill(con)
        source.export(con, dataset_id, base / "parquet", bucket_orders=bucket_orders)
    finally:
        con.close()
    return path, dataset_id, base / "parquet"


def generated_export(tmp_path_factory):
    """3,000 generated orders (seed 11) over seven months, stored and exported in buckets of about 150
    orders (three or four per month)."""
    return exported(tmp_path_factory, "generated",
                    lambda con: generate.generate(con, 3000, 11, name="Spark check").dataset.id, bucket_orders=150)


def relaid(parquet: Path, target: Path, by_month: bool) -> Path:
    """A copy of an export's files in a layout written by someone else: by month only (every bucket's
    files side by side in its month's directory), or not partitioned at all (every file side by side)."""
    for table in source.TABLES:
        for i, file in enumerate(sorted((parquet / table).glob("**/*.parquet"))):
            month = file.relative_to(parquet / table).parts[0]
            folder = target / table / month if by_month else target / table
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copy(file, folder / f"part{i}.parquet")
    shutil.copy(parquet / source.METADATA, target / source.METADATA)
    return target


def olist_export(tmp_path_factory):
    """The shared Olist sample (orders, payments, items: its sellers), imported and exported; skips the
    test, saying why, when the sample is absent."""
    import pytest

    from tests.conftest import OLIST_DIR

    if not (OLIST_DIR / "olist_orders_dataset.csv").exists():
        pytest.skip(f"the Olist sample is absent: expected it in {OLIST_DIR}")
    files = [OLIST_DIR / f for f in ("olist_orders_dataset.csv", "olist_order_payments_dataset.csv",
                                     "olist_order_items_dataset.csv")]
    # Buckets of about 2,000 orders: up to four a month, each with its own sellers' file.
    return exported(tmp_path_factory, "olist", lambda con: importer.import_files(con, files).dataset.id,
                    bucket_orders=2000)


def differences(a, b, path="") -> list[str]:
    """Where two JSON values differ: floats beyond 1e-9 relative (tallies added in another order), anything
    else at all."""
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return [f"{path}: keys {sorted(set(a) ^ set(b))}"]
        return [d for k in a for d in differences(a[k], b[k], f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} vs {len(b)} items"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in differences(x, y, f"{path}[{i}]")]
    if isinstance(a, float) and isinstance(b, float):
        return [] if math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) else [f"{path}: {a} vs {b}"]
    return [] if (a == b and type(a) is type(b)) else [f"{path}: {a!r} vs {b!r}"]
