"""leonet's public API: what scripts and notebooks should import.

>>> from leonet.api import load_scenario, run_scenario, query
>>> loaded = load_scenario("ukraine")                        # doctest: +SKIP
>>> result = run_scenario(loaded, "runs/ukraine")              # doctest: +SKIP
>>> query(result.path, "SELECT avg(rtt_ms) FROM terminal_steps WHERE served")  # doctest: +SKIP

Everything else is internal and may change between versions.
"""

from __future__ import annotations

from .engine.context import RunContext
from .engine.network import NetworkModel
from .engine.run import RunResult, resume_run, run_scenario
from .errors import (
    InputFileError,
    LeonetError,
    NoRouteError,
    PropagationError,
    ScenarioError,
    TLEChecksumError,
    TLEFormatError,
)
from .ground.regions import load_region, points_in_region, sample_points
from .ground.sites import GroundSites, great_circle_km, load_cities, load_gateways, load_pops, sites_from_coordinates
from .orbits.constellation import BUILTIN_TLE, BUILTIN_WALKER, Constellation, walker_constellation
from .orbits.frames import ecef_to_geodetic, geodetic_to_ecef, look_angles, teme_to_ecef
from .orbits.propagate import Propagation, propagate
from .orbits.shells import infer_shells
from .orbits.tle import ElementSets, read_elements, read_omm_file, read_tle_file
from .orbits.walker import WalkerShell
from .results.query import list_runs, open_run, query
from .scenario.load import build_constellation, build_time_grid, builtin_scenarios, load_scenario
from .timebase import TimeGrid

__all__ = [
    # scenarios and runs
    "load_scenario",
    "builtin_scenarios",
    "build_constellation",
    "build_time_grid",
    "run_scenario",
    "resume_run",
    "RunResult",
    "RunContext",
    "NetworkModel",
    # results
    "query",
    "open_run",
    "list_runs",
    # orbits
    "TimeGrid",
    "Constellation",
    "WalkerShell",
    "walker_constellation",
    "BUILTIN_WALKER",
    "BUILTIN_TLE",
    "ElementSets",
    "read_elements",
    "read_tle_file",
    "read_omm_file",
    "infer_shells",
    "propagate",
    "Propagation",
    "teme_to_ecef",
    "geodetic_to_ecef",
    "ecef_to_geodetic",
    "look_angles",
    # ground
    "GroundSites",
    "load_cities",
    "load_gateways",
    "load_pops",
    "sites_from_coordinates",
    "great_circle_km",
    "load_region",
    "points_in_region",
    "sample_points",
    # errors
    "LeonetError",
    "ScenarioError",
    "InputFileError",
    "TLEFormatError",
    "TLEChecksumError",
    "PropagationError",
    "NoRouteError",
]
