"""Everything a process needs to compute any chunk of a run.

A `RunContext` is built from the validated scenario alone (no state from
other chunks), so a chunk computed in this process, in a worker process or on
a Dask worker on another machine gives the same tables, bit for bit.  Workers
build their context once and keep it (`context_for`).
"""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from ..constants import NS_PER_S
from ..errors import ScenarioError
from ..orbits.frames import ecef_to_geodetic
from ..orbits.propagate import propagate
from .build import build_ground
from ..scenario.load import LoadedScenario
from .build import build_constellation, build_time_grid
from ..scenario.schema import Scenario
from ..results.schemas import POSITIONS_EVERY_S, SAT_POSITIONS_SCHEMA
from .network import NetworkModel
from .service import ServiceLayer

__all__ = ["RunContext", "ScenarioPayload", "context_for"]



@dataclass(frozen=True)
class ScenarioPayload:
    """A picklable, hashable description of a run's scenario (what workers receive)."""

    scenario_json: str
    source: str
    base_dir: str
    lenient: bool

    @classmethod
    def of(cls, loaded: LoadedScenario, lenient: bool) -> "ScenarioPayload":
        return cls(loaded.spec.model_dump_json(by_alias=True), loaded.source, str(loaded.base_dir), lenient)

    def loaded(self) -> LoadedScenario:
        spec = Scenario.model_validate(json.loads(self.scenario_json))
        return LoadedScenario(spec, self.source, Path(self.base_dir))

    @property
    def key(self) -> str:
        return hashlib.sha256(repr(self).encode()).hexdigest()


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


def latency_params(loaded: LoadedScenario):
    """The latency model's constants with the scenario's ``[latency]`` overrides (checked), or None when disabled."""
    spec = loaded.spec.latency
    if not spec.enabled:
        return None
    from ..latency.params import era_of, params_for_era

    era = era_of(loaded.spec.time.start_utc) if spec.era == "auto" else spec.era
    try:
        return params_for_era(era, **spec.overrides())
    except ScenarioError as exc:
        raise ScenarioError(f"{loaded.source}: {exc}", source=loaded.source) from None


class RunContext:
    """The built parts of a run: grid, constellation, ground, service layer, network model."""

    def __init__(self, loaded: LoadedScenario, *, lenient: bool = False, warn: bool = True):
        spec = loaded.spec
        self.loaded = loaded
        self.estimate_text = ""  # the memory/time estimate, set by the run that owns this context
        self.grid = build_time_grid(loaded)
        with warnings.catch_warnings():
            if not warn:
                warnings.simplefilter("ignore")
            self.constellation = build_constellation(loaded, lenient=lenient)
        self.node_ns = int(round(spec.propagation.sgp4_node_s * 1e9)) or None
        self.ground = build_ground(loaded)
        self.service = None
        self.model = None
        if self.ground is not None:
            c = self.constellation
            sat_source = [c.shells[i].constellation for i in c.shell_index]
            self.service = ServiceLayer(loaded, self.ground.terminals, self.ground.gateways, len(c), sat_source,
                                        constellation=c)
            self.model = NetworkModel(
                c,
                self.service.terminals,
                self.ground.gateways,
                self.ground.pops,
                spec.network,
                spec.ground.pops,
                step_ns=spec.time.step_ns,
                ut1_minus_utc_s=spec.time.ut1_minus_utc_s,
                node_spacing_ns=self.node_ns,
                service=self.service,
                epoch_utc=self.grid.epoch_utc,
                latency=latency_params(loaded),
                seed=spec.scenario.seed,
            )
            from .probes import probe_terminals

            probe_terminals(loaded, self.model.terminal_ids)  # a probe on an unknown terminal is refused now

    # ------------------------------------------------------------------
    def static_tables(self) -> dict[str, pa.Table]:
        """Tables that do not depend on time: satellites, sites, cost ledger."""
        c = self.constellation
        tables = {
            "satellites": pa.table(
                {
                    "sat": pa.array(np.arange(len(c), dtype=np.int32)),
                    "name": pa.array(c.names, pa.string()),
                    "catalog_number": pa.array(c.catalog_numbers, pa.int64()),
                    "shell": pa.array([c.shells[i].name for i in c.shell_index], pa.string()),
                    "plane": pa.array(c.plane_index, pa.int32()),
                    "slot": pa.array(c.slot_index, pa.int32()),
                }
            )
        }
        if self.service is not None:
            fleets = self.service.fleets
            names = [] if fleets is None else list(fleets.names)
            tables["terminals"] = _sites_table(self.service.terminals).append_column(
                "fleet", pa.array([names[f] if f >= 0 else "" for f in self.service.fleet_of_terminal], pa.string())
            ).append_column("distance_km", pa.array(self._distance_km(), pa.float64()))
            tables["gateways"] = _sites_table(self.ground.gateways)
            tables["pops"] = _sites_table(self.ground.pops)
            billed = [f for f in self.loaded.spec.fleets if f.billed]
            if billed:  # a ledger only when something is priced
                from ..service.costs import cost_ledger

                ledger = self.loaded.spec.ledger
                tables["cost_ledger"] = cost_ledger(
                    billed, ledger.start, ledger.end, terminal_counts=fleets.terminal_counts()
                ).table
        return tables

    def _distance_km(self) -> np.ndarray:
        """float64[G]: ground distance each terminal travels in the run window, km (0 for fixed terminals)."""
        out = np.zeros(len(self.service.terminals), dtype=np.float64)
        motion = self.service.motion
        if motion is not None:
            out[motion.terminals] = motion.distance_km(*self.service.window)
        return out

    def chunk(self, start: int, stop: int) -> tuple[dict[str, pa.Table], dict]:
        """Tables of steps ``start:stop`` and a little metadata."""
        spec = self.loaded.spec
        sub = self.grid.slice(start, stop)
        prop = propagate(
            self.constellation.satrec_array, sub, ut1_minus_utc_s=spec.time.ut1_minus_utc_s, node_spacing_ns=self.node_ns
        )
        keep = np.flatnonzero(sub.offset_ns % (POSITIONS_EVERY_S * NS_PER_S) == 0)
        tables = {"sat_positions": _satellite_table(sub, prop.r_ecef_km, keep)}
        if self.model is not None:
            tables.update(self.model.process_chunk(sub, prop.r_ecef_km))
        meta = {"satellites_failed_propagation": int((prop.error != 0).any(axis=0).sum())}
        return tables, meta


def _satellite_table(grid, r_ecef_km, keep: np.ndarray) -> pa.Table:
    """Positions of every satellite at the steps ``keep`` (indices into the chunk)."""
    r = r_ecef_km[keep]
    lat, lon, alt = ecef_to_geodetic(r)
    t, s = r.shape[:2]
    columns = {
        "t_ns": np.repeat(grid.offset_ns[keep], s),
        "sat": np.tile(np.arange(s, dtype=np.int32), t),
        "lat_deg": lat.ravel(),
        "lon_deg": lon.ravel(),
        "altitude_km": alt.ravel(),
        "x_km": r[..., 0].ravel(),
        "y_km": r[..., 1].ravel(),
        "z_km": r[..., 2].ravel(),
    }
    return pa.Table.from_arrays([pa.array(columns[f.name], f.type) for f in SAT_POSITIONS_SCHEMA], schema=SAT_POSITIONS_SCHEMA)


_CONTEXTS: dict[str, RunContext] = {}


def context_for(payload: ScenarioPayload) -> RunContext:
    """This process's context for ``payload``, built on first use and kept."""
    ctx = _CONTEXTS.get(payload.key)
    if ctx is None:
        _CONTEXTS.clear()
        ctx = RunContext(payload.loaded(), lenient=payload.lenient, warn=False)
        _CONTEXTS[payload.key] = ctx
    return ctx


def compute_chunk(payload: ScenarioPayload, start: int, stop: int):
    """Worker entry point: the tables of steps ``start:stop`` (picklable result)."""
    return context_for(payload).chunk(start, stop)
