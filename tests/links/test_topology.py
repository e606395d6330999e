"""The +Grid topology of whole constellations and its per-step beam limit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leonet.constants import WGS72_A_KM
from leonet.links.isl import max_isl_length_km, plus_grid_pairs
from leonet.links.topology import (
    IslTopology,
    argument_of_latitude_rad,
    beam_limit_length_km,
    no_isl_topology,
    plus_grid_topology,
    ring_and_cross_links,
)
from leonet.orbits.constellation import BUILTIN_WALKER, Constellation, walker_constellation
from leonet.orbits.propagate import propagate
from leonet.orbits.shells import infer_shells
from leonet.orbits.tle import read_elements
from leonet.orbits.walker import WalkerShell
from leonet.timebase import TimeGrid, parse_utc

EPOCH = parse_utc("2026-05-30T12:00:00Z")
one_m_km = 1e-3


def _degree(pairs, n):
    return np.bincount(pairs.ravel(), minlength=n)


def test_walker_shells_use_plus_grid_pairs_offset_per_shell():
    c = walker_constellation("g1", BUILTIN_WALKER["starlink-gen1"][1], EPOCH)
    topo = plus_grid_topology(c)
    expected, first = [], 0
    for shell in BUILTIN_WALKER["starlink-gen1"][1]:
        expected.append(plus_grid_pairs(shell.planes, shell.sats_per_plane, first=first))
        first += shell.size
    expected = np.concatenate(expected)
    assert {tuple(p) for p in topo.pairs.tolist()} == {tuple(p) for p in expected.tolist()}
    assert len(topo) == expected.shape[0]
    # Four lasers each, all within one shell, ordered (a, b) with a < b.
    assert np.all(_degree(topo.pairs, len(c)) == 4)
    assert np.all(c.shell_index[topo.pairs[:, 0]] == c.shell_index[topo.pairs[:, 1]])
    assert np.all(topo.shell == c.shell_index[topo.pairs[:, 0]])
    assert np.all(topo.pairs[:, 0] < topo.pairs[:, 1])


def test_walker_nominal_limit_is_hypatias():
    c = walker_constellation("s", BUILTIN_WALKER["starlink-550"][1], EPOCH)
    topo = plus_grid_topology(c)
    # Hypatia's description.txt for Starlink-550: 5,016,591.2330984278 m.
    assert np.allclose(topo.nominal_max_length_km, 5016.5912330984278)


def test_tiny_walker_shell_gets_no_lasers():
    c = walker_constellation("x", [WalkerShell("x", 550, 53, 2, 5)], EPOCH)
    topo = plus_grid_topology(c)
    assert len(topo) == 0 and topo.notes


def test_beam_limit_equals_max_isl_length_at_equal_radii():
    for h in (340.0, 550.0, 1200.0):
        r = WGS72_A_KM + h
        assert beam_limit_length_km(r, r, 80.0) == pytest.approx(max_isl_length_km(h, 80.0), abs=1e-9)


def _closest_approach_km(p, q):
    """Distance from the Earth's centre to the segment pq (brute force)."""
    s = np.linspace(0.0, 1.0, 200_001)[:, None]
    pts = p[None, :] * (1 - s) + q[None, :] * s
    return np.sqrt((pts * pts).sum(axis=1)).min()


@settings(max_examples=60, deadline=None)
@given(
    h1=st.floats(200, 2000),
    h2=st.floats(200, 2000),
    angle_deg=st.floats(1, 120),
)
def test_length_within_limit_iff_the_chord_stays_above_the_beam_altitude(h1, h2, angle_deg):
    r1, r2 = WGS72_A_KM + h1, WGS72_A_KM + h2
    a = np.radians(angle_deg)
    p = np.array([r1, 0.0, 0.0])
    q = np.array([r2 * np.cos(a), r2 * np.sin(a), 0.0])
    length = np.linalg.norm(p - q)
    limit = beam_limit_length_km(r1, r2, 80.0)
    closest = _closest_approach_km(p, q)
    rm = WGS72_A_KM + 80.0
    if abs(closest - rm) > 0.05:  # away from grazing (brute-force resolution)
        assert (length <= limit) == (closest >= rm)


def test_links_breaking_the_limit_are_dropped_and_nan_positions_too():
    r = WGS72_A_KM + 550.0
    pos = np.array([[r, 0, 0], [0, r, 0], [-r, 0, 0], [r * np.cos(0.3), r * np.sin(0.3), 0], [np.nan] * 3])
    topo = IslTopology(5, np.array([[0, 1], [0, 2], [0, 3], [0, 4]]), np.zeros(4, np.int32), np.zeros(4))
    length, ok = topo.usable(pos)
    # 90 deg apart at 550 km: chord dips to r cos 45 = 4894 km, far below 6458 km.
    assert ok.tolist() == [False, False, True, False]
    assert length[2] == pytest.approx(2 * r * np.sin(0.15))
    # Per step, with a time axis.
    length_t, ok_t = topo.usable(np.stack([pos, pos]))
    assert ok_t.shape == (2, 4) and np.array_equal(ok_t[1], ok)


def test_no_isl_topology_is_empty():
    topo = no_isl_topology(10)
    length, ok = topo.usable(np.ones((10, 3)) * 7000)
    assert len(topo) == 0 and length.shape == (0,) and ok.shape == (0,)
    assert not topo.has_lasers.any()


def test_argument_of_latitude_of_a_circular_orbit():
    # Inclined circular orbit: node on +x, 30 deg past the node.
    inc = np.radians(53.0)
    u = np.radians(30.0)
    r = 7000.0 * np.array([np.cos(u), np.sin(u) * np.cos(inc), np.sin(u) * np.sin(inc)])
    v = 7.5 * np.array([-np.sin(u), np.cos(u) * np.cos(inc), np.cos(u) * np.sin(inc)])
    assert np.degrees(argument_of_latitude_rad(r[None], v[None]))[0] == pytest.approx(30.0)


def test_ring_and_cross_links_on_a_perfect_grid_is_plus_grid():
    planes, spp = 5, 6
    plane = np.repeat(np.arange(planes), spp)
    slot = np.tile(np.arange(spp), planes)
    u = 2 * np.pi * slot / spp + 0.01 * plane  # small phase offset per plane
    pairs = ring_and_cross_links(plane, u)
    expected = np.unique(np.sort(plus_grid_pairs(planes, spp), axis=1), axis=0)
    assert np.array_equal(pairs, expected)


def test_ring_and_cross_links_degree_at_most_four_and_no_links_off_station():
    rng = np.random.default_rng(1)
    plane = rng.integers(-1, 7, 300)
    u = rng.uniform(0, 2 * np.pi, 300)
    pairs = ring_and_cross_links(plane, u, np.arange(7))
    deg = _degree(pairs, 300)
    assert deg.max() <= 4
    assert np.all(deg[plane < 0] == 0)
    assert np.all(pairs[:, 0] < pairs[:, 1])


@pytest.fixture(scope="module")
def real_constellation(starlink_tle_path):
    elements = read_elements(starlink_tle_path)
    return elements, Constellation.from_elements("starlink", elements)


def test_real_snapshot_topology(real_constellation):
    elements, c = real_constellation
    topo = plus_grid_topology(c)
    inference = infer_shells(elements)
    s = len(c)
    deg = _degree(topo.pairs, s)
    assert deg.max() <= 4
    # Satellites not on station (or in no shell) get no lasers.
    assert np.all(deg[~inference.on_station] == 0)
    # Links stay within an inferred shell.
    assert np.all(inference.shell_of_satellite[topo.pairs[:, 0]] == inference.shell_of_satellite[topo.pairs[:, 1]])
    # Inferred planes differ in size (2..51 satellites in May 2026), so not
    # every satellite finds a partner in both neighbouring planes.
    assert np.mean(deg[inference.on_station] == 4) > 0.6
    assert np.mean(deg[inference.on_station] >= 3) > 0.9
    # At the snapshot time, most links are within their beam limit.
    grid = TimeGrid.at(parse_utc("2026-05-30T00:00:00Z"))
    r = propagate(c.satrec_array, grid).r_ecef_km[0]
    _length, ok = topo.usable(r)
    assert ok.mean() > 0.9
