"""Another lender's file through params.yaml alone: `dvc repro` (the README's whole pipeline,
report site included) in a copy of the project with a variant's file and params.

Two variants built from the real data (``tests/variants.py``, derivations in
``tests/fixtures/README.md``): A has no date, no state, no environment, Spanish names, string
labels, a stratified split, MXN and no business rules; B is the Mexican template
(``examples/mexico/params.yaml``) on a LendingClub sample mapped onto its fields. Each: the card
passes its schema and records its population, metrics.json holds the chosen split, rows in =
train + test + excluded, and no page of the site holds a word of LendingClub's data
(:data:`variants.FOREIGN_WORDS`) while each says, in its own words, what is not there for these
data (no published card, no benchmark run, no business rules). The copies hold the LendingClub
champion and benchmark results on purpose: the site must not show them for other data.
"""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml

import variants
from conftest import VENV_BIN
from scorecard import card as cardlib

pytestmark = pytest.mark.slow

APPLICANTS = "data/raw/solicitudes.csv"


def _repro(project):
    result = subprocess.run([str(VENV_BIN / "dvc"), "repro"], cwd=project, env=variants.env_with_venv(),
                            capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, (result.stdout[-6000:] + result.stderr[-6000:])
    return project


@pytest.fixture(scope="module")
def variant_a(raw_text, tmp_path_factory):
    project = tmp_path_factory.mktemp("variant_a") / "proyecto con espacios"
    variants.make_project(project, variants.variant_a_params(APPLICANTS), variants.variant_a_frame(raw_text), APPLICANTS)
    return _repro(project)


@pytest.fixture(scope="module")
def variant_b(raw_text, tmp_path_factory):
    project = tmp_path_factory.mktemp("variant_b") / "mexico"
    variants.make_project(project, variants.mexican_params(APPLICANTS), variants.mexican_fixture(raw_text), APPLICANTS)
    return _repro(project)


@pytest.fixture(scope="module", params=["a", "b"])
def project(request):
    return request.getfixturevalue(f"variant_{request.param}")


def test_the_card_passes_its_schema_and_records_its_population(project):
    params = yaml.safe_load((project / "params.yaml").read_text(encoding="utf-8"))
    card = cardlib.load(project / "scorecard/scorecard.json")
    assert card.document["created_from"]["dataset"]["id"] == params["dataset"]["id"]
    assert card.document["created_from"]["dataset"]["currency"] == "MXN"
    names = set(card.feature_names)
    assert names <= set(params["features"]["model_features"]) and len(names) >= 3


def test_metrics_hold_the_chosen_split(project):
    params = yaml.safe_load((project / "params.yaml").read_text(encoding="utf-8"))
    metrics = json.loads((project / "metrics.json").read_text())
    etl = json.loads((project / "data/processed/etl_summary.json").read_text())
    card = cardlib.load(project / "scorecard/scorecard.json").document["created_from"]
    assert etl["split"]["method"] == params["split"]["method"] == card.get("split", {"method": "time"})["method"]
    assert metrics["split"]["method"] == params["split"]["method"]
    if params["split"]["method"] == "time":
        assert metrics["split"]["test_window"] == f"{params['split']['test_start']}..{params['split']['test_end']}"
    else:
        assert (metrics["split"]["test_share"], metrics["split"]["seed"]) == (params["split"]["test_share"],
                                                                          params["split"]["seed"])
    assert metrics["test"]["rows"] == etl["rows_test"]
    assert etl["rows_in"] == etl["rows_train"] + etl["rows_test"] + etl["rows_excluded"]


def test_variant_a_says_why_the_month_view_is_absent(variant_a):
    metrics = json.loads((variant_a / "metrics.json").read_text())
    etl = json.loads((variant_a / "data/processed/etl_summary.json").read_text())
    assert etl["split"] == {"method": "stratified", "test_share": 0.2, "seed": 20240601,
                            "stratified_by": "target (bad / good)"}
    assert metrics["stability"]["by_month"].startswith("absent: data.date_column is null")
    lines = (variant_a / "reports/plots/stability_by_month.csv").read_text().splitlines()
    assert len(lines) == 1   # the header only
    card = cardlib.load(variant_a / "scorecard/scorecard.json")
    assert "train_window" not in card.document["created_from"]
    assert card.document["created_from"]["split"]["method"] == "stratified"


def test_variant_b_joins_conapo_and_counts_the_indeterminate(variant_b):
    import pandas as pd

    train = pd.read_parquet(variant_b / "data/processed/train.parquet")
    assert train["mx_marginalization_index"].notna().all()
    etl = json.loads((variant_b / "data/processed/etl_summary.json").read_text())
    reasons = {e["reason"]: e["rows"] for e in etl["exclusions"]}
    # The fixture maps the 701 loans granted outside the credit policy to 45 days past due.
    assert reasons["indeterminate outcome (30 <= dias_atraso_max < 90): neither bad nor good"] == 701
    card = cardlib.load(variant_b / "scorecard/scorecard.json")
    assert card.document["created_from"]["test_window"] == ["2023-01-01", "2023-12-31"]
    segments = pd.read_csv(variant_b / "reports/plots/performance_by_segment.csv")
    assert set(segments["segment"]) == {"escolaridad", "ingreso mensual (MXN)"}


@pytest.fixture(scope="module")
def pages(project):
    return variants.site_text(project)


def test_every_page_rendered(pages):
    expected = {"index.html", *(f"reports/{name}.html" for name in (
        "references", "model_documentation", "benchmarks", "calculator", "security", "chapters/01_etl",
        "chapters/02_binning", "chapters/03_scorecard", "chapters/04_evaluate", "chapters/05_explain"))}
    assert set(pages) == expected
    assert all(len(pages[page]) > 500 for page in expected)


def test_no_page_holds_a_word_of_lendingclubs_data(pages):
    found = {(page, word) for page, text in pages.items() for word in variants.FOREIGN_WORDS if word in text}
    assert not found


def test_the_pages_say_what_is_not_there_for_these_data(project, pages):
    params = yaml.safe_load((project / "params.yaml").read_text(encoding="utf-8"))
    d = params["dataset"]
    # the LendingClub champion of the copy is not compared with: another population
    assert "No card has been published for these data yet" in pages["index.html"]
    assert "has not been run for these data" in pages["reports/benchmarks.html"]
    assert d["lender"] in pages["index.html"] and d["name"] in pages["reports/model_documentation.html"]
    # no business rules in either variant: scores and reason codes only, on every page that decides
    no_rules = "No business rules are configured (rules.path: null in params.yaml)"
    for page in ("reports/chapters/05_explain.html", "reports/model_documentation.html", "reports/calculator.html"):
        assert no_rules in pages[page], page
    assert "Approve: applicant" not in pages["reports/chapters/05_explain.html"]
    assert "Middle score: applicant" in pages["reports/chapters/05_explain.html"]
