"""Plotly figures for the report, drawn from the numbers the stages computed."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from scorecard.card import bin_label

_LAYOUT = dict(template="plotly_white", height=380, margin=dict(l=60, r=30, t=50, b=50))
COLORS = {"train": "#1f77b4", "test": "#d62728"}


def bins_frame(bins: list[dict]) -> pd.DataFrame:
    """The bins of one feature as a table (label, count, bad rate, WoE, points when known)."""
    rows = [{"bin": bin_label(b), "count": b["count"], "bads": b["count_bad"],
             "bad_rate": b["event_rate"], "woe": b["woe"], **({"points": b["points"]} if "points" in b else {})}
            for b in bins]
    return pd.DataFrame(rows)


def woe_chart(feature: str, bins: list[dict]) -> go.Figure:
    """Count (bars) and bad rate (line) per bin, WoE in the hover."""
    table = bins_frame([b for b in bins if b["count"] > 0])
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_bar(x=table["bin"], y=table["count"], name="applicants", marker_color="#9ecae1",
                customdata=table["woe"], hovertemplate="%{x}<br>%{y} applicants<br>WoE %{customdata:.3f}")
    fig.add_scatter(x=table["bin"], y=table["bad_rate"], name="bad rate", mode="lines+markers",
                    line_color="#d62728", secondary_y=True)
    fig.update_layout(title=f"{feature}: applicants and bad rate per bin", **_LAYOUT)
    fig.update_yaxes(title_text="applicants", secondary_y=False)
    fig.update_yaxes(title_text="bad rate", tickformat=".0%", secondary_y=True)
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
    fig.update_yaxes(title_text="bad rate", tickformat=".0%", secondary_y=True)
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


def stability_by_month_chart(by_month: pd.DataFrame, warn: float, alert: float) -> go.Figure:
    """Score PSI (thick) and each feature's CSI per issue month against the development
    sample, with the warn and alert thresholds as dashed lines."""
    fig = go.Figure()
    for variable, part in by_month.groupby("variable", sort=False):
        is_score = variable == "score"
        fig.add_scatter(x=part["month"], y=part["value"], mode="lines+markers", name=variable,
                        line=dict(width=4 if is_score else 1.5, color="#222" if is_score else None),
                        opacity=1 if is_score else 0.75,
                        hovertemplate=f"{variable}<br>%{{x}}<br>%{{y:.3f}}<extra></extra>")
    for level, label, color in ((warn, "warn", "#ff7f0e"), (alert, "alert", "#d62728")):
        fig.add_hline(y=level, line_dash="dash", line_color=color, annotation_text=f"{label} {level:g}")
    fig.update_layout(title="Stability by issue month: score PSI and feature CSI against training", **_LAYOUT)
    fig.update_layout(height=460)
    fig.update_yaxes(title_text="PSI / CSI")
    fig.update_xaxes(title_text="issue month")
    return fig
