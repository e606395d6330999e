"""Where a Hypatia network's nodes are at each step: two geometry models.

The representation
------------------
Time is the TLE epoch plus ``offset_ns : int64[T]`` (Hypatia's
``time_since_epoch_ns``; its reference's epoch is 2000-01-01 00:00:00 UTC).
Positions are Earth-fixed, km, time first: satellites ``float64[T, S, 3]``,
ground stations ``float64[T, G, 3]``.

Hypatia hands each time to pyephem as a string with millisecond precision;
steps here are whole milliseconds, so the times agree exactly.  (For a TLE
epoch that is not a whole millisecond Hypatia's times are rounded to 1 ms,
<= 4 m along track; leonet does not round.)

``geometry="leonet"`` (default): satellites by SGP4 (sgp4's C++ code, via
`leonet.orbits.propagate`) from the TLEs, rotated to ECEF by GMST (IAU 1982);
ground stations at the WGS72 cartesian positions of the extended
``ground_stations.txt`` -- the same positions Hypatia's ns-3 simulator uses.

``geometry="pyephem"`` reproduces the three systematic differences of
pyephem, which Hypatia's ``satgenpy`` calls for every distance (libastro
``earthsat.c``): (1) its SGP4 returns Earth radii that it multiplies by its
own Earth radius, 6,378.160 km instead of SGP4's 6,378.135 km, so every
satellite sits 3.9 ppm (~27 m) farther from the Earth's centre; (2) it places
an observer on its own ellipsoid (a = 6,378.160 km, f = 1/298.25, with its
``atan(tan(lat) / (1 - f^2))`` geocentric latitude); (3) it rotates the Earth
by Newcomb's sidereal time, 5.5 urad (35 m at the equator) from GMST 1982 in
2000.  Not reproduced: pyephem's single-precision storage of angles and
ranges, its SGP4 port's 1e-6 rad Kepler tolerance and truncated constants
(metre-level noise).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import PropagationError, ScenarioError
from .network import SatelliteNetwork

__all__ = ["GEOMETRIES", "network_positions"]

#: The geometry models `network_positions` offers.
GEOMETRIES = ("leonet", "pyephem")

#: pyephem (libastro astro.h ERAD) and SGP4 (XKMPER) Earth radii, km.
_PYEPHEM_ERAD_KM = 6378.160
_SGP4_XKMPER_KM = 6378.135
#: pyephem's observer ellipsoid flattening (earthsat.c EarthFlat).
_PYEPHEM_FLAT = 1.0 / 298.25
#: pyephem's Dublin Julian Date origin (1899-12-31 12:00), as a JD.
_PYEPHEM_MJD0 = 2415020.0


def _pyephem_sidereal_rad(jd: NDArray[np.float64], fr: NDArray[np.float64]) -> NDArray[np.float64]:
    """Earth rotation angle pyephem's satellite code uses (earthsat.c InitOrbitRoutines, GetSitPosition)."""
    crnt = (jd - _PYEPHEM_MJD0) + fr + 0.5
    sid_day = np.floor(crnt)
    t = (sid_day - 0.5) / 36525.0
    ref = (6.6460656 + 2400.051262 * t + 0.00002581 * t * t) / 24.0
    ref = ref - np.floor(ref)
    return 2.0 * math.pi * ((crnt - sid_day) * 1.0027379093 + ref)


def _pyephem_sites_km(lat_deg, lon_deg, elevation_m, extra_rotation_rad) -> NDArray[np.float64]:
    """pyephem's observer positions (earthsat.c GetSitPosition), Earth-fixed, km: float64[T, G, 3]."""
    f = _PYEPHEM_FLAT
    lat = np.radians(np.asarray(lat_deg, dtype=np.float64))
    lon = np.radians(np.asarray(lon_deg, dtype=np.float64))
    h = np.asarray(elevation_m, dtype=np.float64) / 1000.0
    glat = np.arctan(np.tan(lat) / (1.0 - f * f))
    g1 = _PYEPHEM_ERAD_KM / np.sqrt(1.0 - (2.0 * f - f * f) * np.sin(glat) ** 2)
    g2 = g1 * (1.0 - f) ** 2 + h
    g1 = g1 + h
    ang = lon[None, :] + np.asarray(extra_rotation_rad, dtype=np.float64)[:, None]
    out = np.empty(ang.shape + (3,))
    out[..., 0] = g1 * np.cos(glat) * np.cos(ang)
    out[..., 1] = g1 * np.cos(glat) * np.sin(ang)
    out[..., 2] = np.broadcast_to(g2 * np.sin(glat), ang.shape)
    return out


def network_positions(
    network: SatelliteNetwork,
    offset_ns: ArrayLike,
    geometry: str = "leonet",
    satrecs=None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Satellite and ground-station positions at ``epoch + offset_ns``, Earth-fixed, km.

    Parameters
    ----------
    network : SatelliteNetwork
    offset_ns : int64[T]
        Offsets from the TLE epoch (Hypatia's ``time_since_epoch_ns``).
    geometry : {"leonet", "pyephem"}
        See the module docstring.
    satrecs : sgp4.api.SatrecArray, optional
        Pre-built records (saves ~10 ms per call for 1,584 satellites).

    Returns
    -------
    r_sat_km : float64[T, S, 3]
        Satellites, ECEF, km.
    r_gs_km : float64[T, G, 3]
        Ground stations, ECEF, km (a broadcast view for ``geometry="leonet"``).

    Raises
    ------
    ScenarioError
        An unknown ``geometry``.
    PropagationError
        If SGP4 fails for a satellite (decayed, bad elements).

    Examples
    --------
    >>> from leonet.hypatia.network import walker_network
    >>> r_sat, r_gs = network_positions(walker_network("starlink-550"), [0, 100_000_000])
    >>> r_sat.shape, r_gs.shape
    ((2, 1584, 3), (2, 100, 3))
    >>> radius_km = np.linalg.norm(r_sat, axis=2)  # mean motion 15.19 rev/day: a = 6,887 km
    >>> bool(6870 < radius_km.min() and radius_km.max() < 6900)
    True
    """
    from sgp4.api import SatrecArray

    from ..orbits.propagate import propagate
    from ..timebase import TimeGrid

    if geometry not in GEOMETRIES:
        raise ScenarioError(f"geometry {geometry!r} is not one of {', '.join(GEOMETRIES)}")
    offsets = np.asarray(offset_ns, dtype=np.int64).reshape(-1)
    grid = TimeGrid(network.tles.epoch_utc, offsets)
    if satrecs is None:
        satrecs = SatrecArray(network.tles.satrecs())
    prop = propagate(satrecs, grid)
    if prop.error.any():
        t, s = np.nonzero(prop.error)
        raise PropagationError(
            f"SGP4 cannot propagate {len(np.unique(s))} satellite(s), e.g. satellite {s[0]} at "
            f"t = {offsets[t[0]]} ns (sgp4 error {prop.error[t[0], s[0]]}); check its TLE in tles.txt",
            satellite_indices=np.unique(s),
        )
    r_sat = prop.r_ecef_km
    gs = network.ground_stations
    if geometry == "leonet":
        r_gs = np.broadcast_to(gs.r_ecef_km, (len(offsets), len(gs), 3))
        return r_sat, r_gs
    from ..orbits.frames import gmst82_rad

    r_sat *= _PYEPHEM_ERAD_KM / _SGP4_XKMPER_KM
    jd, fr = grid.jd_fr()
    theta_gmst, _ = gmst82_rad(jd, fr)
    delta = _pyephem_sidereal_rad(jd, fr) - theta_gmst
    r_gs = _pyephem_sites_km(gs.latitude_deg, gs.longitude_deg, gs.elevation_m, delta)
    return r_sat, r_gs
