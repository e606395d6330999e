"""What the report shows, computed with DuckDB over a run's tables.

The representation
------------------
`collect` opens the run read-only (`leonet.results.query.open_run`) and
returns a `ReportData`: plain numpy arrays, lists and dicts, already reduced
to what is drawn -- per-terminal and per-region aggregates, time series
downsampled to at most `MAX_POINTS` time buckets, RTT quantiles at
`CDF_LEVELS` levels, one satellite snapshot and a few ground tracks.  No
whole table is ever loaded into Python: every reduction is a DuckDB query,
so the cost in memory is the size of the report, not of the run.

Optional sections
-----------------
A section is filled when the run has the table or columns it needs and is
``None`` (or empty) otherwise; `ReportData.skipped` says why each missing
section is missing.  Tables and columns are found by their *columns*, not
their names, so the report keeps working as the engine grows:

* throughput: a ``throughput_mbps`` (or ``throughput_bps``) column in
  ``terminal_steps``, or in another table keyed by ``(t_ns, terminal)``;
* utilisation: every numeric column whose name contains ``utilisation`` or
  ``utilization`` in a table with ``t_ns`` (a share in [0, 1], or a percent
  when the name ends in ``_pct``);
* cost: a table with ``sponsor``, ``month`` and ``cost_usd``
  (`leonet.service.costs.LEDGER_SCHEMA`);
* service areas: the ``policies`` of the scenario in the manifest;
* moving terminals: ``terminal_positions`` (`leonet.report.moving`);
* cut-offs and restorations: ``service_events`` -- absent, the report says
  they were not recorded and derives nothing from the steps;
* the latency model's parts: ``propagation_rtt_ms`` and the other parts in
  ``terminal_steps`` (`leonet.report.latency`); without them ``rtt_ms`` is
  the propagation round trip of a run older than the model;
* pings: a ``pings`` table (the scenario's ``[[probes]]``).

The map's view frames the terminals (moving ones along their tracks) and
the gateways and PoPs that the routes used; other sites are drawn outside it.

Definitions (the same as `leonet.results.summary`)
--------------------------------------------------
*Served share* counts terminal-steps.  Terminal-steps of an inactive
terminal (an ``active`` column that is false, reason ``inactive``) and of a
moving terminal without a position (reason ``no-position``) are left out of
every figure, as the service layer specifies.  RTT percentiles are over served
terminal-steps.  Handovers per terminal-hour count changes of serving
satellite, not losses or regains of service.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ..results.query import open_run, read_manifest
from ..results.store import run_status
from . import geo
from .areas import region_lines, rule_area
from .base import Series
from .base import epoch_of as _epoch
from .base import f as _f
from .base import q as _q
from .base import times as _times
from .latency import collect_latency, collect_pings
from .moving import Moving, collect_events, collect_moving, moving_extent

__all__ = ["ReportData", "Sites", "Series", "collect", "MAX_POINTS", "CDF_LEVELS"]

#: Time buckets per time series; longer runs are averaged into buckets of
#: whole steps.  1,200 points is more than a 1,400 px wide chart can show.
MAX_POINTS = 1200
#: Quantile levels of the RTT CDFs: 0, 1, ..., 100 %.
CDF_LEVELS = 101
#: Terminals whose RTT is drawn over time.
RTT_TERMINALS = 4
#: Satellites whose ground track is drawn.
TRACK_SATELLITES = 6
#: Points per ground track at most.
MAX_TRACK_POINTS = 400
#: Width / height of the map's view on screen (the report's map card).
MAP_ASPECT = 1.8
#: Rows of the "worst terminals" table.
WORST_TERMINALS = 20
#: Satellites drawn in the snapshot at most (those nearest the view centre).
MAX_SNAPSHOT_SATELLITES = 3000

#: The reason of a terminal-step of an inactive fleet terminal (not a failure).
INACTIVE = "inactive"
#: Reasons of terminal-steps left out of every figure, as `leonet.results.summary` leaves them out of
#: availability: the terminal is not in the run (``inactive``), or where it was is unknown
#: (``no-position``: a moving terminal on a gap of its track).
LEFT_OUT = (INACTIVE, "no-position")
_UTILISATION = re.compile(r"utili[sz]ation", re.IGNORECASE)
_NUMERIC = ("DOUBLE", "FLOAT", "REAL", "DECIMAL", "INTEGER", "BIGINT", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER")


@dataclass
class Sites:
    """Ground sites with their names (user strings) and positions."""

    names: list[str]
    ids: list[str]
    lat_deg: NDArray[np.float64]
    lon_deg: NDArray[np.float64]
    regions: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.names)


@dataclass
class ReportData:
    run_dir: Path
    manifest: dict
    tables: dict[str, dict[str, str]]
    headline: dict
    view: geo.View
    terminals: Sites | None = None
    terminal_stats: dict[str, NDArray] | None = None
    gateways: Sites | None = None
    pops: Sites | None = None
    backhaul: list[tuple[int, int]] = field(default_factory=list)
    snapshot: dict | None = None
    tracks: list[dict] = field(default_factory=list)
    reasons: Series | None = None
    rtt_terminals: Series | None = None
    links: Series | None = None
    throughput: Series | None = None
    utilisation: list[dict] = field(default_factory=list)
    rtt_cdf: list[dict] = field(default_factory=list)
    regions: list[dict] = field(default_factory=list)
    worst_terminals: list[dict] = field(default_factory=list)
    cost: dict | None = None
    service_areas: list[dict] = field(default_factory=list)
    faults: list[dict] = field(default_factory=list)
    moving: Moving | None = None
    frame_t_ns: NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    events: dict | None = None
    latency: dict | None = None
    pings: dict | None = None
    skipped: list[str] = field(default_factory=list)

    @property
    def moving_ids(self) -> set[int]:
        """Indices of the moving terminals (empty when none moves or the run does not say)."""
        return set(self.moving.terminals) if self.moving is not None else set()




def _table_columns(con, names) -> dict[str, dict[str, str]]:
    out = {}
    for name in sorted(names):
        rows = con.execute(f"DESCRIBE {_q(name)}").fetchall()
        out[name] = {r[0]: str(r[1]).upper() for r in rows}
    return out


def _is_numeric(sql_type: str) -> bool:
    return sql_type.split("(")[0] in _NUMERIC








def _sites(con, name: str) -> Sites:
    rows = con.execute(
        f"SELECT name, id, lat_deg, lon_deg, coalesce(region, ''), coalesce(country_iso2, '') FROM {_q(name)} ORDER BY index"
    ).fetchall()
    return Sites(
        names=[str(r[0]) for r in rows],
        ids=[str(r[1]) for r in rows],
        lat_deg=np.array([_f(r[2]) for r in rows]),
        lon_deg=np.array([_f(r[3]) for r in rows]),
        regions=[str(r[4]) for r in rows],
        countries=[str(r[5]) for r in rows],
    )


def collect(run_dir: Path | str) -> ReportData:
    """Everything the report draws, from a run directory.

    Parameters
    ----------
    run_dir : path
        A directory written by ``leonet run`` (complete or not: the chunks
        the manifest lists are used).

    Returns
    -------
    ReportData

    Raises
    ------
    ScenarioError
        When ``run_dir`` is not a leonet run.
    """
    run_dir = Path(run_dir)
    manifest = read_manifest(run_dir)
    # The report states the run's status itself (header), so no warning for an unfinished run.
    con = open_run(run_dir, require_complete=False)
    try:
        return _collect(con, run_dir, manifest)
    finally:
        con.close()


def _collect(con, run_dir: Path, manifest: dict) -> ReportData:
    tables = _table_columns(con, [r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()])
    grid = manifest.get("time_grid", {})
    step_ns = int(grid.get("step_ns") or round(float(manifest.get("scenario", {}).get("time", {}).get("step_s", 1.0)) * 1e9))
    step_s = step_ns / 1e9
    epoch = _epoch(manifest)
    data = ReportData(run_dir=run_dir, manifest=manifest, tables=tables, headline={}, view=geo.WORLD)
    h = data.headline
    h["satellites"] = int(manifest.get("satellites") or _count(con, tables, "satellites"))
    h["steps"] = int(grid.get("steps") or 0)
    h["step_s"] = step_s
    h["epoch_utc"] = epoch
    h["status"] = run_status(run_dir, manifest)

    for name in ("terminals", "gateways", "pops"):
        if name in tables:
            setattr(data, name, _sites(con, name))
    steps = "terminal_steps" in tables and {"t_ns", "terminal", "served"} <= set(tables["terminal_steps"])
    data.view = _view(con, data, steps)
    if steps:
        thr = _steps_view(con, tables)
        h["throughput"] = thr
        bucket_ns = step_ns * max(1, math.ceil(max(h["steps"], 1) / MAX_POINTS))
        _headline(con, data, step_s)
        _terminal_stats(con, data, step_s)
        _regions(con, data, step_s)
        _reasons(con, data, epoch, bucket_ns, step_ns)
        _rtt_terminals(con, data, epoch, bucket_ns, step_ns)
        if thr:
            _throughput(con, data, epoch, bucket_ns, step_ns)
        else:
            data.skipped.append("throughput: the run has no throughput values (capacity was not simulated)")
        _backhaul(con, data)
        _moving_and_latency(con, data, step_s)
    else:
        data.skipped.append("terminals: the run has no terminal_steps table (no ground segment)")
    _utilisation(con, data, epoch, step_ns)
    _links(con, data, epoch, step_ns)
    _snapshot(con, data, epoch, steps)
    _cost(con, data)
    _service_areas(data)
    _frames(data, step_ns)
    return data


#: Frames of the map's time slider when only service areas change (moving terminals bring their own).
AREA_FRAMES = 120


def _frames(data: ReportData, step_ns: int) -> None:
    """Times of the map's slider: the moving terminals' frames, else, when a service area is dated, steps spread over the run."""
    if data.moving is not None and data.moving.frame_t_ns.size:
        data.frame_t_ns = data.moving.frame_t_ns
    elif any(a["shapes"] for a in data.service_areas) and data.headline["steps"]:
        steps = data.headline["steps"]
        k = np.unique(np.round(np.linspace(0, steps - 1, min(AREA_FRAMES, steps))).astype(np.int64))
        data.frame_t_ns = k * step_ns


def _view(con, data: ReportData, steps: bool) -> geo.View:
    """The map's view: every terminal (moving ones along their tracks) and the gateways and PoPs the routes used.

    A run draws on a catalogue of sites around the world (all of Starlink's
    PoPs, say) but uses a few: framing them all would shrink the terminals
    to a dot.  Sites the run never routed through are still drawn, outside
    the view (pan or zoom out to see them).  Without routes, every site frames it.
    """
    cols = data.tables.get("terminal_steps", {})
    lat, lon = [], []
    for name, sites in (("terminals", data.terminals), ("gateway", data.gateways), ("pop", data.pops)):
        if sites is None:
            continue
        pick = np.arange(len(sites))
        if name != "terminals" and steps and name in cols:
            used = [int(r[0]) for r in con.execute(f"SELECT DISTINCT {name} FROM terminal_steps WHERE {name} >= 0").fetchall()]
            pick = np.array([k for k in used if k < len(sites)], dtype=np.int64)
        lat.append(sites.lat_deg[pick])
        lon.append(sites.lon_deg[pick])
    m_lat, m_lon = moving_extent(con, data.tables)
    lat.append(np.array(m_lat))
    lon.append(np.array(m_lon))
    return geo.view_of(np.concatenate(lat), np.concatenate(lon)).widened(MAP_ASPECT)


def _moving_and_latency(con, data: ReportData, step_s: float) -> None:
    """Moving terminals, cut-offs and restorations, the latency model's parts, the probes' pings (or why not)."""
    tables = data.tables
    data.moving = collect_moving(con, tables, step_s)
    if data.moving is None and "terminal_positions" in tables:
        data.skipped.append("moving terminals: none moved in this run (terminal_positions has no row)")
    elif data.moving is None:
        data.skipped.append("moving terminals: the run has no terminal_positions table (no terminal moves, or the run predates them)")
    data.events = collect_events(con, tables, sorted(data.moving_ids))
    if data.events is None:
        data.skipped.append("cut-offs and restorations: not recorded (the run has no service_events table)")
    elif data.moving is not None:
        for g, n in data.events["per_terminal"].items():
            if g in data.moving.stats:
                data.moving.stats[g]["cutoffs"] = n.get("cut-off", 0)
                data.moving.stats[g]["restorations"] = n.get("restored", 0)
    data.latency = collect_latency(con, tables)
    if data.latency is not None and not data.latency["modelled"]:
        data.skipped.append("latency model: the run predates it (no propagation_rtt_ms): its RTT is propagation only")
    data.pings = collect_pings(con, tables, sorted(data.moving_ids), MAX_POINTS)
    if data.pings is None:
        data.skipped.append("pings: the scenario has no [[probes]] (no pings table)")


def _count(con, tables, name) -> int:
    return int(con.execute(f"SELECT count(*) FROM {_q(name)}").fetchone()[0]) if name in tables else 0


def _steps_view(con, tables) -> bool:
    """Create the temporary view ``steps``: active terminal-steps, with ``throughput_mbps`` when known.

    Inactive terminal-steps (reason ``inactive``, or an ``active`` column
    that is false) and steps without a position (``no-position``) are left out.  Throughput and demand that are not finite
    (NaN: capacity not simulated) become NULL, so aggregates skip them.
    Returns whether the run has any throughput value.
    """
    cols = tables["terminal_steps"]
    where = []
    if cols.get("active") == "BOOLEAN":
        where.append("s.active")
    if "reason" in cols:
        left_out = ", ".join(f"'{r}'" for r in LEFT_OUT)
        where.append(f"coalesce(CAST(s.reason AS VARCHAR) NOT IN ({left_out}), true)")
    where_sql = ("WHERE " + " AND ".join(where)) if where else ""
    replace = [c for c in ("throughput_mbps", "throughput_bps", "demand_mbps") if c in cols]
    select = "s.*" + (f" EXCLUDE ({', '.join(replace)})" if replace else "")
    extra = [f"CASE WHEN isfinite(s.{c}) THEN s.{c} END AS {c}" for c in replace if c != "throughput_bps"]
    join = ""
    if "throughput_mbps" not in cols and "throughput_bps" in cols:
        extra.append("CASE WHEN isfinite(s.throughput_bps) THEN s.throughput_bps / 1e6 END AS throughput_mbps")
    elif "throughput_mbps" not in cols:
        for name, other in tables.items():
            if name == "terminal_steps" or not {"t_ns", "terminal"} <= set(other):
                continue
            unit = "" if "throughput_mbps" in other else " / 1e6" if "throughput_bps" in other else None
            if unit is None:
                continue
            col = "throughput_mbps" if unit == "" else "throughput_bps"
            extra.append(f"CASE WHEN isfinite(x.{col}) THEN x.{col}{unit} END AS throughput_mbps")
            join = f"LEFT JOIN {_q(name)} x ON x.t_ns = s.t_ns AND x.terminal = s.terminal"
            break
    con.execute(f"CREATE TEMP VIEW steps AS SELECT {', '.join([select] + extra)} FROM terminal_steps s {join} {where_sql}")
    if "throughput_mbps" not in {r[0] for r in con.execute("DESCRIBE steps").fetchall()}:
        return False
    return bool(con.execute("SELECT count(throughput_mbps) > 0 FROM steps").fetchone()[0])


def _handovers_sql(tables) -> str | None:
    if "handovers" in tables and {"terminal", "from_sat", "to_sat"} <= set(tables["handovers"]):
        return "SELECT terminal, count(*) AS n FROM handovers WHERE from_sat >= 0 AND to_sat >= 0 GROUP BY terminal"
    return None


def _headline(con, data: ReportData, step_s: float) -> None:
    h = data.headline
    thr = h["throughput"]
    row = con.execute(
        f"""
        SELECT count(*), count(*) FILTER (WHERE served), count(DISTINCT terminal),
               quantile_cont(rtt_ms, 0.5) FILTER (WHERE served),
               quantile_cont(rtt_ms, 0.95) FILTER (WHERE served),
               {"quantile_cont(throughput_mbps, 0.5) FILTER (WHERE served), avg(throughput_mbps) FILTER (WHERE served)" if thr else "NULL, NULL"}
        FROM steps
        """
    ).fetchone()
    total, served, terminals = int(row[0]), int(row[1]), int(row[2])
    h["terminal_steps"] = total
    h["terminals_active"] = terminals
    h["terminals"] = len(data.terminals) if data.terminals is not None else terminals
    h["served_pct"] = 100.0 * served / total if total else float("nan")
    h["rtt_p50_ms"], h["rtt_p95_ms"] = _f(row[3]), _f(row[4])
    h["throughput_p50_mbps"], h["throughput_mean_mbps"] = _f(row[5]), _f(row[6])
    hours = total * step_s / 3600.0
    h["terminal_hours"] = hours
    ho = _handovers_sql(data.tables)
    n_ho = int(con.execute(f"SELECT coalesce(sum(n), 0) FROM ({ho})").fetchone()[0]) if ho else 0
    h["handovers"] = n_ho if ho else None
    h["handovers_per_terminal_hour"] = n_ho / hours if ho and hours else float("nan")
    h["unserved_by_reason"] = dict(
        con.execute(
            "SELECT CAST(reason AS VARCHAR), count(*) FROM steps WHERE NOT served GROUP BY 1 ORDER BY 2 DESC"
        ).fetchall()
    ) if "reason" in data.tables["terminal_steps"] else {}


def _terminal_stats(con, data: ReportData, step_s: float) -> None:
    thr = data.headline["throughput"]
    ho = _handovers_sql(data.tables)
    reason = "mode(CAST(reason AS VARCHAR)) FILTER (WHERE NOT served)" if "reason" in data.tables["terminal_steps"] else "NULL"
    rows = con.execute(
        f"""
        WITH a AS (
            SELECT terminal, count(*) AS n, avg(CAST(served AS DOUBLE)) AS served,
                   quantile_cont(rtt_ms, 0.5) FILTER (WHERE served) AS p50,
                   quantile_cont(rtt_ms, 0.95) FILTER (WHERE served) AS p95,
                   {"quantile_cont(throughput_mbps, 0.5) FILTER (WHERE served)" if thr else "NULL"} AS thr,
                   {reason} AS why
            FROM steps GROUP BY terminal
        )
        SELECT a.terminal, a.n, a.served, a.p50, a.p95, a.thr, a.why, {"coalesce(h.n, 0)" if ho else "NULL"}
        FROM a {f"LEFT JOIN ({ho}) h ON h.terminal = a.terminal" if ho else ""}
        ORDER BY a.terminal
        """
    ).fetchall()
    n_sites = len(data.terminals) if data.terminals is not None else (max((r[0] for r in rows), default=-1) + 1)
    stats = {
        "steps": np.zeros(n_sites, np.int64),
        "served_share": np.full(n_sites, np.nan),
        "rtt_p50_ms": np.full(n_sites, np.nan),
        "rtt_p95_ms": np.full(n_sites, np.nan),
        "throughput_p50_mbps": np.full(n_sites, np.nan),
        "handovers_per_hour": np.full(n_sites, np.nan),
    }
    why = [""] * n_sites
    for t, n, served, p50, p95, thr_v, reason_v, n_ho in rows:
        if not 0 <= t < n_sites:
            continue
        stats["steps"][t] = n
        stats["served_share"][t] = _f(served)
        stats["rtt_p50_ms"][t] = _f(p50)
        stats["rtt_p95_ms"][t] = _f(p95)
        stats["throughput_p50_mbps"][t] = _f(thr_v)
        hours = n * step_s / 3600.0
        stats["handovers_per_hour"][t] = (n_ho / hours) if (n_ho is not None and hours) else np.nan
        why[t] = reason_v or ""
    data.terminal_stats = stats
    if data.terminals is None:
        return
    order = sorted(
        (t for t in range(n_sites) if stats["steps"][t] > 0),
        key=lambda t: (stats["served_share"][t], -np.nan_to_num(stats["rtt_p95_ms"][t], nan=np.inf)),
    )
    data.worst_terminals = [
        {
            "name": data.terminals.names[t],
            "id": data.terminals.ids[t],
            "region": data.terminals.regions[t],
            "served_pct": 100.0 * stats["served_share"][t],
            "rtt_p50_ms": stats["rtt_p50_ms"][t],
            "rtt_p95_ms": stats["rtt_p95_ms"][t],
            "throughput_p50_mbps": stats["throughput_p50_mbps"][t],
            "handovers_per_hour": stats["handovers_per_hour"][t],
            "main_unserved_reason": why[t],
        }
        for t in order[:WORST_TERMINALS]
    ]


_REGION = "coalesce(nullif(t.region, ''), nullif(t.country_iso2, ''), '(unknown)')"
#: Moving terminals cross regions: they form their own group.
MOVING_GROUP = "(moving terminals)"


def _region_sql(tables) -> str:
    if "terminal_positions" not in tables:
        return _REGION
    return f"CASE WHEN t.index IN (SELECT DISTINCT terminal FROM terminal_positions) THEN '{MOVING_GROUP}' ELSE {_REGION} END"


def _regions(con, data: ReportData, step_s: float) -> None:
    if "terminals" not in data.tables:
        return
    ho = _handovers_sql(data.tables)
    levels = [k / (CDF_LEVELS - 1) for k in range(CDF_LEVELS)]
    rows = con.execute(
        f"""
        SELECT {_region_sql(data.tables)} AS region, count(DISTINCT s.terminal), count(*),
               avg(CAST(s.served AS DOUBLE)),
               quantile_cont(s.rtt_ms, 0.5) FILTER (WHERE s.served),
               quantile_cont(s.rtt_ms, 0.95) FILTER (WHERE s.served),
               quantile_cont(s.rtt_ms, ?) FILTER (WHERE s.served)
        FROM steps s JOIN terminals t ON s.terminal = t.index
        GROUP BY 1 ORDER BY 5 NULLS LAST, 1
        """,
        [levels],
    ).fetchall()
    ho_by_region = {}
    if ho:
        ho_by_region = dict(
            con.execute(f"SELECT {_region_sql(data.tables)}, sum(h.n) FROM ({ho}) h JOIN terminals t ON h.terminal = t.index GROUP BY 1").fetchall()
        )
    for region, terminals, n, served, p50, p95, q in rows:
        hours = n * step_s / 3600.0
        data.regions.append(
            {
                "region": str(region),
                "terminals": int(terminals),
                "served_pct": 100.0 * _f(served),
                "rtt_p50_ms": _f(p50),
                "rtt_p95_ms": _f(p95),
                "handovers_per_terminal_hour": (float(ho_by_region.get(region, 0)) / hours) if ho and hours else float("nan"),
            }
        )
        if q is not None:
            data.rtt_cdf.append({"region": str(region), "terminals": int(terminals), "rtt_ms": np.array(q, dtype=np.float64)})
    overall = con.execute("SELECT quantile_cont(rtt_ms, ?) FILTER (WHERE served) FROM steps", [levels]).fetchone()[0]
    if overall is not None:
        data.rtt_cdf.insert(0, {"region": "All terminals", "terminals": data.headline["terminals_active"], "rtt_ms": np.array(overall, dtype=np.float64)})


def _bucket_axis(con, data: ReportData, epoch, bucket_ns: int, step_ns: int):
    """The time buckets of the steps view: int64[B] bucket starts, and their labels."""
    tb = np.array(
        [r[0] for r in con.execute(f"SELECT DISTINCT (t_ns // {bucket_ns}) * {bucket_ns} FROM steps ORDER BY 1").fetchall()],
        dtype=np.int64,
    )
    return tb, _times(epoch, tb)


def _reasons(con, data: ReportData, epoch, bucket_ns: int, step_ns: int) -> None:
    tb, labels = _bucket_axis(con, data, epoch, bucket_ns, step_ns)
    if tb.size == 0:
        return
    has_reason = "reason" in data.tables["terminal_steps"]
    what = "CAST(reason AS VARCHAR)" if has_reason else "CASE WHEN served THEN 'served' ELSE 'unserved' END"
    rows = con.execute(
        f"SELECT (t_ns // {bucket_ns}) * {bucket_ns} AS b, {what} AS r, count(*) FROM steps GROUP BY ALL"
    ).fetchall()
    where = {int(t): k for k, t in enumerate(tb)}
    counts: dict[str, NDArray] = {}
    total = np.zeros(tb.size)
    for b, r, n in rows:
        col = counts.setdefault(str(r), np.zeros(tb.size))
        col[where[int(b)]] += n
        total[where[int(b)]] += n
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = {r: 100.0 * c / total for r, c in counts.items()}
    ordered = {"served": shares.pop("served", np.zeros(tb.size))}
    ordered.update(sorted(shares.items(), key=lambda kv: -float(np.nansum(kv[1]))))
    data.reasons = Series(labels, ordered, bucket_ns / 1e9)


def _rtt_terminals(con, data: ReportData, epoch, bucket_ns: int, step_ns: int) -> None:
    stats = data.terminal_stats
    if stats is None or data.terminals is None:
        return
    active = np.flatnonzero((stats["steps"] > 0) & np.isfinite(stats["rtt_p50_ms"]))
    if active.size == 0:
        return
    by_rtt = active[np.argsort(stats["rtt_p50_ms"][active], kind="stable")]
    picks: list[tuple[int, str]] = []

    def add(t: int, why: str) -> None:
        if all(t != p for p, _ in picks) and len(picks) < RTT_TERMINALS:
            picks.append((int(t), why))

    add(by_rtt[0], "lowest median RTT")
    add(by_rtt[len(by_rtt) // 2], "median terminal")
    add(by_rtt[-1], "highest median RTT")
    worst = active[np.argsort(stats["served_share"][active], kind="stable")][0]
    if stats["served_share"][worst] < 1.0:
        add(worst, "least served")
    for t in active[np.argsort(-np.nan_to_num(stats["rtt_p95_ms"][active]), kind="stable")]:
        add(t, "highest p95 RTT")
    tb, labels = _bucket_axis(con, data, epoch, bucket_ns, step_ns)
    where = {int(t): k for k, t in enumerate(tb)}
    ids = [t for t, _ in picks]
    rows = con.execute(
        f"""SELECT (t_ns // {bucket_ns}) * {bucket_ns}, terminal, avg(rtt_ms) FILTER (WHERE served)
            FROM steps WHERE terminal IN ({", ".join(str(t) for t in ids)}) GROUP BY ALL"""
    ).fetchall()
    cols = {t: np.full(tb.size, np.nan) for t in ids}
    for b, t, v in rows:
        cols[int(t)][where[int(b)]] = _f(v)
    names = data.terminals.names
    series = {}
    for t, why in picks:
        region = data.terminals.regions[t]
        label = f"{names[t]} ({region}; {why})" if region else f"{names[t]} ({why})"
        series[label] = cols[t]
    data.rtt_terminals = Series(labels, series, bucket_ns / 1e9)


def _throughput(con, data: ReportData, epoch, bucket_ns: int, step_ns: int) -> None:
    tb, labels = _bucket_axis(con, data, epoch, bucket_ns, step_ns)
    where = {int(t): k for k, t in enumerate(tb)}
    demand = "demand_mbps" in data.tables["terminal_steps"] and bool(
        con.execute("SELECT count(demand_mbps) > 0 FROM steps").fetchone()[0]
    )
    rows = con.execute(
        f"""SELECT (t_ns // {bucket_ns}) * {bucket_ns},
                   avg(throughput_mbps) FILTER (WHERE served),
                   quantile_cont(throughput_mbps, 0.1) FILTER (WHERE served),
                   {"avg(demand_mbps)" if demand else "NULL"}
            FROM steps GROUP BY 1"""
    ).fetchall()
    cols = {"mean": np.full(tb.size, np.nan), "p10": np.full(tb.size, np.nan)}
    if demand:
        cols["demand"] = np.full(tb.size, np.nan)
    for b, mean, p10, dem in rows:
        k = where[int(b)]
        cols["mean"][k], cols["p10"][k] = _f(mean), _f(p10)
        if demand:
            cols["demand"][k] = _f(dem)
    data.throughput = Series(labels, cols, bucket_ns / 1e9)


def _utilisation(con, data: ReportData, epoch, step_ns: int) -> None:
    steps = max(data.headline["steps"], 1)
    bucket_ns = step_ns * max(1, math.ceil(steps / MAX_POINTS))
    for table, cols in data.tables.items():
        if "t_ns" not in cols:
            continue
        for col, kind in cols.items():
            if not _UTILISATION.search(col) or not _is_numeric(kind):
                continue
            scale = 1.0 if col.lower().endswith("_pct") else 100.0
            rows = con.execute(
                f"""SELECT (t_ns // {bucket_ns}) * {bucket_ns} AS b, avg({_q(col)}), max({_q(col)})
                    FROM {_q(table)} WHERE isfinite({_q(col)}) GROUP BY 1 ORDER BY 1"""
            ).fetchall()
            if not rows:
                continue
            tb = np.array([r[0] for r in rows], dtype=np.int64)
            data.utilisation.append(
                {
                    "label": table.replace("_", " ") + ("" if col.lower() in ("utilisation", "utilization") else f" {col}"),
                    "series": Series(
                        _times(epoch, tb),
                        {"mean": scale * np.array([_f(r[1]) for r in rows]), "max": scale * np.array([_f(r[2]) for r in rows])},
                        bucket_ns / 1e9,
                    ),
                }
            )
    if not data.utilisation:
        data.skipped.append("utilisation: no table has a *utilisation column (capacity was not simulated)")


def _links(con, data: ReportData, epoch, step_ns: int) -> None:
    cols = data.tables.get("link_drops", {})
    keys = [k for k in ("isl_active", "isl_dropped", "gateway_links") if k in cols]
    if "t_ns" not in cols or not keys:
        return
    bucket_ns = step_ns * max(1, math.ceil(max(data.headline["steps"], 1) / MAX_POINTS))
    rows = con.execute(
        f"SELECT (t_ns // {bucket_ns}) * {bucket_ns} AS b, {', '.join(f'avg({k})' for k in keys)} FROM link_drops GROUP BY 1 ORDER BY 1"
    ).fetchall()
    if not rows:
        return
    tb = np.array([r[0] for r in rows], dtype=np.int64)
    data.links = Series(
        _times(epoch, tb), {k: np.array([_f(r[j + 1]) for r in rows]) for j, k in enumerate(keys)}, bucket_ns / 1e9
    )


def _backhaul(con, data: ReportData) -> None:
    cols = data.tables["terminal_steps"]
    if not {"gateway", "pop"} <= set(cols):
        return
    rows = con.execute(
        "SELECT DISTINCT gateway, pop FROM steps WHERE gateway >= 0 AND pop >= 0 ORDER BY 1, 2"
    ).fetchall()
    data.backhaul = [(int(g), int(p)) for g, p in rows]


def _snapshot(con, data: ReportData, epoch, have_steps: bool) -> None:
    cols = data.tables.get("sat_positions", {})
    if not {"t_ns", "sat", "lat_deg", "lon_deg"} <= set(cols):
        data.skipped.append("satellites: the run has no sat_positions table")
        return
    span = con.execute("SELECT min(t_ns), max(t_ns) FROM sat_positions").fetchone()
    if span[0] is None:
        return
    mid = (int(span[0]) + int(span[1])) // 2
    t_snap = int(
        con.execute("SELECT t_ns FROM sat_positions WHERE sat = (SELECT min(sat) FROM sat_positions) ORDER BY abs(t_ns - ?), t_ns LIMIT 1", [mid]).fetchone()[0]
    )
    v = data.view
    c_lon = 0.5 * (v.lon_min_deg + v.lon_max_deg)
    c_lat = v.mid_lat_deg
    m_lon = (v.lon_max_deg - v.lon_min_deg) * 0.03
    m_lat = (v.lat_max_deg - v.lat_min_deg) * 0.03
    has_names = "satellites" in data.tables
    rows = con.execute(
        f"""
        SELECT p.sat, p.lat_deg, p.lon_deg, {"p.altitude_km" if "altitude_km" in cols else "NULL"},
               {"s.name, s.shell" if has_names else "NULL, NULL"}
        FROM sat_positions p {"LEFT JOIN satellites s ON s.sat = p.sat" if has_names else ""}
        WHERE p.t_ns = ? AND p.lon_deg BETWEEN ? AND ? AND p.lat_deg BETWEEN ? AND ?
        ORDER BY (p.lon_deg - ?) ^ 2 + (p.lat_deg - ?) ^ 2
        LIMIT {MAX_SNAPSHOT_SATELLITES}
        """,
        [t_snap, v.lon_min_deg - m_lon, v.lon_max_deg + m_lon, v.lat_min_deg - m_lat, v.lat_max_deg + m_lat, c_lon, c_lat],
    ).fetchall()
    rows.sort(key=lambda r: r[0])
    total = int(con.execute("SELECT count(*) FROM sat_positions WHERE t_ns = ?", [t_snap]).fetchone()[0])
    serving: dict[int, int] = {}
    links: list[tuple[int, int]] = []
    if have_steps and "sat" in data.tables["terminal_steps"]:
        links = [(int(t), int(s)) for t, s in con.execute(
            "SELECT terminal, sat FROM steps WHERE t_ns = ? AND sat >= 0 AND served ORDER BY terminal", [t_snap]
        ).fetchall()]
        for _, s in links:
            serving[s] = serving.get(s, 0) + 1
    pos = {int(r[0]): (float(r[1]), float(r[2])) for r in rows}
    missing = sorted({s for _, s in links} - set(pos))
    if missing:
        for s, lat, lon in con.execute(
            f"SELECT sat, lat_deg, lon_deg FROM sat_positions WHERE t_ns = ? AND sat IN ({', '.join(map(str, missing))})", [t_snap]
        ).fetchall():
            pos[int(s)] = (float(lat), float(lon))
    data.snapshot = {
        "t_ns": t_snap,
        "t_utc": _times(epoch, np.array([t_snap]))[0],
        "sat": np.array([r[0] for r in rows], dtype=np.int32),
        "lat_deg": np.array([_f(r[1]) for r in rows]),
        "lon_deg": np.array([_f(r[2]) for r in rows]),
        "altitude_km": np.array([_f(r[3]) for r in rows]),
        "name": [str(r[4]) if r[4] is not None else f"sat {r[0]}" for r in rows],
        "shell": [str(r[5]) if r[5] is not None else "" for r in rows],
        "serving": np.array([serving.get(int(r[0]), 0) for r in rows], dtype=np.int32),
        "links": [(t, pos[s]) for t, s in links if s in pos],
        "total": total,
    }
    # Ground tracks: the satellites serving the most terminals at the
    # snapshot (else the ones nearest the view centre), over the whole run.
    if serving:
        chosen = sorted(serving, key=lambda s: (-serving[s], s))[:TRACK_SATELLITES]
    else:
        chosen = [int(r[0]) for r in con.execute(
            "SELECT sat FROM sat_positions WHERE t_ns = ? ORDER BY (lon_deg - ?) ^ 2 + (lat_deg - ?) ^ 2 LIMIT ?",
            [t_snap, c_lon, c_lat, TRACK_SATELLITES],
        ).fetchall()]
    if not chosen:
        return
    n_times = int(con.execute("SELECT count(DISTINCT t_ns) FROM sat_positions WHERE sat = ?", [chosen[0]]).fetchone()[0])
    stride = max(1, math.ceil(n_times / MAX_TRACK_POINTS))
    names = dict(
        con.execute(f"SELECT sat, name FROM satellites WHERE sat IN ({', '.join(map(str, chosen))})").fetchall()
    ) if has_names else {}
    rows = con.execute(
        f"""SELECT sat, t_ns, lat_deg, lon_deg FROM (
                SELECT *, row_number() OVER (PARTITION BY sat ORDER BY t_ns) - 1 AS k FROM sat_positions
                WHERE sat IN ({", ".join(map(str, chosen))})
            ) WHERE k % {stride} = 0 OR t_ns = ? ORDER BY sat, t_ns""",
        [t_snap],
    ).fetchall()
    for s in chosen:
        pts = [(r[2], r[3]) for r in rows if r[0] == s]
        if not pts:
            continue
        lat = np.array([p[0] for p in pts])
        lon = np.array([p[1] for p in pts])
        data.tracks.append(
            {"sat": s, "name": str(names.get(s, f"sat {s}")), "terminals": serving.get(s, 0), **_break_wraps(lat, lon)}
        )


def _break_wraps(lat: NDArray, lon: NDArray) -> dict:
    """Insert NaN where a track crosses the antimeridian, so no line spans the map."""
    jumps = np.flatnonzero(np.abs(np.diff(lon)) > 180.0) + 1
    return {"lat_deg": np.insert(lat, jumps, np.nan), "lon_deg": np.insert(lon, jumps, np.nan)}


def _cost(con, data: ReportData) -> None:
    for name, cols in data.tables.items():
        if {"sponsor", "month", "cost_usd"} <= set(cols):
            break
    else:
        data.skipped.append("cost: the run has no cost ledger (a table with sponsor, month, cost_usd)")
        return
    days = "sum(terminal_days)" if "terminal_days" in cols else "NULL"
    rows = con.execute(
        f"SELECT CAST(month AS VARCHAR), CAST(sponsor AS VARCHAR), sum(cost_usd), {days} FROM {_q(name)} GROUP BY 1, 2 ORDER BY 1, 2"
    ).fetchall()
    if not rows:
        data.skipped.append(f"cost: the cost ledger ({name}) is empty")
        return
    months = sorted({r[0] for r in rows})
    totals: dict[str, float] = {}
    tdays: dict[str, float] = {}
    for _, s, c, d in rows:
        totals[s] = totals.get(s, 0.0) + _f(c)
        tdays[s] = tdays.get(s, 0.0) + (_f(d) if d is not None else 0.0)
    sponsors = sorted(totals, key=lambda s: -totals[s])
    matrix = {s: np.zeros(len(months)) for s in sponsors}
    for m, s, c, _ in rows:
        matrix[s][months.index(m)] += _f(c)
    data.cost = {
        "table": name,
        "months": months,
        "by_sponsor_month": matrix,
        "total_by_sponsor": totals,
        "terminal_days_by_sponsor": tdays if "terminal_days" in cols else None,
        "total_usd": float(sum(totals.values())),
    }
    data.headline["cost_total_usd"] = data.cost["total_usd"]


def _parse_time(value) -> dt.datetime | None:
    if value is None:
        return None
    try:
        when = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)


#: Parameters of a fault worth showing, in this order (`leonet.scenario.service`).
_FAULT_DETAILS = (
    ("gateways", "gateways {}"),
    ("fraction", "fraction {:g}"),
    ("probability", "probability {:g} per terminal-step"),
    ("share", "capacity share lost {:g}"),
    ("region", "in {}"),
)


def _service_areas(data: ReportData) -> None:
    """The scenario's service-area rules (``policies``) and faults: tables, map outlines and time windows."""
    sc = data.manifest.get("scenario") or {}
    for k, rule in enumerate(sc.get("policies") or []):
        if isinstance(rule, dict):
            data.service_areas.append(rule_area(data.manifest, rule, k, data.view, data.headline["epoch_utc"]))
    h = data.headline
    start = h["epoch_utc"]
    end = start + dt.timedelta(seconds=h["steps"] * h["step_s"])
    for k, fault in enumerate(sc.get("faults") or []):
        if not isinstance(fault, dict):
            continue
        kind = str(fault.get("kind", "fault"))
        details = []
        for key, fmt in _FAULT_DETAILS:
            value = fault.get(key)
            if value is None:
                continue
            details.append(fmt.format(", ".join(map(str, value)) if isinstance(value, list) else value))
        spec = fault.get("region")
        lines, note = region_lines(data.manifest, spec, data.view) if spec is not None else (None, "")
        entry = {
            "name": str(fault.get("name") or f"{kind} {k + 1}"),
            "kind": kind,
            "from": fault.get("from"),
            "until": fault.get("until"),
            "details": "; ".join(details),
            "lines": lines,
            "note": note,
            "window": None,
        }
        f0 = _parse_time(fault.get("from")) or start
        f1 = _parse_time(fault.get("until")) or end
        if f0 < end and f1 > start and (f0 > start or f1 < end):
            # Only windows that start or end inside the run are worth a band on the time axis.
            entry["window"] = (
                max(f0, start).strftime("%Y-%m-%d %H:%M:%S"),
                min(f1, end).strftime("%Y-%m-%d %H:%M:%S"),
            )
        data.faults.append(entry)
