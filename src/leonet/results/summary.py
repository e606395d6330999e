"""The headline numbers of a run, computed with DuckDB over its tables.

Served share counts terminal-steps; RTT percentiles are over served
terminal-steps; handovers per hour are per terminal (changes of serving
satellite, not counting loss or regain of service).
"""

from __future__ import annotations

from pathlib import Path

from .query import open_run

__all__ = ["summarize_run"]


def summarize_run(run_dir: Path | str, *, step_s: float) -> dict:
    """Served %, RTT p50/p95 overall and by region, handovers per terminal-hour."""
    con = open_run(run_dir)
    try:
        total, served, p50, p95, terminals = con.execute(
            """
            SELECT count(*), count(*) FILTER (WHERE served),
                   quantile_cont(rtt_ms, 0.5) FILTER (WHERE served),
                   quantile_cont(rtt_ms, 0.95) FILTER (WHERE served),
                   count(DISTINCT terminal)
            FROM terminal_steps
            """
        ).fetchone()
        reasons = dict(
            con.execute("SELECT CAST(reason AS VARCHAR), count(*) FROM terminal_steps GROUP BY 1 ORDER BY 1").fetchall()
        )
        handovers = con.execute(
            "SELECT count(*) FROM handovers WHERE from_sat >= 0 AND to_sat >= 0"
        ).fetchone()[0] if _has(con, "handovers") else 0
        by_region = con.execute(
            """
            SELECT coalesce(nullif(t.region, ''), '(unknown)') AS region,
                   count(DISTINCT s.terminal) AS terminals,
                   round(100.0 * avg(CAST(s.served AS DOUBLE)), 2) AS served_pct,
                   round(quantile_cont(s.rtt_ms, 0.5) FILTER (WHERE s.served), 2) AS rtt_p50_ms,
                   round(quantile_cont(s.rtt_ms, 0.95) FILTER (WHERE s.served), 2) AS rtt_p95_ms
            FROM terminal_steps s JOIN terminals t ON s.terminal = t.index
            GROUP BY 1 ORDER BY 1
            """
        ).fetchall()
    finally:
        con.close()
    hours = (total / max(terminals, 1)) * step_s / 3600.0
    return {
        "terminals": int(terminals),
        "served_pct": round(100.0 * served / total, 2) if total else 0.0,
        "rtt_p50_ms": None if p50 is None else round(p50, 2),
        "rtt_p95_ms": None if p95 is None else round(p95, 2),
        "handovers_per_terminal_hour": round(handovers / max(terminals, 1) / hours, 2) if hours else 0.0,
        "unserved_steps_by_reason": {k: int(v) for k, v in reasons.items() if k != "served"},
        "by_region": [
            {"region": r[0], "terminals": r[1], "served_pct": r[2], "rtt_p50_ms": r[3], "rtt_p95_ms": r[4]}
            for r in by_region
        ],
    }


def _has(con, name: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name = ?", [name]).fetchone()[0]) or bool(
        con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [name]).fetchone()[0]
    )
