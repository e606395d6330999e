"""Checks of the shipped 2026 Starlink infrastructure tables (gateways, PoPs, country -> PoP).

References: leonet's own loaders, the ISO 3166-1 list of the IANA time-zone database
(``tzdata/zoneinfo/iso3166.tab``), the shipped Natural Earth borders (a site's country must
contain its coordinates), the 2024-01 StarPerf list the gateway table extends, and the
derivation script re-run on the checked-in source extracts (``tests/data/starlink-*``).
"""

from __future__ import annotations

import csv
import importlib.resources
import importlib.util
import os
from collections import defaultdict
from pathlib import Path

import pytest

from leonet.ground.regions import country_of
from leonet.ground.sites import data_path, load_gateways, load_pops

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
GATEWAYS = data_path("gateways", "starlink_gateways_2026-03.csv")
POPS = data_path("gateways", "starlink_pops_2026-10.csv")
ASSIGNMENT = data_path("gateways", "starlink_pop_assignment_2026-10.csv")
ASSIGNMENT_2025_12 = data_path("gateways", "starlink_pop_assignment_2025-12.csv")
EUROPE = {  # sovereign states whose PoPs can serve Ukraine over European fibre
    "AT", "BE", "BG", "CH", "CZ", "DE", "DK", "ES", "FI", "FR", "GB", "HU", "IT", "LT", "NL", "NO",
    "PL", "PT", "RO", "SE", "SK",
}


def rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def iso2() -> set[str]:
    tab = importlib.resources.files("tzdata") / "zoneinfo" / "iso3166.tab"
    codes = {line.split("\t")[0] for line in tab.read_text(encoding="utf-8").splitlines() if line and line[0] != "#"}
    assert len(codes) > 240 and {"UA", "NA", "SC"} <= codes
    return codes


@pytest.fixture(scope="module")
def assignment() -> list[dict]:
    return rows(ASSIGNMENT)


@pytest.fixture(scope="module")
def pops() -> dict[str, dict]:
    return {r["id"]: r for r in rows(POPS)}


def pops_of(assignment, country, region=""):
    got = [a for a in assignment if a["country_iso2"] == country and a["region_iso3166_2"] == region]
    return sorted(got, key=lambda a: -float(a["share"]))


# ----------------------------------------------------------------------------- gateways


def test_gateways_load_and_keep_every_2024_site():
    sites = load_gateways(GATEWAYS, include_planned=True)
    table = rows(GATEWAYS)
    assert len(sites) == len(table) == 336
    assert len(load_gateways(GATEWAYS)) == sum(r["status"] != "planned" for r in table)
    assert set(sites.band) == {"Ka", "E"}
    assert ((-90 <= sites.lat_deg) & (sites.lat_deg <= 90)).all()
    assert ((-180 <= sites.lon_deg) & (sites.lon_deg <= 180)).all()
    old = {r["id"]: r for r in rows(data_path("gateways", "starlink_gateways_starperf_2024-01.csv"))}
    kept = {r["id"]: r for r in table if r["in_starperf_2024_01"] == "True"}
    assert kept.keys() == old.keys()
    for gid, r in kept.items():
        assert (r["lat"], r["lon"], r["band"], r["antenna_count"]) == (
            old[gid]["lat"], old[gid]["lon"], old[gid]["band"], old[gid]["antenna_count"])
    # Frankfurt and Aerzen are "US" in the 2024 file; the coordinates say Germany.
    assert old["GS218"]["country_iso2"] == "US" and kept["GS218"]["country_iso2"] == "DE"
    assert kept["GS218"]["country_check"] == "fixed:US"


def test_gateway_assumptions_are_flagged(iso2):
    table = rows(GATEWAYS)
    for r in table:
        assert r["country_iso2"] in iso2, r
        assert r["status"] in {"operational", "planned", "listed_2024-01"}, r
        new = r["in_starperf_2024_01"] == "False"
        assert (r["antenna_count_assumed"] == "True") == new and (r["band_assumed"] == "True") == new
        if new:
            assert (r["band"], r["antenna_count"]) == ("Ka", "8") and r["source"] == "starlink-viz_2026-03"
    lat = [float(r["lat"]) for r in table]
    lon = [float(r["lon"]) for r in table]
    geo = country_of(lat, lon)
    wrong = [(r["id"], r["country_iso2"], g) for r, g in zip(table, geo) if g and g != r["country_iso2"]]
    assert wrong == []


# ----------------------------------------------------------------------------- PoPs


def test_pops_load_and_sit_in_their_country(pops, iso2):
    sites = load_pops(POPS)
    assert len(sites) == len(pops) == 76
    assert [p["country_iso2"] for p in pops.values()] == list(sites.country_iso2)
    assert {p["country_iso2"] for p in pops.values()} <= iso2
    geo = country_of([float(p["lat"]) for p in pops.values()], [float(p["lon"]) for p in pops.values()])
    assert [p["country_iso2"] for p in pops.values()] == geo
    for p in pops.values():
        assert p["id"] == p["site_code"] and p["name"].endswith(p["site_code"].upper())
    # names keep the "IATA - SITE" form, so load_pops(names=...) finds a PoP by either code
    assert load_pops(POPS, names=["WAW", "sttlwax1", "LOS"]).names == [
        "WAW - WRSWPOL1", "SEA - STTLWAX1", "LOS - LGOSNGA1"]
    # the 23 PoPs of the 2024 StarPerf list are all still there
    assert sum(p["in_starperf_2024_01"] == "True" for p in pops.values()) == 23


# ----------------------------------------------------------------------------- assignment


def check_assignment_rows(table, pops, iso2, snapshot_date) -> dict:
    """Every row of an assignment table names a known country, region and PoP of the snapshot; the prefix counts
    and shares of each (country, region) add up.  Returns the rows grouped by (country, region)."""
    groups = defaultdict(list)
    for a in table:
        assert a["country_iso2"] in iso2, a
        assert a["region_iso3166_2"] == "" or a["region_iso3166_2"].startswith(a["country_iso2"] + "-"), a
        assert a["pop_id"] in pops, a  # every site used is in the 2026-10 PoP list
        assert a["pop_city"] == pops[a["pop_id"]]["city"]
        assert a["pop_country_iso2"] == pops[a["pop_id"]]["country_iso2"]
        assert a["snapshot_date"] == snapshot_date
        groups[(a["country_iso2"], a["region_iso3166_2"])].append(a)
    for key, group in groups.items():
        total = {int(a["n_prefixes_total"]) for a in group}
        assert len(total) == 1 and sum(int(a["n_prefixes"]) for a in group) == total.pop(), key
        assert sum(float(a["share"]) for a in group) == pytest.approx(1.0, abs=5e-4), key
    return groups


def test_assignment_is_consistent(assignment, pops, iso2):
    groups = check_assignment_rows(assignment, pops, iso2, "2026-10-08")
    countries = {c for c, _ in groups}
    assert len(countries) == 224
    assert all((c, "") in groups for c in countries)  # every country has a whole-country row


def test_hand_checked_assignments(assignment, pops):
    ua = pops_of(assignment, "UA")
    assert ua[0]["pop_code"] == "wrswpol1" and float(ua[0]["share"]) > 0.9  # Warsaw
    assert {a["pop_country_iso2"] for a in ua} <= EUROPE  # Warsaw and Sofia
    assert pops_of(assignment, "DE")[0]["pop_code"] == "frntdeu1"
    assert pops_of(assignment, "CA", "CA-BC")[0]["pop_code"] == "sttlwax1"  # the Victoria dish's Seattle PoP
    assert pops_of(assignment, "US", "US-WA")[0]["pop_code"] == "sttlwax1"
    # Seychelles: Nairobi in 2026.  The 2023 measurement went to Lagos; Lagos was a PoP in
    # the 2024-01 list, Nairobi was not yet named in the 2024-08 PTR snapshot.
    assert [a["pop_code"] for a in pops_of(assignment, "SC")] == ["nrbiken1"]
    assert pops["lgosnga1"]["first_seen_bound"] == "<=2024-01"
    assert pops["nrbiken1"]["first_seen_bound"] == ">2024-08-08"
    # Namibia's code "NA" was lost to pandas in the source and is restored by the derivation
    assert [a["pop_code"] for a in pops_of(assignment, "NA")] == ["jhngzaf1"]


def test_calibration_countries_have_a_pop(assignment):
    path = Path(os.environ.get("LEONET_SHARED", REPO.parent / "shared")) / "data" / "measurements" / (
        "starlink_published_country_metrics_2025-12_calibration.csv")
    if not path.exists():
        pytest.skip(f"{path} missing")
    spec = importlib.util.spec_from_file_location("infrastructure", REPO / "validation" / "infrastructure.py")
    infra = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(infra)
    iso3 = dict(infra.ISO3_EXTRA)
    for cc, props in infra.ne_countries().items():
        for k in ("ISO_A3", "ADM0_A3", "ISO_A3_EH"):
            iso3.setdefault(props[k], cc)
    want = [r["iso3"] for r in rows(path)]
    have = {a["country_iso2"] for a in assignment}
    missing = sorted(c for c in want if iso3.get(c) not in have)
    # Antarctica and three Australian external territories are not in Starlink's geofeed
    assert len(want) == 96 and missing == ["ATA", "CCK", "CXR", "NFK"]


def test_assignment_2025_12_is_consistent_and_differs_where_starlink_moved_countries(assignment, pops, iso2):
    old = rows(ASSIGNMENT_2025_12)
    groups = check_assignment_rows(old, pops, iso2, "2025-12-15")
    assert len({c for c, _ in groups}) == 176
    # West Africa before the Dakar PoP (not in the 2025-12 feed): Senegal exits at Lagos, Mali at
    # Madrid; in 2026-10 Dakar takes Senegal.
    assert [a["pop_code"] for a in pops_of(old, "SN")] == ["lgosnga1"]
    assert [a["pop_code"] for a in pops_of(old, "ML")] == ["mdrdesp1"]
    assert pops_of(assignment, "SN")[0]["pop_code"] == "dkrrsen1"
    assert not any(a["pop_code"] == "dkrrsen1" for a in old)
    assert pops_of(old, "UA")[0]["pop_code"] == "wrswpol1"  # Warsaw in both


# ----------------------------------------------------------------------------- re-derivation


def test_rederivation_reproduces_the_shipped_tables(capsys):
    spec = importlib.util.spec_from_file_location("infrastructure", REPO / "validation" / "infrastructure.py")
    infra = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(infra)
    status = infra.main([
        "--geoip-data", str(HERE / "starlink-geoip-data"),
        "--pops-2024-08", str(HERE / "starlink-geoip-data-excerpts" / "geoip-20240808-0304.pop_subnet_count.json"),
        "--viz-stations", str(HERE / "starlink-viz" / "ground-stations.json"),
    ])
    out = capsys.readouterr().out
    assert status == 0, out
    assert out.count("identical to") == 4  # both assignment snapshots, the PoPs, the gateways
    assert "'rcxship1': 1" in out  # 2025-12 ship sites without coordinates are reported


def test_sha256_in_sources_2026_md():
    import hashlib
    import re

    text = data_path("gateways", "SOURCES-2026.md").read_text(encoding="utf-8")
    tables = re.findall(r"^\| `([^`]+)` \| [\d,]+ \| ([\d,]+) \| ([0-9a-f]{64}) \|", text, flags=re.M)
    extracts = re.findall(r"^\| `([^`]+)` \| ([\d,]+) \| ([0-9a-f]{64}) \|", text, flags=re.M)
    assert len(tables) == 4 and len(extracts) == 5
    for rel, size, sha in tables:
        blob = data_path("gateways", rel).read_bytes()
        assert (len(blob), hashlib.sha256(blob).hexdigest()) == (int(size.replace(",", "")), sha), rel
    for rel, size, sha in extracts:
        blob = (HERE / rel).read_bytes()
        assert (len(blob), hashlib.sha256(blob).hexdigest()) == (int(size.replace(",", "")), sha), rel
