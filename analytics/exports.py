"""Downloads: tables as CSV (safe to open in a spreadsheet) or Parquet, charts as PNG or SVG.

All functions are pure: a frame or chart in, bytes out.
"""

from __future__ import annotations

import io
import re

import altair as alt
import polars as pl
import vl_convert as vlc

# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection");
# tab and carriage return are on OWASP's list too because some spreadsheets strip them first. Some
# spreadsheets also read the full-width forms (as typed with an East Asian keyboard) as the ASCII ones.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# Blanks a spreadsheet skips before reading the first character: spaces, non-breaking and other
# fixed-width spaces, zero-width space and the byte-order mark. (Tab and CR start a formula themselves.)
LEADING_BLANKS = " \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u200b\u202f\u205f\u3000\ufeff"


# One pattern for both: Python's re and Polars (Rust's regex) read it alike. '-' last in its class is itself.
FORMULA_START = re.compile("^[" + LEADING_BLANKS + "]*[" + "".join(c for c in FORMULA_STARTS if c != "-") + "-]")


def neutralise_cell(value: str | None) -> str | None:
    """The cell's text with a leading apostrophe when its first character after leading blanks would
    start a formula; None stays None."""
    if value is not None and FORMULA_START.match(value):
        return "'" + value
    return value


def neutralise_expr(column: str) -> pl.Expr:
    """`column` (text) with formula-starting cells (after leading blanks) prefixed by an apostrophe."""
    col = pl.col(column)
    return pl.when(col.str.contains(FORMULA_START.pattern)).then(pl.lit("'") + col).otherwise(col).alias(column)


def neutralised(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with every text cell neutralised. Numbers stay numbers (a negative number is not a
    formula); lists, structs and other nested values are written as text first, then neutralised."""
    exprs = []
    for name, dtype in frame.schema.items():
        if dtype in (pl.Utf8, pl.Categorical, pl.Enum) or isinstance(dtype, pl.Enum | pl.Categorical):
            exprs.append(pl.col(name).cast(pl.Utf8))
        elif isinstance(dtype, pl.List | pl.Array | pl.Struct | pl.Object) or dtype == pl.Binary:
            exprs.append(pl.col(name).map_elements(_as_text, return_dtype=pl.Utf8))
    if not exprs:
        return frame
    texts = [e.meta.output_name() for e in exprs]
    return frame.with_columns(exprs).with_columns(neutralise_expr(n) for n in texts)


def _as_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, pl.Series):
        value = value.to_list()
    return str(value)


# Times as the pages and the command line's JSON write them (a spreadsheet reads this as a date and time; with
# a 'T' and six zeros after the seconds, as Polars writes by default, many keep it as text); a fraction of a
# second only where the time has one.
CSV_TIME = "%Y-%m-%d %H:%M:%S%.f"


def to_csv_bytes(frame: pl.DataFrame) -> bytes:
    """UTF-8 CSV with a header, text cells neutralised, times written CSV_TIME."""
    return neutralised(frame).write_csv(datetime_format=CSV_TIME).encode("utf-8")


def to_parquet_bytes(frame: pl.DataFrame) -> bytes:
    """The frame as Parquet, typed as it is (no neutralising: Parquet is not opened as a formula sheet).
    Nested object columns that Parquet cannot hold are written as text."""
    objects = [n for n, t in frame.schema.items() if isinstance(t, pl.Object)]
    if objects:
        frame = frame.with_columns(pl.col(n).map_elements(_as_text, return_dtype=pl.Utf8) for n in objects)
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


def _vl_version() -> str:
    # vl-convert names versions "5_20"; Altair says "v6.4.1".
    major, minor = alt.SCHEMA_VERSION.lstrip("v").split(".")[:2]
    wanted = f"{major}_{minor}"
    return wanted if wanted in vlc.get_vegalite_versions() else vlc.get_vegalite_versions()[-1]


def chart_to_svg(chart) -> bytes:
    """The chart (Altair's, or a charts.Spec) drawn as SVG (UTF-8 bytes)."""
    return vlc.vegalite_to_svg(chart.to_json(), vl_version=_vl_version()).encode("utf-8")


def chart_to_png(chart, scale: float = 2.0) -> bytes:
    """The chart drawn as PNG, at `scale` times its CSS pixel size (2 = sharp on high-density screens)."""
    return vlc.vegalite_to_png(chart.to_json(), vl_version=_vl_version(), scale=scale)
