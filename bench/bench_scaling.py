"""Scaling of a run's cost with steps, terminals and satellites (issue 6, figure 4).

Run: ``python bench/bench_scaling.py [--repeat 3] [--out docs/scaling.svg]``.

Times `RunContext.chunk` (propagation, scheduler, routing, capacity; not
start-up or writing) in-process, median of ``--repeat``, for:

* steps: Gen1 + 100 cities, 60 / 120 / 240 / 480 steps of 1 s (must be linear);
* terminals: Gen1, 60 steps, 100 / 300 / 1,000 / 3,000 cities;
* satellites: 100 cities, 60 steps, Starlink-550 (1,584), Kuiper (3,236),
  Gen1 (4,408), the real snapshot (10,395), Gen2 (29,988).

Prints Markdown tables and writes an SVG chart (one panel per sweep).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_runs import gateway_ids  # noqa: E402

from leonet.engine.context import RunContext  # noqa: E402
from leonet.scenario.load import load_scenario  # noqa: E402


def _scenario(constellation: str, terminals: int, steps: int) -> str:
    ids = ", ".join(f'"{i}"' for i in gateway_ids(100))
    return f"""
[time]
start_utc = "2026-05-30T12:00:00Z"
duration_s = {steps}
step_s = 1
[[constellations]]
kind = "builtin"
builtin = "{constellation}"
[ground.terminals]
[[ground.terminals.sources]]
kind = "cities"
limit = {terminals}
[ground.gateways]
ids = [{ids}]
[capacity]
generation = "v1.5"
"""


def measure(constellation: str, terminals: int, steps: int, repeat: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.toml"
        path.write_text(_scenario(constellation, terminals, steps))
        ctx = RunContext(load_scenario(path), warn=False)
        times = []
        for _ in range(repeat):
            # A fresh scheduler cache each time, as a new run would have.
            ctx.model.scheduler._cache.clear()
            ctx.model._state_cache.clear()
            t0 = time.perf_counter()
            ctx.chunk(0, steps)
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def svg(panels: list[tuple[str, str, list[tuple[float, float]]]], path: Path) -> None:
    """A small dependency-free SVG: one log-log panel per sweep (x, seconds)."""
    import math

    w, h, pad = 300, 220, 45
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w * len(panels)}" height="{h}" font-family="sans-serif" font-size="11">']
    for k, (title, xlabel, pts) in enumerate(panels):
        x0 = k * w
        xs = [math.log10(p[0]) for p in pts]
        ys = [math.log10(p[1]) for p in pts]
        xmin, xmax = min(xs), max(xs)
        ymin, ymax = min(ys) - 0.1, max(ys) + 0.1

        def px(x, y):
            return (
                x0 + pad + (x - xmin) / max(xmax - xmin, 1e-9) * (w - 2 * pad),
                h - pad - (y - ymin) / max(ymax - ymin, 1e-9) * (h - 2 * pad),
            )

        parts.append(f'<text x="{x0 + w / 2}" y="15" text-anchor="middle" font-weight="bold">{title}</text>')
        parts.append(f'<rect x="{x0 + pad}" y="{pad}" width="{w - 2 * pad}" height="{h - 2 * pad}" fill="none" stroke="#999"/>')
        line = " ".join(f"{a:.1f},{b:.1f}" for a, b in (px(x, y) for x, y in zip(xs, ys)))
        parts.append(f'<polyline points="{line}" fill="none" stroke="#1f77b4" stroke-width="2"/>')
        for (x, y), (vx, vy) in zip(zip(xs, ys), pts):
            a, b = px(x, y)
            parts.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="#1f77b4"/>')
            parts.append(f'<text x="{a:.1f}" y="{h - pad + 14}" text-anchor="middle">{vx:,.0f}</text>')
            parts.append(f'<text x="{a + 4:.1f}" y="{b - 5:.1f}">{vy:.2f} s</text>')
        parts.append(f'<text x="{x0 + w / 2}" y="{h - 8}" text-anchor="middle">{xlabel} (log scale)</text>')
    parts.append("</svg>")
    path.write_text("\n".join(parts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("docs/scaling.svg"))
    args = parser.parse_args()
    sweeps = {
        "steps": ("time vs steps (Gen1, 100 terminals)", "steps", [("starlink-gen1", 100, n) for n in (60, 120, 240, 480)]),
        "terminals": ("time vs terminals (Gen1, 60 steps)", "terminals", [("starlink-gen1", g, 60) for g in (100, 300, 1000, 3000)]),
        "satellites": (
            "time vs satellites (100 terminals, 60 steps)",
            "satellites",
            [(c, 100, 60) for c in ("starlink-550", "kuiper", "starlink-gen1", "starlink-tle-2026-05", "starlink-gen2")],
        ),
    }
    sizes = {"starlink-550": 1584, "kuiper": 3236, "starlink-gen1": 4408, "starlink-tle-2026-05": 10395, "starlink-gen2": 29988}
    panels = []
    for key, (title, xlabel, cases) in sweeps.items():
        print(f"\n{title}\n\n| {xlabel} | seconds | ms per step |\n|---|---|---|")
        pts = []
        for constellation, terminals, steps in cases:
            s = measure(constellation, terminals, steps, args.repeat)
            x = {"steps": steps, "terminals": terminals, "satellites": sizes[constellation]}[key]
            pts.append((x, s))
            print(f"| {x:,} | {s:.2f} | {1e3 * s / steps:.1f} |", flush=True)
        panels.append((title, xlabel, pts))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    svg(panels, args.out)
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
