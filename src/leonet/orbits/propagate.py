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
