"""Faults: seeded draws independent of chunking, binomial rates, windows, clear errors."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leonet.constants import NS_PER_S
from leonet.errors import ScenarioError
from leonet.ground.sampling import sample_terminals
from leonet.ground.sites import sites_from_coordinates
from leonet.service.faults import STREAM_JAMMING, FaultSchedule, philox_uniform
from leonet.scenario.service import parse_service_tables

UTC = dt.timezone.utc
EPOCH = dt.datetime(2026, 5, 30, 12, tzinfo=UTC)
STEP_NS = 5 * NS_PER_S
GATEWAYS = ["GS220", "GS221", "GS222", "assumed:Bucharest (assumed), RO"]


def _faults(*tables):
    return parse_service_tables({"faults": list(tables)}).faults


@pytest.fixture(scope="module")
def terminals():
    # 60 terminals in Ukraine (sampled, seeded) and 2 in Poland.
    ua = sample_terminals("country:UA", 60, seed=11, id_prefix="ua")
    pl = sites_from_coordinates("terminal", [{"name": "Warsaw", "lat_deg": 52.23, "lon_deg": 21.01},
                                             {"name": "Krakow", "lat_deg": 50.06, "lon_deg": 19.94}])
    from leonet.ground.sites import GroundSites

    return GroundSites.concat([ua, pl])


def _schedule(faults, terminals, seed=7, size=1000):
    return FaultSchedule(faults, GATEWAYS, size, terminals, seed, epoch=EPOCH)


def _offsets(n=100):
    return np.arange(n, dtype=np.int64) * STEP_NS


def test_philox_uniform_is_numpys_philox_stream():
    # The variates are numpy's Philox raw words, keyed (seed, fault) and set to counter (0, step, stream, 0);
    # Generator.random() turns raw words into doubles the same way.
    got = philox_uniform((12345, 3), 42, STREAM_JAMMING, 10)
    ref = np.random.Generator(np.random.Philox(key=[12345, 3], counter=[0, 42, STREAM_JAMMING, 0])).random(10)
    np.testing.assert_array_equal(got, ref)
    # A longer draw extends a shorter one.
    np.testing.assert_array_equal(philox_uniform((1, 0), 5, 1, 3), philox_uniform((1, 0), 5, 1, 1000)[:3])
    assert got.dtype == np.float64 and ((got >= 0) & (got < 1)).all()


def test_jamming_is_identical_whatever_the_chunking(terminals):
    faults = _faults({"kind": "jamming", "region": "country:UA", "probability": 0.3})
    offsets, steps = _offsets(), np.arange(100, dtype=np.int64)
    whole = _schedule(faults, terminals).jammed(offsets, steps)
    assert whole.shape == (100, len(terminals)) and whole.dtype == bool
    for size in (1, 7, 33):
        # A fresh schedule per chunk, as a worker process would build it.
        parts = [_schedule(faults, terminals).jammed(offsets[i : i + size], steps[i : i + size]) for i in range(0, 100, size)]
        np.testing.assert_array_equal(np.concatenate(parts), whole)
    # In reverse order and shuffled.
    order = np.random.default_rng(0).permutation(100)
    shuffled = _schedule(faults, terminals).jammed(offsets[order], steps[order])
    np.testing.assert_array_equal(shuffled, whole[order])
    # Only Ukrainian terminals are jammed (the last two are in Poland).
    assert not whole[:, -2:].any()
    assert whole[:, :60].any()


def test_every_fault_kind_is_identical_whatever_the_chunking(terminals):
    faults = _faults(
        {"kind": "satellites-failed", "fraction": 0.1, "from": "2026-05-30T12:01:00Z"},
        {"kind": "isl-lost", "fraction": 0.2, "until": "2026-05-30T12:06:00Z"},
        {"kind": "gateway-down", "gateways": ["GS221"], "from": "2026-05-30T12:02:00Z", "until": "2026-05-30T12:03:00Z"},
        {"kind": "capacity-loss", "region": "oblast:Kharkiv", "share": 0.5},
        {"kind": "jamming", "region": "oblast:Kyiv Oblast", "probability": 0.5, "from": "2026-05-30T12:04:10Z"},
    )
    sched = _schedule(faults, terminals)
    offsets, steps = _offsets(), np.arange(100, dtype=np.int64)
    whole = [sched.satellite_failed(offsets), sched.isl_lost(offsets, 500), sched.gateway_down(offsets),
             sched.capacity_share(offsets), sched.jammed(offsets, steps)]
    for size in (1, 7, 33):
        chunks = [slice(i, i + size) for i in range(0, 100, size)]
        fresh = [_schedule(faults, terminals) for _ in chunks]
        got = [
            np.concatenate([f.satellite_failed(offsets[c]) for f, c in zip(fresh, chunks)]),
            np.concatenate([f.isl_lost(offsets[c], 500) for f, c in zip(fresh, chunks)]),
            np.concatenate([f.gateway_down(offsets[c]) for f, c in zip(fresh, chunks)]),
            np.concatenate([f.capacity_share(offsets[c]) for f, c in zip(fresh, chunks)]),
            np.concatenate([f.jammed(offsets[c], steps[c]) for f, c in zip(fresh, chunks)]),
        ]
        for a, b in zip(got, whole):
            np.testing.assert_array_equal(a, b)


def test_different_seeds_differ(terminals):
    faults = _faults({"kind": "jamming", "region": "country:UA", "probability": 0.3},
                     {"kind": "satellites-failed", "fraction": 0.05}, {"kind": "isl-lost", "fraction": 0.05})
    offsets, steps = _offsets(), np.arange(100, dtype=np.int64)
    a, b = _schedule(faults, terminals, seed=1), _schedule(faults, terminals, seed=2)
    assert not np.array_equal(a.jammed(offsets, steps), b.jammed(offsets, steps))
    assert not np.array_equal(a.satellite_failed(offsets[:1]), b.satellite_failed(offsets[:1]))
    assert not np.array_equal(a.isl_lost(offsets[:1], 4000), b.isl_lost(offsets[:1], 4000))
    same = _schedule(faults, terminals, seed=1)
    np.testing.assert_array_equal(a.jammed(offsets, steps), same.jammed(offsets, steps))
    # Two faults of the same kind draw independently (keyed by their index).
    two = _schedule(_faults({"kind": "satellites-failed", "fraction": 0.05}, {"kind": "satellites-failed", "fraction": 0.05}), terminals)
    assert not np.array_equal(two._satellite_mask[0], two._satellite_mask[1])


@pytest.mark.parametrize("seed", [0, 1, 2, 20220226])
@pytest.mark.parametrize("fraction", [0.02, 0.3])
def test_failed_satellite_fraction_is_binomial(terminals, seed, fraction):
    # S independent Bernoulli(fraction) failures: the count has mean S f and sd sqrt(S f (1 - f)); allow 5 sd.
    size = 10_000
    sched = _schedule(_faults({"kind": "satellites-failed", "fraction": fraction}), terminals, seed=seed, size=size)
    failed = sched.satellite_failed(_offsets(1))
    assert failed.shape == (1, size)
    n = int(failed.sum())
    mean, sd = size * fraction, math.sqrt(size * fraction * (1 - fraction))
    assert abs(n - mean) < 5 * sd, (n, mean, sd)


def test_jamming_rate_is_binomial(terminals):
    # 60 terminals in the region x 100 steps at p = 0.3: mean 1800, sd sqrt(6000 x 0.21) = 35.5.
    sched = _schedule(_faults({"kind": "jamming", "region": "country:UA", "probability": 0.3}), terminals)
    jammed = sched.jammed(_offsets(), np.arange(100, dtype=np.int64))
    in_region = int(sched._terminal_mask[0].sum())
    assert in_region == 60
    n, trials = int(jammed.sum()), in_region * 100
    assert abs(n - 0.3 * trials) < 5 * math.sqrt(trials * 0.3 * 0.7)
    # Steps are independent: no terminal is jammed at every step, and the per-step counts vary.
    assert not jammed[:, :60].all(axis=0).any()
    assert len(set(jammed.sum(axis=1).tolist())) > 5


@settings(max_examples=25, deadline=None)
@given(low=st.floats(0.0, 1.0), high=st.floats(0.0, 1.0), seed=st.integers(0, 2**32))
def test_raising_a_fraction_only_adds_failures(low, high, seed):
    low, high = min(low, high), max(low, high)
    sites = sites_from_coordinates("terminal", [{"name": "Kyiv", "lat_deg": 50.45, "lon_deg": 30.52}])
    a = FaultSchedule(_faults({"kind": "satellites-failed", "fraction": low}), [], 500, sites, seed, epoch=EPOCH)
    b = FaultSchedule(_faults({"kind": "satellites-failed", "fraction": high}), [], 500, sites, seed, epoch=EPOCH)
    fa, fb = a.satellite_failed(_offsets(1)), b.satellite_failed(_offsets(1))
    assert not (fa & ~fb).any()


def test_isl_draw_of_a_link_does_not_depend_on_the_link_count(terminals):
    sched = _schedule(_faults({"kind": "isl-lost", "fraction": 0.25}), terminals)
    few, many = sched.isl_lost(_offsets(2), 100), sched.isl_lost(_offsets(2), 4000)
    assert few.shape == (2, 100) and many.shape == (2, 4000)
    np.testing.assert_array_equal(few, many[:, :100])
    assert sched.isl_lost(_offsets(2), 0).shape == (2, 0)


def test_gateway_down_window_edges(terminals):
    faults = _faults({"kind": "gateway-down", "gateways": ["GS221", "assumed:Bucharest (assumed), RO"],
                      "from": "2026-05-30T12:00:10Z", "until": "2026-05-30T12:00:20Z"})
    down = _schedule(faults, terminals).gateway_down(_offsets(6))  # t = 0, 5, ..., 25 s
    assert down.shape == (6, 4) and down.dtype == bool
    assert down[:, 1].tolist() == [False, False, True, True, False, False]
    assert (down[:, 3] == down[:, 1]).all()
    assert not down[:, [0, 2]].any()


def test_capacity_share_multiplies(terminals):
    kharkiv = sites_from_coordinates("terminal", [{"name": "Kharkiv", "lat_deg": 49.99, "lon_deg": 36.23},
                                                  {"name": "Kyiv", "lat_deg": 50.45, "lon_deg": 30.52},
                                                  {"name": "Warsaw", "lat_deg": 52.23, "lon_deg": 21.01}])
    faults = _faults({"kind": "capacity-loss", "region": "country:UA", "share": 0.5},
                     {"kind": "capacity-loss", "region": "oblast:Kharkiv", "share": 0.2, "from": "2026-05-30T12:00:05Z"})
    share = FaultSchedule(faults, GATEWAYS, 10, kharkiv, 0, epoch=EPOCH).capacity_share(_offsets(2))
    # Kharkiv keeps 0.5 then 0.5 x 0.8 = 0.4; Kyiv 0.5; Warsaw 1.
    np.testing.assert_allclose(share, [[0.5, 0.5, 1.0], [0.4, 0.5, 1.0]], rtol=0, atol=1e-15)


def test_unknown_gateway_names_path_value_and_fix(terminals):
    with pytest.raises(ScenarioError) as info:
        _schedule(_faults({"kind": "gateway-down", "gateways": ["GS221", "GS2200"]}), terminals)
    message = str(info.value)
    for needle in ("faults[0].gateways[1]", "'GS2200'", "close matches: GS220", "fix: use an id from [ground.gateways]"):
        assert needle in message, message


def test_bad_arguments(terminals):
    faults = _faults({"kind": "jamming", "region": "country:UA", "probability": 0.3})
    with pytest.raises(ScenarioError, match="seed"):
        FaultSchedule(faults, GATEWAYS, 10, terminals, -1, epoch=EPOCH)
    with pytest.raises(ScenarioError, match="constellation_size"):
        FaultSchedule(faults, GATEWAYS, -5, terminals, 0, epoch=EPOCH)
    sched = _schedule(faults, terminals)
    with pytest.raises(ScenarioError, match="step_index"):
        sched.jammed(_offsets(3), np.arange(2))
    with pytest.raises(ScenarioError, match="faults\\[0\\].region"):
        _schedule(_faults({"kind": "jamming", "region": "oblast:Nowhere", "probability": 0.1}), terminals)


def test_notes_describe_each_fault(terminals):
    faults = _faults({"kind": "satellites-failed", "fraction": 0.02, "name": "debris"},
                     {"kind": "gateway-down", "gateways": ["GS221"], "until": "2026-05-30T13:00:00Z"})
    notes = _schedule(faults, terminals, size=10_000).notes()
    assert notes[0].startswith("faults[0] (debris): ") and "of 10000 satellites fail for the whole run" in notes[0]
    assert notes[1] == "faults[1] (gateway-down): gateways GS221 down until 2026-05-30T13:00:00Z"
