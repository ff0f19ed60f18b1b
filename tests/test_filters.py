"""Filters: a small frozen value usable as a cache key, read from untrusted query parameters without raising."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.filters import MAX_VALUE_LENGTH, MAX_VALUES, NO_FILTERS, Filters, restrict_to_options
from analytics.params import Problem, notice_text, notices


def test_equal_selections_are_equal_hashable_values():
    a = Filters(payment_methods=["cod", "card", "card"], reasons=("Wrong Item",))
    b = Filters(payment_methods=("card", "cod"), reasons=["wrong_item"])
    assert a == b and hash(a) == hash(b)
    assert a.payment_methods == ("card", "cod") and a.reasons == ("wrong_item",)
    assert {a: 1}[b] == 1
    with pytest.raises(AttributeError):
        a.anchor = "refund"  # frozen
    # Seller ids are identifiers: trimmed, case kept.
    assert Filters(sellers=[" S-1 ", "s-1"]).sellers == ("S-1", "s-1")


def test_direct_construction_refuses_bad_values():
    with pytest.raises(ValueError, match="anchor"):
        Filters(anchor="shipment")
    with pytest.raises(ValueError, match="after"):
        Filters(start=date(2026, 2, 1), end=date(2026, 1, 1))
    with pytest.raises(ValueError, match="stage"):
        Filters(stages=("shipped",))
    with pytest.raises(ValueError, match="date"):
        Filters(start=datetime(2026, 1, 1, 10))


def test_defaults():
    assert NO_FILTERS.is_empty and not NO_FILTERS.has_date_range and NO_FILTERS.to_query() == {}
    assert Filters(anchor="refund").is_empty
    assert not Filters(start=date(2026, 1, 1)).is_empty


def test_query_round_trip_keeps_only_what_differs_from_the_default():
    f = Filters(start=date(2026, 1, 5), end=date(2026, 2, 1), anchor="request", payment_methods=("card", "cod"),
                sellers=("S,1", "S%2"), stages=("awaiting_shipment",))
    q = f.to_query()
    assert q == {"from": "2026-01-05", "to": "2026-02-01", "anchor": "request", "payment": "card,cod",
                 "seller": "S%252,S%2C1", "stage": "awaiting_shipment"}
    assert Filters.from_query(q) == (f, [])


def test_from_query_accepts_lists_and_comma_lists_and_ignores_other_keys():
    f, notices = Filters.from_query({"payment": ["card", "cod,wallet"], "reason": "Wrong-Item",
                                     "dataset": "abc", "window_hours": "96"})
    assert notices == []
    assert f.payment_methods == ("card", "cod", "wallet") and f.reasons == ("wrong_item",)


@pytest.mark.parametrize("query, field, default, word", [
    ({"from": "2026-13-01"}, "start", None, "not a valid date"),
    ({"from": "yesterday"}, "start", None, "not a valid date"),
    ({"to": "2026-01-01T00:00"}, "end", None, "not a valid date"),
    ({"from": "0001-01-01"}, "start", None, "out of range"),
    ({"to": "9999-12-31"}, "end", None, "out of range"),
    ({"anchor": "delivery"}, "anchor", "order", "anchor"),
    ({"stage": "shipped,awaiting_shipment"}, "stages", ("awaiting_shipment",), "stage"),
    ({"from": "2026-03-01", "to": "2026-02-01"}, "start", None, "after"),
])
def test_bad_query_values_become_notices_and_defaults(query, field, default, word):
    f, problems = Filters.from_query(query)
    assert getattr(f, field) == default
    assert len(problems) == 1 and word in notice_text(problems[0])


def test_values_that_are_not_text_are_ignored_with_a_notice():
    f, problems = Filters.from_query({"payment": 7, "seller": None, "reason": ["wrong_item", 3]})
    assert f == Filters(reasons=("wrong_item",))
    assert [(p.field, p.reason) for p in problems] == [("payment", "not_text"), ("seller", "not_text")]


def test_query_values_are_bounded():
    f, problems = Filters.from_query({"seller": ",".join(f"S{i}" for i in range(MAX_VALUES + 50))})
    assert len(f.sellers) == MAX_VALUES
    assert problems == [Problem("seller", str(MAX_VALUES + 50), "too_many", f"at most {MAX_VALUES}",
                                used=f"the first {MAX_VALUES}")]
    f, problems = Filters.from_query({"reason": "x" * (MAX_VALUE_LENGTH + 1) + ",wrong_item"})
    assert f.reasons == ("wrong_item",) and "too long" in notice_text(problems[0])
    # A refused value is echoed cut short, so a hostile link cannot flood the page.
    _, problems = Filters.from_query({"anchor": "y" * 10_000})
    assert len(notice_text(problems[0])) < 200


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["from", "to", "anchor", "payment", "shipping", "seller", "reason",
                                        "stage", "other"]),
                       st.one_of(st.text(max_size=60), st.lists(st.text(max_size=30), max_size=5))))
def test_from_query_never_raises_and_round_trips(query):
    f, problems = Filters.from_query(query)
    assert isinstance(f, Filters) and all(isinstance(n, str) for n in notices(problems))
    assert Filters.from_query(f.to_query()) == (f, [])


def test_restrict_to_a_data_sets_values():
    options = {"payment_methods": ["card", "cod"], "sellers": ["S1"], "reasons": [], "stages": ["before_payment"]}
    f, problems = restrict_to_options(Filters(payment_methods=("card", "bitcoin"), sellers=("S1",)), options)
    assert f == Filters(payment_methods=("card",), sellers=("S1",))
    assert problems == [Problem("payment", "bitcoin", "not_in_data")]
    assert notice_text(problems[0]) == "payment: “bitcoin” is not in this data set; ignored."
    unchanged = Filters(sellers=("S1",))
    assert restrict_to_options(unchanged, options) == (unchanged, [])


def test_one_of_is_is_in_with_nulls_for_few_and_many_values():
    """pipelines.one_of tests a few values one by one (faster than is_in on text) with is_in's answer."""
    import polars as pl

    from analytics.pipelines import ONE_OF_TESTS, one_of

    frame = pl.DataFrame({"m": ["card", None, "cod", "wallet", "card", "pix", None, "x'y"]})
    for values in (["card"], ["card", "cod", "x'y"], [], [f"v{i}" for i in range(ONE_OF_TESTS)] + ["card", "pix"]):
        ours = frame.select(one_of(pl.col("m"), values).fill_null(False)).to_series()
        theirs = frame.select(pl.col("m").is_in(values).fill_null(False)).to_series()
        assert ours.to_list() == theirs.to_list(), values
