"""A connection's file and mode (db.location), and cursors that know them without asking DuckDB."""

from __future__ import annotations

from analytics import db


def test_a_cursor_made_by_db_cursor_knows_its_connections_file(tmp_path):
    path = tmp_path / "lab.duckdb"
    con = db.connect(path)
    try:
        cur = db.cursor(con)
        assert db.location(cur) == db.location(con) == (str(path), False)
        # Known without a query: the same answer a fresh cursor gets from DuckDB.
        assert cur in db._LOCATIONS
        fresh = con.cursor()
        assert fresh not in db._LOCATIONS and db.location(fresh) == db.location(cur)
        # The cursor is a cursor: its own transaction on the same file.
        assert cur.execute("SELECT count(*) FROM datasets").fetchone() == (0,)
        cur.close()
        fresh.close()
    finally:
        con.close()


def test_a_database_in_memory_has_no_file():
    import duckdb

    con = duckdb.connect()
    try:
        assert db.location(db.cursor(con)) == (None, False)
    finally:
        con.close()
