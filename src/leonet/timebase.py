"""Simulation time: a UTC epoch plus ``int64`` nanosecond offsets.

The representation
------------------
A run's time grid is one UTC epoch (a timezone-aware ``datetime``) and an
array ``offset_ns: int64[T]`` of offsets from it.  Offsets are integers, so a
step is never accumulated in floating point (Hypatia counts time in ns too).
For SGP4 the grid is turned into sgp4's split Julian date ``(jd, fr)``:
``jd`` is the whole-day part of the epoch and ``fr = fr0 + offset_ns / 86400e9``
is computed once per grid, which keeps ~10 ns resolution over years.

Leap seconds: the grid counts SI seconds from a UTC epoch and assumes no leap
second inside the window; a window that crosses a known leap second is
rejected (``check_no_leap_second``).  UT1 (for Earth rotation) is taken as
UTC + ``ut1_minus_utc_s`` (default 0; |UT1-UTC| < 0.9 s by definition, which
moves a ground point by < 420 m, and is ~0.05 s in 2025-2026, i.e. ~25 m).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .constants import NS_PER_DAY, NS_PER_S
from .errors import ScenarioError

__all__ = ["TimeGrid", "utc_to_jd_fr", "unix_ns", "parse_utc", "check_no_leap_second"]

_UNIX_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_JD_UNIX_EPOCH = 2440587.5

#: Dates (UTC) at whose start a leap second has just been inserted, since 1990
#: (IERS Bulletin C).  None is announced after 2017-01-01 as of 2026-11.
LEAP_SECOND_DATES = (
    dt.date(1990, 1, 1), dt.date(1991, 1, 1), dt.date(1992, 7, 1), dt.date(1993, 7, 1),
    dt.date(1994, 7, 1), dt.date(1996, 1, 1), dt.date(1997, 7, 1), dt.date(1999, 1, 1),
    dt.date(2006, 1, 1), dt.date(2009, 1, 1), dt.date(2012, 7, 1), dt.date(2015, 7, 1),
    dt.date(2017, 1, 1),
)


def parse_utc(text: str | dt.datetime) -> dt.datetime:
    """Parse an ISO 8601 UTC time such as ``2026-05-30T12:00:00Z``.

    Naive times are taken as UTC; times with another offset are converted.
    """
    if isinstance(text, dt.datetime):
        value = text
    else:
        try:
            value = dt.datetime.fromisoformat(str(text).strip().replace("Z", "+00:00"))
        except ValueError:
            raise ScenarioError(
                f"time {text!r} is not an ISO 8601 UTC time; write it like 2026-05-30T12:00:00Z"
            ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    try:
        return value.astimezone(dt.timezone.utc)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00 is in year 0 in UTC
        raise ScenarioError(
            f"time {value.isoformat()} falls outside the years 1..9999 once converted to UTC; write a time like 2026-05-30T12:00:00Z"
        ) from None


def unix_ns(when: dt.datetime) -> int:
    """Nanoseconds from the Unix epoch to the UTC time *when* (exact integer; naive times are UTC).

    Examples
    --------
    >>> import datetime as dt
    >>> unix_ns(dt.datetime(2023, 9, 12, 0, 0, 12, tzinfo=dt.timezone.utc))
    1694476812000000000
    """
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    delta = when - _UNIX_EPOCH
    return (delta.days * 86_400 + delta.seconds) * NS_PER_S + delta.microseconds * 1000


def utc_to_jd_fr(when: dt.datetime) -> tuple[float, float]:
    """Split Julian date ``(jd, fr)`` of a UTC time, as sgp4 takes it.

    ``jd`` ends in .5 (the midnight before ``when``) and ``0 <= fr < 1``.
    """
    when = parse_utc(when)
    delta = when - _UNIX_EPOCH
    whole_days, rem = divmod(delta.days * NS_PER_DAY + (delta.seconds * NS_PER_S) + delta.microseconds * 1000, NS_PER_DAY)
    return _JD_UNIX_EPOCH + whole_days, rem / NS_PER_DAY


def check_no_leap_second(start: dt.datetime, end: dt.datetime) -> None:
    """Raise ``ScenarioError`` when a leap second falls inside ``[start, end)``."""
    for day in LEAP_SECOND_DATES:
        moment = dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)
        if start < moment <= end:
            raise ScenarioError(
                f"the time window {start.isoformat()} .. {end.isoformat()} crosses the leap second "
                f"inserted before {moment.isoformat()}; leonet counts SI seconds from a UTC epoch "
                "and cannot represent it: split the run at that moment"
            )


@dataclass(frozen=True)
class TimeGrid:
    """A UTC epoch and the nanosecond offsets of the simulated steps.

    Attributes
    ----------
    epoch_utc : datetime.datetime
        Time of offset 0, timezone-aware UTC.
    offset_ns : int64[T]
        Offsets of each step from ``epoch_utc``, ns, non-decreasing.
    """

    epoch_utc: dt.datetime
    offset_ns: NDArray[np.int64]

    @classmethod
    def regular(cls, start_utc: dt.datetime | str, duration_ns: int, step_ns: int) -> "TimeGrid":
        """Steps ``0, step, 2*step, ...`` strictly before ``duration_ns``.

        A 60 s window at 1 s steps has 60 steps (t = 0..59 s), as Hypatia's
        ``dynamic_state_100ms_for_2s`` has 20.
        """
        if step_ns <= 0:
            raise ScenarioError(f"step must be positive, got {step_ns} ns")
        if duration_ns <= 0:
            raise ScenarioError(f"duration must be positive, got {duration_ns} ns")
        start = parse_utc(start_utc)
        check_no_leap_second(start, start + dt.timedelta(microseconds=duration_ns // 1000))
        return cls(start, np.arange(0, duration_ns, step_ns, dtype=np.int64))

    @classmethod
    def at(cls, when: dt.datetime | str) -> "TimeGrid":
        """A one-step grid at ``when``."""
        return cls(parse_utc(when), np.zeros(1, dtype=np.int64))

    def __len__(self) -> int:
        return int(self.offset_ns.shape[0])

    def jd_fr(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """sgp4's split Julian date (UTC) of every step: ``(jd[T], fr[T])``."""
        jd0, fr0 = utc_to_jd_fr(self.epoch_utc)
        # Keep the whole-day part exact: move whole days out of the offsets
        # before converting to float.
        days, rem_ns = np.divmod(self.offset_ns, NS_PER_DAY)
        jd = jd0 + days.astype(np.float64)
        fr = fr0 + rem_ns.astype(np.float64) / NS_PER_DAY
        return jd, fr

    def slice(self, start: int, stop: int) -> "TimeGrid":
        """Steps ``start:stop`` as a new grid on the same epoch."""
        return TimeGrid(self.epoch_utc, self.offset_ns[start:stop])

    def datetimes(self) -> list[dt.datetime]:
        """Each step as a UTC datetime (microsecond resolution)."""
        return [self.epoch_utc + dt.timedelta(microseconds=int(o) // 1000) for o in self.offset_ns]
