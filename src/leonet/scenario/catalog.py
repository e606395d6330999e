"""The names a scenario may use for built-in constellations, and what each is.

The scenario validates a ``kind = "builtin"`` constellation against this list;
the orbit engine holds their parameters (`leonet.orbits.constellation`:
``BUILTIN_WALKER``, ``BUILTIN_TLE``), and a test keeps the two lists equal.
"""

from __future__ import annotations

import difflib

__all__ = [
    "BUILTIN_CONSTELLATIONS",
    "GATEWAY_CATALOG_NAMES",
    "POP_CATALOG_NAMES",
    "POP_ASSIGNMENT_NAMES",
    "unknown_constellation_message",
]

#: Built-in constellation name -> (kind, description).  ``walker``: shells
#: from filed parameters; ``elements``: a real element-set snapshot shipped
#: in leonet/data/tle.
BUILTIN_CONSTELLATIONS: dict[str, tuple[str, str]] = {
    "starlink-gen1": ("walker", "Starlink Gen1 as authorised in 2021: 4,408 satellites in 5 shells"),
    "starlink-gen2": ("walker", "Starlink Gen2 FCC application: 29,988 satellites in 9 shells"),
    "starlink-550": ("walker", "Hypatia's Starlink shell: 1,584 satellites, 72 x 22 at 550 km / 53 deg"),
    "kuiper": ("walker", "Amazon Kuiper as authorised: 3,236 satellites in 3 shells"),
    "oneweb": ("walker", "OneWeb phase 1: 720 satellites, 18 x 40 at 1,200 km / 87.9 deg"),
    "telesat-1015": ("walker", "Telesat polar shell as in Hypatia: 351 satellites, 27 x 13 at 1,015 km / 98.98 deg"),
    "starlink-tle-2026-05": (
        "elements", "Real Starlink snapshot, CelesTrak GP, 10,395 satellites, epochs 2026-05-28..30"
    ),
    "oneweb-tle-2026-05": ("elements", "Real OneWeb snapshot, CelesTrak GP, 651 satellites, epochs 2026-05-29..30"),
}


#: The shipped gateway and PoP lists (`leonet.ground.sites.GATEWAY_CATALOGS`,
#: ``POP_CATALOGS``; a test keeps them equal), as a `typing.Literal`'s choices.
GATEWAY_CATALOG_NAMES = ("2026-03", "starperf-2024-01")
POP_CATALOG_NAMES = ("2026-10", "starperf-2024-01")
#: ``ground.pops.assignment_snapshot``: "auto" and the shipped assignment snapshots
#: (`leonet.ground.pops.POP_ASSIGNMENT_SNAPSHOTS`; a test keeps them equal).
POP_ASSIGNMENT_NAMES = ("auto", "2025-12", "2026-10")


def unknown_constellation_message(name: str) -> str:
    """The message for a name that is no built-in constellation, with the closest names.

    >>> unknown_constellation_message("telesat")[:74]
    "unknown built-in constellation 'telesat'; did you mean 'telesat-1015'? (kn"
    """
    names = sorted(BUILTIN_CONSTELLATIONS)
    close = difflib.get_close_matches(name, names, n=3)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return f"unknown built-in constellation {name!r}{hint} (known: {', '.join(names)})"
