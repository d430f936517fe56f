"""Performance by segment as params.yaml declares it (evaluate.segments), and the evaluate stage,
the report and monitoring for a file with no application date (data.date_column null).

The real-data tests pin what the LendingClub params.yaml gives (the three segmentations the
report has always shown); the no-date tests run the pipeline on 2,000 real loans reshaped as
another lender's file (``variants.without_date_and_state``).
"""

import copy
import json
import re

import numpy as np
import pandas as pd
import papermill
import pytest
import yaml
from typer.testing import CliRunner

from conftest import ROOT, copy_project_inputs, sample_rows, write_csv
from scorecard.watch import daily, evaluate, monitor
from scorecard.report import plots
from scorecard import report
from scorecard.card import Card
from scorecard.cli import app
from scorecard.config import SegmentSpec, parse_params
from scorecard.build.data import ID, TARGET, load_applicants
from scorecard.errors import ConfigError
from scorecard.pipeline import run_all
from variants import CHARGED_OFF, without_date_and_state

DOC = ROOT / "reports/model_documentation.qmd"


def with_segments(raw, segments):
    raw["evaluate"]["segments"] = segments
    return raw


# ---------------------------------------------------------------------------------------------
# evaluate.segments in params.yaml


def test_default_segments_are_state_purpose_and_income_band(params):
    segments = params.evaluate.segments
    assert [s.name for s in segments] == ["state", "purpose", "income band"]
    assert [s.column for s in segments] == ["addr_state", "purpose", "annual_inc"]
    assert segments[0].edges is None and segments[1].edges is None and segments[1].label is None
    assert tuple(segments[2].edges) == evaluate.INCOME_EDGES


def test_segments_are_not_part_of_the_model_version(raw, params):
    assert parse_params(with_segments(raw, [])).digest() == params.digest()
    assert parse_params(with_segments(raw, [{"column": "dti", "edges": [10, 20]}])).digest() == params.digest()


def test_no_segments_key_means_no_segmentation(raw):
    del raw["evaluate"]["segments"]
    assert parse_params(raw).evaluate.segments == []


@pytest.mark.parametrize("segments, message", [
    ([{"column": "purpose"}, {"column": "dti"}],
     r"evaluate.segments\[1\].edges: 'dti' is numeric: give the band edges"),
    ([{"column": "purpose"}, {"column": "annual_inc", "edges": []}],
     r"evaluate.segments\[1\].edges: 'annual_inc' is numeric"),
    ([{"column": "purpose"}, {"column": "dti", "edges": [10]}, {"column": "annual_inc", "edges": [50000, 25000]}],
     r"evaluate.segments\[2\].edges: expected finite, strictly increasing numbers, got \[50000.0, 25000.0\]"),
    ([{"column": "annual_inc", "edges": [1, 1]}], r"evaluate.segments\[0\].edges: expected finite, strictly increasing"),
    ([{"column": "annual_inc", "edges": [1, float("inf")]}], r"evaluate.segments\[0\].edges: expected finite"),
    ([{"column": "purpose", "edges": [1, 2]}],
     r"evaluate.segments\[0\].edges: 'purpose' is a category field, taken value by value: remove edges"),
    ([{"column": "emp_title_group", "edges": [1]}], r"evaluate.segments\[0\].edges: 'emp_title_group' is a category"),
    ([{"column": "region"}], r"evaluate.segments\[0\].column: 'region' is neither declared in data.columns nor a model "
                             r"feature"),
    ([{"column": "state_unemployment_rate", "edges": [5]}],  # joined, but not a model feature
     r"evaluate.segments\[0\].column: 'state_unemployment_rate' is neither"),
    ([{"column": "emp_title"}], r"evaluate.segments\[0\].column: 'emp_title' has type 'text'"),
    ([{"column": "earliest_cr_line"}], r"evaluate.segments\[0\].column: 'earliest_cr_line' has type 'date'"),
    ([{"column": "loan_status"}], r"evaluate.segments\[0\].column: 'loan_status' is a key column"),
    ([{"column": "issue_d"}], r"evaluate.segments\[0\].column: 'issue_d' is a key column"),
    ([{"column": "addr_state", "label": "state"}, {"column": "purpose", "label": "state"}],
     r"evaluate.segments\[1\]: the name 'state' is already used by evaluate.segments\[0\]: give one of them a label"),
    ([{"column": "purpose", "label": ""}], r"evaluate.segments.0.label: String should have at least 1 character"),
    ([{"column": "purpose", "bands": [1]}], r"evaluate.segments.0.bands: unknown key"),
    ([{"column": "annual_inc", "edges": ["many"]}], r"evaluate.segments.0.edges.0: Input should be a valid number"),
])
def test_segment_errors_name_the_key(raw, segments, message):
    with pytest.raises(ConfigError, match=message):
        parse_params(with_segments(raw, segments))


def test_segments_on_model_features_and_applicant_fields(raw):
    params = parse_params(with_segments(raw, [
        {"column": "loan_to_income", "label": "loan to income", "edges": [0.1, 0.2, 0.3]},  # derived, numeric
        {"column": "emp_title_group"},  # derived, categorical
        {"column": "home_ownership"},  # applicant field and model feature
        {"column": "emp_length"},  # applicant field only (the model sees emp_length_years)
        {"column": "state_median_income", "edges": [50000]},  # environment feature of the model
    ]))
    assert [s.name for s in params.evaluate.segments] == ["loan to income", "emp_title_group", "home_ownership",
                                                          "emp_length", "state_median_income"]


# ---------------------------------------------------------------------------------------------
# Band labels


def test_band_labels_read_as_people_read_them():
    assert evaluate.band_labels(evaluate.INCOME_EDGES) == ["< 25k", "25k-50k", "50k-75k", "75k-100k", "100k-150k",
                                                           ">= 150k"]
    assert evaluate.band_labels([1500, 3000, 10000.5, 2e6]) == ["< 1,500", "1,500-3k", "3k-10,000.5", "10,000.5-2M",
                                                                ">= 2M"]
    assert evaluate.band_labels([-1, 0, 2.5]) == ["< -1", "-1 to 0", "0-2.5", ">= 2.5"]
    assert evaluate.band_labels([0.05]) == ["< 0.05", ">= 0.05"]


def test_numeric_segment_with_own_edges_on_another_lenders_column():
    """A lender's own names: monthly income in pesos, its own band edges."""
    frame = pd.DataFrame({ID: ["a", "b", "c", "d", "e"], "ingreso_mensual": [900.0, 1500.0, 2999.9, 12000.0, np.nan]})
    spec = SegmentSpec(column="ingreso_mensual", label="ingreso mensual", edges=[1500, 3000, 10000])
    segments = evaluate.segments_of(frame, None, [spec])
    assert list(segments) == ["ingreso mensual"]
    bands = segments["ingreso mensual"]
    assert bands.astype(str).tolist() == ["< 1,500", "1,500-3k", "1,500-3k", ">= 10k", "missing"]
    assert list(bands.cat.categories) == ["< 1,500", "1,500-3k", "3k-10k", ">= 10k", "missing"]
    table = evaluate.performance_by_segment(pd.Series([1, 0, 1, 0, 0]), pd.Series([1, 2, 3, 4, 5]), segments)
    assert table["segment"].unique().tolist() == ["ingreso mensual"]
    assert table["value"].tolist() == ["< 1,500", "1,500-3k", ">= 10k", "missing"]  # empty bands left out


def test_a_declared_field_not_in_the_sample_comes_from_the_applicant_file():
    frame = pd.DataFrame({ID: [3, 1], "plazo": ["36", "60"]})
    applicants = pd.DataFrame({ID: [1, 2, 3], "region": ["norte", "sur", "centro"]})
    segments = evaluate.segments_of(frame, applicants, [SegmentSpec(column="region"), SegmentSpec(column="plazo")])
    assert segments["region"].tolist() == ["centro", "norte"] and segments["plazo"].tolist() == ["36", "60"]
    with pytest.raises(KeyError, match=r"evaluate.segments\[0\].column: 'ciudad'"):
        evaluate.segments_of(frame, applicants, [SegmentSpec(column="ciudad")])


def test_no_segments_is_an_empty_table_with_the_columns():
    table = evaluate.performance_by_segment(pd.Series([1, 0]), pd.Series([1, 2]), {})
    assert list(table.columns) == evaluate.SEGMENT_COLUMNS and len(table) == 0


# ---------------------------------------------------------------------------------------------
# The default segmentations on the real data


@pytest.fixture(scope="module")
def real_segments(params, root, test_set):
    declared = [s.column for s in params.evaluate.segments if s.column not in test_set]
    applicants = load_applicants(params, root=root)[[ID, *declared]]
    return evaluate.segments_of(test_set, applicants, params.evaluate.segments)


def test_default_segments_on_the_real_test_year(real_segments, test_set):
    assert list(real_segments) == ["state", "purpose", "income band"]
    counts = {name: values.astype(str).value_counts() for name, values in real_segments.items()}
    assert len(counts["state"]) == 45 and counts["state"][["CA", "NY", "FL"]].tolist() == [3857, 2029, 1604]
    assert len(counts["purpose"]) == 13 and counts["purpose"]["debt_consolidation"] == 10670
    income = real_segments["income band"]
    assert income.astype(str).value_counts().reindex(evaluate.band_labels(evaluate.INCOME_EDGES)).tolist() == [
        1087, 6596, 6794, 3735, 2468, 1041]
    bads = test_set[TARGET].groupby(income.array, observed=True).sum()
    assert bads.tolist() == [206, 1184, 1049, 481, 274, 103]
    assert all(len(v) == len(test_set) == 21721 for v in real_segments.values())


def test_default_table_is_the_published_one(real_segments, test_set, card):
    """The committed card's table from evaluate.segments is byte for byte the committed
    reports/plots/performance_by_segment.csv (what the code before evaluate.segments wrote)."""
    table = evaluate.performance_by_segment(test_set[TARGET], card.score(test_set), real_segments)
    assert table.to_csv(index=False) == (ROOT / "reports/plots/performance_by_segment.csv").read_text()
    assert table.groupby("segment", sort=False)["reliable"].sum().to_dict() == {"state": 26, "purpose": 11,
                                                                                 "income band": 6}


# ---------------------------------------------------------------------------------------------
# Small segments: flagged, never a crash


SMALL = pd.DataFrame({"y": [1, 0, 0, 0, 1, 0, 0, 0] * 5, "score": np.arange(40) % 7 * 10 + 500,
                      "segment": ["big"] * 32 + ["tiny"] * 8})


def test_a_segment_with_too_few_bads_is_flagged():
    table = evaluate.segment_performance(SMALL["y"], SMALL["score"], SMALL["segment"], min_events=5).set_index("value")
    assert table.loc["big", "reliable"] and not table.loc["tiny", "reliable"]
    assert table.loc["tiny", "bads"] == 2 and np.isfinite(table.loc["tiny", "auc"])
    none = evaluate.segment_performance(SMALL["y"], SMALL["score"], SMALL["segment"])  # 30 bads needed
    assert not none["reliable"].any()


def _section_chunks(*titles):
    """The Python chunks of the named sections of model_documentation.qmd."""
    sections = re.split(r"\n(?=## )", DOC.read_text())
    return [chunk for s in sections if s.startswith(tuple(f"## {t}\n" for t in titles))
            for chunk in re.findall(r"```\{python\}\n(.*?)```", s, re.S)]


def run_doc_sections(monkeypatch, params, metrics, segments, by_month):
    """Run the "Performance by segment" and "Stability" chunks of the model documentation on
    these inputs; return the Markdown they print."""
    said = []
    monkeypatch.setattr(report, "md", said.append)
    monkeypatch.setattr(report, "table", lambda *a, **k: None)
    monkeypatch.setattr(report, "figure", lambda *a, **k: None)
    namespace = {"params": params, "metrics": metrics, "segments": segments, "by_month": by_month, "pd": pd,
                 "plots": plots, "report": report, "monitor": monitor}
    chunks = _section_chunks("Performance by segment", "Stability")
    assert len(chunks) == 2
    for chunk in chunks:
        exec(compile(chunk, str(DOC), "exec"), namespace)
    return said


def test_documentation_with_no_reliable_segment_and_no_segments(monkeypatch, raw):
    table = evaluate.performance_by_segment(SMALL["y"], SMALL["score"], {"purpose": SMALL["segment"]})
    metrics = {"test": {"auc": 0.7}, "stability": {"psi_score": 0.01, "by_month": f"absent: {monitor.NO_DATE_REASON}"}}
    params = parse_params(with_segments(raw, [{"column": "purpose"}]))
    empty = pd.DataFrame(columns=monitor.BY_MONTH_COLUMNS)
    said = run_doc_sections(monkeypatch, params, metrics, table, empty)
    assert any("no purpose segment has 30 bads and 30 goods" in s for s in said), said
    assert said[-1].startswith("No month-by-month view: data.date_column is null")

    params = parse_params(with_segments(raw, []))
    said = run_doc_sections(monkeypatch, params, metrics, evaluate.performance_by_segment(SMALL["y"], SMALL["score"],
                                                                                          {}), empty)
    assert said[0] == "No segments are declared (evaluate.segments in params.yaml)."


def test_known_weaknesses_and_chart_take_small_and_empty_tables():
    table = evaluate.performance_by_segment(SMALL["y"], SMALL["score"], {"s": SMALL["segment"]})
    assert plots.segment_chart(table, "s", 0.7) is not None
    metrics = {"test": {"auc": 0.7}, "stability": {"csi": {}}}
    etl = {"samples": []}
    train = pd.DataFrame({"dti": [1.0]})
    card = {"features": []}
    for segments in (table, evaluate.performance_by_segment(SMALL["y"], SMALL["score"], {})):
        report.known_weaknesses(card, metrics, etl, segments, train, 0.1, pd.DataFrame(), pd.DataFrame())


# ---------------------------------------------------------------------------------------------
# No application date: the evaluate stage, the report, the notebook, monitoring


@pytest.fixture(scope="module")
def no_date_run(raw_text, default_raw, tmp_path_factory):
    """The pipeline on 2,000 real loans with no issue date and no state (stratified split),
    segmented by loan purpose, income band, a numeric model feature and home ownership."""
    frame = sample_rows(raw_text, 400, seed=3).drop(columns=["issue_d", "addr_state"]).reset_index(drop=True)
    frame["loan_status"] = np.where(frame["loan_status"].isin(CHARGED_OFF), "bad", "good")
    frame.insert(0, "loan_ref", [f"L{i:05d}" for i in range(len(frame))])
    tmp = tmp_path_factory.mktemp("no_date")
    project = copy_project_inputs(tmp / "project")
    raw = without_date_and_state(copy.deepcopy(default_raw))
    raw["data"]["applicants"] = {"path": str(write_csv(frame, project / "data/raw/app.csv")), "sha256": None,
                                 "encoding": "utf-8"}
    raw["data"]["id_column"] = "loan_ref"
    raw["binning"]["overrides_path"] = None
    raw["evaluate"]["segments"] += [{"column": "loan_to_income", "label": "loan to income", "edges": [0.1, 0.2, 0.3]},
                                    {"column": "home_ownership"}]
    (project / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True))
    params = parse_params(raw)
    out = tmp / "out"
    return params, project, out, run_all(params, project, out)


def test_evaluate_without_a_date_writes_an_empty_month_table_and_says_why(no_date_run):
    params, _, out, result = no_date_run
    assert params.data.date_column is None
    assert (out / "plots/stability_by_month.csv").read_text() == ",".join(monitor.BY_MONTH_COLUMNS) + "\n"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["stability"]["by_month"] == f"absent: {monitor.NO_DATE_REASON}"
    assert "data.date_column is null" in metrics["stability"]["by_month"]
    assert result.evaluation["stability_by_month_absent"] == monitor.NO_DATE_REASON
    assert np.isfinite(metrics["stability"]["psi_score"])


def test_evaluate_without_a_state_segments_as_declared(no_date_run):
    _, _, out, _ = no_date_run
    table = pd.read_csv(out / "plots/performance_by_segment.csv", keep_default_na=False, na_values=[""])
    assert table["segment"].unique().tolist() == ["purpose", "income band", "loan to income", "home_ownership"]
    assert table.groupby("segment")["rows"].sum().unique().tolist() == [400]
    assert table.loc[table["segment"] == "loan to income", "value"].tolist() == ["< 0.1", "0.1-0.2", "0.2-0.3", ">= 0.3",
                                                                                 "missing"]
    small = table[(table["segment"] == "home_ownership") & (table["bads"] < evaluate.MIN_SEGMENT_EVENTS)]
    assert len(small) and not small["reliable"].any()
    assert not table.loc[table["segment"] == "income band", "reliable"].any()  # 400 test loans: all too small


def test_documentation_without_a_date(no_date_run, monkeypatch):
    params, _, out, _ = no_date_run
    metrics = json.loads((out / "metrics.json").read_text())
    segments = pd.read_csv(out / "plots/performance_by_segment.csv", keep_default_na=False, na_values=[""])
    by_month = pd.read_csv(out / "plots/stability_by_month.csv")
    said = run_doc_sections(monkeypatch, params, metrics, segments, by_month)
    assert any(s.startswith("Read (purpose): ") and "lowest readable one is" in s for s in said)
    assert any("no income band segment has 30 bads and 30 goods" in s for s in said)
    assert said[-1].startswith("No month-by-month view: data.date_column is null (the applicant file has no "
                               "application date)")


def test_evaluate_notebook_without_a_date(no_date_run, tmp_path):
    _, project, out, _ = no_date_run
    executed = tmp_path / "04_evaluate.ipynb"
    papermill.execute_notebook(str(ROOT / "notebooks/04_evaluate.ipynb"), str(executed), kernel_name="scorecard",
                               cwd=str(ROOT), parameters={
                                   "root": str(project), "processed_dir": str(out / "processed"),
                                   "card_path": str(out / "scorecard.json"), "metrics_path": str(tmp_path / "m.json"),
                                   "plots_dir": str(tmp_path / "plots")})
    text = json.dumps([o for c in json.loads(executed.read_text())["cells"] for o in c.get("outputs", [])])
    assert "No month-by-month view: data.date_column is null" in text
    assert "stratified test sample" in text and "issue month" not in text
    assert (tmp_path / "plots/stability_by_month.csv").read_text().count("\n") == 1


def test_monitor_without_a_date_column(no_date_run, tmp_path):
    params, project, out, result = no_date_run
    new = out / "processed/test.parquet"
    reference = out / "processed/train.parquet"
    card = result.card
    monitored = monitor.run(new, card, reference, params.monitoring, params.evaluate.band_width,
                            month_column=params.data.date_column, no_month_reason=monitor.NO_DATE_REASON)
    assert monitored.by_month is None and monitored.by_month_absent == monitor.NO_DATE_REASON
    assert monitored.overall["variable"].tolist() == ["score", *card.feature_names]
    assert monitored.status in monitor.STATUSES
    doc = monitored.to_dict()
    assert "by_month" not in doc and doc["by_month_absent"] == monitor.NO_DATE_REASON
    assert f"no month-by-month view: {monitor.NO_DATE_REASON}" in doc["notes"]
    section = daily.monitor_section(monitored)
    assert "> note: no month-by-month view: data.date_column is null" in section and "By month" not in section

    # the command: the reason comes from --params (data.date_column null)
    runner = CliRunner()
    cli = runner.invoke(app, ["monitor", str(new), "--card", str(out / "scorecard.json"), "--reference",
                              str(reference), "--params", str(project / "params.yaml"), "--json",
                              str(tmp_path / "m.json")])
    assert cli.exit_code == 0, cli.output
    assert "no month-by-month view" in " ".join(cli.output.split()) and "Traceback" not in cli.output
    assert json.loads((tmp_path / "m.json").read_text())["by_month_absent"] == monitor.NO_DATE_REASON
    # without a reason (e.g. params with a date, --by-month not asked for): no month view, no note
    plain = monitor.run(new, card, reference, params.monitoring)
    assert plain.by_month is None and plain.by_month_absent is None and plain.notes == []
    assert isinstance(card, Card)
