"""The daily run without GitHub (`make daily` = python -m scorecard.watch.daily + the e-mail): run twice
on the real data in a copy of the project, it promotes the first card (no champion yet), then
finds the same card (unchanged), writes the report with the change against the previous run,
and pushes to the local DVC remote; a champion that the challenger moves too far is kept."""

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, run
from scorecard.watch import daily

GENERATED = ["data/processed", "reports/chapters", "reports/_site", ".dvc/cache"]
LEFT_OUT = ("models/champion/", "reports/daily/")


def copy_project(dest: Path) -> Path:
    """The checkout as the pipeline left it: files git tracks or would add, the pipeline's
    outputs and the DVC cache (so `dvc repro` has nothing to redo), without a champion."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        if rel.startswith(LEFT_OUT) or not (ROOT / rel).is_file():
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dest / rel)
    for rel in GENERATED:
        shutil.copytree(ROOT / rel, dest / rel, dirs_exist_ok=True)
    subprocess.run(["git", "init", "-q"], cwd=dest, check=True)  # DVC wants a git work tree
    return dest


def daily_run(project: Path, *extra: str) -> subprocess.CompletedProcess:
    result = run([sys.executable, "-m", "scorecard.watch.daily", "--root", str(project), *extra], cwd=project)
    print(result.stdout[-3000:])
    return result


@pytest.mark.slow
def test_daily_twice_on_the_real_data(pipeline, tmp_path):
    project = copy_project(tmp_path / "project")
    card_bytes = (project / "scorecard/scorecard.json").read_bytes()
    version = json.loads(card_bytes)["model_version"]
    out, champion = project / "reports/daily", project / "models/champion"
    assert not champion.exists()

    # 1. no champion yet: the fresh card is promoted
    first = daily_run(project)
    assert "dvc repro" in first.stdout and "dvc push" in first.stdout
    decision = json.loads((out / "decision.json").read_text())
    assert decision["outcome"] == "promoted" and decision["champion"] is None
    assert decision["reasons"][0].startswith("no champion in production yet")
    assert (champion / "scorecard.json").read_bytes() == card_bytes
    assert (champion / "metrics.json").read_bytes() == (project / "metrics.json").read_bytes()
    summary = (out / "summary.md").read_text()
    for text in ("# Daily scorecard run:", f"**Decision: promoted**: challenger {version} promoted",
                 "No previous run recorded", "| test AUC (out of time) | 0.", "| score PSI train → test |",
                 "No champion in production", "## Monitoring", "By month of `issue_d`", "| 2011-12 |"):
        assert text in summary, text
    monitor = json.loads((out / "monitor.json").read_text())
    assert monitor["rows"] == decision["rows"] and monitor["reference_matches_card"] is True
    assert monitor["status"] in ("ok", "warn", "alert") and len(monitor["by_month"]) == 12
    pushed = [p for p in (project / ".dvc-storage").rglob("*") if p.is_file()]
    assert len(pushed) >= 10, "dvc push did not fill the local remote"
    promoted = (champion / "promotion.json").read_bytes()

    # 2. the same card again (dvc repro is a no-op): nothing to promote, the report shows the change
    second = daily_run(project)
    assert "unchanged" in second.stdout
    decision = json.loads((out / "decision.json").read_text())
    assert decision["outcome"] == "unchanged" and decision["champion"] == decision["challenger"] == version
    assert "challenger equals champion" in decision["reasons"][0]
    assert (champion / "promotion.json").read_bytes() == promoted
    summary = (out / "summary.md").read_text()
    assert "**Decision: unchanged**" in summary and "Change against the previous run" in summary
    auc = json.loads((project / "metrics.json").read_text())["test"]["auc"]
    assert f"| test AUC (out of time) | {auc:.4f} | {auc:.4f} | +0.0000 |" in summary
    assert f"| AUC | {auc:.4f} | {auc:.4f} | +0.0000 | drop of at most" in summary

    # 3. a champion whose scores the challenger would move by 40 points stays, and the run says why
    doc = json.loads(card_bytes)
    old = copy.deepcopy(doc)
    old["model_version"], old["scaling"]["base_points"] = "0123456789abcdef", doc["scaling"]["base_points"] - 40
    old["score_range"] = {k: v - 40 for k, v in doc["score_range"].items()}
    (champion / "scorecard.json").write_text(json.dumps(old, indent=2) + "\n")
    third = daily_run(project, "--no-repro", "--no-push")
    decision = json.loads((out / "decision.json").read_text())
    assert decision["outcome"] == "kept", third.stdout
    assert decision["reasons"][0].startswith("scores moved too much")
    assert json.loads((champion / "scorecard.json").read_text())["model_version"] == "0123456789abcdef"
    assert "**Decision: kept**" in (out / "summary.md").read_text()


def test_metrics_table_shows_the_change():
    current = {"train": {"auc": 0.70}, "test": {"auc": 0.69, "brier": 0.12}, "stability": {"psi_score": 0.01}}
    previous = {"train": {"auc": 0.71}, "test": {"auc": 0.68, "brier": 0.12}, "stability": {}}
    table = daily.metrics_table(current, previous)
    assert "| train AUC | 0.7000 | 0.7100 | -0.0100 |" in table
    assert "| test AUC (out of time) | 0.6900 | 0.6800 | +0.0100 |" in table
    assert "| score PSI train → test | 0.0100 | – | – |" in table
    assert "| train AUC | 0.7000 | – | – |" in daily.metrics_table(current, None)


def test_daily_stops_on_metrics_of_another_card(tmp_path, capsys):
    (tmp_path / "scorecard").mkdir()
    shutil.copy(ROOT / "params.yaml", tmp_path / "params.yaml")
    shutil.copy(ROOT / "scorecard/scorecard.json", tmp_path / "scorecard/scorecard.json")
    (tmp_path / "metrics.json").write_text(json.dumps({"model_version": "0000000000000000"}))
    assert daily.main(["--root", str(tmp_path), "--no-repro", "--no-push"]) == 2
    assert "metrics.json is for card 0000000000000000" in capsys.readouterr().err
