"""Shared fixtures: the project root, the parameters, small samples of the real data, and the
pipeline outputs (built once per session with `dvc repro`, the README's pipeline command)."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


def project_env() -> dict:
    """Environment for subprocesses: the venv and the offline Quarto first on PATH."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(VENV_BIN), str(Path.home() / ".local/bin"), env.get("PATH", "")])
    env["DVC_NO_ANALYTICS"] = "1"
    env["PYTHONHASHSEED"] = "0"
    return env


def run(cmd: list[str], cwd: Path = ROOT, timeout: int = 1200) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, cwd=cwd, env=project_env(), capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def params():
    from scorecard.config import load_params

    return load_params(ROOT / "params.yaml")


@pytest.fixture(scope="session")
def default_raw() -> dict:
    """The project's params.yaml as the mapping it holds (copy it before changing it: ``raw``)."""
    import yaml

    return yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))


@pytest.fixture()
def raw(default_raw) -> dict:
    """A copy of the project's params.yaml mapping for one test to change."""
    import copy

    return copy.deepcopy(default_raw)


@pytest.fixture(scope="session")
def card(root):
    """The committed card, loaded from its JSON."""
    from scorecard import card as cardlib

    return cardlib.load(root / "scorecard/scorecard.json")


@pytest.fixture(scope="session")
def test_set(params, root) -> pd.DataFrame:
    """The real out-of-time test set, from the ETL (built once per session)."""
    from scorecard.build import etl

    return etl.run(params, root=root).test


@pytest.fixture(scope="session")
def test_applications(params, root) -> pd.DataFrame:
    """The out-of-time applicants as declared: the raw file's checked columns (before any
    derived feature or environment join), with the ids the ETL gives them."""
    from scorecard.build.data import load_applicants

    raw = load_applicants(params, root=root)
    dates = raw[params.data.date_column]
    window = (dates >= pd.Timestamp(params.split.test_start)) & (dates <= pd.Timestamp(params.split.test_end))
    return raw[window].reset_index(drop=True)


#: A short-lived JVM: the C1 compiler only, which starts Spark's planner much faster here.
TEST_JVM = {"spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1"}


@pytest.fixture(scope="session")
def spark():
    """One local Spark session (2 threads) for the whole run; the Spark engine borrows it."""
    from scorecard.apply import spark as sparklib

    session, owned = sparklib.start_session("local[2]", extra_conf=TEST_JVM)
    assert owned
    yield session
    sparklib.stop_session(session, owned)


@pytest.fixture(scope="session")
def pipeline(root) -> Path:
    """Run the whole pipeline (`dvc repro`, a no-op when up to date) and return the root."""
    run([str(VENV_BIN / "dvc"), "repro"], cwd=root)
    return root


@pytest.fixture(scope="session")
def site_dir(pipeline) -> Path:
    site = pipeline / "reports" / "_site"
    assert (site / "index.html").is_file(), "the report stage did not produce reports/_site/index.html"
    return site


@pytest.fixture(scope="session")
def raw_text() -> pd.DataFrame:
    """The real applicant file, all columns as text (as the ETL reads it)."""
    from scorecard.build.data import read_text_table

    return read_text_table(ROOT / "data/raw/lendingclub_2007_2011.csv.gz", "utf-8")


def sample_rows(raw: pd.DataFrame, per_year: int, seed: int = 7) -> pd.DataFrame:
    """A reproducible sample of the real file with ``per_year`` loans from every issue year."""
    year = raw["issue_d"].str[:4]
    parts = [part.sample(min(per_year, len(part)), random_state=seed) for _, part in raw.groupby(year)]
    return pd.concat(parts).sort_index()


def plain(value):
    """A Python value comparable across pandas and DuckDB: NaN/NA to None, numpy to Python."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def write_csv(frame: pd.DataFrame, path: Path, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, encoding=encoding)
    return path


@pytest.fixture(scope="session")
def small_sample(raw_text, tmp_path_factory) -> Path:
    """3,000 real loans (600 per issue year) as a CSV: small enough for fast pipeline runs."""
    path = tmp_path_factory.mktemp("sample") / "applicants_sample.csv"
    return write_csv(sample_rows(raw_text, 600), path)


def copy_project_inputs(dest: Path) -> Path:
    """A scratch project root: params, overrides, business rules and the input data, nothing
    generated."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("params.yaml", "binning_overrides.yaml"):
        shutil.copy(ROOT / name, dest / name)
    for folder in ("data/raw", "data/external", "business_rules"):
        shutil.copytree(ROOT / folder, dest / folder, dirs_exist_ok=True)
    return dest


@pytest.fixture(scope="session")
def full_run(params, tmp_path_factory):
    """The whole pipeline on the real data through the package API, into a scratch folder."""
    from scorecard.pipeline import run_all

    out = tmp_path_factory.mktemp("full_run")
    return out, run_all(params, ROOT, out)
