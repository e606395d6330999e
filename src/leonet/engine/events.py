"""Cut-offs and restorations of service: the ``service_events`` table.

A terminal is *cut off* at the step where it is no longer served after a
served step, for any reason but ``inactive`` (a fleet leaving its window, a
track ending: the terminal leaves the run, it is not cut off); it is
*restored* at the step where it is served again after a step that was
neither served nor inactive.  So a terminal that steps out of a geofence,
loses its position in a tunnel, or falls below the mask of every satellite
and comes back gives one cut-off and one restoration; changes of reason
while unserved (policy, then no-satellite) are not events.  The run's first
step has no previous step and gives no event (a terminal denied from the
start was never cut off during the run), as it gives no handover.

The table is computed once the run's steps are written, chunk after chunk in
time order, from ``terminal_steps`` (each chunk's rows are time-major:
``T x G``), carrying the last step of each chunk into the next: it does not
depend on how the run was chunked.  Every terminal counts, moving or not (a
geofence cuts fixed terminals too).  The position of an event is where the
terminal was at that step: ``terminal_positions`` for a moving terminal
(NaN when it had no position), its site for the others.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from numpy.typing import NDArray

from ..results.schemas import EVENT_NAMES, SERVICE_EVENTS_SCHEMA, names_array, reason_array
from ..scheduling.assign import REASON_NAMES, Reason

__all__ = ["service_events_table", "transitions"]

CUT_OFF, RESTORED = 0, 1


def transitions(before: NDArray[np.int8], reason: NDArray[np.int8]) -> tuple[NDArray, NDArray, NDArray, NDArray]:
    """Cut-offs and restorations between consecutive steps.

    Parameters
    ----------
    before : int8[G]
        Reason codes of the step before ``reason[0]`` (-1: no such step).
    reason : int8[T, G]
        Reason codes (`leonet.scheduling.assign.Reason`) of T consecutive steps.

    Returns
    -------
    step, terminal : int64[E]
        Where each event is (row of ``reason``, column), time-major.
    event : int8[E]
        0 cut-off, 1 restored.
    why : int8[E]
        The reason at a cut-off; the previous step's reason at a restoration.

    Examples
    --------
    >>> r = np.array([[3], [0], [0], [1], [6], [0]], dtype=np.int8)   # policy, served x2, no-satellite, inactive, served
    >>> step, term, event, why = transitions(np.array([-1], np.int8), r)
    >>> step.tolist(), event.tolist(), why.tolist()      # restored at 1 (was policy), cut off at 3 (no-satellite)
    ([1, 3], [1, 0], [3, 1])
    """
    prev = np.concatenate([np.asarray(before, dtype=np.int8)[None, :], reason[:-1]], axis=0)
    known = prev >= 0
    served, was = reason == Reason.SERVED, prev == Reason.SERVED
    cut = known & was & ~served & (reason != Reason.INACTIVE)
    back = known & served & ~was & (prev != Reason.INACTIVE)
    step, term = np.nonzero(cut | back)  # row-major: time-major
    event = np.where(back[step, term], RESTORED, CUT_OFF).astype(np.int8)
    why = np.where(event == RESTORED, prev[step, term], reason[step, term]).astype(np.int8)
    return step, term, event, why


def _codes(column: pa.ChunkedArray) -> NDArray[np.int8]:
    """int8 reason codes of a ``reason`` column read back (whatever dictionary order the file holds)."""
    arr = column.combine_chunks()
    if isinstance(arr, pa.ChunkedArray):  # pragma: no cover  (pyarrow < 15)
        arr = pa.concat_arrays(arr.chunks)
    lookup = np.array([REASON_NAMES.index(str(n)) for n in arr.dictionary.to_pylist()], dtype=np.int8)
    return lookup[arr.indices.to_numpy(zero_copy_only=False)]


def service_events_table(
    step_files: list[Path], position_files: list[Path] | None, site_lat_deg: NDArray, site_lon_deg: NDArray
) -> pa.Table:
    """The ``service_events`` table of a run.

    Parameters
    ----------
    step_files : list of path
        The run's ``terminal_steps`` chunk files, in time order.
    position_files : list of path or None
        Its ``terminal_positions`` chunk files (same chunks), None when nothing moves.
    site_lat_deg, site_lon_deg : float64[G], degrees
        Each terminal's site (moving terminals: the first fix; not used for them).
    """
    positions = {Path(f).name: f for f in (position_files or [])}
    before = None
    parts = []
    for f in step_files:
        steps = pq.read_table(f, columns=["t_ns", "terminal", "reason"])
        n = steps.num_rows
        if n == 0:
            continue
        t_all = steps.column("t_ns").to_numpy()
        g = int(np.count_nonzero(t_all == t_all[0]))  # rows are time-major: T x G
        t_ns = t_all[::g]
        reason = _codes(steps.column("reason")).reshape(-1, g)
        if before is None:
            before = np.full(g, -1, dtype=np.int8)
        step, term, event, why = transitions(before, reason)
        before = reason[-1]
        if step.size == 0:
            continue
        lat = np.asarray(site_lat_deg, dtype=np.float64)[term]
        lon = np.asarray(site_lon_deg, dtype=np.float64)[term]
        if Path(f).name in positions:
            lat, lon = _moving_positions(positions[Path(f).name], t_ns[step], term, lat, lon)
        parts.append((t_ns[step], term.astype(np.int32), event, why, lat, lon))
    cols = [np.concatenate([p[k] for p in parts]) if parts else np.zeros(0, d)
            for k, d in enumerate((np.int64, np.int32, np.int8, np.int8, np.float64, np.float64))]
    return pa.Table.from_arrays(
        [pa.array(cols[0], pa.int64()), pa.array(cols[1], pa.int32()), names_array(cols[2], EVENT_NAMES),
         reason_array(cols[3]), pa.array(cols[4], pa.float64()), pa.array(cols[5], pa.float64())],
        schema=SERVICE_EVENTS_SCHEMA,
    )


def _moving_positions(path, t_ns: NDArray, term: NDArray, lat: NDArray, lon: NDArray) -> tuple[NDArray, NDArray]:
    """``lat``, ``lon`` with the rows of moving terminals replaced by their positions at those steps.

    A chunk of ``terminal_positions`` holds the same M moving terminals at each of its T steps, time-major.
    """
    pos = pq.read_table(path, columns=["t_ns", "terminal", "lat_deg", "lon_deg"])
    pt = pos.column("t_ns").to_numpy()
    m = int(np.count_nonzero(pt == pt[0])) if pt.size else 0
    if m == 0:
        return lat, lon
    movers = pos.column("terminal").to_numpy()[:m].astype(np.int64)
    col = np.minimum(np.searchsorted(movers, term), m - 1)
    moving = movers[col] == term
    row = np.searchsorted(pt[::m], t_ns)
    lat, lon = lat.copy(), lon.copy()
    lat[moving] = pos.column("lat_deg").to_numpy().reshape(-1, m)[row[moving], col[moving]]
    lon[moving] = pos.column("lon_deg").to_numpy().reshape(-1, m)[row[moving], col[moving]]
    return lat, lon
