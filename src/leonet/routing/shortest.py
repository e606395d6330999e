"""Shortest paths on the per-step delay graph.

The representation
------------------
`routes_to_pops` runs *one* multi-source Dijkstra per step from every PoP
(``scipy.sparse.csgraph.dijkstra(..., indices=pop_nodes, min_only=True,
return_predecessors=True)``) on the directed graph of
`leonet.routing.graph` and describes every satellite's route to its nearest
reachable PoP as columns of length S (`SatelliteRoutes`): total delay, PoP,
gateway, the *entry* satellite that talks to that gateway, the number of
laser hops and the delay of each part (lasers, feeder link, backhaul).
Unreachable satellites have ``inf`` delay, ``-1`` indices and NaN parts
(csgraph's convention, kept).

The parts are found without a Python loop over satellites: the predecessor
array restricted to satellites is a forest whose roots are the entry
satellites, and *pointer jumping* (each round, every satellite adds its
parent's sums and jumps to its grandparent) gives every satellite's root,
hop count and laser delay in ``ceil(log2(max hops)) + 1`` vectorised rounds.

`ground_to_ground` computes routes between pairs of ground sites the way
Hypatia does: the satellites and their lasers, plus each endpoint's links;
ground sites never relay (each site is split into a source-only and a
sink-only node).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra

from ..errors import NoRouteError
from .graph import NodeSpace, edge_weights

__all__ = ["SatelliteRoutes", "routes_to_pops", "GroundRoutes", "ground_to_ground", "forest_sums"]

#: csgraph's "no predecessor" value.
_NO_PRED = -9999


def forest_sums(
    parent: NDArray[np.int64], weight: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Root, depth and path weight of every node of a forest, by pointer jumping.

    Parameters
    ----------
    parent : int64[n]
        Parent of each node; a root is its own parent.
    weight : float64[n]
        Weight of the edge to the parent (ignored for roots).

    Returns
    -------
    root : int64[n]
    depth : int64[n]
        Edges from the node up to its root.
    total : float64[n]
        Sum of the edge weights on that way.

    Notes
    -----
    Wyllie's list ranking: O(n log d) work for depth d, vectorised.

    Examples
    --------
    >>> root, depth, total = forest_sums(np.array([0, 0, 1, 3]), np.array([0.0, 1.0, 2.0, 0.0]))
    >>> root.tolist(), depth.tolist(), total.tolist()
    ([0, 0, 0, 3], [0, 1, 2, 0], [0.0, 1.0, 3.0, 0.0])
    """
    parent = np.asarray(parent, dtype=np.int64).copy()
    is_root = parent == np.arange(parent.size)
    depth = np.where(is_root, 0, 1).astype(np.int64)
    total = np.where(is_root, 0.0, np.asarray(weight, dtype=np.float64))
    while True:
        grand = parent[parent]
        if np.array_equal(grand, parent):
            return parent, depth, total
        depth = depth + depth[parent]
        total = total + total[parent]
        parent = grand


@dataclass(frozen=True, eq=False)
class SatelliteRoutes:
    """Every satellite's route to its nearest reachable PoP at one step.

    Attributes
    ----------
    nodes : NodeSpace
    delay_s : float64[S], s
        One-way delay satellite -> PoP (Dijkstra's distance); inf if none.
    pop, gateway, entry_sat : int32[S]
        PoP and gateway (indices among PoPs / gateways) and the satellite
        whose feeder link reaches the gateway; -1 if unreachable.
    isl_hops : int16[S]
        Laser links on the route; -1 if unreachable.
    isl_s, feeder_s, backhaul_s : float64[S], s
        Delay of the lasers (sum), of the feeder link and of the backhaul;
        NaN if unreachable.
    predecessors : int32[N]
        csgraph's predecessor array (-9999: none).
    """

    nodes: NodeSpace
    delay_s: NDArray[np.float64]
    pop: NDArray[np.int32]
    gateway: NDArray[np.int32]
    entry_sat: NDArray[np.int32]
    isl_hops: NDArray[np.int16]
    isl_s: NDArray[np.float64]
    feeder_s: NDArray[np.float64]
    backhaul_s: NDArray[np.float64]
    predecessors: NDArray[np.int32]

    @property
    def reachable(self) -> NDArray[np.bool_]:
        return self.pop >= 0

    def path(self, sat: int) -> list[int]:
        """Node path from satellite ``sat`` to its PoP: ``[sat, ..., entry, gateway node, PoP node]``.

        Raises
        ------
        NoRouteError
            If the satellite reaches no PoP at this step.
        """
        if not self.reachable[sat]:
            raise NoRouteError(f"satellite {sat} has no route to any PoP at this step (no gateway reachable)")
        out = [int(sat)]
        while self.predecessors[out[-1]] != _NO_PRED:
            out.append(int(self.predecessors[out[-1]]))
        return out


def routes_to_pops(graph: csr_array, nodes: NodeSpace) -> SatelliteRoutes:
    """Route of every satellite to its nearest reachable PoP.

    Parameters
    ----------
    graph : csr_array (N, N), s
        From `leonet.routing.graph.build_graph`.
    nodes : NodeSpace

    Returns
    -------
    SatelliteRoutes

    Notes
    -----
    One multi-source Dijkstra (csgraph, ``min_only=True``): O(N log N + E).
    Parts are exact edge weights read back from the graph; their sum equals
    ``delay_s`` to rounding (a few 1e-16 s).
    """
    s = nodes.satellites
    if nodes.pops == 0 or s == 0:
        return _unreachable(nodes)
    dist, pred, source = dijkstra(
        graph, directed=True, indices=nodes.pop_nodes, min_only=True, return_predecessors=True
    )
    pred = pred.astype(np.int64)
    sat_pred = pred[:s]
    ok = np.isfinite(dist[:s]) & (sat_pred >= 0)
    idx = np.arange(s, dtype=np.int64)
    w_in = np.full(s, np.nan)
    w_in[ok] = edge_weights(graph, sat_pred[ok], idx[ok])
    parent = np.where(ok & (sat_pred < s), sat_pred, idx)
    root, depth, isl = forest_sums(parent, np.where(ok, w_in, 0.0))
    w = nodes.gateways
    gw_node = np.where(ok, pred[root], s)  # s: a placeholder index where unreachable
    backhaul = np.full(s, np.nan)
    if ok.any():
        # One backhaul edge per gateway: read the W of them once.
        gw_backhaul = edge_weights(graph, pred[s:s + w], np.arange(s, s + w))
        backhaul[ok] = gw_backhaul[gw_node[ok] - s]
    feeder = np.where(ok, w_in[root], np.nan)
    return SatelliteRoutes(
        nodes=nodes,
        delay_s=np.where(ok, dist[:s], np.inf),
        pop=np.where(ok, source[:s] - nodes.first_pop, -1).astype(np.int32),
        gateway=np.where(ok, gw_node - s, -1).astype(np.int32),
        entry_sat=np.where(ok, root, -1).astype(np.int32),
        isl_hops=np.where(ok, depth, -1).astype(np.int16),
        isl_s=np.where(ok, isl, np.nan),
        feeder_s=feeder,
        backhaul_s=backhaul,
        predecessors=pred.astype(np.int32),
    )


def _unreachable(nodes: NodeSpace) -> SatelliteRoutes:
    s = nodes.satellites
    return SatelliteRoutes(
        nodes,
        np.full(s, np.inf),
        np.full(s, -1, np.int32),
        np.full(s, -1, np.int32),
        np.full(s, -1, np.int32),
        np.full(s, -1, np.int16),
        np.full(s, np.nan),
        np.full(s, np.nan),
        np.full(s, np.nan),
        np.full(nodes.size, _NO_PRED, np.int32),
    )


@dataclass(frozen=True, eq=False)
class GroundRoutes:
    """Routes between pairs of ground sites at one step.

    Attributes
    ----------
    pairs : int64[P, 2]
        (source site, destination site).
    delay_s : float64[P], s
        One-way delay; inf when there is no route.
    num_satellites, num_sites : int
    predecessors : int32[U, N]
        csgraph predecessors, one row per distinct source (``source_row[p]``).
    source_row : int64[P]
    """

    pairs: NDArray[np.int64]
    delay_s: NDArray[np.float64]
    num_satellites: int
    num_sites: int
    predecessors: NDArray[np.int32]
    source_row: NDArray[np.int64]

    def path(self, p: int) -> list[int]:
        """Path of pair ``p`` in Hypatia's numbering: ground site g is node ``S + g``.

        Raises
        ------
        NoRouteError
        """
        s, g = self.num_satellites, self.num_sites
        src, dst = (int(x) for x in self.pairs[p])
        if not np.isfinite(self.delay_s[p]):
            raise NoRouteError(f"no route from ground site {src} to ground site {dst} at this step")
        pred = self.predecessors[self.source_row[p]]
        node = s + g + dst  # the destination's sink node
        out = []
        while node != _NO_PRED:
            out.append(node)
            node = int(pred[node])
        out.reverse()
        # Split nodes back to the site numbering S + g.
        return [n if n < s else s + ((n - s) % g) for n in out]


def ground_to_ground(
    num_satellites: int,
    isl_pairs: NDArray[np.int64],
    isl_delay_s: NDArray[np.float64],
    link_site: NDArray[np.int64],
    link_sat: NDArray[np.int64],
    link_delay_s: NDArray[np.float64],
    num_sites: int,
    pairs: ArrayLike,
) -> GroundRoutes:
    """Shortest routes between ground sites over satellites and lasers (Hypatia's model).

    Parameters
    ----------
    num_satellites : int
        S.
    isl_pairs : int64[E, 2]; isl_delay_s : float64[E], s
        Usable lasers at the step.
    link_site, link_sat : int[K]; link_delay_s : float64[K], s
        Ground-satellite links of the G ground sites (e.g. a
        `leonet.links.gsl.GroundLinks`: ``site``, ``sat``, ``delay_s``).
    num_sites : int
        G.
    pairs : int[P, 2]
        (source, destination) sites.

    Returns
    -------
    GroundRoutes

    Notes
    -----
    Node ``S + g`` only sends (to the satellites site g sees) and node
    ``S + G + g`` only receives, so no route passes *through* a ground site.
    One Dijkstra from all distinct sources at once.

    Examples
    --------
    Two sites each seeing one of two satellites joined by a 2 ms laser:

    >>> r = ground_to_ground(2, np.array([[0, 1]]), np.array([0.002]),
    ...                      np.array([0, 1]), np.array([0, 1]), np.array([0.001, 0.001]), 2, [[0, 1]])
    >>> round(float(r.delay_s[0]), 6), r.path(0)
    (0.004, [2, 0, 1, 3])
    """
    s, g = int(num_satellites), int(num_sites)
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    n = s + 2 * g
    a, b = isl_pairs[:, 0].astype(np.int64), isl_pairs[:, 1].astype(np.int64)
    site = np.asarray(link_site, dtype=np.int64)
    sat = np.asarray(link_sat, dtype=np.int64)
    rows = np.concatenate([a, b, s + site, sat])
    cols = np.concatenate([b, a, sat, s + g + site])
    data = np.concatenate([isl_delay_s, isl_delay_s, link_delay_s, link_delay_s]).astype(np.float64)
    graph = csr_array((data, (rows, cols)), shape=(n, n))
    sources, source_row = np.unique(pairs[:, 0], return_inverse=True)
    if pairs.shape[0] == 0:
        return GroundRoutes(pairs, np.zeros(0), s, g, np.zeros((0, n), np.int32), np.zeros(0, np.int64))
    dist, pred = dijkstra(graph, directed=True, indices=s + sources, return_predecessors=True)
    dist = np.atleast_2d(dist)
    pred = np.atleast_2d(pred)
    delay = dist[source_row, s + g + pairs[:, 1]]
    return GroundRoutes(pairs, delay, s, g, pred.astype(np.int32), source_row.astype(np.int64))
