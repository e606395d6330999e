"""User terminals from a scenario's terminal sources (cities, coordinates, samples, tracks, routes).

One function serves ``[ground.terminals]`` and every fleet's ``terminals``:
the sources are read the same way wherever they appear.

A ``track`` or ``route`` source gives one *moving* terminal: in the
`GroundSites` it stands at its first fix (the position static tables show),
and it carries its `leonet.ground.motion.Trajectory` in
``extra["motion"]`` (an object column: the trajectory for a moving terminal,
``""`` or None for the others), which survives `GroundSites.subset`,
`GroundSites.concat` and the fleets' id prefixes.
`leonet.ground.motion.Motion.from_sites` collects them for a run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ..errors import ScenarioError
from .motion import Trajectory, route_trajectory, track_trajectory
from .sampling import sample_terminals, spread_around
from .sites import GroundSites, load_cities, sites_from_coordinates

__all__ = ["terminals_from_sources", "moving_terminal", "region_argument", "region_is_file"]

from ..scenario.sources import region_is_file  # noqa: E402  (the rule is the scenario's)


def region_argument(region: str, resolve: Callable[[str], Path] | None) -> str:
    """A region spec as `load_region` takes it; a relative GeoJSON path resolved by ``resolve``."""
    if resolve is None or not region_is_file(region):
        return region
    return str(resolve(region))


def _trajectory(src, where: str, resolve: Callable[[str], Path] | None) -> Trajectory:
    """The trajectory of a ``track`` or ``route`` source."""
    if src.kind == "route":
        return route_trajectory(
            [w.model_dump() for w in src.waypoints], name=src.name, where=where, speed_kmh=src.speed_kmh,
            start_utc=src.start_utc, altitude_m=src.altitude_m, max_speed_mps=src.max_speed_mps,
        )
    path = resolve(src.file) if resolve is not None else Path(src.file)
    return track_trajectory(
        path, name=src.name or Path(src.file).stem, where=where, format=src.format,
        columns=src.columns.model_dump(), time_format=src.time_format, replay_from=src.replay_from,
        max_gap_s=src.max_gap_s, max_speed_mps=src.max_speed_mps,
    )


def moving_terminal(trajectory: Trajectory, kind: str, min_elevation_deg: float) -> GroundSites:
    """One terminal that moves along ``trajectory``: id ``"<kind>:<name>"``, at its first fix, the trajectory in ``extra["motion"]``."""
    motion = np.empty(1, dtype=object)
    motion[0] = trajectory
    return GroundSites(
        role="terminal", ids=[f"{kind}:{trajectory.name}"], names=[trajectory.name],
        lat_deg=trajectory.lat_deg[:1], lon_deg=trajectory.lon_deg[:1], altitude_km=trajectory.altitude_km[:1],
        country_iso2=[""], region=[""], population=[0], min_elevation_deg=[min_elevation_deg], antenna_count=[1],
        extra={"motion": motion},
    )


def terminals_from_sources(
    sources: Sequence,
    *,
    min_elevation_deg: float,
    seed_for: Callable[[int], int],
    where: str,
    resolve: Callable[[str], Path] | None = None,
) -> GroundSites:
    """The terminals of a list of `leonet.scenario.sources.TerminalSource`.

    Parameters
    ----------
    sources : sequence of TerminalSource
    min_elevation_deg : float
        Mask of every terminal, degrees.
    seed_for : callable(int) -> int
        Seed of the k-th source (sampled sources only).
    where : str
        Field path of the list, for messages (``"fleets[0].terminals"``).
    resolve : callable, optional
        Resolves a relative GeoJSON or track path (the scenario's directory).

    Raises
    ------
    ScenarioError
        A source that cannot be read or selects no terminal, or two sources
        that give the same terminal; the message names ``where[k]``.
    """
    parts = []
    for k, src in enumerate(sources):
        here = f"{where}[{k}]"
        try:
            if src.kind == "cities":
                part = load_cities(
                    country_iso2=src.country_iso2,
                    names=src.names,
                    min_population=src.min_population,
                    limit=src.limit,
                    min_elevation_deg=min_elevation_deg,
                )
                part = spread_around(part, src.per_city, src.spread_km, seed_for(k))
            elif src.kind == "coordinates":
                rows = [
                    dict(s.model_dump(exclude={"note"}), min_elevation_deg=min_elevation_deg)
                    for s in src.sites
                ]
                part = sites_from_coordinates("terminal", rows, source=here)
            elif src.kind in ("track", "route"):
                part = moving_terminal(_trajectory(src, here, resolve), src.kind, min_elevation_deg)
            else:
                part = sample_terminals(
                    region_argument(src.region, resolve),
                    src.count,
                    seed=seed_for(k),
                    weight_by_population=src.weight_by_population,
                    min_elevation_deg=min_elevation_deg,
                    id_prefix=f"sample{k}",
                )
        except ScenarioError as exc:
            raise ScenarioError(f"{here}: {exc}") from None
        if len(part) == 0:
            raise ScenarioError(f"{here}: selects no terminals (got kind = {src.kind!r}); fix: widen the filter")
        parts.append(part)
    sites = GroundSites.concat(parts) if len(parts) > 1 else parts[0]
    if len(set(sites.ids)) != len(sites):
        raise ScenarioError(f"{where}: two sources give the same terminal; fix: remove the overlap")
    return sites
