"""Service-area policies: where and when the operator lets terminals use the system.

The rules
---------
A rule (`~leonet.scenario.service.PolicySpec`) says ``allow`` or ``deny``, inside a
region (any `~leonet.ground.regions.load_region` spec; none: everywhere),
during ``[from, until)`` (either side open), for the fleets it names (none:
every terminal, including terminals that belong to no fleet).  At a step a
terminal is **denied** when

1. a deny rule in force applies to it (its fleet, inside its region), or
2. at least one allow rule in force names its fleet (or all fleets), and the
   terminal is inside none of those allow rules' regions.

So *deny wins* over allow wherever both hold (Crimea inside
``country:UA``), and allow rules are a **whitelist**: ``allow country:UA``
for a fleet means "only in Ukraine" while it is in force.  With no allow
rule in force for a terminal's fleet, service is allowed by default.
`PolicyEngine.notes` reports overlapping contradictory rules and rules that
match no terminal, so the precedence never acts silently.

Dated regions
-------------
A rule's region may change with time, so that a geofence can follow a moving
line of control: ``region = [{from = DATE, region = "..."}, ...]`` (each
shape from its ``from`` until the next one's; the last one stays), or a
GeoJSON FeatureCollection whose features carry ``valid_from`` (and optionally
``valid_until``; omitted: until the next feature's ``valid_from``, the last
one on) in their properties.  Features with the same window are one shape
(their union); windows may leave gaps but not overlap.  ``lag_s`` delays every
switch by that many seconds (the operator redraws its geofence late).  While
no shape is in force (before the first, in a gap) the rule is *not in force*:
a deny rule denies nobody and an allow rule whitelists nobody away.

The representation
------------------
Each rule has a list of shapes with their windows ``[lo_ns, hi_ns)`` (one
shape, always in force, for a plain region; none for a rule without region).
Membership of the terminals' static positions is computed once per shape
(``shapely.contains_xy`` on the prepared polygon; a terminal exactly on an
edge is outside).  Per step only the windows are compared with the integer
offsets, giving ``shape: int[T, K]`` (-1: the rule is not in force), and
steps with the same shapes in force share one ``[G]`` mask, so a chunk
costs O(T x K) comparisons plus one gather of ``[T, G]``.  Moving terminals
(`leonet.ground.motion`) pass their positions of each step: their
membership is tested per step, in the shape in force then.  Window and
switch edges are exact in nanoseconds: a step at exactly ``from`` (or a
switch + ``lag_s``) is covered by the new shape, the step before is not.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from ..constants import NS_PER_S
from ..errors import InputFileError, ScenarioError
from ..ground.regions import Region, _check_geometry, _geojson_features, _read_json, load_region, points_in_region
from ..ground.sites import GroundSites
from ..inputs import short_repr
from ..timebase import parse_utc
from .fleets import ns_since, window_ns
from ..scenario.service import PolicySpec, _iso, _unknown

__all__ = ["PolicyEngine", "load_rule_region", "DatedShape", "read_dated_regions", "rule_shapes"]

_INT64_MIN = np.iinfo(np.int64).min
_INT64_MAX = np.iinfo(np.int64).max


def load_rule_region(spec: str, where: str, resolve: Callable[[str], Path] | None = None) -> Region:
    """`load_region` with the field path in the message and relative GeoJSON paths resolved."""
    arg = spec
    from ..scenario.sources import region_is_file

    if resolve is not None and region_is_file(spec):
        arg = str(resolve(spec))
    try:
        return load_region(arg)
    except ScenarioError as exc:
        raise ScenarioError(f"{where}: {exc} (got {spec!r})") from None


@dataclass(frozen=True)
class DatedShape:
    """One shape of a rule's region and when it is the region: ``[start, end)`` (None: open), before any lag."""

    region: Region | None
    start: dt.datetime | None = None
    end: dt.datetime | None = None


def _feature_time(path: str, props: dict, key: str, where: str) -> dt.datetime | None:
    value = props.get(key)
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise ScenarioError("not text")
        return parse_utc(value)
    except ScenarioError:
        raise InputFileError(
            path, f"{where}.properties.{key} = {short_repr(value)} is not an ISO 8601 UTC time; fix: write it like "
            '"2022-02-24T00:00:00Z" (a date alone is 00:00 UTC)'
        ) from None


def read_dated_regions(path: str) -> list[DatedShape] | None:
    """The dated shapes of a GeoJSON file whose features carry ``valid_from``/``valid_until``; None if none does.

    Features with the same window are unioned into one shape; a feature without
    ``valid_until`` runs until the next ``valid_from`` (the last one stays).

    Raises
    ------
    InputFileError
        A feature without ``valid_from`` among dated ones, a time that is not
        ISO 8601, ``valid_until`` not after ``valid_from``, overlapping windows,
        or a geometry that is not a valid (Multi)Polygon.
    """
    doc = _read_json(path)
    feats = _geojson_features(path, doc)
    dated = [("valid_from" in props or "valid_until" in props) for props, _, _ in feats]
    if not any(dated):
        return None
    rows = []
    for props, geom, where in feats:
        start = _feature_time(path, props, "valid_from", where)
        if start is None:
            raise InputFileError(path, f"{where} has no valid_from while other features are dated; fix: give every "
                                 "feature a valid_from (ISO 8601 UTC), or none")
        end = _feature_time(path, props, "valid_until", where)
        if end is not None and end <= start:
            raise InputFileError(path, f"{where}: valid_until = {_iso(end)} is not after valid_from = {_iso(start)}; "
                                 "fix: swap them or correct the date")
        rows.append((start, end, _check_geometry(path, geom, where, props), where))
    rows.sort(key=lambda r: (r[0], r[1] is None, r[1] or r[0]))
    groups: list[list] = []
    for row in rows:
        if groups and groups[-1][0][:2] == row[:2]:
            groups[-1].append(row)
        else:
            groups.append([row])
    out = []
    for k, group in enumerate(groups):
        start, end = group[0][0], group[0][1]
        nxt = groups[k + 1][0][0] if k + 1 < len(groups) else None
        if end is None:
            end = nxt
        elif nxt is not None and end > nxt:
            raise InputFileError(
                path, f"{group[-1][3]} (valid {_iso(start)} .. {_iso(end)}) overlaps {groups[k + 1][0][3]} (valid from "
                f"{_iso(nxt)}); a dated region has one shape at a time; fix: end the first at {_iso(nxt)}, or give "
                "both the same window to join them"
            )
        geoms = [r[2] for r in group]
        geom = geoms[0] if len(geoms) == 1 else shapely.union_all(geoms)
        out.append(DatedShape(Region(name=f"{Path(path).stem} from {_iso(start)}", geometry=geom, source=path), start, end))
    return out


def rule_shapes(
    rule: PolicySpec, where: str, resolve: Callable[[str], Path] | None = None, cache: dict | None = None
) -> list[DatedShape]:
    """The shapes of a rule's region with their windows (before lag): one always-on shape for a plain region.

    A rule without region has one shape whose region is None (everywhere).
    """
    from ..scenario.sources import region_is_file

    cache = {} if cache is None else cache

    def load(spec: str, here: str) -> Region:
        if spec not in cache:
            cache[spec] = load_rule_region(spec, here, resolve)
        return cache[spec]

    region = rule.region
    if region is None:
        return [DatedShape(None)]
    if isinstance(region, str):
        if region_is_file(region):
            path = str(resolve(region)) if resolve is not None else region
            try:
                dated = read_dated_regions(path)
            except ScenarioError as exc:
                raise ScenarioError(f"{where}: {exc} (got {region!r})") from None
            if dated is not None:
                return dated
        if rule.lag_s > 0:
            raise ScenarioError(f"{where}: lag_s = {rule.lag_s:g} delays the switches of a dated region, but {region!r} "
                                "has no dated features (valid_from/valid_until); fix: date its features or remove lag_s")
        return [DatedShape(load(region, where))]
    return [
        DatedShape(load(entry.region, f"{where}[{k}].region"), entry.from_,
                   region[k + 1].from_ if k + 1 < len(region) else None)
        for k, entry in enumerate(region)
    ]


def _ns(value_s: float) -> int:
    return int(Decimal(repr(float(value_s))) * NS_PER_S)


def _window_text(start: dt.datetime | None, end: dt.datetime | None) -> str:
    if start is None and end is None:
        return "all the time"
    if start is None:
        return f"until {_iso(end)}"
    if end is None:
        return f"from {_iso(start)} on"
    return f"from {_iso(start)} until {_iso(end)}"


class PolicyEngine:
    """Which terminals the operator's service-area rules deny, step by step.

    Parameters
    ----------
    rules : sequence of PolicySpec, [K]
    terminals : GroundSites, [G]
    fleet_of_terminal : int64[G], optional
        Index into `fleet_names` of each terminal's fleet; -1 for a terminal
        in no fleet (only rules without ``fleets`` apply to it).  Default: all -1.
    fleet_names : sequence of str
        The scenario's fleet names, to resolve the rules' ``fleets``.
    resolve : callable, optional
        Maps a relative GeoJSON path to a file (the scenario's directory).

    Raises
    ------
    ScenarioError
        A rule naming an unknown fleet (``policies[i].fleets[j]``), a region
        that cannot be loaded (``policies[i].region``,
        ``policies[i].region[k].region``), a bad dated GeoJSON, or ``lag_s``
        on a GeoJSON without dated features.

    Examples
    --------
    >>> from leonet.ground.sites import sites_from_coordinates
    >>> from leonet.scenario.service import PolicySpec
    >>> import datetime as dt, numpy as np
    >>> sites = sites_from_coordinates("terminal", [
    ...     {"name": "Simferopol", "lat_deg": 44.95, "lon_deg": 34.10},
    ...     {"name": "Kyiv", "lat_deg": 50.45, "lon_deg": 30.52}])
    >>> engine = PolicyEngine([PolicySpec(action="deny", region="crimea")], sites)
    >>> epoch = dt.datetime(2022, 3, 1, tzinfo=dt.timezone.utc)
    >>> engine.denied(np.array([0], dtype=np.int64), epoch).tolist()
    [[True, False]]

    A dated region, switched a minute late, and a terminal that moves:

    >>> rule = PolicySpec.model_validate({"action": "deny", "lag_s": 60, "region": [
    ...     {"from": "2022-03-01T00:00:00Z", "region": "crimea"}, {"from": "2022-03-02", "region": "oblast:Kyiv"}]})
    >>> engine = PolicyEngine([rule], sites)
    >>> minute, day = 60 * 10**9, 86_400 * 10**9
    >>> engine.denied(np.array([minute - 1, minute, day + minute]), epoch).tolist()
    [[False, False], [True, False], [False, True]]
    >>> engine.denied(np.array([day + minute]), epoch, lat_deg=[[44.95]], lon_deg=[[34.10]], terminals=[1]).tolist()
    [[False, False]]
    """

    def __init__(
        self,
        rules: Sequence[PolicySpec],
        terminals: GroundSites,
        fleet_of_terminal: NDArray[np.int64] | None = None,
        *,
        fleet_names: Sequence[str] = (),
        resolve: Callable[[str], Path] | None = None,
    ):
        self.rules = tuple(rules)
        self.terminals = terminals
        self.fleet_names = tuple(fleet_names)
        g = len(terminals)
        if fleet_of_terminal is None:
            fleet_of = np.full(g, -1, dtype=np.int64)
        else:
            fleet_of = np.asarray(fleet_of_terminal, dtype=np.int64)
            if fleet_of.shape != (g,):
                raise ScenarioError(
                    f"fleet_of_terminal has shape {fleet_of.shape} but there are {g} terminals; give one fleet index per terminal"
                )
            if fleet_of.size and (fleet_of.max() >= len(self.fleet_names) or fleet_of.min() < -1):
                raise ScenarioError(
                    f"fleet_of_terminal holds {int(fleet_of.min())}..{int(fleet_of.max())} but there are "
                    f"{len(self.fleet_names)} fleet names; use -1 (no fleet) or an index into fleet_names"
                )
        self.fleet_of_terminal = fleet_of
        k = len(self.rules)
        cache: dict[str, Region] = {}
        #: Per rule: its shapes (`DatedShape`), and bool[S_i, G]: which terminals (at their static positions) each holds.
        self.shapes: list[list[DatedShape]] = []
        self.shape_in: list[NDArray[np.bool_]] = []
        self.fleet_match = np.ones((k, g), dtype=bool)
        for i, rule in enumerate(self.rules):
            shapes = rule_shapes(rule, f"policies[{i}].region", resolve, cache)
            self.shapes.append(shapes)
            inside = np.ones((len(shapes), g), dtype=bool)
            for j, shape in enumerate(shapes):
                if shape.region is not None:
                    inside[j] = points_in_region(shape.region, terminals.lat_deg, terminals.lon_deg)
            inside.setflags(write=False)
            self.shape_in.append(inside)
            if rule.fleets is not None:
                self.fleet_match[i] = np.isin(fleet_of, self._fleet_indices(i, rule))
        #: Per rule, the union of its shapes (None: everywhere); what `conflicts` compares.
        self.regions: list[Region | None] = [self._union(i) for i in range(k)]
        #: bool[K, G]: inside any of the rule's shapes (static positions); what `notes` counts.
        self.in_region = np.array([m.any(axis=0) for m in self.shape_in], dtype=bool).reshape(k, g)
        self.applies = self.in_region & self.fleet_match
        self.is_deny = np.array([r.action == "deny" for r in self.rules], dtype=bool)
        for arr in (self.in_region, self.fleet_match, self.applies, self.is_deny):
            arr.setflags(write=False)

    def _fleet_indices(self, i: int, rule: PolicySpec) -> list[int]:
        idx = []
        for j, name in enumerate(rule.fleets):
            if name not in self.fleet_names:
                raise ScenarioError(
                    f"policies[{i}].fleets[{j}]: "
                    + _unknown("fleet", name, list(self.fleet_names), "correct the name or add a [[fleets]] table")
                )
            idx.append(self.fleet_names.index(name))
        return idx

    def _union(self, i: int) -> Region | None:
        shapes = self.shapes[i]
        if shapes[0].region is None:
            return None
        if len(shapes) == 1:
            return shapes[0].region
        geom = shapely.union_all([sh.region.geometry for sh in shapes])
        return Region(name=f"policies[{i}] (all its shapes)", geometry=geom, source="dated region")

    def __len__(self) -> int:
        return len(self.rules)

    # -- per step -------------------------------------------------------------

    def in_force(self, offset_ns: NDArray[np.int64], epoch: dt.datetime) -> NDArray[np.bool_]:
        """Which rules are in force at each step: bool[T, K] (``from <= t < until``, and a shape of the region in force)."""
        return self.shape_index(offset_ns, epoch) >= 0

    def shape_index(self, offset_ns: NDArray[np.int64], epoch: dt.datetime) -> NDArray[np.int64]:
        """Which shape of each rule's region is in force at each step: int64[T, K], -1 where the rule is not in force.

        A rule is in force at ``t`` when ``from <= t < until`` and one of its
        shapes is: shape ``j`` from ``start_j + lag_s`` to ``end_j + lag_s``
        (exact in ns).
        """
        t = np.asarray(offset_ns, dtype=np.int64).reshape(-1)
        out = np.full((t.size, len(self.rules)), -1, dtype=np.int64)
        for i, r in enumerate(self.rules):
            lo, hi = window_ns(epoch, r.from_, r.until)
            lag = _ns(r.lag_s)
            starts = np.array([_INT64_MIN if sh.start is None else ns_since(epoch, sh.start) + lag for sh in self.shapes[i]])
            ends = np.array([_INT64_MAX if sh.end is None else ns_since(epoch, sh.end) + lag for sh in self.shapes[i]])
            j = np.searchsorted(starts, t, side="right") - 1
            jc = np.maximum(j, 0)
            on = (t >= lo) & (t < hi) & (j >= 0) & (t < ends[jc])
            out[:, i] = np.where(on, jc, -1)
        return out

    def _decide(self, on: NDArray[np.bool_], applies: NDArray[np.bool_], fleet_match: NDArray[np.bool_],
                which: bool) -> NDArray:
        """Denied (bool[P, N]) or the denying rule (int16[P, N], -1 allowed) from the rules in force ``on: bool[P, K]``,
        ``applies: bool[P, K, N]`` (in force shape holds the terminal and the rule names its fleet) and
        ``fleet_match: bool[K, N]``."""
        deny_hit = (on & self.is_deny)[:, :, None] & applies
        deny = deny_hit.any(axis=1)
        allow_on = (on & ~self.is_deny)[:, :, None]
        covered = (allow_on & fleet_match[None]).any(axis=1)
        inside = (allow_on & applies).any(axis=1)
        outside = covered & ~inside & ~deny
        if not which:
            return deny | outside
        # The lowest-index deny rule covering it; else the whitelist that leaves it out: the lowest-index allow rule
        # in force for its fleet.
        by = np.where(deny, np.argmax(deny_hit, axis=1), -1)
        by = np.where(outside, np.argmax(allow_on & fleet_match[None], axis=1), by)
        return by.astype(np.int16)

    def _static_applies(self, pattern: NDArray[np.int64]) -> NDArray[np.bool_]:
        """bool[K, G]: the shape of each rule in ``pattern`` (-1: none) holds the terminal and the rule names its fleet."""
        out = np.zeros((len(self.rules), len(self.terminals)), dtype=bool)
        for i, j in enumerate(pattern.tolist()):
            if j >= 0:
                out[i] = self.shape_in[i][j] & self.fleet_match[i]
        return out

    def _moving_applies(self, idx: NDArray[np.int64], lat: NDArray, lon: NDArray, cols: NDArray[np.int64]) -> NDArray:
        """bool[T, K, M]: the shape in force of each rule holds the moving terminal at that step."""
        t, m = lat.shape
        out = np.zeros((t, len(self.rules), m), dtype=bool)
        for i, shapes in enumerate(self.shapes):
            match = self.fleet_match[i, cols]
            for j, shape in enumerate(shapes):
                rows = np.flatnonzero(idx[:, i] == j)
                if rows.size == 0:
                    continue
                if shape.region is None:
                    out[rows, i] = match
                else:
                    out[rows, i] = points_in_region(shape.region, lat[rows], lon[rows]) & match
        return out

    def _per_step(self, offset_ns, epoch, which: bool, lat_deg=None, lon_deg=None, terminals=None) -> NDArray:
        idx = self.shape_index(offset_ns, epoch)
        t, g = idx.shape[0], len(self.terminals)
        if len(self.rules) == 0 or t == 0:
            return np.full((t, g), -1, dtype=np.int16) if which else np.zeros((t, g), dtype=bool)
        # Steps with the same shapes in force share one [G] mask: windows are intervals,
        # so a chunk has at most 2 (K + switches) + 1 distinct patterns.
        patterns, inverse = np.unique(idx, axis=0, return_inverse=True)
        masks = np.stack([self._decide(p[None] >= 0, self._static_applies(p)[None], self.fleet_match, which)[0]
                          for p in patterns])
        out = masks[inverse.reshape(-1)]
        if lat_deg is not None:
            cols, lat, lon = self._positions(t, lat_deg, lon_deg, terminals)
            applies = self._moving_applies(idx, lat, lon, cols)
            out[:, cols] = self._decide(idx >= 0, applies, self.fleet_match[:, cols], which)
        return out

    def _positions(self, t: int, lat_deg: ArrayLike, lon_deg: ArrayLike, terminals: ArrayLike | None):
        g = len(self.terminals)
        cols = np.arange(g, dtype=np.int64) if terminals is None else np.asarray(terminals, dtype=np.int64).reshape(-1)
        lat = np.asarray(lat_deg, dtype=np.float64)
        lon = np.asarray(lon_deg, dtype=np.float64)
        if lat.shape != (t, cols.size) or lon.shape != (t, cols.size):
            raise ScenarioError(
                f"PolicyEngine: lat_deg {lat.shape} and lon_deg {lon.shape} must be [T, M] = ({t}, {cols.size}): one "
                "position per step and per terminal given (all G terminals when terminals is None)"
            )
        if cols.size and (cols.min() < 0 or cols.max() >= g):
            raise ScenarioError(f"PolicyEngine: terminals holds {int(cols.min())}..{int(cols.max())}; there are {g}")
        return cols, lat, lon

    def denied(
        self,
        offset_ns: NDArray[np.int64],
        epoch: dt.datetime,
        lat_deg: ArrayLike | None = None,
        lon_deg: ArrayLike | None = None,
        terminals: ArrayLike | None = None,
    ) -> NDArray[np.bool_]:
        """Which terminals the rules deny at each step.

        Parameters
        ----------
        offset_ns : int64[T], ns from `epoch`
        epoch : datetime, UTC
        lat_deg, lon_deg : float64[T, M], degrees, optional
            Positions at each step of the terminals ``terminals`` (moving
            terminals, `leonet.ground.motion.MotionState`); NaN = no position
            (inside no region).  Other terminals keep their static positions.
        terminals : int[M], optional
            Which terminals the columns of ``lat_deg`` are; default: all G.

        Returns
        -------
        denied : bool[T, G]
            True where the terminal may not be served (reason "policy").
        """
        return self._per_step(offset_ns, epoch, False, lat_deg, lon_deg, terminals)

    def denying_rule(
        self,
        offset_ns: NDArray[np.int64],
        epoch: dt.datetime,
        lat_deg: ArrayLike | None = None,
        lon_deg: ArrayLike | None = None,
        terminals: ArrayLike | None = None,
    ) -> NDArray[np.int16]:
        """Which rule denies each terminal at each step: int16[T, G], -1 where allowed.

        The lowest-index deny rule that covers the terminal; for a terminal
        denied only by the whitelist, the lowest-index allow rule in force
        for its fleet (the one whose region it is outside).  Positions as in
        `denied`.
        """
        return self._per_step(offset_ns, epoch, True, lat_deg, lon_deg, terminals)

    # -- reporting ------------------------------------------------------------

    def _fleets_text(self, a: PolicySpec, b: PolicySpec) -> str | None:
        if a.fleets is None and b.fleets is None:
            return "all terminals"
        if a.fleets is None or b.fleets is None:
            names = a.fleets if a.fleets is not None else b.fleets
        else:
            names = [n for n in a.fleets if n in b.fleets]
            if not names:
                return None
        return ("fleet " if len(names) == 1 else "fleets ") + ", ".join(map(repr, names))

    def _regions_overlap(self, i: int, j: int) -> bool:
        a, b = self.regions[i], self.regions[j]
        if a is None or b is None:
            return True
        if a is b:
            return True
        return bool(shapely.intersects(a.geometry, b.geometry) and not shapely.touches(a.geometry, b.geometry))

    def conflicts(self) -> list[str]:
        """Pairs of allow and deny rules that overlap in fleets, time and area.

        Returns
        -------
        list of str
            One note per pair, e.g. ``"policies[0] (deny crimea) and
            policies[1] (allow country:UA) overlap for fleet 'donated' from
            2022-02-26T00:00:00Z on; deny wins: the 12 terminals in both are
            denied"``.
        """
        out = []
        for i in range(len(self.rules)):
            for j in range(i + 1, len(self.rules)):
                a, b = self.rules[i], self.rules[j]
                if a.action == b.action:
                    continue
                fleets = self._fleets_text(a, b)
                if fleets is None:
                    continue
                starts = [x for x in (a.from_, b.from_) if x is not None]
                ends = [x for x in (a.until, b.until) if x is not None]
                start = max(starts) if starts else None
                end = min(ends) if ends else None
                if start is not None and end is not None and end <= start:
                    continue
                if not self._regions_overlap(i, j):
                    continue
                both = int((self.applies[i] & self.applies[j]).sum())
                d, w = (i, j) if a.action == "deny" else (j, i)
                out.append(
                    f"policies[{d}] ({self.rules[d].label()}) and policies[{w}] ({self.rules[w].label()}) overlap for "
                    f"{fleets} {_window_text(start, end)}; deny wins: "
                    + ("the 1 terminal in both is denied" if both == 1 else f"the {both} terminals in both are denied")
                )
        return out

    def notes(self) -> list[str]:
        """Everything a reader should know about how the rules act on these terminals.

        `conflicts`, plus rules that cover no terminal, plus terminals that an
        allow rule's whitelist leaves out (they are denied while it is in force).
        """
        out = self.conflicts()
        for i, rule in enumerate(self.rules):
            shapes = self.shapes[i]
            if len(shapes) > 1 or shapes[0].start is not None or shapes[0].end is not None:
                lag = f", each {rule.lag_s:g} s late (lag_s)" if rule.lag_s > 0 else ""
                switches = ", ".join(
                    f"{_iso(sh.start)}" + (f" .. {_iso(sh.end)}" if sh.end is not None and (k + 1 == len(shapes) or
                                           shapes[k + 1].start != sh.end) else "")
                    for k, sh in enumerate(shapes))
                out.append(f"policies[{i}] ({rule.label()}) follows {len(shapes)} dated shape"
                           f"{'s' if len(shapes) != 1 else ''}: from {switches}{lag}; not in force while no shape is")
            n = int(self.applies[i].sum())
            if n == 0:
                out.append(f"policies[{i}] ({rule.label()}) covers none of the {len(self.terminals)} terminals where "
                           "they start (a moving terminal may still enter it)")
            if rule.action == "allow":
                left_out = int((self.fleet_match[i] & ~self.in_region[i]).sum())
                if left_out:
                    # Another allow rule in force at the same time may let them in; this is the rule alone.
                    who = "1 terminal of its fleets lies" if left_out == 1 else f"{left_out} terminals of its fleets lie"
                    verb = "is" if left_out == 1 else "are"
                    out.append(
                        f"policies[{i}] ({rule.label()}) is a whitelist: {who} outside its region and {verb} denied "
                        f"{_window_text(rule.from_, rule.until)} unless another allow rule in force covers "
                        + ("it" if left_out == 1 else "them")
                    )
        return out
