"""Fixtures of the report tests: a tiny run (seconds), the same run with service-layer tables, a browser.

The tiny scenario: a toy Walker shell (24 x 22 at 550 km, 53 deg), four
terminals over Ukraine given by coordinates -- one named
``<script>alert(1)</script>`` -- one gateway from ``[[ground.gateways.extra]]``
and one PoP from ``[[ground.pops.extra]]``, 10 minutes in 10 s steps.  The
scenario's own name and description are hostile too.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import textwrap
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)
import pyarrow.parquet as pq
import pytest

from leonet.engine.run import run_scenario
from leonet.results.query import open_run
from leonet.results.store import write_table_atomic
from leonet.scenario.load import load_scenario

from report_scene import CHROMIUM_ARGS, EVIL, INACTIVE_STEPS, MOVING, POLICIES, TINY

#: A real drive (GPX), shipped for the moving-terminal tests (tests/data/tracks/README.md).
TRACK = Path(__file__).resolve().parents[1] / "data" / "tracks" / "around-visnjan-with-car.gpx"


def _write(tmp: Path, text: str, name: str) -> Path:
    path = tmp / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("tiny")
    run_scenario(load_scenario(_write(tmp, TINY, "tiny.toml")), tmp / "run")
    return tmp / "run"


@pytest.fixture(scope="session")
def bare_run(tmp_path_factory) -> Path:
    """A run with satellites only (no ground segment)."""
    tmp = tmp_path_factory.mktemp("bare")
    text = TINY[: TINY.index("[ground.terminals]")] + "[output]\nchunk_steps = 30\n"
    run_scenario(load_scenario(_write(tmp, text, "bare.toml")), tmp / "run")
    return tmp / "run"


def _record(run: Path, rel: str, rows: int) -> dict:
    """The manifest record of a file the fixture wrote itself (leonet verifies every file it reads)."""
    path = run / rel
    st = path.stat()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return {"file": rel, "rows": rows, "bytes": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": digest}


def _add_table(run: Path, name: str, table: pa.Table) -> None:
    write_table_atomic(run / f"{name}.parquet", table)
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["tables"][name] = _record(run, f"{name}.parquet", table.num_rows)
    (run / "manifest.json").write_text(json.dumps(manifest, indent=2))


def _rewrite_steps(run: Path, change, name: str = "terminal_steps") -> None:
    """Apply ``change(table) -> table`` to every chunk of a per-chunk table of a run, and record the new files."""
    manifest = json.loads((run / "manifest.json").read_text())
    for chunk in manifest["chunks"]:
        info = chunk["files"][name]
        table = change(pq.read_table(run / info["file"]))
        write_table_atomic(run / info["file"], table)
        chunk["files"][name] = _record(run, info["file"], table.num_rows)
    (run / "manifest.json").write_text(json.dumps(manifest, indent=2))


def _rewrite_table(run: Path, name: str, change) -> None:
    """Apply ``change(table) -> table`` to a single-file table of a run, and record the new file."""
    manifest = json.loads((run / "manifest.json").read_text())
    info = manifest["tables"][name]
    table = change(pq.read_table(run / info["file"]))
    write_table_atomic(run / info["file"], table)
    manifest["tables"][name] = _record(run, info["file"], table.num_rows)
    (run / "manifest.json").write_text(json.dumps(manifest, indent=2))


#: The columns of terminal_steps that the network layer alone writes
#: (`leonet.engine.network` before the service layer).
NETWORK_COLUMNS = (
    "t_ns", "terminal", "sat", "gateway", "pop", "isl_hops", "rtt_ms", "uplink_ms", "isl_ms", "feeder_ms",
    "backhaul_ms", "served", "reason",
)


def _copy(src: Path, tmp_path_factory, name: str) -> Path:
    run = tmp_path_factory.mktemp(name) / "run"
    shutil.copytree(src, run)
    (run / "report.html").unlink(missing_ok=True)
    return run


@pytest.fixture(scope="session")
def core_run(tiny_run, tmp_path_factory) -> Path:
    """The tiny run as the network layer alone writes it: no throughput, no service tables."""
    run = _copy(tiny_run, tmp_path_factory, "core")
    _rewrite_steps(run, lambda t: t.select(list(NETWORK_COLUMNS)))
    manifest = json.loads((run / "manifest.json").read_text())
    for name in list(manifest["tables"]):
        if name not in ("satellites", "terminals", "gateways", "pops"):
            del manifest["tables"][name]
    for chunk in manifest["chunks"]:
        chunk["files"] = {k: v for k, v in chunk["files"].items() if k in ("sat_positions", "terminal_steps", "handovers", "link_drops")}
    manifest["scenario"].pop("policies", None)
    (run / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return run


@pytest.fixture(scope="session")
def service_run(core_run, tmp_path_factory) -> Path:
    """The core run plus the service layer's outputs as separate tables: throughput, utilisation, a cost ledger, policies."""
    run = _copy(core_run, tmp_path_factory, "service")
    con = open_run(run)
    try:
        t_ns, terminal, served = (
            np.array(c)
            for c in zip(*con.execute("SELECT t_ns, terminal, served FROM terminal_steps ORDER BY t_ns, terminal").fetchall())
        )
    finally:
        con.close()
    rng = np.random.default_rng(7)
    _add_table(
        run,
        "throughput",
        pa.table(
            {
                "t_ns": pa.array(t_ns, pa.int64()),
                "terminal": pa.array(terminal, pa.int32()),
                "throughput_mbps": pa.array(np.where(served, rng.uniform(20.0, 120.0, t_ns.size), 0.0)),
            }
        ),
    )
    steps = np.unique(t_ns)
    _add_table(
        run,
        "gateway_load",
        pa.table(
            {
                "t_ns": pa.array(np.repeat(steps, 2), pa.int64()),
                "gateway": pa.array(np.tile([0, 1], steps.size), pa.int32()),
                "utilisation": pa.array(np.where(np.arange(2 * steps.size) % 7 == 3, np.nan, rng.uniform(0.2, 0.9, 2 * steps.size))),
            }
        ),
    )
    _add_table(
        run,
        "cost_ledger",
        pa.table(
            {
                "sponsor": ["SpaceX (donation)", "SpaceX (donation)", "Government of Poland", EVIL],
                "fleet": ["donated", "donated", "donated", "bought"],
                "month": ["2022-02", "2022-03", "2022-03", "2022-03"],
                "terminal_days": [12.0, 155.0, 31.0, 62.0],
                "cost_usd": [193.55, 2500.0, 500.0, 1000.0],
            }
        ),
    )
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["scenario"]["policies"] = POLICIES
    (run / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return run




@pytest.fixture(scope="session")
def column_run(core_run, tmp_path_factory) -> Path:
    """The core run with throughput and demand as terminal_steps columns (as the engine writes them) and inactive steps."""
    run = _copy(core_run, tmp_path_factory, "column")

    def change(t: pa.Table) -> pa.Table:
        served = t["served"].to_numpy(zero_copy_only=False).copy()
        terminal = t["terminal"].to_numpy()
        step = t["t_ns"].to_numpy() // 10_000_000_000
        inactive = (terminal == 3) & (step < INACTIVE_STEPS)
        served[inactive] = False
        reason = np.array(t["reason"].cast(pa.string()).to_pylist(), dtype=object)
        reason[inactive] = "inactive"
        thr = np.where(served, 50.0 + terminal, np.where(inactive, np.nan, 0.0))
        cols = {c: t[c] for c in t.column_names if c not in ("served", "reason")}
        cols["served"] = pa.array(served)
        cols["reason"] = pa.array(list(reason), pa.string()).dictionary_encode()
        cols["demand_mbps"] = pa.array(np.full(t.num_rows, 100.0))
        cols["throughput_mbps"] = pa.array(thr)
        return pa.table(cols)

    _rewrite_steps(run, change)
    return run


@pytest.fixture(scope="session")
def moving_scenario(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("moving-scenario")
    return _write(tmp, MOVING.replace("{track}", TRACK.as_posix()), "moving.toml")


@pytest.fixture(scope="session")
def moving_engine_run(moving_scenario, tmp_path_factory) -> Path:
    """The moving scenario as the engine writes it."""
    run = tmp_path_factory.mktemp("moving-engine") / "run"
    run_scenario(load_scenario(moving_scenario), run)
    return run


@pytest.fixture(scope="session")
def moving_static_run(moving_engine_run, tmp_path_factory) -> Path:
    """The moving run as a leonet older than moving terminals leaves it: no terminal_positions, no service_events."""
    run = _copy(moving_engine_run, tmp_path_factory, "moving-static")
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["tables"].pop("service_events", None)
    for chunk in manifest["chunks"]:
        chunk["files"].pop("terminal_positions", None)
    (run / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return run


@pytest.fixture(scope="session")
def moving_run(moving_engine_run, tmp_path_factory) -> Path:
    """The moving scenario with the engine's terminal_positions and service_events."""
    run = _copy(moving_engine_run, tmp_path_factory, "moving")
    manifest = json.loads((run / "manifest.json").read_text())
    assert "service_events" in manifest["tables"], "the engine writes service_events for moving terminals"
    assert all("terminal_positions" in c["files"] for c in manifest["chunks"])
    return run


@pytest.fixture(scope="session")
def unrecorded_run(moving_run, tmp_path_factory) -> Path:
    """The moving run without its service_events table (positions, but events not recorded)."""
    run = _copy(moving_run, tmp_path_factory, "unrecorded")
    manifest = json.loads((run / "manifest.json").read_text())
    del manifest["tables"]["service_events"]
    (run / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return run


@pytest.fixture(scope="session")
def idle_run(moving_run, tmp_path_factory) -> Path:
    """Edge cases: the boat has no position row at all, the car is inactive at every step, no event was recorded,
    and the probe lost every ping."""
    run = _copy(moving_run, tmp_path_factory, "idle")

    def positions(t: pa.Table) -> pa.Table:
        t = t.filter(pa.compute.equal(t["terminal"], 3))
        nan = pa.array(np.full(t.num_rows, np.nan))
        status = pa.DictionaryArray.from_arrays(pa.array(np.ones(t.num_rows, np.int8)), pa.array(["ok", "inactive", "no-position"]))
        return t.set_column(t.schema.get_field_index("lat_deg"), "lat_deg", nan).set_column(
            t.schema.get_field_index("lon_deg"), "lon_deg", nan).set_column(t.schema.get_field_index("status"), "status", status)

    def steps(t: pa.Table) -> pa.Table:
        car = pa.compute.equal(t["terminal"], 3).to_numpy(zero_copy_only=False)
        reason = np.array(t["reason"].cast(pa.string()).to_pylist(), dtype=object)
        reason[car] = "inactive"
        served = t["served"].to_numpy(zero_copy_only=False) & ~car
        t = t.set_column(t.schema.get_field_index("served"), "served", pa.array(served))
        return t.set_column(t.schema.get_field_index("reason"), "reason", pa.array(list(reason), pa.string()).dictionary_encode())

    def lose(t: pa.Table) -> pa.Table:
        t = t.set_column(t.schema.get_field_index("rtt_ms"), "rtt_ms", pa.array(np.full(t.num_rows, np.nan)))
        return t.set_column(t.schema.get_field_index("lost"), "lost", pa.array(np.ones(t.num_rows, bool)))

    _rewrite_steps(run, positions, "terminal_positions")
    _rewrite_steps(run, steps)
    _rewrite_table(run, "service_events", lambda t: t.slice(0, 0))
    _rewrite_table(run, "pings", lose)
    return run


@pytest.fixture(scope="session")
def empty_positions_run(moving_run, tmp_path_factory) -> Path:
    """A run whose terminal_positions table has no row (nothing moved) and no event."""
    run = _copy(moving_run, tmp_path_factory, "empty-positions")
    _rewrite_steps(run, lambda t: t.slice(0, 0), "terminal_positions")
    _rewrite_table(run, "service_events", lambda t: t.slice(0, 0))
    return run


# --------------------------------------------------------------------------
# The browser
# --------------------------------------------------------------------------

CHROMIUM = os.environ.get("LEONET_CHROMIUM", "/usr/bin/chromium")


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium driven by Playwright; skipped locally, a failure in CI, when either is missing."""
    missing = []
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
        missing.append("the Python package playwright (pip install playwright; never `playwright install`)")
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        missing.append(f"a Chromium binary at {CHROMIUM} (apt-get install chromium, or set LEONET_CHROMIUM)")
    if missing:
        message = "the report's browser test needs " + " and ".join(missing)
        if _in_ci():
            pytest.fail(f"{message}; CI=true, so it must run, not be skipped", pytrace=False)
        pytest.skip(message)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
