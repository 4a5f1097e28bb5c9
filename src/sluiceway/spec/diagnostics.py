"""Turn pydantic validation errors into messages a pipeline author can act on.

Each error becomes a :class:`ConfigIssue` with the file position, the field path as the user wrote
it (``sources.orders.delimiter``, without pydantic's union tags), what is wrong, and what is
allowed: the valid keys of that block (with a "did you mean"), the valid values of a choice, or the
valid source kinds. Values of secret fields, and values that came from the environment or the
secrets file, are never echoed back.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Iterable
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, SecretStr
from pydantic_core import ErrorDetails

from sluiceway.core.errors import ConfigIssue
from sluiceway.spec.yaml_positions import Path, PositionedDocument


def issues_from_errors(
    errors: Iterable[ErrorDetails],
    *,
    model: type[BaseModel],
    doc: PositionedDocument,
    data: Any,
    file: str,
    from_env: set[Path],
) -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []
    for error in errors:
        kind = error["type"]
        path, rest = _data_path(error["loc"], data)
        block = path
        if kind == "union_tag_invalid" and isinstance(data_at(data, path), dict):
            path = (*path, "type")  # point at the unknown type, not at the block's first key
        on_key = rest[:1] == ("[key]",)  # the mapping key itself is wrong (a source's name)
        if on_key:
            rest = ()
        secret = is_secret_path(model, path, data) or path in from_env
        message = _message(error, model, data, block, rest, secret=secret)
        at_key = on_key or kind in ("extra_forbidden", "missing", "union_tag_not_found")
        position = doc.position(path, key=at_key)
        issue = ConfigIssue(
            file=file,
            line=position.line if position else None,
            column=position.column if position else None,
            path=render_path(path + rest if kind == "missing" else path),
            message=message,
        )
        previous = issues[-1] if issues else None
        if rest and kind != "missing" and previous is not None and _same_place(previous, issue):
            # each member of a plain union (``str | list[str]``) reports on the same value
            issues[-1] = dataclasses.replace(
                previous, message=_either(previous.message, issue.message)
            )
            continue
        issues.append(issue)
    return sorted(issues, key=lambda i: (i.line or 0, i.column or 0, i.path))


def _same_place(a: ConfigIssue, b: ConfigIssue) -> bool:
    return (a.path, a.line, a.column) == (b.path, b.line, b.column)


def _either(first: str, second: str) -> str:
    """Join two union members' complaints: ``... a valid string or a valid list``."""
    prefix = "Input should be "
    if first.startswith(prefix) and second.startswith(prefix):
        second = second.removeprefix(prefix)
    options = first.removeprefix(prefix).split(" or ") if first.startswith(prefix) else [first]
    return first if second in options else f"{first} or {second}"


def render_path(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _data_path(loc: tuple[int | str, ...], data: Any) -> tuple[Path, Path]:
    """Split pydantic's ``loc`` into the part that exists in the data and the rest.

    Discriminated unions insert the tag into ``loc`` (``sources.orders.csv.delimiter``); a tag
    that is not a key of the data but equals its ``type`` is dropped.
    """
    path: list[str | int] = []
    current = data
    parts = list(loc)
    while parts:
        part = parts[0]
        found, child = _child(current, part)
        if found:
            current = child
            path.append(part)
        elif not _is_tag_like(part, current):
            break
        parts.pop(0)
    return tuple(path), tuple(p for p in parts if not _is_tag_like(p, current))


def _child(data: Any, part: str | int) -> tuple[bool, Any]:
    if isinstance(data, dict) and part in data:
        return True, data[part]
    if isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
        return True, data[part]
    return False, None


def _is_tag_like(part: str | int, current: Any) -> bool:
    return isinstance(current, dict) and current.get("type") == part


def _message(
    error: ErrorDetails,
    model: type[BaseModel],
    data: Any,
    path: Path,
    rest: Path,
    *,
    secret: bool,
) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        parent = _model_at(model, path[:-1], data)
        key = str(path[-1]) if path else "?"
        if parent is None:
            return f"unknown key {key!r}"
        allowed = sorted(_keys(parent))
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown key {key!r}{hint}; allowed keys: {', '.join(allowed)}"
    if kind == "missing":
        return f"missing required key {str(rest[-1]) if rest else ''!r}".replace(" ''", "")
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        # pydantic names the expected tags only for an invalid one, so read them off the model
        tags = ", ".join(_union_tags(model, path, data))
        if kind == "union_tag_not_found":
            return f"missing `type`; allowed types: {tags}"
        shown = "(value not shown)" if secret else repr(ctx.get("tag"))
        return f"unknown type {shown}; allowed types: {tags}"
    message = str(error["msg"]).removeprefix("Value error, ")
    if secret:
        return _redact(message, error.get("input"))
    if kind in ("literal_error", "enum"):
        message += f", got {error.get('input')!r}"
    return message


def _redact(message: str, value: object) -> str:
    """Hide a secret value that a validator's message echoes (they often write ``got {v!r}``)."""
    text = value.get_secret_value() if isinstance(value, SecretStr) else value
    if not isinstance(text, str) or not text:
        return message
    message = message.replace(repr(text), "(value not shown)")
    if text in message:
        return "invalid value (not shown: it is secret or comes from the environment)"
    return message


def _union_tags(model: type[BaseModel], path: Path, data: Any) -> list[str]:
    """The ``type`` names the discriminated union at ``path`` accepts."""
    annotation = _annotation_at(model, path, data)
    tags: set[str] = set()
    for option in _flatten(annotation, None) if annotation is not None else []:
        if isinstance(option, type) and issubclass(option, BaseModel):
            field = option.model_fields.get("type")
            if field is not None and get_origin(field.annotation) is Literal:
                tags.update(str(tag) for tag in get_args(field.annotation))
    return sorted(tags)


def is_secret_path(model: type[BaseModel], path: Path, data: Any) -> bool:
    """Whether the field at ``path`` of ``data`` is a secret (a ``SecretStr``) in ``model``."""
    if not path:
        return False
    annotation = _annotation_at(model, path, data)
    return annotation is not None and SecretStr in _flatten(annotation, None)


def _model_at(model: type[BaseModel], path: Path, data: Any) -> type[BaseModel] | None:
    annotation = _annotation_at(model, path, data) if path else model
    node = data_at(data, path)
    for candidate in _flatten(annotation, node) if annotation is not None else []:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def data_at(data: Any, path: Path) -> Any:
    """The value at ``path`` inside ``data``; None when the path does not exist."""
    for part in path:
        found, data = _child(data, part)
        if not found:
            return None
    return data


def _annotation_at(model: type[BaseModel], path: Path, data: Any) -> Any:
    """Follow ``path`` through models, dicts, lists and unions to the annotation found there.

    At a discriminated union the member whose ``type`` literal matches the data is taken.
    """
    current: Any = model
    for depth, part in enumerate(path):
        nxt: Any = None
        for option in _flatten(current, data_at(data, path[:depth])):
            if isinstance(option, type) and issubclass(option, BaseModel):
                field = _field(option, str(part))
                if field is not None:
                    nxt = field.annotation
                    break
            origin = get_origin(option)
            if origin is dict and not isinstance(part, int):
                nxt = get_args(option)[1]
                break
            if origin is list and isinstance(part, int):
                nxt = get_args(option)[0]
                break
        if nxt is None:
            return None
        current = nxt
    return current


def _flatten(annotation: Any, node: Any) -> list[Any]:
    """Unwrap ``Annotated``, ``Optional`` and unions into the list of concrete options.

    When ``node`` (the data at this place) has a ``type``, union members whose ``type`` literal
    names it come first, so a discriminated union resolves to the member the data chose.
    """
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return _flatten(get_args(annotation)[0], node)
    if origin is Union or origin is types.UnionType:
        flat: list[Any] = []
        for arg in get_args(annotation):
            flat.extend(_flatten(arg, node))
        tag = node.get("type") if isinstance(node, dict) else None
        return sorted(flat, key=lambda option: not _has_tag(option, tag))
    return [annotation]


def _has_tag(option: Any, tag: object) -> bool:
    if tag is None or not (isinstance(option, type) and issubclass(option, BaseModel)):
        return False
    field = option.model_fields.get("type")
    if field is None:
        return False
    return get_origin(field.annotation) is Literal and tag in get_args(field.annotation)


def _keys(model: type[BaseModel]) -> list[str]:
    """The keys a model accepts as users write them (aliases, such as `schema`)."""
    return [info.alias or name for name, info in model.model_fields.items()]


def _field(model: type[BaseModel], key: str) -> Any:
    for name, info in model.model_fields.items():
        if (info.alias or name) == key:
            return info
    return None
