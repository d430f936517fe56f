"""`dvc plots show` with the offline template (reports/vendor/vega/) writes a page that loads
vega, vega-lite and vega-embed from the repository, not from a CDN, and draws every plot.

The command checked (run from the repository root):

    dvc plots show --html-template reports/vendor/vega/dvc_plots_template.html -o dvc_plots

It reads reports/plots/*.csv, which git tracks, so no pipeline run is needed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from browser import chromium, static_server

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
VENDOR = ROOT / "reports" / "vendor" / "vega"
TEMPLATE = VENDOR / "dvc_plots_template.html"
OUT_DIR = "dvc_plots"  # the documented output folder, directly under the repository root
LIBRARIES = ["vega.min.js", "vega-lite.min.js", "vega-embed.min.js"]  # load order matters


def _declared_plots() -> list[str]:
    """The plot files dvc.yaml declares (the ids dvc-render turns into div ids)."""
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    plots = []
    for stage in stages.values():
        for entry in stage.get("plots", []):
            plots.extend(entry if isinstance(entry, dict) else [entry])
    return plots


def _div_id(plot: str) -> str:
    from dvc_render.base import Renderer

    return Renderer.remove_special_chars(plot)


def _dvc_plots_show(out: Path) -> Path:
    env = dict(os.environ, DVC_NO_ANALYTICS="1")
    env["PATH"] = os.pathsep.join([str(VENV_BIN), env.get("PATH", "")])
    cmd = [str(VENV_BIN / "dvc"), "plots", "show", "--html-template", str(TEMPLATE.relative_to(ROOT)), "-o", str(out)]
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{' '.join(cmd)} failed:\n{result.stdout}\n{result.stderr}"
    page = out / "index.html"
    assert page.is_file(), f"dvc plots show wrote no {page}:\n{result.stdout}\n{result.stderr}"
    return page


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.resources: list[tuple[str, str]] = []  # (tag, url) for tags that load something

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in {"script": "src", "link": "href", "img": "src", "iframe": "src"}.get(tag, "").split():
            if attrs.get(name):
                self.resources.append((tag, attrs[name]))


@pytest.fixture(scope="module")
def plots_tree(tmp_path_factory) -> Path:
    """A scratch tree laid out like the repository: <tmp>/dvc_plots/index.html written by the
    command, and <tmp>/reports/vendor/vega linked to the real vendored libraries."""
    tree = tmp_path_factory.mktemp("dvc_plots_tree")
    (tree / "reports" / "vendor").mkdir(parents=True)
    (tree / "reports" / "vendor" / "vega").symlink_to(VENDOR, target_is_directory=True)
    _dvc_plots_show(tree / OUT_DIR)
    return tree


def test_vendored_files_present():
    for name in LIBRARIES + ["LICENSE.vega", "LICENSE.vega-lite", "LICENSE.vega-embed", "README.md"]:
        assert (VENDOR / name).is_file(), f"missing {VENDOR / name}"
    template = TEMPLATE.read_text(encoding="utf-8")
    assert "{plot_divs}" in template
    assert "{scripts}" not in template, "the template must leave out dvc-render's CDN {scripts} placeholder"


def test_plots_page_loads_local_scripts(plots_tree):
    page = plots_tree / OUT_DIR / "index.html"
    html = page.read_text(encoding="utf-8")
    parser = _Tags()
    parser.feed(html)

    remote = [(tag, url) for tag, url in parser.resources if re.match(r"(?i)\s*(https?:)?//", url)]
    assert not remote, f"the plots page loads remote resources: {remote}"
    assert "cdn.jsdelivr.net" not in html

    scripts = [url for tag, url in parser.resources if tag == "script"]
    assert scripts == [f"../reports/vendor/vega/{name}" for name in LIBRARIES], scripts
    for url in scripts:  # they resolve, from the documented output folder, to the vendored files
        assert (ROOT / OUT_DIR / url).resolve().is_file(), f"{url} does not resolve from {OUT_DIR}/"

    assert html.count("vegaEmbed(") == len(_declared_plots())
    for plot in _declared_plots():
        div_id = _div_id(plot)
        assert f'id = "{div_id}"' in html or f'id="{div_id}"' in html, f"no div for {plot}"


@pytest.mark.slow
def test_plots_page_renders_offline(plots_tree):
    requests, errors = [], []
    with static_server(plots_tree) as base, chromium() as browser:
        page = browser.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
        page.on(
            "console",
            lambda m: m.type == "error"
            and not (m.location or {}).get("url", "").endswith("/favicon.ico")
            and errors.append(f"console: {m.text} [{(m.location or {}).get('url')}]"),
        )
        page.goto(f"{base}{OUT_DIR}/index.html", wait_until="load")
        plots = _declared_plots()
        page.wait_for_function(
            "(n) => document.querySelectorAll('.vega-embed canvas, .vega-embed svg.marks').length >= n",
            arg=len(plots),
            timeout=30_000,
        )
        versions = page.evaluate("() => [vega.version, vegaLite.version, vegaEmbed.version]")
        drawn = page.evaluate(
            """(ids) => ids.map((id) => {
                 const el = document.getElementById(id)?.querySelector('canvas, svg.marks');
                 return el ? el.getBoundingClientRect().width * el.getBoundingClientRect().height : 0;
               })""",
            [_div_id(p) for p in plots],
        )

    remote = [url for url in requests if urlsplit(url).hostname not in ("127.0.0.1", "localhost")
              and urlsplit(url).scheme not in ("data", "blob")]
    assert not remote, f"requests off the machine: {remote}"
    assert not errors, errors
    assert all(area > 0 for area in drawn), dict(zip(plots, drawn))
    readme = (VENDOR / "README.md").read_text(encoding="utf-8")
    for version in versions:  # the README records the versions actually vendored
        assert f"| {version} |" in readme, f"version {version} not in reports/vendor/vega/README.md"
