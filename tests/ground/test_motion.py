"""Moving terminals (issue 13): real tracks replayed, great-circle interpolation, gaps, routes, chunking.

References: the real car track ``tests/data/tracks/around-visnjan-with-car.gpx``
(a Garmin eTrex 20x log, see tests/data/tracks/README.md); the intermediate
point on a great circle from Williams' Aviation Formulary ("Intermediate
points on a great circle"), written out here with scalar ``math``; and
hand-worked routes along the equator and a meridian.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pytest

from leonet.constants import NS_PER_S
from leonet.ground.motion import (
    INACTIVE,
    NO_POSITION,
    POSITIONED,
    Motion,
    check_fixes,
    great_circle_m,
    read_track,
    route_trajectory,
    track_trajectory,
)
from leonet.ground.sites import MEAN_EARTH_RADIUS_KM
from leonet.orbits.frames import enu_basis, geodetic_to_ecef

UTC = dt.timezone.utc
TRACK = Path(__file__).resolve().parents[1] / "data" / "tracks" / "around-visnjan-with-car.gpx"
REPLAY = dt.datetime(2026, 5, 30, 12, 0, 0, tzinfo=UTC)
TEN_M = 10.0
ONE_MM_M = 1e-3


def _replayed(**kw):
    tr = track_trajectory(TRACK, name="car", replay_from=REPLAY, **kw)
    return tr, Motion([tr], [0], REPLAY)


def _every_second(tr):
    return np.arange(0, (tr.last_ns - tr.first_ns) // NS_PER_S + 1, dtype=np.int64) * NS_PER_S


def _intermediate_point(lat1, lon1, lat2, lon2, f):
    """Williams, Aviation Formulary, "Intermediate points on a great circle" (spherical, degrees)."""
    p1, l1, p2, l2 = map(math.radians, (lat1, lon1, lat2, lon2))
    d = 2 * math.asin(math.sqrt(math.sin((p1 - p2) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin((l1 - l2) / 2) ** 2))
    a = math.sin((1 - f) * d) / math.sin(d)
    b = math.sin(f * d) / math.sin(d)
    x = a * math.cos(p1) * math.cos(l1) + b * math.cos(p2) * math.cos(l2)
    y = a * math.cos(p1) * math.sin(l1) + b * math.cos(p2) * math.sin(l2)
    z = a * math.sin(p1) + b * math.sin(p2)
    return math.degrees(math.atan2(z, math.hypot(x, y))), math.degrees(math.atan2(y, x))


# --------------------------------------------------------------------------
# A real track
# --------------------------------------------------------------------------


def test_the_real_gpx_track_is_read_with_every_fix():
    fixes = read_track(TRACK)
    assert len(fixes) == 104  # <trkpt> elements in the file
    assert fixes.t_ns[0] == 1608272150 * NS_PER_S  # 2020-12-18T06:15:50Z
    assert (fixes.lat_deg[0], fixes.lon_deg[0], fixes.altitude_km[0]) == (45.2735188510, 13.7142099626, 0.21115)
    assert fixes.labels[0] == "line 1, <trkpt> at column 1291"  # the eTrex writes the whole file on one line
    checked, dropped = check_fixes(fixes)
    assert dropped == 0 and len(checked) == 104
    # A car: fastest leg about 94 km/h.
    tr = track_trajectory(TRACK, name="car")
    assert 20.0 < tr.speed_mps.max() < 30.0


def test_a_replayed_real_track_reproduces_its_fixes_within_10_m():
    fixes = read_track(TRACK)
    tr, motion = _replayed()
    state = motion.at(_every_second(tr))
    step_of_fix = (fixes.t_ns - fixes.t_ns[0]) // NS_PER_S  # replayed on whole seconds: every fix is a step
    assert (state.status == POSITIONED).all()  # the longest gap (49 s) is shorter than max_gap_s = 60 s
    got_lat = state.lat_deg[step_of_fix, 0]
    got_lon = state.lon_deg[step_of_fix, 0]
    off_m = great_circle_m(got_lat, got_lon, fixes.lat_deg, fixes.lon_deg)
    assert off_m.max() < TEN_M
    assert np.array_equal(got_lat, fixes.lat_deg) and np.array_equal(got_lon, fixes.lon_deg)  # in fact exactly
    assert np.array_equal(state.altitude_km[step_of_fix, 0], fixes.altitude_km)
    r = geodetic_to_ecef(fixes.lat_deg, fixes.lon_deg, fixes.altitude_km)
    assert np.abs(state.r_ecef_km[step_of_fix, 0] - r).max() < 1e-9
    assert np.allclose(state.enu[step_of_fix, 0], enu_basis(fixes.lat_deg, fixes.lon_deg), atol=1e-15)
    # The replay moved the whole track: same durations, first fix at replay_from.
    assert tr.first_ns == int(REPLAY.timestamp()) * NS_PER_S
    assert np.array_equal(np.diff(tr.t_ns), np.diff(fixes.t_ns))


def test_between_fixes_the_terminal_moves_along_the_great_circle_at_constant_speed():
    fixes = read_track(TRACK)
    tr, motion = _replayed()
    # The leg from 06:17:48 to 06:17:59 (11 s, ~275 m): every second of it.
    k = int(np.flatnonzero(np.diff(fixes.t_ns) == 11 * NS_PER_S)[0])
    t0 = int(tr.t_ns[k] - tr.first_ns)
    steps = t0 + np.arange(12, dtype=np.int64) * NS_PER_S
    state = motion.at(steps)
    for s in range(12):
        f = s / 11
        lat, lon = _intermediate_point(fixes.lat_deg[k], fixes.lon_deg[k], fixes.lat_deg[k + 1], fixes.lon_deg[k + 1], f)
        assert great_circle_m(state.lat_deg[s, 0], state.lon_deg[s, 0], lat, lon) < ONE_MM_M
        alt = fixes.altitude_km[k] + f * (fixes.altitude_km[k + 1] - fixes.altitude_km[k])
        assert abs(state.altitude_km[s, 0] - alt) < 1e-12
    moved = great_circle_m(state.lat_deg[:-1, 0], state.lon_deg[:-1, 0], state.lat_deg[1:, 0], state.lon_deg[1:, 0])
    assert np.ptp(moved) < ONE_MM_M  # equal steps along the leg
    assert np.allclose(state.speed_mps[:-1, 0], moved.sum() / 11.0, rtol=1e-9)


def test_a_gap_longer_than_max_gap_s_leaves_no_position():
    fixes = read_track(TRACK)
    tr, motion = _replayed(max_gap_s=30.0)
    state = motion.at(_every_second(tr))
    gaps = np.flatnonzero(np.diff(fixes.t_ns) > 30 * NS_PER_S)
    assert (np.diff(fixes.t_ns)[gaps] // NS_PER_S).tolist() == [41, 49, 35]  # from 06:19:56, 06:20:37 and 06:23:21
    expected = np.full(state.status.shape[0], POSITIONED)
    for k in gaps:
        a = (fixes.t_ns[k] - fixes.t_ns[0]) // NS_PER_S
        b = (fixes.t_ns[k + 1] - fixes.t_ns[0]) // NS_PER_S
        expected[a + 1: b] = NO_POSITION  # strictly between the two fixes; at the fixes themselves: positioned
    assert np.array_equal(state.status[:, 0], expected)
    no = state.status[:, 0] == NO_POSITION
    assert np.isnan(state.lat_deg[no, 0]).all() and np.isnan(state.r_ecef_km[no, 0]).all()
    assert np.isfinite(state.lat_deg[~no, 0]).all()
    assert any("3 gaps longer than max_gap_s = 30 s" in note for note in motion.notes())


def test_a_gap_of_exactly_max_gap_s_is_still_joined(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("time_utc,lat_deg,lon_deg\n0,10,10\n60,10,10.001\n120.000000001,10,10.002\n", encoding="utf-8")
    tr = track_trajectory(path, name="t")
    assert tr.connected.tolist() == [True, False]  # 60 s is not longer than 60 s; 60.000000001 s is


def test_before_the_first_fix_and_after_the_last_the_terminal_is_inactive():
    tr, motion = _replayed()
    span = tr.last_ns - tr.first_ns
    state = motion.at(np.array([-1, 0, span, span + 1], dtype=np.int64))
    assert state.status[:, 0].tolist() == [INACTIVE, POSITIONED, POSITIONED, INACTIVE]
    assert np.isnan(state.lat_deg[[0, 3], 0]).all() and np.isnan(state.speed_mps[[0, 3], 0]).all()


def test_positions_do_not_depend_on_chunking():
    car, _ = _replayed(max_gap_s=30.0)
    plane = route_trajectory(
        [{"lat_deg": 50.03, "lon_deg": 8.57}, {"lat_deg": 40.64, "lon_deg": -73.78}], name="plane",
        speed_kmh=900.0, start_utc=REPLAY, altitude_m=10_000.0,
    )
    motion = Motion([car, plane], [3, 7], REPLAY)
    steps = np.arange(-10, 700, dtype=np.int64) * 997_000_000  # not on the fixes' seconds
    whole = motion.at(steps)
    rng = np.random.default_rng(13)
    cuts = np.sort(rng.choice(np.arange(1, steps.size), size=9, replace=False))
    parts = [motion.at(c) for c in np.split(steps, cuts)] + [motion.at(steps[k: k + 1]) for k in (0, 55, 400)]
    for name in ("status", "lat_deg", "lon_deg", "altitude_km", "speed_mps", "r_ecef_km", "enu"):
        joined = np.concatenate([getattr(p, name) for p in parts[:10]])
        assert joined.tobytes() == getattr(whole, name).tobytes(), name  # bit for bit, NaN included
        for p, k in zip(parts[10:], (0, 55, 400)):
            assert getattr(p, name).tobytes() == getattr(whole, name)[k: k + 1].tobytes(), name


# --------------------------------------------------------------------------
# The same track in other formats
# --------------------------------------------------------------------------


def test_a_csv_with_its_own_column_names_and_time_format_reads_the_same_track(tmp_path):
    fixes = read_track(TRACK)
    rows = ["Zeit (MEZ),Kommentar,Breite,Laenge,Hoehe (m)"]
    for t, la, lo, h in zip(fixes.t_ns, fixes.lat_deg, fixes.lon_deg, fixes.altitude_km):
        local = dt.datetime.fromtimestamp(int(t) // NS_PER_S, dt.timezone(dt.timedelta(hours=1)))
        rows.append(f"{local:%d.%m.%Y %H:%M:%S%z},x,{float(la)!r},{float(lo)!r},{h * 1000:.2f}")
    path = tmp_path / "export.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    csv_fixes = read_track(
        path, columns={"time_utc": "Zeit (MEZ)", "lat_deg": "Breite", "lon_deg": "Laenge", "altitude_m": "Hoehe (m)"},
        time_format="%d.%m.%Y %H:%M:%S%z",
    )
    assert np.array_equal(csv_fixes.t_ns, fixes.t_ns)
    assert np.array_equal(csv_fixes.lat_deg, fixes.lat_deg) and np.array_equal(csv_fixes.lon_deg, fixes.lon_deg)
    assert np.allclose(csv_fixes.altitude_km, fixes.altitude_km, atol=1e-9)
    assert csv_fixes.lines[:2] == [2, 3]


def test_csv_times_as_iso_or_unix_seconds_and_no_altitude_column(tmp_path):
    a = tmp_path / "iso.csv"
    a.write_text("time_utc,lat_deg,lon_deg\n2020-12-18T06:15:50Z,45,13\n2020-12-18T07:15:51+01:00,45.0001,13\n")
    b = tmp_path / "unix.csv"
    b.write_text("lat_deg,time_utc,lon_deg\n45,1608272150,13\n45.0001,1608272151.000000001,13\n")
    fa, fb = read_track(a), read_track(b)
    assert fa.t_ns.tolist() == [1608272150 * NS_PER_S, 1608272151 * NS_PER_S]
    assert fb.t_ns.tolist() == [1608272150 * NS_PER_S, 1608272151 * NS_PER_S + 1]  # exact to the ns
    assert fa.altitude_km.tolist() == [0.0, 0.0]
    assert "no altitude column ('altitude_m'): the terminal is taken at 0 m" in fa.notes[0]


def _geojson(fixes, multi: bool = False) -> dict:
    coords = [[lo, la, h * 1000.0] for la, lo, h in zip(fixes.lat_deg, fixes.lon_deg, fixes.altitude_km)]
    times = [dt.datetime.fromtimestamp(int(t) // NS_PER_S, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") for t in fixes.t_ns]
    if multi:
        geom = {"type": "MultiLineString", "coordinates": [coords[:50], coords[50:]]}
        times = [times[:50], times[50:]]
    else:
        geom = {"type": "LineString", "coordinates": coords}
    feature = {"type": "Feature", "properties": {"name": "car", "coordTimes": times}, "geometry": geom}
    return {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": {
        "type": "Point", "coordinates": [13.7, 45.27]}}, feature]}


def test_a_geojson_linestring_with_coordtimes_reads_the_same_track(tmp_path):
    fixes = read_track(TRACK)
    path = tmp_path / "car.geojson"
    path.write_text(json.dumps(_geojson(fixes)), encoding="utf-8")
    gj = read_track(path)
    assert np.array_equal(gj.t_ns, fixes.t_ns) and np.array_equal(gj.lat_deg, fixes.lat_deg)
    assert np.allclose(gj.altitude_km, fixes.altitude_km, atol=1e-12)
    assert gj.labels[3] == "features[1].geometry.coordinates[3]"
    # A MultiLineString's parts are separate lines: no position between them.
    path.write_text(json.dumps(_geojson(fixes, multi=True)), encoding="utf-8")
    tr = track_trajectory(path, name="car")
    assert np.flatnonzero(~tr.connected).tolist() == [49]


def test_gpx_track_segments_are_reception_gaps(tmp_path):
    text = TRACK.read_text(encoding="utf-8")
    head, sep, tail = text.partition('<trkpt lat="45.2762353420"')  # the 31st fix starts a new segment
    path = tmp_path / "two-segments.gpx"
    path.write_text(head + "</trkseg><trkseg>" + sep + tail, encoding="utf-8")
    tr = track_trajectory(path, name="car")
    assert np.flatnonzero(~tr.connected).tolist() == [29]  # 9 s apart, but reception was lost
    assert any("1 new track segment (GPX <trkseg>, reception lost)" in n for n in tr.notes)


def test_exact_repeats_are_dropped_and_counted(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text(
        "time_utc,lat_deg,lon_deg,altitude_m\n"
        "0,45,13,200\n0,45,13,200\n10,45.001,13,200\n10,45.001,13,200\n10,45.001,13,200\n20,45.002,13,200\n",
        encoding="utf-8",
    )
    tr = track_trajectory(path, name="log")
    assert len(tr) == 3
    assert any("3 exact repeats (same time, same position) dropped" in n for n in tr.notes)
    assert Motion([tr], [0], REPLAY).notes() == list(tr.notes)


# --------------------------------------------------------------------------
# Routes
# --------------------------------------------------------------------------


def test_a_route_at_speed_is_at_each_waypoint_on_time_and_on_the_great_circle_between():
    # Along the equator at 36 km/h = 10 m/s: one degree (R1 * pi / 180 = 111,195.08 m) in 11,119.508 s.
    one_deg_m = MEAN_EARTH_RADIUS_KM * 1000.0 * math.pi / 180.0
    tr = route_trajectory([{"lat_deg": 0.0, "lon_deg": 0.0}, {"lat_deg": 0.0, "lon_deg": 1.0},
                           {"lat_deg": 1.0, "lon_deg": 1.0}], name="ship", speed_kmh=36.0, start_utc=REPLAY)
    leg_ns = round(one_deg_m / 10.0 * NS_PER_S)
    assert np.abs((tr.t_ns - tr.first_ns) - np.array([0, leg_ns, 2 * leg_ns])).max() <= 1  # rounded to the ns
    motion = Motion([tr], [0], REPLAY)
    t = np.array([0, 1000, leg_ns // 4 // NS_PER_S * NS_PER_S, leg_ns, leg_ns + 3_600 * NS_PER_S], dtype=np.int64)
    state = motion.at(t)
    lon_expected = t[:4] / NS_PER_S * 10.0 / one_deg_m
    assert np.allclose(state.lon_deg[:4, 0], lon_expected, atol=1e-12) and np.allclose(state.lat_deg[:4, 0], 0.0, atol=1e-12)
    # Then north along the meridian of 1 degree east.
    assert abs(state.lat_deg[4, 0] - 36_000.0 / one_deg_m) < 1e-12 and abs(state.lon_deg[4, 0] - 1.0) < 1e-12
    assert np.allclose(state.speed_mps[:, 0], 10.0, rtol=1e-12)


def test_a_route_with_times_stops_where_a_place_repeats_and_climbs_linearly():
    at = [REPLAY + dt.timedelta(minutes=m) for m in (0, 10, 30, 40)]
    tr = route_trajectory(
        [{"lat_deg": 50.0, "lon_deg": 8.0, "altitude_m": 0.0, "at": at[0]},
         {"lat_deg": 50.1, "lon_deg": 8.0, "altitude_m": 3000.0, "at": at[1]},
         {"lat_deg": 50.1, "lon_deg": 8.0, "altitude_m": 3000.0, "at": at[2]},  # a 20 min stop
         {"lat_deg": 50.2, "lon_deg": 8.0, "at": at[3]}],
        name="heli", altitude_m=1000.0,
    )
    state = Motion([tr], [0], REPLAY).at(np.array([5, 20, 35], dtype=np.int64) * 60 * NS_PER_S)
    assert state.altitude_km[:, 0].round(12).tolist() == [1.5, 3.0, 2.0]
    assert state.lat_deg[1, 0] == 50.1 and state.speed_mps[1, 0] == 0.0
    assert abs(state.lat_deg[0, 0] - 50.05) < 1e-9


def test_a_repeated_waypoint_at_speed_is_dropped_with_a_note():
    tr = route_trajectory([{"lat_deg": 0.0, "lon_deg": 0.0}, {"lat_deg": 0.0, "lon_deg": 0.0},
                           {"lat_deg": 0.0, "lon_deg": 1.0}], name="s", where="w", speed_kmh=10.0, start_utc=REPLAY)
    assert len(tr) == 2 and tr.notes == ("w: 1 waypoint repeating the previous one dropped",)


@pytest.mark.parametrize("lat", [-89.9, -45.0, 0.0, 33.3, 89.9])
def test_interpolation_matches_the_formulary_on_long_legs(lat):
    # A 4,000 km leg (a route), far from the short legs of a track: the slerp is the great circle.
    a = {"lat_deg": lat, "lon_deg": -170.0, "at": REPLAY}
    b = {"lat_deg": -lat / 2, "lon_deg": 170.0, "at": REPLAY + dt.timedelta(hours=5)}
    tr = route_trajectory([a, b], name="x", max_speed_mps=3000.0)
    f = np.array([0.1, 0.37, 0.5, 0.93])
    state = Motion([tr], [0], REPLAY).at(np.rint(f * 5 * 3600 * NS_PER_S).astype(np.int64))
    for k, fk in enumerate(f):
        lat_e, lon_e = _intermediate_point(a["lat_deg"], a["lon_deg"], b["lat_deg"], b["lon_deg"], fk)
        assert great_circle_m(state.lat_deg[k, 0], state.lon_deg[k, 0], lat_e, lon_e) < ONE_MM_M
