"""leonet.hypatia.files and .network: Hypatia's input files, reproduced and validated.

Reference: shared/reference/hypatia/starlink_550, produced by snkas/hypatia
satgenpy (commit 0ac531c) for Starlink-550 and the top-100 cities.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from leonet.errors import InputFileError, ScenarioError, TLEFormatError
from leonet.hypatia.files import (
    HYPATIA_EPOCH_UTC,
    Description,
    format_description,
    format_ground_stations_extended,
    format_gsl_interfaces_info,
    format_isls,
    format_tles,
    read_description,
    read_ground_stations,
    read_gsl_interfaces_info,
    read_isls,
    read_tles,
    simple_gsl_interfaces,
)
from leonet.hypatia.network import (
    hypatia_max_lengths_m,
    read_satellite_network,
    tles_from_walker,
    walker_network,
    write_satellite_network,
)
from leonet.orbits.constellation import BUILTIN_WALKER

one_mm_km = 1e-6


def test_walker_network_reproduces_every_input_file(hypatia_reference, tmp_path):
    # leonet builds the network from parameters (no file read) and must write Hypatia's files byte for byte.
    net = walker_network("starlink-550")
    write_satellite_network(tmp_path, net)
    for name in ("tles.txt", "isls.txt", "ground_stations.txt", "description.txt", "gsl_interfaces_info.txt"):
        assert (tmp_path / name).read_text() == (hypatia_reference / name).read_text(), name


def test_read_then_write_round_trips(hypatia_reference, tmp_path):
    net = read_satellite_network(hypatia_reference)
    assert net.num_satellites == 1584 and net.num_ground_stations == 100
    assert net.tles.epoch_utc == HYPATIA_EPOCH_UTC
    assert (net.tles.planes, net.tles.sats_per_plane) == (72, 22)
    assert net.isls.shape == (3168, 2)
    write_satellite_network(tmp_path, net)
    for name in ("tles.txt", "isls.txt", "ground_stations.txt", "description.txt", "gsl_interfaces_info.txt"):
        assert (tmp_path / name).read_text() == (hypatia_reference / name).read_text(), name


def test_description_values(hypatia_reference):
    # description.txt: max_gsl_length_m=1089686.4181956202, max_isl_length_m=5016591.2330984278
    ref = read_description(hypatia_reference / "description.txt")
    mine = hypatia_max_lengths_m(550_000)
    assert mine.max_gsl_length_m == pytest.approx(ref.max_gsl_length_m, rel=1e-12)
    assert mine.max_isl_length_m == pytest.approx(ref.max_isl_length_m, rel=1e-12)
    assert format_description(mine) == (hypatia_reference / "description.txt").read_text()


def test_basic_ground_stations_extend_like_hypatia(hypatia_reference):
    # The shipped basic top-100 file, extended with Hypatia's WGS72 geodetic2cartesian, gives its ground_stations.txt.
    basic = read_ground_stations()
    ext = read_ground_stations(hypatia_reference / "ground_stations.txt")
    assert format_ground_stations_extended(basic) == (hypatia_reference / "ground_stations.txt").read_text()
    np.testing.assert_allclose(basic.r_ecef_km, ext.r_ecef_km, atol=one_mm_km)
    assert basic.names[0] == "Tokyo" and basic.names[3] == "São-Paulo"
    # Tokyo at 35.6895 N lies ~6,370 km from the centre on WGS72.
    assert np.linalg.norm(ext.r_ecef_km[0]) == pytest.approx(6370.0, abs=2.0)


def test_tles_from_walker_is_hypatias_file(hypatia_reference):
    shell = BUILTIN_WALKER["starlink-550"][1][0]
    assert format_tles(tles_from_walker(shell)) == (hypatia_reference / "tles.txt").read_text()


def test_simple_interfaces_format():
    text = format_gsl_interfaces_info(simple_gsl_interfaces(2, 1))
    assert text == "0,1,1.000000\n1,1,1.000000\n2,1,1.000000\n"


# --------------------------------------------------------------------------- validation at the edge


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_tles_header_is_required(tmp_path, hypatia_reference):
    body = "\n".join((hypatia_reference / "tles.txt").read_text().splitlines()[1:4]) + "\n"
    with pytest.raises(InputFileError, match=r"line 1: header .* '<planes> <sats_per_plane>'"):
        read_tles(_write(tmp_path, "tles.txt", body))


def test_tles_ids_must_count_up(tmp_path, hypatia_reference):
    lines = (hypatia_reference / "tles.txt").read_text().splitlines()[:7]
    lines[4] = "Starlink-550 7"
    with pytest.raises(InputFileError, match=r"line 5: .* satellite id 1"):
        read_tles(_write(tmp_path, "tles.txt", "\n".join(lines) + "\n"))


def test_tles_bad_element_line(tmp_path, hypatia_reference):
    lines = (hypatia_reference / "tles.txt").read_text().splitlines()[:4]
    lines[2] = "1 00001U garbage"
    with pytest.raises(TLEFormatError, match="satellite 0"):
        read_tles(_write(tmp_path, "tles.txt", "\n".join(lines) + "\n"))


def test_tles_epochs_must_agree(tmp_path):
    shell = BUILTIN_WALKER["starlink-550"][1][0]
    a = tles_from_walker(shell)
    b = tles_from_walker(shell, HYPATIA_EPOCH_UTC + dt.timedelta(days=1))
    text = format_tles(a).splitlines()[:4] + [f"{b.names[1]}", b.line1[1], b.line2[1]]
    with pytest.raises(InputFileError, match="one epoch"):
        read_tles(_write(tmp_path, "tles.txt", "\n".join(text) + "\n"))


@pytest.mark.parametrize(
    "text, message",
    [
        ("0 1\n1 0\n", r"line 2: .*larger than the first"),
        ("0 1\n0 1\n", r"line 2: duplicate link"),
        ("0 9\n", r"line 1: satellite 9 does not exist"),
        ("0,1\n", r"line 1: .*not two satellite ids"),
    ],
)
def test_isls_validation(tmp_path, text, message):
    with pytest.raises(InputFileError, match=message):
        read_isls(_write(tmp_path, "isls.txt", text), 5)


def test_isls_round_trip(tmp_path):
    pairs = np.array([[0, 1], [0, 3], [2, 4]])
    np.testing.assert_array_equal(read_isls(_write(tmp_path, "isls.txt", format_isls(pairs)), 5), pairs)


@pytest.mark.parametrize(
    "text, message",
    [
        ("0,A,1,2\n", r"line 1: has 4 comma-separated columns"),
        ("1,A,1,2,0\n", r"line 1: ground station id '1' should be 0"),
        ("0,A,91,2,0\n", r"line 1: latitude = 91 is outside"),
        ("0,A,x,2,0\n", r"line 1: latitude 'x' is not a number"),
        ("0,A,1,2,0\n1,B,1,2\n", r"line 2: has 4 columns"),
        ("0,A,1,2,0,1,2,3\n", r"line 1: .*not on the surface"),
    ],
)
def test_ground_station_validation(tmp_path, text, message):
    with pytest.raises(InputFileError, match=message):
        read_ground_stations(_write(tmp_path, "gs.txt", text))


def test_description_and_interfaces_validation(tmp_path):
    with pytest.raises(InputFileError, match="max_isl_length_m"):
        read_description(_write(tmp_path, "d.txt", "max_gsl_length_m=1\n"))
    with pytest.raises(InputFileError, match=r"describes 2 nodes, but .* = 3"):
        read_gsl_interfaces_info(_write(tmp_path, "g.txt", "0,1,1.0\n1,1,1.0\n"), 2, 1)
    with pytest.raises(InputFileError, match="line 1: number of interfaces"):
        read_gsl_interfaces_info(_write(tmp_path, "g.txt", "0,0,1.0\n"), 1, 0)


def test_missing_directory_and_files(tmp_path):
    with pytest.raises(InputFileError, match="not a directory"):
        read_satellite_network(tmp_path / "nope")
    with pytest.raises(InputFileError, match="no such file"):
        read_satellite_network(tmp_path)


def test_multi_shell_constellation_is_refused():
    with pytest.raises(ScenarioError, match="has 5 shells"):
        walker_network("starlink-gen1")


def test_description_object_is_plain():
    d = Description(1.0, 2.0)
    assert format_description(d) == "max_gsl_length_m=1.0000000000\nmax_isl_length_m=2.0000000000\n"
