"""A CSV export read as its author wrote it: encoding, delimiter, header, and records with their lines.

DuckDB's CSV reader does the reading (no Python object per row). What it cannot tell us, this module
works out from the bytes with NumPy: the physical line (as an editor numbers it) where each record
starts, after blank lines and quoted cells that span lines, and which records have more or fewer
fields than the header. Such a record is refused alone; the rest of the file imports.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np

from analytics import db
from analytics.formats import PLAIN_TIME


class CsvError(ValueError):
    """The file cannot be read at all: one message, naming the file."""


SNIFF_BYTES = 1 << 20
_CHUNK = 1 << 23
_RAW_TEXT_LIMIT = 1000          # characters of a refused record's text kept with its reason
_HUGE_LINE = 1 << 28            # a record (one cell may be millions of characters) read when asked


@dataclass
class CsvFile:
    """One file, ready for DuckDB: `path` is what DuckDB reads (a UTF-8 copy of a UTF-16 file)."""
    source: Path
    path: Path
    encoding: str                  # DuckDB's name: 'utf-8' or 'latin-1'
    delimiter: str
    headers: list[str]             # as written, trimmed
    columns: list[str]             # the names the rows are read under: unique, ignoring case
    notices: list[str] = field(default_factory=list)
    temporary: bool = False

    def close(self) -> None:
        if self.temporary:
            self.path.unlink(missing_ok=True)


@dataclass
class BadRecord:
    line: int
    fields: int
    text: str


@dataclass
class Loaded:
    """The file as a table of text columns; `line_sql` gives a row's physical line (alias `r`).

    `times`: the columns the reader read as timestamps (`load`'s `times`, where every cell fitted);
    every other column is text."""
    rows: int
    line_sql: str
    bad_records: list[BadRecord]
    expected_fields: int
    times: frozenset[str] = frozenset()


def readable(path: str | os.PathLike, shown: str | None = None) -> bytes:
    """The file's first bytes; CsvError, naming the file as `shown` and why, when it cannot be read."""
    p = Path(path)
    shown = shown or p.name
    if p.is_dir():
        raise CsvError(f"{shown} is a folder, not a file: give the export's CSV file (or Olist's files) by name")
    if not p.exists():
        raise CsvError(f"{shown}: no such file")
    try:
        with p.open("rb") as fh:
            return fh.read(SNIFF_BYTES)
    except OSError as e:
        raise CsvError(f"{shown} cannot be read: {(e.strerror or str(e)).lower()}") from None


def open_csv(path: str | os.PathLike, shown: str | None = None) -> CsvFile:
    p = Path(path)
    shown = shown or p.name
    head = readable(p, shown)
    temporary = False
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode text": read once as UTF-16 and written as UTF-8, in blocks.
        p, head, temporary = _utf16_to_utf8(p), None, True
        with p.open("rb") as fh:
            head = fh.read(SNIFF_BYTES)
        encoding = "utf-8"
    else:
        encoding = _encoding(head, shown)
    text = head.decode(encoding, errors="ignore").lstrip("\ufeff")
    if not text.strip(" \t\r\n"):
        raise CsvError(f"{shown}: the file is empty")
    delimiter = _delimiter(text)
    headers = _header_row(text, delimiter)
    if not any(headers):
        raise CsvError(f"{shown}: no header row")
    columns, notices = _unique_columns(headers)
    return CsvFile(Path(path), p, encoding, delimiter, headers, columns, notices, temporary)


# A spreadsheet's workbook by its first bytes: .xlsx and .ods are ZIP archives, .xls an OLE2 file.
WORKBOOK_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")


def _encoding(head: bytes, shown: str) -> str:
    if head.startswith(WORKBOOK_MAGIC):
        raise CsvError(f"{shown} is a spreadsheet workbook (Excel or OpenDocument), not a CSV file: save it as "
                       "CSV (in Excel: File, Save As, CSV UTF-8) and import that")
    if b"\x00" in head:
        raise CsvError(f"{shown}: this is not a text (CSV) file")
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as e:
        # A multi-byte character may be cut at the end of the head: that one does not count.
        if len(head) == SNIFF_BYTES and e.start >= len(head) - 4:
            return "utf-8"
        return "latin-1"


def _utf16_to_utf8(path: Path) -> Path:
    fd, out = tempfile.mkstemp(suffix=".csv", prefix="utf16_")
    decoder = codecs.getincrementaldecoder("utf-16")()
    with path.open("rb") as src, os.fdopen(fd, "wb") as dst:
        while block := src.read(_CHUNK):
            dst.write(decoder.decode(block).encode("utf-8"))
        dst.write(decoder.decode(b"", final=True).encode("utf-8"))
    return Path(out)


def _delimiter(text: str) -> str:
    first = text.splitlines()[0] if text else ""
    counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


def _header_row(text: str, delimiter: str) -> list[str]:
    # The header is one record; the csv module reads it (quotes, a header cell spanning lines).
    row = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
    return [h.strip().lstrip("\ufeff") for h in row]


def header_key(header: str) -> str:
    """A header compared for matching: lower case, non-alphanumerics as one underscore."""
    return re.sub(r"[^0-9a-z]+", "_", header.strip().lower()).strip("_")


def _unique_columns(headers: list[str]) -> tuple[list[str], list[str]]:
    """Names DuckDB can hold (it ignores case), and a notice for headers that differ only in case or spaces."""
    seen: dict[str, int] = {}
    first_by_key: dict[str, str] = {}
    names, notices = [], []
    for i, h in enumerate(headers):
        name = h or f"column_{i + 1}"
        if h:
            key = re.sub(r"\s+", " ", h).casefold()
            if key in first_by_key and first_by_key[key] != h:
                notices.append(f"columns {first_by_key[key]!r} and {h!r} differ only in case or spaces: "
                               f"{first_by_key[key]!r} is used")
            first_by_key.setdefault(key, h)
        folded = name.casefold()
        if folded in seen:
            seen[folded] += 1
            name = f"{name}_{seen[folded]}"
            while name.casefold() in seen:
                name += "_"
        seen[name.casefold()] = seen.get(name.casefold(), 1)
        names.append(name)
    return names, notices


def read_sql(f: CsvFile, huge_lines: bool = False, options: str = "", times=()) -> tuple[str, list]:
    """A read_csv call that keeps every cell as text, so parsing (and refusing) happens in our SQL.

    The columns named in `times` are read as timestamps written `formats.PLAIN_TIME`, the reading our
    SQL gives such a cell; a cell written otherwise is rejected by the reader (`load` then reads again)."""
    size = f", max_line_size = {_HUGE_LINE}, buffer_size = {2 * _HUGE_LINE}" if huge_lines else ""
    typed = f", timestampformat = '{PLAIN_TIME}'" if times else ""
    return (
        "read_csv(?, header = true, delim = ?, quote = '\"', escape = '\"', "
        f"encoding = ?, auto_detect = false, strict_mode = true, null_padding = false, columns = ?{size}{typed}{options})"
    ), [str(f.path), f.delimiter, f.encoding, {c: "TIMESTAMP" if c in times else "VARCHAR" for c in f.columns}]


@dataclass
class Preview:
    """The first rows as text, and the records among them that the import refuses for their width."""
    rows: list[tuple]
    left_out: list[BadRecord]      # the first PREVIEW_LEFT_OUT of them, in file order
    left_out_count: int            # all of them


PREVIEW_LEFT_OUT = 5
_PREVIEW_BUFFER = 1 << 22       # bytes the reader reads at a time for the preview (its longest record is 2 MB)
_PREVIEW_BLOCK = 1 << 18        # the preview's records are found in the file's head, read in small blocks


def width_problem(fields: int, width: int) -> str:
    """Why the import refuses a record of the wrong width: 'row: 7 fields where the header has 6'."""
    return f"row: {fields} fields where the header has {width}"


def preview(f: CsvFile, rows: int) -> Preview:
    """The first rows as text, for the Data page's preview, without the records the import refuses for their
    width (`Preview.left_out` names them): shown, a record of one field more would read shifted.

    Read first as any file is, strictly; if that stops at a record (too long, or of the wrong width),
    read again with room for a cell of millions of characters, skipping records of the wrong width.
    The room costs a tenth of a second on a file of a million orders, so only such a file pays it."""
    con = duckdb.connect()
    try:
        try:
            # A small buffer: the reader would otherwise parse its default 32 MB to give a few rows.
            sql, params = read_sql(f, options=f", buffer_size = {_PREVIEW_BUFFER}")
            found = con.execute(f"SELECT * FROM {sql} LIMIT {rows}", params).fetchall()
        except duckdb.Error:
            sql, params = read_sql(f, huge_lines=True,
                                   options=", store_rejects = true, rejects_table = 'rj', rejects_scan = 'rs'")
            found = con.execute(f"SELECT * FROM {sql} LIMIT {rows}", params).fetchall()
            # A record of the wrong width is refused alone by the import; a quote that does not close
            # stops it: said now, at its line, rather than a preview that silently leaves rows out.
            unreadable(con, "rj", f, f.source.name)
    except duckdb.Error as e:
        raise CsvError(f"{f.source.name}: cannot be read as CSV ({short(e)})") from None
    finally:
        con.close()
    return _without_refused(f, found, whole=len(found) < rows)


def _without_refused(f: CsvFile, found: list[tuple], whole: bool) -> Preview:
    """`found`, the reader's first rows, without the records the import refuses for their width, and those
    records among them (`whole`: the reader read the whole file, so every such record of the file).

    The reader takes a record of one field more whose last field is empty as a row of the header's width
    (its values shifted), and skips a record of another width: the file's records, found in its head as
    `load` finds them, say which rows are which (load's slow path pairs rows and records the same way)."""
    width = len(f.columns)
    enough = None if whole else len(found) + 1      # records, the header's among them
    while True:
        lines, fields, starts, ends = (a[1:] for a in scan_records(f.path, f.delimiter, enough=enough,
                                                                   block_size=_PREVIEW_BLOCK))
        good = fields == width
        taken = good | ((fields == width + 1) & _ends_with(f.path, ends, f.delimiter))
        if enough is None or int(taken.sum()) >= len(found) or len(lines) + 1 < enough:
            break
        enough *= 2     # records of the wrong width among the first: read further
    rows_at = np.flatnonzero(taken)[: len(found)]
    if len(rows_at) < len(found):
        return Preview(found, [], 0)    # quotes that do not pair up: the import says so
    span = len(lines) if whole else (int(rows_at[-1]) + 1 if len(rows_at) else 0)
    refused = np.flatnonzero(~good[:span])
    kept = good[rows_at]
    return Preview(
        [row for row, keep in zip(found, kept, strict=True) if keep],
        [BadRecord(int(lines[i]), int(fields[i]), _text(f, int(starts[i]), int(ends[i])))
         for i in refused[:PREVIEW_LEFT_OUT]],
        len(refused),
    )


WIDTH_PROBLEMS = ("TOO MANY COLUMNS", "MISSING COLUMNS")


def unreadable(cur, rejects: str, f: CsvFile, shown: str) -> None:
    """CsvError naming the line of the first record in DuckDB's `rejects` table that is not merely of the
    wrong width (an unterminated quote, a broken encoding): such a file cannot be imported at all."""
    kinds = ", ".join(f"'{k}'" for k in WIDTH_PROBLEMS)
    found = cur.execute(
        f"SELECT min(line_byte_position), arg_min(error_message, line_byte_position), "
        f"count(DISTINCT line_byte_position) FROM {rejects} WHERE error_type NOT IN ({kinds})").fetchall()[0]
    if not found[2]:
        return
    position, message, records = found
    what = (message or "unreadable record").strip().splitlines()[0].rstrip(".")
    what = what[:1].lower() + what[1:]
    more = f" ({records:,} such records)" if records > 1 else ""
    raise CsvError(f"{shown}: cannot be read as CSV: line {line_at(f.path, int(position))}: {what}{more}; "
                   "check its quotes and its encoding")


def line_at(path: Path, position: int) -> int:
    """The physical line (as an editor numbers it) of the byte at `position`."""
    lf, cr, crlf, _ = _line_breaks(path, position)
    return lf + (cr - crlf) + 1


def short(e: Exception) -> str:
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return text[:300]


def load(cur: duckdb.DuckDBPyConnection, table: str, f: CsvFile, shown: str, times=()) -> Loaded:
    """The whole file into `table` (text columns named by `f.columns`), records of the wrong width left out.

    Rows keep the file's order. Where every line of the file is one record, a row's line is its rowid
    + 2 (the header is line 1); otherwise the records are found in the bytes and each row gets its line.

    The columns in `times` are read as timestamps while the file is read (parsing them from text later
    costs a third of an import), if every cell of theirs is written `PLAIN_TIME` or empty; if one is
    not, the file is read again as text, and the caller's SQL reads each cell by what it looks like.
    """
    width = len(f.columns)
    # The line breaks and delimiters are counted while DuckDB reads (it lets go of the interpreter as it
    # works). Where a quote may hide a delimiter (the head of the file holds one), the lines with one field
    # too many are looked for meanwhile too; elsewhere the count of delimiters says whether there is any.
    with ThreadPoolExecutor(max_workers=2) as pool:
        counted = pool.submit(_tally, f.path, f.delimiter)
        extra_lines = pool.submit(one_field_more, f.path, f.delimiter, width) if _quoted_head(f.path) else None
        times = frozenset(times)
        rows, kinds, rejected = _read(cur, table, f, shown, times)
        if times and ("CAST" in kinds or _short_years(cur, table, times)):
            times = frozenset()
            rows, kinds, rejected = _read(cur, table, f, shown, times)
        tally = counted.result()
        per_line = not rejected and _one_record_per_line(tally.breaks, rows)
        extra = None
        if per_line:
            if extra_lines is not None:
                extra = extra_lines.result()
            elif not tally.quotes and tally.delimiters == (rows + 1) * (width - 1):
                extra = _NONE_FOUND
            else:
                extra = one_field_more(f.path, f.delimiter, width)
    try:
        if any(k not in WIDTH_PROBLEMS for k in kinds):
            unreadable(cur, f"{table}_rejects", f, shown)
    finally:
        cur.execute(f"DROP TABLE IF EXISTS {table}_rejects")
    if per_line and not len(extra[0]):
        return Loaded(rows, "r.rowid + 2", [], width, times)
    if per_line:   # every line a record: a row's line is its rowid + 2, and the rows of `extra` are refused
        lines, starts, ends = extra
        bad = [BadRecord(int(ln), width + 1, _text(f, int(s), int(e)))
               for ln, s, e in zip(lines, starts, ends, strict=True)]
        _number(cur, table, f"SELECT t.*, t.rowid + 2 AS _line FROM {table} t "
                            f"WHERE t.rowid + 2 NOT IN (SELECT unnest(?::BIGINT[]))", [lines.tolist()])
        return Loaded(rows - len(bad), "r._line", bad, width, times)
    lines, fields, starts, ends = scan_records(f.path, f.delimiter)
    lines, fields, starts, ends = lines[1:], fields[1:], starts[1:], ends[1:]   # the header
    good = fields == width
    # DuckDB's reader takes a record with one field more, that field empty (its last byte the delimiter),
    # as a row of the header's width: such a row is numbered with the others, then refused.
    taken = good | ((fields == width + 1) & _ends_with(f.path, ends, f.delimiter))
    if int(taken.sum()) != rows or int((~taken).sum()) != rejected:
        raise CsvError(f"{shown}: cannot be read as CSV (its quotes do not pair up: "
                       f"{rows:,} records read, {int(good.sum()):,} found)")
    bad = [BadRecord(int(ln), int(n), _text(f, int(s), int(e)))
           for ln, n, s, e in zip(lines[~good], fields[~good], starts[~good], ends[~good], strict=True)]
    numbered = f"{table}_lines"
    cur.register(f"{numbered}_arrow", _arrow_lines(lines[taken], good[taken]))
    _number(cur, table, f"SELECT t.*, l._line FROM {table} t POSITIONAL JOIN {numbered}_arrow l WHERE l._good")
    cur.unregister(f"{numbered}_arrow")
    return Loaded(int(good.sum()), "r._line", bad, width, times)


def _number(cur, table: str, select: str, params=None) -> None:
    """`table` replaced by `select` over it (its rows with their line in `_line`)."""
    numbered = f"{table}_lines"
    cur.execute(f"CREATE TEMP TABLE {numbered} AS {select}", params)
    cur.execute(f"DROP TABLE {table}")
    cur.execute(f"ALTER TABLE {numbered} RENAME TO {table}")


def _read(cur, table: str, f: CsvFile, shown: str, times=frozenset()) -> tuple[int, dict[str, int], int]:
    """DuckDB's strict read into `table`: (rows read, rejected records by kind, rejected records)."""
    rejects, scans = f"{table}_rejects", f"{table}_scans"
    huge = False
    for attempt in (0, 1):
        sql, params = read_sql(f, huge_lines=huge, times=times)
        try:
            for t in (table, rejects, scans):
                cur.execute(f"DROP TABLE IF EXISTS {t}")
            cur.execute(
                f"CREATE TEMP TABLE {table} AS SELECT * FROM "
                f"{sql[:-1]}, store_rejects = true, rejects_table = '{rejects}', rejects_scan = '{scans}')",
                params,
            )
        except duckdb.Error as e:
            raise CsvError(f"{shown}: cannot be read as CSV ({short(e)})") from None
        # One record may be logged once per error: count records by where they start.
        kinds = dict(cur.execute(
            f"SELECT error_type, count(DISTINCT line_byte_position) FROM {rejects} GROUP BY 1").fetchall())
        rejected = cur.execute(f"SELECT count(DISTINCT line_byte_position) FROM {rejects}").fetchall()[0][0]
        cur.execute(f"DROP TABLE IF EXISTS {scans}")   # the rejects stay for `load` to name a line
        if "LINE SIZE OVER MAXIMUM" in kinds and attempt == 0:
            huge = True   # a cell of millions of characters: read again with room for it
            continue
        break
    return cur.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0], kinds, rejected


def _short_years(cur, table: str, times) -> bool:
    """Whether a time read by the reader has a year before 1000: the reader takes '26-01-05 10:00:00' as the
    year 26, where our reading of the text takes it as a numeric date (day first: 26 January 2005)."""
    earliest = ", ".join(f"min({db.sql_name(c)})" for c in sorted(times))
    found = cur.execute(f"SELECT least({earliest}) < TIMESTAMP '1000-01-01' FROM {table}").fetchall()[0][0]
    return bool(found)


def _arrow_lines(lines: np.ndarray, good: np.ndarray):
    import pyarrow as pa
    return pa.table({"_line": pa.array(lines.astype(np.int64)), "_good": pa.array(good)})


def _ends_with(path: Path, ends: np.ndarray, delimiter: str) -> np.ndarray:
    """Per record (scan_records' `ends`): whether its last byte before its line break is the delimiter,
    i.e. its last field is empty and unquoted."""
    if not len(ends):
        return np.zeros(0, dtype=bool)
    data = np.memmap(path, dtype=np.uint8, mode="r")
    last = ends - 1
    crlf = (last >= 0) & (data[np.clip(last, 0, None)] == 13) & (ends < len(data))
    last = np.where(crlf, last - 1, last)
    return (last >= 0) & (data[np.clip(last, 0, None)] == ord(delimiter))


def _per_line(b: np.ndarray, byte: int, ends: np.ndarray) -> np.ndarray:
    """How many times `byte` occurs on each line of the block (its lines end at `ends`)."""
    upto = np.searchsorted(np.flatnonzero(b == byte), ends)
    return np.diff(upto, prepend=0)


def one_field_more(path: Path, delimiter: str, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(physical line, start byte, end byte) of each line after the header with `width` + 1 fields, the
    last one empty: in a file whose every line is one record (load's fast path), the lines DuckDB's
    reader takes as rows of the header's width, dropping the empty field, so every value after a stray
    delimiter (an unquoted comma in a product's name) would be stored in the next column.

    Read in blocks that end at a line break. Only a line ending with the delimiter can be one; its
    fields are its delimiters counted (NumPy), and where it holds a quote, read by the csv module."""
    delim = ord(delimiter)
    found: tuple[list, list, list] = ([], [], [])
    line = 1        # the physical line of the block's first line
    base = 0
    carry = b""
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(_CHUNK)
            block = carry + chunk
            cut = block.rfind(b"\n") + 1 if chunk else len(block)
            block, carry = block[:cut], block[cut:]
            if not block:
                if not chunk:
                    break
                continue
            b = np.frombuffer(block, dtype=np.uint8)
            ends = np.flatnonzero(b == 10)
            if not chunk and (not len(ends) or ends[-1] != len(b) - 1):
                ends = np.append(ends, len(b))            # the last line, with no line break after it
            starts = np.concatenate(([0], ends[:-1] + 1))
            last = ends - 1
            last = np.where((last >= starts) & (b[np.clip(last, 0, None)] == 13), last - 1, last)
            candidate = (last >= starts) & (b[np.clip(last, 0, None)] == delim)
            if line == 1:
                candidate[0] = False                       # the header
            if candidate.any():
                counted = _per_line(b, delim, ends) + 1
                quoted = _per_line(b, 34, ends) > 0
                for i in np.flatnonzero(candidate & ((counted == width + 1) | quoted)):
                    fields = int(counted[i]) if not quoted[i] else len(next(csv.reader(
                        [block[starts[i]:last[i] + 1].decode("latin-1")], delimiter=delimiter), []))
                    if fields == width + 1:
                        found[0].append(line + int(i))
                        found[1].append(base + int(starts[i]))
                        found[2].append(base + int(ends[i]))
            line += len(ends)
            base += len(block)
            if not chunk:
                break
    return tuple(np.array(x, dtype=np.int64) for x in found)


def _text(f: CsvFile, start: int, end: int) -> str:
    with f.path.open("rb") as fh:
        fh.seek(start)
        raw = fh.read(min(end - start, _RAW_TEXT_LIMIT * 4))
    return raw.decode(f.encoding, errors="replace").rstrip("\r")[:_RAW_TEXT_LIMIT]


def _line_breaks(path: Path, end: int | None = None) -> tuple[int, int, int, bytes]:
    """(LF, CR, CRLF, the last byte) counted in the file's bytes (those before `end`, when given): a count,
    not a parse."""
    lf = cr = crlf = 0
    last = b""
    left = end
    with path.open("rb") as fh:
        while (left is None or left > 0) and (block := fh.read(_CHUNK if left is None else min(_CHUNK, left))):
            if left is not None:
                left -= len(block)
            lf += block.count(b"\n")
            if b"\r" in block:     # most exports end lines with LF alone: no second pass for them
                cr += block.count(b"\r")
                crlf += block.count(b"\r\n")
            crlf += last == b"\r" and block[:1] == b"\n"
            last = block[-1:]
    return lf, cr, crlf, last


@dataclass(frozen=True)
class _Tally:
    """A file's bytes counted: (LF, CR, CRLF, the last byte) as `_line_breaks` gives them, its delimiters,
    and whether it holds a quote."""
    breaks: tuple[int, int, int, bytes]
    delimiters: int
    quotes: bool


# No line found: (physical line, start byte, end byte), as `one_field_more` gives them.
_NONE_FOUND = tuple(np.zeros(0, dtype=np.int64) for _ in range(3))


def _tally(path: Path, delimiter: str) -> _Tally:
    """The line breaks and delimiters of the file, in one pass (NumPy counts a byte in a block faster than
    `bytes.count`).

    In a file with no quote, whose every line is a record of the header's width or of one field more (the
    reader refuses any other), the delimiters number (records + 1) x (width - 1) exactly when no line has
    one field more: so `load` need not look for such lines line by line (`one_field_more`), the dearest
    part of reading a file."""
    lf = cr = crlf = delimiters = 0
    quotes = False
    last = b""
    delim = ord(delimiter)
    with path.open("rb") as fh:
        while block := fh.read(_CHUNK):
            b = np.frombuffer(block, dtype=np.uint8)
            lf += int(np.count_nonzero(b == 10))
            delimiters += int(np.count_nonzero(b == delim))
            quotes = quotes or b'"' in block
            if b"\r" in block:     # most exports end lines with LF alone: no second pass for them
                cr += block.count(b"\r")
                crlf += block.count(b"\r\n")
            crlf += last == b"\r" and block[:1] == b"\n"
            last = block[-1:]
    return _Tally((lf, cr, crlf, last), delimiters, quotes)


def _quoted_head(path: Path) -> bool:
    """Whether the file's head (what was sniffed) holds a quote."""
    with path.open("rb") as fh:
        return b'"' in fh.read(SNIFF_BYTES)


def _one_record_per_line(breaks: tuple[int, int, int, bytes], rows: int) -> bool:
    """True when the file's line breaks are exactly the header's and the rows' (no blank line, no cell
    spanning lines): then a row's line follows from its position."""
    lf, cr, crlf, last = breaks
    if cr != crlf:
        return False
    return lf == (rows + 1 if last == b"\n" else rows)


def scan_records(path: Path, delimiter: str, enough: int | None = None,
                 block_size: int = _CHUNK) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every non-blank record of a CSV file: (first physical line, number of fields, start byte, end byte).

    A line break (LF, CRLF or a lone CR) ends a record unless it lies inside quotes; quotes are paired
    as RFC 4180 writes them ('""' inside a quoted cell leaves the count even). Vectorised per block
    (of `block_size` bytes). With `enough`, reading stops at the end of the block where that many records
    are found: the first records of the file, at least `enough` of them where it has that many.
    """
    delim = ord(delimiter)
    out_lines, out_fields, out_starts, out_ends = [], [], [], []
    quotes = 0            # quotes seen before the block
    breaks = 0            # physical line breaks before the block
    rec_start, rec_start_line, rec_delims = 0, 1, 0
    base = 0
    found = 0
    with path.open("rb") as fh:
        block = fh.read(block_size)
        while block:
            following = fh.read(block_size)
            b = np.frombuffer(block, dtype=np.uint8)
            nxt = following[:1]
            qpos = np.flatnonzero(b == 34)
            lf = np.flatnonzero(b == 10)
            cr = np.flatnonzero(b == 13)
            if len(cr):
                after = np.empty(len(cr), dtype=np.uint8)
                inside = cr + 1 < len(b)
                after[inside] = b[cr[inside] + 1]
                after[~inside] = nxt[0] if nxt else 0
                cr = cr[after != 10]
            line_breaks = np.union1d(lf, cr)
            even = ((quotes + np.searchsorted(qpos, line_breaks)) % 2) == 0
            terms = line_breaks[even]
            dpos = np.flatnonzero(b == delim)
            dpos = dpos[((quotes + np.searchsorted(qpos, dpos)) % 2) == 0]
            per_record = np.bincount(np.searchsorted(terms, dpos), minlength=len(terms) + 1)
            per_record[0] += rec_delims
            starts = np.concatenate(([rec_start], terms[:-1] + 1 + base)) if len(terms) else np.array([rec_start])
            starts = starts[: len(terms)]
            start_lines = np.empty(len(terms), dtype=np.int64)
            if len(terms):
                start_lines[0] = rec_start_line
                start_lines[1:] = breaks + np.searchsorted(line_breaks, terms[:-1] + 1) + 1
            ends = terms + base
            length = ends - starts
            # A blank line: nothing before its break but, for CRLF, the CR.
            first_byte = np.where(starts - base >= 0, b[np.clip(starts - base, 0, len(b) - 1)], 0)
            blank = (length == 0) | ((length == 1) & (first_byte == 13))
            keep = ~blank
            out_lines.append(start_lines[keep])
            out_fields.append(per_record[: len(terms)][keep] + 1)
            out_starts.append(starts[keep])
            out_ends.append(ends[keep])
            if len(terms):
                rec_start = int(terms[-1]) + 1 + base
                rec_start_line = breaks + len(line_breaks) + 1 - int(np.sum(line_breaks > terms[-1]))
                rec_delims = int(per_record[len(terms)])
            else:
                rec_delims = int(per_record[0])
            quotes += len(qpos)
            breaks += len(line_breaks)
            base += len(block)
            block = following
            found += int(keep.sum())
            if enough is not None and found >= enough:
                break
    if rec_start < base and not block:      # the last record, with no line break after it
        with path.open("rb") as fh:
            fh.seek(rec_start)
            tail = fh.read(2)
        if tail not in (b"", b"\r"):
            out_lines.append(np.array([rec_start_line]))
            out_fields.append(np.array([rec_delims + 1]))
            out_starts.append(np.array([rec_start]))
            out_ends.append(np.array([base]))
    return tuple(np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)
                 for parts in (out_lines, out_fields, out_starts, out_ends))
