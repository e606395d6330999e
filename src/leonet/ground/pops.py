"""Points of presence: each terminal's home PoP, each gateway's PoP, and the fibre delay to them.

Starlink assigns every customer a PoP by country (and, in a few large
countries, by region): `home_pops` reads that assignment (Starlink's geoip
feed and reverse DNS, shipped).  Traffic reaches the home PoP over the
satellites, down at any gateway and then over terrestrial fibre:
``great-circle x route_factor / (c / refractive_index)`` (`backhaul_delay_s`).
In the older "nearest" mode each gateway backhauls to one PoP
(``ground.pops.assignment``, else the great-circle-nearest: `assign_pops`)
and a terminal's traffic leaves at whichever PoP is nearest in delay.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..constants import C_KM_S
from ..errors import ScenarioError
from .sites import great_circle_km, nearest

__all__ = ["assign_pops", "backhaul_delay_s", "home_pops", "HomeLocator", "HOME_BOX_DEG", "pop_assignment_table", "pop_site_codes"]


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
    gateways,
    pops,
    gateway_pop: NDArray[np.int64],
    route_factor: float = 1.5,
    refractive_index: float = 1.468,
    gateway: NDArray[np.int64] | None = None,
) -> NDArray[np.float64]:
    """One-way terrestrial delay of backhaul links, s.

    ``great_circle_km x route_factor / (c / refractive_index)``: fibre runs
    about 1.5 times the great-circle distance, and light in silica fibre
    travels at ``c / 1.468`` (group index of SMF-28 at 1550 nm).

    Parameters
    ----------
    gateways, pops : GroundSites
    gateway_pop : int64[K]
        The PoP end of each link.
    route_factor, refractive_index : float
    gateway : int64[K], optional
        The gateway end of each link (default: link k is gateway k).

    Returns
    -------
    delay_s : float64[K], s
    """
    if len(gateways) == 0:
        return np.zeros(0, dtype=np.float64)
    gw = np.arange(len(gateways)) if gateway is None else np.asarray(gateway, dtype=np.int64)
    d = great_circle_km(gateways.lat_deg[gw], gateways.lon_deg[gw], pops.lat_deg[gateway_pop], pops.lon_deg[gateway_pop])
    return d * route_factor * refractive_index / C_KM_S


#: Starlink's own assignment of customers to PoPs, by country and, for some
#: countries, by first-level region: from its geoip feed and reverse DNS
#: (leonet/data/SOURCES.md, "PoP assignment").
POP_ASSIGNMENT_FILE = ("gateways", "starlink_pop_assignment_2026-10.csv")


@lru_cache(maxsize=1)
def pop_assignment_table() -> dict[tuple[str, str], str]:
    """(country ISO2, region ISO 3166-2 or "") -> PoP site code, the largest share of each.

    Ties in share go to the PoP whose reverse DNS agrees most with the feed
    (a PoP announced but not yet used has no agreement), then to the code.
    """
    import csv

    from .names import data_path

    best: dict[tuple[str, str], tuple[float, float, str]] = {}
    with open(data_path(*POP_ASSIGNMENT_FILE), newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            key = (row["country_iso2"].strip().upper(), row["region_iso3166_2"].strip().upper())
            rank = (float(row["share"]), float(row["ptr_agree_share"] or 0.0), row["pop_code"].strip().lower())
            if key not in best or rank[:2] > best[key][:2] or (rank[:2] == best[key][:2] and rank[2] < best[key][2]):
                best[key] = rank
    return {k: v[2] for k, v in best.items()}


def pop_site_codes(pops) -> list[set[str]]:
    """The site codes each PoP answers to, lower case: its id and the codes in its name (``"FRA - FRNTDEU1"``)."""
    out = []
    for pid, name in zip(pops.ids, pops.names):
        head, _, site = name.partition(" - ")
        codes = {pid.strip().lower(), *(c.strip().lower() for c in head.split("/") if c.strip())}
        if site.strip():
            codes.add(site.strip().lower())
        out.append(codes)
    return out


#: ISO 3166-2 subdivisions that also have an ISO 3166-1 alpha-2 code of their own (ISO 3166-1
#: lists France's overseas departments as countries; Natural Earth's borders put them in France).
OWN_COUNTRY_CODE = {"FR-GP": "GP", "FR-MQ": "MQ", "FR-GF": "GF", "FR-RE": "RE", "FR-YT": "YT"}
OWN_CODES_IN = {code.split("-")[0] for code in OWN_COUNTRY_CODE}


def _pop_lookup(pops) -> tuple[dict[tuple[str, str], str], dict[str, int], set[str]]:
    """Starlink's assignment table, the run's PoP index of each site code, and the countries assigned by region."""
    if len(pops) == 0:
        raise ScenarioError("terminals need a PoP; add [ground.pops] to the scenario")
    table = pop_assignment_table()
    by_code: dict[str, int] = {}
    for k, codes in enumerate(pop_site_codes(pops)):
        for c in codes:
            by_code.setdefault(c, k)
    regional = {c for c, r in table if r} | set(OWN_CODES_IN)
    return table, by_code, regional


def _homes_of(countries, codes, lat_deg, lon_deg, pops, lookup, unassigned: set, absent: set) -> NDArray[np.int64]:
    """Home PoP of points with known (country, region code); the great-circle-nearest PoP where Starlink's table
    has none or names a PoP the run lacks (collected in ``unassigned``, ``absent``)."""
    table, by_code, _ = lookup
    g = len(countries)
    home = np.full(g, -1, dtype=np.int64)
    for t in range(g):
        site = table.get((countries[t], codes[t])) or table.get((countries[t], ""))
        if site is None:
            unassigned.add(countries[t] or "(no country)")
        elif site not in by_code:
            absent.add(site)
        else:
            home[t] = by_code[site]
    missing = np.flatnonzero(home < 0)
    if missing.size:
        d = great_circle_km(np.asarray(lat_deg)[missing, None], np.asarray(lon_deg)[missing, None],
                            pops.lat_deg[None, :], pops.lon_deg[None, :])
        home[missing] = np.argmin(d, axis=1)  # ties: the lower index, as `nearest`
    return home


def _fallback_notes(unassigned: set, absent: set) -> list[str]:
    notes = []
    if unassigned:
        notes.append(
            f"PoP assignment: no Starlink assignment for {', '.join(sorted(unassigned))}; those terminals use the "
            "nearest PoP"
        )
    if absent:
        notes.append(
            f"PoP assignment: the assigned PoP(s) {', '.join(sorted(absent))} are not among the run's PoPs; those "
            "terminals use the nearest PoP of the run"
        )
    return notes


def home_pops(terminals, pops) -> tuple[NDArray[np.int64], list[str]]:
    """Each terminal's home PoP, as Starlink assigns it: by country (and region where the feed has one).

    Parameters
    ----------
    terminals, pops : leonet.ground.sites.GroundSites

    Returns
    -------
    home : int64[G]
        Index among ``pops`` of each terminal's PoP.  A terminal whose
        country has no assignment (at sea, a country Starlink does not
        serve) or whose assigned PoP is not among ``pops`` goes to the
        great-circle-nearest of ``pops``.
    notes : list of str
        One line per fallback kind, for the run's notes.

    Examples
    --------
    >>> from leonet.ground.sites import load_pops, sites_from_coordinates
    >>> pops = load_pops(catalog="2026-10")
    >>> t = sites_from_coordinates("terminal", [{"name": "Kyiv", "lat_deg": 50.45, "lon_deg": 30.52},
    ...                                         {"name": "Victoria", "lat_deg": 48.43, "lon_deg": -123.37}])
    >>> [pops.ids[i] for i in home_pops(t, pops)[0]]
    ['wrswpol1', 'sttlwax1']
    """
    g = len(terminals)
    lookup = _pop_lookup(pops)
    regional = lookup[2]
    countries = [c.strip().upper() for c in terminals.country_iso2]
    codes = [""] * g
    need_region = [t for t in range(g) if countries[t] in regional]
    if need_region:
        from .regions import admin1_codes_of

        found = admin1_codes_of(terminals.lat_deg[need_region], terminals.lon_deg[need_region])
        for t, code in zip(need_region, found):
            codes[t] = code.upper()
            # A subdivision that ISO 3166-1 also codes as a country (France's overseas departments)
            # is its own country in Starlink's feed.
            countries[t] = OWN_COUNTRY_CODE.get(codes[t], countries[t])
    unassigned, absent = set(), set()
    home = _homes_of(countries, codes, terminals.lat_deg, terminals.lon_deg, pops, lookup, unassigned, absent)
    return home, _fallback_notes(unassigned, absent)


#: Side of the longitude/latitude boxes `HomeLocator` remembers, degrees (~28 x 18 km at 50 N).
HOME_BOX_DEG = 0.25


class HomeLocator:
    """The home PoP of a terminal standing at any point: `home_pops` for positions (moving terminals).

    A moving terminal's country and region are those of the point it is at
    (`leonet.ground.regions.country_of`, then `admin1_codes_of` where
    Starlink assigns by region), so it changes PoP when it crosses a border,
    as a fixed terminal standing there would have it: for any point,
    ``home_at`` equals `home_pops` of a ``coordinates`` terminal there.

    Cost: the border files are searched per point only near borders and
    coasts.  The answer for a whole `HOME_BOX_DEG` box is remembered when one
    country (and one region, where it matters) holds the whole box
    (`leonet.ground.regions.country_of_box`, `admin1_code_of_box`); points of
    other boxes are looked up one by one.  The memory only skips work: the
    answers are the same bits whatever was asked before (chunk-independent).

    Parameters
    ----------
    pops : leonet.ground.sites.GroundSites

    Examples
    --------
    >>> from leonet.ground.sites import load_pops
    >>> pops = load_pops(catalog="2026-10")
    >>> where = HomeLocator(pops)
    >>> [pops.ids[i] for i in where.home_at([50.45, 48.43], [30.52, -123.37])]      # Kyiv, Victoria BC
    ['wrswpol1', 'sttlwax1']
    >>> where.home_at([float("nan")], [0.0]).tolist()                                  # no position
    [-1]
    """

    def __init__(self, pops):
        self.pops = pops
        self._lookup = _pop_lookup(pops)
        self._boxes: dict[int, tuple[str, str] | None] = {}
        self.unassigned: set[str] = set()
        self.absent: set[str] = set()

    def _box_label(self, key: int) -> tuple[str, str] | None:
        """(country, region code) of every point of box ``key``, or None when they may differ."""
        from .regions import admin1_code_of_box, country_of_box

        i, j = divmod(int(key), _BOX_COLUMNS)
        lat0, lon0 = (i - _BOX_ROWS_HALF) * HOME_BOX_DEG, (j - _BOX_COLUMNS // 2) * HOME_BOX_DEG
        box = (lon0, lat0, lon0 + HOME_BOX_DEG, lat0 + HOME_BOX_DEG)
        country = country_of_box(*box)
        if country is None or country not in self._lookup[2]:
            return None if country is None else (country, "")
        code = admin1_code_of_box(*box)
        if code is None:
            return None
        code = code.upper()
        return OWN_COUNTRY_CODE.get(code, country), code

    def labels(self, lat_deg: ArrayLike, lon_deg: ArrayLike) -> tuple[list[str], list[str]]:
        """(country ISO2, region ISO 3166-2 or "") of each point, as `home_pops` reads a terminal there."""
        from .regions import admin1_codes_of, country_of

        lat = np.asarray(lat_deg, dtype=np.float64).ravel()
        lon = np.asarray(lon_deg, dtype=np.float64).ravel()
        n = lat.size
        countries, codes = [""] * n, [""] * n
        ok = np.isfinite(lat) & np.isfinite(lon)
        idx = np.flatnonzero(ok)
        i = np.floor(lat[idx] / HOME_BOX_DEG).astype(np.int64) + _BOX_ROWS_HALF
        j = np.floor(lon[idx] / HOME_BOX_DEG).astype(np.int64) + _BOX_COLUMNS // 2
        keys = i * _BOX_COLUMNS + j
        uniq, inverse = np.unique(keys, return_inverse=True)
        found = []
        for key in uniq.tolist():
            if key not in self._boxes:
                self._boxes[key] = self._box_label(key)
            found.append(self._boxes[key])
        exact = []
        for p, u in zip(idx.tolist(), inverse.tolist()):
            if found[u] is None:
                exact.append(p)
            else:
                countries[p], codes[p] = found[u]
        if exact:
            regional = self._lookup[2]
            for p, c in zip(exact, country_of(lat[exact], lon[exact])):
                countries[p] = c
            need = [p for p in exact if countries[p] in regional]
            if need:
                for p, code in zip(need, admin1_codes_of(lat[need], lon[need])):
                    codes[p] = code.upper()
                    countries[p] = OWN_COUNTRY_CODE.get(codes[p], countries[p])
        return countries, codes

    def home_at(self, lat_deg: ArrayLike, lon_deg: ArrayLike) -> NDArray[np.int64]:
        """Home PoP (index among the PoPs) of a terminal at each point: int64[N], -1 where the position is NaN."""
        lat = np.asarray(lat_deg, dtype=np.float64).ravel()
        lon = np.asarray(lon_deg, dtype=np.float64).ravel()
        out = np.full(lat.size, -1, dtype=np.int64)
        ok = np.flatnonzero(np.isfinite(lat) & np.isfinite(lon))
        if ok.size == 0:
            return out
        countries, codes = self.labels(lat[ok], lon[ok])
        # One table look-up per distinct label; the nearest PoP (at sea, unserved countries) per point.
        label = np.array([f"{c}|{r}" for c, r in zip(countries, codes)], dtype=object)
        _, first, inverse = np.unique(label, return_index=True, return_inverse=True)
        site = _homes_of([countries[k] for k in first], [codes[k] for k in first], lat[ok][first], lon[ok][first],
                         self.pops, self._lookup, self.unassigned, self.absent)
        table, by_code, _ = self._lookup
        home = site[inverse]
        assigned = np.array([
            (table.get((countries[k], codes[k])) or table.get((countries[k], ""))) in by_code for k in first.tolist()
        ], dtype=bool)[inverse]
        far = np.flatnonzero(~assigned)
        if far.size:
            d = great_circle_km(lat[ok][far, None], lon[ok][far, None], self.pops.lat_deg[None, :], self.pops.lon_deg[None, :])
            home[far] = np.argmin(d, axis=1)
        out[ok] = home
        return out

    def notes(self) -> list[str]:
        """The fallbacks met so far (as `home_pops` notes them)."""
        return _fallback_notes(self.unassigned, self.absent)


#: Box grid of `HomeLocator`: rows of latitude, columns of longitude (keys ``row * columns + column``).
_BOX_ROWS_HALF = int(round(90.0 / HOME_BOX_DEG)) + 1
_BOX_COLUMNS = 2 * (int(round(180.0 / HOME_BOX_DEG)) + 2)
