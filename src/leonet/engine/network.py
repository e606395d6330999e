"""The per-step network model of a run: serving satellites, routes and latencies.

The representation
------------------
`NetworkModel` is built once per run from the constellation, the ground
segment (terminals, gateways, PoPs) and the ``[network]`` / ``[ground.pops]``
settings, and then turns any chunk of steps -- a `~leonet.timebase.TimeGrid`
and the satellites' ECEF positions ``r_ecef_km[T, S, 3]`` -- into Arrow
tables (`process_chunk`):

``terminal_steps``
    one row per (step, terminal), time-major.  Columns (units in names):
    ``t_ns`` int64 (offset from the epoch), ``terminal`` int32, ``sat``
    int32 (the slot's serving satellite, -1 none), ``gateway`` int32,
    ``pop`` int32 (-1 none), ``isl_hops`` int16 (-1 no route), ``rtt_ms``,
    ``uplink_ms`` (terminal<->satellite, one way), ``isl_ms`` (lasers),
    ``feeder_ms`` (satellite<->gateway), ``backhaul_ms`` (gateway<->PoP),
    all float64, NaN when unknown; ``served`` bool; ``reason``
    dictionary<int8, string> (``served``, ``no-satellite``,
    ``no-gateway-path``; see `leonet.scheduling.assign.Reason`).  With
    capacity modelled, a terminal whose cell got no beam from the
    scheduler has ``sat = -1`` and reason ``capacity``.
    ``rtt_ms = 2 x (uplink_ms + isl_ms + feeder_ms + backhaul_ms)``.
``handovers``
    ``t_ns`` int64, ``terminal`` int32, ``from_sat``, ``to_sat`` int32: every
    change of a terminal's serving satellite, at the step where it takes
    effect (-1 = none: losing or regaining service is recorded too).
``link_drops``
    one row per step: ``t_ns`` int64, ``isl_dropped`` int32 (laser links
    of the topology unusable at the step: beam below the limit or a
    satellite without a position), ``isl_active`` int32,
    ``gateway_links`` int32 (feeder links after antenna limits).

Per step (loop over steps; everything inside is vectorised over satellites
and terminals): the usable lasers (`leonet.links.topology`), the gateways'
feeder links, limited to each gateway's ``antenna_count`` highest satellites
(`leonet.links.gsl`), the directed delay graph (`leonet.routing.graph`) and
one multi-source Dijkstra from the PoPs (`leonet.routing.shortest`).  The
serving satellite of each terminal comes from its slot
(`leonet.scheduling.assign.SlotScheduler`), which depends on the slot's
time only: a run gives the same tables, bit for bit, whatever its chunking.
When the service layer models capacity, the scheduler assigns service
cells to satellite beams (`leonet.scheduling.cells_assign`), at most
``beams_per_satellite`` cells per satellite.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from ..constants import C_KM_S
from ..errors import ScenarioError
from ..links.gsl import GroundLinks, SiteGeometry, limit_links_per_site, pair_sin_elevation, visible_links
from ..links.topology import IslTopology, no_isl_topology, plus_grid_topology
from ..orbits.constellation import Constellation
from ..routing.graph import GraphBuilder, NodeSpace, assign_pops, backhaul_delay_s
from ..routing.shortest import SatelliteRoutes, routes_to_pops
from ..scheduling.assign import REASON_NAMES, Reason, SlotScheduler
from ..scheduling.cells_assign import CellBeams
from ..scheduling.slots import SlotClock
from ..timebase import TimeGrid

__all__ = ["NetworkModel", "StepState", "TERMINAL_STEPS_SCHEMA", "HANDOVERS_SCHEMA", "LINK_DROPS_SCHEMA"]

_REASON_TYPE = pa.dictionary(pa.int8(), pa.string())

TERMINAL_STEPS_SCHEMA = pa.schema(
    [
        ("t_ns", pa.int64()),
        ("terminal", pa.int32()),
        ("sat", pa.int32()),
        ("gateway", pa.int32()),
        ("pop", pa.int32()),
        ("isl_hops", pa.int16()),
        ("rtt_ms", pa.float64()),
        ("uplink_ms", pa.float64()),
        ("isl_ms", pa.float64()),
        ("feeder_ms", pa.float64()),
        ("backhaul_ms", pa.float64()),
        ("served", pa.bool_()),
        ("reason", _REASON_TYPE),
        ("demand_mbps", pa.float64()),
        ("throughput_mbps", pa.float64()),
    ]
)
HANDOVERS_SCHEMA = pa.schema(
    [("t_ns", pa.int64()), ("terminal", pa.int32()), ("from_sat", pa.int32()), ("to_sat", pa.int32())]
)
LINK_DROPS_SCHEMA = pa.schema(
    [("t_ns", pa.int64()), ("isl_dropped", pa.int32()), ("isl_active", pa.int32()), ("gateway_links", pa.int32())]
)

_MS = 1e3


def _rows_table(parts: list[dict], schema: pa.Schema) -> pa.Table:
    if not parts:
        return schema.empty_table()
    return pa.Table.from_arrays(
        [pa.array(np.concatenate([p[f.name] for p in parts]), f.type) for f in schema], schema=schema
    )


class StepState:
    """The network at one instant: usable lasers, feeder links, routes to PoPs.

    Attributes
    ----------
    isl_ok : bool[E]
        Usable laser links of the topology.
    isl_delay_s : float64[E], s
        Delay of every link of the topology (meaningful where ``isl_ok``).
    feeders : GroundLinks
        Gateway -> satellite links after antenna limits.
    graph : scipy.sparse.csr_array (N, N), s
        The directed delay graph (`leonet.routing.graph.build_graph`).
    routes : SatelliteRoutes
    """

    __slots__ = ("isl_ok", "isl_delay_s", "feeders", "graph", "routes")

    def __init__(self, isl_ok, isl_delay_s, feeders, graph, routes):
        self.isl_ok = isl_ok
        self.isl_delay_s = isl_delay_s
        self.feeders = feeders
        self.graph = graph
        self.routes = routes


class NetworkModel:
    """Per-step network model of a run.

    Parameters
    ----------
    constellation : Constellation
        S satellites; their shells' ``min_elevation_deg`` are the terminal masks.
    terminals, gateways, pops : leonet.ground.sites.GroundSites
        G user terminals, W gateways (``antenna_count`` each), P PoPs.
    network : leonet.scenario.schema.NetworkSpec, optional
        ``isl`` ("plus-grid" or "none" = bent pipe), ``isl_min_beam_altitude_km``,
        ``slot_s``, ``policy``.  Default: ``NetworkSpec()``.
    pop_spec : leonet.scenario.schema.PopSpec, optional
        ``route_factor``, ``refractive_index`` and the gateway -> PoP
        ``assignment`` (default: nearest PoP).  Default: ``PopSpec()``.
    step_ns : int, optional
        The run's step (``time.step_ns``): lets a chunk find the step before
        its first one, for handovers across chunk boundaries when steps do
        not fall on slot starts; required when ``slot_s = 0``.
    ut1_minus_utc_s : float
        Must be the run's (``time.ut1_minus_utc_s``): the scheduler
        propagates satellites itself and must agree with the run's positions.
    topology : IslTopology, optional
        Override the laser topology (default: +Grid of the constellation, or
        none for ``isl = "none"``).

    Examples
    --------
    >>> model = NetworkModel(constellation, terminals, gateways, pops, spec.network, spec.ground.pops,
    ...                      step_ns=spec.time.step_ns, ut1_minus_utc_s=spec.time.ut1_minus_utc_s)  # doctest: +SKIP
    >>> tables = model.process_chunk(grid_chunk, prop.r_ecef_km)  # doctest: +SKIP
    """

    def __init__(
        self,
        constellation: Constellation,
        terminals,
        gateways,
        pops,
        network=None,
        pop_spec=None,
        *,
        step_ns: int | None = None,
        ut1_minus_utc_s: float = 0.0,
        topology: IslTopology | None = None,
        node_spacing_ns: int | None = None,
        service=None,
        epoch_utc: dt.datetime | None = None,
    ):
        from ..scenario.schema import NetworkSpec, PopSpec

        network = NetworkSpec() if network is None else network
        pop_spec = PopSpec() if pop_spec is None else pop_spec
        self.constellation = constellation
        self.network = network
        self.pop_spec = pop_spec
        s = len(constellation)
        self.nodes = NodeSpace(s, len(gateways), len(pops))
        if topology is not None:
            self.topology = topology
        elif network.isl == "none":
            self.topology = no_isl_topology(s, network.isl_min_beam_altitude_km)
        else:
            self.topology = plus_grid_topology(constellation, min_beam_altitude_km=network.isl_min_beam_altitude_km)
        if self.topology.num_satellites != s:
            raise ScenarioError(
                f"the ISL topology is for {self.topology.num_satellites} satellites, the constellation has {s}"
            )
        self.terminal_sites = SiteGeometry.from_sites(terminals)
        self.gateway_sites = SiteGeometry.from_sites(gateways)
        self.gateway_antennas = np.asarray(gateways.antenna_count, dtype=np.int64)
        self.sin_mask_sat = np.sin(np.radians(constellation.min_elevation_deg))
        self.gateway_pop = assign_pops(gateways, pops, dict(pop_spec.assignment))
        self.backhaul_s = backhaul_delay_s(
            gateways, pops, self.gateway_pop, pop_spec.route_factor, pop_spec.refractive_index
        )
        self.graph_builder = GraphBuilder(self.nodes, self.topology.pairs, self.gateway_pop, self.backhaul_s)
        self.service = service
        self.faults = None if service is None else service.faults
        # Directed laser ids for capacity: link k carries 2k (a->b, a<b) and 2k+1 (b->a).
        pairs = np.asarray(self.topology.pairs, dtype=np.int64).reshape(-1, 2)
        keys = pairs[:, 0] * s + pairs[:, 1]
        self._isl_order = np.argsort(keys, kind="stable")
        self._isl_keys = keys[self._isl_order]
        self.clock = SlotClock.from_seconds(network.slot_s, step_ns, offset_s=network.slot_offset_s, epoch_utc=epoch_utc)
        cell_beams = None
        if service is not None and service.capacity is not None:
            # The scheduler gives cells (not terminals) beams, within each
            # satellite's beam count; only terminals that may be served and
            # want traffic ask for one.
            def wants_beam(offset_ns: NDArray[np.int64]) -> NDArray[np.bool_]:
                return (service.blocked(offset_ns) == 0) & (service.demand_bps(offset_ns) > 0.0)

            cell_beams = CellBeams(service.cells.terminal_cell, service.capacity.beams_per_satellite, wants_beam)
        self.scheduler = SlotScheduler(
            constellation.satrecs,
            self.terminal_sites,
            self.sin_mask_sat,
            self.clock,
            network.policy,
            self._slot_delay_s,
            ut1_minus_utc_s=ut1_minus_utc_s,
            node_spacing_ns=node_spacing_ns,
            satellite_failed=None if self.faults is None else self.faults.satellite_failed,
            cell_beams=cell_beams,
        )
        self._state_cache: dict[int, tuple[NDArray[np.float64], StepState]] = {}

    # ------------------------------------------------------------------
    # One instant
    # ------------------------------------------------------------------

    def step_state(self, r_ecef_km: NDArray[np.float64], t_ns: int | None = None) -> StepState:
        """Lasers, feeder links and routes to PoPs for positions ``r_ecef_km[S, 3]`` (km, ECEF).

        With a fault schedule and the step's time ``t_ns``, failed satellites
        lose every link, lost lasers are dropped and gateways that are down
        get no feeder links.
        """
        down = None
        if self.faults is not None and t_ns is not None:
            t = np.array([t_ns], dtype=np.int64)
            failed = self.faults.satellite_failed(t)[0]
            if failed.any():
                r_ecef_km = r_ecef_km.copy()
                r_ecef_km[failed] = np.nan
            down = self.faults.gateway_down(t)[0]
        length, ok = self.topology.usable(r_ecef_km)
        if self.faults is not None and t_ns is not None:
            ok = ok & ~self.faults.isl_lost(np.array([t_ns], dtype=np.int64), len(ok))[0]
        isl_delay = length / C_KM_S
        feeders = visible_links(self.gateway_sites, r_ecef_km)
        if down is not None and down.any():
            feeders = feeders.take(~down[feeders.site])
        feeders = limit_links_per_site(feeders, self.gateway_antennas)
        graph = self.graph_builder.build(ok, isl_delay, feeders.site, feeders.sat, feeders.delay_s)
        return StepState(ok, isl_delay, feeders, graph, routes_to_pops(graph, self.nodes))

    def _state_at(self, t_ns: int, r_ecef_km: NDArray[np.float64]) -> StepState:
        # The same instant may be asked for by a step and by its slot's
        # decision; positions are compared, so reuse never changes a result.
        hit = self._state_cache.get(int(t_ns))
        if hit is not None and np.array_equal(hit[0], r_ecef_km, equal_nan=True):
            return hit[1]
        state = self.step_state(r_ecef_km, t_ns)
        if len(self._state_cache) > 4:
            self._state_cache.pop(next(iter(self._state_cache)))
        self._state_cache[int(t_ns)] = (np.array(r_ecef_km, copy=True), state)
        return state

    def _slot_delay_s(self, t_ns: int, r_ecef_km: NDArray[np.float64]) -> NDArray[np.float64]:
        return self._state_at(t_ns, r_ecef_km).routes.delay_s

    def assignment(self, epoch_utc: dt.datetime, key: int) -> NDArray[np.int32]:
        """Serving satellite of every terminal in slot ``key`` (int32[G], -1 none)."""
        return self.scheduler.assignment(epoch_utc, key)

    # ------------------------------------------------------------------
    # A chunk
    # ------------------------------------------------------------------

    def process_chunk(self, grid_chunk: TimeGrid, r_ecef_km: NDArray[np.float64]) -> dict[str, pa.Table]:
        """Serving satellites, routes and latencies of every terminal at every step of a chunk.

        Parameters
        ----------
        grid_chunk : TimeGrid
            T steps; its epoch is the scenario epoch (slots align to it).
        r_ecef_km : float64[T, S, 3], km, ECEF
            Satellite positions at those steps (`leonet.orbits.propagate`).

        Returns
        -------
        dict of str to pyarrow.Table
            ``"terminal_steps"``, ``"handovers"``, ``"link_drops"`` (schemas in
            the module docstring and ``*_SCHEMA``).
        """
        offsets = np.asarray(grid_chunk.offset_ns, dtype=np.int64)
        t_steps = offsets.size
        if r_ecef_km.shape[:2] != (t_steps, self.nodes.satellites):
            raise ScenarioError(
                f"r_ecef_km has shape {r_ecef_km.shape}; process_chunk needs [T={t_steps}, S={self.nodes.satellites}, 3]"
            )
        g = len(self.terminal_sites)
        epoch = grid_chunk.epoch_utc
        keys = self.clock.key(offsets)
        handover, prev_keys = self.clock.previous_key(offsets)

        # Assignments are asked for step by step, so that a slot's decision at
        # its start and the step at that instant share one routing state.
        def assigned(key) -> NDArray[np.int32]:
            return self.scheduler.assignment(epoch, int(key))

        cols = {
            name: np.empty((t_steps, g), dtype)
            for name, dtype in (
                ("sat", np.int32),
                ("gateway", np.int32),
                ("pop", np.int32),
                ("isl_hops", np.int16),
                ("uplink_s", np.float64),
                ("isl_s", np.float64),
                ("feeder_s", np.float64),
                ("backhaul_s", np.float64),
                ("reason", np.int8),
                ("demand_bps", np.float64),
                ("throughput_bps", np.float64),
            )
        }
        service = self.service
        blocked = None if service is None else service.blocked(offsets)
        capacity = service is not None and service.capacity is not None
        demand = service.demand_bps(offsets) if capacity else None
        failed = None if self.faults is None else self.faults.satellite_failed(offsets)
        gw_down = None if self.faults is None else self.faults.gateway_down(offsets).any(axis=1)
        cell_parts: list[dict] = []
        gateway_parts: list[dict] = []
        dropped = np.empty(t_steps, np.int32)
        active = np.empty(t_steps, np.int32)
        gw_links = np.empty(t_steps, np.int32)
        term = np.arange(g, dtype=np.int64)
        ho_t, ho_term, ho_from, ho_to = [], [], [], []
        for i in range(t_steps):
            r = r_ecef_km[i]
            sat = assigned(keys[i])
            state = self._state_at(int(offsets[i]), r)
            n_ok = int(np.count_nonzero(state.isl_ok))
            active[i] = n_ok
            dropped[i] = state.isl_ok.size - n_ok
            gw_links[i] = len(state.feeders)

            has = sat >= 0
            s_idx = np.where(has, sat, 0).astype(np.int64)
            rng, sin_el = pair_sin_elevation(self.terminal_sites, term, r[s_idx])
            sin_need = np.maximum(self.terminal_sites.sin_mask, self.sin_mask_sat[s_idx])
            # Checked at the slot's samples; a dip between them would be caught here.
            up = has & (sin_el >= sin_need)
            routes = state.routes
            path = up & routes.reachable[s_idx]
            parts = routes.describe(s_idx)
            reason = np.where(~up, Reason.NO_SATELLITE, np.where(path, Reason.SERVED, Reason.NO_GATEWAY_PATH))
            if capacity:
                # Satellites in view, but their beams went to other cells.
                reason = np.where(self.scheduler.no_beam(epoch, int(keys[i])), Reason.CAPACITY, reason)
            if failed is not None:
                # A fault, not geometry: the serving satellite failed, or a
                # gateway outage left the route without a gateway.
                reason = np.where(has & failed[i][s_idx], Reason.FAULT, reason)
                if gw_down[i]:
                    reason = np.where(reason == Reason.NO_GATEWAY_PATH, Reason.FAULT, reason)
            if blocked is not None:
                reason = np.where(blocked[i] > 0, blocked[i], reason)
            cols["demand_bps"][i] = np.nan
            cols["throughput_bps"][i] = np.nan
            if capacity:
                routed = reason == Reason.SERVED
                indptr, isl_ids = self._terminal_lasers(routes, s_idx, routed)
                step_cap = service.allocate(
                    int(offsets[i]), sat, np.where(path, parts.gateway, -1), routed, demand[i], indptr, isl_ids,
                    2 * len(self.topology),
                )
                reason = np.where(step_cap.below_min, Reason.CAPACITY, reason)
                active_now = reason != Reason.INACTIVE
                cols["demand_bps"][i] = np.where(active_now, demand[i], np.nan)
                cols["throughput_bps"][i] = np.where(active_now, np.where(routed, step_cap.throughput_bps, 0.0), np.nan)
                cell_parts.append(step_cap.cell_rows)
                gateway_parts.append(step_cap.gateway_rows)
            cols["sat"][i] = sat
            cols["gateway"][i] = np.where(path, parts.gateway, -1)
            cols["pop"][i] = np.where(path, routes.pop[s_idx], -1)
            cols["isl_hops"][i] = np.where(path, parts.isl_hops, -1)
            cols["uplink_s"][i] = np.where(up, rng / C_KM_S, np.nan)
            cols["isl_s"][i] = np.where(path, parts.isl_s, np.nan)
            cols["feeder_s"][i] = np.where(path, parts.feeder_s, np.nan)
            cols["backhaul_s"][i] = np.where(path, parts.backhaul_s, np.nan)
            cols["reason"][i] = reason

            if handover[i]:
                before = assigned(prev_keys[i])
                changed = np.flatnonzero(before != sat)
                if changed.size:
                    ho_t.append(np.full(changed.size, offsets[i], np.int64))
                    ho_term.append(changed.astype(np.int32))
                    ho_from.append(before[changed])
                    ho_to.append(sat[changed])

        one_way = cols["uplink_s"] + cols["isl_s"] + cols["feeder_s"] + cols["backhaul_s"]
        served = cols["reason"] == Reason.SERVED
        # Latency is reported only for served terminal-steps.
        for name in ("uplink_s", "isl_s", "feeder_s", "backhaul_s"):
            cols[name][~served] = np.nan
        one_way[~served] = np.nan
        reason = pa.DictionaryArray.from_arrays(
            pa.array(cols["reason"].ravel(), pa.int8()), pa.array(REASON_NAMES, pa.string())
        )
        steps = pa.Table.from_arrays(
            [
                pa.array(np.repeat(offsets, g), pa.int64()),
                pa.array(np.tile(term.astype(np.int32), t_steps), pa.int32()),
                pa.array(cols["sat"].ravel(), pa.int32()),
                pa.array(cols["gateway"].ravel(), pa.int32()),
                pa.array(cols["pop"].ravel(), pa.int32()),
                pa.array(cols["isl_hops"].ravel(), pa.int16()),
                pa.array((2.0 * _MS * one_way).ravel(), pa.float64()),
                pa.array((_MS * cols["uplink_s"]).ravel(), pa.float64()),
                pa.array((_MS * cols["isl_s"]).ravel(), pa.float64()),
                pa.array((_MS * cols["feeder_s"]).ravel(), pa.float64()),
                pa.array((_MS * cols["backhaul_s"]).ravel(), pa.float64()),
                pa.array(served.ravel(), pa.bool_()),
                reason,
                pa.array((cols["demand_bps"] / 1e6).ravel(), pa.float64()),
                pa.array((cols["throughput_bps"] / 1e6).ravel(), pa.float64()),
            ],
            schema=TERMINAL_STEPS_SCHEMA,
        )

        def cat(parts, dtype):
            return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)

        handovers = pa.Table.from_arrays(
            [
                pa.array(cat(ho_t, np.int64), pa.int64()),
                pa.array(cat(ho_term, np.int32), pa.int32()),
                pa.array(cat(ho_from, np.int32), pa.int32()),
                pa.array(cat(ho_to, np.int32), pa.int32()),
            ],
            schema=HANDOVERS_SCHEMA,
        )
        drops = pa.Table.from_arrays(
            [
                pa.array(offsets, pa.int64()),
                pa.array(dropped, pa.int32()),
                pa.array(active, pa.int32()),
                pa.array(gw_links, pa.int32()),
            ],
            schema=LINK_DROPS_SCHEMA,
        )
        tables = {"terminal_steps": steps, "handovers": handovers, "link_drops": drops}
        if capacity:
            from .service import CELL_LOAD_SCHEMA, GATEWAY_LOAD_SCHEMA

            tables["cell_load"] = _rows_table(cell_parts, CELL_LOAD_SCHEMA)
            tables["gateway_load"] = _rows_table(gateway_parts, GATEWAY_LOAD_SCHEMA)
        return tables

    def _terminal_lasers(self, routes, s_idx: NDArray[np.int64], routed: NDArray[np.bool_]):
        """Directed laser ids on every routed terminal's path, as a ragged array over terminals."""
        g = s_idx.size
        sats, inverse = np.unique(s_idx[routed], return_inverse=True)
        ptr_u, tail, head = routes.laser_path(sats)
        lengths = np.zeros(g, np.int64)
        lengths[routed] = np.diff(ptr_u)[inverse]
        indptr = np.zeros(g + 1, np.int64)
        np.cumsum(lengths, out=indptr[1:])
        # Gather each terminal's slice of its satellite's path.
        starts = np.repeat(ptr_u[:-1][inverse], np.diff(ptr_u)[inverse])
        within = np.arange(indptr[-1]) - np.repeat(indptr[:-1][routed], lengths[routed])
        src = starts + within
        a, b = tail[src], head[src]
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        link = self._isl_order[np.searchsorted(self._isl_keys, lo * self.nodes.satellites + hi)]
        return indptr, 2 * link + (a > b)
