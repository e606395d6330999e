"""Which satellites each ground site sees: elevation, azimuth and slant range.

The representation
------------------
Satellites come as ``r_sat_ecef_km: float64[T, S, 3]`` (time-major, trailing
xyz, ECEF km); ground sites as a `~leonet.ground.sites.GroundSites` with
``r_ecef_km: float64[G, 3]``.  Both are in ECEF, where the sites do not move.

Two outputs:

* `visible_mask` -- dense ``[T, G, S]`` arrays.  Simple, but ``T * G * S * 17``
  bytes: fine for 100 cities x 1,584 satellites, not for 10,000 terminals x
  10,395 satellites (1.7 GB per step).
* `visible_pairs` -- only the visible pairs, stored like a CSR matrix over
  time: the pairs of step ``t`` are ``[step_ptr[t], step_ptr[t+1])`` of flat
  arrays ``site_idx, sat_idx, elevation_deg, azimuth_deg, range_km``, sorted
  by site then satellite.  A pair that is not visible is *absent*.

Geometry
--------
Elevation is *geodetic*: the angle between the line of sight ``d = r_sat -
r_site`` and the plane normal to the WGS84 ellipsoid at the site,
``sin(el) = (d . up) / |d|`` with ``up`` from
`leonet.orbits.frames.enu_basis`.  This is what Skyfield's
``(sat - topos).at(t).altaz()`` reports (without refraction) and what a dish
levelled on the ground measures.  Azimuth is clockwise from geodetic north.
No refraction, no terrain and no polar motion (< 15 m) are modelled.

A site ``g`` sees satellite ``s`` when ``elevation >= mask``, with the mask
the larger of the site's ``min_elevation_deg[g]`` and, if given, the
satellite's ``sat_min_elevation_deg[s]`` (e.g. a shell's terminal mask).
NaN masks and NaN satellite positions (failed propagation) are never visible.

Cost
----
`visible_pairs` first finds candidate pairs within a slant range that no
visible pair can exceed (`max_slant_range_km`, a conservative bound from the
lowest mask, the lowest site and the highest satellite), with a k-d tree of
the sites built once per call and one of the satellites per step
(``scipy.spatial.cKDTree.sparse_distance_matrix``).  Only those candidates get
the exact elevation test.  `visible_pairs` gives the measured costs; the
k-d tree is the default because it wins at both sizes measured.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

from ..errors import ScenarioError
from ..orbits.frames import enu_basis
from .sites import GroundSites

#: Number of satellite altitude groups searched with separate range bounds.
_ALTITUDE_GROUPS = 4
#: Elements per block of the dense computation (site rows x satellites).
_DENSE_BLOCK = 1 << 20

__all__ = [
    "visible_mask",
    "visible_pairs",
    "VisiblePairs",
    "VisibleStep",
    "max_slant_range_km",
]


# --------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------


def _check_positions(r_sat_ecef_km) -> NDArray[np.float64]:
    r = np.asarray(r_sat_ecef_km, dtype=np.float64)
    if r.ndim != 3 or r.shape[-1] != 3:
        hint = " For a single step, add the time axis: r_sat_ecef_km[None]." if r.ndim == 2 and r.shape[-1] == 3 else ""
        raise ScenarioError(
            f"r_sat_ecef_km has shape {r.shape}; visibility needs float64[T, S, 3] (time, satellite, xyz in km, ECEF).{hint}"
        )
    finite = np.isfinite(r).all(axis=-1)
    # A sanity check on units (km, not m) for the finite rows; failed propagations are NaN.
    norms = np.sqrt(np.einsum("...i,...i->...", r, r))[finite]
    if norms.size and (norms.max() > 1.0e6 or norms.min() < 6000.0):
        raise ScenarioError(
            f"satellite positions have |r| from {norms.min():.4g} to {norms.max():.4g}; ECEF positions in km of "
            "orbiting satellites lie between ~6,500 and ~50,000 km. Are they in metres, or relative to the site?"
        )
    return r


def _effective_masks(sites: GroundSites, sat_min_elevation_deg, n_sats: int):
    site_mask = np.asarray(sites.min_elevation_deg, dtype=np.float64)
    if sat_min_elevation_deg is None:
        return site_mask, None
    sat_mask = np.asarray(sat_min_elevation_deg, dtype=np.float64)
    if sat_mask.ndim == 0:
        sat_mask = np.full(n_sats, float(sat_mask))
    if sat_mask.shape != (n_sats,):
        raise ScenarioError(
            f"sat_min_elevation_deg has shape {sat_mask.shape}; give one mask per satellite, float64[{n_sats}] degrees."
        )
    return site_mask, sat_mask


def _up_and_offsets(sites: GroundSites):
    up = enu_basis(sites.lat_deg, sites.lon_deg).reshape(len(sites), 3, 3)[:, 2, :]
    return up, np.einsum("gi,gi->g", up, sites.r_ecef_km)


# --------------------------------------------------------------------------
# Dense
# --------------------------------------------------------------------------


def visible_mask(
    sites: GroundSites,
    r_sat_ecef_km: NDArray[np.float64],
    *,
    sat_min_elevation_deg: ArrayLike | None = None,
) -> tuple[NDArray[np.bool_], NDArray[np.float64], NDArray[np.float64]]:
    """Visibility, elevation and slant range of every (step, site, satellite).

    Parameters
    ----------
    sites : GroundSites, G sites
        Their ``min_elevation_deg[G]`` are the masks (NaN: never visible).
    r_sat_ecef_km : float64[T, S, 3], km, ECEF
        Satellite positions; NaN rows (failed propagation) are never visible.
    sat_min_elevation_deg : float or float64[S], degrees, optional
        Per-satellite masks; the larger of the two masks applies.

    Returns
    -------
    visible : bool[T, G, S]
        ``elevation_deg >= mask``.
    elevation_deg : float64[T, G, S], degrees
        Geodetic elevation, in [-90, 90]; NaN for NaN satellites.
    range_km : float64[T, G, S], km
        Slant range.

    Notes
    -----
    Written without a ``[T, G, S, 3]`` temporary: the east, north and up
    components of ``d = r_sat - r_site`` are ``e . r_sat - e . r_site`` etc.,
    three ``[G, S]`` matrix products per step.  Elevation is
    ``atan2(up, hypot(east, north))``, which stays accurate at the zenith,
    where ``arcsin(up / |d|)`` loses half its digits.

    Examples
    --------
    >>> from leonet.ground.sites import sites_from_coordinates
    >>> from leonet.orbits.frames import geodetic_to_ecef
    >>> site = sites_from_coordinates("terminal", [{"name": "Kyiv", "lat_deg": 50.45, "lon_deg": 30.52}])
    >>> above = geodetic_to_ecef(50.45, 30.52, 550.0)[None, None, :]   # one step, one satellite
    >>> vis, el, rng = visible_mask(site, above)
    >>> bool(vis[0, 0, 0]), round(float(el[0, 0, 0]), 6), round(float(rng[0, 0, 0]), 6)
    (True, 90.0, 550.0)
    """
    r = _check_positions(r_sat_ecef_km)
    t_steps, n_sats, _ = r.shape
    site_mask, sat_mask = _effective_masks(sites, sat_min_elevation_deg, n_sats)
    mask = site_mask[:, None] if sat_mask is None else np.maximum(site_mask[:, None], sat_mask[None, :])
    enu = enu_basis(sites.lat_deg, sites.lon_deg).reshape(len(sites), 3, 3)
    enu_dot_site = np.einsum("gji,gi->gj", enu, sites.r_ecef_km)  # [G, 3]
    g = len(sites)
    visible = np.empty((t_steps, g, n_sats), dtype=bool)
    elevation = np.empty((t_steps, g, n_sats))
    rng = np.empty((t_steps, g, n_sats))
    rows = max(1, _DENSE_BLOCK // max(1, n_sats))  # sites per block: temporaries stay ~8 MB
    for t in range(t_steps):
        rt_T = np.ascontiguousarray(r[t].T)
        for lo in range(0, g, rows):
            hi = min(g, lo + rows)
            # East, north, up components of d = r_sat - r_site, by matrix products.
            e, n, u = (enu[lo:hi, j, :] @ rt_T - enu_dot_site[lo:hi, j, None] for j in range(3))
            h2 = e * e
            h2 += n * n
            horizontal = np.sqrt(h2)
            h2 += u * u
            np.sqrt(h2, out=rng[t, lo:hi])
            np.degrees(np.arctan2(u, horizontal), out=elevation[t, lo:hi])
            with np.errstate(invalid="ignore"):
                np.greater_equal(elevation[t, lo:hi], mask[lo:hi], out=visible[t, lo:hi])
    return visible, elevation, rng


# --------------------------------------------------------------------------
# Sparse
# --------------------------------------------------------------------------


class VisibleStep(NamedTuple):
    """The visible pairs of one step (views into `VisiblePairs`)."""

    site_idx: NDArray[np.int32]
    sat_idx: NDArray[np.int32]
    elevation_deg: NDArray[np.float64]
    azimuth_deg: NDArray[np.float64]
    range_km: NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class VisiblePairs:
    """Visible (site, satellite) pairs of T steps, stored flat with step pointers.

    Attributes
    ----------
    step_ptr : int64[T + 1]
        Pairs of step ``t`` are ``step_ptr[t]:step_ptr[t + 1]``.
    site_idx : int32[P]
        Index into the `GroundSites` given.
    sat_idx : int32[P]
        Index into the satellite axis of the positions given.
    elevation_deg : float64[P], degrees
        Geodetic elevation, >= the pair's mask.
    azimuth_deg : float64[P], degrees
        Clockwise from geodetic north, in [0, 360).
    range_km : float64[P], km
        Slant range.
    n_sites, n_sats : int
        G and S, for shaping dense views.

    Within a step, pairs are sorted by site, then satellite, so results do
    not depend on how a run was chunked.
    """

    step_ptr: NDArray[np.int64]
    site_idx: NDArray[np.int32]
    sat_idx: NDArray[np.int32]
    elevation_deg: NDArray[np.float64]
    azimuth_deg: NDArray[np.float64]
    range_km: NDArray[np.float64]
    n_sites: int
    n_sats: int

    def __len__(self) -> int:
        return len(self.step_ptr) - 1

    @property
    def n_pairs(self) -> int:
        """Total number of visible pairs over all steps."""
        return int(self.step_ptr[-1])

    def step(self, t: int) -> VisibleStep:
        """The pairs of step `t` (array views, no copy)."""
        if not -len(self) <= t < len(self):
            raise IndexError(f"step {t} out of range for {len(self)} steps")
        t %= len(self)
        sl = slice(int(self.step_ptr[t]), int(self.step_ptr[t + 1]))
        return VisibleStep(
            self.site_idx[sl], self.sat_idx[sl], self.elevation_deg[sl], self.azimuth_deg[sl], self.range_km[sl]
        )

    def __iter__(self):
        return (self.step(t) for t in range(len(self)))

    def step_index(self) -> NDArray[np.int64]:
        """int64[P]: the step of each pair."""
        return np.repeat(np.arange(len(self), dtype=np.int64), np.diff(self.step_ptr))

    def counts(self) -> NDArray[np.int64]:
        """int64[T, G]: number of satellites each site sees at each step."""
        out = np.zeros((len(self), self.n_sites), dtype=np.int64)
        np.add.at(out, (self.step_index(), self.site_idx), 1)
        return out

    def to_dense(self) -> NDArray[np.bool_]:
        """bool[T, G, S] visibility (for small cases and tests)."""
        out = np.zeros((len(self), self.n_sites, self.n_sats), dtype=bool)
        out[self.step_index(), self.site_idx, self.sat_idx] = True
        return out


def max_slant_range_km(min_elevation_deg: float, site_radius_km: float, sat_radius_km: float) -> float:
    """Longest slant range at which a satellite can be at or above an elevation.

    Parameters
    ----------
    min_elevation_deg : float, degrees
        Elevation measured from the plane normal to the *geocentric* radius.
    site_radius_km, sat_radius_km : float, km
        Geocentric distances of the site and the satellite.

    Returns
    -------
    float, km
        ``d = -r_g sin(e) + sqrt(r_g^2 sin^2(e) + r_s^2 - r_g^2)``, the law of
        cosines in the Earth-centre / site / satellite triangle.  ``d``
        decreases with ``e`` and ``r_g`` and increases with ``r_s``, so the
        lowest mask, the lowest site and the highest satellite give a bound
        for every pair.

    Examples
    --------
    >>> round(max_slant_range_km(25.0, 6371.0, 6371.0 + 550.0), 1)   # Starlink shell 1
    1123.3
    """
    rg, rs = float(site_radius_km), float(sat_radius_km)
    if rs <= rg:
        return 0.0
    s = math.sin(math.radians(min_elevation_deg))
    return -rg * s + math.sqrt(rg * rg * s * s + rs * rs - rg * rg)


def visible_pairs(
    sites: GroundSites,
    r_sat_ecef_km: NDArray[np.float64],
    *,
    max_range_km: float | None = None,
    sat_min_elevation_deg: ArrayLike | None = None,
    method: str = "kdtree",
) -> VisiblePairs:
    """The visible (site, satellite) pairs of each step, and their look angles.

    Parameters
    ----------
    sites : GroundSites, G sites
        Their ``min_elevation_deg[G]`` are the masks (NaN: never visible).
    r_sat_ecef_km : float64[T, S, 3], km, ECEF
        Satellite positions; NaN rows (failed propagation) are never visible.
    max_range_km : float, km, optional
        Also drop pairs farther than this (e.g. a link budget limit).
    sat_min_elevation_deg : float or float64[S], degrees, optional
        Per-satellite masks; the larger of the two masks applies.
    method : {"kdtree", "dense"}
        How candidates are found.  ``"kdtree"`` (default): k-d trees and a
        slant-range bound.  ``"dense"``: blocks of sites against all
        satellites with matrix products.  Both give the same pairs (tested);
        see the Notes for which is faster.

    Returns
    -------
    VisiblePairs
        ``T`` steps of pairs, sorted by site then satellite within each step.

    Notes
    -----
    Candidate pairs are those within ``max_slant_range_km(e_min - delta,
    r_site_min, r_sat_max)``, where ``e_min`` is the lowest mask, ``delta`` the
    largest angle between a site's geodetic up and its geocentric radius
    (<= 0.193 degrees on WGS84: the geocentric elevation differs from the
    geodetic one by at most that), ``r_site_min`` the smallest site radius and
    ``r_sat_max`` the largest satellite radius of the step; no visible pair
    lies outside it.  Every candidate is then tested exactly, with the
    difference vector ``d = r_sat - r_site``.

    Measured on a shared 2-core machine (ranges over runs under other load):

    ==============================================  ============  ============  ================
    case                                            ``kdtree``    ``dense``     `visible_mask`
    ==============================================  ============  ============  ================
    G=10,000 terminals in UA x S=10,395 Starlink    0.24-0.40 s   2.3-5.4 s     10-20 s, 1.8 GB
    (703,000 visible pairs per step at 25 deg)
    G=100 Hypatia cities x S=1,584 (Walker 72x22)   1.5-2.7 ms    2.2-3.9 ms    4-8 ms
    ==============================================  ============  ============  ================

    The result holds ~32 bytes per pair (22 MB per step in the first case),
    so chunk the time axis accordingly.
    """
    r = _check_positions(r_sat_ecef_km)
    t_steps, n_sats, _ = r.shape
    site_mask, sat_mask = _effective_masks(sites, sat_min_elevation_deg, n_sats)
    if method not in ("kdtree", "dense"):
        raise ScenarioError(f"visible_pairs: method={method!r}; use 'kdtree' or 'dense'.")
    if max_range_km is not None and not (max_range_km > 0):
        raise ScenarioError(f"visible_pairs: max_range_km={max_range_km!r}; give a positive slant range in km, or None.")

    # Sites that can link at all (PoPs have NaN masks).
    active = np.flatnonzero(np.isfinite(site_mask))
    up_all, _ = _up_and_offsets(sites)
    r_site = sites.r_ecef_km[active]
    up = up_all[active]
    mask_site = site_mask[active]

    empty = VisiblePairs(
        step_ptr=np.zeros(t_steps + 1, dtype=np.int64),
        site_idx=np.empty(0, np.int32),
        sat_idx=np.empty(0, np.int32),
        elevation_deg=np.empty(0),
        azimuth_deg=np.empty(0),
        range_km=np.empty(0),
        n_sites=len(sites),
        n_sats=n_sats,
    )
    if active.size == 0 or n_sats == 0 or t_steps == 0:
        return empty

    # Bound inputs that do not change with time.
    site_radius = np.sqrt(np.einsum("gi,gi->g", r_site, r_site))
    cos_delta = np.einsum("gi,gi->g", up, r_site) / site_radius
    delta_deg = float(np.degrees(np.arccos(np.clip(cos_delta.min(), -1.0, 1.0))))
    lowest_mask = float(mask_site.min())
    if sat_mask is not None:
        finite_sat = sat_mask[np.isfinite(sat_mask)]
        if finite_sat.size == 0:
            return empty
        lowest_mask = max(lowest_mask, float(finite_sat.min()))
    e_bound = lowest_mask - delta_deg - 1e-6
    rg_min = float(site_radius.min())

    tree_sites = cKDTree(r_site) if method == "kdtree" else None
    enu_active = np.ascontiguousarray(enu_basis(sites.lat_deg[active], sites.lon_deg[active]).reshape(-1, 3, 3))

    parts = []
    counts = np.zeros(t_steps, dtype=np.int64)
    for t in range(t_steps):
        rt = r[t]
        ok_sat = np.isfinite(rt).all(axis=1)
        if sat_mask is not None:
            ok_sat &= np.isfinite(sat_mask)
        sat_ids = np.flatnonzero(ok_sat)
        if sat_ids.size == 0:
            continue
        sat_radius = np.sqrt(np.einsum("si,si->s", rt[sat_ids], rt[sat_ids]))
        # Satellites in a few altitude groups, each with its own range bound: a
        # handful of high satellites (orbit raising) must not widen the search
        # for all of them.  Four groups cut the candidates by ~30 % for the
        # shipped Starlink snapshot (see the benchmark in docs/design.md).
        groups = np.array_split(sat_ids[np.argsort(sat_radius, kind="stable")], min(_ALTITUDE_GROUPS, sat_ids.size))
        gis, sis = [], []
        for grp in groups:
            rs = rt[grp]
            rs_max = float(np.sqrt(np.einsum("si,si->s", rs, rs).max()))
            bound = max_slant_range_km(e_bound, rg_min, rs_max) * (1.0 + 1e-9) + 1e-6
            if max_range_km is not None:
                bound = min(bound, float(max_range_km))
            if method == "kdtree":
                g_, s_ = _candidates_kdtree(tree_sites, rs, bound)
            else:
                g_, s_ = _candidates_dense(r_site, up, rs, bound, e_bound)
            gis.append(g_)
            sis.append(grp[s_])
        gi, si = np.concatenate(gis), np.concatenate(sis)
        # Exact test on the candidates only, with explicit difference vectors.
        d = rt[si] - r_site[gi]
        e, n, u = np.einsum("pji,pi->jp", enu_active[gi], d)
        h2 = e * e + n * n
        horizontal = np.sqrt(h2)
        rng = np.sqrt(h2 + u * u)
        el = np.degrees(np.arctan2(u, horizontal))
        m = mask_site[gi] if sat_mask is None else np.maximum(mask_site[gi], sat_mask[si])
        keep = el >= m
        if max_range_km is not None:
            keep &= rng <= max_range_km
        gi, si, rng, el = gi[keep], si[keep], rng[keep], el[keep]
        az = np.degrees(np.arctan2(e[keep], n[keep])) % 360.0
        order = np.argsort(gi * n_sats + si)  # keys are unique: one sort of int64, ~4x faster than lexsort
        parts.append((active[gi[order]], si[order], el[order], az[order], rng[order]))
        counts[t] = order.size

    if not parts:
        return empty
    step_ptr = np.zeros(t_steps + 1, dtype=np.int64)
    np.cumsum(counts, out=step_ptr[1:])
    return VisiblePairs(
        step_ptr=step_ptr,
        site_idx=np.concatenate([p[0] for p in parts]).astype(np.int32),
        sat_idx=np.concatenate([p[1] for p in parts]).astype(np.int32),
        elevation_deg=np.concatenate([p[2] for p in parts]),
        azimuth_deg=np.concatenate([p[3] for p in parts]),
        range_km=np.concatenate([p[4] for p in parts]),
        n_sites=len(sites),
        n_sats=n_sats,
    )


def _candidates_kdtree(tree_sites: cKDTree, r_sat: NDArray, bound_km: float):
    """(site, satellite) index pairs closer than `bound_km` (Euclidean, ECEF)."""
    tree_sats = cKDTree(r_sat)
    pairs = tree_sites.sparse_distance_matrix(tree_sats, bound_km, output_type="ndarray")
    return pairs["i"].astype(np.int64), pairs["j"].astype(np.int64)


def _candidates_dense(r_site: NDArray, up: NDArray, r_sat: NDArray, bound_km: float, e_bound_deg: float, block: int = 4_000_000):
    """Candidate pairs by matrix products over blocks of sites.

    Keeps pairs with ``|d| <= bound`` and ``d . up >= |d| sin(e_bound)``
    (loose by the rounding of the products; the exact test follows).
    """
    s2 = np.einsum("si,si->s", r_sat, r_sat)
    g2 = np.einsum("gi,gi->g", r_site, r_site)
    up_dot_site = np.einsum("gi,gi->g", up, r_site)
    sin_e = math.sin(math.radians(e_bound_deg))
    step = max(1, block // max(1, r_sat.shape[0]))
    gis, sis = [], []
    for lo in range(0, r_site.shape[0], step):
        hi = min(lo + step, r_site.shape[0])
        d2 = s2[None, :] + g2[lo:hi, None] - 2.0 * (r_site[lo:hi] @ r_sat.T)
        h = up[lo:hi] @ r_sat.T - up_dot_site[lo:hi, None]
        near = d2 <= bound_km * bound_km * (1.0 + 1e-9) + 1e-6
        if sin_e >= 0.0:
            cand = near & (h >= 0.0) & (h * h >= d2 * sin_e * sin_e * (1.0 - 1e-9))
        else:
            cand = near & ((h >= 0.0) | (h * h <= d2 * sin_e * sin_e * (1.0 + 1e-9)))
        gi, si = np.nonzero(cand)
        gis.append(gi + lo)
        sis.append(si)
    return np.concatenate(gis), np.concatenate(sis)
