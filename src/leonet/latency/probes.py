"""Ping probes: what ``ping`` / ``irtt`` from one terminal to its PoP would record, at sub-step resolution.

The representation
------------------
A probe series is ``K`` send times of one terminal (`probe_times`: every
``interval_ns`` >= 10 ms from the run's start; probe ``k`` is sent at
``start + k * interval``).  `ping_probes` gives each probe its RTT, or marks
it lost, from the run's steps of that terminal: the propagation parts are
interpolated linearly between two steps of the same scheduler slot and held
from the nearest step of the probe's own slot otherwise, so the path jumps
exactly at the slot boundaries (12, 27, 42, 57 s past each UTC minute), not
at the next step.  On top come the mechanisms of `leonet.latency.model`,
applied to the probe's own send time: MAC waits, the slot's standing queue
(the same keyed draw as the steps of that slot), the packet's own wait, the
user-link pause at each boundary, and the losses (link, congestion, and
the higher loss in the last moments before each slot boundary).

Keys and chunking
-----------------
A probe's own draws are keyed by ``(seed, terminal, k)`` (`leonet.latency.draws`),
its slot's by ``(seed, slot, terminal)``: any split of the probes gives the
same values, provided every call gets the steps around its probes -- the
step at or before the first probe up to the step at or after the last one
(a chunk of probes up to the next chunk's first step needs that step too;
see `needed_steps`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..constants import NS_PER_S
from ..errors import ScenarioError
from .draws import uniform4_by_index
from .model import (
    STREAM_PROBE,
    STREAM_PROBE_MEMORY,
    _check_clock,
    _packet_wait_s,
    access_delay_s,
    congestion_loss,
    effective_utilisation,
    pause_delay_s,
    processing_delay_s,
    slot_index,
    slot_levels_s,
)
from .params import LatencyParams

__all__ = ["Pings", "ping_probes", "probe_times", "needed_steps", "MIN_INTERVAL_NS", "MAX_MEMORY_PROBES"]

#: Shortest probe interval, ns (10 ms: 100 probes per second, irtt's usual fastest rate).
MIN_INTERVAL_NS = 10_000_000

#: Longest look-back for the last renewal of the queue wait, probes (at 10 ms
#: and the default 80 ms memory the chance of a longer run is 1e-6).
MAX_MEMORY_PROBES = 120


def _remembered_wait_u(params: LatencyParams, seed: int, terminal: int, k, interval_ns: int, u_wait):
    """The queue-wait uniform of each probe: its own, or that of the last probe whose wait was renewed.

    The beam queue a probe meets is the one the previous probe met, with
    probability ``exp(-interval / jitter_memory_s)`` (the queue has not
    moved on yet); otherwise it is a new draw.  Keyed by probe index: probe
    ``k`` looks back at most `MAX_MEMORY_PROBES` (then renews), so the
    result depends on ``k`` alone.
    """
    if params.jitter_memory_s <= 0.0 or k.size == 0:
        return u_wait
    keep = float(np.exp(-(interval_ns / NS_PER_S) / params.jitter_memory_s))
    if keep <= 1e-9:
        return u_wait
    lo = max(int(k.min()) - MAX_MEMORY_PROBES, 0)
    idx = np.arange(lo, int(k.max()) + 1, dtype=np.int64)
    renewed = uniform4_by_index(seed, terminal, STREAM_PROBE_MEMORY, idx)[:, 0] >= keep
    renewed[0] = True  # the first probe of the series (or of the look-back) starts afresh
    last = np.maximum.accumulate(np.where(renewed, idx, -1))
    src = np.maximum(last[k - lo], k - MAX_MEMORY_PROBES)
    src = np.maximum(src, 0)
    return uniform4_by_index(seed, terminal, STREAM_PROBE, src)[:, 2]


@dataclass(frozen=True)
class Pings:
    """One terminal's ping series.

    Attributes
    ----------
    index : int64[K]
        Probe number from the run's first probe.
    t_unix_ns : int64[K], ns since the Unix epoch
        Send time.
    rtt_s : float64[K], s
        Round-trip time, NaN when lost.
    lost : bool[K]
    propagation_rtt_s : float64[K], s
        The propagation floor at the send time (NaN when not served).
    """

    index: NDArray[np.int64]
    t_unix_ns: NDArray[np.int64]
    rtt_s: NDArray[np.float64]
    lost: NDArray[np.bool_]
    propagation_rtt_s: NDArray[np.float64]


def probe_times(
    start_unix_ns: int, end_unix_ns: int, interval_ns: int, first: int = 0, last: int | None = None
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Probe numbers and send times ``start + k * interval`` in ``[start, end)``, for ``k`` in ``[first, last)``.

    Raises
    ------
    leonet.errors.ScenarioError
        For an interval under 10 ms (`MIN_INTERVAL_NS`) or an empty window.

    Examples
    --------
    >>> k, t = probe_times(0, 10**9, 250_000_000)
    >>> k.tolist(), (t // 10**6).tolist()
    ([0, 1, 2, 3], [0, 250, 500, 750])
    """
    if interval_ns < MIN_INTERVAL_NS:
        raise ScenarioError(
            f"probes.interval_ms = {interval_ns / 1e6:g} is below 10 ms; ping and irtt series are compared at "
            ">= 10 ms intervals: use interval_ms >= 10"
        )
    if end_unix_ns <= start_unix_ns:
        raise ScenarioError(f"probe window [{start_unix_ns}, {end_unix_ns}) ns is empty")
    n = -(-(int(end_unix_ns) - int(start_unix_ns)) // int(interval_ns))
    hi = n if last is None else min(int(last), n)
    k = np.arange(max(int(first), 0), hi, dtype=np.int64)
    return k, int(start_unix_ns) + k * int(interval_ns)


def needed_steps(step_t_unix_ns: ArrayLike, probe_t_unix_ns: ArrayLike) -> tuple[int, int]:
    """Index range ``[i0, i1)`` of the sorted steps a call needs for these probes (the bracketing steps)."""
    steps = np.asarray(step_t_unix_ns, dtype=np.int64)
    probes = np.asarray(probe_t_unix_ns, dtype=np.int64)
    if probes.size == 0:
        return 0, 0
    i0 = max(int(np.searchsorted(steps, probes.min(), side="right")) - 1, 0)
    i1 = min(int(np.searchsorted(steps, probes.max(), side="left")) + 1, steps.size)
    return i0, i1


def ping_probes(
    params: LatencyParams,
    *,
    seed: int,
    terminal: int,
    probe_index: ArrayLike,
    probe_t_unix_ns: ArrayLike,
    interval_ns: int,
    step_t_unix_ns: ArrayLike,
    uplink_s: ArrayLike,
    isl_s: ArrayLike,
    feeder_s: ArrayLike,
    backhaul_s: ArrayLike,
    isl_hops: ArrayLike,
    lon_deg: float,
    slot_ns: int,
    slot_offset_ns: int,
    utilisation: ArrayLike | None = None,
) -> Pings:
    """RTT or loss of each probe of one terminal.

    Parameters
    ----------
    params : LatencyParams
    seed : int
        The scenario seed.
    terminal : int
        The terminal's index.
    probe_index : int64[K]
        Probe numbers (`probe_times`): the key of each probe's draws.
    probe_t_unix_ns : int64[K], ns since the Unix epoch
        Send times, within the steps' span (see `needed_steps`).
    interval_ns : int, ns
        The series' probe interval (>= 10 ms): probe ``k - 1`` was sent
        this long before probe ``k`` (the memory of the queue wait).
    step_t_unix_ns : int64[T], ns since the Unix epoch
        The run's steps around the probes, increasing.
    uplink_s, isl_s, feeder_s, backhaul_s : float64[T], s
        One-way propagation parts at those steps (NaN = not served).
    isl_hops : int[T]
    lon_deg : float, deg
        The terminal's longitude.
    slot_ns, slot_offset_ns : int, ns
        Scheduler slot and the UTC phase of its boundaries.
    utilisation : float64[T], optional
        Scenario utilisation of the terminal's beam at the steps (NaN = none).

    Returns
    -------
    Pings
        In the order of ``probe_index``.  A probe in a step without service
        is lost.

    Raises
    ------
    leonet.errors.ScenarioError
        For probes outside the steps' span, or steps out of order.
    """
    _check_clock(int(slot_ns), int(slot_offset_ns))
    k = np.asarray(probe_index, dtype=np.int64).ravel()
    tp = np.asarray(probe_t_unix_ns, dtype=np.int64).ravel()
    ts = np.asarray(step_t_unix_ns, dtype=np.int64).ravel()
    if k.shape != tp.shape:
        raise ScenarioError(f"probe_index has {k.size} values but probe_t_unix_ns has {tp.size}")
    if interval_ns < MIN_INTERVAL_NS:
        raise ScenarioError(f"probe interval {interval_ns} ns is below 10 ms")
    if ts.size == 0 or np.any(np.diff(ts) <= 0):
        raise ScenarioError("step_t_unix_ns must hold at least one step, strictly increasing")
    if tp.size and (tp.min() < ts[0]):
        raise ScenarioError("a probe lies before the first step given; pass the step at or before it (needed_steps)")
    parts = [np.asarray(x, dtype=np.float64).ravel() for x in (uplink_s, isl_s, feeder_s, backhaul_s, isl_hops)]
    for name, a in zip(("uplink_s", "isl_s", "feeder_s", "backhaul_s", "isl_hops"), parts):
        if a.size != ts.size:
            raise ScenarioError(f"{name} has {a.size} values for {ts.size} steps")
    util_s = None if utilisation is None else np.asarray(utilisation, dtype=np.float64).ravel()
    (up, isl, feed, back), hops, src, slot_p = _path_at(ts, tp, parts, int(slot_ns), int(slot_offset_ns))
    served = np.isfinite(up) & np.isfinite(isl) & np.isfinite(feed) & np.isfinite(back)
    prop = 2.0 * (up + isl + feed + back)
    rho = effective_utilisation(params, tp, np.full(tp.size, float(lon_deg)), None if util_s is None else util_s[src])

    u = uniform4_by_index(seed, terminal, STREAM_PROBE, k)
    term = np.full(tp.size, int(terminal), dtype=np.int64)
    base = (
        prop
        + access_delay_s(params, up, u[:, 0], u[:, 1])
        + processing_delay_s(params, hops)
        + slot_levels_s(params, seed, slot_p, term, rho, hops, int(slot_ns))
        + _packet_wait_s(params, rho, _remembered_wait_u(params, seed, int(terminal), k, int(interval_ns), u[:, 2]))
    )
    rtt = base + pause_delay_s(params, tp, base, int(slot_ns), int(slot_offset_ns))

    p_keep = (1.0 - params.link_loss) * (1.0 - congestion_loss(params, rho))
    if slot_ns > 0 and params.boundary_loss_window_s > 0.0:
        to_next_ns = (slot_p + 1) * int(slot_ns) + int(slot_offset_ns) - tp
        in_window = to_next_ns <= int(round(params.boundary_loss_window_s * NS_PER_S))
        p_keep = p_keep * np.where(in_window, 1.0 - params.boundary_loss_probability, 1.0)
    lost = ~served | (u[:, 3] >= p_keep)
    return Pings(
        index=k,
        t_unix_ns=tp,
        rtt_s=np.where(lost, np.nan, rtt),
        lost=lost,
        propagation_rtt_s=np.where(served, prop, np.nan),
    )


def _path_at(ts, tp, parts, slot_ns: int, slot_offset_ns: int):
    """The path each probe meets: its propagation parts, laser hops, source step and slot.

    Inside a slot the parts are interpolated between the slot's steps; a
    probe between a step and the next slot's first step holds its own slot's
    step (the assignment changes only at the boundary).  With ``slot_ns =
    0`` every step is its own assignment: the step at or before the probe.

    Returns
    -------
    (up, isl, feed, back) : 4 float64[K], s
    hops : float64[K]
    src : int64[K]
        Index of the step whose assignment the probe meets.
    slot_p : int64[K]
        The probe's slot key (the step's time when ``slot_ns = 0``).
    """
    *delays, hops_s = parts
    i = np.searchsorted(ts, tp, side="right") - 1
    j = np.minimum(i + 1, ts.size - 1)
    slot_p = slot_index(tp, slot_ns, slot_offset_ns)
    if slot_ns == 0:
        src, w = i, np.zeros(tp.size)
        slot_p = ts[i].copy()
    else:
        same_i = slot_index(ts[i], slot_ns, slot_offset_ns) == slot_p
        same_j = (j > i) & (slot_index(ts[j], slot_ns, slot_offset_ns) == slot_p)
        span = np.where(j > i, (ts[j] - ts[i]).astype(np.float64), 1.0)
        w = np.where(same_i & same_j, (tp - ts[i]) / span, 0.0)
        # Held from the probe's own slot: step i if it is in it, else step j (the first step after the boundary).
        src = np.where(same_i | ~same_j, i, j)
    lerp = [np.where(w > 0.0, a[i] + w * (a[j] - a[i]), a[src]) for a in delays]
    return lerp, np.nan_to_num(hops_s[src]), src, slot_p
