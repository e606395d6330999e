"""Load a scenario (file or built-in name), validate it, and build its parts.

Validation happens here, once.  A pydantic error becomes one line per
problem: ``FILE: field.path: what is wrong (got VALUE); allowed: ...``.
"""

from __future__ import annotations

import difflib
import tomllib
import warnings
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ValidationError

from ..errors import InputFileError, ScenarioError
from ..orbits.constellation import BUILTIN_TLE, BUILTIN_WALKER, Constellation, walker_constellation
from ..timebase import TimeGrid, utc_to_jd_fr
from ..service.spec import FAULT_KINDS
from .schema import Scenario

__all__ = [
    "LoadedScenario",
    "load_scenario",
    "builtin_scenarios",
    "build_time_grid",
    "build_constellation",
    "StaleElementsWarning",
    "STALE_ELEMENTS_DAYS",
]

#: Element sets are "generally only accurate for a week or two around the
#: epoch" (Skyfield docs); warn beyond this.
STALE_ELEMENTS_DAYS = 14.0


class StaleElementsWarning(UserWarning):
    """The simulated time is far from an element set's epoch."""


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario and where it came from.

    ``base_dir`` resolves relative file paths in the scenario.
    """

    spec: Scenario
    source: str
    base_dir: Path

    def resolve(self, path: str) -> Path:
        p = _expand(path, self.source)
        return p if p.is_absolute() else self.base_dir / p


def _expand(path: str, where: str) -> Path:
    """``Path(path).expanduser()``, with a ScenarioError for ``~user`` of no such user."""
    try:
        return Path(path).expanduser()
    except RuntimeError:  # pathlib: "Could not determine home directory."
        raise ScenarioError(
            f"{where}: {path!r}: no home directory for {path.split('/')[0]!r}; write the full path, without '~'",
            source=where,
        ) from None


def _builtin_dir():
    return resources.files("leonet") / "scenario" / "builtin"


def builtin_scenarios() -> dict[str, str]:
    """Built-in scenario names and their descriptions."""
    out = {}
    for entry in sorted(_builtin_dir().iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            data = tomllib.loads(entry.read_text(encoding="utf-8"))
            out[entry.name[:-5]] = data.get("scenario", {}).get("description", "")
    return out


def _allowed_keys(model: type[BaseModel], loc: tuple) -> list[str]:
    """Field names allowed at ``loc`` (walking the schema), for messages."""
    current = model
    for part in loc[:-1]:
        if isinstance(part, int) or current is None:
            continue
        field = current.model_fields.get(part) if hasattr(current, "model_fields") else None
        if field is None:
            # A discriminated union member name (e.g. 'walker') in the loc.
            continue
        current = _model_of(field.annotation)
    return sorted(current.model_fields) if current is not None and hasattr(current, "model_fields") else []


def _model_of(annotation):
    import typing

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


_UNION_TAGS = ("builtin", "walker", "elements", *FAULT_KINDS)


def _format_loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in _UNION_TAGS and out.endswith("]"):
            continue  # discriminator tag pydantic inserts
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _format_errors(source: str, err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        loc = _format_loc(e["loc"])
        if e["type"] == "extra_forbidden":
            key = str(e["loc"][-1])
            allowed = _allowed_keys(Scenario, e["loc"])
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            lines.append(f"{source}: {loc}: unknown key {key!r}{hint} (allowed here: {', '.join(allowed)})")
            continue
        msg = e["msg"].removeprefix("Value error, ")
        if not e["loc"]:
            # Checks across tables: each line already starts with its field path.
            lines.extend(f"{source}: {line}" for line in msg.split("\n"))
            continue
        if e["type"] == "missing":
            lines.append(f"{source}: {loc}: required field is missing")
        elif "input" in e and not isinstance(e["input"], dict):
            lines.append(f"{source}: {loc}: {msg} (got {e['input']!r})")
        else:
            lines.append(f"{source}: {loc}: {msg}")
    n = len(lines)
    head = f"the scenario has {n} problem{'s' if n > 1 else ''}:\n  " if n > 1 else ""
    return head + "\n  ".join(lines)


def load_scenario(path_or_name: str | Path) -> LoadedScenario:
    """Read and validate a scenario file, or a built-in scenario by name.

    Raises
    ------
    ScenarioError
        Unreadable file, bad TOML, or values that break the schema; the
        message lists every problem with its field path.
    """
    text_path = str(path_or_name)
    builtin = _builtin_dir() / f"{text_path}.toml"
    try:
        is_builtin = not text_path.endswith(".toml") and "/" not in text_path and builtin.is_file()
    except (OSError, ValueError):  # a name too long for a file name is no built-in
        is_builtin = False
    if is_builtin:
        source = f"<built-in scenario {text_path}>"
        raw = builtin.read_text(encoding="utf-8")
        base_dir = Path.cwd()
    else:
        path = _expand(text_path, text_path)
        try:
            exists = path.exists()
        except (ValueError, OSError) as exc:  # a NUL byte, a name too long...
            raise ScenarioError(
                f"{text_path[:100]!r}: not a usable file name ({str(exc)[:100]}); give a scenario file or a built-in name",
                source=text_path,
            ) from None
        if not exists:
            names = list(builtin_scenarios())
            close = difflib.get_close_matches(text_path, names, n=1)
            hint = f"; did you mean the built-in {close[0]!r}?" if close else ""
            raise ScenarioError(
                f"{text_path}: no such scenario file or built-in scenario{hint} "
                f"(built-in: {', '.join(names)})",
                source=text_path,
            )
        if path.is_dir():
            raise InputFileError(text_path, "is a directory, not a scenario file")
        source = str(path)
        data = path.read_bytes()
        try:
            raw = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise InputFileError(source, f"byte {exc.start} is not UTF-8 ({data[exc.start:exc.start+1]!r}); save the file as UTF-8", line=line) from None
        base_dir = path.resolve().parent
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{source}: not valid TOML: {exc}", source=source) from None
    try:
        spec = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_format_errors(source, exc), source=source) from None
    return LoadedScenario(spec, source, base_dir)


def build_time_grid(loaded: LoadedScenario) -> TimeGrid:
    """The scenario's time grid."""
    t = loaded.spec.time
    try:
        return TimeGrid.regular(t.start_utc, t.duration_ns, t.step_ns)
    except ScenarioError as exc:
        raise ScenarioError(f"{loaded.source}: time: {exc}", source=loaded.source) from None


def _data_file(*parts: str) -> Path:
    return Path(str(resources.files("leonet").joinpath("data", *parts)))


def build_constellation(loaded: LoadedScenario, *, lenient: bool = False, warn_stale: bool = True) -> Constellation:
    """Build every constellation source of the scenario into one index space.

    Warns (`StaleElementsWarning`) when the window starts more than
    `STALE_ELEMENTS_DAYS` from an element set's epoch.
    """
    from ..orbits.tle import read_elements

    spec = loaded.spec
    start = spec.time.start_utc
    parts: list[Constellation] = []
    for i, c in enumerate(spec.constellations):
        if c.kind == "builtin":
            if c.builtin in BUILTIN_WALKER:
                _, shells = BUILTIN_WALKER[c.builtin]
                if c.min_elevation_deg is not None:
                    from dataclasses import replace

                    shells = [replace(s, min_elevation_deg=c.min_elevation_deg) for s in shells]
                parts.append(walker_constellation(c.builtin, shells, start))
            else:
                _, filename, mask = BUILTIN_TLE[c.builtin]
                elements = read_elements(_data_file("tle", filename), lenient=lenient)
                parts.append(Constellation.from_elements(c.builtin, elements, c.min_elevation_deg or mask))
        elif c.kind == "walker":
            shells = [s.to_shell(f"{c.name}-{k + 1}") for k, s in enumerate(c.shells)]
            parts.append(walker_constellation(c.name, shells, start))
        else:
            elements = read_elements(loaded.resolve(c.file), lenient=lenient or c.lenient)
            parts.append(Constellation.from_elements(c.name, elements, c.min_elevation_deg))
    constellation = Constellation.concat(spec.scenario.name, parts)
    if warn_stale:
        warn_if_stale(constellation, start)
    return constellation


def constellation_from_source(source: str, epoch_utc=None, *, lenient: bool = False) -> Constellation:
    """A constellation from a built-in name or an element-set file (for the CLI).

    Walker shells get their element epoch at ``epoch_utc`` (default: now).
    """
    import datetime as dt

    from ..orbits.constellation import unknown_builtin
    from ..orbits.tle import read_elements

    if source in BUILTIN_WALKER:
        _, shells = BUILTIN_WALKER[source]
        return walker_constellation(source, shells, epoch_utc or dt.datetime.now(dt.timezone.utc))
    if source in BUILTIN_TLE:
        _, filename, mask = BUILTIN_TLE[source]
        return Constellation.from_elements(source, read_elements(_data_file("tle", filename), lenient=lenient), mask)
    path = _expand(source, source)
    try:
        exists = path.exists()
    except (ValueError, OSError) as exc:  # a NUL byte, a name too long...
        raise InputFileError(
            source[:100], f"not a usable file name ({str(exc)[:100]}); give an element-set file or a built-in name"
        ) from None
    if exists:
        return Constellation.from_elements(path.stem, read_elements(path, lenient=lenient))
    if "/" in source or "." in source:
        raise InputFileError(source, "no such file")
    raise unknown_builtin(source)


def warn_if_stale(constellation: Constellation, when) -> None:
    """Warn when ``when`` is more than `STALE_ELEMENTS_DAYS` from any element epoch."""
    jd, fr = utc_to_jd_fr(when)
    age = np.abs(jd + fr - constellation.epoch_jd)
    stale = age > STALE_ELEMENTS_DAYS
    if stale.any():
        warnings.warn(
            f"{int(stale.sum())} of {len(constellation)} element sets are more than {STALE_ELEMENTS_DAYS:g} days "
            f"from the simulated time {when.isoformat()} (up to {age.max():.0f} days): SGP4 positions degrade "
            "by kilometres per day away from the epoch; use element sets from near the simulated time",
            StaleElementsWarning,
            stacklevel=2,
        )
