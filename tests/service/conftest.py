"""Small factories for the service tests."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

UTC = dt.timezone.utc


def _fleet(**changes) -> dict:
    """A valid fleet table (as parsed TOML) with `changes` applied."""
    base = {
        "name": "donated",
        "terminals": [{"kind": "coordinates", "sites": [{"name": "Kyiv", "lat_deg": 50.45, "lon_deg": 30.52}]}],
        "active_from": dt.date(2023, 6, 1),
        "active_until": dt.date(2023, 7, 1),
        "monthly_price_usd": 500.0,
        "demand_mbps": 20.0,
        "sponsors": [{"sponsor": "SpaceX (donation)", "from": dt.date(2023, 6, 1)}],
    }
    base.update(copy.deepcopy(changes))
    return base


@pytest.fixture
def fleet_table():
    """Factory: ``fleet_table(name="x", monthly_price_usd=-1)`` -> dict."""
    return _fleet
