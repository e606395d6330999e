"""What a speed test would measure: leonet's model against Starlink's published speeds and a dish in Osnabrück.

Run: ``PYTHONPATH=src python validation/throughput.py [--per-country 8] [--duration-s 300] [--step-s 30]``
(a few minutes on one core).  Writes only inside a temporary directory;
prints Markdown tables.

What it does
------------
1. Terminals: ``--per-country`` population-weighted points in each of the
   96 countries of the calibration file
   (``starlink_published_country_metrics_2025-12_calibration.csv``; territories
   the shipped borders do not hold -- Réunion, Guadeloupe, ... -- are sampled
   from their GeoNames places), and a few points within 5 km of Osnabrück
   (52.28 N, 8.05 E; a Flat High Performance dish, [Laniewski24]).
2. Geometry: one short leonet run (real 2026-05 Starlink snapshot, every
   shipped gateway and PoP, lasers, capacity on so that cells get beams):
   serving satellite, gateway and slant range of every terminal-step.
3. Speed tests: per step, `leonet.capacity.speedtest.speedtest_step` down and
   up, with the run's satellites classed V1.5 / V2 mini by name, the
   background load of `BackgroundLoad` (population, subscribers, daily
   profile) evaluated at 8 UTC hours (0, 3, ..., 21) so that every terminal
   is tested across its local day (the geometry of a few minutes stands for
   any time of day: the constellation's statistics at a place do not depend
   on the hour).  Laser paths are not in the run's tables, so lasers are not
   capacity resources here (100 Gbit/s each; never the bottleneck of a
   single speed test in the step model's tests).
4. Tables: per country, Starlink's published worst-20 % / median / best-20 %
   and the simulated 20 / 50 / 80 % quantiles (all terminal-step-hours of
   the country), down and up; the share of countries within 25 % of the
   published median; Osnabrück's standing-dish measurements against the
   model; what limits the speed tests.

Measured data: /work/shared/data/measurements (see SOURCES.md there).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

MEASUREMENTS = Path(os.environ.get("LEONET_MEASUREMENTS", "/work/shared/data/measurements"))
CALIBRATION = MEASUREMENTS / "starlink_published_country_metrics_2025-12_calibration.csv"
OSNABRUECK = MEASUREMENTS / "osnabrueck_road_iperf_2024-01.csv"
OSNABRUECK_LATLON = (52.28, 8.05)
C_KM_S = 299792.458
EVAL_UTC_HOURS = np.arange(0, 24, 3, dtype=float)


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


def sample_country(iso3, iso2, n, seed):
    from leonet.ground.regions import load_region, sample_points
    from leonet.ground.sites import load_cities

    try:
        region = load_region(f"country:{iso3}")
        if iso3 in ("GLP", "GUF", "MTQ", "REU", "MYT", "CCK", "CXR"):
            raise LookupError  # that would be France / Australia
        return sample_points(region, n, seed=seed)
    except Exception:
        rng = np.random.default_rng(seed)
        try:
            cities = load_cities(country_iso2=iso2)
        except Exception:
            cities = None
        if cities is not None and len(cities):
            w = cities.population.astype(float)
            pick = rng.choice(len(cities), size=n, p=w / w.sum())
            return cities.lat_deg[pick], cities.lon_deg[pick]
        # Scattered islands (U.S. Minor Outlying Islands): a point on each part, by area.
        import shapely

        parts = shapely.get_parts(load_region(f"country:{iso3}").geometry)
        w = shapely.area(parts)
        pick = rng.choice(len(parts), size=n, p=w / w.sum())
        pts = [parts[k].representative_point() for k in pick]
        return np.array([p.y for p in pts]), np.array([p.x for p in pts])


def scenario_toml(sites, start_utc, duration_s, step_s):
    from leonet.ground.sites import data_path

    gateways = data_path("gateways", "starlink_gateways_starperf_2024-01.csv")
    items = ", ".join(f'{{name = "t{i}", lat_deg = {a:.5f}, lon_deg = {b:.5f}}}' for i, (a, b) in enumerate(sites))
    return f"""\
[scenario]
name = "speedtest-validation"
seed = 1
[time]
start_utc = "{start_utc}"
duration_s = {duration_s}
step_s = {step_s}
[[constellations]]
kind = "builtin"
builtin = "starlink-tle-2026-05"
[ground.terminals]
[[ground.terminals.sources]]
kind = "coordinates"
sites = [{items}]
[ground.gateways]
file = "{gateways}"
[ground.pops]
[network]
isl = "plus-grid"
slot_s = 15
policy = "min-latency"
[capacity]
generation = "v1.5"
[output]
chunk_steps = 1000
"""


def quantiles(x, q=(0.2, 0.5, 0.8)):
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    return np.quantile(x, q) if x.size else np.full(len(q), np.nan)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-country", type=int, default=8)
    ap.add_argument("--osnabrueck", type=int, default=4, help="terminals around Osnabrück")
    ap.add_argument("--duration-s", type=int, default=300)
    ap.add_argument("--step-s", type=int, default=30)
    ap.add_argument("--start-utc", default="2026-05-30T12:00:00Z")
    ap.add_argument("--seed", type=int, default=2025)
    args = ap.parse_args(argv)

    from leonet.api import load_scenario, query, run_scenario
    from leonet.capacity.allocate import CapacityModel, gateway_capacity_bps
    from leonet.capacity.cells import ServiceCells
    from leonet.capacity.params import BEAM_CAPACITY_BPS, GENERATIONS, ISL_CAPACITY_BPS
    from leonet.capacity.speedtest import (
        BOTTLENECK_NAMES,
        BackgroundLoad,
        link_factor,
        satellite_generations,
        speedtest_step,
        uplink_model,
    )
    from leonet.capacity.speedtest_params import ACTIVE_FLOW_DOWN_BPS, ACTIVE_FLOW_UP_BPS, DISHES
    from leonet.ground.sites import load_gateways
    from leonet.orbits.frames import ecef_to_geodetic
    from leonet.orbits.propagate import propagate
    from leonet.scenario.load import build_constellation, build_time_grid

    t0 = time.perf_counter()
    calib = read_calibration()
    to2 = iso3_to_iso2()
    sites, owner = [], []
    for k, row in enumerate(calib):
        lat, lon = sample_country(row["iso3"], to2[row["iso3"]], args.per_country, args.seed + k)
        sites += list(zip(lat.tolist(), lon.tolist()))
        owner += [row["iso3"]] * len(lat)
    rng = np.random.default_rng(args.seed)
    for _ in range(args.osnabrueck):
        r, a = 5.0 * np.sqrt(rng.random()), 2 * np.pi * rng.random()
        sites.append((OSNABRUECK_LATLON[0] + r * np.cos(a) / 111.2,
                      OSNABRUECK_LATLON[1] + r * np.sin(a) / (111.2 * np.cos(np.radians(52.28)))))
        owner.append("OSN")
    owner = np.array(owner)
    g = len(sites)
    print(f"# Speed-test validation ({g} terminals, {args.duration_s} s at {args.step_s} s steps)\n", file=sys.stderr)

    with tempfile.TemporaryDirectory(prefix="leonet-speedtest-") as tmp:
        path = Path(tmp) / "scenario.toml"
        path.write_text(scenario_toml(sites, args.start_utc, args.duration_s, args.step_s))
        loaded = load_scenario(path)
        result = run_scenario(loaded, Path(tmp) / "run")
        steps = query(result.path, "SELECT t_ns, terminal, sat, gateway, uplink_ms, served FROM terminal_steps "
                                   "ORDER BY t_ns, terminal").to_pydict()
        con = build_constellation(loaded)
        grid = build_time_grid(loaded)
        gws = load_gateways()
    t_run = time.perf_counter() - t0
    print(f"run done in {t_run:.0f} s", file=sys.stderr)

    t_ns = np.array(steps["t_ns"])
    term = np.array(steps["terminal"])
    sat = np.array(steps["sat"])
    gw = np.array(steps["gateway"])
    up_ms = np.array(steps["uplink_ms"], dtype=float)
    served = np.array(steps["served"])
    offsets = np.unique(t_ns)
    n_t = offsets.size
    assert term.size == n_t * g
    sat = sat.reshape(n_t, g)
    gw = gw.reshape(n_t, g)
    rng_km = (up_ms * 1e-3 * C_KM_S).reshape(n_t, g)
    served = served.reshape(n_t, g)

    # Fleet: capacities by generation; gateways as in the run (all shipped sites).
    gen = np.array(satellite_generations(con.names))
    sat_cap = np.array([GENERATIONS[x].satellite_capacity_bps for x in gen])
    beams = np.array([GENERATIONS[x].beams_per_satellite for x in gen])
    down_model = CapacityModel(satellite_capacity_bps=sat_cap, beams_per_satellite=beams,
                               beam_capacity_bps=np.full(gen.size, BEAM_CAPACITY_BPS),
                               gateway_capacity_bps=gateway_capacity_bps(gws.antenna_count, list(gws.band)),
                               isl_capacity_bps=ISL_CAPACITY_BPS)
    up_model = uplink_model(down_model)
    print(f"fleet: {np.mean(gen == 'v2-mini'):.1%} V2 mini of {gen.size}", file=sys.stderr)

    # Positions at the run's steps (for altitudes and the regional background).
    pos = propagate(con.satrec_array, grid)
    r_all = pos.r_ecef_km
    step_index = {int(o): i for i, o in enumerate(grid.offset_ns.tolist())}

    lat = np.array([s[0] for s in sites])
    lon = np.array([s[1] for s in sites])
    cells = ServiceCells.from_coordinates(lat, lon)
    bg = BackgroundLoad()
    cell_subs = bg.cell_subscribers(cells.cell_id)
    cell_lat, cell_lon = cells.centres_deg()
    dish = np.where(owner == "OSN", "fhp", "standard")
    gain = np.array([DISHES[d].gain_offset_db for d in dish])
    peak_down = np.array([DISHES[d].peak_down_bps for d in dish])
    peak_up = np.array([DISHES[d].peak_up_bps for d in dish])

    down = np.full((EVAL_UTC_HOURS.size, n_t, g), np.nan)
    up = np.full_like(down, np.nan)
    neck_down = np.zeros(down.shape, np.int8)
    neck_up = np.zeros(down.shape, np.int8)
    sat_util = []
    for i, off in enumerate(offsets):
        r = r_all[step_index[int(off)]]
        s_i, gw_i = sat[i], gw[i]
        ok = served[i] & (s_i >= 0) & (gw_i >= 0)
        s_use = np.where(ok, s_i, -1)
        g_use = np.where(ok, gw_i, -1)
        _, _, alt = ecef_to_geodetic(r[np.maximum(s_i, 0)])
        q = np.where(ok, link_factor(np.where(ok, rng_km[i], 1.0), alt, gain_offset_db=gain), 1.0)
        for h, hour in enumerate(EVAL_UTC_HOURS):
            sat_bg_d = bg.satellite_load_bps(r, down_model.satellite_capacity_bps, hour, "down")
            sat_bg_u = bg.satellite_load_bps(r, up_model.satellite_capacity_bps, hour, "up")
            cell_bg_d = bg.cell_load_bps(cell_subs, cell_lon, hour, "down")
            cell_bg_u = bg.cell_load_bps(cell_subs, cell_lon, hour, "up")
            rd = speedtest_step(down_model, cells.terminal_cell, s_use, g_use, 0.0, dish_peak_bps=peak_down,
                                link_quality=q, cell_background_bps=cell_bg_d, satellite_background_bps=sat_bg_d,
                                background_flow_bps=ACTIVE_FLOW_DOWN_BPS, n_cells=cells.n_cells)
            ru = speedtest_step(up_model, cells.terminal_cell, s_use, g_use, 0.0, dish_peak_bps=peak_up,
                                link_quality=q, cell_background_bps=cell_bg_u, satellite_background_bps=sat_bg_u,
                                background_flow_bps=ACTIVE_FLOW_UP_BPS, n_cells=cells.n_cells)
            down[h, i] = np.where(ok, rd.speedtest_bps, np.nan)
            up[h, i] = np.where(ok, ru.speedtest_bps, np.nan)
            neck_down[h, i] = rd.bottleneck
            neck_up[h, i] = ru.bottleneck
            used = np.unique(s_use[s_use >= 0])
            sat_util.append(sat_bg_d[used] / down_model.satellite_capacity_bps[used])
    t_model = time.perf_counter() - t0 - t_run
    print(f"speed tests done in {t_model:.0f} s", file=sys.stderr)

    # ---------------------------------------------------------------- tables
    def per_owner(arr, who):
        m = owner == who
        return arr[:, :, m].ravel() / 1e6

    print("## Per-country download / upload medians: Starlink (2025-12) vs leonet\n")
    print("| country | lat | subs/cell | down w20 / p50 / b20 | sim p20 / p50 / p80 | sim/meas | "
          "up w20 / p50 / b20 | sim p20 / p50 / p80 | sim/meas | down limited by |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    within_d, within_u, ratio_d, ratio_u, ratio_b20_d, ratio_b20_u = [], [], [], [], [], []
    for row in calib:
        who = row["iso3"]
        m = owner == who
        d = quantiles(per_owner(down, who))
        u = quantiles(per_owner(up, who))
        rd, ru = d[1] / row["download_p50_mbps"], u[1] / row["upload_p50_mbps"]
        ratio_d.append(rd)
        ratio_u.append(ru)
        ratio_b20_d.append(row["download_best20_mbps"] / d[2])
        ratio_b20_u.append(row["upload_best20_mbps"] / u[2])
        within_d.append(abs(rd - 1) <= 0.25)
        within_u.append(abs(ru - 1) <= 0.25)
        nk = neck_down[:, :, m].ravel()
        nk = nk[nk > 0]
        lim = ", ".join(f"{BOTTLENECK_NAMES[k]} {np.mean(nk == k):.0%}" for k in np.unique(nk)) if nk.size else "-"
        subs = np.median(cell_subs[cells.terminal_cell[m]])
        print(f"| {who} | {np.median(lat[m]):.0f} | {subs:.0f} | {row['download_worst20_mbps']:.0f} / "
              f"{row['download_p50_mbps']:.0f} / {row['download_best20_mbps']:.0f} | "
              f"{d[0]:.0f} / {d[1]:.0f} / {d[2]:.0f} | {rd:.2f} | {row['upload_worst20_mbps']:.1f} / "
              f"{row['upload_p50_mbps']:.1f} / {row['upload_best20_mbps']:.1f} | {u[0]:.1f} / {u[1]:.1f} / {u[2]:.1f} | "
              f"{ru:.2f} | {lim} |")
    ratio_d, ratio_u = np.array(ratio_d), np.array(ratio_u)
    print()
    print(f"Countries within 25 % of Starlink's median: download {np.mean(within_d):.0%} "
          f"({int(np.sum(within_d))}/{len(within_d)}), upload {np.mean(within_u):.0%} "
          f"({int(np.sum(within_u))}/{len(within_u)}); acceptance: download >= 60 %.")
    print(f"sim/measured median ratio over countries: download median {np.median(ratio_d):.2f} "
          f"(p10 {np.quantile(ratio_d, 0.1):.2f}, p90 {np.quantile(ratio_d, 0.9):.2f}); "
          f"upload median {np.median(ratio_u):.2f} (p10 {np.quantile(ratio_u, 0.1):.2f}, "
          f"p90 {np.quantile(ratio_u, 0.9):.2f}).")
    print(f"Calibration of the dish peaks (published best-20 % / simulated p80, median over countries): "
          f"download {np.median(ratio_b20_d):.3f}, upload {np.median(ratio_b20_u):.3f} "
          f"(1.0 = calibrated).")
    lat_c = np.array([np.median(lat[owner == r['iso3']]) for r in calib])
    meas_d = np.array([r["download_p50_mbps"] for r in calib])
    sim_d = ratio_d * meas_d
    print(f"Correlation with |latitude|: measured median {np.corrcoef(np.abs(lat_c), meas_d)[0, 1]:.2f}, "
          f"simulated {np.corrcoef(np.abs(lat_c), sim_d)[0, 1]:.2f}; measured vs simulated "
          f"{np.corrcoef(meas_d, sim_d)[0, 1]:.2f}.")
    util = np.concatenate(sat_util)
    print(f"Background utilisation of serving satellites (downlink, all hours): p50 {np.median(util):.2f}, "
          f"p90 {np.quantile(util, 0.9):.2f}, max {util.max():.2f}.")

    print("\n## Osnabrück, standing Flat High Performance dish (January-March 2024)\n")
    md, mu, n = osnabrueck_measured()
    sd = np.quantile(per_owner(down, "OSN")[np.isfinite(per_owner(down, "OSN"))], [0.05, 0.2, 0.5, 0.8, 0.95])
    su = np.quantile(per_owner(up, "OSN")[np.isfinite(per_owner(up, "OSN"))], [0.05, 0.2, 0.5, 0.8, 0.95])
    print("| Mbit/s | p5 | p20 | p50 | p80 | p95 |")
    print("|---|---|---|---|---|---|")
    print("| download measured (%d s) | %s |" % (n, " | ".join(f"{x:.0f}" for x in md)))
    print("| download leonet | %s |" % " | ".join(f"{x:.0f}" for x in sd))
    print("| upload measured | %s |" % " | ".join(f"{x:.1f}" for x in mu))
    print("| upload leonet | %s |" % " | ".join(f"{x:.1f}" for x in su))
    print(f"\nOsnabrück medians: download {sd[2] / md[2]:.2f} x measured, upload {su[2] / mu[2]:.2f} x measured "
          f"(acceptance: within 25 %).  Background subscribers in its cell(s): "
          f"{np.median(cell_subs[cells.terminal_cell[owner == 'OSN']]):.0f}.")
    nk = neck_down.ravel()
    nk = nk[nk > 0]
    print("\nWhat limits the simulated download speed tests (all terminal-step-hours): "
          + ", ".join(f"{BOTTLENECK_NAMES[k]} {np.mean(nk == k):.0%}" for k in np.unique(nk)))
    nk = neck_up.ravel()
    nk = nk[nk > 0]
    print("What limits the simulated upload speed tests: "
          + ", ".join(f"{BOTTLENECK_NAMES[k]} {np.mean(nk == k):.0%}" for k in np.unique(nk)))
    print(f"\n(run {t_run:.0f} s, speed tests {t_model:.0f} s; started {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC)")


if __name__ == "__main__":
    main()
