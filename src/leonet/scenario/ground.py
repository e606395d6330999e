"""Build a scenario's ground segment: user terminals, gateways and PoPs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ScenarioError
from ..ground.sites import GroundSites, load_gateways, load_pops, sites_from_coordinates
from ..ground.terminals import terminals_from_sources
from .load import LoadedScenario

__all__ = ["GroundSegment", "build_ground"]


@dataclass(frozen=True)
class GroundSegment:
    """The three roles of ground sites of a run.

    ``pop_of_gateway[g]`` is the index of the PoP gateway ``g`` is backhauled to.
    """

    terminals: GroundSites | None
    gateways: GroundSites
    pops: GroundSites
    pop_of_gateway: np.ndarray


def _terminals(loaded: LoadedScenario) -> GroundSites | None:
    spec = loaded.spec.ground.terminals
    if spec is None:
        return None
    seed = loaded.spec.scenario.seed
    try:
        return terminals_from_sources(
            spec.sources,
            min_elevation_deg=spec.min_elevation_deg,
            seed_for=lambda k: seed + k,
            where="ground.terminals.sources",
            resolve=loaded.resolve,
        )
    except ScenarioError as exc:
        raise ScenarioError(f"{loaded.source}: {exc}", source=loaded.source) from None


def _gateways(loaded: LoadedScenario) -> GroundSites | None:
    spec = loaded.spec.ground.gateways
    if spec is None:
        return None
    where = f"{loaded.source}: ground.gateways"
    parts = []
    try:
        if spec.country_iso2 is not None or spec.ids is not None or spec.file is not None:
            parts.append(
                load_gateways(
                    None if spec.file is None else loaded.resolve(spec.file),
                    country_iso2=spec.country_iso2,
                    ids=spec.ids,
                    min_elevation_deg=spec.min_elevation_deg,
                )
            )
        if spec.extra:
            rows = [
                dict(s.model_dump(exclude={"note"}), id=f"assumed:{s.name}", min_elevation_deg=spec.min_elevation_deg)
                for s in spec.extra
            ]
            parts.append(sites_from_coordinates("gateway", rows, source=f"{where}.extra"))
    except ScenarioError as exc:
        raise ScenarioError(f"{where}: {exc}", source=loaded.source) from None
    if not parts or sum(len(p) for p in parts) == 0:
        raise ScenarioError(f"{where}: selects no gateways; give country_iso2, ids, file or extra", source=loaded.source)
    return GroundSites.concat(parts) if len(parts) > 1 else parts[0]


def _pops(loaded: LoadedScenario) -> GroundSites | None:
    spec = loaded.spec.ground.pops
    if spec is None:
        return None
    where = f"{loaded.source}: ground.pops"
    parts = []
    try:
        if spec.ids is not None or spec.names is not None:
            parts.append(load_pops(ids=spec.ids, names=spec.names))
        if spec.extra:
            rows = [dict(s.model_dump(exclude={"note", "antenna_count"}), id=f"assumed:{s.name}") for s in spec.extra]
            parts.append(sites_from_coordinates("pop", rows, source=f"{where}.extra"))
        if not parts:
            parts.append(load_pops())
    except ScenarioError as exc:
        raise ScenarioError(f"{where}: {exc}", source=loaded.source) from None
    return GroundSites.concat(parts) if len(parts) > 1 else parts[0]


def build_ground(loaded: LoadedScenario) -> GroundSegment | None:
    """Terminals, gateways and PoPs of a scenario, or None when it has no ground segment.

    A scenario with terminals (or fleets) needs gateways too; PoPs default to
    the shipped list.  ``terminals`` is None when only fleets bring terminals.  Each gateway is
    backhauled to the PoP ``ground.pops.assignment`` names, else the nearest.
    """
    from ..routing.graph import assign_pops

    terminals, gateways, pops = _terminals(loaded), _gateways(loaded), _pops(loaded)
    if terminals is None and gateways is None and pops is None and not loaded.spec.fleets:
        return None
    need = (("gateways", gateways),) if loaded.spec.fleets else (("terminals", terminals), ("gateways", gateways))
    missing = [n for n, v in need if v is None]
    if missing:
        raise ScenarioError(
            f"{loaded.source}: ground: a ground segment needs terminals and gateways; add [ground.{missing[0]}]",
            source=loaded.source,
        )
    if pops is None:
        pops = load_pops()
    assignment = loaded.spec.ground.pops.assignment if loaded.spec.ground.pops else {}
    try:
        # Checked here, at load, so `leonet validate` reports a bad assignment too.
        pop_of_gateway = assign_pops(gateways, pops, dict(assignment))
    except ScenarioError as exc:
        raise ScenarioError(f"{loaded.source}: {exc}", source=loaded.source) from None
    return GroundSegment(terminals, gateways, pops, np.asarray(pop_of_gateway, dtype=np.int64))
