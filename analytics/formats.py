"""How an export's cells become numbers and times: one reading per column, decided from all its values.

Shops write amounts the way their country does (`R$ 1.234,56`, `1 234,56`, `$1,234.50`, `(12.00)`) and
dates the way their software does (`05/01/2026`, `5 Jan 2026`, `2026-01-05T10:00:00Z`). A value alone
can be ambiguous (`1,234`; `05/01/2026`), a column rarely is: the decimal separator and the order of day
and month are decided per column from every value in it, and where the values cannot decide, the import
asks (`--decimal`, `--date-format`) rather than guess row by row. A value that does not fit its
column's reading is refused with a reason, never misread; one the reading may misread ('1.234' beside
'10.50': three decimals, or a thousands separator) is read by it and named in a notice.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from analytics import db
from analytics.text import listed

DECIMAL_CHOICES = {".": "decimal point", ",": "decimal comma"}
DATE_ORDERS = {"day-first": "%d/%m", "month-first": "%m/%d"}


class FormatUndecided(ValueError):
    """The values of a column can be read two ways: the user must say which (`choice`: 'decimal' or
    'date_format'); the message says it in words, without the command line's flags."""

    def __init__(self, message: str, choice: str, decided: dict[str, str] | None = None):
        super().__init__(message)
        self.choice = choice
        self.decided = decided or {}    # field -> how it reads, for the columns their values did decide


@dataclass(frozen=True)
class Readings:
    """What the user said, where the values could not decide."""
    decimal: str | None = None          # '.' or ','
    date_format: str | None = None      # 'day-first' or 'month-first'


def _text(src: str) -> str:
    return f"nullif(trim({src}), '')"


def text_sql(src: str) -> str:
    """The cell trimmed, an empty one NULL (as `nullif(trim(...), '')`). Nearly every cell has nothing to
    trim: one of ASCII characters without a space (the only ASCII character `trim` removes; the others
    it removes are Unicode spaces) is kept as it is, for under half the work of trimming it."""
    return (f"(CASE WHEN strlen({src}) = length({src}) AND NOT contains({src}, ' ') AND {src} <> '' "
            f"THEN {src} ELSE nullif(trim({src}), '') END)")


# ---- numbers ----------------------------------------------------------------------------------------

def _number_core(src: str) -> tuple[str, str]:
    """(digits and separators with currency, spaces and sign removed; whether the value is negative)."""
    body = f"regexp_replace({_text(src)}, '[\\s\\x{{00a0}}\\x{{202f}}\\x{{2009}}'']', '', 'g')"
    # A currency before or after the number: R$, US$, BRL, $, €, £, ¥, ₹.
    body = f"regexp_replace({body}, '^([A-Za-z]{{1,3}}\\$|[A-Za-z]{{3}}|[$€£¥₹])|([A-Za-z]{{1,3}}\\$|[A-Za-z]{{3}}|[$€£¥₹])$', '', 'g')"
    negative = f"({body} ~ '^\\(.*\\)$' OR {body} ~ '^-')"
    core = f"regexp_replace(regexp_replace({body}, '^\\((.*)\\)$', '\\1'), '^[+-]', '')"
    return core, negative


# A value a thousands separator may have written: one to three digits (the first not 0), the separator and
# three digits ('1.234', '12,500'). Read with that separator as the decimal one, it has three decimals.
_GROUPED = {".": "'^[1-9]\\d{0,2}\\.\\d{3}$'", ",": "'^[1-9]\\d{0,2},\\d{3}$'"}


def number_class_sql(src: str) -> str:
    """'dot' | 'comma' (the value says which separator is decimal), 'ambiguous', 'plain', or NULL."""
    return _class_sql(_number_core(src)[0])


def _class_sql(core: str) -> str:
    """`number_class_sql` of a value's core (`_number_core`)."""
    last_dot, last_comma = f"strpos(reverse({core}), '.')", f"strpos(reverse({core}), ',')"
    dots = f"(length({core}) - length(replace({core}, '.', '')))"
    commas = f"(length({core}) - length(replace({core}, ',', '')))"
    # One separator before three digits reads either way only after a group a thousands separator can
    # follow, one to three digits that do not start with 0 ('1.234'): '0.125', '.125' and '1234.567' can
    # only hold decimals.
    return f"""CASE
        WHEN {core} IS NULL OR NOT {core} ~ '^[0-9.,]+$' THEN NULL
        WHEN {dots} = 0 AND {commas} = 0 THEN 'plain'
        WHEN {dots} > 0 AND {commas} > 0 THEN CASE WHEN {last_dot} < {last_comma} THEN 'dot' ELSE 'comma' END
        WHEN {dots} > 1 THEN 'comma'
        WHEN {commas} > 1 THEN 'dot'
        WHEN {dots} = 1 THEN CASE WHEN {last_dot} = 4 AND {core} ~ {_GROUPED['.']} THEN 'ambiguous' ELSE 'dot' END
        ELSE CASE WHEN {last_comma} = 4 AND {core} ~ {_GROUPED[',']} THEN 'ambiguous' ELSE 'comma' END END"""


def number_sql(src: str, decimal: str) -> str:
    """The value as a DOUBLE read with `decimal` as the decimal separator; NULL where it does not fit."""
    core, negative = _number_core(src)
    if decimal == ",":
        valid = f"({core} ~ '^\\d{{1,3}}(\\.\\d{{3}})*(,\\d+)?$' OR {core} ~ '^\\d+(,\\d+)?$' OR {core} ~ '^,\\d+$')"
        plain = f"replace(replace({core}, '.', ''), ',', '.')"
    else:
        valid = f"({core} ~ '^\\d{{1,3}}(,\\d{{3}})*(\\.\\d+)?$' OR {core} ~ '^\\d+(\\.\\d+)?$' OR {core} ~ '^\\.\\d+$')"
        plain = f"replace({core}, ',', '')"
    value = f"try_cast({plain} AS DOUBLE)"
    slow = f"(CASE WHEN {valid} THEN CASE WHEN {negative} THEN -{value} ELSE {value} END END)"
    # Most cells are plain numbers ('42.50', '-3'): a cast reads them, the patterns read the rest. A
    # decimal comma column takes the cast only where no '.' could be a thousands separator.
    text = text_sql(src)
    cast = f"try_cast({text} AS DOUBLE)"
    plain_cell = f"isfinite({cast})" if decimal != "," else f"(NOT contains({text}, '.') AND isfinite({cast}))"
    return f"(CASE WHEN {plain_cell} THEN {cast} ELSE {slow} END)"


@dataclass(frozen=True)
class DecimalReading:
    """How a number column is read: its decimal separator, '.' or ','. `ambiguous`: whether some of its
    values read either way ('1,234'), each then read by the separator; True too where the user chose the
    separator, as the values were not read to decide it."""
    separator: str
    ambiguous: bool


def decide_decimals(cur: duckdb.DuckDBPyConnection, table: str, columns: dict[str, str],
                    readings: Readings) -> dict[str, DecimalReading]:
    """How each number field's text column of `table` (field -> column) is read: the user's choice, else
    what the column's values show. Where some columns' values cannot decide, the import asks once, naming
    every such column (the one answer reads them all)."""
    if readings.decimal in DECIMAL_CHOICES:
        return {f: DecimalReading(readings.decimal, ambiguous=True) for f in columns}
    out: dict[str, DecimalReading] = {}
    undecided: dict[str, str] = {}   # field -> a value it could read both ways
    for fld, column in columns.items():
        decided, example = _decimal_of(cur, table, column)
        if decided:
            out[fld] = decided
        else:
            undecided[fld] = example
    if undecided:
        names = list(undecided)
        where = "the column" if len(names) == 1 else "these columns"
        raise FormatUndecided(
            f"the values of {listed(names)}, such as {undecided[names[0]]!r}, can be read with a decimal point or "
            f"a decimal comma, and no value in {where} decides it: choose the decimal separator", "decimal",
            {f: r.separator for f, r in out.items()})
    return out


def _decimal_of(cur: duckdb.DuckDBPyConnection, table: str, column: str) -> tuple[DecimalReading | None, str | None]:
    """(the reading, None) as one text column's values show; (None, a value read both ways) where they
    cannot tell."""
    cls = number_class_sql(column)
    t = _text(column)
    # Only cells with a comma, or a point before exactly three digits, can say 'comma' or be ambiguous;
    # the others are classified by a cheap test rather than the patterns.
    # (Tests on the cell as read: trimming every cell costs more than the rest of the decision.)
    telling = f"(contains({column}, ',') OR {column} LIKE '%.___%')"
    # One pass: the telling cells are classified by the patterns (CASE evaluates them only there).
    dot, comma, ambiguous, example = cur.execute(
        f"""SELECT count(*) FILTER (WHERE c = 'dot'), count(*) FILTER (WHERE c = 'comma'),
                   count(*) FILTER (WHERE c = 'ambiguous'), any_value(t) FILTER (WHERE c = 'ambiguous')
            FROM (SELECT CASE WHEN {telling} THEN {cls} WHEN contains({column}, '.') THEN 'dot' END AS c,
                         CASE WHEN {telling} THEN {t} END AS t FROM {table})"""
    ).fetchall()[0]
    if dot or comma:
        return DecimalReading("." if dot >= comma else ",", ambiguous > 0), None
    if ambiguous:
        return None, example
    return DecimalReading(".", ambiguous=False), None


_WITH_DECIMALS = {".": "dot", ",": "comma"}       # number_class_sql of a value whose decimals follow the separator
_LINES_NAMED = 5


def thousands_notice(cur: duckdb.DuckDBPyConnection, table: str, column: str, label: str,
                     reading: DecimalReading, line_sql: str) -> str | None:
    """The notice naming the values of a text column of `table` that its reading gives three decimals
    ('1.234' as 1.234) where the column's other values with decimals have another number of them ('10.50'):
    such a value may hold a thousands separator (1234, as a European export writes it). None where there is
    no such value, or where no other value has decimals, or they have three as well ('0.125'): the column
    then reads as written.

    `line_sql` gives a row's line in the file (the table's alias is `r`). The column is read only where
    its decision met values that read either way (`reading.ambiguous`), which nearly no import has."""
    if not reading.ambiguous:
        return None
    sep = reading.separator
    core, _ = _number_core(column)
    value = number_sql(column, sep)
    # Only a cell with the separator before three characters can be one: a cheap test finds the few.
    found, lines, text, read = cur.execute(
        f"""SELECT count(*), min(line, {_LINES_NAMED}), arg_min(t, line), arg_min(v, line)
            FROM (SELECT {line_sql} AS line, {_text(column)} AS t, {value} AS v FROM {table} r
                  WHERE {column} LIKE '%{sep}___%' AND {core} ~ {_GROUPED[sep]})"""
    ).fetchall()[0]
    if not found:
        return None
    places = cur.execute(
        f"""SELECT list(DISTINCT p ORDER BY p) FROM (
                SELECT strpos(reverse(k), '{sep}') - 1 AS p, {_class_sql('k')} AS c, v
                FROM (SELECT {core} AS k, {value} AS v FROM {table} WHERE contains({column}, '{sep}')))
            WHERE c = '{_WITH_DECIMALS[sep]}' AND p > 0 AND p <> 3 AND v IS NOT NULL"""
    ).fetchall()[0][0]
    if not places:
        return None
    others = f"the column's other values have {listed([str(p) for p in places], 'or')} decimal" + (
        "" if places == [1] else "s")
    whole = round(read * 1000)
    if found == 1:
        return (f"{label}: {text!r} on line {lines[0]} was read as {read:g}, but {others}: it may hold a "
                f"thousands separator, meaning {whole}")
    more = [f"{found - len(lines):,} more"] if found > len(lines) else []
    return (f"{label}: {found:,} values on lines {listed([str(n) for n in lines] + more)} were read with three "
            f"decimals ({text!r} as {read:g}), but {others}: they may hold a thousands separator "
            f"({text!r} meaning {whole})")


# ---- times ------------------------------------------------------------------------------------------

_NUMERIC = "'^(\\d{1,2})[/.-](\\d{1,2})[/.-](\\d{4}|\\d{2})(\\D|$)'"
_TIMES = ("", " %H:%M", " %H:%M:%S", " %I:%M %p", " %I:%M:%S %p", "T%H:%M", "T%H:%M:%S")
_NAMED = [d + t for d in ("%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y", "%d-%b-%Y", "%d-%b-%y", "%b %d %Y",
                          "%a, %d %b %Y", "%A, %d %B %Y") for t in _TIMES[:5]]


def _sql_list(items) -> str:
    return "[" + ", ".join(db.sql_text(i) for i in items) + "]"


def timestamp_sql(src: str, date_format: str) -> str:
    """The value as a naive TIMESTAMP on the shop's clock; NULL where it is not a time in the column's
    reading.

    ISO 8601 with a space or a 'T', with or without seconds and offset; a time with an offset is read as
    written, on the shop's clock (a valid offset dropped, not converted to UTC: '22:30 -0300' is 22:30
    of its own day), a time without one as it is. Numeric dates (`05/01/2026 10:00`) in the column's
    order of day and month; dates with month names (`5 Jan 2026`).

    The commonest cell of all, 'YYYY-MM-DD HH:MM:SS' as written, is read by that one fixed format: where
    it reads a cell that starts with a digit and a four-digit year, `timestamp_reading` gives the same
    time (no offset, no 'T', nothing after the seconds can pass it). An empty cell is no time; every
    other cell takes `timestamp_reading`.
    """
    plain = f"CASE WHEN {_PLAIN_ISO_TEST.format(src=src)} THEN try_strptime({src}, '{PLAIN_TIME}') END"
    return f"(CASE WHEN {src} IS NULL THEN NULL ELSE coalesce({plain}, {timestamp_reading(src, date_format)}) END)"


def offsets_notice(cur: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> str | None:
    """The notice saying which UTC offsets the text time columns of `table` carry and that their times are
    read on the shop's clock (timestamp_sql); None where no time carries an offset other than UTC's. Two
    offsets or more (a shop's winter and summer time) are named so: a wait across the change is an hour off."""
    if not columns:
        return None
    each = " UNION ALL ".join(
        f"SELECT regexp_extract({_text(c)}, '{_OFFSET}', 2) AS o FROM {table} WHERE {_HAS_OFFSET.format(t=c)}"
        for c in columns)
    written = [o for (o,) in cur.execute(f"SELECT DISTINCT o FROM ({each}) WHERE o <> '' ORDER BY o").fetchall()]
    offsets = sorted({_offset_words(o) for o in written} - {"+00:00"})
    if not offsets:
        return None
    if len(offsets) == 1:
        return (f"times carry the UTC offset {offsets[0]} and are read on the shop's clock, as written: an order "
                f"placed at 23:30 {offsets[0]} counts on its own day")
    return (f"times carry the UTC offsets {listed(offsets)} and are read on the shop's clock, as written: an "
            "order counts on its own day, and a wait across a change of offset (summer time) is an hour off")


# An offset as written after a time's minutes or seconds (group 1): '+0200', ' +02:00', '-03', 'Z' (group 2);
# a cell that may hold one, cheaply.
_OFFSET = r"(:\d{2}(?:\.\d+)?)\s*([+-]\d{2}(?::?\d{2})?|[Zz])$"
_HAS_OFFSET = "(contains({t}, '+') OR contains(substr({t}, 11), '-') OR suffix({t}, 'Z') OR suffix({t}, 'z'))"


def _offset_words(written: str) -> str:
    """'+0200', '+02', 'Z' as '+02:00', '+02:00', '+00:00'."""
    if written in ("Z", "z"):
        return "+00:00"
    digits = written[1:].replace(":", "")
    return f"{written[0]}{digits[:2]}:{digits[2:4] or '00'}"


# What a stored time is, in the pages' words (timestamp_sql reads every time so).
SHOP_CLOCK = "on the shop's clock, as the export writes it (an offset is dropped, not converted to UTC)"

# How DuckDB and most databases write a time: the CSV reader reads a column written so (csvfile.load).
PLAIN_TIME = "%Y-%m-%d %H:%M:%S"
# A four-digit year first: a digit, and a '-' as the fifth character.
_PLAIN_ISO_TEST = "(substr({src}, 5, 1) = '-' AND {src} >= '0' AND {src} < ':')"


def timestamp_reading(src: str, date_format: str) -> str:
    """`timestamp_sql` for any cell, by what the cell looks like."""
    text = _text(src)
    has_offset = _HAS_OFFSET.format(t=text)
    fixed = f"regexp_replace({text}, '\\s*([+-]\\d{{2}}):?(\\d{{2}})$', '\\1:\\2')"
    # The shop's clock: the time as written, its offset (a valid one) dropped, not converted to UTC. A
    # shop counts its orders by its own days: 22:30 at -03:00 is that day's order, not the next day's at
    # 01:30 UTC; a business day is the shop's too.
    wall = f"try_cast(regexp_replace({text}, '{_OFFSET}', '\\1') AS TIMESTAMP)"
    with_offset = f"(CASE WHEN try_cast({fixed} AS TIMESTAMPTZ) IS NOT NULL THEN {wall} END)"
    iso = f"(CASE WHEN {has_offset} THEN {with_offset} ELSE try_cast({text} AS TIMESTAMP) END)"
    order = DATE_ORDERS.get(date_format, DATE_ORDERS["day-first"])
    # A year of two digits is read as one ('05/01/26' is 2026; %Y alone would read the year 26).
    slashed = f"regexp_replace({text}, '^(\\d{{1,2}})[.-](\\d{{1,2}})[.-]', '\\1/\\2/')"
    four, two = ([f"{order}/{y}{t}" for t in _TIMES[:5]] for y in ("%Y", "%y"))
    numeric = (f"(CASE WHEN length(regexp_extract({text}, {_NUMERIC}, 3)) = 4 "
               f"THEN try_strptime({slashed}, {_sql_list(four)}) ELSE try_strptime({slashed}, {_sql_list(two)}) END)")
    named = f"try_strptime({text}, {_sql_list(_NAMED)})"
    # ISO first, by its fifth character, without a pattern: nearly every export writes ISO times.
    return (f"(CASE WHEN substr({text}, 5, 1) = '-' THEN {iso} "
            f"WHEN {text} ~ {_NUMERIC} THEN {numeric} ELSE {named} END)")


def decide_date_format(cur: duckdb.DuckDBPyConnection, table: str, columns: dict[str, str],
                       readings: Readings) -> dict[str, str]:
    """Per field, 'day-first' or 'month-first' for its numeric dates; `columns` maps a field to its text
    column. The user's choice, else what the column's values show (a first part above 12: day first; a
    second part above 12: month first; the majority where a column shows both). A column whose values
    cannot tell takes what the file's other date columns show; where nothing in the file tells and a
    value could be read both ways, the import asks."""
    if readings.date_format in DATE_ORDERS:
        return dict.fromkeys(columns, readings.date_format)
    if not columns:
        return {}
    parts = []
    for fld, col in columns.items():
        t = _text(col)
        a = f"try_cast(regexp_extract({t}, {_NUMERIC}, 1) AS INTEGER)"
        b = f"try_cast(regexp_extract({t}, {_NUMERIC}, 2) AS INTEGER)"
        # A cheap test on the cell as read finds the few that may be numeric dates; the pattern decides.
        maybe = f"NOT starts_with(substr({col}, 5), '-')"     # not ISO: no '-' after a four-digit year
        parts.append(f"SELECT '{fld}' AS f, {t} AS t, {a} AS a, {b} AS b FROM {table} "
                     f"WHERE {maybe} AND {t} ~ {_NUMERIC}")
    rows = cur.execute(
        f"""SELECT f, count(*) FILTER (WHERE a > 12), count(*) FILTER (WHERE b > 12),
                   count(*) FILTER (WHERE a <= 12 AND b <= 12 AND a <> b),
                   any_value(t) FILTER (WHERE a <= 12 AND b <= 12 AND a <> b)
            FROM ({" UNION ALL ".join(parts)}) GROUP BY f ORDER BY f"""
    ).fetchall()
    day_total = sum(r[1] for r in rows)
    month_total = sum(r[2] for r in rows)
    in_file = None if not (day_total or month_total) else "day-first" if day_total >= month_total else "month-first"
    out = dict.fromkeys(columns, in_file or "day-first")
    undecided = {}   # field -> a value it could read both ways, where nothing in the file decides
    for fld, day, month, ambiguous, example in rows:
        if day or month:
            out[fld] = "day-first" if day >= month else "month-first"
        elif ambiguous and in_file is None:
            undecided[fld] = example
    if undecided:
        # Every such column named at once: the answer reads them all (a question naming one of them left the
        # user to find the others on the next try).
        names = list(undecided)
        raise FormatUndecided(
            f"the dates of {listed(names)}, such as {undecided[names[0]]!r}, can be day first or month first, and no "
            f"date in the file decides it: choose the order of day and month", "date_format")
    return out
