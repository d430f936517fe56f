"""Every stage in one call, without notebooks: for tests, experiments and other datasets.

The DVC pipeline runs the same stage functions one notebook at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scorecard.build import binning, assemble, etl
from scorecard.watch import evaluate, explain
from scorecard.card import Card
from scorecard.config import Params


@dataclass
class PipelineResult:
    etl: etl.EtlResult
    binning: binning.Binning
    scorecard: assemble.ScorecardResult
    card: Card
    evaluation: dict


def run_all(params: Params, root: str | Path, out_dir: str | Path, applicants_path: str | Path | None = None) -> PipelineResult:
    """Run etl → binning → scorecard → evaluate → explain, writing every output under
    ``out_dir`` (processed tables, ``scorecard.json``, ``metrics.json``, plot data)."""
    out = Path(out_dir)
    processed = out / "processed"
    etl_result = etl.run(params, root=root, out_dir=processed, applicants_path=applicants_path)
    fitted = binning.run(params, root=root, processed_dir=processed)
    built = assemble.run(params, root=root, processed_dir=processed, card_path=out / "scorecard.json")
    card = Card(built.card)
    evaluation = evaluate.run(params, card, processed_dir=processed, metrics_path=out / "metrics.json",
                              plots_dir=out / "plots", root=root, applicants_path=applicants_path)
    explain.run(params, card, processed_dir=processed)
    return PipelineResult(etl_result, fitted, built, card, evaluation)
