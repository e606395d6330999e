"""Walker shells: filed parameters, Hypatia's Starlink-550 elements, bad parameters."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sgp4.api import WGS72, Satrec

from leonet.errors import ScenarioError
from leonet.orbits.constellation import BUILTIN_WALKER, walker_constellation
from leonet.orbits.propagate import propagate
from leonet.orbits.walker import WalkerShell, altitude_from_mean_motion_km, mean_motion_rev_per_day, walker_elements
from leonet.timebase import TimeGrid

one_meter_km = 1e-3
HYPATIA_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)


def _hypatia_tles(path):
    lines = path.read_text().splitlines()
    planes, per_plane = map(int, lines[0].split())
    return planes, per_plane, [(lines[i], lines[i + 1], lines[i + 2]) for i in range(1, len(lines), 3)]


def test_starlink_550_elements_equal_hypatias_tles(hypatia_reference):
    """Hypatia's generated tles.txt: same count, same elements (here: the same text)."""
    planes, per_plane, ref = _hypatia_tles(hypatia_reference / "tles.txt")
    _, shells = BUILTIN_WALKER["starlink-550"]
    c = walker_constellation("starlink-550", shells, HYPATIA_EPOCH)
    assert (planes, per_plane) == (72, 22) and len(c) == len(ref) == 1584
    for k, (name, l1, l2) in enumerate(ref):
        assert c.names[k] == name
        assert c.tle_lines[k] == (l1, l2)
    # And element by element, independent of text formatting.
    for k in (0, 1, 23, 800, 1583):
        mine, theirs = c.satrecs[k], Satrec.twoline2rv(ref[k][1], ref[k][2], WGS72)
        for attr in ("inclo", "nodeo", "mo", "no_kozai", "ecco", "argpo", "jdsatepoch", "jdsatepochF"):
            assert getattr(mine, attr) == getattr(theirs, attr), (k, attr)


def test_starlink_550_positions_agree_with_sgp4_on_hypatias_tles_within_1_m(hypatia_reference):
    _, _, ref = _hypatia_tles(hypatia_reference / "tles.txt")
    _, shells = BUILTIN_WALKER["starlink-550"]
    c = walker_constellation("starlink-550", shells, HYPATIA_EPOCH)
    grid = TimeGrid.regular(HYPATIA_EPOCH, 200 * 10**9, 10 * 10**9)
    mine = propagate(c.satrec_array, grid).r_ecef_km
    theirs = propagate([Satrec.twoline2rv(l1, l2, WGS72) for _, l1, l2 in ref], grid).r_ecef_km
    assert np.max(np.linalg.norm(mine - theirs, axis=-1)) < one_meter_km


def test_hypatia_phasing_offsets_odd_planes_by_half_a_slot():
    shell = WalkerShell("s", 550, 53, planes=4, sats_per_plane=10, phasing="hypatia")
    raan, ma = walker_elements(shell)
    assert np.allclose(raan.reshape(4, 10)[:, 0], [0, 90, 180, 270])
    assert np.allclose(ma.reshape(4, 10)[:, 0], [0, 18, 0, 18])


def test_walker_phase_factor_follows_walker_notation():
    # Walker 53:24/3/1: plane p is shifted by p * F * 360 / T = p * 15 deg.
    shell = WalkerShell("s", 550, 53, planes=3, sats_per_plane=8, phase_factor=1)
    _, ma = walker_elements(shell)
    assert np.allclose(ma.reshape(3, 8)[:, 0], [0, 15, 30])
    assert np.allclose(np.diff(ma.reshape(3, 8)[0]), 45)


@pytest.mark.parametrize(
    "name,total",
    [("starlink-gen1", 4408), ("starlink-gen2", 29988), ("starlink-550", 1584), ("kuiper", 3236), ("oneweb", 720), ("telesat-1015", 351)],
)
def test_builtin_constellations_have_their_filed_sizes(name, total):
    _, shells = BUILTIN_WALKER[name]
    assert sum(s.size for s in shells) == total


def test_generated_orbits_fly_at_their_altitude_and_inclination():
    """Propagated Gen1 shells: mean altitude within 15 km of the filed value (SGP4's
    Kozai mean motion and the WGS84 ellipsoid make the osculating altitude wander)."""
    from leonet.orbits.frames import ecef_to_geodetic

    _, shells = BUILTIN_WALKER["starlink-gen1"]
    c = walker_constellation("gen1", shells, dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    grid = TimeGrid.regular("2026-01-01T00:00:00Z", 5700 * 10**9, 300 * 10**9)
    r = propagate(c.satrec_array, grid).r_ecef_km
    radius = np.linalg.norm(r, axis=-1).mean(axis=0)
    lat, _, _ = ecef_to_geodetic(r)
    for i, shell in enumerate(shells):
        members = c.shell_index == i
        assert abs(np.median(radius[members]) - 6378.135 - shell.altitude_km) < 15.0
        top = np.abs(lat[:, members]).max()
        expected = min(shell.inclination_deg, 180 - shell.inclination_deg)
        assert top == pytest.approx(expected, abs=1.0)


def test_mean_motion_and_altitude_are_inverse():
    for h in (340.0, 550.0, 1200.0, 35786.0):
        assert altitude_from_mean_motion_km(mean_motion_rev_per_day(h)) == pytest.approx(h, abs=1e-6)
    # Geostationary: one sidereal day.
    assert mean_motion_rev_per_day(35786.0) == pytest.approx(1.0027, abs=1e-3)


@pytest.mark.parametrize(
    "kwargs,needle",
    [
        (dict(altitude_km=100), "altitude_km = 100"),
        (dict(altitude_km=50_000), "altitude_km = 50000"),
        (dict(inclination_deg=200), "inclination_deg = 200"),
        (dict(planes=0), "planes = 0"),
        (dict(sats_per_plane=0), "sats_per_plane = 0"),
        (dict(phase_factor=72), "phase_factor = 72"),
        (dict(mean_motion_rev_per_day=14.0), "implies an altitude of"),
    ],
)
def test_impossible_parameters_are_rejected_with_the_value(kwargs, needle):
    params = dict(name="bad", altitude_km=550, inclination_deg=53, planes=72, sats_per_plane=22)
    params.update(kwargs)
    with pytest.raises(ScenarioError) as info:
        WalkerShell(**params)
    assert needle in str(info.value)
    assert "'bad'" in str(info.value)


def test_hypatias_mean_motion_is_admitted_for_its_nominal_altitude():
    # 15.19 rev/day is a 509 km Kepler orbit; Hypatia calls the shell 550 km.
    WalkerShell("Starlink-550", 550, 53, 72, 22, phasing="hypatia", mean_motion_rev_per_day=15.19)
