"""Logistic regression on WoE features (statsmodels) and its scaling to integer points."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.stats.outliers_influence import variance_inflation_factor

from scorecard.config import ModelSpec

CONST = "const"


@dataclass
class FittedModel:
    """A statsmodels logit of P(bad) on the WoE of the kept features."""

    features: list[str]
    result: object
    selection_log: pd.DataFrame

    @property
    def intercept(self) -> float:
        return float(self.result.params[CONST])

    def coefficient(self, feature: str) -> float:
        return float(self.result.params[feature])

    def coefficient_table(self) -> pd.DataFrame:
        r = self.result
        ci = r.conf_int()
        table = pd.DataFrame({
            "term": r.params.index,
            "coefficient": r.params.to_numpy(),
            "std_error": r.bse.to_numpy(),
            "z": r.tvalues.to_numpy(),
            "p_value": r.pvalues.to_numpy(),
            "ci_low": ci[0].to_numpy(),
            "ci_high": ci[1].to_numpy(),
        })
        return table

    def predict_log_odds(self, woe: pd.DataFrame) -> np.ndarray:
        """log(P(bad) / P(good)) for rows of WoE values."""
        X = sm.add_constant(woe[self.features], has_constant="add")
        return np.asarray(X.to_numpy() @ self.result.params[[CONST, *self.features]].to_numpy())


def vif_table(woe: pd.DataFrame) -> pd.DataFrame:
    """Variance inflation factor of each column (computed with an intercept)."""
    X = sm.add_constant(woe, has_constant="add").to_numpy()
    return pd.DataFrame({
        "feature": list(woe.columns),
        "vif": [float(variance_inflation_factor(X, i + 1)) for i in range(woe.shape[1])],
    })


def _logit(y: np.ndarray, woe: pd.DataFrame):
    X = sm.add_constant(woe, has_constant="add")
    return sm.Logit(y, X).fit(method="newton", maxiter=100, disp=0)


def fit(woe: pd.DataFrame, y: np.ndarray, spec: ModelSpec) -> FittedModel:
    """Fit the logit and remove features one at a time until every kept feature has the
    expected sign (a higher WoE, i.e. a lower bad rate, must lower the risk), a p-value at
    most ``max_p_value`` and a VIF at most ``max_vif``.

    The order of removal is deterministic: wrong sign first, then the highest p-value, then
    the highest VIF. Each removal is recorded in ``selection_log``.
    """
    features = list(woe.columns)
    log = []
    while features:
        result = _logit(y, woe[features])
        coef, pvalues = result.params[features], result.pvalues[features]
        wrong_sign = coef[coef >= 0]
        if len(wrong_sign):
            worst = pvalues[wrong_sign.index].idxmax()
            log.append({"feature": worst, "reason": "coefficient with the wrong sign",
                        "value": float(coef[worst])})
            features.remove(worst)
            continue
        if pvalues.max() > spec.max_p_value:
            worst = pvalues.idxmax()
            log.append({"feature": worst, "reason": f"p-value above {spec.max_p_value}",
                        "value": float(pvalues[worst])})
            features.remove(worst)
            continue
        if len(features) > 1:
            vifs = vif_table(woe[features]).set_index("feature")["vif"]
            if vifs.max() > spec.max_vif:
                worst = vifs.idxmax()
                log.append({"feature": worst, "reason": f"VIF above {spec.max_vif}",
                            "value": float(vifs[worst])})
                features.remove(worst)
                continue
        return FittedModel(features, result, pd.DataFrame(log, columns=["feature", "reason", "value"]))
    raise ValueError("no feature survived the model's selection rules; check the binning and thresholds")


@dataclass(frozen=True)
class Scaling:
    """Points scaling: score = offset + factor * ln(odds of good)."""

    pdo: float
    base_score: float
    base_odds: float

    @property
    def factor(self) -> float:
        return self.pdo / math.log(2)

    @property
    def offset(self) -> float:
        return self.base_score - self.factor * math.log(self.base_odds)

    def base_points(self, intercept: float) -> int:
        """Integer points every applicant starts from."""
        return round_half_away(self.offset - self.factor * intercept)

    def bin_points(self, coefficient: float, woe: float) -> int:
        """Integer points of a bin: -factor * coefficient * WoE, rounded."""
        return round_half_away(-self.factor * coefficient * woe)

    def points_array(self, coefficient: float, woe: np.ndarray) -> np.ndarray:
        """:meth:`bin_points` for an array of WoE values."""
        return round_half_away_array(-self.factor * coefficient * np.asarray(woe, dtype=float))

    def score_to_probability(self, score) -> np.ndarray:
        """P(bad) implied by a score on this scale."""
        log_odds_good = (np.asarray(score, dtype=float) - self.offset) / self.factor
        return 1.0 / (1.0 + np.exp(log_odds_good))


def round_half_away(value: float) -> int:
    """Round to the nearest integer, halves away from zero (the same in every scorer)."""
    return int(math.floor(abs(value) + 0.5)) * (1 if value >= 0 else -1)


def round_half_away_array(values: np.ndarray) -> np.ndarray:
    """:func:`round_half_away` for an array."""
    values = np.asarray(values, dtype=float)
    return (np.floor(np.abs(values) + 0.5) * np.where(values >= 0, 1, -1)).astype(np.int64)
