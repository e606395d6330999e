"""Ground sites: shipped data, loaders, validation at the edge, distances."""

from __future__ import annotations

import hashlib
import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leonet.errors import InputFileError, ScenarioError
from leonet.ground.sites import (
    MEAN_EARTH_RADIUS_KM,
    GroundSites,
    data_path,
    fold_name,
    great_circle_km,
    load_cities,
    load_gateways,
    load_hypatia_cities,
    load_pops,
    nearest,
    read_sites_csv,
    sites_from_coordinates,
)

one_meter_km = 1e-3
one_mm_km = 1e-6

GATEWAY_HEADER = "id,name,country_iso2,lat,lon,band,antenna_count,uplink_ghz,downlink_ghz,note,description_raw\n"


# --------------------------------------------------------------------------
# Shipped data
# --------------------------------------------------------------------------


#: The StarPerf 2024-01 lists (the counts of SOURCES.md); the defaults are newer.
OLD = "starperf-2024-01"

def test_shipped_files_match_the_sha256_in_sources_md():
    sources = data_path("SOURCES.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([^`]+)` \| [\d,]+ \| ([0-9a-f]{64}) \|", sources, flags=re.M)
    assert len(rows) == 15  # 2 TLE + 2 gateway + 3 city + 5 boundary + 3 population files
    for rel, sha in rows:
        digest = hashlib.sha256(data_path(*rel.split("/")).read_bytes()).hexdigest()
        assert digest == sha, rel


def test_shipped_counts():
    # Counts from leonet/data/SOURCES.md (collection-time checks).
    assert len(load_gateways(catalog=OLD)) == 261
    assert len(load_pops(catalog=OLD)) == 23
    assert len(load_cities()) == 34_006
    assert len(load_cities(country_iso2="UA")) == 387
    assert len(load_hypatia_cities()) == 100
    assert len(load_hypatia_cities(data_path("cities", "hypatia_cities_top_1000_by_est_2025_pop.basic.txt"))) == 1000


def test_gateway_bands_and_colocated_mega_sites():
    assert len(load_gateways(catalog=OLD, band="Ka")) == 218
    assert len(load_gateways(catalog=OLD, band=["e"])) == 43
    merged = load_gateways(catalog=OLD, dedupe_colocated=True)
    assert len(merged) == 222  # distinct coordinates (SOURCES.md)
    full = load_gateways(catalog=OLD)
    assert merged.antenna_count.sum() == full.antenna_count.sum()
    k = merged.ids.index("GS29+GS30")  # Savanna, OK: Ka 40 + E 32 antennas
    assert merged.band[k] == "Ka+E"
    assert merged.antenna_count[k] == 72
    assert merged.extra["uplink_ghz"][k] == pytest.approx(2.1 + 5.0)


def test_gateway_selection_by_id_keeps_order_and_suggests():
    gw = load_gateways(ids=["GS221", "GS220"])
    assert gw.ids == ["GS221", "GS220"]
    assert gw.names == ["Kaunas, LT", "Wola Krobowska, PL"]
    assert gw.antenna_count.tolist() == [8, 8]
    assert gw.min_elevation_deg.tolist() == [25.0, 25.0]
    with pytest.raises(ScenarioError, match="GS220"):
        load_gateways(ids=["GS2200"])
    with pytest.raises(ScenarioError, match=r"bands \['E', 'Ka'\]"):
        load_gateways(band="Ku")


def test_kyiv_city_and_its_oblast_from_point_in_polygon():
    kyiv = load_cities(country_iso2="UA", names=["Kyiv"])
    assert kyiv.ids == ["city:703448"]
    assert kyiv.region == ["Kyiv"]  # geoBoundaries UA-30, the city, not "Kyiv Oblast"
    assert kyiv.population[0] == 2_952_301
    assert kyiv.extra["admin1_code"][0] == "12"


def test_every_ukrainian_city_gets_an_oblast_and_codes_map_one_to_one():
    ua = load_cities(country_iso2="UA")
    assert all(ua.region)
    pairs = set(zip(ua.extra["admin1_code"], ua.region))
    assert len(pairs) == 27 == len({c for c, _ in pairs}) == len({r for _, r in pairs})
    assert ("07", "Kharkiv Oblast") in pairs
    assert ("11", "Autonomous Republic of Crimea") in pairs
    # Places of other countries are not given Ukrainian oblasts.
    assert set(load_cities(country_iso2=["PL", "RU", "MD"]).region) == {""}


def test_city_names_are_matched_case_and_accent_insensitively():
    got = load_cities(country_iso2="UA", names=["KYIV", "bila-tserkva", "Kharkív"])
    assert got.names == ["Kyiv", "Bila Tserkva", "Kharkiv"]
    assert fold_name("Bíla-Tsérkva") == "bila tserkva"


def test_unknown_city_lists_close_matches():
    with pytest.raises(ScenarioError) as info:
        load_cities(country_iso2="UA", names=["Zaporizhzhia"])
    msg = str(info.value)
    assert "'Zaporizhzhia'" in msg and "Zaporizhzhya" in msg and "UA" in msg


def test_city_filters():
    top = load_cities(country_iso2="UA", limit=3)
    assert top.names == ["Kyiv", "Kharkiv", "Odesa"]
    big = load_cities(country_iso2="UA", min_population=500_000)
    assert np.all(big.population >= 500_000) and len(big) == 9  # Kyiv ... Sevastopol (547,820)
    with pytest.raises(ScenarioError, match="alpha-2"):
        load_cities(country_iso2="UKR")


def test_pops_by_code_and_country():
    pops = load_pops(catalog=OLD, names=["FRA", "lhr", "CHI"])
    assert pops.ids == ["POP12", "POP16", "POP2"]
    assert pops.country_iso2 == ["DE", "GB", "US"]
    assert np.isnan(pops.min_elevation_deg).all() and (pops.antenna_count == 0).all()
    assert load_pops(catalog=OLD, ids=["POP12"]).names == ["FRA - FRNTDEU1"]
    assert load_pops(catalog=OLD, names=["FRNTDEU1"]).ids == ["POP12"]
    with pytest.raises(ScenarioError, match="Known codes: .*FRA"):
        load_pops(catalog=OLD, names=["WAW"])
    # The current list has Warsaw, and takes the old StarPerf id of Frankfurt.
    new = load_pops(names=["WAW", "FRA"])
    assert new.country_iso2 == ["PL", "DE"]
    assert load_pops(ids=["POP12"]).ids == new.subset(np.array([False, True])).ids


def test_hypatia_file_elevation_is_metres(tmp_path):
    p = tmp_path / "gs.basic.txt"
    p.write_text("0,Lhasa,29.65,91.1,3650\n1,Kyiv-(Kiev),50.445368,30.518634,0\n")
    sites = load_hypatia_cities(p)
    assert sites.ids == ["hypatia:0", "hypatia:1"]
    assert sites.altitude_km.tolist() == [3.65, 0.0]


# --------------------------------------------------------------------------
# Bad input: the message names file, line, column, value and fix
# --------------------------------------------------------------------------


def test_gateway_csv_with_a_missing_column(tmp_path):
    p = tmp_path / "gw.csv"
    p.write_text("id,name,country_iso2,lon,band,antenna_count\nGS1,A,PL,20.0,Ka,8\n")
    with pytest.raises(InputFileError) as info:
        load_gateways(p)
    msg = str(info.value)
    assert str(p) in msg and "line 1" in msg
    assert "missing column(s) lat" in msg
    assert "Found columns: id, name, country_iso2, lon, band, antenna_count" in msg
    assert "Required: id, name, country_iso2, lat, lon, band, antenna_count" in msg
    assert info.value.line == 1


def test_latitude_95_names_the_line_and_value(tmp_path):
    p = tmp_path / "gw.csv"
    p.write_text(GATEWAY_HEADER + "GS1,A,PL,51.0,20.0,Ka,8,2.1,1.3,,\nGS2,B,PL,95,20.0,Ka,8,2.1,1.3,,\n")
    with pytest.raises(InputFileError) as info:
        load_gateways(p)
    msg = str(info.value)
    assert f"{p}, line 3" in msg
    assert "column 'lat' holds 95" in msg and "[-90.0, 90.0]" in msg and "swapped" in msg


def test_bad_number_and_duplicate_id_and_ragged_row(tmp_path):
    p = tmp_path / "gw.csv"
    p.write_text(GATEWAY_HEADER + "GS1,A,PL,51.0,20.0,Ka,eight,2.1,1.3,,\n")
    with pytest.raises(InputFileError, match=r"line 2: column 'antenna_count' holds 'eight', which is not an integer"):
        load_gateways(p)
    p.write_text(GATEWAY_HEADER + "GS1,A,PL,51.0,20.0,Ka,8,,,,\n\nGS1,B,PL,52.0,20.0,Ka,8,,,,\n")
    with pytest.raises(InputFileError, match=r"line 4: id 'GS1' in column 'id' repeats line 2"):
        load_gateways(p)
    p.write_text(GATEWAY_HEADER + "GS1,Wola Krobowska, PL,PL,51.0,20.0,Ka,8,,,,\n")
    with pytest.raises(InputFileError, match=r"line 2: row has 12 fields but the header has 11 .* Quote fields"):
        load_gateways(p)


def test_missing_and_non_utf8_files(tmp_path):
    with pytest.raises(InputFileError, match="file not found"):
        load_gateways(tmp_path / "nope.csv")
    p = tmp_path / "latin1.csv"
    p.write_bytes(GATEWAY_HEADER.encode() + "GS1,Camaçari,BR,-12.7,-38.3,Ka,8,,,,\n".encode("latin-1"))
    with pytest.raises(InputFileError, match="not UTF-8"):
        load_gateways(p)


def test_generic_reader_checks_columns_and_coordinates(tmp_path):
    p = tmp_path / "pops.csv"
    p.write_text("id,name,lat,lon\nP1,X,10,200\n")
    with pytest.raises(InputFileError, match=r"line 2: column 'lon' holds 200"):
        load_pops(p)
    ok = tmp_path / "ok.csv"
    ok.write_text("\ufeffid,lat,lon\n\na,1,2\n")  # a byte-order mark and a blank line are fine
    table = read_sites_csv(ok, ["id", "lat", "lon"])
    assert table.columns["id"] == ["a"] and table.lines == [3]


# --------------------------------------------------------------------------
# User-given sites and the GroundSites container
# --------------------------------------------------------------------------


def test_sites_from_coordinates_defaults_and_region():
    sites = sites_from_coordinates(
        "gateway",
        [
            {"name": "Rzeszow", "lat_deg": 50.04, "lon_deg": 21.99, "antenna_count": 8, "country_iso2": "pl"},
            {"id": "t", "name": "Kharkiv", "lat_deg": 49.98177, "lon_deg": 36.25475, "note": "assumed"},
        ],
    )
    assert sites.ids == ["gateway:Rzeszow", "t"]
    # Since issue 12 a site without a country gets the one it lies in (its PoP is chosen by country).
    assert sites.country_iso2 == ["PL", "UA"]
    assert sites.region == ["Subcarpathian", "Kharkiv Oblast"]  # first-level units world-wide since issue 11
    assert sites.antenna_count.tolist() == [8, 1]
    assert sites.min_elevation_deg.tolist() == [25.0, 25.0]
    assert sites.extra["note"].tolist() == ["", "assumed"]
    assert sites.r_ecef_km.shape == (2, 3)


def test_sites_from_coordinates_rejects_bad_rows():
    with pytest.raises(ScenarioError, match=r"gw\[1\]: lat_deg=95 is outside \[-90.0, 90.0\]"):
        sites_from_coordinates("gateway", [{"name": "a", "lat_deg": 1, "lon_deg": 2}, {"name": "b", "lat_deg": 95, "lon_deg": 2}], source="gw")
    with pytest.raises(ScenarioError, match="unknown field\\(s\\) latitude"):
        sites_from_coordinates("terminal", [{"name": "a", "latitude": 1, "lat_deg": 1, "lon_deg": 2}])
    with pytest.raises(ScenarioError, match="repeated site id"):
        sites_from_coordinates("terminal", [{"name": "a", "lat_deg": 1, "lon_deg": 2}] * 2)
    with pytest.raises(ScenarioError, match="not metres"):
        sites_from_coordinates("terminal", [{"name": "a", "lat_deg": 1, "lon_deg": 2, "altitude_km": 350}])
    with pytest.raises(ScenarioError, match="role 'satellite'"):
        sites_from_coordinates("satellite", [{"name": "a", "lat_deg": 1, "lon_deg": 2}])


def test_subset_concat_and_immutability():
    ua = load_cities(country_iso2="UA", limit=5)
    sub = ua.subset(ua.population > 1_000_000)
    assert sub.names == ["Kyiv", "Kharkiv", "Odesa"]
    assert np.array_equal(sub.r_ecef_km, ua.r_ecef_km[:3])
    both = GroundSites.concat([ua.subset([0]), sites_from_coordinates("terminal", [{"name": "x", "lat_deg": 0, "lon_deg": 0}])])
    assert both.ids == ["city:703448", "terminal:x"]
    assert both.extra["admin1_code"].tolist() == ["12", ""]
    with pytest.raises(ValueError):
        ua.lat_deg[0] = 0.0
    with pytest.raises(ScenarioError, match="different roles"):
        GroundSites.concat([ua, load_pops()])
    with pytest.raises(ScenarioError, match="unique"):
        GroundSites.concat([ua, ua])


def test_geodetic_positions_match_skyfield_wgs84():
    # Skyfield's wgs84.latlon(...).itrs_xyz is the reference (Skyfield toposlib).
    wgs84 = pytest.importorskip("skyfield.api").wgs84
    sites = sites_from_coordinates(
        "terminal",
        [
            {"name": "Kyiv", "lat_deg": 50.45466, "lon_deg": 30.5238, "altitude_km": 0.179},
            {"name": "Pole", "lat_deg": 89.9, "lon_deg": -45.0},
            {"name": "Quito", "lat_deg": -0.22985, "lon_deg": -78.52495, "altitude_km": 2.85},
            {"name": "DeadSea", "lat_deg": 31.5, "lon_deg": 35.5, "altitude_km": -0.43},
        ],
    )
    for g in range(len(sites)):
        ref = wgs84.latlon(sites.lat_deg[g], sites.lon_deg[g], elevation_m=sites.altitude_km[g] * 1000.0).itrs_xyz.km
        assert np.abs(sites.r_ecef_km[g] - ref).max() < one_mm_km


# --------------------------------------------------------------------------
# Distances
# --------------------------------------------------------------------------


def test_kyiv_warsaw_great_circle():
    kyiv = (50.45466, 30.5238)  # GeoNames 703448
    warsaw = (52.22977, 21.01178)  # Hypatia's top-1000 list
    d = float(great_circle_km(*kyiv, *warsaw))
    # Hand formula: spherical law of cosines, same sphere.
    p1, p2, dl = math.radians(kyiv[0]), math.radians(warsaw[0]), math.radians(warsaw[1] - kyiv[1])
    hand = MEAN_EARTH_RADIUS_KM * math.acos(math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl))
    assert d == pytest.approx(hand, abs=one_meter_km)
    # Published: Kyiv-Warsaw is about 690 km as the crow flies.
    assert 685.0 < d < 695.0


def test_great_circle_quarter_meridian_and_broadcasting():
    assert float(great_circle_km(0.0, 0.0, 90.0, 0.0)) == pytest.approx(math.pi / 2 * MEAN_EARTH_RADIUS_KM)
    assert great_circle_km(np.zeros((4, 1)), 0.0, 0.0, np.zeros(3)).shape == (4, 3)


@settings(max_examples=200, deadline=None)
@given(
    st.floats(-90, 90), st.floats(-180, 180), st.floats(-90, 90), st.floats(-180, 180), st.floats(-90, 90), st.floats(-180, 180)
)
def test_great_circle_is_a_metric(la1, lo1, la2, lo2, la3, lo3):
    ab = float(great_circle_km(la1, lo1, la2, lo2))
    assert ab == pytest.approx(float(great_circle_km(la2, lo2, la1, lo1)), abs=1e-9)
    assert 0.0 <= ab <= math.pi * MEAN_EARTH_RADIUS_KM + 1e-9
    ac = float(great_circle_km(la1, lo1, la3, lo3))
    cb = float(great_circle_km(la3, lo3, la2, lo2))
    assert ab <= ac + cb + 1e-6


def test_nearest_matches_a_scalar_loop():
    gws, pops = load_gateways(catalog=OLD), load_pops(catalog=OLD)
    got = nearest(gws, pops, chunk_elements=1000)  # several blocks
    for g in range(0, len(gws), 7):
        d = [float(great_circle_km(gws.lat_deg[g], gws.lon_deg[g], pops.lat_deg[p], pops.lon_deg[p])) for p in range(len(pops))]
        assert got[g] == int(np.argmin(d))
    wola = gws.ids.index("GS220")
    assert pops.ids[got[wola]] == "POP12"  # Frankfurt
    with pytest.raises(ScenarioError, match="empty"):
        nearest(gws, pops.subset(np.zeros(len(pops), bool)))
