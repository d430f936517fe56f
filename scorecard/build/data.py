"""Loading input files and checking them against the schema declared in ``params.yaml``.

Every check collects all its violations and raises one
:class:`~scorecard.errors.DataValidationError` that names the column, the rule, the number of
offending rows and a few examples with their line numbers in the file. Nothing is dropped
silently: rows are either valid, excluded by a counted reason (see :mod:`scorecard.build.features`),
or the run stops.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from scorecard.config import ColumnSpec, FileSpec, Params
from scorecard.errors import DataValidationError

#: Name of the applicant identifier column in every processed table.
ID = "applicant_id"
#: Name of the binary target (1 = bad) and the policy-exception flag.
TARGET = "bad"
POLICY_FLAG = "policy_exception"
#: Column added (only with a numeric ``data.target.rule``) to flag the rows whose outcome is
#: neither bad nor good: they are excluded from both samples, as a counted reason.
INDETERMINATE = "indeterminate"
#: Key of ``DataFrame.attrs`` under which :func:`validate_applicants` lists the file's columns
#: that the schema does not declare (accepted and reported, never read).
IGNORED_COLUMNS = "ignored_columns"
#: Header line is line 1, so the first data row is line 2.
_FIRST_DATA_LINE = 2
_MAX_EXAMPLES = 5


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def resolve(path: str | Path, root: str | Path | None) -> Path:
    path = Path(path)
    return path if path.is_absolute() or root is None else Path(root) / path


def verify_checksum(path: Path, expected: str | None) -> None:
    """Stop when a file's sha256 differs from the one recorded in the parameters."""
    if expected is None:
        return
    found = sha256_of(path)
    if found != expected:
        raise DataValidationError(
            f"{path}: sha256 mismatch: expected {expected} (as recorded in params.yaml), "
            f"found {found}. The file changed: restore it, or record the new sum on purpose."
        )


def read_text_table(path: Path, encoding: str, missing_values: list[str] | None = None) -> pd.DataFrame:
    """Read a CSV (optionally gzip-compressed) with every column as text.

    Only empty cells (and ``missing_values``) are missing: strings such as "n/a" or "NA" stay
    values, so that no category is turned into a gap by accident.
    """
    if not path.is_file():
        raise DataValidationError(f"{path}: file not found")
    raw = path.read_bytes()
    if path.suffix == ".gz":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as error:
            raise DataValidationError(f"{path}: not a valid gzip file ({error})") from None
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as error:
        bad = raw[max(error.start - 20, 0):error.end + 20]
        line = raw.count(b"\n", 0, error.start) + 1
        where = "of the decompressed text " if path.suffix == ".gz" else ""
        raise DataValidationError(
            f"{path}: not valid {encoding} text (the declared encoding) at line {line}, byte {error.start} "
            f"{where}(byte {raw[error.start:error.start + 1]!r} near {bad!r}); set the file's encoding in "
            "params.yaml (e.g. latin-1)"
        ) from None
    if not text.strip():
        raise DataValidationError(f"{path}: the file is empty; expected a header row and data rows")
    header = next(csv.reader(io.StringIO(text.lstrip("\ufeff").split("\n", 1)[0])), [])
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise DataValidationError(
            f"{path}: header rule: every column name must appear once; "
            + ", ".join(f"column '{name}' appears {header.count(name)} times" for name in repeated)
            + ": the file does not say which one holds the value; rename or remove the copies"
        )
    try:
        frame = pd.read_csv(
            io.StringIO(text), dtype=str, keep_default_na=False,
            na_values=[""] + list(missing_values or []), on_bad_lines="error",
        )
    except (pd.errors.ParserError, csv.Error) as error:
        raise DataValidationError(f"{path}: malformed CSV: {_parser_message(error)}") from None
    if frame.empty:
        raise DataValidationError(f"{path}: the file has a header but no data rows")
    return frame


def _parser_message(error: Exception) -> str:
    """pandas' tokenizer error in the user's words: the row, the fields it has, the header's."""
    text = " ".join(str(error).split())
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if found:
        expected, line, saw = found.groups()
        return (f"line {line} has {saw} fields but the header has {expected} (rule: every row has as many "
                f"fields as the header; check for an unquoted comma or a missing quote) [{text}]")
    return text


def _examples(values: pd.Series) -> str:
    shown = ", ".join(
        f"line {index + _FIRST_DATA_LINE}: {value!r}" for index, value in values.head(_MAX_EXAMPLES).items()
    )
    more = f" and {len(values) - _MAX_EXAMPLES} more" if len(values) > _MAX_EXAMPLES else ""
    return shown + more


def _bound(value, kind: str):
    return pd.Timestamp(value) if kind == "date" else float(value)


def coerce_column(name: str, text: pd.Series, spec: ColumnSpec) -> tuple[pd.Series, list[str]]:
    """Convert one text column to its declared type and check its rules.

    Returns the typed column and a list of violation messages (empty when valid).
    """
    problems: list[str] = []
    present = text.notna()
    bad_type = pd.Series(False, index=text.index)
    if spec.type == "numeric":
        typed = pd.to_numeric(text.str.strip(), errors="coerce").astype("float64")
        bad_type = present & typed.isna()
        if bad_type.any():
            problems.append(f"column '{name}': expected a number; {bad_type.sum()} rows are not: "
                            f"{_examples(text[bad_type])}")
        infinite = np.isinf(typed)
        if infinite.any():
            problems.append(f"column '{name}': expected a finite number; {infinite.sum()} rows are "
                            f"infinite: {_examples(text[infinite])}")
            typed = typed.where(~infinite)
            bad_type = bad_type | infinite
    elif spec.type == "date":
        typed = pd.to_datetime(text.str.strip(), format="%Y-%m-%d", errors="coerce")
        bad_type = present & typed.isna()
        if bad_type.any():
            problems.append(f"column '{name}': expected a date as yyyy-mm-dd (a day of the calendar); "
                            f"{bad_type.sum()} rows are not: {_examples(text[bad_type])}")
    else:
        typed = text.str.strip()
        if spec.allowed is not None:
            unknown = present & ~typed.isin(spec.allowed)
            if unknown.any():
                problems.append(f"column '{name}': expected one of {spec.allowed}; {unknown.sum()} "
                                f"rows are not: {_examples(text[unknown])}")
    if not spec.nullable:
        missing = typed.isna() & ~bad_type   # a value of the wrong type is reported above, not as empty
        if missing.any():
            lines = ", ".join(str(i + _FIRST_DATA_LINE) for i in missing[missing].index[:_MAX_EXAMPLES])
            problems.append(f"column '{name}': must not be empty; {missing.sum()} rows are empty "
                            f"(lines {lines})")
    if spec.type not in ("category", "text"):
        checks = [("min", spec.min, "<", ">="), ("max", spec.max, ">", "<="),
                  ("min_exclusive", spec.min_exclusive, "<=", ">")]
        for rule, bound, op, expected in checks:
            if bound is None:
                continue
            limit = _bound(bound, spec.type)
            outside = typed < limit if op == "<" else typed > limit if op == ">" else typed <= limit
            outside = outside.fillna(False).astype(bool)
            if outside.any():
                problems.append(f"column '{name}': rule {rule}: expected values {expected} {bound}; "
                                f"{outside.sum()} rows are not: {_examples(text[outside])}")
    return typed, problems


def load_applicants(params: Params, root: str | Path | None = None, path: str | Path | None = None) -> pd.DataFrame:
    """Load the applicant file, verify its checksum and validate it against the schema.

    Parameters
    ----------
    params : Params
        Checked parameters; ``params.data.columns`` is the schema.
    root : path, optional
        Directory that relative paths in ``params`` are relative to.
    path : path, optional
        Read this file instead of ``params.data.applicants.path`` (the checksum is then not
        checked: it belongs to the declared file).

    Returns
    -------
    DataFrame
        Declared columns only, typed, plus :data:`ID`, :data:`TARGET` and :data:`POLICY_FLAG`.
    """
    spec: FileSpec = params.data.applicants
    file = resolve(path or spec.path, root)
    if path is None:
        verify_checksum(file, spec.sha256)
    text = read_text_table(file, spec.encoding)
    return validate_applicants(text, params, source=str(file))


def validate_applicants(text: pd.DataFrame, params: Params, source: str = "applicants") -> pd.DataFrame:
    """Type and check a text table of applicants (see :func:`load_applicants`)."""
    data = params.data
    missing = [name for name in data.columns if name not in text.columns]
    if data.id_column and data.id_column not in text.columns:
        missing.append(data.id_column)
    if missing:
        raise DataValidationError(
            f"{source}: missing required column(s) {missing}; the file has {len(text.columns)} "
            f"columns, e.g. {list(text.columns[:8])}"
        )
    problems: list[str] = []
    typed = {}
    for name, spec in data.columns.items():
        typed[name], found = coerce_column(name, text[name], spec)
        problems += found
    target = typed[data.target.column]
    if data.target.rule is None:
        known = target.isin(data.target.bad + data.target.good)
        if (~known & target.notna()).any():
            unexpected = target[~known & target.notna()]
            counts = unexpected.value_counts().to_dict()
            problems.append(
                f"column '{data.target.column}': target rule: expected one of bad {data.target.bad} "
                f"or good {data.target.good}; found {counts}: {_examples(unexpected)}"
            )
    if data.columns[data.target.column].nullable and target.isna().any():
        # (a column declared nullable: false has already been reported as empty above)
        lines = ", ".join(str(i + _FIRST_DATA_LINE) for i in target[target.isna()].index[:_MAX_EXAMPLES])
        problems.append(f"column '{data.target.column}': target rule: every row needs an outcome (data.target); "
                        f"{target.isna().sum()} rows are empty (lines {lines})")
    problems += _date_order_problems(typed, params)
    if data.id_column:
        ids = text[data.id_column]
        duplicated = ids[ids.duplicated(keep=False) & ids.notna()]
        if len(duplicated) or ids.isna().any():
            problems.append(f"column '{data.id_column}': expected unique, non-empty applicant ids; "
                            f"{len(duplicated)} rows share an id, {ids.isna().sum()} are empty: "
                            f"{_examples(duplicated)}")
    if problems:
        raise DataValidationError(f"{source}: {len(problems)} schema violation(s)\n  " + "\n  ".join(problems))
    frame = pd.DataFrame(typed, index=text.index)
    frame.insert(0, ID, text[data.id_column].to_numpy() if data.id_column else np.arange(1, len(text) + 1))
    if data.target.rule is None:
        frame[TARGET] = target.isin(data.target.bad).astype("int8")
    else:
        # Numeric rule: bad from bad_from up; the values from good_below up to bad_from are
        # indeterminate (TARGET 0 here, flagged in INDETERMINATE): the split excludes them.
        frame[TARGET] = (target >= data.target.rule.bad_from).astype("int8")
        frame[INDETERMINATE] = ((target >= data.target.rule.good_below)
                                & (target < data.target.rule.bad_from)).to_numpy()
    frame[POLICY_FLAG] = target.isin(data.target.flag_values)
    frame = frame.reset_index(drop=True)
    # Accepted, never read: the columns the schema does not declare (see ignored_columns).
    frame.attrs[IGNORED_COLUMNS] = ignored_columns(text.columns, params)
    return frame


def ignored_columns(columns, params: Params) -> list[str]:
    """The columns of a file that the schema does not declare: accepted, reported, never read."""
    used = set(params.data.columns) | ({params.data.id_column} if params.data.id_column else set())
    return [str(c) for c in columns if c not in used]


def _date_order_problems(typed: dict[str, pd.Series], params: Params) -> list[str]:
    """Dates that must come in order: the start of every ``months_between`` feature (e.g. the
    earliest credit line) must not be after its end (the application date)."""
    problems = []
    for name, spec in params.features.derived.items():
        if spec.kind != "months_between" or len(spec.inputs) != 2:
            continue
        start, end = spec.inputs
        if start not in typed or end not in typed:
            continue
        after = (typed[start] > typed[end]).fillna(False).astype(bool)
        if after.any():
            shown = ", ".join(
                f"line {i + _FIRST_DATA_LINE}: {start} {typed[start][i]:%Y-%m-%d} after {end} {typed[end][i]:%Y-%m-%d}"
                for i in after[after].index[:_MAX_EXAMPLES])
            more = f" and {after.sum() - _MAX_EXAMPLES} more" if after.sum() > _MAX_EXAMPLES else ""
            problems.append(f"column '{start}': rule {start} <= {end} (feature '{name}' counts the months "
                            f"between them): {after.sum()} rows are not: {shown}{more}")
    return problems


def schema_table(params: Params) -> pd.DataFrame:
    """The declared schema as a table for the report."""
    rows = []
    for name, spec in params.data.columns.items():
        rule = []
        if spec.allowed is not None:
            rule.append("one of " + ", ".join(spec.allowed))
        for label, value in (("≥", spec.min), ("≤", spec.max), (">", spec.min_exclusive)):
            if value is not None:
                shown = f"{int(value):,}" if isinstance(value, float) and value.is_integer() else value
                rule.append(f"{label} {shown}")
        rows.append({"column": name, "type": spec.type, "may be empty": spec.nullable,
                     "rule": "; ".join(rule), "description": spec.description})
    return pd.DataFrame(rows)
