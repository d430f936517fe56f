"""The report's in-browser score calculator (``reports/calculator.qmd``).

Builds one self-contained block of HTML: a form with one input per card feature (a list of the
card's categories for a categorical feature, a number input with the schema's valid range for a
numeric one) plus the fields the business rules read, and an output area. The card, the rules
and the scorer (``reports/scorer.js``, plain JavaScript that mirrors :mod:`scorecard.card` and
:mod:`scorecard.card.rules`) are embedded in the page when it is rendered, so the page computes the
score, band, decision and reason codes in the browser with no server and nothing fetched: it
works served and opened from disk alike.

The rules are those params.yaml names (``rules.path``, :func:`scorecard.card.rules.rules_for`). With
``rules.path: null`` the page embeds no rules (JSON ``null``) and shows the score, reasons and
points only, saying that no business rules are configured. Amounts are in the card's currency
(``created_from.dataset.currency``); a card that names none gets no currency word.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from scorecard.card import bin_label
from scorecard.card.rules import NO_RULES

#: Ids of the page's embedded JSON blocks (read by reports/calculator.js).
CARD_ID = "calc-card"
RULES_ID = "calc-rules"
CONFIG_ID = "calc-config"


_STYLE = """
.calc { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 1.5rem; align-items: start; }
@media (max-width: 900px) { .calc { grid-template-columns: minmax(0, 1fr); } }
.calc-form fieldset { border: 1px solid #dee2e6; border-radius: .4rem; padding: .5rem .9rem .3rem; margin-bottom: 1rem; }
.calc-form legend { font-size: 1rem; font-weight: 600; float: none; width: auto; padding: 0 .3rem; margin: 0; }
.calc-field { margin: .45rem 0 .7rem; }
.calc-field > label { display: block; font-weight: 500; margin-bottom: .15rem; }
.calc-field code { font-size: .8em; }
.calc-row { display: flex; gap: .6rem; align-items: center; flex-wrap: wrap; }
.calc-row .form-control, .calc-row .form-select { flex: 1 1 10rem; min-width: 8rem; max-width: 18rem; width: auto; }
.calc-row .calc-missing { font-size: .85rem; white-space: nowrap; }
.calc-hint { display: block; color: #6c757d; font-size: .8rem; }
.calc-field input:invalid { border-color: #dc3545; }
.calc-result { position: sticky; top: 4.5rem; border: 1px solid #dee2e6; border-radius: .4rem; padding: .8rem 1rem; }
.calc-headline { display: flex; gap: 1.2rem; flex-wrap: wrap; align-items: baseline; }
.calc-headline div { display: flex; flex-direction: column; }
.calc-headline .calc-label { font-size: .75rem; text-transform: uppercase; color: #6c757d; letter-spacing: .04em; }
.calc-headline .calc-big { font-size: 2rem; font-weight: 700; line-height: 1.1; }
.calc-decision { border-radius: .3rem; padding: 0 .5rem; color: #fff; }
.calc-decision-approve { background: #198754; }
.calc-decision-refer { background: #b35c00; }
.calc-decision-decline { background: #b02a37; }
.calc-result h3 { font-size: 1rem; margin: 1rem 0 .4rem; border: 0; }
.calc-result table { display: table; width: 100%; font-size: .85rem; overflow: visible; }
.calc-result td, .calc-result th { padding: .15rem .35rem; border-bottom: 1px solid #eee; }
.calc-result td.calc-num, .calc-result th.calc-num { text-align: right; font-variant-numeric: tabular-nums; }
.calc-result tr.calc-total td { font-weight: 700; border-top: 2px solid #adb5bd; }
.calc-note { font-size: .85rem; color: #6c757d; }
.calc-warning { font-size: .85rem; color: #8a4b00; }
.calc-error { color: #b02a37; font-weight: 600; }
"""


# -- the fields of the form -------------------------------------------------------------------
def _spec_value(spec: Any, key: str) -> Any:
    """``spec[key]`` for a dict or a pydantic column spec (None when absent)."""
    if spec is None:
        return None
    if isinstance(spec, Mapping):
        return spec.get(key)
    return getattr(spec, key, None)


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, str):
        return None
    return float(value)


def _fmt(value: float) -> str:
    """A number as an input's value: 1000000 as 1000000, 0.5 as 0.5."""
    return f"{value:.15g}"


def _text(value: float) -> str:
    """A number as text to read: 100000000 as 100,000,000."""
    return f"{value:,.15g}"


def _range_text(low: float | None, low_exclusive: bool, high: float | None, source: str) -> str:
    if low is None and high is None:
        return "any number"
    if low is not None and high is not None:
        if low_exclusive:
            return f"above {_text(low)}, at most {_text(high)} ({source})"
        return f"{_text(low)} to {_text(high)} ({source})"
    if low is not None:
        return f"{'above' if low_exclusive else 'at least'} {_text(low)} ({source})"
    return f"at most {_text(high)} ({source})"


def _numeric_range(name: str, columns: Mapping[str, Any], inputs: Mapping[str, Any]) -> dict:
    """The valid range of a numeric field: the schema's (params.yaml data.columns) when the
    field is a declared column, else the rules file's input declaration, else none."""
    if name in columns:
        spec, source = columns[name], "schema range"
        low = _number(_spec_value(spec, "min"))
        exclusive = _number(_spec_value(spec, "min_exclusive"))
    elif name in inputs:
        spec, source = inputs[name], "rules range"
        low, exclusive = _number(_spec_value(spec, "minimum")), None
    else:
        return {"min": None, "max": None, "min_exclusive": False, "range": "any number"}
    high = _number(_spec_value(spec, "max" if source == "schema range" else "maximum"))
    if exclusive is not None and (low is None or exclusive >= low):
        low, low_exclusive = exclusive, True
    else:
        low_exclusive = False
    return {"min": low, "max": high, "min_exclusive": low_exclusive,
            "range": _range_text(low, low_exclusive, high, source)}


def fields(card: Mapping, rules: Mapping | None, columns: Mapping[str, Any] | None = None,
           special_meanings: Mapping[str, Mapping[str, float]] | None = None) -> list[dict]:
    """The inputs of the calculator, in the card's feature order, then the rules' inputs.

    Parameters
    ----------
    card : Mapping
        The card document (``scorecard/scorecard.json``).
    rules : Mapping or None
        The business rules document (the file params.yaml names, ``rules.path``); None: no
        business rules, so no field beyond the card's features.
    columns : Mapping, optional
        The schema of the applicant file (``params.data.columns``): name to a spec with
        ``min``, ``min_exclusive`` and ``max``. A numeric feature declared there gets that
        valid range; any other numeric feature accepts any number.
    special_meanings : Mapping, optional
        Per derived feature, what each special value stands for
        (``params.features.derived[name].special``, e.g. ``{"n/a": -1}``).

    Returns
    -------
    list of dict
        One dict per input: ``name``, ``role`` (``feature`` or ``rules input``), ``type``
        (``numeric`` or ``categorical``), ``label``, ``description`` and, for numeric fields,
        ``min``, ``max``, ``min_exclusive``, ``range`` (text) and ``special`` (text), for
        categorical fields ``categories`` (in bin order).
    """
    columns = columns or {}
    special_meanings = special_meanings or {}
    inputs = rules.get("inputs", {}) if rules is not None else {}
    out = []
    for feature in card["features"]:
        item = {"name": feature["name"], "role": "feature", "type": feature["type"],
                "label": feature["reason_text"], "description": feature.get("description", "")}
        if feature["type"] == "numeric":
            item.update(_numeric_range(feature["name"], columns, {}))
            meaning = {float(v): k for k, v in special_meanings.get(feature["name"], {}).items()}
            specials = [v for b in feature["bins"] if b["kind"] == "special" for v in b["values"]]
            item["special"] = ", ".join(
                f"{_fmt(v)}" + (f" = {meaning[float(v)]}" if float(v) in meaning else "") for v in specials)
        else:
            item["categories"] = [c for b in feature["bins"] if b["kind"] == "categories" for c in b["categories"]]
        out.append(item)
    card_names = {f["name"] for f in card["features"]}
    for name, spec in inputs.items():
        if name in card_names:
            continue
        declared = _spec_value(columns.get(name), "description")
        text = spec.get("description", "")
        item = {"name": name, "role": "rules input", "type": "numeric",
                "label": declared or name.replace("_", " ").capitalize(),
                "description": text.split(". ")[0].rstrip(".") if text else ""}
        item.update(_numeric_range(name, columns, inputs))
        item["special"] = ""
        out.append(item)
    return out


def _typical_number(values: pd.Series) -> float | None:
    values = pd.to_numeric(values, errors="coerce").astype("float64")
    if values.isna().mean() > 0.5 or values.notna().sum() == 0:
        return None  # most applicants leave it blank: the typical applicant does too
    median = float(values.median())
    if median == 0:
        return 0.0
    digits = 3 - int(math.floor(math.log10(abs(median)))) - 1
    return float(round(median, digits))


def typical_applicant(field_list: list[dict], data: pd.DataFrame | None = None) -> dict:
    """A typical applicant to pre-fill the form: for each field, the median of the data
    (three significant digits) or, for a category, the most common value; a field that most
    applicants leave blank stays blank (None).

    Parameters
    ----------
    field_list : list of dict
        From :func:`fields`.
    data : DataFrame, optional
        Applicants (e.g. the training loans). A field it lacks gets the card's first category,
        or for a number the lower end of its valid range (0 when it has none).
    """
    out = {}
    for item in field_list:
        name = item["name"]
        if data is not None and name in data.columns:
            column = data[name]
            if item["type"] == "numeric":
                out[name] = _typical_number(column)
            else:
                counts = column.dropna().astype(str).value_counts()
                out[name] = str(counts.index[0]) if len(counts) else None
        elif item["type"] == "categorical":
            out[name] = item["categories"][0] if item["categories"] else None
        else:
            out[name] = item["min"] if item["min"] is not None else 0.0
    return out


# -- the HTML -----------------------------------------------------------------------------
def json_for_script(document: Any) -> str:
    """JSON text safe inside ``<script type="application/json">``: every ``<`` is written
    ``\\u003c``, so that no ``</script>`` (nor ``<!--``) in the data can end the block."""
    text = json.dumps(document, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _inline_script(source: str, name: str) -> str:
    """A script's text inlined in the page, refused if it could end its own tag or the
    Markdown raw block around it."""
    if re.search(r"</script|<!--", source, re.I):
        raise ValueError(f"{name}: contains '</script' or '<!--', which would break the inlined script")
    if re.search(r"^\s*```", source, re.M):
        raise ValueError(f"{name}: a line starting with ``` would end the page's raw HTML block")
    return source


def _attr(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _tag(name: str, attrs: dict[str, Any], content: str | None = None) -> str:
    """An HTML element; an attribute whose value is True is written bare, False or None is left out."""
    text = "".join(f" {k}" if v is True else f' {k}="{_attr(v)}"' for k, v in attrs.items()
                   if v is not None and v is not False)
    return f"<{name}{text}>" if content is None else f"<{name}{text}>{content}</{name}>"


def _field_html(item: dict, value: Any) -> str:
    """One input of the form: label, control(s) and a hint (description, valid range)."""
    name = item["name"]
    ident = f"calc-in-{name}"
    label = _tag("label", {"for": ident}, f"{_attr(item['label'])} <code>{_attr(name)}</code>")
    hint_parts = [item["description"]] if item["description"] else []
    if item["type"] == "categorical":
        unseen = value is not None and value not in item["categories"]
        options = [_tag("option", {"value": c, "selected": value == c}, _attr(c)) for c in item["categories"]]
        options.append(_tag("option", {"value": "", "data-role": "missing", "selected": value is None}, "(missing)"))
        options.append(_tag("option", {"value": "", "data-role": "unseen", "selected": unseen}, "other (unseen)…"))
        control = _tag("select", {"class": "form-select form-select-sm", "id": ident, "data-field": name,
                                  "data-part": "value"}, "".join(options))
        control += _tag("input", {"type": "text", "class": "form-control form-control-sm", "id": f"{ident}-other",
                                  "data-field": name, "data-part": "other", "hidden": not unseen,
                                  "aria-label": f"{name}: category not in the card",
                                  "placeholder": "category not in the card", "value": value if unseen else ""})
        hint_parts.append("a category the card does not list is scored as its lowest-points category and flagged")
    else:
        control = _tag("input", {"type": "number", "class": "form-control form-control-sm", "step": "any",
                                 "id": ident, "data-field": name, "data-part": "value",
                                 "min": None if item["min"] is None else _fmt(item["min"]),
                                 "max": None if item["max"] is None else _fmt(item["max"]),
                                 "value": "" if value is None else _fmt(value), "placeholder": "missing"})
        checkbox = _tag("input", {"type": "checkbox", "class": "form-check-input", "id": f"{ident}-missing",
                                  "data-field": name, "data-part": "missing", "checked": value is None})
        control += _tag("label", {"class": "calc-missing"}, f"{checkbox} missing")
        hint_parts.append(f"valid: {item['range']}")
        if item.get("special"):
            hint_parts.append(f"special value {item['special']}")
        if item["role"] == "rules input":
            hint_parts.append("read by the business rules only, not by the card")
    hint = _tag("span", {"class": "calc-hint"}, _attr("; ".join(hint_parts)))
    return _tag("div", {"class": "calc-field", "data-field": name, "data-type": item["type"]},
                f'{label}<div class="calc-row">{control}</div>{hint}')


def currency(card: Mapping) -> str | None:
    """The card's currency (``created_from.dataset.currency``, e.g. ``"USD"``); None when the
    card names none (older cards have no ``dataset``): amounts then get no currency word, never
    a guessed one."""
    dataset = (card.get("created_from") or {}).get("dataset") or {}
    return dataset.get("currency") or None


def intro(rules_source: str | None, card_source: str = "scorecard/scorecard.json") -> str:
    """The page's opening paragraph (Markdown): what the page computes from what. Written here,
    not in reports/calculator.qmd, because it depends on whether params.yaml names business rules.

    Parameters
    ----------
    rules_source : str or None
        The rules file as params.yaml names it (``rules.path``); None: no business rules.
    card_source : str
        The card file, as shown to the reader.
    """
    if rules_source is None:
        what = (f"Fill in an applicant and read their score and reason codes. The page computes them in your "
                f"browser from the card (`{card_source}`), embedded in this page when it was built")
        rules_note = (" No business rules are configured (`rules.path: null` in `params.yaml`), so the page shows "
                      "no band, decision or loan limit.")
    else:
        what = (f"Fill in an applicant and read their score, band, decision and reason codes. The page computes "
                f"them in your browser from the card (`{card_source}`) and the business rules params.yaml names "
                f"(`rules.path`: `{rules_source}`), both embedded in this page when it was built")
        rules_note = ""
    return (
        what + ", with the same rules as the Python scorer: the page sends nothing anywhere and works opened "
        "from disk too." + rules_note + " It starts from a typical applicant (the median training loan; the most "
        "common category). A categorical feature takes one of the card's categories, \"(missing)\", or any other "
        "text, which the card scores as an unseen category. A number left empty, or ticked \"missing\", is "
        "missing; valid ranges are the applicant file's schema (`params.yaml`), where the feature is a field of "
        "that file."
    )


def page_html(card: Mapping, rules: Mapping | None, field_list: list[dict], applicant: Mapping[str, Any],
              scorer_js: str, ui_js: str, n_reasons: int = 4) -> str:
    """The calculator as one block of HTML: style, form, output area, the embedded card,
    rules and settings (JSON), the scorer and the page script.

    Parameters
    ----------
    card : Mapping
        The card document, embedded as it is; its currency (:func:`currency`) follows loan limits.
    rules : Mapping or None
        The business rules document, embedded as it is; None (no business rules): embedded as
        ``null``, and the page shows no band, decision, policy rule or loan limit, only the
        score, reasons and points and a sentence saying so (:data:`scorecard.card.rules.NO_RULES`).
    field_list : list of dict
        From :func:`fields`.
    applicant : Mapping
        The values the form starts with (from :func:`typical_applicant`).
    scorer_js, ui_js : str
        The text of ``reports/scorer.js`` and ``reports/calculator.js``.
    n_reasons : int
        How many reason codes to show (``params.explain.n_reasons``).
    """
    features = [f for f in field_list if f["role"] == "feature"]
    extra = [f for f in field_list if f["role"] != "feature"]
    config = {
        "fields": field_list,
        "bin_labels": {f["name"]: [bin_label(b) for b in f["bins"]] for f in card["features"]},
        "best_points": {f["name"]: max(b["points"] for b in f["bins"] if b["count"] > 0)
                        for f in card["features"]},
        "n_reasons": n_reasons,
        "typical": dict(applicant),
        "currency": currency(card),
    }
    form = (
        '<form class="calc-form" id="calc-form" autocomplete="off" onsubmit="return false">'
        f'<fieldset><legend>Card features ({len(features)})</legend>'
        + "".join(_field_html(f, applicant.get(f["name"])) for f in features)
        + "</fieldset>"
        + (f'<fieldset><legend>Read by the business rules</legend>'
           + "".join(_field_html(f, applicant.get(f["name"])) for f in extra) + "</fieldset>" if extra else "")
        + '<button type="button" class="btn btn-outline-secondary btn-sm" id="calc-reset">'
          'Back to the typical applicant</button>'
        "</form>"
    )
    score = '<div><span class="calc-label">Score</span><span class="calc-big" id="calc-score">–</span></div>'
    if rules is None:
        # Nothing that only rules can give: no band, decision, policy rule or loan limit.
        headline = f'<div class="calc-headline">{score}</div>'
        decision = f'<p class="calc-note" id="calc-no-rules">{_attr(NO_RULES)}</p>'
        versions = f'Card <code id="calc-card-version">{_attr(card["model_version"])}</code>, no business rules. '
    else:
        headline = (
            f'<div class="calc-headline">{score}'
            '<div><span class="calc-label">Band</span><span class="calc-big" id="calc-band">–</span></div>'
            '<div><span class="calc-label">Decision</span>'
            '<span class="calc-big calc-decision" id="calc-decision">–</span></div>'
            "</div>"
        )
        decision = '<p id="calc-decided-by"></p><p id="calc-max-loan"></p>'
        versions = (f'Card <code id="calc-card-version">{_attr(card["model_version"])}</code>, '
                    f'business rules <code id="calc-rules-version">{_attr(rules["version"])}</code>. ')
    result = (
        '<section class="calc-result" id="calc-result" aria-live="polite">'
        + headline
        + '<p class="calc-error" id="calc-error" hidden></p>'
        + decision
        + '<div id="calc-warnings"></div>'
        "<h3>Reason codes</h3>"
        '<ol id="calc-reasons"></ol>'
        "<h3>Points per feature</h3>"
        '<div id="calc-points"></div>'
        f'<p class="calc-note">{versions}'
        "Computed in your browser by the page's own script; nothing is sent anywhere.</p>"
        "</section>"
    )
    return (
        f"<style>{_STYLE}</style>"
        f'<div class="calc" id="calc">{form}{result}</div>'
        f'<script type="application/json" id="{CARD_ID}">{json_for_script(card)}</script>'
        f'<script type="application/json" id="{RULES_ID}">{json_for_script(rules)}</script>'
        f'<script type="application/json" id="{CONFIG_ID}">{json_for_script(config)}</script>'
        f"<script>\n{_inline_script(scorer_js, 'scorer.js')}\n</script>"
        f"<script>\n{_inline_script(ui_js, 'calculator.js')}\n</script>"
    )


def page_text(card_path: str | Path = "scorecard/scorecard.json", params_path: str | Path = "params.yaml",
              data_path: str | Path | None = "data/processed/train.parquet", scripts_dir: str | Path = "reports",
              root: str | Path | None = None) -> str:
    """The calculator as Markdown holding a raw HTML block (so that Quarto adds no CDN script).

    Paths are as given (relative ones to the working directory: Quarto runs the page from the
    project root, ``execute-dir: project`` in _quarto.yml).

    Parameters
    ----------
    card_path, params_path : path
        The card and the parameters (the schema's valid ranges, ``explain.n_reasons`` and which
        business rules apply: ``rules.path``).
    data_path : path, optional
        Applicants whose medians make the typical applicant (the training loans).
    scripts_dir : path
        Where ``scorer.js`` and ``calculator.js`` are.
    root : path, optional
        The project root that params.yaml's ``rules.path`` is relative to; default: the folder
        holding ``params_path`` (params.yaml sits at the project root).
    """
    from scorecard import card as cardlib
    from scorecard.config import load_params
    from scorecard.card.rules import rules_for

    loaded = cardlib.load(card_path)
    params = load_params(params_path)
    root = Path(params_path).parent if root is None else Path(root)
    # The rules params.yaml names, checked against the params and this card; None: no rules.
    rules = rules_for(params, root=root, card=loaded)
    document = rules.document if rules is not None else None
    special = {name: spec.special for name, spec in params.features.derived.items() if spec.special}
    field_list = fields(loaded.document, document, params.data.columns, special)
    data = None
    if data_path is not None and Path(data_path).is_file():
        wanted = [f["name"] for f in field_list]
        present = [n for n in wanted if n in pq.read_schema(data_path).names]
        data = pd.read_parquet(data_path, columns=present)
    applicant = typical_applicant(field_list, data)
    scripts = Path(scripts_dir)
    text = page_html(loaded.document, document, field_list, applicant,
                     (scripts / "scorer.js").read_text(encoding="utf-8"),
                     (scripts / "calculator.js").read_text(encoding="utf-8"), params.explain.n_reasons)
    return "```{=html}\n" + text + "\n```"


def intro_text(card_path: str | Path = "scorecard/scorecard.json", params_path: str | Path = "params.yaml",
               root: str | Path | None = None) -> str:
    """The page's opening paragraph (:func:`intro`) for the rules params.yaml names (``root`` as
    in :func:`page_text`): read and checked as :func:`page_text` reads them, so the paragraph
    never names rules the calculator does not embed."""
    from scorecard import card as cardlib
    from scorecard.card.rules import rules_for
    from scorecard.config import load_params

    params = load_params(params_path)
    root = Path(params_path).parent if root is None else Path(root)
    rules = rules_for(params, root=root, card=cardlib.load(card_path))
    return intro(params.rules.path if rules is not None else None, str(card_path))
