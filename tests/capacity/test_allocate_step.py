"""allocate_step: beams, satellites, gateways and lasers shared max-min fairly in one step."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leonet.capacity import CapacityModel, allocate_step, gateway_capacity_bps, max_min_fair
from leonet.capacity.params import BEAM_CAPACITY_BPS, GATEWAY_ANTENNA_CAPACITY_BPS, MIN_RATE_BPS
from leonet.errors import ScenarioError

one_bps = 1.0
rtol = 1e-9
Mbps = 1e6
Gbps = 1e9


def model(
    n_sat=2, n_gw=1, *, sat=20 * Gbps, beams=16, beam=1 * Gbps, gw=100 * Gbps, isl=100 * Gbps, min_rate=MIN_RATE_BPS
):
    return CapacityModel(
        satellite_capacity_bps=np.full(n_sat, sat),
        beams_per_satellite=np.full(n_sat, beams),
        beam_capacity_bps=np.full(n_sat, beam),
        gateway_capacity_bps=np.full(n_gw, gw),
        isl_capacity_bps=isl,
        min_rate_bps=min_rate,
    )


def test_beam_shared_equally_in_a_cell():
    r = allocate_step(model(), [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], 1 * Gbps)
    np.testing.assert_allclose(r.throughput_bps, 250 * Mbps, rtol=rtol)
    np.testing.assert_allclose(r.cell_utilisation, [1.0], rtol=rtol)
    np.testing.assert_allclose(r.cell_capacity_bps, [1 * Gbps], rtol=rtol)
    np.testing.assert_allclose(r.gateway_used_bps, [1 * Gbps], rtol=rtol)
    np.testing.assert_allclose(r.gateway_utilisation, [0.01], rtol=rtol)
    np.testing.assert_allclose(r.satellite_used_bps, [1 * Gbps, 0.0], rtol=rtol)
    assert r.satellite_beams.tolist() == [1, 0]
    assert not r.below_min_rate.any() and not r.no_beam.any() and r.routed.all()


def test_two_satellites_on_one_cell_give_it_two_beams():
    r = allocate_step(model(), [0, 0, 0, 0], [0, 0, 1, 1], [0, 0, 0, 0], 1 * Gbps)
    np.testing.assert_allclose(r.throughput_bps, 500 * Mbps, rtol=rtol)
    np.testing.assert_allclose(r.cell_capacity_bps, [2 * Gbps], rtol=rtol)


def test_beam_limit_picks_busiest_cells_ties_by_cell_index():
    # One satellite with 2 beams over 4 cells; cell demands 3, 1, 2, 2 (x 10 Mbit/s).
    # Busiest: cell 0 (3); then cells 2 and 3 tie (2): the smaller index, 2, wins.
    cells = [0, 0, 0, 1, 2, 2, 3, 3]
    m = model(n_sat=1, beams=2)
    r = allocate_step(m, cells, np.zeros(8, int), np.zeros(8, int), 10 * Mbps)
    assert r.no_beam.tolist() == [False, False, False, True, False, False, True, True]
    assert r.below_min_rate.tolist() == r.no_beam.tolist()
    np.testing.assert_allclose(r.throughput_bps, np.where(r.no_beam, 0.0, 10 * Mbps))
    assert r.satellite_beams.tolist() == [2]
    assert np.isnan(r.cell_utilisation[[1, 3]]).all()
    np.testing.assert_allclose(r.cell_capacity_bps, [1 * Gbps, 0, 1 * Gbps, 0])


def test_beam_choice_by_demand_not_by_count():
    # Cell 1 has fewer terminals but more demand: it gets the single beam.
    r = allocate_step(model(n_sat=1, beams=1), [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0], [10e6, 10e6, 10e6, 50e6])
    assert r.no_beam.tolist() == [True, True, True, False]


def test_satellite_total_is_a_bottleneck():
    # 4 cells, one terminal each, beams of 1 Gbit/s, but the satellite has 2 Gbit/s.
    r = allocate_step(model(n_sat=1, sat=2 * Gbps), [0, 1, 2, 3], [0] * 4, [0] * 4, 1 * Gbps)
    np.testing.assert_allclose(r.throughput_bps, 500 * Mbps, rtol=rtol)
    np.testing.assert_allclose(r.satellite_used_bps, [2 * Gbps], rtol=rtol)


def test_gateway_feeder_is_a_bottleneck():
    # Two satellites, two cells, one 600 Mbit/s gateway: 300 each.
    r = allocate_step(model(gw=600 * Mbps), [0, 1], [0, 1], [0, 0], 1 * Gbps)
    np.testing.assert_allclose(r.throughput_bps, [300 * Mbps, 300 * Mbps], rtol=rtol)
    np.testing.assert_allclose(r.gateway_utilisation, [1.0], rtol=rtol)


def test_laser_link_is_a_bottleneck_and_loads_are_reported():
    # Terminals 0, 1 cross laser 5 (100 Mbit/s); terminal 1 also laser 2; terminal 2 none.
    m = model(n_sat=3, n_gw=2, isl=100 * Mbps)
    r = allocate_step(
        m,
        [0, 1, 2],
        [0, 1, 2],
        [0, 1, 1],
        1 * Gbps,
        isl_indptr=[0, 1, 3, 3],
        isl_edges=[5, 2, 5],
        n_isl=8,
    )
    np.testing.assert_allclose(r.throughput_bps, [50 * Mbps, 50 * Mbps, 1 * Gbps], rtol=rtol)
    assert r.isl_used_bps.shape == (8,)
    np.testing.assert_allclose(r.isl_used_bps[[2, 5]], [50 * Mbps, 100 * Mbps], rtol=rtol)
    assert r.isl_used_bps.sum() == pytest.approx(150 * Mbps)


def test_unrouted_terminals_are_not_capacity_failures():
    r = allocate_step(model(), [0, 0, 0], [0, -1, 0], [0, 0, -1], 1 * Gbps)
    assert r.routed.tolist() == [True, False, False]
    np.testing.assert_allclose(r.throughput_bps, [1 * Gbps, 0, 0], rtol=rtol)
    assert not r.below_min_rate.any()


def test_below_min_rate_in_a_crowded_cell():
    # 2,000 terminals in one 1.226 Gbit/s beam: 0.61 Mbit/s each < 1 Mbit/s.
    n = 2000
    m = CapacityModel.uniform(1, [1e12])
    r = allocate_step(m, np.zeros(n, int), np.zeros(n, int), np.zeros(n, int), 100 * Mbps)
    np.testing.assert_allclose(r.throughput_bps, BEAM_CAPACITY_BPS / n, rtol=rtol)
    assert r.below_min_rate.all() and not r.no_beam.any()
    # With 1,000 they get 1.23 Mbit/s: served.
    r = allocate_step(m, np.zeros(n // 2, int), np.zeros(n // 2, int), np.zeros(n // 2, int), 100 * Mbps)
    assert not r.below_min_rate.any()


def test_demand_below_min_rate_is_not_a_failure_and_multiplier_scales():
    m = model(n_sat=1)
    r = allocate_step(m, [0, 0, 0], [0, 0, 0], [0, 0, 0], [0.5 * Mbps, 10 * Mbps, 10 * Mbps],
                      demand_multiplier=[1.0, 0.0, 2.0])
    np.testing.assert_allclose(r.demand_bps, [0.5 * Mbps, 0.0, 20 * Mbps])
    np.testing.assert_allclose(r.throughput_bps, [0.5 * Mbps, 0.0, 20 * Mbps], rtol=rtol)
    assert not r.below_min_rate.any()
    # A zero-demand terminal does not claim a beam.
    r = allocate_step(model(n_sat=1, beams=1), [0, 1], [0, 0], [0, 0], 10 * Mbps, demand_multiplier=[0.0, 1.0])
    assert r.satellite_beams.tolist() == [1] and not r.no_beam.any()
    np.testing.assert_allclose(r.throughput_bps, [0.0, 10 * Mbps])


def test_empty_step():
    r = allocate_step(model(), np.zeros(0, int), np.zeros(0, int), np.zeros(0, int), n_cells=3)
    assert r.throughput_bps.shape == (0,)
    assert r.cell_used_bps.shape == (3,) and r.gateway_used_bps.shape == (1,)
    r = allocate_step(model(), [0, 1], [-1, -1], [-1, -1])
    assert r.throughput_bps.tolist() == [0.0, 0.0] and r.rounds == 0


def test_shapes():
    g, c, s, w, n_isl = 7, 4, 3, 2, 6
    r = allocate_step(
        model(n_sat=s, n_gw=w),
        [0, 1, 2, 3, 0, 1, 2],
        [0, 1, 2, 0, 1, 2, -1],
        [0, 1, 0, 1, 0, 1, 0],
        isl_indptr=[0, 1, 1, 2, 2, 2, 3, 3],
        isl_edges=[0, 1, 2],
        n_cells=c,
        n_isl=n_isl,
    )
    for name in ("throughput_bps", "demand_bps", "routed", "no_beam", "below_min_rate"):
        assert getattr(r, name).shape == (g,), name
    for name in ("cell_used_bps", "cell_capacity_bps", "cell_utilisation"):
        assert getattr(r, name).shape == (c,), name
    for name in ("gateway_used_bps", "gateway_capacity_bps", "gateway_utilisation"):
        assert getattr(r, name).shape == (w,), name
    assert r.satellite_used_bps.shape == (s,) and r.satellite_beams.shape == (s,)
    assert r.isl_used_bps.shape == (n_isl,)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(terminal_cell=[0.5]), "integer"),
        (dict(serving_satellite=[0, 0]), "expected 1"),
        (dict(serving_satellite=[5]), "serving_satellite values"),
        (dict(gateway=[-2]), "gateway values"),
        (dict(terminal_cell=[-1]), "terminal_cell values"),
        (dict(demand_bps=[-1.0]), "demand_bps must be >= 0"),
        (dict(demand_multiplier=[1.0, 2.0]), "one entry per terminal"),
        (dict(isl_indptr=[0, 1]), "together"),
        (dict(isl_indptr=[0, 2], isl_edges=[1]), "isl_indptr must start at 0"),
        (dict(isl_indptr=[0, 1], isl_edges=[4], n_isl=3), "n_isl"),
    ],
)
def test_bad_input(kwargs, match):
    args = dict(terminal_cell=[0], serving_satellite=[0], gateway=[0])
    args.update(kwargs)
    with pytest.raises(ScenarioError, match=match):
        allocate_step(model(), **args)


def test_gateway_capacity_helper():
    np.testing.assert_allclose(gateway_capacity_bps([8, 2]), [8 * 20e9, 2 * 20e9])
    np.testing.assert_allclose(gateway_capacity_bps([8, 2], ["Ka", "E"]), [8 * 20e9, 2 * 48e9])
    np.testing.assert_allclose(gateway_capacity_bps([8], per_antenna_bps=3e9), [24e9])
    assert GATEWAY_ANTENNA_CAPACITY_BPS["Ka+E"] == GATEWAY_ANTENNA_CAPACITY_BPS["Ka"]
    with pytest.raises(ScenarioError, match="no per-antenna rate"):
        gateway_capacity_bps([1], ["Q"])
    with pytest.raises(ScenarioError, match="one per gateway"):
        gateway_capacity_bps([1, 2], ["Ka"])


def test_model_validation():
    with pytest.raises(ScenarioError, match="beam_capacity_bps"):
        model(beam=-1.0)
    with pytest.raises(ScenarioError, match="min_rate_bps"):
        model(min_rate=np.nan)
    m = CapacityModel.uniform(2, [1.0], "v2-mini")
    assert m.beams_per_satellite.tolist() == [64, 64] and m.n_gateways == 1 and m.n_satellites == 2
    with pytest.raises(ScenarioError, match="unknown satellite generation"):
        CapacityModel.uniform(2, [1.0], "v9")


# ------------------------------------------------ cross-check against a plain rebuild


def plain_allocation(m, cell, sat, gw, demand, paths, n_cells):
    """Beam choice by sorting, incidence built entry by entry, then max_min_fair."""
    g = len(cell)
    pairs = {}
    for t in range(g):
        if sat[t] >= 0 and gw[t] >= 0 and demand[t] > 0:
            pairs.setdefault((sat[t], cell[t]), 0.0)
            pairs[(sat[t], cell[t])] += demand[t]
    beamed = set()
    for s in {s for s, _ in pairs}:
        mine = sorted((c for ss, c in pairs if ss == s), key=lambda c: (-pairs[(s, c)], c))
        beamed.update((s, c) for c in mine[: m.beams_per_satellite[s]])
    flows = [t for t in range(g) if (sat[t], cell[t]) in beamed and gw[t] >= 0 and demand[t] > 0]
    resources, caps, rows, cols = {}, [], [], []

    def col(key, cap):
        if key not in resources:
            resources[key] = len(caps)
            caps.append(cap)
        return resources[key]

    for i, t in enumerate(flows):
        s = sat[t]
        for key, cap in (
            (("beam", s, cell[t]), m.beam_capacity_bps[s]),
            (("sat", s), m.satellite_capacity_bps[s]),
            (("gw", gw[t]), m.gateway_capacity_bps[gw[t]]),
            *((("isl", e), m.isl_capacity_bps) for e in paths[t]),
        ):
            rows.append(i)
            cols.append(col(key, cap))
    a = scipy.sparse.csr_array((np.ones(len(rows)), (rows, cols)), shape=(len(flows), len(caps)))
    rate = max_min_fair(np.asarray(demand)[flows], a, caps) if flows else np.zeros(0)
    out = np.zeros(g)
    out[flows] = rate
    return out


@st.composite
def steps(draw):
    g = draw(st.integers(1, 25))
    n_sat, n_gw, n_cells, n_isl = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 6)), 6
    cell = [draw(st.integers(0, n_cells - 1)) for _ in range(g)]
    sat = [draw(st.integers(-1, n_sat - 1)) for _ in range(g)]
    gw = [draw(st.integers(-1, n_gw - 1)) for _ in range(g)]
    demand = [draw(st.sampled_from([0.0, 1e6, 5e6, 2e7, 1e8, np.inf])) for _ in range(g)]
    paths = [sorted(draw(st.sets(st.integers(0, n_isl - 1), max_size=3))) for _ in range(g)]
    m = CapacityModel(
        satellite_capacity_bps=[draw(st.sampled_from([5e7, 1e8, 3e8])) for _ in range(n_sat)],
        beams_per_satellite=[draw(st.integers(0, 3)) for _ in range(n_sat)],
        beam_capacity_bps=[draw(st.sampled_from([2e7, 6e7, 1e8])) for _ in range(n_sat)],
        gateway_capacity_bps=[draw(st.sampled_from([0.0, 5e7, 1.5e8])) for _ in range(n_gw)],
        isl_capacity_bps=draw(st.sampled_from([3e7, 1e8])),
    )
    return m, cell, sat, gw, demand, paths, n_cells, n_isl


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps())
def test_allocate_step_matches_plain_rebuild(step):
    m, cell, sat, gw, demand, paths, n_cells, n_isl = step
    indptr = np.cumsum([0] + [len(p) for p in paths])
    edges = np.array([e for p in paths for e in p], dtype=int)
    r = allocate_step(m, cell, sat, gw, demand, isl_indptr=indptr, isl_edges=edges, n_cells=n_cells, n_isl=n_isl)
    expected = plain_allocation(m, cell, sat, gw, demand, paths, n_cells)
    np.testing.assert_allclose(r.throughput_bps, expected, rtol=1e-9, atol=1e-6)
    # Conservation on every reported resource.
    assert np.all(r.gateway_used_bps <= m.gateway_capacity_bps * (1 + rtol) + 1e-6)
    assert np.all(r.satellite_used_bps <= m.satellite_capacity_bps * (1 + rtol) + 1e-6)
    assert np.all(r.cell_used_bps <= r.cell_capacity_bps * (1 + rtol) + 1e-6)
    assert np.all(r.isl_used_bps <= m.isl_capacity_bps * (1 + rtol) + 1e-6)
    assert np.all(r.satellite_beams <= m.beams_per_satellite)
    assert np.all(r.throughput_bps <= np.asarray(demand) + 1e-6)


def test_terminals_sharing_a_cell_but_not_a_path_are_not_merged():
    # Five terminals: same satellite, cell, gateway and demand.  Terminals 0, 2
    # and 4 cross laser 0; terminal 1 crosses laser 1 (same length, other
    # link); terminal 3 crosses lasers 0 and 1.  Lasers carry 30 Mbit/s.
    m = model(n_sat=1, isl=30 * Mbps)
    r = allocate_step(
        m,
        [0] * 5,
        [0] * 5,
        [0] * 5,
        100 * Mbps,
        isl_indptr=[0, 1, 2, 3, 5, 6],
        isl_edges=[0, 1, 0, 0, 1, 0],
        n_isl=2,
    )
    # Laser 0: terminals 0, 2, 3, 4 -> 7.5 each; laser 1: terminals 1, 3 -> 1 gets 22.5.
    np.testing.assert_allclose(r.throughput_bps, np.array([7.5, 22.5, 7.5, 7.5, 7.5]) * Mbps, rtol=rtol)
    np.testing.assert_allclose(r.isl_used_bps, [30 * Mbps, 30 * Mbps], rtol=rtol)


def test_order_of_terminals_does_not_matter():
    rng = np.random.default_rng(7)
    g = 300
    cell, sat, gw = rng.integers(0, 20, g), rng.integers(-1, 6, g), rng.integers(-1, 3, g)
    demand = rng.choice([1e6, 5e7, 1e8], g)
    lens = rng.integers(0, 4, g)
    paths = [rng.choice(10, size=k, replace=False) for k in lens]
    m = model(n_sat=6, n_gw=3, beams=4, beam=2e8, sat=6e8, gw=1e9, isl=3e8)

    def run(perm):
        ps = [paths[i] for i in perm]
        indptr = np.r_[0, np.cumsum([len(p) for p in ps])]
        edges = np.concatenate(ps).astype(int)
        return allocate_step(m, cell[perm], sat[perm], gw[perm], demand[perm], isl_indptr=indptr,
                             isl_edges=edges, n_cells=20, n_isl=10)

    base = run(np.arange(g))
    perm = rng.permutation(g)
    shuffled = run(perm)
    np.testing.assert_allclose(shuffled.throughput_bps, base.throughput_bps[perm], rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(shuffled.isl_used_bps, base.isl_used_bps, rtol=1e-9)
    assert base.rounds >= 1
