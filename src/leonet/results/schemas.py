"""The tables a run writes: their Arrow schemas, and the one place units change.

Inside leonet every quantity is in its internal unit (s, bit/s, km); the
tables people read hold milliseconds and Mbit/s, as the column names say
(``rtt_ms``, ``throughput_mbps``).  The conversion happens here and nowhere
else: the engine hands over per-step arrays in internal units and these
functions build the Arrow tables.  docs/results.md documents every column,
and a test checks every table a run writes against that page.

Per-chunk tables (one Parquet file per chunk, ``RUN/<table>/chunk-*.parquet``):

``terminal_steps``  one row per (step, terminal): serving satellite, route, latency parts, reason, rates
``handovers``       every change of a terminal's serving satellite
``link_drops``      per step: lasers unusable and in use, gateway feeder links
``cell_load``       per step and service cell (with ``[capacity]``)
``gateway_load``    per step and gateway (with ``[capacity]``)
``sat_positions``   every satellite every `POSITIONS_EVERY_S` seconds
``terminal_positions``  every moving terminal every step (runs with tracks or routes)

Single-file tables: ``pings`` (the ``[[probes]]``' ping series, computed
after the steps: `leonet.engine.probes`), ``service_events`` (every
cut-off and restoration, from the written steps: `leonet.engine.events`),
and the time-independent ``satellites``, ``terminals``, ``gateways``,
``pops``, ``cost_ledger``.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from ..scheduling.assign import REASON_NAMES

__all__ = [
    "TERMINAL_STEPS_SCHEMA",
    "HANDOVERS_SCHEMA",
    "LINK_DROPS_SCHEMA",
    "CELL_LOAD_SCHEMA",
    "GATEWAY_LOAD_SCHEMA",
    "SAT_POSITIONS_SCHEMA",
    "PINGS_SCHEMA",
    "TERMINAL_POSITIONS_SCHEMA",
    "SERVICE_EVENTS_SCHEMA",
    "POSITION_STATUS_NAMES",
    "EVENT_NAMES",
    "POSITIONS_EVERY_S",
    "MS_PER_S",
    "BPS_PER_MBPS",
    "terminal_steps_table",
    "terminal_positions_table",
    "rows_table",
    "reason_array",
    "names_array",
]

#: Seconds -> milliseconds, bit/s -> Mbit/s: the only unit changes of the tables.
MS_PER_S = 1e3
BPS_PER_MBPS = 1e6

#: m/s -> km/h (speeds of moving terminals in the tables).
KMH_PER_MPS = 3.6

#: Satellite positions are kept for maps at this interval (s), not every step.
POSITIONS_EVERY_S = 60

#: ``terminal_positions.status``, by `leonet.ground.motion` status code (0 positioned, 1 inactive, 2 no position).
POSITION_STATUS_NAMES = ("ok", "inactive", "no-position")
#: ``service_events.event``: 0 a cut-off (served -> not served), 1 a restoration.
EVENT_NAMES = ("cut-off", "restored")

REASON_TYPE = pa.dictionary(pa.int8(), pa.string())

TERMINAL_STEPS_SCHEMA = pa.schema(
    [
        ("t_ns", pa.int64()),
        ("terminal", pa.int32()),
        ("sat", pa.int32()),
        ("gateway", pa.int32()),
        ("pop", pa.int32()),
        ("isl_hops", pa.int16()),
        ("rtt_ms", pa.float64()),
        ("propagation_rtt_ms", pa.float64()),
        ("uplink_ms", pa.float64()),
        ("isl_ms", pa.float64()),
        ("feeder_ms", pa.float64()),
        ("backhaul_ms", pa.float64()),
        ("access_ms", pa.float64()),
        ("processing_ms", pa.float64()),
        ("queueing_ms", pa.float64()),
        ("reconfiguration_ms", pa.float64()),
        ("loss_prob", pa.float64()),
        ("served", pa.bool_()),
        ("reason", REASON_TYPE),
        ("demand_mbps", pa.float64()),
        ("throughput_mbps", pa.float64()),
        ("speedtest_down_mbps", pa.float64()),
        ("speedtest_up_mbps", pa.float64()),
        ("cell_utilisation", pa.float64()),
    ]
)
HANDOVERS_SCHEMA = pa.schema(
    [("t_ns", pa.int64()), ("terminal", pa.int32()), ("from_sat", pa.int32()), ("to_sat", pa.int32())]
)
LINK_DROPS_SCHEMA = pa.schema(
    [("t_ns", pa.int64()), ("isl_dropped", pa.int32()), ("isl_active", pa.int32()), ("gateway_links", pa.int32())]
)
CELL_LOAD_SCHEMA = pa.schema(
    [
        ("t_ns", pa.int64()),
        ("cell", pa.string()),
        ("terminals", pa.int32()),
        ("demand_mbps", pa.float64()),
        ("used_mbps", pa.float64()),
        ("capacity_mbps", pa.float64()),
        ("utilisation", pa.float64()),
    ]
)
GATEWAY_LOAD_SCHEMA = pa.schema(
    [
        ("t_ns", pa.int64()),
        ("gateway", pa.int32()),
        ("used_mbps", pa.float64()),
        ("capacity_mbps", pa.float64()),
        ("utilisation", pa.float64()),
    ]
)
PINGS_SCHEMA = pa.schema(
    [("t_ns", pa.int64()), ("terminal", pa.int32()), ("rtt_ms", pa.float64()), ("lost", pa.bool_())]
)
TERMINAL_POSITIONS_SCHEMA = pa.schema(
    [
        ("t_ns", pa.int64()),
        ("terminal", pa.int32()),
        ("lat_deg", pa.float64()),
        ("lon_deg", pa.float64()),
        ("altitude_km", pa.float64()),
        ("speed_kmh", pa.float64()),
        ("status", pa.dictionary(pa.int8(), pa.string())),
    ]
)
SERVICE_EVENTS_SCHEMA = pa.schema(
    [
        ("t_ns", pa.int64()),
        ("terminal", pa.int32()),
        ("event", pa.dictionary(pa.int8(), pa.string())),
        ("reason", REASON_TYPE),
        ("lat_deg", pa.float64()),
        ("lon_deg", pa.float64()),
    ]
)
SAT_POSITIONS_SCHEMA = pa.schema(
    [
        ("t_ns", pa.int64()),
        ("sat", pa.int32()),
        ("lat_deg", pa.float64()),
        ("lon_deg", pa.float64()),
        ("altitude_km", pa.float64()),
        ("x_km", pa.float64()),
        ("y_km", pa.float64()),
        ("z_km", pa.float64()),
    ]
)


def reason_array(codes: NDArray[np.int8]) -> pa.DictionaryArray:
    """Reason codes (`leonet.scheduling.assign.Reason`) as a dictionary column of their names."""
    return pa.DictionaryArray.from_arrays(pa.array(np.ravel(codes), pa.int8()), pa.array(REASON_NAMES, pa.string()))


def names_array(codes: NDArray[np.int8], names: tuple[str, ...]) -> pa.DictionaryArray:
    """int8 codes as a dictionary column of their ``names``."""
    return pa.DictionaryArray.from_arrays(pa.array(np.ravel(codes), pa.int8()), pa.array(names, pa.string()))


def terminal_positions_table(state) -> pa.Table:
    """The ``terminal_positions`` rows of a chunk: every moving terminal at every step, time-major.

    Parameters
    ----------
    state : leonet.ground.motion.MotionState
        ``[T, M]`` positions (degrees, km), ground speed (m/s, becomes km/h
        here) and status codes of the M moving terminals.
    """
    t, m = state.status.shape
    return pa.Table.from_arrays(
        [
            pa.array(np.repeat(state.offset_ns, m), pa.int64()),
            pa.array(np.tile(np.asarray(state.terminals, dtype=np.int32), t), pa.int32()),
            pa.array(state.lat_deg.ravel(), pa.float64()),
            pa.array(state.lon_deg.ravel(), pa.float64()),
            pa.array(state.altitude_km.ravel(), pa.float64()),
            pa.array(KMH_PER_MPS * state.speed_mps.ravel(), pa.float64()),
            names_array(state.status, POSITION_STATUS_NAMES),
        ],
        schema=TERMINAL_POSITIONS_SCHEMA,
    )


def terminal_steps_table(offsets_ns: NDArray[np.int64], terminal: NDArray[np.int64], cols: dict) -> pa.Table:
    """The ``terminal_steps`` rows of T steps x G terminals, time-major.

    Parameters
    ----------
    offsets_ns : int64[T]
        Step offsets from the run's epoch, ns.
    terminal : int[G]
        Terminal indices.
    cols : dict of str to array [T, G]
        In internal units: ``sat``, ``gateway``, ``pop`` (int32, -1 none),
        ``isl_hops`` (int16), ``uplink_s``, ``isl_s``, ``feeder_s``,
        ``backhaul_s`` (one way, s), ``rtt_s`` (the modelled round trip),
        ``access_s``, ``processing_s``, ``queueing_s``,
        ``reconfiguration_s`` (round trip, s), ``loss_probability``,
        ``reason`` (int8 codes), ``demand_bps``, ``throughput_bps``,
        ``speedtest_down_bps``, ``speedtest_up_bps`` (bit/s),
        ``utilisation`` (fraction).  Latency parts of steps that are not
        served are dropped (NaN); ``propagation_rtt_ms`` is twice the sum
        of the one-way parts.
    """
    t, g = len(offsets_ns), len(terminal)
    served = cols["reason"] == 0
    parts = {}
    for name in ("uplink_s", "isl_s", "feeder_s", "backhaul_s", "rtt_s", "access_s", "processing_s", "queueing_s",
                 "reconfiguration_s", "loss_probability"):
        parts[name] = np.where(served, cols[name], np.nan)  # latency only for served terminal-steps
    propagation_rtt_s = 2.0 * (parts["uplink_s"] + parts["isl_s"] + parts["feeder_s"] + parts["backhaul_s"])

    def ms(a):
        return pa.array((MS_PER_S * a).ravel(), pa.float64())

    def mbps(a):
        return pa.array((a / BPS_PER_MBPS).ravel(), pa.float64())

    return pa.Table.from_arrays(
        [
            pa.array(np.repeat(offsets_ns, g), pa.int64()),
            pa.array(np.tile(np.asarray(terminal, dtype=np.int32), t), pa.int32()),
            pa.array(cols["sat"].ravel(), pa.int32()),
            pa.array(cols["gateway"].ravel(), pa.int32()),
            pa.array(cols["pop"].ravel(), pa.int32()),
            pa.array(cols["isl_hops"].ravel(), pa.int16()),
            ms(parts["rtt_s"]),
            ms(propagation_rtt_s),
            ms(parts["uplink_s"]),
            ms(parts["isl_s"]),
            ms(parts["feeder_s"]),
            ms(parts["backhaul_s"]),
            ms(parts["access_s"]),
            ms(parts["processing_s"]),
            ms(parts["queueing_s"]),
            ms(parts["reconfiguration_s"]),
            pa.array(parts["loss_probability"].ravel(), pa.float64()),
            pa.array(served.ravel(), pa.bool_()),
            reason_array(cols["reason"]),
            mbps(cols["demand_bps"]),
            mbps(cols["throughput_bps"]),
            mbps(cols["speedtest_down_bps"]),
            mbps(cols["speedtest_up_bps"]),
            pa.array(cols["utilisation"].ravel(), pa.float64()),
        ],
        schema=TERMINAL_STEPS_SCHEMA,
    )


def rows_table(parts: list[dict], schema: pa.Schema) -> pa.Table:
    """One table from per-step dicts of column arrays in internal units.

    A column ``<x>_mbps`` of the schema is taken from the dicts' ``<x>_bps``
    (bit/s) and ``<x>_ms`` from ``<x>_s`` (s), converted; every other column
    is taken as it is.
    """
    if not parts:
        return schema.empty_table()

    def column(field: pa.Field) -> pa.Array:
        if field.name.endswith("_mbps") and field.name not in parts[0]:
            bps = np.concatenate([p[field.name[: -len("_mbps")] + "_bps"] for p in parts])
            return pa.array(bps / BPS_PER_MBPS, field.type)
        if field.name.endswith("_ms") and field.name not in parts[0]:
            sec = np.concatenate([p[field.name[: -len("_ms")] + "_s"] for p in parts])
            return pa.array(sec * MS_PER_S, field.type)
        return pa.array(np.concatenate([p[field.name] for p in parts]), field.type)

    return pa.Table.from_arrays([column(f) for f in schema], schema=schema)
