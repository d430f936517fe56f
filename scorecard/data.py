"""Loading input files and checking them against the schema declared in ``params.yaml``.

Every check collects all its violations and raises one
:class:`~scorecard.errors.DataValidationError` that names the column, the rule, the number of
offending rows and a few examples with their line numbers in the file. Nothing is dropped
silently: rows are either valid, excluded by a counted reason (see :mod:`scorecard.features`),
or the run stops.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
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
        raise DataValidationError(
            f"{path}: not valid {encoding} text at byte {error.start} (near {bad!r}); "
            "set the file's encoding in params.yaml (e.g. latin-1)"
        ) from None
    if not text.strip():
        raise DataValidationError(f"{path}: the file is empty; expected a header row and data rows")
    try:
        frame = pd.read_csv(
            io.StringIO(text), dtype=str, keep_default_na=False,
            na_values=[""] + list(missing_values or []), on_bad_lines="error",
        )
    except (pd.errors.ParserError, csv.Error) as error:
        raise DataValidationError(f"{path}: malformed CSV: {error}") from None
    if frame.empty:
        raise DataValidationError(f"{path}: the file has a header but no data rows")
    return frame


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
    elif spec.type == "date":
        typed = pd.to_datetime(text.str.strip(), format="%Y-%m-%d", errors="coerce")
        bad_type = present & typed.isna()
        if bad_type.any():
            problems.append(f"column '{name}': expected a date as yyyy-mm-dd; {bad_type.sum()} rows "
                            f"are not: {_examples(text[bad_type])}")
    else:
        typed = text.str.strip()
        if spec.allowed is not None:
            unknown = present & ~typed.isin(spec.allowed)
            if unknown.any():
                problems.append(f"column '{name}': expected one of {spec.allowed}; {unknown.sum()} "
                                f"rows are not: {_examples(text[unknown])}")
    if not spec.nullable:
        missing = typed.isna()
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
    known = target.isin(data.target.bad + data.target.good)
    if (~known & target.notna()).any():
        unexpected = target[~known & target.notna()]
        counts = unexpected.value_counts().to_dict()
        problems.append(
            f"column '{data.target.column}': target rule: expected one of bad {data.target.bad} "
            f"or good {data.target.good}; found {counts}: {_examples(unexpected)}"
        )
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
    frame[TARGET] = target.isin(data.target.bad).astype("int8")
    frame[POLICY_FLAG] = target.isin(data.target.flag_values)
    return frame.reset_index(drop=True)


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
