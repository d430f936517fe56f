"""The data describe themselves: the ``dataset`` block of params.yaml gives every page its words
(lender, country, currency, the bad outcome, citations), the card records its population, and a
card is compared only with cards of the same population."""

import copy

import pytest

from scorecard.build import assemble
from scorecard import card as cardlib, report
from scorecard.watch import promote
from scorecard.config import parse_params
from scorecard.errors import ConfigError


def test_words_units_and_citations_leave_the_model_version_alone(default_raw):
    base = parse_params(default_raw).digest()
    raw = copy.deepcopy(default_raw)
    raw["dataset"].update(name="Another name", lender="Another lender", currency="MXN", bad_outcome="incumplido")
    raw["dataset"]["citations"] = []
    raw["data"]["columns"]["loan_amnt"]["unit"] = "pesos"
    raw["environment"]["sources"]["state_median_income"]["citation"]["text"] = "Another citation."
    assert parse_params(raw).digest() == base
    raw["data"]["columns"]["loan_amnt"]["max"] = 2_000_000   # what is checked is part of the card
    assert parse_params(raw).digest() != base


def test_the_committed_card_records_its_population(card, params):
    dataset = card.document["created_from"]["dataset"]
    assert dataset == {"id": "lendingclub-2007-2011", "name": params.dataset.name, "lender": "LendingClub",
                       "country": "United States", "currency": "USD", "bad_outcome": "charged off"}
    assert cardlib.population(card.document) == "lendingclub-2007-2011"


def test_without_a_dataset_id_the_applicant_file_is_the_identity(default_raw):
    raw = copy.deepcopy(default_raw)
    del raw["dataset"]
    params = parse_params(raw)
    identity = assemble.dataset_identity(params, "ab" * 32)
    assert identity == {"id": "sha256:abababababababab", "name": "the applicant file", "bad_outcome": "bad"}


def test_protected_fields_must_be_declared_columns(default_raw):
    raw = copy.deepcopy(default_raw)
    raw["dataset"]["protected_fields"] = ["edad"]
    with pytest.raises(ConfigError, match=r"dataset.protected_fields: \['edad'\] are not declared in data.columns"):
        parse_params(raw)


def _document(dataset_id=None, applicants="a" * 64):
    created = {"data": [{"path": "data/raw/x.csv", "sha256": applicants}]}
    if dataset_id:
        created["dataset"] = {"id": dataset_id}
    return {"model_version": "0" * 16, "created_from": created}


def test_same_population_by_id_or_by_the_applicant_file():
    assert cardlib.same_population(_document("a"), _document("a", "b" * 64))
    assert not cardlib.same_population(_document("a"), _document("b"))
    # A card of schema 1.0 (no dataset id) is of the same population when its applicant file is.
    assert cardlib.same_population(_document(None), _document("lendingclub-2007-2011"))
    assert not cardlib.same_population(_document(None), _document("x", "b" * 64))


def test_promotion_never_compares_cards_of_other_data(card, test_set, params):
    other = copy.deepcopy(card.document)
    other["created_from"]["dataset"]["id"] = "mx-personal-2025"
    other["created_from"]["data"][0]["sha256"] = "c" * 64
    comparison = promote.compare(card, cardlib.Card(other), test_set.head(200), width=20)
    assert comparison.champion_problem.startswith(
        "the champion was built on population 'lendingclub-2007-2011', the challenger on 'mx-personal-2025'")
    decision = promote.decide_on(comparison, params.promotion)
    assert decision.outcome == "kept"


def test_pages_take_their_words_from_the_dataset_block(default_raw, card):
    raw = copy.deepcopy(default_raw)
    raw["dataset"] = {"id": "mx", "name": "Solicitudes 2024", "lender": "Financiera Ejemplo", "country": "Mexico",
                      "currency": "MXN", "product": "personal loan", "rows_are": "solicitudes",
                      "bad_outcome": "incumplimiento", "protected_fields": ["annual_inc"]}
    params = parse_params(raw)
    etl = {"rows_in": 100, "rows_train": 80, "rows_test": 20, "rows_excluded": 0, "samples": [{"sample": "train"}],
           "split": {"method": "stratified", "test_share": 0.2, "seed": 7}}
    text = report.data_sentence(card.document, params, etl)
    assert text.startswith("100 solicitudes of Financiera Ejemplo in Mexico — Solicitudes 2024 —")
    assert "80 in training and 20 in a test sample of 20% drawn stratified by the outcome" in text
    scores = report.what_the_card_scores(card.document, params)
    assert "ends **incumplimiento**" in scores and "charged off" not in scores
    # income_to_state_median and loan_to_income are built from annual_inc: the page says so.
    use = report.intended_use(card.document, params)
    assert "**the card uses `loan_to_income` (from `annual_inc`), `income_to_state_median` (from `annual_inc`)" in use
    assert "in Mexico" in use and "United States" not in use
    table = report.sources_table(params)
    assert table.loc[0, "licence / terms"] == "not stated in params.yaml (dataset.citations)"
    assert report.citations(params) == [s.citation.text for s in params.environment.enabled_sources().values()]


def test_the_default_pages_cite_every_enabled_source(params):
    cited = report.citations(params)
    assert cited[0].startswith("LendingClub Corporation.") and len(cited) == 3
    assert "in the United States" in report.intended_use({"features": []}, params)
