"""``leonet hypatia gen-state`` and ``leonet hypatia paths`` (leonet.cli_hypatia)."""

from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

from leonet import cli_hypatia
from leonet.errors import InputFileError, ScenarioError

runner = CliRunner()


def _app() -> typer.Typer:
    root = typer.Typer()
    root.add_typer(cli_hypatia.app, name="hypatia")

    @root.callback()
    def _root():  # a group, so that "hypatia" is a sub-command as in leonet.cli
        pass

    return root


def _invoke(*args):
    return runner.invoke(_app(), ["hypatia", *map(str, args)])


@pytest.fixture()
def small_ground_stations(tmp_path):
    p = tmp_path / "gs.basic.txt"
    p.write_text("0,Paris,48.85341,2.3488,0\n1,Moscow,55.75222,37.61556,0\n2,Tunis,36.81897,10.16579,0\n")
    return p


def test_gen_state_writes_a_hypatia_directory(tmp_path, small_ground_stations):
    out = tmp_path / "net"
    result = _invoke("gen-state", out, "--ground-stations", small_ground_stations, "--duration-s", 1, "--step-ms", 500, "-q")
    assert result.exit_code == 0, result.output
    for name in ("tles.txt", "isls.txt", "ground_stations.txt", "description.txt", "gsl_interfaces_info.txt"):
        assert (out / name).exists()
    state = out / "dynamic_state_500ms_for_1s"
    assert sorted(p.name for p in state.iterdir()) == [
        "fstate_0.txt", "fstate_500000000.txt", "gsl_if_bandwidth_0.txt", "gsl_if_bandwidth_500000000.txt",
    ]
    first = (state / "fstate_0.txt").read_text().splitlines()
    assert len(first) == 1584 * 3 + 3 * 2
    assert all(re.fullmatch(r"\d+,\d+,-?\d+,-?\d+,-?\d+", x) for x in first)
    assert (state / "gsl_if_bandwidth_500000000.txt").read_text() == ""
    assert (out / "ground_stations.txt").read_text().startswith("0,Paris,48.853410,2.348800,0.000000,")
    # Not again without --force.
    again = _invoke("gen-state", out, "--ground-stations", small_ground_stations, "--duration-s", 1, "--step-ms", 500, "-q")
    assert isinstance(again.exception, ScenarioError) and "--force" in str(again.exception)
    forced = _invoke("gen-state", out, "--ground-stations", small_ground_stations, "--duration-s", 1, "--step-ms", 500, "-q", "--force")
    assert forced.exit_code == 0


def test_gen_state_from_tles_and_paths(tmp_path, small_ground_stations, hypatia_reference):
    out = tmp_path / "net"
    args = ["gen-state", out, "--tles", hypatia_reference / "tles.txt", "--ground-stations", small_ground_stations,
            "--duration-s", 1, "--step-ms", 250, "-q"]
    missing = _invoke(*args)
    assert isinstance(missing.exception, ScenarioError) and "--max-gsl-length-m" in str(missing.exception)
    ok = _invoke(*args, "--max-gsl-length-m", 1089686.4181956202, "--max-isl-length-m", 5016591.2330984278)
    assert ok.exit_code == 0, ok.output
    assert (out / "isls.txt").read_text() == (hypatia_reference / "isls.txt").read_text()
    result = _invoke("paths", out, "--src", 1584, "--dst", 1585)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "# networkx_path_1584_to_1585.txt"
    assert re.fullmatch(r"0,1584(-\d+)+-1585", lines[1])
    rtt = lines[lines.index("# networkx_rtt_1584_to_1585.txt") + 1 :]
    assert [x.split(",")[0] for x in rtt] == ["0", "250000000", "500000000", "750000000"]
    # Paris -> Moscow, ~2,500 km: an RTT between 2 x 2,500 km / c and twice that.
    assert 16e6 < float(rtt[0].split(",")[1]) < 40e6


def test_paths_on_the_reference_state_matches_hypatias_files(hypatia_reference, tmp_path):
    data = hypatia_reference / "pairs_100ms_for_2s" / "data"
    result = _invoke("paths", hypatia_reference, "--src", 1608, "--dst", 1605, "--geometry", "pyephem", "-o", tmp_path)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "networkx_path_1608_to_1605.txt").read_text() == (data / "networkx_path_1608_to_1605.txt").read_text()
    mine = [float(x.split(",")[1]) for x in (tmp_path / "networkx_rtt_1608_to_1605.txt").read_text().splitlines()]
    theirs = [float(x.split(",")[1]) for x in (data / "networkx_rtt_1608_to_1605.txt").read_text().splitlines()]
    assert len(mine) == 20 and max(abs(a - b) for a, b in zip(mine, theirs)) < 200.0  # ns


def test_paths_on_a_builtin_constellation():
    result = _invoke("paths", "starlink-550", "--src", 1608, "--dst", 1605, "--duration-s", 1, "--step-ms", 500)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1] == "0,1608-137-159-1605"


@pytest.mark.parametrize(
    "args, error, message",
    [
        (["paths", "starlink-550", "--src", 5, "--dst", 1605], ScenarioError, r"--src 5 is not a ground-station node.*1584\.\.1683"),
        (["paths", "starlink-550", "--src", 1605, "--dst", 1605], ScenarioError, "two different ground stations"),
        (["paths", "no-such-thing", "--src", 1600, "--dst", 1605], ScenarioError, "no-such-thing"),
        (["gen-state", "OUT", "--constellation", "starlink-gen1"], ScenarioError, "has 5 shells"),
        (["gen-state", "OUT", "--geometry", "flat"], ScenarioError, "--geometry 'flat'"),
        (["gen-state", "OUT", "--step-ms", 0], ScenarioError, "--step-ms must be a positive"),
        (["gen-state", "OUT", "--isl", "ring"], ScenarioError, "--isl 'ring'"),
        (["gen-state", "OUT", "--ground-stations", "missing.txt"], InputFileError, "missing.txt: no such file"),
    ],
)
def test_errors_teach(tmp_path, monkeypatch, args, error, message):
    monkeypatch.chdir(tmp_path)
    result = _invoke(*args)
    assert isinstance(result.exception, error), result.output
    assert re.search(message, str(result.exception))


def test_main_cli_exits_2_on_bad_input(tmp_path):
    from leonet import cli

    if "hypatia" not in {g.name for g in cli.app.registered_groups}:
        pytest.skip("leonet.cli does not register cli_hypatia.app yet")
    with pytest.raises(SystemExit) as exc:
        cli.main(["hypatia", "paths", "starlink-550", "--src", "5", "--dst", "1605"])
    assert exc.value.code == 2
