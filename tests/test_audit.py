"""Dependency audit (scripts/audit_dependencies.py): every pin of requirements.lock is checked
for known vulnerabilities, the report page shows the result of the current lock, and the audit
does find a vulnerable pin when there is one."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest
from packaging.version import Version

from conftest import ROOT, project_env

SCRIPT = ROOT / "scripts/audit_dependencies.py"
REPORT = ROOT / "reports/security/pip_audit.json"


def _module():
    spec = importlib.util.spec_from_file_location("audit_dependencies", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


audit = _module()


def _run(*args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, str(SCRIPT), *args], cwd=ROOT, env=project_env(),
                          capture_output=True, text=True, timeout=600)
    print(done.stdout, done.stderr)
    return done


def test_every_pin_is_audited_and_none_is_vulnerable(tmp_path):
    out = tmp_path / "audit.json"
    done = _run("--out", str(out))
    summary = json.loads(out.read_text())
    assert summary["packages"] == len(audit.pins(ROOT / "requirements.lock"))
    assert summary["not_audited"] == [], summary["not_audited"]
    assert sum(summary["audited_by"].values()) == summary["packages"]
    assert summary["open"] == 0, [v for v in summary["vulnerabilities"] if not v["accepted"]]
    assert done.returncode == 0


def test_the_report_shows_the_audit_of_the_current_lock():
    """reports/security/pip_audit.json (shown on the report's Security page) was made from this
    requirements.lock: changing a pin without re-running the audit fails here."""
    summary = json.loads(REPORT.read_text())
    assert summary["lock_sha256"] == audit.lock_digest(ROOT / "requirements.lock"), (
        "requirements.lock changed since the audit: run `make audit` and commit reports/security/pip_audit.json")
    assert summary["open"] == 0 and summary["not_audited"] == []


def test_a_vulnerable_pin_is_found(tmp_path):
    lock = tmp_path / "requirements.lock"
    lock.write_text("requests==2.19.0\nurllib3==1.26.18\n")
    out = tmp_path / "audit.json"
    done = _run("--lock", str(lock), "--out", str(out), "--accepted", str(tmp_path / "none.json"))
    summary = json.loads(out.read_text())
    found = {(v["package"], v["id"]) for v in summary["vulnerabilities"]}
    # CVE-2018-18074: requests before 2.20.0 leaks the Authorization header on an https->http redirect.
    assert ("requests", "PYSEC-2018-28") in found
    assert done.returncode == 1 and "OPEN" in done.stdout


def test_an_accepted_vulnerability_counts_until_its_date(tmp_path):
    lock = tmp_path / "requirements.lock"
    lock.write_text("requests==2.19.0\n")
    database = json.loads((ROOT / "security/pypa_advisories.json").read_text())
    ids = sorted({a["id"] for a in database["advisories"]
                  if a["package"] == "requests" and audit._affected(a, Version("2.19.0"))})
    accepted = tmp_path / "accepted.json"
    entries = [{"id": i, "package": "requests", "reason": "test: not reachable in our use", "until": "2999-01-01"}
               for i in ids]
    accepted.write_text(json.dumps(entries))
    out = tmp_path / "audit.json"
    assert _run("--lock", str(lock), "--out", str(out), "--accepted", str(accepted)).returncode == 0
    assert json.loads(out.read_text())["open"] == 0
    accepted.write_text(json.dumps([{**e, "until": "2000-01-01"} for e in entries]))
    assert _run("--lock", str(lock), "--out", str(out), "--accepted", str(accepted)).returncode == 1


@pytest.mark.parametrize("events, version, expected", [
    ([{"introduced": "0"}, {"fixed": "2.20.0"}], "2.19.1", True),
    ([{"introduced": "0"}, {"fixed": "2.20.0"}], "2.20.0", False),
    ([{"introduced": "1.0"}, {"fixed": "1.5"}, {"introduced": "2.0"}, {"fixed": "2.3"}], "1.7", False),
    ([{"introduced": "1.0"}, {"fixed": "1.5"}, {"introduced": "2.0"}, {"fixed": "2.3"}], "2.1", True),
    ([{"introduced": "1.0"}, {"last_affected": "1.4"}], "1.4", True),
    ([{"introduced": "1.0"}, {"last_affected": "1.4"}], "1.4.1", False),
    ([{"introduced": "1.0"}], "0.9", False),
])
def test_osv_ranges(events, version, expected):
    advisory = {"ranges": [events], "versions": []}
    assert audit._affected(advisory, Version(version)) is expected


def test_listed_versions_count_without_ranges():
    assert audit._affected({"ranges": [], "versions": ["0.4.2"]}, Version("0.4.2"))
    assert not audit._affected({"ranges": [], "versions": ["0.4.2"]}, Version("0.4.3"))
