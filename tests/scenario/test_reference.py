"""docs/scenario.md: the scenario reference, generated from the schema and kept in sync with it.

The file must equal `render_reference` (run ``python tools/scenario_reference.py``
after changing the schema), list every key of every table with its type,
unit, default and bounds as the schema has them, and every example block in
it must load, validate and -- for complete scenarios -- pass every check a
run makes before its first step, with no file outside the package.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
import typing
from pathlib import Path

import numpy as np
import pytest
from pydantic import TypeAdapter

from leonet.scenario.load import load_scenario
from leonet.scenario.reference import (
    INTROS,
    MINIMAL_EXAMPLE,
    RULES,
    SECTION_EXAMPLES,
    RefTable,
    reference_tables,
    render_reference,
    toml_value,
)
from leonet.scenario.schema import Scenario
from leonet.scenario.service import to_utc

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "scenario.md"
TOOL = REPO / "tools" / "scenario_reference.py"
REGENERATE = "run `python tools/scenario_reference.py` (with PYTHONPATH=src) and commit docs/scenario.md"

_BLOCK = re.compile(r"^```toml( fragment)?\n(.*?)^```$", re.S | re.M)


def _doc() -> str:
    return DOC.read_text(encoding="utf-8")


def _blocks() -> list[tuple[bool, str]]:
    """``(is_fragment, text)`` of every TOML block of docs/scenario.md, in order."""
    return [(bool(m.group(1)), m.group(2)) for m in _BLOCK.finditer(_doc())]


def _sections(text: str) -> dict[str, str]:
    """Section text by anchor (``constellations-walker``), up to the next anchor."""
    parts = re.split(r'^<a id="([^"]+)"></a>$', text, flags=re.M)
    return {parts[k]: parts[k + 1] for k in range(1, len(parts), 2)}


def _key(name: str, field) -> str:
    return field.alias or name


# --------------------------------------------------------------------------
# In sync
# --------------------------------------------------------------------------


def test_doc_equals_the_generated_reference():
    assert DOC.is_file(), f"docs/scenario.md is missing; {REGENERATE}"
    assert _doc() == render_reference(), f"docs/scenario.md is stale: {REGENERATE}"


def test_tool_checks_and_rewrites_a_stale_file(tmp_path):
    target = tmp_path / "scenario.md"
    target.write_text("# stale\n", encoding="utf-8")
    env_python = [sys.executable, str(TOOL), "--file", str(target)]
    stale = subprocess.run([*env_python, "--check"], capture_output=True, text=True, timeout=120)
    assert stale.returncode == 1
    assert "stale" in stale.stderr and "tools/scenario_reference.py" in stale.stderr
    assert target.read_text(encoding="utf-8") == "# stale\n"  # --check writes nothing
    wrote = subprocess.run(env_python, capture_output=True, text=True, timeout=120)
    assert wrote.returncode == 0, wrote.stderr
    assert target.read_text(encoding="utf-8") == render_reference()
    fresh = subprocess.run([*env_python, "--check"], capture_output=True, text=True, timeout=120)
    assert fresh.returncode == 0, fresh.stderr


def test_render_is_deterministic():
    assert render_reference() == render_reference()


# --------------------------------------------------------------------------
# Every table, every key
# --------------------------------------------------------------------------


def _all_tables() -> list[RefTable]:
    return reference_tables()


def test_the_walk_reaches_every_table_of_the_schema():
    tables = _all_tables()
    paths = {t.path for t in tables}
    for expected in (
        "scenario", "time", "constellations", "constellations.shells", "propagation", "ground",
        "ground.terminals", "ground.terminals.sources", "ground.terminals.sources.sites", "ground.gateways",
        "ground.gateways.extra", "ground.pops", "ground.pops.extra", "network", "capacity", "fleets",
        "fleets.terminals", "fleets.sponsors", "sponsors", "policies", "faults", "ledger", "output",
    ):
        assert expected in paths, expected
    kinds = {(t.path, t.kind) for t in tables if t.kind}
    assert kinds == {
        ("constellations", "builtin"), ("constellations", "walker"), ("constellations", "elements"),
        ("ground.terminals.sources", "cities"), ("ground.terminals.sources", "coordinates"),
        ("ground.terminals.sources", "sample"), ("ground.terminals.sources", "track"),
        ("ground.terminals.sources", "route"),
        ("faults", "gateway-down"), ("faults", "satellites-failed"), ("faults", "isl-lost"), ("faults", "jamming"),
        ("faults", "capacity-loss"),
    }
    # Reused models point to where they are documented instead of repeating them.
    same = {t.path: t.same_as.path for t in tables if t.same_as is not None}
    assert same == {"fleets.terminals": "ground.terminals.sources", "ground.pops.extra": "ground.terminals.sources.sites"}
    assert {t.header for t in tables if t.path in ("time", "faults")} == {"[time]", "[[faults]]"}


def test_every_field_of_every_model_has_a_row_in_its_section():
    text = render_reference()
    sections = _sections(text)
    checked = 0
    for t in _all_tables():
        body = sections[t.anchor]
        assert INTROS[t.key] in body
        if t.same_as is not None:
            assert f"(#{t.same_as.anchor})" in body
            continue
        if t.union and t.kind is None:
            for model in t.members:
                kind = model.model_fields["kind"].annotation.__args__[0]
                assert f'[`"{kind}"`](#{t.anchor}-{kind})' in body
            continue
        for name, field in t.model.model_fields.items():
            rows = [line for line in body.splitlines() if line.startswith(f"| `{_key(name, field)}` |")]
            assert len(rows) == 1, f"{t.header} {t.kind or ''}: no single row for {name!r}"
            assert field.description.rstrip(".") in rows[0].replace("\\|", "|")
            checked += 1
    top = text.split("## Tables", 1)[1]
    for name, field in Scenario.model_fields.items():
        assert f"| `{name}` |" in top, name
    assert checked >= 100  # the schema has ~110 keys; a walk that finds few is broken


def test_rows_say_what_the_schema_says():
    """Hand-checked rows: type, unit, default, bounds, aliases, rules and links."""
    rows = {}
    for anchor, body in _sections(render_reference()).items():
        for line in body.splitlines():
            if line.startswith("| `"):
                cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
                rows[(anchor, cells[0].strip("`"))] = cells
    assert rows[("constellations-shells", "altitude_km")][1:5] == ["number", "km", "**required**", "[150, 40000]"]
    assert rows[("constellations-shells", "planes")][1:5] == ["integer", "", "**required**", "[1, 10000]"]
    assert rows[("constellations-shells", "phasing")][3:5] == ['`"walker"`', '`"walker"`, `"hypatia"`']
    assert rows[("time", "step_s")][1:5] == ["number", "s", "`1.0`", "(0, 86400]; a whole number of ns, at most the window"]
    assert rows[("time", "duration_s")][3:5] == ["unset", "(0, 31622400]"]  # 366 days
    assert rows[("time", "start_utc")][1] == "date-time"
    assert rows[("constellations-builtin", "min_elevation_deg")][4] == "[0, 90)"
    assert rows[("constellations-builtin", "kind")][3:5] == ["**required**", '`"builtin"`']  # default, but the tag is required
    assert '`"kuiper"`' in rows[("constellations-builtin", "builtin")][4]
    assert rows[("capacity", "demand_bps")][1:5] == ["number", "bit/s", "`1e8`", "(0, 1e12]"]
    assert rows[("capacity", "generation_by_constellation")][1] == "table of string = string"
    assert rows[("fleets", "demand_mbps")][2] == "Mbit/s"
    assert rows[("fleets", "monthly_price_usd")][2] == "USD"
    assert rows[("fleets", "profile_utc_offset_h")][2:5] == ["h", "`0`", "[-12, 14]"]
    assert rows[("fleets", "terminals")][1] == "array of tables [`[[ground.terminals.sources]]`](#ground-terminals-sources)"
    assert rows[("fleets-sponsors", "from")][1] == "date-time"  # the alias, not from_
    assert ("fleets-sponsors", "from_") not in rows
    assert rows[("faults-jamming", "probability")][4] == "[0, 1]"
    assert rows[("ground-terminals-sources-cities", "country_iso2")][4].startswith("exactly 2 characters")
    assert rows[("ground-pops", "extra")][1] == (
        "array of tables [`[[ground.terminals.sources.sites]]`](#ground-terminals-sources-sites)"
    )
    assert rows[("network", "policy")][4] == '`"min-latency"`, `"max-elevation"`, `"longest-visible"`'


def test_markdown_tables_are_whole_and_links_resolve():
    text = _doc()
    widths = []
    for block in re.split(r"\n\n", text):
        lines = block.splitlines()
        if not lines or not lines[0].startswith("| "):
            continue
        cols = len(re.split(r"(?<!\\)\|", lines[0])) - 2
        widths.append(cols)
        assert re.fullmatch(r"\|(---\|)+", lines[1]) and lines[1].count("---") == cols, lines[0]
        for line in lines[2:]:
            assert len(re.split(r"(?<!\\)\|", line)) - 2 == cols, line  # a stray '|' would shift the cells
    assert widths.count(6) == sum(1 for t in _all_tables() if t.same_as is None and not (t.union and t.kind is None)) + 1
    anchors = set(re.findall(r'^<a id="([^"]+)"></a>$', text, flags=re.M))
    links = set(re.findall(r"\]\(#([^)]+)\)", text))
    assert links and links <= anchors, sorted(links - anchors)


def test_every_field_has_a_description():
    missing = [
        f"{t.model.__name__}.{n}" for t in _all_tables() for n, f in t.model.model_fields.items() if not f.description
    ]
    missing += [n for n, f in Scenario.model_fields.items() if not f.description]
    assert not missing


def test_a_table_without_an_intro_is_an_error(monkeypatch):
    monkeypatch.delitem(INTROS, "faults#jamming")
    with pytest.raises(ValueError, match="faults#jamming"):
        render_reference()


def test_rules_name_real_fields():
    fields = {(t.model.__name__, _key(n, f)) for t in _all_tables() for n, f in t.model.model_fields.items()}
    assert set(RULES) <= fields, sorted(set(RULES) - fields)


# --------------------------------------------------------------------------
# Examples
# --------------------------------------------------------------------------


def _field_examples():
    out = []
    for t in _all_tables():
        if t.same_as is not None or (t.union and t.kind is None):
            continue
        for name, field in t.model.model_fields.items():
            extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
            for example in extra.get("examples", []):
                out.append(pytest.param(t.model, name, field, example, id=f"{t.model.__name__}.{name}={example!r}"[:80]))
    return out


@pytest.mark.parametrize(("model", "name", "field", "example"), _field_examples())
def test_field_example_is_valid_toml_and_a_valid_value(model, name, field, example):
    dates = _is_datetime(field.annotation)
    key = _key(name, field)
    parsed = tomllib.loads(f"{key} = {toml_value(example, dates=dates)}")[key]
    if dates:
        assert to_utc(parsed) == to_utc(example)
        return
    assert parsed == example
    adapter = TypeAdapter(typing.Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation)
    adapter.validate_python(parsed)


@pytest.mark.parametrize(
    "value",
    [0.0, 25.0, 0.05, 1e6, 100e6, 1.2e9, 20e9, 1e12, 1e-5, -0.5, 15.19, 31622400.0, 123456789.0, 1e300,
     12345678.987654321, 0.1 + 0.2, -2.5e-7, 5e-324],
)
def test_numbers_round_trip_through_toml(value):
    assert tomllib.loads(f"x = {toml_value(value)}")["x"] == value
    assert toml_value(100e6) == "1e8" and toml_value(1.2e9) == "1.2e9" and toml_value(25.0) == "25.0"


def test_doc_has_every_example_block():
    blocks = _blocks()
    complete = [text for fragment, text in blocks if not fragment]
    fragments = [text for fragment, text in blocks if fragment]
    assert complete[0] == MINIMAL_EXAMPLE
    assert len(complete) == 2
    assert sorted(fragments) == sorted(SECTION_EXAMPLES.values())


def _merge(base: dict, fragment: dict) -> dict:
    """``base`` with the tables of ``fragment``: leaf tables and arrays replaced, container tables merged."""
    out = dict(base)
    for key, value in fragment.items():
        container = isinstance(value, dict) and all(isinstance(v, dict) for v in value.values())
        if container and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _doc_examples():
    blocks = _blocks()
    minimal = next(text for fragment, text in blocks if not fragment)
    out = []
    for k, (fragment, text) in enumerate(blocks):
        doc = tomllib.loads(text)
        if fragment:
            doc = _merge(tomllib.loads(minimal), doc)
        first = text.splitlines()[0]
        out.append(pytest.param(fragment, doc, id=f"{k}-{'fragment' if fragment else 'complete'}-{first}"))
    return out


@pytest.mark.parametrize(("fragment", "document"), _doc_examples())
def test_doc_example_validates_and_needs_no_outside_file(fragment, document, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # relative paths, if any, would resolve here: in the test's own folder
    loaded = load_scenario(document)
    assert loaded.input_paths() == {}


def test_complete_examples_pass_every_check_before_a_run(tmp_path, monkeypatch):
    """`leonet validate` on each complete block: built-ins, city names, PoP codes and gateways all exist."""
    from leonet.engine.run import prepare_run

    monkeypatch.chdir(tmp_path)
    complete = [text for fragment, text in _blocks() if not fragment]
    minimal, full = complete
    path = tmp_path / "minimal.toml"
    path.write_text(minimal, encoding="utf-8")
    ctx = prepare_run(load_scenario(path))
    assert len(ctx.constellation) == 22 * 72  # starlink-550
    assert ctx.service is None and ctx.ground is None  # orbits only, as the doc says

    path = tmp_path / "full.toml"
    path.write_text(full, encoding="utf-8")
    loaded = load_scenario(path)
    ctx = prepare_run(loaded)
    assert len(ctx.constellation) == 3236  # kuiper
    assert len(ctx.service.terminals) == 3 + 47
    assert list(ctx.service.terminals.names[:3]) == loaded.spec.ground.terminals.sources[0].names
    assert list(ctx.ground.gateways.ids) == ["assumed:Brasilia gateway"]
    assert list(ctx.ground.pops.names) == ["GRU - SPLOBRA1"]
    # The geofence ("service in Brazil only") leaves every terminal of the example inside Brazil.
    policy = ctx.service.policy
    assert policy.applies.shape == (1, 50) and policy.applies.all()
    assert not policy.denied(np.zeros(1, dtype=np.int64), loaded.spec.time.start_utc).any()


def _is_datetime(annotation) -> bool:
    import datetime as dt

    return annotation is dt.datetime or dt.datetime in typing.get_args(annotation)
