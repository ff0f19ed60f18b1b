"""`report --compare`: the eleven hand-worked orders of test_metrics_handmade.py compared by week, with
the figures worked out by hand; the days compared (analytics/compare.py) on their own.

The orders by day (order date), from the module docstring of test_metrics_handmade.py:
  01-05 Mon  O1 (card 100, cancelled, refund 2 bd, wait 5 bd, answered 12 h) O2 (cash 50, cancelled, buyer
             cancelled unpaid) O3 (card 80, request after shipment, not cancellable)
  01-07 Wed  O4 (wallet 40, cancelled: no answer, auto-cancelled; refund 0 bd, wait 3 bd)
  01-08 Thu  O5 (cod 60, not cancellable)      01-09 Fri  O6 (card 200, rejected after 24 h)
  01-12 Mon  O7 (bank_transfer 30, accepted after 6 h, cancelled; refund 30, 4 bd, wait 4 bd) O8 (card 120)
  02-02 Mon  O11 (cash 25, accepted after 1 h, cancelled; refund 25 pending)
  02-03 Tue  O9 (card 70, cancelled by status; refund 70, 24 bd, no request)
  02-04 Wed  O10 (card 90)
The data's order dates run from 2026-01-05 to 2026-02-04.
"""

from __future__ import annotations

import json
from datetime import date

import pytest

from analytics import cli, compare, db, ingest, report
from analytics.compare import Comparison, window
from analytics.filters import Filters

try:
    from test_metrics_handmade import canonical_frame
except ImportError:  # tests collected as a package
    from tests.test_metrics_handmade import canonical_frame

D = date


@pytest.fixture(scope="module")
def stored_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("compare") / "eleven.duckdb"
    con = db.connect(path)
    try:
        result = ingest.store_frame(con, canonical_frame(), name="eleven orders", source_kind="import",
                                    source={"test": "hand-worked"})
        assert result.stored == 11
    finally:
        con.close()
    return path


def run(capsys, path, *argv) -> tuple[int, str, str]:
    code = cli.main(["report", "--db", str(path), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _json(capsys, path, *argv) -> dict:
    code, out, err = run(capsys, path, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def _figures(block: dict, key: str) -> dict:
    return {name: f[key] for name, f in block["figures"].items()}


def test_the_week_of_01_12_against_the_week_before(stored_file, capsys):
    got = _json(capsys, stored_file, "--from", "2026-01-12", "--to", "2026-01-18", "--compare", "previous")
    c = got["compare"]
    assert c["mode"] == "previous" and c["range"] == ["2026-01-05", "2026-01-11"] and c["days"] == 7
    assert c["selection_range"] == ["2026-01-12", "2026-01-18"] and c["note"] is None and c["unavailable"] == {}
    # The compared week: O1..O6. Orders 6, GMV 100+50+80+40+60+200 = 530, requests 6, cancelled O1 O2 O4 = 3
    # (rate 0.5, GMV 190), refunds O1 O4 (2, 140); answered O1 accepted, O6 rejected: acceptance 1/2;
    # response hours [12, 24]: p50 18, p90 12 + 0.9*12 = 22.8; wait [5, 3]: p50 4, p90 3 + 0.9*2 = 4.8;
    # refund days from the start [2, 0]: p50 1, p90 1.8.
    assert _figures(c, "value") == pytest.approx({
        "orders": 6, "gmv": 530.0, "cancellation_requests": 6, "cancelled_orders": 3, "cancellation_rate": 0.5,
        "cancelled_gmv": 190.0, "refunds": 2, "refund_amount": 140.0, "acceptance_rate": 0.5,
        "p50_response_hours": 18.0, "p90_response_hours": 22.8,
        "p50_refund_business_days_from_request": 4.0, "p90_refund_business_days_from_request": 4.8,
        "p50_refund_business_days_from_start": 1.0, "p90_refund_business_days_from_start": 1.8})
    # The selection: O7, O8. Its own figures are the report's.
    current = _figures(c, "current")
    assert current["orders"] == got["orders"] == 2 and current["cancellation_rate"] == got["cancellation_rate"] == 0.5
    change, share = _figures(c, "change"), _figures(c, "change_share")
    assert change["orders"] == -4 and share["orders"] == pytest.approx(-4 / 6)
    assert change["gmv"] == pytest.approx(150 - 530) and share["gmv"] == pytest.approx(-380 / 530)
    assert change["cancellation_requests"] == -5 and share["cancellation_requests"] == pytest.approx(-5 / 6)
    assert change["cancelled_gmv"] == pytest.approx(-160) and share["cancelled_gmv"] == pytest.approx(-160 / 190)
    # A rate changes in points, with no relative change: 0.5 -> 0.5, and acceptance 0.5 -> 1 (O7 accepted).
    assert change["cancellation_rate"] == 0 and share["cancellation_rate"] is None
    assert change["acceptance_rate"] == pytest.approx(0.5) and share["acceptance_rate"] is None
    assert change["p50_response_hours"] == pytest.approx(6 - 18) and share["p50_response_hours"] == pytest.approx(-12 / 18)


def test_a_compared_range_before_the_data_is_compared_on_the_days_both_have(stored_file, capsys):
    # 01-08..01-12 (5 days) against 01-03..01-07; the data starts on 01-05, two days into the compared range:
    # the same 3 days each side, 01-10..01-12 (O7 O8) against 01-05..01-07 (O1..O4).
    got = _json(capsys, stored_file, "--from", "2026-01-08", "--to", "2026-01-12", "--compare", "previous")
    c = got["compare"]
    assert c["range"] == ["2026-01-05", "2026-01-07"] and c["selection_range"] == ["2026-01-10", "2026-01-12"]
    assert c["days"] == 3 and "the data starts on 2026-01-05, 2 days into the compared range" in c["note"]
    assert got["orders"] == 4  # O5 O6 O7 O8: the report's own figure stays the whole selection's
    f = c["figures"]
    assert (f["orders"]["current"], f["orders"]["value"], f["orders"]["change"]) == (2, 4, -2)
    assert f["orders"]["change_share"] == pytest.approx(-0.5)
    # Cancelled O7 of 2 against O1 O2 O4 of 4: 0.5 - 0.75 = -25 points.
    assert f["cancellation_rate"]["value"] == pytest.approx(0.75)
    assert f["cancellation_rate"]["change"] == pytest.approx(-0.25)
    assert f["gmv"]["value"] == pytest.approx(270.0) and f["gmv"]["change"] == pytest.approx(150 - 270)


def test_a_part_period_is_compared_on_as_many_days(stored_file, capsys):
    # The week of 02-02 runs past the data's last day (02-04): 3 days of it against the custom range's
    # first 3 days, 01-05..01-07 (O1..O4: 4 orders, 3 cancelled, 4 requests, GMV 270).
    got = _json(capsys, stored_file, "--from", "2026-02-02", "--to", "2026-02-08",
                "--compare", "2026-01-05..2026-01-11")
    c = got["compare"]
    assert c["mode"] == "custom" and c["range"] == ["2026-01-05", "2026-01-07"] and c["days"] == 3
    assert c["selection_range"] == ["2026-02-02", "2026-02-04"]
    assert "the data ends on 2026-02-04, 3 of the selection's 7 days" in c["note"]
    f = c["figures"]
    assert (f["orders"]["current"], f["orders"]["value"], f["orders"]["change"]) == (3, 4, -1)
    assert f["cancellation_rate"]["current"] == pytest.approx(2 / 3)
    assert f["cancellation_rate"]["change"] == pytest.approx(2 / 3 - 3 / 4)
    assert f["cancellation_requests"]["change"] == -3 and f["cancellation_requests"]["change_share"] == -0.75
    # The selection's wait from a request: O9 has no request, O11 is pending: nothing to measure.
    assert f["p50_refund_business_days_from_request"] == {"value": 4.0, "current": None, "change": None,
                                                          "change_share": None}


def test_no_comparison_says_why_and_no_option_adds_nothing(stored_file, capsys):
    got = _json(capsys, stored_file, "--compare", "year")
    c = got["compare"]
    assert c["days"] == 0 and c["range"] == ["2025-01-05", "2025-02-04"]
    assert c["note"] == ("No comparison: the same period a year earlier is 2025-01-05 to 2025-02-04 (31 days), "
                         "and nothing is dated before 2026-01-05, the data's first day.")
    assert all(f["value"] is None and f["change"] is None for f in c["figures"].values())
    assert "compare" not in _json(capsys, stored_file)
    assert "compare" not in _json(capsys, stored_file, "--compare", "none")
    # A selection that ends before the data begins: no range, and the note says why.
    c = _json(capsys, stored_file, "--to", "2026-01-01", "--compare", "previous")["compare"]
    assert c["range"] is None and c["days"] == 0
    assert c["note"] == ("No comparison: the selection has no day with data: it ends on 2026-01-01 and the data "
                         "starts on 2026-01-05.")


def test_text_output_and_refused_values(stored_file, capsys):
    code, out, _ = run(capsys, stored_file, "--from", "2026-01-12", "--to", "2026-01-18", "--compare", "previous")
    assert code == 0
    assert "Compared with 2026-01-05 to 2026-01-11 (7 days" in out
    assert "+50.0 pp" in out and "-66.7%" in out
    code, _, err = run(capsys, stored_file, "--compare", "2026-01-12..2026-01-05")
    assert code == 2 and err.startswith("error: --compare: “2026-01-12..2026-01-05” runs backwards")
    code, _, err = run(capsys, stored_file, "--compare", "lastweek")
    assert code == 2 and "expected one of previous, year, none, or a range of days FROM..TO" in err
    code, _, err = run(capsys, stored_file, "--compare", "2026-02-30..2026-03-01")
    assert code == 2 and "is not a valid date" in err


def test_the_days_compared():
    bounds = (D(2024, 1, 1), D(2025, 12, 31))
    # Previous: equal length, ending the day before.
    w = window(Comparison("previous"), Filters(start=D(2025, 3, 1), end=D(2025, 3, 31)), bounds)
    assert w.compared == (D(2025, 1, 29), D(2025, 2, 28)) and w.days == 31 and w.note is None
    # A year earlier: 29 February becomes 28 February.
    w = window(Comparison("year"), Filters(start=D(2024, 2, 29), end=D(2024, 3, 6)), (D(2023, 1, 1), D(2024, 12, 31)))
    assert w.compared == (D(2023, 2, 28), D(2023, 3, 6))
    assert compare.year_earlier(D(2024, 2, 29)) == D(2023, 2, 28)
    # Open ends take the data's first and last day: the whole data (2024-2025) against 2023-2024, on the
    # offsets both have, day by day from each side's start: the compared side has data from its 366th day
    # (2024-01-01), the selection's 366th day is 2024-12-31 (2024 is a leap year).
    w = window(Comparison("year"), Filters(), bounds)
    assert w.compared_days == (D(2024, 1, 1), D(2024, 12, 31)) and w.selection_days == (D(2024, 12, 31), D(2025, 12, 31))
    assert w.days == 366 and w.shift_days == 365 and "the data starts on 2024-01-01, 365 days into the compared" in w.note
    # One day: in the singular.
    w = window(Comparison("previous"), Filters(start=D(2024, 1, 2), end=D(2024, 1, 3)), bounds)
    assert w.note == ("Compared on the same 1 day on each side, 2024-01-03 to 2024-01-03 against 2024-01-01 to "
                      "2024-01-01: the data starts on 2024-01-01, 1 day into the compared range.")
    # A selection with no day of data (one end past the data, the other the data's own day): no comparison,
    # said without a range that runs backwards.
    for filters, why in ((Filters(end=D(2023, 12, 1)), "it ends on 2023-12-01 and the data starts on 2024-01-01"),
                         (Filters(start=D(2026, 2, 1)), "it starts on 2026-02-01 and the data ends on 2025-12-31")):
        for mode in ("previous", "year"):
            w = window(Comparison(mode), filters, bounds)
            assert not w.possible and w.days == 0
            assert w.note == f"No comparison: the selection has no day with data: {why}.", w.note
    # None: no window at all.
    assert window(Comparison("none"), Filters(), bounds) is None
    assert not window(Comparison("previous"), Filters(), bounds).possible


def test_the_parameter_round_trips():
    from analytics.params import parse, serialise_value

    for text, value in (("previous", "previous"), ("year", "year"), ("none", "none"),
                        ("2025-01-01..2025-01-31", (D(2025, 1, 1), D(2025, 1, 31)))):
        got, problem = parse(compare.PARAM, text)
        assert problem is None and got == value
        assert serialise_value(compare.PARAM, got) == text
        assert Comparison.from_value(got).value == value
    assert Comparison("previous").to_query() == {}
    assert Comparison("none").to_query() == {"compare": "none"}
    _, problem = parse(compare.PARAM, "2025-01-01..")
    assert problem.reason == "not_a_date" and problem.used == "the default (previous)"


def test_the_report_function_takes_the_comparison(stored_file):
    con = db.connect(stored_file, read_only=True)
    try:
        got = report.report(con, None, Filters(start=D(2026, 1, 12), end=D(2026, 1, 18)),
                            compare=Comparison("custom", D(2026, 2, 2), D(2026, 2, 8)))
    finally:
        con.close()
    # The custom week runs past the data: its 3 days against the selection's first 3 (O7 O8 on 01-12).
    c = got["compare"]
    assert c["range"] == ["2026-02-02", "2026-02-04"] and c["selection_range"] == ["2026-01-12", "2026-01-14"]
    assert c["figures"]["orders"] == {"value": 3, "current": 2, "change": -1, "change_share": pytest.approx(-1 / 3)}


def test_a_tile_says_what_its_change_is_against_in_a_few_words():
    """The tile is narrow: the kind of comparison and its length, the dates in its help."""
    from datetime import date

    from analytics.compare import Comparison, window
    from analytics.filters import Filters

    week = Filters(start=date(2026, 1, 12), end=date(2026, 1, 18))
    bounds = (date(2025, 1, 1), date(2026, 12, 31))
    assert window(Comparison("previous"), week, bounds).short == "the 7 days before"
    # Days trimmed (the data starts on 2026-01-08, so the 5 January to 7 January are not there): the 4 days
    # compared, 8 to 11 January, are not the 4 just before the selection's 15 to 18, so their dates say which.
    trimmed = window(Comparison("previous"), week, (date(2026, 1, 8), date(2026, 12, 31)))
    assert trimmed.days == 4 and trimmed.short == "8–11 Jan 2026"
    assert window(Comparison("year"), week, bounds).short == "a year earlier"
    custom = Comparison("custom", date(2025, 12, 1), date(2025, 12, 7))
    assert window(custom, week, bounds).short == "1–7 Dec 2025"
    # The tile's value is the whole selection's: a change of some of its days only says which days.
    assert window(Comparison("previous"), week, bounds).against == "vs the 7 days before"
    # In as few characters as a tile shows whole: the year only where the two ranges' years differ.
    assert trimmed.against == "15–18 Jan vs 8–11 Jan"
    shorter = Comparison("custom", date(2025, 12, 1), date(2025, 12, 3))
    assert window(shorter, week, bounds).against == "12–14 Jan vs 1–3 Dec 2025"
    across = Comparison("custom", date(2025, 12, 30), date(2026, 1, 1))
    assert window(across, week, bounds).against == "12–14 Jan vs 30 Dec 2025–1 Jan 2026"
    assert window(Comparison("year"), week, (date(2025, 1, 14), date(2026, 12, 31))).against == \
        "14–18 Jan vs a year earlier"
    # A selection that runs past the data's last day is compared on its days with data: its value is theirs.
    ending = window(Comparison("previous"), week, (date(2025, 1, 1), date(2026, 1, 15)))
    assert ending.trimmed and ending.against == "vs 5–8 Jan 2026"
