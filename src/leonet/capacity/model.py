"""The run's capacity model, built from the scenario's ``[capacity]`` table.

`capacity_model` turns a `~leonet.scenario.capacity.CapacitySpec` and the
run's satellites and gateways into a `~leonet.capacity.allocate.CapacityModel`:
per-satellite capacities by generation (`leonet.capacity.params`), gateway
capacities by band, and the spec's overrides.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from .allocate import CapacityModel, gateway_capacity_bps
from .params import GENERATIONS

__all__ = ["capacity_model"]


def capacity_model(
    spec,
    n_satellites: int,
    gateway_antenna_count: ArrayLike,
    gateway_band: Sequence[str] | None = None,
    satellite_constellation: Sequence[str] | None = None,
    satellite_names: Sequence[str] | None = None,
) -> CapacityModel:
    """The run's `~leonet.capacity.allocate.CapacityModel`.

    Parameters
    ----------
    spec : leonet.scenario.capacity.CapacitySpec
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
    satellite_names : sequence of str, [S], optional
        Each satellite's catalogue name, for the generation ``"by-name"``
        (`leonet.capacity.speedtest.satellite_generations`; names without a
        Starlink number are V1.5).  Required when a satellite's generation
        is ``"by-name"``.

    Examples
    --------
    >>> from leonet.scenario.capacity import CapacitySpec
    >>> m = capacity_model(CapacitySpec(generation_by_constellation={"b": "v2-mini"}), 3, [8], ["Ka"], ["a", "b", "a"])
    >>> m.beams_per_satellite.tolist(), m.satellite_capacity_bps.tolist()
    ([16, 64, 16], [20000000000.0, 80000000000.0, 20000000000.0])
    >>> m = capacity_model(CapacitySpec(generation="by-name"), 2, [8], ["Ka"],
    ...                    satellite_names=["STARLINK-1008", "STARLINK-30049"])
    >>> m.beams_per_satellite.tolist()
    [16, 64]
    """
    if satellite_constellation is None:
        per_sat = [spec.generation] * n_satellites
    else:
        names = list(satellite_constellation)
        if len(names) != n_satellites:
            raise ValueError(
                f"satellite_constellation has {len(names)} entries, expected one per satellite ({n_satellites})"
            )
        per_sat = [spec.generation_by_constellation.get(str(u), spec.generation) for u in names]
    if "by-name" in per_sat:
        from .speedtest import satellite_generations

        if satellite_names is None or len(satellite_names) != n_satellites:
            raise ValueError("generation \"by-name\" needs the satellites' names (one per satellite)")
        by_name = satellite_generations(satellite_names)
        per_sat = [b if g == "by-name" else g for g, b in zip(per_sat, by_name)]
    uniq, inv = np.unique(np.asarray(per_sat, dtype=str), return_inverse=True)
    gens = [GENERATIONS[str(u)] for u in uniq] if n_satellites else [GENERATIONS["v1.5" if spec.generation == "by-name"
                                                                                 else spec.generation]]
    gen_index = inv.astype(np.intp)
    sat_cap = np.array([g.satellite_capacity_bps for g in gens])[gen_index] if gens else np.zeros(0)
    beams = np.array([g.beams_per_satellite for g in gens])[gen_index]
    beam_cap = np.array([g.beam_capacity_bps for g in gens])[gen_index]
    isl = max(g.isl_capacity_bps for g in gens)  # gens is never empty
    if spec.satellite_capacity_bps is not None:
        sat_cap = np.full(n_satellites, spec.satellite_capacity_bps)
    if spec.beams_per_satellite is not None:
        beams = np.full(n_satellites, spec.beams_per_satellite)
    if spec.beam_capacity_bps is not None:
        beam_cap = np.full(n_satellites, spec.beam_capacity_bps)
    if spec.isl_capacity_bps is not None:
        isl = spec.isl_capacity_bps
    return CapacityModel(
        satellite_capacity_bps=sat_cap,
        beams_per_satellite=beams,
        beam_capacity_bps=beam_cap,
        gateway_capacity_bps=gateway_capacity_bps(gateway_antenna_count, gateway_band, spec.gateway_antenna_capacity_bps),
        isl_capacity_bps=isl,
        min_rate_bps=spec.min_rate_bps,
    )
