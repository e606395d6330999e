"""Scenario validation: every bad input gives one clear message and exit status 2."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from leonet.cli import main
from leonet.errors import ScenarioError
from leonet.engine.build import build_constellation, build_time_grid
from leonet.scenario.load import builtin_scenarios, load_scenario

GOOD = """
[scenario]
name = "t"
[time]
start_utc = "2026-05-30T12:00:00Z"
duration_s = 60
step_s = 10
[[constellations]]
kind = "walker"
name = "toy"
[[constellations.shells]]
altitude_km = 550
inclination_deg = 53
planes = 3
sats_per_plane = 4
"""


def _write(tmp_path, text, name="s.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def _cli(args, capsys):
    with pytest.raises(SystemExit) as info:
        main(args)
    return info.value.code, capsys.readouterr()


def test_good_scenario_builds(tmp_path):
    loaded = load_scenario(_write(tmp_path, GOOD))
    assert len(build_time_grid(loaded)) == 6
    assert len(build_constellation(loaded)) == 12


def test_builtin_scenarios_all_validate():
    names = builtin_scenarios()
    assert "ukraine" in names
    for name in names:
        loaded = load_scenario(name)
        assert len(build_time_grid(loaded)) > 0


@pytest.mark.parametrize(
    "old,new,needles",
    [
        ('name = "toy"', 'name = "toy"\nsatelites = 3', ["constellations[0].satelites", "unknown key 'satelites'"]),
        ("step_s = 10", "step_s = 10\nstep = 1", ["time.step", "unknown key 'step'", "did you mean 'step_s'"]),
        ("altitude_km = 550", "altitude_km = -550", ["constellations[0].shells[0].altitude_km", "-550"]),
        ("inclination_deg = 53", "inclination_deg = 200", ["inclination_deg", "200", "less than or equal to 180"]),
        ("planes = 3", "planes = 0", ["planes", "greater than or equal to 1", "(got 0)"]),
        ("duration_s = 60", 'end_utc = "2026-05-30T11:00:00Z"', ["end_utc", "is not after start_utc"]),
        ('start_utc = "2026-05-30T12:00:00Z"', 'start_utc = "yesterday"', ["time.start_utc", "yesterday", "ISO 8601"]),
        ('kind = "walker"', 'kind = "sgp8"', ["constellations[0]", "sgp8"]),
        ("step_s = 10", "step_s = 100", ["longer than the whole window"]),
    ],
)
def test_bad_scenarios_name_file_field_and_value(tmp_path, capsys, old, new, needles):
    assert old in GOOD
    path = _write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert str(path) in message
    for needle in needles:
        assert needle in message, (needle, message)
    code, captured = _cli(["validate", str(path)], capsys)
    assert code == 2
    assert "Traceback" not in captured.err
    assert "error:" in captured.err


def test_every_problem_is_listed_at_once(tmp_path):
    text = GOOD.replace("planes = 3", "planes = 0").replace("inclination_deg = 53", "inclination_deg = 200")
    with pytest.raises(ScenarioError) as info:
        load_scenario(_write(tmp_path, text))
    assert "2 problems" in str(info.value)


def test_toml_syntax_error_gives_the_line(tmp_path):
    text = GOOD.replace("planes = 3", "planes = = 3")
    line = text.splitlines().index("planes = = 3") + 1
    with pytest.raises(ScenarioError) as info:
        load_scenario(_write(tmp_path, text))
    assert "not valid TOML" in str(info.value) and f"line {line}," in str(info.value)


def test_non_utf8_scenario(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_bytes(GOOD.encode() + b"\n# caf\xe9\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert "not UTF-8" in str(info.value) and "line" in str(info.value)


def test_unknown_builtin_constellation_suggests(tmp_path):
    text = GOOD.split("[[constellations]]")[0] + '[[constellations]]\nkind = "builtin"\nbuiltin = "starlink-gen3"\n'
    with pytest.raises(ScenarioError) as info:
        load_scenario(_write(tmp_path, text))
    assert "starlink-gen3" in str(info.value) and "did you mean" in str(info.value)


def test_missing_scenario_suggests_builtin():
    with pytest.raises(ScenarioError) as info:
        load_scenario("ukrane")
    assert "did you mean the built-in 'ukraine'" in str(info.value)


def test_mean_motion_that_contradicts_altitude(tmp_path):
    path = _write(tmp_path, GOOD.replace("planes = 3", "planes = 3\nmean_motion_rev_per_day = 13.0"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert "implies an altitude of" in str(info.value)


def test_stale_elements_warn(tmp_path):
    from leonet.engine.build import StaleElementsWarning

    text = GOOD.split("[[constellations]]")[0].replace("2026-05-30", "2026-08-30")
    text += '[[constellations]]\nkind = "builtin"\nbuiltin = "oneweb-tle-2026-05"\n'
    with pytest.warns(StaleElementsWarning, match="more than 14 days"):
        build_constellation(load_scenario(_write(tmp_path, text)))


def test_scenario_files_cannot_run_code(tmp_path):
    """TOML is data: nothing in a scenario is evaluated."""
    marker = tmp_path / "pwned"
    text = GOOD.replace('name = "t"', f'name = "t"\ndescription = "__import__(\'os\').system(\'touch {marker}\')"')
    build_constellation(load_scenario(_write(tmp_path, text)))
    assert not marker.exists()


def test_console_script_exit_status_is_2_without_traceback(tmp_path):
    path = _write(tmp_path, GOOD.replace("altitude_km = 550", "altitude_km = -550"))
    proc = subprocess.run([sys.executable, "-m", "leonet.cli", "validate", str(path)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "altitude_km" in proc.stderr
