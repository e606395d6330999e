"""Moving terminals and service cut-offs in the report (issue 13).

What the report draws
---------------------
From ``terminal_positions`` (one row per moving terminal and step: position,
speed, ``status`` ``ok`` | ``inactive`` | ``no-position``) joined to the
terminal's steps:

* every moving terminal's *track*, decimated (below), each point with its
  step's state: served and the modelled RTT, or the reason it was not;
* *frames* for the map's time slider: the animated terminals' positions and
  states at up to `MAX_FRAMES` step times spread evenly over the run;
* per terminal: distance travelled, time in the run, share of it without a
  position, maximum speed (the served share, RTT and handovers per hour come
  from the report's per-terminal statistics).

From ``service_events`` (every terminal's cut-offs and restorations): the
first `MAX_EVENTS` in time order, with the place (admin-1 unit and country
from the borders shipped with leonet), and the moving terminals' events as
map markers.  A run without the table (older runs) shows no event, and the
report says they were not recorded: nothing is derived from the steps.

Decimation
----------
A terminal's track keeps at most ``cap`` regularly spaced steps
(``k % stride == 0``, ``stride = ceil(n / cap)``; ``cap`` shares
`MAX_MOVING_POINTS` among the moving terminals, within
[`MIN_POINTS_PER_TERMINAL`, `MAX_POINTS_PER_TERMINAL`]) plus its last step
and the first step of every change of state (served, a reason, no position),
so that a cut-off is drawn where it happened, not up to ``stride`` steps
later.  When a terminal changes state more than ``cap`` times, only every
``ceil(changes / cap)``-th change is kept, so no track exceeds ``2 cap + 1``
points whatever the run.  Steps without a position have NaN coordinates and
break the line.

Distance travelled is ``terminals.distance_km`` when the run has it (the
engine's exact length of the connected legs inside the run window, which
the run's summary adds up).  Otherwise it is the sum of great-circle legs
(haversine on the mean Earth radius, `leonet.ground.sites.MEAN_EARTH_RADIUS_KM`)
between consecutive steps that both have a position, at full resolution (in
DuckDB).  Either way a gap is not bridged by a guessed straight line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from ..ground.sites import MEAN_EARTH_RADIUS_KM
from .base import f, has

__all__ = [
    "Moving",
    "Track",
    "collect_moving",
    "collect_events",
    "moving_extent",
    "MAX_MOVING_POINTS",
    "MAX_FRAMES",
    "MAX_ANIMATED",
    "MAX_EVENTS",
]

#: Track points drawn over all moving terminals (the map's hover text is the
#: heaviest part: ~40 bytes a point).
MAX_MOVING_POINTS = 12_000
#: Track points per terminal at least / at most (before change points).
MIN_POINTS_PER_TERMINAL = 60
MAX_POINTS_PER_TERMINAL = 3_000
#: Frames of the map's time slider.
MAX_FRAMES = 120
#: Moving terminals animated by the slider (the first by index).
MAX_ANIMATED = 40
#: Rows of the cut-offs and restorations table.
MAX_EVENTS = 300
#: Cut-offs and restorations of moving terminals marked on the map.
MAX_EVENT_MARKERS = 1_000

_STATUS = "CAST(p.status AS VARCHAR)"


@dataclass
class Track:
    """One moving terminal's decimated track: arrays of P points in time order."""

    terminal: int
    t_ns: NDArray[np.int64]
    lat_deg: NDArray[np.float64]
    lon_deg: NDArray[np.float64]
    state: list[str]
    rtt_ms: NDArray[np.float64]
    steps: int = 0


@dataclass
class Moving:
    """The run's moving terminals: tracks, slider frames and per-terminal figures."""

    terminals: list[int]
    tracks: list[Track] = field(default_factory=list)
    frame_t_ns: NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    animated: list[int] = field(default_factory=list)
    frame_lat_deg: NDArray[np.float64] | None = None
    frame_lon_deg: NDArray[np.float64] | None = None
    frame_state: list[list[str]] = field(default_factory=list)
    frame_rtt_ms: NDArray[np.float64] | None = None
    stats: dict[int, dict] = field(default_factory=dict)
    events: list[dict] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.terminals)


def _state_sql(tables) -> str:
    """SQL of a step's state: ``served``, a reason, or ``no-position`` (from the position's status)."""
    reason = "CAST(s.reason AS VARCHAR)" if "reason" in tables["terminal_steps"] else "'unserved'"
    return (
        f"CASE WHEN {_STATUS} = 'no-position' THEN 'no-position' WHEN {_STATUS} = 'inactive' THEN 'inactive' "
        f"WHEN s.served IS NULL THEN 'unknown' WHEN s.served THEN 'served' ELSE {reason} END"
    )


def moving_extent(con, tables) -> tuple[list[float], list[float]]:
    """Latitudes and longitudes (deg) of the corners of the moving terminals' positions, for the map's view."""
    if not has(tables, "terminal_positions", "lat_deg", "lon_deg"):
        return [], []
    row = con.execute(
        "SELECT min(lat_deg), max(lat_deg), min(lon_deg), max(lon_deg) FROM terminal_positions "
        "WHERE isfinite(lat_deg) AND isfinite(lon_deg)"
    ).fetchone()
    if row[0] is None:
        return [], []
    return [f(row[0]), f(row[1])], [f(row[2]), f(row[3])]


def collect_moving(con, tables, step_s: float) -> Moving | None:
    """The moving terminals of a run, or None when it has no ``terminal_positions`` (nothing moves, or an older run).

    Needs the temporary view ``steps`` (`leonet.report.data`).
    """
    cols = ("t_ns", "terminal", "lat_deg", "lon_deg", "status")
    if not has(tables, "terminal_positions", *cols) or not has(tables, "terminal_steps", "served"):
        return None
    ids = [int(r[0]) for r in con.execute("SELECT DISTINCT terminal FROM terminal_positions ORDER BY 1").fetchall()]
    if not ids:
        return None
    moving = Moving(ids)
    _tracks(con, tables, moving)
    _frames(con, tables, moving)
    _stats(con, tables, moving, step_s)
    return moving


def _cap(n_terminals: int) -> int:
    return int(min(max(MAX_MOVING_POINTS // max(n_terminals, 1), MIN_POINTS_PER_TERMINAL), MAX_POINTS_PER_TERMINAL))


def _tracks(con, tables, moving: Moving) -> None:
    cap = _cap(len(moving))
    rtt = "s.rtt_ms" if "rtt_ms" in tables["terminal_steps"] else "CAST(NULL AS DOUBLE)"
    rows = con.execute(
        f"""
        WITH j AS (
            SELECT p.t_ns, p.terminal, p.lat_deg, p.lon_deg, {_state_sql(tables)} AS state,
                   CASE WHEN s.served AND isfinite({rtt}) THEN {rtt} END AS rtt
            FROM terminal_positions p LEFT JOIN terminal_steps s ON s.t_ns = p.t_ns AND s.terminal = p.terminal
            WHERE {_STATUS} <> 'inactive'
        ), k AS (
            SELECT *, row_number() OVER w - 1 AS k, count(*) OVER (PARTITION BY terminal) AS n,
                   (lag(state) OVER w) IS DISTINCT FROM state AS changed
            FROM j WINDOW w AS (PARTITION BY terminal ORDER BY t_ns)
        ), c AS (
            SELECT *, sum(CAST(changed AS INTEGER)) OVER w AS c_rank,
                   sum(CAST(changed AS INTEGER)) OVER (PARTITION BY terminal) AS c_n
            FROM k WINDOW w AS (PARTITION BY terminal ORDER BY t_ns)
        )
        SELECT terminal, t_ns, lat_deg, lon_deg, state, rtt, n FROM c
        WHERE k % greatest(1, ceil(n / {cap})) = 0 OR k = n - 1
           OR (changed AND c_rank % greatest(1, ceil(c_n / {cap})) = 0)
        ORDER BY terminal, t_ns
        """
    ).fetchall()
    by: dict[int, list] = {}
    for r in rows:
        by.setdefault(int(r[0]), []).append(r)
    for g in moving.terminals:
        pts = by.get(g, [])
        if not pts:
            continue
        moving.tracks.append(
            Track(
                terminal=g,
                t_ns=np.array([p[1] for p in pts], dtype=np.int64),
                lat_deg=np.array([f(p[2]) for p in pts]),
                lon_deg=np.array([f(p[3]) for p in pts]),
                state=[str(p[4]) for p in pts],
                rtt_ms=np.array([f(p[5]) for p in pts]),
                steps=int(pts[0][6]),
            )
        )


def _frames(con, tables, moving: Moving) -> None:
    steps = np.array(
        [r[0] for r in con.execute("SELECT DISTINCT t_ns FROM terminal_positions ORDER BY 1").fetchall()], dtype=np.int64
    )
    if steps.size == 0:
        return
    pick = np.unique(np.round(np.linspace(0, steps.size - 1, min(MAX_FRAMES, steps.size))).astype(np.int64))
    moving.frame_t_ns = steps[pick]
    moving.animated = moving.terminals[:MAX_ANIMATED]
    F, A = moving.frame_t_ns.size, len(moving.animated)
    lat, lon, rtt = np.full((F, A), np.nan), np.full((F, A), np.nan), np.full((F, A), np.nan)
    state = [["inactive"] * A for _ in range(F)]
    rtt_sql = "s.rtt_ms" if "rtt_ms" in tables["terminal_steps"] else "CAST(NULL AS DOUBLE)"
    rows = con.execute(
        f"""SELECT p.t_ns, p.terminal, p.lat_deg, p.lon_deg, {_state_sql(tables)},
                   CASE WHEN s.served AND isfinite({rtt_sql}) THEN {rtt_sql} END
            FROM terminal_positions p LEFT JOIN terminal_steps s ON s.t_ns = p.t_ns AND s.terminal = p.terminal
            WHERE p.t_ns IN ({", ".join(map(str, moving.frame_t_ns.tolist()))})
              AND p.terminal IN ({", ".join(map(str, moving.animated))})"""
    ).fetchall()
    fi = {int(t): k for k, t in enumerate(moving.frame_t_ns)}
    ai = {g: k for k, g in enumerate(moving.animated)}
    for t, g, la, lo, st, r in rows:
        i, j = fi[int(t)], ai[int(g)]
        lat[i, j], lon[i, j], state[i][j], rtt[i, j] = f(la), f(lo), str(st), f(r)
    moving.frame_lat_deg, moving.frame_lon_deg, moving.frame_state, moving.frame_rtt_ms = lat, lon, state, rtt


def _haversine_sql(r_km: float) -> str:
    return (
        f"2 * {r_km!r} * asin(least(1.0, sqrt(pow(sin(radians(lat_deg - lat0) / 2), 2) "
        "+ cos(radians(lat0)) * cos(radians(lat_deg)) * pow(sin(radians(lon_deg - lon0) / 2), 2))))"
    )


def _distances(con, tables) -> dict[int, float]:
    """``terminals.distance_km`` (the engine's exact distance over the run window), when the run has it."""
    if not has(tables, "terminals", "index", "distance_km"):
        return {}
    rows = con.execute(
        "SELECT index, distance_km FROM terminals WHERE index IN (SELECT DISTINCT terminal FROM terminal_positions)"
    ).fetchall()
    return {int(g): f(km) for g, km in rows}


def _stats(con, tables, moving: Moving, step_s: float) -> None:
    speed = "p.speed_kmh" if "speed_kmh" in tables["terminal_positions"] else "CAST(NULL AS DOUBLE)"
    rows = con.execute(
        f"""
        WITH p AS (
            SELECT p.terminal, p.lat_deg, p.lon_deg, {speed} AS speed, {_STATUS} AS st,
                   lag(p.lat_deg) OVER w AS lat0, lag(p.lon_deg) OVER w AS lon0, lag({_STATUS}) OVER w AS st0
            FROM terminal_positions p WINDOW w AS (PARTITION BY p.terminal ORDER BY p.t_ns)
        )
        SELECT terminal,
               coalesce(sum({_haversine_sql(MEAN_EARTH_RADIUS_KM)}) FILTER (WHERE st = 'ok' AND st0 = 'ok'), 0.0),
               count(*) FILTER (WHERE st = 'ok'), count(*) FILTER (WHERE st = 'no-position'),
               max(speed) FILTER (WHERE st = 'ok' AND isfinite(speed))
        FROM p GROUP BY terminal ORDER BY terminal
        """
    ).fetchall()
    exact = _distances(con, tables)
    for g, km, ok, nopos, vmax in rows:
        in_run = int(ok) + int(nopos)
        moving.stats[int(g)] = {
            "distance_km": exact.get(int(g), f(km)),
            "hours": in_run * step_s / 3600.0,
            "no_position_pct": 100.0 * int(nopos) / in_run if in_run else math.nan,
            "max_speed_kmh": f(vmax),
            "cutoffs": 0,
            "restorations": 0,
        }


# --------------------------------------------------------------------------
# Cut-offs and restorations
# --------------------------------------------------------------------------


def _places(lat: NDArray[np.float64], lon: NDArray[np.float64]) -> list[str]:
    """Where each event happened: admin-1 unit and country, "at sea", or "position unknown"."""
    from ..ground.regions import admin1_of, country_of

    ok = np.isfinite(lat) & np.isfinite(lon)
    out = ["position unknown"] * lat.size
    if not ok.any():
        return out
    units = admin1_of(lat[ok], lon[ok], world=True)
    countries = country_of(lat[ok], lon[ok])
    for k, unit, country in zip(np.flatnonzero(ok).tolist(), units, countries):
        name = ", ".join(x for x in (unit, country) if x)
        out[k] = name or "at sea (no country)"
    return out


def collect_events(con, tables, moving_ids: list[int]) -> dict | None:
    """Cut-offs and restorations from ``service_events``, or None when the run did not record them.

    Returns
    -------
    dict or None
        ``rows`` (the first `MAX_EVENTS` in time order: ``t_ns``,
        ``terminal``, ``event``, ``reason``, ``lat_deg``, ``lon_deg``,
        ``place``), ``total``, ``counts`` (event -> reason -> n), ``per_terminal``
        (terminal -> {event: n}) and ``markers`` (the moving terminals' events,
        at most `MAX_EVENT_MARKERS`).
    """
    if not has(tables, "service_events", "t_ns", "terminal", "event"):
        return None
    cols = tables["service_events"]
    reason = "coalesce(CAST(reason AS VARCHAR), '')" if "reason" in cols else "''"
    lat = "lat_deg" if "lat_deg" in cols else "NULL"
    lon = "lon_deg" if "lon_deg" in cols else "NULL"
    select = f"SELECT t_ns, terminal, CAST(event AS VARCHAR), {reason}, {lat}, {lon} FROM service_events"
    rows = con.execute(f"{select} ORDER BY t_ns, terminal LIMIT {MAX_EVENTS}").fetchall()
    counts: dict[str, dict[str, int]] = {}
    per_terminal: dict[int, dict[str, int]] = {}
    for ev, why, g, n in con.execute(f"SELECT CAST(event AS VARCHAR), {reason}, terminal, count(*) FROM service_events GROUP BY ALL").fetchall():
        counts.setdefault(str(ev), {}).setdefault(str(why), 0)
        counts[str(ev)][str(why)] += int(n)
        per_terminal.setdefault(int(g), {}).setdefault(str(ev), 0)
        per_terminal[int(g)][str(ev)] += int(n)
    markers = []
    if moving_ids:
        markers = con.execute(
            f"{select} WHERE terminal IN ({', '.join(map(str, moving_ids))}) ORDER BY t_ns, terminal LIMIT {MAX_EVENT_MARKERS}"
        ).fetchall()
    places = _places(np.array([f(r[4]) for r in rows]), np.array([f(r[5]) for r in rows]))
    keys = ("t_ns", "terminal", "event", "reason", "lat_deg", "lon_deg")
    return {
        "rows": [dict(zip(keys, (int(r[0]), int(r[1]), str(r[2]), str(r[3]), f(r[4]), f(r[5]))), place=p) for r, p in zip(rows, places)],
        "total": sum(sum(v.values()) for v in counts.values()),
        "counts": counts,
        "per_terminal": per_terminal,
        "markers": [dict(zip(keys, (int(r[0]), int(r[1]), str(r[2]), str(r[3]), f(r[4]), f(r[5])))) for r in markers],
    }
