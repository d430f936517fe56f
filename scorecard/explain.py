"""SHAP explanations in points, tied to the card, and per-applicant reason codes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from scorecard.card import Card
from scorecard.config import Params
from scorecard.data import ID, TARGET

EXPLANATIONS_FILE = "explanations.parquet"


def shap_points(card: Card, woe: pd.DataFrame, background: pd.DataFrame) -> tuple[pd.DataFrame, float]:
    """SHAP values of the card's logit (``shap.LinearExplainer``), converted to points.

    The logit gives log-odds of bad; the card's scale is ``-factor`` points per unit of
    log-odds, so a feature's SHAP value in points is ``-factor * shap``. For this linear
    model each equals the feature's unrounded points minus their mean over the background,
    and ``expected points + sum of SHAP points`` is the unrounded score.

    Returns
    -------
    shap : DataFrame
        One column per card feature, in points.
    expected : float
        The expected (average) unrounded score over the background sample.
    """
    import shap

    names = card.feature_names
    coefficients = np.array([f["coefficient"] for f in card.features])
    intercept = card.document["scaling"]["intercept"]
    explainer = shap.LinearExplainer((coefficients, intercept), shap.maskers.Independent(background[names].to_numpy(), max_samples=len(background)))
    values = explainer.shap_values(woe[names].to_numpy())
    factor, offset = card.document["scaling"]["factor"], card.document["scaling"]["offset"]
    expected = float(offset - factor * np.asarray(explainer.expected_value).item())
    return pd.DataFrame(-factor * values, columns=names, index=woe.index), expected


def explain(card: Card, test: pd.DataFrame, woe_test: pd.DataFrame, woe_train: pd.DataFrame,
            params: Params) -> tuple[pd.DataFrame, float]:
    """Per applicant: score, points and SHAP points per feature, and the reason codes."""
    rng = np.random.default_rng(params.explain.seed)
    size = min(params.explain.sample_size, len(woe_train))
    background = woe_train.iloc[np.sort(rng.choice(len(woe_train), size=size, replace=False))]
    shap_values, expected = shap_points(card, woe_test, background)
    applied = card.apply(test, params.explain.n_reasons)
    out = pd.concat([
        test[[ID, TARGET]].reset_index(drop=True),
        applied.reset_index(drop=True),
        shap_values.add_prefix("shap_").reset_index(drop=True),
    ], axis=1)
    out["shap_expected_score"] = expected
    return out, expected


def run(params: Params, card: Card, processed_dir: str | Path = "data/processed") -> pd.DataFrame:
    """The explain stage: writes ``explanations.parquet`` for the out-of-time test sample."""
    from scorecard.binning import WOE_FILES
    from scorecard.etl import load_processed

    out = Path(processed_dir)
    _, test = load_processed(out)
    woe = {s: pd.read_parquet(out / f) for s, f in WOE_FILES.items()}
    explanations, _ = explain(card, test, woe["test"], woe["train"], params)
    explanations.to_parquet(out / EXPLANATIONS_FILE, index=False)
    return explanations


def shap_summary(explanations: pd.DataFrame, card: Card) -> pd.DataFrame:
    """Mean absolute SHAP value in points per feature, largest first."""
    rows = [{"feature": f, "mean_abs_shap_points": float(explanations[f"shap_{f}"].abs().mean())}
            for f in card.feature_names]
    return pd.DataFrame(rows).sort_values("mean_abs_shap_points", ascending=False).reset_index(drop=True)
