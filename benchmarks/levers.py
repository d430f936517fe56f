"""Levers on the validation slice: how each modelling choice was judged, without the test year.

The training years are split by issue date: the card is fitted on loans issued 2007-01 to
2010-06 and measured on those issued 2010-07 to 2010-12 (the *validation slice*); the 2011
test year is never read. Each lever is one change to ``params.yaml`` (a candidate feature
removed or added, a binning or selection setting), refitted through the pipeline's own binning
and scorecard stages and scored by :class:`scorecard.card.Card` with its integer points, as the
card is. Next to each lever's validation AUC and KS: the change against the baseline and the
95% interval of that change over paired bootstrap resamples of the slice, so a gain the slice
cannot tell from chance shows as an interval holding 0.

One fix applies to every fit here: before July 2010, 60-month loans are 4.8% of the loans,
under the 5% minimum bin size, so the optimizer would merge ``term`` into a single bin and every
lever would be judged against a card without its strongest feature (the validation months are
37% 60-month). ``term``'s smallest bin is 1% in these fits (a ``min_bin_size`` binning
override, written to a temporary file; the committed overrides are untouched).

Deterministic (PYTHONHASHSEED=0, seeded bootstrap). Run from the project root::

    .venv/bin/python benchmarks/levers.py              # writes reports/benchmarks/levers.csv
    .venv/bin/python benchmarks/levers.py --levers baseline "without emp_title_group"
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
from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from ablation import fit_card  # noqa: E402  (the pipeline's binning and scorecard stages, as ablation.py)
from model_quality import SEED, ks, paired_bootstrap  # noqa: E402  (the same metrics and bootstrap)

TARGET = "bad"
OUT = Path("reports/benchmarks/levers.csv")
FIT_END = pd.Timestamp("2010-07-01")     # fit: issued before; validate: issued on or after
TERM_BINS = {"term": {"min_bin_size": 0.01,
                      "reason": "validation fit only: 60-month loans are 4.8% of the fit window"}}
COLUMNS = ["lever", "change", "kept_in_card", "val_auc", "val_ks", "auc_change", "ks_change",
           "auc_change_low", "auc_change_high", "ks_change_low", "ks_change_high", "card_features"]


def _drop(name):
    def change(raw, overrides):
        features = raw["features"]
        features["model_features"] = [f for f in features["model_features"] if f != name]
        features["categorical"] = [f for f in features["categorical"] if f != name]
        for section in ("monotonic_trend_by_feature", "special_codes"):
            raw["binning"][section].pop(name, None)
        overrides.pop(name, None)
    return change


def _add(name, reason_text):
    def change(raw, overrides):
        raw["features"]["model_features"].append(name)
        raw["explain"]["reason_texts"].setdefault(name, reason_text)
    return change


def _set(section, key, value):
    def change(raw, overrides):
        raw[section][key] = value
    return change


def _no_override(name):
    def change(raw, overrides):
        overrides.pop(name, None)
    return change


#: Candidates a lever adds to the allow-list: (column, reason text).
EXTRA_CANDIDATES = [("state_unemployment_rate", "Unemployment rate in the applicant's state")]

#: (lever, what it changes, kept in the card?, the change to the raw parameters and overrides).
#: "kept" levers are the card's choices, checked by removing them; the others were left out.
LEVERS = [
    ("baseline", "params.yaml as committed", None, None),
    ("without emp_title_group", "employer group from the job title not offered", True,
     _drop("emp_title_group")),
    ("without open_to_total_acc", "open / total credit lines not offered", True, _drop("open_to_total_acc")),
    ("without inquiries override", "inq_last_6mths binned by the optimizer alone", True,
     _no_override("inq_last_6mths")),
    ("min_missing_count 0", "missing bins of any size get their own points", False,
     _set("binning", "min_missing_count", 0)),
    ("with state_unemployment_rate", "the state's unemployment rate offered", False,
     _add(*EXTRA_CANDIDATES[0])),
    ("max_p_value 0.15", "looser p-value selection (0.05 in the card)", False, _set("model", "max_p_value", 0.15)),
    ("min_iv 0.005", "looser IV selection (0.01 in the card)", False, _set("binning", "min_iv", 0.005)),
    ("min_bin_size 0.03", "smaller bins (5% in the card)", False, _set("binning", "min_bin_size", 0.03)),
    ("min_bin_size 0.08", "larger bins (5% in the card)", False, _set("binning", "min_bin_size", 0.08)),
    ("max_n_bins 5", "fewer bins (8 in the card)", False, _set("binning", "max_n_bins", 5)),
    ("max_n_bins 12", "more bins (8 in the card)", False, _set("binning", "max_n_bins", 12)),
]


def variant_params(params, root: Path, change, work: Path):
    """The parameters with one lever applied, the term fix added to the overrides."""
    from scorecard.config import parse_params

    raw = params.model_dump(mode="json")
    path = raw["binning"].get("overrides_path")
    overrides = (yaml.safe_load((root / path).read_text(encoding="utf-8")) or {}) if path else {}
    if change is not None:
        change(raw, overrides)
    overrides.update(TERM_BINS)
    file = work / "overrides.yaml"
    file.write_text(yaml.safe_dump(overrides, sort_keys=False), encoding="utf-8")
    raw["binning"]["overrides_path"] = str(file)
    return parse_params(raw, source="levers")


def main(argv: list[str] | None = None) -> int:
    names = [lever[0] for lever in LEVERS]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--levers", nargs="+", default=names, choices=names, metavar="LEVER",
                        help="levers to run (the baseline always runs)")
    args = parser.parse_args(argv)

    from scorecard import etl
    from scorecard.config import load_params

    np.random.seed(SEED)
    params = load_params(ROOT / args.params)
    chosen = [lever for lever in LEVERS if lever[0] == "baseline" or lever[0] in args.levers]
    rows, scores = [], {}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="levers-") as tmp:
        shared = Path(tmp) / "etl"
        shared.mkdir()
        # One ETL output for every lever, with the candidates the levers add (the ETL keeps only
        # allow-listed columns); each lever's own allow-list then decides what the binning sees.
        etl_params = params
        for extra in EXTRA_CANDIDATES:
            etl_params = variant_params(etl_params, ROOT, _add(*extra), shared)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            train = etl.run(etl_params, root=ROOT, out_dir=shared).train
        fit, validation = train[train["issue_d"] < FIT_END], train[train["issue_d"] >= FIT_END]
        y = validation[TARGET].to_numpy()
        print(f"fit {len(fit):,} loans (issued before {FIT_END:%Y-%m-%d}), validate {len(validation):,} "
              f"(to {validation['issue_d'].max():%Y-%m-%d}); the test year is not read", flush=True)
        for name, change_text, kept, change in chosen:
            work = Path(tmp) / f"lever_{len(rows)}"
            work.mkdir()
            fit.to_parquet(work / etl.TRAIN_FILE, index=False)
            validation.to_parquet(work / etl.TEST_FILE, index=False)
            card, score = fit_card(variant_params(params, ROOT, change, work), ROOT, work, validation)
            scores[name] = -score.astype(float)
            rows.append({"lever": name, "change": change_text,
                         "kept_in_card": "" if kept is None else ("yes" if kept else "no"),
                         "val_auc": round(float(roc_auc_score(y, scores[name])), 6),
                         "val_ks": round(ks(y, scores[name]), 6),
                         "card_features": " ".join(card.feature_names)})
            print(f"{name:32s} AUC {rows[-1]['val_auc']:.5f}  KS {rows[-1]['val_ks']:.5f}  "
                  f"({len(card.feature_names)} features)", flush=True)
    # change = lever - baseline; paired_bootstrap gives (first - each), so compare with the sign flipped
    others = {name: s for name, s in scores.items() if name != "baseline"}
    intervals = paired_bootstrap(y, scores["baseline"], others)
    table = pd.DataFrame(rows)
    base = table.iloc[0]
    table["auc_change"] = (table["val_auc"] - base["val_auc"]).round(6)
    table["ks_change"] = (table["val_ks"] - base["val_ks"]).round(6)
    for metric in ("auc", "ks"):
        table[f"{metric}_change_low"] = [round(-intervals[n][f"{metric}_high"], 6) if n in intervals else np.nan
                                         for n in table["lever"]]
        table[f"{metric}_change_high"] = [round(-intervals[n][f"{metric}_low"], 6) if n in intervals else np.nan
                                          for n in table["lever"]]
    table.loc[0, ["auc_change", "ks_change"]] = np.nan
    out = ROOT / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    table[COLUMNS].to_csv(out, index=False)
    print()
    print(table[["lever", "val_auc", "val_ks", "auc_change", "auc_change_low", "auc_change_high",
                 "ks_change"]].to_string(index=False))
    print(f"wrote {out} in {time.perf_counter() - started:.0f}s")
    return 0


if __name__ == "__main__":
    if os.environ.get("PYTHONHASHSEED") != str(SEED):   # seed hashing too (set order)
        os.environ["PYTHONHASHSEED"] = str(SEED)
        os.execv(sys.executable, [sys.executable, *sys.argv])
    sys.exit(main())
