"""Issue 10: fuzzing every loader of a user file with random contents.

Whatever a file holds, each loader (element sets, site CSVs, GeoJSON, the
scenario, and `LoadedScenario.input_files`) returns or raises a
`ScenarioError`; nothing else escapes (no ``RecursionError``,
``ValueError``, ``UnicodeDecodeError``...).  An error message names the file,
holds no NUL and never quotes more than 120 consecutive characters of the
file (excerpts are 40, TLE lines 80, listings 120).  Documents start from
real files (the shipped lists, tests/data/tle/mario.*) and are mutated with
byte-order marks, nesting bombs, control characters, long runs, truncation
and random bytes.  Every file is written in a temporary folder, and nothing is
written anywhere else: the checkout and the folder are compared before and
after.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leonet.errors import ScenarioError
from leonet.ground.regions import load_region, read_geojson_region
from leonet.ground.sites import (
    data_path,
    load_cities,
    load_gateways,
    load_hypatia_cities,
    load_pops,
    read_sites_csv,
)
from leonet.orbits.tle import read_elements, read_omm_file, read_tle_file
from leonet.scenario.load import load_scenario

pytestmark = pytest.mark.slow  # a real run, fuzzing or the browser: deselect with -m "not slow"

# database=None: the example database (.hypothesis/) would be a write outside the temporary folder.
FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)

REPO = Path(__file__).resolve().parents[2]
MARIO = REPO / "tests" / "data" / "tle"

#: Longest run of a file's characters a message may quote.
MAX_QUOTED = 120


def _head(parts: tuple[str, ...], n: int) -> str:
    with open(data_path(*parts), encoding="utf-8") as f:
        return "".join(next(f) for _ in range(n))


SCENARIO = """\
[scenario]
name = "fuzz"
[time]
start_utc = "2026-05-30T12:00:00Z"
duration_s = 60
[[constellations]]
kind = "elements"
name = "m"
file = "mario.tle"
[ground.terminals]
[[ground.terminals.sources]]
kind = "sample"
region = "box.geojson"
count = 2
[[ground.terminals.sources]]
kind = "cities"
country_iso2 = "UA"
limit = 2
[ground.gateways]
file = "gw.csv"
"""

BOX = json.dumps({"type": "Polygon", "coordinates": [[[30.2, 50.3], [30.8, 50.3], [30.8, 50.6], [30.2, 50.6], [30.2, 50.3]]]})

#: (loader label, file suffix, seed document)
CASES = [
    ("read_elements", ".tle", (MARIO / "mario.tle").read_text(encoding="utf-8")),
    ("read_elements", "", (MARIO / "mario.tle").read_text(encoding="utf-8")),
    ("read_elements", "", (MARIO / "mario.json").read_text(encoding="utf-8")),
    ("read_tle_file lenient", ".txt", (MARIO / "mario.tle").read_text(encoding="utf-8")),
    ("read_omm_file", ".json", (MARIO / "mario.json").read_text(encoding="utf-8")),
    ("read_omm_file", ".csv", (MARIO / "mario.csv").read_text(encoding="utf-8")),
    ("read_omm_file", ".xml", (MARIO / "mario.xml").read_text(encoding="utf-8")),
    ("load_gateways", ".csv", _head(("gateways", "starlink_gateways_starperf_2024-01.csv"), 5)),
    ("load_pops", ".csv", _head(("gateways", "starlink_pops_starperf_2024-01.csv"), 5)),
    ("load_cities", ".csv", _head(("cities", "geonames_cities15000.csv"), 5)),
    ("load_hypatia_cities", ".txt", _head(("cities", "hypatia_cities_top_100_by_est_2025_pop.basic.txt"), 5)),
    ("read_sites_csv", ".csv", "id,lat,lon\nA,1,2\nB,3,4\n"),
    ("read_geojson_region", ".geojson", BOX),
    ("load_region", ".geojson", BOX),
    ("load_scenario", ".toml", SCENARIO),
    ("input_files", ".toml", SCENARIO),
]

LOADERS = {
    "read_elements": read_elements,
    "read_tle_file lenient": lambda p: read_tle_file(p, lenient=True),
    "read_omm_file": read_omm_file,
    "load_gateways": load_gateways,
    "load_pops": load_pops,
    "load_cities": load_cities,
    "load_hypatia_cities": load_hypatia_cities,
    "read_sites_csv": lambda p: read_sites_csv(p, ["id", "lat", "lon"]),
    "read_geojson_region": read_geojson_region,
    "load_region": lambda p: load_region(str(p)),
    "load_scenario": load_scenario,
    "input_files": lambda p: load_scenario(p).input_files(),
}

#: Pieces that broke, or could break, readers: nesting, encodings, controls, long runs.
NASTY = [
    b"\xef\xbb\xbf", b"\x00", b"\r", b"\r\n", b"\t", b"\x1b[31m", b"\xff\xfe", b"\xc3", b"\xed\xa0\x80", b"\xe2\x80\xa8",
    b"[" * 3000, b"{" * 3000, b"<a>" * 2000, b"a = " + b"[" * 3000, b"x = {a = " * 500, b'"' + b"s" * 3000 + b'"',
    b"9" * 5000, b"1 " + b"7" * 300, b"2 " + b"7" * 300, b"N" * 500 + b"\n", b",", b",,,,,", b'"', b"\\",
    b"SECRET=" + b"k" * 200 + b"\x00", b"1e999", b"nan", b"-0", b"\n\n\n", b"=", b"[[x]]\n", b"\xf0\x9f\x98\x80",
]


@st.composite
def contents(draw) -> tuple[str, str, str, bytes]:
    """(loader label, suffix, seed, bytes): a real document after a few edits, or random bytes."""
    label, suffix, seed = draw(st.sampled_from(CASES))
    data = seed.encode("utf-8")
    if draw(st.integers(0, 9)) == 0:
        return label, suffix, seed, draw(st.binary(max_size=600))
    # Some documents stay whole or nearly so (with a BOM, CRLF line ends), so the success paths run too.
    if draw(st.integers(0, 5)) == 0:
        data = draw(st.sampled_from([b"", b"\xef\xbb\xbf"])) + data
        return label, suffix, seed, data.replace(b"\n", b"\r\n") if draw(st.booleans()) else data
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["insert", "insert", "replace", "truncate", "repeat", "prefix", "delete_line"]))
        piece = draw(st.one_of(st.sampled_from(NASTY), st.binary(min_size=1, max_size=20)))
        at = draw(st.integers(0, len(data)))
        if op == "insert":
            data = data[:at] + piece + data[at:]
        elif op == "replace":
            data = data[:at] + piece + data[at + len(piece):]
        elif op == "truncate":
            data = data[:at]
        elif op == "repeat":
            data = data[:at] + data[at : at + 80] * draw(st.integers(2, 50)) + data[at:]
        elif op == "prefix":
            data = piece + data
        else:
            lines = data.split(b"\n")
            k = draw(st.integers(0, max(0, len(lines) - 1)))
            data = b"\n".join(lines[:k] + lines[k + 1 :])
    return label, suffix, seed, data


def _longest_quoted(message: str, text: str, limit: int = MAX_QUOTED) -> bool:
    """Whether ``message`` holds a run of more than ``limit`` consecutive characters of ``text``."""
    size = limit + 1
    if len(text) < size or len(message) < size:
        return False
    windows = {text[i : i + size] for i in range(len(text) - size + 1)}
    return any(message[i : i + size] in windows for i in range(len(message) - size + 1))


_serial = itertools.count()


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory, snapshot):
    folder = tmp_path_factory.mktemp("gh10_inputs")
    (folder / "mario.tle").write_bytes((MARIO / "mario.tle").read_bytes())
    (folder / "box.geojson").write_text(BOX, encoding="utf-8")
    (folder / "gw.csv").write_text(_head(("gateways", "starlink_gateways_starperf_2024-01.csv"), 3), encoding="utf-8")
    before = snapshot(REPO / "src", REPO / "tests")
    written: set[str] = {str(folder / n) for n in ("mario.tle", "box.geojson", "gw.csv")}
    yield folder, written
    # Nothing was written in the checkout, and in the folder only the files the test wrote.
    assert snapshot(REPO / "src", REPO / "tests") == before
    assert {str(p) for p in folder.rglob("*")} == written


@FUZZ
@given(case=contents())
def test_gh10_fuzz_input_files(fuzz_dir, fuzz_count, case):
    folder, written = fuzz_dir
    label, suffix, seed, data = case
    fuzz_count("every user-file loader on mutated real files and random bytes (gh10)")
    # A fresh name each time: the city cache and load_region see a new file.
    path = folder / f"f{next(_serial)}{suffix}"
    path.write_bytes(data)
    written.add(str(path))
    try:
        LOADERS[label](path)
    except ScenarioError as exc:
        message = str(exc)
        assert path.name in message or label == "input_files", f"the message does not name the file: {message[:300]}"
        assert "\x00" not in message
        text = data.decode("utf-8", "replace")
        assert not _longest_quoted(message.replace(str(path), ""), text), f"the message quotes the file: {message[:600]}"
