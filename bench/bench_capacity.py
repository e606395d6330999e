"""Capacity allocation cost per time step: `allocate_step` on synthetic, realistic sharing.

Run: ``python bench/bench_capacity.py [--steps 50]``.  Prints the median time
per step as Markdown table rows for docs/benchmarks.md.

Each case has G terminals in C H3-sized cells (sizes skewed: a few big cities,
many small places), served by S satellites of the V1.5 generation (16 beams of
1.23 Gbit/s, 20 Gbit/s in all), fed by W gateways of 8 Ka antennas (160 Gbit/s
each), over paths of about 3 laser links (100 Gbit/s) that share links near
their gateway as real paths do.  Every terminal wants 100 Mbit/s.  Each step
re-draws which satellite serves each cell, so beams, satellites and paths
change from step to step as they do in a run.

Target (issue): capacity allocation adds <= 30 % to the network model's step
time for the ``ukraine`` scenario (200 terminals; the network model takes
10-30 ms a step), i.e. <= 3 ms a step at 200-1,000 terminals.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from leonet.capacity import CapacityModel, ServiceCells, allocate_step, gateway_capacity_bps  # noqa: E402


def make_steps(n_term: int, n_cells: int, n_sat: int, n_gw: int, n_steps: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    # Skewed cell sizes (Zipf-like), every cell non-empty.
    weight = 1.0 / np.arange(1, n_cells + 1) ** 0.8
    cell = np.concatenate([np.arange(n_cells), rng.choice(n_cells, n_term - n_cells, p=weight / weight.sum())])
    rng.shuffle(cell)
    # Each gateway has a chain of 8 laser links leading to it (ids shared by
    # the satellites that route through it); each satellite has its own first hop.
    chain = np.arange(n_gw * 8).reshape(n_gw, 8)
    own_link = n_gw * 8 + np.arange(n_sat)
    n_isl = n_gw * 8 + n_sat
    steps = []
    for _ in range(n_steps):
        cell_sat = rng.integers(0, n_sat, size=n_cells)  # serving satellite of each cell
        sat_gw = rng.integers(0, n_gw, size=n_sat)
        hops = np.clip(rng.poisson(3.0, size=n_sat), 1, 6)
        sat = cell_sat[cell]
        gw = sat_gw[sat]
        paths = [np.r_[own_link[s], chain[sat_gw[s], 8 - hops[s] + 1 :]] for s in range(n_sat)]
        lens = np.array([len(paths[s]) for s in sat])
        indptr = np.r_[0, np.cumsum(lens)]
        edges = np.concatenate([paths[s] for s in sat]) if n_term else np.zeros(0, int)
        steps.append((cell, sat, gw, indptr, edges))
    return steps, n_isl


def bench_case(n_term: int, n_cells: int, n_sat: int, n_gw: int, n_steps: int):
    steps, n_isl = make_steps(n_term, n_cells, n_sat, n_gw, n_steps)
    model = CapacityModel.uniform(n_sat, gateway_capacity_bps(np.full(n_gw, 8)))
    times, rounds, below = [], [], []
    for cell, sat, gw, indptr, edges in steps:
        t0 = time.perf_counter()
        r = allocate_step(model, cell, sat, gw, 100e6, isl_indptr=indptr, isl_edges=edges, n_cells=n_cells, n_isl=n_isl)
        times.append(time.perf_counter() - t0)
        rounds.append(r.rounds)
        below.append(r.below_min_rate.mean())
    return statistics.median(times), max(rounds), statistics.mean(below)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=50)
    args = parser.parse_args()
    cases = [
        (200, 60, 40, 6),  # ukraine-like: 200 terminals
        (1_000, 120, 80, 6),
        (10_000, 300, 150, 6),
    ]
    rng = np.random.default_rng(0)
    lat, lon = rng.uniform(44.4, 52.3, 10_000), rng.uniform(22.1, 40.2, 10_000)
    t0 = time.perf_counter()
    ServiceCells.from_coordinates(lat, lon)
    cells_s = time.perf_counter() - t0
    print("| benchmark | figure | target |")
    print("|---|---|---|")
    print(f"| H3 cells of 10,000 terminals (once per run) | {cells_s * 1e3:.1f} ms | - |")
    for n_term, n_cells, n_sat, n_gw in cases:
        median_s, max_rounds, below = bench_case(n_term, n_cells, n_sat, n_gw, args.steps)
        target = "<= 3 ms" if n_term <= 1_000 else "-"
        print(
            f"| allocate_step, {n_term:,} terminals / {n_cells} cells / {n_sat} sats / {n_gw} gateways, "
            f"~3 lasers a path, 1 core | {median_s * 1e3:.2f} ms/step (max {max_rounds} rounds; "
            f"{below:.0%} below 1 Mbit/s) | {target} |"
        )


if __name__ == "__main__":
    main()
