"""The service tables: the documented example validates; every bad input gets path, value and fix."""

from __future__ import annotations

import datetime as dt
import re
import textwrap
import tomllib

import pytest

import leonet.scenario.service as spec_module
from leonet.errors import ScenarioError
from leonet.scenario.service import (
    CapacityLossFault,
    GatewayDownFault,
    JammingFault,
    SatellitesFailedFault,
    parse_service_tables,
    service_problems,
    to_utc,
)

UTC = dt.timezone.utc


def _docstring_toml() -> str:
    doc = spec_module.__doc__
    block = doc[doc.index(".. code-block:: toml") + len(".. code-block:: toml") :]
    return textwrap.dedent(block)


def test_documented_example_validates():
    data = tomllib.loads(_docstring_toml())
    tables = parse_service_tables(data, "docstring")
    assert [f.name for f in tables.fleets] == ["donated-2022"]
    fleet = tables.fleets[0]
    assert fleet.active_from == dt.datetime(2022, 2, 26, tzinfo=UTC)
    assert fleet.active_until is None
    assert [s.sponsor for s in fleet.sponsors] == ["SpaceX (donation)", "Government of Poland"]
    assert fleet.sponsor_segments() == [
        ("SpaceX (donation)", dt.datetime(2022, 2, 26, tzinfo=UTC), dt.datetime(2023, 6, 16, tzinfo=UTC)),
        ("Government of Poland", dt.datetime(2023, 6, 16, tzinfo=UTC), None),
    ]
    assert [p.action for p in tables.policies] == ["deny", "allow"]
    assert tables.policies[1].fleets == ["donated-2022"]
    kinds = [type(f) for f in tables.faults]
    assert kinds == [GatewayDownFault, SatellitesFailedFault, spec_module.IslLostFault, JammingFault, CapacityLossFault]
    assert tables.faults[0].until - tables.faults[0].from_ == dt.timedelta(minutes=20)
    assert tables.ledger.end == dt.datetime(2024, 1, 1, tzinfo=UTC)


def test_times_in_every_toml_form_are_utc():
    assert to_utc(dt.date(2022, 2, 26)) == dt.datetime(2022, 2, 26, tzinfo=UTC)
    assert to_utc(dt.datetime(2022, 2, 26, 3)) == dt.datetime(2022, 2, 26, 3, tzinfo=UTC)  # TOML local date-time
    kyiv = dt.timezone(dt.timedelta(hours=2))
    assert to_utc(dt.datetime(2022, 2, 26, 3, tzinfo=kyiv)) == dt.datetime(2022, 2, 26, 1, tzinfo=UTC)
    assert to_utc("2022-02-26") == dt.datetime(2022, 2, 26, tzinfo=UTC)
    data = tomllib.loads(
        textwrap.dedent(
            """
            [[policies]]
            action = "deny"
            region = "crimea"
            from = 2022-02-26T02:00:00+02:00
            until = 2022-03-01
            """
        )
    )
    rule = parse_service_tables(data).policies[0]
    assert rule.from_ == dt.datetime(2022, 2, 26, tzinfo=UTC)
    assert rule.until == dt.datetime(2022, 3, 1, tzinfo=UTC)


def _error(data) -> str:
    with pytest.raises(ScenarioError) as info:
        parse_service_tables(data, "s.toml")
    return str(info.value)


def _assert_all(message: str, needles) -> None:
    for needle in needles:
        assert needle in message, f"{needle!r} not in:\n{message}"


def test_sponsor_timeline_gap(fleet_table):
    fleet = fleet_table(
        sponsors=[
            {"sponsor": "SpaceX (donation)", "from": dt.date(2023, 6, 1), "until": dt.date(2023, 6, 10)},
            {"sponsor": "Government", "from": dt.date(2023, 6, 16)},
        ]
    )
    message = _error({"fleets": [fleet]})
    _assert_all(
        message,
        ["s.toml: fleets[0]", "gap", "sponsors[0].until = 2023-06-10T00:00:00Z", "sponsors[1].from = 2023-06-16T00:00:00Z",
         "6 days", "fix: set sponsors[0].until = 2023-06-16T00:00:00Z"],
    )


def test_sponsor_timeline_overlap(fleet_table):
    fleet = fleet_table(
        sponsors=[
            {"sponsor": "SpaceX (donation)", "from": dt.date(2023, 6, 1), "until": dt.date(2023, 6, 20)},
            {"sponsor": "Government", "from": dt.date(2023, 6, 16)},
        ]
    )
    message = _error({"fleets": [fleet]})
    _assert_all(
        message,
        ["fleets[0]", "overlap", "until 2023-06-20T00:00:00Z", "starts at 2023-06-16T00:00:00Z", "both would pay for 4 days",
         "fix: set sponsors[0].until = 2023-06-16T00:00:00Z"],
    )


@pytest.mark.parametrize(
    "sponsors,needles",
    [
        (  # first sponsor starts after the fleet is switched on
            [{"sponsor": "A", "from": dt.date(2023, 6, 3)}],
            ["gap", "sponsors[0].from = 2023-06-03T00:00:00Z", "active_from = 2023-06-01T00:00:00Z", "first 2 days",
             "fix: set sponsors[0].from = 2023-06-01T00:00:00Z"],
        ),
        (  # two entries start together
            [{"sponsor": "A", "from": dt.date(2023, 6, 1)}, {"sponsor": "B", "from": dt.date(2023, 6, 1)}],
            ["overlap", "sponsors[0] ('A') and sponsors[1] ('B') both start at 2023-06-01T00:00:00Z", "fix:"],
        ),
        (  # out of order
            [{"sponsor": "A", "from": dt.date(2023, 6, 1)}, {"sponsor": "B", "from": dt.date(2023, 5, 1)}],
            ["out of order", "sponsors[1].from = 2023-05-01T00:00:00Z", "fix: list the entries in date order"],
        ),
        (  # the last entry stops paying before the fleet is switched off
            [{"sponsor": "A", "from": dt.date(2023, 6, 1), "until": dt.date(2023, 6, 21)}],
            ["gap", "until = 2023-06-21T00:00:00Z", "active until 2023-07-01T00:00:00Z", "fix: add an entry from 2023-06-21"],
        ),
        (  # an entry that can never pay
            [{"sponsor": "A", "from": dt.date(2023, 6, 1)}, {"sponsor": "B", "from": dt.date(2023, 8, 1)}],
            ["sponsors[1].from = 2023-08-01T00:00:00Z is at or after active_until", "fix: remove the entry"],
        ),
    ],
)
def test_sponsor_timeline_problems(fleet_table, sponsors, needles):
    message = _error({"fleets": [fleet_table(sponsors=sponsors)]})
    _assert_all(message, ["s.toml: fleets[0]"] + needles)


def test_open_ended_fleet_and_entry_until_before_open_end(fleet_table):
    # An open-ended fleet with an open-ended last entry is fine ...
    parse_service_tables({"fleets": [fleet_table(active_until=None)]})
    # ... but a last entry that ends leaves the rest unpaid.
    fleet = fleet_table(active_until=None, sponsors=[{"sponsor": "A", "from": dt.date(2023, 6, 1), "until": dt.date(2024, 1, 1)}])
    _assert_all(_error({"fleets": [fleet]}), ["stays active (no active_until)", "nobody pays after it"])


def test_negative_price(fleet_table):
    message = _error({"fleets": [fleet_table(monthly_price_usd=-500.0)]})
    _assert_all(message, ["s.toml: fleets[0].monthly_price_usd", "(got -500.0)", ">= 0", "fix:"])


def test_unknown_fleet_in_a_rule(fleet_table):
    data = {"fleets": [fleet_table()], "policies": [{"action": "allow", "region": "country:UA", "fleets": ["donatd"]}]}
    message = _error(data)
    _assert_all(message, ["s.toml: policies[0].fleets[0]", "no fleet named 'donatd'", "did you mean 'donated'?", "fix:"])


def test_duplicate_fleet_names(fleet_table):
    message = _error({"fleets": [fleet_table(), fleet_table()]})
    _assert_all(message, ["s.toml: fleets[1].name", "'donated' is already the name of fleets[0]", "fix:"])


def test_empty_fleet(fleet_table):
    message = _error({"fleets": [fleet_table(terminals=[])]})
    _assert_all(message, ["s.toml: fleets[0].terminals", "no terminals", "fix: add at least one [[fleets.terminals]]"])


def test_undeclared_sponsor(fleet_table):
    data = {"fleets": [fleet_table()], "sponsors": [{"name": "SpaceX (donaton)"}]}
    message = _error(data)
    _assert_all(
        message,
        ["fleets[0].sponsors[0].sponsor", "no sponsor named 'SpaceX (donation)'", "did you mean 'SpaceX (donaton)'", "fix:"],
    )


def test_all_problems_are_listed(fleet_table):
    data = {"fleets": [fleet_table(monthly_price_usd=-1.0), fleet_table(name="x", demand_mbps=-2.0)]}
    message = _error(data)
    assert message.startswith("the scenario has 2 problems:")
    _assert_all(message, ["fleets[0].monthly_price_usd", "fleets[1].demand_mbps"])


@pytest.mark.parametrize(
    "fault,needles",
    [
        ({"kind": "satellites-failed", "fraction": 1.5}, ["faults[0].fraction", "(got 1.5)", "[0, 1]", "fix:"]),
        ({"kind": "isl-lost", "fraction": -0.1}, ["faults[0].fraction", "(got -0.1)", "fix:"]),
        ({"kind": "jamming", "region": "crimea", "probability": 2}, ["faults[0].probability", "(got 2)"]),
        ({"kind": "capacity-loss", "share": 1.01}, ["faults[0].share", "(got 1.01)"]),
        (
            {"kind": "gateway-down", "gateways": ["GS221"], "from": "2026-05-30T12:40:00Z", "until": "2026-05-30T12:20:00Z"},
            ["faults[0]", "until = 2026-05-30T12:20:00Z is not after from = 2026-05-30T12:40:00Z", "fix:"],
        ),
        ({"kind": "gateway-down", "gateways": []}, ["faults[0].gateways", "fix:"]),
        ({"kind": "meteor", "fraction": 0.1}, ["faults[0]", "meteor"]),
        ({"kind": "isl-lost", "fraction": 0.1, "fraktion": 0.2}, ["faults[0].fraktion", "unknown key"]),
    ],
)
def test_bad_faults(fault, needles):
    _assert_all(_error({"faults": [fault]}), ["s.toml: "] + needles)


def test_policy_window_and_empty_fleets():
    message = _error({"policies": [{"action": "deny", "from": "2022-03-01", "until": "2022-02-01"}]})
    _assert_all(message, ["policies[0]", "until = 2022-02-01T00:00:00Z is not after from = 2022-03-01T00:00:00Z"])
    message = _error({"policies": [{"action": "deny", "fleets": []}]})
    _assert_all(message, ["policies[0].fleets", "apply to nobody", "fix:"])
    message = _error({"policies": [{"action": "block"}]})
    _assert_all(message, ["policies[0].action", "'block'"])


def test_bad_daily_profile(fleet_table):
    _assert_all(_error({"fleets": [fleet_table(daily_profile=[1.0] * 23)]}), ["fleets[0].daily_profile", "23 values", "24"])
    profile = [1.0] * 24
    profile[5] = -0.5
    _assert_all(_error({"fleets": [fleet_table(daily_profile=profile)]}), ["daily_profile[5] = -0.5"])


def test_service_problems_is_empty_for_good_tables(fleet_table):
    tables = parse_service_tables({"fleets": [fleet_table()], "sponsors": [{"name": "SpaceX (donation)"}]})
    assert service_problems(tables.fleets, tables.sponsors, tables.policies, tables.faults) == []


def test_models_are_frozen(fleet_table):
    fleet = parse_service_tables({"fleets": [fleet_table()]}).fleets[0]
    with pytest.raises(Exception):
        fleet.monthly_price_usd = 0.0
    assert re.fullmatch(r".+", fleet.name)
