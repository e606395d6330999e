"""Infer shells and orbital planes from a real element-set file.

The representation
------------------
A *shell* is a set of satellites flying at one altitude and one inclination,
spread over orbital *planes* of (nearly) equal RAAN.  `infer_shells` gives
each satellite of an `~leonet.orbits.tle.ElementSets` a shell index
(``shell_of_satellite``, ``-1`` for satellites in no shell) and a plane index
within its shell (``plane_of_satellite``, ``-1`` for satellites that are not
on station: raising, lowering, deorbiting or drifting between planes).  Every
satellite is exactly one of: on station (shell and plane), not on station
(shell, no plane), or unassigned (no shell).

Method, and why
---------------
All quantities are SGP4 *mean* elements from the element sets; no short-period
terms are involved.

1. **Inclination groups.**  Inclination is constant under J2 (no secular
   term) and is what operators file, so it separates shells first.  The
   sorted inclinations are split wherever two neighbours differ by more than
   ``inclination_tolerance_deg`` (a 1-D gap clustering).  On the 2026-05-30
   Starlink snapshot the groups are 43.0, 53.0-53.2, 70.0, 97.28 and 97.42
   deg (and a few satellites at 97.6); inside a group neighbours are < 0.03
   deg apart, while 97.28 and 97.42 are 0.13 deg apart.
2. **Altitude shells inside a group.**  The mean altitude is
   ``a - 6378.135 km`` with ``a = (mu / n**2)**(1/3)`` from the Kozai mean
   motion and WGS72 ``mu``.  A shell is a *dense* altitude cluster: the
   altitude around which most group members lie within
   ``altitude_tolerance_km`` is taken, its members' median is the shell
   altitude, and the members within the tolerance are the shell's on-station
   candidates; this repeats while a cluster holds at least
   ``min_shell_satellites``.  Operational shells are tight (the Starlink
   shells are +-0.5 km wide), while satellites raising or lowering are spread
   thinly between them.  A simple gap split fails here because transit
   satellites bridge the shells (53 deg shells at 462, 470 and 475 km).
   A launch batch of 20-30 satellites also forms a dense cluster while it
   raises, which is why ``min_shell_satellites`` defaults to 100.
   Some operators fly each plane at its own altitude (OneWeb: 12 planes, 4 km
   apart, 1178-1222 km) so that planes crossing near the poles never meet;
   smaller dense clusters that are each one plane, with distinct RAANs and
   evenly stepped altitudes, are merged into one *staggered* shell.
   Group members outside every shell's band are *not on station* and are
   attributed to the nearest shell above them (where raising satellites are
   going and deorbiting ones came from), else the nearest below.
3. **Planes, J2-drift aware.**  The RAAN of every satellite drifts by nodal
   precession, ``dOmega/dt = -1.5 n J2 (R/p)**2 cos i`` (-4.6 deg/day at 53 deg
   and 480 km, -2.5 at 70 deg, +1.0 at 97.6 deg), and the epochs of one file differ by up to days, so raw
   RAANs smear each plane over more than the plane spacing (5 deg for 72
   planes).  Each satellite's RAAN is therefore first moved to a common
   reference epoch (default: the median epoch) with its *own* secular rate,
   sgp4's ``nodedot`` (the formula above plus the J2**2 and J4 terms of
   Vallado's ``sgp4init``).  The RAANs of a shell's members are then clustered
   on the circle: sorted, and split at circular gaps larger than
   ``raan_gap_deg`` (wrap-around at 360 deg is handled by starting at the
   largest gap).  Satellites away from the shell altitude drift at another
   rate, which is why they are set aside in step 2 before this step.
   A RAAN cluster smaller than ``min_plane_satellites`` is a satellite between
   planes; its members are counted as not on station.
4. **Walker phase factor.**  In a Walker delta shell ``i:T/P/F`` the
   argument of latitude of slot ``k`` in plane ``p`` is
   ``u = u0 + 360 k/S + 360 F p/T``.  Multiplying by ``S`` removes the slot
   term, so ``phi_p = S u (mod 360)`` is one angle per plane and
   ``phi_{p+1} - phi_p = 360 F / P``.  The mean ``u`` (argument of perigee plus
   true anomaly, moved to the reference epoch with sgp4's ``argpdot`` and
   ``mdot``, plus the TLE ``ndot`` drag term) gives ``phi_p`` as a circular mean
   per plane; ``F`` is reported only when every plane is full (``S``
   satellites), the planes are evenly spaced, the slots within each plane are
   coherent and all adjacent differences agree with one ``F`` within a quarter
   step.  Real constellations usually fail these tests (``F`` is then
   ``None``).

Limitations are listed in `infer_shells`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..constants import WGS72_A_KM, WGS72_MU_KM3_S2
from ..errors import ScenarioError
from .tle import ElementSets

__all__ = ["InferredShell", "ShellInference", "infer_shells", "shells_to_walker_toml"]

_MIN_PER_DAY = 1440.0


@dataclass(frozen=True, eq=False)
class InferredShell:
    """One shell found in an element-set file.

    Attributes
    ----------
    shell_id : int
        Index into ``ShellInference.shells`` (ordered by inclination, then
        altitude).
    altitude_km : float
        Median mean altitude of the on-station members, km above the WGS72
        equatorial radius (6378.135 km), from the Kozai mean motion.
    inclination_deg : float
        Median inclination of the on-station members.
    planes : int
        Number of orbital planes found.
    sats_per_plane : int
        Median number of members per plane.
    satellites : int
        On-station members (in a plane).
    not_on_station : int
        Members of the shell's inclination group outside the shell's altitude
        band (raising, lowering, deorbiting) or between planes.
    raan_deg : float64[planes], deg
        Circular mean RAAN of each plane at the reference epoch, ascending.
    plane_sizes : int64[planes]
        Members of each plane, in the order of ``raan_deg``.
    plane_altitude_km : float64[planes], km
        Median mean altitude of each plane.
    phase_factor : int or None
        Walker F when it could be inferred robustly, else None.
    staggered : bool
        True when the planes fly at evenly stepped altitudes (OneWeb); the
        shell's ``altitude_km`` is then their median.
    """

    shell_id: int
    altitude_km: float
    inclination_deg: float
    planes: int
    sats_per_plane: int
    satellites: int
    not_on_station: int
    raan_deg: NDArray[np.float64]
    plane_sizes: NDArray[np.int64]
    plane_altitude_km: NDArray[np.float64]
    phase_factor: int | None = None
    staggered: bool = False


@dataclass(frozen=True, eq=False)
class ShellInference:
    """Shells found in an element-set file, and each satellite's place in them.

    Attributes
    ----------
    shells : list of InferredShell
    shell_of_satellite : int64[S]
        Shell index of each satellite, -1 for satellites in no shell.
    plane_of_satellite : int64[S]
        Plane index within the shell (order of ``InferredShell.raan_deg``),
        -1 when not on station or in no shell.
    reference_jd : float
        Full Julian date (UTC) at which RAANs and phases are compared.
    altitude_km : float64[S], km
        Mean altitude of every satellite.
    inclination_deg : float64[S], deg
    raan_deg : float64[S], deg
        RAAN of every satellite moved to ``reference_jd`` with its secular rate.
    """

    shells: list[InferredShell]
    shell_of_satellite: NDArray[np.int64]
    plane_of_satellite: NDArray[np.int64]
    reference_jd: float
    altitude_km: NDArray[np.float64]
    inclination_deg: NDArray[np.float64]
    raan_deg: NDArray[np.float64]

    @property
    def on_station(self) -> NDArray[np.bool_]:
        """bool[S]: satellites in a shell and in one of its planes."""
        return self.plane_of_satellite >= 0

    @property
    def not_on_station(self) -> NDArray[np.bool_]:
        """bool[S]: satellites attributed to a shell but in none of its planes."""
        return (self.shell_of_satellite >= 0) & (self.plane_of_satellite < 0)

    @property
    def unassigned(self) -> NDArray[np.bool_]:
        """bool[S]: satellites in no shell."""
        return self.shell_of_satellite < 0

    def summary(self) -> str:
        """A plain-text table of the shells (one line each)."""
        rows = [
            f"{'shell':>5} {'alt_km':>7} {'inc_deg':>7} {'planes':>6} {'per_plane':>9} "
            f"{'on_station':>10} {'not_on_stn':>10} {'F':>4}"
        ]
        for s in self.shells:
            f = "-" if s.phase_factor is None else str(s.phase_factor)
            rows.append(
                f"{s.shell_id:>5} {s.altitude_km:>7.1f} {s.inclination_deg:>7.2f} {s.planes:>6} "
                f"{s.sats_per_plane:>9} {s.satellites:>10} {s.not_on_station:>10} {f:>4}"
            )
        rows.append(f"unassigned: {int(self.unassigned.sum())} of {self.shell_of_satellite.size}")
        return "\n".join(rows)


# --------------------------------------------------------------------------
# Clustering helpers
# --------------------------------------------------------------------------


def _gap_groups(values: NDArray[np.float64], gap: float) -> list[NDArray[np.int64]]:
    """Indices of 1-D clusters: sorted values split where neighbours differ by > gap."""
    if values.size == 0:
        return []
    order = np.argsort(values, kind="stable")
    cuts = np.flatnonzero(np.diff(values[order]) > gap) + 1
    return np.split(order, cuts)


def _circular_groups(angles_deg: NDArray[np.float64], gap_deg: float) -> list[NDArray[np.int64]]:
    """Clusters of angles on the circle, split at circular gaps > gap_deg.

    The sort starts just after the largest gap, so a cluster straddling 0/360
    stays whole.  Clusters come out in ascending angle order from the largest
    gap.
    """
    n = angles_deg.size
    if n == 0:
        return []
    order = np.argsort(angles_deg, kind="stable")
    sorted_deg = angles_deg[order]
    gaps = np.diff(np.r_[sorted_deg, sorted_deg[0] + 360.0])  # gaps[k]: after element k
    start = (int(np.argmax(gaps)) + 1) % n
    order = np.roll(order, -start)
    gaps = np.roll(gaps, -start)
    cuts = np.flatnonzero(gaps[:-1] > gap_deg) + 1
    return np.split(order, cuts)


def _circular_mean_deg(angles_deg: NDArray[np.float64]) -> tuple[float, float]:
    """Circular mean in [0, 360) and resultant length in [0, 1]."""
    z = np.exp(1j * np.radians(angles_deg)).mean()
    return float(np.degrees(np.angle(z)) % 360.0), float(abs(z))


def _dense_shells(
    alt_km: NDArray[np.float64], tolerance_km: float, min_members: int
) -> list[tuple[float, NDArray[np.int64]]]:
    """Dense altitude clusters: (median altitude, member indices), densest first."""
    remaining = np.arange(alt_km.size)
    found = []
    while remaining.size >= min_members:
        values = np.sort(alt_km[remaining])
        counts = np.searchsorted(values, values + tolerance_km, "right") - np.searchsorted(
            values, values - tolerance_km, "left"
        )
        best = int(np.argmax(counts))
        if counts[best] < min_members:
            break
        # Centre on the median of the densest window, then take the band
        # around that centre (one refinement step keeps the band symmetric).
        near = np.abs(alt_km[remaining] - values[best]) <= tolerance_km
        centre = float(np.median(alt_km[remaining][near]))
        members_mask = np.abs(alt_km[remaining] - centre) <= tolerance_km
        if members_mask.sum() < min_members:
            members_mask = near
        members = remaining[members_mask]
        found.append((float(np.median(alt_km[members])), members))
        remaining = remaining[~members_mask]
    return found


def _true_anomaly_rad(mean_anomaly_rad: NDArray[np.float64], ecc: NDArray[np.float64]) -> NDArray[np.float64]:
    """True anomaly from mean anomaly (Newton on Kepler's equation)."""
    m = np.mod(mean_anomaly_rad, 2.0 * np.pi)
    e_anom = m + ecc * np.sin(m)
    for _ in range(8):
        e_anom = e_anom - (e_anom - ecc * np.sin(e_anom) - m) / (1.0 - ecc * np.cos(e_anom))
    return 2.0 * np.arctan2(np.sqrt(1.0 + ecc) * np.sin(e_anom / 2.0), np.sqrt(1.0 - ecc) * np.cos(e_anom / 2.0))


def _phase_factor(
    u_deg: NDArray[np.float64], plane_members: list[NDArray[np.int64]], raan_deg: NDArray[np.float64], spp: int
) -> int | None:
    """Walker F from plane phases, or None when the shell is not Walker-like."""
    planes = len(plane_members)
    if planes < 2 or spp < 1:
        return None
    if any(m.size != spp for m in plane_members):
        return None
    # Evenly spaced planes: each RAAN step within a quarter of the nominal one.
    steps = np.diff(np.r_[raan_deg, raan_deg[0] + 360.0])
    if np.any(np.abs(steps - 360.0 / planes) > 0.25 * 360.0 / planes):
        return None
    phis = []
    for members in plane_members:
        phi, coherence = _circular_mean_deg((spp * u_deg[members]) % 360.0)
        if coherence < 0.9:  # slots not evenly spaced within the plane
            return None
        phis.append(phi)
    phis = np.asarray(phis)
    delta = (np.diff(np.r_[phis, phis[0]]) + 360.0) % 360.0
    mean_delta, coherence = _circular_mean_deg(delta)
    f = int(round(mean_delta * planes / 360.0)) % planes
    expected = f * 360.0 / planes
    misfit = np.abs((delta - expected + 180.0) % 360.0 - 180.0)
    if np.any(misfit > 0.25 * 360.0 / planes):
        return None
    return f


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


def infer_shells(
    elements: ElementSets,
    *,
    reference_jd: float | None = None,
    altitude_tolerance_km: float = 2.0,
    inclination_tolerance_deg: float = 0.1,
    raan_gap_deg: float = 1.0,
    min_shell_satellites: int = 100,
    min_plane_satellites: int = 2,
) -> ShellInference:
    """Find shells, their planes and each satellite's place in them.

    Parameters
    ----------
    elements : ElementSets
        S satellites (e.g. from `~leonet.orbits.tle.read_tle_file`).
    reference_jd : float, optional
        Full Julian date (UTC) to which RAANs and phases are moved; default
        the median epoch.
    altitude_tolerance_km : float
        Half-width of a shell's on-station altitude band, km.  Operational
        Starlink shells are +-0.5 km wide; shells can be 5 km apart.
    inclination_tolerance_deg : float
        Gap in sorted inclinations that separates two inclination groups.
    raan_gap_deg : float
        Gap in sorted (drift-corrected) RAANs that separates two planes.
        Must be below the plane spacing (5 deg for 72 planes).
    min_shell_satellites : int
        Fewest satellites a dense altitude cluster needs to be a shell
        (launch batches raising together hold 20-30 each).
    min_plane_satellites : int
        Fewest satellites a RAAN cluster needs to be a plane.

    Returns
    -------
    ShellInference

    Raises
    ------
    leonet.errors.ScenarioError
        No satellites, or a non-positive tolerance.

    Notes
    -----
    Cost: O(S log S) per shell; ~0.1 s for 10,395 satellites.

    Limitations: planes closer than ``raan_gap_deg`` merge; a plane whose
    satellites are spread by more than ``raan_gap_deg`` between neighbours
    splits; a shell being lowered or raised in stages appears as several
    shells (Starlink 53 deg, May 2026); the phase factor is only reported for
    Walker-exact shells; eccentric (non-LEO) orbits are not treated specially.

    Examples
    --------
    >>> from leonet.orbits.tle import read_tle_file
    >>> inference = infer_shells(read_tle_file("starlink.tle"))  # doctest: +SKIP
    >>> print(inference.summary())  # doctest: +SKIP
    """
    count = len(elements)
    _check_inference_arguments(
        count, altitude_tolerance_km, inclination_tolerance_deg, raan_gap_deg, min_shell_satellites,
        min_plane_satellites, reference_jd,
    )
    epoch_jd = np.asarray(elements.epoch_jd, dtype=np.float64)
    if reference_jd is None:
        reference_jd = float(np.median(epoch_jd))
    mean = _mean_elements_at(elements, epoch_jd, reference_jd)
    valid = np.flatnonzero(np.isfinite(mean.altitude_km) & np.isfinite(mean.inclination_deg))
    drafts = _draft_shells(
        valid, mean, inclination_tolerance_deg, altitude_tolerance_km, raan_gap_deg, min_shell_satellites,
        min_plane_satellites,
    )
    shell_of = np.full(count, -1, dtype=np.int64)
    plane_of = np.full(count, -1, dtype=np.int64)
    shells: list[InferredShell] = []
    for members, group_shells in drafts:
        first_id = len(shells)
        _label_group(members, group_shells, first_id, mean.altitude_km, shell_of)
        for k, draft in enumerate(group_shells):
            shells.append(_finish_shell(draft, first_id + k, mean, plane_of))
    # Not on station: outside the altitude band, or in a RAAN cluster too small to be a plane.
    not_on = np.bincount(shell_of[(shell_of >= 0) & (plane_of < 0)], minlength=len(shells))
    shells = [dataclasses.replace(s, not_on_station=int(not_on[s.shell_id])) for s in shells]
    return ShellInference(
        shells=shells,
        shell_of_satellite=shell_of,
        plane_of_satellite=plane_of,
        reference_jd=float(reference_jd),
        altitude_km=mean.altitude_km,
        inclination_deg=mean.inclination_deg,
        raan_deg=mean.raan_deg,
    )


def _check_inference_arguments(
    count: int,
    altitude_tolerance_km: float,
    inclination_tolerance_deg: float,
    raan_gap_deg: float,
    min_shell_satellites: int,
    min_plane_satellites: int,
    reference_jd: float | None,
) -> None:
    """Raise `ScenarioError` on the first of `infer_shells`'s arguments that cannot work."""
    if count == 0:
        raise ScenarioError("infer_shells needs at least one satellite; the element sets are empty")
    for label, value in (
        ("altitude_tolerance_km", altitude_tolerance_km),
        ("inclination_tolerance_deg", inclination_tolerance_deg),
        ("raan_gap_deg", raan_gap_deg),
    ):
        if not (math.isfinite(value) and value > 0.0):
            raise ScenarioError(f"{label} must be a positive number of its unit, got {value!r}")
    if min_shell_satellites < 1 or min_plane_satellites < 1:
        raise ScenarioError(
            f"min_shell_satellites ({min_shell_satellites}) and min_plane_satellites ({min_plane_satellites}) "
            "must be at least 1"
        )
    if reference_jd is not None and not math.isfinite(reference_jd):
        raise ScenarioError(f"reference_jd must be a finite Julian date, got {reference_jd!r}")


@dataclass(frozen=True)
class _MeanElements:
    """SGP4 mean elements of S satellites, angles moved to the reference epoch (module docstring, steps 2-4)."""

    inclination_deg: NDArray[np.float64]  # [S], deg
    altitude_km: NDArray[np.float64]  # [S], km above the WGS72 equatorial radius; NaN if n <= 0
    raan_deg: NDArray[np.float64]  # [S], deg in [0, 360), J2-drifted with sgp4's nodedot
    u_deg: NDArray[np.float64]  # [S], deg in [0, 360), argument of latitude


@dataclass
class _Draft:
    """A shell found in one inclination group, before it gets its id."""

    core: NDArray[np.int64]  # members inside the shell's altitude band(s)
    planes: list[NDArray[np.int64]]  # members of each plane (a subset of core)
    staggered: bool


def _mean_elements_at(elements: ElementSets, epoch_jd: NDArray[np.float64], reference_jd: float) -> _MeanElements:
    """Mean inclination, altitude, RAAN and argument of latitude of every satellite at *reference_jd*.

    Parameters
    ----------
    elements : ElementSets
        S satellites.
    epoch_jd : float64[S]
        Their epochs, full Julian dates (UTC).
    reference_jd : float
        Full Julian date (UTC) to move RAAN and phase to.

    Returns
    -------
    _MeanElements

    Notes
    -----
    Each angle moves with the satellite's own secular rates from sgp4
    (``nodedot``, ``argpdot``, ``mdot``, plus the TLE ``ndot`` drag term),
    because the epochs of one file differ by days and the J2 drift
    differs from shell to shell.
    """
    sats = elements.satrecs
    count = len(elements)

    def attr(name: str) -> NDArray[np.float64]:
        return np.fromiter((getattr(s, name) for s in sats), dtype=np.float64, count=count)

    inclination_deg = np.degrees(attr("inclo"))
    n_rad_s = attr("no_kozai") / 60.0
    with np.errstate(divide="ignore", invalid="ignore"):
        altitude_km = np.cbrt(WGS72_MU_KM3_S2 / n_rad_s**2) - WGS72_A_KM
    dt_min = (reference_jd - epoch_jd) * _MIN_PER_DAY
    raan_deg = np.degrees(attr("nodeo") + attr("nodedot") * dt_min) % 360.0
    ecc = attr("ecco")
    mean_anomaly = attr("mo") + attr("mdot") * dt_min + attr("ndot") * dt_min**2
    argp = attr("argpo") + attr("argpdot") * dt_min
    u_deg = np.degrees(argp + _true_anomaly_rad(mean_anomaly, np.clip(ecc, 0.0, 0.99))) % 360.0
    return _MeanElements(inclination_deg, altitude_km, raan_deg, u_deg)


def _draft_shells(
    valid: NDArray[np.int64],
    mean: _MeanElements,
    inclination_tolerance_deg: float,
    altitude_tolerance_km: float,
    raan_gap_deg: float,
    min_shell_satellites: int,
    min_plane_satellites: int,
) -> list[tuple[NDArray[np.int64], list[_Draft]]]:
    """Inclination groups, the shells in each and their planes (module docstring, steps 1-3).

    Parameters
    ----------
    valid : int64[V]
        Satellites with a finite altitude and inclination.
    mean : _MeanElements
    inclination_tolerance_deg, altitude_tolerance_km, raan_gap_deg, min_shell_satellites, min_plane_satellites
        As for `infer_shells`.

    Returns
    -------
    list of (int64[M], list of _Draft)
        Each group holding at least one shell: its members and its shells,
        groups by median inclination and shells by median altitude, the
        order of the shell ids.
    """
    altitude_km, raan_deg = mean.altitude_km, mean.raan_deg
    drafts: list[tuple[NDArray[np.int64], list[_Draft]]] = []  # (group members, its shells)
    for group in _gap_groups(mean.inclination_deg[valid], inclination_tolerance_deg):
        members = valid[group]
        shells_here = []
        in_core = np.zeros(members.size, dtype=bool)
        for _alt, local in _dense_shells(altitude_km[members], altitude_tolerance_km, min_shell_satellites):
            core = members[local]
            in_core[local] = True
            planes = _planes(core, raan_deg, raan_gap_deg, min_plane_satellites)
            shells_here.append(_Draft(core, planes, staggered=False))
        # Only what no ordinary shell took can be a staggered one (OneWeb).
        staggered = _staggered_shell(
            members[~in_core], altitude_km, raan_deg, altitude_tolerance_km, raan_gap_deg,
            min_shell_satellites, min_plane_satellites,
        )
        if staggered is not None:
            shells_here.append(staggered)
        if shells_here:
            shells_here.sort(key=lambda d: float(np.median(altitude_km[d.core])))
            drafts.append((members, shells_here))
    drafts.sort(key=lambda d: float(np.median(mean.inclination_deg[d[0]])))
    return drafts


def _label_group(
    members: NDArray[np.int64],
    group_shells: list[_Draft],
    first_id: int,
    altitude_km: NDArray[np.float64],
    shell_of: NDArray[np.int64],
) -> None:
    """Write the shell of every member of one inclination group into *shell_of* (int64[S]).

    A shell's core gets its id; the rest of the group (outside every band)
    is not on station and goes to the nearest shell above (where raising
    satellites are heading and deorbiting ones came from), else to the
    highest shell.
    """
    top_km = np.array([float(altitude_km[d.core].max()) for d in group_shells])
    assigned = np.zeros(shell_of.size, dtype=bool)
    for k, draft in enumerate(group_shells):
        shell_of[draft.core] = first_id + k
        assigned[draft.core] = True
    rest = members[~assigned[members]]
    above = np.searchsorted(np.maximum.accumulate(top_km), altitude_km[rest], "left")
    shell_of[rest] = first_id + np.minimum(above, len(group_shells) - 1)


def _finish_shell(draft: _Draft, shell_id: int, mean: _MeanElements, plane_of: NDArray[np.int64]) -> InferredShell:
    """Number a shell's planes by RAAN into *plane_of* (int64[S]) and summarise the shell.

    ``not_on_station`` is left 0: it is counted over all shells at the end.
    """
    planes = draft.planes
    plane_raan = np.array([_circular_mean_deg(mean.raan_deg[p])[0] for p in planes])
    order = np.argsort(plane_raan, kind="stable")
    planes = [planes[o] for o in order]
    plane_raan = plane_raan[order]
    for p, plane_members in enumerate(planes):
        plane_of[plane_members] = p
    sizes = np.array([p.size for p in planes], dtype=np.int64)
    on_station = np.concatenate(planes) if planes else draft.core
    spp = int(round(float(np.median(sizes)))) if sizes.size else 0
    return InferredShell(
        shell_id=shell_id,
        altitude_km=float(np.median(mean.altitude_km[on_station])),
        inclination_deg=float(np.median(mean.inclination_deg[on_station])),
        planes=len(planes),
        sats_per_plane=spp,
        satellites=int(sizes.sum()),
        not_on_station=0,  # counted by infer_shells over all shells
        raan_deg=plane_raan,
        plane_sizes=sizes,
        plane_altitude_km=np.array([float(np.median(mean.altitude_km[p])) for p in planes]),
        phase_factor=None if draft.staggered else _phase_factor(mean.u_deg, planes, plane_raan, spp),
        staggered=draft.staggered,
    )


def _planes(
    core: NDArray[np.int64], raan_deg: NDArray[np.float64], raan_gap_deg: float, min_plane_satellites: int
) -> list[NDArray[np.int64]]:
    """RAAN clusters of a shell's members that are large enough to be planes."""
    clusters = _circular_groups(raan_deg[core], raan_gap_deg)
    return [core[c] for c in clusters if c.size >= min_plane_satellites]


def _staggered_shell(
    candidates: NDArray[np.int64],
    altitude_km: NDArray[np.float64],
    raan_deg: NDArray[np.float64],
    tolerance_km: float,
    raan_gap_deg: float,
    min_shell_satellites: int,
    min_plane_satellites: int,
) -> _Draft | None:
    """A shell whose planes sit at evenly stepped altitudes, or None.

    OneWeb flies each of its 12 near-polar planes at its own altitude, 4 km
    apart (1178-1222 km in May 2026), so that planes crossing near the poles
    never share an altitude.  Each plane is then a dense altitude cluster of
    ~50, too small to be a shell on its own.  Such clusters are merged into
    one shell when each is a single plane, the planes have distinct RAANs,
    there are at least four, their altitudes step evenly (every step within
    20 % of the first), and together they hold ``min_shell_satellites``.
    Launch batches raising through a group are single planes too, but they
    do not step evenly.
    """
    min_members = max(min_plane_satellites, min_shell_satellites // 10, 2)
    if candidates.size < min_shell_satellites:
        return None
    singles = []  # (altitude, band members, plane members, plane RAAN)
    for alt, local in _dense_shells(altitude_km[candidates], tolerance_km, min_members):
        band = candidates[local]
        planes = _planes(band, raan_deg, raan_gap_deg, min_plane_satellites)
        if not planes:
            continue
        main = max(planes, key=len)
        if main.size >= 0.8 * band.size:
            singles.append((alt, band, main, _circular_mean_deg(raan_deg[main])[0]))
    singles.sort(key=lambda item: item[0])
    best: list = []
    for i in range(len(singles)):
        run = singles[i : i + 2]
        if len(run) < 2:
            break
        step = run[1][0] - run[0][0]
        for item in singles[i + 2 :]:
            if abs((item[0] - run[-1][0]) - step) > 0.2 * step:
                break
            run.append(item)
        if len(run) > len(best):
            best = run
    if len(best) < 4 or sum(item[2].size for item in best) < min_shell_satellites:
        return None
    raans = np.sort([item[3] for item in best])
    if np.min(np.diff(np.r_[raans, raans[0] + 360.0])) <= raan_gap_deg:
        return None  # two "planes" share a RAAN: not a staggered shell
    core = np.concatenate([item[1] for item in best])
    return _Draft(core, [item[2] for item in best], staggered=True)


def _toml_string(text: str) -> str:
    """A TOML basic string (quotes, backslashes and control characters escaped)."""
    out = ['"']
    for char in text:
        code = ord(char)
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif code < 32 or code == 127:
            out.append(f"\\u{code:04X}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def shells_to_walker_toml(inference: ShellInference, name: str) -> str:
    """A scenario TOML fragment describing the inferred shells as Walker shells.

    Parameters
    ----------
    inference : ShellInference
    name : str
        Constellation name.

    Returns
    -------
    str
        ``[[constellations]]`` with ``kind = "walker"`` and one
        ``[[constellations.shells]]`` table per shell that has planes; a
        shell whose phase factor was not inferred gets ``phase_factor = 0``
        after a ``# phase_factor not inferred`` comment.

    Raises
    ------
    leonet.errors.ScenarioError
        When no shell has a plane (an empty Walker constellation is invalid).
    """
    usable = [s for s in inference.shells if s.planes > 0 and s.sats_per_plane > 0]
    if not usable:
        raise ScenarioError(
            "no inferred shell has an orbital plane, so there is nothing to write as a Walker constellation; "
            "lower min_shell_satellites or check the element sets"
        )
    lines = [
        "[[constellations]]",
        f"name = {_toml_string(name)}",
        'kind = "walker"',
    ]
    for number, shell in enumerate(usable, start=1):
        lines += [
            "",
            f"# inferred: {shell.satellites} satellites on station in {shell.planes} planes "
            f"(sizes {int(shell.plane_sizes.min())}-{int(shell.plane_sizes.max())}), "
            f"{shell.not_on_station} not on station",
        ]
        if shell.staggered:
            lines.append(
                f"# planes staggered in altitude, {shell.plane_altitude_km.min():.1f}-"
                f"{shell.plane_altitude_km.max():.1f} km; written at their median"
            )
        if shell.planes > 1:
            raans = np.sort(shell.raan_deg)
            widest = float(np.max(np.diff(np.r_[raans, raans[0] + 360.0])))
            if widest > 3.0 * 360.0 / shell.planes:
                lines.append(
                    f"# plane RAANs leave an empty arc of {widest:.0f} deg (a Walker star or a partly filled "
                    "shell); kind = \"walker\" spreads the planes over 360 deg"
                )
        lines += [
            "[[constellations.shells]]",
            f'name = "shell-{number}"',
            f"altitude_km = {shell.altitude_km:.1f}",
            f"inclination_deg = {shell.inclination_deg:.2f}",
            f"planes = {shell.planes}",
            f"sats_per_plane = {shell.sats_per_plane}",
        ]
        if shell.phase_factor is None:
            lines += ["# phase_factor not inferred", "phase_factor = 0"]
        else:
            lines.append(f"phase_factor = {shell.phase_factor}")
    return "\n".join(lines) + "\n"
