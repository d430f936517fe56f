"""Plotly figures for the report, drawn from the numbers the stages computed."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from scorecard.card import bin_label

_LAYOUT = dict(template="plotly_white", height=380, margin=dict(l=60, r=30, t=50, b=50))
COLORS = {"train": "#1f77b4", "test": "#d62728"}


def bins_frame(bins: list[dict], full_labels: bool = False) -> pd.DataFrame:
    """The bins of one feature as a table (label, count, bad rate, WoE, points when known).

    ``full_labels`` lists every category of a categorical bin (the points table a lender
    applies needs them all); otherwise long lists are shortened (:func:`bin_label`).
    """

    def label(b: dict) -> str:
        return ", ".join(b["categories"]) if full_labels and b["kind"] == "categories" else bin_label(b)

    rows = [{"bin": label(b), "count": b["count"], "bads": b["count_bad"],
             "bad_rate": b["event_rate"], "woe": b["woe"], **({"points": b["points"]} if "points" in b else {})}
            for b in bins]
    return pd.DataFrame(rows)


def woe_chart(feature: str, bins: list[dict]) -> go.Figure:
    """WoE per bin (bars: positive = fewer bads than average) and bad rate (line), applicants
    and bads in the hover; bins without training applicants are left out."""
    table = bins_frame([b for b in bins if b["count"] > 0])
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_bar(x=table["bin"], y=table["woe"], name="WoE", marker_color=["#2ca02c" if w >= 0 else "#9467bd" for w in table["woe"]],
                customdata=table[["count", "bads"]].to_numpy(),
                hovertemplate="%{x}<br>WoE %{y:.3f}<br>%{customdata[0]} applicants, %{customdata[1]} bads<extra></extra>")
    fig.add_scatter(x=table["bin"], y=table["bad_rate"], name="bad rate", mode="lines+markers",
                    line_color="#d62728", secondary_y=True)
    fig.update_layout(title=f"{feature}: WoE (bars) and bad rate (line) per bin", **_LAYOUT)
    fig.update_yaxes(title_text="WoE", secondary_y=False)
    fig.update_yaxes(title_text="bad rate", tickformat=".0%", rangemode="tozero", secondary_y=True)
    return fig


def iv_chart(iv: pd.DataFrame, min_iv: float) -> go.Figure:
    """Information value per candidate feature (bars, selected ones dark) with the selection threshold."""
    ordered = iv.sort_values("iv")
    fig = go.Figure(go.Bar(x=ordered["iv"], y=ordered["feature"], orientation="h",
                           marker_color=["#1f77b4" if s else "#c7c7c7" for s in ordered["selected"]],
                           hovertemplate="%{y}: IV %{x:.4f}<extra></extra>"))
    fig.add_vline(x=min_iv, line_dash="dash", line_color="#d62728", annotation_text=f"min_iv {min_iv:g}")
    fig.update_layout(title="Information value per candidate feature (grey: not selected)", xaxis_title="IV",
                      **{**_LAYOUT, "height": 120 + 24 * len(iv)})
    return fig


def shap_dependence(values: pd.Series, shap_points: pd.Series, feature: str, n: int = 2000, seed: int = 0) -> go.Figure:
    """SHAP points of one feature against its value, for a sample of applicants (missing
    values of a numeric feature are drawn at the left edge, labelled in the hover)."""
    frame = pd.DataFrame({"value": values.to_numpy(), "shap": shap_points.to_numpy()})
    frame = frame.sample(min(n, len(frame)), random_state=seed)
    numeric = pd.api.types.is_numeric_dtype(frame["value"])
    fig = go.Figure()
    if numeric:
        present = frame[frame["value"].notna()]
        fig.add_scatter(x=present["value"], y=present["shap"], mode="markers", name=feature,
                        marker=dict(size=5, opacity=0.35, color="#1f77b4"),
                        hovertemplate=f"{feature} %{{x:.4g}}<br>%{{y:.1f}} points<extra></extra>")
        missing = frame[frame["value"].isna()]
        if len(missing):
            left = float(present["value"].min()) if len(present) else 0.0
            fig.add_scatter(x=[left] * len(missing), y=missing["shap"], mode="markers", name="missing",
                            marker=dict(size=7, symbol="x", color="#d62728"),
                            hovertemplate="missing<br>%{y:.1f} points<extra></extra>")
    else:
        frame["value"] = frame["value"].astype(object).where(frame["value"].notna(), "missing").astype(str)
        fig.add_box(x=frame["value"], y=frame["shap"], name=feature, boxpoints=False, marker_color="#1f77b4")
    fig.add_hline(y=0, line_dash="dot", line_color="grey")
    fig.update_layout(title=f"SHAP dependence: {feature}", xaxis_title=feature,
                      yaxis_title="points relative to the average applicant", **_LAYOUT)
    return fig


def segment_chart(segments: pd.DataFrame, segment: str, overall_auc: float) -> go.Figure:
    """AUC (bars; light when the segment has too few bads to read) and bad rate (line) per
    value of one segmentation, with the overall AUC as a dashed line."""
    part = segments[segments["segment"] == segment]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_bar(x=part["value"], y=part["auc"], name="AUC",
                marker_color=["#1f77b4" if r else "#c6dbef" for r in part["reliable"]],
                customdata=part[["rows", "bads"]].to_numpy(),
                hovertemplate="%{x}<br>AUC %{y:.3f}<br>%{customdata[0]} applicants, %{customdata[1]} bads<extra></extra>")
    fig.add_scatter(x=part["value"], y=part["bad_rate"], name="bad rate", mode="lines+markers",
                    line_color="#d62728", secondary_y=True)
    fig.add_hline(y=overall_auc, line_dash="dash", line_color="#555", annotation_text=f"overall AUC {overall_auc:.3f}")
    fig.update_layout(title=f"AUC and bad rate of the test sample by {segment}", **_LAYOUT)
    fig.update_yaxes(title_text="AUC", range=[0.4, 0.9], secondary_y=False)
    fig.update_yaxes(title_text="bad rate", tickformat=".0%", rangemode="tozero", secondary_y=True)
    return fig


def roc_chart(roc: pd.DataFrame, metrics: dict) -> go.Figure:
    fig = go.Figure()
    for sample, part in roc.groupby("sample", sort=False):
        fig.add_scatter(x=part["fpr"], y=part["tpr"], mode="lines", line_color=COLORS[sample],
                        name=f"{sample} (AUC {metrics[sample]['auc']:.3f})")
    fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(dash="dot", color="grey"), name="random")
    fig.update_layout(title="ROC curve", xaxis_title="false positive rate (goods declined)",
                      yaxis_title="true positive rate (bads declined)", **_LAYOUT)
    return fig


def ks_chart(ks: pd.DataFrame, sample: str, value: float) -> go.Figure:
    part = ks[ks["sample"] == sample]
    fig = go.Figure()
    fig.add_scatter(x=part["score"], y=part["cum_bads"], name="bads", line_color="#d62728")
    fig.add_scatter(x=part["score"], y=part["cum_goods"], name="goods", line_color="#2ca02c")
    fig.update_layout(title=f"KS on {sample}: {value:.3f} (largest gap between the curves)",
                      xaxis_title="score", yaxis_title="cumulative share at or below the score",
                      yaxis_tickformat=".0%", **_LAYOUT)
    return fig


def calibration_chart(calibration: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    for sample, part in calibration.groupby("sample", sort=False):
        fig.add_scatter(x=part["predicted"], y=part["observed"], mode="lines+markers",
                        line_color=COLORS[sample], name=sample)
    top = float(max(calibration["predicted"].max(), calibration["observed"].max())) * 1.05
    fig.add_scatter(x=[0, top], y=[0, top], mode="lines", line=dict(dash="dot", color="grey"), name="perfect")
    fig.update_layout(title="Calibration by decile of predicted bad rate", xaxis_title="predicted bad rate",
                      yaxis_title="observed bad rate", xaxis_tickformat=".0%", yaxis_tickformat=".0%", **_LAYOUT)
    return fig


def gains_chart(gains: dict[str, pd.DataFrame]) -> go.Figure:
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    for sample, table in gains.items():
        fig.add_bar(x=table["band"], y=table["count"] / table["count"].sum(), name=f"{sample} share",
                    marker_color=COLORS[sample], opacity=0.5)
        fig.add_scatter(x=table["band"], y=table["bad_rate"], name=f"{sample} bad rate", mode="lines+markers",
                        line_color=COLORS[sample], secondary_y=True)
    fig.update_layout(title="Score bands: share of applicants and bad rate", barmode="group", **_LAYOUT)
    fig.update_yaxes(title_text="share of applicants", tickformat=".0%", secondary_y=False)
    fig.update_yaxes(title_text="bad rate", tickformat=".0%", rangemode="tozero", secondary_y=True)
    return fig


def bar_chart(frame: pd.DataFrame, x: str, y: str, title: str, x_title: str) -> go.Figure:
    """Horizontal bars, largest at the top."""
    ordered = frame.sort_values(x)
    fig = go.Figure(go.Bar(x=ordered[x], y=ordered[y], orientation="h", marker_color="#1f77b4"))
    fig.update_layout(title=title, xaxis_title=x_title, **{**_LAYOUT, "height": 120 + 28 * len(frame)})
    return fig


def shap_beeswarm(explanations: pd.DataFrame, features: list[str], n: int = 2000, seed: int = 0) -> go.Figure:
    """SHAP value in points of each feature for a sample of applicants."""
    sample = explanations.sample(min(n, len(explanations)), random_state=seed)
    fig = go.Figure()
    for feature in features:
        fig.add_box(x=sample[f"shap_{feature}"], name=feature, boxpoints=False, marker_color="#1f77b4")
    fig.update_layout(title="SHAP values in points (test sample)", xaxis_title="points relative to the average applicant",
                      showlegend=False, **{**_LAYOUT, "height": 120 + 32 * len(features)})
    return fig


def score_histogram(scores: dict[str, pd.Series]) -> go.Figure:
    fig = go.Figure()
    for sample, score in scores.items():
        fig.add_histogram(x=score, name=sample, histnorm="probability", opacity=0.6, marker_color=COLORS[sample])
    fig.update_layout(title="Score distribution", barmode="overlay", xaxis_title="score",
                      yaxis_title="share of applicants", yaxis_tickformat=".0%", **_LAYOUT)
    return fig


def stability_by_month_chart(by_month: pd.DataFrame, warn: float, alert: float,
                             month_label: str = "application month") -> go.Figure:
    """Score PSI (thick) and each feature's CSI per month against the development sample,
    with the warn and alert thresholds as dashed lines; ``month_label`` names the months
    (e.g. ``"month of issue_d"``, after ``data.date_column``)."""
    fig = go.Figure()
    for variable, part in by_month.groupby("variable", sort=False):
        is_score = variable == "score"
        fig.add_scatter(x=part["month"], y=part["value"], mode="lines+markers", name=variable,
                        line=dict(width=4 if is_score else 1.5, color="#222" if is_score else None),
                        opacity=1 if is_score else 0.75,
                        hovertemplate=f"{variable}<br>%{{x}}<br>%{{y:.3f}}<extra></extra>")
    for level, label, color in ((warn, "warn", "#ff7f0e"), (alert, "alert", "#d62728")):
        fig.add_hline(y=level, line_dash="dash", line_color=color, annotation_text=f"{label} {level:g}")
    fig.update_layout(title=f"Stability by {month_label}: score PSI and feature CSI against training", **_LAYOUT)
    fig.update_layout(height=460)
    fig.update_yaxes(title_text="PSI / CSI")
    fig.update_xaxes(title_text=month_label)
    return fig
