"""Business rules checked against the data (params.yaml) and the card before they decide anything.

``rules.path`` in params.yaml names the rules; :func:`scorecard.card.rules.rules_for` reads them and
:func:`scorecard.card.rules.check_fit` refuses rules written for other data (another dataset, fields the
applicant file does not have, cut-offs or bands outside the card's score range), naming the rules
file, the rule and the field. The ETL checks them before it reads a row. Variant A
(``tests/variants.py``: the real loans renamed to Spanish, another dataset id) is the "other data".
"""

from __future__ import annotations

import copy
import json

import pytest
import yaml

import scorecard
import variants
from conftest import ROOT
from scorecard.build import etl
from scorecard import report
from scorecard.config import parse_params
from scorecard.errors import ConfigError, RulesError, RulesMismatchError
from scorecard.card.rules import NO_RULES, check_fit, parse_rules, rules_for

RULES_FILE = ROOT / "business_rules/rules.json"


@pytest.fixture(scope="module")
def card():
    return scorecard.load(ROOT / "scorecard/scorecard.json")


@pytest.fixture(scope="module")
def rules_document():
    return json.loads(RULES_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def other_data_raw():
    """Variant A's params (another dataset, Spanish field names) with the project's rules named."""
    raw = variants.variant_a_params("data/raw/solicitudes.csv")
    raw["rules"] = {"path": "business_rules/rules.json"}
    return raw


def test_the_projects_rules_fit_its_data_and_card(params, card):
    rules = rules_for(params, root=ROOT, card=card)
    assert rules.version == "1.0.0" and (rules.decline_below, rules.approve_from) == (520, 540)
    assert rules.document["dataset"] == params.dataset.id == "lendingclub-2007-2011"
    # calibrated on another card of the same scaling: a warning, not a refusal
    warnings = check_fit(rules, params, card)
    assert len(warnings) == 1 and "calibrated on card 9008fd802fb71046" in warnings[0]


def test_rules_path_null_means_no_rules(default_raw):
    raw = copy.deepcopy(default_raw)
    raw["rules"] = {"path": None}
    params = parse_params(raw)
    assert rules_for(params, root=ROOT) is None
    assert report.rules_sentence(params, root=ROOT) == NO_RULES
    del raw["rules"]     # no block at all: no rules either (params.yaml names its rules explicitly)
    assert rules_for(parse_params(raw), root=ROOT) is None


def test_the_rules_block_is_not_part_of_the_card_version(default_raw, params):
    raw = copy.deepcopy(default_raw)
    raw["rules"] = {"path": None}
    assert parse_params(raw).digest() == params.digest()


def test_rules_for_other_data_are_refused_naming_file_rule_and_field(other_data_raw):
    params = parse_params(other_data_raw)
    with pytest.raises(RulesMismatchError) as caught:
        rules_for(params, root=ROOT)
    message = str(caught.value)
    assert isinstance(caught.value, ConfigError) and isinstance(caught.value, RulesError)
    lines = [line.strip() for line in message.splitlines()]
    assert lines[0] == ("business rules business_rules/rules.json cannot be applied to the applicant file of "
                        "params.yaml:")
    assert ("business_rules/rules.json: dataset: these rules were written for dataset 'lendingclub-2007-2011', "
            "but params.yaml names dataset 'fixture-a-no-date' (dataset.id): they are not applied to other data"
            in lines)
    # annual_inc and dti are LendingClub's names (here ingreso_anual, deuda_ingreso); loan_to_income is
    # still a derived feature of variant A, so its rule is not refused
    assert [line.split(": ")[1] for line in lines if "field '" in line] == [
        "policy_rules[0] 'min_annual_income'", "policy_rules[1] 'max_dti'"]
    assert "field 'annual_inc' is neither a field of the applicant file (data.columns in params.yaml)" in message
    assert "field 'loan_to_income'" not in message
    assert lines[-1].startswith("set rules.path in params.yaml to rules written for these data")


def test_the_etl_refuses_other_datas_rules_before_reading_a_row(other_data_raw, tmp_path):
    # the applicant file does not even exist: the rules are checked first
    params = parse_params(other_data_raw)
    with pytest.raises(RulesMismatchError, match="written for dataset 'lendingclub-2007-2011'"):
        etl.run(params, root=ROOT, out_dir=tmp_path)
    assert not list(tmp_path.iterdir())


def test_a_missing_rules_file_names_rules_path(default_raw, tmp_path):
    raw = copy.deepcopy(default_raw)
    raw["rules"] = {"path": "business_rules/our rules (v2).json"}
    with pytest.raises(RulesError) as caught:
        rules_for(parse_params(raw), root=tmp_path)
    assert str(caught.value).startswith("params.yaml rules.path: business rules file not found: "
                                        "business_rules/our rules (v2).json")


def test_cut_offs_and_bands_outside_the_cards_score_range(rules_document, card):
    document = copy.deepcopy(rules_document)
    document["cutoffs"].update(decline_below=610, approve_from=620)
    for band, low in zip(document["score_bands"][1:], (610, 612, 620, 630, 640)):
        band["min_score"] = low
    with pytest.raises(RulesMismatchError) as caught:
        check_fit(parse_rules(document, source="rules.json"), card=card)
    message = str(caught.value)
    assert "rules.json: cutoffs.approve_from: 620 is above the card's highest possible score 600" in message
    assert "decline_below" not in message      # 610 > 392: someone is declined
    assert "min_score" not in message          # unreachable bands warn (below), they do not refuse


def test_a_band_no_score_reaches_is_a_warning(rules_document, card):
    document = copy.deepcopy(rules_document)
    document["score_bands"][-1]["min_score"] = 640      # band A above the card's highest score 600
    warnings = check_fit(parse_rules(document, source="rules.json"), card=card)
    assert any("score_bands[5] 'A': min_score 640 is above the card's highest possible score 600: no applicant "
               "can reach the band (the card scores 392 to 600)" in w for w in warnings), warnings


def test_a_rule_on_a_categorical_field_is_refused(rules_document, params):
    document = copy.deepcopy(rules_document)
    document["policy_rules"][1]["field"] = "home_ownership"
    with pytest.raises(RulesMismatchError, match=r"rules.json: policy_rules\[1\] 'max_dti': field 'home_ownership' is a categorical "
                                                  r"feature \(data.columns.home_ownership in params.yaml\)"):
        check_fit(parse_rules(document, source="rules.json"), params)


def test_rules_of_another_dataset_do_not_fit_the_card(rules_document, card):
    document = dict(rules_document, dataset="banco-ejemplo-2024")
    with pytest.raises(RulesMismatchError) as caught:
        check_fit(parse_rules(document, source="rules.json"), card=card)
    assert (f"these rules were written for dataset 'banco-ejemplo-2024', but card {card.version} was built on "
            "dataset 'lendingclub-2007-2011'") in str(caught.value)


def test_the_mexican_template_names_no_rules():
    raw = yaml.safe_load((ROOT / "examples/mexico/params.yaml").read_text(encoding="utf-8"))
    assert raw["rules"] == {"path": None}


def test_fields_the_card_lacks_refuse_requests_but_not_rows_of_the_file(card, params):
    """A card without dti and loan_to_income (a card fitted on a small sample, say): the service
    and the calculator could not carry those fields, the explain stage reads them from its rows."""
    from types import SimpleNamespace

    kept = [f for f in card.features if f["name"] not in ("dti", "loan_to_income")]
    smaller = SimpleNamespace(features=kept, version="small0000000card", document=card.document)
    rules = rules_for(params, root=ROOT)
    with pytest.raises(RulesMismatchError) as caught:
        check_fit(rules, params, smaller)
    problems = [line.strip() for line in str(caught.value).splitlines() if "field '" in line]
    assert [p.split(": ")[1] for p in problems] == ["policy_rules[1] 'max_dti'", "policy_rules[2] 'max_loan_to_income'"]
    assert "so the request would not carry it" in problems[0]
    warnings = check_fit(rules, params, smaller, request=False)   # only the calibration warning
    assert len(warnings) == 1 and "not on small0000000card (same scaling)" in warnings[0]
