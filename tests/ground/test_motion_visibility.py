"""An aircraft at cruise altitude against a terminal below it (issue 13), with leonet's visibility engine.

The aircraft's position and local basis come from `leonet.ground.motion`
(a ``route`` at 10 km); the satellites are the built-in Starlink shell 1
(Walker, SGP4).  Two geometric facts, proved in the comments and checked on
random places and times:

* Down to its horizon, the aircraft sees every satellite the terminal below
  sees, and more: its horizon dips by ``arccos(R / (R + h))`` (3.2 deg at
  10 km).  Proof: the Earth (a convex ellipsoid) lies below the tangent plane
  at the ground point; the aircraft and every satellite above that plane are
  in the open half-space above it, so the segment between them misses the
  Earth.
* Above a fixed elevation mask measured from the local horizontal (a dish's
  mask), the aircraft sees a *subset*: raising the site by ``h`` along the
  normal lowers ``sin(el) = (d . up) / |d|`` -- with ``a = d' . up`` from the
  aircraft, the ground sees ``(a + h) / |d| >= (a + h) / (|d'| + h) >= a / |d'|``.
  For those satellites the slant range from the aircraft is shorter
  (``|d'|^2 = |d|^2 - 2 h d.up + h^2``).
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leonet.engine.build import constellation_from_source
from leonet.ground.motion import Motion, route_trajectory
from leonet.links.visibility import SiteGeometry, pair_sin_elevation, visible_links
from leonet.orbits.propagate import positions_at

UTC = dt.timezone.utc
NOON = dt.datetime(2026, 5, 30, 12, tzinfo=UTC)
CRUISE_M = 10_000.0
R_KM = 6371.0088


@pytest.fixture(scope="module")
def shell1():
    return constellation_from_source("starlink-550", NOON)


def _aircraft(lat: float, lon: float, minutes: int, altitude_m: float) -> SiteGeometry:
    """The aircraft's geometry at the step it passes (lat, lon), from its route."""
    when = NOON + dt.timedelta(minutes=minutes)
    north = math.copysign(0.05, -lat)  # away from the pole
    route = route_trajectory(
        [{"lat_deg": lat, "lon_deg": lon, "at": when}, {"lat_deg": lat + north, "lon_deg": lon, "at": when + dt.timedelta(seconds=30)}],
        name="plane", altitude_m=altitude_m,
    )
    state = Motion([route], [0], NOON).at(np.array([minutes * 60 * 10**9], dtype=np.int64))
    assert state.status[0, 0] == 0 and abs(state.altitude_km[0, 0] * 1000.0 - altitude_m) < 1e-9
    dip_deg = math.degrees(math.acos(R_KM / (R_KM + altitude_m / 1000.0)))
    enu = state.enu[0]
    mask = np.array([-dip_deg])
    return SiteGeometry(state.r_ecef_km[0], np.ascontiguousarray(enu[:, 2, :]), mask, np.sin(np.radians(mask)), enu)


def _with_mask(geo: SiteGeometry, mask_deg: float) -> SiteGeometry:
    mask = np.array([mask_deg])
    return SiteGeometry(geo.r_ecef_km, geo.up, mask, np.sin(np.radians(mask)), geo.enu)


places = st.tuples(st.floats(-60.0, 60.0), st.floats(-180.0, 180.0), st.integers(0, 95), st.floats(8_000.0, 12_000.0))


@settings(max_examples=40, deadline=None)
@given(places)
def test_an_aircraft_sees_every_satellite_the_terminal_below_sees_and_more_down_to_its_horizon(shell1, place):
    lat, lon, minutes, altitude_m = place
    r_sat = positions_at(shell1, NOON + dt.timedelta(minutes=minutes)).r_ecef_km
    ground = SiteGeometry.from_lat_lon([lat], [lon], 0.0)  # a point on the surface: its horizon is the horizontal
    air = _aircraft(lat, lon, minutes, altitude_m)
    assert abs(np.linalg.norm(air.r_ecef_km[0] - ground.r_ecef_km[0]) - altitude_m / 1000.0) < 1e-9
    seen_ground = set(visible_links(ground, r_sat).sat.tolist())
    seen_air = set(visible_links(air, r_sat).sat.tolist())
    assert seen_ground <= seen_air
    # At one mask from the local horizontal the aircraft sees a subset, each satellite closer.
    dish_ground, dish_air = _with_mask(ground, 25.0), _with_mask(air, 25.0)
    both = visible_links(dish_air, r_sat)
    assert set(both.sat.tolist()) <= set(visible_links(dish_ground, r_sat).sat.tolist())
    rng_ground, _ = pair_sin_elevation(dish_ground, np.zeros(len(both), dtype=np.int64), r_sat[both.sat])
    assert (both.range_km < rng_ground).all()


def test_aircraft_see_strictly_more_satellites_over_a_grid_of_places(shell1):
    more = total_ground = 0
    for minutes in (0, 7, 31):
        r_sat = positions_at(shell1, NOON + dt.timedelta(minutes=minutes)).r_ecef_km
        for lat in (-50.0, -20.0, 0.0, 25.0, 50.0):
            for lon in (-120.0, 0.0, 30.52, 140.0):
                n_ground = len(visible_links(SiteGeometry.from_lat_lon([lat], [lon], 0.0), r_sat))
                n_air = len(visible_links(_aircraft(lat, lon, minutes, CRUISE_M), r_sat))
                assert n_air >= n_ground
                more += n_air > n_ground
                total_ground += n_ground
    assert total_ground > 0 and more >= 55  # of 60 places and times: the dipped horizon adds satellites nearly always
