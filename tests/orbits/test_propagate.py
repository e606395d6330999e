"""Propagation and frames against Skyfield (an independent TEME->ITRS chain).

Skyfield's ``EarthSatellite.at(t).frame_xyz(itrs)`` goes TEME -> GCRS ->
ITRS with the IAU 2000A model; leonet rotates TEME by GMST 1982 directly
(AIAA 2006-6753 Appendix C).  Both use the same SGP4 core, so differences
come only from the frame chain: the acceptance bound is 50 m.
"""

from __future__ import annotations

import numpy as np
import pytest
from skyfield.api import EarthSatellite, load, wgs84
from skyfield.framelib import itrs

from leonet.orbits.frames import ecef_to_geodetic, enu_basis, geodetic_to_ecef, gmst82_rad, look_angles
from leonet.orbits.propagate import propagate
from leonet.orbits.tle import read_tle_file
from leonet.timebase import TimeGrid

fifty_meters_km = 50e-3
one_mm_km = 1e-6

TIMES = ["2026-05-29T00:00:00Z", "2026-05-30T12:00:00Z", "2026-05-30T18:30:15.250Z", "2026-05-31T06:00:00Z"]


@pytest.fixture(scope="module")
def snapshot(starlink_tle_path):
    return read_tle_file(starlink_tle_path)


@pytest.fixture(scope="module")
def ts():
    return load.timescale(builtin=True)


def _skyfield_times(ts, grid):
    return ts.utc(*[[getattr(d, a) for d in grid.datetimes()] for a in ("year", "month", "day", "hour", "minute")],
                  [d.second + d.microsecond / 1e6 for d in grid.datetimes()])


def test_every_satellite_of_the_snapshot_agrees_with_skyfield_within_50_m(snapshot, ts):
    """All 10,395 satellites of the shipped snapshot, at four times."""

    worst = 0.0
    for when in TIMES:
        g = TimeGrid.at(when)
        t = _skyfield_times(ts, g)
        dut1 = float(t.dut1[0])
        mine = propagate(snapshot.satrecs, g, ut1_minus_utc_s=dut1).r_ecef_km[0]
        theirs = np.empty_like(mine)
        for k, (l1, l2) in enumerate(zip(snapshot.line1, snapshot.line2)):
            theirs[k] = EarthSatellite(l1, l2, ts=ts).at(t[0]).frame_xyz(itrs).km
        err = np.linalg.norm(mine - theirs, axis=1)
        worst = max(worst, float(np.nanmax(err)))
        assert np.all(err < fifty_meters_km), f"{when}: worst {err.max() * 1e3:.1f} m at satellite {err.argmax()}"
    # The frame chains differ by metres, not tens of metres; catch a regression early.
    assert worst < 0.02


def test_velocity_matches_skyfield_itrs_velocity(snapshot, ts):
    g = TimeGrid.at(TIMES[1])
    t = _skyfield_times(ts, g)
    prop = propagate(snapshot.satrecs[:200], g, ut1_minus_utc_s=float(t.dut1[0]), velocities=True)
    for k in range(0, 200, 20):
        sat = EarthSatellite(snapshot.line1[k], snapshot.line2[k], ts=ts)
        _, v = sat.at(t[0]).frame_xyz_and_velocity(itrs)
        assert np.allclose(prop.v_ecef_km_s[0, k], v.km_per_s, atol=1e-4)  # 0.1 m/s


def test_output_is_time_major(snapshot):
    grid = TimeGrid.regular("2026-05-30T12:00:00Z", 5 * 10**9, 10**9)
    prop = propagate(snapshot.satrecs[:7], grid, velocities=True)
    assert prop.r_ecef_km.shape == (5, 7, 3)
    assert prop.v_ecef_km_s.shape == (5, 7, 3)
    assert prop.error.shape == (5, 7)
    assert prop.r_ecef_km.flags["C_CONTIGUOUS"]


def test_decayed_satellite_is_nan_with_error_code_not_an_exception(snapshot):
    # Ten years after the epoch, the very low satellites of the snapshot have decayed (sgp4 error 6 or 1).
    lows = np.argsort([s.no_kozai for s in snapshot.satrecs])[-20:]  # highest mean motion = lowest orbits
    grid = TimeGrid.at("2036-05-30T12:00:00Z")
    prop = propagate([snapshot.satrecs[k] for k in lows], grid)
    failed = prop.error[0] != 0
    assert failed.any()
    assert np.isnan(prop.r_ecef_km[0, failed]).all()
    assert np.isfinite(prop.r_ecef_km[0, ~failed]).all()


def test_gmst_matches_skyfield(ts):
    # Skyfield's sgp4lib.theta_GMST1982 is the same IAU 1982 formula (AIAA 2006-6753 eq. C-5).
    from skyfield.sgp4lib import theta_GMST1982

    for jd, fr in [(2451545.0, 0.0), (2461190.5, 0.5), (2461190.5, 0.123456789)]:
        theta, rate = gmst82_rad(np.array([jd]), np.array([fr]))
        ref, ref_rate = theta_GMST1982(jd, fr)
        assert theta[0] == pytest.approx(ref, abs=1e-12)
        assert rate[0] == pytest.approx(ref_rate / 86400.0, rel=1e-12)


@pytest.mark.parametrize("lat,lon,alt", [(50.45, 30.52, 0.0), (-33.9, 151.2, 0.1), (89.99, -10.0, 2.0), (0.0, 180.0, 0.0)])
def test_geodetic_round_trip_and_skyfield(lat, lon, alt):
    r = geodetic_to_ecef(lat, lon, alt)
    assert np.allclose(r, wgs84.latlon(lat, lon, elevation_m=alt * 1e3).itrs_xyz.km, atol=one_mm_km)
    la, lo, h = ecef_to_geodetic(r)
    assert la == pytest.approx(lat, abs=1e-9)
    assert (lo - lon + 180) % 360 - 180 == pytest.approx(0.0, abs=1e-9)
    assert h == pytest.approx(alt, abs=one_mm_km)


def test_zenith_satellite_hand_worked():
    """A point 550 km straight up the local normal: elevation 90 deg, range 550 km."""
    lat, lon = 48.0, 35.0
    site = geodetic_to_ecef(lat, lon, 0.0)
    up = enu_basis(lat, lon)[2]
    sat = site + 550.0 * up
    el, az, rng = look_angles(site[None], enu_basis([lat], [lon]), sat[None, None, :])
    assert el[0, 0, 0] == pytest.approx(90.0, abs=1e-6)
    assert rng[0, 0, 0] == pytest.approx(550.0, abs=1e-9)
