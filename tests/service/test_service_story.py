"""The story the service layer exists for, end to end through its own modules.

Terminals are donated to Ukraine and used free of charge (the donor pays the
operator's price), a government takes over the payments, and the operator
denies service in Crimea.  The pieces must let a user write that down and
measure it: who pays what per month, and which active terminals lose
service when.
"""

from __future__ import annotations

import datetime as dt
import textwrap
import tomllib

import numpy as np
import pytest

from leonet.constants import NS_PER_S
from leonet.service.costs import cost_ledger
from leonet.service.fleets import Fleets, availability
from leonet.service.policy import PolicyEngine
from leonet.scenario.service import parse_service_tables

UTC = dt.timezone.utc

SCENARIO = textwrap.dedent(
    """
    [[sponsors]]
    name = "SpaceX (donation)"

    [[sponsors]]
    name = "Government"

    [[fleets]]
    name = "donated"
    active_from = 2022-02-26
    monthly_price_usd = 500.0
    demand_mbps = 10.0

    [[fleets.terminals]]
    kind = "cities"
    country_iso2 = "UA"
    limit = 40

    [[fleets.sponsors]]
    sponsor = "SpaceX (donation)"
    from = 2022-02-26

    [[fleets.sponsors]]
    sponsor = "Government"
    from = 2023-06-01

    [[policies]]
    name = "no service in Crimea"
    action = "deny"
    region = "crimea"
    from = 2022-09-01

    [ledger]
    end = 2023-07-01
    """
)


@pytest.fixture(scope="module")
def story():
    tables = parse_service_tables(tomllib.loads(SCENARIO), "story.toml")
    fleets = Fleets.build(tables.fleets, seed=20220226)
    policy = PolicyEngine(tables.policies, fleets.terminals, fleets.fleet_of_terminal, fleet_names=fleets.names)
    return tables, fleets, policy


def test_who_pays_what(story):
    tables, fleets, _ = story
    ledger = cost_ledger(tables.fleets, tables.ledger.start, tables.ledger.end, terminal_counts=fleets.terminal_counts())
    by_sponsor = ledger.summary["cost_usd_by_sponsor"]
    # 40 terminals x $500.  The donor: 26..28 Feb 2022 (3 of 28 days) plus March 2022 .. May 2023 (15 months);
    # the government: June 2023.
    assert by_sponsor["SpaceX (donation)"] == pytest.approx(40 * 500 * (15 + 3 / 28), abs=0.005)
    assert by_sponsor["Government"] == 40 * 500.0
    assert ledger.summary["months"][0] == "2022-02" and ledger.summary["months"][-1] == "2023-06"


def test_crimea_loses_service_when_the_rule_starts(story):
    _, fleets, policy = story
    crimean = np.array([r in ("Autonomous Republic of Crimea", "Sevastopol") for r in fleets.terminals.region])
    assert 1 <= crimean.sum() < len(crimean)  # Sevastopol and Simferopol are among the 40 largest places
    epoch = dt.datetime(2022, 8, 31, 23, tzinfo=UTC)
    offsets = np.arange(12, dtype=np.int64) * 600 * NS_PER_S  # 23:00 .. 00:50, every 10 min
    active = fleets.active(offsets, epoch)
    denied = policy.denied(offsets, epoch)
    assert active.all()
    before, after = slice(0, 6), slice(6, 12)
    assert not denied[before].any()
    np.testing.assert_array_equal(denied[after], np.broadcast_to(crimean, denied[after].shape))
    # If every terminal the policy allows were served, availability drops by the Crimean share.
    served = active & ~denied
    assert availability(served[before], active[before]) == 1.0
    assert availability(served[after], active[after]) == pytest.approx(1 - crimean.mean())
    # Who pays at that moment: the donor.
    assert (fleets.sponsor_index(offsets, epoch) == fleets.sponsor_names.index("SpaceX (donation)")).all()
