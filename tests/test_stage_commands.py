"""Every dvc.yaml stage finds the project's tools however dvc is started: `.venv/bin/dvc repro`
from a shell whose PATH has no .venv/bin must not fail with `papermill: command not found`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from conftest import ROOT

#: A PATH without the project's environment: what a shell that never activated it has.
BARE_PATH = "/usr/local/bin:/usr/bin:/bin"


def stage_commands() -> dict[str, str]:
    """Each stage's command with the dvc.yaml variables substituted, as dvc runs it."""
    document = yaml.safe_load((ROOT / "dvc.yaml").read_text())
    variables = {k: v for entry in document.get("vars", []) for k, v in entry.items()}
    commands = {}
    for name, stage in document["stages"].items():
        cmd = stage["cmd"]
        for key, value in variables.items():
            cmd = cmd.replace("${" + key + "}", value)
        commands[name] = cmd
    return commands


def bare_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "QUARTO_PYTHON", "PYTHONHASHSEED")}
    env["PATH"] = BARE_PATH
    env.update(extra)
    return env


def test_every_stage_command_runs_its_tools_through_scripts_run():
    for name, cmd in stage_commands().items():
        for part in (p.strip() for p in cmd.split("&&")):
            assert part.startswith("scripts/run ") or part.startswith("mkdir "), (name, part)


def test_scripts_run_finds_the_venv_tools_without_it_on_path():
    venv_bin = ROOT / ".venv" / "bin"
    probe = ('import os, shutil, sys; print(sys.prefix); print(shutil.which("papermill")); '
             'print(os.environ["PYTHONHASHSEED"], os.environ["VIRTUAL_ENV"], os.environ["QUARTO_PYTHON"])')
    done = subprocess.run([str(ROOT / "scripts/run"), "python", "-c", probe], cwd="/", env=bare_env(),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    prefix, papermill, variables = done.stdout.splitlines()
    assert Path(prefix).resolve() == (ROOT / ".venv").resolve()
    assert Path(papermill) == venv_bin / "papermill"
    assert variables.split() == ["0", str(ROOT / ".venv"), str(venv_bin / "python")]


def test_a_stage_command_runs_with_a_path_that_lacks_the_venv(tmp_path):
    """The downloads stage's own command, verbatim from dvc.yaml, in a scratch copy of the
    files it reads, started with a PATH that has no .venv/bin."""
    for name in ("scripts/run", "scorecard/scorecard.json"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tmp_path / name)
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    env = bare_env(PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    cmd = stage_commands()["downloads"]
    done = subprocess.run(["bash", "-c", cmd], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{cmd}\n{done.stderr[-3000:]}"
    sql = sorted(p.name for p in (tmp_path / "reports/downloads").iterdir())
    assert sql == ["scorecard_ansi.sql", "scorecard_duckdb.sql", "scorecard_spark.sql"]
    assert all((tmp_path / "reports/downloads" / name).stat().st_size > 1000 for name in sql)
