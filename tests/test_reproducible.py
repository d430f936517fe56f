"""Two clean runs give byte-identical scorecard.json, metrics.json and explanations, and the
committed files are exactly what the pipeline gives."""

import json

import pandas as pd

from scorecard.watch.explain import EXPLANATIONS_FILE
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


# -- the card across machines: BLAS threads -------------------------------------------------------
FIT = """
import json, sys
from pathlib import Path
from scorecard.build import assemble
from scorecard.config import load_params
root, processed, card_path = map(Path, sys.argv[1:4])
assemble.run(load_params(root / "params.yaml"), root=root, processed_dir=processed, card_path=card_path)
try:
    from threadpoolctl import threadpool_info
    print(json.dumps(sorted({i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"})))
except ImportError:
    print("null")
"""


def test_card_bytes_do_not_depend_on_blas_threads(params, root, tmp_path):
    """The same fit with BLAS on 1 and on 2 threads (a different summation order, as on another
    machine: the exact coefficients differ in their last digit) writes byte-identical
    scorecard.json and model.json, with the same integer points."""
    import os
    import shutil
    import subprocess
    import sys

    from conftest import project_env
    from scorecard.build import binning, etl
    from scorecard.build.assemble import MODEL_FILE

    processed = tmp_path / "processed"
    etl.run(params, root=root, out_dir=processed)
    binning.run(params, root=root, processed_dir=processed)
    outputs = {}
    for threads in (1, 2):
        work = tmp_path / f"threads_{threads}"
        shutil.copytree(processed, work)
        env = project_env()
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[name] = str(threads)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
        done = subprocess.run([sys.executable, "-c", FIT, str(root), str(work), str(work / "scorecard.json")],
                              env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        blas_threads = json.loads(done.stdout.strip().splitlines()[-1])
        assert blas_threads in (None, [threads]), blas_threads
        outputs[threads] = {name: (work / name).read_bytes() for name in ("scorecard.json", MODEL_FILE)}
    assert outputs[1]["scorecard.json"] == outputs[2]["scorecard.json"]
    assert outputs[1][MODEL_FILE] == outputs[2][MODEL_FILE]
    committed = json.loads((root / "scorecard/scorecard.json").read_text())
    fitted = json.loads(outputs[1]["scorecard.json"])
    assert points_of(fitted) == points_of(committed)


def points_of(card: dict) -> dict:
    return {"base": card["scaling"]["base_points"],
            **{f["name"]: [b["points"] for b in f["bins"]] for f in card["features"]}}
