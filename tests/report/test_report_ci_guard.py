"""The browser test is never skipped silently in CI: without Chromium it fails when CI=true, and skips with a reason otherwise."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def _pytest_without_chromium(ci: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["LEONET_CHROMIUM"] = str(HERE / "no-such-chromium")
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", str(HERE / "test_report_browser.py"), "-k", "hostile", "-rs", "-q",
         "-p", "no:cacheprovider"],
        cwd=HERE.parents[1], env=env, capture_output=True, text=True, timeout=300,
    )


@pytest.mark.parametrize("ci", ["true", "1"])
def test_fails_in_ci(ci):
    result = _pytest_without_chromium(ci)
    assert result.returncode != 0, result.stdout
    assert "no-such-chromium" in result.stdout and "must run, not be skipped" in result.stdout


def test_skips_with_the_reason_locally():
    result = _pytest_without_chromium(None)
    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout
    assert "apt-get install chromium" in result.stdout
