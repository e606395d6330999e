"""Fuzzing `leonet query RUN "SQL"`: bad SQL, writes, and damaged run directories.

`leonet.results.query.query` either returns an Arrow table or raises a
`QueryError` (the SQL) or a `RunDirectoryError` (the run); statements that write or reach outside the run (``COPY ...
TO``, ``CREATE TABLE``, ``INSTALL``, ``ATTACH``, ``read_csv('/etc/passwd')``...)
always fail, and no file changes anywhere.  The same holds for the
``leonet query`` command (exit status 0 or 2, no traceback), and for runs
whose manifest or Parquet files are damaged.
"""

from __future__ import annotations

import copy
import itertools
import json
import os
import shutil
import warnings
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leonet.cli import main
from leonet.errors import LeonetError, QueryError, RunDirectoryError
from leonet.results.query import list_runs, query

pytestmark = pytest.mark.slow  # a real run, fuzzing or the browser: deselect with -m "not slow"

# A query opens DuckDB over the run's Parquet files: ~50 ms per example.
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: Statements that must fail: they write, change the connection, or read outside the run.
FORBIDDEN = [
    "COPY (SELECT 1) TO '{tmp}/out.csv'",
    "COPY terminal_steps TO '{tmp}/out.parquet' (FORMAT parquet)",
    "EXPORT DATABASE '{tmp}/export'",
    "CREATE TABLE t AS SELECT 1 AS a",
    "CREATE VIEW v AS SELECT 1",
    "CREATE MACRO m(a) AS a + 1",
    "INSERT INTO terminal_steps VALUES (1)",
    "DELETE FROM terminal_steps",
    "UPDATE terminals SET name = 'x'",
    "DROP VIEW terminal_steps",
    "ALTER VIEW terminals RENAME TO t2",
    "INSTALL httpfs",
    "LOAD httpfs",
    "ATTACH '{tmp}/x.db' AS x",
    "DETACH memory",
    "SET enable_external_access = true",
    "SET lock_configuration = false",
    "RESET lock_configuration",
    "SET VARIABLE x = 1",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_csv_auto('/etc/passwd')",
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM read_blob('/etc/passwd')",
    "SELECT * FROM read_json('/etc/passwd')",
    "SELECT * FROM read_parquet('{run}/*.parquet')",
    "SELECT * FROM '/etc/passwd'",
    "SELECT * FROM glob('/*')",
    "SELECT * FROM sniff_csv('/etc/passwd')",
    "SELECT 1; COPY (SELECT 1) TO '{tmp}/out2.csv'",
    "SELECT 1; CREATE TABLE t2 AS SELECT 2",
    "BEGIN TRANSACTION",
    "PREPARE p AS SELECT 1",
    "",
    "   ",
    ";",
    "-- only a comment",
    "SELEC 1",
    "SELECT * FROM nosuch_table",
    "SELECT nosuch_column FROM terminal_steps",
]


@pytest.mark.parametrize("template", FORBIDDEN)
def test_writes_and_outside_reads_fail_and_touch_nothing(toy_run, tmp_path, monkeypatch, snapshot, template):
    monkeypatch.chdir(tmp_path)
    sql = template.format(tmp=tmp_path, run=toy_run)
    home_duckdb = Path.home() / ".duckdb"
    had_home = home_duckdb.exists()
    before = snapshot(toy_run, tmp_path)
    with pytest.raises(QueryError) as info:
        query(toy_run, sql)
    assert "query" in str(info.value)
    assert snapshot(toy_run, tmp_path) == before
    assert home_duckdb.exists() == had_home


def test_reads_still_work(toy_run):
    assert query(toy_run, "SELECT count(*) AS n FROM terminal_steps").to_pylist() == [{"n": 8}]
    assert query(toy_run, "WITH a AS (SELECT 1 AS x) SELECT * FROM a").num_rows == 1
    assert query(toy_run, "EXPLAIN SELECT 1").num_rows == 1
    assert query(toy_run, "DESCRIBE terminal_steps").num_rows > 1


# --------------------------------------------------------------------------
# Random SQL
# --------------------------------------------------------------------------

TABLES = ["terminal_steps", "sat_positions", "handovers", "link_drops", "satellites", "terminals", "gateways", "pops",
          "nosuch", '"terminal_steps"', "(SELECT 1 AS x)", "range(3)", "generate_series(1, 3)", "duckdb_settings()"]
COLUMNS = ["*", "count(*)", "t_ns", "terminal", "rtt_ms", "served", "sat", "x_km", "name", "1", "NULL", "x", "rowid"]
LITERALS = [
    "0", "-1", "1e309", "'nan'::DOUBLE", "'inf'::DOUBLE", "9223372036854775807", "9223372036854775808",
    "170141183460469231731687303715884105727::HUGEINT", "'294247-01-10'::TIMESTAMP", "'infinity'::TIMESTAMP",
    "'-infinity'::DATE", "'infinity'::DATE", "'Infinity'::TIMESTAMPTZ", "TIME '23:59:59'", "INTERVAL 1 DAY",
    "'\\x00'::BLOB", "'日本'", "''", "NULL", "[1, 2]", "{'a': 1}", "MAP {'k': 1}", "union_value(a := 1)",
    "uuid()", "0.1::DECIMAL(38,37)", "1/0", "'x'::INTEGER", "repeat('x', 10000)", "range(3)", "'ab'::BIT",
]
FORBIDDEN_HEADS = ["COPY", "CREATE TABLE t AS", "INSTALL", "ATTACH", "DROP VIEW", "SET", "INSERT INTO t", "LOAD", "EXPORT DATABASE"]


@st.composite
def random_sql(draw) -> str:
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(st.text(max_size=60))
    cols = ", ".join(draw(st.lists(st.one_of(st.sampled_from(COLUMNS), st.sampled_from(LITERALS)), min_size=1, max_size=3)))
    sql = f"SELECT {cols}"
    if draw(st.booleans()):
        sql += f" FROM {draw(st.sampled_from(TABLES))}"
        if draw(st.booleans()):
            sql += f" WHERE {draw(st.sampled_from(COLUMNS[1:]))} {draw(st.sampled_from(['=', '<', 'IS', 'IN', 'LIKE']))} {draw(st.sampled_from(LITERALS))}"
        if draw(st.booleans()):
            sql += f" ORDER BY {draw(st.sampled_from(['1', 'rtt_ms', 'random()', '2']))}"
        if draw(st.booleans()):
            sql += f" LIMIT {draw(st.sampled_from(['0', '1', '-1', '1e9', 'NULL', '9223372036854775808']))}"
    if kind == 1:
        sql = f"{draw(st.sampled_from(FORBIDDEN_HEADS))} {sql}"
    elif kind == 2:
        sql = f"{sql}; {draw(st.sampled_from(FORBIDDEN_HEADS))} x"
    elif kind == 3:  # cut it short
        sql = sql[: draw(st.integers(0, len(sql)))]
    elif kind == 4:  # splice in a few random characters
        i = draw(st.integers(0, len(sql)))
        sql = sql[:i] + draw(st.text(alphabet="'\"();,*-/\\x0 \n", max_size=4)) + sql[i:]
    return sql


def _is_write(sql: str) -> bool:
    return any(head in sql for head in FORBIDDEN_HEADS)


@FUZZ
@given(sql=random_sql())
def test_fuzz_query_sql(toy_run, fuzz_count, snapshot, sql):
    fuzz_count("SQL for leonet.results.query.query")
    before = snapshot(toy_run)
    try:
        table = query(toy_run, sql)
    except QueryError:
        pass
    else:
        assert isinstance(table, pa.Table)
        assert not any(sql.lstrip().upper().startswith(h) for h in FORBIDDEN_HEADS), sql
    assert snapshot(toy_run) == before


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(sql=random_sql(), fmt=st.sampled_from(["table", "csv", "json", "JSON", "", "xml"]))
def test_fuzz_query_command(toy_run, fuzz_count, capsys, sql, fmt):
    fuzz_count("leonet query RUN SQL --format F (CLI)")
    with pytest.raises(SystemExit) as info:
        main(["query", str(toy_run), sql, "--format", fmt])
        raise SystemExit(0)
    out, err = capsys.readouterr()
    assert info.value.code in (0, 2), (info.value.code, err)
    assert "Traceback" not in err
    if info.value.code == 2:
        assert err.strip(), "exit status 2 without a message"


# --------------------------------------------------------------------------
# Damaged run directories
# --------------------------------------------------------------------------

_serial = itertools.count()

_json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=12),
              st.sampled_from(["/etc/passwd", "../../etc/passwd", "nosuch.parquet", "manifest.json", ""])),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=8,
)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


@st.composite
def damages(draw, manifest: dict):
    """(new manifest bytes or None, {relative file: new bytes or None to delete})."""
    kind = draw(st.sampled_from(["manifest", "manifest", "manifest-bytes", "parquet", "parquet-delete"]))
    files: dict[str, bytes | None] = {}
    if kind == "manifest":
        doc = copy.deepcopy(manifest)
        for _ in range(draw(st.integers(1, 3))):
            path = draw(st.sampled_from([p for p in _paths(doc) if p and p[0] in ("chunks", "tables", "status", "scenario", "time_grid", "started_utc")] or [()]))
            if not path:
                doc = draw(_json_values)
                break
            parent = doc
            for key in path[:-1]:
                parent = parent[key]
            if draw(st.booleans()):
                parent[path[-1]] = draw(_json_values)
            else:
                del parent[path[-1]]
        return json.dumps(doc).encode(), files
    if kind == "manifest-bytes":
        data = json.dumps(manifest).encode()
        cut = draw(st.integers(0, len(data)))
        return data[:cut] + draw(st.binary(max_size=8)), files
    names = sorted({info["file"] for chunk in manifest["chunks"] for info in chunk["files"].values()}
                   | {info["file"] for info in manifest["tables"].values()})
    name = draw(st.sampled_from(names))
    if kind == "parquet-delete":
        files[name] = None
    else:
        files[name] = draw(st.sampled_from([b"", b"PAR1", b"PAR1\x00\x00\x00\x00PAR1"])) + draw(st.binary(max_size=64))
    return None, files


@pytest.fixture(scope="module")
def manifest(toy_run):
    return json.loads((toy_run / "manifest.json").read_text())


@pytest.fixture(scope="module")
def damaged_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("damaged")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fuzz_damaged_run_directory(toy_run, manifest, damaged_dir, fuzz_count, data):
    fuzz_count("damaged run directory (manifest.json, Parquet files) for query")
    run = damaged_dir / f"run{next(_serial)}"
    shutil.copytree(toy_run, run)
    new_manifest, files = data.draw(damages(manifest))
    if new_manifest is not None:
        (run / "manifest.json").write_bytes(new_manifest)
    for name, content in files.items():
        if content is None:
            os.unlink(run / name)
        else:
            (run / name).write_bytes(content)
    sql = data.draw(st.sampled_from(["SELECT count(*) FROM terminal_steps", "SELECT * FROM satellites LIMIT 1", "SELECT 1"]))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "the run is not complete" when the status was damaged
            query(run, sql)
    except LeonetError as exc:
        assert str(run) in str(exc), exc
    rows = list_runs(run)  # `leonet runs`: a damaged run is listed, never an error
    assert [r["run"] for r in rows] == [str(run)]
    shutil.rmtree(run)


# --------------------------------------------------------------------------
# Regressions: bugs the fuzzing above found
# --------------------------------------------------------------------------


@pytest.mark.parametrize("sql", ["CREATE TABLE t AS SELECT 1 AS a", "CREATE VIEW v AS SELECT 1", "DROP VIEW terminal_steps", "USE memory"])
def test_found_statements_that_changed_the_connection_were_accepted(toy_run, sql):
    # Was: accepted (an empty table); `leonet query` is read-only.
    with pytest.raises(QueryError, match="statements are not allowed: `leonet query` only reads"):
        query(toy_run, sql)


def test_found_empty_sql_returned_an_empty_table(toy_run):
    with pytest.raises(QueryError, match="no SQL statement given"):
        query(toy_run, "  -- nothing\n")


@pytest.mark.parametrize("literal", ["'infinity'::TIMESTAMP", "'294247-01-10'::TIMESTAMP", "'-infinity'::DATE"])
def test_found_timestamps_python_cannot_hold(toy_run, capsys, literal):
    # Was: OverflowError ("date value out of range") from to_pylist in `leonet query`.
    with pytest.raises(SystemExit) as info:
        main(["query", str(toy_run), f"SELECT {literal} AS t"])
    err = capsys.readouterr().err
    assert info.value.code == 2 and "Traceback" not in err
    assert "cast that column to text, e.g. CAST(t AS VARCHAR)" in err
    main(["query", str(toy_run), f"SELECT CAST({literal} AS VARCHAR) AS t"])  # the fix works


def _damaged_copy(toy_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(toy_run, run)
    return run


@pytest.mark.parametrize("edit", ["chunks-null", "chunk-no-files", "file-missing-key", "tables-list", "manifest-list"])
def test_found_manifest_of_the_wrong_shape(toy_run, tmp_path, edit):
    # Was: TypeError / KeyError / AttributeError from run_tables and open_run.
    run = _damaged_copy(toy_run, tmp_path)
    manifest = json.loads((run / "manifest.json").read_text())
    if edit == "chunks-null":
        manifest["chunks"] = None
    elif edit == "chunk-no-files":
        del manifest["chunks"][0]["files"]
    elif edit == "file-missing-key":
        del manifest["tables"]["satellites"]["file"]
    elif edit == "tables-list":
        manifest["tables"] = [1]
    else:
        manifest = [manifest]
    (run / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(RunDirectoryError, match=f"{run}/manifest.json: manifest is corrupt .*re-run or resume the run"):
        query(run, "SELECT 1")


@pytest.mark.parametrize("damage", ["delete", "empty", "garbage"])
def test_found_missing_or_damaged_parquet_file(toy_run, tmp_path, damage):
    # Was: FileNotFoundError / pyarrow.lib.ArrowInvalid from pyarrow.dataset in open_run.
    # Since issue 10 every file is checked against its manifest record before DuckDB sees it.
    run = _damaged_copy(toy_run, tmp_path)
    target = run / "gateways.parquet"
    if damage == "delete":
        target.unlink()
    else:
        target.write_bytes(b"" if damage == "empty" else b"PAR1 not parquet")
    with pytest.raises(RunDirectoryError, match=f"{run}/gateways.parquet: (the manifest lists this file but it is missing|its contents are not what this run wrote).*resume"):
        query(run, "SELECT 1")


@pytest.mark.parametrize("key, value", [("scenario", None), ("time_grid", None), ("time_grid", [1]), ("started_utc", 5)])
def test_found_runs_with_a_manifest_of_the_wrong_shape(toy_run, tmp_path, capsys, key, value):
    # Was: AttributeError ('NoneType' object has no attribute 'get') from list_runs / `leonet runs`.
    run = _damaged_copy(toy_run, tmp_path)
    manifest = json.loads((run / "manifest.json").read_text())
    manifest[key] = value
    (run / "manifest.json").write_text(json.dumps(manifest))
    shutil.copytree(toy_run, tmp_path / "good")
    rows = list_runs(tmp_path)  # and a started_utc that is not text still sorts
    assert {r["run"]: r["status"] for r in rows} == {
        str(run): "corrupt manifest" if key != "started_utc" else "complete",
        str(tmp_path / "good"): "complete",
    }
    main(["runs", str(tmp_path)])
    assert "complete" in capsys.readouterr().out
