"""Measured vs simulated pings: Victoria (bent pipe, PoP Seattle) and the Seychelles (lasers, PoP Lagos).

Run: ``python validation/pings.py`` (about 8 minutes on 2 cores: two leonet
runs of ~2.7 h at 1 s steps, then the latency model).  Options:
``--duration-s N`` shortens the runs, ``--cache DIR`` keeps the runs'
propagation tables in DIR and reuses them, ``--fit`` refits the global
parameters (least squares, printed; copy them into
``src/leonet/latency/params.py``).

What it does
------------
1. Runs leonet itself for one terminal at each place (the shipped 2026-05-30
   TLE snapshot, the shipped 2024 gateway list, ``[ground.pops] ids`` forcing
   Seattle / Lagos, ``network.isl = "none"`` for Victoria), at the measured
   UTC time of day (the series are from 2023-09-12: distributions are
   compared, not instants).
2. Turns each run's propagation into the modelled per-step RTT
   (`leonet.latency.step_latency`) and into a 10 ms probe series
   (`leonet.latency.ping_probes`), and replays the measurement's own ping
   procedure on it (send, wait for the reply or a 5 s timeout, wait
   ~0.11 s, send again: `pingstats.sequential_ping`).
3. Prints measured vs simulated: min, p5, p50, p95, loss, the 15-s
   signature (on the replayed pings by reply time, as SOURCES.md does, and
   on the 1-s steps), the slot decomposition, and the acceptance checks.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from importlib.resources import files
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from pingstats import SERIES, fold_15s, load_series, sequential_ping, slot_decomposition, summary, table

from leonet.engine.run import run_scenario
from leonet.results.query import query
from leonet.scenario.load import load_scenario
from leonet.latency import LatencyParams, params_for_era, ping_probes, probe_times, step_latency
from leonet.scheduling.slots import unix_ns

SLOT_NS = 15 * 10**9
OFFSET_NS = 12 * 10**9
SEED = 20230912
SIM_DAY = "2026-05-30"  # the shipped TLE snapshot's day
POP_ID = {"victoria": "POP1", "seychelles": "POP14"}

#: Acceptance: relative tolerance on min/p5/p50/p95, and the loss factor.
TOLERANCE = {"victoria": 0.15, "seychelles": 0.20}
LOSS_FACTOR = 2.0


def scenario_toml(key: str, start_utc: str, duration_s: int, out_dir: Path) -> str:
    _file, name, _pop, (lat, lon), lasers = SERIES[key]
    gateways = files("leonet") / "data" / "gateways" / "starlink_gateways_starperf_2024-01.csv"
    return f"""
[scenario]
name = "validation-{key}"
seed = {SEED}
[time]
start_utc = "{start_utc}"
duration_s = {duration_s}
step_s = 1
[[constellations]]
kind = "builtin"
builtin = "starlink-tle-2026-05"
[ground.terminals]
[[ground.terminals.sources]]
kind = "coordinates"
sites = [{{name = "{name}", lat_deg = {lat}, lon_deg = {lon}}}]
[ground.gateways]
file = "{gateways}"
[ground.pops]
catalog = "starperf-2024-01"
ids = ["{POP_ID[key]}"]
terminal_pop = "nearest"    # the measured dish's PoP of 2023 (Seattle / Lagos), the run's only PoP
[network]
isl = "{'plus-grid' if lasers else 'none'}"
slot_s = 15
slot_offset_s = 12
[output]
directory = "{out_dir}"
"""


def propagation_table(key: str, start_utc: str, duration_s: int, cache: Path | None) -> dict[str, np.ndarray]:
    """The run's terminal_steps (one terminal) as numpy columns; runs leonet unless cached."""
    cached = None if cache is None else cache / f"{key}_{start_utc.replace(':', '')}_{duration_s}.parquet"
    if cached is not None and cached.exists():
        t = pq.read_table(cached)
    else:
        tmp = Path(tempfile.mkdtemp(prefix=f"leonet-validation-{key}-"))
        try:
            path = tmp / "scenario.toml"
            path.write_text(scenario_toml(key, start_utc, duration_s, tmp / "run"))
            t0 = time.time()
            result = run_scenario(load_scenario(str(path)), str(tmp / "run"))
            print(f"  leonet run {key}: {duration_s} steps in {time.time() - t0:.0f} s", file=sys.stderr)
            t = query(result.path, "SELECT * FROM terminal_steps ORDER BY t_ns")
            if cached is not None:
                cache.mkdir(parents=True, exist_ok=True)
                pq.write_table(t, cached)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    cols = {name: t.column(name).to_numpy(zero_copy_only=False) for name in t.column_names if name != "reason"}
    cols["epoch_unix_ns"] = unix_ns(_parse(start_utc))
    return cols


def _parse(text: str):
    from leonet.timebase import parse_utc

    return parse_utc(text)


def _parts_s(tab):
    ms = 1e-3
    return (
        np.asarray(tab["uplink_ms"], float) * ms,
        np.asarray(tab["isl_ms"], float) * ms,
        np.asarray(tab["feeder_ms"], float) * ms,
        np.asarray(tab["backhaul_ms"], float) * ms,
        np.nan_to_num(np.asarray(tab["isl_hops"], float), nan=0.0),
    )


def simulate_steps(params: LatencyParams, key: str, tab) -> dict[str, np.ndarray]:
    _lat, lon = SERIES[key][3]
    t = tab["epoch_unix_ns"] + np.asarray(tab["t_ns"], np.int64)
    up, isl, feed, back, hops = _parts_s(tab)
    parts = step_latency(
        params, seed=SEED, t_unix_ns=t, terminal=np.zeros(t.size, np.int64), uplink_s=up, isl_s=isl, feeder_s=feed,
        backhaul_s=back, isl_hops=hops, lon_deg=np.full(t.size, lon), slot_ns=SLOT_NS, slot_offset_ns=OFFSET_NS,
        step_ns=10**9,
    )
    return {"t_unix_ns": t, "parts": parts}


def simulate_probes(params: LatencyParams, key: str, tab, interval_ns: int, t_start_ns: int, t_end_ns: int):
    _lat, lon = SERIES[key][3]
    t = tab["epoch_unix_ns"] + np.asarray(tab["t_ns"], np.int64)
    up, isl, feed, back, hops = _parts_s(tab)
    k, tp = probe_times(t_start_ns, t_end_ns, interval_ns)
    return ping_probes(
        params, seed=SEED, terminal=0, probe_index=k, probe_t_unix_ns=tp, interval_ns=interval_ns, step_t_unix_ns=t,
        uplink_s=up, isl_s=isl, feeder_s=feed, backhaul_s=back, isl_hops=hops, lon_deg=lon, slot_ns=SLOT_NS, slot_offset_ns=OFFSET_NS,
    )


def replay(params: LatencyParams, key: str, tab, measured) -> dict[str, np.ndarray]:
    """The measurement's ping procedure on the simulated 10 ms probe series (same UTC time of day)."""
    day = unix_ns(_parse(SIM_DAY + "T00:00:00Z")) / 1e9
    first = day + np.mod(measured.send_s[0], 86400.0)
    last = day + np.mod(measured.send_s[-1], 86400.0)
    t_end = int(tab["epoch_unix_ns"] + int(tab["t_ns"][-1]))
    pings = simulate_probes(params, key, tab, 10_000_000, int(first * 1e9), min(int((last + 6) * 1e9), t_end))
    gap = float(np.nanmedian(measured.recv_s[1:] - measured.rtt_ms[1:] / 1e3 - measured.recv_s[:-1]))
    send, recv, rtt = sequential_ping(pings.t_unix_ns / 1e9, pings.rtt_s * 1e3, first, min(last, t_end / 1e9 - 6), gap)
    return {"send_s": send, "recv_s": recv, "rtt_ms": rtt}


# ----------------------------------------------------------------------
# Fit
# ----------------------------------------------------------------------

FIT_NAMES = (
    "grant_frames",
    "beam_jitter_s",
    "jitter_memory_s",
    "beam_level_s",
    "isl_level_per_hop_s",
    "isl_level_memory_s",
    "isl_utilisation",
    "buffer_s",
    "busy_hour_utilisation",
    "link_loss",
    "boundary_loss_probability",
)
FIT_BOUNDS = (
    (0.0, 30.0), (1e-4, 0.05), (0.0, 1.0), (0.0, 0.05), (0.0, 0.05), (0.0, 120.0), (0.02, 1.0), (0.005, 0.5), (0.0, 0.9),
    (0.0, 0.02), (0.0, 0.5),
)


def within_slot_step_ms(send_s: np.ndarray, rtt_ms: np.ndarray) -> float:
    """Median |dRTT| of consecutive received pings in the same slot (the short-term memory of the queue)."""
    ok = ~np.isnan(rtt_ms)
    t, r = send_s[ok], rtt_ms[ok]
    same = np.floor((t[1:] - 12.0) / 15.0) == np.floor((t[:-1] - 12.0) / 15.0)
    return float(np.median(np.abs(np.diff(r))[same]))


def window_loss(send_s: np.ndarray, rtt_ms: np.ndarray, window_s: float = 0.2) -> tuple[float, float]:
    """Loss of pings sent in the last ``window_s`` before a boundary, and elsewhere."""
    rel = np.mod(send_s - 12.0, 15.0)
    inside = rel >= 15.0 - window_s
    lost = np.isnan(rtt_ms)
    return float(lost[inside].mean()), float(lost[~inside].mean())


def one_per_second_fold_ratio(m) -> float:
    """The 15-s fold ratio of the measured series sampled at 1 ping/s (the first ping after each second + 0.3 / 0.5 s)."""
    ratios = []
    for off in (0.3, 0.5):
        sec = np.floor(m.send_s - off)
        first = np.r_[True, sec[1:] != sec[:-1]]
        ratios.append(fold_15s(m.send_s[first] - off, m.rtt_ms[first]).ratio)
    return float(np.mean(ratios))


def fit(params: LatencyParams, tabs: dict, measured: dict) -> LatencyParams:
    """Least squares of log(simulated / measured).

    Targets at each place: min, p5, p50, p95, p99, the loss of pings sent in
    the last 0.2 s before a boundary and elsewhere, the spread inside a slot, the spread of the slot levels, the 15-s fold ratio at 1 ping/s
    (simulated: the 1-s steps) and 1 + the lag-1 correlation of slot levels.
    Simulated on a regular probe series at the measured mean spacing.
    """
    from scipy.optimize import least_squares

    targets = {}
    windows = {}
    for key, m in measured.items():
        s = summary(m.rtt_ms)
        d = slot_decomposition(m.send_s, m.rtt_ms)
        targets[key] = np.array(
            [s["min"], s["p5"], s["p50"], s["p95"], s["p99"], *window_loss(m.send_s, m.rtt_ms), d["above_ms"].mean(),
             np.sqrt(d["var_between"]), one_per_second_fold_ratio(m), 1.0 + d["lag1_level_corr"],
             within_slot_step_ms(m.send_s, m.rtt_ms)]
        )
        day = unix_ns(_parse(SIM_DAY + "T00:00:00Z"))
        first = day + int(np.mod(m.send_s[0], 86400.0) * 1e9)
        t_end = int(tabs[key]["epoch_unix_ns"] + int(tabs[key]["t_ns"][-1]))
        interval = int(round(np.median(np.diff(m.send_s)) * 1e9 / 1e7)) * 10**7
        windows[key] = (interval, first, t_end)
    weights = np.array([1.0, 1.5, 1.5, 1.5, 0.5, 0.5, 0.5, 1.0, 0.5, 0.5, 1.0, 1.0])

    def residuals(x):
        p = params.with_values(**dict(zip(FIT_NAMES, map(float, x))))
        out = []
        for key in measured:
            pings = simulate_probes(p, key, tabs[key], *windows[key])
            r = pings.rtt_s * 1e3
            s = summary(r)
            d = slot_decomposition(pings.t_unix_ns / 1e9, r)
            steps = simulate_steps(p, key, tabs[key])
            f1 = fold_15s(steps["t_unix_ns"] / 1e9, steps["parts"].rtt_s * 1e3)
            w_in, w_out = window_loss(pings.t_unix_ns / 1e9, r)
            sim = np.array(
                [s["min"], s["p5"], s["p50"], s["p95"], s["p99"], max(w_in, 1e-5), max(w_out, 1e-5),
                 d["above_ms"].mean(), np.sqrt(d["var_between"]), f1.ratio, 1.0 + d["lag1_level_corr"],
                 within_slot_step_ms(pings.t_unix_ns / 1e9, r)]
            )
            out.append(weights * np.log(sim / targets[key]))
        return np.concatenate(out)

    x0 = np.array([getattr(params, n) for n in FIT_NAMES], float)
    lo = np.array([b[0] for b in FIT_BOUNDS])
    hi = np.array([b[1] for b in FIT_BOUNDS])
    res = least_squares(residuals, np.clip(x0, lo, hi), bounds=(lo, hi), diff_step=1e-2, x_scale="jac", max_nfev=200)
    fitted = params.with_values(**dict(zip(FIT_NAMES, map(float, res.x))))
    print(f"fit: cost {res.cost:.4f} after {res.nfev} evaluations; residuals (log ratio):", np.round(res.fun, 3))
    return fitted


# ----------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------


def _within(sim: float, meas: float, tol: float) -> str:
    return "ok" if abs(sim / meas - 1.0) <= tol else "MISS"


def report(params: LatencyParams, tabs: dict, measured: dict) -> bool:
    ok_all = True
    rows = []
    fold_rows = []
    dec_rows = []
    step_rows = []
    for key, m in measured.items():
        tol = TOLERANCE[key]
        sim = replay(params, key, tabs[key], m)
        ms, ss = summary(m.rtt_ms), summary(sim["rtt_ms"])
        for stat in ("min", "p5", "p50", "p95"):
            verdict = _within(ss[stat], ms[stat], tol)
            ok_all &= verdict == "ok"
            rows.append([key, stat, ms[stat], ss[stat], f"{100 * (ss[stat] / ms[stat] - 1):+.1f} %", f"+-{100 * tol:.0f} %", verdict])
        lf = ss["loss"] / ms["loss"]
        verdict = "ok" if 1 / LOSS_FACTOR <= lf <= LOSS_FACTOR else "MISS"
        ok_all &= verdict == "ok"
        rows.append([key, "loss", f"{100 * ms['loss']:.2f} %", f"{100 * ss['loss']:.2f} %", f"x{lf:.2f}", "x0.5-2", verdict])
        rows.append([key, "p99 (info)", ms["p99"], ss["p99"], f"{100 * (ss['p99'] / ms['p99'] - 1):+.1f} %", "", ""])

        fm, fs = fold_15s(m.recv_s, m.rtt_ms), fold_15s(sim["recv_s"], sim["rtt_ms"])
        steps = simulate_steps(params, key, tabs[key])
        rtt_steps = steps["parts"].rtt_s * 1e3
        f1 = fold_15s(steps["t_unix_ns"] / 1e9, rtt_steps)
        for label, f in (("measured, reply time", fm), ("simulated pings, reply time", fs), ("simulated 1-s steps", f1)):
            fold_rows.append([key, label, str(f.top[:6]), " ".join(f"{f.median_ms[b]:.1f}" for b in (12, 27, 42, 57)), f.others_median_ms, f.ratio, "yes" if f.top4_on_boundaries else "no"])
        f1_ok = f1.top4_on_boundaries and 1.5 <= f1.ratio <= 3.0
        ok_all &= f1_ok

        dm = slot_decomposition(m.send_s, m.rtt_ms)
        dsim = slot_decomposition(sim["send_s"], sim["rtt_ms"])
        for label, d in (("measured", dm), ("simulated", dsim)):
            lv = np.percentile(d["level_ms"], [5, 50, 95])
            dec_rows.append([key, label, d["var_between"], d["var_within"], " ".join(f"{x:.1f}" for x in lv), float(d["above_ms"].mean()), d["lag1_level_corr"]])

        p = steps["parts"]
        served = np.isfinite(p.rtt_s)
        step_rows.append(
            [key]
            + [float(np.nanmedian(x[served]) * 1e3) for x in (p.propagation_rtt_s, p.access_s, p.processing_s, p.queueing_s)]
            + [float(np.nanmean(p.reconfiguration_s[served]) * 1e3), float(np.nanmedian(p.rtt_s) * 1e3), float(np.nanpercentile(p.rtt_s, 95) * 1e3), f"{100 * np.nanmean(p.loss_probability):.2f} %", float(np.nanmean(p.utilisation))]
        )

    print("Measured vs simulated ping (the measurement's procedure replayed on the model's 10 ms probe series)")
    print(table(rows, ["series", "stat", "measured ms", "simulated ms", "difference", "allowed", ""]))
    print()
    print("The 15-s signature: median |dRTT| by UTC second")
    print(table(fold_rows, ["series", "", "largest seconds", "12/27/42/57 ms", "others ms", "ratio", "top 4 = 12/27/42/57"]))
    print("acceptance (1-s steps): top four on 12/27/42/57 and ratio 1.5-3")
    print()
    print("Slot decomposition (as in measurements.py section 4)")
    print(table(dec_rows, ["series", "", "var between ms2", "var within ms2", "slot level p5/p50/p95 ms", "spread mean ms", "lag-1 corr"]))
    print()
    print("The 1-s steps of the runs: median of each part (ms), mean pause, modelled RTT, loss, utilisation")
    print(table(step_rows, ["series", "propagation", "access", "processing", "queueing", "reconf. mean", "rtt p50", "rtt p95", "loss", "rho"]))
    return ok_all


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration-s", type=int, default=None, help="run length (default: the measured span + 2 min)")
    ap.add_argument("--cache", type=Path, default=None, help="keep / reuse the runs' tables here")
    ap.add_argument("--fit", action="store_true", help="refit the global parameters first")
    args = ap.parse_args(argv)
    measured = {k: load_series(k) for k in SERIES}
    tabs = {}
    for key, m in measured.items():
        first = np.mod(m.send_s[0], 86400.0)
        start = f"{SIM_DAY}T{int(first // 3600):02d}:{int(first % 3600 // 60):02d}:00Z"
        span = int(m.send_s[-1] - m.send_s[0]) + 120
        tabs[key] = propagation_table(key, start, args.duration_s or span, args.cache)
    params = params_for_era("2023")  # the measurements are of 2023-09: the network before Starlink's 2024 latency work
    if args.fit:
        params = fit(params, tabs, measured)
        print("fitted:", {n: round(getattr(params, n), 6) for n in FIT_NAMES})
    ok = report(params, tabs, measured)
    print()
    print("ACCEPTANCE:", "all met" if ok else "NOT all met (see MISS / the 1-s fold)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
