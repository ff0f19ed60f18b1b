"""Several sessions of one running app write at once: each import lands whole, none blocks the other."""

from concurrent.futures import ThreadPoolExecutor

from analytics import db, importer
from analytics.generate import generate
from tests.conftest import SAMPLE_CSV


def test_imports_and_generation_side_by_side_on_one_connection(con):
    def do_import(i):
        return importer.import_files(con, [SAMPLE_CSV], name=f"import {i}")

    def do_generate(i):
        return generate(con, 3000, seed=i, name=f"generated {i}")

    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(do_import, i) for i in range(3)] + [pool.submit(do_generate, i) for i in range(2)]
        results = [f.result() for f in futures]

    assert sorted(r.stored for r in results) == [20, 20, 20, 3000, 3000]
    for r in results:
        counted = con.execute("SELECT count(*) FROM orders WHERE dataset_id = ?", [r.dataset.id]).fetchone()[0]
        assert counted == r.stored == r.dataset.orders
    assert len(db.list_datasets(con)) == 5
