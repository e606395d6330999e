"""Paths and round-trip times between ground stations, as Hypatia's ``print_routes_and_rtt``.

The representation
------------------
A path is a list of node ids (Hypatia's: satellites ``0..S-1``, ground
station ``g`` is node ``S + g``) from a source node to a destination ground
station, found by following the forwarding state ``next_hop : int32[S + G, G]``
hop by hop (Hypatia's ``get_path``), or ``None`` when it is unreachable.
Its text is the ids joined by ``-``, or ``Unreachable``.

A `PairTimeline` is one (src, dst) pair over the steps of
`leonet.hypatia.state.iter_states`: the path there at every step where it
changes, and the RTT at every step, ``(length there + length back) / c`` in
ns, each length the sum of the straight-line hops at that step (0 where
either way is unreachable, Hypatia's convention).  Its two texts are
Hypatia's ``networkx_path_<src>_to_<dst>.txt`` (``t_ns,path``) and
``networkx_rtt_<src>_to_<dst>.txt`` (``%d,%.10f``).

`pair_paths` is ``leonet hypatia paths`` as one library call (the network
from a directory, a built-in or a scenario; the forwarding state read from
the directory's ``dynamic_state_*`` folder or computed); `write_pair_files`
writes the two files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ..constants import C_KM_S
from ..errors import ScenarioError
from .files import dynamic_state_dirname, parse_dynamic_state_dirname
from .geometry import GEOMETRIES
from .network import network_for_target
from .state import MARKER_NAME, iter_states

__all__ = [
    "follow_path",
    "path_length_km",
    "format_path",
    "PairTimeline",
    "pair_timeline",
    "pair_paths",
    "write_pair_files",
]


def follow_path(next_hop: NDArray[np.int32], src: int, dst: int, num_satellites: int) -> list[int] | None:
    """Node path from ``src`` to ground station node ``dst`` (Hypatia's ``get_path``), or None.

    Parameters
    ----------
    next_hop : int32[S + G, G]
        Forwarding state (`leonet.hypatia.router`).
    src : int
        Any node.
    dst : int
        A ground-station node, ``S..S+G-1``.
    num_satellites : int
        S.

    Returns
    -------
    list of int, or None
        ``[src, ..., dst]``; None if a hop on the way is -1 (unreachable).

    Raises
    ------
    ScenarioError
        If ``dst`` is not a ground-station node, ``src`` not a node, or the state loops.

    Examples
    --------
    Two satellites, two stations: station 2 -> satellite 0 -> satellite 1 -> station 3.

    >>> nh = np.array([[2, 1], [0, 3], [-1, 0], [1, -1]], dtype=np.int32)
    >>> follow_path(nh, 2, 3, 2), follow_path(nh, 3, 2, 2)
    ([2, 0, 1, 3], [3, 1, 0, 2])
    """
    S = num_satellites
    G = next_hop.shape[1]
    if not (S <= dst < S + G):
        raise ScenarioError(f"destination {dst} is not a ground-station node ({S}..{S + G - 1}): forwarding state only targets ground stations")
    if not (0 <= src < S + G):
        raise ScenarioError(f"source {src} is not a node (0..{S + G - 1})")
    d = dst - S
    path = [src]
    cur = src
    while cur != dst:
        nxt = int(next_hop[cur, d])
        if nxt < 0:
            return None
        path.append(nxt)
        cur = nxt
        if len(path) > S + G + 1:
            raise ScenarioError(f"the forwarding state loops between {src} and {dst}: {path[:12]}...")
    return path


def path_length_km(path: list[int], r_sat_km: NDArray[np.float64], r_gs_km: NDArray[np.float64]) -> float:
    """Sum of the straight-line lengths of a path's hops, km.

    Parameters
    ----------
    path : list of int
        Node ids (`follow_path`).
    r_sat_km : float64[S, 3]
    r_gs_km : float64[G, 3]
        Positions, same frame, km.

    Returns
    -------
    float
        km.

    Examples
    --------
    >>> r_sat = np.array([[0.0, 0, 700], [300, 400, 700]])
    >>> r_gs = np.array([[0.0, 0, 0]])
    >>> path_length_km([2, 0, 1], r_sat, r_gs)  # 700 km up, 500 km across
    1200.0
    """
    S = r_sat_km.shape[0]
    p = np.asarray(path, dtype=np.int64)
    pos = np.where((p < S)[:, None], r_sat_km[np.minimum(p, S - 1)], r_gs_km[np.clip(p - S, 0, None)])
    return float(np.linalg.norm(np.diff(pos, axis=0), axis=1).sum())


def format_path(path: list[int] | None) -> str:
    """Hypatia's path text: ids joined by ``-``, or ``Unreachable``.

    Parameters
    ----------
    path : list of int, or None

    Returns
    -------
    str

    Examples
    --------
    >>> format_path([1608, 137, 159, 1605]), format_path(None)
    ('1608-137-159-1605', 'Unreachable')
    """
    return "Unreachable" if path is None else "-".join(map(str, path))


@dataclass(frozen=True)
class PairTimeline:
    """Route and RTT of one (src, dst) pair over time, as Hypatia's ``print_routes_and_rtt``.

    Attributes
    ----------
    src, dst : int
        Ground-station nodes.
    t_ns : int64[T]
        The steps, ns since the TLE epoch.
    rtt_ns : float64[T]
        (path there + path back) / c, ns; 0 where either way is unreachable (Hypatia's convention).
    path_changes : list of (t_ns, path or None)
        The path there, at each step where it changes (and at the first step).
    """

    src: int
    dst: int
    t_ns: NDArray[np.int64]
    rtt_ns: NDArray[np.float64]
    path_changes: list[tuple[int, list[int] | None]]

    @property
    def path_filename(self) -> str:
        """Hypatia's name of the path file, ``networkx_path_<src>_to_<dst>.txt``."""
        return f"networkx_path_{self.src}_to_{self.dst}.txt"

    @property
    def rtt_filename(self) -> str:
        """Hypatia's name of the RTT file, ``networkx_rtt_<src>_to_<dst>.txt``."""
        return f"networkx_rtt_{self.src}_to_{self.dst}.txt"

    def path_text(self) -> str:
        """The ``networkx_path_<src>_to_<dst>.txt`` text (``t_ns,path`` lines)."""
        return "".join(f"{t},{format_path(p)}\n" for t, p in self.path_changes)

    def rtt_text(self) -> str:
        """The ``networkx_rtt_<src>_to_<dst>.txt`` text (``%d,%.10f``: t_ns, rtt_ns)."""
        return "".join("%d,%.10f\n" % (t, r) for t, r in zip(self.t_ns.tolist(), self.rtt_ns.tolist()))


def pair_timeline(states: Iterable, src: int, dst: int, num_satellites: int) -> PairTimeline:
    """Follow ``src -> dst`` and back at every step of `leonet.hypatia.state.iter_states` output.

    Parameters
    ----------
    states : iterable of (t_ns, next_hop, r_sat_km, r_gs_km)
        As `leonet.hypatia.state.iter_states` yields them.
    src, dst : int
        Ground-station nodes (``>= S``).
    num_satellites : int
        S.

    Returns
    -------
    PairTimeline

    Raises
    ------
    ScenarioError
        ``src`` is not a ground-station node.

    Examples
    --------
    >>> nh = np.array([[2, 1], [0, 3], [-1, 0], [1, -1]], dtype=np.int32)
    >>> r_sat = np.array([[0.0, 0, 700], [300, 400, 700]])
    >>> r_gs = np.array([[0.0, 0, 0], [300, 400, 0]])
    >>> tl = pair_timeline([(0, nh, r_sat, r_gs)], 2, 3, 2)
    >>> print(tl.path_text() + tl.rtt_text(), end="")  # 2 x 1,900 km / c
    0,2-0-1-3
    0,12675435.6175297778
    """
    S = num_satellites
    if not src >= S:
        raise ScenarioError(f"source {src} must be a ground-station node (>= {S}): the RTT needs a path back to it")
    ts, rtts, changes = [], [], []
    current: object = []
    c_m_s = C_KM_S * 1000.0
    for t_ns, nh, r_sat, r_gs in states:
        there = follow_path(nh, src, dst, S)
        back = follow_path(nh, dst, src, S)
        if there is not None and back is not None:
            length_m = (path_length_km(there, r_sat, r_gs) + path_length_km(back, r_sat, r_gs)) * 1000.0
            rtt = length_m * 1e9 / c_m_s
        else:
            rtt = 0.0
        ts.append(t_ns)
        rtts.append(rtt)
        if there != current:
            changes.append((t_ns, there))
            current = there
    return PairTimeline(src, dst, np.array(ts, dtype=np.int64), np.array(rtts), changes)


# --------------------------------------------------------------------------- the paths command


def _state_folder(where: Path, step_ms, duration_s, notify):
    """(state folder or None, step_ms, duration_s) for a network directory: the one folder found, or the one named by the steps."""
    found = sorted(d for d in where.iterdir() if d.is_dir() and parse_dynamic_state_dirname(d.name) is not None)
    if step_ms is None and duration_s is None and len(found) == 1:
        step_ms, duration_s = parse_dynamic_state_dirname(found[0].name)
    step_ms = 100 if step_ms is None else step_ms
    duration_s = 2 if duration_s is None else duration_s
    candidate = where / dynamic_state_dirname(step_ms, duration_s)
    if candidate.is_dir():
        return candidate, step_ms, duration_s
    if found and notify is not None:
        notify(f"note: no {candidate.name} in {where}; computing the forwarding state")
    return None, step_ms, duration_s


def pair_paths(
    target: str,
    src: int,
    dst: int,
    *,
    duration_s: int | None = None,
    step_ms: int | None = None,
    geometry: str = "leonet",
    compute: bool = False,
    notify: Callable[[str], None] | None = None,
) -> PairTimeline:
    """``leonet hypatia paths``: the path and RTT between two ground stations at every step.

    Parameters
    ----------
    target : str
        A Hypatia network directory (its ``dynamic_state_*`` folder is read
        if there is one for these steps), a built-in one-shell Walker
        constellation, or a scenario (`leonet.hypatia.network.network_for_target`).
    src, dst : int
        Two different ground-station nodes (``S + gid``).
    duration_s : int, optional
        Whole seconds.  Default: from the directory's only state folder, or
        the scenario's time grid, else 2.
    step_ms : int, optional
        Whole milliseconds.  Default: likewise, else 100.
    geometry : {"leonet", "pyephem"}
        For the path lengths (and the state, when computed).
    compute : bool
        Compute the forwarding state even if a state folder exists.
    notify : callable(str), optional
        Receives a note when the directory has state folders, but none for these steps.

    Returns
    -------
    PairTimeline

    Raises
    ------
    ScenarioError, InputFileError
        An unknown geometry or target, nodes that are not two different
        ground stations, steps that are not positive, or a bad state file.
        Messages name the command-line options.

    Examples
    --------
    >>> tl = pair_paths("starlink-550", 1608, 1605, duration_s=1, step_ms=500)  # Paris -> Moscow
    >>> tl.path_filename, tl.path_changes[0]
    ('networkx_path_1608_to_1605.txt', (0, [1608, 137, 159, 1605]))
    """
    if geometry not in GEOMETRIES:
        raise ScenarioError(f"--geometry {geometry!r} is not one of {', '.join(GEOMETRIES)}")
    net, where = network_for_target(target)
    S, G = net.num_satellites, net.num_ground_stations
    for name, node in (("--src", src), ("--dst", dst)):
        if not (S <= node < S + G):
            raise ScenarioError(
                f"{name} {node} is not a ground-station node: with {S:,} satellites and {G} ground stations "
                f"they are {S}..{S + G - 1} (node = {S} + ground station id)"
            )
    if src == dst:
        raise ScenarioError(f"--src and --dst are both {src}; give two different ground stations")
    state_dir = None
    if isinstance(where, Path) and not compute:
        state_dir, step_ms, duration_s = _state_folder(where, step_ms, duration_s, notify)
    elif where is not None and not isinstance(where, Path):
        spec = where.spec.time
        if step_ms is None:
            step_ms = round(spec.step_ns / 1e6)
        if duration_s is None:
            duration_s = round(spec.duration_ns / 1e9)
    step_ms = 100 if step_ms is None else step_ms
    duration_s = 2 if duration_s is None else duration_s
    if step_ms <= 0 or duration_s <= 0:
        raise ScenarioError(f"--step-ms and --duration-s must be positive, got {step_ms} and {duration_s}")
    states = iter_states(net, duration_s, step_ms, state_dir=state_dir, geometry=geometry)
    return pair_timeline(states, src, dst, S)


def write_pair_files(output_dir: str | Path, timeline: PairTimeline, force: bool = False) -> None:
    """Write ``networkx_path_<src>_to_<dst>.txt`` and ``networkx_rtt_<src>_to_<dst>.txt`` into ``output_dir``.

    Existing files are replaced only in a directory leonet wrote (its
    `leonet.hypatia.state.MARKER_NAME`), or with ``force``
    (`leonet.results.files.check_output_file`); each file is written atomically.

    Parameters
    ----------
    output_dir : path
        Created if missing.
    timeline : PairTimeline
    force : bool
        Replace files leonet did not write (``--force``).

    Raises
    ------
    ScenarioError
        ``output_dir`` is not a directory or cannot be created, or a file
        may not be replaced.
    """
    from ..results.files import check_output_file, write_bytes_atomic

    output_dir = Path(output_dir)
    if output_dir.exists() and not output_dir.is_dir():
        raise ScenarioError(f"--output-dir {output_dir}: exists and is not a directory; give a directory")
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ScenarioError(f"--output-dir {output_dir}: cannot create it ({exc.strerror or exc}); give another directory") from None
    ours = (output_dir / MARKER_NAME).is_file()
    for name in (timeline.path_filename, timeline.rtt_filename):
        check_output_file(output_dir / name, option="--output-dir", kind=None, force=force or ours, what="file")
    write_bytes_atomic(output_dir / timeline.path_filename, timeline.path_text().encode("ascii"))
    write_bytes_atomic(output_dir / timeline.rtt_filename, timeline.rtt_text().encode("ascii"))
