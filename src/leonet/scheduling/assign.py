"""Assign every user terminal a serving satellite for each scheduler slot.

The representation
------------------
An assignment is ``int32[G]``: the serving satellite of each terminal for one
slot, ``-1`` when no satellite stays above the terminal's mask for the whole
slot (reason ``no-satellite``).  It is a pure function of the slot's time:
`SlotScheduler` propagates the satellites itself at the slot's sample times
(`leonet.scheduling.slots.SlotClock.sample_offsets_ns`), so the same slot gets
the same assignment whichever chunk asks for it, and a chunk can recompute
the slot before its first step to record handovers across the boundary.

Policies
--------
Candidates are the satellites above the terminal's mask (the larger of the
terminal's and the satellite shell's) at *every* sample of the slot.  Among
them:

``max-elevation``
    the highest at the slot start.
``min-latency``
    the lowest round trip to a PoP over the slot: the larger of the round
    trips at its start and at its end, each
    ``2 x (uplink + satellite's delay to its nearest PoP)`` from a routing
    state of that instant (a callback, see `SlotScheduler`).  The operator
    plans each slot ahead with the orbits known, so it does not hand a cell
    to a satellite whose route to the PoP breaks up during the slot (its
    gateway setting, say); the end state is the next slot's start state,
    computed once.  A candidate that reaches a PoP at one end only ranks
    after those that reach it at both, by that end's round trip.  When no
    candidate reaches a PoP, the highest candidate is kept; its steps are
    then reported ``no-gateway-path``.  With a *slack* (``[network]
    scheduler_slack_ms``, `SlotScheduler` ``slack_s``) every candidate whose
    round trip is within the slack of the terminal's best counts as equally
    good, and the terminal takes one of them by a keyed draw
    (`slack_draws`): the operator's global scheduler spreads the cells over
    the satellites that serve them about as well, instead of giving each
    cell its nearest one (docs/design.md, "Scheduler slack").
``longest-visible``
    the longest remaining time above the mask from the slot start, looked
    ahead at `LOOKAHEAD_STEP_S` steps up to `LOOKAHEAD_HORIZON_S` (600 s;
    a Starlink pass above 25 deg lasts at most ~4 min, so the horizon
    covers whole passes) with the crossing time interpolated linearly in
    ``sin(elevation) - sin(mask)`` between samples.  Satellites still up
    at the horizon tie at the horizon.

Ties go to the lowest satellite index (deterministic).

Beams
-----
Without beam limits each terminal takes its own best candidate, however
many terminals pick the same satellite.  With them (`CellBeams`, when the
run models capacity) the terminals of a service cell share one satellite
and each satellite serves at most ``beams_per_satellite`` cells: the
policy's metric, taken for each cell's worst terminal, ranks the cell's
candidates, and deferred acceptance matches cells to beams
(`leonet.scheduling.cells_assign`).  A cell left without a beam gets -1
and its terminals' steps are reported ``capacity`` (`SlotScheduler.no_beam`).

Reason codes
------------
`Reason` is an ``int8`` code with names (`REASON_NAMES`): 0 served,
1 no-satellite, 2 no-gateway-path; 3 policy, 4 capacity, 5 fault, 6
inactive and 7 no-position come from the service, capacity and fault layers
and the moving terminals' tracks.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Sequence
from enum import IntEnum
from typing import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sgp4.api import SatrecArray

from ..constants import C_KM_S, NS_PER_S
from ..errors import ScenarioError
from ..links.visibility import GroundLinks, SiteGeometry, pair_sin_elevation, visible_links
from ..orbits.propagate import propagate
from ..timebase import TimeGrid
from .cells_assign import CellBeams, assign_cells, lex_order
from .slots import SlotClock

__all__ = [
    "Reason",
    "REASON_NAMES",
    "POLICIES",
    "LOOKAHEAD_HORIZON_S",
    "LOOKAHEAD_STEP_S",
    "slot_candidates",
    "choose_per_site",
    "remaining_visible_s",
    "slack_draws",
    "SlotScheduler",
]


class Reason(IntEnum):
    """Why a terminal is (not) served at a step; stored as int8."""

    SERVED = 0
    NO_SATELLITE = 1
    NO_GATEWAY_PATH = 2
    POLICY = 3
    CAPACITY = 4
    FAULT = 5
    INACTIVE = 6
    NO_POSITION = 7


#: Names of the reason codes, indexed by code (the dictionary of the table column).
#: ``inactive`` (a fleet terminal outside its active window, a moving terminal
#: before its track starts or after it ends) is not a failure: such
#: terminal-steps are left out of availability.  ``no-position`` (a moving
#: terminal inside its track but on a gap longer than ``max_gap_s``: where it
#: is is unknown) is left out too: the model cannot say whether it was served.
REASON_NAMES = ("served", "no-satellite", "no-gateway-path", "policy", "capacity", "fault", "inactive", "no-position")

POLICIES = ("min-latency", "max-elevation", "longest-visible")

#: Largest scheduler slack, s: beyond it "equally good" would span paths of different continents.
MAX_SLACK_S = 0.1

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix64(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """SplitMix64's finaliser (Steele, Lea & Flood, OOPSLA 2014): a bijection of uint64 that scatters every bit."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def slack_draws(seed: int, slot_start_ns: int, terminal: ArrayLike, sat: ArrayLike) -> NDArray[np.float64]:
    """A uniform in [0, 1) for each (terminal, satellite) pair of one slot, keyed by ``(seed, slot, terminal, sat)``.

    The scheduler's draw among candidates within its slack.  A pure function
    of its arguments (no generator state, integer arithmetic only: the same
    bits on every platform and numpy version), so a slot gets the same draw
    whichever chunk or worker computes it.  Hand-written because the draws
    must be keyed by four integers per pair, which numpy's generators
    (keyed by two words, drawn in sequence) do not offer cheaply.

    Parameters
    ----------
    seed : int
        The scenario seed.
    slot_start_ns : int
        The slot's first sample, ns from the run's epoch (the slot's identity).
    terminal, sat : int[N]
        Terminal and satellite indices of the pairs.

    Returns
    -------
    float64[N]

    Examples
    --------
    >>> u = slack_draws(7, 15_000_000_000, [0, 0, 1], [5, 6, 5])
    >>> bool(((u >= 0) & (u < 1)).all()), bool(np.array_equal(u, slack_draws(7, 15_000_000_000, [0, 0, 1], [5, 6, 5])))
    (True, True)
    """
    with np.errstate(over="ignore"):  # uint64 arithmetic wraps by design
        h = _mix64(np.uint64(int(seed) & 0xFFFFFFFFFFFFFFFF) + _GOLDEN)
        h = _mix64(h ^ np.uint64(int(slot_start_ns) & 0xFFFFFFFFFFFFFFFF))
        h = _mix64(h ^ (np.asarray(terminal, dtype=np.int64).astype(np.uint64) * _GOLDEN))
        h = _mix64(h ^ np.asarray(sat, dtype=np.int64).astype(np.uint64))
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


#: Look-ahead of the ``longest-visible`` policy, s.
LOOKAHEAD_HORIZON_S = 600
#: Its coarse step, s.
LOOKAHEAD_STEP_S = 10


def _sin_need(sites: SiteGeometry, site: NDArray, sat: NDArray, sin_mask_sat: NDArray | None) -> NDArray[np.float64]:
    need = sites.sin_mask[site]
    return need if sin_mask_sat is None else np.maximum(need, sin_mask_sat[sat])


def slot_candidates(
    sites: SiteGeometry,
    first: GroundLinks,
    r_later_ecef_km: NDArray[np.float64],
    later_sats: NDArray[np.int64] | None,
    sin_mask_sat: NDArray[np.float64] | None,
) -> GroundLinks:
    """The (site, satellite) pairs above the mask at every sample of a slot.

    Parameters
    ----------
    sites : SiteGeometry
    first : GroundLinks
        The visible pairs at the slot start (`leonet.links.visibility.visible_links`).
    r_later_ecef_km : float64[n, U, 3], km
        Satellites ``later_sats`` at the slot's other samples.
    later_sats : int64[U] or None
        Which satellites ``r_later_ecef_km`` holds (sorted); None = all S.
    sin_mask_sat : float64[S] or None

    Returns
    -------
    GroundLinks
        Range and elevation at the slot start; sorted by site, satellite.
    """
    links = first
    if len(links) == 0 or r_later_ecef_km.shape[0] == 0:
        return links
    col = links.sat.astype(np.int64) if later_sats is None else _columns(later_sats, links.sat)
    need = _sin_need(sites, links.site, links.sat, sin_mask_sat)
    # Sample by sample, the last (the slot's end, where setting satellites drop out) first: each
    # sample only tests the pairs still kept.  A pair's test does not depend on the others
    # (`pair_sin_elevation`), so this keeps exactly the pairs up at every sample.
    keep = np.arange(len(links))
    for k in range(r_later_ecef_km.shape[0] - 1, -1, -1):
        _rng, sin_el = pair_sin_elevation(sites, links.site[keep], r_later_ecef_km[k, col[keep], :])
        keep = keep[sin_el >= need[keep]]  # NaN (failed propagation) compares False
    return links.take(keep)


def _columns(later_sats: NDArray[np.int64], sat: NDArray) -> NDArray[np.int64]:
    """int64[K]: the column of each of ``sat`` in the sorted ``later_sats`` (every one is there).

    A lookup table, not ``searchsorted``: ~500,000 pairs a slot at 10,000 terminals.
    """
    lookup = np.zeros(int(later_sats[-1]) + 1 if later_sats.size else 0, dtype=np.int64)
    lookup[later_sats] = np.arange(later_sats.size)
    return lookup[sat]


def choose_per_site(
    site: NDArray, sat: NDArray, keys: tuple[NDArray, ...], num_sites: int
) -> NDArray[np.int32]:
    """The best satellite of each site: lowest ``keys`` (most significant last), then lowest index.

    Parameters
    ----------
    site, sat : int[K]
        Candidate pairs.
    keys : tuple of float64[K]
        Sort keys, least significant first (``numpy.lexsort``'s convention).
    num_sites : int

    Returns
    -------
    sat : int32[G], -1 for sites without candidates.
    """
    out = np.full(num_sites, -1, dtype=np.int32)
    if len(site) == 0:
        return out
    order = lex_order((sat, *keys, site))
    s = site[order]
    first = np.r_[True, s[1:] != s[:-1]]
    out[s[first]] = sat[order][first]
    return out


def remaining_visible_s(
    sites: SiteGeometry | Sequence[SiteGeometry],
    links: GroundLinks,
    r_ahead_ecef_km: NDArray[np.float64],
    col: NDArray[np.int64],
    step_s: float,
    sin_mask_sat: NDArray[np.float64] | None,
) -> NDArray[np.float64]:
    """Time each pair stays above its mask, from the first look-ahead sample, s.

    Parameters
    ----------
    sites : SiteGeometry, or a sequence of m of them
        The sites; one geometry per look-ahead time when terminals move (a
        NaN position counts as below the mask).
    links : GroundLinks, K pairs
    r_ahead_ecef_km : float64[m, U, 3], km
        Positions at ``m`` look-ahead times ``0, step, 2 step, ...``.
    col : int64[K]
        Column of each pair's satellite in ``r_ahead_ecef_km``.
    step_s : float
    sin_mask_sat : float64[S] or None

    Returns
    -------
    remaining_s : float64[K]
        Up to ``(m - 1) * step_s`` (the horizon); the crossing is
        interpolated linearly in ``sin(elevation) - sin(mask)``.
    """
    m = r_ahead_ecef_km.shape[0]
    if isinstance(sites, SiteGeometry):
        need = _sin_need(sites, links.site, links.sat, sin_mask_sat)
        _rng, sin_el = pair_sin_elevation(sites, links.site, r_ahead_ecef_km[:, col, :])
    else:  # moving terminals: the sites where they are at each look-ahead time
        need = _sin_need(sites[0], links.site, links.sat, sin_mask_sat)
        sin_el = np.stack([pair_sin_elevation(sites[k], links.site, r_ahead_ecef_km[k, col, :])[1] for k in range(m)])
    margin = np.nan_to_num(sin_el - need, nan=-1.0)  # [m, K]
    below = margin < 0.0
    any_below = below.any(axis=0)
    j = np.where(any_below, np.argmax(below, axis=0), m - 1)
    k = np.arange(margin.shape[1])
    jm = np.maximum(j - 1, 0)
    m0, m1 = margin[jm, k], margin[j, k]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(m0 > m1, m0 / (m0 - m1), 0.0)
    remaining = np.where(any_below & (j > 0), (jm + np.clip(frac, 0.0, 1.0)) * step_s, 0.0)
    return np.where(any_below, remaining, (m - 1) * step_s)


class SlotScheduler:
    """Computes (and remembers) the assignment of any slot from its time alone.

    Parameters
    ----------
    satrecs : list of sgp4 Satrec, [S]
    terminals : SiteGeometry
        G terminals with their masks.
    sin_mask_sat : float64[S]
        Sine of each satellite's shell mask for user terminals.
    clock : SlotClock
    policy : {"min-latency", "max-elevation", "longest-visible"}
    sat_delay_s : callable(t_ns, r_ecef_km[S, 3], known_ns) -> float64[S] or float64[H, S], optional
        One-way delay from each satellite to its nearest PoP at a time (inf
        when none), or to each of H home PoPs, over the network with the
        faults in force at ``known_ns`` (the slot's start: its plan does not
        foresee a gateway or laser fault); needed by ``min-latency``.
    site_home : int[G], optional
        Each terminal's row of a ``[H, S]`` delay (its home PoP).
    ut1_minus_utc_s : float
        As the run's propagation uses it (positions must agree bit for bit).
    cache_slots : int
        Assignments kept (the last ones asked for).
    node_spacing_ns : int, optional
        SGP4 node spacing of the run's propagation (positions must agree).
    satellite_failed : callable(offset_ns int64[n]) -> bool[n, S], optional
        Failed satellites at given times (never candidates).
    cell_beams : CellBeams, optional
        Beam limits: when given, service cells rather than terminals are
        assigned, at most ``beams_per_satellite[s]`` cells per satellite
        (`leonet.scheduling.cells_assign`).  Default: no limit, every
        terminal takes its own best candidate.
    slack_s : float
        ``min-latency`` only: candidates whose round trip is within this of
        the terminal's best are equally good, and a keyed draw
        (`slack_draws` with ``seed``) picks among them; 0 (default) takes the
        best, ties to the lowest satellite index.  At most `MAX_SLACK_S`.
    seed : int
        The scenario seed (the slack's draws).
    motion : leonet.ground.motion.Motion, optional
        The run's moving terminals.  Their rows of ``terminals`` (the first
        fix) are not used: at each sample of a slot a moving terminal is
        where its track puts it, so its satellite stays above the mask from
        the *moving* position for the whole slot.  The slot's choice (its
        metric: range, elevation) is made from the terminal's first position
        in the slot: the slot's start, or the sample where its track begins
        or resumes; samples where it has no position (before, after its
        track, in a gap) do not constrain the choice.  Every step then checks
        the satellite from where the terminal is (the access stage).

    Notes
    -----
    ``sat_delay_s`` may return a pair ``(delay float64[H, S], row int64[G])``:
    the delays to the step's home PoPs and each terminal's row, when the
    homes depend on the time (moving terminals cross borders).
    """

    def __init__(
        self,
        satrecs: list,
        terminals: SiteGeometry,
        sin_mask_sat: NDArray[np.float64],
        clock: SlotClock,
        policy: str = "min-latency",
        sat_delay_s: Callable[[int, NDArray[np.float64]], NDArray[np.float64]] | None = None,
        *,
        site_home: NDArray[np.int64] | None = None,
        ut1_minus_utc_s: float = 0.0,
        cache_slots: int = 8,
        node_spacing_ns: int | None = None,
        satellite_failed: Callable[[NDArray[np.int64]], NDArray[np.bool_]] | None = None,
        cell_beams: CellBeams | None = None,
        motion=None,
        slack_s: float = 0.0,
        seed: int = 0,
    ):
        if policy not in POLICIES:
            raise ScenarioError(f"unknown scheduler policy {policy!r}; use one of {', '.join(POLICIES)}")
        if not 0.0 <= slack_s <= MAX_SLACK_S:
            raise ScenarioError(f"network.scheduler_slack_ms = {slack_s * 1e3:g} is outside [0, {MAX_SLACK_S * 1e3:g}] ms")
        if slack_s > 0.0 and policy != "min-latency":
            raise ScenarioError(f"network.scheduler_slack_ms = {slack_s * 1e3:g} needs policy = \"min-latency\" "
                                f"(it is {policy!r}): the slack is a tolerance on the round trip")
        self.slack_s = float(slack_s)
        self.seed = int(seed)
        if policy == "min-latency" and sat_delay_s is None:
            raise ScenarioError("the min-latency policy needs a routing callback (sat_delay_s)")
        self.satrecs = list(satrecs)
        self.satrec_array = SatrecArray(self.satrecs)
        self.terminals = terminals
        self.sin_mask_sat = np.asarray(sin_mask_sat, dtype=np.float64)
        self.clock = clock
        self.policy = policy
        self.sat_delay_s = sat_delay_s
        self.site_home = None if site_home is None else np.asarray(site_home, dtype=np.int64)
        self.ut1_minus_utc_s = float(ut1_minus_utc_s)
        self.node_spacing_ns = node_spacing_ns
        self.satellite_failed = satellite_failed
        if cell_beams is not None:
            cell_beams.check(len(terminals), len(self.satrecs))
        self.cell_beams = cell_beams
        self.motion = motion if motion is not None and len(motion) else None
        if self.motion is not None:
            moving = np.zeros(len(terminals), dtype=bool)
            moving[self.motion.terminals] = True
            self._static_index = np.flatnonzero(~moving)
            self._static_sites = terminals.take(self._static_index)
        self._cache: OrderedDict = OrderedDict()
        self._cache_slots = int(cache_slots)
        self._epoch: dt.datetime | None = None
        self._held_positions: tuple | None = None

    def _positions(self, epoch: dt.datetime, offsets_ns: NDArray[np.int64], sats: NDArray[np.int64] | None):
        grid = TimeGrid(epoch, np.asarray(offsets_ns, dtype=np.int64))
        array = self.satrec_array if sats is None else SatrecArray([self.satrecs[i] for i in sats])
        # The same SGP4 nodes as the run's propagation: positions at the same
        # instant are then bit-identical (interpolation is element-wise).
        r = propagate(
            array, grid, ut1_minus_utc_s=self.ut1_minus_utc_s, node_spacing_ns=self.node_spacing_ns
        ).r_ecef_km
        if self.satellite_failed is not None:
            failed = self.satellite_failed(grid.offset_ns)
            if sats is not None:
                failed = failed[:, sats]
            r[failed] = np.nan  # a failed satellite is never a candidate
        return r

    def assignment(self, epoch: dt.datetime, key: int) -> NDArray[np.int32]:
        """Serving satellite of every terminal in slot ``key`` (int32[G], -1 none).

        Parameters
        ----------
        epoch : datetime
            The scenario epoch (offset 0); slots are aligned to it.
        key : int
            Slot key (`SlotClock.key`).
        """
        return self._slot(epoch, key)[0]

    def no_beam(self, epoch: dt.datetime, key: int) -> NDArray[np.bool_]:
        """Terminals left without a beam in slot ``key`` (bool[G]; always False without beam limits).

        Such a terminal wanted a beam and had whole-slot candidates, but
        every candidate's beams went to cells that rank it better
        (`leonet.scheduling.cells_assign`); its satellite is -1 and its
        steps are reported ``capacity``.
        """
        return self._slot(epoch, key)[1]

    def _slot(self, epoch: dt.datetime, key: int) -> tuple[NDArray[np.int32], NDArray[np.bool_]]:
        if self._epoch != epoch:
            self._cache.clear()
            self._epoch = epoch
        key = int(key)
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        out = self._compute(epoch, key)
        for a in out:
            a.setflags(write=False)
        self._cache[key] = out
        while len(self._cache) > self._cache_slots:
            self._cache.popitem(last=False)
        return out

    def _sites_at(self, state, k: int) -> SiteGeometry:
        """Every terminal where it is at sample ``k`` of ``state`` (moving ones moved; NaN rows: no position)."""
        return self.terminals.moved(*state.overlay(k, self.terminals.r_ecef_km, self.terminals.enu))

    def _first_links(self, r0: NDArray[np.float64], state) -> GroundLinks:
        """The visible pairs at the slot's start: fixed terminals from their k-d tree, moving ones from where they are."""
        if state is None:
            return visible_links(self.terminals, r0, self.sin_mask_sat)
        fixed = visible_links(self._static_sites, r0, self.sin_mask_sat)
        # Each moving terminal from its first position in the slot (the slot's start, or where its
        # track begins or resumes inside the slot).
        known = state.positioned
        here = known.any(axis=0)
        k = np.argmax(known, axis=0)[here]
        movers = state.terminals[here]
        parts = [GroundLinks(self._static_index[fixed.site].astype(np.int32), fixed.sat, fixed.range_km,
                             fixed.sin_elevation)]
        if movers.size:
            # A k-d tree of the moving terminals where they are (the cached tree assumes fixed sites).
            cols = np.flatnonzero(here)
            geo = self.terminals.take(movers).moved(state.r_ecef_km[k, cols], state.enu[k, cols])
            moving = visible_links(geo, r0, self.sin_mask_sat)
            parts.append(GroundLinks(movers[moving.site].astype(np.int32), moving.sat, moving.range_km,
                                     moving.sin_elevation))
        site = np.concatenate([p.site for p in parts])
        sat = np.concatenate([p.sat for p in parts])
        order = np.lexsort((sat, site))
        return GroundLinks(site[order], sat[order], np.concatenate([p.range_km for p in parts])[order],
                           np.concatenate([p.sin_elevation for p in parts])[order])

    def _whole_slot(self, first: GroundLinks, later: NDArray[np.float64], cand_sats: NDArray[np.int64], state) -> GroundLinks:
        """`slot_candidates`, with moving terminals judged from where they are at each sample."""
        if state is None:
            return slot_candidates(self.terminals, first, later, cand_sats, self.sin_mask_sat)
        if len(first) == 0 or later.shape[0] == 0:
            return first
        col = np.searchsorted(cand_sats, first.sat)
        need = _sin_need(self.terminals, first.site, first.sat, self.sin_mask_sat)
        row = np.full(len(self.terminals), -1, dtype=np.int64)
        row[state.terminals] = np.arange(state.terminals.size)
        mover = row[first.site]
        keep = np.ones(len(first), dtype=bool)
        for k in range(later.shape[0]):
            _rng, sin_el = pair_sin_elevation(self._sites_at(state, k + 1), first.site, later[k, col, :])
            unknown = (mover >= 0) & ~state.positioned[k + 1][np.maximum(mover, 0)]
            keep &= (sin_el >= need) | unknown  # NaN (failed propagation) compares False
        return first.take(np.flatnonzero(keep))

    def _metric(self, epoch, samples, t0, r0, links, state) -> tuple[NDArray[np.int8], NDArray[np.float64]]:
        """Each candidate pair's (tier, value) under the policy, lower first."""
        site, sat = links.site.astype(np.int64), links.sat.astype(np.int64)
        tier = np.zeros(site.size, dtype=np.int8)
        if self.policy == "max-elevation":
            return tier, -links.sin_elevation
        if self.policy == "min-latency":
            rtt = self._round_trip(t0, r0, links, links.range_km, t0)
            if samples.size > 1:
                # The slot's end too: the worse of the two ends (an end without a path ranks the pair lower).
                t1 = int(samples[-1])
                r1 = self._whole_positions(epoch, t1)
                sites = self.terminals if state is None else self._sites_at(state, samples.size - 1)
                end_range, _ = pair_sin_elevation(sites, links.site, r1[links.sat])
                rtt1 = self._round_trip(t1, r1, links, np.where(np.isfinite(end_range), end_range, links.range_km), t0)
                both = np.isfinite(rtt) & np.isfinite(rtt1)
                tier = np.where(both, 0, np.where(np.isfinite(rtt) | np.isfinite(rtt1), 1, 2)).astype(np.int8)
                rtt = np.where(both, np.maximum(rtt, rtt1), np.fmin(rtt, rtt1))
            else:
                tier = np.where(np.isfinite(rtt), 0, 2).astype(np.int8)
            no_path = ~np.isfinite(rtt)
            value = np.where(no_path, -links.sin_elevation, rtt)
            if self.slack_s > 0.0:
                # Within the slack of the site's best: equally good, ranked by the slot's draw (values in
                # [-2, -1), ahead of every round trip; the tier is untouched, so cells still prefer reachable).
                best = np.full(len(self.terminals), np.inf)
                np.minimum.at(best, site, np.where(tier == 0, rtt, np.inf))
                near = (tier == 0) & (rtt <= best[site] + self.slack_s)
                value = np.where(near, slack_draws(self.seed, t0, site, sat) - 2.0, value)
            # Reachable candidates first, by RTT; a site with none keeps its highest.
            return tier, value
        # longest-visible
        m = LOOKAHEAD_HORIZON_S // LOOKAHEAD_STEP_S + 1
        ahead_sats = np.unique(sat)
        offsets = t0 + np.arange(m, dtype=np.int64) * (LOOKAHEAD_STEP_S * NS_PER_S)
        ahead = self._positions(epoch, offsets, ahead_sats)
        col = np.searchsorted(ahead_sats, sat)
        sites = self.terminals
        if state is not None:
            there = self.motion.at(offsets)
            sites = [self._sites_at(there, k) for k in range(m)]
        return tier, -remaining_visible_s(sites, links, ahead, col, float(LOOKAHEAD_STEP_S), self.sin_mask_sat)

    def _whole_positions(self, epoch: dt.datetime, t_ns: int) -> NDArray[np.float64]:
        """Every satellite's position at ``t_ns`` (float64[S, 3]); the last one is kept: a slot's end is the next's start."""
        held = self._held_positions
        if held is not None and held[0] == (epoch, t_ns):
            return held[1]
        r = self._positions(epoch, np.array([t_ns], dtype=np.int64), None)[0]
        r.setflags(write=False)
        self._held_positions = ((epoch, t_ns), r)
        return r

    def _round_trip(self, t_ns: int, r_ecef_km: NDArray[np.float64], links: GroundLinks,
                    range_km: NDArray[np.float64], known_ns: int) -> NDArray[np.float64]:
        """float64[K], s: each pair's round trip to its terminal's PoP at ``t_ns`` (inf: no path), faults of ``known_ns``."""
        out = self.sat_delay_s(t_ns, r_ecef_km, known_ns)
        delays, home = (out if isinstance(out, tuple) else (out, self.site_home))
        delays = np.asarray(delays, dtype=np.float64)
        sat = links.sat.astype(np.int64)
        delay = delays[sat] if delays.ndim == 1 else delays[home[links.site.astype(np.int64)], sat]
        return 2.0 * (range_km / C_KM_S + delay)

    def _compute(self, epoch: dt.datetime, key: int) -> tuple[NDArray[np.int32], NDArray[np.bool_]]:
        g = len(self.terminals)
        none = (np.full(g, -1, dtype=np.int32), np.zeros(g, dtype=bool))
        samples = self.clock.sample_offsets_ns(key)
        t0 = int(samples[0])
        r0 = self._whole_positions(epoch, t0)
        state = None if self.motion is None else self.motion.at(samples)
        first = self._first_links(r0, state)
        if len(first) == 0:
            return none
        cand_sats = np.unique(first.sat).astype(np.int64)
        later = np.zeros((0, cand_sats.size, 3))
        if samples.size > 2:
            later = self._positions(epoch, samples[1:-1], cand_sats)
        if samples.size > 1:
            # The slot's end is the next slot's start: every satellite there, propagated once (`_whole_positions`).
            later = np.concatenate((later, self._whole_positions(epoch, int(samples[-1]))[cand_sats][None]))
        links = self._whole_slot(first, later, cand_sats, state)
        if len(links) == 0:
            return none
        site, sat = links.site.astype(np.int64), links.sat.astype(np.int64)
        # Each policy ranks a pair by (tier, value), lower first; ties go to the lower satellite.
        tier, value = self._metric(epoch, samples, t0, r0, links, state)
        if self.cell_beams is None:
            return choose_per_site(site, sat, (value, tier), g), none[1]
        beams = self.cell_beams
        wants = np.ones(g, dtype=bool) if beams.wants_beam is None else beams.wants_beam(samples).any(axis=0)
        # Only terminals that want no beam keep their own choice: the others' pairs need no ranking here.
        alone = np.flatnonzero(~wants[site])
        own = choose_per_site(site[alone], sat[alone], (value[alone], tier[alone]), g)
        cells = assign_cells(site, sat, tier, value, beams.cells_at(t0), wants, beams.beams_per_satellite)
        # Terminals that want no beam keep their own choice (they take no beam).
        return np.where(wants, cells.sat, own).astype(np.int32), cells.no_beam
