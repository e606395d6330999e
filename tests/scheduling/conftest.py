"""Fixtures of the scheduler tests (the scene itself is in scheduling_scene.py)."""

from __future__ import annotations

import pytest
from scheduling_scene import EPOCH, GATEWAYS, POPS, TERMINALS, sites

from leonet.engine.network import NetworkModel
from leonet.orbits.constellation import BUILTIN_WALKER, walker_constellation
from leonet.orbits.propagate import propagate
from leonet.scenario.schema import NetworkSpec, PopSpec
from leonet.timebase import TimeGrid


@pytest.fixture(scope="session")
def constellation():
    return walker_constellation("starlink-550", BUILTIN_WALKER["starlink-550"][1], EPOCH)


@pytest.fixture(scope="session")
def make_model(constellation):
    def make(policy="min-latency", slot_s=15.0, step_ns=10**9, isl="plus-grid", terminals=TERMINALS, slack_ms=0.0,
             seed=0):
        return NetworkModel(
            constellation,
            sites("terminal", terminals),
            sites("gateway", GATEWAYS, antenna_count=4),
            sites("pop", POPS),
            # Slots aligned to the scene's epoch (a whole UTC minute): the tests count slots from it.
            NetworkSpec(policy=policy, slot_s=slot_s, slot_offset_s=0.0, isl=isl, scheduler_slack_ms=slack_ms),
            PopSpec(terminal_pop="nearest"),  # the scheduler tests compare with nearest-PoP delays
            step_ns=step_ns,
            seed=seed,
        )

    return make


@pytest.fixture(scope="session")
def positions(constellation):
    """Positions on a 1 s grid of 120 steps, propagated in one go."""
    grid = TimeGrid.regular(EPOCH, 120 * 10**9, 10**9)
    return grid, propagate(constellation.satrec_array, grid).r_ecef_km
