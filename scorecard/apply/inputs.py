"""The batch command's files: their formats (CSV, CSV.gz, Parquet) from their names, the rejects
file's default name, and an input file inspected before it is read (columns, types, rows).

Used by every engine and by :mod:`scorecard.apply.batch`, which runs them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scorecard.apply import csv_dialect
from scorecard.errors import DataValidationError, ScorecardError


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


def _one_line(error: BaseException | str, limit: int = 400) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
