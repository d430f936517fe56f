"""Optimal WoE binning (optbinning) with monotonic trends, special and missing bins,
manual overrides kept in git, and IV-based variable selection."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from scorecard.config import Params
from scorecard.build.data import TARGET, resolve
from scorecard.errors import ConfigError

_OVERRIDE_KEYS = {"user_splits", "fixed", "monotonic_trend", "min_bin_size", "reason"}


def load_overrides(path: str | Path | None, params: Params) -> dict[str, dict]:
    """Read the manual bin overrides file and check it.

    Each entry names a feature and gives ``user_splits`` (numbers for a numeric feature, lists
    of categories for a categorical one), ``fixed`` (keep every split as given), an optional
    ``monotonic_trend``, an optional ``min_bin_size`` (this feature's smallest bin, a share of
    the sample in (0, 0.5], instead of ``binning.min_bin_size``) and a ``reason`` (required: an
    override without a reason is not auditable).
    """
    if path is None:
        return {}
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"binning overrides file not found: {path}")
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of feature -> override")
    for feature, override in raw.items():
        where = f"{path.name}: {feature}"
        if feature not in params.features.model_features:
            raise ConfigError(f"{where}: not a model feature (expected one of features.model_features)")
        if not isinstance(override, dict):
            raise ConfigError(f"{where}: expected a mapping with keys {sorted(_OVERRIDE_KEYS)}")
        unknown = set(override) - _OVERRIDE_KEYS
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {sorted(unknown)}; expected {sorted(_OVERRIDE_KEYS)}")
        if not str(override.get("reason", "")).strip():
            raise ConfigError(f"{where}.reason: expected a text saying why the bins are overridden")
        size = override.get("min_bin_size")
        if size is not None and (isinstance(size, bool) or not isinstance(size, (int, float)) or not 0 < size <= 0.5):
            raise ConfigError(f"{where}.min_bin_size: expected a share of the sample in (0, 0.5], got {size!r}")
        splits = override.get("user_splits")
        if splits is not None:
            categorical = feature in params.features.categorical
            if categorical and not all(isinstance(s, list) for s in splits):
                raise ConfigError(f"{where}.user_splits: expected lists of categories for a categorical feature")
            if not categorical:
                if not all(isinstance(s, (int, float)) for s in splits):
                    raise ConfigError(f"{where}.user_splits: expected numbers, got {splits}")
                if list(splits) != sorted(set(splits)):
                    raise ConfigError(f"{where}.user_splits: expected strictly increasing numbers, got {splits}")
    return raw


def _fit_params(feature: str, params: Params, overrides: dict[str, dict]) -> dict:
    b = params.binning
    fit = {}
    if feature not in params.features.categorical:
        fit["monotonic_trend"] = b.monotonic_trend_by_feature.get(feature, b.monotonic_trend)
    if feature in b.special_codes:
        fit["special_codes"] = list(b.special_codes[feature])
    override = overrides.get(feature, {})
    if "monotonic_trend" in override:
        fit["monotonic_trend"] = override["monotonic_trend"]
    if override.get("min_bin_size") is not None:   # prebins no larger than the bins they form
        fit["min_bin_size"] = fit["min_prebin_size"] = float(override["min_bin_size"])
    if override.get("user_splits") is not None:
        splits = override["user_splits"]
        fit["user_splits"] = [np.array(s, dtype=object) for s in splits] if feature in params.features.categorical else list(map(float, splits))
        if override.get("fixed", False):
            fit["user_splits_fixed"] = [True] * len(splits)
    return fit


@dataclass
class Binning:
    """The fitted binning of every candidate feature and the IV selection."""

    process: object
    features: list[str]
    categorical: list[str]
    special_codes: dict[str, list[float]]
    overrides: dict[str, dict]
    min_iv: float
    min_missing_count: int = 0
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    def __post_init__(self):
        for feature in self.features:
            self.tables[feature] = self.optimal(feature).binning_table.build()

    def neutral_bins(self, feature: str) -> set[str]:
        """The kinds ('special', 'missing') of this feature's bins that hold fewer than
        ``min_missing_count`` training applicants: they get WoE 0 (neutral points)."""
        rows = self.tables[feature].drop(index="Totals")
        counts = {"special": int(rows.iloc[-2]["Count"]), "missing": int(rows.iloc[-1]["Count"])}
        return {kind for kind, count in counts.items() if count < self.min_missing_count}

    def optimal(self, feature: str):
        return self.process.get_binned_variable(feature)

    def iv(self, feature: str) -> float:
        return float(self.tables[feature].loc["Totals", "IV"])

    def iv_table(self) -> pd.DataFrame:
        """IV per feature, with the selection decision and the reason."""
        rows = []
        for feature in self.features:
            iv = self.iv(feature)
            optb = self.optimal(feature)
            rows.append({
                "feature": feature,
                "type": "categorical" if feature in self.categorical else "numeric",
                "iv": round(iv, 6),
                "bins": sum(1 for b in self.bins(feature) if b["kind"] in ("range", "categories")),
                "trend": getattr(optb, "monotonic_trend", None) or "",
                "override": "yes" if feature in self.overrides else "",
                "selected": iv >= self.min_iv,
                "reason": "IV ≥ min_iv" if iv >= self.min_iv else f"IV below min_iv {self.min_iv}",
            })
        return pd.DataFrame(rows).sort_values("iv", ascending=False, kind="stable").reset_index(drop=True)

    @property
    def selected(self) -> list[str]:
        return [f for f in self.features if self.iv(f) >= self.min_iv]

    def transform(self, frame: pd.DataFrame, metric: str = "woe", features: list[str] | None = None) -> pd.DataFrame:
        """WoE (or bin ``indices``) of each feature, through optbinning itself."""
        features = features or self.features
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = pd.DataFrame(
                {f: self.optimal(f).transform(frame[f].to_numpy(), metric=metric, metric_special="empirical",
                                              metric_missing="empirical") for f in features},
                index=frame.index,
            )
        if metric == "woe":
            for f in features:
                neutral = self.neutral_bins(f)
                if "missing" in neutral:
                    out.loc[frame[f].isna().to_numpy(), f] = 0.0
                if "special" in neutral and f in self.special_codes:
                    out.loc[frame[f].isin(self.special_codes[f]).to_numpy(), f] = 0.0
        return out

    def bins(self, feature: str) -> list[dict]:
        """The bins of one feature in the card's form: edges or categories, then the special
        bin (when special codes are declared) and the missing bin, with their statistics."""
        optb = self.optimal(feature)
        table = self.tables[feature].drop(index="Totals")
        categorical = feature in self.categorical
        regular = []
        if categorical:
            for group in optb.splits:
                regular.append({"kind": "categories", "categories": sorted(str(c) for c in group)})
        else:
            edges = [None, *map(float, optb.splits), None]
            for lower, upper in zip(edges[:-1], edges[1:]):
                regular.append({"kind": "range", "lower": lower, "upper": upper,
                                "lower_inclusive": lower is not None, "upper_inclusive": False})
        # A categorical feature with no split has one bin holding every category seen.
        if categorical and not regular:
            regular.append({"kind": "categories", "categories": sorted(map(str, optb.categories))})
        rows = list(table.itertuples(index=False))
        special_row, missing_row = rows[-2], rows[-1]
        neutral = self.neutral_bins(feature)
        out = []
        for i, (spec, row) in enumerate(zip(regular, rows[:-2])):
            out.append({"id": i, **spec, **_stats(row)})
        if feature in self.special_codes:
            out.append({"id": len(out), "kind": "special", "values": list(self.special_codes[feature]),
                        **_stats(special_row, "special" in neutral)})
        out.append({"id": len(out), "kind": "missing", **_stats(missing_row, "missing" in neutral)})
        return out


def _stats(row, neutral: bool = False) -> dict:
    """A bin's statistics; a ``neutral`` bin (too few applicants to trust) has WoE and IV 0."""
    count, bad = int(row.Count), int(row.Event)
    return {
        "count": count,
        "count_bad": bad,
        "event_rate": round(bad / count, 6) if count else None,
        "woe": 0.0 if neutral else float(row.WoE),  # unrounded: points are computed from it
        "iv": 0.0 if neutral else round(float(row.IV), 8),
    }


def fit(train: pd.DataFrame, params: Params, root: str | Path = ".") -> Binning:
    """Fit optbinning's ``BinningProcess`` on the training sample with the parameters' rules."""
    from optbinning import BinningProcess

    b = params.binning
    overrides = load_overrides(resolve(b.overrides_path, root) if b.overrides_path else None, params)
    features = list(params.features.model_features)
    categorical = [f for f in features if f in params.features.categorical]
    process = BinningProcess(
        variable_names=features,
        categorical_variables=categorical,
        max_n_prebins=b.max_n_prebins,
        min_prebin_size=b.min_prebin_size or b.min_bin_size,
        min_bin_size=b.min_bin_size,
        max_n_bins=b.max_n_bins,
        binning_fit_params={f: _fit_params(f, params, overrides) for f in features},
    )
    frame = train[features].copy()
    for feature in categorical:
        frame[feature] = frame[feature].astype(object)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        process.fit(frame, train[TARGET].to_numpy())
    _check_fixed_overrides(process, overrides)
    return Binning(process, features, categorical, dict(b.special_codes), overrides, b.min_iv,
                   b.min_missing_count)


def _check_fixed_overrides(process, overrides: dict[str, dict]) -> None:
    """Stop when a fixed override was not applied. optbinning gives no error when fixed splits
    break the feature's monotonic trend on this sample: it returns a single bin, and the feature
    would silently leave the card."""
    for feature, override in overrides.items():
        splits = override.get("user_splits")
        if not splits or not override.get("fixed", False):
            continue
        optb = process.get_binned_variable(feature)
        if len(optb.splits) != len(splits):
            raise ConfigError(
                f"binning override {feature}: the fixed splits {splits} could not be applied on this sample "
                f"(optbinning status {getattr(optb, 'status', '?')}, {len(optb.splits)} splits kept): they "
                f"break the monotonic trend '{getattr(optb, 'monotonic_trend', '')}'. Set fixed: false (the "
                "optimizer then merges the bins that break it) or change the trend or the splits.")


BINS_FILE = "bins.json"
WOE_FILES = {"train": "woe_train.parquet", "test": "woe_test.parquet"}


def run(params: Params, root: str | Path = ".", processed_dir: str | Path = "data/processed") -> Binning:
    """The binning stage: fit on train, write the bins of every candidate feature
    (``bins.json``) and the WoE of the selected features for train and test."""
    from scorecard.build.data import ID
    from scorecard.build.etl import load_processed

    out = Path(processed_dir)
    train, test = load_processed(out)
    binning = fit(train, params, root)
    selected = binning.selected
    iv = binning.iv_table().set_index("feature")
    document = {
        "min_iv": params.binning.min_iv,
        "selected": selected,
        "features": {
            f: {
                "type": "categorical" if f in binning.categorical else "numeric",
                "iv": float(iv.loc[f, "iv"]),
                "selected": f in selected,
                "override": binning.overrides.get(f),
                "bins": binning.bins(f),
            }
            for f in binning.features
        },
    }
    (out / BINS_FILE).write_text(json.dumps(document, indent=2) + "\n")
    for sample, frame in (("train", train), ("test", test)):
        woe = binning.transform(frame, "woe", selected)
        woe.insert(0, TARGET, frame[TARGET].to_numpy())
        woe.insert(0, ID, frame[ID].to_numpy())
        woe.to_parquet(out / WOE_FILES[sample], index=False)
    return binning


def load_bins(processed_dir: str | Path = "data/processed") -> dict:
    return json.loads((Path(processed_dir) / BINS_FILE).read_text())


def _split_text(splits, categorical: bool) -> str:
    """Split points as text: numbers for a numeric feature, category groups for a categorical one."""
    if categorical:
        return " | ".join("{" + ", ".join(sorted(map(str, group))) + "}" for group in splits)
    return ", ".join(f"{float(s):g}" for s in splits) or "(none: one bin)"


def fit_feature(train: pd.DataFrame, feature: str, params: Params, overrides: dict[str, dict] | None = None):
    """Fit optbinning's ``OptimalBinning`` for one feature with the settings :func:`fit` uses.

    Parameters
    ----------
    train : DataFrame
        The training sample (the feature and the target).
    feature : str
        A model feature.
    params : Params
        Binning settings (``params.binning``) and the categorical list.
    overrides : dict, optional
        Manual overrides (:func:`load_overrides`); ``None`` or ``{}`` fits the optimizer's own bins.

    Returns
    -------
    optbinning.OptimalBinning
        Fitted; its ``binning_table`` is built.
    """
    from optbinning import OptimalBinning

    b = params.binning
    categorical = feature in params.features.categorical
    settings = dict(max_n_prebins=b.max_n_prebins, min_prebin_size=b.min_prebin_size or b.min_bin_size,
                    min_bin_size=b.min_bin_size, max_n_bins=b.max_n_bins)
    settings.update(_fit_params(feature, params, overrides or {}))   # as BinningProcess: per feature last
    optb = OptimalBinning(name=feature, dtype="categorical" if categorical else "numerical", **settings)
    values = train[feature].astype(object) if categorical else train[feature]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optb.fit(values.to_numpy(), train[TARGET].to_numpy())
        optb.binning_table.build()
    return optb


def override_effects(binning: Binning, train: pd.DataFrame, params: Params) -> pd.DataFrame:
    """What each manual override changed: the bins and IV with it against the optimizer's own.

    For every feature in ``binning.overrides`` the feature is refitted without its override
    (same data, same settings) and compared with the fitted (overridden) binning.

    Parameters
    ----------
    binning : Binning
        The fitted binning (with the overrides in effect).
    train : DataFrame
        The training sample it was fitted on.
    params : Params
        The parameters it was fitted with.

    Returns
    -------
    DataFrame
        One row per override: ``feature, settings`` (what the override sets), ``reason``,
        ``splits_with_override``, ``splits_without``, ``bins_with``, ``bins_without``,
        ``iv_with``, ``iv_without``, ``selected`` (whether the feature is selected with the
        override) and ``status`` (optbinning's status with the override: ``INFEASIBLE`` means
        the override's bins break a constraint, e.g. a bin under ``min_bin_size``, and the
        feature got no split). Empty (with these columns) when there is no override.
    """
    columns = ["feature", "settings", "reason", "splits_with_override", "splits_without",
               "bins_with", "bins_without", "iv_with", "iv_without", "selected", "status"]
    rows = []
    for feature, override in binning.overrides.items():
        categorical = feature in binning.categorical
        own = fit_feature(train, feature, params)
        used = binning.optimal(feature)
        settings = "; ".join(f"{k}: {v}" for k, v in override.items() if k != "reason")
        rows.append({
            "feature": feature,
            "settings": settings,
            "reason": " ".join(str(override.get("reason", "")).split()),
            "splits_with_override": _split_text(used.splits, categorical),
            "splits_without": _split_text(own.splits, categorical),
            "bins_with": len(used.splits) + 1,
            "bins_without": len(own.splits) + 1,
            "iv_with": round(binning.iv(feature), 6),
            "iv_without": round(float(own.binning_table.build().loc["Totals", "IV"]), 6),
            "selected": binning.iv(feature) >= binning.min_iv,
            "status": str(used.status),
        })
    return pd.DataFrame(rows, columns=columns)
