"""Secret fields of a pipeline: never written in plain YAML, always registered for redaction.

A field typed ``SecretStr`` (a source's or warehouse's ``connection``, a token) must get its
secret from ``${VAR}`` or ``${secret:NAME}``, so that the file can be committed and shared. The
one exception is a connection string without a password (``postgresql://app@db/shop``,
``host=db dbname=shop``): it holds nothing secret, and the password, if the server asks for one,
comes from libpq's own ``PGPASSWORD`` or ``~/.pgpass``. A password written next to a reference
(``postgresql://app:hunter2@${HOST}/shop``) is still refused.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel, SecretStr

from sluiceway.core.redaction import connection_password, looks_secret
from sluiceway.spec.diagnostics import data_at, is_secret_path
from sluiceway.spec.interpolate import Interpolation, mark_references
from sluiceway.spec.yaml_positions import Path

_MARK = "\0"  # stands for a reference while the written text is inspected


def string_paths(data: Any, path: Path = ()) -> Iterator[Path]:
    """The path of every string inside ``data``."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from string_paths(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from string_paths(value, (*path, index))
    elif isinstance(data, str):
        yield path


def secret_paths(model: type[BaseModel], data: Any) -> list[Path]:
    """Paths of ``data`` (the interpolated file) that ``model`` types as secret."""
    return [path for path in string_paths(data) if is_secret_path(model, path, data)]


def written_in_plain(template: str) -> str | None:
    """What a secret field's text (as written, before interpolation) gives away, if anything.

    ``None`` when nothing: the secret comes from a reference, the value is empty, or it is a
    connection string without a password.
    """
    probe = mark_references(template, _MARK)
    if not probe.strip():
        return None
    password = connection_password(probe)
    if password is None:  # not a connection string: the whole value is the secret
        return None if _MARK in probe else "the value"
    if password and _MARK not in password:
        return "the password of the connection string"
    return None


def plain_secret_problems(
    model: type[BaseModel], raw: Any, data: Any, *, secrets_file: str
) -> list[tuple[Path, str]]:
    """Secret fields whose secret is written in the file itself (``raw``: before
    interpolation, after the profile merge)."""
    problems = []
    for path in secret_paths(model, data):
        template = data_at(raw, path)
        what = written_in_plain(template) if isinstance(template, str) else None
        if what is not None:
            problems.append(
                (
                    path,
                    f"this field is secret, and {what} is written in plain YAML, where it "
                    "would be committed and shared with the file; write it as ${ENV_VAR}, or "
                    f"as ${{secret:NAME}} with NAME in the secrets file ({secrets_file})",
                )
            )
    return problems


def secret_values(value: Any) -> Iterator[str]:
    """Every ``SecretStr`` value inside a validated model (through models, dicts, lists)."""
    if isinstance(value, SecretStr):
        yield value.get_secret_value()
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from secret_values(getattr(value, name))
    elif isinstance(value, dict):
        for item in value.values():
            yield from secret_values(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from secret_values(item)


def resolved_secrets(
    model: type[BaseModel],
    resolved: Interpolation,
    env: Mapping[str, str],
    used: Mapping[str, str],
) -> list[str]:
    """The secret values the interpolation brought in: every value from the secrets file, every
    environment value with a secret-looking name (``DB_PASSWORD``), and the whole value of each
    secret field that came from the environment."""
    values = list(used.values())
    for references in resolved.references.values():
        values.extend(
            env[ref.name] for ref in references if ref.kind == "env" and looks_secret(ref.name)
        )
    for path in resolved.from_env:
        if is_secret_path(model, path, resolved.data):
            value = data_at(resolved.data, path)
            if isinstance(value, str):
                values.append(value)
    return values


def masked_paths(resolved: Interpolation) -> set[Path]:
    """Paths of non-secret fields whose value must still be masked when shown: from the secrets
    file, or from an environment variable whose name says it is a secret."""
    masked = set(resolved.from_secrets)
    for path, references in resolved.references.items():
        if any(ref.kind == "env" and looks_secret(ref.name) for ref in references):
            masked.add(path)
    return masked
