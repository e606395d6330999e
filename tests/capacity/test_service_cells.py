"""Service cells (H3)."""

from __future__ import annotations

import h3
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leonet.capacity import DEFAULT_H3_RESOLUTION, ServiceCells, cell_area_km2, cell_of
from leonet.errors import ScenarioError


def test_default_resolution_is_starlink_like():
    # Starlink's availability map matches H3 resolution 5 (uber/h3 issue #717);
    # H3's table gives 252.9 km^2 average hexagon area at resolution 5.
    assert DEFAULT_H3_RESOLUTION == 5
    assert cell_area_km2() == pytest.approx(252.9, abs=0.1)


def test_matches_h3_scalar_api():
    lat = np.array([50.45, 49.84, -33.87, 0.0, 89.9, -89.9])
    lon = np.array([30.52, 24.03, 151.21, 0.0, 180.0, -180.0])
    got = cell_of(lat, lon, 5)
    expected = [h3.str_to_int(h3.latlng_to_cell(a, b, 5)) for a, b in zip(lat, lon)]
    assert got.dtype == np.uint64
    assert got.tolist() == expected


def test_shape_is_preserved():
    lat = np.full((2, 3), 48.0)
    lon = np.linspace(22.0, 40.0, 6).reshape(2, 3)
    assert cell_of(lat, lon).shape == (2, 3)
    assert cell_of(48.0, 30.0).shape == ()


def test_cache_returns_independent_copies():
    lat, lon = np.array([50.0, 51.0]), np.array([30.0, 31.0])
    first = cell_of(lat, lon)
    first[:] = 0
    assert np.all(cell_of(lat, lon) != 0)
    assert not np.array_equal(cell_of(lat, lon, 4), cell_of(lat, lon, 5))


@pytest.mark.parametrize(
    "lat, lon, res, match",
    [
        ([91.0], [0.0], 5, "latitude must be in"),
        ([np.nan], [0.0], 5, "no valid coordinates"),
        ([0.0], [181.0], 5, "no valid coordinates"),
        ([0.0, 1.0], [0.0], 5, "same shape"),
        ([0.0], [0.0], 16, "0 to 15"),
        ([0.0], [0.0], 5.0, "0 to 15"),
    ],
)
def test_bad_input(lat, lon, res, match):
    with pytest.raises(ScenarioError, match=match):
        cell_of(lat, lon, res)


def test_service_cells_sorted_and_consistent():
    rng = np.random.default_rng(1)
    lat = rng.uniform(44.4, 52.3, 500)
    lon = rng.uniform(22.1, 40.2, 500)
    cells = ServiceCells.from_coordinates(lat, lon)
    assert cells.resolution == 5
    assert np.all(cells.cell_id[1:] > cells.cell_id[:-1])  # strictly ascending, exact in uint64
    assert np.array_equal(cells.cell_id[cells.terminal_cell], cell_of(lat, lon))
    assert cells.terminal_count().sum() == 500
    assert cells.n_terminals == 500
    clat, clon = cells.centres_deg()
    assert clat.shape == clon.shape == (cells.n_cells,)
    # A cell's centre lies in the cell.
    assert np.array_equal(cell_of(clat, clon), cells.cell_id)
    assert len(cells.hex_ids()[0]) == 15


def test_service_cells_from_sites_and_bad_shape():
    class Sites:
        lat_deg = np.array([50.45, 50.46])
        lon_deg = np.array([30.52, 30.53])

    assert ServiceCells.from_sites(Sites()).n_cells == 1
    with pytest.raises(ScenarioError, match="1-D"):
        ServiceCells.from_coordinates(np.zeros((2, 2)), np.zeros((2, 2)))


@settings(max_examples=50, deadline=None)
@given(st.floats(-89.0, 89.0), st.floats(-179.0, 179.0))
def test_finer_resolution_nests_in_coarser(lat, lon):
    fine = int(cell_of(lat, lon, 6))
    coarse = int(cell_of(lat, lon, 5))
    # H3 is not exactly nested geometrically, but a point's res-6 cell has a
    # res-5 parent that is its own cell or a neighbour of it.
    parent = h3.cell_to_parent(h3.int_to_str(fine), 5)
    assert h3.grid_distance(parent, h3.int_to_str(coarse)) <= 1
