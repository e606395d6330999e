"""Latency in the report (issue 12): the modelled ping RTT, its propagation floor and parts, and the probes' pings.

``rtt_ms`` of ``terminal_steps`` is the *modelled* round trip of a ping from
the dish to its PoP (`leonet.latency`): the propagation floor
``propagation_rtt_ms`` plus MAC access, processing, queueing and the
reconfiguration pause.  The report draws both distributions over the served
terminal-steps and the mean of every part; a run without
``propagation_rtt_ms`` predates the latency model and its ``rtt_ms`` is the
propagation round trip alone, which the report then says.

Pings
-----
When the scenario has ``[[probes]]`` the ``pings`` table holds each probe's
pings at its own interval (sub-step).  The report draws one probe's series
-- the first probe on a moving terminal, else the first -- against that
terminal's modelled RTT and floor per step, and a table of every probe.  Up
to `MAX_PINGS` pings are drawn one by one; a longer series is cut into
`PING_BUCKETS` equal time buckets drawn as their minimum, median and maximum
RTT and their count of lost pings, so a spike or a loss is never averaged
away.  NaN RTTs (lost pings, unserved steps) are left out of every quantile.
"""

from __future__ import annotations

import math

import numpy as np

from .base import f, has

__all__ = ["collect_latency", "collect_pings", "PARTS", "MAX_PINGS", "PING_BUCKETS"]

#: The parts of the modelled RTT (``terminal_steps`` columns, ms, round trip), in the order of a ping's path.
PARTS = (
    ("propagation_rtt_ms", "propagation (floor)"),
    ("access_ms", "MAC access"),
    ("processing_ms", "processing"),
    ("queueing_ms", "queueing"),
    ("reconfiguration_ms", "reconfiguration pause"),
)
#: Pings of the drawn probe shown one by one at most.
MAX_PINGS = 20_000
#: Time buckets of a longer ping series.
PING_BUCKETS = 4_000
#: Quantile levels of the latency CDFs: 0, 0.5, ..., 100 %.
LEVELS = [k / 200 for k in range(201)]


def collect_latency(con, tables) -> dict | None:
    """Distributions of the modelled RTT and its floor, and the mean of each part, over served active steps.

    Needs the temporary view ``steps`` (`leonet.report.data`).

    Returns
    -------
    dict or None
        ``levels`` (float[L], 0..1), ``rtt_ms`` and ``propagation_rtt_ms``
        (float[L] quantiles, the latter None in an older run), ``parts``
        (list of {column, label, mean_ms, p50_ms, p95_ms}), ``loss_pct``
        (mean ``loss_prob``, %, NaN without it), ``modelled`` (bool);
        None when no served step has an RTT.
    """
    cols = tables.get("terminal_steps", {})
    if "rtt_ms" not in cols:
        return None
    modelled = "propagation_rtt_ms" in cols
    row = con.execute(
        f"""SELECT quantile_cont(rtt_ms, ?) FILTER (WHERE served AND isfinite(rtt_ms)),
                   {"quantile_cont(propagation_rtt_ms, ?) FILTER (WHERE served AND isfinite(propagation_rtt_ms))" if modelled else "?"}
            FROM steps""",
        [LEVELS, LEVELS],
    ).fetchone()
    if row[0] is None:
        return None
    out = {
        "levels": np.array(LEVELS),
        "rtt_ms": np.array(row[0], dtype=np.float64),
        "propagation_rtt_ms": np.array(row[1], dtype=np.float64) if modelled and row[1] is not None else None,
        "modelled": modelled,
        "parts": [],
    }
    for col, label in PARTS:
        if col not in cols:
            continue
        mean, p50, p95 = con.execute(
            f"""SELECT avg({col}), quantile_cont({col}, 0.5), quantile_cont({col}, 0.95)
                FROM steps WHERE served AND isfinite({col})"""
        ).fetchone()
        out["parts"].append({"column": col, "label": label, "mean_ms": f(mean), "p50_ms": f(p50), "p95_ms": f(p95)})
    loss = "loss_prob" in cols and con.execute(
        "SELECT 100 * avg(loss_prob) FROM steps WHERE served AND isfinite(loss_prob)"
    ).fetchone()[0]
    out["loss_pct"] = f(loss) if loss is not None and loss is not False else math.nan
    return out


def _probe_stats(con, lost: str) -> list[dict]:
    rows = con.execute(
        f"""SELECT terminal, count(*), count(*) FILTER (WHERE {lost}), min(t_ns), max(t_ns),
                   quantile_cont(rtt_ms, [0.05, 0.5, 0.95]) FILTER (WHERE NOT {lost})
            FROM pings GROUP BY terminal ORDER BY terminal"""
    ).fetchall()
    out = []
    for g, n, n_lost, t0, t1, q in rows:
        q = q or [None, None, None]
        out.append(
            {
                "terminal": int(g), "pings": int(n), "lost": int(n_lost),
                "loss_pct": 100.0 * int(n_lost) / int(n) if n else math.nan,
                "interval_ms": (int(t1) - int(t0)) / 1e6 / (int(n) - 1) if n and int(n) > 1 else math.nan,
                "p05_ms": f(q[0]), "p50_ms": f(q[1]), "p95_ms": f(q[2]),
            }
        )
    return out


def _ping_series(con, g: int, n: int, lost: str) -> dict:
    if n <= MAX_PINGS:
        rows = con.execute(
            f"SELECT t_ns, CASE WHEN NOT {lost} THEN rtt_ms END, {lost} FROM pings WHERE terminal = ? ORDER BY t_ns", [g]
        ).fetchall()
        return {
            "bucketed": False,
            "t_ns": np.array([r[0] for r in rows], dtype=np.int64),
            "rtt_ms": np.array([f(r[1]) for r in rows]),
            "lost": np.array([bool(r[2]) for r in rows]),
        }
    t0, t1 = con.execute("SELECT min(t_ns), max(t_ns) FROM pings WHERE terminal = ?", [g]).fetchone()
    width = max(1, math.ceil((int(t1) - int(t0) + 1) / PING_BUCKETS))
    rows = con.execute(
        f"""SELECT {int(t0)} + ((t_ns - {int(t0)}) // {width}) * {width} AS b,
                   min(rtt_ms) FILTER (WHERE NOT {lost}), quantile_cont(rtt_ms, 0.5) FILTER (WHERE NOT {lost}),
                   max(rtt_ms) FILTER (WHERE NOT {lost}), count(*) FILTER (WHERE {lost}), count(*)
            FROM pings WHERE terminal = ? GROUP BY 1 ORDER BY 1""",
        [g],
    ).fetchall()
    return {
        "bucketed": True,
        "bucket_s": width / 1e9,
        "t_ns": np.array([r[0] for r in rows], dtype=np.int64),
        "min_ms": np.array([f(r[1]) for r in rows]),
        "p50_ms": np.array([f(r[2]) for r in rows]),
        "max_ms": np.array([f(r[3]) for r in rows]),
        "lost": np.array([int(r[4]) for r in rows]),
        "count": np.array([int(r[5]) for r in rows]),
    }


def _model_series(con, tables, g: int, max_points: int) -> dict:
    """The probe terminal's modelled RTT and floor per step (bucket means beyond ``max_points`` steps)."""
    cols = tables["terminal_steps"]
    floor = "propagation_rtt_ms" in cols
    n = int(con.execute("SELECT count(*) FROM terminal_steps WHERE terminal = ?", [g]).fetchone()[0])
    t0 = con.execute("SELECT min(t_ns), max(t_ns) FROM terminal_steps WHERE terminal = ?", [g]).fetchone()
    if not n or t0[0] is None:
        return {"t_ns": np.empty(0, np.int64), "rtt_ms": np.empty(0), "propagation_rtt_ms": None}
    width = max(1, math.ceil((int(t0[1]) - int(t0[0]) + 1) / max_points)) if n > max_points else 1
    rows = con.execute(
        f"""SELECT min(t_ns), avg(CASE WHEN served AND isfinite(rtt_ms) THEN rtt_ms END),
                   {"avg(CASE WHEN served AND isfinite(propagation_rtt_ms) THEN propagation_rtt_ms END)" if floor else "NULL"}
            FROM terminal_steps WHERE terminal = ? GROUP BY (t_ns - {int(t0[0])}) // {width} ORDER BY 1""",
        [g],
    ).fetchall()
    return {
        "t_ns": np.array([r[0] for r in rows], dtype=np.int64),
        "rtt_ms": np.array([f(r[1]) for r in rows]),
        "propagation_rtt_ms": np.array([f(r[2]) for r in rows]) if floor else None,
    }


def collect_pings(con, tables, moving_ids: list[int], max_points: int) -> dict | None:
    """The probes' pings: a table of every probe and one probe's series, or None without a ``pings`` table.

    Returns
    -------
    dict or None
        ``probes`` (per-probe statistics), ``terminal`` (the drawn probe's
        terminal index), ``series`` (its pings, one by one or bucketed) and
        ``model`` (its modelled RTT and floor per step).
    """
    if not has(tables, "pings", "t_ns", "terminal", "rtt_ms"):
        return None
    lost = "lost" if "lost" in tables["pings"] else "NOT isfinite(rtt_ms)"
    probes = _probe_stats(con, lost)
    if not probes:
        return None
    pick = next((p for p in probes if p["terminal"] in set(moving_ids)), probes[0])
    g = pick["terminal"]
    model = _model_series(con, tables, g, max_points) if has(tables, "terminal_steps", "rtt_ms", "served") else None
    return {"probes": probes, "terminal": g, "series": _ping_series(con, g, pick["pings"], lost), "model": model}
