"""The ``leonet`` command line (Typer + Rich).  Thin: it parses, calls the API, prints.

User errors (`leonet.errors.LeonetError`) print one clear message and exit
with status 2, without a traceback unless ``--debug`` is given.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shlex
import sys
import warnings
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .errors import LeonetError, ScenarioError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="leonet: a fast, open digital twin of a Starlink-like LEO satellite internet system.",
)
tle_app = typer.Typer(no_args_is_help=True, help="Work with element-set (TLE/OMM) files.")
app.add_typer(tle_app, name="tle")


def _register_subcommands() -> None:
    from . import cli_hypatia

    app.add_typer(cli_hypatia.app, name="hypatia", help="Hypatia-compatible network state and paths (drop-in for satgenpy).")


_register_subcommands()

# Every string leonet prints is printed verbatim: user text such as a sponsor
# named "Acme [/oops] Corp" or ":x:" must not be read as Rich markup or emoji.
# Styles are applied with `rich.text.Text`, never with markup.
out = Console(markup=False, emoji=False, highlight=False)
err = Console(stderr=True, markup=False, emoji=False, highlight=False)


def _label(label: str, style: str, message: str) -> Text:
    """``label`` in ``style``, then ``message`` verbatim."""
    return Text.assemble((label, style), " ", message)
_state = {"debug": bool(os.environ.get("LEONET_DEBUG")), "quiet": False}


@app.callback()
def _main(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars or warnings."),
):
    _state["debug"] = _state["debug"] or debug
    _state["quiet"] = quiet


def _progress(description: str):
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("{task.description}", markup=False, style="bold"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("steps"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=_state["quiet"] or not err.is_terminal,
    )


@contextlib.contextmanager
def _output_errors(option: str, path):
    """Turn an OSError while writing ``path`` into a ScenarioError naming the option."""
    try:
        yield
    except OSError as exc:  # a directory, a missing directory, a read-only place...
        raise ScenarioError(
            f"{option} {path}: cannot write there ({exc.strerror or exc}); give a file path in an existing directory"
        ) from None


def _parse_time(text: str | None):
    from .timebase import parse_utc

    return None if text is None else parse_utc(text)


@app.command()
def run(
    scenario: Optional[str] = typer.Argument(None, help="Scenario file or built-in name (default: ukraine)."),
    out_dir: Optional[Path] = typer.Option(None, "--out", "-o", help="Output directory (default: the scenario's)."),
    force: bool = typer.Option(
        False, "--force", help="Replace a run already in the output directory, or write into a directory of other files."
    ),
    lenient: bool = typer.Option(False, "--lenient", help="Skip bad element-set records with a warning."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    resume: Optional[Path] = typer.Option(None, "--resume", help="Continue an interrupted run in this directory."),
    workers: int = typer.Option(1, "--workers", "-w", help="Local worker processes."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler address, tcp://HOST:PORT."),
    dask_local: Optional[int] = typer.Option(None, "--dask-local", help="Run on a local Dask cluster of N workers."),
    chunk_steps: Optional[int] = typer.Option(None, "--chunk-steps", help="Steps per chunk (default: the scenario's)."),
    report: bool = typer.Option(True, "--report/--no-report", help="Write report.html at the end."),
    ignore_memory_guard: bool = typer.Option(False, "--ignore-memory-guard", help="Run even if the memory estimate is too high."),
):
    """Run a scenario (default: the built-in `ukraine`) and write its results."""
    from .engine.run import resume_run, run_scenario
    from .errors import RunInterrupted
    from .scenario.load import load_scenario

    if resume is not None:
        # A resumed run is the run that was started: its scenario, output and chunking come from its manifest.
        given = [name for name, value in (("SCENARIO", scenario), ("--out", out_dir), ("--force", force or None),
                                          ("--lenient", lenient or None), ("--chunk-steps", chunk_steps)) if value is not None]
        if given:
            raise ScenarioError(
                f"--resume continues the run as it was started; {', '.join(given)} cannot be given with it "
                "(to run again with other settings, start a new run with --force)"
            )
    if chunk_steps is not None and chunk_steps < 1:
        raise ScenarioError(f"--chunk-steps {chunk_steps}: give at least 1")
    if scheduler and dask_local:
        raise ScenarioError("give --scheduler or --dask-local, not both")
    if workers < 1:
        raise ScenarioError(f"--workers {workers}: give at least 1")
    loaded = None if resume is not None else load_scenario("ukraine" if scenario is None else scenario)
    name = resume.name if resume is not None else loaded.spec.scenario.name
    with _progress(f"running {name}") as bar:
        task = bar.add_task(f"running {name}", total=None)
        tick = lambda d, t: bar.update(task, completed=d, total=t)  # noqa: E731
        opts = dict(progress=tick, workers=workers, dask_scheduler=scheduler, dask_local=dask_local,
                    ignore_memory_guard=ignore_memory_guard)
        try:
            if resume is not None:
                result = resume_run(resume, **opts)
            else:
                result = run_scenario(loaded, out_dir, force=force, lenient=lenient, chunk_steps=chunk_steps, **opts)
        except RunInterrupted as exc:
            import shlex

            err.print(
                _label(
                    "interrupted:",
                    "bold yellow",
                    f"the run in {exc.path} stopped before it finished (status: interrupted); continue it with: "
                    f"leonet run --resume {shlex.quote(str(exc.path))}",
                ),
                soft_wrap=True,
            )
            raise typer.Exit(130) from None
    if report:
        _write_report(result.path)
    if as_json:
        from .results.files import dumps_json

        print(dumps_json({"run": str(result.path), **result.summary}))
        return
    _print_summary(result)


def _write_report(run_dir: Path) -> Path:
    """Write the run's report.html."""
    from .cli_report import report_command

    return report_command(run_dir, None, quiet=_state["quiet"])


def _print_summary(result) -> None:
    """The run's headline numbers, by region, effects and cost, as Rich tables."""
    s = result.summary
    head = Table(title=f"leonet run -> {result.path}", show_header=False)
    rows = [
        ("satellites", f"{s['satellites']:,}"),
        ("steps", f"{s['steps']:,}"),
        ("terminals", f"{s.get('terminals', 0):,}"),
        ("served (active terminal-steps)", f"{s['served_pct']:.2f} %" if "served_pct" in s else None),
        ("RTT p50 / p95", f"{s['rtt_p50_ms']} / {s['rtt_p95_ms']} ms" if s.get("rtt_p50_ms") is not None else None),
        (
            "throughput p50 / p5",
            f"{s['throughput_p50_mbps']} / {s['throughput_p5_mbps']} Mbit/s" if "throughput_p50_mbps" in s else None,
        ),
        ("handovers per terminal-hour", s.get("handovers_per_terminal_hour")),
        ("moving terminals", f"{s['moving_terminals']:,}" if s.get("moving_terminals") else None),
        ("distance travelled", f"{s['distance_travelled_km']:,.1f} km" if s.get("moving_terminals") else None),
        ("handovers per mover-hour", s.get("mover_handovers_per_hour") if s.get("moving_terminals") else None),
        ("unserved terminal-steps", ", ".join(f"{k} {v:,}" for k, v in s.get("unserved_steps_by_reason", {}).items()) or None),
        ("PoP assignment", f"Starlink's of {s['pop_assignment_snapshot']}" if s.get("pop_assignment_snapshot") else None),
        ("wall time", f"{s['wall_s']:.1f} s"),
    ]
    for key, value in rows:
        if value is not None:
            head.add_row(key, str(value))
    out.print(head)
    if s.get("by_region"):
        t = Table("region", "terminals", "served %", "RTT p50 ms", "RTT p95 ms", title="by region")
        for r in s["by_region"]:
            t.add_row(r["region"], str(r["terminals"]), *(("-" if v is None else f"{v:g}") for v in (r["served_pct"], r["rtt_p50_ms"], r["rtt_p95_ms"])))
        out.print(t)
    if s.get("policy_and_fault_effects"):
        t = Table("reason", "region", "terminals", "terminal-hours", title="policy, fault and capacity effects (top 5 regions each)")
        shown: dict[str, int] = {}
        for r in s["policy_and_fault_effects"]:
            shown[r["reason"]] = shown.get(r["reason"], 0) + 1
            if shown[r["reason"]] <= 5:
                t.add_row(r["reason"], r["region"], str(r["terminals"]), f"{r['terminal_hours']:.2f}")
        out.print(t)
    if s.get("cost_by_sponsor"):
        t = Table("sponsor", "terminal-days", "cost USD", title="cost by sponsor (ledger window)")
        for r in s["cost_by_sponsor"]:
            t.add_row(r["sponsor"], f"{r['terminal_days']:,.1f}", f"{r['cost_usd']:,.2f}")
        out.print(t)
        months = sorted({r["month"] for r in s["cost_by_month"]})[-3:]
        t = Table("month", "sponsor", "terminal-days", "cost USD", title="cost by sponsor, last months")
        for r in s["cost_by_month"]:
            if r["month"] in months:
                t.add_row(r["month"], r["sponsor"], f"{r['terminal_days']:,.1f}", f"{r['cost_usd']:,.2f}")
        out.print(t)
    for note in s.get("notes", []):
        if note.startswith("warning: "):
            out.print(_label("warning:", "yellow", note[len("warning: "):]))
        else:
            out.print(_label("note:", "dim", note))


@app.command()
def validate(scenario: str = typer.Argument(..., help="Scenario file or built-in name.")):
    """Check a scenario without running it: every check a run makes before its first step."""
    from .engine.run import prepare_run
    from .scenario.load import load_scenario

    loaded = load_scenario(scenario)
    ctx = prepare_run(loaded)
    terminals = 0 if ctx.service is None else len(ctx.service.terminals)
    out.print(
        _label(
            "ok",
            "green",
            f"{loaded.source}: {len(ctx.constellation):,} satellites, {terminals:,} terminals, {len(ctx.grid):,} steps "
            f"of {loaded.spec.time.step_s:g} s from {ctx.grid.epoch_utc.isoformat()}",
        )
    )


@app.command()
def scenarios(
    constellations: bool = typer.Option(False, "--constellations", help="List built-in constellations instead."),
):
    """List the built-in scenarios (or constellations)."""
    if constellations:
        from .orbits.constellation import BUILTIN_TLE, BUILTIN_WALKER

        table = Table("name", "satellites", "description")
        for name, (desc, shells) in BUILTIN_WALKER.items():
            table.add_row(name, f"{sum(s.size for s in shells):,}", desc)
        for name, (desc, _, _) in BUILTIN_TLE.items():
            table.add_row(name, "file", desc)
        out.print(table)
        return
    from .scenario.load import builtin_scenarios

    table = Table("name", "description")
    for name, desc in builtin_scenarios().items():
        table.add_row(name + (" (default)" if name == "ukraine" else ""), desc)
    out.print(table)


def _source_and_time(source: str, at: str | None, lenient: bool):
    """The constellation named by ``source`` and the ``--at`` time (None: the library's default time)."""
    from .engine.build import constellation_from_source

    when = _parse_time(at)
    return constellation_from_source(source, when, lenient=lenient), when


@app.command()
def sats(
    source: str = typer.Argument(..., help="Built-in constellation name or TLE/OMM file."),
    at: Optional[str] = typer.Option(None, "--at", help="UTC time (default: median element epoch)."),
    fmt: str = typer.Option("table", "--format", "-f", help="table, csv or parquet."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="File to write (parquet needs one)."),
    lenient: bool = typer.Option(False, "--lenient", help="Skip bad element-set records."),
    force: bool = typer.Option(False, "--force", help="Replace an existing --output file that leonet did not write."),
):
    """Every satellite's ECEF position, latitude, longitude and altitude at one time."""
    from .orbits.constellation import warn_if_stale
    from .orbits.propagate import positions_at

    if fmt not in ("table", "csv", "parquet"):
        raise ScenarioError(f"--format {fmt!r} is not one of table, csv, parquet")
    if fmt == "parquet" and output is None:
        raise ScenarioError("--format parquet needs --output FILE")
    if output is not None:
        from .results.files import check_output_file

        # Parquet files leonet wrote carry its marker; a CSV has no room for one.
        check_output_file(output, option="--output", kind="parquet" if fmt == "parquet" else None, force=force,
                          what="Parquet file" if fmt == "parquet" else "file")
    constellation, when = _source_and_time(source, at, lenient)
    positions = positions_at(constellation, when)
    warn_if_stale(constellation, positions.when_utc)
    at_text = positions.when_utc.isoformat()
    if fmt in ("parquet", "csv"):
        import pyarrow as pa

        table = positions.to_table()
    if fmt == "parquet":
        from .results.store import write_table_atomic

        with _output_errors("--output", output):
            write_table_atomic(output, table)
        err.print(f"wrote {table.num_rows:,} satellites at {at_text} to {output}")
        return
    if fmt == "csv":
        import pyarrow.csv as pacsv

        buf = pa.BufferOutputStream()
        pacsv.write_csv(table, buf)
        if output is None:
            sys.stdout.write(buf.getvalue().to_pybytes().decode())
        else:
            from .results.files import write_bytes_atomic

            with _output_errors("--output", output):
                write_bytes_atomic(output, buf.getvalue().to_pybytes())
        return
    t = Table(title=f"{len(positions):,} satellites at {at_text}")
    for col in ("sat", "name", "shell", "x_km", "y_km", "z_km", "lat_deg", "lon_deg", "altitude_km"):
        t.add_column(col, justify="right" if col not in ("name", "shell") else "left")
    r = positions.r_ecef_km
    for k in range(len(positions)):
        t.add_row(
            str(k), positions.names[k], positions.shell[k],
            *(f"{v:.3f}" for v in (r[k, 0], r[k, 1], r[k, 2], positions.lat_deg[k], positions.lon_deg[k],
                                   positions.altitude_km[k])),
        )
    out.print(t)


@app.command()
def visible(
    source: str = typer.Argument(..., help="Built-in constellation name or TLE/OMM file."),
    lat: float = typer.Option(..., "--lat", help="Geodetic latitude, degrees (WGS84)."),
    lon: float = typer.Option(..., "--lon", help="Longitude, degrees east."),
    at: Optional[str] = typer.Option(None, "--at", help="UTC time (default: median element epoch)."),
    min_elevation: float = typer.Option(25.0, "--min-elevation", help="Elevation mask, degrees."),
    altitude_km: float = typer.Option(0.0, "--altitude-km", help="Site height above the ellipsoid, km."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON rows."),
    lenient: bool = typer.Option(False, "--lenient", help="Skip bad element-set records."),
):
    """Satellites above the elevation mask from one place, with elevation, azimuth, range."""
    from .orbits.constellation import warn_if_stale
    from .links.visibility import visible_from

    if not -90 <= lat <= 90:
        raise ScenarioError(f"--lat {lat} is outside -90..90 degrees")
    if not -180 <= lon <= 360:
        raise ScenarioError(f"--lon {lon} is outside -180..360 degrees east")
    if not 0 <= min_elevation < 90:
        raise ScenarioError(f"--min-elevation {min_elevation} is outside 0..90 degrees")
    if not -0.5 <= altitude_km <= 100:  # NaN, inf, metres given as km, or a point in space
        raise ScenarioError(f"--altitude-km {altitude_km} is outside -0.5..100 km above the ellipsoid (give km, not metres)")
    constellation, when = _source_and_time(source, at, lenient)
    seen = visible_from(constellation, lat, lon, when, min_elevation_deg=min_elevation, altitude_km=altitude_km)
    warn_if_stale(constellation, seen.when_utc)
    at_text = seen.when_utc.isoformat()
    rows = [
        {
            "sat": int(seen.sat[k]),
            "name": seen.names[k],
            "catalog_number": int(seen.catalog_numbers[k]),
            "elevation_deg": round(float(seen.elevation_deg[k]), 4),
            "azimuth_deg": round(float(seen.azimuth_deg[k]), 4),
            "range_km": round(float(seen.range_km[k]), 3),
        }
        for k in range(len(seen))
    ]
    if as_json:
        from .results.files import dumps_json

        print(dumps_json({"at_utc": at_text, "lat_deg": lat, "lon_deg": lon, "visible": rows}))
        return
    t = Table(title=f"{len(rows)} satellites above {min_elevation:g} deg from ({lat:g}, {lon:g}) at {at_text}")
    for col in ("sat", "name", "catalog_number", "elevation_deg", "azimuth_deg", "range_km"):
        t.add_column(col, justify="left" if col == "name" else "right")
    for row in rows:
        t.add_row(*(str(v) for v in row.values()))
    out.print(t)


@tle_app.command("shells")
def tle_shells(
    file: str = typer.Argument(..., help="TLE/OMM file or built-in element-set name."),
    write_scenario: Optional[Path] = typer.Option(None, "--write-scenario", help="Write the shells as a Walker TOML fragment."),
    lenient: bool = typer.Option(False, "--lenient", help="Skip bad records."),
    force: bool = typer.Option(False, "--force", help="Replace an existing --write-scenario file that leonet did not write."),
):
    """Group real element sets into shells (inclination, altitude) and orbital planes."""
    from .ground.sites import data_path as _data_file
    from .orbits.constellation import BUILTIN_TLE
    from .orbits.shells import infer_shells, shells_to_walker_toml
    from .orbits.tle import read_elements

    path = _data_file("tle", BUILTIN_TLE[file][1]) if file in BUILTIN_TLE else Path(file)
    if write_scenario is not None:
        from .results.files import check_output_file

        check_output_file(write_scenario, option="--write-scenario", kind="toml", force=force, what="scenario fragment")
    elements = read_elements(path, lenient=lenient)
    result = infer_shells(elements)
    t = Table(title=f"{len(elements):,} satellites in {path.name}")
    for col in ("shell", "altitude_km", "inclination_deg", "planes", "sats_per_plane", "satellites", "not_on_station"):
        t.add_column(col, justify="right")
    for s in result.shells:
        t.add_row(str(s.shell_id), f"{s.altitude_km:.1f}", f"{s.inclination_deg:.2f}", str(s.planes), str(s.sats_per_plane), str(s.satellites), str(s.not_on_station))
    out.print(t)
    unassigned = int((result.shell_of_satellite < 0).sum())
    out.print(f"satellites in no shell: {unassigned:,}")
    if write_scenario is not None:
        from ._version import __version__
        from .results.store import write_bytes_atomic

        # The first line marks the file as leonet's, so a later --write-scenario may replace it.
        text = f"# leonet {__version__}: shells inferred by `leonet tle shells` from {path.name}\n" + shells_to_walker_toml(result, Path(file).stem)
        with _output_errors("--write-scenario", write_scenario):
            write_bytes_atomic(write_scenario, text.encode("utf-8"))
        out.print(f"wrote {write_scenario}")


@app.command("sites")
def sites_cmd(
    kind: str = typer.Argument(..., help="gateways or pops."),
    country: Optional[str] = typer.Option(None, "--country", help="Only this country (ISO 3166-1 alpha-2)."),
    catalog: Optional[str] = typer.Option(None, "--catalog", help="A shipped list (default: the scenarios' default)."),
    planned: bool = typer.Option(False, "--planned", help="Gateways: also the sites a list marks planned."),
):
    """List the shipped gateways or PoPs, with the ids a scenario selects them by."""
    from .ground.sites import GATEWAY_CATALOGS, POP_CATALOGS, load_gateways, load_pops

    if kind not in ("gateways", "pops"):
        raise ScenarioError(f"leonet sites {kind!r}: give gateways or pops")
    names = GATEWAY_CATALOGS if kind == "gateways" else POP_CATALOGS
    if catalog is not None and catalog not in names:
        raise ScenarioError(f"--catalog {catalog!r} is not one of {', '.join(names)}")
    if kind == "gateways":
        sites = load_gateways(catalog=catalog, include_planned=planned)
    else:
        sites = load_pops(catalog=catalog)
    if country is not None:
        keep = [i for i, c in enumerate(sites.country_iso2) if c == country.strip().upper()]
        if not keep:
            raise ScenarioError(f"--country {country!r}: no {kind} in that country in this list")
        sites = sites.subset(keep)
    status = sites.extra.get("status") if sites.extra else None
    t = Table("id", "name", "country", "lat_deg", "lon_deg", *(("antennas", "band", "status") if kind == "gateways" else ()),
              title=f"{len(sites)} {kind}")
    for i in range(len(sites)):
        row = [sites.ids[i], sites.names[i], sites.country_iso2[i], f"{sites.lat_deg[i]:.4f}", f"{sites.lon_deg[i]:.4f}"]
        if kind == "gateways":
            row += [str(sites.antenna_count[i]), sites.band[i] if sites.band else "", "" if status is None else str(status[i])]
        t.add_row(*row)
    out.print(t)


@app.command("query")
def query_cmd(
    run_dir: Path = typer.Argument(..., help="A run directory."),
    sql: str = typer.Argument(..., help="SQL over the run's tables (DuckDB dialect)."),
    fmt: str = typer.Option("table", "--format", "-f", help="table, csv or json."),
    timeout_s: float = typer.Option(300.0, "--timeout-s", help="Stop the query after this many seconds."),
    memory_limit: str = typer.Option("4GB", "--memory-limit", help="Most memory the query may use, e.g. 4GB or 512MB."),
    max_rows: int = typer.Option(10_000_000, "--max-rows", help="Most rows the result may hold."),
):
    """Query a run's tables with DuckDB (read-only; time, memory and row limits)."""
    from .results.files import dumps_json
    from .results.query import query

    if fmt not in ("table", "csv", "json"):
        raise ScenarioError(f"--format {fmt!r} is not one of table, csv, json")
    if not (0 < timeout_s <= 7 * 86400):
        raise ScenarioError(f"--timeout-s {timeout_s}: give a number of seconds above 0 (at most a week)")
    if max_rows < 1:
        raise ScenarioError(f"--max-rows {max_rows}: give at least 1")
    result = query(run_dir, sql, timeout_s=timeout_s, memory_limit=memory_limit, max_rows=max_rows)
    try:
        rows = result.to_pylist()
    except (OverflowError, ValueError) as exc:  # e.g. 'infinity'::TIMESTAMP has no Python datetime
        raise ScenarioError(
            f"query: a value of the result cannot be shown ({exc}); cast that column to text, e.g. CAST(t AS VARCHAR)"
        ) from None
    if fmt == "json":
        print(dumps_json(rows, indent=1))
    elif fmt == "csv":
        import csv

        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(result.column_names)
        for row in rows:
            writer.writerow(row.values())
    else:
        t = Table(*result.column_names)
        for row in rows:
            t.add_row(*(f"{v:.6g}" if isinstance(v, float) else str(v) for v in row.values()))
        out.print(t)


@app.command("report")
def report_cmd(
    run_dir: Path = typer.Argument(..., help="A run directory."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="HTML file (default: RUN/report.html)."),
    open_browser: bool = typer.Option(False, "--open", help="Open it in the web browser."),
    force: bool = typer.Option(False, "--force", help="Replace an existing --output file that is not a leonet report."),
):
    """Write a run's self-contained, offline HTML report."""
    from .cli_report import report_command

    report_command(run_dir, output, open_browser, quiet=_state["quiet"], force=force)


@app.command("runs")
def runs_cmd(directory: Path = typer.Argument(Path("runs"), help="Directory holding runs.")):
    """List the runs in a directory."""
    from .results.query import list_runs

    rows = list_runs(directory)
    if not rows:
        out.print(f"no leonet runs in {directory}")
        return
    t = Table("run", "scenario", "status", "started_utc", "steps", "chunks_done")
    for r in rows:
        t.add_row(*(str(r.get(k, "")) for k in ("run", "scenario", "status", "started_utc", "steps", "chunks_done")))
    out.print(t)


@app.command()
def doctor():
    """Versions, whether sgp4's compiled extension is active, and data provenance."""
    from importlib import metadata, resources

    from sgp4.api import accelerated

    from ._version import __version__

    t = Table("item", "value", title="leonet doctor")
    t.add_row("leonet", __version__)
    t.add_row("python", sys.version.split()[0])
    for pkg in ("numpy", "scipy", "sgp4", "pydantic", "typer", "rich", "pyarrow", "duckdb", "shapely", "h3"):
        try:
            t.add_row(pkg, metadata.version(pkg))
        except metadata.PackageNotFoundError:
            t.add_row(pkg, Text("missing", style="red"))
    t.add_row(
        "sgp4 compiled extension",
        Text("active", style="green") if accelerated else Text("MISSING (~100x slower)", style="red"),
    )
    data = resources.files("leonet") / "data"
    t.add_row("data", str(data))
    t.add_row("data provenance", str(data / "SOURCES.md"))
    out.print(t)
    if not accelerated:
        raise typer.Exit(1)


def _show_warning(message, category, filename, lineno, file=None, line=None):  # noqa: ARG001
    if not _state["quiet"]:
        err.print(_label("warning:", "yellow", cli_words(str(message))))


def _click_exceptions():
    """Click's Exit, Abort and ClickException classes, as this Typer uses them.

    Typer >= 0.29 vendors Click as ``typer._click``; older ones use ``click``.
    """
    try:
        from typer._click.exceptions import ClickException  # noqa: PLC2701
    except ImportError:  # pragma: no cover - older Typer
        from click.exceptions import ClickException
    return typer.Exit, typer.Abort, ClickException


@functools.lru_cache(maxsize=1)
def _click_command():
    """The Click command Typer builds from `app` (built once: Typer would rebuild it on every call)."""
    return typer.main.get_command(app)


#: Library messages name keyword arguments; on the command line they are these options.
_KWARG_FLAGS = (
    (re.compile(r"leonet\.resume\('((?:[^'\\]|\\.)*)'\)"), lambda m: "leonet run --resume " + shlex.quote(m.group(1))),
    (re.compile(r"\bforce=True\b"), "--force"),
    (re.compile(r"\bout=DIR\b"), "--out DIR"),
    (re.compile(r"\bignore_memory_guard=True\b"), "--ignore-memory-guard"),
    (re.compile(r"\b(timeout_s|memory_limit|max_rows|chunk_steps|workers|dask_local|dask_scheduler)=(\S?)"),
     lambda m: {"dask_scheduler": "--scheduler"}.get(m.group(1), "--" + m.group(1).replace("_", "-"))
     + ("" if m.group(2) in ("", ")", ",", ";") else " ") + m.group(2)),
)


def cli_words(message: str) -> str:
    """A library message as the command line says it: keyword arguments become options.

    >>> cli_words("pass force=True, or out=DIR; continue with leonet.resume('runs/x y')")
    "pass --force, or --out DIR; continue with leonet run --resume 'runs/x y'"
    >>> cli_words("stopped after 5 s (timeout_s=)")
    'stopped after 5 s (--timeout-s)'
    >>> cli_words("memory_limit='lots' is not a size")
    "--memory-limit 'lots' is not a size"
    """
    for pattern, replacement in _KWARG_FLAGS:
        message = pattern.sub(replacement, message)
    return message


#: Options of the whole program, accepted anywhere on the command line.
_GLOBAL_FLAGS = ("--debug", "--quiet", "-q")


def _hoist_global_flags(args: list[str]) -> list[str]:
    """``args`` with the global flags moved in front of the command, wherever they were given.

    ``leonet run x.toml -q`` means ``leonet -q run x.toml``.  A flag is left
    where it is when it is the value of the option before it, when it comes
    after ``--``, or when the command has an option of that name itself
    (``leonet hypatia gen-state -q``).
    """
    try:
        group = _click_command()
    except Exception:  # noqa: BLE001 - never let argument shuffling break the CLI
        return args
    command, own, takes_value = group, set(), set()
    rest: list[str] = []
    hoisted: list[str] = []
    i = 0
    while i < len(args):
        token = args[i]
        if token == "--":
            rest += args[i:]
            break
        if token in _GLOBAL_FLAGS and token not in own:
            hoisted.append(token)
        else:
            rest.append(token)
            if token in takes_value and "=" not in token and i + 1 < len(args):
                rest.append(args[i + 1])
                i += 1
            elif not token.startswith("-") and hasattr(command, "commands"):  # a group (Typer vendors its own Click)
                sub = command.commands.get(token)
                if sub is not None:
                    command = sub
                    params = [p for p in sub.params if getattr(p, "param_type_name", "") == "option"]
                    own = {o for p in params for o in (*p.opts, *p.secondary_opts)}
                    takes_value = {o for p in params if not p.is_flag and not p.count for o in p.opts}
        i += 1
    return hoisted + rest


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``leonet`` console script.

    Exit status: 0 done; 2 a user error (one message, no traceback unless
    ``--debug``); 130 interrupted by Ctrl-C (143 by SIGTERM); 1 a failed check
    (``leonet doctor``).
    """
    import signal

    args = _hoist_global_flags(list(sys.argv[1:] if argv is None else argv))
    # Flags hold for one invocation only (main may be called repeatedly in-process).
    _state.update(debug=bool(os.environ.get("LEONET_DEBUG")), quiet=False)
    debug = _state["debug"] or "--debug" in args
    exit_, abort, usage = _click_exceptions()
    previous_showwarning = warnings.showwarning
    warnings.showwarning = _show_warning
    terminated = {"by": None}
    from .engine.interrupt import clear_interrupt, request_interrupt

    clear_interrupt()

    def on_signal(signum, frame):  # SIGTERM, and SIGINT (Ctrl-C: 128 + 2 = 130)
        terminated["by"] = signum
        request_interrupt()  # kept for the engine's checks, should Python drop the raise below (in a __del__)
        raise KeyboardInterrupt

    previous_sigterm = previous_sigint = None
    try:
        previous_sigterm = signal.signal(signal.SIGTERM, on_signal)
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not when SIGINT is ignored (background)
            previous_sigint = signal.signal(signal.SIGINT, on_signal)
    except ValueError:  # not the main thread: leave signals alone
        pass
    status = 0
    try:
        rv = _click_command()(args=args, prog_name="leonet", standalone_mode=False)
        # Typer returns an exit code (from typer.Exit, or 130 for Ctrl-C) instead of raising it.
        if isinstance(rv, int) and not isinstance(rv, bool):
            status = rv
    except exit_ as exc:
        status = exc.exit_code
    except (abort, KeyboardInterrupt):
        err.print(_label("interrupted", "bold yellow", ""))
        status = 130
    except usage as exc:
        exc.show()
        status = 2
    except LeonetError as exc:
        if debug:
            raise
        err.print(_label("error:", "bold red", cli_words(str(exc))), soft_wrap=True)
        status = 2
    finally:
        warnings.showwarning = previous_showwarning
        _state.update(debug=bool(os.environ.get("LEONET_DEBUG")), quiet=False)
        if previous_sigterm is not None:
            signal.signal(signal.SIGTERM, previous_sigterm)
        if previous_sigint is not None:
            signal.signal(signal.SIGINT, previous_sigint)
        clear_interrupt()
    if status == 130 and terminated["by"] is not None:
        status = 128 + int(terminated["by"])
    if status:
        sys.exit(status)


if __name__ == "__main__":
    main()
