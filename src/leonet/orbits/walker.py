"""Walker-delta shells built from their filed parameters.

The representation
------------------
A shell is ``planes`` circular orbits evenly spaced in right ascension of the
ascending node (RAAN) over 360 deg, each with ``sats_per_plane`` satellites
evenly spaced in mean anomaly.  Satellite ``k = plane * sats_per_plane + slot``
(Hypatia's numbering) has

* RAAN ``= plane * 360 / planes``,
* mean anomaly ``= slot * 360 / sats_per_plane + offset(plane)``, where
  ``offset = plane * phase_factor * 360 / total`` for ``phasing="walker"``
  (Walker's i:T/P/F notation) and ``offset = 360 / sats_per_plane / 2`` on odd
  planes for ``phasing="hypatia"`` (snkas/hypatia ``generate_tles_from_scratch``).

Each satellite is written as a two-line element set and read back by sgp4's
``twoline2rv``, exactly the way Hypatia feeds its own shells to SGP4.  One
propagation path then serves real and synthetic constellations, and leonet's
positions for a shell are SGP4's positions for its TLE text, bit for bit.
The price is the TLE's precision (1e-4 deg in angles, about 12 m along track),
far below anything a network model resolves.  See docs/design.md.

Mean motion: when only ``altitude_km`` is given, the mean motion is the
Keplerian one of a circular orbit of radius ``6378.135 + altitude_km`` (WGS72).
When both are given they must agree within ``MEAN_MOTION_ALTITUDE_TOLERANCE_KM``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from sgp4.api import WGS72, Satrec

from ..constants import DAY_S
from ..errors import ScenarioError

__all__ = [
    "WalkerShell",
    "mean_motion_rev_per_day",
    "altitude_from_mean_motion_km",
    "walker_elements",
    "walker_tle_lines",
    "walker_satrecs",
    "tle_checksum",
]

# The shell rules and Kepler conversions are shared with the scenario's validation.
from ..kepler import (  # noqa: E402
    altitude_from_mean_motion_km,
    mean_motion_rev_per_day,
    walker_shell_problems,
)


@dataclass(frozen=True)
class WalkerShell:
    """Parameters of one Walker-delta shell.

    Attributes
    ----------
    name : str
    altitude_km : float
        Nominal altitude above the WGS72 equatorial radius.
    inclination_deg : float
    planes : int
    sats_per_plane : int
    phase_factor : int
        Walker F, ``0 <= F < planes``; ignored for ``phasing="hypatia"``.
    phasing : {"walker", "hypatia"}
    mean_motion_rev_per_day : float or None
        Overrides the Keplerian value derived from the altitude.
    min_elevation_deg : float
        User-terminal elevation mask for this shell.
    raan_offset_deg : float
        RAAN of plane 0.
    """

    name: str
    altitude_km: float
    inclination_deg: float
    planes: int
    sats_per_plane: int
    phase_factor: int = 0
    phasing: Literal["walker", "hypatia"] = "walker"
    mean_motion_rev_per_day: float | None = None
    min_elevation_deg: float = 25.0
    raan_offset_deg: float = 0.0

    def __post_init__(self):
        problems = walker_shell_problems(
            self.altitude_km, self.inclination_deg, self.planes, self.sats_per_plane, self.phase_factor,
            self.min_elevation_deg, self.mean_motion_rev_per_day,
        )
        if problems:
            raise ScenarioError(f"shell {self.name!r}: " + "; ".join(problems))

    @property
    def size(self) -> int:
        """Number of satellites, ``planes * sats_per_plane``."""
        return self.planes * self.sats_per_plane

    @property
    def effective_mean_motion_rev_per_day(self) -> float:
        if self.mean_motion_rev_per_day is not None:
            return self.mean_motion_rev_per_day
        return mean_motion_rev_per_day(self.altitude_km)


def walker_elements(shell: WalkerShell) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """RAAN and mean anomaly of every satellite of a shell.

    Returns
    -------
    raan_deg, mean_anomaly_deg : float64[planes * sats_per_plane]
        In [0, 360), satellites ordered plane-major (Hypatia's numbering).
    """
    plane = np.repeat(np.arange(shell.planes), shell.sats_per_plane)
    slot = np.tile(np.arange(shell.sats_per_plane), shell.planes)
    raan = (shell.raan_offset_deg + plane * 360.0 / shell.planes) % 360.0
    if shell.phasing == "hypatia":
        offset = np.where(plane % 2 == 1, 360.0 / shell.sats_per_plane / 2.0, 0.0)
    else:
        offset = plane * shell.phase_factor * 360.0 / shell.size
    mean_anomaly = (slot * 360.0 / shell.sats_per_plane + offset) % 360.0
    return raan, mean_anomaly


def tle_checksum(line: str) -> int:
    """Modulo-10 checksum of a TLE line's first 68 columns ('-' counts 1)."""
    total = 0
    for ch in line[:68]:
        if ch.isdigit():
            total += int(ch)
        elif ch == "-":
            total += 1
    return total % 10


def _tle_epoch(epoch_utc: dt.datetime) -> str:
    start_of_year = dt.datetime(epoch_utc.year, 1, 1, tzinfo=dt.timezone.utc)
    day = (epoch_utc - start_of_year).total_seconds() / DAY_S + 1.0
    return f"{epoch_utc.year % 100:02d}{day:012.8f}"


def walker_tle_lines(
    shell: WalkerShell, epoch_utc: dt.datetime, first_catalog_number: int = 1, name_prefix: str | None = None
) -> list[tuple[str, str, str]]:
    """Name line, line 1 and line 2 of every satellite of a shell.

    The format follows Hypatia's ``generate_tles_from_scratch``: eccentricity
    1e-7, argument of perigee 0, drag terms 0, element set and revolution
    numbers 0.  Catalog numbers ``first_catalog_number ..`` (at most 99,999).
    """
    if first_catalog_number + shell.size - 1 > 99_999:
        raise ScenarioError(
            f"shell {shell.name!r}: catalog numbers {first_catalog_number}.."
            f"{first_catalog_number + shell.size - 1} do not fit the TLE's 5 digits; use fewer satellites"
        )
    raan, mean_anomaly = walker_elements(shell)
    epoch = _tle_epoch(epoch_utc)
    n = shell.effective_mean_motion_rev_per_day
    prefix = shell.name if name_prefix is None else name_prefix
    out = []
    for k in range(shell.size):
        num = first_catalog_number + k
        l1 = f"1 {num:05d}U 00000ABC {epoch}  .00000000  00000-0  00000+0 0    0"
        l2 = (
            f"2 {num:05d} {shell.inclination_deg:8.4f} {raan[k]:8.4f} 0000001 {0.0:8.4f} "
            f"{mean_anomaly[k]:8.4f} {n:11.8f}    0"
        )
        out.append((f"{prefix} {k}", l1 + str(tle_checksum(l1)), l2 + str(tle_checksum(l2))))
    return out


def walker_satrecs(
    shell: WalkerShell, epoch_utc: dt.datetime, first_catalog_number: int = 1
) -> tuple[list[Satrec], list[tuple[str, str, str]]]:
    """SGP4 records (WGS72) for every satellite of a shell, and their TLE lines."""
    lines = walker_tle_lines(shell, epoch_utc, first_catalog_number)
    return [Satrec.twoline2rv(l1, l2, WGS72) for _, l1, l2 in lines], lines
