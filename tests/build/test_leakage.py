"""Only application-time fields reach the model: post-origination fields and LendingClub's own
grade, sub-grade, rate and instalment are refused up front and never appear in the card."""

import re

import pytest
import yaml

from scorecard import card as cardlib
from scorecard.config import parse_params
from scorecard.errors import ConfigError

# The fields the issue names; every one must be caught by params' forbidden patterns.
POST_ORIGINATION = [
    "total_pymnt", "total_pymnt_inv", "total_rec_prncp", "total_rec_int", "total_rec_late_fee",
    "recoveries", "collection_recovery_fee", "last_pymnt_d", "last_pymnt_amnt", "last_credit_pull_d",
    "last_fico_range_high", "out_prncp", "out_prncp_inv", "funded_amnt_inv", "next_pymnt_d",
    "settlement_status", "settlement_amount", "debt_settlement_flag", "hardship_flag",
]
LENDER_PRICING = ["grade", "sub_grade", "int_rate", "installment"]


def all_raw_columns(root):
    import gzip

    with gzip.open(root / "data/raw/lendingclub_2007_2011.csv.gz", "rt") as handle:
        return handle.readline().strip().split(",")


@pytest.mark.parametrize("field", POST_ORIGINATION + LENDER_PRICING)
def test_forbidden_pattern_catches(params, field):
    assert params.features.leaking([field]) == [field]


def test_every_post_origination_column_of_the_real_file_is_forbidden(params, root):
    columns = all_raw_columns(root)
    for field in POST_ORIGINATION + LENDER_PRICING:
        if field in columns:
            assert params.features.leaking([field]), field


@pytest.mark.parametrize("field", ["int_rate", "last_pymnt_amnt", "total_rec_prncp"])
def test_adding_a_leaking_field_is_refused(root, field):
    raw = yaml.safe_load((root / "params.yaml").read_text())
    raw["data"]["columns"][field] = {"type": "numeric"}
    raw["features"]["model_features"].append(field)
    raw["explain"]["reason_texts"][field] = "x"
    with pytest.raises(ConfigError, match=re.escape(f"['{field}'] match a forbidden pattern")) as error:
        parse_params(raw)
    print(error.value)


def test_application_time_features_only(params):
    assert params.features.leaking(params.features.model_features) == []
    assert params.features.leaking(list(params.data.columns)) == ["loan_status"]  # the target, declared to be read


def test_processed_tables_and_card_hold_allow_listed_features_only(params, root):
    from scorecard.build import etl

    result = etl.run(params, root=root)
    keys = {"applicant_id", params.data.date_column, "bad", "policy_exception"}
    assert set(result.train.columns) == keys | set(params.features.model_features)
    committed = cardlib.load(root / "scorecard/scorecard.json")
    assert set(committed.feature_names) <= set(params.features.model_features)
    assert params.features.leaking(committed.feature_names) == []
