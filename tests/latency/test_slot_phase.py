"""The scheduler at its real phase: slot boundaries 12, 27, 42 and 57 s past each UTC minute, whatever the start."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from scenes import toy_scenario  # tests/scenes.py
from leonet.engine.run import run_scenario
from leonet.errors import ScenarioError
from leonet.results.query import query
from leonet.scenario.load import load_scenario
from leonet.scenario.schema import NetworkSpec
from leonet.scheduling.slots import SlotClock, slot_phase_ns, unix_ns

S = 10**9
UTC = dt.timezone.utc


@pytest.mark.parametrize(
    "epoch, phase_s",
    [
        (dt.datetime(2026, 5, 30, 12, 0, 0, tzinfo=UTC), 12.0),
        (dt.datetime(2026, 5, 30, 12, 0, 5, tzinfo=UTC), 7.0),
        (dt.datetime(2026, 5, 30, 12, 0, 12, tzinfo=UTC), 0.0),
        (dt.datetime(2026, 5, 30, 12, 0, 12, 500000, tzinfo=UTC), 14.5),
        (dt.datetime(2023, 9, 12, 0, 5, 35, tzinfo=UTC), 7.0),
    ],
)
def test_boundaries_fall_12_27_42_57_s_past_the_minute_whatever_the_start(epoch, phase_s):
    clock = SlotClock.from_seconds(15.0, S, offset_s=12.0, epoch_utc=epoch)
    assert clock.phase_ns == int(phase_s * S)
    for key in range(-1, 9):
        start = epoch + dt.timedelta(microseconds=clock.start_ns(key) // 1000)
        assert (start.second, start.microsecond) in {(12, 0), (27, 0), (42, 0), (57, 0)}
    offsets = np.arange(0, 120 * S, S // 4)
    keys = clock.key(offsets)
    # A step's slot starts at or before it and ends after it.
    starts = np.array([clock.start_ns(k) for k in keys])
    assert np.all(starts <= offsets) and np.all(offsets < starts + 15 * S)


def test_keys_do_not_depend_on_the_chunking():
    clock = SlotClock.from_seconds(15.0, 2 * S, offset_s=12.0, epoch_utc=dt.datetime(2026, 5, 30, 12, 0, 5, tzinfo=UTC))
    t = np.arange(0, 200, 2) * S
    whole_keys = clock.key(t)
    whole_h, whole_prev = clock.previous_key(t)
    for part in np.array_split(np.arange(t.size), 7):
        np.testing.assert_array_equal(clock.key(t[part]), whole_keys[part])
        h, prev = clock.previous_key(t[part])
        np.testing.assert_array_equal(h, whole_h[part])
        np.testing.assert_array_equal(prev[h], whole_prev[part][h])
    # Handovers at the first step after 12:00:12, 12:00:27 ... (offsets 7, 22, ... s; 2 s steps: 8, 22, 38 ...).
    assert (t[whole_h][:4] // S).tolist() == [8, 22, 38, 52]


def test_the_slot_holding_the_epoch_is_judged_from_the_epoch():
    clock = SlotClock.from_seconds(15.0, S, offset_s=12.0, epoch_utc=dt.datetime(2026, 5, 30, 12, 0, 5, tzinfo=UTC))
    # Slot -1 is 11:59:57 .. 12:00:12: sampled from the epoch to its end, at most 5 s apart.
    samples = clock.sample_offsets_ns(-1)
    assert samples[0] == 0 and samples[-1] == 7 * S and np.diff(samples).max() <= 5 * S
    assert clock.start_ns(-1) == -8 * S
    # Later slots are sampled over their whole 15 s.
    assert (clock.sample_offsets_ns(0) // S).tolist() == [7, 12, 17, 22]


def test_every_step_slots_ignore_the_phase():
    clock = SlotClock.from_seconds(0.0, S, offset_s=12.0, epoch_utc=dt.datetime(2026, 5, 30, 12, 0, 5, tzinfo=UTC))
    assert clock.phase_ns == 0 and clock.key([3 * S]).tolist() == [3 * S]


def test_phase_arithmetic_and_bad_offsets():
    assert unix_ns(dt.datetime(1970, 1, 1, 0, 1, tzinfo=UTC)) == 60 * S
    assert slot_phase_ns(15 * S, 12 * S, 60 * S + 13 * S) == 14 * S
    with pytest.raises(ScenarioError, match="slot_offset_s"):
        SlotClock.from_seconds(15.0, S, offset_s=-1.0)
    with pytest.raises(ScenarioError, match="phase"):
        SlotClock(15 * S, S, 15 * S)
    # The default 12 s is taken modulo a shorter slot; an explicit offset must fit the slot.
    assert NetworkSpec(slot_s=10.0).slot_offset_s == 12.0
    assert SlotClock.from_seconds(10.0, S, offset_s=12.0).phase_ns == 2 * S
    with pytest.raises(ValueError, match="slot_offset_s = 15 must be less than slot_s = 15"):
        NetworkSpec(slot_s=15.0, slot_offset_s=15.0)


def test_a_scenario_with_an_offset_outside_the_slot_is_rejected(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(toy_scenario() + "[network]\nslot_s = 15\nslot_offset_s = 20\n")
    with pytest.raises(ScenarioError, match="slot_offset_s"):
        load_scenario(path)


def test_a_run_hands_over_only_at_12_27_42_57_s_past_the_minute(tmp_path):
    # Starts at 12:00:05, 1 s steps, chunks of 7 steps that straddle the boundaries.
    text = toy_scenario(duration_s=100, step_s=1, chunk_steps=7).replace(
        'start_utc = "2026-05-30T12:00:00Z"', 'start_utc = "2026-05-30T12:00:05Z"'
    )
    path = tmp_path / "toy.toml"
    path.write_text(text)
    out = tmp_path / "run"
    run_scenario(load_scenario(path), out)
    t = np.asarray(query(out, "SELECT t_ns FROM handovers WHERE from_sat >= 0 AND to_sat >= 0").column("t_ns"))
    assert t.size > 0
    assert set(((5 * S + t) // S % 60).tolist()) <= {12, 27, 42, 57}
