"""Home PoPs as Starlink assigns them (country/region), the user's overrides, and the fallbacks."""

from __future__ import annotations

import numpy as np
import pytest

from leonet.cli import main
from leonet.errors import ScenarioError
from leonet.ground.pops import check_pop_overrides, home_pops, pop_assignment_table
from leonet.ground.sites import load_pops, sites_from_coordinates
from tests.scenes import toy_scenario

PLACES = [
    {"name": "Kyiv", "lat_deg": 50.45, "lon_deg": 30.52},
    {"name": "Victoria", "lat_deg": 48.43, "lon_deg": -123.37},
    {"name": "Munich", "lat_deg": 48.14, "lon_deg": 11.58},
    {"name": "Saint-Denis (Reunion)", "lat_deg": -20.88, "lon_deg": 55.45},
    {"name": "mid-Atlantic", "lat_deg": 30.0, "lon_deg": -40.0},
]


@pytest.fixture(scope="module")
def terminals():
    return sites_from_coordinates("terminal", PLACES)


@pytest.fixture(scope="module")
def pops():
    return load_pops(catalog="2026-10")


def _ids(pops, home):
    return [pops.ids[i] for i in home]


def test_terminals_go_to_the_pop_of_their_country_or_region(terminals, pops):
    home, notes = home_pops(terminals, pops)
    table = pop_assignment_table()
    got = _ids(pops, home)
    assert got[0] == table[("UA", "")] == "wrswpol1"  # Ukraine exits in Warsaw, not the nearest PoP
    assert got[1] == table[("CA", "CA-BC")] == "sttlwax1"  # the Victoria dish's PoP in the LENS data
    assert got[2] == table[("DE", "")]
    # Reunion is France in the borders but its own country (RE) in Starlink's feed.
    assert got[3] == table[("RE", "")]
    # At sea: no country, the nearest PoP, and a note says so.
    assert any("no Starlink assignment" in n and "(no country)" in n for n in notes)


def test_an_assigned_pop_missing_from_the_run_falls_back_to_the_nearest_with_a_note(terminals):
    some = load_pops(catalog="2026-10", names=["FRA", "LHR"])
    home, notes = home_pops(terminals.subset(np.array([True, False, False, False, False])), some)
    assert _ids(some, home) == ["frntdeu1"]  # Warsaw absent: Frankfurt is nearer to Kyiv than London
    assert any("wrswpol1" in n and "not among the run's PoPs" in n for n in notes)


def test_overrides_replace_the_assignment_a_region_winning_over_its_country(terminals, pops):
    home, _ = home_pops(terminals, pops, {"UA": "FRA", "ca": "frntdeu1", "CA-BC": "LHR"})
    got = _ids(pops, home)
    fra, lhr = load_pops(names=["FRA"]).ids[0], load_pops(names=["LHR"]).ids[0]
    assert got[0] == fra and got[1] == lhr
    # A country's override reaches its regions the shipped table splits it into.
    regional = next(c for c, r in pop_assignment_table() if r)
    assert check_pop_overrides({regional: "FRA"}, pops) == {regional: pops.ids.index(fra)}


def test_a_country_missing_from_one_snapshot_borrows_the_nearest_other_snapshots_entry(pops):
    # Saint Helena is not in the 2025-12 feed; in 2026-10 it exits at Lagos: a 2025-12 run uses that,
    # not the nearest PoP nor a rule.  A country present in the snapshot keeps its own entry.
    jamestown = sites_from_coordinates("terminal", [{"name": "Jamestown SH", "lat_deg": -15.92, "lon_deg": -5.72},
                                                    {"name": "Dakar", "lat_deg": 14.69, "lon_deg": -17.44}])
    assert ("SH", "") not in pop_assignment_table("2025-12")
    home, notes = home_pops(jamestown, pops, snapshot="2025-12")
    assert _ids(pops, home) == [pop_assignment_table("2026-10")[("SH", "")], pop_assignment_table("2025-12")[("SN", "")]]
    assert _ids(pops, home) == ["lgosnga1", "lgosnga1"] and not any("no Starlink assignment" in n for n in notes)
    assert _ids(pops, home_pops(jamestown, pops, snapshot="2026-10")[0]) == ["lgosnga1", "dkrrsen1"]


def test_a_dependency_missing_from_the_feed_takes_its_sovereigns_pop(pops):
    # Norfolk Island (NF, an Australian dependency) is not in Starlink's feed: it is served as Australia,
    # not from the nearest PoP (Auckland); an override of the sovereign reaches it, its own wins.
    norfolk = sites_from_coordinates("terminal", [{"name": "Kingston NF", "lat_deg": -29.05, "lon_deg": 167.96}])
    assert ("NF", "") not in pop_assignment_table()
    home, notes = home_pops(norfolk, pops)
    # Australia is assigned by state: Norfolk Island is served like a state the feed does not list, from the
    # nearest of Australia's state PoPs (Brisbane 1,450 km, Sydney 1,680 km), not from Auckland (1,060 km).
    assert _ids(pops, home) == ["brseaus1"] and "brseaus1" in {s for (c, r), s in pop_assignment_table().items()
                                                             if c == "AU" and r}
    assert not any("no Starlink assignment" in n for n in notes)
    assert _ids(pops, home_pops(norfolk, pops, {"AU": "brseaus1"})[0]) == ["brseaus1"]
    assert _ids(pops, home_pops(norfolk, pops, {"AU": "brseaus1", "NF": "acklnzl1"})[0]) == ["acklnzl1"]
    # A disputed territory does not get a sovereign's PoP by this rule.
    from leonet.ground.regions import sovereign_of_dependencies

    assert "PS" not in sovereign_of_dependencies() and "FK" not in sovereign_of_dependencies()


def test_a_region_the_feed_does_not_list_exits_at_the_nearest_of_its_countrys_regional_pops(pops):
    # Australia is split by state in both snapshots; Christmas and Cocos Islands (Australian territories in the
    # borders, no state) and South Australia are not listed: each takes the nearest PoP the listed states exit
    # at (Perth 2,600 km from Christmas Island; Melbourne 650 km from Adelaide), not the country's most
    # frequent PoP (Sydney); `HomeLocator` agrees point for point.
    from leonet.ground.pops import HomeLocator

    places = [("Flying Fish Cove CX", -10.49, 105.62), ("West Island CC", -12.19, 96.83),
              ("Adelaide", -34.93, 138.60), ("Sydney", -33.87, 151.21)]
    t = sites_from_coordinates("terminal", [{"name": n, "lat_deg": a, "lon_deg": b} for n, a, b in places])
    for snapshot in ("2025-12", "2026-10"):
        table = pop_assignment_table(snapshot)
        assert table[("AU", "")] == "sydyaus1" and ("AU", "AU-SA") not in table
        home, notes = home_pops(t, pops, snapshot=snapshot)
        assert _ids(pops, home) == ["prthaus1", "prthaus1", "mlbeaus1", table[("AU", "AU-NSW")]]
        assert not notes
        where = HomeLocator(pops, snapshot=snapshot)
        assert where.home_at([p[1] for p in places], [p[2] for p in places]).tolist() == home.tolist()
    # A country's override replaces the rule with its PoP everywhere in it.
    assert _ids(pops, home_pops(t, pops, {"AU": "sydyaus1"})[0]) == ["sydyaus1"] * 4


@pytest.mark.parametrize(
    "overrides,needles",
    [
        ({"UK": "FRA"}, ["'UK' is no ISO 3166-1", "GB"]),
        ({"Ukraine": "FRA"}, ["'Ukraine' is no ISO 3166-1"]),
        ({"US-ZZ": "FRA"}, ["'US-ZZ'"]),
        ({"UA": "XYZ"}, ["country_pop.UA", "no PoP 'XYZ'"]),
    ],
)
def test_bad_overrides_name_the_key_and_value(pops, overrides, needles):
    with pytest.raises(ScenarioError) as info:
        check_pop_overrides(overrides, pops)
    for needle in needles:
        assert needle in str(info.value)


def test_a_bad_override_in_a_scenario_exits_2_at_validate(tmp_path, capsys):
    path = tmp_path / "s.toml"
    text = toy_scenario(duration_s=30)
    assert "[ground.pops]" in text
    path.write_text(text.replace("[ground.pops]", '[ground.pops]\ncountry_pop = {UA = "WAW"}'))
    with pytest.raises(SystemExit) as info:
        main(["validate", str(path)])
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert str(path) in err and "country_pop.UA" in err and "'WAW'" in err


# ----------------------------------------------------------------------------- assignment snapshots

DAKAR = [{"name": "Dakar", "lat_deg": 14.69, "lon_deg": -17.45}]


def test_the_2025_12_table_loads_and_senegal_moved_to_dakar_by_2026_10(pops):
    from leonet.ground.pops import POP_ASSIGNMENT_SNAPSHOTS
    from leonet.scenario.catalog import POP_ASSIGNMENT_NAMES

    assert POP_ASSIGNMENT_NAMES == ("auto", *POP_ASSIGNMENT_SNAPSHOTS)
    old, new = pop_assignment_table("2025-12"), pop_assignment_table("2026-10")
    assert len(old) > 150 and old[("UA", "")] == new[("UA", "")] == "wrswpol1"
    # West Africa before the Dakar PoP: Senegal exits at Lagos, Mali at Madrid (geofeed 2025-12-15).
    assert (old[("SN", "")], old[("ML", "")]) == ("lgosnga1", "mdrdesp1")
    assert new[("SN", "")] == "dkrrsen1"
    assert pop_assignment_table() == new  # no snapshot: the newest
    t = sites_from_coordinates("terminal", DAKAR)
    assert _ids(pops, home_pops(t, pops, snapshot="2025-12")[0]) == ["lgosnga1"]
    assert _ids(pops, home_pops(t, pops, snapshot="2026-10")[0]) == ["dkrrsen1"]


@pytest.mark.parametrize(
    "start,choice,expected",
    [
        ("2025-12-01T00:00:00Z", "auto", "lgosnga1"),  # the month of the calibration medians
        ("2026-05-30T12:00:00Z", "auto", "lgosnga1"),  # newest snapshot not after the start: 2025-12
        ("2026-10-01T00:00:00Z", "auto", "dkrrsen1"),  # same month as the 2026-10-08 snapshot
        ("2024-01-01T00:00:00Z", "auto", "lgosnga1"),  # before every snapshot: the oldest
        ("2025-12-01T00:00:00Z", "2026-10", "dkrrsen1"),  # an explicit snapshot wins over the date
    ],
)
def test_a_scenario_homes_a_senegal_terminal_at_the_pop_of_its_date(start, choice, expected):
    from leonet.engine.network import NetworkModel
    from leonet.orbits.constellation import walker_constellation
    from leonet.orbits.walker import WalkerShell
    from leonet.scenario.schema import PopSpec
    from leonet.timebase import parse_utc

    epoch = parse_utc(start)
    shell = WalkerShell("toy", 1200.0, 53.0, 3, 8, phase_factor=1, min_elevation_deg=10.0)
    pops_ = load_pops(catalog="2026-10", names=["LOS", "MAD", "dkrrsen1", "FRA"])
    gateway = sites_from_coordinates("gateway", [{"name": "Thies", "lat_deg": 14.79, "lon_deg": -16.93}])
    model = NetworkModel(walker_constellation("toy", [shell], epoch), sites_from_coordinates("terminal", DAKAR),
                         gateway, pops_, pop_spec=PopSpec(assignment_snapshot=choice), epoch_utc=epoch)
    assert model.assignment_snapshot == ("2026-10" if expected == "dkrrsen1" else "2025-12")
    assert pops_.ids[model.home_pops[model.terminal_home[0]]] == expected


def test_a_bad_assignment_snapshot_exits_2_with_the_field_value_and_choices(tmp_path, capsys):
    path = tmp_path / "s.toml"
    text = toy_scenario(duration_s=30)
    path.write_text(text.replace("[ground.pops]", '[ground.pops]\nassignment_snapshot = "2024-01"'))
    with pytest.raises(SystemExit) as info:
        main(["validate", str(path)])
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert "assignment_snapshot" in err and "2024-01" in err
    for allowed in ("auto", "2025-12", "2026-10"):
        assert allowed in err
    from leonet.ground.pops import assignment_snapshot_for

    with pytest.raises(ScenarioError, match=r"assignment_snapshot: '2024-01' .*'auto', '2025-12', '2026-10'"):
        assignment_snapshot_for("2024-01")
