"""The report's in-browser score calculator (``reports/calculator.qmd``).

Builds one self-contained block of HTML from the template ``reports/calculator.html.j2`` (markup
and style; this module computes what it shows): a form with one input per card feature (a list of the
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

import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
import pyarrow.parquet as pq

from scorecard.card import bin_label
from scorecard.card.rules import NO_RULES, PROJECT_ROOT

#: Ids of the page's embedded JSON blocks (read by reports/calculator.js).
CARD_ID = "calc-card"
RULES_ID = "calc-rules"
CONFIG_ID = "calc-config"
#: The page's markup and style (Jinja2), beside the page's scripts (page_text reads it from scripts_dir).
TEMPLATE = PROJECT_ROOT / "reports" / "calculator.html.j2"




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


def _field_view(item: dict, value: Any) -> dict:
    """One input of the form as the template shows it (``reports/calculator.html.j2``): the
    field's own keys plus its hint (description, valid range) and its numbers as text."""
    hint = [item["description"]] if item["description"] else []
    view = dict(item)
    if item["type"] == "categorical":
        hint.append("a category the card does not list is scored as its lowest-points category and flagged")
    else:
        hint.append(f"valid: {item['range']}")
        if item.get("special"):
            hint.append(f"special value {item['special']}")
        if item["role"] == "rules input":
            hint.append("read by the business rules only, not by the card")
        view.update(min_text=None if item["min"] is None else _fmt(item["min"]),
                    max_text=None if item["max"] is None else _fmt(item["max"]),
                    value_text="" if value is None else _fmt(value))
    view["hint"] = "; ".join(hint)
    return view


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
              scorer_js: str, ui_js: str, n_reasons: int = 4, template_path: str | Path = TEMPLATE) -> str:
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
    template_path : path
        The page's markup and style, a Jinja2 template (``reports/calculator.html.j2``).
    """
    config = {
        "fields": field_list,
        "bin_labels": {f["name"]: [bin_label(b) for b in f["bins"]] for f in card["features"]},
        "best_points": {f["name"]: max(b["points"] for b in f["bins"] if b["count"] > 0)
                        for f in card["features"]},
        "n_reasons": n_reasons,
        "typical": dict(applicant),
        "currency": currency(card),
    }
    views = [_field_view(f, applicant.get(f["name"])) for f in field_list]
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    return environment.from_string(Path(template_path).read_text(encoding="utf-8")).render(
        features=[v for v in views if v["role"] == "feature"], extra=[v for v in views if v["role"] != "feature"],
        applicant=applicant, has_rules=rules is not None, no_rules=NO_RULES, card_version=card["model_version"],
        rules_version=None if rules is None else rules["version"],
        card_id=CARD_ID, rules_id=RULES_ID, config_id=CONFIG_ID,
        card_json=json_for_script(card), rules_json=json_for_script(rules), config_json=json_for_script(config),
        scorer_js=_inline_script(scorer_js, "scorer.js"), ui_js=_inline_script(ui_js, "calculator.js"))


def _page_inputs(card_path: str | Path, params_path: str | Path, root: str | Path | None):
    """The card, the params and the rules params.yaml names (``rules.path``, relative to ``root``,
    default the folder holding ``params_path``), checked against the params and the card; rules
    None when there are none. One reading for :func:`page_text` and :func:`intro_text` alike."""
    from scorecard import card as cardlib
    from scorecard.card.rules import rules_for
    from scorecard.config import load_params

    loaded = cardlib.load(card_path)
    params = load_params(params_path)
    rules = rules_for(params, root=Path(params_path).parent if root is None else Path(root), card=loaded)
    return loaded, params, rules


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
    loaded, params, rules = _page_inputs(card_path, params_path, root)
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
                     (scripts / "calculator.js").read_text(encoding="utf-8"), params.explain.n_reasons,
                     template_path=scripts / "calculator.html.j2")
    return "```{=html}\n" + text + "\n```"


def intro_text(card_path: str | Path = "scorecard/scorecard.json", params_path: str | Path = "params.yaml",
               root: str | Path | None = None) -> str:
    """The page's opening paragraph (:func:`intro`) for the rules params.yaml names (``root`` as
    in :func:`page_text`): read and checked as :func:`page_text` reads them, so the paragraph
    never names rules the calculator does not embed."""
    _, params, rules = _page_inputs(card_path, params_path, root)
    return intro(params.rules.path if rules is not None else None, str(card_path))
