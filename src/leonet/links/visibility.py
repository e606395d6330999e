"""Which satellites a ground site sees: elevation, azimuth, slant range, and the search.

This is leonet's one visibility engine.  Runs (`leonet.engine.network`,
`leonet.scheduling.assign`), ``leonet visible`` (`visible_from`) and the tests
all use it.  What turns a visible pair into a ground-satellite link (antenna
counts, delays) is in `leonet.links.gsl`.

The representation
------------------
Ground sites are fixed in ECEF, so their geometry is computed once, in a
`SiteGeometry`: positions ``r_ecef_km[G, 3]``, the local east/north/up basis
``enu[G, 3, 3]`` (``up[G, 3]`` kept contiguous for the hot path) and the sine
of each site's elevation mask.  Satellite positions of one time step are
``r_sat_ecef_km: float64[S, 3]`` (ECEF km; a run's ``[T, S, 3]`` is searched
one step at a time).  The visible pairs of a step are a `GroundLinks`: four
parallel arrays of length ``K``, one entry per (site, satellite) pair at or
above the mask, sorted by site then satellite::

    site[K]            int32, index into the sites
    sat[K]             int32, index into the satellites
    range_km[K]        float64, slant range, km
    sin_elevation[K]   float64, sine of the geodetic elevation angle

A pair that is not visible is *absent*.

Geometry
--------
Elevation is *geodetic*: the angle between the line of sight
``d = r_sat - r_site`` and the plane tangent to the WGS84 ellipsoid at the
site, ``sin(el) = (d . up) / |d|``, with ``up`` from
`leonet.orbits.frames.enu_basis`.  This is what Skyfield's
``(sat - topos).at(t).altaz()`` reports (without refraction) and what a dish
levelled on the ground measures (tests compare to Skyfield).  Azimuth is
clockwise from geodetic north.  No refraction, no terrain and no polar motion
(< 15 m) are modelled.

A pair is *visible* when ``sin(elevation) >= sin(mask)``, where the mask of a
pair is the larger of the site's mask and the satellite's (a user terminal
under a shell whose operator flies it at 25 deg uses ``max(25, own)``).
Sines are compared, not angles: no ``arcsin`` in the hot path, and the sine
is monotonic on [-90, 90] deg, so the order is the same.  NaN masks (PoPs,
which have no radio) and NaN satellite positions (SGP4 failures) are never
visible.

The search
----------
A dense ``[G, S]`` test is 10^8 pairs for 10,000 terminals under 10,000
satellites.  Instead, k-d trees (`scipy.spatial.cKDTree`) of the sites (built
once per `SiteGeometry`) and of the satellites (once per step) give the pairs
closer than the largest slant range any visible pair can have
(`search_radius_km`, from `max_slant_range_km`); only those candidates get
the exact test.  Up to 100,000 pairs every pair is tested directly, which is
cheaper than building a tree.  Both searches give identical bits (tested).
Cost per step is O(S log S + K); `visible_links` gives measured times.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

from ..constants import C_KM_S
from ..errors import ScenarioError
from ..orbits.frames import enu_basis, geodetic_to_ecef
from ..orbits.propagate import positions_at

if TYPE_CHECKING:
    import pyarrow as pa

    from ..orbits.constellation import Constellation

__all__ = [
    "SiteGeometry",
    "GroundLinks",
    "VisibleSatellites",
    "max_slant_range_km",
    "search_radius_km",
    "candidate_pairs",
    "pair_sin_elevation",
    "pair_look_angles",
    "visible_links",
    "visible_from",
]

#: Margin (deg) taken off the smallest mask when sizing the k-d tree search
#: radius: geodetic and geocentric elevations differ by up to 0.19 deg, and
#: the radius formula is geocentric.
_RADIUS_MARGIN_DEG = 0.5
_RADIUS_MARGIN_KM = 1.0
#: Up to this many (site, satellite) pairs, every pair is tested directly
#: (no k-d tree): ~1 ms, less than building a tree of 10,000 satellites.
_DENSE_PAIRS = 100_000
#: Satellites farther than this from the Earth's centre mean positions in metres.
_MAX_SAT_RADIUS_KM = 1.0e6


# --------------------------------------------------------------------------
# Sites and pairs
# --------------------------------------------------------------------------


def max_slant_range_km(
    site_radius_km: ArrayLike, sat_radius_km: ArrayLike, elevation_deg: ArrayLike
) -> NDArray[np.float64]:
    """Slant range from a site to a satellite seen at a geocentric elevation.

    Parameters
    ----------
    site_radius_km, sat_radius_km : float64[...], km
        Distances of the site and the satellite from the Earth's centre.
    elevation_deg : float64[...], degrees
        Elevation measured from the plane normal to the site's radius vector.

    Returns
    -------
    range_km : float64[...], km
        0 where ``sat_radius_km <= site_radius_km`` (such a satellite is never
        above the site's geocentric horizon).

    Notes
    -----
    Law of cosines in the triangle centre-site-satellite:
    ``rs^2 = rg^2 + rho^2 + 2 rg rho sin(e)``, so
    ``rho = -rg sin e + sqrt(rg^2 sin^2 e + rs^2 - rg^2)``.  The range
    decreases with the elevation and with the site's radius and grows with
    the satellite's radius, so the lowest mask, the lowest site and the
    highest satellite bound every pair: that sizes the search radius.

    Examples
    --------
    >>> round(float(max_slant_range_km(6378.137, 6378.137 + 550.0, 90.0)), 6)  # zenith
    550.0
    >>> round(float(max_slant_range_km(6371.0, 6371.0 + 550.0, 25.0)), 1)     # Starlink shell 1
    1123.3
    """
    rg = np.asarray(site_radius_km, dtype=np.float64)
    rs = np.asarray(sat_radius_km, dtype=np.float64)
    s = np.sin(np.radians(np.asarray(elevation_deg, dtype=np.float64)))
    above = rs > rg
    rho = -rg * s + np.sqrt(np.where(above, rg * rg * s * s + rs * rs - rg * rg, 0.0))
    return np.where(above, rho, 0.0)


@dataclass(frozen=True, eq=False)
class SiteGeometry:
    """Fixed geometry of G ground sites, computed once.

    Attributes
    ----------
    r_ecef_km : float64[G, 3], km, ECEF
    up : float64[G, 3]
        Geodetic up (ellipsoid normal) unit vectors, ECEF.
    min_elevation_deg : float64[G], degrees
        Elevation masks; NaN = the site never links to a satellite.
    sin_mask : float64[G]
        ``sin(min_elevation_deg)``; +inf where the mask is NaN.
    enu : float64[G, 3, 3]
        East, north, up unit vectors (rows), ECEF (`leonet.orbits.frames.enu_basis`).
    """

    r_ecef_km: NDArray[np.float64]
    up: NDArray[np.float64]
    min_elevation_deg: NDArray[np.float64]
    sin_mask: NDArray[np.float64]
    enu: NDArray[np.float64]

    @classmethod
    def from_lat_lon(
        cls,
        lat_deg: ArrayLike,
        lon_deg: ArrayLike,
        min_elevation_deg: ArrayLike,
        altitude_km: ArrayLike = 0.0,
    ) -> SiteGeometry:
        """Geometry of sites given by WGS84 geodetic coordinates (degrees, km).

        Examples
        --------
        >>> geo = SiteGeometry.from_lat_lon([0.0, 50.45], [0.0, 30.52], 25.0)
        >>> len(geo), geo.r_ecef_km.shape, geo.enu.shape, geo.up[0].round(12).tolist()
        (2, (2, 3), (2, 3, 3), [1.0, 0.0, 0.0])
        """
        lat = np.atleast_1d(np.asarray(lat_deg, dtype=np.float64))
        lon = np.atleast_1d(np.asarray(lon_deg, dtype=np.float64))
        r = geodetic_to_ecef(lat, lon, altitude_km).reshape(-1, 3)
        mask = np.broadcast_to(np.asarray(min_elevation_deg, dtype=np.float64), lat.shape).copy()
        enu = np.ascontiguousarray(enu_basis(lat, lon).reshape(-1, 3, 3))
        up = np.ascontiguousarray(enu[:, 2, :])
        sin_mask = np.where(np.isnan(mask), np.inf, np.sin(np.radians(np.nan_to_num(mask))))
        return cls(np.ascontiguousarray(r), up, mask, sin_mask, enu)

    @classmethod
    def from_sites(cls, sites, min_elevation_deg: ArrayLike | None = None) -> SiteGeometry:
        """Geometry of a `leonet.ground.sites.GroundSites` (its own masks unless overridden)."""
        mask = sites.min_elevation_deg if min_elevation_deg is None else min_elevation_deg
        return cls.from_lat_lon(sites.lat_deg, sites.lon_deg, mask, sites.altitude_km)

    def __len__(self) -> int:
        return int(self.r_ecef_km.shape[0])

    def take(self, index: NDArray) -> SiteGeometry:
        """The sites at ``index`` (integer or boolean index), same values."""
        return SiteGeometry(
            np.ascontiguousarray(self.r_ecef_km[index]), np.ascontiguousarray(self.up[index]),
            self.min_elevation_deg[index], self.sin_mask[index], np.ascontiguousarray(self.enu[index]),
        )

    def moved(self, r_ecef_km: NDArray[np.float64], enu: NDArray[np.float64]) -> SiteGeometry:
        """The same sites and masks at other positions (moving terminals at one instant).

        Parameters
        ----------
        r_ecef_km : float64[G, 3], km, ECEF
        enu : float64[G, 3, 3]
            Their local bases (`leonet.orbits.frames.enu_basis`); NaN rows
            (no position) see no satellite.
        """
        return SiteGeometry(np.ascontiguousarray(r_ecef_km), np.ascontiguousarray(enu[:, 2, :]),
                            self.min_elevation_deg, self.sin_mask, enu)

    @cached_property
    def tree(self) -> cKDTree:
        """k-d tree of the site positions (built on first use)."""
        return cKDTree(self.r_ecef_km)


@dataclass(frozen=True, eq=False)
class GroundLinks:
    """The visible (site, satellite) pairs of one time step, sorted by site then satellite.

    Attributes
    ----------
    site, sat : int32[K]
    range_km : float64[K], km
    sin_elevation : float64[K]
    """

    site: NDArray[np.int32]
    sat: NDArray[np.int32]
    range_km: NDArray[np.float64]
    sin_elevation: NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.site.shape[0])

    @property
    def delay_s(self) -> NDArray[np.float64]:
        """float64[K]: one-way propagation delay in vacuum, ``range / c``, s (`leonet.links.gsl.one_way_delay_s`)."""
        return self.range_km / C_KM_S

    @property
    def elevation_deg(self) -> NDArray[np.float64]:
        """float64[K]: geodetic elevation, degrees (``arcsin``; `pair_look_angles` is exact at the zenith)."""
        return np.degrees(np.arcsin(np.clip(self.sin_elevation, -1.0, 1.0)))

    def take(self, index: NDArray) -> GroundLinks:
        """The pairs at ``index`` (an integer or boolean index into the K pairs)."""
        return GroundLinks(self.site[index], self.sat[index], self.range_km[index], self.sin_elevation[index])


def pair_sin_elevation(
    sites: SiteGeometry, site: NDArray, r_sat_ecef_km: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Slant range and sine of elevation of given (site, satellite position) pairs.

    Parameters
    ----------
    sites : SiteGeometry
    site : int[K]
        Site of each pair.
    r_sat_ecef_km : float64[..., K, 3], km, ECEF
        Satellite position of each pair (leading axes broadcast, e.g. time).

    Returns
    -------
    range_km, sin_elevation : float64[..., K]
        NaN where the satellite position is NaN.

    Notes
    -----
    Written out component by component (no ``einsum``/BLAS), so each pair's
    result does not depend on how many pairs are computed together: results
    are bit-identical however a run is chunked.

    Examples
    --------
    >>> geo = SiteGeometry.from_lat_lon([0.0], [0.0], 25.0)
    >>> rng, sin_el = pair_sin_elevation(geo, np.array([0]), geodetic_to_ecef([0.0], [0.0], 550.0))
    >>> rng.shape, round(float(rng[0]), 6), round(float(sin_el[0]), 12)
    ((1,), 550.0, 1.0)
    """
    p = sites.r_ecef_km[site]
    u = sites.up[site]
    dx = r_sat_ecef_km[..., 0] - p[:, 0]
    dy = r_sat_ecef_km[..., 1] - p[:, 1]
    dz = r_sat_ecef_km[..., 2] - p[:, 2]
    rng = np.sqrt(dx * dx + dy * dy + dz * dz)
    sin_el = (dx * u[:, 0] + dy * u[:, 1] + dz * u[:, 2]) / rng
    return rng, sin_el


def pair_look_angles(
    sites: SiteGeometry, site: NDArray, r_sat_ecef_km: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Elevation, azimuth and slant range of given (site, satellite position) pairs.

    Parameters
    ----------
    sites : SiteGeometry
    site : int[K]
        Site of each pair.
    r_sat_ecef_km : float64[..., K, 3], km, ECEF
        Satellite position of each pair (leading axes broadcast, e.g. time).

    Returns
    -------
    elevation_deg : float64[..., K], degrees
        Geodetic elevation, in [-90, 90].
    azimuth_deg : float64[..., K], degrees
        Clockwise from geodetic north, in [0, 360).
    range_km : float64[..., K], km
        The same bits as `pair_sin_elevation`'s.  All three are NaN where the
        satellite position is NaN.

    Notes
    -----
    Elevation is ``atan2(up, hypot(east, north))``, which stays accurate at
    the zenith, where ``arcsin(up / |d|)`` loses half its digits.  For the
    elevation of *every* satellite from a few sites, pass every pair:
    ``site = np.repeat(np.arange(G), S)`` with positions ``np.tile(r, (G, 1))``.
    Component by component, like `pair_sin_elevation`.

    Examples
    --------
    >>> geo = SiteGeometry.from_lat_lon([0.0], [0.0], 25.0)
    >>> east = geo.r_ecef_km[0] + 1000.0 * geo.enu[0, 0]     # on the horizon, due east
    >>> el, az, rng = pair_look_angles(geo, np.array([0]), east[None, :])
    >>> round(float(el[0]), 9), round(float(az[0]), 9), round(float(rng[0]), 9)
    (0.0, 90.0, 1000.0)
    """
    p = sites.r_ecef_km[site]
    b = sites.enu[site]
    dx = r_sat_ecef_km[..., 0] - p[:, 0]
    dy = r_sat_ecef_km[..., 1] - p[:, 1]
    dz = r_sat_ecef_km[..., 2] - p[:, 2]
    rng = np.sqrt(dx * dx + dy * dy + dz * dz)
    e = dx * b[:, 0, 0] + dy * b[:, 0, 1] + dz * b[:, 0, 2]
    n = dx * b[:, 1, 0] + dy * b[:, 1, 1] + dz * b[:, 1, 2]
    u = dx * b[:, 2, 0] + dy * b[:, 2, 1] + dz * b[:, 2, 2]
    elevation = np.degrees(np.arctan2(u, np.hypot(e, n)))
    azimuth = np.degrees(np.arctan2(e, n)) % 360.0
    return elevation, azimuth, rng


# --------------------------------------------------------------------------
# The search
# --------------------------------------------------------------------------


def _empty_links() -> GroundLinks:
    return GroundLinks(
        np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.float64), np.zeros(0, np.float64)
    )


def candidate_pairs(
    sites: SiteGeometry, r_sat_ecef_km: NDArray[np.float64], radius_km: float
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Every (site, satellite) pair closer than ``radius_km`` (k-d trees), unsorted.

    Parameters
    ----------
    sites : SiteGeometry
    r_sat_ecef_km : float64[S, 3], km, ECEF
    radius_km : float, km
        Straight-line (ECEF) distance.

    Returns
    -------
    site, sat : int64[C]
        Candidate pairs, in no particular order.

    Notes
    -----
    The sites' tree is built once per `SiteGeometry` and kept; the
    satellites' tree once per call.  Satellites with NaN positions are left
    out.

    Examples
    --------
    >>> geo = SiteGeometry.from_lat_lon([0.0], [0.0], 25.0)
    >>> site, sat = candidate_pairs(geo, geodetic_to_ecef([0.0, 0.0], [0.0, 60.0], 550.0), 2000.0)
    >>> site.tolist(), sat.tolist()
    ([0], [0])
    """
    ok = np.isfinite(r_sat_ecef_km).all(axis=1)
    if len(sites) == 0 or not ok.any():
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    all_ok = bool(ok.all())
    pts = r_sat_ecef_km if all_ok else r_sat_ecef_km[ok]
    tree = cKDTree(pts, balanced_tree=False, compact_nodes=False)
    hits = sites.tree.sparse_distance_matrix(tree, radius_km, output_type="ndarray")
    site = hits["i"].astype(np.int64)
    sat = hits["j"].astype(np.int64)
    if not all_ok:
        sat = np.flatnonzero(ok)[sat]
    return site, sat


def search_radius_km(sites: SiteGeometry, r_sat_ecef_km: NDArray[np.float64], sin_mask_sat: NDArray | None) -> float:
    """Largest slant range any pair can have and still be visible, km (plus margins).

    Parameters
    ----------
    sites : SiteGeometry
    r_sat_ecef_km : float64[S, 3], km, ECEF
    sin_mask_sat : float64[S] or None
        Sines of the satellites' own masks.

    Returns
    -------
    float, km
        `max_slant_range_km` of the lowest site, the highest satellite and the
        lowest pair mask less `_RADIUS_MARGIN_DEG`, plus `_RADIUS_MARGIN_KM`;
        0 when no pair can be visible.

    Raises
    ------
    ScenarioError
        A satellite lies farther than 10^6 km from the Earth's centre (positions in metres?).

    Examples
    --------
    >>> geo = SiteGeometry.from_lat_lon([0.0], [0.0], 25.0)
    >>> round(search_radius_km(geo, geodetic_to_ecef([0.0], [0.0], 550.0), None), 1)  # 24.5 deg at 550 km, + 1 km
    1139.5
    """
    finite = np.isfinite(sites.sin_mask)
    if not finite.any():
        return 0.0
    sin_low = sites.sin_mask[finite].min()
    if sin_mask_sat is not None and sin_mask_sat.size:
        # The pair mask is max(site, satellite): the lowest pair mask is at
        # least the lowest satellite mask.
        sin_low = max(sin_low, float(np.min(sin_mask_sat)))
    low_deg = np.degrees(np.arcsin(min(sin_low, 1.0))) - _RADIUS_MARGIN_DEG
    rs = np.sqrt(np.nanmax(np.einsum("si,si->s", r_sat_ecef_km, r_sat_ecef_km)))
    rg = np.sqrt(np.min(np.einsum("gi,gi->g", sites.r_ecef_km, sites.r_ecef_km)))
    _check_sat_radius(rs)
    if not np.isfinite(rs) or rs <= rg:
        return 0.0
    return float(max_slant_range_km(rg, rs, low_deg)) + _RADIUS_MARGIN_KM


def _check_sat_radius(largest_radius_km: float) -> None:
    """The unit check: ECEF km of orbiting satellites stay well below 10^6 km."""
    if largest_radius_km > _MAX_SAT_RADIUS_KM:
        raise ScenarioError(
            f"a satellite lies {largest_radius_km:.4g} km from the Earth's centre; ECEF positions in km of orbiting "
            "satellites lie between ~6,500 and ~50,000 km. Are they in metres? Give r_sat_ecef_km in km."
        )


def _check_step(r_sat_ecef_km, sin_mask_sat) -> None:
    """Shapes of `visible_links`' inputs (O(1): the hot path trusts the values)."""
    r = r_sat_ecef_km
    if getattr(r, "ndim", None) != 2 or r.shape[-1] != 3:
        shape = getattr(r, "shape", type(r).__name__)
        hint = " For T steps, call it once per step with r_sat_ecef_km[t]." if getattr(r, "ndim", 0) == 3 else ""
        raise ScenarioError(
            f"r_sat_ecef_km has shape {shape}; visible_links takes one step, float64[S, 3] "
            f"(satellite, xyz in km, ECEF).{hint}"
        )
    if sin_mask_sat is not None and np.shape(sin_mask_sat) != (r.shape[0],):
        raise ScenarioError(
            f"sin_mask_sat has shape {np.shape(sin_mask_sat)}; give the sine of one mask per satellite, "
            f"float64[{r.shape[0]}], or None."
        )


def visible_links(
    sites: SiteGeometry,
    r_sat_ecef_km: NDArray[np.float64],
    sin_mask_sat: NDArray[np.float64] | None = None,
) -> GroundLinks:
    """All (site, satellite) pairs at or above their elevation mask at one time step.

    Parameters
    ----------
    sites : SiteGeometry
        G sites with their masks.
    r_sat_ecef_km : float64[S, 3], km, ECEF
        Satellite positions at the step (NaN rows are never visible).
    sin_mask_sat : float64[S], optional
        Sine of each satellite's own mask (its shell's user-terminal mask);
        the pair's mask is the larger of the two.  None: sites' masks only.

    Returns
    -------
    GroundLinks
        Sorted by site, then satellite.

    Raises
    ------
    ScenarioError
        Positions not shaped ``[S, 3]`` or masks not shaped ``[S]`` (checks
        that cost nothing).  Values are trusted (this runs every step); the
        k-d tree search also rejects positions in metres, because it finds
        the largest satellite radius anyway.

    Notes
    -----
    k-d tree candidates within `search_radius_km` (or every pair, for up to
    100,000 pairs), then the exact test
    ``sin(elevation) >= max(sin_mask_site, sin_mask_sat)``.  The candidate
    search never changes the result: it only skips pairs that cannot pass.

    Measured with ``bench/bench_visibility.py`` (2026-11-30, shared 2-core
    machine): 10,395 Starlink satellites (snapshot of 2026-05-30) x 1,000
    terminals in Ukraine, ~110,000 candidates and ~70,000 visible pairs per
    step: ~20 ms per step on a quiet core (fastest of 150 calls; medians
    double under other load).

    Examples
    --------
    >>> site = SiteGeometry.from_lat_lon([0.0], [0.0], [25.0])
    >>> sat = geodetic_to_ecef([0.0, 0.0], [0.0, 60.0], 550.0)   # overhead, and far away
    >>> links = visible_links(site, sat)
    >>> links.sat.tolist(), round(float(links.range_km[0]), 6)
    ([0], 550.0)
    """
    _check_step(r_sat_ecef_km, sin_mask_sat)
    n_sats = r_sat_ecef_km.shape[0]
    if len(sites) * n_sats <= _DENSE_PAIRS:
        return _visible_dense(sites, r_sat_ecef_km, sin_mask_sat)
    radius = search_radius_km(sites, r_sat_ecef_km, sin_mask_sat)
    if radius <= 0.0:
        return _empty_links()
    site, sat = candidate_pairs(sites, r_sat_ecef_km, radius)
    rng, sin_el = pair_sin_elevation(sites, site, r_sat_ecef_km[sat])
    need = sites.sin_mask[site]
    if sin_mask_sat is not None:
        need = np.maximum(need, sin_mask_sat[sat])
    keep = sin_el >= need
    site, sat, rng, sin_el = site[keep], sat[keep], rng[keep], sin_el[keep]
    order = np.argsort(site * n_sats + sat)
    return GroundLinks(
        site[order].astype(np.int32), sat[order].astype(np.int32), rng[order], sin_el[order]
    )


def _visible_dense(
    sites: SiteGeometry, r_sat_ecef_km: NDArray[np.float64], sin_mask_sat: NDArray[np.float64] | None
) -> GroundLinks:
    """`visible_links` by testing every pair ([G, S] arrays; for few sites).

    The arithmetic per pair is that of `pair_sin_elevation`, in the same order.
    """
    p, u, r = sites.r_ecef_km, sites.up, r_sat_ecef_km
    dx = r[None, :, 0] - p[:, 0, None]
    dy = r[None, :, 1] - p[:, 1, None]
    dz = r[None, :, 2] - p[:, 2, None]
    rng = np.sqrt(dx * dx + dy * dy + dz * dz)
    sin_el = (dx * u[:, 0, None] + dy * u[:, 1, None] + dz * u[:, 2, None]) / rng
    need = sites.sin_mask[:, None]
    if sin_mask_sat is not None:
        need = np.maximum(need, sin_mask_sat[None, :])
    site, sat = np.nonzero(sin_el >= need)  # row-major: sorted by site, then satellite
    return GroundLinks(site.astype(np.int32), sat.astype(np.int32), rng[site, sat], sin_el[site, sat])


# --------------------------------------------------------------------------
# What one place sees
# --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class VisibleSatellites:
    """The satellites seen from one place at one time, highest first.

    Attributes
    ----------
    when_utc : datetime.datetime
        Timezone-aware UTC.
    lat_deg, lon_deg, altitude_km, min_elevation_deg : float
        The place (WGS84) and the mask used.
    sat : int64[K]
        Index into the constellation.
    names : list of str, [K]
    catalog_numbers : int64[K]
    elevation_deg : float64[K], degrees
        Geodetic elevation, >= ``min_elevation_deg``, decreasing.
    azimuth_deg : float64[K], degrees
        Clockwise from geodetic north, in [0, 360).
    range_km : float64[K], km
        Slant range.
    """

    when_utc: dt.datetime
    lat_deg: float
    lon_deg: float
    altitude_km: float
    min_elevation_deg: float
    sat: NDArray[np.int64]
    names: list[str]
    catalog_numbers: NDArray[np.int64]
    elevation_deg: NDArray[np.float64]
    azimuth_deg: NDArray[np.float64]
    range_km: NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.sat.shape[0])

    def to_table(self) -> pa.Table:
        """One row per satellite: ``sat, name, catalog_number, elevation_deg, azimuth_deg, range_km``."""
        import pyarrow as pa

        return pa.table({
            "sat": self.sat,
            "name": self.names,
            "catalog_number": self.catalog_numbers,
            "elevation_deg": self.elevation_deg,
            "azimuth_deg": self.azimuth_deg,
            "range_km": self.range_km,
        })


def visible_from(
    constellation: Constellation,
    lat_deg: float,
    lon_deg: float,
    when_utc: dt.datetime | str | None,
    *,
    min_elevation_deg: float = 25.0,
    altitude_km: float = 0.0,
) -> VisibleSatellites:
    """The satellites at or above an elevation mask from one place, highest first.

    Parameters
    ----------
    constellation : leonet.orbits.constellation.Constellation
        S satellites.
    lat_deg, lon_deg : float, degrees
        WGS84 geodetic latitude (-90..90) and longitude east (-180..360).
    when_utc : datetime.datetime, str or None
        UTC time (ISO 8601 strings are parsed); None: the median element
        epoch (see `leonet.orbits.propagate.positions_at`).
    min_elevation_deg : float, degrees
        Elevation mask (-90..90); the shells' own masks are not applied.
    altitude_km : float, km
        Height of the place above the ellipsoid (-0.5..100).

    Returns
    -------
    VisibleSatellites
        Sorted by decreasing elevation (ties: lower satellite index first).

    Raises
    ------
    ScenarioError
        A coordinate, mask or height out of its range (NaN included), or a bad time.

    Notes
    -----
    `positions_at`, then `visible_links` for one site (which satellites),
    then `pair_look_angles` (their elevation, azimuth and range).  Tests
    compare the set and the angles with Skyfield's ``altaz``.

    Examples
    --------
    >>> from leonet.engine.build import constellation_from_source
    >>> from leonet.timebase import parse_utc
    >>> noon = parse_utc("2026-05-30T12:00:00Z")
    >>> telesat = constellation_from_source("telesat-1015", noon)   # Walker shells, elements at noon
    >>> seen = visible_from(telesat, 50.45, 30.52, noon, min_elevation_deg=10.0)
    >>> el = seen.elevation_deg
    >>> len(seen) > 0, bool((el >= 10.0).all()), bool((el[:-1] >= el[1:]).all())   # highest first
    (True, True, True)
    >>> seen.to_table().column_names
    ['sat', 'name', 'catalog_number', 'elevation_deg', 'azimuth_deg', 'range_km']
    """
    for name, value, low, high, unit in (
        ("lat_deg", lat_deg, -90.0, 90.0, "degrees"),
        ("lon_deg", lon_deg, -180.0, 360.0, "degrees east"),
        ("min_elevation_deg", min_elevation_deg, -90.0, 90.0, "degrees"),
        ("altitude_km", altitude_km, -0.5, 100.0, "km above the ellipsoid (give km, not metres)"),
    ):
        try:
            inside = low <= float(value) <= high  # NaN is outside
        except (TypeError, ValueError):
            inside = False
        if not inside:
            raise ScenarioError(f"visible_from: {name}={value!r} is outside {low:g}..{high:g} {unit}")
    positions = positions_at(constellation, when_utc)
    site = SiteGeometry.from_lat_lon([lat_deg], [lon_deg], [min_elevation_deg], altitude_km)
    links = visible_links(site, positions.r_ecef_km)
    el, az, rng = pair_look_angles(site, links.site, positions.r_ecef_km[links.sat])
    order = np.argsort(-el, kind="stable")
    sat = links.sat[order].astype(np.int64)
    return VisibleSatellites(
        when_utc=positions.when_utc,
        lat_deg=float(lat_deg),
        lon_deg=float(lon_deg),
        altitude_km=float(altitude_km),
        min_elevation_deg=float(min_elevation_deg),
        sat=sat,
        names=[positions.names[k] for k in sat],
        catalog_numbers=positions.catalog_numbers[sat],
        elevation_deg=el[order],
        azimuth_deg=az[order],
        range_km=rng[order],
    )
