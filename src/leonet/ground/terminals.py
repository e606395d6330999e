"""User terminals from a scenario's terminal sources (cities, coordinates, samples).

One function serves ``[ground.terminals]`` and every fleet's ``terminals``:
the sources are read the same way wherever they appear.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from ..errors import ScenarioError
from .sampling import sample_terminals, spread_around
from .sites import GroundSites, load_cities, sites_from_coordinates

__all__ = ["terminals_from_sources", "region_argument", "region_is_file"]

from ..scenario.sources import region_is_file  # noqa: E402  (the rule is the scenario's)


def region_argument(region: str, resolve: Callable[[str], Path] | None) -> str:
    """A region spec as `load_region` takes it; a relative GeoJSON path resolved by ``resolve``."""
    if resolve is None or not region_is_file(region):
        return region
    return str(resolve(region))


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
        Resolves a relative GeoJSON path (the scenario's directory).

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
