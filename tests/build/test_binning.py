"""Binning: overrides from git are checked and applied, trends hold, special and missing values
get their own bins, and the IV threshold selects."""

import numpy as np
import pytest

from scorecard.build.binning import load_overrides
from scorecard.errors import ConfigError


@pytest.fixture(scope="module")
def binning(full_run):
    return full_run[1].binning


def test_override_is_applied(binning, params, root):
    overrides = load_overrides(root / "binning_overrides.yaml", params)
    splits = overrides["inq_last_6mths"]["user_splits"]
    edges = [b["lower"] for b in binning.bins("inq_last_6mths") if b["kind"] == "range" and b["lower"] is not None]
    assert edges == splits


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("favourite_colour: {user_splits: [1], reason: x}", "favourite_colour: not a model feature"),
        ("dti: {user_splits: [10, 5], reason: x}", "dti.user_splits: expected strictly increasing numbers"),
        ("dti: {user_splits: [5, 10]}", "dti.reason: expected a text saying why"),
        ("dti: {user_split: [5, 10], reason: x}", "dti: unknown key(s) ['user_split']"),
        ("purpose: {user_splits: [1, 2], reason: x}", "purpose.user_splits: expected lists of categories"),
        ("term: {min_bin_size: 0, reason: x}", "term.min_bin_size: expected a share of the sample in (0, 0.5], got 0"),
        ("term: {min_bin_size: '5%', reason: x}", "term.min_bin_size: expected a share of the sample in (0, 0.5]"),
        ("term: {min_bin_size: 0.7, reason: x}", "term.min_bin_size: expected a share of the sample in (0, 0.5]"),
    ],
)
def test_bad_override_names_the_problem(tmp_path, params, text, message):
    path = tmp_path / "overrides.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_overrides(path, params)
    print(error.value)
    assert message in str(error.value)


def test_min_bin_size_override_applies_to_its_feature_only(tmp_path, params, test_set):
    """A per-feature smallest bin: 60-month loans kept to 4.8% of the sample get their own bin
    only with the override; the other features keep binning.min_bin_size."""
    from scorecard.build.binning import fit_feature

    sample = test_set.copy()
    share = 0.048
    sixty = sample.index[sample["term"] == "60"]
    keep = sample.index[sample["term"] != "60"].union(sixty[:int(share / (1 - share) * (sample["term"] != "60").sum())])
    sample = sample.loc[keep]
    assert abs((sample["term"] == "60").mean() - share) < 0.002 and params.binning.min_bin_size > share
    path = tmp_path / "overrides.yaml"
    path.write_text("term: {min_bin_size: 0.01, reason: 60-month loans are rare in this window}\n")
    overrides = load_overrides(path, params)
    groups = lambda optb: sorted(sorted(map(str, g)) for g in optb.splits)  # noqa: E731
    assert groups(fit_feature(sample, "term", params)) == [["36", "60"]]                # merged
    assert groups(fit_feature(sample, "term", params, overrides)) == [["36"], ["60"]]   # apart
    own, with_override = fit_feature(sample, "dti", params), fit_feature(sample, "dti", params, overrides)
    assert list(own.splits) == list(with_override.splits)


def test_declared_trends_hold(binning, params):
    for feature, trend in params.binning.monotonic_trend_by_feature.items():
        if feature in binning.overrides:
            continue
        rates = [b["event_rate"] for b in binning.bins(feature) if b["kind"] == "range"]
        steps = np.diff(rates)
        assert (steps >= 0).all() if trend == "ascending" else (steps <= 0).all(), (feature, rates)


def test_special_and_missing_bins(binning, full_run):
    train = full_run[1].etl.train
    bins = binning.bins("emp_length_years")
    special = next(b for b in bins if b["kind"] == "special")
    assert special["values"] == [-1] and special["count"] == int((train["emp_length_years"] == -1).sum()) > 0
    missing = next(b for b in binning.bins("revol_util") if b["kind"] == "missing")
    assert missing["count"] == int(train["revol_util"].isna().sum()) > 0
    assert all(sum(b["count"] for b in binning.bins(f)) == len(train) for f in binning.features)


def test_iv_selection(binning, params):
    table = binning.iv_table()
    assert set(table.loc[table["selected"], "feature"]) == set(binning.selected)
    assert (table.loc[table["selected"], "iv"] >= params.binning.min_iv).all()
    assert (table.loc[~table["selected"], "iv"] < params.binning.min_iv).all()


def test_min_bin_size_is_effective(params, full_run):
    """A smaller minimum bin size gives finer bins, and every bin respects it."""
    from scorecard.build.binning import fit

    train = full_run[1].etl.train
    finer = fit(train, params.model_copy(update={"binning": params.binning.model_copy(update={"min_bin_size": 0.02})}))
    coarse = full_run[1].binning
    counts = {f: sum(b["kind"] == "range" for b in coarse.bins(f)) for f in params.numeric_features()}
    finer_counts = {f: sum(b["kind"] == "range" for b in finer.bins(f)) for f in params.numeric_features()}
    assert sum(finer_counts.values()) > sum(counts.values())
    for binning, share in ((coarse, params.binning.min_bin_size), (finer, 0.02)):
        for feature in params.numeric_features():
            if feature in binning.overrides:
                continue
            for b in binning.bins(feature):
                if b["kind"] == "range":
                    assert b["count"] >= share * len(train) - 1, (feature, b)
