"""The toy scenario tests share: Starlink-550, two Ukrainian terminals, one gateway, PoP Frankfurt.

Small and fast (seconds), with every stage of a run in it.  `toy_scenario`
varies only what tests need to vary: the window, the chunking, the names.
"""

from __future__ import annotations


def toy_scenario(
    *,
    name: str = "toy",
    seed: int = 7,
    duration_s: int = 120,
    step_s: int = 5,
    chunk_steps: int = 7,
    second_terminal: str = '{name = "Lviv", lat_deg = 49.84, lon_deg = 24.03}',
) -> str:
    """TOML text of the toy scenario."""
    return f"""\
[scenario]
name = "{name}"
seed = {seed}
[time]
start_utc = "2026-05-30T12:00:00Z"
duration_s = {duration_s}
step_s = {step_s}
[[constellations]]
kind = "builtin"
builtin = "starlink-550"
[ground.terminals]
[[ground.terminals.sources]]
kind = "coordinates"
sites = [{{name = "Kyiv", lat_deg = 50.45, lon_deg = 30.52}}, {second_terminal}]
[ground.gateways]
[[ground.gateways.extra]]
name = "Wola Krobowska"
lat_deg = 51.86417
lon_deg = 20.92105
antenna_count = 8
[ground.pops]
ids = ["POP12"]
[output]
chunk_steps = {chunk_steps}
"""
