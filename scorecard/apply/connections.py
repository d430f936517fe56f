"""How long the scoring service waits for a client, and how many it serves at once.

uvicorn (0.54, httptools) times out only an idle keep-alive connection between two requests:
a connection that never sends anything, that trickles its request headers byte by byte
("slowloris"), or that announces ``Content-Length: 1000`` and sends a few bytes a second is held
open for as long as the client likes, and a few hundred of them hold the service's sockets.
:class:`ConnectionLimits` says what ``scorecard serve`` enforces:

- ``header_timeout`` (10 s): a request's line and headers must be complete within this many
  seconds of the connection opening, or of the first byte of a next request on a kept-alive
  connection. It is a deadline, not an idle timer: a byte every second does not extend it. A
  client that began a request gets a 408 and the connection is closed; a connection that sent
  nothing is closed.
- ``body_timeout`` (30 s): the whole request body must arrive within this many seconds of the
  end of its headers (at the 1 MB body limit, at least about 33 kB/s). Otherwise a 408 is sent
  when no answer was started, and the connection is closed.
- ``keep_alive_timeout`` (5 s): an idle connection between two requests is closed (uvicorn's
  ``timeout_keep_alive``).
- ``max_connections`` (200): connections served at once. A request on a connection beyond
  them gets a 503 (uvicorn's ``limit_concurrency``, which counts the asking connection too, so
  it is given ``max_connections + 1``); the header timeout bounds how long such a connection
  is held.

The header and body timeouts are enforced by :func:`protocol_class`, a subclass of uvicorn's
httptools protocol that keeps two timers per connection (``loop.call_later``): the header timer
is armed when a connection opens and when bytes arrive while no request is in progress, and
cancelled when the headers are complete; the body timer is armed then and cancelled when the
body is complete. ``GET /health`` reports the limits under ``connections``.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict, dataclass

from scorecard.errors import ScorecardError

HEADER_TIMEOUT = 10.0
BODY_TIMEOUT = 30.0
KEEP_ALIVE_TIMEOUT = 5.0
MAX_CONNECTIONS = 200
log = logging.getLogger("scorecard.apply.service")


@dataclass(frozen=True)
class ConnectionLimits:
    """Timeouts (seconds) and the connection limit of ``scorecard serve`` (see the module)."""

    header_timeout: float = HEADER_TIMEOUT
    body_timeout: float = BODY_TIMEOUT
    keep_alive_timeout: float = KEEP_ALIVE_TIMEOUT
    max_connections: int = MAX_CONNECTIONS

    def __post_init__(self):
        for name in ("header_timeout", "body_timeout", "keep_alive_timeout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or value <= 0:
                option = "--" + name.replace("_", "-")
                raise ScorecardError(f"{option} ({name}) must be a positive number of seconds, got {value!r}")
            object.__setattr__(self, name, float(value))
        value = self.max_connections
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ScorecardError(f"--max-connections (max_connections) must be a whole number of at least 1, "
                                 f"got {value!r}")

    def as_dict(self) -> dict:
        return asdict(self)

    def uvicorn_options(self) -> dict:
        """Keyword arguments of ``uvicorn.run`` / ``uvicorn.Config`` that enforce these limits."""
        return {"http": protocol_class(self), "timeout_keep_alive": self.keep_alive_timeout,
                "limit_concurrency": self.max_connections + 1}


def _answer(status: bytes, kind: str, message: str, limit: float, default_headers) -> bytes:
    body = json.dumps({"detail": [{"loc": ["body" if kind == "body_timeout" else "headers"], "type": kind,
                                   "msg": message, "limit": limit}]}).encode()
    lines = [b"HTTP/1.1 " + status + b"\r\n"]
    lines += [name + b": " + value + b"\r\n" for name, value in default_headers]
    lines += [b"content-type: application/json\r\n", b"content-length: %d\r\n" % len(body),
              b"connection: close\r\n", b"\r\n", body]
    return b"".join(lines)


def protocol_class(limits: ConnectionLimits) -> type:
    """uvicorn's httptools protocol with the header and body timeouts of ``limits``."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    header_timeout, body_timeout = limits.header_timeout, limits.body_timeout

    class TimedHttpToolsProtocol(HttpToolsProtocol):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._header_timer = None
            self._body_timer = None
            self._request_begun = False   # bytes of a request line arrived, headers not complete

        # -- timers -------------------------------------------------------------------------
        def _arm_header_timer(self) -> None:
            if self._header_timer is None:
                self._header_timer = self.loop.call_later(header_timeout, self._header_timed_out)

        def _cancel(self, name: str) -> None:
            timer = getattr(self, name)
            if timer is not None:
                timer.cancel()
                setattr(self, name, None)

        def _answering(self) -> bool:
            return self.cycle is not None and self.cycle.response_started and not self.cycle.response_complete

        def _close(self, why: str) -> None:
            prefix = "%s:%d - " % self.client if self.client else ""
            log.warning("%s%s: connection closed", prefix, why)
            self.transport.close()

        def _header_timed_out(self) -> None:
            self._header_timer = None
            if self.transport.is_closing():
                return
            if self._request_begun and not self._answering() and not self.pipeline:
                self.transport.write(_answer(
                    b"408 Request Timeout", "header_timeout",
                    f"request headers not complete within {header_timeout:g} s (--header-timeout): "
                    "send the request line and headers at once", header_timeout, self.server_state.default_headers))
            self._close(f"request headers not complete within {header_timeout:g} s")

        def _body_timed_out(self) -> None:
            self._body_timer = None
            if self.transport.is_closing():
                return
            cycle = self.cycle
            if cycle is not None and not cycle.response_started:
                self.transport.write(_answer(
                    b"408 Request Timeout", "body_timeout",
                    f"request body not complete within {body_timeout:g} s of its headers (--body-timeout): "
                    "send the whole body at once", body_timeout, self.server_state.default_headers))
            if cycle is not None and not cycle.response_complete:
                cycle.disconnected = True       # the app's receive() gets http.disconnect; its send() is dropped
                cycle.message_event.set()
            self._close(f"request body not complete within {body_timeout:g} s")

        # -- uvicorn's protocol ---------------------------------------------------------------
        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            self._arm_header_timer()         # a connection that sends nothing is closed too

        def connection_lost(self, exc) -> None:
            self._cancel("_header_timer")
            self._cancel("_body_timer")
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.parser is None or self.transport.is_closing():
                return
            # Bytes while no request is in progress and no timer runs (e.g. blank lines after a
            # request whose answer was sent before its body ended): the next headers are due.
            idle = (self.cycle is None or self.cycle.response_complete) and not self.pipeline
            if idle and self._body_timer is None and self.timeout_keep_alive_task is None:
                self._arm_header_timer()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._request_begun = True
            self._arm_header_timer()

        def on_headers_complete(self) -> None:
            self._cancel("_header_timer")
            self._request_begun = False
            super().on_headers_complete()
            if self._body_timer is None:
                self._body_timer = self.loop.call_later(body_timeout, self._body_timed_out)

        def on_message_complete(self) -> None:
            self._cancel("_body_timer")
            super().on_message_complete()
            # An answer sent before the body ended armed the keep-alive timer, and the body's
            # later bytes cancelled it: arm it again, as after any answer.
            cycle = self.cycle
            if (cycle is not None and cycle.response_complete and not self.pipeline
                    and self.timeout_keep_alive_task is None and not self.transport.is_closing()):
                self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive,
                                                                    self.timeout_keep_alive_handler)

        def handle_websocket_upgrade(self) -> None:
            self._cancel("_header_timer")
            self._cancel("_body_timer")
            super().handle_websocket_upgrade()

    return TimedHttpToolsProtocol
