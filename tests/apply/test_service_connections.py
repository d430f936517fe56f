"""Slow clients do not hold the scoring service: header, body and keep-alive timeouts and a
connection limit (``scorecard serve --header-timeout --body-timeout --keep-alive-timeout
--max-connections``).

Each test starts ``python -m scorecard.cli serve`` on a free port of 127.0.0.1 with short timeouts
(1 s), opens raw sockets that trickle their headers byte by byte (slowloris), or announce a
1,000-byte body and send a byte at a time, and checks that the server closes each of them within
the timeout plus a margin while ``GET /health`` still answers. Every loop has a hard deadline and
the server is stopped in a ``finally``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import subprocess
import sys
import tempfile
import time
import warnings

import pytest
from typer.testing import CliRunner

from conftest import ROOT, project_env
from scorecard.cli import app as cli
from scorecard.apply.connections import ConnectionLimits
from scorecard.errors import ScorecardError

HOST = "127.0.0.1"
TIMEOUT = 1.0            # the header and body timeouts the servers of these tests run with
MARGIN = 4.0             # how late a close may come on a busy 2-core machine
START_DEADLINE = 90.0    # seconds the server may take to start


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_service(*options: str):
    """``python -m scorecard.cli serve --no-params`` on a free port; yields the port. Its log
    must hold no traceback (a timed-out body must not become an error in the app)."""
    port = free_port()
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [sys.executable, "-m", "scorecard.cli", "serve", "--no-params", "--host", HOST, "--port", str(port),
         "--log-level", "warning", *options],
        cwd=ROOT, env=project_env(), stdout=subprocess.DEVNULL, stderr=log)

    def text() -> str:
        log.seek(0)
        return log.read().decode("utf-8", "replace")

    try:
        deadline = time.monotonic() + START_DEADLINE
        while True:
            if process.poll() is not None:
                raise AssertionError(f"the service stopped: {text()[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError("the service did not start in time")
            try:
                status, _ = asyncio.run(get(port, "/health", deadline=2.0))
                if status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        written = text()
        log.close()
    closes = [line for line in written.splitlines() if "connection closed" in line]
    print(f"server log: {len(closes)} connections closed by a timeout, e.g. {closes[:1]}")
    assert "Traceback" not in written and "Exception in ASGI" not in written, written[-3000:]


async def get(port: int, path: str, deadline: float = 5.0) -> tuple[int, bytes]:
    """One GET on a new connection: the status and the raw answer."""
    async def once():
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode())
            await writer.drain()
            answer = await reader.read()   # until the server closes (Connection: close)
        finally:
            writer.close()
        return int(answer.split(b" ", 2)[1]), answer
    return await asyncio.wait_for(once(), deadline)


async def slow_client(port: int, first: bytes, trickle: bytes, every: float, limit: float) -> dict:
    """Open a connection, send ``first`` at once, then ``trickle`` a byte every ``every`` seconds
    until the server closes the connection or ``limit`` seconds pass. Returns when it closed
    (seconds after the last byte of ``first``, None if it did not) and what the server sent."""
    reader, writer = await asyncio.open_connection(HOST, port)
    received = bytearray()
    closed_after = None
    try:
        writer.write(first)
        await writer.drain()
        start = time.monotonic()

        async def read_until_closed():
            with contextlib.suppress(ConnectionError):
                while chunk := await reader.read(65536):
                    received.extend(chunk)

        reading = asyncio.ensure_future(read_until_closed())
        i = 0
        while time.monotonic() - start < limit and not reading.done():
            if trickle:
                try:
                    writer.write(trickle[i % len(trickle):i % len(trickle) + 1])
                    await writer.drain()
                except ConnectionError:
                    pass
                i += 1
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(reading), every)
        if reading.done():
            closed_after = time.monotonic() - start
        else:
            reading.cancel()
    finally:
        writer.close()
    return {"closed_after": closed_after, "received": bytes(received)}


SLOWLORIS = (b"", b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 500)
SLOW_BODY = (b"POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
             b"Content-Length: 1000\r\n\r\n", b'{"id": "' + b"x" * 900)


def status_of(answer: bytes) -> int | None:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else None


def test_slow_headers_and_slow_bodies_are_closed_while_health_answers():
    """20 slowloris connections, 20 slow bodies and 5 silent connections: each is closed within
    the 1 s timeout plus the margin, and /health answers all the while."""
    with running_service("--header-timeout", str(TIMEOUT), "--body-timeout", str(TIMEOUT),
                         "--keep-alive-timeout", str(TIMEOUT), "--max-connections", "100") as port:
        async def scenario():
            limit = TIMEOUT + MARGIN
            slow = [slow_client(port, *SLOWLORIS, every=0.1, limit=limit) for _ in range(20)]
            slow += [slow_client(port, *SLOW_BODY, every=0.2, limit=limit) for _ in range(20)]
            slow += [slow_client(port, b"", b"", every=0.2, limit=limit) for _ in range(5)]
            clients = asyncio.gather(*slow)
            health = []
            await asyncio.sleep(0.3)      # the slow ones are connected and trickling
            while not clients.done() and len(health) < 50:
                began = time.monotonic()
                status, _ = await get(port, "/health", deadline=3.0)
                health.append((status, time.monotonic() - began))
                await asyncio.sleep(0.2)
            return await clients, health

        results, health = asyncio.run(asyncio.wait_for(scenario(), 60))
    kinds = ["slowloris"] * 20 + ["slow body"] * 20 + ["silent"] * 5
    closed = [(k, r["closed_after"], status_of(r["received"])) for k, r in zip(kinds, results)]
    print("closed after (s), status:", [(k, None if t is None else round(t, 2), s) for k, t, s in closed])
    print("health during the run (status, s):", [(s, round(t, 3)) for s, t in health])
    assert all(t is not None for _, t, _ in closed), [c for c in closed if c[1] is None]
    assert all(t >= TIMEOUT - 0.2 for _, t, _ in closed), closed          # not before the timeout
    # Whatever the server sent before closing is a 408 (a reset may lose it: not required here).
    assert {s for _, _, s in closed} <= {408, None}, closed
    assert any(s == 408 for k, _, s in closed if k == "slow body")
    assert health and all(status == 200 for status, _ in health), health


@pytest.mark.parametrize("kind, first, words", [
    ("header_timeout", b"POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-", "--header-timeout"),
    ("body_timeout", SLOW_BODY[0] + b'{"id": ', "--body-timeout"),
])
def test_a_stalled_request_gets_a_408_naming_the_option(kind, first, words):
    with running_service("--header-timeout", str(TIMEOUT), "--body-timeout", str(TIMEOUT)) as port:
        result = asyncio.run(asyncio.wait_for(slow_client(port, first, b"", every=0.2, limit=TIMEOUT + MARGIN), 30))
    answer = result["received"]
    print(answer.decode())
    assert result["closed_after"] is not None and status_of(answer) == 408, result
    head, body = answer.split(b"\r\n\r\n", 1)
    assert b"connection: close" in head.lower()
    detail = json.loads(body)["detail"][0]
    assert detail["type"] == kind and words in detail["msg"] and detail["limit"] == TIMEOUT


def test_a_slow_body_the_service_answered_early_is_closed_too():
    """POST /health is answered 405 at once, before its body; the trickled body would keep the
    connection (and its keep-alive timer cancelled by every byte) open without the body timeout."""
    first = (b"POST /health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
             b"Content-Length: 1000\r\n\r\n")
    with running_service("--header-timeout", str(TIMEOUT), "--body-timeout", str(TIMEOUT),
                         "--keep-alive-timeout", "30") as port:
        result = asyncio.run(asyncio.wait_for(slow_client(port, first, b"x", every=0.2, limit=TIMEOUT + MARGIN), 30))
    print(result)
    assert result["closed_after"] is not None and status_of(result["received"]) == 405


def test_the_app_alone_says_it_enforces_no_limits():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    from scorecard.apply.service import DEFAULT_CARD, DEFAULT_RULES, create_app

    connections = TestClient(create_app(DEFAULT_CARD, DEFAULT_RULES, params_path=None)).get("/health").json()[
        "connections"]
    assert connections["enforced"] is False and "--header-timeout" in connections["note"]


def test_idle_keep_alive_connection_is_closed_and_limits_are_reported():
    with running_service("--header-timeout", "3", "--body-timeout", "4", "--keep-alive-timeout", str(TIMEOUT),
                         "--max-connections", "50") as port:
        async def kept_alive():
            reader, writer = await asyncio.open_connection(HOST, port)
            try:
                writer.write(f"GET /health HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
                await writer.drain()
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                                  if line.lower().startswith(b"content-length")))
                health = json.loads(await reader.readexactly(length))
                answered = time.monotonic()
                rest = await asyncio.wait_for(reader.read(), TIMEOUT + MARGIN)   # b"" once closed
                return health, time.monotonic() - answered, rest
            finally:
                writer.close()

        health, idle, rest = asyncio.run(asyncio.wait_for(kept_alive(), 60))
    print("closed after", round(idle, 2), "s idle; /health connections:", health["connections"])
    assert rest == b"" and TIMEOUT - 0.2 <= idle <= TIMEOUT + MARGIN
    assert health["connections"] == {"enforced": True, "header_timeout": 3.0, "body_timeout": 4.0,
                                     "keep_alive_timeout": TIMEOUT, "max_connections": 50}


def test_requests_beyond_the_connection_limit_get_503():
    limit = 5
    with running_service("--header-timeout", "20", "--max-connections", str(limit)) as port:
        async def scenario():
            held = [await asyncio.open_connection(HOST, port) for _ in range(limit - 1)]
            try:
                await asyncio.sleep(0.3)
                below, _ = await get(port, "/health")            # the limit-th connection: served
                held.append(await asyncio.open_connection(HOST, port))
                over, answer = None, b""
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:               # once the server counts the held ones
                    over, answer = await get(port, "/health")
                    if over == 503:
                        break
                    await asyncio.sleep(0.2)
            finally:
                for _, writer in held:
                    writer.close()
            after = None
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:                   # the held ones are closed: served again
                after, _ = await get(port, "/health")
                if after == 200:
                    break
                await asyncio.sleep(0.2)
            return below, over, answer, after

        below, over, answer, after = asyncio.run(asyncio.wait_for(scenario(), 60))
    print(answer.decode())
    assert (below, over, after) == (200, 503, 200)


@pytest.mark.parametrize("option, value, words", [
    ("--header-timeout", "0", "--header-timeout (header_timeout) must be a positive number of seconds, got 0.0"),
    ("--body-timeout", "-1", "--body-timeout (body_timeout) must be a positive number of seconds, got -1.0"),
    ("--keep-alive-timeout", "nan", "--keep-alive-timeout (keep_alive_timeout) must be a positive number"),
    ("--header-timeout", "inf", "--header-timeout (header_timeout) must be a positive number"),
    ("--max-connections", "0", "--max-connections (max_connections) must be a whole number of at least 1, got 0"),
])
def test_bad_limits_refuse_to_start_naming_the_option(option, value, words):
    result = CliRunner().invoke(cli, ["serve", "--no-params", option, value])
    print(result.output)
    assert result.exit_code == 2 and words in " ".join(result.output.split())


def test_limits_have_documented_defaults():
    limits = ConnectionLimits()
    assert limits.as_dict() == {"header_timeout": 10.0, "body_timeout": 30.0, "keep_alive_timeout": 5.0,
                                "max_connections": 200}
    options = limits.uvicorn_options()
    assert options["timeout_keep_alive"] == 5.0 and options["limit_concurrency"] == 201
    with pytest.raises(ScorecardError, match="max_connections"):
        ConnectionLimits(max_connections=2.5)
