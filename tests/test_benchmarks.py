"""The model-quality benchmark: it imports, its metric helpers are right on toy data, and
its committed results cover our card and every peer. The benchmark itself is not run here
(`benchmarks/README.md` says how)."""

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


def test_results_are_for_the_committed_card(bench):
    """Re-run the benchmark when the card changes: the card's row must match metrics.json."""
    import json

    metrics = json.loads((ROOT / "metrics.json").read_text())
    with (ROOT / "reports" / "benchmarks" / "model_quality.csv").open(newline="", encoding="utf-8") as handle:
        card = next(row for row in csv.DictReader(handle) if row["model"] == bench.CARD)
    assert float(card["auc"]) == pytest.approx(metrics["test"]["auc"], abs=1e-6)
