"""No credentials in the repository (scripts/scan_secrets.py over every file git tracks or would
add), and the scanner does catch each kind of key it claims to, naming the file."""

import importlib.util
import json
import subprocess
import sys

import pytest

from conftest import ROOT


@pytest.fixture(scope="module")
def scanner():
    spec = importlib.util.spec_from_file_location("scan_secrets", ROOT / "scripts" / "scan_secrets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_repository_holds_no_credentials(scanner):
    files = scanner.tracked_files(ROOT)
    assert len(files) > 50 and any(f.as_posix() == "scorecard/scorecard.json" for f in files)
    findings = scanner.scan(ROOT)
    assert findings == [], "credentials in the repository:\n" + "\n".join(findings)


# Planted keys are assembled at run time, so that this file holds none of them.
PEM = "-----BEGIN " + "RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n"
PLANTED = {
    "deploy/server.pem": ("text", "a key or keystore file"),
    "certs/client.p12": ("binary", "a key or keystore file"),
    "home/.ssh/id_rsa": ("text", "a key or keystore file"),
    "notes/key.txt": (PEM, "a PEM private key"),
    "gcp/sa.json": (json.dumps({"type": "service_account", "private_" + "key": "x"}), "a service-account key"),
    "src/settings.py": ("AWS_KEY = '" + "AKIA" + "Q3EXAMPLEKEY1234" + "'\n", "an AWS access key id"),
    "src/maps.js": ("const key = '" + "AIza" + "SyA1234567890abcdefghijklmnopqrstuv" + "';\n", "a Google API key"),
    "ci/token.txt": ("gh" + "p_" + "a" * 36 + "\n", "a GitHub token"),
    ".env": ("# local settings\nMAIL_PASSWORD=hunter2\n", "an environment file setting a value"),
    ".dvc/config.local": ("['remote \"gcs\"']\n    credentialpath = sa.json\n", "DVC's local config"),
}


def test_the_scanner_catches_planted_keys(scanner, tmp_path):
    for rel, (content, _) in PLANTED.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if content == "binary":
            path.write_bytes(b"\x30\x82\x00\x00" + b"\0" * 16)
        else:
            path.write_text(content)
    (tmp_path / "README.md").write_text("MAIL_PASSWORD is a repository secret.\n")
    (tmp_path / ".env.example").write_text("# copy to .env\nMAIL_PASSWORD=\n")
    findings = scanner.scan(tmp_path)
    print("\n".join(findings))
    for rel, (_, what) in PLANTED.items():
        assert any(f.startswith(f"{rel}: {what}") for f in findings), f"{rel} ({what}) not caught"
    assert not [f for f in findings if f.startswith(("README.md", ".env.example"))]


def test_the_command_names_the_file_and_fails(scanner, tmp_path):
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "ok.txt").write_text("nothing here\n")
    clean = subprocess.run([sys.executable, str(ROOT / "scripts/scan_secrets.py"), str(tmp_path)], capture_output=True,
                           text=True)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    (tmp_path / "leak.py").write_text("KEY = '" + "AKIA" + "Q3EXAMPLEKEY1234" + "'\n")  # untracked, not ignored
    dirty = subprocess.run([sys.executable, str(ROOT / "scripts/scan_secrets.py"), str(tmp_path)], capture_output=True,
                           text=True)
    assert dirty.returncode == 1 and "leak.py: an AWS access key id (line 1)" in dirty.stdout
