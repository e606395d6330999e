"""Terminals placed at random in a region: by population (GeoNames places) or uniformly by area.

Draws come from a seeded generator (`numpy.random.default_rng`), so a scenario
gives the same terminals every time.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from ..errors import ScenarioError
from .regions import Region, admin1_regions, country_of, load_region, points_in_region
from .sites import DEFAULT_MIN_ELEVATION_DEG, MEAN_EARTH_RADIUS_KM, GroundSites, load_cities

__all__ = ["sample_points", "sample_terminals", "spread_around", "DEFAULT_JITTER_KM"]

#: Radius of the disc around a city inside which population-weighted samples
#: are spread, km.  A city of >= 15,000 people (the shipped GeoNames list)
#: spans a few km; 10 km also covers its suburbs, so terminals do not pile up
#: on one point, and it is small enough that samples stay in the same oblast
#: and the same satellite footprints (a Starlink beam cell is ~20-25 km wide).
DEFAULT_JITTER_KM = 10.0


def _uniform(region: Region, n: int, rng: np.random.Generator) -> tuple[NDArray, NDArray]:
    """Area-uniform points on the sphere inside the region (rejection in the bounding box).

    Drawing ``sin(lat)`` uniformly gives equal probability per unit area on
    the sphere (Archimedes' hat-box theorem), which is the cos(lat) weighting.
    """
    x0, y0, x1, y1 = region.geometry.bounds
    z0, z1 = math.sin(math.radians(y0)), math.sin(math.radians(y1))
    lat_out, lon_out, have = [], [], 0
    batch = max(1024, 4 * n)
    for _ in range(1000):
        lat = np.degrees(np.arcsin(rng.uniform(z0, z1, batch)))
        lon = rng.uniform(x0, x1, batch)
        ok = points_in_region(region, lat, lon)
        lat_out.append(lat[ok])
        lon_out.append(lon[ok])
        have += int(ok.sum())
        if have >= n:
            return np.concatenate(lat_out)[:n], np.concatenate(lon_out)[:n]
    raise ScenarioError(
        f"region {region.name!r} fills too little of its bounding box {region.bounds_deg} to sample {n} points "
        "(fewer than 1 in 10^6 tries land inside); check that the polygon is not degenerate."
    )


def sample_points(
    region: Region | str,
    n: int,
    *,
    seed: int,
    weight_by_population: bool = True,
    jitter_km: float = DEFAULT_JITTER_KM,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Random points inside a region, where people live or uniformly by area.

    Parameters
    ----------
    region : Region or str
        A region or a `load_region` spec.
    n : int
        Number of points.
    seed : int
        Seed of the PCG64 generator: the same seed gives the same points.
    weight_by_population : bool
        If true (default), pick places of the shipped GeoNames list that lie
        in the region with probability proportional to their population, and
        put each point uniformly in a disc of radius `jitter_km` around its
        place, redrawing offsets that leave the region (after 100 tries the
        place itself is used; it is inside).  If false, or if no populated
        place lies in the region, points are uniform by area on the sphere.
    jitter_km : float, km
        Radius of the disc around each place (default `DEFAULT_JITTER_KM`).

    Returns
    -------
    lat_deg, lon_deg : float64[n], degrees
        All strictly inside the region.

    Notes
    -----
    The GeoNames list holds places of >= 15,000 people, so population-weighted
    samples represent towns and cities; villages and the countryside are
    not sampled.  The disc offset uses a local flat-Earth approximation
    (error < 0.1 % at 10 km).

    Examples
    --------
    >>> lat, lon = sample_points("oblast:Kharkiv", 3, seed=1)
    >>> lat.shape
    (3,)
    """
    region = load_region(region)
    n = int(n)
    if n < 0:
        raise ScenarioError(f"sample_points: n={n}; the number of points must be >= 0.")
    if not (jitter_km >= 0.0 and math.isfinite(jitter_km)):
        raise ScenarioError(f"sample_points: jitter_km={jitter_km!r}; give a radius >= 0 km.")
    rng = np.random.Generator(np.random.PCG64(seed))
    if n == 0:
        return np.empty(0), np.empty(0)
    if weight_by_population:
        cities = load_cities()
        inside = points_in_region(region, cities.lat_deg, cities.lon_deg) & (cities.population > 0)
        idx = np.flatnonzero(inside)
        if idx.size:
            weight = cities.population[idx].astype(np.float64)
            pick = idx[rng.choice(idx.size, size=n, p=weight / weight.sum())]
            return _jitter(region, cities.lat_deg[pick], cities.lon_deg[pick], jitter_km, rng)
    return _uniform(region, n, rng)


def _jitter(region: Region, lat0, lon0, radius_km: float, rng: np.random.Generator):
    lat, lon = lat0.copy(), lon0.copy()
    todo = np.arange(lat.size)
    for _ in range(100):
        if todo.size == 0 or radius_km == 0.0:
            break
        r = radius_km * np.sqrt(rng.uniform(0.0, 1.0, todo.size))  # uniform over the disc's area
        theta = rng.uniform(0.0, 2.0 * math.pi, todo.size)
        dlat = np.degrees(r * np.cos(theta) / MEAN_EARTH_RADIUS_KM)
        dlon = np.degrees(r * np.sin(theta) / (MEAN_EARTH_RADIUS_KM * np.cos(np.radians(lat0[todo]))))
        cand_lat = lat0[todo] + dlat
        cand_lon = (lon0[todo] + dlon + 180.0) % 360.0 - 180.0
        ok = points_in_region(region, cand_lat, cand_lon)
        lat[todo[ok]] = cand_lat[ok]
        lon[todo[ok]] = cand_lon[ok]
        todo = todo[~ok]
    return lat, lon


def sample_terminals(
    region: Region | str,
    n: int,
    *,
    seed: int,
    weight_by_population: bool = True,
    jitter_km: float = DEFAULT_JITTER_KM,
    min_elevation_deg: float = DEFAULT_MIN_ELEVATION_DEG,
    id_prefix: str | None = None,
) -> GroundSites:
    """`n` user terminals placed by `sample_points`, as `GroundSites`.

    Ids are ``"<id_prefix>:<k>"`` (default prefix: ``"ut:<region name>"``);
    ``region`` is the first-level unit (`admin1_regions` with
    ``world=True``: the geoBoundaries oblast in Ukraine, the Natural Earth
    admin-1 name elsewhere); ``country_iso2`` comes from the shipped borders.
    """
    region = load_region(region)
    lat, lon = sample_points(region, n, seed=seed, weight_by_population=weight_by_population, jitter_km=jitter_km)
    prefix = id_prefix if id_prefix is not None else f"ut:{region.name}"
    country = country_of(lat, lon) if n else []
    return GroundSites(
        role="terminal",
        ids=[f"{prefix}:{k}" for k in range(n)],
        names=[f"{region.name} terminal {k}" for k in range(n)],
        lat_deg=lat,
        lon_deg=lon,
        altitude_km=0.0,
        country_iso2=country,
        region=admin1_regions(lat, lon, country, None, world=True),
        population=0,
        min_elevation_deg=min_elevation_deg,
        antenna_count=1,
    )


def spread_around(sites: GroundSites, per_site: int, radius_km: float, seed: int) -> GroundSites:
    """``per_site`` terminals around each site, uniform over a disc of ``radius_km`` (seeded).

    Ids become ``"<site id>#<k>"``; names ``"<name> #<k>"``; every other
    column is the site's.  With ``per_site = 1`` the sites are returned as they are.

    >>> from leonet.ground.sites import sites_from_coordinates
    >>> city = sites_from_coordinates("terminal", [{"name": "A", "lat_deg": 10.0, "lon_deg": 20.0}])
    >>> many = spread_around(city, 3, 5.0, seed=1)
    >>> len(many), many.ids[1]
    (3, 'terminal:A#1')
    """
    if per_site == 1:
        return sites
    rng = np.random.default_rng(seed)
    index = np.repeat(np.arange(len(sites)), per_site)
    lat0, lon0 = sites.lat_deg[index], sites.lon_deg[index]
    r = radius_km * np.sqrt(rng.uniform(0.0, 1.0, index.size))  # uniform over the disc's area
    theta = rng.uniform(0.0, 2.0 * math.pi, index.size)
    lat = np.clip(lat0 + np.degrees(r * np.cos(theta) / MEAN_EARTH_RADIUS_KM), -90.0, 90.0)
    lon = (lon0 + np.degrees(r * np.sin(theta) / (MEAN_EARTH_RADIUS_KM * np.cos(np.radians(lat0)))) + 180.0) % 360.0 - 180.0
    k = np.tile(np.arange(per_site), len(sites))
    return sites._replace(
        ids=[f"{sites.ids[i]}#{j}" for i, j in zip(index, k)],
        names=[f"{sites.names[i]} #{j}" for i, j in zip(index, k)],
        lat_deg=lat,
        lon_deg=lon,
        altitude_km=sites.altitude_km[index],
        country_iso2=[sites.country_iso2[i] for i in index],
        region=[sites.region[i] for i in index],
        population=sites.population[index],
        min_elevation_deg=sites.min_elevation_deg[index],
        antenna_count=sites.antenna_count[index],
        band=[sites.band[i] for i in index] if sites.band else [],
        extra={name: np.asarray(v)[index] for name, v in sites.extra.items()},
    )
