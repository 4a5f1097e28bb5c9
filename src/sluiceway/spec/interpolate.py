"""``${VAR}``, ``${VAR:-default}`` and ``${secret:NAME}`` in pipeline files.

``${VAR}`` comes from the environment, ``${secret:NAME}`` from the secrets file (see
:mod:`sluiceway.spec.secrets`). ``$${`` writes a literal ``${``. A variable that is unset (and
has no default) or a secret that cannot be found is an error that points at the line using it;
``${VAR:-}`` means "empty if unset". Values are substituted into strings only, after YAML
parsing, so a variable cannot inject YAML structure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sluiceway.spec.yaml_positions import Path

_PATTERN = re.compile(
    r"\$\$\{"
    r"|\$\{secret:([A-Za-z_][A-Za-z0-9_.\-]*)\}"
    r"|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}"
    r"|\$\{([^}]*)\}?"
)

# a secret's name → (its value, or None and what is wrong)
SecretLookup = Callable[[str], tuple[str | None, str | None]]


@dataclass(frozen=True, slots=True)
class InterpolationProblem:
    path: Path
    message: str


@dataclass(frozen=True, slots=True)
class Reference:
    """One ``${...}`` that a value used: ``env`` (set), ``default`` (unset) or ``secret``."""

    kind: Literal["env", "default", "secret"]
    name: str

    def describe(self) -> str:
        if self.kind == "secret":
            return f"secrets file: {self.name}"
        if self.kind == "default":
            return f"env {self.name} unset: its default"
        return f"env {self.name}"


@dataclass
class Interpolation:
    """The data with every reference substituted, and where the substituted values came from.

    Values from the environment and from the secrets file are never echoed in error messages.
    """

    data: Any
    problems: list[InterpolationProblem] = field(default_factory=list)
    from_env: set[Path] = field(default_factory=set)
    from_secrets: set[Path] = field(default_factory=set)
    references: dict[Path, list[Reference]] = field(default_factory=dict)

    @property
    def hidden(self) -> set[Path]:
        """Paths whose value must not be echoed: from the environment or the secrets file."""
        return self.from_env | self.from_secrets


def interpolate(
    data: Any, env: Mapping[str, str], path: Path = ()
) -> tuple[Any, list[InterpolationProblem], set[Path]]:
    """Substitute variables everywhere in ``data``.

    Returns the new data, the problems found, and the paths whose value came (at least in part)
    from the environment or the secrets file: those values are never echoed in error messages.
    Without a secrets file, ``${secret:NAME}`` is a problem; :func:`resolve_references` takes
    one.
    """
    result = resolve_references(data, env, path=path)
    return result.data, result.problems, result.hidden


def resolve_references(
    data: Any, env: Mapping[str, str], *, secrets: SecretLookup | None = None, path: Path = ()
) -> Interpolation:
    """Substitute ``${VAR}`` from ``env`` and ``${secret:NAME}`` through ``secrets``."""
    result = Interpolation(data=None)
    result.data = _walk(data, _Context(env, secrets, result), path)
    return result


@dataclass(frozen=True, slots=True)
class _Context:
    env: Mapping[str, str]
    secrets: SecretLookup | None
    result: Interpolation


def _walk(value: Any, ctx: _Context, path: Path) -> Any:
    if isinstance(value, dict):
        return {k: _walk(v, ctx, (*path, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, ctx, (*path, i)) for i, v in enumerate(value)]
    if isinstance(value, str) and "$" in value:
        return _PATTERN.sub(lambda match: _replace(match, ctx, path), value)
    return value


def _replace(match: re.Match[str], ctx: _Context, path: Path) -> str:
    whole = match.group(0)
    if whole == "$${":
        return "${"
    secret, name, default, malformed = match.groups()
    result = ctx.result
    if secret is not None:
        return _secret(secret, ctx, path)
    if name is None:
        form = (
            "write ${secret:NAME} (NAME: letters, digits, _, - and .)"
            if malformed.startswith("secret:")
            else "write ${NAME} or ${NAME:-default} (NAME: letters, digits, _)"
        )
        result.problems.append(
            InterpolationProblem(path, f"malformed variable reference {whole!r}; {form}")
        )
        return malformed or ""
    if name in ctx.env:
        result.from_env.add(path)
        result.references.setdefault(path, []).append(Reference("env", name))
        return ctx.env[name]
    if default is not None:
        result.references.setdefault(path, []).append(Reference("default", name))
        return default
    result.problems.append(
        InterpolationProblem(
            path,
            f"environment variable {name} is not set; set it or give a default "
            f"with ${{{name}:-value}}",
        )
    )
    return ""


def mark_references(text: str, marker: str) -> str:
    """``text`` with each reference replaced by ``marker`` (and ``$${`` by ``${``).

    What is left is what the file itself wrote.
    """
    return _PATTERN.sub(lambda m: "${" if m.group(0) == "$${" else marker, text)


def _secret(name: str, ctx: _Context, path: Path) -> str:
    result = ctx.result
    value: str | None = None
    problem: str | None = f"secret {name}: secrets are not available here"
    if ctx.secrets is not None:
        value, problem = ctx.secrets(name)
    if value is None:
        result.problems.append(InterpolationProblem(path, problem or f"secret {name} not found"))
        return ""
    result.from_secrets.add(path)
    result.references.setdefault(path, []).append(Reference("secret", name))
    return value
