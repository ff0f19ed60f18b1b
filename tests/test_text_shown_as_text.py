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


@pytest.mark.parametrize("text", ["10:00", "Note: late", "Reason: late at 10:00", "x @ y", "a@b", "sold @ 10",
                                  "ratio 3:1", "Order: #12", "http or https", "mailto", "Arrived 10:00:30",
                                  "2026-01-05 10:00:00", "Ratio 1:2:3", "x:1[2]"])
def test_a_colon_or_at_that_starts_nothing_has_no_joiner(text):
    # A joiner is copied with the text ("10:00" pasted elsewhere carried an invisible character): it goes
    # only where Streamlit would otherwise read a link or a short code.
    out = md(text)
    assert "\u2060" not in out
    assert plain(out) == text


def test_every_link_and_short_code_gets_its_joiner():
    # Each pattern Streamlit's Markdown recognises is broken, in any case, wherever it is in the text.
    for text, broken in [("see ftp://host/x", "ftp\\:\u2060\\/"), ("MAILTO:a", "MAILTO\\:\u2060a"),
                         ("https://x", "https\\:\u2060\\/"), ("first.last+tag@shop.example", "\\@\u2060shop"),
                         ("at 10:00 :+1: done", "\\:\u2060\\+1\\:"), (":red[x]", "\\:\u2060red\\["),
                         ("a :material/home: b", "\\:\u2060material"), ("at 12:100:", "12\\:\u2060100\\:"),
                         (":1234:", "\\:\u20601234\\:"), (":8ball:", "\\:\u20608ball")]:
        assert broken in md(text), (text, md(text))
    # The time before the short code carries none: only the short code's colon is broken.
    assert md("at 10:00 :+1: done").startswith("at 10\\:00 ")


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


def test_a_list_reads_as_a_sentence():
    from analytics.text import listed

    assert listed([]) == "" and listed(["paid_at"]) == "paid_at"
    assert listed(["paid_at", "placed_at"]) == "paid_at and placed_at"
    assert listed(["1", "2", "4"], "or") == "1, 2 or 4"
