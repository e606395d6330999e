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

from collections.abc import Mapping
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..constants import C_KM_S
from ..errors import ScenarioError
from .sites import great_circle_km, nearest, unit_vectors

__all__ = [
    "assign_pops", "backhaul_delay_s", "check_pop_overrides", "home_pops", "HomeLocator", "HOME_BOX_DEG",
    "pop_assignment_table", "pop_site_codes", "POP_ASSIGNMENT_FILES", "POP_ASSIGNMENT_SNAPSHOTS",
    "assignment_snapshot_for",
]


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
#: countries, by first-level region: from its geoip feed and reverse DNS, one
#: table per shipped snapshot month (leonet/data/gateways/SOURCES-2026.md).
POP_ASSIGNMENT_FILES = {
    "2025-12": ("gateways", "starlink_pop_assignment_2025-12.csv"),  # snapshot of 2025-12-15
    "2026-10": ("gateways", "starlink_pop_assignment_2026-10.csv"),  # snapshot of 2026-10-08
}
#: The shipped snapshot months, oldest first.
POP_ASSIGNMENT_SNAPSHOTS = tuple(sorted(POP_ASSIGNMENT_FILES))


def assignment_snapshot_for(choice: str | None = "auto", start_utc=None) -> str:
    """The shipped assignment snapshot a run uses (``ground.pops.assignment_snapshot``).

    Parameters
    ----------
    choice : str or None
        A snapshot month (``"2025-12"``, ``"2026-10"``), or ``"auto"``/None:
        the newest snapshot whose month is not after the month of
        ``start_utc``, the oldest when every snapshot is later; the newest
        when ``start_utc`` is None.
    start_utc : datetime.datetime, optional
        The run's first instant (UTC).

    Raises
    ------
    ScenarioError
        For a month that is not shipped.

    Examples
    --------
    >>> import datetime as dt
    >>> assignment_snapshot_for("auto", dt.datetime(2025, 12, 1)), assignment_snapshot_for("auto", dt.datetime(2026, 11, 2))
    ('2025-12', '2026-10')
    >>> assignment_snapshot_for("auto", dt.datetime(2024, 1, 1)), assignment_snapshot_for("2026-10", dt.datetime(2025, 12, 1))
    ('2025-12', '2026-10')
    """
    if choice in (None, "auto"):
        if start_utc is None:
            return POP_ASSIGNMENT_SNAPSHOTS[-1]
        month = f"{start_utc.year:04d}-{start_utc.month:02d}"
        earlier = [s for s in POP_ASSIGNMENT_SNAPSHOTS if s <= month]
        return earlier[-1] if earlier else POP_ASSIGNMENT_SNAPSHOTS[0]
    if choice not in POP_ASSIGNMENT_FILES:
        raise ScenarioError(
            f"ground.pops.assignment_snapshot: {choice!r} is no shipped snapshot of Starlink's PoP assignment; "
            f"use one of {', '.join(repr(s) for s in ('auto', *POP_ASSIGNMENT_SNAPSHOTS))}"
        )
    return choice


def pop_assignment_table(snapshot: str | None = None) -> dict[tuple[str, str], str]:
    """(country ISO2, region ISO 3166-2 or "") -> PoP site code, the largest share of each.

    ``snapshot`` is a shipped month (`POP_ASSIGNMENT_SNAPSHOTS`); None = the newest.
    Ties in share go to the PoP whose reverse DNS agrees most with the feed
    (a PoP announced but not yet used has no agreement), then to the code.

    Examples
    --------
    >>> pop_assignment_table("2025-12")[("SN", "")], pop_assignment_table("2026-10")[("SN", "")]
    ('lgosnga1', 'dkrrsen1')
    """
    return _assignment_table(assignment_snapshot_for(snapshot))


@lru_cache(maxsize=None)
def _assignment_table(month: str) -> dict[tuple[str, str], str]:
    """`pop_assignment_table` of a resolved snapshot month (read once per month, however it was named)."""
    import csv

    from .names import data_path

    path = POP_ASSIGNMENT_FILES[month]
    best: dict[tuple[str, str], tuple[float, float, str]] = {}
    with open(data_path(*path), newline="", encoding="utf-8") as f:
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


def check_pop_overrides(overrides: Mapping[str, str], pops, snapshot: str | None = None) -> dict[str, int]:
    """``ground.pops.country_pop`` checked: place code (upper case) -> index among ``pops``.

    ``snapshot``: the assignment snapshot whose countries and regions are valid keys too
    (`pop_assignment_table`; None = the newest).

    Raises
    ------
    ScenarioError
        For a key that is no ISO 3166-1 alpha-2 country or ISO 3166-2
        region of the shipped borders, or a PoP that is not among ``pops``.

    Examples
    --------
    >>> from leonet.ground.sites import load_pops
    >>> pops = load_pops(names=["FRA", "WAW"])
    >>> check_pop_overrides({"ua": "FRA"}, pops)
    {'UA': 0}
    >>> check_pop_overrides({"UK": "FRA"}, pops)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    leonet.errors.ScenarioError: ground.pops.country_pop: 'UK' is no ISO 3166-1 alpha-2 country ...
    """
    if not overrides:
        return {}  # nothing to check: the border files are not read
    from .regions import place_codes
    from .names import suggest

    countries, regions = place_codes()
    table = pop_assignment_table(snapshot)
    countries = countries | {c for c, _ in table} | set(OWN_COUNTRY_CODE.values())
    regions = regions | {r for _, r in table if r}
    codes = pop_site_codes(pops)
    out = {}
    for place, pop in overrides.items():
        key = place.strip().upper()
        if key not in countries and key not in regions:
            close = suggest(key, sorted(countries | regions))
            raise ScenarioError(
                f"ground.pops.country_pop: {place!r} is no ISO 3166-1 alpha-2 country (\"UA\") or ISO 3166-2 region "
                f"(\"US-WA\") of the shipped borders" + (f"; close matches: {', '.join(close)}" if close else "")
                + (" (the United Kingdom is GB)" if key == "UK" else "")
            )
        want = str(pop).strip().lower()
        hit = [k for k, c in enumerate(codes) if want in c]
        if not hit:
            raise ScenarioError(
                f"ground.pops.country_pop.{place}: the run has no PoP {pop!r} (ids and site codes look like "
                f"{', '.join(pops.ids[:3])}; leonet sites pops lists them, and [ground.pops] ids/names select them)"
            )
        out[key] = hit[0]
    return out


class _Lookup(NamedTuple):
    """What `home_pops` and `HomeLocator` look a terminal's PoP up in (`_pop_lookup`)."""

    #: (country, region code or "") -> site code: Starlink's table with the user's overrides.
    table: dict[tuple[str, str], str]
    #: Site code -> index among the run's PoPs.
    by_code: dict[str, int]
    #: Countries whose terminals need their region code (assigned by region, or with regions of their own).
    regional: set[str]
    #: Country assigned by region -> the run's PoPs (sorted indices) its regions exit at: the candidates of a
    #: point in one of its regions the table does not list (`_nearest_regional`).
    region_pops: dict[str, NDArray[np.int64]]

    def unlisted_region(self, country: str, code: str) -> bool:
        """Whether a (country, region code) label takes the nearest of its country's regional PoPs: the
        country is assigned by region and the table lists no entry for the label's region (or it has none)."""
        return country in self.region_pops and (not code or (country, code) not in self.table)

    def site(self, country: str, code: str) -> str | None:
        """The site code the table assigns a label: its region's entry, else its country's; None if neither."""
        return self.table.get((country, code)) or self.table.get((country, ""))

    def note_fallback(self, country: str, site: str | None, unassigned: set, absent: set) -> None:
        """Collect a label whose PoP falls back to the nearest: no assignment, or a site the run lacks."""
        if site is None:
            unassigned.add(country or "(no country)")
        elif site not in self.by_code:
            absent.add(site)


def _pop_lookup(pops, overrides: Mapping[str, str] | None = None, snapshot: str | None = None) -> _Lookup:
    """Starlink's assignment table with the user's ``overrides`` applied, the run's PoP index of each site code,
    the countries assigned by region and the PoPs of their regions."""
    if len(pops) == 0:
        raise ScenarioError("terminals need a PoP; add [ground.pops] to the scenario")
    table = dict(pop_assignment_table(snapshot))
    _borrow_from_other_snapshots(table, assignment_snapshot_for(snapshot))
    by_code: dict[str, int] = {}
    for k, codes in enumerate(pop_site_codes(pops)):
        for c in codes:
            by_code.setdefault(c, k)
    # The user's overrides become entries of the table that name a PoP of the run by its id.
    forced = check_pop_overrides(overrides or {}, pops, snapshot)
    for place, pop in forced.items():
        country, _, region = place.partition("-")
        if not region:
            # A country's override replaces its regional entries (unless they are overridden themselves).
            for key in [k for k in table if k[0] == country and k[1] and k[1] not in forced]:
                del table[key]
        table[(country, place if region else "")] = pops.ids[pop].strip().lower()
        by_code[pops.ids[pop].strip().lower()] = pop
    inherited = _inherit_sovereign_homes(table)
    regional = {c for c, r in table if r} | set(OWN_CODES_IN)
    region_pops: dict[str, set[int]] = {}
    for (country, region), site in table.items():
        if region and site in by_code:
            region_pops.setdefault(country, set()).add(by_code[site])
    # A dependency of a country assigned by region is one of its regions the table does not list.
    for dependency, sovereign in inherited.items():
        if sovereign in region_pops:
            region_pops[dependency] = region_pops[sovereign]
    return _Lookup(table, by_code, regional,
                   {c: np.array(sorted(k), dtype=np.int64) for c, k in region_pops.items()})


def _nearest_regional(candidates: NDArray[np.int64], lat_deg, lon_deg, pops) -> NDArray[np.int64]:
    """The great-circle-nearest of ``candidates`` (PoP indices) to each point (ties: the lower index).

    The rule for a point of a country Starlink assigns by region whose
    region the table does not list (Australia's Cocos and Christmas Islands
    and its Northern Territory; Brazil's states other than CE, DF and SP):
    it exits at the nearest of the PoPs the country's listed regions exit at,
    not at the country's most frequent PoP.  Starlink splits a country by
    region to keep each region's traffic near it; the country's own PoPs
    nearest the point are where that logic sends it (Christmas Island: Perth,
    2,600 km, not Sydney, 5,300 km).  docs/design.md, "PoP assignment".
    """
    d = great_circle_km(np.asarray(lat_deg, dtype=np.float64).reshape(-1, 1),
                        np.asarray(lon_deg, dtype=np.float64).reshape(-1, 1),
                        pops.lat_deg[candidates][None, :], pops.lon_deg[candidates][None, :])
    return candidates[np.argmin(d, axis=1)]


def _borrow_from_other_snapshots(table: dict[tuple[str, str], str], snapshot: str) -> None:
    """Give a country absent from ``snapshot``'s feed its entries in the nearest other shipped snapshot (in place).

    A country can drop out of one geofeed snapshot and be in the next (Saint
    Helena and the U.S. Minor Outlying Islands are not in 2025-12's feed, in
    2026-10's they exit at Lagos and Los Angeles): the same place's
    assignment a few months away is better evidence than any rule.  Nearest
    in months first, the newer on a tie.
    """
    have = {country for country, _ in table}
    order = sorted((s for s in POP_ASSIGNMENT_SNAPSHOTS if s != snapshot),
                   key=lambda s: (abs(_months(s) - _months(snapshot)), -_months(s)))
    for other in order:
        for (country, region), site in pop_assignment_table(other).items():
            if country not in have:
                table[(country, region)] = site
        have = {country for country, _ in table}


def _months(snapshot: str) -> int:
    """A snapshot month ``"YYYY-MM"`` as a month count."""
    year, month = snapshot.split("-")
    return 12 * int(year) + int(month)


def _inherit_sovereign_homes(table: dict[tuple[str, str], str]) -> dict[str, str]:
    """Give a dependency absent from Starlink's feed its sovereign country's PoP (in place).

    Starlink licenses and prices a dependency under its sovereign (Norfolk
    Island is served as Australia, and is not in the geoip feed); the nearest
    PoP -- the fallback for places with no assignment -- can be another
    country's (Auckland for Norfolk Island: 20 % too fast against Starlink's
    published median, within 3-7 % with Australia's PoP; docs/design.md).
    Entries already in the table (the feed's or the user's overrides) win; an
    override of the sovereign is inherited.  Where the sovereign is assigned
    by region, `_pop_lookup` makes the dependency one of its unlisted regions
    (the nearest of its regional PoPs: Brisbane for Norfolk Island).

    Returns
    -------
    dict of str to str
        Dependency -> sovereign, for the entries added.
    """
    from .regions import sovereign_of_dependencies

    added = {}
    for dependency, sovereign in sovereign_of_dependencies().items():
        if (dependency, "") not in table and (sovereign, "") in table:
            table[(dependency, "")] = table[(sovereign, "")]
            added[dependency] = sovereign
    return added


def _homes_of(countries, codes, lat_deg, lon_deg, pops, lookup, unassigned: set, absent: set) -> NDArray[np.int64]:
    """Home PoP of points with known (country, region code); the nearest of the country's regional PoPs where the
    table lists the country by region but not the point's region (`_nearest_regional`); the great-circle-nearest
    PoP where Starlink's table has none or names a PoP the run lacks (collected in ``unassigned``, ``absent``)."""
    g = len(countries)
    home = np.full(g, -1, dtype=np.int64)
    unlisted: dict[str, list[int]] = {}  # country -> its points in regions the table does not list
    for t in range(g):
        if lookup.unlisted_region(countries[t], codes[t]):
            unlisted.setdefault(countries[t], []).append(t)
            continue
        site = lookup.site(countries[t], codes[t])
        if site in lookup.by_code:
            home[t] = lookup.by_code[site]
        else:
            lookup.note_fallback(countries[t], site, unassigned, absent)
    for country, points in unlisted.items():
        home[points] = _nearest_regional(lookup.region_pops[country], np.asarray(lat_deg)[points],
                                         np.asarray(lon_deg)[points], pops)
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


def home_pops(terminals, pops, overrides: Mapping[str, str] | None = None,
              snapshot: str | None = None) -> tuple[NDArray[np.int64], list[str]]:
    """Each terminal's home PoP, as Starlink assigns it: by country (and region where the feed has one).

    Parameters
    ----------
    terminals, pops : leonet.ground.sites.GroundSites
    overrides : mapping of str to str, optional
        Country (ISO 3166-1 alpha-2, ``"UA"``) or region (ISO 3166-2,
        ``"US-WA"``) -> PoP id or site code among ``pops``
        (``ground.pops.country_pop``): replaces the shipped assignment there,
        a region's entry winning over its country's.  Checked by
        `check_pop_overrides`.
    snapshot : str, optional
        The month of Starlink's assignment (`POP_ASSIGNMENT_SNAPSHOTS`;
        ``ground.pops.assignment_snapshot`` resolved by
        `assignment_snapshot_for`); None = the newest.

    Returns
    -------
    home : int64[G]
        Index among ``pops`` of each terminal's PoP.  In a country the
        table lists by region, a terminal in a region it does not list goes
        to the nearest of the PoPs the listed regions exit at
        (`_nearest_regional`).  A terminal whose country has no assignment
        (at sea, a country Starlink does not serve) or whose assigned PoP is
        not among ``pops`` goes to the great-circle-nearest of ``pops``.
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
    lookup = _pop_lookup(pops, overrides, snapshot)
    regional = lookup.regional
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


#: Side of the largest longitude/latitude boxes `HomeLocator` remembers, degrees (~28 x 18 km at 50 N).
HOME_BOX_DEG = 0.25
#: Levels of boxes: a box that straddles a border or a coast is split in four, down to
#: HOME_BOX_DEG / 2**(HOME_BOX_LEVELS - 1) (~1.7 km): only points that close to a border are looked up one by one.
HOME_BOX_LEVELS = 5


class HomeLocator:
    """The home PoP of a terminal standing at any point: `home_pops` for positions (moving terminals).

    A moving terminal's country and region are those of the point it is at
    (`leonet.ground.regions.country_of`, then `admin1_codes_of` where
    Starlink assigns by region), so it changes PoP when it crosses a border,
    as a fixed terminal standing there would have it: for any point,
    ``home_at`` equals `home_pops` of a ``coordinates`` terminal there.

    Cost: the border files are searched per point only very near borders and
    coasts.  The home of a whole box is remembered when every (country,
    region) its points can have (`leonet.ground.regions.countries_in_box`,
    `admin1_codes_in_box`) gives the same PoP; a box that straddles a border
    of PoPs is split in four, `HOME_BOX_LEVELS` times, from `HOME_BOX_DEG`
    down; points of the smallest boxes that still straddle one are looked up
    one by one.  Where no PoP is assigned (at sea, countries
    Starlink does not serve) the nearest PoP is found with a k-d tree of the
    PoPs' unit vectors (the chord orders like the great circle; near-ties
    are settled by the great-circle distances, as `home_pops` does).  The
    memory only skips work: the answers are the same bits whatever was asked
    before (chunk-independent).

    Parameters
    ----------
    pops : leonet.ground.sites.GroundSites
    overrides : mapping of str to str, optional
        ``ground.pops.country_pop``, as `home_pops` takes it.
    snapshot : str, optional
        The month of Starlink's assignment, as `home_pops` takes it.

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

    def __init__(self, pops, overrides: Mapping[str, str] | None = None, snapshot: str | None = None):
        from scipy.spatial import cKDTree

        self.pops = pops
        self._lookup = _pop_lookup(pops, overrides, snapshot)
        self._regional_countries = sorted(self._lookup.region_pops)
        self._regional_index = {c: k for k, c in enumerate(self._regional_countries)}
        self._boxes: dict[int, int] = {}  # box key -> home PoP, _NEAREST or _EXACT
        self.unassigned: set[str] = set()
        self.absent: set[str] = set()
        self._pop_tree = cKDTree(unit_vectors(pops.lat_deg, pops.lon_deg).reshape(-1, 3))

    # -- labels -----------------------------------------------------------------

    def _label_home(self, country: str, code: str, note: bool) -> int:
        """The assigned PoP of a label; `_NEAREST` where the nearest PoP decides (noted when ``note``), or the
        country's `_REGIONAL` marker where the nearest of its regional PoPs does."""
        if self._lookup.unlisted_region(country, code):
            return _REGIONAL - self._regional_index[country]
        site = self._lookup.site(country, code)
        if site in self._lookup.by_code:
            return self._lookup.by_code[site]
        if note:
            self._lookup.note_fallback(country, site, self.unassigned, self.absent)
        return _NEAREST

    def _box_home(self, level: int, i: int, j: int) -> int:
        """The home every point of a box gets: a PoP, `_NEAREST` (the nearest PoP, per point) or `_EXACT` (they differ)."""
        from .regions import admin1_codes_in_box, countries_in_box

        size = HOME_BOX_DEG / 2**level
        lat0, lon0 = (i - _ROWS_HALF[level]) * size, (j - _COLUMNS_HALF[level]) * size
        box = (lon0, lat0, lon0 + size, lat0 + size)
        labels = set()
        codes = None
        for country in countries_in_box(*box):
            if country not in self._lookup.regional:
                labels.add((country, ""))
                continue
            codes = admin1_codes_in_box(*box) if codes is None else codes
            labels.update((OWN_COUNTRY_CODE.get(c.upper(), country), c.upper()) for c in codes)
        homes = {self._label_home(c, r, note=len(labels) == 1) for c, r in labels}
        return homes.pop() if len(homes) == 1 else _EXACT

    def _box_homes(self, lat: NDArray[np.float64], lon: NDArray[np.float64]) -> NDArray[np.int64]:
        """Home of each (finite) point from the boxes: a PoP, `_NEAREST`, or `_EXACT` where even the smallest box
        holds points of different homes."""
        out = np.full(lat.size, _EXACT, dtype=np.int64)
        todo = np.arange(lat.size)
        for level in range(HOME_BOX_LEVELS):
            if todo.size == 0:
                break
            size = HOME_BOX_DEG / 2**level
            i = np.floor(lat[todo] / size).astype(np.int64) + _ROWS_HALF[level]
            j = np.floor(lon[todo] / size).astype(np.int64) + _COLUMNS_HALF[level]
            uniq, inverse = np.unique((level << 42) | (i << 21) | j, return_inverse=True)
            homes = np.empty(uniq.size, dtype=np.int64)
            for u, key in enumerate(uniq.tolist()):
                if key not in self._boxes:
                    self._boxes[key] = self._box_home(level, (key >> 21) & _MASK21, key & _MASK21)
                homes[u] = self._boxes[key]
            got = homes[inverse.reshape(-1)]
            out[todo] = got
            todo = todo[got == _EXACT]
        return out

    def _exact_homes(self, lat: NDArray[np.float64], lon: NDArray[np.float64]) -> NDArray[np.int64]:
        """Homes of points looked up one by one (`country_of`, then `admin1_codes_of` where needed): a PoP or `_NEAREST`."""
        from .regions import admin1_codes_of, country_of

        countries = country_of(lat, lon) if lat.size else []
        codes = [""] * lat.size
        need = [p for p in range(lat.size) if countries[p] in self._lookup.regional]
        if need:
            for p, code in zip(need, admin1_codes_of(lat[need], lon[need])):
                codes[p] = code.upper()
                countries[p] = OWN_COUNTRY_CODE.get(codes[p], countries[p])
        memo: dict[tuple[str, str], int] = {}
        out = np.empty(lat.size, dtype=np.int64)
        for p, label in enumerate(zip(countries, codes)):
            if label not in memo:
                memo[label] = self._label_home(*label, note=True)
            out[p] = memo[label]
        return out

    # -- homes ------------------------------------------------------------------

    def _nearest(self, lat: NDArray[np.float64], lon: NDArray[np.float64]) -> NDArray[np.int64]:
        """The great-circle-nearest PoP of each point (ties: the lower index), as `nearest` gives it."""
        k = min(2, len(self.pops))
        dist, idx = self._pop_tree.query(unit_vectors(lat, lon).reshape(-1, 3), k=k)
        dist, idx = dist.reshape(lat.size, k), idx.reshape(lat.size, k)
        out = idx[:, 0].astype(np.int64)
        # Chord and great circle order the PoPs alike; where two are (nearly) as close, the great circle decides.
        close = np.flatnonzero(dist[:, -1] - dist[:, 0] <= 1e-9) if k > 1 else np.zeros(0, np.int64)
        if close.size:
            d = great_circle_km(lat[close, None], lon[close, None], self.pops.lat_deg[None, :], self.pops.lon_deg[None, :])
            out[close] = np.argmin(d, axis=1)
        return out

    def home_at(self, lat_deg: ArrayLike, lon_deg: ArrayLike) -> NDArray[np.int64]:
        """Home PoP (index among the PoPs) of a terminal at each point: int64[N], -1 where the position is NaN."""
        lat = np.asarray(lat_deg, dtype=np.float64).ravel()
        lon = np.asarray(lon_deg, dtype=np.float64).ravel()
        home = np.full(lat.size, -1, dtype=np.int64)
        ok = np.flatnonzero(np.isfinite(lat) & np.isfinite(lon))
        got = self._box_homes(lat[ok], lon[ok])
        exact = np.flatnonzero(got == _EXACT)
        if exact.size:
            got[exact] = self._exact_homes(lat[ok][exact], lon[ok][exact])
        far = np.flatnonzero(got == _NEAREST)  # at sea, or a country without an assigned PoP of the run
        if far.size:
            got[far] = self._nearest(lat[ok][far], lon[ok][far])
        for k in np.unique(got[got <= _REGIONAL]).tolist():  # regions the table does not list
            here = np.flatnonzero(got == k)
            country = self._regional_countries[_REGIONAL - k]
            got[here] = _nearest_regional(self._lookup.region_pops[country], lat[ok][here], lon[ok][here], self.pops)
        home[ok] = got
        return home

    def notes(self) -> list[str]:
        """The fallbacks met so far (as `home_pops` notes them)."""
        return _fallback_notes(self.unassigned, self.absent)


#: Box grid of `HomeLocator` per level: offsets that make row and column indices non-negative.
_ROWS_HALF = [int(round(90.0 * 2**k / HOME_BOX_DEG)) + 1 for k in range(HOME_BOX_LEVELS)]
_COLUMNS_HALF = [int(round(180.0 * 2**k / HOME_BOX_DEG)) + 2 for k in range(HOME_BOX_LEVELS)]
_MASK21 = (1 << 21) - 1
#: Box memory values besides PoP indices: the nearest PoP decides (per point); points differ (look each up);
#: ``_REGIONAL - k``: the nearest of the k-th regional country's PoPs decides (`_nearest_regional`, per point).
_NEAREST, _EXACT, _REGIONAL = -2, -1, -3
