"""The benchmarks. Model quality: it imports, its metric helpers are right on toy data, and
its committed results cover our card and every peer (the benchmark itself is not run here;
`benchmarks/README.md` says how). Scoring speed: run end to end at a tiny size, its output's
structure checked and the DuckDB output it measures compared with Card.apply; no timing is
asserted."""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "model_quality.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("benchmarks_model_quality", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module      # dataclasses look their module up here
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


def test_metric_helpers_on_toy_data(bench):
    y = np.array([0, 0, 0, 1, 1])
    separated = np.array([0.1, 0.2, 0.3, 0.8, 0.9])       # every bad riskier than every good
    assert bench.auc(y, separated) == pytest.approx(1.0)
    assert bench.ks(y, separated) == pytest.approx(1.0)
    assert bench.gini(1.0) == pytest.approx(1.0)
    assert bench.auc(y, -separated) == pytest.approx(0.0)  # ranking reversed
    assert bench.gini(0.5) == pytest.approx(0.0)
    # one bad (0.4) below one good (0.5): 5 of 6 pairs right; KS = 2/3 at a cut-off of 0.4
    risk = np.array([0.1, 0.2, 0.5, 0.4, 0.9])
    assert bench.auc(y, risk) == pytest.approx(5 / 6)
    assert bench.ks(y, risk) == pytest.approx(2 / 3)
    assert bench.brier([0, 1], [0.0, 1.0]) == pytest.approx(0.0)
    assert bench.brier([0, 1, 1, 0], [0.5, 0.5, 1.0, 0.0]) == pytest.approx(0.125)
    m = bench.metrics(y, -separated * 100, separated)      # risk given as a negated score
    assert m["auc"] == pytest.approx(0.0) and m["gini"] == pytest.approx(-1.0)


def test_paired_bootstrap_of_the_difference(bench):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=400)
    perfect = y + rng.uniform(0, 0.5, size=400)          # every bad riskier than every good
    noise = rng.uniform(size=400)
    same = bench.paired_bootstrap(y, perfect, {"same": perfect.copy(), "noise": noise}, n=200)
    assert same["same"]["auc_low"] == same["same"]["auc_high"] == 0.0       # paired: no spread
    assert same["same"]["ks_sd"] == 0.0
    assert 0.3 < same["noise"]["auc_low"] <= same["noise"]["auc_high"] < 0.7   # ~1 - 0.5
    assert same["noise"]["ks_low"] > 0.7
    assert bench.paired_bootstrap(y, perfect, {"noise": noise}, n=200) == {"noise": same["noise"]}  # seeded


def test_results_file_has_every_model(bench):
    path = ROOT / "reports" / "benchmarks" / "model_quality.csv"
    assert path.is_file(), f"{path} missing: run `.venv/bin/python benchmarks/model_quality.py`"
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == bench.COLUMNS
        rows = {row["model"]: row for row in reader}
    assert set(rows) == set(bench.MODELS)
    card = rows[bench.CARD]
    assert 0.5 < float(card["auc"]) <= 1.0 and float(card["card_auc_ratio"]) == pytest.approx(1.0)
    for name in bench.PEERS:   # a peer either has its metrics or says why it could not run
        row = rows[name]
        assert row["auc"] or row["note"].startswith("could not run"), row
        if row["auc"]:   # the card-minus-peer interval holds the observed difference
            for metric in ("auc", "ks"):
                low, high = float(row[f"card_minus_{metric}_low"]), float(row[f"card_minus_{metric}_high"])
                observed = float(card[metric]) - float(row[metric])
                assert low <= observed <= high, (name, metric, low, observed, high)


def test_results_are_for_the_committed_card(bench):
    """Re-run the benchmark when the card changes: the card's row must match metrics.json."""
    import json

    metrics = json.loads((ROOT / "metrics.json").read_text())
    with (ROOT / "reports" / "benchmarks" / "model_quality.csv").open(newline="", encoding="utf-8") as handle:
        card = next(row for row in csv.DictReader(handle) if row["model"] == bench.CARD)
    assert float(card["auc"]) == pytest.approx(metrics["test"]["auc"], abs=1e-6)


# -- the scoring-speed benchmark, at a tiny size -------------------------------------------------
SPEED = ROOT / "benchmarks" / "scoring_speed.py"


def test_scoring_speed_runs_and_the_duckdb_output_is_card_apply(tmp_path, card, pipeline):
    """The benchmark end to end on 20,000 resampled rows (one run per method, no command-line
    run): its table, CSV and JSON have their structure, optbinning sees the card's bins, and
    the DuckDB output it measured is Card.apply's, row for row. No timing is asserted."""
    import json
    import subprocess

    import pandas as pd
    import pyarrow.parquet as pq

    from conftest import plain, project_env
    from scorecard.apply import batch

    out, cache = tmp_path / "out", tmp_path / "cache"
    run = subprocess.run([sys.executable, str(SPEED), "--rows", "20000", "--repeat", "1", "--no-cli",
                          "--out", str(out), "--cache", str(cache)], cwd=ROOT, env=project_env(),
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "x optb mem" in run.stdout and "DuckDB score_file, default" in run.stdout

    spec = importlib.util.spec_from_file_location("benchmarks_scoring_speed", SPEED)
    speed = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(speed)
    with (out / speed.CSV_NAME).open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == speed.COLUMNS
        rows = {row["method"]: row for row in reader}
    expected = set(speed.METHODS) - {speed.DUCK_CLI}
    assert set(rows) == expected
    for row in rows.values():
        assert int(row["rows"]) == 20000 and float(row["seconds"]) > 0 and float(row["rows_per_second"]) > 0
    assert float(rows[speed.OPT_MEMORY]["ratio_memory"]) == pytest.approx(1.0)
    assert float(rows[speed.OPT_FILE]["ratio_file"]) == pytest.approx(1.0)

    document = json.loads((out / speed.JSON_NAME).read_text())
    assert document["cpu_count"] >= 1 and len(document["load_average_1_5_15"]["start"]) == 3
    assert document["packages"]["duckdb"] and document["packages"]["optbinning"]
    assert all(document["optbinning_model"]["same_bins_as_card_on_test_set"].values())
    size = document["sizes"]["20000"]
    assert size["duckdb_output_equals_card_apply"] is True
    assert size["optbinning_score_from_indices_equals_score"] is True
    assert size["duckdb_rows"] == {"in": 20000, "scored": 20000, "rejected": 0}
    assert size["duckdb_default_peak_rss"]["peak_rss_mb"] > 0
    assert {r["method"] for r in document["results"]} == expected

    # The resampled input, scored again here: every row is Card.apply's.
    inputs = list(cache.glob("resampled_20000_*.parquet"))
    assert len(inputs) == 1 and pq.ParquetFile(inputs[0]).metadata.num_rows == 20000
    scored = tmp_path / "scores.parquet"
    batch.score_file(inputs[0], scored, card=card)
    frame = pd.read_parquet(inputs[0])
    assert frame["applicant_id"].tolist() == list(range(1, 20001))
    want = card.apply(frame, 4)
    want.insert(0, "applicant_id", frame["applicant_id"].to_numpy())
    got = pd.read_parquet(scored)
    assert list(got.columns) == list(want.columns)
    for column in want.columns:
        assert [plain(v) for v in got[column].tolist()] == [plain(v) for v in want[column].tolist()], column


# -- levers on the validation slice ----------------------------------------------------------------
LEVERS = ROOT / "benchmarks" / "levers.py"


def test_levers_file_and_a_rerun_of_its_baseline(tmp_path, pipeline):
    """The committed levers table has every lever with its interval, and a re-run of the
    baseline and one lever reproduces its numbers (deterministic: no test year, seeded)."""
    import subprocess

    import pandas as pd

    from conftest import project_env

    spec = importlib.util.spec_from_file_location("benchmarks_levers", LEVERS)
    levers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(levers)
    committed = pd.read_csv(ROOT / levers.OUT)
    assert list(committed.columns) == levers.COLUMNS
    assert committed["lever"].tolist() == [lever[0] for lever in levers.LEVERS]
    others = committed.iloc[1:]
    assert (others["auc_change_low"] <= others["auc_change"] + 1e-9).all()
    assert (others["auc_change"] <= others["auc_change_high"] + 1e-9).all()
    assert "term" in committed.iloc[0]["card_features"].split()   # the slice keeps term (the fix)

    out = tmp_path / "levers.csv"
    run = subprocess.run([sys.executable, str(LEVERS), "--levers", "min_bin_size 0.08", "--out", str(out)],
                         cwd=ROOT, env=project_env(), capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    again = pd.read_csv(out).set_index("lever")
    for lever in ("baseline", "min_bin_size 0.08"):
        row = committed.set_index("lever").loc[lever]
        assert again.loc[lever, "val_auc"] == pytest.approx(row["val_auc"], abs=1e-9)
        assert again.loc[lever, "val_ks"] == pytest.approx(row["val_ks"], abs=1e-9)
