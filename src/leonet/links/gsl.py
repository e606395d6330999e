"""Ground-satellite links (GSLs): what turns a visible pair into a link.

Which satellites a site sees -- the geometry, the masks and the search -- is
`leonet.links.visibility`, whose `~leonet.links.visibility.visible_links`
gives the visible pairs of a step as a `~leonet.links.visibility.GroundLinks`.
This module holds what is specific to the links themselves:

* `one_way_delay_s` -- propagation delay of a link in vacuum, ``range / c``;
* `limit_links_per_site` -- a site with N antennas (a gateway) keeps its N
  highest-elevation pairs.

Both take and return the same representation as `leonet.links.visibility`:
parallel arrays over the K pairs of a step, sorted by site then satellite.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..constants import C_KM_S
from .visibility import GroundLinks

__all__ = [
    "one_way_delay_s",
    "limit_links_per_site",
]


def one_way_delay_s(range_km: ArrayLike) -> NDArray[np.float64]:
    """Propagation delay of a radio or laser link in vacuum, ``range / c``, s.

    Parameters
    ----------
    range_km : float64[...], km

    Returns
    -------
    delay_s : float64[...], s
        The same as `GroundLinks.delay_s <leonet.links.visibility.GroundLinks.delay_s>`.

    Examples
    --------
    >>> round(float(one_way_delay_s(550.0)) * 1e3, 6)   # a satellite at zenith, 550 km up: ms
    1.834603
    """
    return np.asarray(range_km, dtype=np.float64) / C_KM_S


def limit_links_per_site(links: GroundLinks, limit: ArrayLike) -> GroundLinks:
    """Keep, for each site, its ``limit[site]`` highest-elevation links.

    Parameters
    ----------
    links : GroundLinks
        K pairs sorted by site then satellite (as `visible_links` gives them).
    limit : int[G]
        Links allowed per site (a gateway's antenna count).

    Returns
    -------
    GroundLinks
        At most ``limit[g]`` pairs of each site ``g``, sorted by site then
        satellite.  Equal elevations go to the lower satellite index
        (deterministic).

    Examples
    --------
    >>> links = GroundLinks(np.array([0, 0, 1], np.int32), np.array([4, 9, 2], np.int32),
    ...                     np.ones(3), np.array([0.5, 0.8, 0.6]))
    >>> kept = limit_links_per_site(links, [1, 1])
    >>> kept.site.tolist(), kept.sat.tolist()
    ([0, 1], [9, 2])
    """
    if len(links) == 0:
        return links
    limit = np.asarray(limit, dtype=np.int64)
    order = np.lexsort((links.sat, -links.sin_elevation, links.site))
    site = links.site[order]
    starts = np.flatnonzero(np.r_[True, site[1:] != site[:-1]])
    lengths = np.diff(np.r_[starts, site.size])
    rank = np.arange(site.size) - np.repeat(starts, lengths)
    keep = order[rank < limit[site]]
    keep.sort()  # back to (site, sat) order: the input was sorted that way
    return links.take(keep)
