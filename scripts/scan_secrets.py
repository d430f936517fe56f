#!/usr/bin/env python3
"""Look for credentials in the files git tracks: key files by name, keys and tokens by content.

Usage: python scripts/scan_secrets.py [ROOT]     (default: the current directory)

Scans every file git tracks or would add (``git ls-files --cached --others --exclude-standard``;
outside a git checkout, every file under ROOT but .git, .venv and the DVC cache) and prints
one line per finding, ``path: what``. Exit code 1 when anything is found, 0 otherwise. ``tests/test_secrets.py`` runs it on the
repository, so a key that is committed fails the tests.

What counts as a finding:

* a key or keystore file by name: ``*.pem``, ``*.key``, ``*.p12``, ``*.pfx``, ``*.jks``,
  ``*.keystore``, ``id_rsa`` / ``id_dsa`` / ``id_ecdsa`` / ``id_ed25519``, gcloud's
  ``application_default_credentials.json``, ``.dvc/config.local`` (where DVC keeps a
  remote's credentials);
* a ``.env`` file (``.env``, ``.env.*``, ``*.env``; ``.env.example`` too) that sets a
  variable to a value;
* in any text file: a PEM private key block, a Google service-account key (a JSON holding
  ``"private_key"``), an AWS access key id, a Google API key, a GitHub, Slack or PyPI token.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

KEY_SUFFIXES = (".pem", ".key", ".p12", ".pfx", ".jks", ".keystore")
KEY_NAMES = {"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "application_default_credentials.json"}
KEY_PATHS = {".dvc/config.local"}
SKIP_DIRS = {".git", ".venv", "node_modules", "__pycache__"}
MAX_BYTES = 5_000_000
#: (what, pattern) searched in the text of every file. The patterns are written so that this
#: file does not match them itself.
CONTENT = [
    ("a PEM private key", re.compile(r"-----BEGIN[A-Z ]{0,20} PRIVATE KEY( BLOCK)?-----")),
    ("a service-account key (\"private_key\" in JSON)", re.compile(r"\"private_key\"\s*:\s*\"")),
    ("an AWS access key id", re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b")),
    ("a GitHub token", re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{60,})\b")),
    ("a Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("a PyPI token", re.compile(r"\bpypi-AgE[A-Za-z0-9_\-]{50,}")),
]
ENV_ASSIGNMENT = re.compile(r"^\s*(export\s+)?[A-Za-z_][A-Za-z0-9_]*\s*=\s*(?P<value>.*?)\s*$")


def tracked_files(root: Path) -> list[Path]:
    """The files git tracks or would add under ``root`` (tracked, and untracked but not ignored),
    as relative paths; every file when ``root`` is no git checkout."""
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root,
                             capture_output=True, check=True).stdout
        return [Path(p) for p in out.decode().split("\0") if p]
    except (OSError, subprocess.CalledProcessError):
        files = []
        for folder, dirs, names in os.walk(root):
            rel = Path(folder).relative_to(root)
            dirs[:] = [d for d in dirs if d not in SKIP_DIRS and (rel / d).as_posix() != ".dvc/cache"]
            files += [rel / n for n in names]
        return sorted(files)


def _is_env_file(name: str) -> bool:
    return name == ".env" or name.startswith(".env.") or name.endswith(".env")


def scan_file(root: Path, rel: Path) -> list[str]:
    """Findings in one file (``rel`` relative to ``root``)."""
    findings = []
    name = rel.name
    if rel.as_posix() in KEY_PATHS:
        findings.append("DVC's local config, where remote credentials live: keep it out of git")
    if name.lower().endswith(KEY_SUFFIXES) or name in KEY_NAMES:
        findings.append("a key or keystore file")
    path = root / rel
    try:
        if not path.is_file() or path.stat().st_size > MAX_BYTES:
            return findings
        data = path.read_bytes()
    except OSError:
        return findings
    if b"\0" in data[:8192]:  # binary (compressed data, images): no text to search
        return findings
    text = data.decode("utf-8", errors="replace")
    if _is_env_file(name):
        for number, line in enumerate(text.splitlines(), 1):
            match = ENV_ASSIGNMENT.match(line)
            if match and not line.lstrip().startswith("#") and match["value"].strip("\"'"):
                findings.append(f"an environment file setting a value (line {number})")
                break
    for what, pattern in CONTENT:
        match = pattern.search(text)
        if match:
            line = text.count("\n", 0, match.start()) + 1
            findings.append(f"{what} (line {line})")
    return findings


def scan(root: str | Path = ".") -> list[str]:
    """``path: what`` for every finding under ``root``."""
    root = Path(root)
    return [f"{rel.as_posix()}: {what}" for rel in tracked_files(root) for what in scan_file(root, rel)]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    root = Path(argv[0]) if argv else Path(".")
    findings = scan(root)
    for line in findings:
        print(line)
    if findings:
        print(f"scan_secrets: {len(findings)} finding(s): remove the credentials from the repository (and rotate "
              "them: git history keeps them)", file=sys.stderr)
        return 1
    print("scan_secrets: no credentials found")
    return 0


if __name__ == "__main__":
    sys.exit(main())
