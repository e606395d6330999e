"""Query a run's tables with DuckDB, read-only.

Every table of the run is registered as a DuckDB view over a lazily scanned
Arrow dataset of exactly the files the manifest lists (so files of a chunk
that never finished are invisible).  External access is then switched off and
the configuration locked: a query can read the run's tables and nothing else,
and cannot write files (``COPY ... TO``) or read other paths.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds

from ..errors import ScenarioError
from .store import MANIFEST

__all__ = ["open_run", "run_tables", "query", "read_manifest", "list_runs"]


def read_manifest(run_dir: Path | str) -> dict:
    """The run's manifest; a clear error when ``run_dir`` is not a leonet run."""
    path = Path(run_dir) / MANIFEST
    if not path.is_file():
        raise ScenarioError(f"{run_dir}: not a leonet run (no {MANIFEST}); give the directory a `leonet run` wrote")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: manifest is corrupt ({exc}); re-run or resume the run") from None
    if not isinstance(manifest, dict):
        raise ScenarioError(f"{path}: manifest is corrupt (a JSON {type(manifest).__name__}, not an object); re-run or resume the run")
    if not isinstance(manifest.get("chunks", []), list) or not isinstance(manifest.get("tables", {}), dict):
        raise ScenarioError(f"{path}: manifest is corrupt (\"chunks\" is not a list or \"tables\" not an object); re-run or resume the run")
    return manifest


def run_tables(run_dir: Path | str) -> dict[str, list[Path]]:
    """Table name -> the Parquet files of the finished chunks (or the single file)."""
    run_dir = Path(run_dir)
    manifest = read_manifest(run_dir)
    files: dict[str, list[Path]] = {}
    try:
        for chunk in manifest.get("chunks", []):
            for name, info in chunk["files"].items():
                files.setdefault(name, []).append(run_dir / info["file"])
        for name, info in manifest.get("tables", {}).items():
            files.setdefault(name, []).append(run_dir / info["file"])
    except (AttributeError, KeyError, TypeError) as exc:
        raise ScenarioError(
            f"{run_dir / MANIFEST}: manifest is corrupt (its list of chunks and tables does not read: "
            f"{type(exc).__name__}: {exc}); re-run or resume the run"
        ) from None
    return files


def open_run(run_dir: Path | str, *, require_complete: bool = True):
    """A DuckDB connection with the run's tables as views, read-only.

    A run that has not finished a single chunk has no results: asking for it
    is an error, so that a run killed at its start is never mistaken for an
    empty result.  A partly finished run can be queried (its finished chunks),
    with a warning.
    """
    import warnings

    import duckdb

    manifest = read_manifest(run_dir)
    if require_complete and manifest.get("status") != "complete":
        chunks = len(manifest.get("chunks", []))
        if chunks == 0:
            raise ScenarioError(
                f"{run_dir}: this run has not finished any chunk yet (status {manifest.get('status')!r}), so it has "
                f"no results; continue it with `leonet run --resume {run_dir}`"
            )
        warnings.warn(
            f"{run_dir}: the run is not complete ({chunks} chunks finished); results cover only those; "
            f"continue it with `leonet run --resume {run_dir}`",
            stacklevel=2,
        )
    tables = run_tables(run_dir)
    con = duckdb.connect(":memory:")
    for name, paths in tables.items():
        try:
            dataset = ds.dataset([str(p) for p in paths], format="parquet")
            con.register(name, dataset)
        except (OSError, pa.ArrowException, duckdb.Error) as exc:  # a missing, truncated or foreign file
            con.close()
            raise ScenarioError(
                f"{run_dir}: table {name!r} cannot be read ({str(exc).strip()[:300]}); a file the manifest lists is "
                f"missing or damaged: re-run the scenario, or resume the run (leonet run --resume {run_dir})"
            ) from None
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def query(run_dir: Path | str, sql: str) -> pa.Table:
    """Run one SQL statement over a run's tables; return an Arrow table.

    Raises
    ------
    ScenarioError
        For SQL errors, with DuckDB's message and the tables available.
    """
    import duckdb

    con = open_run(run_dir)
    try:
        _check_read_only(con, sql)
        relation = con.sql(sql)
        table = pa.table({}) if relation is None else _to_arrow(relation)
    except duckdb.Error as exc:
        names = ", ".join(sorted(run_tables(run_dir))) or "(none yet)"
        raise ScenarioError(f"query failed: {str(exc).strip()}\n  tables in {run_dir}: {names}") from None
    finally:
        con.close()
    return table


#: Statement kinds a query may hold.  The connection is in memory and cannot
#: touch files, but CREATE, DROP, SET... would still change it; `leonet query` only reads.
_READ_ONLY = ("SELECT", "EXPLAIN", "CALL", "PRAGMA")


def _check_read_only(con, sql: str) -> None:
    statements = con.extract_statements(sql)  # a syntax error raises duckdb.ParserException
    if not statements:
        raise ScenarioError("query: no SQL statement given; write one, e.g. SELECT count(*) FROM terminal_steps")
    for statement in statements:
        kind = statement.type.name
        if kind not in _READ_ONLY:
            raise ScenarioError(
                f"query: {kind} statements are not allowed: `leonet query` only reads a run's tables "
                f"({', '.join(_READ_ONLY)}); to keep a result, print it with --format csv and redirect it to a file"
            )


def _to_arrow(relation) -> pa.Table:
    # DuckDB 2.x names it to_arrow_table; 1.x arrow().
    fetch = getattr(relation, "to_arrow_table", None) or relation.arrow
    table = fetch()
    return table if isinstance(table, pa.Table) else pa.Table.from_batches(table)


def list_runs(directory: Path | str) -> list[dict]:
    """Runs found directly below ``directory`` (and ``directory`` itself), newest first."""
    directory = Path(directory)
    candidates = [directory] + sorted(p for p in directory.iterdir() if p.is_dir()) if directory.is_dir() else []
    rows = []
    for path in candidates:
        if not (path / MANIFEST).is_file():
            continue
        try:
            m = read_manifest(path)
            rows.append(
                {
                    "run": str(path),
                    "scenario": m.get("scenario", {}).get("scenario", {}).get("name", "?"),
                    "status": m.get("status", "?"),
                    "started_utc": m.get("started_utc", ""),
                    "steps": m.get("time_grid", {}).get("steps", 0),
                    "chunks_done": len(m.get("chunks", [])),
                }
            )
        except (ScenarioError, AttributeError, TypeError):  # unreadable, or not the shape leonet writes
            rows.append({"run": str(path), "status": "corrupt manifest"})
    rows.sort(key=lambda r: str(r.get("started_utc", "")), reverse=True)
    return rows
