"""Can last step's shortest-path trees to the home PoPs stand in for this step's Dijkstras?  A census.

Run: ``python bench/bench_home_trees.py [--steps 30]``.

Runs the first ``--steps`` seconds of benchmark 2 (``bench_runs.py --case
gen1``: Gen1, 1,000 terminals, 100 gateways, 23 PoPs) in this process,
keeps the graph of every call to `leonet.routing.homes.routes_to_homes`
(one per instant the engine routes), and for each graph and home PoP runs
the unbounded Dijkstra the engine would (``csgraph.dijkstra``) and reports:

* the time of the 23 Dijkstras, and of one vectorised optimality check of
  all 23 trees (``D[v] <= D[u] + w(u, v)`` over every edge, `check_trees`),
  the floor of any warm start that checks its trees;
* how many predecessors change per home between consecutive captures;
* the *tight* non-tree edges (``D[u] + w(u, v) == D[v]`` exactly, computed
  as csgraph does), split into those where the tree parent ``p`` of ``v``
  is strictly nearer than ``u`` (``D[p] < D[u]``: csgraph provably picks
  ``p``, it settles nodes in order of distance and replaces a predecessor
  only on a strictly shorter route) and the *ambiguous* ones
  (``D[p] == D[u]``: the choice is the order in which csgraph's Fibonacci
  heap pops equal keys, which a warm start cannot reproduce).

A home whose tree has an ambiguous tie cannot be warm-started bit-for-bit;
the report says how many homes have one at each step, and whether ``u`` and
``p`` are gateways (co-located catalogue rows, e.g. a site's Ka and E band
antennas, at exactly equal delays) or satellites (Walker shells: equal laser
lengths sum to equal route delays).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_runs  # noqa: E402  (the scenario of benchmark 2)


def capture_graphs(steps: int) -> list[tuple[csr_array, object, np.ndarray]]:
    """(graph, NodeSpace, home PoPs) of each `routes_to_homes` call of a ``steps``-second Gen1 run.

    The run's own engine builds the graphs; its routes are unchanged (the
    wrapper only copies its arguments).  Output goes to a temporary directory.
    """
    import leonet.engine.network as network
    from leonet.cli import main

    captured = []
    routes_to_homes = network.routes_to_homes

    def keep(graph, nodes, pops, *args, **kwargs):
        captured.append((graph.copy(), nodes, np.array(pops, copy=True)))
        return routes_to_homes(graph, nodes, pops, *args, **kwargs)

    network.routes_to_homes = keep
    try:
        with tempfile.TemporaryDirectory() as tmp:
            scenario = Path(tmp) / "gen1.toml"
            scenario.write_text(bench_runs.scenario_text("gen1", steps, steps))
            try:
                main(["--quiet", "run", str(scenario), "--out", str(Path(tmp) / "out"), "--no-report", "--force",
                      "--workers", "1"])
            except SystemExit as exc:
                if exc.code not in (0, None):
                    raise
    finally:
        network.routes_to_homes = routes_to_homes
    return captured


def edge_lists(graph: csr_array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every edge's tail u, head v (int64[E]) and weight w (float64[E], s)."""
    coo = graph.tocoo()
    return coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data


def check_trees(dist: np.ndarray, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
    """int64[H]: per tree, the edges with ``D[u] + w <= D[v]`` (node-major ``dist`` [N, H], s).

    Edges from unreachable nodes never count (NaN tails); an edge from a
    reachable node into an unreachable one does (``inf`` heads).  A tree is a
    shortest-path tree with no tie iff its count equals its number of tree
    edges (each tree edge meets the condition with equality).
    """
    tails = np.where(np.isfinite(dist), dist, np.nan)
    return (tails[u] + w[:, None] <= dist[v]).sum(axis=0)


def census(graph: csr_array, nodes, pops: np.ndarray) -> dict:
    """Dijkstra and check times (s), the trees (pred [H, N]) and the tight-edge counts of one graph."""
    sources = nodes.first_pop + pops
    t0 = time.perf_counter()
    for p in sources.tolist():
        dijkstra(graph, directed=True, indices=[p], min_only=True, return_predecessors=True)
    dijkstra_s = time.perf_counter() - t0
    dist, pred = dijkstra(graph, directed=True, indices=sources, return_predecessors=True)
    u, v, w = edge_lists(graph)
    dist_nm = np.ascontiguousarray(dist.T)  # [N, H]: one gather reads a node's H distances together
    t0 = time.perf_counter()
    counted = check_trees(dist_nm, u, v, w)
    check_s = time.perf_counter() - t0
    tree_edges = np.isfinite(dist).sum(axis=1) - 1
    pred_nm = pred.T.astype(np.int64)
    tails = np.where(np.isfinite(dist_nm), dist_nm, np.nan)
    tight = (tails[u] + w[:, None] == dist_nm[v]) & (pred_nm[v] != u[:, None])
    strict = (tails[u] + w[:, None] < dist_nm[v]).sum()
    e, h = np.nonzero(tight)
    parent = pred_nm[v[e], h]
    ambiguous = dist_nm[u[e], h] == dist_nm[parent, h]
    on_gateways = ambiguous & (u[e] >= nodes.satellites)
    return dict(dijkstra_s=dijkstra_s, check_s=check_s, pred=pred, strict=int(strict),
                unique_homes=int((counted == tree_edges).sum()), tight=int(tight.sum()),
                ambiguous=int(ambiguous.sum()), ambiguous_gateways=int(on_gateways.sum()),
                homes_ambiguous=len(np.unique(h[ambiguous])),
                homes_ambiguous_sats=len(np.unique(h[ambiguous & ~on_gateways])))


def spread(values) -> str:
    a = np.asarray(values, dtype=float)
    return f"{a.min():.3g} / {np.median(a):.3g} / {a.max():.3g}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=30, help="seconds of the Gen1 run to capture")
    args = ap.parse_args()
    graphs = capture_graphs(args.steps)
    rows = [census(*g) for g in graphs]
    changes = [(a["pred"] != b["pred"]).sum(axis=1) for a, b in zip(rows, rows[1:]) if a["pred"].shape == b["pred"].shape]
    homes = len(graphs[0][2])
    print(f"{len(rows)} graphs captured, {homes} home PoPs; min / median / max over graphs:")
    print(f"  {homes} Dijkstras, ms: {spread([r['dijkstra_s'] * 1e3 for r in rows])}")
    print(f"  one vectorised check of all {homes} trees, ms: {spread([r['check_s'] * 1e3 for r in rows])}")
    if changes:
        print(f"  predecessors changed per home between captures: {spread(np.concatenate(changes))}")
    print(f"  strict violations (must be 0): {sum(r['strict'] for r in rows)}")
    print(f"  homes whose tree is tie-free (unique): {spread([r['unique_homes'] for r in rows])}")
    print(f"  tight non-tree edges: {spread([r['tight'] for r in rows])}")
    print(f"  ambiguous ties (equal-distance predecessors): {spread([r['ambiguous'] for r in rows])}"
          f", of which between gateways: {spread([r['ambiguous_gateways'] for r in rows])}")
    print(f"  homes with an ambiguous tie: {spread([r['homes_ambiguous'] for r in rows])}"
          f"; counting satellite ties only: {spread([r['homes_ambiguous_sats'] for r in rows])}")


if __name__ == "__main__":
    main()
