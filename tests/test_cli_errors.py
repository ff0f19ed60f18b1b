"""The command line's errors: each is one line on stderr with exit code 2, never a traceback."""

import socket
import subprocess
import sys

import pytest

from analytics.cli import lock_message
from tests.conftest import ROOT, SAMPLE_CSV


def run(*args):
    proc = subprocess.run([sys.executable, "-m", "analytics", *args], cwd=ROOT, capture_output=True, text=True)
    return proc.returncode, proc.stdout, proc.stderr


def one_line_error(code: int, err: str) -> str:
    assert code == 2, err
    assert "Traceback" not in err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    return err.strip()


def test_a_folder_given_as_the_file_to_import(tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    err = one_line_error(*run("import", str(folder), "--db", str(tmp_path / "x.duckdb"))[::2])
    assert err == f"error: {folder} is a folder, not a file: give the export's CSV file (or Olist's files) by name"


def test_a_missing_file(tmp_path):
    err = one_line_error(*run("import", str(tmp_path / "nope.csv"), "--db", str(tmp_path / "x.duckdb"))[::2])
    assert err == f"error: {tmp_path / 'nope.csv'}: no such file"


def test_a_file_that_cannot_be_read(tmp_path):
    # A socket is a file that no one can open for reading, not even the superuser the tests may run as.
    path = tmp_path / "orders.csv"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    try:
        err = one_line_error(*run("import", str(path), "--db", str(tmp_path / "x.duckdb"))[::2])
    finally:
        server.close()
    assert err.startswith(f"error: {path} cannot be read: ")


def test_the_second_of_two_files_is_checked_too(tmp_path):
    err = one_line_error(*run("import", str(SAMPLE_CSV), str(tmp_path), "--db", str(tmp_path / "x.duckdb"))[::2])
    assert f"{tmp_path} is a folder" in err


def test_a_database_whose_folder_cannot_be_created(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    database = blocker / "data" / "lab.duckdb"
    err = one_line_error(*run("datasets", "--db", str(database))[::2])
    assert err == f"error: cannot open or create the database {database}: {blocker / 'data'}: not a directory"


def test_a_database_path_that_is_a_folder(tmp_path):
    err = one_line_error(*run("datasets", "--db", str(tmp_path))[::2])
    assert str(tmp_path) in err


def test_a_usage_mistake_is_one_line_too(tmp_path):
    err = one_line_error(*run("report", "--no-such-option", "--db", str(tmp_path / "x.duckdb"))[::2])
    assert "unrecognized arguments: --no-such-option" in err and "--help" in err
    err = one_line_error(*run("no-such-command")[::2])
    assert "invalid choice: 'no-such-command'" in err


@pytest.mark.parametrize(
    ("duckdb_says", "holder"),
    [
        ('IO Error: Could not set lock on file "/d/lab.duckdb": Conflicting lock is held in '
         "/usr/bin/python3.11 (PID 4242). See also https://duckdb.org/docs/current/connect/concurrency",
         "process 4242 (/usr/bin/python3.11)"),
        ('IO Error: Could not set lock on file "/d/lab.duckdb": Conflicting lock is held in '
         "/opt/my tools/streamlit (PID 17) by user ann. See also https://duckdb.org/docs",
         "process 17 (/opt/my tools/streamlit, user ann)"),
        ('IO Error: Could not set lock on file "/d/lab.duckdb": Resource temporarily unavailable',
         "another process"),
    ],
)
def test_the_lock_message_names_the_holder_when_duckdb_does(duckdb_says, holder):
    assert lock_message(duckdb_says, "/d/lab.duckdb") == (
        f"/d/lab.duckdb is open in {holder}, and DuckDB lets one process write a file at a time; "
        "stop it, or use another file with --db")


def test_a_filter_value_the_data_set_does_not_have_is_an_error_naming_the_option(tmp_path, capsys):
    """A typed value that matches nothing (a typo, most often) stops the command, where a link only warns."""
    from analytics.cli import main

    path = tmp_path / "demo.duckdb"
    assert main(["generate", "--orders", "300", "--seed", "3", "--db", str(path)]) == 0
    capsys.readouterr()
    assert main(["report", "--db", str(path), "--payment-method", "nosuch"]) == 2
    assert capsys.readouterr().err.strip() == "error: --payment-method: “nosuch” is not in this data set"
    assert main(["orders", "--db", str(path), "--reason", "card,nosuch"]) == 2
    err = capsys.readouterr().err
    assert "--reason: “card” is not in this data set" in err and "“nosuch”" in err and "\n" not in err.strip()
    assert main(["report", "--db", str(path), "--payment-method", "card", "--json"]) == 0
    # A group key that acts as the filter of its name refuses such a value too: it listed no order, silently.
    capsys.readouterr()
    assert main(["orders", "--db", str(path), "--group", "payment_method=nosuch", "--json"]) == 2
    assert capsys.readouterr().err.strip() == "error: --group payment_method: “nosuch” is not in this data set"
    assert main(["orders", "--db", str(path), "--group", "payment_method=card", "--group", "of=cancelled", "--json"]) == 0


def test_a_reader_that_stops_early_is_no_error(tmp_path):
    """`python -m analytics orders --csv | head -1`: the reader has what it wanted and goes; the command
    stops without a word, and not with an error's exit code."""
    database = tmp_path / "x.duckdb"
    assert run("import", str(SAMPLE_CSV), "--db", str(database))[0] == 0
    for command in (["orders", "--csv"], ["report", "--json"], ["datasets"]):
        with subprocess.Popen([sys.executable, "-m", "analytics", *command, "--db", str(database)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
            proc.stdout.close()   # the reader goes before the command writes a line
            err = proc.stderr.read()
            assert proc.wait() != 2, err
        assert err == "", command


@pytest.mark.parametrize("command", ["simulate", "sweep", "frontier"])
def test_a_number_of_replicates_out_of_range_names_the_flag(tmp_path, command):
    db = str(tmp_path / "x.duckdb")
    assert run("import", str(SAMPLE_CSV), "--db", db)[0] == 0
    extra = {"sweep": ["--param", "seller_response_hours", "--values", "24,48"],
             "frontier": ["--vary", "seller_response_hours=24,48", "--weigh", "cancelled_orders,cancelled_gmv"]}.get(command, [])
    err = one_line_error(*run(command, "--replicates", "0", *extra, "--db", db)[::2])
    assert err == "error: --replicates must be a whole number >= 1 and <= 500; got 0"
