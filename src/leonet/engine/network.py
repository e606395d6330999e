"""A run's network, assembled once: node space, laser topology, PoPs, scheduler, and the state of each instant.

`NetworkModel` is built once per run from the constellation, the ground
segment (terminals, gateways, PoPs) and the ``[network]`` / ``[ground.pops]``
settings.  It holds the parts the step pipeline (`leonet.engine.pipeline`)
uses -- the laser topology (`leonet.links.topology`), each gateway's PoP and
fibre delay (`leonet.ground.pops`), the graph builder
(`leonet.routing.graph`), the slot scheduler (`leonet.scheduling.assign`)
-- and `state_at`, the network of one instant (`StepNetwork`: usable lasers,
feeder links, the delay graph, every satellite's route to a PoP), cached so
that a slot's decision and the step at the same instant share it.

`NetworkModel.process_chunk` runs a chunk through the pipeline's stages and
returns its tables (`leonet.results.schemas`).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from ..constants import C_KM_S, NS_PER_S
from ..errors import ScenarioError
from ..links.gsl import limit_links_per_site
from ..links.visibility import SiteGeometry, visible_links
from ..links.topology import IslTopology, no_isl_topology, plus_grid_topology
from ..orbits.constellation import Constellation
from ..ground.pops import assign_pops, backhaul_delay_s
from ..ground.sites import unit_vectors
from ..routing.graph import GraphBuilder, NodeSpace
from ..routing.homes import routes_to_homes
from ..routing.shortest import routes_to_pops, stacked_routes
from ..scheduling.assign import SlotScheduler
from ..scheduling.cells_assign import CellBeams
from ..scheduling.slots import SlotClock
from ..timebase import TimeGrid, unix_ns

__all__ = ["NetworkModel", "StepNetwork"]

#: Bound each home PoP's shortest-path search to where its terminals can be served
#: (`leonet.routing.homes`); the routes terminals use are the same either way (tests/routing/test_homes.py).
BOUND_HOME_SEARCHES = True


class HomeRoutes(list):
    """Every satellite's route to each home PoP of one instant: a list of `SatelliteRoutes`, one per home.

    Attributes
    ----------
    pops : int64[H]
        The PoP (index among the run's PoPs) of each entry; empty in
        "nearest" mode (one entry, to the PoP nearest in delay).
    groups : list of int64 arrays, [H]
        The terminals whose home each entry is (a partition of ``0 .. G-1``;
        moving terminals change group when they cross a border).
    """

    def __init__(self, routes, pops, groups, spread=None):
        super().__init__(routes)
        self.pops = np.asarray(pops, dtype=np.int64)
        self.groups = groups
        #: float64[H], rad: how far from its PoP each home's terminals are (bounds the searches).
        self.spread = spread

    def rows(self, g: int) -> NDArray[np.int64]:
        """int64[G]: each terminal's entry."""
        out = np.zeros(g, dtype=np.int64)
        for h, group in enumerate(self.groups):
            out[group] = h
        return out


class StepNetwork:
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
    routes_by_home : HomeRoutes
        Every satellite's route to each home PoP of the run's terminals at
        this instant, with each home's terminals (one entry, to the nearest
        PoP, in "nearest" mode).
    """

    __slots__ = ("isl_ok", "isl_delay_s", "feeders", "graph", "routes_by_home")

    def __init__(self, isl_ok, isl_delay_s, feeders, graph, routes_by_home):
        self.isl_ok = isl_ok
        self.isl_delay_s = isl_delay_s
        self.feeders = feeders
        self.graph = graph
        self.routes_by_home = routes_by_home

    @property
    def routes(self):
        """The routes when the run has one home (or "nearest" mode)."""
        if len(self.routes_by_home) != 1:
            raise RuntimeError("this run routes to several home PoPs; use routes_by_home")
        return self.routes_by_home[0]


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
    epoch_utc : datetime, optional
        The run's epoch (slot phase and the latency model's absolute times).
    latency : leonet.latency.params.LatencyParams, optional
        The latency model's constants; None: ``rtt_ms`` is propagation only.
    seed : int
        The scenario seed (the latency model's draws).

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
        latency=None,
        seed: int = 0,
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
        #: The moving terminals (`leonet.ground.motion.Motion`), None if none moves.
        self.motion = None if service is None else service.motion
        self.gateway_sites = SiteGeometry.from_sites(gateways)
        self.gateway_antennas = np.asarray(gateways.antenna_count, dtype=np.int64)
        self.sin_mask_sat = np.sin(np.radians(constellation.min_elevation_deg))
        self.gateway_pop = assign_pops(gateways, pops, dict(pop_spec.assignment))
        self._route_to_pops(terminals, gateways, pops, pop_spec, epoch_utc)
        self.service = service
        self.faults = None if service is None else service.faults
        # Directed laser ids for capacity: link k carries 2k (a->b, a<b) and 2k+1 (b->a).
        pairs = np.asarray(self.topology.pairs, dtype=np.int64).reshape(-1, 2)
        keys = pairs[:, 0] * s + pairs[:, 1]
        self._isl_order = np.argsort(keys, kind="stable")
        self._isl_keys = keys[self._isl_order]
        self.clock = SlotClock.from_seconds(network.slot_s, step_ns, offset_s=network.slot_offset_s, epoch_utc=epoch_utc)
        # The latency stage's inputs (leonet.engine.pipeline.latency_stage).
        self.latency = latency
        self.seed = int(seed)
        self.step_ns = int(step_ns) if step_ns else NS_PER_S
        self.epoch_unix_ns = 0 if epoch_utc is None else unix_ns(epoch_utc)
        slot_ns = self.clock.slot_ns
        self.slot_offset_ns = int(round(network.slot_offset_s * NS_PER_S)) % slot_ns if slot_ns else 0
        self.terminal_lon_deg = np.asarray(terminals.lon_deg, dtype=np.float64)
        self.terminal_ids = list(terminals.ids)
        cell_beams = None
        if service is not None and service.capacity is not None:
            # The scheduler gives cells (not terminals) beams, within each
            # satellite's beam count; only terminals that may be served and
            # want traffic ask for one.
            def wants_beam(offset_ns: NDArray[np.int64]) -> NDArray[np.bool_]:
                return (service.blocked(offset_ns) == 0) & (service.demand_bps(offset_ns) > 0.0)

            cell_at = None if self.motion is None else (lambda t_ns: service.cells_at(t_ns)[0])
            cell_beams = CellBeams(service.cells.terminal_cell, service.capacity.beams_per_satellite, wants_beam, cell_at)
        self.scheduler = SlotScheduler(
            constellation.satrecs,
            self.terminal_sites,
            self.sin_mask_sat,
            self.clock,
            network.policy,
            self._slot_delay_s,
            site_home=self.terminal_home,
            ut1_minus_utc_s=ut1_minus_utc_s,
            node_spacing_ns=node_spacing_ns,
            satellite_failed=None if self.faults is None else self.faults.satellite_failed,
            cell_beams=cell_beams,
            motion=self.motion,
            slack_s=network.scheduler_slack_ms * 1e-3,
            seed=self.seed,
        )
        self._state_cache: dict[int, tuple[NDArray[np.float64], StepNetwork]] = {}
        self._decision_cache: dict[int, tuple[NDArray[np.float64], StepNetwork]] = {}
        self.terminal_index = np.arange(len(self.terminal_sites), dtype=np.int64)
        #: Directed laser links (two per link of the topology), the capacity stage's laser ids.
        self.directed_isls = 2 * len(self.topology)

    def _route_to_pops(self, terminals, gateways, pops, pop_spec, epoch_utc=None) -> None:
        """Where terminals' traffic leaves for the internet, and the backhaul links that take it there.

        ``terminal_pop = "country"``: every terminal has a home PoP
        (`leonet.ground.pops.home_pops`); every gateway reaches every home
        PoP over fibre, and each home PoP gets its own shortest-path tree.
        ``"nearest"``: each gateway backhauls to its own PoP and a terminal's
        traffic leaves at the PoP nearest in delay (one multi-source tree).
        The assignment snapshot is ``pop_spec.assignment_snapshot`` at the
        run's epoch (`leonet.ground.pops.assignment_snapshot_for`).
        """
        w = len(gateways)
        self.pop_notes: list[str] = []
        self.locator = None
        #: The month of Starlink's PoP assignment the run uses ("country" mode).
        self.assignment_snapshot = None
        if pop_spec.terminal_pop == "country" and len(terminals) and w:
            from ..ground.pops import assignment_snapshot_for, home_pops

            snapshot = self.assignment_snapshot = assignment_snapshot_for(pop_spec.assignment_snapshot, epoch_utc)
            if self.motion is None:
                home, self.pop_notes = home_pops(terminals, pops, pop_spec.country_pop, snapshot)
                reachable = home
            else:
                home = np.zeros(len(terminals), dtype=np.int64)
                fixed = np.setdiff1d(np.arange(len(terminals)), self.motion.terminals)
                if fixed.size:
                    home[fixed], self.pop_notes = home_pops(terminals.subset(fixed), pops, pop_spec.country_pop,
                                                            snapshot)
                self._mover_homes(pops, home, pop_spec.country_pop, snapshot)
                # A moving terminal may cross into any PoP's country: every PoP is reachable over fibre.
                reachable = np.arange(len(pops))
            self.home_pops, self.terminal_home = np.unique(home, return_inverse=True)
            bh_pop = np.repeat(np.unique(reachable), w)
            bh_gw = np.tile(np.arange(w), bh_pop.size // w)
            bh_s = backhaul_delay_s(gateways, pops, bh_pop, pop_spec.route_factor, pop_spec.refractive_index, bh_gw)
            self.graph_builder = GraphBuilder(self.nodes, self.topology.pairs, bh_pop, bh_s, backhaul_gateway=bh_gw)
            self.route_sources: list = [[int(p)] for p in self.home_pops]
        else:
            self.home_pops = None
            self.terminal_home = np.zeros(len(terminals), dtype=np.int64)
            backhaul_s = backhaul_delay_s(gateways, pops, self.gateway_pop, pop_spec.route_factor, pop_spec.refractive_index)
            self.graph_builder = GraphBuilder(self.nodes, self.topology.pairs, self.gateway_pop, backhaul_s)
            self.route_sources = [None]
        #: Terminals of each home PoP (one group holding every terminal in "nearest" mode).
        self.home_groups = [np.flatnonzero(self.terminal_home == h) for h in range(len(self.route_sources))]
        self._static_routes = HomeRoutes([None] * len(self.route_sources), [] if self.home_pops is None else self.home_pops,
                                         self.home_groups)
        # Where the terminals are, for bounding each home PoP's search (leonet.routing.homes).
        self.pop_unit = unit_vectors(pops.lat_deg, pops.lon_deg).reshape(-1, 3)
        self._site_unit = unit_vectors(terminals.lat_deg, terminals.lon_deg).reshape(-1, 3)
        self._bound_scale: dict[int, float] = {}
        self._static_routes.spread = self._spread(self._static_routes, self._site_unit)

    def _mover_homes(self, pops, home: NDArray[np.int64], overrides=None, snapshot=None) -> None:
        """Moving terminals get their home PoP where they are, step by step (`leonet.ground.pops.HomeLocator`).

        ``home`` (the fixed terminals' homes) is changed in place: a moving
        terminal's fixed entry is its home at its first fix, used only when
        it has no position (it is then blocked, and its route unused).
        """
        from ..ground.pops import HomeLocator

        self.locator = HomeLocator(pops, overrides, snapshot)
        trs = self.motion.trajectories
        # Warm the locator on every fix (its notes: moving terminals at sea use the nearest PoP).
        self.locator.home_at(np.concatenate([tr.lat_deg for tr in trs]), np.concatenate([tr.lon_deg for tr in trs]))
        first = self.locator.home_at([tr.lat_deg[0] for tr in trs], [tr.lon_deg[0] for tr in trs])
        home[self.motion.terminals] = first
        self.pop_notes = self.pop_notes + [n for n in self.locator.notes() if n not in self.pop_notes]
        self._first_home = first
        self._home_memo: dict[int, NDArray[np.int64]] = {}

    def prepare_chunk(self, state) -> None:
        """Remember the moving terminals' home PoPs at a chunk's steps (one vectorised pass; `homes_at` reads them)."""
        if self.locator is None or state is None:
            return
        t, m = state.status.shape
        home = self.locator.home_at(state.lat_deg.ravel(), state.lon_deg.ravel()).reshape(t, m)
        unit = unit_vectors(state.lat_deg, state.lon_deg).reshape(t, m, 3)
        self._home_memo = {int(x): (home[i], unit[i]) for i, x in enumerate(state.offset_ns.tolist())}

    def homes_at(self, t_ns: int | None) -> HomeRoutes:
        """The home PoPs at step ``t_ns`` and each one's terminals (routes not filled in: `step_state` does)."""
        if self.locator is None or t_ns is None:
            return self._static_routes
        hit = self._home_memo.get(int(t_ns))
        if hit is None:
            st = self.motion.at(np.array([t_ns], dtype=np.int64))
            hit = self.locator.home_at(st.lat_deg[0], st.lon_deg[0]), unit_vectors(st.lat_deg[0], st.lon_deg[0]).reshape(-1, 3)
        moving, moving_unit = hit
        pop = self.home_pops[self.terminal_home].copy()
        # Without a position a moving terminal is blocked: it keeps a home of the step (or its first one).
        fixed = np.ones(pop.size, dtype=bool)
        fixed[self.motion.terminals] = False
        spare = pop[fixed][0] if fixed.any() else (moving[moving >= 0][0] if (moving >= 0).any() else self._first_home[0])
        pop[self.motion.terminals] = np.where(moving >= 0, moving, spare)
        pops, row = np.unique(pop, return_inverse=True)
        homes = HomeRoutes([None] * pops.size, pops, [np.flatnonzero(row == h) for h in range(pops.size)])
        unit = self._site_unit.copy()
        unit[self.motion.terminals] = moving_unit  # NaN without a position: blocked, no satellite needed
        homes.spread = self._spread(homes, unit)
        return homes

    def _spread(self, homes: HomeRoutes, unit: NDArray[np.float64]) -> NDArray[np.float64]:
        """float64[H], rad: the largest angle between each home PoP and a terminal of its group (0 if none)."""
        out = np.zeros(len(homes.pops))
        for h, (p, group) in enumerate(zip(homes.pops.tolist(), homes.groups)):
            cos = (unit[group] * self.pop_unit[p]).sum(axis=1)  # not BLAS: its threads would busy-wait
            if np.isfinite(cos).any():
                out[h] = np.arccos(np.clip(np.nanmin(cos), -1.0, 1.0))
        return out

    # ------------------------------------------------------------------
    # One instant
    # ------------------------------------------------------------------

    def step_state(self, r_ecef_km: NDArray[np.float64], t_ns: int | None = None,
                   faults_ns: int | None = None) -> StepNetwork:
        """Lasers, feeder links and routes to PoPs for positions ``r_ecef_km[S, 3]`` (km, ECEF).

        With a fault schedule and the step's time ``t_ns``, failed satellites
        lose every link, lost lasers are dropped and gateways that are down
        get no feeder links: the faults of ``faults_ns`` if given (what a
        slot's plan knows at its start), else of ``t_ns``.
        """
        down = lost = None
        if self.faults is not None and t_ns is not None:
            failed, down, lost = self._fault_masks(t_ns if faults_ns is None else faults_ns)
            if failed.any():
                r_ecef_km = r_ecef_km.copy()
                r_ecef_km[failed] = np.nan
        length, ok = self.topology.usable(r_ecef_km)
        if lost is not None:
            ok = ok & ~lost
        isl_delay = length / C_KM_S
        feeders = visible_links(self.gateway_sites, r_ecef_km)
        if down is not None and down.any():
            feeders = feeders.take(~down[feeders.site])
        feeders = limit_links_per_site(feeders, self.gateway_antennas)
        graph = self.graph_builder.build(ok, isl_delay, feeders.site, feeders.sat, feeders.delay_s)
        homes = self.homes_at(t_ns)
        if self.home_pops is None:
            trees = [routes_to_pops(graph, self.nodes, src) for src in self.route_sources]
        elif BOUND_HOME_SEARCHES:
            trees = routes_to_homes(graph, self.nodes, homes.pops, self.pop_unit[homes.pops], homes.spread,
                                    r_ecef_km, self.sin_mask_sat, scale=self._bound_scale)
        else:
            trees = [routes_to_pops(graph, self.nodes, [int(p)]) for p in homes.pops]
        routes = HomeRoutes(trees, homes.pops, homes.groups)
        return StepNetwork(ok, isl_delay, feeders, graph, routes)

    def state_at(self, t_ns: int, r_ecef_km: NDArray[np.float64], decision: bool = False) -> StepNetwork:
        """The network at step ``t_ns`` (`step_state`), cached for the instant's slot decision.

        A slot's decision looks at its start and its end, the next slot's
        start: the last two *decision* instants are kept apart from the
        steps', so a run of short steps computes each boundary once.
        """
        # The same instant may be asked for by a step and by slot decisions;
        # positions are compared, so reuse never changes a result.
        for cache in (self._state_cache, self._decision_cache):
            hit = cache.get(int(t_ns))
            if hit is not None and np.array_equal(hit[0], r_ecef_km, equal_nan=True):
                return hit[1]
        state = self.step_state(r_ecef_km, t_ns)
        cache, size = (self._decision_cache, 2) if decision else (self._state_cache, 5)
        if len(cache) >= size:
            cache.pop(next(iter(cache)))
        cache[int(t_ns)] = (np.array(r_ecef_km, copy=True), state)
        return state

    def _fault_masks(self, t_ns: int) -> tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_]]:
        """The faults in force at ``t_ns``: failed satellites bool[S], gateways down bool[W], lasers lost bool[E]."""
        t = np.array([t_ns], dtype=np.int64)
        f = self.faults
        return f.satellite_failed(t)[0], f.gateway_down(t)[0], f.isl_lost(t, len(self.topology))[0]

    def _faults_differ(self, a_ns: int, b_ns: int) -> bool:
        """Whether the faults in force at two instants differ."""
        return any(not np.array_equal(a, b) for a, b in zip(self._fault_masks(a_ns), self._fault_masks(b_ns)))

    def _slot_delay_s(self, t_ns: int, r_ecef_km: NDArray[np.float64], known_ns: int | None = None):
        """The scheduler's routing callback: delays to the home PoPs at ``t_ns``, with the faults known at ``known_ns``.

        A slot is planned at its start: a fault that begins (or ends) before
        its end is not foreseen, so the end's routes keep the start's faults.
        """
        if known_ns is not None and self.faults is not None and self._faults_differ(known_ns, t_ns):
            state = self.step_state(r_ecef_km, t_ns, faults_ns=known_ns)  # not the instant's network: not cached
        else:
            state = self.state_at(t_ns, r_ecef_km, decision=True)
        routes = state.routes_by_home
        if len(routes) == 1:
            return routes[0].delay_s
        delays = np.stack([r.delay_s for r in routes])
        # Moving terminals change home with the time: the scheduler gets each terminal's row of this instant.
        return delays if self.locator is None else (delays, routes.rows(len(self.terminal_sites)))

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
            T steps; its epoch is the scenario epoch.
        r_ecef_km : float64[T, S, 3], km, ECEF
            Satellite positions at those steps (`leonet.orbits.propagate`).

        Returns
        -------
        dict of str to pyarrow.Table
            ``"terminal_steps"``, ``"handovers"``, ``"link_drops"`` and, with
            capacity, ``"cell_load"`` and ``"gateway_load"``
            (`leonet.results.schemas`).
        """
        from .pipeline import run_chunk

        offsets = np.asarray(grid_chunk.offset_ns, dtype=np.int64)
        if r_ecef_km.shape[:2] != (offsets.size, self.nodes.satellites):
            raise ValueError(
                f"r_ecef_km has shape {r_ecef_km.shape}; process_chunk needs [T={offsets.size}, S={self.nodes.satellites}, 3]"
            )
        return run_chunk(self, grid_chunk.epoch_utc, offsets, r_ecef_km)

    def terminal_lasers(self, routes_by_home, s_idx: NDArray[np.int64], routed: NDArray[np.bool_]):
        """Directed laser ids on every routed terminal's path, as a ragged array over terminals.

        Parameters
        ----------
        routes_by_home : list of SatelliteRoutes
            `StepNetwork.routes_by_home`.
        s_idx : int64[G]
            Serving satellite of each terminal.
        routed : bool[G]

        Returns
        -------
        indptr : int64[G + 1]
        ids : int64[indptr[-1]]
            Directed laser ids (link k: 2k from the lower satellite, 2k + 1 back).
        """
        if len(routes_by_home) == 1:
            return self._lasers_of(routes_by_home[0], s_idx, routed)
        # Several homes: walk every terminal's path at once in the homes' forest (node h * N + satellite).
        home = np.zeros(s_idx.size, np.int64)
        for h, group in enumerate(getattr(routes_by_home, "groups", self.home_groups)):
            home[group] = h
        forest = stacked_routes(routes_by_home)
        return self._lasers_of(forest, home * forest.nodes.size + np.asarray(s_idx, dtype=np.int64), routed)

    def _lasers_of(self, routes, s_idx: NDArray[np.int64], routed: NDArray[np.bool_]):
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
