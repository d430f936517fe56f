"""The DuckDB engine (the default): the input scanned by an embedded DuckDB, checked with SQL,
scored by the card's compact SQL and written with ``COPY ... TO``, streaming any size within
``memory_limit``. Also the SQL pieces the other engines reuse: reading the input, wording the
rejects, summarising the written files (every engine's result is read back through DuckDB)."""

from __future__ import annotations

import hashlib
import math
import os
import re
import shutil
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np

from scorecard import card as cardlib
from scorecard.apply import csv_dialect
from scorecard.apply.inputs import _one_line, _parquet_metadata, BatchError, FileFormat
from scorecard.apply.interrupt import _ACTIVE, _ACTIVE_LOCK, _check_interrupted
from scorecard.apply.plan import _python_problems, EXACT_INTEGER, LINE, NUMBER_PATTERN, Plan, ProgressCallback, REASON

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


def _duckdb_message(error: BaseException) -> str:
    """The useful part of a DuckDB error: drop the 'Possible fixes' and reader settings."""
    text = str(error)
    for marker in ("Possible fix", "Possible Solution", "\n  file ="):
        if marker in text:
            text = text[: text.index(marker)]
    return _one_line(text)


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
    :func:`scorecard.apply.plan._python_problems`, which words the reasons of the rows they find. Checks the
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
       rejected rows, whose reasons :func:`scorecard.apply.plan._python_problems` words as for the Python engine.
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
    are worded by :func:`scorecard.apply.plan._python_problems` (so every engine gives the same text), which must
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
