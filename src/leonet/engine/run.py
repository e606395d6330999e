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

from .. import __version__
from ..errors import ScenarioError
from ..results.store import RunDirectory
from ..results.summary import summarize_run
from ..scenario.load import LoadedScenario
from .context import RunContext, ScenarioPayload, compute_chunk
from .guard import check_resources, estimate_resources

__all__ = ["RunResult", "run_scenario", "resume_run", "default_output_dir", "chunk_ranges"]


@dataclass
class RunResult:
    path: Path
    summary: dict = field(default_factory=dict)


def default_output_dir(loaded: LoadedScenario) -> Path:
    name = safe_name(loaded.spec.scenario.name)
    return Path(loaded.spec.output.directory.replace("{name}", name))


def safe_name(text: str) -> str:
    """A file-name-safe form of a user string: letters, digits, '-', '_', '.'; never empty or a dot-name."""
    import re

    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "run"
    return cleaned[:100]


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
                    f"--scheduler {dask_scheduler}: cannot reach a Dask scheduler there ({exc}); start one with "
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


def _manifest_header(loaded: LoadedScenario, ctx: RunContext, chunk_steps: int) -> dict:
    spec = loaded.spec
    return {
        "leonet_version": __version__,
        "scenario_source": loaded.source,
        "scenario_base_dir": str(loaded.base_dir),
        "scenario": spec.model_dump(mode="json", by_alias=True),
        "seed": spec.scenario.seed,
        "time_grid": {
            "epoch_utc": ctx.grid.epoch_utc.isoformat(),
            "steps": len(ctx.grid),
            "step_ns": spec.time.step_ns,
            "chunk_steps": chunk_steps,
        },
        "satellites": len(ctx.constellation),
    }


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
    _resume: dict | None = None,
) -> RunResult:
    """Run a validated scenario and write its output directory.

    Parameters
    ----------
    loaded : LoadedScenario
    out_dir : path, optional
        Default: the scenario's ``output.directory``.
    force : bool
        Write into a non-empty directory that is not a leonet run.
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
    """
    spec = loaded.spec
    t0 = time.perf_counter()
    out = Path(out_dir) if out_dir is not None else default_output_dir(loaded)
    chunk = chunk_steps or spec.output.chunk_steps
    if workers < 1:
        raise ScenarioError(f"--workers {workers}: give at least 1")
    if dask_local is not None and dask_local < 1:
        raise ScenarioError(f"--dask-local {dask_local}: give at least 1 worker")
    ctx = RunContext(loaded, lenient=lenient)
    processes = dask_local or (workers if workers > 1 else 1)
    estimate = estimate_resources(
        len(ctx.constellation), 0 if ctx.service is None else len(ctx.service.terminals), len(ctx.grid), chunk, processes
    )
    check_resources(estimate, chunk_steps=chunk, override=ignore_memory_guard)
    payload = ScenarioPayload.of(loaded, lenient)
    # The context built here serves this process's chunks too.
    from . import context as _context_module

    _context_module._CONTEXTS.clear()
    _context_module._CONTEXTS[payload.key] = ctx

    run = RunDirectory(out, force=force or _resume is not None)
    done: set[int] = set()
    if _resume is None:
        run.start({**_manifest_header(loaded, ctx, chunk), "estimate": estimate.text()})
    else:
        run.manifest = _resume
        done = run.verified_chunks()
        run.mark_running()
    for name, table in ctx.static_tables().items():
        run.write_table(name, table)

    ranges = chunk_ranges(len(ctx.grid), chunk)
    todo = [r for r in ranges if r[0] not in done]
    total_steps = len(ctx.grid)
    done_steps = total_steps - sum(stop - start for _, start, stop in todo)
    failed = int(run.manifest.get("satellites_failed_propagation", 0))
    if progress is not None:
        progress(done_steps, total_steps)
    executor = _executor(workers, dask_scheduler, dask_local) if todo else None
    if executor is None:
        for index, start, stop in todo:
            tables, meta = ctx.chunk(start, stop)
            run.write_chunk(index, (start, stop), tables)
            failed = max(failed, meta["satellites_failed_propagation"])
            done_steps += stop - start
            if progress is not None:
                progress(done_steps, total_steps)
    else:
        submit, as_completed, close = executor
        try:
            futures = {submit(compute_chunk, payload, start, stop): (index, start, stop) for index, start, stop in todo}
            for fut in as_completed(list(futures)):
                index, start, stop = futures[fut]
                tables, meta = fut.result()
                run.write_chunk(index, (start, stop), tables)
                failed = max(failed, meta["satellites_failed_propagation"])
                done_steps += stop - start
                if progress is not None:
                    progress(done_steps, total_steps)
        finally:
            close()
    run.manifest["satellites_failed_propagation"] = failed
    summary = {"satellites": len(ctx.constellation), "steps": total_steps, "satellites_failed_propagation": failed}
    if ctx.model is not None:
        summary.update(summarize_run(run.path, step_s=spec.time.step_s))
        notes = ctx.service.notes()
        if notes:
            summary["notes"] = notes
    summary["wall_s"] = round(time.perf_counter() - t0, 3)
    run.finish(summary)
    return RunResult(out, summary)


def resume_run(
    run_dir: Path | str,
    *,
    progress: Callable[[int, int], None] | None = None,
    workers: int = 1,
    dask_scheduler: str | None = None,
    dask_local: int | None = None,
) -> RunResult:
    """Continue an interrupted run from its manifest: only missing chunks are computed.

    The scenario comes from the manifest (as resolved when the run started),
    so the resumed run is the run that was started.  Chunks whose files are
    missing or do not match their recorded checksum are computed again.
    """
    from ..results.query import read_manifest
    from ..scenario.schema import Scenario

    manifest = read_manifest(run_dir)
    try:
        spec = Scenario.model_validate(manifest["scenario"])
        base = Path(manifest.get("scenario_base_dir", "."))
        chunk = int(manifest["time_grid"]["chunk_steps"])
    except (KeyError, ValueError, TypeError) as exc:
        raise ScenarioError(f"{run_dir}: the manifest cannot be resumed ({exc}); start the run again") from None
    loaded = LoadedScenario(spec, manifest.get("scenario_source", "<manifest>"), base)
    return run_scenario(
        loaded,
        run_dir,
        progress=progress,
        workers=workers,
        dask_scheduler=dask_scheduler,
        dask_local=dask_local,
        chunk_steps=chunk,
        _resume=manifest,
    )
