"""The DVC pipeline as a user drives it: `dvc repro` builds everything, a second one is a no-op,
and `dvc metrics show` reads the metrics."""

import json

import pytest

from conftest import VENV_BIN, run

pytestmark = pytest.mark.slow


def test_second_repro_is_a_no_op(pipeline):
    result = run([str(VENV_BIN / "dvc"), "repro"], cwd=pipeline)
    assert "Data and pipelines are up to date" in result.stdout, result.stdout
    status = run([str(VENV_BIN / "dvc"), "status", "--json"], cwd=pipeline)
    assert json.loads(status.stdout) == {}


def test_outputs_of_every_stage(pipeline):
    for path in ["scorecard/scorecard.json", "metrics.json", "data/processed/explanations.parquet",
                 "reports/chapters/05_explain.ipynb", "reports/_site/index.html", "reports/plots/roc.csv"]:
        assert (pipeline / path).is_file(), path


def test_dvc_metrics_show(pipeline):
    result = run([str(VENV_BIN / "dvc"), "metrics", "show", "--json"], cwd=pipeline)
    shown = json.loads(result.stdout)
    metrics = next(iter(shown.values()))["data"]["metrics.json"]["data"]
    assert metrics["test"]["auc"] >= 0.683
    assert metrics == json.loads((pipeline / "metrics.json").read_text())


def test_analytics_off(root):
    assert "analytics = false" in (root / ".dvc/config").read_text()
