"""Names on the ground: the package's shipped data files, and matching place names as people write them.

Both the site loaders (`leonet.ground.sites`) and the regions
(`leonet.ground.regions`) look up shipped files and match user-written names
against the data; this module is what they share, so neither imports the other
for it.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable
from importlib.resources import files
from pathlib import Path

from ..errors import ScenarioError

__all__ = ["data_path", "fold_name", "suggest"]


def data_path(*parts: str) -> Path:
    """Path of a file shipped in ``leonet/data``.

    Parameters
    ----------
    *parts : str
        Sub-folder(s) and file name, e.g. ``("cities", "geonames_cities15000.csv")``.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ScenarioError
        If no such shipped file exists; the message lists what is shipped there.

    Examples
    --------
    >>> data_path("gateways", "starlink_pops_starperf_2024-01.csv").name
    'starlink_pops_starperf_2024-01.csv'
    """
    resource = files("leonet").joinpath("data", *parts)
    path = Path(str(resource))
    if not path.exists():
        parent = path.parent
        shipped = sorted(p.name for p in parent.iterdir()) if parent.is_dir() else []
        raise ScenarioError(
            f"no shipped data file {'/'.join(parts)!r} in {parent}; "
            f"shipped there: {', '.join(shipped) or '(nothing)'}. See leonet/data/SOURCES.md."
        )
    return path


def fold_name(name: str) -> str:
    """Case- and accent-insensitive form of a place name, for matching.

    ``"Bila-Tserkva"``, ``"bila tserkva"`` and ``"Bíla Tsérkva"`` all fold to
    ``"bila tserkva"``; apostrophes are dropped.

    >>> fold_name("Bíla-Tsérkva")
    'bila tserkva'
    """
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    for ch in "'’ʼ`\"":
        text = text.replace(ch, "")
    for ch in "-_()/.,":
        text = text.replace(ch, " ")
    return " ".join(text.split())


def suggest(wanted: str, choices: Iterable[str], n: int = 5) -> list[str]:
    """Up to ``n`` of ``choices`` close to ``wanted`` (compared folded), for "did you mean" hints.

    >>> suggest("kiev", ["Kyiv", "Kharkiv", "Lviv"])
    ['Kyiv']
    """
    by_fold: dict[str, str] = {}
    for c in choices:
        by_fold.setdefault(fold_name(c), c)
    hits = difflib.get_close_matches(fold_name(wanted), list(by_fold), n=n, cutoff=0.6)
    return [by_fold[h] for h in hits]
