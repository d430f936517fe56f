"""Champion/challenger: the promotion rules on constructed numbers, the comparison of two real
cards on the same applicants, and the champion directory."""

import copy
import json

import pytest

from scorecard.watch import promote
from scorecard.card import Card
from scorecard.config import PromotionSpec, load_params
from scorecard.errors import ConfigError, ScorecardError

RULES = PromotionSpec(max_auc_drop=0.005, max_score_psi=0.1)


def metrics(version, auc):
    return {"model_version": version, "auc": auc}


def test_first_run_without_a_champion_promotes():
    d = promote.decide(metrics("new", 0.60), None, None, RULES)
    assert d.outcome == "promoted" and d.promoted
    assert "no champion" in d.reasons[0] and d.champion is None


def test_better_or_slightly_worse_challenger_is_promoted():
    better = promote.decide(metrics("new", 0.700), metrics("old", 0.690), 0.03, RULES)
    assert better.outcome == "promoted" and better.auc_change == pytest.approx(0.01)
    # a drop of exactly max_auc_drop is allowed ("not worse by more than")
    at_limit = promote.decide(metrics("new", 0.685), metrics("old", 0.690), 0.03, RULES)
    assert at_limit.outcome == "promoted", at_limit.reasons
    assert "0.6850" in at_limit.reasons[0] and "-0.0050" in at_limit.reasons[0]


def test_auc_drop_too_large_keeps_the_champion():
    d = promote.decide(metrics("new", 0.6849), metrics("old", 0.690), 0.03, RULES)
    assert d.outcome == "kept" and not d.promoted
    assert d.reasons[0].startswith("AUC drop too large: out-of-time AUC 0.6849 against the champion's 0.6900")
    assert "at most 0.005" in d.reasons[0]
    assert d.champion == "old" and d.challenger == "new"


def test_score_psi_too_high_keeps_the_champion():
    d = promote.decide(metrics("new", 0.75), metrics("old", 0.69), 0.1, RULES)  # PSI must be *below* the limit
    assert d.outcome == "kept"
    assert d.reasons[0].startswith("scores moved too much: score PSI between champion and challenger 0.1000")
    assert any("AUC" in r for r in d.reasons[1:])  # the rule that passed is reported too


def test_both_rules_failing_are_both_named():
    d = promote.decide(metrics("new", 0.60), metrics("old", 0.69), 0.4, RULES)
    assert d.outcome == "kept"
    assert d.reasons[0].startswith("AUC drop too large") and d.reasons[1].startswith("scores moved too much")


def test_same_card_is_unchanged():
    d = promote.decide(metrics("same", 0.69), metrics("same", 0.69), 0.0, RULES, same_card=True)
    assert d.outcome == "unchanged" and not d.promoted
    assert "challenger equals champion" in d.reasons[0]


def test_a_champion_that_cannot_be_scored_is_kept_with_the_reason():
    d = promote.decide(metrics("new", 0.7), {"model_version": "old"}, None, RULES,
                       champion_problem="missing required column(s) ['x']")
    assert d.outcome == "kept" and "missing required column(s) ['x']" in d.reasons[0]


def test_thresholds_come_from_params_and_are_checked(root):
    params = load_params(root / "params.yaml")
    assert params.promotion.max_auc_drop >= 0 and 0 < params.promotion.max_score_psi
    with pytest.raises(ConfigError, match="promotion.max_auc_drop: Input should be greater than or equal to 0"):
        load_params(root / "params.yaml", {"promotion.max_auc_drop": -0.1})
    with pytest.raises(ConfigError, match="promotion.max_scor_psi: unknown key"):
        load_params(root / "params.yaml", {"promotion.max_scor_psi": 0.1})
    # thresholds decide what happens to a card, not how it is built: same model_version
    assert load_params(root / "params.yaml", {"promotion.max_score_psi": 0.5}).digest() == params.digest()


# -- real cards on the real out-of-time applicants ---------------------------------------------
def shifted(card: Card, points: int) -> Card:
    """The card with every applicant ``points`` higher, under another version."""
    doc = copy.deepcopy(card.document)
    doc["scaling"]["base_points"] += points
    doc["score_range"] = {k: v + points for k, v in doc["score_range"].items()}
    doc["model_version"] = "feedfacecafebeef"
    return Card(doc)


def test_compare_scores_both_cards_on_the_same_applicants(card, test_set):
    same = promote.compare(card, Card(copy.deepcopy(card.document)), test_set, width=20)
    assert same.same_card and same.score_psi == 0.0 and same.rows == len(test_set)
    assert same.champion == same.challenger
    assert promote.decide_on(same, RULES).outcome == "unchanged"

    # the same ranking (equal AUC) but every score 40 points higher: kept for the score shift
    moved = promote.compare(card, shifted(card, 40), test_set, width=20)
    assert not moved.same_card
    assert moved.challenger["auc"] == moved.champion["auc"]
    assert moved.score_psi > 1
    decision = promote.decide_on(moved, RULES)
    assert decision.outcome == "kept" and decision.reasons[0].startswith("scores moved too much")

    # a small shift (under a band) keeps the PSI low: promoted
    nudged = promote.compare(card, shifted(card, 1), test_set, width=20)
    assert nudged.score_psi < RULES.max_score_psi
    assert promote.decide_on(nudged, RULES).outcome == "promoted"


def test_compare_when_the_champion_needs_a_column_the_applicants_lack(card, test_set):
    dropped = card.feature_names[0]
    doc = copy.deepcopy(shifted(card, 0).document)  # a challenger without that feature
    doc["features"] = [f for f in doc["features"] if f["name"] != dropped]
    result = promote.compare(card, Card(doc), test_set.drop(columns=[dropped]), width=20)
    assert result.champion_problem and dropped in result.champion_problem
    assert result.challenger["auc"] > 0.5 and result.score_psi is None
    assert promote.decide_on(result, RULES).outcome == "kept"


def test_install_writes_the_champion_and_refuses_what_was_not_promoted(root, tmp_path):
    card_path, metrics_path = root / "scorecard/scorecard.json", root / "metrics.json"
    version = json.loads(card_path.read_text())["model_version"]
    kept = promote.decide(metrics(version, 0.6), metrics("old", 0.69), 0.0, RULES)
    with pytest.raises(ScorecardError, match="decision is 'kept'"):
        promote.install(card_path, metrics_path, kept, tmp_path / "champion")
    wrong = promote.decide(metrics("0000000000000000", 0.6), None, None, RULES)
    with pytest.raises(ScorecardError, match="it is card"):
        promote.install(card_path, metrics_path, wrong, tmp_path / "champion")
    assert not (tmp_path / "champion" / "scorecard.json").exists()

    first = promote.decide(metrics(version, 0.6), None, None, RULES)
    where = promote.install(card_path, metrics_path, first, tmp_path / "champion", when="2026-01-01 00:00 UTC")
    assert (where / "scorecard.json").read_bytes() == card_path.read_bytes()
    assert (where / "metrics.json").read_bytes() == metrics_path.read_bytes()
    record = json.loads((where / "promotion.json").read_text())
    assert record["outcome"] == "promoted" and record["promoted_at"] == "2026-01-01 00:00 UTC"
    assert promote.load_champion(where).version == version
    assert promote.load_champion(tmp_path / "nowhere") is None
    assert not list(where.glob(".*.part"))
