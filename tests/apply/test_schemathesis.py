"""Property-based fuzzing of the service from its own OpenAPI schema (schemathesis).

Every operation of ``/openapi.json`` (POST /score, POST /score/application, GET /scorecard,
/rules, /health) gets requests generated from the schema — valid applicants and applications
(positive) and bodies that break it (negative: wrong types, missing and unknown fields, out of
range numbers, odd text) — sent in-process (ASGI). Every answer must not be a 5xx, must have a
status code and content type the schema declares, and a body that conforms to the schema of
that status. Reproducible: derandomized, no example database, a bounded number of examples.
"""

from __future__ import annotations

import warnings

import pytest
import schemathesis
from hypothesis import HealthCheck, event, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from scorecard.card.rules import DEFAULT_RULES
from scorecard.apply.service import DEFAULT_CARD, DEFAULT_PARAMS, create_app

MAX_EXAMPLES = 150     # per operation: under a minute in all
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _schema():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        app = create_app(DEFAULT_CARD, DEFAULT_RULES, params_path=DEFAULT_PARAMS)
    loaded = schemathesis.openapi.from_asgi("/openapi.json", app)
    loaded.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                                    max_examples=MAX_EXAMPLES, deterministic=True, database="none")
    return loaded


# Built when the module is collected: schemathesis parametrizes the test per operation from it.
schema = _schema()


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, derandomize=True, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_no_server_error_and_answers_conform_to_the_schema(case):
    case.call_and_validate(checks=CHECKS)


# -- valid applications, drawn from params.yaml's schema: the per-record path equals the frame path --
def _applications():
    """Applications params.yaml accepts: numbers in range (edges included), allowed categories
    with stray whitespace, any text where no list is declared, covered states and dates."""
    import datetime as dt

    from hypothesis import strategies as st

    from scorecard.apply.application import ApplicationForm
    from scorecard.card import load

    form = ApplicationForm.from_params_file(load(DEFAULT_CARD), DEFAULT_PARAMS)
    states = sorted(set.intersection(*(set(t["key"].astype(str)) for t in form.tables.values())))
    known = {c for f in form.card.features if f["type"] == "categorical" for b in f["bins"] if b["kind"] == "categories"
             for c in b["categories"]}
    padded = lambda values: st.tuples(st.sampled_from(["", " ", "\t", "\u3000"]), st.sampled_from(sorted(values)),
                                      st.sampled_from(["", " ", "\n"])).map("".join)
    fields = {}
    for name, spec in form.columns.items():
        if spec.type == "numeric":
            low = spec.min_exclusive if spec.min_exclusive is not None else spec.min
            kind = st.one_of(st.floats(low, spec.max, exclude_min=spec.min_exclusive is not None, allow_nan=False),
                             st.sampled_from([v for v in (spec.min, spec.max) if v is not None] or [1.0]),
                             st.integers(int(low or 0) + 1, int(min(spec.max or 1e6, 1e6))).map(float))
        elif spec.type == "date":
            kind = st.dates(dt.date.fromisoformat(str(spec.min)), dt.date.fromisoformat(str(spec.max))).map(str)
        elif name == form.params.environment.join_key:
            kind = padded(states)
        elif spec.allowed is not None:
            kind = padded(spec.allowed)
        else:
            kind = st.one_of(padded(known), st.text(max_size=12))
        fields[name] = st.one_of(st.none(), kind) if spec.nullable else kind
    return st.fixed_dictionaries(fields)


@pytest.fixture(scope="module")
def app_client():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # starlette would rather have httpx2 than httpx: harmless here
        from fastapi.testclient import TestClient

        return TestClient(create_app(DEFAULT_CARD, DEFAULT_RULES, params_path=DEFAULT_PARAMS),
                          raise_server_exceptions=False)


@settings(max_examples=80, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))
@given(application=_applications())
def test_valid_applications_score_the_same_one_by_one_and_in_bulk(app_client, application):
    """One application is scored record by record, more than FAST_PATH_MAX through DataFrames:
    the same answer, byte for byte (or the same 422 when a value is out of what the card takes)."""
    from scorecard.apply.service import FAST_PATH_MAX

    one = app_client.post("/score/application", json=application)
    bulk = app_client.post("/score/application", json=[application] * (FAST_PATH_MAX + 1))
    assert one.status_code < 500 and bulk.status_code < 500, (one.text, bulk.text)
    assert one.status_code == bulk.status_code, (one.text, bulk.text)
    event(f"status {one.status_code}")
    if one.status_code == 200:
        assert one.json() == bulk.json()[0]
