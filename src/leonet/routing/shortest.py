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

The parts of the routes of any set of satellites (`SatelliteRoutes.describe`)
are found without a Python loop over satellites: all of them walk down
their predecessor arrays together, one vectorised step per laser hop (at
most the longest route's hop count), reading each link's exact delay back
from the graph.  A step of a run only needs the parts of the terminals'
serving satellites; the full columns are computed on first use.

`ground_to_ground` computes routes between pairs of ground sites the way
Hypatia does: the satellites and their lasers, plus each endpoint's links;
ground sites never relay (each site is split into a source-only and a
sink-only node).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra

from ..errors import NoRouteError
from .graph import NodeSpace

__all__ = [
    "SatelliteRoutes", "RouteParts", "routes_to_pops", "terminal_routes", "stacked_routes", "GroundRoutes", "ground_to_ground",
]

#: csgraph's "no predecessor" value.
_NO_PRED = -9999


@dataclass(frozen=True, eq=False)
class RouteParts:
    """The parts of the routes of K satellites (`SatelliteRoutes.describe`).

    Attributes
    ----------
    sat : int64[K]
    gateway, entry_sat : int32[K]
        Gateway (index among gateways) and the satellite whose feeder link
        reaches it; -1 if unreachable.
    isl_hops : int16[K]
        Laser links on the route; -1 if unreachable.
    isl_s, feeder_s, backhaul_s : float64[K], s
        Delay of the lasers (sum, in path order), of the feeder link and of
        the backhaul; NaN if unreachable.
    """

    sat: NDArray[np.int64]
    gateway: NDArray[np.int32]
    entry_sat: NDArray[np.int32]
    isl_hops: NDArray[np.int16]
    isl_s: NDArray[np.float64]
    feeder_s: NDArray[np.float64]
    backhaul_s: NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class SatelliteRoutes:
    """Every satellite's route to its nearest reachable PoP at one step.

    Attributes
    ----------
    nodes : NodeSpace
    graph : csr_array (N, N), s
    delay_s : float64[S], s
        One-way delay satellite -> PoP (Dijkstra's distance); inf if none.
    pop : int32[S]
        The PoP reached (index among PoPs); -1 if unreachable.
    predecessors : int32[N]
        csgraph's predecessor array (-9999: none), from the PoPs outwards.

    Properties ``gateway``, ``entry_sat``, ``isl_hops``, ``isl_s``,
    ``feeder_s``, ``backhaul_s`` give the parts of every satellite's route
    (``describe`` of all S, computed once on first use).
    """

    nodes: NodeSpace
    graph: csr_array
    delay_s: NDArray[np.float64]
    pop: NDArray[np.int32]
    predecessors: NDArray[np.int32]

    @property
    def reachable(self) -> NDArray[np.bool_]:
        return self.pop >= 0

    @cached_property
    def _forest(self) -> _StackedRoutes:
        """This tree as a forest of one home (the walks of `describe` and `laser_path` live there)."""
        return _StackedRoutes([self])

    def describe(self, sats: ArrayLike) -> RouteParts:
        """Gateway, entry satellite, hop count and delay parts of the routes of ``sats``.

        Parameters
        ----------
        sats : int[K]
            Satellites (repeats allowed).

        Returns
        -------
        RouteParts

        Notes
        -----
        All K walks advance together, one hop per round; a round costs
        O(walks still on lasers), and there are as many rounds as the
        longest route has laser hops.  Link delays are read back from the
        graph's sorted CSR entries (a binary search) for the nodes walked.
        """
        return self._forest.describe(np.asarray(sats, dtype=np.int64).reshape(-1))

    def laser_path(self, sats: ArrayLike) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        """The laser links on the routes of ``sats``, as a ragged array.

        Returns
        -------
        indptr : int64[K + 1]
            Route ``k``'s links are ``tail[indptr[k]:indptr[k+1]]`` ->
            ``head[...]``, in the direction of the PoP.
        tail, head : int64[M]
            Satellite indices; empty for unreachable satellites.
        """
        return self._forest.laser_path(sats)

    @cached_property
    def _all(self) -> RouteParts:
        return self.describe(np.arange(self.nodes.satellites))

    @property
    def gateway(self) -> NDArray[np.int32]:
        return self._all.gateway

    @property
    def entry_sat(self) -> NDArray[np.int32]:
        return self._all.entry_sat

    @property
    def isl_hops(self) -> NDArray[np.int16]:
        return self._all.isl_hops

    @property
    def isl_s(self) -> NDArray[np.float64]:
        return self._all.isl_s

    @property
    def feeder_s(self) -> NDArray[np.float64]:
        return self._all.feeder_s

    @property
    def backhaul_s(self) -> NDArray[np.float64]:
        return self._all.backhaul_s

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


def _edge_keys(graph: csr_array) -> NDArray[np.int64]:
    """int64[E]: ``row * N + column`` of every edge, ascending (rows in order, columns sorted within rows).

    Kept on the graph object: every home PoP's routes of a step read the same graph.
    """
    keys = getattr(graph, "_leonet_edge_keys", None)
    if keys is None:
        n = graph.shape[1]
        keys = np.repeat(np.arange(graph.shape[0], dtype=np.int64), np.diff(graph.indptr)) * n + graph.indices
        graph._leonet_edge_keys = keys
    return keys


def routes_to_pops(
    graph: csr_array, nodes: NodeSpace, pops: ArrayLike | None = None, limit_s: float = np.inf
) -> SatelliteRoutes:
    """Every satellite's nearest reachable PoP (of ``pops``), delay and path, at one step.

    Parameters
    ----------
    graph : csr_array (N, N), s
        From `leonet.routing.graph.build_graph` (indices sorted within rows).
    nodes : NodeSpace
    pops : int[P'], optional
        The PoPs (indices among PoPs) routes may end at; default all.  One
        PoP gives every satellite's route to that PoP (a terminal's home PoP).
    limit_s : float, s, optional
        Stop the search at this delay: satellites farther away get ``inf``
        (as unreachable ones).  Those within it get exactly the delay and
        predecessors of an unbounded search (every node on their paths is
        nearer still), which the engine uses to skip the far side of the
        Earth (`leonet.engine.network`).

    Returns
    -------
    SatelliteRoutes

    Notes
    -----
    One multi-source Dijkstra (csgraph, ``min_only=True``): O(N log N + E).
    Route parts are exact edge weights read back from the graph; their sum
    equals ``delay_s`` to rounding (a few 1e-16 s).
    """
    s = nodes.satellites
    if nodes.pops == 0 or s == 0:
        return SatelliteRoutes(
            nodes, graph, np.full(s, np.inf), np.full(s, -1, np.int32), np.full(nodes.size, _NO_PRED, np.int32)
        )
    sources = nodes.pop_nodes if pops is None else nodes.first_pop + np.asarray(pops, dtype=np.int64)
    dist, pred, source = dijkstra(graph, directed=True, indices=sources, min_only=True, return_predecessors=True,
                                  limit=limit_s)
    ok = np.isfinite(dist[:s]) & (pred[:s] >= 0)
    return SatelliteRoutes(
        nodes=nodes,
        graph=graph,
        delay_s=np.where(ok, dist[:s], np.inf),
        pop=np.where(ok, source[:s] - nodes.first_pop, -1).astype(np.int32),
        predecessors=pred.astype(np.int32),
    )


def terminal_routes(
    routes_by_home: list[SatelliteRoutes], groups: list[NDArray[np.int64]], sat: NDArray[np.int64]
) -> tuple[NDArray[np.bool_], NDArray[np.int32], RouteParts]:
    """The routes of terminals served by ``sat``, each to its own home PoP.

    Parameters
    ----------
    routes_by_home : list of SatelliteRoutes, [H]
        Every satellite's route to each home PoP (one `routes_to_pops` per home).
    groups : list of int64 arrays, [H]
        The terminals of each home (a partition of ``0 .. G-1``).
    sat : int64[G]
        Each terminal's serving satellite (any valid index where it has none).

    Returns
    -------
    reachable : bool[G]
    pop : int32[G]
        The PoP the route reaches (-1 none).
    parts : RouteParts
        Per terminal.
    """
    if len(routes_by_home) == 1:
        routes = routes_by_home[0]
        return routes.reachable[sat], routes.pop[sat], routes.describe(sat)
    sat = np.asarray(sat, dtype=np.int64)
    home = np.zeros(sat.size, np.int64)
    for h, group in enumerate(groups):
        home[group] = h
    stacked = stacked_routes(routes_by_home)
    # Terminals of a cell share their satellite (and mostly their home): walk each route once.
    nodes, inverse = np.unique(home * stacked.nodes.size + sat, return_inverse=True)
    parts = stacked.describe(nodes)
    n_sat = len(routes_by_home[0].delay_s)
    pops = np.stack([r.pop for r in routes_by_home]).reshape(-1)
    reachable = np.stack([r.reachable for r in routes_by_home]).reshape(-1)
    flat = home * n_sat + sat
    return reachable[flat], pops[flat], RouteParts(sat.copy(), *[getattr(parts, f)[inverse] for f in (
        "gateway", "entry_sat", "isl_hops", "isl_s", "feeder_s", "backhaul_s")])


class _StackedRoutes:
    """The trees of several homes as one forest of H x N nodes (node ``h * N + i`` is node i of home h).

    `describe` walks every terminal's route in one vectorised pass, whatever
    its home (`terminal_routes`); the answers are those of each home's own
    `SatelliteRoutes.describe`, read from the same arrays.
    """

    def __init__(self, routes_by_home: list[SatelliteRoutes]):
        first = routes_by_home[0]
        self.nodes = first.nodes
        n = self.nodes.size
        offsets = (np.arange(len(routes_by_home), dtype=np.int64) * n)[:, None]
        pred = np.stack([r.predecessors for r in routes_by_home]).astype(np.int64)
        self.pred = np.where(pred >= 0, pred + offsets, pred).reshape(-1)
        self.graph = first.graph
        self.reachable = np.concatenate([
            np.concatenate([r.reachable, np.zeros(n - r.reachable.size, bool)]) for r in routes_by_home])

    def _weight_in(self, nodes: NDArray[np.int64]) -> NDArray[np.float64]:
        """Exact weight of the edge from each forest node's predecessor to it (NaN: none), looked up when walked."""
        n = self.nodes.size
        out = np.full(nodes.size, np.nan)
        keys = _edge_keys(self.graph)
        p = self.pred[nodes]
        has = np.flatnonzero(p >= 0)
        if keys.size and has.size:
            want = (p[has] % n) * n + nodes[has] % n
            pos = np.minimum(np.searchsorted(keys, want), keys.size - 1)
            out[has] = np.where(keys[pos] == want, self.graph.data[pos], np.nan)
        return out

    def describe(self, nodes: NDArray[np.int64]) -> RouteParts:
        """`SatelliteRoutes.describe` of forest nodes (``h * N + satellite``)."""
        n, s = self.nodes.size, self.nodes.satellites
        k = nodes.size
        gateway = np.full(k, -1, np.int32)
        entry = np.full(k, -1, np.int32)
        hops = np.full(k, -1, np.int16)
        isl = np.full(k, np.nan)
        feeder = np.full(k, np.nan)
        backhaul = np.full(k, np.nan)
        walking = np.flatnonzero(self.reachable[nodes])
        cur = nodes[walking]
        total = np.zeros(walking.size)
        count = np.zeros(walking.size, np.int64)
        while walking.size:
            p = self.pred[cur]
            w = self._weight_in(cur)
            down = p % n >= s  # reached the gateway: cur is the entry satellite
            done = walking[down]
            gw = p[down]
            gateway[done] = gw % n - s
            entry[done] = cur[down] % n
            hops[done] = count[down]
            isl[done] = total[down]
            feeder[done] = w[down]
            backhaul[done] = self._weight_in(gw)
            on = ~down
            walking, cur = walking[on], p[on]
            total = total[on] + w[on]
            count = count[on] + 1
        return RouteParts(nodes % n, gateway, entry, hops, isl, feeder, backhaul)

    def laser_path(self, nodes: ArrayLike) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        """`SatelliteRoutes.laser_path` of forest nodes (``h * N + satellite``); links as satellite indices."""
        n, s = self.nodes.size, self.nodes.satellites
        nodes = np.asarray(nodes, dtype=np.int64).reshape(-1)
        walking = np.flatnonzero(self.reachable[nodes])
        cur = nodes[walking]
        owners, tails, heads = [], [], []
        while walking.size:
            p = self.pred[cur]
            on = p % n < s  # still on lasers
            owners.append(walking[on])
            tails.append(cur[on] % n)
            heads.append(p[on] % n)
            walking, cur = walking[on], p[on]
        if owners:
            owner = np.concatenate(owners)
            tail, head = np.concatenate(tails), np.concatenate(heads)
            order = np.argsort(owner, kind="stable")
            owner, tail, head = owner[order], tail[order], head[order]
        else:
            owner = tail = head = np.zeros(0, np.int64)
        indptr = np.zeros(nodes.size + 1, np.int64)
        np.cumsum(np.bincount(owner, minlength=nodes.size), out=indptr[1:])
        return indptr, tail, head


def stacked_routes(routes_by_home) -> _StackedRoutes:
    """The homes' forest, built once per list of trees (a step's `HomeRoutes`)."""
    hit = getattr(routes_by_home, "_stacked", None)
    if hit is None:
        hit = _StackedRoutes(list(routes_by_home))
        try:
            routes_by_home._stacked = hit
        except AttributeError:  # a plain list
            pass
    return hit


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
        `leonet.links.visibility.GroundLinks`: ``site``, ``sat``, ``delay_s``).
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
    One Dijkstra from all distinct sources at once.  Link lists must not
    repeat a pair (repeats would be summed).  A pair ``(g, g)`` gets the
    up-and-down route through its best satellite, not 0 (Hypatia never
    asks for it).

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
