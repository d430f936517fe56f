#!/usr/bin/env python3
"""Audit the pinned dependencies for known vulnerabilities with pip-audit.

Usage::

    python scripts/audit_dependencies.py [--lock requirements.lock] [--out reports/security/pip_audit.json]
    python scripts/audit_dependencies.py --import-advisories PATH/TO/pypa/advisory-database

Runs ``pip-audit`` on every pin of the lock file (``--no-deps --disable-pip``: the lock already
pins the whole environment, transitive packages included; the project itself is left out),
with PyPI's vulnerability data (the package registry, the only network this project uses).

Where PyPI cannot answer for a package (pip-audit "skips" it: a registry mirror that serves
only the package index, not PyPI's per-version JSON, answers "not found" for every pin), the
pin is checked instead against an offline copy of the PyPA Advisory Database (OSV format, the
data pip-audit's PyPI service serves), ``security/pypa_advisories.json``, imported from a
checkout of github.com/pypa/advisory-database with ``--import-advisories`` (its commit and date
are recorded and shown in the report: the copy is only as fresh as that date).

Writes a JSON summary for the report: the date, the tools, the sha256 of the lock it audited,
the number of packages audited by each source, every known vulnerability (package, version,
id, aliases, fixed versions, source) and the accepted ones.

Accepted vulnerabilities live in ``security/accepted_vulnerabilities.json``: a list of
``{"id": ..., "package": ..., "reason": ..., "until": "YYYY-MM-DD"}``; an entry past its date
no longer counts. Exit code 1 when a vulnerability is found that is not accepted, 2 when
pip-audit cannot run (e.g. PyPI unreachable), 0 otherwise. ``tests/test_audit.py`` runs it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
OUT = ROOT / "reports/security/pip_audit.json"
ACCEPTED = ROOT / "security/accepted_vulnerabilities.json"
ADVISORIES = ROOT / "security/pypa_advisories.json"
#: Lines of the lock that name the project itself (a freeze taken inside the checkout).
SELF = re.compile(r"^(-e\s|scorecard(==|\s@|$))", re.IGNORECASE)


def lock_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def pins(path: Path) -> list[str]:
    """The lock's ``name==version`` lines, without the project itself, comments or blanks."""
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return [line for line in lines if line and not line.startswith("#") and not SELF.match(line)]


def accepted_ids(path: Path, today: dt.date) -> dict[str, dict]:
    """Accepted vulnerability ids still within their date."""
    if not path.is_file():
        return {}
    entries = json.loads(path.read_text(encoding="utf-8"))
    for n, entry in enumerate(entries):
        missing = {"id", "package", "reason", "until"} - set(entry)
        if missing:
            raise SystemExit(f"{path}: entry {n} lacks {', '.join(sorted(missing))}")
    return {e["id"]: e for e in entries if dt.date.fromisoformat(e["until"]) >= today}


def run_pip_audit(requirements: list[str]) -> tuple[dict, str]:
    """pip-audit's JSON report for ``requirements`` and its version."""
    exe = [sys.executable, "-m", "pip_audit"]
    version = subprocess.run([*exe, "--version"], capture_output=True, text=True, check=True).stdout.split()[-1]
    with tempfile.TemporaryDirectory() as tmp:
        req, report = Path(tmp) / "requirements.txt", Path(tmp) / "audit.json"
        req.write_text("\n".join(requirements) + "\n", encoding="utf-8")
        done = subprocess.run([*exe, "-r", str(req), "--no-deps", "--disable-pip", "--vulnerability-service", "pypi",
                               "--format", "json", "--output", str(report), "--progress-spinner", "off"],
                              capture_output=True, text=True)
        # pip-audit exits 1 when it finds vulnerabilities; anything else without a report is a failure.
        if not report.is_file() or done.returncode not in (0, 1):
            message = (done.stderr or done.stdout).strip().splitlines()
            raise RuntimeError("pip-audit failed: " + (message[-1] if message else f"exit code {done.returncode}"))
        return json.loads(report.read_text(encoding="utf-8")), version


def canonical(name: str) -> str:
    """A package name as PyPI compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def import_advisories(checkout: Path, out: Path = ADVISORIES) -> dict:
    """Copy the PyPA Advisory Database's PyPI advisories (not withdrawn) into one compact JSON:
    per advisory its id, aliases, package, ECOSYSTEM ranges (or the affected versions when it
    states no range) and fixed versions."""
    import yaml

    def git(*args: str, stdin: str | None = None) -> str:
        return subprocess.run(["git", "-C", str(checkout), *args], input=stdin, capture_output=True, text=True,
                              check=True).stdout

    commit, date = git("log", "-1", "--format=%H %cs", "HEAD").split()
    files = [f for f in git("ls-tree", "-r", "--name-only", "HEAD", "vulns").split() if f.endswith(".yaml")]
    advisories = []
    for name in files:
        doc = yaml.safe_load(git("show", f"HEAD:{name}"))
        if doc.get("withdrawn"):
            continue
        for affected in doc.get("affected", []):
            package = affected.get("package", {})
            if package.get("ecosystem") != "PyPI":
                continue
            ranges = [r["events"] for r in affected.get("ranges", []) if r.get("type") == "ECOSYSTEM"]
            advisories.append({
                "id": doc["id"], "aliases": sorted(doc.get("aliases") or []), "package": canonical(package["name"]),
                "ranges": ranges, "versions": [] if ranges else [str(v) for v in affected.get("versions", [])],
                "fixed": sorted({e["fixed"] for events in ranges for e in events if "fixed" in e}),
            })
    advisories.sort(key=lambda a: (a["package"], a["id"]))
    document = {"source": "https://github.com/pypa/advisory-database", "licence": "CC-BY-4.0",
                "commit": commit, "date": date, "advisories": advisories}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=0, separators=(",", ":")) + "\n", encoding="utf-8")
    return document


def _affected(advisory: dict, version) -> bool:
    """Whether ``version`` (a packaging Version) falls in the advisory's ECOSYSTEM ranges (OSV:
    events in order, ``introduced`` opens a range, ``fixed`` closes it before, ``last_affected``
    after) or among its listed versions."""
    from packaging.version import InvalidVersion, Version

    if str(version) in advisory["versions"]:
        return True
    for events in advisory["ranges"]:
        inside = False
        for event in events:
            (kind, value), = event.items()
            try:
                bound = Version("0") if value == "0" else Version(value)
            except InvalidVersion:
                continue
            if kind == "introduced" and version >= bound:
                inside = True
            elif kind == "fixed" and version >= bound:
                inside = False
            elif kind == "last_affected" and version > bound:
                inside = False
        if inside:
            return True
    return False


def offline_audit(requirements: list[str], database: dict) -> dict:
    """pip-audit's JSON shape for ``requirements`` from an imported advisory database."""
    from packaging.version import Version

    by_package: dict[str, list[dict]] = {}
    for advisory in database["advisories"]:
        by_package.setdefault(advisory["package"], []).append(advisory)
    dependencies = []
    for line in requirements:
        name, _, version = line.partition("==")
        found = [a for a in by_package.get(canonical(name), []) if _affected(a, Version(version.strip()))]
        dependencies.append({"name": canonical(name), "version": version.strip(), "vulns": [
            {"id": a["id"], "aliases": a["aliases"], "fix_versions": a["fixed"]} for a in found]})
    return {"dependencies": dependencies}


def summarise(lock: Path, requirements: list[str], sources: list[tuple[str, dict]], accepted: dict[str, dict],
              today: dt.date) -> dict:
    """One summary of the audits in ``sources`` (label, pip-audit-shaped report); a package
    counts as audited by the first source that did not skip it."""
    found, audited, skipped = [], {}, {}
    for label, raw in sources:
        for dep in raw.get("dependencies", []):
            name = canonical(dep["name"])
            if name in audited:
                continue
            if "skip_reason" in dep:
                skipped[name] = dep["skip_reason"]
                continue
            audited[name] = label
            skipped.pop(name, None)
            for vuln in dep.get("vulns", []):
                ids = {vuln["id"], *vuln.get("aliases", [])}
                hit = next((accepted[i] for i in sorted(ids) if i in accepted), None)
                found.append({"package": name, "version": dep.get("version"), "id": vuln["id"],
                              "aliases": sorted(vuln.get("aliases", [])), "fix_versions": vuln.get("fix_versions", []),
                              "source": label, "accepted": hit["reason"] if hit else None})
    counts = {label: sum(1 for v in audited.values() if v == label) for label, _ in sources}
    return {
        "date": today.isoformat(),
        "lock_file": lock.name,
        "lock_sha256": lock_digest(lock),
        "packages": len(requirements),
        "audited_by": counts,
        "not_audited": [{"package": k, "reason": v} for k, v in sorted(skipped.items())],
        "vulnerabilities": found,
        "open": sum(1 for v in found if not v["accepted"]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lock", type=Path, default=LOCK)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--accepted", type=Path, default=ACCEPTED)
    parser.add_argument("--advisories", type=Path, default=ADVISORIES)
    parser.add_argument("--import-advisories", type=Path, metavar="CHECKOUT",
                        help="refresh --advisories from a git checkout of pypa/advisory-database, then audit")
    args = parser.parse_args(argv)
    today = dt.date.today()
    if args.import_advisories:
        imported = import_advisories(args.import_advisories, args.advisories)
        print(f"{args.advisories}: {len(imported['advisories'])} advisories, pypa/advisory-database "
              f"{imported['commit'][:12]} of {imported['date']}")
    requirements = pins(args.lock)
    if not requirements:
        print(f"{args.lock}: no pinned package found", file=sys.stderr)
        return 2
    sources = []
    try:
        raw, version = run_pip_audit(requirements)
        sources.append((f"pip-audit {version} (PyPI)", raw))
    except (RuntimeError, subprocess.CalledProcessError, OSError) as error:
        print(f"pip-audit could not run: {error}", file=sys.stderr)
    if args.advisories.is_file():
        database = json.loads(args.advisories.read_text(encoding="utf-8"))
        sources.append((f"PyPA Advisory Database {database['commit'][:12]} of {database['date']} (offline copy)",
                        offline_audit(requirements, database)))
    if not sources:
        print(f"{args.lock}: no vulnerability source available", file=sys.stderr)
        return 2
    summary = summarise(args.lock, requirements, sources, accepted_ids(args.accepted, today), today)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    by = "; ".join(f"{n} by {label}" for label, n in summary["audited_by"].items())
    print(f"{summary['packages']} pinned packages of {args.lock.name}: {by}; "
          f"{len(summary['not_audited'])} not audited; {len(summary['vulnerabilities'])} known vulnerabilities, "
          f"{summary['open']} not accepted")
    for v in summary["vulnerabilities"]:
        fix = ", ".join(v["fix_versions"]) or "no fixed version"
        state = f"accepted: {v['accepted']}" if v["accepted"] else "OPEN"
        print(f"  {v['package']}=={v['version']} {v['id']} (fixed in {fix}; {v['source']}) {state}")
    if summary["not_audited"]:
        return 2
    return 1 if summary["open"] else 0


if __name__ == "__main__":
    sys.exit(main())
