"""What a batch run will do with one input and one card (:class:`Plan`): the columns it reads and
how, the checks each row must pass and how a rejected row's reason is worded (the same words for
every engine), and the progress callback's type."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from scorecard import card as cardlib
from scorecard.apply import csv_dialect
from scorecard.apply.inputs import BatchError, InputFile
from scorecard.errors import DataValidationError

DEFAULT_ID = "applicant_id"
#: A number as text: optional spaces, sign, digits with an optional point, optional exponent.
#: The same pattern is used by both engines (Python ``re.fullmatch``, DuckDB ``regexp_full_match``).
NUMBER_PATTERN = r" *[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)? *"
#: Values quoted in a reason are cut to this many characters (then "...").
SHOWN_CHARS = csv_dialect.SHOWN_CHARS
#: Lines listed in a duplicate-id reason before "and N more".
SHOWN_LINES = 5
LINE = "line"
REASON = "reason"
_INTERNAL = ("sc_line", "sc_key", "sc_id", "file_row_number")
_NUMBER = re.compile(NUMBER_PATTERN)
#: ``progress(step, fraction)``: ``step`` is one of :data:`scorecard.apply.batch.ENGINE_STEPS`; ``fraction`` is in
#: [0, 1], or None when the step's progress is unknown.
ProgressCallback = Callable[[str, "float | None"], None]


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


def _python_problems(plan: Plan, columns: dict, lines: np.ndarray) -> tuple[list[list[tuple[str, str]]], np.ndarray]:
    """Per row, the list of (kind, text) problems; and which rows have one. The rules the
    DuckDB engine tests in SQL (:func:`scorecard.apply.duckdb_engine._value_checks_sql`); both engines' reasons are these."""
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
