"""Issue 10: the whole command line fuzzed -- random argv and random file contents, 5,000+ cases a run.

Every case runs ``leonet.cli.main`` in-process with the working directory and
HOME inside this module's temporary directory.  Whatever the input, the
command must exit with 0 or 2 (one message, no traceback), must never change
a file it was not asked to write (sentinels: a foreign file at every output
name it is given, the target of a symbolic link), and must write nothing
outside the temporary directory: the listing of its parent is the same
before and after.  Paths in argv are always relative (random text is made
relative before it can name a path), so no case can point leonet outside.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leonet.cli import main

pytestmark = pytest.mark.slow  # a real run, fuzzing or the browser: deselect with -m "not slow"

FUZZ = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
            derandomize=False, database=None)

HOSTILE = ["Acme [/oops] Corp", "[bold red]x", ":x:", "Site [a] x", "[/]", "\\[", "Київ", "東京", "<script>alert(1)</script>",
           "'; DROP TABLE x; --", "%s%n", "\x1b[31mred", "a\tb", "", " ", "🛰", "${HOME}", "$(id)"]

#: A tiny scenario (4 satellites, 2 steps) that validates and runs in milliseconds, with hostile names.
BASE = textwrap.dedent(
    """
    [scenario]
    name = "fuzz"
    seed = 1
    [time]
    start_utc = "2026-05-30T12:00:00Z"
    duration_s = 10
    step_s = 5
    [[constellations]]
    kind = "walker"
    name = "tiny"
    [[constellations.shells]]
    altitude_km = 550
    inclination_deg = 53
    planes = 2
    sats_per_plane = 2
    [ground.terminals]
    [[ground.terminals.sources]]
    kind = "coordinates"
    sites = [{name = "Site [a] x", lat_deg = 50.45, lon_deg = 30.52}]
    [ground.gateways]
    [[ground.gateways.extra]]
    name = "GW [b]"
    lat_deg = 51.86
    lon_deg = 20.92
    [ground.pops]
    [[ground.pops.extra]]
    name = "PoP :x:"
    lat_deg = 50.11
    lon_deg = 8.68
    [[sponsors]]
    name = "Acme [/oops] Corp"
    [[fleets]]
    name = "fleet [x]"
    active_from = 2026-05-01
    monthly_price_usd = 10.0
    demand_mbps = 5.0
    [[fleets.terminals]]
    kind = "coordinates"
    sites = [{name = "Kharkiv [red]", lat_deg = 49.99, lon_deg = 36.23}]
    [[fleets.sponsors]]
    sponsor = "Acme [/oops] Corp"
    from = 2026-05-01
    [ledger]
    start = 2026-05-01
    end = 2026-06-01
    """
)

_COST: dict[str, float] = {}


@pytest.fixture(scope="module", autouse=True)
def _report_cost():
    yield
    if os.environ.get("LEONET_FUZZ_COST"):
        print("\n".join(f"{v:8.2f} s  {k}" for k, v in sorted(_COST.items(), key=lambda kv: -kv[1])[:25]))


OUTPUT_NAMES = ["out.html", "out.csv", "out.parquet", "out.toml", "precious.txt", "link.html", "fifo", "a_dir", "nosuch/x",
                "a_file.txt/x", ".", "", "новий.html", "[x].html", "-"]


def relative(text: str) -> str:
    """Random text made safe to use as a path: relative, no parent references, no NUL."""
    text = text.replace("\x00", "").replace("..", "_")
    while text.startswith(("/", "~")):
        text = text[1:]
    return text


@pytest.fixture(scope="module")
def arena(tmp_path_factory):
    """The working directory, a finished run, sentinels; the parent's listing is checked at the end."""
    root = tmp_path_factory.mktemp("gh10cli")
    parent = root.parent
    before = _listing(parent, skip=root)
    work = root / "work"
    work.mkdir()
    (root / "home").mkdir()
    (work / "a_dir").mkdir()
    (work / "a_file.txt").write_text("x")
    os.mkfifo(work / "fifo")
    outside = root / "outside"
    outside.mkdir()
    (outside / "target.txt").write_text("the target of a link: never written")
    (work / "link.html").symlink_to(outside / "target.txt")
    (work / "base.toml").write_text(BASE, encoding="utf-8")
    with _quiet_cwd(work, root / "home"):
        try:
            main(["-q", "run", "base.toml", "--out", "run", "--no-report"])
        except SystemExit as exc:
            assert exc.code in (None, 0)
    shutil.copytree(work / "run", root / "pristine_run")
    yield work
    assert _listing(parent, skip=root) == before, "something was written outside the test's temporary directory"


def _listing(directory: Path, skip: Path) -> dict:
    out = {}
    for p in directory.iterdir():
        if p == skip:
            continue
        st = p.lstat()
        out[p.name] = (st.st_mode, st.st_size if not p.is_dir() else 0, st.st_mtime_ns)
    return out


@contextlib.contextmanager
def _quiet_cwd(path: Path, home: Path):
    old, old_home = os.getcwd(), os.environ.get("HOME")
    os.chdir(path)
    os.environ["HOME"] = str(home)
    try:
        yield
    finally:
        os.chdir(old)
        if old_home is None:
            os.environ.pop("HOME", None)
        else:
            os.environ["HOME"] = old_home


def _sentinels(work: Path) -> dict[str, str]:
    names = ["a_file.txt", "precious.txt", "../outside/target.txt", "base.toml"]
    return {n: hashlib.sha256((work / n).read_bytes()).hexdigest() for n in names if (work / n).is_file()}


def run(arena: Path, capsys, args: list[str], fuzz_count, what: str) -> tuple[int, str, str]:
    fuzz_count(what)
    precious = arena / "precious.txt"
    if precious.is_symlink() or not precious.is_file() or precious.read_bytes() != b"a user's file":
        # A forced write in an earlier case made it leonet's (or replaced it): make it the user's again.
        if precious.is_dir() and not precious.is_symlink():
            shutil.rmtree(precious)
        precious.unlink(missing_ok=True)
        precious.write_text("a user's file")
    if not (arena / "run" / "manifest.json").exists():  # a case may legitimately replace it (--force): restore
        shutil.rmtree(arena / "run", ignore_errors=True)
        shutil.copytree(arena.parent / "pristine_run", arena / "run")
    guarded = _sentinels(arena)
    forced = "--force" in args
    code = 0
    t0 = time.perf_counter()
    with _quiet_cwd(arena, arena.parent / "home"):
        try:
            main(args)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    _COST[" ".join(args[:1])] = _COST.get(" ".join(args[:1]), 0.0) + time.perf_counter() - t0
    assert code in (0, 2), f"exit status {code} for {args}:\n{err[-2000:]}"
    assert "Traceback" not in err and "Traceback" not in out, f"traceback for {args}:\n{err[-3000:]}"
    if code == 2:
        assert err.strip() or "Usage:" in out, f"exit status 2 without a message for {args}"
    after = _sentinels(arena)
    for name, digest in guarded.items():
        if name == "../outside/target.txt":
            assert after.get(name) == digest, f"{args} wrote through a symbolic link"
        elif not forced:
            assert after.get(name) == digest, f"{args} changed {name} without --force"
    if after.get("base.toml") != guarded.get("base.toml"):  # replaced by a forced write: restore it
        (arena / "base.toml").write_text(BASE, encoding="utf-8")
    if not (arena / "link.html").is_symlink():  # replaced by a forced write: put the link back
        (arena / "link.html").unlink()
        (arena / "link.html").symlink_to(arena.parent / "outside" / "target.txt")
    if not (arena / "fifo").exists():
        os.mkfifo(arena / "fifo")
    return code, out, err


# --------------------------------------------------------------------------- scenario files


def _mutated_scenario(data) -> str:
    lines = BASE.splitlines()
    for _ in range(data.draw(st.integers(0, 4))):
        i = data.draw(st.integers(0, len(lines) - 1))
        kind = data.draw(st.integers(0, 5))
        if kind == 0:
            del lines[i]
        elif kind == 1 and "=" in lines[i]:
            key = lines[i].split("=", 1)[0]
            value = data.draw(st.sampled_from(['"' + h.replace('"', "'").replace("\\", "/") + '"' for h in HOSTILE]
                                              + ["-1", "1e999", "nan", "inf", "[]", "{}", "true", '"2026-13-01"', "0",
                                                 "99999999999999999999999", '"country:UA"', '"crimea"', "[[[[1]]]]"]))
            lines[i] = f"{key}= {value}"
        elif kind == 2:
            lines.insert(i, data.draw(st.sampled_from(["[time]", "[[fleets]]", "x = 1", "count = 5", "[network]",
                                                       "slot_s = 0", "kind = \"sample\"", "\ufeff", "[ledger]"])))
        elif kind == 3:
            lines[i] = lines[i][: data.draw(st.integers(0, len(lines[i])))]
        elif kind == 4:
            lines.insert(i, relative(data.draw(st.text(max_size=30))).replace("directory", "d"))
    text = "\n".join(lines)
    # Never let a case choose where output goes (it would be relative anyway: no [output] table in BASE).
    return text.replace("[output]", "[outputx]").replace("directory", "dir")


@settings(max_examples=1600, **FUZZ)
@given(data=st.data())
def test_fuzz_scenario_files_through_the_cli(arena, capsys, fuzz_count, data):
    mode = data.draw(st.integers(0, 9))
    path = arena / "case.toml"
    if mode <= 6:
        path.write_text(_mutated_scenario(data), encoding="utf-8")
    elif mode == 7:
        path.write_bytes(data.draw(st.binary(max_size=300)))
    else:
        path.write_text(data.draw(st.text(max_size=300)), encoding="utf-8")
    command = data.draw(st.sampled_from(["validate", "validate", "validate", "run"]))
    args = [command, "case.toml"]
    if command == "run":
        args += ["--no-report", "--out", data.draw(st.sampled_from(["r1", "r2", "a_dir", "a_file.txt", "run"]))]
        args += data.draw(st.sampled_from([[], ["--force"], ["--json"], ["-q"], ["--chunk-steps", "1"]]))
    code, out, err = run(arena, capsys, args, fuzz_count, "leonet validate|run FILE (mutated, binary or text scenario)")
    if code == 0 and command == "validate":
        assert out.startswith("ok ")


# --------------------------------------------------------------------------- element-set files


@settings(max_examples=800, **FUZZ)
@given(data=st.data())
def test_fuzz_element_files_through_the_cli(arena, capsys, fuzz_count, data):
    path = arena / "case.tle"
    mario = "MARIO [x] :x:\n1 25544U 98067A   26150.50000000  .00016717  00000-0  10270-3 0  9005\n" \
            "2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.72125391563532\n"
    choice = data.draw(st.integers(0, 3))
    if choice == 0:
        path.write_bytes(data.draw(st.binary(max_size=400)))
    elif choice == 1:
        text = list(mario)
        for _ in range(data.draw(st.integers(0, 5))):
            i = data.draw(st.integers(0, len(text) - 1))
            text[i] = data.draw(st.sampled_from(list("0123456789 .+-X[]:\n\ufeff")))
        path.write_text("".join(text), encoding="utf-8")
    else:
        path.write_text(data.draw(st.text(max_size=300)), encoding="utf-8")
    command = data.draw(st.sampled_from(["shells", "visible", "sats"]))
    if command == "shells":
        args = ["tle", "shells", "case.tle"]
        if data.draw(st.booleans()):
            args += ["--write-scenario", data.draw(st.sampled_from(OUTPUT_NAMES))]
    elif command == "visible":
        args = ["visible", "case.tle", "--lat", "10", "--lon", "20", "--at", "2026-05-30T12:00:00Z"]
    else:
        args = ["sats", "case.tle", "--at", "2026-05-30T12:00:00Z", "-f", data.draw(st.sampled_from(["csv", "parquet", "table"]))]
        if data.draw(st.booleans()):
            args += ["-o", data.draw(st.sampled_from(OUTPUT_NAMES))]
    if data.draw(st.integers(0, 5)) == 0:
        args.append("--force")
    run(arena, capsys, args, fuzz_count, "leonet tle shells|visible|sats FILE (random element-set file)")


# --------------------------------------------------------------------------- queries and reports

SQL_PARTS = ["SELECT", "*", "count(*)", "FROM", "terminal_steps", "terminals", "manifest", "read_csv('/etc/passwd')",
             "COPY", "TO", "'x.csv'", "WHERE", "served", ";", "ATTACH", "'db'", "PRAGMA", "version", "(", ")", "'[x]'",
             "'nan'::DOUBLE", "1/0", "range(10)", "LIMIT", "1", "CALL", "duckdb_settings()", "INSTALL", "httpfs",
             "SET", "memory_limit", "=", "'1TB'", "name", "cost_ledger", "sponsor", "UNION", "ALL", ","]


@settings(max_examples=800, **FUZZ)
@given(data=st.data())
def test_fuzz_queries_and_reports_through_the_cli(arena, capsys, fuzz_count, data):
    target = data.draw(st.sampled_from(["run", "run", "run", "a_dir", "nosuch", "a_file.txt", "."]))
    if data.draw(st.integers(0, 40)) == 0:  # a report takes ~1 s: rare here, the output-target test covers it
        args = ["report", target]
        if data.draw(st.booleans()):
            args += ["-o", data.draw(st.sampled_from(OUTPUT_NAMES))]
    else:
        words = data.draw(st.lists(st.sampled_from(SQL_PARTS) | st.text(max_size=6), min_size=0, max_size=8))
        sql = " ".join(words) if data.draw(st.integers(0, 3)) else "SELECT name FROM terminals"
        args = ["query", target, sql, "-f", data.draw(st.sampled_from(["table", "csv", "json", "xml"]))]
        if data.draw(st.integers(0, 4)) == 0:
            args += [data.draw(st.sampled_from(["--timeout-s", "--memory-limit", "--max-rows"])),
                     data.draw(st.sampled_from(["0", "-1", "1", "nan", "1MB", "x", "1e9"]))]
    if data.draw(st.integers(0, 7)) == 0:
        args.append("--force")
    code, out, err = run(arena, capsys, args, fuzz_count, "leonet query|report RUN (random SQL, targets, limits)")
    if code == 0 and args[0] == "query" and "-f" in args and args[args.index("-f") + 1] == "json":
        import json

        json.loads(out, parse_constant=lambda c: pytest.fail(f"non-standard JSON {c} for {args}"))


# --------------------------------------------------------------------------- any words at all

TOKENS = [
    "run", "validate", "visible", "sats", "scenarios", "runs", "tle", "shells", "query", "report", "hypatia",
    "gen-state", "paths", "doctor", "bogus", "--help", "--quiet", "-q", "--debug", "--lat", "--lon", "--at", "--format",
    "-f", "--output", "-o", "--out", "--json", "--lenient", "--force", "--resume", "--no-report", "--chunk-steps",
    "--workers", "--min-elevation", "--constellations", "--write-scenario", "--duration-s", "--step-ms", "--src",
    "--dst", "--isl", "--timeout-s", "telesat-1015", "base.toml", "case.toml", "run", "a_dir", "a_file.txt",
    "fifo", "link.html", "precious.txt", "SELECT 1", "50", "-30", "1", "0", "nan", "", "--", "-", "[x]", ":x:",
]


@settings(max_examples=1800, **FUZZ)
@given(argv=st.lists(st.one_of(st.sampled_from(TOKENS), st.text(max_size=8).map(relative)), max_size=8))
def test_fuzz_any_argv(arena, capsys, fuzz_count, argv):
    # --debug shows tracebacks on purpose; a Dask cluster or scheduler takes seconds to start or time out.
    argv = [a for a in argv if a not in ("--debug",) and "dask" not in a and "scheduler" not in a]
    if "run" in argv and "base.toml" in argv and not {"--out", "-o", "--resume"} & set(argv):
        argv = [a for a in argv if a != "base.toml"]  # base.toml's default output is runs/fuzz: fine, but slow to repeat
    run(arena, capsys, argv, fuzz_count, "leonet with random argv (every command)")


# --------------------------------------------------------------------------- output paths


@settings(max_examples=400, **FUZZ)
@given(command=st.sampled_from(["report", "sats-csv", "sats-parquet", "shells", "paths"]),
       target=st.sampled_from(OUTPUT_NAMES), force=st.booleans())
def test_fuzz_output_targets(arena, capsys, fuzz_count, command, target, force):
    args = {
        "report": ["report", "run", "-o", target],
        "sats-csv": ["sats", "telesat-1015", "--at", "2026-05-30T12:00:00Z", "-f", "csv", "-o", target],
        "sats-parquet": ["sats", "telesat-1015", "--at", "2026-05-30T12:00:00Z", "-f", "parquet", "-o", target],
        "shells": ["tle", "shells", "oneweb-tle-2026-05", "--write-scenario", target],
        "paths": ["hypatia", "paths", "starlink-550", "--src", "1584", "--dst", "1585", "--duration-s", "1",
                  "--step-ms", "500", "--output-dir", target],
    }[command] + (["--force"] if force else [])
    code, _, err = run(arena, capsys, args, fuzz_count, "output targets (-o, --write-scenario, --output-dir)")
    if target in ("precious.txt", "a_file.txt") and not force and command != "paths":
        assert code == 2 and "--force" in err, (args, err)
