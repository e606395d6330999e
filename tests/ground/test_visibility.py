"""Visibility: hand-worked geometry, Skyfield cross-check, methods agree, properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sgp4.api import Satrec, SatrecArray, jday

from leonet.errors import ScenarioError
from leonet.ground.sites import data_path, load_hypatia_cities, load_pops, sites_from_coordinates
from leonet.ground.visibility import VisiblePairs, max_slant_range_km, visible_mask, visible_pairs
from leonet.orbits.frames import enu_basis, geodetic_to_ecef, gmst82_rad, look_angles, teme_to_ecef

one_meter_km = 1e-3
one_mm_km = 1e-6
one_mdeg = 1e-3  # 0.001 degree

KYIV = dict(name="Kyiv", lat_deg=50.45466, lon_deg=30.5238)


def _site(**kw):
    return sites_from_coordinates("terminal", [{**KYIV, **kw}])


def _tle_satellites(every: int = 1, limit: int | None = None):
    lines = data_path("tle", "starlink_gp_20260530.tle").read_text().splitlines()
    triples = [(lines[i], lines[i + 1], lines[i + 2]) for i in range(0, len(lines) - 2, 3)][::every]
    return triples[:limit]


def _propagate(triples, minutes):
    """ECEF positions float64[T, S, 3] with sgp4 + GMST82 (frames.py), NaN where sgp4 fails."""
    sats = SatrecArray([Satrec.twoline2rv(l1, l2) for _, l1, l2 in triples])
    jd0, fr0 = jday(2026, 5, 30, 12, 0, 0)
    fr = fr0 + np.asarray(minutes, dtype=float) / 1440.0
    jd = np.full(fr.shape, jd0)
    err, r, _ = sats.sgp4(jd, fr)
    r = np.transpose(r, (1, 0, 2)).copy()
    r[np.transpose(err) != 0] = np.nan
    return teme_to_ecef(r, gmst82_rad(jd, fr)[0])


@pytest.fixture(scope="module")
def real_positions():
    """500 real Starlink satellites over 3 steps of 2 minutes."""
    return _propagate(_tle_satellites(every=20, limit=500), [0.0, 2.0, 4.0])


# --------------------------------------------------------------------------
# Hand-worked geometry
# --------------------------------------------------------------------------


def test_satellite_at_zenith():
    site = _site(altitude_km=0.2)
    above = geodetic_to_ecef(KYIV["lat_deg"], KYIV["lon_deg"], 550.2)[None, None, :]
    vis, el, rng = visible_mask(site, above)
    assert vis.shape == el.shape == rng.shape == (1, 1, 1)
    assert vis[0, 0, 0] and el[0, 0, 0] == pytest.approx(90.0, abs=1e-6)
    assert rng[0, 0, 0] == pytest.approx(550.0, abs=one_mm_km)
    pairs = visible_pairs(site, above)
    step = pairs.step(0)
    assert step.site_idx.tolist() == [0] and step.sat_idx.tolist() == [0]
    assert step.elevation_deg[0] == pytest.approx(90.0, abs=1e-6)
    assert step.range_km[0] == pytest.approx(550.0, abs=one_mm_km)


@pytest.mark.parametrize("tilt_deg, seen", [(0.01, True), (-0.01, False)])
def test_satellite_on_the_horizon(tilt_deg, seen):
    # 1,000 km due east along the local horizon plane, tilted by +-0.01 degree.
    site = _site(min_elevation_deg=0.0)
    east, _, up = enu_basis(KYIV["lat_deg"], KYIV["lon_deg"])
    t = math.radians(tilt_deg)
    sat = site.r_ecef_km[0] + 1000.0 * (math.cos(t) * east + math.sin(t) * up)
    vis, el, rng = visible_mask(site, sat[None, None, :])
    assert el[0, 0, 0] == pytest.approx(tilt_deg, abs=1e-9)
    assert rng[0, 0, 0] == pytest.approx(1000.0, abs=one_mm_km)
    assert bool(vis[0, 0, 0]) is seen
    pairs = visible_pairs(site, sat[None, None, :])
    assert pairs.n_pairs == int(seen)
    if seen:
        assert pairs.azimuth_deg[0] == pytest.approx(90.0, abs=1e-9)  # due east


def test_max_slant_range_bound_by_hand():
    # Zenith: the range is the altitude; horizon: sqrt(r_s^2 - r_g^2).
    assert max_slant_range_km(90.0, 6371.0, 6921.0) == pytest.approx(550.0)
    assert max_slant_range_km(0.0, 6371.0, 6921.0) == pytest.approx(math.sqrt(6921.0**2 - 6371.0**2))
    assert max_slant_range_km(25.0, 6371.0, 6000.0) == 0.0


# --------------------------------------------------------------------------
# Against Skyfield
# --------------------------------------------------------------------------


def test_look_angles_match_skyfield():
    """Elevation, azimuth and range against Skyfield's ``(sat - topos).at(t).altaz()``.

    Skyfield builds the satellite positions; leonet only gets their ITRS
    coordinates (``frame_xyz(itrs)``), so only leonet's site geometry and look
    angles are tested.
    """
    api = pytest.importorskip("skyfield.api")
    from skyfield.framelib import itrs

    ts = api.load.timescale(builtin=True)
    t = ts.utc(2026, 5, 30, 12, [0, 7, 13, 29])
    place = dict(name="Kharkiv", lat_deg=49.98177, lon_deg=36.25475, altitude_km=0.152, min_elevation_deg=0.0)
    topos = api.wgs84.latlon(place["lat_deg"], place["lon_deg"], elevation_m=place["altitude_km"] * 1000.0)
    site = sites_from_coordinates("terminal", [place])

    sats = [api.EarthSatellite(l1, l2, name, ts) for name, l1, l2 in _tle_satellites(every=13, limit=800)]
    r = np.stack([s.at(t).frame_xyz(itrs).km.T for s in sats], axis=1)  # [T, S, 3]
    vis, el, rng = visible_mask(site, r)
    pairs = visible_pairs(site, r)

    n_visible = 0
    for k, sat in enumerate(sats):
        alt, az, dist = (sat - topos).at(t).altaz()
        assert np.abs(el[:, 0, k] - alt.degrees).max() < one_mdeg / 1000  # agreement is ~1e-9 deg
        assert np.abs(rng[:, 0, k] - dist.km).max() < one_meter_km / 1000
        assert np.array_equal(vis[:, 0, k], alt.degrees >= 0.0)
        for ti in np.flatnonzero(alt.degrees >= 0.0):
            step = pairs.step(int(ti))
            j = np.flatnonzero(step.sat_idx == k)
            assert j.size == 1
            assert step.elevation_deg[j[0]] == pytest.approx(alt.degrees[ti], abs=one_mdeg)
            assert step.range_km[j[0]] == pytest.approx(dist.km[ti], abs=one_meter_km)
            d_az = (step.azimuth_deg[j[0]] - az.degrees[ti] + 180.0) % 360.0 - 180.0
            assert abs(d_az) < one_mdeg
            n_visible += 1
    assert n_visible >= 20  # the check saw real passes, not just empty sky
    assert pairs.n_pairs == n_visible


# --------------------------------------------------------------------------
# Methods agree
# --------------------------------------------------------------------------


def test_dense_sparse_and_frames_look_angles_agree(real_positions):
    cities = load_hypatia_cities()
    vis, el, rng = visible_mask(cities, real_positions)
    kd = visible_pairs(cities, real_positions)
    dense = visible_pairs(cities, real_positions, method="dense")
    for field in ("step_ptr", "site_idx", "sat_idx"):
        assert np.array_equal(getattr(kd, field), getattr(dense, field))
    assert np.array_equal(kd.to_dense(), vis)
    t, g, s = kd.step_index(), kd.site_idx, kd.sat_idx
    assert np.abs(kd.elevation_deg - el[t, g, s]).max() < 1e-9
    assert np.abs(kd.range_km - rng[t, g, s]).max() < 1e-9
    # frames.look_angles is the scalar-by-broadcast reference (explicit difference vectors).
    el_ref, az_ref, rng_ref = look_angles(cities.r_ecef_km, enu_basis(cities.lat_deg, cities.lon_deg), real_positions)
    assert np.nanmax(np.abs(el - el_ref)) < 1e-9 and np.nanmax(np.abs(rng - rng_ref)) < 1e-9
    assert np.abs(((kd.azimuth_deg - az_ref[t, g, s] + 180) % 360) - 180).max() < 1e-9
    assert kd.n_pairs > 100
    # Sorted by site, then satellite, within every step.
    for step in kd:
        key = step.site_idx.astype(np.int64) * kd.n_sats + step.sat_idx
        assert np.all(np.diff(key) > 0)


def test_every_visible_pair_is_inside_the_slant_range_bound(real_positions):
    cities = load_hypatia_cities()
    pairs = visible_pairs(cities, real_positions)
    r_sat = np.linalg.norm(real_positions, axis=-1)
    r_site = np.linalg.norm(cities.r_ecef_km, axis=-1)
    bound = max_slant_range_km(25.0 - 0.2, r_site.min(), np.nanmax(r_sat))
    assert pairs.range_km.max() <= bound


def test_shapes_and_counts(real_positions):
    cities = load_hypatia_cities().subset(slice(0, 7))
    t, s = real_positions.shape[:2]
    vis, el, rng = visible_mask(cities, real_positions)
    assert vis.shape == el.shape == rng.shape == (t, 7, s) and vis.dtype == bool
    pairs = visible_pairs(cities, real_positions)
    assert isinstance(pairs, VisiblePairs) and len(pairs) == t and pairs.step_ptr.shape == (t + 1,)
    assert pairs.site_idx.dtype == np.int32 and pairs.sat_idx.dtype == np.int32
    assert np.array_equal(pairs.counts(), vis.sum(axis=2))
    assert (pairs.azimuth_deg >= 0).all() and (pairs.azimuth_deg < 360).all()


# --------------------------------------------------------------------------
# Masks, ranges, failures
# --------------------------------------------------------------------------


def test_nan_satellites_and_pops_are_never_visible(real_positions):
    r = real_positions.copy()
    r[:, ::2] = np.nan  # failed propagations
    cities = load_hypatia_cities()
    vis, el, _ = visible_mask(cities, r)
    assert not vis[:, :, ::2].any() and np.isnan(el[:, :, ::2]).all()
    pairs = visible_pairs(cities, r)
    assert (pairs.sat_idx % 2 == 1).all() and pairs.n_pairs > 0
    assert visible_pairs(load_pops(), real_positions).n_pairs == 0  # PoPs have no radio (NaN mask)
    assert not visible_mask(load_pops(), real_positions)[0].any()


def test_satellite_masks_and_max_range(real_positions):
    cities = load_hypatia_cities()
    s = real_positions.shape[1]
    sat_mask = np.where(np.arange(s) % 2 == 0, 40.0, 10.0)
    pairs = visible_pairs(cities, real_positions, sat_min_elevation_deg=sat_mask)
    assert (pairs.elevation_deg >= np.maximum(25.0, sat_mask[pairs.sat_idx])).all()
    vis, _, _ = visible_mask(cities, real_positions, sat_min_elevation_deg=sat_mask)
    assert np.array_equal(pairs.to_dense(), vis)
    near = visible_pairs(cities, real_positions, max_range_km=800.0)
    assert near.n_pairs > 0 and (near.range_km <= 800.0).all()
    full = visible_pairs(cities, real_positions)
    assert near.n_pairs == int((full.range_km <= 800.0).sum())


def test_bad_inputs_teach():
    site = _site()
    with pytest.raises(ScenarioError, match=r"float64\[T, S, 3\].*r_sat_ecef_km\[None\]"):
        visible_pairs(site, np.zeros((5, 3)) + 7000.0)
    with pytest.raises(ScenarioError, match="metres"):
        visible_mask(site, np.full((1, 2, 3), 7.0e6))
    with pytest.raises(ScenarioError, match=r"one mask per satellite, float64\[2\]"):
        visible_pairs(site, np.full((1, 2, 3), 4500.0), sat_min_elevation_deg=[10.0, 20.0, 30.0])
    with pytest.raises(ScenarioError, match="method='fast'"):
        visible_pairs(site, np.full((1, 2, 3), 4500.0), method="fast")


def test_empty_inputs():
    site = _site()
    pairs = visible_pairs(site, np.empty((3, 0, 3)))
    assert len(pairs) == 3 and pairs.n_pairs == 0 and pairs.counts().shape == (3, 1)


# --------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    low=st.floats(0.0, 89.0),
    extra=st.floats(0.0, 30.0),
    pick=st.lists(st.integers(0, 99), min_size=1, max_size=20, unique=True),
)
def test_raising_the_mask_never_adds_a_visible_pair(real_positions, low, extra, pick):
    cities = load_hypatia_cities().subset(np.array(pick))
    masks_low = np.full(len(cities), low)
    masks_high = np.minimum(masks_low + extra, 90.0)
    lo = visible_pairs(cities.with_min_elevation(masks_low), real_positions)
    hi = visible_pairs(cities.with_min_elevation(masks_high), real_positions)
    key = lambda p: set(zip(p.step_index().tolist(), p.site_idx.tolist(), p.sat_idx.tolist()))  # noqa: E731
    assert key(hi) <= key(lo)
    assert np.array_equal(hi.to_dense(), visible_mask(cities.with_min_elevation(masks_high), real_positions)[0])
