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


def test_a_cursor_never_queries_the_shared_connection(tmp_path):
    """The dashboard's one connection serves every session's thread: a cursor taken while another thread
    queries it must not query it too (DuckDB refuses, or answers empty). Its file is asked of the new cursor."""
    import duckdb

    path = tmp_path / "lab.duckdb"
    db.connect(path).close()
    real = duckdb.connect(str(path))   # not through db.connect: its file not known yet

    class Busy:
        """The shared connection while another thread's query runs on it."""

        def cursor(self):
            return real.cursor()

        def execute(self, *args, **kwargs):
            raise AssertionError("the shared connection was queried")

    shared = Busy()
    try:
        cur = db.cursor(shared)
        assert db.location(shared) == db.location(cur) == (str(path), False)
        cur.close()
        db.cursor(shared).close()   # known now, for every later cursor
    finally:
        real.close()


def test_a_connection_knows_its_file_from_the_start(tmp_path):
    con = db.connect(tmp_path / "lab.duckdb", read_only=False)
    try:
        assert db._LOCATIONS.get(con) == (str(tmp_path / "lab.duckdb"), False)
    finally:
        con.close()
