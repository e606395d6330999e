"""The scenario's ``[capacity]`` table.

Example::

    [capacity]
    generation = "v1.5"                 # default satellite generation
    generation_by_constellation = { "starlink-tle-2026-05" = "v2-mini" }
    h3_resolution = 5                   # Starlink-like cells (~253 km^2)
    min_rate_bps = 1e6                  # below this a terminal is unserved (reason: capacity)
    demand_bps = 100e6                  # busy-hour demand of one terminal
    # Overrides of the generation's figures (all generations):
    # satellite_capacity_bps = 20e9
    # beams_per_satellite = 16
    # beam_capacity_bps = 1.2e9
    # isl_capacity_bps = 100e9
    # gateway_antenna_capacity_bps = 20e9

Every number has a documented default in `leonet.capacity.params`.  Like the
rest of the schema, unknown keys are errors and the model is frozen.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike
from pydantic import BaseModel, ConfigDict, Field, field_validator

from .allocate import CapacityModel, gateway_capacity_bps
from .cells import DEFAULT_H3_RESOLUTION
from .params import DEFAULT_DEMAND_BPS, DEFAULT_GENERATION, GENERATIONS, MIN_RATE_BPS

__all__ = ["CapacitySpec"]


class _Strict(BaseModel):
    # Same configuration as leonet.scenario.schema._Strict (not imported: the
    # schema imports this module, and a cycle would follow).
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


def _known_generation(value: str) -> str:
    if value not in GENERATIONS:
        raise ValueError(f"unknown satellite generation {value!r}; known: {', '.join(sorted(GENERATIONS))}")
    return value


class CapacitySpec(_Strict):
    """Capacity sharing settings (``[capacity]``)."""

    enabled: bool = Field(
        True, description="share capacity max-min fairly; false = every routed terminal gets its demand"
    )
    generation: str = Field(DEFAULT_GENERATION, description="satellite generation: " + ", ".join(sorted(GENERATIONS)))
    generation_by_constellation: dict[str, str] = Field(
        default_factory=dict, description="constellation name -> generation, for mixed fleets"
    )
    h3_resolution: int = Field(DEFAULT_H3_RESOLUTION, ge=0, le=15, description="H3 resolution of service cells")
    min_rate_bps: float = Field(MIN_RATE_BPS, ge=0.0, le=1e12, description="unserved (capacity) below this rate")
    demand_bps: float = Field(DEFAULT_DEMAND_BPS, gt=0.0, le=1e12, description="busy-hour demand per terminal")
    satellite_capacity_bps: float | None = Field(None, gt=0.0, le=1e13)
    beams_per_satellite: int | None = Field(None, ge=1, le=10_000)
    beam_capacity_bps: float | None = Field(None, gt=0.0, le=1e12)
    isl_capacity_bps: float | None = Field(None, gt=0.0, le=1e13)
    gateway_antenna_capacity_bps: float | None = Field(None, gt=0.0, le=1e13)

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

    def model(
        self,
        n_satellites: int,
        gateway_antenna_count: ArrayLike,
        gateway_band: Sequence[str] | None = None,
        satellite_constellation: Sequence[str] | None = None,
    ) -> CapacityModel:
        """The run's `~leonet.capacity.allocate.CapacityModel`.

        Parameters
        ----------
        n_satellites : int
            ``S``.
        gateway_antenna_count : int[W]
            ``GroundSites.antenna_count`` of the gateways.
        gateway_band : sequence of str, [W], optional
            ``GroundSites.band`` of the gateways (per-antenna rate by band),
            unless ``gateway_antenna_capacity_bps`` overrides it.
        satellite_constellation : sequence of str, [S], optional
            Name of the constellation each satellite belongs to, looked up in
            ``generation_by_constellation`` (others use ``generation``).

        Examples
        --------
        >>> spec = CapacitySpec(generation_by_constellation={"b": "v2-mini"})
        >>> m = spec.model(3, [8], ["Ka"], ["a", "b", "a"])
        >>> m.beams_per_satellite.tolist(), m.satellite_capacity_bps.tolist()
        ([16, 64, 16], [20000000000.0, 80000000000.0, 20000000000.0])
        """
        if satellite_constellation is None:
            gen_index = np.zeros(n_satellites, dtype=np.intp)
            gens = [GENERATIONS[self.generation]]
        else:
            names = np.asarray(list(satellite_constellation), dtype=object)
            if names.size != n_satellites:
                raise ValueError(
                    f"satellite_constellation has {names.size} entries, expected one per satellite ({n_satellites})"
                )
            uniq, inv = np.unique(names.astype(str), return_inverse=True)
            gens = [GENERATIONS[self.generation_by_constellation.get(str(u), self.generation)] for u in uniq]
            gen_index = inv.astype(np.intp)
        sat_cap = np.array([g.satellite_capacity_bps for g in gens])[gen_index] if gens else np.zeros(0)
        beams = np.array([g.beams_per_satellite for g in gens])[gen_index]
        beam_cap = np.array([g.beam_capacity_bps for g in gens])[gen_index]
        isl = max((g.isl_capacity_bps for g in gens), default=GENERATIONS[self.generation].isl_capacity_bps)
        if self.satellite_capacity_bps is not None:
            sat_cap = np.full(n_satellites, self.satellite_capacity_bps)
        if self.beams_per_satellite is not None:
            beams = np.full(n_satellites, self.beams_per_satellite)
        if self.beam_capacity_bps is not None:
            beam_cap = np.full(n_satellites, self.beam_capacity_bps)
        if self.isl_capacity_bps is not None:
            isl = self.isl_capacity_bps
        return CapacityModel(
            satellite_capacity_bps=sat_cap,
            beams_per_satellite=beams,
            beam_capacity_bps=beam_cap,
            gateway_capacity_bps=gateway_capacity_bps(
                gateway_antenna_count, gateway_band, self.gateway_antenna_capacity_bps
            ),
            isl_capacity_bps=isl,
            min_rate_bps=self.min_rate_bps,
        )
