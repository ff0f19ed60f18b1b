"""A selected row of a page's table leads to the orders behind each count it shows, on the eleven
hand-worked orders (test_metrics_handmade.py; the counts in test_drill_marks.py's docstring): on the
Overview, the status table's row "cancelled, awaiting shipment" (5 orders, 5 cancelled); on Reasons, the
cancelled GMV's row "wrong item" (3 cancelled orders); on Refunds, the channel's row "wallet" (2 refunds)."""

from __future__ import annotations

import app_support as s
import pytest

try:
    from test_drill_marks import eleven  # noqa: F401 (the module's fixture: the eleven orders stored)
except ImportError:  # tests collected as a package
    from tests.test_drill_marks import eleven  # noqa: F401


@pytest.fixture(autouse=True)
def _database(eleven, monkeypatch):  # noqa: F811 (the fixture)
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(eleven[0]))


def _select(at, key: str, shown: dict) -> None:
    """Select the row of the table `key` that shows `shown` (column: value as the table reads), as a click
    in its selection box does."""
    frame = next(d for d in at.dataframe if d.key == f"{key}_table_df").value
    row = next(i for i, row in enumerate(frame.to_dict("records")) if shown.items() <= row.items())
    at.session_state[f"{key}_table_df"] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    at.run()
    assert s.problems(at) == []


def _links(at) -> dict[str, str]:
    return {e.proto.label: e.proto.query_string for e in at.get("page_link") if "See the" in e.proto.label}


@pytest.mark.parametrize(("page", "key", "shown", "expected"), [
    ("overview", "ov_status", {"status": "cancelled", "stage": "Awaiting shipment"}, {
        "See the 5 orders: Cancelled · Awaiting shipment, orders": "g.status=cancelled&g.stage=awaiting_shipment",
        "See the 5 orders: Cancelled · Awaiting shipment, cancelled orders":
            "g.of=cancelled&g.status=cancelled&g.stage=awaiting_shipment"}),
    ("reasons", "rs_gmv", {"reason": "Wrong item"}, {
        "See the 3 orders: Wrong item, cancelled orders": "g.of=cancelled&g.reason=wrong_item"}),
    ("refunds", "rf_channel", {"refund_channel": "Wallet"}, {
        "See the 2 orders: Wallet, refunds": "g.of=refunds&g.refund_channel=wallet"}),
])
def test_a_selected_row_links_to_its_orders(eleven, page, key, shown, expected):  # noqa: F811
    at = s.open_table(s.open_page(page, {"dataset": eleven[1]}), key)
    assert s.problems(at) == []
    before = _links(at)
    _select(at, key, shown)
    found = {label: q for label, q in _links(at).items() if label not in before}
    assert found == {label: f"dataset={eleven[1]}&{q}" for label, q in expected.items()}
