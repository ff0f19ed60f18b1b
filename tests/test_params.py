"""One typed-parameter system: filters, policy and a page's link state refuse a value the same way, with a
structured Problem (field, value, reason); pages show it as a notice, the command line as its error."""

from __future__ import annotations

import pytest

from analytics import links, params
from analytics.commands.report import OPTIONS
from analytics.filters import Filters
from analytics.params import (
    NOT_A_DATE,
    NOT_A_NUMBER,
    NOT_A_WHOLE_NUMBER,
    OUT_OF_RANGE,
    UNKNOWN_CHOICE,
    UNKNOWN_KEY,
    Param,
    ParameterError,
    Problem,
    notice_text,
    notices,
    problem_text,
)
from analytics.policy import Parameter, Policy, PolicyError

PAGE = (
    Param("threshold", "integer", 20, minimum=0, maximum=250, label="threshold in business days"),
    Param("period", "choice", "week", choices=("day", "week", "month")),
    Param("q", "str", "", max_len=64),
)


def _one(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, problems
    return problems[0]


def test_one_type_for_the_policy_and_the_links():
    assert Parameter is Param and PolicyError is ParameterError
    assert links.Param is Param


def test_a_bad_number_in_policy_and_links_alike():
    page = _one(links.parse({"threshold": "abc"}, PAGE).problems)
    assert (page.field, page.value, page.reason) == ("threshold", "abc", NOT_A_NUMBER)
    assert page.expected == "a whole number >= 0 and <= 250" and page.used == "the default (20)"
    policy, problems = Policy.from_query({"dispatch_deadline_days": "abc"})
    found = _one(problems)
    assert policy == Policy()
    assert (found.field, found.value, found.reason) == ("dispatch_deadline_days", "abc", NOT_A_NUMBER)
    assert found.expected == "a whole number >= 1 and <= 60 (working days)" and found.used == "the default (7)"
    # A number that is not whole: the same reason in both.
    assert _one(links.parse({"threshold": "2.5"}, PAGE).problems).reason == NOT_A_WHOLE_NUMBER
    assert _one(Policy.from_query({"dispatch_deadline_days": "2.5"})[1]).reason == NOT_A_WHOLE_NUMBER


def test_out_of_range_in_filters_policy_and_links_alike():
    page = _one(links.parse({"threshold": "-3"}, PAGE).problems)
    assert (page.field, page.value, page.reason) == ("threshold", "-3", OUT_OF_RANGE)
    found = _one(Policy.from_query({"seller_response_hours": "0"})[1])
    assert (found.field, found.value, found.reason) == ("seller_response_hours", "0", OUT_OF_RANGE)
    assert found.expected == "a number > 0 and <= 2160 (hours)"
    f, problems = Filters.from_query({"from": "0001-01-01"})
    assert f == Filters() and _one(problems) == Problem(
        "from", "0001-01-01", OUT_OF_RANGE, "a date written YYYY-MM-DD from 1970-01-01 to 2200-12-31",
        used="the default (none)")
    assert _one(Filters.from_query({"to": "2026-02-30"})[1]).reason == NOT_A_DATE


def test_an_unknown_choice_in_filters_policy_and_links_alike():
    page = _one(links.parse({"period": "fortnight"}, PAGE).problems)
    assert (page.field, page.value, page.reason, page.expected) == (
        "period", "fortnight", UNKNOWN_CHOICE, "one of day, week, month")
    found = _one(Policy.from_query({"timeout_action": "never"})[1])
    assert (found.field, found.value, found.reason, found.expected) == (
        "timeout_action", "never", UNKNOWN_CHOICE, "one of auto_cancel, lapse")
    f, problems = Filters.from_query({"anchor": "ship", "stage": "shipped,before_payment"})
    assert f == Filters(stages=("before_payment",))
    assert [(p.field, p.value, p.reason) for p in problems] == [
        ("anchor", "ship", UNKNOWN_CHOICE), ("stage", "shipped", UNKNOWN_CHOICE)]
    # A value left in a list is dropped; a single value is replaced by its default.
    assert [p.used for p in problems] == ["the default (order)", ""]


def test_an_unknown_key_in_policy_and_links_alike_and_filters_leave_other_keys_alone():
    page = _one(links.parse({"nope": "1"}, PAGE).problems)
    assert (page.field, page.value, page.reason) == ("nope", "1", UNKNOWN_KEY)
    found = _one(Policy.from_query({"window": "12"})[1])
    assert (found.field, found.value, found.reason) == ("window", "12", UNKNOWN_KEY)
    assert found.expected.startswith("one of seller_consent_required, ")
    with pytest.raises(PolicyError) as e:
        Policy.from_settings(["window=12"])
    assert e.value.problem == found
    # The link carries other state too: the filters read only their own keys, the page reports the rest.
    assert Filters.from_query({"nope": "1", "period": "day"}) == (Filters(), [])


@pytest.mark.parametrize("hostile", [
    "<script>alert(1)</script>",
    "**bold** [link](http://example.com) ![img](x.png)",
    "line\nbreak\r\x00\x1b[31m",
    "=HYPERLINK(\"http://x\")" + "x" * 5000,
])
def test_hostile_text_stays_text(hostile):
    problems = [
        *links.parse({"period": hostile, hostile[:50]: "1"}, PAGE).problems,
        *Policy.from_query({"timeout_action": hostile, hostile[:50]: "1"})[1],
        *Filters.from_query({"anchor": hostile, "stage": hostile.replace(",", "")})[1],
    ]
    assert len(problems) == 6
    for p in problems:
        # The problem keeps the characters given (bounded); its line quotes them, cut short, on one line.
        assert hostile.startswith(p.value) or hostile.startswith(p.field) or p.value == hostile.replace(",", "").strip()
        for line in (problem_text(p), notice_text(p), *notices([p])):
            assert "\n" not in line and "\r" not in line and "\x00" not in line and len(line) < 600
            assert "“" in line


def test_the_command_line_names_its_own_options_from_the_same_problem():
    _, problems = Filters.from_query({"from": "2026-13-01", "stage": "shipped", "to": "2026-01-01"})
    assert [problem_text(p, OPTIONS) for p in problems] == [
        "--from: “2026-13-01” is not a valid date; expected a date written YYYY-MM-DD from 1970-01-01 to 2200-12-31",
        "--stage: “shipped” is unknown; expected one of before_payment, awaiting_shipment, after_shipment",
    ]
    _, problems = Filters.from_query({"from": "2026-03-01", "to": "2026-01-01"})
    assert [problem_text(p, OPTIONS) for p in problems] == [
        "--from: “2026-03-01” is after --to; expected a day on or before 2026-01-01"]
    assert notices(problems) == ["from: “2026-03-01” is after to; expected a day on or before 2026-01-01; "
                                 "using no date range."]


def test_a_control_s_python_values_parse_like_their_text():
    hours = Param("hours", "number", 72.0, minimum=0, maximum=100, minimum_exclusive=True)
    assert params.parse(hours, 48) == (48.0, None) and params.parse(hours, "48") == (48.0, None)
    assert params.parse(hours, True)[1].reason == NOT_A_NUMBER
    assert params.parse(hours, float("nan"))[1].reason == "not_finite"
    with pytest.raises(ParameterError) as e:
        hours.parse("0")
    assert str(e.value) == "hours: “0” is out of range; expected a number > 0 and <= 100"
    share = Param("share", "number", None, minimum=0, maximum=1, accepts_data=True)
    assert share.parse("data") is None and share.parse(" ") is None and share.parse(0.25) == 0.25


def test_page_notices_are_capped_and_unknown_names_share_one_line():
    raw = {f"x{i}": "1" for i in range(3)} | {"threshold": "a", "period": "b"}
    assert links.parse(raw, PAGE).notices == [
        "threshold: “a” is not a number; expected a whole number >= 0 and <= 250; using the default (20).",
        "period: “b” is unknown; expected one of day, week, month; using the default (week).",
        "Unknown link parameters “x0”, “x1”, “x2” ignored.",
    ]
    many = [Problem("q", str(i), NOT_A_NUMBER) for i in range(20)]
    shown = notices(many)
    assert len(shown) == params.MAX_NOTICES and shown[-1] == "… and 13 more problems with the link."
