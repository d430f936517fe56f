"""Business rules on top of a scorecard: what a lender does with a score.

``business_rules/rules.json`` (schema: ``business_rules/rules.schema.json``) holds three things:

- **cut-offs**: decline when ``score < decline_below``, refer to an underwriter when
  ``decline_below <= score < approve_from``, approve when ``score >= approve_from``;
- **hard policy rules**, checked in order: a rule fires when ``field operator threshold`` holds
  (``annual_inc < 12000``) and its action (refer or decline) overrides a better score decision,
  with its own reason code and text. A field left null or absent triggers the rule's
  ``if_missing`` instead (``pass``, ``refer`` or ``decline``). A rule reads either a numeric
  feature of the card or a field declared under ``inputs``, which the request then carries;
- **score bands** from the lowest score up, each with the largest loan it may be offered
  (a declined applicant is offered 0).

:func:`load_rules` checks the file against its schema and the rules a schema cannot state
(cut-offs in order, bands tiling the score line without straddling a cut-off, loan limits rising
with the score, policy rules that do not fire for every value); :func:`check_fit` checks the
rules against the data (params.yaml) and the card they are applied to: fields the applicant file
has, cut-offs inside the card's score range, the same dataset. Each problem raises
:class:`RulesError` naming the file, the rule and what is wrong.

Which rules apply is a parameter: ``rules.path`` in params.yaml (:func:`rules_for`); null means
no business rules, and every surface then gives scores and reason codes only (:data:`NO_RULES`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import operator
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scorecard.errors import RulesError, RulesMismatchError

SCHEMA_VERSION = "1.0.0"
PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_RULES = PROJECT_ROOT / "business_rules" / "rules.json"
SCHEMA_PATH = PROJECT_ROOT / "business_rules" / "rules.schema.json"

#: Decisions from the best to the worst: a policy rule can only move an applicant down this list.
DECISIONS = ("approve", "refer", "decline")
_SEVERITY = {d: i for i, d in enumerate(DECISIONS)}
_OPERATORS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
#: Said wherever a decision would be shown when params.yaml names no rules (rules.path: null).
NO_RULES = ("No business rules are configured (rules.path: null in params.yaml): scores and reason codes only, "
            "no decision, band or loan limit.")
#: The same, where the rules may have been switched off elsewhere (``scorecard serve --no-rules``).
NO_RULES_APPLIED = "No business rules are applied: scores and reason codes only, no decision, band or loan limit."
log = logging.getLogger("scorecard.card.rules")
#: Request keys that no rules input may take.
RESERVED_FIELDS = ("id",)


def schema(path: str | Path = SCHEMA_PATH) -> dict:
    """The JSON Schema of the rules file."""
    path = Path(path)
    if not path.is_file():
        raise RulesError(f"business rules schema not found: {path}")
    return json.loads(path.read_text(encoding="utf-8"))


# -- the rules as objects ------------------------------------------------------------------
@dataclass(frozen=True)
class PolicyHit:
    """A policy rule that fired for one applicant."""

    rule: str
    reason_code: str
    reason_text: str
    action: str
    field: str
    value: float | None
    missing: bool

    def as_dict(self) -> dict:
        return {"rule": self.rule, "reason_code": self.reason_code, "reason_text": self.reason_text,
                "action": self.action, "field": self.field, "value": self.value, "missing": self.missing}


@dataclass(frozen=True)
class PolicyRule:
    id: str
    field: str
    operator: str
    threshold: float
    action: str
    reason_code: str
    reason_text: str
    if_missing: str
    missing_reason_text: str
    description: str = ""

    @property
    def fires_below(self) -> bool:
        """True for ``<``/``<=`` rules (fire on low values), False for ``>``/``>=``."""
        return self.operator in ("<", "<=")

    def check(self, value: float | None) -> PolicyHit | None:
        """The hit for this value, or None when the rule does not fire."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            if self.if_missing == "pass":
                return None
            return PolicyHit(self.id, self.reason_code, self.missing_reason_text, self.if_missing,
                             self.field, None, True)
        if _OPERATORS[self.operator](value, self.threshold):
            return PolicyHit(self.id, self.reason_code, self.reason_text, self.action, self.field,
                             float(value), False)
        return None


@dataclass(frozen=True)
class Band:
    name: str
    min_score: int | None   # None: no lower bound
    upper: int | None       # the next band's min_score (exclusive); None: no upper bound
    max_loan_amount: float

    def holds(self, score: float) -> bool:
        return (self.min_score is None or score >= self.min_score) and (self.upper is None or score < self.upper)


@dataclass(frozen=True)
class Outcome:
    """What the rules make of one applicant's score and policy fields."""

    score: int
    band: str
    score_decision: str
    decision: str
    policy_rule: PolicyHit | None   # the rule that decided, when one did
    policy_hits: tuple[PolicyHit, ...]
    max_loan_amount: float


@dataclass(frozen=True)
class Rules:
    document: dict
    source: str
    sha256: str
    decline_below: int
    approve_from: int
    inputs: dict[str, dict]
    policy_rules: tuple[PolicyRule, ...]
    bands: tuple[Band, ...]

    @property
    def version(self) -> str:
        return self.document["version"]

    @property
    def fields(self) -> list[str]:
        """Every field some policy rule reads."""
        return list(dict.fromkeys(r.field for r in self.policy_rules))

    def score_decision(self, score: float) -> str:
        if score < self.decline_below:
            return "decline"
        return "approve" if score >= self.approve_from else "refer"

    def band(self, score: float) -> Band:
        return next(b for b in self.bands if b.holds(score))  # the bands tile the score line

    def evaluate(self, score: int, values: Mapping[str, Any]) -> Outcome:
        """Decision for one applicant: the score's, made worse by any policy rule that fires.

        ``values`` maps each field of :attr:`fields` to its number (None or absent: missing).
        The overriding rule is the first (in file order) whose action is the final decision,
        when the score alone would have decided better or the same.
        """
        from_score = self.score_decision(score)
        hits = tuple(h for r in self.policy_rules if (h := r.check(values.get(r.field))) is not None)
        decision = max([from_score, *(h.action for h in hits)], key=_SEVERITY.__getitem__)
        overriding = next((h for h in hits if h.action == decision), None)
        band = self.band(score)
        return Outcome(score=int(score), band=band.name, score_decision=from_score, decision=decision,
                       policy_rule=overriding, policy_hits=hits,
                       max_loan_amount=0.0 if decision == "decline" else band.max_loan_amount)


# -- reading and checking -------------------------------------------------------------------
def _item_name(document: Any, section: str, label: str, index: int) -> str:
    """``policy_rules[1] 'max_dti'``: the list item and, when it has one, its name."""
    try:
        name = document[section][index][label]
    except (KeyError, IndexError, TypeError):
        return f"{section}[{index}]"
    return f"{section}[{index}] '{name}'"


def _rule_name(document: Any, index: int) -> str:
    return _item_name(document, "policy_rules", "id", index)


def _band_name(document: Any, index: int) -> str:
    return _item_name(document, "score_bands", "band", index)


def _where(document: Any, path: list) -> str:
    """A JSON path as the user reads it: policy_rules[1] 'max_dti'.operator."""
    if not path:
        return "(top level)"
    parts = list(path)
    if parts[0] in ("policy_rules", "score_bands") and len(parts) > 1 and isinstance(parts[1], int):
        head = (_rule_name if parts[0] == "policy_rules" else _band_name)(document, parts[1])
        rest = parts[2:]
    else:
        head, rest = str(parts[0]), parts[1:]
    for part in rest:
        head += f"[{part}]" if isinstance(part, int) else f".{part}"
    return head


def _check_structure(document: Any, schema_path: Path) -> list[str]:
    from scorecard.card import schema_validator

    validator = schema_validator(schema(schema_path))
    errors = sorted(validator.iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path])
    return [f"{_where(document, list(e.absolute_path))}: {e.message}" for e in errors[:20]]


def _check_meaning(doc: dict) -> list[str]:
    """The rules a schema cannot state."""
    problems = []
    cut = doc["cutoffs"]
    low, high = cut["decline_below"], cut["approve_from"]
    if low >= high:
        problems.append(f"cutoffs: decline_below ({low}) must be below approve_from ({high}): "
                        + ("the decline and approve ranges overlap" if low > high else
                           "they leave no refer range (decline_below == approve_from)"))

    for name, spec in doc.get("inputs", {}).items():
        if name in RESERVED_FIELDS:
            problems.append(f"inputs.{name}: '{name}' is reserved for the applicant's id")
        if "minimum" in spec and "maximum" in spec and spec["minimum"] > spec["maximum"]:
            problems.append(f"inputs.{name}: minimum ({spec['minimum']}) is above maximum ({spec['maximum']})")

    bands = doc["score_bands"]
    if bands[0]["min_score"] is not None:
        problems.append(f"{_band_name(doc, 0)}: the lowest band must have min_score null "
                        "(no lower bound), so that every score falls in a band")
    seen = set()
    for i, band in enumerate(bands):
        if band["band"] in seen:
            problems.append(f"{_band_name(doc, i)}: band name used twice")
        seen.add(band["band"])
        if i == 0:
            continue
        previous = bands[i - 1]
        if band["min_score"] is None:
            problems.append(f"{_band_name(doc, i)}: min_score null is only for the lowest (first) band")
        elif previous["min_score"] is not None and band["min_score"] <= previous["min_score"]:
            problems.append(f"{_band_name(doc, i)}: min_score {band['min_score']} must be above the previous "
                            f"band's {previous['min_score']} (bands are listed from the lowest score up)")
        if band["max_loan_amount"] < previous["max_loan_amount"]:
            problems.append(f"{_band_name(doc, i)}: max_loan_amount {band['max_loan_amount']:g} is below the "
                            f"lower-scoring band '{previous['band']}' ({previous['max_loan_amount']:g}): "
                            "a better score cannot be offered less")
    starts = {b["min_score"] for b in bands}
    if not problems:
        for key in ("decline_below", "approve_from"):
            if cut[key] not in starts:
                problems.append(f"cutoffs.{key}: {cut[key]} is not the min_score of any band: a band "
                                "would straddle two decisions (start a band at each cut-off)")
        for i, band in enumerate(bands):
            upper = bands[i + 1]["min_score"] if i + 1 < len(bands) else None
            if upper is not None and upper <= low and band["max_loan_amount"] > 0:
                problems.append(f"{_band_name(doc, i)}: the band lies below cutoffs.decline_below ({low}), "
                                f"where every applicant is declined, yet allows max_loan_amount "
                                f"{band['max_loan_amount']:g} (expected 0)")
            if band["min_score"] is not None and band["min_score"] >= high and band["max_loan_amount"] <= 0:
                problems.append(f"{_band_name(doc, i)}: the band is approved (min_score {band['min_score']} >= "
                                f"cutoffs.approve_from {high}) but allows no loan (max_loan_amount 0)")

    rules = doc["policy_rules"]
    for key in ("id", "reason_code"):
        values = [r[key] for r in rules]
        for i, rule in enumerate(rules):
            if values.index(rule[key]) != i:
                problems.append(f"{_rule_name(doc, i)}: {key} '{rule[key]}' is already used by "
                                f"{_rule_name(doc, values.index(rule[key]))}")
    for i, rule in enumerate(rules):
        if rule["if_missing"] != "pass" and "missing_reason_text" not in rule:
            problems.append(f"{_rule_name(doc, i)}: if_missing is '{rule['if_missing']}', so "
                            "missing_reason_text must say why the applicant is "
                            f"{'declined' if rule['if_missing'] == 'decline' else 'referred'}")
    # Two rules on one field that together fire for every value contradict the rest of the file.
    for i, low_rule in enumerate(rules):
        if low_rule["operator"] not in ("<", "<="):
            continue
        for j, high_rule in enumerate(rules):
            if high_rule["operator"] not in (">", ">=") or high_rule["field"] != low_rule["field"]:
                continue
            a, b = low_rule["threshold"], high_rule["threshold"]
            if b < a or (b == a and (low_rule["operator"] == "<=" or high_rule["operator"] == ">=")):
                problems.append(
                    f"{_rule_name(doc, i)} ({low_rule['field']} {low_rule['operator']} {a:g}) and "
                    f"{_rule_name(doc, j)} ({high_rule['field']} {high_rule['operator']} {b:g}) together "
                    f"fire for every value of '{low_rule['field']}': no applicant could pass them")
    return problems


def parse_rules(document: Any, source: str = "rules", schema_path: str | Path = SCHEMA_PATH) -> Rules:
    """Check a rules document (already read from JSON) and return :class:`Rules`."""
    problems = _check_structure(document, Path(schema_path))
    if not problems:
        problems = _check_meaning(document)
    if problems:
        raise RulesError(f"invalid business rules ({source}):\n  " + "\n  ".join(problems))
    bands = document["score_bands"]
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return Rules(
        document=document,
        source=source,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        decline_below=document["cutoffs"]["decline_below"],
        approve_from=document["cutoffs"]["approve_from"],
        inputs=dict(document.get("inputs", {})),
        policy_rules=tuple(
            PolicyRule(id=r["id"], field=r["field"], operator=r["operator"], threshold=r["threshold"],
                       action=r["action"], reason_code=r["reason_code"], reason_text=r["reason_text"],
                       if_missing=r["if_missing"], missing_reason_text=r.get("missing_reason_text", ""),
                       description=r.get("description", ""))
            for r in document["policy_rules"]),
        bands=tuple(
            Band(name=b["band"], min_score=b["min_score"],
                 upper=bands[i + 1]["min_score"] if i + 1 < len(bands) else None,
                 max_loan_amount=b["max_loan_amount"])
            for i, b in enumerate(bands)),
    )


def params_dataset(params) -> str | None:
    """The dataset id params.yaml names (``dataset.id``), or None when it names none."""
    dataset = getattr(params, "dataset", None)
    value = getattr(dataset, "id", None) if dataset is not None else None
    return value if isinstance(value, str) and value else None


def card_dataset(card) -> str | None:
    """The dataset a card declares it was built on (``dataset`` or ``created_from.dataset``, a
    string or an object with an ``id``), or None when it declares none."""
    document = getattr(card, "document", card)
    for node in (document, document.get("created_from") or {}):
        value = node.get("dataset") if isinstance(node, Mapping) else None
        if isinstance(value, Mapping):
            value = value.get("id")
        if isinstance(value, str) and value:
            return value
    return None


def _params_fields(params) -> tuple[dict[str, str], dict[str, str]]:
    """What a rule may read on these data: name -> where it comes from, and name -> its kind
    (numeric, categorical, date or text) where params.yaml says it."""
    where, kind = {}, {}
    for name, spec in params.data.columns.items():
        where[name] = f"data.columns.{name}"
        kind[name] = {"category": "categorical"}.get(spec.type, spec.type)
    for name, spec in params.features.derived.items():
        where[name] = f"features.derived.{name}"
        kind[name] = "categorical" if spec.kind == "keyword_group" else "numeric"
    for source_name, source in params.environment.enabled_sources().items():
        for name in source.output_columns():
            where.setdefault(name, f"environment.sources.{source_name}")
    for name in params.features.categorical:
        kind[name] = "categorical"
    return where, kind


def check_fit(rules: Rules | Mapping, params=None, card=None, *, source: str | None = None,
              request: bool = True) -> list[str]:
    """Check that business rules can be applied to these data and this card.

    Used when the pipeline starts (:func:`scorecard.build.etl.run`, with ``params``) and when the
    service starts (:func:`scorecard.apply.service.create_app`, with the card, and with the params
    when it has them), so that rules written for other data are refused, never applied
    silently.

    Parameters
    ----------
    rules : Rules or Mapping
        The loaded rules (:func:`load_rules`), or a rules document (checked first by
        :func:`parse_rules`).
    params : Params, optional
        The parameters of the data the rules are applied to. Every field a policy rule reads
        must then be a numeric field of the applicant file (``data.columns``), a derived
        feature, an environment column or a feature of the card; and when both the rules
        (``dataset``) and the params (``dataset.id``) name a dataset, they must agree.
    card : Card, optional
        The card whose scores the rules decide on. Its score range (``score_range``) must hold
        both cut-offs and reach every score band; the rules' scaling (``calibrated_on``) must be
        the card's; with ``request``, every field a rule reads must be a numeric card feature or
        a field declared under the rules' ``inputs`` (what a request to the service or the
        calculator's form carries); no reason code may be one of the card's; and a dataset the
        card declares must be the rules'.
    source : str, optional
        How the rules file is named in messages (default: ``rules.source``, its path).
    request : bool
        True (the default): the rules decide on requests that carry the card's features and the
        rules' inputs (the service, the calculator), so each field a rule reads must be one of
        them. False: they decide on rows of the applicant file (the explain stage's example
        applicants), which carry every field of ``params``; the card's features do not limit them.

    Returns
    -------
    list of str
        Warnings: the cut-offs were calibrated on another card of the same scaling.

    Raises
    ------
    RulesMismatchError
        One line per problem, each naming the rules file, the rule (or section) and the field,
        and what was expected.
    """
    if not isinstance(rules, Rules):
        rules = parse_rules(rules, source=source or "rules")
    source = source or rules.source
    doc, problems, warnings = rules.document, [], []
    declared = doc.get("dataset")
    targets = []
    if params is not None:
        targets.append("the applicant file of params.yaml")
    if card is not None:
        targets.append(f"card {card.version}")

    # -- the dataset the rules were written for
    data_id = params_dataset(params) if params is not None else None
    if declared and data_id and declared != data_id:
        problems.append(f"dataset: these rules were written for dataset '{declared}', but params.yaml names dataset "
                        f"'{data_id}' (dataset.id): they are not applied to other data")
    built_on = card_dataset(card) if card is not None else None
    if declared and built_on and declared != built_on:
        problems.append(f"dataset: these rules were written for dataset '{declared}', but card {card.version} was "
                        f"built on dataset '{built_on}'")

    # -- the fields the policy rules read
    types = {f["name"]: f["type"] for f in card.features} if card is not None else {}
    refused = set()
    if params is not None:
        where, kind = _params_fields(params)
        for i, rule in enumerate(rules.policy_rules):
            name = rule.field
            if name not in where and name not in types:
                refused.add(i)
                problems.append(
                    f"{_rule_name(doc, i)}: field '{name}' is neither a field of the applicant file (data.columns "
                    "in params.yaml), a derived feature (features.derived), an environment column nor a card "
                    "feature: the rule was written for other data")
            else:
                what = kind[name] if name in kind else types[name]
                if types.get(name, "numeric") != "numeric":
                    what = "categorical"
                if what != "numeric":
                    refused.add(i)
                    origin = (f"{where[name]} in params.yaml" if name in where else f"a feature of card {card.version}")
                    problems.append(f"{_rule_name(doc, i)}: field '{name}' is a {what} "
                                    f"{'feature' if what == 'categorical' else 'field'} ({origin}); policy rules "
                                    "compare numbers")
    if card is not None:
        codes = {f["reason_code"]: f["name"] for f in card.features}
        for name in rules.inputs:
            if name in types:
                problems.append(f"inputs.{name}: '{name}' is already a feature of card {card.version}; "
                                "declare only fields the card does not have")
        if "id" in types:
            problems.append(f"card {card.version} has a feature named 'id', which the service reserves "
                            "for the applicant's id")
        for i, rule in enumerate(rules.policy_rules):
            if i in refused or rule.field in rules.inputs or types.get(rule.field) == "numeric":
                pass
            elif not request and params is not None:
                pass                 # a field of the applicant file (checked above), read from its rows
            elif rule.field in types:
                problems.append(f"{_rule_name(doc, i)}: field '{rule.field}' is a categorical feature of the card; "
                                "policy rules compare numbers")
            else:
                problems.append(f"{_rule_name(doc, i)}: field '{rule.field}' is neither a numeric feature of card "
                                f"{card.version} ({', '.join(n for n, t in types.items() if t == 'numeric')}) nor "
                                "declared under 'inputs', so the request would not carry it")
            if rule.reason_code in codes:
                problems.append(f"{_rule_name(doc, i)}: reason_code '{rule.reason_code}' is the card's reason code "
                                f"for feature '{codes[rule.reason_code]}'; use a code of its own")

        # -- the card's score range: both cut-offs inside it, every band reachable
        lowest, highest = card.document["score_range"]["min"], card.document["score_range"]["max"]
        if rules.decline_below <= lowest:
            problems.append(f"cutoffs.decline_below: {rules.decline_below} is at or below the card's lowest possible "
                            f"score {lowest}: no applicant would be declined on score")
        if rules.approve_from > highest:
            problems.append(f"cutoffs.approve_from: {rules.approve_from} is above the card's highest possible score "
                            f"{highest}: no applicant would be approved")
        # The bands tile the whole score line (parse_rules), so every score of the card has a band;
        # a band no score of this card reaches is worth a look, not a refusal.
        for i, band in enumerate(rules.bands):
            if band.min_score is not None and band.min_score > highest:
                warnings.append(f"{_band_name(doc, i)}: min_score {band.min_score} is above the card's highest "
                                f"possible score {highest}: no applicant can reach the band (the card scores "
                                f"{lowest} to {highest})")
            elif band.upper is not None and band.upper <= lowest:
                warnings.append(f"{_band_name(doc, i)}: the band ends at {band.upper}, at or below the card's lowest "
                                f"possible score {lowest}: no applicant can fall in it (the card scores {lowest} to "
                                f"{highest})")

        calibrated = doc.get("calibrated_on")
        if calibrated:
            scaling = card.document["scaling"]
            differ = [f"{key} {calibrated[key]:g} (card: {scaling[key]:g})" for key in ("base_score", "base_odds", "pdo")
                      if not math.isclose(calibrated[key], scaling[key])]
            if differ:
                problems.append("calibrated_on: the cut-offs were chosen for a card scaled otherwise: "
                                + ", ".join(differ) + "; choose cut-offs for this card")
            elif calibrated["model_version"] != card.version:
                warnings.append(f"business rules {rules.version} were calibrated on card "
                                f"{calibrated['model_version']}, not on {card.version} (same scaling): check the "
                                "cut-offs still decline and refer the intended shares")
    if problems:
        fix = ("set rules.path in params.yaml to rules written for these data and this card, or rules.path: null "
               "(no business rules: scores and reason codes only)" if params is not None else
               "use rules written for this card (scorecard serve --rules PATH), or none (--no-rules: scores and "
               "reason codes only)")
        raise RulesMismatchError(f"business rules {source} cannot be applied to {' and '.join(targets)}:\n  "
                                 + "\n  ".join(f"{source}: {p}" for p in problems) + f"\n  {fix}")
    return warnings


def check_against_card(rules: Rules, card) -> list[str]:
    """Check the rules against the :class:`~scorecard.card.Card` they will be applied to:
    :func:`check_fit` with the card only (no params)."""
    return check_fit(rules, card=card)


def load_rules(path: str | Path = DEFAULT_RULES, card=None, schema_path: str | Path = SCHEMA_PATH, *,
               source: str | None = None) -> Rules:
    """Read and check a rules file; with ``card``, check it against the card as well.

    ``source`` is how messages name the file (default: ``path`` as given), e.g. the
    ``rules.path`` of params.yaml rather than its absolute path.
    """
    path = Path(path)
    source = source or str(path)
    if not path.is_file():
        raise RulesError(f"business rules file not found: {source}")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RulesError(f"{source}: not valid JSON: {error}") from None
    rules = parse_rules(document, source=source, schema_path=schema_path)
    if card is not None:
        check_against_card(rules, card)
    return rules


def rules_path(params, root: str | Path = ".") -> Path | None:
    """The rules file params.yaml names (``rules.path``, relative to ``root``); None when it
    names none (``rules.path: null``, or no ``rules`` block)."""
    spec = getattr(params, "rules", None)
    if spec is None or spec.path is None:
        return None
    return Path(root) / spec.path


def rules_for(params, root: str | Path = ".", card=None, *, request: bool = True) -> Rules | None:
    """The business rules params.yaml names, read and checked against the params (and the card).

    Parameters
    ----------
    params : Params
        The parameters: ``rules.path`` says which file (relative to ``root``); null: none.
    root : path
        The project root.
    card : Card, optional
        The card whose scores the rules decide on (see :func:`check_fit`).
    request : bool
        As in :func:`check_fit`: False when the rules decide on rows of the applicant file.

    Returns
    -------
    Rules or None
        None when ``rules.path`` is null: no business rules, scores and reason codes only.

    Raises
    ------
    RulesError
        The file is missing or invalid (:class:`RulesMismatchError`: written for other data
        or another card), naming ``rules.path`` and the rule.
    """
    path = rules_path(params, root)
    if path is None:
        return None
    named = params.rules.path
    if not path.is_file():
        raise RulesMismatchError(f"params.yaml rules.path: business rules file not found: {named} (under {root}); "
                                 "set rules.path to a rules file, or rules.path: null (no business rules: scores "
                                 "and reason codes only)")
    rules = load_rules(path, source=named)
    for warning in check_fit(rules, params, card, request=request):
        log.warning(warning)
    return rules
