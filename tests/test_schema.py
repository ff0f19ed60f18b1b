"""The schema is created idempotently, and a database written by an older version still opens."""

import duckdb

from analytics import db


def test_connecting_twice_changes_nothing(db_file):
    db.connect(db_file).close()
    con = db.connect(db_file)
    assert con.execute("SELECT count(*) FROM schema_info").fetchone()[0] == 1
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert {"datasets", "orders", "cancellation_requests", "refunds", "refused_rows", "scenarios",
            "calibrations"} <= tables


def test_an_older_database_gains_the_new_columns_and_keeps_its_rows(db_file):
    # A first-release database: data sets without is_demo, refused rows without message and raw.
    old = duckdb.connect(str(db_file))
    old.execute("""CREATE TABLE datasets (id VARCHAR PRIMARY KEY, name VARCHAR NOT NULL,
                   source_kind VARCHAR NOT NULL, source JSON, true_params JSON, created_at TIMESTAMP NOT NULL,
                   orders BIGINT NOT NULL DEFAULT 0, cancellation_requests BIGINT NOT NULL DEFAULT 0,
                   refunds BIGINT NOT NULL DEFAULT 0, refused_rows BIGINT NOT NULL DEFAULT 0)""")
    old.execute("""CREATE TABLE refused_rows (dataset_id VARCHAR NOT NULL, source_file VARCHAR,
                   line_number BIGINT, field VARCHAR, reason VARCHAR NOT NULL)""")
    old.execute("INSERT INTO datasets VALUES ('abc', 'old one', 'import', '{}', NULL, TIMESTAMP '2026-01-01', 3, 0, 0, 1)")
    old.execute("INSERT INTO refused_rows VALUES ('abc', 'f.csv', 4, 'amount', 'amount: negative')")
    old.close()

    con = db.connect(db_file)
    [d] = db.list_datasets(con)
    assert (d.id, d.name, d.orders, d.is_demo) == ("abc", "old one", 3, False)
    assert con.execute("SELECT reason, message FROM refused_rows").fetchone() == ("amount: negative", None)


def test_ids_are_url_safe_128_bit_and_never_look_like_an_option():
    import re
    ids = {db.new_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_-]{21}", i) for i in ids)
