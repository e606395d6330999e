"""Shared fixtures: paths to the shipped data and to the shared reference outputs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE_DATA = REPO / "src" / "leonet" / "data"


def shared_dir() -> Path:
    """The project's ../shared folder (reference outputs of other tools)."""
    return Path(os.environ.get("LEONET_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def starlink_tle_path() -> Path:
    return PACKAGE_DATA / "tle" / "starlink_gp_20260530.tle"


@pytest.fixture(scope="session")
def hypatia_reference() -> Path:
    path = shared_dir() / "reference" / "hypatia" / "starlink_550"
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"Hypatia reference outputs missing at {path}; set LEONET_SHARED")
        pytest.skip(f"Hypatia reference outputs missing at {path}")
    return path
