"""A negative amount is written with its sign before the currency ('-USD 202'), as a change is ('+USD 12'):
'USD -202' read as a code and a hyphen. One formatter (figures.written) writes every amount: tiles,
tables, sentences and the command line."""

from analytics import figures
from analytics.commands.report import _cell
from analytics.frontier import _said
from analytics.metrics import REGISTRY
from ui.views import tile_text


def test_the_sign_comes_before_the_currency():
    assert figures.written(-202, "USD {:,.0f}") == "-USD 202"
    assert figures.written(-202.5, "USD {:,.2f}") == "-USD 202.50"
    assert figures.written(202.5, "USD {:,.2f}") == "USD 202.50"
    # A change: '+' too, before the code.
    assert figures.written(12.5, "BRL {:,.2f}", signed=True) == "+BRL 12.50"
    # No currency: nothing moves.
    assert figures.written(-1234.5, "{:,.2f}") == "-1,234.50"
    assert figures.written(-0.5, "{:,.1f} days") == "-0.5 days"


def test_every_place_an_amount_is_written_puts_the_sign_first():
    # A tile: -2,012.50 is written whole from 1,000 up, half up to -2,013; exactly -2,012.50 in its help.
    assert tile_text(-2_012.5, "USD {:,.2f}") == ("-USD 2,013", "-USD 2,012.50")
    # In millions from 10 million up: -23,450,000 is -23.45M, one decimal half up: -23.5M.
    assert tile_text(-23_450_000.0, "USD {:,.2f}")[0] == "-USD 23.5M"
    # A change in a tile's precision: -369.40 without cents is -369.
    assert figures.change_text(-369.4, "USD {:,.2f}", whole=True) == "-USD 369"
    # The command line's text tables and the registry's own format.
    assert _cell(-202.0, "USD {:,.2f}") == "-USD 202.00"
    assert REGISTRY["cancelled_gmv"].format(-202.0) == "-202.00"
    # A sentence of the trade-off's words.
    assert _said("cancelled_gmv", "-1,234", "USD ") == "-USD 1,234"
