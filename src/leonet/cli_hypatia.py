"""``leonet hypatia``: a drop-in, fast replacement for Hypatia's satgenpy state generator.

Thin: it parses options, builds a `~leonet.routing.hypatia.SatelliteNetwork`,
calls `leonet.routing.fstate`, and prints.  Registered in ``leonet.cli`` as
``app.add_typer(cli_hypatia.app, name="hypatia")``.  Errors are
`~leonet.errors.LeonetError` subclasses, which the main CLI prints (no
traceback) with exit status 2.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from .errors import InputFileError, ScenarioError

app = typer.Typer(
    no_args_is_help=True,
    help="Hypatia-compatible satellite-network state (satgenpy's file formats, ~1000x faster).",
)

_err = Console(stderr=True, markup=False, emoji=False, highlight=False)

#: Written into every satellite-network directory leonet writes: its files may be replaced by leonet later.
MARKER_NAME = ".leonet-hypatia.json"

#: Files leonet itself puts in a network directory besides Hypatia's.
_OURS = (MARKER_NAME, ".leonet.lock")

_DYNAMIC_RE = re.compile(r"^dynamic_state_(\d+)ms_for_(\d+)s$")


def _progress(description: str, quiet: bool):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    return Progress(
        TextColumn(description, markup=False, style="bold"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("steps"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=_err,
        transient=True,
        disable=quiet or not _err.is_terminal,
    )


def _build_network(
    constellation: Optional[str],
    tles: Optional[Path],
    input_dir: Optional[Path],
    ground_stations: Optional[Path],
    isl: str,
    isls: Optional[Path],
    isl_shift: int,
    max_gsl_length_m: Optional[float],
    max_isl_length_m: Optional[float],
):
    from dataclasses import replace

    from .links.isl import plus_grid_pairs
    from .routing import hypatia as hy

    given = [name for name, v in (("--constellation", constellation), ("--tles", tles), ("--input-dir", input_dir)) if v is not None]
    if len(given) > 1:
        raise ScenarioError(f"give one satellite source, not {' and '.join(given)}")
    for name, value in (("--max-gsl-length-m", max_gsl_length_m), ("--max-isl-length-m", max_isl_length_m)):
        if value is not None and not value > 0:
            raise ScenarioError(f"{name} must be a positive length in metres, got {value}")
    if isl not in ("plus-grid", "none"):
        raise ScenarioError(f"--isl {isl!r} is not one of plus-grid, none (or give --isls FILE)")

    if input_dir is not None:
        net = hy.read_satellite_network(input_dir)
        if ground_stations is not None:
            gs = hy.read_ground_stations(ground_stations)
            net = replace(net, ground_stations=gs, gsl_interfaces=hy.simple_gsl_interfaces(net.num_satellites, len(gs)))
        if isls is not None:
            net = replace(net, isls=hy.read_isls(isls, net.num_satellites))
        desc = net.description
        net = replace(
            net,
            description=hy.Description(
                desc.max_gsl_length_m if max_gsl_length_m is None else max_gsl_length_m,
                desc.max_isl_length_m if max_isl_length_m is None else max_isl_length_m,
            ),
        )
        return net

    if tles is None:
        gs = hy.read_ground_stations(ground_stations)
        net = hy.walker_network(
            constellation or "starlink-550", gs, isl=isl, isl_shift=isl_shift,
            max_gsl_length_m=max_gsl_length_m, max_isl_length_m=max_isl_length_m,
        )
        if isls is not None:
            net = replace(net, isls=hy.read_isls(isls, net.num_satellites))
        return net

    t = hy.read_tles(tles)
    if max_gsl_length_m is None or max_isl_length_m is None:
        raise ScenarioError(
            "with --tles, give --max-gsl-length-m and --max-isl-length-m (the values of Hypatia's description.txt; "
            "for a shell at altitude h they are sqrt(940.7 km^2 + h^2) and 2 sqrt((R+h)^2 - (R+80 km)^2), "
            "R = 6378.135 km), or use --input-dir with a whole Hypatia network directory"
        )
    gs = hy.read_ground_stations(ground_stations)
    if isls is not None:
        pairs = hy.read_isls(isls, len(t))
    elif isl == "none":
        import numpy as np

        pairs = np.zeros((0, 2), dtype=np.int64)
    else:
        if t.planes * t.sats_per_plane != len(t):
            raise InputFileError(
                str(tles),
                f"its header says {t.planes} planes x {t.sats_per_plane} satellites = {t.planes * t.sats_per_plane}, "
                f"but it holds {len(t)} satellites, so +Grid ISLs cannot be laid out: give --isls FILE or --isl none",
                line=1,
            )
        pairs = plus_grid_pairs(t.planes, t.sats_per_plane, isl_shift)
    return hy.SatelliteNetwork(
        t, gs, pairs, hy.Description(max_gsl_length_m, max_isl_length_m), hy.simple_gsl_interfaces(len(t), len(gs))
    )


def _check_network_dir(output_dir: Path, state_dir: Path, same: bool, force: bool) -> None:
    """Refuse to write into a directory leonet did not write (unless ``force``), or over a dynamic state."""
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


def _mark_network_dir(output_dir: Path) -> None:
    from ._version import __version__
    from .results.files import write_json_atomic

    write_json_atomic(
        output_dir / MARKER_NAME,
        {"leonet": __version__, "written": ["tles.txt", "isls.txt", "ground_stations.txt", "description.txt",
                                             "gsl_interfaces_info.txt", "dynamic_state_*"]},
    )


@app.command("gen-state")
def gen_state(
    output_dir: Path = typer.Argument(..., help="Satellite-network directory to write (created if missing)."),
    constellation: Optional[str] = typer.Option(
        None, "--constellation", "-c", help="One-shell built-in Walker constellation (default: starlink-550)."
    ),
    tles: Optional[Path] = typer.Option(None, "--tles", help="Hypatia tles.txt ('planes sats' header) instead."),
    input_dir: Optional[Path] = typer.Option(
        None, "--input-dir", help="Read every input (tles, isls, ground stations, description, interfaces) from a Hypatia network directory."
    ),
    ground_stations: Optional[Path] = typer.Option(
        None, "--ground-stations", "-g", help="Hypatia ground stations, basic or extended (default: Hypatia's top-100 cities)."
    ),
    isl: str = typer.Option("plus-grid", "--isl", help="ISL topology: plus-grid or none."),
    isls: Optional[Path] = typer.Option(None, "--isls", help="Hypatia isls.txt instead of --isl."),
    isl_shift: int = typer.Option(0, "--isl-shift", help="+Grid cross-plane slot offset."),
    duration_s: int = typer.Option(2, "--duration-s", help="Simulated time, whole seconds."),
    step_ms: int = typer.Option(100, "--step-ms", help="Time step, whole milliseconds."),
    max_gsl_length_m: Optional[float] = typer.Option(None, "--max-gsl-length-m", help="Longest ground-satellite link, m."),
    max_isl_length_m: Optional[float] = typer.Option(None, "--max-isl-length-m", help="Longest ISL, m."),
    geometry: str = typer.Option("leonet", "--geometry", help="leonet (SGP4 + GMST82 + WGS72 stations) or pyephem (satgenpy's)."),
    force: bool = typer.Option(
        False, "--force", help="Write into a non-empty directory leonet did not write, or replace an existing dynamic state."
    ),
    cold: bool = typer.Option(False, "--cold", help="Recompute every shortest-path tree at every step (slower; for checking)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
):
    """Write tles, isls, ground stations, description, interfaces and dynamic_state_<step>ms_for_<duration>s/.

    The forwarding state is Hypatia's algorithm_free_one_only_over_isls (one GSL
    interface per node, bandwidth 1): fstate_<t_ns>.txt and gsl_if_bandwidth_<t_ns>.txt,
    complete at t = 0 and holding only changed entries afterwards.
    """
    from .routing.fstate import GEOMETRIES, dynamic_state_dirname, generate_dynamic_state
    from .routing.hypatia import write_satellite_network

    if geometry not in GEOMETRIES:
        raise ScenarioError(f"--geometry {geometry!r} is not one of {', '.join(GEOMETRIES)}")
    if duration_s <= 0:
        raise ScenarioError(f"--duration-s must be a positive whole number of seconds, got {duration_s}")
    if step_ms <= 0:
        raise ScenarioError(f"--step-ms must be a positive whole number of milliseconds, got {step_ms}")
    net = _build_network(
        constellation, tles, input_dir, ground_stations, isl, isls, isl_shift, max_gsl_length_m, max_isl_length_m
    )
    state_dir = output_dir / dynamic_state_dirname(step_ms, duration_s)
    same = input_dir is not None and output_dir.exists() and output_dir.resolve() == input_dir.resolve()
    _check_network_dir(output_dir, state_dir, same, force)
    from .results.lock import RunLock

    output_dir.mkdir(parents=True, exist_ok=True)
    with RunLock(output_dir):
        if not same:
            write_satellite_network(output_dir, net)
            _mark_network_dir(output_dir)
        steps = len(range(0, duration_s * 1000, step_ms))
        with _progress("gen-state", quiet) as bar:
            task = bar.add_task("gen-state", total=steps)
            summary = generate_dynamic_state(
                output_dir, net, duration_s, step_ms, geometry=geometry, warm_start=not cold,
                progress=lambda done, total: bar.update(task, completed=done),
            )
    if not quiet:
        _err.print(
            f"wrote {summary.steps} steps ({net.num_satellites:,} satellites, {net.num_ground_stations} ground stations, "
            f"{summary.fstate_lines:,} forwarding entries) to {summary.directory} in {summary.seconds:.2f} s "
            f"({summary.seconds / summary.steps * 1e3:.1f} ms/step)",
            highlight=False,
        )


def _network_for_paths(target: str):
    """(network, state folder candidates) from a directory, a built-in constellation or a scenario."""
    from .routing import hypatia as hy

    p = Path(target).expanduser()
    if p.is_dir():
        if (p / "tles.txt").exists():
            return hy.read_satellite_network(p), p
        if _DYNAMIC_RE.match(p.name) and (p.parent / "tles.txt").exists():
            return hy.read_satellite_network(p.parent), p.parent
        raise InputFileError(str(p), "is not a Hypatia satellite-network directory (no tles.txt)")
    from .orbits.constellation import BUILTIN_WALKER

    if target in BUILTIN_WALKER:
        return hy.walker_network(target), None
    from .scenario.load import load_scenario

    loaded = load_scenario(target)
    cs = loaded.spec.constellations
    if len(cs) == 1 and cs[0].kind == "builtin" and cs[0].builtin in BUILTIN_WALKER:
        return hy.walker_network(cs[0].builtin, epoch_utc=loaded.spec.time.start_utc), loaded
    raise ScenarioError(
        f"scenario {target!r}: `leonet hypatia paths` needs one built-in one-shell Walker constellation "
        "(a Hypatia network); write it out with `leonet hypatia gen-state` instead"
    )


@app.command("paths")
def paths(
    target: str = typer.Argument(
        ..., metavar="STATE_DIR_OR_SCENARIO",
        help="Hypatia network directory (its dynamic_state_* folder is read if present), a built-in constellation, or a scenario.",
    ),
    src: int = typer.Option(..., "--src", help="Source node id (a ground station: S + gid)."),
    dst: int = typer.Option(..., "--dst", help="Destination node id (a ground station: S + gid)."),
    duration_s: Optional[int] = typer.Option(None, "--duration-s", help="Whole seconds (default: from the state folder, else 2)."),
    step_ms: Optional[int] = typer.Option(None, "--step-ms", help="Whole milliseconds (default: from the state folder, else 100)."),
    geometry: str = typer.Option("leonet", "--geometry", help="Geometry for path lengths: leonet or pyephem."),
    compute: bool = typer.Option(False, "--compute", help="Compute the forwarding state even if a state folder exists."),
    output_dir: Optional[Path] = typer.Option(
        None, "--output-dir", "-o", help="Also write networkx_path_<src>_to_<dst>.txt and networkx_rtt_<src>_to_<dst>.txt here."
    ),
    force: bool = typer.Option(False, "--force", help="Replace those files in a directory leonet did not write."),
):
    """Path (at each change) and RTT (every step) between two ground stations, as Hypatia's print_routes_and_rtt.

    Prints two blocks, each headed by the name of the Hypatia file it matches:
    `t_ns,path` (node ids joined by '-', or Unreachable) and `t_ns,rtt_ns`
    with RTT = (length there + length back) / c.
    """
    from .routing.fstate import GEOMETRIES, dynamic_state_dirname, iter_states, pair_timeline

    if geometry not in GEOMETRIES:
        raise ScenarioError(f"--geometry {geometry!r} is not one of {', '.join(GEOMETRIES)}")
    net, where = _network_for_paths(target)
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
        found = sorted(d for d in where.iterdir() if d.is_dir() and _DYNAMIC_RE.match(d.name))
        if step_ms is None and duration_s is None and len(found) == 1:
            m = _DYNAMIC_RE.match(found[0].name)
            step_ms, duration_s = int(m.group(1)), int(m.group(2))
        step_ms = 100 if step_ms is None else step_ms
        duration_s = 2 if duration_s is None else duration_s
        candidate = where / dynamic_state_dirname(step_ms, duration_s)
        if candidate.is_dir():
            state_dir = candidate
        elif found:
            _err.print(f"note: no {candidate.name} in {where}; computing the forwarding state", highlight=False)
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
    timeline = pair_timeline(states, src, dst, S)
    path_name = f"networkx_path_{src}_to_{dst}.txt"
    rtt_name = f"networkx_rtt_{src}_to_{dst}.txt"
    sys.stdout.write(f"# {path_name}\n{timeline.path_text()}# {rtt_name}\n{timeline.rtt_text()}")
    if output_dir is not None:
        from .results.files import check_output_file, write_bytes_atomic

        if output_dir.exists() and not output_dir.is_dir():
            raise ScenarioError(f"--output-dir {output_dir}: exists and is not a directory; give a directory")
        try:
            output_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ScenarioError(f"--output-dir {output_dir}: cannot create it ({exc.strerror or exc}); give another directory") from None
        ours = (output_dir / MARKER_NAME).is_file()
        for name in (path_name, rtt_name):
            check_output_file(output_dir / name, option="--output-dir", kind=None, force=force or ours, what="file")
        write_bytes_atomic(output_dir / path_name, timeline.path_text().encode("ascii"))
        write_bytes_atomic(output_dir / rtt_name, timeline.rtt_text().encode("ascii"))
