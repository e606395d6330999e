"""Propagation throughput: the full Starlink snapshot, SGP4 + TEME->ECEF, one core.

Run: ``python bench/bench_propagation.py [--steps 600]``.  Prints satellite-steps
per second (median of 3 runs) as a Markdown table row for docs/benchmarks.md.
Target (issue 2): >= 1,000,000 satellite-steps/s including the ECEF conversion.
"""

from __future__ import annotations

import os

# One core: keep numpy's BLAS pool (unused here, but be explicit) to one thread.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from importlib import resources  # noqa: E402

from leonet.orbits.constellation import Constellation  # noqa: E402
from leonet.orbits.propagate import propagate  # noqa: E402
from leonet.orbits.tle import read_tle_file  # noqa: E402
from leonet.timebase import TimeGrid  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    path = resources.files("leonet") / "data" / "tle" / "starlink_gp_20260530.tle"
    t0 = time.perf_counter()
    elements = read_tle_file(path)
    read_s = time.perf_counter() - t0
    c = Constellation.from_elements("starlink", elements)
    grid = TimeGrid.regular("2026-05-30T12:00:00Z", args.steps * 10**9, 10**9)
    sats = c.satrec_array
    rates = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        propagate(sats, grid)
        rates.append(len(c) * args.steps / (time.perf_counter() - t0))
    rate = statistics.median(rates)
    print(f"read {len(c):,} element sets in {read_s:.3f} s")
    print("| benchmark | figure | target |")
    print("|---|---|---|")
    print(
        f"| propagation, {len(c):,} sats x {args.steps} steps, SGP4 + ECEF, 1 core | "
        f"{rate / 1e6:.2f} M sat-steps/s | >= 1.0 M sat-steps/s |"
    )


if __name__ == "__main__":
    main()
