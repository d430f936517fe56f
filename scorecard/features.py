"""Derived features, the feature allow-list and the out-of-time split."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from scorecard.config import DerivedSpec, Params
from scorecard.data import ID, POLICY_FLAG, TARGET
from scorecard.errors import DataValidationError

#: Column added by :func:`split` naming the sample of each row.
SAMPLE = "sample"


def months_between(start: pd.Series, end: pd.Series) -> pd.Series:
    """Whole calendar months from ``start`` to ``end`` (missing when either is missing)."""
    months = (end.dt.year - start.dt.year) * 12 + (end.dt.month - start.dt.month)
    return months.astype("float64")


def ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """``numerator / denominator``, missing where the denominator is missing or zero."""
    denominator = denominator.where(denominator != 0)
    return (numerator / denominator).astype("float64")


def employment_years(text: pd.Series, special: dict[str, float]) -> pd.Series:
    """'< 1 year' -> 0, '1 year' -> 1, ..., '10+ years' -> 10; ``special`` maps other values."""
    def parse(value):
        if pd.isna(value):
            return np.nan
        if value in special:
            return special[value]
        if value.strip().startswith("<"):
            return 0.0
        match = re.match(r"\s*(\d+)", value)
        if not match:
            raise DataValidationError(
                f"employment length: cannot read {value!r}; expected '< 1 year', 'N years', "
                f"'10+ years' or one of the special values {list(special)}"
            )
        return float(match.group(1))
    return text.map(parse).astype("float64")


def derive(frame: pd.DataFrame, name: str, spec: DerivedSpec) -> pd.Series:
    """Compute one derived feature declared in ``features.derived``."""
    columns = [frame[c] for c in spec.inputs]
    if spec.kind == "months_between":
        return months_between(*columns)
    if spec.kind == "ratio":
        return ratio(*columns)
    return employment_years(columns[0], spec.special)


def add_derived(frame: pd.DataFrame, params: Params) -> pd.DataFrame:
    out = frame.copy()
    for name, spec in params.features.derived.items():
        out[name] = derive(out, name, spec)
    return out


def model_frame(frame: pd.DataFrame, params: Params) -> pd.DataFrame:
    """Keys, target and the allow-listed features only: nothing else can reach the model."""
    keep = [ID, params.data.date_column, TARGET, POLICY_FLAG, *params.features.model_features]
    if SAMPLE in frame:
        keep.append(SAMPLE)
    return frame[keep]


def split(frame: pd.DataFrame, params: Params) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Out-of-time split on the application date.

    Returns the frame with a :data:`SAMPLE` column ('train', 'test') for kept rows, and the
    exclusions table: one row per reason with its count (zero counts included), so that
    rows in = train + test + excluded always holds.
    """
    dates = frame[params.data.date_column]
    s = params.split
    ts = pd.Timestamp
    reasons = {
        "application date before the training window": dates < ts(s.train_start),
        "application date between the training and test windows":
            (dates > ts(s.train_end)) & (dates < ts(s.test_start)),
        "application date after the test window": dates > ts(s.test_end),
    }
    excluded = pd.Series(False, index=frame.index)
    for mask in reasons.values():
        excluded |= mask
    kept = frame.loc[~excluded].copy()
    kept[SAMPLE] = np.where(kept[params.data.date_column] <= ts(s.train_end), "train", "test")
    exclusions = pd.DataFrame({"reason": list(reasons), "rows": [int(m.sum()) for m in reasons.values()]})
    return kept, exclusions
