"""Metrics pinned on known values, and SHAP explanations that agree with the card's points."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from scorecard.watch.drift import psi
from scorecard.watch.evaluate import calibration_table, gains_table, ks_statistic
from scorecard.watch.explain import EXPLANATIONS_FILE


def test_ks_and_psi_known_values():
    y = np.array([0, 0, 1, 1])
    assert ks_statistic(y, np.array([10, 20, 1, 2])) == 1.0  # perfect separation
    assert ks_statistic(y, np.array([1, 2, 1, 2])) == 0.0
    assert psi([50, 50], [50, 50]) == 0.0
    expected = (0.25 - 0.5) * math.log(0.5) + (0.75 - 0.5) * math.log(1.5)
    assert psi([1, 1], [1, 3]) == pytest.approx(expected)


def test_gains_table_bands_and_capture():
    score = pd.Series([500, 505, 519, 520, 539, 540, 575])
    y = pd.Series([1, 1, 0, 1, 0, 0, 0])
    table = gains_table(y, score, 20, 500, 579)
    assert table["band"].tolist() == ["500-519", "520-539", "540-559", "560-579"]
    assert table["count"].tolist() == [3, 2, 1, 1]
    assert table["bads"].tolist() == [2, 1, 0, 0]
    assert table["cum_capture_bads"].tolist() == [pytest.approx(2 / 3), 1.0, 1.0, 1.0]


def test_calibration_deciles_hold_every_row():
    rng = np.random.default_rng(1)
    p = rng.random(1000) * 0.3
    y = (rng.random(1000) < p).astype(int)
    table = calibration_table(y, p, 10)
    assert table["count"].sum() == 1000 and len(table) == 10
    assert table["predicted"].is_monotonic_increasing


def test_metrics_document(full_run):
    out, _ = full_run
    metrics = json.loads((out / "metrics.json").read_text())
    for sample in ("train", "test"):
        m = metrics[sample]
        assert m["gini"] == pytest.approx(2 * m["auc"] - 1, abs=2e-6)
        assert 0 < m["ks"] < 1 and 0 < m["brier"] < 0.25
    assert metrics["test"]["rows"] == 21721
    assert set(metrics["stability"]["csi"]) == {f["name"] for f in json.loads((out / "scorecard.json").read_text())["features"]}


def test_quality_bar_out_of_time(full_run):
    """The default card matches optbinning's default Scorecard on the same split (AUC 0.6825)."""
    out, _ = full_run
    metrics = json.loads((out / "metrics.json").read_text())
    print(metrics["test"])
    assert metrics["test"]["auc"] >= 0.683


def test_shap_in_points_agrees_with_the_card(full_run):
    out, result = full_run
    card = result.card
    explanations = pd.read_parquet(out / "processed" / EXPLANATIONS_FILE)
    woe = pd.read_parquet(out / "processed/woe_test.parquet")
    factor = card.document["scaling"]["factor"]
    shap_total = explanations[[f"shap_{f}" for f in card.feature_names]].sum(axis=1)
    for feature in card.features:
        name = feature["name"]
        unrounded = -factor * feature["coefficient"] * woe[name].to_numpy()
        shap = explanations[f"shap_{name}"].to_numpy()
        # For the linear model each SHAP value is the feature's unrounded points minus a constant
        # (their mean over the background sample).
        offset = unrounded - shap
        assert np.ptp(offset) < 1e-6, name
        # ...and the card's integer points are those unrounded points, rounded.
        assert np.max(np.abs(explanations[f"points_{name}"].to_numpy() - unrounded)) <= 0.5 + 1e-9
    gap = (explanations["shap_expected_score"] + shap_total - explanations["score"]).abs()
    assert gap.max() <= 0.5 * (len(card.features) + 1)


def test_reason_codes(full_run):
    out, result = full_run
    card = result.card
    explanations = pd.read_parquet(out / "processed" / EXPLANATIONS_FILE)
    codes = {f["reason_code"] for f in card.features}
    first = explanations["reason_1"].dropna()
    assert len(first) > 0.95 * len(explanations) and set(first) <= codes
    lost = explanations[[f"reason_{k}_points_lost" for k in range(1, 5)]].to_numpy()
    assert (np.diff(lost, axis=1) <= 0).all()  # ordered: the biggest cost first
    assert {"reason_1_text", "reason_4_text"} <= set(explanations.columns)
