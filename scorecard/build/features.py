"""Derived features, the feature allow-list and the split into training and test samples."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import numpy as np
import pandas as pd

from scorecard.config import DerivedSpec, KeywordGroup, Params, SplitSpec
from scorecard.build.data import ID, INDETERMINATE, POLICY_FLAG, TARGET
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


def normalise_text(value) -> str:
    """Lower case, accents transliterated to ASCII ('Café' -> 'cafe'), every run of other
    characters (punctuation, '&', '/', '-') one space: 'U.S. Army' -> 'u s army'."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    text = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def _keyword_pattern(keyword: str) -> str:
    """A keyword as a regular expression on normalised text: whole words, a trailing '*'
    matching any word ending ('teach*' matches 'teacher' and 'teaching')."""
    prefix = keyword.rstrip().endswith("*")
    words = normalise_text(keyword.rstrip().rstrip("*"))
    if not words:
        raise ValueError(f"keyword {keyword!r} has no letters or digits")
    return r"\b" + re.escape(words) + (r"[a-z0-9]*" if prefix else "") + r"\b"


@lru_cache(maxsize=32)
def _compiled(groups: tuple[tuple[str, tuple[str, ...]], ...]) -> list[tuple[str, re.Pattern]]:
    return [(name, re.compile("|".join(_keyword_pattern(k) for k in keywords))) for name, keywords in groups]


def keyword_classifier(groups: list[KeywordGroup], missing: str = "missing", other: str = "other"):
    """A function from one text to its group: the first group (in the order given) with a
    keyword in the normalised text (:func:`normalise_text`); ``missing`` for an empty or
    missing text, ``other`` when no keyword matches. The one rule for the ETL's frames and the
    service's single applications."""
    compiled = _compiled(tuple((g.name, tuple(g.keywords)) for g in groups))

    def classify(value) -> str:
        normalised = normalise_text(value)
        if not normalised:
            return missing
        for name, pattern in compiled:
            if pattern.search(normalised):
                return name
        return other
    return classify


def keyword_group(text: pd.Series, groups: list[KeywordGroup], missing: str = "missing",
                  other: str = "other") -> pd.Series:
    """The group of each text (:func:`keyword_classifier`)."""
    classify = keyword_classifier(groups, missing, other)
    return pd.Series([classify(v) for v in text], index=text.index, dtype="object")


def derive(frame: pd.DataFrame, name: str, spec: DerivedSpec) -> pd.Series:
    """Compute one derived feature declared in ``features.derived``."""
    columns = [frame[c] for c in spec.inputs]
    if spec.kind == "months_between":
        return months_between(*columns)
    if spec.kind == "ratio":
        return ratio(*columns)
    if spec.kind == "keyword_group":
        return keyword_group(columns[0], spec.groups, spec.missing_group, spec.other_group)
    return employment_years(columns[0], spec.special)


def add_derived(frame: pd.DataFrame, params: Params) -> pd.DataFrame:
    out = frame.copy()
    for name, spec in params.features.derived.items():
        out[name] = derive(out, name, spec)
    return out


def model_frame(frame: pd.DataFrame, params: Params) -> pd.DataFrame:
    """Keys, target and the allow-listed features only: nothing else can reach the model."""
    date = [params.data.date_column] if params.data.date_column else []
    keep = [ID, *date, TARGET, POLICY_FLAG, *params.features.model_features]
    if SAMPLE in frame:
        keep.append(SAMPLE)
    return frame[keep]


def _share(n: int, share: float) -> int:
    """``share`` of ``n`` rows, rounded half up (never Python's round-half-to-even)."""
    return int(np.floor(n * share + 0.5))


def drawn_test(frame: pd.DataFrame, spec: SplitSpec) -> np.ndarray:
    """Which rows a ``random`` or ``stratified`` split puts in the test sample (a boolean array).

    The rows are taken in the order of their applicant id (so that, with ``data.id_column``,
    the same ids give the same split whatever the order of the file) and shuffled with
    ``numpy.random.default_rng(seed)``; the first ``test_share`` of them (rounded half up) are
    the test sample. ``stratified`` draws bads and goods separately (goods first), so that each
    sample's count of bads is within one row of ``test_share`` (or its complement) of the bads.
    """
    order = np.argsort(frame[ID].to_numpy(), kind="stable")
    rng = np.random.default_rng(spec.seed)
    if spec.method == "stratified":
        target = frame[TARGET].to_numpy()[order]
        groups = [order[target == value] for value in (0, 1)]
    else:
        groups = [order]
    test = np.zeros(len(frame), dtype=bool)
    for positions in groups:
        test[rng.permutation(positions)[:_share(len(positions), spec.test_share)]] = True
    if len(frame) and (test.all() or not test.any()):
        raise DataValidationError(
            f"split.test_share {spec.test_share:g} of {len(frame)} rows leaves the "
            f"{'training' if test.all() else 'test'} sample empty; change split.test_share or bring more rows")
    return test


def split(frame: pd.DataFrame, params: Params) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split the rows into the training and the test sample (``split.method``).

    ``time``: out of time on the application date, by the window dates; ``random`` and
    ``stratified``: a seeded draw of ``split.test_share`` of the rows (:func:`drawn_test`).
    Rows whose outcome is indeterminate (a numeric ``data.target.rule``) are excluded first.

    Returns the frame with a :data:`SAMPLE` column ('train', 'test') for kept rows, and the
    exclusions table: one row per reason with its count (zero counts included), each excluded
    row counted once, under the first reason that applies, so that rows in = train + test +
    excluded always holds.
    """
    s = params.split
    reasons: dict[str, pd.Series] = {}
    if INDETERMINATE in frame:
        classes = params.data.target.rule.describe(params.data.target.column)
        reasons[f"indeterminate outcome ({classes['indeterminate']}): neither bad nor good"] = \
            frame[INDETERMINATE].astype(bool)
    if s.method == "time":
        dates = frame[params.data.date_column]
        ts = pd.Timestamp
        reasons.update({
            "application date before the training window": dates < ts(s.train_start),
            "application date between the training and test windows":
                (dates > ts(s.train_end)) & (dates < ts(s.test_start)),
            "application date after the test window": dates > ts(s.test_end),
        })
    excluded = pd.Series(False, index=frame.index)
    counts = []
    for mask in reasons.values():
        mask = mask & ~excluded
        counts.append(int(mask.sum()))
        excluded |= mask
    kept = frame.loc[~excluded].copy()
    if s.method == "time":
        kept[SAMPLE] = np.where(kept[params.data.date_column] <= pd.Timestamp(s.train_end), "train", "test")
    else:
        kept[SAMPLE] = np.where(drawn_test(kept, s), "test", "train")
    exclusions = pd.DataFrame({"reason": list(reasons), "rows": pd.Series(counts, dtype="int64")})
    return kept, exclusions
