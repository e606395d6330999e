"""Per-country median latency: leonet against Starlink's own published figures.

Starlink publishes, per country, the median (and worst/best 20 %) round trip
from the Starlink router to the internet (its PoP), sampled every 15 s over a
month (``starlink_published_country_metrics_2025-12_calibration.csv``: 96
countries outside Europe, 2025-12).  This script places terminals in every
one of those countries (population-weighted samples of the shipped GeoNames
places, so where people live), runs leonet on the real constellation with the
current gateways and PoPs, each terminal exiting at the PoP Starlink assigned
its country in the month of the figures (the 2025-12 snapshot), over a whole day (the load follows local solar time), and
compares each country's median modelled ``rtt_ms`` with the published one.

    PYTHONPATH=src python validation/countries.py [--per-country 6] [--step-min 20] [--cache DIR] [--published CSV]

Prints the per-country table and the acceptance figure (share of countries
within 10 % of the published median; issue 12 asks for >= 80 %).  Exit status
1 when it is missed.  ``--json FILE`` also writes the table (for docs/fidelity.md).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MEASUREMENTS = Path(os.environ.get("LEONET_SHARED", ROOT.parent / "shared")) / "data" / "measurements"
CALIBRATION = MEASUREMENTS / "starlink_published_country_metrics_2025-12_calibration.csv"
SEED = 20251201
#: Countries modelled beside the calibration set, whose published medians are not in
#: shared/data (held out: Europe): leonet's predictions for them are printed, never fitted.
PREDICT = ("UKR", "DEU", "POL", "GBR", "FRA", "ITA", "ESP")
DAY = "2026-05-30T00:00:00Z"  # the shipped TLE snapshot's day
#: Starlink's country -> PoP assignment of the month of the published medians (2025-12):
#: the network they measured (in 2026-10 e.g. West Africa exits at a new Dakar PoP,
#: Kazakhstan at Almaty; in 2025-12 at Lagos/Madrid and Sofia).
ASSIGNMENT_SNAPSHOT = "2025-12"


def use_published(path: Path) -> None:
    """Compare against another file of Starlink's per-country figures (same columns as `CALIBRATION`).

    Its month (``YYYY-MM`` in the file name, as in the shipped one) picks the
    PoP assignment snapshot (the newest shipped one not after that month,
    `leonet.ground.pops.assignment_snapshot_for`); a name without a month
    keeps the 2025-12 snapshot.  Runs are cached under the file's name.
    """
    import datetime as dt
    import re

    from leonet.ground.pops import assignment_snapshot_for

    global CALIBRATION, ASSIGNMENT_SNAPSHOT, CACHE_TAG
    path = Path(path)
    if not path.is_file():
        raise SystemExit(f"--published {path}: no such file (a CSV with the columns of {CALIBRATION.name})")
    CALIBRATION = path
    month = re.search(r"(20\d\d)-(0[1-9]|1[0-2])", path.name)
    if month:
        ASSIGNMENT_SNAPSHOT = assignment_snapshot_for("auto", dt.datetime(int(month[1]), int(month[2]), 1))
    CACHE_TAG = "" if path.name == "starlink_published_country_metrics_2025-12_calibration.csv" else "_" + path.stem


#: Added to the cache key of runs compared against a file other than the shipped calibration one (`use_published`).
CACHE_TAG = ""


def published() -> dict[str, dict[str, float]]:
    with open(CALIBRATION, newline="", encoding="utf-8") as f:
        return {r["iso3"]: {k: float(v) for k, v in r.items() if k != "iso3" and v} for r in csv.DictReader(f)}


def iso3_to_iso2() -> dict[str, str]:
    """ISO 3166-1 alpha-3 -> alpha-2 from the shipped Natural Earth admin-0 borders."""
    import leonet.ground.regions as regions

    out = {}
    for parts in (regions._WORLD, regions._EUROPE):  # noqa: SLF001 - the shipped borders' properties
        props, _, _ = regions._shipped(parts)  # noqa: SLF001
        for p in props:
            a3 = str(p.get("ADM0_A3") or p.get("ISO_A3") or "")
            a2 = regions._iso2(p)  # noqa: SLF001
            if a3 and a2:
                out.setdefault(a3, a2)
            a3b = str(p.get("ISO_A3") or "")
            if a3b and a2:
                out.setdefault(a3b, a2)
    return out


#: Territories Natural Earth's admin-0 borders fold into France: their first-level units.
OVERSEAS = {"GLP": "admin1:FR-GP", "MTQ": "admin1:France/Martinique", "GUF": "admin1:France/Guyane française",
            "MYT": "admin1:France/Mayotte", "REU": "admin1:France/La Réunion"}


#: Territories Natural Earth's admin-0 borders fold into Australia: their ISO 3166-1 alpha-2 (GeoNames places).
FOLDED = {"CCK": "CC", "CXR": "CX"}


def terminals(countries: list[str], per_country: int) -> tuple[list[dict], list[str]]:
    """Coordinate sites for every country (name ``"<ISO3>-<k>"``) and the countries that could not be sampled.

    Population-weighted points inside the country's border (`sample_points`).
    Where that is impossible -- a territory the shipped borders fold into
    another country (`FOLDED`), or specks of islands too small for the sampler
    (the U.S. Minor Outlying Islands) -- the country's GeoNames places,
    weighted by population, else points on its polygons, chosen by area.
    """
    from leonet.errors import LeonetError
    from leonet.ground.sampling import sample_points

    to2 = iso3_to_iso2()
    sites, skipped = [], []
    for k, iso3 in enumerate(countries):
        region = OVERSEAS.get(iso3) or (f"country:{to2[iso3]}" if iso3 in to2 else None)
        try:
            if region is None:
                raise LeonetError("no border of its own in the shipped file")
            lat, lon = sample_points(region, per_country, seed=SEED + k)
        except LeonetError as exc:
            lat, lon = _fallback_points(FOLDED.get(iso3) or to2.get(iso3), per_country, SEED + k)
            if lat is None:
                skipped.append(f"{iso3} ({str(exc)[:60]})")
                continue
            print(f"{iso3}: {str(exc)[:60]}; sampled from its places / polygons instead", file=sys.stderr)
        sites += [{"name": f"{iso3}-{j}", "lat_deg": round(float(a), 5), "lon_deg": round(float(b), 5)}
                  for j, (a, b) in enumerate(zip(lat, lon))]
    return sites, skipped


def _fallback_points(iso2: str | None, n: int, seed: int):
    """``n`` GeoNames places of the country (by population), else points on its polygons (by area); (None, None) if neither."""
    import shapely

    from leonet.errors import LeonetError
    from leonet.ground.regions import load_region
    from leonet.ground.sites import load_cities

    if iso2 is None:
        return None, None
    rng = np.random.default_rng(seed)
    try:
        places = load_cities(country_iso2=iso2)
    except LeonetError:
        places = None
    if places is not None and len(places):
        w = np.asarray(places.population, float)
        pick = rng.choice(len(places), size=n, p=w / w.sum())
        return np.asarray(places.lat_deg)[pick], np.asarray(places.lon_deg)[pick]
    try:
        parts = shapely.get_parts(load_region(f"country:{iso2}").geometry)
    except LeonetError:
        return None, None
    w = shapely.area(parts)
    pts = [parts[j].representative_point() for j in rng.choice(len(parts), size=n, p=w / w.sum())]
    return np.array([p.y for p in pts]), np.array([p.x for p in pts])


def scenario(sites: list[dict], step_min: int, out_dir: Path) -> str:
    rows = ",\n  ".join("{" + ", ".join(f"{k} = {json.dumps(v)}" for k, v in s.items()) + "}" for s in sites)
    return f"""
[scenario]
name = "countries"
seed = {SEED}
[time]
start_utc = "{DAY}"
duration_s = 86400
step_s = {step_min * 60}
[[constellations]]
kind = "builtin"
builtin = "starlink-tle-2026-05"
[ground.terminals]
[[ground.terminals.sources]]
kind = "coordinates"
sites = [
  {rows}
]
[ground.gateways]
catalog = "2026-03"
[ground.pops]
catalog = "2026-10"
terminal_pop = "country"
assignment_snapshot = "{ASSIGNMENT_SNAPSHOT}"
[output]
directory = "{out_dir}"
chunk_steps = 24
"""


def run(per_country: int, step_min: int, cache: Path | None, latency: dict | None = None):
    """Per terminal-step (country, rtt_ms, propagation parts, served, PoP) of the run (cached by its parameters)."""
    import pyarrow.parquet as pq

    key = f"countries_{per_country}_{step_min}_{'-'.join(PREDICT)}_pops{ASSIGNMENT_SNAPSHOT}{CACHE_TAG}.parquet"
    if cache is not None and (cache / key).is_file() and latency is None:
        # The network parts of a cached run do not depend on the latency constants: recompute rtt_ms with the
        # shipped ones, so a change of constants needs no new run (the parts columns keep the run's values).
        from leonet.latency import era_of, params_for_era

        return remodel(pq.read_table(cache / key).to_pandas(), params_for_era(era_of(DAY)))
    sites, skipped = terminals(list(published()) + [c for c in PREDICT if c not in published()], per_country)
    if skipped:
        print(f"not sampled: {', '.join(skipped)}", file=sys.stderr)
    frame = run_sites(sites, step_min, latency)
    if cache is not None and latency is None:
        cache.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(cache / key)
    return frame


def run_sites(sites: list[dict], step_min: int, latency: dict | None = None):
    """One leonet run of the country scenario for ``sites`` (names ``"<ISO3>-<k>"``): its terminal-steps as a DataFrame."""
    import leonet
    from leonet.timebase import parse_utc, unix_ns

    with tempfile.TemporaryDirectory(prefix="leonet-countries-") as tmp:
        path = Path(tmp) / "countries.toml"
        path.write_text(scenario(sites, step_min, Path(tmp) / "run"), encoding="utf-8")
        loaded = leonet.load_scenario(path, **({"latency": latency} if latency else {}))
        result = leonet.run(loaded, Path(tmp) / "run")
        steps = result.table("terminal_steps", columns=[
            "t_ns", "terminal", "rtt_ms", "propagation_rtt_ms", "served", "isl_hops", "pop", "queueing_ms", "access_ms",
            "uplink_ms", "isl_ms", "feeder_ms", "backhaul_ms"])
        names = result.table("terminals")[["index", "name", "lon_deg"]]
        pops = result.table("pops")[["index", "name"]]
    frame = steps.merge(names, left_on="terminal", right_on="index")
    frame["pop_name"] = frame["pop"].map(dict(zip(pops["index"], pops["name"]))).fillna("")
    frame["country"] = frame["name"].str.split("-").str[0]
    frame["t_unix_ns"] = unix_ns(parse_utc(DAY)) + frame["t_ns"]
    return frame.drop(columns=["index", "name", "time_utc"])


def step_ns_of(frame) -> int:
    """The run's step, ns (the smallest gap between the frame's step times)."""
    t = np.unique(frame["t_ns"].to_numpy())
    return int(np.diff(t).min()) if t.size > 1 else 60 * 10**9


def remodel(frame, params, seed: int = SEED):
    """The frame with ``rtt_ms`` recomputed by the latency model with ``params`` (no new network run).

    The network (paths, propagation parts, laser hops) does not depend on the
    latency constants, so this gives what a new run with ``params`` would:
    the same keyed draws, the same step (`step_ns_of`), the same slot clock.
    """
    from leonet.latency.model import step_latency

    out = frame.copy()
    served = out["served"].to_numpy()
    parts = {n: np.where(served, out[f"{n}_ms"].to_numpy() / 1e3, np.nan) for n in ("uplink", "isl", "feeder", "backhaul")}
    lat = step_latency(
        params, seed=seed, t_unix_ns=out["t_unix_ns"].to_numpy(), terminal=out["terminal"].to_numpy(),
        uplink_s=parts["uplink"], isl_s=parts["isl"], feeder_s=parts["feeder"], backhaul_s=parts["backhaul"],
        isl_hops=np.where(served, out["isl_hops"].to_numpy(), 0), lon_deg=out["lon_deg"].to_numpy(),
        slot_ns=15 * 10**9, slot_offset_ns=12 * 10**9, step_ns=step_ns_of(frame),
    )
    out["rtt_ms"] = lat.rtt_s * 1e3
    return out


def compare(frame, measured: dict) -> list[dict]:
    """Per calibration country: published and modelled median RTT (served terminal-steps), the error, the floor."""
    rows = []
    served = frame[frame["served"]]
    for iso3, group in served.groupby("country"):
        if iso3 not in measured:
            continue
        m = measured[iso3]["latency_p50_ms"]
        sim = float(np.median(group["rtt_ms"]))
        rows.append({
            "country": iso3,
            "published_p50_ms": m,
            "leonet_p50_ms": sim,
            "propagation_p50_ms": float(np.median(group["propagation_rtt_ms"])),
            "error": sim / m - 1.0,
            "laser_hops_p50": float(np.median(group["isl_hops"])),
            "served_pct": round(100.0 * len(group) / len(frame[frame["country"] == iso3]), 1),
            "pop": str(group["pop_name"].mode().iloc[0]) if "pop_name" in group else "",
        })
    return sorted(rows, key=lambda r: r["country"])


#: Starlink's published latency quantiles (column, percentile of the modelled terminal-steps).  The
#: source's "p20" is the *worst* 20 %, i.e. the 80th percentile of the RTT (SOURCES.md).
QUANTILES = (("best 20 %", "latency_best20_ms", 20.0), ("median", "latency_p50_ms", 50.0),
             ("worst 20 %", "latency_worst20_ms", 80.0))


def quantile_summary(frame, measured: dict) -> dict:
    """The whole published distribution against the model's: share of countries within 10 % at each quantile.

    Starlink publishes, besides the median, the RTT its best and worst 20 %
    of samples stay under/above (``QUANTILES``); the model's are the 20th
    and 80th percentiles of a country's served terminal-steps (6 terminals
    over a day: between-user and through-the-day spread pooled, as
    Starlink's samples of every router every 15 s are).  Also the ratio of
    the spreads (worst 20 % - best 20 %), modelled over published, median
    over countries: below 1, the model's distribution is narrower.
    """
    served = frame[frame["served"]]
    err = {label: [] for label, _, _ in QUANTILES}
    ratio = []
    for iso3, group in served.groupby("country"):
        m = measured.get(iso3)
        if m is None or any(col not in m for _, col, _ in QUANTILES):
            continue
        rtt = group["rtt_ms"].to_numpy()
        sim = {label: float(np.percentile(rtt, q)) for label, _, q in QUANTILES}
        for label, col, _ in QUANTILES:
            err[label].append(sim[label] / m[col] - 1.0)
        spread = m["latency_worst20_ms"] - m["latency_best20_ms"]
        if spread > 0:
            ratio.append((sim["worst 20 %"] - sim["best 20 %"]) / spread)
    out = {label: {"countries": len(e), "within_10pct": round(float(np.mean(np.abs(e) <= 0.10)), 3) if e else math.nan,
                   "median_error": round(float(np.median(e)), 3) if e else math.nan} for label, e in err.items()}
    out["spread_ratio_median"] = round(float(np.median(ratio)), 3) if ratio else math.nan
    return out


def predictions(frame, measured: dict) -> list[dict]:
    """Modelled median RTT of the countries outside the calibration set (`PREDICT`)."""
    served = frame[frame["served"]]
    rows = []
    for iso3, group in served.groupby("country"):
        if iso3 in measured:
            continue
        rows.append({
            "country": iso3,
            "leonet_p50_ms": float(np.median(group["rtt_ms"])),
            "propagation_p50_ms": float(np.median(group["propagation_rtt_ms"])),
            "laser_hops_p50": float(np.median(group["isl_hops"])),
            "pop": str(group["pop_name"].mode().iloc[0]) if "pop_name" in group else "",
        })
    return sorted(rows, key=lambda r: r["country"])


def summary(rows: list[dict]) -> dict:
    """Share within 10 % (the acceptance figure), median (absolute) error, Spearman rank correlation."""
    from scipy.stats import spearmanr

    err = np.array([r["error"] for r in rows])
    within = float(np.mean(np.abs(err) <= 0.10)) if rows else math.nan
    rho = spearmanr([r["published_p50_ms"] for r in rows], [r["leonet_p50_ms"] for r in rows]).statistic
    return {"countries": len(rows), "within_10pct": round(within, 3), "median_error": round(float(np.median(err)), 3),
            "median_abs_error": round(float(np.median(np.abs(err))), 3), "rank_correlation": round(float(rho), 3)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--per-country", type=int, default=6)
    ap.add_argument("--step-min", type=int, default=20)
    ap.add_argument("--cache", type=Path)
    ap.add_argument("--json", type=Path, help="also write the table and summary here")
    ap.add_argument("--published", type=Path, help="another file of Starlink's per-country figures, same columns "
                    "(default: the 2025-12 calibration file); its YYYY-MM picks the PoP assignment snapshot")
    args = ap.parse_args(argv)
    if args.published:
        use_published(args.published)
    frame = run(args.per_country, args.step_min, args.cache)
    rows = compare(frame, published())
    print(f"{'country':8}{'published':>10}{'leonet':>9}{'propag.':>9}{'error':>8}{'hops':>6}{'served':>8}  PoP")
    for r in rows:
        print(f"{r['country']:8}{r['published_p50_ms']:10.1f}{r['leonet_p50_ms']:9.1f}{r['propagation_p50_ms']:9.1f}"
              f"{100 * r['error']:7.0f}%{r['laser_hops_p50']:6.0f}{r['served_pct']:7.0f}%  {r['pop']}")
    s = summary(rows)
    print(json.dumps(s))
    q = quantile_summary(frame, published())
    print("whole distribution (not judged): " + ", ".join(
        f"{label} {q[label]['within_10pct']:.0%} within 10 % (median error {q[label]['median_error']:+.1%})"
        for label, _, _ in QUANTILES) + f"; spread (worst - best 20 %) x{q['spread_ratio_median']:.2f} the published")
    extra = predictions(frame, published())
    if extra:
        print("not in the calibration set (predictions):")
        for r in extra:
            print(f"{r['country']:8}{'':>10}{r['leonet_p50_ms']:9.1f}{r['propagation_p50_ms']:9.1f}{'':>8}"
                  f"{r['laser_hops_p50']:6.0f}  PoP {r['pop']}")
    if args.json:
        args.json.write_text(json.dumps({"summary": s, "countries": rows, "predictions": extra}, indent=1),
                             encoding="utf-8")
    return 0 if s["within_10pct"] >= 0.8 else 1


if __name__ == "__main__":
    sys.exit(main())
