"""Routes to several home PoPs at one step, each search bounded to where its terminals can be served.

Starlink homes a terminal at the PoP of its country, so a world-wide run
needs one shortest-path tree per home PoP and step (`routes_to_pops` with one
PoP): ~25-60 trees per step instead of one.  A terminal only ever uses the
routes of satellites it can see, and those lie within the visibility radius
of its home's terminals.  `routes_to_homes` therefore stops each home's
search (csgraph's ``limit``) a little beyond the farthest satellite any of
its terminals could see, and *checks* the result: every such satellite that
is reachable at all must have been reached, or the home's search is re-run
without a bound.  The routes of those satellites are then exactly those of
an unbounded search (Dijkstra settles nodes in order of delay; every node on
a path is nearer than its end); satellites that no terminal of the home can
see may be left at ``inf``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_array
from scipy.sparse.csgraph import connected_components

from ..constants import C_KM_S, WGS84_A_KM, WGS84_F
from .graph import NodeSpace
from .shortest import SatelliteRoutes, routes_to_pops

__all__ = ["routes_to_homes", "visibility_angle_rad"]

#: The smallest radius of the WGS84 ellipsoid (polar), km: the widest visibility cap (conservative).
_R_POLAR_KM = WGS84_A_KM * (1.0 - WGS84_F)
#: Added to each visibility angle: geodetic vs geocentric up (<= 0.2 deg), terminals above the ground.
MARGIN_RAD = np.radians(1.0)
#: First guess of the bound: route length <= STRETCH x ground arc + SLACK_KM (lasers' zig-zag, slant
#: ranges, fibre from a gateway near the PoP).  A wrong guess costs time only: the search is re-run.
STRETCH = 1.3
SLACK_KM = 2000.0


def visibility_angle_rad(r_ecef_km: NDArray[np.float64], sin_mask: NDArray[np.float64]) -> NDArray[np.float64]:
    """float64[S], rad: Earth-central angle from each satellite's sub-point within which it is above the mask.

    ``arccos(R cos(e) / |r|) - e`` on a sphere of the polar radius (the
    widest cap), e the satellite's elevation mask; NaN for NaN positions.
    """
    r = np.linalg.norm(r_ecef_km, axis=1)
    e = np.arcsin(np.clip(sin_mask, -1.0, 1.0))
    with np.errstate(invalid="ignore"):
        return np.arccos(np.clip(_R_POLAR_KM * np.cos(e) / r, -1.0, 1.0)) - e


def _reachable(graph: csr_array, nodes: NodeSpace, pops: NDArray[np.int64]) -> NDArray[np.bool_]:
    """bool[S]: satellites in a weakly connected component of the graph that holds one of the home PoPs.

    Every home has backhaul to every gateway (`leonet.engine.network`), so this is exactly the set
    a search from the homes reaches: the satellites laser-connected to one with a feeder link.  It
    is never smaller, whatever the graph (a path ignoring the links' direction exists wherever a
    directed one does), so a wrong answer could only cost re-runs in `routes_to_homes`'s check,
    never a route; and it costs a labelling of components (~0.3 ms at 4,400 satellites), not a
    shortest-path search (~1 ms).
    """
    _n, label = connected_components(graph, directed=True, connection="weak")
    return np.isin(label[: nodes.satellites], label[nodes.first_pop + np.asarray(pops, dtype=np.int64)])


def routes_to_homes(
    graph: csr_array,
    nodes: NodeSpace,
    pops: NDArray[np.int64],
    pop_unit: NDArray[np.float64],
    spread_rad: NDArray[np.float64],
    r_sat_ecef_km: NDArray[np.float64],
    sin_mask: NDArray[np.float64],
    *,
    scale: dict[int, float] | None = None,
) -> list[SatelliteRoutes]:
    """Every satellite a home's terminals can see, routed to that home PoP, for each home.

    Parameters
    ----------
    graph : csr_array (N, N), s
    nodes : NodeSpace
    pops : int64[H]
        The home PoPs (indices among the PoPs), each with its own search.
    pop_unit : float64[H, 3]
        Unit vectors (ECEF) of those PoPs.
    spread_rad : float64[H], rad
        Largest Earth-central angle between each PoP and a terminal homed
        there (NaN or inf: no bound for that home).
    r_sat_ecef_km : float64[S, 3], km
        Satellite positions at the step (NaN: failed).
    sin_mask : float64[S]
        Sine of each satellite's terminal elevation mask.
    scale : dict, optional
        Per-PoP factor on the first guess of the bound, raised (and kept
        here) when a guess fell short; it changes the time taken, never a
        route.

    Returns
    -------
    list of SatelliteRoutes, [H]
        Entry h: exact routes to ``pops[h]`` of every satellite within
        ``spread_rad[h]`` + its visibility angle + `MARGIN_RAD` of the PoP;
        others may be ``inf``.
    """
    pops = np.asarray(pops, dtype=np.int64)
    if pops.size <= 1:
        # One home: the reachability search below would cost as much as it saves.
        return [routes_to_pops(graph, nodes, [int(p)]) for p in pops]
    scale = {} if scale is None else scale
    s = nodes.satellites
    reachable = _reachable(graph, nodes, pops)
    r = np.asarray(r_sat_ecef_km, dtype=np.float64)[:s]
    sat_unit = r / np.linalg.norm(r, axis=1)[:, None]
    reach = visibility_angle_rad(r, np.asarray(sin_mask, dtype=np.float64)[:s]) + MARGIN_RAD
    # [H, S]; an explicit sum, not a BLAS product: BLAS threads would busy-wait on the other core.
    pop_unit = np.asarray(pop_unit, dtype=np.float64)
    angle = np.arccos(np.clip(sum(pop_unit[:, k, None] * sat_unit[None, :, k] for k in range(3)), -1.0, 1.0))
    out = []
    for h, p in enumerate(pops.tolist()):
        with np.errstate(invalid="ignore"):
            need = reachable & (angle[h] <= spread_rad[h] + reach)
        if not np.isfinite(spread_rad[h]) or not need.any():
            out.append(routes_to_pops(graph, nodes, [p]))
            continue
        arc_km = float(angle[h][need].max()) * WGS84_A_KM
        limit = (STRETCH * arc_km + SLACK_KM) / C_KM_S * scale.get(p, 1.0)
        routes = routes_to_pops(graph, nodes, [p], limit_s=limit)
        if not np.isfinite(routes.delay_s[need]).all():
            scale[p] = 2.0 * scale.get(p, 1.0)
            routes = routes_to_pops(graph, nodes, [p])
        out.append(routes)
    return out
