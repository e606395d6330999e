"""Ground-satellite links (GSLs): who sees whom, over what range, with what delay.

The representation
------------------
Ground sites are fixed in ECEF, so their geometry is computed once, in a
`SiteGeometry`: positions ``r_ecef_km[G, 3]``, geodetic *up* unit vectors
``up[G, 3]`` and the sine of each site's elevation mask.  The links of one
time step are a `GroundLinks`: four parallel arrays of length ``K``, one
entry per (site, satellite) pair above the mask, sorted by site then
satellite::

    site[K]            int32, index into the sites
    sat[K]             int32, index into the satellites
    range_km[K]        float64, slant range, km
    sin_elevation[K]   float64, sine of the geodetic elevation angle

A pair is *visible* when ``sin(elevation) >= sin(mask)``, where the mask of a
pair is the larger of the site's mask and the satellite's (a user terminal
under a shell whose operator flies it at 25 deg uses ``max(25, own)``).
Sines are compared, not angles: no ``arcsin`` in the hot path, and the sine
is monotonic on [-90, 90] deg, so the order is the same.

Cost
----
A dense ``[G, S]`` test is 10^8 pairs for 10,000 terminals under 10,000
satellites.  Instead, one k-d tree of the S satellite positions
(`scipy.spatial.cKDTree`, ~2 ms for 10^4 points) answers, for every site,
which satellites lie within the largest slant range any visible pair can
have (`max_slant_range_km`); only those candidates get the exact elevation
test.  Cost per step is O(S log S + K).

Elevation is *geodetic* (angle above the plane tangent to the WGS84
ellipsoid), as `leonet.orbits.frames.look_angles` computes it.  Satellites
with NaN positions (SGP4 failures) are never visible.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

from ..constants import C_KM_S
from ..orbits.frames import enu_basis, geodetic_to_ecef

__all__ = [
    "SiteGeometry",
    "GroundLinks",
    "max_slant_range_km",
    "one_way_delay_s",
    "visible_links",
    "limit_links_per_site",
    "pair_sin_elevation",
]

#: Margin (deg) taken off the smallest mask when sizing the k-d tree search
#: radius: geodetic and geocentric elevations differ by up to 0.19 deg, and
#: the radius formula is geocentric.
_RADIUS_MARGIN_DEG = 0.5
_RADIUS_MARGIN_KM = 1.0
#: Up to this many (site, satellite) pairs, every pair is tested directly
#: (no k-d tree): ~1 ms, less than building a tree of 10,000 satellites.
_DENSE_PAIRS = 100_000


def one_way_delay_s(range_km: ArrayLike) -> NDArray[np.float64]:
    """Propagation delay of a radio or laser link in vacuum, ``range / c``, s."""
    return np.asarray(range_km, dtype=np.float64) / C_KM_S


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

    Notes
    -----
    Law of cosines in the triangle centre-site-satellite:
    ``rs^2 = rg^2 + rho^2 + 2 rg rho sin(e)``, so
    ``rho = -rg sin e + sqrt(rg^2 sin^2 e + rs^2 - rg^2)``.  The range
    decreases with the elevation and with the site's radius and grows with
    the satellite's radius, which is what sizing a search radius needs.

    Examples
    --------
    >>> round(float(max_slant_range_km(6378.137, 6378.137 + 550.0, 90.0)), 6)  # zenith
    550.0
    """
    rg = np.asarray(site_radius_km, dtype=np.float64)
    rs = np.asarray(sat_radius_km, dtype=np.float64)
    s = np.sin(np.radians(np.asarray(elevation_deg, dtype=np.float64)))
    return -rg * s + np.sqrt(rg * rg * s * s + rs * rs - rg * rg)


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
    """

    r_ecef_km: NDArray[np.float64]
    up: NDArray[np.float64]
    min_elevation_deg: NDArray[np.float64]
    sin_mask: NDArray[np.float64]

    @classmethod
    def from_lat_lon(
        cls,
        lat_deg: ArrayLike,
        lon_deg: ArrayLike,
        min_elevation_deg: ArrayLike,
        altitude_km: ArrayLike = 0.0,
    ) -> "SiteGeometry":
        """Geometry of sites given by WGS84 geodetic coordinates (degrees, km)."""
        lat = np.atleast_1d(np.asarray(lat_deg, dtype=np.float64))
        lon = np.atleast_1d(np.asarray(lon_deg, dtype=np.float64))
        r = geodetic_to_ecef(lat, lon, altitude_km).reshape(-1, 3)
        mask = np.broadcast_to(np.asarray(min_elevation_deg, dtype=np.float64), lat.shape).copy()
        up = np.ascontiguousarray(enu_basis(lat, lon)[..., 2, :].reshape(-1, 3))
        sin_mask = np.where(np.isnan(mask), np.inf, np.sin(np.radians(np.nan_to_num(mask))))
        return cls(np.ascontiguousarray(r), up, mask, sin_mask)

    @classmethod
    def from_sites(cls, sites, min_elevation_deg: ArrayLike | None = None) -> "SiteGeometry":
        """Geometry of a `leonet.ground.sites.GroundSites` (its own masks unless overridden)."""
        mask = sites.min_elevation_deg if min_elevation_deg is None else min_elevation_deg
        return cls.from_lat_lon(sites.lat_deg, sites.lon_deg, mask, sites.altitude_km)

    def __len__(self) -> int:
        return int(self.r_ecef_km.shape[0])

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
        """float64[K]: one-way propagation delay, s."""
        return one_way_delay_s(self.range_km)

    @property
    def elevation_deg(self) -> NDArray[np.float64]:
        """float64[K]: geodetic elevation, degrees."""
        return np.degrees(np.arcsin(np.clip(self.sin_elevation, -1.0, 1.0)))

    def take(self, index: NDArray) -> "GroundLinks":
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
    """
    p = sites.r_ecef_km[site]
    u = sites.up[site]
    dx = r_sat_ecef_km[..., 0] - p[:, 0]
    dy = r_sat_ecef_km[..., 1] - p[:, 1]
    dz = r_sat_ecef_km[..., 2] - p[:, 2]
    rng = np.sqrt(dx * dx + dy * dy + dz * dz)
    sin_el = (dx * u[:, 0] + dy * u[:, 1] + dz * u[:, 2]) / rng
    return rng, sin_el


def _empty_links() -> GroundLinks:
    return GroundLinks(
        np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.float64), np.zeros(0, np.float64)
    )


def candidate_pairs(
    sites: SiteGeometry, r_sat_ecef_km: NDArray[np.float64], radius_km: float
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Every (site, satellite) pair closer than ``radius_km`` (k-d trees), unsorted.

    The sites' tree is built once per `SiteGeometry` and kept; the
    satellites' tree once per call.  Satellites with NaN positions are left
    out.
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
    """Largest slant range any pair can have and still be visible, km (plus margins)."""
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
    if not np.isfinite(rs) or rs <= rg:
        return 0.0
    return float(max_slant_range_km(rg, rs, low_deg)) + _RADIUS_MARGIN_KM


def visible_links(
    sites: SiteGeometry,
    r_sat_ecef_km: NDArray[np.float64],
    sin_mask_sat: NDArray[np.float64] | None = None,
) -> GroundLinks:
    """All (site, satellite) pairs above their elevation mask at one time step.

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

    Notes
    -----
    k-d tree candidates within `search_radius_km` (or every pair, for up to
    100,000 pairs), then the exact test
    ``sin(elevation) >= max(sin_mask_site, sin_mask_sat)``.  The candidate
    search never changes the result: it only skips pairs that cannot pass.

    Examples
    --------
    >>> import numpy as np
    >>> from leonet.orbits.frames import geodetic_to_ecef
    >>> site = SiteGeometry.from_lat_lon([0.0], [0.0], [25.0])
    >>> sat = geodetic_to_ecef([0.0, 0.0], [0.0, 60.0], 550.0)   # overhead, and far away
    >>> links = visible_links(site, sat)
    >>> links.sat.tolist(), round(float(links.range_km[0]), 6)
    ([0], 550.0)
    """
    n_sats = r_sat_ecef_km.shape[0]
    if len(sites) * n_sats <= _DENSE_PAIRS:
        return _visible_dense(sites, r_sat_ecef_km, sin_mask_sat)
    else:
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


def limit_links_per_site(links: GroundLinks, limit: ArrayLike) -> GroundLinks:
    """Keep, for each site, its ``limit[site]`` highest-elevation links.

    Parameters
    ----------
    links : GroundLinks
    limit : int[G]
        Links allowed per site (a gateway's antenna count).

    Returns
    -------
    GroundLinks
        Sorted by site then satellite.  Equal elevations go to the lower
        satellite index (deterministic).
    """
    if len(links) == 0:
        return links
    limit = np.asarray(limit, dtype=np.int64)
    order = np.lexsort((links.sat, -links.sin_elevation, links.site))
    site = links.site[order]
    starts = np.flatnonzero(np.r_[True, site[1:] != site[:-1]])
    lengths = np.diff(np.r_[starts, site.size])
    rank = np.arange(site.size) - np.repeat(starts, lengths)
    keep = order[rank < limit[site]]
    keep.sort()  # back to (site, sat) order: the input was sorted that way
    return links.take(keep)
