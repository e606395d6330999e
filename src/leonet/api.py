"""leonet's public API, on one page: load a scenario, run it, read the results.

>>> import leonet
>>> scenario = leonet.load_scenario("ukraine", time={"duration_s": 60})   # overrides by section
>>> scenario.spec.time.duration_s
60.0
>>> run = leonet.run(scenario, "runs/ukraine-1min")   # doctest: +SKIP
>>> steps = run.table("terminal_steps")    # a pandas DataFrame with time_utc   # doctest: +SKIP
>>> run.summary.served_pct                 # typed headline numbers             # doctest: +SKIP
>>> run.query("SELECT avg(rtt_ms) FROM terminal_steps WHERE served")          # doctest: +SKIP
>>> run.report()                           # the offline HTML report's path     # doctest: +SKIP

(README.md runs the same example end to end, and a test runs README.md.)

Errors are `LeonetError` subclasses: `ScenarioError` (the scenario or an
argument), `InputFileError` (a file the scenario names), `RunDirectoryError`
(a run directory that is locked, would be replaced, or is damaged),
`QueryError`; `RunInterrupted` (a `KeyboardInterrupt`) when a run is stopped,
after which `leonet.resume(path)` continues it.

Everything not listed in ``__all__`` is internal and may change between
versions; the building blocks (orbits, ground, links, routing, ...) are
importable from their packages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import (
    InputFileError,
    LeonetError,
    NoRouteError,
    OutputPathError,
    PropagationError,
    QueryError,
    RunDirectoryError,
    RunInterrupted,
    ScenarioError,
    TLEChecksumError,
    TLEFormatError,
)
from .results.summary import RunSummary
from .scenario.load import LoadedScenario, builtin_scenarios, load_scenario
from .scenario.schema import Scenario

if TYPE_CHECKING:  # pragma: no cover - pandas is imported when a table is read
    import pandas as pd

__all__ = [
    "load_scenario",
    "builtin_scenarios",
    "run",
    "resume",
    "open_run",
    "Run",
    "RunSummary",
    "LoadedScenario",
    "Scenario",
    "LeonetError",
    "ScenarioError",
    "InputFileError",
    "TLEFormatError",
    "TLEChecksumError",
    "RunDirectoryError",
    "OutputPathError",
    "QueryError",
    "RunInterrupted",
    "PropagationError",
    "NoRouteError",
]


class Run:
    """A run directory: its status, summary, tables and report.

    Get one from `run`, `resume` or `open_run`.  Reading never changes the
    directory; every file is checked against the manifest before it is read.

    Attributes
    ----------
    path : pathlib.Path
        The run directory.
    """

    def __init__(self, path: Path | str):
        from .results.store import read_manifest

        self.path = Path(path)
        read_manifest(self.path)  # a clear error now if this is not a run

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r}, status={self.status!r})"

    @property
    def manifest(self) -> dict:
        """The run's manifest (resolved scenario, grid, inputs, chunks, status, summary)."""
        from .results.store import read_manifest

        return read_manifest(self.path)

    @property
    def status(self) -> str:
        """``complete``, ``running``, ``interrupted`` or ``failed``."""
        from .results.store import run_status

        return run_status(self.path)

    @property
    def scenario(self) -> Scenario:
        """The scenario the run ran, as validated when it started."""
        return Scenario.model_validate(self.manifest["scenario"])

    @property
    def epoch_utc(self) -> dt.datetime:
        """The UTC time of offset 0 (``t_ns`` counts from here)."""
        return dt.datetime.fromisoformat(self.manifest["time_grid"]["epoch_utc"])

    @property
    def summary(self) -> RunSummary:
        """The headline numbers (served %, RTT and throughput percentiles, handovers, cost, ...)."""
        return RunSummary.from_dict(self.manifest.get("summary") or {})

    def tables(self) -> list[str]:
        """Names of the run's tables."""
        from .results.store import listed_files

        return sorted(listed_files(self.path, verify=False))

    def table(self, name: str, columns: list[str] | None = None) -> pd.DataFrame:
        """One table as a DataFrame; per-step tables gain ``time_utc`` (timezone-aware, from ``t_ns``).

        Parameters
        ----------
        name : str
            e.g. ``"terminal_steps"``, ``"terminals"``, ``"handovers"`` (`tables`).
        columns : list of str, optional
            Read only these columns.

        Raises
        ------
        QueryError
            No such table (the message lists them).
        RunDirectoryError
            A file is missing, damaged or foreign.
        """
        import pandas as pd
        import pyarrow as pa
        import pyarrow.parquet as pq

        from .results.store import listed_files

        files = listed_files(self.path)
        if name not in files:
            raise QueryError(f"{self.path}: no table {name!r}; the run has {', '.join(sorted(files))}")
        parts = [pq.read_table(p, columns=columns) for p in files[name]]
        frame = pa.concat_tables(parts).to_pandas() if parts else pd.DataFrame()
        if "t_ns" in frame.columns:
            frame = frame.sort_values([c for c in ("t_ns", "terminal", "sat", "gateway") if c in frame.columns],
                                      kind="stable", ignore_index=True)
            frame.insert(0, "time_utc", pd.Timestamp(self.epoch_utc) + pd.to_timedelta(frame["t_ns"], unit="ns"))
        return frame

    def query(self, sql: str, **limits: Any) -> pd.DataFrame:
        """One read-only SQL statement over the run's tables (DuckDB), as a DataFrame.

        ``limits``: ``timeout_s``, ``memory_limit``, ``max_rows`` (see `leonet.results.query.query`).
        """
        from .results.query import query

        return query(self.path, sql, **limits).to_pandas()

    def report(self, path: Path | str | None = None, *, force: bool = False) -> Path:
        """Write the offline HTML report (default ``RUN/report.html``); return its path.

        An existing file is replaced only if it is a leonet report, or with ``force``.
        """
        from .results.files import check_output_file
        from .report import REPORT_NAME, write_report

        target = self.path / REPORT_NAME if path is None else Path(path)
        check_output_file(target, option="path=", kind="html", force=force, what="report")
        return write_report(self.path, target)


def run(
    scenario: str | Path | Mapping[str, Any] | LoadedScenario,
    out: Path | str | None = None,
    *,
    workers: int = 1,
    dask_scheduler: str | None = None,
    dask_local: int | None = None,
    chunk_steps: int | None = None,
    force: bool = False,
    lenient: bool = False,
    report: bool = False,
    ignore_memory_guard: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Run:
    """Run a scenario and write its run directory.

    Parameters
    ----------
    scenario : LoadedScenario, str, path or mapping
        What `load_scenario` takes (a built-in name, a file, a dict), or its result.
    out : path, optional
        The run directory (default: the scenario's ``output.directory``,
        ``runs/<name>`` relative to the working directory).
    workers : int
        Local worker processes (1: compute here).
    dask_scheduler, dask_local : optional
        A Dask scheduler address (``tcp://host:8786``), or the size of a local Dask cluster to start.
    chunk_steps : int, optional
        Steps per chunk (default: the scenario's ``output.chunk_steps``).
    force : bool
        Replace a run already in ``out``, or write into a directory of other files.
    lenient : bool
        Skip bad element-set records (with a warning).
    report : bool
        Also write ``report.html``.
    ignore_memory_guard : bool
        Run even when the memory estimate exceeds 80% of what is available.
    progress : callable(done_steps, total_steps), optional

    Returns
    -------
    Run

    Raises
    ------
    ScenarioError, InputFileError, RunDirectoryError
    RunInterrupted
        On Ctrl-C; continue with `resume`.
    """
    from .engine.run import run_scenario

    loaded = scenario if isinstance(scenario, LoadedScenario) else load_scenario(scenario)
    result = run_scenario(
        loaded, out, force=force, lenient=lenient, progress=progress, workers=workers, dask_scheduler=dask_scheduler,
        dask_local=dask_local, chunk_steps=chunk_steps, ignore_memory_guard=ignore_memory_guard,
    )
    done = Run(result.path)
    if report:
        done.report()
    return done


def resume(
    path: Path | str,
    *,
    workers: int = 1,
    dask_scheduler: str | None = None,
    dask_local: int | None = None,
    ignore_memory_guard: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Run:
    """Continue an interrupted run: only the missing chunks are computed.

    Refused (`RunDirectoryError`) when an input file the run read has changed
    since it started, or when another process is writing the run.
    """
    from .engine.run import resume_run

    result = resume_run(path, progress=progress, workers=workers, dask_scheduler=dask_scheduler,
                        dask_local=dask_local, ignore_memory_guard=ignore_memory_guard)
    return Run(result.path)


def open_run(path: Path | str) -> Run:
    """An existing run directory (complete or not).

    Raises
    ------
    RunDirectoryError
        ``path`` holds no leonet run, or its manifest is damaged.
    """
    return Run(path)
