"""Keyed draws: the latency model gives the same numbers, bit for bit, however time, terminals or probes are split."""

from __future__ import annotations

import numpy as np
import pytest

from leonet.latency import LatencyParams, ping_probes, probe_times, step_latency
from leonet.latency.draws import uniform4_by_index, uniform4_by_terminal
from leonet.latency.probes import needed_steps

S = 10**9
DAY = 1694476800 * S
SLOT, OFF = 15 * S, 12 * S
INTERVAL = 30_000_000


def test_terminal_draws_do_not_depend_on_which_other_terminals_are_asked():
    full = uniform4_by_terminal(5, DAY, 1, np.arange(50))
    part = uniform4_by_terminal(5, DAY, 1, [42, 7, 7, 0])
    np.testing.assert_array_equal(part, full[[42, 7, 7, 0]])
    mixed = uniform4_by_terminal(5, [DAY, DAY + S, DAY], 1, [3, 3, 4])
    np.testing.assert_array_equal(mixed[[0, 2]], full[[3, 4]])
    assert not np.array_equal(mixed[1], full[3])  # another time, another draw
    assert not np.array_equal(uniform4_by_terminal(6, DAY, 1, [3]), full[[3]])  # another seed
    assert not np.array_equal(uniform4_by_terminal(5, DAY, 2, [3]), full[[3]])  # another stream
    assert ((full >= 0) & (full < 1)).all()


def test_probe_draws_do_not_depend_on_the_range_asked():
    full = uniform4_by_index(9, 3, 1, np.arange(1000))
    for lo, hi in ((0, 1), (1, 5), (997, 1000), (400, 401)):
        np.testing.assert_array_equal(uniform4_by_index(9, 3, 1, np.arange(lo, hi)), full[lo:hi])
    np.testing.assert_array_equal(uniform4_by_index(9, 3, 1, [999, 0]), full[[999, 0]])
    assert not np.array_equal(uniform4_by_index(9, 4, 1, [5]), full[[5]])  # another terminal


def _paths(t_steps, g):
    """A made-up propagation that varies with time and terminal (bent pipe for even terminals)."""
    tt = (t_steps[:, None] - DAY) / S
    up = 2e-3 + 1e-4 * np.sin(tt / 40.0 + g[None, :])
    isl = np.where(g[None, :] % 2 == 1, 15e-3 + 1e-3 * np.cos(tt / 60.0), 0.0)
    hops = np.where(g[None, :] % 2 == 1, 4 + (tt // 15 % 3), 0) + 0 * tt
    up = np.where((g[None, :] == 2) & (tt > 100) & (tt < 130), np.nan, up)  # an outage
    return up, isl, np.full(up.shape, 2.2e-3), np.full(up.shape, 0.4e-3), hops


def _steps_in_chunks(params, t_steps, g, chunks):
    up, isl, feed, back, hops = _paths(t_steps, g)
    rows = []
    for idx in np.array_split(np.arange(t_steps.size), chunks):
        tt = np.repeat(t_steps[idx], g.size)
        out = step_latency(
            params, seed=3, t_unix_ns=tt, terminal=np.tile(g, idx.size), uplink_s=up[idx].ravel(),
            isl_s=isl[idx].ravel(), feeder_s=feed[idx].ravel(), backhaul_s=back[idx].ravel(),
            isl_hops=hops[idx].ravel(), lon_deg=np.tile(np.linspace(-120, 120, g.size), idx.size), slot_ns=SLOT,
            slot_offset_ns=OFF, step_ns=S,
        )
        rows.append(np.stack([out.rtt_s, out.queueing_s, out.reconfiguration_s, out.loss_probability]))
    return np.concatenate(rows, axis=1)


@pytest.mark.parametrize("chunks", [2, 7, 300])
def test_step_latency_is_identical_for_any_chunking(chunks):
    params = LatencyParams()
    t_steps = DAY + np.arange(300) * S
    g = np.arange(6)
    whole = _steps_in_chunks(params, t_steps, g, 1)
    np.testing.assert_array_equal(_steps_in_chunks(params, t_steps, g, chunks), whole)
    # A terminal computed alone gets its own values too.
    up, isl, feed, back, hops = _paths(t_steps, g)
    alone = step_latency(
        params, seed=3, t_unix_ns=t_steps, terminal=np.full(t_steps.size, 5), uplink_s=up[:, 5], isl_s=isl[:, 5],
        feeder_s=feed[:, 5], backhaul_s=back[:, 5], isl_hops=hops[:, 5], lon_deg=np.full(t_steps.size, 120.0),
        slot_ns=SLOT, slot_offset_ns=OFF, step_ns=S,
    )
    np.testing.assert_array_equal(alone.rtt_s, whole[0].reshape(t_steps.size, g.size)[:, 5])


def _probes(params, t_steps, col, k, tp):
    up, isl, feed, back, hops = (a[:, col] for a in _paths(t_steps, np.arange(4)))
    return ping_probes(
        params, seed=3, terminal=col, probe_index=k, probe_t_unix_ns=tp, interval_ns=INTERVAL, step_t_unix_ns=t_steps,
        uplink_s=up, isl_s=isl, feeder_s=feed, backhaul_s=back, isl_hops=hops, lon_deg=10.0, slot_ns=SLOT, slot_offset_ns=OFF,
    )


@pytest.mark.parametrize("terminal", [1, 2])
def test_ping_probes_are_identical_for_any_split(terminal):
    params = LatencyParams()
    t_steps = DAY + np.arange(0, 200, 5) * S  # 5 s steps: probes between them are interpolated
    k, tp = probe_times(int(t_steps[0]), int(t_steps[-1]), INTERVAL)
    whole = _probes(params, t_steps, terminal, k, tp)
    parts = []
    for idx in np.array_split(np.arange(k.size), 5):
        i0, i1 = needed_steps(t_steps, tp[idx])
        sub = t_steps[i0:i1]
        up, isl, feed, back, hops = (a[i0:i1, terminal] for a in _paths(t_steps, np.arange(4)))
        parts.append(
            ping_probes(
                params, seed=3, terminal=terminal, probe_index=k[idx], probe_t_unix_ns=tp[idx], interval_ns=INTERVAL,
                step_t_unix_ns=sub, uplink_s=up, isl_s=isl, feeder_s=feed, backhaul_s=back, isl_hops=hops, lon_deg=10.0, slot_ns=SLOT,
                slot_offset_ns=OFF,
            )
        )
    np.testing.assert_array_equal(np.concatenate([p.rtt_s for p in parts]), whole.rtt_s)
    np.testing.assert_array_equal(np.concatenate([p.lost for p in parts]), whole.lost)
    if terminal == 2:  # the outage (100-130 s) loses every probe in it
        out = (tp >= DAY + 105 * S) & (tp < DAY + 125 * S)
        assert whole.lost[out].all() and np.isnan(whole.rtt_s[out]).all()


def test_probes_and_steps_share_the_slot_level():
    # Probes on the steps themselves (same slot, same propagation) see the same standing queue:
    # with no per-packet randomness left, they equal the step's RTT.
    params = LatencyParams(beam_jitter_s=0.0, frame_s=1e-9, reconfiguration_pause_s=0.0, link_loss=0.0,
                           boundary_loss_probability=0.0)
    t_steps = DAY + np.arange(13, 26) * S  # inside one slot
    up, isl, feed, back, hops = (a[:, 1] for a in _paths(t_steps, np.arange(4)))
    steps = step_latency(
        params, seed=3, t_unix_ns=t_steps, terminal=np.ones(t_steps.size, int), uplink_s=up, isl_s=isl,
        feeder_s=feed, backhaul_s=back, isl_hops=hops, lon_deg=np.full(t_steps.size, 10.0), slot_ns=SLOT,
        slot_offset_ns=OFF, step_ns=S,
    )
    pings = _probes(params, t_steps, 1, np.arange(t_steps.size), t_steps)
    np.testing.assert_allclose(pings.rtt_s, steps.rtt_s, rtol=0, atol=5e-9)  # only the 1 ns frames differ


def test_consecutive_probes_share_their_queue_wait_with_the_memory_probability():
    from leonet.latency.probes import _remembered_wait_u

    params = LatencyParams(jitter_memory_s=0.08)
    k = np.arange(20000)
    u = uniform4_by_index(3, 7, 3, k)[:, 2]
    for interval_ns in (10_000_000, 150_000_000):
        w = _remembered_wait_u(params, 3, 7, k, interval_ns, u)
        keep = np.exp(-interval_ns / 1e9 / 0.08)
        assert (w[1:] == w[:-1]).mean() == pytest.approx(keep, abs=0.01)
        # Any sub-range gives the same waits (the look-back is keyed by index).
        np.testing.assert_array_equal(_remembered_wait_u(params, 3, 7, k[5000:5100], interval_ns, u[5000:5100]), w[5000:5100])
    # Without memory every probe keeps its own draw.
    np.testing.assert_array_equal(_remembered_wait_u(params.with_values(jitter_memory_s=0.0), 3, 7, k, 10_000_000, u), u)
