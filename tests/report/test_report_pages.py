"""The logic behind the report pages: performance by segment, override effects, decisions and
example applicants, the overview's comparison with the published card, the model
documentation's tables and weaknesses, the figures and the static images."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scorecard import card as cardlib
from scorecard.watch import evaluate, explain
from scorecard.report import plots
from scorecard import report
from scorecard.config import SegmentSpec
from scorecard.card.rules import DEFAULT_RULES, load_rules

from conftest import ROOT


# ---------------------------------------------------------------------------------------------
# Performance by segment (scorecard.watch.evaluate)


def test_income_band_edges_and_missing():
    income = pd.Series([10_000, 25_000, 49_999, 50_000, 149_999.5, 150_000, 2e6, np.nan])
    bands = evaluate.income_band(income)
    assert bands.tolist() == ["< 25k", "25k-50k", "25k-50k", "50k-75k", "100k-150k", ">= 150k", ">= 150k", "missing"]
    assert list(bands.cat.categories) == ["< 25k", "25k-50k", "50k-75k", "75k-100k", "100k-150k", ">= 150k", "missing"]
    with pytest.raises(ValueError):
        evaluate.income_band(income, (50_000, 25_000))


def test_segment_performance_known_values():
    # segment a: perfect ranking (bads score lowest); b: reversed; c: one class only
    y = pd.Series([1, 1, 0, 0, 1, 1, 0, 0, 0, 0])
    score = pd.Series([400, 410, 600, 610, 600, 610, 400, 410, 500, 520])
    segment = pd.Series(["a"] * 4 + ["b"] * 4 + ["c"] * 2)
    table = evaluate.segment_performance(y, score, segment, min_events=2).set_index("value")
    assert table.loc["a", "auc"] == 1.0 and table.loc["a", "ks"] == 1.0 and table.loc["a", "gini"] == 1.0
    assert table.loc["b", "auc"] == 0.0
    assert np.isnan(table.loc["c", "auc"]) and not table.loc["c", "reliable"]
    assert table.loc["a", "reliable"] and table["rows"].sum() == 10
    assert table.loc["a", "bad_rate"] == 0.5 and table.loc["c", "share"] == 0.2
    assert table.loc["a", "mean_score"] == pytest.approx(505.0)


def test_segment_performance_keeps_category_order_and_names_missing():
    y = pd.Series([1, 0, 1, 0, 0, 1])
    score = pd.Series([1, 2, 3, 4, 5, 6])
    segment = pd.Series(pd.Categorical(["hi", "hi", "lo", "lo", None, None], categories=["lo", "hi"]))
    table = evaluate.segment_performance(y, score, segment)
    assert table["value"].tolist() == ["lo", "hi", "missing"]
    stacked = evaluate.performance_by_segment(y, score, {"one": segment, "two": pd.Series(["x"] * 6)})
    assert stacked.columns[0] == "segment" and stacked["segment"].tolist() == ["one"] * 3 + ["two"]
    assert stacked.loc[stacked["segment"] == "two", "rows"].item() == 6


def test_segments_of_takes_the_state_from_the_applicant_file():
    frame = pd.DataFrame({"applicant_id": [3, 1], "purpose": ["car", "other"], "annual_inc": [30_000.0, 200_000.0]})
    applicants = pd.DataFrame({"applicant_id": [1, 2, 3], "addr_state": ["CA", "NY", "TX"]})
    specs = [SegmentSpec(column="addr_state", label="state"), SegmentSpec(column="purpose"),
             SegmentSpec(column="annual_inc", label="income band", edges=list(evaluate.INCOME_EDGES))]
    segments = evaluate.segments_of(frame, applicants, specs)
    assert segments["state"].tolist() == ["TX", "CA"]
    assert segments["purpose"].tolist() == ["car", "other"]
    assert segments["income band"].astype(str).tolist() == ["25k-50k", ">= 150k"]


# ---------------------------------------------------------------------------------------------
# Override effects (scorecard.build.binning)


def test_override_effects_compare_with_the_optimizers_own_bins(test_set, tmp_path):
    """On the real 2011 loans (any real sample serves to fit bins), with an override file of
    their own: the project's override (four fixed splits) is infeasible on 2011 alone, where
    1.3% of applicants have 4+ inquiries, under the 5% smallest bin."""
    from scorecard.build import binning
    from scorecard.config import load_params

    overrides = tmp_path / "overrides.yaml"
    overrides.write_text("inq_last_6mths:\n  user_splits: [0.5, 1.5, 2.5]\n  fixed: true\n  reason: policy reads 0, 1, 2, 3+\n")
    params = load_params(ROOT / "params.yaml", {"binning.overrides_path": str(overrides)})
    fitted = binning.fit(test_set, params, ROOT)
    effects = binning.override_effects(fitted, test_set, params).set_index("feature")
    assert list(effects.index) == ["inq_last_6mths"]
    row = effects.loc["inq_last_6mths"]
    assert row["splits_with_override"] == "0.5, 1.5, 2.5"
    assert row["bins_with"] == 4 and row["status"] == "OPTIMAL"
    assert row["iv_with"] == pytest.approx(fitted.iv("inq_last_6mths"), abs=1e-6)
    own = binning.fit_feature(test_set, "inq_last_6mths", params)
    assert row["splits_without"] == ", ".join(f"{s:g}" for s in own.splits)
    assert row["iv_without"] == pytest.approx(float(own.binning_table.build().loc["Totals", "IV"]), abs=1e-6)
    assert row["settings"] == "user_splits: [0.5, 1.5, 2.5]; fixed: True" and row["reason"] == "policy reads 0, 1, 2, 3+"
    # without overrides, fit_feature reproduces the binning process's bins of any other feature
    for feature in ("dti", "purpose"):
        alone = binning.fit_feature(test_set, feature, params)
        assert binning._split_text(alone.splits, feature == "purpose") == \
            binning._split_text(fitted.optimal(feature).splits, feature == "purpose")
    fitted.overrides = {}
    assert binning.override_effects(fitted, test_set, params).empty


# ---------------------------------------------------------------------------------------------
# Decisions and example applicants (scorecard.watch.explain)


@pytest.fixture(scope="module")
def rules():
    return load_rules(DEFAULT_RULES)


def test_decisions_apply_cutoffs_and_policy_rules(rules):
    scores = pd.DataFrame({"applicant_id": [1, 2, 3, 4, 5], "score": [560, 530, 500, 560, 560]})
    applicants = pd.DataFrame({"applicant_id": [5, 4, 3, 2, 1], "annual_inc": [60_000, 8_000, 50_000, 50_000, 50_000],
                               "dti": [10, 10, 10, 10, 10], "loan_to_income": [0.1, 0.1, 0.1, 0.1, np.nan]})
    decided = explain.decisions(scores, applicants, rules)
    assert decided["decision"].tolist() == ["refer", "refer", "decline", "decline", "approve"]
    assert decided["policy_rule"].tolist() == ["max_loan_to_income", None, None, "min_annual_income", None]
    assert decided["score_decision"].tolist() == ["approve", "refer", "decline", "approve", "approve"]
    assert decided.loc[2, "max_loan_amount"] == 0


def test_example_applicants_take_the_median_of_score_decisions():
    decided = pd.DataFrame({
        "applicant_id": [1, 2, 3, 4, 5, 6, 7],
        "score": [560, 570, 580, 530, 500, 510, 590],
        "decision": ["approve", "approve", "approve", "refer", "decline", "decline", "decline"],
        "policy_rule": [None, None, None, None, None, None, "min_annual_income"],
    })
    examples = explain.example_applicants(decided)
    assert examples["decision"].tolist() == ["approve", "refer", "decline"]
    assert examples["applicant_id"].tolist() == [2, 4, 5]  # median; lower of two; policy decline left out
    assert explain.example_applicants(decided[decided["decision"] == "approve"])["decision"].tolist() == ["approve"]


def test_applicant_points_add_up_to_the_score(card, test_set):
    applicant = test_set.iloc[[0]]
    applied = card.apply(applicant)
    table = explain.applicant_points(card, applicant)
    assert table["feature"].tolist() == ["(base points)", *card.feature_names, "score"]
    assert table["points"].iloc[-1] == applied["score"].iloc[0]
    assert table["points"].iloc[:-1].sum() == applied["score"].iloc[0]
    lost = table.set_index("feature")["points_lost"]
    assert (lost.drop(["(base points)", "score"]) >= 0).all()
    reason = applied["reason_1"].iloc[0]
    if reason is not None:
        worst = lost.drop(["(base points)", "score"]).idxmax()
        assert next(f["reason_code"] for f in card.features if f["name"] == worst) == reason
    with pytest.raises(ValueError):
        explain.applicant_points(card, test_set.iloc[:2])


def test_reason_table_lists_given_reasons_only():
    row = pd.Series({"reason_1": "R01", "reason_1_text": "Loan term", "reason_1_points_lost": 20,
                     "reason_2": None, "reason_2_text": None, "reason_2_points_lost": 0})
    table = explain.reason_table(row, 2)
    assert table.to_dict("records") == [{"rank": 1, "reason_code": "R01", "reason": "Loan term", "points_lost": 20}]


# ---------------------------------------------------------------------------------------------
# Overview and model documentation (scorecard.report)


METRICS = {
    "model_version": "new",
    "train": {"rows": 100, "bad_rate": 0.2, "auc": 0.70, "gini": 0.40, "ks": 0.30, "brier": 0.12},
    "test": {"rows": 50, "bad_rate": 0.2, "auc": 0.68, "gini": 0.36, "ks": 0.28, "brier": 0.13},
    "stability": {"psi_score": 0.01, "csi_max": 0.2, "csi": {"a": 0.2, "b": 0.01}},
}


def test_metric_changes_against_the_published_card():
    old = json.loads(json.dumps(METRICS))
    old["test"].update(auc=0.69, brier=0.14)
    table = report.metric_changes(METRICS, old).set_index(["sample", "metric"])
    assert table.loc[("test", "auc"), "change"] == pytest.approx(-0.01)
    assert table.loc[("test", "auc"), "reading"] == "worse"
    assert table.loc[("test", "brier"), "reading"] == "better"  # lower Brier is better
    assert table.loc[("train", "auc"), "reading"] == "same"
    assert table.loc[("train", "rows"), "reading"] == ""
    assert ("train → test", "psi_score") in table.index
    first = report.metric_changes(METRICS, None)
    assert first["published card"].isna().all() and (first["reading"] == "").all()


def _built_on(version, dataset_id):
    return {"model_version": version, "created_from": {"dataset": {"id": dataset_id, "name": f"data {dataset_id}"}}}


def test_champion_status_says_when_the_versions_are_the_same():
    card = _built_on("abc", "lenders-file")
    assert "is the published card" in report.champion_status(card, _built_on("abc", "lenders-file"), {"promoted_at": "2026-01-01"})
    assert "2026-01-01" in report.champion_status(card, _built_on("abc", "lenders-file"), {"promoted_at": "2026-01-01"})
    assert "differs from the published card" in report.champion_status(card, _built_on("def", "lenders-file"))
    assert "No card has been published" in report.champion_status(card, None)


def test_a_champion_of_other_data_is_not_compared():
    card, champion = _built_on("abc", "mx-personal-2025"), _built_on("def", "lendingclub-2007-2011")
    status = report.champion_status(card, champion)
    assert status.startswith("**No card has been published for these data yet** (population `mx-personal-2025`)")
    assert "data lendingclub-2007-2011" in status and "differs" not in status
    assert report.comparable_champion(card, champion) is None
    assert report.comparable_champion(card, _built_on("x", "mx-personal-2025")) is not None


def _bin(i, points, count, kind="range"):
    b = {"id": i, "kind": kind, "points": points, "count": count, "count_bad": count // 10,
         "event_rate": 0.1 if count else None, "woe": 0.0}
    if kind == "range":
        b.update(lower=None if i == 0 else float(i), upper=float(i + 1), lower_inclusive=i != 0, upper_inclusive=False)
    return b


SMALL_CARD = {"features": [
    {"name": "f", "reason_code": "R01", "bins": [_bin(0, 1, 500), _bin(1, -5, 495), _bin(2, 9, 5, "missing")]},
    {"name": "g", "reason_code": "R02", "bins": [_bin(0, 3, 600), _bin(1, 0, 400), _bin(2, 0, 0, "missing")]},
]}


def test_top_points_small_bins_finds_the_thin_missing_bin():
    small = report.top_points_small_bins(SMALL_CARD)
    assert small[["feature", "bin", "count", "points", "next_best_points"]].to_dict("records") == [
        {"feature": "f", "bin": "missing", "count": 5, "points": 9, "next_best_points": 1}]
    assert report.top_points_small_bins(SMALL_CARD, max_share=0.001).empty


def test_reasons_from_small_bins_counts_reasons_given_in_the_best_populated_bin():
    small = report.top_points_small_bins(SMALL_CARD)
    points = pd.DataFrame({"points_f": [1, -5, 9, 1], "points_g": [3, 0, 3, 3]})
    reasons = pd.DataFrame({"reason_1": ["R01", "R01", None, "R02"], "reason_1_text": ["x"] * 4})
    table = report.reasons_from_small_bins(SMALL_CARD, points, reasons, small)
    assert table.to_dict("records") == [{"feature": "f", "reason_code": "R01", "applicants_with_reason": 2,
                                          "in_best_populated_bin": 1, "share": 0.5}]


def test_known_weaknesses_name_their_numbers():
    small = report.top_points_small_bins(SMALL_CARD)
    spurious = pd.DataFrame([{"feature": "f", "reason_code": "R01", "applicants_with_reason": 2,
                              "in_best_populated_bin": 1, "share": 0.5}])
    etl = {"samples": [{"sample": "train", "rows": 100, "policy_exceptions": 10},
                       {"sample": "test", "rows": 50, "policy_exceptions": 0}]}
    segments = pd.DataFrame([
        {"segment": "state", "value": "AA", "rows": 500, "auc": 0.55, "reliable": True},
        {"segment": "state", "value": "BB", "rows": 500, "auc": 0.70, "reliable": True},
        {"segment": "state", "value": "CC", "rows": 5, "auc": 0.30, "reliable": False},
    ])
    train = pd.DataFrame({"loan_amnt": [500.0, 25_000.0], "dti": [0.0, 29.96], "annual_inc": [4000.0, 6e6]})
    found = report.known_weaknesses(SMALL_CARD, METRICS, etl, segments, train, 0.1, small, spurious)
    text = "\n".join(found)
    assert "`f` (9 points; next best 1)" in text and "5 training applicants" in text
    assert "`a` 0.200" in text and "`b`" not in text
    assert "10 training applicants" in text and "state AA (0.550" in text and "BB" not in text.split("Small")[0]
    assert "CC" in text and "Range of the evidence" not in text   # no params: no declared units
    assert "without a validation gain" not in text
    levers = pd.DataFrame([
        {"lever": "baseline", "auc_change": None, "auc_change_low": None, "auc_change_high": None},
        {"lever": "without f", "auc_change": 0.0007, "auc_change_low": -0.0008, "auc_change_high": 0.0021},
        {"lever": "without g", "auc_change": -0.004, "auc_change_low": -0.007, "auc_change_high": -0.001},
        {"lever": "without inquiries override", "auc_change": 0.0, "auc_change_low": 0.0, "auc_change_high": 0.0},
    ])
    found = report.known_weaknesses(SMALL_CARD, METRICS, etl, segments, train, 0.1, small, spurious, levers=levers)
    idle = next(item for item in found if "without a validation gain" in item)
    assert "`f` (+0.0007, 95% interval -0.0008 to +0.0021)" in idle and "`g`" not in idle and "inquiries" not in idle


def test_the_range_of_the_evidence_is_stated_in_the_declared_units(card, params):
    train = pd.DataFrame({"dti": [0.0, 29.96], "revol_util": [0.0, 0.999], "loan_amnt": [500.0, 35_000.0]})
    etl = {"samples": [{"sample": "train", "rows": 100, "policy_exceptions": 10},
                       {"sample": "test", "rows": 50, "policy_exceptions": 0}]}
    found = report.known_weaknesses(card.document, {"stability": {"csi": {}}, "test": {"auc": 0.7}}, etl,
                                    pd.DataFrame(columns=["segment", "value", "rows", "auc", "reliable"]), train, 0.1,
                                    pd.DataFrame(), pd.DataFrame(), params=params)
    text = "\n".join(found)
    # Card features only (loan_amnt is not on the card), each in the unit params.yaml declares.
    assert "The training loans span `dti` 0–29.96 %, `revol_util` 0–1 fraction;" in text
    assert "10 training loans (10.0%) were granted outside LendingClub's credit policy" in text


def test_column_fates_and_forbidden_table(params):
    columns = ["id", "loan_amnt", "grade", "total_pymnt", "loan_status", "addr_state", "emp_length", "zip_code"]
    fates = report.column_fates(columns, params).set_index("column")
    assert fates.loc["loan_amnt", "fate"] == "model feature"
    assert fates.loc["grade", "why"].startswith("leakage") and fates.loc["total_pymnt", "fate"] == "excluded"
    assert fates.loc["loan_status", "fate"] == "used by the ETL"  # the target, although forbidden as a feature
    assert fates.loc["addr_state", "fate"] == "used by the ETL" and fates.loc["emp_length", "fate"] == "used by the ETL"
    assert fates.loc["zip_code", "why"].startswith("not declared")
    forbidden = report.forbidden_table(params, columns).set_index("pattern")
    assert forbidden.loc["`^grade$`", "blocks"] == "grade"
    assert forbidden.loc["`^total_pymnt`", "blocks"] == "total_pymnt"


def test_input_files_check_the_declared_sha256(params):
    files = report.input_files(params, ROOT)
    assert files["path"].iloc[0] == params.data.applicants.path
    assert files["matches"].all() and (files["sha256"].str.len() == 64).all()


def test_downloads_are_relative_links(tmp_path):
    (tmp_path / "a.json").write_text("{}")
    table = report.downloads([("a.json", "a.json", "../../a.json", "the card"),
                              ("b.sql", "b.sql", "../b.sql", "SQL")], root=tmp_path)
    assert table["file"].tolist() == ["[a.json](../../a.json)", "[b.sql](../b.sql)"]
    assert table["size"].tolist()[1] == "not built"
    assert "size" not in report.downloads([("a", "a.json", "a.json", "x")], root=tmp_path, sizes=False)


# ---------------------------------------------------------------------------------------------
# Figures (scorecard.report.plots) and static images (scorecard.report.images)


def _traces(fig) -> int:
    return sum(len(t.x) if t.x is not None else len(t.y) for t in fig.data)


def test_page_figures_have_data(card):
    bins = card.features[0]["bins"]
    assert _traces(plots.woe_chart("f", bins)) > 0
    iv = pd.DataFrame({"feature": ["a", "b"], "iv": [0.2, 0.001], "selected": [True, False]})
    assert _traces(plots.iv_chart(iv, 0.01)) == 2
    values = pd.Series([1.0, 2.0, np.nan, 4.0])
    fig = plots.shap_dependence(values, pd.Series([1.0, -1.0, 0.5, 2.0]), "x")
    assert [t.name for t in fig.data] == ["x", "missing"]
    fig = plots.shap_dependence(pd.Series(["a", "b", None]), pd.Series([1.0, 2.0, 3.0]), "c")
    assert fig.data[0].type == "box"
    segments = pd.DataFrame({"segment": ["s", "s"], "value": ["A", "B"], "rows": [10, 20], "bads": [3, 4],
                             "auc": [0.6, 0.7], "bad_rate": [0.3, 0.2], "reliable": [True, False]})
    assert _traces(plots.segment_chart(segments, "s", 0.65)) == 4


def _headline_inputs():
    metrics = METRICS
    roc = pd.DataFrame({"sample": ["train", "train", "test", "test"], "fpr": [0, 1, 0, 1], "tpr": [0, 1, 0, 1]})
    ks = pd.DataFrame({"sample": ["test"] * 3, "score": [500, 550, 600], "cum_bads": [0.5, 0.9, 1], "cum_goods": [0.2, 0.6, 1]})
    gains = pd.DataFrame({"sample": ["train", "test"], "band": ["500-519", "500-519"], "count": [10, 5], "bad_rate": [0.2, 0.3]})
    scores = {"train": pd.Series([500, 550]), "test": pd.Series([510, 560])}
    return metrics, roc, ks, gains, scores


def test_headline_figures_are_titled_with_the_card_version():
    from scorecard.report import images

    figures = images.headline_figures(*_headline_inputs())
    assert list(figures) == ["roc", "ks_test", "score_distribution", "score_bands"]
    assert all("card new" in f.layout.title.text and _traces(f) > 0 for f in figures.values())


@pytest.mark.slow
def test_write_images_writes_pngs_with_the_system_chromium(tmp_path):
    pytest.importorskip("kaleido")
    from scorecard.report import images

    if not Path(os.environ.get("SCORECARD_CHROMIUM", images.DEFAULT_CHROMIUM)).is_file() and not shutil.which("chromium"):
        pytest.skip("no Chromium")
    (tmp_path / "stale.png").write_bytes(b"x")
    figures = images.headline_figures(*_headline_inputs())
    paths = images.write_images({"roc": figures["roc"], "score_distribution": figures["score_distribution"]}, tmp_path,
                                width=300, height=200, scale=1)
    assert [p.name for p in paths] == ["roc.png", "score_distribution.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["roc.png", "score_distribution.png"]
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_points_table_lists_every_category(card):
    purpose = next(f for f in card.features if f["name"] == "purpose")
    every = {c for b in purpose["bins"] if b["kind"] == "categories" for c in b["categories"]}
    shown = plots.bins_frame(purpose["bins"], full_labels=True)["bin"]
    assert every == {c for label in shown for c in label.split(", ") if label != "missing"}


def test_table_numbers_keep_their_integer_zeros():
    assert report._number(15000.0, 0) == "15,000"
    assert report._number(0.1500, 4) == "0.15" and report._number(20.0, 2) == "20"
