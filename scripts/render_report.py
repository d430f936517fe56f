"""Render the Quarto report site into a temporary folder; replace the site only on success.

Usage: scripts/run python scripts/render_report.py [--project DIR] [--verbose]

The report stage of dvc.yaml runs this instead of `quarto render --quiet`, which printed only
"exited with 1" on failure and left a half-rendered site. Here:

- Quarto renders the project (``--project``, default: this checkout) into a new folder next to
  the site (``--output-dir``), its output captured;
- on failure the script prints the failing page and Quarto's own output from that page on (for
  a page whose Python cell fails: the cell and its traceback), removes the temporary folder and
  exits with Quarto's status. The previous site is left exactly as it was;
- on success the new site replaces the old one by a rename (an atomic exchange of the two
  folders where Linux offers renameat2, else two renames), and the old one is removed.

The site folder is the project's ``project.output-dir`` (``reports/_site`` here).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
QUARTO = ROOT / "scripts" / "quarto"
#: At most this many lines of Quarto's output are shown on failure.
TAIL_LINES = 150
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
#: Quarto's progress line for each page: "[ 3/11] reports/chapters/03_scorecard.ipynb".
_PAGE = re.compile(r"^\[\s*\d+/\d+\]\s+(\S.*)$")
_EXECUTING = re.compile(r"^Executing '(.+)\.quarto_ipynb'")


def site_dir(project: Path) -> Path:
    """The project's output folder, from its _quarto.yml."""
    config = yaml.safe_load((project / "_quarto.yml").read_text(encoding="utf-8")) or {}
    output = (config.get("project") or {}).get("output-dir", "_site")
    return project / output


def failure_report(output: str, returncode: int, site: Path) -> str:
    """What a failed render prints: the failing page and Quarto's output from that page on."""
    lines = _ANSI.sub("", output).replace("\r", "").splitlines()
    starts = [i for i, line in enumerate(lines) if _PAGE.match(line.strip())]
    page = _PAGE.match(lines[starts[-1]].strip()).group(1) if starts else None
    if page is None:  # a one-page project has no progress lines: the notebook Quarto executed
        executed = [m.group(1) for m in map(_EXECUTING.match, lines) if m]
        page = f"{executed[-1]}.qmd" if executed else None
    shown = lines[starts[-1]:] if starts else lines
    cut = len(shown) > TAIL_LINES
    shown = shown[-TAIL_LINES:]
    head = (f"report: quarto render failed (exit {returncode})"
            + (f" while rendering {page}" if page else "")
            + f"; {site} was not changed (the previous site is kept).")
    label = f"quarto's output{' from that page' if page else ''}{f' (last {TAIL_LINES} lines)' if cut else ''}:"
    return "\n".join([head, label, *("  " + line for line in shown), head]) + "\n"


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where unavailable."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


def replace_site(new: Path, site: Path) -> None:
    """Put the folder ``new`` at ``site``; the old site, if any, is removed afterwards."""
    if not site.exists():
        os.rename(new, site)
        return
    if _exchange(new, site):
        shutil.rmtree(new)  # now holds the old site
        return
    old = site.with_name(f"{site.name}.old-{os.getpid()}")
    os.rename(site, old)
    try:
        os.rename(new, site)
    except OSError:
        os.rename(old, site)
        raise
    shutil.rmtree(old)


def render(project: Path, verbose: bool = False) -> int:
    project = project.resolve()
    site = site_dir(project)
    site.parent.mkdir(parents=True, exist_ok=True)
    # Next to the site, so that the final rename stays on one file system.
    tmp = Path(tempfile.mkdtemp(prefix=f".{site.name}.render-", dir=site.parent))
    try:
        env = dict(os.environ)
        env.setdefault("QUARTO_PYTHON", sys.executable)
        done = subprocess.run([str(QUARTO), "render", "--output-dir", os.path.relpath(tmp, project)],
                              cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, errors="replace")
        if done.returncode != 0 or not (tmp / "index.html").is_file():
            status = done.returncode or 1
            if done.returncode == 0:
                done.stdout += f"\n(quarto exited 0 but wrote no index.html into {tmp.name})"
            sys.stderr.write(failure_report(done.stdout, status, site.relative_to(project)))
            return status
        if verbose:
            sys.stdout.write(_ANSI.sub("", done.stdout))
        replace_site(tmp, site)
        pages = sum(1 for _ in site.rglob("*.html"))
        print(f"report: rendered {pages} HTML files into {site.relative_to(project)}")
        return 0
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", type=Path, default=ROOT, help="Quarto project folder (default: this checkout)")
    parser.add_argument("--verbose", action="store_true", help="print quarto's output on success too")
    args = parser.parse_args(argv)
    return render(args.project, args.verbose)


if __name__ == "__main__":
    sys.exit(main())
