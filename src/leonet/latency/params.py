"""Latency parameters: the few global constants of leonet's RTT model.

A real Starlink ping is 2-3 times slower than light along the path
(terminal -> satellite -> lasers -> gateway -> fibre -> PoP and back).  The
model in `leonet.latency.model` adds what the path's equipment does to a
packet, mechanism by mechanism; every mechanism has one or two parameters
below, each a property of the *system* (frame length, scheduler pipeline,
buffers, load), never of a dish or a country.  The values marked
"fitted" come from the two ping series in ``shared/data/measurements``
(Victoria BC, bent pipe, 2023-09-12 00:05-02:46 UTC; Seychelles, lasers,
2023-09-12 00:26-02:59 UTC), analysed and fitted by ``validation/measurements.py``
and ``validation/pings.py``; the others come from the sources below or are
labelled ASSUMPTION.

The mechanisms
--------------
access (MAC)
    The user link is framed: one frame lasts ``frame_s`` = 1/750 s
    [Humphreys23].  A terminal sends only in frames the satellite's scheduler
    grants it (request-grant, as DVB-RCS2 or LTE uplinks do): a packet waits
    for the next request opportunity (uniform in one frame), the request goes
    up and the grant comes down (one more user-link round trip, ``2 x
    uplink_s``), the grant applies ``grant_frames`` frames later, and the
    packet takes a frame to send.  Downstream it waits for its cell's next
    frame (uniform in one frame) and takes one.  Fitted: ``grant_frames``,
    from the smallest RTTs measured (the floor of the distribution).
processing
    ``satellite_processing_s`` per satellite a packet crosses (regenerative
    satellites demodulate, switch and remodulate), ``ground_processing_s``
    per direction at gateway + PoP (carrier-grade NAT).  ASSUMPTIONS: both
    are small (0.05 ms and 0.5 ms: a laser hop is optical-electrical-optical
    switching, microseconds to tens of microseconds) and cannot be told apart
    from the MAC pipeline with ping data; measured RTT floors bound their sum.
queueing
    Load-dependent.  The utilisation ``rho`` of a terminal's beam is the
    background load of the real user population, ``busy_hour_utilisation``
    times ``diurnal_profile`` at the terminal's local solar time, plus what
    the scenario's own terminals add when ``[capacity]`` is modelled,
    capped at ``max_utilisation``.  Two queues, as the measurements show two
    independent parts (validation/measurements.py: the per-slot level and
    the spread inside a slot are uncorrelated, |r| < 0.15):

    * per packet, the wait in the beam's scheduler queue: exponential with
      mean ``beam_jitter_s / (1 - rho)`` (the M/M/1 sojourn-time law; the
      measured spread inside a slot is exponential to within 1 ms at every
      quantile up to p95).  A packet that would wait longer than
      ``buffer_s`` is dropped (drop-tail): congestion loss ``exp(-buffer_s
      / mean)``.  Packets close in time meet the same queue: a probe keeps
      the previous probe's wait with probability ``exp(-interval /
      jitter_memory_s)`` (measured: consecutive pings 0.15-0.22 s apart
      correlate by 0.13-0.27 inside a slot); steps (>= 1 s apart) are
      independent.
    * per scheduler slot, the standing queue of the path just assigned (new
      satellite, beam and route every 15 s), with the M/M/1 waiting-time
      law (empty with probability 1 - utilisation, else exponential): for
      the user beam utilisation ``rho`` and mean ``beam_level_s / (1 -
      rho)`` when not empty; over lasers utilisation ``isl_utilisation`` and
      mean ``isl_level_per_hop_s`` per laser hop when not empty (one draw for
      the route: its lasers carry the same regional traffic) [Speidel23,
      Casparsen26].  The empty slots give the low end of the measured
      distributions (the Seychelles' p5 is only 18 ms above its floor while
      its slot levels spread over 150 ms).
      The beam part is new every slot (Victoria: lag-1 correlation of slot
      levels 0.07); congestion on a laser route lasts longer: at each
      boundary the laser part is renewed with probability
      ``1 - exp(-slot / isl_level_memory_s)`` and kept otherwise
      (Seychelles: lag-1 correlation of slot levels 0.43; fitted 17 s,
      exp(-15 s / 17 s) = 0.41).
    Fitted: ``beam_jitter_s``, ``jitter_memory_s``, ``beam_level_s``,
    ``isl_level_per_hop_s``, ``isl_utilisation``, ``isl_level_memory_s``,
    ``buffer_s``, ``busy_hour_utilisation``.
reconfiguration
    At every slot boundary (12/27/42/57 s past each UTC minute [Tanveer23,
    Mohan24]; whether or not the terminal's satellite changes) the user
    link is down for ``reconfiguration_pause_s`` while the terminal and the
    satellites switch to the new plan; packets reaching the user link then
    wait for it (not lost): the RTT spike of 60-100 ms at each boundary
    [Casparsen26, and the send-time analysis in validation/measurements.py].
    In the last ``boundary_loss_window_s`` before each boundary a packet is
    lost with probability ``boundary_loss_probability`` (the old link is torn
    down; the measured losses cluster there, one packet at a time in 10 Hz
    series).  The pause and the window are measured
    (validation/measurements.py), the probability fitted.
loss
    Residual link loss ``link_loss`` per packet, plus congestion loss
    (queueing) and boundary loss (reconfiguration).  Fitted.

Sources
-------
[Humphreys23]
    T. E. Humphreys, P. A. Iannucci, Z. M. Komodromos, A. M. Graff, "Signal
    Structure of the Starlink Ku-Band Downlink", University of Texas at
    Austin, 2023: the downlink is OFDM organised in frames of 1/750 s
    (1.333 ms).
[Tanveer23]
    H. B. Tanveer, M. Puchol, R. Singh, A. Bianchi, R. Nithyanand, "Making
    Sense of Constellations: Methodologies for Understanding Starlink's
    Scheduling Algorithms", arXiv 2307.00402, 2023: a
    global controller reallocates satellites to terminals every 15 s and an
    on-satellite controller schedules the user flows.
[Mohan24]
    N. Mohan et al., "A Multifaceted Look at Starlink Performance", ACM WWW
    2024 (arXiv 2310.09242): globally synchronised 15-second reconfiguration
    intervals cause latency and throughput changes.
[Casparsen26]
    A. Casparsen, J. E. Jakobsen, J. J. Nielsen, P. Popovski, I. Leyva-Mayorga,
    "Statistical Characterization and Prediction of E2E Latency over LEO
    Satellite Networks", arXiv 2601.08439 (2026): 500 Hz one-way
    measurements; latency = propagation + processing + queueing + handover
    excess; boundary spikes of about 140 ms at the start and 75 ms at the end
    of each 15 s period, a stable regime in between.
[Garcia25]
    J. Garcia, S. Sundberg, A. Brunstrom, "A Detailed Characterization of
    Starlink One-way Delay", LEO-NET 2025: uplink delays (scheduled) are more
    affected by the 15 s cycle than downlink delays; minor diurnal variation
    (2024-25, after Starlink's latency work).
[Speidel23]
    U. Speidel, bufferbloat.net Starlink list, "Starlink hidden buffers",
    May 2023: RTTs of hundreds of ms on bent-pipe paths whose light time is
    < 20 ms accrue inside Starlink's network, i.e. in queues.
[Starlink24]
    Starlink, "Improving Starlink's latency" (progress report, March 2024):
    US median latency at peak hours (6-9 PM) 48.5 ms before, 33 ms after the
    2024 work; p99 from > 150 ms to < 65 ms; latency sampled every 15 s
    from every router.  The 2023 measurements fitted here predate it.
[Labovitz12]
    C. Labovitz, "The Internet After Dark", Arbor Networks ASERT blog:
    consumer traffic peaks in the late evening; North American traffic is
    ~50 % of its daily peak at 6 am; the "internet rush hour" is 7-11 pm
    local.

Table
-----
=============================  ===========  ==============================================
parameter                      default      source
=============================  ===========  ==============================================
frame_s                        1/750 s      [Humphreys23]
grant_frames                   5.4 frames   fitted (the low end: min, p5)
satellite_processing_s         0.05 ms      ASSUMPTION
ground_processing_s            0.5 ms       ASSUMPTION
beam_jitter_s                  5.3 ms       fitted (spread inside a slot)
jitter_memory_s                70 ms        fitted (|dRTT| of consecutive pings in a slot)
beam_level_s                   5.3 ms       fitted (spread of slot levels, bent pipe)
isl_level_per_hop_s            3.4 ms       fitted (spread of slot levels, lasers)
isl_utilisation                0.59         fitted (low end vs spread, lasers)
isl_level_memory_s             17 s         fitted (lag-1 correlation of slot levels, lasers)
buffer_s                       63 ms        fitted (loss away from boundaries)
busy_hour_utilisation          0.80         fitted (busy vs quiet hour spread and loss)
diurnal_profile                24 values    ASSUMPTION shaped on [Labovitz12]
max_utilisation                0.95         decision (keeps 1/(1-rho) finite)
reconfiguration_pause_s        60 ms        measured (validation/measurements.py: 61 ms)
boundary_loss_window_s         0.2 s        measured (losses cluster in the last 0.2 s)
boundary_loss_probability      0.09         fitted (loss in that window)
link_loss                      0.32 %       fitted (loss away from boundaries, quiet hours)
=============================  ===========  ==============================================

How they were fitted: ``validation/pings.py --fit`` runs leonet for both
places, replays the measurement's ping procedure on the model and minimises
the squared log-ratios of simulated to measured min, p5, p50, p95, p99,
loss inside and outside the boundary window, spread inside a slot, spread
and lag-1 correlation of slot levels, 15-s fold ratio at 1 ping/s and the
median step between consecutive pings (24 targets, 11 parameters;
``scipy.optimize.least_squares``; the keyed draws make it deterministic).

The fitted values are 2023 values: Starlink lowered its latency in 2024
[Starlink24], so the queueing scales (``beam_jitter_s``, ``beam_level_s``,
``isl_level_per_hop_s``) are the ones to refit against newer data: the
"2025" era (`ERAS`) refits them, the grant pipeline and the load to the
published per-country best 20 %, median and worst 20 %.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

from ..errors import ScenarioError

__all__ = ["LatencyParams", "DEFAULT_DIURNAL_PROFILE", "FRAME_S", "ERAS", "ERA_CHANGE_UTC", "params_for_era", "era_of"]

#: Length of one user-link frame, s ([Humphreys23]: 750 frames per second).
FRAME_S = 1.0 / 750.0

#: Background utilisation through the day, as a fraction of the busy hour, by
#: local solar hour 0..23 (linear in between).  ASSUMPTION: a residential
#: profile -- trough at 4-5 am at a quarter of the peak, half by 8 am, a
#: daytime plateau, the peak at 8-10 pm -- in the spirit of [Labovitz12]
#: (consumer traffic peaks in the late evening; the North American aggregate
#: is at ~50 % of its peak at 6 am).  Solar, not civil, time: leonet knows
#: no time zones (civil time differs by up to ~1-2 h, e.g. Victoria in
#: summer: PDT = solar + 1.2 h).
DEFAULT_DIURNAL_PROFILE: tuple[float, ...] = (
    0.70, 0.55, 0.42, 0.32, 0.25, 0.25, 0.32, 0.42,  # 0-7 h
    0.50, 0.58, 0.62, 0.65, 0.68, 0.68, 0.68, 0.70,  # 8-15 h
    0.74, 0.80, 0.87, 0.94, 1.00, 1.00, 0.95, 0.85,  # 16-23 h
)


@dataclass(frozen=True)
class LatencyParams:
    """The global constants of the latency model (module docstring: mechanisms and sources).

    All times in seconds, probabilities and utilisations as fractions.
    Build a variant with ``dataclasses.replace(params, name=value)``; every
    instance is checked against physical bounds.

    Raises
    ------
    leonet.errors.ScenarioError
        For a value outside its bounds; the message names the parameter,
        the value, the bounds and why.

    Examples
    --------
    >>> LatencyParams().frame_s * 1e3
    1.3333333333333333
    >>> LatencyParams(buffer_s=-1.0)  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    leonet.errors.ScenarioError: latency.buffer_s = -1.0 is outside (0, 10] s ...
    """

    frame_s: float = FRAME_S
    grant_frames: float = 5.4
    satellite_processing_s: float = 5.0e-5
    ground_processing_s: float = 5.0e-4
    beam_jitter_s: float = 5.3e-3
    jitter_memory_s: float = 0.07
    beam_level_s: float = 5.3e-3
    isl_level_per_hop_s: float = 3.4e-3
    isl_level_memory_s: float = 17.0
    isl_utilisation: float = 0.59
    buffer_s: float = 0.063
    busy_hour_utilisation: float = 0.80
    diurnal_profile: tuple[float, ...] = DEFAULT_DIURNAL_PROFILE
    max_utilisation: float = 0.95
    reconfiguration_pause_s: float = 0.06
    boundary_loss_window_s: float = 0.2
    boundary_loss_probability: float = 0.09
    link_loss: float = 3.2e-3

    def __post_init__(self):
        object.__setattr__(self, "diurnal_profile", tuple(float(x) for x in self.diurnal_profile))
        problems = [p for p in (self._check(f.name) for f in fields(self)) if p]
        if problems:
            raise ScenarioError("; ".join(problems))

    # (low, high, low inclusive, high inclusive, unit, why)
    _BOUNDS = {
        "frame_s": (0.0, 0.1, False, True, "s", "a frame is a positive time, well under the 15 s slot"),
        "grant_frames": (0.0, 1000.0, True, True, "frames", "the scheduler pipeline is a non-negative number of frames"),
        "satellite_processing_s": (0.0, 0.1, True, True, "s", "per-satellite switching takes well under 100 ms"),
        "ground_processing_s": (0.0, 0.1, True, True, "s", "gateway + PoP forwarding takes well under 100 ms"),
        "beam_jitter_s": (0.0, 1.0, True, True, "s", "a mean queueing delay at zero load"),
        "jitter_memory_s": (0.0, 10.0, True, True, "s", "how long a packet's queue state lasts; 0 = independent"),
        "beam_level_s": (0.0, 1.0, True, True, "s", "a mean queueing delay at zero load"),
        "isl_level_per_hop_s": (0.0, 0.1, True, True, "s", "a mean queueing delay per laser hop"),
        "isl_level_memory_s": (0.0, 600.0, True, True, "s", "how long laser-route congestion lasts; 0 = new every slot"),
        "isl_utilisation": (0.0, 1.0, True, True, "", "share of slots whose laser route has a standing queue"),
        "buffer_s": (0.0, 10.0, False, True, "s", "a buffer holds a positive amount of queueing delay"),
        "busy_hour_utilisation": (0.0, 1.0, True, False, "", "a utilisation is a fraction below 1"),
        "max_utilisation": (0.0, 1.0, False, False, "", "the cap keeps 1 / (1 - rho) finite"),
        "reconfiguration_pause_s": (0.0, 1.0, True, False, "s", "the switch pause is shorter than a second"),
        "boundary_loss_window_s": (0.0, 15.0, True, False, "s", "the window lies inside one 15 s slot"),
        "boundary_loss_probability": (0.0, 1.0, True, True, "", "a loss probability"),
        "link_loss": (0.0, 1.0, True, False, "", "a loss probability below 1"),
    }

    def _check(self, name: str) -> str | None:
        value = getattr(self, name)
        if name == "diurnal_profile":
            if len(value) != 24 or not all(math.isfinite(v) and 0.0 <= v <= 1.0 for v in value) or max(value) <= 0.0:
                return (
                    f"latency.diurnal_profile must be 24 fractions of the busy hour in [0, 1] (local hours 0..23, "
                    f"at least one > 0), got {len(value)} values {list(value)}"
                )
            return None
        lo, hi, lo_in, hi_in, unit, why = self._BOUNDS[name]
        ok = isinstance(value, (int, float)) and math.isfinite(value)
        ok = ok and (value >= lo if lo_in else value > lo) and (value <= hi if hi_in else value < hi)
        if ok:
            return None
        interval = f"{'[' if lo_in else '('}{lo:g}, {hi:g}{']' if hi_in else ')'}"
        return f"latency.{name} = {value!r} is outside {interval}{' ' + unit if unit else ''} ({why})"

    def with_values(self, **values) -> "LatencyParams":
        """A copy with some values replaced (checked); unknown names are a `ScenarioError`."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ScenarioError(f"unknown latency parameter(s) {unknown}; known: {sorted(known)}")
        return replace(self, **values)


# ----------------------------------------------------------------------
# Eras: the network's queues before and after Starlink's 2024 latency work
# ----------------------------------------------------------------------

#: When the queue constants change.  Starlink reported in March 2024 that work on
#: its network (queue management and scheduling, more PoPs and peering) cut the
#: US peak-hour median latency from 48.5 to 33 ms and the worst-case latency by
#: more than half [Starlink24]; measured medians world-wide fell with it.
#: [Starlink24] Starlink, "Reducing latency on the Starlink network", March 2024
#: (starlink.com/updates/network-update).
ERA_CHANGE_UTC = "2024-03-01T00:00:00Z"

#: The constants of each era.  ``"2023"``: the defaults of `LatencyParams`,
#: fitted to the two LENS ping series of 2023-09 (validation/pings.py --fit).
#: ``"2025"``: the queue and MAC constants refitted to Starlink's published
#: per-country latency of 2025-12 -- best 20 %, median and worst 20 % of 96
#: countries outside Europe (validation/fit_countries.py) -- every other
#: constant shared.  Only the load and queue scales and the grant pipeline
#: differ between the eras: the framing, processing, loss and reconfiguration
#: mechanisms are kept.  (Fitted to the medians alone, 2026-11-30 to 12-01,
#: the spread of a country's RTT came out 0.66x the published one; with the
#: three figures it is 0.96x, and unseen countries' medians score the same:
#: docs/design.md, "Fidelity gaps measured and not closed".)
ERAS: dict[str, dict[str, float]] = {
    "2023": {},
    "2025": {
        "grant_frames": 5.36,
        "beam_jitter_s": 1.90e-3,
        "beam_level_s": 5.04e-3,
        "isl_level_per_hop_s": 1.61e-3,
        "busy_hour_utilisation": 0.172,
    },
}


def era_of(when_utc) -> str:
    """The era of a UTC time: ``"2023"`` before `ERA_CHANGE_UTC`, else ``"2025"``.

    >>> import datetime as dt
    >>> era_of(dt.datetime(2023, 9, 12, tzinfo=dt.timezone.utc)), era_of(dt.datetime(2026, 5, 30, tzinfo=dt.timezone.utc))
    ('2023', '2025')
    """
    from ..timebase import parse_utc

    return "2023" if parse_utc(when_utc) < parse_utc(ERA_CHANGE_UTC) else "2025"


def params_for_era(era: str, **overrides) -> LatencyParams:
    """The constants of an era (`ERAS`), with overrides (checked against their bounds).

    >>> params_for_era("2025").busy_hour_utilisation
    0.172
    """
    if era not in ERAS:
        raise ScenarioError(f"latency.era = {era!r} is not one of {', '.join(ERAS)} (or \"auto\": by the scenario's start)")
    return LatencyParams().with_values(**{**ERAS[era], **overrides})
