"""The step pipeline: every step of a chunk passes through the same stages, in order.

The representation
------------------
A `StepState` is one step's record: the satellites' positions go in, and each
stage reads what the stages before it wrote and adds its own part:

=============  ==============================================================  ===========================
stage          adds to the StepState                                           built on
=============  ==============================================================  ===========================
``position``   where every terminal is now (moving ones where their track      ground/motion.py
               puts them; `leonet.links.visibility.SiteGeometry.moved`)
``network``    usable lasers, feeder links, the delay graph, every satellite's  links/, routing/
               route to a PoP (`StepNetwork`; shared with the slot decision)
``schedule``   each terminal's serving satellite for the slot                  scheduling/
``access``     is that satellite above the mask now (from where the terminal   links/, routing/
               is), the uplink range, the route parts (to the terminal's home
               PoP of the step); reasons no-satellite / no-gateway-path /
               capacity
``service``    reasons from faults, policies (where each terminal is),          service/
               inactive fleets and tracks, no-position
``capacity``   demand and max-min fair throughput; reason capacity below the    capacity/
               minimum rate; cell and gateway load rows; what a speed test
               (a greedy flow) from each terminal would get, down and up
=============  ==============================================================  ===========================

`STAGES` lists them; `run_chunk` runs them for every step of a chunk and
hands each finished step to a `ChunkRecorder`, which builds the chunk's
tables (`leonet.results.schemas`, where internal units become table units).
A new capability is a new stage function (or a changed one) in `STAGES`, with
the same signature ``stage(model, chunk, step) -> None``.

Everything a stage computes depends on the step's time (and the run's seed),
never on how the run is chunked: a chunk can be computed anywhere, in any
order, with the same result bit for bit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from ..constants import C_KM_S
from ..links.visibility import pair_sin_elevation
from ..results.schemas import (
    CELL_LOAD_SCHEMA,
    GATEWAY_LOAD_SCHEMA,
    HANDOVERS_SCHEMA,
    LINK_DROPS_SCHEMA,
    rows_table,
    terminal_positions_table,
    terminal_steps_table,
)
from ..routing.shortest import terminal_routes
from ..scheduling.assign import Reason

if TYPE_CHECKING:  # pragma: no cover
    from ..ground.motion import MotionState
    from ..links.visibility import SiteGeometry
    from ..routing.shortest import RouteParts
    from .network import NetworkModel, StepNetwork

__all__ = ["ChunkInputs", "StepState", "STAGES", "CHUNK_STAGES", "run_chunk", "ChunkRecorder"]


@dataclass
class ChunkInputs:
    """What every step of a chunk shares: its times and the service layer's per-step tables.

    Attributes
    ----------
    epoch_utc : datetime
        The run's epoch (slot keys and fault draws count from it).
    offsets_ns : int64[T]
        The steps' offsets from the epoch.
    slot_keys : int64[T]
        Each step's scheduler slot (`leonet.scheduling.slots.SlotClock.key`).
    handover : bool[T]
        Whether the step starts a new assignment (a slot change since the previous step).
    previous_keys : int64[T]
        The previous step's slot (meaningful where ``handover``).
    blocked : int8[T, G] or None
        Reason code blocking each terminal before the network is asked (0 = not blocked).
    demand_bps : float64[T, G] or None
        Each terminal's demand, bit/s (when capacity is modelled).
    satellite_failed : bool[T, S] or None
    gateway_down_any : bool[T] or None
        Whether any gateway is down at the step.
    link_share : float64[T, G] or None
        Share of each terminal's link capacity left by capacity-loss faults
        (when capacity is modelled and there are faults).
    motion : MotionState or None
        The moving terminals at the chunk's steps (`leonet.ground.motion.Motion.at`).
    """

    epoch_utc: dt.datetime
    offsets_ns: NDArray[np.int64]
    slot_keys: NDArray[np.int64]
    handover: NDArray[np.bool_]
    previous_keys: NDArray[np.int64]
    blocked: NDArray[np.int8] | None = None
    demand_bps: NDArray[np.float64] | None = None
    satellite_failed: NDArray[np.bool_] | None = None
    gateway_down_any: NDArray[np.bool_] | None = None
    link_share: NDArray[np.float64] | None = None
    motion: MotionState | None = None

    @classmethod
    def of(cls, model: NetworkModel, epoch_utc: dt.datetime, offsets_ns: NDArray[np.int64]) -> ChunkInputs:
        """The shared inputs of the steps ``offsets_ns`` of a run with network model ``model``."""
        offsets = np.asarray(offsets_ns, dtype=np.int64)
        handover, previous = model.clock.previous_key(offsets)
        out = cls(epoch_utc, offsets, model.clock.key(offsets), handover, previous)
        service, faults = model.service, model.faults
        if model.motion is not None:
            # Positions of the moving terminals at every step of the chunk, once; the per-step
            # home PoPs and service cells of the chunk in one pass each.
            out.motion = model.motion.at(offsets)
            model.prepare_chunk(out.motion)
            service.prepare_chunk(out.motion)
        if service is not None:
            out.blocked = service.blocked(offsets, out.motion)
            if service.capacity is not None:
                out.demand_bps = service.demand_bps(offsets)
        if faults is not None:
            out.satellite_failed = faults.satellite_failed(offsets)
            out.gateway_down_any = faults.gateway_down(offsets).any(axis=1)
            if out.demand_bps is not None:
                out.link_share = faults.capacity_share(offsets)
        return out


@dataclass
class StepState:
    """One step's record, filled in stage by stage (see the module docstring).

    Shapes: ``G`` terminals, ``S`` satellites.  Times in s, rates in bit/s,
    ranges in km.  Per-terminal arrays are filled by the stage named.
    """

    index: int  #: the step's index in its chunk
    t_ns: int  #: offset from the run's epoch, ns
    r_sat_ecef_km: NDArray[np.float64]  #: float64[S, 3], km, ECEF
    sites: SiteGeometry | None = None  #: every terminal where it is at the step: ``position``
    network: StepNetwork | None = None  #: ``network``
    sat: NDArray[np.int32] | None = None  #: int32[G], serving satellite (-1 none): ``schedule``
    sat_index: NDArray[np.int64] | None = None  #: int64[G], ``sat`` with -1 -> 0, for gathers: ``access``
    up: NDArray[np.bool_] | None = None  #: bool[G], serving satellite above the mask now: ``access``
    uplink_km: NDArray[np.float64] | None = None  #: float64[G], terminal -> satellite range: ``access``
    path: NDArray[np.bool_] | None = None  #: bool[G], up and routed to a PoP: ``access``
    parts: RouteParts | None = None  #: the serving satellites' route parts (to each terminal's PoP): ``access``
    pop: NDArray[np.int32] | None = None  #: int32[G], the PoP each terminal's route reaches (-1 none): ``access``
    reason: NDArray[np.int8] | None = None  #: int8[G], `Reason` codes: ``access``, ``service``, ``capacity``
    demand_bps: NDArray[np.float64] | None = None  #: float64[G] (NaN: not modelled or inactive): ``capacity``
    throughput_bps: NDArray[np.float64] | None = None  #: float64[G]: ``capacity``
    utilisation: NDArray[np.float64] | None = None  #: float64[G], offered load of each terminal's cell: ``capacity``
    speedtest_down_bps: NDArray[np.float64] | None = None  #: float64[G], greedy downlink rate: ``capacity``
    speedtest_up_bps: NDArray[np.float64] | None = None  #: float64[G], greedy uplink rate: ``capacity``
    load_rows: dict = field(default_factory=dict)  #: table name -> rows of this step: ``capacity``


Stage = Callable[["NetworkModel", ChunkInputs, StepState], None]


def position_stage(model: NetworkModel, chunk: ChunkInputs, step: StepState) -> None:
    """Where every terminal is at the step: fixed ones at their site, moving ones where their track puts them."""
    if chunk.motion is None:
        step.sites = model.terminal_sites
    else:
        r, enu = chunk.motion.overlay(step.index, model.terminal_sites.r_ecef_km, model.terminal_sites.enu)
        step.sites = model.terminal_sites.moved(r, enu)


def network_stage(model: NetworkModel, chunk: ChunkInputs, step: StepState) -> None:
    """Lasers, feeder links, the delay graph and every satellite's route to a PoP."""
    step.network = model.state_at(step.t_ns, step.r_sat_ecef_km)


def schedule_stage(model: NetworkModel, chunk: ChunkInputs, step: StepState) -> None:
    """Each terminal's serving satellite: the decision of the step's slot."""
    step.sat = model.scheduler.assignment(chunk.epoch_utc, int(chunk.slot_keys[step.index]))


def access_stage(model: NetworkModel, chunk: ChunkInputs, step: StepState) -> None:
    """Is the serving satellite above the mask now, and does it reach a PoP; the route's parts."""
    sat = step.sat
    has = sat >= 0
    s_idx = np.where(has, sat, 0).astype(np.int64)
    terminals = model.terminal_index
    # From where each terminal is now (`position_stage`: moving terminals moved).
    rng, sin_el = pair_sin_elevation(step.sites, terminals, step.r_sat_ecef_km[s_idx])
    sin_need = np.maximum(step.sites.sin_mask, model.sin_mask_sat[s_idx])
    # The slot's decision checked the mask at its samples; a dip between them is caught here.
    up = has & (sin_el >= sin_need)
    homes = step.network.routes_by_home
    reachable, step.pop, step.parts = terminal_routes(homes, getattr(homes, "groups", model.home_groups), s_idx)
    path = up & reachable
    reason = np.where(~up, Reason.NO_SATELLITE, np.where(path, Reason.SERVED, Reason.NO_GATEWAY_PATH))
    if model.service is not None and model.service.capacity is not None:
        # Satellites in view, but their beams went to other cells.
        reason = np.where(model.scheduler.no_beam(chunk.epoch_utc, int(chunk.slot_keys[step.index])), Reason.CAPACITY, reason)
    step.sat_index, step.up, step.uplink_km, step.path = s_idx, up, rng, path
    step.reason = reason.astype(np.int8)


def service_stage(model: NetworkModel, chunk: ChunkInputs, step: StepState) -> None:
    """Faults (the serving satellite failed; a gateway outage left no route), then policy and activity."""
    reason = step.reason
    i = step.index
    if chunk.satellite_failed is not None:
        has = step.sat >= 0
        reason = np.where(has & chunk.satellite_failed[i][step.sat_index], Reason.FAULT, reason)
        if chunk.gateway_down_any[i]:
            reason = np.where(reason == Reason.NO_GATEWAY_PATH, Reason.FAULT, reason)
    if chunk.blocked is not None:
        reason = np.where(chunk.blocked[i] > 0, chunk.blocked[i], reason)
    step.reason = reason.astype(np.int8)


def capacity_stage(model: NetworkModel, chunk: ChunkInputs, step: StepState) -> None:
    """Max-min fair sharing among the routed terminals; below the minimum rate a terminal is unserved.

    With a constellation (every run), the background subscribers share the
    capacity too, and each terminal's speed test, down and up, comes from
    the same allocation: the rate its flow would get if it asked for all it
    can while every other terminal keeps its demand and the background
    subscribers theirs, capped by its dish (`leonet.capacity.speedtest`,
    `ServiceLayer.allocate`).  NaN where inactive or without capacity, 0
    where not served.
    """
    g = model.terminal_index.size
    if chunk.demand_bps is None:
        for name in ("demand_bps", "throughput_bps", "utilisation", "speedtest_down_bps", "speedtest_up_bps"):
            setattr(step, name, np.full(g, np.nan))
        return
    demand = chunk.demand_bps[step.index]
    routed = step.reason == Reason.SERVED
    indptr, isl_ids = model.terminal_lasers(step.network.routes_by_home, step.sat_index, routed)
    gateway = np.where(step.path, step.parts.gateway, -1)
    result = model.service.allocate(
        step.t_ns, step.sat, gateway, routed, demand, indptr, isl_ids, model.directed_isls,
        t_unix_ns=model.epoch_unix_ns + step.t_ns, r_ecef_km=step.r_sat_ecef_km, slant_range_km=step.uplink_km,
        link_share=None if chunk.link_share is None else chunk.link_share[step.index],
    )
    step.reason = np.where(result.below_min, Reason.CAPACITY, step.reason).astype(np.int8)
    active = (step.reason != Reason.INACTIVE) & (step.reason != Reason.NO_POSITION)  # both left out of the figures
    served = step.reason == Reason.SERVED
    step.demand_bps = np.where(active, demand, np.nan)
    step.throughput_bps = np.where(active, np.where(routed, result.throughput_bps, 0.0), np.nan)
    step.utilisation = result.utilisation
    step.load_rows = {"cell_load": result.cell_rows, "gateway_load": result.gateway_rows}
    for name in ("speedtest_down_bps", "speedtest_up_bps"):
        value = getattr(result, name)
        setattr(step, name, np.full(g, np.nan) if value is None else np.where(active, np.where(served, value, 0.0), np.nan))


#: The stages every step passes through, in order.
STAGES: tuple[Stage, ...] = (position_stage, network_stage, schedule_stage, access_stage, service_stage, capacity_stage)


def latency_stage(model: NetworkModel, chunk: ChunkInputs, recorder: ChunkRecorder) -> None:
    """What a ping measures, for every terminal-step of the chunk at once (`leonet.latency.model.step_latency`).

    Vectorised over the chunk: the propagation parts of every served
    terminal-step, the step's absolute time, the terminal's longitude and
    its cell's load go in; the modelled RTT, its new parts and the loss
    probability come out.  Draws are keyed by (seed, time, terminal), so the
    chunk's boundaries change nothing.
    """
    cols = recorder.cols
    t, g = cols["reason"].shape
    served = cols["reason"] == Reason.SERVED
    if model.latency is None or t == 0 or g == 0:
        # No model: the RTT is the propagation round trip (parts NaN unless served).
        for name in LATENCY_COLUMNS:
            cols[name] = np.full((t, g), np.nan)
        one_way = cols["uplink_s"] + cols["isl_s"] + cols["feeder_s"] + cols["backhaul_s"]
        cols["rtt_s"] = np.where(served, 2.0 * one_way, np.nan)
        return
    from ..latency.model import step_latency

    def part(name):
        return np.where(served, cols[name], np.nan).ravel()

    lat = step_latency(
        model.latency,
        seed=model.seed,
        t_unix_ns=np.repeat(model.epoch_unix_ns + chunk.offsets_ns, g),
        terminal=np.tile(model.terminal_index, t),
        uplink_s=part("uplink_s"),
        isl_s=part("isl_s"),
        feeder_s=part("feeder_s"),
        backhaul_s=part("backhaul_s"),
        isl_hops=np.where(served, cols["isl_hops"], 0).ravel(),
        lon_deg=_lon_deg(model, chunk),
        slot_ns=model.clock.slot_ns,
        slot_offset_ns=model.slot_offset_ns,
        step_ns=model.step_ns,
        utilisation=cols["utilisation"].ravel(),
    )
    for name in LATENCY_COLUMNS:
        cols[name] = getattr(lat, name).reshape(t, g)


def _lon_deg(model: NetworkModel, chunk: ChunkInputs) -> NDArray[np.float64]:
    """float64[T * G], time-major: each terminal's longitude at each step (moving ones where they are)."""
    lon = np.tile(model.terminal_lon_deg, (chunk.offsets_ns.size, 1))
    if chunk.motion is not None:
        cols = chunk.motion.terminals
        lon[:, cols] = np.where(np.isfinite(chunk.motion.lon_deg), chunk.motion.lon_deg, lon[:, cols])
    return lon.ravel()


#: The latency model's per terminal-step outputs (internal units: s, fractions).
LATENCY_COLUMNS = ("rtt_s", "access_s", "processing_s", "queueing_s", "reconfiguration_s", "loss_probability")

#: Stages that run on a whole chunk once its steps are recorded.
CHUNK_STAGES = (latency_stage,)


class ChunkRecorder:
    """Collects finished steps and builds the chunk's tables.

    Parameters
    ----------
    model : NetworkModel
    chunk : ChunkInputs
    """

    _COLUMNS = (
        ("sat", np.int32), ("gateway", np.int32), ("pop", np.int32), ("isl_hops", np.int16),
        ("uplink_s", np.float64), ("isl_s", np.float64), ("feeder_s", np.float64), ("backhaul_s", np.float64),
        ("reason", np.int8), ("demand_bps", np.float64), ("throughput_bps", np.float64),
        ("utilisation", np.float64), ("speedtest_down_bps", np.float64), ("speedtest_up_bps", np.float64),
    )

    def __init__(self, model: NetworkModel, chunk: ChunkInputs):
        self.model = model
        self.chunk = chunk
        t, g = chunk.offsets_ns.size, model.terminal_index.size
        self.cols = {name: np.empty((t, g), dtype) for name, dtype in self._COLUMNS}
        self.links = {name: np.empty(t, np.int32) for name in ("isl_dropped", "isl_active", "gateway_links")}
        self.handovers: list[tuple[NDArray, NDArray, NDArray, NDArray]] = []
        self.load: dict[str, list[dict]] = {"cell_load": [], "gateway_load": []}

    def add(self, step: StepState) -> None:
        """Record one finished step."""
        i, path, parts, cols = step.index, step.path, step.parts, self.cols
        cols["sat"][i] = step.sat
        cols["gateway"][i] = np.where(path, parts.gateway, -1)
        cols["pop"][i] = np.where(path, step.pop, -1)
        cols["isl_hops"][i] = np.where(path, parts.isl_hops, -1)
        cols["uplink_s"][i] = np.where(step.up, step.uplink_km / C_KM_S, np.nan)
        cols["isl_s"][i] = np.where(path, parts.isl_s, np.nan)
        cols["feeder_s"][i] = np.where(path, parts.feeder_s, np.nan)
        cols["backhaul_s"][i] = np.where(path, parts.backhaul_s, np.nan)
        cols["reason"][i] = step.reason
        cols["demand_bps"][i] = step.demand_bps
        cols["throughput_bps"][i] = step.throughput_bps
        cols["utilisation"][i] = step.utilisation
        cols["speedtest_down_bps"][i] = step.speedtest_down_bps
        cols["speedtest_up_bps"][i] = step.speedtest_up_bps
        isl_ok = step.network.isl_ok
        n_ok = int(np.count_nonzero(isl_ok))
        self.links["isl_active"][i] = n_ok
        self.links["isl_dropped"][i] = isl_ok.size - n_ok
        self.links["gateway_links"][i] = len(step.network.feeders)
        for name, rows in step.load_rows.items():
            self.load[name].append(rows)
        self._handovers(step)

    def _handovers(self, step: StepState) -> None:
        """Every terminal whose serving satellite changes at this step (a slot boundary)."""
        if not self.chunk.handover[step.index]:
            return
        before = self.model.scheduler.assignment(self.chunk.epoch_utc, int(self.chunk.previous_keys[step.index]))
        changed = np.flatnonzero(before != step.sat)
        if changed.size:
            t = np.full(changed.size, self.chunk.offsets_ns[step.index], np.int64)
            self.handovers.append((t, changed.astype(np.int32), before[changed], step.sat[changed]))

    def tables(self) -> dict[str, pa.Table]:
        """``terminal_steps``, ``handovers``, ``link_drops`` (and ``cell_load``, ``gateway_load`` with capacity)."""
        offsets = self.chunk.offsets_ns
        for stage in CHUNK_STAGES:
            stage(self.model, self.chunk, self)
        handovers = {
            name: np.concatenate([h[k] for h in self.handovers]) if self.handovers else np.zeros(0, dtype)
            for k, (name, dtype) in enumerate((("t_ns", np.int64), ("terminal", np.int32), ("from_sat", np.int32),
                                               ("to_sat", np.int32)))
        }
        tables = {
            "terminal_steps": terminal_steps_table(offsets, self.model.terminal_index, self.cols),
            "handovers": rows_table([handovers], HANDOVERS_SCHEMA),
            "link_drops": rows_table([{"t_ns": offsets, **self.links}], LINK_DROPS_SCHEMA),
        }
        if self.chunk.demand_bps is not None:
            tables["cell_load"] = rows_table(self.load["cell_load"], CELL_LOAD_SCHEMA)
            tables["gateway_load"] = rows_table(self.load["gateway_load"], GATEWAY_LOAD_SCHEMA)
        if self.chunk.motion is not None:
            tables["terminal_positions"] = terminal_positions_table(self.chunk.motion)
        return tables


def run_chunk(
    model: NetworkModel, epoch_utc: dt.datetime, offsets_ns: NDArray[np.int64], r_ecef_km: NDArray[np.float64],
    stages: tuple[Stage, ...] = STAGES,
) -> dict[str, pa.Table]:
    """Every step of a chunk through ``stages``; the chunk's tables.

    Parameters
    ----------
    model : NetworkModel
    epoch_utc : datetime
        The run's epoch.
    offsets_ns : int64[T]
        The chunk's steps, ns from the epoch.
    r_ecef_km : float64[T, S, 3], km, ECEF
        Satellite positions at those steps.
    stages : tuple of stage functions
        Default `STAGES`.
    """
    chunk = ChunkInputs.of(model, epoch_utc, offsets_ns)
    recorder = ChunkRecorder(model, chunk)
    for i in range(chunk.offsets_ns.size):
        step = StepState(i, int(chunk.offsets_ns[i]), r_ecef_km[i])
        for stage in stages:
            stage(model, chunk, step)
        recorder.add(step)
    return recorder.tables()
