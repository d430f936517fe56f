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
with the score, policy rules that do not fire for every value); :func:`check_against_card`
checks the rules against the card they are applied to. Each problem raises :class:`RulesError`
naming the rule and what is wrong.
"""

from __future__ import annotations

import hashlib
import json
import math
import operator
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scorecard.errors import RulesError

SCHEMA_VERSION = "1.0.0"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_RULES = PROJECT_ROOT / "business_rules" / "rules.json"
SCHEMA_PATH = PROJECT_ROOT / "business_rules" / "rules.schema.json"

#: Decisions from the best to the worst: a policy rule can only move an applicant down this list.
DECISIONS = ("approve", "refer", "decline")
_SEVERITY = {d: i for i, d in enumerate(DECISIONS)}
_OPERATORS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
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


def check_against_card(rules: Rules, card) -> list[str]:
    """Check the rules against the :class:`~scorecard.card.Card` they will be applied to.

    Raises :class:`RulesError` for a contradiction (a rule on a field the request would not
    carry, a cut-off no score can reach, another scaling); returns warnings (the card is not
    the one the cut-offs were chosen on, but is scaled the same).
    """
    doc, problems, warnings = rules.document, [], []
    types = {f["name"]: f["type"] for f in card.features}
    codes = {f["reason_code"]: f["name"] for f in card.features}
    for name in rules.inputs:
        if name in types:
            problems.append(f"inputs.{name}: '{name}' is already a feature of card {card.version}; "
                            "declare only fields the card does not have")
    if "id" in types:
        problems.append(f"card {card.version} has a feature named 'id', which the service reserves "
                        "for the applicant's id")
    for i, rule in enumerate(rules.policy_rules):
        if rule.field in rules.inputs:
            pass
        elif types.get(rule.field) == "numeric":
            pass
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

    lowest, highest = card.document["score_range"]["min"], card.document["score_range"]["max"]
    if rules.decline_below <= lowest:
        problems.append(f"cutoffs.decline_below: {rules.decline_below} is at or below the card's lowest possible "
                        f"score {lowest}: no applicant would be declined on score")
    if rules.approve_from > highest:
        problems.append(f"cutoffs.approve_from: {rules.approve_from} is above the card's highest possible score "
                        f"{highest}: no applicant would be approved")

    calibrated = doc.get("calibrated_on")
    if calibrated:
        scaling = card.document["scaling"]
        differ = [f"{key} {calibrated[key]:g} (card: {scaling[key]:g})" for key in ("base_score", "base_odds", "pdo")
                  if not math.isclose(calibrated[key], scaling[key])]
        if differ:
            problems.append("calibrated_on: the cut-offs were chosen for a card scaled otherwise: "
                            + ", ".join(differ) + "; choose cut-offs for this card")
        elif calibrated["model_version"] != card.version:
            warnings.append(f"business rules {rules.version} were calibrated on card {calibrated['model_version']}, "
                            f"not on {card.version} (same scaling): check the cut-offs still decline and "
                            "refer the intended shares")
    if problems:
        raise RulesError(f"business rules ({rules.source}) do not fit card {card.version}:\n  "
                         + "\n  ".join(problems))
    return warnings


def load_rules(path: str | Path = DEFAULT_RULES, card=None, schema_path: str | Path = SCHEMA_PATH) -> Rules:
    """Read and check a rules file; with ``card``, check it against the card as well."""
    path = Path(path)
    if not path.is_file():
        raise RulesError(f"business rules file not found: {path}")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RulesError(f"{path}: not valid JSON: {error}") from None
    rules = parse_rules(document, source=str(path), schema_path=schema_path)
    if card is not None:
        check_against_card(rules, card)
    return rules
