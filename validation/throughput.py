"""What a speed test would measure: leonet's model against Starlink's published speeds and a dish in Osnabrück.

Run: ``PYTHONPATH=src python validation/throughput.py [--per-country 8] [--duration-s 300] [--step-s 30]``
(a few minutes on one core).  Writes only inside a temporary directory;
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


def scenario_toml(sites, start_utc, duration_s, step_s, tle_file=None):
    from leonet.ground.sites import data_path

    gateways = data_path("gateways", "starlink_gateways_starperf_2024-01.csv")
    if tle_file is None:
        constellation = 'kind = "builtin"\nbuiltin = "starlink-tle-2026-05"'
    else:
        constellation = f'kind = "elements"\nname = "starlink-launched-by-2023"\nfile = "{tle_file}"'
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
{constellation}
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


def geometry(sites, start_utc, duration_s, step_s, tmp, tle_file=None):
    """One leonet run: per step the serving satellite, gateway, slant range, laser hops; satellite positions."""
    from leonet.engine.run import run_scenario
    from leonet.results.query import query
    from leonet.scenario.load import load_scenario
    from leonet.orbits.propagate import propagate
    from leonet.scenario.load import build_constellation, build_time_grid

    tag = "old" if tle_file else "now"
    path = Path(tmp) / f"scenario-{tag}.toml"
    path.write_text(scenario_toml(sites, start_utc, duration_s, step_s, tle_file))
    loaded = load_scenario(path)
    result = run_scenario(loaded, Path(tmp) / f"run-{tag}")
    cols = query(result.path, "SELECT t_ns, terminal, sat, gateway, uplink_ms, isl_hops, served FROM terminal_steps "
                              "ORDER BY t_ns, terminal").to_pydict()
    con = build_constellation(loaded)
    grid = build_time_grid(loaded)
    g = len(sites)
    offsets = np.unique(np.array(cols["t_ns"]))
    n_t = offsets.size
    out = {k: np.array(cols[k]).reshape(n_t, g) for k in ("sat", "gateway", "isl_hops", "served")}
    out["range_km"] = np.array(cols["uplink_ms"], dtype=float).reshape(n_t, g) * 1e-3 * C_KM_S
    pos = propagate(con.satrec_array, grid).r_ecef_km
    index = {int(o): i for i, o in enumerate(grid.offset_ns.tolist())}
    out["r_ecef_km"] = np.stack([pos[index[int(o)]] for o in offsets])
    out["names"] = list(con.names)
    return out


def speedtests(geo, lat, lon, dish, bg, *, peak_down_bps, uplink_se, zenith_margin_db):
    """Speed tests down and up of every terminal, step and evaluation hour: arrays [H, T, G] in bit/s."""
    from leonet.capacity.allocate import CapacityModel, gateway_capacity_bps
    from leonet.capacity.cells import ServiceCells
    from leonet.capacity.params import BEAM_CAPACITY_BPS, GENERATIONS, ISL_CAPACITY_BPS
    from leonet.capacity.speedtest import (
        dish_uplink_peak_bps,
        link_factor,
        satellite_generations,
        speedtest_step,
        uplink_model,
    )
    from leonet.capacity.speedtest_params import (
        ACTIVE_FLOW_DOWN_BPS,
        ACTIVE_FLOW_UP_BPS,
        DISHES,
    )
    from leonet.ground.sites import load_gateways
    from leonet.orbits.frames import ecef_to_geodetic

    gws = load_gateways()
    gen = np.array(satellite_generations(geo["names"]))
    down_model = CapacityModel(
        satellite_capacity_bps=np.array([GENERATIONS[x].satellite_capacity_bps for x in gen]),
        beams_per_satellite=np.array([GENERATIONS[x].beams_per_satellite for x in gen]),
        beam_capacity_bps=np.full(gen.size, BEAM_CAPACITY_BPS),
        gateway_capacity_bps=gateway_capacity_bps(gws.antenna_count, list(gws.band)),
        isl_capacity_bps=ISL_CAPACITY_BPS,
    )
    up_model = uplink_model(down_model)
    cells = ServiceCells.from_coordinates(lat, lon)
    subs = bg.cell_subscribers(cells.cell_id)
    _, cell_lon = cells.centres_deg()
    gain_d = np.array([DISHES[d].gain_offset_db for d in dish])
    gain_u = np.array([DISHES[d].uplink_gain_offset_db for d in dish])
    peak_d = np.full(len(dish), peak_down_bps)
    n_t, g = geo["sat"].shape
    shape = (EVAL_UTC_HOURS.size, n_t, g)
    res = {k: np.full(shape, np.nan) for k in ("down", "up")}
    res.update({k: np.zeros(shape, np.int8) for k in ("neck_down", "neck_up")})
    util = []
    ratio_up = bg.mean_up_bps / bg.mean_down_bps
    for i in range(n_t):
        r = geo["r_ecef_km"][i]
        s_i, gw_i = geo["sat"][i], geo["gateway"][i]
        ok = geo["served"][i] & (s_i >= 0) & (gw_i >= 0)
        s_use, g_use = np.where(ok, s_i, -1), np.where(ok, gw_i, -1)
        _, _, alt = ecef_to_geodetic(r[np.maximum(s_i, 0)])
        rng = np.where(ok, geo["range_km"][i], alt)
        q_d = link_factor(rng, alt, gain_offset_db=gain_d, zenith_margin_db=zenith_margin_db)
        # Uplink: the beam carries its channel at the top modulation (many dishes at once); one
        # dish is power limited (its peak falls as 1 / range^2).
        peak_u = dish_uplink_peak_bps(rng, alt, gain_offset_db=gain_u, zenith_efficiency_bps_per_hz=uplink_se)
        for h, hour in enumerate(EVAL_UTC_HOURS):
            # Up- and downlink satellite capacities scale alike, so the shares do too.
            cache = bg.__dict__.setdefault("_validation_sat_load", {})
            key = (id(geo), i, h)
            if key not in cache:
                cache[key] = bg.satellite_load_bps(r, down_model.satellite_capacity_bps, hour, "down")
            sat_bg_d = cache[key]
            rd = speedtest_step(down_model, cells.terminal_cell, s_use, g_use, 0.0, dish_peak_bps=peak_d,
                                link_quality=q_d, cell_background_bps=bg.cell_load_bps(subs, cell_lon, hour, "down"),
                                satellite_background_bps=sat_bg_d, background_flow_bps=ACTIVE_FLOW_DOWN_BPS,
                                n_cells=cells.n_cells)
            ru = speedtest_step(up_model, cells.terminal_cell, s_use, g_use, 0.0, dish_peak_bps=peak_u,
                                link_quality=1.0, cell_background_bps=bg.cell_load_bps(subs, cell_lon, hour, "up"),
                                satellite_background_bps=sat_bg_d * ratio_up, background_flow_bps=ACTIVE_FLOW_UP_BPS,
                                n_cells=cells.n_cells)
            res["down"][h, i] = np.where(ok, rd.speedtest_bps, np.nan)
            res["up"][h, i] = np.where(ok, ru.speedtest_bps, np.nan)
            res["neck_down"][h, i] = rd.bottleneck
            res["neck_up"][h, i] = ru.bottleneck
            used = np.unique(s_use[s_use >= 0])
            util.append(sat_bg_d[used] / down_model.satellite_capacity_bps[used])
    res["sat_util"] = np.concatenate(util) if util else np.zeros(0)
    res["cell_subs"] = subs[cells.terminal_cell]
    res["v2_share"] = float(np.mean(gen == "v2-mini"))
    return res


def limits(neck):
    from leonet.capacity.speedtest import BOTTLENECK_NAMES

    nk = neck[neck > 0]
    return ", ".join(f"{BOTTLENECK_NAMES[k]} {np.mean(nk == k):.0%}" for k in np.unique(nk)) if nk.size else "-"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-country", type=int, default=8)
    ap.add_argument("--osnabrueck", type=int, default=6, help="terminals within 5 km of Osnabrück")
    ap.add_argument("--duration-s", type=int, default=300)
    ap.add_argument("--step-s", type=int, default=30)
    ap.add_argument("--start-utc", default="2026-05-30T12:00:00Z")
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--peak-down-mbps", type=float, default=None, help="override the Standard dish's downlink peak")
    ap.add_argument("--uplink-se", type=float, default=None, help="override the dish's uplink spectral efficiency")
    ap.add_argument("--zenith-margin-db", type=float, default=None, help="override the downlink zenith margin")
    ap.add_argument("--sell-out", type=float, default=None, help="override the sell-out utilisation")
    ap.add_argument("--skip-2024", action="store_true", help="no second run for Osnabrück's 2024 fleet")
    args = ap.parse_args(argv)

    from leonet.capacity import speedtest_params as sp
    from leonet.capacity.speedtest import BackgroundLoad

    peak_down = sp.DISHES["standard"].peak_down_bps if args.peak_down_mbps is None else args.peak_down_mbps * 1e6
    uplink_se = sp.UPLINK_SPECTRAL_EFFICIENCY_BPS_PER_HZ if args.uplink_se is None else args.uplink_se
    sell_out = sp.SELL_OUT_UTILISATION if args.sell_out is None else args.sell_out
    margin = sp.ZENITH_LINK_MARGIN_DB if args.zenith_margin_db is None else args.zenith_margin_db

    t0 = time.perf_counter()
    calib = read_calibration()
    to2 = iso3_to_iso2()
    bg = BackgroundLoad(sell_out_utilisation=sell_out, zenith_margin_db=margin)
    sites, owner = [], []
    for k, row in enumerate(calib):
        lat, lon = sample_subscribers(row["iso3"], to2[row["iso3"]], args.per_country, args.seed + k, bg)
        sites += list(zip(lat.tolist(), lon.tolist()))
        owner += [row["iso3"]] * len(lat)
    rng = np.random.default_rng(args.seed)
    osn = []
    for _ in range(args.osnabrueck):
        r, a = 5.0 * np.sqrt(rng.random()), 2 * np.pi * rng.random()
        osn.append((OSNABRUECK_LATLON[0] + r * np.cos(a) / 111.2,
                    OSNABRUECK_LATLON[1] + r * np.sin(a) / (111.2 * np.cos(np.radians(OSNABRUECK_LATLON[0])))))
    sites += osn
    owner += ["OSN"] * len(osn)
    owner = np.array(owner)
    lat = np.array([s[0] for s in sites])
    lon = np.array([s[1] for s in sites])
    dish = np.where(owner == "OSN", "fhp", "standard")
    print(f"{len(sites)} terminals; peak down {peak_down / 1e6:.0f} Mbit/s, margin {margin} dB, uplink "
          f"{uplink_se} bit/s/Hz, sell-out {sell_out}", file=sys.stderr)

    with tempfile.TemporaryDirectory(prefix="leonet-speedtest-") as tmp:
        geo = geometry(sites, args.start_utc, args.duration_s, args.step_s, tmp)
        old_geo = None
        if not args.skip_2024:
            n_old = fleet_before(23, Path(tmp) / "starlink_launched_by_2023.tle")
            old_geo = geometry(osn, args.start_utc, args.duration_s, args.step_s, tmp,
                               tle_file=Path(tmp) / "starlink_launched_by_2023.tle")
    t_run = time.perf_counter() - t0
    print(f"runs done in {t_run:.0f} s", file=sys.stderr)
    res = speedtests(geo, lat, lon, dish, bg, peak_down_bps=peak_down, uplink_se=uplink_se, zenith_margin_db=margin)
    old = None
    if old_geo is not None:
        bg_old = BackgroundLoad(subscribers=sp.SUBSCRIBERS_2024_01, mean_down_bps=sp.MEAN_DOWN_BPS_PER_SUBSCRIBER_2024_01,
                                mean_up_bps=sp.MEAN_UP_BPS_PER_SUBSCRIBER_2024_01, sell_out_utilisation=sell_out,
                                zenith_margin_db=margin)
        m = owner == "OSN"
        old = speedtests(old_geo, lat[m], lon[m], dish[m], bg_old, peak_down_bps=peak_down, uplink_se=uplink_se,
                         zenith_margin_db=margin)
    t_model = time.perf_counter() - t0 - t_run
    print(f"speed tests done in {t_model:.0f} s", file=sys.stderr)

    def mbps(arr, mask):
        x = arr[:, :, mask].ravel() / 1e6
        return x[np.isfinite(x)]

    print(f"# leonet speed tests vs measurements ({len(sites)} terminals, {args.duration_s} s at {args.step_s} s "
          f"steps from {args.start_utc}, 8 UTC hours)\n")
    print(f"Parameters: Standard dish downlink peak {peak_down / 1e6:.0f} Mbit/s, zenith margin {margin} dB, "
          f"dish uplink {uplink_se} bit/s/Hz "
          f"(peak {sp.UPLINK_CHANNEL_HZ * uplink_se / 1e6:.1f} Mbit/s), sell-out utilisation {sell_out}, "
          f"{bg.subscribers / 1e6:.1f} M subscribers = {bg.subscribers_per_person * 1e3:.2f} per 1,000 people "
          f"served, cell cap {bg.cell_cap:.0f} subscribers; fleet {res['v2_share']:.0%} V2 mini.\n")
    print("## Per country: Starlink's published download / upload (2025-12) vs leonet\n")
    print("| country | lat | subs/cell | laser hops | down w20 / p50 / b20 | sim p20 / p50 / p80 | sim/meas | "
          "up w20 / p50 / b20 | sim p20 / p50 / p80 | sim/meas | down limited by |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    stats = []
    for row in calib:
        who = row["iso3"]
        m = owner == who
        d, u = quantiles(mbps(res["down"], m)), quantiles(mbps(res["up"], m))
        hops = geo["isl_hops"][:, m]
        hops = hops[hops >= 0]
        st = {"iso3": who, "lat": float(np.median(lat[m])), "hops": float(np.median(hops)) if hops.size else np.nan,
              "d": d, "u": u, "md": row["download_p50_mbps"], "mu": row["upload_p50_mbps"],
              "wd": row["download_worst20_mbps"], "bd": row["download_best20_mbps"],
              "wu": row["upload_worst20_mbps"], "bu": row["upload_best20_mbps"]}
        stats.append(st)
        print(f"| {who} | {st['lat']:.0f} | {np.median(res['cell_subs'][m]):.0f} | {st['hops']:.0f} | "
              f"{st['wd']:.0f} / {st['md']:.0f} / {st['bd']:.0f} | {d[0]:.0f} / {d[1]:.0f} / {d[2]:.0f} | "
              f"{d[1] / st['md']:.2f} | {st['wu']:.1f} / {st['mu']:.1f} / {st['bu']:.1f} | "
              f"{u[0]:.1f} / {u[1]:.1f} / {u[2]:.1f} | {u[1] / st['mu']:.2f} | {limits(res['neck_down'][:, :, m])} |")
    ratio_d = np.array([s["d"][1] / s["md"] for s in stats])
    ratio_u = np.array([s["u"][1] / s["mu"] for s in stats])
    within_d, within_u = np.abs(ratio_d - 1) <= 0.25, np.abs(ratio_u - 1) <= 0.25
    print()
    print(f"**Countries within 25 % of Starlink's median: download {within_d.mean():.0%} ({within_d.sum()}/"
          f"{within_d.size}), upload {within_u.mean():.0%} ({within_u.sum()}/{within_u.size})** "
          f"(acceptance: download >= 60 %).")
    for name, key_sim, key_meas, col in (("download", "d", "md", 1), ("upload", "u", "mu", 1)):
        r = np.array([s[key_sim][col] / s[key_meas] for s in stats])
        print(f"- {name} sim/measured median: median {np.median(r):.2f}, p10 {np.quantile(r, 0.1):.2f}, "
              f"p90 {np.quantile(r, 0.9):.2f}")
    fit = {
        "download best-20 % / sim p80": np.median([s["bd"] / s["d"][2] for s in stats]),
        "download worst-20 % / sim p20": np.median([s["wd"] / s["d"][0] for s in stats]),
        "upload best-20 % / sim p80": np.median([s["bu"] / s["u"][2] for s in stats]),
        "upload worst-20 % / sim p20": np.median([s["wu"] / s["u"][0] for s in stats]),
    }
    print("- calibration targets (median over countries; 1.00 = fitted): "
          + "; ".join(f"{k} {v:.2f}" for k, v in fit.items()))
    lat_c = np.abs([s["lat"] for s in stats])
    md = np.array([s["md"] for s in stats])
    sd = np.array([s["d"][1] for s in stats])
    hops = np.array([s["hops"] for s in stats])
    ok = np.isfinite(hops)
    print(f"- correlations over countries: |latitude| vs measured median {np.corrcoef(lat_c, md)[0, 1]:.2f}, "
          f"vs simulated {np.corrcoef(lat_c, sd)[0, 1]:.2f}; measured vs simulated {np.corrcoef(md, sd)[0, 1]:.2f}; "
          f"laser hops vs measured {np.corrcoef(hops[ok], md[ok])[0, 1]:.2f}, vs sim/measured "
          f"{np.corrcoef(hops[ok], (sd / md)[ok])[0, 1]:.2f}")
    su = res["sat_util"]
    print(f"- background utilisation of serving satellites (downlink, all hours): p50 {np.median(su):.2f}, "
          f"p90 {np.quantile(su, 0.9):.2f}, max {su.max():.2f}")
    m = owner != "OSN"
    print(f"- what limits the download speed tests: {limits(res['neck_down'][:, :, m])}; "
          f"upload: {limits(res['neck_up'][:, :, m])}")

    print("\n## Osnabrück, standing Flat High Performance dish, January-March 2024\n")
    qd, qu, n = osnabrueck_measured()
    q5 = (0.05, 0.2, 0.5, 0.8, 0.95)
    print("| Mbit/s | p5 | p20 | p50 | p80 | p95 |")
    print("|---|---|---|---|---|---|")
    rows = [(f"download measured ({n} s)", qd)]
    m = owner == "OSN"
    if old is not None:
        rows.append(("download leonet, fleet launched by 2023, 2.3 M subscribers", quantiles(mbps(old["down"], slice(None)), q5)))
    rows.append(("download leonet, 2026 fleet, 8 M subscribers", quantiles(mbps(res["down"], m), q5)))
    rows.append(("upload measured", qu))
    if old is not None:
        rows.append(("upload leonet, fleet launched by 2023, 2.3 M subscribers", quantiles(mbps(old["up"], slice(None)), q5)))
    rows.append(("upload leonet, 2026 fleet, 8 M subscribers", quantiles(mbps(res["up"], m), q5)))
    for name, v in rows:
        print(f"| {name} | " + " | ".join(f"{x:.1f}" for x in v) + " |")
    ref = old if old is not None else {k: res[k][:, :, m] for k in ("down", "up", "neck_down", "neck_up")}
    sdm = np.median(mbps(ref["down"], slice(None)))
    sum_ = np.median(mbps(ref["up"], slice(None)))
    subs_old = "" if old is None else f", {np.median(old['cell_subs']):.0f} (2024-01)"
    print(f"\n**Osnabrück medians ({'fleet launched by 2023' if old is not None else '2026 fleet'}): download "
          f"{sdm:.0f} vs {qd[2]:.0f} measured ({sdm / qd[2]:.2f} x), upload {sum_:.1f} vs {qu[2]:.1f} "
          f"({sum_ / qu[2]:.2f} x)** (acceptance: within 25 %).  Background subscribers in its cells: "
          f"{np.median(res['cell_subs'][m]):.0f} (2025-12){subs_old}; "
          f"limited by (down) {limits(ref['neck_down'])}, (up) {limits(ref['neck_up'])}.")
    if old is not None:
        print(f"The 2024 fleet: {n_old} satellites of the 2026 snapshot launched by 2023 ({old['v2_share']:.0%} V2 mini).")
    print(f"\n(runs {t_run:.0f} s, speed tests {t_model:.0f} s)")


if __name__ == "__main__":
    main()
