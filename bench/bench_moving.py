"""Moving terminals cost (issue 13): 1,000 moving terminals against the same 1,000 standing still.

Run: ``python bench/bench_moving.py [--steps 3600] [--repeat 1] [--workers 1]``.

Both runs are the ``gen1`` case of bench/bench_runs.py (Starlink Gen1, 4,408
satellites; the first 100 gateways of the StarPerf list; every PoP of the 2026-10 list, each
terminal to its country's PoP;
scheduler + routing + capacity; 1 s steps) with 1,000 terminals that start
at the 1,000 most populous GeoNames cities:

* moving: one ``route`` per city, leaving at the run's start on a seeded
  random bearing: 80 % ground vehicles at 40-120 km/h, 10 % ships at
  20-40 km/h, 10 % aircraft at 850 km/h and 10 km; every route is long
  enough to last the run, and many cross borders (their home PoP changes).
* standing: ``coordinates`` terminals at the routes' first fixes (the
  aircraft standing at 10 km).

Each run is ``leonet run`` in a fresh process (start-up, scenario, propagation,
scheduler, routing, capacity, Parquet all counted); the median wall time of
the repeats is reported with the ratio moving / standing.  Target: <= 1.5.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_runs import gateway_ids, run_once  # noqa: E402

R_KM = 6371.0088


def _destination(lat, lon, bearing_deg, distance_km):
    """The point ``distance_km`` from (lat, lon) on a great circle at ``bearing_deg`` (spherical)."""
    p1, l1, b, d = map(math.radians, (lat, lon, bearing_deg, 0.0))
    d = distance_km / R_KM
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))
    l2 = l1 + math.atan2(math.sin(b) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2))
    return math.degrees(p2), (math.degrees(l2) + 540.0) % 360.0 - 180.0


def terminals(n: int, hours: float, seed: int = 13) -> list[dict]:
    """Start point, end point, speed and altitude of each of ``n`` routes."""
    from leonet.ground.sites import load_cities

    cities = load_cities(limit=n)
    rng = np.random.default_rng(seed)
    out = []
    for k in range(len(cities)):
        u = rng.uniform()
        if u < 0.8:
            speed, alt = rng.uniform(40.0, 120.0), 0.0
        elif u < 0.9:
            speed, alt = rng.uniform(20.0, 40.0), 0.0
        else:
            speed, alt = 850.0, 10_000.0
        lat, lon = float(cities.lat_deg[k]), float(cities.lon_deg[k])
        lat = max(-80.0, min(80.0, lat))
        end = _destination(lat, lon, rng.uniform(0.0, 360.0), speed * hours * 1.05)
        out.append({"name": f"{k:04d} {cities.names[k]}", "lat": lat, "lon": lon, "end": end, "speed": speed, "alt": alt})
    return out


def scenario_text(moving: bool, steps: int, chunk_steps: int, n: int = 1000) -> str:
    ids = ", ".join(f'"{i}"' for i in gateway_ids(100))
    head = f"""
[scenario]
name = "bench-{'moving' if moving else 'standing'}"
[time]
start_utc = "2026-05-30T12:00:00Z"
duration_s = {steps}
step_s = 1
[[constellations]]
kind = "builtin"
builtin = "starlink-gen1"
[ground.gateways]
catalog = "starperf-2024-01"
ids = [{ids}]
[capacity]
generation = "v1.5"
[output]
chunk_steps = {chunk_steps}
[ground.terminals]
"""
    rows = terminals(n, steps / 3600.0)
    if not moving:
        sites = ",\n  ".join(
            f'{{ name = "{r["name"]}", lat_deg = {r["lat"]!r}, lon_deg = {r["lon"]!r}, altitude_km = {r["alt"] / 1000.0!r} }}'
            for r in rows
        )
        return head + f"[[ground.terminals.sources]]\nkind = \"coordinates\"\nsites = [\n  {sites}\n]\n"
    parts = [head]
    for r in rows:
        parts.append(
            "[[ground.terminals.sources]]\nkind = \"route\"\n"
            f'name = "{r["name"]}"\nspeed_kmh = {r["speed"]!r}\nstart_utc = 2026-05-30T12:00:00Z\n'
            f'altitude_m = {r["alt"]!r}\n'
            f'waypoints = [{{ lat_deg = {r["lat"]!r}, lon_deg = {r["lon"]!r} }}, '
            f'{{ lat_deg = {r["end"][0]!r}, lon_deg = {r["end"][1]!r} }}]\n'
        )
    return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=3600)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--chunk-steps", type=int, default=300)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--terminals", type=int, default=1000)
    args = parser.parse_args()
    walls: dict[str, list[float]] = {"standing": [], "moving": []}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("standing", "moving"):
            scenario = Path(tmp) / f"{kind}.toml"
            scenario.write_text(scenario_text(kind == "moving", args.steps, args.chunk_steps, args.terminals))
            for k in range(args.repeat):
                wall, peak = run_once(scenario, Path(tmp) / f"{kind}{k}", args.workers)
                walls[kind].append(wall)
                print(f"  {kind} run {k + 1}: {wall:.1f} s, peak {peak / 1e9:.2f} GB", file=sys.stderr)
    stand, move = statistics.median(walls["standing"]), statistics.median(walls["moving"])
    label = f"Gen1 + {args.terminals:,} terminals, {args.steps} steps of 1 s, workers {args.workers}"
    print("| benchmark | standing | moving | ratio | target |")
    print("|---|---|---|---|---|")
    print(f"| {label} | {stand:.1f} s | {move:.1f} s | {move / stand:.2f} | <= 1.5 |")


if __name__ == "__main__":
    main()
