"""Beam-aware slot assignment: service cells, not terminals, get satellites.

The representation
------------------
A satellite points one user beam at one service cell (an H3 hexagon,
`leonet.capacity.cells`) and can hold at most ``beams_per_satellite[s]``
beams at once; every terminal of a cell shares its beam.  When capacity is
modelled, the scheduler therefore assigns *units* to satellites, each unit
taking one beam:

* a **cell unit** is the cell's terminals that want a beam in the slot
  (`CellBeams.wants_beam`) and have at least one whole-slot candidate.  Its
  candidates are the satellites that are whole-slot candidates
  (`leonet.scheduling.assign.slot_candidates`) for *every* one of them, so
  the cell's one satellite stays above every member's mask for the slot.
  Members that see no satellite at all are left out (they get -1,
  ``no-satellite``, whatever the others get): one terminal behind a high
  mask must not cost its neighbours their service.
* when no satellite is common to a cell's members (their skies barely
  overlap; rare for ~17 km hexagons), each member becomes a **terminal
  unit** of its own, with its own candidates: the per-terminal choice of
  the capacity-free scheduler, still bound by the beams.  Two such members
  on one satellite then hold two beams where the capacity model would see
  one (conservative: beams are never over-subscribed).

Terminals that want no beam in the slot (blocked by an inactive fleet, a
policy or jamming, or without demand, at every sample of the slot) take
no beam; they keep the capacity-free per-terminal choice, so their
``sat`` column still shows the satellite that would serve them.

The metric
----------
Each (terminal, satellite) candidate pair carries a *tier* (int, lower
first) and a *value* (float, lower better) set by the policy
(`leonet.scheduling.assign`): min-latency ranks reachable satellites
(tier 0) by round trip, unreachable ones (tier 1) by negated sine of
elevation; max-elevation by negated sine of elevation; longest-visible by
negated remaining visibility.  A unit's metric for a satellite is its
*worst* member's (largest tier, then largest value): the worst round trip,
the lowest elevation, the shortest remaining visibility.  A unit only
considers the satellites of its best tier: a cell that some satellite
connects to a PoP never takes a beam of one that cannot, and ends without
a beam (``capacity``) rather than without a route.

Deferred acceptance
-------------------
`deferred_acceptance` is Gale & Shapley's algorithm with capacities (the
college admissions problem; Gale & Shapley, "College admissions and the
stability of marriage", Amer. Math. Monthly 69, 1962), vectorised in
rounds.  Each round, every unit that holds no beam proposes to its best
satellite not yet tried (best metric, then lowest satellite index);
every satellite keeps, among the units it holds and its new proposals, the
``beams`` best (best metric, then lowest unit index) and rejects the rest,
held ones included; a rejected unit crosses that satellite off.  It stops
when a round has no proposal.

Both sides rank a pair by the same metric, so the total order (metric, unit,
satellite) on pairs agrees with every unit's and every satellite's
preferences.  The stable matching is then unique and equal to the greedy
one that walks the pairs in that order and takes a pair when its unit is
free and its satellite has a free beam (the test suite checks this against
a scalar greedy).  In particular, with beams to spare every unit gets its
own best candidate, exactly as without beams.

Bound: a round that is not the last rejects at least one proposal, and a
unit proposes to a satellite at most once, so there are at most ``K + 1``
rounds for ``K`` candidate pairs; in practice the depth of the queue for
the most wanted satellites (3.4 rounds on average, at most 6, for the
``ukraine`` scenario's 85 cells).  A round sorts the units that hold or
propose, ``O(U log U)``.

Determinism
-----------
Everything is a function of the slot's candidates and metric, which depend
on the slot's time alone; no state is carried from slot to slot, so runs
stay bit-identical whatever their chunking.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ..errors import ScenarioError

__all__ = ["CellBeams", "CellAssignment", "deferred_acceptance", "assign_cells", "lex_order"]


@dataclass(frozen=True)
class CellBeams:
    """The beam limits a scheduler honours.

    Parameters
    ----------
    terminal_cell : int[G]
        Service cell of each terminal (`leonet.capacity.cells.ServiceCells.terminal_cell`).
    beams_per_satellite : int[S]
        Cells each satellite can beam at once (`leonet.capacity.allocate.CapacityModel`).
    wants_beam : callable(offset_ns int64[n]) -> bool[n, G], optional
        Which terminals want a beam at given times (not blocked, some
        demand); a terminal wants one in a slot when it does at any of the
        slot's samples.  Default: every terminal, always.  Must depend on
        the time alone.
    terminal_cell_at : callable(offset_ns int) -> int[G], optional
        The cell of each terminal at a slot's start when terminals move
        (cell indices comparable within the slot); default: ``terminal_cell``.
        Must depend on the time alone.
    """

    terminal_cell: NDArray[np.intp]
    beams_per_satellite: NDArray[np.int64]
    wants_beam: Callable[[NDArray[np.int64]], NDArray[np.bool_]] | None = None
    terminal_cell_at: Callable[[int], NDArray[np.int64]] | None = None

    def cells_at(self, offset_ns: int) -> NDArray[np.int64]:
        """The cell of each terminal at the slot starting at ``offset_ns`` (ns from the epoch)."""
        return self.terminal_cell if self.terminal_cell_at is None else self.terminal_cell_at(int(offset_ns))

    def __post_init__(self) -> None:
        cell = np.array(self.terminal_cell, dtype=np.int64, ndmin=1)
        beams = np.array(self.beams_per_satellite, dtype=np.int64, ndmin=1)
        if cell.ndim != 1 or beams.ndim != 1:
            raise ScenarioError(
                f"terminal_cell and beams_per_satellite must be 1-D, got shapes {cell.shape} and {beams.shape}."
            )
        if cell.size and cell.min() < 0:
            raise ScenarioError(f"terminal_cell must be >= 0 (a cell index), got minimum {cell.min()}.")
        if beams.size and beams.min() < 0:
            raise ScenarioError(f"beams_per_satellite must be >= 0, got minimum {beams.min()}.")
        for name, arr in (("terminal_cell", cell), ("beams_per_satellite", beams)):
            arr.flags.writeable = False
            object.__setattr__(self, name, arr)

    def check(self, num_terminals: int, num_satellites: int) -> None:
        """Raise `ScenarioError` unless the arrays fit G terminals and S satellites."""
        if self.terminal_cell.size != num_terminals or self.beams_per_satellite.size != num_satellites:
            raise ScenarioError(
                f"beam limits are for {self.terminal_cell.size} terminals and {self.beams_per_satellite.size} "
                f"satellites, the scheduler has {num_terminals} terminals and {num_satellites} satellites."
            )


class CellAssignment(NamedTuple):
    """One slot's beam-aware assignment (`assign_cells`).

    Attributes
    ----------
    sat : int32[G]
        Serving satellite of each terminal that wants a beam, -1 none; -1
        for the others too (the caller chooses for them).
    no_beam : bool[G]
        Terminals that want a beam and have candidates but got none: every
        candidate's beams went to units that rank it better.
    unit : int64[G]
        The unit of each terminal that wants a beam and has candidates
        (cell units first, by cell, then terminal units by terminal), -1
        otherwise.
    rounds : int
        Rounds of deferred acceptance.
    """

    sat: NDArray[np.int32]
    no_beam: NDArray[np.bool_]
    unit: NDArray[np.int64]
    rounds: int


def lex_order(keys: tuple[NDArray, ...]) -> NDArray[np.intp]:
    """``numpy.lexsort(keys)`` (last key most significant), faster for the scheduler's big sorts.

    Parameters
    ----------
    keys : tuple of int or float64 arrays, each [K]
        Integer keys >= 0 or floats (NaN sorts last, all NaNs equal), as
        ``numpy.lexsort`` takes them.

    Returns
    -------
    intp[K]
        The same permutation ``numpy.lexsort`` returns.

    Notes
    -----
    ``lexsort`` makes one stable merge sort per key: ~90 ms for the
    ~370,000 candidate pairs of a 10,000-terminal slot.  Here each float key
    is replaced by its dense rank (one quicksort; equal values, -0.0 and 0.0
    included, share a rank, as they tie in ``lexsort``), the keys are packed
    into one int64 (mixed radix) and sorted once; the pairs come nearly
    sorted by their most significant keys, which quicksort handles well.
    When the packed keys repeat (rows equal in every key, whose order only
    a stable sort fixes) or would not fit in 63 bits, ``lexsort`` itself
    runs.
    """
    k = keys[0].size if keys else 0
    if k == 0:
        return np.lexsort(keys)
    digits, radix = [], []
    for key in keys:
        key = np.asarray(key)
        if key.dtype.kind == "f":
            key = _dense_rank(key)
        elif key.dtype.kind not in "iub" or (key.size and key.min() < 0):
            return np.lexsort(keys)
        digits.append(key.astype(np.int64, copy=False))
        radix.append(int(key.max()) + 1)
    if np.prod([float(r) for r in radix]) >= 2.0**62:
        return np.lexsort(keys)
    packed = digits[-1].copy()
    for digit, base in zip(digits[-2::-1], radix[-2::-1]):
        packed *= base
        packed += digit
    order = np.argsort(packed)
    ordered = packed[order]
    if (ordered[1:] == ordered[:-1]).any():
        return np.lexsort(keys)
    return order


def _dense_rank(x: NDArray[np.float64]) -> NDArray[np.int64]:
    """int64[K]: rank of each value among the distinct values of ``x`` (NaNs one rank, the last)."""
    order = np.argsort(x)
    xs = x[order]
    step = np.zeros(xs.size, dtype=np.int64)
    new = xs[1:] != xs[:-1]
    new &= ~(np.isnan(xs[1:]) & np.isnan(xs[:-1]))  # NaNs sort last and are one value, as in lexsort
    step[1:] = new
    rank = np.empty(xs.size, dtype=np.int64)
    rank[order] = np.cumsum(step)
    return rank


def deferred_acceptance(
    unit: NDArray[np.int64],
    sat: NDArray[np.int64],
    keys: tuple[NDArray, ...],
    beams: NDArray[np.int64],
    num_units: int,
) -> tuple[NDArray[np.int64], int]:
    """Match units to satellites, each satellite taking at most ``beams[s]`` units.

    Parameters
    ----------
    unit, sat : int64[K]
        Candidate pairs (each pair at most once).
    keys : tuple of [K] arrays
        The pair's metric, least significant first (``numpy.lexsort``'s
        convention); lower is better, for the unit and the satellite alike.
    beams : int64[S]
    num_units : int

    Returns
    -------
    match : int64[num_units]
        Satellite of each unit, -1 none.
    rounds : int
        Rounds run (at most ``K + 1``).

    Notes
    -----
    Unit-proposing deferred acceptance in vectorised rounds; see the module
    docstring.  Units prefer (metric, satellite), satellites (metric, unit),
    both ascending.

    Examples
    --------
    Three units all prefer satellite 0, which has one beam; the best metric wins it.

    >>> m, _ = deferred_acceptance(np.array([0, 0, 1, 2, 2]), np.array([0, 1, 0, 0, 1]),
    ...                            (np.array([3, 5, 1, 2, 4]),), np.array([1, 1]), 3)
    >>> m.tolist()
    [-1, 0, 1]
    """
    match = np.full(num_units, -1, dtype=np.int64)
    if unit.size == 0 or num_units == 0:
        return match, 0
    order = lex_order((sat, *keys, unit))
    u, s = unit[order], sat[order]
    k = [key[order] for key in keys]
    ids = np.arange(num_units)
    ptr = np.searchsorted(u, ids, side="left")  # next candidate in each unit's list
    end = np.searchsorted(u, ids, side="right")
    held = np.zeros(num_units, dtype=bool)
    limit = unit.size + 1
    rounds = 0
    while True:
        proposing = ~held & (ptr < end)
        if not proposing.any():
            break
        rounds += 1
        if rounds > limit:  # cannot happen: every round but the last rejects a proposal
            raise RuntimeError("deferred acceptance did not converge; please report this as a bug")
        pool = np.flatnonzero(held | proposing)  # ascending: ties go to the lower unit
        p = ptr[pool]
        ps = s[p]
        o = np.lexsort((pool, *[key[p] for key in k], ps))
        pool, ps = pool[o], ps[o]
        first = np.empty(pool.size, dtype=bool)
        first[0] = True
        np.not_equal(ps[1:], ps[:-1], out=first[1:])
        idx = np.arange(pool.size)
        rank = idx - np.maximum.accumulate(np.where(first, idx, 0))  # place in its satellite's queue
        keep = rank < beams[ps]
        held[:] = False
        held[pool[keep]] = True
        ptr[pool[~keep]] += 1
    match[held] = s[ptr[held]]
    return match, rounds


def assign_cells(
    site: NDArray,
    sat: NDArray,
    tier: NDArray,
    value: NDArray[np.float64],
    cell_of_site: NDArray[np.int64],
    wants: NDArray[np.bool_],
    beams: NDArray[np.int64],
) -> CellAssignment:
    """Satellites of the terminals of one slot, one beam per cell (see the module docstring).

    Parameters
    ----------
    site, sat : int[K]
        Whole-slot candidate pairs (terminal, satellite), each at most once.
    tier : int[K]
        Coarse rank of each pair, lower first.
    value : float64[K]
        Policy metric of each pair, lower better; finite.
    cell_of_site : int64[G]
    wants : bool[G]
        Terminals that want a beam in the slot.
    beams : int64[S]

    Returns
    -------
    CellAssignment

    Notes
    -----
    One sort of the K pairs by (cell, satellite) gives every cell's common
    candidates and its worst member's metric; deferred acceptance then runs
    on the units' candidate pairs.  About 2-3 ms a slot for 200 terminals
    in 85 cells with 65 candidates each (the ``ukraine`` scenario), against
    ~40 ms for the slot's propagation and candidate search.
    """
    site = np.asarray(site, dtype=np.int64)
    sat = np.asarray(sat, dtype=np.int64)
    tier = np.asarray(tier, dtype=np.int64)
    value = np.asarray(value, dtype=np.float64)
    g = cell_of_site.size
    n_sat = beams.size
    out = np.full(g, -1, dtype=np.int32)
    no_beam = np.zeros(g, dtype=bool)
    unit_of = np.full(g, -1, dtype=np.int64)
    keep = wants[site]
    site, sat, tier, value = site[keep], sat[keep], tier[keep], value[keep]
    if site.size == 0:
        return CellAssignment(out, no_beam, unit_of, 0)
    has = np.zeros(g, dtype=bool)
    has[site] = True
    # Members of each cell that can be served at all.
    members = np.bincount(cell_of_site[has], minlength=int(cell_of_site.max()) + 1)
    # (cell, satellite) groups: how many members can use the satellite, and
    # the worst member's (tier, value), lexicographically.
    order = np.argsort(cell_of_site[site] * n_sat + sat, kind="stable")
    key = cell_of_site[site[order]] * n_sat + sat[order]
    first = np.empty(key.size, dtype=bool)
    first[0] = True
    np.not_equal(key[1:], key[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    count = np.diff(np.append(starts, key.size))
    t_sorted = tier[order]
    g_tier = np.maximum.reduceat(t_sorted, starts)
    at_worst = t_sorted == np.repeat(g_tier, count)
    g_value = np.maximum.reduceat(np.where(at_worst, value[order], -np.inf), starts)
    g_cell, g_sat = key[starts] // n_sat, key[starts] % n_sat
    everyone = count == members[g_cell]
    common = np.zeros(members.size, dtype=bool)
    common[g_cell[everyone]] = True
    # Units: cells with a common candidate (numbered by cell), then the
    # members of the others, one each (numbered by terminal).
    cell_units = np.flatnonzero(common)
    in_cell = has & common[cell_of_site]
    alone = np.flatnonzero(has & ~common[cell_of_site])
    unit_of[in_cell] = np.searchsorted(cell_units, cell_of_site[in_cell])
    unit_of[alone] = cell_units.size + np.arange(alone.size)
    n_units = cell_units.size + alone.size
    lone = np.flatnonzero(~common[cell_of_site[site]])
    u = np.concatenate([np.searchsorted(cell_units, g_cell[everyone]), unit_of[site[lone]]])
    us = np.concatenate([g_sat[everyone], sat[lone]])
    ut = np.concatenate([g_tier[everyone], tier[lone]])
    uv = np.concatenate([g_value[everyone], value[lone]])
    # A unit considers only the satellites of its best tier.
    best = np.full(n_units, np.iinfo(np.int64).max)
    np.minimum.at(best, u, ut)
    top = ut == best[u]
    match, rounds = deferred_acceptance(u[top], us[top], (uv[top], ut[top]), beams, n_units)
    served = unit_of >= 0
    out[served] = match[unit_of[served]]
    no_beam[served] = match[unit_of[served]] < 0
    return CellAssignment(out, no_beam, unit_of, rounds)
