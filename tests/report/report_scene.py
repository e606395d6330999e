"""Constants of the report tests: the tiny scenario, hostile names, browser flags.

A module with a unique name (not ``conftest``) so that test files can import
it whatever other ``conftest`` modules pytest has loaded.
"""

from __future__ import annotations

import json

EVIL = "<script>alert(1)</script>"
EVIL_DESCRIPTION = 'tiny "><img src=x onerror=alert(2)> & co'
EVIL_GATEWAY = "Rzeszow <b>gw</b>"

TINY = f"""
[scenario]
name = {json.dumps(EVIL)}
description = {json.dumps(EVIL_DESCRIPTION)}
seed = 1

[time]
start_utc = "2026-05-30T12:00:00Z"
duration_s = 600
step_s = 10

[[constellations]]
kind = "walker"
name = "toy"
[[constellations.shells]]
altitude_km = 550
inclination_deg = 53
planes = 24
sats_per_plane = 22
phase_factor = 1

[ground.terminals]
min_elevation_deg = 25.0
[[ground.terminals.sources]]
kind = "coordinates"
sites = [
  {{ name = "Kyiv", lat_deg = 50.45, lon_deg = 30.52 }},
  {{ name = "Lviv", lat_deg = 49.84, lon_deg = 24.03 }},
  {{ name = "Kharkiv", lat_deg = 49.99, lon_deg = 36.23 }},
  {{ name = {json.dumps(EVIL)}, lat_deg = 46.48, lon_deg = 30.74 }},
]

[ground.gateways]
[[ground.gateways.extra]]
name = {json.dumps(EVIL_GATEWAY)}
lat_deg = 50.04
lon_deg = 22.0
antenna_count = 8

[ground.pops]
[[ground.pops.extra]]
name = "Warsaw PoP"
lat_deg = 52.23
lon_deg = 21.01

[output]
chunk_steps = 30
"""

#: Policies added to the augmented run's manifest (the service layer's
#: ``[[policies]]``, as `model_dump(mode="json")` would write them).
POLICIES = [
    {"name": "no service in Crimea", "action": "deny", "region": "crimea", "from": "2022-02-26T00:00:00Z", "until": None, "fleets": None},
    {"name": "donated terminals in Ukraine only", "action": "allow", "region": "country:UA", "from": None, "until": None, "fleets": ["donated"]},
    {"name": EVIL, "action": "deny", "region": "oblast:Atlantis", "from": None, "until": None, "fleets": None},
]

#: In ``column_run`` (conftest), terminal 3 is inactive (its fleet is off) for the first
#: `INACTIVE_STEPS` steps.
INACTIVE_STEPS = 10

#: Headless Chromium without a GPU, network features or first-run chatter.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

#: A run with moving terminals (issue 13): the toy shell, two fixed terminals, a fast
#: boat from Odesa into Crimea (a route: it crosses the Crimea deny rule, then stops
#: being in the run after its last waypoint), a real car drive (GPX, replayed two
#: minutes in, split by `max_gap_s` = 20 s into legs with "no-position" between them),
#: a ping probe on the boat, a dated deny rule that moves from Lviv Oblast to Odessa Oblast
#: (60 s late), and a PoP no route uses (Sydney).  20 min in 10 s steps, 4 chunks.
#: The boat's speed (1,200 km/h) is not a boat's: it crosses 300 km in the 20 min
#: of a test run; the report does not care what moves.
MOVING_BOAT = "Odesa boat <i>fast</i>"
MOVING = f"""
[scenario]
name = "moving"
description = "moving terminals for the report tests"
seed = 2

[time]
start_utc = "2026-05-30T12:00:00Z"
duration_s = 1200
step_s = 10

[[constellations]]
kind = "walker"
name = "toy"
[[constellations.shells]]
altitude_km = 550
inclination_deg = 53
planes = 24
sats_per_plane = 22
phase_factor = 1

[ground.terminals]
min_elevation_deg = 25.0
[[ground.terminals.sources]]
kind = "coordinates"
sites = [
  {{ name = "Kyiv", lat_deg = 50.45, lon_deg = 30.52 }},
  {{ name = "Lviv", lat_deg = 49.84, lon_deg = 24.03 }},
]
[[ground.terminals.sources]]
kind = "route"
name = {json.dumps(MOVING_BOAT)}
speed_kmh = 1200.0
start_utc = "2026-05-30T12:00:00Z"
waypoints = [
  {{ lat_deg = 46.45, lon_deg = 30.80 }},
  {{ lat_deg = 45.19, lon_deg = 33.37 }},
  {{ lat_deg = 44.95, lon_deg = 34.10 }},
]
[[ground.terminals.sources]]
kind = "track"
file = "{{track}}"
name = "Visnjan car"
replay_from = "2026-05-30T12:02:00Z"
max_gap_s = 20

[ground.gateways]
[[ground.gateways.extra]]
name = "Rzeszow"
lat_deg = 50.04
lon_deg = 22.0
antenna_count = 8
[[ground.gateways.extra]]
name = "Bucharest"
lat_deg = 44.43
lon_deg = 26.10
antenna_count = 8

[ground.pops]
[[ground.pops.extra]]
name = "Warsaw PoP"
lat_deg = 52.23
lon_deg = 21.01
[[ground.pops.extra]]
# A PoP no route uses: drawn, but not framed by the map's view.
name = "Sydney PoP"
lat_deg = -33.87
lon_deg = 151.21

[[policies]]
name = "Crimea geofence"
action = "deny"
region = "crimea"

[[policies]]
# A geofence that moves: Lviv Oblast from 12:05, Odessa Oblast from 12:12, each switch a minute late.
name = "moving line"
action = "deny"
lag_s = 60
region = [
  {{ from = "2026-05-30T12:05:00Z", region = "oblast:Lviv" }},
  {{ from = "2026-05-30T12:12:00Z", region = "oblast:Odessa Oblast" }},
]

[[probes]]
terminal = {json.dumps("route:" + MOVING_BOAT)}
interval_ms = 500

[output]
chunk_steps = 30
"""
