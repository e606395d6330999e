"""Ground-satellite links: delays and antenna limits (visibility is tested in test_visibility.py)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leonet.constants import C_KM_S
from leonet.links.gsl import limit_links_per_site, one_way_delay_s
from leonet.links.visibility import GroundLinks, SiteGeometry, visible_links
from leonet.orbits.frames import geodetic_to_ecef

one_ps_s = 1e-12


def test_one_way_delay():
    assert one_way_delay_s(C_KM_S) == pytest.approx(1.0)
    # Hand-worked: 550 km straight up is 550 / 299,792.458 s = 1.8346 ms.
    assert abs(float(one_way_delay_s(550.0)) - 1.834603e-3) < 1e-9
    assert one_way_delay_s(np.ones((2, 5))).shape == (2, 5)


def test_delay_of_visible_links_is_range_over_c():
    site = SiteGeometry.from_lat_lon([10.0], [20.0], [25.0])
    sat = geodetic_to_ecef([10.0, 11.0], [20.0, 21.0], 550.0)
    links = visible_links(site, sat)
    assert len(links) == 2
    assert np.abs(links.delay_s - one_way_delay_s(links.range_km)).max() < one_ps_s


def test_limit_links_keeps_the_highest_per_site():
    links = GroundLinks(
        np.array([0, 0, 0, 1, 1], np.int32),
        np.array([3, 5, 7, 1, 2], np.int32),
        np.ones(5),
        np.array([0.5, 0.9, 0.7, 0.4, 0.4]),
    )
    kept = limit_links_per_site(links, [2, 1])
    # Site 0 keeps satellites 5 and 7 (highest); site 1 a tie -> the lower index.
    assert list(zip(kept.site.tolist(), kept.sat.tolist())) == [(0, 5), (0, 7), (1, 1)]
    # Shapes and dtypes are those of the input.
    assert isinstance(kept, GroundLinks) and kept.site.dtype == np.int32 and kept.range_km.shape == (3,)
    assert len(limit_links_per_site(links.take(np.zeros(5, dtype=bool)), [2, 1])) == 0


@settings(max_examples=50, deadline=None)
@given(
    n=st.integers(0, 40),
    limit=st.lists(st.integers(0, 5), min_size=4, max_size=4),
    seed=st.integers(0, 2**31),
)
def test_limit_links_against_a_per_site_sort(n, limit, seed):
    # Reference: for each site, sort its pairs by (-elevation, satellite) and keep the first limit[site].
    rng = np.random.default_rng(seed)
    pairs = sorted({(int(g), int(s)) for g, s in zip(rng.integers(0, 4, n), rng.integers(0, 30, n))})
    site = np.array([p[0] for p in pairs], np.int32)
    sat = np.array([p[1] for p in pairs], np.int32)
    sin_el = rng.choice([0.5, 0.6, 0.7, 0.9], len(pairs))  # ties on purpose
    links = GroundLinks(site, sat, np.ones(len(pairs)), sin_el)
    kept = limit_links_per_site(links, limit)
    expected = []
    for g in range(4):
        mine = sorted((-sin_el[i], int(sat[i])) for i in range(len(pairs)) if site[i] == g)[: limit[g]]
        expected += sorted((g, s) for _, s in mine)
    assert list(zip(kept.site.tolist(), kept.sat.tolist())) == expected
