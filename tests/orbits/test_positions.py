"""`positions_at`: every satellite's position at one time (what ``leonet sats`` prints)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from leonet.errors import ScenarioError
from leonet.orbits.frames import ecef_to_geodetic
from leonet.orbits.propagate import SatellitePositions, positions_at, propagate
from leonet.engine.build import constellation_from_source
from leonet.timebase import TimeGrid, parse_utc

one_mm_km = 1e-6
NOON = parse_utc("2026-05-30T12:00:00Z")


@pytest.fixture(scope="module")
def starlink():
    return constellation_from_source("starlink-tle-2026-05")


def test_shapes_and_table():
    telesat = constellation_from_source("telesat-1015", NOON)
    p = positions_at(telesat, NOON)
    s = len(telesat)
    assert isinstance(p, SatellitePositions) and len(p) == s == 351
    assert p.r_ecef_km.shape == (s, 3) and p.r_ecef_km.dtype == np.float64
    assert p.lat_deg.shape == p.lon_deg.shape == p.altitude_km.shape == p.error.shape == (s,)
    assert p.error.dtype == np.uint8 and p.catalog_numbers.dtype == np.int64
    assert len(p.names) == len(p.shell) == s and p.shell[0] == telesat.shells[0].name
    table = p.to_table()
    assert table.num_rows == s
    assert table.column_names == [
        "sat", "name", "catalog_number", "shell", "x_km", "y_km", "z_km", "lat_deg", "lon_deg", "altitude_km"]
    assert table.schema.field("sat").type == pa.int64() and table.schema.field("x_km").type == pa.float64()
    assert table.column("sat").to_pylist() == list(range(s))
    # Hand-worked: Telesat's polar shell is circular at 1,015 km (WGS72 radius): heights above
    # the ellipsoid between 1,015 - 7 and 1,015 + 22 km (equator to pole), inclination 98.98 deg.
    assert 1008.0 < p.altitude_km.min() and p.altitude_km.max() < 1045.0
    assert np.abs(p.lat_deg).max() <= 81.02 + 0.2


def test_equals_propagate_and_geodetic(starlink):
    p = positions_at(starlink, "2026-05-30T12:00:00Z")
    r = propagate(starlink.satrec_array, TimeGrid.at(NOON)).r_ecef_km[0]
    assert np.array_equal(p.r_ecef_km, r, equal_nan=True)
    lat, lon, alt = ecef_to_geodetic(r)
    assert np.array_equal(p.lat_deg, lat) and np.array_equal(p.lon_deg, lon) and np.array_equal(p.altitude_km, alt)
    assert p.when_utc == NOON


def test_subpoints_match_skyfield(starlink):
    # Skyfield's wgs84.geographic_position_of (IAU 2000A chain, real UT1); leonet takes UT1 = UTC,
    # so longitudes differ by the Earth's rotation in UT1 - UTC (0.032 s on this day: 1.3e-4 deg).
    api = pytest.importorskip("skyfield.api")
    ts = api.load.timescale(builtin=True)
    t = ts.from_datetime(NOON)
    p = positions_at(starlink, NOON)
    for k in range(0, len(starlink), 211):
        l1, l2 = starlink.tle_lines[k]
        g = api.wgs84.geographic_position_of(api.EarthSatellite(l1, l2, ts=ts).at(t))
        assert p.lat_deg[k] == pytest.approx(g.latitude.degrees, abs=1e-5)
        assert (p.lon_deg[k] - g.longitude.degrees + 180.0) % 360.0 - 180.0 == pytest.approx(0.0, abs=3e-4)
        assert p.altitude_km[k] == pytest.approx(g.elevation.km, abs=one_mm_km * 1000)


def test_default_time_is_the_median_element_epoch(starlink):
    p = positions_at(starlink)
    median_jd = float(np.median(starlink.epoch_jd))
    jd = 2440587.5 + p.when_utc.timestamp() / 86400.0  # the Julian date of the Unix epoch is 2440587.5
    assert p.when_utc.microsecond == 0 and 0.0 <= (median_jd - jd) * 86400.0 < 1.0


def test_failed_satellites_are_nan_rows_with_error_codes(starlink):
    p = positions_at(starlink, "2036-05-30T12:00:00Z")  # ten years on, the low satellites have decayed
    bad = p.error != 0
    assert bad.any() and (~bad).any()
    assert np.isnan(p.r_ecef_km[bad]).all() and np.isnan(p.lat_deg[bad]).all()
    assert np.isfinite(p.r_ecef_km[~bad]).all()


def test_bad_time_teaches(starlink):
    with pytest.raises(ScenarioError, match="2026-05-30T12:00:00Z"):
        positions_at(starlink, "noon")
