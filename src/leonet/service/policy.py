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

The representation
------------------
Region membership is computed once per rule (``shapely.contains_xy`` on
the prepared polygon; a terminal exactly on an edge is outside) into
``applies: bool[K, G]``.  Per step only the rules' windows are compared with
the integer offsets, and steps whose set of rules in force is the same share
one ``[G]`` mask, so a chunk costs O(T x K) comparisons plus one gather of
``[T, G]``.  Window edges are exact in nanoseconds: a step at exactly
``from`` is covered, a step at exactly ``until`` is not.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import shapely
from numpy.typing import NDArray

from ..errors import ScenarioError
from ..ground.regions import Region, load_region, points_in_region
from ..ground.sites import GroundSites
from .fleets import window_ns
from ..scenario.service import PolicySpec, _iso, _unknown

__all__ = ["PolicyEngine", "load_rule_region"]


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
        A rule naming an unknown fleet (``policies[i].fleets[j]``) or a
        region that cannot be loaded (``policies[i].region``).

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
        self.regions: list[Region | None] = []
        cache: dict[str, Region] = {}
        self.in_region = np.ones((k, g), dtype=bool)
        self.fleet_match = np.ones((k, g), dtype=bool)
        for i, rule in enumerate(self.rules):
            if rule.region is None:
                self.regions.append(None)
            else:
                if rule.region not in cache:
                    cache[rule.region] = load_rule_region(rule.region, f"policies[{i}].region", resolve)
                region = cache[rule.region]
                self.regions.append(region)
                self.in_region[i] = points_in_region(region, terminals.lat_deg, terminals.lon_deg)
            if rule.fleets is not None:
                idx = []
                for j, name in enumerate(rule.fleets):
                    if name not in self.fleet_names:
                        raise ScenarioError(
                            f"policies[{i}].fleets[{j}]: "
                            + _unknown("fleet", name, list(self.fleet_names), "correct the name or add a [[fleets]] table")
                        )
                    idx.append(self.fleet_names.index(name))
                self.fleet_match[i] = np.isin(fleet_of, idx)
        self.applies = self.in_region & self.fleet_match
        self.is_deny = np.array([r.action == "deny" for r in self.rules], dtype=bool)
        for arr in (self.in_region, self.fleet_match, self.applies, self.is_deny):
            arr.setflags(write=False)

    def __len__(self) -> int:
        return len(self.rules)

    # -- per step -------------------------------------------------------------

    def in_force(self, offset_ns: NDArray[np.int64], epoch: dt.datetime) -> NDArray[np.bool_]:
        """Which rules are in force at each step: bool[T, K] (``from <= t < until``)."""
        t = np.asarray(offset_ns, dtype=np.int64)
        lo = np.empty(len(self.rules), dtype=np.int64)
        hi = np.empty(len(self.rules), dtype=np.int64)
        for i, r in enumerate(self.rules):
            lo[i], hi[i] = window_ns(epoch, r.from_, r.until)
        return (t[:, None] >= lo) & (t[:, None] < hi)

    def _masks(self, on: NDArray[np.bool_], which: bool) -> NDArray:
        """For one set of rules in force: the denied mask bool[G], or (``which``) the denying rule int16[G]."""
        g = len(self.terminals)
        by = np.full(g, -1, dtype=np.int16) if which else None
        deny = np.zeros(g, dtype=bool)
        for i in np.flatnonzero(on & self.is_deny)[::-1]:  # lowest index ends up in `by`
            deny |= self.applies[i]
            if which:
                by[self.applies[i]] = i
        allow_rules = np.flatnonzero(on & ~self.is_deny)
        if allow_rules.size:
            covered = self.fleet_match[allow_rules].any(axis=0)
            inside = self.applies[allow_rules].any(axis=0)
            outside = covered & ~inside & ~deny
            if which and outside.any():
                # The whitelist that leaves it out: the lowest-index allow rule for its fleet.
                first = np.argmax(self.fleet_match[allow_rules], axis=0)
                by[outside] = allow_rules[first[outside]]
            deny |= outside
        return by if which else deny

    def _per_step(self, offset_ns: NDArray[np.int64], epoch: dt.datetime, which: bool) -> NDArray:
        on = self.in_force(offset_ns, epoch)
        t, g = on.shape[0], len(self.terminals)
        if len(self.rules) == 0 or t == 0:
            return np.full((t, g), -1, dtype=np.int16) if which else np.zeros((t, g), dtype=bool)
        # Steps with the same rules in force share one [G] mask: windows are intervals,
        # so a chunk has at most 2K + 1 distinct patterns.
        patterns, inverse = np.unique(on, axis=0, return_inverse=True)
        masks = np.stack([self._masks(p, which) for p in patterns])
        return masks[inverse.reshape(-1)]

    def denied(self, offset_ns: NDArray[np.int64], epoch: dt.datetime) -> NDArray[np.bool_]:
        """Which terminals the rules deny at each step.

        Parameters
        ----------
        offset_ns : int64[T], ns from `epoch`
        epoch : datetime, UTC

        Returns
        -------
        denied : bool[T, G]
            True where the terminal may not be served (reason "policy").
        """
        return self._per_step(offset_ns, epoch, False)

    def denying_rule(self, offset_ns: NDArray[np.int64], epoch: dt.datetime) -> NDArray[np.int16]:
        """Which rule denies each terminal at each step: int16[T, G], -1 where allowed.

        The lowest-index deny rule that covers the terminal; for a terminal
        denied only by the whitelist, the lowest-index allow rule in force
        for its fleet (the one whose region it is outside).
        """
        return self._per_step(offset_ns, epoch, True)

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
            n = int(self.applies[i].sum())
            if n == 0:
                out.append(f"policies[{i}] ({rule.label()}) covers none of the {len(self.terminals)} terminals")
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
