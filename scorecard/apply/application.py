"""From the fields of an application to the card's features, computed as the ETL computes them.

A lender's system knows what the applicant declared (income, amount, employment length, state,
application date...), not the card's derived features (``loan_to_income``,
``income_to_state_median``) nor the public data joined to them (``state_unemployment_rate``).
:class:`ApplicationForm` works out, from ``params.yaml``, which declared fields the card needs,
checks them with the schema the training data was checked with (``data.columns``), derives the
features with :mod:`scorecard.build.features` and joins the environment sources with
:mod:`scorecard.build.environment` (read once, when the form is built). The result is the frame
:meth:`Card.apply <scorecard.card.Card.apply>` scores: the same numbers the pipeline gave the
card, so a scored application agrees with the batch and SQL paths.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, create_model

from scorecard.card import Card
from scorecard.config import ColumnSpec, Params, load_params
from scorecard.build.environment import (KEY, PERIOD, join_environment, load_environment, mx_state_code,
                                   us_state_code)
from scorecard.errors import ConfigError, DataValidationError
from scorecard.build.features import derive, keyword_classifier

MAX_TEXT_LENGTH = 200


def _needed(name: str, params: Params, trail: tuple[str, ...] = ()) -> list[str]:
    """The declared columns that ``name`` is computed from (itself when it is declared)."""
    if name in trail:
        raise ConfigError(f"params.yaml: features.derived: '{name}' is derived from itself ({' -> '.join(trail + (name,))})")
    if name in params.data.columns:
        return [name]
    if name in params.features.derived:
        return [c for i in params.features.derived[name].inputs for c in _needed(i, params, trail + (name,))]
    for source_name, source in params.environment.enabled_sources().items():
        if name in source.output_columns():
            # A source with align: none joins by its key alone: no application date needed.
            date = [params.data.date_column] if source.dated else []
            return [c for column in (params.environment.key_of(source_name), *date)
                    for c in _needed(column, params, trail + (name,))]
    raise ConfigError(
        f"card feature '{name}' is not a column of data.columns, a feature of features.derived nor a "
        "column of an enabled environment source in params.yaml: the card was built from other parameters")


def _date_rule(name: str, spec: ColumnSpec):
    low = dt.date.fromisoformat(str(spec.min)) if spec.min is not None else None
    high = dt.date.fromisoformat(str(spec.max)) if spec.max is not None else None

    def check(text: str) -> str:
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"expected a date as yyyy-mm-dd, got {text!r}") from None
        if low is not None and day < low or high is not None and day > high:
            raise ValueError(f"expected a date from {low or 'any'} to {high or 'any'} (params.yaml data.columns), "
                             f"got {text}")
        return text
    return check


def _category_rule(allowed: list[str] | None):
    def check(text: str) -> str:
        if allowed is not None and text.strip() not in allowed:
            raise ValueError(f"expected one of {allowed}, got {text!r}")
        return text
    return check


def _field(name: str, spec: ColumnSpec):
    """The pydantic type of one declared column: its type, its range, null only when nullable."""
    description = spec.description or name
    if spec.type == "numeric":
        kind = Annotated[float, Field(allow_inf_nan=False, ge=spec.min, le=spec.max, gt=spec.min_exclusive)]
    elif spec.type == "date":
        kind = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$", examples=[str(spec.min or "2011-06-15")]),
                         AfterValidator(_date_rule(name, spec))]
        description += " (yyyy-mm-dd)"
    else:
        kind = Annotated[str, Field(max_length=MAX_TEXT_LENGTH), AfterValidator(_category_rule(spec.allowed))]
        if spec.allowed is not None:
            description += f" (one of {spec.allowed})"
    if spec.nullable:
        kind = kind | None
        description += "; null when not known"
    return Annotated[kind, Field(alias=name, description=description)]


class NonFiniteFeatureError(DataValidationError):
    """Declared values from which a derived feature is not a finite number (e.g. a loan divided
    by an income of ``1e-320``). ``problems`` holds, per case, the applicant's position, the
    declared field to blame (the caller's field, never the derived column) and the message."""

    def __init__(self, problems: list[tuple[int, str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"applicant {i}, field '{field}': {message}" for i, field, message in problems))


class ApplicationForm:
    """The declared fields a card needs, and how they become its features.

    Parameters
    ----------
    card : Card
        The card to feed.
    params : Params
        The parameters the card was built with: the schema of the declared columns, the
        derived features and the environment sources.
    root : path
        Directory the environment sources' paths are relative to (where params.yaml lives).

    Raises
    ------
    ConfigError
        A card feature cannot be computed from ``params`` (the card comes from other parameters).
    DataValidationError
        An environment source is missing or differs from its recorded checksum.
    """

    def __init__(self, card: Card, params: Params, root: str | Path = "."):
        self.card, self.params = card, params
        needed = [c for name in card.feature_names for c in _needed(name, params)]
        # Declared order, each once: the order a form shows its fields in.
        self.columns: dict[str, ColumnSpec] = {c: s for c, s in params.data.columns.items() if c in set(needed)}
        computed = set(card.feature_names)
        for name in card.feature_names:
            if name in params.features.derived:
                computed.update(i for i in params.features.derived[name].inputs if i not in self.columns)
        self.derived = [n for n in params.features.derived if n in computed]
        self.tables = load_environment(params.environment, root)
        self.warnings = []
        built_from = card.document.get("created_from", {}).get("params_sha256")
        if built_from and built_from != params.digest():
            self.warnings.append(f"card {card.version} was built from other parameters (params sha256 {built_from[:12]}, "
                                 f"these are {params.digest()[:12]}): check that the schema, derived features and "
                                 "environment sources are the ones the card was fitted with")
        self._fast = self._compile_fast()   # the per-record path of feature_records

    @classmethod
    def from_params_file(cls, card: Card, params_path: str | Path) -> ApplicationForm:
        """The form for ``card`` from a params.yaml (source paths relative to its folder)."""
        path = Path(params_path)
        return cls(card, load_params(path), root=path.resolve().parent)

    def model(self, extra: dict[str, Any] | None = None) -> type[BaseModel]:
        """The pydantic model of one application: an optional ``id``, every needed declared
        field (required; null only where the schema allows it) and ``extra`` optional fields.
        Strict: numbers are not text, unknown keys are refused."""
        fields: dict[str, Any] = {
            "id": (Annotated[Annotated[str, Field(max_length=MAX_TEXT_LENGTH)] | int | None,
                             Field(alias="id", description="Your reference, echoed back")], None),
        }
        for i, (name, spec) in enumerate(self.columns.items()):
            fields[f"field_{i}"] = (_field(name, spec), ...)
        for i, (name, kind) in enumerate((extra or {}).items()):
            if name not in self.columns:
                fields[f"extra_{i}"] = (kind, None)
        return create_model("Application", __config__=ConfigDict(extra="forbid", strict=True, validate_by_alias=True,
                                                                 validate_by_name=False, title="Application"),
                            **fields)

    def features(self, records: Sequence[dict]) -> pd.DataFrame:
        """The declared fields of checked applications, their derived features and the
        environment: one row per record, in order, with every card feature.

        Raises
        ------
        DataValidationError
            An application's state or date is not covered by an environment source; the
            message names the applications (by position), the field and the coverage.
        """
        frame = self._joined(self._typed(records))
        # As the ETL does: environment first, then the derived features (some divide by it).
        problems = []
        for name in self.derived:
            frame[name] = derive(frame, name, self.params.features.derived[name])
            if pd.api.types.is_float_dtype(frame[name]):
                problems += [self._non_finite(frame, name, i)
                             for i in np.flatnonzero(np.isinf(frame[name].to_numpy())).tolist()]
        if problems:
            raise NonFiniteFeatureError(sorted(problems))
        return frame

    def _non_finite(self, frame: pd.DataFrame, name: str, i: int) -> tuple[int, str, str]:
        """Which declared field of applicant ``i`` makes the derived ``name`` infinite, and why,
        in the caller's terms (the fields it sent)."""
        spec = self.params.features.derived[name]
        declared = [c for c in dict.fromkeys(c for n in spec.inputs for c in _needed(n, self.params))
                    if c in self.columns]

        def shown(column: str) -> str:
            value = float(frame[column].iloc[i])
            return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)

        if spec.kind == "ratio":
            numerator, denominator = spec.inputs
            if denominator in self.columns:
                formula = (f"{numerator} / {denominator} = {shown(numerator)} / {shown(denominator)}"
                           if numerator in self.columns else f"a value divided by {denominator}")
                hint = " (send null when the value is not known)" if self.columns[denominator].nullable else ""
                return (i, denominator, f"{shown(denominator)} is too close to 0 to divide by: {formula} is not a "
                                        f"finite number{hint}")
        field = declared[-1] if declared else spec.inputs[-1]
        others = ", ".join(declared)
        return (i, field, f"{shown(field) if field in frame else 'this value'} gives a value computed from "
                          f"{others or field} that is not a finite number")

    def _joined(self, frame: pd.DataFrame) -> pd.DataFrame:
        environment = self.params.environment
        if not environment.enabled_sources():
            return frame
        try:
            return join_environment(frame, environment, self.params.data.date_column, tables=self.tables)
        except DataValidationError:
            pass
        # Say which applications: join them one by one (only on this error path).
        problems = []
        for i in range(len(frame)):
            try:
                join_environment(frame.iloc[[i]], environment, self.params.data.date_column, tables=self.tables)
            except DataValidationError as error:
                problems.append(f"applicant {i}: {error}")
        raise DataValidationError("; ".join(problems))

    # -- the per-record path (a few applications, no DataFrame) --------------------------------
    def _compile_fast(self) -> dict | None:
        """What :meth:`feature_records` needs: each enabled environment source as a dict from
        (state key, period) to its values. None when this form needs something only the
        frame path handles (a state column that is not a category, text in a source, a
        derived feature over columns of an unexpected type, a card feature that is a date)."""
        params, environment = self.params, self.params.environment
        kinds = {name: spec.type for name, spec in self.columns.items()}   # numeric, date, category
        sources = []
        for name, spec in environment.enabled_sources().items():
            key_column = environment.key_of(name)
            key_spec = self.columns.get(key_column)
            date_spec = self.columns.get(params.data.date_column) if spec.dated else None
            if key_spec is None or key_spec.type != "category" or (
                    spec.dated and (date_spec is None or date_spec.type != "date")):
                return None
            table = self.tables[name]
            columns = spec.output_columns()
            if not all(pd.api.types.is_numeric_dtype(table[c]) and not pd.api.types.is_bool_dtype(table[c])
                       for c in columns):
                return None
            keys = [None if pd.isna(k) else (int(k) if spec.key_names == "mx_state" else k)
                    for k in table[KEY].tolist()]
            if spec.align == "month":
                periods = [(t.year, t.month) for t in pd.to_datetime(table[PERIOD])]
            elif spec.dated:
                periods = [int(p) for p in table[PERIOD].tolist()]
            else:
                periods = [None] * len(table)   # align none: one row per key
            values = list(zip(*(table[c].astype("float64").tolist() for c in columns)))
            lookup = dict(zip(zip(keys, periods), values))
            by_key: dict = {}
            if spec.align == "year_asof":   # per key, its periods in order (merge_asof backward)
                for (key, period), row in sorted(lookup.items(), key=lambda item: item[0][1]):
                    by_key.setdefault(key, ([], []))
                    by_key[key][0].append(period)
                    by_key[key][1].append(row)
            sources.append((key_column, spec.key_names, spec.align, columns, lookup, by_key))
            kinds.update({c: "numeric" for c in columns})
        for name in self.derived:
            spec = params.features.derived[name]
            wanted = {"months_between": {"date"}, "ratio": {"numeric"}, "employment_years": {"category"},
                      "keyword_group": {"text", "category"}}.get(spec.kind)
            if wanted is None or any(kinds.get(i) not in wanted for i in spec.inputs):
                return None
            kinds[name] = "category" if spec.kind == "keyword_group" else "numeric"
        if any(kinds.get(n) == "date" for n in self.card.feature_names):
            return None
        # Keyword-group derivations: one classifier each, built once rather than per applicant.
        classifiers = {name: keyword_classifier(spec.groups, spec.missing_group, spec.other_group)
                       for name, spec in params.features.derived.items()
                       if name in self.derived and spec.kind == "keyword_group"}
        return {"sources": sources, "classifiers": classifiers}

    def feature_records(self, records: Sequence[dict]) -> list[dict] | None:
        """:meth:`features` for checked applications without building a DataFrame: one dict
        per record with the frame's columns and the same values (numbers as float, NaN when
        missing; categories stripped, None when missing; dates as :class:`datetime.date`,
        None when missing). Float results are bit-identical to the frame path: the same IEEE
        operations on the same float64 values.

        Returns None when the frame path must decide: a state or period an environment
        source does not cover (its message names the applications), a value of an
        unexpected type, or a form this path does not handle.
        """
        if self._fast is None:
            return None
        out = []
        for record in records:
            row = self._typed_record(record)
            if row is None or not self._join_record(row):
                return None
            for name in self.derived:
                spec = self.params.features.derived[name]
                classify = self._fast["classifiers"].get(name)
                value = classify(row[spec.inputs[0]]) if classify is not None else self._derive_record(row, spec)
                if value is None or value in (math.inf, -math.inf):   # infinite: features() names the field
                    return None
                row[name] = value
            out.append(row)
        return out

    def _typed_record(self, record: dict) -> dict | None:
        """Declared fields typed as :meth:`_typed` types them (None: leave it to it)."""
        row = {}
        for name, spec in self.columns.items():
            value = record.get(name)
            if spec.type == "numeric":
                if value is None:
                    row[name] = math.nan
                elif type(value) is float or (type(value) is int and abs(value) <= 2 ** 53):
                    row[name] = float(value)
                else:
                    return None
            elif spec.type == "date":
                if value is None:
                    row[name] = None
                elif (type(value) is str and len(value) == 10 and value.isascii() and value[4] == value[7] == "-"
                      and value[:4].isdigit() and value[5:7].isdigit() and value[8:].isdigit()
                      and 1700 < int(value[:4]) < 2200):
                    try:
                        row[name] = dt.date(int(value[:4]), int(value[5:7]), int(value[8:]))
                    except ValueError:
                        return None
                else:
                    return None
            else:
                if value is None:
                    row[name] = None
                elif type(value) is str:
                    row[name] = value.strip()   # pandas' str.strip strips the same characters
                else:
                    return None
        return row

    def _join_record(self, row: dict) -> bool:
        """Add the environment values (as :func:`scorecard.build.environment.join_source`); False
        when a source does not cover the applicant's key and period."""
        for key_column, key_names, align, columns, lookup, by_key in self._fast["sources"]:
            state = row[key_column]
            day = row[self.params.data.date_column] if align != "none" else None
            if state is None or (day is None and align != "none"):
                return False
            if key_names == "us_state_name":
                key = us_state_code(state)
            elif key_names == "mx_state":
                key = mx_state_code(state)
            else:
                key = state.strip()
            if align == "none":
                values = lookup.get((key, None))
            elif align == "month":
                values = lookup.get((key, (day.year, day.month)))
            elif align == "year":
                values = lookup.get((key, day.year))
            else:
                periods, rows = by_key.get(key, ((), ()))
                i = bisect.bisect_right(periods, day.year)
                values = rows[i - 1] if i else None
            if values is None or all(v != v for v in values):
                return False
            row.update(zip(columns, values))
        return True

    @staticmethod
    def _derive_record(row: dict, spec) -> float | None:
        """One numeric derived feature as :func:`scorecard.build.features.derive` computes it (None:
        leave it to the frame path); keyword groups use the classifiers of :meth:`_compile_fast`."""
        values = [row[i] for i in spec.inputs]
        if spec.kind == "ratio":
            numerator, denominator = values
            if denominator != denominator or denominator == 0:
                return math.nan
            return numerator / denominator
        if spec.kind == "months_between":
            start, end = values
            if start is None or end is None:
                return math.nan
            return float((end.year - start.year) * 12 + (end.month - start.month))
        if spec.kind != "employment_years":
            return None
        text = values[0]
        if text is None:
            return math.nan
        if text in spec.special:
            return float(spec.special[text])
        if text.strip().startswith("<"):
            return 0.0
        match = re.match(r"\s*(\d+)", text)
        return float(match.group(1)) if match else None

    def _typed(self, records: Sequence[dict]) -> pd.DataFrame:
        """Declared columns typed as :func:`scorecard.build.data.coerce_column` types them."""
        typed = {}
        for name, spec in self.columns.items():
            values = [r.get(name) for r in records]
            if spec.type == "numeric":
                typed[name] = pd.Series([np.nan if v is None else v for v in values], dtype="float64")
            elif spec.type == "date":
                typed[name] = pd.to_datetime(pd.Series(values, dtype="object"), format="%Y-%m-%d")
            else:
                typed[name] = pd.Series(values, dtype="str").str.strip()
        return pd.DataFrame(typed, index=pd.RangeIndex(len(records)))


def json_records(frame: pd.DataFrame) -> list[dict]:
    """Rows as JSON-ready objects, as a client sends them to ``POST /score/application``:
    missing values as None, dates as ``yyyy-mm-dd``, numpy scalars as Python numbers."""
    out = frame.astype(object).where(frame.notna(), None)
    for column in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[column]):
            out[column] = [None if pd.isna(v) else v.strftime("%Y-%m-%d") for v in frame[column]]
    return [{k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
            for row in out.to_dict(orient="records")]
