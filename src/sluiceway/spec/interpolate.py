"""``${VAR}`` and ``${VAR:-default}`` in pipeline files, resolved from the environment.

``$${`` writes a literal ``${``. A variable that is unset (and has no default) is an error that
points at the line using it; ``${VAR:-}`` means "empty if unset". Values are substituted into
strings only, after YAML parsing, so a variable cannot inject YAML structure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sluiceway.spec.yaml_positions import Path

_PATTERN = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{([^}]*)\}?")


@dataclass(frozen=True, slots=True)
class InterpolationProblem:
    path: Path
    message: str


def interpolate(
    data: Any, env: Mapping[str, str], path: Path = ()
) -> tuple[Any, list[InterpolationProblem], set[Path]]:
    """Substitute variables everywhere in ``data``.

    Returns the new data, the problems found, and the paths whose value came (at least in part)
    from the environment: those values are never echoed in error messages, since environment
    variables are where secrets live.
    """
    problems: list[InterpolationProblem] = []
    from_env: set[Path] = set()
    result = _walk(data, env, path, problems, from_env)
    return result, problems, from_env


def _walk(
    value: Any,
    env: Mapping[str, str],
    path: Path,
    problems: list[InterpolationProblem],
    from_env: set[Path],
) -> Any:
    if isinstance(value, dict):
        return {k: _walk(v, env, (*path, k), problems, from_env) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, env, (*path, i), problems, from_env) for i, v in enumerate(value)]
    if isinstance(value, str) and "$" in value:
        return _substitute(value, env, path, problems, from_env)
    return value


def _substitute(
    text: str,
    env: Mapping[str, str],
    path: Path,
    problems: list[InterpolationProblem],
    from_env: set[Path],
) -> str:
    def replace(match: re.Match[str]) -> str:
        whole = match.group(0)
        if whole == "$${":
            return "${"
        name, default, malformed = match.group(1), match.group(2), match.group(3)
        if name is None:
            problems.append(
                InterpolationProblem(
                    path,
                    f"malformed variable reference {whole!r}; "
                    "write ${NAME} or ${NAME:-default} (NAME: letters, digits, _)",
                )
            )
            return malformed or ""
        if name in env:
            from_env.add(path)
            return env[name]
        if default is not None:
            return default
        problems.append(
            InterpolationProblem(
                path,
                f"environment variable {name} is not set; set it or give a default "
                f"with ${{{name}:-value}}",
            )
        )
        return ""

    return _PATTERN.sub(replace, text)
