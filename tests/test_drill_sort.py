"""The Orders list sorts in SQL by the times it works out in Polars (drill.DERIVED_SQL beside
drill.DERIVED): the SQL business days are numpy.busday_count's for every pair of days, and on a
generated data set every worked-out column comes out in order, page after page, nulls last."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import numpy as np
import polars as pl
import pytest

from analytics import db, drill
from analytics.filters import Filters
from analytics.generate import generate


def test_business_days_in_sql_are_numpys_for_every_pair_of_days_over_five_weeks():
    # Every start and end among 35 days (each weekday at each distance, either way round), and a leap day.
    days = [date(2024, 2, 19) + timedelta(days=i) for i in range(35)]
    pairs = pl.DataFrame({"a": [a for a in days for _ in days], "b": [b for _ in days for b in days]})
    con = duckdb.connect()
    got = con.sql(f"SELECT {drill._business_days_sql('a', 'b')} AS n FROM pairs").pl()["n"].to_list()
    expected = np.busday_count(pairs["a"].to_numpy(), pairs["b"].to_numpy()).tolist()
    assert got == expected
    assert got[0] == 0 and min(got) < 0 < max(got)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    con = db.connect(tmp_path_factory.mktemp("sort") / "gen.duckdb")
    dataset = generate(con, 1_500, 3, name="sort check").dataset
    yield con, dataset
    con.close()


@pytest.mark.parametrize("column", list(drill.DERIVED))
@pytest.mark.parametrize("descending", [False, True])
def test_each_worked_out_time_sorts_the_list_page_after_page(generated, column, descending):
    con, dataset = generated
    pages = [drill.orders(con, dataset.id, Filters(), sort=column, descending=descending, offset=o, limit=500)[0]
             for o in range(0, 1_500, 500)]
    values = pl.concat(pages)[column]
    known = values.drop_nulls()
    assert known.len() > 50, "the data set has such times"
    assert values[:known.len()].null_count() == 0, "nulls last"
    assert known.to_list() == sorted(known.to_list(), reverse=descending)
    assert pl.concat(pages)["order_id"].n_unique() == 1_500
