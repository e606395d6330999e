"""Issue 10, item 12: a terminal source accepts only the keys of its own kind.

``kind = "cities"`` with ``count = 50`` used to be accepted and ``count``
ignored (a user asked for 50 terminals and got 3).  Each kind (cities,
coordinates, sample) now accepts only its own keys, and the message names the
key, the kind, the kind that does take the key, and the keys this kind accepts.
The same rules hold in ``[[ground.terminals.sources]]`` and in
``[[fleets.terminals]]``.
"""

from __future__ import annotations

import pytest

from leonet.errors import ScenarioError
from leonet.scenario.load import load_scenario
from leonet.scenario.sources import TerminalSource  # the name service/spec.py imports

HEAD = """\
[scenario]
name = "t"
[time]
start_utc = "2026-05-30T12:00:00Z"
duration_s = 60
[[constellations]]
kind = "builtin"
builtin = "starlink-550"
"""

CITIES_KEYS = "country_iso2, kind, limit, min_population, names, per_city, spread_km"
COORDINATES_KEYS = "kind, sites"
SAMPLE_KEYS = "count, kind, region, weight_by_population"


def _ground(source: str) -> str:
    return HEAD + "[ground.terminals]\n[[ground.terminals.sources]]\n" + source


def _fleet(source: str) -> str:
    return (
        HEAD
        + """\
[[fleets]]
name = "f"
active_from = 2026-05-30
monthly_price_usd = 1.0
[[fleets.sponsors]]
sponsor = "s"
from = 2026-05-30
[[fleets.terminals]]
"""
        + source
    )


def _error(tmp_path, text: str) -> str:
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert str(path) in message
    return message


@pytest.mark.parametrize("wrap,where", [(_ground, "ground.terminals.sources[0]"), (_fleet, "fleets[0].terminals[0]")])
def test_gh10_cities_with_count_is_refused(tmp_path, wrap, where):
    message = _error(tmp_path, wrap('kind = "cities"\ncountry_iso2 = "UA"\nlimit = 3\ncount = 50\n'))
    assert f"{where}.count: unknown key 'count' for kind = \"cities\"" in message
    assert 'kind = "sample" takes it' in message
    assert f'(allowed for kind = "cities": {CITIES_KEYS})' in message
    # The discriminator tag pydantic puts in the location is not shown.
    assert ".cities." not in message
    assert message.count("\n") == 0  # one problem, one line


@pytest.mark.parametrize(
    "source,key,kind,allowed,taken_by",
    [
        ('kind = "cities"\nlimit = 3\nregion = "country:UA"\n', "region", "cities", CITIES_KEYS, "sample"),
        (
            'kind = "cities"\nlimit = 3\nsites = [{name = "Kyiv", lat_deg = 50.45, lon_deg = 30.52}]\n',
            "sites", "cities", CITIES_KEYS, "coordinates",
        ),
        (
            'kind = "coordinates"\nsites = [{name = "Kyiv", lat_deg = 50.45, lon_deg = 30.52}]\ncount = 5\n',
            "count", "coordinates", COORDINATES_KEYS, "sample",
        ),
        (
            'kind = "coordinates"\nsites = [{name = "Kyiv", lat_deg = 50.45, lon_deg = 30.52}]\nweight_by_population = false\n',
            "weight_by_population", "coordinates", COORDINATES_KEYS, "sample",
        ),
        ('kind = "sample"\nregion = "country:UA"\ncount = 5\ncountry_iso2 = "PL"\n', "country_iso2", "sample", SAMPLE_KEYS, "cities"),
        ('kind = "sample"\nregion = "country:UA"\ncount = 5\nmin_population = 100000\n', "min_population", "sample", SAMPLE_KEYS, "cities"),
        ('kind = "cities"\nlimit = 3\nweight_by_population = false\n', "weight_by_population", "cities", CITIES_KEYS, "sample"),
    ],
)
def test_gh10_each_kind_accepts_only_its_keys(tmp_path, source, key, kind, allowed, taken_by):
    message = _error(tmp_path, _ground(source))
    assert f"ground.terminals.sources[0].{key}: unknown key {key!r} for kind = \"{kind}\"" in message
    assert f'kind = "{taken_by}" takes it' in message
    assert f'(allowed for kind = "{kind}": {allowed})' in message


def test_gh10_a_typo_gets_a_suggestion_within_the_kind(tmp_path):
    message = _error(tmp_path, _ground('kind = "sample"\nregion = "country:UA"\ncont = 5\n'))
    assert "unknown key 'cont' for kind = \"sample\"; did you mean 'count'?" in message


def test_gh10_missing_keys_of_a_kind_are_named(tmp_path):
    message = _error(tmp_path, _ground('kind = "sample"\nregion = "country:UA"\n'))
    assert "ground.terminals.sources[0].count: required field is missing" in message
    message = _error(tmp_path, _ground('kind = "coordinates"\n'))
    assert "ground.terminals.sources[0].sites: required field is missing" in message
    message = _error(tmp_path, _ground('kind = "cities"\n'))
    assert 'kind = "cities" needs at least one of "country_iso2", "names" or "limit"' in message


def test_gh10_unknown_kind_lists_the_kinds(tmp_path):
    message = _error(tmp_path, _ground('kind = "town"\nlimit = 3\n'))
    assert "ground.terminals.sources[0]: unknown kind 'town' (kinds here: \"cities\", \"coordinates\", \"sample\", \"track\", \"route\")" in message
    message = _error(tmp_path, _ground('kind = "sampel"\nregion = "crimea"\ncount = 1\n'))
    assert "unknown kind 'sampel'; did you mean 'sample'?" in message
    message = _error(tmp_path, _ground('region = "crimea"\ncount = 1\n'))
    assert "ground.terminals.sources[0]: required key 'kind' is missing; write kind = one of \"cities\", \"coordinates\", \"sample\", \"track\", \"route\"" in message


def test_gh10_terminal_sites_take_no_antenna_count(tmp_path):
    # A terminal has one antenna; antenna_count used to be dropped silently.
    message = _error(
        tmp_path,
        _ground('kind = "coordinates"\nsites = [{name = "Kyiv", lat_deg = 50.45, lon_deg = 30.52, antenna_count = 4}]\n'),
    )
    assert "ground.terminals.sources[0].sites[0].antenna_count: unknown key 'antenna_count'" in message
    assert "allowed here: altitude_km, lat_deg, lon_deg, name, note" in message


def test_gh10_allowed_keys_follow_the_kind_of_other_unions(tmp_path):
    # The allowed keys listed for a walker constellation are the walker's, not the built-in's.
    text = HEAD.replace('kind = "builtin"\nbuiltin = "starlink-550"\n', 'kind = "walker"\nname = "w"\nplanes = 3\n')
    text += "[[constellations.shells]]\naltitude_km = 550\ninclination_deg = 53\nplanes = 3\nsats_per_plane = 4\n"
    message = _error(tmp_path, text)
    assert "constellations[0].planes: unknown key 'planes' for kind = \"walker\"" in message
    assert '(allowed for kind = "walker": kind, name, shells)' in message


def test_gh10_good_sources_still_load_and_keep_their_values(tmp_path):
    text = _ground('kind = "sample"\nregion = "country:UA"\ncount = 50\nweight_by_population = false\n')
    text += '[[ground.terminals.sources]]\nkind = "cities"\ncountry_iso2 = "UA"\nlimit = 3\nmin_population = 10\n'
    text += '[[ground.terminals.sources]]\nkind = "coordinates"\nsites = [{name = "Kyiv", lat_deg = 50.45, lon_deg = 30.52}]\n'
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    sample, cities, coords = load_scenario(path).spec.ground.terminals.sources
    assert (sample.kind, sample.region, sample.count, sample.weight_by_population) == ("sample", "country:UA", 50, False)
    assert (cities.kind, cities.country_iso2, cities.limit, cities.min_population) == ("cities", "UA", 3, 10)
    assert coords.kind == "coordinates" and [s.name for s in coords.sites] == ["Kyiv"]


def test_gh10_terminal_source_name_validates_on_its_own():
    from pydantic import TypeAdapter, ValidationError

    adapter = TypeAdapter(TerminalSource)
    assert adapter.validate_python({"kind": "sample", "region": "crimea", "count": 2}).count == 2
    with pytest.raises(ValidationError):
        adapter.validate_python({"kind": "cities", "limit": 3, "count": 50})


def test_gh10_allowed_keys_are_written_as_in_the_file(tmp_path):
    # Faults take `from` (the field is from_ in Python); the list used to say from_.
    text = HEAD + '[[faults]]\nkind = "gateway-down"\ngateways = ["GS1"]\nfraction = 0.1\n'
    message = _error(tmp_path, text)
    assert "faults[0].fraction: unknown key 'fraction' for kind = \"gateway-down\"; " in message
    assert 'kind = "satellites-failed" or kind = "isl-lost" take it' in message
    assert '(allowed for kind = "gateway-down": from, gateways, kind, name, until)' in message
