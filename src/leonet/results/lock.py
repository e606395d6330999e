"""The lock a run holds on its directory for as long as it writes there.

``RUN/.leonet.lock`` is locked with ``flock(LOCK_EX)`` by the process that
writes the run, from before its first write until its last.  A second writer
is refused at once, with the holder's pid, host and start time (which the
holder writes into the file).  The kernel drops an ``flock`` when its holder
dies, however it dies (SIGKILL included), so a lock left by a killed run is
never mistaken for a live one: the next writer simply takes it, and says
whose it was.  The file itself is left in place (deleting it would let two
writers lock two different files under one name).

Readers (`leonet query`, `leonet report`) take no lock: every file is
replaced atomically and the manifest lists only finished files.  They can
ask `is_locked` whether a run is being written right now (to tell a live
run from one that was killed while it said ``running``).

``flock`` is advisory and local: it holds between processes of one machine
(and on most network file systems between machines that mount them with
lock support).  It is not available on Windows.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import json
import os
import socket
import time
from pathlib import Path

from ..errors import RunDirectoryError

__all__ = ["RunLock", "LOCK_NAME", "is_locked", "lock_holder"]

LOCK_NAME = ".leonet.lock"

#: A reader testing the lock holds it (shared) for microseconds; a writer that
#: finds it taken tries again for this long before refusing.
_RETRY_S = 0.5


def lock_holder(run_dir: Path | str) -> dict:
    """What the lock file says of its last holder (pid, host, started_utc); {} if unreadable."""
    try:
        with open(Path(run_dir) / LOCK_NAME, encoding="utf-8") as f:
            holder = json.loads(f.read(4096) or "{}")
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


def is_locked(run_dir: Path | str) -> bool:
    """True while a live process holds the run's lock (the run is being written)."""
    try:
        fd = os.open(Path(run_dir) / LOCK_NAME, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # closing drops the shared lock, if taken
    return False


class RunLock:
    """The exclusive lock of one run directory (a context manager).

    Parameters
    ----------
    run_dir : path
        An existing directory.

    Attributes
    ----------
    previous : dict
        What the lock file said of its previous holder when this lock was
        taken: {} when the previous holder released it normally (or for a new
        directory); a run that was killed leaves its pid, host and start time.
    """

    def __init__(self, run_dir: Path | str):
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LOCK_NAME
        self._fd: int | None = None
        self.previous: dict = {}

    def acquire(self) -> "RunLock":
        """Take the lock, or raise `RunDirectoryError` naming the live holder."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise RunDirectoryError(f"{self.path}: is a symbolic link; remove it (leonet does not follow links)") from None
            raise RunDirectoryError(
                f"{self.run_dir}: cannot lock the run directory ({exc.strerror or exc}); check its permissions"
            ) from None
        deadline = time.monotonic() + _RETRY_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES) or time.monotonic() > deadline:
                    os.close(fd)
                    holder = lock_holder(self.run_dir)
                    who = ", ".join(
                        f"{k} {holder[k]}" for k in ("pid", "host", "started_utc") if holder.get(k) is not None
                    ) or "holder unknown"
                    raise RunDirectoryError(
                        f"{self.run_dir}: another leonet run is writing this directory ({who}); wait for it to "
                        "finish, or write to another directory"
                    ) from None
                time.sleep(0.02)
        self._fd = fd
        try:
            self.previous = json.loads(os.pread(fd, 4096, 0) or b"{}")
            if not isinstance(self.previous, dict):
                self.previous = {}
        except (OSError, ValueError):
            self.previous = {}
        me = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        }
        data = json.dumps(me).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
        return self

    def release(self) -> None:
        """Drop the lock (the file stays, emptied: a holder that dies leaves its details instead)."""
        if self._fd is not None:
            try:
                os.ftruncate(self._fd, 0)
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            finally:
                os.close(self._fd)
                self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
