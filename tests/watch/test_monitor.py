"""Drift monitoring: statuses from thresholds, the same indices as the evaluate stage, by month,
files checked like `scorecard score` reads them, and the `scorecard monitor` command."""

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from scorecard.watch import evaluate, monitor
from scorecard.cli import app
from scorecard.config import MonitoringSpec, load_params
from scorecard.errors import ConfigError, DataValidationError

THRESHOLDS = MonitoringSpec()


@pytest.fixture(scope="module")
def halves(test_set):
    """The out-of-time year split in two: January-June as the reference, July-December as new."""
    first = test_set["issue_d"] < pd.Timestamp("2011-07-01")
    return test_set[first].reset_index(drop=True), test_set[~first].reset_index(drop=True)


@pytest.fixture(scope="module")
def files(halves, tmp_path_factory):
    folder = tmp_path_factory.mktemp("monitor")
    reference, new = halves
    reference.to_parquet(folder / "reference.parquet", index=False)
    new.to_parquet(folder / "new.parquet", index=False)
    new.to_csv(folder / "new.csv", index=False)
    return folder


def test_status_thresholds():
    assert [monitor.status(v, 0.1, 0.25) for v in (0.0, 0.0999, 0.1, 0.2499, 0.25, 3)] == [
        "ok", "ok", "warn", "warn", "alert", "alert"]
    assert monitor.worst(["ok", "alert", "warn"]) == "alert" and monitor.worst([]) == "ok"


def test_thresholds_are_checked_in_params(root):
    params = load_params(root / "params.yaml")
    assert params.monitoring.psi_warn < params.monitoring.psi_alert
    with pytest.raises(ConfigError, match=r"monitoring: csi_warn \(0.3\) must be below csi_alert \(0.25\)"):
        load_params(root / "params.yaml", {"monitoring.csi_warn": 0.3})


def test_same_indices_as_the_evaluate_stage(card, halves):
    reference, new = halves
    score_psi, csi = evaluate.stability(card, reference, new, 20)
    table = monitor.compare(card, monitor.distribution(card, reference), monitor.distribution(card, new), THRESHOLDS)
    assert table.iloc[0].to_dict() == {"variable": "score", "measure": "psi", "value": score_psi,
                                       "status": monitor.status(score_psi, 0.1, 0.25)}
    assert dict(zip(table["variable"][1:], table["value"][1:])) == dict(zip(csi["feature"], csi["csi"]))
    same = monitor.compare(card, monitor.distribution(card, new), monitor.distribution(card, new), THRESHOLDS)
    assert (same["value"] == 0).all() and (same["status"] == "ok").all()


def test_by_month_is_compare_on_each_month(card, halves):
    reference, new = halves
    expected = monitor.distribution(card, reference)
    by_month = monitor.stability_by_month(card, expected, new, "issue_d", THRESHOLDS)
    assert list(by_month["month"].unique()) == [f"2011-{m:02d}" for m in range(7, 13)]
    december = new[new["issue_d"].dt.month == 12]
    alone = monitor.compare(card, expected, monitor.distribution(card, december), THRESHOLDS)
    got = by_month[by_month["month"] == "2011-12"]
    assert (got["applicants"] == len(december)).all()
    assert got["value"].tolist() == alone["value"].tolist() and got["status"].tolist() == alone["status"].tolist()
    summary = monitor.month_summary(by_month)
    assert len(summary) == 6 and set(summary["status"]) <= set(monitor.STATUSES)


def test_run_on_files_flags_drift(card, files):
    result = monitor.run(files / "new.parquet", card, files / "reference.parquet", THRESHOLDS, 20,
                         month_column="issue_d")
    assert result.rows + result.reference_rows == 21721
    assert not result.reference_matches_card and "not the card's development sample" in result.notes[0]
    # CSV (all text) and Parquet give the same indices
    from_csv = monitor.run(files / "new.csv", card, files / "reference.parquet", THRESHOLDS, 20)
    pd.testing.assert_frame_equal(from_csv.overall, result.overall)
    # a low alert threshold turns the largest index into an alert
    strict = MonitoringSpec(psi_warn=0.0001, psi_alert=0.0002, csi_warn=0.0001, csi_alert=0.0002)
    flagged = monitor.run(files / "new.parquet", card, files / "reference.parquet", strict, 20)
    assert flagged.status == "alert"
    doc = result.to_dict()
    assert doc["status"] == result.status and len(doc["by_month"]) == 6 and doc["overall"][0]["variable"] == "score"
    json.dumps(doc, default=str)


def test_the_development_sample_matches_the_card(card, params, root):
    """The committed card's bin counts are those of the training sample it was built on."""
    from scorecard.build.etl import run as etl_run

    train = etl_run(params, root=root).train
    assert monitor.matches_card(card, monitor.distribution(card, train))


@pytest.mark.parametrize(("change", "message"), [
    (lambda f: f.drop(columns=["dti"]), "missing required column(s) ['dti']"),
    (lambda f: f.assign(dti=f["dti"].astype(str).where(f.index != 3, "abc")),
     "column 'dti': expected a number, got 'abc' (line 5)"),
    (lambda f: f.assign(issue_d=f["issue_d"].astype(str).where(f.index != 0, "last week")),
     "column 'issue_d': expected a date (yyyy-mm-dd) on every row, got ['last week']"),
])
def test_bad_input_names_the_field(card, halves, tmp_path, change, message):
    path = tmp_path / "bad.csv"
    change(halves[1].head(50).copy()).to_csv(path, index=False)
    with pytest.raises(DataValidationError) as error:
        monitor.run(path, card, tmp_path / "unused.parquet", month_column="issue_d")
    assert message in str(error.value), str(error.value)


def test_cli_prints_statuses_and_writes_json(card, files, tmp_path, root, monkeypatch):
    monkeypatch.chdir(root)
    out = tmp_path / "monitor.json"
    args = ["monitor", str(files / "new.parquet"), "--reference", str(files / "reference.parquet"),
            "--by-month", "issue_d", "--json", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    for text in ("Score PSI and feature CSI", "By month of issue_d", "2011-12", "status:", card.version):
        assert text in result.output
    doc = json.loads(out.read_text())
    assert doc["card"]["model_version"] == card.version and doc["month_column"] == "issue_d"
    statuses = [r["status"] for r in doc["overall"]] + [r["status"] for r in doc["by_month"]]
    assert doc["status"] == monitor.worst(statuses)

    fail_level = doc["status"] if doc["status"] != "ok" else "warn"
    failing = CliRunner().invoke(app, [*args[:-2], "--fail-on", fail_level])
    assert failing.exit_code == (1 if doc["status"] != "ok" else 0), failing.output


def test_cli_bad_input_is_one_line_and_exit_2(files, tmp_path, root, monkeypatch):
    monkeypatch.chdir(root)
    path = tmp_path / "bad.csv"
    pd.DataFrame({"dti": [1.0]}).to_csv(path, index=False)
    result = CliRunner().invoke(app, ["monitor", str(path), "--reference", str(files / "reference.parquet")])
    assert result.exit_code == 2
    assert "missing required column(s)" in result.output and "Traceback" not in result.output


@pytest.mark.slow
def test_evaluate_stage_writes_stability_by_month(full_run):
    out, _ = full_run
    table = pd.read_csv(out / "plots" / evaluate.STABILITY_BY_MONTH_FILE)
    assert list(table.columns) == ["month", "applicants", "variable", "measure", "value", "status"]
    assert sorted(table["month"].unique()) == [f"2011-{m:02d}" for m in range(1, 13)]
    assert table.groupby("month")["applicants"].first().sum() == 21721
    assert np.isfinite(table["value"]).all() and set(table["status"]) <= set(monitor.STATUSES)
