"""The exported card: valid against its JSON Schema, and scoring from the JSON alone gives
exactly the pipeline's points on every row — including NULLs, edge values, special values and
unseen categories."""

import copy
import json

import numpy as np
import pandas as pd
import pytest

from scorecard import card as cardlib
from scorecard.build.assemble import SCORES_FILES
from scorecard.errors import CardError


@pytest.fixture(scope="module")
def run(full_run):
    return full_run


@pytest.fixture(scope="module")
def card(run):
    out, _ = run
    return cardlib.load(out / "scorecard.json")


def test_committed_card_is_valid_and_current(root, run):
    out, _ = run
    committed = cardlib.load(root / "scorecard/scorecard.json")
    assert committed.document["schema_version"] == cardlib.SCHEMA_VERSION
    # The committed card is exactly what the pipeline gives on the committed data and params.
    assert (root / "scorecard/scorecard.json").read_bytes() == (out / "scorecard.json").read_bytes()


def test_schema_file_is_the_packaged_one(root):
    assert json.loads((root / "scorecard/scorecard.schema.json").read_text()) == cardlib.schema()


def test_json_alone_rescores_the_test_set_exactly(run, card, params):
    out, _ = run
    test = pd.read_parquet(out / "processed/test.parquet")
    pipeline = pd.read_parquet(out / "processed" / SCORES_FILES["test"])
    assert len(test) == len(pipeline) == 21721
    points = card.points(test)
    for feature in card.feature_names:
        np.testing.assert_array_equal(points[feature].to_numpy(), pipeline[f"points_{feature}"].to_numpy(), err_msg=feature)
    np.testing.assert_array_equal(card.score(test).to_numpy(), pipeline["score"].to_numpy())


def test_bins_agree_with_optbinning_on_edges_nulls_and_specials(run, card):
    """Rows built on purpose: every split value itself, just below it, NULL, special codes."""
    _, result = run
    binning = result.binning
    for feature in card.features:
        name = feature["name"]
        if feature["type"] == "numeric":
            edges = [b["lower"] for b in feature["bins"] if b["kind"] == "range" and b["lower"] is not None]
            specials = [v for b in feature["bins"] if b["kind"] == "special" for v in b["values"]]
            values = edges + [np.nextafter(e, -np.inf) for e in edges] + [np.nan, -1e12, 1e12] + specials
        else:
            values = [c for b in feature["bins"] if b["kind"] == "categories" for c in b["categories"]] + [None]
        frame = pd.DataFrame({name: pd.Series(values, dtype=object if feature["type"] == "categorical" else float)})
        ours = card._numeric_bins(feature, frame[name]) if feature["type"] == "numeric" else card._categorical_bins(feature, frame[name])[0]
        theirs = binning.transform(frame, "indices", [name])[name].to_numpy()
        # optbinning numbers the special bin len(splits)+1 and missing len(splits)+2 (its own order);
        # map through the card's bin kinds to compare like with like.
        kinds = {b["id"]: b["kind"] for b in feature["bins"]}
        n_regular = sum(1 for k in kinds.values() if k in ("range", "categories"))
        theirs_ids = []
        for index in theirs:
            if index < n_regular:
                theirs_ids.append(index)
            else:
                kind = "special" if index == n_regular else "missing"
                theirs_ids.append(next(i for i, k in kinds.items() if k == kind))
        np.testing.assert_array_equal(ours, np.array(theirs_ids), err_msg=name)


def test_edge_value_belongs_to_the_bin_whose_lower_edge_it_is(card):
    feature = next(f for f in card.features if f["type"] == "numeric" and sum(b["kind"] == "range" for b in f["bins"]) > 2)
    second = [b for b in feature["bins"] if b["kind"] == "range"][1]
    frame = pd.DataFrame({feature["name"]: [second["lower"], np.nextafter(second["lower"], -np.inf)]})
    ids = card._numeric_bins(feature, frame[feature["name"]])
    assert ids.tolist() == [second["id"], second["id"] - 1]


def test_unseen_category_scored_by_rule_and_flagged(card, run):
    out, _ = run
    test = pd.read_parquet(out / "processed/test.parquet").head(3).copy()
    categorical = next(f for f in card.features if f["type"] == "categorical")
    test[categorical["name"]] = ["never_seen_before", None, test[categorical["name"]].iloc[2]]
    applied = card.apply(test)
    unseen_bin = categorical["bins"][categorical["unseen"]["bin_id"]]
    missing_bin = next(b for b in categorical["bins"] if b["kind"] == "missing")
    assert applied[f"points_{categorical['name']}"].iloc[0] == unseen_bin["points"]
    assert unseen_bin["points"] == min(b["points"] for b in categorical["bins"] if b["kind"] == "categories")
    assert applied[f"points_{categorical['name']}"].iloc[1] == missing_bin["points"]
    assert applied[cardlib.UNSEEN_FLAG].tolist() == [categorical["name"], "", ""]


def test_integer_categories_read_as_text(card, run):
    out, _ = run
    test = pd.read_parquet(out / "processed/test.parquet").head(2).copy()
    if "term" not in card.feature_names:
        pytest.skip("term not in the card")
    as_text = card.points(test)["term"]
    test["term"] = test["term"].astype(int)
    assert card.points(test)["term"].tolist() == as_text.tolist()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns=["revol_util"]), "missing required column(s) ['revol_util']"),
        (lambda f: f.assign(revol_util=["high"] + [0.5] * (len(f) - 1)), "column 'revol_util': expected a number, got ['high']"),
        (lambda f: f.assign(dti=[np.inf] + [10.0] * (len(f) - 1)), "column 'dti': expected a finite number"),
    ],
)
def test_bad_scoring_input_names_the_field(card, run, change, message):
    out, _ = run
    test = pd.read_parquet(out / "processed/test.parquet").head(5)
    if not {"revol_util", "dti"} <= set(card.feature_names):
        pytest.skip("feature not in the card")
    with pytest.raises(CardError) as error:
        card.score(change(test))
    print(error.value)
    assert message in str(error.value)


def test_schema_violation_names_the_path(card):
    broken = copy.deepcopy(card.document)
    del broken["features"][0]["bins"][0]["points"]
    with pytest.raises(CardError, match=r"invalid scorecard: features/0/bins/0"):
        cardlib.Card(broken)


def test_validation_skips_the_iri_grammar_and_leaves_it_importable(root):
    """Validating a card does not import rfc3987_syntax (a grammar compiled at import: seconds
    of every command's start-up; the schemas assert no formats), and the package stays
    importable afterwards for whoever needs it."""
    import subprocess
    import sys

    code = ("import sys; from scorecard import card; from scorecard.card import rules; card.load('scorecard/scorecard.json'); "
            "rules.load_rules('business_rules/rules.json'); "
            "print('rfc3987_syntax' in sys.modules, sys.modules.get('rfc3987_syntax', 0) is None); "
            "import importlib.util; print(importlib.util.find_spec('rfc3987_syntax') is not None)")
    run = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    imported, blocked, installed = run.stdout.split()[:3]
    assert (imported, blocked) == ("False", "False")
    if installed == "True":   # a later import works: the block was lifted
        later = subprocess.run([sys.executable, "-c", code + "; import rfc3987_syntax"], cwd=root,
                               capture_output=True, text=True, timeout=120)
        assert later.returncode == 0, later.stderr


def test_overlapping_ranges_are_refused(card):
    broken = copy.deepcopy(card.document)
    feature = next(f for f in broken["features"] if f["type"] == "numeric")
    ranges = [b for b in feature["bins"] if b["kind"] == "range"]
    ranges[0]["upper_inclusive"] = True  # the edge would now belong to two bins
    with pytest.raises(CardError, match="must belong to exactly one of bins"):
        cardlib.Card(broken)


def test_card_file_errors(tmp_path):
    with pytest.raises(CardError, match="scorecard file not found"):
        cardlib.load(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(CardError, match="not valid JSON"):
        cardlib.load(tmp_path / "bad.json")


def tiny_card() -> dict:
    """A hand-made two-feature card with known points."""
    def stats(i, kind, points, **extra):
        return {"id": i, "kind": kind, "count": 10, "count_bad": 1, "event_rate": 0.1, "woe": 0.0, "points": points, **extra}
    return {
        "schema_version": "1.0.0", "model_version": "0123456789abcdef", "name": "tiny",
        "target": {"event": "bad", "definition": "x", "score_direction": "higher is better"},
        "created_from": {"package_version": "0", "params_sha256": "0" * 64, "data": [{"path": "x", "sha256": "0" * 64}],
                         "train_window": ["2000-01-01", "2000-12-31"], "test_window": ["2001-01-01", "2001-12-31"]},
        "scaling": {"pdo": 20, "base_score": 600, "base_odds": 50, "factor": 28.85, "offset": 487.1, "intercept": -1.0, "base_points": 500},
        "score_range": {"min": 470, "max": 560},
        "features": [
            {"name": "income", "type": "numeric", "description": "", "reason_code": "R01", "reason_text": "Income", "coefficient": -1.0,
             "bins": [stats(0, "range", -20, lower=None, upper=1000.0, lower_inclusive=False, upper_inclusive=False),
                      stats(1, "range", 40, lower=1000.0, upper=None, lower_inclusive=True, upper_inclusive=False),
                      stats(2, "missing", 0)]},
            {"name": "home", "type": "categorical", "description": "", "reason_code": "R02", "reason_text": "Home", "coefficient": -1.0,
             "bins": [stats(0, "categories", 20, categories=["OWN"]), stats(1, "categories", -10, categories=["RENT"]),
                      stats(2, "missing", 0)],
             "unseen": {"bin_id": 1, "rule": "lowest_points_category_bin", "flag": True}},
        ],
    }


def test_points_scores_and_reasons_pinned_on_a_tiny_card():
    card = cardlib.Card(tiny_card())
    frame = pd.DataFrame({"income": [999.99, 1000.0, None, 5.0], "home": ["OWN", "RENT", "CASTLE", None]})
    assert card.points(frame).to_dict("list") == {"income": [-20, 40, 0, -20], "home": [20, -10, -10, 0]}
    assert card.score(frame).tolist() == [500, 530, 490, 480]
    reasons = card.reasons(frame, n=2)
    # Row 0 loses 60 on income (best 40) and nothing on home; row 3 loses 60 on income, 20 on home.
    assert reasons["reason_1"].tolist() == ["R01", "R02", "R01", "R01"]
    assert reasons["reason_1_points_lost"].tolist() == [60, 30, 40, 60]
    assert reasons["reason_2"].tolist() == [None, None, "R02", "R02"]
    assert reasons["reason_2_points_lost"].tolist() == [0, 0, 30, 20]
    assert card.apply(frame)[cardlib.UNSEEN_FLAG].tolist() == ["", "", "home", ""]


def test_round_floats_keeps_decision_values_exact():
    bin_ = {"id": 0, "kind": "range", "lower": 0.21550000458955765, "upper": None, "count": 3,
            "woe": 0.36691480419274214, "event_rate": 0.109385, "points": 12, "lower_inclusive": True}
    special = {"kind": "special", "values": [0.1234567890123456], "woe": -1.7316183451569735}
    rounded = cardlib.round_card_floats({"scaling": {"intercept": -1.7316183451569733, "base_points": 537},
                                         "features": [{"coefficient": -0.6805260920692431, "bins": [bin_, special]}]})
    assert rounded["scaling"] == {"intercept": -1.73161834516, "base_points": 537}
    assert rounded["features"][0]["coefficient"] == -0.680526092069
    assert rounded["features"][0]["bins"][0] == {**bin_, "woe": 0.366914804193}
    assert rounded["features"][0]["bins"][1] == {**special, "woe": -1.73161834516}
    # The last-digit difference of the issue is gone after rounding.
    assert cardlib.round_floats(-1.7316183451569735) == cardlib.round_floats(-1.7316183451569733)
    assert cardlib.round_floats([1.0, 2, True, None, "x", float("nan")])[:5] == [1.0, 2, True, None, "x"]


def test_committed_card_floats_are_at_the_stated_precision(root):
    """Every float of the card but the bin edges and special values has at most
    FLOAT_DIGITS significant digits; the committed metrics.json too."""
    def floats(value, path=""):
        if isinstance(value, float):
            yield path, value
        elif isinstance(value, dict):
            for key, item in value.items():
                if key not in cardlib.DECISION_KEYS:
                    yield from floats(item, f"{path}/{key}")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                yield from floats(item, f"{path}/{i}")

    for name in ("scorecard/scorecard.json", "metrics.json"):
        document = json.loads((root / name).read_text())
        found = list(floats(document))
        assert found, name
        long = [(path, v) for path, v in found if float(f"{v:.{cardlib.FLOAT_DIGITS}g}") != v]
        assert not long, (name, long[:5])
