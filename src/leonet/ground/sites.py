"""Ground nodes: user terminals, gateways and points of presence (PoPs).

The representation
------------------
A `GroundSites` is a *columnar*, immutable set of ``G`` sites that all have
the same role (``"terminal"``, ``"gateway"`` or ``"pop"``).  Site ``g``
(``0 <= g < G``) is described by entry ``g`` of every column::

    ids[g]                 "city:703448", "GS220", "POP12", or a user's id
    lat_deg[g], lon_deg[g] WGS84 geodetic latitude / longitude, degrees
    altitude_km[g]         height above the WGS84 ellipsoid, km
    r_ecef_km[g, :]        the same point in ECEF, km (computed, never given)
    min_elevation_deg[g]   the site's elevation mask (NaN: never links to a satellite)
    antenna_count[g]       simultaneous satellite links (gateways; terminals 1; PoPs 0)

Ground positions are fixed in ECEF, so ``r_ecef_km`` is computed once, when
the object is built (`leonet.orbits.frames.geodetic_to_ecef`).  In the run's
single node index space, ground site ``g`` of a set placed after ``S``
satellites is node ``S + g``.

Loaders read the shipped data (see ``leonet/data/SOURCES.md``) or the user's
own files, and validate *once, at the edge*: every bad value is reported as
an `~leonet.errors.InputFileError` that names the file, the line, the column,
the value and the fix.  After loading, the arrays are trusted.

Defaults
--------
The default elevation mask of terminals and gateways is 25 degrees, the
minimum elevation SpaceX's 2018 FCC modification (SAT-MOD-20181108-00083)
adopted for both user terminals and gateway earth stations; Hypatia uses the
same value for its Starlink shell.  Cities carry no height, so their altitude
is 0 km above the *ellipsoid*: the geoid and terrain (< 0.4 km in Ukraine)
change an elevation angle toward a LEO satellite by well under 0.05 degrees.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import InputFileError, ScenarioError
from ..inputs import excerpt, file_sha256, listing, read_input_bytes, short_repr
from ..orbits.frames import geodetic_to_ecef
from .names import data_path, fold_name, suggest

__all__ = [
    "ROLES",
    "DEFAULT_MIN_ELEVATION_DEG",
    "MEAN_EARTH_RADIUS_KM",
    "GroundSites",
    "data_path",
    "read_sites_csv",
    "load_cities",
    "load_hypatia_cities",
    "load_gateways",
    "load_pops",
    "sites_from_coordinates",
    "great_circle_km",
    "unit_vectors",
    "GATEWAY_CATALOGS",
    "POP_CATALOGS",
    "DEFAULT_GATEWAY_CATALOG",
    "DEFAULT_POP_CATALOG",
    "catalog_path",
    "nearest",
    "fold_name",
]

#: The roles a ground site can play.
ROLES = ("terminal", "gateway", "pop")

#: Default elevation mask of terminals and gateways, degrees (SpaceX FCC
#: modification SAT-MOD-20181108-00083, 2018: 25 degrees for user terminals
#: and gateway earth stations).
DEFAULT_MIN_ELEVATION_DEG = 25.0

#: Mean Earth radius R1 = (2a + b) / 3 of WGS84, km (IUGG; Moritz, "Geodetic
#: Reference System 1980", Bull. Geod. 54, 1980).  Used only for
#: great-circle *distances on the ground* (`great_circle_km`), never for
#: satellite geometry, which is done on the WGS84 ellipsoid in ECEF.
MEAN_EARTH_RADIUS_KM = 6371.0088

_CITIES_FILE = ("cities", "geonames_cities15000.csv")

#: The shipped gateway lists by name (provenance in leonet/data/SOURCES.md).
#: ``"2026-03"``: the StarPerf sites plus the community trackers' 2026 sites,
#: with a status (operational / planned); ``"starperf-2024-01"``: the list
#: StarPerf compiled in January 2024, for historical scenarios.
GATEWAY_CATALOGS = {
    "2026-03": ("gateways", "starlink_gateways_2026-03.csv"),
    "starperf-2024-01": ("gateways", "starlink_gateways_starperf_2024-01.csv"),
}
#: The shipped PoP lists by name.  ``"2026-10"``: the PoPs of Starlink's
#: reverse DNS and geoip feed (ids are the DNS site codes, ``"frntdeu1"``);
#: ``"starperf-2024-01"``: StarPerf's 23 PoPs (ids ``"POP1"`` ..).
POP_CATALOGS = {
    "2026-10": ("gateways", "starlink_pops_2026-10.csv"),
    "starperf-2024-01": ("gateways", "starlink_pops_starperf_2024-01.csv"),
}
DEFAULT_GATEWAY_CATALOG = "2026-03"
DEFAULT_POP_CATALOG = "2026-10"


def catalog_path(kind: str, catalog: str | None) -> Path:
    """The shipped file of a gateway (``kind="gateways"``) or PoP (``"pops"``) catalog.

    >>> catalog_path("pops", "2026-10").name
    'starlink_pops_2026-10.csv'
    """
    table, default = (
        (GATEWAY_CATALOGS, DEFAULT_GATEWAY_CATALOG) if kind == "gateways" else (POP_CATALOGS, DEFAULT_POP_CATALOG)
    )
    name = default if catalog is None else catalog
    if name not in table:
        raise ScenarioError(f"no shipped {kind} list {name!r}; the lists are {', '.join(table)}")
    return data_path(*table[name])


# --------------------------------------------------------------------------
# The columnar site set
# --------------------------------------------------------------------------


def _column(value: Any, n: int, dtype, name: str) -> np.ndarray:
    arr = np.array(value, dtype=dtype)  # a copy: the caller's array cannot change ours
    if arr.ndim == 0:
        arr = np.full(n, arr, dtype=dtype)
    if arr.shape != (n,):
        raise ScenarioError(f"GroundSites.{name} has shape {arr.shape}, but there are {n} sites; give one value per site.")
    arr.setflags(write=False)
    return arr


def _str_column(value: Any, n: int, name: str) -> list[str]:
    if isinstance(value, str):
        return [value] * n
    out = [str(v) for v in value]
    if len(out) != n:
        raise ScenarioError(f"GroundSites.{name} has {len(out)} entries, but there are {n} sites; give one per site.")
    return out


@dataclass(frozen=True, eq=False)
class GroundSites:
    """A set of ground sites of one role, stored column by column.

    Attributes
    ----------
    role : str
        ``"terminal"``, ``"gateway"`` or ``"pop"``.
    ids : list of str, [G]
        Unique, stable identifiers: ``"city:<geonameid>"``, ``"hypatia:<id>"``,
        the gateway / PoP file's id (``"GS220"``, ``"POP12"``), or the user's.
    names : list of str, [G]
    lat_deg, lon_deg : float64[G], degrees
        WGS84 geodetic latitude in [-90, 90] and longitude in [-180, 180].
    altitude_km : float64[G], km
        Height above the WGS84 ellipsoid.
    country_iso2 : list of str, [G]
        ISO 3166-1 alpha-2 code, ``""`` when unknown.
    region : list of str, [G]
        First-level administrative unit (oblast), ``""`` when unknown.
    population : int64[G]
        Population of the place a terminal stands for, 0 when unknown.
    min_elevation_deg : float64[G], degrees
        Elevation mask; NaN means the site never links to a satellite (PoPs).
    antenna_count : int64[G]
        Simultaneous satellite links: from the file for gateways, 1 for
        terminals, 0 for PoPs.
    band : list of str, [G]
        Gateway feeder band (``"Ka"``, ``"E"``, ``"Ka+E"`` after merging), ``""`` otherwise.
    extra : dict of str to ndarray[G]
        Further per-site columns a loader kept (``"uplink_ghz"``,
        ``"admin1_code"``, ...); strings are ``object`` arrays.
    r_ecef_km : float64[G, 3], km, ECEF
        Computed from the geodetic coordinates when the object is built.

    Notes
    -----
    Numeric arrays are read-only copies.  Indexing with `subset` and joining
    with `concat` build new objects; nothing is modified in place.
    """

    role: str
    ids: list[str]
    names: list[str]
    lat_deg: NDArray[np.float64]
    lon_deg: NDArray[np.float64]
    altitude_km: NDArray[np.float64]
    country_iso2: list[str]
    region: list[str]
    population: NDArray[np.int64]
    min_elevation_deg: NDArray[np.float64]
    antenna_count: NDArray[np.int64]
    band: list[str] = field(default_factory=list)
    extra: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    r_ecef_km: NDArray[np.float64] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ScenarioError(f"GroundSites.role is {self.role!r}; it must be one of {', '.join(map(repr, ROLES))}.")
        ids = [str(i) for i in self.ids]
        n = len(ids)
        set_ = object.__setattr__
        set_(self, "ids", ids)
        set_(self, "names", _str_column(self.names, n, "names"))
        for name in ("lat_deg", "lon_deg", "altitude_km", "min_elevation_deg"):
            set_(self, name, _column(getattr(self, name), n, np.float64, name))
        for name in ("population", "antenna_count"):
            set_(self, name, _column(getattr(self, name), n, np.int64, name))
        set_(self, "country_iso2", _str_column(self.country_iso2, n, "country_iso2"))
        set_(self, "region", _str_column(self.region, n, "region"))
        set_(self, "band", _str_column(self.band if len(self.band) else "", n, "band"))
        extra = {}
        for key, value in dict(self.extra).items():
            arr = np.array(value, dtype=object if _is_text(value) else None)
            if arr.shape[:1] != (n,):
                raise ScenarioError(f"GroundSites.extra[{key!r}] has shape {arr.shape}; it needs one value per site ({n}).")
            arr.setflags(write=False)
            extra[key] = arr
        set_(self, "extra", extra)
        if len(set(ids)) != n:
            dup = sorted({i for i in ids if ids.count(i) > 1})[:5]
            raise ScenarioError(f"GroundSites ids must be unique; repeated: {listing(dup)}. Give each site its own id.")
        bad = ~((np.abs(self.lat_deg) <= 90.0) & (np.abs(self.lon_deg) <= 180.0))
        if bad.any():
            g = int(np.flatnonzero(bad)[0])
            raise ScenarioError(
                f"site {excerpt(ids[g])!r} has lat_deg={self.lat_deg[g]!r}, lon_deg={self.lon_deg[g]!r}; latitude must be in "
                "[-90, 90] and longitude in [-180, 180] degrees (check for swapped or projected coordinates)."
            )
        r = geodetic_to_ecef(self.lat_deg, self.lon_deg, self.altitude_km).reshape(n, 3)
        r.setflags(write=False)
        set_(self, "r_ecef_km", r)

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        head = ", ".join(self.ids[:3]) + (", ..." if len(self) > 3 else "")
        return f"GroundSites(role={self.role!r}, G={len(self)}, ids=[{head}])"

    def subset(self, index: ArrayLike | slice) -> GroundSites:
        """The sites selected by an index array, a boolean mask or a slice, in that order.

        Parameters
        ----------
        index : int[K], bool[G] or slice

        Returns
        -------
        GroundSites with K sites.
        """
        idx = np.arange(len(self))[index]
        idx = np.atleast_1d(idx)
        pick = idx.tolist()
        return GroundSites(
            role=self.role,
            ids=[self.ids[i] for i in pick],
            names=[self.names[i] for i in pick],
            lat_deg=self.lat_deg[idx],
            lon_deg=self.lon_deg[idx],
            altitude_km=self.altitude_km[idx],
            country_iso2=[self.country_iso2[i] for i in pick],
            region=[self.region[i] for i in pick],
            population=self.population[idx],
            min_elevation_deg=self.min_elevation_deg[idx],
            antenna_count=self.antenna_count[idx],
            band=[self.band[i] for i in pick],
            extra={k: v[idx] for k, v in self.extra.items()},
        )

    def index_of(self, site_id: str) -> int:
        """Position of the site with id `site_id`.

        Raises
        ------
        ScenarioError
            If no site has that id; close matches are listed.
        """
        try:
            return self.ids.index(site_id)
        except ValueError:
            close = difflib.get_close_matches(site_id, self.ids, n=5)
            raise ScenarioError(
                f"no {self.role} with id {site_id!r}; "
                + (f"close matches: {', '.join(close)}." if close else f"ids look like {', '.join(self.ids[:3])}.")
            ) from None

    @classmethod
    def concat(cls, parts: Sequence[GroundSites]) -> GroundSites:
        """Join site sets of the same role, in order.

        Extra columns missing from some parts are filled with ``""`` (text),
        NaN (float) or 0 (integer).

        Raises
        ------
        ScenarioError
            If the roles differ, no part is given, or an id repeats.
        """
        parts = list(parts)
        if not parts:
            raise ScenarioError("GroundSites.concat needs at least one site set.")
        roles = {p.role for p in parts}
        if len(roles) != 1:
            raise ScenarioError(
                f"cannot concatenate ground sites of different roles {sorted(roles)}; keep terminals, gateways and PoPs "
                "in separate GroundSites."
            )
        keys: list[str] = []
        for p in parts:
            keys.extend(k for k in p.extra if k not in keys)
        extra = {}
        for k in keys:
            cols = []
            for p in parts:
                if k in p.extra:
                    cols.append(p.extra[k])
                else:
                    ref = next(q.extra[k] for q in parts if k in q.extra)
                    fill = "" if ref.dtype == object else (np.nan if ref.dtype.kind == "f" else 0)
                    cols.append(np.full(len(p), fill, dtype=ref.dtype))
            extra[k] = np.concatenate(cols)
        return cls(
            role=parts[0].role,
            ids=[i for p in parts for i in p.ids],
            names=[i for p in parts for i in p.names],
            lat_deg=np.concatenate([p.lat_deg for p in parts]),
            lon_deg=np.concatenate([p.lon_deg for p in parts]),
            altitude_km=np.concatenate([p.altitude_km for p in parts]),
            country_iso2=[i for p in parts for i in p.country_iso2],
            region=[i for p in parts for i in p.region],
            population=np.concatenate([p.population for p in parts]),
            min_elevation_deg=np.concatenate([p.min_elevation_deg for p in parts]),
            antenna_count=np.concatenate([p.antenna_count for p in parts]),
            band=[i for p in parts for i in p.band],
            extra=extra,
        )

    def with_min_elevation(self, min_elevation_deg: ArrayLike) -> GroundSites:
        """A copy with another elevation mask (scalar or float64[G], degrees)."""
        return self._replace(min_elevation_deg=min_elevation_deg)

    def _replace(self, **changes) -> GroundSites:
        kw = {
            k: getattr(self, k)
            for k in (
                "role ids names lat_deg lon_deg altitude_km country_iso2 region population "
                "min_elevation_deg antenna_count band extra"
            ).split()
        }
        kw.update(changes)
        return GroundSites(**kw)


def _is_text(value: Any) -> bool:
    if isinstance(value, np.ndarray):
        return value.dtype == object or value.dtype.kind in "US"
    return bool(len(value)) and isinstance(next(iter(value)), str)


def _default_mask(role: str) -> float:
    return math.nan if role == "pop" else DEFAULT_MIN_ELEVATION_DEG


def _default_antennas(role: str) -> int:
    return {"terminal": 1, "gateway": 1, "pop": 0}[role]


# --------------------------------------------------------------------------
# CSV at the edge
# --------------------------------------------------------------------------


@dataclass
class _Table:
    """Rows of a validated CSV file: text columns plus their line numbers."""

    path: str
    columns: dict[str, list[str]]
    lines: list[int]

    def __len__(self) -> int:
        return len(self.lines)

    def numbers(self, name: str, *, integer: bool = False, low=None, high=None, rule: str = "", default=None) -> np.ndarray:
        """Convert a column, reporting the first bad value with its line."""
        texts = self.columns[name]
        dtype = np.int64 if integer else np.float64
        try:  # C-speed conversion; the loop below runs only to find and report a bad value
            fast = np.array([t.strip() for t in texts], dtype=dtype)
        except (ValueError, OverflowError):
            fast = None
        if fast is not None:
            ok = np.isfinite(fast) if not integer else np.ones(fast.shape, dtype=bool)
            if low is not None:
                ok &= fast >= low
            if high is not None:
                ok &= fast <= high
            if ok.all():
                return fast
        out = np.empty(len(self), dtype=dtype)
        for k, text in enumerate(texts):
            text = text.strip()
            if text == "" and default is not None:
                out[k] = default
                continue
            try:
                value = int(text) if integer else float(text)
            except ValueError:
                kind = "an integer" if integer else "a number"
                raise InputFileError(
                    self.path,
                    f"column {name!r} holds {excerpt(text)!r}, which is not {kind}; write {kind} there"
                    + (" (or leave it empty)" if default is not None else "")
                    + ".",
                    line=self.lines[k],
                ) from None
            if integer and not -(2**63) <= value < 2**63:
                # Past int64 (math.isfinite would raise OverflowError on a huge int).
                raise InputFileError(
                    self.path, f"column {name!r} holds {excerpt(text)}, too large for an "
                    "integer (64-bit). Fix the value.", line=self.lines[k]
                )
            if not math.isfinite(value) or (low is not None and value < low) or (high is not None and value > high):
                if low is not None and high is not None:
                    rng = f"[{low}, {high}]"
                else:
                    rng = f">= {low}" if low is not None else "finite numbers"
                fix = "Fix the value."
                if name.startswith(("lat", "lon")):
                    fix = "Fix the value: are latitude and longitude swapped, or the coordinates projected instead of WGS84 degrees?"
                raise InputFileError(
                    self.path, f"column {name!r} holds {excerpt(text)}, outside {rng}{rule}. {fix}", line=self.lines[k]
                )
            out[k] = value
        return out


def read_sites_csv(
    path: str | os.PathLike,
    required: Sequence[str],
    *,
    optional: Sequence[str] = (),
    id_column: str | None = "id",
    lat_column: str = "lat",
    lon_column: str = "lon",
    header: bool = True,
) -> _Table:
    """Read and validate a CSV file of sites (the generic edge reader).

    Checks that every required column is present, that latitudes are in
    [-90, 90] and longitudes in [-180, 180] degrees, that ids are unique and
    that no row is ragged.  Numbers in other columns are converted, and
    checked, by the caller through ``table.numbers(column)``.

    Parameters
    ----------
    path : path-like
        A UTF-8 CSV file (a byte-order mark is accepted); empty lines are skipped.
    required : sequence of str
        Columns that must be present (with ``header=False``: the column names,
        in file order).
    optional : sequence of str
        Columns read when present (filled with ``""`` when absent).
    id_column : str or None
        Column whose values must be unique.
    lat_column, lon_column : str
        Coordinate columns, degrees.
    header : bool
        Whether the first line names the columns.

    Returns
    -------
    table
        ``table.columns[name]`` is the list of raw strings, ``table.lines``
        the 1-based line number of each row.

    Raises
    ------
    InputFileError
        Naming the file, the line, the column, the bad value and the fix.
    """
    path = os.fspath(path)
    rows = _csv_rows(path)
    if header:
        if not rows:
            raise InputFileError(path, f"is empty; it needs a header line with the columns {', '.join(required)}.")
        line0, names = rows[0]
        names = [n.strip() for n in names]
        rows = rows[1:]
        _check_header(path, line0, names, required, optional)
    else:
        names = list(required)
    if not rows:
        raise InputFileError(path, "has no data rows.")
    _check_row_widths(path, rows, names, header)
    index = {n: i for i, n in enumerate(names)}
    transposed = list(zip(*(row for _, row in rows)))
    columns = {n: list(transposed[index[n]]) for n in list(required) + [o for o in optional if o in index]}
    for o in optional:
        columns.setdefault(o, [""] * len(rows))
    table = _Table(path=path, columns=columns, lines=[line for line, _ in rows])
    if id_column is not None:
        _check_unique_ids(table, id_column)
    return table


def _csv_rows(path: str) -> list[tuple[int, list[str]]]:
    """The non-blank rows of a UTF-8 CSV file with their 1-based line numbers (header included)."""
    # A FIFO, device, socket or directory is refused before it is read.
    raw = read_input_bytes(
        path, "a CSV file", "file not found; check the path (relative paths are taken from the working directory)."
    )
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark is accepted
    except UnicodeDecodeError as exc:
        raise InputFileError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start}); save the file as UTF-8 CSV.") from None
    try:
        # newline="": the csv module handles line breaks, also inside quoted fields.
        return list(_numbered_rows(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise InputFileError(path, f"not a readable CSV file ({excerpt(str(exc), 80)}); check the quoting.") from None


def _check_header(path: str, line0: int, names: list[str], required: Sequence[str], optional: Sequence[str]) -> None:
    """Every required column present, none twice, and no column that looks like a misspelt one leonet reads."""
    missing = [c for c in required if c not in names]
    if missing:
        # No required column at all: the file is not a site list, so its first line is quoted only briefly.
        found = (
            f"The first line starts {excerpt(','.join(names))!r}, which names none of them"
            if len(missing) == len(required)
            else f"Found columns: {listing(names)}"
        )
        raise InputFileError(
            path,
            f"missing column(s) {', '.join(missing)}. {found}. Required: {', '.join(required)}"
            + (f" (optional: {', '.join(optional)})" if optional else "")
            + ". Fix the header line.",
            line=line0,
        )
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputFileError(path, f"column(s) {listing(dup)} appear more than once in the header; rename one.", line=line0)
    # Other columns are kept as information and not read, but one spelled
    # like a column that is read and absent (uplink_gz for uplink_ghz) is
    # a typo that would silently drop its values.
    absent = sorted(set(required) | set(optional) - set(names))
    for n in names:
        close = difflib.get_close_matches(n, absent, n=1, cutoff=0.8) if n not in required and n not in optional else []
        if close:
            raise InputFileError(
                path,
                f"column {excerpt(n)!r} is not one leonet reads; did you mean {close[0]!r}? Columns read: "
                f"{', '.join(list(required) + list(optional))}. Rename the column (its values would be ignored).",
                line=line0,
            )


def _check_row_widths(path: str, rows: list[tuple[int, list[str]]], names: list[str], header: bool) -> None:
    """Every data row has one field per column (an unquoted comma adds one)."""
    width = len(names)
    # The per-row loop runs only when some row is ragged, to name the first.
    for line, row in rows if any(len(row) != width for _, row in rows) else ():
        if len(row) != width:
            raise InputFileError(
                path,
                f"row has {len(row)} fields but the {'header' if header else 'format'} has {width} "
                f"({listing(names)}): {excerpt(','.join(row))!r}. Quote fields that contain commas.",
                line=line,
            )


def _check_unique_ids(table: _Table, id_column: str) -> None:
    """Every row has an id, and no id repeats (the first offending line is named)."""
    values = table.columns[id_column]
    if all(v.strip() for v in values) and len(set(values)) == len(table):
        return  # the common case, at C speed
    seen: dict[str, int] = {}
    for k, value in enumerate(values):
        value = value.strip()
        if value == "":
            raise InputFileError(table.path, f"column {id_column!r} is empty; give every row an id.", line=table.lines[k])
        if value in seen:
            raise InputFileError(
                table.path,
                f"id {excerpt(value)!r} in column {id_column!r} repeats line {seen[value]}; ids must be unique.",
                line=table.lines[k],
            )
        seen[value] = table.lines[k]


def _numbered_rows(f) -> Iterable[tuple[int, list[str]]]:
    reader = csv.reader(f)
    for row in reader:
        if not row or (len(row) == 1 and not row[0].strip()):  # blank line
            continue
        yield reader.line_num, row


def _coordinates(table: _Table, lat_column: str = "lat", lon_column: str = "lon"):
    lat = table.numbers(lat_column, low=-90.0, high=90.0, rule=" (latitude, degrees)")
    lon = table.numbers(lon_column, low=-180.0, high=180.0, rule=" (longitude, degrees)")
    return lat, lon


# --------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------


def _as_set(value: str | Iterable[str] | None, upper: bool = False) -> set[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    return {v.strip().upper() if upper else v.strip() for v in value}


# --------------------------------------------------------------------------
# Cities
# --------------------------------------------------------------------------


def _file_key(path: str | os.PathLike) -> tuple[str, str]:
    """``(absolute path, sha256 of the bytes)``: the cache key of a parsed file.

    The contents, not the modification time and size: a file rewritten with
    the same size within one timestamp tick (a few ms on many file systems)
    would otherwise be served from the cache with its old rows.  Hashing the
    shipped city list takes ~5 ms; parsing it ~200 ms.
    """
    p = os.path.abspath(os.fspath(path))
    return p, file_sha256(p, "a CSV file", "file not found; check the path.")


@lru_cache(maxsize=4)
def _read_cities(path: str, _sha256: str) -> GroundSites:
    table = read_sites_csv(
        path,
        ["geonameid", "name", "country_iso2", "admin1_code", "lat", "lon", "population"],
        optional=["timezone"],
        id_column="geonameid",
    )
    lat, lon = _coordinates(table)
    population = table.numbers("population", integer=True, low=0, default=0)
    country = [c.strip().upper() for c in table.columns["country_iso2"]]
    admin1 = [c.strip() for c in table.columns["admin1_code"]]
    from .regions import admin1_regions

    region = admin1_regions(lat, lon, country, admin1)
    sites = GroundSites(
        role="terminal",
        ids=["city:" + i.strip() for i in table.columns["geonameid"]],
        names=[n.strip() for n in table.columns["name"]],
        lat_deg=lat,
        lon_deg=lon,
        altitude_km=0.0,
        country_iso2=country,
        region=region,
        population=population,
        min_elevation_deg=DEFAULT_MIN_ELEVATION_DEG,
        antenna_count=1,
        extra={
            "admin1_code": np.array(admin1, dtype=object),
            "timezone": np.array([t.strip() for t in table.columns["timezone"]], dtype=object),
        },
    )
    order = np.argsort(-population, kind="stable")  # most populous first; ties keep file order
    return sites if np.all(order == np.arange(len(order))) else sites.subset(order)


def load_cities(
    path: str | os.PathLike | None = None,
    *,
    country_iso2: str | Iterable[str] | None = None,
    names: Iterable[str] | None = None,
    min_population: int = 0,
    limit: int | None = None,
    min_elevation_deg: float = DEFAULT_MIN_ELEVATION_DEG,
) -> GroundSites:
    """Cities as user-terminal sites, from a GeoNames CSV file.

    Parameters
    ----------
    path : path-like, optional
        CSV with columns ``geonameid,name,country_iso2,admin1_code,lat,lon,population``
        (``timezone`` optional).  Default: the shipped GeoNames file of the
        34,006 places with population >= 15,000.
    country_iso2 : str or iterable of str, optional
        Keep only these countries (ISO 3166-1 alpha-2, e.g. ``"UA"``).
    names : iterable of str, optional
        Keep only these cities, in this order.  Matching ignores case,
        accents, hyphens and apostrophes (`fold_name`) and is done within the
        country filter; when a name matches several places, the most populous
        one is taken.
    min_population : int
        Keep places with at least this population.
    limit : int, optional
        Keep the `limit` most populous places (after the other filters).
    min_elevation_deg : float, degrees
        Elevation mask given to every site (default 25).

    Returns
    -------
    GroundSites
        Role ``"terminal"``, ids ``"city:<geonameid>"``, sorted by population
        (largest first) unless `names` fixes the order.  ``region`` is the
        oblast (geoBoundaries ``shapeName``) for Ukrainian places, else ``""``;
        ``extra`` holds ``admin1_code`` and ``timezone``.

    Raises
    ------
    InputFileError
        For a malformed file (missing column, bad number, latitude out of range...).
    ScenarioError
        For a name that matches no city; close matches are listed.

    Notes
    -----
    The parsed file is cached per (path, sha256 of its bytes): the shipped
    file takes ~0.2 s to read the first time and ~5 ms (the hash) afterwards.

    Examples
    --------
    >>> kyiv = load_cities(country_iso2="UA", names=["kyiv"])
    >>> kyiv.ids, kyiv.region
    (['city:703448'], ['Kyiv'])
    """
    path = data_path(*_CITIES_FILE) if path is None else path
    sites = _read_cities(*_file_key(path))
    if country_iso2 is None and names is None and not min_population and limit is None:
        # The cached object itself (its arrays are read-only; do not edit its lists).
        return sites if min_elevation_deg == DEFAULT_MIN_ELEVATION_DEG else sites.with_min_elevation(min_elevation_deg)
    countries = _as_set(country_iso2, upper=True)
    candidates = _cities_by_population(sites, path, countries, min_population)
    if names is not None:
        candidates = _cities_named(sites, path, candidates, names, countries, min_population)
    if limit is not None:
        candidates = candidates[: int(limit)]
    out = sites.subset(candidates)
    if min_elevation_deg != DEFAULT_MIN_ELEVATION_DEG:
        out = out.with_min_elevation(min_elevation_deg)
    return out


def _cities_by_population(
    sites: GroundSites, path: str | os.PathLike, countries: set[str] | None, min_population: int
) -> NDArray[np.intp]:
    """Indices of the cities in *countries* with at least *min_population*, most populous first.

    Ties keep file order (the sort is stable).  A country filter that
    matches nothing is an error listing the codes present.
    """
    keep = np.ones(len(sites), dtype=bool)
    if countries is not None:
        keep &= np.isin(np.array(sites.country_iso2, dtype=object), list(countries))
        if not keep.any():
            present = sorted(set(sites.country_iso2))
            raise ScenarioError(
                f"no city in {os.fspath(path)} has country_iso2 in {sorted(countries)}; use ISO 3166-1 alpha-2 codes "
                f"such as {listing(present, 8)}...",
                source=os.fspath(path),
            )
    if min_population:
        keep &= sites.population >= int(min_population)
    candidates = np.flatnonzero(keep)
    return candidates[np.argsort(-sites.population[candidates], kind="stable")]


def _cities_named(
    sites: GroundSites,
    path: str | os.PathLike,
    candidates: NDArray[np.intp],
    names: str | Iterable[str],
    countries: set[str] | None,
    min_population: int,
) -> NDArray[np.int64]:
    """The candidates named in *names*, in that order, each once.

    Names match by `fold_name`; of several places with one name the most
    populous wins (*candidates* come most populous first).  An unknown name
    is an error listing close matches among the candidates.
    """
    by_fold: dict[str, int] = {}
    for g in candidates.tolist():  # most populous first: setdefault keeps the largest
        by_fold.setdefault(fold_name(sites.names[g]), g)
    picked = []
    for name in [names] if isinstance(names, str) else names:
        g = by_fold.get(fold_name(name))
        if g is None:
            pool = [sites.names[g] for g in candidates.tolist()]
            close = suggest(name, pool)
            where = f" in {', '.join(sorted(countries))}" if countries else ""
            raise ScenarioError(
                f"no city named {name!r}{where} (population >= {max(min_population, 0)}) in {os.fspath(path)}; "
                + (f"close matches: {listing(close)}." if close else "check the spelling or the country filter.")
                + " GeoNames spells names in English transliteration (e.g. 'Kyiv', 'Zaporizhzhya').",
                source=os.fspath(path),
            )
        if g not in picked:
            picked.append(g)
    return np.array(picked, dtype=np.int64)


def load_hypatia_cities(
    path: str | os.PathLike | None = None, *, min_elevation_deg: float = DEFAULT_MIN_ELEVATION_DEG
) -> GroundSites:
    """Ground stations from a Hypatia ``.basic.txt`` file.

    Parameters
    ----------
    path : path-like, optional
        Lines ``id,name,lat,lon,elevation`` with no header; the elevation is in
        metres above the ellipsoid (Hypatia's ``read_ground_stations_basic``
        reads it as ``elevation_m_float``).  Default: the shipped top-100 file;
        ``data_path("cities", "hypatia_cities_top_1000_by_est_2025_pop.basic.txt")``
        is the top-1000.
    min_elevation_deg : float, degrees

    Returns
    -------
    GroundSites
        Role ``"terminal"``, ids ``"hypatia:<id>"``, in file order (ranked by
        estimated 2025 population; the file holds no population numbers).
    """
    path = data_path("cities", "hypatia_cities_top_100_by_est_2025_pop.basic.txt") if path is None else path
    table = read_sites_csv(path, ["id", "name", "lat", "lon", "elevation"], header=False)
    lat, lon = _coordinates(table)
    table.numbers("id", integer=True, low=0)
    elevation_m = table.numbers("elevation", low=-500.0, high=9000.0, rule=" (metres)")
    return GroundSites(
        role="terminal",
        ids=["hypatia:" + i.strip() for i in table.columns["id"]],
        names=[n.strip() for n in table.columns["name"]],
        lat_deg=lat,
        lon_deg=lon,
        altitude_km=elevation_m / 1000.0,
        country_iso2="",
        region="",
        population=0,
        min_elevation_deg=min_elevation_deg,
        antenna_count=1,
    )


# --------------------------------------------------------------------------
# Gateways and PoPs
# --------------------------------------------------------------------------


def load_gateways(
    path: str | os.PathLike | None = None,
    *,
    catalog: str | None = None,
    include_planned: bool = False,
    country_iso2: str | Iterable[str] | None = None,
    ids: Iterable[str] | None = None,
    band: str | Iterable[str] | None = None,
    dedupe_colocated: bool = False,
    min_elevation_deg: float = DEFAULT_MIN_ELEVATION_DEG,
) -> GroundSites:
    """Gateways (ground stations that feed the satellites), from a CSV file.

    Parameters
    ----------
    path : path-like, optional
        CSV with columns ``id,name,country_iso2,lat,lon,band,antenna_count``
        (optional: ``uplink_ghz,downlink_ghz,note,description_raw``).
        Default: the shipped list ``catalog`` names.
    catalog : str, optional
        A shipped list (`GATEWAY_CATALOGS`; default `DEFAULT_GATEWAY_CATALOG`).
        Sites a list marks ``planned`` are left out unless ``include_planned``.
    include_planned : bool
        Keep sites whose ``status`` is ``planned`` (not yet built).
    country_iso2 : str or iterable of str, optional
        Keep only these countries.
    ids : iterable of str, optional
        Keep only these ids, in this order (unknown ids are an error).
    band : str or iterable of str, optional
        Keep only these feeder bands (``"Ka"``, ``"E"``; case-insensitive).
    dedupe_colocated : bool
        Merge rows at identical coordinates into one site (see Notes).
    min_elevation_deg : float, degrees

    Returns
    -------
    GroundSites
        Role ``"gateway"``; ``band`` kept; ``extra`` holds ``uplink_ghz``,
        ``downlink_ghz`` (float64, NaN when empty), ``note`` and ``description_raw``.

    Notes
    -----
    The shipped list gives 39 "Mega" sites twice, once per band (Ka and E),
    with distinct ids.  By default both rows are kept: they are separate
    antenna groups on different bands with different channel widths, which
    is what a capacity model needs, and the row count then matches the file.
    With ``dedupe_colocated=True`` the rows at identical coordinates become
    one site (one node of the routing graph): id ``"GS29+GS30"``, band
    ``"Ka+E"``, antennas and channel widths summed.  The first row's name,
    country and note are kept.
    """
    path = catalog_path("gateways", catalog) if path is None else path
    sites = _read_gateways(path, min_elevation_deg)
    status = sites.extra.get("status")
    if status is not None and not include_planned:
        sites = sites.subset(np.flatnonzero(status != "planned"))
    keep = _gateways_matching(sites, path, country_iso2, band)
    order = np.flatnonzero(keep) if ids is None else _gateways_by_id(sites, path, keep, ids)
    sites = sites.subset(order)
    return _merge_colocated(sites) if dedupe_colocated else sites


def _read_gateways(path: str | os.PathLike, min_elevation_deg: float) -> GroundSites:
    """Every row of a gateway CSV file, validated, as sites in file order."""
    table = read_sites_csv(
        path,
        ["id", "name", "country_iso2", "lat", "lon", "band", "antenna_count"],
        optional=["uplink_ghz", "downlink_ghz", "note", "description_raw", "status"],
    )
    lat, lon = _coordinates(table)
    antennas = table.numbers("antenna_count", integer=True, low=1, rule=" (simultaneous satellite links)")
    up = table.numbers("uplink_ghz", low=0.0, default=math.nan)
    down = table.numbers("downlink_ghz", low=0.0, default=math.nan)
    return GroundSites(
        role="gateway",
        ids=[i.strip() for i in table.columns["id"]],
        names=[n.strip() for n in table.columns["name"]],
        lat_deg=lat,
        lon_deg=lon,
        altitude_km=0.0,
        country_iso2=[c.strip().upper() for c in table.columns["country_iso2"]],
        region="",
        population=0,
        min_elevation_deg=min_elevation_deg,
        antenna_count=antennas,
        band=[b.strip() for b in table.columns["band"]],
        extra={
            "uplink_ghz": up,
            "downlink_ghz": down,
            "note": np.array([t.strip() for t in table.columns["note"]], dtype=object),
            "description_raw": np.array([t.strip() for t in table.columns["description_raw"]], dtype=object),
            "status": np.array([t.strip().lower() for t in table.columns["status"]], dtype=object),
        },
    )


def _gateways_matching(
    sites: GroundSites,
    path: str | os.PathLike,
    country_iso2: str | Iterable[str] | None,
    band: str | Iterable[str] | None,
) -> NDArray[np.bool_]:
    """bool[W]: gateways in one of the countries and on one of the bands (no filter: all).

    A band the file does not have is an error (a typo would select nothing).
    """
    keep = np.ones(len(sites), dtype=bool)
    countries = _as_set(country_iso2, upper=True)
    if countries is not None:
        keep &= np.isin(np.array(sites.country_iso2, dtype=object), list(countries))
    bands = _as_set(band, upper=True)
    if bands is not None:
        known = {b.upper() for b in sites.band}
        unknown = bands - known
        if unknown:
            raise ScenarioError(
                f"unknown gateway band(s) {sorted(unknown)}; {os.fspath(path)} has bands {short_repr(sorted(set(sites.band)))}.",
                source=os.fspath(path),
            )
        keep &= np.isin(np.array([b.upper() for b in sites.band], dtype=object), list(bands))
    return keep


def _gateways_by_id(
    sites: GroundSites, path: str | os.PathLike, keep: NDArray[np.bool_], ids: str | Iterable[str]
) -> NDArray[np.int64]:
    """Indices of the gateways *ids*, in that order, dropping those the filters left out.

    An id not in the file is an error listing close ids (or names).
    """
    wanted = [ids] if isinstance(ids, str) else list(ids)
    pos = {i: k for k, i in enumerate(sites.ids)}
    chosen = []
    for w in wanted:
        if w not in pos:
            close = difflib.get_close_matches(w, sites.ids, n=5) or suggest(w, sites.names)
            raise ScenarioError(
                f"no gateway with id {w!r} in {os.fspath(path)}; "
                + (f"close matches: {listing(close)}." if close else "ids look like GS1, GS2, ...")
                + " Select by country_iso2= or band= for groups.",
                source=os.fspath(path),
            )
        if keep[pos[w]]:
            chosen.append(pos[w])
    return np.array(chosen, dtype=np.int64)


def _merge_colocated(sites: GroundSites) -> GroundSites:
    key = [(float(a), float(b)) for a, b in zip(sites.lat_deg, sites.lon_deg)]
    groups: dict[tuple[float, float], list[int]] = {}
    for g, k in enumerate(key):
        groups.setdefault(k, []).append(g)
    firsts = [members[0] for members in groups.values()]
    out = sites.subset(np.array(firsts, dtype=np.int64))
    ids = list(out.ids)
    band = list(out.band)
    antennas = out.antenna_count.copy()
    extra = {k: v.copy() for k, v in out.extra.items()}
    for row, members in enumerate(groups.values()):
        if len(members) == 1:
            continue
        ids[row] = "+".join(sites.ids[m] for m in members)
        band[row] = "+".join(dict.fromkeys(sites.band[m] for m in members))
        antennas[row] = sites.antenna_count[members].sum()
        for k in ("uplink_ghz", "downlink_ghz"):
            if k in extra:
                extra[k][row] = np.nansum(sites.extra[k][members])
    return out._replace(ids=ids, band=band, antenna_count=antennas, extra=extra)


def _pop_codes(name: str) -> list[str]:
    """``"LON/LHR - LNDNGBR1"`` -> ``["LON", "LHR", "LNDNGBR1"]``."""
    head, _, site = name.partition(" - ")
    codes = [c.strip().upper() for c in head.split("/") if c.strip()]
    if site.strip():
        codes.append(site.strip().upper())
    return codes


def _pop_alias(wanted: str, sites: GroundSites) -> str:
    """``wanted``, or the id it names in ``sites`` when it is a StarPerf PoP id (``"POP12"``) of a list that uses site codes.

    Scenarios written for the 2024 list name PoPs ``POP1`` .. ``POP23``; the
    2026 list's ids are Starlink's site codes.  The StarPerf name carries the
    site code (``"FRA - FRNTDEU1"``), which translates one into the other.
    """
    if wanted in sites.ids or not wanted.upper().startswith("POP"):
        return wanted
    starperf = _read_pop_names(str(data_path(*POP_CATALOGS["starperf-2024-01"])))
    code = starperf.get(wanted.upper())
    return code if code in sites.ids else wanted


@lru_cache(maxsize=1)
def _read_pop_names(path: str) -> dict[str, str]:
    """StarPerf PoP id -> lower-case site code, from the shipped 2024 list."""
    import csv

    with open(path, newline="", encoding="utf-8") as f:
        return {r["id"].strip().upper(): (_pop_codes(r["name"]) or [""])[-1].lower() for r in csv.DictReader(f)}


def load_pops(
    path: str | os.PathLike | None = None,
    *,
    catalog: str | None = None,
    ids: Iterable[str] | None = None,
    names: Iterable[str] | None = None,
) -> GroundSites:
    """Points of presence (where the operator's network meets the internet).

    Parameters
    ----------
    path : path-like, optional
        CSV with columns ``id,name,lat,lon``.  Default: the shipped list
        ``catalog`` names.
    catalog : str, optional
        A shipped list (`POP_CATALOGS`; default `DEFAULT_POP_CATALOG`).  Names look like ``"FRA - FRNTDEU1"`` or
        ``"LON/LHR - LNDNGBR1"``: airport-like codes, then the site code.
    ids : iterable of str, optional
        Keep these ids, in this order (``"frntdeu1"`` in the 2026 list; a 2024
        StarPerf id such as ``"POP12"`` is translated to its site code).
    names : iterable of str, optional
        Keep these PoPs, in this order, matched by full name, by any of the
        airport-like codes (``"FRA"``, ``"LHR"``) or by the site code, ignoring case.

    Returns
    -------
    GroundSites
        Role ``"pop"``, mask NaN (PoPs have no radio), 0 antennas.
        ``country_iso2`` comes from the shipped Natural Earth borders (point in
        polygon; ``""`` for points in no country).
    """
    path = catalog_path("pops", catalog) if path is None else path
    table = read_sites_csv(path, ["id", "name", "lat", "lon"], optional=["country_iso2"])
    lat, lon = _coordinates(table)
    given = [c.strip().upper() for c in table.columns["country_iso2"]]
    if not all(given):
        from .regions import country_of

        found = country_of(lat, lon)
        given = [g or f for g, f in zip(given, found)]
    sites = GroundSites(
        role="pop",
        ids=[i.strip() for i in table.columns["id"]],
        names=[n.strip() for n in table.columns["name"]],
        lat_deg=lat,
        lon_deg=lon,
        altitude_km=0.0,
        country_iso2=given,
        region="",
        population=0,
        min_elevation_deg=math.nan,
        antenna_count=0,
    )
    chosen: list[int] = []
    if ids is not None:
        for w in [ids] if isinstance(ids, str) else ids:
            chosen.append(sites.index_of(_pop_alias(w, sites)))
    if names is not None:
        lookup: dict[str, int] = {}
        for g, name in enumerate(sites.names):
            lookup.setdefault(fold_name(name), g)
            for code in _pop_codes(name):
                lookup.setdefault(fold_name(code), g)
        for w in [names] if isinstance(names, str) else names:
            g = lookup.get(fold_name(w))
            if g is None:
                codes = sorted({c for n in sites.names for c in _pop_codes(n)[:-1]})
                close = suggest(w, codes + sites.names)
                raise ScenarioError(
                    f"no PoP named {w!r} in {os.fspath(path)}; "
                    + (f"close matches: {listing(close)}. " if close else "")
                    + f"Known codes: {listing(codes, 40)}.",
                    source=os.fspath(path),
                )
            chosen.append(g)
    if ids is None and names is None:
        return sites
    return sites.subset(np.array(list(dict.fromkeys(chosen)), dtype=np.int64))


# --------------------------------------------------------------------------
# User-given sites
# --------------------------------------------------------------------------

_ROW_KEYS = {
    "id",
    "name",
    "lat_deg",
    "lon_deg",
    "altitude_km",
    "country_iso2",
    "region",
    "population",
    "min_elevation_deg",
    "antenna_count",
    "band",
    "note",
}


def sites_from_coordinates(role: str, rows: Sequence[Mapping[str, Any]], *, source: str = "sites") -> GroundSites:
    """Ground sites given by hand (a scenario's extra gateway, a test terminal...).

    Parameters
    ----------
    role : {"terminal", "gateway", "pop"}
    rows : sequence of mapping
        Each with ``name``, ``lat_deg``, ``lon_deg`` and optionally ``id``
        (default ``"<role>:<name>"``), ``altitude_km`` (0), ``country_iso2``
        (default: the country the point lies in, from the shipped borders;
        ``""`` at sea), ``region`` (default: the first-level unit the point lies
        in), ``population`` (0), ``min_elevation_deg`` (25; NaN
        for PoPs), ``antenna_count`` (1; 0 for PoPs), ``band`` (``""``) and
        ``note`` (kept in ``extra["note"]``).
    source : str
        Where the rows came from (a scenario file and its table), for messages.

    Returns
    -------
    GroundSites

    Raises
    ------
    ScenarioError
        Naming the row, the field, the bad value and the rule.

    Examples
    --------
    >>> gw = sites_from_coordinates("gateway", [{"name": "Rzeszow", "lat_deg": 50.04, "lon_deg": 21.99,
    ...                                          "antenna_count": 8, "country_iso2": "PL"}])
    >>> gw.ids, gw.antenna_count.tolist()
    (['gateway:Rzeszow'], [8])
    """
    if role not in ROLES:
        raise ScenarioError(f"role {role!r} is not one of {', '.join(map(repr, ROLES))}.", source=source)
    if not rows:
        raise ScenarioError(f"{source}: no {role} rows given; give at least one site with name, lat_deg, lon_deg.", source=source)
    cols: dict[str, list] = {k: [] for k in _ROW_KEYS}
    for k, row in enumerate(rows):
        where = f"{source}[{k}]"
        _check_row_fields(row, where, source)
        values = _row_numbers(row, where, source)
        name = str(row["name"])
        cols["id"].append(str(row.get("id", f"{role}:{name}")))
        cols["name"].append(name)
        cols["lat_deg"].append(values["lat_deg"])
        cols["lon_deg"].append(values["lon_deg"])
        cols["altitude_km"].append(values.get("altitude_km", 0.0))
        cols["country_iso2"].append(str(row.get("country_iso2", "")).upper())
        cols["region"].append(row.get("region"))
        cols["population"].append(values.get("population", 0))
        cols["min_elevation_deg"].append(values.get("min_elevation_deg", _default_mask(role)))
        cols["antenna_count"].append(values.get("antenna_count", _default_antennas(role)))
        cols["band"].append(str(row.get("band", "")))
        cols["note"].append(str(row.get("note", "")))
    ids = cols["id"]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise ScenarioError(f"{source}: repeated site id(s) {listing(dup)}; give each site a distinct 'id' (or name).", source=source)
    if not all(cols["country_iso2"]):
        # A site's country decides its PoP (leonet.ground.pops.home_pops) and labels it.
        from .regions import country_of

        found = country_of(np.array(cols["lat_deg"]), np.array(cols["lon_deg"]))
        cols["country_iso2"] = [c or f for c, f in zip(cols["country_iso2"], found)]
    if any(r is None for r in cols["region"]):
        from .regions import admin1_regions

        world = any(c not in ("", "UA") for c in cols["country_iso2"])  # Ukraine alone never loads the world file
        found = admin1_regions(np.array(cols["lat_deg"]), np.array(cols["lon_deg"]), cols["country_iso2"], None,
                               world=world)
        cols["region"] = [f if r is None else str(r) for r, f in zip(cols["region"], found)]
    return GroundSites(
        role=role,
        ids=ids,
        names=cols["name"],
        lat_deg=cols["lat_deg"],
        lon_deg=cols["lon_deg"],
        altitude_km=cols["altitude_km"],
        country_iso2=cols["country_iso2"],
        region=cols["region"],
        population=cols["population"],
        min_elevation_deg=cols["min_elevation_deg"],
        antenna_count=cols["antenna_count"],
        band=cols["band"],
        extra={"note": np.array(cols["note"], dtype=object)} if any(cols["note"]) else {},
    )


def _check_row_fields(row: Mapping[str, Any], where: str, source: str) -> None:
    """Only known fields, and the three every site needs (name, lat_deg, lon_deg)."""
    unknown = set(row) - _ROW_KEYS
    if unknown:
        raise ScenarioError(
            f"{where}: unknown field(s) {listing(sorted(map(str, unknown)))}; allowed: {', '.join(sorted(_ROW_KEYS))}.",
            source=source,
        )
    for need in ("name", "lat_deg", "lon_deg"):
        if need not in row:
            raise ScenarioError(f"{where}: missing field {need!r}; each site needs name, lat_deg and lon_deg.", source=source)


#: Numeric fields of a hand-given site: (field, lowest, highest, type).
#: Altitude is bounded to catch metres given as km; counts fit int64 columns.
_ROW_NUMBERS = (
    ("lat_deg", -90.0, 90.0, float),
    ("lon_deg", -180.0, 180.0, float),
    ("altitude_km", -0.5, 10.0, float),
    ("min_elevation_deg", 0.0, 90.0, float),
    ("population", 0, 2**63 - 1, int),  # int64 columns
    ("antenna_count", 0, 2**63 - 1, int),
)


def _row_numbers(row: Mapping[str, Any], where: str, source: str) -> dict[str, float | int]:
    """The numeric fields a row gives (`_ROW_NUMBERS`), converted and range-checked.

    A NaN ``min_elevation_deg`` is allowed: it means the site never links
    to a satellite (a PoP).
    """
    values: dict[str, float | int] = {}
    for key, low, high, kind in _ROW_NUMBERS:
        if key not in row:
            continue
        try:
            v = kind(row[key])
        except (TypeError, ValueError):
            raise ScenarioError(f"{where}: {key}={short_repr(row[key])} is not a number.", source=source) from None
        if kind is float and math.isnan(v) and key == "min_elevation_deg":
            values[key] = v
            continue
        # math.isfinite of an int beyond float range raises OverflowError; ints are finite.
        if not ((kind is int or math.isfinite(v)) and v >= low and (high is None or v <= high)):
            rule = f"[{low}, {high}]" if high is not None else f">= {low}"
            hint = " (altitude is in km, not metres)" if key == "altitude_km" else ""
            raise ScenarioError(f"{where}: {key}={short_repr(row[key])} is outside {rule}{hint}; fix the value.", source=source)
        values[key] = v
    return values


# --------------------------------------------------------------------------
# Distances on the ground
# --------------------------------------------------------------------------


def unit_vectors(lat_deg: ArrayLike, lon_deg: ArrayLike) -> NDArray[np.float64]:
    """Unit vectors ``float64[..., 3]`` (ECEF axes) of points taken as spherical latitude and longitude.

    For angles and chord distances on a sphere (nearest PoPs, how far terminals spread); NaN in, NaN out.
    """
    lat = np.radians(np.asarray(lat_deg, dtype=np.float64))
    lon = np.radians(np.asarray(lon_deg, dtype=np.float64))
    c = np.cos(lat)
    return np.stack([c * np.cos(lon), c * np.sin(lon), np.sin(lat)], axis=-1)


def great_circle_km(lat1_deg: ArrayLike, lon1_deg: ArrayLike, lat2_deg: ArrayLike, lon2_deg: ArrayLike) -> NDArray[np.float64]:
    """Great-circle distance on a sphere of the mean Earth radius.

    Parameters
    ----------
    lat1_deg, lon1_deg, lat2_deg, lon2_deg : float64[...], degrees
        Broadcastable against each other.

    Returns
    -------
    distance_km : float64[...], km

    Notes
    -----
    Haversine formula, which stays accurate for short distances (Sinnott,
    "Virtues of the Haversine", Sky & Telescope 68(2), 1984), on the sphere of
    radius `MEAN_EARTH_RADIUS_KM` = 6371.0088 km (IUGG mean radius R1).  The
    spherical model is off from the WGS84 geodesic by up to ~0.5 %; it is
    used for ranking (nearest PoP) and for fibre-length estimates, not for
    radio geometry.

    Examples
    --------
    >>> round(float(great_circle_km(50.45466, 30.5238, 52.22977, 21.01178)), 1)  # Kyiv - Warsaw
    689.0
    """
    p1 = np.radians(np.asarray(lat1_deg, dtype=np.float64))
    p2 = np.radians(np.asarray(lat2_deg, dtype=np.float64))
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2_deg, dtype=np.float64) - np.asarray(lon1_deg, dtype=np.float64))
    h = np.sin(dp / 2.0) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2.0) ** 2
    return 2.0 * MEAN_EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def nearest(sites_a: GroundSites, sites_b: GroundSites, *, chunk_elements: int = 4_000_000) -> NDArray[np.int64]:
    """For each site of `sites_a`, the index of the great-circle-nearest site of `sites_b`.

    Used, for instance, to backhaul each gateway to its nearest PoP.

    Parameters
    ----------
    sites_a : GroundSites, A sites
    sites_b : GroundSites, B sites
    chunk_elements : int
        Rows of `sites_a` are processed in blocks of about this many A x B pairs.

    Returns
    -------
    index : int64[A]
        Into `sites_b`; ties go to the lower index.

    Raises
    ------
    ScenarioError
        If `sites_b` is empty.
    """
    if len(sites_b) == 0:
        raise ScenarioError(f"nearest(): the {sites_b.role} set to search is empty; load at least one {sites_b.role}.")
    a, b = len(sites_a), len(sites_b)
    out = np.empty(a, dtype=np.int64)
    step = max(1, chunk_elements // b)
    for lo in range(0, a, step):
        hi = min(a, lo + step)
        d = great_circle_km(
            sites_a.lat_deg[lo:hi, None], sites_a.lon_deg[lo:hi, None], sites_b.lat_deg[None, :], sites_b.lon_deg[None, :]
        )
        out[lo:hi] = np.argmin(d, axis=1)
    return out
