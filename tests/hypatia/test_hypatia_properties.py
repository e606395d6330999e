"""Properties of leonet's Hypatia forwarding state on small random Walker shells.

Cross-checks: the vectorised router against a plain transliteration of
Hypatia's ``algorithm_free_one_only_over_isls`` on networkx (all-pairs
shortest paths, Python loops), and against networkx shortest paths; physics
(RTT at least the great-circle distance there and back at c); consistency
(a route's length is the sum of its hops; warm start equals cold start).
"""

from __future__ import annotations

import datetime as dt
import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from leonet.constants import C_KM_S
from leonet.hypatia.files import fstate_text, hypatia_geodetic_to_ecef_m
from leonet.hypatia.paths import follow_path, path_length_km
from leonet.hypatia.router import FreeOneOnlyOverIsls
from leonet.links.isl import link_lengths_km, plus_grid_pairs
from leonet.orbits.propagate import propagate
from leonet.orbits.walker import WalkerShell, walker_satrecs
from leonet.timebase import TimeGrid

EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
TIE_KM = 1e-6  # routes within 1 mm may legitimately be chosen either way
LONG_ISL_KM = 1e6  # small shells have long ISLs; these tests are about routing, not the 80 km beam limit


@st.composite
def scenarios(draw):
    planes = draw(st.integers(3, 6))
    per_plane = draw(st.integers(3, 8))
    altitude = draw(st.floats(500, 1500))
    shell = WalkerShell(
        name="t", altitude_km=altitude, inclination_deg=draw(st.floats(30, 98)), planes=planes,
        sats_per_plane=per_plane, phase_factor=draw(st.integers(0, planes - 1)),
    )
    n_gs = draw(st.integers(2, 7))
    lat = draw(st.lists(st.floats(-70, 70), min_size=n_gs, max_size=n_gs))
    lon = draw(st.lists(st.floats(-180, 180), min_size=n_gs, max_size=n_gs))
    # A generous cone so that some stations see satellites of these sparse shells.
    max_gsl_km = math.hypot(draw(st.floats(1500, 4500)), altitude)
    offsets = sorted(draw(st.lists(st.integers(0, 6_000_000_000_000), min_size=1, max_size=4, unique=True)))
    return shell, np.array(lat), np.array(lon), max_gsl_km, offsets


def _geometry(shell, lat, lon, offsets):
    recs, _ = walker_satrecs(shell, EPOCH)
    r_sat = propagate(recs, TimeGrid(EPOCH, np.array(offsets, dtype=np.int64))).r_ecef_km
    r_gs = np.array([hypatia_geodetic_to_ecef_m(a, b, 0.0) for a, b in zip(lat, lon)]) / 1000.0
    return r_sat, r_gs


def _hypatia_algorithm(pairs, r_sat, r_gs, max_gsl_km):
    """Hypatia's algorithm, spelled out: Floyd-Warshall-like all pairs, then loops (returns [S+G, G] next hops)."""
    S, G = len(r_sat), len(r_gs)
    graph = nx.Graph()
    graph.add_nodes_from(range(S))
    for a, b in pairs.tolist():
        graph.add_edge(a, b, weight=float(np.linalg.norm(r_sat[a] - r_sat[b])))
    dist = dict(nx.all_pairs_dijkstra_path_length(graph))
    in_range = []
    for g in range(G):
        ranges = np.linalg.norm(r_sat - r_gs[g], axis=1)
        in_range.append([(float(ranges[s]), s) for s in range(S) if ranges[s] <= max_gsl_km])
    nh = np.full((S + G, G), -1, dtype=np.int64)
    to_gs = {}
    for c in range(S):
        for d in range(G):
            options = sorted((dist[c][b] + r, b) for r, b in in_range[d] if b in dist[c])
            to_gs[(c, d)] = options[0][0] if options else math.inf
            if not options:
                continue
            target = options[0][1]
            if c == target:
                nh[c, d] = S + d
                continue
            best = math.inf
            for n in graph.neighbors(c):
                via = graph.edges[c, n]["weight"] + dist[n][target]
                if via < best:
                    best, nh[c, d] = via, n
    for g in range(G):
        for d in range(G):
            if g == d:
                continue
            options = sorted((r + to_gs[(a, d)], a) for r, a in in_range[g] if math.isfinite(to_gs[(a, d)]))
            if options:
                nh[S + g, d] = options[0][1]
    return nh, graph, dist


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_matches_hypatias_algorithm_and_networkx(case):
    shell, lat, lon, max_gsl_km, offsets = case
    r_sat_t, r_gs = _geometry(shell, lat, lon, offsets)
    S, G = shell.size, len(lat)
    pairs = plus_grid_pairs(shell.planes, shell.sats_per_plane)
    router = FreeOneOnlyOverIsls(S, G, pairs, max_gsl_km, LONG_ISL_KM)
    for r_sat in r_sat_t:
        state = router.step(r_sat, r_gs)
        ref, graph, dist = _hypatia_algorithm(pairs, r_sat, r_gs, max_gsl_km)
        for node, d in np.argwhere(state.next_hop != ref):
            # Only exact ties (within 1 mm) may differ; measure both routes.
            mine, theirs = int(state.next_hop[node, d]), int(ref[node, d])
            assert mine >= 0 and theirs >= 0
            if node < S:
                ours = state.sat_to_gs_km[d, node]
                alt = (np.linalg.norm(r_sat[node] - r_gs[d]) if theirs >= S
                       else graph.edges[node, theirs]["weight"] + state.sat_to_gs_km[d, theirs])
            else:
                ours = state.gs_to_gs_km[node - S, d]
                alt = np.linalg.norm(r_gs[node - S] - r_sat[theirs]) + state.sat_to_gs_km[d, theirs]
            assert alt - ours < TIE_KM
        # Route lengths to every station equal networkx's shortest paths with that station's links only.
        for d in range(G):
            h = graph.copy()
            ranges = np.linalg.norm(r_sat - r_gs[d], axis=1)
            for s in np.flatnonzero(ranges <= max_gsl_km):
                h.add_edge("gs", int(s), weight=float(ranges[s]))
            lengths = nx.single_source_dijkstra_path_length(h, "gs") if "gs" in h else {}
            expect = np.array([lengths.get(s, np.inf) for s in range(S)])
            np.testing.assert_allclose(state.sat_to_gs_km[d], expect, rtol=1e-12, atol=1e-9)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_rtt_bounds_and_path_sums(case):
    shell, lat, lon, max_gsl_km, offsets = case
    r_sat_t, r_gs = _geometry(shell, lat, lon, offsets)
    S, G = shell.size, len(lat)
    pairs = plus_grid_pairs(shell.planes, shell.sats_per_plane)
    router = FreeOneOnlyOverIsls(S, G, pairs, max_gsl_km, LONG_ISL_KM)
    radius = np.linalg.norm(r_gs, axis=1)
    unit = r_gs / radius[:, None]
    checked = 0
    for r_sat in r_sat_t:
        state = router.step(r_sat, r_gs)
        isl = {tuple(p): w for p, w in zip(pairs.tolist(), link_lengths_km(r_sat, pairs))}
        for g in range(G):
            for d in range(G):
                if g == d:
                    continue
                there = follow_path(state.next_hop, S + g, S + d, S)
                back = follow_path(state.next_hop, S + d, S + g, S)
                assert (there is None) == (not np.isfinite(state.gs_to_gs_km[g, d]))
                if there is None or back is None:
                    continue
                # A path's length is the sum of its links (and what the router reports).
                hops = [a for a in there[1:-1]]
                assert all(tuple(sorted(p)) in isl for p in zip(hops[:-1], hops[1:]))
                length = path_length_km(there, r_sat, r_gs)
                assert length == pytest.approx(state.gs_to_gs_km[g, d], rel=1e-12)
                # Stations never relay.
                assert all(n < S for n in hops)
                # RTT >= 2 x great-circle distance / c (on the sphere through the lower station; the
                # links stay outside it because the GSLs rise above the horizon and ISLs are in orbit).
                rtt_s = (length + path_length_km(back, r_sat, r_gs)) / C_KM_S
                angle = math.acos(float(np.clip(unit[g] @ unit[d], -1.0, 1.0)))
                # ISL chords of these sparse shells may cut below the surface: only claim the bound
                # when every ISL stays above the Earth (perigee of the chord above 6,357 km).
                chord_ok = all(
                    np.linalg.norm(np.cross(r_sat[a], r_sat[b])) / np.linalg.norm(r_sat[a] - r_sat[b]) > 6357.0
                    for a, b in zip(hops[:-1], hops[1:])
                )
                if chord_ok:
                    assert rtt_s >= 2 * min(radius[g], radius[d]) * angle / C_KM_S * (1 - 1e-12)
                checked += 1
    assume(checked > 0)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.integers(1, 30))
def test_warm_start_equals_cold_start(case, step_s):
    shell, lat, lon, max_gsl_km, _ = case
    offsets = [k * step_s * 1_000_000_000 for k in range(8)]
    r_sat_t, r_gs = _geometry(shell, lat, lon, offsets)
    S, G = shell.size, len(lat)
    pairs = plus_grid_pairs(shell.planes, shell.sats_per_plane)
    warm = FreeOneOnlyOverIsls(S, G, pairs, max_gsl_km, LONG_ISL_KM)
    warm._CHUNK_ELEMENTS = 40  # exercise the chunked full checks too
    cold = FreeOneOnlyOverIsls(S, G, pairs, max_gsl_km, LONG_ISL_KM, warm_start=False)
    for r_sat in r_sat_t:
        a, b = warm.step(r_sat, r_gs), cold.step(r_sat, r_gs)
        np.testing.assert_array_equal(a.next_hop, b.next_hop)
        np.testing.assert_array_equal(a.gs_to_gs_km, b.gs_to_gs_km)


@settings(max_examples=20, deadline=None)
@given(st.integers(3, 7), st.integers(3, 7), st.integers(0, 4), st.randoms(use_true_random=False))
def test_interface_numbers_follow_isl_order(planes, per_plane, shift, rnd):
    # Hypatia numbers a satellite's ISL interfaces in isls.txt order; any order of the list must be honoured.
    pairs = plus_grid_pairs(planes, per_plane, shift)
    order = list(range(len(pairs)))
    rnd.shuffle(order)
    pairs = pairs[order]
    S = planes * per_plane
    router = FreeOneOnlyOverIsls(S, 1, pairs, 1.0, LONG_ISL_KM)
    expected = {}
    count = [0] * S
    for a, b in pairs.tolist():
        expected[(a, b)], expected[(b, a)] = count[a], count[b]
        count[a] += 1
        count[b] += 1
    u = np.repeat(np.arange(S), 1)
    for (a, b), k in expected.items():
        here, there = router.interfaces(np.array([a]), np.array([b]))
        assert (here[0], there[0]) == (k, expected[(b, a)])
    here, there = router.interfaces(u, np.full(S, S))  # down to the station: GSL interface = number of ISLs
    assert here.tolist() == count and (there == 0).all()


def test_unreachable_entries_are_minus_one():
    # One station (at the pole, above a 53 deg shell) sees no satellite: every entry toward it is -1,-1,-1
    # (Hypatia's "dropped"), and so is its own choice toward the other station.
    shell = WalkerShell(name="t", altitude_km=550, inclination_deg=53, planes=4, sats_per_plane=6)
    r_sat_t, _ = _geometry(shell, [0.0], [0.0], [0])
    r_sat = r_sat_t[0]
    r_gs = np.array([r_sat[0] * 6371 / np.linalg.norm(r_sat[0]), [0.0, 0.0, 6357.0]])
    router = FreeOneOnlyOverIsls(24, 2, plus_grid_pairs(4, 6), 600.0, LONG_ISL_KM)
    state = router.step(r_sat, r_gs)
    assert (state.next_hop[:24, 0] >= 0).all()
    assert (state.next_hop[:, 1] == -1).all() and state.next_hop[24 + 1, 0] == -1
    lines = fstate_text(router, state.next_hop, None).splitlines()
    assert f"0,{24 + 1},-1,-1,-1" in lines and f"{24},{24 + 1},-1,-1,-1" in lines
    assert len(lines) == 24 * 2 + 2


def test_no_isls_routes_only_direct():
    # --isl none: a satellite reaches a station only directly; stations pair up only via a shared satellite.
    shell = WalkerShell(name="t", altitude_km=550, inclination_deg=53, planes=4, sats_per_plane=6)
    r_sat = _geometry(shell, [0.0], [0.0], [0])[0][0]
    up = r_sat[5] / np.linalg.norm(r_sat[5])
    r_gs = np.array([up * 6371, (up + np.array([0.0, 0.0, 0.01])) / np.linalg.norm(up + [0, 0, 0.01]) * 6371])
    router = FreeOneOnlyOverIsls(24, 2, np.zeros((0, 2), dtype=np.int64), 1000.0, LONG_ISL_KM)
    state = router.step(r_sat, r_gs)
    assert state.next_hop[5, 0] == 24 and state.next_hop[24, 1] >= 0
    assert follow_path(state.next_hop, 24, 25, 24) == [24, int(state.next_hop[24, 1]), 25]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(*[st.integers(-1, 10**7)] * 5), min_size=1, max_size=50), st.integers(1, 200))
def test_vectorised_writer_matches_printf(rows, repeat):
    # The fast writer for big fstate files must produce Hypatia's "%d,%d,%d,%d,%d\n" exactly.
    from leonet.hypatia.files import _format_rows_vectorised

    cols = [np.array([r[j] for r in rows] * repeat, dtype=np.int64) for j in range(5)]
    expect = "".join("%d,%d,%d,%d,%d\n" % r for r in rows * repeat)
    assert _format_rows_vectorised(cols).decode("ascii") == expect
