"""Small pieces the report's data modules share: SQL quoting, times, the `Series` type.

`leonet.report.data` gathers the report; `leonet.report.moving` (moving
terminals, cut-offs) and `leonet.report.latency` (modelled RTT, pings) add
their sections to it.  They all build on this module, so none imports
another's internals (no import cycle).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["Series", "q", "f", "times", "epoch_of", "epoch_ms", "has"]


@dataclass
class Series:
    """Time series on one time axis: ``t_utc`` ISO strings, named float64 columns."""

    t_utc: list[str]
    columns: dict[str, NDArray[np.float64]]
    bucket_s: float = 0.0


def q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def f(value) -> float:
    """A SQL value as a float: NULL is NaN."""
    return float("nan") if value is None else float(value)


def times(epoch: dt.datetime, t_ns: NDArray[np.int64]) -> list[str]:
    """UTC ``YYYY-MM-DD HH:MM:SS[.mmm]`` of offsets ``t_ns`` (int64[N], ns) from ``epoch``."""
    base = np.datetime64(epoch.replace(tzinfo=None), "ns")
    stamps = base + np.asarray(t_ns, dtype=np.int64).astype("timedelta64[ns]")
    unit = "s" if np.all(np.asarray(t_ns) % 1_000_000_000 == 0) else "ms"
    return [s.replace("T", " ") for s in np.datetime_as_string(stamps, unit=unit)]


def epoch_ms(epoch: dt.datetime, t_ns) -> NDArray[np.float64]:
    """float64[N]: offsets ``t_ns`` (ns) from ``epoch`` as milliseconds since 1970-01-01 UTC.

    plotly.js reads numbers on a date axis as exactly that, so long time
    series travel as one base64 float64 array instead of one string per
    point (8 bytes instead of ~26).
    """
    base_ms = (epoch - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)) // dt.timedelta(microseconds=1) / 1000.0
    return base_ms + np.asarray(t_ns, dtype=np.int64) / 1e6


def epoch_of(manifest: dict) -> dt.datetime:
    """The run's epoch (UTC) from its manifest."""
    text = manifest.get("time_grid", {}).get("epoch_utc") or manifest["scenario"]["time"]["start_utc"]
    when = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)


def has(tables: dict[str, dict[str, str]], name: str, *columns: str) -> bool:
    """Whether the run has table ``name`` with all ``columns``."""
    return name in tables and set(columns) <= set(tables[name])
