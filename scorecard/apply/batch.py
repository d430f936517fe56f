"""Score a file of applicants with the card, in batch: CSV or Parquet in, CSV or Parquet out.

:func:`score_file` is what ``python -m scorecard.cli score`` runs. Two engines give the same
rows, column for column:

``duckdb`` (default)
    The input file is scanned by an embedded DuckDB (``read_csv``/``read_parquet``), checked
    with SQL, scored by the card's compact SQL statement (:func:`scorecard.apply.sql.to_sql` with
    ``compact=True``) and written with ``COPY ... TO``. Nothing passes through pandas, so ten
    million rows stream in the memory DuckDB is given (``memory_limit``; it spills to a
    temporary folder beside the output when a step needs more). The input is read at most
    three times, each time only the columns needed: the ids (for repeated ids), then one
    streaming pass that checks, scores and writes the rows in input order (no sort), then,
    only when some row was rejected, the rejected rows with their reasons. A Parquet file's
    statistics can rule checks out (no infinity, no empty integer id) for the whole file;
    a small Parquet file with fewer row groups than threads is first copied into a
    temporary table so that every thread can take a share (``benchmarks/scoring_speed.py``
    measures the engine).
``python``
    The reference: the file is read into pandas, checked row by row in Python and scored by
    :meth:`Card.apply <scorecard.card.Card.apply>`. For small files.

What a run guarantees
---------------------
* **Checked before scored.** The input must hold the id column and every feature of the card
  (else :class:`~scorecard.errors.DataValidationError`, naming what is missing). An empty
  file, or a header without rows, stops the run. Each row is then checked; a row with a
  problem is *rejected*, not scored, and written to the rejects file with its id, its
  ``line`` and the ``reason``:

  - the id is empty (``column 'applicant_id': the id is empty``);
  - the id is on several rows: every copy is rejected, since the file does not say which
    one is right (``column 'applicant_id': id '17' is not unique: 2 rows share it
    (lines 5, 9)``);
  - a numeric feature holds something that is not a number (``column 'dti': expected a
    number, got 'abc'``) or a number too large to be finite (``... expected a finite
    number, got '1e400'``).

  A row may have several problems; the reason lists them all, separated by ``"; "``.
* **Unseen categories are scored, not rejected**: by the card's rule (the bin
  ``unseen.bin_id`` names), and named in the ``unseen_categories`` column.
* **Columns the card does not use are accepted** and listed in the result, never read.
* **Every row is accounted for**: rows in = rows scored + rows rejected, checked on the files
  as written. A run whose counts disagree publishes nothing.
* **Atomic output.** Both files are written under hidden temporary names in their folders
  and renamed into place at the very end, the output last: a run that fails or is killed
  never leaves a partial file under the output's name.
* **Reproducible.** Rows come out in input order; the same input, card and options give the
  same bytes.

How values are read
-------------------
* **CSV**: the dialect of :mod:`scorecard.apply.csv_dialect` (RFC 4180 stated exactly), read by its
  one reader for every engine: no quirk of a file can be read two ways. Every cell is text;
  only an empty cell is missing (``NA``, ``null`` or ``NaN`` are text, so in a numeric column
  they are rejected). A number is written as ``[+-]digits[.digits][e[+-]digits]`` with
  optional spaces around it (``1_000``, ``0x10``, ``1,5``, ``inf`` or ``nan`` are not
  numbers). What the dialect refuses (a row with too many or too few fields, a quote inside an
  unquoted value, an unclosed quote, a lone CR, a NUL, bytes that are not UTF-8, damaged gzip
  data) stops the run with the file and line. Compressed input: name it ``.csv.gz``.
* **Parquet**: columns keep their types. A numeric feature may be an integer (int8 to int64;
  a value beyond +/-2^53 cannot be held exactly and is rejected), decimal or floating-point
  column (float16 to float64; NaN is missing, infinity is rejected) or a text column (numbers
  written as in CSV; null is missing, an empty string is not a number). A categorical feature
  may be text, integer or floating-point; dictionary-encoded columns are read as their values.
* **Line numbers** (``line`` in the rejects file): in a CSV, physical lines (the header is
  line 1; a row holding a line break inside quotes is numbered by its first line); in a
  Parquet file the first row is 1.
* **Paths** are literal: a name holding ``[``, ``*`` or ``?`` is that file, never a pattern
  (:func:`duckdb_path`).

Output columns
--------------
The id column, ``score``, ``points_<feature>`` (card order), ``reason_k``, ``reason_k_text``,
``reason_k_points_lost`` (``k = 1..n_reasons``) and ``unseen_categories``: exactly
:meth:`Card.apply`'s columns after the id (``reason_texts=False`` leaves the ``reason_k_text``
columns out; ``n_reasons=0`` all the reason columns). Integers are written as 64-bit integers,
text as text (Parquet: UTF-8 strings, snappy-compressed; the engines compute the text columns
as DuckDB ENUMs of the card's codes and texts, which cost a small integer per row); an absent
reason is empty (NULL). The rejects file holds the id column, ``line`` and ``reason``. The
format of each file follows its name: ``.csv``, ``.csv.gz`` or ``.parquet``.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import secrets
import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from scorecard import card as cardlib
from scorecard.apply import csv_dialect
from scorecard.errors import CardError, DataValidationError, ScorecardError

ENGINES = ("duckdb", "python", "spark")
DEFAULT_CARD = Path(__file__).resolve().parent.parent / "scorecard.json"
DEFAULT_ID = "applicant_id"
DEFAULT_MEMORY_LIMIT = "1GB"
#: A number as text: optional spaces, sign, digits with an optional point, optional exponent.
#: The same pattern is used by both engines (Python ``re.fullmatch``, DuckDB ``regexp_full_match``).
NUMBER_PATTERN = r" *[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)? *"
#: Values quoted in a reason are cut to this many characters (then "...").
SHOWN_CHARS = csv_dialect.SHOWN_CHARS
#: Lines listed in a duplicate-id reason before "and N more".
SHOWN_LINES = 5
LINE = "line"
REASON = "reason"
#: The steps each engine reports to a progress callback, in order.
ENGINE_STEPS = {
    "duckdb": ("checking ids", "scoring", "writing rejects", "summarising"),
    "python": ("reading", "checking values", "scoring", "writing rejects", "summarising"),
    "spark": ("starting Spark", "checking and scoring", "writing output", "writing rejects", "summarising"),
}
_INTERNAL = ("sc_line", "sc_key", "sc_id", "file_row_number")
_NUMBER = re.compile(NUMBER_PATTERN)

#: ``progress(step, fraction)``: ``step`` is one of :data:`ENGINE_STEPS`; ``fraction`` is in
#: [0, 1], or None when the step's progress is unknown.
ProgressCallback = Callable[[str, "float | None"], None]


class BatchError(ScorecardError):
    """A batch run cannot go on (bad paths or options, a file the engine cannot read)."""


# -- files and formats ------------------------------------------------------------------------
@dataclass(frozen=True)
class FileFormat:
    """How a file is stored, from its name: ``csv`` (``gzip`` or not) or ``parquet``."""

    kind: str
    compression: str | None = None

    @property
    def label(self) -> str:
        return "CSV (gzip)" if self.compression == "gzip" else "CSV" if self.kind == "csv" else "Parquet"


def file_format(path: str | Path) -> FileFormat:
    """The format of a file from its name.

    Raises
    ------
    BatchError
        The name ends neither in ``.csv``, ``.csv.gz`` nor ``.parquet``.
    """
    name = Path(path).name.lower()
    if name.endswith(".csv.gz"):
        return FileFormat("csv", "gzip")
    if name.endswith(".csv"):
        return FileFormat("csv")
    if name.endswith(".parquet") or name.endswith(".pq"):
        return FileFormat("parquet")
    raise BatchError(f"{path}: unsupported file type; name it .csv, .csv.gz or .parquet")


def _split_suffix(path: Path) -> tuple[str, str]:
    name = path.name
    lower = name.lower()
    for suffix in (".csv.gz", ".csv", ".parquet", ".pq"):
        if lower.endswith(suffix):
            return name[: -len(suffix)], name[-len(suffix):]
    return path.stem, path.suffix


def default_rejects_path(output: str | Path) -> Path:
    """The rejects file of ``output``: ``.rejects`` before the extension.

    ``scores.csv`` -> ``scores.rejects.csv``, ``scores.csv.gz`` -> ``scores.rejects.csv.gz``,
    ``scores.parquet`` -> ``scores.rejects.parquet``.
    """
    output = Path(output)
    stem, suffix = _split_suffix(output)
    return output.with_name(f"{stem}.rejects{suffix}")


def _arrow_kind(data_type) -> str:
    import pyarrow as pa

    if pa.types.is_dictionary(data_type):
        data_type = data_type.value_type
    if pa.types.is_integer(data_type):
        return "integer"
    if pa.types.is_floating(data_type):
        return "floating"
    if pa.types.is_decimal(data_type):
        return "decimal"
    if pa.types.is_string(data_type) or pa.types.is_large_string(data_type) or pa.types.is_string_view(data_type):
        return "text"
    if pa.types.is_null(data_type):
        return "null"
    return "other"


@dataclass(frozen=True)
class InputFile:
    """What :func:`inspect_input` learns about an input file without reading its rows.

    Attributes
    ----------
    path, format
        The file and its format.
    columns
        Column names in file order (for a CSV, the header).
    kinds
        Per column: ``"text"``, ``"integer"``, ``"floating"``, ``"decimal"``, ``"null"``
        (a Parquet column with no values) or ``"other"``; every CSV column is ``"text"``.
    types
        Per column, the stored type as a reader would name it (for messages).
    rows
        The number of rows, when the file states it (Parquet); None for a CSV.
    """

    path: Path
    format: FileFormat
    columns: list[str]
    kinds: dict[str, str]
    types: dict[str, str]
    rows: int | None = None


def _parquet_metadata(path: Path):
    """A Parquet file's metadata, read from the literal path (a name holding ``[``, ``*`` or
    ``:`` is never taken as a pattern or a URI)."""
    import pyarrow.parquet as pq

    with open(path, "rb") as handle:
        return pq.read_metadata(handle)


def inspect_input(path: str | Path) -> InputFile:
    """Read an input file's header (CSV) or schema (Parquet) and check it is not empty.

    Raises
    ------
    DataValidationError
        The file is missing, empty, has a header but no rows, or cannot be read.
    BatchError
        The file type is not supported.
    """
    path = Path(path)
    fmt = file_format(path)
    if not path.is_file():
        raise DataValidationError(f"{path}: file not found")
    if fmt.kind == "parquet":
        try:
            metadata = _parquet_metadata(path)
            schema = metadata.schema.to_arrow_schema()
        except Exception as error:  # pyarrow raises several kinds for a file that is not Parquet
            raise DataValidationError(f"{path}: not a readable Parquet file ({_one_line(error)})") from None
        if len(schema) == 0:
            raise DataValidationError(f"{path}: the file is empty; expected columns and rows")
        if metadata.num_rows == 0:
            raise DataValidationError(f"{path}: the file has columns but no rows")
        columns = list(schema.names)
        kinds = {f.name: _arrow_kind(f.type) for f in schema}
        types = {f.name: str(f.type) for f in schema}
        return InputFile(path, fmt, columns, kinds, types, rows=metadata.num_rows)
    header, has_rows = csv_dialect.read_head(path, fmt.compression)
    if not has_rows:
        raise DataValidationError(f"{path}: the file has a header but no data rows")
    return InputFile(path, fmt, header, {c: "text" for c in header}, {c: "text" for c in header})


# -- the plan: which columns, read how --------------------------------------------------------
@dataclass(frozen=True)
class Plan:
    """The columns a run reads and how, shared by both engines."""

    source: InputFile
    card: cardlib.Card
    id_column: str
    n_reasons: int
    numeric: list[str]
    categorical: list[str]
    extra_columns: list[str]
    reason_texts: bool = True

    @property
    def features(self) -> list[str]:
        return self.card.feature_names

    @property
    def required(self) -> list[str]:
        return [self.id_column, *self.features]

    def kind(self, column: str) -> str:
        return self.source.kinds[column]

    @property
    def output_columns(self) -> list[str]:
        columns = [self.id_column, "score", *(f"points_{n}" for n in self.features)]
        for k in range(1, self.n_reasons + 1):
            columns += [f"reason_{k}", *([f"reason_{k}_text"] if self.reason_texts else []), f"reason_{k}_points_lost"]
        return columns + [cardlib.UNSEEN_FLAG]

    @property
    def integer_columns(self) -> set[str]:
        return ({"score"} | {f"points_{n}" for n in self.features}
                | {f"reason_{k}_points_lost" for k in range(1, self.n_reasons + 1)})


def make_plan(source: InputFile, card: cardlib.Card, id_column: str = DEFAULT_ID, n_reasons: int = 4,
              reason_texts: bool = True) -> Plan:
    """Check that ``source`` can be scored with ``card``; say which columns are used.

    Raises
    ------
    DataValidationError
        A required column is missing, appears twice, or has a type the card cannot score.
    BatchError
        ``id_column`` clashes with an output or internal column; ``n_reasons`` is negative.
    """
    path = source.path
    if isinstance(n_reasons, bool) or not isinstance(n_reasons, int) or n_reasons < 0:
        raise BatchError(f"the number of reasons must be a whole number >= 0, got {n_reasons!r}")
    if not id_column:
        raise BatchError("the id column name must not be empty")
    features = card.features
    names = [f["name"] for f in features]
    probe = Plan(source, card, id_column, n_reasons, [], [], [])
    if id_column in probe.output_columns[1:] or id_column in _INTERNAL:
        raise BatchError(f"the id column may not be named {id_column!r}: the output or the engine uses that name")
    required = [id_column, *names]
    missing = [c for c in required if c not in source.columns]
    if missing:
        shown = source.columns[:12]
        more = f" and {len(source.columns) - 12} more" if len(source.columns) > 12 else ""
        raise DataValidationError(
            f"{path}: missing required column(s) {missing}; the card {card.version} needs the id column "
            f"'{id_column}' and the features {names}; the file has {shown}{more}"
        )
    counts = Counter(source.columns)
    folded = Counter(c.casefold() for c in source.columns)
    for column in dict.fromkeys(required):
        if counts[column] > 1:
            raise DataValidationError(f"{path}: column '{column}' appears {counts[column]} times in the "
                                      "header; a required column must appear once")
        if source.format.kind == "parquet" and folded[column.casefold()] > 1:
            twins = [c for c in source.columns if c.casefold() == column.casefold()]
            raise DataValidationError(f"{path}: columns {twins} differ only in case; rename one of them "
                                      f"(DuckDB matches names regardless of case)")
    reserved = [c for c in required if c in _INTERNAL]
    if source.format.kind == "parquet" and "file_row_number" in source.columns:
        reserved.append("file_row_number")
    if reserved:
        raise DataValidationError(f"{path}: column name '{reserved[0]}' is reserved for the engine; rename it")
    allowed_numeric = {"text", "integer", "floating", "decimal", "null"}
    allowed_category = {"text", "integer", "floating", "null"}
    allowed_id = {"text", "integer", "floating", "decimal"}
    if source.kinds[id_column] not in allowed_id:
        raise DataValidationError(f"{path}: column '{id_column}': expected text or numbers as ids, the file "
                                  f"stores {source.types[id_column]}")
    for f in features:
        name = f["name"]
        allowed = allowed_numeric if f["type"] == "numeric" else allowed_category
        if source.kinds[name] not in allowed:
            wanted = "numbers (or text holding numbers)" if f["type"] == "numeric" else "text or numbers"
            raise DataValidationError(f"{path}: column '{name}': expected {wanted}, the file stores "
                                      f"{source.types[name]}")
    used = set(required)
    extra = [c for c in source.columns if c not in used]
    return Plan(source, card, id_column, n_reasons,
                numeric=[f["name"] for f in features if f["type"] == "numeric"],
                categorical=[f["name"] for f in features if f["type"] == "categorical"],
                extra_columns=extra, reason_texts=bool(reason_texts))


# -- reasons: the same text from both engines -------------------------------------------------
def _show(text: str) -> str:
    return csv_dialect.shown(text)


def _kind_empty_id(id_column: str) -> str:
    return f"empty {id_column}"


def _kind_duplicate_id(id_column: str) -> str:
    return f"duplicate {id_column}"


def _kind_not_number(column: str) -> str:
    return f"not a number in {column}"


def _kind_not_finite(column: str) -> str:
    return f"not a finite number in {column}"


def _text_empty_id(id_column: str) -> str:
    return f"column '{id_column}': the id is empty"


def _text_duplicate_id(id_column: str, value: str, lines: list[int]) -> str:
    shown = ", ".join(str(n) for n in lines[:SHOWN_LINES])
    more = f" and {len(lines) - SHOWN_LINES} more" if len(lines) > SHOWN_LINES else ""
    return (f"column '{id_column}': id {_show(value)} is not unique: {len(lines)} rows share it "
            f"(lines {shown}{more})")


def _text_not_number(column: str, shown: str) -> str:
    return f"column '{column}': expected a number, got {shown}"


def _text_not_finite(column: str, shown: str) -> str:
    return f"column '{column}': expected a finite number, got {shown}"


def _kind_not_exact(column: str) -> str:
    return f"not an exact number in {column}"


def _text_not_exact(column: str, value: int) -> str:
    return (f"column '{column}': {value} is beyond +/-2^53 (9,007,199,254,740,992), where a whole number "
            "can no longer be held exactly; such a value is refused rather than rounded")


#: Whole numbers beyond this (in an integer column of a Parquet file) cannot be held exactly.
EXACT_INTEGER = 1 << 53


# -- the result -------------------------------------------------------------------------------
@dataclass
class BatchResult:
    """What a run did: counts, reasons, unseen categories and the score distribution.

    Attributes
    ----------
    rows_in, rows_scored, rows_rejected
        Rows in the input, rows in the written output, rows in the written rejects file.
    rejected_by_reason
        Rejected rows per kind of problem (``"not a number in dti"``, ``"duplicate
        applicant_id"``...), most frequent first. A row with two problems counts in both.
    unseen_by_feature
        Scored rows with an unseen category, per categorical feature of the card.
    score
        ``min``, ``p10``, ``p50``, ``p90``, ``max`` and ``mean`` of the written scores
        (continuous quantiles, as numpy's default); None when no row was scored.
    extra_columns
        Input columns the card does not use (accepted, never read).
    published
        True when the output and rejects files were renamed into place.
    """

    input: Path
    output: Path
    rejects: Path
    engine: str
    input_format: str
    output_format: str
    card_name: str
    card_version: str
    id_column: str
    n_reasons: int
    rows_in: int
    rows_scored: int
    rows_rejected: int
    rejected_by_reason: dict[str, int]
    unseen_by_feature: dict[str, int]
    score: dict[str, float] | None
    extra_columns: list[str]
    seconds: float = 0.0
    published: bool = False
    steps: dict[str, float] = field(default_factory=dict)

    @property
    def balanced(self) -> bool:
        """True when rows in = rows scored + rows rejected."""
        return self.rows_in == self.rows_scored + self.rows_rejected

    @property
    def rows_per_second(self) -> float:
        return self.rows_in / self.seconds if self.seconds > 0 else float("nan")


# -- atomic files -----------------------------------------------------------------------------
class _Staging:
    """Hidden temporary names beside each destination, renamed into place at the end.

    The names are the engine's own (``.scorecard-<token>-<n>.part``), never built from the
    user's file name: any name a user gives (glob or shell characters, 250 bytes long) stays
    a literal destination. Each part is created empty here, so that a folder that cannot be
    written is named before any work is done.
    """

    def __init__(self, *destinations: Path):
        token = secrets.token_hex(6)
        self.parts = {d: d.parent / f".scorecard-{token}-{i}.part" for i, d in enumerate(destinations)}
        anchor = destinations[0]
        self.spill = anchor.parent / f".scorecard-{token}.spill"
        for destination, part in self.parts.items():
            try:
                part.open("xb").close()
            except OSError as error:
                self.discard()
                raise BatchError(f"{destination.parent}: cannot write there ({error.strerror}); the output "
                                 f"{destination.name!r} needs a folder you can write to") from None

    def part(self, destination: Path) -> Path:
        return self.parts[destination]

    def discard(self) -> None:
        for part in self.parts.values():
            part.unlink(missing_ok=True)
        shutil.rmtree(self.spill, ignore_errors=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _publish(moves: list[tuple[Path, Path]]) -> None:
    """Rename each finished temporary file onto its destination, in the order given.

    Each file is flushed to disk first, and each folder after, so that a crash leaves
    either the previous file or the complete new one under the destination's name.
    """
    for part, destination in moves:
        _fsync(part)
    for part, destination in moves:
        os.replace(part, destination)
    for folder in {d.parent for _, d in moves}:
        try:
            _fsync(folder)
        except OSError:  # some filesystems cannot sync a folder; the renames are done
            pass


# -- DuckDB helpers ---------------------------------------------------------------------------
#: Characters DuckDB's readers take as a pattern (glob) in a path.
_PATTERN = re.compile(r"[*?\[\]{}\\]")
_LINKS: list[Path] = []
_LINKS_LOCK = threading.Lock()


def duckdb_path(path: str | Path) -> str:
    """A path DuckDB reads literally: the absolute path, or, when it holds a character
    DuckDB's readers expand as a pattern (``*``, ``?``, ``[``, ``]``, ``{``, ``}``, ``\\``),
    a symbolic link to it under a private folder of this process whose name holds none.

    ``read_csv('june[final].csv')`` would otherwise read ``junef.csv``; the link makes the
    file read the one the user named, always.
    """
    text = str(Path(path).absolute())
    if not _PATTERN.search(text):
        return text
    with _LINKS_LOCK:
        if not _LINKS:
            folder = Path(tempfile.mkdtemp(prefix="scorecard-links-"))
            if _PATTERN.search(str(folder)):  # a TMPDIR with pattern characters
                folder.rmdir()
                raise BatchError(f"the temporary folder {folder.parent} holds pattern characters "
                                 f"({_PATTERN.pattern}); set TMPDIR to a plain folder")
            import atexit

            atexit.register(shutil.rmtree, folder, ignore_errors=True)
            _LINKS.append(folder)
        name = Path(text).name.lower()
        suffix = next((s for s in (".csv.gz", ".csv", ".parquet", ".pq") if name.endswith(s)), "")
        link = _LINKS[0] / (hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:24] + suffix)
        if not link.is_symlink():
            os.symlink(text, link)
    return str(link)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _one_line(error: BaseException | str, limit: int = 400) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _duckdb_message(error: BaseException) -> str:
    """The useful part of a DuckDB error: drop the 'Possible fixes' and reader settings."""
    text = str(error)
    for marker in ("Possible fix", "Possible Solution", "\n  file ="):
        if marker in text:
            text = text[: text.index(marker)]
    return _one_line(text)


_ACTIVE: set = set()
_ACTIVE_LOCK = threading.Lock()
_INTERRUPTED = threading.Event()


def interrupt() -> None:
    """Stop the runs in progress (safe to call from any thread, e.g. a signal watcher).

    Running DuckDB queries are interrupted at once; the Python engine stops at its next
    step. The interrupted run raises :class:`KeyboardInterrupt` after removing its temporary
    files: nothing is written under the output's name.
    """
    _INTERRUPTED.set()
    with _ACTIVE_LOCK:
        connections = list(_ACTIVE)
    for con in connections:
        try:
            con.interrupt()
        except Exception:  # already closed
            pass


def _check_interrupted() -> None:
    if _INTERRUPTED.is_set():
        raise KeyboardInterrupt


def _close(con) -> None:
    with _ACTIVE_LOCK:
        _ACTIVE.discard(con)
    con.close()


def _connect(memory_limit: str | None, threads: int | None, spill: Path | None, ordered: bool):
    import duckdb

    config = {"preserve_insertion_order": ordered}
    if memory_limit:
        config["memory_limit"] = memory_limit
    if threads:
        config["threads"] = int(threads)
    if spill is not None:
        config["temp_directory"] = str(spill)
    try:
        con = duckdb.connect(config=config)
    except duckdb.Error as error:
        raise BatchError(f"cannot start DuckDB with memory_limit={memory_limit!r}, threads={threads!r}: "
                         f"{_duckdb_message(error)}") from None
    con.execute("SET enable_progress_bar = true")
    con.execute("SET enable_progress_bar_print = false")
    with _ACTIVE_LOCK:
        _ACTIVE.add(con)
    return con


def _csv_options(fmt: FileFormat) -> str:
    return (f"header = true, auto_detect = false, delim = ',', quote = '\"', escape = '\"', "
            f"strict_mode = true, null_padding = false, compression = {_lit(fmt.compression or 'none')}")


def _read_csv_sql(path: Path, fmt: FileFormat, columns: dict[str, str]) -> str:
    """DuckDB's reader, for the files the engines wrote themselves (never a user's input:
    those are read by :mod:`scorecard.apply.csv_dialect`)."""
    struct = ", ".join(f"{_lit(name)}: {_lit(sql_type)}" for name, sql_type in columns.items())
    return f"read_csv({_lit(duckdb_path(path))}, columns = {{{struct}}}, {_csv_options(fmt)})"


def _read_parquet_sql(path: Path, *options: str) -> str:
    return f"read_parquet({', '.join([_lit(duckdb_path(path)), *options])})"


def _copy_options(fmt: FileFormat) -> str:
    if fmt.kind == "csv":
        return (f"FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"', ESCAPE '\"', "
                f"COMPRESSION {_lit(fmt.compression or 'none')}")
    # Snappy: DuckDB's default codec; zstd makes files about a third smaller but costs about a
    # third more writing time (benchmarks/scoring_speed.py).
    return "FORMAT parquet, COMPRESSION snappy"


def _output_types(plan: Plan) -> dict[str, str]:
    """The DuckDB type of each output column after the id: 64-bit integers; the reason codes,
    texts and the unseen flag as the compact statement types them (ENUM: written as text)."""
    from scorecard.apply.sql import compact_types

    text = compact_types(plan.card, plan.n_reasons)
    return {c: "BIGINT" if c in plan.integer_columns else text.get(c, "VARCHAR") for c in plan.output_columns[1:]}


def _output_select(plan: Plan, source: str, id_expr: str, line_expr: str, ordered: bool = True,
                   nullable: bool = False) -> str:
    """The output columns with fixed types (64-bit integers, text); sorted by ``line_expr``
    unless ``ordered`` is False (the source then streams in input order by itself).

    Every engine's Parquet output declares every column optional (nullable), so that their
    files are the same bytes: the id goes through a CASE the optimizer cannot fold (DuckDB
    would otherwise mark it NOT NULL when its checks prove it), and with ``nullable`` every
    column does (for a source whose columns are declared NOT NULL, as Spark's parts are)."""
    def optional(expr: str) -> str:
        return f"CASE WHEN {line_expr} IS NOT NULL THEN {expr} END"

    items = [f"{optional(id_expr)} AS {_q(plan.id_column)}"]
    for column, sql_type in _output_types(plan).items():
        value = f"CAST({_q(column)} AS {sql_type})"
        items.append(f"{optional(value) if nullable else value} AS {_q(column)}")
    return "SELECT " + ",\n  ".join(items) + f"\nFROM {source}" + (f"\nORDER BY {line_expr}" if ordered else "")


def _rejects_select(plan: Plan, source: str) -> str:
    return (f"SELECT id AS {_q(plan.id_column)}, CAST(line AS BIGINT) AS {LINE}, "
            f"CAST(reason AS VARCHAR) AS {REASON} FROM {source} ORDER BY line")


class _Poller:
    """Report DuckDB's progress on the running query to ``callback`` from a thread."""

    def __init__(self, con, step: str, callback: ProgressCallback | None):
        self.con, self.step, self.callback = con, step, callback
        self.stop = threading.Event()
        self.thread = None

    def __enter__(self):
        if self.callback is not None:
            self.callback(self.step, 0.0)
            self.thread = threading.Thread(target=self._run, daemon=True)
            self.thread.start()
        return self

    def _run(self):
        while not self.stop.wait(0.2):
            try:
                value = self.con.query_progress()
            except Exception:  # the connection may be between queries or closing
                continue
            if value is not None and value >= 0:
                self.callback(self.step, min(float(value), 100.0) / 100.0)

    def __exit__(self, *exc):
        self.stop.set()
        if self.thread is not None:
            self.thread.join()
            if exc[0] is None:
                self.callback(self.step, 1.0)
        return False


def _run(con, sql: str, what: str, plan: Plan, arrow: bool = False):
    """Execute one statement; DuckDB errors become one-line :class:`BatchError` messages.
    ``arrow``: return the result as a pyarrow table."""
    import duckdb

    _check_interrupted()
    try:
        return con.sql(sql).to_arrow_table() if arrow else con.execute(sql)
    except duckdb.OutOfMemoryException as error:
        raise BatchError(f"DuckDB ran out of memory while {what}: {_duckdb_message(error)}; "
                         "raise --memory-limit or free disk space for spilling") from None
    except duckdb.InterruptException:
        raise KeyboardInterrupt from None
    except RuntimeError as error:  # how DuckDB reports a query stopped by a signal
        if "interrupted" in str(error).lower():
            raise KeyboardInterrupt from None
        raise
    except duckdb.Error as error:
        raise BatchError(f"{plan.source.path}: {what} failed: {_duckdb_message(error)}") from None


# -- summary of the written files (both engines) ----------------------------------------------
def _distribution(histogram: dict[int, int]) -> dict[str, float]:
    """min, p10, p50, p90, max and mean of integer scores given as {score: rows}; quantiles
    interpolated linearly between the closest ranks (numpy's default, DuckDB's quantile_cont)."""
    values = sorted(histogram)
    total = sum(histogram.values())
    ends = np.cumsum([histogram[v] for v in values])  # rank (0-based) r is values[searchsorted(ends, r, 'right')]

    def at(rank: int) -> float:
        return float(values[int(np.searchsorted(ends, rank, side="right"))])

    def quantile(q: float) -> float:
        h = (total - 1) * q
        below = math.floor(h)
        low, high = at(below), at(min(below + 1, total - 1))
        return low + (h - below) * (high - low)

    mean = sum(v * n for v, n in histogram.items()) / total
    return {"min": float(values[0]), "p10": quantile(0.1), "p50": quantile(0.5), "p90": quantile(0.9),
            "max": float(values[-1]), "mean": mean}


def _summarise(con, plan: Plan, path: Path, fmt: FileFormat) -> tuple[int, dict | None, dict[str, int]]:
    """Count the rows of the written output, the score distribution and unseen categories.

    One scan of two columns of the written file: rows per (score, unseen flag), a few
    hundred groups; the statistics follow exactly from them."""
    flag = _q(cardlib.UNSEEN_FLAG)
    if fmt.kind == "csv":
        columns = {c: ("BIGINT" if c in plan.integer_columns else "VARCHAR") for c in plan.output_columns}
        source = _read_csv_sql(path, fmt, columns)
    else:
        source = _read_parquet_sql(path)
    groups = _run(con, f"SELECT score, CAST({flag} AS VARCHAR), count(*) FROM {source} GROUP BY ALL",
                  "reading back the output", plan).fetchall()
    histogram: Counter = Counter()
    unseen = {n: 0 for n in plan.categorical}
    for value, flags, rows in groups:
        if value is not None:
            histogram[int(value)] += rows
        for name in set((flags or "").split(",")):
            if name in unseen:
                unseen[name] += rows
    count = sum(rows for _, _, rows in groups)
    stats = _distribution(histogram) if histogram else None
    return count, stats, unseen


def _count_rows(con, plan: Plan, path: Path, fmt: FileFormat) -> int:
    if fmt.kind == "csv":
        columns = {plan.id_column: "VARCHAR", LINE: "BIGINT", REASON: "VARCHAR"}
        source = _read_csv_sql(path, fmt, columns)
    else:
        source = _read_parquet_sql(path)
    return int(_run(con, f"SELECT count(*) FROM {source}", "reading back the rejects", plan).fetchone()[0])


# -- the DuckDB engine ------------------------------------------------------------------------
def _source_sql(plan: Plan) -> str:
    """A Parquet input as a DuckDB relation: ``sc_line`` then the required columns, in file
    order. (A CSV input is read by :mod:`scorecard.apply.csv_dialect` into ``sc_table``.)"""
    reader = _read_parquet_sql(plan.source.path, "file_row_number = true")
    cols = ", ".join(_q(c) for c in dict.fromkeys(plan.required))
    return f"SELECT file_row_number + 1 AS sc_line, {cols} FROM {reader}"


def csv_batches(plan: Plan):
    """A CSV input's rows as pyarrow record batches, read by the engines' one reader
    (:func:`scorecard.apply.csv_dialect.read_batches`): ``sc_line`` then the required columns as text
    (an empty field is null). Returns the schema and the batches; an interrupted run stops at
    the next batch."""
    import pyarrow as pa

    needed = list(dict.fromkeys(plan.required))
    schema = pa.schema([("sc_line", pa.int64()), *((c, pa.string()) for c in needed)])

    def batches():
        for lines, arrays in csv_dialect.read_batches(plan.source.path, plan.source.format.compression, needed):
            _check_interrupted()
            yield pa.record_batch([pa.array(lines), *(arrays[c] for c in needed)], schema=schema)

    return schema, batches()


def _csv_stream(plan: Plan, failure: dict):
    """:func:`csv_batches` as a pyarrow stream for DuckDB. A refusal is kept in
    ``failure['error']`` so that the caller raises it as it is, not as DuckDB rewords it."""
    import pyarrow as pa

    schema, batches = csv_batches(plan)

    def kept():
        try:
            yield from batches
        except BaseException as error:
            failure["error"] = error
            raise

    return pa.RecordBatchReader.from_batches(schema, kept())


def _empty_id_sql(plan: Plan, x: str, trim: str = "trim({x}, ' ')") -> str:
    """True when the id is empty: NULL, NaN, or text of spaces only (the space U+0020 alone, as
    the Python engine's ``strip(" ")``: DuckDB's one-argument ``trim`` also removes other
    white space, e.g. a no-break space). ``trim`` spells the trim in another dialect."""
    kind = plan.kind(plan.id_column)
    if kind == "text":
        return f"({x} IS NULL OR {trim.format(x=x)} = '')"
    if kind == "floating":
        return f"({x} IS NULL OR isnan({x}))"
    return f"({x} IS NULL)"


def _parquet_proofs(plan: Plan) -> tuple[frozenset[str], frozenset[str]]:
    """Required columns of a Parquet input whose statistics prove, in every row group, that
    they hold no infinity (finite min and max of a floating-point column) and no NULL (a null
    count of 0). A check that cannot fail is left out of the per-row tests; a column without
    statistics keeps its checks."""
    if plan.source.format.kind != "parquet":
        return frozenset(), frozenset()
    import pyarrow.parquet as pq

    metadata = _parquet_metadata(plan.source.path)
    needed = set(plan.required)
    finite: dict[str, bool] = {}
    complete: dict[str, bool] = {}
    for i in range(metadata.num_row_groups):
        group = metadata.row_group(i)
        for j in range(group.num_columns):
            chunk = group.column(j)
            name = chunk.path_in_schema
            if name not in needed:
                continue
            stats = chunk.statistics
            # float16 statistics come as raw bytes: no proof from them
            bounded = (stats is not None and stats.has_min_max and plan.kind(name) == "floating"
                       and isinstance(stats.min, float) and isinstance(stats.max, float)
                       and math.isfinite(stats.min) and math.isfinite(stats.max))
            no_null = stats is not None and stats.has_null_count and stats.null_count == 0
            finite[name] = finite.get(name, True) and bool(bounded)
            complete[name] = complete.get(name, True) and bool(no_null)
    return (frozenset(n for n, ok in finite.items() if ok), frozenset(n for n, ok in complete.items() if ok))


def _value_checks_sql(plan: Plan, finite: frozenset[str] = frozenset(),
                      complete: frozenset[str] = frozenset()) -> list[str]:
    """The row checks as boolean SQL tests (true = a problem): the rules of
    :func:`_python_problems`, which words the reasons of the rows they find. Checks the
    input's statistics rule out (``finite``: floating-point columns without infinity;
    ``complete``: columns without NULL, for an integer id) are left out."""
    idx = _q(plan.id_column)
    checks = []
    if not (plan.id_column in complete and plan.kind(plan.id_column) == "integer"):
        checks.append(_empty_id_sql(plan, "s." + idx))
    for name in plan.numeric:
        x = "s." + _q(name)
        kind = plan.kind(name)
        if kind == "text":
            is_number = f"regexp_full_match({x}, {_lit(NUMBER_PATTERN)})"
            is_finite = f"coalesce(isfinite(TRY_CAST(trim({x}, ' ') AS DOUBLE)), false)"
            checks.append(f"({x} IS NOT NULL AND NOT ({is_number} AND {is_finite}))")
        elif kind == "floating" and name not in finite:
            checks.append(f"coalesce(isinf({x}), false)")
        elif kind == "integer":
            checks.append(f"coalesce({x} > {EXACT_INTEGER} OR {x} < -{EXACT_INTEGER}, false)")
    return checks


#: Duplicate ids in an integer id column are looked for with a bitmap of the ids' range
#: (``bitstring_agg``: one bit per possible id, a pass over the id column with no hash table)
#: when the range holds at most this many ids; else with a hash aggregate.
BITMAP_IDS = 1 << 28


#: DuckDB shares the work of reading a Parquet file by row group. A file with fewer row groups
#: than threads and at most this many rows is first copied into a temporary table (about
#: 100 MB per million rows for a card of a dozen features), which every thread can share.
MATERIALIZE_ROWS = 2_000_000


def _materialize(con, plan: Plan) -> bool:
    src = plan.source
    if src.format.kind != "parquet" or not src.rows or src.rows > MATERIALIZE_ROWS:
        return False
    import pyarrow.parquet as pq

    threads = int(con.execute("SELECT current_setting('threads')").fetchone()[0])
    return threads > 1 and _parquet_metadata(src.path).num_row_groups < threads


def _duplicate_ids(con, plan: Plan, reader: str) -> bool | None:
    """Whether an integer id column holds some id twice, from a bitmap of the ids' range.
    None when the column is not integer, or its range is too wide for the bitmap."""
    import duckdb

    if plan.source.format.kind != "parquet" or plan.kind(plan.id_column) != "integer":
        return None
    idx = _q(plan.id_column)
    low, high, ids = _run(con, f"SELECT min({idx}), max({idx}), count({idx}) FROM {reader}", "checking ids",
                          plan).fetchone()
    if not ids:
        return False
    if high - low >= BITMAP_IDS:
        return None
    try:
        distinct = con.execute(f"SELECT bit_count(bitstring_agg({idx}, {int(low)}, {int(high)})) "
                               f"FROM {reader}").fetchone()[0]
    except duckdb.Error:  # a type bitstring_agg does not take: the hash aggregate decides
        return None
    return int(distinct) < int(ids)


def typed_features(plan: Plan, alias: str, quote=_q) -> list[str]:
    """The card's features from the checked source ``alias``, numbers held as text cast to
    DOUBLE with try_cast: a row whose text is not a number is rejected, its cast never stops
    the run. ``quote`` quotes a name in the dialect (DuckDB's by default; Spark's backticks)."""
    values = []
    for name in plan.features:
        column = quote(name)
        if name in plan.numeric and plan.kind(name) == "text":
            values.append(f"try_cast(trim({alias}.{column}) AS DOUBLE) AS {column}")
        else:
            values.append(f"{alias}.{column} AS {column}")
    return values


def _score_duckdb(plan: Plan, out: Path, out_fmt: FileFormat, rej: Path, rej_fmt: FileFormat,
                  memory_limit: str | None, threads: int | None, spill: Path,
                  progress: ProgressCallback | None, timings: dict[str, float]):
    """Check and score with DuckDB; return rows in, rejects per kind and the open connection.

    Passes over the input (Parquet reads only the columns each one needs; a CSV is read once,
    by :mod:`scorecard.apply.csv_dialect`, into a temporary table that spills beyond the memory
    limit):

    1. ids: duplicates (a bitmap of an integer id column's range, else a hash aggregate,
       which also counts the rows); Parquet states its row count.
    2. scoring: one streaming ``COPY`` of the card's compact statement over the rows that
       pass the row checks (empty id, value checks) and hold no duplicated id. With
       ``preserve_insertion_order`` the rows come out in input order without a sort; only
       when some id is duplicated (a join removes those rows) are they sorted by line.
    3. rejects: only when the scoring wrote fewer rows than came in (or ids repeat), the
       rejected rows, whose reasons :func:`_python_problems` words as for the Python engine.
    """
    from scorecard.apply import sql as sqllib

    spill.mkdir(parents=True, exist_ok=True)
    # Insertion order preserved: the output streams in input order.
    con = _connect(memory_limit, threads, spill, ordered=True)
    try:
        idx = _q(plan.id_column)
        src = plan.source
        reader = _read_parquet_sql(src.path) if src.format.kind == "parquet" else "sc_table"
        started = time.perf_counter()
        with _Poller(con, "checking ids", progress):
            if src.format.kind == "csv":
                failure: dict = {}
                con.register("sc_stream", _csv_stream(plan, failure))
                try:
                    _run(con, "CREATE TEMP TABLE sc_table AS SELECT * FROM sc_stream", "reading the input", plan)
                except BaseException:
                    if "error" in failure:  # the reader's refusal, in its own words
                        raise failure["error"] from None
                    raise
                finally:
                    con.unregister("sc_stream")
                _run(con, "CREATE TEMP VIEW sc_source AS SELECT * FROM sc_table", "opening the input", plan)
            elif _materialize(con, plan):
                # Fewer row groups than threads: one thread would do all the work. A temporary
                # table (row groups of 122,880 rows) lets every thread take a share.
                _run(con, f"CREATE TEMP TABLE sc_table AS {_source_sql(plan)}", "reading the input", plan)
                _run(con, "CREATE TEMP VIEW sc_source AS SELECT * FROM sc_table", "opening the input", plan)
                reader = "sc_table"
            else:
                _run(con, f"CREATE TEMP VIEW sc_source AS {_source_sql(plan)}", "opening the input", plan)
            duplicated = _duplicate_ids(con, plan, reader)
            rows_in = src.rows if duplicated is not None else None
            if duplicated is not False:
                # One scan: the total row count (grouping set ()) and the ids held by several rows.
                _run(con, f"""
                    CREATE TEMP TABLE sc_ids AS
                    SELECT {idx} AS id, count(*) AS n, grouping({idx}) AS total
                    FROM sc_source s
                    GROUP BY GROUPING SETS (({idx}), ())
                    HAVING grouping({idx}) = 1 OR (count(*) > 1 AND NOT {_empty_id_sql(plan, idx)})""",
                     "checking ids", plan)
                rows_in = int(con.execute("SELECT coalesce(sum(n), 0) FROM sc_ids WHERE total = 1").fetchone()[0])
                duplicated = con.execute("SELECT count(*) FROM sc_ids WHERE total = 0").fetchone()[0] > 0
        timings["checking ids"] = time.perf_counter() - started

        started = time.perf_counter()
        checks = _value_checks_sql(plan, *_parquet_proofs(plan))
        dup_join = f"LEFT JOIN (SELECT id FROM sc_ids WHERE total = 0) d ON s.{idx} = d.id" if duplicated else ""
        is_dup = "d.id IS NOT NULL" if duplicated else "false"
        any_problem = " OR ".join([is_dup, *checks])
        values = typed_features(plan, "s")
        _run(con, f"""
            CREATE TEMP VIEW sc_valid AS
            SELECT {{'line': s.sc_line, 'id': s.{idx}}} AS sc_key, {', '.join(values)}
            FROM sc_source s {dup_join}
            WHERE NOT ({any_problem})""", "preparing the scoring", plan)
        try:
            statement = sqllib.to_sql(plan.card, "duckdb", table="sc_valid", id_column="sc_key",
                                      n_reasons=plan.n_reasons, reason_texts=plan.reason_texts, compact=True)
        except ValueError as error:
            raise BatchError(str(error)) from None
        # A join does not keep the input order: sort by line only then.
        select = _output_select(plan, f"(\n{statement}\n) AS scored", "sc_key.id", "sc_key.line",
                                ordered=bool(duplicated))
        with _Poller(con, "scoring", progress):
            written = _run(con, f"COPY (\n{select}\n) TO {_lit(str(out))} ({_copy_options(out_fmt)})",
                           "scoring", plan).fetchone()[0]
        timings["scoring"] = time.perf_counter() - started

        started = time.perf_counter()
        # The rejected rows (a cheap test finds them), worded by the Python engine's own checks.
        # Skipped (an empty file of the same columns) when every row was scored.
        rejected = duplicated or int(written) != rows_in
        with _Poller(con, "writing rejects", progress):
            by_reason = _reject_rows(con, plan, f"SELECT s.sc_line, {_reject_columns(plan, 's')} FROM sc_source s "
                                                f"{dup_join} WHERE {any_problem if rejected else 'false'}", rej, rej_fmt)
        timings["writing rejects"] = time.perf_counter() - started
        return rows_in, by_reason, con
    except BaseException:
        _close(con)
        raise


def _reject_columns(plan: Plan, alias: str) -> str:
    """The columns a rejected row's reason is worded from: the id and the numeric features."""
    return ", ".join(f"{alias}.{_q(c)}" for c in dict.fromkeys([plan.id_column, *plan.numeric]))


def _reject_rows(con, plan: Plan, rows_sql: str, rej: Path, rej_fmt: FileFormat) -> dict[str, int]:
    """Word and write the rejects of any engine: ``rows_sql`` selects ``sc_line`` and
    :func:`_reject_columns` of exactly the rows the engine's SQL checks refused; their reasons
    are worded by :func:`_python_problems` (so every engine gives the same text), which must
    find a problem in each. Returns the rejected rows per kind of problem."""
    found = _run(con, f"SELECT * FROM ({rows_sql}) ORDER BY sc_line", "checking values", plan, arrow=True)
    columns = {c: found.column(c).combine_chunks() for c in found.column_names[1:]}
    lines = found.column(0).to_numpy()
    problems, flagged = _python_problems(plan, columns, lines)
    if not flagged.all():
        line = int(lines[~flagged][0])
        raise BatchError(f"{plan.source.path}: line {line}: the engine's checks refused a row the reference checks "
                         "accept; nothing was written (please report this file)")
    return _write_rejects(con, plan, rej, rej_fmt, lines, columns[plan.id_column], problems)


def _write_rejects(con, plan: Plan, rej: Path, rej_fmt: FileFormat, lines: np.ndarray, ids,
                   problems: list[list[tuple[str, str]]]) -> dict[str, int]:
    """Write the rejected rows (line, id, reason: the problems' texts joined by ``"; "``),
    with the writer of the output; return the rejected rows per kind of problem."""
    import pyarrow as pa

    rejected = np.array([bool(p) for p in problems], dtype=bool)
    kept = [p for p in problems if p]
    table = pa.table({
        "line": pa.array(lines[rejected], type=pa.int64()),
        "id": ids.filter(pa.array(rejected)),
        "reason": pa.array(["; ".join(text for _, text in p) for p in kept], type=pa.string()),
    })
    con.register("sc_rejected", table)
    try:
        _run(con, f"COPY ({_rejects_select(plan, 'sc_rejected')}) TO {_lit(str(rej))} ({_copy_options(rej_fmt)})",
             "writing the rejects", plan)
    finally:
        con.unregister("sc_rejected")
    counts = Counter(kind for p in kept for kind, _ in p)
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


# -- the Python engine ------------------------------------------------------------------------
def _read_python(plan: Plan) -> tuple[dict[str, object], np.ndarray]:
    """The required columns of the input (a pyarrow array per column) and each row's line."""
    import pyarrow as pa

    src = plan.source
    needed = list(dict.fromkeys(plan.required))
    if src.format.kind == "parquet":
        import pyarrow.parquet as pq

        try:
            with open(src.path, "rb") as handle:
                table = pq.read_table(handle, columns=needed)
        except Exception as error:
            raise DataValidationError(f"{src.path}: cannot read the Parquet file ({_one_line(error)})") from None
        columns = {}
        for c in needed:
            array = table.column(c).combine_chunks()
            # dictionary-encoded columns are read as their values, as DuckDB reads them
            columns[c] = array.dictionary_decode() if pa.types.is_dictionary(array.type) else array
        return columns, np.arange(table.num_rows, dtype=np.int64) + 1
    schema, batches = csv_batches(plan)
    table = pa.Table.from_batches(list(batches), schema=schema)
    return {c: table.column(c).combine_chunks() for c in needed}, table.column("sc_line").to_numpy()


def _python_problems(plan: Plan, columns: dict, lines: np.ndarray) -> tuple[list[list[tuple[str, str]]], np.ndarray]:
    """Per row, the list of (kind, text) problems; and which rows have one. The rules the
    DuckDB engine tests in SQL (:func:`_value_checks_sql`); both engines' reasons are these."""
    n = len(lines)
    problems: list[list[tuple[str, str]]] = [[] for _ in range(n)]
    ids = columns[plan.id_column].to_pylist()
    id_kind = plan.kind(plan.id_column)

    def empty(value) -> bool:
        if value is None:
            return True
        if id_kind == "text":
            return value.strip(" ") == ""
        return isinstance(value, float) and math.isnan(value)

    is_empty = np.array([empty(v) for v in ids], dtype=bool)
    positions: dict[object, list[int]] = {}
    for i, value in enumerate(ids):
        if not is_empty[i]:
            positions.setdefault(value, []).append(i)
    duplicated = {v: p for v, p in positions.items() if len(p) > 1}
    for i in np.flatnonzero(is_empty):
        problems[i].append((_kind_empty_id(plan.id_column), _text_empty_id(plan.id_column)))
    for value, rows in duplicated.items():
        text = _text_duplicate_id(plan.id_column, str(value), [int(lines[r]) for r in rows])
        for r in rows:
            problems[r].append((_kind_duplicate_id(plan.id_column), text))
    for name in plan.numeric:
        kind = plan.kind(name)
        if kind == "text":
            for i, value in enumerate(columns[name].to_pylist()):
                if value is None:
                    continue
                if not _NUMBER.fullmatch(value):
                    problems[i].append((_kind_not_number(name), _text_not_number(name, _show(value))))
                elif not math.isfinite(float(value.strip(" "))):
                    problems[i].append((_kind_not_finite(name), _text_not_finite(name, _show(value))))
        elif kind == "floating":
            array = columns[name].to_numpy(zero_copy_only=False).astype("float64")
            for i in np.flatnonzero(np.isinf(array)):
                problems[i].append((_kind_not_finite(name), _text_not_finite(name, "inf" if array[i] > 0 else "-inf")))
        elif kind == "integer":
            for i, value in enumerate(columns[name].to_pylist()):
                if value is not None and abs(value) > EXACT_INTEGER:
                    problems[i].append((_kind_not_exact(name), _text_not_exact(name, value)))
    rejected = np.array([bool(p) for p in problems], dtype=bool)
    return problems, rejected


def _feature_frame(plan: Plan, columns: dict, keep: np.ndarray) -> pd.DataFrame:
    """The feature columns of the kept rows, as :meth:`Card.apply` reads them."""
    import pyarrow as pa

    frame = {}
    for name in plan.features:
        array = columns[name].filter(pa.array(keep))
        kind = plan.kind(name)
        if name in plan.numeric:
            if kind == "text":
                frame[name] = np.array([np.nan if v is None else float(v.strip(" ")) for v in array.to_pylist()],
                                       dtype="float64")
            elif kind == "null":
                frame[name] = np.full(len(array), np.nan)
            else:
                frame[name] = array.cast(pa.float64()).to_numpy(zero_copy_only=False)
        elif kind == "text":
            frame[name] = pd.Series(array.to_pylist(), dtype=object)
        elif kind == "null":
            frame[name] = pd.Series([None] * len(array), dtype=object)
        else:
            frame[name] = array.to_pandas()
    return pd.DataFrame(frame)


def _score_python(plan: Plan, out: Path, out_fmt: FileFormat, rej: Path, rej_fmt: FileFormat,
                  memory_limit: str | None, threads: int | None, spill: Path,
                  progress: ProgressCallback | None, timings: dict[str, float]):
    """Check in Python and score with :meth:`Card.apply`; same return as :func:`_score_duckdb`."""
    import pyarrow as pa

    def step(name: str, fraction: float | None) -> None:
        _check_interrupted()
        if progress is not None:
            progress(name, fraction)

    started = time.perf_counter()
    step("reading", None)
    columns, lines = _read_python(plan)
    rows_in = len(lines)
    timings["reading"] = time.perf_counter() - started

    started = time.perf_counter()
    step("checking values", None)
    problems, rejected = _python_problems(plan, columns, lines)
    keep = ~rejected
    timings["checking values"] = time.perf_counter() - started

    started = time.perf_counter()
    step("scoring", None)
    features = _feature_frame(plan, columns, keep)
    applied = plan.card.apply(features, plan.n_reasons) if len(features) else None
    ids = columns[plan.id_column]
    scored = {"sc_line": pa.array(lines[keep]), "sc_id": ids.filter(pa.array(keep))}
    for column in plan.output_columns[1:]:
        if applied is not None:
            values = applied[column]
            scored[column] = pa.array(values.to_numpy(dtype=np.int64) if column in plan.integer_columns
                                      else values.astype(object).where(values.notna(), None).tolist(),
                                      type=pa.int64() if column in plan.integer_columns else pa.string())
        else:
            scored[column] = pa.array([], type=pa.int64() if column in plan.integer_columns else pa.string())
    sc_scored = pa.table(scored)
    spill.mkdir(parents=True, exist_ok=True)
    con = _connect(memory_limit, threads, spill, ordered=True)
    try:
        con.register("sc_scored", sc_scored)
        select = _output_select(plan, "sc_scored", "sc_id", "sc_line")
        _run(con, f"COPY (\n{select}\n) TO {_lit(str(out))} ({_copy_options(out_fmt)})", "writing the output", plan)
        timings["scoring"] = time.perf_counter() - started
        started = time.perf_counter()
        step("writing rejects", None)
        by_reason = _write_rejects(con, plan, rej, rej_fmt, lines, ids, problems)
        timings["writing rejects"] = time.perf_counter() - started
    except BaseException:
        _close(con)
        raise
    return rows_in, by_reason, con


# -- the entry point --------------------------------------------------------------------------
def load_card(card: str | Path | cardlib.Card) -> cardlib.Card:
    """A :class:`~scorecard.card.Card` from a path (read and validated) or as given."""
    if isinstance(card, cardlib.Card):
        return card
    return cardlib.load(card)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def score_file(input_path: str | Path, output_path: str | Path, *,
               card: str | Path | cardlib.Card = DEFAULT_CARD, engine: str = "duckdb",
               id_column: str = DEFAULT_ID, n_reasons: int = 4, rejects_path: str | Path | None = None,
               reason_texts: bool = True,
               memory_limit: str | None = DEFAULT_MEMORY_LIMIT, threads: int | None = None,
               progress: ProgressCallback | None = None, master: str | None = None) -> BatchResult:
    """Score a CSV or Parquet file of applicants into a CSV or Parquet file.

    Parameters
    ----------
    input_path
        Applicants: ``.csv``, ``.csv.gz`` or ``.parquet``, with the id column and every
        feature of the card (other columns are accepted and ignored).
    output_path
        Where the scores go (format from the name). Written atomically.
    card
        The card: a path to its JSON (validated) or a loaded :class:`~scorecard.card.Card`.
    engine
        ``"duckdb"`` (default; streams any size), ``"python"`` (pandas and
        :meth:`Card.apply`; the reference, for small files) or ``"spark"`` (the card's Spark
        SQL on a Spark session: :mod:`scorecard.apply.spark`).
    id_column
        The column identifying each applicant; copied to the output and the rejects.
    n_reasons
        Reasons per row (0 for none: no reason columns, and no time spent on them).
    reason_texts
        False: leave out the ``reason_k_text`` columns (the codes stay; each code's text is
        in the card).
    rejects_path
        Where rejected rows go; default :func:`default_rejects_path` of ``output_path``.
        Always written, empty (header only) when no row is rejected.
    memory_limit
        DuckDB's ``memory_limit`` (e.g. ``"1GB"``); beyond it DuckDB spills to a temporary
        folder beside the output. None: DuckDB's default (80% of the machine's memory).
    threads
        DuckDB threads; None: one per core.
    progress
        Called as ``progress(step, fraction)`` while the run goes (see :data:`ENGINE_STEPS`).

    Returns
    -------
    BatchResult
        Counts, reasons, unseen categories and score distribution, taken from the written
        files. ``published`` is False (and nothing was renamed into place) when rows in
        differs from scored + rejected.

    Raises
    ------
    DataValidationError
        The input is missing, empty, header-only, malformed, or lacks a required column.
    CardError
        The card is missing or fails its schema.
    BatchError
        Bad paths or options, or the engine failed to read or write.
    """
    started = time.perf_counter()
    _INTERRUPTED.clear()
    if engine not in ENGINES:
        raise BatchError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if master is not None and engine != "spark":
        raise BatchError(f"a Spark master ({master}) applies only to the spark engine, not to {engine}")
    input_path, output_path = Path(input_path), Path(output_path)
    rejects_path = Path(rejects_path) if rejects_path is not None else default_rejects_path(output_path)
    out_fmt, rej_fmt = file_format(output_path), file_format(rejects_path)
    loaded = load_card(card)
    source = inspect_input(input_path)
    for a, b, what in ((input_path, output_path, "the output"), (input_path, rejects_path, "the rejects file"),
                       (output_path, rejects_path, "the rejects file")):
        if a == b or _same_file(a, b):
            raise BatchError(f"{b}: {what} would overwrite {a}; choose another name")
    plan = make_plan(source, loaded, id_column, n_reasons, reason_texts)
    for destination in (output_path, rejects_path):
        try:
            destination.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise BatchError(f"{destination.parent}: cannot create the folder ({error.strerror})") from None
        if destination.is_dir():
            raise BatchError(f"{destination}: is a folder; give a file name")

    staging = _Staging(output_path, rejects_path)
    timings: dict[str, float] = {}
    con = None
    try:
        if engine == "spark":
            from functools import partial

            from scorecard.apply.spark import _score_spark

            run = partial(_score_spark, master=master)
        else:
            run = _score_duckdb if engine == "duckdb" else _score_python
        rows_in, by_reason, con = run(plan, staging.part(output_path), out_fmt, staging.part(rejects_path), rej_fmt,
                                      memory_limit, threads, staging.spill, progress, timings)
        begun = time.perf_counter()
        with _Poller(con, "summarising", progress):
            rows_scored, stats, unseen = _summarise(con, plan, staging.part(output_path), out_fmt)
            rows_rejected = _count_rows(con, plan, staging.part(rejects_path), rej_fmt)
        timings["summarising"] = time.perf_counter() - begun
        _close(con)
        con = None
        result = BatchResult(
            input=input_path, output=output_path, rejects=rejects_path, engine=engine,
            input_format=source.format.label, output_format=out_fmt.label,
            card_name=loaded.document.get("name", ""), card_version=loaded.version,
            id_column=id_column, n_reasons=n_reasons, rows_in=rows_in, rows_scored=rows_scored,
            rows_rejected=rows_rejected, rejected_by_reason=by_reason, unseen_by_feature=unseen, score=stats,
            extra_columns=plan.extra_columns, steps=timings,
        )
        if result.balanced:
            # The rejects first, the output last: the output's name appears only when all is done.
            _publish([(staging.part(rejects_path), rejects_path), (staging.part(output_path), output_path)])
            result.published = True
        result.seconds = time.perf_counter() - started
        return result
    finally:
        if con is not None:
            _close(con)
        staging.discard()


def validate_card_file(path: str | Path) -> cardlib.Card:
    """Read and validate a card file (schema and rules).

    Raises
    ------
    CardError
        The file is missing, not JSON, or breaks the schema or a rule (the message names the
        JSON path of each problem).
    """
    card = cardlib.load(path)
    if not card.features:
        raise CardError(f"{path}: the card has no features")
    return card
