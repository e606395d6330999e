"""Fuzzing the command line: `leonet.cli.main([...])` in-process.

Whatever the options, the command exits with status 0 (it worked) or 2 (one
clear message on stderr), and never prints a traceback.  Sources are small
constellations (Telesat 351, OneWeb 720 satellites, a one-satellite TLE
file) so that an example costs milliseconds; `run` is only given options
or scenarios that fail before anything is simulated.
"""

from __future__ import annotations

import contextlib
import math
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leonet.cli import main

pytestmark = pytest.mark.slow  # a real run, fuzzing or the browser: deselect with -m "not slow"

CLI = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)

MARIO_TLE = Path(__file__).resolve().parents[1] / "data" / "tle" / "mario.tle"

NUMBERS = [
    "0", "-0", "1", "-1", "25", "89.999", "90", "90.0000001", "-90", "-90.5", "180", "180.5", "-180", "-181", "360",
    "361", "1e-320", "1e308", "1e999", "-1e999", "nan", "NaN", "-nan", "inf", "-inf", "Infinity", "", " ", "abc",
    "0x10", "1_0", "5,5", "٣", "1e", "--1", "9" * 400,
]
TIMES = [
    "2026-05-30T12:00:00Z", "2026-05-30T12:00:00", "2026-05-30", "2026-05-30T12:00:00+03:00", "1970-01-01T00:00:00Z",
    "1957-10-04T19:28:34Z", "2100-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59Z", "9999-12-31T23:59:59-01:00", "2016-12-31T23:59:60Z", "2026-05-30T12:00:00.123456789Z",
    "2026-13-01T00:00:00Z", "now", "yesterday", "", "Z", "T", "2026-05-30T25:00:00Z", "+2026-05-30",
]

_numbers = st.one_of(st.sampled_from(NUMBERS), st.sampled_from(NUMBERS), st.floats().map(repr), st.integers().map(str))


def _in_range(low: float, high: float) -> st.SearchStrategy[str]:
    """Half the time a valid value, so that the other options get checked too."""
    return st.one_of(st.floats(low, high).map(repr), _numbers)


_times = st.one_of(st.sampled_from(TIMES), st.sampled_from(TIMES), st.text(max_size=20))


@pytest.fixture(scope="module")
def cli_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    (d / "garbage.tle").write_bytes(b"\x00\xff not a TLE \n1 2 3\n")
    (d / "empty.tle").write_bytes(b"")
    (d / "a_dir").mkdir()
    (d / "a_file.txt").write_text("x")
    (d / "bad.toml").write_text("[time\nstart_utc = ")
    (d / "typo.toml").write_text(
        '[time]\nstart_utc = "2026-05-30T12:00:00Z"\nduration_s = 60\nstepp_s = 1\n'
        '[[constellations]]\nkind = "builtin"\nbuiltin = "telesat-1015"\n'
    )
    return d


def _sources(d: Path):
    return st.sampled_from([
        "telesat-1015", "telesat-1015", "oneweb", str(MARIO_TLE), str(MARIO_TLE), str(d / "garbage.tle"), str(d / "empty.tle"),
        str(d / "a_dir"), str(d / "nosuch.tle"), "nosuch", "telesat", "starlink-55", "", "-", "~nosuchuser/x.tle",
    ]) | st.text(max_size=15)


@contextlib.contextmanager
def _cwd(path: Path):
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def run_cli(capsys, args: list[str], cwd: Path) -> tuple[int, str, str]:
    """Run ``leonet ARGS`` in-process; (exit status, stdout, stderr)."""
    code = 0
    with _cwd(cwd):
        try:
            main(args)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def _check(code: int, out: str, err: str, args) -> None:
    assert code in (0, 2), f"exit status {code} for {args}:\n{err}"
    assert "Traceback" not in err, f"traceback for {args}:\n{err}"
    if code == 2:  # a message; bare `leonet` or `leonet tle` prints the help (on stdout, as Click does)
        assert err.strip() or "Usage:" in out, f"exit status 2 without a message for {args}"


@CLI
@given(data=st.data())
def test_fuzz_visible(cli_dir, capsys, fuzz_count, data):
    fuzz_count("leonet visible SOURCE --lat --lon --at --min-elevation --altitude-km")
    args = ["visible", data.draw(_sources(cli_dir))]
    for option, values in (("--lat", _in_range(-90, 90)), ("--lon", _in_range(-180, 180)), ("--at", _times),
                           ("--min-elevation", _in_range(0, 89)), ("--altitude-km", _in_range(0, 10))):
        if option in ("--lat", "--lon") or data.draw(st.booleans()):
            args += [option, data.draw(values)]
    for flag in ("--json", "--lenient"):
        if data.draw(st.booleans()):
            args.append(flag)
    code, out, err = run_cli(capsys, args, cli_dir)
    _check(code, out, err, args)
    if code == 0:  # accepted: every number was finite and in its documented range
        given = dict(zip(args[2::2], args[3::2]))
        for option, low, high in (("--lat", -90, 90), ("--lon", -180, 360), ("--min-elevation", 0, 90),
                                  ("--altitude-km", -0.5, 100)):
            if option in given:
                value = float(given[option])
                assert math.isfinite(value) and low <= value <= high, f"{option} {given[option]} was accepted: {args}"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzz_sats(cli_dir, capsys, fuzz_count, data):
    fuzz_count("leonet sats SOURCE --format --output --at")
    args = ["sats", data.draw(_sources(cli_dir))]
    fmt = data.draw(st.sampled_from(["table", "csv", "parquet", "CSV", "json", "", "parquet "]) | st.text(max_size=8))
    args += ["--format", fmt]
    if data.draw(st.booleans()):
        args += ["--at", data.draw(_times)]
    if data.draw(st.booleans()):
        output = data.draw(st.sampled_from([
            "out.csv", "out.parquet", "a_dir", "a_dir/x.parquet", "nosuch_dir/x.parquet", "a_file.txt/x.csv", ".", "",
            str(cli_dir), "a_dir/",
        ]))
        args += ["--output", output]
    code, out, err = run_cli(capsys, args, cli_dir)
    _check(code, out, err, args)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzz_run_options(cli_dir, capsys, fuzz_count, data):
    # Only scenarios or options that fail before a simulation starts.
    fuzz_count("leonet run SCENARIO --chunk-steps --workers --scheduler --dask-local --resume --out")
    scenario = data.draw(st.sampled_from(["bad.toml", "typo.toml", "nosuch.toml", "a_dir", "ukrain", "", "a_file.txt"]))
    args = ["run", scenario, "--no-report"]
    if data.draw(st.booleans()):
        args += ["--chunk-steps", data.draw(st.sampled_from(["0", "-1", "-9223372036854775809", "1", "1e3", "x", "99999999999999999999"]))]
    if data.draw(st.booleans()):
        args += ["--workers", data.draw(st.sampled_from(["0", "-3", "1", "x", "999999"]))]
    if data.draw(st.booleans()):
        args += ["--scheduler", data.draw(st.sampled_from(["tcp://127.0.0.1:1", "", "nonsense", "tcp://"]))]
    if data.draw(st.booleans()):
        args += ["--dask-local", data.draw(st.sampled_from(["0", "-1", "2", "x"]))]
    if data.draw(st.booleans()):
        args += ["--out", data.draw(st.sampled_from(["a_file.txt", "a_dir", "new_out"]))]
    if data.draw(st.integers(0, 5)) == 0:
        args += ["--resume", data.draw(st.sampled_from(["a_dir", "nosuch_dir", "a_file.txt"]))]
    code, out, err = run_cli(capsys, args, cli_dir)
    _check(code, out, err, args)
    assert code == 2, f"{args} should fail before running"


_TOKENS = [
    "visible", "sats", "validate", "scenarios", "runs", "tle", "shells", "query", "bogus", "--help", "--debug",
    "--quiet", "-q", "--lat", "--lon", "--at", "--format", "-f", "--output", "-o", "--json", "--lenient",
    "--min-elevation", "--constellations", "--write-scenario", "telesat-1015", "oneweb", "a_dir", "a_file.txt",
    "bad.toml", "typo.toml", "SELECT 1", "50", "-30", "nan", "", "--", "-", "--lat=50", "--format=csv",
]


@CLI
@given(argv=st.lists(st.one_of(st.sampled_from(_TOKENS), st.text(max_size=8)), max_size=7))
def test_fuzz_argv(cli_dir, capsys, fuzz_count, argv):
    # Random words after `leonet`; `run`, `report`, `hypatia` and `doctor` are left out (they do real work).
    fuzz_count("leonet with random argv (any command but run/report/hypatia/doctor)")
    if argv and argv[0] in ("run", "report", "hypatia", "doctor"):
        argv = argv[1:]
    if "--debug" in argv:  # --debug shows tracebacks on purpose
        argv = [a for a in argv if a != "--debug"]
    code, out, err = run_cli(capsys, argv, cli_dir)
    _check(code, out, err, argv)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(source=st.sampled_from(["oneweb", "telesat-1015", str(MARIO_TLE), "a_dir", "garbage.tle", "nosuch", "oneweb-tle-2026-05"]),
       target=st.sampled_from([None, "out.toml", "a_dir", "nosuch_dir/x.toml", "a_file.txt/x.toml", "."]))
def test_fuzz_tle_shells(cli_dir, capsys, fuzz_count, source, target):
    fuzz_count("leonet tle shells FILE --write-scenario OUT")
    args = ["tle", "shells", source] + ([] if target is None else ["--write-scenario", target])
    code, out, err = run_cli(capsys, args, cli_dir)
    _check(code, out, err, args)


# --------------------------------------------------------------------------
# Regressions: bugs the fuzzing above found
# --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt, output", [("parquet", "a_dir"), ("parquet", "."), ("parquet", "nosuch_dir/x.parquet"),
                                         ("parquet", "a_file.txt/x.parquet"), ("csv", "a_file.txt/x.csv"), ("csv", "a_dir")])
def test_found_sats_output_that_cannot_be_written(cli_dir, capsys, fmt, output):
    # Was: IsADirectoryError / FileNotFoundError / NotADirectoryError / OSError(EBUSY) with a traceback.
    code, _, err = run_cli(capsys, ["sats", "telesat-1015", "--format", fmt, "--output", output], cli_dir)
    assert code == 2 and "Traceback" not in err
    # Since issue 10 an output path is checked before anything is computed (leonet.results.files.check_output_file).
    assert f"--output {output.rstrip('/') or output}" in err
    assert any(words in err for words in ("is a directory", "does not exist", "is not a folder")), err


def test_found_tle_shells_write_scenario_into_a_directory(cli_dir, capsys):
    code, _, err = run_cli(capsys, ["tle", "shells", "oneweb-tle-2026-05", "--write-scenario", "a_dir"], cli_dir)
    assert code == 2 and "Traceback" not in err
    assert "--write-scenario a_dir: is a directory" in err


@pytest.mark.parametrize("altitude", ["nan", "inf", "1e308", "-90", "550"])
def test_found_visible_accepted_any_altitude(cli_dir, capsys, altitude):
    # Was: exit status 0 and an empty table (NaN or absurd heights silently gave no satellites).
    code, _, err = run_cli(capsys, ["visible", "telesat-1015", "--lat", "50", "--lon", "30", "--altitude-km", altitude], cli_dir)
    assert code == 2 and "--altitude-km" in err and "outside -0.5..100 km" in err
