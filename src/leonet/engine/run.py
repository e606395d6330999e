"""Run a scenario: chunks of time steps through the data flow, into a run directory.

A chunk is ``output.chunk_steps`` consecutive steps.  Each chunk is
propagated, processed and written on its own, so one process's memory is
bounded by the chunk size, not the run length.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa

from .. import __version__
from ..constants import NS_PER_S
from ..orbits.frames import ecef_to_geodetic
from ..scenario.ground import build_ground
from .network import NetworkModel
from .service import ServiceLayer
from ..orbits.propagate import propagate
from ..results.store import RunDirectory
from ..scenario.load import LoadedScenario, build_constellation, build_time_grid
from ..results.summary import summarize_run

__all__ = ["RunResult", "run_scenario", "default_output_dir"]

#: Satellite positions are kept for maps at this interval (s), not every step.
POSITIONS_EVERY_S = 60


@dataclass
class RunResult:
    path: Path
    summary: dict = field(default_factory=dict)


def default_output_dir(loaded: LoadedScenario) -> Path:
    name = loaded.spec.scenario.name
    return Path(loaded.spec.output.directory.replace("{name}", name))


def _satellite_table(constellation, grid, r_ecef_km, keep: np.ndarray) -> pa.Table:
    """Positions of every satellite at the steps ``keep`` (indices into the chunk)."""
    r = r_ecef_km[keep]
    lat, lon, alt = ecef_to_geodetic(r)
    t, s = r.shape[:2]
    return pa.table(
        {
            "t_ns": pa.array(np.repeat(grid.offset_ns[keep], s), pa.int64()),
            "sat": pa.array(np.tile(np.arange(s, dtype=np.int32), t), pa.int32()),
            "lat_deg": pa.array(lat.ravel(), pa.float64()),
            "lon_deg": pa.array(lon.ravel(), pa.float64()),
            "altitude_km": pa.array(alt.ravel(), pa.float64()),
            "x_km": pa.array(r[..., 0].ravel(), pa.float64()),
            "y_km": pa.array(r[..., 1].ravel(), pa.float64()),
            "z_km": pa.array(r[..., 2].ravel(), pa.float64()),
        }
    )


def _sites_table(sites) -> pa.Table:
    """A ground-site table: index, id, name, position, country, region."""
    return pa.table(
        {
            "index": pa.array(np.arange(len(sites), dtype=np.int32)),
            "id": pa.array(list(sites.ids), pa.string()),
            "name": pa.array(list(sites.names), pa.string()),
            "lat_deg": pa.array(np.asarray(sites.lat_deg, dtype=np.float64)),
            "lon_deg": pa.array(np.asarray(sites.lon_deg, dtype=np.float64)),
            "country_iso2": pa.array(list(sites.country_iso2), pa.string()),
            "region": pa.array(list(sites.region), pa.string()),
            "antenna_count": pa.array(np.asarray(sites.antenna_count, dtype=np.int64)),
        }
    )


def run_scenario(
    loaded: LoadedScenario,
    out_dir: Path | str | None = None,
    *,
    force: bool = False,
    lenient: bool = False,
    progress: Callable[[int, int], None] | None = None,
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

    Returns
    -------
    RunResult
    """
    spec = loaded.spec
    t0 = time.perf_counter()
    out = Path(out_dir) if out_dir is not None else default_output_dir(loaded)
    grid = build_time_grid(loaded)
    constellation = build_constellation(loaded, lenient=lenient)
    run = RunDirectory(out, force=force)
    run.start(
        {
            "leonet_version": __version__,
            "scenario_source": loaded.source,
            "scenario": spec.model_dump(mode="json"),
            "seed": spec.scenario.seed,
            "time_grid": {
                "epoch_utc": grid.epoch_utc.isoformat(),
                "steps": len(grid),
                "step_ns": spec.time.step_ns,
            },
            "satellites": len(constellation),
        }
    )
    run.write_table(
        "satellites",
        pa.table(
            {
                "sat": pa.array(np.arange(len(constellation), dtype=np.int32)),
                "name": pa.array(constellation.names, pa.string()),
                "catalog_number": pa.array(constellation.catalog_numbers, pa.int64()),
                "shell": pa.array([constellation.shells[i].name for i in constellation.shell_index], pa.string()),
                "plane": pa.array(constellation.plane_index, pa.int32()),
                "slot": pa.array(constellation.slot_index, pa.int32()),
            }
        ),
    )
    ground = build_ground(loaded)
    model = None
    service = None
    node_ns = int(round(spec.propagation.sgp4_node_s * 1e9)) or None
    if ground is not None:
        sat_source = [constellation.shells[i].constellation for i in constellation.shell_index]
        service = ServiceLayer(loaded, ground.terminals, ground.gateways, len(constellation), sat_source)
        terminals = service.terminals
        fleet_names = [] if service.fleets is None else list(service.fleets.names)
        table = _sites_table(terminals).append_column(
            "fleet",
            pa.array([fleet_names[f] if f >= 0 else "" for f in service.fleet_of_terminal], pa.string()),
        )
        run.write_table("terminals", table)
        for name, sites in (("gateways", ground.gateways), ("pops", ground.pops)):
            run.write_table(name, _sites_table(sites))
        if service.fleets is not None:
            from ..service.costs import cost_ledger

            ledger = cost_ledger(list(spec.fleets), spec.ledger.start, spec.ledger.end,
                                 terminal_counts=service.fleets.terminal_counts())
            run.write_table("cost_ledger", ledger.table)
        model = NetworkModel(
            constellation,
            terminals,
            ground.gateways,
            ground.pops,
            spec.network,
            spec.ground.pops,
            step_ns=spec.time.step_ns,
            ut1_minus_utc_s=spec.time.ut1_minus_utc_s,
            node_spacing_ns=node_ns,
            service=service,
        )
    chunk = spec.output.chunk_steps
    every_ns = POSITIONS_EVERY_S * NS_PER_S
    failed = 0
    for index, start in enumerate(range(0, len(grid), chunk)):
        sub = grid.slice(start, min(start + chunk, len(grid)))
        prop = propagate(
            constellation.satrec_array,
            sub,
            ut1_minus_utc_s=spec.time.ut1_minus_utc_s,
            node_spacing_ns=node_ns,
        )
        failed = max(failed, int((prop.error != 0).any(axis=0).sum()))
        keep = np.flatnonzero(sub.offset_ns % every_ns == 0)
        tables = {"sat_positions": _satellite_table(constellation, sub, prop.r_ecef_km, keep)}
        if model is not None:
            tables.update(model.process_chunk(sub, prop.r_ecef_km))
        run.write_chunk(index, (start, start + len(sub)), tables)
        if progress is not None:
            progress(start + len(sub), len(grid))
    summary = {
        "satellites": len(constellation),
        "steps": len(grid),
        "satellites_failed_propagation": failed,
    }
    if model is not None:
        summary.update(summarize_run(run.path, step_s=spec.time.step_s))
        notes = service.notes()
        if notes:
            summary["notes"] = notes
    summary["wall_s"] = round(time.perf_counter() - t0, 3)
    run.finish(summary)
    return RunResult(out, summary)
