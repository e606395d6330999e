"""The [capacity] table and the documented parameters."""

from __future__ import annotations

import doctest

import numpy as np
import pydantic
import pytest

import leonet.capacity.allocate
import leonet.capacity.cells
import leonet.capacity.model
import leonet.capacity.params
from leonet.capacity import DEFAULT_H3_RESOLUTION, GENERATIONS, capacity_model, generation
from leonet.capacity.params import (
    BEAM_CAPACITY_BPS,
    DEFAULT_DEMAND_BPS,
    DEFAULT_GENERATION,
    ISL_CAPACITY_BPS,
    MIN_RATE_BPS,
)
from leonet.errors import ScenarioError
from leonet.scenario.capacity import GENERATION_NAMES, CapacitySpec


def test_defaults():
    # The scenario's defaults are the capacity stage's documented parameters (the scenario
    # imports no stage since issue 11, so it states them; this keeps the two equal).
    spec = CapacitySpec()
    assert spec.enabled and spec.generation == DEFAULT_GENERATION == "v1.5"
    assert spec.h3_resolution == DEFAULT_H3_RESOLUTION == 5
    assert spec.min_rate_bps == MIN_RATE_BPS == 1e6
    assert spec.demand_bps == DEFAULT_DEMAND_BPS == 100e6
    assert set(GENERATION_NAMES) == set(GENERATIONS)


def test_documented_figures():
    # Pekhterev (SatMagazine 2021): 240 MHz beams at 5.11 bit/s/Hz; 16 beams ~ 20 Gbit/s.
    assert BEAM_CAPACITY_BPS == pytest.approx(1.2264e9)
    v15 = generation("v1.5")
    assert v15.beams_per_satellite * v15.beam_capacity_bps == pytest.approx(v15.satellite_capacity_bps, rel=0.03)
    # SpaceX: V2 mini has four times the capacity of V1.5.
    assert GENERATIONS["v2-mini"].satellite_capacity_bps == 4 * v15.satellite_capacity_bps
    assert ISL_CAPACITY_BPS == 100e9


@pytest.mark.parametrize(
    "fields",
    [
        {"generation": "v3"},
        {"generation_by_constellation": {"starlink": "v3"}},
        {"h3_resolution": 16},
        {"min_rate_bps": -1.0},
        {"demand_bps": 0.0},
        {"beams_per_satellite": 0},
        {"typo_bps": 1.0},
    ],
)
def test_bad_tables_are_rejected(fields):
    with pytest.raises(pydantic.ValidationError):
        CapacitySpec(**fields)


def test_frozen():
    with pytest.raises(pydantic.ValidationError):
        CapacitySpec().h3_resolution = 6


def test_model_mixed_fleet_and_overrides():
    spec = CapacitySpec(generation_by_constellation={"new": "v2-mini"}, min_rate_bps=2e6)
    m = capacity_model(spec, 4, [8, 4], ["Ka", "E"], ["old", "new", "new", "old"])
    assert m.beams_per_satellite.tolist() == [16, 64, 64, 16]
    np.testing.assert_allclose(m.gateway_capacity_bps, [160e9, 192e9])
    assert m.min_rate_bps == 2e6 and m.isl_capacity_bps == 100e9
    spec = CapacitySpec(
        beams_per_satellite=8,
        satellite_capacity_bps=1e10,
        beam_capacity_bps=5e8,
        isl_capacity_bps=2e10,
        gateway_antenna_capacity_bps=3e9,
    )
    m = capacity_model(spec, 2, [8])
    assert m.beams_per_satellite.tolist() == [8, 8]
    np.testing.assert_allclose(m.satellite_capacity_bps, [1e10, 1e10])
    np.testing.assert_allclose(m.beam_capacity_bps, [5e8, 5e8])
    np.testing.assert_allclose(m.gateway_capacity_bps, [24e9])
    assert m.isl_capacity_bps == 2e10
    with pytest.raises(ValueError, match="one per satellite"):
        capacity_model(spec, 3, [8], None, ["a"])


def test_unknown_generation_name():
    with pytest.raises(ScenarioError, match="known generations: v1.5, v2-mini"):
        generation("v9")


@pytest.mark.parametrize(
    "module", [leonet.capacity.allocate, leonet.capacity.cells, leonet.capacity.params, leonet.capacity.model]
)
def test_docstring_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    assert result.attempted > 0
