"""Score a file of applicants with the card, in batch: CSV or Parquet in, CSV or Parquet out.

:func:`score_file` is what ``python -m scorecard.cli score`` runs: it inspects the input
(:mod:`~scorecard.apply.inputs`), plans the run (:mod:`~scorecard.apply.plan`), hands it to one
engine — :mod:`~scorecard.apply.duckdb_engine`, :mod:`~scorecard.apply.python_engine` or
:mod:`~scorecard.apply.spark`, each ``engine(plan, output, output format, rejects, rejects format,
memory_limit, threads, spill folder, progress, timings) -> (rows in, rejects by reason, DuckDB
connection)`` — and publishes the files (:mod:`~scorecard.apply.publish`); Ctrl-C stops it
(:mod:`~scorecard.apply.interrupt`). The engines give the same rows, column for column:

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
  (:func:`scorecard.apply.duckdb_engine.duckdb_path`).

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

import time
from pathlib import Path

from scorecard import card as cardlib
from scorecard.apply.duckdb_engine import _close, _count_rows, _Poller, _score_duckdb, _summarise
from scorecard.apply.inputs import BatchError, default_rejects_path, file_format, inspect_input
from scorecard.apply.interrupt import _INTERRUPTED
from scorecard.apply.plan import DEFAULT_ID, make_plan, ProgressCallback
from scorecard.apply.publish import _publish, _Staging, BatchResult
from scorecard.apply.python_engine import _score_python
from scorecard.errors import CardError

ENGINES = ("duckdb", "python", "spark")
DEFAULT_CARD = Path(__file__).resolve().parent.parent / "scorecard.json"
DEFAULT_MEMORY_LIMIT = "1GB"
#: The steps each engine reports to a progress callback, in order.
ENGINE_STEPS = {
    "duckdb": ("checking ids", "scoring", "writing rejects", "summarising"),
    "python": ("reading", "checking values", "scoring", "writing rejects", "summarising"),
    "spark": ("starting Spark", "checking and scoring", "writing output", "writing rejects", "summarising"),
}


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
