"""Moving terminals from a scenario: ids, the run's terminal index, fleets, input files, the manifest round trip."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np

from leonet.engine.build import _terminals
from leonet.ground.motion import INACTIVE, POSITIONED, Motion, Trajectory
from leonet.ground.sites import GroundSites
from leonet.scenario.load import load_scenario
from leonet.scenario.schema import Scenario
from leonet.service.costs import cost_ledger
from leonet.service.fleets import Fleets, fleet_terminal_count

TRACK = Path(__file__).resolve().parents[1] / "data" / "tracks" / "around-visnjan-with-car.gpx"
UTC = dt.timezone.utc
NOON = dt.datetime(2026, 5, 30, 12, tzinfo=UTC)

SCENARIO = """\
[time]
start_utc = 2026-05-30T12:00:00Z
duration_s = 600
[[constellations]]
kind = "builtin"
builtin = "starlink-550"
[ground.terminals]
min_elevation_deg = 30
[[ground.terminals.sources]]
kind = "coordinates"
sites = [{ name = "Kyiv", lat_deg = 50.45, lon_deg = 30.52 }]
[[ground.terminals.sources]]
kind = "track"
file = "tracks/car.gpx"
replay_from = 2026-05-30T12:00:00Z
[[ground.terminals.sources]]
kind = "route"
name = "LH400"
altitude_m = 10_668.0
speed_kmh = 900.0
start_utc = 2026-05-30T11:00:00Z
waypoints = [{ lat_deg = 50.03, lon_deg = 8.57 }, { lat_deg = 40.64, lon_deg = -73.78, altitude_m = 0.0 }]

[[fleets]]
name = "ferries"
[[fleets.terminals]]
kind = "route"
name = "Split-Ancona"
speed_kmh = 35.0
start_utc = 2026-05-30T11:50:00Z
waypoints = [{ lat_deg = 43.50, lon_deg = 16.44 }, { lat_deg = 43.62, lon_deg = 13.51 }]
[[fleets.terminals]]
kind = "sample"
region = "country:HR"
count = 2
"""


def _scenario(tmp_path) -> Path:
    (tmp_path / "tracks").mkdir()
    shutil.copy(TRACK, tmp_path / "tracks" / "car.gpx")
    path = tmp_path / "s.toml"
    path.write_text(SCENARIO, encoding="utf-8")
    return path


def test_tracks_and_routes_become_terminals_that_carry_their_trajectory(tmp_path):
    loaded = load_scenario(_scenario(tmp_path))
    ground = _terminals(loaded)
    assert ground.ids == ["terminal:Kyiv", "track:car", "route:LH400"]
    assert ground.min_elevation_deg.tolist() == [30.0, 30.0, 30.0]
    # A moving terminal stands at its first fix in the static tables.
    assert (ground.lat_deg[1], ground.lon_deg[1], ground.altitude_km[1]) == (45.2735188510, 13.7142099626, 0.21115)
    assert ground.altitude_km[2] == 10.668
    fleets = Fleets.build(loaded.spec.fleets, seed=0, resolve=loaded.resolve)
    assert fleets.terminals.ids[0] == "ferries/route:Split-Ancona"
    terminals = GroundSites.concat([ground, fleets.terminals])  # what the service layer does
    motion = Motion.from_sites(terminals, NOON)
    assert motion.terminals.tolist() == [1, 2, 3]
    assert [tr.name for tr in motion.trajectories] == ["car", "LH400", "Split-Ancona"]
    assert [tr.where for tr in motion.trajectories] == [
        "ground.terminals.sources[1]", "ground.terminals.sources[2]", "fleets[0].terminals[0]"]
    assert all(isinstance(x, Trajectory) == (g in (1, 2, 3)) for g, x in enumerate(terminals.extra["motion"]))
    state = motion.at(np.array([0, 600 * 10**9], dtype=np.int64))
    assert state.status.tolist() == [[POSITIONED, POSITIONED, POSITIONED], [INACTIVE, POSITIONED, POSITIONED]]
    # The airliner: an hour out of Frankfurt at 900 km/h; its height goes linearly in time from 10,668 m to 0 m at JFK.
    plane = motion.trajectories[1]
    flight_s = (plane.last_ns - plane.first_ns) / 1e9
    assert abs(flight_s - 6198.6 / 900.0 * 3600.0) < 200.0  # ~6,200 km great circle
    assert abs(state.altitude_km[0, 1] - 10.668 * (1.0 - 3600.0 / flight_s)) < 1e-9
    assert abs(state.speed_mps[0, 1] - 250.0) < 1e-9
    assert 0.0 < state.speed_mps[1, 2] and abs(state.speed_mps[1, 2] - 35.0 / 3.6) < 1e-9
    # The subset of terminals still finds its trajectories (a run's partitions).
    assert Motion.from_sites(terminals.subset([0, 4, 5]), NOON) is None
    assert Motion.from_sites(terminals.subset([3, 0]), NOON).terminals.tolist() == [0]


def test_the_track_file_is_an_input_of_the_run_and_the_spec_survives_the_manifest(tmp_path):
    loaded = load_scenario(_scenario(tmp_path))
    assert loaded.input_paths() == {"ground.terminals.sources[1].file": tmp_path / "tracks" / "car.gpx"}
    (digest,) = loaded.input_files().values()
    assert digest == "7c624f58f0675d00f780e258f0004ae7868429c8c9e577f38afda2974b507fe6"
    # What a worker and `resume` do: the manifest's JSON, validated again.
    dumped = loaded.spec.model_dump(mode="json", by_alias=True)
    assert Scenario.model_validate(dumped) == loaded.spec


def test_a_fleet_counts_a_track_or_a_route_as_one_terminal(tmp_path):
    loaded = load_scenario(_scenario(tmp_path))
    fleet = loaded.spec.fleets[0]
    assert fleet_terminal_count(fleet) == 1 + 2 == len(Fleets.build([fleet], seed=0, resolve=loaded.resolve).terminals)
    priced = type(fleet).model_validate({
        **fleet.model_dump(by_alias=True), "monthly_price_usd": 30.0, "active_from": NOON,
        "active_until": NOON + dt.timedelta(days=30), "sponsors": [{"sponsor": "port", "from": NOON}],
    })
    ledger = cost_ledger([priced])  # counts the terminals from the spec
    assert ledger.summary["total_terminal_days"] == 3 * 30.0
