"""The scenario's one strict base model, and how validation errors are told.

Every table of a scenario is a `Strict` model: unknown keys are errors (a
typo is never a silently ignored setting), models are frozen (a validated
scenario cannot drift), defaults are validated too, and a field may be given
by its TOML key (``from``) or its Python name (``from_``).

`format_validation_errors` turns pydantic's errors into one line per problem,
``FILE: field.path: what is wrong (got VALUE)``, naming the key, the
``kind`` it sits under and the keys that kind accepts.
"""

from __future__ import annotations

import difflib

from pydantic import BaseModel, ConfigDict, ValidationError

from ..inputs import EXCERPT_CHARS, excerpt, short_repr

__all__ = ["Strict", "format_validation_errors", "format_loc"]


class Strict(BaseModel):
    """The base of every scenario table: no unknown keys, frozen, defaults validated."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, populate_by_name=True)


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


def _unknown_key(root: type[BaseModel], source: str, loc: tuple) -> str:
    """The line for an unknown key: the key, the kind it is under, what that kind accepts."""
    key = excerpt(str(loc[-1]))
    where = format_loc(root, loc)
    models, tag = _walk(root, loc[:-1])
    allowed = sorted(_keys(models[0])) if len(models) == 1 else []
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    if tag is None:
        return f"{source}: {where}: unknown key {key!r}{hint} (allowed here: {', '.join(allowed)})"
    # A member of a discriminated union: say which other kinds take the key.
    siblings, _ = _walk(root, loc[:-2])
    takers = [k for m in siblings if (k := _kind_of(m)) not in (None, tag) and key in _keys(m)]
    if takers:
        kinds = " or ".join(f'kind = "{k}"' for k in takers)
        hint = f"; {kinds} {'takes' if len(takers) == 1 else 'take'} it"
    return (
        f'{source}: {where}: unknown key {key!r} for kind = "{tag}"{hint} '
        f'(allowed for kind = "{tag}": {", ".join(allowed)})'
    )


def _kinds_at(root: type[BaseModel], loc: tuple) -> list[str]:
    models, _ = _walk(root, loc)
    return [k for m in models if (k := _kind_of(m)) is not None]


def format_loc(root: type[BaseModel], loc: tuple) -> str:
    """``constellations[0].shells[1].planes`` from a pydantic location.

    The tags pydantic inserts for a discriminated union member
    (``("constellations", 0, "walker", "shells")``) are left out; they are
    told from field names by walking the schema, so a field that shares its
    name with a tag (``builtin = ...`` of ``kind = "builtin"``) is kept.
    """
    out = ""
    models: list[type[BaseModel]] = [root]
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


def format_validation_errors(root: type[BaseModel], source: str, err: ValidationError) -> str:
    """One line per problem: ``SOURCE: field.path: what is wrong (got VALUE)``, every problem at once."""
    lines = []
    for e in err.errors():
        loc = format_loc(root, e["loc"])
        if e["type"] == "extra_forbidden":
            lines.append(_unknown_key(root, source, e["loc"]))
            continue
        msg = _shorten_echo(e["msg"].removeprefix("Value error, "), e.get("input"))
        if not e["loc"]:
            # Checks across tables: each line already starts with its field path.
            lines.extend(f"{source}: {line}" for line in msg.split("\n"))
            continue
        if e["type"] == "missing":
            lines.append(f"{source}: {loc}: required field is missing")
        elif e["type"] in ("union_tag_not_found", "union_tag_invalid"):
            kinds = _kinds_at(root, e["loc"])
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


