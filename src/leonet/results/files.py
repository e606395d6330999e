"""The files leonet writes: atomic replacement, strict JSON, and never replacing what is not ours.

Three promises hold for every file leonet writes (docs/reliability.md lists the
tests that keep them):

* **Atomic.**  A file is written to a temporary name in its own directory,
  flushed, fsynced and renamed over the final name (`write_bytes_atomic`), so a
  killed process leaves the old file or the new one, never half of one.  The
  rename replaces a symbolic link itself, never the file it points to.
* **Strict JSON.**  JSON is RFC 8259: NaN and infinities become ``null``
  (`dumps_json`), so every JSON parser reads what leonet writes.
* **Not over someone else's file.**  An output path that already holds a file
  is replaced only when leonet wrote that file (it carries leonet's marker:
  `is_leonet_file`) or the caller passes ``force``; a symbolic link, a device,
  a FIFO or a directory is never written through (`check_output_file`).
"""

from __future__ import annotations

import json
import math
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

from ..errors import OutputPathError

__all__ = [
    "write_bytes_atomic",
    "write_json_atomic",
    "dumps_json",
    "json_safe",
    "check_output_file",
    "is_leonet_file",
    "LEONET_MARKER",
    "fsync_dir",
]

#: The word leonet puts in every file it writes where the format has room for
#: one: an HTML ``<meta name="generator">``, a Parquet key-value metadata key,
#: a first-line TOML comment, a JSON key.
LEONET_MARKER = "leonet"


def write_bytes_atomic(path: Path | str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename, fsync of the directory).

    The file gets the ordinary mode (0666 less the umask).  If ``path`` is a
    symbolic link, the link itself is replaced (the rename never follows it).
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:200]}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes the file 0600; give it the ordinary mode (0666 less umask).
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    fsync_dir(path.parent)


def fsync_dir(directory: Path | str) -> None:
    """fsync a directory, so that renames and new entries in it survive a power cut (best effort)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def json_safe(obj: Any) -> Any:
    """``obj`` with every non-finite float replaced by None and numpy scalars made Python ones.

    Containers are copied (dicts, lists, tuples -> lists); other objects are
    returned unchanged (`dumps_json` turns them into strings).
    """
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k) if not isinstance(k, str) else k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    item = getattr(obj, "item", None)  # numpy scalars
    if item is not None and getattr(obj, "shape", None) == ():
        return json_safe(item())
    return obj


def dumps_json(obj: Any, *, indent: int | None = 2) -> str:
    """RFC 8259 JSON text of ``obj``: NaN and infinities as ``null``, other objects as strings."""
    return json.dumps(json_safe(obj), indent=indent, allow_nan=False, default=str, ensure_ascii=False)


def write_json_atomic(path: Path | str, obj: Any) -> None:
    """Write ``obj`` as strict JSON (`dumps_json`), atomically."""
    write_bytes_atomic(path, (dumps_json(obj) + "\n").encode("utf-8"))


def is_leonet_file(path: Path | str, kind: str) -> bool:
    """Whether the regular file ``path`` carries leonet's marker for ``kind``.

    ``kind`` is ``"html"`` (a report: ``<meta name="generator" content="leonet ...">``
    in its head), ``"parquet"`` (key-value metadata ``leonet``) or ``"toml"``
    (first line ``# leonet ...``).  Anything else, or an unreadable file, is
    not leonet's.
    """
    path = Path(path)
    try:
        if kind == "html":
            with open(path, "rb") as f:
                head = f.read(8192)
            return b'<meta name="generator" content="leonet ' in head
        if kind == "toml":
            with open(path, "rb") as f:
                return f.readline(200).startswith(b"# leonet ")
        if kind == "parquet":
            import pyarrow.parquet as pq

            metadata = pq.read_schema(path).metadata or {}
            return LEONET_MARKER.encode() in metadata
    except (OSError, ValueError, Exception):  # noqa: BLE001 - a foreign file of any shape is simply not ours
        return False
    return False


def check_output_file(
    path: Path | str,
    *,
    option: str,
    kind: str | None,
    force: bool = False,
    what: str = "file",
) -> Path:
    """Refuse to write ``path`` unless it is new, or leonet's own, or ``force`` is given.

    Parameters
    ----------
    path : path
        The file about to be written (atomically, with `write_bytes_atomic`).
    option : str
        How the caller named the path (a CLI option such as ``"--output"`` or a
        keyword argument such as ``"output="``), for messages.
    kind : str or None
        The marker to recognise (`is_leonet_file`); None: a format with no
        room for a marker (CSV), so an existing file needs ``force``.
    force : bool
        Replace an existing regular file (or symbolic link: the link itself is
        replaced, never its target) even when it is not leonet's.
    what : str
        What leonet writes there ("report", "Parquet file"...), for messages.

    Returns
    -------
    Path

    Raises
    ------
    OutputPathError
        The folder does not exist; the path is a directory, a device, a FIFO
        or a socket; or it holds a file (or link) leonet did not write and
        ``force`` is not given.
    """
    path = Path(path)
    parent = path.parent
    if not parent.is_dir():
        if parent.exists():
            raise OutputPathError(f"{option} {path}: {parent} is not a folder; choose another file")
        raise OutputPathError(f"{option} {path}: the folder {parent} does not exist; create it or choose another file")
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return path
    except OSError as exc:
        raise OutputPathError(f"{option} {path}: cannot use this path ({exc.strerror or exc}); choose another file") from None
    if stat.S_ISLNK(st.st_mode):
        if force:
            return path  # the atomic rename replaces the link, not what it points to
        raise OutputPathError(
            f"{option} {path}: is a symbolic link; leonet does not write through links. Choose another file, "
            "or pass force=True to replace the link itself (its target is left alone)"
        )
    if stat.S_ISDIR(st.st_mode):
        raise OutputPathError(f"{option} {path}: is a directory; give a file name")
    if not stat.S_ISREG(st.st_mode):
        raise OutputPathError(f"{option} {path}: is not a regular file (a device, FIFO or socket); choose another file")
    if force or (kind is not None and is_leonet_file(path, kind)):
        return path
    raise OutputPathError(
        f"{option} {path}: the file exists and is not a {what} leonet wrote; leonet will not replace it. "
        "Choose another file, or pass force=True to replace it"
    )
