"""The etl stage: raw files to validated, feature-complete train and test tables."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from scorecard.config import Params
from scorecard.build.data import IGNORED_COLUMNS, POLICY_FLAG, TARGET, load_applicants
from scorecard.build.environment import join_environment
from scorecard.build.features import SAMPLE, add_derived, model_frame, split
from scorecard.card.rules import rules_for

TRAIN_FILE, TEST_FILE, SUMMARY_FILE = "train.parquet", "test.parquet", "etl_summary.json"
log = logging.getLogger("scorecard.build.etl")


@dataclass
class EtlResult:
    train: pd.DataFrame
    test: pd.DataFrame
    exclusions: pd.DataFrame
    summary: dict


def sample_summary(frame: pd.DataFrame, params: Params) -> pd.DataFrame:
    """Rows, bads, bad rate, policy exceptions and date range per sample."""
    date = params.data.date_column
    dates = {"first_date": (date, "min"), "last_date": (date, "max")} if date else {}
    table = frame.groupby(SAMPLE, sort=False).agg(
        rows=(TARGET, "size"), bad=(TARGET, "sum"), policy_exceptions=(POLICY_FLAG, "sum"), **dates,
    )
    table["bad_rate"] = (table["bad"] / table["rows"]).round(4)
    for column in dates:
        table[column] = table[column].dt.strftime("%Y-%m-%d")
    return table.reindex(["train", "test"]).dropna(how="all").reset_index()


def split_summary(params: Params) -> dict:
    """How the samples were drawn, for the summary: the method and its windows, or its share
    and seed."""
    s = params.split
    if s.method == "time":
        return {"method": "time", "date_column": params.data.date_column,
                "train_window": [str(s.train_start), str(s.train_end)],
                "test_window": [str(s.test_start), str(s.test_end)]}
    return {"method": s.method, "test_share": s.test_share, "seed": s.seed,
            **({"stratified_by": "target (bad / good)"} if s.method == "stratified" else {})}


def target_summary(params: Params) -> dict:
    """The outcome's definition, for the summary."""
    target = params.data.target
    if target.rule is not None:
        return {"column": target.column, "rule": target.rule.model_dump(),
                **target.rule.describe(target.column)}
    return {"column": target.column, "bad": list(target.bad), "good": list(target.good)}


def environment_summary(params: Params) -> dict:
    """The environment sources joined (none: 'no environment source')."""
    sources = params.environment.enabled_sources()
    if not sources:
        return {"sources": [], "columns": [], "note": "no environment source"}
    return {"sources": list(sources), "join_key": params.environment.join_key,
            "columns": [c for spec in sources.values() for c in spec.output_columns()]}


def run(params: Params, root: str | Path = ".", out_dir: str | Path | None = None,
        applicants_path: str | Path | None = None) -> EtlResult:
    """Load, validate, join the environment, derive features and split (``split.method``).

    Writes ``train.parquet``, ``test.parquet`` and ``etl_summary.json`` to ``out_dir`` when
    given. Rows in always equal train + test + excluded rows (checked here). Columns of the
    file that ``data.columns`` does not declare are accepted, never read, and listed in the
    summary under ``columns_ignored`` (and logged).

    First, before any data are read, the business rules params.yaml names (``rules.path``) are
    checked against these parameters (:func:`scorecard.card.rules.rules_for`): rules that read
    fields this applicant file does not have, or that were written for another dataset, stop
    the run here with a message naming the rules file, the rule and the field, not at the
    explain stage hours later.

    Raises
    ------
    scorecard.errors.RulesError
        The rules file is missing, invalid or written for other data.
    """
    rules_for(params, root=root)
    raw = load_applicants(params, root=root, path=applicants_path)
    ignored = list(raw.attrs.get(IGNORED_COLUMNS, []))
    if ignored:
        log.info("%d column(s) of the applicant file are not declared in params.yaml (data.columns) and are "
                 "ignored: %s", len(ignored), ", ".join(ignored))
    joined = join_environment(raw, params.environment, params.data.date_column, root=root)
    featured = add_derived(joined, params)
    kept, exclusions = split(featured, params)
    frame = model_frame(kept, params)
    train = frame[frame[SAMPLE] == "train"].drop(columns=SAMPLE).reset_index(drop=True)
    test = frame[frame[SAMPLE] == "test"].drop(columns=SAMPLE).reset_index(drop=True)
    rows_in = len(raw)
    if rows_in != len(train) + len(test) + int(exclusions["rows"].sum()):
        raise AssertionError("row accounting failed: rows in != train + test + excluded")
    summary = {
        "rows_in": rows_in,
        "rows_train": len(train),
        "rows_test": len(test),
        "rows_excluded": int(exclusions["rows"].sum()),
        "exclusions": exclusions.to_dict("records"),
        "samples": sample_summary(frame, params).to_dict("records"),
        "features": list(params.features.model_features),
        # Columns of the file that params.yaml does not declare: accepted, never read.
        "columns_ignored": ignored,
        "split": split_summary(params),
        "target": target_summary(params),
        "environment": environment_summary(params),
    }
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        train.to_parquet(out / TRAIN_FILE, index=False)
        test.to_parquet(out / TEST_FILE, index=False)
        (out / SUMMARY_FILE).write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return EtlResult(train, test, exclusions, summary)


def load_processed(out_dir: str | Path = "data/processed") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read the train and test tables written by :func:`run`."""
    out = Path(out_dir)
    return pd.read_parquet(out / TRAIN_FILE), pd.read_parquet(out / TEST_FILE)
