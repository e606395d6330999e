"""Ping series of the scenario's ``[[probes]]``: the ``pings`` table.

A probe is one terminal pinging its PoP every ``interval_ms`` (>= 10 ms).
Its pings are computed once the run's steps are written, from that
terminal's rows of ``terminal_steps`` (the propagation parts, the route's
laser hops and its cell's load at every step), by the latency model's probe
generator (`leonet.latency.probes.ping_probes`): the propagation is
interpolated between steps of the same scheduler slot and jumps at slot
boundaries; every probe's draws are keyed by (seed, terminal, probe number),
so the table does not depend on how the run was chunked.
"""

from __future__ import annotations

import difflib

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds

from ..errors import ScenarioError
from ..results.schemas import PINGS_SCHEMA, rows_table

__all__ = ["probe_terminals", "ping_table"]


def probe_terminals(loaded, terminal_ids: list[str]) -> list[int]:
    """The terminal index of every probe; a `ScenarioError` for an id the run does not have.

    Checked when the run is built (so `leonet validate` reports it too).
    """
    out = []
    for k, probe in enumerate(loaded.spec.probes):
        if probe.terminal not in terminal_ids:
            close = difflib.get_close_matches(probe.terminal, terminal_ids, n=3)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise ScenarioError(
                f"{loaded.source}: probes[{k}].terminal: the run has no terminal {probe.terminal!r}{hint} (ids look like "
                f"{', '.join(map(repr, terminal_ids[:3]))}; list them with leonet query RUN \"SELECT id FROM terminals\")",
                source=loaded.source,
            )
        out.append(terminal_ids.index(probe.terminal))
    if loaded.spec.probes and not loaded.spec.latency.enabled:
        raise ScenarioError(
            f"{loaded.source}: probes need the latency model: remove [latency] enabled = false, or the probes",
            source=loaded.source,
        )
    return out


def ping_table(model, loaded, files: list, grid) -> pa.Table:
    """The ``pings`` table of every probe (send offset ``t_ns``, terminal, ``rtt_ms`` NaN when lost, ``lost``).

    Parameters
    ----------
    model : NetworkModel
        The run's model (latency constants, seed, slot clock, terminals' longitudes).
    loaded : LoadedScenario
    files : list of path
        The run's ``terminal_steps`` files (verified).
    grid : TimeGrid
        The run's steps.
    """
    from ..latency.probes import ping_probes, probe_times

    terminals = probe_terminals(loaded, list(model.terminal_ids))
    if not terminals:
        return PINGS_SCHEMA.empty_table()
    data = ds.dataset([str(f) for f in files], format="parquet")
    epoch = model.epoch_unix_ns
    end = epoch + int(grid.offset_ns[-1]) + model.step_ns
    parts = []
    for probe, term in zip(loaded.spec.probes, terminals):
        steps = data.to_table(
            columns=["t_ns", "uplink_ms", "isl_ms", "feeder_ms", "backhaul_ms", "isl_hops", "cell_utilisation"],
            filter=ds.field("terminal") == term,
        ).sort_by("t_ns")
        col = {name: steps[name].to_numpy(zero_copy_only=False) for name in steps.column_names}
        start = epoch if probe.from_ is None else max(epoch, _unix(probe.from_))
        stop = end if probe.until is None else min(end, _unix(probe.until))
        # The last step holds until the run's end (a probe in a slot after it keeps its path, with a new slot level).
        interval = int(round(probe.interval_ms * 1e6))
        if stop <= start:
            continue
        k, tp = probe_times(start, stop, interval)
        pings = ping_probes(
            model.latency, seed=model.seed, terminal=term, probe_index=k, probe_t_unix_ns=tp, interval_ns=interval,
            step_t_unix_ns=epoch + col["t_ns"], uplink_s=col["uplink_ms"] / 1e3, isl_s=col["isl_ms"] / 1e3,
            feeder_s=col["feeder_ms"] / 1e3, backhaul_s=col["backhaul_ms"] / 1e3,
            isl_hops=np.where(col["isl_hops"] >= 0, col["isl_hops"], 0), lon_deg=float(model.terminal_lon_deg[term]),
            slot_ns=model.clock.slot_ns, slot_offset_ns=model.slot_offset_ns, utilisation=col["cell_utilisation"],
        )
        parts.append({
            "t_ns": (pings.t_unix_ns - epoch).astype(np.int64),
            "terminal": np.full(pings.t_unix_ns.size, term, np.int32),
            "rtt_s": np.where(pings.lost, np.nan, pings.rtt_s),
            "lost": pings.lost.astype(bool),
        })
    return rows_table(parts, PINGS_SCHEMA)


def _unix(when) -> int:
    from ..timebase import unix_ns

    return unix_ns(when)

