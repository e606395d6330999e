"""The home PoP of a terminal where it is (issue 13): `HomeLocator` against `home_pops`, box answers against points."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leonet.ground.pops import HOME_BOX_DEG, HomeLocator, home_pops, pop_assignment_table
from leonet.ground.regions import admin1_codes_in_box, admin1_codes_of, countries_in_box, country_of
from leonet.ground.sites import load_pops, sites_from_coordinates


@pytest.fixture(scope="module")
def pops():
    return load_pops(catalog="2026-10")


def _points(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Random points over Europe, plus points along borders and coasts where boxes are not pure."""
    rng = np.random.default_rng(seed)
    lat, lon = rng.uniform(35.0, 62.0, n), rng.uniform(-12.0, 45.0, n)
    # Along the Rhine (DE/FR), the Bug (PL/UA), the Crimean coast, and the Strait of Gibraltar.
    for (a, b), (c, d) in (((48.0, 49.0), (7.5, 8.3)), ((50.5, 51.5), (23.5, 24.3)), ((44.3, 45.6), (32.4, 34.0)),
                           ((35.8, 36.2), (-6.0, -5.2))):
        lat = np.concatenate([lat, rng.uniform(a, b, n // 4)])
        lon = np.concatenate([lon, rng.uniform(c, d, n // 4)])
    return lat, lon


def test_the_home_where_a_terminal_is_equals_home_pops_of_a_terminal_standing_there(pops):
    lat, lon = _points(13, 1200)
    locator = HomeLocator(pops)
    got = locator.home_at(lat, lon)
    sites = sites_from_coordinates("terminal", [{"name": str(k), "lat_deg": a, "lon_deg": b}
                                                for k, (a, b) in enumerate(zip(lat.tolist(), lon.tolist()))])
    want, _ = home_pops(sites, pops)
    assert np.array_equal(got, want)
    # Asked again in another order (boxes now remembered): the same answers.
    order = np.random.default_rng(1).permutation(lat.size)
    assert np.array_equal(locator.home_at(lat[order], lon[order]), want[order])
    assert len({pops.ids[i] for i in got}) > 5  # a real test: many PoPs


def test_known_homes_and_no_position(pops):
    locator = HomeLocator(pops)
    # Kehl (DE) and Strasbourg (FR), 3 km apart across the Rhine; Kyiv; NaN (no position).
    got = locator.home_at([48.5766, 48.5734, 50.45, np.nan], [7.8155, 7.7521, 30.52, 0.0])
    # France is assigned by region in Starlink's feed: Strasbourg's PoP is its region's.
    (alsace,) = admin1_codes_of([48.5734], [7.7521])
    table = pop_assignment_table()
    strasbourg = table.get(("FR", alsace.upper())) or table[("FR", "")]
    assert [pops.ids[i] for i in got[:3]] == ["frntdeu1", strasbourg, "wrswpol1"] and got[3] == -1
    assert strasbourg != "frntdeu1"  # crossing the Rhine changes the PoP


boxes = st.tuples(st.integers(-60 * 64, 70 * 64), st.integers(-180 * 64, 179 * 64), st.integers(0, 4))


@settings(max_examples=150, deadline=None)
@given(boxes, st.integers(0, 2**32 - 1))
def test_the_answers_a_box_allows_hold_the_answer_of_every_point_in_it(box, seed):
    size = HOME_BOX_DEG / 2 ** box[2]
    lat0, lon0 = box[0] // 2 ** (4 - box[2]) * size, box[1] // 2 ** (4 - box[2]) * size
    lat1, lon1 = lat0 + size, lon0 + size
    rng = np.random.default_rng(seed)
    lat = np.concatenate([rng.uniform(lat0, lat1, 30), [lat0, lat1, lat0, lat1]])
    lon = np.concatenate([rng.uniform(lon0, lon1, 30), [lon0, lon0, lon1, lon1]])  # corners included
    assert set(country_of(lat, lon)) <= countries_in_box(lon0, lat0, lon1, lat1)
    assert set(admin1_codes_of(lat, lon)) <= admin1_codes_in_box(lon0, lat0, lon1, lat1)


@pytest.mark.parametrize("lat,lon", [(44.6, 33.45), (36.0, -5.6), (40.68, -74.01), (-6.8, 39.28), (59.33, 18.18)])
def test_coasts_and_straits_boxes_of_every_size(lat, lon):
    """Boxes around places on coasts and borders (Sevastopol, Gibraltar, New York, Dar es Salaam, Stockholm)."""
    rng = np.random.default_rng(5)
    for level in range(5):
        size = HOME_BOX_DEG / 2**level
        for di in (-1, 0, 1):
            for dj in (-1, 0, 1):
                lat0, lon0 = (np.floor(lat / size) + di) * size, (np.floor(lon / size) + dj) * size
                pts_lat, pts_lon = rng.uniform(lat0, lat0 + size, 40), rng.uniform(lon0, lon0 + size, 40)
                assert set(country_of(pts_lat, pts_lon)) <= countries_in_box(lon0, lat0, lon0 + size, lat0 + size)
                assert set(admin1_codes_of(pts_lat, pts_lon)) <= admin1_codes_in_box(lon0, lat0, lon0 + size, lat0 + size)
