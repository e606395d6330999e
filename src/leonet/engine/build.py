"""Assemble a run's parts from its validated scenario: time grid, constellation, ground segment.

The scenario (`leonet.scenario`) describes; this module builds.  Each
function takes a `~leonet.scenario.load.LoadedScenario` and returns one part
of the run, with the scenario's file name and field path in any message:

``build_time_grid``        the UTC epoch and int64 ns offsets of every step
``build_constellation``    every constellation source in one satellite index space
``constellation_from_source``  a built-in name or an element-set file (what the CLI's ``sats``/``visible`` take)
``build_ground``           terminals, gateways and PoPs, and each gateway's PoP
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputFileError, ScenarioError
from ..ground.pops import assign_pops, assignment_snapshot_for, check_pop_overrides
from ..ground.sites import (
    GroundSites,
    data_path,
    load_gateways,
    load_pops,
    sites_from_coordinates,
)
from ..ground.terminals import terminals_from_sources
from ..orbits.constellation import (
    BUILTIN_TLE,
    BUILTIN_WALKER,
    STALE_ELEMENTS_DAYS,
    Constellation,
    StaleElementsWarning,
    walker_constellation,
    warn_if_stale,
)
from ..orbits.walker import WalkerShell
from ..scenario.catalog import unknown_constellation_message
from ..scenario.load import LoadedScenario, expand_path
from ..scenario.schema import ShellSpec
from ..timebase import TimeGrid

__all__ = [
    "build_time_grid",
    "build_constellation",
    "constellation_from_source",
    "walker_shell",
    "warn_if_stale",
    "StaleElementsWarning",
    "STALE_ELEMENTS_DAYS",
    "GroundSegment",
    "build_ground",
]

def walker_shell(spec: ShellSpec, default_name: str) -> WalkerShell:
    """The orbit engine's `~leonet.orbits.walker.WalkerShell` of a scenario shell."""
    return WalkerShell(
        name=spec.name or default_name,
        altitude_km=spec.altitude_km,
        inclination_deg=spec.inclination_deg,
        planes=spec.planes,
        sats_per_plane=spec.sats_per_plane,
        phase_factor=spec.phase_factor,
        phasing=spec.phasing,
        mean_motion_rev_per_day=spec.mean_motion_rev_per_day,
        min_elevation_deg=spec.min_elevation_deg,
        raan_offset_deg=spec.raan_offset_deg,
    )


def build_time_grid(loaded: LoadedScenario) -> TimeGrid:
    """The scenario's time grid."""
    t = loaded.spec.time
    try:
        return TimeGrid.regular(t.start_utc, t.duration_ns, t.step_ns)
    except ScenarioError as exc:
        raise ScenarioError(f"{loaded.source}: time: {exc}", source=loaded.source) from None


def build_constellation(loaded: LoadedScenario, *, lenient: bool = False, warn_stale: bool = True) -> Constellation:
    """Build every constellation source of the scenario into one index space.

    Warns (`StaleElementsWarning`) when the window starts more than
    `STALE_ELEMENTS_DAYS` from an element set's epoch.
    """
    from ..orbits.tle import read_elements

    spec = loaded.spec
    start = spec.time.start_utc
    parts: list[Constellation] = []
    for i, c in enumerate(spec.constellations):
        if c.kind == "builtin":
            if c.builtin in BUILTIN_WALKER:
                _, shells = BUILTIN_WALKER[c.builtin]
                if c.min_elevation_deg is not None:
                    from dataclasses import replace

                    shells = [replace(s, min_elevation_deg=c.min_elevation_deg) for s in shells]
                parts.append(walker_constellation(c.builtin, shells, start))
            else:
                _, filename, mask = BUILTIN_TLE[c.builtin]
                elements = read_elements(data_path("tle", filename), lenient=lenient)
                parts.append(Constellation.from_elements(c.builtin, elements, mask if c.min_elevation_deg is None else c.min_elevation_deg))
        elif c.kind == "walker":
            shells = [walker_shell(s, f"{c.name}-{k + 1}") for k, s in enumerate(c.shells)]
            parts.append(walker_constellation(c.name, shells, start))
        else:
            elements = read_elements(loaded.resolve(c.file), lenient=lenient or c.lenient)
            parts.append(Constellation.from_elements(c.name, elements, c.min_elevation_deg))
    constellation = Constellation.concat(spec.scenario.name, parts)
    if warn_stale:
        warn_if_stale(constellation, start)
    return constellation


def constellation_from_source(source: str, epoch_utc=None, *, lenient: bool = False) -> Constellation:
    """A constellation from a built-in name or an element-set file (for the CLI).

    Walker shells get their element epoch at ``epoch_utc`` (default: now).
    """
    import datetime as dt

    from ..orbits.tle import read_elements

    if source in BUILTIN_WALKER:
        _, shells = BUILTIN_WALKER[source]
        return walker_constellation(source, shells, epoch_utc or dt.datetime.now(dt.timezone.utc))
    if source in BUILTIN_TLE:
        _, filename, mask = BUILTIN_TLE[source]
        return Constellation.from_elements(source, read_elements(data_path("tle", filename), lenient=lenient), mask)
    path = expand_path(source, source)
    try:
        exists = path.exists()
    except (ValueError, OSError) as exc:  # a NUL byte, a name too long...
        raise InputFileError(
            source[:100], f"not a usable file name ({str(exc)[:100]}); give an element-set file or a built-in name"
        ) from None
    if exists:
        return Constellation.from_elements(path.stem, read_elements(path, lenient=lenient))
    if "/" in source or "." in source:
        raise InputFileError(source, "no such file")
    raise ScenarioError(unknown_constellation_message(source))


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
        # No filter and no extra sites: the whole list (a network study of the real ground segment).
        whole = not spec.extra and spec.country_iso2 is None and spec.ids is None and spec.file is None
        if whole or spec.country_iso2 is not None or spec.ids is not None or spec.file is not None:
            parts.append(
                load_gateways(
                    None if spec.file is None else loaded.resolve(spec.file),
                    catalog=spec.catalog,
                    include_planned=spec.include_planned,
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
        raise ScenarioError(f"{where}: selects no gateways; widen country_iso2 or ids, or give a file or extra sites",
                            source=loaded.source)
    return GroundSites.concat(parts) if len(parts) > 1 else parts[0]


def _pops(loaded: LoadedScenario) -> GroundSites | None:
    spec = loaded.spec.ground.pops
    if spec is None:
        return None
    where = f"{loaded.source}: ground.pops"
    parts = []
    try:
        if spec.ids is not None or spec.names is not None:
            parts.append(load_pops(catalog=spec.catalog, ids=spec.ids, names=spec.names))
        if spec.extra:
            rows = [dict(s.model_dump(exclude={"note", "antenna_count"}), id=f"assumed:{s.name}") for s in spec.extra]
            parts.append(sites_from_coordinates("pop", rows, source=f"{where}.extra"))
        if not parts:
            parts.append(load_pops(catalog=spec.catalog))
    except ScenarioError as exc:
        raise ScenarioError(f"{where}: {exc}", source=loaded.source) from None
    return GroundSites.concat(parts) if len(parts) > 1 else parts[0]


def _assumed_gateways_at_pops(loaded: LoadedScenario, gateways: GroundSites, pops: GroundSites) -> GroundSites:
    """The run's gateways plus an assumed one at each PoP the public list leaves without a gateway nearby.

    Starlink brings a PoP's traffic down at gateways near it; public gateway
    lists miss many sites (2026: 26 of 76 PoPs have no listed gateway within
    500 km, mostly in Africa and South Asia).  Without them a route would land
    thousands of km away and cross continents on fibre, which no published
    latency shows.  ASSUMPTION (a rule, the same everywhere): when the run
    uses a whole shipped gateway list, every PoP with no gateway within
    ``ground.gateways.assume_at_pops_km`` gets one at its site, with the
    list's median antenna count.  Ids ``"assumed:pop:<PoP id>"``.
    """
    spec = loaded.spec.ground.gateways
    radius = 0.0 if spec is None else spec.assume_at_pops_km
    whole = spec is not None and not spec.extra and spec.country_iso2 is None and spec.ids is None and spec.file is None
    if radius <= 0 or not whole or len(pops) == 0:
        return gateways
    from ..ground.sites import great_circle_km

    far = [k for k in range(len(pops))
           if len(gateways) == 0 or great_circle_km(gateways.lat_deg, gateways.lon_deg, pops.lat_deg[k], pops.lon_deg[k]).min() > radius]
    if not far:
        return gateways
    antennas = int(np.median(gateways.antenna_count)) if len(gateways) else 8
    rows = [
        {"id": f"assumed:pop:{pops.ids[k]}", "name": f"{pops.names[k]} (assumed gateway)", "lat_deg": float(pops.lat_deg[k]),
         "lon_deg": float(pops.lon_deg[k]), "antenna_count": antennas, "country_iso2": pops.country_iso2[k],
         "min_elevation_deg": spec.min_elevation_deg, "band": "Ka"}
        for k in far
    ]
    return GroundSites.concat([gateways, sites_from_coordinates("gateway", rows, source="assumed gateways at PoPs")])


def build_ground(loaded: LoadedScenario) -> GroundSegment | None:
    """Terminals, gateways and PoPs of a scenario, or None when it has no ground segment.

    A scenario with terminals (or fleets) needs gateways too; PoPs default to
    the shipped list.  ``terminals`` is None when only fleets bring terminals.  Each gateway is
    backhauled to the PoP ``ground.pops.assignment`` names, else the nearest.
    """
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
    gateways = _assumed_gateways_at_pops(loaded, gateways, pops)
    assignment = loaded.spec.ground.pops.assignment if loaded.spec.ground.pops else {}
    try:
        # Checked here, at load, so `leonet validate` reports a bad assignment too.
        pop_of_gateway = assign_pops(gateways, pops, dict(assignment))
        if loaded.spec.ground.pops is not None:
            check_pop_overrides(loaded.spec.ground.pops.country_pop, pops, assignment_snapshot_for(
                loaded.spec.ground.pops.assignment_snapshot, loaded.spec.time.start_utc))
    except ScenarioError as exc:
        raise ScenarioError(f"{loaded.source}: {exc}", source=loaded.source) from None
    return GroundSegment(terminals, gateways, pops, np.asarray(pop_of_gateway, dtype=np.int64))
