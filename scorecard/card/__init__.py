"""The exported scorecard: one JSON document that every scorer reads — the contract between the
side that builds cards and every side that applies, watches or reports on them.

This package writes, validates and loads the card, and scores applicants from it (here); its
business rules (cut-offs, policy rules, loan limits per band) are :mod:`scorecard.card.rules`.
It needs only the JSON file (no pickle, no optbinning): a lender can audit one document.

May import: the foundation (:mod:`scorecard.errors`) only, so that every scorer can depend on it.

Scoring rule, stated in the card itself: every applicant starts from ``scaling.base_points``;
each feature adds the integer ``points`` of the one bin its value falls in:

- a missing value (null/NaN) falls in the feature's ``missing`` bin;
- a numeric value listed in a ``special`` bin's ``values`` falls there;
- any other numeric value falls in the ``range`` bin whose edges hold it, each edge open or
  closed as ``lower_inclusive``/``upper_inclusive`` say (a null edge is unbounded);
- a categorical value falls in the ``categories`` bin that lists it; a value listed nowhere
  is unseen: it is scored as the bin ``unseen.bin_id`` names and flagged.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from scorecard.errors import CardError

SCHEMA_VERSION = "1.1.0"
SCHEMA_FILE = "scorecard.schema.json"
UNSEEN_FLAG = "unseen_categories"


def schema() -> dict:
    """The JSON Schema of the card (shipped inside the package)."""
    return json.loads(resources.files("scorecard").joinpath(SCHEMA_FILE).read_text(encoding="utf-8"))


def _check_ranges(feature: dict) -> list[str]:
    """Range bins must tile the number line: sorted, touching, each edge owned once."""
    problems = []
    ranges = [b for b in feature["bins"] if b["kind"] == "range"]
    if not ranges:
        return problems
    name = feature["name"]
    if ranges[0]["lower"] is not None or ranges[-1]["upper"] is not None:
        problems.append(f"feature '{name}': the first range must start at -inf and the last end at +inf (null)")
    for left, right in zip(ranges[:-1], ranges[1:]):
        if left["upper"] is None or right["lower"] is None or left["upper"] != right["lower"]:
            problems.append(f"feature '{name}': bins {left['id']} and {right['id']} do not touch")
        elif left["upper_inclusive"] == right["lower_inclusive"]:
            problems.append(f"feature '{name}': edge {left['upper']} must belong to exactly one of "
                            f"bins {left['id']} and {right['id']}")
        if left["lower"] is not None and left["upper"] is not None and left["lower"] >= left["upper"]:
            problems.append(f"feature '{name}': bin {left['id']} is empty ({left['lower']} >= {left['upper']})")
    return problems


def schema_validator(schema_document: dict):
    """A JSON Schema (draft 2020-12) validator for ``schema_document``.

    Formats are annotations here, never asserted, so jsonschema is imported without its
    optional IRI checker: ``rfc3987_syntax`` (installed for Jupyter) compiles a grammar when
    imported, about 3 seconds of every command's start-up. Other importers are unaffected.
    """
    import sys

    if "jsonschema" not in sys.modules and "rfc3987_syntax" not in sys.modules:
        sys.modules["rfc3987_syntax"] = None   # import fails: jsonschema skips the iri formats
        try:
            import jsonschema
        finally:
            if sys.modules.get("rfc3987_syntax", 0) is None:
                del sys.modules["rfc3987_syntax"]
    import jsonschema

    return jsonschema.Draft202012Validator(schema_document)


def validate(card: dict) -> None:
    """Check a card against its JSON Schema and the rules a schema cannot state.

    Raises
    ------
    CardError
        Naming the JSON path of each problem.
    """
    validator = schema_validator(schema())
    errors = sorted(validator.iter_errors(card), key=lambda e: list(e.absolute_path))
    problems = [
        f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors[:20]
    ]
    if not problems:
        for feature in card["features"]:
            ids = [b["id"] for b in feature["bins"]]
            if ids != list(range(len(ids))):
                problems.append(f"feature '{feature['name']}': bin ids must be 0..{len(ids) - 1} in order")
            kinds = [b["kind"] for b in feature["bins"]]
            expected = "range" if feature["type"] == "numeric" else "categories"
            if (any(k not in (expected, "special", "missing") for k in kinds) or kinds.count("missing") != 1
                    or expected not in kinds):
                problems.append(f"feature '{feature['name']}': a {feature['type']} feature needs "
                                f"'{expected}' bins and exactly one 'missing' bin")
            if not any(b["count"] > 0 for b in feature["bins"]):
                problems.append(f"feature '{feature['name']}': no bin holds any training applicant")
            if feature["type"] == "categorical":
                seen = [c for b in feature["bins"] if b["kind"] == "categories" for c in b["categories"]]
                if len(seen) != len(set(seen)):
                    problems.append(f"feature '{feature['name']}': a category is listed in two bins")
                unseen = feature.get("unseen")
                if unseen is None or unseen["bin_id"] not in ids:
                    problems.append(f"feature '{feature['name']}': unseen.bin_id must name one of its bins")
            problems += _check_ranges(feature)
    if problems:
        raise CardError("invalid scorecard: " + "; ".join(problems))


#: Significant digits of every float the card and metrics.json carry, except the decision
#: values below (see :func:`round_floats`).
FLOAT_DIGITS = 12
#: Keys of a bin whose numbers decide which bin a value falls in: written exactly as the binning
#: produced them (every scorer compares with these very numbers), never rounded.
DECISION_KEYS = frozenset({"lower", "upper", "values"})


def round_floats(value, digits: int = FLOAT_DIGITS, keep: frozenset = frozenset()):
    """``value`` with every float rounded to ``digits`` significant digits (recursively through
    dicts, lists and tuples; ints, bools, strings and None unchanged; a dict entry whose key is
    in ``keep`` is left exactly as it is).

    Why: a fit's last digits depend on the BLAS kernel and its threads, so the exact floats of
    the same fit differ between machines; rounded to 12 significant digits they are the same,
    and the files that carry them are byte-identical. The integer points are computed from the
    unrounded values before this is applied, so rounding never changes a point.
    """
    if isinstance(value, float):
        return float(f"{value:.{digits}g}") if math.isfinite(value) else value
    if isinstance(value, np.floating):
        return round_floats(float(value), digits, keep)
    if isinstance(value, Mapping):
        return {k: (v if k in keep else round_floats(v, digits, keep)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [round_floats(v, digits, keep) for v in value]
    return value


def round_card_floats(card: dict) -> dict:
    """The card with its floats at :data:`FLOAT_DIGITS` significant digits: coefficients,
    intercept, factor, offset, WoE, IV, rates. Bin edges and special values
    (:data:`DECISION_KEYS`) stay exact: rounding an edge could move a value to another bin."""
    return round_floats(card, keep=DECISION_KEYS)


def dumps(card: dict) -> str:
    """Canonical text of a card: the same card always gives the same bytes."""
    return json.dumps(card, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write(card: dict, path: str | Path) -> Path:
    validate(card)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(card), encoding="utf-8")
    return path


def load(path: str | Path) -> Card:
    """Read and validate a card file; return a :class:`Card` that scores applicants."""
    path = Path(path)
    if not path.is_file():
        raise CardError(f"scorecard file not found: {path}")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise CardError(f"{path}: not valid JSON: {error}") from None
    return Card(document)


def population(document: dict) -> str:
    """The identity of the population a card was built on: ``created_from.dataset.id``, or for
    a card without one (schema 1.0) ``sha256:`` and the first 16 hex digits of its applicant
    file (the first of ``created_from.data``), as :meth:`scorecard.config.DatasetSpec.identity`
    gives for params without a dataset id."""
    created = document.get("created_from", {})
    dataset = created.get("dataset")
    if dataset and dataset.get("id"):
        return dataset["id"]
    data = created.get("data") or [{}]
    return f"sha256:{data[0].get('sha256', 'unknown')[:16]}"


def same_population(a: dict, b: dict) -> bool:
    """Whether two card documents were built on the same population: only such cards are
    compared (champion/challenger, the overview). Cards that both name a dataset id compare
    ids; otherwise the applicant files' sha256 decide."""
    ids = [d.get("created_from", {}).get("dataset", {}).get("id") for d in (a, b)]
    if all(ids):
        return ids[0] == ids[1]
    files = [(d.get("created_from", {}).get("data") or [{}])[0].get("sha256") for d in (a, b)]
    return files[0] is not None and files[0] == files[1]


def _as_category(value) -> str | None:
    """Text form of a categorical input: 36 and 36.0 read as '36'; missing stays None."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


@dataclass
class Card:
    """A loaded scorecard: ``score``, ``points`` and ``reasons`` from the JSON alone."""

    document: dict

    def __post_init__(self):
        validate(self.document)

    @property
    def version(self) -> str:
        return self.document["model_version"]

    @property
    def base_points(self) -> int:
        return self.document["scaling"]["base_points"]

    @cached_property
    def features(self) -> list[dict]:
        return self.document["features"]

    @property
    def feature_names(self) -> list[str]:
        return [f["name"] for f in self.features]

    # -- bin assignment -------------------------------------------------------------
    def _numeric_bins(self, feature: dict, column: pd.Series) -> np.ndarray:
        name = feature["name"]
        values = pd.to_numeric(column, errors="coerce").astype("float64").to_numpy()
        not_number = column.notna().to_numpy() & np.isnan(values)
        if not_number.any():
            examples = column[not_number].head(3).tolist()
            raise CardError(f"column '{name}': expected a number, got {examples} "
                            f"({int(not_number.sum())} rows)")
        if np.isinf(values).any():
            raise CardError(f"column '{name}': expected a finite number, got infinity "
                            f"({int(np.isinf(values).sum())} rows)")
        ids = np.full(len(values), -1, dtype=np.int64)
        missing = np.isnan(values)
        assigned = missing.copy()
        for b in feature["bins"]:
            if b["kind"] == "missing":
                ids[missing] = b["id"]
            elif b["kind"] == "special":
                hit = ~assigned & np.isin(values, b["values"])
                ids[hit] = b["id"]
                assigned |= hit
        for b in feature["bins"]:
            if b["kind"] != "range":
                continue
            inside = ~assigned
            if b["lower"] is not None:
                inside &= values >= b["lower"] if b["lower_inclusive"] else values > b["lower"]
            if b["upper"] is not None:
                inside &= values <= b["upper"] if b["upper_inclusive"] else values < b["upper"]
            ids[inside] = b["id"]
            assigned |= inside
        if not assigned.all():  # cannot happen for a valid card: the ranges tile the line
            raise CardError(f"column '{name}': {int((~assigned).sum())} values fall in no bin of the card")
        return ids

    def _categorical_bins(self, feature: dict, column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        lookup = {c: b["id"] for b in feature["bins"] if b["kind"] == "categories" for c in b["categories"]}
        missing_id = next(b["id"] for b in feature["bins"] if b["kind"] == "missing")
        text = column.map(_as_category)
        ids = text.map(lookup)
        unseen = (text.notna() & ids.isna()).to_numpy()
        ids = ids.where(text.notna(), missing_id).fillna(feature["unseen"]["bin_id"])
        return ids.to_numpy(dtype=np.int64), unseen

    def bin_ids(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
        """Bin id of every feature for every row, and the flag naming unseen categories."""
        absent = [f for f in self.feature_names if f not in frame.columns]
        if absent:
            raise CardError(f"missing required column(s) {absent}; the card "
                            f"{self.version} needs {self.feature_names}")
        ids, flags = {}, pd.Series("", index=frame.index, dtype=object)
        for feature in self.features:
            column = frame[feature["name"]]
            if feature["type"] == "numeric":
                ids[feature["name"]] = self._numeric_bins(feature, column)
            else:
                ids[feature["name"]], unseen = self._categorical_bins(feature, column)
                flags[unseen] = flags[unseen] + np.where(flags[unseen] == "", "", ",") + feature["name"]
        return pd.DataFrame(ids, index=frame.index), flags

    # -- scoring --------------------------------------------------------------------
    @cached_property
    def _points_by_bin(self) -> dict[str, np.ndarray]:
        return {f["name"]: np.array([b["points"] for b in f["bins"]], dtype=np.int64) for f in self.features}

    def _points_of(self, ids: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({name: self._points_by_bin[name][ids[name].to_numpy()] for name in ids},
                            index=ids.index)

    def points(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Integer points per feature (columns named after the features)."""
        ids, _ = self.bin_ids(frame)
        return self._points_of(ids)

    def score(self, frame: pd.DataFrame) -> pd.Series:
        """The score of each row: base points plus the points of each feature."""
        return (self.points(frame).sum(axis=1) + self.base_points).rename("score")

    def reasons(self, frame: pd.DataFrame, n: int = 4) -> pd.DataFrame:
        """The ``n`` features that cost each applicant the most points relative to the best
        bin of that feature (ties broken by the card's feature order). Features that cost
        nothing are not reasons."""
        return self._reasons_of(self.points(frame), n)

    def _reasons_of(self, points: pd.DataFrame, n: int) -> pd.DataFrame:
        frame = points  # rows and index of the applicants
        best = np.array([max(b["points"] for b in f["bins"] if b["count"] > 0) for f in self.features])
        lost = best[None, :] - points.to_numpy()
        order = np.argsort(-lost, axis=1, kind="stable")
        codes = {f["name"]: f["reason_code"] for f in self.features}
        texts = {f["name"]: f["reason_text"] for f in self.features}
        names = np.array(self.feature_names, dtype=object)
        out = {}
        for k in range(n):
            idx = order[:, k] if k < order.shape[1] else None
            feature = names[idx] if idx is not None else np.full(len(frame), None)
            cost = lost[np.arange(len(frame)), idx] if idx is not None else np.zeros(len(frame))
            keep = cost > 0
            # object dtype: an absent reason is None (pandas would otherwise make it NaN)
            out[f"reason_{k + 1}"] = pd.Series(np.where(keep, [codes.get(f) for f in feature], None),
                                               index=frame.index, dtype=object)
            out[f"reason_{k + 1}_text"] = pd.Series(np.where(keep, [texts.get(f) for f in feature], None),
                                                    index=frame.index, dtype=object)
            out[f"reason_{k + 1}_points_lost"] = pd.Series(np.where(keep, cost, 0).astype(np.int64), index=frame.index)
        return pd.DataFrame(out, index=frame.index)

    def apply(self, frame: pd.DataFrame, n_reasons: int = 4) -> pd.DataFrame:
        """Score, per-feature points, reasons and the unseen-category flag in one table."""
        ids, flags = self.bin_ids(frame)  # bins are assigned once for all the columns
        points = self._points_of(ids)
        out = points.add_prefix("points_")
        out.insert(0, "score", points.sum(axis=1) + self.base_points)
        out = pd.concat([out, self._reasons_of(points, n_reasons)], axis=1)
        out[UNSEEN_FLAG] = flags
        return out

    # -- the per-record path (a few applicants, no DataFrame) -----------------------
    @cached_property
    def _compiled(self) -> list[tuple]:
        """Per feature, what :meth:`apply_records` needs to find a bin without pandas: the
        missing bin, the special values (as float64, as ``np.isin`` compares them), the
        range uppers with the bin each side of an edge, or the category lookup."""
        out = []
        for f in self.features:
            bins = f["bins"]
            missing_id = next(b["id"] for b in bins if b["kind"] == "missing")
            points = [b["points"] for b in bins]
            if f["type"] == "numeric":
                special = {}
                for b in bins:
                    if b["kind"] == "special":
                        for v in b["values"]:
                            special.setdefault(float(v), b["id"])   # the first special bin wins
                ranges = [b for b in bins if b["kind"] == "range"]
                # validate() made the ranges tile the line in order: range i holds the values
                # below uppers[i] (or equal to it when upper_inclusive) and above the previous.
                uppers = [float(b["upper"]) for b in ranges[:-1]]
                inclusive = [bool(b["upper_inclusive"]) for b in ranges[:-1]]
                out.append(("numeric", f["name"], missing_id, points, special, uppers, inclusive,
                            [b["id"] for b in ranges]))
            else:
                lookup = {c: b["id"] for b in bins if b["kind"] == "categories" for c in b["categories"]}
                out.append(("categorical", f["name"], missing_id, points, lookup, f["unseen"]["bin_id"]))
        return out

    @cached_property
    def _name_set(self) -> frozenset[str]:
        return frozenset(self.feature_names)

    @cached_property
    def _best_points(self) -> list[int]:
        return [max(b["points"] for b in f["bins"] if b["count"] > 0) for f in self.features]

    def _record_bins(self, record) -> tuple[list[int], list[str]] | None:
        """Bin ids of one applicant and the features whose category is unseen; None when a
        value is of a kind only :meth:`apply` decides (text in a numeric feature, infinity...)."""
        ids, unseen = [], []
        for spec in self._compiled:
            value = record[spec[1]]
            if spec[0] == "numeric":
                if value is None:
                    ids.append(spec[2])
                    continue
                if type(value) is not float:
                    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                        return None
                    if isinstance(value, (int, np.integer)) and abs(int(value)) > 2 ** 53:
                        return None
                    value = float(value)
                if value != value:               # NaN: missing
                    ids.append(spec[2])
                elif value in (math.inf, -math.inf):
                    return None
                elif value in spec[4]:
                    ids.append(spec[4][value])
                else:
                    uppers = spec[5]
                    i = bisect.bisect_left(uppers, value)      # the first upper >= value
                    if i < len(uppers) and uppers[i] == value and not spec[6][i]:
                        i += 1                                   # the edge belongs to the next bin
                    ids.append(spec[7][i])
            else:
                if type(value) is not str and value is not None:
                    if not isinstance(value, (str, int, float, np.integer, np.floating)) or (
                            isinstance(value, (int, np.integer)) and abs(int(value)) > 2 ** 53):
                        return None
                text = _as_category(value)
                if text is None:                 # None or NaN: missing
                    ids.append(spec[2])
                    continue
                bin_id = spec[4].get(text)
                if bin_id is None:
                    bin_id = spec[5]
                    unseen.append(spec[1])
                ids.append(bin_id)
        return ids, unseen

    def apply_records(self, records: Sequence[Mapping], n_reasons: int = 4) -> list[dict]:
        """:meth:`apply` for applicants given as mappings (feature name to value), without
        building a DataFrame: one dict per record with the same keys and the same values as
        ``apply(frame).to_dict(orient="records")`` (score, ``points_*``, ``reason_*``, the
        unseen-category flag). Fast for a few applicants; :meth:`apply` is the reference and
        the faster way for many.

        Numeric values may be float, int or None (NaN and None are missing); categorical
        values str, a number (36.0 reads '36') or None. Anything else (text in a numeric
        feature, infinity, other types) is handed to :meth:`apply`, which decides it the
        documented way (coercion or a :class:`CardError`).
        """
        names = self.feature_names
        absent = [] if all(r.keys() >= self._name_set for r in records) else [
            n for n in names if any(n not in r for r in records)]
        binned = [None if absent else self._record_bins(r) for r in records]
        if absent or any(b is None for b in binned):
            frame = pd.DataFrame.from_records([{n: r.get(n) for n in names if n in r} for r in records],
                                              columns=[n for n in names if n not in absent])
            return self.apply(frame, n_reasons).to_dict(orient="records")
        compiled, best, base = self._compiled, self._best_points, self.base_points
        codes = [f["reason_code"] for f in self.features]
        texts = [f["reason_text"] for f in self.features]
        order = range(len(names))
        out = []
        for ids, unseen in binned:
            points = [spec[3][i] for spec, i in zip(compiled, ids)]
            row = {"score": base + sum(points)}
            for name, p in zip(names, points):
                row[f"points_{name}"] = p
            lost = [b - p for b, p in zip(best, points)]
            ranked = sorted(order, key=lambda j: -lost[j])    # stable: ties in the card's order
            for k in range(n_reasons):
                j = ranked[k] if k < len(ranked) else None
                if j is not None and lost[j] > 0:
                    row[f"reason_{k + 1}"], row[f"reason_{k + 1}_text"] = codes[j], texts[j]
                    row[f"reason_{k + 1}_points_lost"] = lost[j]
                else:
                    row[f"reason_{k + 1}"] = row[f"reason_{k + 1}_text"] = None
                    row[f"reason_{k + 1}_points_lost"] = 0
            row[UNSEEN_FLAG] = ",".join(unseen)
            out.append(row)
        return out


def bin_label(b: dict) -> str:
    """A short human-readable label of a bin: '[0.5, 1.5)', 'RENT, OWN', 'missing'."""
    if b["kind"] == "range":
        lower = "-inf" if b["lower"] is None else f"{b['lower']:.4g}"
        upper = "+inf" if b["upper"] is None else f"{b['upper']:.4g}"
        return f"{'[' if b['lower_inclusive'] else '('}{lower}, {upper}{']' if b['upper_inclusive'] else ')'}"
    if b["kind"] == "categories":
        text = ", ".join(b["categories"])
        return text if len(text) <= 40 else text[:37] + "..."
    if b["kind"] == "special":
        return "special " + ", ".join(f"{v:g}" for v in b["values"])
    return "missing"


def points_table(document: dict) -> pd.DataFrame:
    """The card as a flat table: one row per feature and bin, with its points."""
    rows = [{"feature": f["name"], "bin_id": b["id"], "kind": b["kind"], "bin": bin_label(b),
             "points": b["points"], "count": b["count"], "bad_rate": b["event_rate"], "woe": b["woe"]}
            for f in document["features"] for b in f["bins"]]
    base = {"feature": "(base points)", "bin_id": None, "kind": "base", "bin": "",
            "points": document["scaling"]["base_points"], "count": None, "bad_rate": None, "woe": None}
    return pd.DataFrame([base, *rows])


def content_hash(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()
