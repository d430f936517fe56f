"""The rendered report site works offline: no external URL in any page, and in headless Chromium
(served from 127.0.0.1, and opened from disk) every page loads with no request off the machine,
no console or page error, every plotly figure drawn, working search and navbar navigation.

Chromium is Debian's (/usr/bin/chromium, installed by `scripts/setup.sh --test`), driven by
Playwright for Python. Screenshots of every page land in test-artifacts/screenshots/.
"""

from __future__ import annotations

import json
import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from browser import SCREENSHOTS, VIEWPORT, _PageLog, chromium, static_server

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_MS = 30_000

# Whole module: every test needs the built site (`dvc repro`), and all but one a browser.
pytestmark = pytest.mark.slow


def _quarto_config() -> dict:
    return yaml.safe_load((ROOT / "_quarto.yml").read_text(encoding="utf-8"))


def _html_name(source: str) -> str:
    return Path(source).with_suffix(".html").as_posix()


# The pages, from the project's own list of what Quarto renders.
PAGES = [_html_name(src) for src in _quarto_config()["project"]["render"]]
# Pages that must carry plotly figures (the others must draw any they have, too).
FIGURE_PAGES = {
    "reports/chapters/02_binning.html",
    "reports/chapters/04_evaluate.html",
    "reports/chapters/05_explain.html",
    "reports/model_documentation.html",
}
# What each page the issue asks for must show (its <main> text, served), by section.
PAGE_CONTENT = {
    "index.html": ["Headline metrics against the published card", "published card", "Card version", "auc", "gini",
                   "ks", "LendingClub", "Bureau of Labor Statistics", "Census Bureau"],
    "reports/chapters/02_binning.html": ["Information value and selection", "Manual overrides in effect", "inq_last_6mths",
                                         "splits_without", "Bins of each selected feature", "woe", "bad_rate"],
    "reports/chapters/03_scorecard.html": ["Downloads", "scorecard.json", "scorecard_points.csv", "scorecard_duckdb.sql",
                                           "scorecard_spark.sql", "scorecard_ansi.sql", "Points table", "points"],
    "reports/chapters/05_explain.html": ["SHAP dependence", "Example applicants", "Approve: applicant",
                                         "Refer: applicant", "Decline: applicant", "reason_code", "points_lost"],
    "reports/model_documentation.html": ["Purpose", "Intended use and limits", "Data lineage", "sha256", "Exclusions",
                                         "Leakage controls", "Performance by segment", "income band", "Stability",
                                         "Known weaknesses"],
    "reports/benchmarks.html": ["card − model KS (95%)", "paired resamples", "Levers tried and left out",
                                "A second round", "DuckDB copy, no scoring", "file-to-file rate"],
    "reports/security.html": ["Dependencies", "pinned packages", "known vulnerabilities", "PyPA Advisory Database",
                              "Credentials", "CORS"],
}
# The Scorecard page's downloads: the card, its points and its SQL in every dialect.
DOWNLOADS_PAGE = "reports/chapters/03_scorecard.html"
DOWNLOADS = ["scorecard.json", "scorecard.schema.json", "scorecard_points.csv",
             "scorecard_duckdb.sql", "scorecard_spark.sql", "scorecard_ansi.sql"]
NAVBAR = [(item["text"], _html_name(item["href"])) for item in _quarto_config()["website"]["navbar"]["left"]]


# ---------------------------------------------------------------------------------------------
# Helpers


class _ResourceScanner(HTMLParser):
    """Collects the URLs that a page's tags load (not plain <a> hyperlinks)."""

    ATTRS = {
        "script": ("src",),
        "link": ("href",),
        "img": ("src", "srcset"),
        "iframe": ("src",),
        "source": ("src", "srcset"),
        "video": ("src", "poster"),
        "audio": ("src",),
        "embed": ("src",),
        "object": ("data",),
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in self.ATTRS.get(tag, ()) and value:
                self.urls.append((tag, name, value.strip()))

    handle_startendtag = handle_starttag


def _external_resources(html: str) -> list[str]:
    scanner = _ResourceScanner()
    scanner.feed(html)
    scanner.close()
    found = []
    for tag, attr, value in scanner.urls:
        for url in re.split(r"\s*,\s*", value) if attr == "srcset" else [value]:
            if re.match(r"(?i)\s*(https?:)?//", url):  # http(s):// and protocol-relative //host
                found.append(f"<{tag} {attr}={url!r}>")
    return found


def _site_path(url: str) -> str:
    """The site page a served URL shows: '/' and '/x/' stand for their index.html (Quarto's
    navbar script drops 'index.html' from links when the site is served)."""
    path = urlsplit(url).path
    return (path + "index.html" if path.endswith("/") else path).removeprefix("/")


def _page_title(path: Path) -> str:
    match = re.search(r"<title>(.*?)</title>", path.read_text(encoding="utf-8"), re.S)
    assert match, f"{path} has no <title>"
    return unescape(match.group(1)).strip()


def _static_figure_count(path: Path) -> int:
    return path.read_text(encoding="utf-8").count('class="plotly-graph-div"')


# Every plotly figure: its div, its .main-svg, and whether the SVG draws something (traces).
_FIGURES_JS = """
() => [...document.querySelectorAll('.plotly-graph-div, .js-plotly-plot')].map((div) => {
  const svg = div.querySelector('svg.main-svg');
  const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
  return {
    id: div.id,
    plotted: div.classList.contains('js-plotly-plot'),
    svg: Boolean(svg),
    width: box.width,
    height: box.height,
    shapes: svg ? div.querySelectorAll('svg.main-svg path, svg.main-svg rect, svg.main-svg image').length : 0,
    traces: div.querySelectorAll('svg.main-svg .trace, svg.main-svg .hm, svg.main-svg .slice').length,
  };
})
"""

_FIGURES_READY_JS = """
(expected) => {
  const divs = [...document.querySelectorAll('.plotly-graph-div')];
  return divs.length >= expected && divs.every((d) => d.classList.contains('js-plotly-plot')
    && d.querySelector('svg.main-svg'));
}
"""


def _check_figures(page, expected: int, wait: bool = True) -> list[dict]:
    """Wait until the page's `expected` plotly figures are drawn; return them, asserting each."""
    if expected and wait:
        try:
            page.wait_for_function(_FIGURES_READY_JS, arg=expected, timeout=TIMEOUT_MS)
        except Exception:  # the assertions below say which figure failed
            pass
    figures = page.evaluate(_FIGURES_JS)
    assert len(figures) == expected, f"{len(figures)} plotly figure div(s) in the browser, {expected} in the HTML"
    bad = [f for f in figures if not (f["plotted"] and f["svg"] and f["width"] > 0 and f["height"] > 0
                                      and f["shapes"] > 0 and f["traces"] > 0)]
    assert not bad, f"plotly figure(s) not drawn (no non-empty .main-svg): {bad}"
    return figures


# ---------------------------------------------------------------------------------------------
# Fixtures: one static server and one browser for the module


@pytest.fixture(scope="module")
def base_url(site_dir):
    with static_server(site_dir) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=VIEWPORT, service_workers="block")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


# ---------------------------------------------------------------------------------------------
# a. Static scan


def test_site_pages_exist(site_dir):
    missing = [p for p in PAGES if not (site_dir / p).is_file()]
    assert not missing, f"pages listed in _quarto.yml but not rendered: {missing}"


def test_no_external_resource_urls(site_dir):
    """No script/link/img/iframe (or other embedded resource) in any page points off the site."""
    pages = sorted(site_dir.rglob("*.html"))
    assert pages, "no HTML in the site"
    problems = {}
    for path in pages:
        found = _external_resources(path.read_text(encoding="utf-8"))
        if found:
            problems[path.relative_to(site_dir).as_posix()] = found
    assert not problems, f"external resource URLs in the site: {problems}"


_CSS_REMOTE = re.compile(r"""(?i)(@import\s*(url\(\s*)?|url\(\s*)["']?\s*((https?:)?//[^"')\s]+)""")


def test_no_external_urls_in_site_css(site_dir):
    """Style sheets load nothing remote either (@import or url() of http(s):// or //host)."""
    problems = {}
    for path in sorted(site_dir.rglob("*.css")):
        found = [m.group(3) for m in _CSS_REMOTE.finditer(path.read_text(encoding="utf-8", errors="replace"))]
        if found:
            problems[path.relative_to(site_dir).as_posix()] = found
    assert not problems, f"style sheets in the site load remote URLs: {problems}"


def test_resource_scanner_catches_cdn_tags():
    """The scanner itself: CDN tags are found, hyperlinks and local paths are not."""
    html = (
        '<script src="https://cdn.jsdelivr.net/npm/x.js"></script><link rel="stylesheet" href="//cdn/x.css">'
        '<img src="HTTP://example.org/a.png"><iframe src="https://e.org"></iframe>'
        '<a href="https://lendingclub.com">data</a><script src="site_libs/a.js"></script><img src="data:image/png;base64,AA">'
    )
    assert len(_external_resources(html)) == 4


# ---------------------------------------------------------------------------------------------
# b. Every page served from 127.0.0.1


@pytest.mark.parametrize("rel", PAGES)
def test_page_served_offline(page, base_url, site_dir, rel):
    log = _PageLog(page)
    page.goto(base_url + rel, wait_until="load")
    expected = _static_figure_count(site_dir / rel)
    if expected:
        try:
            page.wait_for_function(_FIGURES_READY_JS, arg=expected, timeout=TIMEOUT_MS)
        except Exception:  # screenshot first; _check_figures below says what is wrong
            pass
    page.wait_for_load_state("networkidle")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / (rel.removesuffix(".html").replace("/", "_") + ".png")), full_page=True)

    figures = _check_figures(page, expected, wait=False)

    problems = log.problems()
    if rel in FIGURE_PAGES and not figures:
        problems["figures"] = "this page should carry plotly figures and has none"
    assert not problems, f"{rel} served from 127.0.0.1: {problems}"


# ---------------------------------------------------------------------------------------------
# c. Search


def test_search_finds_a_word(page, base_url):
    log = _PageLog(page)
    page.goto(base_url + "index.html", wait_until="load")
    box = page.locator("#quarto-search .aa-Input")
    box.wait_for(state="visible")
    box.click()
    box.press_sequentially("calibration", delay=30)
    results = page.locator("#quarto-search-results .aa-Panel .search-result-link")
    results.first.wait_for(state="visible")
    hrefs = [results.nth(i).get_attribute("href") for i in range(results.count())]
    assert hrefs and all(hrefs), f"search results without links: {hrefs}"
    panel_text = page.locator("#quarto-search-results .aa-Panel").inner_text().lower()
    assert "calibration" in panel_text, f"no result mentions the query: {panel_text[:500]!r}"
    assert page.locator("#quarto-search-results .quarto-search-no-results").count() == 0
    assert any(url.endswith("/search.json") for url in log.requests), "search did not load search.json"
    assert not log.problems(), f"search: {log.problems()}"


# ---------------------------------------------------------------------------------------------
# d. Opened from disk (file://): content and figures still there


@pytest.mark.parametrize("rel", PAGES)
def test_page_from_disk(page, site_dir, rel):
    path = site_dir / rel
    log = _PageLog(page)
    page.goto(path.as_uri(), wait_until="load")
    main_text = page.locator("main").first.inner_text().strip()
    assert len(main_text) > 50, f"{rel} from file://: <main> is (nearly) empty: {main_text!r}"
    _check_figures(page, _static_figure_count(path))
    # Quarto's module scripts are blocked under file://, so console errors are expected here;
    # but nothing may be fetched from the network.
    network = [url for url in log.requests if urlsplit(url).scheme in ("http", "https", "ws", "wss")]
    assert not network, f"{rel} from file:// made network requests: {network}"


# ---------------------------------------------------------------------------------------------
# e. Navbar navigation


def test_navbar_matches_config(page, base_url):
    page.goto(base_url + "index.html", wait_until="load")
    links = page.locator("nav.navbar .navbar-nav a.nav-link")
    found = [(links.nth(i).inner_text().strip(), _site_path(links.nth(i).evaluate("a => a.href"))) for i in range(links.count())]
    assert found == NAVBAR, "the navbar differs from _quarto.yml's website.navbar.left"


@pytest.mark.parametrize(("text", "target"), NAVBAR, ids=[t for _, t in NAVBAR])
def test_navbar_link_reaches_page(page, base_url, site_dir, text, target):
    log = _PageLog(page)
    page.goto(base_url + "index.html", wait_until="load")
    link = page.locator("nav.navbar .navbar-nav").get_by_role("link", name=text, exact=True)
    with page.expect_navigation(wait_until="domcontentloaded"):
        link.click()
    page.wait_for_load_state("domcontentloaded")
    assert _site_path(page.url) == target, f"{text!r} led to {page.url}, expected /{target}"
    expected_title = _page_title(site_dir / target)
    assert page.title() == expected_title
    heading = page.locator("h1.title").first.inner_text().strip()
    assert heading and heading in page.title(), f"page heading {heading!r} not in title {page.title()!r}"
    assert not log.page_errors, log.page_errors



# ---------------------------------------------------------------------------------------------
# f. What the pages show, and the downloads


@pytest.mark.parametrize("rel", sorted(PAGE_CONTENT))
def test_page_shows_its_sections(page, base_url, rel):
    page.goto(base_url + rel, wait_until="load")
    text = page.locator("main").first.inner_text()
    missing = [item for item in PAGE_CONTENT[rel] if item.lower() not in text.lower()]
    assert not missing, f"{rel} does not show {missing}"


def _download_links(page) -> dict[str, str]:
    links = page.locator("main a")
    found = {}
    for i in range(links.count()):
        text = links.nth(i).inner_text().strip()
        if text in DOWNLOADS:
            found[text] = links.nth(i).evaluate("a => a.href")
    return found


def test_downloads_served(page, base_url, site_dir):
    page.goto(base_url + DOWNLOADS_PAGE, wait_until="load")
    links = _download_links(page)
    assert sorted(links) == sorted(DOWNLOADS), f"download links on the Scorecard page: {sorted(links)}"
    for name, url in links.items():
        response = page.request.get(url)
        assert response.status == 200, f"{name}: {response.status} {url}"
        body = response.body()
        assert body, f"{name} is empty"
        if name.endswith(".sql"):
            assert b"SELECT" in body and b"sc_input" in body, f"{name} is not the card's SQL"
        if name == "scorecard.json":
            assert json.loads(body)["model_version"] == json.loads((ROOT / "scorecard/scorecard.json").read_text())["model_version"]


def test_downloads_from_disk(page, site_dir):
    page.goto((site_dir / DOWNLOADS_PAGE).as_uri(), wait_until="load")
    links = _download_links(page)
    assert sorted(links) == sorted(DOWNLOADS)
    for name, url in links.items():
        assert url.startswith("file://"), url
        path = Path(unquote(urlsplit(url).path))
        assert path.is_file() and path.stat().st_size > 0, f"{name}: {path} missing from the site"
        assert site_dir.resolve() in path.resolve().parents, f"{name} points outside the site: {path}"


def test_headline_images_written(pipeline):
    """The images stage wrote the headline PNGs for the README and the e-mail report."""
    images = sorted((pipeline / "reports" / "images").glob("*.png"))
    assert [p.stem for p in images] == ["ks_test", "roc", "score_bands", "score_distribution"]
    for path in images:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
