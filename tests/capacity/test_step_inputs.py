"""check_step_inputs and allocate_step(validate=False): checks once at the edge, same answers inside.

Issue 11 split `allocate_step`'s input checks (`check_step_inputs`) from the
per-step allocation so callers whose arrays leonet built itself can skip
them.  These tests hold the two paths to the same arrays and the same
allocation, bit for bit, on random steps with laser paths, inactive
terminals and infinite demands.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leonet.capacity.allocate import (
    CapacityModel,
    StepInputs,
    allocate_step,
    check_step_inputs,
)
from leonet.errors import ScenarioError


@st.composite
def steps(draw):
    g = draw(st.integers(0, 25))
    n_sat, n_gw, n_cells, n_isl = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 6)), 6
    cell = [draw(st.integers(0, n_cells - 1)) for _ in range(g)]
    sat = [draw(st.integers(-1, n_sat - 1)) for _ in range(g)]
    gw = [draw(st.integers(-1, n_gw - 1)) for _ in range(g)]
    demand = [draw(st.sampled_from([0.0, 1e6, 2e7, 1e8, np.inf])) for _ in range(g)]
    multiplier = draw(st.one_of(st.just(1.0), st.lists(st.sampled_from([0.0, 0.5, 1.0]), min_size=g, max_size=g)))
    paths = [sorted(draw(st.sets(st.integers(0, n_isl - 1), max_size=3))) for _ in range(g)]
    m = CapacityModel(
        satellite_capacity_bps=[draw(st.sampled_from([5e7, 1e8, 3e8])) for _ in range(n_sat)],
        beams_per_satellite=[draw(st.integers(0, 3)) for _ in range(n_sat)],
        beam_capacity_bps=[draw(st.sampled_from([2e7, 6e7, 1e8])) for _ in range(n_sat)],
        gateway_capacity_bps=[draw(st.sampled_from([0.0, 5e7, 1.5e8])) for _ in range(n_gw)],
        isl_capacity_bps=draw(st.sampled_from([3e7, 1e8])),
    )
    kwargs = {"demand_multiplier": multiplier, "n_cells": draw(st.sampled_from([None, n_cells]))}
    if draw(st.booleans()):
        kwargs["isl_indptr"] = np.cumsum([0] + [len(p) for p in paths])
        kwargs["isl_edges"] = np.array([e for p in paths for e in p], dtype=int)
        kwargs["n_isl"] = draw(st.sampled_from([None, n_isl]))
    return m, cell, sat, gw, demand, kwargs


def assert_same(a, b):
    """Equal values, dtypes and shapes; NaN equals NaN."""
    assert type(a) is type(b)
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    else:
        assert a == b


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps())
def test_unchecked_allocation_is_identical(step):
    m, cell, sat, gw, demand, kwargs = step
    with np.errstate(invalid="ignore"):  # 0 * inf demand, taken as 0
        checked = allocate_step(m, cell, sat, gw, demand, **kwargs)
        trusted = allocate_step(m, cell, sat, gw, demand, validate=False, **kwargs)
    for field in dataclasses.fields(checked):
        assert_same(getattr(checked, field.name), getattr(trusted, field.name))


def test_check_step_inputs_normalises():
    m = CapacityModel.uniform(3, [1e9])
    with np.errstate(invalid="ignore"):
        s = check_step_inputs(m, [0, 2, 1], np.array([0, 1, -1], dtype=np.int32), [0, 0, -1], [np.inf, 5e6, 1e6],
                              demand_multiplier=[0.0, 2.0, 1.0])
    assert isinstance(s, StepInputs)
    for name in ("terminal_cell", "serving_satellite", "gateway", "isl_indptr", "isl_edges"):
        assert getattr(s, name).dtype == np.intp, name
    assert s.demand_bps.tolist() == [0.0, 10e6, 1e6]  # inactive (0) times inf demand wants nothing
    assert s.isl_indptr.tolist() == [0, 0, 0, 0] and s.isl_edges.size == 0
    assert (s.n_cells, s.n_isl) == (3, 0)
    s = check_step_inputs(m, [0], [0], [0], 1e6, isl_indptr=[0, 2], isl_edges=[4, 1])
    assert s.demand_bps.tolist() == [1e6] and s.n_cells == 1 and s.n_isl == 5


def test_check_step_inputs_reports_the_first_error():
    m = CapacityModel.uniform(1, [1e9])
    # The first violation is reported: a float terminal_cell before the out-of-range satellite.
    with pytest.raises(ScenarioError, match="terminal_cell must be a 1-D integer array"):
        check_step_inputs(m, [0.5], [7], [0])
    with pytest.raises(ScenarioError, match=r"serving_satellite values must be -1 or in 0\.\.0, got 7\.\.7"):
        allocate_step(m, [0], [7], [0])
