"""Issue 11: fleets without billing -- a pure network study needs no price, sponsors or ledger."""

from __future__ import annotations

import pytest

from scenes import toy_scenario  # tests/scenes.py
from leonet.errors import ScenarioError
from leonet.scenario.load import load_scenario
from leonet.scenario.service import FleetSpec

UNBILLED = toy_scenario(name="unbilled", duration_s=20, chunk_steps=2) + """
[[fleets]]
name = "survey"
demand_mbps = 10.0
[[fleets.terminals]]
kind = "coordinates"
sites = [{name = "Kharkiv", lat_deg = 49.99, lon_deg = 36.23}]
"""


def test_a_fleet_needs_no_price_sponsor_or_start():
    spec = FleetSpec.model_validate({"name": "f", "terminals": [{"kind": "coordinates", "sites": [
        {"name": "a", "lat_deg": 0, "lon_deg": 0}]}]})
    assert not spec.billed and spec.sponsors == [] and spec.active_from is None


@pytest.mark.parametrize("fields, words", [
    ({"monthly_price_usd": 10.0, "active_from": "2026-01-01"}, "has a price but no sponsor timeline"),
    ({"monthly_price_usd": 10.0, "sponsors": [{"sponsor": "x", "from": "2026-01-01"}]}, "a priced fleet needs active_from"),
    ({"sponsors": [{"sponsor": "x", "from": "2026-01-01"}]}, "a sponsor timeline needs active_from"),
])
def test_billing_fields_that_need_each_other(fields, words):
    data = {"name": "f", "terminals": [{"kind": "coordinates", "sites": [{"name": "a", "lat_deg": 0, "lon_deg": 0}]}],
            **fields}
    with pytest.raises(ValueError, match=words):
        FleetSpec.model_validate(data)


def test_an_unbilled_fleet_runs_without_a_ledger(tmp_path):
    import leonet

    path = tmp_path / "s.toml"
    path.write_text(UNBILLED)
    run = leonet.run(load_scenario(path), tmp_path / "run")
    assert "cost_ledger" not in run.tables()
    steps = run.table("terminal_steps")
    fleet_terminal = run.table("terminals").query("fleet == 'survey'")["index"].item()
    mine = steps[steps["terminal"] == fleet_terminal]
    assert len(mine) == 4 and (mine["reason"].astype(str) != "inactive").all()  # active all the time
    assert run.summary.cost_by_sponsor == []


def test_a_priced_fleet_still_needs_a_ledger_end(tmp_path):
    text = UNBILLED.replace('demand_mbps = 10.0', 'demand_mbps = 10.0\nmonthly_price_usd = 5.0\nactive_from = 2026-05-01\n'
                            'sponsors = [{sponsor = "s", from = 2026-05-01}]')
    path = tmp_path / "s.toml"
    path.write_text(text)
    from leonet.engine.run import prepare_run

    with pytest.raises(ScenarioError, match=r"\[ledger\] end"):
        prepare_run(load_scenario(path))
