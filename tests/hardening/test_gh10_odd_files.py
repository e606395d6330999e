"""Issue 10, item 14: odd files given as a scenario or as an input file.

* A TOML (or JSON) file nested 100,000 deep is a clear `ScenarioError`, not a
  ``RecursionError`` traceback.
* A FIFO, a device, a socket or a directory is refused *before it is opened*
  (opening a FIFO blocks until a writer comes; reading a device may never end),
  with a message that says what it is.
* A UTF-8 byte-order mark at the start of a scenario, an element-set file, a
  CSV or a GeoJSON file is accepted.
* A file that is not what it claims to be (``/proc/self/environ`` as an
  element-set file, credentials as a CSV) is refused with at most a short,
  printable excerpt of its contents: never its lines, never the environment.

Every file is made inside pytest's ``tmp_path``; ``/proc/self/environ`` and
``/dev/null`` are only read.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from pathlib import Path

import pytest

from leonet.errors import InputFileError, ScenarioError
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
from leonet.engine.build import build_constellation, constellation_from_source
from leonet.scenario.load import load_scenario

TLE = """\
STARLINK-1008
1 44714U 19074B   26150.30936191  .00080211  00000+0  15180-2 0  9995
2 44714  53.1513 154.1788 0003034  54.2939 305.8351 15.47704531361446
"""

OMM_JSON = json.dumps(
    [
        {
            "OBJECT_NAME": "STARLINK-1008", "OBJECT_ID": "2019-074B", "EPOCH": "2026-05-30T07:25:28.869024",
            "MEAN_MOTION": 15.47704531, "ECCENTRICITY": 0.0003034, "INCLINATION": 53.1513,
            "RA_OF_ASC_NODE": 154.1788, "ARG_OF_PERICENTER": 54.2939, "MEAN_ANOMALY": 305.8351,
            "EPHEMERIS_TYPE": 0, "CLASSIFICATION_TYPE": "U", "NORAD_CAT_ID": 44714, "ELEMENT_SET_NO": 999,
            "REV_AT_EPOCH": 36144, "BSTAR": 0.0015180, "MEAN_MOTION_DOT": 0.00080211, "MEAN_MOTION_DDOT": 0,
        }
    ]
)

SQUARE = json.dumps(
    {
        "type": "Feature",
        "properties": {"name": "square"},
        "geometry": {"type": "Polygon", "coordinates": [[[30, 49], [31, 49], [31, 50], [30, 50], [30, 49]]]},
    }
)


def _head(parts: tuple[str, ...], n: int) -> str:
    with open(data_path(*parts), encoding="utf-8") as f:
        return "".join(next(f) for _ in range(n))


GATEWAYS_CSV = _head(("gateways", "starlink_gateways_starperf_2024-01.csv"), 4)
POPS_CSV = _head(("gateways", "starlink_pops_starperf_2024-01.csv"), 4)
CITIES_CSV = _head(("cities", "geonames_cities15000.csv"), 4)
HYPATIA_TXT = _head(("cities", "hypatia_cities_top_100_by_est_2025_pop.basic.txt"), 4)

SCENARIO = """\
[scenario]
name = "odd"
[time]
start_utc = "2026-05-30T12:00:00Z"
duration_s = 60
[[constellations]]
kind = "elements"
name = "one"
file = "{tle}"
"""

#: Every loader of a user file, as (label, call(path)).
LOADERS = [
    ("read_elements", lambda p: read_elements(p)),
    ("read_elements .tle", lambda p: read_elements(p)),
    ("read_tle_file", lambda p: read_tle_file(p)),
    ("read_omm_file", lambda p: read_omm_file(p)),
    ("constellation_from_source", lambda p: constellation_from_source(str(p))),
    ("load_gateways", lambda p: load_gateways(p)),
    ("load_pops", lambda p: load_pops(p)),
    ("load_cities", lambda p: load_cities(p)),
    ("load_hypatia_cities", lambda p: load_hypatia_cities(p)),
    ("read_sites_csv", lambda p: read_sites_csv(p, ["id", "lat", "lon"])),
    ("read_geojson_region", lambda p: read_geojson_region(p)),
    ("load_region", lambda p: load_region(str(p))),
    ("load_scenario", lambda p: load_scenario(p)),
]
_SUFFIX = {"read_elements .tle": ".tle", "read_omm_file": ".json", "read_geojson_region": ".geojson",
           "load_region": ".geojson", "load_scenario": ".toml"}


def _name(label: str, stem: str) -> str:
    return stem + _SUFFIX.get(label, ".csv" if "csv" in label or label.startswith("load_") else "")


def _outcome(call, path: Path, timeout_s: float = 3.0):
    """``call(path)``'s exception (or None), failing instead of hanging on a FIFO."""
    box: dict = {}

    def run():
        try:
            call(path)
            box["exc"] = None
        except BaseException as exc:  # noqa: BLE001 -- the test inspects it
            box["exc"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout_s)
    if thread.is_alive():
        # Release the blocked reader: a writer that opens and closes gives it end of file.
        for _ in range(100):
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
                break
            except OSError:
                thread.join(0.05)
        thread.join(timeout_s)
        pytest.fail(f"{path}: the loader blocked on the FIFO for {timeout_s} s instead of refusing it")
    return box["exc"]


# --------------------------------------------------------------------------
# Deep nesting
# --------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["[" * 100_000 + "]" * 100_000, "{a = " * 100_000 + "1" + "}" * 100_000])
def test_gh10_deeply_nested_toml_is_a_scenario_error(tmp_path, value):
    path = tmp_path / "deep.toml"
    path.write_text(f"x = {value}\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert str(path) in message and "nested too deeply" in message
    assert len(message) < 400


@pytest.mark.parametrize("label", ["read_omm_file", "read_elements", "read_geojson_region", "load_region"])
def test_gh10_deeply_nested_json_is_an_input_file_error(tmp_path, label):
    call = dict(LOADERS)[label]
    path = tmp_path / (_name(label, "deep") if label != "read_elements" else "deep.json")
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(InputFileError) as info:
        call(path)
    assert "too deeply" in str(info.value)


# --------------------------------------------------------------------------
# FIFOs, devices, sockets, directories
# --------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
@pytest.mark.parametrize("label", [label for label, _ in LOADERS])
def test_gh10_fifo_is_refused_without_blocking(tmp_path, label):
    fifo = tmp_path / _name(label, "pipe")
    os.mkfifo(fifo)
    exc = _outcome(dict(LOADERS)[label], fifo)
    assert isinstance(exc, ScenarioError), repr(exc)
    assert "is not a file but a FIFO (named pipe)" in str(exc)
    assert str(fifo) in str(exc)


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="no /dev/null")
@pytest.mark.parametrize("label", [label for label, _ in LOADERS])
def test_gh10_device_is_refused(label):
    exc = _outcome(dict(LOADERS)[label], Path("/dev/null"))
    assert isinstance(exc, ScenarioError), repr(exc)
    assert "/dev/null" in str(exc) and "is not a file but a character device" in str(exc)


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="no Unix sockets")
@pytest.mark.parametrize("label", ["read_elements", "load_gateways", "read_geojson_region", "load_scenario"])
def test_gh10_socket_is_refused(tmp_path, label):
    path = tmp_path / _name(label, "s")
    if len(str(path)) > 100:
        pytest.skip("tmp_path too long for a Unix socket name")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(path))
        exc = _outcome(dict(LOADERS)[label], path)
    assert isinstance(exc, ScenarioError), repr(exc)
    assert "is not a file but a socket" in str(exc)


@pytest.mark.parametrize("label", [label for label, _ in LOADERS])
def test_gh10_directory_is_refused(tmp_path, label):
    path = tmp_path / _name(label, "folder")
    path.mkdir()
    exc = _outcome(dict(LOADERS)[label], path)
    assert isinstance(exc, ScenarioError), repr(exc)
    assert "is not a file but a directory" in str(exc)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
@pytest.mark.parametrize(
    "field,setup",
    [
        ("constellations[0].file", lambda d: SCENARIO.format(tle="pipe.tle")),
        (
            "ground.gateways.file",
            lambda d: SCENARIO.format(tle="one.tle") + '[ground.gateways]\nfile = "pipe.tle"\n'
            '[ground.terminals]\n[[ground.terminals.sources]]\nkind = "coordinates"\n'
            'sites = [{name = "K", lat_deg = 50.45, lon_deg = 30.52}]\n',
        ),
        (
            "ground.terminals.sources[0]",
            lambda d: SCENARIO.format(tle="one.tle") + '[ground.gateways]\nids = ["GS1"]\n'
            '[ground.terminals]\n[[ground.terminals.sources]]\nkind = "sample"\nregion = "pipe.tle"\ncount = 2\n',
        ),
    ],
)
def test_gh10_fifo_named_by_a_scenario_is_refused(tmp_path, field, setup):
    from leonet.engine.build import build_ground

    os.mkfifo(tmp_path / "pipe.tle")
    (tmp_path / "one.tle").write_text(TLE, encoding="utf-8")
    path = tmp_path / "s.toml"
    path.write_text(setup(tmp_path), encoding="utf-8")
    loaded = load_scenario(path)

    def build(_):
        build_constellation(loaded, warn_stale=False)
        build_ground(loaded)

    exc = _outcome(build, tmp_path / "pipe.tle")
    assert isinstance(exc, ScenarioError), repr(exc)
    assert "pipe.tle" in str(exc) and "is not a file but a FIFO (named pipe)" in str(exc)


# --------------------------------------------------------------------------
# Byte-order marks
# --------------------------------------------------------------------------

BOM = b"\xef\xbb\xbf"


def test_gh10_scenario_with_bom_loads(tmp_path):
    (tmp_path / "one.tle").write_bytes(BOM + TLE.encode())
    path = tmp_path / "s.toml"
    path.write_bytes(BOM + SCENARIO.format(tle="one.tle").encode())
    loaded = load_scenario(path)
    assert loaded.spec.scenario.name == "odd"
    assert len(build_constellation(loaded, warn_stale=False)) == 1


@pytest.mark.parametrize(
    "label,text,check",
    [
        ("read_elements .tle", TLE, lambda r: r.names == ["STARLINK-1008"]),
        ("read_elements", TLE, lambda r: r.names == ["STARLINK-1008"]),
        ("read_omm_file", OMM_JSON, lambda r: r.names == ["STARLINK-1008"]),
        ("load_gateways", GATEWAYS_CSV, lambda r: len(r) == 3),
        ("load_pops", POPS_CSV, lambda r: len(r) == 3),
        ("load_cities", CITIES_CSV, lambda r: len(r) == 3),
        ("load_hypatia_cities", HYPATIA_TXT, lambda r: len(r) == 4),
        ("read_geojson_region", SQUARE, lambda r: r.name == "square"),
        ("load_region", SQUARE, lambda r: r.name == "square"),
    ],
)
def test_gh10_input_files_with_bom_load(tmp_path, label, text, check):
    path = tmp_path / _name(label, "with_bom")
    path.write_bytes(BOM + text.encode())
    assert check(dict(LOADERS)[label](path))


# --------------------------------------------------------------------------
# Files that are not what they claim to be: a short, printable excerpt at most
# --------------------------------------------------------------------------

ENVIRON = Path("/proc/self/environ")


def _environ_entries() -> list[str]:
    return [e for e in ENVIRON.read_bytes().decode("utf-8", "replace").split("\0") if len(e) >= 8]


@pytest.mark.skipif(not ENVIRON.exists(), reason="no /proc/self/environ")
@pytest.mark.parametrize("label", [label for label, _ in LOADERS if label != "read_elements .tle"] + ["lenient TLE"])
def test_gh10_environ_is_not_echoed(label):
    entries = _environ_entries()
    if len(entries) < 2:
        pytest.skip("too small an environment to tell")
    call = (lambda p: read_tle_file(p, lenient=True)) if label == "lenient TLE" else dict(LOADERS)[label]
    exc = _outcome(call, ENVIRON)
    assert isinstance(exc, ScenarioError), repr(exc)
    message = str(exc)
    # Nothing after the first entry, and of the first entry at most 40 characters.
    for entry in entries[1:]:
        assert entry not in message, (entry, message)
    if len(entries[0]) > 40:
        assert entries[0][:41] not in message
    assert "\x00" not in message  # the NUL may be named ('\\x00' (U+0000)), never echoed


SECRETS = """\
[default]
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
"""


@pytest.mark.parametrize("label", [label for label, _ in LOADERS if label != "constellation_from_source"])
def test_gh10_other_text_is_not_echoed_beyond_an_excerpt(tmp_path, label):
    path = tmp_path / _name(label, "credentials")
    path.write_text(SECRETS, encoding="utf-8")
    exc = _outcome(dict(LOADERS)[label], path)
    assert isinstance(exc, ScenarioError), repr(exc)
    assert "wJalrXUtnFEMI" not in str(exc), str(exc)


@pytest.mark.parametrize(
    "label,text,echo_limit",
    [
        # A line 1 of a megabyte: shown to at most 80 columns.
        ("read_tle_file", "X\n1 " + "9" * 1_000_000 + "\n2 x\n", 80),
        ("read_tle_file", "1 " + "7" * 100_000 + "\n", 80),
        ("read_tle_file", "2 " + "7" * 100_000 + "\n", 80),
        # A name line of a megabyte, followed by another.
        ("read_tle_file", "N" * 1_000_000 + "\n" + "M" * 1_000_000 + "\n", 40),
        # A CSV cell, header or row of a megabyte.
        ("load_gateways", GATEWAYS_CSV.replace(",Ka,", ",Ka," + "1" * 1_000_000, 1), 40),
        ("load_gateways", GATEWAYS_CSV.replace("antenna_count", "antenna_count," + "h" * 1_000_000, 1), 40),
        ("load_gateways", GATEWAYS_CSV.replace("GS1,", "GS" + "1" * 1_000_000 + ",", 1) * 2, 40),
        ("load_hypatia_cities", HYPATIA_TXT.replace(",", "," + "5" * 1_000_000 + ",", 1), 40),
        ("load_cities", CITIES_CSV.replace(",24874500,", "," + "0" * 1_000_000 + "x,", 1), 40),
        # GeoJSON: a huge name, type or properties value.
        ("read_geojson_region", SQUARE.replace('"Polygon"', json.dumps("P" * 1_000_000)), 40),
        ("read_geojson_region", SQUARE.replace('{"name": "square"}', json.dumps(["q" * 1_000_000])), 40),
        ("read_geojson_region", SQUARE.replace('"square"', json.dumps("s" * 1_000_000)).replace("[30, 49]]]", "[30, 48]]]"), 40),
        ("read_geojson_region", "x" * 1_000_000, 40),
        # OMM: a huge name or field.
        ("read_omm_file", OMM_JSON.replace('"STARLINK-1008"', json.dumps("S" * 1_000_000)).replace("53.1513", "-1"), 40),
        ("read_omm_file", OMM_JSON.replace("53.1513", json.dumps("9" * 1_000_000 + "x")), 40),
        ("read_omm_file", OMM_JSON.replace("44714", json.dumps("4" * 1_000_000)), 40),
    ],
)
def test_gh10_long_contents_are_cut(tmp_path, label, text, echo_limit):
    path = tmp_path / _name(label, "long")
    path.write_text(text, encoding="utf-8")
    exc = _outcome(dict(LOADERS)[label], path)
    assert isinstance(exc, ScenarioError), repr(exc)
    message = str(exc)
    assert len(message) < 1200, message[:2000]
    for run_char in "97NM1h5S0Psqx4":
        assert run_char * (echo_limit + 1) not in message.replace(str(path), ""), message


def test_gh10_scenario_values_are_cut(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(SCENARIO.format(tle="one.tle").replace('name = "odd"', f"name = {['x' * 100_000] * 100}"), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert "scenario.name" in str(info.value) and len(str(info.value)) < 400


def test_gh10_excerpt():
    from leonet.inputs import excerpt

    assert excerpt("STARLINK-1008") == "STARLINK-1008"
    assert excerpt("SHELL=/bin/bash\0HOME=/root") == "SHELL=/bin/bash..."
    assert excerpt("x" * 100) == "x" * 40 + "..."
    assert excerpt(b"caf\xc3\xa9 \xff rest") == "café ..."
    assert excerpt("  \ufefftab\there") == "tab..."
    assert excerpt("") == ""
    assert excerpt("abc", limit=2) == "ab..."


# --------------------------------------------------------------------------
# Siblings: a CSV column spelled like one that is read, big JSON numbers
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "label,text,typo,meant",
    [
        ("load_gateways", GATEWAYS_CSV.replace("uplink_ghz", "uplink_gz", 1), "uplink_gz", "uplink_ghz"),
        ("load_gateways", GATEWAYS_CSV.replace(",note,", ",notes,", 1), "notes", "note"),
        ("load_cities", CITIES_CSV.replace("timezone", "time_zone", 1), "time_zone", "timezone"),
        ("load_pops", "".join(line + ",US\n" for line in POPS_CSV.splitlines()).replace(",US", ",country_iso", 1), "country_iso", "country_iso2"),
    ],
)
def test_gh10_misspelled_optional_csv_column_is_refused(tmp_path, label, text, typo, meant):
    # The values of a misspelled optional column used to be dropped silently.
    path = tmp_path / _name(label, "typo")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputFileError) as info:
        dict(LOADERS)[label](path)
    assert f"line 1: column {typo!r} is not one leonet reads; did you mean {meant!r}?" in str(info.value)


def test_gh10_extra_csv_columns_are_still_accepted(tmp_path):
    path = tmp_path / "gw.csv"
    path.write_text(GATEWAYS_CSV.replace("description_raw", "description_raw,operator", 1).replace("BR\"\n", "BR\",SpaceX\n"), encoding="utf-8")
    assert len(load_gateways(path)) == 3


def test_gh10_omm_json_number_too_long_for_python_is_an_input_file_error(tmp_path):
    path = tmp_path / "big.json"
    path.write_text(OMM_JSON.replace("15.47704531", "1" + "0" * 5000), encoding="utf-8")
    with pytest.raises(InputFileError) as info:
        read_omm_file(path)
    assert "holds a number JSON cannot read" in str(info.value) and len(str(info.value)) < 400


def test_gh10_city_file_rewritten_within_one_timestamp_tick_is_read_again(tmp_path):
    # The parsed-city cache was keyed by (path, mtime, size): a file rewritten
    # with the same size and modification time returned its old rows.
    path = tmp_path / "cities.csv"
    path.write_text(CITIES_CSV, encoding="utf-8")
    stamp = os.stat(path).st_mtime_ns
    assert load_cities(path).names[0] == "Shanghai"
    path.write_text(CITIES_CSV.replace("Shanghai", "Shanghay"), encoding="utf-8")
    os.utime(path, ns=(stamp, stamp))
    assert os.stat(path).st_size == len(CITIES_CSV.encode())
    assert load_cities(path).names[0] == "Shanghay"
