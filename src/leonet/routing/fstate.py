"""Hypatia's forwarding state, computed ~1000x faster: ``algorithm_free_one_only_over_isls``.

The representation
------------------
Node ids are Hypatia's: satellites ``0..S-1``, then ground station ``g`` is
node ``S + g``.  Destinations are ground stations only.  One step's
forwarding state is one array::

    next_hop : int32[S + G, G]

``next_hop[c, d]`` is the node that node ``c`` forwards to for destination
ground station ``d`` (node ``S + d``), or ``-1`` when ``d`` is unreachable
from ``c``.  The rows of ground stations hold their choice of first
satellite; ``next_hop[S + d, d]`` (a station to itself) is ``-1`` and never
written.  The interfaces Hypatia writes next to each hop are a function of
``(c, next_hop)`` alone, so they are derived only for the entries that get
written (`fstate_text`).  ``next_hop``'s C order -- satellites first, then
ground stations, each by destination -- is the order of Hypatia's lines.

The model (satgenpy ``generate_dynamic_state`` + ``fstate_calculation``)
-------------------------------------------------------------------------
* Satellite graph: the ISLs, weighted by length in metres (here km); no
  ground station relays.
* A ground station ``d`` may use any satellite within ``max_gsl_length`` of it
  (slant range only, no elevation test).
* A satellite's next hop toward ``d`` lies on a shortest path to
  ``argmin_b (dist(sat, b) + gsl(b, d))`` over the satellites ``b`` in range of
  ``d``; the satellite ``b`` itself hands the packet to ``d``.
* A ground station ``g`` sends to ``d`` through
  ``argmin_a (gsl(g, a) + that distance from a)`` (ties: lowest id).

Method: one Dijkstra per destination over the satellite graph plus a virtual
source, the ground station, joined to its in-range satellites by directed
station -> satellite edges only (so stations cannot relay).  The predecessor
of satellite ``s`` in the tree rooted at ``d`` is ``s``'s next hop toward
``d``.  Hypatia instead runs Floyd-Warshall over all S^2 satellite pairs and
loops over every (satellite, station, candidate) in Python (~17 s per step
for Starlink-550 and 100 cities); both give the same hops except between
routes whose lengths tie exactly.

Warm start.  Between steps the ISL topology is fixed and lengths change by
metres, so most shortest-path trees stay optimal.  `FreeOneOnlyOverIsls`
keeps the trees of the previous step, re-sums their route lengths with the
new link lengths, and keeps a tree only while every edge outside it is worse
by at least ``uniqueness_margin_km`` (1 mm) -- checked exactly on the few
near-critical ("tight") edges at every step, and on all edges whenever a
bound on how far the route lengths have moved says a tight edge could have
appeared (class Notes).  A kept tree is then the *unique* shortest-path tree,
which a fresh Dijkstra would also return, so the result does not depend on
the previous step (nor on where a run was chunked).  Only the remaining
destinations go through Dijkstra again: ~4 of 100 per 100 ms step for
Starlink-550.  ``warm_start=False`` runs every Dijkstra afresh (for checking).

Time
----
Step ``t`` is the TLE epoch + ``t`` ns (Hypatia's ``time_since_epoch_ns``;
the reference's epoch is 2000-01-01 00:00:00 UTC).  Hypatia hands each time
to pyephem as a string with millisecond precision; steps here are whole
milliseconds, so the times agree exactly.  (For a TLE epoch that is not a
whole millisecond Hypatia's times are rounded to 1 ms, <= 4 m along track;
leonet does not round.)

Geometry
--------
``geometry="leonet"`` (default): satellites by SGP4 (sgp4's C++ code) from
the TLEs, rotated to ECEF by GMST (IAU 1982); ground stations at the WGS72
cartesian positions of the extended ``ground_stations.txt`` -- the same
positions Hypatia's ns-3 simulator uses.

``geometry="pyephem"`` reproduces the three systematic differences of
pyephem, which Hypatia's ``satgenpy`` calls for every distance (libastro
``earthsat.c``): (1) its SGP4 returns Earth radii that it multiplies by its
own Earth radius, 6,378.160 km instead of SGP4's 6,378.135 km, so every
satellite sits 3.9 ppm (~27 m) farther from the Earth's centre; (2) it places
an observer on its own ellipsoid (a = 6,378.160 km, f = 1/298.25, with its
``atan(tan(lat) / (1 - f^2))`` geocentric latitude); (3) it rotates the Earth
by Newcomb's sidereal time, 5.5 urad (35 m at the equator) from GMST 1982 in
2000.  Not reproduced: pyephem's single-precision storage of angles and
ranges, its SGP4 port's 1e-6 rad Kepler tolerance and truncated constants
(metre-level noise).
"""

from __future__ import annotations

import math
import os
import shutil
import time as _time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from ..constants import C_KM_S
from ..errors import PropagationError, ScenarioError
from ..links.isl import interface_numbers, link_lengths_km
from .hypatia import SatelliteNetwork

__all__ = [
    "GEOMETRIES",
    "StepState",
    "FreeOneOnlyOverIsls",
    "network_positions",
    "fstate_text",
    "gsl_if_bandwidth_text",
    "dynamic_state_dirname",
    "generate_dynamic_state",
    "DynamicStateSummary",
    "follow_path",
    "path_length_km",
    "read_fstate_file",
    "iter_states",
    "PairTimeline",
    "pair_timeline",
    "format_path",
]

#: The geometry models `network_positions` offers.
GEOMETRIES = ("leonet", "pyephem")

#: csgraph's "no predecessor".
_NO_PRED = -9999

#: pyephem (libastro astro.h ERAD) and SGP4 (XKMPER) Earth radii, km.
_PYEPHEM_ERAD_KM = 6378.160
_SGP4_XKMPER_KM = 6378.135
#: pyephem's observer ellipsoid flattening (earthsat.c EarthFlat).
_PYEPHEM_FLAT = 1.0 / 298.25
#: pyephem's Dublin Julian Date origin (1899-12-31 12:00), as a JD.
_PYEPHEM_MJD0 = 2415020.0


# --------------------------------------------------------------------------- geometry


def _pyephem_sidereal_rad(jd: NDArray[np.float64], fr: NDArray[np.float64]) -> NDArray[np.float64]:
    """Earth rotation angle pyephem's satellite code uses (earthsat.c InitOrbitRoutines, GetSitPosition)."""
    crnt = (jd - _PYEPHEM_MJD0) + fr + 0.5
    sid_day = np.floor(crnt)
    t = (sid_day - 0.5) / 36525.0
    ref = (6.6460656 + 2400.051262 * t + 0.00002581 * t * t) / 24.0
    ref = ref - np.floor(ref)
    return 2.0 * math.pi * ((crnt - sid_day) * 1.0027379093 + ref)


def _pyephem_sites_km(lat_deg, lon_deg, elevation_m, extra_rotation_rad) -> NDArray[np.float64]:
    """pyephem's observer positions (earthsat.c GetSitPosition), Earth-fixed, km: float64[T, G, 3]."""
    f = _PYEPHEM_FLAT
    lat = np.radians(np.asarray(lat_deg, dtype=np.float64))
    lon = np.radians(np.asarray(lon_deg, dtype=np.float64))
    h = np.asarray(elevation_m, dtype=np.float64) / 1000.0
    glat = np.arctan(np.tan(lat) / (1.0 - f * f))
    g1 = _PYEPHEM_ERAD_KM / np.sqrt(1.0 - (2.0 * f - f * f) * np.sin(glat) ** 2)
    g2 = g1 * (1.0 - f) ** 2 + h
    g1 = g1 + h
    ang = lon[None, :] + np.asarray(extra_rotation_rad, dtype=np.float64)[:, None]
    out = np.empty(ang.shape + (3,))
    out[..., 0] = g1 * np.cos(glat) * np.cos(ang)
    out[..., 1] = g1 * np.cos(glat) * np.sin(ang)
    out[..., 2] = np.broadcast_to(g2 * np.sin(glat), ang.shape)
    return out


def network_positions(
    network: SatelliteNetwork,
    offset_ns: ArrayLike,
    geometry: str = "leonet",
    satrecs=None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Satellite and ground-station positions at ``epoch + offset_ns``, Earth-fixed, km.

    Parameters
    ----------
    network : SatelliteNetwork
    offset_ns : int64[T]
        Offsets from the TLE epoch (Hypatia's ``time_since_epoch_ns``).
    geometry : {"leonet", "pyephem"}
        See the module docstring.
    satrecs : sgp4.api.SatrecArray, optional
        Pre-built records (saves ~10 ms per call for 1,584 satellites).

    Returns
    -------
    r_sat_km : float64[T, S, 3]
        Satellites, ECEF.
    r_gs_km : float64[T, G, 3]
        Ground stations, ECEF (a broadcast view for ``geometry="leonet"``).

    Raises
    ------
    PropagationError
        If SGP4 fails for a satellite (decayed, bad elements).
    """
    from sgp4.api import SatrecArray

    from ..orbits.propagate import propagate
    from ..timebase import TimeGrid

    if geometry not in GEOMETRIES:
        raise ScenarioError(f"geometry {geometry!r} is not one of {', '.join(GEOMETRIES)}")
    offsets = np.asarray(offset_ns, dtype=np.int64).reshape(-1)
    grid = TimeGrid(network.tles.epoch_utc, offsets)
    if satrecs is None:
        satrecs = SatrecArray(network.tles.satrecs())
    prop = propagate(satrecs, grid)
    if prop.error.any():
        t, s = np.nonzero(prop.error)
        raise PropagationError(
            f"SGP4 cannot propagate {len(np.unique(s))} satellite(s), e.g. satellite {s[0]} at "
            f"t = {offsets[t[0]]} ns (sgp4 error {prop.error[t[0], s[0]]}); check its TLE in tles.txt",
            satellite_indices=np.unique(s),
        )
    r_sat = prop.r_ecef_km
    gs = network.ground_stations
    if geometry == "leonet":
        r_gs = np.broadcast_to(gs.r_ecef_km, (len(offsets), len(gs), 3))
        return r_sat, r_gs
    from ..orbits.frames import gmst82_rad

    r_sat *= _PYEPHEM_ERAD_KM / _SGP4_XKMPER_KM
    jd, fr = grid.jd_fr()
    theta_gmst, _ = gmst82_rad(jd, fr)
    delta = _pyephem_sidereal_rad(jd, fr) - theta_gmst
    r_gs = _pyephem_sites_km(gs.latitude_deg, gs.longitude_deg, gs.elevation_m, delta)
    return r_sat, r_gs


# --------------------------------------------------------------------------- the algorithm


@dataclass(frozen=True)
class StepState:
    """The routing state of one step.

    Attributes
    ----------
    next_hop : int32[S + G, G]
        See the module docstring; -1 where unreachable (and on the stations' diagonal).
    sat_to_gs_km : float64[G, S]
        Length of the route from each satellite to each ground station, km (inf: unreachable).
    gs_to_gs_km : float64[G, G]
        One-way route length between ground stations, km (inf: unreachable; 0 on the diagonal).
    dijkstra_sources : int
        Destinations whose tree was computed afresh at this step (warm start keeps the others).
    """

    next_hop: NDArray[np.int32]
    sat_to_gs_km: NDArray[np.float64]
    gs_to_gs_km: NDArray[np.float64]
    dijkstra_sources: int


class FreeOneOnlyOverIsls:
    """Hypatia's ``algorithm_free_one_only_over_isls``, one step at a time.

    Parameters
    ----------
    num_satellites, num_ground_stations : int
        S and G.
    isl_pairs : int64[E, 2]
        ISLs (any undirected topology; +Grid for Hypatia's shells).
    max_gsl_length_km, max_isl_length_km : float
        Range limits (``description.txt``).  An ISL longer than its limit
        is an error, as in Hypatia.
    warm_start : bool
        Keep provably unchanged shortest-path trees from the previous step.
    uniqueness_margin_km : float
        How much worse every alternative must be for a kept tree (1 mm).
    tight_slack_km : float
        Non-tree edges whose slack is below this are re-checked at every step;
        the others only when the bound on how far route lengths moved since
        their last check could have used up their slack (see Notes).

    Notes
    -----
    Per destination ``d`` the router keeps the shortest-path tree toward
    ``d``, the route lengths ``D[v, d]`` along it and, from the last full check
    of that tree, its *tight* non-tree edges (slack ``D[u] + w(u, v) - D[v]``
    below ``tight_slack_km``).  At each step:

    1. ``D`` is re-summed along the kept trees with the new link lengths,
       level by level (all destinations at once, one vectorised operation per
       tree depth);
    2. a tree is re-run through Dijkstra when a tight edge's slack, or a
       station -> satellite edge's, falls below ``uniqueness_margin_km``, or
       when its first hop went out of range;
    3. a tree is fully re-checked when ``2 max_v |D - D_ref| + the sum of the
       largest per-step ISL length changes`` since its last full check reaches
       ``tight_slack_km``: until then no other edge can have become tight.

    A kept tree is therefore always the unique shortest-path tree (every
    alternative worse by the margin), i.e. what a fresh Dijkstra returns.  The
    route lengths of re-run trees are Dijkstra's own: the same additions in
    the same order as the level sums, hence bit-identical.

    Arrays are kept satellite-major (``[S, G]``, the layout of ``next_hop``).
    """

    def __init__(
        self,
        num_satellites: int,
        num_ground_stations: int,
        isl_pairs: ArrayLike,
        max_gsl_length_km: float,
        max_isl_length_km: float,
        *,
        warm_start: bool = True,
        uniqueness_margin_km: float = 1e-6,
        tight_slack_km: float = 20.0,
    ):
        S, G = int(num_satellites), int(num_ground_stations)
        self.S, self.G, self.N = S, G, S + G
        pairs = np.asarray(isl_pairs, dtype=np.int64).reshape(-1, 2)
        if pairs.size and (pairs.min() < 0 or pairs.max() >= S):
            raise ScenarioError(f"ISL satellite ids must be in 0..{S - 1}, got {pairs.min()}..{pairs.max()}")
        self.pairs = pairs
        self.max_gsl_km = float(max_gsl_length_km)
        self.max_isl_km = float(max_isl_length_km)
        self.warm_start = bool(warm_start)
        self.margin_km = float(uniqueness_margin_km)
        self.tight_km = float(tight_slack_km)
        E = pairs.shape[0]
        self.E = E
        # Directed ISL edges sorted by source: the static part of the CSR graph.
        src = np.concatenate([pairs[:, 0], pairs[:, 1]])
        dst = np.concatenate([pairs[:, 1], pairs[:, 0]])
        eid = np.concatenate([np.arange(E), np.arange(E)])
        order = np.lexsort((dst, src))
        src, dst, eid = src[order], dst[order], eid[order]
        self._isl_eid = eid
        self._isl_indptr = np.zeros(S + 1, dtype=np.int64)
        np.cumsum(np.bincount(src, minlength=S), out=self._isl_indptr[1:])
        self._indices_static = dst.astype(np.int32)
        # Padded neighbour table: nbr[v, k] = u (S = none), nbr_eid[v, k] = ISL id (E = the zero-length pad).
        deg = np.diff(self._isl_indptr)
        self._max_deg = int(deg.max()) if S and E else 0
        width = max(self._max_deg, 1)
        k_of = np.arange(2 * E) - self._isl_indptr[src]
        self._nbr = np.full((S, width), S, dtype=np.int64)
        self._nbr_eid = np.full((S, width), E, dtype=np.int64)
        self._nbr[src, k_of] = dst
        self._nbr_eid[src, k_of] = eid
        self._nbr_pad = self._nbr == S
        # Hypatia's interface numbers, looked up by key u * S + v.
        if_a, if_b, self.num_isls = interface_numbers(pairs, S)
        keys = np.concatenate([pairs[:, 0] * S + pairs[:, 1], pairs[:, 1] * S + pairs[:, 0]])
        korder = np.argsort(keys)
        self._if_keys = keys[korder]
        self._if_here = np.concatenate([if_a, if_b])[korder]
        self._if_there = np.concatenate([if_b, if_a])[korder]
        self._pred: NDArray[np.int64] | None = None  # [S, G]: sat pred, S + d (the root), -1 unreachable
        self.stats = {"steps": 0, "dijkstra_rows": 0, "refreshed_rows": 0, "tight_edge_checks": 0, "relayouts": 0}
        self._headroom = 1.1

    # ------------------------------------------------------------------ per-step pieces

    def _check_isl_lengths(self, isl_km: NDArray[np.float64], t_ns) -> None:
        if isl_km.size and not (isl_km <= self.max_isl_km).all():
            bad = np.flatnonzero(~(isl_km <= self.max_isl_km))
            e = int(bad[0])
            a, b = self.pairs[e]
            when = f" at t = {t_ns} ns" if t_ns is not None else ""
            raise ScenarioError(
                f"the ISL between satellites {a} and {b} is {isl_km[e] * 1000:.2f} m long{when}, more than the "
                f"maximum ISL length {self.max_isl_km * 1000:.2f} m ({len(bad)} ISL(s) too long); Hypatia treats "
                "this as an error: raise max_isl_length_m (--max-isl-length-m / description.txt) or drop those ISLs"
            )

    def _gsl_links(self, r_sat: NDArray[np.float64], r_gs: NDArray[np.float64]):
        """In-range (station, satellite, length) triples, sorted by station then satellite."""
        # |g - s|^2 by the dot-product identity (one small matmul) to find the
        # candidates within the limit + 1 m, then their exact lengths.
        d2 = r_gs @ r_sat.T
        d2 *= -2.0
        d2 += np.einsum("gi,gi->g", r_gs, r_gs)[:, None]
        d2 += np.einsum("si,si->s", r_sat, r_sat)[None, :]
        lim = self.max_gsl_km + 1e-3
        # (flatnonzero + divmod: ~10x faster than 2-d nonzero on a sparse mask)
        gi, si = np.divmod(np.flatnonzero(d2 <= lim * lim), r_sat.shape[0])
        diff = r_gs[gi] - r_sat[si]
        length = np.sqrt(np.einsum("ki,ki->k", diff, diff))
        keep = length <= self.max_gsl_km
        return gi[keep], si[keep], length[keep]

    def _graph(self, isl_km, gi, si, glen) -> csr_matrix:
        S, N = self.S, self.N
        indptr = np.empty(N + 1, dtype=np.int32)
        indptr[: S + 1] = self._isl_indptr
        indptr[S + 1 :] = self._isl_indptr[-1] + np.cumsum(np.bincount(gi, minlength=self.G))
        indices = np.concatenate([self._indices_static, si.astype(np.int32)])
        data = np.concatenate([isl_km[self._isl_eid], glen])
        return csr_matrix((data, indices, indptr), shape=(N, N))

    def _dijkstra(self, graph: csr_matrix, rows: NDArray[np.int64]):
        """Trees toward the stations ``rows``: (pred [k, S] in our convention, dist [k, S])."""
        S = self.S
        dist, pred = dijkstra(graph, directed=True, indices=S + rows, return_predecessors=True)
        pred = pred[:, :S].astype(np.int64)
        pred[pred == _NO_PRED] = -1
        self.stats["dijkstra_rows"] += len(rows)
        return pred, dist[:, :S]

    def _depths(self, pred: NDArray[np.int64]) -> NDArray[np.int64]:
        """Hops from the root station (1 for its direct satellites, 0 if unreachable): [k, S]."""
        k, S = pred.shape
        base = (np.arange(k) * (S + 1))[:, None]
        par = np.where((pred >= 0) & (pred < S), pred, S) + base
        par = np.concatenate([par, base + S], axis=1).ravel()
        hops = np.concatenate([(pred >= 0).astype(np.int64), np.zeros((k, 1), dtype=np.int64)], axis=1).ravel()
        while True:  # pointer jumping: ceil(log2(depth)) + 1 rounds
            up = par[par]
            hops = hops + hops[par] * (par != up)
            if np.array_equal(up, par):
                break
            par = up
        return hops.reshape(k, S + 1)[:, :S]

    # Level layout: one flat buffer; tree depth k is a [G, cap[k]] block at off[k].
    # Cell ``zero`` holds 0 (the parent of padding cells), cell ``inf`` holds inf
    # (where unreachable satellites point).
    def _alloc_levels(self, caps: NDArray[np.int64]) -> None:
        G = self.G
        self._cap = caps
        self._off = np.zeros(len(caps) + 1, dtype=np.int64)
        np.cumsum(caps * G, out=self._off[1:])
        n = int(self._off[-1])
        self._zero_cell, self._inf_cell = n, n + 1
        self._lv_par = np.full(n + 2, self._zero_cell, dtype=np.int64)
        self._lv_eid = np.full(n + 2, self.E, dtype=np.int64)
        self._val = np.zeros(n + 2)
        self._val[self._inf_cell] = np.inf
        self._pos = np.full((self.S, G), self._inf_cell, dtype=np.int64)  # [S, G]
        self._gsl_zero = G * (self.S + 1)  # index of the 0 appended to the flattened GSL table

    def _layout_rows(self, rows: NDArray[np.int64], pred: NDArray[np.int64], depth: NDArray[np.int64]) -> bool:
        """Write trees ``rows`` (pred/depth [k, S]) into the level layout; False if a capacity is exceeded."""
        S, k = self.S, len(rows)
        k_max = int(depth.max()) if depth.size else 0
        cnt = np.bincount((np.arange(k)[:, None] * (k_max + 1) + depth).ravel(), minlength=k * (k_max + 1))
        cnt = cnt.reshape(k, k_max + 1)
        if k_max >= len(self._cap) or (cnt[:, 1:] > self._cap[1 : k_max + 1]).any():
            return False
        # Free the cells the old trees used.
        old = self._pos[:, rows].ravel()
        old = old[old < self._zero_cell]
        self._lv_par[old] = self._zero_cell
        self._lv_eid[old] = self.E
        order = np.argsort(depth, axis=1, kind="stable")
        dsort = np.take_along_axis(depth, order, axis=1)
        starts = np.zeros((k, k_max + 2), dtype=np.int64)
        np.cumsum(cnt, axis=1, out=starts[:, 1:])
        slot = np.arange(S)[None, :] - np.take_along_axis(starts, dsort, axis=1)
        cell = self._off[dsort] + rows[:, None] * self._cap[dsort] + slot
        cell = np.where(dsort > 0, cell, self._inf_cell)
        pos = np.empty((k, S), dtype=np.int64)
        np.put_along_axis(pos, order, cell, axis=1)
        j, v = np.divmod(np.flatnonzero(depth > 0), S)
        p = pred[j, v]
        top = p >= S  # depth 1: read the station's GSL length
        d = rows[j]
        par_cell = np.where(top, d * (S + 1) + v, pos[j, np.where(top, 0, p)])
        cells = pos[j, v]
        self._lv_par[cells] = par_cell
        self._lv_eid[cells] = np.where(top, self.E, self._tree_eid_of(p, v))
        self._pos[:, rows] = pos.T
        return True

    def _tree_eid_of(self, pred_v: NDArray[np.int64], v: NDArray[np.int64]) -> NDArray[np.int64]:
        is_sat = pred_v < self.S
        out = np.full(v.shape, self.E, dtype=np.int64)
        if is_sat.any():
            vv, u = v[is_sat], pred_v[is_sat]
            out[is_sat] = self._nbr_eid[vv, np.argmax(self._nbr[vv] == u[:, None], axis=1)]
        return out

    def _set_trees(self, rows: NDArray[np.int64], pred: NDArray[np.int64]) -> None:
        depth = self._depths(pred)
        self._pred[:, rows] = pred.T
        # The tree's station -> satellite links, for test (a) of `step`.
        j, v = np.divmod(np.flatnonzero(pred >= self.S), self.S)
        split = np.searchsorted(j, np.arange(len(rows) + 1))
        for i, d in enumerate(rows.tolist()):
            self._roots[d] = v[split[i] : split[i + 1]]
        self._root_cat = None
        self._depth_max[rows] = depth.max(axis=1) if depth.size else 0
        if not self._layout_rows(rows, pred, depth):
            # Grow the capacities (from every tree, with headroom) and lay out all rows again.
            self.stats["relayouts"] += 1
            all_pred = np.ascontiguousarray(self._pred.T)
            all_depth = self._depths(all_pred)
            k_max = int(all_depth.max())
            G = self.G
            cnt = np.bincount((np.arange(G)[:, None] * (k_max + 1) + all_depth).ravel(), minlength=G * (k_max + 1))
            caps = np.zeros(k_max + 9, dtype=np.int64)
            caps[1 : k_max + 1] = cnt.reshape(G, k_max + 1)[:, 1:].max(axis=0)
            caps[1:] = np.ceil(caps[1:] * self._headroom).astype(np.int64) + 4
            self._alloc_levels(caps)
            if not self._layout_rows(np.arange(G), all_pred, all_depth):  # pragma: no cover
                raise AssertionError("level layout capacities too small after growing them")

    def _level_sums(self, isl_pad: NDArray[np.float64], gsl_flat: NDArray[np.float64]) -> NDArray[np.float64]:
        """Route lengths along the kept trees: float64[S, G]."""
        val, par, eid, off = self._val, self._lv_par, self._lv_eid, self._off
        lo, hi = off[1], off[2]
        val[lo:hi] = gsl_flat[np.minimum(par[lo:hi], self._gsl_zero)]
        for k in range(2, int(self._depth_max.max()) + 1):
            lo, hi = off[k], off[k + 1]
            np.add(val[par[lo:hi]], isl_pad[eid[lo:hi]], out=val[lo:hi])
        return val[self._pos]

    #: Elements per temporary array in the chunked full checks (bounds memory for big networks).
    _CHUNK_ELEMENTS = 1 << 21

    def _refresh(self, rows: NDArray[np.int64], dist: NDArray[np.float64], isl_pad: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Full check of trees ``rows``: True where not unique-optimal; else record their tight edges."""
        per = max(1, self._CHUNK_ELEMENTS // max(1, self.S * max(self._max_deg, 1)))
        if len(rows) > per:
            return np.concatenate([self._refresh(rows[i : i + per], dist, isl_pad) for i in range(0, len(rows), per)])
        k = len(rows)
        if not k:
            return np.zeros(0, dtype=bool)
        G = self.G
        self.stats["refreshed_rows"] += k
        d_rows = np.ascontiguousarray(dist[:, rows].T)  # [k, S]
        self._d_ref[:, rows] = dist[:, rows]
        self._w_since[rows] = 0.0
        if not self._max_deg:
            for r in rows.tolist():
                self._tight_new[r] = None
            return np.zeros(k, dtype=bool)
        dpad = np.concatenate([d_rows, np.full((k, 1), np.inf)], axis=1)
        du = dpad[:, self._nbr]  # [k, S, K]
        dv = d_rows[:, :, None]
        with np.errstate(invalid="ignore"):
            slack = du + isl_pad[self._nbr_eid][None] - dv
        # inf - inf: an unreachable satellite next to a reachable one is a violation; two unreachable ones are not.
        unreach = np.isinf(dv)
        if unreach.any():
            slack = np.where(unreach, np.where(np.isinf(du), np.inf, -np.inf), slack)
        slack[(self._nbr[None] == self._pred[:, rows].T[:, :, None]) | self._nbr_pad[None]] = np.inf
        bad = (slack < self.margin_km).any(axis=(1, 2))
        j, v, kk = np.unravel_index(np.flatnonzero(slack < self.tight_km), slack.shape)
        u, e = self._nbr[v, kk], self._nbr_eid[v, kk]
        split = np.searchsorted(j, np.arange(k + 1))
        for i, r in enumerate(rows.tolist()):
            a, b = split[i], split[i + 1]
            # Flat indices into the [S, G] arrays (u * G + d, v * G + d) and the ISL id.
            self._tight_new[r] = (u[a:b] * G + r, v[a:b] * G + r, e[a:b]) if b > a else None
        return bad

    def _tight_edges(self):
        """The tight edges of every tree: flat (u, d) and (v, d) indices into [S, G] arrays, and ISL ids."""
        if self._tight_new:
            fu, fv, e = self._tight_cat
            drop = np.zeros(self.G, dtype=bool)
            drop[list(self._tight_new)] = True
            keep = ~drop[fv % self.G]
            parts = [(fu[keep], fv[keep], e[keep])] + [t for t in self._tight_new.values() if t is not None]
            self._tight_cat = tuple(np.concatenate([p[i] for p in parts]) for i in range(3))
            self._tight_new = {}
        return self._tight_cat

    # ------------------------------------------------------------------ one step

    def step(self, r_sat_km: NDArray[np.float64], r_gs_km: NDArray[np.float64], t_ns: int | None = None) -> StepState:
        """Forwarding state at one step.

        Parameters
        ----------
        r_sat_km : float64[S, 3]
            Satellite positions, km, Earth-fixed.
        r_gs_km : float64[G, 3]
            Ground-station positions, km, same frame.
        t_ns : int, optional
            For error messages.

        Returns
        -------
        StepState
        """
        S, G = self.S, self.G
        r_sat = np.ascontiguousarray(r_sat_km, dtype=np.float64)
        r_gs = np.ascontiguousarray(r_gs_km, dtype=np.float64)
        isl_km = link_lengths_km(r_sat, self.pairs)
        self._check_isl_lengths(isl_km, t_ns)
        self.stats["steps"] += 1
        if G == 0:
            return StepState(np.full((self.N, 0), -1, dtype=np.int32), np.zeros((0, S)), np.zeros((0, 0)), 0)
        isl_pad = np.append(isl_km, 0.0)
        gi, si, glen = self._gsl_links(r_sat, r_gs)
        # GSL lengths as a flat [G, S + 1] table (inf: out of range) plus a final 0; reused between steps.
        if getattr(self, "_gsl_flat", None) is None:
            self._gsl_flat = np.full(G * (S + 1) + 1, np.inf)
            self._gsl_flat[-1] = 0.0
            self._gsl_set = np.zeros(0, dtype=np.int64)
        gsl_flat = self._gsl_flat
        gsl_flat[self._gsl_set] = np.inf
        self._gsl_set = gi * (S + 1) + si
        gsl_flat[self._gsl_set] = glen
        if self._pred is None or not self.warm_start:
            rows = np.arange(G)
            pred, _ = self._dijkstra(self._graph(isl_km, gi, si, glen), rows)
            self._pred = np.full((S, G), -1, dtype=np.int64)
            self._roots = [np.zeros(0, dtype=np.int64)] * G
            self._depth_max = np.zeros(G, dtype=np.int64)
            self._alloc_levels(np.zeros(2, dtype=np.int64))  # empty; grown to fit by _set_trees
            self._set_trees(rows, pred)
            dist = self._level_sums(isl_pad, gsl_flat)
            if self.warm_start:
                self._d_ref = np.empty((S, G))
                self._w_since = np.zeros(G)
                empty = np.zeros(0, dtype=np.int64)
                self._tight_cat = (empty, empty, empty)
                self._tight_new = {}  # rows refreshed since the last _tight_edges(): their new lists
                self._refresh(rows, dist, isl_pad)
            self._next_hop = np.full((self.N, G), -1, dtype=np.int32)
            self._next_hop[:S] = self._pred
        else:
            dist = self._level_sums(isl_pad, gsl_flat)
            self._w_since += np.abs(isl_km - self._isl_prev).max() if isl_km.size else 0.0
            bad = np.zeros(G, dtype=bool)
            # (a) a station -> satellite link of the tree went out of range
            if self._root_cat is None:
                rr = np.repeat(np.arange(G), [len(v) for v in self._roots])
                self._root_cat = (rr * (S + 1) + np.concatenate(self._roots), rr)
            root_cells, root_rows = self._root_cat
            bad[root_rows[~np.isfinite(gsl_flat[root_cells])]] = True
            # (b) station -> satellite links outside the tree
            nontree = self._pred[si, gi] != S + gi
            if nontree.any():
                g, s, ln = gi[nontree], si[nontree], glen[nontree]
                bad[g[ln < dist[s, g] + self.margin_km]] = True
            # (c) tight ISL edges
            fu, fv, e = self._tight_edges()
            if fu.size:
                flat = dist.ravel()
                with np.errstate(invalid="ignore"):  # inf - inf in rows already marked bad by (a)
                    slack = flat[fu] + isl_km[e] - flat[fv]
                bad[(fv[~(slack >= self.margin_km)] % G)] = True
                self.stats["tight_edge_checks"] += fu.size
            # (d) rows whose slack bound ran out get a full check
            with np.errstate(invalid="ignore"):
                moved = np.fmax.reduce(np.abs(dist - self._d_ref), axis=0)
            stale_rows = np.flatnonzero(~bad & ~(2.0 * moved + self._w_since < self.tight_km - self.margin_km))
            bad[stale_rows[self._refresh(stale_rows, dist, isl_pad)]] = True
            rows = np.flatnonzero(bad)
            if rows.size:
                pred, new_dist = self._dijkstra(self._graph(isl_km, gi, si, glen), rows)
                self._set_trees(rows, pred)
                dist[:, rows] = new_dist.T
                self._refresh(rows, dist, isl_pad)
                self._next_hop[:S, rows] = self._pred[:, rows]
        self._isl_prev = isl_km
        gs_len = self._ground_choice(dist, gi, si, glen, self._next_hop)
        return StepState(self._next_hop.copy(), dist.T, gs_len, int(rows.size))

    def _ground_choice(self, dist, gi, si, glen, next_hop) -> NDArray[np.float64]:
        """Each station's first satellite toward each other station (rows S.. of next_hop)."""
        S, G = self.S, self.G
        gs_len = np.full((G, G), np.inf)
        choice = np.full((G, G), -1, dtype=np.int64)  # [src, dst]
        if gi.size:
            counts = np.bincount(gi, minlength=G)
            start = np.zeros(G + 1, dtype=np.int64)
            np.cumsum(counts, out=start[1:])
            slot = np.arange(gi.size) - start[gi]
            k_max = int(counts.max())
            cand = np.full((G, k_max), S, dtype=np.int64)  # S: the inf row of dpad
            cand[gi, slot] = si
            clen = np.full((G, k_max), np.inf)
            clen[gi, slot] = glen
            dpad = np.concatenate([dist, np.full((1, G), np.inf)], axis=0)
            per = max(1, self._CHUNK_ELEMENTS // (k_max * G))
            for lo in range(0, G, per):
                hi = min(G, lo + per)
                total = dpad[cand[lo:hi]]  # [src, candidate, dst]
                total += clen[lo:hi, :, None]
                # Candidates are sorted by satellite id, so argmin's first minimum is Hypatia's tie-break.
                k = np.argmin(total, axis=1)
                best = np.take_along_axis(total, k[:, None, :], axis=1)[:, 0, :]
                gs_len[lo:hi] = best
                choice[lo:hi] = np.where(np.isfinite(best), np.take_along_axis(cand[lo:hi], k, axis=1), -1)
        diag = np.arange(G)
        choice[diag, diag] = -1
        gs_len[diag, diag] = 0.0
        next_hop[S:] = choice
        return gs_len

    # ------------------------------------------------------------------ interfaces

    def interfaces(self, node: NDArray[np.int64], next_hop: NDArray[np.int64]):
        """Hypatia's ``(if_on_current, if_on_next_hop)`` for hops ``node -> next_hop``.

        ISL interfaces are numbered per satellite in ``isls.txt`` order; a
        satellite's GSL interface comes after its ISLs; a station has one
        interface, 0.  Unreachable (-1) hops give (-1, -1).
        """
        S = self.S
        node = np.asarray(node, dtype=np.int64)
        nh = np.asarray(next_hop, dtype=np.int64)
        here = np.full(node.shape, -1, dtype=np.int64)
        there = np.full(node.shape, -1, dtype=np.int64)
        isl = (node < S) & (nh >= 0) & (nh < S)
        if isl.any():
            pos = np.searchsorted(self._if_keys, node[isl] * S + nh[isl])
            here[isl] = self._if_here[pos]
            there[isl] = self._if_there[pos]
        down = (node < S) & (nh >= S)
        here[down] = self.num_isls[node[down]]
        there[down] = 0
        up = (node >= S) & (nh >= 0)
        here[up] = 0
        there[up] = self.num_isls[nh[up]]
        return here, there


# --------------------------------------------------------------------------- files


def _format_rows(cols: list[NDArray[np.int64]]) -> str:
    """Comma-separated integer columns, one line per row (Hypatia's ``"%d,%d,...\n"``)."""
    n = cols[0].size
    if not n:
        return ""
    if n < 4096:
        fmt = ",".join(["%d"] * len(cols)) + "\n"
        return "".join(map(fmt.__mod__, zip(*(c.tolist() for c in cols))))
    block = 1 << 18  # rows per block: bounds the temporaries (~100 MB for millions of lines)
    return b"".join(
        _format_rows_vectorised([c[i : i + block] for c in cols]) for i in range(0, n, block)
    ).decode("ascii")


def _format_rows_vectorised(cols: list[NDArray[np.int64]]) -> bytes:
    """`_format_rows` for large tables: digits scattered into one byte buffer (~10x faster)."""
    vals = [np.asarray(c, dtype=np.int64) for c in cols]
    neg = [v < 0 for v in vals]
    mag = [np.abs(v) for v in vals]
    ndig = []
    for m in mag:
        d = np.ones(m.shape, dtype=np.int64)
        p = 10
        while True:
            more = m >= p
            if not more.any():
                break
            d += more
            p *= 10
        ndig.append(d)
    widths = [d + ng for d, ng in zip(ndig, neg)]
    line = sum(widths) + len(cols)  # commas and the newline
    start = np.zeros(line.size, dtype=np.int64)
    np.cumsum(line[:-1], out=start[1:])
    buf = np.empty(int(start[-1] + line[-1]), dtype=np.uint8)
    at = start.copy()
    for j, (m, d, ng, w) in enumerate(zip(mag, ndig, neg, widths)):
        buf[at[ng]] = ord("-")
        first = at + ng
        k, p = 0, 1
        rest = m
        while True:
            has = d > k
            if not has.any():
                break
            buf[(first + d - 1 - k)[has]] = (48 + (rest[has] // p) % 10).astype(np.uint8)
            k += 1
            p *= 10
        at = at + w
        buf[at] = ord(",") if j < len(cols) - 1 else ord("\n")
        at = at + 1
    return buf.tobytes()


def fstate_text(router: FreeOneOnlyOverIsls, next_hop: NDArray[np.int32], previous: NDArray[np.int32] | None) -> str:
    """Lines of ``fstate_<t>.txt``: every entry at the first step, then only the changed ones.

    Hypatia writes an entry when the decision tuple (next hop, both interfaces)
    differs from the previous step's; the interfaces are a function of the hop,
    so comparing hops is the same test.  Order: satellites by id, then stations,
    each by destination (C order of ``next_hop``).
    """
    S, G = router.S, router.G
    if previous is None:
        mask = np.ones(next_hop.shape, dtype=bool)
    else:
        mask = next_hop != previous
    diag = np.arange(G)
    mask[S + diag, diag] = False
    flat = np.flatnonzero(mask)
    node = flat // G
    dst = flat % G
    nh = next_hop.ravel()[flat].astype(np.int64)
    here, there = router.interfaces(node, nh)
    return _format_rows([node, dst + S, nh, here, there])


def gsl_if_bandwidth_text(router: FreeOneOnlyOverIsls, bandwidth: NDArray[np.float64], first: bool) -> str:
    """Lines of ``gsl_if_bandwidth_<t>.txt``: all nodes at time 0, nothing later (as Hypatia)."""
    if not first:
        return ""
    iface = np.concatenate([router.num_isls, np.zeros(router.G, dtype=np.int64)])
    return "".join("%d,%d,%f\n" % (k, i, b) for k, (i, b) in enumerate(zip(iface.tolist(), np.asarray(bandwidth).tolist())))


def dynamic_state_dirname(step_ms: int, duration_s: int) -> str:
    """Hypatia's ``dynamic_state_<step>ms_for_<duration>s``."""
    return f"dynamic_state_{int(step_ms)}ms_for_{int(duration_s)}s"


@dataclass
class DynamicStateSummary:
    """What `generate_dynamic_state` did."""

    directory: Path
    steps: int
    fstate_lines: int
    dijkstra_sources: int
    unreachable_entries_first_step: int
    seconds: float
    seconds_by_part: dict[str, float] = field(default_factory=dict)


def _check_network(network: SatelliteNetwork) -> None:
    info = network.gsl_interfaces
    if not (info.number_of_interfaces == 1).all():
        k = int(np.flatnonzero(info.number_of_interfaces != 1)[0])
        raise ScenarioError(
            f"gsl_interfaces_info.txt gives node {k} {info.number_of_interfaces[k]} GSL interfaces; "
            "algorithm_free_one_only_over_isls needs exactly one per node (Hypatia's 'free one')"
        )


def generate_dynamic_state(
    output_dir: str | Path,
    network: SatelliteNetwork,
    duration_s: int,
    step_ms: int,
    *,
    geometry: str = "leonet",
    warm_start: bool = True,
    chunk_steps: int = 100,
    progress: Callable[[int, int], None] | None = None,
) -> DynamicStateSummary:
    """Write ``dynamic_state_<step>ms_for_<duration>s/{fstate,gsl_if_bandwidth}_<t_ns>.txt``.

    Steps ``t = 0, step, ...`` strictly before ``duration_s`` (Hypatia's
    ``range(0, end, step)``), nanoseconds since the TLE epoch.

    Parameters
    ----------
    output_dir : path
        The satellite-network directory; the dynamic-state folder is created in it.
    network : SatelliteNetwork
    duration_s, step_ms : int
        As Hypatia's ``main_*.py`` arguments (whole seconds, whole milliseconds).
    geometry : {"leonet", "pyephem"}
    warm_start : bool
        See `FreeOneOnlyOverIsls`.
    chunk_steps : int
        Steps propagated per SGP4 call.
    progress : callable(done, total), optional

    Returns
    -------
    DynamicStateSummary
    """
    from sgp4.api import SatrecArray

    if int(step_ms) <= 0 or int(step_ms) != step_ms:
        raise ScenarioError(f"step_ms must be a positive whole number of milliseconds, got {step_ms}")
    if int(duration_s) <= 0 or int(duration_s) != duration_s:
        raise ScenarioError(f"duration_s must be a positive whole number of seconds, got {duration_s}")
    _check_network(network)
    t0 = _time.perf_counter()
    parts = {"propagate": 0.0, "route": 0.0, "write": 0.0}
    out = Path(output_dir) / dynamic_state_dirname(step_ms, duration_s)
    # The folder is written under a temporary name and renamed into place at
    # the end: a killed or failed run never leaves half a dynamic state.
    for stale in Path(output_dir).glob(f".{out.name}.*.tmp"):
        shutil.rmtree(stale, ignore_errors=True)
    building = out.parent / f".{out.name}.{os.getpid()}.tmp"
    building.mkdir(parents=True)
    step_ns = int(step_ms) * 1_000_000
    offsets = np.arange(0, int(duration_s) * 1_000_000_000, step_ns, dtype=np.int64)
    S, G = network.num_satellites, network.num_ground_stations
    router = FreeOneOnlyOverIsls(
        S, G, network.isls,
        network.description.max_gsl_length_m / 1000.0,
        network.description.max_isl_length_m / 1000.0,
        warm_start=warm_start,
    )
    satrecs = SatrecArray(network.tles.satrecs())
    bandwidth = network.gsl_interfaces.aggregate_max_bandwidth
    previous = None
    lines = 0
    sources = 0
    unreachable0 = 0
    try:
        for lo in range(0, len(offsets), chunk_steps):
            chunk = offsets[lo : lo + chunk_steps]
            ta = _time.perf_counter()
            r_sat, r_gs = network_positions(network, chunk, geometry, satrecs)
            parts["propagate"] += _time.perf_counter() - ta
            for k, t_ns in enumerate(chunk.tolist()):
                ta = _time.perf_counter()
                state = router.step(r_sat[k], r_gs[k], t_ns)
                tb = _time.perf_counter()
                text = fstate_text(router, state.next_hop, previous)
                with open(building / f"fstate_{t_ns}.txt", "w", encoding="ascii") as f:
                    f.write(text)
                with open(building / f"gsl_if_bandwidth_{t_ns}.txt", "w", encoding="ascii") as f:
                    f.write(gsl_if_bandwidth_text(router, bandwidth, previous is None))
                if previous is None:
                    unreachable0 = int((state.next_hop[:S] < 0).sum())
                lines += text.count("\n")
                sources += state.dijkstra_sources
                previous = state.next_hop
                parts["route"] += tb - ta
                parts["write"] += _time.perf_counter() - tb
                if progress is not None:
                    progress(lo + k + 1, len(offsets))
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    _swap_into_place(building, out)
    return DynamicStateSummary(out, len(offsets), lines, sources, unreachable0, _time.perf_counter() - t0, parts)


def _swap_into_place(building: Path, out: Path) -> None:
    """Rename the finished folder ``building`` to ``out``, replacing a previous ``out`` as a whole."""
    old = None
    if out.exists() or out.is_symlink():
        old = out.parent / f".{out.name}.{os.getpid()}.old.tmp"
        os.replace(out, old)
    os.replace(building, out)
    if old is not None:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)


# --------------------------------------------------------------------------- paths


def follow_path(next_hop: NDArray[np.int32], src: int, dst: int, num_satellites: int) -> list[int] | None:
    """Node path from ``src`` to ground station node ``dst`` (Hypatia's ``get_path``), or None.

    Raises
    ------
    ScenarioError
        If ``dst`` is not a ground-station node, or the state loops.
    """
    S = num_satellites
    G = next_hop.shape[1]
    if not (S <= dst < S + G):
        raise ScenarioError(f"destination {dst} is not a ground-station node ({S}..{S + G - 1}): forwarding state only targets ground stations")
    if not (0 <= src < S + G):
        raise ScenarioError(f"source {src} is not a node (0..{S + G - 1})")
    d = dst - S
    path = [src]
    cur = src
    while cur != dst:
        nxt = int(next_hop[cur, d])
        if nxt < 0:
            return None
        path.append(nxt)
        cur = nxt
        if len(path) > S + G + 1:
            raise ScenarioError(f"the forwarding state loops between {src} and {dst}: {path[:12]}...")
    return path


def path_length_km(path: list[int], r_sat_km: NDArray[np.float64], r_gs_km: NDArray[np.float64]) -> float:
    """Sum of the straight-line lengths of a path's hops, km."""
    S = r_sat_km.shape[0]
    p = np.asarray(path, dtype=np.int64)
    pos = np.where((p < S)[:, None], r_sat_km[np.minimum(p, S - 1)], r_gs_km[np.clip(p - S, 0, None)])
    return float(np.linalg.norm(np.diff(pos, axis=0), axis=1).sum())


def format_path(path: list[int] | None) -> str:
    """Hypatia's path text: ids joined by ``-``, or ``Unreachable``."""
    return "Unreachable" if path is None else "-".join(map(str, path))


def read_fstate_file(path: str | Path, into: NDArray[np.int32], num_satellites: int) -> int:
    """Apply one ``fstate_<t>.txt`` to a next-hop table in place; returns its line count."""
    from ..errors import InputFileError

    from ..inputs import read_input_bytes

    try:
        text = read_input_bytes(path, "a Hypatia fstate file").decode("ascii")
    except UnicodeDecodeError as exc:
        raise InputFileError(str(path), f"is not ASCII text (byte {exc.start})") from None
    if not text.strip():
        return 0
    try:
        arr = np.array(text.replace("\n", ",").rstrip(",").split(","), dtype=np.int64).reshape(-1, 5)
    except ValueError:
        raise InputFileError(str(path), "is not lines of 5 integers 'current,destination,next_hop,if_current,if_next'") from None
    S = num_satellites
    cur, dst, nh = arr[:, 0], arr[:, 1] - S, arr[:, 2]
    n, g = into.shape
    bad = (cur < 0) | (cur >= n) | (dst < 0) | (dst >= g) | (nh < -1) | (nh >= n)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise InputFileError(
            str(path), f"entry {arr[k].tolist()} names a node outside the network ({n} nodes, destinations {S}..{n - 1})",
            line=k + 1,
        )
    into[cur, dst] = nh
    return arr.shape[0]


def iter_states(
    network: SatelliteNetwork,
    duration_s: int,
    step_ms: int,
    *,
    state_dir: str | Path | None = None,
    geometry: str = "leonet",
    chunk_steps: int = 100,
):
    """Yield ``(t_ns, next_hop, r_sat_km, r_gs_km)`` per step.

    With ``state_dir`` the forwarding state is read from its ``fstate_*.txt``
    files (Hypatia's or leonet's); otherwise it is computed.
    """
    from sgp4.api import SatrecArray

    from ..errors import InputFileError

    step_ns = int(step_ms) * 1_000_000
    offsets = np.arange(0, int(duration_s) * 1_000_000_000, step_ns, dtype=np.int64)
    S, G = network.num_satellites, network.num_ground_stations
    router = None
    table = None
    if state_dir is None:
        _check_network(network)
        router = FreeOneOnlyOverIsls(
            S, G, network.isls, network.description.max_gsl_length_m / 1000.0, network.description.max_isl_length_m / 1000.0
        )
    else:
        table = np.full((S + G, G), -1, dtype=np.int32)
    satrecs = SatrecArray(network.tles.satrecs())
    for lo in range(0, len(offsets), chunk_steps):
        chunk = offsets[lo : lo + chunk_steps]
        r_sat, r_gs = network_positions(network, chunk, geometry, satrecs)
        for k, t_ns in enumerate(chunk.tolist()):
            if router is not None:
                nh = router.step(r_sat[k], r_gs[k], t_ns).next_hop
            else:
                f = Path(state_dir) / f"fstate_{t_ns}.txt"
                if not f.exists():
                    raise InputFileError(
                        str(f), f"is missing: the state directory has no step at t = {t_ns} ns; "
                        "check --step-ms and --duration-s against its name dynamic_state_<step>ms_for_<duration>s"
                    )
                read_fstate_file(f, table, S)
                nh = table
            yield t_ns, nh, r_sat[k], r_gs[k]


@dataclass(frozen=True)
class PairTimeline:
    """Route and RTT of one (src, dst) pair over time, as Hypatia's ``print_routes_and_rtt``.

    Attributes
    ----------
    t_ns : int64[T]
    rtt_ns : float64[T]
        (path there + path back) / c; 0 where either way is unreachable (Hypatia's convention).
    path_changes : list of (t_ns, path or None)
        The path there, at each step where it changes (and at the first step).
    """

    src: int
    dst: int
    t_ns: NDArray[np.int64]
    rtt_ns: NDArray[np.float64]
    path_changes: list[tuple[int, list[int] | None]]

    def path_text(self) -> str:
        """The ``networkx_path_<src>_to_<dst>.txt`` text."""
        return "".join(f"{t},{format_path(p)}\n" for t, p in self.path_changes)

    def rtt_text(self) -> str:
        """The ``networkx_rtt_<src>_to_<dst>.txt`` text (``%d,%.10f``)."""
        return "".join("%d,%.10f\n" % (t, r) for t, r in zip(self.t_ns.tolist(), self.rtt_ns.tolist()))


def pair_timeline(states, src: int, dst: int, num_satellites: int) -> PairTimeline:
    """Follow ``src -> dst`` and back at every step of `iter_states` output."""
    S = num_satellites
    if not src >= S:
        raise ScenarioError(f"source {src} must be a ground-station node (>= {S}): the RTT needs a path back to it")
    ts, rtts, changes = [], [], []
    current: object = []
    c_m_s = C_KM_S * 1000.0
    for t_ns, nh, r_sat, r_gs in states:
        there = follow_path(nh, src, dst, S)
        back = follow_path(nh, dst, src, S)
        if there is not None and back is not None:
            length_m = (path_length_km(there, r_sat, r_gs) + path_length_km(back, r_sat, r_gs)) * 1000.0
            rtt = length_m * 1e9 / c_m_s
        else:
            rtt = 0.0
        ts.append(t_ns)
        rtts.append(rtt)
        if there != current:
            changes.append((t_ns, there))
            current = there
    return PairTimeline(src, dst, np.array(ts, dtype=np.int64), np.array(rtts), changes)
