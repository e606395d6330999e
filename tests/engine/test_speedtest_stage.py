"""The capacity stage's speed tests: the columns, their properties, chunking, and a hand-worked case.

`speedtest_down_mbps` / `speedtest_up_mbps` of ``terminal_steps`` are what a
greedy flow from each terminal gets at each step (leonet.capacity.speedtest):
never below the terminal's throughput (one allocation gives both), 0 when the
terminal is not served, NaN when it is inactive or the run has no [capacity].
"""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pytest

from leonet.capacity.speedtest_params import DISHES
from leonet.capacity.speedtest_params import UPLINK_GRANT_SHARE, UPLINK_ZENITH_MARGIN_DB
from leonet.constants import C_KM_S
from leonet.engine.run import run_scenario
from leonet.results.query import query
from leonet.scenario.load import load_scenario

#: One real gateway (Wola Krobowska, PL) and Starlink's Warsaw PoP: the ground of every scenario here.
GROUND = """[ground.gateways]
[[ground.gateways.extra]]
name = "Wola Krobowska"
lat_deg = 51.86417
lon_deg = 20.92105
antenna_count = 8
[ground.pops]
ids = ["wrswpol1"]
"""

# Kyiv and Kharkiv are served; Sevastopol is geofenced (policy: active, not served); the
# "later" fleet is switched on only in 2027 (inactive).
SCENARIO = """
[scenario]
name = "speedtests"
seed = 3
[time]
start_utc = "2026-05-30T12:00:00Z"
duration_s = {duration_s}
step_s = 5
[[constellations]]
kind = "builtin"
builtin = "starlink-550"
[ground.terminals]
[[ground.terminals.sources]]
kind = "coordinates"
sites = [{{name = "Kyiv", lat_deg = 50.45, lon_deg = 30.52}}, {{name = "Kharkiv", lat_deg = 49.99, lon_deg = 36.23}},
         {{name = "Sevastopol", lat_deg = 44.60, lon_deg = 33.52}}]
{ground}{capacity}
[[fleets]]
name = "later"
active_from = 2027-01-01
demand_mbps = 10
[[fleets.terminals]]
kind = "coordinates"
sites = [{{name = "Lviv", lat_deg = 49.84, lon_deg = 24.03}}]
[[policies]]
name = "Crimea geofence"
action = "deny"
region = "crimea"
[output]
chunk_steps = {chunk_steps}
"""


def _run(tmp_path, capacity="[capacity]", duration_s=60, chunk_steps=600, **kwargs):
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "scenario.toml"
    path.write_text(textwrap.dedent(SCENARIO.format(ground=GROUND, capacity=capacity, duration_s=duration_s,
                                                    chunk_steps=chunk_steps)))
    out = tmp_path / "run"
    run_scenario(load_scenario(path), out, **kwargs)
    return out


def _steps(out):
    return query(out, "SELECT t_ns, terminal, reason::VARCHAR AS reason, served, throughput_mbps, "
                      "speedtest_down_mbps AS down, speedtest_up_mbps AS up, uplink_ms, sat "
                      "FROM terminal_steps ORDER BY t_ns, terminal").to_pydict()


@pytest.fixture(scope="module")
def with_capacity(tmp_path_factory):
    return _steps(_run(tmp_path_factory.mktemp("cap")))


def test_speed_tests_obey_their_properties(with_capacity):
    t = {k: np.array(v) for k, v in with_capacity.items()}
    served = t["served"]
    inactive = t["reason"] == "inactive"
    assert served.any() and inactive.any() and (t["reason"] == "policy").any()
    # Served: never below what the terminal gets at its own demand (the downlink's; the
    # uplink's own throughput is not a column).
    assert np.all(t["down"][served] >= t["throughput_mbps"][served] * (1 - 1e-12))
    for col in ("down", "up"):
        # Served: a positive rate.
        assert np.all(t[col][served] > 0)
        # Active but not served (the geofence): 0.  Inactive: NaN.
        assert np.all(t[col][~served & ~inactive] == 0.0)
        assert np.all(np.isnan(t[col][inactive]))
    # (1,584 satellites of starlink-550 under today's Starlink subscribers: the background saturates them,
    # so the downlink speed tests here are a few Mbit/s -- a property of the scenario, not checked.)


def test_without_capacity_the_columns_are_nan(tmp_path):
    t = _steps(_run(tmp_path, capacity="", duration_s=20))
    assert len(t["down"]) > 0
    assert np.all(np.isnan(t["down"])) and np.all(np.isnan(t["up"]))


def _link_factor(range_km, altitude_km, margin_db=-3.0, top=5.11):
    """Spectral efficiency at the range relative to the top modulation, written out (leonet.capacity.speedtest)."""
    snr_db = 10 * math.log10(2 ** top - 1) + margin_db - max(20 * math.log10(range_km / altitude_km), 0.0)
    return min(1.0, math.log2(1 + 10 ** (snr_db / 10)) / top)


@pytest.mark.parametrize("beam_bps, limit", [(None, "dish"), (2e8, "beam")])
def test_one_terminal_alone_under_a_satellite(tmp_path, beam_bps, limit):
    """No background, one terminal: its speed test is the beam or the dish, both at the link's quality.

    Kyiv alone in its cell (Kharkiv and Sevastopol are in the scenario too, in other
    cells: where they share Kyiv's satellite, with no background, their beams leave
    Kyiv's alone and their 200 Mbit/s are far below the satellite's 20 Gbit/s).  Downlink: min(dish peak, beam) x link quality (-3 dB at zenith,
    free-space loss over the slant range; the dish peak, 463 Mbit/s, is calibrated).
    Uplink: the dish's grant, a calibrated share (0.210) of its beam's 62.5 MHz
    channel at 5.11 bit/s/Hz, at the uplink's link quality (the same law, -3 dB at
    zenith), below the uplink beam (62.5 MHz x 5.11 = 319 Mbit/s) at that quality;
    with no other cells its cell has its beam all the time (visit share 1).
    """
    cap = "[capacity]\nbackground_subscribers = 0\n"
    if beam_bps is not None:
        cap += f"beam_capacity_bps = {beam_bps}\n"
    out = _run(tmp_path, capacity=cap, duration_s=120)
    t = {k: np.array(v) for k, v in _steps(out).items()}
    pos = query(out, "SELECT sat, t_ns, altitude_km FROM sat_positions").to_pydict()
    alt = {(s, tt): a for s, tt, a in zip(pos["sat"], pos["t_ns"], pos["altitude_km"])}
    kyiv = (t["terminal"] == 0) & t["served"]
    checked = 0
    for i in np.flatnonzero(kyiv):
        key = (int(t["sat"][i]), int(t["t_ns"][i]))
        if key not in alt:
            continue  # altitudes are kept every 60 s
        rng = t["uplink_ms"][i] * 1e-3 * C_KM_S
        q = _link_factor(rng, alt[key])
        beam = 1.2264e9 if beam_bps is None else beam_bps
        want_down = min(DISHES["standard"].peak_down_bps, beam) * q
        q_up = _link_factor(rng, alt[key], margin_db=UPLINK_ZENITH_MARGIN_DB)
        want_up = min(UPLINK_GRANT_SHARE, beam / 1.2264e9) * 62.5e6 * 5.11 * q_up
        assert t["down"][i] * 1e6 == pytest.approx(want_down, rel=1e-6), limit
        assert t["up"][i] * 1e6 == pytest.approx(want_up, rel=1e-6)
        # Its throughput is its demand (100 Mbit/s) or what the beam allows.
        assert t["throughput_mbps"][i] == pytest.approx(min(100.0, want_down / 1e6), rel=1e-6)
        checked += 1
    assert checked >= 2


@pytest.mark.slow
def test_speed_tests_do_not_depend_on_chunking_or_workers(tmp_path):
    """Bit for bit: chunks of 1, 7 and 600 steps and two worker processes (slots of 15 s straddle them)."""
    runs = {}
    for label, kwargs in (("600", {}), ("1", {"chunk_steps": 1}), ("7", {"chunk_steps": 7}),
                          ("workers", {"chunk_steps": 4, "workers": 2})):
        out = _run(tmp_path / label, duration_s=65, **kwargs)
        runs[label] = query(out, "SELECT speedtest_down_mbps, speedtest_up_mbps, throughput_mbps, "
                                 "reason::VARCHAR AS reason FROM terminal_steps ORDER BY t_ns, terminal").to_pydict()
    ref = runs.pop("600")
    for label, got in runs.items():
        for col in ("speedtest_down_mbps", "speedtest_up_mbps", "throughput_mbps"):
            a, b = np.array(ref[col], dtype=np.float64), np.array(got[col], dtype=np.float64)
            assert np.array_equal(a.view(np.int64), b.view(np.int64)), (label, col)
        assert ref["reason"] == got["reason"], label


MOVERS = """
[scenario]
name = "speedtests-movers"
seed = 5
[time]
start_utc = "2026-05-30T12:00:00Z"
duration_s = 90
step_s = 1
[[constellations]]
kind = "builtin"
builtin = "starlink-550"
[ground.terminals]
[[ground.terminals.sources]]
kind = "coordinates"
sites = [{name = "Kyiv", lat_deg = 50.45, lon_deg = 30.52}, {name = "Zhytomyr", lat_deg = 50.25, lon_deg = 28.66}]
[[ground.terminals.sources]]
kind = "route"
name = "westbound jet"
altitude_m = 10_000.0
speed_kmh = 3_600.0
start_utc = "2026-05-30T11:59:50Z"
waypoints = [{lat_deg = 50.45, lon_deg = 31.20}, {lat_deg = 50.45, lon_deg = 24.00}]
[[ground.terminals.sources]]
kind = "route"
name = "northbound jet"
altitude_m = 10_000.0
speed_kmh = 3_600.0
start_utc = "2026-05-30T11:56:28Z"
waypoints = [{lat_deg = 48.00, lon_deg = 30.52}, {lat_deg = 52.50, lon_deg = 30.52}]
""" + GROUND + """[capacity]
"""


def test_movers_crossing_cells_within_a_slot_get_the_speed_tests_of_a_fresh_computation(tmp_path, monkeypatch):
    """Engine level: the speed-test structure (beams, flows) is reused within a slot only while nothing it is built
    from changed.  Two jets at 1 km/s cross a service cell every ~20 s, inside scheduler slots, and each flies
    through the Kyiv terminal's cell (sharing its beam, then leaving it); the run's columns must equal, bit for
    bit, those of a run that rebuilds the structure at every step."""
    import leonet.capacity.speedtest as speedtest

    path = tmp_path / "movers.toml"
    path.write_text(textwrap.dedent(MOVERS))
    cols = ("SELECT t_ns, terminal, sat, speedtest_down_mbps AS down, speedtest_up_mbps AS up, throughput_mbps "
            "FROM terminal_steps ORDER BY t_ns, terminal")
    run_scenario(load_scenario(path), tmp_path / "cached")
    cached = query(tmp_path / "cached", cols).to_pydict()
    fresh_pair = speedtest._speedtest_pair
    monkeypatch.setattr(speedtest, "_speedtest_pair",
                        lambda down, up, xd, xu, cache=None: fresh_pair(down, up, xd, xu, None))
    run_scenario(load_scenario(path), tmp_path / "fresh")
    fresh = query(tmp_path / "fresh", cols).to_pydict()
    jets = np.isin(np.array(cached["terminal"]), [2, 3])
    down = np.array(cached["down"], dtype=np.float64)
    # The jets are served and move: the test exercises what it claims to.
    assert np.count_nonzero(jets & (down > 0)) >= 100
    for col in ("sat", "down", "up", "throughput_mbps"):
        a, b = np.array(cached[col], dtype=np.float64), np.array(fresh[col], dtype=np.float64)
        assert np.array_equal(a.view(np.int64), b.view(np.int64)), col
