"""Two clean runs give byte-identical scorecard.json, metrics.json and explanations, and the
committed files are exactly what the pipeline gives."""

import pandas as pd

from scorecard.explain import EXPLANATIONS_FILE
from scorecard.pipeline import run_all


def test_two_clean_runs_are_byte_identical(full_run, params, root, tmp_path):
    first, _ = full_run
    second = tmp_path / "second"
    run_all(params, root, second)
    for name in ("scorecard.json", "metrics.json", f"processed/{EXPLANATIONS_FILE}"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    pd.testing.assert_frame_equal(pd.read_parquet(first / "processed" / EXPLANATIONS_FILE),
                                  pd.read_parquet(second / "processed" / EXPLANATIONS_FILE))


def test_committed_metrics_are_current(full_run, root):
    first, _ = full_run
    assert (root / "metrics.json").read_bytes() == (first / "metrics.json").read_bytes()
