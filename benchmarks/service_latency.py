"""Service latency and a bounded load run: single-applicant requests against the scoring
service on localhost.

Starts ``scorecard serve`` (uvicorn, one process) on a free port of 127.0.0.1, then sends a
bounded number of requests — each one real applicant of the 2011 out-of-time test set, in
turn — over ``concurrency`` keep-alive connections (one asyncio aiohttp client, each connection
sending its next request as soon as its answer is in), and reports, per endpoint and
concurrency: requests, errors (any answer but 200, or a transport failure), latency p50 / p90 /
p99 / max in milliseconds as the client measured it, and requests per second. Two runs per
endpoint by default: latency (5,000 requests, one at a time) and load (20,000 requests, 50
concurrent). Warm-up requests are sent first and not counted. The run stops by itself and
stops the server.

- ``POST /score``: the card's features as given (from ``data/processed/test.parquet``);
- ``POST /score/application``: the fields the applicant declared; the service derives the
  features and joins the public data itself.

Run from the project root (after ``make setup`` and the pipeline)::

    .venv/bin/python benchmarks/service_latency.py          # 5,000 x 1 and 20,000 x 50, both endpoints
    .venv/bin/python benchmarks/service_latency.py --requests 2000 --concurrency 1 8 --load 0

Writes ``reports/benchmarks/service_latency.csv`` and ``.json`` (with the machine's load).
A measurement, not a test: no thresholds. Client and server share the machine's cores, so the
numbers include the client's own cost; the load average is recorded with them.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import math
import os
import platform
import asyncio
import socket
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import aiohttp
import httpx
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = Path("reports/benchmarks")
CSV_NAME, JSON_NAME = "service_latency.csv", "service_latency.json"
COLUMNS = ["endpoint", "concurrency", "requests", "errors", "p50_ms", "p90_ms", "p99_ms", "max_ms",
           "requests_per_second"]
ENDPOINTS = {"score": "/score", "application": "/score/application"}
WARMUP = 50
LOAD_REQUESTS, LOAD_CONCURRENCY = 20_000, 50


def applicants(endpoint: str, root: Path) -> list[dict]:
    """Real 2011 applicants as the endpoint takes them."""
    from scorecard.card import load
    from scorecard.config import load_params
    from scorecard.build.data import ID, load_applicants

    params = load_params(root / "params.yaml")
    card = load(root / "scorecard" / "scorecard.json")
    from scorecard.apply.application import json_records

    if endpoint == "score":
        test = pd.read_parquet(root / "data" / "processed" / "test.parquet")
        return json_records(test[[ID, *card.feature_names]].rename(columns={ID: "id"}))
    from scorecard.apply.application import ApplicationForm

    form = ApplicationForm(card, params, root)
    raw = load_applicants(params, root=root)
    dates = raw[params.data.date_column]
    test = raw[(dates >= pd.Timestamp(params.split.test_start)) & (dates <= pd.Timestamp(params.split.test_end))]
    return json_records(test[[ID, *form.columns]].rename(columns={ID: "id"}))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_command() -> list[str]:
    """``scorecard serve`` of this interpreter's environment (``python -m scorecard.cli serve``,
    the same command, when the console script is not installed next to it)."""
    script = Path(sys.executable).with_name("scorecard")
    if script.is_file():
        return [str(script), "serve"]
    return [sys.executable, "-m", "scorecard.cli", "serve"]


class Server:
    """``scorecard serve`` in a subprocess on 127.0.0.1 (a free port), stopped on exit."""

    def __init__(self, root: Path, env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [*serve_command(), "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"],
            cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def __enter__(self) -> Server:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the service stopped at start-up:\n{self.process.stderr.read()}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError("the service did not answer /health within 120 s")

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=20)
        self.process.stderr.close()


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (the value below which q% of the requests fall)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


async def _send(url: str, bodies: list[dict], n_requests: int, concurrency: int,
                keep: bool) -> tuple[list[float], list[str], list, float]:
    """``n_requests`` POSTs of ``bodies[i % len(bodies)]`` over ``concurrency`` connections.

    aiohttp, not httpx: httpx's async connection pool costs the client more than the service
    costs the server at 50 connections (about 60 req/s against aiohttp's 400 here)."""
    latencies = [0.0] * n_requests
    answers: list = [None] * n_requests if keep else []
    errors: list[str] = []
    counter = iter(range(n_requests))
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)

    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
        async def worker() -> None:
            for i in counter:      # one shared iterator: each request is sent once
                start = time.perf_counter()
                try:
                    async with session.post(url, json=bodies[i % len(bodies)]) as response:
                        text = await response.text()
                    problem = None if response.status == 200 else f"request {i}: {response.status}: {text[:200]}"
                    if keep and problem is None:
                        answers[i] = json.loads(text)
                except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                    problem = f"request {i}: {type(error).__name__}: {error}"
                latencies[i] = (time.perf_counter() - start) * 1000
                if problem:
                    errors.append(problem)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(min(concurrency, n_requests))))
        wall = time.perf_counter() - start
    return latencies, errors, answers, wall


def load_run(url: str, bodies: list[dict], n_requests: int, concurrency: int, keep_answers: bool = False) -> dict:
    """Send ``n_requests`` single-applicant POSTs, ``concurrency`` at a time; the latency of each,
    the errors (any answer but 200, or a transport failure) and, with ``keep_answers``, the
    JSON answers in request order (None where it failed)."""
    latencies, errors, answers, wall = asyncio.run(_send(url, bodies, n_requests, concurrency, keep_answers))
    result = {"requests": len(latencies), "errors": len(errors), "error_examples": errors[:5],
              "p50_ms": round(percentile(latencies, 50), 2), "p90_ms": round(percentile(latencies, 90), 2),
              "p99_ms": round(percentile(latencies, 99), 2), "max_ms": round(max(latencies), 2),
              "requests_per_second": round(len(latencies) / wall, 1)}
    if keep_answers:
        result["answers"] = answers
    return result


def versions() -> dict:
    names = ("fastapi", "uvicorn", "uvloop", "httptools", "pydantic", "pandas", "aiohttp")
    return {name: (metadata.version(name) if _installed(name) else None) for name in names}


def _installed(name: str) -> bool:
    try:
        metadata.version(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=5000, help="requests per endpoint and concurrency")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1],
                        help="concurrent connections of the latency runs (one run each)")
    parser.add_argument("--load", type=int, default=LOAD_REQUESTS,
                        help="requests of the bounded load run per endpoint (0: no load run)")
    parser.add_argument("--load-concurrency", type=int, default=LOAD_CONCURRENCY,
                        help="concurrent connections of the load run")
    parser.add_argument("--endpoints", nargs="+", choices=list(ENDPOINTS), default=list(ENDPOINTS))
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    if args.requests < 1 or min(args.concurrency) < 1 or args.load < 0 or args.load_concurrency < 1:
        parser.error("--requests, --concurrency and --load-concurrency must be positive, --load at least 0")
    runs = [(args.requests, c) for c in args.concurrency] + ([(args.load, args.load_concurrency)] if args.load else [])

    rows = []
    with Server(ROOT) as server:
        for endpoint in args.endpoints:
            bodies = applicants(endpoint, ROOT)
            url = server.url + ENDPOINTS[endpoint]
            for n_requests, concurrency in runs:
                load_run(url, bodies[-WARMUP:], WARMUP, concurrency)
                result = load_run(url, bodies, n_requests, concurrency)
                rows.append({"endpoint": ENDPOINTS[endpoint], "concurrency": concurrency, **result})
                print(f"{ENDPOINTS[endpoint]:<20} x{concurrency:<3} {result['requests']:>6} requests, "
                      f"{result['errors']} errors, p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
                      f"max {result['max_ms']:.1f} ms, {result['requests_per_second']:.0f} req/s", flush=True)
                for example in result["error_examples"]:
                    print(f"    error: {example}")

    out = args.out_dir if args.out_dir.is_absolute() else ROOT / args.out_dir
    out.mkdir(parents=True, exist_ok=True)
    with (out / CSV_NAME).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    meta = {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "python": platform.python_version(), "cpus": os.cpu_count(), "load_average": os.getloadavg(),
            "versions": versions(), "warmup_requests": WARMUP, "server": "scorecard serve (uvicorn, 1 process)",
            "client": "aiohttp (asyncio), `concurrency` keep-alive connections, on the same machine",
            "rows": rows}
    (out / JSON_NAME).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out / CSV_NAME} and {out / JSON_NAME}")
    return 1 if any(r["errors"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
