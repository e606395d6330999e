"""Whole-run benchmarks (issue 6): Gen1 + 1,000 terminals, and the real snapshot + 10,000 terminals.

Run: ``python bench/bench_runs.py --case gen1|snapshot [--repeat 3] [--steps N]``.

Each repeat runs ``leonet run`` in a fresh process (so start-up, scenario
building, propagation, scheduler, routing, capacity and writing Parquet are
all counted) and reads the child's peak resident memory from ``wait4``.
Prints a Markdown row: median wall time of the repeats, peak memory, target.

* gen1: Starlink Gen1 (4,408 satellites, 5 shells) + the 1,000 most populous
  GeoNames cities as terminals + the first 100 gateways of the shipped list +
  all 23 PoPs, scheduler + routing + capacity, 1 h at 1 s.  Target <= 60 s.
* snapshot: the real 10,395-satellite snapshot + the 10,000 most populous
  cities + all 261 gateways, 1 h at 1 s.  Target <= 10 min and <= 4 GB.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

CASES = {
    "gen1": dict(constellation="starlink-gen1", terminals=1000, gateways=100, target_s=60.0, target_gb=None),
    "snapshot": dict(constellation="starlink-tle-2026-05", terminals=10_000, gateways=None, target_s=600.0, target_gb=4.0),
}


def gateway_ids(limit: int | None) -> list[str]:
    path = resources.files("leonet") / "data" / "gateways" / "starlink_gateways_starperf_2024-01.csv"
    with path.open(encoding="utf-8") as f:
        ids = [row["id"] for row in csv.DictReader(f)]
    return ids if limit is None else ids[:limit]


def scenario_text(case: str, steps: int, chunk_steps: int) -> str:
    c = CASES[case]
    ids = ", ".join(f'"{i}"' for i in gateway_ids(c["gateways"]))
    return f"""
[scenario]
name = "bench-{case}"
[time]
start_utc = "2026-05-30T12:00:00Z"
duration_s = {steps}
step_s = 1
[[constellations]]
kind = "builtin"
builtin = "{c['constellation']}"
[ground.terminals]
[[ground.terminals.sources]]
kind = "cities"
limit = {c['terminals']}
[ground.gateways]
catalog = "starperf-2024-01"   # the ids below, and the 23 PoPs of the history rows
ids = [{ids}]
[ground.pops]
catalog = "starperf-2024-01"
[capacity]
generation = "v1.5"
[output]
chunk_steps = {chunk_steps}
"""


def run_once(scenario: Path, out: Path, workers: int) -> tuple[float, float]:
    cmd = [sys.executable, "-m", "leonet.cli", "--quiet", "run", str(scenario), "--out", str(out), "--no-report",
           "--force", "--workers", str(workers)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"leonet run failed ({cmd})")
    return wall, usage.ru_maxrss * 1024.0  # ru_maxrss is in KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", choices=sorted(CASES), required=True)
    parser.add_argument("--steps", type=int, default=3600)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--chunk-steps", type=int, default=300)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    c = CASES[args.case]
    with tempfile.TemporaryDirectory() as tmp:
        scenario = Path(tmp) / f"{args.case}.toml"
        scenario.write_text(scenario_text(args.case, args.steps, args.chunk_steps))
        walls, peaks = [], []
        for k in range(args.repeat):
            wall, peak = run_once(scenario, Path(tmp) / f"run{k}", args.workers)
            walls.append(wall)
            peaks.append(peak)
            print(f"  run {k + 1}: {wall:.1f} s, peak {peak / 1e9:.2f} GB", file=sys.stderr)
    wall = statistics.median(walls)
    scale = 3600 / args.steps
    target = f"<= {c['target_s']:.0f} s" + (f", <= {c['target_gb']:.0f} GB" if c["target_gb"] else "")
    label = (
        f"{args.case}: {c['constellation']} + {c['terminals']:,} terminals + "
        f"{c['gateways'] or 'all'} gateways, {args.steps} steps of 1 s, workers {args.workers}"
    )
    extrapolated = f" (x{scale:g} -> {wall * scale:.0f} s for 1 h)" if args.steps != 3600 else ""
    print("| benchmark | figure | target |")
    print("|---|---|---|")
    print(f"| {label} | {wall:.1f} s{extrapolated}, peak {max(peaks) / 1e9:.2f} GB | {target} |")


if __name__ == "__main__":
    main()
