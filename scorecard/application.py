"""From the fields of an application to the card's features, computed as the ETL computes them.

A lender's system knows what the applicant declared (income, amount, employment length, state,
application date...), not the card's derived features (``loan_to_income``,
``income_to_state_median``) nor the public data joined to them (``state_unemployment_rate``).
:class:`ApplicationForm` works out, from ``params.yaml``, which declared fields the card needs,
checks them with the schema the training data was checked with (``data.columns``), derives the
features with :mod:`scorecard.features` and joins the environment sources with
:mod:`scorecard.environment` (read once, when the form is built). The result is the frame
:meth:`Card.apply <scorecard.card.Card.apply>` scores: the same numbers the pipeline gave the
card, so a scored application agrees with the batch and SQL paths.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, create_model

from scorecard.card import Card
from scorecard.config import ColumnSpec, Params, load_params
from scorecard.environment import join_environment, load_environment
from scorecard.errors import ConfigError, DataValidationError
from scorecard.features import derive

MAX_TEXT_LENGTH = 200


def _needed(name: str, params: Params, trail: tuple[str, ...] = ()) -> list[str]:
    """The declared columns that ``name`` is computed from (itself when it is declared)."""
    if name in trail:
        raise ConfigError(f"params.yaml: features.derived: '{name}' is derived from itself ({' -> '.join(trail + (name,))})")
    if name in params.data.columns:
        return [name]
    if name in params.features.derived:
        return [c for i in params.features.derived[name].inputs for c in _needed(i, params, trail + (name,))]
    for source in params.environment.enabled_sources().values():
        if name in source.output_columns():
            return [*_needed(params.environment.join_key, params, trail + (name,)),
                    *_needed(params.data.date_column, params, trail + (name,))]
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
        for name in self.derived:
            frame[name] = derive(frame, name, self.params.features.derived[name])
        return frame

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

    def _typed(self, records: Sequence[dict]) -> pd.DataFrame:
        """Declared columns typed as :func:`scorecard.data.coerce_column` types them."""
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
