"""The RTT of a ping from a user terminal to its PoP: propagation plus what the equipment adds.

The representation
------------------
Everything works on flat arrays over *terminal-steps* (``[N]``, any mix of
terminals and times): the propagation parts leonet's network stage gives per
terminal-step (one-way ``uplink_s``, ``isl_s``, ``feeder_s``, ``backhaul_s``
and ``isl_hops``), the step's absolute time ``t_unix_ns`` (int64 ns since
the Unix epoch, UTC), the terminal's index and longitude, and the
utilisation of its beam when capacity is modelled.  `step_latency` returns
the new parts and the modelled RTT (`LatencyParts`); `leonet.latency.probes`
turns the same mechanisms into ping series at sub-step resolution.

The modelled round trip of a ping sent at time ``t``::

    rtt = 2 (uplink + isl + feeder + backhaul)      propagation (the floor)
        + access          MAC framing and request-grant (2 x uplink inside)
        + processing      satellites crossed, gateway and PoP
        + queueing        per-slot standing queue + per-packet wait
        + reconfiguration wait for the user link at a slot boundary

(mechanisms, parameters and sources: `leonet.latency.params`).  The slot
clock is the scheduler's: boundaries where the Unix time is ``slot_offset_ns
(mod slot_ns)`` (12, 27, 42, 57 s past each UTC minute;
`leonet.scheduling.slots`).

Randomness
----------
Every draw is keyed (`leonet.latency.draws`): per-step draws by ``(seed,
step time, terminal)``, per-slot draws (the standing queues, the boundary
loss) by ``(seed, absolute slot index, terminal)`` -- the slot index counts
from the Unix epoch, so it does not depend on the scenario's start either.
Any chunking of time, any executor and any order give the same numbers.

Steps and instants
------------------
A step's row describes one ping sent during the step.  The propagation and
the slot are those of the step's instant; the reconfiguration pause (60 ms
at each boundary) is applied at a keyed random instant inside the step, so a
run whose steps fall on the boundaries (1 s steps at :12, :27 ...) does not
see the pause at every boundary step, and the fraction of rows that see it
is the fraction of pings that do, whatever the step.  The loss probability
of a step is the expected loss of a ping sent at a uniformly random instant
of the step (boundary losses included in expectation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..constants import NS_PER_S
from ..errors import ScenarioError
from .draws import uniform4_by_terminal
from .params import LatencyParams

__all__ = [
    "LatencyParts",
    "step_latency",
    "effective_utilisation",
    "background_utilisation",
    "local_solar_hour",
    "slot_index",
    "slot_levels_s",
    "access_delay_s",
    "processing_delay_s",
    "pause_delay_s",
    "congestion_loss",
    "boundary_loss_share",
    "STREAM_STEP",
    "STREAM_SLOT",
    "STREAM_PROBE",
    "STREAM_PROBE_MEMORY",
]

#: Third counter word of the per-step draws: (request wait, downlink-frame
#: wait, queue wait, instant within the step).
STREAM_STEP = 1
#: Third counter word of the per-slot draws: (beam level, laser level,
#: laser-level renewal, spare).  Each level takes one uniform through the
#: inverse CDF of its law.
STREAM_SLOT = 2
#: Third counter word of the per-probe draws: (request wait, downlink-frame
#: wait, queue wait, loss).
STREAM_PROBE = 3
#: Third counter word of the per-probe renewal of the queue wait (word 0; three spare).
STREAM_PROBE_MEMORY = 4

_NS_PER_HOUR = 3600 * NS_PER_S
_NS_PER_DAY = 24 * _NS_PER_HOUR


@dataclass(frozen=True)
class LatencyParts:
    """The modelled RTT of terminal-steps and its parts, s (float64[N]; NaN where not served).

    Attributes
    ----------
    propagation_rtt_s : float64[N], s
        ``2 x (uplink + isl + feeder + backhaul)``: the floor (today's ``rtt_ms``).
    access_s : float64[N], s
        MAC framing and request-grant, both directions.
    processing_s : float64[N], s
        Satellites crossed, gateway and PoP, both directions.
    queueing_s : float64[N], s
        Standing queue of the slot's path plus this packet's wait.
    reconfiguration_s : float64[N], s
        Wait for the user link at a slot boundary (0 almost always).
    rtt_s : float64[N], s
        The sum: the modelled RTT of a ping to the PoP that got through.
    loss_probability : float64[N]
        Expected fraction of pings lost (link, congestion, boundary).
    utilisation : float64[N]
        The beam utilisation the queueing used (background + scenario, capped).
    """

    propagation_rtt_s: NDArray[np.float64]
    access_s: NDArray[np.float64]
    processing_s: NDArray[np.float64]
    queueing_s: NDArray[np.float64]
    reconfiguration_s: NDArray[np.float64]
    rtt_s: NDArray[np.float64]
    loss_probability: NDArray[np.float64]
    utilisation: NDArray[np.float64]

    def columns_ms(self) -> dict[str, NDArray[np.float64]]:
        """The ``terminal_steps`` columns: ``rtt_ms`` (modelled), ``propagation_rtt_ms`` (the floor), the new parts in ms, ``loss_prob``."""
        return {
            "rtt_ms": self.rtt_s * 1e3,
            "propagation_rtt_ms": self.propagation_rtt_s * 1e3,
            "access_ms": self.access_s * 1e3,
            "processing_ms": self.processing_s * 1e3,
            "queueing_ms": self.queueing_s * 1e3,
            "reconfiguration_ms": self.reconfiguration_s * 1e3,
            "loss_prob": self.loss_probability,
        }


# ----------------------------------------------------------------------
# Clocks and load
# ----------------------------------------------------------------------


def slot_index(t_unix_ns: ArrayLike, slot_ns: int, slot_offset_ns: int) -> NDArray[np.int64]:
    """Absolute index of the scheduler slot holding each time (counted from the Unix epoch).

    Boundaries fall where the Unix time is ``slot_offset_ns (mod slot_ns)``.
    With ``slot_ns == 0`` (reassign every step) the index is the time itself.

    Examples
    --------
    >>> t = 1694476800 * 10**9  # 2023-09-12 00:00:00 UTC
    >>> slot_index([t + 11 * 10**9, t + 12 * 10**9], 15 * 10**9, 12 * 10**9).tolist()
    [112965119, 112965120]
    """
    t = np.asarray(t_unix_ns, dtype=np.int64)
    if slot_ns == 0:
        return t.copy()
    return (t - int(slot_offset_ns)) // int(slot_ns)


def local_solar_hour(t_unix_ns: ArrayLike, lon_deg: ArrayLike) -> NDArray[np.float64]:
    """Mean local solar time, hours in [0, 24): UTC + longitude / 15 deg per hour."""
    t = np.asarray(t_unix_ns, dtype=np.int64)
    utc_h = (t % _NS_PER_DAY).astype(np.float64) / _NS_PER_HOUR
    return np.mod(utc_h + np.asarray(lon_deg, dtype=np.float64) / 15.0, 24.0)


def background_utilisation(params: LatencyParams, t_unix_ns: ArrayLike, lon_deg: ArrayLike) -> NDArray[np.float64]:
    """Utilisation of a beam by the real user population: busy hour x diurnal profile at local solar time."""
    h = local_solar_hour(t_unix_ns, lon_deg)
    prof = np.asarray(params.diurnal_profile + params.diurnal_profile[:1], dtype=np.float64)
    return params.busy_hour_utilisation * np.interp(h, np.arange(25.0), prof)


def effective_utilisation(
    params: LatencyParams, t_unix_ns: ArrayLike, lon_deg: ArrayLike, utilisation: ArrayLike | None = None
) -> NDArray[np.float64]:
    """Background utilisation plus the scenario's own (NaN or None = none), capped at ``max_utilisation``."""
    bg = background_utilisation(params, t_unix_ns, lon_deg)
    if utilisation is not None:
        extra = np.asarray(utilisation, dtype=np.float64)
        bg = bg + np.where(np.isfinite(extra), np.maximum(extra, 0.0), 0.0)
    return np.minimum(bg, params.max_utilisation)


# ----------------------------------------------------------------------
# Mechanisms (hand-checkable, vectorised)
# ----------------------------------------------------------------------


def access_delay_s(
    params: LatencyParams, uplink_s: ArrayLike, u_request: ArrayLike, u_frame: ArrayLike
) -> NDArray[np.float64]:
    """MAC delay of one round trip, s.

    ``2 uplink_s`` (request up, grant down) ``+ frame_s x (grant_frames + 2 +
    u_request + u_frame)``: the wait for a request opportunity
    (``u_request`` of a frame), the scheduler pipeline, one uplink frame, the
    wait for the cell's next downlink frame (``u_frame``) and one downlink
    frame.

    Examples
    --------
    >>> p = LatencyParams(grant_frames=4.0)
    >>> round(float(access_delay_s(p, 0.002, 0.5, 0.5)) * 1e3, 6)  # 4 ms + 7 frames of 1.333 ms
    13.333333
    """
    f = params.frame_s
    return 2.0 * np.asarray(uplink_s, dtype=np.float64) + f * (
        params.grant_frames + 2.0 + np.asarray(u_request, dtype=np.float64) + np.asarray(u_frame, dtype=np.float64)
    )


def processing_delay_s(params: LatencyParams, isl_hops: ArrayLike) -> NDArray[np.float64]:
    """Processing of one round trip, s: ``2 ((isl_hops + 1) satellite + ground)``.

    Examples
    --------
    >>> p = LatencyParams(satellite_processing_s=1e-4, ground_processing_s=5e-4)
    >>> processing_delay_s(p, [0, 3]).round(6).tolist()
    [0.0012, 0.0018]
    """
    h = np.asarray(isl_hops, dtype=np.float64)
    return 2.0 * ((h + 1.0) * params.satellite_processing_s + params.ground_processing_s)


def congestion_loss(params: LatencyParams, rho: ArrayLike) -> NDArray[np.float64]:
    """Drop-tail loss: probability that a packet's wait (exponential, mean ``beam_jitter_s / (1 - rho)``) exceeds ``buffer_s``."""
    mean = params.beam_jitter_s / (1.0 - np.asarray(rho, dtype=np.float64))
    with np.errstate(divide="ignore"):
        return np.where(mean > 0.0, np.exp(-params.buffer_s / np.where(mean > 0.0, mean, 1.0)), 0.0)


def _packet_wait_s(params: LatencyParams, rho, u) -> NDArray[np.float64]:
    """Wait of a packet that was not dropped: exponential truncated at the buffer (inverse CDF of ``u``)."""
    mean = params.beam_jitter_s / (1.0 - rho)
    p_drop = congestion_loss(params, rho)
    return -mean * np.log1p(-np.asarray(u) * (1.0 - p_drop))


#: Longest look-back for the laser-route congestion's last renewal, slots.
MAX_PERSIST_SLOTS = 40


def slot_levels_s(
    params: LatencyParams, seed: int, slot_k: ArrayLike, terminal: ArrayLike, rho: ArrayLike, isl_hops: ArrayLike,
    slot_ns: int,
) -> NDArray[np.float64]:
    """Standing queue of the path of each terminal in slot ``slot_k``, s: beam part + laser part.

    Both parts follow the M/M/1 waiting-time law: empty with probability
    ``1 - utilisation``, otherwise exponential.  The beam part has
    utilisation ``rho`` and conditional mean ``beam_level_s / (1 - rho)``,
    drawn afresh every slot (new satellite and beam).  The laser part has
    utilisation ``isl_utilisation`` and conditional mean ``isl_hops x
    isl_level_per_hop_s``; the congestion of a laser route persists: at
    each boundary it is renewed (a new draw) with probability ``1 - a``,
    ``a = exp(-slot / isl_level_memory_s)``, and kept otherwise, so
    consecutive slots correlate by about ``a`` and the marginal law is
    unchanged.  Draws and renewals are keyed by ``(seed, slot, terminal)``;
    a slot finds the draw it keeps by looking back (at most
    `MAX_PERSIST_SLOTS`), with no state between slots.
    """
    k = np.asarray(slot_k, dtype=np.int64).ravel()
    term = np.asarray(terminal, dtype=np.int64).ravel()
    u = uniform4_by_terminal(seed, k, STREAM_SLOT, term)
    rho = np.asarray(rho, dtype=np.float64)
    beam = params.beam_level_s / (1.0 - rho) * _busy_exponential(u[:, 0], rho)
    hops = np.maximum(np.asarray(isl_hops, dtype=np.float64), 0.0)
    keep = 0.0
    if slot_ns > 0 and params.isl_level_memory_s > 0.0:
        keep = float(np.exp(-(slot_ns / NS_PER_S) / params.isl_level_memory_s))
    u_isl = u[:, 1].copy()
    if keep > 0.0:
        # Slot k keeps the draw of its last renewal: k itself if u[:, 2] >= keep, else look further back.
        pending = u[:, 2] < keep
        for j in range(1, MAX_PERSIST_SLOTS + 1):
            if not pending.any():
                break
            rows = np.flatnonzero(pending)
            back = uniform4_by_terminal(seed, k[rows] - j, STREAM_SLOT, term[rows])
            u_isl[rows] = back[:, 1]
            pending[rows] = back[:, 2] < keep
    lasers = hops * params.isl_level_per_hop_s * _busy_exponential(u_isl, params.isl_utilisation)
    return beam + lasers


def _busy_exponential(u, busy) -> NDArray[np.float64]:
    """Inverse CDF of "0 with probability 1 - busy, else Exp(1)": ``max(0, ln(busy / u))`` (monotone in u)."""
    u = np.maximum(np.asarray(u, dtype=np.float64), 1e-300)
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(np.asarray(busy, dtype=np.float64) / u), 0.0)


def pause_delay_s(
    params: LatencyParams, t_send_unix_ns: ArrayLike, base_rtt_s: ArrayLike, slot_ns: int, slot_offset_ns: int
) -> NDArray[np.float64]:
    """Wait for the user link at a slot boundary, s (0 for most packets).

    The user link is down during ``[B, B + pause)`` at every boundary ``B``;
    a packet that reaches it then waits until ``B + pause`` (it is not
    lost).  The ping leaves the dish at ``t`` and its reply comes back to it
    ``base_rtt_s`` later; the outbound waits when ``t`` falls in a pause,
    otherwise the reply waits when ``t + base_rtt_s`` does.

    Examples
    --------
    Sent 10 ms after a boundary, a 60 ms pause holds it 50 ms; sent 20 ms
    before, its 40 ms round trip returns 20 ms into the pause and waits 40 ms:

    >>> p = LatencyParams(reconfiguration_pause_s=0.06)
    >>> b = 12 * 10**9
    >>> (pause_delay_s(p, [b + 10**7, b - 2 * 10**7], 0.04, 15 * 10**9, 12 * 10**9) * 1e3).round(6).tolist()
    [50.0, 40.0]
    """
    t = np.asarray(t_send_unix_ns, dtype=np.int64)
    r0 = np.asarray(base_rtt_s, dtype=np.float64)
    if slot_ns == 0 or params.reconfiguration_pause_s == 0.0:
        return np.zeros(np.broadcast(t, r0).shape)
    pause = params.reconfiguration_pause_s
    since_s = ((t - int(slot_offset_ns)) % int(slot_ns)).astype(np.float64) / NS_PER_S
    to_next_s = slot_ns / NS_PER_S - since_s
    outbound = np.where(since_s < pause, pause - since_s, 0.0)
    back = r0 - to_next_s  # how far into the next pause the reply arrives
    reply = np.where((back >= 0.0) & (back < pause), pause - back, 0.0)
    return np.where(outbound > 0.0, outbound, reply)


def boundary_loss_share(
    t_unix_ns: ArrayLike, span_ns: int, window_ns: int, slot_ns: int, slot_offset_ns: int
) -> NDArray[np.float64]:
    """Share of the interval ``[t, t + span)`` that lies in the last ``window_ns`` before a slot boundary.

    Examples
    --------
    A 1 s step at 11 s past the minute holds the 0.2 s before the boundary at 12 s:

    >>> boundary_loss_share([11 * 10**9], 10**9, 2 * 10**8, 15 * 10**9, 12 * 10**9).round(6).tolist()
    [0.2]
    """
    t = np.asarray(t_unix_ns, dtype=np.int64)
    if slot_ns == 0 or window_ns <= 0:
        return np.zeros(t.shape)
    first = slot_index(t, slot_ns, slot_offset_ns) + 1  # the first boundary after t (t itself excluded)
    total = np.zeros(t.shape, dtype=np.int64)
    for j in range(int(-(-(span_ns + window_ns) // slot_ns)) + 1):
        b = (first + j) * slot_ns + slot_offset_ns
        total += np.maximum(np.minimum(t + span_ns, b) - np.maximum(t, b - window_ns), 0)
    return total / float(span_ns)


# ----------------------------------------------------------------------
# Per terminal-step
# ----------------------------------------------------------------------


def _check_clock(slot_ns: int, slot_offset_ns: int, step_ns: int | None = None) -> None:
    if slot_ns < 0 or (slot_ns > 0 and not 0 <= slot_offset_ns < slot_ns):
        raise ScenarioError(
            f"slot clock: slot_ns = {slot_ns} must be >= 0 and slot_offset_ns = {slot_offset_ns} in [0, slot_ns)"
        )
    if step_ns is not None and step_ns <= 0:
        raise ScenarioError(f"step_ns must be positive, got {step_ns}")


def step_latency(
    params: LatencyParams,
    *,
    seed: int,
    t_unix_ns: ArrayLike,
    terminal: ArrayLike,
    uplink_s: ArrayLike,
    isl_s: ArrayLike,
    feeder_s: ArrayLike,
    backhaul_s: ArrayLike,
    isl_hops: ArrayLike,
    lon_deg: ArrayLike,
    slot_ns: int,
    slot_offset_ns: int,
    step_ns: int,
    utilisation: ArrayLike | None = None,
) -> LatencyParts:
    """Modelled RTT of terminal-steps, and its parts.

    Parameters
    ----------
    params : LatencyParams
    seed : int
        The scenario seed (``scenario.seed``).
    t_unix_ns : int64[N] or int, ns since the Unix epoch (UTC)
        Time of each step (scenario epoch + offset).
    terminal : int[N]
        Terminal index (the key of its draws).
    uplink_s, isl_s, feeder_s, backhaul_s : float64[N], s
        One-way propagation parts (NaN where the terminal is not served).
    isl_hops : int[N]
        Laser hops of the route (0 bent pipe; any value where not served).
    lon_deg : float64[N], deg
        Terminal longitude (local solar time of its beam's load).
    slot_ns, slot_offset_ns : int, ns
        The scheduler slot and the UTC phase of its boundaries
        (``network.slot_s``, ``network.slot_offset_s``); ``slot_ns = 0``:
        reassignment every step, no synchronised reconfiguration.
    step_ns : int, ns
        The run's step (where in it the step's ping falls; see module notes).
    utilisation : float64[N], optional
        Utilisation of the terminal's beam by the scenario's own terminals
        (``[capacity]``); NaN or omitted = none beyond the background.

    Returns
    -------
    LatencyParts
        Arrays of shape [N]; NaN where any propagation part is NaN.

    Raises
    ------
    leonet.errors.ScenarioError
        For an inconsistent slot clock or step.
    """
    _check_clock(int(slot_ns), int(slot_offset_ns), int(step_ns))
    term = np.asarray(terminal, dtype=np.int64).ravel()
    n = term.size
    t = np.broadcast_to(np.asarray(t_unix_ns, dtype=np.int64), (n,)).ravel()

    def arr(x, dtype=np.float64):
        return np.broadcast_to(np.asarray(x, dtype=dtype), (n,)).ravel()

    up, isl, feed, back = arr(uplink_s), arr(isl_s), arr(feeder_s), arr(backhaul_s)
    hops = np.where(np.isfinite(arr(isl_hops)), arr(isl_hops), 0.0)
    served = np.isfinite(up) & np.isfinite(isl) & np.isfinite(feed) & np.isfinite(back)
    prop = 2.0 * (up + isl + feed + back)
    rho = effective_utilisation(params, t, arr(lon_deg), None if utilisation is None else arr(utilisation))

    u_step = uniform4_by_terminal(seed, t, STREAM_STEP, term)
    slot_k = slot_index(t, int(slot_ns), int(slot_offset_ns))
    access = access_delay_s(params, up, u_step[:, 0], u_step[:, 1])
    processing = processing_delay_s(params, hops)
    level = slot_levels_s(params, seed, slot_k, term, rho, hops, int(slot_ns))
    queueing = level + _packet_wait_s(params, rho, u_step[:, 2])
    base = prop + access + processing + queueing
    # The step's ping leaves at a keyed instant inside the step.
    instant = t + np.floor(u_step[:, 3] * int(step_ns)).astype(np.int64)
    reconf = pause_delay_s(params, instant, base, int(slot_ns), int(slot_offset_ns))

    keep = 1.0 - params.link_loss
    keep = keep * (1.0 - congestion_loss(params, rho))
    window_ns = int(round(params.boundary_loss_window_s * NS_PER_S))
    share = boundary_loss_share(t, int(step_ns), window_ns, int(slot_ns), int(slot_offset_ns))
    keep = keep * (1.0 - params.boundary_loss_probability * np.minimum(share, 1.0))

    nan = np.where(served, 1.0, np.nan)
    return LatencyParts(
        propagation_rtt_s=prop * nan,
        access_s=access * nan,
        processing_s=processing * nan,
        queueing_s=queueing * nan,
        reconfiguration_s=reconf * nan,
        rtt_s=(base + reconf) * nan,
        loss_probability=(1.0 - keep) * nan,
        utilisation=rho,
    )
