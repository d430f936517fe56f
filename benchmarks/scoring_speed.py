"""Scoring speed: the DuckDB batch path against optbinning's ``Scorecard.score``, same card, same rows.

Builds Parquet files of N applicants resampled (seeded, with replacement) from the real 2011
out-of-time test set (``data/processed/test.parquet``, every column, each row a unique
``applicant_id`` 1..N), written once by pyarrow with its defaults (row groups of 1,048,576
rows) into a cache folder and reused. Then, in one run, for each N:

- **optbinning, in memory**: ``Scorecard.score(frame)`` on the card's features already in a
  pandas frame;
- **optbinning, file to file**: ``pd.read_parquet`` (id and features) -> bin indices (the
  ``binning_process_.transform(metric="indices", ...)`` that ``Scorecard.score`` runs) -> points
  per feature and score from those indices (checked equal to ``Scorecard.score``) ->
  ``to_parquet``;
- **DuckDB, default** (``scorecard.apply.batch.score_file``, what ``scorecard score IN -o OUT``
  runs, the card already loaded): Parquet in; id, score, points per feature, 4 reasons with
  codes, texts and points lost, the unseen flag out; rejects file and summary included;
- **DuckDB, points only** (``--reasons 0``): id, score, points per feature, unseen flag;
- **DuckDB, no reason texts** (``--no-reason-texts``): the default without the text columns;
- **DuckDB, default, 1 thread** (``--threads 1``): what the threads add on this machine;
- **the command line** once (a new process: Python start, imports, card validation, the run),
  and its fixed start-up alone (``scorecard validate-card`` in a new process);
- for orientation: **DuckDB read only** (the id and feature columns read and decoded, nothing
  computed or written), **DuckDB compute only** (the card's statement run but not written) and
  **naive DuckDB** (the card's readable SQL without reasons, ``COPY`` to Parquet with no checks)
  and **DuckDB copy, no scoring** (the points-only output's columns and types written from the
  same input with no bin looked up: the floor of any file-to-file path).

Each measurement is repeated (``--repeat``) and the fastest run is kept; ``ratio_memory`` and
``ratio_file`` divide a row's rows/s by optbinning's in-memory and file-to-file rows/s measured
in the same run. The peak memory (RSS) of a fresh process running the DuckDB default is
measured too. The optbinning model uses the card's own bins: a ``BinningProcess`` with the
card's split points (and category groups) as ``user_splits`` fixed, its special values as
``special_codes``; its logistic regression and points scaling (pdo 20, odds 50 at 600, as the
card) are optbinning's own, fitted on the 2007-2010 training set, so its points differ from
the card's; the bins are checked to be the same on the test set.

Run from the project root (after ``make setup`` and the pipeline)::

    .venv/bin/python benchmarks/scoring_speed.py                        # 1M and 10M rows
    .venv/bin/python benchmarks/scoring_speed.py --rows 1000000 --repeat 5

Writes ``reports/benchmarks/scoring_speed.csv`` and ``.json`` (with the machine's cores, load
average and package versions). A measurement, not a test: no thresholds; on a shared machine
the load average says how much to trust the seconds (the ratios are taken within one run).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = Path("reports/benchmarks")
CSV_NAME, JSON_NAME = "scoring_speed.csv", "scoring_speed.json"
CACHE_DIR = Path(__file__).resolve().parent / ".cache"
SOURCE = Path("data/processed/test.parquet")
TRAIN = Path("data/processed/train.parquet")
CARD = Path("scorecard/scorecard.json")
SEED = 20110101
ID = "applicant_id"
TARGET = "bad"
COLUMNS = ["rows", "method", "seconds", "rows_per_second", "ratio_memory", "ratio_file", "cpu_seconds", "note"]
VERSIONED = ["scorecard", "duckdb", "optbinning", "pandas", "numpy", "pyarrow", "scikit-learn"]

OPT_MEMORY = "optbinning score, in memory"
OPT_FILE = "optbinning, file to file"
DUCK_DEFAULT = "DuckDB score_file, default"
DUCK_ONE_THREAD = "DuckDB score_file, default, 1 thread"
DUCK_NO_TEXTS = "DuckDB score_file, no reason texts"
DUCK_POINTS = "DuckDB score_file, points only"
DUCK_CLI = "scorecard score (new process)"
READ_ONLY = "DuckDB read only"
COMPUTE_ONLY = "DuckDB compute only"
NAIVE = "naive DuckDB COPY"
FLOOR = "DuckDB copy, no scoring"
METHODS = [OPT_MEMORY, OPT_FILE, DUCK_DEFAULT, DUCK_NO_TEXTS, DUCK_POINTS, DUCK_ONE_THREAD, DUCK_CLI, READ_ONLY,
           COMPUTE_ONLY, NAIVE, FLOOR]


def version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(function, repeat: int) -> tuple[float, float, list[float], object]:
    """The fastest of ``repeat`` runs: (seconds, cpu seconds of that run, every run's seconds,
    the last run's result)."""
    runs, result = [], None
    for _ in range(repeat):
        cpu, start = cpu_seconds(), time.perf_counter()
        result = function()
        runs.append((time.perf_counter() - start, cpu_seconds() - cpu))
    best = min(runs)
    return best[0], best[1], [round(s, 4) for s, _ in runs], result


# --------------------------------------------------------------------------- the input files

def resampled(rows: int, cache: Path, root: Path = ROOT) -> Path:
    """N rows drawn with replacement (seeded) from the test set, ids 1..N, written once."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = root / SOURCE
    if not source.is_file():
        raise SystemExit(f"{source} not found: run the pipeline first (make report, or dvc repro)")
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:12]
    path = cache / f"resampled_{rows}_{SEED}_{digest}.parquet"
    if path.is_file():
        return path
    cache.mkdir(parents=True, exist_ok=True)
    (cache / ".gitignore").write_text("*\n")
    table = pq.read_table(source)
    picks = np.random.default_rng(SEED).integers(0, table.num_rows, size=rows)
    part = path.with_name(f".{path.name}.part")
    writer = None
    chunk = 1_000_000
    for start in range(0, rows, chunk):
        block = table.take(pa.array(picks[start:start + chunk]))
        ids = pa.array(np.arange(start + 1, start + 1 + block.num_rows, dtype=np.int64))
        block = block.set_column(block.schema.get_field_index(ID), ID, ids)
        if writer is None:
            writer = pq.ParquetWriter(part, block.schema)
        writer.write_table(block)
    writer.close()
    os.replace(part, path)
    return path


# --------------------------------------------------------------------------- optbinning

def optbinning_card(card, root: Path = ROOT):
    """An optbinning Scorecard with the card's bins: split points and category groups as
    user splits (fixed), special values as special codes; fitted on the training set."""
    from optbinning import BinningProcess, Scorecard
    from sklearn.linear_model import LogisticRegression

    features = card.feature_names
    categorical = [f["name"] for f in card.features if f["type"] == "categorical"]
    fit_params = {}
    for f in card.features:
        if f["type"] == "numeric":
            splits = [b["lower"] for b in f["bins"] if b["kind"] == "range" and b["lower"] is not None]
            params = {"user_splits": splits, "user_splits_fixed": [True] * len(splits)}
            special = [v for b in f["bins"] if b["kind"] == "special" for v in b["values"]]
            if special:
                params["special_codes"] = special
        else:
            groups = [np.array(b["categories"], dtype=object) for b in f["bins"] if b["kind"] == "categories"]
            params = {"user_splits": groups, "user_splits_fixed": [True] * len(groups)}
        fit_params[f["name"]] = params
    train = pd.read_parquet(root / TRAIN)
    frame = train[features].copy()
    for name in categorical:
        frame[name] = frame[name].astype(object)
    scaling = card.document["scaling"]
    process = BinningProcess(variable_names=features, categorical_variables=categorical,
                             binning_fit_params=fit_params)
    model = Scorecard(binning_process=process, estimator=LogisticRegression(max_iter=1000),
                      scaling_method="pdo_odds", rounding=True,
                      scaling_method_params={"pdo": scaling["pdo"], "odds": scaling["base_odds"],
                                             "scorecard_points": scaling["base_score"]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(frame, train[TARGET].to_numpy())
    return model


def optbinning_tables(model, features: list[str]) -> dict[str, np.ndarray]:
    table = model.table("detailed")
    return {name: table[table["Variable"] == name]["Points"].to_numpy() for name in features}


def optbinning_points(model, tables: dict, frame: pd.DataFrame) -> pd.DataFrame:
    """Points per feature and the score, from the bin indices Scorecard.score uses."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        indices = model.binning_process_.transform(frame[list(tables)], metric="indices",
                                                   metric_special="empirical", metric_missing="empirical")
    points = {f"points_{name}": table[indices[name].to_numpy()] for name, table in tables.items()}
    out = pd.DataFrame(points, index=frame.index)
    out.insert(0, "score", out.sum(axis=1).to_numpy() + model.intercept_)
    out.insert(0, ID, frame[ID].to_numpy())
    return out


def same_bins(model, card, frame: pd.DataFrame) -> dict[str, bool]:
    """Per feature: do optbinning's bins and the card's split these rows the same way (a
    one-to-one map between bin ids)?"""
    ids, _ = card.bin_ids(frame)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        indices = model.binning_process_.transform(frame[card.feature_names], metric="indices",
                                                   metric_special="empirical", metric_missing="empirical")
    agree = {}
    for name in card.feature_names:
        pairs = set(zip(ids[name].to_numpy().tolist(), indices[name].to_numpy().tolist()))
        agree[name] = (len({a for a, _ in pairs}) == len(pairs) == len({b for _, b in pairs}))
    return agree


# --------------------------------------------------------------------------- DuckDB

def duckdb_orientation(path: Path, card, repeat: int, out_dir: Path) -> dict[str, tuple]:
    """Read only, compute only (the compact statement, not written) and the naive COPY."""
    import duckdb

    from scorecard.apply.sql import to_sql

    columns = [ID, *card.feature_names]
    source = f"read_parquet('{path}')"
    con = duckdb.connect()
    con.execute(f"CREATE VIEW applicants AS SELECT {', '.join(columns)} FROM {source}")
    read = "SELECT " + ", ".join(f"sum(hash({c}))" for c in columns) + " FROM applicants"
    compact = to_sql(card, "duckdb", n_reasons=4, compact=True)
    outputs = [row[0] for row in con.execute(f"DESCRIBE ({compact})").fetchall()]
    compute = "SELECT " + ", ".join(f"sum(hash(\"{c}\"))" for c in outputs) + f" FROM ({compact})"
    naive_out = out_dir / "naive.parquet"
    naive = f"COPY ({to_sql(card, 'duckdb', n_reasons=0)}) TO '{naive_out}' (FORMAT parquet)"
    # The floor of any file-to-file path: the points-only output's shape (id, score, a BIGINT
    # per feature, each read from its own column) written as score_file writes it, with no
    # bins looked up. Its columns hold 2 (features) and 150 (score) distinct values, no more
    # than the real points, so Parquet's dictionaries cost it no more than the real output.
    shaped = [f"CAST({ID} % 150 + 450 AS BIGINT) AS score",
              *(f"CAST({c} IS NULL AS BIGINT) AS points_{c}" for c in card.feature_names)]
    floor_out = out_dir / "floor.parquet"
    floor = (f"COPY (SELECT {ID}, {', '.join(shaped)} FROM applicants) TO '{floor_out}' "
             f"(FORMAT parquet, COMPRESSION snappy)")
    results = {}
    for method, sql in ((READ_ONLY, read), (COMPUTE_ONLY, compute), (NAIVE, naive), (FLOOR, floor)):
        results[method] = timed(lambda: con.execute(sql).fetchall(), repeat)
    con.close()
    return results


RSS_SCRIPT = """
import json, sys, time
from scorecard.apply import batch
from scorecard import card as cardlib

def status(key):  # kB, from the kernel: VmHWM is the peak resident set of this process
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024

card = cardlib.load(sys.argv[3])
before = status("VmRSS")
start = time.perf_counter()
result = batch.score_file(sys.argv[1], sys.argv[2], card=card)
seconds = time.perf_counter() - start
print(json.dumps({"peak_rss_mb": round(status("VmHWM"), 1), "rss_before_run_mb": round(before, 1),
                  "seconds": round(seconds, 3), "rows": result.rows_in, "memory_limit": batch.DEFAULT_MEMORY_LIMIT}))
"""


def peak_rss(path: Path, out: Path, root: Path = ROOT) -> dict:
    """Peak resident memory of a fresh process that runs the DuckDB default on ``path``."""
    run = subprocess.run([sys.executable, "-c", RSS_SCRIPT, str(path), str(out), str(root / CARD)], cwd=root,
                         capture_output=True, text=True, check=True)
    return json.loads(run.stdout.strip().splitlines()[-1])


def check_output(out: Path, path: Path, card, rows: int = 50_000) -> bool:
    """The first rows of the DuckDB output are exactly Card.apply on the same input rows."""
    import pyarrow.parquet as pq

    written = pq.ParquetFile(out).iter_batches(batch_size=rows)
    got = next(written).to_pandas()
    source = pq.ParquetFile(path).iter_batches(batch_size=rows, columns=[ID, *card.feature_names])
    frame = next(source).to_pandas()
    want = card.apply(frame.reset_index(drop=True), 4)
    want.insert(0, ID, frame[ID].to_numpy())
    if list(got.columns) != list(want.columns) or len(got) != len(want):
        return False
    for column in want.columns:
        a, b = got[column].astype(object), want[column].astype(object)
        if not all((x == y) or (pd.isna(x) and pd.isna(y)) for x, y in zip(a.tolist(), b.tolist())):
            return False
    return True


# --------------------------------------------------------------------------- one size

def measure(rows: int, card, model, tables, args, work: Path, root: Path = ROOT) -> tuple[list[dict], dict]:
    from scorecard.apply import batch

    path = resampled(rows, args.cache, root)
    import pyarrow.parquet as pq

    row_groups = pq.ParquetFile(path).metadata.num_row_groups
    print(f"{rows:,} rows: {path} ({row_groups} row groups)", flush=True)
    features = card.feature_names
    results: dict[str, tuple] = {}
    info: dict = {"input": str(path), "row_groups": row_groups}

    # optbinning, in memory: the frame is read before the clock starts.
    frame = pd.read_parquet(path, columns=[ID, *features])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results[OPT_MEMORY] = timed(lambda: model.score(frame), args.repeat)
    scores = results[OPT_MEMORY][3]
    sample = frame.head(100_000)
    derived = optbinning_points(model, tables, sample)["score"].to_numpy()
    info["optbinning_score_from_indices_equals_score"] = bool(np.allclose(derived, scores[:len(sample)]))
    card_scores = card.score(sample).to_numpy()
    correlation = np.corrcoef(card_scores, scores[:len(sample)])[0, 1]
    info["optbinning_score_correlation_with_card"] = round(float(correlation), 4)
    del frame, scores

    # optbinning, file to file.
    opt_out = work / "optbinning.parquet"

    def optbinning_file():
        table = pd.read_parquet(path, columns=[ID, *features])
        optbinning_points(model, tables, table).to_parquet(opt_out, index=False)

    results[OPT_FILE] = timed(optbinning_file, args.repeat)

    # DuckDB: the batch path, three modes.
    duck_out = work / "scores.parquet"
    modes = {DUCK_DEFAULT: {"threads": args.threads}, DUCK_NO_TEXTS: {"threads": args.threads, "reason_texts": False},
             DUCK_POINTS: {"threads": args.threads, "n_reasons": 0}, DUCK_ONE_THREAD: {"threads": 1}}
    steps = {}
    for method, options in modes.items():
        results[method] = timed(lambda: batch.score_file(path, duck_out, card=card, **options), args.repeat)
        result = results[method][3]
        steps[method] = {k: round(v, 3) for k, v in result.steps.items()}
        if method == DUCK_DEFAULT:
            info["duckdb_output_equals_card_apply"] = check_output(duck_out, path, card)
            info["duckdb_rows"] = {"in": result.rows_in, "scored": result.rows_scored,
                                   "rejected": result.rows_rejected}
            info["duckdb_output_mb"] = round(duck_out.stat().st_size / 1e6, 1)
    info["duckdb_steps_seconds"] = steps

    if not args.no_cli:
        cli = [sys.executable, "-m", "scorecard.cli", "score", str(path), "-o", str(work / "cli.parquet")]

        def command():
            subprocess.run(cli, cwd=root, check=True, capture_output=True)

        seconds, _, runs, _ = timed(command, 1)
        results[DUCK_CLI] = (seconds, None, runs, None)

    results.update(duckdb_orientation(path, card, args.repeat, work))
    if not args.no_rss:
        info["duckdb_default_peak_rss"] = peak_rss(path, work / "rss.parquet", root)

    optb_memory = rows / results[OPT_MEMORY][0]
    optb_file = rows / results[OPT_FILE][0]
    notes = {
        OPT_MEMORY: "Scorecard.score(frame); frame already in memory",
        OPT_FILE: "read_parquet -> bin indices -> points per feature + score -> to_parquet",
        DUCK_DEFAULT: "4 reasons with codes, texts, points lost; checks, rejects file, summary",
        DUCK_NO_TEXTS: "4 reasons, codes and points lost only",
        DUCK_POINTS: "--reasons 0: score and points per feature",
        DUCK_ONE_THREAD: "the default with DuckDB limited to one thread (--threads 1)",
        DUCK_CLI: "one run: process start, imports, card validation, then the default",
        READ_ONLY: "the id and feature columns read and decoded; nothing written",
        COMPUTE_ONLY: "the card's compact statement (4 reasons) computed, not written",
        NAIVE: "readable SQL without reasons, COPY to Parquet, no checks",
        FLOOR: "id, score and points columns of the output's shape and types read and written, no bins looked up",
    }
    records = []
    for method in METHODS:
        if method not in results:
            continue
        seconds, cpu, runs, _ = results[method]
        rate = rows / seconds
        records.append({"rows": rows, "method": method, "seconds": round(seconds, 4),
                        "rows_per_second": round(rate), "ratio_memory": round(rate / optb_memory, 2),
                        "ratio_file": round(rate / optb_file, 2),
                        "cpu_seconds": None if cpu is None else round(cpu, 3), "note": notes[method],
                        "runs": runs})
    return records, info


# --------------------------------------------------------------------------- output

def table(records: list[dict]) -> str:
    from tabulate import tabulate

    body = [[f"{r['rows']:,}", r["method"], f"{r['seconds']:.3f}", f"{r['rows_per_second']:,}",
             f"{r['ratio_memory']:.2f}", f"{r['ratio_file']:.2f}",
             "" if r["cpu_seconds"] is None else f"{r['cpu_seconds']:.2f}"] for r in records]
    headers = ["rows", "method", "seconds", "rows/s", "x optb mem", "x optb file", "cpu s"]
    return tabulate(body, headers=headers, tablefmt="simple", disable_numparse=True,
                    colalign=("right", "left", "right", "right", "right", "right", "right"))


def git_commit(root: Path) -> str | None:
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True,
                               check=True).stdout.strip()
        return head + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000],
                        help="sizes to measure (default: 1000000 10000000)")
    parser.add_argument("--out", default=str(OUT_DIR), help="folder for the CSV and JSON (relative to the root)")
    parser.add_argument("--cache", type=Path, default=CACHE_DIR, help="folder for the resampled input files")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the fastest is kept")
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: one per core)")
    parser.add_argument("--no-cli", action="store_true", help="skip the command-line runs")
    parser.add_argument("--no-rss", action="store_true", help="skip the peak-memory run")
    args = parser.parse_args(argv)

    from scorecard import card as cardlib

    started = time.perf_counter()
    load_start = os.getloadavg()
    card = cardlib.load(ROOT / CARD)
    print("fitting optbinning's Scorecard on the card's bins ...", flush=True)
    model = optbinning_card(card)
    tables = optbinning_tables(model, card.feature_names)
    test = pd.read_parquet(ROOT / SOURCE)
    agree = same_bins(model, card, test)
    startup = None
    if not args.no_cli:
        # What every command pays before it reads a row: Python, imports, the card's validation.
        command = [sys.executable, "-m", "scorecard.cli", "validate-card", str(ROOT / CARD)]
        startup = timed(lambda: subprocess.run(command, cwd=ROOT, check=True, capture_output=True), 1)[0]
    records, sizes = [], {}
    with tempfile.TemporaryDirectory(prefix="scoring-speed-") as work:
        for rows in args.rows:
            folder = Path(work) / str(rows)
            folder.mkdir()
            found, info = measure(rows, card, model, tables, args, folder)
            records += found
            sizes[str(rows)] = info
            shutil.rmtree(folder, ignore_errors=True)
    load_end = os.getloadavg()
    seconds = time.perf_counter() - started

    out_dir = ROOT / args.out
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / CSV_NAME).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for record in records:
            writer.writerow({k: ("" if record.get(k) is None else record.get(k)) for k in COLUMNS})
    document = {
        "benchmark": "scoring_speed",
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "git_commit": git_commit(ROOT),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "load_average_1_5_15": {"start": [round(x, 2) for x in load_start], "end": [round(x, 2) for x in load_end]},
        "packages": {name: version(name) for name in VERSIONED},
        "card_version": card.version,
        "features": card.feature_names,
        "input": (f"rows drawn with replacement (seed {SEED}) from {SOURCE} (every column), applicant_id 1..N, "
                  "written by pyarrow with its defaults (row groups of 1,048,576 rows)"),
        "optbinning_model": {
            "bins": "the card's split points and category groups as user_splits, fixed; its special values "
                    "as special_codes (BinningProcess binning_fit_params)",
            "estimator": "LogisticRegression(max_iter=1000), fitted on the 2007-2010 training set",
            "scaling": "pdo_odds (pdo 20, odds 50, 600 points), rounding=True: optbinning's points, not the card's",
            "same_bins_as_card_on_test_set": agree,
        },
        "repeat": args.repeat,
        "timing": "wall-clock seconds of the fastest run; cpu_seconds = user + system CPU of this process in that "
                  "run (all threads); ratio_memory / ratio_file = rows/s over optbinning's in-memory / "
                  "file-to-file rows/s in the same run",
        "cli_startup_seconds": None if startup is None else round(startup, 3),
        "cli_startup": "seconds of `python -m scorecard.cli validate-card` in a new process: Python start, "
                       "imports and the card's validation, paid by every command before it reads a row",
        "sizes": sizes,
        "total_seconds": round(seconds, 1),
        "results": records,
    }
    (out_dir / JSON_NAME).write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")

    print()
    print(table(records))
    print()
    for rows, info in sizes.items():
        rss = info.get("duckdb_default_peak_rss")
        extra = (f"; DuckDB default peak RSS {rss['peak_rss_mb']:.0f} MB ({rss['rss_before_run_mb']:.0f} MB before "
                 f"the run, memory_limit {rss['memory_limit']})" if rss else "")
        print(f"{int(rows):,} rows: {info['row_groups']} row group(s); DuckDB output = Card.apply on the first "
              f"rows: {info['duckdb_output_equals_card_apply']}{extra}")
    print(f"optbinning: same bins as the card on the test set: {all(agree.values())}")
    if startup is not None:
        print(f"command-line start-up (validate-card in a new process): {startup:.2f}s")
    print(f"load average {load_start[0]:.1f} at start, {load_end[0]:.1f} at end, {os.cpu_count()} CPUs")
    if max(load_start[0], load_end[0]) > (os.cpu_count() or 1):
        print("note: the machine was busy: seconds are inflated and noisy; the ratios are within one run")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in document["packages"].items() if v))
    print(f"wrote {out_dir / CSV_NAME} and {out_dir / JSON_NAME} in {seconds:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
