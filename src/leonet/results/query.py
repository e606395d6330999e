"""Query a run's tables with DuckDB, read-only and within limits.

Every table of the run is registered as a DuckDB view over a lazily scanned
Arrow dataset of exactly the files the manifest lists, each checked against
its recorded size, time and sha256 first (`leonet.results.store.listed_files`),
so files of a chunk that never finished, files left by another run and files
outside the run directory are invisible.  External access is then switched
off and the configuration locked: a query can read the run's tables and
nothing else, and cannot write files (``COPY ... TO``) or read other paths.

Limits
------
A query runs for at most ``timeout_s`` seconds (default `DEFAULT_TIMEOUT_S`),
DuckDB may use at most ``memory_limit`` (default `DEFAULT_MEMORY_LIMIT`)
and never spills to disk, and a result holds at most ``max_rows`` rows
(default `DEFAULT_MAX_ROWS`).  Reaching a limit is a `QueryError` that names
it and how to raise it.
"""

from __future__ import annotations

import re
import threading
import warnings
from pathlib import Path

import pyarrow as pa

from ..errors import QueryError, RunDirectoryError
from .store import MANIFEST, listed_files, read_manifest, run_status

__all__ = [
    "open_run",
    "run_tables",
    "query",
    "read_manifest",
    "list_runs",
    "DEFAULT_TIMEOUT_S",
    "DEFAULT_MEMORY_LIMIT",
    "DEFAULT_MAX_ROWS",
]

#: Longest a query may run, s.
DEFAULT_TIMEOUT_S = 300.0
#: Most memory DuckDB may use for a query (DuckDB's size syntax).
DEFAULT_MEMORY_LIMIT = "4GB"
#: Most rows a query result may hold.
DEFAULT_MAX_ROWS = 10_000_000

_MEMORY = re.compile(r"^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$", re.IGNORECASE)


def run_tables(run_dir: Path | str, *, verify: bool = True) -> dict[str, list[Path]]:
    """Table name -> the Parquet files of the finished chunks (or the single file), verified."""
    return listed_files(run_dir, verify=verify)


def open_run(run_dir: Path | str, *, require_complete: bool = True, memory_limit: str = DEFAULT_MEMORY_LIMIT):
    """A DuckDB connection with the run's tables as views, read-only.

    A run that has not finished a single chunk has no results: asking for it
    is an error, so that a run killed at its start is never mistaken for an
    empty result.  A partly finished run can be queried (its finished chunks),
    with a warning.

    Raises
    ------
    RunDirectoryError
        Not a run, no finished chunk, or a listed file is missing, damaged,
        foreign or outside the run.
    QueryError
        ``memory_limit`` is not a size.
    """
    import duckdb
    import pyarrow.dataset as ds

    if not isinstance(memory_limit, str) or not _MEMORY.match(memory_limit):
        raise QueryError(f"memory_limit={memory_limit!r} is not a size; give e.g. '4GB' or '512MB'")
    manifest = read_manifest(run_dir)
    status = run_status(run_dir, manifest)
    if require_complete and status != "complete":
        chunks = len(manifest.get("chunks", []))
        if chunks == 0:
            raise RunDirectoryError(
                f"{run_dir}: this run has not finished any chunk yet (status {status!r}), so it has "
                f"no results; continue it with leonet.resume({str(run_dir)!r})"
            )
        warnings.warn(
            f"{run_dir}: the run is {status} ({chunks} chunks finished); results cover only those"
            + ("" if status == "running" else f"; continue it with leonet.resume({str(run_dir)!r})"),
            stacklevel=2,
        )
    tables = listed_files(run_dir, manifest)
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute("SET temp_directory = ''")  # never spill to disk (an in-memory database would use ./.tmp)
        con.execute(f"SET memory_limit = '{memory_limit.strip()}'")
        for name, paths in tables.items():
            try:
                dataset = ds.dataset([str(p) for p in paths], format="parquet")
                con.register(name, dataset)
            except (OSError, pa.ArrowException, duckdb.Error) as exc:  # schemas of the chunks disagree, ...
                raise RunDirectoryError(
                    f"{run_dir}: table {name!r} cannot be read ({str(exc).strip()[:300]}); a file the manifest lists is "
                    f"missing or damaged: re-run the scenario, or resume the run (leonet.resume({str(run_dir)!r}))"
                ) from None
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con


def query(
    run_dir: Path | str,
    sql: str,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> pa.Table:
    """Run one read-only SQL statement over a run's tables; return an Arrow table.

    Parameters
    ----------
    run_dir : path
    sql : str
        DuckDB SQL: SELECT, EXPLAIN, CALL or PRAGMA statements only.
    timeout_s : float
        Stop the query after this many seconds.
    memory_limit : str
        Most memory DuckDB may use (e.g. ``"4GB"``).
    max_rows : int
        Most rows the result may hold.

    Raises
    ------
    QueryError
        SQL errors (with DuckDB's message and the tables available), a
        statement that would change something, or a limit reached.
    RunDirectoryError
        The run cannot be read (see `open_run`).
    """
    import duckdb

    if not (isinstance(timeout_s, (int, float)) and 0 < timeout_s <= 7 * 86400):
        raise QueryError(f"timeout_s={timeout_s!r}: give a number of seconds above 0 (at most a week)")
    if not (isinstance(max_rows, int) and max_rows >= 1):
        raise QueryError(f"max_rows={max_rows!r}: give a whole number of rows, at least 1")
    con = open_run(run_dir, memory_limit=memory_limit)
    timer = threading.Timer(timeout_s, con.interrupt)
    timer.daemon = True
    timer.start()
    try:
        _check_read_only(con, sql)
        relation = con.sql(sql)
        table = pa.table({}) if relation is None else _fetch(relation, max_rows)
    except duckdb.InterruptException:
        raise QueryError(
            f"query: stopped after {timeout_s:g} s (timeout_s); make it cheaper (filter, aggregate, LIMIT) or allow "
            "longer (timeout_s=)"
        ) from None
    except duckdb.OutOfMemoryException:
        raise QueryError(
            f"query: needs more memory than its limit of {memory_limit} (memory_limit); make it cheaper (filter, "
            "aggregate, LIMIT) or allow more (memory_limit=)"
        ) from None
    except duckdb.Error as exc:
        names = ", ".join(sorted(run_tables(run_dir, verify=False))) or "(none yet)"
        raise QueryError(f"query failed: {str(exc).strip()}\n  tables in {run_dir}: {names}") from None
    finally:
        timer.cancel()
        con.close()
    return table


#: Statement kinds a query may hold.  The connection is in memory and cannot
#: touch files, but CREATE, DROP, SET... would still change it; `leonet query` only reads.
_READ_ONLY = ("SELECT", "EXPLAIN", "CALL", "PRAGMA")


def _check_read_only(con, sql: str) -> None:
    if not isinstance(sql, str):
        raise QueryError(f"query: the SQL must be text, got {type(sql).__name__}")
    statements = con.extract_statements(sql)  # a syntax error raises duckdb.ParserException
    if not statements:
        raise QueryError("query: no SQL statement given; write one, e.g. SELECT count(*) FROM terminal_steps")
    for statement in statements:
        kind = statement.type.name
        if kind not in _READ_ONLY:
            raise QueryError(
                f"query: {kind} statements are not allowed: `leonet query` only reads a run's tables "
                f"({', '.join(_READ_ONLY)}); to keep a result, print it with --format csv and redirect it to a file"
            )


def _fetch(relation, max_rows: int) -> pa.Table:
    """The relation's rows as an Arrow table, refusing more than ``max_rows``."""
    # DuckDB 2.x: to_arrow_reader; 1.x: fetch_record_batch.
    fetch = getattr(relation, "to_arrow_reader", None) or getattr(relation, "fetch_record_batch", None)
    reader = None if fetch is None else fetch(65_536)
    if reader is None:  # pragma: no cover - older DuckDB
        table = relation.arrow()
        batches = table.to_batches() if isinstance(table, pa.Table) else list(table)
        schema = batches[0].schema if batches else table.schema
    else:
        schema, batches = reader.schema, []
        rows = 0
        for batch in reader:
            rows += batch.num_rows
            if rows > max_rows:
                raise QueryError(
                    f"query: the result has more than {max_rows:,} rows (max_rows); aggregate or add a LIMIT, or "
                    "allow more (max_rows=)"
                )
            batches.append(batch)
    return pa.Table.from_batches(batches, schema=schema)


def list_runs(directory: Path | str) -> list[dict]:
    """Runs found directly below ``directory`` (and ``directory`` itself), newest first.

    A run whose manifest cannot be read is listed with status ``corrupt manifest``.
    """
    directory = Path(directory)
    try:
        candidates = [directory] + sorted(p for p in directory.iterdir() if p.is_dir()) if directory.is_dir() else []
    except OSError:
        candidates = []
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
                    "status": run_status(path, m),
                    "started_utc": str(m.get("started_utc", "")),
                    "steps": m.get("time_grid", {}).get("steps", 0),
                    "chunks_done": len(m.get("chunks", [])),
                }
            )
        except (RunDirectoryError, AttributeError, TypeError):  # unreadable, or not the shape leonet writes
            rows.append({"run": str(path), "status": "corrupt manifest"})
    rows.sort(key=lambda r: str(r.get("started_utc", "")), reverse=True)
    return rows
