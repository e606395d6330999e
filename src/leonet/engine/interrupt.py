"""A stop request that survives Python dropping it.

A signal handler stops a run by raising `KeyboardInterrupt` in whatever
frame is executing.  If that frame is a finaliser (``__del__``, e.g.
``pyarrow.parquet.ParquetWriter.__del__`` when a chunk's writer is
collected), Python prints "Exception ignored" and the run goes on to exit 0:
the stop is lost (seen once in ~20 SIGTERM tests).  So the CLI's handlers
also *record* the request here, and the engine checks it after every chunk
and before it marks a run done (`check_interrupt`).
"""

from __future__ import annotations

import threading

__all__ = ["check_interrupt", "clear_interrupt", "request_interrupt"]

_REQUESTED = threading.Event()


def request_interrupt() -> None:
    """Record that the user asked the run to stop (call from a signal handler, then raise)."""
    _REQUESTED.set()


def clear_interrupt() -> None:
    """Forget an earlier request (at the start of a new command in the same process)."""
    _REQUESTED.clear()


def check_interrupt() -> None:
    """Raise `KeyboardInterrupt` if a stop was requested (a safe point of the engine)."""
    if _REQUESTED.is_set():
        raise KeyboardInterrupt
