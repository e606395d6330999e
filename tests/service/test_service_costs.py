"""The cost ledger, against figures worked out by hand."""

from __future__ import annotations

import calendar
import datetime as dt

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leonet.errors import ScenarioError
from leonet.service.costs import LEDGER_SCHEMA, cost_ledger, month_starts
from leonet.scenario.service import FleetSpec

UTC = dt.timezone.utc
ONE_CENT_USD = 0.01


def _fleet(name="donated", count=1000, price=500.0, active_from="2023-06-01", active_until="2023-07-01", sponsors=None):
    sponsors = sponsors or [{"sponsor": "donor", "from": active_from}]
    return FleetSpec.model_validate(
        {
            "name": name,
            "terminals": [{"kind": "sample", "region": "country:UA", "count": count}],
            "active_from": active_from,
            "active_until": active_until,
            "monthly_price_usd": price,
            "sponsors": sponsors,
        }
    )


def _rows(ledger):
    return [(r["sponsor"], r["fleet"], r["month"], r["terminal_days"], r["cost_usd"]) for r in ledger.table.to_pylist()]


def test_sponsor_switch_mid_month_is_prorated_exactly():
    # 1,000 terminals at $500 per terminal-month, June 2023 (30 days).  The
    # donor pays 1..15 June (15 days), the government 16..30 June (15 days):
    #   donor:      1000 x 500 x 15/30 = 250,000.00 USD, 1000 x 15 = 15,000 terminal-days
    #   government: 1000 x 500 x 15/30 = 250,000.00 USD, 15,000 terminal-days
    fleet = _fleet(sponsors=[{"sponsor": "donor", "from": "2023-06-01"}, {"sponsor": "government", "from": "2023-06-16"}])
    ledger = cost_ledger([fleet])
    assert _rows(ledger) == [
        ("donor", "donated", "2023-06", 15_000.0, 250_000.0),
        ("government", "donated", "2023-06", 15_000.0, 250_000.0),
    ]
    assert ledger.table.schema == LEDGER_SCHEMA
    s = ledger.summary
    assert s["total_cost_usd"] == 500_000.0
    assert s["cost_usd_by_sponsor"] == {"donor": 250_000.0, "government": 250_000.0}
    assert s["terminal_days_by_sponsor"] == {"donor": 15_000.0, "government": 15_000.0}
    assert s["start_utc"] == "2023-06-01T00:00:00Z" and s["end_utc"] == "2023-07-01T00:00:00Z"
    assert s["months"] == ["2023-06"]


def test_switch_at_noon_counts_half_a_day():
    # Switch 2023-06-16 12:00 UTC: donor 15.5 days, government 14.5 days of June's 30.
    #   donor:      1000 x 500 x 15.5/30 = 258,333.333... -> 258,333.33
    #   government: 1000 x 500 x 14.5/30 = 241,666.666... -> 241,666.67
    fleet = _fleet(sponsors=[{"sponsor": "donor", "from": "2023-06-01"}, {"sponsor": "government", "from": "2023-06-16T12:00:00Z"}])
    rows = _rows(cost_ledger([fleet]))
    assert rows[0][3] == 15_500.0 and rows[1][3] == 14_500.0
    assert round(rows[0][4], 2) == 258_333.33
    assert round(rows[1][4], 2) == 241_666.67


def test_month_boundary_split():
    # 100 terminals at $30, active 2023-01-20 00:00 .. 2023-02-10 00:00:
    #   January: 20..31 = 12 days of 31 -> 100 x 30 x 12/31 = 1,161.2903... -> 1,161.29
    #   February: 1..9 = 9 days of 28   -> 100 x 30 x 9/28  =   964.2857... ->   964.29
    fleet = _fleet(count=100, price=30.0, active_from="2023-01-20", active_until="2023-02-10")
    rows = _rows(cost_ledger([fleet]))
    assert [(r[2], r[3]) for r in rows] == [("2023-01", 1200.0), ("2023-02", 900.0)]
    assert round(rows[0][4], 2) == 1161.29
    assert round(rows[1][4], 2) == 964.29
    assert rows[0][4] == pytest.approx(100 * 30 * 12 / 31, abs=1e-9)
    assert rows[1][4] == pytest.approx(100 * 30 * 9 / 28, abs=1e-9)


def test_leap_year_february():
    # February 2024 has 29 days.  Active 15..29 Feb (15 days): 1000 x 500 x 15/29 = 258,620.6896... -> 258,620.69.
    fleet = _fleet(active_from="2024-02-15", active_until="2024-03-01")
    (row,) = _rows(cost_ledger([fleet]))
    assert row[2] == "2024-02" and row[3] == 15_000.0
    assert round(row[4], 2) == 258_620.69
    # The whole of February costs exactly one monthly price per terminal, in a leap year or not.
    for year, days in ((2024, 29), (2023, 28)):
        whole = _fleet(active_from=f"{year}-02-01", active_until=f"{year}-03-01")
        (row,) = _rows(cost_ledger([whole]))
        assert row[3] == 1000.0 * days
        assert row[4] == 500_000.0
    # 15..28 Feb 2023 is 14 of 28 days: exactly half.
    (row,) = _rows(cost_ledger([_fleet(active_from="2023-02-15", active_until="2023-03-01")]))
    assert row[4] == 250_000.0


def test_ledger_window_clips_the_fleets():
    # [ledger] 2023-06-10 .. 2023-06-20 on the switch of 16 June: donor 10..15 (6 days), government 16..19 (4 days).
    fleet = _fleet(sponsors=[{"sponsor": "donor", "from": "2023-06-01"}, {"sponsor": "government", "from": "2023-06-16"}])
    rows = _rows(cost_ledger([fleet], "2023-06-10", "2023-06-20"))
    assert [(r[0], r[3], r[4]) for r in rows] == [
        ("donor", 6000.0, 100_000.0),  # 1000 x 500 x 6/30
        ("government", 4000.0, pytest.approx(1000 * 500 * 4 / 30, abs=1e-9)),
    ]


def test_open_ended_fleet_needs_a_ledger_end():
    fleet = _fleet(active_until=None, sponsors=[{"sponsor": "donor", "from": "2023-06-01"}])
    with pytest.raises(ScenarioError) as info:
        cost_ledger([fleet])
    assert "fleets[0] ('donated') has no active_until" in str(info.value)
    assert "fix: set [ledger] end" in str(info.value)
    # With an end it is three whole months (June, July, August).
    ledger = cost_ledger([fleet], end=dt.date(2023, 9, 1))
    assert [r[2] for r in _rows(ledger)] == ["2023-06", "2023-07", "2023-08"]
    assert ledger.summary["total_cost_usd"] == 3 * 500_000.0
    assert ledger.summary["total_terminal_days"] == 1000.0 * (30 + 31 + 31)


def test_two_fleets_and_a_sponsor_paying_for_both():
    # A donated fleet (switching to the government in mid-June) and a fleet the
    # government bought in July; July costs it 1000 x 500 + 200 x 100 = 520,000.
    donated = _fleet(active_until="2023-08-01", sponsors=[{"sponsor": "donor", "from": "2023-06-01"}, {"sponsor": "government", "from": "2023-06-16"}])
    bought = _fleet(name="bought", count=200, price=100.0, active_from="2023-07-01", active_until="2023-08-01",
                    sponsors=[{"sponsor": "government", "from": "2023-07-01"}])
    ledger = cost_ledger([donated, bought])
    assert [(r[0], r[1], r[2]) for r in _rows(ledger)] == [
        ("donor", "donated", "2023-06"),
        ("government", "donated", "2023-06"),
        ("government", "donated", "2023-07"),
        ("government", "bought", "2023-07"),
    ]
    monthly = ledger.summary["monthly_cost_usd_by_sponsor"]
    assert monthly == {"donor": {"2023-06": 250_000.0}, "government": {"2023-06": 250_000.0, "2023-07": 520_000.0}}
    assert ledger.summary["cost_usd_by_fleet"] == {"donated": 1_000_000.0, "bought": 20_000.0}  # June + July


def test_terminal_counts_override_and_validation():
    fleet = _fleet()
    ledger = cost_ledger([fleet], terminal_counts={"donated": 10})
    assert ledger.summary["total_cost_usd"] == 5000.0
    assert cost_ledger([fleet], terminal_counts=[10]).summary == ledger.summary
    with pytest.raises(ScenarioError, match="no entry for fleet"):
        cost_ledger([fleet], terminal_counts={"other": 1})
    with pytest.raises(ScenarioError, match="whole number >= 0"):
        cost_ledger([fleet], terminal_counts=[-1])
    with pytest.raises(ScenarioError, match="ledger.end = 2023-06-01T00:00:00Z is not after"):
        cost_ledger([fleet], "2023-06-02", "2023-06-01")


def test_empty_window_gives_an_empty_table():
    ledger = cost_ledger([_fleet()], "2024-01-01", "2024-02-01")
    assert ledger.table.num_rows == 0
    assert ledger.table.schema == LEDGER_SCHEMA
    assert ledger.summary["total_cost_usd"] == 0.0
    assert isinstance(ledger.table, pa.Table)


def test_month_starts():
    got = month_starts(dt.datetime(2023, 11, 15, tzinfo=UTC), dt.datetime(2024, 2, 1, tzinfo=UTC))
    assert [m.strftime("%Y-%m") for m in got] == ["2023-11", "2023-12", "2024-01"]


@settings(max_examples=60, deadline=None)
@given(
    year=st.integers(2000, 2040),
    month=st.integers(1, 12),
    switch_s=st.floats(0.0, 1.0, allow_nan=False),
    count=st.integers(1, 100_000),
    price_cents=st.integers(0, 1_000_000),
)
def test_a_switch_never_changes_the_monthly_total(year, month, switch_s, count, price_cents):
    # Whatever instant the sponsor changes, a fully paid month costs count x price,
    # and each side pays in proportion to its share of the month's seconds.
    days = calendar.monthrange(year, month)[1]
    start = dt.datetime(year, month, 1, tzinfo=UTC)
    end = start + dt.timedelta(days=days)
    switch = start + dt.timedelta(microseconds=max(1, round(switch_s * (days * 86400e6 - 2))))
    price = price_cents / 100
    fleet = _fleet(count=count, price=price, active_from=start.isoformat(), active_until=end.isoformat(),
                   sponsors=[{"sponsor": "a", "from": start.isoformat()}, {"sponsor": "b", "from": switch.isoformat()}])
    ledger = cost_ledger([fleet])
    total = count * price
    assert ledger.summary["total_cost_usd"] == pytest.approx(total, rel=1e-12, abs=1e-9)
    share_a = (switch - start) / (end - start)
    assert ledger.summary["cost_usd_by_sponsor"]["a"] == pytest.approx(total * share_a, rel=1e-9, abs=1e-6)
    assert ledger.summary["total_terminal_days"] == pytest.approx(count * days, rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    start_day=st.integers(0, 400),
    length_days=st.integers(1, 400),
)
def test_terminal_days_add_up_across_months(start_day, length_days):
    start = dt.datetime(2023, 1, 1, tzinfo=UTC) + dt.timedelta(days=start_day)
    end = start + dt.timedelta(days=length_days)
    fleet = _fleet(count=7, price=10.0, active_from=start.isoformat(), active_until=end.isoformat(),
                   sponsors=[{"sponsor": "a", "from": start.isoformat()}])
    table = cost_ledger([fleet]).table
    assert sum(table.column("terminal_days").to_pylist()) == 7 * length_days
    # A month costs at most one monthly price per terminal.
    assert max(table.column("cost_usd").to_pylist()) <= 70.0 + 1e-9
