"""Circular Kepler orbits: mean motion and altitude (WGS72), and the shells leonet accepts.

A foundation module (it imports only `leonet.constants`): the scenario's
validation and the orbit engine (`leonet.orbits.walker`) apply the same
rules, written once here.
"""

from __future__ import annotations

import math

from .constants import DAY_S, WGS72_A_KM, WGS72_MU_KM3_S2

__all__ = [
    "MIN_ALTITUDE_KM",
    "MAX_ALTITUDE_KM",
    "MEAN_MOTION_ALTITUDE_TOLERANCE_KM",
    "mean_motion_rev_per_day",
    "altitude_from_mean_motion_km",
    "walker_shell_problems",
]

#: How far the altitude implied by a given mean motion may be from the stated
#: altitude.  Hypatia's Starlink-550 shell gives 15.19 rev/day (a Kepler
#: altitude of ~509 km) for a nominal 550 km: 50 km admits it and still
#: catches a mean motion copied from another shell (1 rev/day is ~ 60 km).
MEAN_MOTION_ALTITUDE_TOLERANCE_KM = 50.0

#: Below 150 km an orbit decays within days; above 40,000 km it is not a LEO/MEO/GEO shell.
MIN_ALTITUDE_KM = 150.0
MAX_ALTITUDE_KM = 40_000.0


def mean_motion_rev_per_day(altitude_km: float) -> float:
    """Keplerian mean motion of a circular orbit at ``altitude_km`` (WGS72).

    >>> round(mean_motion_rev_per_day(550.0), 4)
    15.0549
    """
    a_km = WGS72_A_KM + altitude_km
    return math.sqrt(WGS72_MU_KM3_S2 / a_km**3) * DAY_S / (2.0 * math.pi)


def altitude_from_mean_motion_km(rev_per_day: float) -> float:
    """Altitude of a circular Keplerian orbit with this mean motion (WGS72).

    >>> round(altitude_from_mean_motion_km(15.19), 1)
    508.9
    """
    n_rad_s = rev_per_day * 2.0 * math.pi / DAY_S
    return (WGS72_MU_KM3_S2 / n_rad_s**2) ** (1.0 / 3.0) - WGS72_A_KM


def walker_shell_problems(
    altitude_km: float,
    inclination_deg: float,
    planes: int,
    sats_per_plane: int,
    phase_factor: int,
    min_elevation_deg: float,
    given_mean_motion_rev_per_day: float | None,
) -> list[str]:
    """Every way a Walker shell's parameters are impossible, as sentences (empty if none).

    >>> walker_shell_problems(550, 53, 72, 22, 72, 25, None)
    ['phase_factor = 72 must be in 0..planes-1 = 0..71']
    """
    problems = []
    if not (MIN_ALTITUDE_KM <= altitude_km <= MAX_ALTITUDE_KM):
        problems.append(
            f"altitude_km = {altitude_km} is outside {MIN_ALTITUDE_KM:g}..{MAX_ALTITUDE_KM:g} km "
            "(below 150 km an orbit decays within days; above 40,000 km it is not a LEO/MEO/GEO shell)"
        )
    if not (0.0 <= inclination_deg <= 180.0):
        problems.append(f"inclination_deg = {inclination_deg} is outside 0..180 deg")
    if planes < 1:
        problems.append(f"planes = {planes} must be at least 1")
    if sats_per_plane < 1:
        problems.append(f"sats_per_plane = {sats_per_plane} must be at least 1")
    if planes >= 1 and not (0 <= phase_factor < planes):
        problems.append(f"phase_factor = {phase_factor} must be in 0..planes-1 = 0..{planes - 1}")
    if not (0.0 <= min_elevation_deg < 90.0):
        problems.append(f"min_elevation_deg = {min_elevation_deg} must be in 0..90 deg")
    if given_mean_motion_rev_per_day is not None:
        if not (0.0 < given_mean_motion_rev_per_day < 17.0):
            problems.append(
                f"mean_motion_rev_per_day = {given_mean_motion_rev_per_day} is not a bound Earth orbit "
                "above 150 km (it must be between 0 and ~16.4 rev/day)"
            )
        else:
            implied = altitude_from_mean_motion_km(given_mean_motion_rev_per_day)
            if abs(implied - altitude_km) > MEAN_MOTION_ALTITUDE_TOLERANCE_KM:
                problems.append(
                    f"mean_motion_rev_per_day = {given_mean_motion_rev_per_day} implies an altitude of "
                    f"{implied:.0f} km, but altitude_km = {altitude_km}; they must agree within "
                    f"{MEAN_MOTION_ALTITUDE_TOLERANCE_KM:g} km: fix one, or leave the mean motion out "
                    f"to use {mean_motion_rev_per_day(altitude_km):.8f} rev/day"
                )
    return problems
