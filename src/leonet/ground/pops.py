"""Points of presence: which PoP each gateway backhauls to, and the fibre delay to it.

A gateway reaches the internet at one PoP: the one ``ground.pops.assignment``
names, else the great-circle-nearest.  The backhaul is terrestrial fibre:
``great-circle x route_factor / (c / refractive_index)``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..constants import C_KM_S
from ..errors import ScenarioError
from .sites import great_circle_km, nearest

__all__ = ["assign_pops", "backhaul_delay_s"]


def assign_pops(gateways, pops, assignment: dict[str, str] | None = None) -> NDArray[np.int64]:
    """The PoP each gateway backhauls to.

    Parameters
    ----------
    gateways, pops : leonet.ground.sites.GroundSites
    assignment : dict of str to str, optional
        Gateway id -> PoP id (``PopSpec.assignment``).  A gateway merged from
        co-located ones (id ``"GS1+GS2"``) matches any of its parts.  Others go
        to the great-circle-nearest PoP (ties: lower index).

    Returns
    -------
    pop : int64[W]

    Raises
    ------
    ScenarioError
        An id in the assignment names no gateway or no PoP, or there are
        gateways but no PoPs.
    """
    w = len(gateways)
    if w == 0:
        return np.zeros(0, dtype=np.int64)
    if len(pops) == 0:
        raise ScenarioError(
            f"there are {w} gateways but no PoPs: every gateway backhauls to a PoP; add [ground.pops] to the scenario"
        )
    out = nearest(gateways, pops).astype(np.int64)
    if assignment:
        part_of = {}
        for g, gid in enumerate(gateways.ids):
            part_of[gid] = g
            for part in gid.split("+"):
                part_of.setdefault(part, g)
        for gid, pid in assignment.items():
            if gid not in part_of:
                raise ScenarioError(
                    f"ground.pops.assignment names gateway {gid!r}, which is not among the run's {w} gateways "
                    f"(ids look like {', '.join(gateways.ids[:3])}); fix the id or select that gateway"
                )
            out[part_of[gid]] = pops.index_of(pid)
    return out


def backhaul_delay_s(
    gateways, pops, gateway_pop: NDArray[np.int64], route_factor: float = 1.5, refractive_index: float = 1.468
) -> NDArray[np.float64]:
    """One-way terrestrial delay from each gateway to its PoP, s.

    ``great_circle_km x route_factor / (c / refractive_index)``: fibre runs
    about 1.5 times the great-circle distance, and light in silica fibre
    travels at ``c / 1.468`` (group index of SMF-28 at 1550 nm).

    Returns
    -------
    delay_s : float64[W], s
    """
    if len(gateways) == 0:
        return np.zeros(0, dtype=np.float64)
    d = great_circle_km(gateways.lat_deg, gateways.lon_deg, pops.lat_deg[gateway_pop], pops.lon_deg[gateway_pop])
    return d * route_factor * refractive_index / C_KM_S
