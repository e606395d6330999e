"""``leonet hypatia``: a drop-in, fast replacement for Hypatia's satgenpy state generator.

Thin: each command parses its options, calls one function of `leonet.hypatia`
(`~leonet.hypatia.state.gen_state`, `~leonet.hypatia.paths.pair_paths`) and
prints.  Registered in ``leonet.cli`` as
``app.add_typer(cli_hypatia.app, name="hypatia")``.  Errors are
`~leonet.errors.LeonetError` subclasses, which the main CLI prints (no
traceback) with exit status 2.

Examples
--------
>>> [c.name for c in app.registered_commands]
['gen-state', 'paths']
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

app = typer.Typer(
    no_args_is_help=True,
    help="Hypatia-compatible satellite-network state (satgenpy's file formats, ~1000x faster).",
)

_err = Console(stderr=True, markup=False, emoji=False, highlight=False)


def _progress(description: str, quiet: bool):
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

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
    from .hypatia.state import gen_state as write_state

    with _progress("gen-state", quiet) as bar:
        task = None

        def progress(done: int, total: int) -> None:
            nonlocal task
            if task is None:  # the bar appears with the first step, once the network is written
                task = bar.add_task("gen-state", total=total)
            bar.update(task, completed=done)

        summary = write_state(
            output_dir, constellation=constellation, tles=tles, input_dir=input_dir, ground_stations=ground_stations,
            isl=isl, isls=isls, isl_shift=isl_shift, duration_s=duration_s, step_ms=step_ms,
            max_gsl_length_m=max_gsl_length_m, max_isl_length_m=max_isl_length_m, geometry=geometry,
            force=force, warm_start=not cold, progress=progress,
        )
    if not quiet:
        _err.print(
            f"wrote {summary.steps} steps ({summary.num_satellites:,} satellites, {summary.num_ground_stations} ground "
            f"stations, {summary.fstate_lines:,} forwarding entries) to {summary.directory} in {summary.seconds:.2f} s "
            f"({summary.seconds / summary.steps * 1e3:.1f} ms/step)",
            highlight=False,
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
    from .hypatia.paths import pair_paths, write_pair_files

    timeline = pair_paths(
        target, src, dst, duration_s=duration_s, step_ms=step_ms, geometry=geometry, compute=compute,
        notify=lambda note: _err.print(note, highlight=False),
    )
    sys.stdout.write(f"# {timeline.path_filename}\n{timeline.path_text()}# {timeline.rtt_filename}\n{timeline.rtt_text()}")
    if output_dir is not None:  # after printing, as before: a refused --output-dir still shows the result
        write_pair_files(output_dir, timeline, force=force)
