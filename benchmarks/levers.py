"""Levers on the validation slice: how each modelling choice was judged, without the test year.

The training sample is split again: with ``split.method: time`` by the application date, the
card is fitted on the training window but its last ``--validation-months`` (default 6: for the
committed parameters, loans issued 2007-01 to 2010-06) and measured on those months (2010-07 to
2010-12; the *validation slice*); with a random or stratified split (a file without dates) the
slice is drawn from the training sample the same way the test sample was drawn (the same
``split.method``, ``split.test_share`` and ``split.seed``). The test sample is never read. Each lever is one change to ``params.yaml`` (a candidate feature
removed or added, a binning or selection setting), refitted through the pipeline's own binning
and scorecard stages and scored by :class:`scorecard.card.Card` with its integer points, as the
card is. Next to each lever's validation AUC and KS: the change against the baseline and the
95% interval of that change over paired bootstrap resamples of the slice, so a gain the slice
cannot tell from chance shows as an interval holding 0.

One fix applies to every fit on a time slice when ``term`` is a candidate: on the committed data,
before July 2010, 60-month loans are 4.8% of the loans, under the 5% minimum bin size, so the
optimizer would merge ``term`` into a single bin and every lever would be judged against a card
without its strongest feature (the validation months are 37% 60-month). ``term``'s smallest bin
is 1% in these fits (a ``min_bin_size`` binning override, written to a temporary file; the
committed overrides are untouched). ``levers.json`` beside the CSV records the slice, the fix
and the data and parameters the results belong to. A lever that does not apply to the
parameters (a feature they do not offer, an override they do not have, a setting already at the
lever's value) is not run.

Deterministic (PYTHONHASHSEED=0, seeded bootstrap). Run from the project root::

    .venv/bin/python benchmarks/levers.py              # writes reports/benchmarks/levers.csv
    .venv/bin/python benchmarks/levers.py --levers baseline "without emp_title_group"
    .venv/bin/python benchmarks/levers.py --params other.yaml --out /tmp/levers.csv --bootstrap 200
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
from model_quality import BOOTSTRAP, SEED, ks, paired_bootstrap, write_sidecar  # noqa: E402  (the same metrics and bootstrap)

TARGET = "bad"
OUT = Path("reports/benchmarks/levers.csv")
VALIDATION_MONTHS = 6   # a time slice: the last months of the training window
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
#: ``{current}`` in the text is the parameters' own value of the setting.
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
    ("max_p_value 0.15", "looser p-value selection ({current} in the card)", False, _set("model", "max_p_value", 0.15)),
    ("min_iv 0.005", "looser IV selection ({current} in the card)", False, _set("binning", "min_iv", 0.005)),
    ("min_bin_size 0.03", "smaller bins ({current:.0%} in the card)", False, _set("binning", "min_bin_size", 0.03)),
    ("min_bin_size 0.08", "larger bins ({current:.0%} in the card)", False, _set("binning", "min_bin_size", 0.08)),
    ("max_n_bins 5", "fewer bins ({current} in the card)", False, _set("binning", "max_n_bins", 5)),
    ("max_n_bins 12", "more bins ({current} in the card)", False, _set("binning", "max_n_bins", 12)),
]


def applicable(params, overrides: dict, change) -> tuple[bool, object]:
    """Whether a lever changes anything for these parameters, and the parameters' current value
    of the setting it changes (None for a feature lever)."""
    if change is None:
        return True, None
    probe_raw, probe_overrides = params.model_dump(mode="json"), dict(overrides)
    before = (params.model_dump(mode="json"), dict(overrides))
    change(probe_raw, probe_overrides)
    current = None
    for section in ("model", "binning"):
        for key, value in before[0][section].items():
            if probe_raw[section][key] != value:
                current = value
    added = [f for f in probe_raw["features"]["model_features"] if f not in params.features.model_features]
    if added:   # a candidate only an enabled environment source can give
        produced = {c for spec in params.environment.enabled_sources().values() for c in spec.output_columns()}
        if not set(added) <= produced:
            return False, None
    return (probe_raw != before[0] or probe_overrides != before[1]), current


def validation_slice(train: pd.DataFrame, params, months: int):
    """The training sample cut into the fit rows and the validation slice, and its record."""
    from scorecard.config import SplitSpec
    from scorecard.build.features import drawn_test

    s = params.split
    if s.method == "time":
        date = params.data.date_column
        fit_end = pd.Timestamp(s.train_end) + pd.Timedelta(days=1) - pd.DateOffset(months=months)
        fit, validation = train[train[date] < fit_end], train[train[date] >= fit_end]
        last = (fit_end - pd.Timedelta(days=1)).date()
        record = {"method": "time", "date_column": date, "fit_window": [str(s.train_start), str(last)],
                  "validation_window": [str(fit_end.date()), str(s.train_end)]}
    else:
        drawn = drawn_test(train, SplitSpec(method=s.method, test_share=s.test_share, seed=s.seed))
        fit, validation = train[~drawn], train[drawn]
        record = {"method": s.method, "share": s.test_share, "seed": s.seed}
    record.update(rows_fit=len(fit), rows_validation=len(validation),
                  bad_rate_validation=round(float(validation[TARGET].mean()), 6))
    return fit, validation, record


def variant_params(params, root: Path, change, work: Path, fix: dict | None = None):
    """The parameters with one lever applied, ``fix`` (the term fix) added to the overrides."""
    from scorecard.config import parse_params

    raw = params.model_dump(mode="json")
    path = raw["binning"].get("overrides_path")
    overrides = (yaml.safe_load((root / path).read_text(encoding="utf-8")) or {}) if path else {}
    if change is not None:
        change(raw, overrides)
    overrides.update(fix or {})
    file = work / "overrides.yaml"
    file.write_text(yaml.safe_dump(overrides, sort_keys=False), encoding="utf-8")
    raw["binning"]["overrides_path"] = str(file)
    return parse_params(raw, source="levers")


def main(argv: list[str] | None = None) -> int:
    names = [lever[0] for lever in LEVERS]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--params", default="params.yaml", help="parameters file (relative to --root)")
    parser.add_argument("--root", default=str(ROOT), help="project root the parameters' paths are relative to")
    parser.add_argument("--out", default=str(OUT), help="the CSV (relative to --root); its .json goes beside it")
    parser.add_argument("--bootstrap", type=int, default=BOOTSTRAP, help="paired resamples of the slice")
    parser.add_argument("--validation-months", type=int, default=VALIDATION_MONTHS,
                        help="a time split: the last months of the training window that form the slice")
    parser.add_argument("--levers", nargs="+", default=names, choices=names, metavar="LEVER",
                        help="levers to run (the baseline always runs)")
    args = parser.parse_args(argv)

    from scorecard.build import etl
    from scorecard.config import load_params
    from scorecard.report import benchmark_identity

    np.random.seed(SEED)
    root = Path(args.root).resolve()
    params = load_params(root / args.params)
    identity = benchmark_identity(params, root)
    path = params.binning.overrides_path
    committed_overrides = (yaml.safe_load((root / path).read_text(encoding="utf-8")) or {}) if path else {}
    fix = TERM_BINS if params.split.method == "time" and "term" in params.features.model_features else {}
    chosen, skipped = [], []
    for name, text, kept, change in LEVERS:
        if name != "baseline" and name not in args.levers:
            continue
        applies, current = applicable(params, committed_overrides, change)
        if not applies:
            skipped.append(name)
            continue
        chosen.append((name, text.format(current=current) if current is not None else text, kept, change))
    if skipped:
        print(f"levers that do not apply to {args.params} (not run): {', '.join(skipped)}", flush=True)
    rows, scores = [], {}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="levers-") as tmp:
        shared = Path(tmp) / "etl"
        shared.mkdir()
        # One ETL output for every lever, with the candidates the levers add (the ETL keeps only
        # allow-listed columns); each lever's own allow-list then decides what the binning sees.
        etl_params = params
        for extra in EXTRA_CANDIDATES:
            if applicable(etl_params, committed_overrides, _add(*extra))[0]:
                etl_params = variant_params(etl_params, root, _add(*extra), shared)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            train = etl.run(etl_params, root=root, out_dir=shared).train
        fit, validation, slice_record = validation_slice(train, params, args.validation_months)
        y = validation[TARGET].to_numpy()
        print(f"fit {len(fit):,} rows, validate {len(validation):,} ({slice_record}); the test sample is not read",
              flush=True)
        for name, change_text, kept, change in chosen:
            work = Path(tmp) / f"lever_{len(rows)}"
            work.mkdir()
            fit.to_parquet(work / etl.TRAIN_FILE, index=False)
            validation.to_parquet(work / etl.TEST_FILE, index=False)
            card, score = fit_card(variant_params(params, root, change, work, fix), root, work, validation)
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
    intervals = paired_bootstrap(y, scores["baseline"], others, n=args.bootstrap)
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
    out = root / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    table[COLUMNS].to_csv(out, index=False)
    write_sidecar(out, "levers", identity, params_file=args.params, validation=slice_record,
                  fit_overrides=fix, bootstrap_resamples=args.bootstrap, seed=SEED, levers_not_applicable=skipped)
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
