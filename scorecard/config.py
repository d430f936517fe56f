"""Reading and checking ``params.yaml``: the one place where defaults and ranges live.

Every section is a strict pydantic model: an unknown key, a wrong type or an out-of-range
value raises :class:`~scorecard.errors.ConfigError` with the dotted path of the field, what
was expected and the value found.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from scorecard.errors import ConfigError

MonotonicTrend = Literal[
    "auto", "auto_heuristic", "auto_asc_desc", "ascending", "descending", "concave", "convex",
    "peak", "valley", "peak_heuristic", "valley_heuristic",
]
Probability = Annotated[float, Field(gt=0, lt=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FileSpec(_Strict):
    path: str
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    encoding: str = "utf-8"


class ColumnSpec(_Strict):
    """A raw column that the schema checks: its type and valid values."""

    # text: free text (e.g. a job title), never binned itself; a derived feature reads it.
    type: Literal["numeric", "category", "date", "text"]
    nullable: bool = True
    min: float | str | None = None
    max: float | str | None = None
    min_exclusive: float | None = None
    allowed: list[str] | None = None
    description: str = ""
    # The unit readers see values in: "currency" (the dataset's currency), or a word such as
    # "%", "months", "fraction". Descriptive: not part of the card's model_version.
    unit: str | None = None


def _labels_as_text(value):
    """Target labels are compared with the file's text: a whole number written in params.yaml
    (``bad: [1]``) is read as its digits ('1')."""
    if isinstance(value, list):
        return [str(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in value]
    return value


Labels = Annotated[list[str], Field(min_length=1), BeforeValidator(_labels_as_text)]


class TargetRule(_Strict):
    """A numeric target (e.g. days past due): ``value >= bad_from`` is bad, ``value <
    good_below`` is good, and the values in between are indeterminate: excluded from both
    samples and counted as their own reason."""

    bad_from: float
    good_below: float

    @model_validator(mode="after")
    def _ordered(self):
        if not self.bad_from > self.good_below:
            raise ValueError(f"expected bad_from > good_below (got bad_from {self.bad_from:g}, "
                             f"good_below {self.good_below:g}); values from good_below up to bad_from are "
                             "indeterminate")
        return self

    def describe(self, column: str) -> dict[str, str]:
        """The three classes in words, e.g. {'bad': 'dpd >= 90', ...}."""
        low, high = f"{self.good_below:g}", f"{self.bad_from:g}"
        return {"bad": f"{column} >= {high}", "good": f"{column} < {low}",
                "indeterminate": f"{low} <= {column} < {high}"}


class TargetSpec(_Strict):
    """The outcome: either label lists (``bad`` and ``good``: the file's values, any text) or a
    numeric ``rule`` (``bad_from`` / ``good_below``)."""

    column: str
    bad: Labels | None = None
    good: Labels | None = None
    rule: TargetRule | None = None
    flag_values: Annotated[list[str], BeforeValidator(_labels_as_text)] = []

    @model_validator(mode="after")
    def _disjoint(self):
        labels = self.bad is not None or self.good is not None
        if self.rule is not None:
            if labels:
                raise ValueError("give either the label lists (bad and good) or a numeric rule "
                                 "(rule: {bad_from, good_below}), not both")
            if self.flag_values:
                raise ValueError("flag_values are target labels: they cannot be used with a numeric rule")
            return self
        if self.bad is None or self.good is None:
            missing = [k for k in ("bad", "good") if getattr(self, k) is None]
            raise ValueError(f"missing {missing}: give the labels of bad and good outcomes (bad: [...], "
                             "good: [...]) or a numeric rule (rule: {bad_from: 90, good_below: 30})")
        both = set(self.bad) & set(self.good)
        if both:
            raise ValueError(f"statuses listed as both bad and good: {sorted(both)}")
        stray = set(self.flag_values) - set(self.bad) - set(self.good)
        if stray:
            raise ValueError(f"flag_values not listed as bad or good: {sorted(stray)}")
        return self

    def definition(self) -> str:
        """The bad event in words, as the card states it."""
        if self.rule is not None:
            classes = self.rule.describe(self.column)
            return (f"{classes['bad']} (good: {classes['good']}; {classes['indeterminate']} is "
                    "indeterminate and excluded)")
        return f"{self.column} in {self.bad}"


class Citation(_Strict):
    """Where a file comes from, as the report's Data sources page cites it."""

    text: str = Field(min_length=1)      # the citation as a reader would write it (Markdown)
    publisher: str = ""
    licence: str = ""
    used_for: str = ""


class DatasetSpec(_Strict):
    """What the applicant file is, in the words every page and notebook uses: nothing in the
    report names a lender, a country, a currency or the bad outcome except through this block."""

    # The identity of the population: a card is compared (champion/challenger, benchmarks) only
    # with cards built from data of the same id. null: the applicant file's sha256 is the identity.
    id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    name: str = "the applicant file"
    lender: str | None = None
    country: str | None = None
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")   # ISO 4217, e.g. USD, MXN
    product: str = "personal loan"
    rows_are: str = "applicants"         # what one row of the file is, plural ("loans", "solicitudes")
    bad_outcome: str = "bad"             # the word for the event: "charged off", "defaulted", "incumplimiento"
    period: str | None = None            # e.g. "June 2007 – December 2011"; null: read from the dates if any
    # Over which window the outcome was observed, for the model documentation's limits.
    outcome_window: str | None = None
    # Fields that are protected characteristics (or stand for one, e.g. age): the model
    # documentation flags every card feature built from them.
    protected_fields: list[str] = []
    citations: list[Citation] = []

    def identity(self, applicants_sha256: str | None) -> str:
        """The population's identity: ``id``, or ``sha256:<first 16 hex>`` of the applicant file."""
        if self.id:
            return self.id
        return f"sha256:{(applicants_sha256 or 'unknown')[:16]}"


class DataSpec(_Strict):
    applicants: FileSpec
    id_column: str | None = None
    # null: the file has no application date (then split.method must be random or stratified,
    # and only environment sources with align: none can be enabled: the others align by that date).
    date_column: str | None = None
    # null: no state (or region) column; the report then has no performance-by-state table.
    state_column: str | None = None
    target: TargetSpec
    columns: dict[str, ColumnSpec] = Field(min_length=1)


class SourceSpec(_Strict):
    """A public-data source joined to applicants by a key (state, municipality, postal code...)
    and, unless ``align: none``, by the application date."""

    enabled: bool = True
    path: str
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    encoding: str = "utf-8"
    # key_rows: one row per key, one column per value, no time (with align: none).
    layout: Literal["time_rows_key_columns", "key_rows_time_columns", "long", "key_rows"]
    # The applicant column (data.columns) this source joins on; null: environment.join_key.
    join_key: str | None = None
    key_column: str | None = None
    # How keys are compared: state codes or names mapped to codes; null: trimmed text as written
    # (a postal code "01000" keeps its leading zero).
    key_names: Literal["us_state_name", "mx_state"] | None = None
    time_column: str | None = None
    value_name: str | None = None
    value_columns: dict[str, str] | None = None
    missing_values: list[str] = []
    # none: one value per key, whatever the application date (a census year, a static index).
    align: Literal["month", "year", "year_asof", "none"]
    description: str = ""
    # Provenance for the Data sources page (not part of the card's model_version).
    citation: Citation | None = None

    @model_validator(mode="after")
    def _layout_fields(self):
        needs = {
            "time_rows_key_columns": ("time_column", "value_name"),
            "key_rows_time_columns": ("key_column", "value_name"),
            "long": ("key_column", "time_column", "value_columns"),
            "key_rows": ("key_column", "value_columns"),
        }[self.layout]
        missing = [name for name in needs if getattr(self, name) is None]
        if missing:
            raise ValueError(f"layout '{self.layout}' needs {missing}")
        # A file without time has one value per key: only align none fits it, and align none
        # has no period to pick from a file with time.
        if (self.layout == "key_rows") != (self.align == "none"):
            raise ValueError(f"align '{self.align}' with layout '{self.layout}': align 'none' (no time) goes "
                             "with layout 'key_rows' (one row per key), and layout 'key_rows' with align 'none'")
        if self.layout == "key_rows" and self.time_column is not None:
            raise ValueError("layout 'key_rows' has no time: remove time_column")
        return self

    def output_columns(self) -> list[str]:
        """Names of the columns this source adds to the applicants."""
        if self.value_columns:
            return list(self.value_columns.values())
        return [self.value_name]

    @property
    def dated(self) -> bool:
        """Whether the source is joined by the application date as well as by its key."""
        return self.align != "none"


class EnvironmentSpec(_Strict):
    # The applicant column every source joins on unless it names its own (sources.<name>.join_key);
    # null when every enabled source names its own, or none is enabled.
    join_key: str | None = None
    sources: dict[str, SourceSpec] = {}

    def enabled_sources(self) -> dict[str, SourceSpec]:
        return {name: spec for name, spec in self.sources.items() if spec.enabled}

    def key_of(self, name: str) -> str | None:
        """The applicant column source ``name`` joins on: its own join_key, else environment.join_key."""
        spec = self.sources[name]
        return spec.join_key if spec.join_key is not None else self.join_key

    def join_keys(self) -> list[str]:
        """The applicant columns the enabled sources join on, each once, in source order."""
        keys = [self.key_of(name) for name in self.enabled_sources()]
        return list(dict.fromkeys(k for k in keys if k is not None))


class KeywordGroup(_Strict):
    """One group of a ``keyword_group`` feature: a text containing any of ``keywords`` (whole
    words after normalisation; a trailing ``*`` matches any word ending) belongs to it."""

    name: str = Field(min_length=1)
    keywords: list[str] = Field(min_length=1)


class DerivedSpec(_Strict):
    """A derived feature: ``kind`` names a function of :mod:`scorecard.build.features`."""

    kind: Literal["months_between", "ratio", "employment_years", "keyword_group"]
    inputs: list[str] = Field(min_length=1)
    special: dict[str, float] = {}
    # keyword_group: the groups in order (the first group whose keyword matches wins), the
    # group of an empty text and the group of a text no keyword matches.
    groups: list[KeywordGroup] = []
    missing_group: str = "missing"
    other_group: str = "other"
    description: str = ""

    @model_validator(mode="after")
    def _kind_fields(self):
        if self.kind == "keyword_group":
            if len(self.inputs) != 1:
                raise ValueError("kind 'keyword_group' reads exactly one input (a text column)")
            if not self.groups:
                raise ValueError("kind 'keyword_group' needs 'groups' (name and keywords of each group)")
            names = [g.name for g in self.groups] + [self.missing_group, self.other_group]
            if len(names) != len(set(names)):
                raise ValueError(f"keyword_group: group names must be unique (got {names})")
        elif self.groups:
            raise ValueError(f"'groups' is only for kind 'keyword_group', not '{self.kind}'")
        return self


class FeaturesSpec(_Strict):
    derived: dict[str, DerivedSpec] = {}
    model_features: list[str] = Field(min_length=1)
    categorical: list[str] = []
    # Regular expressions of fields that must never reach the model (known only after the
    # loan was granted, or another lender's own risk grade).
    forbidden: list[str] = []

    def leaking(self, names) -> list[str]:
        """The names that match a forbidden pattern."""
        return [n for n in names if any(re.search(p, n) for p in self.forbidden)]


class SplitSpec(_Strict):
    """How the rows are split into the training and the test sample.

    ``time``: out of time on the application date (``data.date_column``), by the four window
    dates. ``random``: a seeded random ``test_share`` of the rows. ``stratified``: the same,
    drawn separately among bads and goods so that both samples keep the bad rate.
    """

    method: Literal["time", "random", "stratified"] = "time"
    train_start: dt.date | None = None
    train_end: dt.date | None = None
    test_start: dt.date | None = None
    test_end: dt.date | None = None
    test_share: float | None = Field(default=None, gt=0, lt=1)
    seed: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _ordered(self):
        windows = ("train_start", "train_end", "test_start", "test_end")
        drawn = ("test_share", "seed")
        if self.method == "time":
            needed, unused, joiner = windows, drawn, ", "
            why = "(the training and test windows on the application date)"
            only = "only for split.method random or stratified (method 'time' splits by the window dates)"
        else:
            needed, unused, joiner = drawn, windows, " and "
            why = "(the share of rows drawn for the test sample, e.g. 0.2, and the random seed)"
            only = (f"only for split.method 'time' (method '{self.method}' draws the test sample at random); "
                    "remove them")
        missing = [k for k in needed if getattr(self, k) is None]
        if missing:
            raise ValueError(f"split.method '{self.method}' needs {joiner.join('split.' + k for k in missing)} {why}")
        stray = [k for k in unused if getattr(self, k) is not None]
        if stray:
            raise ValueError(f"{', '.join('split.' + k for k in stray)}: {only}")
        if self.method == "time" and not self.train_start <= self.train_end < self.test_start <= self.test_end:
            raise ValueError(
                "expected train_start <= train_end < test_start <= test_end "
                f"(got {self.train_start}, {self.train_end}, {self.test_start}, {self.test_end})"
            )
        return self


class BinningSpec(_Strict):
    max_n_prebins: int = Field(default=20, ge=2, le=100)
    min_bin_size: float = Field(default=0.05, gt=0, le=0.5)
    # Pre-bins smaller than this are merged before optimising; null: the same as min_bin_size
    # (optbinning's own default, 0.05, would make any min_bin_size below it ineffective).
    min_prebin_size: float | None = Field(default=None, gt=0, le=0.5)
    max_n_bins: int | None = Field(default=None, ge=2, le=50)
    monotonic_trend: MonotonicTrend = "auto_asc_desc"
    monotonic_trend_by_feature: dict[str, MonotonicTrend] = {}
    special_codes: dict[str, list[float]] = {}
    min_iv: float = Field(default=0.02, ge=0, lt=10)
    # A missing or special bin holding fewer training applicants than this gets WoE 0 (neutral
    # points): a handful of loans must not give the best (or worst) points of a feature.
    min_missing_count: int = Field(default=0, ge=0)
    overrides_path: str | None = None


class ModelSpec(_Strict):
    max_p_value: float = Field(default=0.05, gt=0, le=1)
    max_vif: float = Field(default=5.0, gt=1)
    pdo: float = Field(default=20, gt=0)
    base_score: float = Field(default=600, gt=0)
    base_odds: float = Field(default=50, gt=0)


class SegmentSpec(_Strict):
    """One segmentation of the test sample for the performance-by-segment table.

    ``column`` is an applicant field declared in ``data.columns`` (category or numeric) or a
    model feature; ``label`` is the reader's name of the segmentation (default: the column's
    name); a numeric field is cut into bands at ``edges`` (increasing; a value equal to an edge
    belongs to the band above it), a category field is taken value by value.
    """

    column: str = Field(min_length=1)
    label: str | None = Field(default=None, min_length=1)
    edges: list[float] | None = None

    @property
    def name(self) -> str:
        """The segmentation's name in the table and the report: the label, else the column."""
        return self.label or self.column


class EvaluateSpec(_Strict):
    band_width: int = Field(default=20, gt=0)
    n_calibration_bins: int = Field(default=10, ge=2, le=100)
    # The performance-by-segment table: one segmentation per entry (none: no table).
    segments: list[SegmentSpec] = []


class ExplainSpec(_Strict):
    n_reasons: int = Field(default=4, ge=1, le=20)
    sample_size: int = Field(default=2000, ge=10)
    seed: int = 0
    reason_texts: dict[str, str] = {}


class PromotionSpec(_Strict):
    """When a freshly built card (the challenger) replaces the card in production (the champion).

    Both cards are scored on the same out-of-time applicants: the challenger is promoted only
    if its AUC is at most ``max_auc_drop`` below the champion's and the PSI between the two
    cards' score distributions is below ``max_score_psi``.
    """

    max_auc_drop: float = Field(default=0.005, ge=0, lt=0.5)
    max_score_psi: float = Field(default=0.1, gt=0, le=10)


class MonitoringSpec(_Strict):
    """Drift thresholds: a PSI (score) or CSI (feature) at or above ``*_warn`` is a warning,
    at or above ``*_alert`` an alert."""

    psi_warn: float = Field(default=0.1, gt=0, le=10)
    psi_alert: float = Field(default=0.25, gt=0, le=10)
    csi_warn: float = Field(default=0.1, gt=0, le=10)
    csi_alert: float = Field(default=0.25, gt=0, le=10)

    @model_validator(mode="after")
    def _ordered(self):
        for kind in ("psi", "csi"):
            warn, alert = getattr(self, f"{kind}_warn"), getattr(self, f"{kind}_alert")
            if warn >= alert:
                raise ValueError(f"{kind}_warn ({warn:g}) must be below {kind}_alert ({alert:g})")
        return self


class RulesSpec(_Strict):
    """Where the business rules (cut-offs, policy rules, loan limits per band) come from.

    ``path`` is a rules file (``business_rules/rules.schema.json``), relative to the project
    root; null: no business rules, so the report, the calculator and the service give scores
    and reason codes only. The rules are checked against these parameters when the pipeline
    starts and against the card when the service starts (:func:`scorecard.card.rules.check_fit`):
    rules written for other data are refused, never applied silently.
    """

    path: str | None = Field(default=None, min_length=1)


#: Sections that say what happens to a card once it is built (promote it? does it drift? which
#: business rules decide on its scores? what are the data called?), not how it is built: they are left out of
#: :meth:`Params.digest`, so changing them does not give the same card a new model_version.
NOT_IN_DIGEST = frozenset({"promotion", "monitoring", "dataset", "rules"})

#: Keys added after cards were first built, with the value that means the behaviour from before
#: they existed: at that value they are left out of :meth:`Params.digest`, so that an unchanged
#: params.yaml keeps its cards' model_version. Any other value is part of the digest.
DIGEST_OMITTED_AT: dict[tuple[str, ...], Any] = {
    ("split", "method"): "time",
    ("split", "test_share"): None,
    ("split", "seed"): None,
    ("data", "target", "rule"): None,
    ("environment", "sources", "*", "join_key"): None,   # "*": every source
    # A source added to params.yaml later, disabled: it joins nothing, so it leaves the digest
    # (``disabled`` matches any source whose ``enabled`` is false).
    ("environment", "sources", "mx_marginalization_2020"): "disabled",
}

#: Keys that only say what the report shows, never how the card is built: always left out of
#: :meth:`Params.digest`, so declaring another segmentation keeps the card's model_version.
REPORT_ONLY: frozenset[tuple[str, ...]] = frozenset({("evaluate", "segments")})


class Params(_Strict):
    dataset: DatasetSpec = DatasetSpec()
    data: DataSpec
    environment: EnvironmentSpec
    features: FeaturesSpec
    split: SplitSpec
    binning: BinningSpec = BinningSpec()
    model: ModelSpec = ModelSpec()
    evaluate: EvaluateSpec = EvaluateSpec()
    explain: ExplainSpec = ExplainSpec()
    promotion: PromotionSpec = PromotionSpec()
    monitoring: MonitoringSpec = MonitoringSpec()
    # No rules block: no business rules (params.yaml names the project's rules explicitly).
    rules: RulesSpec = RulesSpec()

    @model_validator(mode="after")
    def _consistent(self):
        data, feats = self.data, self.features
        for name in (data.date_column, data.state_column, data.target.column):
            if name is not None and name not in data.columns:
                raise ValueError(f"data.columns must declare '{name}' (used as a key column)")
        if data.date_column is not None and data.columns[data.date_column].type != "date":
            raise ValueError(f"data.columns.{data.date_column} must have type 'date'")
        if data.target.rule is not None and data.columns[data.target.column].type != "numeric":
            raise ValueError(
                f"data.target.rule compares numbers: data.columns.{data.target.column} (data.target.column) must "
                f"have type 'numeric' (got '{data.columns[data.target.column].type}'); or give label lists "
                "data.target.bad and data.target.good instead")
        if data.date_column is None and self.split.method == "time":
            raise ValueError(
                "split.method 'time' splits on the application date, but data.date_column is null: set "
                "data.date_column to the file's date column, or set split.method to random or stratified "
                "(with split.test_share and split.seed)")
        self._environment_keys()
        env_cols = [c for s in self.environment.enabled_sources().values() for c in s.output_columns()]
        available = set(data.columns) | set(feats.derived) | set(env_cols)
        for name, spec in feats.derived.items():
            unknown = [c for c in spec.inputs if c not in available]
            if unknown:
                raise ValueError(f"features.derived.{name}.inputs: unknown columns {unknown}")
        unknown = [f for f in feats.model_features if f not in available]
        if unknown:
            raise ValueError(
                f"features.model_features: {unknown} are neither declared in data.columns, "
                "derived, nor produced by an enabled environment source"
            )
        text = [f for f in feats.model_features if f in data.columns and data.columns[f].type == "text"]
        if text:
            raise ValueError(f"features.model_features: {text} are free text (type 'text'): offer a feature "
                             "derived from them (e.g. kind 'keyword_group') instead")
        forbidden = {data.target.column} | ({data.date_column} if data.date_column else set())
        if data.id_column:
            forbidden.add(data.id_column)
        if forbidden & set(feats.model_features):
            raise ValueError(
                f"features.model_features must not contain key columns {sorted(forbidden)}"
            )
        inputs = [c for spec in feats.derived.values() for c in spec.inputs if spec.kind != "months_between"]
        leaking = feats.leaking(feats.model_features + inputs)
        if leaking:
            raise ValueError(
                f"features: {leaking} match a forbidden pattern (features.forbidden): fields known "
                "only after the loan was granted, or another lender's grade, must not reach the model"
            )
        stray = [c for c in feats.categorical if c not in feats.model_features]
        if stray:
            raise ValueError(f"features.categorical: {stray} are not in features.model_features")
        for section in ("monotonic_trend_by_feature", "special_codes"):
            stray = [c for c in getattr(self.binning, section) if c not in feats.model_features]
            if stray:
                raise ValueError(f"binning.{section}: {stray} are not in features.model_features")
        unknown = [f for f in self.dataset.protected_fields if f not in data.columns]
        if unknown:
            raise ValueError(f"dataset.protected_fields: {unknown} are not declared in data.columns")
        missing = [f for f in feats.model_features if f not in self.explain.reason_texts]
        if missing:
            raise ValueError(f"explain.reason_texts: no reason text for {missing}")
        self._segments_consistent(available)
        return self

    def _environment_keys(self):
        """Each enabled source has a join key, a declared applicant column, and the application
        date when it aligns by one."""
        data, environment = self.data, self.environment
        enabled = environment.enabled_sources()
        keyless = sorted(name for name in enabled if environment.key_of(name) is None)
        if keyless:
            raise ValueError(
                f"environment.join_key is null but environment.sources {keyless} are enabled and name no "
                "join_key of their own: set environment.join_key (or environment.sources.<name>.join_key) to "
                "the applicant file's key column, or disable the sources (enabled: false)")
        for name, spec in enabled.items():
            where = (f"environment.sources.{name}.join_key" if spec.join_key is not None
                     else "environment.join_key")
            key = environment.key_of(name)
            if key not in data.columns:
                raise ValueError(f"{where}: '{key}' (the applicant column source '{name}' joins on) is not "
                                 "declared in data.columns")
            kind = data.columns[key].type
            # Keys compared as text must be read as text: a number loses a postal code's leading zero.
            if kind == "date" or (kind == "numeric" and spec.key_names is None):
                raise ValueError(
                    f"{where}: data.columns.{key} has type '{kind}', but source '{name}' compares its keys as "
                    "text (key_names: null): declare the column type 'category' so that '01000' stays '01000'")
        # Two sources adding one column would overwrite each other (or an applicant column) silently.
        seen = {column: "data.columns" for column in data.columns}
        for name, spec in enabled.items():
            for column in spec.output_columns():
                if column in seen:
                    raise ValueError(f"environment.sources.{name}: column '{column}' is also given by {seen[column]}: "
                                     "rename it in value_name / value_columns, or disable one of the sources")
                seen[column] = f"environment.sources.{name}"
        dated = sorted(name for name, spec in enabled.items() if spec.dated)
        if dated and data.date_column is None:
            raise ValueError(f"environment.sources {dated} align by the application date, but "
                             "data.date_column is null: set data.date_column, disable the sources (enabled: false), "
                             "or use sources with align: none")

    def _segments_consistent(self, available: set[str]) -> None:
        """``evaluate.segments``: each column an applicant field or a model feature, numeric
        ones with increasing ``edges``, category ones without, every name used once."""
        data, feats = self.data, self.features
        keys = {data.target.column, data.date_column, data.id_column} - {None}
        names: dict[str, int] = {}
        for i, spec in enumerate(self.evaluate.segments):
            where = f"evaluate.segments[{i}]"
            column = spec.column
            if column in keys:
                raise ValueError(f"{where}.column: '{column}' is a key column (target, application date or id), "
                                 "not a segment: give an applicant field or a model feature")
            if column in data.columns:
                kind = data.columns[column].type
            elif column in feats.model_features and column in available:
                kind = "category" if column in feats.categorical else "numeric"
            else:
                raise ValueError(f"{where}.column: '{column}' is neither declared in data.columns nor a model "
                                 "feature (features.model_features)")
            if kind not in ("category", "numeric"):
                raise ValueError(f"{where}.column: '{column}' has type '{kind}' (data.columns.{column}); a segment "
                                 "is a category or a numeric field")
            if kind == "numeric":
                edges = spec.edges
                if not edges:
                    raise ValueError(f"{where}.edges: '{column}' is numeric: give the band edges, increasing "
                                     "numbers (e.g. edges: [25000, 50000, 100000])")
                if not all(math.isfinite(e) for e in edges) or any(a >= b for a, b in zip(edges, edges[1:])):
                    raise ValueError(f"{where}.edges: expected finite, strictly increasing numbers, got "
                                     f"{edges}")
            elif spec.edges is not None:
                raise ValueError(f"{where}.edges: '{column}' is a category field, taken value by value: remove "
                                 "edges (they band a numeric field)")
            if spec.name in names:
                raise ValueError(f"{where}: the name '{spec.name}' is already used by evaluate.segments"
                                 f"[{names[spec.name]}]: give one of them a label")
            names[spec.name] = i

    # -- helpers used across stages -------------------------------------------------
    def numeric_features(self) -> list[str]:
        return [f for f in self.features.model_features if f not in self.features.categorical]

    def unit(self, column: str) -> str | None:
        """The unit a reader sees ``column`` in: the dataset's currency for ``unit: currency``."""
        spec = self.data.columns.get(column)
        if spec is None or spec.unit is None:
            return None
        return (self.dataset.currency or "currency units") if spec.unit == "currency" else spec.unit

    def description(self, feature: str) -> str:
        if feature in self.data.columns:
            return self.data.columns[feature].description
        if feature in self.features.derived:
            return self.features.derived[feature].description
        for source in self.environment.enabled_sources().values():
            if feature in source.output_columns():
                return source.description
        return ""

    def digest(self) -> str:
        """sha256 of the parameters in canonical JSON (part of the model version); the
        sections in :data:`NOT_IN_DIGEST` are left out."""
        dumped = self.model_dump(mode="json", exclude=set(NOT_IN_DIGEST))
        for source in dumped["environment"]["sources"].values():
            source.pop("citation")      # provenance only: the same data, the same card
            if source["join_key"] == dumped["environment"]["join_key"]:
                source["join_key"] = None   # naming the default key is the same join
        for column in dumped["data"]["columns"].values():
            column.pop("unit")          # how values are shown, not what is fitted
        for path, unchanged in DIGEST_OMITTED_AT.items():
            *parents, leaf = path
            nodes = [dumped]
            for part in parents:
                nodes = [n for node in nodes for n in (node.values() if part == "*" else [node[part]])]
            for node in nodes:
                if leaf in node and (node[leaf] == unchanged or (
                        unchanged == "disabled" and isinstance(node[leaf], dict) and node[leaf].get("enabled") is False)):
                    del node[leaf]
        for *parents, leaf in REPORT_ONLY:
            node = dumped
            for part in parents:
                node = node[part]
            node.pop(leaf, None)
        text = json.dumps(dumped, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def _format_errors(error: ValidationError, source: str) -> str:
    lines = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        if item["type"] == "extra_forbidden":
            lines.append(f"{source}: {where}: unknown key (check the spelling; see params.yaml)")
            continue
        message = item["msg"].removeprefix("Value error, ")
        value = item.get("input")
        shown = "" if isinstance(value, dict) else f" (got {value!r})"
        lines.append(f"{source}: {where}: {message}{shown}")
    return "invalid parameters\n  " + "\n  ".join(lines)


def parse_params(raw: dict[str, Any], source: str = "params") -> Params:
    """Check a parameters mapping and return the typed :class:`Params`."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping of sections, got {type(raw).__name__}")
    try:
        return Params.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(_format_errors(error, source)) from None


def load_params(path: str | Path = "params.yaml", overrides: dict[str, Any] | None = None) -> Params:
    """Read ``params.yaml``, apply dotted-key ``overrides`` and check everything.

    Examples
    --------
    >>> params = load_params("params.yaml", {"binning.min_bin_size": 0.03})  # doctest: +SKIP
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"parameters file not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from None
    for dotted, value in (overrides or {}).items():
        node = raw
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return parse_params(raw, source=path.name)
