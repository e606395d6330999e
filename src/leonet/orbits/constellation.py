"""Constellations: the satellites of a run, whatever their source.

The representation
------------------
A `Constellation` is columnar: satellite ``k`` (``0 <= k < S``) has a name, a
catalog number, a shell index and, for Walker shells, a plane and a slot (the
+Grid laser topology needs them).  Several sources -- Walker shells from
filed parameters and real element sets from TLE/OMM files -- concatenate into
one index space, in the order the scenario lists them.

Built-in constellations (`BUILTIN`) carry the parameters filed with the FCC
(and Hypatia's Starlink-550 shell); the two real snapshots are shipped files.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from numpy.typing import NDArray
from sgp4.api import SatrecArray

from ..errors import ScenarioError
from ..timebase import utc_to_jd_fr
from .walker import WalkerShell, walker_satrecs

__all__ = [
    "Shell",
    "Constellation",
    "BUILTIN_WALKER",
    "BUILTIN_TLE",
    "builtin_names",
    "walker_constellation",
    "warn_if_stale",
    "StaleElementsWarning",
    "STALE_ELEMENTS_DAYS",
]


@dataclass(frozen=True)
class Shell:
    """One shell of a constellation.

    ``walker`` is set for shells built from parameters; for element sets the
    shell is the whole file (or an inferred group) and ``walker`` is None.
    """

    name: str
    min_elevation_deg: float
    walker: WalkerShell | None = None
    source: str = ""
    #: Name of the constellation (scenario source) the shell belongs to.
    constellation: str = ""


@dataclass(frozen=True, eq=False)
class Constellation:
    """Every satellite of a run.

    Attributes
    ----------
    name : str
    names : list of str, [S]
    catalog_numbers : int64[S]
    shells : list of Shell
    shell_index : int32[S]
        Index into ``shells``.
    plane_index, slot_index : int32[S]
        Orbital plane and position within it (Walker shells; -1 when unknown).
    satrecs : list of sgp4 Satrec, [S]
    epoch_jd : float64[S]
        Element-set epochs, Julian date UTC.
    tle_lines : list of (line1, line2), [S]
    """

    name: str
    names: list[str]
    catalog_numbers: NDArray[np.int64]
    shells: list[Shell]
    shell_index: NDArray[np.int32]
    plane_index: NDArray[np.int32]
    slot_index: NDArray[np.int32]
    satrecs: list = field(repr=False)
    epoch_jd: NDArray[np.float64] = field(repr=False)
    tle_lines: list[tuple[str, str]] = field(repr=False)

    def __len__(self) -> int:
        return len(self.names)

    @cached_property
    def satrec_array(self) -> SatrecArray:
        """sgp4's vectorised array of all satellites (built once)."""
        return SatrecArray(self.satrecs)

    @property
    def min_elevation_deg(self) -> NDArray[np.float64]:
        """float64[S]: user-terminal elevation mask of each satellite's shell."""
        masks = np.array([s.min_elevation_deg for s in self.shells], dtype=np.float64)
        return masks[self.shell_index]

    @classmethod
    def concat(cls, name: str, parts: list["Constellation"]) -> "Constellation":
        """Join constellations into one index space, in order."""
        if len(parts) == 1:
            return parts[0]
        shells, shell_index = [], []
        for part in parts:
            shell_index.append(part.shell_index + len(shells))
            shells.extend(part.shells)
        return cls(
            name=name,
            names=[n for p in parts for n in p.names],
            catalog_numbers=np.concatenate([p.catalog_numbers for p in parts]),
            shells=shells,
            shell_index=np.concatenate(shell_index).astype(np.int32),
            plane_index=np.concatenate([p.plane_index for p in parts]),
            slot_index=np.concatenate([p.slot_index for p in parts]),
            satrecs=[s for p in parts for s in p.satrecs],
            epoch_jd=np.concatenate([p.epoch_jd for p in parts]),
            tle_lines=[t for p in parts for t in p.tle_lines],
        )

    @classmethod
    def from_elements(cls, name: str, elements, min_elevation_deg: float = 25.0) -> "Constellation":
        """A one-shell constellation from element sets (`leonet.orbits.tle.ElementSets`)."""
        s = len(elements)
        return cls(
            name=name,
            names=list(elements.names),
            catalog_numbers=np.asarray(elements.catalog_numbers, dtype=np.int64),
            shells=[Shell(name=name, min_elevation_deg=min_elevation_deg, source=str(elements.source), constellation=name)],
            shell_index=np.zeros(s, dtype=np.int32),
            plane_index=np.full(s, -1, dtype=np.int32),
            slot_index=np.full(s, -1, dtype=np.int32),
            satrecs=list(elements.satrecs),
            epoch_jd=np.asarray(elements.epoch_jd, dtype=np.float64),
            tle_lines=list(zip(elements.line1, elements.line2)),
        )


def walker_constellation(name: str, shells: list[WalkerShell], epoch_utc: dt.datetime) -> Constellation:
    """Build Walker shells with element epochs at ``epoch_utc``.

    Catalog numbers run 1..S over all shells, as in Hypatia.
    """
    names, satrecs, lines, shell_index, plane_index, slot_index = [], [], [], [], [], []
    first = 1
    for i, shell in enumerate(shells):
        recs, tle = walker_satrecs(shell, epoch_utc, first_catalog_number=first)
        satrecs.extend(recs)
        names.extend(t[0] for t in tle)
        lines.extend((t[1], t[2]) for t in tle)
        shell_index.append(np.full(shell.size, i, dtype=np.int32))
        plane_index.append(np.repeat(np.arange(shell.planes, dtype=np.int32), shell.sats_per_plane))
        slot_index.append(np.tile(np.arange(shell.sats_per_plane, dtype=np.int32), shell.planes))
        first += shell.size
    total = first - 1
    epoch_jd = np.array([r.jdsatepoch + r.jdsatepochF for r in satrecs], dtype=np.float64)
    return Constellation(
        name=name,
        names=names,
        catalog_numbers=np.arange(1, total + 1, dtype=np.int64),
        shells=[
            Shell(name=s.name, min_elevation_deg=s.min_elevation_deg, walker=s, source="walker", constellation=name)
            for s in shells
        ],
        shell_index=np.concatenate(shell_index),
        plane_index=np.concatenate(plane_index),
        slot_index=np.concatenate(slot_index),
        satrecs=satrecs,
        epoch_jd=epoch_jd,
        tle_lines=lines,
    )


def _shells(prefix: str, rows: list[tuple], min_elevation_deg: float = 25.0, **kw) -> list[WalkerShell]:
    return [
        WalkerShell(
            name=f"{prefix}-{i + 1}",
            altitude_km=alt,
            inclination_deg=inc,
            planes=p,
            sats_per_plane=n,
            min_elevation_deg=min_elevation_deg,
            **kw,
        )
        for i, (alt, inc, p, n) in enumerate(rows)
    ]


#: Walker constellations with their filed parameters.  Sources:
#: Starlink Gen1: FCC IBFS SAT-MOD-20200417-00037 (grant of 2021-04-27), table of 5 shells.
#: Starlink Gen2: FCC SAT-LOA-20200526-00055 / SAT-AMD-20210818-00105 (29,988 satellites, config. 1).
#: Starlink-550: Hypatia (Kassing et al., IMC 2020), 72x22 at 550 km / 53 deg, 15.19 rev/day, odd-plane offset.
#: Kuiper: FCC 20-102 (Kuiper authorisation, 2020-07-30).
#: OneWeb: phase-1 polar shell (18 planes x 40 at 1,200 km / 87.9 deg), as modelled in Hypatia and StarPerf.
#: Telesat: Telesat-1015 as used by Hypatia (27 x 13, 1,015 km, 98.98 deg).
BUILTIN_WALKER: dict[str, tuple[str, list[WalkerShell]]] = {
    "starlink-gen1": (
        "Starlink Gen1 as authorised in 2021: 4,408 satellites in 5 shells",
        _shells(
            "starlink-gen1",
            [(550, 53.0, 72, 22), (540, 53.2, 72, 22), (570, 70.0, 36, 20), (560, 97.6, 6, 58), (560, 97.6, 4, 43)],
        ),
    ),
    "starlink-gen2": (
        "Starlink Gen2 FCC application: 29,988 satellites in 9 shells",
        _shells(
            "starlink-gen2",
            [
                (340, 53.0, 48, 110), (345, 46.0, 48, 110), (350, 38.0, 48, 110), (360, 96.9, 30, 120),
                (525, 53.0, 28, 120), (530, 43.0, 28, 120), (535, 33.0, 28, 120), (604, 148.0, 12, 12),
                (614, 115.7, 18, 18),
            ],
        ),
    ),
    "starlink-550": (
        "Hypatia's Starlink shell: 1,584 satellites, 72 x 22 at 550 km / 53 deg",
        [
            WalkerShell(
                name="Starlink-550", altitude_km=550, inclination_deg=53.0, planes=72, sats_per_plane=22,
                phasing="hypatia", mean_motion_rev_per_day=15.19, min_elevation_deg=25.0,
            )
        ],
    ),
    "kuiper": (
        "Amazon Kuiper as authorised: 3,236 satellites in 3 shells",
        _shells("kuiper", [(630, 51.9, 34, 34), (610, 42.0, 36, 36), (590, 33.0, 28, 28)], min_elevation_deg=35.0),
    ),
    "oneweb": (
        "OneWeb phase 1: 720 satellites, 18 x 40 at 1,200 km / 87.9 deg",
        _shells("oneweb", [(1200, 87.9, 18, 40)], min_elevation_deg=10.0),
    ),
    "telesat-1015": (
        "Telesat polar shell as in Hypatia: 351 satellites, 27 x 13 at 1,015 km / 98.98 deg",
        _shells("telesat-1015", [(1015, 98.98, 27, 13)], min_elevation_deg=10.0),
    ),
}

#: Real element-set snapshots shipped in leonet/data/tle (see data/SOURCES.md).
BUILTIN_TLE: dict[str, tuple[str, str, float]] = {
    "starlink-tle-2026-05": (
        "Real Starlink snapshot, CelesTrak GP, 10,395 satellites, epochs 2026-05-28..30",
        "starlink_gp_20260530.tle",
        25.0,
    ),
    "oneweb-tle-2026-05": (
        "Real OneWeb snapshot, CelesTrak GP, 651 satellites, epochs 2026-05-29..30",
        "oneweb_gp_20260530.tle",
        10.0,
    ),
}


def builtin_names() -> list[str]:
    """Names of every built-in constellation."""
    return sorted([*BUILTIN_WALKER, *BUILTIN_TLE])


def unknown_builtin(name: str) -> ScenarioError:
    """The error for a name that is no built-in constellation (`leonet.scenario.catalog`'s message)."""
    from ..scenario.catalog import unknown_constellation_message

    return ScenarioError(unknown_constellation_message(name))


#: Element sets are "generally only accurate for a week or two around the
#: epoch" (Skyfield docs); warn beyond this.
STALE_ELEMENTS_DAYS = 14.0


class StaleElementsWarning(UserWarning):
    """The simulated time is far from an element set's epoch."""


def warn_if_stale(constellation: Constellation, when) -> None:
    """Warn when ``when`` is more than `STALE_ELEMENTS_DAYS` from any element epoch."""
    jd, fr = utc_to_jd_fr(when)
    age = np.abs(jd + fr - constellation.epoch_jd)
    stale = age > STALE_ELEMENTS_DAYS
    if stale.any():
        warnings.warn(
            f"{int(stale.sum())} of {len(constellation)} element sets are more than {STALE_ELEMENTS_DAYS:g} days "
            f"from the simulated time {when.isoformat()} (up to {age.max():.0f} days): SGP4 positions degrade "
            "by kilometres per day away from the epoch; use element sets from near the simulated time",
            StaleElementsWarning,
            stacklevel=2,
        )
