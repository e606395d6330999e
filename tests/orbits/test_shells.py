"""Shell and plane inference: synthetic Walker shells with J2 drift, Hypatia, the real snapshots."""

from __future__ import annotations

import math
import os
import tomllib
from pathlib import Path

import numpy as np
import pytest
from sgp4.api import WGS72, Satrec
from sgp4.exporter import export_tle

from leonet.errors import ScenarioError
from leonet.orbits import shells as shells_module
from leonet.orbits.shells import ShellInference, infer_shells, shells_to_walker_toml
from leonet.orbits.tle import ElementSets, parse_tle_text, read_tle_file

REPO = Path(__file__).resolve().parents[2]
MU_KM3_S2 = 398600.8  # WGS72
R_KM = 6378.135  # WGS72
J2 = 0.001082616  # WGS72
one_km = 1.0
JD_1949_DEC_31 = 2433281.5  # sgp4init counts epochs in days from 1949-12-31 00:00 UT
T0_JD = 2461190.5  # 2026-05-30 00:00 UTC


def _snapshot(name: str) -> Path:
    for folder in (REPO / "src" / "leonet" / "data" / "tle", REPO.parent / "shared" / "data" / "tle"):
        if (folder / name).exists():
            return folder / name
    if os.environ.get("CI"):
        pytest.fail(f"{name} is neither in src/leonet/data/tle nor in ../shared/data/tle")
    pytest.skip(f"{name} not available")


# --------------------------------------------------------------------------
# Synthetic constellation: Walker shells whose element sets have epochs
# spread over two days, each carrying the RAAN, perigee and mean anomaly the
# shell has at that epoch under sgp4's own secular rates.
# --------------------------------------------------------------------------


def _satrec(satnum, epoch_jd, alt_km, inc_deg, raan_deg, argp_deg, m_deg, ecc=1e-4):
    n_rad_min = math.sqrt(MU_KM3_S2 / (R_KM + alt_km) ** 3) * 60.0
    sat = Satrec()
    sat.sgp4init(
        WGS72, "i", satnum, epoch_jd - JD_1949_DEC_31, 0.0, 0.0, 0.0, ecc,
        math.radians(argp_deg % 360.0), math.radians(inc_deg), math.radians(m_deg % 360.0),
        n_rad_min, math.radians(raan_deg % 360.0),
    )
    return sat


def _drifted(satnum, alt_km, inc_deg, raan_deg, m_deg, epoch_jd):
    """Elements at ``epoch_jd`` of a satellite that had (raan, argp=0, M) at T0."""
    base = _satrec(satnum, T0_JD, alt_km, inc_deg, raan_deg, 0.0, m_deg)
    minutes = (epoch_jd - T0_JD) * 1440.0
    return _satrec(
        satnum, epoch_jd, alt_km, inc_deg,
        raan_deg + math.degrees(base.nodedot * minutes),
        math.degrees(base.argpdot * minutes),
        m_deg + math.degrees(base.mdot * minutes),
    )


# name, altitude km, inclination deg, planes, sats per plane, phase factor
SHELLS = [
    ("low-53", 530.0, 53.0, 24, 5, 11),
    ("high-53", 550.0, 53.0, 40, 4, 7),
    ("polar-70", 570.0, 70.0, 20, 6, 3),
    ("sso", 560.0, 97.6, 12, 10, 0),
]


def _synthetic(seed=7):
    rng = np.random.default_rng(seed)
    records, truth = [], []  # truth: (shell index or -1, plane or -1)
    satnum = 1

    def add(sat, label, name):
        nonlocal satnum
        line1, line2 = export_tle(sat)
        records.append((name, line1, line2))
        truth.append(label)
        satnum += 1

    for s, (name, alt, inc, planes, spp, f) in enumerate(SHELLS):
        total = planes * spp
        for p in range(planes):
            for k in range(spp):
                epoch = T0_JD + rng.uniform(0.0, 2.0)
                sat = _drifted(
                    satnum,
                    alt + rng.normal(0.0, 0.2),
                    inc + rng.normal(0.0, 0.005),
                    p * 360.0 / planes + rng.normal(0.0, 0.05),
                    k * 360.0 / spp + p * f * 360.0 / total + rng.normal(0.0, 0.02),
                    epoch,
                )
                add(sat, (s, p), f"{name}-{p}-{k}")
    # Not on station: 12 satellites raising through 400-520 km at 53 deg (random
    # planes), 3 just above the 530 km shell; they belong to the shells above them.
    for alt in np.r_[rng.uniform(400.0, 520.0, 12), rng.uniform(537.0, 545.0, 3)]:
        sat = _drifted(satnum, alt, 53.0, rng.uniform(0, 360), rng.uniform(0, 360), T0_JD + rng.uniform(0, 2))
        add(sat, (0 if alt < 530 else 1, -1), f"raising-{satnum}")
    # Two satellites at the 70 deg shell's altitude but midway between planes.
    for p in (3, 11):
        sat = _drifted(satnum, 570.0, 70.0, (p + 0.5) * 18.0, 0.0, T0_JD + rng.uniform(0, 2))
        add(sat, (2, -1), f"drifting-{satnum}")
    # Four satellites in no shell (a lone 30 deg group).
    for _ in range(4):
        sat = _drifted(satnum, rng.uniform(590, 640), 30.0, rng.uniform(0, 360), 0.0, T0_JD + rng.uniform(0, 2))
        add(sat, (-1, -1), f"lonely-{satnum}")
    text = "\n".join(line for record in records for line in record)
    return parse_tle_text(text, source="synthetic.tle"), np.array(truth)


@pytest.fixture(scope="module")
def synthetic():
    return _synthetic()


def test_synthetic_epochs_and_drift_defeat_naive_raan_clustering(synthetic):
    """The premise: raw RAANs of the 40-plane shell (9 deg apart) do not separate its planes."""
    elements, truth = synthetic
    assert np.ptp(elements.epoch_jd) > 1.9
    members = np.flatnonzero((truth[:, 0] == 1) & (truth[:, 1] >= 0))
    raw_raan = np.degrees([elements.satrecs[i].nodeo for i in members])
    # About 4.8 deg/day of drift over two days smears each plane over ~9.6
    # deg, the plane spacing: raw RAANs form neither 40 groups nor groups of 4.
    for gap_deg in (0.5, 1.0, 2.0, 4.0):
        naive = shells_module._circular_groups(raw_raan, gap_deg)
        assert len(naive) != 40 and sorted({g.size for g in naive}) != [4]
    # The same satellites' RAANs moved to one epoch do separate.
    moved = infer_shells(elements).raan_deg[members]
    assert sorted({g.size for g in shells_module._circular_groups(moved, 1.0)}) == [4]


def test_synthetic_shells_are_recovered(synthetic):
    elements, truth = synthetic
    result = infer_shells(elements)
    assert [(s.planes, s.sats_per_plane) for s in result.shells] == [(p, k) for _, _, _, p, k, _ in SHELLS]
    for shell, (_, alt, inc, planes, spp, _) in zip(result.shells, SHELLS):
        assert shell.satellites == planes * spp
        assert abs(shell.altitude_km - alt) < 0.2 * one_km
        assert abs(shell.inclination_deg - inc) < 0.01
        assert shell.raan_deg.shape == (planes,) and shell.plane_sizes.tolist() == [spp] * planes
        spacing = np.diff(np.r_[shell.raan_deg, shell.raan_deg[0] + 360.0])
        np.testing.assert_allclose(spacing, 360.0 / planes, atol=0.2)
    # Satellites: shell membership is exact, including the not-on-station ones.
    np.testing.assert_array_equal(result.shell_of_satellite, truth[:, 0])
    assert [s.not_on_station for s in result.shells] == [12, 3, 2, 0]
    assert result.unassigned.sum() == 4
    assert result.on_station.sum() + result.not_on_station.sum() + result.unassigned.sum() == len(elements)
    np.testing.assert_array_equal(result.plane_of_satellite < 0, truth[:, 1] < 0)
    # Planes: each true plane maps onto exactly one inferred plane.
    for s in range(len(SHELLS)):
        on = (truth[:, 0] == s) & (truth[:, 1] >= 0)
        pairs = set(zip(truth[on, 1].tolist(), result.plane_of_satellite[on].tolist()))
        assert len(pairs) == SHELLS[s][3]
        assert len({a for a, _ in pairs}) == len({b for _, b in pairs}) == SHELLS[s][3]


def test_synthetic_phase_factors_at_the_walker_epoch(synthetic):
    elements, _ = synthetic
    result = infer_shells(elements, reference_jd=T0_JD)
    assert [s.phase_factor for s in result.shells] == [f for *_, f in SHELLS]
    assert result.reference_jd == T0_JD


def test_altitude_noise_across_two_days_hides_the_phase_factor(synthetic):
    """At the median epoch, 0.2 km of altitude noise has moved the slots by ~0.5 deg: F is not claimed."""
    elements, _ = synthetic
    result = infer_shells(elements)
    assert result.reference_jd == pytest.approx(float(np.median(elements.epoch_jd)))
    for shell, (*_, f) in zip(result.shells, SHELLS):
        assert shell.phase_factor in (None, f)


def test_shapes(synthetic):
    elements, _ = synthetic
    result = infer_shells(elements)
    count = len(elements)
    for array in (result.shell_of_satellite, result.plane_of_satellite):
        assert array.shape == (count,) and array.dtype == np.int64
    for array in (result.altitude_km, result.inclination_deg, result.raan_deg):
        assert array.shape == (count,) and array.dtype == np.float64
    assert all(0.0 <= r < 360.0 for r in result.raan_deg)


def test_secular_node_rate_is_the_j2_formula():
    """sgp4's nodedot, used for the drift, is -1.5 n J2 (R/p)^2 cos i to within its J2^2/J4 terms."""
    sets = read_tle_file(_snapshot("starlink_gp_20260530.tle"))
    for sat in sets.satrecs[::37]:
        n = sat.no_kozai  # rad/min
        a = (MU_KM3_S2 / (n / 60.0) ** 2) ** (1.0 / 3.0)
        p = a * (1.0 - sat.ecco**2)
        formula = -1.5 * n * J2 * (R_KM / p) ** 2 * math.cos(sat.inclo)
        assert sat.nodedot == pytest.approx(formula, rel=5e-3)


# --------------------------------------------------------------------------
# Hypatia's Starlink-550 and the real snapshots
# --------------------------------------------------------------------------


def test_hypatia_starlink_550_is_72_by_22_with_phase_factor_36():
    path = Path(os.environ.get("LEONET_SHARED", REPO.parent / "shared")) / "reference/hypatia/starlink_550/tles.txt"
    if not path.exists():
        pytest.skip(f"Hypatia reference missing at {path}")
    result = infer_shells(read_tle_file(path))
    (shell,) = result.shells
    assert (shell.planes, shell.sats_per_plane, shell.satellites, shell.not_on_station) == (72, 22, 1584, 0)
    # Hypatia shifts odd planes by half a slot: a Walker delta with F = P/2.
    assert shell.phase_factor == 36
    assert shell.inclination_deg == 53.0
    np.testing.assert_allclose(shell.raan_deg, np.arange(72) * 5.0, atol=1e-9)
    # 15.19 rev/day (Hypatia's value for "550 km") is a Kepler altitude of 508.9 km.
    n_rad_s = 15.19 * 2.0 * math.pi / 86400.0
    assert shell.altitude_km == pytest.approx((MU_KM3_S2 / n_rad_s**2) ** (1.0 / 3.0) - R_KM, abs=1e-6)
    # Planes are Hypatia's: satellite k is in plane k // 22.
    np.testing.assert_array_equal(result.plane_of_satellite, np.arange(1584) // 22)


@pytest.fixture(scope="module")
def starlink():
    sets = read_tle_file(_snapshot("starlink_gp_20260530.tle"))
    return sets, infer_shells(sets)


def test_starlink_snapshot_broad_facts(starlink):
    sets, result = starlink
    assert len(sets) == 10_395
    assert result.on_station.sum() + result.not_on_station.sum() + result.unassigned.sum() == 10_395
    assert sum(s.satellites + s.not_on_station for s in result.shells) + result.unassigned.sum() == 10_395
    incs = sorted({round(s.inclination_deg) for s in result.shells})
    assert incs == [43, 53, 70, 97]
    # Gen1 shell 2 (filed 540 km / 53.2 deg, 72 planes x 22): 72 planes at ~540 km.
    gen1_53 = [s for s in result.shells if abs(s.inclination_deg - 53.2) < 0.05 and 60 <= s.planes <= 80]
    assert len(gen1_53) == 1 and abs(gen1_53[0].altitude_km - 540.0) < 5.0
    # Gen1 570 km / 70 deg, filed 36 planes x 20.
    (polar,) = [s for s in result.shells if abs(s.inclination_deg - 70.0) < 0.1]
    assert 30 <= polar.planes <= 36 and 15 <= polar.sats_per_plane <= 22 and abs(polar.altitude_km - 570) < 5
    assert result.on_station.sum() > 0.85 * 10_395
    # On-station members sit within the altitude band of their shell.
    for shell in result.shells:
        members = (result.shell_of_satellite == shell.shell_id) & result.on_station
        assert members.sum() == shell.satellites
        assert np.all(np.abs(result.altitude_km[members] - shell.altitude_km) <= 2.0 + 0.5)


def test_oneweb_planes_staggered_in_altitude():
    """OneWeb flies its 12 planes 4 km apart in altitude; they are found as one staggered shell."""
    result = infer_shells(read_tle_file(_snapshot("oneweb_gp_20260530.tle")))
    (shell,) = result.shells
    assert shell.staggered and shell.planes == 12
    assert 45 <= shell.sats_per_plane <= 60
    assert abs(shell.inclination_deg - 87.9) < 0.1
    steps = np.diff(np.sort(shell.plane_altitude_km))
    np.testing.assert_allclose(steps, 4.0, atol=0.3)
    assert shell.phase_factor is None


# --------------------------------------------------------------------------
# TOML
# --------------------------------------------------------------------------


def test_walker_toml_form_and_round_trip(synthetic):
    elements, _ = synthetic
    result = infer_shells(elements, reference_jd=T0_JD)
    text = shells_to_walker_toml(result, 'Synthetic "test"')
    assert text.startswith('[[constellations]]\nname = "Synthetic \\"test\\""\nkind = "walker"\n')
    assert "\n[[constellations.shells]]\nname = \"shell-2\"\naltitude_km = 550.0\ninclination_deg = 53.00\n" in text
    data = tomllib.loads(text)
    (constellation,) = data["constellations"]
    assert constellation["name"] == 'Synthetic "test"' and constellation["kind"] == "walker"
    got = [(s["planes"], s["sats_per_plane"], s["phase_factor"]) for s in constellation["shells"]]
    assert got == [(p, k, f) for _, _, _, p, k, f in SHELLS]
    for shell, (_, alt, inc, *_) in zip(constellation["shells"], SHELLS):
        assert shell["altitude_km"] == pytest.approx(alt, abs=0.2)
        assert shell["inclination_deg"] == pytest.approx(inc, abs=0.01)


def test_walker_toml_for_real_shells_marks_phase_not_inferred(starlink):
    _, result = starlink
    text = shells_to_walker_toml(result, "starlink-2026-05-30")
    data = tomllib.loads(text)
    assert len(data["constellations"][0]["shells"]) == len(result.shells)
    assert text.count("# phase_factor not inferred\nphase_factor = 0\n") == sum(
        s.phase_factor is None for s in result.shells
    )


def test_walker_toml_validates_against_the_scenario_schema(starlink):
    schema = pytest.importorskip("leonet.scenario.schema")
    model = getattr(schema, "WalkerConstellation", None)
    if model is None:
        pytest.skip("leonet.scenario.schema has no WalkerConstellation")
    _, result = starlink
    for constellation in tomllib.loads(shells_to_walker_toml(result, "starlink"))["constellations"]:
        model.model_validate(constellation)


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------


def _empty() -> ElementSets:
    return ElementSets("empty", [], np.empty(0, np.int64), [], np.empty(0), [], [])


def test_bad_arguments():
    with pytest.raises(ScenarioError, match="at least one satellite"):
        infer_shells(_empty())
    sets = parse_tle_text(
        "1 44714U 19074B   26150.30936191  .00080211  00000+0  15180-2 0  9995\n"
        "2 44714  53.1513 154.1788 0003034  54.2939 305.8351 15.47704531361446\n"
    )
    with pytest.raises(ScenarioError, match="altitude_tolerance_km must be a positive number.*-1"):
        infer_shells(sets, altitude_tolerance_km=-1.0)
    with pytest.raises(ScenarioError, match="reference_jd must be a finite"):
        infer_shells(sets, reference_jd=float("nan"))
    # One satellite: no shell; nothing to write.
    result = infer_shells(sets)
    assert isinstance(result, ShellInference) and result.shells == []
    assert result.shell_of_satellite.tolist() == [-1] and result.plane_of_satellite.tolist() == [-1]
    with pytest.raises(ScenarioError, match="no inferred shell has an orbital plane"):
        shells_to_walker_toml(result, "x")
