"""Moving terminals: tracks and routes, read, checked and interpolated step by step.

A moving terminal is still one terminal of the run (one index in its
terminal list); only its position depends on the time.  Two terminal sources
make one (`leonet.scenario.sources`):

``kind = "track"``
    Timestamped fixes from a file: CSV (a ``columns`` table maps the file's
    own headers), GPX (``<trkpt>``) or GeoJSON (a LineString or
    MultiLineString Feature whose ``properties`` hold ``coordTimes`` or
    ``times``).  ``replay_from`` shifts the whole track so that its first fix
    is at that moment (a real drive replayed on today's constellation).
``kind = "route"``
    Waypoints joined by great-circle legs, run at ``speed_kmh`` from
    ``start_utc`` or at a time given at every waypoint (``at``); an aircraft
    is a route at cruise altitude.

The representation
------------------
A `Trajectory` holds one terminal's fixes, in UTC nanoseconds since the Unix
epoch (``t_ns: int64[N]``, strictly increasing), with ``lat_deg``,
``lon_deg`` (WGS84, degrees) and ``altitude_km`` (above the ellipsoid), and
``connected: bool[N-1]``: whether the terminal is known to be somewhere
between fix ``i`` and fix ``i + 1``.  A leg is *not* connected when the fixes
are more than ``max_gap_s`` apart or when a GPX track starts a new segment
there (GPX 1.1: a new ``<trkseg>`` is where "GPS reception was lost, or the
GPS receiver was turned off").

`Motion` gathers the trajectories of a run's M moving terminals.  For the
steps ``offset_ns: int64[T]`` of the run (ns from its epoch) `Motion.at`
returns a `MotionState` of ``[T, M]`` arrays: position, ECEF vector, local
east/north/up basis, ground speed and a status per terminal and step:

=====================  ======================================================
``POSITIONED`` (0)     at a fix, or on a connected leg: interpolated
``INACTIVE`` (1)       before the first fix or after the last: the terminal
                       is not in the run then (like a fleet outside its
                       active window: not a failure)
``NO_POSITION`` (2)    inside the track, on a leg that is not connected: the
                       terminal's position is unknown and no position is
                       guessed (reason "no-position")
=====================  ======================================================

Positions of steps without one are NaN.  Between two fixes the position
moves along the great circle at constant angular rate (spherical linear
interpolation of the unit vectors of ``(lat_deg, lon_deg)``, Shoemake 1985),
and the altitude linearly in time.  The geodetic latitude is used as the
spherical latitude: over the legs of a track (at most ``max_gap_s x
max_speed_mps`` = 90 km by default) the path differs from the WGS84 geodesic
by well under a metre; a long route leg is an idealised path anyway.  At a
fix's own time the fix is returned exactly (no round trip through vectors).
Ground speed is the leg's great-circle length on the mean-radius sphere
(IUGG R1, `leonet.ground.sites.MEAN_EARTH_RADIUS_KM`) over its duration.

Every value is computed element by element from the step's time and the two
fixes around it (``np.searchsorted`` per terminal, then elementwise
arithmetic; no matrix products), so a step's position does not depend on how
the run is chunked: bit for bit (tested).

Reading
-------
Files are read through `leonet.inputs.read_input_bytes` (regular files
only).  Every problem is an `~leonet.errors.InputFileError` naming the file,
the line (CSV, GPX) or the point's index (GeoJSON), the field, the value and
the fix: times going backwards, a repeated time with another position, a
coordinate that is NaN or out of range, an implied speed above
``max_speed_mps``, a mapped CSV column that is missing (the columns found are
listed), a GPX file that is not GPX (or declares a DOCTYPE: DTDs and entities
are refused, so no entity expansion can happen).  An *exact* repeat (same
time, same position) is common in real logs: it is dropped and counted in
the run's notes.  Heights: GPX ``<ele>`` and GeoJSON's third coordinate are
metres, taken as height above the ellipsoid (GPS units often log height
above the geoid; the difference, < 110 m, moves the elevation of a LEO
satellite by < 0.01 degree).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from xml.parsers import expat

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..constants import NS_PER_S
from ..errors import InputFileError, ScenarioError
from ..inputs import excerpt, listing, read_input_bytes, short_repr
from ..orbits.frames import enu_basis, geodetic_to_ecef
from ..scenario.sources import TRACK_SUFFIXES
from .sites import MEAN_EARTH_RADIUS_KM, unit_vectors

__all__ = [
    "POSITIONED",
    "INACTIVE",
    "NO_POSITION",
    "STATUS_NAMES",
    "DEFAULT_MAX_GAP_S",
    "DEFAULT_MAX_SPEED_MPS",
    "MIN_ALTITUDE_M",
    "MAX_ALTITUDE_M",
    "TRACK_FORMATS",
    "TrackFixes",
    "Trajectory",
    "Motion",
    "MotionState",
    "read_track",
    "check_fixes",
    "track_format",
    "parse_time_ns",
    "track_trajectory",
    "route_trajectory",
    "great_circle_m",
]

#: Status codes of a moving terminal at a step (int8).
POSITIONED, INACTIVE, NO_POSITION = 0, 1, 2
STATUS_NAMES = ("positioned", "inactive", "no-position")

#: Longest time between two fixes that is still interpolated, s (issue 13).
DEFAULT_MAX_GAP_S = 60.0
#: Fastest a terminal may move between two fixes, m/s (issue 13; an airliner
#: cruises at ~250 m/s, Concorde at ~600 m/s: above that a "fix" is a glitch).
DEFAULT_MAX_SPEED_MPS = 1500.0
#: Heights a terminal may have, m above the WGS84 ellipsoid: the Dead Sea
#: shore (-430 m) to the stratospheric platforms and balloons (~30 km).
MIN_ALTITUDE_M, MAX_ALTITUDE_M = -500.0, 30_000.0

#: Track file formats and the suffixes that select them (the scenario's rule, `TRACK_SUFFIXES`).
TRACK_FORMATS = {fmt: tuple(sfx for sfx, f in TRACK_SUFFIXES.items() if f == fmt) for fmt in ("csv", "gpx", "geojson")}

_UNIX_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_WHAT = "a track file (CSV, GPX or GeoJSON)"
_MISSING = "no such file; check the path (relative paths start at the scenario's folder)"
#: Times a track may hold (int64 ns since 1970 hold 1678..2261; a replay shift needs room): 1900..2199.
_T_MIN_NS = -2_208_988_800 * NS_PER_S  # 1900-01-01T00:00:00Z
_T_MAX_NS = 7_258_118_400 * NS_PER_S  # 2200-01-01T00:00:00Z
#: Legs shorter than this angle (rad, ~6 mm on the ground) are interpolated linearly.
_TINY_ANGLE_RAD = 1e-9
#: Largest (steps x fixes) comparison `Motion._legs` makes at once (bytes of a temporary array).
_LEG_BLOCK = 4_000_000


# --------------------------------------------------------------------------
# Times
# --------------------------------------------------------------------------


def _datetime_ns(value: dt.datetime) -> int:
    """Whole ns since the Unix epoch of a datetime (naive = UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    delta = value - _UNIX_EPOCH
    return (delta.days * 86_400 + delta.seconds) * NS_PER_S + delta.microseconds * 1000


def _unix_ns(value, scale: int) -> int:
    """ns of a number of seconds (``scale`` 1) or milliseconds (1000), exactly (decimal arithmetic)."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not a time")
    try:
        number = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except InvalidOperation:
        raise ValueError("not a number") from None
    if not number.is_finite():
        raise ValueError("not a finite number")
    return int(number * NS_PER_S / scale)


_NUMBER = re.compile(r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$")


def parse_time_ns(value, time_format: str | None = None) -> int:
    """UTC nanoseconds since the Unix epoch of one time value of a track.

    Parameters
    ----------
    value : str or number
    time_format : str, optional
        ``None`` (ISO 8601 text, or a number of Unix seconds), ``"iso8601"``,
        ``"unix_s"``, ``"unix_ms"``, or a ``strptime`` format such as
        ``"%d.%m.%Y %H:%M:%S"``.  A time without an offset is UTC.

    Raises
    ------
    ValueError
        With the reason (the caller adds the file, line and field).

    Examples
    --------
    >>> parse_time_ns("2020-12-18T06:15:50Z")
    1608272150000000000
    >>> parse_time_ns("1608272150.5"), parse_time_ns(1608272150500, "unix_ms")
    (1608272150500000000, 1608272150500000000)
    >>> parse_time_ns("18.12.2020 07:15:50+0100", "%d.%m.%Y %H:%M:%S%z")
    1608272150000000000
    """
    fmt = time_format
    if fmt is None:
        fmt = "unix_s" if (isinstance(value, (int, float)) or _NUMBER.match(str(value))) else "iso8601"
    if fmt == "unix_s":
        return _unix_ns(value, 1)
    if fmt == "unix_ms":
        return _unix_ns(value, 1000)
    if not isinstance(value, str):
        raise ValueError(f"a JSON {type(value).__name__} is not a time text")
    text = value.strip()
    try:
        when = dt.datetime.fromisoformat(text) if fmt == "iso8601" else dt.datetime.strptime(text, fmt)
    except (ValueError, OverflowError) as exc:
        want = "ISO 8601 (2020-12-18T06:15:50Z)" if fmt == "iso8601" else f"the time_format {fmt!r}"
        raise ValueError(f"is not {want} ({excerpt(str(exc), 60)})") from None
    return _datetime_ns(when)


def _iso_ns(t_ns: int) -> str:
    """``2020-12-18T06:15:50Z`` (fractions of a second kept to the microsecond)."""
    when = _UNIX_EPOCH + dt.timedelta(microseconds=int(t_ns) // 1000)
    text = when.strftime("%Y-%m-%dT%H:%M:%S")
    if when.microsecond:
        text += f".{when.microsecond:06d}".rstrip("0")
    return text + "Z"


# --------------------------------------------------------------------------
# Fixes as read
# --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class TrackFixes:
    """The fixes of a track file as read, before any check across fixes.

    Attributes
    ----------
    path : str
        The file.
    t_ns : int64[N]
        UTC ns since the Unix epoch.
    lat_deg, lon_deg : float64[N], degrees
    altitude_km : float64[N], km
    segment_start : bool[N]
        True where a new GPX track segment (or GeoJSON line) starts.
    lines : list of int or None, [N]
        Line of each fix in the file (CSV, GPX), None for GeoJSON.
    labels : list of str, [N]
        Where each fix is, for messages (``"line 14"``, ``"coordinates[12]"``).
    fields : dict of str to str
        How the file names the time, lat, lon and altitude (``"time_utc (column 'Time')"``).
    notes : tuple of str
        What a reader assumed (no altitude column: 0 m).
    """

    path: str
    t_ns: NDArray[np.int64]
    lat_deg: NDArray[np.float64]
    lon_deg: NDArray[np.float64]
    altitude_km: NDArray[np.float64]
    segment_start: NDArray[np.bool_]
    lines: list
    labels: list[str]
    fields: dict[str, str]
    notes: tuple[str, ...] = ()

    def __len__(self) -> int:
        return int(self.t_ns.size)

    def error(self, i: int, message: str) -> ScenarioError:
        """An error about fix ``i``: the file, its line (or label), the message (no file: a route's waypoints)."""
        return _located(self.path, self.lines[i], self.labels[i], message)


def _located(path: str, line: int | None, label: str, message: str) -> ScenarioError:
    """``path, line L: [rest of the label: ]message`` (``"column 2345"`` of a GPX on one line); ``label: message`` without a line."""
    if not path:
        return ScenarioError(f"{label}: {message}")
    if line is None:
        return InputFileError(path, f"{label}: {message}")
    rest = label.removeprefix(f"line {line}").removeprefix(", ")
    return InputFileError(path, f"{rest}: {message}" if rest else message, line=line)


class _Collector:
    """Fixes being read, one value at a time, each checked where it is read."""

    def __init__(self, path: str, fields: dict[str, str], time_format: str | None):
        self.path, self.fields, self.time_format = path, fields, time_format
        self.t: list[int] = []
        self.lat: list[float] = []
        self.lon: list[float] = []
        self.alt_km: list[float] = []
        self.seg: list[bool] = []
        self.lines: list = []
        self.labels: list[str] = []
        self._mode: str | None = None

    def _fail(self, line, label: str, message: str) -> ScenarioError:
        return _located(self.path, line, label, message)

    def _time(self, raw, line, label: str) -> int:
        fmt = self.time_format
        if fmt is None:  # decided by the first fix, then held: a file mixing both forms is an error
            if self._mode is None:
                self._mode = "unix_s" if isinstance(raw, (int, float)) or _NUMBER.match(str(raw)) else "iso8601"
            fmt = self._mode
        try:
            t = int(raw) if fmt == "ns" else parse_time_ns(raw, fmt)  # "ns": already integer ns (routes)
            if not _T_MIN_NS <= t <= _T_MAX_NS:
                raise ValueError("is outside the years 1900..2199 (a time in ms given as seconds?)")
            return t
        except ValueError as exc:
            hint = (
                "write ISO 8601 UTC times (2020-12-18T06:15:50Z) or Unix seconds, or set time_format "
                '(e.g. time_format = "%d.%m.%Y %H:%M:%S")'
            )
            raise self._fail(line, label, f"{self.fields['time']} = {short_repr(raw)} {exc}; fix: {hint}") from None

    def _number(self, raw, key: str, low: float, high: float, unit: str, line, label: str, fix: str) -> float:
        try:
            value = float(raw.strip() if isinstance(raw, str) else raw)
            if isinstance(raw, bool):
                raise ValueError
        except (TypeError, ValueError):
            raise self._fail(line, label, f"{self.fields[key]} = {short_repr(raw)} is not a number; fix: {fix}") from None
        if not (low <= value <= high):  # NaN fails too
            raise self._fail(
                line, label, f"{self.fields[key]} = {short_repr(raw)} is outside [{low:g}, {high:g}] {unit}; fix: {fix}"
            )
        return value

    def add(self, line, label: str, time, lat, lon, alt_m=None, segment_start: bool = False) -> None:
        """One fix; every value checked (a number, finite, in range)."""
        t = self._time(time, line, label)
        la = self._number(lat, "lat", -90.0, 90.0, "degrees", line, label,
                          "latitude is degrees north in [-90, 90]; check for swapped or projected coordinates")
        lo = self._number(lon, "lon", -180.0, 180.0, "degrees", line, label,
                          "longitude is degrees east in [-180, 180]; check for swapped or projected coordinates")
        h = 0.0 if alt_m is None else self._number(
            alt_m, "alt", MIN_ALTITUDE_M, MAX_ALTITUDE_M, "m", line, label,
            "the altitude is metres above the ellipsoid (not feet, not km); remove the row if it is a glitch")
        self.t.append(t)
        self.lat.append(la)
        self.lon.append(lo)
        self.alt_km.append(h / 1000.0)
        self.seg.append(bool(segment_start))
        self.lines.append(line)
        self.labels.append(label)

    def fixes(self, notes: Sequence[str] = ()) -> TrackFixes:
        if not self.t:
            raise InputFileError(self.path, "holds no fixes; a track needs at least two timed positions")
        return TrackFixes(
            self.path, np.array(self.t, dtype=np.int64), np.array(self.lat), np.array(self.lon),
            np.array(self.alt_km), np.array(self.seg, dtype=bool), self.lines, self.labels, dict(self.fields),
            tuple(notes),
        )


def _text(path: str, raw: bytes, kind: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputFileError(
            path, f"is not UTF-8 text ({exc.reason} at byte {exc.start}); a {kind} track file is UTF-8 text; "
            "fix: export it again as UTF-8"
        ) from None


# --------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------

#: Default header of each field of a CSV track.
CSV_DEFAULT_COLUMNS = {"time_utc": "time_utc", "lat_deg": "lat_deg", "lon_deg": "lon_deg", "altitude_m": "altitude_m"}


def _csv_header(path: str, reader) -> tuple[list[str], int]:
    for row in reader:
        if any(cell.strip() for cell in row):
            return [cell.strip() for cell in row], reader.line_num
    raise InputFileError(path, "is empty; a CSV track needs a header row and at least two fixes")


def _csv_columns(path: str, header: list[str], line: int, columns: Mapping[str, str | None]) -> dict[str, int | None]:
    """Index of each field's column; a mapped column that is missing is an error listing the columns found."""
    out: dict[str, int | None] = {}
    for key in ("time_utc", "lat_deg", "lon_deg", "altitude_m"):
        name = columns.get(key)
        explicit = name is not None
        if name is None:
            name = CSV_DEFAULT_COLUMNS[key]
        hits = [k for k, h in enumerate(header) if h == name]
        if len(hits) > 1:
            raise InputFileError(
                path, f"the header names column {name!r} {len(hits)} times (columns {', '.join(str(k + 1) for k in hits)}); "
                f"fix: rename one so that columns.{key} picks one column", line=line,
            )
        if hits:
            out[key] = hits[0]
        elif key == "altitude_m" and not explicit:
            out[key] = None  # no altitude column: 0 m, said in the notes
        else:
            found = listing(repr(h) for h in header)
            hint = ""
            if len(header) == 1 and any(sep in header[0] for sep in ";\t|"):
                hint = " (one column only: is the file separated by something other than commas? leonet reads comma-separated CSV)"
            how = f"columns.{key} = {name!r}" if explicit else f"the default column {name!r} for {key}"
            raise InputFileError(
                path, f"has no column {name!r} ({how}); the columns found are: {found}{hint}; "
                f'fix: map it, e.g. columns = {{ {key} = "<header of that column>" }}', line=line,
            )
    return out


def _read_csv(path: str, raw: bytes, columns: Mapping[str, str | None] | None, time_format: str | None) -> TrackFixes:
    reader = csv.reader(io.StringIO(_text(path, raw, "CSV"), newline=""))
    try:
        header, head_line = _csv_header(path, reader)
        index = _csv_columns(path, header, head_line, dict(columns or {}))
        fields = {
            "time": f"time_utc (column {header[index['time_utc']]!r})",
            "lat": f"lat_deg (column {header[index['lat_deg']]!r})",
            "lon": f"lon_deg (column {header[index['lon_deg']]!r})",
            "alt": "" if index["altitude_m"] is None else f"altitude_m (column {header[index['altitude_m']]!r})",
        }
        out = _Collector(path, fields, time_format)
        need = max(i for i in index.values() if i is not None)
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) <= need:
                raise InputFileError(
                    path, f"has {len(row)} fields but the header has {len(header)}; fix: complete the row or remove it",
                    line=line,
                )
            alt = None if index["altitude_m"] is None else row[index["altitude_m"]]
            out.add(line, f"line {line}", row[index["time_utc"]], row[index["lat_deg"]], row[index["lon_deg"]], alt)
    except csv.Error as exc:
        raise InputFileError(path, f"is not valid CSV ({exc}); fix: check the quotes", line=reader.line_num) from None
    notes = []
    if index["altitude_m"] is None:
        notes.append(f"{path}: no altitude column ('altitude_m'): the terminal is taken at 0 m above the ellipsoid "
                     "(map one with columns.altitude_m)")
    return out.fixes(notes)


# --------------------------------------------------------------------------
# GPX
# --------------------------------------------------------------------------


class _GpxRefused(Exception):
    """Raised inside an expat handler; carries the message and line."""

    def __init__(self, message: str, line: int | None):
        super().__init__(message)
        self.line = line


def _gpx_handlers(parser, out: _Collector, state: dict) -> None:
    def doctype(*_args):
        raise _GpxRefused(
            "declares a DOCTYPE; leonet does not read DTDs or entities in GPX (they can expand without bound); "
            "fix: remove the <!DOCTYPE ...> declaration (GPX needs none)", parser.CurrentLineNumber,
        )

    def start(name, attrs):
        local = name.rpartition(" ")[2]
        stack = state["stack"]
        if not stack and local != "gpx":
            raise _GpxRefused(f"is not GPX: its root element is <{excerpt(local)}>, not <gpx>; fix: give a GPX file "
                              "(or set format)", parser.CurrentLineNumber)
        if local in ("trk", "trkseg"):
            state["new_segment"] = True
        elif local == "trkpt":
            state["point"] = {"line": parser.CurrentLineNumber, "column": parser.CurrentColumnNumber + 1, "attrs": {k.rpartition(" ")[2]: v for k, v in attrs.items()}}
        elif local in ("ele", "time") and stack and stack[-1] == "trkpt":
            state["text"] = []
        stack.append(local)

    def chars(data):
        if state.get("text") is not None:
            state["text"].append(data)

    def end(name):
        local = state["stack"].pop()
        point = state.get("point")
        if local in ("ele", "time") and state.get("text") is not None and point is not None:
            point[local] = "".join(state["text"]).strip()
            state["text"] = None
        elif local == "trkpt" and point is not None:
            line = point["line"]
            where = f"<trkpt> at column {point['column']}"
            for key in ("lat", "lon"):
                if key not in point["attrs"]:
                    raise _GpxRefused(f"{where} has no {key} attribute; fix: every track point needs lat and lon", line)
            if "time" not in point:
                raise _GpxRefused(f"{where} has no <time>; a track needs the time of every fix; fix: export the track "
                                  "with times (a route or a track without times is not a track)", line)
            out.add(line, f"line {line}, {where}", point["time"], point["attrs"]["lat"], point["attrs"]["lon"], point.get("ele"),
                    segment_start=state["new_segment"] and bool(out.t))
            state["new_segment"] = False
            state["point"] = None

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = lambda *a: doctype()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars


def _read_gpx(path: str, raw: bytes) -> TrackFixes:
    declared = re.search(rb"<!DOCTYPE|<!ENTITY", raw, re.IGNORECASE)
    if declared:  # refused before parsing; the handlers below also refuse one expat meets (UTF-16 files)
        line = raw[: declared.start()].count(b"\n") + 1
        raise InputFileError(path, "declares a DOCTYPE or an ENTITY; leonet does not read DTDs or entities in GPX (they "
                             "can expand without bound); fix: remove the declaration (GPX needs none)", line=line)
    fields = {"time": "<time>", "lat": "lat", "lon": "lon", "alt": "<ele>"}
    out = _Collector(path, fields, "iso8601")  # GPX times are ISO 8601 UTC (GPX 1.1 schema, xsd:dateTime)
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    state = {"stack": [], "new_segment": False, "point": None, "text": None}
    _gpx_handlers(parser, out, state)
    try:
        parser.Parse(raw, True)
    except _GpxRefused as exc:
        raise InputFileError(path, str(exc), line=exc.line) from None
    except expat.ExpatError as exc:
        raise InputFileError(
            path, f"is not GPX: not well-formed XML ({expat.ErrorString(exc.code)} at column {exc.offset}); the file "
            f"starts with {excerpt(raw)!r}; fix: give a GPX file exported by the logger (or set format)", line=exc.lineno,
        ) from None
    if not out.t:
        raise InputFileError(path, "holds no track points (<trk><trkseg><trkpt>); fix: export the recorded track, "
                             "with times (waypoints and routes carry no times)")
    return out.fixes()


# --------------------------------------------------------------------------
# GeoJSON
# --------------------------------------------------------------------------


def _json(path: str, raw: bytes):
    text = _text(path, raw, "GeoJSON")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFileError(path, f"is not JSON ({exc.msg} at column {exc.colno}; the file starts with "
                             f"{excerpt(text)!r}); fix: give a GeoJSON Feature with a LineString", line=exc.lineno) from None
    except (RecursionError, ValueError) as exc:
        raise InputFileError(path, f"cannot be read as JSON ({excerpt(str(exc), 60)})") from None


_LINES = ("LineString", "MultiLineString")


def _geojson_feature(path: str, doc) -> tuple[dict, str]:
    """The one line feature of a GeoJSON document, and where it is."""
    if not isinstance(doc, dict):
        raise InputFileError(path, f"holds a JSON {type(doc).__name__}, not a GeoJSON Feature; fix: give a Feature with a "
                             "LineString geometry and properties.coordTimes")
    if doc.get("type") == "FeatureCollection":
        feats = doc.get("features")
        feats = feats if isinstance(feats, list) else []
        lines = [(k, f) for k, f in enumerate(feats)
                 if isinstance(f, dict) and isinstance(f.get("geometry"), dict) and f["geometry"].get("type") in _LINES]
        if len(lines) != 1:
            raise InputFileError(
                path, f"is a FeatureCollection with {len(lines)} LineString features; a track file holds one terminal's "
                "track: one LineString (or MultiLineString) Feature; fix: one file per terminal"
            )
        return lines[0][1], f"features[{lines[0][0]}]"
    if doc.get("type") == "Feature":
        return doc, "the feature"
    raise InputFileError(path, f"is a GeoJSON {short_repr(doc.get('type'))}, not a Feature: a bare geometry carries no "
                         "times; fix: wrap it in a Feature whose properties hold coordTimes (one time per point)")


def _geojson_times(path: str, feat: dict, where: str) -> tuple[str, list]:
    props = feat.get("properties")
    props = props if isinstance(props, dict) else {}
    keys = [k for k in ("coordTimes", "times") if k in props]
    if not keys:
        raise InputFileError(path, f"{where}: properties hold no 'coordTimes' (or 'times'); a track needs one time per "
                             "point; fix: add properties.coordTimes = [\"2020-12-18T06:15:50Z\", ...]")
    if len(keys) == 2:
        raise InputFileError(path, f"{where}: properties hold both 'coordTimes' and 'times'; fix: keep one")
    times = props[keys[0]]
    if not isinstance(times, list):
        raise InputFileError(path, f"{where}: properties.{keys[0]} is not an array ({short_repr(times)}); fix: one "
                             "time per point, in order")
    return keys[0], times


def _read_geojson(path: str, raw: bytes, time_format: str | None) -> TrackFixes:
    feat, where = _geojson_feature(path, _json(path, raw))
    geom = feat.get("geometry")
    if not isinstance(geom, dict) or geom.get("type") not in _LINES:
        got = geom.get("type") if isinstance(geom, dict) else geom
        raise InputFileError(path, f"{where}: the geometry is {short_repr(got)}, not a LineString or MultiLineString; "
                             "fix: a track is a line of points")
    key, times = _geojson_times(path, feat, where)
    coords = geom.get("coordinates")
    lines = coords if geom["type"] == "MultiLineString" else [coords]
    if not isinstance(lines, list) or not all(isinstance(part, list) for part in lines):
        raise InputFileError(path, f"{where}: geometry.coordinates is not an array of positions; fix: [[lon, lat], ...]")
    n = sum(len(part) for part in lines)
    nested = geom["type"] == "MultiLineString" and len(times) == len(lines) and all(isinstance(t, list) for t in times)
    flat = [t for part in times for t in part] if nested else times
    if len(flat) != n:
        raise InputFileError(path, f"{where}: properties.{key} has {len(flat)} times for {n} points; fix: one time per "
                             "point, in the same order")
    fields = {"time": f"properties.{key}", "lat": "latitude (2nd coordinate)", "lon": "longitude (1st coordinate)",
              "alt": "altitude (3rd coordinate, m)"}
    out = _Collector(path, fields, time_format)
    k = 0
    for j, part in enumerate(lines):
        for i, pos in enumerate(part):
            label = (f"{where}.geometry.coordinates" + (f"[{j}]" if geom["type"] == "MultiLineString" else "") + f"[{i}]")
            if not isinstance(pos, list) or not 2 <= len(pos) <= 3:
                raise InputFileError(path, f"{label}: {short_repr(pos)} is not a position [lon, lat] or [lon, lat, "
                                     "altitude_m]; fix: write each point as [lon, lat(, altitude_m)]")
            out.add(None, label, flat[k], pos[1], pos[0], pos[2] if len(pos) == 3 else None, segment_start=i == 0 and j > 0)
            k += 1
    return out.fixes()


# --------------------------------------------------------------------------
# Any track file
# --------------------------------------------------------------------------


def track_format(path: str | Path, format: str | None = None) -> str:
    """The format of a track file: ``format`` when given, else from the suffix.

    >>> track_format("drive.GPX"), track_format("log.txt", "csv")
    ('gpx', 'csv')
    """
    if format is not None:
        if format not in TRACK_FORMATS:
            raise ScenarioError(f"track format {format!r} is not one of {', '.join(map(repr, TRACK_FORMATS))}")
        return format
    suffix = Path(str(path)).suffix.lower()
    for name, suffixes in TRACK_FORMATS.items():
        if suffix in suffixes:
            return name
    raise ScenarioError(
        f"cannot tell the format of the track file {short_repr(str(path))} from its suffix; fix: name it .csv, .gpx or "
        '.geojson, or set format = "csv", "gpx" or "geojson"'
    )


def read_track(
    path: str | Path,
    *,
    format: str | None = None,
    columns: Mapping[str, str | None] | None = None,
    time_format: str | None = None,
) -> TrackFixes:
    """The fixes of a track file, each value checked (no check across fixes yet; see `check_fixes`).

    Parameters
    ----------
    path : path-like
        A regular file (`leonet.inputs.read_input_bytes`).
    format : {"csv", "gpx", "geojson"}, optional
        Default: from the suffix (`track_format`).
    columns : mapping, optional
        CSV only: ``{"time_utc": header, "lat_deg": header, "lon_deg":
        header, "altitude_m": header}``; unset keys use those names as the
        headers (no altitude column: 0 m, with a note).
    time_format : str, optional
        CSV and GeoJSON (`parse_time_ns`); GPX times are ISO 8601.

    Raises
    ------
    InputFileError
        File, line (or point index), field, value and fix.

    Examples
    --------
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> p = os.path.join(d, "t.csv")
    >>> _ = open(p, "w").write("Time,Lat,Lon\\n2020-12-18T06:15:50Z,45.27,13.71\\n2020-12-18T06:16:00Z,45.28,13.71\\n")
    >>> fixes = read_track(p, columns={"time_utc": "Time", "lat_deg": "Lat", "lon_deg": "Lon"})
    >>> len(fixes), fixes.lines, fixes.altitude_km.tolist()
    (2, [2, 3], [0.0, 0.0])
    >>> read_track(p)
    Traceback (most recent call last):
    ...
    leonet.errors.InputFileError: ...t.csv, line 1: has no column 'time_utc' (the default column 'time_utc' for time_utc); the columns found are: 'Time', 'Lat', 'Lon'; fix: map it, e.g. columns = { time_utc = "<header of that column>" }
    >>> import shutil; shutil.rmtree(d)
    """
    kind = track_format(path, format)
    text_path = str(path)
    raw = read_input_bytes(text_path, _WHAT, _MISSING)
    if kind == "csv":
        return _read_csv(text_path, raw, columns, time_format)
    if kind == "gpx":
        return _read_gpx(text_path, raw)
    return _read_geojson(text_path, raw, time_format)


def _angles(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """Angle between unit vectors, rad (``atan2(|a x b|, a . b)``: accurate for tiny and near-opposite angles)."""
    cx = a[..., 1] * b[..., 2] - a[..., 2] * b[..., 1]
    cy = a[..., 2] * b[..., 0] - a[..., 0] * b[..., 2]
    cz = a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]
    dot = a[..., 0] * b[..., 0] + a[..., 1] * b[..., 1] + a[..., 2] * b[..., 2]
    return np.arctan2(np.sqrt(cx * cx + cy * cy + cz * cz), dot)


def great_circle_m(lat1_deg: ArrayLike, lon1_deg: ArrayLike, lat2_deg: ArrayLike, lon2_deg: ArrayLike) -> NDArray[np.float64]:
    """Great-circle distance on the mean-radius sphere, m (the length of a leg as `Motion` interpolates it).

    >>> round(float(great_circle_m(0.0, 0.0, 0.0, 1.0)), 3)   # one degree of the equator: R1 x pi / 180
    111195.08
    """
    return _angles(unit_vectors(lat1_deg, lon1_deg), unit_vectors(lat2_deg, lon2_deg)) * MEAN_EARTH_RADIUS_KM * 1000.0


# --------------------------------------------------------------------------
# Checks across fixes
# --------------------------------------------------------------------------


def _take(fixes: TrackFixes, keep: NDArray[np.bool_]) -> TrackFixes:
    pick = np.flatnonzero(keep).tolist()
    return TrackFixes(
        fixes.path, fixes.t_ns[keep], fixes.lat_deg[keep], fixes.lon_deg[keep], fixes.altitude_km[keep],
        fixes.segment_start[keep], [fixes.lines[i] for i in pick], [fixes.labels[i] for i in pick], fixes.fields,
        fixes.notes,
    )


def _fix_text(fixes: TrackFixes, i: int) -> str:
    return f"({fixes.lat_deg[i]:.7g}, {fixes.lon_deg[i]:.7g}, {fixes.altitude_km[i] * 1000.0:.6g} m)"


def check_fixes(
    fixes: TrackFixes, *, max_speed_mps: float = DEFAULT_MAX_SPEED_MPS, check_speed: bool = True
) -> tuple[TrackFixes, int]:
    """The fixes with exact repeats dropped, after the checks across fixes; and how many were dropped.

    An exact repeat is a fix with the same time and the same position as
    the one before it (real loggers write them).  Errors, for the first
    problem in file order: a time before the previous fix's; the previous
    fix's time at another position; fewer than two fixes; an implied ground
    speed (great circle on the mean sphere over the time between the fixes)
    above ``max_speed_mps``.

    Raises
    ------
    InputFileError
        Naming the fix (line or point) and the one before it.
    """
    t, n = fixes.t_ns, len(fixes)
    if n >= 2:
        step = np.diff(t)
        same = ((fixes.lat_deg[1:] == fixes.lat_deg[:-1]) & (fixes.lon_deg[1:] == fixes.lon_deg[:-1])
                & (fixes.altitude_km[1:] == fixes.altitude_km[:-1]))
        bad = np.flatnonzero((step < 0) | ((step == 0) & ~same))
        if bad.size:
            i = int(bad[0]) + 1
            time = fixes.fields["time"]
            if step[i - 1] < 0:
                raise fixes.error(i, f"{time} = {_iso_ns(t[i])} is before the time of the previous fix "
                                     f"({fixes.labels[i - 1]}: {_iso_ns(t[i - 1])}); times must increase; fix: sort "
                                     "the fixes by time, or remove the stray one")
            raise fixes.error(i, f"{time} = {_iso_ns(t[i])} repeats the time of the previous fix ({fixes.labels[i - 1]}) "
                                 f"at another position: {_fix_text(fixes, i - 1)} then {_fix_text(fixes, i)}; a terminal "
                                 "is in one place at a time; fix: remove one of the two")
        keep = np.ones(n, dtype=bool)
        keep[1:] = ~((step == 0) & same)
        fixes = _take(fixes, keep)
    dropped = n - len(fixes)
    if len(fixes) < 2:
        raise fixes.error(0, f"the track has {len(fixes)} distinct fix; a moving terminal needs at least two (for one "
                             'place, use kind = "coordinates")')
    if check_speed:
        dist_m = great_circle_m(fixes.lat_deg[:-1], fixes.lon_deg[:-1], fixes.lat_deg[1:], fixes.lon_deg[1:])
        dt_s = np.diff(fixes.t_ns) / NS_PER_S
        fast = np.flatnonzero(dist_m > max_speed_mps * dt_s)
        if fast.size:
            i = int(fast[0]) + 1
            raise fixes.error(
                i, f"reaching {_fix_text(fixes, i)} from the previous fix ({fixes.labels[i - 1]}, {dist_m[i - 1]:.0f} m "
                f"away) in {dt_s[i - 1]:g} s means {dist_m[i - 1] / dt_s[i - 1]:.0f} m/s, above max_speed_mps = "
                f"{max_speed_mps:g}; fix: remove the fix if it is a glitch, or raise max_speed_mps",
            )
    return fixes, dropped


# --------------------------------------------------------------------------
# One terminal's trajectory
# --------------------------------------------------------------------------


def _readonly(*arrays) -> None:
    for a in arrays:
        a.setflags(write=False)


@dataclass(frozen=True, eq=False)
class Trajectory:
    """One moving terminal's fixes, checked, in UTC ns (see the module docstring).

    Attributes
    ----------
    name : str
    where : str
        The scenario field it comes from (``"ground.terminals.sources[0]"``), for notes.
    source : str
        The file, or ``"route"``.
    t_ns : int64[N]
        UTC ns since the Unix epoch, strictly increasing (after any replay shift).
    lat_deg, lon_deg : float64[N], degrees
    altitude_km : float64[N], km
    connected : bool[N-1]
        Whether the terminal has a position between fix i and fix i + 1.
    notes : tuple of str
    shift_ns : int
        What ``replay_from`` added to the file's times, ns.
    xyz : float64[N, 3]
        Unit vectors of the fixes (computed).
    angle_rad : float64[N-1]
        Great-circle angle of each leg (computed).
    speed_mps : float64[N-1]
        Ground speed of each leg, m/s (computed).
    """

    name: str
    where: str
    source: str
    t_ns: NDArray[np.int64]
    lat_deg: NDArray[np.float64]
    lon_deg: NDArray[np.float64]
    altitude_km: NDArray[np.float64]
    connected: NDArray[np.bool_]
    notes: tuple[str, ...] = ()
    shift_ns: int = 0
    xyz: NDArray[np.float64] = field(init=False, repr=False)
    angle_rad: NDArray[np.float64] = field(init=False, repr=False)
    speed_mps: NDArray[np.float64] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        t = np.array(self.t_ns, dtype=np.int64)
        n = t.size
        cols = {k: np.array(getattr(self, k), dtype=np.float64) for k in ("lat_deg", "lon_deg", "altitude_km")}
        conn = np.array(self.connected, dtype=bool)
        if n < 2 or any(c.shape != (n,) for c in cols.values()) or conn.shape != (n - 1,):
            raise ScenarioError(f"Trajectory {self.name!r}: needs N >= 2 fixes with one time, lat, lon and altitude "
                                "each and N - 1 connected flags")
        if not (np.diff(t) > 0).all():
            raise ScenarioError(f"Trajectory {self.name!r}: times must increase strictly (use check_fixes)")
        set_(self, "t_ns", t)
        for k, c in cols.items():
            set_(self, k, c)
        set_(self, "connected", conn)
        xyz = unit_vectors(cols["lat_deg"], cols["lon_deg"])
        angle = _angles(xyz[:-1], xyz[1:])
        speed = angle * MEAN_EARTH_RADIUS_KM * 1000.0 / (np.diff(t) / NS_PER_S)
        set_(self, "xyz", xyz)
        set_(self, "angle_rad", angle)
        set_(self, "speed_mps", speed)
        set_(self, "notes", tuple(self.notes))
        _readonly(t, conn, xyz, angle, speed, *cols.values())

    def __len__(self) -> int:
        return int(self.t_ns.size)

    def __repr__(self) -> str:
        return (f"Trajectory(name={self.name!r}, N={len(self)}, {_iso_ns(self.first_ns)} .. {_iso_ns(self.last_ns)}, "
                f"source={self.source!r})")

    @property
    def first_ns(self) -> int:
        return int(self.t_ns[0])

    @property
    def last_ns(self) -> int:
        return int(self.t_ns[-1])


def _seconds_ns(value: float) -> int:
    return int(Decimal(repr(float(value))) * NS_PER_S)


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one}" if n == 1 else f"{n} {many or one + 's'}"


def track_trajectory(
    path: str | Path,
    *,
    name: str,
    where: str = "track",
    format: str | None = None,
    columns: Mapping[str, str | None] | None = None,
    time_format: str | None = None,
    replay_from: dt.datetime | None = None,
    max_gap_s: float = DEFAULT_MAX_GAP_S,
    max_speed_mps: float = DEFAULT_MAX_SPEED_MPS,
) -> Trajectory:
    """The trajectory of a track file: read (`read_track`), checked (`check_fixes`), replayed, gaps marked.

    Parameters
    ----------
    path : path-like
    name : str
        The terminal's name.
    where : str
        The scenario field, for notes.
    format, columns, time_format
        See `read_track`.
    replay_from : datetime, optional
        UTC; the track is shifted so that its first fix is at this moment.
    max_gap_s : float, s
        Fixes further apart than this are not joined: no position between them.
    max_speed_mps : float, m/s
        Fastest implied ground speed between two fixes.

    Examples
    --------
    >>> import tempfile, os, shutil, datetime as dt
    >>> d = tempfile.mkdtemp(); p = os.path.join(d, "drive.csv")
    >>> _ = open(p, "w").write("time_utc,lat_deg,lon_deg\\n0,45.0,13.0\\n0,45.0,13.0\\n10,45.001,13.0\\n100,45.002,13.0\\n")
    >>> tr = track_trajectory(p, name="car", replay_from=dt.datetime(2026, 5, 30, 12, tzinfo=dt.timezone.utc))
    >>> len(tr), tr.connected.tolist(), int(tr.t_ns[0]) == 1780142400 * 10**9
    (3, [True, False], True)
    >>> print("\\n".join(tr.notes))  # doctest: +ELLIPSIS
    track: ...drive.csv: 1 exact repeat (same time, same position) dropped
    track: ...drive.csv: 1 gap longer than max_gap_s = 60 s: no position there (reason no-position)
    track: ...drive.csv: replayed from 2026-05-30T12:00:00Z (its first fix was at 1970-01-01T00:00:00Z)
    track: ...drive.csv: no altitude column ('altitude_m'): the terminal is taken at 0 m above the ellipsoid (map one with columns.altitude_m)
    >>> shutil.rmtree(d)
    """
    fixes = read_track(path, format=format, columns=columns, time_format=time_format)
    fixes, dropped = check_fixes(fixes, max_speed_mps=max_speed_mps)
    t = fixes.t_ns
    gaps = np.diff(t) > _seconds_ns(max_gap_s)
    breaks = fixes.segment_start[1:]
    here = f"{where}: {fixes.path}"
    notes = []
    if dropped:
        notes.append(f"{here}: {_plural(dropped, 'exact repeat')} (same time, same position) dropped")
    if gaps.any() or breaks.any():
        parts = []
        if gaps.any():
            parts.append(f"{_plural(int(gaps.sum()), 'gap')} longer than max_gap_s = {max_gap_s:g} s")
        if (breaks & ~gaps).any():
            parts.append(f"{_plural(int((breaks & ~gaps).sum()), 'new track segment')} (GPX <trkseg>, reception lost)")
        notes.append(f"{here}: {' and '.join(parts)}: no position there (reason no-position)")
    shift = 0
    if replay_from is not None:
        start = _datetime_ns(replay_from)
        if not _T_MIN_NS <= start <= _T_MAX_NS:
            raise ScenarioError(f"replay_from = {replay_from.isoformat()} is outside the years 1900..2199; fix: replay "
                                "the track at the run's start")
        shift = start - int(t[0])
        notes.append(f"{here}: replayed from {_iso_ns(int(t[0]) + shift)} (its first fix was at {_iso_ns(int(t[0]))})")
    notes.extend(f"{where}: {note}" for note in fixes.notes)
    return Trajectory(name, where, fixes.path, t + shift, fixes.lat_deg, fixes.lon_deg, fixes.altitude_km,
                      ~(gaps | breaks), tuple(notes), shift)


def route_trajectory(
    waypoints: Sequence[Mapping],
    *,
    name: str,
    where: str = "route",
    speed_kmh: float | None = None,
    start_utc: dt.datetime | None = None,
    altitude_m: float = 0.0,
    max_speed_mps: float = DEFAULT_MAX_SPEED_MPS,
) -> Trajectory:
    """The trajectory of a route: great-circle legs between waypoints, one pass.

    Parameters
    ----------
    waypoints : sequence of mapping
        ``lat_deg``, ``lon_deg``, optional ``altitude_m`` (default
        ``altitude_m``) and ``at`` (UTC datetime).
    speed_kmh : float, optional
        Ground speed along the legs, from ``start_utc`` (then no ``at``).
    start_utc : datetime, optional
        When the terminal leaves the first waypoint (with ``speed_kmh``).
    altitude_m : float, m
        Height of waypoints that give none (an aircraft at cruise: 10,000 m).
    max_speed_mps : float
        Fastest implied speed between timed waypoints.

    Notes
    -----
    Before the first waypoint's time and after the last one the terminal is
    inactive (not in the run), as outside a track: a route is one pass.  To
    wait somewhere, give ``at`` times and the same place twice.

    Examples
    --------
    >>> import datetime as dt
    >>> noon = dt.datetime(2026, 5, 30, 12, tzinfo=dt.timezone.utc)
    >>> tr = route_trajectory([{"lat_deg": 0.0, "lon_deg": 0.0}, {"lat_deg": 0.0, "lon_deg": 1.0}],
    ...                       name="ship", speed_kmh=36.0, start_utc=noon)
    >>> round((tr.last_ns - tr.first_ns) / 1e9, 3), tr.speed_mps.round(9).tolist()   # 111,195 m at 10 m/s
    (11119.508, [10.0])
    """
    lat = [w["lat_deg"] for w in waypoints]
    lon = [w["lon_deg"] for w in waypoints]
    alt = [altitude_m if w.get("altitude_m") is None else w["altitude_m"] for w in waypoints]
    timed = [w.get("at") is not None for w in waypoints]
    if speed_kmh is not None:
        if start_utc is None or any(timed):
            raise ScenarioError(f"{where}: speed_kmh needs start_utc and no waypoint 'at'")
        leg_m = great_circle_m(lat[:-1], lon[:-1], lat[1:], lon[1:])
        cum_s = np.concatenate([[0.0], np.cumsum(leg_m)]) / (speed_kmh / 3.6)
        times = [_datetime_ns(start_utc) + int(round(c * NS_PER_S)) for c in cum_s.tolist()]  # Python ints: no overflow
    elif timed and all(timed):
        times = [_datetime_ns(w["at"]) for w in waypoints]
    else:
        raise ScenarioError(f"{where}: a route needs speed_kmh and start_utc, or 'at' at every waypoint")
    if not all(_T_MIN_NS <= int(t) <= _T_MAX_NS for t in times):
        raise ScenarioError(f"{where}: the route's times fall outside the years 1900..2199; fix: check start_utc and 'at'")
    out = _Collector("", {"time": "at", "lat": "lat_deg", "lon": "lon_deg", "alt": "altitude_m"}, "ns")
    for k in range(len(lat)):
        out.add(None, f"waypoints[{k}]", int(times[k]), lat[k], lon[k], alt[k])
    fixes = out.fixes()
    fixes, dropped = check_fixes(fixes, max_speed_mps=max_speed_mps, check_speed=speed_kmh is None)
    notes = [f"{where}: {_plural(dropped, 'waypoint')} repeating the previous one dropped"] if dropped else []
    return Trajectory(name, where, "route", fixes.t_ns, fixes.lat_deg, fixes.lon_deg, fixes.altitude_km,
                      np.ones(len(fixes) - 1, dtype=bool), tuple(notes))


# --------------------------------------------------------------------------
# The run's moving terminals, step by step
# --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class MotionState:
    """Where the run's M moving terminals are at T steps (see `Motion.at`).

    Attributes
    ----------
    terminals : int64[M]
        Their indices in the run's terminal list.
    offset_ns : int64[T]
        The steps, ns from the run's epoch.
    status : int8[T, M]
        `POSITIONED`, `INACTIVE` or `NO_POSITION`.
    lat_deg, lon_deg : float64[T, M], degrees (NaN without a position)
    altitude_km : float64[T, M], km above the WGS84 ellipsoid (NaN without a position)
    speed_mps : float64[T, M], m/s
        Ground speed of the leg the terminal is on (NaN without a position,
        or at a fix between two legs that are both not connected).
    r_ecef_km : float64[T, M, 3], km, ECEF (NaN without a position)
    enu : float64[T, M, 3, 3]
        Local east, north, up unit vectors (rows), ECEF (`leonet.orbits.frames.enu_basis`).
    """

    terminals: NDArray[np.int64]
    offset_ns: NDArray[np.int64]
    status: NDArray[np.int8]
    lat_deg: NDArray[np.float64]
    lon_deg: NDArray[np.float64]
    altitude_km: NDArray[np.float64]
    speed_mps: NDArray[np.float64]
    r_ecef_km: NDArray[np.float64]
    enu: NDArray[np.float64]

    @property
    def up(self) -> NDArray[np.float64]:
        """float64[T, M, 3]: geodetic up unit vectors, ECEF."""
        return self.enu[..., 2, :]

    @property
    def positioned(self) -> NDArray[np.bool_]:
        """bool[T, M]: the terminal has a position at the step."""
        return self.status == POSITIONED

    def overlay(
        self, i: int, r_ecef_km: NDArray[np.float64], enu: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Every terminal's ECEF position and basis at step ``i``: copies of the static ``[G, 3]``, ``[G, 3, 3]``
        arrays with the moving terminals' rows replaced (NaN where they have no position)."""
        r = np.array(r_ecef_km, dtype=np.float64, copy=True)
        b = np.array(enu, dtype=np.float64, copy=True)
        r[self.terminals] = self.r_ecef_km[i]
        b[self.terminals] = self.enu[i]
        return r, b


class Motion:
    """The moving terminals of a run and their positions at any steps.

    Parameters
    ----------
    trajectories : sequence of Trajectory, [M]
    terminals : int[M]
        The run's terminal index of each.
    epoch_utc : datetime
        The run's epoch (steps are ns offsets from it).

    Examples
    --------
    >>> import datetime as dt, numpy as np
    >>> noon = dt.datetime(2026, 5, 30, 12, tzinfo=dt.timezone.utc)
    >>> ship = route_trajectory([{"lat_deg": 0.0, "lon_deg": 0.0}, {"lat_deg": 0.0, "lon_deg": 1.0}],
    ...                         name="ship", speed_kmh=36.0, start_utc=noon)
    >>> motion = Motion([ship], [3], noon)
    >>> whole = ship.last_ns - ship.first_ns                  # 111,195 m at 10 m/s
    >>> state = motion.at(np.array([-1, 0, whole // 2, whole, whole + 1]))
    >>> state.status[:, 0].tolist()      # before the start, at it, halfway, at the end, after it
    [1, 0, 0, 0, 1]
    >>> round(float(state.lon_deg[2, 0]), 9), round(float(state.speed_mps[2, 0]), 9)
    (0.5, 10.0)
    """

    def __init__(self, trajectories: Sequence[Trajectory], terminals: ArrayLike, epoch_utc: dt.datetime):
        self.trajectories = tuple(trajectories)
        self.terminals = np.asarray(terminals, dtype=np.int64).reshape(-1)
        if self.terminals.size != len(self.trajectories):
            raise ScenarioError(f"Motion: {len(self.trajectories)} trajectories but {self.terminals.size} terminal indices")
        self.epoch_utc = epoch_utc
        self.epoch_ns = _datetime_ns(epoch_utc)
        trs = self.trajectories
        self._count = np.array([len(tr) for tr in trs], dtype=np.int64)
        self._base = np.concatenate([[0], np.cumsum(self._count)[:-1]]).astype(np.int64)
        cat = (lambda name: np.concatenate([getattr(tr, name) for tr in trs])) if trs else (lambda name: np.zeros(0))
        self._t = cat("t_ns").astype(np.int64) if trs else np.zeros(0, np.int64)
        self._lat, self._lon, self._alt = cat("lat_deg"), cat("lon_deg"), cat("altitude_km")
        self._xyz = np.concatenate([tr.xyz for tr in trs]) if trs else np.zeros((0, 3))
        # Per-leg arrays indexed by the leg's first fix; the last fix of each trajectory starts no leg.
        pad = (lambda name, fill: np.concatenate([np.append(getattr(tr, name), fill) for tr in trs])) if trs else (
            lambda name, fill: np.zeros(0))
        self._conn = pad("connected", False).astype(bool)
        self._angle = pad("angle_rad", 0.0)
        self._speed = pad("speed_mps", np.nan)
        self._last_t = np.array([tr.last_ns for tr in trs], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.trajectories)

    @classmethod
    def from_sites(cls, sites, epoch_utc: dt.datetime) -> Motion | None:
        """The moving terminals among a run's terminals (`leonet.ground.sites.GroundSites`), or None if none moves.

        A moving terminal carries its `Trajectory` in ``sites.extra["motion"]``
        (`leonet.ground.terminals.terminals_from_sources` puts it there).
        """
        col = sites.extra.get("motion") if sites.extra else None
        if col is None:
            return None
        idx = [g for g, item in enumerate(col) if isinstance(item, Trajectory)]
        if not idx:
            return None
        return cls([col[g] for g in idx], idx, epoch_utc)

    def _legs(self, q: NDArray[np.int64]) -> NDArray[np.int64]:
        """int64[T, M]: index of the last fix at or before each step, per trajectory (-1: before the first).

        Counts the fixes at or before each step (``np.add.reduceat`` over the
        concatenated fixes, in blocks of steps of at most `_LEG_BLOCK` cells):
        one vectorised pass instead of M ``searchsorted`` calls, which matters
        when a run asks for one step at a time (the scheduler's samples, a
        step's home PoP).  Many long tracks use the per-trajectory search.
        Both give the same integers.
        """
        m, n_all = len(self), self._t.size
        out = np.empty((q.size, m), dtype=np.int64)
        if m == 0 or q.size == 0:
            return out
        if n_all > _LEG_BLOCK:
            for k, tr in enumerate(self.trajectories):
                out[:, k] = np.searchsorted(tr.t_ns, q, side="right") - 1
            return out
        rows = max(1, _LEG_BLOCK // n_all)
        for a in range(0, q.size, rows):
            le = (self._t[None, :] <= q[a:a + rows, None]).view(np.int8)
            out[a:a + rows] = np.add.reduceat(le, self._base, axis=1, dtype=np.int64) - 1
        return out

    def distance_km(self, start_utc: dt.datetime, end_utc: dt.datetime) -> NDArray[np.float64]:
        """Ground distance each moving terminal travels in ``[start_utc, end_utc)``, km: float64[M].

        Exact for the model's motion: each connected leg's great-circle
        length on the mean-radius sphere, times the share of the leg's
        duration inside the window (the terminal moves at a constant rate
        along a leg).  Height changes and legs without a position (gaps) do
        not count.

        Examples
        --------
        >>> import datetime as dt
        >>> noon = dt.datetime(2026, 5, 30, 12, tzinfo=dt.timezone.utc)
        >>> ship = route_trajectory([{"lat_deg": 0.0, "lon_deg": 0.0}, {"lat_deg": 0.0, "lon_deg": 1.0}],
        ...                         name="ship", speed_kmh=36.0, start_utc=noon)
        >>> motion = Motion([ship], [0], noon)
        >>> motion.distance_km(noon, noon + dt.timedelta(hours=1)).round(6).tolist()   # 10 m/s for 3600 s
        [36.0]
        """
        lo, hi = _datetime_ns(start_utc), _datetime_ns(end_utc)
        out = np.zeros(len(self), dtype=np.float64)
        for k, tr in enumerate(self.trajectories):
            a, b = tr.t_ns[:-1], tr.t_ns[1:]
            inside = (np.minimum(b, hi) - np.maximum(a, lo)).clip(min=0).astype(np.float64)
            share = inside / (b - a).astype(np.float64)
            leg_km = tr.angle_rad * MEAN_EARTH_RADIUS_KM
            out[k] = float(np.sum(np.where(tr.connected, leg_km * share, 0.0)))
        return out

    def at(self, offset_ns: ArrayLike) -> MotionState:
        """Positions of the moving terminals at the steps ``offset_ns`` (int64[T], ns from the epoch).

        Returns
        -------
        MotionState
            ``[T, M]`` arrays; each value depends only on its step's time.
        """
        off = np.asarray(offset_ns, dtype=np.int64).reshape(-1)
        q = (self.epoch_ns + off)[:, None]
        n, base = self._count[None, :], self._base[None, :]
        j = self._legs(q[:, 0])
        inside = (j >= 0) & ((j < n - 1) | (q == self._last_t[None, :]))
        jc = np.clip(j, 0, n - 1)
        fix = base + jc
        exact = inside & (q == self._t[fix])
        leg = base + np.minimum(jc, n - 2)  # the leg containing the step (the last leg at the last fix)
        conn = self._conn[leg]
        moving = inside & ~exact & conn
        f = (q - self._t[leg]).astype(np.float64) / (self._t[leg + 1] - self._t[leg]).astype(np.float64)
        f = np.where(moving, f, 0.0)
        lat_i, lon_i = self._slerp(leg, f)
        alt_i = self._alt[leg] + f * (self._alt[leg + 1] - self._alt[leg])
        nan = np.nan
        lat = np.where(exact, self._lat[fix], np.where(moving, lat_i, nan))
        lon = np.where(exact, self._lon[fix], np.where(moving, lon_i, nan))
        alt = np.where(exact, self._alt[fix], np.where(moving, alt_i, nan))
        prev = base + np.maximum(jc - 1, 0)
        prev_ok = exact & (jc > 0) & (jc < n - 1) & self._conn[prev]
        speed = np.where(moving | (exact & conn), self._speed[leg], np.where(prev_ok, self._speed[prev], nan))
        status = np.where(inside, np.where(exact | moving, POSITIONED, NO_POSITION), INACTIVE).astype(np.int8)
        r = geodetic_to_ecef(lat, lon, alt)
        enu = enu_basis(lat, lon)
        # One NaN for "no position": arithmetic on NaN may set its sign bit differently in SIMD and scalar loops.
        none = status != POSITIONED
        r[none] = np.nan
        enu[none] = np.nan
        for a in (status, lat, lon, alt, speed, r, enu):
            a.setflags(write=False)
        return MotionState(self.terminals, off, status, lat, lon, alt, speed, r, enu)

    def _slerp(self, leg: NDArray[np.int64], f: NDArray[np.float64]) -> tuple[NDArray, NDArray]:
        """Latitude and longitude, degrees, a fraction ``f`` along each leg's great circle (Shoemake 1985)."""
        a, b = self._xyz[leg], self._xyz[leg + 1]
        ang = self._angle[leg]
        tiny = ang < _TINY_ANGLE_RAD
        s = np.where(tiny, 1.0, np.sin(ang))
        wa = np.where(tiny, 1.0 - f, np.sin((1.0 - f) * ang) / s)
        wb = np.where(tiny, f, np.sin(f * ang) / s)
        x = wa * a[..., 0] + wb * b[..., 0]
        y = wa * a[..., 1] + wb * b[..., 1]
        z = wa * a[..., 2] + wb * b[..., 2]
        return np.degrees(np.arctan2(z, np.hypot(x, y))), np.degrees(np.arctan2(y, x))

    # -- notes ------------------------------------------------------------------

    def notes(self) -> list[str]:
        """What reading the tracks and routes dropped or assumed (exact repeats, gaps, replays, 0 m altitude)."""
        return [note for tr in self.trajectories for note in tr.notes]

    def window_notes(self, start_utc: dt.datetime, end_utc: dt.datetime) -> list[str]:
        """Terminals inactive for part or all of the run window ``[start_utc, end_utc)``.

        A track entirely outside the window gives a line starting with
        ``"warning: "`` (the terminal is inactive during the whole run: a
        replay_from forgotten?); one that covers only part of it, a note.
        """
        lo, hi = _datetime_ns(start_utc), _datetime_ns(end_utc)
        out = []
        for tr in self.trajectories:
            span = f"{_iso_ns(tr.first_ns)} .. {_iso_ns(tr.last_ns)}"
            what = f"{tr.where} ({tr.name!r}, {'route' if tr.source == 'route' else tr.source})"
            if tr.last_ns < lo or tr.first_ns >= hi:
                out.append(
                    f"warning: {what} runs {span}, outside the run window {_iso_ns(lo)} .. {_iso_ns(hi)}: the terminal "
                    "is inactive during the whole run; fix: set replay_from = <the run's start> to replay it now, or "
                    "move the run window"
                )
            elif tr.first_ns > lo or tr.last_ns < hi:
                out.append(f"{what} runs {span}: the terminal is inactive outside that part of the run window "
                           f"{_iso_ns(lo)} .. {_iso_ns(hi)}")
        return out
