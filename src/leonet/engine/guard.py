"""Resource guard: estimate a run's memory and time before starting it.

The estimate is deliberately simple and errs high: per chunk, the satellite
states (``[T, S, 3]`` float64, with the copies propagation and the frame
rotation make), the terminal-step columns (``[T, G]``, ~14 numbers each,
held as numpy, Arrow and a Parquet buffer) and the per-step visibility pairs;
per process, the constellation and ground segment.  Each worker process
holds its own chunk.  The per-unit costs below were measured on the
2-core reference machine (docs/benchmarks.md) and are rounded up.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..errors import ScenarioError

__all__ = ["ResourceEstimate", "estimate_resources", "available_memory_bytes", "check_resources"]

#: Bytes per satellite-step held while a chunk is processed.
BYTES_PER_SAT_STEP = 3 * 8 * 6
#: Bytes per terminal-step (columns in numpy, Arrow and Parquet buffers).
BYTES_PER_TERMINAL_STEP = 14 * 8 * 3
#: Bytes per satellite and per terminal held for the whole run (SGP4 records, sites, trees).
BYTES_PER_SATELLITE = 4_000
BYTES_PER_TERMINAL = 2_000
#: Visible pairs per terminal at one step (~70 satellites above 25 deg for Starlink), bytes each.
PAIRS_PER_TERMINAL = 80
BYTES_PER_PAIR = 40
#: Fixed cost of a process (Python, numpy, scipy, pyarrow, duckdb, the shipped data).
BYTES_PER_PROCESS = 400e6
#: Seconds per satellite-step (SGP4 at nodes + interpolation + rotation) and per
#: terminal-step and per satellite per step of the network model (measured, rounded up).
S_PER_SAT_STEP = 0.4e-6
S_PER_TERMINAL_STEP = 20e-6
S_PER_SAT_NETWORK_STEP = 2e-6


@dataclass(frozen=True)
class ResourceEstimate:
    peak_memory_bytes: float
    seconds: float
    per_chunk_bytes: float

    def text(self) -> str:
        return f"~{self.peak_memory_bytes / 1e9:.2f} GB peak memory, ~{_duration(self.seconds)} on one core"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def estimate_resources(satellites: int, terminals: int, steps: int, chunk_steps: int, processes: int = 1) -> ResourceEstimate:
    """Estimated peak memory (bytes) and single-core time (s) of a run."""
    t = min(chunk_steps, steps)
    per_chunk = (
        t * satellites * BYTES_PER_SAT_STEP
        + t * terminals * BYTES_PER_TERMINAL_STEP
        + terminals * PAIRS_PER_TERMINAL * BYTES_PER_PAIR
    )
    per_process = BYTES_PER_PROCESS + satellites * BYTES_PER_SATELLITE + terminals * BYTES_PER_TERMINAL + per_chunk
    # The main process also holds one finished chunk's tables while writing.
    peak = per_process * max(processes, 1) + (per_chunk if processes > 1 else 0)
    network = steps * (terminals * S_PER_TERMINAL_STEP + satellites * S_PER_SAT_NETWORK_STEP) if terminals else 0.0
    seconds = steps * satellites * S_PER_SAT_STEP + network
    return ResourceEstimate(peak, seconds, per_chunk)


def available_memory_bytes() -> float:
    """Memory available to new allocations (``MemAvailable``), or physical memory."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return float("inf")


def check_resources(estimate: ResourceEstimate, *, chunk_steps: int, available: float | None = None, override: bool = False) -> None:
    """Refuse (ScenarioError) when the estimate exceeds 80% of the available memory."""
    available = available_memory_bytes() if available is None else available
    limit = 0.8 * available
    if estimate.peak_memory_bytes <= limit or override:
        return
    per_step = estimate.per_chunk_bytes / max(chunk_steps, 1)
    fits = int(max(1, (limit - (estimate.peak_memory_bytes - estimate.per_chunk_bytes)) // max(per_step, 1)))
    hint = (
        f"lower output.chunk_steps (or chunk_steps=) to {fits} or less"
        if fits >= 1 and fits < chunk_steps
        else "use fewer terminals, satellites or workers"
    )
    raise ScenarioError(
        f"this run needs an estimated {estimate.peak_memory_bytes / 1e9:.1f} GB of memory but only "
        f"{available / 1e9:.1f} GB is available (the guard allows 80%); {hint}, "
        "or pass ignore_memory_guard=True to run anyway"
    )
