"""The report's map geometry: views, aspect, outlines from the shipped borders."""

from __future__ import annotations

import math

import numpy as np
import pytest

from leonet.report import geo

# Kyiv, Frankfurt, Bucharest: the ukraine scenario's extent, roughly.
LAT = np.array([50.45, 50.11, 44.43])
LON = np.array([30.52, 8.68, 26.10])


def test_view_pads_the_sites():
    v = geo.view_of(LAT, LON)
    assert v.lon_min_deg < 8.68 and v.lon_max_deg > 30.52
    assert v.lat_min_deg < 44.43 and v.lat_max_deg > 50.45
    assert v.contains(LAT, LON).all()


def test_view_of_nothing_or_everything_is_the_world():
    assert geo.view_of([], []) is geo.WORLD
    assert geo.view_of([0.0, 10.0], [-170.0, 170.0]) is geo.WORLD


def test_single_site_gets_a_minimum_span():
    v = geo.view_of([50.0], [30.0])
    assert v.lon_max_deg - v.lon_min_deg >= geo.MIN_SPAN_DEG


@pytest.mark.parametrize("aspect", [1.0, 1.8, 3.0])
def test_widened_view_has_the_asked_aspect_and_keeps_the_sites(aspect):
    v = geo.view_of(LAT, LON)
    w = v.widened(aspect)
    assert w.aspect == pytest.approx(aspect, rel=1e-9)
    assert w.contains(LAT, LON).all()
    # It only grows.
    assert w.lon_min_deg <= v.lon_min_deg and w.lon_max_deg >= v.lon_max_deg
    assert w.lat_min_deg <= v.lat_min_deg and w.lat_max_deg >= v.lat_max_deg


def test_y_scale_is_equirectangular_at_the_middle_latitude():
    v = geo.View(20.0, 40.0, 44.0, 52.0)
    assert v.y_scale == pytest.approx(1.0 / math.cos(math.radians(48.0)))


def test_outlines_are_clipped_simplified_and_broken_by_nan():
    v = geo.view_of(LAT, LON).widened(1.8)
    land = geo.country_outlines(v)
    oblasts = geo.admin1_outlines(v)
    for lines in (land, oblasts):
        assert len(lines) > 100
        assert lines.lon_deg.dtype == np.float32 and lines.lon_deg.shape == lines.lat_deg.shape
        ok = ~np.isnan(lines.lon_deg)
        assert (~ok).sum() >= 2  # several rings
        assert v.contains(lines.lat_deg[ok], lines.lon_deg[ok], margin_share=0.06).all()
    # Simplified to the view: a few thousand points, not the files' ~70,000.
    assert len(land) + len(oblasts) < 20_000


def test_no_admin1_borders_on_a_world_map():
    assert len(geo.admin1_outlines(geo.WORLD)) == 0
    assert len(geo.country_outlines(geo.WORLD)) > 1000
