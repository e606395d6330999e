"""SCAFFOLDING -- remove once the engine writes these tables itself (issue 13, branch move-engine).

Until the engine moves terminals, a run of a scenario with ``track`` / ``route``
terminals keeps them at their first fix and writes neither
``terminal_positions`` nor ``service_events``.  `add_motion_tables` completes
such a run with what the engine is agreed to write, computed by leonet's own
code from the scenario (no hand-made numbers):

* ``terminal_positions`` (one file per chunk): every moving terminal at every
  step of the chunk, from `leonet.ground.motion.Motion.at` over the
  trajectories `leonet.ground.terminals.terminals_from_sources` builds from
  the scenario's sources;
* the moving terminals' rows of ``terminal_steps`` as the engine will write
  them: ``inactive`` before the first fix and after the last, ``no-position``
  inside a gap, ``policy`` inside a deny rule's region
  (`leonet.ground.regions.points_in_region`); the other columns of those rows
  (satellite, RTT) stay those of the static run -- this is *not* the engine's
  answer for a moving terminal, only the shape of it;
* ``service_events`` (one file): every change of a terminal between served and
  not served (inactive steps skipped), with the reason of the unserved step
  and the terminal's position then.

When the run already has either table, the engine wrote them and nothing is
touched: the fixtures (and the tests on them) then run on the real tables.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from leonet.ground.motion import INACTIVE, NO_POSITION, Motion
from leonet.ground.regions import load_region, points_in_region
from leonet.ground.terminals import terminals_from_sources
from leonet.results.store import write_table_atomic
from leonet.scenario.load import load_scenario

#: The agreed names of the status codes of `leonet.ground.motion` in ``terminal_positions``.
STATUS = ("ok", "inactive", "no-position")


def _record(run: Path, rel: str, rows: int) -> dict:
    path = run / rel
    st = path.stat()
    return {"file": rel, "rows": rows, "bytes": st.st_size, "mtime_ns": st.st_mtime_ns,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def _motion(scenario: Path, run: Path, manifest: dict) -> Motion | None:
    loaded = load_scenario(scenario)
    g = loaded.spec.ground.terminals
    sites = terminals_from_sources(g.sources, min_elevation_deg=g.min_elevation_deg, seed_for=lambda k: k,
                                   where="ground.terminals.sources", resolve=loaded.resolve)
    ids = pq.read_table(run / manifest["tables"]["terminals"]["file"]).column("id").to_pylist()
    assert ids[: len(sites)] == list(sites.ids), "the scaffold handles [ground.terminals] sources only"
    from leonet.report.data import _epoch  # the run's epoch as the report reads it

    return Motion.from_sites(sites, _epoch(manifest))


def _deny_regions(manifest: dict) -> list:
    rules = manifest["scenario"].get("policies") or []
    return [load_region(r["region"]) for r in rules if r.get("action") == "deny" and isinstance(r.get("region"), str)]


def _positions(motion: Motion, t_ns: np.ndarray):
    state = motion.at(t_ns)
    T, M = state.status.shape
    table = pa.table({
        "t_ns": pa.array(np.repeat(t_ns, M), pa.int64()),
        "terminal": pa.array(np.tile(motion.terminals, T), pa.int32()),
        "lat_deg": pa.array(state.lat_deg.ravel()),
        "lon_deg": pa.array(state.lon_deg.ravel()),
        "altitude_km": pa.array(state.altitude_km.ravel()),
        "speed_kmh": pa.array(state.speed_mps.ravel() * 3.6),
        "status": pa.DictionaryArray.from_arrays(pa.array(state.status.ravel(), pa.int8()), pa.array(STATUS)),
    })
    return state, table


def _reasons(state, regions) -> np.ndarray:
    """object[T, M]: the engine's reason for each moving terminal-step that the static run cannot know, or None."""
    out = np.full(state.status.shape, None, dtype=object)
    out[state.status == INACTIVE] = "inactive"
    out[state.status == NO_POSITION] = "no-position"
    for region in regions:
        inside = points_in_region(region, np.nan_to_num(state.lat_deg.ravel()), np.nan_to_num(state.lon_deg.ravel()))
        inside = inside.reshape(state.status.shape) & (state.status == 0)
        out[inside] = "policy"
    return out


def _apply(steps: pa.Table, motion: Motion, t_ns: np.ndarray, why: np.ndarray) -> pa.Table:
    """The chunk's terminal_steps with the moving terminals' rows unserved where ``why`` says."""
    k = np.searchsorted(t_ns, steps["t_ns"].to_numpy())
    col = {int(g): m for m, g in enumerate(motion.terminals)}
    m = np.array([col.get(int(g), -1) for g in steps["terminal"].to_numpy()])
    new = np.array([why[k[i], m[i]] if m[i] >= 0 else None for i in range(len(m))], dtype=object)
    hit = np.array([w is not None for w in new])
    reason = np.array(steps["reason"].cast(pa.string()).to_pylist(), dtype=object)
    reason[hit] = new[hit]
    cols = {}
    for name in steps.column_names:
        c = steps[name]
        if name == "served":
            c = pa.array(c.to_numpy(zero_copy_only=False) & ~hit)
        elif name == "reason":
            names = sorted(set(reason.tolist()))
            c = pa.DictionaryArray.from_arrays(pa.array([names.index(r) for r in reason], pa.int8()), pa.array(names))
        elif pa.types.is_floating(c.type) and name != "demand_mbps":
            c = pa.array(np.where(hit, np.nan, c.to_numpy(zero_copy_only=False)))
        elif name in ("sat", "gateway", "pop", "isl_hops"):
            c = pa.array(np.where(hit, -1, c.to_numpy()).astype(c.type.to_pandas_dtype()), c.type)
        cols[name] = c
    return pa.table(cols)


def _events(run: Path, manifest: dict, motion: Motion, positions: list[pa.Table]) -> pa.Table:
    """Every change between served and not served, per terminal, with the place."""
    steps = pa.concat_tables(
        pq.read_table(run / c["files"]["terminal_steps"]["file"], columns=["t_ns", "terminal", "served", "reason"])
        for c in manifest["chunks"]
    ).sort_by([("terminal", "ascending"), ("t_ns", "ascending")])
    sites = pq.read_table(run / manifest["tables"]["terminals"]["file"])
    pos = {(int(t), int(g)): (la, lo) for p in positions for t, g, la, lo in zip(
        p["t_ns"].to_numpy(), p["terminal"].to_numpy(), p["lat_deg"].to_numpy(), p["lon_deg"].to_numpy())}
    t = steps["t_ns"].to_numpy()
    g = steps["terminal"].to_numpy()
    reason = steps["reason"].cast(pa.string()).to_pylist()
    # The engine's rule (docs/results.md, service_events): a cut-off is a step not served after a served
    # step, for any reason but inactive; a restoration a served step after a step neither served nor
    # inactive (its reason is that step's); the first step gives no event.
    rows = []
    for i in range(1, len(t)):
        if g[i] != g[i - 1]:
            continue
        was, now = reason[i - 1], reason[i]
        cut = was == "served" and now not in ("served", "inactive")
        back = now == "served" and was not in ("served", "inactive")
        if cut or back:
            gi = int(g[i])
            la, lo = pos.get((int(t[i]), gi), (sites["lat_deg"][gi].as_py(), sites["lon_deg"][gi].as_py()))
            rows.append((int(t[i]), gi, "restored" if back else "cut-off", was if back else now, la, lo))
    rows.sort()
    cols = list(zip(*rows)) if rows else [[]] * 6
    return pa.table({
        "t_ns": pa.array(cols[0], pa.int64()), "terminal": pa.array(cols[1], pa.int32()),
        "event": pa.array(cols[2], pa.string()).dictionary_encode(),
        "reason": pa.array(cols[3], pa.string()).dictionary_encode(),
        "lat_deg": pa.array(cols[4], pa.float64()), "lon_deg": pa.array(cols[5], pa.float64()),
    })


def add_motion_tables(run: Path, scenario: Path) -> bool:
    """Complete ``run`` (of ``scenario``) with the moving-terminal tables; False when the engine already wrote them."""
    manifest = json.loads((run / "manifest.json").read_text())
    if "service_events" in manifest["tables"] or any("terminal_positions" in c["files"] for c in manifest["chunks"]):
        return False
    motion = _motion(scenario, run, manifest)
    regions = _deny_regions(manifest)
    positions = []
    for chunk in manifest["chunks"]:
        info = chunk["files"]["terminal_steps"]
        steps = pq.read_table(run / info["file"])
        t_ns = np.unique(steps["t_ns"].to_numpy())
        state, table = _positions(motion, t_ns)
        rel = f"terminal_positions/chunk-{int(chunk['index']):06d}.parquet"
        (run / "terminal_positions").mkdir(exist_ok=True)
        write_table_atomic(run / rel, table)
        chunk["files"]["terminal_positions"] = _record(run, rel, table.num_rows)
        positions.append(table)
        steps = _apply(steps, motion, t_ns, _reasons(state, regions))
        write_table_atomic(run / info["file"], steps)
        chunk["files"]["terminal_steps"] = _record(run, info["file"], steps.num_rows)
    events = _events(run, manifest, motion, positions)
    write_table_atomic(run / "service_events.parquet", events)
    manifest["tables"]["service_events"] = _record(run, "service_events.parquet", events.num_rows)
    (run / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return True
