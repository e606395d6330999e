"""Hypatia's dynamic state over time: written to ``dynamic_state_*/`` or streamed.

The representation
------------------
Steps are ``t = 0, step, 2 step, ...`` strictly before the duration
(Hypatia's ``range(0, end, step)``), as ``t_ns`` nanoseconds since the TLE
epoch (`step_offsets_ns`).  At each step the router of `leonet.hypatia.router`
gives ``next_hop : int32[S + G, G]``; positions come from
`leonet.hypatia.geometry`, one SGP4 call per chunk of steps.

`generate_dynamic_state` writes ``fstate_<t_ns>.txt`` and
``gsl_if_bandwidth_<t_ns>.txt`` for every step (`leonet.hypatia.files`)
into ``<network dir>/dynamic_state_<step>ms_for_<duration>s/``.  The folder
is built under a temporary name and renamed into place at the end, so a
killed or failed run never leaves half a dynamic state.  Inside it the
files are plain writes, not `leonet.results.files.write_bytes_atomic`: the
folder's rename is what makes the state atomic, and an fsync of two files at
every step would tie the step rate to the disk.

`iter_states` yields ``(t_ns, next_hop, r_sat_km, r_gs_km)`` per step,
computed or read back from a state folder (Hypatia's or leonet's).

`gen_state` is ``leonet hypatia gen-state`` as one library call: it builds
the network from the command's options (`leonet.hypatia.network.build_network`),
refuses to write into a directory leonet did not write (unless ``force``) or
over an existing dynamic state, marks the directories it writes with
``.leonet-hypatia.json``, holds the directory's lock
(`leonet.results.lock.RunLock`) while writing, and writes the network files
and the dynamic state.
"""

from __future__ import annotations

import os
import shutil
import time as _time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ..errors import InputFileError, ScenarioError
from .files import (
    dynamic_state_dirname,
    fstate_text,
    gsl_if_bandwidth_text,
    read_fstate_file,
)
from .geometry import GEOMETRIES, network_positions
from .network import SatelliteNetwork, build_network, write_satellite_network
from .router import FreeOneOnlyOverIsls

__all__ = [
    "MARKER_NAME",
    "step_offsets_ns",
    "DynamicStateSummary",
    "generate_dynamic_state",
    "iter_states",
    "check_network_dir",
    "mark_network_dir",
    "gen_state",
]

#: Written into every satellite-network directory leonet writes: its files may be replaced by leonet later.
MARKER_NAME = ".leonet-hypatia.json"

#: Files leonet itself puts in a network directory besides Hypatia's.
_OURS = (MARKER_NAME, ".leonet.lock")


def step_offsets_ns(duration_s: int, step_ms: int) -> NDArray[np.int64]:
    """The steps' times, ns since the TLE epoch: ``range(0, duration, step)``.

    Parameters
    ----------
    duration_s : int
        Simulated time, whole seconds.
    step_ms : int
        Time step, whole milliseconds.

    Returns
    -------
    t_ns : int64[T]

    Examples
    --------
    >>> step_offsets_ns(1, 250).tolist()
    [0, 250000000, 500000000, 750000000]
    """
    return np.arange(0, int(duration_s) * 1_000_000_000, int(step_ms) * 1_000_000, dtype=np.int64)


def _check_network(network: SatelliteNetwork) -> None:
    info = network.gsl_interfaces
    if not (info.number_of_interfaces == 1).all():
        k = int(np.flatnonzero(info.number_of_interfaces != 1)[0])
        raise ScenarioError(
            f"gsl_interfaces_info.txt gives node {k} {info.number_of_interfaces[k]} GSL interfaces; "
            "algorithm_free_one_only_over_isls needs exactly one per node (Hypatia's 'free one')"
        )


def _router(network: SatelliteNetwork, warm_start: bool = True) -> FreeOneOnlyOverIsls:
    return FreeOneOnlyOverIsls(
        network.num_satellites, network.num_ground_stations, network.isls,
        network.description.max_gsl_length_m / 1000.0,
        network.description.max_isl_length_m / 1000.0,
        warm_start=warm_start,
    )


@dataclass
class DynamicStateSummary:
    """What `generate_dynamic_state` did.

    Attributes
    ----------
    directory : pathlib.Path
        The ``dynamic_state_*`` folder written.
    steps : int
    fstate_lines : int
        Forwarding entries written, all steps.
    dijkstra_sources : int
        Shortest-path trees computed afresh, all steps.
    unreachable_entries_first_step : int
        Satellite entries with no route at ``t = 0``.
    seconds : float
        Wall time, s.
    seconds_by_part : dict of str to float
        Wall time of ``propagate``, ``route`` and ``write``, s.
    num_satellites, num_ground_stations : int
        S and G of the network.
    """

    directory: Path
    steps: int
    fstate_lines: int
    dijkstra_sources: int
    unreachable_entries_first_step: int
    seconds: float
    seconds_by_part: dict[str, float] = field(default_factory=dict)
    num_satellites: int = 0
    num_ground_stations: int = 0


def generate_dynamic_state(
    output_dir: str | Path,
    network: SatelliteNetwork,
    duration_s: int,
    step_ms: int,
    *,
    geometry: str = "leonet",
    warm_start: bool = True,
    chunk_steps: int = 100,
    progress: Callable[[int, int], None] | None = None,
) -> DynamicStateSummary:
    """Write ``dynamic_state_<step>ms_for_<duration>s/{fstate,gsl_if_bandwidth}_<t_ns>.txt``.

    Steps ``t = 0, step, ...`` strictly before ``duration_s`` (Hypatia's
    ``range(0, end, step)``), nanoseconds since the TLE epoch.  A previous
    folder of the same name is replaced as a whole, at the end.

    Parameters
    ----------
    output_dir : path
        The satellite-network directory; the dynamic-state folder is created in it.
    network : SatelliteNetwork
        One GSL interface per node.
    duration_s, step_ms : int
        As Hypatia's ``main_*.py`` arguments (whole seconds, whole milliseconds).
    geometry : {"leonet", "pyephem"}
        See `leonet.hypatia.geometry`.
    warm_start : bool
        See `leonet.hypatia.router.FreeOneOnlyOverIsls`.
    chunk_steps : int
        Steps propagated per SGP4 call.
    progress : callable(done, total), optional
        Called after every step.

    Returns
    -------
    DynamicStateSummary

    Raises
    ------
    ScenarioError
        A step or duration that is not a positive whole number, a node with
        more than one GSL interface, or an ISL longer than its limit.

    Examples
    --------
    >>> import tempfile
    >>> from leonet.hypatia.network import walker_network
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     summary = generate_dynamic_state(tmp, walker_network("starlink-550"), 1, 500)
    ...     files = sorted(p.name for p in summary.directory.iterdir())
    >>> summary.directory.name, summary.steps, files[:2]
    ('dynamic_state_500ms_for_1s', 2, ['fstate_0.txt', 'fstate_500000000.txt'])
    >>> summary.fstate_lines > 1584 * 100 + 100 * 99  # every entry at t = 0, then the changes
    True
    """
    if int(step_ms) <= 0 or int(step_ms) != step_ms:
        raise ScenarioError(f"step_ms must be a positive whole number of milliseconds, got {step_ms}")
    if int(duration_s) <= 0 or int(duration_s) != duration_s:
        raise ScenarioError(f"duration_s must be a positive whole number of seconds, got {duration_s}")
    _check_network(network)
    t0 = _time.perf_counter()
    out = Path(output_dir) / dynamic_state_dirname(step_ms, duration_s)
    # The folder is written under a temporary name and renamed into place at
    # the end: a killed or failed run never leaves half a dynamic state.
    for stale in Path(output_dir).glob(f".{out.name}.*.tmp"):
        shutil.rmtree(stale, ignore_errors=True)
    building = out.parent / f".{out.name}.{os.getpid()}.tmp"
    building.mkdir(parents=True)
    try:
        summary = _write_steps(building, network, step_offsets_ns(duration_s, step_ms), geometry, warm_start,
                               chunk_steps, progress)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    _swap_into_place(building, out)
    summary.directory = out
    summary.seconds = _time.perf_counter() - t0
    return summary


def _write_steps(building: Path, network: SatelliteNetwork, offsets: NDArray[np.int64], geometry: str,
                 warm_start: bool, chunk_steps: int, progress) -> DynamicStateSummary:
    """The time loop of `generate_dynamic_state`: route and write every step into ``building``."""
    from sgp4.api import SatrecArray

    parts = {"propagate": 0.0, "route": 0.0, "write": 0.0}
    S, G = network.num_satellites, network.num_ground_stations
    router = _router(network, warm_start)
    satrecs = SatrecArray(network.tles.satrecs())
    bandwidth = network.gsl_interfaces.aggregate_max_bandwidth
    previous = None
    lines = 0
    sources = 0
    unreachable0 = 0
    for lo in range(0, len(offsets), chunk_steps):
        chunk = offsets[lo : lo + chunk_steps]
        ta = _time.perf_counter()
        r_sat, r_gs = network_positions(network, chunk, geometry, satrecs)
        parts["propagate"] += _time.perf_counter() - ta
        for k, t_ns in enumerate(chunk.tolist()):
            ta = _time.perf_counter()
            state = router.step(r_sat[k], r_gs[k], t_ns)
            tb = _time.perf_counter()
            text = fstate_text(router, state.next_hop, previous)
            with open(building / f"fstate_{t_ns}.txt", "w", encoding="ascii") as f:
                f.write(text)
            with open(building / f"gsl_if_bandwidth_{t_ns}.txt", "w", encoding="ascii") as f:
                f.write(gsl_if_bandwidth_text(router, bandwidth, previous is None))
            if previous is None:
                unreachable0 = int((state.next_hop[:S] < 0).sum())
            lines += text.count("\n")
            sources += state.dijkstra_sources
            previous = state.next_hop
            parts["route"] += tb - ta
            parts["write"] += _time.perf_counter() - tb
            if progress is not None:
                progress(lo + k + 1, len(offsets))
    return DynamicStateSummary(building, len(offsets), lines, sources, unreachable0, 0.0, parts, S, G)


def _swap_into_place(building: Path, out: Path) -> None:
    """Rename the finished folder ``building`` to ``out``, replacing a previous ``out`` as a whole."""
    old = None
    if out.exists() or out.is_symlink():
        old = out.parent / f".{out.name}.{os.getpid()}.old.tmp"
        os.replace(out, old)
    os.replace(building, out)
    if old is not None:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)


def iter_states(
    network: SatelliteNetwork,
    duration_s: int,
    step_ms: int,
    *,
    state_dir: str | Path | None = None,
    geometry: str = "leonet",
    chunk_steps: int = 100,
) -> Iterator[tuple[int, NDArray[np.int32], NDArray[np.float64], NDArray[np.float64]]]:
    """The forwarding state and positions of every step.

    Parameters
    ----------
    network : SatelliteNetwork
    duration_s, step_ms : int
        Whole seconds, whole milliseconds (the steps of `step_offsets_ns`).
    state_dir : path, optional
        A ``dynamic_state_*`` folder (Hypatia's or leonet's) to read the
        forwarding state from; otherwise it is computed.
    geometry : {"leonet", "pyephem"}
        For the positions (`leonet.hypatia.geometry`).
    chunk_steps : int
        Steps propagated per SGP4 call.

    Yields
    ------
    t_ns : int
    next_hop : int32[S + G, G]
        Read-only: with ``state_dir`` the same array is updated in place at
        every step.
    r_sat_km : float64[S, 3]
    r_gs_km : float64[G, 3]
        Positions, ECEF, km.

    Raises
    ------
    InputFileError
        A step's ``fstate_<t_ns>.txt`` is missing from ``state_dir``, or malformed.

    Examples
    --------
    >>> from leonet.hypatia.network import walker_network
    >>> [(t, nh.shape) for t, nh, _, _ in iter_states(walker_network("starlink-550"), 1, 500)]
    [(0, (1684, 100)), (500000000, (1684, 100))]
    """
    from sgp4.api import SatrecArray

    offsets = step_offsets_ns(duration_s, step_ms)
    S, G = network.num_satellites, network.num_ground_stations
    router = None
    table = None
    if state_dir is None:
        _check_network(network)
        router = _router(network)
    else:
        table = np.full((S + G, G), -1, dtype=np.int32)
    satrecs = SatrecArray(network.tles.satrecs())
    for lo in range(0, len(offsets), chunk_steps):
        chunk = offsets[lo : lo + chunk_steps]
        r_sat, r_gs = network_positions(network, chunk, geometry, satrecs)
        for k, t_ns in enumerate(chunk.tolist()):
            if router is not None:
                nh = router.step(r_sat[k], r_gs[k], t_ns).next_hop
            else:
                f = Path(state_dir) / f"fstate_{t_ns}.txt"
                if not f.exists():
                    raise InputFileError(
                        str(f), f"is missing: the state directory has no step at t = {t_ns} ns; "
                        "check --step-ms and --duration-s against its name dynamic_state_<step>ms_for_<duration>s"
                    )
                read_fstate_file(f, table, S)
                nh = table
            yield t_ns, nh, r_sat[k], r_gs[k]


# --------------------------------------------------------------------------- gen-state


def check_network_dir(output_dir: Path, state_dir: Path, same: bool, force: bool) -> None:
    """Refuse to write into a directory leonet did not write (unless ``force``), or over a dynamic state.

    Parameters
    ----------
    output_dir : pathlib.Path
        The satellite-network directory to write.
    state_dir : pathlib.Path
        The ``dynamic_state_*`` folder that will be written in it.
    same : bool
        ``output_dir`` is the input directory (its network files are not rewritten).
    force : bool
        Write anyway (``--force``).

    Raises
    ------
    ScenarioError
        ``output_dir`` is a file or a dangling link; without ``force``: the
        dynamic state exists and is not empty, or ``output_dir`` has entries
        and no leonet marker (and is not the input directory).
    """
    if output_dir.is_symlink() and not output_dir.is_dir():
        raise ScenarioError(f"OUTPUT_DIR {output_dir} is a symbolic link to no directory; choose another OUTPUT_DIR")
    if output_dir.exists() and not output_dir.is_dir():
        raise ScenarioError(f"OUTPUT_DIR {output_dir} exists and is not a directory")
    if not output_dir.exists() or force:
        return
    if state_dir.exists() and (state_dir.is_symlink() or not state_dir.is_dir() or any(state_dir.iterdir())):
        raise ScenarioError(
            f"{state_dir} already holds a dynamic state; pass --force to replace it, or choose another OUTPUT_DIR"
        )
    entries = [p.name for p in output_dir.iterdir() if p.name not in _OURS]
    if entries and not same and not (output_dir / MARKER_NAME).is_file():
        raise ScenarioError(
            f"OUTPUT_DIR {output_dir} is not empty ({len(entries)} entries, e.g. {sorted(entries)[0]!r}) and leonet did "
            "not write it; its tles.txt, isls.txt, ground_stations.txt, description.txt and gsl_interfaces_info.txt "
            "would be replaced. Choose an empty or new directory, or pass --force"
        )


def mark_network_dir(output_dir: Path) -> None:
    """Write `MARKER_NAME` into ``output_dir``: leonet wrote it, and may replace its files later.

    Parameters
    ----------
    output_dir : pathlib.Path
    """
    from .._version import __version__
    from ..results.files import write_json_atomic

    write_json_atomic(
        output_dir / MARKER_NAME,
        {"leonet": __version__, "written": ["tles.txt", "isls.txt", "ground_stations.txt", "description.txt",
                                             "gsl_interfaces_info.txt", "dynamic_state_*"]},
    )


def gen_state(
    output_dir: str | Path,
    *,
    constellation: str | None = None,
    tles: str | Path | None = None,
    input_dir: str | Path | None = None,
    ground_stations: str | Path | None = None,
    isl: str = "plus-grid",
    isls: str | Path | None = None,
    isl_shift: int = 0,
    duration_s: int = 2,
    step_ms: int = 100,
    max_gsl_length_m: float | None = None,
    max_isl_length_m: float | None = None,
    geometry: str = "leonet",
    force: bool = False,
    warm_start: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> DynamicStateSummary:
    """``leonet hypatia gen-state``: write a Hypatia network directory and its dynamic state.

    Writes ``tles.txt``, ``isls.txt``, ``ground_stations.txt``,
    ``description.txt``, ``gsl_interfaces_info.txt`` (unless ``output_dir``
    is ``input_dir``) and ``dynamic_state_<step>ms_for_<duration>s/``.
    Error messages name the command-line options.

    Parameters
    ----------
    output_dir : path
        Created if missing.  An existing one must be empty or written by
        leonet (`MARKER_NAME`), and must not hold this dynamic state yet,
        unless ``force``.
    constellation, tles, input_dir, ground_stations, isl, isls, isl_shift, max_gsl_length_m, max_isl_length_m
        The network (`leonet.hypatia.network.build_network`).
    duration_s : int
        Simulated time, whole seconds (> 0).
    step_ms : int
        Time step, whole milliseconds (> 0).
    geometry : {"leonet", "pyephem"}
        See `leonet.hypatia.geometry`.
    force : bool
        Write into a directory leonet did not write, or replace the dynamic state.
    warm_start : bool
        False recomputes every tree at every step (``--cold``).
    progress : callable(done, total), optional
        Called after every step.

    Returns
    -------
    DynamicStateSummary

    Raises
    ------
    ScenarioError, InputFileError
        Bad options or input files, or an output directory it must not write.
    RunDirectoryError
        Another leonet process holds the directory's lock.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> tmp = tempfile.TemporaryDirectory()
    >>> out = Path(tmp.name) / "net"
    >>> s = gen_state(out, duration_s=1, step_ms=500)
    >>> s.steps, s.num_satellites, s.num_ground_stations, (out / MARKER_NAME).is_file()
    (2, 1584, 100, True)
    >>> gen_state(out, duration_s=1, step_ms=500)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    leonet.errors.ScenarioError: .../net/dynamic_state_500ms_for_1s already holds a dynamic state; ...
    >>> tmp.cleanup()
    """
    if geometry not in GEOMETRIES:
        raise ScenarioError(f"--geometry {geometry!r} is not one of {', '.join(GEOMETRIES)}")
    if duration_s <= 0:
        raise ScenarioError(f"--duration-s must be a positive whole number of seconds, got {duration_s}")
    if step_ms <= 0:
        raise ScenarioError(f"--step-ms must be a positive whole number of milliseconds, got {step_ms}")
    net = build_network(
        constellation=constellation, tles=tles, input_dir=input_dir, ground_stations=ground_stations, isl=isl,
        isls=isls, isl_shift=isl_shift, max_gsl_length_m=max_gsl_length_m, max_isl_length_m=max_isl_length_m,
    )
    output_dir = Path(output_dir)
    state_dir = output_dir / dynamic_state_dirname(step_ms, duration_s)
    same = input_dir is not None and output_dir.exists() and output_dir.resolve() == Path(input_dir).resolve()
    check_network_dir(output_dir, state_dir, same, force)
    from ..results.lock import RunLock

    output_dir.mkdir(parents=True, exist_ok=True)
    with RunLock(output_dir):
        if not same:
            write_satellite_network(output_dir, net)
            mark_network_dir(output_dir)
        return generate_dynamic_state(
            output_dir, net, duration_s, step_ms, geometry=geometry, warm_start=warm_start, progress=progress
        )
