"""The visibility engine: hand-worked geometry, Skyfield, brute force, both searches, properties.

References: hand-worked geometry (a satellite at zenith, on the horizon),
Skyfield's ``(sat - topos).at(t).altaz()`` (an independent site and look-angle
chain), and `leonet.orbits.frames.look_angles` (dense, ``einsum`` and
``arcsin``) as the brute-force cross-check.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sgp4.api import Satrec, SatrecArray, jday

import leonet.links.visibility as vis
from leonet.constants import C_KM_S
from leonet.errors import ScenarioError
from leonet.ground.sites import (
    data_path,
    load_hypatia_cities,
    load_pops,
    sites_from_coordinates,
)
from leonet.links.visibility import (
    GroundLinks,
    SiteGeometry,
    VisibleSatellites,
    candidate_pairs,
    max_slant_range_km,
    pair_look_angles,
    pair_sin_elevation,
    search_radius_km,
    visible_from,
    visible_links,
)
from leonet.orbits.constellation import walker_constellation
from leonet.orbits.frames import (
    enu_basis,
    geodetic_to_ecef,
    gmst82_rad,
    look_angles,
    teme_to_ecef,
)
from leonet.orbits.propagate import positions_at, propagate
from leonet.orbits.walker import WalkerShell
from leonet.engine.build import constellation_from_source
from leonet.timebase import TimeGrid, parse_utc

one_meter_km = 1e-3
one_mm_km = 1e-6
one_ps_s = 1e-12
one_mdeg = 1e-3  # 0.001 degree

KYIV = dict(name="Kyiv", lat_deg=50.45466, lon_deg=30.5238)
EPOCH = parse_utc("2026-05-30T12:00:00Z")


# --------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------


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


def _shell_positions(planes=12, per_plane=20, altitude_km=550.0, inclination_deg=53.0, t_s=0):
    shell = WalkerShell("t", altitude_km, inclination_deg, planes, per_plane, phase_factor=1)
    c = walker_constellation("t", [shell], EPOCH)
    grid = TimeGrid(EPOCH, np.array([t_s * 1_000_000_000], dtype=np.int64))
    return propagate(c.satrec_array, grid).r_ecef_km[0]


@pytest.fixture(params=["dense", "kdtree"])
def search(request, monkeypatch):
    """Run a test with both candidate searches of visible_links."""
    monkeypatch.setattr(vis, "_DENSE_PAIRS", 10**12 if request.param == "dense" else 0)
    return request.param


def _over_time(geo, r, sin_mask_sat=None):
    """visible_links of every step of r[T, S, 3]."""
    return [visible_links(geo, r[t], sin_mask_sat) for t in range(r.shape[0])]


def _keys(steps):
    return {(t, int(g), int(s)) for t, links in enumerate(steps) for g, s in zip(links.site, links.sat)}


def _dense_reference(sites, r_sat, mask_sat=None):
    """Brute force with leonet.orbits.frames.look_angles (einsum, degrees, arcsin): bool, el, az, range [..., G, S]."""
    el, az, rng = look_angles(sites.r_ecef_km, enu_basis(sites.lat_deg, sites.lon_deg), r_sat)
    need = np.asarray(sites.min_elevation_deg, dtype=float)[:, None]
    if mask_sat is not None:
        need = np.maximum(need, np.asarray(mask_sat)[None, :])
    with np.errstate(invalid="ignore"):
        return el >= need, el, az, rng, need


# --------------------------------------------------------------------------
# Hand-worked geometry
# --------------------------------------------------------------------------


def test_satellite_at_zenith(search):
    site = _site(altitude_km=0.2)
    geo = SiteGeometry.from_sites(site)
    above = geodetic_to_ecef(KYIV["lat_deg"], KYIV["lon_deg"], 550.2)[None, :]
    links = visible_links(geo, above)
    assert links.site.tolist() == [0] and links.sat.tolist() == [0]
    assert links.elevation_deg[0] == pytest.approx(90.0, abs=1e-6)
    assert links.range_km[0] == pytest.approx(550.0, abs=one_mm_km)
    el, _az, rng = pair_look_angles(geo, links.site, above[links.sat])
    assert el[0] == pytest.approx(90.0, abs=1e-6) and rng[0] == pytest.approx(550.0, abs=one_mm_km)


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


@pytest.mark.parametrize("tilt_deg, seen", [(0.01, True), (-0.01, False)])
def test_satellite_on_the_horizon(tilt_deg, seen, search):
    # 1,000 km due east along the local horizon plane, tilted by +-0.01 degree.
    geo = SiteGeometry.from_sites(_site(min_elevation_deg=0.0))
    east, _, up = enu_basis(KYIV["lat_deg"], KYIV["lon_deg"])
    t = math.radians(tilt_deg)
    sat = (geo.r_ecef_km[0] + 1000.0 * (math.cos(t) * east + math.sin(t) * up))[None, :]
    el, az, rng = pair_look_angles(geo, np.array([0]), sat)
    assert el[0] == pytest.approx(tilt_deg, abs=1e-9)
    assert rng[0] == pytest.approx(1000.0, abs=one_mm_km)
    assert az[0] == pytest.approx(90.0, abs=1e-9)  # due east
    links = visible_links(geo, sat)
    assert len(links) == int(seen)


def test_max_slant_range_by_hand():
    # Zenith: the range is the altitude; horizon: sqrt(r_s^2 - r_g^2); below the site: 0.
    assert max_slant_range_km(6371.0, 6921.0, 90.0) == pytest.approx(550.0)
    assert max_slant_range_km(6371.0, 6921.0, 0.0) == pytest.approx(math.sqrt(6921.0**2 - 6371.0**2))
    assert max_slant_range_km(6371.0, 6000.0, 25.0) == 0.0
    r = 6378.137
    assert max_slant_range_km(r, r + 550.0, 90.0) == pytest.approx(550.0, abs=one_mm_km)
    assert max_slant_range_km(r, r + 550.0, 0.0) == pytest.approx(np.sqrt((r + 550) ** 2 - r**2), abs=one_mm_km)
    # It decreases with the elevation (what makes it a bound).
    assert (np.diff(max_slant_range_km(r, r + 550.0, np.linspace(0, 90, 19))) < 0).all()


# --------------------------------------------------------------------------
# Against Skyfield
# --------------------------------------------------------------------------


def test_look_angles_and_visibility_match_skyfield():
    """Elevation, azimuth, range and the visible set against Skyfield's ``(sat - topos).at(t).altaz()``.

    Skyfield builds the satellite positions; leonet only gets their ITRS
    coordinates (``frame_xyz(itrs)``), so only leonet's site geometry, look
    angles and search are tested.
    """
    api = pytest.importorskip("skyfield.api")
    from skyfield.framelib import itrs

    ts = api.load.timescale(builtin=True)
    t = ts.utc(2026, 5, 30, 12, [0, 7, 13, 29])
    place = dict(name="Kharkiv", lat_deg=49.98177, lon_deg=36.25475, altitude_km=0.152, min_elevation_deg=0.0)
    topos = api.wgs84.latlon(place["lat_deg"], place["lon_deg"], elevation_m=place["altitude_km"] * 1000.0)
    geo = SiteGeometry.from_sites(sites_from_coordinates("terminal", [place]))

    sats = [api.EarthSatellite(l1, l2, name, ts) for name, l1, l2 in _tle_satellites(every=13, limit=800)]
    r = np.stack([s.at(t).frame_xyz(itrs).km.T for s in sats], axis=1)  # [T, S, 3]
    # Every satellite's look angles: pass every pair (one site).
    el, az, rng = pair_look_angles(geo, np.zeros(len(sats), dtype=np.int64), r)  # [T, S]
    steps = _over_time(geo, r)

    n_visible = 0
    for k, sat in enumerate(sats):
        alt, sky_az, dist = (sat - topos).at(t).altaz()
        assert np.abs(el[:, k] - alt.degrees).max() < one_mdeg / 1000  # agreement is ~1e-9 deg
        assert np.abs(rng[:, k] - dist.km).max() < one_meter_km / 1000
        seen = np.array([k in set(links.sat.tolist()) for links in steps])
        assert np.array_equal(seen, alt.degrees >= 0.0)
        for ti in np.flatnonzero(alt.degrees >= 0.0):
            links = steps[int(ti)]
            j = np.flatnonzero(links.sat == k)
            assert j.size == 1
            assert links.elevation_deg[j[0]] == pytest.approx(alt.degrees[ti], abs=one_mdeg)
            assert links.range_km[j[0]] == pytest.approx(dist.km[ti], abs=one_meter_km)
            d_az = (az[ti, k] - sky_az.degrees[ti] + 180.0) % 360.0 - 180.0
            assert abs(d_az) < one_mdeg
            n_visible += 1
    assert n_visible >= 20  # the check saw real passes, not just empty sky
    assert sum(len(links) for links in steps) == n_visible


# The places and times of tests/orbits/test_visible.py (which runs `leonet visible`).
PLACES = [
    ("Kyiv", 50.4501, 30.5234, "2026-05-30T12:00:00Z"),
    ("Kharkiv", 49.9935, 36.2304, "2026-05-30T03:17:45Z"),
    ("Quito", -0.18, -78.47, "2026-05-29T21:00:00Z"),
    ("Tromso", 69.65, 18.96, "2026-05-30T16:42:10Z"),
]


@pytest.fixture(scope="module")
def starlink():
    return constellation_from_source("starlink-tle-2026-05")


@pytest.fixture(scope="module")
def skyfield_starlink(starlink):
    api = pytest.importorskip("skyfield.api")
    ts = api.load.timescale(builtin=True)
    return ts, [api.EarthSatellite(l1, l2, ts=ts) for l1, l2 in starlink.tle_lines]


@pytest.mark.parametrize("name,lat,lon,when", PLACES)
def test_visible_from_equals_skyfield_altaz(name, lat, lon, when, starlink, skyfield_starlink):
    # The whole shipped snapshot (10,395 satellites); boundary +-0.01 deg aside,
    # since leonet's GMST82 frame and Skyfield's IAU 2000A one differ by metres.
    from skyfield.api import wgs84

    ts, sats = skyfield_starlink
    t = ts.from_datetime(parse_utc(when))
    topos = wgs84.latlon(lat, lon)
    alt = np.array([(s - topos).at(t).altaz()[0].degrees for s in sats])
    mask = 25.0
    seen = visible_from(starlink, lat, lon, when, min_elevation_deg=mask)
    mine = set(seen.sat.tolist())
    theirs = set(np.flatnonzero(alt >= mask).tolist())
    boundary = set(np.flatnonzero(np.abs(alt - mask) <= 0.01).tolist())
    assert mine - boundary == theirs - boundary, name
    assert len(theirs) > 5  # a real test: Starlink puts dozens above 25 deg here
    assert np.abs(seen.elevation_deg - alt[seen.sat]).max() < 0.01
    assert (np.diff(seen.elevation_deg) <= 0).all()  # highest first
    assert seen.when_utc == parse_utc(when)


# --------------------------------------------------------------------------
# Cross-checks: brute force, both searches
# --------------------------------------------------------------------------


def test_visible_links_equal_brute_force_except_at_the_boundary(search):
    rng = np.random.default_rng(3)
    rows = [dict(name=f"s{i}", lat_deg=float(a), lon_deg=float(b), min_elevation_deg=float(m))
            for i, (a, b, m) in enumerate(zip(rng.uniform(-60, 60, 200), rng.uniform(-180, 180, 200),
                                              rng.uniform(10, 40, 200)))]
    sites = sites_from_coordinates("terminal", rows)
    r = _shell_positions()
    mask_sat = rng.choice([20.0, 30.0], r.shape[0])
    links = visible_links(SiteGeometry.from_sites(sites), r, np.sin(np.radians(mask_sat)))
    ref, el, _az, rg, need = _dense_reference(sites, r, mask_sat)
    mine = np.zeros_like(ref)
    mine[links.site, links.sat] = True
    boundary = np.abs(el - need) < 1e-9
    assert np.array_equal(mine & ~boundary, ref & ~boundary)
    assert ref.sum() > 50
    assert np.allclose(links.range_km, rg[links.site, links.sat], atol=one_mm_km)
    # Sorted by site, then satellite.
    key = links.site.astype(np.int64) * r.shape[0] + links.sat
    assert np.all(np.diff(key) > 0)


def test_both_searches_give_identical_bits(monkeypatch, real_positions):
    rng = np.random.default_rng(9)
    geo = SiteGeometry.from_lat_lon(rng.uniform(-60, 60, 50), rng.uniform(-180, 180, 50), 20.0)
    cities = SiteGeometry.from_sites(load_hypatia_cities())
    for g, r in ((geo, _shell_positions()), (cities, real_positions[1])):
        monkeypatch.setattr(vis, "_DENSE_PAIRS", 10**12)
        a = visible_links(g, r)
        monkeypatch.setattr(vis, "_DENSE_PAIRS", 0)
        b = visible_links(g, r)
        assert len(a) > 0
        for name in ("site", "sat", "range_km", "sin_elevation"):
            assert np.array_equal(getattr(a, name), getattr(b, name))


def test_look_angles_agree_with_the_dense_reference(real_positions, search):
    # frames.look_angles is the brute-force reference (explicit [T, G, S, 3] differences, einsum).
    cities = load_hypatia_cities()
    geo = SiteGeometry.from_sites(cities)
    steps = _over_time(geo, real_positions)
    ref, el_ref, az_ref, rng_ref, need = _dense_reference(cities, real_positions)
    boundary = np.abs(el_ref - need) < 1e-9
    mine = np.zeros_like(ref)
    for t, links in enumerate(steps):
        mine[t, links.site, links.sat] = True
        el, az, rng = pair_look_angles(geo, links.site, real_positions[t][links.sat])
        assert np.abs(el - el_ref[t, links.site, links.sat]).max() < 1e-9
        assert np.abs(rng - rng_ref[t, links.site, links.sat]).max() < 1e-9
        assert np.abs(((az - az_ref[t, links.site, links.sat] + 180) % 360) - 180).max() < 1e-9
        assert np.abs(links.elevation_deg - el).max() < 1e-6  # arcsin near the zenith: ~1e-7 deg
        assert np.array_equal(links.range_km, rng)  # the same bits as pair_sin_elevation's
        key = links.site.astype(np.int64) * real_positions.shape[1] + links.sat
        assert np.all(np.diff(key) > 0)  # sorted by site, then satellite
    assert np.array_equal(mine & ~boundary, ref & ~boundary)
    assert sum(len(links) for links in steps) > 100


def test_every_visible_pair_is_inside_the_slant_range_bound(real_positions):
    cities = load_hypatia_cities()
    geo = SiteGeometry.from_sites(cities)
    r_sat = np.linalg.norm(real_positions, axis=-1)
    r_site = np.linalg.norm(cities.r_ecef_km, axis=-1)
    bound = max_slant_range_km(r_site.min(), np.nanmax(r_sat), 25.0 - 0.2)
    longest = max(float(links.range_km.max()) for links in _over_time(geo, real_positions))
    assert 0.8 * bound < longest <= bound
    for t in range(real_positions.shape[0]):
        assert search_radius_km(geo, real_positions[t], None) >= bound - 1.0


# --------------------------------------------------------------------------
# Masks, failures, bad inputs
# --------------------------------------------------------------------------


def test_nan_satellites_and_nan_masks_never_visible(search):
    site = SiteGeometry.from_lat_lon([0.0, 0.0], [0.0, 0.0], [25.0, np.nan])
    sat = np.vstack([geodetic_to_ecef(0.0, 0.0, 550.0), [np.nan] * 3])
    links = visible_links(site, sat)
    assert links.site.tolist() == [0] and links.sat.tolist() == [0]


def test_nan_satellites_and_pops_are_never_visible(real_positions, search):
    r = real_positions.copy()
    r[:, ::2] = np.nan  # failed propagations
    cities = SiteGeometry.from_sites(load_hypatia_cities())
    steps = _over_time(cities, r)
    assert all((links.sat % 2 == 1).all() for links in steps) and sum(map(len, steps)) > 0
    assert sum(map(len, _over_time(SiteGeometry.from_sites(load_pops()), real_positions))) == 0  # no radio (NaN mask)


def test_satellite_masks(real_positions, search):
    cities = load_hypatia_cities()
    s = real_positions.shape[1]
    sat_mask = np.where(np.arange(s) % 2 == 0, 40.0, 10.0)
    steps = _over_time(SiteGeometry.from_sites(cities), real_positions, np.sin(np.radians(sat_mask)))
    for links in steps:
        assert (links.elevation_deg >= np.maximum(25.0, sat_mask[links.sat]) - 1e-9).all()
    ref, el, _az, _rng, need = _dense_reference(cities, real_positions, sat_mask)
    boundary = np.abs(el - need) < 1e-9
    mine = np.zeros_like(ref)
    for t, links in enumerate(steps):
        mine[t, links.site, links.sat] = True
    assert np.array_equal(mine & ~boundary, ref & ~boundary) and mine.any()


def test_bad_inputs_teach():
    geo = SiteGeometry.from_sites(_site())
    with pytest.raises(ScenarioError, match=r"float64\[S, 3\].*r_sat_ecef_km\[t\]"):
        visible_links(geo, np.full((1, 5, 3), 7000.0))
    with pytest.raises(ScenarioError, match=r"shape \(5,\)"):
        visible_links(geo, np.full(5, 7000.0))
    with pytest.raises(ScenarioError, match=r"one mask per satellite, float64\[2\]"):
        visible_links(geo, np.full((2, 3), 4500.0), np.sin(np.radians([10.0, 20.0, 30.0])))
    many = SiteGeometry.from_lat_lon(np.linspace(-60, 60, 100), np.zeros(100), 25.0)
    metres = geodetic_to_ecef(np.zeros(2000), np.linspace(-180, 180, 2000), 550.0) * 1000.0
    with pytest.raises(ScenarioError, match="metres"):
        visible_links(many, metres)  # 200,000 pairs: the k-d tree search, which sees the radius
    c = walker_constellation("t", [WalkerShell("t", 550.0, 53.0, 2, 3, phase_factor=1)], EPOCH)
    for lat, lon, kw, match in ((91.0, 30.0, {}, r"lat_deg=91.0 is outside -90..90"),
                                (50.0, float("nan"), {}, r"lon_deg=nan is outside -180..360"),
                                (50.0, 30.0, dict(min_elevation_deg=95.0), r"min_elevation_deg=95.0 is outside"),
                                (50.0, 30.0, dict(altitude_km=550.0), r"altitude_km=550.0 .*give km, not metres")):
        with pytest.raises(ScenarioError, match=match):
            visible_from(c, lat, lon, EPOCH, **kw)
    with pytest.raises(ScenarioError, match="lat_deg='north' is outside"):
        visible_from(c, "north", 30.0, EPOCH)
    with pytest.raises(ScenarioError, match="ISO 8601"):
        visible_from(c, 50.0, 30.0, "yesterday")


def test_empty_inputs(search):
    geo = SiteGeometry.from_sites(_site())
    links = visible_links(geo, np.empty((0, 3)))
    assert len(links) == 0 and links.site.dtype == np.int32 and links.range_km.shape == (0,)
    none = SiteGeometry.from_lat_lon([], [], 25.0)
    assert len(visible_links(none, _shell_positions())) == 0


# --------------------------------------------------------------------------
# Shapes of every public function
# --------------------------------------------------------------------------


def test_shapes_site_geometry_and_pairs():
    lat, lon = np.array([0.0, 10.0, 50.0]), np.array([0.0, 20.0, 30.0])
    geo = SiteGeometry.from_lat_lon(lat, lon, [25.0, np.nan, 10.0], altitude_km=0.1)
    assert len(geo) == 3
    assert geo.r_ecef_km.shape == geo.up.shape == (3, 3) and geo.enu.shape == (3, 3, 3)
    assert geo.min_elevation_deg.shape == geo.sin_mask.shape == (3,) and np.isinf(geo.sin_mask[1])
    assert np.array_equal(geo.up, geo.enu[:, 2, :]) and geo.up.flags["C_CONTIGUOUS"]
    r = _shell_positions()  # [240, 3]
    site = np.array([0, 2, 2, 1])
    rng, sin_el = pair_sin_elevation(geo, site, r[:4])
    assert rng.shape == sin_el.shape == (4,)
    el, az, rng2 = pair_look_angles(geo, site, np.stack([r[:4], r[4:8]]))  # leading time axis
    assert el.shape == az.shape == rng2.shape == (2, 4)
    assert np.array_equal(rng2[0], rng)
    assert np.allclose(np.sin(np.radians(el[0])), sin_el, atol=1e-12)
    g, s = candidate_pairs(geo, r, 3000.0)
    assert g.shape == s.shape and g.dtype == s.dtype == np.int64
    assert isinstance(search_radius_km(geo, r, None), float)
    assert np.shape(max_slant_range_km(np.full(4, 6371.0), 6921.0, [0.0, 10.0, 25.0, 90.0])) == (4,)


def test_shapes_visible_links(search):
    links = visible_links(SiteGeometry.from_lat_lon([50.0, 30.0], [30.0, 10.0], [25.0, 25.0]), _shell_positions())
    k = len(links)
    assert isinstance(links, GroundLinks) and k > 0
    assert links.site.dtype == np.int32 and links.sat.dtype == np.int32
    assert links.site.shape == links.sat.shape == (k,)
    assert links.range_km.shape == links.sin_elevation.shape == links.delay_s.shape == links.elevation_deg.shape == (k,)
    half = links.take(np.arange(k) % 2 == 0)
    assert len(half) == (k + 1) // 2


def test_shapes_visible_from():
    noon = EPOCH
    telesat = constellation_from_source("telesat-1015", noon)
    seen = visible_from(telesat, 50.45, 30.52, noon, min_elevation_deg=10.0, altitude_km=0.2)
    k = len(seen)
    assert isinstance(seen, VisibleSatellites) and k > 0
    assert seen.sat.shape == seen.catalog_numbers.shape == (k,) and seen.sat.dtype == np.int64
    assert seen.elevation_deg.shape == seen.azimuth_deg.shape == seen.range_km.shape == (k,)
    assert len(seen.names) == k and seen.names[0] == telesat.names[seen.sat[0]]
    assert (seen.catalog_numbers == telesat.catalog_numbers[seen.sat]).all()
    assert seen.when_utc == noon and (seen.lat_deg, seen.lon_deg, seen.altitude_km, seen.min_elevation_deg) == (
        50.45, 30.52, 0.2, 10.0)
    table = seen.to_table()
    assert table.num_rows == k and table.column_names == [
        "sat", "name", "catalog_number", "elevation_deg", "azimuth_deg", "range_km"]
    # The same satellites as the brute-force reference from the same positions.
    positions = positions_at(telesat, noon)
    place = sites_from_coordinates("terminal", [dict(name="x", lat_deg=50.45, lon_deg=30.52, altitude_km=0.2,
                                                     min_elevation_deg=10.0)])
    ref, el, *_ = _dense_reference(place, positions.r_ecef_km)
    assert set(seen.sat.tolist()) == set(np.flatnonzero(ref[0]).tolist())
    assert np.abs(seen.elevation_deg - el[0, seen.sat]).max() < 1e-9


def test_visible_from_default_time_is_the_median_element_epoch(starlink):
    seen = visible_from(starlink, 50.45, 30.52, None)
    median_jd = float(np.median(starlink.epoch_jd))
    jd = 2440587.5 + seen.when_utc.timestamp() / 86400.0  # the Unix epoch's Julian date
    assert seen.when_utc.microsecond == 0 and 0.0 <= (median_jd - jd) * 86400.0 < 1.0
    assert len(seen) > 5


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
    lo = _over_time(SiteGeometry.from_sites(cities, masks_low), real_positions)
    hi_sites = cities.with_min_elevation(masks_high)
    hi = _over_time(SiteGeometry.from_sites(hi_sites), real_positions)
    assert _keys(hi) <= _keys(lo)
    ref, el, _az, _rng, need = _dense_reference(hi_sites, real_positions)
    boundary = np.abs(el - need) < 1e-9
    mine = np.zeros_like(ref)
    for t, links in enumerate(hi):
        mine[t, links.site, links.sat] = True
    assert np.array_equal(mine & ~boundary, ref & ~boundary)


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
