"""Capacity: service cells, and how terminals share beams, satellites, gateways and lasers.

``cells``     terminals grouped into H3 service cells (`ServiceCells`, `cell_of`).
``allocate``  max-min fair sharing (`max_min_fair`) and the per-step model
              (`CapacityModel`, `allocate_step` -> `StepAllocation`).
``params``    documented default capacities per satellite generation, with sources.
``model``     the run's capacity model from the scenario's ``[capacity]`` table (`capacity_model`).
"""

from __future__ import annotations

from .allocate import (
    CapacityModel,
    StepAllocation,
    StepInputs,
    allocate_step,
    check_step_inputs,
    gateway_capacity_bps,
    max_min_fair,
)
from .cells import DEFAULT_H3_RESOLUTION, ServiceCells, cell_area_km2, cell_of
from .params import GENERATIONS, SatelliteGeneration, generation
from .model import capacity_model

__all__ = [
    "CapacityModel",
    "DEFAULT_H3_RESOLUTION",
    "GENERATIONS",
    "SatelliteGeneration",
    "ServiceCells",
    "StepAllocation",
    "StepInputs",
    "check_step_inputs",
    "allocate_step",
    "cell_area_km2",
    "capacity_model",
    "cell_of",
    "gateway_capacity_bps",
    "generation",
    "max_min_fair",
]
