"""Drift monitoring: do new applicants still look like the ones the card was developed on?

The card is compared with its **development sample** (by default ``data/processed/train.parquet``,
the applicants it was fitted on) on two kinds of stability index, both computed with
:func:`scorecard.watch.drift.psi` over the card's own bins:

* **PSI of the score**, over the score bands of the evaluate stage (:func:`scorecard.watch.drift.score_bands`,
  ``evaluate.band_width`` points wide, across the card's score range);
* **CSI of each card feature**, over the feature's bins in the card (missing and special bins
  included), so the index measures exactly the shifts that move points.

Each index gets a status from the ``monitoring`` thresholds of ``params.yaml``: ``ok`` below
``*_warn``, ``warn`` from ``*_warn``, ``alert`` from ``*_alert``. :func:`stability_by_month`
gives the same table for each month of an application-date column.

``scorecard monitor NEW_APPLICANTS`` (:mod:`scorecard.cli`) runs :func:`run` and prints the
tables. The input must already carry the card's features, as for ``scorecard score``; a
missing column, a text that is not a number in a numeric feature or an unreadable date stops
the run with a message naming the column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from scorecard.apply import batch
from scorecard.apply.plan import NUMBER_PATTERN
from scorecard.card import Card
from scorecard.config import MonitoringSpec
from scorecard.errors import DataValidationError
from scorecard.watch.drift import band_counts, bin_counts, psi

STATUSES = ("ok", "warn", "alert")
DEFAULT_REFERENCE = Path("data/processed/train.parquet")
DEFAULT_BAND_WIDTH = 20
SCORE = "score"
_DIGITS = 6
_NUMBER = re.compile(NUMBER_PATTERN)
_SHOWN = 3
#: The columns of :func:`stability_by_month` (also of an empty table).
BY_MONTH_COLUMNS = ["month", "applicants", "variable", "measure", "value", "status"]
#: Why there is no month-by-month view when ``params.yaml`` declares no application date.
NO_DATE_REASON = ("data.date_column is null (the applicant file has no application date), so there is no "
                  "month to group the applicants by")


def status(value: float, warn: float, alert: float) -> str:
    """``"ok"``, ``"warn"`` or ``"alert"`` for a stability index.

    Parameters
    ----------
    value : float
        The PSI or CSI.
    warn, alert : float
        Thresholds, ``warn < alert``: a value at or above a threshold reaches its status.

    Returns
    -------
    str
        One of :data:`STATUSES`.
    """
    if value >= alert:
        return "alert"
    if value >= warn:
        return "warn"
    return "ok"


def worst(statuses) -> str:
    """The most severe of some statuses (``"ok"`` when there are none)."""
    return max(statuses, key=STATUSES.index, default="ok")


@dataclass(frozen=True)
class Distribution:
    """How a sample spreads over the card's score bands and feature bins.

    Attributes
    ----------
    rows : int
        Applicants in the sample.
    score : numpy.ndarray
        Applicants per score band.
    bins : dict of str to numpy.ndarray
        Per card feature, applicants per bin (in the card's bin order).
    """

    rows: int
    score: np.ndarray
    bins: dict[str, np.ndarray]


def _bands(card: Card, width: int) -> tuple[int, int, int]:
    return width, card.document["score_range"]["min"], card.document["score_range"]["max"]


def distribution(card: Card, frame: pd.DataFrame, width: int = DEFAULT_BAND_WIDTH) -> Distribution:
    """Score bands and feature bins of ``frame`` under ``card``.

    Parameters
    ----------
    card : Card
        The card that scores and bins the applicants.
    frame : pandas.DataFrame
        Applicants with every card feature.
    width : int
        Width of a score band in points.

    Returns
    -------
    Distribution
    """
    ids, _ = card.bin_ids(frame)
    return Distribution(len(frame), band_counts(card.score(frame), *_bands(card, width)), bin_counts(card, ids))


def compare(card: Card, expected: Distribution, actual: Distribution, thresholds: MonitoringSpec) -> pd.DataFrame:
    """PSI of the score and CSI of every card feature of ``actual`` against ``expected``.

    Parameters
    ----------
    card : Card
        The card whose bins both distributions use.
    expected, actual : Distribution
        The development (reference) sample and the new applicants.
    thresholds : MonitoringSpec
        Warn and alert thresholds.

    Returns
    -------
    pandas.DataFrame
        One row for the score, then one per card feature (card order): ``variable``,
        ``measure`` (``"psi"`` or ``"csi"``), ``value`` (rounded to 6 digits) and ``status``.
    """
    value = round(psi(expected.score, actual.score), _DIGITS)
    rows = [{"variable": SCORE, "measure": "psi", "value": value,
             "status": status(value, thresholds.psi_warn, thresholds.psi_alert)}]
    for name in card.feature_names:
        value = round(psi(expected.bins[name], actual.bins[name]), _DIGITS)
        rows.append({"variable": name, "measure": "csi", "value": value,
                     "status": status(value, thresholds.csi_warn, thresholds.csi_alert)})
    return pd.DataFrame(rows, columns=["variable", "measure", "value", "status"])


def months_of(frame: pd.DataFrame, column: str, source: str = "applicants") -> pd.Series:
    """The calendar month (``"YYYY-MM"``) of each row's date in ``column``.

    Raises
    ------
    DataValidationError
        The column is missing, or holds an empty value or text that is not a date.
    """
    if column not in frame.columns:
        raise DataValidationError(f"{source}: no column '{column}' to group by month; the file has "
                                  f"{list(frame.columns)[:12]}")
    values = frame[column]
    dates = values if pd.api.types.is_datetime64_any_dtype(values) else pd.to_datetime(
        values.astype("string").str.strip(), errors="coerce", format="ISO8601")
    bad = dates.isna().to_numpy()
    if bad.any():
        examples = [None if pd.isna(v) else str(v) for v in values[bad].head(_SHOWN)]
        raise DataValidationError(f"{source}: column '{column}': expected a date (yyyy-mm-dd) on every row, got "
                                  f"{examples} ({int(bad.sum()):,} rows)")
    return dates.dt.strftime("%Y-%m")


def stability_by_month(card: Card, expected: Distribution, frame: pd.DataFrame, month_column: str,
                       thresholds: MonitoringSpec, width: int = DEFAULT_BAND_WIDTH) -> pd.DataFrame:
    """:func:`compare` for each calendar month of ``month_column``.

    Parameters
    ----------
    card : Card
        The card.
    expected : Distribution
        The development sample (:func:`distribution`).
    frame : pandas.DataFrame
        The new applicants, with the card's features and ``month_column``.
    month_column : str
        The application date (``datetime64`` or ``yyyy-mm-dd`` text).
    thresholds : MonitoringSpec
        Warn and alert thresholds.
    width : int
        Score band width in points.

    Returns
    -------
    pandas.DataFrame
        Long format, months in order, then the rows of :func:`compare`: ``month``
        (``"YYYY-MM"``), ``applicants``, ``variable``, ``measure``, ``value``, ``status``.
    """
    months = months_of(frame, month_column)
    ids, _ = card.bin_ids(frame)
    scores = card.score(frame)
    parts = []
    for month in sorted(months.unique()):
        mask = (months == month).to_numpy()
        actual = Distribution(int(mask.sum()), band_counts(scores[mask], *_bands(card, width)),
                              bin_counts(card, ids[mask]))
        table = compare(card, expected, actual, thresholds)
        table.insert(0, "applicants", actual.rows)
        table.insert(0, "month", month)
        parts.append(table)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=BY_MONTH_COLUMNS)


def month_summary(by_month: pd.DataFrame) -> pd.DataFrame:
    """One line per month from :func:`stability_by_month`: applicants, score PSI and its status,
    the feature with the largest CSI and its value, and the month's worst status."""
    rows = []
    for month, part in by_month.groupby("month", sort=True):
        score = part[part["variable"] == SCORE].iloc[0]
        features = part[part["variable"] != SCORE]
        top = features.loc[features["value"].idxmax()] if len(features) else None
        rows.append({"month": month, "applicants": int(part["applicants"].iloc[0]),
                     "psi_score": score["value"], "psi_status": score["status"],
                     "csi_max_feature": None if top is None else top["variable"],
                     "csi_max": None if top is None else top["value"],
                     "status": worst(part["status"])})
    return pd.DataFrame(rows, columns=["month", "applicants", "psi_score", "psi_status", "csi_max_feature",
                                       "csi_max", "status"])


# -- reading applicant files ------------------------------------------------------------------
def _examples_with_lines(values: pd.Series, mask: np.ndarray, first_line: int) -> str:
    positions = np.flatnonzero(mask)[:_SHOWN]
    shown = ", ".join(f"{values.iloc[p]!r} (line {p + first_line})" for p in positions)
    more = f" and {int(mask.sum()) - len(positions):,} more" if mask.sum() > len(positions) else ""
    return shown + more


def read_applicants(path: str | Path, card: Card, extra_columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """Read the card's features (and ``extra_columns``) from a CSV or Parquet file, checked.

    The file is read as ``scorecard score`` reads it (:func:`scorecard.apply.inputs.inspect_input`):
    in a CSV every cell is text and only an empty cell is missing; a number is written as
    ``[+-]digits[.digits][e[+-]digits]``. Unlike ``score``, which sets bad rows aside, the
    monitor needs every row: a bad value stops it.

    Parameters
    ----------
    path : str or Path
        ``.csv``, ``.csv.gz`` or ``.parquet``.
    card : Card
        The card whose features are needed.
    extra_columns : tuple of str
        Other columns to read (e.g. the application date).

    Returns
    -------
    pandas.DataFrame
        The needed columns: numeric features as float64, categorical ones as given.

    Raises
    ------
    DataValidationError
        The file is missing, empty or unreadable; a needed column is missing, appears twice or
        has an unusable type; a numeric feature holds text that is not a finite number.
    batch.BatchError
        The file type is not supported.
    """
    source = batch.inspect_input(path)
    path = source.path
    needed = list(dict.fromkeys([*card.feature_names, *extra_columns]))
    missing = [c for c in needed if c not in source.columns]
    if missing:
        raise DataValidationError(f"{path}: missing required column(s) {missing}; the card {card.version} needs "
                                  f"the features {card.feature_names}" + (f" and {list(extra_columns)}"
                                                                          if extra_columns else ""))
    twice = [c for c in needed if source.columns.count(c) > 1]
    if twice:
        raise DataValidationError(f"{path}: column '{twice[0]}' appears {source.columns.count(twice[0])} times in "
                                  "the header; a required column must appear once")
    numeric = [f["name"] for f in card.features if f["type"] == "numeric"]
    for f in card.features:
        kind = source.kinds[f["name"]]
        allowed = {"text", "integer", "floating", "decimal", "null"} if f["type"] == "numeric" else {
            "text", "integer", "floating", "null"}
        if kind not in allowed:
            wanted = "numbers (or text holding numbers)" if f["type"] == "numeric" else "text or numbers"
            raise DataValidationError(f"{path}: column '{f['name']}': expected {wanted}, the file stores "
                                      f"{source.types[f['name']]}")
    if source.format.kind == "parquet":
        try:
            frame = pd.read_parquet(path, columns=needed)
        except Exception as error:  # pyarrow raises several kinds for a damaged file
            raise DataValidationError(f"{path}: cannot read the Parquet file ({error})") from None
        first_line = 1
    else:
        try:
            frame = pd.read_csv(path, usecols=needed, dtype=str, keep_default_na=False, encoding="utf-8-sig",
                                compression="gzip" if source.format.compression else None)
        except (ValueError, OSError, UnicodeDecodeError) as error:  # ParserError is a ValueError
            raise DataValidationError(f"{path}: cannot read the CSV file ({' '.join(str(error).split())})") from None
        frame = frame.mask(frame == "", None)
        first_line = 2
    for name in numeric:
        column = frame[name]
        if source.kinds[name] == "text":
            text = column.astype(object)
            present = text.notna().to_numpy()
            good = np.array([bool(_NUMBER.fullmatch(v)) if p else True for v, p in zip(text, present)])
            if not good.all():
                raise DataValidationError(
                    f"{path}: column '{name}': expected a number, got "
                    f"{_examples_with_lines(text, ~good, first_line)} ({int((~good).sum()):,} rows); "
                    "`scorecard score` lists every such row in its rejects file")
            values = pd.to_numeric(text.where(present, None).str.strip(" "), errors="coerce").astype("float64")
        else:
            values = pd.to_numeric(column, errors="coerce").astype("float64")
        infinite = np.isinf(values.to_numpy())
        if infinite.any():
            raise DataValidationError(f"{path}: column '{name}': expected a finite number, got "
                                      f"{_examples_with_lines(column, infinite, first_line)}")
        frame[name] = values
    return frame


# -- one monitoring run -----------------------------------------------------------------------
@dataclass
class MonitorResult:
    """What :func:`run` found.

    Attributes
    ----------
    card_name, card_version : str
        The card.
    input, reference : Path
        The new applicants and the development sample.
    rows, reference_rows : int
        Applicants in each.
    reference_matches_card : bool
        The reference's bin counts are exactly the card's training counts (``count`` of each
        bin): the reference is the card's own development sample.
    thresholds : MonitoringSpec
        The thresholds used.
    band_width : int
        Score band width.
    overall : pandas.DataFrame
        :func:`compare` over all the new applicants.
    by_month : pandas.DataFrame or None
        :func:`stability_by_month`, when a month column was given.
    month_column : str or None
        That column.
    by_month_absent : str or None
        Why there is no month-by-month view (e.g. :data:`NO_DATE_REASON`), when one was
        expected but cannot be given; also among ``notes``.
    notes : list of str
        What the reader should know about the comparison.
    """

    card_name: str
    card_version: str
    input: Path
    reference: Path
    rows: int
    reference_rows: int
    reference_matches_card: bool
    thresholds: MonitoringSpec
    band_width: int
    overall: pd.DataFrame
    by_month: pd.DataFrame | None = None
    month_column: str | None = None
    by_month_absent: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        """The worst status over every line (and every month)."""
        statuses = list(self.overall["status"])
        if self.by_month is not None:
            statuses += list(self.by_month["status"])
        return worst(statuses)

    def to_dict(self) -> dict:
        """Plain data for ``--json`` and the daily report."""
        out = {
            "card": {"name": self.card_name, "model_version": self.card_version},
            "input": str(self.input), "rows": self.rows,
            "reference": str(self.reference), "reference_rows": self.reference_rows,
            "reference_matches_card": self.reference_matches_card,
            "thresholds": self.thresholds.model_dump(), "band_width": self.band_width,
            "status": self.status,
            "overall": self.overall.to_dict(orient="records"),
            "notes": list(self.notes),
        }
        if self.by_month is not None:
            out["month_column"] = self.month_column
            out["by_month"] = month_summary(self.by_month).to_dict(orient="records")
            out["by_month_detail"] = self.by_month.to_dict(orient="records")
        elif self.by_month_absent is not None:
            out["by_month_absent"] = self.by_month_absent
        return out


def matches_card(card: Card, reference: Distribution) -> bool:
    """Whether ``reference`` has exactly the card's training count in every bin."""
    return all(np.array_equal(reference.bins[f["name"]], [b["count"] for b in f["bins"]]) for f in card.features)


def run(applicants: str | Path, card: Card, reference: str | Path = DEFAULT_REFERENCE,
        thresholds: MonitoringSpec | None = None, band_width: int = DEFAULT_BAND_WIDTH,
        month_column: str | None = None, no_month_reason: str | None = None) -> MonitorResult:
    """Score PSI and feature CSI of a file of new applicants against the development sample.

    Parameters
    ----------
    applicants : str or Path
        New applicants (CSV or Parquet) with every card feature, and ``month_column`` if given.
    card : Card
        The card.
    reference : str or Path
        The development sample (default ``data/processed/train.parquet``).
    thresholds : MonitoringSpec, optional
        Default: ``MonitoringSpec()`` (0.1 / 0.25).
    band_width : int
        Score band width in points (``evaluate.band_width``).
    month_column : str, optional
        Also compare month by month on this date column.
    no_month_reason : str, optional
        Without ``month_column``: why there is no month-by-month view (e.g.
        :data:`NO_DATE_REASON` when ``params.yaml`` declares no application date). The
        overall indices are still given; the reason is recorded in ``by_month_absent`` and as
        a note. Ignored when ``month_column`` is given.

    Returns
    -------
    MonitorResult
    """
    thresholds = thresholds or MonitoringSpec()
    new = read_applicants(applicants, card, (month_column,) if month_column else ())
    if month_column:
        months_of(new, month_column, source=str(applicants))  # a bad date stops the run here
    ref_frame = read_applicants(reference, card)
    expected = distribution(card, ref_frame, band_width)
    actual = distribution(card, new, band_width)
    result = MonitorResult(
        card_name=card.document.get("name", ""), card_version=card.version, input=Path(applicants),
        reference=Path(reference), rows=actual.rows, reference_rows=expected.rows,
        reference_matches_card=matches_card(card, expected), thresholds=thresholds, band_width=band_width,
        overall=compare(card, expected, actual, thresholds), month_column=month_column)
    if month_column:
        result.by_month = stability_by_month(card, expected, new, month_column, thresholds, band_width)
    elif no_month_reason:
        result.by_month_absent = no_month_reason
        result.notes.append(f"no month-by-month view: {no_month_reason}")
    if not result.reference_matches_card:
        result.notes.append(f"the reference {reference} is not the card's development sample (its bin counts "
                            "differ from the card's): the indices compare with another population")
    return result
