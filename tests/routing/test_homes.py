"""Bounded searches to several home PoPs (leonet.routing.homes) give the routes unbounded searches give.

References: csgraph's unbounded Dijkstra (one per home PoP, `routes_to_pops`)
and satellite visibility worked by hand here (WGS84 geodetic up, elevation
from the line of sight), independent of the visibility caps the bound uses.
The end-to-end check runs a world-wide scenario with moving terminals that
cross borders and a gateway outage both ways and compares every table bit
for bit.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from leonet.engine import network
from leonet.engine.context import RunContext
from leonet.engine.run import run_scenario
from leonet.orbits.propagate import propagate
from leonet.routing.homes import visibility_angle_rad
from leonet.scenario.load import load_scenario

from same_tables import assert_same_bits, tables_of  # tests/same_tables.py

WORLD = """\
[scenario]
name = "world-homes"
[time]
start_utc = "2026-05-30T12:00:00Z"
duration_s = {duration}
step_s = 5
[[constellations]]
kind = "builtin"
builtin = "starlink-gen1"
[ground.terminals]
[[ground.terminals.sources]]
kind = "cities"
limit = 150
[[ground.terminals.sources]]
kind = "route"
name = "Strasbourg to Kehl and on"
speed_kmh = 900
start_utc = 2026-05-30T12:00:00Z
waypoints = [{{ lat_deg = 48.58, lon_deg = 7.75 }}, {{ lat_deg = 48.58, lon_deg = 11.5 }}]
[[ground.terminals.sources]]
kind = "route"
name = "across the Mediterranean"
speed_kmh = 900
start_utc = 2026-05-30T12:00:00Z
waypoints = [{{ lat_deg = 36.8, lon_deg = 10.2 }}, {{ lat_deg = 41.9, lon_deg = 12.5 }}]
[ground.gateways]
catalog = "2026-03"
[ground.pops]
catalog = "2026-10"
[[faults]]
kind = "gateway-down"
gateways = ["GS220"]
from = 2026-05-30T12:00:20Z
until = 2026-05-30T12:00:50Z
"""


def _scenario(tmp_path, duration: int):
    path = tmp_path / "world.toml"
    path.write_text(textwrap.dedent(WORLD.format(duration=duration)), encoding="utf-8")
    return load_scenario(path)


def _visible(terminal_ecef_km, terminal_up, r_sat_km, sin_mask) -> np.ndarray:
    """bool[S]: satellites above the mask from any of the terminals (hand-worked line of sight)."""
    los = r_sat_km[None, :, :] - terminal_ecef_km[:, None, :]
    sin_el = np.einsum("gsk,gk->gs", los, terminal_up) / np.linalg.norm(los, axis=2)
    return (sin_el >= sin_mask[None, :]).any(axis=0)


def _geodetic(lat_deg, lon_deg):
    """ECEF (km) and geodetic up of points on the WGS84 ellipsoid."""
    a, f = 6378.137, 1 / 298.257223563
    e2 = f * (2 - f)
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    n = a / np.sqrt(1 - e2 * np.sin(lat) ** 2)
    xyz = np.stack([n * np.cos(lat) * np.cos(lon), n * np.cos(lat) * np.sin(lon), n * (1 - e2) * np.sin(lat)], axis=1)
    up = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=1)
    return xyz, up


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    ctx = RunContext(_scenario(tmp_path_factory.mktemp("world"), 10))
    r = propagate(ctx.constellation.satrec_array, ctx.grid).r_ecef_km
    return ctx, r


def test_bounded_routes_equal_unbounded_ones_for_every_satellite_a_terminal_sees(world, monkeypatch):
    ctx, r = world
    model = ctx.model
    t_ns = int(ctx.grid.offset_ns[0])
    bounded = model.step_state(r[0], t_ns).routes_by_home
    monkeypatch.setattr(network, "BOUND_HOME_SEARCHES", False)
    model._state_cache.clear()
    full = model.step_state(r[0], t_ns).routes_by_home
    assert len(bounded) == len(full) >= 20  # a world of home PoPs
    # At the first step the two routes are at their first waypoints, where `terminals` places them.
    lat, lon = np.asarray(ctx.ground.terminals.lat_deg), np.asarray(ctx.ground.terminals.lon_deg)
    xyz, up = _geodetic(lat, lon)
    sin_mask = model.sin_mask_sat
    cut = 0
    for b, f, group in zip(bounded, full, bounded.groups):
        fixed = group[np.isfinite(lat[group])]
        seen = np.flatnonzero(_visible(xyz[fixed], up[fixed], r[0], sin_mask) & f.reachable)
        np.testing.assert_array_equal(b.delay_s[seen], f.delay_s[seen])
        pb, pf = b.describe(seen), f.describe(seen)
        for name in ("gateway", "entry_sat", "isl_hops", "isl_s", "feeder_s", "backhaul_s"):
            np.testing.assert_array_equal(getattr(pb, name), getattr(pf, name), err_msg=name)
        cut += int((f.reachable & ~b.reachable).sum())
    assert cut > 0  # the bound did leave far satellites out: this test compares something


def test_visibility_angle_is_that_of_a_satellite_on_the_mask():
    # A satellite 550 km up at the 25 deg mask seen from the equator: worked by hand on a sphere of radius R,
    # the angle at the Earth's centre is 90 - e - asin(R cos(e) / r) (the triangle's angles sum to 180).
    from leonet.routing.homes import _R_POLAR_KM

    r = _R_POLAR_KM + 550.0
    e = np.radians(25.0)
    expect = np.pi / 2 - e - np.arcsin(_R_POLAR_KM * np.cos(e) / r)
    got = visibility_angle_rad(np.array([[r, 0.0, 0.0]]), np.array([np.sin(e)]))
    assert got[0] == pytest.approx(expect, abs=1e-12)
    assert got[0] * _R_POLAR_KM == pytest.approx(940.0, abs=10.0)  # Starlink's 550 km / 25 deg coverage radius
    assert np.isnan(visibility_angle_rad(np.full((1, 3), np.nan), np.array([0.4])))[0]


@pytest.mark.slow
def test_a_world_run_with_movers_and_an_outage_is_the_same_bounded_or_not(tmp_path, monkeypatch):
    scenario = _scenario(tmp_path, 60)
    run_scenario(scenario, tmp_path / "bounded")
    monkeypatch.setattr(network, "BOUND_HOME_SEARCHES", False)
    run_scenario(scenario, tmp_path / "full")
    a, b = tables_of(tmp_path / "bounded"), tables_of(tmp_path / "full")
    assert a.keys() == b.keys() and {"terminal_steps", "terminal_positions"} <= a.keys()
    assert_same_bits(a, b, "bounded vs unbounded")
    steps = a["terminal_steps"].to_pandas()
    assert steps["served"].mean() > 0.5 and steps["pop"].nunique() >= 20


def test_terminal_routes_of_many_homes_equal_each_homes_own_description(world):
    """`terminal_routes` walks all homes' trees at once; each terminal's parts are its home tree's `describe`."""
    from leonet.routing.shortest import terminal_routes

    ctx, r = world
    model = ctx.model
    routes = model.step_state(r[1], int(ctx.grid.offset_ns[1])).routes_by_home
    rng = np.random.default_rng(7)
    g = sum(len(group) for group in routes.groups)
    sat = np.zeros(g, np.int64)
    for tree, group in zip(routes, routes.groups):
        near = np.flatnonzero(tree.reachable)
        sat[group] = rng.choice(near, size=group.size)  # reachable satellites of the home, some beyond the bound
    sat[:5] = np.flatnonzero(~routes[0].reachable)[:5] if (~routes[0].reachable).any() else sat[:5]
    reachable, pop, parts = terminal_routes(routes, routes.groups, sat)
    checked = 0
    for tree, group in zip(routes, routes.groups):
        own = tree.describe(sat[group])
        np.testing.assert_array_equal(reachable[group], tree.reachable[sat[group]])
        np.testing.assert_array_equal(pop[group], tree.pop[sat[group]])
        for name in ("sat", "gateway", "entry_sat", "isl_hops", "isl_s", "feeder_s", "backhaul_s"):
            x, y = getattr(parts, name)[group], getattr(own, name)
            if x.dtype.kind == "f":
                x, y = x.view(np.int64), y.view(np.int64)
            np.testing.assert_array_equal(x, y, err_msg=name)
        checked += int(tree.reachable[sat[group]].sum())
    assert len(routes) >= 20 and checked > 100 and (parts.isl_hops > 0).sum() > 10
