"""Service cells: terminals grouped into the hexagons a beam is pointed at.

The representation
------------------
Starlink plans service in hexagonal *cells*: a satellite points one user
beam at one cell at a time, and every terminal in the cell shares that
beam.  leonet uses Uber's H3 grid for the cells.  A cell is identified by
its H3 index, a ``uint64`` (H3's C type ``H3Index``; the top bit is always
0, so it also fits an ``int64`` losslessly).

A `ServiceCells` holds the ``C`` distinct cells that a set of ``G``
terminals fall in, *sorted by H3 index*, and each terminal's position in
that list::

    cell_id[c]         uint64, H3 index of cell c, ascending
    terminal_cell[g]   intp, the cell terminal g is in (index into cell_id)

So ``cell_id[terminal_cell[g]]`` is terminal ``g``'s H3 index, and the dense
cell index ``c`` orders cells exactly as their H3 indexes do (the capacity
allocator breaks ties between cells by this index, i.e. by H3 index).

Why H3 resolution 5
-------------------
Starlink's public availability map (starlink.com/map) draws hexagons that
match H3 resolution 5 cell for cell (the side-by-side comparison in
uber/h3 issue #717, 2022-10-18; H3's maintainers could neither confirm
nor deny that SpaceX uses H3).  Resolution 5 hexagons average 252.9 km^2
with 9.85 km edges, about 17 km across flats and 20 km across corners,
close to the 24 km-circle, 379 km^2 hexagons [Pekhterev21] derived from
SpaceX's FCC filings.  The resolution is configurable
(``[capacity] h3_resolution``).

Cost
----
``h3.latlng_to_cell`` is scalar: about 0.7 us a point, 7 ms for 10,000
terminals.  Terminals do not move, so this runs once per run; results are
cached by coordinates and resolution.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass

import h3
import numpy as np
from h3.api import basic_int as _h3int
from numpy.typing import ArrayLike, NDArray

from ..errors import ScenarioError

__all__ = [
    "DEFAULT_H3_RESOLUTION",
    "cell_of",
    "cell_area_km2",
    "ServiceCells",
]

#: H3 resolution of a Starlink-like service cell (see the module docstring).
DEFAULT_H3_RESOLUTION = 5

_CACHE_SIZE = 16
_cache: OrderedDict[tuple[bytes, int], NDArray[np.uint64]] = OrderedDict()


def _check(lat: NDArray[np.float64], lon: NDArray[np.float64], resolution: int) -> None:
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) or not 0 <= resolution <= 15:
        raise ScenarioError(
            f"H3 resolution must be an integer from 0 to 15, got {resolution!r}; Starlink-like cells use 5."
        )
    if lat.shape != lon.shape:
        raise ScenarioError(f"lat_deg and lon_deg must have the same shape, got {lat.shape} and {lon.shape}.")
    bad = ~(np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90.0) & (np.abs(lon) <= 180.0))
    if bad.any():
        idx = np.flatnonzero(bad.ravel())
        shown = ", ".join(f"#{i} ({lat.ravel()[i]!r}, {lon.ravel()[i]!r})" for i in idx[:5])
        raise ScenarioError(
            f"{idx.size} point(s) have no valid coordinates: {shown}"
            f"{' ...' if idx.size > 5 else ''}; latitude must be in [-90, 90] and longitude in [-180, 180] degrees."
        )


def cell_of(lat_deg: ArrayLike, lon_deg: ArrayLike, resolution: int = DEFAULT_H3_RESOLUTION) -> NDArray[np.uint64]:
    """H3 cell index of each point.

    Parameters
    ----------
    lat_deg, lon_deg : float64[...], degrees
        WGS84 geodetic latitude and longitude, same shape.  (H3 works on a
        sphere and takes the geodetic angles as they are, as everyone who
        uses H3 does.)
    resolution : int
        H3 resolution, 0 (coarsest) to 15.

    Returns
    -------
    cell_id : uint64[...]
        H3 index of the cell each point lies in, same shape as the input.

    Raises
    ------
    leonet.errors.ScenarioError
        If a coordinate is not finite or out of range (all offenders are
        counted, the first five shown), or the resolution is not 0..15.

    Notes
    -----
    A Python loop over ``h3.latlng_to_cell`` (0.7 us a point), run once:
    terminals are static.  The last 16 distinct inputs are cached.

    Examples
    --------
    >>> hex(int(cell_of([50.45], [30.52])[0]))  # Kyiv, resolution 5
    '0x851e6387fffffff'
    """
    lat = np.asarray(lat_deg, dtype=np.float64)
    lon = np.asarray(lon_deg, dtype=np.float64)
    _check(lat, lon, resolution)
    resolution = int(resolution)
    digest = hashlib.blake2b(lat.tobytes() + b"|" + lon.tobytes() + repr(lat.shape).encode(), digest_size=16).digest()
    key = (digest, resolution)
    hit = _cache.get(key)
    if hit is not None:
        _cache.move_to_end(key)
        return hit.copy()
    to_cell = _h3int.latlng_to_cell
    flat = np.fromiter(
        (to_cell(a, b, resolution) for a, b in zip(lat.ravel().tolist(), lon.ravel().tolist())),
        dtype=np.uint64,
        count=lat.size,
    ).reshape(lat.shape)
    flat.flags.writeable = False
    _cache[key] = flat
    if len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    return flat.copy()


def cell_area_km2(resolution: int = DEFAULT_H3_RESOLUTION) -> float:
    """Average area of an H3 hexagon at *resolution*, km^2 (H3's own table).

    Examples
    --------
    >>> round(cell_area_km2(5), 1)
    252.9
    """
    return float(h3.average_hexagon_area(int(resolution), unit="km^2"))


@dataclass(frozen=True)
class ServiceCells:
    """The cells a set of terminals fall in (see the module docstring).

    Attributes
    ----------
    resolution : int
        H3 resolution.
    cell_id : uint64[C]
        H3 indexes of the distinct cells, ascending.
    terminal_cell : intp[G]
        Cell of each terminal, an index into ``cell_id``.
    """

    resolution: int
    cell_id: NDArray[np.uint64]
    terminal_cell: NDArray[np.intp]

    @classmethod
    def from_coordinates(
        cls, lat_deg: ArrayLike, lon_deg: ArrayLike, resolution: int = DEFAULT_H3_RESOLUTION
    ) -> ServiceCells:
        """Group terminals at (*lat_deg*, *lon_deg*) (1-D, degrees) into H3 cells.

        Examples
        --------
        >>> cells = ServiceCells.from_coordinates([50.45, 50.46, 49.84], [30.52, 30.53, 24.03])
        >>> cells.n_cells, cells.terminal_cell.tolist()
        (2, [0, 0, 1])
        """
        lat = np.asarray(lat_deg, dtype=np.float64)
        if lat.ndim != 1:
            raise ScenarioError(f"terminal coordinates must be 1-D arrays, got shape {lat.shape}.")
        ids = cell_of(lat, lon_deg, resolution)
        cell_id, terminal_cell = np.unique(ids, return_inverse=True)
        cell_id.flags.writeable = False
        terminal_cell = terminal_cell.astype(np.intp, copy=False)
        terminal_cell.flags.writeable = False
        return cls(resolution=int(resolution), cell_id=cell_id, terminal_cell=terminal_cell)

    @classmethod
    def from_sites(cls, sites, resolution: int = DEFAULT_H3_RESOLUTION) -> ServiceCells:
        """Cells of a `leonet.ground.sites.GroundSites` (uses ``lat_deg``, ``lon_deg``)."""
        return cls.from_coordinates(sites.lat_deg, sites.lon_deg, resolution)

    @property
    def n_cells(self) -> int:
        """Number of distinct cells, ``C``."""
        return int(self.cell_id.size)

    @property
    def n_terminals(self) -> int:
        """Number of terminals, ``G``."""
        return int(self.terminal_cell.size)

    def terminal_count(self) -> NDArray[np.int64]:
        """Terminals per cell, int64[C]."""
        return np.bincount(self.terminal_cell, minlength=self.n_cells).astype(np.int64)

    def centres_deg(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Latitude and longitude of each cell's centre, two float64[C], degrees."""
        pts = [_h3int.cell_to_latlng(int(c)) for c in self.cell_id.tolist()]
        arr = np.array(pts, dtype=np.float64).reshape(-1, 2)
        return arr[:, 0], arr[:, 1]

    def hex_ids(self) -> list[str]:
        """H3 indexes as the usual 15-character hex strings (for reports and maps)."""
        return [h3.int_to_str(int(c)) for c in self.cell_id.tolist()]
