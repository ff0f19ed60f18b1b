"""The data-set commands as a user scripts them: JSON out, readable errors, exit codes."""

import json
import re
import subprocess
import sys

from tests.conftest import ROOT, SAMPLE_CSV


def run(*args, db):
    proc = subprocess.run([sys.executable, "-m", "analytics", *args, "--db", str(db)],
                          cwd=ROOT, capture_output=True, text=True)
    return proc.returncode, proc.stdout, proc.stderr


def test_generate_import_list_rename_delete(db_file):
    code, out, _ = run("generate", "--orders", "2000", "--seed", "5", "--json", db=db_file)
    assert code == 0
    generated = json.loads(out)
    assert generated["stored"] == 2000 and generated["refused"] == 0
    assert re.fullmatch(r"[A-Za-z0-9_-]{22,}", generated["dataset"]["id"])  # 128 random bits, URL-safe

    code, out, _ = run("import", str(SAMPLE_CSV), "--name", "Sample shop", "--json", db=db_file)
    assert code == 0
    assert json.loads(out) == {"dataset": json.loads(out)["dataset"], "rows_read": 20, "line_items": 0, "orders": 20,
                               "stored": 20, "refused": 0, "refused_by_reason": {}, "warned": 0,
                               "warned_by_reason": {}, "notices": []}

    code, out, _ = run("datasets", "--json", db=db_file)
    listed = json.loads(out)["datasets"]
    assert [d["name"] for d in listed] == ["Sample shop", "Generated 2,000 orders (seed 5)"]
    assert set(listed[0]) == {"id", "name", "source", "created_at", "orders", "cancellation_requests",
                              "refunds", "refused_rows", "warned_rows"}
    assert (listed[0]["orders"], listed[0]["cancellation_requests"], listed[0]["refunds"]) == (20, 13, 7)

    assert run("rename", "Sample shop", "June shop", db=db_file)[0] == 0
    assert run("delete", "June shop", db=db_file)[0] == 0
    code, out, _ = run("datasets", "--json", db=db_file)
    assert [d["source"] for d in json.loads(out)["datasets"]] == ["generated"]


def test_the_database_may_be_named_before_the_command_too(db_file, tmp_path):
    """`--db` before the command (as many tools take it) names the same file; after it, it wins."""
    assert run("import", str(SAMPLE_CSV), "--name", "Sample shop", db=db_file)[0] == 0
    before = subprocess.run([sys.executable, "-m", "analytics", "--db", str(db_file), "datasets", "--json"],
                            cwd=ROOT, capture_output=True, text=True)
    assert before.returncode == 0, before.stderr
    assert [d["name"] for d in json.loads(before.stdout)["datasets"]] == ["Sample shop"]
    other = tmp_path / "other.duckdb"
    code, out, _ = run("--db", str(other), "datasets", "--json", db=db_file)   # after the command: db_file
    assert code == 0 and [d["name"] for d in json.loads(out)["datasets"]] == ["Sample shop"]


def test_generate_is_deterministic_per_seed(db_file):
    from analytics import db
    for _ in range(2):
        assert run("generate", "--orders", "1500", "--seed", "11", db=db_file)[0] == 0
    con = db.connect(db_file)
    a, b = [d.id for d in db.list_datasets(con)]
    diff = con.execute(
        "SELECT count(*) FROM (SELECT * EXCLUDE (dataset_id) FROM orders WHERE dataset_id = ? "
        "EXCEPT SELECT * EXCLUDE (dataset_id) FROM orders WHERE dataset_id = ?)", [a, b]).fetchone()[0]
    assert diff == 0


def test_import_reports_refusals_and_lists_them(db_file, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("order_id,placed_at,payment_method,amount\nA,2026-06-01,card,1\nB,tomorrow,card,1\n")
    code, out, _ = run("import", str(path), "--json", db=db_file)
    assert code == 0
    assert json.loads(out)["refused_by_reason"] == {"placed_at: not a timestamp": 1}
    code, out, _ = run("refused", db=db_file)
    assert "placed_at: not a timestamp ('tomorrow')" in out
    assert out.splitlines()[1].startswith("3,")


def test_a_whole_file_problem_is_one_line_and_exit_code_2(db_file, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    code, out, err = run("import", str(path), db=db_file)
    assert code == 2
    assert err.strip() == "error: empty.csv: the file is empty"
    assert "Traceback" not in err
    code, _, err = run("rename", "no-such-set", "x", db=db_file)
    assert code == 2 and "no data set with id or name 'no-such-set'" in err


def test_every_command_is_in_the_readme():
    from analytics.cli import build_parser
    readme = (ROOT / "README.md").read_text()
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for name in sub.choices:
        assert f"`{name}" in readme, f"README's command table lacks `{name}`"


def test_a_database_held_by_another_process_is_one_line_not_a_traceback(db_file):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, duckdb; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
                               "sys.stdin.read()", str(db_file)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        code, _, err = run("datasets", db=db_file)
    finally:
        holder.communicate("", timeout=30)
    assert code == 2
    # DuckDB names the holder: its process id, here the holder's own.
    assert f"is open in process {holder.pid} (" in err and "use another file with --db" in err
    assert err.count("\n") == 1 and "Traceback" not in err



def test_import_asks_for_the_decimal_separator_and_lists_warnings(db_file, tmp_path):
    path = tmp_path / "shop.csv"
    path.write_text('order_id,placed_at,payment_method,amount,paid_at,shipped_at\n'
                    'A,2026-06-01 10:00,card,"1,234",2026-06-01 11:00,2026-06-01 10:30\n'
                    'B,2026-06-01 10:00,card,5,,\n')
    code, _, err = run("import", str(path), db=db_file)
    assert code == 2 and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and "--decimal" in err
    code, out, _ = run("import", str(path), "--decimal", ".", db=db_file)
    assert code == 0
    assert "2 rows read. 2 orders stored, 1 of them with a warning." in out
    assert "shipped_at: before paid_at" in out
    code, out, _ = run("warnings", db=db_file)
    assert code == 0
    assert out.splitlines()[0] == "line_number,field,reason,message,raw"
    assert out.splitlines()[1].startswith("2,shipped_at,shipped_at: before paid_at,")
    code, out, _ = run("refused", "--warnings", "--json", db=db_file)
    assert [w["line_number"] for w in json.loads(out)["warnings"]] == [2]
    code, out, _ = run("import", str(path), "--decimal", ",", "--json", db=db_file)
    assert json.loads(out)["stored"] == 2
