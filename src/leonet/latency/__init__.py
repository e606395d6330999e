"""Latency model: from propagation delay to the RTT a real dish measures.

`params` holds the few global constants (with their sources), `model` the
per-terminal-step mechanisms (`step_latency`), `probes` the ping series at
sub-step resolution (`ping_probes`), `draws` the keyed random numbers they
share.
"""

from .model import LatencyParts, step_latency
from .params import ERAS, LatencyParams, era_of, params_for_era
from .probes import Pings, ping_probes, probe_times

__all__ = [
    "LatencyParams",
    "ERAS",
    "era_of",
    "params_for_era",
    "LatencyParts",
    "step_latency",
    "Pings",
    "ping_probes",
    "probe_times",
]
