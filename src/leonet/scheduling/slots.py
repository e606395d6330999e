"""Scheduler slots: synchronised reassignment times, at their real UTC phase.

The representation
------------------
Starlink's global scheduler reassigns user terminals to satellites on
synchronised 15-second slots whose boundaries fall at 12, 27, 42 and 57 s
past every UTC minute, wherever the terminal is: the largest RTT jumps of
real dishes sit on those seconds (Tanveer et al., "Making Sense of
Constellations", IMC 2023; Mohan et al., "A Multifaceted Look at Starlink
Performance", WWW 2024; and the ping series in ``shared/data/measurements``,
analysed in ``validation/measurements.py``).  A boundary therefore falls at
every instant whose time since the Unix epoch is ``offset (mod slot)``
(``network.slot_offset_s``, default 12 s; Unix time has no leap seconds, so
its seconds of the minute are UTC's, and a run may not cross a leap second,
`leonet.timebase.check_no_leap_second`).  With a slot that divides 60 s this
is "``offset`` s past each UTC minute, modulo the slot".

Offsets are counted from the scenario epoch, so the clock keeps the
epoch's phase: ``phase_ns``, the offset of a boundary from the epoch
(``0 <= phase_ns < slot_ns``).  Slot ``k`` covers
``[phase + k * slot, phase + (k + 1) * slot)`` in nanoseconds from the
epoch; the slot that holds the epoch itself is ``k = -1`` when the epoch is
not on a boundary (it started before the run, and is judged from its own
start).  A step's slot depends on its time alone
(``(offset_ns - phase_ns) // slot_ns``), never on how the run is chunked.
With ``slot_ns = 0`` every step is its own slot and the slot *key* is the
step's offset itself (the phase plays no role).

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
the step divides the slot and the phase, e.g. 1 s steps and 15 s slots)
and records handovers only at steps that are slot starts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..constants import NS_PER_S
from ..errors import ScenarioError

__all__ = ["SlotClock", "MAX_SAMPLE_SPACING_NS", "DEFAULT_SLOT_OFFSET_S", "unix_ns", "slot_phase_ns"]

#: Largest spacing of the visibility samples inside a slot, ns.
MAX_SAMPLE_SPACING_NS = 5 * NS_PER_S

#: Default phase of the slot boundaries: 12 s past each UTC minute (so 12, 27,
#: 42 and 57 s with 15 s slots), where real dishes show their RTT jumps
#: (module notes).
DEFAULT_SLOT_OFFSET_S = 12.0

from ..timebase import unix_ns  # noqa: E402,F401  (re-exported: slots are read in Unix time)


def slot_phase_ns(slot_ns: int, offset_ns: int, epoch_unix_ns: int) -> int:
    """Offset of a slot boundary from an epoch, ns, in ``[0, slot_ns)``.

    Boundaries fall where the Unix time is ``offset_ns (mod slot_ns)``; the
    epoch is ``epoch_unix_ns`` ns after the Unix epoch.  0 when ``slot_ns`` is 0.

    Examples
    --------
    A run that starts at 12:00:05 UTC meets its first boundary 7 s later, at 12:00:12:

    >>> slot_phase_ns(15 * NS_PER_S, 12 * NS_PER_S, unix_ns(dt.datetime(2026, 5, 30, 12, 0, 5))) // NS_PER_S
    7
    """
    if slot_ns == 0:
        return 0
    return (int(offset_ns) - int(epoch_unix_ns)) % int(slot_ns)


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
    phase_ns : int
        Offset of a slot boundary from the scenario epoch, ns,
        ``0 <= phase_ns < slot_ns`` (0 when ``slot_ns == 0``); build it from
        the UTC phase with `from_seconds`.
    """

    slot_ns: int
    step_ns: int | None = None
    phase_ns: int = 0

    def __post_init__(self):
        if self.slot_ns < 0:
            raise ScenarioError(f"slot length must be >= 0 ns, got {self.slot_ns}")
        if self.step_ns is not None and self.step_ns <= 0:
            raise ScenarioError(f"step_ns must be positive, got {self.step_ns}")
        if self.slot_ns > 0 and not 0 <= self.phase_ns < self.slot_ns:
            raise ScenarioError(f"slot phase must be in [0, {self.slot_ns}) ns, got {self.phase_ns}")
        if self.slot_ns == 0 and self.phase_ns != 0:
            raise ScenarioError(f"with slot_ns = 0 (every step a slot) the phase must be 0, got {self.phase_ns}")
        if self.slot_ns == 0 and self.step_ns is None:
            raise ScenarioError(
                "with network.slot_s = 0 (reassign every step) the scheduler needs the run's step to know each "
                "step's predecessor: pass step_ns (the scenario's time.step_ns)"
            )

    @classmethod
    def from_seconds(
        cls,
        slot_s: float,
        step_ns: int | None = None,
        *,
        offset_s: float = 0.0,
        epoch_utc: dt.datetime | None = None,
    ) -> "SlotClock":
        """The clock of slots of ``slot_s`` whose boundaries fall ``offset_s`` past each UTC minute (mod the slot).

        Parameters
        ----------
        slot_s : float, s
            Slot length; 0 = every step is a slot (``offset_s`` is then ignored).
        step_ns : int, optional
            The run's step, ns.
        offset_s : float, s
            Phase of the boundaries in UTC, ``>= 0`` (``network.slot_offset_s``;
            Starlink: 12 s), taken modulo the slot.
        epoch_utc : datetime, optional
            The scenario epoch (offset 0).  Without it the epoch is taken to be
            a whole UTC minute (boundaries ``offset_s`` after it, mod the slot).

        Raises
        ------
        leonet.errors.ScenarioError
            For a negative offset.

        Examples
        --------
        >>> import datetime as dt
        >>> clock = SlotClock.from_seconds(15.0, offset_s=12.0, epoch_utc=dt.datetime(2026, 5, 30, 12, 0, 0))
        >>> clock.phase_ns // NS_PER_S, clock.key([0, 11 * NS_PER_S, 12 * NS_PER_S]).tolist()
        (12, [-1, -1, 0])
        """
        slot_ns = int(round(slot_s * NS_PER_S))
        if slot_ns == 0:
            return cls(0, step_ns)
        offset_ns = int(round(offset_s * NS_PER_S))
        if offset_ns < 0:
            raise ScenarioError(
                f"network.slot_offset_s = {offset_s!r} must be >= 0 "
                "(Starlink's boundaries fall 12 s past each UTC minute: slot_offset_s = 12)"
            )
        epoch_ns = 0 if epoch_utc is None else unix_ns(epoch_utc)
        return cls(slot_ns, step_ns, slot_phase_ns(slot_ns, offset_ns, epoch_ns))

    def key(self, offset_ns: ArrayLike) -> NDArray[np.int64]:
        """Slot key of each offset: the slot index, or the offset itself when ``slot_ns == 0``."""
        t = np.asarray(offset_ns, dtype=np.int64)
        return t.copy() if self.slot_ns == 0 else (t - self.phase_ns) // self.slot_ns

    def start_ns(self, key: int) -> int:
        """Offset of the slot's start from the epoch, ns (negative for the slot that holds an off-boundary epoch)."""
        return int(key) if self.slot_ns == 0 else int(key) * self.slot_ns + self.phase_ns

    def sample_offsets_ns(self, key: int) -> NDArray[np.int64]:
        """Times at which a slot's satellite must be above the mask, ns (start first).

        ``n + 1`` samples at ``start + j * slot // n`` for ``j = 0 .. n``, with
        ``n = ceil(slot / 5 s)``: for 15 s slots, 0, 5, 10 and 15 s.  The slot
        that holds an off-boundary epoch (it started before the run) is judged
        from the epoch on: its samples span ``[0, end]`` instead, so nothing is
        asked of the time before the run (faults, fleets and policies start
        at the epoch); its decision instant is then the epoch.
        """
        start = self.start_ns(key)
        if self.slot_ns == 0:
            return np.array([start], dtype=np.int64)
        end = start + self.slot_ns
        start = max(start, 0) if end > 0 else start
        span = end - start
        n = -(-span // MAX_SAMPLE_SPACING_NS)
        return start + (np.arange(n + 1, dtype=np.int64) * span) // n

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
        return (t > 0) & ((t - self.phase_ns) % self.slot_ns == 0), k - 1
