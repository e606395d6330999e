"""Speed tests: the greedy-flow formula against brute-force re-allocation, hand-worked steps, properties."""

from __future__ import annotations

import re
from collections import defaultdict

import numpy as np
import pytest
import scipy.sparse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leonet.capacity import CapacityModel, max_min_fair
from leonet.capacity.params import BEAM_CAPACITY_BPS
from leonet.capacity.speedtest import (
    BOTTLENECK_NAMES,
    greedy_rates,
    link_factor,
    satellite_generations,
    speedtest_step,
    uplink_model,
)
from leonet.errors import ScenarioError
from leonet.ground.sites import data_path

rtol = 1e-9
MBPS = 1e6


def incidence(rows: list[list[int]], n_res: int) -> scipy.sparse.csr_array:
    dense = np.zeros((len(rows), n_res))
    for f, cols in enumerate(rows):
        dense[f, cols] = 1
    return scipy.sparse.csr_array(dense)


def brute_greedy(demand, a, capacity):
    """Re-run max-min fairness once per flow with that flow's demand set to infinity."""
    demand = np.asarray(demand, dtype=float)
    out = np.empty(demand.size)
    for f in range(demand.size):
        d = demand.copy()
        d[f] = np.inf
        out[f] = max_min_fair(d, a, capacity)[f]
    return out


# ---------------------------------------------------------------- the kernel


def test_breakpoint_sort_and_counts_equal_the_lexsorts():
    """The kernel's integer sort and complex search give the lexsorts' permutation and counts, ties and all."""
    from leonet.capacity.speedtest import _by_resource_then_rate, _count_at_most, _count_at_most_lexsort

    rng = np.random.default_rng(3)
    for case in range(40):
        n_rows, n_res = int(rng.integers(1, 60)), int(rng.integers(1, 12))
        lens = rng.integers(0, 5, n_rows)
        row_of = np.repeat(np.arange(n_rows), lens)
        col_of = rng.integers(0, n_res, row_of.size)  # some rows list a resource twice
        rate = rng.choice([0.0, 1.0, 2.5, 1.0 + 2**-52, np.inf], n_rows)  # ties and near-ties
        order = _by_resource_then_rate(row_of, col_of, rate)
        np.testing.assert_array_equal(order, np.lexsort((rate[row_of], col_of)), err_msg=f"case {case}")
        res = np.sort(col_of)
        value = rng.choice([0.0, 3.0, 3.0 + 2**-51, 7.0, np.inf], res.size)
        target = rng.choice([0.0, 3.0, 3.0 + 2**-51, 5.0, np.inf], res.size)
        want = _count_at_most_lexsort(res, value, target)
        np.testing.assert_array_equal(_count_at_most(res, value, target), want, err_msg=f"case {case}")
        if res.size:
            value[0] = np.nan  # NaN takes the lexsort
            np.testing.assert_array_equal(_count_at_most(res, value, target), _count_at_most_lexsort(res, value, target))


def test_single_link_greedy_is_the_water_level():
    # Link of 10; others want 1, 2 and 6.  Greedy flow g: W + 1 + 2 + min(6, W) = 10 -> W = 3.5.
    a = incidence([[0], [0], [0], [0]], 1)
    demand = [0.0, 1.0, 2.0, 6.0]
    rate = max_min_fair(demand, a, [10.0])
    np.testing.assert_allclose(greedy_rates(rate, a, [10.0])[0], 3.5, rtol=rtol)
    np.testing.assert_allclose(greedy_rates(rate, a, [10.0]), brute_greedy(demand, a, [10.0]), rtol=rtol)


def test_unsaturated_link_leaves_capacity_minus_others():
    a = incidence([[0], [0], [0]], 1)
    demand = [1.0, 2.0, 3.0]
    rate = max_min_fair(demand, a, [20.0])
    np.testing.assert_allclose(greedy_rates(rate, a, [20.0]), [15.0, 16.0, 17.0], rtol=rtol)


def test_no_finite_resource_is_unlimited():
    a = incidence([[0], []], 1)
    out = greedy_rates([1.0, 0.0], a, [np.inf])
    assert np.isinf(out).all()
    # An infinite resource next to a finite one: only the finite one counts (3 - 0.5 left).
    a = incidence([[0, 1], [0], [0, 1]], 2)
    np.testing.assert_allclose(greedy_rates([2.5, np.inf, 0.5], a, [np.inf, 3.0]), [2.5, np.inf, 1.5])
    np.testing.assert_allclose(greedy_rates([0.0, np.inf, 0.5], a, [np.inf, 3.0]), [2.5, np.inf, 3.0])


def test_weights_equal_expanded_flows():
    # A class of 3 identical flows (weight 3) gives the same greedy rate as 3 rows.
    a_w = incidence([[0, 1], [0], [1]], 2)
    cap = [12.0, 7.0]
    a_x = incidence([[0, 1], [0, 1], [0, 1], [0], [1]], 2)
    d_x = [2.0, 2.0, 2.0, 9.0, 9.0]
    r_x = max_min_fair(d_x, a_x, cap)
    g_x = brute_greedy(d_x, a_x, cap)
    g_w = greedy_rates(r_x[[0, 3, 4]], a_w, cap, weight=[3.0, 1.0, 1.0])
    np.testing.assert_allclose(g_w, g_x[[0, 3, 4]], rtol=rtol)


def test_bad_inputs_are_reported():
    a = incidence([[0]], 1)
    with pytest.raises(ScenarioError, match="shape"):
        greedy_rates([1.0, 2.0], a, [1.0])
    with pytest.raises(ScenarioError, match="rate_bps"):
        greedy_rates([-1.0], a, [1.0])
    with pytest.raises(ScenarioError, match="0/1"):
        greedy_rates([1.0], scipy.sparse.csr_array(np.array([[2.0]])), [1.0])


@st.composite
def networks(draw):
    n_flows = draw(st.integers(1, 9))
    n_res = draw(st.integers(1, 5))
    rows = [sorted(draw(st.sets(st.integers(0, n_res - 1), min_size=0, max_size=min(3, n_res))))
            for _ in range(n_flows)]
    demand = [draw(st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.5, 7.0, np.inf])) for _ in range(n_flows)]
    # Finite capacities: leonet.capacity.max_min_fair (the brute force) returns NaN when a flow of
    # infinite demand freezes at an infinite level on a resource another flow still needs.
    cap = [draw(st.sampled_from([0.0, 1.0, 3.0, 4.0, 10.0])) for _ in range(n_res)]
    return rows, n_res, demand, cap


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
def test_formula_equals_brute_force(net):
    rows, n_res, demand, cap = net
    a = incidence(rows, n_res)
    rate = max_min_fair(demand, a, cap)
    got = greedy_rates(rate, a, cap)
    want = brute_greedy(demand, a, cap)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)
    assert np.all(got >= rate - 1e-12)


def test_formula_equals_brute_force_random_larger():
    rng = np.random.default_rng(12)
    for _ in range(40):
        n_flows, n_res = int(rng.integers(5, 40)), int(rng.integers(2, 12))
        dense = (rng.random((n_flows, n_res)) < 0.3).astype(float)
        a = scipy.sparse.csr_array(dense)
        demand = np.where(rng.random(n_flows) < 0.3, np.inf, rng.exponential(3.0, n_flows))
        cap = rng.uniform(1.0, 30.0, n_res)
        rate = max_min_fair(demand, a, cap)
        np.testing.assert_allclose(greedy_rates(rate, a, cap), brute_greedy(demand, a, cap), rtol=1e-9, atol=1e-9)


# ---------------------------------------------------------------- one step, hand-worked


def one_satellite(gateway_bps=100e9, generation="v1.5"):
    return CapacityModel.uniform(1, [gateway_bps], generation)


def test_alone_on_a_beam_gets_the_beam_capped_by_the_dish():
    m = one_satellite()
    r = speedtest_step(m, [0], [0], [0], 0.0, dish_peak_bps=2e9)
    np.testing.assert_allclose(r.speedtest_bps, [BEAM_CAPACITY_BPS], rtol=rtol)
    assert BOTTLENECK_NAMES[r.bottleneck[0]] == "beam"
    r = speedtest_step(m, [0], [0], [0], 0.0, dish_peak_bps=400e6)
    np.testing.assert_allclose(r.speedtest_bps, [400e6], rtol=rtol)
    assert BOTTLENECK_NAMES[r.bottleneck[0]] == "dish"
    # Link quality scales the beam (one cell, one range) and the dish peak alike.
    r = speedtest_step(m, [0], [0], [0], 0.0, dish_peak_bps=2e9, link_quality=0.5)
    np.testing.assert_allclose(r.speedtest_bps, [0.5 * BEAM_CAPACITY_BPS], rtol=rtol)


def test_two_greedy_users_share_the_beam():
    # Both users run a speed test at once (demand unlimited): each gets half.
    m = one_satellite()
    r = speedtest_step(m, [0, 0], [0, 0], [0, 0], np.inf, dish_peak_bps=5e9)
    np.testing.assert_allclose(r.speedtest_bps, [BEAM_CAPACITY_BPS / 2] * 2, rtol=rtol)
    np.testing.assert_allclose(r.throughput_bps, [BEAM_CAPACITY_BPS / 2] * 2, rtol=rtol)
    # One streams 25 Mbit/s: the other's test gets the rest of the beam.
    r = speedtest_step(m, [0, 0], [0, 0], [0, 0], [25e6, 0.0], dish_peak_bps=5e9)
    np.testing.assert_allclose(r.speedtest_bps[1], BEAM_CAPACITY_BPS - 25e6, rtol=rtol)
    np.testing.assert_allclose(r.speedtest_bps[0], BEAM_CAPACITY_BPS, rtol=rtol)  # its own 25 counts for it


def test_beam_saturated_by_others_gives_the_fair_share():
    # 2 Gbit/s of background in the cell, as 80 flows of 25 Mbit/s, on a 1.226 Gbit/s beam:
    # the test is one more flow: W + 80 min(25, W) = 1226 -> W = 1226 / 81.
    m = one_satellite()
    r = speedtest_step(m, [0], [0], [0], 0.0, dish_peak_bps=400e6, cell_background_bps=[2e9],
                       background_flow_bps=25e6)
    np.testing.assert_allclose(r.speedtest_bps[0], BEAM_CAPACITY_BPS / 81, rtol=1e-9)
    assert BOTTLENECK_NAMES[r.bottleneck[0]] == "beam"


def test_satellite_and_gateway_limits():
    # Satellite of 2 Gbit/s, 19 other cells' terminals streaming 100 Mbit/s each: 100 Mbit/s left.
    m = CapacityModel(satellite_capacity_bps=[2e9], beams_per_satellite=32, beam_capacity_bps=BEAM_CAPACITY_BPS,
                      gateway_capacity_bps=[100e9], isl_capacity_bps=100e9)
    r = speedtest_step(m, np.arange(20), np.zeros(20, int), np.zeros(20, int), [0.0] + [100e6] * 19,
                       dish_peak_bps=400e6)
    np.testing.assert_allclose(r.speedtest_bps[0], 100e6, rtol=1e-9)
    assert BOTTLENECK_NAMES[r.bottleneck[0]] == "satellite"
    # Background of other cells is different: a balanced scheduler runs every beam at the
    # satellite's utilisation, so 19.9 of V1.5's 20 Gbit/s put 19.9 x 1.2264 / 20 = 1.220 Gbit/s
    # on the test's beam too: the test is one more flow among 48.8 flows of 25 Mbit/s on it.
    r = speedtest_step(one_satellite(), [0], [0], [0], 0.0, dish_peak_bps=400e6,
                       satellite_background_bps=[19.9e9], background_flow_bps=25e6)
    hop = 19.9e9 * BEAM_CAPACITY_BPS / 20e9
    np.testing.assert_allclose(r.speedtest_bps[0], BEAM_CAPACITY_BPS / (1.0 + hop / 25e6), rtol=1e-9)
    assert BOTTLENECK_NAMES[r.bottleneck[0]] == "beam"
    # Gateway of 300 Mbit/s, one other terminal in another cell streaming 100: 200 left.
    m = one_satellite(gateway_bps=300e6)
    r = speedtest_step(m, [0, 1], [0, 0], [0, 0], [0.0, 100e6], dish_peak_bps=400e6)
    np.testing.assert_allclose(r.speedtest_bps[0], 200e6, rtol=1e-9)
    assert BOTTLENECK_NAMES[r.bottleneck[0]] == "gateway"


def test_beam_hopping_shares_the_satellite_load_over_its_beams():
    # V1.5: 16 beams of R = 1.2264 Gbit/s, C = 20 Gbit/s.  8 Gbit/s of other cells: a balanced
    # scheduler runs the test's beam at the satellite's utilisation, 8 / 20, so it carries
    # 8 x R / C = 0.49 Gbit/s of them.
    m = one_satellite()
    share = BEAM_CAPACITY_BPS / 20e9
    r = speedtest_step(m, [0], [0], [0], 0.0, dish_peak_bps=5e9, satellite_background_bps=[8e9])
    np.testing.assert_allclose(r.speedtest_bps[0], BEAM_CAPACITY_BPS - 8e9 * share, rtol=1e-9)
    assert BOTTLENECK_NAMES[r.bottleneck[0]] == "beam"
    # The cell's own 0.2 Gbit/s is part of the beam's balanced load, 8.2 x R / C.
    r = speedtest_step(m, [0], [0], [0], 0.0, dish_peak_bps=5e9, satellite_background_bps=[8e9],
                       cell_background_bps=[0.2e9])
    np.testing.assert_allclose(r.speedtest_bps[0], BEAM_CAPACITY_BPS - 8.2e9 * share, rtol=1e-9)
    # A cell busier than that (0.6 > 8.6 x R / C = 0.53) keeps its beam to itself.
    r = speedtest_step(m, [0], [0], [0], 0.0, dish_peak_bps=5e9, satellite_background_bps=[8e9],
                       cell_background_bps=[0.6e9])
    np.testing.assert_allclose(r.speedtest_bps[0], BEAM_CAPACITY_BPS - 0.6e9, rtol=1e-9)
    # The satellite carries the same total either way: the hop share moves load, never adds it.
    for cell_bg in (0.0, 0.2e9, 0.6e9):
        r = speedtest_step(m, [0], [0], [0], 0.0, dish_peak_bps=5e9, satellite_background_bps=[8e9],
                           cell_background_bps=[cell_bg])
        np.testing.assert_allclose(r.satellite_load_bps[0], 8e9 + cell_bg + r.throughput_bps[0], rtol=1e-12)


def test_uplink_shares_its_cells_beam_visits_with_the_downlink():
    # V1.5, 8 Gbit/s of other cells: the test's beam spends 8 x R / C = 0.49 Gbit/s of its
    # R = 1.2264 Gbit/s on them, so its cell is visited 1 - 8 / 20 = 60 % of the time.
    m = one_satellite()
    up_m = uplink_model(m)
    down = speedtest_step(m, [0], [0], [0], 0.0, dish_peak_bps=5e9, satellite_background_bps=[8e9])
    np.testing.assert_allclose(down.cell_visit, [1.0 - 8e9 / 20e9], rtol=1e-12)
    # The uplink gets those visits only: a dish granted 60 Mbit/s at link quality 0.8 sends
    # 60 x 0.8 x 0.6 = 28.8 Mbit/s, whatever (little) uplink load the other cells have.
    for up_bg in (0.0, 0.6e9):
        up = speedtest_step(up_m, [0], [0], [0], 0.0, dish_peak_bps=60e6, link_quality=0.8,
                            satellite_background_bps=[up_bg], background_flow_bps=4e6, cell_visit=down.cell_visit)
        np.testing.assert_allclose(up.speedtest_bps[0], 60e6 * 0.8 * 0.6, rtol=1e-9)
        assert BOTTLENECK_NAMES[up.bottleneck[0]] == "dish"
    # The beam's own uplink in those visits, 0.6 x 0.8 x 319 Mbit/s = 153, is shared with the
    # cell's own uplink background: 35 flows of 4 Mbit/s leave the test 13.3 Mbit/s.
    up_beam = float(up_m.beam_capacity_bps[0])
    up = speedtest_step(up_m, [0], [0], [0], 0.0, dish_peak_bps=60e6, link_quality=0.8,
                        cell_background_bps=[140e6], background_flow_bps=4e6, cell_visit=down.cell_visit)
    np.testing.assert_allclose(up.speedtest_bps[0], 0.6 * 0.8 * up_beam - 140e6, rtol=1e-9)
    assert BOTTLENECK_NAMES[up.bottleneck[0]] == "beam"
    # A demand above what the visits allow is served only up to it: never above the speed test.
    up = speedtest_step(up_m, [0], [0], [0], 40e6, dish_peak_bps=60e6, link_quality=0.8,
                        cell_visit=down.cell_visit)
    np.testing.assert_allclose([up.throughput_bps[0], up.speedtest_bps[0]], [60e6 * 0.8 * 0.6] * 2, rtol=1e-9)
    # No other cells: the cell has its beam all the time and the dish sends its whole grant.
    down = speedtest_step(m, [0], [0], [0], 0.0, dish_peak_bps=5e9)
    np.testing.assert_array_equal(down.cell_visit, [1.0])
    # A cell whose beam is taken by other cells is not visited: nothing up; no beam: 0 too.
    down = speedtest_step(m, [0], [0], [0], 0.0, dish_peak_bps=5e9, satellite_background_bps=[30e9])
    assert down.cell_visit[0] < 1e-2
    up = speedtest_step(up_m, [0, 1], [0, -1], [0, -1], 0.0, dish_peak_bps=60e6, cell_visit=[0.0, 1.0])
    np.testing.assert_array_equal(up.speedtest_bps, [0.0, 0.0])
    with pytest.raises(ScenarioError, match="cell_visit"):
        speedtest_step(up_m, [0], [0], [0], 0.0, dish_peak_bps=60e6, cell_visit=[1.5])


def test_laser_link_limits():
    m = CapacityModel(satellite_capacity_bps=[20e9, 20e9], beams_per_satellite=16,
                      beam_capacity_bps=BEAM_CAPACITY_BPS, gateway_capacity_bps=[100e9], isl_capacity_bps=300e6)
    # Terminal 0 on satellite 1 reaches the gateway over laser 0 (300 Mbit/s), which terminal 1
    # also uses at 100: 200 left.  At 250 the test takes the fair share instead: 150 each.
    for other, want in ((100e6, 200e6), (250e6, 150e6)):
        r = speedtest_step(m, [0, 1], [1, 1], [0, 0], [0.0, other], dish_peak_bps=1e9,
                           isl_indptr=[0, 1, 2], isl_edges=[0, 0], n_isl=1)
        np.testing.assert_allclose(r.speedtest_bps[0], want, rtol=1e-9)
        assert BOTTLENECK_NAMES[r.bottleneck[0]] == "laser"


def test_unrouted_and_beamless_terminals_get_nothing():
    m = CapacityModel(satellite_capacity_bps=[20e9], beams_per_satellite=1, beam_capacity_bps=BEAM_CAPACITY_BPS,
                      gateway_capacity_bps=[100e9], isl_capacity_bps=100e9)
    # Two cells on a one-beam satellite: the busier cell (1) gets the beam.
    r = speedtest_step(m, [0, 1, 1, 0], [0, 0, 0, -1], [0, 0, 0, 0], [1e6, 5e6, 0.0, 0.0], dish_peak_bps=400e6)
    assert r.beamed.tolist() == [False, True, True, False]
    assert r.speedtest_bps[0] == 0.0 and r.speedtest_bps[3] == 0.0
    assert BOTTLENECK_NAMES[r.bottleneck[0]] == "none"


def test_uplink_model_and_dish_limit():
    # 62.5 MHz of 240 per beam, 500 of 2,000 MHz per satellite, same top modulation.
    up = uplink_model(one_satellite())
    np.testing.assert_allclose(up.beam_capacity_bps, [BEAM_CAPACITY_BPS * 62.5 / 240], rtol=1e-12)
    np.testing.assert_allclose(up.satellite_capacity_bps, [5e9], rtol=1e-12)
    r = speedtest_step(up, [0], [0], [0], 0.0, dish_peak_bps=50e6)
    np.testing.assert_allclose(r.speedtest_bps, [50e6], rtol=rtol)
    # 300 Mbit/s of uplink background on the 319.4 Mbit/s uplink beam leaves 19.4.
    r = speedtest_step(up, [0], [0], [0], 0.0, dish_peak_bps=50e6, cell_background_bps=[300e6],
                       background_flow_bps=4e6)
    np.testing.assert_allclose(r.speedtest_bps[0], up.beam_capacity_bps[0] - 300e6, rtol=1e-9)


def test_step_bad_inputs_are_reported():
    m = one_satellite()
    with pytest.raises(ScenarioError, match="cell_background_bps"):
        speedtest_step(m, [0], [0], [0], 0.0, dish_peak_bps=1e8, cell_background_bps=[1.0, 2.0])
    with pytest.raises(ScenarioError, match="link_quality"):
        speedtest_step(m, [0], [0], [0], 0.0, dish_peak_bps=1e8, link_quality=1.5)
    with pytest.raises(ScenarioError, match="serving_satellite"):
        speedtest_step(m, [0], [3], [0], 0.0, dish_peak_bps=1e8)


# ---------------------------------------------------------------- one step against brute force


def brute_step(model, cell, sat, gw, demand, peak, quality, cell_bg_flows, sat_bg_flows, flow_bps, paths):
    """Build every flow (terminals + one row per background flow) and re-allocate per terminal.

    Beam hopping: each (satellite, cell) beam also carries ``max((L + x) R / C - x, 0)`` flows of
    its satellite's ``L`` regional flows (``x``: its cell's, ``R / C``: beam over satellite
    capacity), crossing the beam and the satellite; the satellite's own row keeps the rest.  The
    caller picks loads that make these whole numbers of flows.
    """
    res = {}

    def rid(key):
        return res.setdefault(key, len(res))

    cap = {}
    rows, dem = [], []
    rep_of_pair = {}
    for t in range(len(cell)):
        if sat[t] < 0 or gw[t] < 0:
            continue
        rep_of_pair.setdefault((sat[t], cell[t]), t)
    for t in range(len(cell)):
        if sat[t] < 0 or gw[t] < 0:
            continue
        rep = rep_of_pair[(sat[t], cell[t])]
        row = [rid(("beam", sat[t], cell[t])), rid(("sat", sat[t])), rid(("gw", gw[t]))]
        row += [rid(("isl", e)) for e in paths[t]]
        cap[("beam", sat[t], cell[t])] = model.beam_capacity_bps[sat[t]] * quality[rep]
        rows.append(row)
        dem.append(min(demand[t], peak[t] * quality[t]))
    terminal_rows = len(rows)
    for (s, c), t in rep_of_pair.items():
        for _ in range(cell_bg_flows[c]):
            rows.append([rid(("beam", s, c)), rid(("sat", s)), rid(("gw", gw[t]))] + [rid(("isl", e)) for e in paths[t]])
            dem.append(flow_bps)
    left = {s: int(sat_bg_flows[s]) for s in {k[0] for k in rep_of_pair}}
    for (s, c) in rep_of_pair:
        share = min(model.beam_capacity_bps[s] / model.satellite_capacity_bps[s], 1 / model.beams_per_satellite[s])
        hop = round((sat_bg_flows[s] + cell_bg_flows[c]) * share - cell_bg_flows[c], 9)
        assert hop == int(hop), "pick loads that hop whole flows"
        for _ in range(max(int(hop), 0)):
            rows.append([rid(("beam", s, c)), rid(("sat", s))])
            dem.append(flow_bps)
        left[s] -= max(int(hop), 0)
    for s, k in left.items():
        for _ in range(k):
            rows.append([rid(("sat", s))])
            dem.append(flow_bps)
    capacity = np.zeros(len(res))
    for key, i in res.items():
        if key[0] == "beam":
            capacity[i] = cap[key]
        elif key[0] == "sat":
            capacity[i] = model.satellite_capacity_bps[key[1]]
        elif key[0] == "gw":
            capacity[i] = model.gateway_capacity_bps[key[1]]
        else:
            capacity[i] = model.isl_capacity_bps
    a = incidence(rows, len(res))
    dem = np.array(dem)
    out = []
    routed_terms = [t for t in range(len(cell)) if sat[t] >= 0 and gw[t] >= 0]
    for k, t in enumerate(routed_terms):
        d = dem.copy()
        d[k] = peak[t] * quality[t]
        out.append(max_min_fair(d, a, capacity)[k])
    assert terminal_rows == len(routed_terms)
    return np.array(routed_terms, dtype=int), np.array(out)


def test_step_equals_brute_force_on_random_small_cases():
    rng = np.random.default_rng(5)
    flow_bps = 50e6
    for case in range(30):
        n_sat, n_gw, n_cells, n_isl = 3, 2, 4, 4
        g = int(rng.integers(2, 9))
        beam = rng.uniform(0.3e9, 1.2e9, n_sat)
        model = CapacityModel(
            satellite_capacity_bps=4 * beam, beams_per_satellite=4,
            beam_capacity_bps=beam, gateway_capacity_bps=rng.uniform(0.5e9, 4e9, n_gw),
            isl_capacity_bps=float(rng.uniform(0.5e9, 3e9)))
        cell = rng.integers(0, n_cells, g)
        sat = rng.integers(-1, n_sat, g)
        gw = rng.integers(0, n_gw, g)
        # Terminals of one (satellite, cell) pair share their first terminal's gateway and lasers, as in a run.
        paths = [sorted(set(rng.integers(0, n_isl, int(rng.integers(0, 3))).tolist())) for _ in range(g)]
        first = {}
        for t in range(g):
            k = first.setdefault((sat[t], cell[t]), t)
            gw[t], paths[t] = gw[k], paths[k]
        demand = np.where(rng.random(g) < 0.5, rng.uniform(0, 300e6, g), 0.0)
        peak = rng.uniform(100e6, 800e6, g)
        quality = rng.uniform(0.5, 1.0, g)
        # Satellites of 4 beams' capacity and loads in multiples of 4 flows: every beam's hop
        # share is a whole number of flows (0-10).
        cell_bg_flows = 4 * rng.integers(0, 8, n_cells)
        sat_bg_flows = 4 * rng.integers(0, 11, n_sat)
        indptr = np.concatenate(([0], np.cumsum([len(p) for p in paths])))
        edges = np.array([e for p in paths for e in p], dtype=np.int64)
        r = speedtest_step(model, cell, sat, gw, demand, dish_peak_bps=peak, link_quality=quality,
                           cell_background_bps=cell_bg_flows * flow_bps, satellite_background_bps=sat_bg_flows * flow_bps,
                           background_flow_bps=flow_bps, isl_indptr=indptr, isl_edges=edges, n_cells=n_cells,
                           n_isl=n_isl)
        terms, want = brute_step(model, cell, sat, gw, demand, peak, quality, cell_bg_flows, sat_bg_flows, flow_bps,
                                 paths)
        np.testing.assert_allclose(r.speedtest_bps[terms], want, rtol=1e-8, err_msg=f"case {case}")
        unrouted = np.setdiff1d(np.arange(g), terms)
        assert np.all(r.speedtest_bps[unrouted] == 0.0)


# ---------------------------------------------------------------- properties


def random_step(rng, n_term=30, n_sat=4, n_cells=8):
    model = CapacityModel(satellite_capacity_bps=rng.uniform(2e9, 20e9, n_sat), beams_per_satellite=16,
                          beam_capacity_bps=BEAM_CAPACITY_BPS, gateway_capacity_bps=[5e9, 8e9], isl_capacity_bps=100e9)
    cell = rng.integers(0, n_cells, n_term)
    sat = rng.integers(0, n_sat, n_term)
    gw = rng.integers(0, 2, n_term)
    first = {}
    for t in range(n_term):
        gw[t] = gw[first.setdefault((sat[t], cell[t]), t)]
    demand = rng.choice([0.0, 5e6, 25e6, 100e6], n_term)
    cell_bg = rng.uniform(0, 1.5e9, n_cells)
    sat_bg = rng.uniform(0, 15e9, n_sat)
    return model, cell, sat, gw, demand, cell_bg, sat_bg


def test_speedtest_is_at_least_the_fair_allocation():
    rng = np.random.default_rng(7)
    for _ in range(30):
        model, cell, sat, gw, demand, cell_bg, sat_bg = random_step(rng)
        r = speedtest_step(model, cell, sat, gw, demand, dish_peak_bps=400e6, cell_background_bps=cell_bg,
                           satellite_background_bps=sat_bg, n_cells=8)
        assert np.all(r.speedtest_bps >= r.throughput_bps * (1 - 1e-12))
        assert np.all(r.speedtest_bps <= 400e6 * (1 + 1e-12))


def test_more_background_on_its_own_path_never_raises_a_speedtest():
    rng = np.random.default_rng(8)
    for _ in range(30):
        model, cell, sat, gw, demand, cell_bg, sat_bg = random_step(rng)
        base = speedtest_step(model, cell, sat, gw, demand, dish_peak_bps=800e6, cell_background_bps=cell_bg,
                              satellite_background_bps=sat_bg, n_cells=8).speedtest_bps
        t = int(rng.integers(0, cell.size))
        more_cell = cell_bg.copy()
        more_cell[cell[t]] *= rng.uniform(1.0, 3.0)
        more_sat = sat_bg.copy()
        more_sat[sat[t]] *= rng.uniform(1.0, 3.0)
        for cb, sb in ((more_cell, sat_bg), (cell_bg, more_sat), (more_cell, more_sat)):
            r = speedtest_step(model, cell, sat, gw, demand, dish_peak_bps=800e6, cell_background_bps=cb,
                               satellite_background_bps=sb, n_cells=8)
            # Terminal t's own cell and satellite got more load; so did every terminal sharing them.
            # (More cell load lowers its beam's hop share but never the beam's total,
            # max(x, (L + x) / n); 1e-9: the split loads round differently.)
            same = (cell == cell[t]) & (sat == sat[t]) if cb is more_cell else sat == sat[t]
            assert np.all(r.speedtest_bps[same] <= base[same] * (1 + 1e-9))


def test_offpath_load_can_raise_a_speedtest():
    # Max-min fairness is not monotone: load elsewhere can slow a competitor on the
    # tested terminal's bottleneck.  Satellite 0 (cap 6) serves cells 0, 1; terminal A
    # (cell 0) also crosses gateway 0 (cap 10) like the tested terminal T on satellite 1.
    m = CapacityModel(satellite_capacity_bps=[6.0, 100.0], beams_per_satellite=16, beam_capacity_bps=100.0,
                      gateway_capacity_bps=[10.0, 100.0], isl_capacity_bps=100.0)
    cell, sat, gw = [0, 1, 2, 3], [0, 0, 1, 1], [0, 1, 0, 0]
    demand = [np.inf, np.inf, np.inf, 0.0]  # A, B on sat 0; C shares the gateway with A and T
    before = speedtest_step(m, cell, sat, gw, demand, dish_peak_bps=1e3, background_flow_bps=1.0).speedtest_bps[3]
    after = speedtest_step(m, cell, sat, gw, demand, dish_peak_bps=1e3, background_flow_bps=1.0,
                           satellite_background_bps=[2.0, 0.0]).speedtest_bps[3]
    # Before: sat 0 splits 6 -> A 3, B 3; gateway 0: A 3 + C + T -> T = C = 3.5.
    # After: sat 0 also carries two background flows of 1 -> A = B = 2; gateway 0: T = C = 4.
    np.testing.assert_allclose([before, after], [3.5, 4.0], rtol=1e-9)


# ---------------------------------------------------------------- link quality and fleet


def test_link_factor_falls_with_range_and_gain():
    f = link_factor([550.0, 800.0, 1100.0, 1500.0], 550.0, zenith_margin_db=0.0)
    assert f[0] == 1.0 and np.all(np.diff(f) < 0)
    # A 3 dB margin below the top modulation at zenith: Shannon at 15.3 - 3 dB.
    np.testing.assert_allclose(link_factor(550.0, 550.0, zenith_margin_db=-3.0),
                               np.log2(1 + (2**5.11 - 1) / 10**0.3) / 5.11, rtol=1e-12)
    # Shannon at the top modulation's threshold (15.3 dB) less 20 log10(2) = 6.02 dB.
    snr = 10 ** ((10 * np.log10(2**5.11 - 1) - 20 * np.log10(2.0)) / 10)
    np.testing.assert_allclose(f[2], np.log2(1 + snr) / 5.11, rtol=1e-12)
    lo = link_factor(1100.0, 550.0, gain_offset_db=-4.7, zenith_margin_db=0.0)
    hi = link_factor(1100.0, 550.0, gain_offset_db=1.1, zenith_margin_db=0.0)
    assert lo < f[2] < hi


def test_uplink_is_a_grant_at_the_links_quality_like_the_downlink():
    """A lone dish's upload / download ratio does not depend on where its satellite is.

    Starlink's published 2025-12 medians: upload / download ~0.14 in every
    kind of country (IQR 0.12-0.15 over 96 countries, uncorrelated with the
    latency, i.e. with laser or bent-pipe service).  The uplink is the dish's
    scheduled grant (``UPLINK_GRANT_SHARE`` of the 62.5 MHz channel at 5.11
    bit/s/Hz) at a link quality that follows the downlink's law; a power-limited
    Shannon rate at ~1 bit/s/Hz (the model before) fell 3x from zenith to 25 deg.
    """
    from leonet.capacity.speedtest import dish_uplink_peak_bps
    from leonet.capacity.speedtest_params import DISHES, UPLINK_GRANT_SHARE, UPLINK_ZENITH_MARGIN_DB

    std = DISHES["standard"]
    np.testing.assert_allclose(std.peak_up_bps, UPLINK_GRANT_SHARE * 62.5e6 * 5.11, rtol=1e-12)
    rng = np.array([550.0, 700.0, 900.0, 1123.0])  # zenith .. 25 deg at 550 km
    up = dish_uplink_peak_bps(rng, 550.0)
    down = std.peak_down_bps * link_factor(rng, 550.0, zenith_margin_db=UPLINK_ZENITH_MARGIN_DB)
    np.testing.assert_allclose(up / down, std.peak_up_bps / std.peak_down_bps, rtol=1e-12)
    # ... and that ratio is the published one within its spread (0.12-0.15).
    assert 0.12 < std.peak_up_bps / std.peak_down_bps < 0.15
    # Zenith to 25 deg costs the uplink what it costs the downlink (~0.47 / 0.81), not 3x.
    assert 0.5 < up[-1] / up[0] < 0.65
    # A smaller transmit array (the Mini) sends less at every range.
    mini = dish_uplink_peak_bps(rng, 550.0, gain_offset_db=DISHES["mini"].uplink_gain_offset_db)
    assert np.all(mini < up)


@pytest.mark.parametrize("module", ["leonet.capacity.speedtest", "leonet.capacity.speedtest_params"])
def test_docstring_examples_run(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0


def test_generations_of_the_shipped_snapshot_follow_launch_batches():
    text = data_path("tle", "starlink_gp_20260530.tle").read_text().splitlines()
    names = [text[i].strip() for i in range(0, len(text), 3)]
    launches = [text[i + 1][9:14] for i in range(0, len(text), 3)]
    gen = satellite_generations(names)
    by_launch = defaultdict(set)
    size = defaultdict(int)
    for g, launch in zip(gen, launches):
        by_launch[launch].add(g)
        size[launch] += 1
    assert all(len(v) == 1 for v in by_launch.values())  # no launch mixes generations
    v2 = [size[k] for k, v in by_launch.items() if v == {"v2-mini"}]
    v1_recent = [size[k] for k, v in by_launch.items() if v == {"v1.5"} and int(k[:2]) >= 22]
    # A Falcon 9 carries 21-29 V2 mini (~800 kg, ~575 kg optimised) but 45-60 V1.5 (~300 kg).
    assert max(v2) <= 29 and np.median(v1_recent) >= 40
    assert 0.55 < gen.count("v2-mini") / len(gen) < 0.75
    assert re.match(r"STARLINK-\d+", names[0])


# ---------------------------------------------------------------- background load


@pytest.fixture(scope="module")
def background():
    from leonet.capacity.speedtest import BackgroundLoad

    return BackgroundLoad()


def test_subscribers_add_up_and_respect_the_sell_out_cap(background):
    from leonet.capacity.cells import cell_of
    from leonet.capacity.speedtest_params import DIURNAL_PROFILE, SUBSCRIBERS_2025_12

    np.testing.assert_allclose(background.grid_subscribers.sum(), SUBSCRIBERS_2025_12, rtol=1e-9)
    # The cap: u x beam / busy-hour demand per subscriber.
    np.testing.assert_allclose(
        background.cell_cap,
        background.sell_out_utilisation * background.beam_capacity_bps
        / (background.mean_down_bps * DIURNAL_PROFILE.max()), rtol=1e-12)
    # Lagos and Dhaka are sold out; a village cell in central Germany is not; the open sea has nobody;
    # Moscow is not served.
    ids = cell_of([6.45, 23.81, 51.0, 0.0, 55.75], [3.40, 90.41, 10.0, -30.0, 37.62])
    subs = background.cell_subscribers(ids)
    np.testing.assert_allclose(subs[:2], background.cell_cap, rtol=1e-12)
    assert 0 < subs[2] < background.cell_cap
    assert subs[3] == 0.0 and subs[4] == 0.0


def test_diurnal_profile_averages_one_and_peaks_in_the_evening():
    from leonet.capacity.speedtest import diurnal_factor

    h = np.linspace(0, 24, 24 * 60, endpoint=False)
    np.testing.assert_allclose(diurnal_factor(h).mean(), 1.0, rtol=1e-3)
    assert 20 <= h[np.argmax(diurnal_factor(h))] <= 22
    assert 4 <= h[np.argmin(diurnal_factor(h))] <= 6


def test_satellite_load_is_conserved_and_shared_by_capacity(background):
    from leonet.capacity.speedtest import diurnal_factor
    from leonet.orbits.frames import geodetic_to_ecef

    # Two satellites at the same point 550 km above Osnabrück and one above the empty South Pacific.
    r = np.vstack([geodetic_to_ecef(52.28, 8.05, 550.0)] * 2 + [geodetic_to_ecef(-55.0, -120.0, 550.0)])
    load = background.satellite_load_bps(r, [20e9, 60e9, 20e9], 12.0)
    np.testing.assert_allclose(load[1], 3 * load[0], rtol=1e-12)  # shares follow capacity
    assert load[2] == 0.0 and load[0] > 0
    # Everything the pair sees is theirs alone: their load is the demand of the grid cells
    # that see them above 25 deg.
    g = background.grid
    up = np.column_stack((np.cos(np.radians(g.lat_deg)) * np.cos(np.radians(g.lon_deg)),
                          np.cos(np.radians(g.lat_deg)) * np.sin(np.radians(g.lon_deg)),
                          np.sin(np.radians(g.lat_deg))))
    d = r[0] - geodetic_to_ecef(g.lat_deg, g.lon_deg, 0.0)
    sees = np.einsum("ij,ij->i", d, up) / np.linalg.norm(d, axis=1) >= np.sin(np.radians(25.0))
    demand = background.grid_subscribers * background.mean_down_bps * diurnal_factor(12.0 + g.lon_deg / 15.0)
    np.testing.assert_allclose(load[:2].sum(), demand[sees].sum(), rtol=1e-9)
    # More subscribers, more load.
    from leonet.capacity.speedtest import BackgroundLoad

    more = BackgroundLoad(subscribers=2 * background.subscribers)
    assert more.satellite_load_bps(r, [20e9, 60e9, 20e9], 12.0)[0] > load[0]


def test_restricted_grid_keeps_the_loads_of_satellites_near_the_terminals(background):
    from leonet.orbits.frames import geodetic_to_ecef

    near = background.restricted_to([52.28], [8.05])
    assert near.grid_subscribers.size < background.grid_subscribers.size / 5
    r = geodetic_to_ecef(np.array([52.28, 50.0, 40.0]), np.array([8.05, 14.0, -100.0]), 550.0)
    full = background.satellite_load_bps(r, [20e9, 20e9, 20e9], 18.0)
    cut = near.satellite_load_bps(r, [20e9, 20e9, 20e9], 18.0)
    np.testing.assert_allclose(cut[:2], full[:2], rtol=1e-12)
    assert cut[2] == 0.0 < full[2]


def test_speedtest_run_matches_the_step_function(background):
    from leonet.capacity.cells import ServiceCells
    from leonet.capacity.speedtest import SpeedTestRun, _sin_elevation, dish_uplink_peak_bps
    from leonet.capacity.speedtest_params import ACTIVE_FLOW_DOWN_BPS, DISHES, flat_mount_loss_db
    from leonet.orbits.frames import geodetic_to_ecef

    lat, lon = np.array([52.28, 52.30, 51.0]), np.array([8.05, 8.10, 10.0])
    cells = ServiceCells.from_coordinates(lat, lon)
    model = CapacityModel.uniform(2, [160e9])
    near = background.restricted_to(lat, lon)
    run = SpeedTestRun(model, cells.terminal_cell, cells.cell_id, lat, lon, dish=["standard", "mini", "fhp"],
                       background=near)
    r = geodetic_to_ecef(np.array([52.0, 51.5]), np.array([8.0, 10.5]), 550.0)
    rng = np.linalg.norm(r[[0, 0, 1]] - geodetic_to_ecef(lat, lon, 0.0), axis=1)
    down, up = run.step(19.5, r, [0, 0, 1], [0, 0, 0], 5e6, rng)
    # The FHP lies flat on its mount: its gain falls with the satellite's zenith angle.
    mount = np.where([DISHES[d].flat_mounted for d in ("standard", "mini", "fhp")],
                     flat_mount_loss_db(_sin_elevation(rng, np.full(3, 550.0))), 0.0)
    q = link_factor(rng, 550.0,
                    gain_offset_db=np.array([DISHES[d].gain_offset_db for d in ("standard", "mini", "fhp")]) + mount)
    want = speedtest_step(model, cells.terminal_cell, [0, 0, 1], [0, 0, 0], 5e6,
                          dish_peak_bps=DISHES["standard"].peak_down_bps, link_quality=q,
                          cell_background_bps=near.cell_load_bps(run.cell_subscribers, run.cell_lon_deg, 19.5),
                          satellite_background_bps=near.satellite_load_bps(r, model.satellite_capacity_bps, 19.5),
                          background_flow_bps=ACTIVE_FLOW_DOWN_BPS, n_cells=cells.n_cells)
    np.testing.assert_allclose(down.speedtest_bps, want.speedtest_bps, rtol=1e-6)
    # (Two satellites carry all of Germany's background here: the cells are saturated.)
    assert np.all(down.speedtest_bps < 50e6)
    # Without background, the Mini's smaller aperture costs it on both links; the FHP's larger one helps
    # it receive, and it sends like the Standard (same transmit array: DishType.uplink_gain_offset_db)
    # -- with the satellite at zenith, where the flat-mounted FHP loses nothing to its mount.
    idle = SpeedTestRun(model, cells.terminal_cell, cells.cell_id, lat, lon, dish=["standard", "mini", "fhp"],
                        background=False)
    zenith = np.linalg.norm(r[0]) - 6371.0088  # the range at which the helper puts the satellite at zenith
    down, up = idle.step(19.5, r, [0, 0, 0], [0, 0, 0], 0.0, np.full(3, zenith))
    assert down.speedtest_bps[1] < down.speedtest_bps[0] < down.speedtest_bps[2]
    assert up.speedtest_bps[1] < up.speedtest_bps[0] == up.speedtest_bps[2]
    # Lower in the sky, the FHP loses its projected aperture (cos of the zenith angle) on both links.
    from leonet.capacity.speedtest import _sin_elevation
    from leonet.capacity.speedtest_params import flat_mount_loss_db

    down, up = idle.step(19.5, r, [0, 0, 0], [0, 0, 0], 0.0, np.full(3, 1000.0))
    _, _, alt = __import__("leonet.orbits.frames", fromlist=["ecef_to_geodetic"]).ecef_to_geodetic(r[[0]])
    loss = float(flat_mount_loss_db(_sin_elevation(np.array([1000.0]), alt))[0])
    assert loss < -2.0
    q = link_factor(1000.0, alt[0], gain_offset_db=np.array([0.0, DISHES["fhp"].gain_offset_db + loss]))
    np.testing.assert_allclose(down.speedtest_bps[[0, 2]] / down.speedtest_bps[0], q / q[0], rtol=1e-9)
    assert up.speedtest_bps[2] < up.speedtest_bps[0]
    peak_up = dish_uplink_peak_bps(rng, 550.0, gain_offset_db=[DISHES[d].uplink_gain_offset_db
                                                               for d in ("standard", "mini", "fhp")])
    assert peak_up[1] < peak_up[0] and np.all(up.speedtest_bps <= peak_up * (1 + 1e-6))


# ---------------------------------------------------------------- the run's model: grid, eras, fast paths


def test_shipped_population_grid_is_the_computed_one():
    """The files under leonet/data/population are compute_population_grid's output, bit for bit (~10-15 s)."""
    from leonet.capacity import speedtest as st
    from leonet.capacity.speedtest_params import SERVED_ISO2

    fresh = st.compute_population_grid(3, 5, frozenset(SERVED_ISO2))
    shipped = st._read_shipped_grid(3, 5, frozenset(SERVED_ISO2))
    assert shipped is not None
    for name in ("lat_deg", "lon_deg", "population", "served"):
        np.testing.assert_array_equal(getattr(shipped, name), getattr(fresh, name), err_msg=name)
    assert shipped.city_cell_population == fresh.city_cell_population
    assert shipped.rural_density_per_km2 == fresh.rural_density_per_km2
    # Other arguments are not served from the files.
    assert st._read_shipped_grid(4, 5, frozenset(SERVED_ISO2)) is None
    assert st._read_shipped_grid(3, 5, frozenset(["DE"])) is None


def test_network_state_interpolates_the_dated_sources():
    from leonet.capacity.speedtest_params import (
        MEAN_DOWN_BPS_PER_SUBSCRIBER,
        SUBSCRIBERS_2024_01,
        SUBSCRIBERS_2025_12,
        network_state,
    )

    # At the calibration date: the calibration's numbers; held after it.
    for when in ("2025-12-01", "2026-05-30T12:00:00Z"):
        s = network_state(when)
        assert s.subscribers == SUBSCRIBERS_2025_12
        assert s.mean_down_bps == pytest.approx(MEAN_DOWN_BPS_PER_SUBSCRIBER, rel=1e-12)
    # Starlink's "more than 2.3 million" of 2023-12-21, and 4.6 million at the end of 2024:
    # linear in between.
    assert network_state("2023-12-21").subscribers == SUBSCRIBERS_2024_01
    mid = network_state("2024-06-26T12:00:00Z").subscribers
    assert mid == pytest.approx(0.5 * (2.3e6 + 4.6e6), rel=1e-3)
    # More subscribers, more use per subscriber: monotone in time.
    days = ["2023-01-01", "2024-01-01", "2025-01-01", "2025-12-01"]
    states = [network_state(d) for d in days]
    for a, b in zip(states, states[1:]):
        assert a.subscribers < b.subscribers and a.mean_down_bps <= b.mean_down_bps


def test_serving_load_approximates_the_instantaneous_sharing(background):
    """Shares by the mean capacity in view follow the per-step sharing over the real fleet.

    The capacity a place sees varies by ~10 % from instant to instant (and Europe
    sees ~5 % less than the zonal mean of its latitude over a few hours): the
    approximation is within ~15 % over time, ~25 % at one instant.
    """
    import datetime as dt

    import leonet
    from leonet.engine.build import build_constellation
    from leonet.orbits.frames import ecef_to_geodetic
    from leonet.orbits.propagate import positions_at

    con = build_constellation(leonet.load_scenario("ukraine"), warn_stale=False)
    t0 = dt.datetime(2026, 5, 30, 12, tzinfo=dt.timezone.utc)
    cap = np.where(np.array(satellite_generations(con.names)) == "v2-mini", 80e9, 20e9)
    near = background.restricted_to([50.45, 52.28], [30.52, 8.05])
    mean = near.with_mean_visible_capacity(positions_at(con, t0).r_ecef_km, cap)
    ratios = []
    for minutes in (7, 37, 67, 97):
        r = positions_at(con, t0 + dt.timedelta(minutes=minutes)).r_ecef_km
        lat, lon, alt = ecef_to_geodetic(r)
        # Satellites that could serve Kyiv or Osnabrück (within a few degrees of them, in service).
        serving = np.flatnonzero((np.abs(lat - 51) < 4) & ((np.abs(lon - 30) < 6) | (np.abs(lon - 8) < 6))
                                 & (alt > 450))
        assert serving.size >= 20
        exact = near.satellite_load_bps(r, cap, 12.6)[serving]
        approx = mean.serving_load_bps(r, serving, cap, 12.6)
        assert np.all(approx > 0)
        ratios.append(approx / exact)
        assert abs(np.median(ratios[-1]) - 1) < 0.25
    assert abs(np.median(np.concatenate(ratios)) - 1) < 0.15


def test_paired_directions_equal_separate_steps():
    """SpeedTestRun.step computes both directions on one structure: the same as two speedtest_step calls."""
    from leonet.capacity.speedtest import _speedtest_pair, _step_inputs

    rng = np.random.default_rng(11)
    for _ in range(20):
        model, cell, sat, gw, demand, cell_bg, sat_bg = random_step(rng)
        up_model = uplink_model(model)
        peak = rng.choice([200e6, 400e6], cell.size)
        quality = rng.uniform(0.5, 1.0, cell.size)
        up = {"demand": demand * 0.08, "peak": peak * 0.1, "cell_bg": cell_bg * 0.08, "sat_bg": sat_bg * 0.08}
        want_d = speedtest_step(model, cell, sat, gw, demand, dish_peak_bps=peak, link_quality=quality,
                                cell_background_bps=cell_bg, satellite_background_bps=sat_bg, n_cells=8)
        want_u = speedtest_step(up_model, cell, sat, gw, up["demand"], dish_peak_bps=up["peak"],
                                cell_background_bps=up["cell_bg"], satellite_background_bps=up["sat_bg"],
                                background_flow_bps=4e6, n_cells=8, cell_visit=want_d.cell_visit)
        xd = _step_inputs(model, cell, sat, gw, demand, peak, quality, cell_bg, sat_bg, 25e6, None, None, 8, None,
                          True)
        xu = _step_inputs(up_model, cell, sat, gw, up["demand"], up["peak"], 1.0, up["cell_bg"], up["sat_bg"], 4e6,
                          None, None, 8, None, True)
        cache: dict = {}
        for _ in range(2):  # the second call reuses the cached structure
            got_d, got_u = _speedtest_pair(model, up_model, xd, xu, cache)
            np.testing.assert_allclose(got_d.cell_visit, want_d.cell_visit, rtol=1e-12, atol=1e-12)
            assert np.all((got_d.cell_visit >= 0) & (got_d.cell_visit <= 1))
            for got in (got_d, got_u):  # a speed test is never below the rate at the terminal's demand
                assert np.all(got.speedtest_bps >= got.throughput_bps * (1 - 1e-12) - 1e-6)
            for got, want in ((got_d, want_d), (got_u, want_u)):
                np.testing.assert_allclose(got.speedtest_bps, want.speedtest_bps, rtol=1e-12, atol=1e-6)
                np.testing.assert_allclose(got.throughput_bps, want.throughput_bps, rtol=1e-12, atol=1e-6)
                np.testing.assert_array_equal(got.bottleneck, want.bottleneck)
        assert "structure" in cache


def test_cached_structure_follows_the_cells_and_routes():
    """A pair of directions computed on a cache of earlier steps equals one computed afresh.

    Steps that change only the terminals' cells (a moving terminal) or only
    their gateways (a new route, the beams reused) must not reuse what no
    longer holds.
    """
    from leonet.capacity.speedtest import _speedtest_pair, _step_inputs

    rng = np.random.default_rng(12)
    for _ in range(10):
        model, cell, sat, gw, demand, cell_bg, sat_bg = random_step(rng)
        up_model = uplink_model(model)
        peak = np.full(cell.size, 400e6)
        moved = cell.copy()
        moved[: cell.size // 3] = (cell[: cell.size // 3] + 1) % 8
        rerouted = gw.copy()
        rerouted[sat == sat[0]] = 1 - gw[0]  # every terminal of a satellite keeps one gateway, as in a run
        cache: dict = {}
        for c, g in ((cell, gw), (moved, gw), (moved, rerouted), (cell, rerouted)):
            def inputs(m, scale, flow_bps):
                return _step_inputs(m, c, sat, g, demand * scale, peak * scale, 0.8, cell_bg * scale, sat_bg * scale,
                                    flow_bps, None, None, 8, None, True)
            xd, xu = inputs(model, 1.0, 25e6), inputs(up_model, 0.1, 4e6)
            got = _speedtest_pair(model, up_model, xd, xu, cache)
            want = _speedtest_pair(model, up_model, xd, xu, None)
            for a, b in zip(got, want):
                np.testing.assert_array_equal(a.speedtest_bps, b.speedtest_bps)
                np.testing.assert_array_equal(a.throughput_bps, b.throughput_bps)
                np.testing.assert_array_equal(a.cell_capacity_bps, b.cell_capacity_bps)
        assert "beams" in cache


def test_capacity_model_by_name_is_the_real_fleet_mix():
    from leonet.capacity import capacity_model
    from leonet.scenario.capacity import CapacitySpec

    names = ["STARLINK-1008", "STARLINK-30049", "STARLINK-11072 [DTC]", "ONEWEB-0012"]
    m = capacity_model(CapacitySpec(generation="by-name"), 4, [8], ["Ka"], satellite_names=names)
    assert m.beams_per_satellite.tolist() == [16, 64, 64, 16]
    assert m.satellite_capacity_bps.tolist() == [20e9, 80e9, 80e9, 20e9]
    # Per constellation: only the named one is classed by name.
    spec = CapacitySpec(generation="v2-mini", generation_by_constellation={"a": "by-name"})
    m = capacity_model(spec, 4, [8], ["Ka"], ["a", "a", "b", "b"], satellite_names=names)
    assert m.beams_per_satellite.tolist() == [16, 64, 64, 64]
    with pytest.raises(ValueError, match="by-name"):
        capacity_model(CapacitySpec(generation="by-name"), 4, [8], ["Ka"])
