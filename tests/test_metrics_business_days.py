"""Business days are numpy.busday_count(start.date(), end.date()) (domain.md), whatever the times of day,
the weekends between, or the order of the two dates; and percentiles interpolate linearly as NumPy does."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics import pipelines as p

moments = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(moments, moments), min_size=1, max_size=40))
def test_refund_business_days_equal_numpy_busday_count(pairs):
    frame = pl.DataFrame({"refund_initiated_at": [a for a, _ in pairs], "refund_completed_at": [b for _, b in pairs],
                          "requested_at": [a - timedelta(hours=30) for a, _ in pairs]},
                         schema={c: pl.Datetime("us") for c in ("refund_initiated_at", "refund_completed_at",
                                                                "requested_at")})
    got = frame.select(p.refund_business_days().alias("d"), p.refund_business_days_from_request().alias("r"))
    starts = np.array([a.date() for a, _ in pairs], dtype="datetime64[D]")
    ends = np.array([b.date() for _, b in pairs], dtype="datetime64[D]")
    requests = np.array([(a - timedelta(hours=30)).date() for a, _ in pairs], dtype="datetime64[D]")
    assert got["d"].to_list() == np.busday_count(starts, ends).tolist()
    assert got["r"].to_list() == np.busday_count(requests, ends).tolist()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=-5, max_value=60), min_size=1, max_size=50),
       st.sampled_from([0.1, 0.5, 0.9, 0.95]))
def test_percentiles_interpolate_linearly_like_numpy(values, q):
    got = pl.DataFrame({"v": values}).select(p.quantile(pl.col("v"), q)).item()
    assert np.isclose(got, np.percentile(values, q * 100, method="linear"))
