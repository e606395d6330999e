"""The laser (ISL) topology of a whole constellation, and its per-step limits.

The representation
------------------
An `IslTopology` is the fixed list of laser links a constellation *may*
use, ``pairs: int64[E, 2]`` with ``a < b`` in the constellation's satellite
index space, plus the shell of each link.  Links never cross shells.  Which
of them are *usable* is decided per time step from the satellites' actual
positions (`IslTopology.usable`): a laser beam must stay above
``min_beam_altitude_km`` (80 km, clear of weather; Hypatia's rule), so a
link whose chord dips lower at some step is dropped for that step and
counted -- never an exception.

+Grid, two ways
---------------
* **Walker shells** (built from parameters) carry each satellite's plane and
  slot; their links are `leonet.links.isl.plus_grid_pairs` (Hypatia's order:
  next in plane, same slot in the next plane), mapped into the index space.
  A shell with fewer than 3 planes or 3 satellites per plane gets no lasers
  (a ring of two repeats its link).
* **Element-set shells** (real TLEs) have no slots.  Their shells and planes
  are inferred (`leonet.orbits.shells.infer_shells`); satellites not on
  station (raising, lowering, between planes) get no lasers.  At the
  reference time (the median element epoch) each satellite's argument of
  latitude ``u`` is computed with SGP4; within a plane, satellites are
  ordered by ``u`` and linked to their neighbours on the ring; across
  planes (adjacent in RAAN order, wrapping round) each satellite links to
  the satellite of the next plane nearest to it in ``u``, and when several
  pick the same satellite only the nearest in ``u`` keeps the link -- so no
  satellite has more than four lasers.  Partially filled planes and shells
  therefore get rings with long gaps; the per-step beam limit removes the
  links that would pass through the atmosphere.

The beam limit
--------------
For satellites at geocentric radii ``r1``, ``r2`` the straight chord between
them stays above the sphere of radius ``R_min = R + h_min`` exactly when its
length is at most ``sqrt(r1^2 - R_min^2) + sqrt(r2^2 - R_min^2)`` (the sum of
the two tangent lengths; the chord at that length grazes the sphere).  For
``r1 = r2 = R + h`` this is `leonet.links.isl.max_isl_length_km`.  The Earth
is the WGS72 sphere of equatorial radius (Hypatia's value); over the poles
the WGS84 ellipsoid is 21 km lower, so the rule is slightly conservative
there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from sgp4.api import SatrecArray

from ..constants import WGS72_A_KM
from ..orbits.constellation import Constellation
from .isl import link_lengths_km, max_isl_length_km, plus_grid_pairs

__all__ = [
    "IslTopology",
    "plus_grid_topology",
    "no_isl_topology",
    "beam_limit_length_km",
    "ring_and_cross_links",
    "argument_of_latitude_rad",
]


def beam_limit_length_km(
    radius1_km: NDArray[np.float64],
    radius2_km: NDArray[np.float64],
    min_beam_altitude_km: float = 80.0,
    earth_radius_km: float = WGS72_A_KM,
) -> NDArray[np.float64]:
    """Longest chord between two satellites that stays above ``min_beam_altitude_km``.

    Parameters
    ----------
    radius1_km, radius2_km : float64[...], km
        Geocentric radii of the two satellites.
    min_beam_altitude_km : float
    earth_radius_km : float

    Returns
    -------
    length_km : float64[...], km
        ``sqrt(r1^2 - Rm^2) + sqrt(r2^2 - Rm^2)`` with ``Rm = R + h_min``; NaN
        when a satellite is itself below ``Rm`` (or its radius is NaN).

    Examples
    --------
    >>> from leonet.links.isl import max_isl_length_km
    >>> r = 6378.135 + 550.0
    >>> bool(np.isclose(beam_limit_length_km(r, r), max_isl_length_km(550.0)))
    True
    """
    rm = earth_radius_km + min_beam_altitude_km
    r1 = np.asarray(radius1_km, dtype=np.float64)
    r2 = np.asarray(radius2_km, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.sqrt(r1 * r1 - rm * rm) + np.sqrt(r2 * r2 - rm * rm)


@dataclass(frozen=True, eq=False)
class IslTopology:
    """The laser links a constellation may use.

    Attributes
    ----------
    num_satellites : int
        S.
    pairs : int64[E, 2]
        ``(a, b)``, ``a < b``, satellite indices.
    shell : int32[E]
        Index into ``Constellation.shells`` of both ends.
    nominal_max_length_km : float64[E], km
        The beam limit at the shell's nominal altitude (informational; the
        limit applied is computed per step from the actual radii).
    min_beam_altitude_km : float
    earth_radius_km : float
    has_lasers : bool[S]
        Satellites with at least one link.
    notes : list of str
        Shells left without lasers and why.
    """

    num_satellites: int
    pairs: NDArray[np.int64]
    shell: NDArray[np.int32]
    nominal_max_length_km: NDArray[np.float64]
    min_beam_altitude_km: float = 80.0
    earth_radius_km: float = WGS72_A_KM
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.pairs.shape[0])

    @property
    def has_lasers(self) -> NDArray[np.bool_]:
        out = np.zeros(self.num_satellites, dtype=bool)
        out[self.pairs.ravel()] = True
        return out

    def max_length_km(self, r_ecef_km: NDArray[np.float64]) -> NDArray[np.float64]:
        """Per-link length limit from the satellites' actual radii.

        Parameters
        ----------
        r_ecef_km : float64[T, S, 3] or float64[S, 3], km, ECEF

        Returns
        -------
        max_length_km : float64[T, E] (or float64[E]), km; NaN for NaN positions.
        """
        r = np.asarray(r_ecef_km, dtype=np.float64)
        radius = np.sqrt(r[..., 0] * r[..., 0] + r[..., 1] * r[..., 1] + r[..., 2] * r[..., 2])
        return beam_limit_length_km(
            radius[..., self.pairs[:, 0]], radius[..., self.pairs[:, 1]], self.min_beam_altitude_km, self.earth_radius_km
        )

    def usable(self, r_ecef_km: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
        """Lengths of all links and which of them may be used.

        Parameters
        ----------
        r_ecef_km : float64[T, S, 3] or float64[S, 3], km, ECEF

        Returns
        -------
        length_km : float64[T, E] (or [E]), km
        ok : bool[T, E] (or [E])
            Length within the beam limit; False where a position is NaN.
        """
        length = link_lengths_km(r_ecef_km, self.pairs)
        with np.errstate(invalid="ignore"):
            ok = length <= self.max_length_km(r_ecef_km)
        return length, ok


def no_isl_topology(num_satellites: int, min_beam_altitude_km: float = 80.0) -> IslTopology:
    """A topology with no lasers: bent pipe (every path goes down to a gateway in view)."""
    return IslTopology(
        num_satellites,
        np.zeros((0, 2), dtype=np.int64),
        np.zeros(0, dtype=np.int32),
        np.zeros(0, dtype=np.float64),
        min_beam_altitude_km,
    )


def argument_of_latitude_rad(r: NDArray[np.float64], v: NDArray[np.float64]) -> NDArray[np.float64]:
    """Argument of latitude ``u`` in [0, 2 pi) of inertial states, rad.

    Parameters
    ----------
    r : float64[S, 3], km; v : float64[S, 3], km/s
        Positions and velocities in an inertial frame (TEME).

    Notes
    -----
    ``u`` is the angle from the ascending node to the position, measured in
    the direction of motion: with ``h = r x v`` and node ``n = z x h``,
    ``u = atan2((h^ x n^) . r, n^ . r)``.
    """
    h = np.cross(r, v)
    h_hat = h / np.linalg.norm(h, axis=-1, keepdims=True)
    n = np.stack([-h[:, 1], h[:, 0], np.zeros(h.shape[0])], axis=-1)
    n_norm = np.linalg.norm(n, axis=-1, keepdims=True)
    # An equatorial orbit has no node: measure from the x axis instead.
    n_hat = np.where(n_norm > 1e-9, n / np.where(n_norm > 0, n_norm, 1.0), np.array([1.0, 0.0, 0.0]))
    m = np.cross(h_hat, n_hat)
    return np.arctan2(np.einsum("si,si->s", m, r), np.einsum("si,si->s", n_hat, r)) % (2.0 * np.pi)


def ring_and_cross_links(
    plane: NDArray[np.int64], u_rad: NDArray[np.float64], plane_order: NDArray[np.int64] | None = None
) -> NDArray[np.int64]:
    """+Grid links of one shell given each satellite's plane and phase.

    Parameters
    ----------
    plane : int64[N]
        Plane of each satellite (any labels; -1 = not on station, no links).
    u_rad : float64[N]
        Argument of latitude of each satellite at a common time, rad.
    plane_order : int64[P], optional
        Plane labels in RAAN order (adjacent planes are neighbours, wrapping
        round).  Default: sorted labels.

    Returns
    -------
    pairs : int64[E, 2]
        Local indices ``(a, b)``, ``a < b``, unique, sorted.

    Notes
    -----
    In-plane: neighbours on the ring sorted by ``u`` (a plane of two has one
    link, of one none).  Cross-plane: satellites of planes ``p`` and ``p + 1``
    are matched one to one, nearest in ``u`` first.  With three or more
    planes the last plane links to the first.  Loops run over planes, not satellites.
    """
    plane = np.asarray(plane, dtype=np.int64)
    u = np.asarray(u_rad, dtype=np.float64) % (2.0 * np.pi)
    labels = np.unique(plane[plane >= 0]) if plane_order is None else np.asarray(plane_order, dtype=np.int64)
    members = []
    links = []
    for label in labels:
        idx = np.flatnonzero(plane == label)
        idx = idx[np.lexsort((idx, u[idx]))]
        members.append(idx)
        n = idx.size
        if n == 2:
            links.append(idx[None, :])
        elif n >= 3:
            links.append(np.stack([idx, np.roll(idx, -1)], axis=1))
    p = len(members)
    if p >= 2:
        for k in range(p if p >= 3 else 1):
            src, dst = members[k], members[(k + 1) % p]
            if src.size == 0 or dst.size == 0:
                continue
            links.append(_phase_matching(src, dst, u))
    if not links:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = np.concatenate(links, axis=0)
    pairs = np.sort(pairs, axis=1)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    return np.unique(pairs, axis=0)


def _phase_matching(src: NDArray[np.int64], dst: NDArray[np.int64], u: NDArray[np.float64]) -> NDArray[np.int64]:
    """One-to-one links between two planes, nearest in phase first.

    Rounds of mutual choice: every free satellite of ``src`` picks the free
    satellite of ``dst`` nearest in ``u``; a satellite picked by several takes
    the nearest (ties: first in ``u`` order); accepted pairs leave the pool.
    Each round accepts at least the globally nearest free pair, and the
    result equals the greedy nearest-first matching in practice; rounds are
    vectorised (planes hold tens of satellites).
    """
    du = np.abs(u[src][:, None] - u[dst][None, :])
    du = np.minimum(du, 2.0 * np.pi - du)  # [n_src, n_dst]
    free_src = np.ones(src.size, dtype=bool)
    free_dst = np.ones(dst.size, dtype=bool)
    out_s, out_d = [], []
    while free_src.any() and free_dst.any():
        d = np.where(free_src[:, None] & free_dst[None, :], du, np.inf)
        rows = np.flatnonzero(free_src)
        pick = np.argmin(d[rows], axis=1)
        dist = d[rows, pick]
        order = np.lexsort((rows, dist, pick))
        first = np.r_[True, pick[order][1:] != pick[order][:-1]]
        keep = order[first]
        out_s.append(rows[keep])
        out_d.append(pick[keep])
        free_src[rows[keep]] = False
        free_dst[pick[keep]] = False
    a = np.concatenate(out_s) if out_s else np.zeros(0, np.int64)
    b = np.concatenate(out_d) if out_d else np.zeros(0, np.int64)
    return np.stack([src[a], dst[b]], axis=1)


def _walker_shell_pairs(constellation: Constellation, k: int, members: NDArray[np.int64]) -> NDArray[np.int64] | None:
    shell = constellation.shells[k].walker
    if shell.planes < 3 or shell.sats_per_plane < 3:
        return None
    local = constellation.plane_index[members].astype(np.int64) * shell.sats_per_plane + constellation.slot_index[members]
    to_global = np.full(shell.size, -1, dtype=np.int64)
    to_global[local] = members
    pairs = to_global[plus_grid_pairs(shell.planes, shell.sats_per_plane, isl_shift=0, first=0)]
    pairs = pairs[(pairs >= 0).all(axis=1)]
    return np.sort(pairs, axis=1)


def _element_shell_pairs(
    constellation: Constellation, members: NDArray[np.int64], reference_jd: float | None, infer_options: dict
) -> tuple[NDArray[np.int64], NDArray[np.int64], list]:
    """Pairs (global), inferred shell of each pair, and the inferred shells."""
    from ..orbits.shells import infer_shells
    from ..orbits.tle import ElementSets

    sats = [constellation.satrecs[i] for i in members]
    elements = ElementSets(
        source=constellation.name,
        names=[constellation.names[i] for i in members],
        catalog_numbers=constellation.catalog_numbers[members],
        satrecs=sats,
        epoch_jd=constellation.epoch_jd[members],
        line1=[constellation.tle_lines[i][0] for i in members],
        line2=[constellation.tle_lines[i][1] for i in members],
    )
    inference = infer_shells(elements, reference_jd=reference_jd, **infer_options)
    jd = np.array([np.floor(inference.reference_jd - 0.5) + 0.5])
    fr = np.array([inference.reference_jd - jd[0]])
    _err, r, v = SatrecArray(sats).sgp4(jd, fr)
    u = argument_of_latitude_rad(r[:, 0, :], v[:, 0, :])
    out, out_shell = [], []
    for s in range(len(inference.shells)):
        local = np.flatnonzero((inference.shell_of_satellite == s) & (inference.plane_of_satellite >= 0))
        ok = np.isfinite(u[local])
        local = local[ok]
        plane = inference.plane_of_satellite[local]
        pairs = ring_and_cross_links(plane, u[local], np.arange(inference.shells[s].planes))
        out.append(members[local[pairs]])
        out_shell.append(np.full(pairs.shape[0], s, dtype=np.int64))
    if not out:
        return np.zeros((0, 2), np.int64), np.zeros(0, np.int64), inference.shells
    return np.concatenate(out).reshape(-1, 2), np.concatenate(out_shell), inference.shells


def plus_grid_topology(
    constellation: Constellation,
    *,
    min_beam_altitude_km: float = 80.0,
    reference_jd: float | None = None,
    infer_options: dict | None = None,
) -> IslTopology:
    """The +Grid laser topology of every shell of a constellation.

    Parameters
    ----------
    constellation : Constellation
    min_beam_altitude_km : float
        Lowest altitude a beam may pass, km (``network.isl_min_beam_altitude_km``).
    reference_jd : float, optional
        Julian date (UTC) at which element-set planes and phases are compared;
        default the median element epoch of each element-set shell.
    infer_options : dict, optional
        Keyword arguments for `leonet.orbits.shells.infer_shells`.

    Returns
    -------
    IslTopology
        Pairs sorted by ``(a, b)``.

    Notes
    -----
    Cost: once per run; ~0.2 s for the 10,395-satellite Starlink snapshot
    (shell inference plus one SGP4 evaluation).
    """
    s_total = len(constellation)
    pairs_all, shell_all, nominal_all, notes = [], [], [], []
    for k, shell in enumerate(constellation.shells):
        members = np.flatnonzero(constellation.shell_index == k).astype(np.int64)
        if members.size == 0:
            continue
        if shell.walker is not None:
            pairs = _walker_shell_pairs(constellation, k, members)
            if pairs is None:
                notes.append(
                    f"shell {shell.name!r} ({shell.walker.planes} x {shell.walker.sats_per_plane}) has fewer than "
                    "3 planes or 3 satellites per plane: no lasers"
                )
                continue
            nominal = np.full(pairs.shape[0], max_isl_length_km(shell.walker.altitude_km, min_beam_altitude_km))
        else:
            pairs, inferred_shell, inferred = _element_shell_pairs(
                constellation, members, reference_jd, dict(infer_options or {})
            )
            alt = np.array([s.altitude_km for s in inferred], dtype=np.float64)
            nominal = np.array(
                [max_isl_length_km(a, min_beam_altitude_km) if a > min_beam_altitude_km else np.nan for a in alt]
            )[inferred_shell] if pairs.size else np.zeros(0)
            off = members.size - np.unique(pairs).size
            if off:
                notes.append(f"shell {shell.name!r}: {off} of {members.size} satellites not on station, no lasers")
        pairs_all.append(pairs)
        shell_all.append(np.full(pairs.shape[0], k, dtype=np.int32))
        nominal_all.append(np.asarray(nominal, dtype=np.float64))
    if not pairs_all:
        topo = no_isl_topology(s_total, min_beam_altitude_km)
        topo.notes.extend(notes)
        return topo
    pairs = np.concatenate(pairs_all).reshape(-1, 2)
    shell = np.concatenate(shell_all)
    nominal = np.concatenate(nominal_all)
    order = np.lexsort((pairs[:, 1], pairs[:, 0]))
    return IslTopology(
        s_total, pairs[order], shell[order], nominal[order], float(min_beam_altitude_km), WGS72_A_KM, notes
    )
