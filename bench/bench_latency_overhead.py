"""What the latency model adds to a run's computation on `ukraine` (issue 12: <= +15 %).

Run: ``python bench/bench_latency_overhead.py [--steps 240] [--repeat 3]``.

Times `RunContext.chunk` (propagation, scheduler, routing, capacity and the
chunk stages) for the built-in `ukraine` scenario with ``[latency] enabled =
true`` (the default: access, processing, queueing, reconfiguration and loss
for every terminal-step) and ``false`` (propagation RTT only), interleaved
repeats in one process, median of ``--repeat``.  Then the stage alone
(`leonet.latency.step_latency`) on 1,000 terminals per step, the size of
the Gen1 whole-run benchmark (bench_runs.py --case gen1: ~17 ms/step in one
process), since `ukraine`'s 200 terminals make it small next to the noise.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from leonet.engine.context import RunContext
from leonet.latency import LatencyParams, step_latency
from leonet.scenario.load import load_scenario

S = 10**9


def stage_alone(steps: int, terminals: int, repeat: int) -> float:
    """Median seconds per step of `step_latency` for ``terminals`` served terminals."""
    n = steps * terminals
    t = 1_780_000_000 * S + np.repeat(np.arange(steps), terminals) * S
    term = np.tile(np.arange(terminals), steps)
    parts = dict(
        uplink_s=np.full(n, 2e-3), isl_s=np.full(n, 3e-3), feeder_s=np.full(n, 2e-3), backhaul_s=np.full(n, 1e-3),
        isl_hops=np.full(n, 2), lon_deg=np.linspace(-180, 180, n), slot_ns=15 * S, slot_offset_ns=12 * S, step_ns=S,
    )
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        step_latency(LatencyParams(), seed=1, t_unix_ns=t, terminal=term, **parts)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) / steps


def timed_chunk(ctx: RunContext, steps: int) -> float:
    ctx.model.scheduler._cache.clear()
    ctx.model._state_cache.clear()
    t0 = time.perf_counter()
    ctx.chunk(0, steps)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=240)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    on = RunContext(load_scenario("ukraine"), warn=False)
    off = RunContext(load_scenario("ukraine", latency={"enabled": False}), warn=False)
    t_on, t_off = [], []
    for _ in range(args.repeat):  # interleaved: the machine's load drifts
        t_off.append(timed_chunk(off, args.steps))
        t_on.append(timed_chunk(on, args.steps))
    a, b = statistics.median(t_off), statistics.median(t_on)
    terminals = len(on.model.terminal_ids)
    print("| benchmark | figure | target |")
    print("|---|---|---|")
    print(
        f"| latency model on `ukraine` ({args.steps} steps x {terminals} terminals): {1e3 * a / args.steps:.1f} -> "
        f"{1e3 * b / args.steps:.1f} ms/step | {100.0 * (b / a - 1.0):+.0f}% | <= +15% |"
    )
    alone = stage_alone(args.steps, 1000, args.repeat)
    print(f"| latency stage alone, 1,000 terminals | {1e3 * alone:.2f} ms/step ({100 * alone / 0.0169:.0f}% of Gen1's 16.9 ms/step) | <= +15% |")


if __name__ == "__main__":
    main()
