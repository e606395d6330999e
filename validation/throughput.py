"""What a speed test would measure: leonet's speed-test columns against Starlink's published speeds and a dish in Osnabrück.

Run: ``PYTHONPATH=src python validation/throughput.py [--per-country 8] [--duration-s 300] [--step-s 30]``
(~5-10 minutes on one core).  Writes only inside a temporary directory;
prints Markdown tables.

What it does
------------
1. Terminals: ``--per-country`` points in each of the 96 countries of the
   calibration file (``starlink_published_country_metrics_2025-12_calibration.csv``),
   distributed like the model's subscribers (`sample_subscribers`: people,
   in towns and in the countryside, thinned where cells are sold out;
   territories the shipped borders do not hold -- Réunion, Guadeloupe, ... --
   are sampled from their GeoNames places), and a few points within 5 km of
   Osnabrück (52.28 N, 8.05 E; a Flat High Performance dish, [Laniewski24]).
2. Runs: `leonet.run` of one scenario per UTC hour of ``--hours`` (0, 3, ...,
   21 by default, so that every country is tested across its local day):
   the real 2026-05 Starlink snapshot with its real fleet mix
   (``[capacity] generation = "by-name"``), the default (2026) gateway and PoP
   catalogs, every terminal at its country's PoP, lasers, and
   ``[capacity]`` with idle dishes (1 kbit/s of own demand: a speed test
   measures the rest of the network, not the tester).  The engine's
   ``speedtest_down_mbps`` / ``speedtest_up_mbps`` of every served
   terminal-step (`leonet.Run.table`) are the simulated speed tests.
3. Osnabrück 2024: the same with only the satellites of the snapshot
   launched by 2023 (`fleet_before`; satellites that re-entered since are
   missing), the network of February 2024 (``as_of``: subscribers, demand per
   subscriber, the dish's uplink era: leonet.capacity.speedtest_params),
   the FHP dish, at the UTC hours of the measured standing samples
   (``--osn-hours``, results weighted by the samples of each hour).
4. Tables: per country, Starlink's published worst-20 % / median / best-20 %
   and the simulated 20 / 50 / 80 % quantiles, down and up; the share of
   countries within 25 % of the published median (acceptance: download
   >= 60 %); Osnabrück's standing-dish measurements against the model
   (acceptance: medians within 25 %).

Measured data: ``$LEONET_MEASUREMENTS``, else ``$LEONET_SHARED/data/measurements``, else
``../shared/data/measurements`` beside the checkout (see SOURCES.md there).  ``--published CSV``
compares against another file of Starlink's per-country figures (same columns).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MEASUREMENTS = Path(os.environ.get("LEONET_MEASUREMENTS")
                    or Path(os.environ.get("LEONET_SHARED", ROOT.parent / "shared")) / "data" / "measurements")
CALIBRATION = MEASUREMENTS / "starlink_published_country_metrics_2025-12_calibration.csv"
OSNABRUECK = MEASUREMENTS / "osnabrueck_road_iperf_2024-01.csv"
OSNABRUECK_LATLON = (52.28, 8.05)
#: The middle of the Osnabrück standing measurements (2024-01-11 .. 2024-03-07).
OSNABRUECK_AS_OF = "2024-02-01"


def read_calibration():
    import duckdb

    rows = duckdb.sql(f"SELECT * FROM read_csv_auto('{CALIBRATION}') ORDER BY iso3").fetchall()
    cols = [d[0] for d in duckdb.sql(f"SELECT * FROM read_csv_auto('{CALIBRATION}') LIMIT 0").description]
    return [dict(zip(cols, r)) for r in rows]


def osnabrueck_measured():
    import duckdb

    q = f"""SELECT quantile_cont(download_mbps, [0.05, 0.2, 0.5, 0.8, 0.95]),
                   quantile_cont(upload_mbps, [0.05, 0.2, 0.5, 0.8, 0.95]), count(*)
            FROM read_csv_auto('{OSNABRUECK}') WHERE average_speed = 0"""
    down, up, n = duckdb.sql(q).fetchall()[0]
    return np.array(down), np.array(up), n


def iso3_to_iso2():
    from leonet.ground.regions import _WORLD, _iso2, _shipped

    props, _, _ = _shipped(_WORLD)
    out = {}
    for p in props:
        for k in ("ISO_A3_EH", "ISO_A3", "ADM0_A3"):
            v = str(p.get(k))
            if v != "-99":
                out.setdefault(v, _iso2(p))
    # French overseas departments and Australian territories are part of France / Australia
    # in the shipped Natural Earth file; their GeoNames places carry their own codes.
    out.update({"GLP": "GP", "GUF": "GF", "MTQ": "MQ", "REU": "RE", "MYT": "YT", "CCK": "CC", "CXR": "CX"})
    return out


FRENCH_AND_AUSTRALIAN_TERRITORIES = ("GLP", "GUF", "MTQ", "REU", "MYT", "CCK", "CXR")


def sample_country(iso3, iso2, n, seed):
    """*n* population-weighted points of a country (leonet's `sample_points`), with two fallbacks.

    Territories that the shipped borders fold into France or Australia, and
    regions whose ``sample_points`` fails (the U.S. Minor Outlying Islands:
    specks in a huge bounding box), are sampled from their GeoNames places,
    else one point on a polygon part chosen by area.
    """
    import shapely

    from leonet.errors import ScenarioError
    from leonet.ground.regions import load_region
    from leonet.ground.sampling import sample_points
    from leonet.ground.sites import load_cities

    if iso3 not in FRENCH_AND_AUSTRALIAN_TERRITORIES:
        try:
            return sample_points(load_region(f"country:{iso3}"), n, seed=seed)
        except ScenarioError as exc:
            print(f"{iso3}: {exc}; sampling its places instead", file=sys.stderr)
    rng = np.random.default_rng(seed)
    try:
        cities = load_cities(country_iso2=iso2)
    except ScenarioError:
        cities = None
    if cities is not None and len(cities):
        w = cities.population.astype(float)
        pick = rng.choice(len(cities), size=n, p=w / w.sum())
        return cities.lat_deg[pick], cities.lon_deg[pick]
    parts = shapely.get_parts(load_region(f"country:{iso3}").geometry)
    w = shapely.area(parts)
    pick = rng.choice(len(parts), size=n, p=w / w.sum())
    pts = [parts[k].representative_point() for k in pick]
    return np.array([p.y for p in pts]), np.array([p.x for p in pts])


def sample_subscribers(iso3, iso2, n, seed, bg, candidates=80):
    """*n* points of a country distributed like the model's Starlink subscribers.

    Candidates are drawn like the population: GeoNames places (population-
    weighted, jittered) for the share of people who live in them and
    area-uniform points for the rest (the country's rural share, as in
    `BackgroundLoad`); each is then kept with probability proportional to the
    subscribers per person of its service cell (the same everywhere, except
    lower in sold-out cells).  So terminals sit where the model's subscribers
    are, which is whom Starlink's published medians describe.
    """
    from leonet.capacity.cells import cell_of
    from leonet.capacity.speedtest import _sinusoidal_area_km2
    from leonet.errors import ScenarioError
    from leonet.ground.regions import load_region
    from leonet.ground.sampling import sample_points

    rng = np.random.default_rng(seed)
    lat_c, lon_c = sample_country(iso3, iso2, candidates, seed)
    people = region_population(iso2)
    if iso3 not in FRENCH_AND_AUSTRALIAN_TERRITORIES and people > 0:
        region = load_region(f"country:{iso3}")
        rural = bg.grid.rural_density_per_km2.get(iso2, 0.0) * _sinusoidal_area_km2(region.geometry)
        n_rural = int(rng.binomial(candidates, min(max(rural / people, 0.0), 1.0)))
        if n_rural:
            try:
                la, lo = sample_points(region, n_rural, seed=seed + 7919, weight_by_population=False)
                lat_c[:n_rural], lon_c[:n_rural] = la, lo
            except ScenarioError as exc:  # scattered islands (too little area to sample): keep the places
                print(f"{iso3}: countryside not sampled ({exc})", file=sys.stderr)
    ids = cell_of(lat_c, lon_c)
    pop = bg.cell_population(ids, [iso2] * len(ids))
    subs = np.minimum(pop * bg.subscribers_per_person, bg.cell_cap)
    w = np.divide(subs, pop, out=np.zeros_like(subs), where=pop > 0)
    if w.sum() <= 0:
        w = np.ones_like(w)
    pick = rng.choice(len(w), size=n, replace=True, p=w / w.sum())
    return lat_c[pick], lon_c[pick]


def region_population(iso2):
    from leonet.ground.regions import _WORLD, _iso2, _shipped

    props, _, _ = _shipped(_WORLD)
    return sum(float(p.get("POP_EST") or 0.0) for p in props if _iso2(p) == iso2)


def quantiles(x, q=(0.2, 0.5, 0.8)):
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    return np.quantile(x, q) if x.size else np.full(len(q), np.nan)


def fleet_before(year_2digits, out_path):
    """Write the shipped snapshot's satellites launched up to the end of 20<year> (their TLE lines) to *out_path*.

    The fleet at the time of an older measurement: satellites launched later
    are left out; satellites that were up then but have re-entered since
    are missing from the 2026 snapshot (the model undercounts the old fleet).
    """
    from leonet.ground.sites import data_path

    lines = data_path("tle", "starlink_gp_20260530.tle").read_text().splitlines()
    keep = []
    for i in range(0, len(lines) - 2, 3):
        if int(lines[i + 1][9:11]) <= year_2digits:
            keep += lines[i:i + 3]
    Path(out_path).write_text("\n".join(keep) + "\n")
    return len(keep) // 3


def scenario(sites, start_utc, duration_s, step_s, *, dish="standard", as_of=None, tle_file=None, name="speedtests",
             policy="min-latency", slack_ms=0.0):
    """A scenario (dict) of idle terminals at *sites* on the real Starlink fleet, with speed tests."""
    constellation = ({"kind": "builtin", "builtin": "starlink-tle-2026-05"} if tle_file is None
                     else {"kind": "elements", "name": "starlink-launched-by-2023", "file": str(tle_file)})
    capacity = {"generation": "by-name", "demand_bps": 1e3, "min_rate_bps": 1e3, "dish": dish}
    if as_of is not None:
        capacity["as_of"] = as_of
    return {
        "scenario": {"name": name, "seed": 1},
        "time": {"start_utc": start_utc, "duration_s": duration_s, "step_s": step_s},
        "constellations": [constellation],
        "ground": {
            "terminals": {"sources": [{"kind": "coordinates", "sites": [
                {"name": f"t{i}", "lat_deg": float(a), "lon_deg": float(b)} for i, (a, b) in enumerate(sites)]}]},
            "gateways": {},
            "pops": {},
        },
        "network": {"isl": "plus-grid", "slot_s": 15, "policy": policy, "scheduler_slack_ms": slack_ms},
        "capacity": capacity,
        "output": {"chunk_steps": 1000},
    }


def run_speedtests(sites, date, hours, duration_s, step_s, tmp, **kwargs):
    """One `leonet.run` per UTC hour; the served terminal-steps' speed tests, Mbit/s: dict hour -> DataFrame."""
    import leonet

    out = {}
    for h in hours:
        hh, mm = int(h), int(round((h - int(h)) * 60))
        spec = scenario(sites, f"{date}T{hh:02d}:{mm:02d}:00Z", duration_s, step_s, **kwargs)
        loaded = leonet.load_scenario(spec)
        t0 = time.perf_counter()
        run = leonet.run(loaded, Path(tmp) / f"run-{kwargs.get('name', 'speedtests')}-{h:05.2f}")
        steps = run.table("terminal_steps", columns=["t_ns", "terminal", "served", "isl_hops",
                                                     "speedtest_down_mbps", "speedtest_up_mbps"])
        out[h] = steps[steps["served"]]
        print(f"  {date} {hh:02d}:{mm:02d} UTC: {len(sites)} terminals, {time.perf_counter() - t0:.0f} s",
              file=sys.stderr)
    return out


def osnabrueck_hours(hours):
    """Weight of each run hour: the measured standing samples whose UTC hour is nearest to it."""
    import duckdb

    rows = duckdb.sql(f"SELECT hour(timestamp_start) + minute(timestamp_start) / 60.0 AS h FROM "
                      f"read_csv_auto('{OSNABRUECK}') WHERE average_speed = 0").fetchall()
    h = np.array([r[0] for r in rows])
    near = np.argmin(np.abs(h[:, None] - np.asarray(hours)[None, :]), axis=1)
    return np.bincount(near, minlength=len(hours)) / h.size


def weighted_quantiles(values_by_hour, weights, q):
    """Quantiles of the union of per-hour samples, each hour weighted by *weights* (summing to 1)."""
    vals, w = [], []
    for x, wt in zip(values_by_hour, weights):
        x = np.asarray(x, dtype=float)
        x = x[np.isfinite(x)]
        if x.size and wt > 0:
            vals.append(x)
            w.append(np.full(x.size, wt / x.size))
    if not vals:
        return np.full(len(q), np.nan)
    v, w = np.concatenate(vals), np.concatenate(w)
    order = np.argsort(v)
    cum = np.cumsum(w[order]) / w.sum()
    return np.interp(q, cum - 0.5 * w[order] / w.sum(), v[order])


def sites_for_countries(calib, per_country, seed):
    from leonet.capacity.speedtest import BackgroundLoad

    bg = BackgroundLoad()
    to2 = iso3_to_iso2()
    sites, owner = [], []
    for k, row in enumerate(calib):
        lat, lon = sample_subscribers(row["iso3"], to2[row["iso3"]], per_country, seed + k, bg)
        sites += list(zip(lat.tolist(), lon.tolist()))
        owner += [row["iso3"]] * len(lat)
    return sites, np.array(owner)


def sites_near_osnabrueck(n, seed):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        r, a = 5.0 * np.sqrt(rng.random()), 2 * np.pi * rng.random()
        out.append((OSNABRUECK_LATLON[0] + r * np.cos(a) / 111.2,
                    OSNABRUECK_LATLON[1] + r * np.sin(a) / (111.2 * np.cos(np.radians(OSNABRUECK_LATLON[0])))))
    return out


def country_table(calib, owner, runs):
    """Print the per-country comparison; return the simulated/measured median ratios (down, up)."""
    print("| country | down w20 / p50 / b20 | sim p20 / p50 / p80 | sim/meas | up w20 / p50 / b20 | "
          "sim p20 / p50 / p80 | sim/meas | laser hops |")
    print("|---|---|---|---|---|---|---|---|")
    frames = list(runs.values())
    ratio_d, ratio_u = [], []
    for row in calib:
        idx = np.flatnonzero(owner == row["iso3"])
        sel = [f[f["terminal"].isin(idx)] for f in frames]
        d = quantiles(np.concatenate([f["speedtest_down_mbps"].to_numpy() for f in sel]))
        u = quantiles(np.concatenate([f["speedtest_up_mbps"].to_numpy() for f in sel]))
        hops = np.concatenate([f["isl_hops"].to_numpy() for f in sel])
        rd, ru = d[1] / row["download_p50_mbps"], u[1] / row["upload_p50_mbps"]
        ratio_d.append(rd)
        ratio_u.append(ru)
        print(f"| {row['iso3']} | {row['download_worst20_mbps']:.0f} / {row['download_p50_mbps']:.0f} / "
              f"{row['download_best20_mbps']:.0f} | {d[0]:.0f} / {d[1]:.0f} / {d[2]:.0f} | {rd:.2f} | "
              f"{row['upload_worst20_mbps']:.1f} / {row['upload_p50_mbps']:.1f} / {row['upload_best20_mbps']:.1f} | "
              f"{u[0]:.1f} / {u[1]:.1f} / {u[2]:.1f} | {ru:.2f} | {np.median(hops) if hops.size else np.nan:.0f} |")
    return np.array(ratio_d), np.array(ratio_u)


def osnabrueck_table(runs, weights, label_runs):
    """Print Osnabrück's measured and simulated quantiles; return the simulated medians (down, up) of the first run set."""
    qd, qu, n = osnabrueck_measured()
    q5 = (0.05, 0.2, 0.5, 0.8, 0.95)
    print("| Mbit/s | p5 | p20 | p50 | p80 | p95 |")
    print("|---|---|---|---|---|---|")
    rows = [(f"download measured ({n} s, standing)", qd)]
    sims = []
    for label, rs in label_runs:
        frames = [runs[label][h] for h in rs]
        d = weighted_quantiles([f["speedtest_down_mbps"] for f in frames], weights, q5)
        u = weighted_quantiles([f["speedtest_up_mbps"] for f in frames], weights, q5)
        sims.append((label, d, u))
    rows += [(f"download leonet, {label}", d) for label, d, _ in sims]
    rows.append(("upload measured", qu))
    rows += [(f"upload leonet, {label}", u) for label, _, u in sims]
    for name, v in rows:
        print(f"| {name} | " + " | ".join(f"{x:.1f}" for x in v) + " |")
    _, d, u = sims[0]
    return d[2], u[2], qd[2], qu[2]


def main(argv=None):
    global CALIBRATION
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-country", type=int, default=8)
    ap.add_argument("--osnabrueck", type=int, default=6, help="terminals within 5 km of Osnabrück")
    ap.add_argument("--duration-s", type=int, default=300)
    ap.add_argument("--step-s", type=int, default=30)
    ap.add_argument("--date", default="2026-05-30", help="UTC date of the runs (the element sets' epoch)")
    ap.add_argument("--hours", default="0,3,6,9,12,15,18,21", help="UTC hours of the country runs")
    ap.add_argument("--osn-hours", default="6,9,12,15,18", help="UTC hours of the Osnabrück runs")
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--skip-2024", action="store_true", help="no Osnabrück run on the 2024 network")
    ap.add_argument("--skip-countries", action="store_true", help="Osnabrück only")
    ap.add_argument("--policy", default="min-latency",
                    help="serving-satellite policy of the runs (leonet.scheduling.assign.POLICIES): the speed tests "
                         "depend on it through the serving satellite's elevation")
    ap.add_argument("--slack-ms", type=float, default=0.0,
                    help="[network] scheduler_slack_ms of the runs (min-latency only; docs/design.md, "
                         "\"Scheduler slack\")")
    ap.add_argument("--published", type=Path,
                    help="another file of Starlink's per-country figures, same columns (default: the 2025-12 one)")
    args = ap.parse_args(argv)
    if args.published:
        if not args.published.is_file():
            raise SystemExit(f"--published {args.published}: no such file (a CSV with the columns of {CALIBRATION.name})")
        CALIBRATION = args.published
    hours = [float(h) for h in args.hours.split(",")]
    osn_hours = [float(h) for h in args.osn_hours.split(",")]

    t0 = time.perf_counter()
    calib = read_calibration()
    sites, owner = ([], np.array([])) if args.skip_countries else sites_for_countries(calib, args.per_country,
                                                                                       args.seed)
    osn = sites_near_osnabrueck(args.osnabrueck, args.seed)
    print(f"{len(sites)} terminals in {len(calib)} countries, {len(osn)} at Osnabrück", file=sys.stderr)
    runs = {}
    with tempfile.TemporaryDirectory(prefix="leonet-speedtest-") as tmp:
        if sites:
            runs["countries"] = run_speedtests(sites, args.date, hours, args.duration_s, args.step_s, tmp,
                                               name="countries", policy=args.policy, slack_ms=args.slack_ms)
        runs["osn-2026"] = run_speedtests(osn, args.date, osn_hours, args.duration_s, args.step_s, tmp, dish="fhp",
                                          name="osn-2026", policy=args.policy, slack_ms=args.slack_ms)
        if not args.skip_2024:
            tle = Path(tmp) / "starlink_launched_by_2023.tle"
            n_old = fleet_before(23, tle)
            runs["osn-2024"] = run_speedtests(osn, args.date, osn_hours, args.duration_s, args.step_s, tmp,
                                              dish="fhp", as_of=OSNABRUECK_AS_OF, tle_file=tle, name="osn-2024",
                                              policy=args.policy, slack_ms=args.slack_ms)
    t_run = time.perf_counter() - t0

    if sites:
        print(f"# leonet speed tests vs measurements ({len(sites)} terminals, {args.duration_s} s at {args.step_s} s "
              f"steps from {args.date} at {len(hours)} UTC hours)\n")
        print("## Per country: Starlink's published download / upload (2025-12) vs leonet (2026-05 fleet)\n")
        ratio_d, ratio_u = country_table(calib, owner, runs["countries"])
        within_d, within_u = np.abs(ratio_d - 1) <= 0.25, np.abs(ratio_u - 1) <= 0.25
        print()
        print(f"**Countries within 25 % of Starlink's median: download {within_d.mean():.0%} ({within_d.sum()}/"
              f"{within_d.size}), upload {within_u.mean():.0%} ({within_u.sum()}/{within_u.size})** "
              f"(acceptance: download >= 60 %).")
        for name, r in (("download", ratio_d), ("upload", ratio_u)):
            print(f"- {name} sim/measured median: median {np.median(r):.2f}, p10 {np.quantile(r, 0.1):.2f}, "
                  f"p90 {np.quantile(r, 0.9):.2f}")

    print("\n## Osnabrück, standing Flat High Performance dish, January-March 2024\n")
    weights = osnabrueck_hours(osn_hours)
    print("UTC hours " + ", ".join(f"{h:g} ({w:.0%})" for h, w in zip(osn_hours, weights)) + " (measured samples).\n")
    label_runs = ([("osn-2024", osn_hours)] if "osn-2024" in runs else []) + [("osn-2026", osn_hours)]
    names = {"osn-2024": "fleet launched by 2023, network of 2024-02", "osn-2026": "2026 fleet and network"}
    sd, su, md, mu = osnabrueck_table({names[k]: v for k, v in runs.items() if k in names}, weights,
                                      [(names[k], h) for k, h in label_runs])
    print(f"\n**Osnabrück medians ({names[label_runs[0][0]]}): download {sd:.0f} vs {md:.0f} measured "
          f"({sd / md:.2f} x), upload {su:.1f} vs {mu:.1f} ({su / mu:.2f} x)** (acceptance: within 25 %).")
    if "osn-2024" in runs:
        print(f"The 2024 fleet: {n_old} satellites of the 2026 snapshot launched by 2023.")
    slack = f", slack {args.slack_ms:g} ms" if args.slack_ms else ""
    print(f"\n(serving-satellite policy {args.policy}{slack}; runs {t_run:.0f} s)")


if __name__ == "__main__":
    main()
