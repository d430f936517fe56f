"""The report stage's renderer (scripts/render_report.py): a failing page shows its cause and
leaves the previous site untouched; a good render replaces the site whole."""

from __future__ import annotations

import subprocess

from conftest import ROOT, project_env

RENDER = [str(ROOT / "scripts/run"), "python", str(ROOT / "scripts/render_report.py")]
CONFIG = """project:
  type: website
  output-dir: reports/_site
  render:
    - index.qmd
    - rates.qmd
website:
  title: Tiny
"""
BROKEN_CELL = """
```{python}
def monthly_rate(annual):
    return annual / 0

monthly_rate(12)
```
"""


def render(project) -> subprocess.CompletedProcess:
    return subprocess.run(RENDER + ["--project", str(project)], env=project_env(), capture_output=True,
                          text=True, timeout=300)


def test_failed_render_shows_the_cause_and_keeps_the_old_site(tmp_path):
    (tmp_path / "_quarto.yml").write_text(CONFIG)
    (tmp_path / "index.qmd").write_text("---\ntitle: Tiny\n---\n\nThe overview.\n")
    page = tmp_path / "rates.qmd"
    page.write_text("---\ntitle: Rates\n---\n\nThe first version.\n")
    first = render(tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    site = tmp_path / "reports/_site"
    before = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    assert "The first version." in (site / "rates.html").read_text()

    page.write_text("---\ntitle: Rates\n---\n\nThe second version.\n" + BROKEN_CELL)
    failed = render(tmp_path)
    assert failed.returncode != 0
    message = failed.stderr
    # The cause: the failing page, the cell and the Python traceback, not only an exit status.
    assert "while rendering rates.qmd" in message
    assert "ZeroDivisionError: division by zero" in message and "monthly_rate(12)" in message
    assert "reports/_site was not changed" in message
    after = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    assert after == before
    assert [p.name for p in (tmp_path / "reports").iterdir()] == ["_site"]  # no half-rendered folder



def load_script():
    import importlib.util

    spec = importlib.util.spec_from_file_location("render_report", ROOT / "scripts/render_report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_good_render_replaces_the_whole_site(tmp_path):
    script = load_script()
    site, new = tmp_path / "_site", tmp_path / "._site.render-1"
    (site / "old").mkdir(parents=True)
    (site / "old/page.html").write_text("old")
    (site / "index.html").write_text("old index")
    new.mkdir()
    (new / "index.html").write_text("new index")
    script.replace_site(new, site)
    assert sorted(p.relative_to(site).as_posix() for p in site.rglob("*")) == ["index.html"]
    assert (site / "index.html").read_text() == "new index"
    assert [p.name for p in tmp_path.iterdir()] == ["_site"]
    # No site yet: the new folder is renamed into place.
    other = tmp_path / "other"
    other.mkdir()
    script.replace_site(other, tmp_path / "fresh")
    assert (tmp_path / "fresh").is_dir() and not other.exists()
