"""Map geometry of the report, from the shipped borders only (no basemap, no network).

The representation
------------------
The map is a plain cartesian plot: x is longitude and y latitude, in degrees,
with the y axis scaled by ``1 / cos(latitude at the middle of the view)`` so
that the picture is the equirectangular projection whose standard parallel
runs through the middle of the view: lengths are true along that parallel
and along meridians.  At Ukraine's latitudes (44-52 deg N) east-west lengths
are then off by at most ~10 % at the edges of the view.

A set of outlines is one `Lines` value: ``lon_deg`` and ``lat_deg`` are
``float32[N]`` with NaN between rings, which plotly.js draws as gaps (and,
with ``fill="toself"``, fills ring by ring).  Why not plotly's own maps:
``scattergeo`` and ``choropleth`` fetch the world topojson from
``cdn.plot.ly`` when drawn, and ``scattermap`` fetches tiles; neither works
offline, and neither shows the borders leonet itself uses to place
terminals and apply service-area rules.  Drawing the shipped polygons as
``scatter`` lines keeps the report one self-contained file and guarantees
that a terminal drawn inside an oblast is the terminal the run counted
there.

Countries come from the Natural Earth Europe file where it has the country
(finer), else from the world file; admin-1 units (oblasts) from
geoBoundaries for the countries leonet ships them for.  Everything is
clipped to a box a little larger than the view and simplified to about a
thousandth of the view's size, so outlines cost tens of kB, not MB.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from numpy.typing import NDArray

from ..ground.sites import data_path

__all__ = ["View", "Lines", "view_of", "country_outlines", "admin1_outlines", "region_outline", "EUROPE_FILE", "WORLD_FILE"]

EUROPE_FILE = ("boundaries", "ne_10m_admin0_deu-pov_europe_simplified.geojson")
WORLD_FILE = ("boundaries", "ne_10m_admin0_deu-pov_world_simplified.geojson")
ADM1_FILES = {"UA": ("boundaries", "geoboundaries_ukr_adm1_simplified.geojson")}

#: Views narrower than this (deg) are widened, so a single terminal still
#: shows its surroundings.
MIN_SPAN_DEG = 8.0
#: Margin around the sites, as a share of the sites' extent.
PAD_SHARE = 0.08
#: Outline simplification tolerance, as a share of the view's larger span.
SIMPLIFY_SHARE = 1.0 / 1200.0


@dataclass(frozen=True)
class View:
    """The map's window: longitude/latitude ranges, degrees."""

    lon_min_deg: float
    lon_max_deg: float
    lat_min_deg: float
    lat_max_deg: float

    @property
    def mid_lat_deg(self) -> float:
        return 0.5 * (self.lat_min_deg + self.lat_max_deg)

    @property
    def y_scale(self) -> float:
        """Screen length of one degree of latitude / one degree of longitude."""
        return 1.0 / max(math.cos(math.radians(self.mid_lat_deg)), 0.2)

    @property
    def aspect(self) -> float:
        """Width / height of the view on screen."""
        return (self.lon_max_deg - self.lon_min_deg) / ((self.lat_max_deg - self.lat_min_deg) * self.y_scale)

    def box(self, margin_share: float = 0.0):
        dx = (self.lon_max_deg - self.lon_min_deg) * margin_share
        dy = (self.lat_max_deg - self.lat_min_deg) * margin_share
        return shapely.box(self.lon_min_deg - dx, self.lat_min_deg - dy, self.lon_max_deg + dx, self.lat_max_deg + dy)

    def contains(self, lat_deg, lon_deg, margin_share: float = 0.0) -> NDArray[np.bool_]:
        dx = (self.lon_max_deg - self.lon_min_deg) * margin_share
        dy = (self.lat_max_deg - self.lat_min_deg) * margin_share
        lat = np.asarray(lat_deg)
        lon = np.asarray(lon_deg)
        return (
            (lon >= self.lon_min_deg - dx)
            & (lon <= self.lon_max_deg + dx)
            & (lat >= self.lat_min_deg - dy)
            & (lat <= self.lat_max_deg + dy)
        )

    def widened(self, aspect: float) -> "View":
        """The view grown in one direction (never shrunk) to show at ``aspect`` (width / height)."""
        if self.aspect < aspect:
            half = 0.5 * aspect * (self.lat_max_deg - self.lat_min_deg) * self.y_scale
            mid = 0.5 * (self.lon_min_deg + self.lon_max_deg)
            lo, hi = mid - half, mid + half
            if hi - lo >= 360.0:
                lo, hi = -180.0, 180.0
            elif lo < -180.0:
                lo, hi = -180.0, hi - (lo + 180.0)
            elif hi > 180.0:
                lo, hi = lo - (hi - 180.0), 180.0
            return View(lo, hi, self.lat_min_deg, self.lat_max_deg)
        # Taller: grow latitude; y_scale changes with the middle latitude,
        # which stays put, so one step is exact.
        half = 0.5 * (self.lon_max_deg - self.lon_min_deg) / (aspect * self.y_scale)
        mid = self.mid_lat_deg
        lo, hi = max(mid - half, -85.0), min(mid + half, 85.0)
        return View(self.lon_min_deg, self.lon_max_deg, lo, hi)

    @property
    def tolerance_deg(self) -> float:
        return max(self.lon_max_deg - self.lon_min_deg, self.lat_max_deg - self.lat_min_deg) * SIMPLIFY_SHARE


WORLD = View(-180.0, 180.0, -65.0, 80.0)


def view_of(lat_deg, lon_deg) -> View:
    """A view around points (the ground sites), padded; the world if they span most of it.

    Parameters
    ----------
    lat_deg, lon_deg : float64[N], deg
        Empty: the world.
    """
    lat = np.asarray(lat_deg, dtype=np.float64)
    lon = np.asarray(lon_deg, dtype=np.float64)
    ok = np.isfinite(lat) & np.isfinite(lon)
    lat, lon = lat[ok], lon[ok]
    if lat.size == 0:
        return WORLD
    lo_x, hi_x = float(lon.min()), float(lon.max())
    lo_y, hi_y = float(lat.min()), float(lat.max())
    if hi_x - lo_x > 200.0 or hi_y - lo_y > 110.0:
        return WORLD
    pad_x = max((hi_x - lo_x) * PAD_SHARE, 0.5 * max(MIN_SPAN_DEG - (hi_x - lo_x), 0.0), 1.0)
    pad_y = max((hi_y - lo_y) * PAD_SHARE, 0.5 * max(MIN_SPAN_DEG * 0.6 - (hi_y - lo_y), 0.0), 1.0)
    return View(
        max(lo_x - pad_x, -180.0), min(hi_x + pad_x, 180.0), max(lo_y - pad_y, -85.0), min(hi_y + pad_y, 85.0)
    )


@dataclass(frozen=True)
class Lines:
    """Outlines as one polyline: ``float32[N]`` degrees, NaN between rings."""

    lon_deg: NDArray[np.float32]
    lat_deg: NDArray[np.float32]

    def __len__(self) -> int:
        return int(self.lon_deg.size)


def _lines(geoms) -> Lines:
    xs: list[NDArray] = []
    ys: list[NDArray] = []
    for geom in geoms:
        if geom is None or geom.is_empty:
            continue
        for ring in _rings(geom):
            c = np.asarray(ring.coords, dtype=np.float64)
            if len(c) < 2:
                continue
            xs += [c[:, 0], np.array([np.nan])]
            ys += [c[:, 1], np.array([np.nan])]
    if not xs:
        return Lines(np.empty(0, np.float32), np.empty(0, np.float32))
    return Lines(np.concatenate(xs).astype(np.float32), np.concatenate(ys).astype(np.float32))


def _rings(geom):
    kind = geom.geom_type
    if kind == "Polygon":
        yield geom.exterior
        yield from geom.interiors
    elif kind in ("LineString", "LinearRing"):
        yield geom
    elif hasattr(geom, "geoms"):
        for part in geom.geoms:
            yield from _rings(part)


@lru_cache(maxsize=8)
def _features(parts: tuple[str, ...]) -> tuple[tuple[dict, ...], tuple]:
    text = data_path(*parts).read_text(encoding="utf-8")
    props = tuple(feat.get("properties") or {} for feat in json.loads(text)["features"])
    geoms = tuple(shapely.get_parts(shapely.from_geojson(text)))
    return props, geoms


def _clip(geoms, view: View):
    box = view.box(0.05)
    tol = view.tolerance_deg
    out = []
    for g in geoms:
        if not g.intersects(box):
            continue
        if not g.is_valid:
            g = shapely.make_valid(g)
        g = g.intersection(box)
        if g.is_empty:
            continue
        out.append(g.simplify(tol, preserve_topology=True))
    return out


def country_outlines(view: View) -> Lines:
    """Country borders (polygons: land) inside the view."""
    eu_props, eu_geoms = _features(EUROPE_FILE)
    w_props, w_geoms = _features(WORLD_FILE)
    in_europe = {p.get("ADM0_A3") for p in eu_props}
    geoms = list(eu_geoms) + [g for p, g in zip(w_props, w_geoms) if p.get("ADM0_A3") not in in_europe]
    return _lines(_clip(geoms, view))


#: Admin-1 borders are drawn only in views smaller than this (deg), where
#: they can be told apart.
ADMIN1_MAX_SPAN_DEG = 60.0


def admin1_outlines(view: View) -> Lines:
    """Admin-1 borders (oblasts) of every country leonet ships them for, in a regional view."""
    if max(view.lon_max_deg - view.lon_min_deg, view.lat_max_deg - view.lat_min_deg) > ADMIN1_MAX_SPAN_DEG:
        return _lines([])
    geoms = []
    for parts in ADM1_FILES.values():
        geoms += list(_features(parts)[1])
    return _lines(_clip(geoms, view))


def region_outline(geometry, view: View) -> Lines:
    """The outline of one region (a service-area rule's polygon), clipped to the view."""
    return _lines(_clip([geometry], view))
