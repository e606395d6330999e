"""The headline numbers of a run, computed with DuckDB over its tables.

* Availability (``served_pct``) counts *active* terminal-steps: a fleet
  terminal outside its active window, a moving terminal outside its track
  (reason ``inactive``) or on a gap of its track (``no-position``: where it
  was is unknown) is neither served nor unserved.
* RTT percentiles are over served terminal-steps; throughput percentiles over
  active terminal-steps (0 when unserved) when the run models capacity.
* Handovers per terminal-hour count changes of serving satellite (not loss or
  regain of service).
* Cost: the ledger's totals by sponsor, and by sponsor for each month.
* Policy and fault effects: terminals and terminal-hours affected, by region.
* Moving terminals (tracks, routes): how many, the distance they travelled
  in the run window (``terminals.distance_km``), and their handovers per
  hour with a position.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

__all__ = ["summarize_run", "RunSummary"]


def _num(x):
    """DuckDB returns DECIMAL for some arithmetic; JSON wants floats."""
    return None if x is None else float(x)


def _views(con) -> set[str]:
    return {r[0] for r in con.execute("SELECT view_name FROM duckdb_views()").fetchall()} | {
        r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
    }


#: Reasons left out of availability and throughput figures (the terminal is not in the run, or nowhere known).
_LEFT_OUT = "('inactive', 'no-position')"


def _moving(con, views: set[str], hours_per_step: float) -> dict:
    """Moving terminals: count, distance travelled (km), handovers per hour with a position."""
    if "terminal_positions" not in views:
        return {}
    con.execute("CREATE TEMP TABLE movers AS SELECT DISTINCT terminal FROM terminal_positions")
    count, distance = con.execute(
        "SELECT count(*), sum(t.distance_km) FROM movers m JOIN terminals t ON t.index = m.terminal"
    ).fetchone()
    steps = con.execute("SELECT count(*) FROM ts WHERE counted AND terminal IN (SELECT terminal FROM movers)").fetchone()[0]
    handovers = con.execute(
        "SELECT count(*) FROM handovers WHERE from_sat >= 0 AND to_sat >= 0 AND terminal IN (SELECT terminal FROM movers)"
    ).fetchone()[0] if "handovers" in views else 0
    hours = steps * hours_per_step
    return {
        "moving_terminals": int(count),
        "distance_travelled_km": round(float(distance or 0.0), 3),
        "mover_handovers_per_hour": round(handovers / hours, 2) if hours else 0.0,
    }


def summarize_run(run_dir: Path | str, *, step_s: float) -> dict:
    """Served %, RTT, throughput, handovers, cost, policy and fault effects of a run."""
    from .query import open_run

    con = open_run(run_dir, require_complete=False)  # called just before the run is marked complete
    hours_per_step = step_s / 3600.0
    try:
        views = _views(con)
        con.execute("CREATE TEMP VIEW ts AS SELECT * EXCLUDE (reason), CAST(reason AS VARCHAR) AS why, "
                    f"CAST(reason AS VARCHAR) NOT IN {_LEFT_OUT} AS counted FROM terminal_steps")
        total, active, served, p50, p95, terminals, tp50, tp5 = con.execute(
            """
            SELECT count(*), count(*) FILTER (WHERE counted), count(*) FILTER (WHERE served),
                   quantile_cont(rtt_ms, 0.5) FILTER (WHERE served),
                   quantile_cont(rtt_ms, 0.95) FILTER (WHERE served),
                   count(DISTINCT terminal),
                   quantile_cont(throughput_mbps, 0.5) FILTER (WHERE counted),
                   quantile_cont(throughput_mbps, 0.05) FILTER (WHERE counted)
            FROM ts
            """
        ).fetchone()
        reasons = dict(con.execute("SELECT why, count(*) FROM ts GROUP BY 1 ORDER BY 1").fetchall())
        handovers = (
            con.execute("SELECT count(*) FROM handovers WHERE from_sat >= 0 AND to_sat >= 0").fetchone()[0]
            if "handovers" in views
            else 0
        )
        by_region = con.execute(
            """
            SELECT coalesce(nullif(t.region, ''), '(unknown)') AS region,
                   count(DISTINCT s.terminal) AS terminals,
                   round(100.0 * count(*) FILTER (WHERE s.served) / nullif(count(*) FILTER (WHERE s.counted), 0), 2),
                   round(quantile_cont(s.rtt_ms, 0.5) FILTER (WHERE s.served), 2),
                   round(quantile_cont(s.rtt_ms, 0.95) FILTER (WHERE s.served), 2)
            FROM ts s JOIN terminals t ON s.terminal = t.index
            GROUP BY 1 ORDER BY 1
            """
        ).fetchall()
        effects = con.execute(
            f"""
            SELECT s.why, coalesce(nullif(t.region, ''), '(unknown)') AS region,
                   count(DISTINCT s.terminal), round(count(*) * {hours_per_step}, 3)
            FROM ts s JOIN terminals t ON s.terminal = t.index
            WHERE s.why IN ('policy', 'fault', 'capacity')
            GROUP BY 1, 2 ORDER BY 1, 4 DESC
            """
        ).fetchall()
        moving = _moving(con, views, hours_per_step)
        cost = {}
        if "cost_ledger" in views:
            cost["by_sponsor"] = [
                {"sponsor": r[0], "terminal_days": round(float(r[1]), 2), "cost_usd": round(float(r[2]), 2)}
                for r in con.execute(
                    "SELECT sponsor, sum(terminal_days), sum(cost_usd) FROM cost_ledger GROUP BY 1 ORDER BY 1"
                ).fetchall()
            ]
            cost["by_month"] = [
                {"month": r[0], "sponsor": r[1], "terminal_days": round(float(r[2]), 2), "cost_usd": round(float(r[3]), 2)}
                for r in con.execute(
                    "SELECT month, sponsor, sum(terminal_days), sum(cost_usd) FROM cost_ledger GROUP BY 1, 2 ORDER BY 1, 2"
                ).fetchall()
            ]
    finally:
        con.close()
    hours = (total / max(terminals, 1)) * hours_per_step
    out = {
        "terminals": int(terminals),
        "served_pct": round(100.0 * served / active, 2) if active else 0.0,
        "rtt_p50_ms": None if p50 is None else round(p50, 2),
        "rtt_p95_ms": None if p95 is None else round(p95, 2),
        "handovers_per_terminal_hour": round(handovers / max(terminals, 1) / hours, 2) if hours else 0.0,
        "unserved_steps_by_reason": {k: int(v) for k, v in reasons.items() if k not in ("served", "inactive", "no-position")},
        "by_region": [
            {"region": r[0], "terminals": r[1], "served_pct": _num(r[2]), "rtt_p50_ms": _num(r[3]), "rtt_p95_ms": _num(r[4])}
            for r in by_region
        ],
    }
    if tp50 is not None and tp50 == tp50:  # NaN: no throughput was modelled (no [capacity], no fleet demand)
        out["throughput_p50_mbps"] = round(tp50, 2)
        out["throughput_p5_mbps"] = round(tp5, 2)
    if reasons.get("inactive"):
        out["inactive_terminal_steps"] = int(reasons["inactive"])
    if reasons.get("no-position"):
        out["no_position_terminal_steps"] = int(reasons["no-position"])
    out.update(moving)
    if effects:
        out["policy_and_fault_effects"] = [
            {"reason": r[0], "region": r[1], "terminals": r[2], "terminal_hours": _num(r[3])} for r in effects
        ]
    if cost:
        out["cost_by_sponsor"] = cost["by_sponsor"]
        out["cost_by_month"] = cost["by_month"]
    return out


@dataclass(frozen=True)
class RunSummary:
    """The headline numbers of a run (`summarize_run`, as the manifest records them).

    Percentages are of active terminal-steps; RTTs in ms over served
    terminal-steps; rates in Mbit/s.  A figure the run does not model is
    None (e.g. throughput without ``[capacity]`` or fleet demand).
    """

    satellites: int
    steps: int
    terminals: int = 0
    served_pct: float | None = None
    rtt_p50_ms: float | None = None
    rtt_p95_ms: float | None = None
    throughput_p50_mbps: float | None = None
    throughput_p5_mbps: float | None = None
    handovers_per_terminal_hour: float | None = None
    unserved_steps_by_reason: dict = field(default_factory=dict)
    inactive_terminal_steps: int = 0
    no_position_terminal_steps: int = 0
    moving_terminals: int = 0
    distance_travelled_km: float | None = None
    mover_handovers_per_hour: float | None = None
    by_region: list = field(default_factory=list)
    policy_and_fault_effects: list = field(default_factory=list)
    cost_by_sponsor: list = field(default_factory=list)
    cost_by_month: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    satellites_failed_propagation: int = 0
    wall_s: float | None = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict) -> "RunSummary":
        """From the summary dict a manifest holds (keys this class does not know go to ``extra``)."""
        known = {f.name for f in fields(cls)} - {"extra"}
        data = dict(data or {})
        return cls(
            satellites=int(data.pop("satellites", 0)),
            steps=int(data.pop("steps", 0)),
            **{k: data.pop(k) for k in list(data) if k in known},
            extra=data,
        )

    def as_dict(self) -> dict:
        """The summary as the manifest records it (None values left out)."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"}
        return {**{k: v for k, v in out.items() if v is not None}, **self.extra}
