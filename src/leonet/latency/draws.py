"""Keyed random draws of the latency model: the same numbers whatever the chunking.

The representation
------------------
Every random number of the latency model is a pure function of
``(seed, what, time or index, terminal)``.  The generator is
**Philox-4x64-10** (Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as
easy as 1, 2, 3", SC 2011) as ``numpy.random.Philox`` implements it -- the
same generator and the same way of using it as `leonet.service.faults`: the
key is ``(seed, domain)``, the counter is *set* (never advanced draw by draw
across calls), and only the raw 64-bit words are used (their bit stream is
stable across numpy versions), turned into doubles in ``[0, 1)`` with their
top 53 bits.

One Philox block (one counter value) gives four words; every draw here takes
one whole block, i.e. four uniforms ``u[..., 0:4]``:

`uniform4_by_terminal`
    counter ``(0, word, stream, 0)`` with ``word`` a time (ns since the Unix
    epoch) or a slot index, block ``g`` = terminal ``g``.  One generator per
    distinct ``word`` gives the draws of every terminal at once; used for the
    per-step draws (``word`` = the step's absolute time) and the per-slot
    draws (``word`` = the absolute slot index).
`uniform4_by_index`
    counter ``(0, terminal, stream, 0)``, block ``k`` = probe ``k`` of that
    terminal; used by the ping probes (one generator per call, advanced to
    the first probe asked for).

The domains keep these streams apart from each other and from the fault
draws, whose key's second word is a small fault index.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["uniform4_by_terminal", "uniform4_by_index", "DOMAIN_TIME", "DOMAIN_PROBE"]

#: Second key word of the draws keyed by time or slot ("leonetLT" in ASCII).
DOMAIN_TIME = 0x6C656F6E65744C54
#: Second key word of the ping-probe draws ("leonetLP").
DOMAIN_PROBE = 0x6C656F6E65744C50

_MASK = (1 << 64) - 1
#: Below one requested terminal per this many blocks, draw terminal by terminal
#: (a generator costs about as much as 400 blocks).
_SPARSE_FACTOR = 400
_TWO_POW_M53 = 1.0 / 9007199254740992.0


def _to_unit(raw: NDArray[np.uint64]) -> NDArray[np.float64]:
    return np.asarray(raw >> np.uint64(11), dtype=np.float64) * _TWO_POW_M53


def _philox(seed: int, domain: int, counter: tuple[int, int, int, int]) -> np.random.Philox:
    return np.random.Philox(
        key=np.array([int(seed) & _MASK, int(domain) & _MASK], dtype=np.uint64),
        counter=np.array([c & _MASK for c in counter], dtype=np.uint64),
    )


def uniform4_by_terminal(seed: int, word: ArrayLike, stream: int, terminal: ArrayLike) -> NDArray[np.float64]:
    """Four uniforms in [0, 1) for each (word, terminal) pair: float64[N, 4].

    Parameters
    ----------
    seed : int
        The scenario seed.
    word : int64[N] or int
        Second counter word of each draw: an absolute time in ns (per-step
        draws) or an absolute slot index (per-slot draws).
    stream : int
        Third counter word: which kind of draw (`leonet.latency.model` names them).
    terminal : int[N]
        Terminal index (>= 0): the block of the word's stream.

    Returns
    -------
    float64[N, 4]
        Draw ``i`` depends only on ``(seed, word[i], stream, terminal[i])``.

    Notes
    -----
    One ``numpy.random.Philox`` per distinct word, advanced to the smallest
    terminal asked for and drawn up to the largest (or one per terminal
    when few terminals are spread over a wide range): cheap for the per-step
    and per-slot use (few distinct words, all terminals of a step at once).
    """
    term = np.asarray(terminal, dtype=np.int64).ravel()
    words = np.broadcast_to(np.asarray(word, dtype=np.int64), term.shape).ravel()
    out = np.empty((term.size, 4), dtype=np.float64)
    if term.size == 0:
        return out
    if term.min() < 0:
        raise ValueError(f"terminal indices must be >= 0, got {int(term.min())}")
    uniq, inverse = np.unique(words, return_inverse=True)
    for j, w in enumerate(uniq):
        rows = np.flatnonzero(inverse == j)
        wanted = term[rows]
        lo, hi = int(wanted.min()), int(wanted.max())
        if rows.size * _SPARSE_FACTOR < hi - lo + 1:
            # A few terminals spread over a wide range: one generator each, advanced to its block.
            for r, g in zip(rows, wanted):
                bits = _philox(seed, DOMAIN_TIME, (0, int(w), int(stream), 0))
                bits.advance(int(g))
                out[r] = _to_unit(bits.random_raw(4))
            continue
        bits = _philox(seed, DOMAIN_TIME, (0, int(w), int(stream), 0))
        bits.advance(lo)
        block = _to_unit(bits.random_raw(4 * (hi - lo + 1))).reshape(-1, 4)
        out[rows] = block[wanted - lo]
    return out


def uniform4_by_index(seed: int, terminal: int, stream: int, index: ArrayLike) -> NDArray[np.float64]:
    """Four uniforms in [0, 1) for each probe index of one terminal: float64[K, 4].

    Parameters
    ----------
    seed : int
    terminal : int
        Terminal index (>= 0): the second counter word.
    stream : int
        Third counter word.
    index : int64[K]
        Probe indices (>= 0), any order: block ``index[k]`` of the stream.

    Returns
    -------
    float64[K, 4]
        Row ``k`` depends only on ``(seed, terminal, stream, index[k])``.
    """
    idx = np.asarray(index, dtype=np.int64).ravel()
    out = np.empty((idx.size, 4), dtype=np.float64)
    if idx.size == 0:
        return out
    if idx.min() < 0 or int(terminal) < 0:
        raise ValueError("probe indices and the terminal must be >= 0")
    lo, hi = int(idx.min()), int(idx.max())
    bits = _philox(seed, DOMAIN_PROBE, (0, int(terminal), int(stream), 0))
    bits.advance(lo)  # one block per probe: skip to the first one asked for
    block = _to_unit(bits.random_raw(4 * (hi - lo + 1))).reshape(-1, 4)
    out[:] = block[idx - lo]
    return out
