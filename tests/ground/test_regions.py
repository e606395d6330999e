"""Regions: shipped borders, GeoJSON at the edge, point in polygon, sampling."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon, shape
from shapely.geometry.polygon import orient

from leonet.errors import InputFileError, ScenarioError
from leonet.ground.regions import (
    _WORLD,
    Region,
    _shipped,
    admin1_of,
    country_of,
    load_region,
    points_in_region,
)
from leonet.ground.sampling import sample_points, sample_terminals
from leonet.ground.sites import MEAN_EARTH_RADIUS_KM, data_path, great_circle_km, load_cities, load_gateways

# GeoNames coordinates (shipped cities file).
KYIV = (50.45466, 30.5238)
KHARKIV = (49.98177, 36.25475)
SIMFEROPOL = (44.95719, 34.11079)
WARSAW = (52.22977, 21.01178)


# --------------------------------------------------------------------------
# Shipped borders
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec, name, code",
    [
        ("country:UA", "Ukraine", "UA"),
        ("country:UKR", "Ukraine", "UA"),
        ("country:ukraine", "Ukraine", "UA"),
        ("country:FR", "France", "FR"),  # ISO_A2 is "-99" in Natural Earth; ISO_A2_EH is "FR"
        ("country:NO", "Norway", "NO"),  # same
        ("country:SG", "Singapore", "SG"),  # only in the world file
        ("oblast:Kharkiv", "Kharkiv Oblast", "UA-63"),
        ("admin1:UA-63", "Kharkiv Oblast", "UA-63"),
        ("oblast:Kyiv", "Kyiv", "UA-30"),  # exact name: the city
        ("oblast:kyiv oblast", "Kyiv Oblast", "UA-32"),
        ("oblast:Odessa", "Odessa Oblast", "UA-51"),
        ("crimea", "Crimea", "UA-43+UA-40"),
    ],
)
def test_region_specs(spec, name, code):
    region = load_region(spec)
    assert (region.name, region.code) == (name, code)
    assert region.geometry.is_valid and region.geometry.geom_type in ("Polygon", "MultiPolygon")
    assert spec.split(":")[-1] in region.source or spec in region.source


def test_known_points_fall_in_their_regions():
    ua, crimea, pl = load_region("country:UA"), load_region("crimea"), load_region("country:PL")
    assert points_in_region(ua, [KYIV[0], KHARKIV[0], SIMFEROPOL[0]], [KYIV[1], KHARKIV[1], SIMFEROPOL[1]]).all()
    assert points_in_region(crimea, *SIMFEROPOL)
    assert not points_in_region(crimea, *KYIV)
    assert points_in_region(load_region("oblast:Kyiv"), *KYIV)  # Kyiv city, UA-30
    assert not points_in_region(load_region("oblast:Kyiv Oblast"), *KYIV)  # the city is a hole in the oblast
    assert points_in_region(load_region("oblast:Kharkiv"), *KHARKIV)
    wola = load_gateways(ids=["GS220"])
    assert points_in_region(pl, wola.lat_deg, wola.lon_deg).all()
    assert points_in_region(pl, *WARSAW) and not points_in_region(ua, *WARSAW)


def test_admin1_of_and_country_of():
    assert admin1_of([KYIV[0], KHARKIV[0], SIMFEROPOL[0], WARSAW[0]], [KYIV[1], KHARKIV[1], SIMFEROPOL[1], WARSAW[1]]) == [
        "Kyiv",
        "Kharkiv Oblast",
        "Autonomous Republic of Crimea",
        "",
    ]
    assert country_of([KYIV[0], WARSAW[0], 50.118, 1.33479, 0.0], [KYIV[1], WARSAW[1], 8.683, 103.9577, -30.0]) == [
        "UA",
        "PL",
        "DE",
        "SG",  # Singapore PoP: coastal, snapped to the coarse world polygon
        "",  # mid-Atlantic
    ]


def test_point_one_metre_outside_an_edge_is_outside():
    region = load_region("oblast:Kharkiv")
    ring = orient(region.geometry, sign=1.0).exterior  # counter-clockwise: the outside is to the right
    xy = np.asarray(ring.coords)
    lengths = great_circle_km(xy[:-1, 1], xy[:-1, 0], xy[1:, 1], xy[1:, 0])
    k = int(np.argmax(lengths))  # the longest edge, so no other edge is within a metre
    (x0, y0), (x1, y1) = xy[k], xy[k + 1]
    lat_mid, lon_mid = (y0 + y1) / 2, (x0 + x1) / 2
    km_per_deg_lat = math.pi / 180 * MEAN_EARTH_RADIUS_KM
    km_per_deg_lon = km_per_deg_lat * math.cos(math.radians(lat_mid))
    east, north = (x1 - x0) * km_per_deg_lon, (y1 - y0) * km_per_deg_lat
    norm = math.hypot(east, north)
    out_e, out_n = north / norm, -east / norm  # right-hand normal, unit, km
    one_m = 1e-3
    outside = (lat_mid + out_n * one_m / km_per_deg_lat, lon_mid + out_e * one_m / km_per_deg_lon)
    inside = (lat_mid - out_n * one_m / km_per_deg_lat, lon_mid - out_e * one_m / km_per_deg_lon)
    assert not points_in_region(region, *outside)
    assert points_in_region(region, *inside)


def test_points_in_region_is_vectorised_and_nan_is_outside():
    ua = load_region("country:UA")
    lat = np.array([[KYIV[0], np.nan], [WARSAW[0], KHARKIV[0]]])
    lon = np.array([[KYIV[1], 30.0], [WARSAW[1], KHARKIV[1]]])
    assert points_in_region(ua, lat, lon).tolist() == [[True, False], [False, True]]
    assert ua.contains(KYIV[0], KYIV[1])


def test_shipped_world_file_repairs_are_exactly_the_known_nine():
    # SOURCES.md: the world file was simplified without topology preservation.
    raw = json.loads(data_path(*_WORLD).read_text(encoding="utf-8"))["features"]
    invalid = sorted(f["properties"]["NAME"] for f in raw if not shape(f["geometry"]).is_valid)
    assert invalid == sorted(["Chile", "China", "Russia", "Norway", "Kuwait", "Canada", "Japan", "Fr. Polynesia", "Maldives"])
    props, geoms, _ = _shipped(_WORLD)
    assert all(g.is_valid for g in geoms)
    for f, g in zip(raw, geoms):
        assert g.area == pytest.approx(shape(f["geometry"]).area, rel=1e-6)


def test_unknown_names_list_close_matches():
    with pytest.raises(ScenarioError, match="close matches: Kharkiv Oblast"):
        load_region("oblast:Kharkov")
    with pytest.raises(ScenarioError, match="close matches: .*Ukraine"):
        load_region("country:Ukrain")
    with pytest.raises(ScenarioError, match="'country:UA'.*'crimea'"):
        load_region("ukraine")


# --------------------------------------------------------------------------
# GeoJSON files at the edge
# --------------------------------------------------------------------------


def _write(path, obj):
    path.write_text(json.dumps(obj))
    return path


def test_user_geojson_polygon(tmp_path):
    square = {"type": "Polygon", "coordinates": [[[30, 50], [31, 50], [31, 51], [30, 51], [30, 50]]]}
    fc = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "box"}, "geometry": square}]}
    region = load_region(str(_write(tmp_path / "box.geojson", fc)))
    assert region.name == "box" and region.source.endswith("box.geojson")
    assert points_in_region(region, [50.5, 52.0], [30.5, 30.5]).tolist() == [True, False]
    bare = load_region(_write(tmp_path / "bare.json", square))  # a pathlib.Path works too
    assert bare.name == "bare"


def test_geojson_linestring_is_refused(tmp_path):
    line = {"type": "Feature", "properties": {"name": "front line"}, "geometry": {"type": "LineString", "coordinates": [[36, 50], [38, 48]]}}
    p = _write(tmp_path / "line.geojson", {"type": "FeatureCollection", "features": [line]})
    with pytest.raises(InputFileError) as info:
        load_region(str(p))
    msg = str(info.value)
    assert str(p) in msg and "features[0] (front line) is a LineString" in msg and "Polygon or MultiPolygon" in msg


def test_non_json_file_is_refused_with_its_line(tmp_path):
    p = tmp_path / "region.geojson"
    p.write_text('{"type": "Polygon",\n "coordinates": [[[30, 50], [31, 50]],\n oops]}\n')
    with pytest.raises(InputFileError) as info:
        load_region(str(p))
    assert info.value.line == 3 and "is not JSON" in str(info.value) and f"{p}, line 3" in str(info.value)
    shp = tmp_path / "region.shp"
    shp.write_bytes(b"\x00\x00\x27\x0a\xff\xfe")
    with pytest.raises(InputFileError, match="not UTF-8.*ogr2ogr"):
        load_region(str(shp))


def test_invalid_projected_empty_and_missing_geojson(tmp_path):
    bowtie = {"type": "Polygon", "coordinates": [[[30, 50], [31, 51], [31, 50], [30, 51], [30, 50]]]}
    with pytest.raises(InputFileError, match="invalid Polygon: Self-intersection.*does not repair geometry silently"):
        load_region(str(_write(tmp_path / "bowtie.geojson", bowtie)))
    metres = {"type": "Polygon", "coordinates": [[[3.4e6, 6.5e6], [3.5e6, 6.5e6], [3.5e6, 6.6e6], [3.4e6, 6.5e6]]]}
    with pytest.raises(InputFileError, match="EPSG:4326"):
        load_region(str(_write(tmp_path / "utm.geojson", metres)))
    with pytest.raises(InputFileError, match="no features"):
        load_region(str(_write(tmp_path / "empty.geojson", {"type": "FeatureCollection", "features": []})))
    with pytest.raises(InputFileError, match="file not found"):
        load_region(str(tmp_path / "missing.geojson"))
    with pytest.raises(InputFileError, match="not a GeoJSON object"):
        load_region(str(_write(tmp_path / "list.json", [1, 2])))


# --------------------------------------------------------------------------
# Sampling
# --------------------------------------------------------------------------


def test_population_weighted_samples_follow_the_cities():
    ua = load_region("country:UA")
    lat, lon = sample_points(ua, 20_000, seed=7)
    assert points_in_region(ua, lat, lon).all()
    cities = load_cities(country_iso2="UA")
    inside_kyiv = points_in_region(load_region("oblast:Kyiv"), cities.lat_deg, cities.lon_deg)
    share = cities.population[inside_kyiv].sum() / cities.population[points_in_region(ua, cities.lat_deg, cities.lon_deg)].sum()
    # A sample drawn from a Kyiv-city place stays within 10 km of that place.
    kyiv_places = cities.subset(inside_kyiv)
    d = great_circle_km(lat[:, None], lon[:, None], kyiv_places.lat_deg[None, :], kyiv_places.lon_deg[None, :]).min(axis=1)
    near = float(np.mean(d <= 10.0 + 1e-6))
    sigma = math.sqrt(share * (1 - share) / lat.size)
    assert near >= share - 4 * sigma  # places near Kyiv but outside the city add to `near`, never subtract
    # Every sample is within the jitter radius of some Ukrainian place.
    d_any = great_circle_km(lat[:500, None], lon[:500, None], cities.lat_deg[None, :], cities.lon_deg[None, :]).min(axis=1)
    assert d_any.max() <= 10.0 + 1e-3


def test_uniform_samples_are_uniform_by_area_on_the_sphere():
    band = Region("band", Polygon([(0, 0), (10, 0), (10, 60), (0, 60)]), "test")
    lat, _ = sample_points(band, 40_000, seed=3, weight_by_population=False)
    expected = math.sin(math.radians(30)) / math.sin(math.radians(60))  # P(lat < 30) = 0.577, not 0.5
    sigma = math.sqrt(expected * (1 - expected) / lat.size)
    assert abs(np.mean(lat < 30.0) - expected) < 4 * sigma


def test_regions_without_cities_fall_back_to_uniform():
    sea = Region("sea", Polygon([(-31, -1), (-29, -1), (-29, 1), (-31, 1)]), "test")
    a = sample_points(sea, 50, seed=1)
    b = sample_points(sea, 50, seed=1, weight_by_population=False)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_sample_terminals():
    ts = sample_terminals("oblast:Kharkiv", 25, seed=11)
    assert len(ts) == 25 and ts.role == "terminal"
    assert set(ts.region) == {"Kharkiv Oblast"} and set(ts.country_iso2) == {"UA"}
    assert ts.ids[0] == "ut:Kharkiv Oblast:0"
    assert (ts.min_elevation_deg == 25.0).all() and (ts.antenna_count == 1).all()
    with pytest.raises(ScenarioError, match="n=-1"):
        sample_points("crimea", -1, seed=0)


REGIONS = ["crimea", "oblast:Kharkiv", "oblast:Kyiv", "country:LT", "oblast:Zakarpattia"]


@settings(max_examples=30, deadline=None)
@given(spec=st.sampled_from(REGIONS), n=st.integers(1, 60), seed=st.integers(0, 2**63 - 1), weighted=st.booleans())
def test_samples_are_inside_and_deterministic(spec, n, seed, weighted):
    region = load_region(spec)
    lat, lon = sample_points(region, n, seed=seed, weight_by_population=weighted)
    assert lat.shape == lon.shape == (n,)
    assert points_in_region(region, lat, lon).all()
    lat2, lon2 = sample_points(region, n, seed=seed, weight_by_population=weighted)
    assert np.array_equal(lat, lat2) and np.array_equal(lon, lon2)


def test_different_seeds_give_different_points():
    a, _ = sample_points("crimea", 10, seed=1)
    b, _ = sample_points("crimea", 10, seed=2)
    assert not np.array_equal(a, b)
    assert shapely.contains_xy(load_region("crimea").geometry, *sample_points("crimea", 5, seed=1)[::-1]).all()
