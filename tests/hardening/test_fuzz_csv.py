"""Fuzzing the site CSV readers: cities, gateways, PoPs, Hypatia ground stations.

Whatever the bytes, `load_cities`, `load_gateways`, `load_pops`,
`load_hypatia_cities` and `read_sites_csv` either return sites or raise an
`InputFileError` that names the file; nothing else escapes.  Documents start
from real rows of the shipped files and are mutated line by line, field by
field and byte by byte (non-UTF-8 bytes, a BOM, CRLF, NUL, quotes).
"""

from __future__ import annotations

import csv
import io
import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leonet.errors import InputFileError, LeonetError
from leonet.ground.sites import (
    data_path,
    load_cities,
    load_gateways,
    load_hypatia_cities,
    load_pops,
    read_sites_csv,
)

pytestmark = pytest.mark.slow  # a real run, fuzzing or the browser: deselect with -m "not slow"

FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _head(parts: tuple[str, ...], n: int) -> list[str]:
    with open(data_path(*parts), encoding="utf-8") as f:
        return [line.rstrip("\n") for line in itertools.islice(f, n)]


GATEWAY_LINES = _head(("gateways", "starlink_gateways_starperf_2024-01.csv"), 12)
POP_LINES = _head(("gateways", "starlink_pops_starperf_2024-01.csv"), 8)
HYPATIA_LINES = _head(("cities", "hypatia_cities_top_100_by_est_2025_pop.basic.txt"), 8)
# The header, a few of the largest cities and Kyiv/Kharkiv (so oblast lookup runs).
_CITY_ALL = _head(("cities", "geonames_cities15000.csv"), 400)
CITY_LINES = _CITY_ALL[:6] + [line for line in _CITY_ALL if ",UA," in line][:3]

#: Field values that broke or could break number parsing and validation.
NASTY_FIELDS = [
    "", " ", "nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e309", "-1e309", "1e-320",
    "9" * 30, "-" + "9" * 30, "9" * 400, "0", "-0", "91", "-90.0000001", "180.5", "-181", "360",
    "0x1A", "1_000", "1e5", "12.5.3", " 12 ", "١٢", "１２", "+5", "--5", "5-", "None", "null",
    '"', '""', '"unterminated', "a,b", "\x00", "\t", "é", "日本", "\ufeff", "\u2028", "\r", "\n",
]

#: Numbers just past the ranges and past int64 / float64.
NUMBERISH = ["-1", "0", "1001", "2147483648", "9223372036854775807", "9223372036854775808", "-9223372036854775809",
             "1" + "0" * 25, "1e308", "4.9e-324", "90.0", "-180.0", "1.5", "1,5"]

_field_values = st.one_of(
    st.sampled_from(NUMBERISH), st.sampled_from(NUMBERISH), st.sampled_from(NASTY_FIELDS), st.text(max_size=12),
    st.integers().map(str), st.floats().map(repr),
)


@st.composite
def mutated_text(draw, lines: list[str], numeric: list[int], sep: str = ",") -> str:
    """A real file's lines after 1-4 edits of the lines or of one field.

    Two thirds of the field edits hit a ``numeric`` column (by index), where the
    checks are.
    """
    out = list(lines)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["field"] * 6 + ["delete", "duplicate", "swap", "replace", "insert", "truncate"]))
        if not out:
            out.append(draw(st.text(max_size=40)))
            continue
        k = draw(st.integers(0, len(out) - 1))
        if op == "field":
            k = draw(st.integers(min(1, len(out) - 1), len(out) - 1))  # a data row, if there is one
            # Split as CSV (names hold quoted commas), so edits hit real columns;
            # write back quoted mostly, raw (quotes and all) a quarter of the time.
            try:
                fields = next(csv.reader([out[k]], delimiter=sep), None) or [""]
            except csv.Error:  # a stray newline from an earlier edit
                fields = out[k].split(sep)
            j = draw(st.one_of(st.integers(0, len(fields) - 1), st.sampled_from(numeric), st.sampled_from(numeric)))
            if j >= len(fields):
                fields.extend([""] * (j + 1 - len(fields)))
            fields[j] = draw(_field_values)
            if draw(st.integers(0, 3)):
                buf = io.StringIO()
                csv.writer(buf, delimiter=sep, lineterminator="").writerow(fields)
                out[k] = buf.getvalue()
            else:
                out[k] = sep.join(fields)
        elif op == "delete":
            del out[k]
        elif op == "duplicate":
            out.insert(k, out[k])
        elif op == "swap":
            j = draw(st.integers(0, len(out) - 1))
            out[k], out[j] = out[j], out[k]
        elif op == "replace":
            out[k] = draw(st.text(max_size=60))
        elif op == "insert":
            out.insert(k, draw(st.one_of(st.text(max_size=60), st.just(""), st.just(sep * 3))))
        else:
            out[k] = out[k][: draw(st.integers(0, len(out[k])))]
    return "\n".join(out)


@st.composite
def encoded(draw, text: str) -> bytes:
    """Text to bytes, sometimes with a BOM, CRLF, stray non-UTF-8 bytes or truncation."""
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    data = text.encode("utf-8", "surrogatepass")  # lone surrogates become invalid UTF-8
    if draw(st.integers(0, 4)) == 0:
        data = b"\xef\xbb\xbf" + data
    if draw(st.integers(0, 9)) == 0:
        k = draw(st.integers(0, len(data)))
        data = data[:k] + draw(st.binary(min_size=1, max_size=4)) + data[k:]
    if draw(st.integers(0, 9)) == 0:
        data = text.encode("latin-1", "replace")  # a legacy-encoded file
    if draw(st.integers(0, 6)) == 0:
        data = data[: draw(st.integers(0, len(data)))]
    return data


def csv_bytes(lines: list[str], numeric: list[int], sep: str = ",") -> st.SearchStrategy[bytes]:
    mutated = mutated_text(lines, numeric, sep).flatmap(encoded)
    return st.one_of(mutated, mutated, mutated, mutated, mutated, st.binary(max_size=300))


_serial = itertools.count()


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("csv")


def _write(fuzz_dir, data: bytes, suffix: str = ".csv"):
    # A fresh name per example: load_cities caches by (path, mtime, size).
    path = fuzz_dir / f"f{next(_serial)}{suffix}"
    path.write_bytes(data)
    return path


def _only_leonet_errors(call, path):
    try:
        sites = call()
    except InputFileError as exc:
        assert str(path) in str(exc), f"the message does not name the file: {exc}"
        return None
    except LeonetError:
        return None
    # Accepted: the arrays hold what the loaders promise.
    assert np.all(np.abs(sites.lat_deg) <= 90) and np.all(np.abs(sites.lon_deg) <= 180)
    assert len(set(sites.ids)) == len(sites)
    return sites


@FUZZ
@given(data=csv_bytes(GATEWAY_LINES, [3, 4, 6, 7, 8]), dedupe=st.booleans())
def test_fuzz_gateway_csv(fuzz_dir, fuzz_count, data, dedupe):
    fuzz_count("gateway CSV (load_gateways)")
    path = _write(fuzz_dir, data)
    sites = _only_leonet_errors(lambda: load_gateways(path, dedupe_colocated=dedupe), path)
    if sites is not None:
        assert np.all(sites.antenna_count >= 1)


@FUZZ
@given(data=csv_bytes(POP_LINES, [2, 3]))
def test_fuzz_pop_csv(fuzz_dir, fuzz_count, data):
    fuzz_count("PoP CSV (load_pops)")
    path = _write(fuzz_dir, data)
    _only_leonet_errors(lambda: load_pops(path), path)


@FUZZ
@given(data=csv_bytes(CITY_LINES, [0, 4, 5, 6]), country=st.sampled_from([None, "UA", "CN"]), limit=st.sampled_from([None, 1, 3]))
def test_fuzz_city_csv(fuzz_dir, fuzz_count, data, country, limit):
    fuzz_count("city CSV (load_cities)")
    path = _write(fuzz_dir, data)
    sites = _only_leonet_errors(lambda: load_cities(path, country_iso2=country, limit=limit), path)
    if sites is not None:
        assert np.all(sites.population >= 0)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=csv_bytes(HYPATIA_LINES, [0, 2, 3, 4]))
def test_fuzz_hypatia_ground_stations(fuzz_dir, fuzz_count, data):
    fuzz_count("Hypatia ground-station file (load_hypatia_cities)")
    path = _write(fuzz_dir, data, ".txt")
    _only_leonet_errors(lambda: load_hypatia_cities(path), path)


@settings(max_examples=150, deadline=None)
@given(data=csv_bytes(GATEWAY_LINES, [3, 4, 6, 7, 8]), optional=st.lists(st.sampled_from(["note", "band", "x", "id"]), max_size=2))
def test_fuzz_read_sites_csv(fuzz_dir, fuzz_count, data, optional):
    fuzz_count("generic site CSV (read_sites_csv)")
    path = _write(fuzz_dir, data)
    try:
        table = read_sites_csv(path, ["id", "lat", "lon"], optional=optional)
    except InputFileError as exc:
        assert str(path) in str(exc)
        return
    assert all(len(col) == len(table) for col in table.columns.values())


# --------------------------------------------------------------------------
# Regressions: bugs the fuzzing above found
# --------------------------------------------------------------------------


@pytest.mark.parametrize("digits", [30, 400])
def test_found_huge_integer_in_an_integer_column(tmp_path, digits):
    # Was: OverflowError ("Python int too large to convert to C long" at 30
    # digits, "int too large to convert to float" from math.isfinite at 400).
    rows = list(GATEWAY_LINES[:3])
    fields = next(csv.reader([rows[1]]))
    fields[6] = "9" * digits  # antenna_count
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(fields)
    rows[1] = buf.getvalue()
    path = tmp_path / "gw.csv"
    path.write_text("\n".join(rows), encoding="utf-8")
    with pytest.raises(InputFileError, match=r"line 2: column 'antenna_count' holds 9+(\.\.\.)?, too large for an integer") as info:
        load_gateways(path)
    assert info.value.line == 2 and info.value.path == str(path)


def test_found_huge_population_in_a_city_file(tmp_path):
    rows = list(CITY_LINES[:3])
    fields = rows[2].split(",")
    fields[6] = "1" + "0" * 25  # population
    rows[2] = ",".join(fields)
    path = tmp_path / "cities.csv"
    path.write_text("\n".join(rows), encoding="utf-8")
    with pytest.raises(InputFileError, match="line 3: column 'population' holds 10+, too large for an integer"):
        load_cities(path)
