"""Fuzzing GeoJSON regions: `read_geojson_region` and `load_region` on a path.

Whatever the file holds, the reader returns a valid polygonal `Region` or
raises an `InputFileError` naming the file; nothing else (no shapely
``GEOSException``, ``AttributeError``, ``RecursionError``...) escapes.  Documents
start from a small valid FeatureCollection and are mutated structurally
(random values of random types at random places, wrong geometry types,
unclosed rings, bow-ties, NaN/inf, huge numbers, deep nesting) or as text and
bytes.
"""

from __future__ import annotations

import copy
import itertools
import json

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leonet.errors import InputFileError, LeonetError
from leonet.ground.regions import load_region, points_in_region, read_geojson_region
from leonet.ground.sampling import sample_points

pytestmark = pytest.mark.slow  # a real run, fuzzing or the browser: deselect with -m "not slow"

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# A small valid document: a square around Kyiv and a two-part MultiPolygon with a hole.
VALID = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"name": "Kyiv box"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[30.2, 50.3], [30.8, 50.3], [30.8, 50.6], [30.2, 50.6], [30.2, 50.3]]],
            },
        },
        {
            "type": "Feature",
            "properties": {"shapeName": "Two boxes", "code": 7},
            "geometry": {
                "type": "MultiPolygon",
                "coordinates": [
                    [[[24.0, 49.8], [24.1, 49.8], [24.1, 49.9], [24.0, 49.9], [24.0, 49.8]]],
                    [
                        [[36.0, 49.9], [36.4, 49.9], [36.4, 50.1], [36.0, 50.1], [36.0, 49.9]],
                        [[36.1, 49.95], [36.2, 49.95], [36.2, 50.0], [36.1, 50.0], [36.1, 49.95]],
                    ],
                ],
            },
        },
    ],
}

GEOMETRY_TYPES = [
    "Polygon", "MultiPolygon", "Point", "MultiPoint", "LineString", "MultiLineString", "GeometryCollection",
    "Feature", "FeatureCollection", "polygon", "Polygon ", "", None, 5,
]

#: Coordinates that broke, or could break, geometry construction.
NASTY_COORDINATES = [
    [],
    [[]],
    [[[]]],
    [[[30.0, 50.0]]],
    [[[30.0, 50.0], [31.0, 50.0], [31.0, 51.0]]],  # unclosed, 3 points
    [[[30.0, 50.0], [31.0, 50.0], [31.0, 51.0], [30.0, 51.0]]],  # unclosed ring
    [[[30.0, 50.0], [31.0, 51.0], [31.0, 50.0], [30.0, 51.0], [30.0, 50.0]]],  # bow-tie (self-intersecting)
    [[[30.0, 50.0], [30.0, 50.0], [30.0, 50.0], [30.0, 50.0]]],  # zero area
    [[[30.0, 50.0], [31.0, 50.0], [31.0, 51.0], [30.0, 50.0]], [[40.0, 60.0], [41.0, 60.0], [41.0, 61.0], [40.0, 60.0]]],  # hole outside
    [[[30.0, 50.0, 100.0], [31.0, 50.0, 100.0], [31.0, 51.0, 0.0], [30.0, 50.0, 100.0]]],  # 3-D positions
    [[[30.0], [31.0], [32.0], [30.0]]],  # 1-D positions
    [[[30.0, 50.0, 1.0, 2.0, 3.0]] * 4],
    [[["30", "50"], ["31", "50"], ["31", "51"], ["30", "50"]]],  # strings
    [[[float("nan"), 50.0], [31.0, 50.0], [31.0, 51.0], [float("nan"), 50.0]]],
    [[[float("inf"), 50.0], [31.0, 50.0], [31.0, 51.0], [float("inf"), 50.0]]],
    [[[1e300, 50.0], [31.0, 50.0], [31.0, 51.0], [1e300, 50.0]]],
    [[[3_400_000.0, 6_500_000.0], [3_500_000.0, 6_500_000.0], [3_500_000.0, 6_600_000.0], [3_400_000.0, 6_500_000.0]]],  # projected
    [[[30, 50], [31, 50], [31, 51], [30, 50]]],  # integers
    [[[True, False], [1, 0], [1, 1], [True, False]]],
    [[[None, None]] * 4],
    [[{"x": 30, "y": 50}] * 4],
    "abc",
    42,
    {"a": 1},
]

_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10),
    st.sampled_from([float("nan"), float("inf"), -float("inf"), 10**30, 1e308, -0.0]),
)
_json_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12,
)


def _paths(node, prefix=()):
    """Every path (tuple of keys and indices) into a JSON document."""
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


def _set(doc, path, value):
    if not path:
        return value
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return doc


def _delete(doc, path):
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    del parent[path[-1]]
    return doc


@st.composite
def mutated_documents(draw):
    doc = copy.deepcopy(VALID)
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(doc))
        path = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(["value", "type", "coordinates", "delete", "coordinates", "type", "properties"]))
        if op == "value":
            doc = _set(doc, path, draw(_json_values))
        elif op == "delete" and path:
            doc = _delete(doc, path)
        elif op == "type":
            targets = [p for p in paths if p and p[-1] == "type"]
            if targets:
                doc = _set(doc, draw(st.sampled_from(targets)), draw(st.sampled_from(GEOMETRY_TYPES)))
        elif op == "coordinates":
            targets = [p for p in paths if p and p[-1] == "coordinates"]
            if targets:
                doc = _set(doc, draw(st.sampled_from(targets)), copy.deepcopy(draw(st.sampled_from(NASTY_COORDINATES))))
        elif op == "properties":
            targets = [p for p in paths if p and p[-1] == "properties"]
            if targets:
                doc = _set(doc, draw(st.sampled_from(targets)), draw(st.one_of(_json_values, st.sampled_from(["x", [1], 3]))))
    if draw(st.integers(0, 4)) == 0:  # a bare Feature or bare geometry
        feats = doc.get("features") if isinstance(doc, dict) else None
        if isinstance(feats, list) and feats:
            doc = feats[0]
            if isinstance(doc, dict) and draw(st.booleans()):
                doc = doc.get("geometry")
    return doc


def _dump(doc) -> bytes:
    return json.dumps(doc, allow_nan=True).encode("utf-8")


@st.composite
def text_mutations(draw):
    """The valid document's text with a slice replaced, cut short or wrapped."""
    text = json.dumps(VALID)
    op = draw(st.sampled_from(["splice", "truncate", "deep", "bigint", "bom", "bytes"]))
    if op == "splice":
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 20)))
        text = text[:i] + draw(st.text(alphabet='[]{}",:0123456789.eE-+ntrufalsNaI\\', max_size=10)) + text[j:]
    elif op == "truncate":
        text = text[: draw(st.integers(0, len(text)))]
    elif op == "deep":
        depth = draw(st.sampled_from([50, 1000, 100_000]))
        text = text.replace('"coordinates": [', '"coordinates": ' + "[" * depth, 1).replace("]]]", "]]]" + "]" * depth, 1)
    elif op == "bigint":
        text = text.replace("30.2", "3" * draw(st.sampled_from([20, 400, 5000])), 1)
    elif op == "bom":
        return b"\xef\xbb\xbf" + text.encode("utf-8")
    else:
        data = text.encode("utf-8")
        k = draw(st.integers(0, len(data)))
        return data[:k] + draw(st.binary(min_size=1, max_size=6)) + data[k:]
    return text.encode("utf-8")


geojson_bytes = st.one_of(
    mutated_documents().map(_dump), mutated_documents().map(_dump), mutated_documents().map(_dump),
    text_mutations(), st.binary(max_size=200),
)

_serial = itertools.count()


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("geojson")


def _write(fuzz_dir, data: bytes, suffix=".geojson"):
    path = fuzz_dir / f"r{next(_serial)}{suffix}"
    path.write_bytes(data)
    return path


def _check_region(region):
    assert region.geometry.geom_type in ("Polygon", "MultiPolygon")
    assert shapely.is_valid(region.geometry)
    x0, y0, x1, y1 = region.bounds_deg
    assert -180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90
    inside = points_in_region(region, [50.45, float("nan")], [30.52, 0.0])
    assert inside.dtype == np.bool_ and not inside[1]


@FUZZ
@given(data=geojson_bytes)
def test_fuzz_read_geojson_region(fuzz_dir, fuzz_count, data):
    fuzz_count("GeoJSON region file (read_geojson_region)")
    path = _write(fuzz_dir, data)
    try:
        region = read_geojson_region(path)
    except InputFileError as exc:
        assert str(path) in str(exc), exc
        return
    _check_region(region)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=mutated_documents(), suffix=st.sampled_from([".geojson", ".json"]), weighted=st.booleans())
def test_fuzz_load_region_and_sample(fuzz_dir, fuzz_count, doc, suffix, weighted):
    fuzz_count("GeoJSON region via load_region(path), then sample_points")
    path = _write(fuzz_dir, _dump(doc), suffix)
    try:
        region = load_region(str(path))
        lat, lon = sample_points(region, 3, seed=1, weight_by_population=weighted)
    except LeonetError as exc:
        assert str(path) in str(exc) or "region" in str(exc), exc
        return
    _check_region(region)
    assert lat.shape == lon.shape == (3,)
    assert points_in_region(region, lat, lon).all()


# --------------------------------------------------------------------------
# Fixed cases the fuzzing is built around (cheap, always run)
# --------------------------------------------------------------------------


@pytest.mark.parametrize("coordinates", NASTY_COORDINATES, ids=lambda c: repr(c)[:40])
def test_every_nasty_polygon_is_refused_or_valid(tmp_path, coordinates):
    doc = {"type": "Polygon", "coordinates": coordinates}
    path = tmp_path / "p.geojson"
    path.write_bytes(_dump(doc))
    try:
        region = read_geojson_region(path)
    except InputFileError as exc:
        assert str(path) in str(exc)
        return
    _check_region(region)


def test_bow_tie_is_refused_with_the_reason(tmp_path):
    path = tmp_path / "bowtie.geojson"
    path.write_bytes(_dump({"type": "Polygon", "coordinates": NASTY_COORDINATES[6]}))
    with pytest.raises(InputFileError, match="Self-intersection.*does not repair geometry silently"):
        read_geojson_region(path)


def test_the_unmutated_document_reads(tmp_path):
    path = tmp_path / "valid.geojson"
    path.write_bytes(_dump(VALID))
    region = read_geojson_region(path)
    _check_region(region)
    assert region.contains([50.45, 50.05, 49.97], [30.52, 36.3, 36.15]).tolist() == [True, True, False]  # hole


# --------------------------------------------------------------------------
# Regressions: bugs the fuzzing above found
# --------------------------------------------------------------------------


def test_found_deeply_nested_arrays(tmp_path):
    # Was: RecursionError from json.loads.
    path = tmp_path / "deep.geojson"
    path.write_text('{"type": "Polygon", "coordinates": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(InputFileError, match="nests JSON arrays or objects too deeply"):
        read_geojson_region(path)


def test_found_integer_of_5000_digits(tmp_path):
    # Was: ValueError "Exceeds the limit (4300 digits) for integer string conversion".
    path = tmp_path / "bigint.geojson"
    path.write_text('{"type": "Polygon", "coordinates": [[[' + "3" * 5000 + ", 50], [31, 50], [31, 51], [30, 50]]]}")
    with pytest.raises(InputFileError, match=f"{path}: holds a number JSON cannot read"):
        read_geojson_region(path)


@pytest.mark.parametrize("properties", ["x", [1], 3, True])
def test_found_properties_that_are_not_an_object(tmp_path, properties):
    # Was: AttributeError: 'str' object has no attribute 'get'.
    doc = copy.deepcopy(VALID)
    doc["features"][0]["properties"] = properties
    path = tmp_path / "props.geojson"
    path.write_bytes(_dump(doc))
    with pytest.raises(InputFileError, match=r'features\[0\]: "properties" is a JSON .* needs an object'):
        read_geojson_region(path)
    path.write_bytes(_dump(doc["features"][0]))
    with pytest.raises(InputFileError, match='the feature: "properties" is a JSON'):
        load_region(str(path))
