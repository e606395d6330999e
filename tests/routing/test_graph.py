"""The per-step delay graph: node space, edges, directions, backhaul."""

from __future__ import annotations

import numpy as np
import pytest

from leonet.constants import C_KM_S
from leonet.errors import ScenarioError
from leonet.ground.sites import great_circle_km, sites_from_coordinates
from leonet.ground.pops import assign_pops, backhaul_delay_s
from leonet.routing.graph import NodeSpace, build_graph, edge_weights

one_ns_s = 1e-9


def _sites(role, coords, **kw):
    return sites_from_coordinates(
        role, [dict(name=f"{role}{i}", lat_deg=a, lon_deg=b, region="", **kw) for i, (a, b) in enumerate(coords)]
    )


def test_node_space():
    nodes = NodeSpace(10, 3, 2)
    assert nodes.size == 15
    assert nodes.gateway_node(0) == 10 and nodes.pop_node(1) == 14
    assert nodes.pop_nodes.tolist() == [13, 14]
    assert nodes.kind([0, 9, 10, 12, 13, 14]).tolist() == [0, 0, 1, 1, 2, 2]


def test_build_graph_edges_and_directions():
    nodes = NodeSpace(4, 2, 1)
    g = build_graph(
        nodes,
        isl_pairs=np.array([[0, 1], [1, 2]]),
        isl_delay_s=np.array([0.010, 0.020]),
        feeder_gateway=np.array([0, 1]),
        feeder_sat=np.array([0, 3]),
        feeder_delay_s=np.array([0.002, 0.003]),
        gateway_pop=np.array([0, 0]),
        backhaul_s=np.array([0.0, 0.004]),
    )
    dense = g.toarray()
    assert g.shape == (7, 7)
    # Lasers both ways.
    assert dense[0, 1] == dense[1, 0] == 0.010 and dense[1, 2] == dense[2, 1] == 0.020
    # Gateway -> satellite only (a satellite never sends into a gateway: no ground relay).
    assert dense[4, 0] == 0.002 and dense[5, 3] == 0.003
    # Stored entries (explicit zeros included: a zero-delay link is an edge).
    coo = g.tocoo()
    edges = set(zip(coo.row.tolist(), coo.col.tolist()))
    assert (0, 4) not in edges
    # PoP -> gateway only; a zero-delay backhaul is an explicit entry, not a missing edge.
    assert (6, 4) in edges and (6, 5) in edges
    assert dense[6, 5] == 0.004
    assert not any(c >= 4 and r < 4 for r, c in edges)  # nothing enters ground nodes from satellites
    assert g.nnz == 2 * 2 + 2 + 2
    # Sorted indices within rows.
    for r in range(7):
        idx = g.indices[g.indptr[r]:g.indptr[r + 1]]
        assert np.all(np.diff(idx) > 0)


def test_edge_weights_reads_present_edges_and_nan_for_absent():
    nodes = NodeSpace(3, 0, 0)
    g = build_graph(nodes, np.array([[0, 1], [1, 2]]), np.array([1.0, 2.0]), np.zeros(0, int), np.zeros(0, int),
                    np.zeros(0), np.zeros(0, int), np.zeros(0))
    w = edge_weights(g, [0, 1, 2, 0], [1, 0, 1, 2])
    assert w[:3].tolist() == [1.0, 1.0, 2.0] and np.isnan(w[3])


def test_backhaul_is_great_circle_times_route_factor_over_fibre_speed():
    gws = _sites("gateway", [(50.04, 21.99), (52.4, 16.9)])
    pops = _sites("pop", [(50.11, 8.68), (52.23, 21.01)])
    pop = assign_pops(gws, pops)
    assert pop.tolist() == [1, 1]  # Rzeszow and Poznan are both nearer Warsaw than Frankfurt
    d = backhaul_delay_s(gws, pops, pop, route_factor=1.5, refractive_index=1.468)
    gc = great_circle_km(gws.lat_deg, gws.lon_deg, pops.lat_deg[pop], pops.lon_deg[pop])
    assert np.allclose(d, gc * 1.5 / (C_KM_S / 1.468), atol=one_ns_s, rtol=0)


def test_assignment_overrides_nearest_and_matches_merged_ids():
    gws = _sites("gateway", [(50.04, 21.99), (52.4, 16.9)])
    pops = _sites("pop", [(50.11, 8.68), (52.23, 21.01)])
    pop = assign_pops(gws, pops, {"gateway:gateway1": "pop:pop0"})
    assert pop.tolist() == [1, 0]


def test_assignment_with_unknown_ids_teaches():
    gws = _sites("gateway", [(50.04, 21.99)])
    pops = _sites("pop", [(50.11, 8.68)])
    with pytest.raises(ScenarioError, match="not among"):
        assign_pops(gws, pops, {"GS999": "pop:pop0"})
    with pytest.raises(ScenarioError):
        assign_pops(gws, pops, {"gateway:gateway0": "POP999"})
    with pytest.raises(ScenarioError, match="no PoPs"):
        assign_pops(gws, pops.subset(np.zeros(0, int)))
