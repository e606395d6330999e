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
