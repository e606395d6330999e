"""SGP4 nodes + cubic Hermite interpolation: accuracy and chunk independence."""

from __future__ import annotations

import numpy as np
import pytest

from leonet.orbits.propagate import propagate
from leonet.orbits.tle import read_tle_file
from leonet.timebase import TimeGrid

one_meter_km = 1e-3


@pytest.fixture(scope="module")
def sats(starlink_tle_path):
    return read_tle_file(starlink_tle_path).satrecs


GRID = TimeGrid.regular("2026-05-30T12:00:00Z", 600 * 10**9, 10**9)


@pytest.fixture(scope="module")
def exact(sats):
    return propagate(sats, GRID).r_ecef_km


@pytest.mark.parametrize("node_s,bound_m", [(15, 0.5), (30, 1.0), (60, 2.0)])
def test_interpolated_positions_stay_within_a_metre_or_two_of_sgp4(sats, exact, node_s, bound_m):
    """Every satellite of the real snapshot over 10 minutes at 1 s steps.

    The Hermite bound h^4 n^4 a / 384 predicts 0.02 m (30 s) and 0.3 m (60 s) for a
    smooth orbit; SGP4's drag terms for the lowest, decaying satellites make it a
    little rougher, so the bounds here are the measured maxima rounded up.
    """
    grid = GRID
    fast = propagate(sats, grid, node_spacing_ns=node_s * 10**9).r_ecef_km
    err_km = np.linalg.norm(exact - fast, axis=-1)
    assert np.nanmax(err_km) < bound_m * one_meter_km
    # At the nodes themselves the two are the same evaluation of SGP4.
    at_nodes = grid.offset_ns % (node_s * 10**9) == 0
    assert np.nanmax(err_km[at_nodes]) < 1e-9


def test_velocities_are_interpolated_too(sats):
    grid = TimeGrid.regular("2026-05-30T12:00:00Z", 120 * 10**9, 10**9)
    exact = propagate(sats[:500], grid, velocities=True).v_ecef_km_s
    fast = propagate(sats[:500], grid, velocities=True, node_spacing_ns=30 * 10**9).v_ecef_km_s
    assert np.nanmax(np.linalg.norm(exact - fast, axis=-1)) < 1e-3  # 1 m/s


@pytest.mark.parametrize("chunk", [1, 7, 600])
def test_bit_identical_whatever_the_chunking(sats, chunk):
    grid = TimeGrid.regular("2026-05-30T12:00:00Z", 300 * 10**9, 10**9)
    whole = propagate(sats[:2000], grid, node_spacing_ns=30 * 10**9).r_ecef_km
    parts = [
        propagate(sats[:2000], grid.slice(s, min(s + chunk, len(grid))), node_spacing_ns=30 * 10**9).r_ecef_km
        for s in range(0, len(grid), chunk)
    ]
    assert np.array_equal(whole, np.concatenate(parts), equal_nan=True)
