"""Fuzzing scenario files: `load_scenario`, then the cheap builders.

Whatever the file holds, `load_scenario` either returns a validated scenario
or raises a `ScenarioError` that names the file; the builders
(`build_time_grid`, `build_ground`, and `build_constellation` when the
constellation is small) either build or raise a `LeonetError`.  Nothing else
escapes: no ``OverflowError``, ``MemoryError``, ``KeyError``, pydantic or
pyarrow error.

Documents start from the built-in ``ukraine`` scenario, the toy scenario of
tests/engine/test_run.py and a scenario that uses every source kind (Walker
shells, an element-set file, cities, region samples, a GeoJSON file, a
gateway CSV, PoP names), and are mutated line by line and value by value
(values of other TOML types, NaN/inf, huge numbers, dates at the ends of the
calendar, empty strings, unknown keys), or as bytes (non-UTF-8, a BOM).
Satellites are never propagated.
"""

from __future__ import annotations

import itertools
import re
import shutil
import warnings
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leonet.errors import LeonetError, ScenarioError
from leonet.orbits.constellation import BUILTIN_WALKER
from leonet.engine.build import build_ground
from leonet.engine.build import build_constellation, build_time_grid
from leonet.scenario.load import load_scenario
from scenes import toy_scenario  # tests/scenes.py

pytestmark = pytest.mark.slow  # a real run, fuzzing or the browser: deselect with -m "not slow"

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

UKRAINE = (resources.files("leonet") / "scenario" / "builtin" / "ukraine.toml").read_text(encoding="utf-8")

TOY = toy_scenario()

#: Every source kind, with files next to the scenario (written by the fixture).
RICH = """\
[scenario]
name = "rich"
seed = 3
[time]
start_utc = 2026-05-30T12:00:00Z
end_utc = "2026-05-30T12:10:00Z"
step_s = 30
ut1_minus_utc_s = 0.1
[[constellations]]
kind = "walker"
name = "small"
[[constellations.shells]]
altitude_km = 550
inclination_deg = 53
planes = 6
sats_per_plane = 10
phase_factor = 1
min_elevation_deg = 25
[[constellations]]
kind = "elements"
name = "mario"
file = "mario.tle"
[[constellations]]
kind = "builtin"
builtin = "telesat-1015"
min_elevation_deg = 10
[propagation]
sgp4_node_s = 30
[ground.terminals]
min_elevation_deg = 25
[[ground.terminals.sources]]
kind = "cities"
country_iso2 = "UA"
names = ["Kyiv", "Kharkiv"]
min_population = 1000
limit = 5
[[ground.terminals.sources]]
kind = "sample"
region = "oblast:Kharkiv"
count = 3
[[ground.terminals.sources]]
kind = "sample"
region = "box.geojson"
count = 2
weight_by_population = false
[ground.gateways]
country_iso2 = ["BR"]
file = "gw.csv"
min_elevation_deg = 20
[ground.pops]
names = ["FRA"]
extra = [{name = "Kyiv IX", lat_deg = 50.45, lon_deg = 30.52}]
route_factor = 1.5
assignment = {GS1 = "POP12"}
[network]
isl = "none"
slot_s = 0
policy = "max-elevation"
[output]
chunk_steps = 10
"""

GATEWAYS_CSV = (
    "id,name,country_iso2,lat,lon,band,antenna_count\n"
    'GS1,"Camacari, BR",BR,-12.74832,-38.28305,Ka,8\n'
    'GS2,"Guarapari, BR",BR,-20.5578,-40.40863,Ka,8\n'
)
BOX_GEOJSON = '{"type": "Polygon", "coordinates": [[[30.2, 50.3], [30.8, 50.3], [30.8, 50.6], [30.2, 50.6], [30.2, 50.3]]]}'
MARIO_TLE = Path(__file__).resolve().parents[1] / "data" / "tle" / "mario.tle"

#: TOML values that broke, or could break, validation and building.
NASTY_VALUES = [
    '""', '" "', '"x"', '"a"', "0", "-0", "-1", "1", "0.5", "1e-9", "1e-10", "4e-10", "1e-300", "0.000000001", "1.0000000001",
    "86400", "86401", "31622400", "31622401", "1e308", "1e400", "-1e400", "nan", "-nan", "inf", "+inf", "-inf",
    "9223372036854775807", "9223372036854775808", "-9223372036854775809", "99999999999999999999999999999",
    "true", "false", "[]", "[1, 2]", '["x"]', "[[]]", "{}", "{a = 1}", '{name = "x"}',
    "1979-05-27", "07:32:00", "1979-05-27T07:32:00", "2026-05-30T12:00:00Z", "2016-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59Z", "9999-12-31T23:59:59-01:00",
    '"0001-01-01T00:00:00+01:00"', '"9999-12-31T23:59:59-14:00"', '"9999-12-31T23:00:00Z"', '"2016-12-31T23:00:00Z"',
    '"2026-13-45T99:00:00Z"', '"yesterday"', '"2026-05-30"', '"country:XX"', '"country:"', '"oblast:Atlantis"',
    '"crimea"', '"/etc/passwd"', '"."', '"/"', '".."', '"mario.tle"', '"gw.csv"', '"box.geojson"', '"nofile.csv"',
    '"~nosuchuser/gw.csv"', '"~/x"', '"starlink-550"', '"starlink-tle-2026-05"', '"oneweb"', '"none"', '"walker"', '"elements"', '"builtin"',
    '"sample"', '"cities"', '"coordinates"', '"GS1"', '"POP12"', '"\\u0000"', '"\\ud7ff"', '"日本"',
    '"' + "x" * 300 + '"',
]

_key_names = st.one_of(
    st.sampled_from([
        "name", "kind", "builtin", "file", "count", "region", "limit", "planes", "sats_per_plane", "altitude_km",
        "start_utc", "end_utc", "duration_s", "step_s", "seed", "ids", "names", "extra", "sites", "lat_deg",
        "lon_deg", "country_iso2", "assignment", "chunk_steps", "isl", "unknown_key", "stepp_s", "a.b", '"quoted key"',
    ]),
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,10}", fullmatch=True),
)


def _toml_float(x: float) -> str:
    text = repr(x)
    return text if any(c in text for c in ".enai") else text + ".0"


_values = st.one_of(
    st.sampled_from(NASTY_VALUES), st.sampled_from(NASTY_VALUES),
    st.integers().map(str), st.floats().map(_toml_float),
    st.text(max_size=20).map(lambda s: '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'),
)
_headers = st.sampled_from([
    "[scenario]", "[time]", "[[constellations]]", "[[constellations.shells]]", "[ground]", "[ground.terminals]",
    "[[ground.terminals.sources]]", "[ground.gateways]", "[[ground.gateways.extra]]", "[ground.pops]", "[network]",
    "[output]", "[capacity]", "[[fleets]]", "[[sponsors]]", "[[policies]]", "[[faults]]", "[ledger]", "[nothing]",
    "[time.extra]", "[[time]]",
])

_KEY_VALUE = re.compile(r"^(\s*)([A-Za-z0-9_.\"-]+)(\s*=\s*)(.*)$")


#: Keys whose values are checked (numbers, times, names, files): half the value edits go here.
INTERESTING_KEYS = {
    "start_utc", "end_utc", "duration_s", "step_s", "ut1_minus_utc_s", "seed", "count", "limit", "min_population",
    "planes", "sats_per_plane", "altitude_km", "inclination_deg", "phase_factor", "antenna_count", "chunk_steps",
    "region", "file", "builtin", "kind", "ids", "names", "country_iso2", "from", "until", "start", "end",
    "min_elevation_deg", "sgp4_node_s", "slot_s", "route_factor", "assignment", "sites", "extra", "h3_resolution",
}


@st.composite
def mutated_scenarios(draw) -> str:
    lines = draw(st.sampled_from([UKRAINE, TOY, RICH, RICH])).splitlines()
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 2, 3]))):
        k = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["value"] * 12 + ["key", "delete", "duplicate", "swap", "header", "insert", "text"]))
        match = _KEY_VALUE.match(lines[k])
        if op == "value":
            assignments = [i for i, line in enumerate(lines) if _KEY_VALUE.match(line)]
            interesting = [i for i in assignments if _KEY_VALUE.match(lines[i]).group(2) in INTERESTING_KEYS]
            k = draw(st.sampled_from(interesting or assignments) if draw(st.booleans()) else st.sampled_from(assignments))
            indent, key, eq, _ = _KEY_VALUE.match(lines[k]).groups()
            lines[k] = indent + key + eq + draw(_values)
        elif op == "key" and match:
            indent, _, eq, value = match.groups()
            lines[k] = indent + draw(_key_names) + eq + value
        elif op == "delete":
            del lines[k]
        elif op == "duplicate":
            lines.insert(k, lines[k])
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[k], lines[j] = lines[j], lines[k]
        elif op == "header":
            lines.insert(k, draw(_headers))
        elif op == "insert":
            lines.insert(k, draw(_key_names) + " = " + draw(_values))
        else:
            lines[k] = draw(st.text(max_size=40))
        if not lines:
            lines = [""]
    return "\n".join(lines) + "\n"


@st.composite
def scenario_bytes(draw) -> bytes:
    choice = draw(st.integers(0, 29))
    if choice == 0:
        return draw(st.binary(max_size=300))
    data = draw(mutated_scenarios()).encode("utf-8", "surrogatepass")
    if choice == 1:
        data = b"\xef\xbb\xbf" + data
    elif choice == 2:
        k = draw(st.integers(0, len(data)))
        data = data[:k] + draw(st.binary(min_size=1, max_size=4)) + data[k:]
    elif choice == 3:
        data = data[: draw(st.integers(0, len(data)))]
    return data


_serial = itertools.count()


@pytest.fixture(scope="module")
def scenario_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("scenario")
    (d / "gw.csv").write_text(GATEWAYS_CSV, encoding="utf-8")
    (d / "box.geojson").write_text(BOX_GEOJSON, encoding="utf-8")
    shutil.copy(MARIO_TLE, d / "mario.tle")
    return d


def _satellites(spec) -> int:
    """Satellites a scenario's constellation would have (files count as few)."""
    total = 0
    for c in spec.constellations:
        if c.kind == "builtin":
            total += sum(s.size for s in BUILTIN_WALKER[c.builtin][1]) if c.builtin in BUILTIN_WALKER else 10**6
        elif c.kind == "walker":
            total += sum(s.planes * s.sats_per_plane for s in c.shells)
        else:
            total += 1 if c.file in ("mario.tle",) or not c.file.endswith(".tle") else 10**6
    return total


def _ground_is_cheap(spec) -> bool:
    terminals = spec.ground.terminals
    if terminals is None:
        return True
    return all(getattr(src, "count", 0) <= 1000 for src in terminals.sources)  # only kind = "sample" has a count


def _build_cheap_parts(loaded):
    grid = build_time_grid(loaded)
    assert len(grid) >= 1
    if _ground_is_cheap(loaded.spec):
        build_ground(loaded)
    if _satellites(loaded.spec) <= 1000:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            constellation = build_constellation(loaded)
        assert len(constellation) >= 1


@FUZZ
@given(data=scenario_bytes())
def test_fuzz_scenario_file(scenario_dir, fuzz_count, data):
    fuzz_count("scenario TOML (load_scenario + build_time_grid/build_ground/small build_constellation)")
    path = scenario_dir / f"s{next(_serial)}.toml"
    path.write_bytes(data)
    try:
        loaded = load_scenario(path)
    except ScenarioError as exc:
        assert str(path) in str(exc), f"the message does not name the file: {exc}"
        return
    try:
        _build_cheap_parts(loaded)
    except LeonetError:
        pass


@settings(max_examples=100, deadline=None)
@given(name=st.text(max_size=30))
def test_fuzz_scenario_name_or_path(fuzz_count, name):
    # A built-in name, a missing file, a directory, or nonsense.
    fuzz_count("scenario name or path (load_scenario)")
    try:
        load_scenario(name)
    except ScenarioError:
        pass


# --------------------------------------------------------------------------
# Regressions: bugs the fuzzing above found
# --------------------------------------------------------------------------


def _with(base: str, key: str, value: str) -> str:
    lines = base.splitlines()
    for i, line in enumerate(lines):
        match = _KEY_VALUE.match(line)
        if match and match.group(2) == key:
            lines[i] = match.group(1) + key + match.group(3) + value
            return "\n".join(lines) + "\n"
    raise AssertionError(f"no key {key}")


def _load(tmp_path, text: str):
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    return path, load_scenario(path)


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+01:00", '"0001-01-01T00:00:00+01:00"', "9999-12-31T23:59:59-01:00"])
def test_found_time_outside_years_1_to_9999_in_utc(tmp_path, value):
    # Was: OverflowError "date value out of range" from datetime.astimezone.
    path = tmp_path / "s.toml"
    path.write_text(_with(TOY, "start_utc", value))
    with pytest.raises(ScenarioError, match=r"time\.start_utc: time .* falls outside the years 1\.\.9999 once converted to UTC"):
        load_scenario(path)


def test_found_window_that_ends_after_9999(tmp_path):
    # Was: OverflowError from build_time_grid (start + duration).
    path = tmp_path / "s.toml"
    path.write_text(_with(TOY, "start_utc", '"9999-12-31T23:59:00Z"'))
    with pytest.raises(ScenarioError, match=f"{path}: time: the window from start_utc 9999-12-31T23:59:00.* ends after the year 9999"):
        load_scenario(path)


@pytest.mark.parametrize("key, value", [("step_s", "1e-9"), ("end_utc", '"9999-12-31T23:59:00Z"')])
def test_found_time_grid_too_large_to_hold(tmp_path, key, value):
    # Was: MemoryError ("Unable to allocate 894. GiB") from build_time_grid.
    path = tmp_path / "s.toml"
    path.write_text(_with(TOY if key == "step_s" else RICH, key, value))
    with pytest.raises(ScenarioError, match=r"time: the window of .* steps; leonet allows at most 100,000,000"):
        load_scenario(path)


def test_found_tilde_user_that_does_not_exist(scenario_dir):
    # Was: RuntimeError "Could not determine home directory." from Path.expanduser.
    with pytest.raises(ScenarioError, match="no home directory for '~nosuchuser'"):
        load_scenario("~nosuchuser/s.toml")
    path = scenario_dir / "tilde.toml"
    path.write_text(_with(RICH, "region", '"~nosuchuser/x.geojson"'))
    with pytest.raises(ScenarioError, match=r"ground\.terminals\.sources\[1\]: .*no home directory for '~nosuchuser'"):
        build_ground(load_scenario(path))


@pytest.mark.parametrize("name", ["x" * 5000, "/tmp/" + "y" * 300])
def test_found_scenario_name_too_long_for_a_file_name(name):
    # Was: OSError [Errno 36] File name too long.
    with pytest.raises(ScenarioError, match="not a usable file name"):
        load_scenario(name)


@pytest.mark.parametrize("step", ["1e-13", "3.9950551817547316e-286"])
def test_found_step_shorter_than_a_nanosecond(tmp_path, step):
    # Was (briefly, with the step-count check above): ZeroDivisionError; before that a ScenarioError
    # from build_time_grid only.  Now load_scenario refuses it.
    path = tmp_path / "s.toml"
    path.write_text(_with(TOY, "step_s", step))
    with pytest.raises(ScenarioError, match=r"time: step_s = .* is shorter than 1 ns"):
        load_scenario(path)
