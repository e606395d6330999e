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
scheduler, routing, capacity, Parquet all counted).  The repeats alternate
(standing, moving, standing, ...) so that the load of a shared machine hits
both alike; the median wall time and the median CPU time (user + system of
the child, from ``wait4``: what the run itself costs, less sensitive to other
processes) are reported with the ratios moving / standing.  Target: <= 1.5.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import time
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_runs import gateway_ids  # noqa: E402

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


def run_once(scenario: Path, out: Path, workers: int) -> tuple[float, float, float]:
    """Wall time, CPU time (s) and peak RSS (bytes) of one ``leonet run`` in a fresh process."""
    cmd = [sys.executable, "-m", "leonet.cli", "--quiet", "run", str(scenario), "--out", str(out), "--no-report",
           "--force", "--workers", str(workers)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"leonet run failed ({cmd})")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=3600)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--chunk-steps", type=int, default=300)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--terminals", type=int, default=1000)
    args = parser.parse_args()
    got: dict[str, list[tuple[float, float, float]]] = {"standing": [], "moving": []}
    with tempfile.TemporaryDirectory() as tmp:
        scenarios = {}
        for kind in got:
            scenarios[kind] = Path(tmp) / f"{kind}.toml"
            scenarios[kind].write_text(scenario_text(kind == "moving", args.steps, args.chunk_steps, args.terminals))
        for k in range(args.repeat):
            for kind in got:
                wall, cpu, peak = run_once(scenarios[kind], Path(tmp) / f"{kind}{k}", args.workers)
                got[kind].append((wall, cpu, peak))
                print(f"  {kind} run {k + 1}: wall {wall:.1f} s, CPU {cpu:.1f} s, peak {peak / 1e9:.2f} GB, "
                      f"load {os.getloadavg()[0]:.1f}", file=sys.stderr)
    wall = {kind: statistics.median(r[0] for r in rows) for kind, rows in got.items()}
    cpu = {kind: statistics.median(r[1] for r in rows) for kind, rows in got.items()}
    label = f"Gen1 + {args.terminals:,} terminals, {args.steps} steps of 1 s, workers {args.workers}, {args.repeat} repeat(s)"
    print("| benchmark | standing wall / CPU | moving wall / CPU | ratio wall / CPU | target |")
    print("|---|---|---|---|---|")
    print(f"| {label} | {wall['standing']:.1f} / {cpu['standing']:.1f} s | {wall['moving']:.1f} / {cpu['moving']:.1f} s | "
          f"{wall['moving'] / wall['standing']:.2f} / {cpu['moving'] / cpu['standing']:.2f} | <= 1.5 |")


if __name__ == "__main__":
    main()
