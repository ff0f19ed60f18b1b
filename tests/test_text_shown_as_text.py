"""Text from data or a link is shown as the characters it is: `analytics.text.md` escapes what Markdown,
HTML and Streamlit's own short codes would read, and `quoted` cuts and quotes a value for a message."""

import re

import pytest

from analytics.text import md, plain, quoted

PUNCTUATION = re.compile(r"[!-/:-@\[-`{-~]")

HOSTILE = [
    "Shop **bold** [phish](http://evil.example/login) ![px](http://evil.example/px.png)",
    "<img src=x onerror=alert(1)> <script>alert(1)</script> &amp;",
    "a`[Click](http://evil.example/)` =1",
    ":red[red] :material/home: :smile: $x^2$ ~~gone~~ _it_ # heading",
    "1. list\n- item\n> quote | table |",
    "www.evil.example and user@evil.example and <http://evil.example/x>",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_every_markdown_character_is_escaped(text):
    out = md(text)
    # Read left to right, each ASCII punctuation character comes out escaped by a backslash...
    i, bare = 0, []
    while i < len(out):
        if out[i] == "\\":
            assert PUNCTUATION.match(out[i + 1])
            i += 2
            continue
        if PUNCTUATION.match(out[i]):
            bare.append(out[i])
        i += 1
    assert bare == []
    # ...and the text reads as it was, on one line.
    assert plain(out) == " ".join(text.split())
    assert "\n" not in out


def test_bare_links_and_short_codes_are_broken_by_an_invisible_joiner():
    # Streamlit turns http://..., www.x and a@b into links, and :name: into icons, after the escapes
    # are read: a word joiner after ':' and '@' and inside 'www.' leaves nothing for them to match.
    out = md("http://evil.example WWW.evil.example a@evil.example :smile:")
    assert "http\\:\u2060\\/\\/evil" in out
    assert "W\u2060WW\\." in out
    assert "a\\@\u2060evil" in out
    assert out.endswith("\\:\u2060smile\\:")
    # A colon before a space starts nothing: no joiner there.
    assert md("Note: x") == "Note\\: x"


def test_plain_text_stays_as_it_is():
    assert md("Demo marketplace") == "Demo marketplace"
    assert md("card") == "card"
    assert md(None) == ""
    assert md(12) == "12"


def test_long_text_is_cut_when_asked():
    assert plain(md("x" * 50, max_chars=10)) == "x" * 10 + "…"


def test_quoted_cuts_quotes_and_keeps_one_line():
    assert quoted("nope") == "“nope”"
    assert quoted("a\nb\tc") == "“a b c”"
    assert quoted("y" * 60, 40) == "“" + "y" * 40 + "…”"
    assert quoted("a\x00b") == "“a\ufffdb”"


def test_a_count_is_plural_but_for_one():
    from analytics.text import count
    from ui.data_panels import _counted

    assert count(1, "hour") == "1 hour" and count(72, "hour") == "72 hours" and count(0, "refund") == "0 refunds"
    assert _counted(1, "cancellation request") == "**1** cancellation request"
    assert _counted(1529, "refund") == "**1,529** refunds"
