"""Load a scenario -- a TOML file, a built-in name or a dict -- and validate it, once.

`load_scenario` returns a `LoadedScenario`: the frozen, validated
`~leonet.scenario.schema.Scenario` and where it came from (for messages and
for resolving the relative paths it names).  Overrides by section
(``time={"duration_s": 600}``) are merged in before validation, so they are
checked exactly like the file.  Nothing is built here: the engine
(`leonet.engine.build`) assembles a run from the model.

A pydantic error becomes one line per problem:
``FILE: field.path: what is wrong (got VALUE); allowed: ...``
(`leonet.scenario.base.format_validation_errors`).
"""

from __future__ import annotations

import copy
import difflib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import InputFileError, ScenarioError
from ..inputs import excerpt, file_sha256, read_input_bytes, short_repr
from .base import format_validation_errors
from .schema import Scenario
from .sources import region_is_file

__all__ = ["LoadedScenario", "load_scenario", "builtin_scenarios", "expand_path"]


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
        p = expand_path(path, self.source)
        return p if p.is_absolute() else self.base_dir / p

    def input_paths(self) -> dict[str, Path]:
        """Every input file the scenario names, by the field that names it.

        Returns
        -------
        dict of str to pathlib.Path
            Field path (``"constellations[1].file"``, ``"ground.gateways.file"``,
            ``"ground.terminals.sources[0].region"``, ``"ground.terminals.sources[1].file"``,
            ``"fleets[0].terminals[2].region"``, ``"policies[0].region[1].region"``,
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
    ``ground.gateways.file``; a ``track`` terminal source's ``file``; and every
    ``region`` (sampled terminal sources, in the ground segment and in fleets;
    policies, with each shape of a dated policy region; faults) that is not a
    built-in name (`leonet.ground.terminals.region_is_file`).
    """
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
            elif src.kind == "track":
                out.append((f"{where}[{k}].file", src.file, "a track file (CSV, GPX or GeoJSON)"))

    if spec.ground.terminals is not None:
        sources("ground.terminals.sources", spec.ground.terminals.sources)
    for i, fleet in enumerate(spec.fleets):
        sources(f"fleets[{i}].terminals", fleet.terminals)
    for table, rows in (("policies", spec.policies), ("faults", spec.faults)):
        for i, row in enumerate(rows):
            region = getattr(row, "region", None)
            if isinstance(region, str) and region_is_file(region):
                out.append((f"{table}[{i}].region", region, geojson))
            elif isinstance(region, list):  # a dated sequence of shapes (policies)
                for j, entry in enumerate(region):
                    if region_is_file(entry.region):
                        out.append((f"{table}[{i}].region[{j}].region", entry.region, geojson))
    return out


def expand_path(path: str, where: str) -> Path:
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


def load_scenario(scenario: str | Path | Mapping[str, Any] | LoadedScenario, **overrides: Any) -> LoadedScenario:
    """Read and validate a scenario: a file, a built-in name, a dict, or a loaded scenario to change.

    Parameters
    ----------
    scenario : str, path, mapping or LoadedScenario
        A TOML file, the name of a built-in scenario (``"ukraine"``), the
        scenario as a dict (the TOML document's shape), or a `LoadedScenario`.
    **overrides
        Changes by top-level section, merged into the document before it is
        validated: a dict is merged key by key into that section
        (``time={"duration_s": 600}``), anything else replaces it
        (``fleets=[]``).

    Returns
    -------
    LoadedScenario

    Raises
    ------
    ScenarioError
        Unreadable file, bad TOML, or values that break the schema (the
        overrides included); the message lists every problem with its field
        path.

    Examples
    --------
    >>> s = load_scenario("ukraine", time={"duration_s": 60})
    >>> s.spec.time.duration_s, s.spec.scenario.name
    (60.0, 'ukraine')
    >>> load_scenario({"time": {"start_utc": "2026-05-30T12:00:00Z", "duration_s": 10},
    ...                "constellations": [{"kind": "builtin", "builtin": "telesat-1015"}]}).spec.time.step_s
    1.0
    """
    if isinstance(scenario, LoadedScenario):
        data, source, base_dir = scenario.spec.model_dump(mode="json", by_alias=True, exclude_unset=True), scenario.source, scenario.base_dir
    elif isinstance(scenario, Mapping):
        data, source, base_dir = copy.deepcopy(dict(scenario)), "<scenario dict>", Path.cwd()
    else:
        data, source, base_dir = _read_document(scenario)
    for section, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(data.get(section), Mapping):
            data[section] = {**data[section], **copy.deepcopy(dict(value))}
        else:
            data[section] = copy.deepcopy(value)
    try:
        spec = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_validation_errors(Scenario, source, exc), source=source) from None
    except RecursionError:
        raise ScenarioError(
            f"{source}: not a usable scenario: values nested too deeply to validate; check the file", source=source
        ) from None
    return LoadedScenario(spec, source, base_dir)


def _read_document(path_or_name: str | Path) -> tuple[dict, str, Path]:
    """The TOML document of a file or built-in scenario, its source (for messages) and its folder."""
    text_path = str(path_or_name)
    builtin = _builtin_dir() / f"{text_path}.toml"
    try:
        is_builtin = not text_path.endswith(".toml") and "/" not in text_path and builtin.is_file()
    except (OSError, ValueError):  # a name too long for a file name is no built-in
        is_builtin = False
    if is_builtin:
        source = f"<built-in scenario {text_path}>"
        raw = builtin.read_text(encoding="utf-8")
        # A built-in scenario's files (its dated policy shapes) ship next to it.
        base_dir = Path(str(_builtin_dir()))
    else:
        source, raw, base_dir = _read_file(text_path)
    try:
        return tomllib.loads(raw), source, base_dir
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


def _read_file(text_path: str) -> tuple[str, str, Path]:
    """(source, text, folder) of a scenario file; a clear error for names that are no file."""
    path = expand_path(text_path, text_path)
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
            f"{text_path}: no such scenario file or built-in scenario{hint} (built-in: {', '.join(names)})",
            source=text_path,
        )
    source = str(path)
    data = read_input_bytes(path, "a scenario file (.toml)")
    try:
        raw = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputFileError(
            source, f"byte {exc.start} is not UTF-8 ({data[exc.start:exc.start+1]!r}); save the file as UTF-8", line=line
        ) from None
    # A byte-order mark (Windows editors write one) is not part of the TOML.
    return source, raw.removeprefix("\ufeff"), path.resolve().parent
