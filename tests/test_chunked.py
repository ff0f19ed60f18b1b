"""A Parquet source read by the local engine a chunk at a time (--chunk-orders) gives the figures of the
source read whole, and of the stored data set: the report to the last digit (under filters and with a
comparison too), simulate and sweep to 1e-9 relative (their tallies are added in another order), the
calibration on a sample exactly. The chunks take the export's buckets together (or, for a source written
by month only or not partitioned, slice it by order id), and every order, request, refund and seller
lands in exactly one chunk."""

from __future__ import annotations

import pytest

from analytics import chunked, source
from analytics.cli import main
from tests.parquet_sources import differences, generated_export, json_of, olist_export, relaid

# 3,000 orders over seven months in buckets of about 150, read 500 at a time.
CHUNK = ("--chunk-orders", "500")
POLICY = ("--set", "seller_response_hours=24", "--set", "late_dispatch_action=auto_cancel",
          "--set", "dispatch_deadline_days=3", "--replicates", "3", "--seed", "7")
SAMPLE = ("--calibration-sample", "600", "--calibration-seed", "9")


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    return generated_export(tmp_path_factory)


@pytest.fixture(scope="module")
def olist(tmp_path_factory):
    return olist_export(tmp_path_factory)


def _count(src: source.Source, table: str) -> int:
    return src.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]


def test_the_chunks_hold_every_order_once_with_its_request_and_refund(generated):
    _, _, parquet = generated
    src = source.open_source(parquet)
    try:
        assert chunked.plan(src, 3000) is None and chunked.plan(src, 500) is not None
        chunks = chunked.plan(src, 500)
        assert len(chunks) >= 6
        seen: dict[str, list] = {t: [] for t in ("orders", "cancellation_requests", "refunds")}
        for chunk in chunks:
            part = source.open_source(parquet, dataset_id=src.dataset.id, name=src.dataset.name, chunk=chunk)
            try:
                assert _count(part, "orders") <= 1.5 * 500
                for table in seen:
                    seen[table] += [r[0] for r in part.con.execute(f"SELECT order_id FROM {table}").fetchall()]
                # A chunk's requests and refunds are its own orders'.
                assert part.con.execute("SELECT count(*) FROM cancellation_requests r ANTI JOIN orders o "
                                        "USING (order_id)").fetchall()[0][0] == 0
            finally:
                part.close()
        for table, ids in seen.items():
            assert len(ids) == len(set(ids)) == _count(src, table), table
    finally:
        src.close()


def test_chunked_report_is_the_stored_reports(capsys, generated):
    path, dataset_id, parquet = generated
    for options in ((), ("--payment-method", "card,wallet", "--stage", "awaiting_shipment,after_shipment"),
                    ("--from", "2026-02-01", "--to", "2026-04-30", "--anchor", "request", "--compare", "previous")):
        stored = json_of(capsys, "report", "--db", str(path), "--dataset", dataset_id, *options)
        assert json_of(capsys, "report", "--source", str(parquet), *CHUNK, *options) == stored, options
    assert stored["compare"] and stored["orders"] < 3000


def test_chunked_olist_report_with_its_sellers_is_the_stored_reports(capsys, olist):
    path, dataset_id, parquet = olist
    for options in ((), ("--seller", "4a3ca9315b744ce9f8e9374361493884")):
        stored = json_of(capsys, "report", "--db", str(path), "--dataset", dataset_id, *options)
        assert json_of(capsys, "report", "--source", str(parquet), "--chunk-orders", "1500", *options) == stored
    assert stored["orders"] > 0


def test_chunked_simulation_and_sweep_are_the_stored_ones(capsys, generated):
    path, dataset_id, parquet = generated
    stored = json_of(capsys, "simulate", "--db", str(path), "--dataset", dataset_id, *POLICY, *SAMPLE)
    assert differences(stored, json_of(capsys, "simulate", "--source", str(parquet), *CHUNK, *POLICY, *SAMPLE)) == []
    assert stored["delta"]["cancelled_orders"]["value"] != 0
    options = ("--param", "dispatch_deadline_days", "--values", "2,5", "--set", "late_dispatch_action=auto_cancel",
               "--replicates", "2", "--seed", "4", *SAMPLE)
    stored = json_of(capsys, "sweep", "--db", str(path), "--dataset", dataset_id, *options)
    assert differences(stored, json_of(capsys, "sweep", "--source", str(parquet), *CHUNK, *options)) == []


def test_a_chunked_source_is_calibrated_on_a_stated_sample(capsys, generated):
    path, dataset_id, parquet = generated
    fit = json_of(capsys, "calibrate", "--db", str(path), "--dataset", dataset_id, "--sample", "600", "--seed", "9")
    assert json_of(capsys, "calibrate", "--source", str(parquet), *CHUNK, "--sample", "600", "--seed", "9") == fit
    # Asked for no sample, a chunked source is fitted on DEFAULT_SAMPLE orders (here all 3,000), and says so.
    whole = json_of(capsys, "simulate", "--source", str(parquet), *CHUNK, *POLICY)
    assert whole["calibration"]["sample"]["orders"] == 3000 and whole["calibration"]["sample"]["seed"] == 0
    assert capsys.readouterr() is not None and main(["simulate", "--source", str(parquet), *CHUNK, *POLICY]) == 0
    assert "fitted on a sample of 3,000 of 3,000 orders" in capsys.readouterr().out


def test_chunk_orders_must_be_a_count(capsys, generated):
    _, _, parquet = generated
    assert main(["report", "--source", str(parquet), "--chunk-orders", "0"]) == 2
    assert "--chunk-orders must be 1 or more" in capsys.readouterr().err


def test_buckets_are_read_whole_and_together(generated):
    """The export writes each month in buckets; the plan takes buckets together up to the size, and
    slices none of them when each is smaller than it."""
    _, _, parquet = generated
    parts = source.partitions(parquet)
    assert len(parts) > 14 and all("/bucket=" in rel for rel, _ in parts)
    assert sum(n for _, n in parts) == 3000
    src = source.open_source(parquet)
    try:
        chunks = chunked.plan(src, 500)
    finally:
        src.close()
    assert all(c.parts == 1 for c in chunks)
    assert sorted(d for c in chunks for d in c.dirs) == [rel for rel, _ in parts]
    assert all(sum(dict(parts)[d] for d in c.dirs) <= 500 for c in chunks)


@pytest.mark.parametrize("by_month", [True, False], ids=["by month only", "not partitioned"])
def test_a_source_written_by_someone_else_is_read_in_slices(capsys, generated, tmp_path, by_month):
    """A directory in the layout without buckets (every file of a month side by side), or without month
    directories at all, is sliced by order id, with the same figures."""
    path, dataset_id, parquet = generated
    other = relaid(parquet, tmp_path / "other", by_month)
    src = source.open_source(other)
    try:
        chunks = chunked.plan(src, 500)
        if by_month:
            assert all(len(c.dirs) == 1 and c.dirs[0].startswith("month=") for c in chunks)
            assert any(c.parts > 1 for c in chunks)
        else:
            assert [(c.dirs, c.parts) for c in chunks] == [((".",), 6)] * 6
    finally:
        src.close()
    stored = json_of(capsys, "report", "--db", str(path), "--dataset", dataset_id)
    assert json_of(capsys, "report", "--source", str(other), *CHUNK) == stored
