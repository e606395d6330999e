"""What capacity allocation adds to the network model's run time on `ukraine` (issue 4).

Run: ``python bench/bench_capacity_overhead.py [--steps 240] [--repeat 3]``.

Times `RunContext.chunk` (propagation, scheduler, routing, and with [capacity] the
beam-aware scheduler and the max-min fair allocation) for the built-in `ukraine`
scenario with and without its `[capacity]` table, median of ``--repeat``.
Target: capacity adds <= 30%.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace

from leonet.engine.context import RunContext
from leonet.scenario.load import load_scenario


def timed(loaded, steps: int, repeat: int) -> float:
    ctx = RunContext(loaded, warn=False)
    times = []
    for _ in range(repeat):
        ctx.model.scheduler._cache.clear()
        ctx.model._state_cache.clear()
        t0 = time.perf_counter()
        ctx.chunk(0, steps)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=240)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with_cap = load_scenario("ukraine")
    without = replace(with_cap, spec=with_cap.spec.model_copy(update={"capacity": None}))
    t_with = timed(with_cap, args.steps, args.repeat)
    t_without = timed(without, args.steps, args.repeat)
    extra = 100.0 * (t_with / t_without - 1.0)
    print("| benchmark | figure | target |")
    print("|---|---|---|")
    print(
        f"| capacity on `ukraine` ({args.steps} steps): {1e3 * t_without / args.steps:.1f} -> "
        f"{1e3 * t_with / args.steps:.1f} ms/step | {extra:+.0f}% | <= +30% |"
    )


if __name__ == "__main__":
    main()
