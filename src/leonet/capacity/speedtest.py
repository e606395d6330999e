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
* Background of the satellite's other cells crosses the satellite; a
  share of it also crosses each beam (beam hopping, `_hop_share`).  A
  satellite has far fewer beams (V1.5: 16, [Pekhterev21]) than cells with
  subscribers in view, so each beam hops among several cells, and the
  operator's scheduler balances its beams: every beam runs at its
  satellite's utilisation, so it carries ``(L + x) R / C`` (``L`` the
  satellite's other cells' load, ``x`` the beam's own cell's, ``R / C`` the
  beam's share of the satellite's capacity: 1/16 on V1.5), or just ``x``
  when the cell alone is busier.  A dish is served by one beam at a
  time, so a loaded satellite slows a speed test even when its total
  capacity is far from used up: with a 60 %-loaded V1.5 satellite a beam
  of 1.23 Gbit/s keeps ~0.5 Gbit/s.  This is what spreads the Osnabrück dish's measured downloads
  (validation/throughput.py); without it every test there was the dish's
  own peak.
* The terminal's dish caps the speed test at ``peak x link_factor``; on the
  uplink the peak is the dish's grant of the beam's channel and the link
  factor follows the same law (`dish_uplink_peak_bps`).
* A beam visits a cell in both directions at once: the share of its time
  the downlink leaves a terminal's cell (``SpeedTestStep.cell_visit``, one
  less the other cells' hop rows' share of the beam) also scales the
  cell's uplink beam and the dish's grant.  The hop schedule is set by the
  downlink, which carries ~12x the uplink's traffic.  This is why uploads
  fall with downloads: at Osnabrück their per-second rates correlate 0.6,
  over Starlink's 96 published countries the median / best-20 % ratio is
  0.78 for both (their per-country correlation 0.71), and Ookla's US
  upload / download median ratio stayed 0.14 while both doubled from 2022
  to 2025 ([Ookla22-25] in `speedtest_params`).

`BackgroundLoad` turns population into these background loads (subscribers
per person, daily profile, sell-out cap per cell, and every satellite's
share of the demand of the ground it can see); `satellite_generations`
classes the shipped Starlink snapshot by generation (``[capacity]
generation = "by-name"``); `uplink_model` derives the uplink capacities.

Plugging it into a run
----------------------
`SpeedTestRun` bundles all of it: build it once per run from the run's
downlink `CapacityModel`, its `ServiceCells`, the terminals' coordinates,
the dish, the network's date (``as_of``: `speedtest_params.network_state`)
and the satellites' positions at one instant (the mean capacity in view of
each place, `BackgroundLoad.with_mean_visible_capacity`), then per step call
``down, up = run.step(utc_hour, r_ecef_km, sat, gateway, demand_bps, slant_range_km,
isl_indptr=..., isl_edges=..., n_isl=...)`` with the step's satellite
positions, each terminal's serving satellite and gateway (-1 where not
routed), its own demand, its slant range, and the directed laser ids of its
path (the same arrays `allocate_step` gets).  ``down.speedtest_bps`` and
``up.speedtest_bps`` are the columns (Mbit/s only in tables); ``down.throughput_bps``
is the terminal's max-min rate with the background in the sharing, which
the engine's capacity stage records as its throughput
(`leonet.engine.service.ServiceLayer.allocate`), so a speed test is never
below it.  Both directions share one flow structure (`_speedtest_pair`),
reused while the routes, cells and demands do not change (within a
scheduler slot).  Everything is a deterministic function of the step's time
and positions: chunking cannot change a result.

Cost per step (one core, 200 terminals, the ``ukraine`` scenario): ~0.5 ms of
background (the serving satellites' footprints in a k-d tree of the ~1,900
grid cells within 2,600 km of the terminals) and ~1 ms per direction for
the allocation and the greedy rates; building the run's model ~0.2 s (the
population grid is read from leonet/data/population, not computed).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse
from numpy.typing import ArrayLike, NDArray

from ..errors import ScenarioError
from .allocate import (
    CapacityModel,
    _check_laser_inputs,
    _check_nonnegative,
    _check_routing_indices,
    _int_array,
    _per_terminal,
    _progressive_filling,
)
from .params import KU_SPECTRAL_EFFICIENCY_BPS_PER_HZ
from .speedtest_params import (
    ACTIVE_FLOW_DOWN_BPS,
    flat_mount_loss_db,
    UPLINK_TO_DOWNLINK_BEAM,
    UPLINK_TO_DOWNLINK_SATELLITE,
    V2_MINI_FIRST_NAME_NUMBER,
    ZENITH_LINK_MARGIN_DB,
)

__all__ = [
    "BOTTLENECK_NAMES",
    "BackgroundLoad",
    "PopulationGrid",
    "SpeedTestRun",
    "SpeedTestStep",
    "dish_uplink_peak_bps",
    "diurnal_factor",
    "greedy_rates",
    "link_factor",
    "population_grid",
    "satellite_generations",
    "speedtest_step",
    "uplink_model",
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
    order = _by_resource_then_rate(row_of, col_of, rate)
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
    # Queries: every entry (f, r) looks for G_r(W) = C_r + x_f; j is the global
    # index of the first breakpoint of r above the target (as many below it as G <= target).
    target = capacity[col_of] + rate[row_of]
    j = np.empty(n_e, dtype=np.intp)
    j[order] = _count_at_most(res_s, g_at, capacity[res_s] + y)
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
    # The first entry of each row attaining its minimum (entries are sorted by row).
    hit = np.flatnonzero(level <= out[row_of])
    rows_hit = row_of[hit]
    first = np.ones(hit.size, dtype=bool)
    first[1:] = rows_hit[1:] != rows_hit[:-1]
    arg[rows_hit[first]] = col_of[hit[first]]
    arg[np.isinf(out)] = -1
    return out, arg


def _by_resource_then_rate(row_of: NDArray[np.intp], col_of: NDArray[np.intp],
                           rate: NDArray[np.float64]) -> NDArray[np.intp]:
    """The permutation ``np.lexsort((rate[row_of], col_of))``, by one integer sort.

    Parameters
    ----------
    row_of, col_of : intp[E]
        Row and resource of each incidence entry, entries sorted by row.
    rate : float64[F]
        Each row's rate.

    Returns
    -------
    order : intp[E]
        Entries by resource, then rate, then entry (lexsort is stable).

    Notes
    -----
    Rows ranked by a stable sort of their rates tie-break equal rates by
    row, which is the entries' order, so the key ``resource x F + rank``
    orders the entries as the lexsort does.  An unstable sort of the key
    (~2x faster than a stable one) gives the same permutation when the keys
    are distinct (no row lists a resource twice), which the sorted keys show.
    """
    n_rows = rate.size
    rank = np.empty(n_rows, dtype=np.int64)
    rank[np.argsort(rate, kind="stable")] = np.arange(n_rows)
    key = col_of.astype(np.int64) * n_rows + rank[row_of]
    order = np.argsort(key)
    if key.size > 1 and not np.all(key[order[1:]] > key[order[:-1]]):
        order = np.argsort(key, kind="stable")
    return order


def _count_at_most(res: NDArray[np.intp], value: NDArray[np.float64],
                   target: NDArray[np.float64]) -> NDArray[np.intp]:
    """For each query, how many entries come before its resource's, or are of it with ``value <= target``.

    Parameters
    ----------
    res : intp[E]
        Resource of each entry (breakpoint and query alike), sorted.
    value : float64[E]
        Each entry's breakpoint value (G_r at it); not necessarily sorted
        within a resource (rounding at tied rates).
    target : float64[E]
        Each entry's query (C_r + x_f); sorted within each resource (then
        the search is cheap; any order gives the same counts).

    Returns
    -------
    count : intp[E]
        ``#{i: res_i < res_q or (res_i == res_q and value_i <= target_q)}``.

    Notes
    -----
    A complex number sorts by its real part, then its imaginary part, so
    (resource, value) pairs packed as ``res + 1j value`` sort and search
    lexicographically and exactly (both halves keep their float64 bits; no
    arithmetic).  The queries arrive sorted, which makes the search cheap.
    NaN sorts differently as an imaginary part, so a NaN takes the merged
    lexsort (never in practice: rates, weights and capacities are finite).
    """
    if np.isnan(value).any() or np.isnan(target).any():
        return _count_at_most_lexsort(res, value, target)
    bp = np.empty(res.size, dtype=np.complex128)
    bp.real, bp.imag = res, value
    bp.sort(kind="stable")  # (timsort: the values are sorted within each resource but for ties)
    q = np.empty(res.size, dtype=np.complex128)
    q.real, q.imag = res, target
    return np.searchsorted(bp, q, side="right")


def _count_at_most_lexsort(res: NDArray[np.intp], value: NDArray[np.float64],
                           target: NDArray[np.float64]) -> NDArray[np.intp]:
    """`_count_at_most` by one merged lexsort: breakpoints sort before equal-valued queries."""
    n_e = res.size
    keys_res = np.concatenate((res, res))
    keys_val = np.concatenate((value, target))
    kind = np.concatenate((np.zeros(n_e, np.int8), np.ones(n_e, np.int8)))
    merged = np.lexsort((kind, keys_val, keys_res))
    is_bp = kind[merged] == 0
    cum_bp = np.cumsum(is_bp)
    q_pos = np.empty(n_e, dtype=np.intp)
    q_pos[merged[~is_bp] - n_e] = np.flatnonzero(~is_bp)
    return cum_bp[q_pos]


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
    modelled.  With no margin, at 550 km and 25 deg elevation (range ~1,120 km)
    the factor is 0.63.

    Examples
    --------
    >>> float(link_factor(550.0, 550.0, zenith_margin_db=0.0))
    1.0
    >>> round(float(link_factor(1100.0, 550.0, zenith_margin_db=0.0)), 2)
    0.63
    >>> round(float(link_factor(550.0, 550.0, zenith_margin_db=-3.0)), 2)
    0.81
    """
    rng = np.asarray(slant_range_km, dtype=np.float64)
    alt = np.asarray(altitude_km, dtype=np.float64)
    snr_top_db = 10.0 * np.log10(2.0**top_efficiency_bps_per_hz - 1.0)
    loss_db = 20.0 * np.log10(np.maximum(rng, 1e-9) / np.maximum(alt, 1e-9))
    snr_db = snr_top_db + zenith_margin_db + np.asarray(gain_offset_db, dtype=np.float64) - np.maximum(loss_db, 0.0)
    eff = np.log2(1.0 + 10.0 ** (snr_db / 10.0))
    return np.clip(eff / top_efficiency_bps_per_hz, 1e-6, 1.0)


def _sin_elevation(slant_range_km: NDArray[np.float64], altitude_km: NDArray[np.float64]) -> NDArray[np.float64]:
    """Sine of a satellite's elevation from its slant range and altitude (spherical Earth, mean radius).

    Law of cosines in the triangle Earth centre - terminal - satellite:
    ``(R + h)^2 = R^2 + d^2 + 2 R d sin(e)``.
    """
    d = np.maximum(np.asarray(slant_range_km, dtype=np.float64), 1e-9)
    h = np.asarray(altitude_km, dtype=np.float64)
    r = _R_MEAN_KM
    return np.clip(((r + h) ** 2 - r * r - d * d) / (2.0 * r * d), -1.0, 1.0)


def dish_uplink_peak_bps(
    slant_range_km: ArrayLike,
    altitude_km: ArrayLike,
    *,
    gain_offset_db: ArrayLike = 0.0,
    peak_bps: float | None = None,
    zenith_margin_db: float | None = None,
    top_efficiency_bps_per_hz: float = KU_SPECTRAL_EFFICIENCY_BPS_PER_HZ,
) -> NDArray[np.float64]:
    """Most a dish can send, bit/s: its scheduled share of the uplink channel at its link's quality.

    Parameters
    ----------
    slant_range_km, altitude_km : float64[...], km
    gain_offset_db : float64[...], dB
        EIRP relative to the Standard dish (`DishType.uplink_gain_offset_db`),
        with any mount loss.
    peak_bps : float, bit/s
        The dish's uplink at the top modulation: its grant of the beam's
        uplink channel (`DishType.peak_up_bps`, default the Standard's:
        ``UPLINK_GRANT_SHARE x UPLINK_CHANNEL_HZ x 5.11``).
    zenith_margin_db : float, dB
        The uplink's margin above the top modulation at zenith
        (`UPLINK_ZENITH_MARGIN_DB`).
    top_efficiency_bps_per_hz : float
        The top modulation.

    Returns
    -------
    peak_bps : float64[...]
        ``peak x link_factor(range, altitude, gain, margin)``: the grant is
        fixed by the scheduler, the modulation by the link's SNR, which falls
        as 1 / range^2 -- the same law as the downlink's.

    Examples
    --------
    A Standard dish's grant, 64.2 Mbit/s at the top modulation (a fifth of
    the beam's 319 Mbit/s), at zenith and at ~26 deg elevation (1,100 km): the
    same 0.81 and 0.47 of the top modulation as the downlink's `link_factor`.

    >>> round(float(dish_uplink_peak_bps(550.0, 550.0, peak_bps=64.2e6, zenith_margin_db=-3.0)) / 1e6, 1)
    52.2
    >>> round(float(dish_uplink_peak_bps(1100.0, 550.0, peak_bps=64.2e6, zenith_margin_db=-3.0)) / 1e6, 1)
    29.9
    """
    from .speedtest_params import DISHES, UPLINK_ZENITH_MARGIN_DB

    peak = DISHES["standard"].peak_up_bps if peak_bps is None else float(peak_bps)
    margin = UPLINK_ZENITH_MARGIN_DB if zenith_margin_db is None else float(zenith_margin_db)
    return peak * link_factor(slant_range_km, altitude_km, gain_offset_db=gain_offset_db, zenith_margin_db=margin,
                              top_efficiency_bps_per_hz=top_efficiency_bps_per_hz)


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

    A beam's uplink is one 62.5 MHz channel instead of 240 MHz and a
    satellite's 500 MHz instead of 2,000 MHz, at the same top modulation
    ([Pekhterev21] in `leonet.capacity.speedtest_params`).  Gateways and
    lasers keep their (per-direction) capacities.  A single dish's uplink
    is the grant the scheduler gives it, a fifth of its beam's channel
    (`leonet.capacity.speedtest_params.UPLINK_GRANT_SHARE`, `dish_uplink_peak_bps`).

    Examples
    --------
    >>> from leonet.capacity import CapacityModel
    >>> up = uplink_model(CapacityModel.uniform(1, [20e9]))
    >>> round(float(up.beam_capacity_bps[0]) / 1e6, 1), round(float(up.satellite_capacity_bps[0]) / 1e9, 2)
    (319.4, 5.0)
    """
    beam_ratio, sat_ratio = UPLINK_TO_DOWNLINK_BEAM, UPLINK_TO_DOWNLINK_SATELLITE
    return CapacityModel(
        satellite_capacity_bps=model.satellite_capacity_bps * sat_ratio,
        beams_per_satellite=model.beams_per_satellite,
        beam_capacity_bps=model.beam_capacity_bps * beam_ratio,
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
    cell_capacity_bps : float64[C], bit/s
        Capacity of the beams pointed at each cell at this step's link
        quality (0: no beam).
    cell_beam_bps : float64[C], bit/s
        The same at the top modulation (the generation's beam capacity).
    cell_visit : float64[G], in [0, 1]
        Share of its beam's time each terminal's cell gets (beam hopping):
        1 less the share its satellite's other cells take (0: no beam); on an
        uplink step computed in the downlink's visits, those visits.
    """

    speedtest_bps: NDArray[np.float64]
    throughput_bps: NDArray[np.float64]
    bottleneck: NDArray[np.int8]
    beamed: NDArray[np.bool_]
    satellite_load_bps: NDArray[np.float64]
    satellite_capacity_bps: NDArray[np.float64]
    cell_capacity_bps: NDArray[np.float64] | None = None
    cell_beam_bps: NDArray[np.float64] | None = None
    cell_visit: NDArray[np.float64] | None = None


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
    cell_visit: ArrayLike | None = None,
    validate: bool = True,
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
        Crosses the satellite; each of the satellite's beams here also carries
        its balanced share of it, ``max((L + x) R / C - x, 0)`` with *x* its
        cell's background and ``R / C`` the beam's share of the satellite's
        capacity (beam hopping; the module docstring), which the satellite's
        own row then leaves out.
    background_flow_bps : float, bit/s
        Demand of one active background flow (the load is split into flows of this size).
    isl_indptr, isl_edges, n_cells, n_isl
        As in `allocate_step` (directed laser-link ids; reverse them for the uplink).
    cell_visit : float64[G], in [0, 1], optional
        Uplink only: the downlink step's `SpeedTestStep.cell_visit`, the
        share of its beam's time each terminal's cell gets.  A beam hops
        among its cells in both directions at once, so it scales the
        terminal's uplink beam and its dish's grant, and the satellite's
        other cells are not charged again on the beam.  Default: none (the
        direction hops on its own loads, as the downlink does).
    validate : bool
        Check the inputs (default).  The engine passes its own arrays,
        checked once per run, with ``False``.

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
    x = _step_inputs(model, terminal_cell, serving_satellite, gateway, demand_bps, dish_peak_bps, link_quality,
                     cell_background_bps, satellite_background_bps, background_flow_bps, isl_indptr, isl_edges,
                     n_cells, n_isl, validate)
    visit = None
    if cell_visit is not None:
        visit = (_per_terminal("cell_visit", cell_visit, x.cell.size) if validate
                 else np.broadcast_to(np.asarray(cell_visit, dtype=np.float64), x.cell.shape))
        if validate and np.any(visit > 1.0):  # (_per_terminal rejects negatives)
            raise ScenarioError(f"cell_visit must be in [0, 1], got a maximum of {visit.max()!r}.")
    return _one_direction(model, x, visit)


@dataclass
class _StepInputs:
    """`speedtest_step`'s inputs as arrays (internal)."""

    cell: NDArray[np.intp]
    sat: NDArray[np.intp]
    gw: NDArray[np.intp]
    demand: NDArray[np.float64]
    peak: NDArray[np.float64]
    quality: NDArray[np.float64]
    cell_bg: NDArray[np.float64]
    sat_bg: NDArray[np.float64]
    flow_bps: float
    ptr: NDArray[np.intp]
    edges: NDArray[np.intp]
    n_cells: int
    n_isl: int


def _step_inputs(model, terminal_cell, serving_satellite, gateway, demand_bps, dish_peak_bps, link_quality,
                 cell_background_bps, satellite_background_bps, background_flow_bps, isl_indptr, isl_edges,
                 n_cells, n_isl, validate) -> _StepInputs:
    """`speedtest_step`'s inputs as arrays, checked when *validate*."""
    if not validate:
        cell = np.asarray(terminal_cell, dtype=np.intp)
        n = cell.size

        def per_terminal(v):
            a = np.asarray(v, dtype=np.float64)
            return np.full(n, float(a)) if a.ndim == 0 else a

        ptr = np.zeros(n + 1, np.intp) if isl_indptr is None else np.asarray(isl_indptr, dtype=np.intp)
        edges = np.zeros(0, np.intp) if isl_edges is None else np.asarray(isl_edges, dtype=np.intp)
        n_cells = int(n_cells) if n_cells is not None else (int(cell.max()) + 1 if n else 0)
        return _StepInputs(
            cell, np.asarray(serving_satellite, dtype=np.intp), np.asarray(gateway, dtype=np.intp),
            per_terminal(demand_bps), per_terminal(dish_peak_bps), per_terminal(link_quality),
            np.zeros(n_cells) if cell_background_bps is None else np.asarray(cell_background_bps, np.float64),
            np.zeros(model.n_satellites) if satellite_background_bps is None
            else np.asarray(satellite_background_bps, np.float64),
            float(background_flow_bps), ptr, edges, n_cells,
            (int(edges.max()) + 1 if edges.size else 0) if n_isl is None else int(n_isl),
        )
    cell = _int_array("terminal_cell", terminal_cell)
    n_term = cell.size
    sat = _int_array("serving_satellite", serving_satellite, n_term)
    gw = _int_array("gateway", gateway, n_term)
    demand = _per_terminal("demand_bps", demand_bps, n_term)
    peak = _per_terminal("dish_peak_bps", dish_peak_bps, n_term)
    quality = _per_terminal("link_quality", link_quality, n_term)
    if np.any(quality > 1.0):
        raise ScenarioError(f"link_quality must be in [0, 1], got a maximum of {quality.max()!r}.")
    n_cells = _check_routing_indices(model, cell, sat, gw, n_cells)
    n_sat = model.n_satellites
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
    ptr, edges, n_isl = _check_laser_inputs(isl_indptr, isl_edges, n_isl, n_term)
    return _StepInputs(cell, sat, gw, demand, peak, quality, cell_bg, sat_bg, float(background_flow_bps), ptr, edges,
                       n_cells, n_isl)


@dataclass
class _Beams:
    """The (satellite, cell) pairs of a step and the ones given a beam (internal)."""

    flow_term: NDArray[np.intp]  #: terminals given a beam
    t_beam: NDArray[np.intp]  #: beam of each of them
    pair_sat: NDArray[np.intp]
    pair_cell: NDArray[np.intp]
    pair_rep: NDArray[np.intp]  #: first terminal of each pair: its path stands for the pair's
    beam_pairs: NDArray[np.intp]  #: pairs given a beam, in beam order
    all_kept: bool  #: every pair has a beam


def _choose_beams(model: CapacityModel, x: _StepInputs) -> _Beams | None:
    """(satellite, cell) pairs of the routed terminals; each satellite keeps its busiest cells (None: no beam)."""
    sat, cell = x.sat, x.cell
    routed = np.flatnonzero((sat >= 0) & (x.gw >= 0))
    if routed.size == 0:
        return None
    c_span = max(x.n_cells, 1)
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
    pair_need = np.add.reduceat(x.demand[term], pair_starts) + x.cell_bg[pair_cell]
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
    if flow_term.size == 0:
        return None
    beam_id = np.cumsum(keep) - 1
    return _Beams(flow_term, beam_id[pair_of[t_ok]], pair_sat, pair_cell, term[pair_starts], np.flatnonzero(keep),
                  bool(keep.all()))


@dataclass
class _Classes:
    """Terminals with the same beam, gateway, laser path and (capped) demands: one weighted row (internal)."""

    class_of: NDArray[np.intp]  #: class of each `_Beams.flow_term` entry
    rep: NDArray[np.intp]  #: first terminal of each class
    weight: NDArray[np.float64]
    beam: NDArray[np.intp]
    demand: tuple  #: float64[K] per direction


def _capped_demand(x: _StepInputs, flow_term: NDArray[np.intp]) -> NDArray[np.float64]:
    """A terminal's demand, at most its dish's peak: what it asks of the network."""
    return np.minimum(x.demand[flow_term], x.peak[flow_term] * x.quality[flow_term])


def _terminal_classes(xs: tuple[_StepInputs, ...], beams: _Beams) -> _Classes:
    """Group the beamed terminals into classes: same max-min rate and greedy level (exact, as in allocate_step).

    *xs* are the directions computed on this structure (down, or down and
    up): terminals of a class have the same capped demand in each.
    """
    x = xs[0]
    flow_term, t_beam, gw, ptr, edges = beams.flow_term, beams.t_beam, x.gw, x.ptr, x.edges
    dems = [_capped_demand(xi, flow_term) for xi in xs]
    o = np.lexsort((*dems[::-1], gw[flow_term], t_beam))
    ft, tb = flow_term[o], t_beam[o]
    n_ft = ft.size
    run_start = np.empty(n_ft, dtype=bool)
    run_start[0] = True
    run_start[1:] = (tb[1:] != tb[:-1]) | (gw[ft][1:] != gw[ft][:-1])
    for d in dems:
        run_start[1:] |= d[o][1:] != d[o][:-1]
    head = np.maximum.accumulate(np.where(run_start, np.arange(n_ft), 0))
    n_lk = ptr[ft + 1] - ptr[ft]
    differs = n_lk != n_lk[head]
    if edges.size:
        same_len = np.flatnonzero(~differs & (n_lk > 0))
        lens = n_lk[same_len]
        offs = np.arange(int(lens.sum())) - np.repeat(np.cumsum(lens) - lens, lens)
        mine = edges[np.repeat(ptr[ft[same_len]], lens) + offs]
        theirs = edges[np.repeat(ptr[ft[head[same_len]]], lens) + offs]
        bad = np.bincount(np.repeat(np.arange(same_len.size), lens), weights=mine != theirs, minlength=same_len.size)
        differs[same_len[bad > 0]] = True
    base_class = np.cumsum(run_start) - 1
    n_runs = int(base_class[-1]) + 1
    class_sorted = np.where(differs, n_runs + np.cumsum(differs) - 1, base_class)
    n_class = n_runs + int(differs.sum())
    class_of = np.empty(n_ft, dtype=np.intp)
    class_of[o] = class_sorted  # class of each flow_term entry, in flow_term order
    c_rep = np.empty(n_class, dtype=np.intp)
    c_rep[class_sorted[::-1]] = ft[::-1]  # first terminal of each class
    c_w = np.bincount(class_sorted, minlength=n_class).astype(np.float64)
    c_beam = np.empty(n_class, dtype=np.intp)
    c_beam[class_sorted] = tb
    c_dem = []
    for d in dems:
        cd = np.empty(n_class)
        cd[class_sorted] = d[o]
        c_dem.append(cd)
    return _Classes(class_of, c_rep, c_w, c_beam, tuple(c_dem))


@dataclass
class _FlowRows:
    """The step's flows x resources: rows of terminal classes and background, columns of resources (internal).

    The structure (rows, columns) is shared by the directions; capacities,
    demands and weights are per direction (`_direction`).
    """

    row_of: NDArray[np.intp]
    col_of: NDArray[np.intp]
    row_ptr: NDArray[np.intp]
    kind: NDArray[np.int8]  #: resource kind (`BOTTLENECK_NAMES` code) of each column
    sats: NDArray[np.intp]  #: satellites among the resources
    row_sat: NDArray[np.intp]  #: each row's satellite, index into ``sats``
    gws: NDArray[np.intp]  #: gateways among the resources
    n_isl_cols: int
    b_rep: NDArray[np.intp]  #: each beam's representative terminal
    b_sat: NDArray[np.intp]  #: each beam's satellite
    b_bg: NDArray[np.intp]  #: beams with a cell-background row
    b_hop: NDArray[np.intp]  #: beams with a row of their satellite's other cells (beam hopping)
    s_bg: NDArray[np.intp]  #: satellites with a regional-background row


def _flow_rows(x: _StepInputs, beams: _Beams, classes: _Classes) -> _FlowRows:
    """Rows: terminal classes, each beam's cell background, each beam's share of its satellite's other cells
    (`_hop_share`), then each satellite's regional background.

    Columns: beams, satellites, gateways, lasers.
    """
    ptr, edges, sat, gw = x.ptr, x.edges, x.sat, x.gw
    b_rep = beams.pair_rep[beams.beam_pairs]  # representative terminal of each beam
    b_sat = beams.pair_sat[beams.beam_pairs]
    n_beam = b_rep.size
    b_bg = np.flatnonzero(x.cell_bg[beams.pair_cell[beams.beam_pairs]] > 0)
    b_hop = np.flatnonzero(x.sat_bg[b_sat] > 0)
    sats_used = np.unique(sat[beams.flow_term])
    s_bg = sats_used[x.sat_bg[sats_used] > 0]
    row_beam = np.concatenate((classes.beam, b_bg))
    row_path = np.concatenate((classes.rep, b_rep[b_bg]))  # whose gateway / lasers the row follows
    n_path_rows = row_beam.size
    n_rows = n_path_rows + b_hop.size + s_bg.size
    # (np.unique on these few hundred ids, not dense tables of every satellite and laser.)
    sats_r, c_sat = np.unique(np.concatenate((sat[row_path], b_sat[b_hop], s_bg)), return_inverse=True)
    gws_r, c_gw = np.unique(gw[row_path], return_inverse=True)
    n_links = ptr[row_path + 1] - ptr[row_path]
    within = np.arange(int(n_links.sum())) - np.repeat(np.cumsum(n_links) - n_links, n_links)
    isls_r, c_isl = np.unique(edges[np.repeat(ptr[row_path], n_links) + within], return_inverse=True)
    base_gw = n_beam + sats_r.size
    base_isl = base_gw + gws_r.size
    kind = np.concatenate((
        np.full(n_beam, _BEAM, np.int8), np.full(sats_r.size, _SAT, np.int8),
        np.full(gws_r.size, _GW, np.int8), np.full(isls_r.size, _ISL, np.int8),
    ))
    row_len = np.concatenate((3 + n_links, np.full(b_hop.size, 2, np.intp), np.ones(s_bg.size, np.intp)))
    row_ptr = np.zeros(n_rows + 1, dtype=np.intp)
    np.cumsum(row_len, out=row_ptr[1:])
    col_of = np.empty(int(row_ptr[-1]), dtype=np.intp)
    p0 = row_ptr[:n_path_rows]
    col_of[p0] = row_beam
    col_of[p0 + 1] = n_beam + c_sat[:n_path_rows]
    col_of[p0 + 2] = base_gw + c_gw
    col_of[np.repeat(p0 + 3, n_links) + within] = base_isl + c_isl
    n_hop_end = n_path_rows + b_hop.size
    p_hop = row_ptr[n_path_rows:n_hop_end]
    col_of[p_hop] = b_hop
    col_of[p_hop + 1] = n_beam + c_sat[n_path_rows:n_hop_end]
    col_of[row_ptr[n_hop_end:-1]] = n_beam + c_sat[n_hop_end:]
    row_of = np.repeat(np.arange(n_rows, dtype=np.intp), row_len)
    return _FlowRows(row_of, col_of, row_ptr, kind, sats_r, c_sat, gws_r, isls_r.size, b_rep, b_sat, b_bg, b_hop,
                     s_bg)


def _hop_share(model: CapacityModel, satellite: NDArray[np.intp], satellite_load: NDArray[np.float64],
               cell_load: NDArray[np.float64]) -> NDArray[np.float64]:
    """Load of a satellite's other cells on the beam of one cell: beam hopping with balanced beams.

    Parameters
    ----------
    model : CapacityModel
        The direction's capacities.
    satellite : intp[B]
        Each beam's satellite.
    satellite_load : float64[B], bit/s
        Regional background of each beam's satellite (its other cells), ``L``.
    cell_load : float64[B], bit/s
        Background of the beam's own cell, ``x``.

    Returns
    -------
    hop : float64[B], bit/s
        ``max((L + x) R / C - x, 0)``: a satellite has far fewer beams than
        cells in view, so each beam hops among several of them, and a
        scheduler that balances its beams runs each at the satellite's
        utilisation ``(L + x) / C``; the cell's own ``x`` is part of its
        beam's ``(L + x) R / C``, and a cell busier than that keeps its beam
        to itself.  ``R / C`` is the beam's capacity over the satellite's
        (1/16 for V1.5), at most one of the satellite's *n* beams, ``1 / n``:
        a model whose satellite is smaller than its beams together would
        otherwise move more than ``L`` onto them.
    """
    share = np.minimum(model.beam_capacity_bps[satellite] / model.satellite_capacity_bps[satellite],
                       1.0 / np.maximum(model.beams_per_satellite[satellite], 1))
    return np.maximum((satellite_load + cell_load) * share - cell_load, 0.0)


def _direction(model: CapacityModel, x: _StepInputs, beams: _Beams, classes: _Classes, net: _FlowRows,
               k: int, visit: NDArray[np.float64] | None = None) -> SpeedTestStep:
    """One direction's max-min allocation and greedy rates on the shared structure (*k*: its demand in *classes*).

    *visit* (float64[G], uplink only): the share of its beam's time each
    terminal's cell gets on the downlink (`SpeedTestStep.cell_visit`).  The
    beam serves a cell in both directions during the same visits, so the
    uplink beam and the dish's grant are scaled by it, and the time the beam
    spends on the satellite's other cells, already out of it, is not charged
    again as uplink hop rows.
    """
    beam_cap = model.beam_capacity_bps[net.b_sat] * x.quality[net.b_rep]
    dish_cap = x.peak * x.quality  # per terminal
    if visit is not None:
        beam_cap = beam_cap * visit[net.b_rep]
        dish_cap = dish_cap * visit
    capacity = np.concatenate((
        beam_cap,
        model.satellite_capacity_bps[net.sats],
        model.gateway_capacity_bps[net.gws],
        np.full(net.n_isl_cols, model.isl_capacity_bps),
    ))
    cell_load = x.cell_bg[beams.pair_cell[beams.beam_pairs]]
    b_load = cell_load[net.b_bg]
    hop_sat = net.b_sat[net.b_hop]
    hop = (_hop_share(model, hop_sat, x.sat_bg[hop_sat], cell_load[net.b_hop]) if visit is None
           else np.zeros(hop_sat.size))
    # The hop rows carry part of their satellite's regional load: the rest stays on its own row
    # (at most all of it: the shares of a satellite's <= n beams sum to <= L; the clip is for rounding).
    s_load = x.sat_bg.copy()
    np.subtract.at(s_load, hop_sat, hop)
    s_load = np.maximum(s_load[net.s_bg], 0.0)
    weight = np.concatenate((classes.weight, b_load / x.flow_bps, hop / x.flow_bps, s_load / x.flow_bps))
    # A class asks at most its (first terminal's) dish cap: a no-op unless the visits lower it.
    own = np.minimum(classes.demand[k], dish_cap[classes.rep])
    demand = np.concatenate((own, np.full(b_load.size + hop.size + s_load.size, x.flow_bps)))
    rate, _ = _progressive_filling(net.row_of, net.col_of, net.row_ptr, demand, capacity, weight)
    greedy, limiting = _greedy_levels(net.row_ptr, net.col_of, rate, weight, capacity)
    n_term = x.cell.size
    speed, thr = np.zeros(n_term), np.zeros(n_term)
    neck = np.zeros(n_term, dtype=np.int8)
    beamed = np.zeros(n_term, dtype=bool)
    ft, class_of = beams.flow_term, classes.class_of
    beamed[ft] = True
    cap_t = dish_cap[ft]
    g_t = greedy[class_of]
    speed[ft] = np.minimum(cap_t, g_t)
    thr[ft] = rate[class_of]
    lim = limiting[class_of]
    neck_t = np.where(lim >= 0, net.kind[np.maximum(lim, 0)], _NONE)
    neck[ft] = np.where(cap_t <= g_t, _DISH, neck_t).astype(np.int8)
    sat_load = np.zeros(model.n_satellites)
    sat_load[net.sats] = np.bincount(net.row_sat, weights=rate * weight, minlength=net.sats.size)
    b_cell = beams.pair_cell[beams.beam_pairs]
    n_beam = b_cell.size
    cell_cap = np.bincount(b_cell, weights=capacity[:n_beam], minlength=x.n_cells)
    cell_beam = np.bincount(b_cell, weights=model.beam_capacity_bps[net.b_sat], minlength=x.n_cells)
    return SpeedTestStep(speed, thr, neck, beamed, sat_load, model.satellite_capacity_bps.copy(), cell_cap, cell_beam,
                         _cell_visit(net, beams, classes, rate, weight, capacity, hop.size, n_term) if visit is None
                         else visit)


def _cell_visit(net: _FlowRows, beams: _Beams, classes: _Classes, rate: NDArray[np.float64],
                weight: NDArray[np.float64], capacity: NDArray[np.float64], n_hop: int, n_term: int
                ) -> NDArray[np.float64]:
    """The share of its beam's time each terminal's cell gets: what the other cells' hop rows leave (0: no beam)."""
    n_head = classes.weight.size + net.b_bg.size
    hop_load = rate[n_head:n_head + n_hop] * weight[n_head:n_head + n_hop]
    hop_cap = capacity[net.b_hop]
    beam_visit = np.ones(net.b_rep.size)
    beam_visit[net.b_hop] = np.clip(
        1.0 - np.divide(hop_load, hop_cap, out=np.zeros_like(hop_load), where=hop_cap > 0), 0.0, 1.0)
    cell_visit = np.zeros(n_term)
    cell_visit[beams.flow_term] = beam_visit[beams.t_beam]
    return cell_visit


def _no_beam(model: CapacityModel, x: _StepInputs) -> SpeedTestStep:
    """A step where no terminal has a beam: every rate 0."""
    n = x.cell.size
    return SpeedTestStep(np.zeros(n), np.zeros(n), np.zeros(n, np.int8), np.zeros(n, bool),
                         np.zeros(model.n_satellites), model.satellite_capacity_bps.copy(),
                         np.zeros(x.n_cells), np.zeros(x.n_cells), np.zeros(n))


def _speedtest_pair(down_model: CapacityModel, up_model: CapacityModel, xd: _StepInputs, xu: _StepInputs,
                    cache: dict | None = None) -> tuple[SpeedTestStep, SpeedTestStep]:
    """Down- and uplink speed tests of a step on one flow structure (as two `speedtest_step` calls, faster).

    One structure serves both when the two directions give beams to the same
    cells (always when no satellite has more cells than beams, as the
    scheduler ensures) and have background in the same places; else the
    directions are computed apart.  With a *cache*, the structure of the
    previous call is reused when everything it is built from is equal
    (the link quality and the loads change every step; the routes often,
    the satellites and cells only at scheduler slots), and the beams alone
    while the satellites, cells and routed set are (`_beams_cached`), so
    results never depend on it.
    """
    key = _structure_key(xd, xu)
    if cache is not None and cache.get("key") is not None and _same_key(cache["key"], key):
        beams, classes, net = cache["structure"]
    else:
        beams = _beams_cached(down_model, xd, cache)
        if beams is None:
            return _no_beam(down_model, xd), _no_beam(up_model, xu)
        pairs_cell = beams.pair_cell[beams.beam_pairs]
        sats = np.unique(xd.sat[beams.flow_term])
        shared = (beams.all_kept and np.array_equal(xd.cell_bg[pairs_cell] > 0, xu.cell_bg[pairs_cell] > 0)
                  and np.array_equal(xd.sat_bg[sats] > 0, xu.sat_bg[sats] > 0))
        if not shared:
            down = _one_direction(down_model, xd)
            return down, _one_direction(up_model, xu, down.cell_visit)
        classes = _terminal_classes((xd, xu), beams)
        net = _flow_rows(xd, beams, classes)
        if cache is not None:
            cache["key"], cache["structure"] = key, (beams, classes, net)
    down = _direction(down_model, xd, beams, classes, net, 0)
    return down, _direction(up_model, xu, beams, classes, net, 1, down.cell_visit)


def _structure_key(xd: _StepInputs, xu: _StepInputs) -> tuple:
    """What the shared structure of `_speedtest_pair` is built from (the beams need all pairs kept: checked)."""
    routed = (xd.sat >= 0) & (xd.gw >= 0)
    t = np.flatnonzero(routed)
    # Copies: a caller may reuse its arrays for the next step.
    return (
        xd.sat.copy(), xd.gw.copy(), xd.ptr.copy(), xd.edges.copy(), xd.n_cells, xd.cell.copy(),
        _capped_demand(xd, t), _capped_demand(xu, t), np.where(routed, xd.demand, 0.0),
        xd.cell_bg > 0, xu.cell_bg > 0, xd.sat_bg > 0, xu.sat_bg > 0,
    )


def _beams_cached(model: CapacityModel, x: _StepInputs, cache: dict | None) -> _Beams | None:
    """`_choose_beams`, reused while the terminals' satellites, cells and routed set are the same.

    Only a choice that kept every (satellite, cell) pair is reused: the
    busiest-first ranking then keeps them all whatever the demands and
    loads, so the beams depend on nothing else.  In a big run the routes
    (gateways, lasers) change nearly every step, the serving satellites
    only at scheduler slots: the beams outlive the rest of the structure.
    One *cache* serves one *model* (a `SpeedTestRun`'s downlink).
    """
    if cache is None:
        return _choose_beams(model, x)
    routed = (x.sat >= 0) & (x.gw >= 0)
    key = (x.sat, x.cell, routed, x.n_cells)
    held = cache.get("beams_key")
    if held is not None and _same_key(held, key):
        return cache["beams"]
    beams = _choose_beams(model, x)
    if beams is not None and beams.all_kept:
        # Copies: a caller may reuse its arrays for the next step.
        cache["beams_key"], cache["beams"] = (x.sat.copy(), x.cell.copy(), routed, x.n_cells), beams
    else:
        cache.pop("beams_key", None)
    return beams


def _same_key(a: tuple, b: tuple) -> bool:
    return all(
        (np.array_equal(u, v) if isinstance(u, np.ndarray) else u == v) for u, v in zip(a, b)
    )


def _one_direction(model: CapacityModel, x: _StepInputs, visit: NDArray[np.float64] | None = None) -> SpeedTestStep:
    beams = _choose_beams(model, x)
    if beams is None:
        return _no_beam(model, x)
    classes = _terminal_classes((x,), beams)
    return _direction(model, x, beams, classes, _flow_rows(x, beams, classes), 0, visit)


# --------------------------------------------------------------------------
# Background load from population
# --------------------------------------------------------------------------


def _sinusoidal_area_km2(geom) -> float:
    """Area of a lon/lat (Multi)Polygon on the sphere, km^2 (sinusoidal equal-area projection)."""
    import shapely

    def project(xy):
        lon, lat = xy[:, 0], xy[:, 1]
        return np.column_stack((lon * np.cos(np.radians(lat)), lat))

    deg_km = np.pi * 6371.0088 / 180.0
    return float(shapely.transform(geom, project).area * deg_km * deg_km)


@dataclass(frozen=True)
class PopulationGrid:
    """People on an H3 grid: GeoNames places plus each country's rest spread over its area.

    Attributes
    ----------
    resolution : int
        H3 resolution of the grid (3: ~12,400 km^2 hexagons).
    lat_deg, lon_deg : float64[K], degrees
        Centres of the populated grid cells (plus one point per country too
        small to hold a grid centre).
    population : float64[K]
    served : bool[K]
        In a country where Starlink sells (`SERVED_ISO2`).
    rural_density_per_km2 : dict of str to float
        Population outside the GeoNames places (>= 15,000 people) per km^2,
        by ISO alpha-2 country code.
    city_cell_population : dict of int to float
        Population of GeoNames places by the H3 cell (at the service-cell
        resolution) they lie in.
    country_of_cell : callable
    """

    resolution: int
    lat_deg: NDArray[np.float64]
    lon_deg: NDArray[np.float64]
    population: NDArray[np.float64]
    served: NDArray[np.bool_]
    rural_density_per_km2: dict
    city_cell_population: dict
    cell_resolution: int


_GRID_CACHE: dict = {}

#: The shipped grid of the default arguments, three Parquet files under
#: ``leonet/data/population/`` (provenance: leonet/data/SOURCES.md), written
#: by `write_population_grid`: computing it takes ~10-15 s, reading it ~20 ms.
SHIPPED_GRID_FILES = ("grid_h3r3.parquet", "places_h3r5.parquet", "rural_density.parquet")


def _served_key(served: frozenset) -> str:
    import hashlib

    return hashlib.sha256(",".join(sorted(served)).encode()).hexdigest()


def population_grid(resolution: int = 3, cell_resolution: int = 5, served_iso2=None) -> PopulationGrid:
    """The world's population on an H3 grid (cached per arguments).

    Sources: the shipped GeoNames places of >= 15,000 people (their own
    population, at their coordinates) and the shipped Natural Earth borders'
    ``POP_EST`` (each country's total).  A country's population outside its
    GeoNames places is spread uniformly over its land area.  Countries are
    assigned to grid cells by the cell centre (`leonet.ground.regions.country_of`).

    The default arguments read the shipped grid (`SHIPPED_GRID_FILES`, ~20 ms);
    others compute it (~10-15 s: `compute_population_grid`).
    """
    from .speedtest_params import SERVED_ISO2

    served_set = frozenset(SERVED_ISO2 if served_iso2 is None else served_iso2)
    key = (resolution, cell_resolution, served_set)
    if key not in _GRID_CACHE:
        grid = _read_shipped_grid(resolution, cell_resolution, served_set)
        _GRID_CACHE[key] = compute_population_grid(resolution, cell_resolution, served_set) if grid is None else grid
    return _GRID_CACHE[key]


def _read_shipped_grid(resolution: int, cell_resolution: int, served: frozenset) -> PopulationGrid | None:
    """The shipped grid if it was built for these arguments, else None."""
    import pyarrow.parquet as pq

    from ..ground.names import data_path

    paths = [data_path("population", name) for name in SHIPPED_GRID_FILES]
    if not all(p.is_file() for p in paths):
        return None
    # (ParquetFile, not read_table: that imports pyarrow.dataset and pandas, ~0.7 s.)
    grid, places, rural = (pq.ParquetFile(p).read() for p in paths)
    meta = {k.decode(): v.decode() for k, v in (grid.schema.metadata or {}).items()}
    if (meta.get("resolution"), meta.get("cell_resolution"), meta.get("served_iso2_sha256")) != (
        str(resolution), str(cell_resolution), _served_key(served)
    ):
        return None
    def col(table, name):
        # (From the buffers: pyarrow's to_numpy imports pandas, ~0.7 s a process.)  float64, no nulls.
        parts = [np.frombuffer(c.buffers()[1], dtype=np.float64, count=len(c), offset=8 * c.offset)
                 for c in table.column(name).chunks]
        return np.concatenate(parts) if parts else np.zeros(0)

    if any(t.column(i).null_count for t in (grid, places, rural) for i in range(t.num_columns)):
        return None

    return PopulationGrid(
        resolution=resolution,
        lat_deg=col(grid, "lat_deg"),
        lon_deg=col(grid, "lon_deg"),
        population=col(grid, "population"),
        served=np.array(grid.column("served").to_pylist(), dtype=bool),
        rural_density_per_km2=dict(zip(rural.column("iso2").to_pylist(), rural.column("density_per_km2").to_pylist())),
        city_cell_population=dict(zip(places.column("cell").to_pylist(), places.column("population").to_pylist())),
        cell_resolution=cell_resolution,
    )


def write_population_grid(directory, grid: PopulationGrid | None = None) -> list:
    """Write *grid* (default: computed for the default arguments) as the three shipped files in *directory*.

    ``python -c "from leonet.capacity.speedtest import write_population_grid; write_population_grid('DIR')"``
    rebuilds leonet/data/population/ (then update the sha256 sums in leonet/data/SOURCES.md).
    Returns the paths written.
    """
    from pathlib import Path

    import pyarrow as pa
    import pyarrow.parquet as pq

    from .speedtest_params import SERVED_ISO2

    if grid is None:
        grid = compute_population_grid(3, 5, frozenset(SERVED_ISO2))
    meta = {"resolution": str(grid.resolution), "cell_resolution": str(grid.cell_resolution),
            "served_iso2_sha256": _served_key(frozenset(SERVED_ISO2)),
            "built_by": "leonet.capacity.speedtest.compute_population_grid"}
    cells = sorted(grid.city_cell_population)
    codes = sorted(grid.rural_density_per_km2)
    tables = (
        pa.table({"lat_deg": grid.lat_deg, "lon_deg": grid.lon_deg, "population": grid.population,
                  "served": grid.served}),
        pa.table({"cell": pa.array(cells, pa.uint64()),
                  "population": pa.array([grid.city_cell_population[c] for c in cells], pa.float64())}),
        pa.table({"iso2": pa.array(codes, pa.string()),
                  "density_per_km2": pa.array([grid.rural_density_per_km2[c] for c in codes], pa.float64())}),
    )
    out = []
    for name, table in zip(SHIPPED_GRID_FILES, tables):
        path = Path(directory) / name
        pq.write_table(table.replace_schema_metadata(meta), path, compression="zstd")
        out.append(path)
    return out


def compute_population_grid(resolution: int, cell_resolution: int, served_set: frozenset) -> PopulationGrid:
    """Build the population grid from the shipped places and borders (~10-15 s; `population_grid` caches it)."""
    from h3.api import basic_int as h3int

    from ..ground.regions import _WORLD, _iso2, _shipped, country_of
    from ..ground.sites import load_cities

    props, geoms, _ = _shipped(_WORLD)
    pop_est: dict[str, float] = {}
    area: dict[str, float] = {}
    rep: dict[str, tuple[float, float]] = {}
    for p, g in zip(props, geoms):
        code = _iso2(p)
        if not code:
            continue
        pop_est[code] = pop_est.get(code, 0.0) + float(p.get("POP_EST") or 0.0)
        area[code] = area.get(code, 0.0) + _sinusoidal_area_km2(g)
        pt = g.representative_point()
        rep.setdefault(code, (pt.y, pt.x))
    cities = load_cities()
    city_total: dict[str, float] = {}
    for code, n in zip(cities.country_iso2, cities.population.tolist()):
        city_total[code] = city_total.get(code, 0.0) + float(n)
    rural_density = {
        c: max(pop_est[c] - city_total.get(c, 0.0), 0.0) / area[c] for c in pop_est if area.get(c, 0.0) > 0
    }
    # Grid cells: rural part by the country of the centre, plus the places inside.
    cells = np.array([c for r in h3int.get_res0_cells() for c in h3int.cell_to_children(r, resolution)], dtype=np.uint64)
    ll = np.array([h3int.cell_to_latlng(int(c)) for c in cells.tolist()])
    iso = np.array(country_of(ll[:, 0], ll[:, 1]), dtype=object)
    cell_area = np.array([h3int.cell_area(int(c), unit="km^2") for c in cells.tolist()])
    # Spread each country's rural people over the cells whose centre it holds, in
    # proportion to their area, so that the country's total is kept exactly.
    codes, inv = np.unique(iso.astype(str), return_inverse=True)
    area_by_code = np.bincount(inv, weights=cell_area)
    rural_by_code = np.array([rural_density.get(c, 0.0) * area.get(c, 0.0) for c in codes])
    pop = np.where(codes[inv] != "", rural_by_code[inv] * cell_area / area_by_code[inv], 0.0)
    index = {int(c): i for i, c in enumerate(cells.tolist())}
    city_cells = np.array([h3int.latlng_to_cell(a, b, resolution) for a, b in
                           zip(cities.lat_deg.tolist(), cities.lon_deg.tolist())], dtype=np.uint64)
    city_idx = np.array([index[int(c)] for c in city_cells.tolist()])
    pop += np.bincount(city_idx, weights=cities.population.astype(np.float64), minlength=cells.size)
    city_served = np.array([c in served_set for c in cities.country_iso2])
    served_people = np.bincount(city_idx, weights=cities.population * city_served, minlength=cells.size)
    served = np.array([c in served_set for c in iso]) | (served_people > 0.5 * np.maximum(pop, 1.0))
    # Countries holding no grid centre (small islands): their rural people at one point.
    present = set(iso.tolist())
    extra = [c for c in rural_density if c not in present and rural_density[c] * area[c] > 0]
    lat = np.concatenate((ll[:, 0], [rep[c][0] for c in extra]))
    lon = np.concatenate((ll[:, 1], [rep[c][1] for c in extra]))
    pop = np.concatenate((pop, [rural_density[c] * area[c] for c in extra]))
    served = np.concatenate((served, [c in served_set for c in extra]))
    keep = pop > 0
    # Places by service cell, for the population of a terminal's own cell.
    fine = np.array([h3int.latlng_to_cell(a, b, cell_resolution) for a, b in
                     zip(cities.lat_deg.tolist(), cities.lon_deg.tolist())], dtype=np.uint64)
    city_cell_pop: dict[int, float] = {}
    for c, n, s in zip(fine.tolist(), cities.population.tolist(), city_served.tolist()):
        city_cell_pop[int(c)] = city_cell_pop.get(int(c), 0.0) + float(n) * (1.0 if s else 0.0)
    grid = PopulationGrid(
        resolution=resolution,
        lat_deg=lat[keep],
        lon_deg=lon[keep],
        population=pop[keep],
        served=served[keep],
        rural_density_per_km2={c: (d if c in served_set else 0.0) for c, d in rural_density.items()},
        city_cell_population=city_cell_pop,
        cell_resolution=cell_resolution,
    )
    return grid


def diurnal_factor(local_hour: ArrayLike, profile: ArrayLike | None = None) -> NDArray[np.float64]:
    """Traffic at a local (solar) hour relative to the daily mean, interpolated linearly between hours.

    Examples
    --------
    >>> from leonet.capacity.speedtest_params import DIURNAL_PROFILE
    >>> bool(abs(diurnal_factor(21.0) - DIURNAL_PROFILE[21]) < 1e-12)
    True
    """
    from .speedtest_params import DIURNAL_PROFILE

    prof = np.asarray(DIURNAL_PROFILE if profile is None else profile, dtype=np.float64)
    h = np.mod(np.asarray(local_hour, dtype=np.float64), 24.0)
    lo = np.floor(h).astype(np.intp) % 24
    hi = (lo + 1) % 24
    frac = h - np.floor(h)
    return prof[lo] * (1.0 - frac) + prof[hi] * frac


#: Earth radii for reach and distance bounds, km (WGS84 equatorial and polar; IUGG mean).
_RE_EQ_KM = 6378.137
_R_POLAR_KM = 6356.752
_R_MEAN_KM = 6371.0088


def _up_vectors(lat_deg: NDArray[np.float64], lon_deg: NDArray[np.float64]) -> NDArray[np.float64]:
    """Geodetic up unit vectors, float64[N, 3]."""
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    return np.column_stack((np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)))


def _visible_pairs(ground_r: NDArray[np.float64], ground_up: NDArray[np.float64], r_sat: NDArray[np.float64],
                   min_elevation_deg: float) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Every (ground point, satellite) pair with the satellite at least *min_elevation_deg* high.

    k-d trees of both sets, a radius of the longest slant range at the mask
    (for the highest satellite), then the exact elevation test.  NaN rows
    of *r_sat* are skipped.
    """
    from scipy.spatial import cKDTree

    ok = np.flatnonzero(np.all(np.isfinite(r_sat), axis=1))
    if ok.size == 0 or ground_r.shape[0] == 0:
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    alt = np.linalg.norm(r_sat[ok], axis=1) - _R_POLAR_KM  # conservative (polar radius): longest reach
    sin_e = np.sin(np.radians(min_elevation_deg))
    h = float(alt.max())
    reach = -_RE_EQ_KM * sin_e + np.sqrt((_RE_EQ_KM * sin_e) ** 2 + 2 * _RE_EQ_KM * h + h * h)
    pairs = cKDTree(ground_r).sparse_distance_matrix(cKDTree(r_sat[ok]), reach, output_type="ndarray")
    g = pairs["i"].astype(np.intp)
    s = ok[pairs["j"]]
    d = r_sat[s] - ground_r[g]
    vis = np.einsum("ij,ij->i", d, ground_up[g]) / np.linalg.norm(d, axis=1) >= sin_e
    return g[vis], s[vis]


class BackgroundLoad:
    """Traffic of the subscribers leonet does not simulate, from population.

    Parameters
    ----------
    subscribers : float
        Starlink subscribers in the world (`SUBSCRIBERS_2025_12`), spread
        over the population of the served countries: every person in a
        served country is a subscriber with the same probability, except in
        sold-out cells (the probability is solved so that the capped total
        is *subscribers*).
    mean_down_bps, mean_up_bps : float, bit/s
        Mean demand of one subscriber over the day.
    sell_out_utilisation : float
        A service cell takes at most ``u x beam_capacity_bps / (mean_down x
        peak of the daily profile)`` subscribers (Starlink's "sold out"
        cells); the regional grid is capped at the same density.
    beam_capacity_bps : float, bit/s
        Beam capacity the sell-out cap is computed against; default: the
        top-modulation beam at a typical geometry (45 deg elevation, 550 km:
        `link_factor` with *zenith_margin_db*).
    zenith_margin_db : float, dB
        Downlink margin used for that default.
    min_elevation_deg : float, degrees
        A satellite can serve a place when it is at least this high there.
    grid_resolution : int
        H3 resolution of the regional population grid.
    cell_resolution : int
        H3 resolution of service cells (`leonet.capacity.cells`).
    served_iso2 : iterable of str, optional
        Countries where Starlink sells (`SERVED_ISO2`).

    Notes
    -----
    *A terminal's own cell.*  ``cell_subscribers`` counts the served
    population of a service cell -- its GeoNames places plus the country's
    rural density times the cell's area -- times the subscribers per person,
    capped by the sell-out rule.  Its load at a step is that times the mean
    demand times the daily profile at the cell's local solar hour.

    *A satellite's other cells.*  Every grid cell's load is shared by the
    satellites it sees above the elevation mask, in proportion to their
    capacity (a scheduler that balances load keeps their utilisation equal);
    ``satellite_load_bps`` sums each satellite's shares.  So places with few
    satellites overhead (low latitudes for the 53 deg shells) or many people
    put more load on each satellite: differences between countries come from
    the geometry and the population, not from per-country constants.

    The regional load includes the terminal's own cell once more (its
    subscribers also cross its satellite as cell background); at ~1/50 of a
    grid cell this double count is small and errs towards load.
    """

    def __init__(
        self,
        *,
        subscribers: float | None = None,
        mean_down_bps: float | None = None,
        mean_up_bps: float | None = None,
        sell_out_utilisation: float | None = None,
        beam_capacity_bps: float | None = None,
        zenith_margin_db: float = ZENITH_LINK_MARGIN_DB,
        min_elevation_deg: float = 25.0,
        grid_resolution: int = 3,
        cell_resolution: int = 5,
        served_iso2=None,
    ):
        import h3

        from . import speedtest_params as sp
        from .params import BEAM_CAPACITY_BPS

        self.subscribers = sp.SUBSCRIBERS_2025_12 if subscribers is None else float(subscribers)
        self.mean_down_bps = sp.MEAN_DOWN_BPS_PER_SUBSCRIBER if mean_down_bps is None else float(mean_down_bps)
        self.mean_up_bps = sp.MEAN_UP_BPS_PER_SUBSCRIBER if mean_up_bps is None else float(mean_up_bps)
        u = sp.SELL_OUT_UTILISATION if sell_out_utilisation is None else float(sell_out_utilisation)
        if beam_capacity_bps is None:
            beam = BEAM_CAPACITY_BPS * float(link_factor(sp.TYPICAL_SLANT_RANGE_KM, sp.TYPICAL_ALTITUDE_KM,
                                                         zenith_margin_db=zenith_margin_db))
        else:
            beam = float(beam_capacity_bps)
        self.beam_capacity_bps = beam
        for name, value in (("subscribers", self.subscribers), ("mean_down_bps", self.mean_down_bps),
                            ("mean_up_bps", self.mean_up_bps), ("sell_out_utilisation", u)):
            if not (np.isfinite(value) and value >= 0):
                raise ScenarioError(f"BackgroundLoad: {name} must be finite and >= 0, got {value!r}.")
        self.sell_out_utilisation = u
        self.min_elevation_deg = float(min_elevation_deg)
        self.grid = population_grid(grid_resolution, cell_resolution, served_iso2)
        #: Most subscribers one service cell takes (sell-out rule).
        self.cell_cap = u * beam / (self.mean_down_bps * float(np.max(sp.DIURNAL_PROFILE))) if self.mean_down_bps else np.inf
        self.cell_area_km2 = float(h3.average_hexagon_area(cell_resolution, unit="km^2"))
        grid_area = float(h3.average_hexagon_area(grid_resolution, unit="km^2"))
        grid_cap = self.cell_cap * grid_area / self.cell_area_km2
        people = self.grid.population * self.grid.served
        # Subscribers per person: where cells are sold out the rest live
        # elsewhere, so solve sum(min(p x people, cap)) = subscribers for p.
        lo, hi = 0.0, 1.0
        if float(np.minimum(people * hi, grid_cap).sum()) <= self.subscribers:
            lo = hi
        for _ in range(100):
            mid = 0.5 * (lo + hi)
            if float(np.minimum(people * mid, grid_cap).sum()) < self.subscribers:
                lo = mid
            else:
                hi = mid
        self.subscribers_per_person = lo
        self.grid_subscribers = np.minimum(people * lo, grid_cap)
        from ..orbits.frames import geodetic_to_ecef

        self._grid_r = geodetic_to_ecef(self.grid.lat_deg, self.grid.lon_deg, 0.0)
        lat = np.radians(self.grid.lat_deg)
        lon = np.radians(self.grid.lon_deg)
        self._grid_up = np.column_stack((np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)))
        self._grid_tree = None  # k-d tree of the grid, built on first use (serving_load_bps)
        self._visible_capacity = None  # mean capacity in view of each grid cell (with_mean_visible_capacity)

    def restricted_to(self, lat_deg: ArrayLike, lon_deg: ArrayLike, radius_km: float = 2600.0) -> BackgroundLoad:
        """The same model with the regional grid cut to within *radius_km* of the given points.

        A satellite that serves a terminal is within ~1,200 km (slant range at
        a 25 deg mask) of it and sees ground up to ~1,200 km from its
        sub-point, so 2,600 km around the run's terminals keeps the load of
        every satellite that can serve them exact; other satellites' loads
        are then too low (they never enter a speed test, whose resources
        are the serving satellites).  Cuts `satellite_load_bps` from ~0.3 s
        to a few ms for a country-sized run.  Subscribers per person are
        kept from the whole world.  Distances are chords between the points
        on the ellipsoid, against the chord of *radius_km* on a sphere of
        the equatorial radius (a few km generous).
        """
        import copy

        from scipy.spatial import cKDTree

        from ..orbits.frames import geodetic_to_ecef

        pts = geodetic_to_ecef(np.asarray(lat_deg, dtype=np.float64).ravel(),
                               np.asarray(lon_deg, dtype=np.float64).ravel(), 0.0)
        near = np.zeros(self.grid.lat_deg.size, dtype=bool)
        if pts.shape[0]:
            chord = 2.0 * _RE_EQ_KM * np.sin(min(float(radius_km) / (2.0 * _R_MEAN_KM), np.pi / 2))
            dist, _ = cKDTree(np.unique(pts, axis=0)).query(self._grid_r, distance_upper_bound=chord)
            near = np.isfinite(dist)
        out = copy.copy(self)
        grid = self.grid
        out.grid = PopulationGrid(
            resolution=grid.resolution, lat_deg=grid.lat_deg[near], lon_deg=grid.lon_deg[near],
            population=grid.population[near], served=grid.served[near],
            rural_density_per_km2=grid.rural_density_per_km2, city_cell_population=grid.city_cell_population,
            cell_resolution=grid.cell_resolution,
        )
        out.grid_subscribers = self.grid_subscribers[near]
        out._grid_r = self._grid_r[near]
        out._grid_up = self._grid_up[near]
        out._grid_tree = None
        out._visible_capacity = None if self._visible_capacity is None else self._visible_capacity[near]
        out.__dict__.pop("_validation_sat_load", None)
        return out

    def with_mean_visible_capacity(self, r_ecef_km: NDArray[np.float64], capacity_bps: ArrayLike,
                                   lat_step_deg: float = 1.0, n_lon: int = 72) -> BackgroundLoad:
        """The same model, sharing each place's load by the capacity it sees *on average* (for `serving_load_bps`).

        Parameters
        ----------
        r_ecef_km : float64[S, 3], km, ECEF
            Satellite positions at one instant (NaN rows: not in service).
        capacity_bps : float64[S], bit/s
            Each satellite's capacity.
        lat_step_deg, n_lon
            The sampling: every *lat_step_deg* of latitude over the grid's
            span, *n_lon* longitudes each.

        Notes
        -----
        `satellite_load_bps` shares the load of a place among the satellites
        it sees *now*, which needs every satellite's neighbourhood at every
        step (~25-40 ms a step).  Averaged over time, the capacity above a
        place depends on its latitude only (orbits precess; the Earth turns
        under them), and one instant averaged over longitude samples that
        average.  With it, a serving satellite's background is the sum over
        the places it sees of ``load x its capacity / mean capacity in view``
        (`serving_load_bps`): only the few serving satellites' footprints are
        needed each step, and the shares still add up to each place's load
        on average.
        """
        import copy

        from ..orbits.frames import geodetic_to_ecef

        r = np.asarray(r_ecef_km, dtype=np.float64)
        cap = np.asarray(capacity_bps, dtype=np.float64)
        out = copy.copy(self)
        if self.grid.lat_deg.size == 0:
            out._visible_capacity = np.zeros(0)
            return out
        lo = max(float(self.grid.lat_deg.min()) - lat_step_deg, -90.0)
        hi = min(float(self.grid.lat_deg.max()) + lat_step_deg, 90.0)
        lats = np.arange(lo, hi + lat_step_deg, lat_step_deg)
        lons = np.arange(n_lon) * (360.0 / n_lon) - 180.0
        la, lo_ = np.meshgrid(lats, lons, indexing="ij")
        ground = geodetic_to_ecef(la.ravel(), lo_.ravel(), 0.0)
        g, s = _visible_pairs(ground, _up_vectors(la.ravel(), lo_.ravel()), r, self.min_elevation_deg)
        seen = np.bincount(g, weights=cap[s], minlength=ground.shape[0]).reshape(lats.size, n_lon)
        out._visible_capacity = np.interp(self.grid.lat_deg, lats, seen.mean(axis=1))
        return out

    # -- a terminal's own cell ------------------------------------------------
    def cell_subscribers(self, cell_id: ArrayLike, country_iso2: Sequence[str] | None = None) -> NDArray[np.float64]:
        """Background subscribers in each service cell (float64[C]).

        Parameters
        ----------
        cell_id : uint64[C]
            H3 indexes at the service-cell resolution (`ServiceCells.cell_id`).
        country_iso2 : sequence of str, [C], optional
            Country of each cell (default: of its centre).
        """
        return np.minimum(self.cell_population(cell_id, country_iso2) * self.subscribers_per_person, self.cell_cap)

    def cell_population(self, cell_id: ArrayLike, country_iso2: Sequence[str] | None = None) -> NDArray[np.float64]:
        """Served population of each service cell (float64[C]): its GeoNames places plus rural density x area."""
        from h3.api import basic_int as h3int

        from ..ground.regions import country_of

        ids = np.asarray(cell_id, dtype=np.uint64)
        if ids.size == 0:
            return np.zeros(0)
        if country_iso2 is None:
            centres = np.array([h3int.cell_to_latlng(int(c)) for c in ids.tolist()]).reshape(-1, 2)
            country_iso2 = country_of(centres[:, 0], centres[:, 1])
        rural = np.array([self.grid.rural_density_per_km2.get(c, 0.0) for c in country_iso2]) * self.cell_area_km2
        cities = np.array([self.grid.city_cell_population.get(int(c), 0.0) for c in ids.tolist()])
        return rural + cities

    def cell_load_bps(
        self, subscribers: ArrayLike, lon_deg: ArrayLike, utc_hour: float, direction: str = "down"
    ) -> NDArray[np.float64]:
        """Load of *subscribers* at longitude *lon_deg* at UTC hour *utc_hour*, bit/s."""
        mean = self._mean(direction)
        local = float(utc_hour) + np.asarray(lon_deg, dtype=np.float64) / 15.0
        return np.asarray(subscribers, dtype=np.float64) * mean * diurnal_factor(local)

    # -- a satellite's other cells --------------------------------------------
    def satellite_load_bps(
        self,
        r_ecef_km: NDArray[np.float64],
        capacity_bps: ArrayLike,
        utc_hour: float,
        direction: str = "down",
    ) -> NDArray[np.float64]:
        """Background load on every satellite, bit/s (float64[S]).

        Parameters
        ----------
        r_ecef_km : float64[S, 3], km, ECEF
            Satellite positions this step (NaN rows: not in service).
        capacity_bps : float64[S], bit/s
            Each satellite's capacity in this direction (load is shared in
            proportion to it).
        utc_hour : float
            Hours since 00:00 UTC (the daily profile runs on local solar time).
        direction : {"down", "up"}

        Notes
        -----
        Pairs (grid cell, satellite) above the elevation mask are found with
        a k-d tree of the satellites (radius: the longest slant range at the
        mask, then the exact elevation test).  ~0.3 s for the whole world and
        10,000 satellites.  `serving_load_bps` is the per-step alternative
        for a few satellites.
        """
        r = np.asarray(r_ecef_km, dtype=np.float64)
        cap = np.asarray(capacity_bps, dtype=np.float64)
        n_sat = r.shape[0]
        out = np.zeros(n_sat)
        demand = self._grid_demand(utc_hour, direction)
        active = np.flatnonzero(demand > 0)
        if active.size == 0 or not np.all(np.isfinite(r), axis=1).any():
            return out
        g, s = _visible_pairs(self._grid_r[active], self._grid_up[active], r, self.min_elevation_deg)
        g = active[g]
        total = np.bincount(g, weights=cap[s], minlength=self.grid_subscribers.size)
        share = np.divide(cap[s], total[g], out=np.zeros(s.size), where=total[g] > 0)
        out += np.bincount(s, weights=demand[g] * share, minlength=n_sat)
        return out

    def serving_load_bps(
        self,
        r_ecef_km: NDArray[np.float64],
        satellites: ArrayLike,
        capacity_bps: ArrayLike,
        utc_hour: float,
        direction: str = "down",
    ) -> NDArray[np.float64]:
        """Background load on a few satellites, bit/s, each place's load shared by its mean capacity in view.

        Needs `with_mean_visible_capacity`.  Satellite ``k`` carries, of every
        grid cell it sees above the mask, ``load x capacity_k / mean capacity
        in view of the cell``.  ~0.1 ms a satellite.

        Parameters
        ----------
        r_ecef_km : float64[S, 3], km, ECEF
            Satellite positions this step.
        satellites : int[K]
            The satellites wanted (e.g. this step's serving satellites).
        capacity_bps : float64[S], bit/s
        utc_hour : float
        direction : {"down", "up"}

        Returns
        -------
        float64[K], bit/s
        """
        if self._visible_capacity is None:
            raise RuntimeError("serving_load_bps needs with_mean_visible_capacity first")
        from scipy.spatial import cKDTree

        sats = np.asarray(satellites, dtype=np.intp)
        out = np.zeros(sats.size)
        r = np.asarray(r_ecef_km, dtype=np.float64)[sats]
        ok = np.flatnonzero(np.all(np.isfinite(r), axis=1))
        if ok.size == 0 or self.grid_subscribers.size == 0:
            return out
        if self._grid_tree is None:
            self._grid_tree = cKDTree(self._grid_r)
        h = float(np.max(np.linalg.norm(r[ok], axis=1))) - _R_POLAR_KM  # conservative: the longest reach
        sin_e = np.sin(np.radians(self.min_elevation_deg))
        reach = -_RE_EQ_KM * sin_e + np.sqrt((_RE_EQ_KM * sin_e) ** 2 + 2 * _RE_EQ_KM * h + h * h)
        pairs = cKDTree(r[ok]).sparse_distance_matrix(self._grid_tree, reach, output_type="ndarray")
        if pairs.size == 0:
            return out
        k = ok[pairs["i"]]
        g = pairs["j"].astype(np.intp)
        # (np.take: the same rows as r[k], ~2x faster for (N, 3) arrays.)
        d = np.take(r, k, axis=0) - np.take(self._grid_r, g, axis=0)
        vis = np.einsum("ij,ij->i", d, np.take(self._grid_up, g, axis=0)) >= sin_e * np.linalg.norm(d, axis=1)
        g, k = g[vis], k[vis]
        # Each place's load once, then per pair: the same values as computing it per pair,
        # without repeating it for every satellite that sees the place.
        demand = self._grid_demand(utc_hour, direction)[g]
        mean_cap = self._visible_capacity[g]
        cap = np.asarray(capacity_bps, dtype=np.float64)[sats[k]]
        share = np.divide(cap, mean_cap, out=np.zeros(k.size), where=mean_cap > 0)
        out += np.bincount(k, weights=demand * share, minlength=sats.size)
        return out

    def _grid_demand(self, utc_hour: float, direction: str) -> NDArray[np.float64]:
        local = float(utc_hour) + self.grid.lon_deg / 15.0
        return self.grid_subscribers * self._mean(direction) * diurnal_factor(local)

    def _mean(self, direction: str) -> float:
        if direction == "down":
            return self.mean_down_bps
        if direction == "up":
            return self.mean_up_bps
        raise ScenarioError(f"direction must be 'down' or 'up', got {direction!r}.")


# --------------------------------------------------------------------------
# Everything a run needs, per step
# --------------------------------------------------------------------------


class SpeedTestRun:
    """The speed-test model of one run: built once, asked once per step.

    Parameters
    ----------
    down_model : CapacityModel
        The run's downlink capacities (`CapacitySpec.model`; see
        `satellite_generations` to class a Starlink snapshot by generation).
    terminal_cell : intp[G]
        `ServiceCells.terminal_cell` of the run's terminals.
    cell_id : uint64[C]
        `ServiceCells.cell_id` (H3 indexes of the service cells).
    terminal_lat_deg, terminal_lon_deg : float64[G], degrees
        Where the terminals are (to restrict the background grid around them).
    dish : str or sequence of str, [G]
        Dish of each terminal, a key of `DISHES` (default ``"standard"``).
    background : BackgroundLoad or None or False
        Default: ``BackgroundLoad`` of the network at *as_of* (subscribers,
        demand per subscriber), restricted to 2,600 km around the terminals.
        ``False``: no background (only the simulated terminals).
    as_of : date, datetime or str, optional
        The network's date (`leonet.capacity.speedtest_params.network_state`):
        subscribers and demand of the default background.  Default: the
        calibration date (2025-12).
    subscribers : float, optional
        Override of the subscribers world-wide (0: no background).
    visibility_positions_km : float64[S, 3], km, ECEF, optional
        Satellite positions at one instant.  Given, each place's background
        is shared by the capacity it sees on average
        (`BackgroundLoad.with_mean_visible_capacity`) and a step computes the
        serving satellites' loads only (`BackgroundLoad.serving_load_bps`,
        ~1 ms); omitted, every satellite's load is computed from the step's
        positions (`BackgroundLoad.satellite_load_bps`, ~25-40 ms).
    cell_country_iso2 : sequence of str, [C], optional
        Country of each service cell ("" unknown: from its centre).
    zenith_margin_db : float, dB
        Downlink margin (`ZENITH_LINK_MARGIN_DB`).
    uplink_zenith_margin_db : float, dB, optional
        Uplink margin at zenith (`UPLINK_ZENITH_MARGIN_DB`).

    Examples
    --------
    >>> from leonet.capacity import CapacityModel
    >>> run = SpeedTestRun(CapacityModel.uniform(1, [20e9]), [0], [0x851e6387fffffff], [50.45], [30.52],
    ...                    background=False)
    >>> r_sat = np.array([[3807.3, 2244.4, 5318.9]])  # 550 km above Kyiv
    >>> down, up = run.step(12.0, r_sat, [0], [0], 0.0, [552.0])
    >>> round(float(down.speedtest_bps[0]) / 1e6), round(float(up.speedtest_bps[0]) / 1e6)
    (376, 54)
    """

    def __init__(
        self,
        down_model: CapacityModel,
        terminal_cell: ArrayLike,
        cell_id: ArrayLike,
        terminal_lat_deg: ArrayLike,
        terminal_lon_deg: ArrayLike,
        *,
        dish: str | Sequence[str] = "standard",
        background=None,
        as_of=None,
        subscribers: float | None = None,
        visibility_positions_km: NDArray[np.float64] | None = None,
        cell_country_iso2: Sequence[str] | None = None,
        zenith_margin_db: float = ZENITH_LINK_MARGIN_DB,
        uplink_zenith_margin_db: float | None = None,
    ):
        from h3.api import basic_int as h3int

        from .speedtest_params import CALIBRATION_DATE, DISHES, UPLINK_ZENITH_MARGIN_DB, network_state

        self.down_model = down_model
        self.up_model = uplink_model(down_model)
        self.terminal_cell = _int_array("terminal_cell", terminal_cell)
        self.cell_id = np.asarray(cell_id, dtype=np.uint64)
        g = self.terminal_cell.size
        dishes = [dish] * g if isinstance(dish, str) else list(dish)
        if len(dishes) != g:
            raise ScenarioError(f"dish: give one dish name or one per terminal ({g}), got {len(dishes)}.")
        unknown = sorted({d for d in dishes if d not in DISHES})
        if unknown:
            raise ScenarioError(f"unknown dish(es) {unknown}; known dishes: {', '.join(sorted(DISHES))}.")
        self.peak_down_bps = np.array([DISHES[d].peak_down_bps for d in dishes])
        self.gain_down_db = np.array([DISHES[d].gain_offset_db for d in dishes])
        self.gain_up_db = np.array([DISHES[d].uplink_gain_offset_db for d in dishes])
        self.flat_mounted = np.array([DISHES[d].flat_mounted for d in dishes], dtype=bool)
        self.zenith_margin_db = float(zenith_margin_db)
        self.peak_up_bps = np.array([DISHES[d].peak_up_bps for d in dishes])
        self.uplink_margin_db = (
            UPLINK_ZENITH_MARGIN_DB if uplink_zenith_margin_db is None else float(uplink_zenith_margin_db)
        )
        self.state = network_state(CALIBRATION_DATE if as_of is None else as_of)
        self._structure_cache: dict = {}
        if subscribers is not None and not (np.isfinite(subscribers) and subscribers >= 0):
            raise ScenarioError(f"subscribers must be finite and >= 0, got {subscribers!r}.")
        if background is None and subscribers != 0:
            background = BackgroundLoad(
                zenith_margin_db=zenith_margin_db,
                subscribers=self.state.subscribers if subscribers is None else subscribers,
                mean_down_bps=self.state.mean_down_bps, mean_up_bps=self.state.mean_up_bps,
            ).restricted_to(terminal_lat_deg, terminal_lon_deg)
        self.background = background or None
        if self.background is not None and visibility_positions_km is not None:
            self.background = self.background.with_mean_visible_capacity(
                visibility_positions_km, down_model.satellite_capacity_bps)
        centres = np.array([h3int.cell_to_latlng(int(c)) for c in self.cell_id.tolist()]).reshape(-1, 2)
        self.cell_lon_deg = centres[:, 1]
        self.cell_subscribers = np.zeros(self.cell_id.size)
        if self.background is not None and self.cell_id.size:
            countries = None
            if cell_country_iso2 is not None:
                from ..ground.regions import country_of

                countries = [str(c) for c in cell_country_iso2]
                missing = [i for i, c in enumerate(countries) if not c]
                if missing:
                    for i, c in zip(missing, country_of(centres[missing, 0], centres[missing, 1])):
                        countries[i] = c
            self.cell_subscribers = self.background.cell_subscribers(self.cell_id, countries)

    def step(
        self,
        utc_hour: float,
        r_ecef_km: NDArray[np.float64],
        serving_satellite: ArrayLike,
        gateway: ArrayLike,
        demand_down_bps: ArrayLike,
        slant_range_km: ArrayLike,
        *,
        isl_indptr: ArrayLike | None = None,
        isl_edges: ArrayLike | None = None,
        n_isl: int | None = None,
        demand_up_bps: ArrayLike | None = None,
        link_share: ArrayLike | None = None,
        validate: bool = True,
        cells: tuple[ArrayLike, ArrayLike] | None = None,
    ) -> tuple[SpeedTestStep, SpeedTestStep]:
        """Down- and uplink speed tests of every terminal at one step.

        Parameters
        ----------
        utc_hour : float
            Hours since 00:00 UTC of the step (drives the daily profile).
        r_ecef_km : float64[S, 3], km, ECEF
            Satellite positions at the step.
        serving_satellite, gateway : int[G]
            ``-1`` where the terminal is not routed this step.
        demand_down_bps : float64[G] or float, bit/s
            The terminals' own downlink demand this step.
        slant_range_km : float64[G], km
            Terminal-to-serving-satellite distance (NaN where none).
        isl_indptr, isl_edges, n_isl
            Downlink laser ids per terminal (`allocate_step`'s convention);
            the uplink uses the reverse direction, ``isl_edges ^ 1`` (ids
            ``2 k + (tail > head)``, as `leonet.engine.network` builds them).
        demand_up_bps : float64[G] or float, optional
            Default: the downlink demand x mean up / mean down demand.
        link_share : float64[G], optional
            Share of each terminal's link capacity left (capacity-loss
            faults); scales its dish's peaks.  Default 1.
        validate : bool
            Check the step's arrays (default); the engine's are trusted.
        cells : (intp[G], uint64[C]), optional
            The step's service cell of each terminal and the cells' H3
            indexes, when terminals move (`leonet.engine.service.ServiceLayer.cells_at`);
            default the run's (``terminal_cell``, ``cell_id``).

        Returns
        -------
        (SpeedTestStep, SpeedTestStep)
            Downlink, uplink; their per-cell arrays follow ``cells``.
        """
        from ..orbits.frames import ecef_to_geodetic
        from .speedtest_params import (
            ACTIVE_FLOW_DOWN_BPS,
            ACTIVE_FLOW_UP_BPS,
        )

        sat = (_int_array("serving_satellite", serving_satellite, self.terminal_cell.size) if validate
               else np.asarray(serving_satellite, dtype=np.intp))
        r = np.asarray(r_ecef_km, dtype=np.float64)
        _, _, alt = ecef_to_geodetic(r[np.maximum(sat, 0)])
        rng = np.asarray(slant_range_km, dtype=np.float64)
        rng = np.where(np.isfinite(rng) & (sat >= 0), rng, alt)
        share = 1.0 if link_share is None else np.asarray(link_share, dtype=np.float64)
        gain_down, gain_up = self.gain_down_db, self.gain_up_db
        if self.flat_mounted.any():
            mount = np.where(self.flat_mounted, flat_mount_loss_db(_sin_elevation(rng, alt)), 0.0)
            gain_down, gain_up = gain_down + mount, gain_up + mount
        q_down = link_factor(rng, alt, gain_offset_db=gain_down, zenith_margin_db=self.zenith_margin_db)
        # Uplink: the dish's scheduled grant (its peak) at its own link's quality, in its cell's
        # beam visits (`_speedtest_pair`); the quality also scales its beam's uplink capacity.
        q_up = link_factor(rng, alt, gain_offset_db=gain_up, zenith_margin_db=self.uplink_margin_db)
        peak_up = share * self.peak_up_bps
        terminal_cell, cell_id = (self.terminal_cell, self.cell_id) if cells is None else (
            np.asarray(cells[0], dtype=np.intp), np.asarray(cells[1], dtype=np.uint64))
        subscribers, lon = self._cell_background(cell_id)
        cell_d, cell_u, sat_d, sat_u, ratio = self._background(utc_hour, r, sat, gateway, subscribers, lon)
        up_demand = (np.asarray(demand_down_bps, dtype=np.float64) * ratio if demand_up_bps is None
                     else demand_up_bps)
        edges_up = None if isl_edges is None else np.asarray(isl_edges) ^ 1
        n_cells = cell_id.size
        xd = _step_inputs(self.down_model, terminal_cell, sat, gateway, demand_down_bps,
                          share * self.peak_down_bps, q_down, cell_d, sat_d, ACTIVE_FLOW_DOWN_BPS, isl_indptr,
                          isl_edges, n_cells, n_isl, validate)
        xu = _step_inputs(self.up_model, terminal_cell, sat, gateway, up_demand, peak_up, q_up, cell_u, sat_u,
                          ACTIVE_FLOW_UP_BPS, isl_indptr, edges_up, n_cells, n_isl, validate)
        # One flow structure for both directions (the same as two speedtest_step calls).
        return _speedtest_pair(self.down_model, self.up_model, xd, xu, self._structure_cache)

    def _cell_background(self, cell_id: NDArray[np.uint64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Background subscribers and centre longitude of the service cells ``cell_id`` of a step.

        The run's cells keep the values computed when the run was set up;
        a cell that a moving terminal enters gets its own, from the
        country of its centre, once.
        """
        if cell_id is self.cell_id:
            return self.cell_subscribers, self.cell_lon_deg
        if not hasattr(self, "_cell_memo"):
            self._cell_memo = {int(c): (float(n), float(x)) for c, n, x in
                               zip(self.cell_id.tolist(), self.cell_subscribers, self.cell_lon_deg)}
        new = [c for c in cell_id.tolist() if c not in self._cell_memo]
        if new:
            from h3.api import basic_int as h3int

            ids = np.array(new, dtype=np.uint64)
            lon = np.array([h3int.cell_to_latlng(c)[1] for c in new])
            subs = np.zeros(len(new)) if self.background is None else self.background.cell_subscribers(ids)
            self._cell_memo.update({c: (float(n), float(x)) for c, n, x in zip(new, subs, lon)})
        both = np.array([self._cell_memo[c] for c in cell_id.tolist()], dtype=np.float64).reshape(-1, 2)
        return both[:, 0], both[:, 1]

    def _background(self, utc_hour: float, r: NDArray[np.float64], sat: NDArray[np.intp], gateway: ArrayLike,
                    cell_subscribers: NDArray[np.float64], cell_lon_deg: NDArray[np.float64]):
        """Cell and satellite background loads of a step, down and up, and the up / down demand ratio."""
        bg = self.background
        n_sat = self.down_model.n_satellites
        if bg is None:
            zc, zs = np.zeros(cell_subscribers.size), np.zeros(n_sat)
            return zc, zc, zs, zs, self.state.mean_up_bps / self.state.mean_down_bps
        cell_d = bg.cell_load_bps(cell_subscribers, cell_lon_deg, utc_hour, "down")
        cell_u = bg.cell_load_bps(cell_subscribers, cell_lon_deg, utc_hour, "up")
        cap = self.down_model.satellite_capacity_bps
        if bg._visible_capacity is not None:
            used = np.unique(sat[(sat >= 0) & (np.asarray(gateway) >= 0)])
            sat_d = np.zeros(n_sat)
            sat_d[used] = bg.serving_load_bps(r, used, cap, utc_hour, "down")
        else:
            sat_d = bg.satellite_load_bps(r, cap, utc_hour, "down")
        ratio = bg.mean_up_bps / bg.mean_down_bps if bg.mean_down_bps else 0.0
        # Uplink capacities are the downlink's scaled alike (`uplink_model`), so the
        # capacity-proportional shares are the same and the load scales with the demand.
        return cell_d, cell_u, sat_d, sat_d * ratio, ratio
