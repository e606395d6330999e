"""The scenario's ``[latency]`` and ``[[probes]]``: names kept equal to the model's, bad values refused (exit 2)."""

from __future__ import annotations

import dataclasses

import pytest

from leonet.cli import main
from leonet.latency.params import LatencyParams
from leonet.scenario.latency import LatencySpec
from tests.scenes import toy_scenario


def test_every_model_constant_can_be_overridden_by_its_own_name():
    constants = {f.name for f in dataclasses.fields(LatencyParams)}
    overridable = set(LatencySpec.model_fields) - {"enabled", "era"}
    assert overridable == constants


def _validate(tmp_path, capsys, extra: str):
    path = tmp_path / "s.toml"
    path.write_text(toy_scenario(duration_s=30) + extra)
    try:
        main(["validate", str(path)])
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, capsys.readouterr()


@pytest.mark.parametrize(
    "extra,needles",
    [
        ("\n[latency]\nbuffer_s = -1.0\n", ["latency.buffer_s", "-1"]),
        ("\n[latency]\nbusy_hour_utilisation = 1.5\n", ["latency.busy_hour_utilisation", "1.5"]),
        ("\n[latency]\ndiurnal_profile = [0.5, 0.5]\n", ["diurnal_profile", "24"]),
        ("\n[latency]\nera = \"2019\"\n", ["latency.era", "2019"]),
        ("\n[latency]\nbuffer = 0.1\n", ["latency.buffer", "did you mean 'buffer_s'"]),
        ('\n[[probes]]\nterminal = "terminal:Kiev"\ninterval_ms = 100\n', ["probes[0].terminal", "'terminal:Kiev'", "terminal:Kyiv"]),
        ('\n[[probes]]\nterminal = "terminal:Kyiv"\ninterval_ms = 1\n', ["probes[0].interval_ms", "10"]),
        ('\n[latency]\nenabled = false\n[[probes]]\nterminal = "terminal:Kyiv"\ninterval_ms = 100\n', ["probes need the latency model"]),
    ],
)
def test_bad_latency_inputs_exit_2_with_the_field(tmp_path, capsys, extra, needles):
    code, captured = _validate(tmp_path, capsys, extra)
    assert code == 2, captured
    assert "Traceback" not in captured.err
    for needle in needles:
        assert needle in captured.err, (needle, captured.err)
    assert str(tmp_path / "s.toml") in captured.err


def test_a_good_latency_table_validates(tmp_path, capsys):
    code, captured = _validate(
        tmp_path, capsys, '\n[latency]\nera = "2023"\nbuffer_s = 0.1\n[[probes]]\nterminal = "terminal:Kyiv"\ninterval_ms = 100\n'
    )
    assert code == 0, captured.err
