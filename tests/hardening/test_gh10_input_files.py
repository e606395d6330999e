"""Issue 10, item 4 (the input side): every input file a run reads is listed, with its sha256.

`LoadedScenario.input_paths()` maps each field that names a file to the file
(absolute, symbolic links resolved); `LoadedScenario.input_files()` maps each
file to the sha256 of its bytes.  Built-in names (``"country:UA"``,
``"oblast:Kharkiv"``, ``"crimea"``, built-in constellations) are not files.
The lead stores `input_files()` in the manifest and refuses ``--resume`` when a
hash differs.  The cross-check at the end records every path the builders
actually resolve while building a run, so a new file-valued field cannot be
forgotten here without a test failing.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import warnings
from pathlib import Path

import pytest

from leonet.errors import ScenarioError
from leonet.scenario.load import LoadedScenario, load_scenario

TLE = """\
STARLINK-1008
1 44714U 19074B   26150.30936191  .00080211  00000+0  15180-2 0  9995
2 44714  53.1513 154.1788 0003034  54.2939 305.8351 15.47704531361446
"""

#: A square around Kharkiv (lon 35.5..37, lat 49.5..50.5), holding cities of the shipped list.
SQUARE = json.dumps(
    {
        "type": "Feature",
        "properties": {"name": "square"},
        "geometry": {"type": "Polygon", "coordinates": [[[35.5, 49.5], [37, 49.5], [37, 50.5], [35.5, 50.5], [35.5, 49.5]]]},
    }
)

HEAD = """\
[scenario]
name = "inputs"
[time]
start_utc = "2026-05-30T12:00:00Z"
duration_s = 60
step_s = 30
[[constellations]]
kind = "elements"
name = "one"
file = "elements/one.tle"
"""


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "elements").mkdir(exist_ok=True)
    (tmp_path / "elements" / "one.tle").write_text(TLE, encoding="utf-8")
    (tmp_path / "square.geojson").write_text(SQUARE, encoding="utf-8")
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_gh10_tle_and_region_geojson_are_listed_with_their_sha256(tmp_path):
    text = HEAD + """\
[ground.terminals]
[[ground.terminals.sources]]
kind = "sample"
region = "square.geojson"
count = 3
[[ground.terminals.sources]]
kind = "sample"
region = "oblast:Kharkiv"
count = 2
[ground.gateways]
ids = ["GS1"]
"""
    loaded = load_scenario(_write(tmp_path, text))
    tle, square = (tmp_path / "elements" / "one.tle").resolve(), (tmp_path / "square.geojson").resolve()
    assert loaded.input_files() == {str(tle): _sha(tle), str(square): _sha(square)}
    # A hand-checked digest: sha256 of the TLE text above.
    assert loaded.input_files()[str(tle)] == hashlib.sha256(TLE.encode()).hexdigest()
    assert loaded.input_paths() == {
        "constellations[0].file": tle,
        "ground.terminals.sources[0].region": square,
    }


FULL = HEAD + """\
[[constellations]]
kind = "builtin"
builtin = "starlink-550"
[ground.terminals]
[[ground.terminals.sources]]
kind = "sample"
region = "square.geojson"
count = 2
[[ground.terminals.sources]]
kind = "sample"
region = "crimea"
count = 1
[ground.gateways]
file = "gateways.csv"
[[fleets]]
name = "f"
active_from = 2026-05-30
monthly_price_usd = 1.0
[[fleets.sponsors]]
sponsor = "s"
from = 2026-05-30
[[fleets.terminals]]
kind = "sample"
region = "fleet_area.geojson"
count = 2
[[fleets.terminals]]
kind = "cities"
country_iso2 = "UA"
limit = 1
[[policies]]
action = "deny"
region = "deny_area.geojson"
[[policies]]
action = "deny"
region = "country:BY"
[[faults]]
kind = "jamming"
region = "jam_area.geojson"
probability = 0.1
[[faults]]
kind = "capacity-loss"
region = "square.geojson"
share = 0.5
[[faults]]
kind = "capacity-loss"
share = 0.1
[[faults]]
kind = "gateway-down"
gateways = ["GS1"]
"""


def _full(tmp_path: Path) -> LoadedScenario:
    path = _write(tmp_path, FULL)
    header = "id,name,country_iso2,lat,lon,band,antenna_count\n"
    (tmp_path / "gateways.csv").write_text(header + "GS1,Kharkiv gw,UA,49.99,36.23,Ka,8\n", encoding="utf-8")
    for name in ("fleet_area", "deny_area", "jam_area"):
        (tmp_path / f"{name}.geojson").write_text(SQUARE.replace('"square"', f'"{name}"'), encoding="utf-8")
    return load_scenario(path)


def test_gh10_every_file_valued_field_is_listed(tmp_path):
    loaded = _full(tmp_path)
    expected_fields = {
        "constellations[0].file": "elements/one.tle",
        "ground.gateways.file": "gateways.csv",
        "ground.terminals.sources[0].region": "square.geojson",
        "fleets[0].terminals[0].region": "fleet_area.geojson",
        "policies[0].region": "deny_area.geojson",
        "faults[0].region": "jam_area.geojson",
        "faults[1].region": "square.geojson",
    }
    paths = loaded.input_paths()
    assert list(paths) == list(expected_fields)
    for field, rel in expected_fields.items():
        assert paths[field] == (tmp_path / rel).resolve()
    files = loaded.input_files()
    # square.geojson is named twice and listed once; in the scenario's order.
    assert list(files) == list(dict.fromkeys(str(p) for p in paths.values()))
    for name, digest in files.items():
        assert digest == _sha(Path(name))


def test_gh10_cross_check_against_what_a_run_resolves(tmp_path, monkeypatch):
    """The files a run's builders resolve are exactly the files input_paths lists."""
    from leonet.engine.context import RunContext

    loaded = _full(tmp_path)
    resolved: list[Path] = []
    real = LoadedScenario.resolve

    def recording(self, path):
        out = real(self, path)
        resolved.append(Path(os.path.realpath(out)))
        return out

    monkeypatch.setattr(LoadedScenario, "resolve", recording)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ctx = RunContext(loaded, warn=False)
    assert ctx.service is not None and len(ctx.service.terminals) > 0
    monkeypatch.undo()
    assert set(resolved) == set(loaded.input_paths().values())


def test_gh10_builtin_names_are_not_files(tmp_path):
    text = HEAD.replace(
        'kind = "elements"\nname = "one"\nfile = "elements/one.tle"', 'kind = "builtin"\nbuiltin = "starlink-550"'
    )
    text += '[ground.terminals]\n[[ground.terminals.sources]]\nkind = "sample"\nregion = "Oblast:Kharkiv"\ncount = 2\n'
    text += '[[ground.terminals.sources]]\nkind = "sample"\nregion = " Crimea "\ncount = 2\n'
    text += '[[policies]]\naction = "allow"\nregion = "country:UA"\n[[policies]]\naction = "deny"\n'
    loaded = load_scenario(_write(tmp_path, text))
    assert loaded.input_paths() == {} and loaded.input_files() == {}


def test_gh10_a_missing_file_is_named_clearly(tmp_path):
    loaded = load_scenario(_write(tmp_path, HEAD.replace("elements/one.tle", "elements/two.tle")))
    with pytest.raises(ScenarioError) as info:
        loaded.input_files()
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 's.toml'}: constellations[0].file = 'elements/two.tle': ")
    assert str((tmp_path / "elements" / "two.tle").resolve()) in message
    assert "no such file; the scenario names it" in message and str(tmp_path) in message
    # Listing paths reads nothing, so it works for a missing file.
    assert loaded.input_paths() == {"constellations[0].file": (tmp_path / "elements" / "two.tle").resolve()}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_gh10_a_fifo_is_not_hashed(tmp_path):
    loaded = load_scenario(_write(tmp_path, HEAD.replace("elements/one.tle", "pipe.tle")))
    os.mkfifo(tmp_path / "pipe.tle")
    box: dict = {}

    def run():
        try:
            loaded.input_files()
        except ScenarioError as exc:
            box["exc"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(3.0)
    if thread.is_alive():
        os.close(os.open(tmp_path / "pipe.tle", os.O_WRONLY | os.O_NONBLOCK))
        thread.join(3.0)
        pytest.fail("input_files() blocked on a FIFO")
    assert "constellations[0].file = 'pipe.tle'" in str(box["exc"])
    assert "is not a file but a FIFO (named pipe)" in str(box["exc"])


def test_gh10_the_hash_follows_the_contents(tmp_path):
    path = _write(tmp_path, HEAD)
    loaded = load_scenario(path)
    tle = str((tmp_path / "elements" / "one.tle").resolve())
    before = loaded.input_files()[tle]
    (tmp_path / "elements" / "one.tle").write_text(TLE.replace("STARLINK-1008", "STARLINK-1009"), encoding="utf-8")
    after = loaded.input_files()[tle]
    assert before != after == hashlib.sha256(TLE.replace("STARLINK-1008", "STARLINK-1009").encode()).hexdigest()


def test_gh10_as_resume_builds_it(tmp_path):
    """resume_run rebuilds LoadedScenario(spec, source, base_dir) from the manifest: the same listing."""
    loaded = load_scenario(_write(tmp_path, HEAD))
    again = LoadedScenario(loaded.spec, loaded.source, Path(str(loaded.base_dir)))
    assert again.input_files() == loaded.input_files()
    # A relative base_dir (a manifest written as "."): resolved against the working directory.
    monkey_cwd = os.getcwd()
    try:
        os.chdir(tmp_path)
        relative = LoadedScenario(loaded.spec, loaded.source, Path("."))
        assert relative.input_files() == loaded.input_files()
    finally:
        os.chdir(monkey_cwd)


def test_gh10_symlinked_file_is_listed_by_its_target(tmp_path):
    (tmp_path / "real").mkdir()
    path = _write(tmp_path, HEAD.replace("elements/one.tle", "link.tle"))
    target = tmp_path / "real" / "one.tle"
    target.write_text(TLE, encoding="utf-8")
    (tmp_path / "link.tle").symlink_to(target)
    assert load_scenario(path).input_files() == {str(target.resolve()): _sha(target)}
