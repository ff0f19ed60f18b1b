"""Shareable links: every query parameter is parsed and bounded; bad input gives a problem (shown as a
notice) and the default, never an exception."""

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics import links, params
from analytics.links import Param

PARAMS = (
    Param("dataset", "token", None, min_len=8, max_len=64),
    Param("hours", "number", 72.0, minimum=1, maximum=720),
    Param("days", "integer", 7, minimum=0, maximum=60),
    Param("consent", "bool", True),
    Param("anchor", "choice", "order", choices=("order", "request", "refund")),
    Param("pay", "labels", ()),
    Param("stage", "labels", (), choices=("before_payment", "awaiting_shipment", "after_shipment")),
    Param("seller", "labels", (), identifiers=True, max_items=3),
    Param("from", "date", None),
    Param("q", "str", "", max_len=10),
)
DEFAULTS = {p.name: params.default_value(p) for p in PARAMS}


def test_no_parameters_give_the_defaults_and_no_notice():
    parsed = links.parse({}, PARAMS)
    assert parsed.values == DEFAULTS
    assert parsed.notices == []
    assert parsed.given == set()


def test_valid_values_are_read():
    parsed = links.parse(
        {"dataset": "Abc_def-12345", "hours": "12.5", "days": "3", "consent": "false", "anchor": "Refund",
         "pay": "card, Western Union", "stage": ["before_payment", "after_shipment"],
         "seller": "S-1,s.2", "from": "2026-01-31", "q": " abc "},
        PARAMS,
    )
    assert parsed.notices == []
    assert parsed.values == {
        "dataset": "Abc_def-12345", "hours": 12.5, "days": 3, "consent": False, "anchor": "refund",
        "pay": ("card", "western_union"), "stage": ("before_payment", "after_shipment"),
        "seller": ("S-1", "s.2"), "from": date(2026, 1, 31), "q": "abc",
    }


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("hours", "abc", "is not a number"),
        ("hours", "nan", "finite"),
        ("hours", "inf", "finite"),
        ("hours", "0", ">= 1 and <= 720"),
        ("hours", "1e9", ">= 1 and <= 720"),
        ("days", "2.5", "whole number"),
        ("days", "-1", ">= 0 and <= 60"),
        ("consent", "maybe", "true or false"),
        ("anchor", "ship", "one of order, request, refund"),
        ("dataset", "short", "not a valid id"),
        ("dataset", "../../etc/passwd", "not a valid id"),
        ("from", "2026-13-01", "YYYY-MM-DD"),
        ("from", "1200-01-01", "from 1970-01-01 to 2200-12-31"),
        ("q", "x" * 11, "at most 10 characters"),
        ("q", "a\x00b", "control characters"),
        ("hours", "1" * 5000, "too long"),
    ],
)
def test_a_bad_value_gives_a_notice_and_the_default(name, text, says):
    parsed = links.parse({name: text}, PARAMS)
    assert parsed.values == DEFAULTS
    assert len(parsed.notices) == 1
    assert parsed.notices[0].startswith(f"{name}: ") and says in parsed.notices[0]
    assert "default" in parsed.notices[0]
    assert len(parsed.notices[0]) < 300  # a long value is not echoed whole


def test_bad_items_of_a_list_are_dropped_with_a_notice():
    parsed = links.parse({"stage": "before_payment,shipped", "pay": "card,<script>"}, PARAMS)
    assert parsed.values["stage"] == ("before_payment",)
    assert parsed.values["pay"] == ("card",)
    assert len(parsed.notices) == 2


def test_a_list_is_bounded():
    parsed = links.parse({"seller": "a,b,c,d,e"}, PARAMS)
    assert parsed.values["seller"] == ("a", "b", "c")
    assert "the first 3" in parsed.notices[0]


def test_unknown_parameters_are_reported_unless_known_elsewhere():
    parsed = links.parse({"nope": "1", "other": "2", "page_thing": "3"}, PARAMS, ignore={"page_thing"})
    assert parsed.values == DEFAULTS
    assert parsed.notices == ["Unknown link parameters “nope”, “other” ignored."]


def test_too_many_parameters_and_notices_are_capped():
    raw = {f"p{i}": "x" for i in range(500)}
    raw.update({"hours": "bad"})
    parsed = links.parse(raw, PARAMS)
    assert len(parsed.notices) <= params.MAX_NOTICES
    assert "the first 80" in parsed.notices[0]


def test_serialise_leaves_out_defaults():
    assert links.serialise(DEFAULTS, PARAMS) == {}
    out = links.serialise({**DEFAULTS, "hours": 48.0, "consent": False, "pay": ("card", "cod"),
                           "from": date(2026, 2, 1)}, PARAMS)
    assert out == {"hours": "48", "consent": "false", "pay": "card,cod", "from": "2026-02-01"}


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from([p.name for p in PARAMS] + ["zzz"]),
                       st.one_of(st.text(max_size=30), st.lists(st.text(max_size=10), max_size=3)), max_size=6))
def test_any_input_parses_without_raising_and_round_trips(raw):
    parsed = links.parse(raw, PARAMS)
    assert set(parsed.values) == set(DEFAULTS)
    again = links.parse(links.serialise(parsed.values, PARAMS), PARAMS)
    assert again.values == parsed.values
    assert again.notices == []
