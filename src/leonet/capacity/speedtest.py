"""What a speed test would measure: the rate a greedy flow from a terminal gets.

The question
------------
leonet's throughput column is a terminal's *demand* shared max-min fairly
(`leonet.capacity.allocate`).  A speed test instead asks for as much as it
can get.  ``speedtest_bps`` of a terminal at a step is the rate its flow
would get if its demand were unlimited while every other flow (the other
simulated terminals and the background subscribers) kept its demand, under
the same max-min fair sharing, capped by the dish's own peak rate.

The kernel: one formula instead of one re-allocation per terminal
------------------------------------------------------------------
Let ``x`` be the max-min fair rates of all flows at their demands
(progressive filling, `leonet.capacity.allocate`).  For resource ``r`` of
capacity ``C_r`` define the increasing, piecewise-linear

    G_r(W) = W + sum_{i on r} min(x_i, W).

**Theorem.**  The rate flow ``f`` gets when its demand is raised to infinity
(all other demands unchanged) is

    g_f = min over r on f's path of W_r(f),   where   G_r(W_r(f)) = C_r + x_f.

*Proof.*  Run progressive filling twice, with ``f`` at its demand ``d_f`` and
with ``f`` greedy; let ``L`` be ``f``'s final rate in the greedy run.  Below
level ``min(d_f, L)`` the two runs coincide.  Between ``d_f`` and ``L`` the
greedy ``f`` loads only resources on its own path; none of them saturates
below ``L`` (else ``f`` would freeze there), and resources off its path see
the same loads as long as the same flows are frozen, so by induction on the
level every other flow freezes at the same level in both runs as long as
that level is below ``L``.  Hence at level ``W <= L`` every other flow ``i``
carries ``min(x_i, W)`` in the greedy run, and a resource ``r`` on ``f``'s
path carries ``W + sum_{i != f} min(x_i, W) = G_r(W) - min(x_f, W)``.  As
``x_f <= L``, for ``W >= x_f`` that is ``G_r(W) - x_f``.  ``f`` freezes at the
first level where one of its resources saturates, i.e. where
``G_r(W) - x_f = C_r``; feasibility of ``x`` gives ``G_r(x_f) - x_f <= C_r``,
so each root satisfies ``W_r(f) >= x_f`` and ``L = min_r W_r(f)``.  []

So one max-min allocation per step plus one sort of the incidence by
(resource, rate) gives every flow's speed test at once: ``G_r`` is evaluated
at its breakpoints (the sorted rates), each (flow, resource) entry finds its
segment by a merged sort, and a flow takes the minimum over its resources.
Cost O(nnz log nnz); `greedy_rates` implements it and
tests/capacity/test_speedtest.py checks it against a brute-force
re-allocation per flow.

Two consequences used below:

* A flow *capped* at ``D`` instead of unlimited (the dish's peak) gets
  ``min(D, g_f)`` (same argument with the run stopped at ``D``).
* On an unsaturated resource where every other flow is below the level,
  ``W_r = C_r - sum_{i != f} x_i``: capacity minus the others' load, which is
  also the mean throughput of an elastic flow under processor sharing
  ([Bonald03] in `speedtest_params`).  On a saturated resource ``W_r`` is the
  fair share.

Weighted rows (a class of ``w`` identical flows, e.g. the background
subscribers of a cell) enter ``G_r`` with weight ``w``; the formula is
unchanged for one member of the class.

Monotonicity: more background on resources of a terminal's own path never
raises its speed test (the loads below its level only grow).  Background
elsewhere can: it can slow a competitor that shares the terminal's
bottleneck, which then frees capacity there -- max-min fairness is not
monotone in general (see the test ``test_offpath_load_can_raise_a_speedtest``).

The step model
--------------
`speedtest_step` builds one direction's (down- or uplink) flows and
resources for a step, exactly as `leonet.capacity.allocate.allocate_step`
does (beams of (serving satellite, cell) pairs, satellites, gateways, laser
links; at most ``beams_per_satellite`` cells per satellite, the busiest
first), adds the background subscribers as weighted flow classes, runs the
max-min allocation once and `greedy_rates` once.

* A beam's capacity is scaled by the link quality of its cell
  (`link_factor`: spectral efficiency at the slant range, relative to the
  top modulation) -- a 20 km cell sees its satellite at one range.
* Background of the terminal's own cell crosses the cell's beam, the
  satellite, the gateway and the lasers of the cell's path.
* Background of the satellite's other cells crosses the satellite only.
* The terminal's dish caps the speed test at ``peak x link_factor``.

`BackgroundLoad` turns population into these background loads (subscribers
per person, daily profile, sell-out cap per cell, and every satellite's
share of the demand of the ground it can see); `satellite_generations`
classes the shipped Starlink snapshot by generation; `uplink_model` derives
the uplink capacities.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse
from numpy.typing import ArrayLike, NDArray

from ..errors import ScenarioError
from .allocate import CapacityModel, _check_nonnegative, _dense_unique, _int_array, _per_terminal, _progressive_filling
from .params import KU_SPECTRAL_EFFICIENCY_BPS_PER_HZ
from .speedtest_params import (
    ACTIVE_FLOW_DOWN_BPS,
    UPLINK_TO_DOWNLINK_BEAM,
    UPLINK_TO_DOWNLINK_SATELLITE,
    V2_MINI_FIRST_NAME_NUMBER,
    ZENITH_LINK_MARGIN_DB,
)

__all__ = [
    "greedy_rates",
    "link_factor",
    "uplink_model",
    "satellite_generations",
    "SpeedTestStep",
    "speedtest_step",
    "BOTTLENECK_NAMES",
]

#: What limits a speed test, by the code in `SpeedTestStep.bottleneck`.
BOTTLENECK_NAMES = ("none", "dish", "beam", "satellite", "gateway", "laser")
_NONE, _DISH, _BEAM, _SAT, _GW, _ISL = range(6)


# --------------------------------------------------------------------------
# The kernel
# --------------------------------------------------------------------------


def _greedy_levels(
    row_ptr: NDArray[np.intp],
    col_of: NDArray[np.intp],
    rate: NDArray[np.float64],
    weight: NDArray[np.float64],
    capacity: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """Greedy rate of every row and the resource that sets it (-1: none); trusted inputs.

    ``col_of[row_ptr[f]:row_ptr[f+1]]`` are row ``f``'s resources; ``rate``
    its max-min fair rate, ``weight`` how many identical flows it stands for.
    """
    n_rows = rate.size
    n_res = capacity.size
    row_all = np.repeat(np.arange(n_rows, dtype=np.intp), np.diff(row_ptr))
    out = np.full(n_rows, np.inf)
    arg = np.full(n_rows, -1, dtype=np.intp)
    # Resources of infinite capacity never limit anyone (and only their flows
    # can have infinite rates): leave them out.
    finite = np.isfinite(capacity[col_of])
    row_of, col_of = row_all[finite], col_of[finite]
    n_e = col_of.size
    if n_e == 0:
        return out, arg
    # Breakpoints of every G_r: the entries sorted by (resource, rate).
    order = np.lexsort((rate[row_of], col_of))
    res_s = col_of[order]
    y = rate[row_of[order]]
    w = weight[row_of[order]]
    wy = w * y
    count = np.bincount(res_s, minlength=n_res)
    seg_start = np.zeros(n_res + 1, dtype=np.intp)
    np.cumsum(count, out=seg_start[1:])
    cum_wy = np.concatenate(([0.0], np.cumsum(wy)))  # exclusive prefix, global
    cum_w = np.concatenate(([0.0], np.cumsum(w)))
    base = seg_start[res_s]  # start of each breakpoint's segment
    # Within a segment: A_j = sum_{i<j} w y, B_j = sum_{i>=j} w, for j = 0..n_r
    # (position j = n_r means "past the last breakpoint": A = all, B = 0).
    a_at = cum_wy[np.arange(n_e)] - cum_wy[base]
    b_at = (cum_w[seg_start[res_s + 1]] - cum_w[np.arange(n_e)])
    g_at = y * (1.0 + b_at) + a_at  # G_r at each breakpoint
    # Queries: every entry (f, r) looks for G_r(W) = C_r + x_f.
    target = capacity[col_of] + rate[row_of]
    # Count breakpoints of the same resource with G <= target by one merged
    # sort: breakpoints sort before equal-valued queries.
    keys_res = np.concatenate((res_s, col_of))
    keys_val = np.concatenate((g_at, target))
    kind = np.concatenate((np.zeros(n_e, np.int8), np.ones(n_e, np.int8)))
    merged = np.lexsort((kind, keys_val, keys_res))
    is_bp = kind[merged] == 0
    cum_bp = np.cumsum(is_bp)
    q_pos = np.empty(n_e, dtype=np.intp)
    q_pos[merged[~is_bp] - n_e] = np.flatnonzero(~is_bp)
    n_le = cum_bp[q_pos] - seg_start[col_of]  # breakpoints of r with G <= target
    j = seg_start[col_of] + n_le  # global index of the first breakpoint above
    end = seg_start[col_of + 1]
    total_wy = cum_wy[end] - cum_wy[seg_start[col_of]]
    inside = j < end
    jj = np.minimum(j, n_e - 1)
    a_j = np.where(inside, a_at[jj], total_wy)
    b_j = np.where(inside, b_at[jj], 0.0)
    with np.errstate(invalid="ignore"):
        level = (target - a_j) / (1.0 + b_j)
    level = np.where(np.isinf(target), np.inf, level)
    level = np.maximum(level, rate[row_of])  # rounding: never below the allocation
    # Minimum over each row's entries (still sorted by row), and which entry attains it.
    n_per_row = np.bincount(row_of, minlength=n_rows)
    nonempty = np.flatnonzero(n_per_row > 0)
    starts = (np.cumsum(n_per_row) - n_per_row)[nonempty]
    out[nonempty] = np.minimum.reduceat(level, starts)
    hit = level <= out[row_of]
    first_hit = np.full(n_rows, n_e, dtype=np.intp)
    np.minimum.at(first_hit, row_of[hit], np.flatnonzero(hit))
    ok = first_hit < n_e
    arg[ok] = col_of[first_hit[ok]]
    arg[np.isinf(out)] = -1
    return out, arg


def greedy_rates(
    rate_bps: ArrayLike,
    incidence: scipy.sparse.sparray | scipy.sparse.spmatrix | ArrayLike,
    capacity_bps: ArrayLike,
    weight: ArrayLike | None = None,
) -> NDArray[np.float64]:
    """Rate each flow would get if its demand alone were unlimited.

    Parameters
    ----------
    rate_bps : float64[F], bit/s
        The max-min fair rates of the flows at their demands (e.g. from
        `leonet.capacity.max_min_fair`).
    incidence : scipy.sparse.csr_array, (F, R), 0/1
        ``incidence[f, r] = 1`` when flow ``f`` crosses resource ``r``.
    capacity_bps : float64[R], bit/s
        Capacity of each resource (``inf`` allowed).
    weight : float64[F], optional
        Number of identical flows each row stands for (default 1); the
        result is for one of them.

    Returns
    -------
    greedy_bps : float64[F], bit/s
        ``g_f >= rate_bps[f]``; ``inf`` for a flow that crosses no finite
        resource.

    Raises
    ------
    leonet.errors.ScenarioError
        On shapes that disagree, negative or NaN values, or a non-0/1 incidence.

    Notes
    -----
    Exact (see the module docstring for the theorem): equal to re-running
    max-min fairness once per flow with that flow's demand set to infinity.
    O(nnz log nnz) for all flows together.

    Examples
    --------
    Two links of 10 and 4; A uses link 1, B both, C link 2.  Max-min fair:
    A 8, B 2, C 2.  Greedy, C still gets 2 (link 2 is shared with B, whose
    rate is held there), and A gets 8 (all link 1 leaves).

    >>> import numpy as np, scipy.sparse
    >>> A = scipy.sparse.csr_array(np.array([[1, 0], [1, 1], [0, 1]]))
    >>> greedy_rates([8.0, 2.0, 2.0], A, [10.0, 4.0]).tolist()
    [8.0, 2.0, 2.0]
    >>> greedy_rates([3.0, 2.0, 1.0], A, [10.0, 4.0]).tolist()  # demands 3, 2, 1
    [8.0, 3.0, 2.0]
    """
    rate = np.asarray(rate_bps, dtype=np.float64)
    capacity = np.asarray(capacity_bps, dtype=np.float64)
    if rate.ndim != 1 or capacity.ndim != 1:
        raise ScenarioError(f"rate_bps and capacity_bps must be 1-D, got shapes {rate.shape} and {capacity.shape}.")
    a = scipy.sparse.csr_array(incidence)
    if a.shape != (rate.size, capacity.size):
        raise ScenarioError(
            f"incidence has shape {a.shape} but there are {rate.size} rates (flows, rows) and "
            f"{capacity.size} capacities (resources, columns); it must be (flows, resources)."
        )
    _check_nonnegative("rate_bps", rate)
    _check_nonnegative("capacity_bps", capacity)
    if weight is None:
        w = np.ones(rate.size)
    else:
        w = np.asarray(weight, dtype=np.float64)
        if w.shape != rate.shape:
            raise ScenarioError(f"weight must have one entry per flow ({rate.size}), got shape {w.shape}.")
        _check_nonnegative("weight", w)
    a = a.copy()
    a.sum_duplicates()
    a.eliminate_zeros()
    if a.nnz and not np.all(a.data == 1):
        bad = np.unique(a.data[a.data != 1])[:5]
        raise ScenarioError(f"incidence must be 0/1, found values {bad.tolist()}; list a resource once per flow.")
    a.sort_indices()
    out, _ = _greedy_levels(a.indptr.astype(np.intp), a.indices.astype(np.intp), rate, w, capacity)
    return out


# --------------------------------------------------------------------------
# Link quality, fleet and uplink capacities
# --------------------------------------------------------------------------


def link_factor(
    slant_range_km: ArrayLike,
    altitude_km: ArrayLike,
    *,
    gain_offset_db: ArrayLike = 0.0,
    zenith_margin_db: float = ZENITH_LINK_MARGIN_DB,
    top_efficiency_bps_per_hz: float = KU_SPECTRAL_EFFICIENCY_BPS_PER_HZ,
) -> NDArray[np.float64]:
    """Spectral efficiency of a link relative to the top modulation, in (0, 1].

    Parameters
    ----------
    slant_range_km : float64[...], km
        Terminal-satellite distance.
    altitude_km : float64[...], km
        The satellite's altitude (its range at zenith), broadcast.
    gain_offset_db : float64[...], dB
        Antenna gain relative to the Standard dish
        (`leonet.capacity.speedtest_params.DishType.gain_offset_db`).
    zenith_margin_db : float, dB
        Margin above the top modulation's threshold at zenith.
    top_efficiency_bps_per_hz : float, bit/s/Hz
        Top spectral efficiency (64QAM 8/9: 5.11).

    Returns
    -------
    factor : float64[...]
        ``min(1, log2(1 + snr) / top)`` with ``snr`` the Shannon threshold of
        the top modulation at zenith, plus the margin and gain offset, minus
        ``20 log10(range / altitude)`` (free-space loss grows as range^2).

    Notes
    -----
    Shannon's formula stands in for the modulation-and-coding table, whose
    steps it follows within about 1 dB; rain fade and obstructions are not
    modelled.  At 550 km, 25 deg elevation (range ~1,120 km) the factor is 0.63.

    Examples
    --------
    >>> float(link_factor(550.0, 550.0))
    1.0
    >>> round(float(link_factor(1100.0, 550.0)), 2)
    0.63
    """
    rng = np.asarray(slant_range_km, dtype=np.float64)
    alt = np.asarray(altitude_km, dtype=np.float64)
    snr_top_db = 10.0 * np.log10(2.0**top_efficiency_bps_per_hz - 1.0)
    loss_db = 20.0 * np.log10(np.maximum(rng, 1e-9) / np.maximum(alt, 1e-9))
    snr_db = snr_top_db + zenith_margin_db + np.asarray(gain_offset_db, dtype=np.float64) - np.maximum(loss_db, 0.0)
    eff = np.log2(1.0 + 10.0 ** (snr_db / 10.0))
    return np.clip(eff / top_efficiency_bps_per_hz, 1e-6, 1.0)


_NAME_NUMBER = re.compile(r"STARLINK-(\d+)")


def satellite_generations(names: Sequence[str], default: str = "v1.5") -> list[str]:
    """Generation of each Starlink satellite from its catalogue name.

    Parameters
    ----------
    names : sequence of str, [S]
        Satellite names as in CelesTrak's TLE files (``"STARLINK-30049"``,
        ``"STARLINK-11072 [DTC]"``).
    default : str
        Generation of names that carry no Starlink number.

    Returns
    -------
    list of str, [S]
        ``"v2-mini"`` for numbers >= `V2_MINI_FIRST_NAME_NUMBER` and for
        direct-to-cell satellites, ``"v1.5"`` for smaller numbers (V1.0 and
        V1.5: V1.0's ~17 Gbit/s is within the V1.5 figure's uncertainty).

    Examples
    --------
    >>> satellite_generations(["STARLINK-1008", "STARLINK-30049", "STARLINK-11072 [DTC]", "ONEWEB-0012"])
    ['v1.5', 'v2-mini', 'v2-mini', 'v1.5']
    """
    out = []
    for name in names:
        text = str(name).upper()
        m = _NAME_NUMBER.search(text)
        if "[DTC]" in text or (m is not None and int(m.group(1)) >= V2_MINI_FIRST_NAME_NUMBER):
            out.append("v2-mini")
        elif m is not None:
            out.append("v1.5")
        else:
            out.append(default)
    return out


def uplink_model(model: CapacityModel) -> CapacityModel:
    """Uplink (terminal -> satellite -> gateway) capacities matching a downlink model.

    Beams scale by 62.5 MHz / 240 MHz and satellites by 500 MHz / 2,000 MHz
    of user spectrum ([Pekhterev21] in `leonet.capacity.speedtest_params`);
    gateways and lasers keep their (per-direction) capacities.

    Examples
    --------
    >>> from leonet.capacity import CapacityModel
    >>> up = uplink_model(CapacityModel.uniform(1, [20e9]))
    >>> round(float(up.beam_capacity_bps[0]) / 1e6, 1), round(float(up.satellite_capacity_bps[0]) / 1e9, 2)
    (319.4, 5.0)
    """
    return CapacityModel(
        satellite_capacity_bps=model.satellite_capacity_bps * UPLINK_TO_DOWNLINK_SATELLITE,
        beams_per_satellite=model.beams_per_satellite,
        beam_capacity_bps=model.beam_capacity_bps * UPLINK_TO_DOWNLINK_BEAM,
        gateway_capacity_bps=model.gateway_capacity_bps,
        isl_capacity_bps=model.isl_capacity_bps,
        min_rate_bps=model.min_rate_bps,
    )


# --------------------------------------------------------------------------
# One step
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class SpeedTestStep:
    """Speed tests of one step, one direction.

    Attributes
    ----------
    speedtest_bps : float64[G], bit/s
        What a greedy flow from each terminal would get (0 without a route
        or without a beam).
    throughput_bps : float64[G], bit/s
        Max-min fair rate of each terminal at its own demand, with the
        background load in the sharing.
    bottleneck : int8[G]
        What limits the speed test: index into `BOTTLENECK_NAMES`
        (0 none: no route or no beam).
    beamed : bool[G]
        Routed and given a beam.
    satellite_load_bps : float64[S], bit/s
        Traffic on each serving satellite: terminals + background.
    satellite_capacity_bps : float64[S], bit/s
    """

    speedtest_bps: NDArray[np.float64]
    throughput_bps: NDArray[np.float64]
    bottleneck: NDArray[np.int8]
    beamed: NDArray[np.bool_]
    satellite_load_bps: NDArray[np.float64]
    satellite_capacity_bps: NDArray[np.float64]


def speedtest_step(
    model: CapacityModel,
    terminal_cell: ArrayLike,
    serving_satellite: ArrayLike,
    gateway: ArrayLike,
    demand_bps: ArrayLike,
    *,
    dish_peak_bps: ArrayLike,
    link_quality: ArrayLike = 1.0,
    cell_background_bps: ArrayLike | None = None,
    satellite_background_bps: ArrayLike | None = None,
    background_flow_bps: float = ACTIVE_FLOW_DOWN_BPS,
    isl_indptr: ArrayLike | None = None,
    isl_edges: ArrayLike | None = None,
    n_cells: int | None = None,
    n_isl: int | None = None,
) -> SpeedTestStep:
    """Speed test of every terminal at one step, in one direction.

    Parameters
    ----------
    model : CapacityModel
        Capacities in this direction (the run's model for the downlink,
        `uplink_model` of it for the uplink).
    terminal_cell : intp[G]
        Dense service-cell index ``0..C-1`` (`ServiceCells.terminal_cell`).
    serving_satellite, gateway : int[G]
        As in `allocate_step`; ``-1`` = none (no speed test: 0).
    demand_bps : float64[G] or float, bit/s
        What each terminal is using this step (its share of the background
        of its own household); 0 for idle.
    dish_peak_bps : float64[G] or float, bit/s
        The dish's peak rate in this direction (`DishType.peak_down_bps`).
    link_quality : float64[G] or float, in (0, 1]
        `link_factor` of each terminal's link this step.  A beam's capacity
        is scaled by the factor of the first terminal of its cell (one cell
        sees its satellite at one range); the dish peak by the terminal's own.
    cell_background_bps : float64[C], bit/s, optional
        Background subscribers' load in each service cell this step
        (`BackgroundLoad.cell_load_bps`).  Rides the cell's beam, satellite,
        gateway and lasers.
    satellite_background_bps : float64[S], bit/s, optional
        Load of each satellite's *other* cells (`BackgroundLoad.satellite_load_bps`).
        Crosses the satellite only.
    background_flow_bps : float, bit/s
        Demand of one active background flow (the load is split into flows of this size).
    isl_indptr, isl_edges, n_cells, n_isl
        As in `allocate_step` (directed laser-link ids; reverse them for the uplink).

    Returns
    -------
    SpeedTestStep

    Raises
    ------
    leonet.errors.ScenarioError
        On arrays of the wrong shape or out-of-range indices.

    Examples
    --------
    One terminal alone on a 1.23 Gbit/s beam of an idle satellite, dish peak
    400 Mbit/s: the dish limits it.  Add 1 Gbit/s of background in its cell:
    the beam leaves ~226 Mbit/s.

    >>> m = CapacityModel.uniform(1, [20e9])
    >>> r = speedtest_step(m, [0], [0], [0], 0.0, dish_peak_bps=400e6)
    >>> round(float(r.speedtest_bps[0]) / 1e6, 1), BOTTLENECK_NAMES[r.bottleneck[0]]
    (400.0, 'dish')
    >>> r = speedtest_step(m, [0], [0], [0], 0.0, dish_peak_bps=400e6, cell_background_bps=[1e9])
    >>> round(float(r.speedtest_bps[0]) / 1e6, 1), BOTTLENECK_NAMES[r.bottleneck[0]]
    (226.4, 'beam')
    """
    cell = _int_array("terminal_cell", terminal_cell)
    n_term = cell.size
    sat = _int_array("serving_satellite", serving_satellite, n_term)
    gw = _int_array("gateway", gateway, n_term)
    demand = _per_terminal("demand_bps", demand_bps, n_term)
    peak = _per_terminal("dish_peak_bps", dish_peak_bps, n_term)
    quality = _per_terminal("link_quality", link_quality, n_term)
    if np.any(quality > 1.0):
        raise ScenarioError(f"link_quality must be in [0, 1], got a maximum of {quality.max()!r}.")
    n_cells = (int(cell.max()) + 1 if n_term else 0) if n_cells is None else int(n_cells)
    if n_term and (cell.min() < 0 or cell.max() >= n_cells):
        raise ScenarioError(f"terminal_cell values must be in 0..{n_cells - 1}, got {cell.min()}..{cell.max()}.")
    n_sat, n_gw = model.n_satellites, model.n_gateways
    if n_term and (sat.min() < -1 or sat.max() >= n_sat):
        raise ScenarioError(f"serving_satellite values must be -1 or in 0..{n_sat - 1}, got {sat.min()}..{sat.max()}.")
    if n_term and (gw.min() < -1 or gw.max() >= n_gw):
        raise ScenarioError(f"gateway values must be -1 or in 0..{n_gw - 1}, got {gw.min()}..{gw.max()}.")
    cell_bg = np.zeros(n_cells) if cell_background_bps is None else np.asarray(cell_background_bps, np.float64)
    sat_bg = np.zeros(n_sat) if satellite_background_bps is None else np.asarray(satellite_background_bps, np.float64)
    if cell_bg.shape != (n_cells,):
        raise ScenarioError(f"cell_background_bps must have one entry per cell ({n_cells}), got shape {cell_bg.shape}.")
    if sat_bg.shape != (n_sat,):
        raise ScenarioError(
            f"satellite_background_bps must have one entry per satellite ({n_sat}), got shape {sat_bg.shape}."
        )
    _check_nonnegative("cell_background_bps", cell_bg)
    _check_nonnegative("satellite_background_bps", sat_bg)
    if not background_flow_bps > 0:
        raise ScenarioError(f"background_flow_bps must be > 0, got {background_flow_bps!r}.")
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
                f"isl_indptr must start at 0, never decrease and end at len(isl_edges) = {edges.size}."
            )
        if edges.size and edges.min() < 0:
            raise ScenarioError(f"isl_edges must be >= 0, got {edges.min()}.")
    n_isl = (int(edges.max()) + 1 if edges.size else 0) if n_isl is None else int(n_isl)
    if edges.size and edges.max() >= n_isl:
        raise ScenarioError(f"isl_edges values must be < n_isl = {n_isl}, got {edges.max()}.")

    speed = np.zeros(n_term)
    thr = np.zeros(n_term)
    neck = np.zeros(n_term, dtype=np.int8)
    sat_load = np.zeros(n_sat)
    routed = np.flatnonzero((sat >= 0) & (gw >= 0))
    beamed = np.zeros(n_term, dtype=bool)
    if routed.size == 0:
        return SpeedTestStep(speed, thr, neck, beamed, sat_load, model.satellite_capacity_bps.copy())

    # -- beams: (satellite, cell) pairs; each satellite keeps its busiest cells.
    c_span = max(n_cells, 1)
    key = sat[routed].astype(np.int64) * c_span + cell[routed]
    order = np.argsort(key, kind="stable")
    term = routed[order]
    key = key[order]
    new = np.empty(term.size, dtype=bool)
    new[0] = True
    np.not_equal(key[1:], key[:-1], out=new[1:])
    pair_starts = np.flatnonzero(new)
    pair_of = np.cumsum(new) - 1
    pair = key[pair_starts]
    pair_sat = pair // c_span
    pair_cell = pair % c_span
    pair_rep = term[pair_starts]  # the first terminal of each pair stands for its path
    pair_need = np.add.reduceat(demand[term], pair_starts) + cell_bg[pair_cell]
    pair_count = np.diff(np.append(pair_starts, term.size))
    by_need = np.lexsort((pair_cell, -pair_count, -pair_need, pair_sat))
    s_sorted = pair_sat[by_need]
    first = np.empty(pair.size, dtype=bool)
    first[0] = True
    np.not_equal(s_sorted[1:], s_sorted[:-1], out=first[1:])
    rank = np.arange(pair.size) - np.maximum.accumulate(np.where(first, np.arange(pair.size), 0))
    keep = np.empty(pair.size, dtype=bool)
    keep[by_need] = rank < model.beams_per_satellite[s_sorted]
    t_ok = keep[pair_of]
    flow_term = term[t_ok]
    beamed[flow_term] = True
    if flow_term.size == 0:
        return SpeedTestStep(speed, thr, neck, beamed, sat_load, model.satellite_capacity_bps.copy())
    beam_id = np.cumsum(keep) - 1
    beam_pairs = np.flatnonzero(keep)
    n_beam = beam_pairs.size

    # -- rows: one per terminal, one per beam's cell background, one per satellite's regional background.
    t_beam = beam_id[pair_of[t_ok]]
    b_rep = pair_rep[beam_pairs]  # representative terminal of each beam
    b_sat = pair_sat[beam_pairs]
    b_load = cell_bg[pair_cell[beam_pairs]]
    has_b = b_load > 0
    sats_used, _ = _dense_unique(sat[flow_term], n_sat)
    s_load = sat_bg[sats_used]
    has_s = s_load > 0
    # Row arrays: terminal rows, then cell-background rows, then satellite rows.
    row_beam = np.concatenate((t_beam, np.flatnonzero(has_b)))
    row_path = np.concatenate((flow_term, b_rep[has_b]))  # whose gateway / lasers the row follows
    n_path_rows = row_beam.size
    row_sat_only = sats_used[has_s]
    n_rows = n_path_rows + row_sat_only.size
    weight = np.concatenate(
        (np.ones(flow_term.size), b_load[has_b] / background_flow_bps, s_load[has_s] / background_flow_bps)
    )
    row_demand = np.concatenate(
        (
            np.minimum(demand[flow_term], peak[flow_term] * quality[flow_term]),
            np.full(int(has_b.sum()) + int(has_s.sum()), background_flow_bps),
        )
    )
    # -- resources: beams, satellites, gateways, lasers.
    path_sat = sat[row_path]
    all_sats = np.concatenate((path_sat, row_sat_only))
    sats_r, c_sat = _dense_unique(all_sats, n_sat)
    gws_r, c_gw = _dense_unique(gw[row_path], n_gw)
    n_links = ptr[row_path + 1] - ptr[row_path]
    total_links = int(n_links.sum())
    within = np.arange(total_links) - np.repeat(np.cumsum(n_links) - n_links, n_links)
    r_edges = edges[np.repeat(ptr[row_path], n_links) + within]
    isls_r, c_isl = _dense_unique(r_edges, max(n_isl, 1))
    base_sat = n_beam
    base_gw = base_sat + sats_r.size
    base_isl = base_gw + gws_r.size
    capacity = np.concatenate(
        (
            model.beam_capacity_bps[b_sat] * quality[b_rep],
            model.satellite_capacity_bps[sats_r],
            model.gateway_capacity_bps[gws_r],
            np.full(isls_r.size, model.isl_capacity_bps),
        )
    )
    kind_of_res = np.concatenate(
        (
            np.full(n_beam, _BEAM, np.int8),
            np.full(sats_r.size, _SAT, np.int8),
            np.full(gws_r.size, _GW, np.int8),
            np.full(isls_r.size, _ISL, np.int8),
        )
    )
    row_len = np.concatenate((3 + n_links, np.ones(row_sat_only.size, np.intp)))
    row_ptr = np.zeros(n_rows + 1, dtype=np.intp)
    np.cumsum(row_len, out=row_ptr[1:])
    col_of = np.empty(int(row_ptr[-1]), dtype=np.intp)
    p0 = row_ptr[:n_path_rows]
    col_of[p0] = row_beam
    col_of[p0 + 1] = base_sat + c_sat[:n_path_rows]
    col_of[p0 + 2] = base_gw + c_gw
    col_of[np.repeat(p0 + 3, n_links) + within] = base_isl + c_isl
    col_of[row_ptr[n_path_rows:-1]] = base_sat + c_sat[n_path_rows:]
    # Resources in ascending order within each row (the kernels need no order,
    # but keep rows canonical for reproducibility).
    row_of = np.repeat(np.arange(n_rows, dtype=np.intp), row_len)
    rate, _ = _progressive_filling(row_of, col_of, row_ptr, row_demand, capacity, weight)
    greedy, limiting = _greedy_levels(row_ptr, col_of, rate, weight, capacity)

    n_t = flow_term.size
    cap_t = peak[flow_term] * quality[flow_term]
    g_t = greedy[:n_t]
    speed[flow_term] = np.minimum(cap_t, g_t)
    thr[flow_term] = rate[:n_t]
    lim = limiting[:n_t]
    neck_t = np.where(lim >= 0, kind_of_res[np.maximum(lim, 0)], _NONE)
    neck[flow_term] = np.where(cap_t <= g_t, _DISH, neck_t).astype(np.int8)
    sat_load[sats_r] = np.bincount(c_sat, weights=rate * weight, minlength=sats_r.size)
    return SpeedTestStep(speed, thr, neck, beamed, sat_load, model.satellite_capacity_bps.copy())
