"""Stopping a running batch (Ctrl-C, SIGTERM): :func:`interrupt` sets the flag every engine
checks between steps and cancels the running DuckDB queries and Spark jobs registered here."""

from __future__ import annotations

import threading

_ACTIVE: set = set()
_ACTIVE_LOCK = threading.Lock()
_INTERRUPTED = threading.Event()


def interrupt() -> None:
    """Stop the runs in progress (safe to call from any thread, e.g. a signal watcher).

    Running DuckDB queries are interrupted at once; the Python engine stops at its next
    step. The interrupted run raises :class:`KeyboardInterrupt` after removing its temporary
    files: nothing is written under the output's name.
    """
    _INTERRUPTED.set()
    with _ACTIVE_LOCK:
        connections = list(_ACTIVE)
    for con in connections:
        try:
            con.interrupt()
        except Exception:  # already closed
            pass


def _check_interrupted() -> None:
    if _INTERRUPTED.is_set():
        raise KeyboardInterrupt
