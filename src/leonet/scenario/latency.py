"""The scenario's ``[latency]`` table and its ``[[probes]]``.

Example::

    [latency]
    enabled = true                 # the modelled RTT of a ping (false: propagation only)
    # Any of the model's global constants may be overridden (leonet.latency.params):
    # beam_jitter_s = 0.004

    [[probes]]                     # a ping series at sub-step resolution -> the `pings` table
    terminal = "terminal:Victoria"
    interval_ms = 100

Every constant's default, meaning and source is in `leonet.latency.params`;
the engine checks overrides against their physical bounds when it builds
the run (and `leonet validate` reports them).  The names here are kept equal
to the model's by a test.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, field_validator, model_validator

from .base import Strict
from .service import _check_window, _utc_or_none

__all__ = ["LatencySpec", "ProbeSpec"]


def _override(description: str, unit: str = "s"):
    return Field(None, description=f"Override: {description} ({unit}; default in leonet.latency.params)." if unit
                 else f"Override: {description} (default in leonet.latency.params).")


class LatencySpec(Strict):
    """What a user measures: the modelled RTT of a ping to the PoP, and its loss (``[latency]``)."""

    enabled: bool = Field(
        True,
        description="Model access, processing, queueing and reconfiguration delays and loss; false: rtt_ms is the "
        "propagation round trip only (the new columns are empty).",
    )
    era: Literal["auto", "2023", "2025"] = Field(
        "auto",
        description="Which network's queues: \"2023\" (before Starlink's 2024 latency work; fitted to 2023 pings), "
        "\"2025\" (after; fitted to Starlink's 2025-12 country medians), \"auto\": by the scenario's start_utc.",
        json_schema_extra={"examples": ["auto"]},
    )
    frame_s: float | None = _override("length of one user-link frame")
    grant_frames: float | None = _override("request-grant pipeline of the uplink scheduler", "frames")
    satellite_processing_s: float | None = _override("processing per satellite a packet crosses")
    ground_processing_s: float | None = _override("processing at gateway and PoP, per direction")
    beam_jitter_s: float | None = _override("mean per-packet wait in the beam's queue at zero load")
    jitter_memory_s: float | None = _override("how long a packet's queue state lasts for the next probe")
    beam_level_s: float | None = _override("mean standing queue of a slot's beam at zero load")
    isl_level_per_hop_s: float | None = _override("mean standing queue per laser hop when the route is busy")
    isl_level_memory_s: float | None = _override("how long laser-route congestion lasts across slots")
    isl_utilisation: float | None = _override("share of slots whose laser route has a standing queue", "")
    buffer_s: float | None = _override("queueing delay a buffer holds before it drops (drop-tail)")
    busy_hour_utilisation: float | None = _override("background load of a beam at the busy hour", "")
    diurnal_profile: list[float] | None = Field(
        None,
        description="Override: 24 fractions of the busy-hour load, local solar hours 0..23 (default in "
        "leonet.latency.params).",
    )
    max_utilisation: float | None = _override("cap of a beam's utilisation", "")
    reconfiguration_pause_s: float | None = _override("user-link pause at each slot boundary")
    boundary_loss_window_s: float | None = _override("window before each boundary where packets may be lost")
    boundary_loss_probability: float | None = _override("loss probability of a packet in that window", "")
    link_loss: float | None = _override("residual loss of a packet anywhere", "")

    def overrides(self) -> dict:
        """The constants this table sets (the rest keep the model's defaults)."""
        return {k: v for k, v in self.model_dump(exclude={"enabled", "era"}).items() if v is not None}


class ProbeSpec(Strict):
    """A ping series from one terminal to its PoP at sub-step resolution (``[[probes]]`` -> the ``pings`` table)."""

    terminal: str = Field(
        min_length=1,
        description="The terminal's id (leonet query RUN \"SELECT id, name FROM terminals\"; e.g. "
        "\"terminal:Victoria\", \"city:703448\", \"fleet/terminal:x\").",
        json_schema_extra={"examples": ["terminal:Victoria"]},
    )
    interval_ms: float = Field(
        ge=10.0,
        le=3_600_000.0,
        description="Time between pings, ms (at least 10, as ping and irtt series are compared).",
        json_schema_extra={"examples": [100]},
    )
    from_: dt.datetime | None = Field(
        None, alias="from", description="UTC; the first ping (omitted: the run's start).",
        json_schema_extra={"examples": ["2026-05-30T12:00:00Z"]},
    )
    until: dt.datetime | None = Field(
        None, description="UTC, exclusive; no ping at or after it (omitted: the run's end).",
        json_schema_extra={"examples": ["2026-05-30T12:20:00Z"]},
    )

    _utc = field_validator("from_", "until", mode="before")(_utc_or_none)

    @model_validator(mode="after")
    def _window(self):
        _check_window(self.from_, self.until, "from", "until")
        return self
