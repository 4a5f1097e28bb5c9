"""``sluiceway config show``: the resolved configuration, and where each value came from.

Resolved means: the selected profile merged in, ``${VAR}`` and ``${secret:NAME}`` substituted,
every default filled in. Each value says where it came from (``sluiceway.yaml:12, profile prod,
env SHOP_DB``, or ``default``). Secrets never show: a secret field shows as ``***`` (a
connection string keeps everything but its password), and so does any value from the secrets
file or from an environment variable named like a secret; the output passes through the
redaction of every secret the process knows, as a last guard.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import yaml
from pydantic import SecretStr
from pydantic_core import to_jsonable_python

from sluiceway.cli.context import CliState
from sluiceway.core.errors import ConfigError
from sluiceway.core.redaction import MASK, mask_connection, redact, redact_deep
from sluiceway.spec.diagnostics import render_path
from sluiceway.spec.loader import LoadedPipeline
from sluiceway.spec.profiles import PROFILE_ENV
from sluiceway.spec.project import resolve_pipeline
from sluiceway.spec.provenance import Provenance
from sluiceway.spec.yaml_positions import Path

_COMMENT_COLUMN = 56  # comments line up here unless a line is longer
_PLAIN_UNSAFE = set(":#{}[],&*!|>'\"%@`\\")


def show(state: CliState, target: str | None, *, profile: str | None, output_format: str) -> None:
    pipeline = state.load_file(resolve_pipeline(target, state.cwd), profile=profile)
    provenance = pipeline.provenance
    if provenance is None:  # pragma: no cover - the loader always records it
        raise ConfigError(f"{pipeline.file} was not loaded from a file; nothing to explain")
    origins: dict[Path, str] = {}
    dumped = pipeline.spec.model_dump(mode="python", by_alias=True)
    config = _masked(dumped, (), provenance, origins)
    chosen_by = {"argument": "--profile", PROFILE_ENV: f"${PROFILE_ENV}"}.get(
        str(provenance.selected_by), "default: dev is defined"
    )
    if output_format == "json":
        payload = {
            "pipeline": pipeline.name,
            "file": str(pipeline.file),
            "profile": {
                "name": provenance.profile,
                "selected_by": chosen_by if provenance.profile else None,
                "defined": list(provenance.defined_profiles),
            },
            "secrets_file": str(provenance.secrets_file),
            "config": config,
            "origins": {render_path(path): origin for path, origin in origins.items()},
        }
        sys.stdout.write(json.dumps(redact_deep(payload), indent=2) + "\n")
        return
    header = _header(pipeline, provenance, chosen_by, profile or state.profile)
    body = _layout(_yaml_lines(config, origins, (), 0))
    sys.stdout.write(redact("\n".join([*header, *body])) + "\n")


def _masked(value: Any, path: Path, provenance: Provenance, origins: dict[Path, str]) -> Any:
    """The dumped spec with secrets masked; each leaf's origin goes into ``origins``."""
    if isinstance(value, dict) and value:
        return {
            key: _masked(item, (*path, key), provenance, origins) for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset) and value:
        return [_masked(item, (*path, i), provenance, origins) for i, item in enumerate(value)]
    origins[path] = provenance.origin(path)
    if isinstance(value, SecretStr):
        return mask_connection(value.get_secret_value())
    if provenance.is_masked(path):
        return MASK
    return to_jsonable_python(value)


def _header(
    pipeline: LoadedPipeline, provenance: Provenance, chosen_by: str | None, asked: str | None
) -> list[str]:
    defined = ", ".join(provenance.defined_profiles)
    requested = asked or os.environ.get(PROFILE_ENV)
    if provenance.profile is not None:
        profile = f"{provenance.profile} ({chosen_by}); defined: {defined}"
    elif defined:
        profile = f"none; defined: {defined} (choose one with --profile or {PROFILE_ENV})"
    elif requested:
        profile = f"none (the file defines no profiles, so {requested!r} does not apply)"
    else:
        profile = "none (the file defines no profiles)"
    secrets_used = any(
        ref.kind == "secret" for refs in provenance.references.values() for ref in refs
    )
    secrets = f"{provenance.secrets_file}{'' if secrets_used else ' (not used)'}"
    return [
        f"# pipeline {pipeline.name} from {provenance.file}",
        f"# profile: {profile}",
        f"# secrets file: {secrets}",
        f"# secrets show as {MASK}; after each value: where it came from",
    ]


def _yaml_lines(
    value: Any, origins: dict[Path, str], path: Path, indent: int
) -> list[tuple[str, str | None]]:
    """Block YAML of ``value``, one (text, origin) per line."""
    pad = " " * indent
    lines: list[tuple[str, str | None]] = []
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in items:
        here = (*path, key)
        label = f"{pad}{_scalar(key)}:" if isinstance(value, dict) else f"{pad}-"
        if not _is_block(child):
            lines.append((f"{label} {_scalar(child)}", origins.get(here)))
        elif isinstance(value, dict):
            lines.append((label, None))
            lines.extend(_yaml_lines(child, origins, here, indent + 2))
        else:  # a mapping or list in a list starts on the dash's line
            nested = _yaml_lines(child, origins, here, indent + 2)
            text, origin = nested[0]
            nested[0] = (f"{label} {text.lstrip()}", origin)
            lines.extend(nested)
    return lines


def _is_block(value: Any) -> bool:
    return isinstance(value, dict | list) and bool(value)


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        plain = (
            value
            and value.strip() == value
            and value.isprintable()
            and not (_PLAIN_UNSAFE & set(value))
            and value[0] not in "-?"
            and _reads_back(value)
        )
        return value if plain else json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict | list):
        return "{}" if isinstance(value, dict) else "[]"
    return json.dumps(value)


def _reads_back(value: str) -> bool:
    """Whether YAML reads ``value`` written plain as this same string (not a number, a date)."""
    try:
        return bool(yaml.safe_load(value) == value)
    except yaml.YAMLError:
        return False


def _layout(lines: list[tuple[str, str | None]]) -> list[str]:
    width = min(max((len(text) for text, _ in lines), default=0), _COMMENT_COLUMN)
    return [f"{text.ljust(width)}  # {origin}" if origin else text for text, origin in lines]
