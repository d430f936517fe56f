"""Discrimination, calibration and stability of the card on train and out-of-time test."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from scorecard.build.data import ID, TARGET
from scorecard.card import Card
from scorecard.config import Params
from scorecard.watch.drift import band_counts, bin_counts, psi, score_bands

# scikit-learn and scorecard.build.model (statsmodels) are imported where they are used.

METRICS_FILE = "metrics.json"
PLOTS_DIR = "reports/plots"
STABILITY_BY_MONTH_FILE = "stability_by_month.csv"
_DIGITS = 6


def ks_statistic(y: np.ndarray, score: np.ndarray) -> float:
    """Largest gap between the cumulative score distributions of bads and goods."""
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(y, -score)
    return float(np.max(tpr - fpr))


def discrimination(y: np.ndarray, score: np.ndarray, probability: np.ndarray) -> dict:
    from sklearn.metrics import brier_score_loss, roc_auc_score

    auc = roc_auc_score(y, -score)  # a higher score means a lower risk
    return {
        "rows": int(len(y)),
        "bad_rate": round(float(np.mean(y)), _DIGITS),
        "auc": round(float(auc), _DIGITS),
        "gini": round(float(2 * auc - 1), _DIGITS),
        "ks": round(ks_statistic(y, score), _DIGITS),
        "brier": round(float(brier_score_loss(y, probability)), _DIGITS),
    }


def gains_table(y: pd.Series, score: pd.Series, width: int, low: int, high: int) -> pd.DataFrame:
    """Per score band, worst band first: count, bads, bad rate, cumulative share of bads
    captured and of applicants declined if the cut-off were above the band."""
    bands = score_bands(score, width, low, high)
    table = pd.DataFrame({"band": bands, "bad": y}).groupby("band", observed=False)["bad"].agg(["size", "sum"])
    table.columns = ["count", "bads"]
    table = table[table["count"] > 0].reset_index()
    table["band"] = table["band"].astype(str)
    table["bad_rate"] = (table["bads"] / table["count"]).round(_DIGITS)
    table["cum_share_applicants"] = (table["count"].cumsum() / table["count"].sum()).round(_DIGITS)
    table["cum_capture_bads"] = (table["bads"].cumsum() / max(table["bads"].sum(), 1)).round(_DIGITS)
    table["cum_bad_rate"] = (table["bads"].cumsum() / table["count"].cumsum()).round(_DIGITS)
    return table


def calibration_table(y: np.ndarray, probability: np.ndarray, n_bins: int) -> pd.DataFrame:
    """Predicted and observed bad rate by quantile of predicted probability."""
    frame = pd.DataFrame({"y": y, "p": probability})
    frame["bin"] = pd.qcut(frame["p"].rank(method="first"), n_bins, labels=False) + 1
    table = frame.groupby("bin").agg(count=("y", "size"), predicted=("p", "mean"), observed=("y", "mean"))
    return table.round(_DIGITS).reset_index()


def stability(card: Card, train: pd.DataFrame, test: pd.DataFrame, width: int,
              scores: dict[str, pd.Series] | None = None) -> tuple[float, pd.DataFrame]:
    """PSI of the score (over score bands) and CSI of each feature (over the card's bins)."""
    low, high = card.document["score_range"]["min"], card.document["score_range"]["max"]
    scores = scores or {"train": card.score(train), "test": card.score(test)}
    score_psi = psi(band_counts(scores["train"], width, low, high), band_counts(scores["test"], width, low, high))
    expected = bin_counts(card, card.bin_ids(train)[0])
    actual = bin_counts(card, card.bin_ids(test)[0])
    rows = [{"feature": name, "csi": round(psi(expected[name], actual[name]), _DIGITS)} for name in card.feature_names]
    return round(score_psi, _DIGITS), pd.DataFrame(rows)


def roc_points(y: np.ndarray, score: np.ndarray, sample: str) -> pd.DataFrame:
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(y, -score, drop_intermediate=True)
    return pd.DataFrame({"sample": sample, "fpr": fpr.round(_DIGITS), "tpr": tpr.round(_DIGITS)})


def ks_points(y: np.ndarray, score: np.ndarray, sample: str) -> pd.DataFrame:
    """Cumulative share of bads and goods at or below each score."""
    frame = pd.DataFrame({"score": score, "y": y}).groupby("score")["y"].agg(["sum", "size"])
    bads = frame["sum"].cumsum() / frame["sum"].sum()
    goods = (frame["size"] - frame["sum"]).cumsum() / (frame["size"] - frame["sum"]).sum()
    return pd.DataFrame({"sample": sample, "score": frame.index.astype(int), "cum_bads": bads.round(_DIGITS).to_numpy(),
                         "cum_goods": goods.round(_DIGITS).to_numpy()})


def evaluate(card: Card, train: pd.DataFrame, test: pd.DataFrame, params: Params) -> dict:
    """Every metric and table of the evaluate stage, as plain data."""
    from scorecard.build.model import Scaling

    scaling = Scaling(params.model.pdo, params.model.base_score, params.model.base_odds)
    low, high = card.document["score_range"]["min"], card.document["score_range"]["max"]
    out = {"metrics": {}, "gains": {}, "calibration": {}, "roc": [], "ks": []}
    scores = {}
    for sample, frame in (("train", train), ("test", test)):
        y = frame[TARGET].to_numpy()
        score = scores[sample] = card.score(frame)
        probability = scaling.score_to_probability(score)
        out["metrics"][sample] = discrimination(y, score.to_numpy(), probability)
        out["gains"][sample] = gains_table(frame[TARGET], score, params.evaluate.band_width, low, high)
        calibration = calibration_table(y, probability, params.evaluate.n_calibration_bins)
        calibration.insert(0, "sample", sample)
        out["calibration"][sample] = calibration
        out["roc"].append(roc_points(y, score.to_numpy(), sample))
        out["ks"].append(ks_points(y, score.to_numpy(), sample))
    score_psi, csi = stability(card, train, test, params.evaluate.band_width, scores)
    out["psi_score"], out["csi"] = score_psi, csi
    return out


def metrics_document(result: dict, card: Card, by_month_absent: str | None = None) -> dict:
    """The content of ``metrics.json`` (what ``dvc metrics show`` reads): every float at the
    card's precision (:func:`scorecard.card.round_floats`; the metrics are also rounded to six
    decimals where they are computed).

    ``by_month_absent``, when given (:func:`by_month_absent`), is written as
    ``stability.by_month``, ``"absent: <the reason>"``: why there is no month-by-month
    stability. Without it the document has no such key."""
    from scorecard.card import round_floats

    stability = {"psi_score": result["psi_score"],
                 "csi_max": float(result["csi"]["csi"].max()),
                 "csi": dict(zip(result["csi"]["feature"], result["csi"]["csi"]))}
    if by_month_absent is not None:
        stability["by_month"] = f"absent: {by_month_absent}"
    return round_floats({
        "model_version": card.version,
        "train": result["metrics"]["train"],
        "test": result["metrics"]["test"],
        "stability": stability,
    })


def metrics_split(params: Params) -> dict:
    """The split the metrics were measured on, as ``metrics.json`` records it: numbers and text
    only, since ``dvc metrics show`` drops lists and nulls. A time split gives its method, date
    column and windows as ``"start..end"``; a random or stratified one its method, test share
    and seed.

    >>> from scorecard.config import load_params
    >>> metrics_split(load_params("params.yaml"))["train_window"]
    '2007-01-01..2010-12-31'
    """
    from scorecard.build.etl import split_summary

    record = split_summary(params)
    flat = {k: "..".join(v) if isinstance(v, list) else v for k, v in record.items()}
    return {k: v for k, v in flat.items() if v is not None}


def run(params: Params, card: Card, processed_dir: str | Path = "data/processed",
        metrics_path: str | Path = METRICS_FILE, plots_dir: str | Path = PLOTS_DIR,
        root: str | Path = ".", applicants_path: str | Path | None = None) -> dict:
    """The evaluate stage: writes ``metrics.json``, the plot data for ``dvc plots``,
    ``stability_by_month.csv`` and ``performance_by_segment.csv``.

    ``stability_by_month.csv`` is :func:`scorecard.watch.monitor.stability_by_month` of the test
    sample on ``data.date_column``; with no application date (``data.date_column`` null) it
    holds its header only, ``metrics.json`` says why under ``stability.by_month`` (``"absent:
    <reason>"``) and the result's ``"stability_by_month_absent"`` is the reason (else None).

    ``performance_by_segment.csv`` is :func:`performance_by_segment` of the test sample for
    each segmentation of ``evaluate.segments`` (:func:`segments_of`; its header only when none
    is declared). A segment column that the processed sample does not carry is read from the
    applicant file: the one ``params`` declare under ``root``, or ``applicants_path``.
    """
    from scorecard.build.etl import load_processed

    train, test = load_processed(processed_dir)
    result = evaluate(card, train, test, params)
    absent = by_month_absent(params)
    document = {**metrics_document(result, card, absent), "split": metrics_split(params)}
    Path(metrics_path).write_text(json.dumps(document, indent=2) + "\n")
    plots = Path(plots_dir)
    plots.mkdir(parents=True, exist_ok=True)
    pd.concat(result["roc"]).to_csv(plots / "roc.csv", index=False)
    pd.concat(result["ks"]).to_csv(plots / "ks.csv", index=False)
    pd.concat(result["calibration"].values()).to_csv(plots / "calibration.csv", index=False)
    gains = pd.concat([g.assign(sample=s) for s, g in result["gains"].items()])
    gains.to_csv(plots / "gains.csv", index=False)
    # Score PSI and feature CSI of each month of the test window against the training sample,
    # with the monitoring thresholds' status (what `scorecard monitor --by-month` reports).
    from scorecard.watch import monitor

    width = params.evaluate.band_width
    if absent is None:
        by_month = monitor.stability_by_month(card, monitor.distribution(card, train, width), test,
                                              params.data.date_column, params.monitoring, width)
    else:
        by_month = pd.DataFrame(columns=monitor.BY_MONTH_COLUMNS)
    by_month.to_csv(plots / STABILITY_BY_MONTH_FILE, index=False)
    result["stability_by_month"] = by_month
    result["stability_by_month_absent"] = absent

    specs = params.evaluate.segments
    needed = [s.column for s in specs if s.column not in test.columns]
    applicants = None
    if needed:
        from scorecard.build.data import load_applicants

        applicants = load_applicants(params, root=root, path=applicants_path)[[ID, *dict.fromkeys(needed)]]
    segments = performance_by_segment(test[TARGET], card.score(test), segments_of(test, applicants, specs))
    segments.to_csv(plots / SEGMENTS_FILE, index=False)
    result["performance_by_segment"] = segments
    return result


def by_month_absent(params: Params) -> str | None:
    """Why the evaluate stage has no month-by-month stability, or None when it has one.

    Returns
    -------
    str or None
        :data:`scorecard.watch.monitor.NO_DATE_REASON` (``"data.date_column is null ..."``) when the
        applicant file has no application date; None otherwise.
    """
    from scorecard.watch.monitor import NO_DATE_REASON

    return None if params.data.date_column is not None else NO_DATE_REASON


# -- performance by segment ----------------------------------------------------------------------
SEGMENTS_FILE = "performance_by_segment.csv"
SEGMENT_COLUMNS = ["segment", "value", "rows", "share", "bads", "bad_rate", "mean_score", "auc", "gini", "ks",
                   "reliable"]
#: Upper edges (USD) of the declared annual income bands of LendingClub's params.yaml (the
#: ``income band`` segmentation of ``evaluate.segments``); the last band is open.
INCOME_EDGES = (25_000, 50_000, 75_000, 100_000, 150_000)
#: Below this many bads (or goods) in a segment, its AUC and KS are too noisy to read.
MIN_SEGMENT_EVENTS = 30


def edge_text(value: float) -> str:
    """A band edge as people read it: whole thousands as ``"25k"``, whole millions as ``"2M"``,
    anything else with thousands separators (``"1,500"``, ``"0.25"``, ``"-3"``)."""
    def plain(v: float) -> str:
        text = np.format_float_positional(float(v), trim="-")
        whole, _, decimals = text.lstrip("-").partition(".")
        return ("-" if text.startswith("-") else "") + f"{int(whole):,}" + (f".{decimals}" if decimals else "")

    value = float(value)
    if value != 0 and value % 1_000_000 == 0:
        return f"{plain(value / 1_000_000)}M"
    if value != 0 and value % 1_000 == 0:
        return f"{plain(value / 1_000)}k"
    return plain(value)


def band_labels(edges) -> list[str]:
    """Labels of the bands cut at ``edges``: ``"< a"``, ``"a-b"``, ..., ``">= z"`` (``"a to b"``
    when a bound is negative, so that the dash is not read as a minus sign).

    Examples
    --------
    >>> band_labels([25_000, 50_000, 1_500_000])
    ['< 25k', '25k-50k', '50k-1,500k', '>= 1,500k']
    >>> band_labels([-1, 0, 2.5])
    ['< -1', '-1 to 0', '0-2.5', '>= 2.5']
    """
    texts = [edge_text(e) for e in edges]
    inner = [f"{ta} to {tb}" if min(a, b) < 0 else f"{ta}-{tb}"
             for a, b, ta, tb in zip(edges[:-1], edges[1:], texts[:-1], texts[1:])]
    return [f"< {texts[0]}", *inner, f">= {texts[-1]}"]


def numeric_band(values: pd.Series, edges) -> pd.Series:
    """Band of each value of a numeric field, cut at ``edges`` (:func:`band_labels`).

    Parameters
    ----------
    values : Series
        Numbers; a missing value gets the band ``"missing"``.
    edges : sequence of float
        Strictly increasing band edges; a value equal to an edge belongs to the band above it.

    Returns
    -------
    Series
        Ordered categorical of band labels, lowest first (``"missing"`` last).

    Raises
    ------
    ValueError
        The edges are empty or not strictly increasing.
    """
    edges = tuple(float(e) for e in edges)
    if not edges or list(edges) != sorted(set(edges)):
        raise ValueError(f"band edges must be strictly increasing, got {edges}")
    bands = pd.cut(pd.to_numeric(values, errors="raise").astype(float), [-np.inf, *edges, np.inf], right=False,
                   labels=band_labels(edges))
    return bands.cat.add_categories("missing").fillna("missing")


def income_band(annual_inc: pd.Series, edges: tuple[float, ...] = INCOME_EDGES) -> pd.Series:
    """:func:`numeric_band` of a declared annual income: ``"< 25k"``, ``"25k-50k"``, ...,
    ``">= 150k"``, ``"missing"`` with the default edges."""
    return numeric_band(annual_inc, edges)


def segment_performance(y: pd.Series, score: pd.Series, segment: pd.Series,
                        min_events: int = MIN_SEGMENT_EVENTS) -> pd.DataFrame:
    """Rows, bad rate, AUC, Gini and KS of the score within each value of ``segment``.

    Parameters
    ----------
    y : Series
        1 = bad, 0 = good.
    score : Series
        The card's score (higher = lower risk), aligned with ``y``.
    segment : Series
        The segment of each row (a missing segment is reported as ``"missing"``).
    min_events : int
        A segment with fewer bads or fewer goods than this gets ``reliable = False``: its AUC
        and KS are shown but should not be read as a finding.

    Returns
    -------
    DataFrame
        One row per segment value (categorical order when ``segment`` is categorical, else
        largest segment first): ``value, rows, share, bads, bad_rate, mean_score, auc, gini,
        ks, reliable``. AUC, Gini and KS are NaN when a segment holds one class only.
    """
    from sklearn.metrics import roc_auc_score

    frame = pd.DataFrame({"y": np.asarray(y), "score": np.asarray(score, dtype=float),
                          "segment": np.asarray(segment.astype(object).where(segment.notna(), "missing"))})
    if isinstance(segment.dtype, pd.CategoricalDtype):
        order = [str(c) for c in segment.cat.categories if (frame["segment"] == c).any()]
        order += [v for v in frame["segment"].unique() if v not in order]
    else:
        order = list(frame["segment"].value_counts(sort=True).index)
    rows = []
    for value in order:
        part = frame[frame["segment"] == value]
        bads = int(part["y"].sum())
        goods = len(part) - bads
        both = bads > 0 and goods > 0
        auc = float(roc_auc_score(part["y"], -part["score"])) if both else np.nan
        rows.append({
            "value": str(value),
            "rows": len(part),
            "share": round(len(part) / len(frame), _DIGITS),
            "bads": bads,
            "bad_rate": round(bads / len(part), _DIGITS),
            "mean_score": round(float(part["score"].mean()), 2),
            "auc": round(auc, _DIGITS) if both else np.nan,
            "gini": round(2 * auc - 1, _DIGITS) if both else np.nan,
            "ks": round(ks_statistic(part["y"].to_numpy(), part["score"].to_numpy()), _DIGITS) if both else np.nan,
            "reliable": bool(min(bads, goods) >= min_events),
        })
    return pd.DataFrame(rows, columns=SEGMENT_COLUMNS[1:])


def performance_by_segment(y: pd.Series, score: pd.Series, segments: dict[str, pd.Series],
                           min_events: int = MIN_SEGMENT_EVENTS) -> pd.DataFrame:
    """:func:`segment_performance` for several segmentations, stacked in one long table.

    Parameters
    ----------
    y, score : Series
        Target and score of the same rows.
    segments : dict of str to Series
        Segmentation name (e.g. ``"state"``, ``"purpose"``, ``"income band"``: the label or
        column of each ``evaluate.segments`` entry) to the segment of each row.

    Returns
    -------
    DataFrame
        The columns of :func:`segment_performance` after a first column ``segment``
        (:data:`SEGMENT_COLUMNS`); no rows when ``segments`` is empty.
    """
    parts = [segment_performance(y, score, values, min_events).assign(segment=name)
             for name, values in segments.items()]
    if not parts:
        return pd.DataFrame(columns=SEGMENT_COLUMNS)
    table = pd.concat(parts, ignore_index=True)
    return table[["segment", *[c for c in table.columns if c != "segment"]]]


def segments_of(frame: pd.DataFrame, applicants: pd.DataFrame | None, specs) -> dict[str, pd.Series]:
    """The segmentations of ``frame``'s rows that ``evaluate.segments`` declares.

    Parameters
    ----------
    frame : DataFrame
        A processed sample, with the applicant id (:data:`scorecard.build.data.ID`).
    applicants : DataFrame or None
        The applicant file's columns that ``frame`` does not carry (e.g. the state), with the
        applicant id; matched on the id. None when ``frame`` carries every segment column.
    specs : list of SegmentSpec
        The segmentations (:class:`scorecard.config.SegmentSpec`), in order.

    Returns
    -------
    dict of str to Series
        Segmentation name (label, else column) to the segment of each row of ``frame``: the
        field's values for a category field, :func:`numeric_band` at the spec's ``edges`` for
        a numeric one.

    Raises
    ------
    KeyError
        A segment column is neither in ``frame`` nor in ``applicants``.
    """
    by_id = None if applicants is None else applicants.set_index(ID)
    out = {}
    for i, spec in enumerate(specs):
        if spec.column in frame:
            values = frame[spec.column].reset_index(drop=True)
        elif by_id is not None and spec.column in by_id:
            values = frame[ID].map(by_id[spec.column]).reset_index(drop=True)
        else:
            raise KeyError(f"evaluate.segments[{i}].column: '{spec.column}' is neither in the processed sample nor "
                           "in the applicant file's columns given")
        out[spec.name] = values if spec.edges is None else numeric_band(values, spec.edges)
    return out
