"""Resource guard and safe output names (issue 7)."""

from __future__ import annotations

import pytest

from leonet.engine.guard import check_resources, estimate_resources
from leonet.engine.run import safe_name
from leonet.errors import ScenarioError

GB = 1e9


def test_estimate_grows_with_chunk_and_size():
    small = estimate_resources(1584, 100, 3600, 600)
    big = estimate_resources(29988, 10_000, 3600, 600)
    assert big.peak_memory_bytes > 5 * small.peak_memory_bytes
    assert estimate_resources(1584, 100, 3600, 60).peak_memory_bytes < small.peak_memory_bytes
    # Workers each hold a chunk.
    assert estimate_resources(1584, 100, 3600, 600, processes=4).peak_memory_bytes > 3 * small.peak_memory_bytes


def test_refuses_with_a_chunk_size_that_fits_and_the_override():
    est = estimate_resources(29988, 10_000, 3600, 3600)
    with pytest.raises(ScenarioError) as info:
        check_resources(est, chunk_steps=3600, available=8 * GB)
    message = str(info.value)
    # The library names its keyword argument; the CLI says --ignore-memory-guard (test_cli_refuses_a_run_that_cannot_fit).
    assert "GB of memory" in message and "ignore_memory_guard=True" in message and "chunk_steps" in message
    check_resources(est, chunk_steps=3600, available=8 * GB, override=True)
    check_resources(estimate_resources(1584, 100, 3600, 600), chunk_steps=600, available=8 * GB)


def test_cli_refuses_a_run_that_cannot_fit(tmp_path, capsys):
    from leonet.cli import main

    with pytest.raises(SystemExit) as info:
        # 29,988 satellites, one chunk of a whole day at 1 s: ~hundreds of GB.
        path = tmp_path / "huge.toml"
        path.write_text(
            '[time]\nstart_utc = "2026-01-01T00:00:00Z"\nduration_s = 86400\nstep_s = 1\n'
            '[[constellations]]\nkind = "builtin"\nbuiltin = "starlink-gen2"\n[output]\nchunk_steps = 86400\n'
        )
        main(["--quiet", "run", str(path), "--out", str(tmp_path / "out"), "--no-report"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "memory" in err and "Traceback" not in err
    assert "--ignore-memory-guard" in err and "ignore_memory_guard" not in err  # the CLI says its own option
    assert not (tmp_path / "out").exists()  # refused before anything was written


@pytest.mark.parametrize(
    "name,expected",
    [("ukraine", "ukraine"), ("../../etc/passwd", "etc_passwd"), ("a b/c", "a_b_c"), ("...", "run"), ("<script>", "script")],
)
def test_output_names_from_user_strings_are_sanitised(name, expected):
    assert safe_name(name) == expected
