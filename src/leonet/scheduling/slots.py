"""Scheduler slots: synchronised reassignment times, aligned to the scenario epoch.

The representation
------------------
Starlink's global scheduler reassigns user terminals to satellites on
synchronised 15-second slots.  Slot ``k`` covers ``[k * slot, (k + 1) * slot)``
in nanoseconds from the scenario epoch, so a step's slot depends on its time
alone (``offset_ns // slot_ns``), never on how the run is chunked.  With
``slot_ns = 0`` every step is its own slot and the slot *key* is the step's
offset itself.

Inside a slot, a terminal keeps one satellite.  Whether a satellite stays
above a terminal's mask for the whole slot is checked at `sample_offsets_ns`:
the slot's start, its end (the next slot's start, which is conservative)
and evenly spaced times at most `MAX_SAMPLE_SPACING_NS` (5 s) apart in
between.  The elevation of a LEO satellite seen from the ground rises and
falls once per pass, so above the mask at every sample means above it at
every instant in between for any practical pass; the spacing guards against
passes that graze the mask.

Handovers
---------
A handover is recorded at the step where a new assignment takes effect: a
step whose slot differs from that of the *previous step*.  With the run's
``step_ns`` known, the previous step of any step is ``offset - step_ns``, so
a chunk that starts mid-run recomputes the previous slot's assignment from
its time alone (`SlotClock.previous_key`).  The run's first step (offset <
``step_ns``) has no previous step and records no handover.  Without
``step_ns`` the clock assumes the steps fall on every slot start (true when
the step divides the slot, e.g. 1 s or 5 s steps and 15 s slots) and
records handovers only at steps that are slot starts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..constants import NS_PER_S
from ..errors import ScenarioError

__all__ = ["SlotClock", "MAX_SAMPLE_SPACING_NS"]

#: Largest spacing of the visibility samples inside a slot, ns.
MAX_SAMPLE_SPACING_NS = 5 * NS_PER_S


@dataclass(frozen=True)
class SlotClock:
    """Slot arithmetic for one run.

    Parameters
    ----------
    slot_ns : int
        Slot length, ns; 0 = every step is a slot.
    step_ns : int or None
        The run's step, ns (see the module notes on handovers).  Required
        when ``slot_ns == 0``.
    """

    slot_ns: int
    step_ns: int | None = None

    def __post_init__(self):
        if self.slot_ns < 0:
            raise ScenarioError(f"slot length must be >= 0 ns, got {self.slot_ns}")
        if self.step_ns is not None and self.step_ns <= 0:
            raise ScenarioError(f"step_ns must be positive, got {self.step_ns}")
        if self.slot_ns == 0 and self.step_ns is None:
            raise ScenarioError(
                "with network.slot_s = 0 (reassign every step) the scheduler needs the run's step to know each "
                "step's predecessor: pass step_ns (the scenario's time.step_ns)"
            )

    @classmethod
    def from_seconds(cls, slot_s: float, step_ns: int | None = None) -> "SlotClock":
        return cls(int(round(slot_s * NS_PER_S)), step_ns)

    def key(self, offset_ns: ArrayLike) -> NDArray[np.int64]:
        """Slot key of each offset: the slot index, or the offset itself when ``slot_ns == 0``."""
        t = np.asarray(offset_ns, dtype=np.int64)
        return t.copy() if self.slot_ns == 0 else t // self.slot_ns

    def start_ns(self, key: int) -> int:
        """Offset of the slot's start, ns."""
        return int(key) if self.slot_ns == 0 else int(key) * self.slot_ns

    def sample_offsets_ns(self, key: int) -> NDArray[np.int64]:
        """Times at which a slot's satellite must be above the mask, ns (start first).

        ``n + 1`` samples at ``start + j * slot // n`` for ``j = 0 .. n``, with
        ``n = ceil(slot / 5 s)``: for 15 s slots, 0, 5, 10 and 15 s.
        """
        start = self.start_ns(key)
        if self.slot_ns == 0:
            return np.array([start], dtype=np.int64)
        n = -(-self.slot_ns // MAX_SAMPLE_SPACING_NS)
        return start + (np.arange(n + 1, dtype=np.int64) * self.slot_ns) // n

    def previous_key(self, offset_ns: ArrayLike) -> tuple[NDArray[np.bool_], NDArray[np.int64]]:
        """Which steps start a new assignment after another one, and the previous step's slot.

        Parameters
        ----------
        offset_ns : int64[T]

        Returns
        -------
        handover : bool[T]
            The step's slot differs from its previous step's (a handover may
            happen here).
        prev_key : int64[T]
            Slot key of the previous step (meaningful where ``handover``).
        """
        t = np.asarray(offset_ns, dtype=np.int64)
        k = self.key(t)
        if self.step_ns is not None:
            p = t - self.step_ns
            prev = self.key(p)
            return (p >= 0) & (prev != k), prev
        # Steps assumed to fall on every slot start.
        return (t > 0) & (t % self.slot_ns == 0), k - 1
