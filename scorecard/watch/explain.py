"""SHAP explanations in points, tied to the card, and per-applicant reason codes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from scorecard.card import Card
from scorecard.config import Params
from scorecard.build.data import ID, TARGET

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
    from scorecard.build.binning import WOE_FILES
    from scorecard.build.etl import load_processed

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


# -- decisions and example applicants -----------------------------------------------------------
DECISIONS = ("approve", "refer", "decline")


def decisions(scores: pd.DataFrame, applicants: pd.DataFrame, rules) -> pd.DataFrame:
    """The business rules' outcome for every scored applicant.

    Parameters
    ----------
    scores : DataFrame
        ``applicant_id`` and ``score`` (e.g. :func:`explain`'s output).
    applicants : DataFrame
        The same applicants with the fields the policy rules read (``rules.fields``), matched
        on ``applicant_id``.
    rules : scorecard.card.rules.Rules
        The loaded business rules (:func:`scorecard.card.rules.load_rules`).

    Returns
    -------
    DataFrame
        ``applicant_id, score, band, score_decision, decision, policy_rule`` (the id of the
        rule that decided, else None) and ``max_loan_amount``, in the order of ``scores``.
    """
    values = applicants.set_index(ID)[rules.fields].reindex(scores[ID])
    rows = []
    for applicant, score, fields in zip(scores[ID], scores["score"], values.to_dict("records")):
        fields = {k: (None if pd.isna(v) else float(v)) for k, v in fields.items()}
        outcome = rules.evaluate(int(score), fields)
        rows.append({ID: applicant, "score": int(score), "band": outcome.band,
                     "score_decision": outcome.score_decision, "decision": outcome.decision,
                     "policy_rule": outcome.policy_rule.rule if outcome.policy_rule else None,
                     "max_loan_amount": outcome.max_loan_amount})
    out = pd.DataFrame(rows, columns=[ID, "score", "band", "score_decision", "decision", "policy_rule", "max_loan_amount"])
    out["policy_rule"] = out["policy_rule"].astype(object).where(out["policy_rule"].notna(), None)
    return out


def example_applicants(decided: pd.DataFrame) -> pd.DataFrame:
    """One applicant per decision (approve, refer, decline), chosen reproducibly.

    Among the applicants whose decision the score made (no policy rule overrode it), the one
    at the median score of that decision (the lowest id among equals).

    Parameters
    ----------
    decided : DataFrame
        :func:`decisions`' output.

    Returns
    -------
    DataFrame
        The chosen rows of ``decided``, in the order approve, refer, decline (a decision no
        applicant received is left out).
    """
    by_score = decided[decided["policy_rule"].isna()]
    chosen = []
    for decision in DECISIONS:
        part = by_score[by_score["decision"] == decision].sort_values(["score", ID], kind="stable")
        if len(part):
            chosen.append(part.iloc[(len(part) - 1) // 2])
    return pd.DataFrame(chosen).reset_index(drop=True)


#: Without business rules there is no decision to choose examples by: the applicants at these
#: quantiles of the score stand for a low, a middle and a high score.
SCORE_EXAMPLES = (("low score", 0.1), ("middle score", 0.5), ("high score", 0.9))


def example_applicants_by_score(scores: pd.DataFrame) -> pd.DataFrame:
    """Three applicants, at the 10th, 50th and 90th percentile of the score, chosen reproducibly.

    Used when no business rules are configured (``rules.path: null``): no decision exists, so the
    examples span the score range instead. The applicant at a quantile is the one at position
    ``floor(q * (n - 1))`` of the applicants sorted by score, then id (the lowest id among equal
    scores).

    Parameters
    ----------
    scores : DataFrame
        ``applicant_id`` and ``score`` (e.g. :func:`explain`'s output).

    Returns
    -------
    DataFrame
        ``example`` (low, middle or high score), ``quantile``, ``applicant_id``, ``score``; empty
        for no applicant.
    """
    ordered = scores[[ID, "score"]].sort_values(["score", ID], kind="stable").reset_index(drop=True)
    rows = [{"example": name, "quantile": q, ID: ordered[ID].iloc[int(q * (len(ordered) - 1))],
             "score": int(ordered["score"].iloc[int(q * (len(ordered) - 1))])}
            for name, q in SCORE_EXAMPLES if len(ordered)]
    return pd.DataFrame(rows, columns=["example", "quantile", ID, "score"])


def applicant_points(card: Card, applicant: pd.DataFrame, explanation: pd.Series | None = None) -> pd.DataFrame:
    """How one applicant's score adds up: per feature, the value, its bin, the points and
    the points lost against the feature's best bin (the reason ranking).

    Parameters
    ----------
    card : Card
        The card.
    applicant : DataFrame
        One row with the card's features.
    explanation : Series, optional
        The applicant's row of :func:`explain`'s output: adds the SHAP points per feature.

    Returns
    -------
    DataFrame
        ``feature, value, bin, points, best_points, points_lost`` (and ``shap_points``), in
        card order, with a first row for the base points and a last row for the total.
    """
    from scorecard.card import bin_label

    if len(applicant) != 1:
        raise ValueError(f"expected one applicant, got {len(applicant)} rows")
    ids, _ = card.bin_ids(applicant)
    rows = [{"feature": "(base points)", "value": "", "bin": "", "points": card.base_points,
             "best_points": card.base_points, "points_lost": 0}]
    for feature in card.features:
        name = feature["name"]
        b = feature["bins"][int(ids[name].iloc[0])]
        best = max(x["points"] for x in feature["bins"] if x["count"] > 0)
        value = applicant[name].iloc[0]
        row = {"feature": name, "value": "missing" if pd.isna(value) else (f"{value:g}" if isinstance(value, (int, float, np.number)) else str(value)),
               "bin": bin_label(b), "points": b["points"], "best_points": best, "points_lost": best - b["points"]}
        if explanation is not None:
            row["shap_points"] = round(float(explanation[f"shap_{name}"]), 2)
        rows.append(row)
    total = {"feature": "score", "value": "", "bin": "", "points": sum(r["points"] for r in rows),
             "best_points": sum(r["best_points"] for r in rows), "points_lost": sum(r["points_lost"] for r in rows)}
    if explanation is not None:
        total["shap_points"] = round(float(explanation[[f"shap_{f}" for f in card.feature_names]].sum()), 2)
    frame = pd.DataFrame([*rows, total])
    return frame


def reason_table(explanation: pd.Series, n: int) -> pd.DataFrame:
    """The reason codes of one applicant (:func:`explain`'s row): code, text, points lost."""
    rows = [{"rank": k, "reason_code": explanation[f"reason_{k}"], "reason": explanation[f"reason_{k}_text"],
             "points_lost": int(explanation[f"reason_{k}_points_lost"])}
            for k in range(1, n + 1) if f"reason_{k}" in explanation and explanation[f"reason_{k}"] is not None
            and not pd.isna(explanation[f"reason_{k}"])]
    return pd.DataFrame(rows, columns=["rank", "reason_code", "reason", "points_lost"])
