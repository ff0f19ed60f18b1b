"""A chunk's partials (grouped.tally): a whole-frame spec's partials that a spec by groups of the same
grain also tallies are read from that spec's groups, and add up to what the whole frame's own
aggregate gives: counts, exact sums and distributions, with a missing group value (null) counted in its
own group, and an empty selection giving an empty whole."""

from datetime import datetime

import polars as pl
import pytest

from analytics import grouped
from analytics import pipelines as p

WHOLE = grouped.Grouped("whole", "refunds", None, ("refunds", "refund_amount", "refund_days_from_start"))
BY_METHOD = grouped.Grouped("by_method", "refunds", "payment_method", ("refunds", "refund_days_from_start"))


def _refunds(rows: list[tuple]) -> pl.LazyFrame:
    """Refunds: (payment method, amount, initiated, completed)."""
    frame = pl.DataFrame(rows, schema=["payment_method", "refund_amount", "refund_initiated_at", "refund_completed_at"],
                         orient="row")
    return frame.cast({c: p.COLUMNS[c] for c in frame.columns}).lazy()


ROWS = [
    ("card", 10.25, datetime(2025, 3, 3, 9), datetime(2025, 3, 4, 9)),     # Mon -> Tue: 1 business day
    ("card", 5.10, datetime(2025, 3, 7, 9), datetime(2025, 3, 10, 9)),     # Fri -> Mon: 1
    ("boleto", 7.00, datetime(2025, 3, 3, 9), datetime(2025, 3, 6, 9)),    # Mon -> Thu: 3
    (None, 1.05, datetime(2025, 3, 3, 9), datetime(2025, 3, 5, 9)),        # method unknown; Mon -> Wed: 2
    (None, 2.00, datetime(2025, 3, 4, 9), None),                            # not completed: no wait
]


def _whole(frames: p.Frames, specs: list[grouped.Grouped]) -> dict:
    return grouped.read(grouped.add(grouped.tally(frames, specs)), WHOLE)[None]


@pytest.mark.parametrize("rows", [ROWS, ROWS[:1], []], ids=["five refunds", "one", "none"])
def test_a_whole_read_from_the_groups_is_the_whole_tallied_on_its_own(rows):
    frames = p.Frames(refunds=_refunds(rows))
    alone = _whole(frames, [WHOLE])
    shared = _whole(frames, [WHOLE, BY_METHOD])
    assert shared["refunds"] == alone["refunds"] == len(rows)
    assert shared["refund_amount"] == alone["refund_amount"]
    assert (list(shared["refund_days_from_start"].values), list(shared["refund_days_from_start"].counts)) == (
        list(alone["refund_days_from_start"].values), list(alone["refund_days_from_start"].counts))


def test_the_five_refunds_worked_out_by_hand():
    whole = _whole(p.Frames(refunds=_refunds(ROWS)), [WHOLE, BY_METHOD])
    assert whole["refunds"] == 5
    assert whole["refund_amount"] == pytest.approx(25.40, abs=1e-9)
    # Waits in business days: 1, 1, 3, 2 (the unknown method's refund counted in its own group).
    waits = whole["refund_days_from_start"]
    assert dict(zip(waits.values.tolist(), waits.counts.tolist(), strict=True)) == {1.0: 2, 2.0: 1, 3.0: 1}
    by = grouped.read(grouped.add(grouped.tally(p.Frames(refunds=_refunds(ROWS)), [WHOLE, BY_METHOD])), BY_METHOD)
    assert {k: v["refunds"] for k, v in by.items()} == {"card": 2, "boleto": 1, None: 2}


def test_only_the_partials_the_groups_lack_are_aggregated_over_the_whole_frame():
    taken = grouped._taken_from_groups([WHOLE, BY_METHOD])
    assert taken == {"whole": ("by_method", {"refunds", "refund_days_from_start"})}
