"""Service areas of the report: the scenario's policy rules as map outlines, dated ones shape by shape.

A rule's region is read as the run read it (`leonet.service.policy.rule_shapes`,
relative files from the scenario's folder recorded in the manifest), so a
geofence that follows a moving line of control (a dated list of shapes, or
a GeoJSON whose features carry ``valid_from``/``valid_until``) is drawn as
the shape in force at each time, its switches delayed by the rule's
``lag_s`` exactly as the policy engine applies them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from ..errors import LeonetError
from . import geo

__all__ = ["resolver", "region_lines", "rule_area", "shape_at"]

_NS = 1_000_000_000


def resolver(manifest: dict):
    """Resolves a relative file of the scenario: from ``scenario_base_dir``, else the scenario file's folder; or None."""
    base = manifest.get("scenario_base_dir")
    if not base:
        source = str(manifest.get("scenario_source", ""))
        base = str(Path(source).parent) if source and not source.startswith("<") else None
    if not base:
        return None
    return lambda p: Path(p).expanduser() if Path(p).expanduser().is_absolute() else Path(base) / p


def region_lines(manifest: dict, spec, view: geo.View) -> tuple[geo.Lines | None, str]:
    """Outline of a region spec of the scenario (clipped to the view), or None and why not."""
    from ..ground.regions import load_region
    from ..scenario.sources import region_is_file

    if spec is None:
        return None, "everywhere"
    arg = str(spec)
    resolve = resolver(manifest)
    if resolve is not None and region_is_file(arg):
        arg = str(resolve(arg))
    try:
        region = load_region(arg)
    except (LeonetError, OSError) as exc:
        return None, f"region not drawn: {exc}"
    return geo.region_outline(region.geometry, view), ""


def _offset_ns(when: dt.datetime | None, epoch: dt.datetime, lag_ns: int, default: int) -> int:
    if when is None:
        return default
    return (when - epoch) // dt.timedelta(microseconds=1) * 1000 + lag_ns


def rule_area(manifest: dict, rule: dict, k: int, view: geo.View, epoch: dt.datetime) -> dict:
    """A policy rule for the report: its table row, its outline and, for a dated region, its shapes.

    Returns
    -------
    dict
        ``name``, ``action``, ``region`` (as written), ``from``, ``until``,
        ``fleets``, ``lag_s``, ``note``; ``lines`` (the outline of a plain
        region, None for a dated one or when it cannot be drawn) and
        ``shapes``: for a dated region, one dict per shape with ``lines``,
        ``start_ns`` and ``end_ns`` (the window in force, ns from the run's
        epoch, lag included; open ends are the int64 limits) and ``label``.
    """
    from ..scenario.service import PolicySpec
    from ..service.policy import rule_shapes

    spec = rule.get("region")
    lag_s = float(rule.get("lag_s") or 0.0)
    out = {
        "name": str(rule.get("name") or f"policy {k + 1}"),
        "action": str(rule.get("action", "")),
        "region": "" if spec is None else (str(spec) if isinstance(spec, str) else f"{len(spec)} dated shapes"),
        "from": rule.get("from"),
        "until": rule.get("until"),
        "fleets": rule.get("fleets"),
        "lag_s": lag_s,
        "lines": None,
        "shapes": [],
        "note": "everywhere" if spec is None else "",
    }
    if spec is None:
        return out
    try:
        shapes = rule_shapes(PolicySpec.model_validate(rule), f"policies[{k}]", resolver(manifest))
    except (LeonetError, OSError, ValueError) as exc:
        out["note"] = f"region not drawn: {exc}"
        return out
    if len(shapes) == 1 and shapes[0].start is None and shapes[0].end is None:
        out["lines"] = geo.region_outline(shapes[0].region.geometry, view)
        return out
    lag_ns = int(round(lag_s * _NS))
    lo, hi = np.iinfo(np.int64).min, np.iinfo(np.int64).max
    for s in shapes:
        out["shapes"].append({
            "lines": geo.region_outline(s.region.geometry, view),
            "start_ns": _offset_ns(s.start, epoch, lag_ns, lo),
            "end_ns": _offset_ns(s.end, epoch, lag_ns, hi),
            "label": f"{_utc(s.start, lag_s) or 'start'} → {_utc(s.end, lag_s) or 'end'}",
        })
    out["note"] = f"{len(shapes)} dated shapes" + (f", each switch {lag_s:g} s late (lag_s)" if lag_s else "")
    return out


def _utc(when: dt.datetime | None, lag_s: float) -> str:
    if when is None:
        return ""
    return f"{when + dt.timedelta(seconds=lag_s):%Y-%m-%d %H:%M:%S} UTC"


def shape_at(shapes: list[dict], t_ns: int) -> int:
    """Index of the shape in force at ``t_ns`` (ns from the epoch), or -1 (the rule is not in force then)."""
    for k, s in enumerate(shapes):
        if s["start_ns"] <= t_ns < s["end_ns"]:
            return k
    return -1
