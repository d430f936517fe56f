"""Notebooks are tested code: committed without outputs or business logic, and every one runs
under nbval on a small sample of the real data, injected through its parameters."""

import json
import subprocess
import sys

import papermill
import pytest
import yaml

from conftest import ROOT, copy_project_inputs, project_env

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_is_a_notebook_per_stage():
    assert [p.stem for p in NOTEBOOKS] == ["01_etl", "02_binning", "03_scorecard", "04_evaluate", "05_explain"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebook_is_clean(path):
    book = json.loads(path.read_text())
    code = [c for c in book["cells"] if c["cell_type"] == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), "committed outputs"
    assert any("parameters" in c.get("metadata", {}).get("tags", []) for c in code), "no parameters cell"
    for cell in code:
        source = "".join(cell["source"])
        assert "\ndef " not in "\n" + source and "\nclass " not in "\n" + source, \
            f"{path.name}: business logic belongs in the scorecard package"


@pytest.mark.slow
def test_notebooks_run_under_nbval_on_a_small_sample(small_sample, tmp_path):
    project = copy_project_inputs(tmp_path / "project")
    raw = yaml.safe_load((project / "params.yaml").read_text())
    raw["data"]["applicants"] = {"path": str(small_sample), "sha256": None, "encoding": "utf-8"}
    raw["explain"]["sample_size"] = 200
    (project / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    executed = tmp_path / "notebooks"
    executed.mkdir()
    for path in NOTEBOOKS:  # papermill injects the parameters without executing
        papermill.execute_notebook(str(path), str(executed / path.name), parameters={"root": str(project)},
                                   prepare_only=True, kernel_name="scorecard")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "-p", "no:cacheprovider", "-q", "--rootdir", str(executed),
         *[str(executed / p.name) for p in NOTEBOOKS]],
        cwd=executed, env=project_env(), capture_output=True, text=True, timeout=900,
    )
    print(result.stdout[-3000:])
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert (project / "scorecard/scorecard.json").is_file()
    assert (project / "metrics.json").is_file()
    assert (project / "data/processed/explanations.parquet").is_file()
