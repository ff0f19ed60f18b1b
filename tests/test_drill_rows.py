"""A selected row of a report's table lists the orders behind each count it shows (drill.for_row): on the
eleven hand-worked orders of test_metrics_handmade.py, and on every row of every such table of a generated
data set, each list's count is the row's figure."""

from __future__ import annotations

import pytest

from analytics import db, drill, generate, report
from analytics.filters import Filters

try:
    from test_drill_marks import eleven  # noqa: F401 (the module's fixture: the eleven orders stored)
except ImportError:  # tests collected as a package
    from tests.test_drill_marks import eleven  # noqa: F401

NONE = Filters()
# Each table the pages draw, by its name, and the report call that makes it.
TABLES = {
    "order-life-cycle": (report.lifecycle, {}),
    "cancellations-by-stage": (report.stages, {}),
    "orders-by-status": (report.orders_by_status, {}),
    "cancellations-by-payment-method": (report.volume_by, {"by": "payment_method"}),
    "request-outcomes": (report.outcomes, {}),
    "reasons": (report.reasons, {}),
    "reasons-cancelled-gmv": (report.reason_cancelled_gmv, {}),
    "reasons-by-stage": (report.reasons, {"by": "stage"}),
    "reasons-by-payment-method": (report.reasons, {"by": "payment_method"}),
    "refunds-by-channel": (report.refunds_by, {"by": "channel"}),
    "refunds-by-payment-method": (report.refunds_by, {"by": "payment_method"}),
}


def test_every_table_whose_rows_lead_to_orders_is_named_here():
    assert set(TABLES) == set(drill.ROW_TABLES)


# Worked out by hand (test_drill_marks.py's docstring): the row, and each count's orders.
HAND = [
    ("order-life-cycle", {"step": "paid", "reached": 10, "left": 5}, {"reached": 10, "left": 5}),
    ("orders-by-status", {"status": "delivered", "stage": None, "orders": 2, "cancelled_orders": 0},
     {"orders": 2, "cancelled_orders": 0}),
    ("orders-by-status", {"status": "cancelled", "stage": "awaiting_shipment", "orders": 5, "cancelled_orders": 5},
     {"orders": 5, "cancelled_orders": 5}),
    ("request-outcomes", {"outcome": "accepted", "requests": 3}, {"requests": 3}),
    ("reasons-cancelled-gmv", {"reason": "wrong_item", "cancelled_orders": 3}, {"cancelled_orders": 3}),
    ("refunds-by-channel", {"refund_channel": "wallet", "refunds": 2}, {"refunds": 2}),
    ("refunds-by-payment-method", {"payment_method": "card", "refunds": 2}, {"refunds": 2}),
]


@pytest.mark.parametrize(("table", "row", "expected"), HAND, ids=[f"{t}-{i}" for i, (t, _, _) in enumerate(HAND)])
def test_a_row_leads_to_the_hand_worked_orders(eleven, table, row, expected):  # noqa: F811 (the fixture)
    path, dataset_id = eleven
    found = drill.for_row(table, row)
    assert [column for _, column in found] == list(expected)
    con = db.connect(path, read_only=True)
    try:
        counts = drill.counts(con, dataset_id, NONE, [g for g, _ in found])
    finally:
        con.close()
    assert dict(zip(expected, counts, strict=True)) == expected


def test_a_row_without_its_figure_or_with_a_label_the_group_refuses_leads_nowhere():
    # The delivered step of an export without delivery times: unknown, not 0; nothing to list.
    assert drill.for_row("order-life-cycle", {"step": "delivered", "reached": None, "left": None}) == []
    assert drill.for_row("request-outcomes", {"outcome": "nonsense", "requests": 4}) == []
    assert drill.for_row("reasons", {"reason": None, "requests": 4}) == []
    # No status written and no request: a group of its own.
    ((group, _),) = drill.for_row("orders-by-status", {"status": None, "stage": None, "orders": 3})
    assert (group.status, group.stage) == (drill.NO_STATUS, "none")


@pytest.fixture(scope="module")
def generated():
    con = db.connect(":memory:")
    dataset = generate.generate(con, 3_000, 5, name="rows").dataset.id
    yield con, dataset
    con.close()


@pytest.mark.parametrize("table", list(TABLES))
def test_every_rows_lists_count_what_the_row_shows(generated, table):
    con, dataset = generated
    make, options = TABLES[table]
    filters = Filters(payment_methods=("card", "wallet"))
    rows = make(con, dataset, filters, **options).frame.to_dicts()
    pairs = [(row, group, column) for row in rows for group, column in drill.for_row(table, row)]
    assert pairs, table
    counts = drill.counts(con, dataset, filters, [g for _, g, _ in pairs])
    assert [row[column] for row, _, column in pairs] == counts
