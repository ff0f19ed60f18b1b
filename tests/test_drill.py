"""From a figure to the orders behind it, on the eleven hand-worked orders of test_metrics_handmade.py: the
list's count is the report's figure, worked out by hand; the command line lists the same orders.

  cancelled orders 6 (O1 O2 O4 O7 O9 O11); cancelled awaiting shipment 5 (O1 O4 O7 O9 O11: O9 by status
  alone); requests 8; requests with the reason wrong_item 3 (O1 O4 O7); seller S1's orders 4 (O1 O2 O7 O9);
  refunds 5, by payment method card 2 (O1 O9), wallet 1 (O4), bank_transfer 1 (O7), cash 1 (O11); the
  buyer's wait measures 3 refunds (O1 O4 O7: O9 has no request, O11 is pending); outcome accepted 3
  (O1 O7 O11); return path 1 (O5). Under the filter payment=card: orders O1 O3 O6 O8 O9 O10, cancelled 2.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest

from analytics import db, drill, ingest, report
from analytics.filters import NO_FILTERS, Filters
from analytics.params import MALFORMED, UNKNOWN_CHOICE, UNKNOWN_KEY
from tests.conftest import ROOT

try:
    from test_metrics_handmade import canonical_frame
except ImportError:  # tests collected as a package
    from tests.test_metrics_handmade import canonical_frame

G = drill.Group


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    path = tmp_path_factory.mktemp("drill") / "eleven.duckdb"
    con = db.connect(path)
    dataset = ingest.store_frame(con, canonical_frame(), name="eleven orders", source_kind="import",
                                 source={"test": "hand-worked"}).dataset
    con.close()
    # Read-only from here on, so that the command line's processes may open the file beside it.
    con = db.connect(path, read_only=True)
    yield path, con, dataset
    con.close()


def ids(con, dataset, filters=NO_FILTERS, group=None, **kw) -> tuple[list[str], int]:
    frame, total = drill.orders(con, dataset.id, filters, group, **kw)
    return frame["order_id"].to_list(), total


CASES = [  # group, the orders worked out by hand (in the default order: placed_at, then order id)
    (G(), ["O3", "O1", "O2", "O4", "O5", "O6", "O7", "O8", "O11", "O9", "O10"]),
    (G(of="cancelled"), ["O1", "O2", "O4", "O7", "O11", "O9"]),
    (G(of="cancelled", cancel_stage="awaiting_shipment"), ["O1", "O4", "O7", "O11", "O9"]),
    (G(of="requests"), ["O3", "O1", "O2", "O4", "O5", "O6", "O7", "O11"]),
    (G(of="requests", reason="wrong_item"), ["O1", "O4", "O7"]),
    (G(seller="S1"), ["O1", "O2", "O7", "O9"]),
    (G(of="refunds"), ["O1", "O4", "O7", "O11", "O9"]),
    (G(of="refunds", payment_method="card"), ["O1", "O9"]),
    (G(of="refund_waits"), ["O1", "O4", "O7"]),
    (G(of="requests", outcome="accepted"), ["O1", "O7", "O11"]),
    (G(of="return_path"), ["O5"]),
]


@pytest.mark.parametrize(("group", "expected"), CASES, ids=[str(g.items()) for g, _ in CASES])
def test_the_orders_behind_each_group_are_the_hand_worked_ones(stored, group, expected):
    _, con, dataset = stored
    assert ids(con, dataset, group=group) == (expected, len(expected))


def test_the_list_and_its_download_say_each_orders_status_as_stored(stored):
    """The orders behind a status bar carry the status they are listed for: O3 O5 O6 O8 O10 delivered, the
    cancelled six cancelled (O9 by its status alone)."""
    _, con, dataset = stored
    frame, total = drill.orders(con, dataset.id, NO_FILTERS, G())
    assert total == 11 and "status" in drill.COLUMNS
    statuses = dict(zip(frame["order_id"], frame["status"], strict=True))
    assert sorted(o for o, st in statuses.items() if st == "delivered") == ["O10", "O3", "O5", "O6", "O8"]
    assert sorted(o for o, st in statuses.items() if st == "cancelled") == ["O1", "O11", "O2", "O4", "O7", "O9"]


def test_each_count_equals_the_report_figure_it_comes_from(stored):
    _, con, dataset = stored
    got = report.report(con, dataset.id)
    pairs = {
        "cancelled_orders": (G(of="cancelled"), got["cancelled_orders"]),
        "cancelled_awaiting_shipment": (drill.for_figure("cancelled_awaiting_shipment"),
                                        got["cancellations_by_stage"]["awaiting_shipment"]),
        "cancellation_requests": (drill.for_figure("cancellation_requests"), got["cancellation_requests"]),
        "refunds": (drill.for_figure("refunds"), got["refunds"]),
        "buyer's wait": (drill.for_figure("p90_refund_business_days_from_request"),
                         got["refund_wait_from_request"]["refunds"]),
        "refund time": (drill.for_figure("p50_refund_business_days_from_start"),
                        got["refund_wait_from_start"]["refunds"]),
        "accepted": (drill.for_figure("outcome_accepted"), got["request_outcomes"]["accepted"]),
        "return path": (drill.for_figure("return_path_orders"), got["seller_losses"]["return_path_orders"]),
    }
    for reason in got["reasons"]:
        pairs[reason["reason"]] = (G(of="requests", reason=reason["reason"]), reason["requests"])
    sellers = report.sellers(con, dataset.id).frame
    for row in sellers.iter_rows(named=True):
        pairs[row["seller_id"]] = (G(seller=row["seller_id"]), row["orders"])
    by_method = report.refunds_by(con, dataset.id, by="payment_method").frame
    for row in by_method.iter_rows(named=True):
        pairs[f"refunds {row['payment_method']}"] = (G(of="refunds", payment_method=row["payment_method"]),
                                                     row["refunds"])
    names = list(pairs)
    counted = drill.counts(con, dataset.id, Filters(), [pairs[n][0] for n in names])
    for name, n in zip(names, counted, strict=True):
        assert n == pairs[name][1] == ids(con, dataset, group=pairs[name][0])[1], name
    assert pairs["cancelled_awaiting_shipment"][1] == 5 and pairs["S1"][1] == 4 and pairs["wrong_item"][1] == 3


def test_the_filters_stay_and_the_group_narrows_them(stored):
    _, con, dataset = stored
    card = Filters(payment_methods=("card",))
    assert ids(con, dataset, card) == (["O3", "O1", "O6", "O8", "O9", "O10"], 6)
    assert ids(con, dataset, card, G(of="cancelled")) == (["O1", "O9"], 2)
    assert ids(con, dataset, card, G(of="cancelled"))[1] == report.report(con, dataset.id, card)["cancelled_orders"]
    # A group's seller within a filter on another seller: the orders of both (none here).
    assert ids(con, dataset, Filters(sellers=("S2",)), G(seller="S1")) == ([], 0)
    assert drill.counts(con, dataset.id, card, [G(), G(of="cancelled"), G(seller="S1")]) == [6, 2, 2]


def test_search_sort_and_pages_happen_in_sql(stored):
    _, con, dataset = stored
    assert ids(con, dataset, search=" s4 ") == (["O11", "O10"], 2)  # seller S4, case and spaces ignored
    assert ids(con, dataset, search="o1") == (["O1", "O11", "O10"], 3)
    assert ids(con, dataset, search="%") == ([], 0)  # literal text, not a pattern
    assert ids(con, dataset, sort="amount", descending=True, limit=3) == (["O6", "O8", "O1"], 11)
    assert ids(con, dataset, sort="amount", descending=True, offset=3, limit=3) == (["O10", "O3", "O9"], 11)
    assert ids(con, dataset, sort="refund_completed_at", limit=2, offset=3) == (["O9", "O10"], 11)  # nulls last, by id
    frame, _ = drill.orders(con, dataset.id, Filters(), G(of="requests", reason="wrong_item"))
    assert frame.columns[:2] == ["order_id", "placed_at"]
    assert frame["response_hours"].to_list() == [12.0, None, 6.0]
    assert frame["refund_business_days"].to_list() == [2, 0, 4]
    assert frame["refund_business_days_from_request"].to_list() == [5, 3, 4]
    with pytest.raises(ValueError, match="sort must be one of"):
        drill.orders(con, dataset.id, Filters(), sort="amount; DROP TABLE orders")


def test_the_list_sorts_by_the_times_it_works_out(stored):
    """Sorted in SQL before paging, by the times the list works out:
    refund time (business days from the refund's start): O9 24, O7 4, O1 2, O4 0, the rest none;
    seller's answer (hours): O6 24, O1 12, O7 6, O11 1;
    days to ship (business days from payment to shipping): O5 0 (same day), O6 1 (Fri -> Mon), O10 1,
    O3 2 (Mon -> Wed), O8 2; ties by order id (O10 before O6 as text), the unshipped after them."""
    _, con, dataset = stored
    assert ids(con, dataset, sort="refund_business_days", descending=True, limit=4) == (["O9", "O7", "O1", "O4"], 11)
    assert ids(con, dataset, sort="response_hours", descending=True, limit=4) == (["O6", "O1", "O7", "O11"], 11)
    assert ids(con, dataset, sort="dispatch_business_days", limit=6) == (["O5", "O10", "O6", "O3", "O8", "O1"], 11)
    frame, _ = drill.orders(con, dataset.id, Filters(), sort="dispatch_business_days", limit=5)
    assert frame["dispatch_business_days"].to_list() == [0, 1, 1, 2, 2]
    # The second page starts where the first ended.
    assert ids(con, dataset, sort="response_hours", descending=True, offset=2, limit=2) == (["O7", "O11"], 11)


def test_a_group_parses_from_a_link_and_the_command_line_with_problems():
    group = G(of="cancelled", reason="Wrong Item", seller=" S1 ")
    assert group.items() == {"of": "cancelled", "reason": "wrong_item", "seller": "S1"}
    assert G.from_query(group.to_query()) == (group, [])
    parsed, problems = G.from_query({"g.of": "everything", "g.outcome": "won", "g.seller": "S2", "other": "x"})
    assert parsed == G(seller="S2")
    assert [(p.field, p.reason) for p in problems] == [("g.of", UNKNOWN_CHOICE), ("g.outcome", UNKNOWN_CHOICE)]
    parsed, problems = G.from_pairs(["reason=wrong_item", "colour=red", "of"])
    assert parsed == G(reason="wrong_item")
    assert [p.reason for p in problems] == [UNKNOWN_KEY, MALFORMED]
    with pytest.raises(ValueError):
        G(of="nothing")


# --- the command line ---------------------------------------------------------------------------------

def run(path, *args):
    proc = subprocess.run([sys.executable, "-m", "analytics", "orders", "--db", str(path), *args], cwd=ROOT,
                          capture_output=True, text=True)
    return proc.returncode, proc.stdout, proc.stderr


def test_the_command_lists_the_orders_behind_the_report_figures(stored):
    path, con, dataset = stored
    got = report.report(con, dataset.id)
    code, out, err = run(path, "--dataset", dataset.id, "--group", "of=cancelled",
                         "--group", "cancel_stage=awaiting_shipment", "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["total"] == got["cancellations_by_stage"]["awaiting_shipment"] == 5
    assert payload["group"] == {"of": "cancelled", "cancel_stage": "awaiting_shipment"}
    assert [o["order_id"] for o in payload["orders"]] == ["O1", "O4", "O7", "O11", "O9"]
    assert payload["dataset"] == {"id": dataset.id, "name": "eleven orders"}

    code, out, _ = run(path, "--dataset", dataset.id, "--payment-method", "card", "--group", "of=cancelled", "--json")
    assert json.loads(out)["total"] == report.report(con, dataset.id, Filters(payment_methods=("card",)))[
        "cancelled_orders"] == 2
    code, out, _ = run(path, "--dataset", dataset.id, "--reason", "wrong_item", "--group", "of=requests", "--json")
    assert json.loads(out)["total"] == 3 and json.loads(out)["filters"] == {"reason": "wrong_item"}


def test_the_command_lists_the_refunds_over_a_threshold_and_a_week_of_requests(stored):
    """The Refunds page's share over a threshold and a period of the Reasons over time, on the command line.
    By hand: card refunds from the start took 2 (O1) and 24 (O9) business days, so 1 over 20 and 2 over 1;
    original refunds from the request took 5 (O1) and 3 (O4): 1 over 3. Wrong-item requests in the week of
    2026-01-05: O1 (01-06) and O4 (01-07)."""
    path, con, dataset = stored
    over = report.refund_share_over(con, dataset.id, threshold_days=20, by="payment_method").frame
    code, out, err = run(path, "--dataset", dataset.id, "--group", "of=refund_times", "--group", "payment_method=card",
                         "--group", "slower_than=20", "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["total"] == over.filter(over["payment_method"] == "card")["over_threshold"][0] == 1
    assert [o["order_id"] for o in payload["orders"]] == ["O9"]
    assert payload["group"] == {"of": "refund_times", "payment_method": "card", "slower_than": 20}
    code, out, _ = run(path, "--dataset", dataset.id, "--group", "of=refund_times", "--group", "payment_method=card",
                       "--group", "slower_than=1", "--json")
    assert json.loads(out)["total"] == 2
    from_request = report.refund_share_over(con, dataset.id, threshold_days=3, by="channel", from_request=True).frame
    code, out, _ = run(path, "--dataset", dataset.id, "--group", "of=refund_waits", "--group", "refund_channel=original",
                       "--group", "slower_than=3", "--json")
    assert json.loads(out)["total"] == from_request.filter(
        from_request["refund_channel"] == "original")["over_threshold"][0] == 1
    weeks = report.reasons(con, dataset.id, by="period", period="week").frame
    code, out, _ = run(path, "--dataset", dataset.id, "--group", "of=requests", "--group", "reason=wrong_item",
                       "--group", "requested_from=2026-01-05", "--group", "requested_to=2026-01-11", "--json")
    assert [o["order_id"] for o in json.loads(out)["orders"]] == ["O1", "O4"]
    assert json.loads(out)["total"] == weeks.filter(
        (weeks["reason"] == "wrong_item") & (weeks["period"].cast(str) == "2026-01-05"))["requests"][0] == 2
    code, _, err = run(path, "--dataset", dataset.id, "--group", "slower_than=soon")
    assert code != 0 and "slower_than" in err and "Traceback" not in err


def test_the_command_writes_csv_and_a_text_table(stored):
    path, _, dataset = stored
    code, out, err = run(path, "--dataset", dataset.id, "--group", "seller=S1", "--csv", "--sort", "amount",
                         "--descending")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["order_id"] for r in rows] == ["O1", "O9", "O2", "O7"]
    assert rows[0]["refund_business_days"] == "2" and rows[0]["reason"] == "wrong_item"

    code, out, err = run(path, "--dataset", dataset.id, "--limit", "2")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "Data set: eleven orders (id " + dataset.id + ")"
    assert "Orders: 1 to 2 of 11" in lines
    assert any(line.startswith("O3 ") for line in lines) and not any(line.startswith("O2 ") for line in lines)
    assert lines[-1] == "9 more: --offset, --limit, or --csv for every one"


@pytest.mark.parametrize(("args", "message"), [
    (["--group", "colour=red"], "error: --group: unknown key 'colour'; expected one of of, seller,"),
    (["--group", "of=everything"], "error: --group of: “everything” is unknown; expected one of orders, cancelled,"),
    (["--group", "reason"], "error: --group: “reason” is malformed; expected KEY=VALUE"),
    (["--sort", "amount;drop"], "error: --sort: 'amount;drop' is not a column of the list"),
    (["--limit", "-1"], "error: --limit must be 0 or more, got -1"),
    (["--stage", "nowhere"], "error: --stage: “nowhere” is unknown"),
    (["--json", "--csv"], "error: --json and --csv: choose one"),
])
def test_the_command_says_what_is_wrong_in_one_line(stored, args, message):
    path, _, dataset = stored
    code, out, err = run(path, "--dataset", dataset.id, *args)
    assert code == 2 and out == "" and "Traceback" not in err
    assert err.startswith(message) and err.count("\n") == 1, err
