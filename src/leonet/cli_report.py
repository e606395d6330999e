"""``leonet report RUN [-o FILE]``: write a run's offline HTML report.

`report_command` is the body of the command; `leonet.cli` registers it
(and ``leonet run`` calls it at the end of a run).  It prints one line
naming the file and its size, on stderr, unless ``quiet``.
"""

from __future__ import annotations

import webbrowser
from pathlib import Path

from rich.console import Console

__all__ = ["report_command"]

_err = Console(stderr=True, markup=False, emoji=False, highlight=False)


def report_command(
    run_dir: Path, output: Path | None = None, open_browser: bool = False, *, quiet: bool = False, force: bool = False
) -> Path:
    """Write ``report.html`` for ``run_dir`` (or ``output``); return its path.

    Parameters
    ----------
    run_dir : Path
        A run directory written by ``leonet run``.
    output : Path, optional
        The HTML file to write; default ``run_dir / "report.html"``.  A
        directory means ``output / "report.html"``.  An existing file is
        replaced only if it is a leonet report, or with ``force``.
    open_browser : bool
        Open the report in the default web browser afterwards.
    quiet : bool
        No progress or summary line.
    force : bool
        Replace ``output`` even if it is not a leonet report (a symbolic link
        is replaced itself, never its target).

    Raises
    ------
    leonet.errors.LeonetError
        When ``run_dir`` is not a leonet run, or ``output`` cannot be written.
    """
    from .report import REPORT_NAME, write_report
    from .results.files import check_output_file

    run_dir = Path(run_dir)
    if output is not None:
        output = Path(output)
        if output.is_dir() and not output.is_symlink():
            output = output / REPORT_NAME
        check_output_file(output, option="--output", kind="html", force=force, what="report")
    elif run_dir.is_dir():
        check_output_file(run_dir / REPORT_NAME, option="RUN", kind="html", force=force, what="report")
    show = not quiet and _err.is_terminal
    if show:
        with _err.status(f"writing the report of {run_dir}", spinner="dots"):
            path = write_report(run_dir, output)
    else:
        path = write_report(run_dir, output)
    if not quiet:
        _err.print(f"report: {path} ({path.stat().st_size / 1e6:.1f} MB, works offline)")
    if open_browser:
        webbrowser.open(path.resolve().as_uri())
    return path
