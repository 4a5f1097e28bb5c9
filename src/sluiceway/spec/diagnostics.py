"""Turn pydantic validation errors into messages a pipeline author can act on.

Each error becomes a :class:`ConfigIssue` with the file position, the field path as the user wrote
it (``sources.orders.delimiter``, without pydantic's union tags), what is wrong, and what is
allowed: the valid keys of that block (with a "did you mean"), the valid values of a choice, or the
valid source kinds. Values of secret fields, and values that came from the environment, are never
echoed back.
"""

from __future__ import annotations

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
    issues = []
    for error in errors:
        path, rest = _data_path(error["loc"], data)
        message = _message(
            error, model, data, path, rest, secret=_is_secret(model, path, data) or path in from_env
        )
        key_error = error["type"] == "extra_forbidden"
        position = doc.position(path, key=key_error or error["type"] == "missing")
        issues.append(
            ConfigIssue(
                file=file,
                line=position.line if position else None,
                column=position.column if position else None,
                path=render_path(path + rest if error["type"] == "missing" else path),
                message=message,
            )
        )
    return sorted(issues, key=lambda i: (i.line or 0, i.column or 0, i.path))


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
        allowed = sorted(parent.model_fields)
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown key {key!r}{hint}; allowed keys: {', '.join(allowed)}"
    if kind == "missing":
        return f"missing required key {str(rest[-1]) if rest else ''!r}".replace(" ''", "")
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        tags = _tags(ctx.get("expected_tags", ""))
        if kind == "union_tag_not_found":
            return f"missing `type`; allowed types: {', '.join(tags)}"
        return f"unknown type {ctx.get('tag')!r}; allowed types: {', '.join(tags)}"
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind in ("literal_error", "enum") and not secret:
        message += f", got {error.get('input')!r}"
    return message


def _tags(expected: object) -> list[str]:
    return sorted(t.strip().strip("'") for t in str(expected).split(",") if t.strip())


def _is_secret(model: type[BaseModel], path: Path, data: Any) -> bool:
    if not path:
        return False
    annotation = _annotation_at(model, path, data)
    return annotation is not None and SecretStr in _flatten(annotation, None)


def _model_at(model: type[BaseModel], path: Path, data: Any) -> type[BaseModel] | None:
    annotation = _annotation_at(model, path, data) if path else model
    node = _data_at(data, path)
    for candidate in _flatten(annotation, node) if annotation is not None else []:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _data_at(data: Any, path: Path) -> Any:
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
        for option in _flatten(current, _data_at(data, path[:depth])):
            if isinstance(option, type) and issubclass(option, BaseModel):
                field = option.model_fields.get(str(part))
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
