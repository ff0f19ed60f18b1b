"""The command line's text output as a person reads it: whole names in aligned columns."""

import json

from analytics.cli import main


def _run(capsys, *args, db):
    capsys.readouterr()
    code = main([*args, "--db", str(db)])
    out, err = capsys.readouterr()
    return code, out, err


def test_datasets_shows_whole_names_up_to_sixty_characters(db_file, capsys):
    long_name = "Marketplace export, March 2026, all sellers (EU)"   # 48 characters
    longer = "x" * 70
    for name in (long_name, longer):
        code, _, err = _run(capsys, "generate", "--orders", "50", "--seed", "1", "--name", name, db=db_file)
        assert code == 0, err
    code, out, _ = _run(capsys, "datasets", db=db_file)
    lines = out.splitlines()
    assert code == 0 and len(lines) == 3
    assert long_name in out                                  # no longer cut at 32 characters
    assert "x" * 59 + "…" in out and "x" * 60 not in out     # capped at 60
    # Aligned: every column starts where its header does.
    source_at = lines[0].index("source")
    assert all(line[source_at:].startswith("generated") for line in lines[1:])


def _olist_db(tmp_path, olist_dir):
    from analytics import db, importer

    path = tmp_path / "olist.duckdb"
    con = db.connect(path)
    importer.import_files(con, [olist_dir / "olist_orders_dataset.csv", olist_dir / "olist_order_payments_dataset.csv"])
    con.close()
    return path


def test_olist_text_says_what_is_not_available_in_plain_words(tmp_path, olist_dir, capsys):
    path = _olist_db(tmp_path, olist_dir)
    code, out, err = _run(capsys, "report", db=path)
    assert code == 0, err
    listed = out.split("Not available in this data set:\n", 1)[1].splitlines()
    labels = [line.strip().split(": this data set")[0] for line in listed]
    assert "Seller losses: orders sent the return way" in labels and "Buyer's wait" in labels
    assert not any("." in label or "_" in label for label in labels)
    code, out, err = _run(capsys, "calibrate", db=path)
    assert code == 0, err
    assert "  acceptance rate: not available (no seller answers in this data set)" in out.splitlines()
    assert "None" not in out


def test_simulate_text_shows_amounts_to_the_cent_and_counts_whole(db_file, capsys):
    code, _, err = _run(capsys, "generate", "--orders", "400", "--seed", "3", db=db_file)
    assert code == 0, err
    code, out, err = _run(capsys, "simulate", "--replicates", "3", "--set", "seller_response_hours=24", db=db_file)
    assert code == 0, err
    rows = {line.split("  ")[0]: line.split("  ", 1)[1] for line in out.split("\n\n", 1)[1].splitlines()[2:]}
    number = r"-?[\d,]+"
    import re
    assert "Cancelled GMV (USD)" in rows   # an amount's label says its currency, as the page's tables do
    for label, cells in rows.items():
        # A difference written as zero is '±0', with no decimals (every change is written so).
        values = re.findall(r"-?[\d,]*\d(?:\.\d+)?", cells.replace("±0", ""))
        if "(USD)" in label:
            assert all(re.fullmatch(number + r"\.\d\d", v) for v in values), (label, cells)
        elif "(business days)" in label:
            assert all(re.fullmatch(number + r"\.\d", v) for v in values), (label, cells)
        else:
            assert all(re.fullmatch(number, v) for v in values), (label, cells)
    assert "n/a" not in out   # a generated data set measures everything


def test_without_dataset_the_first_line_names_the_most_recent(db_file, capsys):
    import json

    for name in ("older", "newer"):
        code, _, err = _run(capsys, "generate", "--orders", "60", "--seed", "2", "--name", name, db=db_file)
        assert code == 0, err
    note = "Data set: newer (the most recent; choose another with --dataset)"
    for command in (["report"], ["calibrate"], ["simulate", "--replicates", "1"],
                    ["sweep", "--param", "seller_response_hours", "--values", "24,48", "--replicates", "1"]):
        code, out, err = _run(capsys, *command, db=db_file)
        assert code == 0, err
        assert out.splitlines()[0].startswith(note), (command, out.splitlines()[0])
        assert out.count("Data set:") == 1
        code, out, err = _run(capsys, *command, "--dataset", "older", db=db_file)
        assert code == 0, err
        assert "the most recent" not in out
        code, out, err = _run(capsys, *command, "--json", db=db_file)
        assert code == 0, err
        assert json.loads(out)["dataset"]["name"] == "newer"   # JSON as it was: no note


def _help(capsys, *command) -> str:
    import pytest

    capsys.readouterr()
    with pytest.raises(SystemExit) as done:
        main([*command, "--help"])
    assert done.value.code == 0
    return " ".join(capsys.readouterr().out.split())   # argparse wraps lines: read it as one


def test_the_help_says_what_the_command_line_is_for_not_how_it_is_written(capsys):
    text = _help(capsys)
    assert "register(subparsers)" not in text and "scripting interface" not in text
    assert "cancellations and refunds" in text


def test_the_help_says_the_defaults_as_they_are(db_file, capsys):
    assert "(default: Generated N orders (seed S))" in _help(capsys, "generate")
    code, out, err = _run(capsys, "generate", "--orders", "50", "--seed", "4", "--json", db=db_file)
    assert code == 0, err
    import json
    assert json.loads(out)["dataset"]["name"] == "Generated 50 orders (seed 4)"
    # --engine spark reads a registered source's --dataset too (README: Parquet and Spark), not only --source.
    for command in ("report", "calibrate", "simulate", "sweep"):
        assert "spark (needs --source, or --dataset of a registered source)" in _help(capsys, command)


def _difference_column(out: str) -> dict[str, str]:
    """simulate's text table: figure label -> its difference cell (the last column, as aligned)."""
    lines = out.split("\n\n", 1)[1].splitlines()
    at = lines[0].rindex("difference") - (len(lines[1].rsplit("  ", 1)[1]) - len("difference"))
    return {line.split("  ")[0]: line[at:].strip() for line in lines[2:] if line.strip()}


def test_simulate_writes_each_difference_with_its_sign_and_no_change_as_plus_minus_zero(db_file, capsys):
    """As the What-if page's tables and the report's comparison write a change: '+284', '-12.50', '±0'."""
    code, _, err = _run(capsys, "generate", "--orders", "400", "--seed", "3", db=db_file)
    assert code == 0, err
    code, out, err = _run(capsys, "simulate", "--replicates", "3", db=db_file)   # the baseline: no change
    assert code == 0, err
    differences = _difference_column(out)
    assert differences and all(cell.startswith("±0") for cell in differences.values()), differences
    code, out, err = _run(capsys, "simulate", "--replicates", "3", "--set", "seller_response_hours=12", db=db_file)
    assert code == 0, err
    differences = _difference_column(out)
    assert differences["Cancelled orders"].startswith("+"), differences
    assert differences["Requests: auto-cancelled (no answer)"].startswith("+"), differences
    assert differences["Orders sent the return way"].startswith(("-", "±0")), differences
    assert not any(cell.split(" ")[0] in ("0", "0.0", "0.00", "-0") for cell in differences.values()), differences


def test_orders_of_a_group_the_export_cannot_record_says_so_rather_than_list_none(tmp_path, capsys):
    """An export of orders and their status only (no request or refund columns): the orders with a request
    are not 'none', they are not recorded, and the list says so, as the report does."""
    from analytics import capabilities

    export = tmp_path / "orders.csv"
    export.write_text("order_id,placed_at,payment_method,amount,status\n"
                      "A,2026-03-02 10:00,card,10.00,delivered\nB,2026-03-03 11:00,card,20.00,cancelled\n")
    path = tmp_path / "lab.duckdb"
    code, _, err = _run(capsys, "import", str(export), "--name", "Statuses", db=path)
    assert code == 0, err
    code, out, err = _run(capsys, "orders", "--dataset", "Statuses", "--group", "of=requests", db=path)
    assert code == 0, err
    assert out.splitlines()[-2:] == ["Orders: 0", "Not available in this data set: "
                                     + capabilities.CAPABILITIES["requests"]]
    code, out, _ = _run(capsys, "orders", "--dataset", "Statuses", "--group", "of=refund_waits", "--json", db=path)
    assert json.loads(out)["not_available"] == "; ".join(capabilities.CAPABILITIES[k] for k in ("requests", "refunds"))
    code, out, _ = _run(capsys, "orders", "--dataset", "Statuses", "--group", "of=cancelled", "--json", db=path)
    assert json.loads(out)["total"] == 1 and json.loads(out)["not_available"] is None


def test_datasets_lists_the_rows_stored_with_a_warning_beside_the_refused(tmp_path, capsys):
    export = tmp_path / "orders.csv"
    # B was paid before it was placed: stored, with a warning; C has no amount: refused.
    export.write_text("order_id,placed_at,paid_at,payment_method,amount\n"
                      "A,2026-03-02 10:00,2026-03-02 10:05,card,10.00\n"
                      "B,2026-03-03 11:00,2026-03-03 09:00,card,20.00\n"
                      "C,2026-03-04 11:00,,card,\n")
    path = tmp_path / "lab.duckdb"
    assert _run(capsys, "import", str(export), db=path)[0] == 0
    code, out, err = _run(capsys, "datasets", db=path)
    assert code == 0, err
    head, row = out.splitlines()
    assert head.split()[-2:] == ["refused", "warned"] and row.split()[-2:] == ["1", "1"]
