"""Sharing capacity: max-min fair rates for the terminals of one time step.

The representation
------------------
A *flow* is one terminal's forward (downlink) traffic: gateway -> feeder ->
satellite(s) over laser links -> serving satellite -> user beam -> terminal.
A *resource* is anything of finite capacity a flow crosses.  Flows and
resources meet in a 0/1 *incidence matrix* ``A``, a
``scipy.sparse.csr_array`` of shape ``(F, R)``: ``A[f, r] = 1`` when flow
``f`` crosses resource ``r``.  A stored entry is an incidence; an absent
entry is none (as in csgraph, where a missing edge is absent, never 0).
Per step, leonet's resources are, in column order:

==============  ==========================================  ===================================
block           one column per                              capacity
==============  ==========================================  ===================================
beams           (serving satellite, cell) pair given a beam  ``beam_capacity_bps[sat]``
satellites      serving satellite in use                    ``satellite_capacity_bps[sat]``
gateways        gateway in use                              ``gateway_capacity_bps[gw]``
laser links     ISL resource id on some flow's path          ``isl_capacity_bps``
==============  ==========================================  ===================================

Max-min fairness
----------------
Rates ``x`` are *max-min fair* when no flow can get more without taking from
a flow that has no more than it.  Equivalently (Bertsekas & Gallager, *Data
Networks*, 2nd ed., 1992, sec. 6.5.2, Proposition): every flow is either at
its demand or crosses a *bottleneck* - a saturated resource on which no
other flow has a larger rate.  Progressive filling finds them: raise every
unfrozen flow's rate at the same pace; when a resource saturates, freeze
its flows; when a flow reaches its demand, freeze it; repeat.

`max_min_fair` runs progressive filling in rounds of sparse, vectorised
steps, and freezes *every* resource that is a local bottleneck in one round
rather than only the globally tightest one.  In a round, let ``L_r`` be
resource ``r``'s fair level (remaining capacity / number of unfrozen flows
on it), ``m_f`` the smallest level on flow ``f``'s path and ``d_f`` its
demand.  Then

* a flow with ``d_f <= m_f`` ends at ``d_f``;
* a resource with ``L_r <= min(m_f, d_f)`` for every unfrozen flow ``f`` on
  it ends saturated, every one of those flows at ``L_r``.

Both hold because in progressive filling flows freeze in increasing order
of level, and a flow that freezes at a level ``x <= L_r`` leaves ``L_r``
the same or higher: ``(C - x) / (n - 1) >= C / n`` iff ``x <= C / n``.  So
levels never fall, and nothing can stop the flows of a local minimum below
it.  The globally tightest resource (or smallest demand) is always such a
local minimum, so each round freezes at least one flow.

Cost and the number of rounds
-----------------------------
A round is a handful of O(nnz) numpy passes (gathers, ``bincount``,
``minimum.reduceat``) over the incidence.  The number of rounds is at most
the number of distinct levels at which flows freeze (so at most
``min(F, R + number of distinct demands)``), and in practice is the depth of
the chain of bottlenecks that depend on one another - beam-limited cells
freeze together in round 1, then satellites, gateways and laser links whose
level rises as those flows leave.  See bench/bench_capacity.py.

Flow classes
------------
Terminals with the same beam, gateway, laser path and demand have identical
rows and get the same max-min fair rate (the allocation is unique and
symmetric), so `allocate_step` gives each such *class* one row with a weight
(its number of terminals): a resource's level is its remaining capacity over
the summed weight of its unfrozen classes.  Classes are found exactly, with
no hashing: terminals are sorted by (satellite, cell, gateway, demand), and
a terminal whose path differs from the first of its run becomes a class of
its own.  With 10,000 terminals in 300 cells the kernel then runs on a few
hundred rows instead of 10,000.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import scipy.sparse
from numpy.typing import ArrayLike, NDArray

from ..errors import ScenarioError
from .params import (
    DEFAULT_DEMAND_BPS,
    DEFAULT_GENERATION,
    GATEWAY_ANTENNA_CAPACITY_BPS,
    MIN_RATE_BPS,
    generation,
)

__all__ = [
    "max_min_fair",
    "CapacityModel",
    "StepAllocation",
    "allocate_step",
    "check_step_inputs",
    "StepInputs",
    "gateway_capacity_bps",
]

#: Relative tolerance of "equal levels" in the rounds.  Levels that tie
#: exactly in real arithmetic may differ by a few ulps after subtractions.
_RTOL = 1e-12


# --------------------------------------------------------------------------
# The kernel: progressive filling on a flow x resource incidence
# --------------------------------------------------------------------------


def _progressive_filling(
    row_of: NDArray[np.intp],
    col_of: NDArray[np.intp],
    row_ptr: NDArray[np.intp],
    demand: NDArray[np.float64],
    capacity: NDArray[np.float64],
    weight: NDArray[np.float64] | None = None,
) -> tuple[NDArray[np.float64], int]:
    """Max-min fair rates; trusted inputs.

    ``row_of[e]``, ``col_of[e]`` are the flow and resource of incidence entry
    ``e``, entries sorted by flow; ``row_ptr`` (F + 1) delimits each flow's
    entries.  ``weight[f]`` (default 1) makes row ``f`` stand for that many
    identical flows (same resources, same demand), which max-min fairness
    gives the same rate.  Returns the per-flow rates and the number of rounds.

    Works on the entries of unfrozen flows only, compacted after every round
    (they stay sorted by flow, so per-flow minima are one ``reduceat``).  No
    sort by resource is needed: a resource fails to be a local bottleneck
    exactly when one of its flows would freeze below its level, which one
    ``bincount`` over the entries detects.
    """
    n_flows = demand.size
    n_res = capacity.size
    rate = np.zeros(n_flows)
    remaining = capacity.astype(np.float64, copy=True)
    # Flows that cross nothing get their demand; flows that want nothing, 0.
    bare = (row_ptr[1:] == row_ptr[:-1]) & (demand > 0.0)
    rate[bare] = demand[bare]
    live = (demand > 0.0)[row_of]
    e_row, e_col = row_of[live], col_of[live]
    e_w = None if weight is None else weight[e_row]
    rounds = 0
    while e_row.size:
        rounds += 1
        if rounds > n_flows + 1:  # cannot happen: each round freezes a flow
            raise RuntimeError("progressive filling did not converge; please report this as a bug")
        first = np.empty(e_row.size, dtype=bool)
        first[0] = True
        np.not_equal(e_row[1:], e_row[:-1], out=first[1:])
        starts = np.flatnonzero(first)
        flow_of_e = np.cumsum(first) - 1  # entry -> position among the unfrozen flows
        rows = e_row[starts]
        n_on = np.bincount(e_col, weights=e_w, minlength=n_res)
        with np.errstate(divide="ignore", invalid="ignore"):
            level = np.where(n_on > 0, np.maximum(remaining, 0.0) / n_on, np.inf)
        level_e = level[e_col]
        m = np.minimum.reduceat(level_e, starts)  # tightest level on each flow
        x = np.minimum(m, demand[rows])  # the rate each flow would freeze at
        x_e = x[flow_of_e]
        # A resource is a local bottleneck unless one of its flows would
        # freeze below its level (held by a tighter resource or its demand).
        spoiled = np.bincount(e_col, weights=x_e * (1.0 + _RTOL) < level_e, minlength=n_res) > 0
        bottleneck = (n_on > 0) & ~spoiled
        hit = np.logical_or.reduceat(bottleneck[e_col], starts)
        freeze = hit | (demand[rows] <= m * (1.0 + _RTOL))
        rate[rows[freeze]] = x[freeze]
        frozen_e = freeze[flow_of_e]
        load_e = x_e[frozen_e] if e_w is None else x_e[frozen_e] * e_w[frozen_e]
        with np.errstate(invalid="ignore"):  # inf - inf on an unbounded resource
            remaining -= np.bincount(e_col[frozen_e], weights=load_e, minlength=n_res)
        remaining[np.isinf(capacity)] = np.inf  # an unbounded resource stays unbounded whatever froze on it
        e_row, e_col = e_row[~frozen_e], e_col[~frozen_e]
        if e_w is not None:
            e_w = e_w[~frozen_e]
    return rate, rounds


def max_min_fair(
    demand_bps: ArrayLike,
    incidence: scipy.sparse.sparray | scipy.sparse.spmatrix | ArrayLike,
    capacity_bps: ArrayLike,
) -> NDArray[np.float64]:
    """Max-min fair rates of flows sharing capacitated resources.

    Parameters
    ----------
    demand_bps : float64[F], bit/s
        What each flow wants; >= 0, ``inf`` for "as much as it can get".
    incidence : scipy.sparse.csr_array, (F, R), 0/1
        ``incidence[f, r] = 1`` when flow ``f`` crosses resource ``r``.  Any
        scipy sparse format or a dense array is accepted; stored zeros are
        ignored.
    capacity_bps : float64[R], bit/s
        Capacity of each resource; >= 0, ``inf`` allowed.

    Returns
    -------
    rate_bps : float64[F], bit/s
        The max-min fair rates: ``rate <= demand``, and on every resource
        the rates of its flows sum to at most its capacity.  A flow with
        infinite demand that crosses no finite resource gets ``inf``.

    Raises
    ------
    leonet.errors.ScenarioError
        If shapes disagree, a demand or capacity is negative or NaN, or the
        incidence holds a value other than 0 or 1.

    Notes
    -----
    Progressive filling (water-filling), vectorised over flows and
    resources, freezing every local bottleneck per round; see the module
    docstring for the algorithm, why it is exact, and its cost.

    Examples
    --------
    Two links of 10 and 4; flow A uses link 1, B both, C link 2 (Bertsekas
    & Gallager's textbook case): C and B split link 2, A takes the rest.

    >>> import numpy as np, scipy.sparse
    >>> A = scipy.sparse.csr_array(np.array([[1, 0], [1, 1], [0, 1]]))
    >>> max_min_fair(np.full(3, np.inf), A, [10.0, 4.0]).tolist()
    [8.0, 2.0, 2.0]
    """
    demand = np.asarray(demand_bps, dtype=np.float64)
    capacity = np.asarray(capacity_bps, dtype=np.float64)
    if demand.ndim != 1 or capacity.ndim != 1:
        raise ScenarioError(
            f"demand_bps and capacity_bps must be 1-D, got shapes {demand.shape} and {capacity.shape}."
        )
    a = scipy.sparse.csr_array(incidence)
    if a.shape != (demand.size, capacity.size):
        raise ScenarioError(
            f"incidence has shape {a.shape} but there are {demand.size} demands (flows, rows) and "
            f"{capacity.size} capacities (resources, columns); it must be (flows, resources)."
        )
    _check_nonnegative("demand_bps", demand)
    _check_nonnegative("capacity_bps", capacity)
    a = a.copy()
    a.sum_duplicates()
    a.eliminate_zeros()
    if a.nnz and not np.all(a.data == 1):
        bad = np.unique(a.data[a.data != 1])[:5]
        raise ScenarioError(
            f"incidence must be 0/1 (a flow crosses a resource or not), found values {bad.tolist()}; "
            "list a resource once per flow."
        )
    a.sort_indices()
    row_ptr = a.indptr.astype(np.intp)
    col_of = a.indices.astype(np.intp)
    row_of = np.repeat(np.arange(demand.size, dtype=np.intp), np.diff(row_ptr))
    rate, _ = _progressive_filling(row_of, col_of, row_ptr, demand, capacity)
    return rate


def _check_nonnegative(name: str, values: NDArray[np.float64]) -> None:
    bad = np.isnan(values) | (values < 0)
    if bad.any():
        idx = np.flatnonzero(bad)
        shown = ", ".join(f"[{i}] = {values[i]!r}" for i in idx[:5])
        raise ScenarioError(
            f"{name} must be >= 0 and not NaN; {idx.size} entries are not: {shown}{' ...' if idx.size > 5 else ''}."
        )


# --------------------------------------------------------------------------
# The per-step model
# --------------------------------------------------------------------------


def gateway_capacity_bps(
    antenna_count: ArrayLike,
    band: Sequence[str] | None = None,
    per_antenna_bps: float | None = None,
) -> NDArray[np.float64]:
    """Forward (feeder) capacity of each gateway, bit/s.

    Parameters
    ----------
    antenna_count : int[W]
        Antennas per gateway (``GroundSites.antenna_count``).
    band : sequence of str, [W], optional
        Feeder band per gateway (``GroundSites.band``: ``"Ka"``, ``"E"``,
        ``"Ka+E"`` or ``""``); picks the per-antenna rate from
        `leonet.capacity.params.GATEWAY_ANTENNA_CAPACITY_BPS`.  Default: Ka.
    per_antenna_bps : float, optional
        One rate for every antenna, overriding *band*.

    Returns
    -------
    capacity_bps : float64[W], bit/s
        ``antenna_count * per-antenna rate``.

    Examples
    --------
    >>> gateway_capacity_bps([8, 32], ["Ka", "E"]).tolist()
    [160000000000.0, 1536000000000.0]
    """
    count = np.asarray(antenna_count, dtype=np.float64)
    if count.ndim != 1 or np.any(count < 0) or np.any(~np.isfinite(count)):
        raise ScenarioError(f"antenna_count must be a 1-D array of counts >= 0, got {np.asarray(antenna_count)!r}.")
    if per_antenna_bps is not None:
        if not per_antenna_bps >= 0:
            raise ScenarioError(f"per_antenna_bps must be >= 0, got {per_antenna_bps!r}.")
        return count * float(per_antenna_bps)
    if band is None:
        return count * GATEWAY_ANTENNA_CAPACITY_BPS["Ka"]
    band = list(band)
    if len(band) != count.size:
        raise ScenarioError(f"band has {len(band)} entries but antenna_count has {count.size}; give one per gateway.")
    unknown = sorted({b for b in band if b not in GATEWAY_ANTENNA_CAPACITY_BPS})
    if unknown:
        raise ScenarioError(
            f"no per-antenna rate for gateway band(s) {unknown}; known bands: "
            f"{sorted(k for k in GATEWAY_ANTENNA_CAPACITY_BPS if k)} (or pass per_antenna_bps)."
        )
    return count * np.array([GATEWAY_ANTENNA_CAPACITY_BPS[b] for b in band], dtype=np.float64)


@dataclass(frozen=True)
class CapacityModel:
    """Capacities of every satellite and gateway of a run (built once per run).

    Attributes
    ----------
    satellite_capacity_bps : float64[S], bit/s
        Total user-downlink capacity of each satellite.
    beams_per_satellite : int64[S]
        Cells each satellite can beam at once.
    beam_capacity_bps : float64[S], bit/s
        Capacity of one beam (one cell) of each satellite.
    gateway_capacity_bps : float64[W], bit/s
        Feeder capacity of each gateway (see `gateway_capacity_bps`).
    isl_capacity_bps : float, bit/s
        Capacity of one laser-link resource.
    min_rate_bps : float, bit/s
        Below this (and below its demand) a routed terminal counts as
        unserved for lack of capacity.
    """

    satellite_capacity_bps: NDArray[np.float64]
    beams_per_satellite: NDArray[np.int64]
    beam_capacity_bps: NDArray[np.float64]
    gateway_capacity_bps: NDArray[np.float64]
    isl_capacity_bps: float
    min_rate_bps: float = MIN_RATE_BPS

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        sat = np.array(self.satellite_capacity_bps, dtype=np.float64, ndmin=1)
        n = sat.size
        beams = np.broadcast_to(np.asarray(self.beams_per_satellite), (n,)).astype(np.int64)
        beam = np.broadcast_to(np.asarray(self.beam_capacity_bps, dtype=np.float64), (n,)).copy()
        gw = np.array(self.gateway_capacity_bps, dtype=np.float64, ndmin=1)
        for name, arr in (("satellite_capacity_bps", sat), ("beam_capacity_bps", beam), ("gateway_capacity_bps", gw)):
            _check_nonnegative(name, arr)
        if np.any(beams < 0):
            raise ScenarioError(f"beams_per_satellite must be >= 0, got minimum {beams.min()}.")
        if not self.isl_capacity_bps >= 0:
            raise ScenarioError(f"isl_capacity_bps must be >= 0, got {self.isl_capacity_bps!r}.")
        if not (np.isfinite(self.min_rate_bps) and self.min_rate_bps >= 0):
            raise ScenarioError(f"min_rate_bps must be finite and >= 0, got {self.min_rate_bps!r}.")
        for name, arr in (("satellite_capacity_bps", sat), ("beams_per_satellite", beams),
                          ("beam_capacity_bps", beam), ("gateway_capacity_bps", gw)):
            arr.flags.writeable = False
            set_(self, name, arr)
        set_(self, "isl_capacity_bps", float(self.isl_capacity_bps))
        set_(self, "min_rate_bps", float(self.min_rate_bps))

    @property
    def n_satellites(self) -> int:
        return int(self.satellite_capacity_bps.size)

    @property
    def n_gateways(self) -> int:
        return int(self.gateway_capacity_bps.size)

    @classmethod
    def uniform(
        cls,
        n_satellites: int,
        gateway_capacity_bps: ArrayLike,
        generation_name: str = DEFAULT_GENERATION,
        min_rate_bps: float = MIN_RATE_BPS,
    ) -> CapacityModel:
        """Every satellite of one generation (`leonet.capacity.params.GENERATIONS`).

        Examples
        --------
        >>> m = CapacityModel.uniform(3, gateway_capacity_bps([8]))
        >>> m.beams_per_satellite.tolist(), m.gateway_capacity_bps.tolist()
        ([16, 16, 16], [160000000000.0])
        """
        gen = generation(generation_name)
        return cls(
            satellite_capacity_bps=np.full(n_satellites, gen.satellite_capacity_bps),
            beams_per_satellite=np.full(n_satellites, gen.beams_per_satellite),
            beam_capacity_bps=np.full(n_satellites, gen.beam_capacity_bps),
            gateway_capacity_bps=gateway_capacity_bps,
            isl_capacity_bps=gen.isl_capacity_bps,
            min_rate_bps=min_rate_bps,
        )


@dataclass(frozen=True)
class StepAllocation:
    """What capacity sharing gave each terminal, cell and gateway in one step.

    Attributes
    ----------
    throughput_bps : float64[G], bit/s
        Allocated rate of each terminal (0 when unrouted or without a beam).
    demand_bps : float64[G], bit/s
        The demand that was allocated against (after the multiplier).
    routed : bool[G]
        The terminal had a serving satellite and a gateway this step.
    no_beam : bool[G]
        Routed, with demand, but its cell was not among the
        ``beams_per_satellite`` cells its satellite beamed.
    below_min_rate : bool[G]
        Routed and ``throughput < min(min_rate_bps, demand)``: unserved for
        reason *capacity* (includes ``no_beam``).
    cell_used_bps, cell_capacity_bps : float64[C], bit/s
        Traffic into each cell and the sum of the beams pointed at it.
    cell_utilisation : float64[C]
        ``used / capacity``; NaN where no beam points at the cell.
    gateway_used_bps, gateway_capacity_bps, gateway_utilisation : float64[W]
        The same per gateway (NaN utilisation where the capacity is 0).
    satellite_used_bps : float64[S], bit/s
        User-downlink traffic of each serving satellite.
    satellite_beams : int64[S]
        Cells each satellite beamed.
    isl_used_bps : float64[L], bit/s
        Traffic on each laser-link resource id (``L = n_isl``).
    rounds : int
        Rounds of progressive filling (a cost diagnostic).
    """

    throughput_bps: NDArray[np.float64]
    demand_bps: NDArray[np.float64]
    routed: NDArray[np.bool_]
    no_beam: NDArray[np.bool_]
    below_min_rate: NDArray[np.bool_]
    cell_used_bps: NDArray[np.float64]
    cell_capacity_bps: NDArray[np.float64]
    cell_utilisation: NDArray[np.float64]
    gateway_used_bps: NDArray[np.float64]
    gateway_capacity_bps: NDArray[np.float64]
    gateway_utilisation: NDArray[np.float64]
    satellite_used_bps: NDArray[np.float64]
    satellite_beams: NDArray[np.int64]
    isl_used_bps: NDArray[np.float64]
    rounds: int


def _dense_unique(values: NDArray[np.intp], n: int) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """``np.unique(values, return_inverse=True)`` for ids in ``0..n-1``, without sorting."""
    present = np.zeros(n, dtype=bool)
    present[values] = True
    ids = np.flatnonzero(present)
    remap = np.cumsum(present) - 1
    return ids, remap[values]


def _ratio(used: NDArray[np.float64], cap: NDArray[np.float64]) -> NDArray[np.float64]:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(cap > 0, used / np.where(cap > 0, cap, 1.0), np.nan)


def _int_array(name: str, value: ArrayLike, n: int | None = None) -> NDArray[np.intp]:
    arr = np.asarray(value)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise ScenarioError(f"{name} must be a 1-D integer array, got dtype {arr.dtype} and shape {arr.shape}.")
    if n is not None and arr.size != n:
        raise ScenarioError(f"{name} has {arr.size} entries, expected {n} (one per terminal).")
    return arr.astype(np.intp, copy=False)


def _per_terminal(name: str, value: ArrayLike, n: int) -> NDArray[np.float64]:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    elif arr.shape != (n,):
        raise ScenarioError(f"{name} must be a scalar or have one entry per terminal ({n}), got shape {arr.shape}.")
    _check_nonnegative(name, arr)
    return arr


def _ragged_offsets(lengths: NDArray[np.intp]) -> NDArray[np.intp]:
    """Position of every entry within its row, for rows of the given lengths.

    ``lengths = [2, 0, 3]`` gives ``[0, 1, 0, 1, 2]``: with a row's start
    repeated per entry, it gathers a ragged (CSR) slice in one step.
    """
    return np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)


def _run_starts(keys: NDArray) -> NDArray[np.bool_]:
    """True where a run of equal values begins in sorted *keys* (bool[N])."""
    start = np.empty(keys.size, dtype=bool)
    if keys.size:
        start[0] = True
        np.not_equal(keys[1:], keys[:-1], out=start[1:])
    return start


class StepInputs(NamedTuple):
    """One step's terminals as the allocation takes them (see `check_step_inputs`).

    Attributes
    ----------
    terminal_cell : intp[G]
        Dense service cell of each terminal, ``0..n_cells-1``.
    serving_satellite : intp[G]
        Serving satellite, ``-1`` for none.
    gateway : intp[G]
        Gateway, ``-1`` for none.
    demand_bps : float64[G], bit/s
        Demand times the multiplier; ``0 * inf`` is taken as 0.
    isl_indptr : intp[G+1]
        CSR row pointers of the laser links on each path (all 0 for bent pipes).
    isl_edges : intp[E]
        Laser-link resource ids ``0..n_isl-1``.
    n_cells : int
        ``C``.
    n_isl : int
        ``L``.
    """

    terminal_cell: NDArray[np.intp]
    serving_satellite: NDArray[np.intp]
    gateway: NDArray[np.intp]
    demand_bps: NDArray[np.float64]
    isl_indptr: NDArray[np.intp]
    isl_edges: NDArray[np.intp]
    n_cells: int
    n_isl: int


def _step_demand(demand: NDArray[np.float64], multiplier: NDArray[np.float64]) -> NDArray[np.float64]:
    """Demand times multiplier, bit/s (float64[G]); an inactive terminal wanting ``inf`` wants 0."""
    with np.errstate(invalid="ignore"):  # 0 * inf is NaN, handled next
        demand = demand * multiplier
    return np.where(np.isnan(demand), 0.0, demand)  # 0 * inf


def check_step_inputs(
    model: CapacityModel,
    terminal_cell: ArrayLike,
    serving_satellite: ArrayLike,
    gateway: ArrayLike,
    demand_bps: ArrayLike = DEFAULT_DEMAND_BPS,
    *,
    demand_multiplier: ArrayLike = 1.0,
    isl_indptr: ArrayLike | None = None,
    isl_edges: ArrayLike | None = None,
    n_cells: int | None = None,
    n_isl: int | None = None,
) -> StepInputs:
    """Check `allocate_step`'s inputs and return them as the arrays it works on.

    Parameters
    ----------
    model, terminal_cell, serving_satellite, gateway, demand_bps, demand_multiplier, isl_indptr, isl_edges, n_cells, n_isl
        As for `allocate_step`.

    Returns
    -------
    StepInputs
        The same data as ``intp`` / ``float64`` arrays, scalars broadcast to
        one entry per terminal, ``n_cells`` and ``n_isl`` filled in.

    Raises
    ------
    leonet.errors.ScenarioError
        On the first array of the wrong shape or dtype, negative or NaN
        demand, or index out of range, naming the array, the rule and the
        values found.

    Notes
    -----
    The checks cost a few O(G + E) passes; `allocate_step` runs them unless
    told ``validate=False``, which callers whose arrays leonet itself built
    (the engine's per-step routes) can use to check once, not every step.
    """
    cell = _int_array("terminal_cell", terminal_cell)
    n_term = cell.size
    sat = _int_array("serving_satellite", serving_satellite, n_term)
    gw = _int_array("gateway", gateway, n_term)
    demand = _step_demand(
        _per_terminal("demand_bps", demand_bps, n_term), _per_terminal("demand_multiplier", demand_multiplier, n_term)
    )
    n_cells = _check_routing_indices(model, cell, sat, gw, n_cells)
    ptr, edges, n_isl = _check_laser_inputs(isl_indptr, isl_edges, n_isl, n_term)
    return StepInputs(cell, sat, gw, demand, ptr, edges, n_cells, n_isl)


def _check_routing_indices(model: CapacityModel, cell, sat, gw, n_cells: int | None) -> int:
    """Check each terminal's cell, serving satellite and gateway index; return ``n_cells`` (filled in when None)."""
    n_term = cell.size
    n_cells = int(cell.max()) + 1 if n_cells is None and n_term else int(n_cells or 0)
    if n_term and (cell.min() < 0 or cell.max() >= n_cells):
        raise ScenarioError(f"terminal_cell values must be in 0..{n_cells - 1}, got {cell.min()}..{cell.max()}.")
    n_sat, n_gw = model.n_satellites, model.n_gateways
    if n_term and (sat.min() < -1 or sat.max() >= n_sat):
        raise ScenarioError(f"serving_satellite values must be -1 or in 0..{n_sat - 1}, got {sat.min()}..{sat.max()}.")
    if n_term and (gw.min() < -1 or gw.max() >= n_gw):
        raise ScenarioError(f"gateway values must be -1 or in 0..{n_gw - 1}, got {gw.min()}..{gw.max()}.")
    return n_cells


def _check_laser_inputs(isl_indptr, isl_edges, n_isl: int | None, n_term: int):
    """Checked ragged laser ids of ``n_term`` terminals: ``(indptr, edges, n_isl)``, ``n_isl`` filled in when None."""
    if (isl_indptr is None) != (isl_edges is None):
        raise ScenarioError("give isl_indptr and isl_edges together (or neither, for bent-pipe paths).")
    if isl_indptr is None:
        ptr = np.zeros(n_term + 1, dtype=np.intp)
        edges = np.zeros(0, dtype=np.intp)
    else:
        ptr = _int_array("isl_indptr", isl_indptr, n_term + 1)
        edges = _int_array("isl_edges", isl_edges)
        if ptr[0] != 0 or ptr[-1] != edges.size or np.any(np.diff(ptr) < 0):
            raise ScenarioError(
                f"isl_indptr must start at 0, never decrease and end at len(isl_edges) = {edges.size}; "
                f"got {ptr[0]}..{ptr[-1]}."
            )
        if edges.size and edges.min() < 0:
            raise ScenarioError(f"isl_edges must be >= 0, got {edges.min()}.")
    n_isl = (int(edges.max()) + 1 if edges.size else 0) if n_isl is None else int(n_isl)
    if edges.size and edges.max() >= n_isl:
        raise ScenarioError(f"isl_edges values must be < n_isl = {n_isl}, got {edges.max()}.")
    return ptr, edges, n_isl


def _trusted_step_inputs(
    terminal_cell: ArrayLike,
    serving_satellite: ArrayLike,
    gateway: ArrayLike,
    demand_bps: ArrayLike,
    demand_multiplier: ArrayLike,
    isl_indptr: ArrayLike | None,
    isl_edges: ArrayLike | None,
    n_cells: int | None,
    n_isl: int | None,
) -> StepInputs:
    """`check_step_inputs` without the checks: the same conversions, for inputs known to be good."""
    cell = np.asarray(terminal_cell).astype(np.intp, copy=False)
    n_term = cell.size

    def per_terminal(value: ArrayLike) -> NDArray[np.float64]:
        arr = np.asarray(value, dtype=np.float64)
        return np.full(n_term, float(arr)) if arr.ndim == 0 else arr

    if isl_indptr is None:
        ptr = np.zeros(n_term + 1, dtype=np.intp)
        edges = np.zeros(0, dtype=np.intp)
    else:
        ptr = np.asarray(isl_indptr).astype(np.intp, copy=False)
        edges = np.asarray(isl_edges).astype(np.intp, copy=False)
    return StepInputs(
        terminal_cell=cell,
        serving_satellite=np.asarray(serving_satellite).astype(np.intp, copy=False),
        gateway=np.asarray(gateway).astype(np.intp, copy=False),
        demand_bps=_step_demand(per_terminal(demand_bps), per_terminal(demand_multiplier)),
        isl_indptr=ptr,
        isl_edges=edges,
        n_cells=int(cell.max()) + 1 if n_cells is None and n_term else int(n_cells or 0),
        n_isl=(int(edges.max()) + 1 if edges.size else 0) if n_isl is None else int(n_isl),
    )


def allocate_step(
    model: CapacityModel,
    terminal_cell: ArrayLike,
    serving_satellite: ArrayLike,
    gateway: ArrayLike,
    demand_bps: ArrayLike = DEFAULT_DEMAND_BPS,
    *,
    demand_multiplier: ArrayLike = 1.0,
    isl_indptr: ArrayLike | None = None,
    isl_edges: ArrayLike | None = None,
    n_cells: int | None = None,
    n_isl: int | None = None,
    validate: bool = True,
) -> StepAllocation:
    """Share one step's capacity among terminals, max-min fairly.

    Parameters
    ----------
    model : CapacityModel
        Capacities of the run's satellites and gateways.
    terminal_cell : intp[G]
        Service cell of each terminal, a dense index ``0..C-1`` in H3 order
        (`leonet.capacity.cells.ServiceCells.terminal_cell`).
    serving_satellite : int[G]
        Serving satellite of each terminal this step, ``-1`` for none.
    gateway : int[G]
        Gateway its traffic enters at, ``-1`` for none (no route).
    demand_bps : float64[G] or float, bit/s
        What each terminal wants (default `~leonet.capacity.params.DEFAULT_DEMAND_BPS`).
    demand_multiplier : float64[G] or float
        Scales the demand this step (the service layer's daily profile,
        0 for an inactive terminal).
    isl_indptr : int[G+1], optional
        With *isl_edges*, the laser links on each terminal's path, CSR-style:
        terminal ``g`` crosses ``isl_edges[isl_indptr[g]:isl_indptr[g+1]]``.
        Omit both for bent-pipe (no laser) paths.
    isl_edges : int[E], optional
        Laser-link *resource ids* ``0..n_isl-1``, each listed at most once
        per path.  A laser is full duplex, so give each direction its own
        id (e.g. ``2 * link + (tail > head)``) unless one shared pool per
        link is wanted.
    n_cells : int, optional
        ``C``; default ``terminal_cell.max() + 1``.
    n_isl : int, optional
        ``L``, the length of ``isl_used_bps``; default ``isl_edges.max() + 1``.
    validate : bool, default True
        Check the inputs first (`check_step_inputs`).  ``False`` skips the
        checks, for arrays leonet built itself and checked once where they
        entered; malformed arrays then give wrong numbers or an
        ``IndexError``, not a `~leonet.errors.ScenarioError`.

    Returns
    -------
    StepAllocation

    Raises
    ------
    leonet.errors.ScenarioError
        On arrays of the wrong shape or dtype, or indices out of range
        (only with ``validate=True``).

    Notes
    -----
    *Beams.*  A satellite beams at most ``beams_per_satellite`` of the cells
    its terminals are in.  It picks the cells with the largest total demand
    (of its own terminals there); ties go to the smaller H3 index, then by
    construction of ``terminal_cell`` the smaller dense index.  Terminals in
    the other cells get no beam: rate 0, ``no_beam`` and ``below_min_rate``.
    Only cells with positive demand compete.

    *Resources.*  Each beamed terminal then crosses its (satellite, cell)
    beam, its satellite, its gateway and the laser links of its path, and
    `max_min_fair` shares them.  Terminals that are unrouted (no satellite
    or no gateway) get 0 and are not counted as capacity failures.

    *Cost.*  O(G log G + E) set-up (one sort of the terminals, gathers of
    their paths) plus a few O(nnz) passes per round, nnz = 3 K + (laser
    links on the K flow classes' paths); see "Flow classes" in the module
    docstring and bench/bench_capacity.py.

    Examples
    --------
    Three terminals in one cell under one satellite, one in another cell;
    one gateway of 1 antenna at 2 Gbit/s.  The 1.23 Gbit/s beam limits the
    first cell, the gateway's remainder goes to the lone terminal, capped at
    its demand.

    >>> m = CapacityModel.uniform(1, [2e9])
    >>> r = allocate_step(m, [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0], 1e9)
    >>> (r.throughput_bps / 1e6).round(1).tolist()
    [408.8, 408.8, 408.8, 773.6]
    """
    if validate:
        step = check_step_inputs(
            model, terminal_cell, serving_satellite, gateway, demand_bps, demand_multiplier=demand_multiplier,
            isl_indptr=isl_indptr, isl_edges=isl_edges, n_cells=n_cells, n_isl=n_isl,
        )
    else:
        step = _trusted_step_inputs(
            terminal_cell, serving_satellite, gateway, demand_bps, demand_multiplier, isl_indptr, isl_edges,
            n_cells, n_isl,
        )
    return _allocate(model, step)


# --------------------------------------------------------------------------
# The per-step allocation on trusted inputs
# --------------------------------------------------------------------------


class _Beams(NamedTuple):
    """The (satellite, cell) pairs of one step and which of them got a beam.

    ``P`` pairs in ascending (satellite, cell) order; ``N`` terminals that
    want traffic, in the order of `_terminals_by_path`.
    """

    pair_of: NDArray[np.intp]  # [N] the pair of each terminal
    pair_sat: NDArray[np.int64]  # [P] satellite of each pair
    pair_cell: NDArray[np.int64]  # [P] cell of each pair
    keep: NDArray[np.bool_]  # [P] the pair got a beam
    beamed: NDArray[np.bool_]  # [N] the terminal's pair got a beam


class _FlowClasses(NamedTuple):
    """Beamed terminals grouped into classes that get one rate (``K`` classes of ``F`` flows)."""

    class_of: NDArray[np.intp]  # [F] class of each flow
    rep: NDArray[np.intp]  # [K] first flow of each class
    weight: NDArray[np.float64]  # [K] flows in each class


class _Resources(NamedTuple):
    """One step's resources (beams, satellites, gateways, laser links) as seen by the flow classes."""

    capacity_bps: NDArray[np.float64]  # [R] beams, then satellites, gateways, lasers
    beam_pairs: NDArray[np.intp]  # [B] the pair (index into _Beams) of each beam column
    beam_col: NDArray[np.intp]  # [K] beam column of each class
    sat_col: NDArray[np.intp]  # [K] satellite column of each class
    gw_col: NDArray[np.intp]  # [K] gateway column of each class
    n_links: NDArray[np.intp]  # [K] laser links on each class's path
    within: NDArray[np.intp]  # [E_K] position of each path entry within its path
    isl_col: NDArray[np.intp]  # [E_K] column of each path entry
    isl_of_entry: NDArray[np.intp]  # [E_K] index into isls_used of each path entry
    isls_used: NDArray[np.intp]  # [L_used] laser-link ids crossed by some class


def _allocate(model: CapacityModel, step: StepInputs) -> StepAllocation:
    """`allocate_step` on trusted inputs: beams, flow classes, resources, then progressive filling."""
    cell, sat, gw, demand = step.terminal_cell, step.serving_satellite, step.gateway, step.demand_bps
    n_term, n_cells = cell.size, step.n_cells
    routed = (sat >= 0) & (gw >= 0)
    c_span = max(n_cells, 1)
    term, k_pair, k_class = _terminals_by_path(cell, sat, gw, demand, routed, c_span, max(model.n_gateways, 1))
    beams = _choose_beams(term, k_pair, demand, c_span, model.beams_per_satellite)
    no_beam = np.zeros(n_term, dtype=bool)
    no_beam[term[~beams.beamed]] = True
    flow_term = term[beams.beamed]
    throughput = np.zeros(n_term)
    cell_cap = np.zeros(n_cells)
    isl_used = np.zeros(step.n_isl)
    rounds = 0
    if flow_term.size:
        classes = _flow_classes(k_class[beams.beamed], demand[flow_term], flow_term, step.isl_indptr, step.isl_edges)
        c_term = flow_term[classes.rep]
        res = _class_resources(model, step, beams, beams.pair_of[beams.beamed][classes.rep], c_term)
        row_of, col_of, row_ptr = _incidence_entries(res)
        c_rate, rounds = _progressive_filling(row_of, col_of, row_ptr, demand[c_term], res.capacity_bps, classes.weight)
        throughput[flow_term] = c_rate[classes.class_of]
        n_beam = res.beam_pairs.size
        cell_cap = np.bincount(
            beams.pair_cell[res.beam_pairs], weights=res.capacity_bps[:n_beam], minlength=n_cells
        )
        isl_used[res.isls_used] = np.bincount(
            res.isl_of_entry, weights=np.repeat(c_rate * classes.weight, res.n_links), minlength=res.isls_used.size
        )
    return _step_allocation(model, step, routed, flow_term, throughput, no_beam, cell_cap, isl_used, beams, rounds)


def _terminals_by_path(
    cell: NDArray[np.intp],
    sat: NDArray[np.intp],
    gw: NDArray[np.intp],
    demand: NDArray[np.float64],
    routed: NDArray[np.bool_],
    c_span: int,
    gw_span: int,
) -> tuple[NDArray[np.intp], NDArray[np.int64], NDArray[np.int64]]:
    """The routed terminals that want traffic, sorted by (satellite, cell, gateway, demand).

    Returns the terminal indices (intp[N]) and, in the same order, their
    (satellite, cell) pair key and (satellite, cell, gateway) key (int64[N]).
    Sorted so, (satellite, cell) pairs become runs (for the beam choice) and
    so do the candidate flow classes (for aggregation).
    """
    want = np.flatnonzero(routed & (demand > 0))
    k_pair = sat[want].astype(np.int64) * c_span + cell[want]
    k_class = k_pair * gw_span + gw[want]
    order = np.lexsort((demand[want], k_class))
    return want[order], k_pair[order], k_class[order]


def _choose_beams(
    term: NDArray[np.intp],
    k_pair: NDArray[np.int64],
    demand: NDArray[np.float64],
    c_span: int,
    beams_per_satellite: NDArray[np.int64],
) -> _Beams:
    """Each satellite beams its busiest cells.

    Parameters
    ----------
    term : intp[N]
        Terminals that want traffic, sorted by (satellite, cell) key.
    k_pair : int64[N]
        ``satellite * c_span + cell`` of each, ascending.
    demand : float64[G], bit/s
        Demand of every terminal.
    c_span : int
        ``max(n_cells, 1)``, the base of the pair key.
    beams_per_satellite : int64[S]
        Beam budget of each satellite.

    Returns
    -------
    _Beams
        Pairs ranked within their satellite by total demand (descending),
        ties to the smaller cell; the first ``beams_per_satellite`` are kept.
    """
    new_pair = _run_starts(k_pair)
    pair_starts = np.flatnonzero(new_pair)
    pair_of = np.cumsum(new_pair) - 1
    pair = k_pair[pair_starts]  # ascending: by satellite, then cell
    pair_sat = pair // c_span
    pair_cell = pair % c_span
    pair_demand = np.add.reduceat(demand[term], pair_starts) if term.size else np.zeros(0)
    by_need = np.lexsort((pair_cell, -pair_demand, pair_sat))
    sat_sorted = pair_sat[by_need]
    first = _run_starts(sat_sorted)
    # Rank of each pair among its satellite's pairs, busiest first.
    rank = np.arange(pair.size) - np.maximum.accumulate(np.where(first, np.arange(pair.size), 0))
    keep = np.empty(pair.size, dtype=bool)
    keep[by_need] = rank < beams_per_satellite[sat_sorted]
    return _Beams(pair_of, pair_sat, pair_cell, keep, keep[pair_of])


def _flow_classes(
    flow_key: NDArray[np.int64],
    flow_demand: NDArray[np.float64],
    flow_term: NDArray[np.intp],
    ptr: NDArray[np.intp],
    edges: NDArray[np.intp],
) -> _FlowClasses:
    """Group flows with the same beam, gateway, laser path and demand into classes.

    Such flows get the same max-min fair rate, so the kernel allocates once
    per class with a weight (how many terminals it stands for).

    Parameters
    ----------
    flow_key : int64[F]
        (satellite, cell, gateway) key of each beamed flow, sorted.
    flow_demand : float64[F], bit/s
        Its demand, ascending within equal keys.
    flow_term : intp[F]
        Its terminal.
    ptr, edges : intp[G+1], intp[E]
        The laser links on each terminal's path, CSR.

    Returns
    -------
    _FlowClasses

    Notes
    -----
    Candidates are runs of equal (key, demand); a flow whose laser path
    differs from its run's first flow becomes a class of its own.  Exact,
    with no hashing.
    """
    n_flows = flow_term.size
    run_start = np.empty(n_flows, dtype=bool)
    run_start[0] = True
    run_start[1:] = (flow_key[1:] != flow_key[:-1]) | (flow_demand[1:] != flow_demand[:-1])
    head = np.maximum.accumulate(np.where(run_start, np.arange(n_flows), 0))
    differs = _path_differs_from_head(flow_term, head, ptr, edges)
    base_class = np.cumsum(run_start) - 1
    n_runs = int(base_class[-1]) + 1
    class_of = np.where(differs, n_runs + np.cumsum(differs) - 1, base_class)
    n_class = n_runs + int(differs.sum())
    rep = np.empty(n_class, dtype=np.intp)  # a flow (index into flow_term) per class
    rep[class_of[::-1]] = np.arange(n_flows)[::-1]  # the first one wins
    weight = np.bincount(class_of, minlength=n_class).astype(np.float64)
    return _FlowClasses(class_of, rep, weight)


def _path_differs_from_head(
    flow_term: NDArray[np.intp],
    head: NDArray[np.intp],
    ptr: NDArray[np.intp],
    edges: NDArray[np.intp],
) -> NDArray[np.bool_]:
    """True where a flow's laser path is not its run head's (bool[F]).

    ``head[f]`` is the first flow of ``f``'s run.  Paths of different
    lengths differ; those of equal length are compared entry by entry, all
    at once.
    """
    n_links = ptr[flow_term + 1] - ptr[flow_term]
    differs = n_links != n_links[head]
    if edges.size:
        same_len = np.flatnonzero(~differs & (n_links > 0))
        lens = n_links[same_len]
        offs = _ragged_offsets(lens)
        mine = edges[np.repeat(ptr[flow_term[same_len]], lens) + offs]
        theirs = edges[np.repeat(ptr[flow_term[head[same_len]]], lens) + offs]
        owner = np.repeat(np.arange(same_len.size), lens)
        bad = np.bincount(owner, weights=mine != theirs, minlength=same_len.size)
        differs[same_len[bad > 0]] = True
    return differs


def _class_resources(
    model: CapacityModel,
    step: StepInputs,
    beams: _Beams,
    class_pair: NDArray[np.intp],
    c_term: NDArray[np.intp],
) -> _Resources:
    """Number the resources the flow classes cross and give each its capacity.

    Parameters
    ----------
    model : CapacityModel
    step : StepInputs
    beams : _Beams
    class_pair : intp[K]
        The (satellite, cell) pair of each class.
    c_term : intp[K]
        A terminal of each class.

    Returns
    -------
    _Resources
        Columns in the order of the module docstring's table: the beams
        kept, then the satellites, gateways and laser links some class uses
        (only those, so the kernel's arrays stay the size of the step).
    """
    ptr, edges = step.isl_indptr, step.isl_edges
    beam_id = np.cumsum(beams.keep) - 1
    beam_pairs = np.flatnonzero(beams.keep)
    n_beam = beam_pairs.size
    sats_used, c_sat = _dense_unique(step.serving_satellite[c_term], model.n_satellites)
    gws_used, c_gw = _dense_unique(step.gateway[c_term], model.n_gateways)
    n_links = ptr[c_term + 1] - ptr[c_term]
    within = _ragged_offsets(n_links)
    c_edges = edges[np.repeat(ptr[c_term], n_links) + within]
    isls_used, c_isl = _dense_unique(c_edges, step.n_isl)
    base_sat = n_beam
    base_gw = base_sat + sats_used.size
    base_isl = base_gw + gws_used.size
    capacity = np.concatenate(
        [
            model.beam_capacity_bps[beams.pair_sat[beam_pairs]],
            model.satellite_capacity_bps[sats_used],
            model.gateway_capacity_bps[gws_used],
            np.full(isls_used.size, model.isl_capacity_bps),
        ]
    )
    return _Resources(
        capacity_bps=capacity,
        beam_pairs=beam_pairs,
        beam_col=beam_id[class_pair],
        sat_col=base_sat + c_sat,
        gw_col=base_gw + c_gw,
        n_links=n_links,
        within=within,
        isl_col=base_isl + c_isl,
        isl_of_entry=c_isl,
        isls_used=isls_used,
    )


def _incidence_entries(res: _Resources) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.intp]]:
    """The class x resource incidence, entry by entry, rows in class order.

    Returns ``row_of``, ``col_of`` (intp[nnz]) and ``row_ptr`` (intp[K+1]),
    the form `_progressive_filling` takes.  Each row is its beam, satellite
    and gateway, then its laser links; built by scattering, never sorted.
    """
    n_class = res.beam_col.size
    row_len = 3 + res.n_links
    row_ptr = np.zeros(n_class + 1, dtype=np.intp)
    np.cumsum(row_len, out=row_ptr[1:])
    col_of = np.empty(int(row_ptr[-1]), dtype=np.intp)
    p0 = row_ptr[:-1]
    col_of[p0] = res.beam_col
    col_of[p0 + 1] = res.sat_col
    col_of[p0 + 2] = res.gw_col
    col_of[np.repeat(p0 + 3, res.n_links) + res.within] = res.isl_col
    row_of = np.repeat(np.arange(n_class, dtype=np.intp), row_len)
    return row_of, col_of, row_ptr


def _step_allocation(
    model: CapacityModel,
    step: StepInputs,
    routed: NDArray[np.bool_],
    flow_term: NDArray[np.intp],
    throughput: NDArray[np.float64],
    no_beam: NDArray[np.bool_],
    cell_cap: NDArray[np.float64],
    isl_used: NDArray[np.float64],
    beams: _Beams,
    rounds: int,
) -> StepAllocation:
    """Tally the terminals' rates per cell, gateway and satellite into a `StepAllocation`."""
    cell, sat, gw, demand = step.terminal_cell, step.serving_satellite, step.gateway, step.demand_bps
    flows = np.zeros(cell.size, dtype=bool)
    flows[flow_term] = True
    cell_used = np.bincount(cell[flows], weights=throughput[flows], minlength=step.n_cells)
    gw_used = np.bincount(gw[flows], weights=throughput[flows], minlength=model.n_gateways)
    sat_used = np.bincount(sat[flows], weights=throughput[flows], minlength=model.n_satellites)
    sat_beams = np.bincount(beams.pair_sat[beams.keep], minlength=model.n_satellites).astype(np.int64)
    floor = np.minimum(model.min_rate_bps, demand)
    below = routed & (throughput < floor * (1.0 - 1e-9))
    return StepAllocation(
        throughput_bps=throughput,
        demand_bps=demand,
        routed=routed,
        no_beam=no_beam,
        below_min_rate=below,
        cell_used_bps=cell_used,
        cell_capacity_bps=cell_cap,
        cell_utilisation=_ratio(cell_used, cell_cap),
        gateway_used_bps=gw_used,
        gateway_capacity_bps=model.gateway_capacity_bps.copy(),
        gateway_utilisation=_ratio(gw_used, model.gateway_capacity_bps),
        satellite_used_bps=sat_used,
        satellite_beams=sat_beams,
        isl_used_bps=isl_used,
        rounds=int(rounds),
    )
