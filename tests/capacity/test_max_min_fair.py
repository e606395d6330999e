"""max_min_fair: hand-worked bottleneck graphs, properties, and a scalar reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leonet.capacity import max_min_fair
from leonet.errors import ScenarioError

one_bps = 1.0
rtol = 1e-9


def incidence(rows: list[list[int]], n_res: int) -> scipy.sparse.csr_array:
    dense = np.zeros((len(rows), n_res))
    for f, cols in enumerate(rows):
        dense[f, cols] = 1
    return scipy.sparse.csr_array(dense)


# ---------------------------------------------------------------- hand-worked


def test_equal_split():
    # Three flows on one 30 Mbit/s link: 10 each.
    rate = max_min_fair(np.full(3, np.inf), incidence([[0], [0], [0]], 1), [30e6])
    np.testing.assert_allclose(rate, [10e6, 10e6, 10e6], rtol=rtol)


def test_capped_demand_is_redistributed():
    # Demands 2, 20, 20 on 30: the small flow gets its 2, the others split 28.
    rate = max_min_fair([2.0, 20.0, 20.0], incidence([[0], [0], [0]], 1), [30.0])
    np.testing.assert_allclose(rate, [2.0, 14.0, 14.0], rtol=rtol)


def test_textbook_two_links():
    # A: link 1, B: links 1+2, C: link 2; capacities 10 and 4 (Bertsekas &
    # Gallager, Data Networks, sec. 6.5.2 style example).  Link 2 is the
    # bottleneck of B and C (2 each); A takes what is left of link 1.
    rate = max_min_fair(np.full(3, np.inf), incidence([[0], [0, 1], [1]], 2), [10.0, 4.0])
    np.testing.assert_allclose(rate, [8.0, 2.0, 2.0], rtol=rtol)


def test_zero_demand_flow_gets_nothing_and_takes_nothing():
    rate = max_min_fair([0.0, np.inf, np.inf], incidence([[0], [0], [0]], 1), [30.0])
    np.testing.assert_allclose(rate, [0.0, 15.0, 15.0], rtol=rtol)


def test_zero_capacity_resource_blocks_its_flows_only():
    # Flow 0 crosses a dead resource (capacity 0); flow 1 shares the other one.
    rate = max_min_fair([5.0, 5.0], incidence([[0, 1], [1]], 2), [0.0, 6.0])
    np.testing.assert_allclose(rate, [0.0, 5.0], rtol=rtol)


def test_chain_of_bottlenecks():
    # The parking-lot network: a long flow over links 0..2 (capacity 1 each)
    # and one short flow per link: everyone gets 1/2.
    rows = [[0, 1, 2], [0], [1], [2]]
    rate = max_min_fair(np.full(4, np.inf), incidence(rows, 3), [1.0, 1.0, 1.0])
    np.testing.assert_allclose(rate, [0.5] * 4, rtol=rtol)


def test_levels_cascade():
    # Link 0 (cap 3) has 3 flows; flow 2 also crosses link 1 (cap 0.5) with
    # flow 3.  Link 1: 0.25 each; then link 0's other two share 2.75.
    rows = [[0], [0], [0, 1], [1]]
    rate = max_min_fair(np.full(4, np.inf), incidence(rows, 2), [3.0, 0.5])
    np.testing.assert_allclose(rate, [1.375, 1.375, 0.25, 0.25], rtol=rtol)


def test_flow_without_resources_gets_its_demand():
    rate = max_min_fair([7.0, np.inf], incidence([[], [0]], 1), [3.0])
    np.testing.assert_allclose(rate, [7.0, 3.0], rtol=rtol)


def test_no_flows_and_no_resources():
    assert max_min_fair(np.zeros(0), scipy.sparse.csr_array((0, 0)), np.zeros(0)).shape == (0,)
    assert max_min_fair(np.zeros(0), scipy.sparse.csr_array((0, 3)), np.ones(3)).shape == (0,)


def test_accepts_dense_and_other_sparse_formats():
    dense = np.array([[1, 0], [1, 1], [0, 1]])
    expected = [8.0, 2.0, 2.0]
    for a in (dense, scipy.sparse.coo_array(dense), scipy.sparse.csc_matrix(dense)):
        np.testing.assert_allclose(max_min_fair(np.full(3, np.inf), a, [10.0, 4.0]), expected, rtol=rtol)


def test_shape_of_result():
    a = incidence([[0], [0, 1], [1], []], 2)
    assert max_min_fair(np.ones(4), a, np.ones(2)).shape == (4,)
    assert max_min_fair(np.ones(4), a, np.ones(2)).dtype == np.float64


@pytest.mark.parametrize(
    "demand, a, cap, match",
    [
        ([1.0, -1.0], incidence([[0], [0]], 1), [1.0], "demand_bps must be >= 0"),
        ([1.0, np.nan], incidence([[0], [0]], 1), [1.0], "demand_bps"),
        ([1.0, 1.0], incidence([[0], [0]], 1), [-2.0], "capacity_bps must be >= 0"),
        ([1.0], incidence([[0], [0]], 1), [1.0], "incidence has shape"),
        ([1.0, 1.0], scipy.sparse.csr_array(np.array([[2.0], [1.0]])), [1.0], "must be 0/1"),
        (np.ones((2, 1)), incidence([[0], [0]], 1), [1.0], "must be 1-D"),
    ],
)
def test_bad_input_is_a_scenario_error(demand, a, cap, match):
    with pytest.raises(ScenarioError, match=match):
        max_min_fair(demand, a, cap)


# ------------------------------------------------------ scalar reference + properties


def reference_progressive_filling(demand, rows, capacity):
    """Textbook progressive filling, one flow and resource at a time (slow, plain)."""
    n = len(demand)
    rate = [0.0] * n
    frozen = [d <= 0.0 for d in demand]
    remaining = list(capacity)
    users = [[f for f in range(n) if r in rows[f]] for r in range(len(capacity))]
    while not all(frozen):
        active = [f for f in range(n) if not frozen[f]]
        step = math.inf
        for r, fs in enumerate(users):
            k = sum(1 for f in fs if not frozen[f])
            if k:
                step = min(step, max(remaining[r], 0.0) / k)
        for f in active:
            step = min(step, demand[f] - rate[f])
        for f in active:
            rate[f] += step
        for r, fs in enumerate(users):
            remaining[r] -= step * sum(1 for f in fs if not frozen[f])
        for f in active:
            if rate[f] >= demand[f] * (1 - 1e-12):
                frozen[f] = True
            elif any(remaining[r] <= 1e-12 * max(capacity[r], 1.0) for r in rows[f]):
                frozen[f] = True
    return np.array(rate)


@st.composite
def instances(draw):
    n_flows = draw(st.integers(1, 9))
    n_res = draw(st.integers(1, 6))
    rows = [sorted(draw(st.sets(st.integers(0, n_res - 1), max_size=n_res))) for _ in range(n_flows)]
    # Integer-ish capacities make exact ties (the hard case) common.
    cap_value = st.one_of(st.just(0.0), st.integers(1, 20).map(float), st.floats(0.01, 100.0))
    capacity = [draw(cap_value) for _ in range(n_res)]
    demand = []
    for cols in rows:
        choices = [st.just(0.0), st.integers(1, 20).map(float), st.floats(0.01, 100.0)]
        if cols:  # infinite demand only where some resource caps the flow
            choices.append(st.just(math.inf))
        demand.append(draw(st.one_of(*choices)))
    return np.array(demand), rows, np.array(capacity)


def check_max_min(rate, demand, rows, capacity):
    a = incidence(rows, capacity.size)
    load = a.T @ rate
    # No resource over capacity, no flow over demand.
    assert np.all(load <= capacity * (1 + rtol) + 1e-12)
    assert np.all(rate <= demand * (1 + rtol) + 1e-12)
    assert np.all(rate >= 0)
    saturated = load >= capacity * (1 - rtol) - 1e-12
    for f, cols in enumerate(rows):
        if rate[f] >= demand[f] * (1 - rtol) - 1e-12:
            continue
        # The bottleneck condition: some saturated resource on f where no flow has more.
        ok = False
        for r in cols:
            if saturated[r]:
                others = [rate[g] for g, cg in enumerate(rows) if r in cg]
                if rate[f] >= max(others) * (1 - rtol) - 1e-12:
                    ok = True
                    break
        assert ok, f"flow {f} (rate {rate[f]}, demand {demand[f]}) has no bottleneck"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_properties_and_reference(instance):
    demand, rows, capacity = instance
    rate = max_min_fair(demand, incidence(rows, capacity.size), capacity)
    check_max_min(rate, demand, rows, capacity)
    expected = reference_progressive_filling(list(demand), [set(r) for r in rows], list(capacity))
    np.testing.assert_allclose(rate, expected, rtol=1e-9, atol=1e-9)


def test_random_larger_instances_against_reference():
    rng = np.random.default_rng(20220226)
    for _ in range(20):
        n_flows, n_res = rng.integers(20, 60), rng.integers(5, 25)
        rows = [sorted(rng.choice(n_res, size=rng.integers(1, 5), replace=False).tolist()) for _ in range(n_flows)]
        capacity = rng.choice([1.0, 2.0, 5.0, 10.0], size=n_res) * rng.integers(1, 4, size=n_res)
        demand = np.where(rng.random(n_flows) < 0.3, rng.integers(0, 4, size=n_flows).astype(float), np.inf)
        rate = max_min_fair(demand, incidence(rows, n_res), capacity)
        check_max_min(rate, demand, rows, capacity)
        expected = reference_progressive_filling(list(demand), [set(r) for r in rows], list(capacity))
        np.testing.assert_allclose(rate, expected, rtol=1e-9, atol=1e-9)


def test_gh12_an_unbounded_resource_stays_unbounded():
    # Was [nan, inf, 0.5]: a flow with infinite demand froze on an infinite-capacity resource
    # that another flow still crossed, and inf - inf left NaN there (found by the speed-test work).
    from leonet.capacity.allocate import max_min_fair

    rates = max_min_fair(np.array([np.inf, np.inf, 0.5]), np.array([[1, 1], [1, 0], [1, 1]]), np.array([np.inf, 3.0]))
    assert rates.tolist() == [2.5, np.inf, 0.5]
