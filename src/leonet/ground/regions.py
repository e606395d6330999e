"""Regions on the ground: countries, first-level units world-wide, Crimea, or any GeoJSON polygon.

The representation
------------------
A `Region` is a shapely ``Polygon`` or ``MultiPolygon`` whose coordinates are
``(lon_deg, lat_deg)`` on WGS84, the order GeoJSON (RFC 7946) uses.  Edges are
straight lines in longitude/latitude (plate carrée), not great circles: this
is how the source files are drawn, and at the resolution of the shipped
borders (simplified by 0.002 to 0.05 degrees, i.e. ~0.2 to 5 km) the
difference does not matter.  The geometry is *prepared* when the region is
built, so `points_in_region` costs O(log V) per point.

Point-in-polygon is vectorised with ``shapely.contains_xy``; a point exactly on
an edge is outside.

Shipped borders (see ``leonet/data/SOURCES.md``):

* Natural Earth 10m admin-0, German point of view (Crimea in Ukraine): a
  finer Europe file (44 countries), then a coarser world file (250 units).
* geoBoundaries UKR ADM1: 24 oblasts, the Autonomous Republic of Crimea
  (UA-43), Kyiv city (UA-30, ``shapeName`` "Kyiv") and Sevastopol (UA-40).
* Natural Earth 10m admin-1 (states, provinces) of every other country: 4,827
  units with their ISO 3166-2 codes (NE's own ``XX-X01~`` codes where ISO has
  none), simplified by <= 0.01 degrees (~1 km) along shared borders, as
  GeoParquet (WKB).  Ukraine is left out of it: Ukrainian units always come
  from geoBoundaries.  NE's first level is the level its sources chose: some
  countries are split finer than their ISO first level (GB counties and
  unitary authorities, FR departements, IT provinces, CZ districts, ...).
* Crimea: the union of UA-43 and UA-40.

Import note: `sites` imports this module lazily (inside functions), because
sampling here needs the city list from `sites`.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from ..errors import InputFileError, ScenarioError
from ..inputs import excerpt, read_input_bytes, short_repr
from .names import data_path, fold_name, suggest

__all__ = [
    "Region",
    "load_region",
    "read_geojson_region",
    "points_in_region",
    "admin1_of",
    "admin1_codes_of",
    "admin1_regions",
    "country_of",
    "sovereign_of_dependencies",
    "place_codes",
    "countries_in_box",
    "admin1_codes_in_box",
]

_EUROPE = ("boundaries", "ne_10m_admin0_deu-pov_europe_simplified.geojson")
_WORLD = ("boundaries", "ne_10m_admin0_deu-pov_world_simplified.geojson")
_UKR_ADM1 = ("boundaries", "geoboundaries_ukr_adm1_simplified.geojson")
_CRIMEA = ("boundaries", "crimea_geoboundaries.geojson")
#: Natural Earth 10m admin-1 of every country but Ukraine (GeoParquet; see SOURCES.md).
_WORLD_ADM1 = ("boundaries", "ne_10m_admin1_world_simplified.parquet")
#: How far (degrees, ~11 km) `admin1_regions` looks for the nearest unit of a site's own
#: country when the site lies in none: the admin-0 and admin-1 files are simplified
#: differently (0.05 and 0.01 degrees), so a coastal place can fall between them.
_ADMIN1_SNAP_DEG = 0.1

#: Admin-1 border files by the ISO alpha-2 country they cover.
_ADM1_FILES = {"UA": _UKR_ADM1}

_POLYGONAL = ("Polygon", "MultiPolygon")


@dataclass(frozen=True, eq=False)
class Region:
    """A named area on the ground.

    Attributes
    ----------
    name : str
        Human name (``"Ukraine"``, ``"Kharkiv Oblast"``, ``"Crimea"``, a file's stem).
    geometry : shapely Polygon or MultiPolygon
        ``(lon_deg, lat_deg)`` coordinates, WGS84; prepared.
    source : str
        Where it came from: the spec and the file.
    code : str
        ISO code when known (``"UA"``, ``"UA-63"``), else ``""``.
    """

    name: str
    geometry: BaseGeometry
    source: str
    code: str = ""

    def __post_init__(self) -> None:
        shapely.prepare(self.geometry)

    @property
    def bounds_deg(self) -> tuple[float, float, float, float]:
        """``(lon_min, lat_min, lon_max, lat_max)``, degrees."""
        return tuple(float(v) for v in self.geometry.bounds)

    def contains(self, lat_deg: ArrayLike, lon_deg: ArrayLike) -> NDArray[np.bool_]:
        """Same as `points_in_region` (self, lat_deg, lon_deg)."""
        return points_in_region(self, lat_deg, lon_deg)


# --------------------------------------------------------------------------
# GeoJSON at the edge
# --------------------------------------------------------------------------


def _read_json(path: str):
    # A FIFO, device, socket or directory is refused before it is read.
    raw = read_input_bytes(
        path, "a GeoJSON file", "file not found; check the path (relative paths are taken from the working directory)."
    )
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark is accepted
    except UnicodeDecodeError as exc:
        raise InputFileError(
            path, f"is not UTF-8 text ({exc.reason} at byte {exc.start}); a GeoJSON file (RFC 7946) is UTF-8 JSON. "
            "Is it a shapefile or a zip? Convert it with `ogr2ogr -f GeoJSON out.geojson in.shp`."
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFileError(
            path,
            f"is not JSON ({exc.msg} at column {exc.colno}; the file starts with {excerpt(text)!r}). "
            "Give a GeoJSON FeatureCollection, Feature or Polygon/MultiPolygon geometry.",
            line=exc.lineno,
        ) from None
    except RecursionError:
        raise InputFileError(path, "nests JSON arrays or objects too deeply to read; a GeoJSON Polygon is 3 levels of "
                             "arrays ([[[lon, lat], ...]]), a MultiPolygon 4.") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits (Python's int limit)
        raise InputFileError(
            path, f"holds a number JSON cannot read ({excerpt(str(exc), 80)}); coordinates are [lon, lat] in degrees."
        ) from None


def _geojson_features(path: str, doc) -> list[tuple[dict, dict, str]]:
    """``[(properties, geometry mapping, where)]`` of a GeoJSON document."""
    if not isinstance(doc, dict) or "type" not in doc:
        raise InputFileError(
            path, f"holds JSON {type(doc).__name__}, not a GeoJSON object with a 'type' member; give a FeatureCollection, "
            "Feature or Polygon/MultiPolygon geometry (RFC 7946)."
        )
    kind = doc["type"]
    if kind == "FeatureCollection":
        feats = doc.get("features")
        if not isinstance(feats, list) or not feats:
            raise InputFileError(path, "is a FeatureCollection with no features; add at least one Polygon feature.")
        out = []
        for k, feat in enumerate(feats):
            if not isinstance(feat, dict) or feat.get("type") != "Feature":
                raise InputFileError(path, f"features[{k}] is not a GeoJSON Feature object; each member needs \"type\": \"Feature\".")
            out.append((_properties(path, feat, f"features[{k}]"), feat.get("geometry"), f"features[{k}]"))
        return out
    if kind == "Feature":
        return [(_properties(path, doc, "the feature"), doc.get("geometry"), "the feature")]
    return [({}, doc, "the geometry")]


_JSON_KIND = {str: "string", list: "array", int: "number", float: "number", bool: "boolean"}


def _properties(path: str, feature: dict, where: str) -> dict:
    props = feature.get("properties")
    if props is not None and not isinstance(props, dict):
        raise InputFileError(
            path, f"{where}: \"properties\" is a JSON {_JSON_KIND.get(type(props), type(props).__name__)} "
            f"({short_repr(props)}); GeoJSON (RFC 7946) "
            "needs an object such as {\"name\": \"...\"}, or null."
        )
    return props or {}


def _check_geometry(path: str, mapping, where: str, props: dict) -> BaseGeometry:
    label = _feature_label(props)
    label = f" ({excerpt(label)})" if label else ""
    if not isinstance(mapping, dict) or "type" not in mapping:
        raise InputFileError(path, f"{where}{label} has no geometry; give it a Polygon or MultiPolygon.")
    kind = mapping["type"]
    if kind not in _POLYGONAL:
        shown = excerpt(kind) if isinstance(kind, str) else f"JSON {_JSON_KIND.get(type(kind), 'value')} {short_repr(kind)}"
        raise InputFileError(
            path,
            f"{where}{label} is a {shown}, but a region must be an area: a Polygon or MultiPolygon. "
            + (
                "A LineString is a border line; close it into a ring (first point = last point) and write it as a Polygon."
                if kind in ("LineString", "MultiLineString")
                else "Draw the area as a polygon."
            ),
        )
    try:
        geom = shape(mapping)
    except Exception as exc:  # shapely/GEOS raise several types for malformed coordinates
        raise InputFileError(
            path, f"{where}{label}: the {kind} coordinates cannot be read ({excerpt(str(exc), 80)}); a Polygon is a list of closed rings "
            "of [lon, lat] pairs."
        ) from None
    if geom.is_empty:
        raise InputFileError(path, f"{where}{label}: the {kind} is empty; give it at least one ring.")
    x0, y0, x1, y1 = geom.bounds
    if not (-180.0 <= x0 and x1 <= 180.0 and -90.0 <= y0 and y1 <= 90.0):
        raise InputFileError(
            path,
            f"{where}{label}: coordinates span lon {x0:g}..{x1:g}, lat {y0:g}..{y1:g}, outside WGS84 degrees. "
            "GeoJSON must be [lon, lat] in degrees (RFC 7946); reproject the file to EPSG:4326.",
        )
    if not shapely.is_valid(geom):
        raise InputFileError(
            path,
            f"{where}{label}: invalid {kind}: {excerpt(shapely.is_valid_reason(geom), 80)}. leonet does not repair geometry silently; "
            "fix it (QGIS 'Fix geometries', or shapely.make_valid and check the result) and save the file again.",
        )
    return geom


def _repair_shipped(path: str, geom: BaseGeometry, where: str, label: str) -> BaseGeometry:
    """Repair a *shipped* border whose simplification left it invalid.

    The world file was simplified without topology preservation, which left
    nine units invalid (Chile, China, Russia, Norway, Kuwait, Canada, Japan,
    French Polynesia, Maldives: rings touching themselves after rounding).
    They are repaired with ``buffer(0)`` (else ``shapely.make_valid``, keeping
    the polygonal parts); the repair must not change the area by more than 1e-6 (relative),
    else loading fails.  This is written down in ``leonet/data/SOURCES.md`` and
    checked by ``tests/ground/test_regions.py``.  User files are never repaired.
    """
    def same_area(g) -> bool:
        return g.is_valid and g.geom_type in _POLYGONAL and abs(g.area - geom.area) <= 1e-6 * geom.area

    fixed = shapely.buffer(geom, 0.0)  # fast; checked below, since buffer(0) may drop a bow-tie's half
    if not same_area(fixed):
        made = shapely.make_valid(geom)
        polys = [q for p in shapely.get_parts(made) if p.geom_type in _POLYGONAL for q in shapely.get_parts(p)]
        fixed = shapely.MultiPolygon(polys) if len(polys) != 1 else polys[0]
    if not same_area(fixed):
        raise InputFileError(
            path,
            f"{where}{label}: invalid geometry ({shapely.is_valid_reason(geom)}) that make_valid cannot repair without "
            "changing its area; the shipped file is damaged, restore it from leonet/data/SOURCES.md.",
        )
    return fixed


def _feature_label(props: dict) -> str:
    for key in ("name", "NAME", "shapeName", "ADMIN", "NAME_EN"):
        if props.get(key):
            return str(props[key])
    return ""


def read_geojson_region(path: str | os.PathLike, name: str | None = None) -> Region:
    """A region from any GeoJSON file: the union of its polygon features.

    Parameters
    ----------
    path : path-like
        FeatureCollection, Feature or bare geometry; every geometry must be
        a valid Polygon or MultiPolygon in WGS84 ``[lon, lat]`` degrees.
    name : str, optional
        Default: the feature's ``name`` property when there is one feature,
        else the file's stem.

    Raises
    ------
    InputFileError
        For an unreadable or non-JSON file, a geometry that is not a
        (Multi)Polygon, invalid or projected geometry; the message names the
        file, the feature and what was found.
    """
    path = os.fspath(path)
    doc = _read_json(path)
    feats = _geojson_features(path, doc)
    geoms = [_check_geometry(path, g, where, props) for props, g, where in feats]
    geom = geoms[0] if len(geoms) == 1 else shapely.union_all(geoms)
    if name is None:
        label = _feature_label(feats[0][0]) if len(feats) == 1 else ""
        name = label or Path(path).stem
    return Region(name=name, geometry=geom, source=path)


# --------------------------------------------------------------------------
# Shipped borders
# --------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _shipped(parts: tuple[str, ...]) -> tuple[list[dict], list[BaseGeometry], NDArray[np.float64]]:
    """Properties, prepared geometries and planar areas of a shipped border file.

    Shipped files are trusted to be FeatureCollections of (Multi)Polygons, so
    GEOS parses the whole file at once (``shapely.from_geojson``, ~4x faster
    than building each feature with ``shape``); user files go through
    `read_geojson_region`, which checks every feature.  A ``.parquet`` file is
    GeoParquet with a WKB ``geometry`` column: the world admin-1 file is read
    that way because parsing it as GeoJSON takes ~10x longer (see SOURCES.md).
    """
    path = str(data_path(*parts))
    if path.endswith(".parquet"):
        props, geoms = _read_geoparquet(path)
    else:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        props = [feat.get("properties") or {} for feat in json.loads(text)["features"]]
        geoms = list(shapely.get_parts(shapely.from_geojson(text)))
    if len(geoms) != len(props) or any(g.geom_type not in _POLYGONAL for g in geoms):
        raise InputFileError(path, "the shipped border file is damaged; restore it (see leonet/data/SOURCES.md).")
    for k in np.flatnonzero(~shapely.is_valid(geoms)).tolist():
        label = _feature_label(props[k])
        geoms[k] = _repair_shipped(path, geoms[k], f"features[{k}]", f" ({label})" if label else "")
    for g in geoms:
        shapely.prepare(g)
    return props, geoms, np.array([g.area for g in geoms])


def _read_geoparquet(path: str) -> tuple[list[dict], list[BaseGeometry]]:
    """Rows (without the geometry) and geometries of a shipped GeoParquet file."""
    import pyarrow.parquet as pq  # lazy: only the world admin-1 file needs it

    try:
        table = pq.ParquetFile(path).read()  # not pq.read_table: its dataset layer costs ~0.4 s to import
        # to_pylist, not to_numpy: ChunkedArray.to_numpy imports pandas (~0.8 s).
        geoms = list(shapely.from_wkb(np.array(table.column("geometry").to_pylist(), dtype=object)))
        props = table.drop_columns(["geometry"]).to_pylist()
    except (OSError, ValueError, shapely.errors.GEOSException) as exc:  # ArrowInvalid is a ValueError
        raise InputFileError(
            path, f"the shipped border file cannot be read ({excerpt(str(exc), 80)}); restore it (see leonet/data/SOURCES.md)."
        ) from None
    return props, geoms


@lru_cache(maxsize=8)
def _tree(parts: tuple[str, ...]) -> shapely.STRtree:
    """R-tree (STR packed) over the bounding boxes of a shipped file's polygons."""
    return shapely.STRtree(_shipped(parts)[1])


def _iso2(props: dict) -> str:
    for key in ("ISO_A2_EH", "ISO_A2"):
        v = str(props.get(key, "-99"))
        if v != "-99":
            return v
    return ""


def _country(value: str, spec: str) -> Region:
    want = value.strip()
    if not want:
        raise ScenarioError(f"region spec {spec!r} names no country; write e.g. 'country:UA'.")
    up = want.upper()
    folded = fold_name(want)
    for parts in (_EUROPE, _WORLD):
        props, geoms, _ = _shipped(parts)
        hits = [
            k
            for k, p in enumerate(props)
            if up in (str(p.get("ISO_A2")), str(p.get("ISO_A2_EH")), str(p.get("ADM0_A3")), str(p.get("ISO_A3")))
            or folded in (fold_name(str(p.get("NAME", ""))), fold_name(str(p.get("NAME_EN", ""))), fold_name(str(p.get("ADMIN", ""))))
        ]
        if hits:
            geom = geoms[hits[0]] if len(hits) == 1 else shapely.union_all([geoms[k] for k in hits])
            p = props[hits[0]]
            return Region(
                name=str(p.get("NAME", want)),
                geometry=geom,
                source=f"{spec} (Natural Earth 10m admin-0, DEU view: {parts[1]})",
                code=_iso2(p),
            )
    props, _, _ = _shipped(_WORLD)
    choices = [str(p.get("NAME", "")) for p in props] + [_iso2(p) for p in props]
    close = suggest(want, [c for c in choices if c])
    raise ScenarioError(
        f"no country {want!r} in the shipped Natural Earth borders; "
        + (f"close matches: {', '.join(close)}. " if close else "")
        + "Use an ISO 3166-1 alpha-2 code ('country:UA'), an alpha-3 code ('country:UKR') or the English name."
    )


def _ua_hits(want: str) -> list[int]:
    """geoBoundaries UKR ADM1 features matching a name or ISO code (empty: none)."""
    props, _, _ = _shipped(_UKR_ADM1)
    names = [str(p.get("shapeName", "")) for p in props]
    folded = fold_name(want)
    # Exact name or ISO code first ("Kyiv" is the city, UA-30), then "<name> Oblast".
    hits = [k for k, p in enumerate(props) if str(p.get("shapeISO", "")).upper() == want.upper()]
    hits = hits or [k for k, n in enumerate(names) if fold_name(n) == folded]
    return hits or [k for k, n in enumerate(names) if fold_name(n) == folded + " oblast"]


def _ua_region(k: int, spec: str) -> Region:
    props, geoms, _ = _shipped(_UKR_ADM1)
    return Region(
        name=str(props[k].get("shapeName", "")),
        geometry=geoms[k],
        source=f"{spec} (geoBoundaries gbOpen UA ADM1: {_UKR_ADM1[1]})",
        code=str(props[k].get("shapeISO", "")),
    )


def _ua_close(want: str) -> list[str]:
    props, _, _ = _shipped(_UKR_ADM1)
    names = [str(p.get("shapeName", "")) for p in props]
    full = {n: n for n in names} | {n.removesuffix(" Oblast"): n for n in names}
    return list(dict.fromkeys(full[c] for c in suggest(want, full)))


def _admin1(value: str, spec: str, country: str = "UA") -> Region:
    want = value.strip()
    hits = _ua_hits(want)
    if not hits:
        close = _ua_close(want)
        raise ScenarioError(
            f"no first-level unit {want!r} in the shipped geoBoundaries {country} ADM1 borders; "
            + (f"close matches: {', '.join(close)}. " if close else "")
            + "Write 'oblast:<shapeName>' (e.g. 'oblast:Kharkiv', 'oblast:Kyiv Oblast'; 'oblast:Kyiv' is Kyiv city) "
            "or 'admin1:<ISO 3166-2>' (e.g. 'admin1:UA-63')."
        )
    return _ua_region(hits[0], spec)


# --------------------------------------------------------------------------
# First-level units world-wide (Natural Earth 10m admin-1)
# --------------------------------------------------------------------------

_ADMIN1_FORMS = (
    "Write 'admin1:<ISO 3166-2 code>' (e.g. 'admin1:BR-RJ', 'admin1:US-CA', 'admin1:UA-63') or "
    "'admin1:<country>/<unit name>' (e.g. 'admin1:BR/Rio de Janeiro', 'admin1:Germany/Bayern'; the country as an "
    "ISO alpha-2 or alpha-3 code or its English name)."
)


@lru_cache(maxsize=1)
def _world_index() -> tuple[dict[str, int], dict[str, list[int]], dict[str, str]]:
    """Lookups of the world admin-1 file.

    Returns ``(by ISO 3166-2 code, feature indices by ISO alpha-2 country,
    ISO alpha-2 by folded country code or name)``.
    """
    props, _, _ = _shipped(_WORLD_ADM1)
    by_code: dict[str, int] = {}
    by_country: dict[str, list[int]] = {}
    country_key: dict[str, str] = {}
    for k, p in enumerate(props):
        by_code.setdefault(str(p["iso_3166_2"]).upper(), k)
        # NE writes iso_a2 = -1 for units of no ISO country (Dhekelia, Spratly Is.): keyed by adm0_a3.
        iso2 = str(p["iso_a2"]) if str(p["iso_a2"]) not in ("-1", "-99", "") else str(p["adm0_a3"])
        by_country.setdefault(iso2.upper(), []).append(k)
        for key in (iso2, str(p["adm0_a3"]), str(p["admin"])):
            country_key.setdefault(fold_name(key), iso2.upper())
    return by_code, by_country, country_key


@lru_cache(maxsize=1)
def sovereign_of_dependencies() -> dict[str, str]:
    """ISO alpha-2 of each dependency in the shipped borders -> ISO alpha-2 of its sovereign country.

    From Natural Earth's admin-0 ``TYPE`` ("Dependency") and ``SOVEREIGNT``
    (the sovereign's ``ADMIN`` name): Norfolk Island -> AU, Guam -> US,
    Pitcairn -> GB.  Disputed and indeterminate territories are left out on
    purpose: a sovereign there is a political claim, not a service fact.

    Examples
    --------
    >>> deps = sovereign_of_dependencies()
    >>> deps["NF"], deps["GU"], "PS" in deps
    ('AU', 'US', False)
    """
    props, _, _ = _shipped(_WORLD)
    by_admin = {str(p.get("ADMIN")): _iso2(p) for p in props if str(p.get("TYPE")) in ("Sovereign country", "Country")}
    out: dict[str, str] = {}
    for p in props:
        iso2, sovereign = _iso2(p), by_admin.get(str(p.get("SOVEREIGNT")), "")
        if str(p.get("TYPE")) == "Dependency" and iso2 and sovereign and sovereign != iso2:
            out.setdefault(iso2, sovereign)
    return out


def place_codes() -> tuple[frozenset[str], frozenset[str]]:
    """The ISO 3166-1 alpha-2 country codes and ISO 3166-2 subdivision codes the shipped borders know.

    >>> countries, regions = place_codes()
    >>> "UA" in countries, "US-WA" in regions, "XX" in countries
    (True, True, False)
    """
    by_code, by_country, _ = _world_index()
    # Ukraine's units come from geoBoundaries (`_admin1`), not the world file.
    return frozenset(by_country) | {"UA"}, frozenset(by_code)


def _unit_name(p: dict) -> str:
    """A world unit's label: its NE name, else its code (6 NE placeholder units have no name)."""
    return str(p["name"]) or str(p["iso_3166_2"])


def _world_region(k: int, spec: str) -> Region:
    props, geoms, _ = _shipped(_WORLD_ADM1)
    p = props[k]
    return Region(
        name=_unit_name(p),
        geometry=geoms[k],
        source=f"{spec} (Natural Earth 10m admin-1, {p['admin']}: {_WORLD_ADM1[1]})",
        code=str(p["iso_3166_2"]),
    )


def _labels(ks: Sequence[int]) -> list[str]:
    props, _, _ = _shipped(_WORLD_ADM1)
    return [f"{props[k]['iso_3166_2']} ({props[k]['name']}, {props[k]['admin']})" for k in ks]


def _country_iso2(country: str, spec: str) -> str:
    """ISO alpha-2 code of the country part of ``admin1:<country>/<name>``."""
    _, by_country, country_key = _world_index()
    iso2 = country_key.get(fold_name(country))
    if iso2 is None and fold_name(country) in ("ua", "ukr", "ukraine"):
        iso2 = "UA"
    if iso2 is None:
        try:  # the admin-0 files know more spellings ("Czech Republic", ISO_A2_EH codes)
            iso2 = _country(country, spec).code.upper() or None
        except ScenarioError:
            iso2 = None
    if iso2 is None or (iso2 not in by_country and iso2 != "UA"):
        props, _, _ = _shipped(_WORLD_ADM1)
        close = suggest(country, sorted({str(p["admin"]) for p in props}))
        raise ScenarioError(
            f"region spec {spec!r}: no country {country.strip()!r} in the shipped admin-1 borders; "
            + (f"close matches: {', '.join(close)}. " if close else "")
            + _ADMIN1_FORMS
        )
    return iso2


def _admin1_world(value: str, spec: str) -> Region:
    """A first-level unit by ISO 3166-2 code, ``<country>/<name>`` or bare name (see `load_region`)."""
    want = value.strip()
    if not want:
        raise ScenarioError(f"region spec {spec!r} names no first-level unit. " + _ADMIN1_FORMS)
    up = want.upper()
    head, dash, _ = up.partition("-")
    is_code = bool(dash) and len(head) == 2 and head.isalpha() and "/" not in want
    if is_code and head == "UA":
        return _admin1(want, spec)  # Ukraine: geoBoundaries, as before; the world file is not read
    if "/" in want and fold_name(want.partition("/")[0]) in ("ua", "ukr", "ukraine"):
        return _admin1(want.partition("/")[2], spec)
    if not is_code and "/" not in want:
        ua = _ua_hits(want)  # a bare name: Ukrainian units first, as before
        if ua:
            return _ua_region(ua[0], spec)
    props, _, _ = _shipped(_WORLD_ADM1)
    by_code, by_country, _ = _world_index()
    if "/" in want:
        country, _, name = (t.strip() for t in want.partition("/"))
        iso2 = _country_iso2(country, spec)
        if iso2 == "UA":
            return _admin1(name, spec)
        units = by_country[iso2]
        folded = fold_name(name)
        hits = [k for k in units if fold_name(str(props[k]["name"])) == folded]
        if len(hits) == 1:
            return _world_region(hits[0], spec)
        if hits:
            raise ScenarioError(
                f"region spec {spec!r}: {len(hits)} units of {props[hits[0]]['admin']} are named {name!r}: "
                f"{', '.join(_labels(hits))}; name one by its code ('admin1:{props[hits[0]]['iso_3166_2']}')."
            )
        close = suggest(name, [str(props[k]["name"]) for k in units])
        raise ScenarioError(
            f"region spec {spec!r}: no first-level unit {name!r} in {props[units[0]]['admin']} (Natural Earth admin-1); "
            + (f"close matches: {', '.join(close)}. " if close else f"its units are e.g. {', '.join(_labels(units[:5]))}. ")
            + _ADMIN1_FORMS
        )
    if is_code:
        if up in by_code:
            return _world_region(by_code[up], spec)
        same = by_country.get(head, [])
        codes = [str(props[k]["iso_3166_2"]) for k in same]
        close = [c for c in suggest(up, codes) if c in by_code]
        hint = (
            f"close matches: {', '.join(_labels([by_code[c] for c in close]))}. "
            if close
            else (f"{head} has {len(same)} units, e.g. {', '.join(_labels(same[:5]))}. " if same else f"no country {head!r} has admin-1 units here. ")
        )
        raise ScenarioError(f"region spec {spec!r}: no first-level unit with ISO 3166-2 code {want!r}; " + hint + _ADMIN1_FORMS)
    if up in by_code:  # an NE placeholder code without a country prefix ("-99-X16~", Dhekelia)
        return _world_region(by_code[up], spec)
    if up in by_country or up == "UA":
        raise ScenarioError(
            f"region spec {spec!r} names a country, not a first-level unit; for the whole country write 'country:{want}'. "
            + _ADMIN1_FORMS
        )
    # A bare name that no Ukrainian unit has: the one unit world-wide with that name.
    folded = fold_name(want)
    hits = [k for k, p in enumerate(props) if fold_name(str(p["name"])) == folded]
    if len(hits) == 1:
        return _world_region(hits[0], spec)
    if hits:
        raise ScenarioError(
            f"region spec {spec!r}: {len(hits)} first-level units are named {want!r}: {', '.join(_labels(hits[:8]))}; "
            "give the code or the country ('admin1:<country>/<name>')."
        )
    names = [str(p["name"]) for p in props]
    close_world = suggest(want, names)
    close_ua = _ua_close(want)
    shown = [f"{n} (UA)" for n in close_ua] + [
        lbl for n in close_world for lbl in _labels([k for k, m in enumerate(names) if m == n][:2])
    ]
    raise ScenarioError(
        f"region spec {spec!r}: no first-level unit named {want!r}; "
        + (f"close matches: {', '.join(shown[:8])}. " if shown else "")
        + _ADMIN1_FORMS
    )


def load_region(spec: str | os.PathLike | Region) -> Region:
    """A region from a short spec or a GeoJSON file.

    Parameters
    ----------
    spec : str, path-like or Region
        * ``"country:UA"`` -- ISO alpha-2 (also alpha-3 or the English name)
          from the shipped Natural Earth Europe file, else the world file.
          NE writes ``ISO_A2 = -99`` for some countries (France, Norway), so
          ``ISO_A2_EH``, ``ADM0_A3`` and ``NAME`` are matched too.
        * ``"oblast:Kharkiv"`` or ``"admin1:UA-63"`` -- a geoBoundaries UKR
          ADM1 unit by ``shapeName`` (case- and accent-insensitive; the
          " Oblast" suffix may be left out) or ``shapeISO``.  An exact name
          wins: ``"oblast:Kyiv"`` is Kyiv *city* (UA-30); Kyiv Oblast is
          ``"oblast:Kyiv Oblast"`` or ``"admin1:UA-32"``.  ``oblast:`` is
          Ukraine only.
        * ``"admin1:BR-RJ"`` -- a first-level unit of any other country by its
          ISO 3166-2 code (case-insensitive), from the shipped Natural Earth
          10m admin-1 file.  Units ISO gives no code carry NE's own
          (``"admin1:PF-X03~"``).  A ``UA-`` code is always geoBoundaries.
        * ``"admin1:<country>/<name>"`` -- e.g. ``"admin1:BR/Rio de Janeiro"``,
          ``"admin1:Germany/bayern"``: the country as ISO alpha-2, alpha-3 or
          English name, the unit by its Natural Earth name (case- and
          accent-insensitive; NE's names are English for some countries
          -- "Masovian" -- and local for others -- "Bayern", "São Paulo";
          English exonyms of the latter are not known here).  ``"admin1:UA/<name>"`` is the geoBoundaries unit.
        * ``"admin1:<name>"`` -- a bare name: a Ukrainian unit if one matches
          (as ``oblast:``), else the one unit world-wide with that name; a
          name several countries use ("Punjab") is an error that lists them.
        * ``"crimea"`` -- the shipped Crimea polygon (UA-43 + UA-40).
        * a path to a GeoJSON file (see `read_geojson_region`).
        * a `Region`, returned as is.

    Returns
    -------
    Region

    Raises
    ------
    ScenarioError
        For an unknown name (close matches listed) or spec form.
    InputFileError
        For a GeoJSON file that cannot be used.

    Examples
    --------
    >>> load_region("country:UA").name
    'Ukraine'
    >>> load_region("admin1:UA-63").name
    'Kharkiv Oblast'
    >>> r = load_region("admin1:BR-RJ")
    >>> r.name, r.code
    ('Rio de Janeiro', 'BR-RJ')
    >>> load_region("admin1:Brazil/rio de janeiro").code
    'BR-RJ'
    """
    if isinstance(spec, Region):
        return spec
    if isinstance(spec, os.PathLike):
        return read_geojson_region(spec)
    if not isinstance(spec, str):
        raise ScenarioError(f"a region spec must be a string or a path, not {type(spec).__name__} ({spec!r}).")
    text = spec.strip()
    prefix, colon, rest = text.partition(":")
    key = prefix.strip().lower()
    if colon and key == "country":
        return _country(rest, text)
    if colon and key == "oblast":
        return _admin1(rest, text)
    if colon and key == "admin1":
        return _admin1_world(rest, text)
    if text.lower() == "crimea":
        props, geoms, _ = _shipped(_CRIMEA)
        geom = geoms[0] if len(geoms) == 1 else shapely.union_all(geoms)
        return Region(name="Crimea", geometry=geom, source=f"crimea ({_CRIMEA[1]})", code="UA-43+UA-40")
    looks_like_file = text.lower().endswith((".json", ".geojson")) or os.sep in text or "/" in text or os.path.exists(text)
    if looks_like_file:
        return read_geojson_region(text)
    raise ScenarioError(
        f"cannot read region spec {short_repr(spec)}. Use 'country:<ISO2>' (e.g. 'country:UA'), 'oblast:<name>' "
        "(e.g. 'oblast:Kharkiv'), 'admin1:<ISO 3166-2>' (e.g. 'admin1:UA-63', 'admin1:BR-RJ'), "
        "'admin1:<country>/<name>' (e.g. 'admin1:BR/Rio de Janeiro'), 'crimea', or the path of a .geojson file."
    )


# --------------------------------------------------------------------------
# Points
# --------------------------------------------------------------------------


def points_in_region(region: Region, lat_deg: ArrayLike, lon_deg: ArrayLike) -> NDArray[np.bool_]:
    """Which points lie inside a region.

    Parameters
    ----------
    region : Region
    lat_deg, lon_deg : float64[...], degrees
        Broadcastable.

    Returns
    -------
    inside : bool[...]
        False on the boundary and for NaN coordinates.

    Notes
    -----
    ``shapely.contains_xy`` on the prepared geometry: no Point objects are
    created, ~1 microsecond per point for the shipped borders.
    """
    lat = np.asarray(lat_deg, dtype=np.float64)
    lon = np.asarray(lon_deg, dtype=np.float64)
    return shapely.contains_xy(region.geometry, lon, lat)


def _which_polygon(parts: tuple[str, ...], lat: NDArray, lon: NDArray, pick: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Index of the smallest polygon of a shipped file that holds each point (-1: none).

    Simplified borders overlap in thin slivers; the smallest containing unit
    wins, so that an enclave (a city inside its oblast) is found first.
    """
    _, geoms, areas = _shipped(parts)
    out = np.full(lat.shape, -1, dtype=np.int64)
    best = np.full(lat.shape, np.inf)
    idx = np.flatnonzero(pick)
    if idx.size == 0:
        return out
    for k, g in enumerate(geoms):
        inside = shapely.contains_xy(g, lon[idx], lat[idx]) & (areas[k] < best[idx])
        hit = idx[inside]
        out[hit] = k
        best[hit] = areas[k]
    return out


def _locate(parts: tuple[str, ...], lat: NDArray, lon: NDArray, pick: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Same as `_which_polygon`, through the file's R-tree (for files of thousands of polygons).

    The tree gives each point the polygons whose bounding box holds it; each
    candidate polygon then tests its points at once on its prepared geometry.
    """
    _, geoms, areas = _shipped(parts)
    out = np.full(lat.shape, -1, dtype=np.int64)
    idx = np.flatnonzero(pick & np.isfinite(lat) & np.isfinite(lon))
    if idx.size == 0:
        return out
    pt, poly = _tree(parts).query(shapely.points(lon[idx], lat[idx]))
    inside = np.zeros(pt.size, dtype=bool)
    order = np.argsort(poly, kind="stable")
    pt, poly = pt[order], poly[order]
    bounds = np.flatnonzero(np.diff(poly)) + 1
    for a, b in zip(np.concatenate(([0], bounds)), np.concatenate((bounds, [poly.size]))):
        if a == b:
            continue
        sel = idx[pt[a:b]]
        inside[a:b] = shapely.contains_xy(geoms[poly[a]], lon[sel], lat[sel])
    pt, poly = pt[inside], poly[inside]
    best = np.full(idx.size, np.inf)
    for p_, k in zip(pt.tolist(), poly.tolist()):  # smallest containing polygon wins (an enclave over its host)
        if areas[k] < best[p_]:
            best[p_] = areas[k]
            out[idx[p_]] = k
    return out


def _world_units(lat: NDArray, lon: NDArray, pick: NDArray[np.bool_], country: NDArray | None = None) -> NDArray[np.int64]:
    """World admin-1 feature of each picked point (-1: none).

    With `country` (ISO alpha-2 per point, ``""`` unknown), a unit of another
    country is not accepted: a point a simplified border puts on the wrong
    side gets ``""`` rather than the neighbour's unit.
    """
    k = _locate(_WORLD_ADM1, lat, lon, pick)
    if country is not None:
        props, _, _ = _shipped(_WORLD_ADM1)
        unit_country = np.array([str(props[i]["iso_a2"]) if i >= 0 else "" for i in k.tolist()], dtype=object)
        k[(k >= 0) & (country != "") & (unit_country != country)] = -1
    return k


def admin1_of(lat_deg: ArrayLike, lon_deg: ArrayLike, *, world: bool = False) -> list[str]:
    """First-level unit name of each point: Ukrainian oblasts, or every country's units.

    Parameters
    ----------
    lat_deg, lon_deg : float64[N], degrees
    world : bool
        False (default): the geoBoundaries ``shapeName`` of Ukrainian units,
        ``""`` outside Ukraine.  True: points in no Ukrainian unit take the
        Natural Earth admin-1 ``name`` of the unit that holds them (``""`` at
        sea).

    Returns
    -------
    list of str, [N]
        E.g. ``"Kharkiv Oblast"``, ``"Kyiv"`` (the city, UA-30),
        ``"Autonomous Republic of Crimea"``, with `world` also
        ``"Masovian"``, ``"Rio de Janeiro"``.

    Examples
    --------
    >>> admin1_of([50.45466, 49.98177], [30.5238, 36.25475])
    ['Kyiv', 'Kharkiv Oblast']
    >>> admin1_of([50.45466, -22.90642, 52.22977], [30.5238, -43.18223, 21.01178], world=True)
    ['Kyiv', 'Rio de Janeiro', 'Masovian']
    """
    lat = np.atleast_1d(np.asarray(lat_deg, dtype=np.float64)).ravel()
    lon = np.atleast_1d(np.asarray(lon_deg, dtype=np.float64)).ravel()
    props, _, _ = _shipped(_UKR_ADM1)
    k = _which_polygon(_UKR_ADM1, lat, lon, np.ones(lat.shape, dtype=bool))
    out = [str(props[i]["shapeName"]) if i >= 0 else "" for i in k.tolist()]
    if world and (k < 0).any():
        wprops, _, _ = _shipped(_WORLD_ADM1)
        w = _world_units(lat, lon, k < 0)
        for g in np.flatnonzero(w >= 0).tolist():
            out[g] = _unit_name(wprops[w[g]])
    return out


def admin1_codes_of(lat_deg: ArrayLike, lon_deg: ArrayLike) -> list[str]:
    """ISO 3166-2 code of the first-level unit of each point, world-wide.

    Ukrainian units come from geoBoundaries (``shapeISO``), every other
    country's from Natural Earth admin-1 (NE's ``XX-X01~`` codes where ISO has
    none); ``""`` at sea.  `load_region` (``"admin1:<code>"``) gives the unit
    back.

    Parameters
    ----------
    lat_deg, lon_deg : float64[N], degrees

    Returns
    -------
    list of str, [N]

    Examples
    --------
    >>> admin1_codes_of([49.98177, -22.90642, -23.5475, 0.0], [36.25475, -43.18223, -46.63611, -30.0])
    ['UA-63', 'BR-RJ', 'BR-SP', '']
    """
    lat = np.atleast_1d(np.asarray(lat_deg, dtype=np.float64)).ravel()
    lon = np.atleast_1d(np.asarray(lon_deg, dtype=np.float64)).ravel()
    props, _, _ = _shipped(_UKR_ADM1)
    k = _which_polygon(_UKR_ADM1, lat, lon, np.ones(lat.shape, dtype=bool))
    out = [str(props[i]["shapeISO"]) if i >= 0 else "" for i in k.tolist()]
    if (k < 0).any():
        wprops, _, _ = _shipped(_WORLD_ADM1)
        w = _world_units(lat, lon, k < 0)
        for g in np.flatnonzero(w >= 0).tolist():
            out[g] = str(wprops[w[g]]["iso_3166_2"])
    return out


def admin1_regions(
    lat_deg: NDArray[np.float64],
    lon_deg: NDArray[np.float64],
    country_iso2: Sequence[str],
    admin1_code: Sequence[str] | None,
    *,
    world: bool = False,
) -> list[str]:
    """First-level unit names for sites, from the shipped admin-1 borders.

    A site gets the ``shapeName`` of the admin-1 polygon that holds it when
    its country is covered by a shipped admin-1 file (only Ukraine today) or
    unknown (``""``).  A site of a covered country that falls in no polygon
    (a coastal town lost to border simplification) gets, when `admin1_code`
    is given, the name most sites with its GeoNames admin-1 code received:
    the code -> oblast table is *learnt from the data* by point in polygon,
    never typed by hand.  Everything else is ``""``.

    With ``world=True``, every site still without a name after that -- the
    sites of other countries, and sites of unknown country outside Ukraine --
    takes the Natural Earth admin-1 ``name`` of the unit that holds it, if
    that unit belongs to the site's country (or the country is unknown); the
    same learnt GeoNames-code table (per country) fills the coastal misses,
    and a site of a known country still in no unit takes that country's
    nearest unit within 0.1 degrees (~11 km; a coastal place the simplified
    borders cut off).  The world file is read only when such a site exists,
    so a run inside Ukraine never loads it.

    Parameters
    ----------
    lat_deg, lon_deg : float64[N], degrees
    country_iso2 : sequence of str, [N]
    admin1_code : sequence of str, [N], optional
    world : bool
        Label sites outside Ukraine too (default False: ``""``).

    Returns
    -------
    list of str, [N]
    """
    lat = np.asarray(lat_deg, dtype=np.float64)
    lon = np.asarray(lon_deg, dtype=np.float64)
    country = np.array([c.upper() for c in country_iso2], dtype=object)
    out = [""] * len(lat)
    for iso2, parts in _ADM1_FILES.items():
        props, _, _ = _shipped(parts)
        pick = (country == iso2) | (country == "")
        k = _which_polygon(parts, lat, lon, pick)
        for g in np.flatnonzero(k >= 0).tolist():
            out[g] = str(props[k[g]]["shapeName"])
        if admin1_code is not None:
            votes: dict[str, Counter] = {}
            for g in np.flatnonzero((k >= 0) & (country == iso2)).tolist():
                votes.setdefault(admin1_code[g], Counter())[out[g]] += 1
            table = {code: c.most_common(1)[0][0] for code, c in votes.items()}
            for g in np.flatnonzero((k < 0) & (country == iso2)).tolist():
                out[g] = table.get(admin1_code[g], "")
    if not world:
        return out
    covered = np.isin(country, list(_ADM1_FILES))
    todo = np.array([not o for o in out], dtype=bool) & ~covered
    if not todo.any():
        return out
    props, _, _ = _shipped(_WORLD_ADM1)
    k = _world_units(lat, lon, todo, country)
    for g in np.flatnonzero(k >= 0).tolist():
        out[g] = _unit_name(props[k[g]])
    if admin1_code is not None:
        votes2: dict[tuple[str, str], Counter] = {}
        for g in np.flatnonzero((k >= 0) & (country != "")).tolist():
            votes2.setdefault((country[g], admin1_code[g]), Counter())[out[g]] += 1
        table2 = {key: c.most_common(1)[0][0] for key, c in votes2.items()}
        for g in np.flatnonzero(todo & (k < 0) & (country != "")).tolist():
            out[g] = table2.get((country[g], admin1_code[g]), "")
    # A site of a known country still in no unit is a coastal or riverside place the simplified
    # borders cut off (the admin-0 file is simplified differently): it takes its country's
    # nearest unit within _ADMIN1_SNAP_DEG.
    miss = np.flatnonzero(todo & (country != "") & np.array([not o for o in out], dtype=bool))
    if miss.size:
        pts = shapely.points(lon[miss], lat[miss])
        pairs = _tree(_WORLD_ADM1).query_nearest(pts, max_distance=_ADMIN1_SNAP_DEG, all_matches=False)
        for a, k2 in zip(pairs[0].tolist(), pairs[1].tolist()):
            if str(props[k2]["iso_a2"]) == country[miss[a]]:
                out[miss[a]] = _unit_name(props[k2])
    return out


def country_of(lat_deg: ArrayLike, lon_deg: ArrayLike, *, snap_deg: float = 0.1) -> list[str]:
    """ISO 3166-1 alpha-2 country of each point, from the shipped Natural Earth borders.

    The finer Europe file is tried first, then the world file.  A point in no
    polygon (a coastal site lost to simplification) takes the country of the
    nearest polygon within `snap_deg` degrees, else ``""``.

    Parameters
    ----------
    lat_deg, lon_deg : float64[N], degrees
    snap_deg : float, degrees

    Returns
    -------
    list of str, [N]
    """
    lat = np.atleast_1d(np.asarray(lat_deg, dtype=np.float64)).ravel()
    lon = np.atleast_1d(np.asarray(lon_deg, dtype=np.float64)).ravel()
    out = [""] * len(lat)
    todo = np.ones(len(lat), dtype=bool)
    for parts in (_EUROPE, _WORLD):
        props, _, _ = _shipped(parts)
        k = _which_polygon(parts, lat, lon, todo)
        for g in np.flatnonzero(k >= 0).tolist():
            out[g] = _iso2(props[k[g]])
        todo &= k < 0
    if todo.any():
        props, geoms, _ = _shipped(_WORLD)
        tree = shapely.STRtree(geoms)
        idx = np.flatnonzero(todo)
        pts = shapely.points(lon[idx], lat[idx])
        pairs = tree.query_nearest(pts, max_distance=snap_deg, all_matches=False)
        for p, k in zip(pairs[0].tolist(), pairs[1].tolist()):
            out[idx[p]] = _iso2(props[k])
    return out


# --------------------------------------------------------------------------
# Whole boxes: one answer for every point of a longitude/latitude box
# --------------------------------------------------------------------------


def countries_in_box(lon0_deg: float, lat0_deg: float, lon1_deg: float, lat1_deg: float, *,
                     snap_deg: float = 0.1) -> set[str]:
    """Every answer `country_of` can give for a point of a closed longitude/latitude box (a superset).

    One element when the box lies in the interior of one polygon of the
    Europe file (touching no other), or touches no Europe polygon and lies in
    the interior of one world polygon; ``{""}`` at open sea (farther than
    ``snap_deg`` from every world polygon); for a coastal sea within reach of
    one coast only, that coast's country when every point of the box is
    within ``snap_deg`` of it (its centre is, by more than half the box's
    diagonal: distance is 1-Lipschitz).  Otherwise the countries of every
    polygon the box touches or could snap to, with ``""`` unless the box is
    smaller than ``snap_deg`` and touches a world polygon (then every point
    is in a polygon or within reach of one).  So ``country_of(p)`` is in the
    set for any point ``p`` of the box (tested point by point).

    Examples
    --------
    >>> countries_in_box(30.25, 50.25, 30.5, 50.5), countries_in_box(-30.25, 0.0, -30.0, 0.25)   # near Kyiv; mid-Atlantic
    ({'UA'}, {''})
    >>> sorted(countries_in_box(23.5, 51.0, 24.5, 52.0))      # the Polish-Ukrainian border runs through it
    ['', 'BY', 'PL', 'UA']
    """
    box = shapely.box(lon0_deg, lat0_deg, lon1_deg, lat1_deg)
    europe = _box_hits(_EUROPE, box)
    if len(europe) == 1 and shapely.contains_properly(_shipped(_EUROPE)[1][europe[0]], box):
        return {_iso2(_shipped(_EUROPE)[0][europe[0]])}
    world = _box_hits(_WORLD, box)
    if not europe and len(world) == 1 and shapely.contains_properly(_shipped(_WORLD)[1][world[0]], box):
        return {_iso2(_shipped(_WORLD)[0][world[0]])}
    near = _tree(_WORLD).query(box, predicate="dwithin", distance=float(snap_deg) * (1.0 + 1e-9) + 1e-12).tolist()
    diagonal = float(np.hypot(lon1_deg - lon0_deg, lat1_deg - lat0_deg))
    if not europe and not world:
        if not near:
            return {""}
        if len(near) == 1:
            centre = shapely.points(0.5 * (lon0_deg + lon1_deg), 0.5 * (lat0_deg + lat1_deg))
            if float(shapely.distance(_shipped(_WORLD)[1][near[0]], centre)) < float(snap_deg) - 0.5 * diagonal - 1e-9:
                return {_iso2(_shipped(_WORLD)[0][near[0]])}
    out = {_iso2(_shipped(_EUROPE)[0][k]) for k in europe} | {_iso2(_shipped(_WORLD)[0][k]) for k in near}
    if not (world and diagonal < float(snap_deg)):
        out.add("")
    return out


def admin1_codes_in_box(lon0_deg: float, lat0_deg: float, lon1_deg: float, lat1_deg: float) -> set[str]:
    """Every answer `admin1_codes_of` can give for a point of a closed longitude/latitude box (a superset).

    One code when the box lies in the interior of one Ukrainian unit
    (touching no other), or touches none and lies in the interior of one
    world admin-1 unit; ``{""}`` when it touches no unit (sea); else the
    codes of every unit it touches, and ``""``.

    Examples
    --------
    >>> admin1_codes_in_box(36.0, 49.75, 36.25, 50.0)     # inside Kharkiv oblast
    {'UA-63'}
    """
    box = shapely.box(lon0_deg, lat0_deg, lon1_deg, lat1_deg)
    ukraine = _box_hits(_UKR_ADM1, box)
    if len(ukraine) == 1 and shapely.contains_properly(_shipped(_UKR_ADM1)[1][ukraine[0]], box):
        return {str(_shipped(_UKR_ADM1)[0][ukraine[0]]["shapeISO"])}
    world = _box_hits(_WORLD_ADM1, box)
    if not ukraine and len(world) == 1 and shapely.contains_properly(_shipped(_WORLD_ADM1)[1][world[0]], box):
        return {str(_shipped(_WORLD_ADM1)[0][world[0]]["iso_3166_2"])}
    return ({str(_shipped(_UKR_ADM1)[0][k]["shapeISO"]) for k in ukraine}
            | {str(_shipped(_WORLD_ADM1)[0][k]["iso_3166_2"]) for k in world} | {""})


def _box_hits(parts: tuple[str, ...], box: BaseGeometry) -> list[int]:
    """Polygons of a shipped file that a box touches (closed sets intersect)."""
    return _tree(parts).query(box, predicate="intersects").tolist()
