"""Run a scenario: chunks of time steps through the data flow, into a run directory.

A chunk is ``output.chunk_steps`` consecutive steps.  Each chunk is
propagated, processed and written on its own, so one process's memory is
bounded by the chunk size, not the run length.  Chunks are independent
(`leonet.engine.context`): they may be computed here, in local worker
processes (``workers``) or on a Dask cluster (``dask_scheduler`` /
``dask_local``), in any order; this process writes each finished chunk and
records it in the manifest, so an interrupted run can be resumed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .._version import __version__
from ..errors import RunDirectoryError, RunInterrupted, ScenarioError
from ..results.store import RunDirectory
from ..results.summary import summarize_run
from ..scenario.load import LoadedScenario
from .context import RunContext, ScenarioPayload, compute_chunk
from .guard import check_resources, estimate_resources
from .interrupt import check_interrupt

__all__ = ["RunResult", "run_scenario", "resume_run", "prepare_run", "default_output_dir", "chunk_ranges", "safe_name"]


@dataclass
class RunResult:
    path: Path
    summary: dict = field(default_factory=dict)


def default_output_dir(loaded: LoadedScenario) -> Path:
    """The scenario's ``output.directory`` with ``{name}`` replaced by its name (`safe_name`)."""
    name = safe_name(loaded.spec.scenario.name)
    return Path(loaded.spec.output.directory.replace("{name}", name))


def safe_name(text: str) -> str:
    """A file-name-safe form of a user string.

    Letters and digits of every script are kept (``Київ`` stays ``Київ``,
    ``東京`` stays ``東京``), as are ``-``, ``_`` and ``.``; runs of anything
    else become one ``_``.  Never empty, never a dot-name, at most 100
    characters and 200 bytes of UTF-8 (file systems allow 255 bytes).
    """
    import re
    import unicodedata

    text = unicodedata.normalize("NFC", str(text))
    cleaned = re.sub(r"[^\w.-]+", "_", text, flags=re.UNICODE).strip("._") or "run"
    cleaned = cleaned[:100]
    while len(cleaned.encode("utf-8")) > 200:
        cleaned = cleaned[:-1]
    return cleaned


def chunk_ranges(steps: int, chunk_steps: int) -> list[tuple[int, int, int]]:
    """``(index, start, stop)`` of every chunk."""
    return [(i, s, min(s + chunk_steps, steps)) for i, s in enumerate(range(0, steps, chunk_steps))]


def _executor(workers: int, dask_scheduler: str | None, dask_local: int | None):
    """(submit, as_completed, close) for the chosen executor."""
    if dask_scheduler or dask_local:
        try:
            from dask.distributed import Client, LocalCluster, as_completed
        except ImportError:
            raise ScenarioError(
                "Dask runs need dask.distributed: pip install 'leonet[dask]' (or pip install 'dask[distributed]')"
            ) from None
        if dask_scheduler:
            try:
                client = Client(dask_scheduler, timeout="10s")
            except OSError as exc:
                raise ScenarioError(
                    f"dask_scheduler={dask_scheduler!r}: cannot reach a Dask scheduler there ({exc}); start one with "
                    "`dask scheduler` and workers with `dask worker tcp://HOST:8786`"
                ) from None
            cluster = None
        else:
            cluster = LocalCluster(n_workers=dask_local, threads_per_worker=1, processes=True, dashboard_address=None)
            client = Client(cluster)

        def close():
            client.close()
            if cluster is not None:
                cluster.close()

        return (lambda fn, *a: client.submit(fn, *a, pure=False)), (lambda fs: as_completed(fs)), close
    if workers > 1:
        import concurrent.futures as cf
        import multiprocessing as mp

        pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"))

        def close():
            pool.shutdown(wait=True, cancel_futures=True)

        return pool.submit, cf.as_completed, close
    return None


def _manifest_header(loaded: LoadedScenario, ctx: RunContext, chunk_steps: int, inputs: dict[str, str]) -> dict:
    spec = loaded.spec
    return {
        "leonet_version": __version__,
        "scenario_source": loaded.source,
        "scenario_base_dir": str(loaded.base_dir),
        "scenario": spec.model_dump(mode="json", by_alias=True),
        "inputs": inputs,
        "seed": spec.scenario.seed,
        "time_grid": {
            "epoch_utc": ctx.grid.epoch_utc.isoformat(),
            "steps": len(ctx.grid),
            "step_ns": spec.time.step_ns,
            "chunk_steps": chunk_steps,
        },
        "satellites": len(ctx.constellation),
    }


def _input_files(loaded: LoadedScenario) -> dict[str, str]:
    """Absolute path -> sha256 of every input file the scenario names."""
    return dict(loaded.input_files())


def prepare_run(loaded: LoadedScenario, *, lenient: bool = False) -> RunContext:
    """Build everything a run needs before propagation, running every check a run runs.

    `leonet validate` calls this, so that whatever a run would refuse before
    its first step (a missing region file, a fault on a gateway the run does
    not have, a fleet without a ledger end...) is refused by validation too.
    """
    ctx = RunContext(loaded, lenient=lenient)
    ctx.static_tables()
    return ctx


def run_scenario(
    loaded: LoadedScenario,
    out_dir: Path | str | None = None,
    *,
    force: bool = False,
    lenient: bool = False,
    progress: Callable[[int, int], None] | None = None,
    workers: int = 1,
    dask_scheduler: str | None = None,
    dask_local: int | None = None,
    chunk_steps: int | None = None,
    ignore_memory_guard: bool = False,
) -> RunResult:
    """Run a validated scenario and write its output directory.

    Parameters
    ----------
    loaded : LoadedScenario
    out_dir : path, optional
        Default: the scenario's ``output.directory``.
    force : bool
        Replace a run already in ``out_dir`` (complete or not), or write into
        a directory that holds other files (they are left alone).
    progress : callable(done_steps, total_steps), optional
    workers : int
        Local worker processes (1 = compute here).
    dask_scheduler : str, optional
        Address of a Dask scheduler (``tcp://host:8786``) to compute chunks on.
    dask_local : int, optional
        Start a Dask ``LocalCluster`` of this many worker processes.
    chunk_steps : int, optional
        Override ``output.chunk_steps``.
    ignore_memory_guard : bool
        Run even when the estimated peak memory exceeds 80% of what is available.

    Returns
    -------
    RunResult

    Raises
    ------
    RunDirectoryError
        ``out_dir`` is being written by another run, or holds a run or other
        files and ``force`` is not given.
    RunInterrupted
        Ctrl-C (or SIGTERM in the CLI): the run is marked ``interrupted`` and
        can be resumed (`resume_run`).
    """
    out = Path(out_dir) if out_dir is not None else default_output_dir(loaded)
    chunk = chunk_steps or loaded.spec.output.chunk_steps
    _check_executor(workers, dask_scheduler, dask_local, chunk)
    ctx, payload = _context(loaded, lenient, chunk, workers, dask_local, ignore_memory_guard)
    header = {**_manifest_header(loaded, ctx, chunk, _input_files(loaded)), "lenient": lenient, "estimate": ctx.estimate_text}
    run = RunDirectory.create(out, header, force=force)
    return _execute(run, ctx, payload, chunk, progress, workers, dask_scheduler, dask_local)


def _check_executor(workers, dask_scheduler, dask_local, chunk) -> None:
    if not isinstance(workers, int) or workers < 1:
        raise ScenarioError(f"workers={workers!r}: give at least 1")
    if dask_local is not None and dask_local < 1:
        raise ScenarioError(f"dask_local={dask_local!r}: give at least 1 worker")
    if dask_scheduler and dask_local:
        raise ScenarioError("give dask_scheduler or dask_local, not both")
    if not isinstance(chunk, int) or chunk < 1:
        raise ScenarioError(f"chunk_steps={chunk!r}: give at least 1")
    if dask_scheduler or dask_local:
        try:
            import dask.distributed  # noqa: F401
        except ImportError:
            raise ScenarioError(
                "Dask runs need dask.distributed: pip install 'leonet[dask]' (or pip install 'dask[distributed]')"
            ) from None


def _context(loaded, lenient, chunk, workers, dask_local, ignore_memory_guard):
    """This process's run context (checked against the memory guard) and the payload workers receive."""
    ctx = RunContext(loaded, lenient=lenient)
    processes = dask_local or (workers if workers > 1 else 1)
    estimate = estimate_resources(
        len(ctx.constellation), 0 if ctx.service is None else len(ctx.service.terminals), len(ctx.grid), chunk, processes
    )
    check_resources(estimate, chunk_steps=chunk, override=ignore_memory_guard)
    ctx.estimate_text = estimate.text()
    payload = ScenarioPayload.of(loaded, lenient)
    # The context built here serves this process's chunks too.
    from . import context as _context_module

    _context_module._CONTEXTS.clear()
    _context_module._CONTEXTS[payload.key] = ctx
    return ctx, payload


def _execute(run: RunDirectory, ctx: RunContext, payload, chunk, progress, workers, dask_scheduler, dask_local) -> RunResult:
    """Compute and write every chunk the run directory lacks, then finish it; the lock is released at the end."""
    t0 = time.perf_counter()
    spec = ctx.loaded.spec
    try:
        for name, table in ctx.static_tables().items():
            if not run.has_table(name):
                run.write_table(name, table)
        done = {int(c["index"]) for c in run.manifest["chunks"]}
        todo = [r for r in chunk_ranges(len(ctx.grid), chunk) if r[0] not in done]
        total_steps = len(ctx.grid)
        done_steps = total_steps - sum(stop - start for _, start, stop in todo)
        failed = int(run.manifest.get("satellites_failed_propagation", 0))
        if progress is not None:
            progress(done_steps, total_steps)

        def record(index, start, stop, tables, meta):
            nonlocal failed, done_steps
            run.write_chunk(index, (start, stop), tables)
            failed = max(failed, meta["satellites_failed_propagation"])
            done_steps += stop - start
            if progress is not None:
                progress(done_steps, total_steps)
            check_interrupt()  # a stop that Python dropped since the last chunk (e.g. inside a __del__)

        executor = _executor(workers, dask_scheduler, dask_local) if todo else None
        if executor is None:
            for index, start, stop in todo:
                record(index, start, stop, *ctx.chunk(start, stop))
        else:
            submit, as_completed, close = executor
            try:
                futures = {submit(compute_chunk, payload, start, stop): (index, start, stop) for index, start, stop in todo}
                for fut in as_completed(list(futures)):
                    record(*futures[fut], *fut.result())
            finally:
                close()
        if ctx.model is not None and spec.probes and not run.has_table("pings"):
            from ..results.store import listed_files
            from .probes import ping_table

            files = listed_files(run.path, run.manifest)["terminal_steps"]
            run.write_table("pings", ping_table(ctx.model, ctx.loaded, files, ctx.grid))
        if ctx.model is not None and not run.has_table("service_events"):
            from ..results.store import listed_files
            from .events import service_events_table

            files = listed_files(run.path, run.manifest)
            sites = ctx.service.terminals
            run.write_table("service_events", service_events_table(
                files["terminal_steps"], files.get("terminal_positions"), sites.lat_deg, sites.lon_deg))
        run.manifest["satellites_failed_propagation"] = failed
        summary = {"satellites": len(ctx.constellation), "steps": total_steps, "satellites_failed_propagation": failed}
        if ctx.model is not None:
            summary.update(summarize_run(run.path, step_s=spec.time.step_s))
            if ctx.model.assignment_snapshot is not None:
                # Which month of Starlink's country -> PoP assignment homed the terminals ("auto" picks by date).
                summary["pop_assignment_snapshot"] = ctx.model.assignment_snapshot
            notes = ctx.model.pop_notes + ctx.service.notes()
            if notes:
                summary["notes"] = notes
        summary["wall_s"] = round(time.perf_counter() - t0, 3)
        check_interrupt()
        run.finish(summary)
        return RunResult(run.path, summary)
    except KeyboardInterrupt:
        run.stop("interrupted")
        raise RunInterrupted(run.path) from None
    except BaseException as exc:
        run.stop("failed", f"{type(exc).__name__}: {exc}")
        raise
    finally:
        run.close()


def resume_run(
    run_dir: Path | str,
    *,
    progress: Callable[[int, int], None] | None = None,
    workers: int = 1,
    dask_scheduler: str | None = None,
    dask_local: int | None = None,
    ignore_memory_guard: bool = False,
) -> RunResult:
    """Continue an interrupted run from its manifest: only missing chunks are computed.

    The scenario comes from the manifest (as resolved when the run started),
    so the resumed run is the run that was started.  Chunks whose files are
    missing or do not match their recorded checksum are computed again.

    Raises
    ------
    RunDirectoryError
        Not a run; another process is writing it; it was started by another
        leonet version; or an input file it read has changed since (resuming
        would mix results computed from two versions of the inputs).
    """
    from ..scenario.schema import Scenario

    run = RunDirectory.resume(run_dir)
    try:
        manifest = run.manifest
        version = manifest.get("leonet_version")
        if version != __version__:
            raise RunDirectoryError(
                f"{run_dir}: the run was started by leonet {version}, this is leonet {__version__}; results of two "
                "versions would be mixed: re-run the scenario (force=True) with this version"
            )
        try:
            spec = Scenario.model_validate(manifest["scenario"])
            base = Path(manifest.get("scenario_base_dir", "."))
            chunk = int(manifest["time_grid"]["chunk_steps"])
        except (KeyError, ValueError, TypeError) as exc:
            raise RunDirectoryError(f"{run_dir}: the manifest cannot be resumed ({str(exc)[:300]}); start the run again") from None
        loaded = LoadedScenario(spec, manifest.get("scenario_source", "<manifest>"), base)
        _check_inputs(run_dir, manifest.get("inputs"), loaded)
        _check_executor(workers, dask_scheduler, dask_local, chunk)
        ctx, payload = _context(loaded, bool(manifest.get("lenient", False)), chunk, workers, dask_local, ignore_memory_guard)
        if len(ctx.grid) != manifest.get("time_grid", {}).get("steps"):
            raise RunDirectoryError(f"{run_dir}: the manifest's time grid does not match its scenario; start the run again")
        run.set_status("running")
    except BaseException:
        run.close()
        raise
    return _execute(run, ctx, payload, chunk, progress, workers, dask_scheduler, dask_local)


def _check_inputs(run_dir, recorded, loaded: LoadedScenario) -> None:
    """Refuse to resume when an input file differs from the one the run started with."""
    if not isinstance(recorded, dict):
        raise RunDirectoryError(
            f"{run_dir}: the manifest does not record the run's input files, so resuming could mix inputs; "
            "re-run the scenario (force=True)"
        )
    try:
        now = _input_files(loaded)
    except ScenarioError as exc:
        raise RunDirectoryError(f"{run_dir}: cannot resume: {exc}") from None
    for path in sorted(set(recorded) | set(now)):
        before, after = recorded.get(path), now.get(path)
        if before != after:
            what = "is gone" if after is None else "was not read when the run started" if before is None else "has changed"
            raise RunDirectoryError(
                f"{run_dir}: cannot resume: the input file {path} {what} since the run started (sha256 "
                f"{str(before)[:12]}... then, {str(after)[:12]}... now); resuming would mix results computed from "
                "two versions of the inputs. Restore the file, or re-run the scenario (force=True)"
            )
