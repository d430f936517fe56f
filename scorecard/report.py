"""Display helpers for the report notebooks and pages.

Quarto adds require.js and jQuery from a CDN as soon as a cell output carries ``text/html``
or ``application/javascript``. These helpers emit Markdown only: tables as Markdown tables,
plotly figures as a raw HTML block inside Markdown, with plotly.js inlined by the first
figure of each page (no CDN, no MathJax), so that the site works offline and from disk.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_page = {"plotly_included": False}


def _display_markdown(text: str) -> None:
    from IPython.display import display

    display({"text/markdown": text}, raw=True)


def md(text: str) -> None:
    """Show a Markdown paragraph (one sentence saying what to read from a table or figure)."""
    _display_markdown(text)


def _number(value: float, digits: int) -> str:
    """``value`` with thousands separators and at most ``digits`` decimals, trailing zeros dropped
    (only decimals: 15000 with 0 digits stays "15,000")."""
    text = f"{value:,.{digits}f}"
    return text.rstrip("0").rstrip(".") if digits > 0 else text


def table(frame: pd.DataFrame, digits: int = 4, index: bool = False) -> None:
    """Show a DataFrame as a Markdown table."""
    shown = frame.copy()
    for column in shown.select_dtypes("float").columns:
        shown[column] = shown[column].map(lambda v: "" if pd.isna(v) else _number(v, digits))
    _display_markdown(shown.to_markdown(index=index))


def figure_html(fig, include_plotlyjs: bool) -> str:
    return fig.to_html(full_html=False, include_plotlyjs=include_plotlyjs, include_mathjax=False,
                       config={"displaylogo": False, "responsive": True})


def figure(fig) -> None:
    """Show a plotly figure as raw HTML; the first figure of the page carries plotly.js."""
    first = not _page["plotly_included"]
    _page["plotly_included"] = True
    _display_markdown("```{=html}\n" + figure_html(fig, include_plotlyjs=first) + "\n```")


def link(text: str, href: str) -> str:
    """A Markdown link (the href is a path relative to the page: it works served and from disk)."""
    return f"[{text}]({href})"


# -- the overview: this card against the published champion ---------------------------------------
HEADLINE_METRICS = ("auc", "gini", "ks", "brier", "bad_rate", "rows")
#: Metrics where a lower value is better (the rest: higher is better; rows and bad_rate: neither).
LOWER_IS_BETTER = {"brier", "psi_score", "csi_max"}


def metric_changes(current: dict, previous: dict | None,
                   metrics: tuple[str, ...] = HEADLINE_METRICS) -> pd.DataFrame:
    """Each headline metric of this card next to the published (champion) card's.

    Parameters
    ----------
    current, previous : dict
        Contents of ``metrics.json`` (this build) and of the champion's ``metrics.json``
        (``None`` when no card has been published yet).
    metrics : tuple of str
        Metrics of the ``train`` and ``test`` samples to compare; the stability block's
        ``psi_score`` and ``csi_max`` are always added.

    Returns
    -------
    DataFrame
        ``sample, metric, this card, published card, change`` (this minus published; NaN
        without a published value) and ``reading`` ("better", "worse", "same", "" when the
        direction has no meaning or nothing to compare).
    """
    rows = []

    def add(sample: str, metric: str, now, before):
        change = (now - before) if (now is not None and before is not None) else np.nan
        if before is None or metric in ("rows", "bad_rate"):
            reading = ""
        elif change == 0:
            reading = "same"
        else:
            better = change < 0 if metric in LOWER_IS_BETTER else change > 0
            reading = "better" if better else "worse"
        rows.append({"sample": sample, "metric": metric, "this card": now,
                     "published card": before if before is not None else np.nan,
                     "change": change, "reading": reading})

    for sample in ("train", "test"):
        for metric in metrics:
            before = (previous or {}).get(sample, {}).get(metric)
            add(sample, metric, current[sample][metric], before)
    for metric in ("psi_score", "csi_max"):
        add("train → test", metric, current["stability"][metric], (previous or {}).get("stability", {}).get(metric))
    return pd.DataFrame(rows)


def champion_status(card: dict, champion_card: dict | None, promotion: dict | None = None) -> str:
    """One Markdown sentence: is this card the published (champion) card, and since when."""
    if champion_card is None:
        return "No card has been published yet (no `models/champion/scorecard.json`): there is nothing to compare with."
    when = f", promoted {promotion['promoted_at']}" if promotion and promotion.get("promoted_at") else ""
    if champion_card["model_version"] == card["model_version"]:
        return (f"**This card is the published card** (champion version {champion_card['model_version']}{when}): "
                "both columns below hold the same version, so every change is zero.")
    return (f"**This card ({card['model_version']}) differs from the published card** (champion version "
            f"{champion_card['model_version']}{when}): the change column is this card minus the published one.")


# -- model documentation -----------------------------------------------------------------------
def input_files(params, root=".") -> pd.DataFrame:
    """Every input file the card is built from, with its declared and its actual sha256.

    Parameters
    ----------
    params : scorecard.config.Params
        The applicant file and the enabled environment sources are listed.
    root : path
        Project root that relative paths are resolved against.

    Returns
    -------
    DataFrame
        ``role, path, sha256, matches, size_mb, used_for``; ``matches`` is whether the file's
        sha256 is the one ``params.yaml`` declares (the ETL refuses the file otherwise).
    """
    from pathlib import Path

    from scorecard.data import sha256_of

    entries = [("applicants", params.data.applicants, "applicants and their outcome")]
    entries += [(f"environment: {name}", spec, spec.description)
                for name, spec in params.environment.enabled_sources().items()]
    rows = []
    for role, spec, used in entries:
        path = Path(root) / spec.path
        actual = sha256_of(path)
        rows.append({"role": role, "path": str(spec.path), "sha256": actual,
                     "matches": spec.sha256 is None or actual == spec.sha256,
                     "size_mb": round(path.stat().st_size / 1e6, 2), "used_for": used})
    return pd.DataFrame(rows)


def column_fates(raw_columns: list[str], params) -> pd.DataFrame:
    """What happens to each column of the applicant file, and why.

    Parameters
    ----------
    raw_columns : list of str
        The header of the applicant file.
    params : scorecard.config.Params
        The declared schema (``data.columns``), the target, the date and state columns, the
        allow-list and the forbidden patterns.

    Returns
    -------
    DataFrame
        ``column, fate, why`` for every raw column: "model feature", "used by the ETL" (target,
        date, state key, inputs of derived features), or "excluded" — with the forbidden
        pattern it matches (leakage) or "not declared in params.yaml".
    """
    import re

    features = set(params.features.model_features)
    derived_inputs = {i for spec in params.features.derived.values() for i in spec.inputs}
    roles = {params.data.target.column: "target (outcome)", params.data.date_column: "application date (split, environment join)",
             params.data.state_column: "state (environment join key)"}
    rows = []
    for column in raw_columns:
        forbidden = next((p for p in params.features.forbidden if re.search(p, column)), None)
        if column in features:
            fate, why = "model feature", "on the allow-list (features.model_features)"
        elif column in roles:
            fate, why = "used by the ETL", roles[column]
        elif column in derived_inputs:
            fate, why = "used by the ETL", "input of a derived feature"
        elif forbidden:
            fate, why = "excluded", f"leakage: matches the forbidden pattern `{forbidden}`"
        elif column in params.data.columns:
            fate, why = "excluded", "declared and checked, not on the allow-list"
        else:
            fate, why = "excluded", "not declared in params.yaml: never read"
        rows.append({"column": column, "fate": fate, "why": why})
    return pd.DataFrame(rows)


def forbidden_table(params, raw_columns: list[str]) -> pd.DataFrame:
    """Each forbidden pattern (``features.forbidden``) and the applicant-file columns it blocks."""
    import re

    rows = [{"pattern": f"`{p}`", "blocks": ", ".join(c for c in raw_columns if re.search(p, c)) or "(no column in this file)"}
            for p in params.features.forbidden]
    return pd.DataFrame(rows)


def top_points_small_bins(card: dict, max_share: float = 0.01) -> pd.DataFrame:
    """Bins that give a feature's most points while holding few training applicants.

    The card's points come from the WoE of each bin; a bin with a handful of training loans has
    a noisy WoE, and when that bin is the feature's best, the applicants who fall in it get the
    feature's top points on thin evidence (the reason ranking also treats it as the bin to beat).

    Parameters
    ----------
    card : dict
        The card document.
    max_share : float
        A bin holding at most this share of the feature's training applicants is "small".

    Returns
    -------
    DataFrame
        ``feature, bin, kind, count, share, bad_rate, points, next_best_points`` for each feature
        whose top-points bin (ties: any of them) is small, in card order.
    """
    from scorecard.card import bin_label

    rows = []
    for feature in card["features"]:
        bins = [b for b in feature["bins"] if b["count"] > 0]
        total = sum(b["count"] for b in bins)
        top = max(b["points"] for b in bins)
        for b in bins:
            if b["points"] == top and b["count"] <= max_share * total:
                others = [x["points"] for x in bins if x is not b]
                rows.append({"feature": feature["name"], "bin": bin_label(b), "kind": b["kind"], "count": b["count"],
                             "share": round(b["count"] / total, 6), "bad_rate": b["event_rate"], "points": b["points"],
                             "next_best_points": max(others) if others else None})
    return pd.DataFrame(rows, columns=["feature", "bin", "kind", "count", "share", "bad_rate", "points", "next_best_points"])


def downloads(entries: list[tuple[str, str, str, str]], root=".", sizes: bool = True) -> pd.DataFrame:
    """The downloads of a page as a table of links.

    Parameters
    ----------
    entries : list of (label, path, href, what)
        ``path`` is the file relative to the project root (its size is shown; a missing file
        is shown as "not built"), ``href`` the link relative to the page (the same file in the
        site, shipped by ``_quarto.yml``'s ``resources``).
    root : path
        Project root.
    sizes : bool
        Add the ``size`` column (leave it out when a later stage writes some of the files).

    Returns
    -------
    DataFrame
        ``file`` (a Markdown link), ``what`` and ``size``.
    """
    from pathlib import Path

    rows = []
    for label, path, href, what in entries:
        file = Path(root) / path
        size = f"{file.stat().st_size / 1024:,.1f} KB" if file.is_file() else "not built"
        rows.append({"file": link(label, href), "what": what, **({"size": size} if sizes else {})})
    return pd.DataFrame(rows)


def reasons_from_small_bins(card: dict, points: pd.DataFrame, reasons: pd.DataFrame, small: pd.DataFrame,
                            max_share: float = 0.01) -> pd.DataFrame:
    """How many applicants get a reason code only because a small bin holds a feature's top points.

    Parameters
    ----------
    card : dict
        The card document.
    points : DataFrame
        ``points_<feature>`` per applicant (:meth:`Card.apply`).
    reasons : DataFrame
        ``reason_k`` codes per applicant (:meth:`Card.apply`).
    small : DataFrame
        :func:`top_points_small_bins`' output.
    max_share : float
        The share that made a bin small there.

    Returns
    -------
    DataFrame
        ``feature, reason_code, applicants_with_reason, in_best_populated_bin, share`` for each
        feature of ``small``: of the applicants given the feature as a reason, those already in
        the feature's best bin among the well-populated ones.
    """
    rows = []
    codes = [c for c in reasons.columns if c.startswith("reason_") and c[7:].isdigit()]
    for name in dict.fromkeys(small["feature"]):
        feature = next(f for f in card["features"] if f["name"] == name)
        total = sum(b["count"] for b in feature["bins"])
        best_populated = max(b["points"] for b in feature["bins"] if b["count"] > max_share * total)
        given = reasons[codes].eq(feature["reason_code"]).any(axis=1)
        in_best = given & (points[f"points_{name}"] == best_populated)
        rows.append({"feature": name, "reason_code": feature["reason_code"], "applicants_with_reason": int(given.sum()),
                     "in_best_populated_bin": int(in_best.sum()),
                     "share": round(float(in_best.sum() / max(given.sum(), 1)), 6)})
    return pd.DataFrame(rows, columns=["feature", "reason_code", "applicants_with_reason", "in_best_populated_bin", "share"])


def known_weaknesses(card: dict, metrics: dict, etl_summary: dict, segments: pd.DataFrame, train: pd.DataFrame,
                     csi_warn: float, small: pd.DataFrame, spurious: pd.DataFrame, auc_gap: float = 0.05,
                     levers: pd.DataFrame | None = None) -> list[str]:
    """The card's known weaknesses, each one Markdown sentence with the numbers that show it.

    Parameters
    ----------
    card, metrics, etl_summary : dict
        ``scorecard.json``, ``metrics.json``, ``etl_summary.json``.
    segments : DataFrame
        ``performance_by_segment.csv`` (:func:`scorecard.evaluate.performance_by_segment`).
    train : DataFrame
        The training sample (the range of the data the card has seen).
    csi_warn : float
        CSI from which a feature's shift is reported (``monitoring.csi_warn``).
    small, spurious : DataFrame
        :func:`top_points_small_bins` and :func:`reasons_from_small_bins`.
    auc_gap : float
        A reliable segment whose AUC is this far below the overall test AUC is reported.
    levers : DataFrame, optional
        ``reports/benchmarks/levers.csv`` (``benchmarks/levers.py``): a card feature whose
        removal does not lower the validation slice's AUC beyond chance (the upper end of the
        change's 95% interval at or above 0) is reported.

    Returns
    -------
    list of str
    """
    found = []
    if len(small):
        groups = small.groupby(["bin", "count", "bad_rate"], sort=False)
        for (label, count, bad_rate), part in groups:
            names = ", ".join(f"`{f}` ({p} points; next best {n})" for f, p, n in
                              zip(part["feature"], part["points"], part["next_best_points"]))
            found.append(f"**Thin bins with the top points.** For {names} the *{label}* bin — {count} training loans, "
                         f"bad rate {bad_rate:.1%} — gets the feature's most points: its WoE rests on {count} loans.")
        for row in spurious.itertuples():
            found.append(f"**Reason codes from the thin bin.** {row.applicants_with_reason:,} test applicants get reason "
                         f"{row.reason_code} (`{row.feature}`); {row.in_best_populated_bin:,} of them "
                         f"({row.share:.0%}) are already in the feature's best well-populated bin, so the reason only "
                         f"reflects the gap to the thin bin above.")
    shifted = {f: v for f, v in metrics["stability"]["csi"].items() if v >= csi_warn}
    if shifted:
        found.append("**Shifted features.** CSI from training to the test year at or above "
                     f"{csi_warn:g}: " + ", ".join(f"`{f}` {v:.3f}" for f, v in sorted(shifted.items(), key=lambda x: -x[1]))
                     + " — the applicant mix changed on these features (see Stability below).")
    samples = {s["sample"]: s for s in etl_summary["samples"]}
    if "train" in samples and "test" in samples and samples["train"]["policy_exceptions"] and not samples["test"]["policy_exceptions"]:
        found.append(f"**Policy exceptions in training only.** {samples['train']['policy_exceptions']:,} training loans "
                     f"({samples['train']['policy_exceptions'] / samples['train']['rows']:.1%}) were granted outside "
                     "LendingClub's credit policy; the test year has none, so the card learned partly from a population "
                     "it no longer scores.")
    overall = metrics["test"]["auc"]
    weak = segments[segments["reliable"] & (segments["auc"] < overall - auc_gap)]
    if len(weak):
        found.append(f"**Weaker segments.** Out of time, with at least enough bads to read, AUC is more than {auc_gap:g} "
                     f"below the overall {overall:.3f} for: " + ", ".join(
                         f"{r.segment} {r.value} ({r.auc:.3f}, {r.rows:,} loans)" for r in weak.itertuples()) + ".")
    unreliable = segments[~segments["reliable"]]
    if len(unreliable):
        found.append(f"**Small segments.** {len(unreliable)} segment values have too few bads or goods to measure the "
                     "card on them (shown light in the charts): " + ", ".join(
                         f"{r.value}" for r in unreliable.itertuples()) + ".")
    if levers is not None and len(levers):
        names = {f["name"] for f in card["features"]}
        removals = levers[levers["lever"].str.startswith("without ")].assign(
            feature=lambda t: t["lever"].str.removeprefix("without "))
        idle = removals[removals["feature"].isin(names) & (removals["auc_change_high"] >= 0)]
        if len(idle):
            found.append("**Features without a validation gain.** Refitted without them on the validation slice of the "
                         "training years, the card's AUC does not fall beyond chance: " + ", ".join(
                             f"`{r.feature}` ({r.auc_change:+.4f}, 95% interval {r.auc_change_low:+.4f} to "
                             f"{r.auc_change_high:+.4f})" for r in idle.itertuples())
                         + " — candidates to drop at the next review (see the Compared page's levers).")

    def number(v: float) -> str:
        return f"{v:,.2f}".rstrip("0").rstrip(".")

    limits = []
    for column, unit in (("loan_amnt", "USD"), ("dti", "%"), ("annual_inc", "USD")):
        if column in train:
            limits.append(f"`{column}` {number(train[column].min())}–{number(train[column].max())} {unit}")
    if limits:
        found.append("**Range of the evidence.** The training loans span " + ", ".join(limits)
                     + "; outside these ranges the card extrapolates its end bins (the business rules decline "
                     "a debt-to-income ratio of 30% or more for this reason).")
    return found
