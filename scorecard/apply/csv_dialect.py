"""The one CSV dialect the batch engines read, and the one reader that reads it.

Both engines of :mod:`scorecard.apply.batch` (DuckDB and Python) take a CSV's rows from
:func:`read_batches`, so that no quirk of a file can be read two ways: the engines may differ
in how they score, never in what they read. This module owns the dialect and its messages; it
imports only the standard library, numpy, pyarrow and :mod:`scorecard.errors`.

The dialect (RFC 4180, stated exactly)
--------------------------------------
* **Text**: UTF-8; a byte-order mark at the very start is allowed. A NUL character is refused
  (a file holding one is binary or UTF-16, not UTF-8 text).
* **Lines** end in LF or CRLF, mixed freely; a carriage return (CR) alone is a line end only
  inside a quoted value, where it is kept; elsewhere it is refused. A blank line is skipped.
* **Fields** are separated by commas. A field that begins with ``"`` is quoted: it ends at the
  next ``"`` that is not doubled (``""`` stands for one ``"``), may hold commas and line breaks,
  and must be followed by a comma or the end of the line. A ``"`` anywhere else (for example
  after a space, ``1,  "car"``) is refused: the value cannot be read one way for sure.
  Spaces are part of a value (a number may have spaces around it; see :mod:`scorecard.apply.batch`).
* **Header**: the first line holds the column names. Every row has exactly as many fields as
  the header; a row with more or fewer (a stray comma, a lost quote) is refused.
* **Empty** means missing: an empty field, quoted (``""``) or not.
* **Size**: one value holds at most :data:`MAX_FIELD_CHARS` characters.
* **Compressed** (``.csv.gz``): the gzip data are checked (CRC and length) as they are read;
  damaged data stop the run.

Anything the dialect refuses stops the run with :class:`~scorecard.errors.DataValidationError`
naming the file, the line (the header is line 1; a line is what ends in LF), the column when
known, the rule and the value, before any output is published. Line numbers are physical
lines: a row that holds a line break inside quotes is numbered by its first line.
"""

from __future__ import annotations

import csv
import gzip
import operator
import unicodedata
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from scorecard.errors import DataValidationError

#: The most characters one value may hold (1 MiB); a longer one stops the run.
MAX_FIELD_CHARS = 1 << 20
#: Rows handed to an engine at a time.
BATCH_ROWS = 65_536
#: Characters of a value quoted in a message before "...".
SHOWN_CHARS = 40

_NAMES = {"\t": "TAB", "\n": "LF", "\r": "CR", "\x00": "NUL", "\ufeff": "BYTE ORDER MARK"}


def visible(text: str) -> str:
    """``text`` with every invisible or non-printing character written as ``<U+00A0 NO-BREAK
    SPACE>``: a message shows what a cell holds, not what it looks like (the ordinary space stays)."""
    out = []
    for ch in text:
        if ch == " " or (ch.isprintable() and unicodedata.category(ch) not in ("Cf", "Zs", "Zl", "Zp")):
            out.append(ch)
        else:
            name = _NAMES.get(ch) or unicodedata.name(ch, "")
            out.append(f"<U+{ord(ch):04X}{' ' + name if name else ''}>")
    return "".join(out)


def shown(text: str) -> str:
    """A value as a message quotes it: at most :data:`SHOWN_CHARS` characters (then ``...``),
    in single quotes, invisible characters made visible (:func:`visible`)."""
    cut = text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS]
    return "'" + visible(cut) + ("..." if len(text) > SHOWN_CHARS else "") + "'"


def _open_binary(path: Path, compression: str | None):
    return gzip.open(path, "rb") if compression == "gzip" else open(path, "rb")


class _Lines:
    """The file's physical lines as text, one by one, for :mod:`csv`; keeps the lines of the
    record being read (for the quote rule) and turns byte-level problems into messages."""

    def __init__(self, path: Path, handle):
        self.path, self.handle = path, handle
        self.number = 0          # physical lines read so far
        self.record: list[str] = []
        self.quote = False       # whether the record being read holds a double quote

    def __iter__(self):
        return self

    def __next__(self) -> str:
        try:
            raw = self.handle.readline()
        except (OSError, EOFError, zlib.error) as error:  # gzip.BadGzipFile is an OSError
            raise DataValidationError(
                f"{self.path}: the compressed data are damaged after line {self.number:,} ({_one_line(error)}); "
                "nothing was scored: compress the file again from its original") from None
        if not raw:
            raise StopIteration
        self.number += 1
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise DataValidationError(
                f"{self.path}: line {self.number:,}: not UTF-8 text at byte {error.start + 1} of the line "
                f"({raw[error.start:error.start + 1]!r} in {raw[max(error.start - 20, 0):error.start + 20]!r}); "
                "save the file as UTF-8") from None
        if self.number == 1 and text.startswith("\ufeff"):
            text = text[1:]
        if "\x00" in text:
            raise DataValidationError(
                f"{self.path}: line {self.number:,}: holds a NUL character (byte 0), which UTF-8 text does not "
                "hold; the file may be UTF-16 or binary: save it as UTF-8 CSV")
        self.record.append(text)
        if '"' in text:
            self.quote = True
        return text


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def _quoted_fields(record: str) -> list[bool]:
    """Per field of one record's raw text, whether it is quoted (begins with ``"``)."""
    flags: list[bool] = []
    i, n = 0, len(record)
    while True:
        if i < n and record[i] == '"':
            flags.append(True)
            i += 1
            while True:
                j = record.find('"', i)
                if j < 0:
                    return flags
                if j + 1 < n and record[j + 1] == '"':
                    i = j + 2
                    continue
                i = j + 1
                break
        else:
            flags.append(False)
            j = record.find(",", i)
            if j < 0:
                return flags
            i = j
        if i < n and record[i] == ",":
            i += 1
            continue
        return flags


class CsvReader:
    """Read a CSV file of the dialect: its header, then its rows with their line numbers.

    Use as a context manager; :attr:`header` is read on entering. Iterating yields
    ``(line, fields)`` for each row (blank lines skipped).
    """

    def __init__(self, path: str | Path, compression: str | None = None):
        self.path = Path(path)
        self.compression = compression
        self.header: list[str] = []
        self.header_line = 0

    def __enter__(self) -> CsvReader:
        if csv.field_size_limit() < MAX_FIELD_CHARS:
            csv.field_size_limit(MAX_FIELD_CHARS)
        self._handle = _open_binary(self.path, self.compression)
        self._lines = _Lines(self.path, self._handle)
        self._reader = csv.reader(self._lines, delimiter=",", quotechar='"', doublequote=True, strict=True)
        self._rows = self._records()
        try:
            first = next(self._rows, None)
        except BaseException:
            self._handle.close()
            raise
        if first is None:
            self._handle.close()
            raise DataValidationError(f"{self.path}: the file is empty; expected a header line and rows")
        self.header_line, self.header = first
        self.width = len(self.header)
        return self

    def __exit__(self, *exc) -> bool:
        self._handle.close()
        return False

    def _records(self) -> Iterator[tuple[int, list[str]]]:
        lines = self._lines
        previous_end = 0
        while True:
            lines.record = []
            lines.quote = False
            try:
                row = next(self._reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise DataValidationError(self._csv_message(error, previous_end + 1)) from None
            start, previous_end = previous_end + 1, lines.number
            if not row:
                continue
            width = getattr(self, "width", None)
            if width is not None and len(row) != width:
                raise DataValidationError(
                    f"{self.path}: line {start:,} has {len(row)} fields, the header has {width}: a stray comma "
                    "or a lost quote would move values onto the wrong columns, so nothing was scored; "
                    "put a value that holds a comma inside double quotes")
            if lines.quote and any('"' in value for value in row):
                for position, quoted in enumerate(_quoted_fields("".join(lines.record))):
                    value = row[position]
                    if '"' in value and not quoted:
                        column = (f"column '{self.header[position]}'" if width is not None
                                  else f"header field {position + 1}")
                        raise DataValidationError(
                            f"{self.path}: line {start:,}, {column}: a double quote inside a value that does not "
                            f"begin with one ({shown(value)}), which can be read more than one way; quote the "
                            "whole value with no space before the opening quote, and double each quote inside it")
            yield start, row

    def _csv_message(self, error: csv.Error, start: int) -> str:
        text = str(error)
        at = self._lines.number
        if "field larger than field limit" in text:
            return (f"{self.path}: line {at:,}: a value longer than {MAX_FIELD_CHARS:,} characters, the most one "
                    "value may hold; the file may have lost a closing quote")
        if "unexpected end of data" in text:
            return (f"{self.path}: line {start:,}: a double quote opens a value that is never closed "
                    "(the file ends inside it)")
        if "expected after" in text:
            return (f"{self.path}: line {at:,}: a quoted value must be followed by a comma or the end of the line "
                    "(a quote inside a quoted value is written twice: \"\")")
        if "new-line character" in text:
            return (f"{self.path}: line {at:,}: a carriage return (CR) inside a value that is not quoted; lines "
                    "must end in LF or CRLF (save the file with Windows or Unix line ends)")
        return f"{self.path}: line {at:,}: malformed CSV ({text})"

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        return self._rows


def read_batches(path: str | Path, compression: str | None, columns: list[str],
                 batch_rows: int = BATCH_ROWS) -> Iterator[tuple[np.ndarray, dict[str, object]]]:
    """The rows of a CSV file, ``batch_rows`` at a time: the line of each row (int64) and, per
    name in ``columns`` (header names, each present once), a pyarrow string array in which an
    empty field is null.

    Raises
    ------
    DataValidationError
        Anything the dialect refuses (see the module's docstring), with the file and line.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    with CsvReader(path, compression) as reader:
        positions = [reader.header.index(c) for c in columns]
        pick = operator.itemgetter(*positions, positions[0])  # always a tuple, even for one column
        lines: list[int] = []
        rows: list[tuple[str, ...]] = []

        def flush():
            arrays = {}
            for name, values in zip(columns, zip(*rows)):
                array = pa.array(values, type=pa.string())
                arrays[name] = pc.if_else(pc.equal(array, ""), pa.scalar(None, pa.string()), array)
            return np.asarray(lines, dtype=np.int64), arrays

        for line, row in reader:
            lines.append(line)
            rows.append(pick(row))
            if len(rows) >= batch_rows:
                yield flush()
                lines, rows = [], []
        if rows:
            yield flush()


def read_head(path: str | Path, compression: str | None) -> tuple[list[str], bool]:
    """The header of a CSV file and whether at least one row follows it."""
    with CsvReader(path, compression) as reader:
        return reader.header, next(iter(reader), None) is not None
