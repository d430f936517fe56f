"""Ablation: what each feature group adds to the card's out-of-time AUC and KS.

The card is refitted once with every candidate feature (``params.features.model_features``) and
once per group with that group's features removed from the candidates (drop-one-group): same
ETL output, same binning, selection (IV, sign, p-value, VIF) and scaling as the pipeline's own
stages, the card scored on the test sample of the split ``params.yaml`` declares by
:class:`scorecard.card.Card`. A group's
contribution is the full card's test AUC (KS) minus the AUC (KS) without it; a negative number
means the card does better without the group on the test sample. A candidate that no group
lists (another lender's own field) is dropped with the others in the group ``ungrouped``; a group
with no candidate in the parameters is not run.

Every number is deterministic (no sampling; PYTHONHASHSEED=0 as in model_quality.py). The test
sample is only measured here, never used to choose anything. ``ablation.json`` beside the CSV
records the data and parameters the results belong to (the Compared page checks them).

Run from the project root::

    .venv/bin/python benchmarks/ablation.py          # writes reports/benchmarks/ablation.csv (+ .json)
    .venv/bin/python benchmarks/ablation.py --params other.yaml --out /tmp/ablation.csv
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
sys.path.insert(0, str(Path(__file__).resolve().parent))
SEED = 0
TARGET = "bad"
OUT = Path("reports/benchmarks/ablation.csv")

#: The groups of the project's candidates (a new feature should be placed here; a candidate no
#: group lists, e.g. another lender's own field, is ablated with the others in "ungrouped").
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


def groups_of(candidates: list[str]) -> dict[str, list[str]]:
    """:data:`GROUPS` restricted to ``candidates`` (groups left empty are left out), and the
    candidates no group lists in ``ungrouped``."""
    groups = {g: [f for f in members if f in candidates] for g, members in GROUPS.items()}
    groups = {g: members for g, members in groups.items() if members}
    placed = {f for members in groups.values() for f in members}
    unplaced = [f for f in candidates if f not in placed]
    if unplaced:
        print(f"candidates in no ablation group (dropped together as 'ungrouped'): {unplaced}", flush=True)
        groups["ungrouped"] = unplaced
    return groups


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
    from scorecard.build import binning, assemble
    from scorecard.card import Card

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        binning.run(params, root=root, processed_dir=processed)
        built = assemble.run(params, root=root, processed_dir=processed, card_path=None)
    card = Card(built.card)
    return card, card.score(test).to_numpy()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--params", default="params.yaml", help="parameters file (relative to --root)")
    parser.add_argument("--root", default=str(ROOT), help="project root the parameters' paths are relative to")
    parser.add_argument("--out", default=str(OUT), help="the CSV (relative to --root); its .json goes beside it")
    args = parser.parse_args(argv)

    from model_quality import split_record, write_sidecar
    from scorecard.build import etl
    from scorecard.config import load_params
    from scorecard.report import benchmark_identity

    np.random.seed(SEED)
    root = Path(args.root).resolve()
    params = load_params(root / args.params)
    identity = benchmark_identity(params, root)
    candidates = list(params.features.model_features)
    groups = groups_of(candidates)

    rows = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ablation-") as tmp:
        shared = Path(tmp) / "etl"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = etl.run(params, root=root, out_dir=shared)
        test = result.test
        y = test[TARGET].to_numpy()
        variants = [("all features", [])] + [(f"without {g}", members) for g, members in groups.items()]
        for name, dropped in variants:
            if len(dropped) == len(candidates):   # one group holding every candidate: no card without it
                print(f"{name}: every candidate is in this group, not run", flush=True)
                continue
            work = Path(tmp) / name.replace(" ", "_")
            work.mkdir()
            for file in (etl.TRAIN_FILE, etl.TEST_FILE):
                shutil.copy(shared / file, work / file)
            variant = without(params, root, dropped, work)
            card, score = fit_card(variant, root, work, test)
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
    out = root / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    table[COLUMNS].to_csv(out, index=False)
    write_sidecar(out, "ablation", identity, params_file=args.params,
                  split=split_record(params, result.train, result.test),
                  groups={g: m for g, m in groups.items()})
    print()
    print(table[["variant", "test_auc", "test_ks", "auc_contribution", "ks_contribution"]].to_string(index=False))
    print(f"wrote {out} in {time.perf_counter() - started:.0f}s")
    return 0


if __name__ == "__main__":
    if os.environ.get("PYTHONHASHSEED") != str(SEED):   # seed hashing too (set order)
        os.environ["PYTHONHASHSEED"] = str(SEED)
        os.execv(sys.executable, [sys.executable, *sys.argv])
    sys.exit(main())
