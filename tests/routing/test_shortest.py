"""Routes to PoPs and between ground sites, cross-checked with networkx."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leonet.constants import C_KM_S
from leonet.engine.network import NetworkModel
from leonet.errors import NoRouteError
from leonet.ground.sites import great_circle_km, sites_from_coordinates
from leonet.links.visibility import SiteGeometry, visible_links
from leonet.orbits.constellation import walker_constellation
from leonet.orbits.propagate import propagate
from leonet.orbits.walker import WalkerShell
from leonet.routing.graph import NodeSpace, build_graph, edge_weights
from leonet.routing.shortest import ground_to_ground, routes_to_pops
from leonet.scenario.schema import NetworkSpec, PopSpec
from leonet.timebase import TimeGrid, parse_utc

EPOCH = parse_utc("2026-05-30T12:00:00Z")
one_ns_s = 1e-9
one_ns_ms = 1e-6


def _nx(graph) -> nx.DiGraph:
    """The same csr graph in networkx, explicit zero-delay entries included."""
    coo = graph.tocoo()
    g = nx.DiGraph()
    g.add_nodes_from(range(graph.shape[0]))
    g.add_weighted_edges_from(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist()))
    return g


def _sites(role, coords, **kw):
    return sites_from_coordinates(
        role, [dict(name=f"{role}{i}", lat_deg=float(a), lon_deg=float(b), region="", **kw) for i, (a, b) in enumerate(coords)]
    )


# --------------------------------------------------------------------------
# routes_to_pops vs networkx on random graphs
# --------------------------------------------------------------------------


def _random_graph(seed, s=30, w=4, p=2):
    rng = np.random.default_rng(seed)
    nodes = NodeSpace(s, w, p)
    pairs = np.unique(np.sort(rng.integers(0, s, (2 * s, 2)), axis=1), axis=0)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    fg = rng.integers(0, w, 6)
    fs = rng.integers(0, s, 6)
    key = np.unique(fg * s + fs)
    fg, fs = key // s, key % s
    return nodes, build_graph(
        nodes, pairs, rng.uniform(0.001, 0.02, len(pairs)), fg, fs, rng.uniform(0.001, 0.005, len(fg)),
        rng.integers(0, p, w), rng.uniform(0.0, 0.01, w),
    )


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_routes_to_pops_agree_with_networkx(seed):
    nodes, graph = _random_graph(seed)
    routes = routes_to_pops(graph, nodes)
    dist, paths = nx.multi_source_dijkstra(_nx(graph), set(nodes.pop_nodes.tolist()))
    s = nodes.satellites
    for sat in range(s):
        if sat not in dist:
            assert not routes.reachable[sat] and routes.delay_s[sat] == np.inf and routes.isl_hops[sat] == -1
            with pytest.raises(NoRouteError):
                routes.path(sat)
            continue
        assert routes.delay_s[sat] == pytest.approx(dist[sat], abs=one_ns_s)
        theirs = paths[sat][::-1]  # sat ... entry, gateway, PoP
        mine = routes.path(sat)
        assert mine == theirs
        # The parts: hops, gateway, PoP, and the delay of each piece of the path.
        assert routes.pop[sat] == mine[-1] - nodes.first_pop
        assert routes.gateway[sat] == mine[-2] - nodes.first_gateway
        assert routes.entry_sat[sat] == mine[-3]
        assert routes.isl_hops[sat] == len(mine) - 3
        w = edge_weights(graph, mine[1:], mine[:-1])  # edge (next -> this), from PoP outwards
        assert routes.isl_s[sat] == pytest.approx(w[:-2].sum(), abs=one_ns_s)
        assert routes.feeder_s[sat] == w[-2] and routes.backhaul_s[sat] == w[-1]
        # A path's delay equals the sum of its links' delays.
        assert routes.isl_s[sat] + routes.feeder_s[sat] + routes.backhaul_s[sat] == pytest.approx(
            routes.delay_s[sat], abs=one_ns_s
        )
    # Describing a subset (with repeats) gives the same parts as the full columns.
    some = np.array([3, 0, 3, s - 1, 7])
    parts = routes.describe(some)
    for name in ("gateway", "entry_sat", "isl_hops", "isl_s", "feeder_s", "backhaul_s"):
        assert np.array_equal(getattr(parts, name), getattr(routes, name)[some], equal_nan=True)


def test_no_pops_means_nothing_is_reachable():
    nodes = NodeSpace(3, 0, 0)
    g = build_graph(nodes, np.array([[0, 1]]), np.array([0.01]), np.zeros(0, int), np.zeros(0, int), np.zeros(0),
                    np.zeros(0, int), np.zeros(0))
    routes = routes_to_pops(g, nodes)
    assert not routes.reachable.any() and routes.isl_hops.tolist() == [-1, -1, -1]


# --------------------------------------------------------------------------
# ground_to_ground (Hypatia's city pairs)
# --------------------------------------------------------------------------


def test_ground_to_ground_matches_networkx_and_ground_never_relays():
    rng = np.random.default_rng(4)
    s, g = 20, 6
    pairs = np.unique(np.sort(rng.integers(0, s, (30, 2)), axis=1), axis=0)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    isl_d = rng.uniform(0.001, 0.02, len(pairs))
    site = rng.integers(0, g, 25)
    sat = rng.integers(0, s, 25)
    key = np.unique(site * s + sat)
    site, sat = key // s, key % s
    d = rng.uniform(0.001, 0.004, len(site))
    city_pairs = np.array([(a, b) for a in range(g) for b in range(g) if a != b])
    r = ground_to_ground(s, pairs, isl_d, site, sat, d, g, city_pairs)
    for p, (a, b) in enumerate(city_pairs):
        # networkx: satellites + only the two endpoints.
        G = nx.Graph()
        G.add_weighted_edges_from((int(x), int(y), float(w)) for (x, y), w in zip(pairs, isl_d))
        G.add_weighted_edges_from((("src", int(t), float(w)) for q, t, w in zip(site, sat, d) if q == a))
        G.add_weighted_edges_from((("dst", int(t), float(w)) for q, t, w in zip(site, sat, d) if q == b))
        try:
            expect = nx.dijkstra_path_length(G, "src", "dst")
        except (nx.NetworkXNoPath, nx.NodeNotFound):
            assert r.delay_s[p] == np.inf
            with pytest.raises(NoRouteError):
                r.path(p)
            continue
        assert r.delay_s[p] == pytest.approx(expect, abs=one_ns_s)
        path = r.path(p)
        assert path[0] == s + a and path[-1] == s + b
        assert all(n < s for n in path[1:-1])  # no ground node in between
    # Undirected routes are symmetric.
    lookup = {(int(a), int(b)): r.delay_s[p] for p, (a, b) in enumerate(city_pairs)}
    for (a, b), v in lookup.items():
        assert v == pytest.approx(lookup[(b, a)], abs=one_ns_s) or (v == np.inf and lookup[(b, a)] == np.inf)


# --------------------------------------------------------------------------
# Golden end-to-end: a 3-plane toy Walker constellation for a few minutes
# --------------------------------------------------------------------------

TOY_SHELL = WalkerShell("toy", 1200.0, 53.0, 3, 8, phase_factor=1, min_elevation_deg=10.0)
TERMINALS = [(50.45, 30.52), (48.85, 2.35), (40.7, -74.0), (35.7, 139.7), (-33.9, 151.2), (0.0, 0.0), (30.0, 60.0),
             (-20.0, -50.0), (60.0, 100.0), (10.0, 100.0), (45.0, -100.0), (-40.0, 20.0)]
GATEWAYS = [(50.04, 21.99), (40.0, -100.0), (35.0, 135.0), (-25.0, 135.0), (0.0, 30.0), (-15.0, -60.0), (55.0, 80.0)]
POPS = [(50.11, 8.68), (39.0, -77.0), (35.7, 139.7)]


def _toy_model(isl="plus-grid", policy="min-latency", shell=TOY_SHELL, terminals=TERMINALS, gateways=GATEWAYS,
               pops=POPS, slot_s=15.0, step_ns=10**9):
    c = walker_constellation("toy", [shell], EPOCH)
    model = NetworkModel(
        c,
        _sites("terminal", terminals, min_elevation_deg=10.0),
        _sites("gateway", gateways, min_elevation_deg=10.0, antenna_count=2),
        _sites("pop", pops),
        NetworkSpec(isl=isl, slot_s=slot_s, policy=policy),
        PopSpec(terminal_pop="nearest"),  # this golden test checks nearest-PoP routing against networkx
        step_ns=step_ns,
    )
    return c, model


def test_golden_toy_constellation_paths_and_rtts_match_networkx():
    c, model = _toy_model(step_ns=10 * 10**9)
    grid = TimeGrid.regular(EPOCH, 240 * 10**9, 10 * 10**9)
    r = propagate(c.satrec_array, grid).r_ecef_km
    rows = model.process_chunk(grid, r)["terminal_steps"].to_pylist()
    g = len(TERMINALS)
    nodes = model.nodes
    served = 0
    for i in range(len(grid)):
        state = model.step_state(r[i])
        dist, paths = nx.multi_source_dijkstra(_nx(state.graph), set(nodes.pop_nodes.tolist()))
        for row in rows[i * g:(i + 1) * g]:
            sat = row["sat"]
            if row["reason"] == "no-satellite":
                assert np.isnan(row["rtt_ms"]) and not row["served"]
                continue
            if row["reason"] == "no-gateway-path":
                assert sat not in dist and np.isnan(row["rtt_ms"])
                continue
            served += 1
            path = paths[sat][::-1]
            assert row["pop"] == path[-1] - nodes.first_pop
            assert row["gateway"] == path[-2] - nodes.first_gateway
            assert row["isl_hops"] == len(path) - 3
            expect_ms = 2e3 * (row["uplink_ms"] / 1e3 + dist[sat])
            assert row["rtt_ms"] == pytest.approx(expect_ms, abs=one_ns_ms)
            assert row["rtt_ms"] == pytest.approx(
                2 * (row["uplink_ms"] + row["isl_ms"] + row["feeder_ms"] + row["backhaul_ms"]), abs=1e-12
            )
    assert served > 0.3 * len(rows)  # the toy shell serves a good share of these places


def test_bent_pipe_serves_only_when_the_satellite_sees_a_gateway():
    c, model = _toy_model(isl="none", step_ns=5 * 10**9)
    grid = TimeGrid.regular(EPOCH, 180 * 10**9, 5 * 10**9)
    r = propagate(c.satrec_array, grid).r_ecef_km
    tables = model.process_chunk(grid, r)
    rows = tables["terminal_steps"].to_pylist()
    g = len(TERMINALS)
    gw_geo = SiteGeometry.from_sites(_sites("gateway", GATEWAYS, min_elevation_deg=10.0))
    n_served = n_blocked = 0
    for i in range(len(grid)):
        seen = visible_links(gw_geo, r[i])
        sees_gateway = set(seen.sat.tolist())
        for row in rows[i * g:(i + 1) * g]:
            if row["served"]:
                n_served += 1
                assert row["sat"] in sees_gateway and row["isl_hops"] == 0 and row["isl_ms"] == 0.0
            elif row["reason"] == "no-gateway-path":
                n_blocked += 1
                assert row["sat"] >= 0
    assert n_served > 0 and n_blocked > 0
    assert all(v == 0 for v in tables["link_drops"].column("isl_active").to_pylist())


# --------------------------------------------------------------------------
# Properties on small random Walker shells and random ground points
# --------------------------------------------------------------------------


@settings(max_examples=15, deadline=None)
@given(
    planes=st.integers(3, 6),
    per_plane=st.integers(3, 10),
    altitude_km=st.floats(500, 1500),
    inclination_deg=st.floats(30, 100),
    seed=st.integers(0, 1000),
    t0_s=st.integers(0, 3000),
)
def test_rtt_bound_path_sums_and_networkx_on_random_walker_shells(planes, per_plane, altitude_km, inclination_deg,
                                                                   seed, t0_s):
    rng = np.random.default_rng(seed)
    shell = WalkerShell("r", altitude_km, inclination_deg, planes, per_plane, phase_factor=planes // 2,
                        min_elevation_deg=0.0)
    terms = np.c_[rng.uniform(-60, 60, 8), rng.uniform(-180, 180, 8)]
    gws = np.c_[rng.uniform(-60, 60, 5), rng.uniform(-180, 180, 5)]
    pops = np.c_[rng.uniform(-60, 60, 2), rng.uniform(-180, 180, 2)]
    c, model = _toy_model(shell=shell, terminals=terms, gateways=gws, pops=pops, slot_s=0.0, step_ns=30 * 10**9)
    grid = TimeGrid(EPOCH, t0_s * 10**9 + np.arange(3, dtype=np.int64) * 30 * 10**9)
    r = propagate(c.satrec_array, grid).r_ecef_km
    rows = model.process_chunk(grid, r)["terminal_steps"].to_pylist()
    pop_sites = _sites("pop", pops)
    for i in range(len(grid)):
        state = model.step_state(r[i])
        dist = nx.multi_source_dijkstra_path_length(_nx(state.graph), set(model.nodes.pop_nodes.tolist()))
        routes = state.routes
        for sat in range(len(c)):
            assert (sat in dist) == bool(routes.reachable[sat])
            if sat in dist:
                assert routes.delay_s[sat] == pytest.approx(dist[sat], abs=one_ns_s)
                path = routes.path(sat)
                w = edge_weights(state.graph, path[1:], path[:-1])
                assert w.sum() == pytest.approx(routes.delay_s[sat], abs=one_ns_s)
        for row in rows[i * len(terms):(i + 1) * len(terms)]:
            if not row["served"]:
                continue
            t = row["terminal"]
            gc = great_circle_km(terms[t, 0], terms[t, 1], pop_sites.lat_deg[row["pop"]], pop_sites.lon_deg[row["pop"]])
            # 0.5 %: the mean-radius sphere vs the ellipsoid the geometry uses.
            assert row["rtt_ms"] / 1e3 >= 2.0 * gc / C_KM_S * (1 - 0.005)
