"""Compare two runs table by table, bit for bit (chunking, executors, bounded searches, kill/resume).

`tables_of` reads every per-step table a run has, in a fixed row order;
`assert_same_bits` compares them column by column, floats by their bits
(so NaN equals NaN and -0.0 differs from 0.0).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from leonet.results.query import query, run_tables

#: Per-step tables and the columns that order their rows.
KEYS = {
    "terminal_steps": "t_ns, terminal",
    "handovers": "t_ns, terminal",
    "link_drops": "t_ns",
    "sat_positions": "t_ns, sat",
    "cell_load": "t_ns, cell",
    "gateway_load": "t_ns, gateway",
    "pings": "t_ns, terminal",
    "terminal_positions": "t_ns, terminal",
    "service_events": "t_ns, terminal",
}


def tables_of(run_dir) -> dict[str, pa.Table]:
    """Every table of `KEYS` the run has, rows in key order."""
    names = set(run_tables(run_dir))
    return {name: query(run_dir, f"SELECT * FROM {name} ORDER BY {key}") for name, key in KEYS.items() if name in names}


def assert_same_bits(a: dict, b: dict, label: str = "") -> None:
    """The same tables, schemas, row counts and values, bit for bit."""
    assert a.keys() == b.keys(), label
    for name in a:
        ta, tb = a[name], b[name]
        assert ta.schema == tb.schema, (label, name)
        assert ta.num_rows == tb.num_rows, (label, name)
        for col in ta.column_names:
            x = ta.column(col).to_numpy(zero_copy_only=False)
            y = tb.column(col).to_numpy(zero_copy_only=False)
            if x.dtype.kind == "f":
                x, y = x.view(np.int64), y.view(np.int64)
            assert np.array_equal(x, y), (label, name, col)
