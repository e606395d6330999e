"""Fit the speed-test model's two calibrated numbers to the best-20 % quantiles of Starlink's published speeds.

Run: ``PYTHONPATH=src python validation/throughput_fit.py [--per-country 4] [--hours 0,6,12,18]``
(~15-30 minutes: a few rounds of runs).

Which numbers, fitted to what (medians over the 96 calibration countries, terminals
placed like the model's subscribers, leonet runs as in validation/throughput.py):

* the Standard dish's downlink peak       <- published best-20 % download / simulated p80 = 1
* the dish's uplink grant (share of its   <- published best-20 % upload / simulated p80 = 1
  beam's uplink channel)

at the downlink zenith margin of ``speedtest_params`` (an assumption), with the network of
the calibration date.  Each round runs every hour once with the current values and
scales them by the median ratio (a lightly loaded speed test is the dish's peak times
the link quality, so both ratios are nearly exact in one round: the uplink is the
grant times the link quality too).  The published *medians* are never
used to choose anything: they are what validation/throughput.py judges the model on
(printed for information only).  Prints the values to be copied into
``leonet/capacity/speedtest_params.py``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile

import numpy as np
import throughput as T


def _set(peak_down_bps: float, grant_share: float) -> None:
    """Use these values in this process's runs (the runs compute here: one worker).

    Every dish shares the Standard's peaks (`speedtest_params.DISHES`).
    """
    from leonet.capacity import speedtest_params as sp
    from leonet.capacity.params import KU_SPECTRAL_EFFICIENCY_BPS_PER_HZ

    peak_up = grant_share * sp.UPLINK_CHANNEL_HZ * KU_SPECTRAL_EFFICIENCY_BPS_PER_HZ
    sp.DISHES.update({k: dataclasses.replace(d, peak_down_bps=peak_down_bps, peak_up_bps=peak_up)
                      for k, d in sp.DISHES.items()})
    sp.UPLINK_GRANT_SHARE = grant_share


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-country", type=int, default=4)
    ap.add_argument("--duration-s", type=int, default=300)
    ap.add_argument("--step-s", type=int, default=60)
    ap.add_argument("--date", default="2026-05-30")
    ap.add_argument("--hours", default="0,6,12,18")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=2025)
    args = ap.parse_args(argv)
    hours = [float(h) for h in args.hours.split(",")]

    from leonet.capacity import speedtest_params as sp

    calib = T.read_calibration()
    sites, owner = T.sites_for_countries(calib, args.per_country, args.seed)
    peak = sp.DISHES["standard"].peak_down_bps
    se_up = sp.UPLINK_GRANT_SHARE
    print("| round | dish peak Mbit/s | uplink grant share | best-20 / p80 down | best-20 / p80 up | "
          "(medians within 25 %, down / up: not fitted) |")
    print("|---|---|---|---|---|---|")
    for k in range(args.rounds + 1):
        _set(peak, se_up)
        with tempfile.TemporaryDirectory(prefix="leonet-speedtest-fit-") as tmp:
            runs = T.run_speedtests(sites, args.date, hours, args.duration_s, args.step_s, tmp, name="fit")
        frames = list(runs.values())
        b20_d, b20_u, p50_d, p50_u = [], [], [], []
        for row in calib:
            idx = np.flatnonzero(owner == row["iso3"])
            sel = [f[f["terminal"].isin(idx)] for f in frames]
            d = T.quantiles(np.concatenate([f["speedtest_down_mbps"].to_numpy() for f in sel]))
            u = T.quantiles(np.concatenate([f["speedtest_up_mbps"].to_numpy() for f in sel]))
            b20_d.append(row["download_best20_mbps"] / d[2])
            b20_u.append(row["upload_best20_mbps"] / u[2])
            p50_d.append(d[1] / row["download_p50_mbps"])
            p50_u.append(u[1] / row["upload_p50_mbps"])
        rd, ru = float(np.nanmedian(b20_d)), float(np.nanmedian(b20_u))
        wd = np.mean(np.abs(np.array(p50_d) - 1) <= 0.25)
        wu = np.mean(np.abs(np.array(p50_u) - 1) <= 0.25)
        print(f"| {k} | {peak / 1e6:.0f} | {se_up:.3f} | {rd:.3f} | {ru:.3f} | {wd:.0%} / {wu:.0%} |")
        sys.stdout.flush()
        if k < args.rounds:
            peak *= rd
            se_up *= ru
    print(f"\nFitted at the assumed zenith margins {sp.ZENITH_LINK_MARGIN_DB} dB (down) and "
          f"{sp.UPLINK_ZENITH_MARGIN_DB} dB (up): dish downlink peak {peak / 1e6:.0f} Mbit/s, dish uplink grant "
          f"{se_up:.3f} of the channel (peak {sp.UPLINK_CHANNEL_HZ * 5.11 * se_up / 1e6:.1f} Mbit/s at the top "
          f"modulation).  Copy them into leonet/capacity/speedtest_params.py.")


if __name__ == "__main__":
    main()
