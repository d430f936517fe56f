"""Shared by the browser tests: Debian's Chromium driven by Playwright, and a static server on
127.0.0.1 (a free port) that stops by itself at the end of the block."""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

CHROMIUM = os.environ.get("SCORECARD_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output clean
        pass


@contextlib.contextmanager
def static_server(directory: Path):
    """Serve ``directory`` on 127.0.0.1; yields the base URL (ending in '/')."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)  # port 0: a free port
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="static-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@contextlib.contextmanager
def chromium():
    """A headless Chromium (Debian's, not Playwright's download) for the block."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).is_file(), f"Chromium not found at {CHROMIUM} (scripts/setup.sh --test installs it)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


# -- what a page did, for the site and calculator tests ----------------------------------------
SCREENSHOTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
VIEWPORT = {"width": 1280, "height": 900}  # wide enough for the expanded navbar (Bootstrap lg)


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    if parts.scheme in ("http", "https", "ws", "wss"):
        return parts.hostname in LOCAL_HOSTS
    return False  # file:// is checked separately; anything else is unexpected


def _is_favicon(url: str) -> bool:
    return urlsplit(url).path.endswith("/favicon.ico")


class _PageLog:
    """Everything a page did: requests, failed requests, error responses, console, page errors."""

    def __init__(self, page) -> None:
        self.requests: list[str] = []
        self.failed: list[str] = []
        self.bad_status: list[str] = []
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("requestfailed", lambda r: self.failed.append(f"{r.url} ({r.failure})"))
        page.on("response", lambda r: r.status >= 400 and self.bad_status.append(f"{r.status} {r.url}"))
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))

    def problems(self) -> dict[str, list[str]]:
        """What went wrong, by kind: requests off the machine, failed requests (a missing
        favicon.ico excepted), console errors, page errors."""
        found = {
            "requests off the machine": [url for url in self.requests if not _is_local(url)],
            "failed requests": [f for f in self.failed + self.bad_status if "/favicon.ico" not in f],
            "console errors": self.console_errors,
            "page errors": self.page_errors,
        }
        return {kind: items for kind, items in found.items() if items}

    def _console(self, msg) -> None:
        if msg.type != "error":
            return
        url = (msg.location or {}).get("url", "")
        if _is_favicon(url) or ("favicon.ico" in msg.text):
            return
        self.console_errors.append(f"{msg.text} [at {url or '?'}]")
