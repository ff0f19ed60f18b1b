"""Text from data or from a URL, made safe to put inside the Markdown that Streamlit draws.

Data set names, labels, seller ids, file and column names and link parameters are untrusted: shown
through `md`, they read as the characters they are. No link, image, emphasis, HTML, colour, icon or
formula comes out of them, and they cannot close the Markdown around them.
"""

from __future__ import annotations

import re

# Every ASCII punctuation character can be backslash-escaped in CommonMark; escaping all of them leaves
# no emphasis, link, image, code span, heading, list, table, HTML, maths ($) or directive (:red[...]).
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
# What Streamlit recognises in the text itself, after the escapes are read: GFM's bare links (a scheme
# such as http: or mailto: followed by text, 'www.', name@host.tld) and its own short codes (:smile:,
# :material/home:, :red[...]). A word joiner (U+2060, invisible, no width) inside each of these breaks it
# without changing what the text looks like. Only there: a joiner is copied with the text, so a time
# ("10:00"), "Reason: late" or a lone '@' carry none.
_JOINER = "\u2060"
_BREAKS = re.compile("|".join((
    r"(?<=w)(?=ww\.)",                                              # w|ww.example
    *(rf"(?<={scheme}:)(?=\S)" for scheme in ("http", "https", "ftp", "mailto", "xmpp")),  # http:|//example
    r"(?<=[A-Za-z0-9._+-]@)(?=[A-Za-z0-9_-]+\.[A-Za-z0-9_-])",       # name@|host.tld
    # :|smile:, :|material/home:, :|red[...]; a name of digits alone is no short code but :100: and :1234:
    # (Streamlit's emoji), so a time with seconds (10:00:30) or a ratio (1:2:3) carries no joiner.
    r"(?<=:)(?=(?:100|1234):|(?!\d+[:\[])[A-Za-z0-9_+/-]+[:\[])",
)), re.IGNORECASE)
_SPACE = re.compile(r"\s+")


def md(value: object, max_chars: int | None = None) -> str:
    """`value` as text, escaped for Markdown (and the HTML inside it): one line, runs of white space
    (line breaks, tabs) as one space, cut to `max_chars` characters with an ellipsis when given."""
    text = _SPACE.sub(" ", "" if value is None else str(value)).strip()
    if max_chars is not None and len(text) > max_chars:
        text = text[:max_chars].rstrip() + "…"
    # The joiners go in before the escapes, which leave them where they are ('\\:' + joiner).
    return _PUNCTUATION.sub(r"\\\1", _BREAKS.sub(_JOINER, text))


def plain(text: str) -> str:
    """What `md(text)` reads as once drawn (escapes and joiners removed): for tests and checks."""
    return re.sub(r"\\(.)", r"\1", text).replace(_JOINER, "")


def quoted(value: object, max_chars: int = 40) -> str:
    """A value a user or a link gave, for a message: in quotation marks, on one line, cut to `max_chars`
    characters so a hostile link cannot flood the page. Plain text: the page shows it through `md`."""
    text = _SPACE.sub(" ", "" if value is None else str(value))
    text = "".join(c if c.isprintable() else "\N{REPLACEMENT CHARACTER}" for c in text)
    return "“" + (text if len(text) <= max_chars else text[:max_chars] + "…") + "”"


def in_sentence(label: str) -> str:
    """A label inside a sentence: its first letter lower-cased, unless its first word is an abbreviation
    ('Cancelled GMV' -> 'cancelled GMV', 'GMV sent the return way' stays)."""
    first = label.split(" ", 1)[0]
    if len(first) > 1 and first.isupper():
        return label
    return label[:1].lower() + label[1:]


def count(n: int, noun: str) -> str:
    """'1 order', '1,529 orders': a count with its noun, plural but for one."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def listed(items, conjunction: str = "and") -> str:
    """Items in a sentence: 'a', 'a and b', 'a, b and c' (or another `conjunction` before the last)."""
    items = list(items)
    if len(items) < 2:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {conjunction} " + items[-1]
