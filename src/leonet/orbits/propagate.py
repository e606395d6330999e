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

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sgp4.api import SatrecArray, accelerated

from ..constants import DAY_S
from ..errors import LeonetError
from ..timebase import TimeGrid
from .frames import gmst82_rad, teme_to_ecef

__all__ = ["Propagation", "propagate", "require_accelerated_sgp4", "SGP4_ERROR_MESSAGES"]

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
    e, r, v = satrecs.sgp4(jd, fr)  # (S, T), (S, T, 3)
    r_teme = np.ascontiguousarray(r.transpose(1, 0, 2))
    theta, theta_dot = gmst82_rad(jd, fr + ut1_minus_utc_s / DAY_S)
    error = np.ascontiguousarray(e.T).astype(np.uint8)
    if velocities:
        v_teme = np.ascontiguousarray(v.transpose(1, 0, 2))
        r_ecef, v_ecef = teme_to_ecef(r_teme, theta, v_teme, theta_dot)
    else:
        r_ecef, v_ecef = teme_to_ecef(r_teme, theta), None
    if error.any():
        bad = error != 0
        r_ecef[bad] = np.nan
        if v_ecef is not None:
            v_ecef[bad] = np.nan
    return Propagation(r_ecef, v_ecef, error)
