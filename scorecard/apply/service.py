"""A scoring service: the exported card and the business rules behind one HTTP endpoint.

``create_app(card_path, rules_path)`` loads and checks both files (a bad file refuses to start
with a :class:`~scorecard.errors.ScorecardError` naming the rule; with ``params_path`` the rules
are checked against the params too, so rules written for other data refuse to start with a
:class:`~scorecard.errors.RulesMismatchError`) and returns a FastAPI app:

- ``POST /score`` takes one applicant object, or a list of at most ``max_applicants`` (1,000),
  and answers for each: id, score, points per feature, band, decision (approve / refer /
  decline), the policy rule that decided it if any, reason codes with text and points lost,
  the features whose category the card has not seen, the largest loan it may be offered, and
  the card's model_version and the rules' version. One object in gives one object out; a list
  gives a list in the same order.
- ``GET /scorecard`` the card JSON; ``GET /rules`` the rules JSON; ``GET /health`` status and
  versions.

``rules_path=None`` serves no business rules (``scorecard serve --no-rules``, or ``rules.path:
null`` in params.yaml): scores and reason codes only. Every answer keeps the same keys (id,
score, points, reasons, unseen_categories, model_version), and the fields only the rules give
are null or empty: ``band``, ``decision``, ``score_decision``, ``policy_rule``,
``max_loan_amount`` and ``rules_version`` null, ``policy_rules_fired`` []. The request then
takes no rules inputs (a field only the rules declared is refused as unknown), ``GET /rules``
answers 404 with :data:`~scorecard.card.rules.NO_RULES_APPLIED`, and ``GET /health`` reports
``rules_version`` null.

An applicant is checked by a pydantic model built from the card: one key per card feature, a
number for a numeric feature and a string for a categorical one (``36`` is refused where the
card expects the category ``"36"``), null for a missing value (scored in the feature's missing
bin); plus an optional ``id`` and the optional number fields the rules (when served) declare
under ``inputs``. A key missing, a key the card does not know, a wrong type, an id given to two
applicants of one request, a body that is not JSON (NaN and Infinity included: the answer names
their field), over ``max_body_bytes`` (1 MB) or over ``max_applicants`` gets a 4xx answer naming
the field or the limit: never a 500.

Cross-origin (CORS) policy, explicit and reported by ``GET /health`` under ``cors``: by default
no cross-origin access at all (no ``Access-Control-Allow-*`` header is ever sent, so a browser
page of another origin cannot read an answer). ``cors_origins`` (``scorecard serve
--cors-origin``, or ``$SCORECARD_CORS_ORIGINS`` comma-separated) lists the origins allowed,
each ``scheme://host[:port]`` exactly, or ``*`` for any; those origins may use the methods
:data:`CORS_METHODS` (GET, POST; OPTIONS preflights are answered) with the request headers
:data:`CORS_HEADERS` (Content-Type), without credentials (no cookies: the service has none),
and a browser may cache a preflight answer for :data:`CORS_MAX_AGE` seconds. A request from any
other origin, or a preflight asking another method or header, gets no
``Access-Control-Allow-Origin``.

Slow clients: ``scorecard serve`` closes a connection whose request headers are not complete
within 10 s (``--header-timeout``) or whose body is not complete within 30 s of its headers
(``--body-timeout``), answering 408 when it can; an idle kept-alive connection after 5 s
(``--keep-alive-timeout``); a request beyond 200 connections at once (``--max-connections``)
gets a 503. See :mod:`scorecard.apply.connections`; ``GET /health`` reports them under
``connections``.

Run it with ``scorecard serve --port 8000`` (or ``python -m scorecard.cli serve``; 127.0.0.1 unless ``--host`` says
otherwise).
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, create_model
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from scorecard import __version__
from scorecard.apply.application import ApplicationForm, NonFiniteFeatureError
from scorecard.card import UNSEEN_FLAG, Card, load
from scorecard.config import load_params
from scorecard.apply.connections import (BODY_TIMEOUT, HEADER_TIMEOUT, KEEP_ALIVE_TIMEOUT, MAX_CONNECTIONS,
                                   ConnectionLimits)
from scorecard.errors import DataValidationError, ScorecardError
from scorecard.card.rules import DEFAULT_RULES, NO_RULES_APPLIED, PROJECT_ROOT, check_fit, load_rules

DEFAULT_CARD = Path(__file__).resolve().parent.parent / "scorecard.json"
DEFAULT_PARAMS = PROJECT_ROOT / "params.yaml"
MAX_APPLICANTS = 1000
MAX_BODY_BYTES = 1_000_000
MAX_TEXT_LENGTH = 200          # longest category text or id accepted
MAX_ERRORS = 100               # problems listed in one 422 answer
FAST_PATH_MAX = 100            # up to this many applicants a request is scored record by record
                               # (Card.apply_records, no DataFrame); more go through Card.apply
INLINE_MAX = 10                # up to this many, scored on the event loop (no worker-thread hop)
CORS_ENV = "SCORECARD_CORS_ORIGINS"
CORS_METHODS = ("GET", "POST")         # what an allowed origin may send (preflights: OPTIONS)
CORS_HEADERS = ("Content-Type",)       # request headers an allowed origin may set
CORS_MAX_AGE = 600                     # seconds a browser may cache a preflight answer
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")
log = logging.getLogger("scorecard.apply.service")


# -- response models (documentation and the shape of every answer) ---------------------------
class Reason(BaseModel):
    code: str
    text: str
    feature: str | None
    points_lost: int


class PolicyHitOut(BaseModel):
    rule: str
    reason_code: str
    reason_text: str
    action: Literal["refer", "decline"]
    field: str
    value: float | None
    missing: bool


_RULES_ONLY = " Null when the service has no business rules (scores and reason codes only)."
Decision = Literal["approve", "refer", "decline"]


class ScoreResult(BaseModel):
    # The rules-only fields are Optional: a service without business rules answers with the
    # same keys, null (or []) where only the rules could say.
    id: str | int | None = Field(description="Your reference, echoed back")
    score: int
    points: dict[str, int]
    band: str | None = Field(description="The score band of the business rules." + _RULES_ONLY)
    decision: Decision | None = Field(description="The decision: the score's, made worse by any policy rule that "
                                                  "fired." + _RULES_ONLY)
    score_decision: Decision | None = Field(description="The decision of the cut-offs alone." + _RULES_ONLY)
    policy_rule: PolicyHitOut | None = Field(description="The policy rule that decided, if one did." + _RULES_ONLY)
    policy_rules_fired: list[PolicyHitOut] = Field(description="Every policy rule that fired; [] when the service "
                                                               "has no business rules.")
    reasons: list[Reason]
    unseen_categories: list[str]
    max_loan_amount: int | float | None = Field(description="The largest loan the band may be offered (0 when "
                                                            "declined)." + _RULES_ONLY)
    model_version: str
    rules_version: str | None = Field(description="The version of the business rules." + _RULES_ONLY)


# -- the request model, built from the card --------------------------------------------------
def applicant_model(card: Card, inputs: dict[str, dict] | None = None) -> type[BaseModel]:
    """The pydantic model of one applicant: the card's features (all required, nullable), an
    optional ``id`` and the optional numeric ``inputs`` of the business rules. Strict: no
    coercion between numbers and strings; unknown keys refused."""
    fields: dict[str, Any] = {
        "id": (Annotated[Annotated[str, Field(max_length=MAX_TEXT_LENGTH)] | int | None,
                         Field(alias="id", description="Your reference, echoed back")], None),
    }
    for i, feature in enumerate(card.features):
        description = feature.get("description") or feature["reason_text"]
        if feature["type"] == "numeric":
            kind = Annotated[float | None, Field(alias=feature["name"], allow_inf_nan=False, description=description)]
        else:
            categories = [c for b in feature["bins"] if b["kind"] == "categories" for c in b["categories"]]
            kind = Annotated[str | None, Field(alias=feature["name"], max_length=MAX_TEXT_LENGTH,
                                               description=f"{description} (one of {categories}; another "
                                                           "value is scored as unseen and flagged)",
                                               examples=categories[:1])]
        fields[f"feature_{i}"] = (kind, ...)
    for i, (name, spec) in enumerate((inputs or {}).items()):
        bounds = {k: spec[k] for k in ("minimum", "maximum") if k in spec}
        fields[f"input_{i}"] = (Annotated[float | None, Field(
            default=None, alias=name, allow_inf_nan=False, ge=bounds.get("minimum"), le=bounds.get("maximum"),
            description=spec["description"] + " (read by the business rules, not scored)")], None)
    return create_model("Applicant", __config__=ConfigDict(extra="forbid", strict=True, validate_by_alias=True,
                                                           validate_by_name=False, title="Applicant"),
                        **fields)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({json.dumps(value)})"
    if isinstance(value, (int, float)):
        return f"a number ({value!r})"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"a string ({json.dumps(shown)})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class _Problems:
    """Turns pydantic errors into answers that name the applicant and the field."""

    def __init__(self, card: Card, inputs: dict[str, dict], form: ApplicationForm | None = None,
                 rules: bool = True):
        self.card, self.form, self.rules = card, form, rules
        self.categorical = {f["name"]: next((c for b in f["bins"] if b["kind"] == "categories"
                                             for c in b["categories"]), "")
                            for f in card.features if f["type"] == "categorical"}
        if form is None:
            self.allowed = ["id", *card.feature_names, *inputs]
            self.required = set()
        else:
            self.allowed = ["id", *form.columns, *(i for i in inputs if i not in form.columns)]
            self.required = {name for name, spec in form.columns.items() if not spec.nullable}

    def message(self, field: str | None, kind: str, item: dict) -> str:
        value = item.get("input")
        if kind == "missing" and self.form is not None:
            return ("required: every declared field the card needs must be given (null when not known, "
                    "where params.yaml allows it)")
        if kind == "missing":
            return ("required: every feature of the card must be given (null when the value is not "
                    "known, scored in the feature's missing bin)")
        # Without rules, say so: a field only the rules read is then unknown too.
        unruled = "" if self.rules else " (this service has no business rules, so it takes no rules inputs)"
        if kind == "extra_forbidden" and self.form is not None:
            return (f"unknown field: card {self.card.version} needs none such{unruled} "
                    f"(expected: {', '.join(self.allowed)})")
        if kind == "extra_forbidden" and not self.rules:
            return (f"unknown field: not a feature of card {self.card.version}{unruled} "
                    f"(expected: {', '.join(self.allowed)})")
        if kind == "extra_forbidden":
            return (f"unknown field: not a feature of card {self.card.version} nor an input of the "
                    f"business rules (expected: {', '.join(self.allowed)})")
        if value is None and field in self.required:
            return "must not be null: params.yaml declares this field required"
        if kind == "value_error":
            return item["msg"].removeprefix("Value error, ")
        if kind == "string_pattern_mismatch":
            return f"expected a date as yyyy-mm-dd, got {_json_type(value)}"
        if kind in ("greater_than_equal", "less_than_equal", "greater_than"):
            return f"{item['msg'].replace('Input should be', 'expected a value')} (params.yaml data.columns), got {value!r}"
        if kind in ("model_type", "model_attributes_type", "dict_type"):
            return f"expected an applicant object, got {_json_type(value)}"
        if field == "id" and kind in ("string_type", "int_type"):
            return f"expected a string, an integer or null, got {_json_type(value)}"
        if kind == "string_type" and field in self.categorical:
            return (f"expected a string or null (categories are text, e.g. {json.dumps(self.categorical[field])}), "
                    f"got {_json_type(value)}")
        if kind == "string_type":
            return f"expected a string (text), got {_json_type(value)}"
        if kind in ("float_type", "float_parsing"):
            return f"expected a number or null, got {_json_type(value)}"
        if kind == "finite_number":
            return f"expected a finite number (not NaN or infinity), got {value!r}"
        if kind == "string_unicode":
            return "expected valid Unicode text"
        return f"{item['msg']} (got {_json_type(value)})"

    def from_error(self, error: ValidationError, batch: bool) -> list[dict]:
        out, seen = [], set()
        for item in error.errors(include_url=False):
            loc = list(item["loc"])
            applicant = loc.pop(0) if batch and loc and isinstance(loc[0], int) else (None if batch else 0)
            field = loc[0] if loc and isinstance(loc[0], str) else None
            key = (applicant, field)
            if key in seen:   # a union (id) reports one error per branch: say it once
                continue
            seen.add(key)
            where = ["body"] + ([applicant] if batch else []) + ([field] if field else [])
            prefix = (f"applicant {applicant}" if batch else "applicant") + (f", field '{field}'" if field else "")
            out.append({"loc": where, "applicant": applicant, "field": field, "type": item["type"],
                        "msg": f"{prefix}: {self.message(field, item['type'], item)}"})
        return out


def _problem(status: int, kind: str, message: str, *, loc: Sequence[str] = ("body",), **extra) -> JSONResponse:
    return JSONResponse({"detail": [{"loc": list(loc), "type": kind, "msg": message, **extra}]}, status_code=status)


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    out = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


class _DuplicateKey(ValueError):
    pass


_CONSTANT = re.compile(rb'"((?:[^"\\]|\\.){1,200})"\s*:\s*(?:NaN|-?Infinity)\b')


def _constant_field(body: bytes, error: ValueError) -> str:
    """For NaN or Infinity in the body (not JSON numbers): the field that holds it."""
    if "is not a JSON number" not in str(error):
        return ""
    found = _CONSTANT.search(body)
    if found is None:
        return ""
    name = found.group(1).decode("utf-8", "replace")
    return f" (field '{name}'; send null for a value that is not known)"


def _repeated_ids(records: list[dict]) -> list[dict]:
    """422 items for ids given to several applicants of one request: an answer matched back by
    id would give one applicant another's score. Null ids are not compared."""
    where: dict[str, list[int]] = {}
    for i, record in enumerate(records):
        if record.get("id") is not None:
            where.setdefault(json.dumps(record["id"]), []).append(i)
    out = []
    for shown, positions in where.items():
        if len(positions) > 1:
            others = ", ".join(map(str, positions[:-1])) + f" and {positions[-1]}"
            for i in positions:
                out.append({"loc": ["body", i, "id"], "applicant": i, "field": "id", "type": "duplicate_id",
                            "msg": f"applicant {i}, field 'id': id {shown} is not unique: applicants {others} "
                                   "share it (rule: ids are unique within a request)"})
    return sorted(out, key=lambda item: item["applicant"])


def _non_finite(error: NonFiniteFeatureError, records: list[dict], batch: bool) -> list[dict]:
    """422 items for declared values whose derived feature is not finite: the caller's field
    and the applicant (position in the list, and id when given)."""
    out = []
    for i, field, message in error.problems:
        given = records[i].get("id")
        who = (f"applicant {i}" if batch else "applicant") + (f" (id {json.dumps(given)})" if given is not None else "")
        out.append({"loc": ["body", *([i] if batch else []), field], "applicant": i if batch else 0, "id": given,
                    "field": field, "type": "not_finite", "msg": f"{who}, field '{field}': {message}"})
    return out


def _check_origins(origins: Sequence[str]) -> list[str]:
    bad = [o for o in origins if o != "*" and not _ORIGIN.match(o)]
    if bad:
        raise ScorecardError(f"CORS origins {bad}: expected scheme://host[:port] with no path or trailing "
                             "slash (e.g. https://lender.example), or '*' to allow any origin")
    return list(origins)


def cors_policy(origins: Sequence[str]) -> dict:
    """The cross-origin policy as ``GET /health`` reports it (see the module's docstring)."""
    if not origins:
        return {"enabled": False, "allow_origins": [], "allow_methods": [], "allow_headers": [],
                "allow_credentials": False, "max_age": None,
                "note": f"no cross-origin access: set {CORS_ENV} or --cors-origin to allow origins"}
    return {"enabled": True, "allow_origins": list(origins), "allow_methods": list(CORS_METHODS),
            "allow_headers": list(CORS_HEADERS), "allow_credentials": False, "max_age": CORS_MAX_AGE}


# -- the app ----------------------------------------------------------------------------------
def create_app(card_path: str | Path = DEFAULT_CARD, rules_path: str | Path | None = DEFAULT_RULES, *,
               params_path: str | Path | None = DEFAULT_PARAMS,
               cors_origins: Sequence[str] = (), max_applicants: int = MAX_APPLICANTS,
               max_body_bytes: int = MAX_BODY_BYTES, n_reasons: int = 4,
               connection_limits: ConnectionLimits | None = None) -> FastAPI:
    """The scoring service for one card and one rules file, both checked now.

    ``rules_path`` None serves no business rules: scores and reason codes only, the rules-only
    fields of every answer null (see the module's docstring) and ``GET /rules`` a 404.

    ``params_path`` (the card's params.yaml) enables ``POST /score/application``: declared
    application fields in, features derived and environment joined by the service; the rules
    are then checked against the params as well (:func:`scorecard.card.rules.check_fit`: fields
    the data have, the same dataset). None serves ``POST /score`` only.

    ``connection_limits`` are the timeouts and connection limit the server enforces
    (:func:`serve` passes the ones it runs uvicorn with), reported by ``GET /health``; None
    reports that this app alone does not enforce any.

    Raises
    ------
    ScorecardError
        :class:`~scorecard.errors.CardError` for a bad card,
        :class:`~scorecard.card.rules.RulesError` for bad rules, :class:`~scorecard.errors.RulesMismatchError`
        for rules that contradict the card or were written for other data than the params,
        :class:`~scorecard.errors.ConfigError` for params that cannot compute the card's
        features, or a bad CORS origin.
    """
    card = load(card_path)
    rules = load_rules(rules_path) if rules_path is not None else None
    params = load_params(params_path) if params_path is not None else None
    warnings = []
    if rules is not None:
        # Against the card, and against the params when there are some; each warning once.
        warnings += check_fit(rules, params, card)
    else:
        log.info(NO_RULES_APPLIED)
    form = None
    if params is not None:
        # As ApplicationForm.from_params_file, with the params already read for the rules check.
        form = ApplicationForm(card, params, root=Path(params_path).resolve().parent)
        warnings += form.warnings
    for warning in warnings:
        log.warning(warning)
    origins = _check_origins(cors_origins)
    inputs = rules.inputs if rules is not None else {}
    rule_fields = rules.fields if rules is not None else []
    Applicant = applicant_model(card, inputs)
    problems = _Problems(card, inputs, rules=rules is not None)
    feature_of_code = {f["reason_code"]: f["name"] for f in card.features}
    numeric = [f["name"] for f in card.features if f["type"] == "numeric"]
    applicant_schema = Applicant.model_json_schema(by_alias=True)
    result_schema = ScoreResult.model_json_schema()

    app = FastAPI(
        title="Scorecard service",
        version=__version__,
        description=(f"Scores applicants with card {card.version} ({card.document['name']}) and applies "
                     f"business rules {rules.version}. Every answer names the card and rules versions."
                     if rules is not None else
                     f"Scores applicants with card {card.version} ({card.document['name']}). {NO_RULES_APPLIED} "
                     "Every answer names the card version; band, decision, score_decision, policy_rule, "
                     "max_loan_amount and rules_version are null and policy_rules_fired is empty."),
    )
    cors = cors_policy(origins)
    connections = ({"enforced": True, **connection_limits.as_dict()} if connection_limits is not None else
                   {"enforced": False, "note": "no timeouts or connection limit set by this app: scorecard serve "
                                               "sets them (--header-timeout, --body-timeout, --keep-alive-timeout, "
                                               "--max-connections)"})
    if origins:
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=list(CORS_METHODS),
                           allow_headers=list(CORS_HEADERS), allow_credentials=False, max_age=CORS_MAX_AGE)
    app.state.card, app.state.rules, app.state.warnings = card, rules, warnings

    @app.exception_handler(ScorecardError)
    async def _scorecard_error(request: Request, error: ScorecardError):
        return _problem(422, "scorecard_error", str(error))

    def score_records(records: list[dict]) -> list[dict]:
        if len(records) <= FAST_PATH_MAX:
            return score_rows(card.apply_records(records, n_reasons), records, records)
        frame = pd.DataFrame.from_records(records, columns=["id", *card.feature_names, *inputs])
        for name in [*numeric, *inputs]:
            frame[name] = pd.to_numeric(frame[name]).astype("float64")
        return score_frame(frame, records, records)

    def score_applications(records: list[dict]) -> list[dict]:
        rows = form.feature_records(records) if len(records) <= FAST_PATH_MAX else None
        if rows:
            # As below, record by record: a rule reads a field as given, else as computed.
            fields = rule_fields
            known = [f for f in fields if f in rows[0]]
            if all(type(row[f]) is float for row in rows for f in known):
                values = [{**{f: (None if row[f] != row[f] else row[f]) for f in known},
                           **{f: r[f] for f in fields if f in r}} for row, r in zip(rows, records)]
                return score_rows(card.apply_records(rows, n_reasons), records, values)
        frame = form.features(records)
        # The rules read a field as given, else as the service computed it (e.g. loan_to_income).
        known = [f for f in rule_fields if f in frame]
        computed = frame[known].astype("float64").to_dict(orient="records")
        values = [{**{k: (None if np.isnan(v) else v) for k, v in c.items()},
                   **{k: v for k, v in r.items() if k in rule_fields}} for c, r in zip(computed, records)]
        return score_frame(frame, records, values)

    def score_frame(frame: pd.DataFrame, records: list[dict], rule_values: list[dict]) -> list[dict]:
        return score_rows(card.apply(frame, n_reasons).to_dict(orient="records"), records, rule_values)

    def score_rows(applied: list[dict], records: list[dict], rule_values: list[dict]) -> list[dict]:
        """The answers, from the rows of Card.apply (or Card.apply_records) and the rules."""
        results = []
        for record, values, row in zip(records, rule_values, applied):
            score = int(row["score"])
            reasons = []
            for k in range(1, n_reasons + 1):
                code = row[f"reason_{k}"]
                if code is not None:
                    reasons.append(Reason(code=code, text=row[f"reason_{k}_text"], feature=feature_of_code.get(code),
                                          points_lost=int(row[f"reason_{k}_points_lost"])))
            if rules is not None:
                outcome = rules.evaluate(score, values)
                loan = outcome.max_loan_amount
                decided = dict(band=outcome.band, decision=outcome.decision, score_decision=outcome.score_decision,
                               policy_rule=outcome.policy_rule.as_dict() if outcome.policy_rule else None,
                               policy_rules_fired=[h.as_dict() for h in outcome.policy_hits],
                               max_loan_amount=int(loan) if float(loan).is_integer() else loan,
                               rules_version=rules.version)
            else:
                decided = dict(band=None, decision=None, score_decision=None, policy_rule=None,
                               policy_rules_fired=[], max_loan_amount=None, rules_version=None)
            results.append(ScoreResult(
                id=record["id"], score=score,
                points={name: int(row[f"points_{name}"]) for name in card.feature_names},
                reasons=reasons,
                unseen_categories=[f for f in row[UNSEEN_FLAG].split(",") if f],
                model_version=card.version, **decided,
            ).model_dump(mode="json"))
        return results

    body_doc = {"oneOf": [applicant_schema, {"type": "array", "items": applicant_schema,
                                             "maxItems": max_applicants}]}
    result_doc = {"oneOf": [result_schema, {"type": "array", "items": result_schema}]}

    async def read_body(request: Request) -> Any:
        """The parsed JSON body, or the 4xx answer that says why there is none."""
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != "application/json" and not media.endswith("+json"):
            return _problem(415, "unsupported_media_type",
                            f"expected Content-Type application/json, got {media or 'none'}")
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_body_bytes:
            return _problem(413, "body_too_large", f"request body of {int(declared)} bytes is over the limit of "
                                                   f"{max_body_bytes} bytes (and of at most {max_applicants} "
                                                   "applicants per request): send them in several requests",
                            limit=max_body_bytes)
        chunks, size = [], 0
        try:
            async for chunk in request.stream():
                size += len(chunk)
                if size > max_body_bytes:
                    return _problem(413, "body_too_large", f"request body is over the limit of {max_body_bytes} "
                                                           f"bytes (and of at most {max_applicants} applicants per "
                                                           "request): send them in several requests",
                                    limit=max_body_bytes)
                chunks.append(chunk)
        except ClientDisconnect:   # the client left, or the body timeout closed the connection
            return _problem(408, "body_incomplete", "the connection closed before the request body was complete")
        body = b"".join(chunks)
        try:
            data = json.loads(body, parse_constant=_reject_constant, object_pairs_hook=_object_without_duplicates)
        except _DuplicateKey as error:
            return _problem(422, "duplicate_key", f"key {json.dumps(str(error))} appears twice in one object")
        except RecursionError:
            return _problem(400, "json_invalid", "body is not valid JSON: nested too deeply")
        except ValueError as error:   # JSONDecodeError, bad UTF-8, NaN/Infinity, over-long integers
            return _problem(400, "json_invalid", f"body is not valid JSON: {error}{_constant_field(body, error)}")
        if not isinstance(data, (list, dict)):
            return _problem(422, "body_type", f"expected an applicant object or a list of them, got {_json_type(data)}")
        if isinstance(data, list) and len(data) > max_applicants:
            return _problem(413, "too_many_applicants", f"at most {max_applicants} applicants per request, got "
                                                        f"{len(data)}: send them in several requests",
                            limit=max_applicants)
        return data

    def endpoint(model: type[BaseModel], explain: _Problems, scorer):
        one, many = TypeAdapter(model), TypeAdapter(list[model])

        async def handle(request: Request):
            data = await read_body(request)
            if isinstance(data, JSONResponse):
                return data
            batch = isinstance(data, list)
            try:
                parsed = many.validate_python(data) if batch else [one.validate_python(data)]
            except ValidationError as error:
                detail = explain.from_error(error, batch)
                more = len(detail) - MAX_ERRORS
                content = {"detail": detail[:MAX_ERRORS]}
                if more > 0:
                    content["more"] = f"{more} more problems not listed"
                return JSONResponse(content, status_code=422)
            records = [p.model_dump(by_alias=True) for p in parsed]
            try:
                if not records:
                    results = []
                elif len(records) <= INLINE_MAX:   # under a millisecond or two: no thread hop
                    results = scorer(records)
                else:
                    results = await run_in_threadpool(scorer, records)
            except NonFiniteFeatureError as error:   # named by the caller's field and the applicant
                return JSONResponse({"detail": _non_finite(error, records, batch)[:MAX_ERRORS]}, status_code=422)
            except DataValidationError as error:
                return _problem(422, "not_covered", str(error))
            repeated = _repeated_ids(records) if batch else []
            if repeated:   # answers matched back by id would mix these applicants up
                return JSONResponse({"detail": repeated[:MAX_ERRORS]}, status_code=422)
            return JSONResponse(results if batch else results[0])
        return handle

    responses = {200: {"description": "One result per applicant, in order",
                       "content": {"application/json": {"schema": result_doc}}},
                 400: {"description": "The body is not JSON"},
                 413: {"description": f"Over {max_body_bytes} bytes or over {max_applicants} applicants"},
                 415: {"description": "Not application/json"},
                 422: {"description": "An applicant does not fit the card: the field and the problem"}}
    app.post("/score", summary="Score one applicant or a list of them, given the card's features",
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": body_doc}}}},
             responses=responses, operation_id="score")(endpoint(Applicant, problems, score_records))

    if form is not None:
        Application = form.model({name: Annotated[float | None, Field(
            alias=name, allow_inf_nan=False, description=spec["description"] + " (read by the business rules)")]
            for name, spec in inputs.items()})
        application_schema = Application.model_json_schema(by_alias=True)
        application_doc = {"oneOf": [application_schema, {"type": "array", "items": application_schema,
                                                          "maxItems": max_applicants}]}
        app.post("/score/application",
                 summary="Score one application or a list of them, given the fields the applicant declared",
                 description=("The service checks the declared fields against the schema of params.yaml, derives "
                              f"the card's features ({', '.join(form.derived) or 'none'}) and joins the public "
                              "environment data by state and application date, exactly as the pipeline did."),
                 openapi_extra={"requestBody": {"required": True,
                                                "content": {"application/json": {"schema": application_doc}}}},
                 responses={**responses, 422: {"description": "A field is missing, of the wrong type or out of "
                                                              "range, or the state/date is not covered by the "
                                                              "environment data"}},
                 operation_id="score_application",
                 )(endpoint(Application, _Problems(card, inputs, form, rules=rules is not None), score_applications))

    @app.get("/scorecard", summary="The card JSON this service scores with")
    def scorecard_document():
        return JSONResponse(card.document)

    @app.get("/rules", summary="The business rules JSON this service applies",
             responses={404: {"description": NO_RULES_APPLIED}})
    def rules_document():
        if rules is None:
            return _problem(404, "no_rules", NO_RULES_APPLIED, loc=("path", "rules"))
        return JSONResponse(rules.document)

    @app.get("/health", summary="Status and the versions of the card and the rules")
    def health():
        return {"status": "ok", "model_version": card.version, "card_name": card.document["name"],
                "rules_version": rules.version if rules is not None else None,
                "rules_sha256": rules.sha256 if rules is not None else None,
                "rules": f"business rules {rules.version}" if rules is not None else NO_RULES_APPLIED,
                "service_version": __version__,
                "max_applicants": max_applicants, "max_body_bytes": max_body_bytes, "cors": cors,
                "connections": connections, "warnings": warnings}

    return app


def serve(card_path: str | Path = DEFAULT_CARD, rules_path: str | Path | None = DEFAULT_RULES,
          params_path: str | Path | None = DEFAULT_PARAMS, *, host: str = "127.0.0.1", port: int = 8000,
          cors_origins: Sequence[str] | None = None, max_applicants: int = MAX_APPLICANTS,
          max_body_bytes: int = MAX_BODY_BYTES, log_level: str = "info",
          header_timeout: float = HEADER_TIMEOUT, body_timeout: float = BODY_TIMEOUT,
          keep_alive_timeout: float = KEEP_ALIVE_TIMEOUT, max_connections: int = MAX_CONNECTIONS) -> None:
    """Check the card, rules and params, then serve until stopped (uvicorn).

    ``rules_path`` None serves no business rules (scores and reason codes only).
    ``cors_origins`` None reads ``$SCORECARD_CORS_ORIGINS`` (comma-separated; none when unset).
    ``header_timeout``, ``body_timeout``, ``keep_alive_timeout`` (seconds) and
    ``max_connections``: see :mod:`scorecard.apply.connections`.

    Raises
    ------
    ScorecardError
        A bad card, rules file, params or option: nothing is served.
    """
    if not 0 < port < 65536:
        raise ScorecardError(f"port must be between 1 and 65535, got {port}")
    if max_applicants < 1 or max_body_bytes < 1:
        raise ScorecardError("max applicants and max body bytes must be positive")
    limits = ConnectionLimits(header_timeout=header_timeout, body_timeout=body_timeout,
                              keep_alive_timeout=keep_alive_timeout, max_connections=max_connections)
    if cors_origins is None:
        cors_origins = [o.strip() for o in os.environ.get(CORS_ENV, "").split(",") if o.strip()]
    app = create_app(card_path, rules_path, params_path=params_path, cors_origins=cors_origins,
                     max_applicants=max_applicants, max_body_bytes=max_body_bytes, connection_limits=limits)
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level=log_level, **limits.uvicorn_options())
