"""Hypatia's satellite-network-state input files: read, validate, write.

The representation
------------------
Hypatia's ``satgenpy`` (snkas/hypatia, Kassing et al., IMC 2020) describes a
satellite network as a directory of small text files, which its ns-3 simulator
then reads.  leonet reads and writes them in exactly the same formats:

``tles.txt``
    A header line ``"<planes> <sats_per_plane>"``, then three lines per
    satellite: a name line whose second token is the satellite id (``0..S-1``,
    in order) and the two TLE lines.  All element sets share one epoch.
``isls.txt``
    One undirected laser link per line, ``"a b"`` with ``a < b``.  The order
    matters: it numbers each satellite's ISL interfaces (`interface_numbers`).
``ground_stations.txt``
    *Basic* (5 columns ``gid,name,lat_deg,lon_deg,elevation_m``) or
    *extended* (8 columns, adding the WGS72 cartesian ``x,y,z`` in metres).
    Ground station ``gid`` is network node ``S + gid``.
``description.txt``
    ``max_gsl_length_m=<%.10f>`` and ``max_isl_length_m=<%.10f>``.
``gsl_interfaces_info.txt``
    ``node_id,number_of_interfaces,aggregate_max_bandwidth`` for every node.

Every reader validates once, at the edge, and raises
`~leonet.errors.InputFileError` naming the file, the line, the bad value and
the fix.  The values are then held in the plain dataclasses below, in
leonet's units (km), with the file's own metre values kept where they must be
written back bit for bit.

Hypatia's conventions reproduced here, with their source in satgenpy:
``read_tles`` (header, ids, one epoch), ``read_isls`` (``a < b``, no
duplicates), ``read_ground_stations_{basic,extended}`` (ids increase by one),
``extend_ground_stations`` + ``geodetic2cartesian`` (WGS72: a = 6,378,135 m,
f = 1/298.26; lines ``"%d,%s,%f,%f,%f,%f,%f,%f"``), ``generate_description``
and ``generate_simple_gsl_interfaces_info`` (``"%d,%d,%f"``).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import InputFileError, ScenarioError, TLEFormatError

__all__ = [
    "HYPATIA_EPOCH_UTC",
    "HypatiaTles",
    "GroundStations",
    "Description",
    "GslInterfaces",
    "SatelliteNetwork",
    "DEFAULT_GROUND_STATIONS",
    "read_tles",
    "format_tles",
    "tles_from_walker",
    "read_ground_stations",
    "format_ground_stations_extended",
    "hypatia_geodetic_to_ecef_m",
    "read_isls",
    "format_isls",
    "read_description",
    "format_description",
    "hypatia_max_lengths_m",
    "read_gsl_interfaces_info",
    "format_gsl_interfaces_info",
    "simple_gsl_interfaces",
    "read_satellite_network",
    "write_satellite_network",
    "walker_network",
]

#: Epoch of Hypatia's generated TLEs (``00001.00000000``), UTC.
HYPATIA_EPOCH_UTC = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)

#: Hypatia's top-100 cities by estimated 2025 population, shipped with leonet
#: (``paper/satellite_networks_state/input_data``; see ``leonet/data/SOURCES.md``).
DEFAULT_GROUND_STATIONS = "hypatia_cities_top_100_by_est_2025_pop.basic.txt"

#: Hypatia's WGS72 ellipsoid for ground stations (``geodetic2cartesian``).
_WGS72_A_M = 6378135.0
_WGS72_F = 1.0 / 298.26


def _read_lines(path: str | Path) -> list[str]:
    from ..inputs import read_input_bytes

    data = read_input_bytes(path, "a Hypatia network file", "no such file")  # regular files only (never a FIFO)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputFileError(str(path), f"is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return text.splitlines()


# --------------------------------------------------------------------------- tles.txt


@dataclass(frozen=True)
class HypatiaTles:
    """The satellites of a Hypatia network (``tles.txt``).

    Attributes
    ----------
    planes, sats_per_plane : int
        The header (for +Grid ISLs); their product need not be S for files
        Hypatia did not generate, but +Grid requires it.
    names : list of str, [S]
        Name lines (second token is the satellite id).
    line1, line2 : list of str, [S]
        The TLE lines, as in the file.
    epoch_utc : datetime.datetime
        The common element epoch (UTC), time 0 of the dynamic state.
    """

    planes: int
    sats_per_plane: int
    names: list[str]
    line1: list[str]
    line2: list[str]
    epoch_utc: dt.datetime

    def __len__(self) -> int:
        return len(self.names)

    def satrecs(self) -> list:
        """sgp4 ``Satrec`` objects (WGS72), one per satellite."""
        from sgp4.api import WGS72, Satrec

        return [Satrec.twoline2rv(a, b, WGS72) for a, b in zip(self.line1, self.line2)]


def _tle_epoch_utc(line1: str) -> dt.datetime:
    year = int(line1[18:20])
    day = float(line1[20:32])
    year += 2000 if year < 57 else 1900
    # Keep the day fraction to the microsecond, as the TLE's 8 decimals allow (0.86 ms).
    return dt.datetime(year, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(days=day - 1.0)


def read_tles(path: str | Path) -> HypatiaTles:
    """Read Hypatia's ``tles.txt``.

    Raises
    ------
    InputFileError, TLEFormatError
        Missing or malformed header, a satellite id out of sequence, a TLE that
        sgp4 cannot parse, or epochs that differ (Hypatia requires one epoch).
    """
    from sgp4.api import WGS72, Satrec

    path = str(path)
    lines = [line.rstrip("\r\n") for line in _read_lines(path)]
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise InputFileError(path, "is empty; expected a header line '<planes> <sats_per_plane>' and 3 lines per satellite")
    head = lines[0].split()
    if len(head) != 2 or not all(h.isdigit() for h in head):
        raise InputFileError(
            path,
            f"header {lines[0]!r} is not '<planes> <sats_per_plane>' (two positive integers, e.g. '72 22'); "
            "Hypatia's tles.txt starts with it",
            line=1,
        )
    planes, per_plane = int(head[0]), int(head[1])
    body = lines[1:]
    if len(body) % 3:
        raise InputFileError(
            path,
            f"has {len(body)} lines after the header, not a multiple of 3 (name line, line 1, line 2 per satellite)",
            line=len(lines),
        )
    names, l1s, l2s = [], [], []
    epoch = None
    for k in range(len(body) // 3):
        name, l1, l2 = body[3 * k], body[3 * k + 1], body[3 * k + 2]
        lineno = 2 + 3 * k
        tokens = name.split()
        if len(tokens) < 2 or not tokens[1].lstrip("-").isdigit() or int(tokens[1]) != k:
            raise InputFileError(
                path,
                f"name line {name!r} should give the satellite id {k} as its second token "
                f"(Hypatia's format: '<name> {k}'); ids must count up from 0",
                line=lineno,
            )
        if not (l1.startswith("1 ") and l2.startswith("2 ")):
            raise TLEFormatError(path, f"satellite {k}: expected TLE lines starting '1 ' and '2 ', got {l1[:10]!r}, {l2[:10]!r}", line=lineno + 1)
        try:
            Satrec.twoline2rv(l1, l2, WGS72)
            this_epoch = _tle_epoch_utc(l1)
        except Exception as exc:  # sgp4 raises ValueError with its own text
            raise TLEFormatError(path, f"satellite {k}: sgp4 cannot parse its TLE: {exc}", line=lineno + 1) from None
        if epoch is None:
            epoch = this_epoch
        elif abs((this_epoch - epoch).total_seconds()) > 1e-6:
            raise InputFileError(
                path,
                f"satellite {k} has epoch {this_epoch.isoformat()} but satellite 0 has {epoch.isoformat()}; "
                "Hypatia's state generator requires one epoch for all element sets (it is time 0)",
                line=lineno + 1,
            )
        names.append(name)
        l1s.append(l1)
        l2s.append(l2)
    if not names:
        raise InputFileError(path, "has a header but no satellites", line=1)
    return HypatiaTles(planes, per_plane, names, l1s, l2s, epoch)


def format_tles(tles: HypatiaTles) -> str:
    """The text of ``tles.txt``."""
    out = [f"{tles.planes} {tles.sats_per_plane}\n"]
    for name, a, b in zip(tles.names, tles.line1, tles.line2):
        out.append(f"{name}\n{a}\n{b}\n")
    return "".join(out)


def tles_from_walker(shell, epoch_utc: dt.datetime = HYPATIA_EPOCH_UTC) -> HypatiaTles:
    """Hypatia's TLEs of a Walker shell (`leonet.orbits.walker.WalkerShell`).

    For ``BUILTIN_WALKER["starlink-550"]`` at the default epoch this is
    Hypatia's ``tles.txt`` byte for byte.
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


# --------------------------------------------------------------------------- ground_stations.txt


@dataclass(frozen=True)
class GroundStations:
    """Hypatia ground stations (basic or extended file).

    Attributes
    ----------
    names : list of str, [G]
    latitude_deg, longitude_deg : float64[G]
        Geodetic, degrees (Hypatia passes them to pyephem; WGS72 for x, y, z).
    elevation_m : float64[G]
        Height, metres (Hypatia's unit, kept for writing back).
    r_ecef_km : float64[G, 3]
        Cartesian position, km, ECEF: the extended file's x, y, z, or
        Hypatia's WGS72 ``geodetic2cartesian`` of the basic columns.
    source : str
    """

    names: list[str]
    latitude_deg: NDArray[np.float64]
    longitude_deg: NDArray[np.float64]
    elevation_m: NDArray[np.float64]
    r_ecef_km: NDArray[np.float64]
    source: str = ""
    _r_ecef_m: NDArray[np.float64] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.names)

    @property
    def r_ecef_m(self) -> NDArray[np.float64]:
        """float64[G, 3], metres, exactly as the file gave or Hypatia computes them."""
        return self._r_ecef_m if self._r_ecef_m is not None else self.r_ecef_km * 1000.0


def hypatia_geodetic_to_ecef_m(lat_deg: float, lon_deg: float, elevation_m: float) -> tuple[float, float, float]:
    """Hypatia's ``geodetic2cartesian``: WGS72 (a = 6,378,135 m, f = 1/298.26), metres.

    Scalar and in Python floats on purpose, so the result is bit-identical to
    Hypatia's (its ``ground_stations.txt`` is written with ``%f``).

    Examples
    --------
    >>> ["%f" % v for v in hypatia_geodetic_to_ecef_m(35.6895, 139.69171, 0.0)]
    ['-3954843.592378', '3354935.154958', '3700263.820217']
    """
    e = math.sqrt(2.0 * _WGS72_F - _WGS72_F * _WGS72_F)
    lat = lat_deg * (math.pi / 180.0)
    lon = lon_deg * (math.pi / 180.0)
    v = _WGS72_A_M / math.sqrt(1.0 - e * e * math.sin(lat) * math.sin(lat))
    x = (v + elevation_m) * math.cos(lat) * math.cos(lon)
    y = (v + elevation_m) * math.cos(lat) * math.sin(lon)
    z = (v * (1.0 - e * e) + elevation_m) * math.sin(lat)
    return x, y, z


def _float(path: str, lineno: int, column: str, text: str, low: float | None = None, high: float | None = None) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputFileError(path, f"{column} {text.strip()!r} is not a number", line=lineno) from None
    if not math.isfinite(value) or (low is not None and value < low) or (high is not None and value > high):
        raise InputFileError(path, f"{column} = {text.strip()} is outside {low:g}..{high:g}", line=lineno)
    return value


def read_ground_stations(path: str | Path | None = None) -> GroundStations:
    """Read a basic (5-column) or extended (8-column) Hypatia ground-station file.

    Parameters
    ----------
    path : path, optional
        Default: Hypatia's top-100 cities shipped with leonet.

    Raises
    ------
    InputFileError
        Wrong column count, ids not counting up from 0, latitude outside
        -90..90, longitude outside -180..360, a non-number.
    """
    if path is None:
        path = files("leonet").joinpath("data", "cities", DEFAULT_GROUND_STATIONS)
    spath = str(path)
    rows = [(i + 1, line) for i, line in enumerate(_read_lines(spath)) if line.strip()]
    if not rows:
        raise InputFileError(spath, "has no ground stations")
    ncols = len(rows[0][1].split(","))
    if ncols not in (5, 8):
        raise InputFileError(
            spath,
            f"has {ncols} comma-separated columns; Hypatia's ground-station files have 5 (basic: "
            "gid,name,lat_deg,lon_deg,elevation_m) or 8 (extended: ...,x_m,y_m,z_m)",
            line=rows[0][0],
        )
    names, lat, lon, ele, xyz = [], [], [], [], []
    for gid, (lineno, line) in enumerate(rows):
        cols = line.split(",")
        if len(cols) != ncols:
            raise InputFileError(spath, f"has {len(cols)} columns, but the first line has {ncols}", line=lineno)
        if cols[0].strip() != str(gid):
            raise InputFileError(
                spath, f"ground station id {cols[0].strip()!r} should be {gid}: ids count up from 0, one per line",
                line=lineno,
            )
        names.append(cols[1])
        lat.append(_float(spath, lineno, "latitude", cols[2], -90.0, 90.0))
        lon.append(_float(spath, lineno, "longitude", cols[3], -180.0, 360.0))
        ele.append(_float(spath, lineno, "elevation (m)", cols[4], -11_000.0, 100_000.0))
        if ncols == 8:
            xyz.append([_float(spath, lineno, c, v, -1e8, 1e8) for c, v in zip(("x", "y", "z"), cols[5:8])])
        else:
            xyz.append(list(hypatia_geodetic_to_ecef_m(lat[-1], lon[-1], ele[-1])))
    r_m = np.array(xyz, dtype=np.float64).reshape(-1, 3)
    radius_km = np.linalg.norm(r_m, axis=1) / 1000.0
    bad = np.flatnonzero((radius_km < 6300.0) | (radius_km > 6500.0))
    if bad.size:
        g = int(bad[0])
        raise InputFileError(
            spath,
            f"ground station {g}'s cartesian position is {radius_km[g]:.1f} km from the Earth's centre, "
            "not on the surface (6,357..6,378 km); x, y, z must be WGS72 ECEF metres",
            line=rows[g][0],
        )
    return GroundStations(
        names=names,
        latitude_deg=np.array(lat),
        longitude_deg=np.array(lon),
        elevation_m=np.array(ele),
        r_ecef_km=r_m / 1000.0,
        source=spath,
        _r_ecef_m=r_m,
    )


def format_ground_stations_extended(gs: GroundStations) -> str:
    """The extended ``ground_stations.txt`` Hypatia writes (``%d,%s,%f,%f,%f,%f,%f,%f``)."""
    r = gs.r_ecef_m
    return "".join(
        "%d,%s,%f,%f,%f,%f,%f,%f\n"
        % (g, gs.names[g], gs.latitude_deg[g], gs.longitude_deg[g], gs.elevation_m[g], r[g, 0], r[g, 1], r[g, 2])
        for g in range(len(gs))
    )


# --------------------------------------------------------------------------- isls.txt


def read_isls(path: str | Path, num_satellites: int) -> NDArray[np.int64]:
    """Read Hypatia's ``isls.txt`` into ``int64[E, 2]`` (file order kept).

    Raises
    ------
    InputFileError
        A line that is not two integers, an index outside ``0..S-1``,
        ``a >= b``, or a duplicate link.
    """
    spath = str(path)
    pairs, seen = [], set()
    for lineno, line in enumerate(_read_lines(spath), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2 or not all(p.isdigit() for p in parts):
            raise InputFileError(spath, f"{line!r} is not two satellite ids 'a b'", line=lineno)
        a, b = int(parts[0]), int(parts[1])
        if b >= num_satellites:
            raise InputFileError(spath, f"satellite {b} does not exist (there are {num_satellites}: 0..{num_satellites - 1})", line=lineno)
        if b <= a:
            raise InputFileError(spath, f"link '{a} {b}': the second id must be larger than the first (write '{b} {a}')", line=lineno)
        if (a, b) in seen:
            raise InputFileError(spath, f"duplicate link '{a} {b}'", line=lineno)
        seen.add((a, b))
        pairs.append((a, b))
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


def format_isls(pairs: ArrayLike) -> str:
    """The text of ``isls.txt``."""
    return "".join(f"{a} {b}\n" for a, b in np.asarray(pairs, dtype=np.int64).reshape(-1, 2).tolist())


# --------------------------------------------------------------------------- description.txt


@dataclass(frozen=True)
class Description:
    """``description.txt``: the range limits, in metres as Hypatia writes them."""

    max_gsl_length_m: float
    max_isl_length_m: float


def hypatia_max_lengths_m(altitude_m: float, cone_radius_m: float = 940_700.0, min_beam_altitude_m: float = 80_000.0) -> Description:
    """Hypatia's range limits for a shell at ``altitude_m``, computed in metres as its scripts do.

    ``max_gsl = sqrt(cone^2 + h^2)`` and ``max_isl = 2 sqrt((R + h)^2 - (R + 80 km)^2)``,
    R = 6,378,135 m (``paper/satellite_networks_state/main_starlink_550.py``).
    See `leonet.links.isl.max_gsl_length_km` and `~leonet.links.isl.max_isl_length_km`.

    Examples
    --------
    >>> d = hypatia_max_lengths_m(550_000)
    >>> "%.10f %.10f" % (d.max_gsl_length_m, d.max_isl_length_m)
    '1089686.4181956202 5016591.2330984278'
    """
    r = _WGS72_A_M
    gsl = math.sqrt(math.pow(cone_radius_m, 2) + math.pow(altitude_m, 2))
    isl = 2 * math.sqrt(math.pow(r + altitude_m, 2) - math.pow(r + min_beam_altitude_m, 2))
    return Description(gsl, isl)


def read_description(path: str | Path) -> Description:
    """Read ``description.txt`` (``key=value`` lines)."""
    spath = str(path)
    values: dict[str, tuple[float, int]] = {}
    for lineno, line in enumerate(_read_lines(spath), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if "=" not in line:
            raise InputFileError(spath, f"{line!r} is not 'key=value'", line=lineno)
        key, value = (s.strip() for s in line.split("=", 1))
        values[key] = (_float(spath, lineno, key, value, 0.0, 1e9), lineno)
    for key in ("max_gsl_length_m", "max_isl_length_m"):
        if key not in values:
            raise InputFileError(spath, f"has no {key}=... line (Hypatia's description.txt gives both range limits)")
        if values[key][0] <= 0:
            raise InputFileError(spath, f"{key} must be positive", line=values[key][1])
    return Description(values["max_gsl_length_m"][0], values["max_isl_length_m"][0])


def format_description(d: Description) -> str:
    """The text of ``description.txt`` (``%.10f``, as ``generate_description``)."""
    return "max_gsl_length_m=%.10f\nmax_isl_length_m=%.10f\n" % (d.max_gsl_length_m, d.max_isl_length_m)


# --------------------------------------------------------------------------- gsl_interfaces_info.txt


@dataclass(frozen=True)
class GslInterfaces:
    """``gsl_interfaces_info.txt``: GSL interfaces and aggregate bandwidth of every node.

    Attributes
    ----------
    number_of_interfaces : int64[S + G]
    aggregate_max_bandwidth : float64[S + G]
        Unit unspecified by Hypatia (the same for all nodes).
    """

    number_of_interfaces: NDArray[np.int64]
    aggregate_max_bandwidth: NDArray[np.float64]


def simple_gsl_interfaces(num_satellites: int, num_ground_stations: int, bandwidth: float = 1.0) -> GslInterfaces:
    """One GSL interface per node, ``bandwidth`` each (Hypatia's ``free_one`` algorithms)."""
    n = num_satellites + num_ground_stations
    return GslInterfaces(np.ones(n, dtype=np.int64), np.full(n, float(bandwidth)))


def read_gsl_interfaces_info(path: str | Path, num_satellites: int, num_ground_stations: int) -> GslInterfaces:
    """Read ``gsl_interfaces_info.txt``; one line per node, ids in order."""
    spath = str(path)
    counts, bws = [], []
    for lineno, line in enumerate(_read_lines(spath), start=1):
        if not line.strip():
            continue
        cols = line.split(",")
        if len(cols) != 3:
            raise InputFileError(spath, f"{line!r} is not 'node_id,number_of_interfaces,aggregate_max_bandwidth'", line=lineno)
        if cols[0].strip() != str(len(counts)):
            raise InputFileError(spath, f"node id {cols[0].strip()!r} should be {len(counts)}: ids count up from 0", line=lineno)
        if not cols[1].strip().isdigit() or int(cols[1]) < 1:
            raise InputFileError(spath, f"number of interfaces {cols[1].strip()!r} must be a positive integer", line=lineno)
        counts.append(int(cols[1]))
        bw = _float(spath, lineno, "aggregate max. bandwidth", cols[2], 0.0, math.inf)
        if bw <= 0:
            raise InputFileError(spath, "aggregate max. bandwidth must be positive", line=lineno)
        bws.append(bw)
    expected = num_satellites + num_ground_stations
    if len(counts) != expected:
        raise InputFileError(
            spath,
            f"describes {len(counts)} nodes, but the network has {num_satellites} satellites + "
            f"{num_ground_stations} ground stations = {expected}",
        )
    return GslInterfaces(np.array(counts, dtype=np.int64), np.array(bws, dtype=np.float64))


def format_gsl_interfaces_info(info: GslInterfaces) -> str:
    """The text of ``gsl_interfaces_info.txt`` (``%d,%d,%f``)."""
    return "".join(
        "%d,%d,%f\n" % (k, n, b)
        for k, (n, b) in enumerate(zip(info.number_of_interfaces.tolist(), info.aggregate_max_bandwidth.tolist()))
    )


# --------------------------------------------------------------------------- the whole directory


@dataclass(frozen=True)
class SatelliteNetwork:
    """Everything Hypatia's state generator reads, in one object."""

    tles: HypatiaTles
    ground_stations: GroundStations
    isls: NDArray[np.int64]
    description: Description
    gsl_interfaces: GslInterfaces

    @property
    def num_satellites(self) -> int:
        return len(self.tles)

    @property
    def num_ground_stations(self) -> int:
        return len(self.ground_stations)


def read_satellite_network(directory: str | Path) -> SatelliteNetwork:
    """Read a Hypatia satellite-network directory (the five input files).

    ``gsl_interfaces_info.txt`` may be missing; one interface of bandwidth 1
    per node is assumed then (what Hypatia's scripts generate).
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
    """Write the five input files (creating the directory)."""
    d = Path(directory)
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ScenarioError(f"cannot create output directory {d}: {exc.strerror}") from None
    from ..results.files import write_bytes_atomic

    # Atomic (a kill leaves the old file or the new one) and never through a symbolic link.
    for name, text in (
        ("tles.txt", format_tles(network.tles)),
        ("isls.txt", format_isls(network.isls)),
        ("ground_stations.txt", format_ground_stations_extended(network.ground_stations)),
        ("description.txt", format_description(network.description)),
        ("gsl_interfaces_info.txt", format_gsl_interfaces_info(network.gsl_interfaces)),
    ):
        write_bytes_atomic(d / name, text.encode("utf-8"))


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
        Default: Hypatia's formulas for the shell's nominal altitude (`hypatia_max_lengths_m`).
    epoch_utc : datetime
        TLE epoch (Hypatia: 2000-01-01 00:00 UTC).
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
