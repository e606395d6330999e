"""A Hypatia satellite network: the whole input directory, and the ways to build one.

The representation
------------------
`SatelliteNetwork` holds everything Hypatia's state generator reads, one
object per input file of `leonet.hypatia.files`: the TLEs (S satellites),
the ground stations (G), the ISLs (``int64[E, 2]``), the range limits
(metres, as ``description.txt``) and the GSL interfaces.  Node ids are
Hypatia's: satellites ``0..S-1``, then ground station ``g`` is node
``S + g``.  The object is frozen and holds no open files.

A network comes from

* a directory of Hypatia's files (`read_satellite_network`);
* a one-shell built-in Walker constellation, as Hypatia's ``main_*.py``
  scripts build it (`walker_network`: TLEs byte for byte, +Grid ISLs,
  Hypatia's range formulas, its top-100 cities by default);
* the options of ``leonet hypatia gen-state`` (`build_network`: a built-in,
  a ``tles.txt`` or a directory, with ground stations, ISLs and limits
  replaced one by one);
* the target of ``leonet hypatia paths`` (`network_for_target`: a network
  directory, a built-in constellation or a scenario).

`write_satellite_network` writes the five files (atomically, through
`leonet.results.files.write_bytes_atomic`).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ..errors import InputFileError, ScenarioError
from .files import (
    HYPATIA_EPOCH_UTC,
    WGS72_A_M,
    Description,
    GroundStations,
    GslInterfaces,
    HypatiaTles,
    format_description,
    format_ground_stations_extended,
    format_gsl_interfaces_info,
    format_isls,
    format_tles,
    parse_dynamic_state_dirname,
    read_description,
    read_ground_stations,
    read_gsl_interfaces_info,
    read_isls,
    read_tles,
    simple_gsl_interfaces,
)

__all__ = [
    "SatelliteNetwork",
    "read_satellite_network",
    "write_satellite_network",
    "hypatia_max_lengths_m",
    "tles_from_walker",
    "walker_network",
    "build_network",
    "network_for_target",
]


@dataclass(frozen=True)
class SatelliteNetwork:
    """Everything Hypatia's state generator reads, in one object.

    Attributes
    ----------
    tles : HypatiaTles
        S satellites (``tles.txt``).
    ground_stations : GroundStations
        G stations (``ground_stations.txt``).
    isls : int64[E, 2]
        ISLs ``(a, b)``, ``a < b`` (``isls.txt``; the order numbers the interfaces).
    description : Description
        Range limits, metres (``description.txt``).
    gsl_interfaces : GslInterfaces
        S + G nodes (``gsl_interfaces_info.txt``).
    """

    tles: HypatiaTles
    ground_stations: GroundStations
    isls: NDArray[np.int64]
    description: Description
    gsl_interfaces: GslInterfaces

    @property
    def num_satellites(self) -> int:
        """S."""
        return len(self.tles)

    @property
    def num_ground_stations(self) -> int:
        """G."""
        return len(self.ground_stations)


def read_satellite_network(directory: str | Path) -> SatelliteNetwork:
    """Read a Hypatia satellite-network directory (the five input files).

    ``gsl_interfaces_info.txt`` may be missing; one interface of bandwidth 1
    per node is assumed then (what Hypatia's scripts generate).

    Parameters
    ----------
    directory : path
        Holds ``tles.txt``, ``ground_stations.txt``, ``isls.txt``,
        ``description.txt`` and optionally ``gsl_interfaces_info.txt``.

    Returns
    -------
    SatelliteNetwork

    Raises
    ------
    InputFileError
        Not a directory, a missing file, or a file the readers of
        `leonet.hypatia.files` refuse.
    """
    d = Path(directory)
    if not d.is_dir():
        raise InputFileError(str(d), "is not a directory (expected a Hypatia satellite network: tles.txt, isls.txt, ...)")
    tles = read_tles(d / "tles.txt")
    gs = read_ground_stations(d / "ground_stations.txt")
    isls = read_isls(d / "isls.txt", len(tles))
    desc = read_description(d / "description.txt")
    if (d / "gsl_interfaces_info.txt").exists():
        info = read_gsl_interfaces_info(d / "gsl_interfaces_info.txt", len(tles), len(gs))
    else:
        info = simple_gsl_interfaces(len(tles), len(gs))
    return SatelliteNetwork(tles, gs, isls, desc, info)


def write_satellite_network(directory: str | Path, network: SatelliteNetwork) -> None:
    """Write the five input files (creating the directory).

    Each file is written atomically (a kill leaves the old file or the new
    one) and never through a symbolic link
    (`leonet.results.files.write_bytes_atomic`).  The ground stations are
    written in the extended format.

    Parameters
    ----------
    directory : path
    network : SatelliteNetwork

    Raises
    ------
    ScenarioError
        If the directory cannot be created.
    """
    d = Path(directory)
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ScenarioError(f"cannot create output directory {d}: {exc.strerror}") from None
    from ..results.files import write_bytes_atomic

    for name, text in (
        ("tles.txt", format_tles(network.tles)),
        ("isls.txt", format_isls(network.isls)),
        ("ground_stations.txt", format_ground_stations_extended(network.ground_stations)),
        ("description.txt", format_description(network.description)),
        ("gsl_interfaces_info.txt", format_gsl_interfaces_info(network.gsl_interfaces)),
    ):
        write_bytes_atomic(d / name, text.encode("utf-8"))


# --------------------------------------------------------------------------- built-in Walker shells


def hypatia_max_lengths_m(altitude_m: float, cone_radius_m: float = 940_700.0, min_beam_altitude_m: float = 80_000.0) -> Description:
    """Hypatia's range limits for a shell at ``altitude_m``, computed in metres as its scripts do.

    ``max_gsl = sqrt(cone^2 + h^2)`` and ``max_isl = 2 sqrt((R + h)^2 - (R + 80 km)^2)``,
    R = 6,378,135 m (``paper/satellite_networks_state/main_starlink_550.py``).
    See `leonet.links.isl.max_gsl_length_km` and `~leonet.links.isl.max_isl_length_km`.

    Parameters
    ----------
    altitude_m : float
        Shell altitude, metres.
    cone_radius_m : float
        Radius of the satellite's coverage cone on the ground, metres.
    min_beam_altitude_m : float
        Lowest altitude an ISL may graze, metres.

    Returns
    -------
    Description
        The two limits, metres.

    Examples
    --------
    >>> d = hypatia_max_lengths_m(550_000)
    >>> "%.10f %.10f" % (d.max_gsl_length_m, d.max_isl_length_m)
    '1089686.4181956202 5016591.2330984278'
    """
    r = WGS72_A_M
    gsl = math.sqrt(math.pow(cone_radius_m, 2) + math.pow(altitude_m, 2))
    isl = 2 * math.sqrt(math.pow(r + altitude_m, 2) - math.pow(r + min_beam_altitude_m, 2))
    return Description(gsl, isl)


def tles_from_walker(shell, epoch_utc: dt.datetime = HYPATIA_EPOCH_UTC) -> HypatiaTles:
    """Hypatia's TLEs of a Walker shell.

    For ``BUILTIN_WALKER["starlink-550"]`` at the default epoch this is
    Hypatia's ``tles.txt`` byte for byte.

    Parameters
    ----------
    shell : leonet.orbits.walker.WalkerShell
    epoch_utc : datetime.datetime
        Element epoch (UTC).

    Returns
    -------
    HypatiaTles
        ``planes x sats_per_plane`` satellites, plane by plane.
    """
    from ..orbits.walker import walker_tle_lines

    lines = walker_tle_lines(shell, epoch_utc)
    return HypatiaTles(
        shell.planes,
        shell.sats_per_plane,
        [n for n, _, _ in lines],
        [a for _, a, _ in lines],
        [b for _, _, b in lines],
        epoch_utc,
    )


def walker_network(
    constellation: str = "starlink-550",
    ground_stations: GroundStations | str | Path | None = None,
    *,
    isl: str = "plus-grid",
    isl_shift: int = 0,
    max_gsl_length_m: float | None = None,
    max_isl_length_m: float | None = None,
    epoch_utc: dt.datetime = HYPATIA_EPOCH_UTC,
) -> SatelliteNetwork:
    """A Hypatia network from a one-shell built-in Walker constellation, as Hypatia's ``main_*.py`` builds it.

    Parameters
    ----------
    constellation : str
        A key of `leonet.orbits.constellation.BUILTIN_WALKER` with a single shell
        (Hypatia's ``tles.txt`` has one ``planes sats_per_plane`` header).
    ground_stations : GroundStations or path, optional
        Default: Hypatia's top-100 cities.
    isl : {"plus-grid", "none"}
    isl_shift : int
        +Grid cross-plane slot offset.
    max_gsl_length_m, max_isl_length_m : float, optional
        Range limits, metres.  Default: Hypatia's formulas for the shell's
        nominal altitude (`hypatia_max_lengths_m`).
    epoch_utc : datetime.datetime
        TLE epoch (Hypatia: 2000-01-01 00:00 UTC).

    Returns
    -------
    SatelliteNetwork

    Raises
    ------
    ScenarioError
        An unknown or multi-shell constellation, or an unknown ``isl``.

    Examples
    --------
    >>> net = walker_network("starlink-550")
    >>> net.num_satellites, net.num_ground_stations, net.isls.shape
    (1584, 100, (3168, 2))
    """
    from ..links.isl import plus_grid_pairs
    from ..orbits.constellation import BUILTIN_WALKER, unknown_builtin

    if constellation not in BUILTIN_WALKER:
        raise unknown_builtin(constellation)
    _, shells = BUILTIN_WALKER[constellation]
    if len(shells) != 1:
        raise ScenarioError(
            f"constellation {constellation!r} has {len(shells)} shells; a Hypatia network has one "
            "(tles.txt's header is one 'planes sats_per_plane'): pick a one-shell constellation "
            "or pass --tles with your own tles.txt"
        )
    shell = shells[0]
    tles = tles_from_walker(shell, epoch_utc)
    if not isinstance(ground_stations, GroundStations):
        ground_stations = read_ground_stations(ground_stations)
    if isl == "plus-grid":
        pairs = plus_grid_pairs(shell.planes, shell.sats_per_plane, isl_shift)
    elif isl == "none":
        pairs = np.zeros((0, 2), dtype=np.int64)
    else:
        raise ScenarioError(f"isl {isl!r} is not one of plus-grid, none")
    default = hypatia_max_lengths_m(shell.altitude_km * 1000.0)
    desc = Description(
        default.max_gsl_length_m if max_gsl_length_m is None else float(max_gsl_length_m),
        default.max_isl_length_m if max_isl_length_m is None else float(max_isl_length_m),
    )
    return SatelliteNetwork(tles, ground_stations, pairs, desc, simple_gsl_interfaces(len(tles), len(ground_stations)))


# --------------------------------------------------------------------------- from gen-state's options


def build_network(
    *,
    constellation: str | None = None,
    tles: str | Path | None = None,
    input_dir: str | Path | None = None,
    ground_stations: str | Path | None = None,
    isl: str = "plus-grid",
    isls: str | Path | None = None,
    isl_shift: int = 0,
    max_gsl_length_m: float | None = None,
    max_isl_length_m: float | None = None,
) -> SatelliteNetwork:
    """The network ``leonet hypatia gen-state`` writes, from its options.

    The satellites come from one of ``constellation`` (a one-shell built-in,
    default ``starlink-550``), ``tles`` (Hypatia's ``tles.txt``) or
    ``input_dir`` (a whole Hypatia network directory); the other arguments
    replace that source's ground stations, ISLs and range limits.  Error
    messages name the command-line options (``--tles`` for ``tles``, ...).

    Parameters
    ----------
    constellation : str, optional
        Key of `leonet.orbits.constellation.BUILTIN_WALKER` (one shell).
    tles : path, optional
        Hypatia ``tles.txt``; needs both range limits.
    input_dir : path, optional
        Hypatia network directory (`read_satellite_network`).
    ground_stations : path, optional
        Basic or extended ground-station file (default for a built-in or
        ``tles``: Hypatia's top-100 cities; for ``input_dir``: its own).
    isl : {"plus-grid", "none"}
        ISL topology for a built-in or ``tles`` (ignored with ``isls``).
    isls : path, optional
        Hypatia ``isls.txt`` instead of ``isl``.
    isl_shift : int
        +Grid cross-plane slot offset.
    max_gsl_length_m, max_isl_length_m : float, optional
        Range limits, metres (positive).

    Returns
    -------
    SatelliteNetwork

    Raises
    ------
    ScenarioError, InputFileError
        Two satellite sources, a limit that is not positive, an unknown
        ``isl``, ``tles`` without both limits, +Grid over a ``tles.txt``
        whose header does not match its satellites, or a bad input file.

    Examples
    --------
    >>> net = build_network(isl="none", max_gsl_length_m=1_000_000.0)
    >>> net.isls.shape, net.description.max_gsl_length_m
    ((0, 2), 1000000.0)
    """
    given = [name for name, v in (("--constellation", constellation), ("--tles", tles), ("--input-dir", input_dir)) if v is not None]
    if len(given) > 1:
        raise ScenarioError(f"give one satellite source, not {' and '.join(given)}")
    for name, value in (("--max-gsl-length-m", max_gsl_length_m), ("--max-isl-length-m", max_isl_length_m)):
        if value is not None and not value > 0:
            raise ScenarioError(f"{name} must be a positive length in metres, got {value}")
    if isl not in ("plus-grid", "none"):
        raise ScenarioError(f"--isl {isl!r} is not one of plus-grid, none (or give --isls FILE)")
    if input_dir is not None:
        return _network_from_directory(input_dir, ground_stations, isls, max_gsl_length_m, max_isl_length_m)
    if tles is None:
        gs = read_ground_stations(ground_stations)
        net = walker_network(
            constellation or "starlink-550", gs, isl=isl, isl_shift=isl_shift,
            max_gsl_length_m=max_gsl_length_m, max_isl_length_m=max_isl_length_m,
        )
        if isls is not None:
            net = replace(net, isls=read_isls(isls, net.num_satellites))
        return net
    return _network_from_tles(tles, ground_stations, isl, isls, isl_shift, max_gsl_length_m, max_isl_length_m)


def _network_from_directory(input_dir, ground_stations, isls, max_gsl_length_m, max_isl_length_m) -> SatelliteNetwork:
    """`build_network` from a Hypatia directory, with its files replaced by the options given."""
    net = read_satellite_network(input_dir)
    if ground_stations is not None:
        gs = read_ground_stations(ground_stations)
        net = replace(net, ground_stations=gs, gsl_interfaces=simple_gsl_interfaces(net.num_satellites, len(gs)))
    if isls is not None:
        net = replace(net, isls=read_isls(isls, net.num_satellites))
    desc = net.description
    return replace(
        net,
        description=Description(
            desc.max_gsl_length_m if max_gsl_length_m is None else max_gsl_length_m,
            desc.max_isl_length_m if max_isl_length_m is None else max_isl_length_m,
        ),
    )


def _network_from_tles(tles, ground_stations, isl, isls, isl_shift, max_gsl_length_m, max_isl_length_m) -> SatelliteNetwork:
    """`build_network` from a ``tles.txt``: +Grid from its header, or the ISLs given."""
    from ..links.isl import plus_grid_pairs

    t = read_tles(tles)
    if max_gsl_length_m is None or max_isl_length_m is None:
        raise ScenarioError(
            "with --tles, give --max-gsl-length-m and --max-isl-length-m (the values of Hypatia's description.txt; "
            "for a shell at altitude h they are sqrt(940.7 km^2 + h^2) and 2 sqrt((R+h)^2 - (R+80 km)^2), "
            "R = 6378.135 km), or use --input-dir with a whole Hypatia network directory"
        )
    gs = read_ground_stations(ground_stations)
    if isls is not None:
        pairs = read_isls(isls, len(t))
    elif isl == "none":
        pairs = np.zeros((0, 2), dtype=np.int64)
    else:
        if t.planes * t.sats_per_plane != len(t):
            raise InputFileError(
                str(tles),
                f"its header says {t.planes} planes x {t.sats_per_plane} satellites = {t.planes * t.sats_per_plane}, "
                f"but it holds {len(t)} satellites, so +Grid ISLs cannot be laid out: give --isls FILE or --isl none",
                line=1,
            )
        pairs = plus_grid_pairs(t.planes, t.sats_per_plane, isl_shift)
    return SatelliteNetwork(
        t, gs, pairs, Description(max_gsl_length_m, max_isl_length_m), simple_gsl_interfaces(len(t), len(gs))
    )


# --------------------------------------------------------------------------- from paths' target


def network_for_target(target: str):
    """The network of ``leonet hypatia paths``'s target, and where it came from.

    Parameters
    ----------
    target : str
        A Hypatia network directory (or one of its ``dynamic_state_*``
        folders), a built-in one-shell Walker constellation, or a scenario
        (file or built-in name) whose only constellation is such a built-in.

    Returns
    -------
    network : SatelliteNetwork
    source : pathlib.Path, leonet.scenario.load.LoadedScenario or None
        The network directory (to look for ``dynamic_state_*`` folders in),
        the loaded scenario (its time grid gives the default step and
        duration), or None for a built-in constellation (epoch: Hypatia's).

    Raises
    ------
    InputFileError, ScenarioError
        A directory without ``tles.txt``, or a scenario that is not one
        built-in one-shell Walker constellation.
    """
    p = Path(target).expanduser()
    if p.is_dir():
        if (p / "tles.txt").exists():
            return read_satellite_network(p), p
        if parse_dynamic_state_dirname(p.name) is not None and (p.parent / "tles.txt").exists():
            return read_satellite_network(p.parent), p.parent
        raise InputFileError(str(p), "is not a Hypatia satellite-network directory (no tles.txt)")
    from ..orbits.constellation import BUILTIN_WALKER

    if target in BUILTIN_WALKER:
        return walker_network(target), None
    from ..scenario.load import load_scenario

    loaded = load_scenario(target)
    cs = loaded.spec.constellations
    if len(cs) == 1 and cs[0].kind == "builtin" and cs[0].builtin in BUILTIN_WALKER:
        return walker_network(cs[0].builtin, epoch_utc=loaded.spec.time.start_utc), loaded
    raise ScenarioError(
        f"scenario {target!r}: `leonet hypatia paths` needs one built-in one-shell Walker constellation "
        "(a Hypatia network); write it out with `leonet hypatia gen-state` instead"
    )
