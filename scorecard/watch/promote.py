"""Champion/challenger: does the freshly built card replace the one in production?

The **champion** is the card in production: ``models/champion/scorecard.json``, with the
``metrics.json`` it was promoted with and ``promotion.json``, the decision that put it there
(all three committed to git, so every promotion is a reviewed, dated change). The
**challenger** is the card the pipeline has just built (``scorecard/scorecard.json``).

Both cards score the same out-of-time applicants (``data/processed/test.parquet``), so the
comparison is fair even when the test sample has changed since the champion was promoted.
The challenger is promoted only if

* its out-of-time AUC is at most ``promotion.max_auc_drop`` below the champion's, and
* the PSI between the two cards' score distributions is below ``promotion.max_score_psi``
  (a card that moves scores a lot also moves every cut-off of ``business_rules/rules.json``:
  such a change needs a person, not a nightly job).

Otherwise the champion stays, and the decision says which rule failed and by how much. A
challenger identical to the champion (the same card document) is ``unchanged``: there is
nothing to promote. With no champion yet, the challenger is promoted as the first one.

:func:`decide` holds the rules and is pure (plain numbers in, a :class:`Decision` out);
:func:`compare` computes its inputs from the two cards; :func:`install` writes a promoted
card to the champion directory.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from scorecard import card as cardlib
from scorecard.card import Card
from scorecard.config import PromotionSpec
from scorecard.build.data import TARGET
from scorecard.errors import CardError, ScorecardError
from scorecard.watch.drift import band_counts, psi
from scorecard.watch.evaluate import discrimination

CHAMPION_DIR = Path("models/champion")
CARD_FILE = "scorecard.json"
METRICS_FILE = "metrics.json"
DECISION_FILE = "promotion.json"
OUTCOMES = ("promoted", "kept", "unchanged")
_DIGITS = 6


@dataclass(frozen=True)
class Decision:
    """The outcome of a champion/challenger comparison.

    Attributes
    ----------
    outcome : str
        ``"promoted"`` (the challenger becomes the champion), ``"kept"`` (the champion stays:
        a rule failed) or ``"unchanged"`` (the challenger is the champion's card).
    reasons : list of str
        Why, one sentence per rule checked (for ``kept``, the failed rules first).
    challenger, champion : str or None
        The cards' model versions (``champion`` is None when there was none).
    challenger_auc, champion_auc, auc_change, score_psi : float or None
        The numbers the rules were applied to (``auc_change`` = challenger - champion).
    max_auc_drop, max_score_psi : float
        The thresholds.
    """

    outcome: str
    reasons: list[str]
    challenger: str
    champion: str | None = None
    challenger_auc: float | None = None
    champion_auc: float | None = None
    auc_change: float | None = None
    score_psi: float | None = None
    max_auc_drop: float | None = None
    max_score_psi: float | None = None

    @property
    def promoted(self) -> bool:
        return self.outcome == "promoted"

    @property
    def headline(self) -> str:
        """One line: what happened to which card."""
        if self.outcome == "promoted":
            return f"challenger {self.challenger} promoted" + (f" (replaces {self.champion})" if self.champion else "")
        if self.outcome == "unchanged":
            return f"the challenger is the champion's card ({self.challenger})"
        return f"champion {self.champion} kept; challenger {self.challenger} not promoted"

    def to_dict(self) -> dict:
        out = asdict(self)
        out["promoted"] = self.promoted
        out["headline"] = self.headline
        return out


def decide(challenger: Mapping, champion: Mapping | None, score_psi: float | None, rules: PromotionSpec, *,
           same_card: bool = False, champion_problem: str | None = None) -> Decision:
    """Apply the promotion rules to the two cards' out-of-time numbers.

    Parameters
    ----------
    challenger : mapping
        ``model_version`` and ``auc`` (out-of-time AUC) of the freshly built card.
    champion : mapping or None
        The same for the card in production, both measured on the same applicants; None when
        there is no champion yet.
    score_psi : float or None
        PSI between the champion's and the challenger's score distributions on those
        applicants (None only when there is no champion or it could not be scored).
    rules : PromotionSpec
        ``max_auc_drop`` and ``max_score_psi``.
    same_card : bool
        The challenger's card document equals the champion's.
    champion_problem : str, optional
        Why the champion could not be scored on the applicants (then it is kept: the cards
        cannot be compared, and a person has to decide).

    Returns
    -------
    Decision

    Examples
    --------
    >>> rules = PromotionSpec(max_auc_drop=0.005, max_score_psi=0.1)
    >>> decide({"model_version": "b", "auc": 0.690}, {"model_version": "a", "auc": 0.688}, 0.02, rules).outcome
    'promoted'
    >>> decide({"model_version": "b", "auc": 0.670}, {"model_version": "a", "auc": 0.688}, 0.02, rules).outcome
    'kept'
    """
    new = challenger["model_version"]
    limits = {"max_auc_drop": rules.max_auc_drop, "max_score_psi": rules.max_score_psi}
    new_auc = challenger.get("auc")
    if champion is None:
        return Decision("promoted", [f"no champion in production yet: challenger {new} becomes the first champion"],
                        new, challenger_auc=new_auc, **limits)
    old = champion["model_version"]
    if same_card:
        return Decision("unchanged", [f"challenger equals champion: the freshly built card is the card in "
                                      f"production ({new}); nothing to promote, the champion stays"],
                        new, old, new_auc, champion.get("auc"), 0.0, 0.0, **limits)
    if champion_problem:
        return Decision("kept", [f"the champion cannot be scored on the out-of-time applicants ({champion_problem}); "
                                 "the cards cannot be compared, so the champion stays: promote by hand after a review"],
                        new, old, new_auc, None, None, None, **limits)
    old_auc = champion["auc"]
    change = round(new_auc - old_auc, _DIGITS)
    auc_ok = -change <= rules.max_auc_drop + 1e-12
    psi_ok = score_psi < rules.max_score_psi
    auc_text = (f"out-of-time AUC {new_auc:.4f} against the champion's {old_auc:.4f} ({change:+.4f}; "
                f"a drop of at most {rules.max_auc_drop:g} is allowed)")
    psi_text = (f"score PSI between champion and challenger {score_psi:.4f} "
                f"({'below' if psi_ok else 'not below'} the limit {rules.max_score_psi:g})")
    checks = [(auc_ok, ("" if auc_ok else "AUC drop too large: ") + auc_text),
              (psi_ok, ("" if psi_ok else "scores moved too much: ") + psi_text)]
    outcome = "promoted" if auc_ok and psi_ok else "kept"
    reasons = [text for ok, text in checks if not ok] + [text for ok, text in checks if ok]
    return Decision(outcome, reasons, new, old, new_auc, old_auc, change, round(score_psi, _DIGITS), **limits)


# -- computing the inputs ---------------------------------------------------------------------
@dataclass
class Comparison:
    """Both cards measured on the same applicants (what :func:`decide` needs, and more).

    Attributes
    ----------
    rows : int
        Applicants scored.
    challenger, champion : dict
        :func:`scorecard.watch.evaluate.discrimination` of each card plus its ``model_version``
        (``champion`` is None without a champion, or when it could not be scored).
    score_psi : float or None
        PSI of the challenger's score distribution against the champion's.
    same_card : bool
        The two card documents are equal.
    champion_problem : str or None
        Why the champion could not be scored.
    """

    rows: int
    challenger: dict
    champion: dict | None = None
    score_psi: float | None = None
    same_card: bool = False
    champion_problem: str | None = None


def card_metrics(card: Card, applicants: pd.DataFrame) -> tuple[dict, pd.Series]:
    """AUC, Gini, KS and Brier of ``card`` on ``applicants`` (which carry the target), and the scores.

    The probability behind the Brier score comes from the card's own scaling.
    """
    from scorecard.build.model import Scaling

    scaling = card.document["scaling"]
    score = card.score(applicants)
    probability = Scaling(scaling["pdo"], scaling["base_score"], scaling["base_odds"]).score_to_probability(score)
    metrics = discrimination(applicants[TARGET].to_numpy(), score.to_numpy(), probability)
    return {"model_version": card.version, **metrics}, score


def scores_psi(expected: pd.Series, actual: pd.Series, width: int, low: int, high: int) -> float:
    """PSI between two score distributions over ``width``-point bands spanning ``[low, high]``."""
    return round(psi(band_counts(expected, width, low, high), band_counts(actual, width, low, high)), _DIGITS)


def compare(champion: Card | None, challenger: Card, applicants: pd.DataFrame, width: int) -> Comparison:
    """Score the same applicants with both cards.

    Parameters
    ----------
    champion : Card or None
        The card in production (None: there is none).
    challenger : Card
        The freshly built card.
    applicants : pandas.DataFrame
        Out-of-time applicants with every feature of both cards and the target ``bad``.
    width : int
        Score band width for the PSI (``evaluate.band_width``); the bands span both cards'
        score ranges.

    Returns
    -------
    Comparison
    """
    new_metrics, new_score = card_metrics(challenger, applicants)
    result = Comparison(len(applicants), new_metrics)
    if champion is None:
        return result
    result.same_card = champion.document == challenger.document
    if not cardlib.same_population(champion.document, challenger.document):
        result.champion_problem = (
            f"the champion was built on population '{cardlib.population(champion.document)}', the challenger on "
            f"'{cardlib.population(challenger.document)}' (dataset.id in params.yaml): cards are compared only "
            "within one population; publish this card to a champion directory of its own")
        result.champion = {"model_version": champion.version}
        return result
    try:
        old_metrics, old_score = card_metrics(champion, applicants)
    except ScorecardError as error:
        result.champion_problem = str(error)
        result.champion = {"model_version": champion.version}
        return result
    result.champion = old_metrics
    ranges = [c.document["score_range"] for c in (champion, challenger)]
    low, high = min(r["min"] for r in ranges), max(r["max"] for r in ranges)
    result.score_psi = scores_psi(old_score, new_score, width, low, high)
    return result


def decide_on(comparison: Comparison, rules: PromotionSpec) -> Decision:
    """:func:`decide` on a :class:`Comparison`."""
    return decide(comparison.challenger, comparison.champion, comparison.score_psi, rules,
                  same_card=comparison.same_card, champion_problem=comparison.champion_problem)


# -- the champion directory -------------------------------------------------------------------
def load_champion(directory: str | Path = CHAMPION_DIR) -> Card | None:
    """The champion card, or None when the directory holds none.

    Raises
    ------
    CardError
        The champion file exists but is not a valid card.
    """
    path = Path(directory) / CARD_FILE
    if not path.exists():
        return None
    return cardlib.load(path)


def _write_atomic(path: Path, text: str) -> None:
    part = path.with_name(f".{path.name}.part")
    part.write_text(text, encoding="utf-8")
    os.replace(part, path)


def install(card_path: str | Path, metrics_path: str | Path, decision: Decision, directory: str | Path = CHAMPION_DIR,
            when: str | None = None) -> Path:
    """Make a promoted challenger the champion: copy its card and metrics, record the decision.

    Each file is replaced atomically; ``promotion.json`` (the decision, with ``when``) is
    written last, so it always describes the card beside it once the call returns.

    Raises
    ------
    ScorecardError
        ``decision`` is not a promotion, or the card file is not the decision's challenger.
    """
    if not decision.promoted:
        raise ScorecardError(f"refusing to install: the decision is '{decision.outcome}', not 'promoted'")
    text = Path(card_path).read_text(encoding="utf-8")
    card = Card(json.loads(text))
    if card.version != decision.challenger:
        raise CardError(f"refusing to install {card_path}: it is card {card.version}, the decision promoted "
                        f"{decision.challenger}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    _write_atomic(directory / CARD_FILE, text)
    _write_atomic(directory / METRICS_FILE, Path(metrics_path).read_text(encoding="utf-8"))
    record = {"promoted_at": when, **decision.to_dict()}
    _write_atomic(directory / DECISION_FILE, json.dumps(record, indent=2) + "\n")
    return directory
