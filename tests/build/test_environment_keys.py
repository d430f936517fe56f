"""Environment sources joined on keys of any kind: each source its own applicant column
(``environment.sources.<name>.join_key``), a source without time (``align: none``, ``layout:
key_rows``) joined to a file with no application date, and keys compared as text as written.

Fixtures, all from the real files:

* ``conapo_2020``: the real CONAPO 2020 state file (``data/external/mx_state_marginalization_2020.csv.gz``,
  32 rows) declared with ``key_names: null``, so its INEGI codes are the text ``"01"``-``"32"``
  as written (nine of them with a leading zero).
* ``loans``: 25 real LendingClub loans (5 per issue year, ``conftest.sample_rows``, seed 7) as
  the ETL reads them (text), with one column added: ``cve_ent``, the INEGI code of a Mexican
  state given in turn to each loan (``"01"``, ``"02"``, ... ``"25"``), written with its leading
  zero. The pairing of a US loan with a Mexican state is arbitrary: these tests check the
  mechanics of the join, not the data.
"""

from __future__ import annotations

import copy

import pandas as pd
import pytest
import yaml

from conftest import ROOT, sample_rows, write_csv
from scorecard.build import etl
from scorecard.config import EnvironmentSpec, SourceSpec, parse_params
from scorecard.build.data import read_text_table
from scorecard.build.environment import join_environment, join_source, load_source
from scorecard.errors import ConfigError, DataValidationError

CONAPO_2020 = "data/external/mx_state_marginalization_2020.csv.gz"
#: IM_2020 as printed in the CONAPO 2020 file for Aguascalientes (01), Ciudad de México (09) and Jalisco (14).
IM_2020 = {"01": 22.2057208476961, "09": 23.1431092825321, "14": 21.8151477608011}


@pytest.fixture(scope="module")
def conapo_2020() -> dict:
    return {"path": CONAPO_2020, "encoding": "utf-8", "layout": "key_rows", "join_key": "cve_ent",
            "key_column": "CVE_ENT", "value_columns": {"IM_2020": "mx_im_2020", "GM_2020": "mx_gm_2020"},
            "align": "none", "description": "CONAPO 2020 marginalization by INEGI code as text"}


@pytest.fixture(scope="module")
def loans(raw_text) -> pd.DataFrame:
    frame = sample_rows(raw_text, 5).reset_index(drop=True)
    frame["cve_ent"] = [f"{i % 32 + 1:02d}" for i in range(len(frame))]
    return frame


def test_two_sources_on_two_keys(default_raw, conapo_2020, loans, root):
    """US unemployment by the state and month, CONAPO 2020 by the INEGI code: each on its key."""
    unemployment = SourceSpec(**{k: v for k, v in default_raw["environment"]["sources"]["state_unemployment"].items()
                                 if k != "citation"}, join_key="addr_state")
    environment = EnvironmentSpec(join_key=None, sources={"state_unemployment": unemployment,
                                                          "conapo_2020": SourceSpec(**conapo_2020)})
    assert environment.join_keys() == ["addr_state", "cve_ent"]
    frame = loans.assign(issue_d=pd.to_datetime(loans["issue_d"]))
    joined = join_environment(frame, environment, "issue_d", root=root)
    alone = join_source(frame, load_source(unemployment, root), unemployment, "u", "addr_state", "issue_d")
    assert joined["state_unemployment_rate"].tolist() == alone["state_unemployment_rate"].tolist()
    assert joined["state_unemployment_rate"].notna().all()
    for code, value in IM_2020.items():
        assert joined.loc[joined["cve_ent"] == code, "mx_im_2020"].eq(value).all()
    assert joined.loc[joined["cve_ent"] == "09", "mx_gm_2020"].iloc[0] == "Muy bajo"
    assert len(joined) == len(loans) and joined["cve_ent"].tolist() == loans["cve_ent"].tolist()


def test_text_keys_keep_their_leading_zeros(conapo_2020, loans, root):
    spec = SourceSpec(**conapo_2020)
    table = load_source(spec, root)
    assert table["key"].tolist()[:10] == ["01", "02", "03", "04", "05", "06", "07", "08", "09", "10"]
    joined = join_source(loans, table, spec, "conapo_2020", "cve_ent", None)
    assert joined.loc[0, "mx_im_2020"] == IM_2020["01"]
    # "1" is not "01": a key is never read as a number.
    people = loans.head(3).assign(cve_ent=["1", " 09 ", "09.0"])
    with pytest.raises(DataValidationError) as error:
        join_source(people, table, spec, "conapo_2020", "cve_ent", None)
    print(error.value)
    assert str(error.value).startswith(
        "column 'cve_ent': 2 rows have a key that source 'conapo_2020' does not cover, e.g. ['09.0', '1']; "
        "expected one of ['01', '02',")
    assert "and 12 more" in str(error.value)      # 32 keys: the first 20 are shown
    assert join_source(people.iloc[[1]], table, spec, "c", "cve_ent", None)["mx_im_2020"].tolist() == [IM_2020["09"]]


def test_a_repeated_key_is_an_error(conapo_2020, tmp_path):
    rows = read_text_table(ROOT / CONAPO_2020, "utf-8")
    path = write_csv(pd.concat([rows, rows.iloc[[8]]]), tmp_path / "conapo_2020_twice.csv")
    with pytest.raises(DataValidationError, match=r"2 rows repeat a key \(column 'CVE_ENT'\), e.g. \[\{'key': '09'\}"):
        load_source(SourceSpec(**{**conapo_2020, "path": str(path)}))


def no_date_params(raw, conapo_2020, applicants):
    """The default params for a file with no application date, joined to CONAPO 2020 alone by
    ``cve_ent`` (declared a category), with a stratified split."""
    data = raw["data"]
    del data["columns"]["issue_d"]
    data["columns"]["cve_ent"] = {"type": "category", "nullable": False, "description": "INEGI state code"}
    data.update(date_column=None, state_column="cve_ent")
    data["applicants"] = {"path": str(applicants), "sha256": None, "encoding": "utf-8"}
    raw["environment"] = {"join_key": None, "sources": {"conapo_2020": dict(conapo_2020)}}
    for name in ("credit_history_months", "income_to_state_median"):
        del raw["features"]["derived"][name]
    dropped = {"credit_history_months", "income_to_state_median", "state_median_income", "state_unemployment_rate"}
    raw["features"]["model_features"] = [f for f in raw["features"]["model_features"] if f not in dropped]
    raw["features"]["model_features"].append("mx_im_2020")
    raw["explain"]["reason_texts"]["mx_im_2020"] = "Marginalization of the state"
    raw["binning"]["monotonic_trend_by_feature"].pop("income_to_state_median")
    raw["split"] = {"method": "stratified", "test_share": 0.2, "seed": 7}
    return raw


def test_a_static_source_joins_a_file_without_dates(raw, raw_text, conapo_2020, tmp_path):
    frame = sample_rows(raw_text, 60).drop(columns=["issue_d"]).reset_index(drop=True)
    frame["cve_ent"] = [f"{i % 32 + 1:02d}" for i in range(len(frame))]
    path = write_csv(frame, tmp_path / "no_date.csv")
    params = parse_params(no_date_params(raw, conapo_2020, path))
    result = etl.run(params, root=ROOT)
    both = pd.concat([result.train, result.test])
    assert len(both) + result.summary["rows_excluded"] == len(frame)
    assert both["mx_im_2020"].notna().all()
    # The ETL read "01" from the CSV as the text "01" and found Aguascalientes.
    ids = frame.index[frame["cve_ent"] == "01"] + 1     # applicant_id: the row number in the file, from 1
    assert both.loc[both["applicant_id"].isin(ids), "mx_im_2020"].eq(IM_2020["01"]).all()
    assert result.summary["environment"]["sources"] == ["conapo_2020"]


@pytest.mark.parametrize("edit, expected", [
    (lambda r: r["environment"]["sources"]["state_unemployment"].update(join_key="codigo_postal"),
     "environment.sources.state_unemployment.join_key: 'codigo_postal' (the applicant column source "
     "'state_unemployment' joins on) is not declared in data.columns"),
    (lambda r: r["environment"].update(join_key="codigo_postal"),
     "environment.join_key: 'codigo_postal' (the applicant column source 'state_unemployment' joins on) "
     "is not declared in data.columns"),
    (lambda r: (r["environment"].update(join_key=None),
                r["environment"]["sources"]["state_unemployment"].update(join_key="addr_state")),
     "environment.join_key is null but environment.sources ['state_median_income'] are enabled and name no "
     "join_key of their own"),
    (lambda r: r["environment"]["sources"]["state_unemployment"].update(join_key="loan_amnt"),
     "environment.sources.state_unemployment.join_key: data.columns.loan_amnt has type 'numeric', but source "
     "'state_unemployment' compares its keys as text (key_names: null)"),
    (lambda r: r["environment"]["sources"]["mx_marginalization_2020"].update(align="year"),
     "environment.sources.mx_marginalization_2020: align 'year' with layout 'key_rows': align 'none' (no time) "
     "goes with layout 'key_rows'"),
    (lambda r: r["environment"]["sources"]["mx_marginalization_2020"].pop("key_column"),
     "environment.sources.mx_marginalization_2020: layout 'key_rows' needs ['key_column']"),
    (lambda r: (r["environment"]["sources"]["mx_marginalization"].update(enabled=True),
                r["environment"]["sources"]["mx_marginalization_2020"].update(
                    enabled=True, value_columns={"IM_2020": "mx_marginalization_index"})),
     "environment.sources.mx_marginalization_2020: column 'mx_marginalization_index' is also given by "
     "environment.sources.mx_marginalization"),
])
def test_bad_keys_are_named(raw, edit, expected):
    edit(raw)
    with pytest.raises(ConfigError) as error:
        parse_params(raw, "params.yaml")
    print(error.value)
    assert expected in str(error.value)


def test_only_dated_sources_need_the_date(raw, conapo_2020, tmp_path):
    raw = no_date_params(raw, conapo_2020, tmp_path / "x.csv")
    parse_params(copy.deepcopy(raw))                     # align none: no date needed
    raw["environment"]["sources"]["conapo_2020"].update(layout="long", time_column="POB_TOT", align="year")
    with pytest.raises(ConfigError, match=r"environment.sources \['conapo_2020'\] align by the application date, "
                                          "but data.date_column is null"):
        parse_params(raw)


def test_new_keys_at_their_default_leave_the_digest_alone(raw, default_raw):
    base = parse_params(default_raw).digest()
    sources = raw["environment"]["sources"]
    # The CONAPO 2020 source, disabled, is not part of the card: as if params.yaml had no such source.
    del sources["mx_marginalization_2020"]
    assert parse_params(raw).digest() == base
    # A source naming the default key joins as one naming none.
    sources["state_unemployment"]["join_key"] = "addr_state"
    assert parse_params(raw).digest() == base
    enabled = copy.deepcopy(default_raw)
    enabled["environment"]["sources"]["mx_marginalization_2020"]["enabled"] = True
    enabled["environment"]["sources"]["mx_marginalization_2020"]["join_key"] = "addr_state"
    assert parse_params(enabled).digest() != base


def test_the_application_form_joins_a_static_source_without_a_date(raw, conapo_2020, tmp_path):
    """The service's form for a card using CONAPO 2020 by ``cve_ent``: it asks for the key and
    no date, and its frame and per-record paths give the same values. The card is a stand-in
    with only the attributes the form reads (no card is fitted here)."""
    from types import SimpleNamespace

    from scorecard.apply.application import ApplicationForm

    numbers_only = {**conapo_2020, "value_columns": {"IM_2020": "mx_im_2020"}}   # text values: the frame path only
    params = parse_params(no_date_params(raw, numbers_only, tmp_path / "x.csv"))
    card = SimpleNamespace(feature_names=["mx_im_2020", "loan_amnt"], document={}, version="stand-in")
    form = ApplicationForm(card, params, ROOT)
    assert list(form.columns) == ["loan_amnt", "cve_ent"]
    records = [{"loan_amnt": 5000, "cve_ent": "09"}, {"loan_amnt": 1200, "cve_ent": "14"}]
    assert form.features(records)["mx_im_2020"].tolist() == [IM_2020["09"], IM_2020["14"]]
    assert [r["mx_im_2020"] for r in form.feature_records(records)] == [IM_2020["09"], IM_2020["14"]]
    # An uncovered key: the per-record path leaves it to the frame path, whose message names it.
    assert form.feature_records([{"loan_amnt": 5000, "cve_ent": "9"}]) is None
    with pytest.raises(DataValidationError, match=r"applicant 0: column 'cve_ent': 1 rows have a key that source "
                                                  r"'conapo_2020' does not cover, e.g. \['9'\]"):
        form.features([{"loan_amnt": 5000, "cve_ent": "9"}])
