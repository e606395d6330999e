"""Bad tracks and routes (issue 13): every problem names the file, the line (or point), the field and the value.

Through the CLI a bad track is exit status 2 with that message; a track
entirely outside the run window is a warning, not an error.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest

from leonet.cli import main
from leonet.errors import InputFileError, ScenarioError
from leonet.ground.motion import Motion, read_track, route_trajectory, track_trajectory
from leonet.scenario.load import load_scenario

UTC = dt.timezone.utc
TRACK = Path(__file__).resolve().parents[1] / "data" / "tracks" / "around-visnjan-with-car.gpx"
HEAD = "time_utc,lat_deg,lon_deg,altitude_m\n"


def _csv(tmp_path, body: str, head: str = HEAD, name: str = "t.csv") -> Path:
    path = tmp_path / name
    path.write_text(head + body, encoding="utf-8")
    return path


def _error(path, **kw) -> InputFileError:
    with pytest.raises(InputFileError) as info:
        track_trajectory(path, name="t", **kw)
    assert str(path) in str(info.value)
    return info.value


@pytest.mark.parametrize(
    "body,line,words",
    [
        ("0,45,13,200\n10,45.001,13,200\n5,45.002,13,200\n", 4,
         ["time_utc (column 'time_utc') = 1970-01-01T00:00:05Z is before the time of the previous fix (line 3: "
          "1970-01-01T00:00:10Z)", "times must increase", "fix: sort the fixes by time"]),
        ("0,45,13,200\n0,45.001,13,200\n", 3,
         ["repeats the time of the previous fix (line 2) at another position: (45, 13, 200 m) then (45.001, 13, 200 m)",
          "fix: remove one of the two"]),
        ("0,nan,13,200\n", 2, ["lat_deg (column 'lat_deg') = 'nan' is outside [-90, 90] degrees", "swapped or projected"]),
        ("0,45,13,200\n1,95.5,13,200\n", 3, ["lat_deg (column 'lat_deg') = '95.5' is outside [-90, 90] degrees"]),
        ("0,45,-181,200\n", 2, ["lon_deg (column 'lon_deg') = '-181' is outside [-180, 180] degrees"]),
        ("0,45,13,inf\n", 2, ["altitude_m (column 'altitude_m') = 'inf' is outside [-500, 30000] m", "not feet, not km"]),
        ("0,45,13,35000\n", 2, ["altitude_m (column 'altitude_m') = '35000' is outside [-500, 30000] m"]),
        ("0,45,13,200\n1,45,abc,200\n", 3, ["lon_deg (column 'lon_deg') = 'abc' is not a number"]),
        ("0,45,13,200\n1,45.09,13,200\n", 3,
         ["from the previous fix (line 2, 10008 m away) in 1 s means 10008 m/s, above max_speed_mps = 1500",
          "fix: remove the fix if it is a glitch, or raise max_speed_mps"]),
        ("yesterday,45,13,200\n", 2, ["time_utc (column 'time_utc') = 'yesterday' is not ISO 8601", "time_format"]),
        ("1608272150,45,13,200\n2020-12-18T06:15:51Z,45,13,200\n", 3,
         ["time_utc (column 'time_utc') = '2020-12-18T06:15:51Z'", "not a number"]),  # the first fix chose Unix seconds
        ("0,45,13,200\n10,45\n", 3, ["has 2 fields but the header has 4", "fix: complete the row or remove it"]),
        ("0,45,13,200\n", 2, ["the track has 1 distinct fix; a moving terminal needs at least two"]),
    ],
)
def test_bad_csv_fixes_name_the_line_the_field_and_the_value(tmp_path, body, line, words):
    err = _error(_csv(tmp_path, body))
    assert err.line == line and f"t.csv, line {line}: " in str(err)
    for w in words:
        assert w in str(err)


def test_a_mapped_column_that_is_missing_lists_the_columns_found(tmp_path):
    path = _csv(tmp_path, "0,45,13\n", head="Time,Lat,Lon\n")
    err = _error(path, columns={"time_utc": "Time", "lat_deg": "Latitude", "lon_deg": "Lon"})
    assert err.line == 1
    assert ("has no column 'Latitude' (columns.lat_deg = 'Latitude'); the columns found are: 'Time', 'Lat', 'Lon'; "
            'fix: map it, e.g. columns = { lat_deg = "<header of that column>" }') in str(err)
    # The default names, when nothing is mapped; and an explicitly mapped altitude column must exist.
    err = _error(path)
    assert "has no column 'time_utc' (the default column 'time_utc' for time_utc)" in str(err)
    err = _error(path, columns={"time_utc": "Time", "lat_deg": "Lat", "lon_deg": "Lon", "altitude_m": "Alt"})
    assert "has no column 'Alt' (columns.altitude_m = 'Alt')" in str(err)


def test_a_semicolon_file_gets_a_hint(tmp_path):
    err = _error(_csv(tmp_path, "0;45;13\n", head="Time;Lat;Lon\n"), columns={"time_utc": "Time"})
    assert "the columns found are: 'Time;Lat;Lon'" in str(err) and "separated by something other than commas" in str(err)


def test_a_strptime_time_that_does_not_match_names_the_format(tmp_path):
    err = _error(_csv(tmp_path, "2020-12-18 06:15:50,45,13,200\n"), time_format="%d.%m.%Y %H:%M:%S")
    assert "= '2020-12-18 06:15:50' is not the time_format '%d.%m.%Y %H:%M:%S'" in str(err) and err.line == 2


def test_a_track_file_that_is_not_a_regular_file_is_refused(tmp_path):
    folder = tmp_path / "dir.csv"
    folder.mkdir()
    err = _error(folder)
    assert "is not a file but a directory" in str(err)
    err = _error(tmp_path / "missing.gpx")
    assert "no such file" in str(err)


# --------------------------------------------------------------------------
# GPX
# --------------------------------------------------------------------------


def _gpx(tmp_path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "t.gpx"
    path.write_bytes(text.encode(encoding))
    return path


def test_a_gpx_that_is_not_gpx_is_refused(tmp_path):
    err = _error(_gpx(tmp_path, HEAD + "0,45,13,200\n"))
    assert "is not GPX: not well-formed XML" in str(err) and "starts with 'time_utc,lat_deg,lon_deg,altitude_m...'" in str(err)
    err = _error(_gpx(tmp_path, '<?xml version="1.0"?>\n<kml xmlns="http://www.opengis.net/kml/2.2"><Document/></kml>\n'))
    assert "is not GPX: its root element is <kml>, not <gpx>" in str(err) and err.line == 2
    err = _error(_gpx(tmp_path, '<gpx version="1.1"><wpt lat="45" lon="13"><time>2020-12-18T06:15:50Z</time></wpt></gpx>'))
    assert "holds no track points (<trk><trkseg><trkpt>)" in str(err)


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE gpx [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<gpx><trk><trkseg><trkpt lat="45" lon="13"><time>2020-12-18T06:15:50Z</time><ele>&lol3;</ele></trkpt></trkseg></trk></gpx>
"""


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_a_gpx_with_a_doctype_is_refused_before_any_entity_is_expanded(tmp_path, encoding):
    err = _error(_gpx(tmp_path, BILLION_LAUGHS.replace('"1.0"?>', f'"1.0" encoding="{encoding}"?>'), encoding))
    assert "declares a DOCTYPE" in str(err) and "does not read DTDs or entities" in str(err)
    assert err.line == 2


def test_bad_gpx_points_name_their_line_and_column(tmp_path):
    text = TRACK.read_text(encoding="utf-8")
    one_per_line = text.replace("<trkpt", "\n<trkpt")
    missing_time = one_per_line.replace("<time>2020-12-18T06:16:12Z</time>", "")
    err = _error(_gpx(tmp_path, missing_time))
    assert err.line == 4 and "<trkpt> at column 1 has no <time>" in str(err)
    bad_lat = one_per_line.replace('lat="45.2733669709"', 'lat="45,2733669709"')
    err = _error(_gpx(tmp_path, bad_lat))
    assert err.line == 4 and "<trkpt> at column 1: lat = '45,2733669709' is not a number" in str(err)
    no_lon = one_per_line.replace('lon="13.7141719926"', "")
    err = _error(_gpx(tmp_path, no_lon))
    assert "<trkpt> at column 1 has no lon attribute" in str(err)
    backwards = text.replace("<time>2020-12-18T06:16:12Z</time>", "<time>2020-12-18T06:15:12Z</time>")
    err = _error(_gpx(tmp_path, backwards))
    assert err.line == 1 and "<trkpt> at column 1501: <time> = 2020-12-18T06:15:12Z is before the time of the previous " \
        "fix (line 1, <trkpt> at column 1396: 2020-12-18T06:16:00Z)" in str(err)


# --------------------------------------------------------------------------
# GeoJSON
# --------------------------------------------------------------------------


def _gj(tmp_path, doc) -> Path:
    path = tmp_path / "t.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


LINE = {"type": "LineString", "coordinates": [[13.0, 45.0], [13.001, 45.0], [13.002, 45.0]]}
TIMES = ["2020-12-18T06:15:50Z", "2020-12-18T06:16:00Z", "2020-12-18T06:16:10Z"]


@pytest.mark.parametrize(
    "doc,words",
    [
        (LINE, ["is a GeoJSON 'LineString', not a Feature: a bare geometry carries no times"]),
        ({"type": "Feature", "properties": {"coordTimes": TIMES[:2]}, "geometry": LINE},
         ["the feature: properties.coordTimes has 2 times for 3 points"]),
        ({"type": "Feature", "properties": {}, "geometry": LINE}, ["properties hold no 'coordTimes' (or 'times')"]),
        ({"type": "Feature", "properties": {"times": TIMES}, "geometry": {"type": "Polygon", "coordinates": []}},
         ["the geometry is 'Polygon', not a LineString"]),
        ({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"times": TIMES}, "geometry": LINE}] * 2},
         ["FeatureCollection with 2 LineString features; a track file holds one terminal's track"]),
        ({"type": "Feature", "properties": {"times": TIMES},
          "geometry": {"type": "LineString", "coordinates": [[13.0, 45.0], [13.001], [13.002, 45.0]]}},
         ["the feature.geometry.coordinates[1]: [13.001] is not a position [lon, lat]"]),
        ({"type": "Feature", "properties": {"times": TIMES},
          "geometry": {"type": "LineString", "coordinates": [[13.0, 45.0], [193.0, 45.0], [13.002, 45.0]]}},
         ["the feature.geometry.coordinates[1]: longitude (1st coordinate) = 193.0 is outside [-180, 180] degrees"]),
        ({"type": "Feature", "properties": {"times": [TIMES[0], True, TIMES[2]]}, "geometry": LINE},
         ["the feature.geometry.coordinates[1]: properties.times = True"]),
    ],
)
def test_bad_geojson_tracks_name_the_point(tmp_path, doc, words):
    err = _error(_gj(tmp_path, doc))
    assert err.line is None
    for w in words:
        assert w in str(err)


def test_geojson_that_is_not_json_names_its_line(tmp_path):
    path = tmp_path / "t.geojson"
    path.write_text('{"type": "Feature",\n "properties": {,\n}', encoding="utf-8")
    err = _error(path)
    assert err.line == 2 and "is not JSON" in str(err)


# --------------------------------------------------------------------------
# Routes, the run window, the scenario and the CLI
# --------------------------------------------------------------------------


def test_route_errors_name_the_waypoint():
    noon = dt.datetime(2026, 5, 30, 12, tzinfo=UTC)
    with pytest.raises(ScenarioError) as info:
        route_trajectory([{"lat_deg": 0.0, "lon_deg": 0.0, "at": noon},
                          {"lat_deg": 0.0, "lon_deg": 20.0, "at": noon + dt.timedelta(minutes=10)}], name="r")
    assert str(info.value).startswith("waypoints[1]: reaching (0, 20, 0 m) from the previous fix (waypoints[0], 2223902 m "
                                      "away) in 600 s means 3707 m/s, above max_speed_mps = 1500")


def test_a_track_outside_the_run_window_is_a_warning_and_the_terminal_is_inactive():
    tr = track_trajectory(TRACK, name="car")  # December 2020, not replayed
    motion = Motion([tr], [0], dt.datetime(2026, 5, 30, 12, tzinfo=UTC))
    start, end = dt.datetime(2026, 5, 30, 12, tzinfo=UTC), dt.datetime(2026, 5, 30, 13, tzinfo=UTC)
    (note,) = motion.window_notes(start, end)
    assert note.startswith("warning: track ('car', ") and str(TRACK) in note
    assert ("runs 2020-12-18T06:15:50Z .. 2020-12-18T06:24:24Z, outside the run window 2026-05-30T12:00:00Z .. "
            "2026-05-30T13:00:00Z: the terminal is inactive during the whole run; fix: set replay_from") in note
    assert (motion.at(np.arange(0, 3600, 60, dtype=np.int64) * 10**9).status == 1).all()
    # Covering part of the window is a note, not a warning.
    replayed = track_trajectory(TRACK, name="car", replay_from=start, where="fleets[0].terminals[1]")
    (note,) = Motion([replayed], [0], start).window_notes(start, end)
    assert note.startswith("fleets[0].terminals[1] ('car', ") and "inactive outside that part of the run window" in note


SCENARIO = """\
[time]
start_utc = 2026-05-30T12:00:00Z
duration_s = 60
[[constellations]]
kind = "builtin"
builtin = "starlink-550"
[ground.gateways]
ids = ["GS1"]
[ground.terminals]
[[ground.terminals.sources]]
kind = "coordinates"
sites = [{ name = "Kyiv", lat_deg = 50.45, lon_deg = 30.52 }]
[[ground.terminals.sources]]
kind = "track"
file = "drive.csv"
columns = { time_utc = "Time", lat_deg = "Lat", lon_deg = "Lon" }
replay_from = 2026-05-30T12:00:00Z
"""


def test_a_bad_track_in_a_scenario_is_exit_status_2_with_file_line_field_and_value(tmp_path, capsys):
    (tmp_path / "drive.csv").write_text("Time,Lat,Lon\n0,45,13\n10,45.001,13\n5,45.002,13\n", encoding="utf-8")
    scenario = tmp_path / "s.toml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    loaded = load_scenario(scenario)
    assert list(loaded.input_paths()) == ["ground.terminals.sources[1].file"]
    with pytest.raises(SystemExit) as info:
        main(["validate", str(scenario)])
    err = " ".join(capsys.readouterr().err.split())
    assert info.value.code == 2 and "Traceback" not in err
    assert "ground.terminals.sources[1]:" in err and "drive.csv, line 4:" in err
    assert "time_utc (column 'Time') = 1970-01-01T00:00:05Z is before the time of the previous fix" in err


@pytest.mark.parametrize(
    "source,words",
    [
        ('kind = "track"\nfile = "a.gpx"\ncolumns = { lat_deg = "Lat" }\n',
         ["ground.terminals.sources[0]: columns maps the headers of a CSV file, but 'a.gpx' is gpx"]),
        ('kind = "track"\nfile = "a.gpx"\ntime_format = "unix_s"\n', ["time_format does not apply to GPX"]),
        ('kind = "track"\nfile = "a.kml"\n', ["cannot tell the format of file = 'a.kml' from its suffix"]),
        ('kind = "track"\nfile = "a.csv"\ntime_format = "dd.mm.yyyy"\n',
         ["ground.terminals.sources[0].time_format: time_format 'dd.mm.yyyy' is neither one of 'iso8601', 'unix_s', "
          "'unix_ms' nor a strptime format"]),
        ('kind = "track"\nfile = "a.csv"\nmax_gap_s = 0\n', ["ground.terminals.sources[0].max_gap_s"]),
        ('kind = "track"\nfile = "a.csv"\ncount = 3\n',
         ["unknown key 'count' for kind = \"track\"; kind = \"sample\" takes it"]),
        ('kind = "route"\nname = "p"\nspeed_kmh = 6000\nstart_utc = 2026-05-30T12:00:00Z\n'
         'waypoints = [{lat_deg = 0, lon_deg = 0}, {lat_deg = 0, lon_deg = 1}]\n',
         ["speed_kmh = 6000 is 1666.67 m/s, above max_speed_mps = 1500"]),
        ('kind = "route"\nname = "p"\nspeed_kmh = 60\nwaypoints = [{lat_deg = 0, lon_deg = 0}, {lat_deg = 0, lon_deg = 1}]\n',
         ["speed_kmh needs start_utc"]),
        ('kind = "route"\nname = "p"\nwaypoints = [{lat_deg = 0, lon_deg = 0, at = 2026-05-30T12:00:00Z}, '
         '{lat_deg = 0, lon_deg = 1}]\n', ["waypoints[1] has no 'at'"]),
        ('kind = "route"\nname = "p"\nwaypoints = [{lat_deg = 0, lon_deg = 0, at = 2026-05-30T12:00:00Z}, '
         '{lat_deg = 0, lon_deg = 1, at = 2026-05-30T11:00:00Z}]\n',
         ["waypoints[1].at = 2026-05-30T11:00:00+00:00 is not after waypoints[0].at"]),
        ('kind = "route"\nname = "p"\nwaypoints = [{lat_deg = 0, lon_deg = 0}]\nspeed_kmh = 5\n'
         'start_utc = 2026-05-30T12:00:00Z\n', ["ground.terminals.sources[0].waypoints"]),
        ('kind = "route"\nname = "p"\naltitude_m = 40000\nspeed_kmh = 5\nstart_utc = 2026-05-30T12:00:00Z\n'
         'waypoints = [{lat_deg = 0, lon_deg = 0}, {lat_deg = 0, lon_deg = 1}]\n',
         ["ground.terminals.sources[0].altitude_m"]),
    ],
)
def test_bad_track_and_route_keys_are_refused_when_the_scenario_is_loaded(tmp_path, source, words):
    text = SCENARIO.split("[ground.terminals]")[0] + "[ground.terminals]\n[[ground.terminals.sources]]\n" + source
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    for w in words:
        assert w in str(info.value)


def test_times_outside_the_years_1900_to_2199_are_refused(tmp_path):
    err = _error(_csv(tmp_path, "1608272150000,45,13,200\n1608272151000,45,13,200\n"))  # ms given as seconds
    assert err.line == 2 and "= '1608272150000' is outside the years 1900..2199 (a time in ms given as seconds?)" in str(err)
    with pytest.raises(ScenarioError, match="replay_from = 9999-01-01T00:00:00"):
        track_trajectory(TRACK, name="t", replay_from=dt.datetime(9999, 1, 1, tzinfo=UTC))
    with pytest.raises(ScenarioError, match="r: the route's times fall outside the years 1900..2199"):
        route_trajectory([{"lat_deg": 0.0, "lon_deg": 0.0}, {"lat_deg": 0.0, "lon_deg": 1.0}], name="r", where="r",
                         speed_kmh=10.0, start_utc=dt.datetime(9999, 1, 1, tzinfo=UTC))
