"""Reference frames: TEME -> ECEF (ITRF) and WGS84 geodetic coordinates.

All geometry in leonet is done in ECEF (Earth-centred, Earth-fixed), where
ground sites do not move.  SGP4 gives positions in TEME (True Equator, Mean
Equinox); TEME rotates into the pseudo-Earth-fixed frame by Greenwich mean
sidereal time (GMST, IAU 1982 model), as AIAA 2006-6753 Rev 2, Appendix C
prescribes.  Polar motion (< 15 m at the surface) is neglected and written
down here as an assumption.

Shapes are trailing-xyz: ``r_teme_km: float64[T, S, 3]`` with ``gmst_rad[T]``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..constants import DAY_S, TWO_PI, WGS84_A_KM, WGS84_E2

__all__ = [
    "gmst82_rad",
    "teme_to_ecef",
    "geodetic_to_ecef",
    "ecef_to_geodetic",
    "look_angles",
    "enu_basis",
]

_J2000 = 2451545.0


def gmst82_rad(jd_ut1: ArrayLike, fr_ut1: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Greenwich mean sidereal time, IAU 1982 model, and its rate.

    Parameters
    ----------
    jd_ut1, fr_ut1 : float64[T]
        Split Julian date in UT1 (whole part and fraction).

    Returns
    -------
    theta_rad : float64[T]
        GMST angle in [0, 2 pi), rad.
    theta_dot_rad_s : float64[T]
        Its rate, rad/s.

    Notes
    -----
    Vallado, Crawford, Hujsak & Kelso, AIAA 2006-6753 Rev 2, eq. (C-5), with
    the day fraction kept apart from the polynomial to preserve precision.
    """
    jd_ut1 = np.asarray(jd_ut1, dtype=np.float64)
    fr_ut1 = np.asarray(fr_ut1, dtype=np.float64)
    t = (jd_ut1 - _J2000 + fr_ut1) / 36525.0
    g = 67310.54841 + (8640184.812866 + (0.093104 + (-6.2e-6) * t) * t) * t
    dg = 8640184.812866 + (0.093104 * 2.0 + (-6.2e-6 * 3.0) * t) * t
    theta = (jd_ut1 % 1.0 + fr_ut1 + g / DAY_S % 1.0) % 1.0 * TWO_PI
    theta_dot = (1.0 + dg / (DAY_S * 36525.0)) * TWO_PI / DAY_S
    return theta, theta_dot


def teme_to_ecef(
    r_teme_km: NDArray[np.float64],
    gmst_rad: NDArray[np.float64],
    v_teme_km_s: NDArray[np.float64] | None = None,
    gmst_dot_rad_s: NDArray[np.float64] | None = None,
):
    """Rotate TEME vectors into ECEF.

    Parameters
    ----------
    r_teme_km : float64[T, S, 3]
        Positions, km, TEME.
    gmst_rad : float64[T]
        GMST of each step, rad (see `gmst82_rad`).
    v_teme_km_s : float64[T, S, 3], optional
        Velocities, km/s, TEME.
    gmst_dot_rad_s : float64[T], optional
        Earth rotation rate, rad/s; needed with velocities.

    Returns
    -------
    r_ecef_km : float64[T, S, 3]
        Positions, km, ECEF.  When velocities are given, a tuple
        ``(r_ecef_km, v_ecef_km_s)``; the velocity is relative to the rotating
        Earth (``v_ecef = R v_teme - omega x r_ecef``).
    """
    c = np.cos(gmst_rad)[:, None]
    s = np.sin(gmst_rad)[:, None]
    x, y = r_teme_km[..., 0], r_teme_km[..., 1]
    r = np.empty_like(r_teme_km)
    # Rotation about z by -theta (frame rotation into the Earth-fixed axes).
    r[..., 0] = c * x + s * y
    r[..., 1] = -s * x + c * y
    r[..., 2] = r_teme_km[..., 2]
    if v_teme_km_s is None:
        return r
    w = np.asarray(gmst_dot_rad_s)[:, None]
    vx, vy = v_teme_km_s[..., 0], v_teme_km_s[..., 1]
    v = np.empty_like(v_teme_km_s)
    v[..., 0] = c * vx + s * vy + w * r[..., 1]
    v[..., 1] = -s * vx + c * vy - w * r[..., 0]
    v[..., 2] = v_teme_km_s[..., 2]
    return r, v


def geodetic_to_ecef(lat_deg: ArrayLike, lon_deg: ArrayLike, altitude_km: ArrayLike = 0.0) -> NDArray[np.float64]:
    """ECEF position of WGS84 geodetic coordinates.

    Parameters
    ----------
    lat_deg, lon_deg : float64[...]
        Geodetic latitude and longitude, degrees.
    altitude_km : float64[...]
        Height above the WGS84 ellipsoid, km.

    Returns
    -------
    r_ecef_km : float64[..., 3]
    """
    lat = np.radians(np.asarray(lat_deg, dtype=np.float64))
    lon = np.radians(np.asarray(lon_deg, dtype=np.float64))
    h = np.asarray(altitude_km, dtype=np.float64)
    sin_lat = np.sin(lat)
    n = WGS84_A_KM / np.sqrt(1.0 - WGS84_E2 * sin_lat * sin_lat)
    xy = (n + h) * np.cos(lat)
    return np.stack(
        np.broadcast_arrays(xy * np.cos(lon), xy * np.sin(lon), (n * (1.0 - WGS84_E2) + h) * sin_lat), axis=-1
    )


def ecef_to_geodetic(r_ecef_km: NDArray[np.float64]):
    """WGS84 geodetic latitude, longitude (degrees) and height (km) of ECEF points.

    Parameters
    ----------
    r_ecef_km : float64[..., 3]

    Returns
    -------
    lat_deg, lon_deg, altitude_km : float64[...]

    Notes
    -----
    Fixed-point iteration on latitude (three rounds converge to < 1 mm for
    LEO heights), the method of Skyfield's ``wgs84.subpoint``.
    """
    x, y, z = r_ecef_km[..., 0], r_ecef_km[..., 1], r_ecef_km[..., 2]
    lon = np.arctan2(y, x)
    p = np.hypot(x, y)
    lat = np.arctan2(z, p * (1.0 - WGS84_E2))
    for _ in range(4):
        sin_lat = np.sin(lat)
        n = WGS84_A_KM / np.sqrt(1.0 - WGS84_E2 * sin_lat * sin_lat)
        lat = np.arctan2(z + n * WGS84_E2 * sin_lat, p)
    sin_lat = np.sin(lat)
    cos_lat = np.cos(lat)
    n = WGS84_A_KM / np.sqrt(1.0 - WGS84_E2 * sin_lat * sin_lat)
    # Height: stable both near the poles and near the equator.
    h = p * cos_lat + z * sin_lat - n * (1.0 - WGS84_E2 * sin_lat * sin_lat)
    return np.degrees(lat), np.degrees(lon), h


def enu_basis(lat_deg: ArrayLike, lon_deg: ArrayLike) -> NDArray[np.float64]:
    """Local east, north, up unit vectors of geodetic sites.

    Returns
    -------
    enu : float64[..., 3, 3]
        ``enu[..., 0, :]`` east, ``[..., 1, :]`` north, ``[..., 2, :]`` up (ECEF).
    """
    lat = np.radians(np.asarray(lat_deg, dtype=np.float64))
    lon = np.radians(np.asarray(lon_deg, dtype=np.float64))
    sl, cl, so, co = np.sin(lat), np.cos(lat), np.sin(lon), np.cos(lon)
    zero = np.zeros_like(sl)
    east = np.stack([-so, co, zero], axis=-1)
    north = np.stack([-sl * co, -sl * so, cl], axis=-1)
    up = np.stack([cl * co, cl * so, sl], axis=-1)
    return np.stack([east, north, up], axis=-2)


def look_angles(
    r_site_ecef_km: NDArray[np.float64],
    enu: NDArray[np.float64],
    r_sat_ecef_km: NDArray[np.float64],
):
    """Elevation, azimuth and range from ground sites to satellites.

    Parameters
    ----------
    r_site_ecef_km : float64[G, 3]
        Site positions, km, ECEF.
    enu : float64[G, 3, 3]
        Their local bases (`enu_basis`).
    r_sat_ecef_km : float64[..., S, 3]
        Satellite positions, km, ECEF (any leading time axes).

    Returns
    -------
    elevation_deg, azimuth_deg, range_km : float64[..., G, S]
        Geodetic elevation above the local horizon plane, azimuth clockwise
        from north, and slant range.
    """
    d = r_sat_ecef_km[..., None, :, :] - r_site_ecef_km[:, None, :]  # [..., G, S, 3]
    rng = np.sqrt(np.einsum("...i,...i->...", d, d))
    e = np.einsum("...gsi,gi->...gs", d, enu[:, 0, :])
    n = np.einsum("...gsi,gi->...gs", d, enu[:, 1, :])
    u = np.einsum("...gsi,gi->...gs", d, enu[:, 2, :])
    elevation = np.degrees(np.arcsin(np.clip(u / rng, -1.0, 1.0)))
    azimuth = np.degrees(np.arctan2(e, n)) % 360.0
    return elevation, azimuth, rng
