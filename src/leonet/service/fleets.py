"""Fleets: user terminals switched on together, with one plan and a sponsor timeline.

The representation
------------------
`Fleets` holds the terminals of every fleet of a scenario as one
`~leonet.ground.sites.GroundSites` (fleet after fleet, in scenario order) and
``fleet_of_terminal: int64[G]``, the index of each terminal's fleet.  A
terminal's id is ``"<fleet name>/<source id>"``, so the same city may appear
in two fleets.

Per-step questions are answered per *fleet* first (``[T, F]``, F is small)
and then gathered to terminals with ``fleet_of_terminal``, so a step costs
O(T x G) memory traffic and no Python loop over terminals:

* `Fleets.active` -- ``bool[T, G]``: the fleet is in ``[active_from, active_until)``.
  Inactive terminal-steps are *not* failures: they are left out of
  availability figures (`availability`) and cost nothing.
* `Fleets.demand_bps` -- ``float64[T, G]``, bit/s: ``demand_mbps x 1e6 x
  daily_profile[local hour]``, 0 when inactive.
* `Fleets.sponsor_index` -- ``int16[T, G]``: index into `Fleets.sponsor_names`
  of who pays at that step, -1 when inactive.

Times are a UTC ``epoch`` plus ``offset_ns: int64[T]`` (`leonet.timebase`);
every comparison is done in integer nanoseconds, so a step exactly at
``active_from`` is active and a step exactly at ``active_until`` is not.
No leap second is assumed inside a window (as in `leonet.timebase`).
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ..constants import NS_PER_S
from ..errors import ScenarioError
from ..ground.sites import GroundSites, load_cities
from ..ground.terminals import terminals_from_sources
from ..scenario.service import FleetSpec

__all__ = [
    "Fleets",
    "build_fleet_terminals",
    "fleet_terminal_count",
    "availability",
    "availability_by_fleet",
    "ns_since",
    "window_ns",
]

_NS_PER_HOUR = 3600 * NS_PER_S
_INT64_MIN = np.iinfo(np.int64).min
_INT64_MAX = np.iinfo(np.int64).max


def ns_since(epoch: dt.datetime, when: dt.datetime) -> int:
    """Whole nanoseconds from ``epoch`` to ``when`` (exact; microsecond inputs)."""
    delta = when - epoch
    return (delta.days * 86_400 + delta.seconds) * NS_PER_S + delta.microseconds * 1000


def window_ns(epoch: dt.datetime, start: dt.datetime | None, end: dt.datetime | None) -> tuple[int, int]:
    """A UTC window ``[start, end)`` as int64 ns offsets from ``epoch``; open ends become the int64 limits."""
    lo = _INT64_MIN if start is None else max(_INT64_MIN, ns_since(epoch, start))
    hi = _INT64_MAX if end is None else min(_INT64_MAX, ns_since(epoch, end))
    return lo, hi


def _source_seed(seed: int, fleet: str, index: int) -> int:
    """Seed of one sampled source: stable under reordering or adding fleets."""
    state = np.random.SeedSequence([int(seed), zlib.crc32(fleet.encode("utf-8")), int(index)]).generate_state(2, np.uint64)
    return int(state[0]) << 64 | int(state[1])


def build_fleet_terminals(
    spec: FleetSpec,
    *,
    seed: int,
    resolve: Callable[[str], Path] | None = None,
    where: str = "fleets[?]",
) -> GroundSites:
    """The terminals of one fleet, ids prefixed ``"<fleet>/"``.

    Sources are read as the ground segment reads them (`load_cities`,
    `sites_from_coordinates`, `sample_terminals`).  Sampled sources get a
    seed derived from ``(seed, fleet name, source index)``, so adding or
    reordering fleets does not move another fleet's terminals.

    Parameters
    ----------
    spec : FleetSpec
    seed : int
        The scenario seed.
    resolve : callable, optional
        Maps a relative GeoJSON path to a file (the scenario's directory).
    where : str
        Field path for messages, e.g. ``"fleets[0]"``.

    Raises
    ------
    ScenarioError
        A source that cannot be read or selects no terminal; the message
        names ``fleets[i].terminals[k]``.
    """
    sites = terminals_from_sources(
        spec.terminals,
        min_elevation_deg=spec.min_elevation_deg,
        seed_for=lambda k: _source_seed(seed, spec.name, k),
        where=f"{where}.terminals",
        resolve=resolve,
    )
    return _prefixed(sites, f"{spec.name}/")


def _prefixed(sites: GroundSites, prefix: str) -> GroundSites:
    return GroundSites(
        role=sites.role,
        ids=[prefix + i for i in sites.ids],
        names=sites.names,
        lat_deg=sites.lat_deg,
        lon_deg=sites.lon_deg,
        altitude_km=sites.altitude_km,
        country_iso2=sites.country_iso2,
        region=sites.region,
        population=sites.population,
        min_elevation_deg=sites.min_elevation_deg,
        antenna_count=sites.antenna_count,
        band=sites.band,
        extra=sites.extra,
    )


def fleet_terminal_count(spec: FleetSpec) -> int:
    """Number of terminals of a fleet, without sampling any point.

    ``coordinates``, ``sample``, ``track`` and ``route`` sources are counted
    from the spec (a track or a route is one terminal); only ``cities``
    sources read the (cached) city list.
    """
    n = 0
    for src in spec.terminals:
        if src.kind == "coordinates":
            n += len(src.sites)
        elif src.kind in ("track", "route"):
            n += 1
        elif src.kind == "sample":
            n += int(src.count)
        else:
            n += len(
                load_cities(country_iso2=src.country_iso2, names=src.names, min_population=src.min_population, limit=src.limit)
            )
    return n


@dataclass(frozen=True, eq=False)
class Fleets:
    """The fleets of a scenario and their terminals.

    Attributes
    ----------
    specs : tuple of FleetSpec, [F]
    terminals : GroundSites, [G]
        Every fleet's terminals, fleet after fleet.
    fleet_of_terminal : int64[G]
        Index into `specs` of each terminal's fleet.
    sponsor_names : tuple of str
        Every sponsor named by a timeline, in order of first appearance.
    """

    specs: tuple[FleetSpec, ...]
    terminals: GroundSites
    fleet_of_terminal: NDArray[np.int64]
    sponsor_names: tuple[str, ...]

    @classmethod
    def build(
        cls,
        specs: Sequence[FleetSpec],
        *,
        seed: int,
        resolve: Callable[[str], Path] | None = None,
    ) -> Fleets:
        """Build every fleet's terminals (see `build_fleet_terminals`).

        Raises
        ------
        ScenarioError
            No fleet, or a fleet whose sources cannot be read.
        """
        specs = tuple(specs)
        if not specs:
            raise ScenarioError("no [[fleets]] given; fix: add at least one fleet")
        parts = [build_fleet_terminals(s, seed=seed, resolve=resolve, where=f"fleets[{i}]") for i, s in enumerate(specs)]
        return cls.from_parts(specs, parts)

    @classmethod
    def from_parts(cls, specs: Sequence[FleetSpec], parts: Sequence[GroundSites]) -> Fleets:
        """Fleets from specs and already-built terminals (one `GroundSites` per spec)."""
        specs = tuple(specs)
        if len(parts) != len(specs):
            raise ScenarioError(f"{len(specs)} fleets but {len(parts)} terminal sets; give one per fleet")
        for i, (s, p) in enumerate(zip(specs, parts)):
            if len(p) == 0:
                raise ScenarioError(f"fleets[{i}] ({s.name!r}) has no terminals; fix: add a [[fleets.terminals]] source")
        terminals = GroundSites.concat(parts) if len(parts) > 1 else parts[0]
        fleet_of = np.repeat(np.arange(len(specs), dtype=np.int64), [len(p) for p in parts])
        fleet_of.setflags(write=False)
        names: list[str] = []
        for s in specs:
            for entry in s.sponsors:
                if entry.sponsor not in names:
                    names.append(entry.sponsor)
        return cls(specs, terminals, fleet_of, tuple(names))

    @property
    def names(self) -> list[str]:
        """Fleet names, [F]."""
        return [s.name for s in self.specs]

    def __len__(self) -> int:
        return len(self.specs)

    def terminal_counts(self) -> dict[str, int]:
        """Terminals per fleet name."""
        counts = np.bincount(self.fleet_of_terminal, minlength=len(self.specs))
        return {s.name: int(c) for s, c in zip(self.specs, counts)}

    # -- per step, per fleet ------------------------------------------------

    def fleet_active(self, offset_ns: NDArray[np.int64], epoch: dt.datetime) -> NDArray[np.bool_]:
        """Whether each fleet is active at each step.

        Parameters
        ----------
        offset_ns : int64[T], ns from `epoch`
        epoch : datetime, UTC

        Returns
        -------
        bool[T, F]
        """
        t = np.asarray(offset_ns, dtype=np.int64)
        out = np.empty((t.shape[0], len(self.specs)), dtype=bool)
        for f, s in enumerate(self.specs):
            lo, hi = window_ns(epoch, s.active_from, s.active_until)
            out[:, f] = (t >= lo) & (t < hi)
        return out

    def fleet_sponsor_index(self, offset_ns: NDArray[np.int64], epoch: dt.datetime) -> NDArray[np.int16]:
        """Who pays for each fleet at each step: int16[T, F], -1 when inactive."""
        t = np.asarray(offset_ns, dtype=np.int64)
        out = np.full((t.shape[0], len(self.specs)), -1, dtype=np.int16)
        for f, s in enumerate(self.specs):
            for sponsor, start, end in s.sponsor_segments():
                lo, hi = window_ns(epoch, start, end)
                out[(t >= lo) & (t < hi), f] = self.sponsor_names.index(sponsor)
        return out

    def fleet_profile(self, offset_ns: NDArray[np.int64], epoch: dt.datetime) -> NDArray[np.float64]:
        """Demand multiplier of each fleet at each step (1 without a profile): float64[T, F]."""
        t = np.asarray(offset_ns, dtype=np.int64)
        out = np.ones((t.shape[0], len(self.specs)), dtype=np.float64)
        midnight = dt.datetime(epoch.year, epoch.month, epoch.day, tzinfo=dt.timezone.utc)
        epoch_of_day_ns = ns_since(midnight, epoch)
        for f, s in enumerate(self.specs):
            if s.daily_profile is None:
                continue
            hour = (epoch_of_day_ns + t + s.profile_utc_offset_h * _NS_PER_HOUR) // _NS_PER_HOUR % 24
            out[:, f] = np.asarray(s.daily_profile, dtype=np.float64)[hour]
        return out

    # -- per step, per terminal ---------------------------------------------

    def active(self, offset_ns: NDArray[np.int64], epoch: dt.datetime) -> NDArray[np.bool_]:
        """Whether each terminal is switched on: bool[T, G].

        A step at exactly ``active_from`` is active, one at exactly
        ``active_until`` is not.
        """
        return self.fleet_active(offset_ns, epoch)[:, self.fleet_of_terminal]

    def demand_bps(self, offset_ns: NDArray[np.int64], epoch: dt.datetime, default_bps: float = 0.0) -> NDArray[np.float64]:
        """Traffic each terminal asks for: float64[T, G], bit/s; 0 when inactive.

        ``demand_mbps x 1e6 x daily_profile[h]``, ``h`` the hour of the day
        at UTC + ``profile_utc_offset_h`` (no interpolation between hours); a
        fleet without ``demand_mbps`` asks for ``default_bps`` (the run's
        ``[capacity] demand_bps``).
        """
        rate = np.array([default_bps if s.demand_mbps is None else s.demand_mbps * 1e6 for s in self.specs],
                        dtype=np.float64)
        per_fleet = self.fleet_profile(offset_ns, epoch) * rate * self.fleet_active(offset_ns, epoch)
        return per_fleet[:, self.fleet_of_terminal]

    def sponsor_index(self, offset_ns: NDArray[np.int64], epoch: dt.datetime) -> NDArray[np.int16]:
        """Who pays for each terminal: int16[T, G], index into `sponsor_names`; -1 when inactive."""
        return self.fleet_sponsor_index(offset_ns, epoch)[:, self.fleet_of_terminal]


def availability(served: NDArray[np.bool_], active: NDArray[np.bool_]) -> float:
    """Share of *active* terminal-steps that were served.

    Inactive terminal-steps (a fleet outside its active window) are left
    out: switching a fleet off is a decision, not an outage.

    Parameters
    ----------
    served, active : bool[T, G]

    Returns
    -------
    float
        In [0, 1]; NaN when no terminal-step is active.
    """
    served = np.asarray(served, dtype=bool)
    active = np.asarray(active, dtype=bool)
    if served.shape != active.shape:
        raise ScenarioError(f"served has shape {served.shape} but active has {active.shape}; give both as [T, G]")
    n = int(active.sum())
    return float("nan") if n == 0 else int((served & active).sum()) / n


def availability_by_fleet(
    served: NDArray[np.bool_], active: NDArray[np.bool_], fleet_of_terminal: NDArray[np.int64], n_fleets: int
) -> NDArray[np.float64]:
    """`availability` of each fleet: float64[F], NaN for a fleet with no active terminal-step."""
    served = np.asarray(served, dtype=bool)
    active = np.asarray(active, dtype=bool)
    fleet_of_terminal = np.asarray(fleet_of_terminal, dtype=np.int64)
    ok = (served & active).sum(axis=0)
    on = active.sum(axis=0)
    num = np.bincount(fleet_of_terminal, weights=ok, minlength=n_fleets)
    den = np.bincount(fleet_of_terminal, weights=on, minlength=n_fleets)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
