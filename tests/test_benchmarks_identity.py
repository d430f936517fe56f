"""Benchmark results record the data and the parameters they belong to, and the Compared page
(``reports/benchmarks.qmd``, through :mod:`scorecard.report`) shows a table only beside a card
of those data.

The benchmarks run here on variant A of ``tests/variants.py`` (2,000 real loans without a date or
a state, a stratified 20% test sample) with few bootstrap resamples and optbinning as the only
peer: what is checked is what they record and what the page says, not their numbers.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, write_csv
from scorecard import report
from scorecard.config import EvaluateSpec, Params, load_params
from scorecard.build.data import sha256_of

sys.path.insert(0, str(ROOT / "benchmarks"))
import ablation  # noqa: E402
import levers  # noqa: E402
import model_quality  # noqa: E402
import woe_direction  # noqa: E402

RESULTS = "reports/benchmarks"


@pytest.fixture(scope="module")
def variant(raw_text, tmp_path_factory) -> Path:
    """A project root holding variant A's applicant file and params.yaml (keys that this
    version of the parameters does not know yet are left out)."""
    from variants import variant_a_frame, variant_a_params

    root = tmp_path_factory.mktemp("variant_a")
    write_csv(variant_a_frame(raw_text), root / "data" / "applicants.csv")
    raw = variant_a_params("data/applicants.csv")
    if "rules" not in Params.model_fields:
        raw.pop("rules", None)
    if "segments" not in EvaluateSpec.model_fields:
        raw["evaluate"].pop("segments", None)
    (root / "params.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def variant_params(variant):
    return load_params(variant / "params.yaml")


@pytest.fixture(scope="module")
def variant_identity(variant, variant_params):
    return report.benchmark_identity(variant_params, variant)


@pytest.fixture(scope="module")
def quality(variant):
    """model_quality.py on the variant: our card and optbinning, 20 paired resamples."""
    assert model_quality.main(["--root", str(variant), "--peers", "optbinning", "--bootstrap", "20",
                               "--out-dir", RESULTS]) == 0
    document = json.loads((variant / RESULTS / "model_quality.json").read_text(encoding="utf-8"))
    with (variant / RESULTS / "model_quality.csv").open(newline="", encoding="utf-8") as handle:
        rows = {row["model"]: row for row in csv.DictReader(handle)}
    return document, rows


def test_model_quality_records_the_data_and_the_split_it_ran_on(quality, variant, variant_params):
    document, rows = quality
    identity = document["identity"]
    assert identity == report.benchmark_identity(variant_params, variant)
    assert identity["dataset_id"] == "fixture-a-no-date" == identity["population"]
    assert identity["applicants_sha256"] == sha256_of(variant / "data" / "applicants.csv")
    assert identity["params_digest"] == variant_params.digest()
    assert document["split"] == {"method": "stratified", "test_share": 0.2, "seed": 20240601, "rows_train": 1600,
                                 "rows_test": 400, "bad_rate_train": document["split"]["bad_rate_train"],
                                 "bad_rate_test": document["split"]["bad_rate_test"]}
    assert document["bootstrap_resamples"] == 20 and "20 paired bootstrap" in document[
        "card_minus_auc_low/high, card_minus_ks_low/high"]
    assert document["target"] == "bad (1 = incumplido)"
    assert set(rows) == {model_quality.CARD, model_quality.OPTBINNING}
    assert all(rows[m]["auc"] for m in rows) and rows[model_quality.OPTBINNING]["card_minus_auc_low"]


def test_the_page_shows_results_only_for_their_own_data(quality, variant, variant_params, variant_identity, params):
    document, _ = quality
    own = report.benchmark_status("model_quality", variant_params, variant_identity, root=variant)
    assert own.show and own.current and own.sentence == ""
    # The committed (LendingClub) results, seen from the variant's parameters: not shown, one
    # sentence with the exact command, and no word of the other data.
    other = report.benchmark_status("model_quality", variant_params, variant_identity, root=ROOT)
    assert not other.show and not other.current
    assert "has not been run for these data" in other.sentence
    assert "`.venv/bin/pip install -r benchmarks/requirements.txt && .venv/bin/python benchmarks/model_quality.py " \
           "--params params.yaml`" in other.sentence
    assert "fixture-a-no-date" in other.sentence and other.sentence.count(".") >= 1
    from variants import FOREIGN_WORDS

    assert not [w for w in FOREIGN_WORDS + ["lendingclub", "2011"] if w in other.sentence], other.sentence
    # The variant's results, seen from the default parameters: not shown either.
    identity = report.benchmark_identity(params, ROOT)
    there = report.benchmark_status("model_quality", params, identity, root=ROOT,
                                    results_path=variant / RESULTS / "model_quality.csv")
    assert not there.show and "has not been run for these data" in there.sentence
    # What the page says about the variant's own results is computed from them.
    import pandas as pd

    summary = report.model_quality_summary(pd.read_csv(variant / RESULTS / "model_quality.csv"), document)
    assert "a stratified 20% test sample (seed 20240601" in summary and "train on 1,600 rows, test on 400" in summary
    assert "20 paired resamples of the stratified 20% test sample" in summary
    assert not [w for w in FOREIGN_WORDS + ["2011", "out-of-time"] if w in summary], summary


def test_changed_parameters_show_the_table_with_a_warning(quality, variant, variant_identity):
    changed = load_params(variant / "params.yaml", {"binning.min_bin_size": 0.03})
    identity = report.benchmark_identity(changed, variant)
    assert identity["applicants_sha256"] == variant_identity["applicants_sha256"]
    status = report.benchmark_status("model_quality", changed, identity, root=variant)
    assert status.show and not status.current
    assert status.sentence.startswith("**The card has changed since this benchmark ran:**")
    assert variant_identity["params_digest"][:12] in status.sentence and identity["params_digest"][:12] in status.sentence


def test_results_without_a_record_of_their_data_are_not_shown(tmp_path, params):
    identity = report.benchmark_identity(params, ROOT)
    (tmp_path / "ablation.csv").write_text("variant\nall features\n", encoding="utf-8")
    status = report.benchmark_status("ablation", params, identity, results_path=tmp_path / "ablation.csv")
    assert not status.show and "do not record their data" in status.sentence
    assert "`.venv/bin/python benchmarks/ablation.py --params params.yaml`" in status.sentence
    missing = report.benchmark_status("levers", params, identity, results_path=tmp_path / "levers.csv",
                                      params_file="other.yaml")
    assert not missing.show and "there are no results" in missing.sentence and "--params other.yaml" in missing.sentence


@pytest.mark.parametrize("name", list(report.BENCHMARKS))
def test_the_committed_results_are_for_the_default_parameters(name, params):
    """Each committed table is shown beside the committed card, without a warning."""
    status = report.benchmark_status(name, params, report.benchmark_identity(params, ROOT), root=ROOT)
    assert status.show and status.current, status.sentence


def test_notes_are_shown_only_for_the_data_they_read(params, variant_identity):
    notes = ROOT / RESULTS / "notes.yaml"
    identity = report.benchmark_identity(params, ROOT)
    assert any("A second round" in p for p in report.benchmark_notes(notes, "levers", identity))
    assert report.benchmark_notes(notes, "ablation", identity)
    for name in report.BENCHMARKS:
        assert report.benchmark_notes(notes, name, variant_identity) == []


def test_woe_direction_needs_a_time_split(variant, variant_params, variant_identity, capsys):
    status = report.benchmark_status("woe_direction", variant_params, variant_identity, root=variant)
    assert not status.show and "needs an application date" in status.sentence
    assert "`split.method: stratified`" in status.sentence
    assert woe_direction.main(["--root", str(variant), "--out", "out/woe.csv"]) == 2
    assert "split.method is 'stratified'" in capsys.readouterr().err and not (variant / "out").exists()


def test_levers_on_a_file_without_dates_use_a_drawn_validation_slice(variant, variant_params, variant_identity):
    out = f"{RESULTS}/levers.csv"
    assert levers.main(["--root", str(variant), "--out", out, "--bootstrap", "20",
                        "--levers", "min_bin_size 0.08", "without emp_title_group", "without open_to_total_acc"]) == 0
    meta = report.benchmark_metadata(variant / out)
    assert meta["identity"] == variant_identity
    v = meta["validation"]
    assert (v["method"], v["share"], v["seed"]) == ("stratified", 0.2, 20240601)
    assert v["rows_fit"] + v["rows_validation"] == 1600 and v["rows_validation"] == 320
    assert meta["fit_overrides"] == {} and meta["bootstrap_resamples"] == 20   # the term fix is for time slices
    import pandas as pd

    table = pd.read_csv(variant / out)
    assert table["lever"].tolist() == ["baseline", "without emp_title_group", "without open_to_total_acc",
                                       "min_bin_size 0.08"]
    assert table.set_index("lever").loc["min_bin_size 0.08", "change"] == "larger bins (5% in the card)"
    assert "fit on 1,280 rows of the training sample and validate on the other 320 (20% drawn stratified by the " \
           "outcome, seed 20240601)" == report.validation_description(v)
    assert report.benchmark_status("levers", variant_params, variant_identity, root=variant).current


def test_a_lever_that_does_not_apply_is_not_run(variant_params):
    overrides: dict = {}
    changes = dict((name, change) for name, _, _, change in levers.LEVERS)
    assert levers.applicable(variant_params, overrides, changes["without emp_title_group"]) == (True, None)
    assert not levers.applicable(variant_params, overrides, changes["without inquiries override"])[0]
    assert not levers.applicable(variant_params, overrides, changes["with state_unemployment_rate"])[0]
    assert levers.applicable(variant_params, overrides, changes["max_p_value 0.15"]) == (True, 0.05)


def test_ablation_places_another_lenders_fields_in_one_group(variant, variant_params, variant_identity):
    groups = ablation.groups_of(list(variant_params.features.model_features))
    assert "environment" not in groups and "consultas_6m" in groups["ungrouped"]
    assert ablation.main(["--root", str(variant), "--out", f"{RESULTS}/ablation.csv"]) == 0
    meta = report.benchmark_metadata(variant / RESULTS / "ablation.csv")
    assert meta["identity"] == variant_identity and meta["split"]["method"] == "stratified"
    import pandas as pd

    table = pd.read_csv(variant / RESULTS / "ablation.csv")
    assert table["variant"].tolist() == ["all features"] + [f"without {g}" for g in groups]
    text = report.ablation_summary(table, meta)
    assert "stratified 20% test sample" in text and "2011" not in text


def test_split_descriptions():
    time_split = {"method": "time", "date_column": "d", "train_window": ["2015-01-01", "2017-12-31"],
                  "test_window": ["2018-01-01", "2018-06-30"], "rows_train": 1200, "rows_test": 300}
    assert report.split_description(time_split) == ("train on applications dated 2015-01-01 to 2017-12-31 on `d` "
                                                    "(1,200 rows), test on 2018-01-01 to 2018-06-30 (300 rows)")
    legacy = {"train": "2007-01-01..2010-12-31", "test": "2011-01-01..2011-12-31"}   # results before the method
    assert report.split_description(legacy) == "train on applications dated 2007-01-01 to 2010-12-31, test on " \
                                               "2011-01-01 to 2011-12-31"
    assert report.sample_phrase(legacy) == "the out-of-time test sample (2011-01-01 to 2011-12-31)"
    drawn = {"method": "random", "test_share": 0.25, "seed": 3, "rows_train": 750, "rows_test": 250}
    assert report.split_description(drawn) == "a random 25% test sample (seed 3): train on 750 rows, test on 250"


def _page_text(folder: Path, monkeypatch) -> str:
    """reports/benchmarks.qmd's prose and the Markdown its cells display, run in ``folder``."""
    import re

    shown = []
    monkeypatch.setattr(report, "_display_markdown", shown.append)
    monkeypatch.chdir(folder)
    source = (ROOT / "reports" / "benchmarks.qmd").read_text(encoding="utf-8")
    parts = re.split(r"```\{python\}\n(.*?)```", source.split("---", 2)[2], flags=re.S)
    namespace: dict = {}
    for i, part in enumerate(parts):
        if i % 2:
            exec(compile(part, "benchmarks.qmd", "exec"), namespace)   # noqa: S102 - the page's own cells
        else:
            shown.append(part)
    return "\n".join(shown)


def test_the_page_for_another_file_names_nothing_of_the_committed_data(variant, tmp_path, monkeypatch):
    """The Compared page rendered for variant A beside the committed (LendingClub) results: every
    benchmark says it has not been run for these data (or does not apply), no table is shown, and
    no word of the committed data appears."""
    import shutil

    from variants import FOREIGN_WORDS

    folder = tmp_path / "site"
    shutil.copytree(ROOT / RESULTS, folder / RESULTS)   # the committed results, not the variant's own runs
    shutil.copy(variant / "params.yaml", folder / "params.yaml")
    shutil.copytree(variant / "data", folder / "data")
    text = _page_text(folder, monkeypatch)
    assert text.count("has not been run for these data") == 3 and "needs an application date" in text
    assert "| model" not in text and "| variant" not in text and "| lever" not in text
    assert not [w for w in FOREIGN_WORDS + ["2010", "2011", "Reading it.** The applicant"] if w in text]


def test_the_page_for_the_committed_data_shows_every_table(monkeypatch):
    text = _page_text(ROOT, monkeypatch)
    assert "has not been run" not in text and "card has changed" not in text
    for header in ("| model", "| variant", "| lever", "| feature"):
        assert header in text
    assert "train on applications dated 2007-01-01 to 2010-12-31 on `issue_d` (20,814 rows)" in text
    assert "A second round" in text and "paired resamples" in text
