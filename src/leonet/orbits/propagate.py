"""Propagate many satellites over a time grid: SGP4 -> TEME -> ECEF.

The representation
------------------
Output positions are ``r_ecef_km: float64[T, S, 3]``: time first, satellites
second, trailing xyz, so that one step's positions are one contiguous block
for building that step's link graph.  sgp4's ``SatrecArray`` returns
``(S, T, 3)``; this module transposes it once, here.

Satellites that SGP4 cannot propagate at a step (decayed, eccentricity out of
range; sgp4 error codes 1..6) get NaN rows at that step and a non-zero entry in
``error[T, S]``: per-element failures are data, not exceptions (STYLE.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
from sgp4.api import SatrecArray, accelerated

from ..constants import DAY_S
from ..errors import LeonetError
from ..timebase import TimeGrid, parse_utc, utc_to_jd_fr
from .frames import ecef_to_geodetic, gmst82_rad, teme_to_ecef

if TYPE_CHECKING:
    import pyarrow as pa

    from .constellation import Constellation

__all__ = [
    "Propagation",
    "propagate",
    "SatellitePositions",
    "positions_at",
    "require_accelerated_sgp4",
    "SGP4_ERROR_MESSAGES",
]

#: sgp4's error codes (sgp4.api.SGP4_ERRORS), kept here for messages.
SGP4_ERROR_MESSAGES = {
    1: "mean eccentricity is outside the range 0 <= e < 1",
    2: "mean motion has fallen below zero",
    3: "perturbed eccentricity is outside the range 0 <= e <= 1",
    4: "length of the orbit's semi-latus rectum has fallen below zero",
    5: "(no longer used)",
    6: "mean motion is so low the satellite has decayed",
}


def require_accelerated_sgp4() -> None:
    """Fail loudly when sgp4's compiled C++ extension is missing.

    The pure-Python fallback is ~100x slower; a run on it would look hung.
    """
    if not accelerated:
        raise LeonetError(
            "the sgp4 package is running without its compiled extension (sgp4.api.accelerated is False), "
            "which is ~100x slower; reinstall it from a wheel: pip install --force-reinstall --only-binary=:all: sgp4"
        )


@dataclass(frozen=True)
class Propagation:
    """Satellite states over a grid.

    Attributes
    ----------
    r_ecef_km : float64[T, S, 3]
        Positions, km, ECEF; NaN where ``error != 0``.
    v_ecef_km_s : float64[T, S, 3] or None
        Velocities relative to the rotating Earth, km/s, ECEF.
    error : uint8[T, S]
        sgp4 error code per satellite and step (0 = fine).
    """

    r_ecef_km: NDArray[np.float64]
    v_ecef_km_s: NDArray[np.float64] | None
    error: NDArray[np.uint8]


def propagate(
    satrecs: SatrecArray | list,
    grid: TimeGrid,
    *,
    ut1_minus_utc_s: float = 0.0,
    velocities: bool = False,
    node_spacing_ns: int | None = None,
) -> Propagation:
    """Positions (and velocities) of every satellite at every step, in ECEF.

    Parameters
    ----------
    satrecs : sgp4.api.SatrecArray or list of Satrec
        S satellites.
    grid : TimeGrid
        T steps (UTC).
    ut1_minus_utc_s : float
        UT1 - UTC, s, for Earth rotation (see `leonet.timebase`).
    velocities : bool
        Also return ECEF velocities.
    node_spacing_ns : int, optional
        Evaluate SGP4 only at multiples of this spacing from the grid's
        epoch and interpolate between them (cubic Hermite on TEME positions
        and velocities).  The nodes depend on absolute time only, so results
        do not depend on how a run is chunked.  The error is bounded by
        h^4 / 384 * max|d4r/dt4| ~ h^4 n^4 a / 384 (n mean motion, a radius):
        0.02 m for h = 30 s and 0.3 m for h = 60 s at 550 km (tests measure it).

    Returns
    -------
    Propagation

    Notes
    -----
    Cost: one SGP4 evaluation per satellite-step in sgp4's C++ code, plus one
    rotation per step; about 0.3 us per satellite-step on one core (see
    bench/bench_propagation.py).
    """
    require_accelerated_sgp4()
    if not isinstance(satrecs, SatrecArray):
        satrecs = SatrecArray(list(satrecs))
    jd, fr = grid.jd_fr()
    if node_spacing_ns:
        r_teme, v_teme, error = _hermite_teme(satrecs, grid, int(node_spacing_ns), velocities)
    else:
        e, r, v = satrecs.sgp4(jd, fr)  # (S, T), (S, T, 3)
        r_teme = np.ascontiguousarray(r.transpose(1, 0, 2))
        v_teme = np.ascontiguousarray(v.transpose(1, 0, 2)) if velocities else None
        error = np.ascontiguousarray(e.T).astype(np.uint8)
    theta, theta_dot = gmst82_rad(jd, fr + ut1_minus_utc_s / DAY_S)
    if velocities:
        r_ecef, v_ecef = teme_to_ecef(r_teme, theta, v_teme, theta_dot)
    else:
        r_ecef, v_ecef = teme_to_ecef(r_teme, theta), None
    if error.any():
        bad = error != 0
        r_ecef[bad] = np.nan
        if v_ecef is not None:
            v_ecef[bad] = np.nan
    return Propagation(r_ecef, v_ecef, error)


@dataclass(frozen=True, eq=False)
class SatellitePositions:
    """Where every satellite of a constellation is at one time.

    Attributes
    ----------
    when_utc : datetime.datetime
        The time, timezone-aware UTC.
    names : list of str, [S]
    catalog_numbers : int64[S]
    shell : list of str, [S]
        Name of each satellite's shell.
    r_ecef_km : float64[S, 3], km, ECEF
        Positions; NaN rows where SGP4 failed (``error != 0``).
    lat_deg, lon_deg : float64[S], degrees
        WGS84 geodetic latitude and longitude of the sub-satellite point.
    altitude_km : float64[S], km
        Height above the WGS84 ellipsoid.
    error : uint8[S]
        sgp4 error code (`SGP4_ERROR_MESSAGES`; 0 = fine).
    """

    when_utc: dt.datetime
    names: list[str]
    catalog_numbers: NDArray[np.int64]
    shell: list[str]
    r_ecef_km: NDArray[np.float64]
    lat_deg: NDArray[np.float64]
    lon_deg: NDArray[np.float64]
    altitude_km: NDArray[np.float64]
    error: NDArray[np.uint8]

    def __len__(self) -> int:
        return len(self.names)

    def to_table(self) -> pa.Table:
        """One row per satellite (what ``leonet sats`` writes).

        Columns ``sat, name, catalog_number, shell, x_km, y_km, z_km, lat_deg,
        lon_deg, altitude_km``: int64, string, int64, string, then float64.
        """
        import pyarrow as pa

        r = self.r_ecef_km
        return pa.table({
            "sat": np.arange(len(self)),
            "name": self.names,
            "catalog_number": self.catalog_numbers,
            "shell": self.shell,
            "x_km": r[:, 0],
            "y_km": r[:, 1],
            "z_km": r[:, 2],
            "lat_deg": self.lat_deg,
            "lon_deg": self.lon_deg,
            "altitude_km": self.altitude_km,
        })


def positions_at(constellation: Constellation, when_utc: dt.datetime | str | None = None) -> SatellitePositions:
    """Every satellite's ECEF position, latitude, longitude and altitude at one time.

    Parameters
    ----------
    constellation : leonet.orbits.constellation.Constellation
        S satellites.
    when_utc : datetime.datetime or str, optional
        UTC time (an ISO 8601 string such as ``"2026-05-30T12:00:00Z"`` is
        parsed with `leonet.timebase.parse_utc`).  Default: the median of the
        element epochs, truncated to the second (for Walker shells: their
        epoch), where SGP4 is most accurate.

    Returns
    -------
    SatellitePositions
        S satellites in constellation order; ``to_table()`` gives the rows
        ``leonet sats`` prints.

    Raises
    ------
    ScenarioError
        ``when_utc`` is not a valid time.

    Notes
    -----
    One `propagate` call on a one-step grid (SGP4, GMST82 rotation, UT1 = UTC)
    and `leonet.orbits.frames.ecef_to_geodetic`.  Whether the elements are
    too old for ``when_utc`` is the caller's to check
    (`leonet.scenario.load.warn_if_stale`).

    Examples
    --------
    >>> from leonet.orbits.constellation import BUILTIN_WALKER, walker_constellation
    >>> from leonet.timebase import parse_utc
    >>> noon = parse_utc("2026-05-30T12:00:00Z")
    >>> telesat = walker_constellation("telesat-1015", BUILTIN_WALKER["telesat-1015"][1], noon)
    >>> p = positions_at(telesat, noon)
    >>> len(p), p.r_ecef_km.shape, p.when_utc.isoformat()
    (351, (351, 3), '2026-05-30T12:00:00+00:00')
    >>> p.to_table().column_names[:4]
    ['sat', 'name', 'catalog_number', 'shell']
    """
    when = _median_epoch_utc(constellation) if when_utc is None else parse_utc(when_utc)
    grid = TimeGrid.at(when)
    prop = propagate(constellation.satrec_array, grid)
    r = prop.r_ecef_km[0]
    lat, lon, alt = ecef_to_geodetic(r)
    return SatellitePositions(
        when_utc=grid.epoch_utc,
        names=list(constellation.names),
        catalog_numbers=np.asarray(constellation.catalog_numbers, dtype=np.int64),
        shell=[constellation.shells[i].name for i in constellation.shell_index],
        r_ecef_km=r,
        lat_deg=lat,
        lon_deg=lon,
        altitude_km=alt,
        error=prop.error[0],
    )


def _median_epoch_utc(constellation: Constellation) -> dt.datetime:
    """Median element epoch, truncated to the second, as a UTC datetime."""
    unix_epoch = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    jd_unix = sum(utc_to_jd_fr(unix_epoch))
    when = unix_epoch + dt.timedelta(days=float(np.median(constellation.epoch_jd)) - jd_unix)
    return when.replace(microsecond=0)


def _hermite_teme(satrecs: SatrecArray, grid: TimeGrid, h_ns: int, velocities: bool):
    """TEME states at the grid's steps by cubic Hermite interpolation between SGP4 nodes.

    Nodes sit at ``k * h_ns`` from the grid's epoch (absolute, not chunk-relative).
    """
    if h_ns <= 0:
        raise LeonetError(f"node spacing must be positive, got {h_ns} ns")
    offsets = grid.offset_ns
    k = np.floor_divide(offsets, h_ns)
    k0 = int(k.min())
    nodes = np.arange(k0, int(k.max()) + 2, dtype=np.int64)
    njd, nfr = TimeGrid(grid.epoch_utc, nodes * h_ns).jd_fr()
    e, r, v = satrecs.sgp4(njd, nfr)  # (S, N), (S, N, 3)
    r = r.transpose(1, 0, 2)
    v = v.transpose(1, 0, 2)
    i = (k - k0).astype(np.intp)
    h_s = h_ns / 1e9
    tau = (offsets - k * h_ns) / h_ns
    tau2 = tau * tau
    tau3 = tau2 * tau
    # Hermite basis of every step: r(t) = [h00 h10 h01 h11] @ [p0, h*v0, p1, h*v1].
    basis = np.stack([2 * tau3 - 3 * tau2 + 1, tau3 - 2 * tau2 + tau, 3 * tau2 - 2 * tau3, tau3 - tau2], axis=1)
    dbasis = np.stack([6 * tau2 - 6 * tau, 3 * tau2 - 4 * tau + 1, 6 * tau - 6 * tau2, 3 * tau2 - 2 * tau], axis=1) / h_s
    n_sat = r.shape[1]
    r_teme = np.empty((len(offsets), n_sat, 3))
    v_teme = np.empty((len(offsets), n_sat, 3)) if velocities else None
    # Steps between the same two nodes are done together, element-wise (not
    # with BLAS, whose blocking depends on the number of rows): every step's
    # value is then the same whatever chunk it is computed in, bit for bit.
    for j in np.unique(i):
        sel = np.flatnonzero(i == j)
        p0, m0, p1, m1 = r[j], v[j] * h_s, r[j + 1], v[j + 1] * h_s
        b = basis[sel][:, :, None, None]
        r_teme[sel] = b[:, 0] * p0 + b[:, 1] * m0 + b[:, 2] * p1 + b[:, 3] * m1
        if velocities:
            d = dbasis[sel][:, :, None, None]
            v_teme[sel] = d[:, 0] * p0 + d[:, 1] * m0 + d[:, 2] * p1 + d[:, 3] * m1
    err = np.ascontiguousarray(e.T).astype(np.uint8)
    return r_teme, v_teme, np.maximum(err[i], err[i + 1])
