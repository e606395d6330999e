"""Runs killed with SIGKILL at random moments resume to the same tables (issue 7).

Every file is written atomically and the manifest lists only finished chunks,
so whatever instant a run dies at, `leonet run --resume` completes it and the
result equals an uninterrupted run, bit for bit.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from scenes import toy_scenario  # tests/scenes.py
from leonet.cli import main
from leonet.engine.run import run_scenario
from leonet.errors import RunDirectoryError
from leonet.results.query import query
from leonet.scenario.load import load_scenario

from same_tables import assert_same_bits, tables_of  # tests/same_tables.py

pytestmark = pytest.mark.slow  # a real run, fuzzing or the browser: deselect with -m "not slow"

SCENARIO = toy_scenario(
    name="killme", seed=3, duration_s=600, step_s=2, chunk_steps=3,
    second_terminal='{name = "Odesa", lat_deg = 46.48, lon_deg = 30.73}',
)

KILL_POINTS_PER_SEQUENCE = 7
SEQUENCES = 3  # 21 kill points in all


def _leonet(*args):
    return [sys.executable, "-m", "leonet.cli", "--quiet", *args]


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("kill") / "killme.toml"
    path.write_text(textwrap.dedent(SCENARIO))
    return path


@pytest.fixture(scope="module")
def reference(scenario_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "run"
    run_scenario(load_scenario(scenario_file), out)
    return tables_of(out)


def _chunks_done(out) -> int:
    try:
        return len(json.loads((out / "manifest.json").read_text())["chunks"])
    except (OSError, ValueError, KeyError):
        return 0  # not written yet (the manifest is replaced atomically, never half-written)


def _kill_when(cmd, out, chunks: int, jitter_s: float) -> bool:
    """Start ``cmd``; SIGKILL it ``jitter_s`` after the manifest lists ``chunks`` chunks.

    Waiting on progress rather than on the clock makes every kill land mid-run
    however fast or loaded the machine is; the jitter lands kills inside the
    writing of a chunk as well as between chunks.
    """
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while proc.poll() is None and _chunks_done(out) < chunks and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(jitter_s)
    if proc.poll() is not None:
        return False
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return True


TOTAL_CHUNKS = 100  # 300 steps of 2 s in chunks of 3


@pytest.mark.parametrize("sequence", range(SEQUENCES))
def test_killed_runs_resume_to_identicaltables_of(scenario_file, reference, tmp_path, sequence):
    rng = random.Random(1000 + sequence)
    out = tmp_path / "run"
    # Kill points: one during start-up (0 chunks), the rest at random progress.
    targets = [0] + sorted(rng.sample(range(1, TOTAL_CHUNKS - 10), KILL_POINTS_PER_SEQUENCE - 1))
    kills = 0
    cmd = _leonet("run", str(scenario_file), "--out", str(out), "--no-report")
    for target in targets:
        kills += _kill_when(cmd, out, target, rng.uniform(0.0, 0.05))
        if (out / "manifest.json").exists():
            cmd = _leonet("run", "--resume", str(out), "--no-report")
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert kills == KILL_POINTS_PER_SEQUENCE
    assert_same_bits(reference, tables_of(out), f"sequence {sequence}")
    counts = os.environ.get("LEONET_KILL_COUNTS")
    if counts:
        with open(counts, "a") as f:
            f.write(f"{kills}\n")


def test_a_run_killed_before_its_first_chunk_is_not_mistaken_for_results(scenario_file, tmp_path, capsys):
    out = tmp_path / "run"
    proc = subprocess.Popen(_leonet("run", str(scenario_file), "--out", str(out), "--no-report"))
    # Kill as soon as the manifest exists, before any chunk is recorded.
    deadline = time.monotonic() + 60
    while not (out / "manifest.json").exists() and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    manifest = json.loads((out / "manifest.json").read_text())
    if manifest["chunks"]:
        pytest.skip("the run finished a chunk within the polling interval; nothing to check this time")
    with pytest.raises(RunDirectoryError, match="has not finished any chunk"):
        query(out, "SELECT count(*) FROM terminal_steps")
    with pytest.raises(SystemExit) as info:
        main(["query", str(out), "SELECT count(*) FROM terminal_steps"])
    assert info.value.code == 2
    assert "--resume" in capsys.readouterr().err


def _started(out) -> str:
    try:
        return json.loads((out / "manifest.json").read_text())["started_utc"]
    except (OSError, ValueError, KeyError):
        return ""


def test_kills_while_replacing_a_run_never_leave_a_mixed_directory(scenario_file, reference, tmp_path):
    """Issue 10: kill points inside the lock and the table swap of a --force re-run over a complete run.

    Each kill lands 0-30 ms after the new run replaced the manifest (taking the
    lock and removing the old tables whole) or during its start-up.  After
    every kill the directory lists only files that verify, it never claims to
    be complete, and once resumed it holds exactly the reference tables, with
    no chunk file of another run left for a folder reader (pandas) to pick up.
    """
    import pyarrow.parquet as pq

    from leonet.results.store import listed_files

    rng = random.Random(2024)
    out = tmp_path / "run"
    subprocess.run(_leonet("run", str(scenario_file), "--out", str(out), "--no-report"), check=True, timeout=600)
    kills = 0
    for k in range(3 * KILL_POINTS_PER_SEQUENCE):
        if kills == KILL_POINTS_PER_SEQUENCE:
            break
        before = _started(out)
        proc = subprocess.Popen(_leonet("run", str(scenario_file), "--out", str(out), "--no-report", "--force"),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        # Half the kills wait for the new manifest (then jitter lands them in the swap); half come during start-up.
        if k % 2 == 0:
            while proc.poll() is None and _started(out) == before and time.monotonic() < deadline:
                time.sleep(0.001)
        time.sleep(rng.uniform(0.0, 0.03))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
        manifest = json.loads((out / "manifest.json").read_text())
        listed_files(out)  # every listed file verifies: no mixture of two runs
        if _started(out) != before:
            assert manifest["status"] != "complete" or manifest["chunks"], "a replaced run claims to be complete"
    assert kills == KILL_POINTS_PER_SEQUENCE
    status = json.loads((out / "manifest.json").read_text())["status"]
    cmd = _leonet("run", "--resume", str(out), "--no-report") if status != "complete" else None
    if cmd:
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
    assert_same_bits(reference, tables_of(out), "replace + kills")
    rows = pq.read_table(out / "terminal_steps").num_rows
    assert rows == reference["terminal_steps"].num_rows
