"""A bounded load run against a real `scorecard serve` on localhost: 2,000 single-applicant
requests per endpoint, 50 at a time, over keep-alive connections. It stops by itself; every
request must be answered 200 and every answer must be what Card.apply gives that applicant.
No timing is asserted (benchmarks/service_latency.py measures; tests do not)."""

from __future__ import annotations

import importlib.util

import pytest

from conftest import ROOT, project_env

N_REQUESTS, CONCURRENCY = 2000, 50
ID = "applicant_id"


@pytest.fixture(scope="module")
def bench():
    """benchmarks/service_latency.py as a module: the same server start/stop and load runner."""
    spec = importlib.util.spec_from_file_location("benchmarks_service_latency",
                                                  ROOT / "benchmarks" / "service_latency.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def server(bench):
    with bench.Server(ROOT, env=project_env()) as running:
        yield running
    assert running.process.returncode is not None, "the service was not stopped"


def expected(card, frame) -> list[dict]:
    applied = card.apply(frame, 4)
    out = []
    for _, row in applied.iterrows():
        reasons = [(row[f"reason_{k}"], int(row[f"reason_{k}_points_lost"])) for k in range(1, 5)
                   if row[f"reason_{k}"] is not None]
        out.append({"score": int(row["score"]),
                    "points": {n: int(row[f"points_{n}"]) for n in card.feature_names},
                    "reasons": reasons,
                    "unseen_categories": [f for f in row["unseen_categories"].split(",") if f]})
    return out


def got(answer: dict) -> dict:
    return {"score": answer["score"], "points": answer["points"],
            "reasons": [(r["code"], r["points_lost"]) for r in answer["reasons"]],
            "unseen_categories": answer["unseen_categories"]}


def check(bench, server, path: str, bodies: list[dict], want: list[dict]) -> None:
    result = bench.load_run(server.url + path, bodies, N_REQUESTS, CONCURRENCY, keep_answers=True)
    print(path, {k: v for k, v in result.items() if k != "answers"})
    assert result["requests"] == N_REQUESTS
    assert result["errors"] == 0, result["error_examples"]
    answers = result["answers"]
    assert all(a is not None for a in answers)
    wrong = [i for i, a in enumerate(answers)
             if a["id"] != bodies[i]["id"] or got(a) != want[i]]
    assert wrong == [], f"{len(wrong)} answers differ from Card.apply, e.g. request {wrong[0]}: " \
                        f"{got(answers[wrong[0]])} != {want[wrong[0]]}"


@pytest.mark.slow
def test_bounded_load_on_score_answers_every_request_as_the_card(bench, server, card, test_set):
    from scorecard.apply.application import json_records

    frame = test_set.tail(N_REQUESTS).reset_index(drop=True)
    bodies = json_records(frame[[ID, *card.feature_names]].rename(columns={ID: "id"}))
    check(bench, server, "/score", bodies, expected(card, frame))


@pytest.mark.slow
def test_bounded_load_on_application_answers_every_request_as_the_card(bench, server, card, test_set,
                                                                      test_applications):
    """The declared fields in; the service derives the features and joins the public data."""
    from scorecard.apply.application import ApplicationForm, json_records
    from scorecard.apply.service import DEFAULT_PARAMS

    declared = list(ApplicationForm.from_params_file(card, DEFAULT_PARAMS).columns)
    frame = test_applications.tail(N_REQUESTS).reset_index(drop=True)
    bodies = json_records(frame[[ID, *declared]].rename(columns={ID: "id"}))
    features = test_set.set_index(ID).loc[frame[ID]].reset_index()
    check(bench, server, "/score/application", bodies, expected(card, features))
