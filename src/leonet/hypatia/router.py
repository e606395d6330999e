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
written (`leonet.hypatia.files.fstate_text`).  ``next_hop``'s C order --
satellites first, then ground stations, each by destination -- is the order
of Hypatia's lines.

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

What is shared with a run's routing stage, and what is not
----------------------------------------------------------
Shared: the per-step graph is built by the run's builder,
`leonet.routing.graph.GraphBuilder`, with the ground stations in the place of
its gateways (source-only nodes ``S + g`` whose edges go to the satellites
they reach) and the ISLs both ways: the same CSR layout and entry order as a
run's graph, hence the same Dijkstra.  The link lengths and interface
numbers come from `leonet.links.isl`, the positions from
`leonet.orbits.propagate` (`leonet.hypatia.geometry`).

Not shared, because sharing would change the results or the speed:

* The weights are lengths in km, not delays in s: Hypatia compares route
  lengths in metres, and sums of lengths divided by c round differently
  from the lengths' sum divided by c, which can flip a near tie away from
  Hypatia's choice.  (The builder only copies the weights; its docstring's
  unit, s, is that of a run.)
* `leonet.routing.shortest.routes_to_pops` runs one multi-source Dijkstra
  (each satellite's *nearest* PoP); Hypatia needs one tree per destination
  station and a station's choice of first satellite by Hypatia's tie-break
  (lowest id among equal totals, `FreeOneOnlyOverIsls._ground_choice`).
* The warm start (kept trees, level sums, tight-edge checks) has no
  counterpart in a run, whose graph changes every step (lasers and feeder
  links come and go); for Starlink-550 and 100 cities it makes a step ~7x
  faster than a Dijkstra per destination (~12 ms vs ~88 ms of CPU).
* `leonet.routing.shortest.ground_to_ground` finds one shortest route per
  pair; it does not reproduce Hypatia's per-hop forwarding decisions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra

from ..errors import ScenarioError
from ..links.isl import interface_numbers, link_lengths_km
from ..routing.graph import GraphBuilder, NodeSpace

__all__ = ["StepState", "FreeOneOnlyOverIsls"]

#: csgraph's "no predecessor".
_NO_PRED = -9999


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
        Range limits (``description.txt``), km.  An ISL longer than its
        limit is an error, as in Hypatia.
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

    Examples
    --------
    Four satellites in a ring of lasers (1,000 km, but 1,005 and 1,100 km to
    satellite 3), two stations, each 600 km from one satellite (0 and 2) and
    out of range of the others:

    >>> r_sat = np.array([[7000.0, 0, 0], [7000, 1000, 0], [7000, 1000, 1000], [7000, 0, 1100]])
    >>> r_gs = np.array([[6400.0, 0, 0], [6400, 1000, 1000]])
    >>> router = FreeOneOnlyOverIsls(4, 2, [[0, 1], [1, 2], [2, 3], [0, 3]], 700.0, 2000.0)
    >>> state = router.step(r_sat, r_gs)
    >>> state.next_hop.tolist()  # rows: satellites 0..3, stations 4, 5; columns: destinations 4, 5
    [[4, 1], [0, 2], [1, 5], [0, 2], [-1, 0], [2, -1]]
    >>> state.gs_to_gs_km.tolist()  # 600 + 1,000 + 1,000 + 600 km
    [[0.0, 3200.0], [3200.0, 0.0]]
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
        self.E = pairs.shape[0]
        # The run's graph builder, ground stations as its gateways, no PoP (weights: km, see the
        # module docstring).
        self._builder = GraphBuilder(NodeSpace(S, G, 0), pairs, np.zeros(G, dtype=np.int64), np.zeros(G))
        self._all_isls = np.ones(self.E, dtype=bool)  # Hypatia has no unusable ISL: too long is an error
        self._build_neighbours(pairs)
        # Hypatia's interface numbers, looked up by key u * S + v.
        if_a, if_b, self.num_isls = interface_numbers(pairs, S)
        keys = np.concatenate([pairs[:, 0] * S + pairs[:, 1], pairs[:, 1] * S + pairs[:, 0]])
        korder = np.argsort(keys)
        self._if_keys = keys[korder]
        self._if_here = np.concatenate([if_a, if_b])[korder]
        self._if_there = np.concatenate([if_b, if_a])[korder]
        self._pred: NDArray[np.int64] | None = None  # [S, G]: sat pred, S + d (the root), -1 unreachable
        self._gsl_flat: NDArray[np.float64] | None = None
        self.stats = {"steps": 0, "dijkstra_rows": 0, "refreshed_rows": 0, "tight_edge_checks": 0, "relayouts": 0}
        self._headroom = 1.1

    def _build_neighbours(self, pairs: NDArray[np.int64]) -> None:
        """Padded neighbour table: ``_nbr[v, k] = u`` (S: none), ``_nbr_eid[v, k]`` = ISL id (E: the zero-length pad)."""
        S, E = self.S, self.E
        src = np.concatenate([pairs[:, 0], pairs[:, 1]])
        dst = np.concatenate([pairs[:, 1], pairs[:, 0]])
        eid = np.concatenate([np.arange(E), np.arange(E)])
        order = np.lexsort((dst, src))
        src, dst, eid = src[order], dst[order], eid[order]
        indptr = np.zeros(S + 1, dtype=np.int64)
        np.cumsum(np.bincount(src, minlength=S), out=indptr[1:])
        deg = np.diff(indptr)
        self._max_deg = int(deg.max()) if S and E else 0
        width = max(self._max_deg, 1)
        k_of = np.arange(2 * E) - indptr[src]
        self._nbr = np.full((S, width), S, dtype=np.int64)
        self._nbr_eid = np.full((S, width), E, dtype=np.int64)
        self._nbr[src, k_of] = dst
        self._nbr_eid[src, k_of] = eid
        self._nbr_pad = self._nbr == S

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

    def _gsl_table(self, gi, si, glen) -> NDArray[np.float64]:
        """GSL lengths as a flat [G, S + 1] table (inf: out of range) plus a final 0; reused between steps."""
        S, G = self.S, self.G
        if self._gsl_flat is None:
            self._gsl_flat = np.full(G * (S + 1) + 1, np.inf)
            self._gsl_flat[-1] = 0.0
            self._gsl_set = np.zeros(0, dtype=np.int64)
        gsl_flat = self._gsl_flat
        gsl_flat[self._gsl_set] = np.inf
        self._gsl_set = gi * (S + 1) + si
        gsl_flat[self._gsl_set] = glen
        return gsl_flat

    def _graph(self, isl_km, gi, si, glen) -> csr_array:
        """The step's graph, km: ISLs both ways and station -> satellite links (`GraphBuilder`)."""
        return self._builder.build(self._all_isls, isl_km, gi, si, glen)

    def _dijkstra(self, graph: csr_array, rows: NDArray[np.int64]):
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
        # The tree's station -> satellite links, for test (a) of `_invalid_trees`.
        j, v = np.divmod(np.flatnonzero(pred >= self.S), self.S)
        split = np.searchsorted(j, np.arange(len(rows) + 1))
        for i, d in enumerate(rows.tolist()):
            self._roots[d] = v[split[i] : split[i + 1]]
        self._root_cat = None
        self._depth_max[rows] = depth.max(axis=1) if depth.size else 0
        if not self._layout_rows(rows, pred, depth):
            self._relayout()

    def _relayout(self) -> None:
        """Grow the level capacities (from every tree, with headroom) and lay out all rows again."""
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

        Raises
        ------
        ScenarioError
            If an ISL is longer than ``max_isl_length_km`` (Hypatia's rule).
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
        gsl_flat = self._gsl_table(gi, si, glen)
        if self._pred is None or not self.warm_start:
            rows = np.arange(G)
            dist = self._start(isl_km, isl_pad, gsl_flat, gi, si, glen)
        else:
            dist = self._level_sums(isl_pad, gsl_flat)
            rows = np.flatnonzero(self._invalid_trees(dist, isl_km, isl_pad, gsl_flat, gi, si, glen))
            if rows.size:
                pred, new_dist = self._dijkstra(self._graph(isl_km, gi, si, glen), rows)
                self._set_trees(rows, pred)
                dist[:, rows] = new_dist.T
                self._refresh(rows, dist, isl_pad)
                self._next_hop[:S, rows] = self._pred[:, rows]
        self._isl_prev = isl_km
        gs_len = self._ground_choice(dist, gi, si, glen, self._next_hop)
        return StepState(self._next_hop.copy(), dist.T, gs_len, int(rows.size))

    def _start(self, isl_km, isl_pad, gsl_flat, gi, si, glen) -> NDArray[np.float64]:
        """Every tree afresh (first step, or ``warm_start=False``): route lengths float64[S, G]."""
        S, G = self.S, self.G
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
        return dist

    def _invalid_trees(self, dist, isl_km, isl_pad, gsl_flat, gi, si, glen) -> NDArray[np.bool_]:
        """bool[G]: kept trees that may no longer be the unique shortest-path trees (class Notes)."""
        S, G = self.S, self.G
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
        return bad

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

        Parameters
        ----------
        node, next_hop : int64[K]
            Hops (node ids; ``next_hop`` -1 where unreachable).

        Returns
        -------
        if_here, if_there : int64[K]
            The interface on ``node`` and on ``next_hop``.
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
