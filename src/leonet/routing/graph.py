"""The per-step routing graph: one sparse matrix of one-way delays.

The representation
------------------
One node index space (Hypatia's): satellites ``0 .. S-1``, then gateways
``S .. S+W-1``, then points of presence (PoPs) ``S+W .. S+W+P-1``
(`NodeSpace`).  The graph of one time step is a
``scipy.sparse.csr_array (N, N)`` whose entry ``[i, j]`` is the one-way
delay in seconds of the link from node ``i`` to node ``j``.  A missing
link is an *absent* entry, never 0 (csgraph's convention; explicit zeros
are edges of zero delay, e.g. a gateway in the PoP's building).

The graph is *directed*, so that ground nodes never relay traffic between
two satellites (as in Hypatia, where only the two endpoint ground stations
of a route are in the graph):

* PoP -> gateway: the terrestrial backhaul of the gateway's assigned PoP,
  ``great-circle x route_factor / (c / refractive_index)``;
* gateway -> satellite: the feeder link (slant range / c), for the
  satellites the gateway's antennas point at;
* satellite <-> satellite: the usable laser links (length / c), both ways.

A shortest path from a PoP therefore reads PoP, gateway, satellite, zero or
more lasers, satellite; delays are symmetric, so it is also the
satellite's path *to* that PoP.  No link enters a gateway or a PoP.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import csr_array


__all__ = [
    "NodeSpace",
    "GraphBuilder",
    "build_graph",
    "edge_weights",
]


@dataclass(frozen=True)
class NodeSpace:
    """Sizes and offsets of the node index space.

    Attributes
    ----------
    satellites, gateways, pops : int
        S, W, P.
    """

    satellites: int
    gateways: int
    pops: int

    @property
    def size(self) -> int:
        """N = S + W + P."""
        return self.satellites + self.gateways + self.pops

    @property
    def first_gateway(self) -> int:
        return self.satellites

    @property
    def first_pop(self) -> int:
        return self.satellites + self.gateways

    def gateway_node(self, gateway: ArrayLike) -> NDArray[np.int64]:
        return np.asarray(gateway, dtype=np.int64) + self.satellites

    def pop_node(self, pop: ArrayLike) -> NDArray[np.int64]:
        return np.asarray(pop, dtype=np.int64) + self.satellites + self.gateways

    @property
    def pop_nodes(self) -> NDArray[np.int64]:
        return np.arange(self.first_pop, self.size, dtype=np.int64)

    def kind(self, node: ArrayLike) -> NDArray[np.int8]:
        """0 satellite, 1 gateway, 2 PoP (int8[...])."""
        node = np.asarray(node)
        return ((node >= self.first_gateway).astype(np.int8) + (node >= self.first_pop).astype(np.int8))


class GraphBuilder:
    """Builds the per-step graphs of one run without sorting at every step.

    The CSR rows come in three blocks: satellites (lasers), gateways
    (feeder links) and PoPs (backhaul).  The lasers' directed entries are
    ordered by (row, column) once, here; each step only drops the unusable
    ones.  Feeder links arrive sorted by (gateway, satellite) (a
    `leonet.links.visibility.GroundLinks` is), and the backhaul is fixed.  A step
    therefore costs O(E + K) with no sort (vs. a ``lexsort`` of all entries).

    Parameters
    ----------
    nodes : NodeSpace
    isl_pairs : int64[E, 2]
        Every laser link of the topology (usable or not at a given step).
    gateway_pop : int64[W] or int64[K]
        PoP of each gateway (one backhaul link per gateway), or, with
        ``backhaul_gateway``, the PoP end of each of K backhaul links.
    backhaul_s : float64[W] or float64[K], s
    backhaul_gateway : int64[K], optional
        The gateway end of each backhaul link, when gateways reach several
        PoPs (every gateway to every home PoP of the run's terminals).

    Weights are copied as given: a run's are seconds, Hypatia's adapter
    gives kilometres (`leonet.hypatia.router`).
    """

    def __init__(self, nodes: NodeSpace, isl_pairs: NDArray[np.int64], gateway_pop: NDArray[np.int64],
                 backhaul_s: NDArray[np.float64], backhaul_gateway: NDArray[np.int64] | None = None):
        self.nodes = nodes
        pairs = np.asarray(isl_pairs, dtype=np.int64).reshape(-1, 2)
        e = pairs.shape[0]
        rows = np.concatenate([pairs[:, 0], pairs[:, 1]])
        cols = np.concatenate([pairs[:, 1], pairs[:, 0]])
        order = np.lexsort((cols, rows))
        self._isl_row = rows[order]
        self._isl_col = cols[order]
        self._isl_edge = np.concatenate([np.arange(e), np.arange(e)])[order]
        bh_pop = np.asarray(gateway_pop, dtype=np.int64)
        bh_gw = np.arange(bh_pop.size) if backhaul_gateway is None else np.asarray(backhaul_gateway, dtype=np.int64)
        if nodes.pops == 0:  # no PoP, no backhaul (Hypatia's graph: ground stations only)
            bh_pop, bh_gw, backhaul_s = np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
        order = np.lexsort((bh_gw, bh_pop))
        self._bh_row_counts = np.bincount(bh_pop, minlength=nodes.pops)
        self._bh_col = nodes.first_gateway + bh_gw[order]
        self._bh_data = np.asarray(backhaul_s, dtype=np.float64)[order]
        self._index_dtype = np.int32 if nodes.size + 2 * e + bh_pop.size < 2**31 - 1 else np.int64

    def build(
        self,
        isl_ok: NDArray[np.bool_],
        isl_delay_s: NDArray[np.float64],
        feeder_gateway: NDArray[np.int64],
        feeder_sat: NDArray[np.int64],
        feeder_delay_s: NDArray[np.float64],
    ) -> csr_array:
        """The graph of one step.

        Parameters
        ----------
        isl_ok : bool[E]
            Usable lasers (of the builder's ``isl_pairs``).
        isl_delay_s : float64[E], s
            Delay of every laser (read only where usable).
        feeder_gateway, feeder_sat : int[K]
            Feeder links, sorted by (gateway, satellite).
        feeder_delay_s : float64[K], s

        Returns
        -------
        csr_array (N, N), s; indices sorted within rows.
        """
        nodes = self.nodes
        keep = np.asarray(isl_ok, dtype=bool)[self._isl_edge]
        isl_col = self._isl_col[keep]
        isl_data = np.asarray(isl_delay_s, dtype=np.float64)[self._isl_edge[keep]]
        counts = np.concatenate(
            [
                np.bincount(self._isl_row[keep], minlength=nodes.satellites),
                np.bincount(np.asarray(feeder_gateway, dtype=np.int64), minlength=nodes.gateways),
                self._bh_row_counts,
            ]
        )
        indptr = np.zeros(nodes.size + 1, dtype=self._index_dtype)
        np.cumsum(counts, out=indptr[1:])
        indices = np.concatenate([isl_col, np.asarray(feeder_sat, dtype=np.int64), self._bh_col]).astype(
            self._index_dtype
        )
        data = np.concatenate([isl_data, np.asarray(feeder_delay_s, dtype=np.float64), self._bh_data])
        g = csr_array((data, indices, indptr), shape=(nodes.size, nodes.size))
        g.has_sorted_indices = True
        return g


def build_graph(
    nodes: NodeSpace,
    isl_pairs: NDArray[np.int64],
    isl_delay_s: NDArray[np.float64],
    feeder_gateway: NDArray[np.int64],
    feeder_sat: NDArray[np.int64],
    feeder_delay_s: NDArray[np.float64],
    gateway_pop: NDArray[np.int64],
    backhaul_s: NDArray[np.float64],
) -> csr_array:
    """The directed delay graph of one step.

    Parameters
    ----------
    nodes : NodeSpace
    isl_pairs : int64[E, 2]
        Usable laser links (satellite indices, no repeats); both directions are added.
    isl_delay_s : float64[E], s
    feeder_gateway, feeder_sat : int[K]
        Gateway -> satellite feeder links (gateway and satellite indices, no repeats).
    feeder_delay_s : float64[K], s
    gateway_pop : int64[W]
        PoP of each gateway.
    backhaul_s : float64[W], s

    Returns
    -------
    graph : scipy.sparse.csr_array (N, N), float64, s
        Indices sorted within rows; no duplicate entries.

    Notes
    -----
    A one-off `GraphBuilder`; a run builds one builder and reuses it.
    """
    fg = np.asarray(feeder_gateway, dtype=np.int64)
    fs = np.asarray(feeder_sat, dtype=np.int64)
    order = np.lexsort((fs, fg))
    builder = GraphBuilder(nodes, isl_pairs, gateway_pop, backhaul_s)
    isl_delay_s = np.asarray(isl_delay_s, dtype=np.float64)
    return builder.build(
        np.ones(isl_delay_s.shape[0], dtype=bool), isl_delay_s, fg[order], fs[order],
        np.asarray(feeder_delay_s, dtype=np.float64)[order],
    )


def edge_weights(graph: csr_array, rows: NDArray, cols: NDArray) -> NDArray[np.float64]:
    """Weights ``graph[rows[k], cols[k]]`` of given edges (NaN where absent).

    Vectorised: a binary search of each row's sorted column indices.
    """
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    out = np.full(rows.shape, np.nan)
    if rows.size == 0:
        return out
    indptr = graph.indptr.astype(np.int64)
    indices = graph.indices.astype(np.int64)
    # Global key = row * N + col is sorted because indices are sorted within rows.
    n = graph.shape[1]
    keys = np.repeat(np.arange(graph.shape[0], dtype=np.int64), np.diff(indptr)) * n + indices
    want = rows * n + cols
    pos = np.searchsorted(keys, want)
    pos_c = np.minimum(pos, keys.size - 1)
    hit = (keys.size > 0) & (keys[pos_c] == want)
    out[hit] = graph.data[pos_c[hit]]
    return out
