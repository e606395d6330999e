"""Results are identical, bit for bit, whatever the chunking or executor (issue 6)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from leonet.engine.run import run_scenario
from leonet.scenario.load import load_scenario

from same_tables import assert_same_bits, tables_of  # tests/same_tables.py
from test_run import short  # noqa: E402  (tests/engine is on sys.path: rootdir-relative import)

pytestmark = pytest.mark.slow  # a real run, fuzzing or the browser: deselect with -m "not slow"

@pytest.fixture(scope="module")
def ukraine_small():
    # 13 steps of 5 s: slots of 15 s straddle every chunking below; a 10 Hz
    # probe's pings span every chunk boundary.
    probe = {"terminal": "civilian/city:703448", "interval_ms": 100}
    return short(load_scenario("ukraine", probes=[probe]), 65)


@pytest.fixture(scope="module")
def serial(ukraine_small, tmp_path_factory):
    out = tmp_path_factory.mktemp("serial") / "run"
    run_scenario(ukraine_small, out, chunk_steps=600)
    tables = tables_of(out)
    assert tables["pings"].num_rows == 650  # 65 s at 10 Hz
    return tables


@pytest.mark.parametrize("chunk", [1, 7])
def test_chunk_size_does_not_change_any_value(ukraine_small, serial, tmp_path, chunk):
    run_scenario(ukraine_small, tmp_path / "run", chunk_steps=chunk)
    assert_same_bits(serial, tables_of(tmp_path / "run"), f"chunk {chunk}")


def test_two_local_workers_give_the_sametables_of(ukraine_small, serial, tmp_path):
    run_scenario(ukraine_small, tmp_path / "run", chunk_steps=4, workers=2)
    assert_same_bits(serial, tables_of(tmp_path / "run"), "workers 2")


def test_dask_local_cluster_gives_the_sametables_of(ukraine_small, serial, tmp_path):
    import dask.distributed  # noqa: F401  (a test dependency: never skipped)
    run_scenario(ukraine_small, tmp_path / "run", chunk_steps=5, dask_local=2)
    assert_same_bits(serial, tables_of(tmp_path / "run"), "dask-local 2")


def test_the_serial_run_has_the_story_in_it(serial):
    reasons = set(serial["terminal_steps"].column("reason").cast(pa.string()).to_pylist())
    assert {"served", "policy"} <= reasons  # Crimea is geofenced for the whole window
    # The boat and the advancing unit move in every step of the window.
    assert serial["terminal_positions"].num_rows == 2 * 13
    assert set(serial["terminal_positions"].column("status").cast(pa.string()).to_pylist()) == {"ok"}
    assert "service_events" in serial
