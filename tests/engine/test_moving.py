"""Moving terminals in whole runs (issue 13): geofences, dated shapes, gaps, visibility, chunking.

Every expectation is worked out by hand from the scenario: the terminals
move along meridians at a constant rate, so their latitude is linear in
time (a great circle along a meridian, at a constant angular rate), and the
steps at which they cross a polygon's edge follow from one division.
"""

from __future__ import annotations

import json
import math
import textwrap

import numpy as np
import pyarrow as pa
import pytest

from leonet.engine.run import run_scenario
from leonet.results.query import query
from leonet.scenario.load import load_scenario

from same_tables import assert_same_bits, tables_of  # tests/same_tables.py

pytestmark = pytest.mark.slow  # real runs: deselect with -m "not slow"

NS = 10**9

HEAD = """
[scenario]
name = "moving"
seed = 7
[time]
start_utc = "2026-05-30T12:00:00Z"
duration_s = {duration}
step_s = {step}
[[constellations]]
kind = "builtin"
builtin = "starlink-550"
[ground.gateways]
ids = ["GS220", "GS221", "GS218"]
"""


def _box(lat0, lat1, lon0, lon1) -> dict:
    return {"type": "Polygon", "coordinates": [[[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]]}


def _run(tmp_path, text: str, files: dict | None = None, name: str = "run", **kwargs):
    for fname, content in (files or {}).items():
        (tmp_path / fname).write_text(content if isinstance(content, str) else json.dumps(content))
    path = tmp_path / f"{name}.toml"
    path.write_text(textwrap.dedent(text))
    out = tmp_path / name
    result = run_scenario(load_scenario(path), out, **kwargs)
    return out, result


def _steps(out, terminal: int) -> dict:
    t = query(out, f"SELECT t_ns, sat, CAST(reason AS VARCHAR) AS reason, uplink_ms FROM terminal_steps "
                   f"WHERE terminal = {terminal} ORDER BY t_ns").to_pydict()
    return {k: np.asarray(v) for k, v in t.items()}


def _events(out, terminal: int) -> list[tuple]:
    rows = query(out, f"SELECT t_ns, CAST(event AS VARCHAR) AS e, CAST(reason AS VARCHAR) AS r FROM service_events "
                      f"WHERE terminal = {terminal} ORDER BY t_ns").to_pylist()
    return [(r["t_ns"] // NS, r["e"], r["r"]) for r in rows]


# --------------------------------------------------------------------------
# A deny polygon: entering and leaving at the exact steps
# --------------------------------------------------------------------------

GEOFENCE = HEAD.format(duration=2000, step=10) + """
[ground.terminals]
[[ground.terminals.sources]]
kind = "route"
name = "north"
waypoints = [{lat_deg = 49.0, lon_deg = 24.0, at = 2026-05-30T12:00:00Z},
             {lat_deg = 51.0, lon_deg = 24.0, at = 2026-05-30T12:33:20Z}]
[[policies]]
name = "box"
action = "deny"
region = "box.geojson"
"""


@pytest.fixture(scope="module")
def geofence_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("geofence")
    # lat(t) = 49 + 2 t / 2000 s: the edges 49.505 and 50.505 are crossed at t = 505 s and 1505 s,
    # between steps: the step at 510 s is the first inside, 1510 s the first outside again.
    return _run(tmp, GEOFENCE, {"box.geojson": _box(49.505, 50.505, 23.5, 24.5)})


def test_entering_and_leaving_a_deny_polygon_cuts_and_restores_at_the_exact_steps(geofence_run):
    out, _ = geofence_run
    s = _steps(out, 0)
    t_s = s["t_ns"] // NS
    assert t_s.tolist() == list(range(0, 2000, 10))
    assert t_s[s["reason"] == "policy"].tolist() == list(range(510, 1501, 10))
    assert (s["reason"][t_s == 500] == "served").all() and (s["reason"][t_s == 1510] == "served").all()
    policy_events = [e for e in _events(out, 0) if e[2] == "policy"]
    assert policy_events == [(510, "cut-off", "policy"), (1510, "restored", "policy")]


def test_positions_follow_the_meridian_and_the_events_say_where(geofence_run):
    out, _ = geofence_run
    p = query(out, "SELECT t_ns, lat_deg, lon_deg, altitude_km, speed_kmh, CAST(status AS VARCHAR) AS status "
                   "FROM terminal_positions ORDER BY t_ns").to_pydict()
    t_s = np.asarray(p["t_ns"]) / NS
    np.testing.assert_allclose(p["lat_deg"], 49.0 + 2.0 * t_s / 2000.0, rtol=0, atol=1e-9)
    np.testing.assert_allclose(p["lon_deg"], 24.0, rtol=0, atol=1e-9)
    assert set(p["status"]) == {"ok"} and set(p["altitude_km"]) == {0.0}
    # 2 degrees of the mean-radius sphere in 2000 s.
    speed = 2 * math.radians(1.0) * 6371.0088 / 2000.0 * 3600.0
    np.testing.assert_allclose(p["speed_kmh"], speed, rtol=1e-12)
    e = query(out, "SELECT t_ns, lat_deg, lon_deg FROM service_events WHERE CAST(reason AS VARCHAR) = 'policy' "
                   "ORDER BY t_ns").to_pydict()
    np.testing.assert_allclose(e["lat_deg"], [49.0 + 2.0 * 510 / 2000, 49.0 + 2.0 * 1510 / 2000], atol=1e-9)
    np.testing.assert_allclose(e["lon_deg"], [24.0, 24.0], atol=1e-9)
    # Distance: the whole route, 2 degrees, inside the window.
    d = query(out, "SELECT distance_km FROM terminals").column("distance_km").to_pylist()
    assert d == pytest.approx([2 * math.radians(1.0) * 6371.0088], rel=1e-12)


def test_the_summary_counts_the_mover(geofence_run):
    _, result = geofence_run
    s = result.summary
    assert s["moving_terminals"] == 1
    assert s["distance_travelled_km"] == pytest.approx(222.39, abs=0.01)
    assert s["mover_handovers_per_hour"] > 0


# --------------------------------------------------------------------------
# Dated shapes switch at exact times, with and without lag
# --------------------------------------------------------------------------

DATED = HEAD.format(duration=900, step=5) + """
[ground.terminals]
[[ground.terminals.sources]]
kind = "coordinates"
sites = [{{name = "fixed", lat_deg = 50.0, lon_deg = 24.0}}]
[[ground.terminals.sources]]
kind = "route"
name = "creeping"
waypoints = [{{lat_deg = 49.99, lon_deg = 24.0, at = 2026-05-30T11:50:00Z}},
             {{lat_deg = 50.01, lon_deg = 24.0, at = 2026-05-30T12:20:00Z}}]
[[policies]]
action = "deny"
region = "front.geojson"
lag_s = {lag}
"""


def _dated() -> dict:
    inside, elsewhere = _box(49.9, 50.1, 23.9, 24.1), _box(48.0, 48.1, 23.9, 24.1)
    feats = [
        {"type": "Feature", "properties": {"valid_from": when}, "geometry": geom}
        for when, geom in (("2026-05-30T11:00:00Z", inside), ("2026-05-30T12:05:00Z", elsewhere),
                           ("2026-05-30T12:10:00Z", inside))
    ]
    return {"type": "FeatureCollection", "features": feats}


@pytest.mark.parametrize("lag_s", [0, 95])
def test_dated_shapes_switch_at_the_exact_times_with_and_without_lag(tmp_path, lag_s):
    out, _ = _run(tmp_path, DATED.format(lag=lag_s), {"front.geojson": _dated()})
    # The shapes switch at 300 s (away from the terminals) and 600 s (back), each lag_s late.
    denied = [t for t in range(0, 900, 5) if t < 300 + lag_s or t >= 600 + lag_s]
    for terminal in (0, 1):  # the fixed terminal and the moving one, both inside the first shape
        s = _steps(out, terminal)
        assert (s["t_ns"][s["reason"] == "policy"] // NS).tolist() == denied, terminal
    cut = [e for e in _events(out, 1) if e[2] == "policy"]
    assert cut[0] == (300 + lag_s, "restored", "policy") and cut[1] == (600 + lag_s, "cut-off", "policy")


# --------------------------------------------------------------------------
# A gap in a track: no position, never a guessed one
# --------------------------------------------------------------------------

GAP = HEAD.format(duration=600, step=5) + """
[ground.terminals]
[[ground.terminals.sources]]
kind = "track"
file = "drive.csv"
name = "drive"
"""


def _drive_csv() -> str:
    # A fix every 10 s along lon 24, north at 0.0001 deg/s; none between 300 s and 420 s (> max_gap_s = 60 s).
    times = [t for t in range(0, 601, 10) if t <= 300 or t >= 420]
    rows = [f"2026-05-30T12:{t // 60:02d}:{t % 60:02d}Z,{50.0 + 1e-4 * t:.6f},24.0" for t in times]
    return "time_utc,lat_deg,lon_deg\n" + "\n".join(rows) + "\n"


def test_a_gap_longer_than_max_gap_gives_no_position_and_is_left_out_of_availability(tmp_path):
    out, result = _run(tmp_path, GAP, {"drive.csv": _drive_csv()})
    s = _steps(out, 0)
    t_s = s["t_ns"] // NS
    assert t_s[s["reason"] == "no-position"].tolist() == list(range(305, 420, 5))
    p = query(out, "SELECT t_ns, lat_deg, CAST(status AS VARCHAR) AS status FROM terminal_positions ORDER BY t_ns").to_pydict()
    status = np.asarray(p["status"])
    lat = np.asarray(p["lat_deg"])
    gap = (np.asarray(p["t_ns"]) > 300 * NS) & (np.asarray(p["t_ns"]) < 420 * NS)
    assert set(status[gap]) == {"no-position"} and np.isnan(lat[gap]).all()
    assert set(status[~gap]) == {"ok"} and np.isfinite(lat[~gap]).all()
    events = [e for e in _events(out, 0) if e[2] == "no-position"]
    assert events == [(305, "cut-off", "no-position"), (420, "restored", "no-position")]
    counted = int(((s["reason"] != "no-position") & (s["reason"] != "inactive")).sum())
    assert result.summary["served_pct"] == round(100.0 * (s["reason"] == "served").sum() / counted, 2)
    assert result.summary["no_position_terminal_steps"] == 23
    assert "no-position" not in result.summary["unserved_steps_by_reason"]


# --------------------------------------------------------------------------
# Visibility from the moving position, against Skyfield
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def meridian_run(tmp_path_factory, starlink_tle_path):
    """A ground terminal and an aircraft at 10 km, both due north along 30.5 E, on the real TLEs of shell 1."""
    tmp = tmp_path_factory.mktemp("meridian")
    lines = starlink_tle_path.read_text().splitlines()
    triples = [lines[k:k + 3] for k in range(0, len(lines) - 2, 3)]
    shell1 = [t for t in triples if 52.9 < float(t[2][8:16]) < 53.1][:1200]  # inclination 53 deg: shell 1
    (tmp / "shell1.tle").write_text("\n".join("\n".join(t) for t in shell1) + "\n")
    text = f"""
    [scenario]
    name = "meridian"
    [time]
    start_utc = "2026-05-30T12:00:00Z"
    duration_s = 600
    step_s = 5
    [[constellations]]
    kind = "elements"
    name = "shell1"
    file = "shell1.tle"
    min_elevation_deg = 25
    [ground.terminals]
    min_elevation_deg = 25
    [[ground.terminals.sources]]
    kind = "route"
    name = "car"
    waypoints = [{{lat_deg = 48.0, lon_deg = 30.5, at = 2026-05-30T12:00:00Z}},
                 {{lat_deg = 49.0, lon_deg = 30.5, at = 2026-05-30T12:10:00Z}}]
    [[ground.terminals.sources]]
    kind = "route"
    name = "plane"
    altitude_m = 10000.0
    waypoints = [{{lat_deg = 46.0, lon_deg = 30.5, at = 2026-05-30T12:00:00Z}},
                 {{lat_deg = 47.0, lon_deg = 30.5, at = 2026-05-30T12:02:00Z}},
                 {{lat_deg = 48.0, lon_deg = 30.5, at = 2026-05-30T12:20:00Z}}]
    [ground.gateways]
    ids = ["GS220", "GS221", "GS218", "GS219", "GS222"]
    """
    return _run(tmp, text, name="meridian"), shell1


def test_the_serving_satellite_is_above_the_mask_from_the_moving_position_at_every_step(meridian_run):
    from skyfield.api import EarthSatellite, load, wgs84

    (out, _), shell1 = meridian_run
    ts = load.timescale(builtin=True)
    sats = [EarthSatellite(t[1], t[2], ts=ts) for t in shell1]
    rows = query(out, "SELECT s.t_ns, s.terminal, s.sat, s.uplink_ms, p.lat_deg, p.lon_deg, p.altitude_km "
                      "FROM terminal_steps s JOIN terminal_positions p USING (t_ns, terminal) WHERE s.served "
                      "ORDER BY s.t_ns, s.terminal").to_pylist()
    assert len(rows) > 100  # both terminals served at most of their steps (1,200 satellites leave gaps)
    for r in rows[::3]:
        when = ts.utc(2026, 5, 30, 12, 0, r["t_ns"] / NS)
        place = wgs84.latlon(r["lat_deg"], r["lon_deg"], elevation_m=r["altitude_km"] * 1000.0)
        alt, _, dist = (sats[r["sat"]] - place).at(when).altaz()
        assert alt.degrees >= 25.0 - 0.01, r
        # The run's uplink delay is the slant range from where the terminal is (light time).
        assert r["uplink_ms"] / 1e3 * 299_792.458 == pytest.approx(dist.km, abs=0.5), r


def test_the_run_moves_the_terminals_along_the_meridian(meridian_run):
    (out, _), _ = meridian_run
    p = query(out, "SELECT t_ns, terminal, lat_deg, altitude_km FROM terminal_positions ORDER BY t_ns, terminal").to_pydict()
    t_s = np.asarray(p["t_ns"]) / NS
    car = np.asarray(p["terminal"]) == 0
    np.testing.assert_allclose(np.asarray(p["lat_deg"])[car], 48.0 + t_s[car] / 600.0, atol=1e-9)
    plane = ~car & (t_s >= 120)
    np.testing.assert_allclose(np.asarray(p["lat_deg"])[plane], 47.0 + (t_s[plane] - 120) / 1080.0, atol=1e-9)
    np.testing.assert_allclose(np.asarray(p["altitude_km"])[~car], 10.0, atol=1e-12)


def test_visible_sets_from_the_run_positions_equal_skyfield(meridian_run):
    """At sampled steps, what leonet's engine sees from the run's position equals Skyfield's altaz (+-0.01 deg aside)."""
    from skyfield.api import EarthSatellite, load, wgs84

    from leonet.links.visibility import SiteGeometry, visible_links
    from leonet.orbits.constellation import Constellation
    from leonet.orbits.propagate import positions_at
    from leonet.orbits.tle import read_elements

    (out, _), shell1 = meridian_run
    ts = load.timescale(builtin=True)
    sats = [EarthSatellite(t[1], t[2], ts=ts) for t in shell1]
    constellation = Constellation.from_elements("shell1", read_elements(out.parent / "shell1.tle"), 25.0)
    p = query(out, "SELECT t_ns, terminal, lat_deg, lon_deg, altitude_km FROM terminal_positions "
                   "WHERE t_ns % 60000000000 = 0 ORDER BY t_ns, terminal").to_pylist()
    import datetime as dt

    seen = 0
    for r in p:
        when = dt.datetime(2026, 5, 30, 12, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=r["t_ns"] / NS)
        site = SiteGeometry.from_lat_lon([r["lat_deg"]], [r["lon_deg"]], 25.0, r["altitude_km"])
        mine = set(visible_links(site, positions_at(constellation, when).r_ecef_km).sat.tolist())
        place = wgs84.latlon(r["lat_deg"], r["lon_deg"], elevation_m=r["altitude_km"] * 1000.0)
        alt = np.array([(s - place).at(ts.from_datetime(when)).altaz()[0].degrees for s in sats])
        theirs = set(np.flatnonzero(alt >= 25.0).tolist())
        boundary = set(np.flatnonzero(np.abs(alt - 25.0) <= 0.01).tolist())
        assert mine - boundary == theirs - boundary, r
        seen += len(theirs)
    assert len(p) == 20 and seen > 40  # a real test: satellites in view at the samples


# --------------------------------------------------------------------------
# Chunking: bit-identical tables for moving terminals
# --------------------------------------------------------------------------

MIXED = HEAD.format(duration=450, step=5) + """
[ground.terminals]
[[ground.terminals.sources]]
kind = "coordinates"
sites = [{name = "Lviv", lat_deg = 49.84, lon_deg = 24.03}]
[[ground.terminals.sources]]
kind = "route"
name = "across the Rhine"                 # Germany -> France: the home PoP changes at the border
speed_kmh = 300.0
start_utc = 2026-05-30T12:00:40Z
waypoints = [{lat_deg = 48.58, lon_deg = 7.95}, {lat_deg = 48.58, lon_deg = 7.45}]
[[ground.terminals.sources]]
kind = "track"
file = "drive.csv"
name = "drive"
[[ground.terminals.sources]]
kind = "route"
name = "plane"
altitude_m = 10000.0
speed_kmh = 850.0
start_utc = 2026-05-30T11:50:00Z
waypoints = [{lat_deg = 50.5, lon_deg = 21.0}, {lat_deg = 49.2, lon_deg = 26.0}]
[capacity]
[[policies]]
action = "deny"
region = "box.geojson"
"""


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mixed")
    files = {"drive.csv": _drive_csv().replace("24.0\n", "24.5\n"), "box.geojson": _box(50.0, 50.05, 24.2, 24.8)}
    for name, content in files.items():
        (tmp / name).write_text(content if isinstance(content, str) else json.dumps(content))
    path = tmp / "mixed.toml"
    path.write_text(textwrap.dedent(MIXED))
    return load_scenario(path), tmp


def test_moving_terminals_give_the_same_bits_whatever_the_chunking_and_executor(mixed):
    loaded, tmp = mixed
    serial = tmp / "serial"
    run_scenario(loaded, serial, chunk_steps=600)
    ref = tables_of(serial)
    assert {"terminal_positions", "service_events", "cell_load"} <= set(ref)
    reasons = set(ref["terminal_steps"].column("reason").cast(pa.string()).to_pylist())
    assert {"served", "no-position", "inactive", "policy"} <= reasons
    pops = query(serial, "SELECT DISTINCT p.id FROM terminal_steps s JOIN pops p ON p.index = s.pop "
                         "WHERE s.terminal = 1 ORDER BY 1").column("id").to_pylist()
    assert len(pops) == 2  # the Rhine crossing changes the home PoP (Frankfurt, then Paris)
    for kwargs in ({"chunk_steps": 1}, {"chunk_steps": 7}, {"chunk_steps": 11, "workers": 2}):
        out = tmp / f"run-{kwargs['chunk_steps']}"
        run_scenario(loaded, out, **kwargs)
        assert_same_bits(ref, tables_of(out))


def test_a_moving_terminal_shares_the_cell_where_it_is_with_the_background(mixed, tmp_path):
    """[capacity] with its default background subscribers: the plane's cell is the H3 cell under it at each step."""
    import h3

    loaded, _ = mixed
    run_scenario(loaded, tmp_path / "run")
    rows = query(tmp_path / "run", """
        SELECT p.t_ns, p.lat_deg, p.lon_deg, s.cell_utilisation, s.served
        FROM terminal_positions p JOIN terminal_steps s ON s.t_ns = p.t_ns AND s.terminal = p.terminal
        JOIN terminals t ON t.index = p.terminal WHERE t.name = 'plane' ORDER BY p.t_ns""").to_pylist()
    load = {(r["t_ns"], r["cell"]): r for r in query(tmp_path / "run", "SELECT * FROM cell_load").to_pylist()}
    served = [r for r in rows if r["served"]]
    cells = set()
    for r in served:
        cell = h3.latlng_to_cell(r["lat_deg"], r["lon_deg"], 5)
        cells.add(cell)
        here = load[(r["t_ns"], cell)]  # the plane's cell has a load row at every step it is served
        assert here["terminals"] >= 1
    assert len(served) > 20 and len(cells) > 5  # it flew over many cells, each with its own background
