"""Features read from free text: the declared ``text`` column type, the keyword → group mapping
(``kind: keyword_group``) with the groups of params.yaml, and neutral WoE for tiny missing bins."""

import copy

import numpy as np
import pandas as pd
import pytest
import yaml

from scorecard.config import KeywordGroup, parse_params
from scorecard.build.data import coerce_column
from scorecard.errors import ConfigError
from scorecard.build.features import add_derived, keyword_group, normalise_text

GROUPS = [
    KeywordGroup(name="military", keywords=["army", "air force"]),
    KeywordGroup(name="education", keywords=["teach*", "school"]),
    KeywordGroup(name="government", keywords=["state of", "department"]),
]


@pytest.mark.parametrize(("text", "expected"), [
    ("U.S. Army", "u s army"),
    ("  Café  Owner ", "cafe owner"),
    ("AT&T", "at t"),
    ("Self-Employed", "self employed"),
    ("Zürich Insurance", "zurich insurance"),
    (None, ""),
    (np.nan, ""),
    ("", ""),
])
def test_normalise_text(text, expected):
    assert normalise_text(text) == expected


def test_keyword_group_rules():
    text = pd.Series(["U.S. Army", "Teacher", "Teaching assistant", "Armyworks", None, "   ", "Air-Force",
                      "State of Texas", "Department of the Army", "Schoolhouse", "Acme"], index=range(10, 21))
    groups = keyword_group(text, GROUPS, missing="none", other="elsewhere")
    assert groups.index.equals(text.index)
    assert groups.tolist() == [
        "military",     # whole word after normalisation
        "education",    # teach* matches a word ending
        "education",
        "elsewhere",    # 'army' is not a whole word of 'armyworks'
        "none", "none",  # missing and blank text
        "military",     # punctuation is a space: 'air force'
        "government",
        "military",     # the first group in order wins (military before government)
        "elsewhere",    # 'school' (no *) does not match 'schoolhouse'
        "elsewhere",
    ]


def test_params_groups_on_known_titles(params):
    spec = params.features.derived["emp_title_group"]
    titles = {
        "US Army": "military", "usaf": "military", "U.S. Air Force": "military",
        "Self Employed": "self_employed", "self-employed": "self_employed",
        "Kaiser Permanente": "health_care", "Registered Nurse": "health_care", "RN": "health_care",
        "Los Angeles Unified School District": "education", "University of Michigan": "education",
        "Bank of America": "finance", "Wells Fargo": "finance", "JPMorgan Chase": "finance",
        "Wal-Mart": "retail", "Walmart": "retail", "The Home Depot": "retail",
        "UPS": "transport", "FedEx": "transport",
        "IBM": "technology", "AT&T": "technology", "Lockheed Martin Corp.": "technology",
        "State of California": "government", "USPS": "government", "City of Chicago": "government",
        "Store Manager": "retail", "Project Manager": "management",
        "Retired": "retired", "Acme Widgets": "other", "": "missing", None: "missing",
    }
    groups = keyword_group(pd.Series(list(titles)), spec.groups, spec.missing_group, spec.other_group)
    assert dict(zip(titles, groups)) == titles


def test_add_derived_computes_the_group(params):
    frame = pd.DataFrame({"emp_title": ["US Army", None], "open_acc": [3.0, 2.0], "total_acc": [6.0, 0.0],
                          "loan_amnt": [1000.0, 1.0], "annual_inc": [10000.0, 1.0], "earliest_cr_line":
                          pd.to_datetime(["2000-01-01"] * 2), "issue_d": pd.to_datetime(["2010-01-01"] * 2),
                          "emp_length": ["1 year", "n/a"], "state_median_income": [50000.0, 50000.0]})
    out = add_derived(frame, params)
    assert out["emp_title_group"].tolist() == ["military", "missing"]
    assert out["open_to_total_acc"].iloc[0] == 0.5 and np.isnan(out["open_to_total_acc"].iloc[1])


def test_text_column_is_kept_as_text(params):
    spec = params.data.columns["emp_title"]
    assert spec.type == "text"
    typed, problems = coerce_column("emp_title", pd.Series([" Nurse ", None, "12345"]), spec)
    assert problems == [] and typed.tolist()[0] == "Nurse" and typed.isna().tolist() == [False, True, False]


def _raw(root):
    return yaml.safe_load((root / "params.yaml").read_text())


@pytest.mark.parametrize(("edit", "message"), [
    (lambda r: r["features"]["derived"]["emp_title_group"].update(groups=[]), "needs 'groups'"),
    (lambda r: r["features"]["derived"]["emp_title_group"].update(inputs=["emp_title", "purpose"]),
     "exactly one input"),
    (lambda r: r["features"]["derived"]["emp_title_group"].update(other_group="military"), "must be unique"),
    (lambda r: r["features"]["derived"]["loan_to_income"].update(groups=[{"name": "a", "keywords": ["b"]}]),
     "only for kind 'keyword_group'"),
    (lambda r: (r["features"]["model_features"].append("emp_title"),
                r["explain"]["reason_texts"].update(emp_title="x")), "are free text"),
])
def test_bad_keyword_group_params(root, edit, message):
    raw = copy.deepcopy(_raw(root))
    edit(raw)
    with pytest.raises(ConfigError) as error:
        parse_params(raw)
    print(error.value)
    assert message in str(error.value)


def test_tiny_missing_bins_are_neutral(params):
    """A missing bin with fewer applicants than binning.min_missing_count has WoE 0, in the
    bins (the card's points) and in the WoE the model is fitted on; a large one keeps its WoE."""
    from scorecard.build.binning import fit

    rng = np.random.default_rng(0)
    n = 4000
    x = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(1.5 - x))).astype(int)
    tiny, large = x.copy(), x.copy()
    tiny[:20] = np.nan                 # 20 applicants: noise
    large[:800] = np.nan               # 800 applicants: evidence
    y[:20] = 0                         # the tiny bin looks very good by chance
    y[0] = 1
    frame = pd.DataFrame({"tiny": tiny, "large": large, "bad": y})
    raw = params.model_dump(mode="json")
    raw["data"]["columns"].update(tiny={"type": "numeric"}, large={"type": "numeric"})
    raw["features"].update(model_features=["tiny", "large"], categorical=[])
    raw["binning"].update(monotonic_trend_by_feature={}, special_codes={}, overrides_path=None,
                          min_missing_count=100)
    raw["explain"]["reason_texts"].update(tiny="t", large="l")
    fitted = fit(frame, parse_params(raw))
    missing = {f: next(b for b in fitted.bins(f) if b["kind"] == "missing") for f in ("tiny", "large")}
    assert missing["tiny"]["count"] == 20 and missing["tiny"]["woe"] == 0.0
    assert missing["large"]["count"] == 800 and missing["large"]["woe"] != 0.0
    woe = fitted.transform(frame, "woe")
    assert (woe.loc[:19, "tiny"] == 0.0).all()
    assert np.allclose(woe.loc[:799, "large"], missing["large"]["woe"])
    raw["binning"]["min_missing_count"] = 0
    assert next(b for b in fit(frame, parse_params(raw)).bins("tiny") if b["kind"] == "missing")["woe"] != 0.0


def test_fixed_override_that_cannot_hold_stops_the_fit(params, tmp_path):
    """Fixed splits that break the declared trend on the sample: optbinning would return one
    bin and drop the feature silently; the fit stops and names the override instead."""
    from scorecard.build.binning import fit

    rng = np.random.default_rng(1)
    x = rng.integers(0, 6, size=6000).astype(float)
    rate = np.array([0.10, 0.20, 0.12, 0.25, 0.30, 0.35])[x.astype(int)]    # 1 is riskier than 2
    frame = pd.DataFrame({"inq": x, "bad": (rng.random(len(x)) < rate).astype(int)})
    raw = params.model_dump(mode="json")
    raw["data"]["columns"]["inq"] = {"type": "numeric"}
    raw["features"].update(model_features=["inq"], categorical=[])
    raw["explain"]["reason_texts"]["inq"] = "i"
    overrides = tmp_path / "overrides.yaml"
    raw["binning"].update(monotonic_trend_by_feature={"inq": "ascending"}, special_codes={},
                          overrides_path=str(overrides))
    overrides.write_text("inq: {user_splits: [0.5, 1.5, 2.5], fixed: true, reason: policy}\n")
    with pytest.raises(ConfigError) as error:
        fit(frame, parse_params(raw))
    print(error.value)
    assert "binning override inq" in str(error.value) and "fixed: false" in str(error.value)
    overrides.write_text("inq: {user_splits: [0.5, 1.5, 2.5], fixed: false, reason: policy}\n")
    rates = [b["event_rate"] for b in fit(frame, parse_params(raw)).bins("inq") if b["kind"] == "range"]
    assert len(rates) >= 2 and rates == sorted(rates)
