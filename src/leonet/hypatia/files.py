"""Hypatia's file formats: read, validate, write.

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
    matters: it numbers each satellite's ISL interfaces
    (`leonet.links.isl.interface_numbers`).
``ground_stations.txt``
    *Basic* (5 columns ``gid,name,lat_deg,lon_deg,elevation_m``) or
    *extended* (8 columns, adding the WGS72 cartesian ``x,y,z`` in metres).
    Ground station ``gid`` is network node ``S + gid``.
``description.txt``
    ``max_gsl_length_m=<%.10f>`` and ``max_isl_length_m=<%.10f>``.
``gsl_interfaces_info.txt``
    ``node_id,number_of_interfaces,aggregate_max_bandwidth`` for every node.
``dynamic_state_<step>ms_for_<duration>s/fstate_<t_ns>.txt``
    Forwarding entries ``current,destination,next_hop,if_current,if_next``
    (integers; ``-1`` where unreachable): all of them at ``t = 0``, then only
    the entries that changed since the previous step.
``dynamic_state_<step>ms_for_<duration>s/gsl_if_bandwidth_<t_ns>.txt``
    ``node_id,interface,bandwidth`` for every node at ``t = 0``; empty later.

Every reader validates once, at the edge, and raises
`~leonet.errors.InputFileError` naming the file, the line, the bad value and
the fix.  The values are then held in the plain dataclasses below, in
leonet's units (km), with the file's own metre values kept where they must be
written back bit for bit.  ``format_*`` functions return a file's text;
whole directories are read and written by `leonet.hypatia.network`.

Hypatia's conventions reproduced here, with their source in satgenpy:
``read_tles`` (header, ids, one epoch), ``read_isls`` (``a < b``, no
duplicates), ``read_ground_stations_{basic,extended}`` (ids increase by one),
``extend_ground_stations`` + ``geodetic2cartesian`` (WGS72: a = 6,378,135 m,
f = 1/298.26; lines ``"%d,%s,%f,%f,%f,%f,%f,%f"``), ``generate_description``,
``generate_simple_gsl_interfaces_info`` (``"%d,%d,%f"``) and
``generate_dynamic_state`` (the fstate and gsl_if_bandwidth lines).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import InputFileError, TLEFormatError

if TYPE_CHECKING:  # only for annotations: the router is a layer above the files
    from .router import FreeOneOnlyOverIsls

__all__ = [
    "HYPATIA_EPOCH_UTC",
    "DEFAULT_GROUND_STATIONS",
    "HypatiaTles",
    "read_tles",
    "format_tles",
    "GroundStations",
    "hypatia_geodetic_to_ecef_m",
    "read_ground_stations",
    "format_ground_stations_extended",
    "read_isls",
    "format_isls",
    "Description",
    "read_description",
    "format_description",
    "GslInterfaces",
    "simple_gsl_interfaces",
    "read_gsl_interfaces_info",
    "format_gsl_interfaces_info",
    "dynamic_state_dirname",
    "parse_dynamic_state_dirname",
    "fstate_text",
    "gsl_if_bandwidth_text",
    "read_fstate_file",
]

#: Epoch of Hypatia's generated TLEs (``00001.00000000``), UTC.
HYPATIA_EPOCH_UTC = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)

#: Hypatia's top-100 cities by estimated 2025 population, shipped with leonet
#: (``paper/satellite_networks_state/input_data``; see ``leonet/data/SOURCES.md``).
DEFAULT_GROUND_STATIONS = "hypatia_cities_top_100_by_est_2025_pop.basic.txt"

#: Hypatia's WGS72 ellipsoid for ground stations (``geodetic2cartesian``).
WGS72_A_M = 6378135.0
_WGS72_F = 1.0 / 298.26

_DYNAMIC_STATE_RE = re.compile(r"^dynamic_state_(\d+)ms_for_(\d+)s$")


def _read_lines(path: str | Path) -> list[str]:
    from ..inputs import read_input_bytes

    data = read_input_bytes(path, "a Hypatia network file", "no such file")  # regular files only (never a FIFO)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputFileError(str(path), f"is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return text.splitlines()


def _float(path: str, lineno: int, column: str, text: str, low: float | None = None, high: float | None = None) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputFileError(path, f"{column} {text.strip()!r} is not a number", line=lineno) from None
    if not math.isfinite(value) or (low is not None and value < low) or (high is not None and value > high):
        raise InputFileError(path, f"{column} = {text.strip()} is outside {low:g}..{high:g}", line=lineno)
    return value


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
        """sgp4 ``Satrec`` objects (WGS72), one per satellite: list of S."""
        from sgp4.api import WGS72, Satrec

        return [Satrec.twoline2rv(a, b, WGS72) for a, b in zip(self.line1, self.line2)]


def _tle_epoch_utc(line1: str) -> dt.datetime:
    year = int(line1[18:20])
    day = float(line1[20:32])
    year += 2000 if year < 57 else 1900
    # Keep the day fraction to the microsecond, as the TLE's 8 decimals allow (0.86 ms).
    return dt.datetime(year, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(days=day - 1.0)


def _tles_header(path: str, lines: list[str]) -> tuple[int, int]:
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
    if (len(lines) - 1) % 3:
        raise InputFileError(
            path,
            f"has {len(lines) - 1} lines after the header, not a multiple of 3 (name line, line 1, line 2 per satellite)",
            line=len(lines),
        )
    return int(head[0]), int(head[1])


def read_tles(path: str | Path) -> HypatiaTles:
    """Read Hypatia's ``tles.txt``.

    Parameters
    ----------
    path : path
        The file.

    Returns
    -------
    HypatiaTles
        S satellites, in id order.

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
    planes, per_plane = _tles_header(path, lines)
    body = lines[1:]
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
    """The text of ``tles.txt``.

    Parameters
    ----------
    tles : HypatiaTles

    Returns
    -------
    str
        The header line, then three lines per satellite.

    Examples
    --------
    >>> t = HypatiaTles(1, 1, ["Starlink-550 0"], ["1 ..."], ["2 ..."], HYPATIA_EPOCH_UTC)
    >>> print(format_tles(t), end="")
    1 1
    Starlink-550 0
    1 ...
    2 ...
    """
    out = [f"{tles.planes} {tles.sats_per_plane}\n"]
    for name, a, b in zip(tles.names, tles.line1, tles.line2):
        out.append(f"{name}\n{a}\n{b}\n")
    return "".join(out)


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

    Parameters
    ----------
    lat_deg, lon_deg : float
        Geodetic latitude and longitude, degrees.
    elevation_m : float
        Height above the ellipsoid, metres.

    Returns
    -------
    x, y, z : float
        ECEF, metres.

    Examples
    --------
    >>> ["%f" % v for v in hypatia_geodetic_to_ecef_m(35.6895, 139.69171, 0.0)]
    ['-3954843.592378', '3354935.154958', '3700263.820217']
    """
    e = math.sqrt(2.0 * _WGS72_F - _WGS72_F * _WGS72_F)
    lat = lat_deg * (math.pi / 180.0)
    lon = lon_deg * (math.pi / 180.0)
    v = WGS72_A_M / math.sqrt(1.0 - e * e * math.sin(lat) * math.sin(lat))
    x = (v + elevation_m) * math.cos(lat) * math.cos(lon)
    y = (v + elevation_m) * math.cos(lat) * math.sin(lon)
    z = (v * (1.0 - e * e) + elevation_m) * math.sin(lat)
    return x, y, z


def _ground_station_rows(spath: str) -> tuple[list[tuple[int, str]], int]:
    """Non-blank (line number, line) pairs and the column count (5 or 8)."""
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
    return rows, ncols


def read_ground_stations(path: str | Path | None = None) -> GroundStations:
    """Read a basic (5-column) or extended (8-column) Hypatia ground-station file.

    Parameters
    ----------
    path : path, optional
        Default: Hypatia's top-100 cities shipped with leonet.

    Returns
    -------
    GroundStations
        G stations in id order; positions from the file's x, y, z (extended)
        or Hypatia's WGS72 conversion of latitude, longitude and elevation.

    Raises
    ------
    InputFileError
        Wrong column count, ids not counting up from 0, latitude outside
        -90..90, longitude outside -180..360, a non-number, or a cartesian
        position that is not on the Earth's surface.

    Examples
    --------
    >>> gs = read_ground_stations()
    >>> len(gs), gs.names[0], gs.r_ecef_km.shape
    (100, 'Tokyo', (100, 3))
    """
    if path is None:
        path = files("leonet").joinpath("data", "cities", DEFAULT_GROUND_STATIONS)
    spath = str(path)
    rows, ncols = _ground_station_rows(spath)
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
    """The extended ``ground_stations.txt`` Hypatia writes (``%d,%s,%f,%f,%f,%f,%f,%f``).

    Parameters
    ----------
    gs : GroundStations

    Returns
    -------
    str
        One line per station: id, name, latitude, longitude, elevation (m), x, y, z (m).
    """
    r = gs.r_ecef_m
    return "".join(
        "%d,%s,%f,%f,%f,%f,%f,%f\n"
        % (g, gs.names[g], gs.latitude_deg[g], gs.longitude_deg[g], gs.elevation_m[g], r[g, 0], r[g, 1], r[g, 2])
        for g in range(len(gs))
    )


# --------------------------------------------------------------------------- isls.txt


def read_isls(path: str | Path, num_satellites: int) -> NDArray[np.int64]:
    """Read Hypatia's ``isls.txt``.

    Parameters
    ----------
    path : path
    num_satellites : int
        S, to check the ids.

    Returns
    -------
    pairs : int64[E, 2]
        The links ``(a, b)``, ``a < b``, in file order.

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
    """The text of ``isls.txt``.

    Parameters
    ----------
    pairs : int[E, 2]

    Returns
    -------
    str

    Examples
    --------
    >>> format_isls([[0, 1], [1, 2]])
    '0 1\\n1 2\\n'
    """
    return "".join(f"{a} {b}\n" for a, b in np.asarray(pairs, dtype=np.int64).reshape(-1, 2).tolist())


# --------------------------------------------------------------------------- description.txt


@dataclass(frozen=True)
class Description:
    """``description.txt``: the range limits, in metres as Hypatia writes them.

    Attributes
    ----------
    max_gsl_length_m, max_isl_length_m : float
        Longest ground-satellite link and longest ISL, metres.
    """

    max_gsl_length_m: float
    max_isl_length_m: float


def read_description(path: str | Path) -> Description:
    """Read ``description.txt`` (``key=value`` lines; ``#`` comments).

    Parameters
    ----------
    path : path

    Returns
    -------
    Description

    Raises
    ------
    InputFileError
        A line without ``=``, a value that is not a positive number, or a
        missing ``max_gsl_length_m`` / ``max_isl_length_m``.
    """
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
    """The text of ``description.txt`` (``%.10f``, as ``generate_description``).

    Parameters
    ----------
    d : Description

    Returns
    -------
    str

    Examples
    --------
    >>> print(format_description(Description(1089686.4181956202, 5016591.2330984278)), end="")
    max_gsl_length_m=1089686.4181956202
    max_isl_length_m=5016591.2330984278
    """
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
    """One GSL interface per node, ``bandwidth`` each (Hypatia's ``free_one`` algorithms).

    Parameters
    ----------
    num_satellites, num_ground_stations : int
        S and G.
    bandwidth : float
        Aggregate bandwidth of every node (Hypatia's unit).

    Returns
    -------
    GslInterfaces
        S + G nodes.

    Examples
    --------
    >>> print(format_gsl_interfaces_info(simple_gsl_interfaces(2, 1)), end="")
    0,1,1.000000
    1,1,1.000000
    2,1,1.000000
    """
    n = num_satellites + num_ground_stations
    return GslInterfaces(np.ones(n, dtype=np.int64), np.full(n, float(bandwidth)))


def read_gsl_interfaces_info(path: str | Path, num_satellites: int, num_ground_stations: int) -> GslInterfaces:
    """Read ``gsl_interfaces_info.txt``: one line per node, ids in order.

    Parameters
    ----------
    path : path
    num_satellites, num_ground_stations : int
        S and G: the file must describe S + G nodes.

    Returns
    -------
    GslInterfaces

    Raises
    ------
    InputFileError
        A line that is not three columns, ids out of order, a count or
        bandwidth that is not positive, or the wrong number of nodes.
    """
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
    """The text of ``gsl_interfaces_info.txt`` (``%d,%d,%f``).

    Parameters
    ----------
    info : GslInterfaces

    Returns
    -------
    str
    """
    return "".join(
        "%d,%d,%f\n" % (k, n, b)
        for k, (n, b) in enumerate(zip(info.number_of_interfaces.tolist(), info.aggregate_max_bandwidth.tolist()))
    )


# --------------------------------------------------------------------------- dynamic_state_*/


def dynamic_state_dirname(step_ms: int, duration_s: int) -> str:
    """Hypatia's ``dynamic_state_<step>ms_for_<duration>s``.

    Parameters
    ----------
    step_ms : int
        Time step, whole milliseconds.
    duration_s : int
        Simulated time, whole seconds.

    Returns
    -------
    str

    Examples
    --------
    >>> dynamic_state_dirname(100, 200)
    'dynamic_state_100ms_for_200s'
    """
    return f"dynamic_state_{int(step_ms)}ms_for_{int(duration_s)}s"


def parse_dynamic_state_dirname(name: str) -> tuple[int, int] | None:
    """``(step_ms, duration_s)`` from a folder name `dynamic_state_dirname` writes, or None.

    Parameters
    ----------
    name : str
        A folder name (no parent).

    Returns
    -------
    (step_ms, duration_s) : tuple of int, or None
        None if ``name`` is not of that form.

    Examples
    --------
    >>> parse_dynamic_state_dirname("dynamic_state_100ms_for_2s"), parse_dynamic_state_dirname("out")
    ((100, 2), None)
    """
    m = _DYNAMIC_STATE_RE.match(name)
    return (int(m.group(1)), int(m.group(2))) if m else None


def _format_rows(cols: list[NDArray[np.int64]]) -> str:
    """Comma-separated integer columns, one line per row (Hypatia's ``"%d,%d,...\\n"``)."""
    n = cols[0].size
    if not n:
        return ""
    if n < 4096:
        fmt = ",".join(["%d"] * len(cols)) + "\n"
        return "".join(map(fmt.__mod__, zip(*(c.tolist() for c in cols))))
    block = 1 << 18  # rows per block: bounds the temporaries (~100 MB for millions of lines)
    return b"".join(
        _format_rows_vectorised([c[i : i + block] for c in cols]) for i in range(0, n, block)
    ).decode("ascii")


def _format_rows_vectorised(cols: list[NDArray[np.int64]]) -> bytes:
    """`_format_rows` for large tables: digits scattered into one byte buffer (~10x faster)."""
    vals = [np.asarray(c, dtype=np.int64) for c in cols]
    neg = [v < 0 for v in vals]
    mag = [np.abs(v) for v in vals]
    ndig = []
    for m in mag:
        d = np.ones(m.shape, dtype=np.int64)
        p = 10
        while True:
            more = m >= p
            if not more.any():
                break
            d += more
            p *= 10
        ndig.append(d)
    widths = [d + ng for d, ng in zip(ndig, neg)]
    line = sum(widths) + len(cols)  # commas and the newline
    start = np.zeros(line.size, dtype=np.int64)
    np.cumsum(line[:-1], out=start[1:])
    buf = np.empty(int(start[-1] + line[-1]), dtype=np.uint8)
    at = start.copy()
    for j, (m, d, ng, w) in enumerate(zip(mag, ndig, neg, widths)):
        buf[at[ng]] = ord("-")
        first = at + ng
        k, p = 0, 1
        rest = m
        while True:
            has = d > k
            if not has.any():
                break
            buf[(first + d - 1 - k)[has]] = (48 + (rest[has] // p) % 10).astype(np.uint8)
            k += 1
            p *= 10
        at = at + w
        buf[at] = ord(",") if j < len(cols) - 1 else ord("\n")
        at = at + 1
    return buf.tobytes()


def fstate_text(router: FreeOneOnlyOverIsls, next_hop: NDArray[np.int32], previous: NDArray[np.int32] | None) -> str:
    """Lines of ``fstate_<t>.txt``: every entry at the first step, then only the changed ones.

    Hypatia writes an entry when the decision tuple (next hop, both interfaces)
    differs from the previous step's; the interfaces are a function of the hop,
    so comparing hops is the same test.  Order: satellites by id, then stations,
    each by destination (C order of ``next_hop``).

    Parameters
    ----------
    router : FreeOneOnlyOverIsls
        Gives S, G and the interface numbers (`FreeOneOnlyOverIsls.interfaces`).
    next_hop : int32[S + G, G]
        This step's forwarding state (`leonet.hypatia.router` representation).
    previous : int32[S + G, G] or None
        The previous step's; None at the first step.

    Returns
    -------
    str
        ``current,destination,next_hop,if_current,if_next`` lines (node ids;
        destination ``S + d``; ``-1`` where unreachable).
    """
    S, G = router.S, router.G
    if previous is None:
        mask = np.ones(next_hop.shape, dtype=bool)
    else:
        mask = next_hop != previous
    diag = np.arange(G)
    mask[S + diag, diag] = False
    flat = np.flatnonzero(mask)
    node = flat // G
    dst = flat % G
    nh = next_hop.ravel()[flat].astype(np.int64)
    here, there = router.interfaces(node, nh)
    return _format_rows([node, dst + S, nh, here, there])


def gsl_if_bandwidth_text(router: FreeOneOnlyOverIsls, bandwidth: NDArray[np.float64], first: bool) -> str:
    """Lines of ``gsl_if_bandwidth_<t>.txt``: all nodes at time 0, nothing later (as Hypatia).

    Parameters
    ----------
    router : FreeOneOnlyOverIsls
        Gives each satellite's ISL count (its GSL interface number).
    bandwidth : float64[S + G]
        Aggregate bandwidth of each node (`GslInterfaces.aggregate_max_bandwidth`).
    first : bool
        True at the first step.

    Returns
    -------
    str
        ``node_id,interface,bandwidth`` lines (``%d,%d,%f``), or ``""``.
    """
    if not first:
        return ""
    iface = np.concatenate([router.num_isls, np.zeros(router.G, dtype=np.int64)])
    return "".join("%d,%d,%f\n" % (k, i, b) for k, (i, b) in enumerate(zip(iface.tolist(), np.asarray(bandwidth).tolist())))


def read_fstate_file(path: str | Path, into: NDArray[np.int32], num_satellites: int) -> int:
    """Apply one ``fstate_<t>.txt`` to a next-hop table in place.

    Parameters
    ----------
    path : path
        Hypatia's or leonet's file.
    into : int32[S + G, G]
        The forwarding state of the previous step (all -1 before the first);
        updated in place.
    num_satellites : int
        S.

    Returns
    -------
    int
        The file's line count.

    Raises
    ------
    InputFileError
        Not ASCII, not lines of 5 integers, or a node outside the network.
    """
    from ..inputs import read_input_bytes

    try:
        text = read_input_bytes(path, "a Hypatia fstate file").decode("ascii")
    except UnicodeDecodeError as exc:
        raise InputFileError(str(path), f"is not ASCII text (byte {exc.start})") from None
    if not text.strip():
        return 0
    try:
        arr = np.array(text.replace("\n", ",").rstrip(",").split(","), dtype=np.int64).reshape(-1, 5)
    except ValueError:
        raise InputFileError(str(path), "is not lines of 5 integers 'current,destination,next_hop,if_current,if_next'") from None
    S = num_satellites
    cur, dst, nh = arr[:, 0], arr[:, 1] - S, arr[:, 2]
    n, g = into.shape
    bad = (cur < 0) | (cur >= n) | (dst < 0) | (dst >= g) | (nh < -1) | (nh >= n)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise InputFileError(
            str(path), f"entry {arr[k].tolist()} names a node outside the network ({n} nodes, destinations {S}..{n - 1})",
            line=k + 1,
        )
    into[cur, dst] = nh
    return arr.shape[0]
