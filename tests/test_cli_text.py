"""The command line's text output as a person reads it: whole names in aligned columns."""

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
