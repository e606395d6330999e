"""Load a scenario (file or built-in name), validate it, and build its parts.

Validation happens here, once.  A pydantic error becomes one line per
problem: ``FILE: field.path: what is wrong (got VALUE); allowed: ...``.
"""

from __future__ import annotations

import difflib
import os
import tomllib
import warnings
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ValidationError

from ..errors import InputFileError, ScenarioError
from ..inputs import EXCERPT_CHARS, excerpt, file_sha256, read_input_bytes, short_repr
from ..orbits.constellation import BUILTIN_TLE, BUILTIN_WALKER, Constellation, walker_constellation
from ..timebase import TimeGrid, utc_to_jd_fr
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

    ``base_dir`` resolves relative file paths in the scenario; `input_paths`
    and `input_files` list (and hash) every input file the scenario names.
    """

    spec: Scenario
    source: str
    base_dir: Path

    def resolve(self, path: str) -> Path:
        """A file named in the scenario: ``~`` expanded, relative paths taken from `base_dir`."""
        p = _expand(path, self.source)
        return p if p.is_absolute() else self.base_dir / p

    def input_paths(self) -> dict[str, Path]:
        """Every input file the scenario names, by the field that names it.

        Returns
        -------
        dict of str to pathlib.Path
            Field path (``"constellations[1].file"``, ``"ground.gateways.file"``,
            ``"ground.terminals.sources[0].region"``, ``"fleets[0].terminals[2].region"``,
            ``"policies[3].region"``, ``"faults[1].region"``) -> the absolute
            path with symbolic links resolved (`os.path.realpath` of `resolve`),
            i.e. the file a run opens.  In the order of the scenario.  Built-in
            names (``"country:UA"``, ``"oblast:Kharkiv"``, ``"crimea"``, built-in
            constellations) are not files and are not listed; nothing is read.
        """
        return {field: Path(os.path.realpath(self.resolve(value))) for field, value, _ in _file_fields(self.spec)}

    def input_files(self) -> dict[str, str]:
        """The sha256 of every input file the scenario names (see `input_paths`).

        Returns
        -------
        dict of str to str
            Absolute path (symbolic links resolved) -> hex sha256 of the
            file's bytes, in the order of the scenario; a file named by
            several fields appears once.

        Raises
        ------
        ScenarioError
            A named file is missing, unreadable, or not a regular file (a FIFO
            is refused before it is opened); the message names the field, the
            value as written and the resolved path.
        """
        out: dict[str, str] = {}
        for field, value, what in _file_fields(self.spec):
            path = os.path.realpath(self.resolve(value))
            if path in out:
                continue
            try:
                out[path] = file_sha256(
                    path,
                    what,
                    "no such file; the scenario names it, so a run cannot read it: "
                    f"fix {field} (relative paths start at the scenario's folder, {self.base_dir})",
                )
            except ScenarioError as exc:
                raise ScenarioError(f"{self.source}: {field} = {short_repr(value)}: {exc}", source=self.source) from None
        return out


def _file_fields(spec: Scenario) -> list[tuple[str, str, str]]:
    """``(field path, value as written, what the file is)`` of every file the scenario names, in order.

    The rules are the loaders': an ``elements`` constellation's ``file``;
    ``ground.gateways.file``; and every ``region`` (sampled terminal sources,
    in the ground segment and in fleets; policies; faults) that is not a
    built-in name (`leonet.ground.terminals.region_is_file`).
    """
    from ..ground.terminals import region_is_file

    geojson = "a GeoJSON file"
    out: list[tuple[str, str, str]] = []
    for i, c in enumerate(spec.constellations):
        if c.kind == "elements":
            out.append((f"constellations[{i}].file", c.file, "an element-set file (TLE or OMM)"))
    if spec.ground.gateways is not None and spec.ground.gateways.file is not None:
        out.append(("ground.gateways.file", spec.ground.gateways.file, "a gateway CSV file"))

    def sources(where: str, items) -> None:
        for k, src in enumerate(items):
            if src.kind == "sample" and region_is_file(src.region):
                out.append((f"{where}[{k}].region", src.region, geojson))

    if spec.ground.terminals is not None:
        sources("ground.terminals.sources", spec.ground.terminals.sources)
    for i, fleet in enumerate(spec.fleets):
        sources(f"fleets[{i}].terminals", fleet.terminals)
    for table, rows in (("policies", spec.policies), ("faults", spec.faults)):
        for i, row in enumerate(rows):
            region = getattr(row, "region", None)
            if region is not None and region_is_file(region):
                out.append((f"{table}[{i}].region", region, geojson))
    return out


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


def _models_in(annotation) -> list[type[BaseModel]]:
    """Every pydantic model an annotation can hold (through list, Optional, Union, Annotated)."""
    import typing

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    out: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        out.extend(m for m in _models_in(arg) if m not in out)
    return out


def _kind_of(model: type[BaseModel]) -> str | None:
    """The ``kind`` literal of a union member model, else None."""
    import typing

    field = model.model_fields.get("kind")
    if field is None:
        return None
    args = typing.get_args(field.annotation)
    return args[0] if len(args) == 1 and isinstance(args[0], str) else None


def _keys(model: type[BaseModel]) -> dict[str, object]:
    """The keys a model accepts in the file (a field's alias, e.g. ``from``, else its name) -> field."""
    return {field.alias or name: field for name, field in model.model_fields.items()}


def _walk(root: type[BaseModel], loc: tuple) -> tuple[list[type[BaseModel]], str | None]:
    """The models that can sit at ``loc``, and the discriminator tag that chose one (or None).

    ``loc`` is a pydantic error location: field names, list indices and, for
    a discriminated union, the tag of the member (``("constellations", 0,
    "walker", "shells")``).  Returns ``([], None)`` when the location leaves
    the schema (a dict's keys).
    """
    models: list[type[BaseModel]] = [root]
    tag = None
    for part in loc:
        if isinstance(part, int):
            continue  # a list item: same models
        chosen = [m for m in models if len(models) > 1 and _kind_of(m) == part]
        if chosen:
            models, tag = chosen, part
            continue
        owner = next((m for m in models if part in _keys(m)), None)
        if owner is None:
            return [], None
        models, tag = _models_in(_keys(owner)[part].annotation), None
    return models, tag


def _allowed_keys(model: type[BaseModel], loc: tuple) -> list[str]:
    """Field names allowed at ``loc`` (the location of an unknown key), for messages."""
    models, _ = _walk(model, loc[:-1])
    return sorted(_keys(models[0])) if len(models) == 1 else []


def _unknown_key(source: str, loc: tuple) -> str:
    """The line for an unknown key: the key, the kind it is under, what that kind accepts."""
    key = excerpt(str(loc[-1]))
    where = _format_loc(loc)
    models, tag = _walk(Scenario, loc[:-1])
    allowed = sorted(_keys(models[0])) if len(models) == 1 else []
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    if tag is None:
        return f"{source}: {where}: unknown key {key!r}{hint} (allowed here: {', '.join(allowed)})"
    # A member of a discriminated union: say which other kinds take the key.
    siblings, _ = _walk(Scenario, loc[:-2])
    takers = [k for m in siblings if (k := _kind_of(m)) not in (None, tag) and key in _keys(m)]
    if takers:
        kinds = " or ".join(f'kind = "{k}"' for k in takers)
        hint = f"; {kinds} {'takes' if len(takers) == 1 else 'take'} it"
    return (
        f'{source}: {where}: unknown key {key!r} for kind = "{tag}"{hint} '
        f'(allowed for kind = "{tag}": {", ".join(allowed)})'
    )


def _kinds_at(loc: tuple) -> list[str]:
    models, _ = _walk(Scenario, loc)
    return [k for m in models if (k := _kind_of(m)) is not None]


def _format_loc(loc: tuple) -> str:
    """``constellations[0].shells[1].planes`` from a pydantic location.

    The tags pydantic inserts for a discriminated union member
    (``("constellations", 0, "walker", "shells")``) are left out; they are
    told from field names by walking the schema, so a field that shares its
    name with a tag (``builtin = ...`` of ``kind = "builtin"``) is kept.
    """
    out = ""
    models: list[type[BaseModel]] = [Scenario]
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        chosen = [m for m in models if len(models) > 1 and _kind_of(m) == part]
        if chosen:
            models = chosen
            continue  # discriminator tag
        owner = next((m for m in models if part in _keys(m)), None)
        models = _models_in(_keys(owner)[part].annotation) if owner is not None else []
        out += ("." if out else "") + excerpt(str(part))  # a key of the file: quoted short
    return out or "(top level)"


def _shorten_echo(msg: str, value) -> str:
    """``msg`` with a long ``value`` it quotes (a validator's message) cut to an excerpt."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return msg
    if isinstance(value, int):
        if value.bit_length() <= 128:
            return msg
        try:
            value = str(value)
        except ValueError:  # more than 4300 digits: no message can hold it either
            return msg
    if len(value) <= EXCERPT_CHARS:
        return msg
    return msg.replace(repr(value), repr(excerpt(value))).replace(value, excerpt(value))


def _format_errors(source: str, err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        loc = _format_loc(e["loc"])
        if e["type"] == "extra_forbidden":
            lines.append(_unknown_key(source, e["loc"]))
            continue
        msg = _shorten_echo(e["msg"].removeprefix("Value error, "), e.get("input"))
        if not e["loc"]:
            # Checks across tables: each line already starts with its field path.
            lines.extend(f"{source}: {line}" for line in msg.split("\n"))
            continue
        if e["type"] == "missing":
            lines.append(f"{source}: {loc}: required field is missing")
        elif e["type"] in ("union_tag_not_found", "union_tag_invalid"):
            kinds = _kinds_at(e["loc"])
            listed = ", ".join(f'"{k}"' for k in kinds)
            if e["type"] == "union_tag_not_found":
                lines.append(f"{source}: {loc}: required key 'kind' is missing; write kind = one of {listed}")
            else:
                got = e["input"].get("kind") if isinstance(e["input"], dict) else None
                close = difflib.get_close_matches(str(got), kinds, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                lines.append(f"{source}: {loc}: unknown kind {short_repr(got)}{hint} (kinds here: {listed})")
        elif "input" in e and not isinstance(e["input"], dict):
            lines.append(f"{source}: {loc}: {msg} (got {short_repr(e['input'])})")
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
        source = str(path)
        data = read_input_bytes(path, "a scenario file (.toml)")
        try:
            raw = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise InputFileError(source, f"byte {exc.start} is not UTF-8 ({data[exc.start:exc.start+1]!r}); save the file as UTF-8", line=line) from None
        # A byte-order mark (Windows editors write one) is not part of the TOML.
        raw = raw.removeprefix("\ufeff")
        base_dir = path.resolve().parent
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{source}: not valid TOML: {exc}", source=source) from None
    except ValueError as exc:  # an integer of more than 4300 digits (CPython's int() limit)
        raise ScenarioError(
            f"{source}: not a usable scenario: {excerpt(str(exc), 100)}; no setting needs a number that long",
            source=source,
        ) from None
    except RecursionError:
        # tomllib parses nested arrays and inline tables recursively.
        raise ScenarioError(
            f"{source}: not a usable scenario: arrays or inline tables nested too deeply to read "
            "(a scenario needs at most a few levels); check the file",
            source=source,
        ) from None
    try:
        spec = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_format_errors(source, exc), source=source) from None
    except RecursionError:
        raise ScenarioError(
            f"{source}: not a usable scenario: values nested too deeply to validate; check the file", source=source
        ) from None
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
