"""The cost ledger: what keeping each fleet online costs, per sponsor and calendar month.

The representation
------------------
One row per ``(month, fleet, sponsor)`` in which the sponsor paid for the
fleet for a non-zero time::

    sponsor        str      who pays (the fleet's sponsor timeline)
    fleet          str      fleet name
    month          str      UTC calendar month, "YYYY-MM"
    terminal_days  float64  terminals x days paid for in that month
    cost_usd       float64  terminals x monthly_price_usd x (time paid / length of the month)

Proration is **by the second**, not by the day: a terminal active for part
of a day counts that fraction of the day, and a month costs
``monthly_price_usd`` per terminal only if it is paid for the whole of it
(28, 29, 30 or 31 days).  When every boundary falls at 00:00 UTC this is the
same as ``terminals x days / days in month x price``: a switch of sponsor on
2023-06-16 00:00 UTC splits June 15/30 to 15/30.  Real plans bill whole
months; the ledger gives the exact cost *rate* instead, which is what a
comparison of sponsors needs.

The ledger is a pure function of the fleet specs, their terminal counts and
a window.  By default the window is each fleet's own active window, not the
simulated time, so a one-hour run still reports what a month of service
costs and who pays.  The sums are done in exact rational arithmetic
(`fractions.Fraction` of microseconds and of the price as given), then
rounded once to float64; cents are not rounded (reports do that).

No leap second is counted: a month is its number of days x 86,400 s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any, NamedTuple

import pyarrow as pa

from ..errors import ScenarioError
from ..scenario.service import FleetSpec, _iso, to_utc

__all__ = ["CostLedger", "cost_ledger", "month_starts", "LEDGER_SCHEMA"]

LEDGER_SCHEMA = pa.schema(
    [
        ("sponsor", pa.string()),
        ("fleet", pa.string()),
        ("month", pa.string()),
        ("terminal_days", pa.float64()),
        ("cost_usd", pa.float64()),
    ]
)

_US_PER_DAY = 86_400 * 1_000_000


class CostLedger(NamedTuple):
    """The ledger table (see `LEDGER_SCHEMA`) and its summary dict."""

    table: pa.Table
    summary: dict[str, Any]


def _us(delta: dt.timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _month_start(when: dt.datetime) -> dt.datetime:
    return dt.datetime(when.year, when.month, 1, tzinfo=dt.timezone.utc)


def _next_month(start: dt.datetime) -> dt.datetime:
    return start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)


def month_starts(start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """00:00 UTC on the first day of every month that ``[start, end)`` touches."""
    out = []
    m = _month_start(start)
    while m < end:
        out.append(m)
        m = _next_month(m)
    return out


def _to_utc(value, what: str) -> dt.datetime | None:
    if value is None:
        return None
    try:
        return to_utc(value)
    except ScenarioError as exc:
        raise ScenarioError(f"{what}: {exc}") from None


def cost_ledger(
    fleets: Sequence[FleetSpec],
    start: dt.datetime | dt.date | str | None = None,
    end: dt.datetime | dt.date | str | None = None,
    *,
    terminal_counts: Mapping[str, int] | Sequence[int] | None = None,
) -> CostLedger:
    """Cost per sponsor, fleet and calendar month, prorated by the second.

    Parameters
    ----------
    fleets : sequence of FleetSpec
    start, end : datetime, date or ISO str, UTC, optional
        The ledger window ``[start, end)`` (the scenario's ``[ledger]``).
        Each fleet is counted over its active window clipped to it; an
        omitted side is not clipped.
    terminal_counts : mapping fleet name -> int, or sequence of int, optional
        Terminals per fleet.  Default: `~leonet.service.fleets.fleet_terminal_count`
        of each spec (``sample`` and ``coordinates`` sources are counted
        without being built).

    Returns
    -------
    CostLedger
        ``table``: pyarrow Table with `LEDGER_SCHEMA`, rows sorted by month,
        then fleet order, then sponsor order in the timeline.
        ``summary``: ``{"start_utc", "end_utc", "months", "total_cost_usd",
        "total_terminal_days", "cost_usd_by_sponsor", "terminal_days_by_sponsor",
        "cost_usd_by_fleet", "monthly_cost_usd_by_sponsor": {sponsor: {month: usd}}}``.

    Raises
    ------
    ScenarioError
        A fleet with no ``active_until`` and no ``end`` (its ledger would
        never end), ``end`` not after ``start``, or bad terminal counts.

    Examples
    --------
    1,000 terminals at $500 a month; the donor pays until 2023-06-16, then a
    government (15/30 of June each):

    >>> from leonet.scenario.service import FleetSpec
    >>> fleet = FleetSpec.model_validate({
    ...     "name": "donated", "monthly_price_usd": 500.0,
    ...     "active_from": "2023-06-01", "active_until": "2023-07-01",
    ...     "terminals": [{"kind": "sample", "region": "country:UA", "count": 1000}],
    ...     "sponsors": [{"sponsor": "donor", "from": "2023-06-01"},
    ...                  {"sponsor": "government", "from": "2023-06-16"}]})
    >>> ledger = cost_ledger([fleet])
    >>> ledger.summary["cost_usd_by_sponsor"]
    {'donor': 250000.0, 'government': 250000.0}
    """
    fleets = list(fleets)
    lo = _to_utc(start, "ledger.start")
    hi = _to_utc(end, "ledger.end")
    if lo is not None and hi is not None and hi <= lo:
        raise ScenarioError(f"ledger.end = {_iso(hi)} is not after ledger.start = {_iso(lo)}; fix: swap them")
    counts = _counts(fleets, terminal_counts)
    return _ledger(fleets, counts, _paid_time(fleets, lo, hi))


class _PaidTime(NamedTuple):
    """Who paid for which fleet for how long, month by month, in exact microseconds."""

    paid_us: dict[tuple[str, int, str], int]  # (month "YYYY-MM", fleet index, sponsor) -> paid time, µs
    month_us: dict[str, int]  # month -> its length, µs
    sponsor_rank: dict[tuple[int, str], int]  # (fleet index, sponsor) -> first place in the fleet's timeline
    first: dt.datetime | None  # earliest paid instant, UTC
    last: dt.datetime | None  # latest, UTC


def _fleet_window(
    i: int, fleet: FleetSpec, lo: dt.datetime | None, hi: dt.datetime | None
) -> tuple[dt.datetime, dt.datetime]:
    """The fleet's active window clipped to the ledger's ``[lo, hi)`` (either side may be open)."""
    f_lo = fleet.active_from if lo is None else max(lo, fleet.active_from)
    f_hi = fleet.active_until if hi is None else (hi if fleet.active_until is None else min(hi, fleet.active_until))
    if f_hi is None:
        raise ScenarioError(
            f"fleets[{i}] ({fleet.name!r}) has no active_until and the ledger has no end, so its cost never "
            "stops adding up; fix: set [ledger] end = DATE, or the fleet's active_until"
        )
    return f_lo, f_hi


def _paid_time(fleets: list[FleetSpec], lo: dt.datetime | None, hi: dt.datetime | None) -> _PaidTime:
    """Split every sponsor segment of every fleet's clipped window at month boundaries.

    Times are kept as integer microseconds so that the sums of the ledger
    are exact (see the module docstring).
    """
    paid: dict[tuple[str, int, str], int] = {}
    month_us: dict[str, int] = {}
    order: dict[tuple[int, str], int] = {}
    first, last = None, None
    for i, fleet in enumerate(fleets):
        f_lo, f_hi = _fleet_window(i, fleet, lo, hi)
        if f_hi <= f_lo:
            continue
        first = f_lo if first is None else min(first, f_lo)
        last = f_hi if last is None else max(last, f_hi)
        for k, (sponsor, s_lo, s_hi) in enumerate(fleet.sponsor_segments()):
            order.setdefault((i, sponsor), k)
            a = max(s_lo, f_lo)
            b = f_hi if s_hi is None else min(s_hi, f_hi)
            for m0 in month_starts(a, b) if b > a else ():
                m1 = _next_month(m0)
                key = m0.strftime("%Y-%m")
                month_us[key] = _us(m1 - m0)
                us = _us(min(b, m1) - max(a, m0))
                if us > 0:
                    paid[(key, i, sponsor)] = paid.get((key, i, sponsor), 0) + us
    return _PaidTime(paid, month_us, order, first, last)


def _ledger(fleets: list[FleetSpec], counts: list[int], paid: _PaidTime) -> CostLedger:
    """Price the paid time: the ledger rows and their sums per sponsor, fleet and month.

    Rows are sorted by month, then fleet order, then sponsor order in the
    fleet's timeline.  Sums are `Fraction` until the one rounding to float.
    """
    rows = sorted(paid.paid_us, key=lambda r: (r[0], r[1], paid.sponsor_rank[(r[1], r[2])]))
    sponsor_col, fleet_col, month_col, days_col, cost_col = [], [], [], [], []
    cost_by_sponsor: dict[str, Fraction] = {}
    days_by_sponsor: dict[str, Fraction] = {}
    cost_by_fleet: dict[str, Fraction] = {}
    monthly: dict[str, dict[str, Fraction]] = {}
    for month, i, sponsor in rows:
        us = paid.paid_us[(month, i, sponsor)]
        n = counts[i]
        days = Fraction(n * us, _US_PER_DAY)
        cost = n * Fraction(fleets[i].monthly_price_usd) * Fraction(us, paid.month_us[month])
        sponsor_col.append(sponsor)
        fleet_col.append(fleets[i].name)
        month_col.append(month)
        days_col.append(float(days))
        cost_col.append(float(cost))
        cost_by_sponsor[sponsor] = cost_by_sponsor.get(sponsor, Fraction(0)) + cost
        days_by_sponsor[sponsor] = days_by_sponsor.get(sponsor, Fraction(0)) + days
        cost_by_fleet[fleets[i].name] = cost_by_fleet.get(fleets[i].name, Fraction(0)) + cost
        monthly.setdefault(sponsor, {})
        monthly[sponsor][month] = monthly[sponsor].get(month, Fraction(0)) + cost
    table = pa.table(
        [
            pa.array(sponsor_col, pa.string()),
            pa.array(fleet_col, pa.string()),
            pa.array(month_col, pa.string()),
            pa.array(days_col, pa.float64()),
            pa.array(cost_col, pa.float64()),
        ],
        schema=LEDGER_SCHEMA,
    )
    summary = {
        "start_utc": None if paid.first is None else _iso(paid.first),
        "end_utc": None if paid.last is None else _iso(paid.last),
        "months": sorted(paid.month_us),
        "total_cost_usd": float(sum(cost_by_sponsor.values(), Fraction(0))),
        "total_terminal_days": float(sum(days_by_sponsor.values(), Fraction(0))),
        "cost_usd_by_sponsor": {k: float(v) for k, v in cost_by_sponsor.items()},
        "terminal_days_by_sponsor": {k: float(v) for k, v in days_by_sponsor.items()},
        "cost_usd_by_fleet": {k: float(v) for k, v in cost_by_fleet.items()},
        "monthly_cost_usd_by_sponsor": {s: {m: float(v) for m, v in sorted(ms.items())} for s, ms in monthly.items()},
    }
    return CostLedger(table, summary)


def _counts(fleets: list[FleetSpec], terminal_counts) -> list[int]:
    if terminal_counts is None:
        from .fleets import fleet_terminal_count

        return [fleet_terminal_count(f) for f in fleets]
    if isinstance(terminal_counts, Mapping):
        missing = [f.name for f in fleets if f.name not in terminal_counts]
        if missing:
            raise ScenarioError(
                f"terminal_counts has no entry for fleet(s) {', '.join(map(repr, missing))}; give one count per fleet name"
            )
        values = [terminal_counts[f.name] for f in fleets]
    else:
        values = list(terminal_counts)
        if len(values) != len(fleets):
            raise ScenarioError(f"terminal_counts has {len(values)} entries for {len(fleets)} fleets; give one per fleet")
    out = []
    for f, v in zip(fleets, values):
        if int(v) != v or v < 0:
            raise ScenarioError(f"terminal count of fleet {f.name!r} is {v!r}; it must be a whole number >= 0")
        out.append(int(v))
    return out
