"""The report's score calculator (reports/calculator.qmd) gives exactly what Python gives.

a. The scorer alone: reports/scorer.js, loaded in headless Chromium with no page around it,
   scores the first 200 loans of the real 2011 test set and rows built to sit on every bin edge
   (and the doubles either side of it), special value, NULL, NaN and unseen category: score,
   every feature's points, reason codes and points lost, unseen flags (against
   ``Card.apply``) and the decision, band, policy rule and loan limit (against
   ``Rules.evaluate``) are equal on every row.
b. The rendered page (the site that `dvc repro` builds, fixture ``site_dir``): the form is
   filled for 200 test loans (values set and input events dispatched, as a browser does) and
   the score, band, decision, points and reasons it displays equal Python's; served from
   127.0.0.1 with no request to any other host and no console error, and opened from disk
   (file://), where Quarto's own module scripts are blocked but the calculator still computes.
c. Pages built here (no `dvc repro`): with ``rules.path: null`` the page embeds no rules, shows
   no band, decision or loan limit but the no-rules sentence, and scores as Python does with no
   script error; the loan limit is written in the card's currency (MXN for a card that says so,
   no currency word for a card with no dataset).

Set SCORECARD_SITE to an already rendered site directory to run (b) on it instead of running
`dvc repro` first (e.g. after `scripts/quarto render reports/calculator.qmd`).
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import pytest

from browser import SCREENSHOTS, VIEWPORT, _PageLog, chromium, static_server
from test_sql import categorical_probes, numeric_probes

from scorecard.apply import calculator
from scorecard import card as cardlib
from scorecard.card.rules import load_rules

ROOT = Path(__file__).resolve().parents[2]
SCORER_JS = ROOT / "reports" / "scorer.js"
PAGE = "reports/calculator.html"
N_ROWS = 200
N_REASONS = 4
TIMEOUT_MS = 30_000


# -- rows and what Python makes of them -------------------------------------------------------
def _js_value(value):
    """A value as Playwright passes it to the page: numpy to Python, NaN kept apart from None."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    return value


@pytest.fixture(scope="module")
def rules(card):
    return load_rules(ROOT / "business_rules" / "rules.json", card=card)


@pytest.fixture(scope="module")
def fields_of(card, rules):
    """The applicant's fields: the card's features, then the fields only the rules read."""
    return card.feature_names + [f for f in rules.fields if f not in card.feature_names]


def _sample(test_set: pd.DataFrame, names: list[str], n: int = N_ROWS) -> list[dict]:
    rows = test_set[names].head(n).to_dict(orient="records")
    return [{k: _js_value(v) for k, v in row.items()} for row in rows]


def _constructed(card, rules, template: dict) -> list[dict]:
    """Rows built on purpose: every edge and the doubles either side of it, special values,
    extremes, NaN and NULL of each numeric feature (tests/apply/test_sql.py's probes), every listed,
    missing and unseen category, and each policy rule's threshold, either side of it and missing."""
    rows = [{name: None for name in template}]
    for feature in card.features:
        probes = numeric_probes(feature) if feature["type"] == "numeric" else categorical_probes(feature)
        rows += [{**template, feature["name"]: value} for value in probes]
    for rule in rules.policy_rules:
        t = float(rule.threshold)
        for value in (t, float(np.nextafter(t, -np.inf)), float(np.nextafter(t, np.inf)), None, float("nan")):
            rows.append({**template, rule.field: value})
    # Several policy rules at once; and a score decline with a policy decline.
    rows.append({**template, "annual_inc": 5000.0, "dti": 31.0, "loan_to_income": 0.9})
    rows.append({**template, "annual_inc": None, "dti": None, "loan_to_income": None})
    return rows


def _frame(card, rows: list[dict], names: list[str]) -> pd.DataFrame:
    types = {f["name"]: f["type"] for f in card.features}
    return pd.DataFrame({name: pd.Series([r.get(name) for r in rows],
                                         dtype=object if types.get(name) == "categorical" else "float64")
                         for name in names})


def python_results(card, rules, rows: list[dict], names: list[str]) -> list[dict]:
    """What card.apply and rules.evaluate make of each row, in the scorer's JSON shape
    (``rules`` None: the card's part only, no band, decision or loan limit)."""
    applied = card.apply(_frame(card, rows, names), N_REASONS).to_dict(orient="records")
    feature_of = {f["reason_code"]: f["name"] for f in card.features}
    out = []
    for row, result in zip(rows, applied):
        score = int(result["score"])
        scored = {
            "score": score,
            "points": {name: int(result[f"points_{name}"]) for name in card.feature_names},
            "reasons": [{"code": result[f"reason_{k}"], "text": result[f"reason_{k}_text"],
                         "feature": feature_of[result[f"reason_{k}"]],
                         "points_lost": int(result[f"reason_{k}_points_lost"])}
                        for k in range(1, N_REASONS + 1) if result[f"reason_{k}"] is not None],
            "unseen": [f for f in result["unseen_categories"].split(",") if f],
        }
        if rules is None:
            out.append(scored)
            continue
        outcome = rules.evaluate(score, {f: row.get(f) for f in rules.fields})
        out.append({
            **scored,
            "band": outcome.band,
            "decision": outcome.decision,
            "score_decision": outcome.score_decision,
            "policy_rule": outcome.policy_rule.as_dict() if outcome.policy_rule else None,
            "policy_hits": [h.as_dict() for h in outcome.policy_hits],
            "max_loan_amount": float(outcome.max_loan_amount),
        })
    return out


def _same(a, b) -> bool:
    """Equal, with NaN equal to NaN (a policy hit's value is never NaN, but be exact)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def _mismatches(rows, got, expected, keys) -> list[str]:
    problems = []
    for i, (row, g, e) in enumerate(zip(rows, got, expected)):
        wrong = {k: (g.get(k), e[k]) for k in keys if not _same(g.get(k), e[k])}
        if wrong:
            problems.append(f"row {i} {row}: {wrong}")
    return problems


# -- a. the scorer on its own ------------------------------------------------------------------
_SCORE_ALL_JS = """
([card, rules, rows, n]) => rows.map((row) => {
  const s = Scorecard.score(card, row, n);
  const d = Scorecard.decide(rules, s.score, row);
  return {score: s.score, points: s.points, reasons: s.reasons, unseen: s.unseen, band: d.band,
          decision: d.decision, score_decision: d.score_decision, policy_rule: d.policy_rule,
          policy_hits: d.policy_hits, max_loan_amount: d.max_loan_amount};
})
"""

_RAISES_JS = """
([card, rows]) => rows.map((row) => { try { Scorecard.score(card, row, 4); return null; }
                                      catch (e) { return String(e.message); } })
"""


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def scorer_page(browser):
    """A blank page holding nothing but reports/scorer.js."""
    context = browser.new_context()
    requests = []
    context.on("request", lambda r: requests.append(r.url))
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.set_content("<!doctype html><title>scorer</title>")
    page.add_script_tag(content=SCORER_JS.read_text(encoding="utf-8"))
    yield page
    assert not errors, f"errors in the page: {errors}"
    assert not [u for u in requests if not u.startswith(("about:", "data:"))], requests
    context.close()


def _variant(card):
    """The card with what the real one lacks: edges owned by the bin below them
    (upper_inclusive) in every numeric feature, and a bin that holds no training applicant but
    has the most points (it must not count as the feature's best bin for reasons)."""
    document = copy.deepcopy(card.document)
    for feature in document["features"]:
        if feature["type"] == "numeric":
            for b in feature["bins"]:
                if b["kind"] == "range":
                    b["lower_inclusive"] = b["lower_inclusive"] and b["lower"] is None
                    b["upper_inclusive"] = b["upper"] is not None
        empty = [b for b in feature["bins"] if b["count"] == 0]
        if empty:
            empty[0]["points"] = max(b["points"] for b in feature["bins"]) + 7
    return cardlib.Card(document)


def _best_rows(card, template: dict) -> list[dict]:
    """An applicant in the best bin of every feature (no reasons at all), and that applicant
    with one feature moved to its worst bin (exactly one reason)."""
    def value_in(feature, b):
        if b["kind"] == "missing":
            return None
        if b["kind"] == "special":
            return float(b["values"][0])
        if b["kind"] == "categories":
            return b["categories"][0]
        if b["lower"] is None:
            return float(b["upper"]) - 1.0
        if b["upper"] is None:
            return float(b["lower"]) + 1.0
        return (float(b["lower"]) + float(b["upper"])) / 2

    best, worst = {}, {}
    for feature in card.features:
        held = [b for b in feature["bins"] if b["count"] > 0]
        best[feature["name"]] = value_in(feature, max(held, key=lambda b: b["points"]))
        worst[feature["name"]] = value_in(feature, min(held, key=lambda b: b["points"]))
    top = {**template, **best}
    return [top] + [{**top, name: worst[name]} for name in card.feature_names]


@pytest.mark.slow
@pytest.mark.parametrize("which", ["card", "variant"])
def test_scorer_js_matches_python(scorer_page, card, rules, test_set, fields_of, which):
    """``card``: the committed card; ``variant``: the same card with its edges owned the other
    way and an empty bin given the most points."""
    if which == "variant":
        card = _variant(card)
    rows = _sample(test_set, fields_of)
    rows += _constructed(card, rules, rows[0]) + _best_rows(card, rows[0])
    start = time.perf_counter()
    got = scorer_page.evaluate(_SCORE_ALL_JS, [card.document, rules.document, rows, N_REASONS])
    seconds = time.perf_counter() - start
    expected = python_results(card, rules, rows, fields_of)
    assert len(got) == len(rows) > N_ROWS
    assert any(not e["reasons"] for e in expected) and any(len(e["reasons"]) == 1 for e in expected)
    keys = list(expected[0])
    problems = _mismatches(rows, got, expected, keys)
    assert not problems, f"{len(problems)} of {len(rows)} rows differ from Python:\n" + "\n".join(problems[:10])
    print(f"scorer.js ({which}): {len(rows)} rows ({N_ROWS} test loans + {len(rows) - N_ROWS} built) "
          f"equal to Python, scored in {seconds:.3f} s")


@pytest.mark.slow
def test_scorer_js_refuses_what_python_refuses(scorer_page, card, rules, test_set, fields_of):
    """Text that is not a number, or infinity, in a numeric feature is an error in both; text
    that is a number is read as one by both."""
    from scorecard.errors import CardError

    template = _sample(test_set, fields_of, 1)[0]
    numeric = next(f["name"] for f in card.features if f["type"] == "numeric")
    bad = ["abc", "", "Infinity", float("inf"), float("-inf"), "1,5"]
    messages = scorer_page.evaluate(_RAISES_JS, [card.document, [{**template, numeric: v} for v in bad]])
    for value, message in zip(bad, messages):
        with pytest.raises(CardError):
            card.apply(pd.DataFrame([{**template, numeric: value}]))
        assert message and numeric in message, f"scorer.js scored {numeric}={value!r}: {message}"
    good = ["12.5", " 5 ", "1e3", "-0"]
    rows = [{**template, numeric: v} for v in good]
    got = scorer_page.evaluate(_SCORE_ALL_JS, [card.document, rules.document, rows, N_REASONS])
    frame = pd.DataFrame(rows)  # object column of text: pd.to_numeric reads it
    expected = card.apply(frame, N_REASONS)
    assert [g["score"] for g in got] == expected["score"].tolist()
    assert [g["points"][numeric] for g in got] == expected[f"points_{numeric}"].tolist()


# -- the page module's helpers ----------------------------------------------------------------
def test_json_for_script_cannot_end_the_script():
    document = {"reason_text": "</script><script>alert(1)</script> <!-- x", "n": [1, 2.5, None]}
    text = calculator.json_for_script(document)
    assert "</" not in text and "<!--" not in text and "<" not in text
    assert json.loads(text) == document


def test_fields_follow_card_rules_and_schema(card, rules, params):
    fields = calculator.fields(card.document, rules.document, params.data.columns)
    names = [f["name"] for f in fields]
    assert names[: len(card.feature_names)] == card.feature_names
    assert set(names[len(card.feature_names):]) == set(rules.inputs) - set(card.feature_names)
    for item in fields:
        if item["type"] == "categorical":
            feature = next(f for f in card.features if f["name"] == item["name"])
            assert item["categories"] == [c for b in feature["bins"] if b["kind"] == "categories"
                                          for c in b["categories"]]
        elif item["name"] in params.data.columns:
            spec = params.data.columns[item["name"]]
            assert item["max"] == spec.max
            assert item["min"] == (spec.min_exclusive if spec.min_exclusive is not None else spec.min)
        elif item["role"] == "feature":
            assert item["min"] is None and item["max"] is None and item["range"] == "any number"


def test_typical_applicant_is_median_mode_or_blank():
    field_list = [{"name": "n", "type": "numeric", "min": 0.0, "role": "feature"},
                  {"name": "blank", "type": "numeric", "min": None, "role": "feature"},
                  {"name": "c", "type": "categorical", "categories": ["a", "b"], "role": "feature"},
                  {"name": "annual_inc", "type": "numeric", "min": 0.0, "role": "rules input"}]
    data = pd.DataFrame({"n": [1.0, 2.0, 123456.0], "blank": [None, None, 3.0], "c": ["b", "b", "a"]})
    typical = calculator.typical_applicant(field_list, data)
    # a field the data lack takes the lower end of its range: no field name is special
    assert typical == {"n": 2.0, "blank": None, "c": "b", "annual_inc": 0.0}


def test_fields_without_rules_are_the_card_features(card, rules, params):
    with_rules = calculator.fields(card.document, rules.document, params.data.columns)
    without = calculator.fields(card.document, None, params.data.columns)
    assert [f["name"] for f in without] == card.feature_names
    assert without == with_rules[: len(card.feature_names)]
    assert "annual_inc" in [f["name"] for f in with_rules] and "annual_inc" not in card.feature_names


# -- pages built here: no rules, another currency, no currency ---------------------------------
@pytest.fixture(scope="module")
def no_rules_params(default_raw, tmp_path_factory) -> Path:
    """The project's params.yaml with ``rules.path: null``, in a scratch folder (its root)."""
    import yaml

    raw = copy.deepcopy(default_raw)
    raw["rules"]["path"] = None
    path = tmp_path_factory.mktemp("no_rules") / "params.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _html(markdown: str) -> str:
    """The raw HTML block of :func:`calculator.page_text`."""
    assert markdown.startswith("```{=html}\n") and markdown.endswith("\n```")
    return markdown[len("```{=html}\n"):-len("\n```")]


def _embedded(html: str, ident: str):
    found = re.search(rf'<script type="application/json" id="{ident}">(.*?)</script>', html, re.S)
    assert found, f"no embedded {ident}"
    return json.loads(found.group(1))


def _card_with(card, dataset) -> dict:
    """A copy of the card's document with ``created_from.dataset`` replaced (None: removed, as
    in cards from before the dataset block)."""
    document = copy.deepcopy(card.document)
    if dataset is None:
        del document["created_from"]["dataset"]
    else:
        document["created_from"]["dataset"] = dataset
    cardlib.Card(document)  # still a valid card
    return document


def _page_of(document, rules_document, params) -> str:
    """page_html for a card document and rules (or None), started from the fallback applicant."""
    field_list = calculator.fields(document, rules_document, params.data.columns)
    return calculator.page_html(document, rules_document, field_list, calculator.typical_applicant(field_list),
                                (ROOT / "reports" / "scorer.js").read_text(encoding="utf-8"),
                                (ROOT / "reports" / "calculator.js").read_text(encoding="utf-8"), N_REASONS)


_RULES_ONLY_IDS = ("calc-band", "calc-decision", "calc-decided-by", "calc-max-loan", "calc-rules-version")


def test_page_follows_params_rules(card, rules):
    """params.yaml names business_rules/rules.json: the page embeds exactly that file's rules
    and shows the decision elements."""
    html = _html(calculator.page_text(ROOT / "scorecard/scorecard.json", ROOT / "params.yaml", None,
                                      ROOT / "reports"))
    assert _embedded(html, calculator.RULES_ID) == rules.document
    for ident in _RULES_ONLY_IDS:
        assert f'id="{ident}"' in html
    assert 'id="calc-no-rules"' not in html and "Read by the business rules</legend>" in html
    assert f'<code id="calc-rules-version">{rules.version}</code>' in html
    assert _embedded(html, calculator.CONFIG_ID)["currency"] == "USD"


def test_page_without_rules(card, params, no_rules_params):
    """rules.path: null: rules embedded as null, no band/decision/loan limit/rules fieldset, and
    the sentence saying no rules are configured; the score, reasons and points are there."""
    from scorecard.card.rules import NO_RULES

    html = _html(calculator.page_text(ROOT / "scorecard/scorecard.json", no_rules_params, None, ROOT / "reports"))
    assert f'<script type="application/json" id="{calculator.RULES_ID}">null</script>' in html
    assert _embedded(html, calculator.RULES_ID) is None
    for ident in _RULES_ONLY_IDS:
        assert f'id="{ident}"' not in html, ident
    assert "Read by the business rules" not in html and "rules input" not in html
    assert f'<p class="calc-note" id="calc-no-rules">{NO_RULES}</p>' in html
    assert "No business rules are configured" in NO_RULES
    for ident in ("calc-score", "calc-reasons", "calc-points", "calc-card-version"):
        assert f'id="{ident}"' in html
    config = _embedded(html, calculator.CONFIG_ID)
    assert [f["name"] for f in config["fields"]] == card.feature_names
    assert set(config["typical"]) == set(card.feature_names)


def test_intro_says_what_is_embedded():
    with_rules = calculator.intro("business_rules/rules.json")
    assert "band, decision and reason codes" in with_rules
    assert "the business rules params.yaml names (`rules.path`: `business_rules/rules.json`)" in with_rules
    assert "No business rules" not in with_rules
    other = calculator.intro("rules/other_lender.json", "cards/other.json")
    assert "`rules/other_lender.json`" in other and "`cards/other.json`" in other
    assert "business_rules/rules.json" not in other
    without = calculator.intro(None)
    assert "No business rules are configured (`rules.path: null` in `params.yaml`)" in without
    assert "band, decision and" not in without and "business rules params.yaml names" not in without
    assert "read their score and reason codes" in without
    # The page's own text names no rules file: the paragraph comes from params.yaml.
    page = (ROOT / "reports" / "calculator.qmd").read_text(encoding="utf-8")
    assert "rules.json" not in page and "calculator.intro_text()" in page and "calculator.page_text()" in page


def test_currency_comes_from_the_card(card, rules, params):
    """The loan limit's currency is the card's dataset.currency: MXN for a card that says MXN,
    none at all for a card with no dataset, never a hard-wired USD."""
    assert "USD" not in (ROOT / "reports" / "calculator.js").read_text(encoding="utf-8")
    assert calculator.currency(card.document) == "USD"
    mxn = _card_with(card, {**card.document["created_from"]["dataset"], "currency": "MXN"})
    assert calculator.currency(mxn) == "MXN"
    page = _page_of(mxn, None, params)
    assert _embedded(page, calculator.CONFIG_ID)["currency"] == "MXN"
    assert "USD" not in page and "MXN" in page
    # With the rules the loan limit is shown; the currency it is written in is still the card's.
    assert _embedded(_page_of(mxn, rules.document, params), calculator.CONFIG_ID)["currency"] == "MXN"
    bare = _card_with(card, None)
    assert calculator.currency(bare) is None
    page = _page_of(bare, None, params)
    assert _embedded(page, calculator.CONFIG_ID)["currency"] is None
    assert "USD" not in page
    no_currency = {k: v for k, v in card.document["created_from"]["dataset"].items() if k != "currency"}
    assert calculator.currency(_card_with(card, no_currency)) is None


# -- b. the rendered page ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def calculator_site(request) -> Path:
    prebuilt = os.environ.get("SCORECARD_SITE")
    site = Path(prebuilt) if prebuilt else request.getfixturevalue("site_dir")
    assert (site / PAGE).is_file(), f"{site / PAGE} not rendered (is it in _quarto.yml's render list?)"
    return site


# Fills the form as a user would (value set, input/change events dispatched) for each row and
# reads back what the page displays.
_FILL_AND_READ_JS = """
(rows) => {
  const form = document.getElementById('calc-form');
  // What a browser fires: 'input' as a number or text is typed, 'change' when a choice is made.
  const fire = (node) => node.dispatchEvent(new Event(node.tagName === 'SELECT' || node.type === 'checkbox'
                                                      ? 'change' : 'input', {bubbles: true}));
  const part = (name, which) => form.querySelector(`[data-field="${name}"][data-part="${which}"]`);
  const fields = [...form.querySelectorAll('.calc-field')].map((d) => ({name: d.dataset.field, type: d.dataset.type}));
  return rows.map((row) => {
    const problems = [];
    for (const {name, type} of fields) {
      const value = row[name];
      const input = part(name, 'value');
      if (type === 'categorical') {
        const options = [...input.options];
        let option = (value === null || value === undefined) ? options.find((o) => o.dataset.role === 'missing')
          : options.find((o) => !o.dataset.role && o.value === value);
        if (!option && value !== null && value !== undefined) {
          option = options.find((o) => o.dataset.role === 'unseen');
          part(name, 'other').value = String(value);
        }
        input.value = option.value;
        option.selected = true;
        fire(input);
        if (option.dataset.role === 'unseen') { fire(part(name, 'other')); }
      } else {
        const missing = part(name, 'missing');
        if (missing.checked) { missing.checked = false; fire(missing); }
        const isMissing = value === null || value === undefined || Number.isNaN(value);
        input.value = isMissing ? '' : String(value);
        if (!isMissing && Number(input.value) !== value) {
          problems.push(`${name}: the number input holds ${input.value} for ${value}`);
        }
        fire(input);
      }
    }
    // null for what the page does not have (band, decision, loan limit of a page without rules)
    const node = (id) => document.getElementById(id);
    const text = (id) => node(id) ? node(id).textContent.trim() : null;
    const error = document.getElementById('calc-error');
    const points = {};
    for (const tr of document.querySelectorAll('#calc-points tbody tr[data-feature]')) {
      const cell = tr.querySelector('td[data-points]');
      if (cell && tr.dataset.feature !== '(base points)') { points[tr.dataset.feature] = Number(cell.textContent); }
    }
    const reasons = [...document.querySelectorAll('#calc-reasons li[data-code]')].map((li) => ({
      code: li.dataset.code, feature: li.dataset.feature, points_lost: Number(li.dataset.pointsLost),
      text: li.textContent.slice(li.dataset.code.length + 1).replace(/ — \\d+ points? lost$/, ''),
    }));
    const unseen = document.getElementById('calc-warnings').dataset.unseen;
    return {
      problems, error: error.hidden ? null : error.textContent,
      score: Number(text('calc-score')), band: text('calc-band'), decision: text('calc-decision'),
      decision_class: node('calc-decision') ? node('calc-decision').className : null,
      policy_rule: node('calc-decided-by') ? (node('calc-decided-by').dataset.rule || null) : null,
      max_loan_amount: node('calc-max-loan') ? Number(node('calc-max-loan').dataset.amount) : null,
      loan_text: text('calc-max-loan'), no_rules: text('calc-no-rules'),
      points, reasons, unseen: unseen ? unseen.split(',') : [],
      card_version: text('calc-card-version'), rules_version: text('calc-rules-version'),
    };
  });
}
"""


def _page_rows(card, test_set, fields_of, n: int = N_ROWS) -> list[dict]:
    """The first ``n`` test loans plus a few built rows (missing, special, unseen, policy)."""
    rows = _sample(test_set, fields_of, n)
    template = rows[0]
    numeric = [f["name"] for f in card.features if f["type"] == "numeric"]
    categorical = [f["name"] for f in card.features if f["type"] == "categorical"]
    built = [{name: None for name in template}]
    built += [{**template, name: "never_seen_before"} for name in categorical]
    built += [{**template, name: None} for name in numeric + categorical]
    built += [{**template, f["name"]: v} for f in card.features for b in f["bins"] if b["kind"] == "special"
              for v in b["values"]]
    built += [{**template, "annual_inc": 5000.0}, {**template, "annual_inc": None},
              {**template, "dti": 45.0}, {**template, "loan_to_income": 0.8}]
    return rows + built


def _check_page_results(card, rules, rows, got, fields_of):
    expected = python_results(card, rules, rows, fields_of)
    problems = [f"row {i}: {g['problems']} {g['error']}" for i, g in enumerate(got) if g["problems"] or g["error"]]
    assert not problems, "the form did not take the values:\n" + "\n".join(problems[:10])
    for e in expected:
        e["policy_rule"] = e["policy_rule"]["rule"] if e["policy_rule"] else None
    keys = ["score", "points", "reasons", "unseen", "band", "decision", "policy_rule", "max_loan_amount"]
    mismatches = _mismatches(rows, got, expected, keys)
    assert not mismatches, f"{len(mismatches)} of {len(rows)} applicants differ from Python:\n" + "\n".join(mismatches[:10])
    assert all(g["decision_class"].endswith("calc-decision-" + g["decision"]) for g in got)
    assert {g["card_version"] for g in got} == {card.version}
    assert {g["rules_version"] for g in got} == {rules.version}


@pytest.mark.slow
def test_page_served_matches_python(browser, calculator_site, card, rules, test_set, fields_of):
    context = browser.new_context(viewport=VIEWPORT, service_workers="block")
    context.set_default_timeout(TIMEOUT_MS)
    off_machine = []

    def guard(route):  # nothing may leave the machine: record and refuse any other host
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            off_machine.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    log = _PageLog(page)
    try:
        with static_server(calculator_site) as base:
            page.goto(base + PAGE, wait_until="load")
            page.wait_for_load_state("networkidle")
            assert page.locator("h1.title").inner_text().strip() == "Score calculator"
            typical = page.evaluate("() => document.getElementById('calc-score').textContent")
            assert typical.strip().isdigit(), f"no score for the pre-filled applicant: {typical!r}"
            rows = _page_rows(card, test_set, fields_of)
            start = time.perf_counter()
            got = page.evaluate(_FILL_AND_READ_JS, rows)
            seconds = time.perf_counter() - start
            _check_page_results(card, rules, rows, got, fields_of)
            # The screenshot shows an applicant with reasons and a policy rule that fired.
            page.evaluate(_FILL_AND_READ_JS, [{**rows[0], "annual_inc": 11000.0}])
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.evaluate("() => window.scrollTo(0, 0)")
            page.screenshot(path=str(SCREENSHOTS / "reports_calculator_filled.png"), full_page=True)
            page.click("#calc-reset")
            page.evaluate("() => window.scrollTo(0, 0)")
            page.screenshot(path=str(SCREENSHOTS / "reports_calculator_typical.png"), full_page=True)
        assert not off_machine, f"requests to hosts other than 127.0.0.1: {off_machine}"
        requests = [u for u in log.requests if urlsplit(u).scheme not in ("data", "about", "blob")]
        assert all(urlsplit(u).hostname == "127.0.0.1" for u in requests), requests
        assert not log.problems(), f"{PAGE} served from 127.0.0.1: {log.problems()}"
    finally:
        context.close()
    print(f"calculator page: {len(rows)} applicants filled in and read back in {seconds:.2f} s, all equal to Python")


@pytest.mark.slow
def test_page_from_disk_computes(browser, calculator_site, card, rules, test_set, fields_of):
    """Opened from file://, with Quarto's module scripts blocked, the calculator still works."""
    context = browser.new_context(viewport=VIEWPORT, service_workers="block")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    log = _PageLog(page)
    try:
        page.goto((calculator_site / PAGE).as_uri(), wait_until="load")
        rows = _page_rows(card, test_set, fields_of, n=5)
        got = page.evaluate(_FILL_AND_READ_JS, rows)
        _check_page_results(card, rules, rows, got, fields_of)
        network = [u for u in log.requests if urlsplit(u).scheme in ("http", "https", "ws", "wss")]
        assert not network, f"from file:// the page made network requests: {network}"
        assert not log.page_errors, f"script errors from file://: {log.page_errors}"
        # Quarto's own module scripts are blocked under file:// (CORS); nothing else may fail.
        html = (calculator_site / PAGE).read_text(encoding="utf-8")
        modules = {(calculator_site / PAGE).parent.joinpath(src).resolve().as_uri()
                   for src in re.findall(r'<script[^>]*\ssrc="([^"]+)"[^>]*\stype="module"', html)}
        others = [e for e in log.console_errors
                  if not any(e.endswith(f"[at {m}]") for m in modules) and "CORS" not in e]
        assert not others, f"console errors from file:// beyond Quarto's blocked modules: {others}"
    finally:
        context.close()


# -- c. pages without rules and in other currencies, in the browser -----------------------------
def _open(browser, html: str):
    """A page holding nothing but the calculator block (no request is made), and its log."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    log = _PageLog(page)
    page.set_content(f"<!doctype html><html><head><meta charset='utf-8'><title>calculator</title></head>"
                     f"<body>{html}</body></html>")
    return context, page, log


@pytest.mark.slow
def test_page_without_rules_scores_like_python(browser, card, no_rules_params, test_set, tmp_path):
    """rules.path: null: the page scores the typical applicant (the medians of the test loans)
    and a few test loans as card.apply does, shows no decision, and raises no script error."""
    from scorecard.card.rules import NO_RULES

    data = tmp_path / "applicants.parquet"
    test_set[card.feature_names].to_parquet(data)
    html = _html(calculator.page_text(ROOT / "scorecard/scorecard.json", no_rules_params, data, ROOT / "reports"))
    typical = _embedded(html, calculator.CONFIG_ID)["typical"]
    assert set(typical) == set(card.feature_names)
    context, page, log = _open(browser, html)
    try:
        shown = page.evaluate("() => document.getElementById('calc-score').textContent")
        expected = python_results(card, None, [typical], card.feature_names)[0]
        assert shown.strip() == str(expected["score"]), f"typical applicant {typical}"
        rows = [typical] + _sample(test_set, card.feature_names, 20)
        got = page.evaluate(_FILL_AND_READ_JS, rows)
        assert not [g for g in got if g["problems"] or g["error"]]
        mismatches = _mismatches(rows, got, python_results(card, None, rows, card.feature_names),
                                 ["score", "points", "reasons", "unseen"])
        assert not mismatches, "\n".join(mismatches[:10])
        assert got[0]["score"] == expected["score"]
        for g in got:
            assert (g["band"], g["decision"], g["policy_rule"], g["max_loan_amount"], g["rules_version"]) == \
                (None, None, None, None, None)
            assert g["no_rules"] == NO_RULES and g["card_version"] == card.version
        page.click("#calc-reset")
        assert page.text_content("#calc-score").strip() == str(expected["score"])
        assert not log.problems(), log.problems()
    finally:
        context.close()


@pytest.mark.slow
@pytest.mark.parametrize("dataset, suffix", [("MXN", " MXN."), (None, ".")])
def test_loan_limit_in_the_cards_currency(browser, card, rules, params, test_set, dataset, suffix):
    """The loan limit is followed by the card's currency (MXN), or by nothing for a card that
    names no dataset."""
    document = _card_with(card, None if dataset is None else
                          {**card.document["created_from"]["dataset"], "currency": dataset})
    names = card.feature_names + [f for f in rules.fields if f not in card.feature_names]
    rows = _sample(test_set, names, 50)
    results = python_results(cardlib.Card(document), rules, rows, names)
    row, expected = next((r, e) for r, e in zip(rows, results) if e["decision"] == "approve")
    context, page, log = _open(browser, _page_of(document, rules.document, params))
    try:
        got = page.evaluate(_FILL_AND_READ_JS, [row])[0]
        assert (got["score"], got["band"], got["decision"]) == (expected["score"], expected["band"], "approve")
        amount = f"{expected['max_loan_amount']:,.0f}"
        assert got["loan_text"] == f"Largest loan for band {expected['band']}: {amount}{suffix}"
        assert "USD" not in page.text_content("#calc-result")
        assert not log.problems(), log.problems()
    finally:
        context.close()
