"""Service-area policies: exact window edges, exact borders, deny wins, overlaps reported."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point

from leonet.constants import NS_PER_S
from leonet.errors import ScenarioError
from leonet.ground.regions import load_region
from leonet.ground.sites import MEAN_EARTH_RADIUS_KM, sites_from_coordinates
from leonet.service.policy import PolicyEngine
from leonet.scenario.service import PolicySpec

UTC = dt.timezone.utc
EPOCH = dt.datetime(2022, 3, 1, tzinfo=UTC)
STEP_NS = 60 * NS_PER_S
ONE_METER_KM = 1e-3

SIMFEROPOL = {"name": "Simferopol", "lat_deg": 44.952, "lon_deg": 34.102}
KYIV = {"name": "Kyiv", "lat_deg": 50.450, "lon_deg": 30.524}
WARSAW = {"name": "Warsaw", "lat_deg": 52.230, "lon_deg": 21.012}


def _rule(**kw) -> PolicySpec:
    return PolicySpec.model_validate(kw)


def _sites(*rows):
    return sites_from_coordinates("terminal", [dict(r, id=f"t{k}") for k, r in enumerate(rows)])


def _destination(lat_deg: float, lon_deg: float, bearing_rad: float, distance_km: float) -> tuple[float, float]:
    """Direct geodesic problem on the mean-radius sphere (Williams, Aviation Formulary, "Lat/lon given radial and distance").

    Over 1 m the sphere and the WGS84 ellipsoid differ in distance by < 0.7 %
    (their radii of curvature differ by at most that), i.e. < 7 mm.
    """
    d = distance_km / MEAN_EARTH_RADIUS_KM
    lat1, lon1 = math.radians(lat_deg), math.radians(lon_deg)
    lat2 = math.asin(math.sin(lat1) * math.cos(d) + math.cos(lat1) * math.sin(d) * math.cos(bearing_rad))
    lon2 = lon1 + math.atan2(math.sin(bearing_rad) * math.sin(d) * math.cos(lat1), math.cos(d) - math.sin(lat1) * math.sin(lat2))
    return math.degrees(lat2), math.degrees(lon2)


def _local_m(lat0: float, lon0: float, lat: float, lon: float) -> tuple[float, float]:
    """East/north metres of (lat, lon) from (lat0, lon0), equirectangular about lat0 (exact enough over metres)."""
    k = math.radians(1.0) * MEAN_EARTH_RADIUS_KM * 1000.0
    return (lon - lon0) * math.cos(math.radians(lat0)) * k, (lat - lat0) * k


def _points_across_an_edge(region, distance_km: float):
    """Points `distance_km` outside and inside the middle of the longest border edge, and that edge."""
    geom = region.geometry
    polys = list(shapely.get_parts(geom))
    ring = max(polys, key=lambda p: p.area).exterior
    xy = np.asarray(ring.coords)
    seg = np.hypot(np.diff(xy[:, 0]) * np.cos(np.radians(xy[:-1, 1])), np.diff(xy[:, 1]))
    k = int(np.argmax(seg))
    (lon_a, lat_a), (lon_b, lat_b) = xy[k], xy[k + 1]
    lon_m, lat_m = (lon_a + lon_b) / 2, (lat_a + lat_b) / 2
    # The edge is straight in lon/lat (plate carree); in local metres about its midpoint it is
    # still straight (an affine map), so its normal there is the perpendicular in metres.
    ex, ny = _local_m(lat_m, lon_m, lat_b, lon_b)
    normal_bearing = math.atan2(-ny, ex)  # bearing (from north, clockwise) of the right-hand normal
    out_lat, out_lon = _destination(lat_m, lon_m, normal_bearing, distance_km)
    if region.contains(out_lat, out_lon):
        normal_bearing += math.pi
        out_lat, out_lon = _destination(lat_m, lon_m, normal_bearing, distance_km)
    in_lat, in_lon = _destination(lat_m, lon_m, normal_bearing + math.pi, distance_km)
    edge = LineString([(lon_a, lat_a), (lon_b, lat_b)])
    return (out_lat, out_lon), (in_lat, in_lon), edge, (lat_m, lon_m)


def test_one_meter_outside_the_border_is_not_denied():
    crimea = load_region("crimea")
    (out_lat, out_lon), (in_lat, in_lon), edge, (lat_m, lon_m) = _points_across_an_edge(crimea, ONE_METER_KM)
    # Check the construction with shapely: outside / inside, and 1 m from the edge (in local metres).
    assert not crimea.geometry.contains(Point(out_lon, out_lat))
    assert crimea.geometry.contains(Point(in_lon, in_lat))
    ax, ay = _local_m(lat_m, lon_m, edge.coords[0][1], edge.coords[0][0])
    bx, by = _local_m(lat_m, lon_m, edge.coords[1][1], edge.coords[1][0])
    assert math.hypot(bx - ax, by - ay) > 100.0  # a long edge: its middle is far from any vertex
    for lat, lon in ((out_lat, out_lon), (in_lat, in_lon)):
        px, py = _local_m(lat_m, lon_m, lat, lon)
        dist_m = LineString([(ax, ay), (bx, by)]).distance(Point(px, py))
        assert dist_m == pytest.approx(1.0, abs=0.01)
    # The nearest border point of the outside point is on this edge: the 1 m is 1 m from the polygon.
    gap_deg = crimea.geometry.boundary.distance(Point(out_lon, out_lat))
    assert gap_deg == pytest.approx(edge.distance(Point(out_lon, out_lat)), rel=1e-9)

    sites = _sites(
        {"name": "outside", "lat_deg": out_lat, "lon_deg": out_lon},
        {"name": "inside", "lat_deg": in_lat, "lon_deg": in_lon},
        SIMFEROPOL,
    )
    engine = PolicyEngine([_rule(action="deny", region="crimea")], sites)
    assert engine.denied(np.array([0], dtype=np.int64), EPOCH).tolist() == [[False, True, True]]


@pytest.mark.parametrize(
    "start_s,end_s,first,last",
    [
        (600, 3000, 10, 49),  # from exactly on step 10; until exactly on step 50 (excluded)
        (630, 3001, 11, 50),  # from between steps 10 and 11; until just after step 50
        (599, 2999, 10, 49),  # from just before step 10; until just before step 50
    ],
)
def test_window_edges_are_exact(start_s, end_s, first, last):
    # Steps every 60 s; first denied step = first step >= from, last = last step < until.
    rule = _rule(
        action="deny", region="crimea",
        **{"from": EPOCH + dt.timedelta(seconds=start_s), "until": EPOCH + dt.timedelta(seconds=end_s)},
    )
    sites = _sites(SIMFEROPOL, KYIV)
    engine = PolicyEngine([rule], sites)
    offsets = np.arange(100, dtype=np.int64) * STEP_NS
    denied = engine.denied(offsets, EPOCH)
    assert denied.shape == (100, 2) and denied.dtype == bool
    steps = np.flatnonzero(denied[:, 0])
    assert steps[0] == first and steps[-1] == last and steps.size == last - first + 1
    assert not denied[:, 1].any()
    # A step one nanosecond before `from` is allowed; one at `from` is denied.
    edge = np.array([start_s * NS_PER_S - 1, start_s * NS_PER_S, end_s * NS_PER_S - 1, end_s * NS_PER_S], dtype=np.int64)
    assert engine.denied(edge, EPOCH)[:, 0].tolist() == [False, True, True, False]


def test_deny_wins_over_allow_and_the_overlap_is_reported():
    rules = [
        _rule(action="deny", region="crimea", **{"from": "2022-02-26"}),
        _rule(action="allow", region="country:UA", fleets=["donated"]),
    ]
    sites = _sites(SIMFEROPOL, KYIV, WARSAW, WARSAW | {"name": "Warsaw office"})
    fleet_of = np.array([0, 0, 0, 1])
    engine = PolicyEngine(rules, sites, fleet_of, fleet_names=["donated", "other"])
    denied = engine.denied(np.array([0], dtype=np.int64), EPOCH)
    # Simferopol: in both rules, deny wins.  Kyiv: allowed.  Warsaw (donated): outside the
    # whitelist.  Warsaw (other fleet): no allow rule names its fleet, so allowed by default.
    assert denied.tolist() == [[True, False, True, False]]
    assert engine.denying_rule(np.array([0], dtype=np.int64), EPOCH).tolist() == [[0, -1, 1, -1]]
    (note,) = engine.conflicts()
    assert note == (
        "policies[0] (deny crimea) and policies[1] (allow country:UA) overlap for fleet 'donated' from "
        "2022-02-26T00:00:00Z on; deny wins: the 1 terminal in both is denied"
    )
    assert (
        "policies[1] (allow country:UA) is a whitelist: 1 terminal of its fleets lies outside its region and is denied "
        "all the time unless another allow rule in force covers it"
    ) in engine.notes()
    # Before the deny rule starts, Simferopol is inside the whitelist and served.
    before = np.array([ns_before(dt.datetime(2022, 2, 26, tzinfo=UTC))], dtype=np.int64)
    assert engine.denied(before, EPOCH).tolist() == [[False, False, True, False]]


def ns_before(when: dt.datetime) -> int:
    return int((when - EPOCH).total_seconds()) * NS_PER_S - 1


def test_no_overlap_reported_for_disjoint_time_fleets_or_areas():
    sites = _sites(SIMFEROPOL, KYIV)
    cases = [
        # disjoint windows
        [_rule(action="deny", region="crimea", until="2022-03-01"), _rule(action="allow", region="country:UA", **{"from": "2022-03-01"})],
        # disjoint fleets
        [_rule(action="deny", region="crimea", fleets=["a"]), _rule(action="allow", region="country:UA", fleets=["b"])],
        # areas that do not overlap (Crimea and Kharkiv oblast)
        [_rule(action="deny", region="crimea"), _rule(action="allow", region="oblast:Kharkiv")],
        # same action
        [_rule(action="deny", region="crimea"), _rule(action="deny", region="country:UA")],
    ]
    for rules in cases:
        engine = PolicyEngine(rules, sites, np.array([0, 1]), fleet_names=["a", "b"])
        assert engine.conflicts() == [], rules


def test_rule_without_region_or_window_applies_everywhere_always():
    sites = _sites(SIMFEROPOL, KYIV, WARSAW)
    engine = PolicyEngine([_rule(action="deny", fleets=["cut-off"])], sites, np.array([0, 0, -1]), fleet_names=["cut-off"])
    denied = engine.denied(np.array([-10**18, 0, 10**18], dtype=np.int64), EPOCH)
    # The terminal in no fleet (-1) is untouched by a rule that names fleets.
    assert denied.tolist() == [[True, True, False]] * 3


def test_results_do_not_depend_on_chunking():
    rules = [
        _rule(action="deny", region="crimea", **{"from": EPOCH + dt.timedelta(minutes=13)}),
        _rule(action="allow", region="country:UA", until=EPOCH + dt.timedelta(minutes=71)),
    ]
    sites = _sites(SIMFEROPOL, KYIV, WARSAW)
    engine = PolicyEngine(rules, sites)
    offsets = np.arange(100, dtype=np.int64) * STEP_NS
    whole = engine.denied(offsets, EPOCH)
    for size in (1, 7, 33):
        parts = [engine.denied(offsets[i : i + size], EPOCH) for i in range(0, 100, size)]
        np.testing.assert_array_equal(np.concatenate(parts), whole)
    # And the same grid seen from a later epoch gives the same answer.
    later = EPOCH + dt.timedelta(minutes=5)
    np.testing.assert_array_equal(engine.denied(offsets - 5 * STEP_NS, later), whole)


def test_unknown_fleet_and_bad_region_name_the_rule():
    sites = _sites(KYIV)
    with pytest.raises(ScenarioError) as info:
        PolicyEngine([_rule(action="deny", fleets=["donatd"])], sites, np.array([0]), fleet_names=["donated"])
    message = str(info.value)
    assert "policies[0].fleets[0]" in message and "'donatd'" in message and "did you mean 'donated'" in message
    with pytest.raises(ScenarioError) as info:
        PolicyEngine([_rule(action="allow"), _rule(action="deny", region="oblast:Harkiv")], sites)
    message = str(info.value)
    assert "policies[1].region" in message and "(got 'oblast:Harkiv')" in message and "Kharkiv" in message


def test_no_rules_and_empty_chunks():
    sites = _sites(KYIV, WARSAW)
    engine = PolicyEngine([], sites)
    assert engine.denied(np.arange(3, dtype=np.int64), EPOCH).tolist() == [[False, False]] * 3
    engine = PolicyEngine([_rule(action="deny")], sites)
    assert engine.denied(np.empty(0, dtype=np.int64), EPOCH).shape == (0, 2)
