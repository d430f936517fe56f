"""params.yaml is checked up front: unknown keys and out-of-range values name the field."""

import pytest
import yaml

from scorecard.config import load_params, parse_params
from scorecard.errors import ConfigError


@pytest.fixture()
def raw(root):
    return yaml.safe_load((root / "params.yaml").read_text())


def test_default_params_are_valid(params):
    assert params.model.pdo == 20
    assert params.split.train_end.year == 2010 and params.split.test_start.year == 2011
    assert set(params.features.categorical) <= set(params.features.model_features)


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"model.pdo": 0}, "model.pdo: Input should be greater than 0 (got 0)"),
        ({"model.pdo": -20}, "model.pdo: Input should be greater than 0 (got -20)"),
        ({"model.base_odds": 0}, "model.base_odds: Input should be greater than 0"),
        ({"binning.min_bin_size": 0.9}, "binning.min_bin_size: Input should be less than or equal to 0.5 (got 0.9)"),
        ({"binning.min_bin_sz": 0.1}, "binning.min_bin_sz: unknown key"),
        ({"binning.monotonic_trend": "upwards"}, "binning.monotonic_trend: Input should be"),
        ({"split.test_start": "2010-06-01"}, "split: expected train_start <= train_end < test_start <= test_end"),
        ({"model.pdo": "twenty"}, "model.pdo: Input should be a valid number"),
    ],
)
def test_bad_value_names_the_field(root, override, expected):
    with pytest.raises(ConfigError) as error:
        load_params(root / "params.yaml", override)
    print(error.value)
    assert expected in str(error.value)


def test_unknown_top_level_section(raw):
    raw["modle"] = {"pdo": 20}
    with pytest.raises(ConfigError, match="modle: unknown key"):
        parse_params(raw, "params.yaml")


def test_feature_not_declared_anywhere(raw):
    raw["features"]["model_features"].append("favourite_colour")
    with pytest.raises(ConfigError, match=r"model_features: \['favourite_colour'\] are neither declared"):
        parse_params(raw)


def test_every_feature_needs_a_reason_text(raw):
    del raw["explain"]["reason_texts"]["dti"]
    with pytest.raises(ConfigError, match=r"explain.reason_texts: no reason text for \['dti'\]"):
        parse_params(raw)


def test_target_status_cannot_be_both_bad_and_good(raw):
    raw["data"]["target"]["good"].append("Charged Off")
    with pytest.raises(ConfigError, match="both bad and good"):
        parse_params(raw)


def test_target_cannot_be_a_feature(raw):
    raw["features"]["model_features"].append("loan_status")
    with pytest.raises(ConfigError, match="must not contain key columns"):
        parse_params(raw)


def test_missing_params_file(tmp_path):
    with pytest.raises(ConfigError, match="parameters file not found"):
        load_params(tmp_path / "nope.yaml")


def test_digest_changes_with_a_parameter(root, params):
    assert load_params(root / "params.yaml", {"model.pdo": 40}).digest() != params.digest()
    assert load_params(root / "params.yaml").digest() == params.digest()
