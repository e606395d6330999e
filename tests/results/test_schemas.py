"""The Parquet tables a run writes match docs/results.md (names, types, order)."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from leonet.engine.run import run_scenario
from leonet.results.query import run_tables
from leonet.scenario.load import load_scenario

DOC = Path(__file__).resolve().parents[2] / "docs" / "results.md"

SCENARIO = """
[scenario]
name = "schema"
[time]
start_utc = "2026-05-30T12:00:00Z"
duration_s = 60
step_s = 10
[[constellations]]
kind = "builtin"
builtin = "starlink-550"
[ground.terminals]
[[ground.terminals.sources]]
kind = "coordinates"
sites = [{name = "Kyiv", lat_deg = 50.45, lon_deg = 30.52}]
[[ground.terminals.sources]]
kind = "route"
name = "boat"
speed_kmh = 30.0
start_utc = 2026-05-30T12:00:20Z
waypoints = [{lat_deg = 46.2, lon_deg = 31.0}, {lat_deg = 45.5, lon_deg = 32.5}]
[ground.gateways]
ids = ["GS220"]
[ground.pops]
ids = ["POP12"]
[capacity]
[[sponsors]]
name = "donor"
[[fleets]]
name = "f"
active_from = 2026-01-01
monthly_price_usd = 100
demand_mbps = 10
[[fleets.terminals]]
kind = "coordinates"
sites = [{name = "Lviv", lat_deg = 49.84, lon_deg = 24.03}]
[[fleets.sponsors]]
sponsor = "donor"
from = 2026-01-01
[ledger]
end = 2026-07-01
[[probes]]
terminal = "terminal:Kyiv"
interval_ms = 1000
"""

TYPES = {
    "int64": pa.int64(),
    "int32": pa.int32(),
    "int16": pa.int16(),
    "float64": pa.float64(),
    "string": pa.string(),
    "bool": pa.bool_(),
    "dictionary<int8, string>": pa.dictionary(pa.int8(), pa.string()),
}


def documented() -> dict[str, list[tuple[str, str]]]:
    """Table -> [(column, type)] from the Markdown tables under each ### heading."""
    out: dict[str, list[tuple[str, str]]] = {}
    names: list[str] = []
    for line in DOC.read_text().splitlines():
        if line.startswith("### "):
            names = [n.strip() for n in re.sub(r"\(.*\)", "", line[4:]).split(",")]
            for n in names:
                out.setdefault(n, [])
        elif line.startswith("| ") and names and not line.startswith("| column") and not line.startswith("|---"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            for n in names:
                out[n].append((cells[0], cells[1]))
        elif line.startswith("`terminals` has"):
            names = ["terminals"]
    return out


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("schema") / "s.toml"
    path.write_text(textwrap.dedent(SCENARIO))
    out = path.parent / "run"
    run_scenario(load_scenario(path), out)
    return out


def test_every_table_is_documented_and_every_documented_table_is_written(run_dir):
    assert set(run_tables(run_dir)) == set(documented())


@pytest.mark.parametrize("table", sorted(documented()))
def test_schema_matches_the_documentation(run_dir, table):
    files = run_tables(run_dir)[table]
    schema = pq.read_schema(files[0])
    expected = documented()[table]
    assert schema.names == [c for c, _ in expected]
    for name, type_text in expected:
        assert schema.field(name).type == TYPES[type_text], (table, name, schema.field(name).type)
    # Every chunk of a table has the same schema.
    for f in files[1:]:
        assert pq.read_schema(f).equals(schema)


def test_units_are_in_the_column_names(run_dir):
    physical = {"rtt", "uplink", "isl", "feeder", "backhaul", "lat", "lon", "altitude", "x", "y", "z", "demand", "throughput",
                "propagation", "access", "processing", "queueing", "reconfiguration", "speed", "distance"}
    for table, columns in documented().items():
        for name, type_text in columns:
            stem = name.split("_")[0]
            if type_text == "float64" and stem in physical:
                assert re.search(r"_(ms|km|kmh|deg|mbps|usd|days)$", name), (table, name)
