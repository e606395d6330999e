"""First-level units world-wide: Natural Earth 10m admin-1 by ISO 3166-2 code or name (issue 11).

References: official areas (IBGE, US Census Bureau, Bayerisches Landesamt fuer
Statistik, Census of India, Geoscience Australia); GeoNames' own admin-1 codes
of the shipped city list, an assignment independent of Natural Earth's borders.
"""

from __future__ import annotations

import collections
import math

import numpy as np
import pytest
import shapely
from shapely.geometry import box

from leonet.errors import ScenarioError
from leonet.ground.regions import (
    _WORLD_ADM1,
    _shipped,
    admin1_codes_of,
    admin1_of,
    admin1_regions,
    load_region,
    points_in_region,
)
from leonet.ground.sampling import sample_points, sample_terminals
from leonet.ground.sites import load_cities

#: WGS84 authalic radius, km: the sphere of the ellipsoid's surface area (Snyder 1987,
#: "Map Projections -- A Working Manual", eq. 3-13).  Areas on it differ from the
#: ellipsoid's by < 0.5 % over a region, well inside the tolerances below.
R_AUTHALIC_KM = 6371.0072

RIO = (-22.9064, -43.1822)  # Rio de Janeiro city (GeoNames 3451190)
SAO_PAULO = (-23.5475, -46.6361)  # Sao Paulo city (GeoNames 3448439)
WARSAW = (52.22977, 21.01178)
KYIV = (50.45466, 30.5238)


def _ring_area_km2(xy: np.ndarray) -> float:
    """Area on the sphere enclosed by a ring whose edges are straight in lon/lat.

    Green's theorem on the sphere: A = R^2 |closed integral of sin(lat) d lon|.
    Along an edge straight in (lon, lat) the integral is exact in closed form:
    d lon / d lat * (cos lat_a - cos lat_b), or d lon * sin(lat) on a parallel.
    Regions are drawn with such edges (see leonet.ground.regions), so this is
    their exact area on the sphere.
    """
    lon, lat = np.radians(xy[:, 0]), np.radians(xy[:, 1])
    dlon, lat_a, lat_b = np.diff(lon), lat[:-1], lat[1:]
    dlat = lat_b - lat_a
    flat = np.abs(dlat) < 1e-12
    safe = np.where(flat, 1.0, dlat)
    term = np.where(flat, dlon * np.sin(lat_a), dlon / safe * (np.cos(lat_a) - np.cos(lat_b)))
    return abs(float(term.sum())) * R_AUTHALIC_KM**2


def area_km2(geometry) -> float:
    total = 0.0
    for poly in shapely.get_parts(geometry):
        total += _ring_area_km2(np.asarray(poly.exterior.coords))
        total -= sum(_ring_area_km2(np.asarray(r.coords)) for r in poly.interiors)
    return total


def test_area_helper_is_exact_for_a_lat_lon_box():
    # A box 10..12 E, 40..43 N: R^2 * d lon * (sin 43 - sin 40), the zone formula.
    want = R_AUTHALIC_KM**2 * math.radians(2.0) * (math.sin(math.radians(43.0)) - math.sin(math.radians(40.0)))
    assert area_km2(box(10.0, 40.0, 12.0, 43.0)) == pytest.approx(want, rel=1e-12)
    # A triangle with a sloping edge: split it into thin strips and integrate numerically.
    tri = shapely.Polygon([(0, 0), (4, 0), (0, 3)])
    lats = np.linspace(0.0, 3.0, 200_001)
    widths = 4.0 * (1.0 - lats / 3.0)  # lon width at each latitude, degrees
    mid = 0.5 * (lats[1:] + lats[:-1])
    w_mid = 0.5 * (widths[1:] + widths[:-1])
    strips = R_AUTHALIC_KM**2 * np.radians(w_mid) * np.cos(np.radians(mid)) * np.radians(np.diff(lats))
    assert area_km2(tri) == pytest.approx(strips.sum(), rel=1e-8)


def test_rio_de_janeiro_state():
    rj = load_region("admin1:BR-RJ")
    assert (rj.name, rj.code) == ("Rio de Janeiro", "BR-RJ")
    assert "Natural Earth 10m admin-1" in rj.source and "Brazil" in rj.source
    assert rj.geometry.is_valid
    assert points_in_region(rj, *RIO)
    assert not points_in_region(rj, *SAO_PAULO)
    assert points_in_region(load_region("admin1:BR-SP"), *SAO_PAULO)
    # IBGE (2022): 43,750.425 km^2.  The 0.01-degree simplification moves a coast by < ~1 km.
    assert area_km2(rj.geometry) == pytest.approx(43_750.4, rel=0.03)


def test_minas_gerais_is_split_from_mato_grosso_do_sul():
    # The source copy merged them under BR-MS (SOURCES.md section 5, correction); IBGE (2022) areas.
    mg, ms = load_region("admin1:BR-MG"), load_region("admin1:BR/Mato Grosso do Sul")
    assert (mg.name, ms.code) == ("Minas Gerais", "BR-MS")
    assert area_km2(mg.geometry) == pytest.approx(586_514.0, rel=0.03)
    assert area_km2(ms.geometry) == pytest.approx(357_142.1, rel=0.03)
    assert mg.geometry.intersection(ms.geometry).area < 1e-6  # they only share a border
    # Belo Horizonte (GeoNames 3470127) and Campo Grande (GeoNames 3467747).
    assert admin1_codes_of([-19.9208, -20.4428], [-43.9378, -54.6464]) == ["BR-MG", "BR-MS"]


@pytest.mark.parametrize(
    "code, by_name, name, area_ref_km2",
    [
        # IBGE (2022 territorial areas)
        ("BR-SP", "admin1:Brazil/sao paulo", "São Paulo", 248_219.5),
        # US Census Bureau (2010): land 155,779 sq mi; NE's polygon also holds the inland lakes
        ("US-CA", "admin1:US/California", "California", 403_466.0),
        # Bayerisches Landesamt fuer Statistik: 70,541.6 km^2
        ("DE-BY", "admin1:DEU/Bayern", "Bayern", 70_541.6),
        # Census of India: 307,713 km^2
        ("IN-MH", "admin1:India/MAHARASHTRA", "Maharashtra", 307_713.0),
        # Geoscience Australia, "Area of Australia - States and Territories": 800,642 km^2
        ("AU-NSW", "admin1:AU/New South Wales", "New South Wales", 800_642.0),
    ],
)
def test_units_by_code_and_by_name(code, by_name, name, area_ref_km2):
    by_code = load_region(f"admin1:{code.lower()}")  # codes are case-insensitive
    named = load_region(by_name)
    assert (by_code.code, by_code.name) == (named.code, named.name) == (code, name)
    assert by_code.geometry.equals(named.geometry)
    assert area_km2(by_code.geometry) == pytest.approx(area_ref_km2, rel=0.03)


def test_bare_names_and_ukraine_keep_their_meaning():
    assert load_region("admin1:California").code == "US-CA"  # one unit of that name world-wide
    # Ukraine is never read from the world file: geoBoundaries, as before issue 11.
    for spec in ("admin1:UA-63", "admin1:UA/Kharkiv", "admin1:Ukraine/kharkiv oblast", "admin1:Kharkiv", "oblast:Kharkiv"):
        r = load_region(spec)
        assert (r.code, r.name) == ("UA-63", "Kharkiv Oblast") and "geoBoundaries" in r.source, spec
    assert load_region("admin1:Kyiv").code == "UA-30"  # the city, as `oblast:Kyiv`
    props, _, _ = _shipped(_WORLD_ADM1)
    assert not [p for p in props if p["iso_a2"] == "UA" or p["iso_3166_2"].startswith("UA-")]


@pytest.mark.parametrize(
    "spec, pattern",
    [
        ("admin1:BR-RX", r"no first-level unit with ISO 3166-2 code 'BR-RX'; close matches: .*BR-RJ \(Rio de Janeiro, Brazil\)"),
        ("admin1:BR/Rio de Janero", r"no first-level unit 'Rio de Janero' in Brazil .*close matches: Rio de Janeiro"),
        ("admin1:Punjab", r"2 first-level units are named 'Punjab': IN-PB \(Punjab, India\), PK-PB \(Punjab, Pakistan\)"),
        ("admin1:Brazl/Bahia", r"no country 'Brazl' .*close matches: Brazil"),
        ("admin1:BR", r"names a country, not a first-level unit; for the whole country write 'country:BR'"),
        ("admin1:QQ-1", r"no country 'QQ' has admin-1 units"),
        ("admin1:", r"names no first-level unit"),
        ("admin1:UA-99", r"geoBoundaries UA ADM1"),
        ("admin1:Atlantis", r"no first-level unit named 'Atlantis'"),
    ],
)
def test_unknown_units_are_refused_with_close_matches(spec, pattern):
    with pytest.raises(ScenarioError, match=pattern) as err:
        load_region(spec)
    assert "admin1:" in str(err.value)  # every message shows a form that works


def test_the_shipped_world_file():
    props, geoms, _ = _shipped(_WORLD_ADM1)
    codes = [p["iso_3166_2"] for p in props]
    assert len(props) == 4_827 and len(set(codes)) == len(codes)  # SOURCES.md section 5
    assert all(shapely.is_valid(geoms)) and {g.geom_type for g in geoms} <= {"Polygon", "MultiPolygon"}
    assert all(p["admin"] and p["iso_a2"] for p in props)
    # NE left 6 placeholder units unnamed (islands of AI, AQ, CO, MX, RU, VE): they are labelled by code.
    unnamed = [p["iso_3166_2"] for p in props if not p["name"]]
    assert len(unnamed) == 6 and load_region(f"admin1:{unnamed[0]}").name == unnamed[0]
    # Shared borders were simplified once for both sides: Brazil's 27 units tile it with
    # neither gaps nor overlaps of more than rounding (the sum of areas = the area of the union).
    br = [g for g, p in zip(geoms, props) if p["iso_a2"] == "BR"]
    assert len(br) == 27
    union = shapely.union_all(br)
    assert sum(g.area for g in br) == pytest.approx(union.area, rel=1e-4)


def test_places_agree_with_geonames_admin1_codes():
    """GeoNames gives each place its admin-1 code independently of Natural Earth's borders.

    For the US GeoNames uses the USPS state code, so the ISO code is known: US-<code>.
    Elsewhere the codes are GeoNames' own (BR "21" = Rio de Janeiro): each should map
    to one NE unit.  Places within ~1 km of a border or coast may fall on the wrong side
    of the 0.01-degree simplified borders, so a few % may disagree.
    """
    cities = load_cities(country_iso2=["US", "BR", "IN", "DE"])
    codes = np.array(admin1_codes_of(cities.lat_deg, cities.lon_deg))
    gn = cities.extra["admin1_code"]
    country = np.array(cities.country_iso2)
    us = np.flatnonzero(country == "US")
    agree = np.mean([codes[i] == f"US-{gn[i]}" for i in us])
    assert us.size > 3000 and agree > 0.98
    for iso in ("BR", "IN", "DE"):
        idx = np.flatnonzero(country == iso)
        table: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        for i in idx:
            table[gn[i]][codes[i]] += 1
        majority = sum(c.most_common(1)[0][1] for c in table.values()) / idx.size
        assert majority > 0.95, iso
    assert dict(zip(gn[country == "BR"], codes[country == "BR"]))["21"] == "BR-RJ"


def test_point_lookups_world_wide():
    lat = [KYIV[0], RIO[0], SAO_PAULO[0], WARSAW[0], 0.0]
    lon = [KYIV[1], RIO[1], SAO_PAULO[1], WARSAW[1], -30.0]  # the last one in the Atlantic
    assert admin1_of(lat, lon) == ["Kyiv", "", "", "", ""]  # default: Ukraine only, as before
    assert admin1_of(lat, lon, world=True) == ["Kyiv", "Rio de Janeiro", "São Paulo", "Masovian", ""]
    # NE's codes date from 2018: Poland's voivodeships still carry the numeric codes ISO replaced
    # by letters in 2018 (PL-14, now PL-MZ).  See SOURCES.md section 5.
    assert admin1_codes_of(lat, lon) == ["UA-30", "BR-RJ", "BR-SP", "PL-14", ""]
    # admin1_regions: a site of a known country gets only its own country's unit.
    got = admin1_regions(np.array(lat), np.array(lon), ["UA", "BR", "AR", "PL", ""], None, world=True)
    assert got == ["Kyiv", "Rio de Janeiro", "", "Masovian", ""]
    assert admin1_regions(np.array(lat), np.array(lon), ["UA", "BR", "BR", "PL", ""], None) == ["Kyiv", "", "", "", ""]


def test_coastal_site_lost_to_simplification_snaps_to_its_country():
    rj = load_region("admin1:BR-RJ")
    # A point 2 km off Rio's coast (Copacabana beach, 22.97 S 43.18 W, moved south): no unit holds it.
    lat, lon = -22.99, -43.18
    assert admin1_codes_of([lat], [lon]) == [""]
    assert admin1_regions(np.array([lat]), np.array([lon]), ["BR"], None, world=True) == ["Rio de Janeiro"]
    assert admin1_regions(np.array([lat]), np.array([lon]), [""], None, world=True) == [""]  # country unknown: at sea
    assert not points_in_region(rj, lat, lon)


@pytest.mark.parametrize("weighted", [True, False])
def test_samples_in_an_admin1_unit_stay_inside(weighted):
    rj = load_region("admin1:BR-RJ")
    lat, lon = sample_points(rj, 500, seed=3, weight_by_population=weighted)
    assert points_in_region(rj, lat, lon).all()
    assert set(admin1_codes_of(lat, lon)) == {"BR-RJ"}
    same = sample_points("admin1:Brazil/Rio de Janeiro", 500, seed=3, weight_by_population=weighted)
    assert np.array_equal(same[0], lat) and np.array_equal(same[1], lon)


def test_sampled_terminals_outside_ukraine_carry_their_unit():
    ts = sample_terminals("admin1:BR-RJ", 50, seed=1)
    assert set(ts.region) == {"Rio de Janeiro"} and set(ts.country_iso2) == {"BR"}
    ua = sample_terminals("oblast:Kharkiv", 20, seed=1)  # Ukraine: unchanged
    assert set(ua.region) == {"Kharkiv Oblast"}


def test_brazil_scenario_with_an_admin1_geofence(tmp_path):
    """Issue 11's acceptance: Kuiper over Brazil, terminals across the country, service denied in
    Rio de Janeiro state by a named admin-1 geofence -- no hand-made GeoJSON."""
    import leonet
    from leonet.results.query import query

    scenario = {
        "scenario": {"name": "kuiper-brazil", "seed": 11},
        "time": {"start_utc": "2026-05-30T12:00:00Z", "duration_s": 30, "step_s": 15},
        "constellations": [{"kind": "builtin", "builtin": "kuiper"}],
        "network": {"isl": "none"},
        "ground": {
            "terminals": {"sources": [
                {"kind": "sample", "region": "country:BR", "count": 40},
                {"kind": "sample", "region": "admin1:BR-RJ", "count": 10},
            ]},
            # ASSUMED gateway and PoP sites (illustrative; no public Kuiper gateway list).
            "gateways": {"extra": [
                {"name": "Brasilia (assumed)", "lat_deg": -15.79, "lon_deg": -47.88, "antenna_count": 8},
                {"name": "Sao Paulo (assumed)", "lat_deg": -23.55, "lon_deg": -46.63, "antenna_count": 8},
                {"name": "Manaus (assumed)", "lat_deg": -3.12, "lon_deg": -60.02, "antenna_count": 8},
                {"name": "Recife (assumed)", "lat_deg": -8.05, "lon_deg": -34.90, "antenna_count": 8},
                {"name": "Porto Alegre (assumed)", "lat_deg": -30.03, "lon_deg": -51.23, "antenna_count": 8},
            ]},
            "pops": {"extra": [{"name": "Sao Paulo PoP (assumed)", "lat_deg": -23.55, "lon_deg": -46.63}]},
        },
        "policies": [{"name": "Rio de Janeiro geofence", "action": "deny", "region": "admin1:BR-RJ"}],
    }
    out = tmp_path / "run"
    leonet.run(scenario, out)
    terminals = query(out, "SELECT index, lat_deg, lon_deg, country_iso2, region FROM terminals ORDER BY index").to_pydict()
    lat, lon = np.array(terminals["lat_deg"]), np.array(terminals["lon_deg"])
    inside = points_in_region(load_region("admin1:BR-RJ"), lat, lon)
    assert inside.sum() >= 10  # the 10 sampled in the state, and any of the 40 that fell there
    assert set(terminals["country_iso2"]) == {"BR"}
    # Every terminal is labelled with its state (the tables' "by region" summaries use this).
    assert all(terminals["region"])
    assert [r == "Rio de Janeiro" for r in terminals["region"]] == inside.tolist()
    steps = query(out, "SELECT terminal, CAST(reason AS VARCHAR) AS reason FROM terminal_steps").to_pydict()
    denied = {t for t, r in zip(steps["terminal"], steps["reason"]) if r == "policy"}
    always = {t for t in terminals["index"] if all(r == "policy" for tt, r in zip(steps["terminal"], steps["reason"]) if tt == t)}
    assert denied == always == {t for t, k in zip(terminals["index"], inside) if k}
    assert len(steps["terminal"]) == 2 * len(lat)  # 2 steps (0 s, 15 s) per terminal


def test_policy_with_a_country_slash_name_region(tmp_path):
    """The ``<country>/<name>`` form is a built-in spec, not a path (it has a colon), in a policy too."""
    import datetime as dt

    from leonet.ground.sites import sites_from_coordinates
    from leonet.scenario.service import PolicySpec
    from leonet.service.policy import PolicyEngine

    sites = sites_from_coordinates(
        "terminal",
        [
            {"id": "rio", "name": "Rio", "lat_deg": RIO[0], "lon_deg": RIO[1]},
            {"id": "sp", "name": "Sao Paulo", "lat_deg": SAO_PAULO[0], "lon_deg": SAO_PAULO[1]},
        ],
    )
    rule = PolicySpec.model_validate({"action": "deny", "region": "admin1:Brazil/Rio de Janeiro"})
    engine = PolicyEngine([rule], sites, resolve=lambda p: tmp_path / p)
    when = dt.datetime(2026, 5, 30, tzinfo=dt.timezone.utc)
    assert engine.denied(np.array([0], dtype=np.int64), when).tolist() == [[True, False]]
    with pytest.raises(ScenarioError, match=r"policies\[0\]\.region: .*close matches: Rio de Janeiro"):
        PolicyEngine([PolicySpec.model_validate({"action": "deny", "region": "admin1:BR/Rio de Janero"})], sites)
