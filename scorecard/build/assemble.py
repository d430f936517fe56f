"""The scorecard stage: logit on WoE, scaling to integer points, the exported card."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from scorecard import __version__, card as cardlib
from scorecard.build.binning import WOE_FILES, load_bins
from scorecard.config import Params
from scorecard.build.data import ID, TARGET, resolve, sha256_of
from scorecard.build.etl import split_summary
from scorecard.build.model import FittedModel, Scaling, fit as fit_model, vif_table

MODEL_FILE = "model.json"
POINTS_FILE = "scorecard_points.csv"
SCORES_FILES = {"train": "scores_train.parquet", "test": "scores_test.parquet"}
CARD_PATH = "scorecard/scorecard.json"


def data_inputs(params: Params, root: str | Path = ".") -> list[dict]:
    """Every input file with its sha256 (part of the model version)."""
    files = [params.data.applicants.path] + [s.path for s in params.environment.enabled_sources().values()]
    return [{"path": f, "sha256": sha256_of(resolve(f, root))} for f in files]


def dataset_identity(params: Params, applicants_sha256: str) -> dict:
    """What population the card was built on (``params.dataset``): its identity, and the words
    a reader of the card needs (lender, country, currency); unset words are left out."""
    d = params.dataset
    described = {"name": d.name, "lender": d.lender, "country": d.country, "currency": d.currency,
                 "bad_outcome": d.bad_outcome}
    return {"id": d.identity(applicants_sha256), **{k: v for k, v in described.items() if v is not None}}


def _split_record(params: Params) -> dict:
    """The split, as the card records it: the windows of an out-of-time split (where cards of
    schema 1.0 had them), and the method with its share and seed otherwise."""
    record = split_summary(params)
    if record["method"] == "time":
        return {"train_window": record["train_window"], "test_window": record["test_window"]}
    return {"split": record}


def build_card(params: Params, bins: dict, model: FittedModel, inputs: list[dict], train_summary: dict) -> dict:
    """Assemble the card document from the bins, the fitted model and the scaling."""
    scaling = Scaling(params.model.pdo, params.model.base_score, params.model.base_odds)
    features = []
    for code, name in enumerate(model.features, start=1):
        coefficient = model.coefficient(name)
        spec = bins["features"][name]
        feature_bins = []
        for b in spec["bins"]:
            feature_bins.append({**b, "points": scaling.bin_points(coefficient, b["woe"])})
        entry = {
            "name": name,
            "type": spec["type"],
            "description": params.description(name),
            "reason_code": f"R{code:02d}",
            "reason_text": params.explain.reason_texts[name],
            "coefficient": coefficient,
            "iv": spec["iv"],
            "bins": feature_bins,
        }
        if spec["type"] == "categorical":
            # Unseen categories get the fewest points of the feature: never a better score
            # for a value the card has not learned from.
            worst = min((b for b in feature_bins if b["kind"] == "categories"), key=lambda b: (b["points"], b["id"]))
            entry["unseen"] = {"bin_id": worst["id"], "rule": "lowest_points_category_bin", "flag": True}
        features.append(entry)
    base_points = scaling.base_points(model.intercept)
    low = base_points + sum(min(b["points"] for b in f["bins"]) for f in features)
    high = base_points + sum(max(b["points"] for b in f["bins"]) for f in features)
    version_hash = cardlib.content_hash(params.digest(), *(i["sha256"] for i in inputs), __version__)
    # The points above come from the unrounded fit; the document carries its floats at a stated
    # precision (edges exact) so that the same fit gives the same bytes on every machine.
    return cardlib.round_card_floats({
        "$schema": "scorecard.schema.json",
        "schema_version": cardlib.SCHEMA_VERSION,
        "model_version": version_hash[:16],
        "name": "Personal loan application scorecard",
        "target": {
            "event": "bad",
            "definition": params.data.target.definition(),
            "score_direction": "higher score = lower risk of the event",
        },
        "created_from": {
            "package_version": __version__,
            "params_sha256": params.digest(),
            "data": inputs,
            "dataset": dataset_identity(params, inputs[0]["sha256"]),
            **_split_record(params),
            **train_summary,
        },
        "scaling": {
            "pdo": params.model.pdo,
            "base_score": params.model.base_score,
            "base_odds": params.model.base_odds,
            "factor": scaling.factor,
            "offset": scaling.offset,
            "intercept": model.intercept,
            "base_points": base_points,
            "points_formula": "round_half_away_from_zero(-factor * coefficient * woe)",
            "score_formula": "base_points + sum of the points of each feature's bin",
        },
        "score_range": {"min": low, "max": high},
        "features": features,
    })


def pipeline_points(woe: pd.DataFrame, model: FittedModel, scaling: Scaling) -> pd.DataFrame:
    """Points per feature computed from optbinning's WoE transform (the pipeline's own path,
    independent of the card's bin rules), and the score."""
    points = pd.DataFrame({f: scaling.points_array(model.coefficient(f), woe[f].to_numpy())
                           for f in model.features}, index=woe.index)
    out = points.add_prefix("points_")
    out.insert(0, "score", points.sum(axis=1) + scaling.base_points(model.intercept))
    out.insert(0, TARGET, woe[TARGET].to_numpy())
    out.insert(0, ID, woe[ID].to_numpy())
    return out


@dataclass
class ScorecardResult:
    model: FittedModel
    card: dict
    vif: pd.DataFrame
    scores: dict[str, pd.DataFrame]


def run(params: Params, root: str | Path = ".", processed_dir: str | Path = "data/processed",
        card_path: str | Path | None = CARD_PATH) -> ScorecardResult:
    out = Path(processed_dir)
    bins = load_bins(out)
    woe = {s: pd.read_parquet(out / f) for s, f in WOE_FILES.items()}
    train = woe["train"]
    model = fit_model(train[bins["selected"]], train[TARGET].to_numpy(), params.model)
    scaling = Scaling(params.model.pdo, params.model.base_score, params.model.base_odds)
    summary = {"train_rows": int(len(train)), "train_bad_rate": round(float(train[TARGET].mean()), 6)}
    card = build_card(params, bins, model, data_inputs(params, root), summary)
    cardlib.validate(card)
    if card_path is not None:
        cardlib.write(card, resolve(card_path, root))
    cardlib.points_table(card).to_csv(out / POINTS_FILE, index=False)
    scores = {s: pipeline_points(w, model, scaling) for s, w in woe.items()}
    for sample, frame in scores.items():
        frame.to_parquet(out / SCORES_FILES[sample], index=False)
    vif = vif_table(train[model.features])
    report = {
        "coefficients": model.coefficient_table().to_dict("records"),
        "vif": vif.to_dict("records"),
        "selection_log": model.selection_log.to_dict("records"),
        "candidates": bins["selected"],
    }
    (out / MODEL_FILE).write_text(json.dumps(cardlib.round_floats(report), indent=2) + "\n")
    return ScorecardResult(model, card, vif, scores)
