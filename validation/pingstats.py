"""Shared helpers of the latency validation scripts: load the measured ping series, and the statistics both sides use.

Not a script: ``measurements.py`` and ``pings.py`` import it.

How the two LENS ping series were taken (derived in ``measurements.py``):
the tool sends one ICMP echo, waits for the reply (at most 5 s), then waits
~0.106 s (Victoria) / ~0.112 s (Seychelles) and sends the next; ``unix_ts``
is the time the reply arrived (or the timeout fired), so a received ping
was *sent* at ``unix_ts - rtt`` and a lost one ~0.11 s after the previous
line.  `sequential_ping` replays that procedure on a simulated series.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]

#: The ping series: file, dish, PoP, coordinates (lat, lon), laser links?
SERIES = {
    "victoria": ("victoria_seattle_gw_ping_2023-09-12.csv", "Victoria BC", "Seattle", (48.46, -123.31), False),
    "seychelles": ("seychelles_lagos_gw_ping_isl_2023-09-12.csv", "Seychelles (Mahe)", "Lagos", (-4.62, 55.45), True),
}

#: The boundaries of the 15 s slots: 12, 27, 42, 57 s past each UTC minute.
BOUNDARY_SECONDS = (12, 27, 42, 57)
SLOT_S = 15.0
OFFSET_S = 12.0


def measurements_dir() -> Path:
    """``$LEONET_SHARED/data/measurements`` (or ``$LEONET_SHARED`` itself if it holds the CSVs), else ``<repo>/../shared/data/measurements``."""
    env = os.environ.get("LEONET_SHARED")
    if env:
        base = Path(env)
        for cand in (base / "data" / "measurements", base):
            if (cand / SERIES["victoria"][0]).exists():
                return cand
        raise SystemExit(f"LEONET_SHARED={env}: no {SERIES['victoria'][0]} under it (nor under data/measurements)")
    cand = REPO.parent / "shared" / "data" / "measurements"
    if not (cand / SERIES["victoria"][0]).exists():
        raise SystemExit(f"no measurements at {cand}; set LEONET_SHARED to the shared folder")
    return cand


def read_csv(name: str) -> dict[str, list[str]]:
    """Columns of a CSV in the measurements folder, as lists of strings."""
    with open(measurements_dir() / name, newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {k: [r[k] for r in rows] for k in rows[0]}


@dataclass
class PingSeries:
    """A ping series: times in s since the Unix epoch, RTT in ms (NaN = lost)."""

    name: str
    recv_s: np.ndarray  # reply (or timeout) time
    send_s: np.ndarray  # send time
    rtt_ms: np.ndarray

    @property
    def lost(self) -> np.ndarray:
        return np.isnan(self.rtt_ms)


def load_series(key: str) -> PingSeries:
    """Load one measured ping series and reconstruct its send times."""
    cols = read_csv(SERIES[key][0])
    recv = np.array(cols["unix_ts"], dtype=np.float64)
    rtt = np.array([float(x) if x else np.nan for x in cols["rtt_ms"]])
    lost = np.isnan(rtt)
    gap = np.nanmedian(recv[1:] - rtt[1:] / 1e3 - recv[:-1])  # send_i - reply_{i-1}
    send = recv - np.nan_to_num(rtt) / 1e3
    send[1:] = np.where(lost[1:], recv[:-1] + gap, send[1:])
    send[0] = send[0] if not lost[0] else recv[0] - 5.0
    return PingSeries(key, recv, send, rtt)


def summary(rtt_ms: np.ndarray) -> dict[str, float]:
    """min, p5, p50, p95, p99, max of the received pings (ms) and the loss fraction."""
    r = rtt_ms[~np.isnan(rtt_ms)]
    q = np.percentile(r, [5, 50, 95, 99])
    return {
        "n": float(rtt_ms.size),
        "min": float(r.min()),
        "p5": float(q[0]),
        "p50": float(q[1]),
        "p95": float(q[2]),
        "p99": float(q[3]),
        "max": float(r.max()),
        "loss": float(np.isnan(rtt_ms).mean()),
    }


@dataclass
class Fold:
    """|dRTT| between consecutive received pings, median by UTC second of the minute."""

    median_ms: np.ndarray  # [60]
    top: list[int]  # seconds, largest median first
    boundary_mean_ms: float  # mean of the medians at 12, 27, 42, 57
    others_median_ms: float  # median of the medians at the other 56 seconds

    @property
    def ratio(self) -> float:
        return self.boundary_mean_ms / self.others_median_ms

    @property
    def top4_on_boundaries(self) -> bool:
        return sorted(self.top[:4]) == sorted(BOUNDARY_SECONDS)


def fold_15s(t_s: np.ndarray, rtt_ms: np.ndarray) -> Fold:
    """The 15-s signature: group |dRTT| of consecutive received pings by the UTC second of the later one."""
    ok = ~np.isnan(rtt_ms)
    t, r = t_s[ok], rtt_ms[ok]
    d = np.abs(np.diff(r))
    sec = np.floor(t[1:]).astype(np.int64) % 60
    med = np.array([np.median(d[sec == s]) if np.any(sec == s) else np.nan for s in range(60)])
    order = [int(s) for s in np.argsort(-np.nan_to_num(med, nan=-1.0), kind="stable")]
    others = np.nanmedian(np.delete(med, list(BOUNDARY_SECONDS)))
    return Fold(med, order, float(np.mean(med[list(BOUNDARY_SECONDS)])), float(others))


def slot_phase_s(t_s: np.ndarray) -> np.ndarray:
    """Time since the last slot boundary, s (0..15)."""
    return np.mod(t_s - OFFSET_S, SLOT_S)


def slot_of(t_s: np.ndarray) -> np.ndarray:
    return np.floor((t_s - OFFSET_S) / SLOT_S).astype(np.int64)


def slot_decomposition(send_s: np.ndarray, rtt_ms: np.ndarray, min_pings: int = 20, skip_s: float = 0.3) -> dict:
    """Per-slot level (10th percentile of the slot) and the spread of each ping above it.

    Pings sent in the first ``skip_s`` of a slot (the reconfiguration spike) are left out.
    """
    ok = ~np.isnan(rtt_ms) & (slot_phase_s(send_s) >= skip_s)
    slot = slot_of(send_s[ok])
    r = rtt_ms[ok]
    uniq, inv = np.unique(slot, return_inverse=True)
    cnt = np.bincount(inv)
    order = np.argsort(inv, kind="stable")
    bounds = np.r_[0, np.cumsum(cnt)]
    p10 = np.full(uniq.size, np.nan)
    sd = np.full(uniq.size, np.nan)
    for k in range(uniq.size):
        if cnt[k] >= min_pings:
            v = r[order[bounds[k] : bounds[k + 1]]]
            p10[k] = np.percentile(v, 10)
            sd[k] = v.std()
    good = np.isfinite(p10)
    above = (r - p10[inv])[good[inv]]
    mean = np.bincount(inv, r) / cnt
    level = p10[good]
    return {
        "slots": int(good.sum()),
        "level_ms": level,
        "above_ms": above,
        "var_between": float(np.var(mean[inv][good[inv]])),
        "var_within": float(np.var((r - mean[inv])[good[inv]])),
        "corr_level_spread": float(np.corrcoef(level, sd[good])[0, 1]),
        "lag1_level_corr": float(np.corrcoef(level[:-1], level[1:])[0, 1]),
    }


def sequential_ping(
    probe_t_s: np.ndarray,
    probe_rtt_ms: np.ndarray,
    start_s: float,
    end_s: float,
    gap_s: float,
    timeout_s: float = 5.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Replay the LENS ping procedure on a fine, regular simulated probe series.

    Send at ``start``; take the probe nearest the send time; a reply comes
    ``rtt`` later, a loss times out after ``timeout_s``; the next ping
    leaves ``gap_s`` after that.  Returns (send_s, recv_s, rtt_ms) like the
    measured files (recv = reply or timeout time).
    """
    dt = probe_t_s[1] - probe_t_s[0]
    t0 = probe_t_s[0]
    n = probe_t_s.size
    send, recv, rtt = [], [], []
    t = start_s
    while t < end_s:
        k = int(round((t - t0) / dt))
        if k >= n:
            break
        r = probe_rtt_ms[k]
        back = t + (timeout_s if np.isnan(r) else r / 1e3)
        send.append(t)
        recv.append(back)
        rtt.append(r)
        t = back + gap_s
    return np.array(send), np.array(recv), np.array(rtt)


def table(rows: list[list], header: list[str]) -> str:
    """A plain-text table (right-aligned numbers)."""
    cells = [[str(c) for c in header]] + [[c if isinstance(c, str) else f"{c:,.4g}" if isinstance(c, float) else str(c) for c in row] for row in rows]
    width = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.rjust(w) if j else c.ljust(w) for j, (c, w) in enumerate(zip(r, width))) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in width))
    return "\n".join(lines)
