"""Hypatia interop: a drop-in, fast replacement for Hypatia's satgenpy state generator.

Hypatia (snkas/hypatia, Kassing et al., IMC 2020) describes a satellite
network as a directory of text files and computes, with its ``satgenpy``,
the forwarding state its ns-3 simulator replays.  This package reads and
writes those files and computes the same forwarding state
(``algorithm_free_one_only_over_isls``) about 1000x faster.

It is an adapter *above* leonet's stages: it uses `leonet.orbits`
(SGP4, frames, Walker shells), `leonet.links.isl` (+Grid, link lengths,
interface numbers), `leonet.routing.graph` (the per-step graph) and
`leonet.results` (atomic files, the directory lock); nothing below it
imports it.  ``leonet hypatia`` (`leonet.cli_hypatia`) is its command line.

Modules, in the order data flows through them:

`leonet.hypatia.files`
    Hypatia's file formats: ``tles.txt``, ``isls.txt``,
    ``ground_stations.txt``, ``description.txt``,
    ``gsl_interfaces_info.txt``, ``fstate_<t>.txt``,
    ``gsl_if_bandwidth_<t>.txt`` -- read (validated) and formatted.
`leonet.hypatia.network`
    `SatelliteNetwork` (all input files in one object); read or write a
    directory; build one from a built-in Walker shell, from
    ``gen-state``'s options, or from ``paths``'s target.
`leonet.hypatia.geometry`
    Node positions over time, by leonet's geometry or pyephem's (satgenpy's).
`leonet.hypatia.router`
    `FreeOneOnlyOverIsls`: one step's forwarding state, warm-started; what
    it shares with a run's routing stage and why the rest is its own.
`leonet.hypatia.state`
    The time loop: `generate_dynamic_state` (the ``dynamic_state_*``
    folder), `iter_states`, and `gen_state` (``leonet hypatia gen-state``).
`leonet.hypatia.paths`
    Paths and RTTs between two stations (`pair_timeline`) and `pair_paths`
    (``leonet hypatia paths``).

Examples
--------
>>> from leonet import hypatia
>>> net = hypatia.walker_network("starlink-550")  # Hypatia's Starlink-550 and top-100 cities
>>> tl = hypatia.pair_timeline(hypatia.iter_states(net, 1, 500), 1608, 1605, net.num_satellites)
>>> hypatia.format_path(tl.path_changes[0][1])  # Paris -> Moscow at t = 0
'1608-137-159-1605'
"""

from __future__ import annotations

from .files import (
    HYPATIA_EPOCH_UTC,
    Description,
    GroundStations,
    GslInterfaces,
    HypatiaTles,
    dynamic_state_dirname,
    fstate_text,
    read_fstate_file,
    read_ground_stations,
)
from .geometry import GEOMETRIES, network_positions
from .network import (
    SatelliteNetwork,
    build_network,
    network_for_target,
    read_satellite_network,
    walker_network,
    write_satellite_network,
)
from .paths import (
    PairTimeline,
    follow_path,
    format_path,
    pair_paths,
    pair_timeline,
    path_length_km,
    write_pair_files,
)
from .router import FreeOneOnlyOverIsls, StepState
from .state import (
    MARKER_NAME,
    DynamicStateSummary,
    gen_state,
    generate_dynamic_state,
    iter_states,
)

__all__ = [
    "HYPATIA_EPOCH_UTC",
    "HypatiaTles",
    "GroundStations",
    "Description",
    "GslInterfaces",
    "read_ground_stations",
    "dynamic_state_dirname",
    "fstate_text",
    "read_fstate_file",
    "SatelliteNetwork",
    "read_satellite_network",
    "write_satellite_network",
    "walker_network",
    "build_network",
    "network_for_target",
    "GEOMETRIES",
    "network_positions",
    "StepState",
    "FreeOneOnlyOverIsls",
    "MARKER_NAME",
    "DynamicStateSummary",
    "generate_dynamic_state",
    "iter_states",
    "gen_state",
    "follow_path",
    "path_length_km",
    "format_path",
    "PairTimeline",
    "pair_timeline",
    "pair_paths",
    "write_pair_files",
]
