"""Laser inter-satellite links (ISLs): topology and geometry.

The representation
------------------
A set of ISLs is an ``int64[E, 2]`` array of satellite index pairs ``(a, b)``
with ``a < b``, in a fixed, meaningful order: for +Grid it is exactly the order
of Hypatia's ``isls.txt`` (``satgen.generate_plus_grid_isls``), because that
order fixes the interface numbers Hypatia's forwarding state refers to
(`interface_numbers`).  Links are undirected; a link is usable in both
directions with the same length.

Lengths are straight-line (chord) distances between the two satellites'
positions, computed in ECEF, km.  A rotation does not change a distance, so
ECEF and TEME lengths agree exactly.

The range limits follow Hypatia's model (Kassing et al., "Exploring the
'Internet from space' with Hypatia", IMC 2020, section 3):

* an ISL may not dip below ``min_beam_altitude_km`` (80 km: clear of weather)
  on a spherical Earth, which bounds its length (`max_isl_length_km`);
* a ground-satellite link (GSL) is allowed up to a slant range derived either
  from the satellite's coverage-cone radius on the ground (FCC filings give
  940.7 km for Starlink at 550 km; `max_gsl_length_km`), or from a minimum
  elevation angle (`leonet.links.visibility.max_slant_range_km`).  Both are spherical-Earth figures.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..constants import WGS72_A_KM
from ..errors import ScenarioError

__all__ = [
    "plus_grid_pairs",
    "interface_numbers",
    "max_isl_length_km",
    "max_gsl_length_km",
    "link_lengths_km",
]


def plus_grid_pairs(planes: int, sats_per_plane: int, isl_shift: int = 0, first: int = 0) -> NDArray[np.int64]:
    """The +Grid laser topology of one Walker shell, in Hypatia's order.

    Every satellite links to the next one in its plane and to the satellite in
    the same slot (plus ``isl_shift``) of the next plane, wrapping around: four
    links per satellite, ``2 * planes * sats_per_plane`` links in all.

    Parameters
    ----------
    planes, sats_per_plane : int
        Shell size; satellite ``first + plane * sats_per_plane + slot``.
        Both must be at least 3 (with 2, the wrap-around link would repeat).
    isl_shift : int
        Slot offset of the cross-plane neighbour (Hypatia's ``isl_shift``).
    first : int
        Index of the shell's first satellite (Hypatia's ``idx_offset``), for
        shells that follow other shells in the index space.

    Returns
    -------
    pairs : int64[2 * planes * sats_per_plane, 2]
        ``(a, b)`` with ``a < b``.  Row ``2k`` is satellite k's intra-plane
        link and row ``2k + 1`` its cross-plane link, for ``k`` in index order:
        the order and content of Hypatia's ``isls.txt``, line by line.

    Raises
    ------
    ScenarioError
        If ``planes`` or ``sats_per_plane`` is below 3.

    Examples
    --------
    >>> plus_grid_pairs(72, 22)[:4].tolist()
    [[0, 1], [0, 22], [1, 2], [1, 23]]
    >>> plus_grid_pairs(72, 22).shape
    (3168, 2)
    """
    if planes < 3 or sats_per_plane < 3:
        raise ScenarioError(
            f"+Grid ISLs need at least 3 planes and 3 satellites per plane, got {planes} x {sats_per_plane}: "
            "with fewer, a satellite's two neighbours in a ring are the same satellite and links repeat; "
            "use no ISLs for such a shell"
        )
    plane = np.repeat(np.arange(planes, dtype=np.int64), sats_per_plane)
    slot = np.tile(np.arange(sats_per_plane, dtype=np.int64), planes)
    sat = plane * sats_per_plane + slot
    same_plane = plane * sats_per_plane + (slot + 1) % sats_per_plane
    next_plane = ((plane + 1) % planes) * sats_per_plane + (slot + isl_shift) % sats_per_plane
    pairs = np.empty((2 * sat.size, 2), dtype=np.int64)
    pairs[0::2, 0] = np.minimum(sat, same_plane)
    pairs[0::2, 1] = np.maximum(sat, same_plane)
    pairs[1::2, 0] = np.minimum(sat, next_plane)
    pairs[1::2, 1] = np.maximum(sat, next_plane)
    return pairs + first


def interface_numbers(pairs: ArrayLike, num_satellites: int) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Hypatia's ISL interface numbers: per satellite, in link-list order.

    Hypatia (``generate_dynamic_state``) walks the ISL list once and gives each
    endpoint of a link the next free interface number of that satellite, so a
    satellite's ISL interfaces are ``0 .. n_isls - 1`` in the order its links
    appear; its GSL interface comes after them (number ``n_isls``).

    Parameters
    ----------
    pairs : int64[E, 2]
        ISLs ``(a, b)``, in file order.
    num_satellites : int
        S.

    Returns
    -------
    if_a, if_b : int64[E]
        Interface of link ``e`` on satellite ``pairs[e, 0]`` and on ``pairs[e, 1]``.
    num_isls : int64[S]
        ISLs per satellite (= the satellite's GSL interface number).

    Examples
    --------
    >>> if_a, if_b, n = interface_numbers([[0, 1], [0, 2], [1, 2]], 3)
    >>> if_a.tolist(), if_b.tolist(), n.tolist()
    ([0, 1, 1], [0, 0, 1], [2, 2, 2])
    """
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    e = pairs.shape[0]
    # Endpoints in visiting order: a of link 0, b of link 0, a of link 1, ...
    ends = pairs.reshape(-1)
    order = np.argsort(ends, kind="stable")
    sorted_ends = ends[order]
    starts = np.searchsorted(sorted_ends, sorted_ends, side="left")
    rank = np.empty(2 * e, dtype=np.int64)
    rank[order] = np.arange(2 * e, dtype=np.int64) - starts
    num_isls = np.bincount(ends, minlength=num_satellites).astype(np.int64)
    return rank[0::2].copy(), rank[1::2].copy(), num_isls


def max_isl_length_km(
    altitude_km: float, min_beam_altitude_km: float = 80.0, earth_radius_km: float = WGS72_A_KM
) -> float:
    """Longest ISL between two satellites at ``altitude_km`` that stays above ``min_beam_altitude_km``.

    ``2 sqrt((R + h)^2 - (R + h_min)^2)`` on a sphere of radius R: the chord
    tangent to the sphere of radius ``R + h_min``.  Hypatia's value for
    Starlink-550 is 5,016,591.2330984278 m (``description.txt``).

    Examples
    --------
    >>> round(max_isl_length_km(550.0) * 1000, 6)
    5016591.233098
    """
    if not altitude_km > min_beam_altitude_km:
        raise ScenarioError(
            f"altitude_km = {altitude_km} must be above min_beam_altitude_km = {min_beam_altitude_km}"
        )
    return 2.0 * math.sqrt((earth_radius_km + altitude_km) ** 2 - (earth_radius_km + min_beam_altitude_km) ** 2)


def max_gsl_length_km(altitude_km: float, cone_radius_km: float = 940.7) -> float:
    """Hypatia's longest ground-satellite link: ``sqrt(cone_radius^2 + altitude^2)``.

    The coverage cone's ground radius (940.7 km for Starlink at 550 km, FCC
    SAT-MOD-20181108-00083, where it corresponds to a 25 deg minimum elevation)
    and the altitude are treated as the legs of a right triangle (flat Earth),
    as Hypatia's ``main_starlink_550.py`` does.  For Starlink-550 this gives
    1,089,686.4181956202 m, about 34 km shorter than the spherical-Earth slant
    range at 25 deg (1,123.4 km, `leonet.links.visibility.max_slant_range_km`): on a sphere it admits
    satellites down to about 26.2 deg of elevation, not 25.

    Examples
    --------
    >>> round(max_gsl_length_km(550.0) * 1000, 6)
    1089686.418196
    """
    return math.hypot(cone_radius_km, altitude_km)


def link_lengths_km(r_ecef_km: NDArray[np.float64], pairs: ArrayLike) -> NDArray[np.float64]:
    """Length of every link at every step.

    Parameters
    ----------
    r_ecef_km : float64[T, S, 3] or float64[S, 3]
        Satellite positions, km, ECEF (any frame works: lengths are invariant).
    pairs : int64[E, 2]
        Links.

    Returns
    -------
    length_km : float64[T, E] (or float64[E] for a single step)
        NaN where either satellite's position is NaN.

    Examples
    --------
    >>> r = np.array([[[7000.0, 0, 0], [0, 7000.0, 0], [0, 0, 7000.0]]])
    >>> link_lengths_km(r, [[0, 1], [1, 2]]).round(3).tolist()
    [[9899.495, 9899.495]]
    """
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    r = np.asarray(r_ecef_km, dtype=np.float64)
    d = r[..., pairs[:, 0], :] - r[..., pairs[:, 1], :]
    return np.sqrt(np.einsum("...i,...i->...", d, d))
