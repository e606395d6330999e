"""The scenario (the edge) names built-ins without importing the stages that hold them; these keep the two equal."""

from __future__ import annotations

import pytest

from leonet.cli import main
from leonet.ground.sites import GATEWAY_CATALOGS, POP_CATALOGS, load_gateways, load_pops
from leonet.orbits.constellation import BUILTIN_TLE, BUILTIN_WALKER
from leonet.scenario.catalog import BUILTIN_CONSTELLATIONS, GATEWAY_CATALOG_NAMES, POP_CATALOG_NAMES


def test_builtin_constellations_agree():
    assert {n for n, (kind, _) in BUILTIN_CONSTELLATIONS.items() if kind == "walker"} == set(BUILTIN_WALKER)
    assert {n for n, (kind, _) in BUILTIN_CONSTELLATIONS.items() if kind == "elements"} == set(BUILTIN_TLE)
    for name, (_, description) in BUILTIN_CONSTELLATIONS.items():
        source = BUILTIN_WALKER.get(name) or BUILTIN_TLE.get(name)
        assert source[0] == description


def test_site_catalogs_agree():
    assert set(GATEWAY_CATALOG_NAMES) == set(GATEWAY_CATALOGS)
    assert set(POP_CATALOG_NAMES) == set(POP_CATALOGS)
    for name in GATEWAY_CATALOGS:
        assert len(load_gateways(catalog=name)) > 200
    for name in POP_CATALOGS:
        assert len(load_pops(catalog=name)) >= 23


def test_leonet_sites_lists_the_ids_a_scenario_uses(capsys):
    main(["sites", "pops", "--catalog", "starperf-2024-01"])
    out = capsys.readouterr().out
    assert "POP12" in out and "FRNTDEU1" in out and "23 pops" in out
    main(["sites", "gateways", "--country", "LT", "--catalog", "starperf-2024-01"])
    assert "GS221" in capsys.readouterr().out
    with pytest.raises(SystemExit) as info:
        main(["sites", "satellites"])
    assert info.value.code == 2
