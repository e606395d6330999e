"""Issue 11 acceptance: "Kuiper over Brazil, 50 terminals in three cities, one gateway, a geofence",
written from docs/scenario.md alone: every key it uses is documented in the table it sits in,
and it validates and runs first time (named admin-1 geofence, no billing)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

import leonet

DOC = Path(__file__).resolve().parents[2] / "docs" / "scenario.md"

BRAZIL = """
[scenario]
name = "kuiper-brazil"
description = "Kuiper over Brazil: 50 terminals in three cities, one gateway, no service in Amazonas"

[time]
start_utc = "2026-05-30T12:00:00Z"
duration_s = 120
step_s = 15

[[constellations]]
kind = "builtin"
builtin = "kuiper"

[ground.gateways]
catalog = "2026-03"
ids = ["GS3"]                        # Itaboraí, RJ (leonet sites gateways --country BR --catalog 2026-03)

[ground.pops]
catalog = "2026-10"
ids = ["splobra1"]                   # São Paulo (leonet sites pops --country BR --catalog 2026-10)

[[fleets]]
name = "clinics"                     # no price, no sponsors: a network study, no ledger
[[fleets.terminals]]
kind = "cities"
country_iso2 = "BR"
names = ["São Paulo", "Belo Horizonte"]
per_city = 17
[[fleets.terminals]]
kind = "cities"
country_iso2 = "BR"
names = ["Manaus"]
per_city = 16

[[policies]]
name = "no service in Amazonas"
action = "deny"
region = "admin1:BR-AM"
"""


def _documented_keys() -> dict[str, set[str]]:
    """Table heading (e.g. ``[[fleets.terminals]]``) -> keys its tables list, from docs/scenario.md."""
    out: dict[str, set[str]] = {}
    heading = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^#{2,4} (\[\[?[a-z._]+\]\]?)", line)
        if m:
            heading = m.group(1)
            out.setdefault(heading, set())
            continue
        m = re.match(r"^\| `([a-z_0-9]+)` \|", line)
        if m and heading:
            out[heading].add(m.group(1))
    return out


def _keys_used(doc: dict) -> list[tuple[str, str]]:
    """(table heading, key) of every key the scenario uses."""
    used = []

    def walk(node, path: list[str], array: bool):
        heading = ("[[" + ".".join(path) + "]]") if array else ("[" + ".".join(path) + "]")
        for key, value in node.items():
            if isinstance(value, dict):
                walk(value, path + [key], False)
            elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                used.append((heading, key)) if path else None
                for item in value:
                    walk(item, path + [key], True)
            else:
                used.append((heading, key))

    walk(doc, [], False)
    return used


def test_every_key_is_in_the_reference():
    documented = _documented_keys()
    missing = [(h, k) for h, k in _keys_used(tomllib.loads(BRAZIL)) if k not in documented.get(h, set())
               and not (h == "[[ground.terminals.sources]]")]
    # A fleet's terminal sources are documented once, under [[ground.terminals.sources]] (kinds), linked from fleets.
    sources = set().union(*(v for h, v in documented.items() if h.startswith("[[ground.terminals.sources")))
    missing = [(h, k) for h, k in missing if not (h == "[[fleets.terminals]]" and k in sources)]
    assert not missing, f"keys the Brazil scenario uses that docs/scenario.md does not document: {missing}"


@pytest.mark.slow
def test_the_brazil_scenario_runs_first_time(tmp_path):
    path = tmp_path / "brazil.toml"
    path.write_text(BRAZIL, encoding="utf-8")
    run = leonet.run(leonet.load_scenario(path), tmp_path / "run")
    terminals = run.table("terminals")
    assert len(terminals) == 50 and set(terminals["fleet"]) == {"clinics"}
    assert "cost_ledger" not in run.tables()
    steps = run.table("terminal_steps").merge(terminals, left_on="terminal", right_on="index")
    manaus = steps["name"].str.startswith("Manaus")
    assert manaus.sum() == 16 * 8 and (steps.loc[manaus, "reason"].astype(str) == "policy").all()
    assert (steps.loc[~manaus, "reason"].astype(str) != "policy").all()
    assert (steps.loc[steps["served"], "pop"] == 0).all()  # the one PoP, São Paulo
