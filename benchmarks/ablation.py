"""Ablation: what each feature group adds to the card's out-of-time AUC and KS.

The card is refitted once with every candidate feature (``params.features.model_features``) and
once per group with that group's features removed from the candidates (drop-one-group): same
ETL output, same binning, selection (IV, sign, p-value, VIF) and scaling as the pipeline's own
stages, the card scored on the 2011 test year by :class:`scorecard.card.Card`. A group's
contribution is the full card's test AUC (KS) minus the AUC (KS) without it; a negative number
means the card does better without the group on the test year.

Every number is deterministic (no sampling; PYTHONHASHSEED=0 as in model_quality.py). The test
year is only measured here, never used to choose anything.

Run from the project root::

    .venv/bin/python benchmarks/ablation.py          # writes reports/benchmarks/ablation.csv
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from sklearn.metrics import roc_auc_score, roc_curve

ROOT = Path(__file__).resolve().parents[1]
SEED = 0
TARGET = "bad"
OUT = Path("reports/benchmarks/ablation.csv")

#: Every candidate feature belongs to exactly one group (a new feature must be placed here).
GROUPS = {
    "profile": ["loan_amnt", "term", "emp_length_years", "home_ownership", "annual_inc",
                "verification_status", "purpose"],
    "credit_history": ["dti", "delinq_2yrs", "credit_history_months", "inq_last_6mths",
                       "mths_since_last_delinq", "mths_since_last_record", "open_acc", "pub_rec",
                       "revol_bal", "revol_util", "total_acc", "pub_rec_bankruptcies"],
    "text": ["emp_title_group"],
    "environment": ["state_unemployment_rate", "state_median_income"],
    "derived_ratios": ["loan_to_income", "income_to_state_median", "open_to_total_acc"],
}
COLUMNS = ["variant", "dropped", "candidates", "card_features", "test_auc", "test_ks",
           "auc_contribution", "ks_contribution"]


def ks(y, risk) -> float:
    fpr, tpr, _ = roc_curve(y, risk)
    return float(np.max(tpr - fpr))


def without(params, root: Path, dropped: list[str], work: Path):
    """The parameters with ``dropped`` removed from the candidates (and from every
    per-feature setting that names them)."""
    from scorecard.config import parse_params

    raw = params.model_dump(mode="json")
    features = raw["features"]
    features["model_features"] = [f for f in features["model_features"] if f not in dropped]
    features["categorical"] = [f for f in features["categorical"] if f not in dropped]
    binning = raw["binning"]
    for section in ("monotonic_trend_by_feature", "special_codes"):
        binning[section] = {k: v for k, v in binning[section].items() if k not in dropped}
    if binning.get("overrides_path"):
        overrides = yaml.safe_load((root / binning["overrides_path"]).read_text(encoding="utf-8")) or {}
        kept = {k: v for k, v in overrides.items() if k not in dropped}
        path = work / "overrides.yaml"
        path.write_text(yaml.safe_dump(kept, sort_keys=False), encoding="utf-8")
        binning["overrides_path"] = str(path)
    return parse_params(raw, source="ablation")


def fit_card(params, root: Path, processed: Path, test: pd.DataFrame):
    """The pipeline's binning and scorecard stages on the shared ETL output; the card's test
    score (higher = safer)."""
    from scorecard import binning, build
    from scorecard.card import Card

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        binning.run(params, root=root, processed_dir=processed)
        built = build.run(params, root=root, processed_dir=processed, card_path=None)
    card = Card(built.card)
    return card, card.score(test).to_numpy()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)

    from scorecard import etl
    from scorecard.config import load_params

    np.random.seed(SEED)
    params = load_params(ROOT / args.params)
    candidates = list(params.features.model_features)
    placed = [f for members in GROUPS.values() for f in members]
    unplaced = [f for f in candidates if f not in placed]
    if unplaced:
        raise SystemExit(f"features not in any ablation group (edit GROUPS): {unplaced}")

    rows = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ablation-") as tmp:
        shared = Path(tmp) / "etl"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = etl.run(params, root=ROOT, out_dir=shared)
        test = result.test
        y = test[TARGET].to_numpy()
        variants = [("all features", [])] + [(f"without {g}", [f for f in members if f in candidates])
                                             for g, members in GROUPS.items()]
        for name, dropped in variants:
            work = Path(tmp) / name.replace(" ", "_")
            work.mkdir()
            for file in (etl.TRAIN_FILE, etl.TEST_FILE):
                shutil.copy(shared / file, work / file)
            variant = without(params, ROOT, dropped, work)
            card, score = fit_card(variant, ROOT, work, test)
            row = {"variant": name, "dropped": " ".join(dropped),
                   "candidates": len(variant.features.model_features),
                   "card_features": " ".join(card.feature_names),
                   "test_auc": round(float(roc_auc_score(y, -score)), 6),
                   "test_ks": round(ks(y, -score), 6)}
            rows.append(row)
            print(f"{name:28s} AUC {row['test_auc']:.5f}  KS {row['test_ks']:.5f}  "
                  f"({len(card.feature_names)} card features)", flush=True)
    table = pd.DataFrame(rows)
    full = table.iloc[0]
    table["auc_contribution"] = (full["test_auc"] - table["test_auc"]).round(6)
    table["ks_contribution"] = (full["test_ks"] - table["test_ks"]).round(6)
    table.loc[0, ["auc_contribution", "ks_contribution"]] = np.nan
    out = ROOT / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    table[COLUMNS].to_csv(out, index=False)
    print()
    print(table[["variant", "test_auc", "test_ks", "auc_contribution", "ks_contribution"]].to_string(index=False))
    print(f"wrote {out} in {time.perf_counter() - started:.0f}s")
    return 0


if __name__ == "__main__":
    if os.environ.get("PYTHONHASHSEED") != str(SEED):   # seed hashing too (set order)
        os.environ["PYTHONHASHSEED"] = str(SEED)
        os.execv(sys.executable, [sys.executable, *sys.argv])
    sys.exit(main())
