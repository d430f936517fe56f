"""Distribution drift over a card's own bins: the population stability index and the counts it
compares (applicants per score band, per bin of each feature).

Shared by the evaluate stage (train against test), monitoring (a reference against new
applicants) and promotion (champion against challenger scores). Imports the card format only
(numpy and pandas besides), so `scorecard monitor` starts quickly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scorecard.card import Card


def score_bands(score: pd.Series, width: int, low: int, high: int) -> pd.Series:
    """Band of each score: [start, start + width), starting at a multiple of ``width``."""
    start = int(np.floor(low / width) * width)
    edges = np.arange(start, high + width + 1, width)
    labels = [f"{a}-{b - 1}" for a, b in zip(edges[:-1], edges[1:])]
    return pd.cut(score, edges, right=False, labels=labels)


def psi(expected: np.ndarray, actual: np.ndarray, floor: float = 1e-4) -> float:
    """Population stability index between two distributions over the same bins."""
    e = np.maximum(np.asarray(expected, float) / np.sum(expected), floor)
    a = np.maximum(np.asarray(actual, float) / np.sum(actual), floor)
    return float(np.sum((a - e) * np.log(a / e)))


def band_counts(score: pd.Series, width: int, low: int, high: int) -> np.ndarray:
    """Applicants per score band (:func:`score_bands`), lowest band first, empty bands included."""
    return score_bands(score, width, low, high).value_counts(sort=False).to_numpy()


def bin_counts(card: Card, ids: pd.DataFrame) -> dict[str, np.ndarray]:
    """Applicants per bin of each card feature, from :meth:`Card.bin_ids` (every bin included)."""
    return {f["name"]: np.bincount(ids[f["name"]], minlength=len(f["bins"])) for f in card.features}
