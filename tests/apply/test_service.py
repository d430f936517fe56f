"""The scoring service: the card and the business rules behind HTTP.

Real test-set applicants scored over HTTP get exactly ``Card.apply``'s points and scores; the
decisions follow the cut-offs and policy rules of ``business_rules/rules.json``; every bad input
gets a 4xx answer naming the field or the limit (never a 500); a bad rules file refuses to start.
"""

from __future__ import annotations

import copy
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

with warnings.catch_warnings():   # starlette 1.x would rather have httpx2 than httpx: harmless here
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from scorecard import card as cardlib
from scorecard.errors import RulesMismatchError, ScorecardError
from scorecard.card.rules import DEFAULT_RULES, NO_RULES_APPLIED, RulesError, load_rules
from scorecard.apply.service import DEFAULT_CARD, MAX_APPLICANTS, MAX_BODY_BYTES, create_app

from conftest import ROOT

N_ROWS = 200


@pytest.fixture(scope="module")
def card():
    return cardlib.load(DEFAULT_CARD)


@pytest.fixture(scope="module")
def rules_doc():
    return json.loads(DEFAULT_RULES.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app(DEFAULT_CARD, DEFAULT_RULES), raise_server_exceptions=False)


@pytest.fixture(scope="module")
def test_rows():
    """The first 200 applicants of the real out-of-time test set, as the ETL makes them."""
    from scorecard.build import etl
    from scorecard.config import load_params

    result = etl.run(load_params(ROOT / "params.yaml"), root=ROOT)
    return result.test.head(N_ROWS).reset_index(drop=True)


def records(frame: pd.DataFrame, columns: list[str]) -> list[dict]:
    """Rows as JSON objects: NaN becomes null, numpy scalars plain numbers."""
    out = []
    for row in frame[columns].to_dict(orient="records"):
        out.append({k: (None if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA
                        else v.item() if isinstance(v, np.generic) else v) for k, v in row.items()})
    return out


@pytest.fixture(scope="module")
def good(card, test_rows):
    """One real applicant that scores to approve, with every policy field passing."""
    scores = card.score(test_rows)
    ok = (scores >= 560) & (test_rows["annual_inc"] >= 30000) & (test_rows["dti"] < 20) & (test_rows["loan_to_income"] < 0.3)
    row = records(test_rows[ok].head(1), card.feature_names + ["annual_inc"])[0]
    return row


def expected_decision(score: int, cut: dict) -> str:
    if score < cut["decline_below"]:
        return "decline"
    return "approve" if score >= cut["approve_from"] else "refer"


def expected_band(score: int, bands: list[dict]) -> dict:
    inside = [b for b in bands if b["min_score"] is None or score >= b["min_score"]]
    return inside[-1]


def worst(*decisions: str) -> str:
    order = ["approve", "refer", "decline"]
    return max(decisions, key=order.index)


def detail(response) -> list[dict]:
    body = response.json()
    assert "detail" in body, body
    return body["detail"]


def messages(response) -> str:
    return " | ".join(d["msg"] for d in detail(response))


# -- scoring real applicants --------------------------------------------------------------------
def test_real_applicants_score_exactly_as_the_card(client, card, test_rows, rules_doc):
    """Feature columns only, NaN as null: points, score, reasons and flags equal Card.apply."""
    body = records(test_rows, card.feature_names)
    assert any(v is None for row in body for v in row.values()), "the sample should hold missing values"
    response = client.post("/score", json=body)
    assert response.status_code == 200, response.text
    results = response.json()
    assert len(results) == N_ROWS
    applied = card.apply(test_rows[card.feature_names])
    assert [r["score"] for r in results] == applied["score"].astype(int).tolist()
    for name in card.feature_names:
        assert [r["points"][name] for r in results] == applied[f"points_{name}"].astype(int).tolist(), name
    for i, result in enumerate(results):
        row = applied.iloc[i]
        want = [(row[f"reason_{k}"], row[f"reason_{k}_text"], int(row[f"reason_{k}_points_lost"]))
                for k in range(1, 5) if row[f"reason_{k}"] is not None]
        assert [(r["code"], r["text"], r["points_lost"]) for r in result["reasons"]] == want
        assert result["unseen_categories"] == [f for f in row[cardlib.UNSEEN_FLAG].split(",") if f]
        assert result["model_version"] == card.version
        assert result["rules_version"] == rules_doc["version"]
        assert result["id"] is None
        # Without annual_inc the minimum income rule cannot be checked: the rules refer.
        assert result["score_decision"] == expected_decision(result["score"], rules_doc["cutoffs"])
        assert "min_annual_income" in [h["rule"] for h in result["policy_rules_fired"]]
        assert result["decision"] in ("refer", "decline")


def test_decisions_follow_cutoffs_and_policy_rules(client, card, test_rows, rules_doc):
    body = records(test_rows, card.feature_names + ["annual_inc"])
    for i, row in enumerate(body):
        row["id"] = f"app-{i}"
    response = client.post("/score", json=body)
    assert response.status_code == 200, response.text
    results = response.json()
    cut, bands = rules_doc["cutoffs"], rules_doc["score_bands"]
    seen = set()
    for i, (row, result) in enumerate(zip(body, results)):
        assert result["id"] == f"app-{i}"
        score = result["score"]
        from_score = expected_decision(score, cut)
        assert result["score_decision"] == from_score
        band = expected_band(score, bands)
        assert result["band"] == band["band"]
        fired = []
        if row["annual_inc"] is None or row["annual_inc"] < 12000:
            fired.append("min_annual_income")
        if row["dti"] is None or row["dti"] >= 30:
            fired.append("max_dti")
        if row["loan_to_income"] is None or row["loan_to_income"] > 0.5:
            fired.append("max_loan_to_income")
        assert [h["rule"] for h in result["policy_rules_fired"]] == fired
        decision = worst(from_score, *[h["action"] for h in result["policy_rules_fired"]])
        assert result["decision"] == decision
        if not fired:
            assert result["decision"] == from_score and result["policy_rule"] is None
        assert result["max_loan_amount"] == (0 if decision == "decline" else band["max_loan_amount"])
        seen.add(result["decision"])
    assert seen == {"approve", "refer", "decline"}, "the sample should reach every decision"


def test_single_applicant_in_single_result_out(client, card, good):
    response = client.post("/score", json={**good, "id": 17})
    assert response.status_code == 200, response.text
    result = response.json()
    assert isinstance(result, dict) and result["id"] == 17
    assert result["score"] == int(card.score(pd.DataFrame([good]))[0])
    assert result["decision"] == "approve" and result["policy_rule"] is None
    assert result["max_loan_amount"] > 0


def test_policy_rule_overrides_the_score(client, good):
    low_income = client.post("/score", json={**good, "annual_inc": 9000}).json()
    assert low_income["score_decision"] == "approve"
    assert low_income["decision"] == "decline"
    assert low_income["policy_rule"]["rule"] == "min_annual_income"
    assert low_income["policy_rule"]["reason_code"] == "P01"
    assert "12,000" in low_income["policy_rule"]["reason_text"]
    assert low_income["policy_rule"]["value"] == 9000 and low_income["max_loan_amount"] == 0

    high_dti = client.post("/score", json={**good, "dti": 35.0}).json()
    assert high_dti["decision"] == "decline" and high_dti["policy_rule"]["reason_code"] == "P02"

    both = client.post("/score", json={**good, "annual_inc": 9000, "loan_to_income": 0.9}).json()
    assert [h["reason_code"] for h in both["policy_rules_fired"]] == ["P01", "P03"]
    assert both["policy_rule"]["reason_code"] == "P01"   # the first rule that decided

    no_income = client.post("/score", json={**good, "annual_inc": None}).json()
    assert no_income["decision"] == "refer" and no_income["policy_rule"]["missing"] is True
    assert "not given" in no_income["policy_rule"]["reason_text"]
    assert no_income["max_loan_amount"] > 0


def test_unseen_category_is_scored_and_flagged(client, card, good):
    row = {**good, "purpose": "space_travel"}
    result = client.post("/score", json=row).json()
    assert result["unseen_categories"] == ["purpose"]
    assert result["score"] == int(card.score(pd.DataFrame([row]))[0])


def test_empty_list_gives_empty_list(client):
    response = client.post("/score", json=[])
    assert response.status_code == 200 and response.json() == []


# -- bad input: 4xx naming the field or the limit, never 500 -------------------------------------
INF = "<a number too large for a float>"


def _without(row, key):
    return {k: v for k, v in row.items() if k != key}


BAD_APPLICANTS = {
    "missing field": (lambda g: _without(g, "dti"), "dti", "required"),
    "wrong type": (lambda g: {**g, "revol_util": "high"}, "revol_util", "expected a number"),
    "number for a string": (lambda g: {**g, "term": 36}, "term", "expected a string"),
    "unknown field": (lambda g: {**g, "favourite_colour": "blue"}, "favourite_colour", "unknown field"),
    "boolean for a number": (lambda g: {**g, "inq_last_6mths": True}, "inq_last_6mths", "boolean"),
    "list for a number": (lambda g: {**g, "open_to_total_acc": [1, 2]}, "open_to_total_acc", "expected a number"),
    "object for a string": (lambda g: {**g, "purpose": {"a": 1}}, "purpose", "expected a string"),
    "infinite number": (lambda g: {**g, "dti": INF}, "dti", "finite"),   # 1e999 reads as infinity
    "over-long category": (lambda g: {**g, "purpose": "x" * 1000}, "purpose", "200"),
    "input below its minimum": (lambda g: {**g, "annual_inc": -5}, "annual_inc", "greater than or equal to 0"),
    "string for an input": (lambda g: {**g, "annual_inc": "50000"}, "annual_inc", "expected a number"),
    "bad id": (lambda g: {**g, "id": [1]}, "id", "expected a string, an integer"),
    "id too long": (lambda g: {**g, "id": "z" * 500}, "id", "200"),
}


@pytest.mark.parametrize("case", list(BAD_APPLICANTS))
def test_bad_applicant_is_422_naming_the_field(client, good, case):
    make, field, words = BAD_APPLICANTS[case]
    for body, where in ((make(good), ["body", field]), ([good, make(good)], ["body", 1, field])):
        text = json.dumps(body).replace(json.dumps(INF), "1e999")
        response = client.post("/score", content=text, headers={"Content-Type": "application/json"})
        assert response.status_code == 422, (case, response.text)
        items = detail(response)
        assert [d["loc"] for d in items] == [where], items
        assert items[0]["field"] == field
        assert f"field '{field}'" in items[0]["msg"] and words in items[0]["msg"], items[0]["msg"]


def test_every_problem_of_a_batch_is_listed(client, good):
    body = [good, {**good, "term": 60, "dti": "x"}, _without(good, "inq_last_6mths"), 5]
    response = client.post("/score", json=body)
    assert response.status_code == 422
    locs = {tuple(d["loc"]) for d in detail(response)}
    assert locs == {("body", 1, "term"), ("body", 1, "dti"), ("body", 2, "inq_last_6mths"), ("body", 3)}
    assert "applicant 3: expected an applicant object" in messages(response)


def raw_post(client, body: bytes | str, content_type="application/json"):
    return client.post("/score", content=body, headers={"Content-Type": content_type})


@pytest.mark.parametrize("body, status, words", [
    (b'{"term": "36", ', 400, "not valid JSON"),
    (b"", 400, "not valid JSON"),
    (b"not json at all", 400, "not valid JSON"),
    (b"\xff\xfe\x00garbage", 400, "not valid JSON"),
    (b'{"dti": NaN}', 400, "NaN is not a JSON number"),
    (b'{"dti": Infinity}', 400, "Infinity is not a JSON number"),
    (b"[" * 100_000 + b"]" * 100_000, 400, "nested too deeply"),
    (b"9" * 5000, 400, "not valid JSON"),
    (b'"an applicant"', 422, "expected an applicant object or a list"),
    (b"42", 422, "expected an applicant object or a list"),
    (b'{"dti": 1, "dti": 2}', 422, '"dti" appears twice'),
])
def test_malformed_body_is_4xx(client, body, status, words):
    response = raw_post(client, body)
    assert response.status_code == status, response.text
    assert words in messages(response)


def test_wrong_content_type_is_415(client, good):
    response = raw_post(client, json.dumps(good), content_type="text/plain")
    assert response.status_code == 415 and "application/json" in messages(response)


def test_too_many_applicants_is_413_naming_the_limit(client, good):
    ok = client.post("/score", json=[good] * MAX_APPLICANTS)
    assert ok.status_code == 200 and len(ok.json()) == MAX_APPLICANTS
    response = client.post("/score", json=[good] * (MAX_APPLICANTS + 1))
    assert response.status_code == 413
    assert f"at most {MAX_APPLICANTS} applicants" in messages(response)
    assert detail(response)[0]["limit"] == MAX_APPLICANTS


def test_oversized_body_is_413_naming_the_limit(client, good):
    big = json.dumps([{**good, "id": "x" * 150}] * 5000).encode()
    assert len(big) > MAX_BODY_BYTES
    response = raw_post(client, big)
    assert response.status_code == 413 and str(MAX_BODY_BYTES) in messages(response)

    def chunks():   # no Content-Length: the limit holds for a streamed body too
        for start in range(0, len(big), 65536):
            yield big[start:start + 65536]

    response = client.post("/score", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and str(MAX_BODY_BYTES) in messages(response)


JUNK = [None, 0, -1, 1e308, -1e308, 2 ** 70, 0.1, "", " ", "36", "x" * 300, "\u0000", "é", True, False,
        [], {}, [None], {"a": None}]


def test_no_junk_value_gives_a_500(client, card, good):
    """Every feature and every input gets every junk value: 200 or 422, never a 500."""
    for name in ["id", *card.feature_names, "annual_inc"]:
        body = [{**good, name: value} for value in JUNK]
        response = client.post("/score", json=body)
        assert response.status_code in (200, 422), (name, response.text)
        for i, value in enumerate(JUNK):
            response = client.post("/score", json={**good, name: value})
            assert response.status_code in (200, 422), (name, value, response.text)
    for path in ("/score", "/health", "/scorecard", "/rules", "/nowhere"):
        for method in ("get", "post", "put", "delete"):
            assert getattr(client, method)(path).status_code < 500, (method, path)


def test_lone_surrogate_in_a_category_is_422(client, good):
    body = json.dumps({**good, "purpose": "\ud800"})   # valid JSON escape, not valid Unicode
    response = raw_post(client, body)
    assert response.status_code == 422 and "purpose" in messages(response)


# -- the other endpoints ----------------------------------------------------------------------
def test_health_names_card_and_rules_versions(client, card, rules_doc):
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["model_version"] == card.version
    assert body["rules_version"] == rules_doc["version"]
    # The default rules were calibrated on the committed card; a rebuilt card only warns.
    calibrated = rules_doc["calibrated_on"]["model_version"] == card.version
    assert (body["warnings"] == []) == calibrated, body["warnings"]


def test_scorecard_endpoint_serves_the_card(client):
    response = client.get("/scorecard")
    assert response.status_code == 200
    assert response.json() == json.loads(DEFAULT_CARD.read_text(encoding="utf-8"))


def test_rules_endpoint_and_openapi(client, rules_doc):
    assert client.get("/rules").json() == rules_doc
    spec = client.get("/openapi.json")
    assert spec.status_code == 200
    body_schema = spec.json()["paths"]["/score"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body_schema["oneOf"][1]["maxItems"] == MAX_APPLICANTS


def test_cors_is_off_unless_origins_are_listed(good):
    preflight = {"Origin": "https://lender.example", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"}
    closed = TestClient(create_app())
    response = closed.options("/score", headers=preflight)
    assert "access-control-allow-origin" not in response.headers
    response = closed.post("/score", json=good, headers={"Origin": "https://lender.example"})
    assert "access-control-allow-origin" not in response.headers

    open_to_one = TestClient(create_app(cors_origins=["https://lender.example"]))
    response = open_to_one.options("/score", headers=preflight)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://lender.example"
    response = open_to_one.options("/score", headers={**preflight, "Origin": "https://evil.example"})
    assert response.headers.get("access-control-allow-origin") != "https://evil.example"

    with pytest.raises(ScorecardError, match="CORS origins"):
        create_app(cors_origins=["https://lender.example/"])


ALLOWED, OTHER = "https://lender.example", "https://evil.example"


def _preflight(origin: str, method: str = "POST", headers: str = "content-type") -> dict:
    return {"Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers}


def test_cors_policy_is_reported_by_health():
    from scorecard.apply.service import CORS_ENV, CORS_HEADERS, CORS_MAX_AGE, CORS_METHODS

    closed = TestClient(create_app()).get("/health").json()
    assert closed["cors"]["enabled"] is False and closed["cors"]["allow_origins"] == []
    assert CORS_ENV in closed["cors"]["note"]
    assert closed["max_applicants"] == MAX_APPLICANTS and closed["max_body_bytes"] == MAX_BODY_BYTES
    policy = TestClient(create_app(cors_origins=[ALLOWED])).get("/health").json()["cors"]
    assert policy == {"enabled": True, "allow_origins": [ALLOWED], "allow_methods": list(CORS_METHODS),
                      "allow_headers": list(CORS_HEADERS), "allow_credentials": False, "max_age": CORS_MAX_AGE}
    assert CORS_METHODS == ("GET", "POST") and CORS_HEADERS == ("Content-Type",)


def test_cors_allows_the_listed_origin_only(good):
    """Preflight and the actual request: the listed origin gets Access-Control-Allow-Origin with the
    listed methods and header; another origin, method or header gets none."""
    client = TestClient(create_app(cors_origins=[ALLOWED]))
    response = client.options("/score", headers=_preflight(ALLOWED))
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert set(response.headers["access-control-allow-methods"].split(", ")) == {"GET", "POST"}
    assert "content-type" in response.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in response.headers
    for path, call in (("/score", lambda h: client.post("/score", json=good, headers=h)),
                       ("/health", lambda h: client.get("/health", headers=h))):
        allowed = call({"Origin": ALLOWED})
        assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == ALLOWED, path
        other = call({"Origin": OTHER})
        assert other.status_code == 200, path      # served (CORS is the browser's check) ...
        assert "access-control-allow-origin" not in other.headers, path   # ... but not readable there
    for headers in (_preflight(OTHER), _preflight(ALLOWED, method="DELETE"),
                    _preflight(ALLOWED, headers="x-api-key"), _preflight("null")):
        response = client.options("/score", headers=headers)
        assert response.status_code == 400, headers
        if headers["Origin"] != ALLOWED:
            assert "access-control-allow-origin" not in response.headers, headers
    closed = TestClient(create_app())
    for headers in (_preflight(ALLOWED), _preflight(OTHER)):
        response = closed.options("/score", headers=headers)
        assert not any(h.startswith("access-control-") for h in response.headers), response.headers
    assert "access-control-allow-origin" not in closed.post("/score", json=good, headers={"Origin": ALLOWED}).headers



# -- the rules file ---------------------------------------------------------------------------
def write_rules(tmp_path, change) -> str:
    doc = json.loads(DEFAULT_RULES.read_text(encoding="utf-8"))
    change(doc)
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _set(path, value):
    def change(doc):
        node = doc
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return change


def _append_rule(**rule):
    def change(doc):
        base = copy.deepcopy(doc["policy_rules"][0])
        base.update(rule)
        doc["policy_rules"].append(base)
    return change


BAD_RULES = {
    "overlapping cut-offs": (_set(["cutoffs", "decline_below"], 560),
                             "cutoffs: decline_below (560) must be below approve_from (540): "
                             "the decline and approve ranges overlap"),
    "no refer range": (_set(["cutoffs", "approve_from"], 520), "leave no refer range"),
    "cut-off inside a band": (_set(["cutoffs", "decline_below"], 525), "cutoffs.decline_below: 525 is not the min_score"),
    "bands out of order": (_set(["score_bands", 4, "min_score"], 535),
                           "score_bands[4] 'B': min_score 535 must be above the previous band's 540"),
    "loan limit falls with the score": (_set(["score_bands", 5, "max_loan_amount"], 1000),
                                        "score_bands[5] 'A': max_loan_amount 1000 is below"),
    "declined band lends": (_set(["score_bands", 0, "max_loan_amount"], 100),
                            "score_bands[0] 'F': the band lies below cutoffs.decline_below"),
    "first band bounded": (_set(["score_bands", 0, "min_score"], 400), "score_bands[0] 'F': the lowest band"),
    "rule on a field the request lacks": (_set(["policy_rules", 1, "field"], "debt_to_income"),
                                          "policy_rules[1] 'max_dti': field 'debt_to_income' is neither"),
    "rule on a categorical feature": (_set(["policy_rules", 1, "field"], "purpose"),
                                      "policy_rules[1] 'max_dti': field 'purpose' is a categorical feature"),
    "bad operator": (_set(["policy_rules", 2, "operator"], "=>"), "policy_rules[2] 'max_loan_to_income'.operator"),
    "duplicate rule id": (_append_rule(reason_code="P09"), "policy_rules[3] 'min_annual_income': id"),
    "contradicting rules": (_append_rule(id="max_income", reason_code="P09", operator=">", threshold=10000),
                            "policy_rules[0] 'min_annual_income' (annual_inc < 12000) and "
                            "policy_rules[3] 'max_income' (annual_inc > 10000) together fire for every value"),
    "card reason code": (_set(["policy_rules", 0, "reason_code"], "R01"),
                         "policy_rules[0] 'min_annual_income': reason_code 'R01' is the card's reason code"),
    "unreachable approve": (lambda doc: [_set(["cutoffs", "approve_from"], 700)(doc)]
                            + [_set(["score_bands", i, "min_score"], 670 + 10 * i)(doc) for i in (3, 4, 5)],
                            "cutoffs.approve_from: 700 is above the card's highest possible score "
                            f"{json.loads(DEFAULT_CARD.read_text())['score_range']['max']}"),
    "other scaling": (_set(["calibrated_on", "pdo"], 40), "calibrated_on: the cut-offs were chosen for a card scaled"),
    "input shadows a feature": (_set(["inputs", "dti"], {"type": "number", "description": "x"}),
                                "inputs.dti: 'dti' is already a feature"),
    "unknown key": (_set(["cutoffs", "refer_below"], 530), "cutoffs: Additional properties are not allowed"),
}


@pytest.mark.parametrize("case", list(BAD_RULES))
def test_bad_rules_refuse_to_start(tmp_path, case):
    change, words = BAD_RULES[case]
    path = write_rules(tmp_path, change)
    with pytest.raises(RulesError) as error:
        create_app(DEFAULT_CARD, path)
    assert words in str(error.value), str(error.value)
    assert isinstance(error.value, ScorecardError)


def test_rules_schema_is_valid_and_the_default_rules_fit_the_card(card):
    import jsonschema

    from scorecard.card.rules import SCHEMA_PATH, check_against_card, schema

    jsonschema.Draft202012Validator.check_schema(schema(SCHEMA_PATH))
    rules = load_rules(DEFAULT_RULES, card)
    assert rules.decline_below < rules.approve_from
    assert isinstance(check_against_card(rules, card), list)


def test_unreadable_rules_files(tmp_path):
    with pytest.raises(RulesError, match="not found"):
        load_rules(tmp_path / "absent.json")
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    with pytest.raises(RulesError, match="not valid JSON"):
        load_rules(tmp_path / "broken.json")


def test_other_card_version_only_warns(tmp_path, good):
    path = write_rules(tmp_path, _set(["calibrated_on", "model_version"], "0000000000000000"))
    client = TestClient(create_app(DEFAULT_CARD, path))
    warnings = client.get("/health").json()["warnings"]
    assert len(warnings) == 1 and "calibrated on card 0000000000000000" in warnings[0]
    assert client.post("/score", json=good).status_code == 200


def test_a_refer_rule_refers(tmp_path, good):
    path = write_rules(tmp_path, _append_rule(id="high_revolving_use", field="revol_util", operator=">", threshold=90,
                                              action="refer", reason_code="P10", reason_text="Revolving use over 90%"))
    client = TestClient(create_app(DEFAULT_CARD, path))
    result = client.post("/score", json={**good, "revol_util": 95.0}).json()
    assert result["decision"] == "refer" and result["policy_rule"]["reason_code"] == "P10"
    assert result["max_loan_amount"] > 0


# -- scorecard serve ------------------------------------------------------------------------------
def serve_main(args):
    """`scorecard serve ARGS` in this process (typer ends with SystemExit, as the console script)."""
    from scorecard.cli import app

    app(["serve", *args], prog_name="scorecard")


def test_serve_runs_uvicorn_on_localhost(monkeypatch):
    import uvicorn

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    monkeypatch.setenv("SCORECARD_CORS_ORIGINS", "https://a.example, https://b.example")
    with pytest.raises(SystemExit) as stop:
        serve_main(["--port", "8123"])
    assert stop.value.code == 0
    app, kwargs = calls[0]
    assert kwargs["host"] == "127.0.0.1" and kwargs["port"] == 8123
    assert app.state.card.version == cardlib.load(DEFAULT_CARD).version
    cors = [m for m in app.user_middleware if m.cls.__name__ == "CORSMiddleware"]
    assert cors and cors[0].kwargs["allow_origins"] == ["https://a.example", "https://b.example"]
    paths = {route.path for route in app.routes}
    assert {"/score", "/score/application", "/scorecard", "/rules", "/health"} <= paths


def test_serve_without_params_serves_features_only(monkeypatch):
    import uvicorn
    from typer.testing import CliRunner

    from scorecard.cli import app as cli

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    result = CliRunner().invoke(cli, ["serve", "--no-params", "--host", "0.0.0.0", "--port", "9000"])
    assert result.exit_code == 0, result.output
    app, kwargs = calls[0]
    http = kwargs.pop("http")   # uvicorn's httptools protocol with the header and body timeouts
    assert http.__name__ == "TimedHttpToolsProtocol"
    assert kwargs == {"host": "0.0.0.0", "port": 9000, "log_level": "info", "timeout_keep_alive": 5.0,
                      "limit_concurrency": 201}
    assert TestClient(app).get("/health").json()["connections"] == {
        "enforced": True, "header_timeout": 10.0, "body_timeout": 30.0, "keep_alive_timeout": 5.0,
        "max_connections": 200}
    assert "/score/application" not in {route.path for route in app.routes}


def test_serve_refuses_bad_rules(tmp_path, capsys):
    path = write_rules(tmp_path, _set(["cutoffs", "decline_below"], 560))
    with pytest.raises(SystemExit) as stop:
        serve_main(["--rules", str(path)])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    print(err)
    assert "decline_below (560) must be below approve_from (540)" in err and "Traceback" not in err


# -- POST /score/application: declared fields in, features derived by the service ----------------
@pytest.fixture(scope="module")
def app_client():
    from scorecard.apply.service import DEFAULT_PARAMS

    return TestClient(create_app(DEFAULT_CARD, DEFAULT_RULES, params_path=DEFAULT_PARAMS),
                      raise_server_exceptions=False)


APPLICATION = {"id": "A-1", "loan_amnt": 10000, "term": " 36 ", "emp_title": "U.S. Army", "emp_length": "5 years",
               "annual_inc": 60000, "purpose": "car", "addr_state": "NY", "dti": 12.5, "inq_last_6mths": 1,
               "mths_since_last_delinq": None, "mths_since_last_record": None, "open_acc": 8, "revol_util": 0.45,
               "total_acc": 20, "issue_d": "2011-06-15"}


def test_application_is_scored_from_declared_fields(app_client, card):
    """The service computes loan_to_income = 10000/60000, income_to_state_median from New York's
    2011 median income, open_to_total_acc = 8/20 and the employer group of 'U.S. Army' itself."""
    from scorecard.config import load_params
    from scorecard.build.environment import load_environment

    params = load_params(ROOT / "params.yaml")
    tables = load_environment(params.environment, ROOT)
    incomes = tables["state_median_income"]
    median = incomes.loc[(incomes["key"] == "NY") & (incomes["period"] == 2011), "state_median_income"]
    features = {"term": "36", "emp_length_years": 5.0, "purpose": "car", "dti": 12.5, "inq_last_6mths": 1.0,
                "mths_since_last_delinq": None, "mths_since_last_record": None, "revol_util": 0.45,
                "loan_to_income": 10000 / 60000, "income_to_state_median": 60000 / float(median.iloc[0]),
                "open_to_total_acc": 8 / 20, "emp_title_group": "military"}
    want = card.apply(pd.DataFrame([features]), 4).iloc[0]
    got = app_client.post("/score/application", json=APPLICATION)
    assert got.status_code == 200, got.text
    result = got.json()
    assert result["id"] == "A-1" and result["score"] == int(want["score"])
    assert result["points"] == {n: int(want[f"points_{n}"]) for n in card.feature_names}


@pytest.mark.parametrize("change, field, expected", [
    ({"annual_inc": -5}, "annual_inc", "greater than 0"),
    ({"annual_inc": 0}, "annual_inc", "greater than 0"),
    ({"annual_inc": "60000"}, "annual_inc", "expected a number or null, got a string"),
    ({"loan_amnt": 5_000_000}, "loan_amnt", "less than or equal to 1000000"),
    ({"issue_d": "15/06/2011"}, "issue_d", "expected a date as yyyy-mm-dd"),
    ({"issue_d": "2011-02-30"}, "issue_d", "expected a date as yyyy-mm-dd, got '2011-02-30'"),
    ({"issue_d": "2026-11-30"}, "issue_d", "expected a date from 2007-01-01 to 2011-12-31"),
    ({"issue_d": None}, "issue_d", "must not be null"),
    ({"addr_state": None}, "addr_state", "must not be null"),
    ({"emp_length": "a while"}, "emp_length", "expected one of ['< 1 year'"),
    ({"term": 36}, "term", "expected a string"),
    ({"loan_to_income": 0.2}, "loan_to_income", "unknown field"),
    ({"annual_income": 1}, "annual_income", "unknown field"),
])
def test_bad_application_field_is_named(app_client, change, field, expected):
    response = app_client.post("/score/application", json={**APPLICATION, **change})
    assert response.status_code == 422, response.text
    messages = [d["msg"] for d in response.json()["detail"] if d["field"] == field]
    print(messages)
    assert messages and expected in messages[0], response.json()


def test_missing_application_field_is_named(app_client):
    body = {k: v for k, v in APPLICATION.items() if k != "revol_util"}
    detail = app_client.post("/score/application", json=body).json()["detail"]
    assert [d["field"] for d in detail] == ["revol_util"] and "required" in detail[0]["msg"]


def test_application_state_the_data_do_not_cover_is_named(app_client):
    response = app_client.post("/score/application", json=[APPLICATION, {**APPLICATION, "addr_state": "ZZ"}])
    assert response.status_code == 422
    message = response.json()["detail"][0]["msg"]
    print(message)
    assert message.startswith("applicant 1: column 'addr_state'") and "'ZZ'" in message


@pytest.mark.parametrize("field, value, sent", [
    ("annual_inc", 1e-320, "loan_amnt / annual_inc = 10000 / 1e-320"),
    ("annual_inc", 5e-324, "loan_amnt / annual_inc = 10000 / 5e-324"),
    ("total_acc", 1e-320, "open_acc / total_acc = 8 / 1e-320"),
])
def test_a_value_that_makes_a_derived_feature_infinite_is_named_by_the_callers_field(app_client, field, value, sent):
    """1e-320 passes the schema (above 0) but 10000 / 1e-320 is infinite: the 422 names the field
    the caller sent and the applicant (position and id), not the derived column (loan_to_income,
    open_to_total_acc), both on one application and in a list (frame path and per-record path)."""
    one = app_client.post("/score/application", json={**APPLICATION, field: value})
    many = app_client.post("/score/application",
                           json=[APPLICATION, {**APPLICATION, "id": "A-2", field: value}, {**APPLICATION, "id": None},
                                 {**APPLICATION, "id": None, field: value}])
    for response in (one, many):
        print(response.json())
        assert response.status_code == 422, response.text
        assert "loan_to_income" not in response.text and "open_to_total_acc" not in response.text
    [single] = one.json()["detail"]
    assert single["field"] == field and single["loc"] == ["body", field] and single["id"] == "A-1"
    assert single["msg"].startswith(f"applicant (id \"A-1\"), field '{field}': {value!r} is too close to 0")
    assert sent in single["msg"]
    listed = many.json()["detail"]
    assert [(d["applicant"], d["id"], d["loc"]) for d in listed] == [(1, "A-2", ["body", 1, field]),
                                                                     (3, None, ["body", 3, field])]
    assert listed[0]["msg"].startswith(f"applicant 1 (id \"A-2\"), field '{field}'")
    assert listed[1]["msg"].startswith(f"applicant 3, field '{field}'")


def test_application_unseen_category_is_scored_and_flagged(app_client):
    result = app_client.post("/score/application", json={**APPLICATION, "purpose": "space travel"}).json()
    assert result["unseen_categories"] == ["purpose"]


def test_application_rules_read_computed_fields(app_client):
    """P03 (loan above half the income) reads loan_to_income, which the service computed."""
    result = app_client.post("/score/application", json={**APPLICATION, "loan_amnt": 40000}).json()
    assert result["decision"] == "decline"
    assert "P03" in [hit["reason_code"] for hit in result["policy_rules_fired"]]


def test_params_that_cannot_feed_the_card_refuse_to_start(tmp_path):
    import yaml

    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    del params["features"]["derived"]["loan_to_income"]      # valid params, but not the card's
    params["features"]["model_features"].remove("loan_to_income")
    params["binning"].get("monotonic_trend_by_feature", {}).pop("loan_to_income", None)
    for name in ("binning_overrides.yaml",):
        (tmp_path / name).write_text((ROOT / name).read_text())
    (tmp_path / "data").symlink_to(ROOT / "data")
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    with pytest.raises(ScorecardError, match="card feature 'loan_to_income' is not a column"):
        create_app(DEFAULT_CARD, DEFAULT_RULES, params_path=path)


# -- no business rules; rules written for other data ---------------------------------------------
#: What an answer says where only the rules could say something.
RULES_ONLY = {"band": None, "decision": None, "score_decision": None, "policy_rule": None,
              "policy_rules_fired": [], "max_loan_amount": None, "rules_version": None}


@pytest.fixture(scope="module")
def bare_client():
    """The service without business rules (rules_path None), with params.yaml."""
    from scorecard.apply.service import DEFAULT_PARAMS

    return TestClient(create_app(DEFAULT_CARD, None, params_path=DEFAULT_PARAMS), raise_server_exceptions=False)


def test_without_rules_scores_and_reasons_equal_the_card(bare_client, client, card, test_rows):
    body = records(test_rows, card.feature_names)
    response = bare_client.post("/score", json=body)
    assert response.status_code == 200, response.text
    results = response.json()
    applied = card.apply(test_rows[card.feature_names])
    assert [r["score"] for r in results] == applied["score"].astype(int).tolist()
    for i, result in enumerate(results):
        row = applied.iloc[i]
        assert result["points"] == {n: int(row[f"points_{n}"]) for n in card.feature_names}
        want = [(row[f"reason_{k}"], row[f"reason_{k}_text"], int(row[f"reason_{k}_points_lost"]))
                for k in range(1, 5) if row[f"reason_{k}"] is not None]
        assert [(r["code"], r["text"], r["points_lost"]) for r in result["reasons"]] == want
        assert {k: result[k] for k in RULES_ONLY} == RULES_ONLY
        assert result["model_version"] == card.version and result["id"] is None
    # The same keys as with rules, and the same scores and reasons: only the decision is gone.
    ruled = client.post("/score", json=body).json()
    assert [set(r) for r in results] == [set(r) for r in ruled]
    assert [(r["score"], r["reasons"]) for r in results] == [(r["score"], r["reasons"]) for r in ruled]
    assert {r["decision"] for r in ruled} <= {"approve", "refer", "decline"} and ruled[0]["band"] is not None


def test_without_rules_an_application_is_scored_without_a_decision(bare_client, app_client):
    got, ruled = (c.post("/score/application", json=APPLICATION) for c in (bare_client, app_client))
    assert got.status_code == 200 and ruled.status_code == 200, (got.text, ruled.text)
    result, with_rules = got.json(), ruled.json()
    assert result["id"] == "A-1" and result["score"] == with_rules["score"] > 0
    assert result["points"] == with_rules["points"] and result["reasons"] == with_rules["reasons"]
    assert {k: result[k] for k in RULES_ONLY} == RULES_ONLY
    assert with_rules["decision"] in ("approve", "refer", "decline")


def test_without_rules_get_rules_is_404_and_health_says_so(bare_client, card):
    response = bare_client.get("/rules")
    assert response.status_code == 404
    assert response.json() == {"detail": [{"loc": ["path", "rules"], "type": "no_rules", "msg": NO_RULES_APPLIED}]}
    health = bare_client.get("/health").json()
    assert health["status"] == "ok" and health["model_version"] == card.version
    assert health["rules_version"] is None and health["rules_sha256"] is None and health["rules"] == NO_RULES_APPLIED
    spec = bare_client.get("/openapi.json").json()
    assert NO_RULES_APPLIED in spec["info"]["description"]
    assert "404" in spec["paths"]["/rules"]["get"]["responses"]


def test_without_rules_a_rules_input_is_an_unknown_field(bare_client, client, good):
    """annual_inc is declared only by the rules (inputs): without them the request refuses it."""
    assert "annual_inc" in good and client.post("/score", json=good).status_code == 200
    response = bare_client.post("/score", json=good)
    assert response.status_code == 422, response.text
    [problem] = detail(response)
    assert problem["field"] == "annual_inc" and problem["type"] == "extra_forbidden"
    assert "unknown field" in problem["msg"] and "no business rules" in problem["msg"]
    spec = bare_client.get("/openapi.json").json()
    assert "annual_inc" not in json.dumps(spec["paths"]["/score"]["post"]["requestBody"])
    without = {k: v for k, v in good.items() if k != "annual_inc"}
    assert bare_client.post("/score", json=without).json()["score"] == client.post("/score", json=good).json()["score"]


def test_rules_for_another_dataset_refuse_to_start(tmp_path):
    from scorecard.apply.service import DEFAULT_PARAMS

    path = write_rules(tmp_path, _set(["dataset"], "other-data"))
    with pytest.raises(RulesMismatchError) as error:
        create_app(DEFAULT_CARD, path, params_path=DEFAULT_PARAMS)
    message = str(error.value)
    print(message)
    assert f"business rules {path} cannot be applied to the applicant file of params.yaml" in message
    assert (f"{path}: dataset: these rules were written for dataset 'other-data', but params.yaml names dataset "
            "'lendingclub-2007-2011' (dataset.id)") in message


def test_rules_for_another_dataset_are_refused_by_the_params_even_when_the_card_names_none(tmp_path):
    """The champion card declares no dataset: only the params can tell these rules are for other data."""
    from scorecard.card.rules import card_dataset
    from scorecard.apply.service import DEFAULT_PARAMS

    champion = ROOT / "models" / "champion" / "scorecard.json"
    assert card_dataset(cardlib.load(champion)) is None
    path = write_rules(tmp_path, _set(["dataset"], "other-data"))
    assert create_app(champion, path, params_path=None).state.rules.document["dataset"] == "other-data"
    with pytest.raises(RulesMismatchError, match="but params.yaml names dataset 'lendingclub-2007-2011'"):
        create_app(champion, path, params_path=DEFAULT_PARAMS)
    assert create_app(champion, DEFAULT_RULES, params_path=DEFAULT_PARAMS).state.rules.version == "1.0.0"


def test_a_rule_on_a_field_the_params_do_not_know_refuses_to_start(tmp_path, good):
    """Declared under inputs, the field fits the card (the request may carry it), but the applicant
    file of params.yaml has no such field: the rules were written for other data."""
    from scorecard.apply.service import DEFAULT_PARAMS

    def change(doc):
        doc["inputs"]["monthly_rent"] = {"type": "number", "minimum": 0, "description": "Monthly rent"}
        _append_rule(id="max_rent", field="monthly_rent", operator=">", threshold=5000, reason_code="P11",
                     reason_text="Rent too high")(doc)
    path = write_rules(tmp_path, change)
    features_only = TestClient(create_app(DEFAULT_CARD, path, params_path=None))
    decided = features_only.post("/score", json={**good, "monthly_rent": 6000.0}).json()
    assert decided["policy_rule"]["rule"] == "max_rent"
    with pytest.raises(RulesMismatchError) as error:
        create_app(DEFAULT_CARD, path, params_path=DEFAULT_PARAMS)
    message = str(error.value)
    print(message)
    assert (f"{path}: policy_rules[3] 'max_rent': field 'monthly_rent' is neither a field of the applicant file "
            "(data.columns in params.yaml)") in message
    assert message.count("\n  ") == 2   # the one problem and the fix: the other rules fit


def write_params(tmp_path, rules_path) -> Path:
    """The project's params.yaml with another rules.path, in tmp_path (data linked)."""
    import yaml

    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    params["rules"]["path"] = rules_path
    (tmp_path / "binning_overrides.yaml").write_text((ROOT / "binning_overrides.yaml").read_text())
    (tmp_path / "data").symlink_to(ROOT / "data")
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    return path


def test_serve_rules_follow_params_yaml(tmp_path, monkeypatch):
    from scorecard.apply import service
    from scorecard.cli import serve_rules

    assert serve_rules()[0] == ROOT / "business_rules" / "rules.json"
    (tmp_path / "mine").mkdir()
    mine = write_rules(tmp_path / "mine", lambda doc: None)
    params = write_params(tmp_path, "mine/rules.json")
    assert serve_rules(params=params) == (tmp_path / "mine" / "rules.json",
                                          f"rules.path mine/rules.json in {params}")
    assert serve_rules(rules=DEFAULT_RULES, params=params) == (DEFAULT_RULES, f"--rules {DEFAULT_RULES}")
    assert serve_rules(no_rules=True, params=params) == (None, "--no-rules")
    params.write_text(params.read_text().replace("path: mine/rules.json", "path: null"))
    assert serve_rules(params=params) == (None, f"rules.path: null in {params}")
    params.write_text(params.read_text().replace("rules:\n  path: null", "rules:\n  path: absent.json"))
    with pytest.raises(RulesMismatchError, match="rules.path: business rules file not found: absent.json"):
        serve_rules(params=params)
    # No params file and no --rules: the project's rules, as before params.yaml named them.
    monkeypatch.setattr(service, "DEFAULT_PARAMS", tmp_path / "absent.yaml")
    assert serve_rules()[0] == service.DEFAULT_RULES
    assert mine.is_file()


def test_serve_refuses_rules_and_no_rules_together():
    from typer.testing import CliRunner

    from scorecard.cli import app as cli

    result = CliRunner().invoke(cli, ["serve", "--rules", str(DEFAULT_RULES), "--no-rules"])
    assert result.exit_code == 2, result.output
    assert "'--rules' / '--no-rules'" in result.output and "not both" in result.output
    assert "Traceback" not in result.output


def test_serve_without_rules_when_params_say_null(tmp_path, monkeypatch):
    import uvicorn
    from typer.testing import CliRunner

    from scorecard.cli import app as cli

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(app))
    params = write_params(tmp_path, None)
    result = CliRunner().invoke(cli, ["serve", "--params", str(params)])
    assert result.exit_code == 0, result.output
    assert f"no business rules (rules.path: null in {params})" in " ".join(result.stderr.split())
    [app] = calls
    assert app.state.rules is None and TestClient(app).get("/health").json()["rules_version"] is None
    assert "/score/application" in {route.path for route in app.routes}
    result = CliRunner().invoke(cli, ["serve", "--no-params", "--no-rules"])
    assert result.exit_code == 0 and calls[-1].state.rules is None, result.output
    result = CliRunner().invoke(cli, ["serve", "--no-params"])   # the project's params.yaml names rules.json
    assert result.exit_code == 0 and calls[-1].state.rules.source == str(ROOT / "business_rules" / "rules.json")


# -- the per-record path: Card.apply_records and ApplicationForm.feature_records ------------------
def _plain_rows(frame: pd.DataFrame, columns: list[str]) -> list[dict]:
    """Rows as Python values (NaN stays NaN), as the service's records hold them."""
    return [{k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
            for row in frame[columns].astype(object).to_dict(orient="records")]


def _same_rows(got: list[dict], want: list[dict], how: str) -> None:
    """Same keys in the same order, same values and the same Python types."""
    assert len(got) == len(want), how
    for i, (g, w) in enumerate(zip(got, want)):
        assert list(g) == list(w), f"{how}: row {i}: keys differ"
        for key in w:
            a, b = g[key], w[key]
            same = type(a) is type(b) and (a == b or (a != a and b != b))
            assert same, f"{how}: row {i}, {key}: per-record {a!r}, Card.apply {b!r}"


def test_apply_records_equals_apply_on_every_test_applicant(card, test_set):
    """All 21,721 out-of-time applicants: score, points, reasons (tie-breaking included) and the
    unseen flag of the per-record path are Card.apply's, value for value and type for type."""
    want = card.apply(test_set, 4).to_dict(orient="records")
    rows = _plain_rows(test_set, card.feature_names)
    _same_rows(card.apply_records(rows, 4), want, "float/None/str records")
    nulls = [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()} for r in rows]
    _same_rows(card.apply_records(nulls, 4), want, "NaN as None")
    for n in (0, 1, 2, 12, 15):   # fewer and more reasons than features
        _same_rows(card.apply_records(rows[:300], n), card.apply(test_set.head(300), n).to_dict(orient="records"),
                   f"{n} reasons")


def _edge_values(feature: dict) -> list:
    """Values at and around every edge of a feature, and the values that pick other bins."""
    if feature["type"] == "numeric":
        values = [None, math.nan, 0.0, -0.0, 1e300, -1e300, 5e-324, 0, 1, -1, 3, 2 ** 53, 2 ** 53 + 1, -(2 ** 60)]
        for b in feature["bins"]:
            for edge in ([b["lower"], b["upper"]] if b["kind"] == "range" else b.get("values", [])):
                if edge is not None:
                    values += [edge, float(edge), math.nextafter(edge, -math.inf), math.nextafter(edge, math.inf)]
                    if float(edge).is_integer():
                        values.append(int(edge))
        return values
    categories = [c for b in feature["bins"] if b["kind"] == "categories" for c in b["categories"]]
    numeric_looking = [v for c in categories if c.lstrip("-").isdigit() for v in (int(c), float(c), c + ".0")]
    return [None, math.nan, *categories, *numeric_looking, "never seen", "", " 36", "36 ", "car ", "CAR",
            "36.5", 36.5, 0, -1, 10.0, True, "nan", "None", "é"]


def test_apply_records_equals_apply_on_edge_rows(card, test_set):
    """One real applicant with one feature changed at a time to NULL, NaN, each bin edge and
    its float neighbours, the special values, the unseen and number-looking categories."""
    base = _plain_rows(test_set.head(1), card.feature_names)[0]
    rows = [{**base, f["name"]: v} for f in card.features for v in _edge_values(f)]
    assert len(rows) > 300
    for row in rows:   # one frame per row: each column typed from its one value, as apply sees it
        _same_rows(card.apply_records([row], 4), card.apply(pd.DataFrame([row]), 4).to_dict(orient="records"),
                   f"edge row {row}")
    numeric = [f["name"] for f in card.features if f["type"] == "numeric"]
    typed = [{k: (v if k not in numeric or v is None else float(v)) for k, v in r.items()} for r in rows]
    frame = pd.DataFrame(typed, columns=card.feature_names)
    for name in numeric:
        frame[name] = frame[name].astype("float64")
    _same_rows(card.apply_records(typed, 4), card.apply(frame, 4).to_dict(orient="records"), "edge rows as one batch")


def test_apply_records_leaves_other_inputs_to_apply(card, test_set):
    """Text in a numeric feature is coerced (or refused) exactly as Card.apply does; infinity
    and a missing column raise the same CardError."""
    base = _plain_rows(test_set.head(1), card.feature_names)[0]
    text = {**base, "dti": "12.5"}
    _same_rows(card.apply_records([text]), card.apply(pd.DataFrame([text])).to_dict(orient="records"), "text")
    for bad, words in [({**base, "dti": "twelve"}, "expected a number"),
                       ({**base, "dti": math.inf}, "finite"), ({**base, "dti": float("-inf")}, "finite")]:
        with pytest.raises(cardlib.CardError, match=words):
            card.apply_records([bad])
    with pytest.raises(cardlib.CardError, match="missing required column"):
        card.apply_records([{k: v for k, v in base.items() if k != "dti"}])
    assert card.apply_records([]) == []


def _float_bits(value) -> bytes:
    return np.float64(value).tobytes()


def test_feature_records_equal_the_frame_path_bit_for_bit(card, test_applications):
    """Every out-of-time application: the derived features and the joined environment values of
    the per-record path have the same float64 bits as ApplicationForm.features (the ETL's)."""
    from scorecard.apply.application import ApplicationForm, json_records
    from scorecard.apply.service import DEFAULT_PARAMS

    form = ApplicationForm.from_params_file(card, DEFAULT_PARAMS)
    records = json_records(test_applications[list(form.columns)])
    frame = form.features(records)
    rows = form.feature_records(records)
    assert rows is not None and len(rows) == len(frame) == 21_721
    for column in frame.columns:
        want = frame[column].tolist()
        got = [r[column] for r in rows]
        if pd.api.types.is_datetime64_any_dtype(frame[column]):
            assert [None if pd.isna(w) else w.date() for w in want] == got, column
        elif pd.api.types.is_numeric_dtype(frame[column]):
            assert [_float_bits(g) for g in got] == [_float_bits(w) for w in want], column
        else:
            assert [None if w is None or w != w else w for w in want] == got, column
    _same_rows(card.apply_records(rows, 4), card.apply(frame, 4).to_dict(orient="records"), "applications")


APPLICATION_EDGES = [
    {"term": "\u3000 36\t"}, {"term": "60"}, {"term": "36.0"}, {"purpose": " wedding "}, {"purpose": "space travel"},
    {"emp_length": "n/a"}, {"emp_length": "< 1 year"}, {"emp_length": "10+ years"}, {"emp_length": " 1 year"},
    {"annual_inc": 1e-300}, {"annual_inc": 5e-324}, {"annual_inc": 3.0}, {"annual_inc": 100000000},
    {"loan_amnt": 1}, {"loan_amnt": 1000000},
    {"dti": 0}, {"dti": 100}, {"dti": None}, {"revol_util": None}, {"total_acc": None}, {"pub_rec": None},
    {"inq_last_6mths": None}, {"mths_since_last_delinq": 0}, {"addr_state": " ny "}, {"addr_state": "NY "},
    {"issue_d": "2007-01-01"}, {"issue_d": "2011-12-31"}, {"issue_d": "2008-02-29"}, {"addr_state": "DC"},
    {"addr_state": "New York"}, {"addr_state": "ZZ"},
]


@pytest.mark.parametrize("change", APPLICATION_EDGES, ids=[json.dumps(c) for c in APPLICATION_EDGES])
def test_feature_records_equal_the_frame_path_on_edge_applications(card, change):
    """Whitespace, the special employment value, tiny incomes (a ratio over 1e300), the first and
    last days covered, a state some source does not cover: the same values, or the same error."""
    from scorecard.apply.application import ApplicationForm
    from scorecard.errors import ScorecardError as Error
    from scorecard.apply.service import DEFAULT_PARAMS

    form = ApplicationForm.from_params_file(card, DEFAULT_PARAMS)
    record = {**APPLICATION, **change}
    record = {name: (float(v) if spec.type == "numeric" and v is not None else v)
              for name, spec in form.columns.items() for v in [record.get(name)]}
    try:
        frame = form.features([record])
    except Error:
        assert form.feature_records([record]) is None   # the frame path decides (and names the applicant)
        return
    rows = form.feature_records([record])
    assert rows is not None
    for column in frame.columns:
        want, got = frame[column].iloc[0], rows[0][column]
        if isinstance(want, pd.Timestamp):
            assert want.date() == got
        elif isinstance(want, (float, np.floating, np.integer)):
            assert _float_bits(got) == _float_bits(want), column
        else:
            assert (None if want is None or want != want else want) == got, column
    try:
        want = card.apply(frame, 4).to_dict(orient="records")
    except Error as error:
        with pytest.raises(type(error), match="finite"):
            card.apply_records(rows, 4)
        return
    _same_rows(card.apply_records(rows, 4), want, json.dumps(change))


def test_category_text_is_stripped_as_pandas_strips_it():
    """The frame path strips declared categories with pandas (pyarrow), the per-record path with
    str.strip: the same characters, at both ends, over all of Unicode."""
    points = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    texts = [f"{chr(c)}x{chr(c)}" for c in points]
    stripped = pd.Series(texts, dtype="str").str.strip().tolist()
    differ = [hex(c) for c, t, s in zip(points, texts, stripped) if t.strip() != s]
    assert differ == []


def test_small_and_large_requests_answer_the_same(app_client, card, test_set, test_applications):
    """The service's per-record path (<= FAST_PATH_MAX applicants) and its frame path (more)
    give byte-identical answers, decisions and rules included, for 5,000 real applicants."""
    from scorecard.apply.application import json_records
    from scorecard.apply.service import FAST_PATH_MAX

    n = 5000
    features = json_records(test_set.head(n)[["applicant_id", *card.feature_names]]
                            .rename(columns={"applicant_id": "id"}))
    declared = [k for k in APPLICATION if k != "id"]
    applications = json_records(test_applications.head(n)[["applicant_id", *declared]]
                                .rename(columns={"applicant_id": "id"}))
    for path, rows in (("/score", features), ("/score/application", applications)):
        large = []
        for start in range(0, n, MAX_APPLICANTS):
            response = app_client.post(path, json=rows[start:start + MAX_APPLICANTS])
            assert response.status_code == 200, response.text[:500]
            large += response.json()
        small = []
        for start in range(0, n, FAST_PATH_MAX):
            response = app_client.post(path, json=rows[start:start + FAST_PATH_MAX])
            assert response.status_code == 200, response.text[:500]
            small += response.json()
        assert small == large, path
        for i in (0, 1, n - 1):
            assert app_client.post(path, json=rows[i]).json() == large[i]
