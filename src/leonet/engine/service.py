"""The service layer of a run: fleets, policies, faults and capacity, per step.

`ServiceLayer` is built once per run from the scenario's service tables and
the ground segment.  The network model asks it, per chunk, which terminals
are blocked before any network question arises (inactive fleet, a policy
denies service, jamming), and, per step, to share capacity among the
terminals the network could serve and what a speed test from each would
measure (`speedtest`).  Everything it computes is a function of the step's
time (and the run's seed), never of the chunking.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..errors import ScenarioError
from ..ground.sites import GroundSites
from ..scheduling.assign import Reason

__all__ = ["ServiceLayer", "StepCapacity"]


@dataclass
class StepCapacity:
    """One step's capacity result for every terminal (bit/s) and the load rows (internal units, see `leonet.results.schemas.rows_table`)."""

    throughput_bps: NDArray[np.float64]
    demand_bps: NDArray[np.float64]
    below_min: NDArray[np.bool_]
    cell_rows: dict
    gateway_rows: dict
    #: float64[G]: offered load of each terminal's cell over the cell's capacity (the latency model's queue load).
    utilisation: NDArray[np.float64]
    #: float64[G]: what a speed test would get, down and up (None without the speed-test model).
    speedtest_down_bps: NDArray[np.float64] | None = None
    speedtest_up_bps: NDArray[np.float64] | None = None


class ServiceLayer:
    """Fleets, policies, faults and capacity of a run.

    Parameters
    ----------
    loaded : LoadedScenario
    ground_terminals : GroundSites or None
        Terminals of ``[ground.terminals]`` (not in any fleet).
    gateways : GroundSites
    num_satellites : int
    satellite_constellation : list of str, [S]
        The constellation (source) name of each satellite, for capacity generations.
    constellation : leonet.orbits.constellation.Constellation, optional
        The run's satellites: their names (``generation = "by-name"``) and
        their positions at the epoch (the speed tests' mean capacity in view
        of each place).  Without it, capacity runs have no speed tests.

    Attributes
    ----------
    terminals : GroundSites
        Ground terminals first, then every fleet's terminals.
    fleet_of_terminal : int64[G]
        Fleet index, -1 for ground terminals.
    speedtest : leonet.capacity.speedtest.SpeedTestRun or None
        The speed-test model (with capacity and a constellation).
    """

    def __init__(self, loaded, ground_terminals: GroundSites | None, gateways: GroundSites, num_satellites: int,
                 satellite_constellation: list[str] | None = None, *, constellation=None):
        from ..service.faults import FaultSchedule
        from ..service.fleets import Fleets
        from ..service.policy import PolicyEngine

        spec = loaded.spec
        self.epoch = spec.time.start_utc
        self.step_ns = spec.time.step_ns
        seed = spec.scenario.seed
        self.fleets = Fleets.build(spec.fleets, seed=seed, resolve=loaded.resolve) if spec.fleets else None
        parts = [p for p in (ground_terminals, None if self.fleets is None else self.fleets.terminals) if p is not None]
        if not parts:
            raise ScenarioError(
                f"{loaded.source}: the scenario has gateways but no terminals; add [ground.terminals] or [[fleets]]",
                source=loaded.source,
            )
        self.terminals = GroundSites.concat(parts) if len(parts) > 1 else parts[0]
        from ..ground.motion import Motion

        #: The moving terminals (tracks and routes) and their positions at any step; None if none moves.
        self.motion = Motion.from_sites(self.terminals, self.epoch)
        self.window = (spec.time.start_utc, spec.time.start_utc + dt.timedelta(microseconds=spec.time.duration_ns // 1000))
        n_ground = 0 if ground_terminals is None else len(ground_terminals)
        self.n_ground = n_ground
        fleet_of = np.full(len(self.terminals), -1, dtype=np.int64)
        if self.fleets is not None:
            fleet_of[n_ground:] = self.fleets.fleet_of_terminal
        self.fleet_of_terminal = fleet_of
        fleet_names = [] if self.fleets is None else list(self.fleets.names)
        self.policy = (
            PolicyEngine(spec.policies, self.terminals, fleet_of, fleet_names=fleet_names, resolve=loaded.resolve)
            if spec.policies
            else None
        )
        self.faults = (
            FaultSchedule(spec.faults, gateways, num_satellites, self.terminals, seed, epoch=self.epoch, resolve=loaded.resolve)
            if spec.faults
            else None
        )
        cap = spec.capacity
        self.capacity_spec = cap if cap is not None and cap.enabled else None
        self.capacity = None
        if self.capacity_spec is not None:
            from ..capacity.cells import ServiceCells

            from ..capacity.model import capacity_model

            try:
                self.capacity = capacity_model(
                    self.capacity_spec,
                    num_satellites,
                    gateways.antenna_count,
                    gateway_band=list(gateways.band) if gateways.band else None,
                    satellite_constellation=satellite_constellation,
                    satellite_names=None if constellation is None else list(constellation.names),
                )
            except ValueError as exc:
                raise ScenarioError(f"{loaded.source}: capacity: {exc}", source=loaded.source) from None
            self.cells = ServiceCells.from_sites(self.terminals, self.capacity_spec.h3_resolution)
            self.cell_names = np.array(self.cells.hex_ids(), dtype=object)
            self._hex_names = dict(zip(self.cells.cell_id.tolist(), self.cell_names.tolist()))
            self._mover_cells: dict[int, NDArray[np.uint64]] = {}
            self._check_capacity_inputs(len(gateways))
        self.default_demand_bps = (
            self.capacity_spec.demand_bps if self.capacity_spec is not None else 0.0
        )
        self.speedtest = None
        if self.capacity is not None and constellation is not None:
            self.speedtest = self._speedtest_model(constellation)

    def _speedtest_model(self, constellation):
        """The run's `SpeedTestRun`: the capacity model, the cells, the dish, the network of ``as_of``.

        The mean capacity in view of each place comes from the satellites'
        positions at the epoch (one instant, averaged over longitude:
        `BackgroundLoad.with_mean_visible_capacity`), so every chunk of the
        run, wherever it is computed, uses the same background.
        """
        from ..capacity.speedtest import SpeedTestRun
        from ..orbits.propagate import positions_at

        spec = self.capacity_spec
        cells = self.cells
        first = np.full(cells.n_cells, -1, dtype=np.int64)
        order = np.arange(len(self.terminals))[::-1]
        first[np.asarray(cells.terminal_cell)[order]] = order  # the first terminal of each cell
        countries = [self.terminals.country_iso2[i] for i in first.tolist()]
        subscribers = spec.background_subscribers
        visible = None
        if subscribers != 0 and len(constellation):
            visible = positions_at(constellation, self.epoch).r_ecef_km
        # The background grid is cut to the places terminals can be: moving terminals' every fix counts.
        lat, lon = np.asarray(self.terminals.lat_deg), np.asarray(self.terminals.lon_deg)
        if self.motion is not None:
            lat = np.concatenate([lat, *[tr.lat_deg for tr in self.motion.trajectories]])
            lon = np.concatenate([lon, *[tr.lon_deg for tr in self.motion.trajectories]])
            ok = np.isfinite(lat) & np.isfinite(lon)
            lat, lon = lat[ok], lon[ok]
        return SpeedTestRun(
            self.capacity, cells.terminal_cell, cells.cell_id, lat, lon,
            dish=spec.dish, as_of=self.epoch if spec.as_of is None else spec.as_of, subscribers=subscribers,
            visibility_positions_km=visible, cell_country_iso2=countries,
        )

    def _check_capacity_inputs(self, n_gateways: int) -> None:
        """The invariants `allocate` relies on when it skips the per-step checks (internal: plain errors)."""
        if self.capacity.n_gateways != n_gateways:
            raise RuntimeError(f"capacity model has {self.capacity.n_gateways} gateways, the run {n_gateways}")
        cell = np.asarray(self.cells.terminal_cell)
        if cell.size and (cell.min() < 0 or cell.max() >= self.cells.n_cells):
            raise RuntimeError("a terminal's service cell is outside the cell table")

    # ------------------------------------------------------------------
    @property
    def active(self) -> bool:
        """True when any part of the layer does something."""
        return any(x is not None for x in (self.fleets, self.policy, self.faults, self.capacity, self.motion))

    def motion_at(self, offset_ns: NDArray[np.int64], state=None):
        """The moving terminals at the steps ``offset_ns`` (`leonet.ground.motion.MotionState`), or None.

        ``state`` (already computed for these steps) is returned as it is.
        """
        if self.motion is None:
            return None
        return state if state is not None else self.motion.at(offset_ns)

    def blocked(self, offset_ns: NDArray[np.int64], state=None) -> NDArray[np.int8]:
        """Reason each terminal is blocked at each step before the network is asked, 0 = not blocked.

        Precedence: inactive (a fleet outside its window, a moving terminal
        outside its track's time span), then no-position (a moving terminal
        on a gap of its track), then policy (judged where each terminal is
        at the step), then fault (jamming).

        Parameters
        ----------
        offset_ns : int64[T]
        state : MotionState, optional
            The moving terminals at these steps (computed here when not given).
        """
        from ..ground.motion import INACTIVE, NO_POSITION

        offset_ns = np.asarray(offset_ns, dtype=np.int64)
        t, g = len(offset_ns), len(self.terminals)
        out = np.zeros((t, g), dtype=np.int8)
        state = self.motion_at(offset_ns, state)
        if self.faults is not None:
            step_index = np.floor_divide(offset_ns, self.step_ns)
            out[self.faults.jammed(offset_ns, step_index)] = Reason.FAULT
        if self.policy is not None:
            if state is None:
                out[self.policy.denied(offset_ns, self.epoch)] = Reason.POLICY
            else:
                out[self.policy.denied(offset_ns, self.epoch, state.lat_deg, state.lon_deg, terminals=state.terminals)] = (
                    Reason.POLICY)
        inactive = np.zeros((t, g), dtype=bool)
        if state is not None:
            movers = out[:, state.terminals]
            movers[state.status == NO_POSITION] = Reason.NO_POSITION
            out[:, state.terminals] = movers
            inactive[:, state.terminals] = state.status == INACTIVE
        if self.fleets is not None:
            inactive[:, self.n_ground:] |= ~self.fleets.active(offset_ns, self.epoch)
        out[inactive] = Reason.INACTIVE
        return out

    def demand_bps(self, offset_ns: NDArray[np.int64]) -> NDArray[np.float64]:
        """Demand of every terminal at every step, bit/s ([T, G]); fleets' plans and profiles."""
        t, g = len(offset_ns), len(self.terminals)
        out = np.full((t, g), self.default_demand_bps, dtype=np.float64)
        if self.fleets is not None:
            out[:, self.n_ground:] = self.fleets.demand_bps(offset_ns, self.epoch, self.default_demand_bps)
        if self.faults is not None:
            out *= self.faults.capacity_share(offset_ns)
        return out

    # ------------------------------------------------------------------
    def allocate(
        self,
        t_ns: int,
        sat: NDArray[np.int32],
        gateway: NDArray[np.int32],
        routed: NDArray[np.bool_],
        demand_bps: NDArray[np.float64],
        isl_indptr: NDArray[np.int64],
        isl_ids: NDArray[np.int64],
        n_isl: int,
        *,
        t_unix_ns: int = 0,
        r_ecef_km: NDArray[np.float64] | None = None,
        slant_range_km: NDArray[np.float64] | None = None,
        link_share: NDArray[np.float64] | None = None,
    ) -> StepCapacity:
        """Share one step's capacity among the routed terminals (max-min fair); their speed tests.

        With the speed-test model (`speedtest`; needs ``r_ecef_km`` and
        ``slant_range_km``) the background subscribers share the capacity
        too: throughput, reason capacity and the load rows come from the
        downlink allocation of `leonet.capacity.speedtest.SpeedTestRun.step`
        (beams at the step's link quality, terminals and background), and
        each terminal's speed test from the same allocation, so a speed
        test is never below the terminal's throughput.  Without it,
        `leonet.capacity.allocate.allocate_step` shares among the terminals
        alone.
        """
        demand = np.where(routed, demand_bps, 0.0)
        if self.speedtest is not None and r_ecef_km is not None:
            return self._allocate_with_background(t_ns, t_unix_ns, r_ecef_km, sat, gateway, routed, demand,
                                                  slant_range_km, isl_indptr, isl_ids, n_isl, link_share)
        from ..capacity.allocate import allocate_step

        terminal_cell, n_cells, cell_names = self.cells_at(t_ns)
        alloc = allocate_step(
            self.capacity,
            terminal_cell,
            np.where(routed, sat, -1),
            np.where(routed, gateway, -1),
            demand,
            isl_indptr=isl_indptr,
            isl_edges=isl_ids,
            n_cells=n_cells,
            n_isl=n_isl,
            validate=False,  # the engine's own arrays, checked once when the layer was built (_check_capacity_inputs)
        )
        where = (terminal_cell, n_cells, cell_names)
        return self._step_capacity(t_ns, routed, demand, alloc.throughput_bps, alloc.below_min_rate & routed,
                                   alloc.cell_used_bps, alloc.cell_capacity_bps, alloc.cell_capacity_bps,
                                   alloc.gateway_used_bps, where)

    def _allocate_with_background(self, t_ns, t_unix_ns, r_ecef_km, sat, gateway, routed, demand, slant_range_km,
                                  isl_indptr, isl_ids, n_isl, link_share) -> StepCapacity:
        """`allocate` with the background subscribers in the sharing, and the speed tests."""
        utc_hour = (int(t_unix_ns) % (86400 * 10**9)) / 3.6e12
        cell, cell_id = self._cell_ids_at(t_ns)
        down, up = self.speedtest.step(
            utc_hour, r_ecef_km, np.where(routed, sat, -1), np.where(routed, gateway, -1), demand,
            slant_range_km, isl_indptr=isl_indptr, isl_edges=isl_ids, n_isl=n_isl, link_share=link_share,
            validate=False, cells=None if self.motion is None else (cell, cell_id),
        )
        thr = down.throughput_bps
        flows = down.beamed
        cell_used = np.bincount(cell[flows], weights=thr[flows], minlength=cell_id.size)
        gw_used = np.bincount(np.asarray(gateway)[flows], weights=thr[flows], minlength=self.capacity.n_gateways)
        below = routed & (thr < np.minimum(self.capacity.min_rate_bps, demand) * (1.0 - 1e-9))
        where = (cell, int(cell_id.size), self._cell_names_of(cell_id))
        out = self._step_capacity(t_ns, routed, demand, thr, below, cell_used, down.cell_capacity_bps,
                                  down.cell_beam_bps, gw_used, where)
        out.speedtest_down_bps, out.speedtest_up_bps = down.speedtest_bps, up.speedtest_bps
        return out

    def _step_capacity(self, t_ns, routed, demand, throughput, below_min, cell_used, cell_cap, cell_beam,
                       gateway_used, where) -> StepCapacity:
        """The load rows of a step (`leonet.results.schemas`) and the cells' offered load.

        ``where`` is the step's ``(terminal_cell int[G], n_cells, cell_names[C])`` (`cells_at`).
        """
        terminal_cell, n_cells, cell_names = where
        counts = np.bincount(terminal_cell[routed], minlength=n_cells)
        cells = np.flatnonzero(counts)
        cell_demand = np.bincount(terminal_cell, weights=demand, minlength=n_cells)
        cap = cell_cap
        cell_rows = {
            "t_ns": np.full(cells.size, t_ns, np.int64),
            "cell": cell_names[cells],
            "terminals": counts[cells].astype(np.int32),
            "demand_bps": cell_demand[cells],
            "used_bps": cell_used[cells],
            "capacity_bps": cap[cells],
            "utilisation": np.divide(cell_used[cells], cap[cells], out=np.zeros(cells.size), where=cap[cells] > 0),
        }
        gw_cap = self.capacity.gateway_capacity_bps
        w = gw_cap.size
        with np.errstate(divide="ignore", invalid="ignore"):
            gateway_rows = {
                "t_ns": np.full(w, t_ns, np.int64),
                "gateway": np.arange(w, dtype=np.int32),
                "used_bps": gateway_used,
                "capacity_bps": gw_cap.copy(),
                "utilisation": np.where(gw_cap > 0, gateway_used / np.where(gw_cap > 0, gw_cap, 1.0), np.nan),
            }
            # The latency model's queue load: the terminals' offered load over the beam at its top modulation.
            offered = np.where(cell_beam > 0, cell_demand / cell_beam, np.nan)[terminal_cell]
        return StepCapacity(throughput, demand, below_min, cell_rows, gateway_rows, offered)

    # ------------------------------------------------------------------
    # Service cells where the terminals are
    # ------------------------------------------------------------------

    def prepare_chunk(self, state) -> None:
        """Remember the moving terminals' H3 cells at a chunk's steps (one vectorised pass; `cells_at` reads them)."""
        if self.capacity is None or state is None:
            return
        ids = self._mover_cell_ids(state)
        self._mover_cells = {int(t): ids[i] for i, t in enumerate(state.offset_ns.tolist())}

    def _mover_cell_ids(self, state) -> NDArray[np.uint64]:
        """uint64[T, M]: the H3 cell of each moving terminal at each step (its first fix's cell without a position)."""
        from ..capacity.cells import cell_of

        here = state.positioned
        ids = np.broadcast_to(self.cells.cell_id[self.cells.terminal_cell[state.terminals]], here.shape).copy()
        if here.any():
            ids[here] = cell_of(state.lat_deg[here], state.lon_deg[here], self.cells.resolution)
        return ids

    def cells_at(self, t_ns: int) -> tuple[NDArray[np.intp], int, NDArray]:
        """Each terminal's service cell at step ``t_ns``: ``(terminal_cell int[G], n_cells, names[C])``.

        Fixed terminals keep their cell; a moving terminal is in the H3 cell
        of where it is.  Cells are indexed in H3 order, as `ServiceCells`
        does (the capacity allocator breaks ties by that order).
        """
        terminal_cell, ids = self._cell_ids_at(t_ns)
        return terminal_cell, int(ids.size), self._cell_names_of(ids)

    def _cell_names_of(self, ids: NDArray[np.uint64]) -> NDArray:
        """H3 names of service cells (the run's own array when ``ids`` is the run's)."""
        if ids is self.cells.cell_id:
            return self.cell_names
        names = self._hex_names
        for c in ids.tolist():
            if c not in names:
                names[c] = _hex(c)
        return np.array([names[c] for c in ids.tolist()], dtype=object)

    def _cell_ids_at(self, t_ns: int) -> tuple[NDArray[np.intp], NDArray[np.uint64]]:
        """``(terminal_cell intp[G], cell_id uint64[C])`` at step ``t_ns`` (the run's own without moving terminals)."""
        if self.motion is None:
            return self.cells.terminal_cell, self.cells.cell_id
        ids = self._mover_cells.get(int(t_ns))
        if ids is None:
            ids = self._mover_cell_ids(self.motion.at(np.array([t_ns], dtype=np.int64)))[0]
        every = self.cells.cell_id[self.cells.terminal_cell]
        every[self.motion.terminals] = ids
        uniq, terminal_cell = np.unique(every, return_inverse=True)
        return terminal_cell.astype(np.intp), uniq

    # ------------------------------------------------------------------
    def notes(self) -> list[str]:
        """Human-readable notes: policy overlaps resolved, faults scheduled, tracks read, moving terminals' windows."""
        out = []
        if self.motion is not None:
            out.extend(self.motion.notes())
            out.extend(self.motion.window_notes(*self.window))
        if self.policy is not None:
            out.extend(self.policy.notes())
        if self.faults is not None:
            out.extend(self.faults.notes())
        return out


def _hex(cell: int) -> str:
    """An H3 index as its usual 15-character hex string."""
    import h3

    return h3.int_to_str(int(cell))
