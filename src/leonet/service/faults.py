"""Faults: scheduled and seeded random outages (reason code "fault").

The faults
----------
Each ``[[faults]]`` entry (`~leonet.scenario.service`) has a ``kind`` and a window
``[from, until)`` (either side open):

``gateway-down``
    The listed gateways (by id) are down: no satellite links to them.
``satellites-failed``
    Each satellite fails independently with probability ``fraction``; a
    failed satellite carries no traffic while the fault is in force.  Which
    satellites fail is fixed for the run (a failed satellite stays failed).
``isl-lost``
    Each laser link (by its index in the run's ISL list) is lost
    independently with probability ``fraction``, fixed for the run.
``jamming``
    Each terminal inside ``region`` loses its link with probability
    ``probability`` *at each step*, independently across terminals and steps.
``capacity-loss``
    Each terminal inside ``region`` (none: every terminal) keeps only
    ``1 - share`` of its link capacity; several such faults multiply.

Randomness that does not depend on chunking
-------------------------------------------
Every random draw is a pure function of ``(seed, fault index, step,
entity)``.  The variates come from the counter-based generator
**Philox-4x64-10** (Salmon, Moraes, Dror & Shaw, "Parallel random numbers:
as easy as 1, 2, 3", SC 2011), as ``numpy.random.Philox`` implements it,
keyed by ``(seed, fault index)`` and *set* (not advanced draw by draw) to the
counter ``(0, step, stream, 0)``, where the step is the **global** step index
of the run (0 for draws fixed for the whole run) and the stream tells the
kinds apart; variate ``g`` of that stream belongs to satellite, link or
terminal ``g``.  So a step gets the same draws whether it is computed alone,
in a chunk of 7 or in the whole run, in any order, on any worker.  Only the
raw 64-bit words are used (their bit stream is stable across numpy
versions); they become doubles here.

Raising a fraction with the same seed only adds failures (a satellite
fails when its variate is below the fraction), which makes sweeps over
the fraction monotone.  The draws are keyed by the fault's position in the
list: inserting a fault before another changes the other's draws.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ..errors import ScenarioError
from ..ground.regions import points_in_region
from ..ground.sites import GroundSites
from .fleets import window_ns
from .policy import load_rule_region
from ..scenario.service import (
    CapacityLossFault,
    GatewayDownFault,
    IslLostFault,
    JammingFault,
    SatellitesFailedFault,
    _iso,
)

__all__ = ["FaultSchedule", "philox_uniform", "STREAM_SATELLITE", "STREAM_ISL", "STREAM_JAMMING"]

#: Third counter word of each kind of draw.
STREAM_SATELLITE = 1
STREAM_ISL = 2
STREAM_JAMMING = 3

_KEY_MASK = (1 << 64) - 1
_TWO_POW_M53 = 1.0 / 9007199254740992.0


def philox_uniform(key: tuple[int, int], step: int, stream: int, n: int) -> NDArray[np.float64]:
    """``n`` uniform variates in [0, 1) of the counter stream ``(key, step, stream)``: float64[n].

    The words are ``numpy.random.Philox(key=key, counter=[0, step, stream, 0])``'s
    first ``n`` raw 64-bit outputs (that generator encrypts the counters
    ``(j, step, stream, 0)``, j = 1, 2, ..., four words each), turned into
    doubles with their top 53 bits as numpy's ``random()`` does.  Variate
    ``k`` depends only on ``(key, step, stream, k)``, never on ``n``: a
    longer draw extends a shorter one.

    Parameters
    ----------
    key : (int, int)
        Two 64-bit words, here ``(seed, fault index)``.
    step : int
        Second counter word: the global step index (0 for draws fixed for the run).
    stream : int
        Third counter word: which kind of draw.
    n : int
        Number of variates.
    """
    bits = np.random.Philox(
        key=np.array([int(key[0]) & _KEY_MASK, int(key[1]) & _KEY_MASK], dtype=np.uint64),
        counter=np.array([0, int(step), int(stream), 0], dtype=np.uint64),
    )
    raw = bits.random_raw(int(n))
    return np.asarray(raw >> np.uint64(11), dtype=np.float64) * _TWO_POW_M53


def _gateway_ids(gateways: GroundSites | Sequence[str]) -> list[str]:
    return list(gateways.ids) if isinstance(gateways, GroundSites) else [str(g) for g in gateways]


class FaultSchedule:
    """The faults of a run, asked step by step.

    Parameters
    ----------
    faults : sequence of fault specs, [K]
        `GatewayDownFault`, `SatellitesFailedFault`, `IslLostFault`,
        `JammingFault` or `CapacityLossFault` (``[[faults]]``).
    gateways : GroundSites or sequence of str, [Gw]
        The run's gateways (their ids are what ``gateway-down`` names).
    constellation_size : int
        Number of satellites S.
    terminals : GroundSites, [G]
        The run's user terminals (for regional faults).
    seed : int
        The scenario seed (>= 0).
    epoch : datetime, UTC
        Time of offset 0.
    resolve : callable, optional
        Maps a relative GeoJSON path to a file.

    Raises
    ------
    ScenarioError
        An unknown gateway id (``faults[i].gateways[j]``, with close
        matches), a region that cannot be loaded (``faults[i].region``), a
        negative seed or constellation size.
    """

    def __init__(
        self,
        faults: Sequence,
        gateways: GroundSites | Sequence[str],
        constellation_size: int,
        terminals: GroundSites,
        seed: int,
        *,
        epoch: dt.datetime,
        resolve: Callable[[str], Path] | None = None,
    ):
        if int(seed) != seed or seed < 0:
            raise ScenarioError(f"seed = {seed!r}; the fault seed must be a whole number >= 0 (the scenario seed)")
        if int(constellation_size) != constellation_size or constellation_size < 0:
            raise ScenarioError(f"constellation_size = {constellation_size!r}; it must be a whole number >= 0")
        self.faults = tuple(faults)
        self.seed = int(seed)
        self.epoch = epoch
        self.constellation_size = int(constellation_size)
        self.terminals = terminals
        self.gateway_ids = _gateway_ids(gateways)
        k = len(self.faults)
        self._lo = np.empty(k, dtype=np.int64)
        self._hi = np.empty(k, dtype=np.int64)
        self._gateway_index: dict[int, NDArray[np.int64]] = {}
        self._satellite_mask: dict[int, NDArray[np.bool_]] = {}
        self._terminal_mask: dict[int, NDArray[np.bool_]] = {}
        self._isl_cache: dict[tuple[int, int], NDArray[np.bool_]] = {}
        regions: dict[str, object] = {}
        for i, fault in enumerate(self.faults):
            self._lo[i], self._hi[i] = window_ns(epoch, fault.from_, fault.until)
            if isinstance(fault, GatewayDownFault):
                idx = []
                for j, gw in enumerate(fault.gateways):
                    if gw not in self.gateway_ids:
                        close = difflib.get_close_matches(gw, self.gateway_ids, n=3)
                        hint = f"close matches: {', '.join(close)}; " if close else ""
                        known = ", ".join(self.gateway_ids[:8]) + (", ..." if len(self.gateway_ids) > 8 else "")
                        raise ScenarioError(
                            f"faults[{i}].gateways[{j}]: no gateway with id {gw!r} in the run's ground segment "
                            f"(got {gw!r}); {hint}gateway ids are: {known or '(no gateways)'}; fix: use an id from "
                            "[ground.gateways] ('assumed:<name>' for its extra sites)"
                        )
                    idx.append(self.gateway_ids.index(gw))
                self._gateway_index[i] = np.array(sorted(set(idx)), dtype=np.int64)
            elif isinstance(fault, SatellitesFailedFault):
                u = philox_uniform(self._key(i), 0, STREAM_SATELLITE, self.constellation_size)
                mask = u < fault.fraction
                mask.setflags(write=False)
                self._satellite_mask[i] = mask
            elif isinstance(fault, (JammingFault, CapacityLossFault)):
                if fault.region is None:
                    mask = np.ones(len(terminals), dtype=bool)
                else:
                    if fault.region not in regions:
                        regions[fault.region] = load_rule_region(fault.region, f"faults[{i}].region", resolve)
                    mask = points_in_region(regions[fault.region], terminals.lat_deg, terminals.lon_deg)
                mask.setflags(write=False)
                self._terminal_mask[i] = mask
            elif not isinstance(fault, IslLostFault):
                raise ScenarioError(f"faults[{i}]: unknown fault type {type(fault).__name__}")

    def __len__(self) -> int:
        return len(self.faults)

    def _key(self, i: int) -> tuple[int, int]:
        return (self.seed, i)

    def _kinds(self, cls) -> list[int]:
        return [i for i, f in enumerate(self.faults) if isinstance(f, cls)]

    def in_force(self, offset_ns: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Which faults are in force at each step: bool[T, K] (``from <= t < until``)."""
        t = np.asarray(offset_ns, dtype=np.int64)
        return (t[:, None] >= self._lo) & (t[:, None] < self._hi)

    # -- per step -------------------------------------------------------------

    def gateway_down(self, offset_ns: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Gateways down at each step.

        Parameters
        ----------
        offset_ns : int64[T], ns from the epoch

        Returns
        -------
        bool[T, Gw]
        """
        on = self.in_force(offset_ns)
        out = np.zeros((on.shape[0], len(self.gateway_ids)), dtype=bool)
        for i in self._kinds(GatewayDownFault):
            out[:, self._gateway_index[i]] |= on[:, i, None]
        return out

    def satellite_failed(self, offset_ns: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Failed satellites at each step: bool[T, S]."""
        on = self.in_force(offset_ns)
        out = np.zeros((on.shape[0], self.constellation_size), dtype=bool)
        for i in self._kinds(SatellitesFailedFault):
            out |= on[:, i, None] & self._satellite_mask[i]
        return out

    def isl_lost(self, offset_ns: NDArray[np.int64], n_isl: int) -> NDArray[np.bool_]:
        """Lost laser links at each step: bool[T, E], E = `n_isl`, links in the run's ISL order.

        Link ``e`` is lost by fault ``i`` when variate ``e`` of
        ``philox_uniform((seed, i), 0, STREAM_ISL, E)`` is below ``fraction``;
        a variate does not depend on E, so links keep their draw when more
        links are added.
        """
        n_isl = int(n_isl)
        if n_isl < 0:
            raise ScenarioError(f"n_isl = {n_isl}; the number of laser links must be >= 0")
        on = self.in_force(offset_ns)
        out = np.zeros((on.shape[0], n_isl), dtype=bool)
        for i in self._kinds(IslLostFault):
            mask = self._isl_cache.get((i, n_isl))
            if mask is None:
                u = philox_uniform(self._key(i), 0, STREAM_ISL, n_isl)
                mask = self._isl_cache[(i, n_isl)] = u < self.faults[i].fraction
            out |= on[:, i, None] & mask
        return out

    def jammed(self, offset_ns: NDArray[np.int64], step_index: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Terminals whose link is jammed at each step: bool[T, G].

        Parameters
        ----------
        offset_ns : int64[T], ns from the epoch
        step_index : int64[T]
            The *global* index of each step in the run (not within a chunk):
            the draws are keyed by it, so chunking cannot change them.
        """
        t = np.asarray(offset_ns, dtype=np.int64)
        steps = np.asarray(step_index, dtype=np.int64)
        if steps.shape != t.shape:
            raise ScenarioError(f"step_index has shape {steps.shape} but offset_ns has {t.shape}; give one index per step")
        if steps.size and steps.min() < 0:
            raise ScenarioError(f"step_index holds {int(steps.min())}; step indices are >= 0")
        on = self.in_force(t)
        out = np.zeros((t.shape[0], len(self.terminals)), dtype=bool)
        for i in self._kinds(JammingFault):
            rows = np.flatnonzero(on[:, i])
            cols = np.flatnonzero(self._terminal_mask[i])
            if rows.size == 0 or cols.size == 0:
                continue
            n = int(cols[-1]) + 1  # variate g belongs to terminal g, whatever the region holds
            p = self.faults[i].probability
            for r in rows.tolist():
                u = philox_uniform(self._key(i), int(steps[r]), STREAM_JAMMING, n)
                out[r, cols] |= u[cols] < p
        return out

    def capacity_share(self, offset_ns: NDArray[np.int64]) -> NDArray[np.float64]:
        """Share of its link capacity each terminal keeps: float64[T, G], in [0, 1] (1: no loss)."""
        on = self.in_force(offset_ns)
        out = np.ones((on.shape[0], len(self.terminals)), dtype=np.float64)
        for i in self._kinds(CapacityLossFault):
            keep = 1.0 - self.faults[i].share
            out[np.ix_(on[:, i], self._terminal_mask[i])] *= keep
        return out

    # -- reporting ------------------------------------------------------------

    def notes(self) -> list[str]:
        """One line per fault: what it does to this run."""
        out = []
        for i, f in enumerate(self.faults):
            when = _window(f.from_, f.until)
            head = f"faults[{i}] ({f.label()})"
            if isinstance(f, GatewayDownFault):
                out.append(f"{head}: gateways {', '.join(f.gateways)} down {when}")
            elif isinstance(f, SatellitesFailedFault):
                n = int(self._satellite_mask[i].sum())
                out.append(
                    f"{head}: {n} of {self.constellation_size} satellites fail {when} "
                    f"(each with probability {f.fraction:g}, seed {self.seed})"
                )
            elif isinstance(f, IslLostFault):
                out.append(f"{head}: each laser link lost with probability {f.fraction:g} {when} (seed {self.seed})")
            elif isinstance(f, JammingFault):
                n = int(self._terminal_mask[i].sum())
                out.append(
                    f"{head}: {n} of {len(self.terminals)} terminals in {f.region} lose their link with probability "
                    f"{f.probability:g} per step {when}"
                )
            else:
                n = int(self._terminal_mask[i].sum())
                where = f"in {f.region}" if f.region else "(all)"
                out.append(f"{head}: {n} of {len(self.terminals)} terminals {where} keep {1 - f.share:g} of their capacity {when}")
        return out


def _window(start: dt.datetime | None, end: dt.datetime | None) -> str:
    if start is None and end is None:
        return "for the whole run"
    if start is None:
        return f"until {_iso(end)}"
    if end is None:
        return f"from {_iso(start)} on"
    return f"from {_iso(start)} until {_iso(end)}"
