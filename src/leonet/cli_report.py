"""``leonet report RUN [-o FILE]``: write a run's offline HTML report.

`report_command` is the body of the command; `leonet.cli` registers it
(and ``leonet run`` calls it at the end of a run).  It prints one line
naming the file and its size, on stderr, unless ``--quiet``.
"""

from __future__ import annotations

import webbrowser
from pathlib import Path

from rich.console import Console

__all__ = ["report_command"]

_err = Console(stderr=True)


def _quiet() -> bool:
    try:
        from .cli import _state  # noqa: PLC2701 - the CLI's global --quiet flag
    except ImportError:  # pragma: no cover
        return False
    return bool(_state.get("quiet"))


def report_command(run_dir: Path, output: Path | None = None, open_browser: bool = False, *, quiet: bool | None = None) -> Path:
    """Write ``report.html`` for ``run_dir`` (or ``output``); return its path.

    Parameters
    ----------
    run_dir : Path
        A run directory written by ``leonet run``.
    output : Path, optional
        The HTML file to write; default ``run_dir / "report.html"``.  A
        directory means ``output / "report.html"``.
    open_browser : bool
        Open the report in the default web browser afterwards.
    quiet : bool, optional
        No progress or summary line; default: the CLI's ``--quiet``.

    Raises
    ------
    leonet.errors.ScenarioError
        When ``run_dir`` is not a leonet run, or ``output``'s folder does not exist.
    """
    from .errors import ScenarioError
    from .report import REPORT_NAME, write_report

    quiet = _quiet() if quiet is None else quiet
    run_dir = Path(run_dir)
    if output is not None:
        output = Path(output)
        if output.is_dir():
            output = output / REPORT_NAME
        if not output.parent.is_dir():
            raise ScenarioError(f"-o {output}: the folder {output.parent} does not exist; create it or choose another file")
    show = not quiet and _err.is_terminal
    if show:
        with _err.status(f"writing the report of {run_dir}", spinner="dots"):
            path = write_report(run_dir, output)
    else:
        path = write_report(run_dir, output)
    if not quiet:
        _err.print(f"report: {path} ({path.stat().st_size / 1e6:.1f} MB, works offline)", highlight=False)
    if open_browser:
        webbrowser.open(path.resolve().as_uri())
    return path
