"""The exceptions leonet raises.

``LeonetError`` is the root.  Errors about bad input also subclass
``ValueError`` (as Skyfield's ``EphemerisRangeError`` does), so callers that
already catch ``ValueError`` keep working.  Every message says what was wrong,
where (file, line or field), the bad value, and how to fix it.  The CLI prints
the message without a traceback and exits with status 2.
"""

from __future__ import annotations

__all__ = [
    "LeonetError",
    "ScenarioError",
    "InputFileError",
    "TLEFormatError",
    "TLEChecksumError",
    "PropagationError",
    "NoRouteError",
    "OutputPathError",
    "RunDirectoryError",
    "QueryError",
    "RunInterrupted",
]


class LeonetError(Exception):
    """Root of every exception leonet raises on purpose."""


class ScenarioError(LeonetError, ValueError):
    """A scenario, option or input value is invalid.

    Parameters
    ----------
    message : str
        The whole teaching message.
    source : str, optional
        The file (or other origin) the bad value came from.
    """

    def __init__(self, message: str, source: str | None = None):
        super().__init__(message)
        self.source = source


class InputFileError(ScenarioError):
    """An input data file (CSV, GeoJSON, OMM, ...) cannot be used.

    Attributes
    ----------
    path : str
        The file.
    line : int or None
        1-based line number where the problem is, when known.
    """

    def __init__(self, path: str, message: str, line: int | None = None):
        where = f"{path}, line {line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}", source=str(path))
        self.path = str(path)
        self.line = line


class TLEFormatError(InputFileError):
    """A TLE record is malformed (wrong length, line number, catalog number...)."""


class TLEChecksumError(TLEFormatError):
    """A TLE line's modulo-10 checksum does not match its last digit."""


class PropagationError(LeonetError):
    """SGP4 could not propagate one or more satellites (decayed, bad elements).

    Attributes
    ----------
    satellite_indices : numpy.ndarray of int
        Indices of the failing satellites.
    """

    def __init__(self, message: str, satellite_indices=None):
        super().__init__(message)
        self.satellite_indices = satellite_indices


class NoRouteError(LeonetError):
    """No path exists between two nodes at the requested time."""


class OutputPathError(LeonetError):
    """An output path cannot be written as asked.

    It holds a file leonet did not write (and ``force`` was not given), is a
    symbolic link, a directory, a device or a FIFO, or its folder is missing.
    """


class RunDirectoryError(LeonetError):
    """A run directory cannot be used as asked.

    Another run holds its lock; it holds a run that would be replaced; a file
    its manifest lists is missing, damaged or foreign; or the inputs of a run
    being resumed have changed.
    """


class QueryError(LeonetError, ValueError):
    """A query over a run's tables failed (SQL error, statement not allowed, a limit reached)."""


class RunInterrupted(KeyboardInterrupt):
    """A run was interrupted (Ctrl-C or SIGTERM); its directory can be resumed.

    A `KeyboardInterrupt`, so code that handles Ctrl-C keeps working.

    Attributes
    ----------
    path : pathlib.Path
        The run directory; ``leonet run --resume PATH`` (or
        ``leonet.run(..., resume=True)``) continues it.
    """

    def __init__(self, path):
        super().__init__(f"run interrupted: {path}")
        self.path = path
