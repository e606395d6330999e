"""Dated service areas (issue 13): a policy's region that switches shapes at exact times, with and without lag,
and moving terminals entering and leaving a deny polygon at exact steps (hand-worked)."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from leonet.constants import NS_PER_S
from leonet.errors import ScenarioError
from leonet.ground.motion import Motion, route_trajectory
from leonet.ground.sites import sites_from_coordinates
from leonet.scenario.load import load_scenario
from leonet.scenario.schema import Scenario
from leonet.scenario.service import PolicySpec
from leonet.service.policy import PolicyEngine

UTC = dt.timezone.utc
T1 = dt.datetime(2022, 2, 24, 3, 0, tzinfo=UTC)
T2 = dt.datetime(2022, 3, 1, 0, 0, tzinfo=UTC)
EPOCH = T1 - dt.timedelta(hours=1)


def _square(lon0, lon1, lat0=0.0, lat1=1.0) -> dict:
    ring = [[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]
    return {"type": "Polygon", "coordinates": [ring]}


def _write(tmp_path, name: str, features: list[tuple[dict, dict]]) -> str:
    doc = {"type": "FeatureCollection",
           "features": [{"type": "Feature", "properties": props, "geometry": geom} for props, geom in features]}
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return str(path)


def _sites(*points):
    return sites_from_coordinates(
        "terminal", [{"id": f"t{k}", "name": f"t{k}", "lat_deg": la, "lon_deg": lo} for k, (la, lo) in enumerate(points)]
    )


def _ns(when: dt.datetime) -> int:
    d = when - EPOCH
    return (d.days * 86_400 + d.seconds) * NS_PER_S + d.microseconds * 1000


@pytest.fixture
def squares(tmp_path):
    a = _write(tmp_path, "a.geojson", [({}, _square(0.0, 1.0))])
    b = _write(tmp_path, "b.geojson", [({}, _square(2.0, 3.0))])
    return a, b


# Terminals in A only, in B only, in neither.
IN_A, IN_B, NEITHER = (0.5, 0.5), (0.5, 2.5), (0.5, 5.5)


@pytest.mark.parametrize("lag_s", [0.0, 90.0, 0.25])
def test_a_dated_sequence_of_shapes_switches_at_the_exact_times(squares, lag_s):
    a, b = squares
    rule = PolicySpec.model_validate({"action": "deny", "lag_s": lag_s,
                                      "region": [{"from": T1, "region": a}, {"from": T2, "region": b}]})
    engine = PolicyEngine([rule], _sites(IN_A, IN_B, NEITHER))
    lag = round(lag_s * NS_PER_S)
    s1, s2 = _ns(T1) + lag, _ns(T2) + lag
    steps = np.array([0, s1 - 1, s1, s2 - 1, s2, s2 + 365 * 86_400 * NS_PER_S], dtype=np.int64)
    denied = engine.denied(steps, EPOCH)
    assert denied.tolist() == [
        [False, False, False],  # before the first shape: the rule is not in force
        [False, False, False],  # 1 ns before the first switch
        [True, False, False],   # at it: shape A
        [True, False, False],
        [False, True, False],   # at the second switch: shape B, and A no more
        [False, True, False],   # the last shape stays
    ]
    assert engine.shape_index(steps, EPOCH)[:, 0].tolist() == [-1, -1, 0, 0, 1, 1]
    assert engine.denying_rule(steps, EPOCH)[2].tolist() == [0, -1, -1]


def test_the_rule_window_still_bounds_a_dated_region(squares):
    a, b = squares
    until = T2 + dt.timedelta(minutes=30)
    rule = PolicySpec.model_validate({"action": "deny", "until": until,
                                      "region": [{"from": T1, "region": a}, {"from": T2, "region": b}]})
    engine = PolicyEngine([rule], _sites(IN_A, IN_B))
    steps = np.array([_ns(T2), _ns(until) - 1, _ns(until)], dtype=np.int64)
    assert engine.denied(steps, EPOCH).tolist() == [[False, True], [False, True], [False, False]]


def test_a_geojson_with_valid_from_and_valid_until_is_a_dated_sequence(tmp_path):
    front = _write(tmp_path, "front.geojson", [
        ({"name": "B", "valid_from": "2022-03-05T00:00:00Z"}, _square(2.0, 3.0)),
        ({"valid_from": "2022-02-24", "valid_until": "2022-03-01"}, _square(0.0, 1.0)),
        ({"valid_from": "2022-02-24", "valid_until": "2022-03-01"}, _square(4.0, 5.0)),  # same window: joined
        ({"valid_from": "2022-04-01T00:00:00+02:00"}, _square(6.0, 7.0)),
    ])
    points = (IN_A, IN_B, (0.5, 4.5), (0.5, 6.5))
    days = lambda d: dt.datetime(2022, 2, 24, tzinfo=UTC) + dt.timedelta(days=d)  # noqa: E731
    start_c = dt.datetime(2022, 3, 31, 22, tzinfo=UTC)
    when = [days(0) - dt.timedelta(seconds=1), days(0), days(5), days(9), start_c - dt.timedelta(microseconds=1), start_c]
    for lag_s in (0.0, 3600.0):
        rule = PolicySpec.model_validate({"action": "deny", "region": front, "lag_s": lag_s})
        engine = PolicyEngine([rule], _sites(*points))
        steps = np.array([_ns(w) + round(lag_s * NS_PER_S) for w in when], dtype=np.int64)
        assert engine.denied(steps, EPOCH).astype(int).tolist() == [
            [0, 0, 0, 0],  # before the first feature
            [1, 0, 1, 0],  # A: the two features of 2022-02-24 .. 03-01
            [0, 0, 0, 0],  # 03-01 .. 03-05: no shape, the rule is not in force
            [0, 1, 0, 0],  # B from 03-05 until the next valid_from
            [0, 1, 0, 0],
            [0, 0, 0, 1],  # 2022-04-01T00:00+02:00 = 03-31T22:00Z
        ], lag_s
    note = [n for n in engine.notes() if "dated shape" in n][0]
    assert "follows 3 dated shapes: from 2022-02-24T00:00:00Z .. 2022-03-01T00:00:00Z, 2022-03-05T00:00:00Z, " \
           "2022-03-31T22:00:00Z, each 3600 s late (lag_s)" in note


def _equator_route():
    """Along the equator from lon 0 to lon 3 in 300 s: lon = 0.01 deg x (seconds since the start)."""
    start = T1
    return route_trajectory(
        [{"lat_deg": 0.0, "lon_deg": 0.0, "at": start}, {"lat_deg": 0.0, "lon_deg": 3.0, "at": start + dt.timedelta(seconds=300)}],
        name="car",
    )


def test_a_moving_terminal_enters_and_leaves_a_deny_polygon_at_the_exact_steps(tmp_path):
    zone = _write(tmp_path, "zone.geojson", [({}, _square(1.005, 2.005, -1.0, 1.0))])
    rule = PolicySpec.model_validate({"action": "deny", "region": zone})
    sites = _sites((0.0, 1.5), (0.0, 0.0))  # a static terminal inside; the moving one at its first fix
    engine = PolicyEngine([rule], sites)
    state = Motion([_equator_route()], [1], EPOCH).at(_ns(T1) + np.arange(0, 301, dtype=np.int64) * NS_PER_S)
    denied = engine.denied(state.offset_ns, EPOCH, state.lat_deg, state.lon_deg, terminals=state.terminals)
    assert denied[:, 0].all()
    # At step k the terminal is at lon 0.01 k: inside (1.005, 2.005) for k = 101 .. 200.
    assert np.flatnonzero(denied[:, 1]).tolist() == list(range(101, 201))
    # Without the positions it would stay at its first fix (outside) all along.
    assert not engine.denied(state.offset_ns, EPOCH)[:, 1].any()


def test_a_moving_terminal_under_a_geofence_that_switches(tmp_path):
    first = _write(tmp_path, "first.geojson", [({}, _square(1.005, 2.005, -1.0, 1.0))])
    second = _write(tmp_path, "second.geojson", [({}, _square(2.505, 2.805, -1.0, 1.0))])
    switch = T1 + dt.timedelta(seconds=140)
    for lag_s, cut in ((0.0, 140), (10.0, 150)):
        rule = PolicySpec.model_validate({"action": "deny", "lag_s": lag_s,
                                          "region": [{"from": T1, "region": first}, {"from": switch, "region": second}]})
        engine = PolicyEngine([rule], _sites((0.0, 0.0)))
        state = Motion([_equator_route()], [0], EPOCH).at(_ns(T1) + np.arange(0, 301, dtype=np.int64) * NS_PER_S)
        denied = engine.denied(state.offset_ns, EPOCH, state.lat_deg, state.lon_deg, terminals=state.terminals)
        # The first shape (lon 1.005..2.005) from T1 + lag (step 0 or 10) to the switch + lag; then the second.
        expected = list(range(101, cut)) + list(range(251, 281))
        assert np.flatnonzero(denied[:, 0]).tolist() == expected, lag_s
        rules = engine.denying_rule(state.offset_ns, EPOCH, state.lat_deg, state.lon_deg, terminals=state.terminals)
        assert set(rules[expected, 0].tolist()) == {0}


def test_moving_terminals_under_an_allow_rule_and_without_a_position(tmp_path):
    zone = _write(tmp_path, "zone.geojson", [({}, _square(1.005, 2.005, -1.0, 1.0))])
    engine = PolicyEngine([PolicySpec.model_validate({"action": "allow", "region": zone})], _sites((0.0, 0.0)))
    steps = _ns(T1) + np.array([50, 150], dtype=np.int64) * NS_PER_S
    lat = np.array([[0.0], [0.0]])
    lon = np.array([[0.5], [1.5]])
    assert engine.denied(steps, EPOCH, lat, lon, terminals=[0]).tolist() == [[True], [False]]
    # No position (NaN) is inside no region: outside the whitelist.  (The run reports no-position first.)
    assert engine.denied(steps, EPOCH, lat, np.array([[np.nan], [1.5]]), terminals=[0]).tolist() == [[True], [False]]


def test_denial_with_positions_does_not_depend_on_chunking(tmp_path):
    first = _write(tmp_path, "first.geojson", [({}, _square(1.005, 2.005, -1.0, 1.0))])
    second = _write(tmp_path, "second.geojson", [({}, _square(2.505, 2.805, -1.0, 1.0))])
    rules = [
        PolicySpec.model_validate({"action": "deny", "lag_s": 7.5, "region": [
            {"from": T1, "region": first}, {"from": T1 + dt.timedelta(seconds=140), "region": second}]}),
        PolicySpec.model_validate({"action": "allow", "region": "country:UA"}),
    ]
    engine = PolicyEngine(rules, _sites((50.45, 30.52), (0.0, 0.0), (45.0, 34.0)))
    motion = Motion([_equator_route()], [1], EPOCH)
    steps = _ns(T1) + np.arange(-20, 320, dtype=np.int64) * 500_000_000
    state = motion.at(steps)
    whole = engine.denying_rule(steps, EPOCH, state.lat_deg, state.lon_deg, terminals=state.terminals)
    parts = []
    for part in np.array_split(steps, 7):
        s = motion.at(part)
        parts.append(engine.denying_rule(part, EPOCH, s.lat_deg, s.lon_deg, terminals=s.terminals))
    assert np.array_equal(np.concatenate(parts), whole)
    assert set(np.unique(whole[:, 1]).tolist()) == {0, 1}  # the moving one: denied by the front, or by the whitelist


# --------------------------------------------------------------------------
# Errors and the scenario
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "features,words",
    [
        ([({"valid_from": "2022-02-24"}, _square(0, 1)), ({}, _square(2, 3))],
         ["features[1] has no valid_from while other features are dated"]),
        ([({"valid_from": "24.02.2022"}, _square(0, 1))],
         ["features[0].properties.valid_from = '24.02.2022' is not an ISO 8601 UTC time"]),
        ([({"valid_from": "2022-03-01", "valid_until": "2022-02-24"}, _square(0, 1))],
         ["features[0]: valid_until = 2022-02-24T00:00:00Z is not after valid_from = 2022-03-01T00:00:00Z"]),
        ([({"valid_from": "2022-02-24", "valid_until": "2022-03-10"}, _square(0, 1)),
          ({"valid_from": "2022-03-01"}, _square(2, 3))],
         ["features[0] (valid 2022-02-24T00:00:00Z .. 2022-03-10T00:00:00Z) overlaps features[1] (valid from "
          "2022-03-01T00:00:00Z); a dated region has one shape at a time"]),
        ([({"valid_from": "2022-02-24"}, {"type": "LineString", "coordinates": [[0, 0], [1, 1]]})],
         ["features[0] is a LineString, but a region must be an area"]),
    ],
)
def test_bad_dated_geojson_names_the_feature(tmp_path, features, words):
    path = _write(tmp_path, "front.geojson", features)
    with pytest.raises(ScenarioError) as info:
        PolicyEngine([PolicySpec.model_validate({"action": "deny", "region": path})], _sites(IN_A))
    message = str(info.value)
    assert message.startswith(f"policies[0].region: {path}: ") and message.endswith(f"(got {path!r})")
    for w in words:
        assert w in message


def test_lag_needs_a_dated_region(squares):
    a, _ = squares
    with pytest.raises(ValueError, match="lag_s = 60 delays the switches of a dated region, but region = 'crimea'"):
        PolicySpec.model_validate({"action": "deny", "region": "crimea", "lag_s": 60})
    with pytest.raises(ValueError, match="never switches"):
        PolicySpec.model_validate({"action": "deny", "lag_s": 60})
    rule = PolicySpec.model_validate({"action": "deny", "region": a, "lag_s": 60})  # a file: known when read
    with pytest.raises(ScenarioError, match=r"policies\[0\].region: lag_s = 60 .* has no dated features"):
        PolicyEngine([rule], _sites(IN_A))


def test_positions_of_the_wrong_shape_are_refused(squares):
    a, _ = squares
    engine = PolicyEngine([PolicySpec.model_validate({"action": "deny", "region": a})], _sites(IN_A, IN_B))
    with pytest.raises(ScenarioError, match=r"must be \[T, M\] = \(2, 1\)"):
        engine.denied(np.zeros(2, dtype=np.int64), EPOCH, np.zeros((2, 2)), np.zeros((2, 2)), terminals=[1])


SCENARIO = """\
[time]
start_utc = 2022-02-24T00:00:00Z
duration_s = 60
[[constellations]]
kind = "builtin"
builtin = "starlink-550"
"""


def test_the_scenario_takes_a_dated_region_inline_or_as_tables(tmp_path, squares):
    inline = SCENARIO + f"""
[[policies]]
action = "deny"
lag_s = 3600
region = [{{ from = 2022-02-24T03:00:00Z, region = "a.geojson" }}, {{ from = 2022-03-01, region = "crimea" }}]
"""
    tables = SCENARIO + """
[[policies]]
action = "deny"
lag_s = 3600
[[policies.region]]
from = 2022-02-24T03:00:00Z
region = "a.geojson"
[[policies.region]]
from = 2022-03-01
region = "crimea"
"""
    specs = []
    for k, text in enumerate((inline, tables)):
        path = tmp_path / f"s{k}.toml"
        path.write_text(text, encoding="utf-8")
        loaded = load_scenario(path)
        specs.append(loaded.spec.policies[0])
        assert loaded.input_paths() == {"policies[0].region[0].region": tmp_path / "a.geojson"}
        # The manifest's JSON validates again to the same scenario (workers, resume).
        assert Scenario.model_validate(loaded.spec.model_dump(mode="json", by_alias=True)) == loaded.spec
    assert specs[0] == specs[1]
    assert specs[0].label() == "deny a dated region of 2 shapes from 2022-02-24T03:00:00Z"
    bad = SCENARIO + """
[[policies]]
action = "deny"
region = [{ from = 2022-03-01, region = "crimea" }, { from = 2022-02-24, region = "a.geojson" }]
"""
    path = tmp_path / "bad.toml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert ("policies[0].region: region[1].from = 2022-02-24T00:00:00Z is not after region[0].from = "
            "2022-03-01T00:00:00Z") in str(info.value)


def test_a_bad_region_inside_a_dated_list_names_its_entry(squares):
    a, _ = squares
    rule = PolicySpec.model_validate({"action": "deny", "region": [{"from": T1, "region": a},
                                                                   {"from": T2, "region": "oblast:Harkiv"}]})
    with pytest.raises(ScenarioError) as info:
        PolicyEngine([rule], _sites(IN_A))
    assert "policies[0].region[1].region" in str(info.value) and "Kharkiv" in str(info.value)
