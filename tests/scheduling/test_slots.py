"""Slot arithmetic."""

from __future__ import annotations

import numpy as np
import pytest

from leonet.errors import ScenarioError
from leonet.scheduling.slots import SlotClock

S = 10**9


def test_keys_are_aligned_to_the_epoch():
    clock = SlotClock.from_seconds(15.0)
    assert clock.key([0, 14 * S, 15 * S, 29 * S + 999, 30 * S]).tolist() == [0, 0, 1, 1, 2]
    assert clock.start_ns(3) == 45 * S


def test_samples_cover_start_end_and_at_most_5_s_between():
    clock = SlotClock.from_seconds(15.0)
    assert (clock.sample_offsets_ns(2) // S).tolist() == [30, 35, 40, 45]
    odd = SlotClock.from_seconds(12.0).sample_offsets_ns(0)
    assert odd[0] == 0 and odd[-1] == 12 * S and np.diff(odd).max() <= 5 * S
    every = SlotClock(0, step_ns=S)
    assert every.sample_offsets_ns(7 * S).tolist() == [7 * S]


def test_previous_key_with_the_step_known():
    clock = SlotClock(15 * S, step_ns=2 * S)
    t = np.arange(0, 40, 2) * S
    handover, prev = clock.previous_key(t)
    # Steps 16 s (slot 1; previous step 14 s in slot 0) and 30 s (slot 2; 28 s in slot 1).
    assert (t[handover] // S).tolist() == [16, 30]
    assert prev[handover].tolist() == [0, 1]
    # A chunk that starts at 16 s finds the same, from its time alone.
    h1, p1 = clock.previous_key(np.array([16 * S]))
    assert h1.tolist() == [True] and p1.tolist() == [0]


def test_previous_key_without_the_step_assumes_aligned_steps():
    clock = SlotClock.from_seconds(15.0)
    handover, prev = clock.previous_key(np.arange(0, 31) * S)
    assert np.flatnonzero(handover).tolist() == [15, 30] and prev[handover].tolist() == [0, 1]


def test_every_step_slots_need_the_step():
    with pytest.raises(ScenarioError, match="step_ns"):
        SlotClock(0)
    clock = SlotClock(0, step_ns=S)
    handover, prev = clock.previous_key(np.array([0, S, 2 * S]))
    assert handover.tolist() == [False, True, True] and prev.tolist() == [-S, 0, S]
