"""The dashboard's list of data sets is read once and kept until the database is written: a data set
generated, renamed or deleted since shows at once (the list is keyed by the files' write stamps)."""

from __future__ import annotations

from analytics import db
from analytics.generate import generate


def test_the_kept_list_follows_every_write(tmp_path, monkeypatch):
    from ui import database

    path = tmp_path / "list.duckdb"
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(path))
    con = database.connection(str(path))
    first = generate(con, 200, 1, name="first").dataset
    assert [d.name for d in database.datasets()] == ["first"]
    assert database.datasets() is database.datasets()           # kept: not read again while nothing is written
    generate(con, 200, 2, name="second")
    assert [d.name for d in database.datasets()] == ["second", "first"]
    db.rename_dataset(con, first.id, "renamed")
    assert [d.name for d in database.datasets()] == ["second", "renamed"]
    db.delete_dataset(con, first.id)
    assert [d.name for d in database.datasets()] == ["second"]
