"""Reading the user's input files: regular files only, and short excerpts in messages.

Every loader of a user file (scenario, element sets, site CSVs, GeoJSON)
reads it through `read_input_bytes`, which refuses anything that is not a
regular file *before reading it*: a FIFO would block the run until some
other process writes to it, a device such as ``/dev/zero`` never ends, a
socket or a directory has no contents to read.  The file is opened with
``O_NONBLOCK`` and checked again with ``fstat`` on the open descriptor, so a
file swapped for a FIFO between the two checks cannot block either.

Messages quote a file's contents only through `excerpt`: at most ``limit``
printable characters from the start of the text, stopped at the first
character that is not printable (a NUL, a control character, a byte that is
not UTF-8), with ``...`` when anything was cut.  A file that is not what it
claims to be (``/proc/self/environ`` given as an element-set file, a
credentials file given as a CSV) is therefore never echoed beyond a short,
sanitised prefix.
"""

from __future__ import annotations

import hashlib
import os
import reprlib
import stat

from .errors import InputFileError

__all__ = [
    "excerpt",
    "short_repr",
    "listing",
    "read_input_bytes",
    "regular_file_problem",
    "file_sha256",
    "EXCERPT_CHARS",
    "LISTING_CHARS",
]

#: Most characters of a file's contents a message quotes.
EXCERPT_CHARS = 40

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def excerpt(data: str | bytes, limit: int = EXCERPT_CHARS) -> str:
    """The start of a text, safe to quote in a message.

    Parameters
    ----------
    data : str or bytes
        Bytes are decoded as UTF-8; a byte that is not UTF-8 ends the excerpt.
    limit : int
        Most characters kept.

    Returns
    -------
    str
        Leading blanks and a byte-order mark dropped, then at most ``limit``
        printable characters, up to the first one that is not printable;
        ``"..."`` appended when anything was cut.

    Examples
    --------
    >>> excerpt("SHELL=/bin/bash\\0HOME=/root")
    'SHELL=/bin/bash...'
    >>> excerpt("STARLINK-1008")
    'STARLINK-1008'
    """
    text = data.decode("utf-8", "surrogateescape") if isinstance(data, (bytes, bytearray)) else str(data)
    text = text.lstrip(" \t\r\n\ufeff")
    end = 0
    for char in text[: limit + 1]:
        if end == limit or not char.isprintable():
            break
        end += 1
    return text[:end] + ("..." if end < len(text) else "")


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother, _REPR.maxlist, _REPR.maxdict = 2, EXCERPT_CHARS, 100, 4, 4
_REPR.maxtuple = _REPR.maxset = _REPR.maxfrozenset = _REPR.maxdeque = _REPR.maxarray = 4


def short_repr(value: object) -> str:
    """``repr(value)``, bounded: strings as a quoted `excerpt`, containers cut (reprlib)."""
    if isinstance(value, str):
        return repr(excerpt(value))
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        # repr() of an integer of more than 4300 digits raises ValueError (CPython's limit).
        digits = int(value.bit_length() * 0.30103) + 1
        return f"<an integer of about {digits} digits>"
    try:
        text = _REPR.repr(value)
    except (RecursionError, ValueError):  # nested too deep; a huge integer inside a container
        return f"<{type(value).__name__}>"
    return excerpt(text, 100)


#: Most characters of a `listing`.
LISTING_CHARS = 120


def listing(values, most: int = 12) -> str:
    """``"a, b, c"``: at most ``most`` values, each an `excerpt`, at most `LISTING_CHARS` in all.

    ``", ... (N in all)"`` is appended when values were left out.
    """
    values = list(values)
    shown = excerpt(", ".join(excerpt(str(v)) for v in values[:most]), LISTING_CHARS)
    if len(values) > most and not shown.endswith("..."):
        shown += ", ..."
    return shown + (f" ({len(values)} in all)" if shown.endswith("...") else "")


def regular_file_problem(mode: int) -> str | None:
    """What a non-regular file is (``"a FIFO (named pipe)"``), from ``st_mode``; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    return next((name for test, name in _KINDS if test(mode)), "a special file")


def _refuse(path: str, kind: str, what: str) -> InputFileError:
    return InputFileError(
        path, f"is not a file but {kind}; leonet reads only regular files: give the path of {what}"
    )


def _open_regular(path: str | os.PathLike, what: str, missing: str) -> int:
    """A descriptor of ``path`` opened for reading, after checking it is a regular file."""
    text = os.fspath(path)
    try:
        kind = regular_file_problem(os.stat(text).st_mode)
    except FileNotFoundError:
        raise InputFileError(text, missing) from None
    except (OSError, ValueError) as exc:  # permission, a NUL byte, a name too long
        raise InputFileError(text, f"cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
    if kind is not None:
        raise _refuse(text, kind, what)
    try:
        # O_NONBLOCK: if the path became a FIFO since the stat, opening it does not wait for a writer.
        fd = os.open(text, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise InputFileError(text, missing) from None
    except OSError as exc:
        raise InputFileError(text, f"cannot be read ({exc.strerror or exc})") from None
    kind = regular_file_problem(os.fstat(fd).st_mode)
    if kind is not None:
        os.close(fd)
        raise _refuse(text, kind, what)
    return fd


def read_input_bytes(
    path: str | os.PathLike, what: str = "an input file", missing: str = "no such file; check the path"
) -> bytes:
    """The bytes of a user's input file, which must be a regular file.

    Parameters
    ----------
    path : path-like
    what : str
        What the file should be, for messages (``"an element-set file"``).
    missing : str
        The message for a file that does not exist.

    Raises
    ------
    leonet.errors.InputFileError
        Missing, unreadable, or not a regular file (a directory, FIFO,
        device or socket; checked before anything is read).
    """
    fd = _open_regular(path, what, missing)
    try:
        with os.fdopen(fd, "rb") as f:
            return f.read()
    except OSError as exc:
        raise InputFileError(os.fspath(path), f"cannot be read ({exc.strerror or exc})") from None


def file_sha256(path: str | os.PathLike, what: str = "an input file", missing: str = "no such file; check the path") -> str:
    """Hex sha256 of a regular file's bytes, read in 1 MiB blocks (same checks as `read_input_bytes`)."""
    fd = _open_regular(path, what, missing)
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise InputFileError(os.fspath(path), f"cannot be read ({exc.strerror or exc})") from None
    return digest.hexdigest()

