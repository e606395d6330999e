"""Issue 10 siblings found by the gh10 fuzzer: odd *values* in a scenario file.

* An integer of more than 4300 digits (CPython's int/str limit) escaped as a
  bare ``ValueError``: from tomllib for a decimal literal, from the message
  formatting for a hexadecimal one.
* A validator that quotes the bad value (a time, a built-in name) echoed a
  megabyte string whole.
* The location of a field that shares its name with a union tag
  (``builtin`` of ``kind = "builtin"``) was shown as its parent.
"""

from __future__ import annotations

import pytest

from leonet.errors import ScenarioError
from leonet.ground.sites import sites_from_coordinates
from leonet.scenario.load import load_scenario

BASE = """\
[time]
start_utc = "2026-05-30T12:00:00Z"
duration_s = 60
[[constellations]]
kind = "builtin"
builtin = "starlink-550"
"""


def _message(tmp_path, old: str, new: str) -> str:
    assert old in BASE
    path = tmp_path / "s.toml"
    path.write_text(BASE.replace(old, new), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert str(path) in message
    return message


def test_gh10_decimal_integer_of_5000_digits(tmp_path):
    message = _message(tmp_path, "duration_s = 60", "duration_s = " + "9" * 5000)
    assert "not a usable scenario" in message and "4300 digits" in message and len(message) < 300


def test_gh10_hex_integer_of_5000_digits(tmp_path):
    message = _message(tmp_path, "duration_s = 60", "duration_s = 0x" + "f" * 5000)
    assert "time.duration_s: Input should be a valid number (got <an integer of about 6021 digits>)" in message


@pytest.mark.parametrize(
    "old,new,needle",
    [
        ('start_utc = "2026-05-30T12:00:00Z"', 'start_utc = "' + "x" * 100_000 + '"', "is not an ISO 8601 UTC time"),
        ('builtin = "starlink-550"', 'builtin = "' + "x" * 100_000 + '"', "unknown built-in constellation"),
    ],
)
def test_gh10_validator_messages_quote_an_excerpt(tmp_path, old, new, needle):
    message = _message(tmp_path, old, new)
    assert needle in message and "'" + "x" * 40 + "...'" in message
    assert "x" * 41 not in message and len(message) < 600


def test_gh10_field_named_like_a_union_tag_keeps_its_name(tmp_path):
    message = _message(tmp_path, 'builtin = "starlink-550"', "builtin = 5")
    assert "constellations[0].builtin: Input should be a valid string (got 5)" in message


def test_gh10_sites_from_coordinates_with_an_integer_beyond_int64():
    with pytest.raises(ScenarioError) as info:
        sites_from_coordinates("terminal", [{"name": "x", "lat_deg": 1, "lon_deg": 2, "population": 10**400}])
    assert "population=<an integer of about 401 digits> is outside [0, 9223372036854775807]" in str(info.value)


def test_gh10_a_long_unknown_key_is_quoted_short(tmp_path):
    # Found by test_gh10_fuzz_inputs: a table header of 500 digits was echoed twice, whole.
    message = _message(tmp_path, "[time]", "[" + "9" * 500 + "]\n[time]")
    assert f"{'9' * 40}...: unknown key '{'9' * 40}...'" in message and "9" * 41 not in message
