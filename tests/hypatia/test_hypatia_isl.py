"""leonet.links.isl: +Grid topology, interface numbers and range limits against Hypatia."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from leonet.errors import ScenarioError
from leonet.links.isl import (
    interface_numbers,
    link_lengths_km,
    max_gsl_length_km,
    max_isl_length_km,
    plus_grid_pairs,
)

one_mm_km = 1e-6


def test_plus_grid_reproduces_hypatia_isls_txt(hypatia_reference):
    # Hypatia's satgen.generate_plus_grid_isls(72, 22, isl_shift=0) output, byte for byte.
    text = "".join(f"{a} {b}\n" for a, b in plus_grid_pairs(72, 22))
    assert text == (hypatia_reference / "isls.txt").read_text()


@given(st.integers(3, 12), st.integers(3, 12), st.integers(0, 5), st.integers(0, 50))
def test_plus_grid_is_four_regular_without_duplicates(planes, per_plane, shift, first):
    pairs = plus_grid_pairs(planes, per_plane, shift, first)
    assert pairs.shape == (2 * planes * per_plane, 2)
    assert (pairs[:, 0] < pairs[:, 1]).all()
    assert len({tuple(p) for p in pairs.tolist()}) == len(pairs)
    counts = np.bincount(pairs.ravel() - first)
    assert counts.tolist() == [4] * (planes * per_plane)


def test_plus_grid_rejects_small_shells():
    with pytest.raises(ScenarioError, match="at least 3"):
        plus_grid_pairs(2, 22)


def test_interface_numbers_follow_list_order():
    # Sat 0's links in Hypatia's list order are (0,1), (0,22), (0,21), (0,1562): interfaces 0..3.
    pairs = plus_grid_pairs(72, 22)
    if_a, if_b, n = interface_numbers(pairs, 1584)
    assert (n == 4).all()
    where = {tuple(p): k for k, p in enumerate(pairs.tolist())}
    assert if_a[where[(0, 1)]] == 0 and if_a[where[(0, 22)]] == 1
    assert if_a[where[(0, 21)]] == 2 and if_a[where[(0, 1562)]] == 3
    # Sat 21: (20,21) first, then (0,21): its interface toward 0 is 1 (fstate_0: "0,1587,21,2,1").
    assert if_b[where[(20, 21)]] == 0 and if_b[where[(0, 21)]] == 1


def test_hypatia_range_limits(hypatia_reference):
    text = (hypatia_reference / "description.txt").read_text()
    values = dict(line.split("=") for line in text.split())
    assert max_gsl_length_km(550.0) * 1000 == pytest.approx(float(values["max_gsl_length_m"]), rel=1e-12)
    assert max_isl_length_km(550.0) * 1000 == pytest.approx(float(values["max_isl_length_m"]), rel=1e-12)


def test_slant_range_hand_values():
    # The one slant-range helper (issue 11): zenith = the altitude; horizon (0 deg) = sqrt((R+h)^2 - R^2);
    # Hypatia's 25-deg spherical figure 1,123.4 km.
    from leonet.links.visibility import max_slant_range_km

    r = 6378.135
    assert max_slant_range_km(r, r + 550.0, 90.0) == pytest.approx(550.0, abs=one_mm_km)
    assert max_slant_range_km(r, r + 550.0, 0.0) == pytest.approx(math.sqrt((r + 550) ** 2 - r**2), abs=one_mm_km)
    assert round(float(max_slant_range_km(r, r + 550.0, 25.0)), 1) == 1123.4
    # Raising the mask never lengthens the allowed range.
    e = np.linspace(0, 90, 91)
    assert (np.diff(max_slant_range_km(r, r + 550.0, e)) < 0).all()


def test_link_lengths_shapes_and_values():
    rng = np.random.default_rng(1)
    r = rng.normal(size=(5, 7, 3)) * 7000
    pairs = np.array([[0, 1], [2, 6], [3, 4]])
    out = link_lengths_km(r, pairs)
    assert out.shape == (5, 3)
    assert out[2, 1] == pytest.approx(np.linalg.norm(r[2, 2] - r[2, 6]))
    assert link_lengths_km(r[0], pairs).shape == (3,)
