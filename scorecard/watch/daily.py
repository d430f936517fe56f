"""The daily run: re-train, check drift, decide champion/challenger, write the report.

``make daily`` (and the GitHub workflow ``.github/workflows/daily.yml``) runs
``python -m scorecard.watch.daily``, which does, in the project root:

1. ``dvc repro``: re-executes every notebook whose inputs changed and builds the challenger
   (``scorecard/scorecard.json``, ``metrics.json``) and the report site;
2. monitoring (:mod:`scorecard.watch.monitor`): score PSI and feature CSI of the out-of-time
   applicants against the card's development sample, overall and by application month;
3. champion/challenger (:mod:`scorecard.watch.promote`): both cards score the out-of-time
   applicants; the challenger replaces ``models/champion/`` only if the rules of
   ``params.yaml`` (``promotion``) allow it;
4. the report, in ``reports/daily/``: ``summary.md`` (metrics with their change against the
   previous run, the decision and why, the monitoring result), ``decision.json``,
   ``monitor.json``, and ``last_run.json``, which the next run compares with;
5. ``dvc push``: data and models to the default DVC remote.

Exit code 0 whatever the decision (a kept champion is a result, not a failure); 1 when
``dvc repro`` or ``dvc push`` fails; 2 when an input is wrong (parameters, card, data).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from scorecard import card as cardlib
from scorecard.watch import monitor, promote
from scorecard.config import load_params
from scorecard.errors import ScorecardError

OUT_DIR = Path("reports/daily")
SUMMARY_FILE = "summary.md"
DECISION_FILE = "decision.json"
MONITOR_FILE = "monitor.json"
LAST_RUN_FILE = "last_run.json"
CARD_PATH = Path("scorecard/scorecard.json")
METRICS_PATH = Path("metrics.json")
TRAIN_PATH = Path("data/processed/train.parquet")
TEST_PATH = Path("data/processed/test.parquet")
#: (label, section of metrics.json, key) of the metrics table, in order.
METRIC_ROWS = [
    ("train AUC", "train", "auc"), ("test AUC (out of time)", "test", "auc"),
    ("train Gini", "train", "gini"), ("test Gini", "test", "gini"),
    ("train KS", "train", "ks"), ("test KS", "test", "ks"),
    ("train Brier", "train", "brier"), ("test Brier", "test", "brier"),
    ("score PSI train → test", "stability", "psi_score"), ("largest feature CSI", "stability", "csi_max"),
]


class StepFailed(Exception):
    """A command of the run (dvc repro, dvc push) failed."""


@dataclass
class DailyResult:
    """What one daily run did."""

    summary: Path
    decision: promote.Decision
    monitor_status: str
    pushed: bool


def _env() -> dict:
    """Environment for dvc: this interpreter's bin first (papermill, jupyter), offline Quarto."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), str(Path.home() / ".local/bin"),
                                   env.get("PATH", "")])
    env.setdefault("QUARTO_PYTHON", sys.executable)
    env.setdefault("PYTHONHASHSEED", "0")
    env["DVC_NO_ANALYTICS"] = "1"
    return env


def _dvc(root: Path, *args: str) -> None:
    exe = Path(sys.executable).parent / "dvc"
    cmd = [str(exe) if exe.exists() else "dvc", *args]
    print(f"daily: $ {' '.join(['dvc', *args])}", flush=True)
    if subprocess.run(cmd, cwd=root, env=_env()).returncode != 0:
        raise StepFailed(f"`dvc {' '.join(args)}` failed (its output is above)")


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except json.JSONDecodeError as error:
        raise ScorecardError(f"{path}: not valid JSON: {error}") from None


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f".{path.name}.part")
    part.write_text(text, encoding="utf-8")
    os.replace(part, path)


# -- the report -------------------------------------------------------------------------------
def _num(value, digits: int = 4) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _change(new, old, digits: int = 4) -> str:
    if new is None or old is None:
        return "–"
    return f"{new - old:+.{digits}f}"


def metrics_table(current: dict, previous: dict | None) -> str:
    """Markdown table of this run's metrics, the previous run's and the change."""
    lines = ["| metric | this run | previous run | change |", "|---|---:|---:|---:|"]
    for label, section, key in METRIC_ROWS:
        new = current.get(section, {}).get(key)
        old = None if previous is None else previous.get(section, {}).get(key)
        lines.append(f"| {label} | {_num(new)} | {_num(old)} | {_change(new, old)} |")
    return "\n".join(lines)


def comparison_table(comparison: promote.Comparison, decision: promote.Decision) -> str:
    """Markdown table of champion against challenger on the same applicants."""
    old, new = comparison.champion or {}, comparison.challenger
    lines = [f"| on {comparison.rows:,} out-of-time applicants | champion {old.get('model_version', '–')} | "
             f"challenger {new['model_version']} | change | rule |",
             "|---|---:|---:|---:|---|"]
    for label, key in (("AUC", "auc"), ("Gini", "gini"), ("KS", "ks"), ("Brier", "brier")):
        rule = f"drop of at most {decision.max_auc_drop:g}" if key == "auc" else ""
        lines.append(f"| {label} | {_num(old.get(key))} | {_num(new.get(key))} | "
                     f"{_change(new.get(key), old.get(key))} | {rule} |")
    lines.append(f"| score PSI champion → challenger | | | {_num(comparison.score_psi)} | "
                 f"below {decision.max_score_psi:g} |")
    return "\n".join(lines)


def monitor_section(result: monitor.MonitorResult) -> str:
    """Markdown: overall status, the index of every line, and one line per month."""
    t = result.thresholds
    out = [f"New applicants: {result.input} ({result.rows:,}) against the development sample {result.reference} "
           f"({result.reference_rows:,}). Status **{result.status}** (PSI warn/alert {t.psi_warn:g}/{t.psi_alert:g}, "
           f"CSI warn/alert {t.csi_warn:g}/{t.csi_alert:g}).", ""]
    out += [f"> note: {note}" for note in result.notes]
    out += ["| variable | index | value | status |", "|---|---|---:|---|"]
    out += [f"| {r.variable} | {r.measure.upper()} | {r.value:.4f} | {r.status} |" for r in result.overall.itertuples()]
    if result.by_month is not None:
        out += ["", f"By month of `{result.month_column}`:", "",
                "| month | applicants | score PSI | largest CSI | status |", "|---|---:|---:|---|---|"]
        for r in monitor.month_summary(result.by_month).itertuples():
            top = "–" if r.csi_max_feature is None else f"{r.csi_max:.4f} ({r.csi_max_feature})"
            out.append(f"| {r.month} | {r.applicants:,} | {r.psi_score:.4f} | {top} | {r.status} |")
    return "\n".join(out)


def render_summary(when: str, decision: promote.Decision, comparison: promote.Comparison, current: dict,
                   previous_run: dict | None, monitored: monitor.MonitorResult, champion_dir: str) -> str:
    """The daily report as Markdown (the job summary and the e-mail)."""
    previous = None if previous_run is None else previous_run.get("metrics")
    since = ("No previous run recorded: nothing to compare with yet." if previous_run is None else
             f"Change against the previous run ({previous_run.get('run_at', '?')}, card "
             f"{previous_run.get('model_version', '?')}).")
    verdict = {"promoted": f"the challenger is now in production (`{champion_dir}/`)",
               "kept": f"the champion in `{champion_dir}/` stays",
               "unchanged": f"the champion in `{champion_dir}/` stays"}[decision.outcome]
    parts = [
        f"# Daily scorecard run: {when}",
        "",
        f"**Decision: {decision.outcome}**: {decision.headline}; {verdict}.",
        "",
        *[f"- {reason}" for reason in decision.reasons],
        "",
        f"## Metrics of this run's card ({current.get('model_version', '?')})",
        "",
        since,
        "",
        metrics_table(current, previous),
        "",
        "## Champion and challenger",
        "",
        comparison_table(comparison, decision) if comparison.champion else
        "No champion in production: nothing to compare with.",
        "",
        "## Monitoring",
        "",
        monitor_section(monitored),
        "",
    ]
    return "\n".join(parts)


# -- the run ----------------------------------------------------------------------------------
def run(root: str | Path = ".", *, repro: bool = True, push: bool = True, champion_dir: str | Path | None = None,
        out_dir: str | Path | None = None, now: dt.datetime | None = None) -> DailyResult:
    """One daily run in ``root`` (see the module's docstring).

    Parameters
    ----------
    root : str or Path
        The project root.
    repro, push : bool
        Run ``dvc repro`` first / ``dvc push`` last.
    champion_dir, out_dir : str or Path, optional
        Default ``models/champion`` and ``reports/daily`` under ``root``.
    now : datetime, optional
        The run's time (UTC); default: now.

    Returns
    -------
    DailyResult

    Raises
    ------
    StepFailed
        ``dvc repro`` or ``dvc push`` failed.
    ScorecardError
        Parameters, card or data are wrong; the challenger's metrics are not for its card.
    """
    root = Path(root).resolve()
    champion_dir = root / (champion_dir or promote.CHAMPION_DIR)
    out = root / (out_dir or OUT_DIR)
    when = (now or dt.datetime.now(dt.timezone.utc)).strftime("%Y-%m-%d %H:%M UTC")
    if repro:
        _dvc(root, "repro")
    params = load_params(root / "params.yaml")
    width = params.evaluate.band_width
    challenger = cardlib.load(root / CARD_PATH)
    current = _read_json(root / METRICS_PATH)
    if current is None or current.get("model_version") != challenger.version:
        found = None if current is None else current.get("model_version")
        raise ScorecardError(f"{METRICS_PATH} is for card {found}, {CARD_PATH} is card {challenger.version}: "
                             "run `dvc repro` so that both come from the same run")

    print("daily: monitoring the out-of-time applicants against the development sample", flush=True)
    monitored = monitor.run(root / TEST_PATH, challenger, root / TRAIN_PATH, params.monitoring, width,
                            month_column=params.data.date_column,
                            no_month_reason=None if params.data.date_column else monitor.NO_DATE_REASON)
    monitored.input, monitored.reference = TEST_PATH, TRAIN_PATH  # reported relative to the root

    print("daily: champion/challenger on the out-of-time applicants", flush=True)
    champion = promote.load_champion(champion_dir)
    import pandas as pd

    comparison = promote.compare(champion, challenger, pd.read_parquet(root / TEST_PATH), width)
    decision = promote.decide_on(comparison, params.promotion)
    if decision.promoted:
        promote.install(root / CARD_PATH, root / METRICS_PATH, decision, champion_dir, when)

    previous_run = _read_json(out / LAST_RUN_FILE)
    shown_dir = champion_dir.relative_to(root) if champion_dir.is_relative_to(root) else champion_dir
    summary = render_summary(when, decision, comparison, current, previous_run, monitored, str(shown_dir))
    _write(out / SUMMARY_FILE, summary)
    _write(out / DECISION_FILE, json.dumps({"run_at": when, **decision.to_dict(),
                                            "champion_metrics": comparison.champion,
                                            "challenger_metrics": comparison.challenger,
                                            "rows": comparison.rows}, indent=2) + "\n")
    _write(out / MONITOR_FILE, json.dumps(monitored.to_dict(), indent=2, default=str) + "\n")
    _write(out / LAST_RUN_FILE, json.dumps({"run_at": when, "model_version": challenger.version,
                                            "outcome": decision.outcome, "metrics": current}, indent=2) + "\n")
    if push:
        _dvc(root, "push")
    return DailyResult(out / SUMMARY_FILE, decision, monitored.status, push)


def _annotate(result: DailyResult) -> None:
    """GitHub Actions annotations (only inside a workflow run)."""
    if os.environ.get("GITHUB_ACTIONS") != "true":
        return
    d = result.decision
    level = "warning" if d.outcome == "kept" else "notice"
    print(f"::{level} title=Champion/challenger::{d.outcome}: {d.reasons[0]}")
    if result.monitor_status != "ok":
        level = "warning" if result.monitor_status == "alert" else "notice"
        print(f"::{level} title=Monitoring::drift status {result.monitor_status} (see the job summary)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scorecard.watch.daily", description=__doc__.split("\n")[0])
    parser.add_argument("--root", default=".", help="project root (default: the current directory)")
    parser.add_argument("--no-repro", dest="repro", action="store_false", help="skip `dvc repro`")
    parser.add_argument("--no-push", dest="push", action="store_false", help="skip `dvc push`")
    parser.add_argument("--champion-dir", default=str(promote.CHAMPION_DIR),
                        help="the card in production, under the root (default: %(default)s)")
    parser.add_argument("--out", default=str(OUT_DIR), help="report folder, under the root (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        result = run(args.root, repro=args.repro, push=args.push, champion_dir=args.champion_dir, out_dir=args.out)
    except StepFailed as error:
        print(f"daily: error: {error}", file=sys.stderr)
        return 1
    except ScorecardError as error:
        print(f"daily: error: {error}", file=sys.stderr)
        return 2
    d = result.decision
    print(f"daily: {d.outcome}: {d.headline}")
    for reason in d.reasons:
        print(f"daily:   - {reason}")
    print(f"daily: monitoring status {result.monitor_status}; report {result.summary}")
    _annotate(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
