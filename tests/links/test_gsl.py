"""Ground-satellite links: hand-worked geometry, cross-checks, properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leonet.constants import C_KM_S
from leonet.ground.sites import sites_from_coordinates
from leonet.ground.visibility import visible_pairs
from leonet.links.gsl import (
    GroundLinks,
    SiteGeometry,
    limit_links_per_site,
    max_slant_range_km,
    one_way_delay_s,
    visible_links,
)
from leonet.orbits.constellation import walker_constellation
from leonet.orbits.frames import enu_basis, geodetic_to_ecef, look_angles
from leonet.orbits.propagate import propagate
from leonet.orbits.walker import WalkerShell
from leonet.timebase import TimeGrid, parse_utc

one_mm_km = 1e-6
one_ps_s = 1e-12
EPOCH = parse_utc("2026-05-30T12:00:00Z")


def _shell_positions(planes=12, per_plane=20, altitude_km=550.0, inclination_deg=53.0, t_s=0):
    shell = WalkerShell("t", altitude_km, inclination_deg, planes, per_plane, phase_factor=1)
    c = walker_constellation("t", [shell], EPOCH)
    grid = TimeGrid(EPOCH, np.array([t_s * 1_000_000_000], dtype=np.int64))
    return propagate(c.satrec_array, grid).r_ecef_km[0]


@pytest.mark.parametrize("lat,lon,alt", [(0.0, 0.0, 550.0), (50.45, 30.52, 550.0), (-89.0, 120.0, 1200.0)])
def test_zenith_range_is_altitude_and_delay_is_altitude_over_c(lat, lon, alt, search):
    # Hand-worked: a satellite on the site's ellipsoid normal, alt km up, is at
    # zenith and at range alt; its one-way delay is alt / c.
    site = SiteGeometry.from_lat_lon([lat], [lon], [25.0])
    sat = geodetic_to_ecef([lat], [lon], alt).reshape(1, 3)
    links = visible_links(site, sat)
    assert links.sat.tolist() == [0]
    assert abs(links.range_km[0] - alt) < one_mm_km
    assert abs(links.delay_s[0] - alt / C_KM_S) < one_ps_s
    assert abs(links.elevation_deg[0] - 90.0) < 1e-6


def test_max_slant_range_zenith_and_horizon():
    r = 6378.137
    assert max_slant_range_km(r, r + 550.0, 90.0) == pytest.approx(550.0, abs=one_mm_km)
    # At 0 deg elevation the line of sight is tangent: sqrt(rs^2 - rg^2).
    assert max_slant_range_km(r, r + 550.0, 0.0) == pytest.approx(np.sqrt((r + 550) ** 2 - r**2), abs=one_mm_km)


def test_one_way_delay():
    assert one_way_delay_s(C_KM_S) == pytest.approx(1.0)


def _dense_reference(lat, lon, mask_site, r_sat, mask_sat=None):
    """Brute force with leonet.orbits.frames.look_angles (degrees, arcsin)."""
    site_r = geodetic_to_ecef(lat, lon, 0.0).reshape(-1, 3)
    el, _az, rng = look_angles(site_r, enu_basis(lat, lon).reshape(-1, 3, 3), r_sat)
    need = np.asarray(mask_site)[:, None]
    if mask_sat is not None:
        need = np.maximum(need, np.asarray(mask_sat)[None, :])
    return el >= need, el, rng


@pytest.fixture(params=["dense", "kdtree"])
def search(request, monkeypatch):
    """Run a test with both candidate searches of visible_links."""
    import leonet.links.gsl as gsl

    monkeypatch.setattr(gsl, "_DENSE_PAIRS", 10**12 if request.param == "dense" else 0)
    return request.param


def test_visible_links_equal_brute_force_except_at_the_boundary(search):
    rng = np.random.default_rng(3)
    lat = rng.uniform(-60, 60, 200)
    lon = rng.uniform(-180, 180, 200)
    mask = rng.uniform(10, 40, 200)
    r = _shell_positions()
    mask_sat = rng.choice([20.0, 30.0], r.shape[0])
    links = visible_links(SiteGeometry.from_lat_lon(lat, lon, mask), r, np.sin(np.radians(mask_sat)))
    vis, el, rg = _dense_reference(lat, lon, mask, r, mask_sat)
    mine = np.zeros_like(vis)
    mine[links.site, links.sat] = True
    need = np.maximum(mask[:, None], mask_sat[None, :])
    boundary = np.abs(el - need) < 1e-9
    assert np.array_equal(mine & ~boundary, vis & ~boundary)
    assert np.allclose(links.range_km, rg[links.site, links.sat], atol=one_mm_km)
    # Sorted by site, then satellite.
    key = links.site.astype(np.int64) * r.shape[0] + links.sat
    assert np.all(np.diff(key) > 0)


def test_both_searches_give_identical_bits(monkeypatch):
    import leonet.links.gsl as gsl

    rng = np.random.default_rng(9)
    geo = SiteGeometry.from_lat_lon(rng.uniform(-60, 60, 50), rng.uniform(-180, 180, 50), 20.0)
    r = _shell_positions()
    monkeypatch.setattr(gsl, "_DENSE_PAIRS", 10**12)
    a = visible_links(geo, r)
    monkeypatch.setattr(gsl, "_DENSE_PAIRS", 0)
    b = visible_links(geo, r)
    for name in ("site", "sat", "range_km", "sin_elevation"):
        assert np.array_equal(getattr(a, name), getattr(b, name))


def test_visible_links_agree_with_ground_visibility(search):
    # The ground segment's own visibility (leonet.ground.visibility) gives the same pairs.
    rng = np.random.default_rng(5)
    rows = [dict(name=f"s{i}", lat_deg=float(a), lon_deg=float(b), region="") for i, (a, b) in
            enumerate(zip(rng.uniform(-55, 55, 60), rng.uniform(-180, 180, 60)))]
    sites = sites_from_coordinates("terminal", rows)
    r = _shell_positions()
    links = visible_links(SiteGeometry.from_sites(sites), r)
    theirs = visible_pairs(sites, r[None]).step(0)
    assert set(zip(links.site.tolist(), links.sat.tolist())) == set(zip(theirs.site_idx.tolist(), theirs.sat_idx.tolist()))


def test_nan_satellites_and_nan_masks_never_visible(search):
    site = SiteGeometry.from_lat_lon([0.0, 0.0], [0.0, 0.0], [25.0, np.nan])
    sat = np.vstack([geodetic_to_ecef(0.0, 0.0, 550.0), [np.nan] * 3])
    links = visible_links(site, sat)
    assert links.site.tolist() == [0] and links.sat.tolist() == [0]


def test_shapes_and_dtypes():
    links = visible_links(SiteGeometry.from_lat_lon([50.0], [30.0], [25.0]), _shell_positions())
    k = len(links)
    assert links.site.dtype == np.int32 and links.sat.dtype == np.int32
    assert links.range_km.shape == (k,) and links.sin_elevation.shape == (k,) and links.delay_s.shape == (k,)


def test_limit_links_keeps_the_highest_per_site():
    links = GroundLinks(
        np.array([0, 0, 0, 1, 1], np.int32),
        np.array([3, 5, 7, 1, 2], np.int32),
        np.ones(5),
        np.array([0.5, 0.9, 0.7, 0.4, 0.4]),
    )
    kept = limit_links_per_site(links, [2, 1])
    # Site 0 keeps satellites 5 and 7 (highest); site 1 a tie -> the lower index.
    assert list(zip(kept.site.tolist(), kept.sat.tolist())) == [(0, 5), (0, 7), (1, 1)]


@settings(max_examples=30, deadline=None)
@given(
    lat=st.floats(-70, 70),
    lon=st.floats(-180, 180),
    low=st.floats(0, 60),
    raise_by=st.floats(0, 30),
    t_s=st.integers(0, 5400),
)
def test_raising_the_mask_never_adds_a_visible_satellite(lat, lon, low, raise_by, t_s):
    r = _positions_cache(t_s)
    low_links = visible_links(SiteGeometry.from_lat_lon([lat], [lon], [low]), r)
    high_links = visible_links(SiteGeometry.from_lat_lon([lat], [lon], [low + raise_by]), r)
    assert set(high_links.sat.tolist()) <= set(low_links.sat.tolist())
    # Satellite masks too.
    sat_mask = np.sin(np.radians(np.full(r.shape[0], low + raise_by)))
    both = visible_links(SiteGeometry.from_lat_lon([lat], [lon], [low]), r, sat_mask)
    assert set(both.sat.tolist()) <= set(low_links.sat.tolist())


_CACHE: dict[int, np.ndarray] = {}


def _positions_cache(t_s: int) -> np.ndarray:
    key = t_s // 600 * 600
    if key not in _CACHE:
        _CACHE[key] = _shell_positions(t_s=key)
    return _CACHE[key]
