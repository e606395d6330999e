"""The scheduler tests' scene: Starlink-550 over Europe (plain constants, importable by the tests)."""

from __future__ import annotations

from leonet.ground.sites import sites_from_coordinates
from leonet.timebase import parse_utc

EPOCH = parse_utc("2026-05-30T12:00:00Z")

TERMINALS = [
    (50.45, 30.52), (49.84, 24.03), (46.48, 30.72), (49.99, 36.23), (48.46, 35.05), (52.23, 21.01),
    (48.85, 2.35), (41.9, 12.5), (59.33, 18.07), (38.7, -9.1), (55.75, 37.62), (40.4, -3.7),
    (85.0, 0.0),  # beyond the 53 deg shell's reach: never served
]
GATEWAYS = [(50.04, 21.99), (54.9, 23.9), (41.0, 29.0), (50.1, 8.6), (48.1, 11.6), (45.5, 9.2), (40.0, -4.0)]
POPS = [(50.11, 8.68), (48.85, 2.35)]


def sites(role, coords, **kw):
    return sites_from_coordinates(
        role, [dict(name=f"{role}{i}", lat_deg=a, lon_deg=b, region="", **kw) for i, (a, b) in enumerate(coords)]
    )
