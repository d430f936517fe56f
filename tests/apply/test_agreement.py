"""Every way of applying the card gives the same points.

The whole real out-of-time test set (21,721 applicants of 2011) is scored through Python
(``Card.apply`` on the JSON), the card's DuckDB SQL, the card's Spark SQL on a local Spark
session, and the HTTP service — both given the card's features (``POST /score``) and given
only what the applicants declared (``POST /score/application``: the service derives the
features and joins the public data itself). Points per applicant and per feature, scores and
reason codes must be identical everywhere.
"""

from __future__ import annotations

import warnings

import duckdb
import pandas as pd
import pytest

with warnings.catch_warnings():   # starlette 1.x would rather have httpx2 than httpx: harmless here
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from scorecard.apply import sql as sqllib
from scorecard.apply.application import json_records
from scorecard.card.rules import DEFAULT_RULES
from scorecard.apply.service import DEFAULT_CARD, DEFAULT_PARAMS, MAX_APPLICANTS, create_app

from conftest import plain

ID = "applicant_id"


def table(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The columns compared everywhere, as plain Python values, rows by id."""
    frame = frame.sort_values(ID, kind="stable").reset_index(drop=True)
    return pd.DataFrame({c: [plain(v) for v in frame[c].astype(object)] for c in [ID, *columns]})


@pytest.fixture(scope="module")
def compared(card):
    points = [f"points_{n}" for n in card.feature_names]
    reasons = [f"reason_{k}" for k in range(1, 5)]
    return ["score", *points, *reasons]


@pytest.fixture(scope="module")
def python_scores(card, test_set, compared):
    applied = card.apply(test_set, 4)
    applied.insert(0, ID, test_set[ID].to_numpy())
    return table(applied, compared)


def assert_same(got: pd.DataFrame, want: pd.DataFrame, how: str) -> None:
    assert len(got) == len(want), f"{how}: {len(got)} rows, expected {len(want)}"
    assert got[ID].tolist() == want[ID].tolist(), f"{how}: not the same applicants"
    for column in want.columns:
        differ = got[column] != want[column]
        differ &= ~(got[column].isna() & want[column].isna())
        if differ.any():
            examples = pd.DataFrame({ID: want[ID], how: got[column], "python": want[column]})[differ].head(5)
            raise AssertionError(f"{how}: column {column}: {int(differ.sum())} applicants differ, e.g.\n{examples}")
    print(f"{how}: {len(got):,} applicants, {len(want.columns) - 1} columns identical to Python")


def test_duckdb_sql_agrees(card, test_set, python_scores, compared):
    con = duckdb.connect()
    con.register("applicants", test_set)
    got = con.sql(sqllib.to_sql(card, "duckdb")).df()
    assert_same(table(got, compared), python_scores, "DuckDB SQL")


@pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning")
def test_spark_sql_agrees(card, test_set, python_scores, compared, spark, tmp_path):
    path = tmp_path / "test.parquet"
    test_set.to_parquet(path, index=False)     # Parquet keeps NaN apart from NULL and each type
    spark.read.parquet(str(path)).createOrReplaceTempView("applicants")
    try:
        got = spark.sql(sqllib.to_sql(card, "spark")).toArrow().to_pandas()
    finally:
        spark.catalog.dropTempView("applicants")
    assert_same(table(got, compared), python_scores, "Spark SQL")


def service_scores(path: str, rows: list[dict], card) -> pd.DataFrame:
    client = TestClient(create_app(DEFAULT_CARD, DEFAULT_RULES, params_path=DEFAULT_PARAMS),
                        raise_server_exceptions=False)
    answers = []
    for start in range(0, len(rows), MAX_APPLICANTS):
        response = client.post(path, json=rows[start:start + MAX_APPLICANTS])
        assert response.status_code == 200, response.text[:2000]
        answers += response.json()
    out = pd.DataFrame({ID: [a["id"] for a in answers], "score": [a["score"] for a in answers]})
    for name in card.feature_names:
        out[f"points_{name}"] = [a["points"][name] for a in answers]
    for k in range(4):
        out[f"reason_{k + 1}"] = [a["reasons"][k]["code"] if k < len(a["reasons"]) else None for a in answers]
    return out


def test_service_given_features_agrees(card, test_set, python_scores, compared):
    rows = json_records(test_set[[ID, *card.feature_names]].rename(columns={ID: "id"}))
    got = service_scores("/score", rows, card)
    assert_same(table(got, compared), python_scores, "service POST /score")


def test_service_given_declared_fields_agrees(card, test_applications, python_scores, compared):
    """The service derives loan_to_income, income_to_state_median, open_to_total_acc, employment
    years and the employer group (from the emp_title text) and joins the state's median income
    itself, from the declared fields only."""
    api = create_app(DEFAULT_CARD, DEFAULT_RULES, params_path=DEFAULT_PARAMS).openapi()
    body = api["paths"]["/score/application"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    declared = [name for name in body["oneOf"][0]["properties"] if name != "id"]
    assert not set(declared) & {"loan_to_income", "income_to_state_median", "state_unemployment_rate",
                                "state_median_income", "emp_length_years", "emp_title_group",
                                "open_to_total_acc"}, "derived fields must not be asked for"
    rows = json_records(test_applications[[ID, *declared]].rename(columns={ID: "id"}))
    got = service_scores("/score/application", rows, card)
    assert_same(table(got, compared), python_scores, "service POST /score/application")
