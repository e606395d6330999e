"""Fleets: terminals, active windows, demand profiles, sponsors per step, availability."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from leonet.constants import NS_PER_S
from leonet.errors import ScenarioError
from leonet.service.fleets import (
    Fleets,
    availability,
    availability_by_fleet,
    fleet_terminal_count,
    ns_since,
    window_ns,
)
from leonet.scenario.service import FleetSpec, parse_service_tables

UTC = dt.timezone.utc
EPOCH = dt.datetime(2023, 6, 15, 23, 0, tzinfo=UTC)
MINUTE_NS = 60 * NS_PER_S


def _specs(*tables) -> list[FleetSpec]:
    return parse_service_tables({"fleets": list(tables)}).fleets


def _two_city_fleet(fleet_table, **changes):
    sites = [{"name": "Kyiv", "lat_deg": 50.45, "lon_deg": 30.52}, {"name": "Lviv", "lat_deg": 49.84, "lon_deg": 24.03}]
    return fleet_table(terminals=[{"kind": "coordinates", "sites": sites}], **changes)


def test_ids_fleet_index_and_counts(fleet_table):
    specs = _specs(_two_city_fleet(fleet_table), fleet_table(name="second"))
    fleets = Fleets.build(specs, seed=1)
    assert fleets.terminals.ids == ["donated/terminal:Kyiv", "donated/terminal:Lviv", "second/terminal:Kyiv"]
    assert fleets.fleet_of_terminal.tolist() == [0, 0, 1]
    assert fleets.terminal_counts() == {"donated": 2, "second": 1}
    assert fleets.names == ["donated", "second"]
    assert fleets.sponsor_names == ("SpaceX (donation)",)
    assert [fleet_terminal_count(s) for s in specs] == [2, 1]


def test_sampled_terminals_are_seeded_per_fleet(fleet_table):
    sample = [{"kind": "sample", "region": "oblast:Kharkiv", "count": 5}]
    a = fleet_table(name="a", terminals=sample)
    b = fleet_table(name="b", terminals=sample)
    one = Fleets.build(_specs(a, b), seed=3)
    again = Fleets.build(_specs(a, b), seed=3)
    swapped = Fleets.build(_specs(b, a), seed=3)
    other_seed = Fleets.build(_specs(a, b), seed=4)
    lat = one.terminals.lat_deg
    np.testing.assert_array_equal(lat, again.terminals.lat_deg)
    # Reordering fleets does not move a fleet's terminals; two fleets sample differently.
    np.testing.assert_array_equal(lat[:5], swapped.terminals.lat_deg[5:])
    assert not np.array_equal(lat[:5], lat[5:])
    assert not np.array_equal(lat, other_seed.terminals.lat_deg)
    assert one.terminals.ids[0] == "a/sample0:0"


def test_cities_source_count_matches(fleet_table):
    spec = _specs(fleet_table(terminals=[{"kind": "cities", "country_iso2": "UA", "limit": 5}]))[0]
    fleets = Fleets.build([spec], seed=0)
    assert len(fleets.terminals) == fleet_terminal_count(spec) == 5


def test_a_source_that_selects_nothing_names_its_path(fleet_table):
    spec = _specs(fleet_table(terminals=[{"kind": "cities", "country_iso2": "UA", "min_population": 10**9}]))[0]
    with pytest.raises(ScenarioError) as info:
        Fleets.build([spec], seed=0)
    assert "fleets[0].terminals[0]" in str(info.value) and "fix:" in str(info.value)
    with pytest.raises(ScenarioError, match="no \\[\\[fleets\\]\\]"):
        Fleets.build([], seed=0)


def test_active_window_edges_are_exact(fleet_table):
    # Active from 2023-06-16 00:00:30 UTC until 2023-06-16 01:00:00 UTC; epoch 2023-06-15 23:00.
    spec = fleet_table(
        active_from=dt.datetime(2023, 6, 16, 0, 0, 30),
        active_until=dt.datetime(2023, 6, 16, 1, 0),
        sponsors=[{"sponsor": "a", "from": dt.date(2023, 6, 1)}],
    )
    fleets = Fleets.build(_specs(spec), seed=0)
    offsets = np.arange(0, 180, dtype=np.int64) * MINUTE_NS  # one step per minute for 3 h
    active = fleets.active(offsets, EPOCH)
    assert active.shape == (180, 1) and active.dtype == bool
    on = np.flatnonzero(active[:, 0])
    # 00:00:30 is 60.5 min after the epoch: the first active step is minute 61; 01:00 is minute 120, excluded.
    assert on[0] == 61 and on[-1] == 119 and on.size == 59
    # A step exactly at active_from is active.
    exact = np.array([ns_since(EPOCH, dt.datetime(2023, 6, 16, 0, 0, 30, tzinfo=UTC))], dtype=np.int64)
    assert fleets.active(exact, EPOCH).tolist() == [[True]]
    assert fleets.active(exact - 1, EPOCH).tolist() == [[False]]


def test_demand_follows_the_daily_profile_in_local_time(fleet_table):
    profile = [float(h) / 10 for h in range(24)]  # hour h -> h/10
    spec = fleet_table(daily_profile=profile, profile_utc_offset_h=3, demand_mbps=20.0)
    fleets = Fleets.build(_specs(spec), seed=0)
    epoch = dt.datetime(2023, 6, 10, 12, 30, tzinfo=UTC)
    offsets = np.array([0, 29, 30, 90, 12 * 60], dtype=np.int64) * MINUTE_NS
    got = fleets.demand_bps(offsets, epoch)[:, 0]
    # Local (UTC+3) times: 15:30, 15:59, 16:00, 17:00, 03:30 next day.
    want = 20e6 * np.array([1.5, 1.5, 1.6, 1.7, 0.3])
    np.testing.assert_allclose(got, want, rtol=1e-15)


def test_demand_is_zero_when_inactive_and_flat_without_profile(fleet_table):
    fleets = Fleets.build(_specs(fleet_table(demand_mbps=5.0)), seed=0)
    epoch = dt.datetime(2023, 6, 30, 23, 59, tzinfo=UTC)  # one minute before active_until
    got = fleets.demand_bps(np.array([0, MINUTE_NS], dtype=np.int64), epoch)
    assert got.tolist() == [[5e6], [0.0]]


def test_sponsor_index_switches_at_the_exact_instant(fleet_table):
    spec = _two_city_fleet(
        fleet_table,
        sponsors=[{"sponsor": "donor", "from": dt.date(2023, 6, 1)}, {"sponsor": "government", "from": dt.date(2023, 6, 16)}],
    )
    fleets = Fleets.build(_specs(spec), seed=0)
    # The epoch is 23:00 on 15 June: the switch is 60 min later.
    offsets = np.array([0, 60 * MINUTE_NS - 1, 60 * MINUTE_NS], dtype=np.int64)
    got = fleets.sponsor_index(offsets, EPOCH)
    assert fleets.sponsor_names == ("donor", "government")
    assert got.dtype == np.int16 and got.shape == (3, 2)
    assert got.tolist() == [[0, 0], [0, 0], [1, 1]]
    late = fleets.sponsor_index(np.array([ns_since(EPOCH, dt.datetime(2023, 7, 1, tzinfo=UTC))], dtype=np.int64), EPOCH)
    assert late.tolist() == [[-1, -1]]


def test_availability_leaves_inactive_terminal_steps_out():
    served = np.array([[True, False, False], [True, True, False]])
    active = np.array([[True, True, False], [True, True, False]])
    # 4 active terminal-steps, 3 of them served; the inactive third terminal is not a failure.
    assert availability(served, active) == 0.75
    assert np.isnan(availability(served, np.zeros_like(active)))
    by_fleet = availability_by_fleet(served, active, np.array([0, 1, 2]), 3)
    assert by_fleet[0] == 1.0 and by_fleet[1] == 0.5 and np.isnan(by_fleet[2])
    with pytest.raises(ScenarioError, match="shape"):
        availability(served, active[:1])


def test_window_ns_open_ends():
    epoch = dt.datetime(2026, 1, 1, tzinfo=UTC)
    lo, hi = window_ns(epoch, None, None)
    assert lo == np.iinfo(np.int64).min and hi == np.iinfo(np.int64).max
    assert window_ns(epoch, dt.datetime(2026, 1, 1, 0, 0, 1, 5, tzinfo=UTC), None)[0] == NS_PER_S + 5000
    assert window_ns(epoch, None, dt.datetime(2025, 12, 31, tzinfo=UTC))[1] == -86_400 * NS_PER_S
