"""The shortcuts an import takes for the commonest cells read them exactly as the general reading does:
plain 'YYYY-MM-DD HH:MM:SS' times, labels already in canonical form, and through a whole import, a cell
that is not read is refused with its text."""

import duckdb
import pytest

from analytics import formats, importer
from analytics.ingest import normalise_label_sql

# Cells near the plain format: offsets, 'T', a 'Z', two-digit years, signs, spaces, impossible dates.
TIME_CELLS = [
    "2026-01-05 00:02:58", "2026-1-5 0:2:58", " 2026-01-05 00:02:58", "2026-01-05 00:02:58 ",
    "  26-01-05 00:02:58", "26-01-05 00:02:58", "2026-01-05T00:02:58", "2026-01-05 00:02:58Z",
    "2026-01-05 00:02:58+02:00", "2026-01-05 00:02:58-05:00", "2026-01-05 00:02:58+0200",
    "2026-01-05 00-02:58", "2026--1-05 00:02:58", "2026-+1-05 00:02:58", "2026-02-30 00:00:00",
    "2026-01-05 24:00:00", "2026-01-05 00:02", "2026-01-05", "2026-01-05 00:02:58.123",
    "0000-01-05 00:02:58", "20260-01-05 00:02:58", "05/01/2026 10:00", "5 Jan 2026", "", " ", None,
    "0026-01-05 00:02:58", "126-01-05 00:02:58", "1-01-05 00:00:00", "2026-01-05  00:02:58",
    "2026-01-05\t00:02:58", "2026-01-05 00:02:60", "2026-01-05 00:02:58 AM", "+2026-01-05 00:00:00",
]


@pytest.fixture()
def cells():
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    yield con
    con.close()


def test_plain_times_read_as_the_general_reading_reads_them(cells):
    cells.execute("CREATE TABLE t AS SELECT unnest(?::VARCHAR[]) AS x", [TIME_CELLS])
    for order in formats.DATE_ORDERS:
        rows = cells.execute(
            f"SELECT x, {formats.timestamp_sql('x', order)}, {formats.timestamp_reading('x', order)} FROM t"
        ).fetchall()
        assert [(x, a) for x, a, b in rows if a != b] == []
    times = dict(cells.execute(f"SELECT x, strftime({formats.timestamp_sql('x', 'day-first')}, '%Y-%m-%d %H:%M:%S') "
                               "FROM t WHERE x IS NOT NULL").fetchall())
    assert times["2026-01-05 00:02:58"] == "2026-01-05 00:02:58"
    assert times["2026-1-5 0:2:58"] == "2026-01-05 00:02:58"
    # The shop's clock: a time with an offset is read as written (not converted to UTC).
    assert times["2026-01-05 00:02:58+02:00"] == "2026-01-05 00:02:58"
    assert times["2026-01-05 00:02:58-05:00"] == times["2026-01-05 00:02:58+0200"] == "2026-01-05 00:02:58"
    assert times["2026-01-05 00:02:58Z"] == "2026-01-05 00:02:58"
    assert times["26-01-05 00:02:58"].endswith("-01-26 00:02:58")          # a numeric date, day first
    assert times["2026-02-30 00:00:00"] is None and times[""] is None


LABELS = {"card": "card", "bank_transfer": "bank_transfer", "Card": "card", " card": "card", "card ": "card",
          "Bank Transfer": "bank_transfer", "cash-on-delivery": "cash_on_delivery", "a -\tb": "a_b",
          "\u00a0card": "card", "carte bancaire\u2009": "carte_bancaire", "x2": "x2", "": None, "   ": None,
          "_": "_", "-": "_", "Ünïcödé": "ünïcödé", None: None}


def test_labels_in_canonical_form_are_kept_and_the_others_normalised(cells):
    keys = list(LABELS)
    rows = cells.execute(f"SELECT x, {normalise_label_sql('x')} FROM (SELECT unnest(?::VARCHAR[]) AS x)",
                         [keys]).fetchall()
    assert dict(rows) == LABELS


def test_a_time_the_reading_cannot_read_is_refused_with_its_text(con, tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("order_id,placed_at,payment_method,amount,paid_at\n"
                    "A,2026-06-01 10:00:00,Card,10,2026-06-01 10:05:00\n"
                    "B,2026-06-01 11:00:00,card,11,2026-06-31 10:05:00\n"
                    "C,2026-06-01 12:00:00,Bank Transfer,12,\n")
    result = importer.import_files(con, [path])
    assert (result.stored, result.refused) == (2, 1)
    refused = importer.refused_rows(con, result.dataset.id).to_dicts()
    assert [(r["line_number"], r["message"]) for r in refused] == [
        (3, "paid_at: not a timestamp ('2026-06-31 10:05:00')")]
    stored = con.execute("SELECT order_id, payment_method, strftime(paid_at, '%H:%M') FROM orders "
                         "ORDER BY order_id").fetchall()
    assert stored == [("A", "card", "10:05"), ("C", "bank_transfer", None)]


def test_the_reader_reads_a_plain_time_as_our_reading_does_or_gives_the_column_back_as_text(cells, tmp_path):
    """csvfile.load asks DuckDB's reader for the time columns written plainly; a cell the reader takes must
    read as timestamp_sql reads it, and a cell it does not take sends the whole column back to text."""
    import csv

    from analytics import csvfile

    for i, cell in enumerate(c for c in TIME_CELLS if c is not None):
        path = tmp_path / f"times{i}.csv"
        with path.open("w", newline="") as fh:
            csv.writer(fh).writerows([["id", "placed"], ["1", "2026-01-05 00:00:00"], ["2", cell]])
        f = csvfile.open_csv(path)
        loaded = csvfile.load(cells, "t", f, path.name, times={"placed"})
        got = cells.execute("SELECT placed FROM t ORDER BY id").fetchall()[1][0]
        if loaded.times:
            expected = cells.execute(f"SELECT {formats.timestamp_sql('x', 'day-first')} FROM (SELECT ?::VARCHAR AS x)",
                                     [cell]).fetchall()[0][0]
            assert got == expected, cell
        else:
            assert got == cell, cell
        cells.execute("DROP TABLE t")


def test_a_file_whose_times_change_their_writing_further_down_imports_every_time(con, tmp_path):
    """The first rows decide which columns the reader reads as times; a later cell with an offset reads
    the file again as text, and every time is read (10:00 at +02:00 is 10:00 on the shop's clock)."""
    path = tmp_path / "export.csv"
    path.write_text("order_id,placed_at,payment_method,amount,paid_at\n"
                    "A,2026-06-01 10:00:00,card,10,2026-06-01 10:05:00\n"
                    "B,2026-06-01 11:00:00,card,11,\n"
                    "C,2026-06-02T10:00:00+02:00,card,12,2026-06-02 08:30:00\n")
    result = importer.import_files(con, [path])
    assert (result.stored, result.refused) == (3, 0)
    stored = con.execute("SELECT order_id, strftime(placed_at, '%Y-%m-%d %H:%M'), strftime(paid_at, '%H:%M') "
                         "FROM orders ORDER BY order_id").fetchall()
    assert stored == [("A", "2026-06-01 10:00", "10:05"), ("B", "2026-06-01 11:00", None),
                      ("C", "2026-06-02 10:00", "08:30")]


def test_a_refused_row_of_a_file_read_with_its_times_shows_them_as_written(con, tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("order_id,placed_at,payment_method,amount,paid_at\n"
                    "A,2026-06-01 10:00:00,card,10,2026-06-01 10:05:00\n"
                    "B,2026-06-01 11:00:00,card,-11,2026-06-01 11:05:09\n")
    result = importer.import_files(con, [path])
    assert (result.stored, result.refused) == (1, 1)
    refused = importer.refused_rows(con, result.dataset.id).to_dicts()
    assert refused[0]["line_number"] == 3 and refused[0]["message"] == "amount: negative (-11.0)"
    assert '"2026-06-01 11:05:09"' in str(refused[0]["raw"]) and '"-11"' in str(refused[0]["raw"])


def test_a_year_of_two_digits_is_read_as_its_century_s_year(con, tmp_path):
    """Spreadsheets write '05/01/26': the 5th of January 2026 (day first, as the column's 25/01 shows),
    not the year 26; 99 is 1999."""
    path = tmp_path / "export.csv"
    path.write_text("order_id,placed_at,payment_method,amount\n"
                    "A,05/01/26 10:00,card,10\n"
                    "B,25/01/26,card,11\n"
                    "C,31.12.99 23:59,card,12\n")
    result = importer.import_files(con, [path])
    assert (result.stored, result.refused, result.warned) == (3, 0, 1)   # 1999: before 2000, warned
    stored = con.execute("SELECT order_id, strftime(placed_at, '%Y-%m-%d %H:%M') FROM orders ORDER BY 1").fetchall()
    assert stored == [("A", "2026-01-05 10:00"), ("B", "2026-01-25 00:00"), ("C", "1999-12-31 23:59")]
