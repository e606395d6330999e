"""Each mechanism of the latency model against values worked out by hand, and the parameter bounds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from leonet.errors import ScenarioError
from leonet.latency import LatencyParams, step_latency
from leonet.latency.model import (
    access_delay_s,
    background_utilisation,
    boundary_loss_share,
    congestion_loss,
    effective_utilisation,
    local_solar_hour,
    pause_delay_s,
    processing_delay_s,
    slot_index,
)

S = 10**9
MS = 10**6
SLOT = 15 * S
OFF = 12 * S
#: 2023-09-12 00:00:00 UTC, a whole minute (and a whole day) in Unix time.
DAY = 1694476800 * S


# ----------------------------------------------------------------------
# Parameters
# ----------------------------------------------------------------------


def test_defaults_are_within_bounds_and_frame_is_humphreys():
    p = LatencyParams()
    assert p.frame_s == pytest.approx(1.0 / 750.0)
    assert len(p.diurnal_profile) == 24 and max(p.diurnal_profile) == 1.0


@pytest.mark.parametrize(
    "name, value",
    [
        ("frame_s", 0.0),
        ("grant_frames", -1.0),
        ("satellite_processing_s", -1e-3),
        ("beam_jitter_s", 2.0),
        ("buffer_s", 0.0),
        ("busy_hour_utilisation", 1.0),
        ("max_utilisation", 1.0),
        ("reconfiguration_pause_s", 1.5),
        ("boundary_loss_window_s", 15.0),
        ("boundary_loss_probability", 1.5),
        ("link_loss", 1.0),
        ("beam_level_s", float("nan")),
    ],
)
def test_values_outside_physical_bounds_are_scenario_errors(name, value):
    with pytest.raises(ScenarioError, match=rf"latency\.{name} = .* is outside"):
        LatencyParams().with_values(**{name: value})


@pytest.mark.parametrize("profile", [(0.5,) * 23, (0.5,) * 23 + (1.2,), (0.0,) * 24])
def test_a_bad_diurnal_profile_is_a_scenario_error(profile):
    with pytest.raises(ScenarioError, match="diurnal_profile must be 24 fractions"):
        LatencyParams(diurnal_profile=profile)


def test_unknown_parameter_names_are_scenario_errors():
    with pytest.raises(ScenarioError, match="unknown latency parameter"):
        LatencyParams().with_values(frame_ms=1.0)


# ----------------------------------------------------------------------
# Mechanisms
# ----------------------------------------------------------------------


def test_access_is_request_grant_round_trip_plus_frames():
    p = LatencyParams(grant_frames=4.0)
    f = 1.0 / 750.0
    # 1.5 ms slant range each way: request up + grant down = 3 ms; then 4 + 2 frames.
    assert access_delay_s(p, 1.5e-3, 0.0, 0.0) == pytest.approx(3e-3 + 6 * f)
    # Waits of a whole frame each at most: 8 frames.
    assert access_delay_s(p, 1.5e-3, 1.0, 1.0) == pytest.approx(3e-3 + 8 * f)


def test_processing_counts_every_satellite_crossed_both_ways():
    p = LatencyParams(satellite_processing_s=2e-4, ground_processing_s=1e-3)
    # Bent pipe: one satellite and the ground, twice: 2 x (0.2 + 1.0) ms.
    assert processing_delay_s(p, 0) == pytest.approx(2.4e-3)
    # Five laser hops cross six satellites: 2 x (6 x 0.2 + 1.0) ms.
    assert processing_delay_s(p, 5) == pytest.approx(4.4e-3)


def test_slot_index_counts_from_the_utc_phase():
    t = DAY + np.array([11, 12, 26, 27, 71, 72]) * S
    k = slot_index(t, SLOT, OFF)
    assert np.diff(k).tolist() == [1, 0, 1, 2, 1]
    assert ((k * SLOT + OFF) % (60 * S) // S).tolist() == [57, 12, 12, 27, 57, 12]


@pytest.mark.parametrize(
    "sent_after_boundary_ms, base_rtt_ms, wait_ms",
    [
        (0, 40, 60),  # sent at the boundary: waits the whole pause
        (10, 40, 50),  # sent inside the pause: waits the rest of it
        (59, 40, 1),
        (60, 40, 0),  # the link is back
        (-20, 40, 40),  # the reply comes back 20 ms into the pause
        (-40, 40, 60),  # the reply comes back as the pause starts
        (-41, 40, 0),  # ... and 1 ms before it
        (7000, 40, 0),  # mid-slot
    ],
)
def test_pause_holds_packets_that_meet_the_user_link_while_it_is_down(sent_after_boundary_ms, base_rtt_ms, wait_ms):
    p = LatencyParams(reconfiguration_pause_s=0.060)
    t = DAY + 27 * S + sent_after_boundary_ms * MS
    got = pause_delay_s(p, np.array([t]), base_rtt_ms / 1e3, SLOT, OFF)
    assert got[0] * 1e3 == pytest.approx(wait_ms, abs=1e-9)


def test_no_pause_without_synchronised_slots():
    p = LatencyParams(reconfiguration_pause_s=0.060)
    assert pause_delay_s(p, np.array([DAY + 12 * S]), 0.04, 0, 0).tolist() == [0.0]


def test_congestion_loss_is_the_exponential_tail_beyond_the_buffer():
    p = LatencyParams(beam_jitter_s=6e-3, buffer_s=48e-3)
    # rho = 0.5: mean wait 12 ms, buffer 48 ms: exp(-4).
    assert congestion_loss(p, 0.5) == pytest.approx(math.exp(-4.0))
    assert congestion_loss(p, 0.0) == pytest.approx(math.exp(-8.0))


def test_local_solar_hour_and_background_load():
    noon = DAY + 12 * 3600 * S
    assert local_solar_hour([noon, noon, noon], [0.0, 15.0, -123.31]).round(4).tolist() == [12.0, 13.0, 3.7793]
    prof = tuple(float(h % 2) for h in range(24))  # 0 at even hours, 1 at odd ones
    p = LatencyParams(busy_hour_utilisation=0.5, diurnal_profile=prof)
    # 12:30 at Greenwich: half-way between hour 12 (0) and 13 (1): 0.5 x 0.5.
    assert background_utilisation(p, [noon + 1800 * S], [0.0]).tolist() == [0.25]
    # 23:30 interpolates towards hour 0 (wraps): 0.5 x (1 + 0) / 2.
    assert background_utilisation(p, [DAY + (23 * 3600 + 1800) * S], [0.0]).tolist() == [0.25]
    # The scenario's own load adds; NaN adds nothing; the cap holds.
    rho = effective_utilisation(p, [noon] * 3, [15.0] * 3, [0.2, np.nan, 0.9])
    assert rho.round(6).tolist() == [0.7, 0.5, p.max_utilisation]


@pytest.mark.parametrize(
    "start_s, step_s, share",
    [
        (11, 1, 0.2),  # 11..12 s holds the 0.2 s before the boundary at 12
        (12, 1, 0.0),  # the boundary itself starts the step
        (10, 5, 0.2 / 5),
        (0, 60, 4 * 0.2 / 60),  # a minute holds four boundaries
        (26.9, 0.05, 1.0),
    ],
)
def test_boundary_loss_window_share_of_a_step(start_s, step_s, share):
    t = DAY + int(round(start_s * S))
    got = boundary_loss_share(np.array([t]), int(round(step_s * S)), int(0.2 * S), SLOT, OFF)
    assert got[0] == pytest.approx(share)


# ----------------------------------------------------------------------
# A whole step
# ----------------------------------------------------------------------


def _steps(n_terminals=4000, t=DAY + 5 * S, hops=0, **kw):
    p = LatencyParams(**kw)
    g = np.arange(n_terminals)
    args = dict(
        seed=11,
        t_unix_ns=t,
        terminal=g,
        uplink_s=np.full(g.size, 2e-3),
        isl_s=np.full(g.size, 10e-3 if hops else 0.0),
        feeder_s=np.full(g.size, 2.5e-3),
        backhaul_s=np.full(g.size, 0.5e-3),
        isl_hops=np.full(g.size, hops),
        lon_deg=np.zeros(g.size),
        slot_ns=SLOT,
        slot_offset_ns=OFF,
        step_ns=S,
    )
    return p, step_latency(p, **args)


def test_rtt_is_the_sum_of_its_parts_and_never_below_the_fixed_part():
    p, out = _steps()
    total = out.propagation_rtt_s + out.access_s + out.processing_s + out.queueing_s + out.reconfiguration_s
    np.testing.assert_allclose(out.rtt_s, total, rtol=0, atol=1e-15)
    np.testing.assert_allclose(out.propagation_rtt_s, 2 * (2 + 0 + 2.5 + 0.5) * 1e-3)
    floor = 10e-3 + 2 * 2e-3 + (p.grant_frames + 2) * p.frame_s + processing_delay_s(p, 0)
    assert out.rtt_s.min() >= floor
    # ... and the fixed part is reached: the smallest of 4000 draws is within 2 ms of it.
    assert out.rtt_s.min() - floor < 2e-3


def test_queueing_has_the_means_of_its_laws():
    # Midnight at Greenwich: rho = busy x profile[0].
    p, out = _steps(n_terminals=20000, t=DAY, hops=6)
    rho = p.busy_hour_utilisation * p.diurnal_profile[0]
    np.testing.assert_allclose(out.utilisation, rho)
    mu = p.beam_jitter_s / (1 - rho)
    drop = math.exp(-p.buffer_s / mu)
    # Mean of an exponential truncated at the buffer, plus the two slot levels (M/M/1 waits: busy share x mean).
    mean_wait = mu - p.buffer_s * drop / (1 - drop)
    expect = mean_wait + rho * p.beam_level_s / (1 - rho) + p.isl_utilisation * 6 * p.isl_level_per_hop_s
    assert out.queueing_s.mean() == pytest.approx(expect, rel=0.03)
    assert out.queueing_s.min() >= 0.0


def test_slot_levels_are_empty_with_probability_one_minus_utilisation():
    from leonet.latency.model import slot_levels_s

    p = LatencyParams(isl_utilisation=0.3, isl_level_memory_s=0.0)
    g = np.arange(20000)
    k = np.full(g.size, 10**8)
    beam_only = slot_levels_s(p, 1, k, g, np.full(g.size, 0.4), np.zeros(g.size), 15 * S)
    assert (beam_only == 0).mean() == pytest.approx(0.6, abs=0.01)
    busy = beam_only[beam_only > 0]
    assert busy.mean() == pytest.approx(p.beam_level_s / 0.6, rel=0.03)
    lasers = slot_levels_s(p.with_values(beam_level_s=0.0), 1, k, g, np.zeros(g.size), np.full(g.size, 10), 15 * S)
    assert (lasers > 0).mean() == pytest.approx(0.3, abs=0.01)
    assert lasers[lasers > 0].mean() == pytest.approx(10 * p.isl_level_per_hop_s, rel=0.03)


def test_laser_congestion_persists_across_slots():
    from leonet.latency.model import slot_levels_s

    p = LatencyParams(beam_level_s=0.0, isl_utilisation=1.0, isl_level_memory_s=20.0)
    keep = math.exp(-15.0 / 20.0)
    g = np.arange(5000)
    a = slot_levels_s(p, 2, np.full(g.size, 10**8), g, np.zeros(g.size), np.full(g.size, 8), 15 * S)
    b = slot_levels_s(p, 2, np.full(g.size, 10**8 + 1), g, np.zeros(g.size), np.full(g.size, 8), 15 * S)
    # The next slot keeps the level with probability exp(-15 s / 20 s), else draws anew.
    assert (a == b).mean() == pytest.approx(keep, abs=0.02)
    assert np.corrcoef(a, b)[0, 1] == pytest.approx(keep, abs=0.04)
    # Same marginal law: exponential with the per-hop mean.
    assert b.mean() == pytest.approx(8 * p.isl_level_per_hop_s, rel=0.05)


def test_loss_probability_is_link_times_congestion_away_from_boundaries():
    p, out = _steps(t=DAY + 5 * S)
    rho = out.utilisation[0]
    expect = 1 - (1 - p.link_loss) * (1 - congestion_loss(p, rho))
    np.testing.assert_allclose(out.loss_probability, expect)
    # The step before a boundary also holds its loss window.
    p2, before = _steps(t=DAY + 11 * S)
    w = p2.boundary_loss_window_s
    plain = 1 - (1 - p2.link_loss) * (1 - congestion_loss(p2, before.utilisation[0]))
    expect2 = 1 - (1 - plain) * (1 - p2.boundary_loss_probability * w / 1.0)
    np.testing.assert_allclose(before.loss_probability, expect2)


def test_unserved_terminal_steps_are_nan():
    p = LatencyParams()
    out = step_latency(
        p, seed=1, t_unix_ns=DAY, terminal=[0, 1], uplink_s=[2e-3, np.nan], isl_s=[0.0, np.nan],
        feeder_s=[2e-3, np.nan], backhaul_s=[0.0, np.nan], isl_hops=[0, -1], lon_deg=[0.0, 0.0],
        slot_ns=SLOT, slot_offset_ns=OFF, step_ns=S,
    )
    assert np.isfinite(out.rtt_s[0]) and np.isnan(out.rtt_s[1]) and np.isnan(out.loss_probability[1])


def test_a_bad_slot_clock_is_a_scenario_error():
    with pytest.raises(ScenarioError, match="slot_offset_ns"):
        step_latency(
            LatencyParams(), seed=1, t_unix_ns=DAY, terminal=[0], uplink_s=[2e-3], isl_s=[0.0], feeder_s=[2e-3],
            backhaul_s=[0.0], isl_hops=[0], lon_deg=[0.0], slot_ns=SLOT, slot_offset_ns=SLOT, step_ns=S,
        )


def test_every_step_slots_have_no_reconfiguration_and_a_new_level_each_step():
    p = LatencyParams(reconfiguration_pause_s=0.06)
    t = DAY + np.arange(12, 15) * S  # straddles the UTC-phase boundary at 12 s, which plays no role here
    common = dict(
        seed=4, t_unix_ns=t, terminal=np.zeros(3, int), uplink_s=np.full(3, 2e-3), isl_s=np.zeros(3),
        feeder_s=np.full(3, 2e-3), backhaul_s=np.zeros(3), isl_hops=np.zeros(3), lon_deg=np.zeros(3), step_ns=S,
    )
    out = step_latency(p, slot_ns=0, slot_offset_ns=0, **common)
    assert out.reconfiguration_s.tolist() == [0.0, 0.0, 0.0]
    rho = out.utilisation
    np.testing.assert_allclose(out.loss_probability, 1 - (1 - p.link_loss) * (1 - congestion_loss(p, rho)))
    cols = out.columns_ms()
    np.testing.assert_allclose(cols["rtt_ms"], out.rtt_s * 1e3)
    assert set(cols) == {"rtt_ms", "propagation_rtt_ms", "access_ms", "processing_ms", "queueing_ms",
                         "reconfiguration_ms", "loss_prob"}
