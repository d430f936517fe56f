"""The report site's helpers: what the notebooks and pages display and say (here), the figures
(:mod:`scorecard.report.plots`) and their static images for the README and the e-mail
(:mod:`scorecard.report.images`).

May import: every layer below it (foundation, card, build, apply, watch); never the command line.

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


def comparable_champion(card: dict, champion_card: dict | None) -> dict | None:
    """The published card when it was built on the card's population, else None: a champion of
    other data is never compared with this card (:func:`scorecard.card.same_population`)."""
    from scorecard.card import same_population

    return champion_card if champion_card is not None and same_population(card, champion_card) else None


def champion_status(card: dict, champion_card: dict | None, promotion: dict | None = None) -> str:
    """One Markdown sentence: is this card the published (champion) card, and since when."""
    from scorecard.card import population

    if champion_card is None:
        return "No card has been published yet (no `models/champion/scorecard.json`): there is nothing to compare with."
    if comparable_champion(card, champion_card) is None:
        built_on = champion_card.get("created_from", {}).get("dataset", {}).get("name") or population(champion_card)
        return (f"**No card has been published for these data yet** (population `{population(card)}`): the card in "
                f"`models/champion/` (version {champion_card['model_version']}) was built on other data ({built_on}), "
                "so it is not compared with this one.")
    when = f", promoted {promotion['promoted_at']}" if promotion and promotion.get("promoted_at") else ""
    if champion_card["model_version"] == card["model_version"]:
        return (f"**This card is the published card** (champion version {champion_card['model_version']}{when}): "
                "both columns below hold the same version, so every change is zero.")
    return (f"**This card ({card['model_version']}) differs from the published card** (champion version "
            f"{champion_card['model_version']}{when}): the change column is this card minus the published one.")


# -- words about the data: every page takes them from params.dataset ------------------------------
def _country(name: str) -> str:
    """A country's name as it follows "in": "the United States", "Mexico"."""
    plural = ("United States", "United Kingdom", "Netherlands", "Philippines", "Dominican Republic", "Czech Republic")
    return f"the {name}" if name in plural else name


def _with_article(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def card_environment_features(card: dict, params) -> list[str]:
    """Card features that come from public data: an environment column, or a feature derived
    from one (e.g. income relative to the state's median)."""
    env = {c for spec in params.environment.enabled_sources().values() for c in spec.output_columns()}
    derived = params.features.derived
    return [f["name"] for f in card["features"]
            if f["name"] in env or (f["name"] in derived and set(derived[f["name"]].inputs) & env)]


def what_the_card_scores(card: dict, params) -> str:
    """The overview's first paragraph: the event, the product, where the features come from."""
    d = params.dataset
    env = card_environment_features(card, params)
    declared = [f.get("reason_text") or f["name"] for f in card["features"] if f["name"] not in env]
    text = (f"The card estimates the risk that {_with_article(d.product)} ends **{d.bad_outcome}**"
            f" (the event `bad`: {card['target']['definition']}), from what an applicant states when applying "
            f"({', '.join(t[:1].lower() + t[1:] for t in declared)})")
    if env:
        texts = [f.get("reason_text") or f["name"] for f in card["features"] if f["name"] in env]
        text += f" and from public data about where they live ({', '.join(t[:1].lower() + t[1:] for t in texts)})"
    return text + (". It is a points table: every applicant starts from the base points, each feature adds the points "
                   "of the bin the applicant falls in, and a higher score means a lower risk.")


def split_sentence(split: dict, etl_summary: dict) -> str:
    """How the samples were drawn, in a reader's words (``etl_summary.json``'s ``split``)."""
    train, test = f"{etl_summary['rows_train']:,}", f"{etl_summary['rows_test']:,}"
    if split["method"] == "time":
        (a, b), (c, d) = split["train_window"], split["test_window"]
        return (f"{train} in training (applications {a} to {b}) and {test} in the out-of-time test ({c} to {d}), "
                "never used to fit or select anything")
    how = "stratified by the outcome (both samples keep the bad rate)" if split["method"] == "stratified" else "at random"
    return (f"{train} in training and {test} in a test sample of {split['test_share']:.0%} drawn {how} with seed "
            f"{split['seed']}, never used to fit or select anything (the file has no application date, so there is "
            "no out-of-time test)")


def join_keys_text(params) -> str:
    """The applicant columns the enabled sources join on, as Markdown code (`a`, `b`)."""
    return ", ".join(f"`{key}`" for key in params.environment.join_keys())


def environment_sentence(card: dict, params) -> str:
    """Which public data are joined, by which key, and whether the card uses them."""
    sources = params.environment.enabled_sources()
    if not sources:
        return "No public data are joined to the applicants (no environment source in `params.yaml`)."
    joined = "; ".join(spec.description or name for name, spec in sources.items())
    used = card_environment_features(card, params)
    uses = (f"the card uses {', '.join(f'`{u}`' for u in used)}" if used
            else "the card uses none of them (no such feature passed the selection)")
    return f"Each applicant is joined by {join_keys_text(params)} to: {joined}; {uses}."


def joined_sentence(params) -> str:
    """What each applicant carries from the enabled environment sources (the ETL page)."""
    sources = params.environment.enabled_sources()
    if not sources:
        return "No public data are joined: `environment.sources` is empty or every source is disabled."
    return (f"Read: joined by {join_keys_text(params)}, each applicant carries: "
            + "; ".join(f"{spec.description or name} (`{'`, `'.join(spec.output_columns())}`)"
                        for name, spec in sources.items()) + ".")


def data_sentence(card: dict, params, etl_summary: dict) -> str:
    """The overview's "On which data" paragraph, from ``params.dataset`` and the ETL summary."""
    d = params.dataset
    samples = etl_summary["samples"]
    if samples and "first_date" in samples[0]:
        when = f" from {min(s['first_date'] for s in samples)} to {max(s['last_date'] for s in samples)}"
    else:
        when = f" ({d.period})" if d.period else ""
    who = f" of {d.lender}" if d.lender else ""
    where = f" in {_country(d.country)}" if d.country else ""
    return (f"{etl_summary['rows_in']:,} {d.rows_are}{who}{where}{when} — {d.name} — every one with a known outcome: "
            f"{split_sentence(etl_summary['split'], etl_summary)}; {etl_summary['rows_excluded']:,} excluded. "
            + environment_sentence(card, params))


def citations(params) -> list[str]:
    """Citations of the applicant file and of every enabled environment source (Markdown)."""
    out = [c.text for c in params.dataset.citations]
    out += [spec.citation.text for spec in params.environment.enabled_sources().values() if spec.citation]
    return out


def sources_table(params) -> pd.DataFrame:
    """The Data sources page's table: every declared file, its publisher, licence and use."""
    rows = [{"data": params.dataset.name, "publisher": c.publisher, "licence / terms": c.licence,
             "used for": c.used_for or "applicants, outcome"} for c in params.dataset.citations]
    if not params.dataset.citations:
        rows.append({"data": params.dataset.name, "publisher": params.dataset.lender or "not stated in params.yaml",
                     "licence / terms": "not stated in params.yaml (dataset.citations)", "used for": "applicants, outcome"})
    for name, spec in params.environment.sources.items():
        cite = spec.citation
        rows.append({"data": spec.description or name, "publisher": cite.publisher if cite else "",
                     "licence / terms": cite.licence if cite else "",
                     "used for": f"environment, joined by `{params.environment.key_of(name)}`" if spec.enabled
                     else "declared, not enabled (not joined)"})
    return pd.DataFrame(rows)


def protected_features(card: dict, params) -> dict[str, list[str]]:
    """Card features built from a field declared protected (``dataset.protected_fields``): the
    feature, and the protected fields it reads (itself, or the inputs of a derived feature)."""
    protected = set(params.dataset.protected_fields)
    derived = params.features.derived
    found = {}
    for f in card["features"]:
        reads = set(derived[f["name"]].inputs) if f["name"] in derived else {f["name"]}
        if reads & protected:
            found[f["name"]] = sorted(reads & protected)
    return found


def intended_use(card: dict, params) -> str:
    """The model documentation's "Intended use and limits" list (Markdown), in the data's words."""
    d = params.dataset
    where = f" in {_country(d.country)}" if d.country else ""
    protected = protected_features(card, params)
    declared = ", ".join(f"`{f}`" for f in d.protected_fields) or "none"
    if protected:
        fairness = ("**the card uses " + ", ".join(f"`{f}` (from {', '.join(f'`{x}`' for x in xs)})"
                                                   for f, xs in protected.items())
                    + f", built from a field declared protected** (`dataset.protected_fields`: {declared}): a "
                    "fair-lending review must decide whether this use is lawful for the product before the card decides")
    else:
        fairness = (f"no card feature is built from a field declared protected (`dataset.protected_fields`: {declared}); "
                    "features can still stand in for one (a proxy): see the known weaknesses")
    window = (d.outcome_window[:1].upper() + d.outcome_window[1:] if d.outcome_window else
              "Not stated in `params.yaml` (`dataset.outcome_window`): say over which period the outcome was observed")
    return "\n".join([
        f"- **Use**: rank applicants for {_with_article(d.product)}{where}, with an underwriter reviewing referrals; "
        "explain each decision with the reason codes ([Explanations](chapters/05_explain.ipynb)); monitor drift with "
        "`scorecard monitor`.",
        f"- **Not for**: other products, other countries, or populations unlike {d.name} without re-development; "
        "setting prices; deciding without the business rules; any decision based on a protected characteristic: "
        f"{fairness}.",
        f"- **Sample**: {d.rows_are} that were *granted*. Declined applicants have no outcome, so the card has not seen "
        "the applicants a lender would decline (no reject inference).",
        f"- **Outcome window**: {window}.",
    ])


def rules_sentence(params, root=".") -> str:
    """What turns the score into a decision: the business rules params.yaml names (``rules.path``),
    with their version and cut-offs, or that none are configured."""
    from scorecard.card.rules import NO_RULES, rules_for

    rules = rules_for(params, root=root)
    if rules is None:
        return NO_RULES
    return (f"Business rules {rules.version} (`{params.rules.path}`) turn the score into a decision: decline below "
            f"{rules.decline_below}, refer from {rules.decline_below} to {rules.approve_from - 1}, approve from "
            f"{rules.approve_from}; {_count(len(rules.policy_rules), 'policy rule')} decline or refer whatever the score, "
            "and each score band has its loan limit.")


def _count(n: int, noun: str) -> str:
    """ "no policy rule", "1 policy rule", "3 policy rules"."""
    return f"no {noun}" if n == 0 else f"{n:,} {noun}{'' if n == 1 else 's'}"


def money(value: float, currency: str | None) -> str:
    """An amount with thousands separators and its currency code: ``"25,000 USD"``."""
    return f"{value:,.0f}" + (f" {currency}" if currency else "")


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

    from scorecard.build.data import sha256_of

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
                     levers: pd.DataFrame | None = None, params=None) -> list[str]:
    """The card's known weaknesses, each one Markdown sentence with the numbers that show it.

    Parameters
    ----------
    card, metrics, etl_summary : dict
        ``scorecard.json``, ``metrics.json``, ``etl_summary.json``.
    segments : DataFrame
        ``performance_by_segment.csv`` (:func:`scorecard.watch.evaluate.performance_by_segment`).
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
    params : scorecard.config.Params, optional
        The words (``dataset.lender``, ``dataset.rows_are``) and the declared units of the
        fields whose training range is stated.

    Returns
    -------
    list of str
    """
    found = []
    lender = (params.dataset.lender if params is not None else None) or "the lender"
    rows_are = params.dataset.rows_are if params is not None else "applicants"
    sample = sample_phrase(card_split(card))
    if len(small):
        groups = small.groupby(["bin", "count", "bad_rate"], sort=False)
        for (label, count, bad_rate), part in groups:
            names = ", ".join(f"`{f}` ({p} points; next best {n})" for f, p, n in
                              zip(part["feature"], part["points"], part["next_best_points"]))
            found.append(f"**Thin bins with the top points.** For {names} the *{label}* bin — {count} training {rows_are}, "
                         f"bad rate {bad_rate:.1%} — gets the feature's most points: its WoE rests on {count} {rows_are}.")
        for row in spurious.itertuples():
            found.append(f"**Reason codes from the thin bin.** {row.applicants_with_reason:,} test applicants get reason "
                         f"{row.reason_code} (`{row.feature}`); {row.in_best_populated_bin:,} of them "
                         f"({row.share:.0%}) are already in the feature's best well-populated bin, so the reason only "
                         f"reflects the gap to the thin bin above.")
    shifted = {f: v for f, v in metrics["stability"]["csi"].items() if v >= csi_warn}
    if shifted:
        found.append(f"**Shifted features.** CSI from training to {sample} at or above "
                     f"{csi_warn:g}: " + ", ".join(f"`{f}` {v:.3f}" for f, v in sorted(shifted.items(), key=lambda x: -x[1]))
                     + " — the applicant mix changed on these features (see Stability below).")
    samples = {s["sample"]: s for s in etl_summary["samples"]}
    if "train" in samples and "test" in samples and samples["train"]["policy_exceptions"] and not samples["test"]["policy_exceptions"]:
        found.append(f"**Policy exceptions in training only.** {samples['train']['policy_exceptions']:,} training {rows_are} "
                     f"({samples['train']['policy_exceptions'] / samples['train']['rows']:.1%}) were granted outside "
                     f"{lender}'s credit policy; the test sample has none, so the card learned partly from a population "
                     "it no longer scores.")
    overall = metrics["test"]["auc"]
    weak = segments[segments["reliable"] & (segments["auc"] < overall - auc_gap)]
    if len(weak):
        found.append(f"**Weaker segments.** On {sample}, with at least enough bads to read, AUC is more than {auc_gap:g} "
                     f"below the overall {overall:.3f} for: " + ", ".join(
                         f"{r.segment} {r.value} ({r.auc:.3f}, {r.rows:,} {rows_are})" for r in weak.itertuples()) + ".")
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
            found.append("**Features without a validation gain.** Refitted without them on a validation part of the "
                         "training sample, the card's AUC does not fall beyond chance: " + ", ".join(
                             f"`{r.feature}` ({r.auc_change:+.4f}, 95% interval {r.auc_change_low:+.4f} to "
                             f"{r.auc_change_high:+.4f})" for r in idle.itertuples())
                         + " — candidates to drop at the next review (see the Compared page's refits).")

    def number(v: float) -> str:
        return f"{v:,.2f}".rstrip("0").rstrip(".")

    # The declared numeric fields on the card that carry a unit (amounts, ratios in %).
    limits = []
    for f in card["features"]:
        column = f["name"]
        unit = params.unit(column) if params is not None else None
        if unit and column in train and f["type"] == "numeric":
            limits.append(f"`{column}` {number(train[column].min())}–{number(train[column].max())} {unit}")
    if limits:
        found.append(f"**Range of the evidence.** The training {rows_are} span " + ", ".join(limits)
                     + "; outside these ranges the card extrapolates its end bins.")
    return found


# -- the Compared page: benchmark results and the data they are for -----------------------------
#: Each benchmark of the Compared page: its results file, what it is in a reader's words, the
#: command that produces it (``{params}``: the parameters file) and whether it needs a time split.
BENCHMARKS = {
    "model_quality": {
        "file": "reports/benchmarks/model_quality.csv",
        "what": "comparison with the open-source peers",
        "command": ".venv/bin/pip install -r benchmarks/requirements.txt && "
                   ".venv/bin/python benchmarks/model_quality.py --params {params}",
        "needs_time": False},
    "ablation": {
        "file": "reports/benchmarks/ablation.csv",
        "what": "drop-one-group refit of the card",
        "command": ".venv/bin/python benchmarks/ablation.py --params {params}",
        "needs_time": False},
    "levers": {
        "file": "reports/benchmarks/levers.csv",
        "what": "levers' validation",
        "command": ".venv/bin/python benchmarks/levers.py --params {params}",
        "needs_time": False},
    "woe_direction": {
        "file": "reports/benchmarks/woe_direction.csv",
        "what": "check of each card feature's direction out of time",
        "command": ".venv/bin/python benchmarks/woe_direction.py --params {params}",
        "needs_time": True},
}


def benchmark_identity(params, root=".") -> dict:
    """Which data and parameters a benchmark result belongs to.

    Parameters
    ----------
    params : scorecard.config.Params
        The parameters the benchmark ran with (or the page is rendered with).
    root : path
        Project root that the applicant file's path is resolved against.

    Returns
    -------
    dict
        ``dataset_id`` (``params.dataset.id``; None without one), ``population`` (the id, or
        ``sha256:`` and 16 hex digits of the applicant file), ``dataset_name``,
        ``params_digest`` (:meth:`Params.digest`), ``applicants_path`` and ``applicants_sha256``
        (of the file itself; the declared ``data.applicants.sha256`` when the file is absent).
    """
    from scorecard.build.data import resolve, sha256_of

    path = resolve(params.data.applicants.path, root)
    sha = sha256_of(path) if path.is_file() else params.data.applicants.sha256
    dataset = getattr(params, "dataset", None)
    population = dataset.identity(sha) if hasattr(dataset, "identity") else f"sha256:{(sha or 'unknown')[:16]}"
    return {"dataset_id": getattr(dataset, "id", None), "population": population,
            "dataset_name": getattr(dataset, "name", None), "params_digest": params.digest(),
            "applicants_path": str(params.data.applicants.path), "applicants_sha256": sha}


def benchmark_metadata(results_path) -> dict | None:
    """The metadata written beside a benchmark's results (``<name>.json`` next to ``<name>.csv``),
    or None when there is none."""
    import json
    from pathlib import Path

    path = Path(results_path).with_suffix(".json")
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _short(digest: str | None) -> str:
    return f"`{digest[:12]}`" if digest else "unknown"


class BenchmarkStatus:
    """Whether a benchmark's committed results may be shown beside the card.

    Attributes
    ----------
    name : str
        The key in :data:`BENCHMARKS`.
    show : bool
        The results are for these data: the same dataset id and the same applicant file
        (sha256) as the current parameters.
    current : bool
        ``show``, and run with the card's own parameters (the same params digest).
    sentence : str
        One Markdown sentence for the reader: why nothing is shown and the command to run, or
        that the card has changed since the benchmark ran; "" when the results are current.
    metadata : dict or None
        The results' metadata (:func:`benchmark_metadata`).
    command : str
        The exact command that (re)produces the results for the current parameters.
    """

    def __init__(self, name, show, current, sentence, metadata, command):
        self.name, self.show, self.current = name, show, current
        self.sentence, self.metadata, self.command = sentence, metadata, command

    def __repr__(self) -> str:
        return f"BenchmarkStatus({self.name!r}, show={self.show}, current={self.current}, sentence={self.sentence!r})"


def benchmark_status(name: str, params, identity: dict, root=".", params_file: str = "params.yaml",
                     results_path=None) -> BenchmarkStatus:
    """Decide whether the committed results of benchmark ``name`` are for the current card.

    The results are shown only when their recorded identity names the same dataset id and the
    same applicant file (sha256) as ``identity``: a comparison run on other data says nothing
    about this card. When only the params digest differs (same data, other parameters: a binning
    or selection setting, the features offered, the split) the results are shown with a warning
    that the card has changed since they ran: the peers' figures still describe these data, but
    the card's own row is an earlier card's, which a validator must not take for this one.

    Parameters
    ----------
    name : str
        A key of :data:`BENCHMARKS`.
    params : scorecard.config.Params
        The current parameters (a benchmark that needs a time split is not run without one).
    identity : dict
        :func:`benchmark_identity` of the current parameters.
    root : path
        Project root (the results' default path is relative to it).
    params_file : str
        The parameters file as the command should name it.
    results_path : path, optional
        The results file; default ``BENCHMARKS[name]["file"]`` under ``root``.

    Returns
    -------
    BenchmarkStatus
    """
    from pathlib import Path

    spec = BENCHMARKS[name]
    command = spec["command"].format(params=params_file)
    run = f"run `{command}`"
    path = Path(results_path) if results_path is not None else Path(root) / spec["file"]
    if spec["needs_time"] and params.split.method != "time":
        return BenchmarkStatus(name, False, False, (
            f"The {spec['what']} needs an application date (`data.date_column`) and an out-of-time split "
            f"(`split.method: time`); these parameters have `split.method: {params.split.method}`, so it is not run "
            "for these data."), None, command)
    metadata = benchmark_metadata(path) if path.is_file() else None
    recorded = (metadata or {}).get("identity")
    if recorded is None:
        why = "there are no results" if not path.is_file() else f"its results (`{spec['file']}`) do not record their data"
        return BenchmarkStatus(name, False, False,
                               f"The {spec['what']} has not been run for these data ({why}): {run}.", metadata, command)
    same_data = (recorded.get("dataset_id") == identity["dataset_id"]
                 and recorded.get("applicants_sha256") == identity["applicants_sha256"])
    if not same_data:
        # The other population is named by its file's sha256 only: its name (a lender's) has no place on
        # a page about these data.
        then = (f"another applicant file, sha256 {_short(recorded.get('applicants_sha256'))}"
                if recorded.get("applicants_sha256") != identity["applicants_sha256"]
                else "the same applicant file under another dataset id")
        return BenchmarkStatus(name, False, False, (
            f"The {spec['what']} has not been run for these data (the committed results are for {then}; these data "
            f"are `{identity['population']}`, sha256 {_short(identity['applicants_sha256'])}): {run}."),
            metadata, command)
    if recorded.get("params_digest") != identity["params_digest"]:
        return BenchmarkStatus(name, True, False, (
            f"**The card has changed since this benchmark ran:** the results below are for these data but for other "
            f"parameters (params digest {_short(recorded.get('params_digest'))} then, "
            f"{_short(identity['params_digest'])} now), so the card's figures are an earlier card's; {run} before "
            "relying on them."), metadata, command)
    return BenchmarkStatus(name, True, True, "", metadata, command)


def _window(value) -> tuple[str, str]:
    """A recorded window, ``[start, end]`` or ``"start..end"``."""
    return tuple(value.split("..")) if isinstance(value, str) else tuple(value)


def split_description(split: dict) -> str:
    """How a benchmark's samples were drawn, from its recorded ``split``, e.g. "train on
    applications dated 2007-01-01 to 2010-12-31 (20,814 rows), test on 2011-01-01 to 2011-12-31
    (21,721 rows)" or "a stratified 20% test sample (seed 7): train on 1,600 rows, test on 400"."""
    rows = (lambda key: f" ({split[key]:,} rows)" if key in split else "")
    method = split.get("method", "time")
    if method == "time":
        (a, b) = _window(split.get("train_window", split.get("train")))
        (c, d) = _window(split.get("test_window", split.get("test")))
        on = f" on `{split['date_column']}`" if split.get("date_column") else ""
        return f"train on applications dated {a} to {b}{on}{rows('rows_train')}, test on {c} to {d}{rows('rows_test')}"
    kind = ("a stratified" if method == "stratified" else "a random")
    how = "; bads and goods drawn apart, so both samples keep the bad rate" if method == "stratified" else ""
    counts = (f": train on {split['rows_train']:,} rows, test on {split['rows_test']:,}"
              if "rows_train" in split and "rows_test" in split else "")
    return f"{kind} {split['test_share']:.0%} test sample (seed {split['seed']}{how}){counts}"


def sample_phrase(split: dict) -> str:
    """The test sample in a few words: "the test sample (2011-01-01 to 2011-12-31)" or "the
    stratified 20% test sample"."""
    method = split.get("method", "time")
    if method == "time":
        window = split.get("test_window", split.get("test"))
        if not window:
            return "the out-of-time test sample"
        c, d = _window(window)
        return f"the out-of-time test sample ({c} to {d})"
    return f"the {'stratified' if method == 'stratified' else 'random'} {split['test_share']:.0%} test sample"


def card_split(card: dict) -> dict:
    """How the card's samples were drawn, from its ``created_from``: the method with its share
    and seed (``split``), or, for an out-of-time split, its windows (``method: time``)."""
    created = card.get("created_from", {})
    if "split" in created:
        return created["split"]
    return {"method": "time", "train_window": created.get("train_window"), "test_window": created.get("test_window")}


def validation_description(validation: dict) -> str:
    """How ``benchmarks/levers.py`` cut its validation slice from the training sample."""
    if validation.get("method", "time") == "time":
        a, b = _window(validation["fit_window"])
        c, d = _window(validation["validation_window"])
        return (f"fit on applications dated {a} to {b} ({validation['rows_fit']:,} rows), validate on {c} to {d} "
                f"({validation['rows_validation']:,} rows), both inside the training window")
    how = " stratified by the outcome" if validation["method"] == "stratified" else " at random"
    return (f"fit on {validation['rows_fit']:,} rows of the training sample and validate on the other "
            f"{validation['rows_validation']:,} ({validation['share']:.0%} drawn{how}, seed {validation['seed']})")


def model_quality_summary(results: pd.DataFrame, metadata: dict) -> str:
    """The card against the best peer on AUC and on KS, with the paired bootstrap interval and
    whether it holds 0, in one Markdown paragraph computed from ``model_quality.csv`` and its
    JSON."""
    card = results.iloc[0]
    ran = results.iloc[1:].dropna(subset=["auc"])
    split = metadata.get("split", {})
    resamples = metadata.get("bootstrap_resamples", 1000)
    sample = sample_phrase(split)

    def verdict(metric):
        if not len(ran):
            return "no peer could run"
        peer = ran.sort_values(metric, ascending=False).iloc[0]
        low, high = peer[f"card_minus_{metric}_low"], peer[f"card_minus_{metric}_high"]
        side = "above" if card[metric] >= peer[metric] else "below"
        chance = ("a difference the test sample cannot tell from chance" if low <= 0 <= high
                  else "a difference beyond chance")
        return (f"the best peer is {peer['model']} at {peer[metric]:.4f}: the card is "
                f"{abs(card[metric] - peer[metric]):.4f} {side}, and the card-minus-peer difference over "
                f"{resamples:,} paired resamples of {sample} lies between {low:+.4f} and {high:+.4f} (95%): {chance}")

    packages = ", ".join(f"{k} {v}" for k, v in metadata.get("packages", {}).items() if v)
    cpus = metadata.get("cpu_count")
    return (f"Split: {split_description(split)}. Test AUC of the card: **{card['auc']:.4f}**; {verdict('auc')}. "
            f"KS of the card: **{card['ks']:.4f}**; {verdict('ks')}. Measured on {metadata['date'][:10]} with "
            f"{packages}. Fit times are wall-clock seconds on {cpus} cores and vary with the machine's load; the "
            "metrics do not.")


def ablation_summary(ablation: pd.DataFrame, metadata: dict | None = None) -> str:
    """What each feature group adds, from ``ablation.csv``: the groups in order of their AUC
    contribution, and the groups none of whose features the full card keeps."""
    full = ablation.iloc[0]
    kept = set(str(full["card_features"]).split())
    groups = ablation.iloc[1:].sort_values("auc_contribution", ascending=False)
    if not len(groups):
        return "No feature group was dropped: the card's candidates form a single group."
    listed = "; ".join(f"{r.variant.removeprefix('without ')} {r.auc_contribution:+.4f} AUC, {r.ks_contribution:+.4f} KS"
                       for r in groups.itertuples())
    text = f"Contribution of each group (the full card minus the card refitted without it): {listed}."
    unused = [r.variant.removeprefix("without ") for r in groups.itertuples()
              if not kept & set(str(r.dropped).split())]
    if unused:
        text += (f" None of the features of {', '.join(unused)} is in the full card, so removing "
                 f"{'it' if len(unused) == 1 else 'them'} changes nothing beyond what the refit selects instead.")
    negative = [r.variant.removeprefix("without ") for r in groups.itertuples() if r.auc_contribution < 0]
    if negative:
        text += f" Without {', '.join(negative)} the card's test AUC is higher."
    if metadata and metadata.get("split"):
        text += f" Measured on {sample_phrase(metadata['split'])}."
    return text


def levers_summary(levers: pd.DataFrame) -> str:
    """Which levers change the validation AUC beyond chance, and what that means for the card's
    choices, from ``levers.csv``."""
    others = levers.iloc[1:].dropna(subset=["auc_change_low"])
    beyond = others[(others["auc_change_low"] > 0) | (others["auc_change_high"] < 0)]

    def names(frame, kept=False):
        def which(r):
            return {"yes": ", a choice of the card", "no": ", left out of the card"}.get(r.kept_in_card, "") if kept else ""
        return ", ".join(f"{r.lever} ({r.auc_change:+.4f}{which(r)})" for r in frame.itertuples())

    text = f"Levers whose AUC change is beyond chance on the slice: {names(beyond, kept=True) or 'none'}"
    text += "; every other change is within the slice's sampling error." if len(beyond) < len(others) else "."
    left_out_gain = others[(others["kept_in_card"] == "no") & (others["auc_change_low"] > 0)]
    kept_within = others[(others["kept_in_card"] == "yes") & (others["auc_change_low"] <= 0)
                         & (others["auc_change_high"] >= 0)]
    kept_needed = others[(others["kept_in_card"] == "yes") & (others["auc_change_high"] < 0)]
    if len(left_out_gain):
        text += f" **Left out of the card although it gains beyond chance**: {names(left_out_gain)}."
    if len(kept_needed):
        text += f" Undoing these choices of the card loses beyond chance: {names(kept_needed)}."
    if len(kept_within):
        text += f" Undoing these choices of the card changes the AUC by less than chance: {names(kept_within)}."
    return text


def woe_direction_summary(direction: pd.DataFrame, metadata: dict | None = None) -> str:
    """How many of the card's bins change the sign of their WoE from training to the test
    sample, from ``woe_direction.csv``."""
    flips, drift = direction[direction["flips"]], direction[direction["near_neutral_drift"]]
    sample = sample_phrase((metadata or {}).get("split", {"method": "time", "test": "?..?"})) \
        if metadata else "the test sample"
    text = (f"For each of the card's {direction['feature'].nunique()} features, every bin's weight of evidence on "
            f"the training sample against {sample} (`benchmarks/woe_direction.py`): **{len(flips)} bins change sign** "
            f"with points that matter; {len(drift)} near-neutral bins (0 or 1 point) lean slightly the other way")
    if len(flips):
        text += f" (flipped: {', '.join(f'`{r.feature}` {r.bin}' for r in flips.itertuples())})"
    return text + "."


def benchmark_notes(notes_path, name: str, identity: dict) -> list[str]:
    """Analysts' readings of one benchmark's committed results, shown only for the data they read.

    Parameters
    ----------
    notes_path : path
        A YAML file of notes: each has ``benchmark`` (a key of :data:`BENCHMARKS`), the
        ``applicants_sha256`` (and, optionally, ``dataset_id``) of the results it reads, and
        ``text`` (Markdown paragraphs, separated by blank lines).
    name : str
        The benchmark.
    identity : dict
        :func:`benchmark_identity` of the current parameters.

    Returns
    -------
    list of str
        The paragraphs of the notes written for these data (none for other data).
    """
    from pathlib import Path

    import yaml

    path = Path(notes_path)
    if not path.is_file():
        return []
    notes = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    out = []
    for note in notes:
        if note.get("benchmark") != name or note.get("applicants_sha256") != identity["applicants_sha256"]:
            continue
        if "dataset_id" in note and note["dataset_id"] != identity["dataset_id"]:
            continue
        out += [" ".join(p.split()) for p in note["text"].split("\n\n") if p.strip()]
    return out
