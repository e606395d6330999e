"""The scenario's ``[capacity]`` table.

Example::

    [capacity]
    generation = "v1.5"                 # default satellite generation
    generation_by_constellation = { "starlink-tle-2026-05" = "v2-mini" }
    h3_resolution = 5                   # Starlink-like cells (~253 km^2)
    min_rate_bps = 1e6                  # below this a terminal is unserved (reason: capacity)
    demand_bps = 100e6                  # busy-hour demand of one terminal
    dish = "standard"                   # the terminals' dish (speed tests)
    # as_of = 2024-02-01                # the network's date for speed tests (default: start_utc)
    # background_subscribers = 8e6      # Starlink subscribers world-wide (default: by as_of)
    # Overrides of the generation's figures (all generations):
    # satellite_capacity_bps = 20e9
    # beams_per_satellite = 16
    # beam_capacity_bps = 1.2e9
    # isl_capacity_bps = 100e9
    # gateway_antenna_capacity_bps = 20e9

Every number has a documented default in `leonet.capacity.params` (speed
tests: `leonet.capacity.speedtest_params`); the engine turns this table into
the run's capacity model (`leonet.capacity.model`) and its speed-test model
(`leonet.capacity.speedtest.SpeedTestRun`).  Like the
rest of the schema, unknown keys are errors and the model is frozen.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, field_validator

from .base import Strict
from .service import _utc_or_none

__all__ = ["CapacitySpec", "DISH_NAMES", "GENERATION_CHOICES", "GENERATION_NAMES"]

#: The satellite generations `leonet.capacity.params.GENERATIONS` describes (a test keeps the two equal).
GENERATION_NAMES = ("v1.5", "v2-mini")

#: What ``generation`` accepts: a generation, or ``"by-name"`` -- each Starlink
#: satellite's generation from its catalogue name
#: (`leonet.capacity.speedtest.satellite_generations`).
GENERATION_CHOICES = GENERATION_NAMES + ("by-name",)

#: The dishes `leonet.capacity.speedtest_params.DISHES` describes (a test keeps the two equal).
DISH_NAMES = ("standard", "mini", "fhp")


def _known_generation(value: str) -> str:
    if value not in GENERATION_CHOICES:
        raise ValueError(f"unknown satellite generation {value!r}; known: {', '.join(sorted(GENERATION_CHOICES))}")
    return value


class CapacitySpec(Strict):
    """Capacity sharing settings (``[capacity]``).

    The defaults are `leonet.capacity.params`' (a test keeps them equal):
    generation ``"v1.5"``, H3 resolution 5 (Starlink-like ~253 km^2 cells),
    1 Mbit/s minimum served rate, 100 Mbit/s busy-hour demand per terminal.
    """

    enabled: bool = Field(
        True,
        description="true: share capacity max-min fairly among the routed terminals; false: as if [capacity] were "
        "omitted (no beam limits, demand and throughput not computed).",
    )
    generation: str = Field(
        "v1.5",
        description="Satellite generation whose capacity figures apply (see leonet.capacity.params); \"by-name\": "
        "each Starlink satellite's own, from its catalogue name (STARLINK-n with n >= 30000 and [DTC]: V2 mini; "
        "others V1.5) -- the real fleet mix of an element-set snapshot.",
        json_schema_extra={"examples": ["by-name"]},
    )
    generation_by_constellation: dict[str, str] = Field(
        default_factory=dict,
        description="Constellation name -> generation (or \"by-name\"), for satellites of another generation than "
        "`generation`.",
        json_schema_extra={"examples": [{"starlink-tle-2026-05": "v2-mini"}]},
    )
    h3_resolution: int = Field(
        5,
        ge=0,
        le=15,
        description="H3 resolution of the service cells that share a beam (5: ~253 km^2, Starlink-like).",
        json_schema_extra={"examples": [5]},
    )
    min_rate_bps: float = Field(
        1e6,
        ge=0.0,
        le=1e12,
        description="A routed terminal given less than this is unserved (reason capacity).",
        json_schema_extra={"examples": [1e6]},
    )
    demand_bps: float = Field(
        100e6,
        gt=0.0,
        le=1e12,
        description="Busy-hour demand of each terminal, bit/s (a fleet's demand_mbps, when given, replaces it for "
        "the fleet's terminals).",
        json_schema_extra={"examples": [50e6]},
    )
    satellite_capacity_bps: float | None = Field(
        None,
        gt=0.0,
        le=1e13,
        description="Override for every satellite: user downlink capacity of one satellite; omitted: its generation's.",
        json_schema_extra={"examples": [20e9]},
    )
    beams_per_satellite: int | None = Field(
        None,
        ge=1,
        le=10_000,
        description="Override for every satellite: cells one satellite can serve at once; omitted: its generation's.",
        json_schema_extra={"examples": [16]},
    )
    beam_capacity_bps: float | None = Field(
        None,
        gt=0.0,
        le=1e12,
        description="Override for every satellite: capacity of one cell beam; omitted: its generation's.",
        json_schema_extra={"examples": [1.2e9]},
    )
    isl_capacity_bps: float | None = Field(
        None,
        gt=0.0,
        le=1e13,
        description="Override: capacity of one laser link; omitted: the largest of the generations'.",
        json_schema_extra={"examples": [100e9]},
    )
    gateway_antenna_capacity_bps: float | None = Field(
        None,
        gt=0.0,
        le=1e13,
        description="Override: capacity of one gateway antenna; omitted: set by the gateway's feeder band.",
        json_schema_extra={"examples": [20e9]},
    )

    dish: Literal["standard", "mini", "fhp"] = Field(
        "standard",
        description="The terminals' dish, for speed tests: \"standard\", \"mini\" or \"fhp\" (Flat High "
        "Performance); its aperture sets its receive gain and transmit power (leonet.capacity.speedtest_params).",
        json_schema_extra={"examples": ["fhp"]},
    )
    as_of: dt.datetime | None = Field(
        None,
        description="The network's date for speed tests: Starlink's subscribers, demand per subscriber and what a "
        "dish may send at that date, interpolated between dated sources (leonet.capacity.speedtest_params."
        "network_state); omitted: the scenario's start_utc.  Set it to study an older network with today's "
        "element sets.",
        json_schema_extra={"examples": ["2024-02-01"]},
    )
    background_subscribers: float | None = Field(
        None,
        ge=0.0,
        le=1e10,
        description="Starlink subscribers world-wide whose traffic loads the beams and satellites around the "
        "terminals in speed tests: spread over the population of the served countries (the same share of people "
        "everywhere, fewer in sold-out cells), with a daily profile; omitted: Starlink's count at as_of "
        "(sourced, leonet.capacity.speedtest_params.SUBSCRIBER_HISTORY); 0: no background.",
        json_schema_extra={"examples": [8e6]},
    )

    _utc = field_validator("as_of", mode="before")(_utc_or_none)

    @field_validator("generation")
    @classmethod
    def _generation(cls, value: str) -> str:
        return _known_generation(value)

    @field_validator("generation_by_constellation")
    @classmethod
    def _generations(cls, value: dict[str, str]) -> dict[str, str]:
        for name, gen in value.items():
            try:
                _known_generation(gen)
            except ValueError as exc:
                raise ValueError(f"constellation {name!r}: {exc}") from None
        return value
