"""The per-step visibility search: `leonet.links.visibility.visible_links` on the real snapshot.

Run: ``python bench/bench_visibility.py [--terminals 1000] [--steps 5] [--repeat 20]``.
10,395 Starlink satellites (the shipped 2026-05-30 snapshot, each shell's own
mask) x N terminals drawn uniformly in Ukraine's bounding box (seeded), 25 deg;
every call is timed on its own.  Prints the median and the minimum per call:
on the shared 2-core machine the minimum is the figure to compare (others'
load inflates the median).  With ``--against FILE`` it also times a copy of an
older ``visible_links`` (a file with the same API, e.g. ``git show
4971718:src/leonet/links/gsl.py`` with ``from ..`` made ``from leonet.``),
interleaved with the current one, and checks they give the same bits.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from leonet.links import visibility  # noqa: E402
from leonet.orbits.propagate import propagate  # noqa: E402
from leonet.engine.build import constellation_from_source  # noqa: E402
from leonet.timebase import TimeGrid, parse_utc  # noqa: E402


def _load(path: str):
    spec = importlib.util.spec_from_file_location("older_visibility", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--terminals", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--against", help="a file with an older visible_links / SiteGeometry to compare")
    args = parser.parse_args()

    c = constellation_from_source("starlink-tle-2026-05")
    grid = TimeGrid(parse_utc("2026-05-30T12:00:00Z"), np.arange(args.steps, dtype=np.int64) * 120 * 10**9)
    r = propagate(c.satrec_array, grid).r_ecef_km
    rng = np.random.default_rng(11)
    lat, lon = rng.uniform(44.4, 52.3, args.terminals), rng.uniform(22.2, 40.2, args.terminals)
    sin_sat = np.sin(np.radians(c.min_elevation_deg))
    engines = {"current": visibility}
    if args.against:
        engines["older"] = _load(args.against)
    geos = {name: m.SiteGeometry.from_lat_lon(lat, lon, 25.0) for name, m in engines.items()}
    pairs = [len(visibility.visible_links(geos["current"], r[t], sin_sat)) for t in range(len(r))]
    if "older" in engines:
        for t in range(len(r)):
            a = visibility.visible_links(geos["current"], r[t], sin_sat)
            b = engines["older"].visible_links(geos["older"], r[t], sin_sat)
            for f in ("site", "sat", "range_km", "sin_elevation"):
                assert np.array_equal(getattr(a, f), getattr(b, f)), f"step {t}: {f} differs"
    times: dict[str, list[float]] = {name: [] for name in engines}
    names = list(engines)
    for rep in range(args.repeat):
        for name in names if rep % 2 == 0 else names[::-1]:  # interleaved: load hits both alike
            for t in range(len(r)):
                t0 = time.perf_counter()
                engines[name].visible_links(geos[name], r[t], sin_sat)
                times[name].append(time.perf_counter() - t0)
    print(f"{len(c):,} satellites x {args.terminals:,} terminals, {int(np.mean(pairs)):,} visible pairs per step")
    print("| engine | median ms/step | min ms/step | calls |")
    print("|---|---|---|---|")
    for name, v in times.items():
        ms = np.array(v) * 1e3
        print(f"| {name} | {np.median(ms):.2f} | {ms.min():.2f} | {ms.size} |")


if __name__ == "__main__":
    main()
