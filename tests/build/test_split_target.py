"""Another lender's file through params.yaml alone: a random or stratified split when there is no
application date, no environment source, and a target given by other labels or a numeric rule
with an indeterminate class.

Every fixture is a sample of the real LendingClub file (conftest ``raw_text`` / ``sample_rows``),
reshaped as another lender would bring it: described in each test.
"""

import copy

import numpy as np
import pytest
import yaml

from conftest import ROOT, sample_rows, write_csv
from variants import CHARGED_OFF, without_date_and_state
from scorecard.build import etl
from scorecard.config import parse_params
from scorecard.build.data import INDETERMINATE, TARGET, validate_applicants
from scorecard.errors import ConfigError, DataValidationError

POLICY = {"Does not meet the credit policy. Status:Charged Off", "Does not meet the credit policy. Status:Fully Paid"}


@pytest.fixture(scope="module")
def no_date_file(raw_text, tmp_path_factory):
    """2,000 real loans (400 per issue year) with the issue date and the state removed and the
    outcome relabelled 'bad' (charged off) / 'good' (fully paid), with an id column."""
    frame = sample_rows(raw_text, 400, seed=3).drop(columns=["issue_d", "addr_state"]).reset_index(drop=True)
    frame["loan_status"] = np.where(frame["loan_status"].isin(CHARGED_OFF), "bad", "good")
    frame.insert(0, "loan_ref", [f"L{i:05d}" for i in range(len(frame))])
    return frame


def run_etl(raw, frame, tmp_path, name="applicants.csv"):
    params = parse_params(raw)
    return etl.run(params, root=ROOT, applicants_path=write_csv(frame, tmp_path / name))


def test_stratified_split_keeps_the_bad_rate(raw, no_date_file, tmp_path):
    result = run_etl(without_date_and_state(raw), no_date_file, tmp_path)
    s = result.summary
    n, bads = len(no_date_file), int((no_date_file["loan_status"] == "bad").sum())
    assert s["rows_in"] == n == s["rows_train"] + s["rows_test"] and s["rows_excluded"] == 0
    assert abs(s["rows_test"] - 0.2 * n) <= 1
    # The bads of each sample are within one row of their share of all bads.
    assert abs(int(result.test[TARGET].sum()) - 0.2 * bads) <= 1
    assert abs(int(result.train[TARGET].sum()) - 0.8 * bads) <= 1
    assert s["split"] == {"method": "stratified", "test_share": 0.2, "seed": 7,
                          "stratified_by": "target (bad / good)"}
    assert "issue_d" not in result.train and "first_date" not in s["samples"][0]
    assert set(result.train["applicant_id"]).isdisjoint(result.test["applicant_id"])


def test_same_seed_same_split_whatever_the_row_order(raw, no_date_file, tmp_path):
    raw["data"]["id_column"] = "loan_ref"
    params = without_date_and_state(raw, {"method": "random", "test_share": 0.25, "seed": 11})
    first = run_etl(params, no_date_file, tmp_path, "a.csv")
    again = run_etl(params, no_date_file, tmp_path, "b.csv")
    shuffled = run_etl(params, no_date_file.sample(frac=1, random_state=1), tmp_path, "c.csv")
    test_ids = set(first.test["applicant_id"])
    assert len(test_ids) == 500 and first.summary["split"] == {"method": "random", "test_share": 0.25, "seed": 11}
    assert list(again.test["applicant_id"]) == list(first.test["applicant_id"])
    assert set(shuffled.test["applicant_id"]) == test_ids      # same ids, same split
    params["split"]["seed"] = 12
    assert set(run_etl(params, no_date_file, tmp_path, "d.csv").test["applicant_id"]) != test_ids


def test_time_split_is_refused_without_a_date_column(raw):
    params = without_date_and_state(raw, {"method": "time", "train_start": "2007-01-01", "train_end": "2010-12-31",
                                          "test_start": "2011-01-01", "test_end": "2011-12-31"})
    with pytest.raises(ConfigError) as error:
        parse_params(params, "params.yaml")
    print(error.value)
    assert "split.method 'time'" in str(error.value) and "data.date_column is null" in str(error.value)


@pytest.mark.parametrize("no_source", ["empty", "disabled", "join_key_null"])
def test_no_environment_source(raw, raw_text, tmp_path, no_source):
    """The real file and dates with no environment source: the ETL runs and joins nothing."""
    if no_source == "disabled":
        for source in raw["environment"]["sources"].values():
            source["enabled"] = False
    else:
        raw["environment"]["sources"] = {}
        if no_source == "join_key_null":
            raw["environment"]["join_key"] = None
    raw["features"]["model_features"].remove("state_median_income")
    raw["features"]["model_features"].remove("income_to_state_median")
    del raw["features"]["derived"]["income_to_state_median"]
    raw["binning"]["monotonic_trend_by_feature"].pop("income_to_state_median")
    evaluate = raw.setdefault("evaluate", {})
    evaluate["segments"] = [s for s in evaluate.get("segments", []) if s["column"] != "addr_state"]
    result = run_etl(raw, sample_rows(raw_text, 60), tmp_path)
    env = ("state_unemployment_rate", "state_median_income", "mx_marginalization_index")
    assert not any(c in frame for frame in (result.train, result.test) for c in env)
    assert result.summary["environment"] == {"sources": [], "columns": [], "note": "no environment source"}
    assert result.summary["rows_train"] + result.summary["rows_test"] == 300


def days_past_due(status):
    """A numeric days-past-due column DERIVED from the real loan_status (the file has none):
    charged off -> 120 days, fully paid -> 0, and the loans granted outside the credit policy
    -> 60 days, so that they fall in the indeterminate band of the rule below."""
    return np.where(status.isin(POLICY), 60, np.where(status.isin(CHARGED_OFF), 120, 0))


def test_numeric_rule_excludes_indeterminate_rows_by_reason(raw, raw_text, tmp_path):
    frame = sample_rows(raw_text, 200, seed=5).reset_index(drop=True)
    frame["dpd"] = days_past_due(frame["loan_status"])
    frame = frame.drop(columns="loan_status")
    raw["data"]["columns"].pop("loan_status")
    raw["data"]["columns"]["dpd"] = {"type": "numeric", "min": 0, "nullable": False, "description": "Days past due"}
    raw["data"]["target"] = {"column": "dpd", "rule": {"bad_from": 90, "good_below": 30}}
    # The 2007 loans are outside the training window: a row both indeterminate and too early is
    # counted once, under its first reason (the outcome).
    raw["split"]["train_start"] = "2008-01-01"
    result = run_etl(raw, frame, tmp_path)
    s = result.summary
    reasons = {e["reason"]: e["rows"] for e in s["exclusions"]}
    indeterminate = int((frame["dpd"] == 60).sum())
    early = int(((frame["dpd"] != 60) & (frame["issue_d"] < "2008-01-01")).sum())
    assert indeterminate > 0 and early > 0 and ((frame["dpd"] == 60) & (frame["issue_d"] < "2008-01-01")).any()
    assert reasons["indeterminate outcome (30 <= dpd < 90): neither bad nor good"] == indeterminate
    assert reasons["application date before the training window"] == early
    assert s["rows_in"] == len(frame) == s["rows_train"] + s["rows_test"] + s["rows_excluded"]
    assert s["rows_excluded"] == indeterminate + early
    kept = frame[(frame["dpd"] != 60) & (frame["issue_d"] >= "2008-01-01")]
    assert int(result.train[TARGET].sum() + result.test[TARGET].sum()) == int((kept["dpd"] == 120).sum())
    assert s["target"] == {"column": "dpd", "rule": {"bad_from": 90.0, "good_below": 30.0}, "bad": "dpd >= 90",
                           "good": "dpd < 30", "indeterminate": "30 <= dpd < 90"}
    assert parse_params(raw).data.target.definition().startswith("dpd >= 90 (good: dpd < 30;")


def test_rule_bounds_are_inclusive_as_stated(raw, raw_text):
    """bad_from is bad, good_below is not good: 89.5 and 30 are indeterminate, 29.9 good, 90 bad."""
    frame = sample_rows(raw_text, 1).reset_index(drop=True).iloc[:5].copy()
    frame["dpd"] = ["29.9", "30", "89.5", "90", "400"]
    raw["data"]["columns"]["dpd"] = {"type": "numeric", "nullable": True}
    raw["data"]["target"] = {"column": "dpd", "rule": {"bad_from": 90, "good_below": 30}}
    typed = validate_applicants(frame, parse_params(raw))
    assert list(typed[INDETERMINATE]) == [False, True, True, False, False]
    assert list(typed[TARGET]) == [0, 0, 0, 1, 1]
    frame.loc[0, "dpd"] = None     # an empty outcome is a violation, not a good loan
    with pytest.raises(DataValidationError, match=r"column 'dpd': target rule: every row needs an outcome .* 1 rows are empty"):
        validate_applicants(frame, parse_params(raw))


def test_labels_written_as_numbers(raw, raw_text):
    """A file whose target is 1 (charged off) / 0 (fully paid), declared as bad: [1], good: [0]."""
    frame = sample_rows(raw_text, 20).reset_index(drop=True)
    expected = frame["loan_status"].isin(CHARGED_OFF).astype(int)
    frame["loan_status"] = expected.astype(str)
    raw["data"]["target"] = {"column": "loan_status", "bad": [1], "good": [0]}
    typed = validate_applicants(frame, parse_params(raw))
    assert list(typed[TARGET]) == list(expected)


def test_default_digest_is_the_cards(raw, card):
    """The new keys at their defaults leave the digest (and so the card's model_version) as it
    was; any other value changes it."""
    card_digest = card.document["created_from"]["params_sha256"]
    assert parse_params(copy.deepcopy(raw)).digest() == card_digest
    raw["split"]["method"] = "time"
    raw["data"]["target"]["rule"] = None
    assert parse_params(copy.deepcopy(raw)).digest() == card_digest
    raw["split"] = {"method": "random", "test_share": 0.2, "seed": 1}
    assert parse_params(raw).digest() != card_digest


def _edit(raw, dotted, value):
    node = raw
    *parents, leaf = dotted.split(".")
    for part in parents:
        node = node[part]
    if value is _DELETE:
        del node[leaf]
    else:
        node[leaf] = value


_DELETE = object()
RANDOM = {"method": "random", "test_share": 0.2, "seed": 1}


@pytest.mark.parametrize(("edits", "expected"), [
    ({"data.target.rule": {"bad_from": 30, "good_below": 90}, "data.target.bad": _DELETE, "data.target.good": _DELETE,
      "data.target.flag_values": _DELETE},
     "data.target.rule: expected bad_from > good_below (got bad_from 30, good_below 90)"),
    ({"data.target.rule": {"bad_from": 90, "good_below": 30}, "data.target.bad": _DELETE, "data.target.good": _DELETE,
      "data.target.flag_values": _DELETE},
     "data.target.rule compares numbers: data.columns.loan_status (data.target.column) must have type 'numeric' "
     "(got 'category')"),
    ({"data.target.rule": {"bad_from": 90, "good_below": 30}},
     "data.target: give either the label lists (bad and good) or a numeric rule"),
    ({"data.target.rule": {"bad_from": 90}}, "data.target.rule.good_below: Field required"),
    ({"data.target.good": _DELETE}, "data.target: missing ['good']"),
    ({"split.method": "kfold"}, "split.method: Input should be 'time', 'random' or 'stratified'"),
    ({"split": {"method": "random", "seed": 1}}, "split: split.method 'random' needs split.test_share"),
    ({"split": {**RANDOM, "test_share": 1.5}}, "split.test_share: Input should be less than 1 (got 1.5)"),
    ({"split": {**RANDOM, "seed": -3}}, "split.seed: Input should be greater than or equal to 0"),
    ({"split.method": "stratified", "split.test_share": 0.2, "split.seed": 1},
     "split: split.train_start, split.train_end, split.test_start, split.test_end: only for split.method 'time'"),
    ({"split.seed": 4}, "split: split.seed: only for split.method random or stratified"),
    ({"split.test_end": _DELETE}, "split: split.method 'time' needs split.test_end"),
    ({"environment.join_key": None}, "environment.join_key is null but environment.sources "
                                     "['state_median_income', 'state_unemployment'] are enabled"),
    ({"data.date_column": None, "split": RANDOM},
     "environment.sources ['state_median_income', 'state_unemployment'] align by the application date, "
     "but data.date_column is null"),
])
def test_bad_split_target_and_environment_params_name_the_key(raw, edits, expected):
    for dotted, value in edits.items():
        _edit(raw, dotted, value)
    with pytest.raises(ConfigError) as error:
        parse_params(raw, "params.yaml")
    print(error.value)
    assert expected in str(error.value)
