"""Re-derive leonet's 2026 Starlink infrastructure tables from public data, and summarise them.

Three tables, all in ``src/leonet/data/gateways/`` (provenance in ``SOURCES-2026.md`` there):

* ``starlink_pop_assignment_YYYY-MM.csv`` (2026-10 and 2025-12): which PoP Starlink assigns
  to each country (and region) in one snapshot, with the share of the country's customer
  prefixes on each PoP;
* ``starlink_pops_2026-10.csv``: every PoP site code seen, with coordinates;
* ``starlink_gateways_2026-03.csv``: the 2024-01 StarPerf gateway list merged with a
  2026-03 community list (starlinkinsider.com + starlink.sx, collected by
  ``juliensimon/starlink-viz``).

Usage::

    PYTHONPATH=src python validation/infrastructure.py \\
        --geoip-data tests/data/starlink-geoip-data \\
        --pops-2024-08 tests/data/starlink-geoip-data-excerpts/geoip-20240808-0304.pop_subnet_count.json \\
        --viz-stations tests/data/starlink-viz/ground-stations.json \\
        [--calibration ../../shared/data/measurements/starlink_published_country_metrics_2025-12_calibration.csv] \\
        [--snapshot geoip/202512/geoip-pops-ptr-20251215-2106.csv ...] \\
        [--write src/leonet/data/gateways]

``--geoip-data`` is a checkout, full or partial, of github.com/clarkzjw/starlink-geoip-data:
the newest ``geoip/*/geoip-pops-ptr-*.csv`` in it and ``map/pop.json`` are read.  Nothing is
downloaded.  The PoP list and the gateway table come from the newest snapshot; an assignment
table ``starlink_pop_assignment_<YYYY-MM>.csv`` is derived from every snapshot named with
``--snapshot`` (a path, relative to ``--geoip-data`` or absolute), by default from the
snapshots of the shipped tables (``SHIPPED_SNAPSHOTS``) found in the checkout and the newest
one.  Without ``--write`` the tables are derived in memory and compared with the shipped
files (exit status 1 when they differ); the summary is printed either way.

A site of an older snapshot that is not in the PoP list (derived from the newest snapshot and
``map/pop.json``) has no coordinates from these sources: its prefixes are left unassigned and
listed in the summary (2025-12: the ship sites ``rcxship1``, ``rcxship2``, ``spxship1``).

How the PoP of a customer prefix is decided
-------------------------------------------
Each row of ``geoip-pops-ptr-*.csv`` is one customer prefix of Starlink's RFC 8805 geofeed
(``geoip.starlinkisp.net/feed.csv``: prefix, country, region, city) joined by the collector
with Starlink's own prefix->PoP file (``geoip.starlinkisp.net/pops.csv``: columns ``pop``,
``code``) and with the reverse-DNS name of the prefix's first address
(``customer.<site>.isp.starlink.com.`` or ``customer.<site>.pop.starlinkisp.net.``).
The PoP of a prefix is the ``pops.csv`` site when there is one (Starlink's published
assignment); else the site in the PTR name; else the prefix is not assigned (anycast
service addresses, unnamed new prefixes).  Staging sites (``STAGING``) are ignored.
Shares count prefixes, each prefix weighing 1 whatever its length or IP version (the feed
gives no customer counts); ``ptr_agree_share`` is the fraction of those prefixes whose PTR
names the same site, a check on how current the assignment is.
"""

from __future__ import annotations

import argparse
import csv
import html
import io
import json
import math
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

from leonet.ground.regions import country_of
from leonet.ground.sites import data_path

SNAPSHOT_RE = re.compile(r"geoip-pops-ptr-(\d{8})-(\d{4})\.csv$")
#: The snapshot each shipped assignment table is derived from (month -> path in the checkout).
SHIPPED_SNAPSHOTS = {
    "2025-12": "geoip/202512/geoip-pops-ptr-20251215-2106.csv",
    "2026-10": "geoip/202610/geoip-pops-ptr-20261008-2106.csv",
}
PTR_RE = re.compile(r"^customer\.([a-z0-9]+)\.(?:pop\.starlinkisp\.net|isp\.starlink\.com)\.$")
# Sites that are test/staging placeholders, not customer PoPs (clarkzjw pop.json notes:
# "staging placeholder", "probably a testing site"; the feed's own code for kentwax2 is "staging2").
STAGING = {"rdmdwax3", "rdmdwax3rk3", "kentwax1", "kentwax2", "sea"}
# StarPerf 2024-01 PoP names carry three misspelt site codes.
STARPERF_CODE_FIX = {"AKLNZL1": "acklnzl1", "PRTHAU1": "prthaus1", "MNLAPH1": "mnlaphl1"}
# Sites in the 2026-10 snapshot that map/pop.json (2026-04) has no coordinates for.  City read
# from the CLLI-like code (4-letter city + country/state) and the feed's IATA-like code; the
# coordinates are then the GeoNames city centre (facility unknown).
CODE_CITY = {
    "stcmswe1": ("Stockholm", "SE", ""),
    "kmpauga1": ("Kampala", "UG", ""),  # feed code "ebb" (Entebbe airport)
    "mclntxx1": ("McAllen", "US", "TX"),
    "dkrrsen1": ("Dakar", "SN", ""),
    "prtebra1": ("Porto Alegre", "BR", ""),
    "chniind1": ("Chennai", "IN", ""),
    "klkaind1": ("Kolkata", "IN", ""),
    "dlhiind1": ("New Delhi", "IN", ""),
    "kllrmys1": ("Kuala Lumpur", "MY", ""),
    "sgnnvnm1": ("Ho Chi Minh City", "VN", ""),
    "btmmidn1": ("Batam", "ID", ""),
    "atlagax3": ("Atlanta", "US", "GA"),
    "prtdorx3": ("Portland", "US", "OR"),
}
# Natural Earth (German view) folds these territories into their sovereign state.
ISO3_EXTRA = {"GLP": "GP", "GUF": "GF", "MTQ": "MQ", "MYT": "YT", "REU": "RE", "CCK": "CC", "CXR": "CX",
              "NFK": "NF", "ATA": "AQ"}
POPJSON_COUNTRY = {
    "USA": "US", "UK": "GB", "Guam": "GU", "New Zealand": "NZ", "Kazakhstan": "KZ", "Colombia": "CO",
    "Argentina": "AR", "Canada": "CA", "Australia": "AU", "Bangladesh": "BD", "Qatar": "QA",
    "Germany": "DE", "Brazil": "BR", "Guatemala": "GT", "South Africa": "ZA", "Indonesia": "ID",
    "Pakistan": "PK", "Nigeria": "NG", "Papua New Guinea": "PG", "Peru": "PE", "Spain": "ES",
    "Italy": "IT", "India": "IN", "Philippines": "PH", "Oman": "OM", "Kenya": "KE", "Mexico": "MX",
    "Bulgaria": "BG", "Singapore": "SG", "Chile": "CL", "Japan": "JP", "Poland": "PL",
}
# Gateway merge.
MATCH_KM = 25.0  # a 2026 entry within this distance of a StarPerf site is that site
DEFAULT_ANTENNAS = 8  # median antenna_count of the 218 StarPerf Ka rows (168 of them are 8)
US_STATES = set(
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY "
    "NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC".split()
)
CA_PROVINCES = set("ON QC NS NB NL PE MB SK AB BC YT NT NU".split())
NAME_COUNTRY = {
    "Germany": "DE", "Portugal": "PT", "Australia": "AU", "Philippines": "PH", "Ireland": "IE",
    "Colombia": "CO", "Brazil": "BR", "Mexico": "MX", "Chile": "CL", "Indonesia": "ID", "Japan": "JP",
    "Italy": "IT", "Spain": "ES", "Nigeria": "NG", "Lithuania": "LT", "Turkey": "TR", "Oman": "OM",
    "Barbados": "BB", "Malaysia": "MY", "Fiji": "FJ", "Norway": "NO", "France": "FR", "Curaçao": "CW",
    "Poland": "PL", "Argentina": "AR", "UK": "GB", "NZ": "NZ", "DR": "DO", "PR": "PR", "GU": "GU",
    "Guam": "GU",
}

GATEWAY_COLUMNS = [
    "id", "name", "country_iso2", "lat", "lon", "band", "antenna_count", "uplink_ghz", "downlink_ghz",
    "note", "description_raw", "band_assumed", "antenna_count_assumed", "status", "coord_precision",
    "in_starperf_2024_01", "in_viz_2026_03", "match_km", "country_check", "source",
]
POP_COLUMNS = [
    "id", "name", "lat", "lon", "country_iso2", "site_code", "iata_code", "city", "kind", "facility",
    "coord_source", "in_starperf_2024_01", "ptr_prefixes_2024_08_08", "prefixes_2026_10_08",
    "ptr_prefixes_2026_10_08", "first_seen_bound",
]
ASSIGN_COLUMNS = [
    "country_iso2", "region_iso3166_2", "pop_code", "pop_id", "pop_city", "pop_country_iso2", "share",
    "n_prefixes", "n_prefixes_total", "ptr_agree_share", "basis", "snapshot_date",
]


# --------------------------------------------------------------------------- inputs


def latest_geoip_csv(root: Path) -> Path:
    """Newest ``geoip/*/geoip-pops-ptr-YYYYMMDD-HHMM.csv`` under a starlink-geoip-data checkout."""
    found = [p for p in root.glob("geoip/*/geoip-pops-ptr-*.csv") if SNAPSHOT_RE.search(p.name)]
    if not found:
        sys.exit(f"{root}: no geoip/*/geoip-pops-ptr-YYYYMMDD-HHMM.csv; pass a starlink-geoip-data checkout.")
    return max(found, key=lambda p: SNAPSHOT_RE.search(p.name).groups())


def read_geoip(path: Path) -> tuple[list[dict], int]:
    """Rows of a geoip-pops-ptr CSV, with the Namibia fix; returns (rows, number fixed).

    The collector wrote the file with pandas, which read the country code ``NA`` (Namibia)
    as missing: those rows have an empty country and a region ``NA-xx``.
    """
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    fixed = 0
    for r in rows:
        if not r["country"] and r["region"].startswith("NA-"):
            r["country"] = "NA"
            fixed += 1
    return rows, fixed


def ptr_site(ptr: str) -> str:
    m = PTR_RE.match(ptr)
    return m.group(1) if m else ""


def prefix_pop(row: dict) -> tuple[str, str]:
    """(site code, basis) of one prefix; ("", "") when it is not assigned."""
    if row["pop"] and row["pop"] not in STAGING:
        return row["pop"], "pops.csv"
    site = ptr_site(row["dns_ptr"])
    if site and site not in STAGING:
        return site, "ptr"
    return "", ""


def geonames_city(name: str, iso2: str, admin1: str) -> tuple[float, float]:
    """Centre of the most populous GeoNames place of that name (leonet's shipped cities15000)."""
    best = None
    with open(data_path("cities", "geonames_cities15000.csv"), encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            if r["name"] == name and r["country_iso2"] == iso2 and (not admin1 or r["admin1_code"] == admin1):
                if best is None or int(r["population"]) > int(best["population"]):
                    best = r
    if best is None:
        raise SystemExit(f"GeoNames has no {name}, {iso2} {admin1}; fix CODE_CITY.")
    return float(best["lat"]), float(best["lon"])


def ne_countries() -> dict[str, dict]:
    """ISO 3166-1 alpha-2 -> Natural Earth properties (world file shipped with leonet)."""
    with open(data_path("boundaries", "ne_10m_admin0_deu-pov_world_simplified.geojson"), encoding="utf-8") as f:
        doc = json.load(f)
    out = {}
    for feat in doc["features"]:
        p = feat["properties"]
        iso2 = p["ISO_A2_EH"] if p["ISO_A2_EH"] not in ("", "-99") else p["ISO_A2"]
        if iso2 not in ("", "-99"):
            out.setdefault(iso2, p)
    return out


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def fmt(x: float, nd: int = 6) -> str:
    return f"{x:.{nd}f}".rstrip("0").rstrip(".")


# --------------------------------------------------------------------------- assignment


def derive_assignment(rows: list[dict], snapshot: str, pops: dict[str, dict],
                      skipped: Counter | None = None) -> list[dict]:
    """Country (and region) -> PoP shares; see the module docstring.

    A site that is not in ``pops`` (no coordinates in the sources) is not assigned; its
    prefixes are counted in ``skipped`` (site -> prefixes) when given.
    """
    by_country: dict[str, Counter] = defaultdict(Counter)
    by_region: dict[tuple[str, str], Counter] = defaultdict(Counter)
    agree: Counter = Counter()
    basis: dict[tuple[str, str, str], set] = defaultdict(set)
    regions: dict[str, set] = defaultdict(set)
    for r in rows:
        site, how = prefix_pop(r)
        if not site or not r["country"]:
            continue
        if site not in pops:
            if skipped is not None:
                skipped[site] += 1
            continue
        cc, reg = r["country"], r["region"]
        by_country[cc][site] += 1
        regions[cc].add(reg)
        by_region[(cc, reg)][site] += 1
        ok = ptr_site(r["dns_ptr"]) == site
        agree[(cc, "", site)] += ok
        agree[(cc, reg, site)] += ok
        basis[(cc, "", site)].add(how)
        basis[(cc, reg, site)].add(how)
    out = []

    def emit(cc: str, reg: str, counts: Counter) -> None:
        total = sum(counts.values())
        for site, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            b = basis[(cc, reg, site)]
            out.append({
                "country_iso2": cc, "region_iso3166_2": reg, "pop_code": site, "pop_id": site,
                "pop_city": pops[site]["city"], "pop_country_iso2": pops[site]["country_iso2"],
                "share": fmt(n / total, 4), "n_prefixes": n, "n_prefixes_total": total,
                "ptr_agree_share": fmt(agree[(cc, reg, site)] / n, 4),
                "basis": b.pop() if len(b) == 1 else "mixed", "snapshot_date": snapshot,
            })

    for cc in sorted(by_country):
        emit(cc, "", by_country[cc])
        if len(regions[cc] - {""}) > 1:
            for reg in sorted(regions[cc]):
                if reg:
                    emit(cc, reg, by_region[(cc, reg)])
    return out


# --------------------------------------------------------------------------- PoPs


def derive_pops(rows: list[dict], pop_json: list[dict], starperf_pops: list[dict], ptr_2024: dict[str, int]) -> dict[str, dict]:
    """Site code -> PoP row (all sites in the snapshot, plus located sites of map/pop.json)."""
    feed_n, ptr_n, iata = Counter(), Counter(), defaultdict(Counter)
    for r in rows:
        site, how = prefix_pop(r)
        if site and how == "pops.csv":
            feed_n[site] += 1
            iata[site][r["code"]] += 1
        p = ptr_site(r["dns_ptr"])
        if p and p not in STAGING:
            ptr_n[p] += 1
    starperf = {}
    for p in starperf_pops:
        code = p["name"].split(" - ")[-1].strip().upper()
        starperf[STARPERF_CODE_FIX.get(code, code.lower())] = p
    meta = {p["code"]: p for p in pop_json if p.get("code")}
    codes = set(feed_n) | set(ptr_n)
    codes |= {c for c, p in meta.items() if (p.get("lat") or p.get("lon")) and c not in STAGING}
    out = {}
    for code in sorted(codes):
        m = meta.get(code)
        if m and (m.get("lat") or m.get("lon")):
            lat, lon = float(m["lat"]), float(m["lon"])
            city, cc = m["city"], POPJSON_COUNTRY.get(m["country"], "")
            kind = m.get("type", "")
            facility = html.unescape(re.split(r"<br>", m.get("note", ""))[0])
            facility = re.sub(r"<[^>]+>", "", facility).strip()
            src = "clarkzjw/starlink-geoip map/data/pop.json"
        elif code in CODE_CITY:
            city, cc, admin1 = CODE_CITY[code]
            lat, lon = geonames_city(city, cc, admin1)
            kind, facility, src = "", "", "GeoNames city centre (site code read as city; facility unknown)"
        else:
            raise SystemExit(f"PoP site {code} has no coordinates; add it to CODE_CITY.")
        if not cc:
            cc = country_of([lat], [lon])[0]
        code_iata = iata[code].most_common(1)[0][0] if iata[code] else ""
        seen = "<=2024-01" if code in starperf else "<=2024-08-08" if code in ptr_2024 else ">2024-08-08"
        out[code] = {
            "id": code, "name": f"{code_iata.upper()} - {code.upper()}" if code_iata else code.upper(),
            "lat": fmt(lat), "lon": fmt(lon), "country_iso2": cc, "site_code": code, "iata_code": code_iata,
            "city": city, "kind": kind, "facility": facility, "coord_source": src,
            "in_starperf_2024_01": str(code in starperf), "ptr_prefixes_2024_08_08": ptr_2024.get(code, 0),
            "prefixes_2026_10_08": feed_n[code], "ptr_prefixes_2026_10_08": ptr_n[code], "first_seen_bound": seen,
        }
    return out


# --------------------------------------------------------------------------- gateways


def viz_country(name: str) -> tuple[str, set[str]]:
    """Country code(s) read from a starlink-viz station name ("Town, ST" / "Town, Country")."""
    if "," not in name:
        tail = name.split()[-1]
        return ("US", {"US"}) if tail in US_STATES else (NAME_COUNTRY.get(name, ""), {NAME_COUNTRY.get(name, "")})
    tail = name.rsplit(",", 1)[1].strip()
    options = set()
    if tail in NAME_COUNTRY:
        options.add(NAME_COUNTRY[tail])
    if tail in US_STATES:
        options.add("US")
    if tail in CA_PROVINCES:
        options.add("CA")
    if tail == "NL":
        options.add("NL")  # Newfoundland and Labrador, or the Netherlands (Hoofddorp)
    return ("" if len(options) != 1 else next(iter(options))), options


def decimals(x: float) -> int:
    s = repr(float(x))
    return len(s.split(".")[1].rstrip("0")) if "." in s else 0


def derive_gateways(starperf: list[dict], viz: dict) -> list[dict]:
    """StarPerf 2024-01 rows (kept, with their ids, bands and antennas) + unmatched 2026-03 gateways."""
    sites = {}  # (lat, lon) -> StarPerf rows there
    for r in starperf:
        sites.setdefault((float(r["lat"]), float(r["lon"])), []).append(r)
    towns = defaultdict(list)
    for key, rs in sites.items():
        towns[fold(rs[0]["name"].split(",")[0])].append(key)
    matched: dict[tuple, tuple[dict, float]] = {}
    extra = []
    for s in viz["stations"]:
        if s["type"] != "gateway":
            continue
        lat, lon = float(s["lat"]), float(s["lon"])
        town = fold(s["name"].split(",")[0])
        near = min(sites, key=lambda k: haversine_km(lat, lon, *k))
        d_near = haversine_km(lat, lon, *near)
        key = None
        if town in towns:  # same town name: the same site even when the 2026 coordinates are off
            key = min(towns[town], key=lambda k: haversine_km(lat, lon, *k))
        elif d_near <= MATCH_KM:
            key = near
        if key is not None:
            d = haversine_km(lat, lon, *key)
            if key not in matched or d < matched[key][1]:
                matched[key] = (s, d)
        else:
            extra.append(s)
    out = []
    geo = country_of([float(r["lat"]) for r in starperf], [float(r["lon"]) for r in starperf])
    for r, g in zip(starperf, geo):
        key = (float(r["lat"]), float(r["lon"]))
        m = matched.get(key)
        row = {c: r.get(c, "") for c in GATEWAY_COLUMNS}
        # StarPerf's own country codes have errors (Frankfurt and Aerzen are "US"); the
        # coordinates are right, so the country of the coordinates wins.
        check = "ok" if g == r["country_iso2"] or not g else f"fixed:{r['country_iso2']}"
        if g:
            row["country_iso2"] = g
        row.update({
            "band_assumed": "False", "antenna_count_assumed": "False",
            "status": m[0]["status"] if m else "listed_2024-01",
            "coord_precision": "site", "in_starperf_2024_01": "True", "in_viz_2026_03": str(m is not None),
            "match_km": fmt(m[1], 1) if m else "",
            "country_check": check,
            "source": "starperf_2024-01" + ("+starlink-viz_2026-03" if m else ""),
        })
        out.append(row)
    extra.sort(key=lambda s: fold(s["name"]))
    geo = country_of([float(s["lat"]) for s in extra], [float(s["lon"]) for s in extra])
    for k, (s, g) in enumerate(zip(extra, geo), start=1):
        cc, options = viz_country(s["name"])
        if not cc and g in options:
            cc = g
        cc = cc or g
        prec = min(decimals(s["lat"]), decimals(s["lon"]))
        out.append({
            "id": f"GV{k}", "name": s["name"], "country_iso2": cc, "lat": fmt(float(s["lat"])),
            "lon": fmt(float(s["lon"])), "band": "Ka", "antenna_count": DEFAULT_ANTENNAS, "uplink_ghz": "",
            "downlink_ghz": "", "note": "", "description_raw": s["name"], "band_assumed": "True",
            "antenna_count_assumed": "True", "status": s["status"],
            "coord_precision": "site" if prec >= 4 else "town", "in_starperf_2024_01": "False",
            "in_viz_2026_03": "True", "match_km": "",
            "country_check": "ok" if g == cc else f"geo:{g or 'none'}", "source": "starlink-viz_2026-03",
        })
    return out


# --------------------------------------------------------------------------- output


def to_csv(rows: list[dict], columns: list[str]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, columns, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({c: r[c] for c in columns})
    return buf.getvalue()


def summary(gateways, pops, snapshot, ne) -> None:
    p = print
    cont = {cc: props["CONTINENT"] for cc, props in ne.items()}
    p(f"== gateways: {len(gateways)} rows at {len({(g['lat'], g['lon']) for g in gateways})} distinct coordinates")
    p("   by status:", dict(Counter(g["status"] for g in gateways)))
    p("   by source:", dict(Counter(g["source"] for g in gateways)))
    p("   assumed antenna counts:", sum(g["antenna_count_assumed"] == "True" for g in gateways),
      "| town-level coordinates:", sum(g["coord_precision"] == "town" for g in gateways))
    p("   by continent:", dict(Counter(cont.get(g["country_iso2"], "?") for g in gateways).most_common()))
    eu = Counter(g["country_iso2"] for g in gateways if cont.get(g["country_iso2"]) == "Europe")
    p("   Europe by country:", dict(sorted(eu.items())))
    bad = [(g["id"], g["name"], g["country_iso2"], g["country_check"]) for g in gateways if g["country_check"] != "ok"]
    p(f"   country code fixed from the coordinates, or still disagreeing, for {len(bad)}:", bad)
    p(f"== PoPs: {len(pops)} sites; {sum(int(v['prefixes_2026_10_08']) > 0 for v in pops.values())} carry pops.csv prefixes on {snapshot};"
      f" GeoNames-city coordinates for {sum(v['coord_source'].startswith('GeoNames') for v in pops.values())}")
    p("   first seen:", dict(Counter(v["first_seen_bound"] for v in pops.values())))


def assignment_summary(assignment, snapshot, namibia_fixed, n_rows, skipped, calibration, ne) -> None:
    p = print
    countries = sorted({a["country_iso2"] for a in assignment})
    multi = [cc for cc in countries if sum(a["country_iso2"] == cc and not a["region_iso3166_2"] for a in assignment) > 1]
    p(f"== assignment ({snapshot}, {n_rows} feed rows, Namibia rows fixed: {namibia_fixed}): {len(assignment)} rows,"
      f" {len(countries)} countries, {len(multi)} with several PoPs")
    if skipped:
        p("   sites not in the PoP list (no coordinates; their prefixes left unassigned):", dict(sorted(skipped.items())))
    for cc, reg in [("UA", ""), ("DE", ""), ("PL", ""), ("CA", "CA-BC"), ("CA", ""), ("SC", ""), ("US", "US-WA"),
                    ("SN", ""), ("ML", "")]:
        rows = [a for a in assignment if a["country_iso2"] == cc and a["region_iso3166_2"] == reg]
        p(f"   {cc} {reg or '(country)'}:", ", ".join(f"{a['pop_code']} {a['pop_city']} {a['share']}" for a in rows))
    if calibration:
        iso3 = dict(ISO3_EXTRA)
        for cc, props in ne.items():
            for k in ("ISO_A3", "ADM0_A3", "ISO_A3_EH"):
                iso3.setdefault(props[k], cc)
        with open(calibration, encoding="utf-8", newline="") as f:
            want = [r["iso3"] for r in csv.DictReader(f)]
        have = set(countries)
        miss = [f"{c}->{iso3.get(c, '?')}" for c in want if iso3.get(c) not in have]
        p(f"== calibration countries: {len(want) - len(miss)} of {len(want)} have an assigned PoP; missing: {miss}")


def snapshot_of(path: Path) -> str:
    """``YYYY-MM-DD`` of a ``geoip-pops-ptr-YYYYMMDD-HHMM.csv``."""
    m = SNAPSHOT_RE.search(path.name)
    if m is None:
        sys.exit(f"{path}: not a geoip-pops-ptr-YYYYMMDD-HHMM.csv snapshot file")
    d = m.group(1)
    return f"{d[:4]}-{d[4:6]}-{d[6:]}"


def assignment_snapshots(root: Path, named: list[Path] | None, newest: Path) -> list[Path]:
    """The snapshot files to derive assignment tables from: those named, else the shipped ones present and the newest."""
    if named:
        paths = [p if p.is_absolute() else root / p for p in named]
    else:
        paths = [root / rel for rel in SHIPPED_SNAPSHOTS.values() if (root / rel).is_file()]
        paths += [] if newest in paths else [newest]
    for p in paths:
        if not p.is_file():
            sys.exit(f"--snapshot {p}: no such file")
    months = Counter(snapshot_of(p)[:7] for p in paths)
    if any(n > 1 for n in months.values()):
        sys.exit(f"--snapshot: one snapshot per month (the tables are named by month), got {dict(months)}")
    return sorted(paths, key=snapshot_of)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--geoip-data", type=Path, required=True, help="checkout of clarkzjw/starlink-geoip-data")
    ap.add_argument("--pops-2024-08", type=Path, required=True, help="pop_subnet_count of geoip-20240808-0304.json")
    ap.add_argument("--viz-stations", type=Path, required=True, help="juliensimon/starlink-viz data/ground-stations.json")
    ap.add_argument("--calibration", type=Path, help="country metrics CSV with an iso3 column (coverage check)")
    ap.add_argument("--snapshot", type=Path, action="append",
                    help="a geoip-pops-ptr-YYYYMMDD-HHMM.csv (relative to --geoip-data or absolute) to derive "
                    "starlink_pop_assignment_YYYY-MM.csv from; repeatable; default: the shipped tables' snapshots "
                    "found in the checkout, and the newest")
    ap.add_argument("--write", type=Path, help="write the tables into this folder instead of comparing")
    a = ap.parse_args(argv)

    path = latest_geoip_csv(a.geoip_data)
    snapshot = snapshot_of(path)
    rows, fixed = read_geoip(path)
    pop_json = json.loads((a.geoip_data / "map" / "pop.json").read_text(encoding="utf-8"))
    old = json.loads(a.pops_2024_08.read_text(encoding="utf-8"))["pop_subnet_count"]
    ptr_2024 = {ptr_site(ptr): n for ptr, n in old if ptr_site(ptr)}
    with open(data_path("gateways", "starlink_pops_starperf_2024-01.csv"), encoding="utf-8", newline="") as f:
        starperf_pops = list(csv.DictReader(f))
    with open(data_path("gateways", "starlink_gateways_starperf_2024-01.csv"), encoding="utf-8", newline="") as f:
        starperf_gw = list(csv.DictReader(f))
    viz = json.loads(a.viz_stations.read_text(encoding="utf-8"))

    ne = ne_countries()
    pops = derive_pops(rows, pop_json, starperf_pops, ptr_2024)
    gateways = derive_gateways(starperf_gw, viz)
    summary(gateways, pops, snapshot, ne)
    out = {}
    for snap_path in assignment_snapshots(a.geoip_data, a.snapshot, path):
        snap = snapshot_of(snap_path)
        snap_rows, snap_fixed = (rows, fixed) if snap_path == path else read_geoip(snap_path)
        skipped: Counter = Counter()
        assignment = derive_assignment(snap_rows, snap, pops, skipped)
        assignment_summary(assignment, snap, snap_fixed, len(snap_rows), skipped, a.calibration, ne)
        out[f"starlink_pop_assignment_{snap[:7]}.csv"] = to_csv(assignment, ASSIGN_COLUMNS)
    out["starlink_pops_2026-10.csv"] = to_csv(list(pops.values()), POP_COLUMNS)
    out["starlink_gateways_2026-03.csv"] = to_csv(gateways, GATEWAY_COLUMNS)
    status = 0
    for name, text in out.items():
        if a.write:
            (a.write / name).write_text(text, encoding="utf-8")
            print(f"wrote {a.write / name} ({text.count(chr(10)) - 1} rows)")
        else:
            shipped = data_path("gateways", "starlink_pops_2026-10.csv").parent / name
            same = shipped.is_file() and shipped.read_text(encoding="utf-8") == text
            print(f"{name}: {'identical to' if same else 'DIFFERS from'} {shipped}")
            status |= not same
    return status


if __name__ == "__main__":
    sys.exit(main())
