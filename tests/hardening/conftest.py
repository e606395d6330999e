"""Counting for the hardening fuzz tests.

Every fuzz test calls ``fuzz_count("<input>")`` once per hypothesis example it
runs (including hypothesis' replays and shrinking steps).  At the end of the
session the counts are printed in the terminal summary and, when the
environment variable ``LEONET_FUZZ_COUNTS`` names a file, written there as
JSON: ``{"<test name>": {"input": "<input>", "examples": N}}``.  The table in
docs/reliability.md is made from that file.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest
from scenes import toy_scenario  # tests/scenes.py

_COUNTS: Counter[str] = Counter()
_INPUTS: dict[str, str] = {}


def _current_test() -> str:
    # "tests/hardening/test_fuzz_csv.py::test_x (call)" -> "test_fuzz_csv.py::test_x"
    current = os.environ.get("PYTEST_CURRENT_TEST", "unknown::unknown")
    return current.rsplit(" ", 1)[0].rsplit("/", 1)[-1]


@pytest.fixture(scope="session")
def fuzz_count():
    """``fuzz_count(input_description)``: count one example of the running test.

    Session-scoped so that hypothesis accepts it in ``@given`` tests.
    """

    def count(what: str) -> None:
        test = _current_test()
        _INPUTS.setdefault(test, what)
        _COUNTS[test] += 1

    return count


def fuzz_counts() -> dict[str, dict]:
    return {t: {"input": _INPUTS[t], "examples": _COUNTS[t]} for t in sorted(_COUNTS)}


def pytest_sessionfinish(session, exitstatus):
    target = os.environ.get("LEONET_FUZZ_COUNTS")
    if target and _COUNTS:
        Path(target).write_text(json.dumps(fuzz_counts(), indent=1) + "\n", encoding="utf-8")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _COUNTS:
        return
    terminalreporter.section("hypothesis examples run per fuzzed input")
    for test, row in fuzz_counts().items():
        terminalreporter.write_line(f"{row['examples']:6d}  {row['input']}  ({test})")
    terminalreporter.write_line(f"{sum(_COUNTS.values()):6d}  total")


# --------------------------------------------------------------------------
# One tiny run, shared by the query and CLI fuzz tests (built once: ~4 s)
# --------------------------------------------------------------------------

TOY_RUN_SCENARIO = toy_scenario(duration_s=20, chunk_steps=2)


@pytest.fixture(scope="session")
def toy_run(tmp_path_factory) -> Path:
    """A finished run of the toy scenario of tests/engine/test_run.py (4 steps, 2 chunks)."""
    import warnings

    from leonet.engine.run import run_scenario
    from leonet.scenario.load import load_scenario

    path = tmp_path_factory.mktemp("toy_run") / "toy.toml"
    path.write_text(TOY_RUN_SCENARIO, encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_scenario(load_scenario(path), path.parent / "run")
    return path.parent / "run"


def _snapshot(*dirs: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for d in dirs:
        for p in sorted(Path(d).rglob("*")):
            st = p.stat()
            out[str(p)] = (st.st_size, st.st_mtime_ns)
    return out


@pytest.fixture(scope="session")
def snapshot():
    """``snapshot(*dirs)``: every file below ``dirs`` -> (size, mtime_ns), to prove nothing was written."""
    return _snapshot
